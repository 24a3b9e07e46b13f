/*
 * Maintenance over the whole vault: reindex (rebuild the index from the
 * segments), verify (check everything against everything) and stats.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "error.h"
#include "fileio.h"
#include "hex.h"
#include "ltime.h"
#include "xalloc.h"
#include "vault-int.h"
#include "banned.h"

static void say(vault_report_fn *report, void *ctx, int problem,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void say(vault_report_fn *report, void *ctx, int problem,
		const char *fmt, ...)
{
	struct buf m = BUF_INIT;
	va_list ap;

	if (!report)
		return;
	va_start(ap, fmt);
	buf_vaddf(&m, fmt, ap);
	va_end(ap);
	report(ctx, problem, m.data);
	buf_release(&m);
}

/* Calls fn for every entry of VAULT/segments/<day>/ whose name ends in
 * suffix, with its day folder and file name. */
typedef int seg_file_fn(void *ctx, const char *dayname, const char *name,
			const char *path);

static int walk_segments(struct vault *v, seg_file_fn *fn, void *ctx)
{
	struct buf top = BUF_INIT, path = BUF_INIT;
	struct dirent **days = NULL;
	int ndays, r = 0;

	buf_addf(&top, "%s/" VAULT_SEG_DIR, v->dir);
	ndays = scandir(top.data, &days, NULL, alphasort);
	if (ndays < 0) {
		r = lt_error_errno(LT_EIO, "cannot list '%s'", top.data);
		goto out;
	}
	for (int i = 0; i < ndays; i++) {
		struct dirent **files = NULL;
		int nfiles;
		if (!r && days[i]->d_name[0] != '.') {
			buf_reset(&path);
			buf_addf(&path, "%s/%s", top.data, days[i]->d_name);
			nfiles = scandir(path.data, &files, NULL, alphasort);
			for (int j = 0; j < nfiles; j++) {
				if (!r && files[j]->d_name[0] != '.') {
					buf_reset(&path);
					buf_addf(&path, "%s/%s/%s", top.data,
						 days[i]->d_name, files[j]->d_name);
					r = fn(ctx, days[i]->d_name,
					       files[j]->d_name, path.data);
				}
				free(files[j]);
			}
			free(files);
		}
		free(days[i]);
	}
	free(days);
out:
	buf_release(&top);
	buf_release(&path);
	return r;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

/* The segment id in a file name "<32 hex>.seg". */
static int name_seg_id(const char *name, uint8_t *id)
{
	char hex[2 * VAULT_ID_LEN + 1];

	if (strlen(name) != 2 * VAULT_ID_LEN + 4 || !has_suffix(name, ".seg"))
		return -1;
	memcpy(hex, name, 2 * VAULT_ID_LEN);
	hex[2 * VAULT_ID_LEN] = '\0';
	if (lt_unhex(hex, id, VAULT_ID_LEN))
		return -1;
	/* Only the lowercase form that vault_seg_path() builds. */
	lt_hex(id, VAULT_ID_LEN, hex);
	return memcmp(hex, name, 2 * VAULT_ID_LEN) ? -1 : 0;
}

/* ---- reindex ------------------------------------------------------- */

struct reindex {
	struct vault *v;
	vault_report_fn *report;
	void *ctx;
	uint64_t segments, blocks;
};

static int reindex_file(void *ctx, const char *dayname, const char *name,
			const char *path)
{
	struct reindex *ri = ctx;
	struct vault *v = ri->v;
	struct seg_header h;
	struct idx_segment s = { 0 };
	struct blockset bs = { 0 };
	struct seg_scan sc;
	uint8_t hdr[SEG_HEADER_LEN], id[VAULT_ID_LEN];
	char day[16];
	struct stat st;
	int fd, r;

	if (has_suffix(name, ".seg.tmp")) {
		/* A writer died while creating this segment: nothing in it
		 * was ever committed. Remove it unless its writer lives. Its
		 * key file stays: a header is no proof that no other segment
		 * uses that key, and an unused key file is harmless. */
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
			unlink(path);
			say(ri->report, ri->ctx, 0,
			    "removed '%s', left by a writer that died", path);
		}
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if (name_seg_id(name, id)) {
		say(ri->report, ri->ctx, 1, "'%s' is not a segment; left alone",
		    path);
		return 0;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return lt_error_errno(LT_EIO, "cannot open '%s'", path);
	if ((r = lt_pread_all(fd, hdr, sizeof(hdr), 0, path)) ||
	    (r = seg_header_decode(hdr, &h))) {
		/* A genuine (checksummed) header from a newer labtape stops
		 * the rebuild: leaving its data out would lose it. */
		if (r == LT_EVERSION) {
			r = lt_error_wrap(r, "segment '%s'", path);
			goto out;
		}
		say(ri->report, ri->ctx, 1, "segment %s: %s; left out of the index",
		    path, lt_errmsg());
		r = 0;
		goto out;
	}
	lt_day_format(h.day, day);
	if (memcmp(h.seg_id, id, VAULT_ID_LEN) || strcmp(day, dayname)) {
		say(ri->report, ri->ctx, 1, "segment %s: its header does not match "
		    "its file name; left out of the index", path);
		goto out;
	}
	if ((r = seg_scan(fd, path, SEG_HEADER_LEN, 0, 1, ri->report, ri->ctx,
			  blockset_collect, &bs, &sc)))
		goto out;
	/* Bytes past the last commit were never committed: cut them, as
	 * recovery would, unless a live writer (holding the lock) is still
	 * adding to them. */
	if (fstat(fd, &st) == 0 && st.st_size > sc.end &&
	    flock(fd, LOCK_EX | LOCK_NB) == 0) {
		if (ftruncate(fd, sc.end) < 0 || lt_fsync(fd, path) < 0) {
			r = lt_error_errno(LT_EIO, "cannot cut the tail of '%s'",
					   path);
			goto out;
		}
		say(ri->report, ri->ctx, sc.tail_damage,
		    "segment %s: cut %lld %sbytes after the last commit",
		    path, (long long)(st.st_size - sc.end),
		    sc.tail_damage ? "damaged " : "uncommitted ");
	}
	memcpy(s.seg_id, h.seg_id, VAULT_ID_LEN);
	memcpy(s.key_id, h.key_id, VAULT_ID_LEN);
	s.day = h.day;
	s.created = h.created;
	s.committed_end = sc.end;
	s.next_frame = sc.next;
	s.sealed = sc.sealed;
	if ((r = idx_add_segment(v, &s)) ||
	    (r = idx_add_blockset(v, s.rowid, &bs)))
		goto out;
	ri->segments++;
	ri->blocks += bs.n;
out:
	blockset_release(&bs);
	close(fd);
	return r;
}

int vault_reindex(struct vault *v, vault_report_fn *report, void *ctx)
{
	struct reindex ri = { v, report, ctx, 0, 0 };
	int r;

	if ((r = vault_lock_exclusive(v)))
		return r;
	/* One transaction: readers see the old index until the new one is
	 * complete, and a failure leaves the old one in place. */
	if ((r = idx_exec(v, "BEGIN EXCLUSIVE")))
		goto out;
	if ((r = idx_exec(v, "DELETE FROM block_kinds; DELETE FROM blocks;"
			  " DELETE FROM segments; DELETE FROM kinds;")) ||
	    (r = walk_segments(v, reindex_file, &ri)) || (r = idx_commit(v))) {
		idx_rollback(v);
		goto out;
	}
	say(report, ctx, 0, "indexed %llu blocks in %llu segments",
	    (unsigned long long)ri.blocks, (unsigned long long)ri.segments);
out:
	vault_lock_shared(v);
	return r;
}

/* ---- verify -------------------------------------------------------- */

struct vblock {
	uint64_t frame_no;
	int64_t offset, length, t_min, t_max, nrec, plain_len;
	char *kinds;		/* sorted, '\n'-separated */
	int seen;
};

struct verify {
	struct vault *v;
	vault_report_fn *report;
	void *ctx;
	struct vault_verify_stats *st;
	/* The segment being checked. */
	const char *path;
	const uint8_t *seg_id;
	const uint8_t *key;		/* NULL if the key cannot be opened */
	struct vblock *blocks;		/* its index rows, by frame */
	size_t nblocks, next;
	/* A live writer may have synced a commit it has not indexed yet. */
	int live;
	int64_t committed_end;
	struct buf plain, scratch;
	ZSTD_DCtx *dctx;
	/* Segments a running forget is removing or writing: not checked. */
	uint8_t *forget_ids;
	size_t nforget;
};

static int in_forget(const struct verify *vf, const uint8_t *seg_id)
{
	for (size_t i = 0; i < vf->nforget; i++)
		if (!memcmp(vf->forget_ids + i * VAULT_ID_LEN, seg_id, VAULT_ID_LEN))
			return 1;
	return 0;
}

static void problem(struct verify *vf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(struct verify *vf, const char *fmt, ...)
{
	struct buf m = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&m, fmt, ap);
	va_end(ap);
	vf->st->problems++;
	if (vf->report)
		vf->report(vf->ctx, 1, m.data);
	buf_release(&m);
}

static int kind_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The kinds of a frame header, sorted and '\n'-separated. */
static void frame_kinds_str(const struct frame_header *h, struct buf *out)
{
	char **names = xcalloc(h->nkinds ? h->nkinds : 1, sizeof(*names));

	for (unsigned i = 0; i < h->nkinds; i++) {
		const char *n;
		size_t len;
		frame_kind(h, i, &n, &len);
		names[i] = xstrndup(n, len);
	}
	qsort(names, h->nkinds, sizeof(*names), kind_cmp);
	buf_reset(out);
	for (unsigned i = 0; i < h->nkinds; i++) {
		buf_addf(out, "%s%s", i ? "\n" : "", names[i]);
		free(names[i]);
	}
	free(names);
}

static int verify_frame(void *ctx, int64_t off, const struct frame_header *h,
			const uint8_t *frame)
{
	struct verify *vf = ctx;
	struct vblock *b = NULL;
	struct buf kinds = BUF_INIT;
	int r;

	if (vf->key &&
	    (r = frame_open(frame, h, vf->seg_id, vf->key, &vf->plain, vf->dctx,
			     &vf->scratch))) {
		problem(vf, "segment %s: frame %llu at offset %lld: %s", vf->path,
			(unsigned long long)h->frame_no, (long long)off,
			lt_errmsg());
		if (h->type == FRAME_DATA)
			goto index;
		return 0;
	}
	if (h->type != FRAME_DATA)
		return 0;
	vf->st->blocks++;
	vf->st->bytes += frame_len(h);
	if (vf->key) {
		struct rec_cursor c = { (const uint8_t *)vf->plain.data,
					(const uint8_t *)vf->plain.data + vf->plain.len,
					0, h->nkinds };
		struct rec rec;
		uint32_t n = 0;
		while ((r = rec_next(&c, &rec)) == 1) {
			if (rec.t < h->t_min || rec.t > h->t_max) {
				r = lt_error(LT_ECORRUPT, "record %u has a time "
					     "outside the block's range", n);
				break;
			}
			n++;
		}
		if (!r && n != h->nrec)
			r = lt_error(LT_ECORRUPT, "%u records where the header "
				     "says %u", n, h->nrec);
		if (r)
			problem(vf, "segment %s: frame %llu at offset %lld: %s",
				vf->path, (unsigned long long)h->frame_no,
				(long long)off, lt_errmsg());
		vf->st->records += n;
	}
index:
	/* The index must hold this block, exactly. */
	while (vf->next < vf->nblocks && vf->blocks[vf->next].frame_no < h->frame_no)
		vf->next++;
	if (vf->next < vf->nblocks && vf->blocks[vf->next].frame_no == h->frame_no)
		b = &vf->blocks[vf->next];
	if (!b && vf->live && off >= vf->committed_end)
		return 0;
	if (!b) {
		problem(vf, "segment %s: frame %llu at offset %lld is committed "
			"but not in the index (run 'labtape reindex')", vf->path,
			(unsigned long long)h->frame_no, (long long)off);
		return 0;
	}
	b->seen = 1;
	frame_kinds_str(h, &kinds);
	if (b->offset != off || b->length != (int64_t)frame_len(h) ||
	    b->t_min != h->t_min || b->t_max != h->t_max ||
	    b->nrec != h->nrec || b->plain_len != h->plain_len ||
	    strcmp(b->kinds, kinds.data) != 0)
		problem(vf, "segment %s: frame %llu at offset %lld does not "
			"match its index entry (run 'labtape reindex')", vf->path,
			(unsigned long long)h->frame_no, (long long)off);
	buf_release(&kinds);
	return 0;
}

static int load_index_blocks(struct verify *vf, int64_t rowid)
{
	sqlite3_stmt *st;
	size_t alloc = 0;
	int r;

	if ((r = idx_prepare(vf->v,
			     "SELECT b.frame, b.offset, b.length, b.t_min, b.t_max,"
			     " b.records, b.plain_len,"
			     " (SELECT group_concat(name, char(10)) FROM"
			     "  (SELECT k.name FROM block_kinds bk JOIN kinds k"
			     "   ON k.id = bk.kind WHERE bk.block = b.id"
			     "   ORDER BY k.name))"
			     " FROM blocks b WHERE b.segment = ? ORDER BY b.frame",
			     &st)))
		return r;
	sqlite3_bind_int64(st, 1, rowid);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct vblock *b;
		const char *k = (const char *)sqlite3_column_text(st, 7);
		XGROW(vf->blocks, vf->nblocks + 1, alloc);
		b = &vf->blocks[vf->nblocks++];
		b->frame_no = (uint64_t)sqlite3_column_int64(st, 0);
		b->offset = sqlite3_column_int64(st, 1);
		b->length = sqlite3_column_int64(st, 2);
		b->t_min = sqlite3_column_int64(st, 3);
		b->t_max = sqlite3_column_int64(st, 4);
		b->nrec = sqlite3_column_int64(st, 5);
		b->plain_len = sqlite3_column_int64(st, 6);
		b->kinds = xstrdup(k ? k : "");
		b->seen = 0;
	}
	sqlite3_finalize(st);
	return 0;
}

static int verify_segment(struct verify *vf, const struct idx_segment *s)
{
	struct buf path = BUF_INIT;
	struct seg_header h;
	struct seg_scan sc;
	uint8_t hdr[SEG_HEADER_LEN];
	const char *label;
	struct stat st;
	int fd = -1, r = 0;

	vault_seg_path(vf->v, s->day, s->seg_id, &path);
	vf->path = path.data;
	vf->seg_id = s->seg_id;
	vf->key = NULL;
	vf->nblocks = vf->next = 0;
	if (in_forget(vf, s->seg_id)) {
		say(vf->report, vf->ctx, 0, "segment %s is being forgotten or "
		    "written by a running 'labtape forget'; not checked",
		    path.data);
		goto out;
	}
	vf->st->segments++;
	if ((r = load_index_blocks(vf, s->rowid)))
		goto out;
	if (vault_data_key(vf->v, s->key_id, s->day, &vf->key, &label)) {
		problem(vf, "segment %s: %s", path.data, lt_errmsg());
		vf->key = NULL;
	}
	fd = open(path.data, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		problem(vf, "segment %s is in the index but cannot be opened: %s",
			path.data, strerror(errno));
		goto out;
	}
	vf->live = flock(fd, LOCK_SH | LOCK_NB) < 0;
	vf->committed_end = s->committed_end;
	if (lt_pread_all(fd, hdr, sizeof(hdr), 0, path.data) ||
	    seg_header_decode(hdr, &h))
		problem(vf, "segment %s: header: %s", path.data, lt_errmsg());
	else if (memcmp(h.seg_id, s->seg_id, VAULT_ID_LEN) ||
		 memcmp(h.key_id, s->key_id, VAULT_ID_LEN) || h.day != s->day)
		problem(vf, "segment %s: header does not match the index",
			path.data);
	if ((r = seg_scan(fd, path.data, SEG_HEADER_LEN, 0, 1, vf->report,
			  vf->ctx, verify_frame, vf, &sc)))
		goto out;
	vf->st->problems += sc.damaged;	/* reported by seg_scan */
	for (size_t i = 0; i < vf->nblocks; i++)
		if (!vf->blocks[i].seen)
			problem(vf, "segment %s: the index points at frame %llu "
				"(offset %lld), which the segment does not hold",
				path.data,
				(unsigned long long)vf->blocks[i].frame_no,
				(long long)vf->blocks[i].offset);
	if (sc.end < s->committed_end)
		problem(vf, "segment %s: commits end at %lld, the index says %lld",
			path.data, (long long)sc.end, (long long)s->committed_end);
	if (fstat(fd, &st) == 0 && st.st_size > sc.end && !vf->live) {
		/* Past the last commit: fine while the writer lives. */
		problem(vf, "segment %s: %lld %sbytes after the last commit at "
			"offset %lld (run 'labtape reindex' to cut them)",
			path.data, (long long)(st.st_size - sc.end),
			sc.tail_damage ? "damaged " : "", (long long)sc.end);
	}
out:
	for (size_t i = 0; i < vf->nblocks; i++)
		free(vf->blocks[i].kinds);
	if (fd >= 0)
		close(fd);
	buf_release(&path);
	return r;
}

struct orphans {
	struct verify *vf;
	sqlite3_stmt *st;
};

static int orphan_file(void *ctx, const char *dayname, const char *name,
		       const char *path)
{
	struct orphans *o = ctx;
	uint8_t id[VAULT_ID_LEN];
	struct stat st;
	int known;

	(void)dayname;
	if (has_suffix(name, ".seg.tmp"))
		return 0;	/* a segment being created; see reindex */
	if (name_seg_id(name, id)) {
		problem(o->vf, "'%s' is not a segment file", path);
		return 0;
	}
	if (in_forget(o->vf, id))
		return 0;	/* being forgotten or written: see verify_segment */
	sqlite3_bind_blob(o->st, 1, id, VAULT_ID_LEN, SQLITE_STATIC);
	known = sqlite3_step(o->st) == SQLITE_ROW;
	sqlite3_reset(o->st);
	if (known)
		return 0;
	if (stat(path, &st) == 0 && st.st_size <= SEG_HEADER_LEN) {
		say(o->vf->report, o->vf->ctx, 0,
		    "segment %s holds no data and is not indexed", path);
		return 0;
	}
	{
		uint8_t hdr[SEG_HEADER_LEN];
		struct seg_header h;
		struct seg_scan sc;
		int fd = open(path, O_RDONLY | O_CLOEXEC), bad;
		bad = fd < 0 || lt_pread_all(fd, hdr, sizeof(hdr), 0, path) ||
		      seg_header_decode(hdr, &h);
		/* A writer that defers its new segments (tape.c, note 9)
		 * indexes them before their first commit frame: one that
		 * died earlier leaves a segment with nothing committed. */
		if (!bad && !seg_scan(fd, path, SEG_HEADER_LEN, 0, 0, NULL, NULL,
				      NULL, NULL, &sc) &&
		    sc.end == SEG_HEADER_LEN) {
			close(fd);
			say(o->vf->report, o->vf->ctx, 0,
			    "segment %s holds nothing committed and is not "
			    "indexed ('labtape reindex' clears it)", path);
			return 0;
		}
		if (fd >= 0)
			close(fd);
		if (bad)
			problem(o->vf, "segment %s is not in the index, and its "
				"header is damaged (%s): its blocks cannot be "
				"reached", path, lt_errmsg());
		else
			problem(o->vf, "segment %s is not in the index (run "
				"'labtape reindex')", path);
	}
	return 0;
}

int vault_verify(struct vault *v, vault_report_fn *report, void *ctx,
		 struct vault_verify_stats *stp)
{
	struct vault_verify_stats local;
	struct verify vf = { 0 };
	struct idx_segment *segs = NULL;
	struct orphans o;
	size_t n = 0, alloc = 0;
	sqlite3_stmt *st;
	int r;

	if (!stp)
		stp = &local;
	memset(stp, 0, sizeof(*stp));
	buf_init(&vf.plain, 0);
	buf_init(&vf.scratch, 0);
	vf.v = v;
	vf.report = report;
	vf.ctx = ctx;
	vf.st = stp;
	vf.dctx = ZSTD_createDCtx();
	if (forget_live_segments(v, &vf.forget_ids, &vf.nforget))
		say(report, ctx, 0, "a 'labtape forget' is running: the segments "
		    "it works on are not checked (verify again once it is done)");

	if ((r = idx_prepare(v, "PRAGMA quick_check", &st)))
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(st, 0);
		if (m && strcmp(m, "ok") != 0)
			problem(&vf, "index database: %s", m);
	}
	sqlite3_finalize(st);
	if ((r = idx_prepare(v, "SELECT id, seg_id, key_id, day, committed_end,"
			     " next_frame, sealed FROM segments ORDER BY day, seg_id",
			     &st)))
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct idx_segment *s;
		if (sqlite3_column_bytes(st, 1) != VAULT_ID_LEN ||
		    sqlite3_column_bytes(st, 2) != VAULT_ID_LEN) {
			problem(&vf, "the index has a malformed segment row %lld",
				(long long)sqlite3_column_int64(st, 0));
			continue;
		}
		XGROW(segs, n + 1, alloc);
		s = &segs[n++];
		s->rowid = sqlite3_column_int64(st, 0);
		memcpy(s->seg_id, sqlite3_column_blob(st, 1), VAULT_ID_LEN);
		memcpy(s->key_id, sqlite3_column_blob(st, 2), VAULT_ID_LEN);
		s->day = sqlite3_column_int(st, 3);
		s->committed_end = sqlite3_column_int64(st, 4);
		s->next_frame = (uint64_t)sqlite3_column_int64(st, 5);
		s->sealed = sqlite3_column_int(st, 6);
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < n && !r; i++)
		r = verify_segment(&vf, &segs[i]);
	if (r)
		goto out;

	/* Segment files the index does not know. */
	if ((r = idx_prepare(v, "SELECT 1 FROM segments WHERE seg_id = ?", &o.st)))
		goto out;
	o.vf = &vf;
	r = walk_segments(v, orphan_file, &o);
	sqlite3_finalize(o.st);
	if (!r && stp->problems)
		r = lt_error(LT_ECORRUPT, "%llu problems found",
			     (unsigned long long)stp->problems);
out:
	free(vf.blocks);
	free(vf.forget_ids);
	free(segs);
	buf_release(&vf.plain);
	buf_release(&vf.scratch);
	ZSTD_freeDCtx(vf.dctx);
	return r;
}

/* ---- stats --------------------------------------------------------- */


static int srow_cmp(const void *a, const void *b)
{
	const struct vault_stat_row *x = a, *y = b;
	int c = strcmp(x->stream, y->stream);
	return c ? c : (x->day > y->day) - (x->day < y->day);
}

int vault_stats(struct vault *v, vault_stat_fn *fn, void *ctx)
{
	struct vault_stat_row *rows = NULL;
	size_t n = 0, alloc = 0, out = 0;
	sqlite3_stmt *st;
	int r;

	if ((r = idx_prepare(v,
			     "SELECT s.key_id, s.day, sum(b.records), count(*),"
			     " sum(b.length), sum(b.plain_len)"
			     " FROM blocks b JOIN segments s ON s.id = b.segment"
			     " GROUP BY s.key_id, s.day",
			     &st)))
		return r;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const uint8_t *key;
		const char *label;
		struct vault_stat_row *row;
		int32_t day = sqlite3_column_int(st, 1);
		if (sqlite3_column_bytes(st, 0) != VAULT_ID_LEN ||
		    vault_data_key(v, sqlite3_column_blob(st, 0), day, &key,
				   &label))
			label = "(unreadable)";
		XGROW(rows, n + 1, alloc);
		row = &rows[n++];
		row->stream = label;
		row->day = day;
		row->records = (uint64_t)sqlite3_column_int64(st, 2);
		row->blocks = (uint64_t)sqlite3_column_int64(st, 3);
		row->bytes = (uint64_t)sqlite3_column_int64(st, 4);
		row->plain = (uint64_t)sqlite3_column_int64(st, 5);
	}
	sqlite3_finalize(st);
	/* Several writers' keys can serve one stream and day: merge them.
	 * (An empty vault has rows == NULL, which qsort() must not see.) */
	if (n)
		qsort(rows, n, sizeof(*rows), srow_cmp);
	for (size_t i = 0; i < n; i++) {
		if (out && !srow_cmp(&rows[out - 1], &rows[i])) {
			rows[out - 1].records += rows[i].records;
			rows[out - 1].blocks += rows[i].blocks;
			rows[out - 1].bytes += rows[i].bytes;
			rows[out - 1].plain += rows[i].plain;
		} else {
			rows[out++] = rows[i];
		}
	}
	for (size_t i = 0; i < out; i++)
		fn(ctx, &rows[i]);
	free(rows);
	return 0;
}
