#include "text.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "xalloc.h"
#include "banned.h"

/*
 * The replay is a piece table (as in Bravo, and VS Code's text buffer
 * without its tree): the text is the concatenation of pieces, each a
 * stretch of the base (the snapshot) or of adds (every inserted text,
 * appended end to end), with its length in bytes and in code points.
 *
 *  - An edit at code point pos finds its piece by walking the lengths in
 *    code points from a cursor (the piece the last edit ended at, so the
 *    edits of one save, which come in document order, walk little): at
 *    most O(pieces), never O(bytes).
 *  - Only the piece that pos falls inside is scanned byte by byte, to
 *    split it there (text_utf8_offset()); a delete splits at its end
 *    too. Deleted pieces are dropped from the array, an insert adds one
 *    piece (or grows the previous one, when it is the last thing
 *    inserted: typing).
 *  - Nothing is copied until text_replay_get() concatenates the pieces
 *    once.
 *
 * Invariants: no piece is empty; bytes and cps are the sums over the
 * pieces; cur_cp is the sum of the code points of pieces before cur.
 * When the pieces grow past MAX_PIECES (a long record without
 * snapshots) the text is materialised into own and becomes the base
 * again, which keeps every walk short at the cost of one copy every few
 * hundred edits.
 */

#define MAX_PIECES 1024

void text_replay_init(struct text_replay *r)
{
	struct text_replay blank = TEXT_REPLAY_INIT;

	*r = blank;
}

void text_replay_release(struct text_replay *r)
{
	buf_release(&r->own);
	buf_release(&r->adds);
	free(r->v);
	text_replay_init(r);
}

static const char *piece_data(const struct text_replay *r,
			      const struct text_piece *p)
{
	return (p->add ? r->adds.data : r->base) + p->off;
}

static void start_from(struct text_replay *r, const char *text, size_t n,
		       uint64_t cps)
{
	r->base = text;
	buf_reset(&r->adds);
	r->n = 0;
	if (n) {
		XGROW(r->v, 1, r->alloc);
		r->v[0] = (struct text_piece){ 0, n, cps, 0 };
		r->n = 1;
	}
	r->cur = 0;
	r->cur_cp = 0;
	r->bytes = n;
	r->cps = cps;
}

void text_replay_reset(struct text_replay *r, const char *text, size_t n)
{
	start_from(r, text, n, text_utf8_count(text, n));
}

/* Moves the cursor to the piece that holds code point cp (cp <= r->cps):
 * afterwards cur_cp <= cp < cur_cp + v[cur].cps, or cur == n. */
static void seek(struct text_replay *r, uint64_t cp)
{
	while (r->cur < r->n && r->cur_cp + r->v[r->cur].cps <= cp)
		r->cur_cp += r->v[r->cur++].cps;
	while (r->cur_cp > cp)
		r->cur_cp -= r->v[--r->cur].cps;
}

/*
 * The byte offset of code point k in the piece s[0..n) of cps code points,
 * 0 < k < cps: text_utf8_offset() from whichever end is nearer, so that
 * splitting a long piece scans at most half of it.
 */
static size_t piece_offset(const char *s, size_t n, uint64_t cps, uint64_t k)
{
	uint64_t left = cps - k;	/* code points from k to the end */
	size_t i = n;

	if (k <= left)
		return text_utf8_offset(s, n, k);
	while (i >= 8) {
		uint64_t c = text_utf8_count(s + i - 8, 8);
		if (c >= left)
			break;
		left -= c;
		i -= 8;
	}
	while (i > 0) {
		if (((unsigned char)s[--i] & 0xc0) != 0x80 && --left == 0)
			break;
	}
	return i;
}

/* Opens a hole of k pieces at index i. */
static void make_room(struct text_replay *r, size_t i, size_t k)
{
	XGROW(r->v, r->n + k, r->alloc);
	memmove(r->v + i + k, r->v + i, (r->n - i) * sizeof(*r->v));
	r->n += k;
}

/* Splits the pieces so that one starts at code point cp; returns its
 * index (n when cp is the end). Leaves the cursor on it. */
static size_t split_at(struct text_replay *r, uint64_t cp)
{
	struct text_piece *p;
	uint64_t k;
	size_t off;

	seek(r, cp);
	if (r->cur == r->n || r->cur_cp == cp)
		return r->cur;
	k = cp - r->cur_cp;
	p = &r->v[r->cur];
	off = piece_offset(piece_data(r, p), p->bytes, p->cps, k);
	make_room(r, r->cur + 1, 1);
	p = &r->v[r->cur];
	p[1] = (struct text_piece){ p->off + off, p->bytes - off, p->cps - k,
				    p->add };
	p->bytes = off;
	p->cps = k;
	r->cur_cp = cp;
	return ++r->cur;
}

/* The same checks as text_apply(), with the same messages, apart from
 * matching del against the text. */
static int check_edit(const struct text_replay *r, const struct text_edit *e)
{
	int has_del = e->del ? e->del_len > 0 : e->len > 0;

	if (e->pos > r->cps)
		return lt_error(LT_ECORRUPT, "edit at code point %llu is past "
				"the end of the document",
				(unsigned long long)e->pos);
	if ((e->op == TEXT_INSERT && (has_del || !e->ins_len)) ||
	    (e->op == TEXT_DELETE && (e->ins_len || !has_del)) ||
	    (e->op == TEXT_REPLACE && (!e->ins_len || !has_del)) ||
	    (e->op != TEXT_INSERT && e->op != TEXT_DELETE &&
	     e->op != TEXT_REPLACE))
		return lt_error(LT_ECORRUPT, "edit at code point %llu: op '%s' "
				"does not fit its texts",
				(unsigned long long)e->pos, text_op_name(e->op));
	if (text_utf8_check(e->ins, e->ins_len) != e->ins_len ||
	    (e->del && text_utf8_check(e->del, e->del_len) != e->del_len))
		return lt_error(LT_ECORRUPT, "edit at code point %llu: text is "
				"not valid UTF-8", (unsigned long long)e->pos);
	if (e->del && text_utf8_count(e->del, e->del_len) != e->len)
		return lt_error(LT_ECORRUPT, "edit at code point %llu: deleted "
				"text is not %llu code points long",
				(unsigned long long)e->pos,
				(unsigned long long)e->len);
	if (e->len > r->cps - e->pos)
		return lt_error(LT_ECORRUPT, "edit at code point %llu: deleted "
				"text does not match the document",
				(unsigned long long)e->pos);
	return 0;
}

/* Whether pieces [s, end) hold exactly del; NULL matches anything. Sets
 * *bytes to their length. */
static int pieces_equal(const struct text_replay *r, size_t s, size_t end,
			const char *del, size_t del_len, size_t *bytes)
{
	size_t at = 0;

	for (size_t i = s; i < end; i++) {
		const struct text_piece *p = &r->v[i];
		if (del && (p->bytes > del_len - at ||
			    memcmp(piece_data(r, p), del + at, p->bytes)))
			return 0;
		at += p->bytes;
	}
	*bytes = at;
	return !del || at == del_len;
}

static void compact(struct text_replay *r)
{
	struct buf text = BUF_INIT;

	text_replay_get(r, &text);
	buf_release(&r->own);
	r->own = text;
	start_from(r, r->own.data, r->own.len, r->cps);
}

int text_replay_apply(struct text_replay *r, const struct text_edit *e)
{
	uint64_t ins_cps;
	size_t s, end, del_len;
	int err;

	if ((err = check_edit(r, e)) < 0)
		return err;
	ins_cps = text_utf8_count(e->ins, e->ins_len);
	s = split_at(r, e->pos);
	end = e->len ? split_at(r, e->pos + e->len) : s;
	/* Splitting changed no text: a mismatch leaves it as it was. */
	if (!pieces_equal(r, s, end, e->del, e->del_len, &del_len))
		return lt_error(LT_ECORRUPT, "edit at code point %llu: deleted "
				"text does not match the document",
				(unsigned long long)e->pos);

	if (end > s) {
		memmove(r->v + s, r->v + end, (r->n - end) * sizeof(*r->v));
		r->n -= end - s;
	}
	if (e->ins_len) {
		struct text_piece *prev = s ? &r->v[s - 1] : NULL;
		size_t off = r->adds.len;

		buf_add(&r->adds, e->ins, e->ins_len);
		if (prev && prev->add && prev->off + prev->bytes == off) {
			prev->bytes += e->ins_len;
			prev->cps += ins_cps;
		} else {
			make_room(r, s, 1);
			r->v[s++] = (struct text_piece){ off, e->ins_len,
							 ins_cps, 1 };
		}
	}
	r->bytes = r->bytes - del_len + e->ins_len;
	r->cps = r->cps - e->len + ins_cps;
	/* The piece at s now starts right after the inserted text. */
	r->cur = s;
	r->cur_cp = e->pos + ins_cps;
	if (r->n > MAX_PIECES)
		compact(r);
	return 0;
}

int text_replay_get(const struct text_replay *r, struct buf *out)
{
	int err;

	if ((err = buf_grow(out, r->bytes)) < 0)
		return err;
	for (size_t i = 0; i < r->n; i++) {
		memcpy(out->data + out->len, piece_data(r, &r->v[i]),
		       r->v[i].bytes);
		out->len += r->v[i].bytes;
	}
	buf_setlen(out, out->len);
	return 0;
}
