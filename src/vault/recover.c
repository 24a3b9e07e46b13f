/*
 * Scanning segments and recovering from writers that died.
 *
 * A writer that dies (kill -9, power cut) leaves its segment unsealed,
 * perhaps with committed frames the index does not know yet (it died
 * between the sync and the index transaction) and perhaps with a torn or
 * uncommitted tail. Recovery, run whenever a vault is opened, finds such
 * segments (unsealed in the index, and lockable, so their writer is gone),
 * cuts each back to its last commit frame, indexes what that commit
 * covered, and marks it sealed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "xalloc.h"
#include "vault-int.h"
#include "banned.h"

struct pend {
	int64_t off;
	uint64_t len;
};

/* Reads and checks the frame at off: 0, or LT_ECORRUPT for a torn or bad
 * frame (message set), or another error for a failed read. */
static int read_frame(int fd, const char *path, int64_t off, int64_t size,
		      struct buf *f, struct frame_header *h)
{
	size_t need = FRAME_FIXED;
	int r;

	buf_reset(f);
	for (;;) {
		if (off + (int64_t)need > size)
			return lt_error(LT_ECORRUPT, "torn frame at the end");
		buf_grow(f, need);
		if ((r = lt_pread_all(fd, f->data, need, off, path)))
			return r;
		buf_setlen(f, need);
		r = frame_parse_header((const uint8_t *)f->data, f->len, h, &need);
		if (r != LT_ETOOBIG)
			break;
	}
	if (r)
		return r;
	if (frame_len(h) > (uint64_t)(size - off))
		return lt_error(LT_ECORRUPT, "torn frame at the end");
	need = (size_t)frame_len(h);
	buf_grow(f, need);
	if ((r = lt_pread_all(fd, f->data, need, off, path)))
		return r;
	buf_setlen(f, need);
	h->kinds = (const uint8_t *)f->data + FRAME_FIXED;
	return frame_check_trailer((const uint8_t *)f->data, h);
}

/* Salvage: the offset of the next intact frame after off, or -1. */
static int64_t resync(int fd, const char *path, int64_t off, int64_t size,
		      struct buf *f, struct frame_header *h)
{
	uint8_t chunk[65536];

	for (int64_t pos = off + 1; pos + FRAME_FIXED <= size;) {
		ssize_t n = pread(fd, chunk, sizeof(chunk), pos);
		if (n < 4)
			return -1;
		for (ssize_t i = 0; i + 4 <= n; i++) {
			if (memcmp(chunk + i, FRAME_MAGIC, 4) != 0)
				continue;
			if (read_frame(fd, path, pos + i, size, f, h) == 0)
				return pos + i;
		}
		pos += n - 3;
	}
	return -1;
}

int seg_scan(int fd, const char *path, int64_t start, uint64_t first_frame,
	     int salvage, vault_report_fn *report, void *rctx,
	     seg_frame_fn *fn, void *ctx, struct seg_scan *out)
{
	struct frame_header h;
	struct buf f = BUF_INIT, cf = BUF_INIT, damage = BUF_INIT;
	struct pend *pend = NULL;
	size_t npend = 0, pend_alloc = 0, ndamage = 0;
	int64_t off = start, size;
	uint64_t frame_no = first_frame;
	int r = 0;
	struct stat st;

	memset(out, 0, sizeof(*out));
	out->end = start;
	out->next = first_frame;
	if (fstat(fd, &st) < 0)
		return lt_error_errno(LT_EIO, "cannot stat '%s'", path);
	size = st.st_size;

	while (off < size) {
		r = read_frame(fd, path, off, size, &f, &h);
		if (r == 0 && h.frame_no != frame_no)
			r = lt_error(LT_ECORRUPT, "frame number %llu where %llu "
				     "was expected",
				     (unsigned long long)h.frame_no,
				     (unsigned long long)frame_no);
		if (r == 0 && out->sealed)
			r = lt_error(LT_ECORRUPT, "frames after the seal");
		if (r == 0 && h.type == FRAME_COMMIT && h.nrec != npend &&
		    !ndamage)
			r = lt_error(LT_ECORRUPT, "commit frame covers %u frames, "
				     "%zu precede it", h.nrec, npend);
		if (r == LT_ECORRUPT) {
			int64_t next;
			if (!salvage) {
				out->stop = r;
				r = 0;
				break;
			}
			/* Held back until a later commit shows it was inside
			 * committed data rather than a torn tail. */
			buf_addf(&damage, "segment %s: offset %lld: %s\n", path,
				 (long long)off, lt_errmsg());
			ndamage++;
			next = resync(fd, path, off, size, &f, &h);
			if (next < 0) {
				out->stop = LT_ECORRUPT;
				r = 0;
				break;
			}
			off = next;
			frame_no = h.frame_no;
			out->sealed = 0;
			r = 0;
		}
		if (r)
			break;
		if (h.type == FRAME_DATA) {
			XGROW(pend, npend + 1, pend_alloc);
			pend[npend].off = off;
			pend[npend].len = frame_len(&h);
			npend++;
			off += (int64_t)frame_len(&h);
			frame_no = h.frame_no + 1;
			continue;
		}

		/* A commit: the frames before it are visible, and any damage
		 * since the previous commit was inside committed data. */
		if (ndamage && report) {
			for (char *line = damage.data, *nl; *line; line = nl + 1) {
				nl = strchr(line, '\n');
				*nl = '\0';
				report(rctx, 1, line);
			}
		}
		out->damaged += ndamage;
		ndamage = 0;
		buf_reset(&damage);
		buf_reset(&cf);
		buf_add(&cf, f.data, f.len);
		{
			struct frame_header ch = h;
			int64_t coff = off;
			ch.kinds = (const uint8_t *)cf.data + FRAME_FIXED;
			for (size_t i = 0; i < npend && !r; i++) {
				struct frame_header dh;
				if ((r = read_frame(fd, path, pend[i].off, size, &f,
						    &dh)) == 0 && fn)
					r = fn(ctx, pend[i].off, &dh,
					       (const uint8_t *)f.data);
			}
			if (!r && fn)
				r = fn(ctx, coff, &ch, (const uint8_t *)cf.data);
			if (r)
				break;
			npend = 0;
			off = coff + (int64_t)frame_len(&ch);
			out->end = off;
			out->next = ch.frame_no + 1;
			frame_no = out->next;
			if (ch.flags & FRAME_FLAG_SEAL)
				out->sealed = 1;
		}
	}
	out->tail_damage = ndamage > 0;
	free(pend);
	buf_release(&f);
	buf_release(&cf);
	buf_release(&damage);
	return r;
}

/* ---- the vault lock ------------------------------------------------ */

int vault_lock_exclusive(struct vault *v)
{
	if (flock(v->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return lt_error(LT_EBUSY,
					"vault '%s' is in use by another labtape "
					"process (stop the recorder and other "
					"commands, then try again)", v->dir);
		return lt_error_errno(LT_EIO, "cannot lock vault '%s'", v->dir);
	}
	return 0;
}

void vault_lock_shared(struct vault *v)
{
	flock(v->lock_fd, LOCK_SH);
}

/* ---- recovery ------------------------------------------------------ */

int blockset_collect(void *ctx, int64_t off, const struct frame_header *h,
		      const uint8_t *frame)
{
	struct blockset *c = ctx;
	struct rblock *rb;

	if (h->type != FRAME_DATA)
		return 0;
	XGROW(c->blocks, c->n + 1, c->alloc);
	rb = &c->blocks[c->n++];
	rb->b.frame_no = h->frame_no;
	rb->b.offset = off;
	rb->b.length = (uint32_t)frame_len(h);
	rb->b.t_min = h->t_min;
	rb->b.t_max = h->t_max;
	rb->b.nrec = h->nrec;
	rb->b.plain_len = h->plain_len;
	buf_init(&rb->hdr, 0);
	buf_add(&rb->hdr, frame, h->hlen);
	return 0;
}

void blockset_release(struct blockset *c)
{
	for (size_t i = 0; i < c->n; i++)
		buf_release(&c->blocks[i].hdr);
	free(c->blocks);
	memset(c, 0, sizeof(*c));
}

int idx_add_blockset(struct vault *v, int64_t seg_rowid, struct blockset *c)
{
	int r = 0;

	for (size_t i = 0; i < c->n && !r; i++) {
		struct frame_header h;
		size_t need;
		r = frame_parse_header((const uint8_t *)c->blocks[i].hdr.data,
				       c->blocks[i].hdr.len, &h, &need);
		if (!r)
			r = idx_add_block(v, seg_rowid, &c->blocks[i].b, &h);
	}
	return r;
}

/*
 * Recovery of the segments of writers that died (note at the top), in
 * three steps so that a transaction over several segments (doc/format.md
 * 6.6) is kept whole or not at all:
 *
 *  1. Each unsealed segment that can be locked is scanned from where the
 *     index says its commits end, noting every commit frame after that.
 *  2. A commit that is a part of a transaction counts as done only if all
 *     its parts were found among those segments. Each segment keeps its
 *     commits up to the first one not done.
 *  3. Each segment is cut back to what it keeps; then one index
 *     transaction adds the kept blocks of all of them and seals them.
 *
 * A crash in step 3 leaves the same facts for the next run: a cut removes
 * only a commit that was not done, whose other parts are then no more done
 * than before, and the index changes at once or not at all. A writer keeps
 * its segments locked until it exits, so the parts of one transaction are
 * recovered together; if a recovery runs while a dying writer lets go of
 * its locks one by one, it may find only some parts and cut them, and then
 * the rest is cut when found: all or nothing either way.
 */
struct rcommit {
	uint8_t txn[FRAME_TXN_ID_LEN];
	uint32_t parts;		/* 0: not a part of a transaction */
	int64_t end;		/* of the commit frame */
	uint64_t next;		/* frame number after it */
	size_t nblocks;		/* data frames committed by it and before */
};

struct rseg {
	struct idx_segment s;
	int fd;
	struct buf path;
	struct blockset c;
	struct rcommit *commits;
	size_t ncommits, alloc;
	size_t keep;		/* commits kept (step 2) */
};

static int rseg_frame(void *ctx, int64_t off, const struct frame_header *h,
		      const uint8_t *frame)
{
	struct rseg *rs = ctx;
	struct rcommit *c;

	if (h->type == FRAME_DATA)
		return blockset_collect(&rs->c, off, h, frame);
	XGROW(rs->commits, rs->ncommits + 1, rs->alloc);
	c = &rs->commits[rs->ncommits++];
	memset(c, 0, sizeof(*c));
	if (h->flags & FRAME_FLAG_TXN) {
		memcpy(c->txn, h->txn, sizeof(c->txn));
		c->parts = h->plain_len;
	}
	c->end = off + (int64_t)frame_len(h);
	c->next = h->frame_no + 1;
	c->nblocks = rs->c.n;
	return 0;
}

static void rseg_release(struct rseg *rs)
{
	if (rs->fd >= 0)
		close(rs->fd);
	buf_release(&rs->path);
	blockset_release(&rs->c);
	free(rs->commits);
}

/* Step 1 for one segment: 1 if it is to be recovered (rs->fd locked). */
static int scan_segment(struct vault *v, struct rseg *rs)
{
	struct idx_segment *s = &rs->s;
	struct seg_scan sc;
	sqlite3_stmt *q;
	int row, r;

	vault_seg_path(v, s->day, s->seg_id, &rs->path);
	rs->fd = open(rs->path.data, O_RDWR | O_CLOEXEC);
	if (rs->fd < 0)
		return 0;	/* missing: verify reports it */
	if (flock(rs->fd, LOCK_EX | LOCK_NB) < 0)
		return 0;	/* its writer is alive */
	/* The writer may have committed and sealed between our query and
	 * the lock (it updates the index before it lets go of the lock). */
	if ((r = idx_prepare(v, "SELECT committed_end, next_frame, sealed"
			     " FROM segments WHERE id = ?", &q)))
		return r;
	sqlite3_bind_int64(q, 1, s->rowid);
	row = sqlite3_step(q) == SQLITE_ROW;
	if (row) {
		s->committed_end = sqlite3_column_int64(q, 0);
		s->next_frame = (uint64_t)sqlite3_column_int64(q, 1);
		s->sealed = sqlite3_column_int(q, 2);
	}
	sqlite3_finalize(q);
	if (!row || s->sealed)
		return 0;
	if ((r = seg_scan(rs->fd, rs->path.data, s->committed_end,
			  s->next_frame, 0, NULL, NULL, rseg_frame, rs, &sc)))
		return r;
	return 1;
}

/* Step 2: is commit c of a transaction whose parts are all in rs[0..n)? */
static int txn_done(const struct rseg *rs, size_t n, const struct rcommit *c)
{
	uint32_t found = 0;

	if (!c->parts)
		return 1;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < rs[i].ncommits; j++)
			if (!memcmp(rs[i].commits[j].txn, c->txn, sizeof(c->txn)))
				found++;
	return found == c->parts;
}

/* Step 3's cut: back to the end of the last kept commit. */
static int cut_segment(struct rseg *rs)
{
	struct idx_segment *s = &rs->s;
	struct stat st;
	int r;

	if (rs->keep) {
		s->committed_end = rs->commits[rs->keep - 1].end;
		s->next_frame = rs->commits[rs->keep - 1].next;
	}
	if (fstat(rs->fd, &st) < 0)
		return lt_error_errno(LT_EIO, "cannot stat '%s'", rs->path.data);
	if (st.st_size > s->committed_end) {
		if (ftruncate(rs->fd, s->committed_end) < 0)
			return lt_error_errno(LT_EIO, "cannot cut the tail of "
					      "'%s'", rs->path.data);
		if ((r = lt_fsync(rs->fd, rs->path.data)))
			return r;
	}
	{
		size_t kept = rs->keep ? rs->commits[rs->keep - 1].nblocks : 0;
		for (size_t i = kept; i < rs->c.n; i++)
			buf_release(&rs->c.blocks[i].hdr);
		rs->c.n = kept;
	}
	s->sealed = 1;
	return 0;
}

static int recover_all(struct vault *v, struct rseg *rs, size_t n)
{
	size_t i, live = 0;
	int r = 0;

	for (i = 0; i < n && !r; i++) {
		if ((r = scan_segment(v, &rs[i])) == 1) {
			/* Keep the ones to recover first, in order. */
			struct rseg tmp = rs[live];
			rs[live++] = rs[i];
			rs[i] = tmp;
			r = 0;
		}
	}
	if (r)
		return r;
	for (i = 0; i < live; i++)
		while (rs[i].keep < rs[i].ncommits &&
		       txn_done(rs, live, &rs[i].commits[rs[i].keep]))
			rs[i].keep++;
	for (i = 0; i < live && !r; i++)
		r = cut_segment(&rs[i]);
	if (r || !live || (r = idx_begin(v)))
		return r;
	for (i = 0; i < live && !r; i++) {
		if (!(r = idx_add_blockset(v, rs[i].s.rowid, &rs[i].c)))
			r = idx_update_segment(v, &rs[i].s);
	}
	if (r || (r = idx_commit(v)))
		idx_rollback(v);
	return r;
}

int vault_recover(struct vault *v)
{
	struct rseg *rs = NULL;
	size_t n = 0, alloc = 0;
	sqlite3_stmt *st;
	int r;

	if ((r = idx_prepare(v,
			     "SELECT id, seg_id, key_id, day, created,"
			     " committed_end, next_frame FROM segments"
			     " WHERE sealed = 0",
			     &st)))
		return r;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct idx_segment *s;
		if (sqlite3_column_bytes(st, 1) != VAULT_ID_LEN ||
		    sqlite3_column_bytes(st, 2) != VAULT_ID_LEN)
			continue;
		XGROW(rs, n + 1, alloc);
		memset(&rs[n], 0, sizeof(rs[n]));
		rs[n].fd = -1;
		buf_init(&rs[n].path, 0);
		s = &rs[n++].s;
		s->rowid = sqlite3_column_int64(st, 0);
		memcpy(s->seg_id, sqlite3_column_blob(st, 1), VAULT_ID_LEN);
		memcpy(s->key_id, sqlite3_column_blob(st, 2), VAULT_ID_LEN);
		s->day = sqlite3_column_int(st, 3);
		s->created = sqlite3_column_int64(st, 4);
		s->committed_end = sqlite3_column_int64(st, 5);
		s->next_frame = (uint64_t)sqlite3_column_int64(st, 6);
		s->sealed = 0;
	}
	sqlite3_finalize(st);
	if (n)
		r = recover_all(v, rs, n);
	for (size_t i = 0; i < n; i++)
		rseg_release(&rs[i]);
	free(rs);
	return r;
}
