/*
 * Reading: the records of a query in time order, across streams and
 * segments, with memory bounded by how much blocks overlap in time.
 *
 * The index yields blocks in order of their least timestamp. A record can
 * be handed out once every block that could hold an earlier record has
 * been loaded, i.e. once the next block's t_min is past it: a k-way merge
 * over a min-heap of decoded records.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "error.h"
#include "fileio.h"
#include "xalloc.h"
#include "vault-int.h"
#include "banned.h"

struct iblk {
	struct buf plain;
	struct buf hdr;			/* the frame header, for kind names */
	struct frame_header h;
	const char **kinds;		/* NUL-terminated copies */
	char *kindbuf;
	const char *stream;		/* owned by the vault's key cache */
	size_t refs;
	struct buf *spare;		/* the iterator's, to give plain back to */
	struct brec *recs;		/* the block's records, in time order */
	size_t nrecs, pos;		/* pos: the next to hand out */
};

struct brec {
	int64_t t;
	const uint8_t *payload;
	size_t len;
	unsigned kind;
	uint32_t idx;			/* position in the block, for stability */
};

/* The heap holds one cursor per loaded block that has records left,
 * keyed by the time of its next record. */
struct irec {
	int64_t t;
	uint64_t seq;			/* block load order, for ties */
	struct iblk *blk;
};

struct iseg_fd {
	int64_t rowid;
	int fd;
};

#define ITER_FDS 8

struct vault_iter {
	struct vault *v;
	struct vault_query q;
	char *stream, *kind;
	sqlite3_stmt *st;
	int have_row;			/* st holds the next block's row */
	int64_t next_tmin;		/* its t_min, when have_row */
	int done;
	struct irec *heap;
	size_t nheap, heap_alloc;
	uint64_t seq;
	struct iblk *last;		/* block of the record handed out last */
	struct iseg_fd fds[ITER_FDS];
	unsigned fd_next;
	struct buf frame;
	struct buf spare, body;
	ZSTD_DCtx *dctx;
};

static int rec_less(const struct irec *a, const struct irec *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void heap_push(struct vault_iter *it, const struct irec *r)
{
	size_t i = it->nheap++;

	XGROW(it->heap, it->nheap, it->heap_alloc);
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!rec_less(r, &it->heap[parent]))
			break;
		it->heap[i] = it->heap[parent];
		i = parent;
	}
	it->heap[i] = *r;
}

static int brec_cmp(const void *a, const void *b)
{
	const struct brec *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Restores the heap after the key of element 0 grew. */
static void heap_sift_top(struct vault_iter *it)
{
	struct irec top = it->heap[0];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= it->nheap)
			break;
		if (c + 1 < it->nheap && rec_less(&it->heap[c + 1], &it->heap[c]))
			c++;
		if (!rec_less(&it->heap[c], &top))
			break;
		it->heap[i] = it->heap[c];
		i = c;
	}
	it->heap[i] = top;
}

static void heap_pop(struct vault_iter *it, struct irec *out)
{
	struct irec last;
	size_t i = 0;

	*out = it->heap[0];
	last = it->heap[--it->nheap];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= it->nheap)
			break;
		if (c + 1 < it->nheap && rec_less(&it->heap[c + 1], &it->heap[c]))
			c++;
		if (!rec_less(&it->heap[c], &last))
			break;
		it->heap[i] = it->heap[c];
		i = c;
	}
	if (it->nheap)
		it->heap[i] = last;
}

static void blk_unref(struct iblk *b)
{
	if (!b || --b->refs)
		return;
	if (b->spare && !b->spare->alloc)
		*b->spare = b->plain;
	else
		buf_release(&b->plain);
	buf_release(&b->hdr);
	free(b->kinds);
	free(b->kindbuf);
	free(b->recs);
	free(b);
}

int vault_iter_open(struct vault_iter **out, struct vault *v,
		    const struct vault_query *q)
{
	struct vault_iter *it;
	int r;

	if (!vault_is_unlocked(v))
		return lt_error(LT_EINVAL, "the vault must be unlocked to read");
	it = xcalloc(1, sizeof(*it));
	buf_init(&it->frame, 0);
	buf_init(&it->spare, 0);
	buf_init(&it->body, 0);
	it->v = v;
	it->q = *q;
	it->stream = q->stream ? xstrdup(q->stream) : NULL;
	it->kind = q->kind ? xstrdup(q->kind) : NULL;
	it->q.stream = it->stream;
	it->q.kind = it->kind;
	for (int i = 0; i < ITER_FDS; i++)
		it->fds[i].fd = -1;
	it->dctx = ZSTD_createDCtx();
	r = idx_prepare(v,
			q->kind ?
			"SELECT b.t_min, b.t_max, b.frame, b.offset, b.length,"
			" s.seg_id, s.key_id, s.day, s.id"
			" FROM blocks b JOIN segments s ON s.id = b.segment"
			" WHERE b.t_max >= ?1 AND b.t_min < ?2 AND b.id IN"
			" (SELECT block FROM block_kinds WHERE kind ="
			"  (SELECT id FROM kinds WHERE name = ?3))"
			" ORDER BY b.t_min, s.seg_id, b.frame" :
			"SELECT b.t_min, b.t_max, b.frame, b.offset, b.length,"
			" s.seg_id, s.key_id, s.day, s.id"
			" FROM blocks b JOIN segments s ON s.id = b.segment"
			" WHERE b.t_max >= ?1 AND b.t_min < ?2"
			" ORDER BY b.t_min, s.seg_id, b.frame",
			&it->st);
	if (r || !it->dctx) {
		if (!r)
			r = lt_error(LT_EIO, "cannot create a zstd context");
		vault_iter_free(it);
		return r;
	}
	sqlite3_bind_int64(it->st, 1, q->since);
	sqlite3_bind_int64(it->st, 2, q->until);
	if (q->kind)
		sqlite3_bind_text(it->st, 3, q->kind, -1, SQLITE_STATIC);
	*out = it;
	return 0;
}

void vault_iter_free(struct vault_iter *it)
{
	if (!it)
		return;
	blk_unref(it->last);
	while (it->nheap) {
		struct irec r;
		heap_pop(it, &r);
		blk_unref(r.blk);
	}
	for (int i = 0; i < ITER_FDS; i++)
		if (it->fds[i].fd >= 0)
			close(it->fds[i].fd);
	sqlite3_finalize(it->st);
	ZSTD_freeDCtx(it->dctx);
	buf_release(&it->frame);
	buf_release(&it->spare);
	buf_release(&it->body);
	free(it->heap);
	free(it->stream);
	free(it->kind);
	free(it);
}

static int seg_fd(struct vault_iter *it, int64_t rowid, int32_t day,
		  const uint8_t *seg_id, const char *path)
{
	struct iseg_fd *f;

	for (int i = 0; i < ITER_FDS; i++)
		if (it->fds[i].fd >= 0 && it->fds[i].rowid == rowid)
			return it->fds[i].fd;
	f = &it->fds[it->fd_next++ % ITER_FDS];
	if (f->fd >= 0)
		close(f->fd);
	f->rowid = rowid;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return lt_error_errno(LT_ECORRUPT, "cannot open segment '%s'", path);
	(void)day;
	(void)seg_id;
	return f->fd;
}

/* Reads, checks and decodes the block of the current row into the heap. */
static int load_block(struct vault_iter *it)
{
	sqlite3_stmt *st = it->st;
	struct vault *v = it->v;
	int64_t t_min = sqlite3_column_int64(st, 0);
	int64_t t_max = sqlite3_column_int64(st, 1);
	uint64_t frame_no = (uint64_t)sqlite3_column_int64(st, 2);
	int64_t off = sqlite3_column_int64(st, 3);
	int64_t len = sqlite3_column_int64(st, 4);
	const uint8_t *seg_id = sqlite3_column_blob(st, 5);
	const uint8_t *key_id = sqlite3_column_blob(st, 6);
	int32_t day = sqlite3_column_int(st, 7);
	int64_t rowid = sqlite3_column_int64(st, 8);
	const uint8_t *key;
	const char *label;
	struct buf path = BUF_INIT;
	struct iblk *b = NULL;
	struct rec_cursor c;
	struct rec rec;
	size_t need;
	int fd, r;

	if (sqlite3_column_bytes(st, 5) != VAULT_ID_LEN ||
	    sqlite3_column_bytes(st, 6) != VAULT_ID_LEN)
		return lt_error(LT_ECORRUPT, "the index has a malformed segment row");
	vault_seg_path(v, day, seg_id, &path);
	r = vault_data_key(v, key_id, day, &key, &label);
	if (r == LT_ENOKEY && it->q.stream) {
		/* Shredded: its stream cannot be known, nor is it wanted. */
		r = 0;
		goto out;
	}
	if (r)
		goto out;
	if (it->q.stream && strcmp(label, it->q.stream) != 0)
		goto out;
	if (len <= 0 || len > (int64_t)FRAME_MAX_CT + FRAME_MAX_HEADER + 64) {
		r = lt_error(LT_ECORRUPT, "bad block length in the index");
		goto out;
	}
	if ((fd = seg_fd(it, rowid, day, seg_id, path.data)) < 0) {
		r = fd;
		goto out;
	}
	buf_reset(&it->frame);
	buf_grow(&it->frame, (size_t)len);
	if ((r = lt_pread_all(fd, it->frame.data, (size_t)len, off, path.data)))
		goto out;
	buf_setlen(&it->frame, (size_t)len);

	b = xcalloc(1, sizeof(*b));
	b->plain = it->spare;
	buf_init(&it->spare, 0);
	buf_reset(&b->plain);
	b->spare = &it->spare;
	buf_init(&b->hdr, 0);
	b->stream = label;
	r = frame_parse_header((const uint8_t *)it->frame.data, it->frame.len,
			       &b->h, &need);
	if (r == LT_ETOOBIG)
		r = lt_error(LT_ECORRUPT, "block is shorter than its header");
	if (r)
		goto out;
	if (b->h.type != FRAME_DATA || frame_len(&b->h) != (uint64_t)len ||
	    b->h.frame_no != frame_no || b->h.t_min != t_min ||
	    b->h.t_max != t_max) {
		r = lt_error(LT_ECORRUPT, "block does not match the index");
		goto out;
	}
	if ((r = frame_check_trailer((const uint8_t *)it->frame.data, &b->h)) ||
	    (r = frame_open((const uint8_t *)it->frame.data, &b->h, seg_id, key,
			    &b->plain, it->dctx, &it->body)))
		goto out;

	/* Kind names, NUL-terminated, for the records handed out. */
	buf_add(&b->hdr, it->frame.data, b->h.hlen);
	b->h.kinds = (const uint8_t *)b->hdr.data + FRAME_FIXED;
	b->kinds = xcalloc(b->h.nkinds, sizeof(*b->kinds));
	b->kindbuf = xmalloc(b->h.hlen);
	{
		char *p = b->kindbuf;
		for (unsigned i = 0; i < b->h.nkinds; i++) {
			const char *name;
			size_t n;
			frame_kind(&b->h, i, &name, &n);
			memcpy(p, name, n);
			p[n] = '\0';
			b->kinds[i] = p;
			p += n + 1;
		}
	}

	c.p = (const uint8_t *)b->plain.data;
	c.end = c.p + b->plain.len;
	c.prev_t = 0;
	c.nkinds = b->h.nkinds;
	{
		uint32_t n = 0;
		int sorted = 1;
		b->recs = xmalloc((size_t)b->h.nrec * sizeof(*b->recs));
		while ((r = rec_next(&c, &rec)) == 1) {
			struct brec *br;
			if (n == b->h.nrec) {
				n++;	/* one too many: reported below */
				r = 0;
				break;
			}
			n++;
			if (rec.t < b->h.t_min || rec.t > b->h.t_max) {
				r = lt_error(LT_ECORRUPT, "record time outside "
					     "the block's range");
				break;
			}
			if (rec.t < it->q.since || rec.t >= it->q.until ||
			    (it->q.kind && strcmp(b->kinds[rec.kind], it->q.kind)))
				continue;
			br = &b->recs[b->nrecs++];
			br->t = rec.t;
			br->payload = rec.payload;
			br->len = rec.len;
			br->kind = rec.kind;
			br->idx = n;
			if (b->nrecs > 1 && br->t < br[-1].t)
				sorted = 0;
		}
		if (!r && n != b->h.nrec)
			r = lt_error(LT_ECORRUPT, "block holds %u records, its "
				     "header says %u", n, b->h.nrec);
		if (!r && b->nrecs) {
			struct irec ir;
			if (!sorted)
				qsort(b->recs, b->nrecs, sizeof(*b->recs), brec_cmp);
			ir.t = b->recs[0].t;
			ir.seq = it->seq++;
			ir.blk = b;
			heap_push(it, &ir);
			b->refs = 1;
		}
	}
out:
	if (r) {
		r = lt_error_wrap(r, "segment %s frame %llu at offset %lld",
				  path.data, (unsigned long long)frame_no,
				  (long long)off);
	}
	if (b && !b->refs) {
		b->refs = 1;
		blk_unref(b);
	}
	buf_release(&path);
	return r;
}

static int step(struct vault_iter *it)
{
	int rc = sqlite3_step(it->st);

	if (rc == SQLITE_ROW) {
		it->have_row = 1;
		it->next_tmin = sqlite3_column_int64(it->st, 0);
		return 0;
	}
	it->have_row = 0;
	it->done = 1;
	if (rc != SQLITE_DONE)
		return idx_error(it->v, "read");
	return 0;
}

int vault_iter_next(struct vault_iter *it, struct vault_record *rec)
{
	struct irec top;
	int r;

	blk_unref(it->last);
	it->last = NULL;
	if (!it->have_row && !it->done && (r = step(it)))
		return r;
	while (it->have_row &&
	       (!it->nheap || it->next_tmin <= it->heap[0].t)) {
		r = load_block(it);
		{
			int r2 = step(it);
			if (!r)
				r = r2;
		}
		if (r)
			return r;
	}
	if (!it->nheap)
		return 0;
	{
		struct iblk *b = it->heap[0].blk;
		const struct brec *br = &b->recs[b->pos++];
		rec->t = br->t;
		rec->stream = b->stream;
		rec->kind = b->kinds[br->kind];
		rec->payload = br->payload;
		rec->len = br->len;
		b->refs++;
		it->last = b;
		if (b->pos < b->nrecs) {
			it->heap[0].t = b->recs[b->pos].t;
			heap_sift_top(it);
		} else {
			heap_pop(it, &top);
			blk_unref(b);
		}
	}
	return 1;
}
