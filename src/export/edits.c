/*
 * The next-edit dataset: one example per cut point in a document's
 * history (doc/exports.md, "edits").
 *
 * The vault comes in time order, so documents interleave; each keeps its
 * current text flat in memory (edits are local, so a cached code point /
 * byte pair makes each edit cost its neighbourhood plus one memmove). An
 * edit group opens with a copy of the text; when it closes (the next edit
 * comes gap_ns later, or a snapshot, delete or the end), the text before
 * and after are compared: the bytes that differ, widened to whole lines
 * around the change and the cursor, are the editable region, and a few
 * lines more are the excerpt. Everything outside [lo, hi) is common to
 * both states, so the excerpt after the group is the same window shifted
 * by the change in length.
 *
 * Redaction works on the two excerpts (not on whole states: that would
 * cost a scan of the whole document per example), with the document's
 * own placeholder map, and next_ops is the diff of the two redacted
 * excerpts. So applying next_ops to the input (markers and fence
 * removed) gives the output (the same), redacted or not; unredacted, the
 * excerpt is state[excerpt_range] exactly.
 */
#define _GNU_SOURCE	/* memmem */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "dataset.h"
#include "error.h"
#include "lines.h"
#include "ltime.h"
#include "redact.h"
#include "text.h"
#include "strmap.h"
#include "xalloc.h"
#include "banned.h"

static const char M_START[] = "<|editable_region_start|>";
static const char M_CURSOR[] = "<|user_cursor_is_here|>";
static const char M_END[] = "<|editable_region_end|>";

const char *const ds_split_names[3] = { "train", "validation", "test" };

void edits_opts_init(struct edits_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->gap_ns = 1000000000LL;
	o->context_lines = 8;
	o->editable_lines = 2;
	o->max_excerpt = 16384;
	o->max_events = EDITS_MAX_EVENTS;
	o->since = INT64_MIN;
	o->until = INT64_MAX;
	o->version = "";
}

/* ---- JSON and small helpers ------------------------------------------ */

/* Bytes that need an escape in a JSON string. */
static int needs_esc(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\' || c == 0x7f;
}

/*
 * Word-at-a-time scanning (as src/text/utf8.c counts code points): the
 * lanes of a 64-bit word are tested at once with shifts and masks, and
 * memcpy() loads keep it portable. Most of an example is plain text, so
 * the escaper and the comparisons below skip 8 bytes a step.
 */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

static inline uint64_t load64(const char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* Bit 7 of each lane of w that is zero, and of no other lane. */
static inline uint64_t zero_lanes(uint64_t w)
{
	return ~(((w & ~HIGHS) + ~HIGHS) | w | ~HIGHS);
}

static inline void store64(char *p, uint64_t w)
{
	memcpy(p, &w, sizeof(w));
}

/* Bit 7 of each lane of w that needs_esc(), and of no other lane. */
static inline uint64_t esc_lanes(uint64_t w)
{
	/* Below 0x20: the low 7 bits plus 0x60 do not reach bit 7, and bit 7
	 * itself is clear (no carry leaves a lane: 0x7f + 0x60 < 0x100). */
	uint64_t ctl = ~(((w & ~HIGHS) + 0x60 * ONES) | w) & HIGHS;

	return ctl | zero_lanes(w ^ ('"' * ONES)) |
	       zero_lanes(w ^ ('\\' * ONES)) | zero_lanes(w ^ (0x7f * ONES));
}

/* The index of the first lane (in memory order) whose bit 7 is set in a
 * nonzero mask. */
static inline unsigned first_lane(uint64_t m)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return (unsigned)__builtin_clzll(m) / 8;
#else
	return (unsigned)__builtin_ctzll(m) / 8;
#endif
}

/* How many of the 8 bytes of w are c. */
static inline unsigned word_count(uint64_t w, unsigned char c)
{
	return (unsigned)(((zero_lanes(w ^ (c * ONES)) >> 7) * ONES) >> 56);
}

/* How many bytes of s[0..n) are c. */
static size_t count_byte(const char *s, size_t n, unsigned char c)
{
	size_t i = 0, k = 0;

	for (; n - i >= 8; i += 8)
		k += word_count(load64(s + i), c);
	for (; i < n; i++)
		k += (unsigned char)s[i] == c;
	return k;
}

/* Writes the escape of c at o; returns its end. */
static char *put_esc(char *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	*o++ = '\\';
	switch (c) {
	case '"': *o++ = '"'; break;
	case '\\': *o++ = '\\'; break;
	case '\n': *o++ = 'n'; break;
	case '\r': *o++ = 'r'; break;
	case '\t': *o++ = 't'; break;
	case '\b': *o++ = 'b'; break;
	case '\f': *o++ = 'f'; break;
	default:
		memcpy(o, "u00", 3);
		o[3] = hex[c >> 4];
		o[4] = hex[c & 15];
		o += 5;
	}
	return o;
}

/*
 * The escaped body of s[0..n), no quotes. Room for the worst case (6
 * bytes a byte) is made first, so each step may store a whole word of
 * input and keep only the bytes before its first escape: no call, no
 * branch per byte. Lines of code end in '\n' every few dozen bytes, so
 * the escapes are found in the word too rather than byte by byte.
 */
static void json_body(struct buf *out, const char *s, size_t n)
{
	char *o;
	size_t i = 0;

	buf_grow(out, n * 6 + 2);
	o = out->data + out->len;
#ifdef __SSE2__
	/* The same, 16 bytes a step where SSE2 is there (every x86-64). */
	while (n - i >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i ctl = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)),
					     _mm_set1_epi8(0x1f));
		__m128i esc = _mm_or_si128(
			_mm_or_si128(ctl, _mm_cmpeq_epi8(v, _mm_set1_epi8('"'))),
			_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')),
				     _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))));
		unsigned m = (unsigned)_mm_movemask_epi8(esc), k;

		_mm_storeu_si128((__m128i *)(void *)o, v);
		if (!m) {
			o += 16;
			i += 16;
			continue;
		}
		k = (unsigned)__builtin_ctz(m);
		o = put_esc(o + k, (unsigned char)s[i + k]);
		i += k + 1;
	}
#endif
	while (n - i >= 8) {
		uint64_t w = load64(s + i), m = esc_lanes(w);
		unsigned k;

		store64(o, w);
		if (!m) {
			o += 8;
			i += 8;
			continue;
		}
		k = first_lane(m);
		o = put_esc(o + k, (unsigned char)s[i + k]);
		i += k + 1;
	}
	for (; i < n; i++) {
		if (needs_esc((unsigned char)s[i]))
			o = put_esc(o, (unsigned char)s[i]);
		else
			*o++ = s[i];
	}
	buf_setlen(out, (size_t)(o - out->data));
}

void ds_json_str(struct buf *out, const char *s, size_t n)
{
	buf_addch(out, '"');
	json_body(out, s, n);
	buf_addch(out, '"');
}

static uint64_t cps_of(const char *s, size_t n)
{
	return text_utf8_count(s, n);
}

void ds_widen_lines(const char *text, size_t n, size_t lo, size_t hi,
		    unsigned lines, size_t *start, size_t *end)
{
	size_t s = lo, e = hi;

	/* Back to the start of lo's line, then `lines` lines more. */
	s = lt_line_start(text, s);
	for (unsigned k = 0; k < lines && s > 0; k++)
		s = lt_line_start(text, s - 1);
	/* On to the end of hi's line: a change that ends right after a
	 * newline ends there; an empty one (an insertion) takes its line. */
	if (e == lo || e == 0 || text[e - 1] != '\n')
		e = lt_line_end(text, n, e);
	for (unsigned k = 0; k < lines && e < n; k++)
		e = lt_line_end(text, n, e);
	*start = s;
	*end = e;
}

/* ds_change_span(), told that the first p0 and the last s0 bytes of a
 * and b are known to be equal (what edits left alone), so that it need
 * not compare them: the result is the same as with 0 and 0. */
static int change_span(const char *a, size_t alen, const char *b, size_t blen,
		       size_t p0, size_t s0, size_t *lo, size_t *ahi,
		       size_t *bhi)
{
	size_t min = alen < blen ? alen : blen;
	size_t p = p0 < min ? p0 : min, s;

	while (min - p >= 8 && load64(a + p) == load64(b + p))
		p += 8;
	while (p < min && a[p] == b[p])
		p++;
	if (p == alen && p == blen)
		return 0;
	while (p > 0 && ((unsigned char)a[p] & 0xc0) == 0x80)
		p--;
	/* The tail loops stop short of the prefix; the known tail may
	 * reach into it, so it counts only up to there. */
	s = s0 < min - p ? s0 : min - p;
	while (min - p - s >= 8 &&
	       load64(a + alen - s - 8) == load64(b + blen - s - 8))
		s += 8;
	while (s < min - p && a[alen - 1 - s] == b[blen - 1 - s])
		s++;
	/* The common tail must start on a character in both texts (it is
	 * the same bytes, so checking one is enough). */
	while (s > 0 && ((unsigned char)a[alen - s] & 0xc0) == 0x80)
		s--;
	*lo = p;
	*ahi = alen - s;
	*bhi = blen - s;
	return 1;
}

int ds_change_span(const char *a, size_t alen, const char *b, size_t blen,
		   size_t *lo, size_t *ahi, size_t *bhi)
{
	return change_span(a, alen, b, blen, 0, 0, lo, ahi, bhi);
}

int ds_split_of(const char *key, const unsigned pct[3])
{
	uint8_t h[8];
	uint64_t v = 0;
	unsigned b;

	crypto_generichash(h, sizeof(h), (const uint8_t *)key, strlen(key),
			   NULL, 0);
	for (int i = 7; i >= 0; i--)
		v = v << 8 | h[i];
	b = (unsigned)(v % 100);
	if (b < pct[0])
		return 0;
	if (b < pct[0] + pct[1])
		return 1;
	return 2;
}

/* ---- Documents ---------------------------------------------------------- */

struct edoc {
	char *id;
	char *path;		/* as recorded */
	struct buf rpath;	/* redacted (or the same) */
	char *actor;
	char ahex[33];		/* meta.author: actor hashed, "" until asked */
	char *source;		/* the stream's source: "fs", ... */
	struct redact_doc *rd;
	struct buf text;
	int known;		/* text is the document's state */
	int started;		/* an event was seen */
	uint64_t last_seq;
	size_t hint_b;		/* a code point / byte pair in text */
	uint64_t hint_cp;
	int has_cursor;		/* after the last edit: */
	size_t cursor_b;
	uint64_t cursor_cp;

	int in_group;
	struct buf before;
	uint64_t cut_seq, first_seq, end_seq;
	int64_t t_first, t_last;
	int g_has_cursor;
	size_t g_cursor_b;
	size_t g_head, g_tail;	/* bytes no edit of the group touched */

	/* The last max_events diff blocks, escaped for JSON and joined as
	 * "events" shows them, from evstart[evhead] to evlen; the bytes
	 * before are blocks dropped, reclaimed when the room runs out. One
	 * piece, so that an example copies it in one go. */
	char *ev;
	size_t evlen, evalloc;
	size_t evstart[EDITS_MAX_EVENTS];	/* a ring */
	size_t nev, evhead;
};

struct edits {
	struct edits_opts o;
	struct redactor *r;
	uint8_t key[32];
	edits_emit_fn *emit;
	void *ctx;
	struct edits_stats st;

	struct strmap docs;	/* id -> struct edoc */
	struct strmap comments;	/* doc id -> struct clist */

	/* Scratch, reused. */
	struct buf line, ra, rb, blk, tmp, cbuf;
	struct text_edits ops;
	struct mark { size_t off; size_t len; size_t rlen; } *marks;
	size_t nmarks, amarks;
};

static struct edoc *doc_get(struct edits *x, const char *id)
{
	struct strmap_ent *e = strmap_put(&x->docs, id);
	struct edoc *d = e->val;

	if (d)
		return d;
	d = e->val = xcalloc(1, sizeof(*d));
	d->id = xstrdup(id);
	buf_init(&d->text, 0);
	buf_init(&d->before, 0);
	buf_init(&d->rpath, 0);
	d->rd = x->r ? redact_doc_new() : NULL;
	x->st.docs++;
	return d;
}

static void doc_free(struct edoc *d)
{
	free(d->id);
	free(d->path);
	free(d->actor);
	free(d->source);
	buf_release(&d->rpath);
	buf_release(&d->text);
	buf_release(&d->before);
	redact_doc_free(d->rd);
	free(d->ev);
	free(d);
}

/* ---- Comments ------------------------------------------------------------ */

/* A document's doc.comment events, in time order (they are fed so). */
struct ecomment {
	int64_t t;
	char *id, *action, *parent, *actor, *text, *quote;
	size_t text_len, quote_len;
};
struct clist {
	struct ecomment *v;
	size_t n, alloc;
};

static char *dup_n(const char *s, size_t n)
{
	char *d;

	if (!s)
		return NULL;
	d = xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = 0;
	return d;
}

int edits_comment(struct edits *x, const struct edit_comment *c)
{
	struct strmap_ent *e;
	struct clist *l;
	struct ecomment *k;

	if (!c->doc || !c->id || !c->action)
		return 0;
	e = strmap_put(&x->comments, c->doc);
	if (!e->val)
		e->val = xcalloc(1, sizeof(struct clist));
	l = e->val;
	XGROW(l->v, l->n + 1, l->alloc);
	k = &l->v[l->n++];
	k->t = c->t;
	k->id = xstrdup(c->id);
	k->action = xstrdup(c->action);
	k->parent = c->parent ? xstrdup(c->parent) : NULL;
	k->actor = c->actor ? xstrdup(c->actor) : NULL;
	k->text = dup_n(c->text, c->text_len);
	k->text_len = c->text_len;
	k->quote = dup_n(c->quote, c->quote_len);
	k->quote_len = c->quote_len;
	x->st.comments++;
	return 0;
}

static void clist_free(struct clist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct ecomment *k = &l->v[i];
		free(k->id);
		free(k->action);
		free(k->parent);
		free(k->actor);
		free(k->text);
		free(k->quote);
	}
	free(l->v);
	free(l);
}

static void set_str(char **dst, const char *s)
{
	if (!s || (*dst && !strcmp(*dst, s)))
		return;
	free(*dst);
	*dst = xstrdup(s);
}

/* Redacts s[0..n) with d's placeholders into out (replacing it); with
 * marks, also records where each replacement went. */
static void redact_into(struct edits *x, struct edoc *d, const char *s,
			size_t n, struct buf *out);

static void set_path(struct edits *x, struct edoc *d, const char *path)
{
	if (!path || (d->path && !strcmp(d->path, path)))
		return;
	set_str(&d->path, path);
	redact_into(x, d, path, strlen(path), &d->rpath);
}

/* The byte offset of code point cp in d->text (SIZE_MAX past its end):
 * counted a word at a time from the cached pair when cp is after it (the
 * next edit is often near the last), else from the start. */
static size_t doc_off(struct edoc *d, uint64_t cp)
{
	size_t b = 0, k;
	uint64_t c = 0;

	if (cp >= d->hint_cp && d->hint_b <= d->text.len) {
		b = d->hint_b;
		c = d->hint_cp;
	}
	k = text_utf8_offset(d->text.data + b, d->text.len - b, cp - c);
	if (k == SIZE_MAX)
		return SIZE_MAX;
	d->hint_b = b + k;
	d->hint_cp = cp;
	return b + k;
}

/* Applies one edit to d->text as text_apply() would; -1 if it does not
 * fit (the text is left as it was). */
static int doc_apply(struct edoc *d, const struct edit_rec *e)
{
	size_t b = doc_off(d, e->pos), end = b;
	uint64_t k;
	const unsigned char *s;

 	if (b == SIZE_MAX)
		return -1;
	if (!d->text.alloc)
		buf_grow(&d->text, 16);	/* never write the shared empty one */
	s = (const unsigned char *)d->text.data;
	if (e->del) {
		if (e->del_len > d->text.len - b ||
		    memcmp(d->text.data + b, e->del, e->del_len) ||
		    cps_of(e->del, e->del_len) != e->len)
			return -1;
		end = b + e->del_len;
	} else {
		for (k = 0; k < e->len; k++) {
			if (end >= d->text.len)
				return -1;
			end++;
			while (end < d->text.len && (s[end] & 0xc0) == 0x80)
				end++;
		}
	}
	if (b < d->g_head)
		d->g_head = b;
	if (d->text.len - end < d->g_tail)
		d->g_tail = d->text.len - end;
	if (e->ins_len > end - b)
		buf_grow(&d->text, e->ins_len - (end - b));
	memmove(d->text.data + b + e->ins_len, d->text.data + end,
		d->text.len - end);
	memcpy(d->text.data + b, e->ins, e->ins_len);
	buf_setlen(&d->text, d->text.len - (end - b) + e->ins_len);
	d->has_cursor = 1;
	d->cursor_b = b + e->ins_len;
	d->cursor_cp = e->pos + cps_of(e->ins, e->ins_len);
	d->hint_b = b;
	d->hint_cp = e->pos;
	return 0;
}

/* ---- Redaction with positions -------------------------------------------- */

static void on_match(void *ctx, const struct redact_match *m)
{
	struct edits *x = ctx;
	struct mark *k;

	XGROW(x->marks, x->nmarks + 1, x->amarks);
	k = &x->marks[x->nmarks++];
	k->off = (size_t)m->offset;
	k->len = m->len;
	k->rlen = strlen(m->placeholder);
}

static void redact_into(struct edits *x, struct edoc *d, const char *s,
			size_t n, struct buf *out)
{
	uint64_t base;

	buf_reset(out);
	x->nmarks = 0;
	if (!x->r) {
		buf_add(out, s, n);
		return;
	}
	redact_swap_doc(x->r, d->rd);
	base = redact_doc_offset(x->r);
	redact_text(x->r, s, n, out);
	redact_swap_doc(x->r, d->rd);
	for (size_t i = 0; i < x->nmarks; i++)
		x->marks[i].off -= base;
}

/*
 * The excerpts: text[ws..we) of a state of d, redacted as redact_into()
 * would, but through redact_window(), which remembers the lines of d's
 * last state: consecutive states differ by a few lines, so an example
 * scans those, not its two excerpts. The state must stay what it was at
 * the last call, change only as window_edit() tells, or be forgotten
 * (forget_text()).
 */
static int redact_win(struct edits *x, struct edoc *d, const char *text,
		      size_t n, size_t ws, size_t we, struct buf *out)
{
	uint64_t base;
	int r;

	if (!x->r) {
		redact_into(x, d, text + ws, we - ws, out);
		return 0;
	}
	buf_reset(out);
	x->nmarks = 0;
	redact_swap_doc(x->r, d->rd);
	base = redact_doc_offset(x->r);
	r = redact_window(x->r, text, n, ws, we, out);
	redact_swap_doc(x->r, d->rd);
	for (size_t i = 0; i < x->nmarks; i++)
		x->marks[i].off -= base;
	return r;
}

/* d's state went from d->before to d->text, [lo, ahi) becoming [lo, bhi). */
static int window_edit(struct edits *x, struct edoc *d, size_t lo, size_t ahi,
		       size_t bhi)
{
	int r;

	if (!x->r)
		return 0;
	redact_swap_doc(x->r, d->rd);
	r = redact_window_edit(x->r, d->text.data, d->text.len, lo, ahi, bhi);
	redact_swap_doc(x->r, d->rd);
	return r;
}

/* d's text changed in a way redact_win() was not told. */
static void forget_text(struct edoc *d)
{
	if (d->rd)
		redact_doc_forget(d->rd);
}

/* Where byte p of the text last given to redact_into() is in its output;
 * a position inside a replaced value goes to the placeholder's end. */
static size_t map_pos(const struct edits *x, size_t p)
{
	int64_t shift = 0;

	for (size_t i = 0; i < x->nmarks; i++) {
		const struct mark *k = &x->marks[i];
		if (k->off >= p)
			break;
		if (p < k->off + k->len)
			return k->off + shift + k->rlen;
		shift += (int64_t)k->rlen - (int64_t)k->len;
	}
	return (size_t)((int64_t)p + shift);
}

/* ---- Examples ---------------------------------------------------------- */

static void add_u64(struct buf *b, uint64_t v)
{
	char d[20];
	size_t k = sizeof(d);

	do
		d[--k] = (char)('0' + v % 10);
	while (v /= 10);
	buf_add(b, d + k, sizeof(d) - k);
}

/* The code point at byte off of the state before d's group, for an off
 * at or before lo, where the states start to differ: counted from the
 * last edit's code point / byte pair when that is in the common part and
 * nearer than the start. */
static uint64_t cut_cp(const struct edoc *d, size_t lo, size_t off)
{
	const char *s = d->text.data;
	size_t h = d->hint_b;

	if (h > lo || (off < h ? h - off : off - h) >= off)
		return cps_of(d->before.data, off);
	if (off >= h)
		return d->hint_cp + cps_of(s + h, off - h);
	return d->hint_cp - cps_of(s + off, h - off);
}

/* Adds a diff block to d's events (escaped: each example that shows it
 * copies it), dropping the oldest past max_events. */
static void add_event(struct edits *x, struct edoc *d, const char *blk,
		      size_t n)
{
	struct buf *e = &x->tmp;
	size_t max = x->o.max_events;

	if (!max)
		return;
	if (d->nev == max) {
		d->evhead = (d->evhead + 1) % max;
		d->nev--;
	}
	buf_reset(e);
	if (d->nev)
		buf_addstr(e, "\\n");
	json_body(e, blk, n);
	if (d->evlen + e->len > d->evalloc) {
		/* Out of room: the live blocks move to a new piece with a
		 * quarter to spare. So memory stays near what is shown, and
		 * a byte moves about once per four blocks added. */
		size_t live = d->nev ? d->evstart[d->evhead] : d->evlen;
		size_t keep = d->evlen - live;
		char *p;

		d->evalloc = (keep + e->len) / 4 * 5 + 64;
		p = xmalloc(d->evalloc);
		if (keep)
			memcpy(p, d->ev + live, keep);
		free(d->ev);
		d->ev = p;
		d->evlen = keep;
		for (size_t i = 0; i < d->nev; i++)
			d->evstart[(d->evhead + i) % max] -= live;
	}
	d->evstart[(d->evhead + d->nev) % max] = d->evlen + (d->nev ? 2 : 0);
	memcpy(d->ev + d->evlen, e->data, e->len);
	d->evlen += e->len;
	d->nev++;
}

/* "User edited "PATH":" and a unified diff of before[ls..le) against
 * after[ls..le2), the lines the group changed. */
static void diff_block(struct edits *x, struct edoc *d, const char *a,
		       size_t alen, const char *b, size_t lo, size_t ahi,
		       size_t bhi)
{
	size_t ls, le, le2, line = 1, na = 0, nb = 0;
	struct buf *o = &x->tmp;

	ds_widen_lines(a, alen, lo, ahi, 0, &ls, &le);
	le2 = le + bhi - ahi;
	line += count_byte(a, ls, '\n');
	na = count_byte(a + ls, le - ls, '\n');
	if (le > ls && a[le - 1] != '\n')
		na++;
	nb = count_byte(b + ls, le2 - ls, '\n');
	if (le2 > ls && b[le2 - 1] != '\n')
		nb++;
	if (le - ls + le2 - ls > EDITS_MAX_BLOCK)
		return;
	buf_reset(o);
	buf_addf(o, "User edited \"%s\":\n```diff\n@@ -%zu,%zu +%zu,%zu @@\n",
		 d->rpath.data ? d->rpath.data : "", na ? line : line - 1, na,
		 nb ? line : line - 1, nb);
	for (int side = 0; side < 2; side++) {
		const char *t = side ? b : a;
		size_t i = ls, end = side ? le2 : le;
		while (i < end) {
			const char *nl = memchr(t + i, '\n', end - i);
			size_t j = nl ? (size_t)(nl - t) + 1 : end;
			buf_addch(o, side ? '+' : '-');
			buf_add(o, t + i, j - i);
			if (t[j - 1] != '\n')
				buf_addch(o, '\n');
			i = j;
		}
	}
	buf_addstr(o, "```\n");
	redact_into(x, d, o->data, o->len, &x->blk);
	add_event(x, d, x->blk.data, x->blk.len);
}

/* The excerpt with its markers, as a JSON string. Escaping goes byte by
 * byte, so the pieces are escaped straight into the line, never joined
 * first; the fences and markers need no escapes. */
static void excerpt_json(struct edits *x, struct edoc *d, const struct buf *r,
			 size_t es, size_t cur, size_t ee, int with_cursor)
{
	struct buf *l = &x->line;

	buf_addstr(l, "\"```");
	json_body(l, d->rpath.data, d->rpath.len);
	buf_addstr(l, "\\n");
	json_body(l, r->data, es);
	buf_addstr(l, M_START);
	if (with_cursor) {
		json_body(l, r->data + es, cur - es);
		buf_addstr(l, M_CURSOR);
		json_body(l, r->data + cur, ee - cur);
	} else {
		json_body(l, r->data + es, ee - es);
	}
	buf_addstr(l, M_END);
	json_body(l, r->data + ee, r->len - ee);
	buf_addstr(l, "\\n```\"");
}

/* meta.author's hash of an actor, as 32 hex digits and a NUL. */
static void author_hex(const struct edits *x, const char *actor, char hex[33])
{
	uint8_t h[16];

	crypto_generichash(h, sizeof(h), (const uint8_t *)(actor ? actor : ""),
			   actor ? strlen(actor) : 0, x->key, sizeof(x->key));
	sodium_bin2hex(hex, 33, h, sizeof(h));
}

/* A comment string, redacted with d's placeholders, or null. */
static void comment_str(struct edits *x, struct edoc *d, const char *s,
			size_t n)
{
	if (!s) {
		buf_addstr(&x->line, "null");
		return;
	}
	redact_into(x, d, s, n, &x->cbuf);
	ds_json_str(&x->line, x->cbuf.data, x->cbuf.len);
}

/* One comment thread as it stands at a cut (put_comments). */
struct cthread {
	const char *root;		/* the id of its first comment */
	const struct ecomment *add;	/* that comment, if recorded */
	int open;
};

/* The thread of k in t[0..*n), added if new. */
static struct cthread *thread_of(struct cthread **t, size_t *n,
				 size_t *alloc, const struct ecomment *k)
{
	const char *root = k->parent ? k->parent : k->id;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*t)[i].root, root))
			return &(*t)[i];
	XGROW(*t, *n + 1, *alloc);
	(*t)[*n] = (struct cthread){ root, NULL, 1 };
	return &(*t)[(*n)++];
}

/*
 * Whether a thread belongs in an example: open at the cut (not resolved
 * or deleted since it last opened), and near the region: its first
 * comment quotes text of the excerpt, or quotes nothing (a comment on the
 * whole document, or one whose first comment was not recorded).
 */
static int thread_shown(const struct cthread *th, const char *ex, size_t n)
{
	const struct ecomment *a = th->add;

	if (!th->open)
		return 0;
	if (!a || !a->quote || !a->quote_len)
		return 1;
	return a->quote_len <= n && memmem(ex, n, a->quote, a->quote_len);
}

/* "comments": the comment threads open near the excerpt ex[0..n) of the
 * state before the cut (doc/exports.md), as their events before the cut,
 * the last EDITS_MAX_COMMENTS of them, oldest first. */
static void put_comments(struct edits *x, struct edoc *d, const char *ex,
			 size_t exn)
{
	struct strmap_ent *e = strmap_get(&x->comments, d->id);
	const struct clist *cl = e ? e->val : NULL;
	struct cthread *th = NULL;
	size_t nth = 0, th_alloc = 0, end = 0, shown = 0, skip;
	char when[LT_TIME_MAX_LEN], hex[33];
	int first = 1;

	buf_addstr(&x->line, ",\"comments\":[");
	while (cl && end < cl->n && cl->v[end].t < d->t_first) {
		const struct ecomment *k = &cl->v[end++];
		struct cthread *t = thread_of(&th, &nth, &th_alloc, k);

		if (!k->parent && !strcmp(k->action, "add"))
			t->add = k;
		if (!strcmp(k->action, "resolve"))
			t->open = 0;
		else if (!strcmp(k->action, "reopen"))
			t->open = 1;
		else if (!strcmp(k->action, "delete") && !k->parent)
			t->open = 0;	/* the thread itself was deleted */
	}
	for (size_t i = 0; i < end; i++)
		shown += thread_shown(thread_of(&th, &nth, &th_alloc, &cl->v[i]),
				      ex, exn);
	skip = shown > EDITS_MAX_COMMENTS ? shown - EDITS_MAX_COMMENTS : 0;
	for (size_t i = 0; i < end; i++) {
		const struct ecomment *k = &cl->v[i];

		if (!thread_shown(thread_of(&th, &nth, &th_alloc, k), ex, exn))
			continue;
		if (skip) {
			skip--;
			continue;
		}
		if (!first)
			buf_addch(&x->line, ',');
		first = 0;
		lt_time_format(k->t, when);
		author_hex(x, k->actor, hex);
		buf_addf(&x->line, "{\"t\":\"%s\",\"id\":", when);
		ds_json_str(&x->line, k->id, strlen(k->id));
		buf_addstr(&x->line, ",\"action\":");
		ds_json_str(&x->line, k->action, strlen(k->action));
		buf_addstr(&x->line, ",\"parent\":");
		if (k->parent)
			ds_json_str(&x->line, k->parent, strlen(k->parent));
		else
			buf_addstr(&x->line, "null");
		buf_addf(&x->line, ",\"author\":\"%s\",\"text\":", hex);
		comment_str(x, d, k->text, k->text_len);
		buf_addstr(&x->line, ",\"quote\":");
		comment_str(x, d, k->quote, k->quote_len);
		buf_addch(&x->line, '}');
	}
	if (!first)
		x->st.with_comments++;
	buf_addch(&x->line, ']');
	free(th);
}

static int emit_example(struct edits *x, struct edoc *d, size_t lo,
			size_t ahi, size_t bhi)
{
	const char *a = d->before.data, *b = d->text.data;
	size_t alen = d->before.len, cur, slo, shi, es, ee, cs, ce;
	size_t r_es, r_cur, r_ee, r_es2, r_ee2;
	int64_t delta = (int64_t)bhi - (int64_t)ahi;
	uint64_t cs_cp, es_cp, ee_cp, ce_cp, cur_cp;
	struct buf *l = &x->line;
	int r;

	cur = d->g_has_cursor ? d->g_cursor_b : lo;
	slo = cur < lo ? cur : lo;
	shi = cur > ahi ? cur : ahi;
	ds_widen_lines(a, alen, slo, shi, x->o.editable_lines, &es, &ee);
	ds_widen_lines(a, alen, es, ee, x->o.context_lines, &cs, &ce);
	if (ce - cs > x->o.max_excerpt ||
	    (size_t)((int64_t)(ce - cs) + delta) > x->o.max_excerpt) {
		x->st.skipped_wide++;
		forget_text(d);
		return 0;
	}

	/* Code points, on the raw state at the cut. */
	cs_cp = cut_cp(d, lo, cs);
	es_cp = cs_cp + cps_of(a + cs, es - cs);
	cur_cp = es_cp + cps_of(a + es, cur - es);
	ee_cp = cur_cp + cps_of(a + cur, ee - cur);
	ce_cp = ee_cp + cps_of(a + ee, ce - ee);

	/* The two excerpts, redacted, and where the markers go in them. */
	if ((r = redact_win(x, d, a, alen, cs, ce, &x->ra)) < 0)
		return r;
	r_es = map_pos(x, es - cs);
	r_cur = map_pos(x, cur - cs);
	r_ee = map_pos(x, ee - cs);
	if ((r = window_edit(x, d, lo, ahi, bhi)) < 0 ||
	    (r = redact_win(x, d, b, d->text.len, cs,
			    (size_t)((int64_t)ce + delta), &x->rb)) < 0)
		return r;
	r_es2 = map_pos(x, es - cs);
	r_ee2 = map_pos(x, (size_t)((int64_t)ee + delta) - cs);
	if (text_diff(x->ra.data, x->ra.len, x->rb.data, x->rb.len, NULL,
		      &x->ops) < 0)
		return LT_EINVAL;

	buf_reset(l);
	buf_addstr(l, "{\"events\":\"");
	if (d->nev)
		buf_add(l, d->ev + d->evstart[d->evhead],
			d->evlen - d->evstart[d->evhead]);
	buf_addch(l, '"');
	buf_addstr(l, ",\"input\":");
	excerpt_json(x, d, &x->ra, r_es, r_cur, r_ee, 1);
	buf_addstr(l, ",\"output\":");
	excerpt_json(x, d, &x->rb, r_es2, 0, r_ee2, 0);
	buf_addstr(l, ",\"doc\":");
	ds_json_str(l, d->id, strlen(d->id));
	buf_addstr(l, ",\"part\":");
	ds_json_str(l, d->rpath.data ? d->rpath.data : "", d->rpath.len);
	buf_addstr(l, ",\"cut_seq\":");
	add_u64(l, d->cut_seq);
	buf_addstr(l, ",\"next_seq\":[");
	add_u64(l, d->first_seq);
	buf_addch(l, ',');
	add_u64(l, d->end_seq);
	buf_addstr(l, "],\"cursor\":");
	add_u64(l, cur_cp);
	buf_addstr(l, ",\"editable_range\":[");
	add_u64(l, es_cp);
	buf_addch(l, ',');
	add_u64(l, ee_cp);
	buf_addstr(l, "],\"excerpt_range\":[");
	add_u64(l, cs_cp);
	buf_addch(l, ',');
	add_u64(l, ce_cp);
	buf_addstr(l, "],\"next_ops\":[");
	for (size_t i = 0; i < x->ops.n; i++) {
		const struct text_edit *e = &x->ops.v[i];
		if (i)
			buf_addch(l, ',');
		buf_addstr(l, "{\"op\":\"");
		buf_addstr(l, text_op_name(e->op));
		buf_addstr(l, "\",\"pos\":");
		add_u64(l, e->pos);
		buf_addstr(l, ",\"len\":");
		add_u64(l, e->len);
		buf_addstr(l, ",\"ins\":");
		ds_json_str(l, e->ins, e->ins_len);
		buf_addstr(l, ",\"del\":");
		ds_json_str(l, e->del, e->del_len);
		buf_addch(l, '}');
	}
	buf_addch(l, ']');
	put_comments(x, d, a + cs, ce - cs);
	buf_addstr(l, ",\"meta\":{\"source\":");
	ds_json_str(l, d->source ? d->source : "", d->source ? strlen(d->source) : 0);
	buf_addstr(l, ",\"author\":");
	if (!d->ahex[0])
		author_hex(x, d->actor, d->ahex);
	buf_addch(l, '"');
	buf_addstr(l, d->ahex);
	buf_addstr(l, "\",\"labtape\":");
	ds_json_str(l, x->o.version, strlen(x->o.version));
	buf_addstr(l, "}}");
	if ((r = x->emit(x->ctx, d->id, l->data, l->len)) < 0)
		return r;
	x->st.examples++;
	return 0;
}

/* Closes d's open group: an example (if it is one) and a diff block. */
static int close_group(struct edits *x, struct edoc *d)
{
	size_t lo, ahi, bhi;
	int r = 0;

	if (!d->in_group)
		return 0;
	d->in_group = 0;
	x->st.groups++;
	/* The example will copy the events, last touched when this document
	 * last came round: start reading them now, beside the work below. */
	for (size_t i = d->nev ? d->evstart[d->evhead] : d->evlen; i < d->evlen;
	     i += 64)
		__builtin_prefetch(d->ev + i);
	if (!change_span(d->before.data, d->before.len, d->text.data,
			 d->text.len, d->g_head, d->g_tail, &lo, &ahi, &bhi)) {
		x->st.skipped_nochange++;
		return 0;
	}
	if (d->t_first < x->o.since || d->t_first >= x->o.until) {
		x->st.skipped_time++;
		forget_text(d);
	} else if ((r = emit_example(x, d, lo, ahi, bhi)) < 0)
		return r;
	diff_block(x, d, d->before.data, d->before.len, d->text.data, lo, ahi,
		   bhi);
	return 0;
}

struct edits *edits_new(const struct edits_opts *o, struct redactor *r,
			const uint8_t author_key[32], edits_emit_fn *emit,
			void *ctx)
{
	struct edits *x = xcalloc(1, sizeof(*x));

	x->o = *o;
	if (x->o.max_events > EDITS_MAX_EVENTS)
		x->o.max_events = EDITS_MAX_EVENTS;
	x->r = r;
	memcpy(x->key, author_key, 32);
	x->emit = emit;
	x->ctx = ctx;
	buf_init(&x->line, 1 << 14);
	buf_init(&x->ra, 0);
	buf_init(&x->rb, 0);
	buf_init(&x->blk, 0);
	buf_init(&x->tmp, 0);
	buf_init(&x->cbuf, 0);
	text_edits_init(&x->ops);
	if (r)
		redactor_set_explain(r, on_match, x);
	return x;
}

int edits_feed(struct edits *x, const struct edit_rec *e)
{
	struct edoc *d;
	const char *op = e->op ? e->op : "";
	int plain, edit, r;

	x->st.ops++;
	if (!e->doc || !e->has_seq)
		return 0;
	d = doc_get(x, e->doc);
	plain = !e->part || !e->path || !strcmp(e->part, e->path);
	if (!plain || e->detail_index) {
		x->st.notebook++;
		return 0;
	}
	if (d->started && e->seq <= d->last_seq)
		return 0;	/* a repeated seq: dropped, as history does */
	if (!d->source && e->stream) {
		size_t n = strcspn(e->stream, ":");
		d->source = xstrndup(e->stream, n);
	}
	set_path(x, d, e->path ? e->path : e->part);
	if (e->actor && (!d->actor || strcmp(d->actor, e->actor)))
		d->ahex[0] = '\0';	/* another actor: hash it again */
	set_str(&d->actor, e->actor);
	edit = !strcmp(op, "insert") || !strcmp(op, "delete") ||
	       !strcmp(op, "replace");
	if (edit && d->in_group && e->t - d->t_last >= x->o.gap_ns &&
	    (r = close_group(x, d)) < 0)
		return r;
	/* A gap in seq: what came in between is lost. */
	if (d->started && e->seq != d->last_seq + 1 && d->known && edit) {
		if ((r = close_group(x, d)) < 0)
			return r;
		d->known = 0;
		forget_text(d);
	}
	if (!d->started && edit && e->seq == 0)
		d->known = 1;	/* a document that starts empty */
	d->started = 1;
	d->last_seq = e->seq;

	if (edit) {
		if (!d->known) {
			x->st.unknown++;
			return 0;
		}
		if (!d->in_group) {
			d->in_group = 1;
			buf_reset(&d->before);
			buf_add(&d->before, d->text.data, d->text.len);
			d->cut_seq = e->seq - 1;
			d->first_seq = e->seq;
			d->t_first = e->t;
			d->g_has_cursor = d->has_cursor;
			d->g_cursor_b = d->cursor_b;
			d->g_head = SIZE_MAX;
			d->g_tail = SIZE_MAX;
		}
		if (doc_apply(d, e)) {
			x->st.mismatched++;
			d->in_group = 0;
			d->known = 0;
			forget_text(d);
			return 0;
		}
		d->t_last = e->t;
		d->end_seq = e->seq;
		return 0;
	}
	if (!strcmp(op, "snapshot")) {
		const char *t = e->text ? e->text : "";
		if (d->known && d->text.len == e->text_len &&
		    !memcmp(d->text.data, t, e->text_len))
			return 0;	/* a checkpoint of the same text */
		if ((r = close_group(x, d)) < 0)
			return r;
		forget_text(d);
		buf_reset(&d->text);
		buf_add(&d->text, t, e->text_len);
		d->known = 1;
		d->has_cursor = 0;
		d->hint_b = 0;
		d->hint_cp = 0;
		return 0;
	}
	if (!strcmp(op, "structural")) {
		if (e->action && !strcmp(e->action, "rename") && e->to) {
			set_path(x, d, e->to);
		} else if (e->action && !strcmp(e->action, "delete")) {
			if ((r = close_group(x, d)) < 0)
				return r;
			d->known = 0;
			forget_text(d);
			buf_release(&d->text);
			buf_init(&d->text, 0);
		}
	}
	return 0;
}

static int cmp_doc(const void *a, const void *b)
{
	return strcmp((*(struct edoc *const *)a)->id,
		      (*(struct edoc *const *)b)->id);
}

int edits_finish(struct edits *x)
{
	int r;

	/* In document id order, so that the last lines are deterministic
	 * whatever the hash table's layout. */
	struct edoc **v = xmalloc((x->docs.n + 1) * sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < x->docs.size; i++)
		if (x->docs.v[i].key)
			v[n++] = x->docs.v[i].val;
	qsort(v, n, sizeof(*v), cmp_doc);
	for (size_t i = 0; i < n; i++) {
		if ((r = close_group(x, v[i])) < 0) {
			free(v);
			return r;
		}
	}
	free(v);
	return 0;
}

const struct edits_stats *edits_get_stats(const struct edits *x)
{
	return &x->st;
}

void edits_free(struct edits *x)
{
	if (!x)
		return;
	if (x->r)
		redactor_set_explain(x->r, NULL, NULL);
	for (size_t i = 0; i < x->docs.size; i++)
		if (x->docs.v[i].key)
			doc_free(x->docs.v[i].val);
	strmap_release(&x->docs);
	for (size_t i = 0; i < x->comments.size; i++)
		if (x->comments.v[i].key)
			clist_free(x->comments.v[i].val);
	strmap_release(&x->comments);
	buf_release(&x->cbuf);
	buf_release(&x->line);
	buf_release(&x->ra);
	buf_release(&x->rb);
	buf_release(&x->blk);
	buf_release(&x->tmp);
	text_edits_release(&x->ops);
	free(x->marks);
	free(x);
}
