/*
 * Forgetting: deletion that is final.
 *
 * A segment has its own data key, sealed in its own key file, and holds
 * one stream on one day (one key domain; a domain may have several
 * segments). Deleting the key file makes the segment unreadable for good
 * (crypto-shredding), so:
 *
 *  - a segment all of whose records are selected is forgotten by deleting
 *    its key file, then its index rows, then the segment file;
 *  - a segment only part of whose records are selected is read (vault
 *    unlocked), its other records are written into a new segment under a
 *    fresh key through the ordinary writer, and then the old segment is
 *    forgotten as above.
 *
 * NOTES ON THE DESIGN (rules F1-F7 of doc/format.md, "Forgetting"):
 *
 *  1. Before anything is destroyed, a journal `forget.journal` names every
 *     segment to forget and, for each rewrite, the segment and key ids the
 *     new segment will have. It is written to a temporary name, locked,
 *     synced and linked into place, and stays locked (flock) while this
 *     forget runs: a journal that can be locked belongs to a forget that
 *     died.
 *  2. A rewrite's new segment commits once, with its seal, and the index
 *     transaction of that commit also deletes the old segment's rows, so
 *     readers see the old records or the new ones, never both or neither.
 *  3. The old key file goes next (synced out of its folder: that is the
 *     shred), then the old segment's rows if still there, then its file.
 *  4. Recovery (vault_open, forget_recover) replays an unlocked journal:
 *     a whole-segment entry is carried out; a rewrite whose new segment
 *     committed (its index row has committed_end past the header) is
 *     finished; one whose new segment did not commit is undone, by
 *     removing the new segment and its key, and the old segment stays as
 *     it was. Every step is idempotent. So after a crash each segment
 *     shows its state before or after the forget, kept records are never
 *     lost, and never shown twice.
 *  5. Segments still written by a live writer (unsealed) are left alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <xxhash.h>
#include <zstd.h>

#include "error.h"
#include "fileio.h"
#include "hex.h"
#include "ltime.h"
#include "xalloc.h"
#include "vault-int.h"
#include "banned.h"

#define JOURNAL_MAGIC "labtape-forget 1\n"
#define JOURNAL_MAX (64u << 20)

/* One journal line: a segment to shred, or one to replace by a rewrite. */
struct jentry {
	int replace;
	int32_t day;
	uint8_t seg[VAULT_ID_LEN], key[VAULT_ID_LEN];
	uint8_t nseg[VAULT_ID_LEN], nkey[VAULT_ID_LEN];	/* replace only */
};

/* ---- fault injection ---------------------------------------------- */

/*
 * LABTAPE_FAULT_FORGET_STEP=N: the process kills itself (SIGKILL, as a
 * power cut or kill -9 would end it) right after the Nth durable step of
 * a forget, so that tests can crash it at every point.
 */
static long fault_steps = -2;

static void step_done(void)
{
	if (fault_steps == -2) {
		const char *s = getenv("LABTAPE_FAULT_FORGET_STEP");
		fault_steps = s && *s ? strtol(s, NULL, 10) : -1;
	}
	if (fault_steps < 0)
		return;
	if (--fault_steps == 0)
		raise(SIGKILL);
}

/* ---- selection ----------------------------------------------------- */

enum cover { COVER_NONE, COVER_ALL, COVER_SOME };

/*
 * How much of a block a selection covers, from what the index knows:
 * nkinds kinds, has_kind whether the selection's kind is among them.
 * COVER_SOME means the block must be decrypted to know.
 */
int forget_block_cover(const struct vault_forget_spec *s, int64_t t_min,
		       int64_t t_max, unsigned nkinds, int has_kind)
{
	if (t_max < s->from || t_min >= s->until)
		return COVER_NONE;
	if (s->kind && !has_kind)
		return COVER_NONE;
	if (t_min >= s->from && t_max < s->until && (!s->kind || nkinds == 1))
		return COVER_ALL;
	return COVER_SOME;
}

static int rec_selected(const struct vault_forget_spec *s, int64_t t,
			const char *kind, size_t klen)
{
	return t >= s->from && t < s->until &&
	       (!s->kind || (strlen(s->kind) == klen &&
			     !memcmp(s->kind, kind, klen)));
}

/* ---- reading a segment's blocks ----------------------------------- */

struct bref {
	uint64_t frame_no;
	int64_t offset, length, t_min, t_max, nrec;
	unsigned nkinds;
	int has_kind;
};

/* The index rows of a segment's blocks, in frame order. */
static int load_blocks(struct vault *v, int64_t rowid, const char *kind,
		       struct bref **out, size_t *n)
{
	sqlite3_stmt *st;
	size_t alloc = 0;
	int r, rc;

	*out = NULL;
	*n = 0;
	if ((r = idx_prepare(v,
			     "SELECT b.frame, b.offset, b.length, b.t_min, b.t_max,"
			     " b.records,"
			     " (SELECT count(*) FROM block_kinds bk"
			     "  WHERE bk.block = b.id),"
			     " (SELECT count(*) FROM block_kinds bk JOIN kinds k"
			     "  ON k.id = bk.kind WHERE bk.block = b.id"
			     "  AND k.name = ?2)"
			     " FROM blocks b WHERE b.segment = ?1 ORDER BY b.frame",
			     &st)))
		return r;
	sqlite3_bind_int64(st, 1, rowid);
	if (kind)
		sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct bref *b;
		XGROW(*out, *n + 1, alloc);
		b = &(*out)[(*n)++];
		b->frame_no = (uint64_t)sqlite3_column_int64(st, 0);
		b->offset = sqlite3_column_int64(st, 1);
		b->length = sqlite3_column_int64(st, 2);
		b->t_min = sqlite3_column_int64(st, 3);
		b->t_max = sqlite3_column_int64(st, 4);
		b->nrec = sqlite3_column_int64(st, 5);
		b->nkinds = (unsigned)sqlite3_column_int(st, 6);
		b->has_kind = sqlite3_column_int(st, 7) > 0;
	}
	if (rc != SQLITE_DONE)
		r = idx_error(v, "read");
	sqlite3_finalize(st);
	return r;
}

struct reader {
	struct vault *v;
	const uint8_t *seg_id, *key;
	const char *path;
	int fd;
	struct buf frame, plain, scratch;
	ZSTD_DCtx *dctx;
};

typedef int rec_fn(void *ctx, int64_t t, const char *kind, size_t klen,
		   const uint8_t *payload, size_t len);

/* Reads, checks and decrypts one block, calling fn for each record in
 * stored order. */
static int read_block(struct reader *rd, const struct bref *b, rec_fn *fn,
		      void *ctx)
{
	struct frame_header h;
	struct rec_cursor c;
	struct rec rec;
	size_t need;
	uint32_t n = 0;
	int r;

	if (b->length <= 0 ||
	    b->length > (int64_t)FRAME_MAX_CT + FRAME_MAX_HEADER + 64)
		return lt_error(LT_ECORRUPT, "segment %s: bad block length in "
				"the index", rd->path);
	buf_reset(&rd->frame);
	buf_grow(&rd->frame, (size_t)b->length);
	if ((r = lt_pread_all(rd->fd, rd->frame.data, (size_t)b->length,
			      b->offset, rd->path)))
		return r;
	buf_setlen(&rd->frame, (size_t)b->length);
	r = frame_parse_header((const uint8_t *)rd->frame.data, rd->frame.len,
			       &h, &need);
	if (!r && (h.type != FRAME_DATA || frame_len(&h) != (uint64_t)b->length ||
		   h.frame_no != b->frame_no))
		r = lt_error(LT_ECORRUPT, "block does not match the index");
	if (!r)
		r = frame_check_trailer((const uint8_t *)rd->frame.data, &h);
	if (!r)
		r = frame_open((const uint8_t *)rd->frame.data, &h, rd->seg_id,
			       rd->key, &rd->plain, rd->dctx, &rd->scratch);
	if (r)
		goto out;
	c.p = (const uint8_t *)rd->plain.data;
	c.end = c.p + rd->plain.len;
	c.prev_t = 0;
	c.nkinds = h.nkinds;
	while ((r = rec_next(&c, &rec)) == 1) {
		const char *kn;
		size_t kl;
		frame_kind(&h, rec.kind, &kn, &kl);
		n++;
		if ((r = fn(ctx, rec.t, kn, kl, rec.payload, rec.len)))
			return r;
	}
	if (!r && n != h.nrec)
		r = lt_error(LT_ECORRUPT, "block holds %u records, its header "
			     "says %u", n, h.nrec);
out:
	if (r)
		r = lt_error_wrap(r, "segment %s frame %llu at offset %lld "
				  "(run 'labtape verify')", rd->path,
				  (unsigned long long)b->frame_no,
				  (long long)b->offset);
	return r;
}

static int reader_open(struct reader *rd, struct vault *v, int32_t day,
		       const uint8_t *seg_id, const uint8_t *key,
		       struct buf *path)
{
	memset(rd, 0, sizeof(*rd));
	rd->v = v;
	rd->seg_id = seg_id;
	rd->key = key;
	buf_init(&rd->frame, 0);
	buf_init(&rd->plain, 0);
	buf_init(&rd->scratch, 0);
	vault_seg_path(v, day, seg_id, path);
	rd->path = path->data;
	rd->dctx = ZSTD_createDCtx();
	rd->fd = open(path->data, O_RDONLY | O_CLOEXEC);
	if (!rd->dctx)
		return lt_error(LT_EIO, "cannot create a zstd context");
	if (rd->fd < 0)
		return lt_error_errno(LT_EIO, "cannot open segment '%s'",
				      path->data);
	return 0;
}

static void reader_close(struct reader *rd)
{
	if (rd->fd >= 0)
		close(rd->fd);
	ZSTD_freeDCtx(rd->dctx);
	buf_release(&rd->frame);
	buf_release(&rd->plain);
	buf_release(&rd->scratch);
}

/* ---- the plan ------------------------------------------------------ */

struct counter {
	const struct vault_forget_spec *spec;
	uint64_t selected;
};

static int count_rec(void *ctx, int64_t t, const char *kind, size_t klen,
		     const uint8_t *payload, size_t len)
{
	struct counter *c = ctx;

	(void)payload;
	(void)len;
	c->selected += (uint64_t)rec_selected(c->spec, t, kind, klen);
	return 0;
}

static int day_clamp(int64_t t)
{
	int64_t d = t / 86400000000000LL;

	if (t % 86400000000000LL < 0)
		d--;
	if (d < INT32_MIN)
		return INT32_MIN;
	if (d > INT32_MAX)
		return INT32_MAX;
	return (int)d;
}

/* Plans one segment: adds it to p if the selection matches any of its
 * records. */
static int plan_segment(struct vault *v, struct vault_forget_plan *p,
			size_t *alloc, int64_t rowid, const uint8_t *seg_id,
			const uint8_t *key_id, int32_t day, int sealed)
{
	const struct vault_forget_spec *s = &p->spec;
	struct vault_forget_seg *fs;
	struct bref *blocks = NULL;
	struct counter cnt = { s, 0 };
	struct reader rd = { .fd = -1 };
	struct buf path = BUF_INIT;
	const uint8_t *key = NULL;
	const char *label = NULL;
	uint64_t records = 0;
	size_t nb = 0;
	int r, keyless = 0, opened = 0;

	r = vault_data_key(v, key_id, day, &key, &label);
	if (r == LT_ENOKEY) {
		/* Shredded already: the stream cannot be known, and nothing
		 * in it can be read. Removed only when no stream is named. */
		if (s->stream)
			return 0;
		keyless = 1;
		r = 0;
	}
	if (r)
		return r;
	if (!keyless && s->stream && strcmp(s->stream, label) != 0)
		return 0;
	if ((r = load_blocks(v, rowid, s->kind, &blocks, &nb)))
		goto out;
	for (size_t i = 0; i < nb && !r; i++) {
		int c = forget_block_cover(s, blocks[i].t_min, blocks[i].t_max,
					   blocks[i].nkinds, blocks[i].has_kind);
		records += (uint64_t)blocks[i].nrec;
		if (c == COVER_ALL || (c == COVER_SOME && keyless)) {
			cnt.selected += (uint64_t)blocks[i].nrec;
		} else if (c == COVER_SOME) {
			if (!opened) {
				opened = 1;
				if ((r = reader_open(&rd, v, day, seg_id, key,
						     &path)))
					break;
			}
			r = read_block(&rd, &blocks[i], count_rec, &cnt);
		}
	}
	if (r || !cnt.selected)
		goto out;
	XGROW(p->segs, p->n + 1, *alloc);
	fs = &p->segs[p->n++];
	memset(fs, 0, sizeof(*fs));
	memcpy(fs->seg_id, seg_id, VAULT_ID_LEN);
	memcpy(fs->key_id, key_id, VAULT_ID_LEN);
	fs->day = day;
	fs->stream = label ? xstrdup(label) : NULL;
	fs->blocks = nb;
	fs->records = records;
	fs->selected = keyless ? records : cnt.selected;
	if (!sealed)
		fs->how = VAULT_FORGET_LIVE;
	else if (keyless)
		fs->how = VAULT_FORGET_UNREADABLE;
	else if (cnt.selected == records)
		fs->how = VAULT_FORGET_WHOLE;
	else
		fs->how = VAULT_FORGET_PART;
	if (fs->how != VAULT_FORGET_LIVE) {
		p->forget += fs->selected;
		p->keep += fs->records - fs->selected;
	}
out:
	reader_close(&rd);
	buf_release(&path);
	free(blocks);
	return r;
}

void vault_forget_plan_release(struct vault_forget_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->segs[i].stream);
	free(p->segs);
	free((char *)p->spec.stream);
	free((char *)p->spec.kind);
	memset(p, 0, sizeof(*p));
}

int vault_forget_plan(struct vault *v, const struct vault_forget_spec *spec,
		      struct vault_forget_plan *p)
{
	struct segrow {
		int64_t rowid;
		uint8_t seg[VAULT_ID_LEN], key[VAULT_ID_LEN];
		int32_t day;
		int sealed;
	} *rows = NULL;
	size_t n = 0, alloc = 0, palloc = 0;
	sqlite3_stmt *st;
	int r, rc;

	memset(p, 0, sizeof(*p));
	p->spec = *spec;
	p->spec.stream = spec->stream ? xstrdup(spec->stream) : NULL;
	p->spec.kind = spec->kind ? xstrdup(spec->kind) : NULL;
	if (!vault_is_unlocked(v))
		return lt_error(LT_EINVAL, "the vault must be unlocked to forget");
	if (spec->from >= spec->until)
		return 0;
	if ((r = idx_prepare(v, "SELECT id, seg_id, key_id, day, sealed"
			     " FROM segments WHERE day >= ? AND day <= ?"
			     " ORDER BY day, seg_id", &st)))
		return r;
	sqlite3_bind_int(st, 1, day_clamp(spec->from));
	sqlite3_bind_int(st, 2, day_clamp(spec->until == INT64_MIN ?
					  INT64_MIN : spec->until - 1));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 1) != VAULT_ID_LEN ||
		    sqlite3_column_bytes(st, 2) != VAULT_ID_LEN)
			continue;
		XGROW(rows, n + 1, alloc);
		rows[n].rowid = sqlite3_column_int64(st, 0);
		memcpy(rows[n].seg, sqlite3_column_blob(st, 1), VAULT_ID_LEN);
		memcpy(rows[n].key, sqlite3_column_blob(st, 2), VAULT_ID_LEN);
		rows[n].day = sqlite3_column_int(st, 3);
		rows[n].sealed = sqlite3_column_int(st, 4);
		n++;
	}
	if (rc != SQLITE_DONE)
		r = idx_error(v, "read");
	sqlite3_finalize(st);
	for (size_t i = 0; i < n && !r; i++)
		r = plan_segment(v, p, &palloc, rows[i].rowid, rows[i].seg,
				 rows[i].key, rows[i].day, rows[i].sealed);
	free(rows);
	return r;
}

/* ---- the journal --------------------------------------------------- */

static void journal_path(const struct vault *v, struct buf *out)
{
	buf_reset(out);
	buf_addf(out, "%s/" FORGET_JOURNAL, v->dir);
}

static void put_id(struct buf *b, const uint8_t *id)
{
	char hex[2 * VAULT_ID_LEN + 1];

	lt_hex(id, VAULT_ID_LEN, hex);
	buf_addf(b, " %s", hex);
}

/*
 * The journal is text:
 *   labtape-forget 1
 *   shred YYYY-MM-DD <segment id> <key id>
 *   replace YYYY-MM-DD <segment id> <key id> <new segment id> <new key id>
 *   check <XXH3-64 of every byte before this line, 16 hex digits>
 */
static void journal_encode(const struct jentry *e, size_t n, struct buf *out)
{
	char day[16];

	buf_reset(out);
	buf_addstr(out, JOURNAL_MAGIC);
	for (size_t i = 0; i < n; i++) {
		lt_day_format(e[i].day, day);
		buf_addf(out, "%s %s", e[i].replace ? "replace" : "shred", day);
		put_id(out, e[i].seg);
		put_id(out, e[i].key);
		if (e[i].replace) {
			put_id(out, e[i].nseg);
			put_id(out, e[i].nkey);
		}
		buf_addch(out, '\n');
	}
	buf_addf(out, "check %016llx\n",
		 (unsigned long long)XXH3_64bits(out->data, out->len));
}

static int parse_id(const char **p, uint8_t *id)
{
	char hex[2 * VAULT_ID_LEN + 1];

	if (**p != ' ')
		return -1;
	memcpy(hex, *p + 1, 2 * VAULT_ID_LEN);
	hex[2 * VAULT_ID_LEN] = '\0';
	if (strlen(hex) != 2 * VAULT_ID_LEN || lt_unhex(hex, id, VAULT_ID_LEN))
		return -1;
	*p += 1 + 2 * VAULT_ID_LEN;
	return 0;
}

static int parse_day(const char **p, int32_t *day)
{
	char d[11], again[16];
	int64_t t;

	if (**p != ' ')
		return -1;
	memcpy(d, *p + 1, 10);
	d[10] = '\0';
	if (strlen(d) != 10 || lt_time_parse(d, &t))
		return -1;
	*day = (int32_t)lt_day_of(t);
	lt_day_format(*day, again);
	if (strcmp(again, d) != 0)
		return -1;
	*p += 11;
	return 0;
}

static int journal_parse(const char *path, const struct buf *b,
			 struct jentry **out, size_t *n)
{
	const char *p = b->data, *end = b->data + b->len, *check;
	size_t alloc = 0, mlen = strlen(JOURNAL_MAGIC);
	unsigned long long sum;
	char *e;

	*out = NULL;
	*n = 0;
	if (b->len < mlen || memcmp(p, JOURNAL_MAGIC, mlen) != 0)
		goto bad;
	/* The check line: the last one. */
	if (b->len < mlen + 23 || end[-1] != '\n')
		goto bad;
	check = end - 23;
	if (memcmp(check, "check ", 6) != 0 || check[-1] != '\n')
		goto bad;
	sum = strtoull(check + 6, &e, 16);
	if (e != end - 1 || sum != (unsigned long long)XXH3_64bits(p, (size_t)(check - p)))
		goto bad;
	for (p += mlen; p < check;) {
		struct jentry je = { 0 };
		if (!strncmp(p, "shred", 5)) {
			p += 5;
		} else if (!strncmp(p, "replace", 7)) {
			p += 7;
			je.replace = 1;
		} else {
			goto bad;
		}
		if (parse_day(&p, &je.day) || parse_id(&p, je.seg) ||
		    parse_id(&p, je.key) ||
		    (je.replace && (parse_id(&p, je.nseg) || parse_id(&p, je.nkey))) ||
		    *p++ != '\n')
			goto bad;
		XGROW(*out, *n + 1, alloc);
		(*out)[(*n)++] = je;
	}
	return 0;
bad:
	free(*out);
	*out = NULL;
	*n = 0;
	return lt_error(LT_ECORRUPT,
			"the forget journal '%s' is damaged (a forget was "
			"interrupted; move the file away to open the vault, "
			"then run 'labtape verify')", path);
}

/* Creates the journal, durably, and keeps it locked: returns its fd. */
static int journal_create(struct vault *v, const struct jentry *e, size_t n,
			  int *fdp)
{
	struct buf path = BUF_INIT, tmp = BUF_INIT, text = BUF_INIT;
	int fd, r = 0;

	journal_path(v, &path);
	buf_addf(&tmp, "%s.tmp.%d", path.data, (int)getpid());
	journal_encode(e, n, &text);
	unlink(tmp.data);
	fd = open(tmp.data, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = lt_error_errno(LT_EIO, "cannot create '%s'", tmp.data);
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		r = lt_error_errno(LT_EIO, "cannot lock '%s'", tmp.data);
	if (!r && !(r = lt_write_all(fd, text.data, text.len, tmp.data)) &&
	    !(r = lt_fsync(fd, tmp.data)) && link(tmp.data, path.data) < 0) {
		if (errno == EEXIST)
			r = lt_error(LT_EBUSY, "another 'labtape forget' is "
				     "running on '%s' (wait for it to finish)",
				     v->dir);
		else
			r = lt_error_errno(LT_EIO, "cannot create '%s'", path.data);
	}
	unlink(tmp.data);
	if (!r)
		r = lt_fsync_dir(v->dir);
	if (r) {
		close(fd);
		fd = -1;
	}
	*fdp = fd;
out:
	buf_release(&path);
	buf_release(&tmp);
	buf_release(&text);
	return r;
}

static int journal_remove(struct vault *v)
{
	struct buf path = BUF_INIT;
	int r = 0;

	journal_path(v, &path);
	if (unlink(path.data) < 0 && errno != ENOENT)
		r = lt_error_errno(LT_EIO, "cannot remove '%s'", path.data);
	if (!r)
		r = lt_fsync_dir(v->dir);
	buf_release(&path);
	return r;
}

/* ---- the steps (each idempotent) ---------------------------------- */

/* Unlinks path if it exists, then syncs its folder. */
static int unlink_durably(const char *path)
{
	struct buf dir = BUF_INIT;
	int r = 0;

	if (unlink(path) < 0 && errno != ENOENT)
		return lt_error_errno(LT_EIO, "cannot remove '%s'", path);
	lt_dirname(path, &dir);
	if (access(dir.data, F_OK) == 0)
		r = lt_fsync_dir(dir.data);
	buf_release(&dir);
	return r;
}

/*
 * Removes the day folder of path if it is empty (rmdir fails otherwise,
 * which is fine), and syncs its parent. Best effort: a writer that
 * creates a segment for that very day at that moment fails and reports
 * it, without harm to the vault.
 */
static void rmdir_day(const char *path)
{
	struct buf dir = BUF_INIT, top = BUF_INIT;

	lt_dirname(path, &dir);
	if (rmdir(dir.data) == 0) {
		lt_dirname(dir.data, &top);
		lt_fsync_dir(top.data);
	}
	buf_release(&dir);
	buf_release(&top);
}

/* Deletes a segment's index rows (inside the caller's transaction). */
static int idx_drop_segment(struct vault *v, const uint8_t *seg_id)
{
	static const char *const sql[] = {
		"DELETE FROM block_kinds WHERE block IN (SELECT b.id FROM blocks b"
		" JOIN segments s ON s.id = b.segment WHERE s.seg_id = ?)",
		"DELETE FROM blocks WHERE segment IN"
		" (SELECT id FROM segments WHERE seg_id = ?)",
		"DELETE FROM segments WHERE seg_id = ?",
		/* A kind no block has any more would still say such records
		 * existed. (Its statement cache is in v: reset it.) */
		"DELETE FROM kinds WHERE id NOT IN (SELECT kind FROM block_kinds)",
	};
	int r = 0;

	for (size_t i = 0; i < sizeof(sql) / sizeof(*sql) && !r; i++) {
		sqlite3_stmt *st;
		if ((r = idx_prepare(v, sql[i], &st)))
			break;
		if (i < 3)
			sqlite3_bind_blob(st, 1, seg_id, VAULT_ID_LEN, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = idx_error(v, "update");
		sqlite3_finalize(st);
	}
	return r;
}

static int idx_drop_segment_txn(struct vault *v, const uint8_t *seg_id)
{
	int r;

	if ((r = idx_begin(v)))
		return r;
	if ((r = idx_drop_segment(v, seg_id)) || (r = idx_commit(v)))
		idx_rollback(v);
	return r;
}

/* Rule 3: the key file (the shred), the index rows, the segment file. */
static int shred(struct vault *v, int32_t day, const uint8_t *seg,
		 const uint8_t *key)
{
	struct buf p = BUF_INIT;
	int r;

	vault_key_path(v, day, key, &p);
	if ((r = unlink_durably(p.data)))
		goto out;
	step_done();
	if ((r = idx_drop_segment_txn(v, seg)))
		goto out;
	step_done();
	vault_seg_path(v, day, seg, &p);
	if ((r = unlink_durably(p.data)))
		goto out;
	step_done();
	/* An empty day folder would still say that something was recorded
	 * that day. */
	rmdir_day(p.data);
	vault_key_path(v, day, key, &p);
	rmdir_day(p.data);
out:
	buf_release(&p);
	return r;
}

/* Undoes a rewrite that did not commit: its new segment and key go. */
static int drop_new(struct vault *v, const struct jentry *e)
{
	struct buf p = BUF_INIT;
	int r;

	if ((r = idx_drop_segment_txn(v, e->nseg)))
		goto out;
	vault_seg_path(v, e->day, e->nseg, &p);
	if ((r = unlink_durably(p.data)))
		goto out;
	buf_addstr(&p, ".tmp");
	if ((r = unlink_durably(p.data)))
		goto out;
	vault_key_path(v, e->day, e->nkey, &p);
	r = unlink_durably(p.data);
out:
	buf_release(&p);
	return r;
}

/* Whether the new segment of a rewrite committed (rule 4). */
static int new_committed(struct vault *v, const uint8_t *nseg, int *yes)
{
	sqlite3_stmt *st;
	int r;

	*yes = 0;
	if ((r = idx_prepare(v, "SELECT committed_end FROM segments"
			     " WHERE seg_id = ?", &st)))
		return r;
	sqlite3_bind_blob(st, 1, nseg, VAULT_ID_LEN, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*yes = sqlite3_column_int64(st, 0) > SEG_HEADER_LEN;
	sqlite3_finalize(st);
	return 0;
}

/* Brings every entry to its final state: done, or (an uncommitted
 * rewrite) undone. *undone counts the latter. */
static int journal_apply(struct vault *v, const struct jentry *e, size_t n,
			 size_t *undone)
{
	int r = 0;

	*undone = 0;
	for (size_t i = 0; i < n && !r; i++) {
		int yes = 1;
		if (e[i].replace && (r = new_committed(v, e[i].nseg, &yes)))
			break;
		if (yes) {
			r = shred(v, e[i].day, e[i].seg, e[i].key);
		} else {
			r = drop_new(v, &e[i]);
			(*undone)++;
		}
	}
	return r;
}

/*
 * Truncates the WAL, so that old versions of the index's pages (which
 * secure_delete zeroes only in the new versions) do not outlive the
 * forget there. Best effort: a reader holding the WAL open can delay it
 * until the next checkpoint.
 */
static void checkpoint(struct vault *v)
{
	sqlite3_exec(v->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
}

static int read_journal(struct vault *v, int fd, const char *path,
			struct jentry **e, size_t *n)
{
	struct buf text = BUF_INIT;
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0)
		return lt_error_errno(LT_EIO, "cannot stat '%s'", path);
	if ((uint64_t)st.st_size > JOURNAL_MAX)
		return lt_error(LT_ECORRUPT, "the forget journal '%s' is too big",
				path);
	buf_grow(&text, (size_t)st.st_size);
	r = lt_pread_all(fd, text.data, (size_t)st.st_size, 0, path);
	if (!r) {
		buf_setlen(&text, (size_t)st.st_size);
		r = journal_parse(path, &text, e, n);
	}
	(void)v;
	buf_release(&text);
	return r;
}

int forget_recover(struct vault *v)
{
	struct buf path = BUF_INIT;
	struct jentry *e = NULL;
	size_t n = 0, undone;
	int fd, r = 0;

	journal_path(v, &path);
	fd = open(path.data, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			r = lt_error_errno(LT_EIO, "cannot open '%s'", path.data);
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		goto out;	/* the forget is still running */
	if ((r = read_journal(v, fd, path.data, &e, &n)) ||
	    (r = journal_apply(v, e, n, &undone)) || (r = journal_remove(v)))
		goto out;
	checkpoint(v);
out:
	if (fd >= 0)
		close(fd);
	free(e);
	buf_release(&path);
	return r;
}

int forget_live_segments(struct vault *v, uint8_t **ids, size_t *nids)
{
	struct buf path = BUF_INIT;
	struct jentry *e = NULL;
	size_t n = 0;
	int fd, live = 0;

	*ids = NULL;
	*nids = 0;
	journal_path(v, &path);
	fd = open(path.data, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0 &&
	    read_journal(v, fd, path.data, &e, &n) == 0) {
		live = 1;
		*ids = xmalloc((2 * n + 1) * VAULT_ID_LEN);
		for (size_t i = 0; i < n; i++) {
			memcpy(*ids + (*nids)++ * VAULT_ID_LEN, e[i].seg,
			       VAULT_ID_LEN);
			if (e[i].replace)
				memcpy(*ids + (*nids)++ * VAULT_ID_LEN, e[i].nseg,
				       VAULT_ID_LEN);
		}
	}
	if (fd >= 0)
		close(fd);
	free(e);
	buf_release(&path);
	return live;
}

/* ---- carrying out a plan ------------------------------------------ */

struct rewrite {
	const struct vault_forget_spec *spec;
	struct tape *t;
	const char *stream;
	struct buf kind;
	uint64_t kept, forgot;
};

static int keep_rec(void *ctx, int64_t t, const char *kind, size_t klen,
		    const uint8_t *payload, size_t len)
{
	struct rewrite *rw = ctx;

	if (rec_selected(rw->spec, t, kind, klen)) {
		rw->forgot++;
		return 0;
	}
	buf_reset(&rw->kind);
	buf_add(&rw->kind, kind, klen);
	rw->kept++;
	return tape_append(rw->t, rw->stream, t, rw->kind.data, payload, len);
}

struct drop_old {
	struct vault *v;
	const uint8_t *seg;
};

/* Rule 2: in the new segment's commit transaction. */
static int drop_old_rows(void *ctx)
{
	struct drop_old *d = ctx;
	return idx_drop_segment(d->v, d->seg);
}

/* Writes the records of fs that the selection does not match into a new
 * segment with e's new ids, committing it (and dropping the old rows) in
 * one go. */
static int rewrite(struct vault *v, const struct vault_forget_spec *spec,
		   const struct vault_forget_seg *fs, const struct jentry *e,
		   uint64_t *kept, uint64_t *forgot)
{
	struct rewrite rw = { spec, NULL, fs->stream, BUF_INIT, 0, 0 };
	struct drop_old d = { v, fs->seg_id };
	struct reader rd = { .fd = -1 };
	struct buf path = BUF_INIT;
	struct bref *blocks = NULL;
	const uint8_t *key;
	const char *label;
	size_t nb = 0;
	int64_t rowid = 0;
	int r;

	if ((r = vault_data_key(v, fs->key_id, fs->day, &key, &label)))
		return r;
	{
		sqlite3_stmt *st;
		if ((r = idx_prepare(v, "SELECT id FROM segments WHERE seg_id = ?",
				     &st)))
			return r;
		sqlite3_bind_blob(st, 1, fs->seg_id, VAULT_ID_LEN, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			rowid = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (!rowid)
			return lt_error(LT_ENOENT, "a segment to rewrite is no "
					"longer in the index (another forget?)");
	}
	if ((r = load_blocks(v, rowid, NULL, &blocks, &nb)) ||
	    (r = reader_open(&rd, v, fs->day, fs->seg_id, key, &path)) ||
	    (r = tape_open(&rw.t, v, NULL)))
		goto out;
	tape_set_commit_hook(rw.t, drop_old_rows, &d);
	r = tape_start_segment(rw.t, fs->stream, fs->day, e->nseg, e->nkey);
	for (size_t i = 0; i < nb && !r; i++)
		r = read_block(&rd, &blocks[i], keep_rec, &rw);
	if (!r && rw.kept + rw.forgot != fs->records)
		r = lt_error(LT_ECORRUPT, "segment %s holds %llu records, the "
			     "index says %llu", path.data,
			     (unsigned long long)(rw.kept + rw.forgot),
			     (unsigned long long)fs->records);
	if (r) {
		tape_abort(rw.t);
	} else {
		r = tape_close(rw.t);
		if (!r)
			step_done();
	}
	*kept = rw.kept;
	*forgot = rw.forgot;
out:
	reader_close(&rd);
	buf_release(&path);
	buf_release(&rw.kind);
	free(blocks);
	return r;
}

static void tell(vault_report_fn *report, void *ctx, int problem,
		 const struct vault_forget_seg *fs, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void tell(vault_report_fn *report, void *ctx, int problem,
		 const struct vault_forget_seg *fs, const char *fmt, ...)
{
	struct buf m = BUF_INIT;
	char day[16], hex[2 * VAULT_ID_LEN + 1];
	va_list ap;

	if (!report)
		return;
	lt_day_format(fs->day, day);
	lt_hex(fs->seg_id, VAULT_ID_LEN, hex);
	buf_addf(&m, "segment %s (%s, %s): ", hex,
		 fs->stream ? fs->stream : "unknown stream", day);
	va_start(ap, fmt);
	buf_vaddf(&m, fmt, ap);
	va_end(ap);
	report(ctx, problem, m.data);
	buf_release(&m);
}

int vault_forget(struct vault *v, const struct vault_forget_plan *p,
		 vault_report_fn *report, void *ctx,
		 struct vault_forget_stats *stp)
{
	struct vault_forget_stats local;
	struct jentry *e = xcalloc(p->n ? p->n : 1, sizeof(*e));
	const struct vault_forget_seg **segs = xcalloc(p->n ? p->n : 1,
						       sizeof(*segs));
	size_t n = 0, done = 0, undone = 0;
	int r = 0, r2, fd = -1;

	if (!stp)
		stp = &local;
	memset(stp, 0, sizeof(*stp));
	for (size_t i = 0; i < p->n; i++) {
		const struct vault_forget_seg *fs = &p->segs[i];
		if (fs->how == VAULT_FORGET_LIVE) {
			stp->skipped++;
			tell(report, ctx, 1, fs, "left alone: it is being written "
			     "by a running recorder or writer (run 'labtape "
			     "stop' and forget again)");
			continue;
		}
		e[n].replace = fs->how == VAULT_FORGET_PART;
		e[n].day = fs->day;
		memcpy(e[n].seg, fs->seg_id, VAULT_ID_LEN);
		memcpy(e[n].key, fs->key_id, VAULT_ID_LEN);
		if (e[n].replace) {
			randombytes_buf(e[n].nseg, VAULT_ID_LEN);
			randombytes_buf(e[n].nkey, VAULT_ID_LEN);
		}
		segs[n++] = fs;
	}
	if (!n)
		goto out;
	if ((r = journal_create(v, e, n, &fd)))
		goto out;
	step_done();
	for (done = 0; done < n && !r; done++) {
		size_t i = done;
		const struct vault_forget_seg *fs = segs[i];
		uint64_t kept = 0, forgot = fs->selected;
		if (e[i].replace &&
		    (r = rewrite(v, &p->spec, fs, &e[i], &kept, &forgot)))
			break;
		if ((r = shred(v, e[i].day, e[i].seg, e[i].key)))
			break;
		stp->forgotten += forgot;
		stp->kept += kept;
		if (e[i].replace) {
			stp->rewritten++;
			tell(report, ctx, 0, fs, "forgot %llu events, kept %llu "
			     "under a new key", (unsigned long long)forgot,
			     (unsigned long long)kept);
		} else {
			stp->shredded++;
			tell(report, ctx, 0, fs, "forgot %llu events: key "
			     "destroyed, segment removed",
			     (unsigned long long)forgot);
		}
	}
	/* After a failure, the entries begun end done or undone (rule 4)
	 * before the journal goes, and the others are left as they were; if
	 * that fails too, the next vault_open finishes the journal. */
	r2 = 0;
	if (r)	/* the loop broke at entry done, which had begun */
		r2 = journal_apply(v, e, done + 1, &undone);
	if (!r2 && (r2 = journal_remove(v)) == 0) {
		step_done();
		checkpoint(v);
	}
	if (!r)
		r = r2;
out:
	if (fd >= 0)
		close(fd);
	free(e);
	free(segs);
	return r;
}
