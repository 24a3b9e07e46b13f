/*
 * labtape open: decrypts a release (or any age file encrypted to one of
 * the given keys), checks it against its manifest and extracts it.
 *
 * Nothing it writes is final before the whole age payload has
 * authenticated and every file matched the manifest: a release is
 * extracted into a temporary folder that is renamed into place at the
 * end; a plain age file is written to a temporary file, renamed the same
 * way. On any failure they are removed.
 */
#define _GNU_SOURCE	/* renameat2 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <sodium.h>

#include "age.h"
#include "cli.h"
#include "error.h"
#include "fileio.h"
#include "hex.h"
#include "ltime.h"
#include "xalloc.h"
#include "banned.h"

#define MANIFEST_NAME "MANIFEST.json"
#define MANIFEST_MAX (16u << 20)

static const char usage[] =
	"usage: labtape open FILE --key KEYFILE [-o DIR] [--list]\n"
	"\n"
	"Decrypts a release made with 'labtape release' (an age file) with\n"
	"the secret key in KEYFILE (an age identity file: 'labtape recipient\n"
	"new' or age-keygen; it may hold several keys, '#' comments and blank\n"
	"lines), checks every file against the size and SHA-256 in its\n"
	"manifest, and extracts it into DIR (default: FILE without .age),\n"
	"which must not exist yet. Prints the manifest's summary, and warns\n"
	"when the release is under an embargo that has not ended.\n"
	"\n"
	"Nothing is left in DIR unless the whole file authenticated: a\n"
	"changed, damaged or cut file is refused, naming the byte offset.\n"
	"Entries that are not plain files or folders, absolute paths and '..'\n"
	"are refused.\n"
	"\n"
	"An age file that is not a labtape release (its plaintext is not a\n"
	"tar archive starting with MANIFEST.json) is decrypted whole into the\n"
	"file DIR names, and labtape says so.\n"
	"\n"
	"  -k, --key KEYFILE  the age identity file to decrypt with\n"
	"  -o, --output DIR   where to extract (default: FILE without .age)\n"
	"  -l, --list         only check the release and print its manifest\n";

struct open_ctx {
	const char *file;
	int fd;
	struct age_reader *r;
	const uint8_t *first;	/* the first chunk, not yet handed over */
	long first_len;
	int failed;		/* the age layer failed: its message stands */
	json_t *manifest;
	char *manifest_text;
	unsigned char *seen;	/* per manifest file */
	const char *tmpdir;	/* extracting into; NULL when listing */
};

/* FILE without its .age, or NULL if it has none. */
static char *strip_age(const char *file)
{
	size_t n = strlen(file);

	if (n <= 4 || strcmp(file + n - 4, ".age") || file[n - 5] == '/')
		return NULL;
	return xstrndup(file, n - 4);
}

/* Writes a new file (never over one). */
static int write_new(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		      O_CLOEXEC, 0644), r;

	if (fd < 0)
		return lt_error_errno(LT_EIO, "cannot create '%s'", path);
	r = lt_write_all(fd, data, n, path);
	if (close(fd) && !r)
		r = lt_error_errno(LT_EIO, "cannot write '%s'", path);
	return r;
}

static long fd_read(void *ctx, void *data, size_t n)
{
	struct open_ctx *o = ctx;

	for (;;) {
		ssize_t got = read(o->fd, data, n);
		if (got >= 0)
			return (long)got;
		if (errno != EINTR)
			return lt_error_errno(LT_EIO, "cannot read '%s'",
					      o->file);
	}
}

static la_ssize_t tar_read(struct archive *a, void *ctx, const void **buf)
{
	struct open_ctx *o = ctx;
	const uint8_t *p;
	long n;

	if (o->first) {
		*buf = o->first;
		n = o->first_len;
		o->first = NULL;
		return n;
	}
	n = age_reader_next(o->r, &p);
	if (n < 0) {
		o->failed = 1;
		archive_set_error(a, EIO, "%s", lt_errmsg());
		return -1;
	}
	*buf = p;
	return n;
}

/* Whether the first chunk starts a tar archive whose first entry is the
 * manifest, under ustar's plain name field. */
static int looks_like_release(const uint8_t *p, long n)
{
	return n >= 512 && !memcmp(p + 257, "ustar", 5) &&
	       !memcmp(p, MANIFEST_NAME, sizeof(MANIFEST_NAME)) &&
	       p[345] == '\0';
}

static int valid_sha(const char *s)
{
	if (strlen(s) != 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

/* A path a release may hold: relative, no "." or ".." or empty parts. */
static int safe_path(const char *p)
{
	const char *s = p;

	if (!*p || *p == '/')
		return 0;
	while (*s) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 0 || (n == 1 && s[0] == '.') ||
		    (n == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		if (!e)
			break;
		s = e + 1;
		if (!*s)
			return 0;
	}
	return 1;
}

static int check_manifest(struct open_ctx *o)
{
	json_t *m = o->manifest, *files, *f;
	size_t i;

	if (!json_is_object(m) ||
	    json_integer_value(json_object_get(m, "labtape_release")) != 1 ||
	    !json_is_array(files = json_object_get(m, "files")))
		return lt_error(LT_ECORRUPT, "%s: MANIFEST.json is not a "
				"labtape release manifest (version 1)", o->file);
	json_array_foreach(files, i, f) {
		json_t *sha = json_object_get(f, "sha256");
		json_t *size = json_object_get(f, "size");
		const char *path = json_string_value(json_object_get(f, "path"));
		if (!path || !safe_path(path) || !json_is_integer(size) ||
		    json_integer_value(size) < 0 || !json_is_string(sha) ||
		    !valid_sha(json_string_value(sha)))
			return lt_error(LT_ECORRUPT, "%s: MANIFEST.json: file "
					"%zu has a bad path, size or sha256",
					o->file, i + 1);
	}
	o->seen = xcalloc(json_array_size(files) + 1, 1);
	return 0;
}

static json_t *manifest_file(struct open_ctx *o, const char *path, size_t *at)
{
	json_t *files = json_object_get(o->manifest, "files"), *f;
	size_t i;

	json_array_foreach(files, i, f)
		if (!strcmp(json_string_value(json_object_get(f, "path")), path)) {
			*at = i;
			return f;
		}
	return NULL;
}

static int mkparents(const char *root, const char *path)
{
	struct buf b = BUF_INIT;
	const char *s = path;
	int r = 0;

	buf_addstr(&b, root);
	while (!r) {
		const char *e = strchr(s, '/');
		if (!e)
			break;
		buf_addch(&b, '/');
		buf_add(&b, s, (size_t)(e - s));
		if (mkdir(b.data, 0755) && errno != EEXIST)
			r = lt_error_errno(LT_EIO, "cannot create '%s'", b.data);
		s = e + 1;
	}
	buf_release(&b);
	return r;
}

/* Reads the current entry's data, hashing it, into a new file under
 * tmpdir (or nowhere when listing). */
static int entry_data(struct open_ctx *o, struct archive *a, const char *path,
		      uint64_t *size, char sha[65])
{
	crypto_hash_sha256_state st;
	struct buf dst = BUF_INIT;
	const void *p;
	size_t n;
	la_int64_t off;
	uint8_t sum[32];
	int fd = -1, r = 0, e;

	if (o->tmpdir) {
		buf_addf(&dst, "%s/%s", o->tmpdir, path);
		if ((r = mkparents(o->tmpdir, path)) == 0) {
			fd = open(dst.data, O_WRONLY | O_CREAT | O_EXCL |
				  O_NOFOLLOW | O_CLOEXEC, 0644);
			if (fd < 0)
				r = errno == EEXIST
					? lt_error(LT_ECORRUPT, "%s: '%s' is in "
						   "the archive twice", o->file,
						   path)
					: lt_error_errno(LT_EIO, "cannot "
							 "create '%s'",
							 dst.data);
		}
	}
	crypto_hash_sha256_init(&st);
	*size = 0;
	while (!r && (e = archive_read_data_block(a, &p, &n, &off)) == ARCHIVE_OK) {
		if ((uint64_t)off != *size) {
			r = lt_error(LT_ECORRUPT, "%s: '%s': a sparse entry; "
				     "releases hold plain files", o->file, path);
			break;
		}
		crypto_hash_sha256_update(&st, p, n);
		*size += n;
		if (fd >= 0)
			r = lt_write_all(fd, p, n, dst.data);
	}
	if (!r && e != ARCHIVE_EOF)
		r = o->failed ? LT_EAUTH
			      : lt_error(LT_ECORRUPT, "%s: the tar archive "
					 "inside is malformed: %s", o->file,
					 archive_error_string(a));
	if (fd >= 0 && close(fd) && !r)
		r = lt_error_errno(LT_EIO, "cannot write '%s'", dst.data);
	crypto_hash_sha256_final(&st, sum);
	lt_hex(sum, 32, sha);
	buf_release(&dst);
	return r;
}

static int read_manifest(struct open_ctx *o, struct archive *a,
			 struct archive_entry *e)
{
	struct buf text = BUF_INIT;
	json_error_t err;
	const void *p;
	size_t n;
	la_int64_t off;
	int r;

	if (archive_entry_size(e) > (la_int64_t)MANIFEST_MAX)
		return lt_error(LT_ECORRUPT, "%s: MANIFEST.json is over %u "
				"bytes", o->file, MANIFEST_MAX);
	while ((r = archive_read_data_block(a, &p, &n, &off)) == ARCHIVE_OK)
		buf_add(&text, p, n);
	if (r != ARCHIVE_EOF) {
		buf_release(&text);
		return o->failed ? LT_EAUTH
				 : lt_error(LT_ECORRUPT, "%s: the tar archive "
					    "inside is malformed: %s", o->file,
					    archive_error_string(a));
	}
	o->manifest = json_loadb(text.data, text.len, 0, &err);
	if (!o->manifest) {
		buf_release(&text);
		return lt_error(LT_ECORRUPT, "%s: MANIFEST.json: line %d: %s",
				o->file, err.line, err.text);
	}
	r = 0;
	if (o->tmpdir) {
		struct buf path = BUF_INIT;
		buf_addf(&path, "%s/" MANIFEST_NAME, o->tmpdir);
		r = write_new(path.data, text.data, text.len);
		buf_release(&path);
	}
	o->manifest_text = buf_detach(&text, NULL);
	return r ? r : check_manifest(o);
}

/* Reads the archive, checking (and extracting) every entry. */
static int read_release(struct open_ctx *o)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	json_t *files;
	size_t at, i, count = 0;
	int r = 0, h;

	if (!a)
		return lt_error(LT_EIO, "%s: out of memory", o->file);
	archive_read_support_format_tar(a);
	if (archive_read_open(a, o, NULL, tar_read, NULL) != ARCHIVE_OK) {
		r = o->failed ? LT_EAUTH
			      : lt_error(LT_ECORRUPT, "%s: the tar archive "
					 "inside is malformed: %s", o->file,
					 archive_error_string(a));
		archive_read_free(a);
		return r;
	}
	while (!r && (h = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		const char *path = archive_entry_pathname(e);
		mode_t type = archive_entry_filetype(e);
		json_t *f;
		uint64_t size;
		char sha[65];

		if (h != ARCHIVE_OK && h != ARCHIVE_WARN) {
			r = o->failed ? LT_EAUTH
				      : lt_error(LT_ECORRUPT, "%s: the tar "
						 "archive inside is malformed: "
						 "%s", o->file,
						 archive_error_string(a));
			break;
		}
		if (!path)
			path = "";
		if (count++ == 0) {
			r = read_manifest(o, a, e);
			continue;
		}
		if (!safe_path(path) || archive_entry_hardlink(e) ||
		    type != AE_IFREG) {
			r = lt_error(LT_ECORRUPT, "%s: entry '%s' is not a "
				     "plain file with a safe relative path; "
				     "refusing it", o->file, path);
			break;
		}
		f = manifest_file(o, path, &at);
		if (!f || o->seen[at]) {
			r = lt_error(LT_ECORRUPT, "%s: '%s' is %s", o->file,
				     path, f ? "in the archive twice"
					     : "not in the manifest");
			break;
		}
		o->seen[at] = 1;
		if ((r = entry_data(o, a, path, &size, sha)))
			break;
		if (size != (uint64_t)json_integer_value(json_object_get(f, "size")) ||
		    strcmp(sha, json_string_value(json_object_get(f, "sha256"))))
			r = lt_error(LT_ECORRUPT, "%s: '%s' does not match its "
				     "size and SHA-256 in the manifest",
				     o->file, path);
	}
	archive_read_free(a);
	if (r)
		return r;
	files = json_object_get(o->manifest, "files");
	for (i = 0; i < json_array_size(files); i++)
		if (!o->seen[i])
			return lt_error(LT_ECORRUPT, "%s: '%s' is in the "
					"manifest but not in the archive",
					o->file, json_string_value(json_object_get(
						json_array_get(files, i), "path")));
	return 0;
}

/* Reads the age payload to its end: only then is all of it authentic. */
static int drain(struct open_ctx *o)
{
	const uint8_t *p;
	long n;

	while ((n = age_reader_next(o->r, &p)) > 0)
		;
	return (int)n;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void rm_tree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Moves tmp to dst, which must not exist. */
static int place(const char *tmp, const char *dst)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE))
		return errno == EEXIST
			? lt_error(LT_EEXIST, "'%s' appeared meanwhile; not "
				   "replacing it", dst)
			: lt_error_errno(LT_EIO, "cannot rename '%s' to '%s'",
					 tmp, dst);
	return 0;
}

static void print_summary(struct open_ctx *o, const char *dir)
{
	json_t *m = o->manifest, *by = json_object_get(m, "by"), *x;
	json_t *files = json_object_get(m, "files");
	const char *embargo = json_string_value(json_object_get(m, "embargo"));
	uint64_t total = 0;
	char human[32];
	size_t i;
	int64_t t;

	json_array_foreach(files, i, x)
		total += (uint64_t)json_integer_value(json_object_get(x, "size"));
	cli_human_bytes(total, human, sizeof(human));
	printf("release of %zu file%s (%s), created %s by %s",
	       json_array_size(files), json_array_size(files) == 1 ? "" : "s",
	       human, json_string_value(json_object_get(m, "created"))
			      ? json_string_value(json_object_get(m, "created"))
			      : "(unknown)",
	       json_string_value(json_object_get(by, "user"))
		       ? json_string_value(json_object_get(by, "user"))
		       : "(unknown)");
	if (json_string_value(json_object_get(by, "vault")))
		printf(" (vault %.16s)",
		       json_string_value(json_object_get(by, "vault")));
	printf("\nto: %s\nembargo: %s\nconsents:",
	       json_string_value(json_object_get(m, "recipient"))
		       ? json_string_value(json_object_get(m, "recipient"))
		       : "(unknown)",
	       embargo ? embargo : "none");
	x = json_object_get(m, "consents");
	if (!json_array_size(x))
		printf(" none");
	json_array_foreach(x, i, by)
		printf("%s %s", i ? "," : "",
		       json_string_value(by) ? json_string_value(by) : "?");
	printf("\n");
	json_array_foreach(files, i, x)
		printf("  %s  %lld  %.16s\n",
		       json_string_value(json_object_get(x, "path")),
		       (long long)json_integer_value(json_object_get(x, "size")),
		       json_string_value(json_object_get(x, "sha256")));
	if (dir)
		printf("extracted to %s\n", dir);
	if (embargo) {
		int bad = strlen(embargo) == 10
				  ? lt_time_parse(embargo, &t)
				  : lt_time_parse_rfc3339(embargo, &t);
		/* An embargo that does not parse is treated as not over. */
		if (bad || t > lt_now_ns())
			fprintf(stderr, "warning: embargoed until %s: do not "
				"use or publish this data before then\n",
				embargo);
	}
}

/* A plain age file: its plaintext, whole, into out. */
static int open_plain(struct open_ctx *o, const char *out)
{
	struct buf tmp = BUF_INIT;
	const uint8_t *p = o->first;
	long n = o->first_len;
	int fd, r = 0;

	buf_addf(&tmp, "%s.tmp-XXXXXX", out);
	fd = mkstemp(tmp.data);
	if (fd < 0) {
		r = lt_error_errno(LT_EIO, "cannot create '%s'", tmp.data);
		buf_release(&tmp);
		return r;
	}
	while (!r && n > 0) {
		r = lt_write_all(fd, p, (size_t)n, tmp.data);
		if (!r && (n = age_reader_next(o->r, &p)) < 0)
			r = (int)n;
	}
	if (!r)
		r = lt_fsync(fd, tmp.data);
	close(fd);
	if (!r && link(tmp.data, out))
		r = errno == EEXIST
			? lt_error(LT_EEXIST, "'%s' appeared meanwhile; not "
				   "replacing it", out)
			: lt_error_errno(LT_EIO, "cannot create '%s'", out);
	unlink(tmp.data);
	buf_release(&tmp);
	return r;
}

int cmd_open(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "output", required_argument, NULL, 'o' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "open", usage, NULL, NULL };
	struct open_ctx o;
	struct age_identities ids = { NULL, 0 };
	const char *key = NULL, *out = NULL;
	char *def = NULL, *tmp = NULL;
	int opt, r, list = 0;

	while ((opt = getopt_long(argc, argv, "hk:o:l", opts, NULL)) != -1) {
		if (opt == 'k')
			key = optarg;
		else if (opt == 'o')
			out = optarg;
		else if (opt == 'l')
			list = 1;
		else if ((r = cli_common_opt(&c, opt)) >= 0)
			return r;
	}
	if (optind + 1 != argc)
		return cli_usage_error(&c, "name one release FILE");
	if (!key)
		return cli_usage_error(&c, "say which key decrypts it: "
				       "--key KEYFILE");
	memset(&o, 0, sizeof(o));
	o.fd = -1;
	o.file = argv[optind];
	if (!out && !list) {
		out = def = strip_age(o.file);
		if (!out)
			return cli_usage_error(&c, "'%s' does not end in .age: "
					       "say where to extract with -o "
					       "DIR", o.file);
	}
	if (out && access(out, F_OK) == 0) {
		cli_error("'%s' already exists; not replacing it (choose "
			  "another with -o)", out);
		free(def);
		return 1;
	}
	if (sodium_init() < 0) {
		free(def);
		return cli_error("cannot initialise libsodium");
	}
	if (age_identities_load(key, &ids)) {
		free(def);
		return cli_error("%s", lt_errmsg());
	}
	o.fd = open(o.file, O_RDONLY | O_CLOEXEC);
	if (o.fd < 0) {
		r = lt_error_errno(LT_EIO, "cannot open '%s'", o.file);
		goto out;
	}
	if ((r = age_reader_open(&o.r, o.file, fd_read, &o, &ids)))
		goto out;
	age_identities_release(&ids);
	o.first_len = age_reader_next(o.r, &o.first);
	if (o.first_len < 0) {
		r = (int)o.first_len;
		goto out;
	}
	if (!looks_like_release(o.first, o.first_len)) {
		if (list) {
			r = drain(&o);
			if (!r)
				r = lt_error(LT_EINVAL, "%s: decrypts, but is "
					     "not a labtape release (no tar "
					     "archive with MANIFEST.json first)",
					     o.file);
			goto out;
		}
		if (!(r = open_plain(&o, out)))
			fprintf(stderr, "%s: not a labtape release (no tar "
				"archive with MANIFEST.json first); wrote its "
				"decrypted content to %s\n", o.file, out);
		goto out;
	}
	if (!list) {
		struct buf t = BUF_INIT;
		buf_addf(&t, "%s.partial-XXXXXX", out);
		tmp = buf_detach(&t, NULL);
		if (!mkdtemp(tmp)) {
			r = lt_error_errno(LT_EIO, "cannot create '%s'", tmp);
			goto out;
		}
		o.tmpdir = tmp;
	}
	r = read_release(&o);
	if (!r)
		r = drain(&o);
	if (!r && tmp)
		r = place(tmp, out);
	if (!r) {
		if (list)
			fputs(o.manifest_text, stdout);
		else
			print_summary(&o, out);
	}
out:
	if (r)
		cli_error("%s", lt_errmsg());
	if (r && tmp)
		rm_tree(tmp);
	if (o.fd >= 0)
		close(o.fd);
	age_reader_free(o.r);
	age_identities_release(&ids);
	json_decref(o.manifest);
	free(o.manifest_text);
	free(o.seen);
	free(tmp);
	free(def);
	return r ? 1 : 0;
}
