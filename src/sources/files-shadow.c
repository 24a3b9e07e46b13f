/*
 * The shadow cache of the files source: what it last recorded of each
 * document, so that the next save can be diffed without reading the vault
 * (which the recorder cannot decrypt).
 *
 * NOTES ON THE DESIGN
 *
 *  1. Layout. <cache>/<vault id>/roots/<id>/ per vault and watched root
 *     (two vaults recording one folder each diff against what they
 *     recorded themselves), id the XXH3-128 of
 *     the root's path in hex; in it "root" (the path, for people), "clean"
 *     (present only while no recorder runs, after a clean stop) and
 *     "tree/", which mirrors the watched tree: the record of the document
 *     a/b.txt is tree/a/b.txt. A folder moved in the tree is one rename()
 *     here, and the records under a deleted folder are found by listing.
 *  2. A record is a text header of 256 bytes ("labtape-shadow 1", "key
 *     value" lines, padding, a blank line) followed, for text, by the
 *     recorded content. Binary and large files keep only their size,
 *     mtime and hash: the cache never holds a 2 GB copy. The header's
 *     fixed size lets files_shadow_forget() rewrite it in place, which
 *     needs no free space.
 *  3. Writes go to tree/<folder>/.lt-tmp~ and are renamed over the record,
 *     so a reader sees the old or the new record, never a mix. No name
 *     ending in '~' is ever a document (the default rules ignore them), so
 *     the temporary name cannot collide. There is no fsync: the record only
 *     needs to survive the recorder (kill -9), not the machine; after a
 *     crash the files source takes fresh snapshots of whatever was written
 *     in the last moments (files.c), and a damaged record is removed and
 *     counts as missing, which also means a snapshot.
 *  4. Everything is 0700 folders and 0600 files: the cache holds plaintext
 *     copies of watched files.
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "error.h"
#include "fileio.h"
#include "files-int.h"
#include "hex.h"
#include "ltime.h"
#include "xalloc.h"
#include "banned.h"

#define SHADOW_MAGIC "labtape-shadow 1\n"
#define HEADER_LEN 256		/* fixed, so that it can be rewritten in place */
#define TMP_NAME ".lt-tmp~"

static const char *const base_names[] = { "none", "text", "blob" };

static int parse_u64(const char *s, uint64_t *out);

static void put_hash(XXH128_hash_t h, uint8_t out[16])
{
	for (int i = 0; i < 8; i++) {
		out[i] = (uint8_t)(h.high64 >> (56 - 8 * i));
		out[8 + i] = (uint8_t)(h.low64 >> (56 - 8 * i));
	}
}

void files_meta_new(struct files_meta *m)
{
	uint8_t id[8];
	char hex[17];

	memset(m, 0, sizeof(*m));
	if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id)) {
		/* Not random, but unique enough for one machine. */
		uint64_t x = (uint64_t)lt_now_ns() ^ ((uint64_t)getpid() << 40);
		for (int i = 0; i < 8; i++)
			id[i] = (uint8_t)(x >> (8 * i));
	}
	lt_hex(id, sizeof(id), hex);
	snprintf(m->doc, sizeof(m->doc), "file:%s", hex);
}

void files_shadow_path(const struct files_shadow *sh, const char *rel,
		       struct buf *out)
{
	buf_reset(out);
	buf_addstr(out, sh->tree);
	if (*rel)
		buf_addf(out, "/%s", rel);
}

/* Removes path and, if it is a folder, everything in it. */
static int remove_tree(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	struct buf sub = BUF_INIT;
	int r = 0;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 :
		       lt_error_errno(LT_EIO, "cannot remove '%s'", path);
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0 && errno != ENOENT)
			return lt_error_errno(LT_EIO, "cannot remove '%s'", path);
		return 0;
	}
	if (!(d = opendir(path)))
		return lt_error_errno(LT_EIO, "cannot remove '%s'", path);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		buf_reset(&sub);
		buf_addf(&sub, "%s/%s", path, de->d_name);
		if ((r = remove_tree(sub.data)))
			break;
	}
	closedir(d);
	buf_release(&sub);
	if (!r && rmdir(path) < 0 && errno != ENOENT)
		r = lt_error_errno(LT_EIO, "cannot remove '%s'", path);
	return r;
}

/* The newest mtime of any folder under path: every write renames into a
 * folder, so this is when the cache last changed. */
static void newest_dir(const char *path, int64_t *newest)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	struct buf sub = BUF_INIT;

	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	int64_t t = (int64_t)st.st_mtim.tv_sec * LT_NS_PER_SEC +
		    st.st_mtim.tv_nsec;
	if (t > *newest)
		*newest = t;
	if (!(d = opendir(path)))
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' && (!de->d_name[1] ||
		    (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		buf_reset(&sub);
		buf_addf(&sub, "%s/%s", path, de->d_name);
		newest_dir(sub.data, newest);
	}
	closedir(d);
	buf_release(&sub);
}

int files_shadow_open(struct files_shadow *sh, const char *cache_dir,
		      const char *root_path, int64_t margin,
		      int64_t *untrusted_from, int64_t *untrusted_to)
{
	uint8_t idb[16];
	char id[33];
	struct buf b = BUF_INIT, cur = BUF_INIT;
	int r;

	files_hash(root_path, strlen(root_path), idb);
	lt_hex(idb, sizeof(idb), id);
	buf_addf(&b, "%s/roots/%s", cache_dir, id);
	sh->dir = buf_detach(&b, NULL);
	buf_addf(&b, "%s/tree", sh->dir);
	sh->tree = buf_detach(&b, NULL);
	if ((r = lt_mkdirs(sh->tree, 0700))) {
		r = lt_error_wrap(r, "cannot create the shadow cache (set "
				  "LABTAPE_CACHE_DIR or XDG_CACHE_HOME to a "
				  "writable folder)");
		goto out;
	}
	/* It holds plaintext copies: whatever made the folder, keep it ours. */
	chmod(cache_dir, 0700);

	buf_addf(&b, "%s/root", sh->dir);
	if (lt_read_file(b.data, 4096, &cur) || strcmp(cur.data, root_path))
		lt_write_file_atomic(b.data, root_path, strlen(root_path), 0600, 0);
	buf_reset(&b);
	buf_reset(&cur);
	buf_addf(&b, "%s/clean", sh->dir);
	*untrusted_from = *untrusted_to = 0;
	if (!lt_read_file(b.data, 64, &cur)) {
		/* A clean stop; it may still name when records were written
		 * that are not all in the vault (files.c, note 6). */
		char *sp = strchr(cur.data, ' ');
		uint64_t from, to;
		if (cur.len && cur.data[cur.len - 1] == '\n')
			buf_setlen(&cur, cur.len - 1);
		if (sp) {
			*sp = '\0';
			if (!parse_u64(cur.data, &from) && !parse_u64(sp + 1, &to)) {
				*untrusted_from = (int64_t)from;
				*untrusted_to = (int64_t)to;
			}
		}
		unlink(b.data);
	} else {
		int64_t newest = 0;
		newest_dir(sh->tree, &newest);
		if (newest) {
			*untrusted_from = newest - margin;
			*untrusted_to = INT64_MAX;
		}
	}
	r = 0;
out:
	buf_release(&b);
	buf_release(&cur);
	if (r) {
		free(sh->dir);
		free(sh->tree);
		sh->dir = sh->tree = NULL;
	}
	return r;
}

void files_shadow_close(struct files_shadow *sh, int clean,
			int64_t untrusted_from, int64_t untrusted_to)
{
	if (clean && sh->dir) {
		struct buf b = BUF_INIT;
		char t[48] = "";
		if (untrusted_to > untrusted_from)
			snprintf(t, sizeof(t), "%" PRId64 " %" PRId64 "\n",
				 untrusted_from, untrusted_to);
		buf_addf(&b, "%s/clean", sh->dir);
		lt_write_file_atomic(b.data, t, strlen(t), 0600, 0);
		buf_release(&b);
	}
	free(sh->dir);
	free(sh->tree);
	sh->dir = sh->tree = NULL;
}

/* ---- records ------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

/* The HEADER_LEN bytes of m's header, padded ("pad ---") to that size. */
static void format_header(const struct files_meta *m, struct buf *out)
{
	char hash[33];

	lt_hex(m->hash, 16, hash);
	buf_reset(out);
	buf_addf(out, SHADOW_MAGIC "doc %s\nseq %" PRIu64 "\nsince %u\n"
		 "saves %" PRIu64 "\nbase %s\nsize %" PRIu64 "\nextra %" PRIu64
		 "\nmtime %" PRId64 "\nhash %s\npad ", m->doc, m->seq,
		 m->since, m->saves, base_names[m->base], m->size, m->extra,
		 m->mtime < 0 ? 0 : m->mtime, hash);
	assert(out->len + 2 <= HEADER_LEN);
	while (out->len < HEADER_LEN - 2)
		buf_addch(out, '-');
	buf_addstr(out, "\n\n");
}

/* Parses a header of hlen bytes (ending with the blank line). */
static int parse_header(char *h, size_t hlen, struct files_meta *m)
{
	char *line = h + strlen(SHADOW_MAGIC), *end = h + hlen - 1;
	int have = 0;

	memset(m, 0, sizeof(*m));
	while (line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		char *val;
		uint64_t u = 0;
		if (!nl)
			return -1;
		*nl = '\0';
		if (!(val = strchr(line, ' ')))
			return -1;
		*val++ = '\0';
		if (!strcmp(line, "doc")) {
			if (strlen(val) != 21 || strncmp(val, "file:", 5))
				return -1;
			memcpy(m->doc, val, 22);
			have |= 1;
		} else if (!strcmp(line, "base")) {
			size_t i;
			for (i = 0; i < 3 && strcmp(val, base_names[i]); i++)
				;
			if (i == 3)
				return -1;
			m->base = (enum files_base)i;
			have |= 2;
		} else if (!strcmp(line, "hash")) {
			if (strlen(val) != 32 || lt_unhex(val, m->hash, 16))
				return -1;
		} else if (!strcmp(line, "seq") || !strcmp(line, "since") ||
			   !strcmp(line, "saves") || !strcmp(line, "size") ||
			   !strcmp(line, "extra") || !strcmp(line, "mtime")) {
			if (parse_u64(val, &u))
				return -1;
			if (!strcmp(line, "seq"))
				m->seq = u;
			else if (!strcmp(line, "since"))
				m->since = u > UINT32_MAX ? UINT32_MAX : (unsigned)u;
			else if (!strcmp(line, "saves"))
				m->saves = u;
			else if (!strcmp(line, "size"))
				m->size = u;
			else if (!strcmp(line, "extra"))
				m->extra = u;
			else
				m->mtime = (int64_t)u;
		}
		/* Other keys (the padding, a newer writer's): skipped. */
		line = nl + 1;
	}
	return have == 3 ? 0 : -1;
}

void files_hash(const void *p, size_t n, uint8_t out[16])
{
	put_hash(XXH3_128bits(p, n), out);
}

int files_hash_fd(int fd, uint8_t out[16])
{
	XXH3_state_t *st = XXH3_createState();
	char *chunk = xmalloc(1 << 20);
	ssize_t n;
	int r = 0;

	if (!st)
		abort();
	XXH3_128bits_reset(st);
	while ((n = read(fd, chunk, 1 << 20)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = lt_error_errno(LT_EIO, "cannot read");
			break;
		}
		XXH3_128bits_update(st, chunk, (size_t)n);
	}
	if (!r)
		put_hash(XXH3_128bits_digest(st), out);
	XXH3_freeState(st);
	free(chunk);
	return r;
}

/* Reads the recorded text after the header. If it does not match its own
 * size and hash the record keeps the document's identity but loses its
 * base: the next save is a snapshot. */
static int read_content(int fd, uint64_t fsize, size_t hlen,
			struct files_meta *m, struct buf *content,
			const char *what)
{
	uint8_t h[16];
	int r;

	uint64_t n = m->size + m->extra;

	if (fsize < hlen || fsize - hlen != n || n < m->size) {
		m->base = FILES_BASE_NONE;
		return 0;
	}
	if ((r = buf_grow(content, (size_t)n)) ||
	    (r = lt_pread_all(fd, content->data, (size_t)n, (off_t)hlen, what)))
		return r;
	buf_setlen(content, (size_t)n);
	files_hash(content->data, content->len, h);
	if (memcmp(h, m->hash, 16)) {
		buf_reset(content);
		m->base = FILES_BASE_NONE;
	}
	return 0;
}

int files_shadow_read(const struct files_shadow *sh, const char *rel,
		      struct files_meta *m, struct buf *content)
{
	struct buf path = BUF_INIT;
	char head[HEADER_LEN + 1];
	struct stat st;
	ssize_t n;
	size_t hlen;
	char *blank;
	int fd, r = LT_ENOENT;

	files_shadow_path(sh, rel, &path);
	fd = open(path.data, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			r = lt_error_errno(LT_EIO, "cannot read the shadow '%s'",
					   path.data);
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		goto out;	/* a folder: there is no record of a file here */
	n = pread(fd, head, HEADER_LEN, 0);
	if (n < 0) {
		r = lt_error_errno(LT_EIO, "cannot read the shadow '%s'", path.data);
		goto out;
	}
	head[n] = '\0';
	if ((size_t)n < strlen(SHADOW_MAGIC) ||
	    memcmp(head, SHADOW_MAGIC, strlen(SHADOW_MAGIC)) ||
	    !(blank = strstr(head, "\n\n")))
		goto damaged;
	hlen = (size_t)(blank - head) + 2;
	if (hlen != HEADER_LEN || parse_header(head, hlen, m))
		goto damaged;
	m->written = (int64_t)st.st_mtim.tv_sec * LT_NS_PER_SEC +
		     st.st_mtim.tv_nsec;
	if (content) {
		buf_reset(content);
		if (m->base == FILES_BASE_TEXT &&
		    ((r = read_content(fd, (uint64_t)st.st_size, hlen, m,
				       content, path.data)) < 0))
			goto out;
	}
	r = 0;
	goto out;
damaged:
	/* A torn or foreign record is worth nothing: the next save takes a
	 * snapshot of a new document instead of diffing against it. */
	unlink(path.data);
	r = LT_ENOENT;
out:
	if (fd >= 0)
		close(fd);
	buf_release(&path);
	return r;
}

/* Not lt_write_all(): LABTAPE_FAULT_ENOSPC fills the vault's disk, and
 * the harder case for this cache is a full vault beside a cache with room
 * (tests/t/t0106). */
static int write_all(int fd, const char *p, size_t n, const char *what)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return lt_error_errno(LT_EIO, "cannot write '%s'", what);
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Makes the folders above rel, replacing stale records in the way. */
static int make_parent(const struct files_shadow *sh, const char *rel)
{
	struct buf dir = BUF_INIT, p = BUF_INIT;
	int r;

	/* A record where a folder is needed now: that file became a folder,
	 * and what was recorded of it is gone from disk. */
	for (const char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
		struct stat st;
		buf_reset(&p);
		buf_addf(&p, "%s/%.*s", sh->tree, (int)(s - rel), rel);
		if (lstat(p.data, &st) < 0)
			break;
		if (!S_ISDIR(st.st_mode))
			unlink(p.data);
	}
	files_shadow_path(sh, rel, &p);
	lt_dirname(p.data, &dir);
	r = lt_mkdirs_nosync(dir.data, 0700);	/* a cache: no syncs (note 3) */
	buf_release(&dir);
	buf_release(&p);
	return r;
}

int files_shadow_write(const struct files_shadow *sh, const char *rel,
		       struct files_meta *m, const char *content, size_t len)
{
	struct buf path = BUF_INIT, tmp = BUF_INIT, head = BUF_INIT;
	int fd = -1, r;

	if (m->base == FILES_BASE_TEXT) {
		if (len < m->size)
			m->size = len;
		m->extra = len - m->size;
		files_hash(content, len, m->hash);
	} else {
		len = 0;
		m->extra = 0;
	}
	files_shadow_path(sh, rel, &path);
	lt_dirname(path.data, &tmp);
	buf_addstr(&tmp, "/" TMP_NAME);
	format_header(m, &head);
	/* Folders are made only when the record's is missing: checking them
	 * before every write cost a baseline hundreds of thousands of calls. */
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
		  O_CLOEXEC, 0600);
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR)) {
		if ((r = make_parent(sh, rel)))
			goto out;
		fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
			  O_CLOEXEC, 0600);
	}
	if (fd < 0) {
		r = lt_error_errno(LT_EIO, "cannot write the shadow '%s'",
				   tmp.data);
		goto out;
	}
	if ((r = write_all(fd, head.data, head.len, tmp.data)) ||
	    (r = write_all(fd, content, len, tmp.data)))
		goto out;
	if (close(fd) < 0) {
		fd = -1;
		r = lt_error_errno(LT_EIO, "cannot write the shadow '%s'",
				   tmp.data);
		goto out;
	}
	fd = -1;
	if (rename(tmp.data, path.data) < 0) {
		/* A stale folder of records where this file now is. */
		if ((errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST) &&
		    !remove_tree(path.data) && rename(tmp.data, path.data) == 0)
			goto done;
		r = lt_error_errno(LT_EIO, "cannot write the shadow '%s'",
				   path.data);
		goto out;
	}
done:
	m->written = lt_now_ns();
out:
	if (fd >= 0)
		close(fd);
	if (r && tmp.len)
		unlink(tmp.data);
	buf_release(&path);
	buf_release(&tmp);
	buf_release(&head);
	return r;
}

int files_shadow_forget(const struct files_shadow *sh, const char *rel,
			struct files_meta *m)
{
	struct buf path = BUF_INIT, head = BUF_INIT;
	ssize_t n;
	int fd, r = 0;

	m->base = FILES_BASE_NONE;
	m->extra = 0;
	format_header(m, &head);
	files_shadow_path(sh, rel, &path);
	fd = open(path.data, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	/* Not through lt_pwrite_all(): blocks already there need no space,
	 * which is the point on a full disk. */
	do
		n = fd < 0 ? -1 : pwrite(fd, head.data, head.len, 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)head.len || ftruncate(fd, HEADER_LEN) < 0)
		r = lt_error_errno(LT_EIO, "cannot rewrite the shadow '%s'",
				   path.data);
	else
		m->written = lt_now_ns();
	if (fd >= 0)
		close(fd);
	buf_release(&path);
	buf_release(&head);
	return r;
}

int files_shadow_remove(const struct files_shadow *sh, const char *rel)
{
	struct buf path = BUF_INIT;
	int r;

	files_shadow_path(sh, rel, &path);
	r = *rel ? remove_tree(path.data) : 0;
	buf_release(&path);
	return r;
}

int files_shadow_rename(const struct files_shadow *sh, const char *from,
			const char *to)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	int r;

	if ((r = make_parent(sh, to)))
		goto out;
	files_shadow_path(sh, from, &a);
	files_shadow_path(sh, to, &b);
	if ((r = remove_tree(b.data)))
		goto out;
	if (rename(a.data, b.data) < 0)
		r = lt_error_errno(LT_EIO, "cannot move the shadow '%s'", a.data);
out:
	buf_release(&a);
	buf_release(&b);
	return r;
}

struct list {
	char **v;
	size_t n, alloc;
};

static int list_walk(const char *abs, const char *rel, struct list *l)
{
	DIR *d = opendir(abs);
	struct dirent *de;
	struct buf sa = BUF_INIT, sr = BUF_INIT;
	int r = 0;

	if (!d)
		return errno == ENOENT || errno == ENOTDIR ? 0 :
		       lt_error_errno(LT_EIO, "cannot list the shadow '%s'", abs);
	while ((de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		buf_reset(&sa);
		buf_addf(&sa, "%s/%s", abs, de->d_name);
		if (!strcmp(de->d_name, TMP_NAME)) {
			unlink(sa.data);	/* left by a crash */
			continue;
		}
		buf_reset(&sr);
		buf_addf(&sr, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		if (lstat(sa.data, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if ((r = list_walk(sa.data, sr.data, l)))
				break;
		} else if (S_ISREG(st.st_mode)) {
			XGROW(l->v, l->n + 1, l->alloc);
			l->v[l->n++] = xstrdup(sr.data);
		}
	}
	closedir(d);
	buf_release(&sa);
	buf_release(&sr);
	return r;
}

int files_shadow_list(const struct files_shadow *sh, const char *rel,
		      char ***paths, size_t *n)
{
	struct list l = { NULL, 0, 0 };
	struct buf abs = BUF_INIT;
	int r;

	files_shadow_path(sh, rel, &abs);
	r = list_walk(abs.data, rel, &l);
	buf_release(&abs);
	if (r) {
		for (size_t i = 0; i < l.n; i++)
			free(l.v[i]);
		free(l.v);
		return r;
	}
	*paths = l.v;
	*n = l.n;
	return 0;
}
