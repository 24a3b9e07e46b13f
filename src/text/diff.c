#include "text.h"
#include "text-int.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "xalloc.h"
#include "banned.h"

/*
 * text_diff(): from one version of a text to the next as a few exact,
 * character-level edits.
 *
 *  1. Trim.  The common prefix and suffix are cut off first, backed off to
 *     whole lines. A save that changes one line of a large file costs
 *     this linear scan and a diff of that line.
 *
 *  2. Lines.  The rest is split into lines (each with its '\n'), every
 *     distinct line gets a number through a hash table, and the two
 *     number sequences are diffed. Lines are compared ignoring whitespace
 *     at their ends, so a reindented line still anchors the diff and
 *     comes out as the whitespace it gained or lost.
 *
 *  3. Code points.  Each hunk (a run of deleted lines facing a run of
 *     inserted ones, or a pair of lines equal but for whitespace) is cut
 *     to its differing middle, decoded to code points and diffed again,
 *     so a one-character change in a long line is a one-code-point edit.
 *     Short common slivers between larger changes in a hunk (the "e" that
 *     two unrelated words share) are then folded into one replace, as
 *     diff-match-patch's semantic cleanup does: a common run is folded
 *     when it is no longer than the changes on both sides of it.
 *
 *  4. Edits.  Walking both texts, each change between two common runs is
 *     one insert, delete or replace. Its position is counted in b: every
 *     earlier edit has been applied by the time it applies.
 *
 * Both diffs use Myers' O(ND) algorithm ("An O(ND) Difference Algorithm
 * and Its Variations", 1986) with its linear-space refinement: find the
 * middle of a shortest edit path by searching from both ends at once,
 * split there, recurse. The bookkeeping (diagonals clipped to the box,
 * sentinels, the cost heuristic below) follows git's xdiff. Myers rather
 * than histogram diff: it is short, it finds a shortest script (which the
 * unit test checks against brute force), it works unchanged on lines and
 * on code points, and what makes histogram diff's output nicer for source
 * code (anchoring on rare lines) matters less once the second pass
 * refines every hunk.
 *
 * Cost. A search costs about D^2 + (N + M) D steps for N and M items and
 * D differences, so two unrelated megabytes would take hours. Three
 * limits, all keeping the result exact:
 *
 *  - Like xdiff, a split that has searched about sqrt(N + M) (at least
 *    256) edits deep without finding the middle guesses a good split
 *    point instead (myers_guess()). Past that depth the script is near-
 *    shortest rather than shortest.
 *  - Every step is taken off one budget for the whole call
 *    (TEXT_DIFF_WORK by default); when a search runs out, every stretch
 *    it still has open is marked changed whole: a bigger replace than
 *    needed. The line pass may spend half the budget; each hunk a share
 *    proportional to its size, so that one rewritten chapter cannot
 *    leave the typo fixes after it unrefined.
 *  - A hunk that runs out of its share but has as many lines on both
 *    sides is diffed line against line instead (diff_hunk()).
 *
 * So the time is bounded by the budget plus linear passes over the input.
 */

#define MXCOST_MIN 256
#define HUNK_WORK_BASE (1 << 16)
#define HUNK_WORK_PER_CP 64

/* -- Myers ---------------------------------------------------------------- */

struct myers {
	const uint32_t *a, *b;
	uint8_t *ca, *cb;	/* 1: deleted from a / inserted from b */
	int32_t *kf, *kb;	/* furthest x per diagonal k = x - y */
	int32_t mxcost;		/* edits a split searches before it guesses */
	int64_t *work;		/* steps left; the search stops below 0 */
	int spent;		/* the budget ran out */
};

/* A point to split at; min_lo/min_hi: a shortest path of the part before
 * / after it is known to be short, so it is searched without guessing. */
struct split {
	int32_t i1, i2;
	int min_lo, min_hi;
};

static void mark(uint8_t *c, int32_t from, int32_t to)
{
	if (to > from)
		memset(c + from, 1, (size_t)(to - from));
}

/*
 * When a split has searched mxcost edits deep without meeting, it gives
 * up on the exact middle and splits at the point that either search got
 * furthest to, as xdiff does: the part behind that point has a known
 * short path (min_lo or min_hi), the other part goes on being split. The
 * script stays correct, near-shortest, and the cost of a split stays
 * bounded.
 */
static void myers_guess(struct myers *m, int32_t off1, int32_t lim1,
			int32_t off2, int32_t lim2, int32_t fmin, int32_t fmax,
			int32_t bmin, int32_t bmax, struct split *spl)
{
	int64_t fbest = -1, bbest = INT64_MAX;
	int32_t fbest1 = off1, bbest1 = lim1, d, i1, i2;

	for (d = fmax; d >= fmin; d -= 2) {
		i1 = m->kf[d] < lim1 ? m->kf[d] : lim1;
		i2 = i1 - d;
		if (i2 > lim2) {
			i1 = lim2 + d;
			i2 = lim2;
		}
		if (fbest < (int64_t)i1 + i2) {
			fbest = (int64_t)i1 + i2;
			fbest1 = i1;
		}
	}
	for (d = bmax; d >= bmin; d -= 2) {
		i1 = m->kb[d] > off1 ? m->kb[d] : off1;
		i2 = i1 - d;
		if (i2 < off2) {
			i1 = off2 + d;
			i2 = off2;
		}
		if ((int64_t)i1 + i2 < bbest) {
			bbest = (int64_t)i1 + i2;
			bbest1 = i1;
		}
	}
	if ((int64_t)lim1 + lim2 - bbest < fbest - off1 - off2) {
		spl->i1 = fbest1;
		spl->i2 = (int32_t)(fbest - fbest1);
		spl->min_lo = 1;
		spl->min_hi = 0;
	} else {
		spl->i1 = bbest1;
		spl->i2 = (int32_t)(bbest - bbest1);
		spl->min_lo = 0;
		spl->min_hi = 1;
	}
}

/*
 * Finds a point on a shortest edit path from (off1, off2) to (lim1, lim2),
 * near its middle. Each round allows one more edit: the forward search
 * keeps on each diagonal k the furthest x reached from the start (kf), the
 * backward search the smallest x reached from the end (kb), and the first
 * diagonal where they overlap holds the middle. Unless need_min, a search
 * that goes on too long guesses (myers_guess()). Returns 0, or -1 when
 * the budget ran out.
 */
static int myers_split(struct myers *m, int32_t off1, int32_t lim1,
		       int32_t off2, int32_t lim2, int need_min,
		       struct split *spl)
{
	const uint32_t *a = m->a, *b = m->b;
	int32_t *kf = m->kf, *kb = m->kb;
	int32_t dmin = off1 - lim2, dmax = lim1 - off2;
	int32_t fmid = off1 - off2, bmid = lim1 - lim2;
	int32_t fmin = fmid, fmax = fmid, bmin = bmid, bmax = bmid;
	int odd = (fmid - bmid) % 2 != 0;
	int32_t d, i1, i2, x0;

	kf[fmid] = off1;
	kb[bmid] = lim1;
	for (int32_t ec = 1;; ec++) {
		if (*m->work < 0)
			return -1;
		/* One more edit forward: the diagonals reachable grow by one
		 * on each side unless the box stops them. */
		if (fmin > dmin)
			kf[--fmin - 1] = -1;
		else
			++fmin;
		if (fmax < dmax)
			kf[++fmax + 1] = -1;
		else
			--fmax;
		for (d = fmax; d >= fmin; d -= 2) {
			if (kf[d - 1] >= kf[d + 1])
				i1 = kf[d - 1] + 1;
			else
				i1 = kf[d + 1];
			i2 = i1 - d;
			x0 = i1;
			while (i1 < lim1 && i2 < lim2 && a[i1] == b[i2])
				i1++, i2++;
			*m->work -= 1 + (i1 - x0);
			kf[d] = i1;
			if (odd && bmin <= d && d <= bmax && kb[d] <= i1) {
				*spl = (struct split){ i1, i2, 1, 1 };
				return 0;
			}
		}
		/* One more edit backward. */
		if (bmin > dmin)
			kb[--bmin - 1] = INT32_MAX;
		else
			++bmin;
		if (bmax < dmax)
			kb[++bmax + 1] = INT32_MAX;
		else
			--bmax;
		for (d = bmax; d >= bmin; d -= 2) {
			if (kb[d - 1] < kb[d + 1])
				i1 = kb[d - 1];
			else
				i1 = kb[d + 1] - 1;
			i2 = i1 - d;
			x0 = i1;
			while (i1 > off1 && i2 > off2 && a[i1 - 1] == b[i2 - 1])
				i1--, i2--;
			*m->work -= 1 + (x0 - i1);
			kb[d] = i1;
			if (!odd && fmin <= d && d <= fmax && i1 <= kf[d]) {
				*spl = (struct split){ i1, i2, 1, 1 };
				return 0;
			}
		}
		if (!need_min && ec >= m->mxcost) {
			myers_guess(m, off1, lim1, off2, lim2, fmin, fmax, bmin,
				    bmax, spl);
			return 0;
		}
	}
}

/* Marks an edit script from a[off1..lim1) to b[off2..lim2): a shortest
 * one if need_min or if no split had to guess. */
static void myers_compare(struct myers *m, int32_t off1, int32_t lim1,
			  int32_t off2, int32_t lim2, int need_min)
{
	for (;;) {
		int32_t o1 = off1, l1 = lim1;
		struct split spl;

		while (off1 < lim1 && off2 < lim2 && m->a[off1] == m->b[off2])
			off1++, off2++;
		while (off1 < lim1 && off2 < lim2 &&
		       m->a[lim1 - 1] == m->b[lim2 - 1])
			lim1--, lim2--;
		*m->work -= (off1 - o1) + (l1 - lim1);
		if (off1 == lim1 || off2 == lim2)
			break;
		if (myers_split(m, off1, lim1, off2, lim2, need_min,
				&spl) < 0) {
			m->spent = 1;
			break;
		}
		/* Both halves must be smaller, or the recursion would not end;
		 * the algorithm guarantees it, and this keeps it so. */
		if (spl.i1 < off1 || spl.i1 > lim1 || spl.i2 < off2 ||
		    spl.i2 > lim2 || (spl.i1 == off1 && spl.i2 == off2) ||
		    (spl.i1 == lim1 && spl.i2 == lim2))
			break;
		myers_compare(m, off1, spl.i1, off2, spl.i2, spl.min_lo);
		off1 = spl.i1;
		off2 = spl.i2;
		need_min = spl.min_hi;
	}
	mark(m->ca, off1, lim1);
	mark(m->cb, off2, lim2);
}

int text_myers(const uint32_t *a, size_t n, const uint32_t *b, size_t m,
	       uint8_t *ca, uint8_t *cb, int64_t *work)
{
	struct myers my = { a, b, ca, cb, NULL, NULL, MXCOST_MIN, work, 0 };
	int32_t *kv;

	if (n >= TEXT_MYERS_MAX || m >= TEXT_MYERS_MAX || *work < 0) {
		/* With one side empty, that is the shortest script anyway. */
		memset(ca, 1, n);
		memset(cb, 1, m);
		return n && m;
	}
	/* Diagonals run from -m to n, plus a sentinel on each side. */
	kv = xmalloc(2 * (n + m + 3) * sizeof(*kv));
	my.kf = kv + m + 1;
	my.kb = kv + (n + m + 3) + m + 1;
	/* About the square root of the size, as xdiff has it. */
	for (size_t k = n + m; k > MXCOST_MIN * MXCOST_MIN; k >>= 2)
		my.mxcost <<= 1;
	myers_compare(&my, 0, (int32_t)n, 0, (int32_t)m, 0);
	free(kv);
	return my.spent;
}

/* -- Edits ---------------------------------------------------------------- */

const char *text_op_name(enum text_op op)
{
	switch (op) {
	case TEXT_INSERT: return "insert";
	case TEXT_DELETE: return "delete";
	case TEXT_REPLACE: return "replace";
	}
	return "unknown";
}

void text_edits_init(struct text_edits *e)
{
	e->v = NULL;
	e->n = 0;
	e->alloc = 0;
	buf_init(&e->arena, 0);
	e->coarse = 0;
}

void text_edits_release(struct text_edits *e)
{
	free(e->v);
	buf_release(&e->arena);
	text_edits_init(e);
}

/*
 * The walk over both texts that turns common runs and changes into edits.
 * While the diff runs, ins and del point into b and a; own_texts() copies
 * them into the arena at the end.
 */
struct emitter {
	struct text_edits *out;
	const char *a, *b;
	size_t ai, bi;		/* bytes of a and b walked */
	uint64_t pos;		/* code points of b walked */
	size_t end_ai, end_bi;	/* where the last edit ended */
};

static void emit_same(struct emitter *e, size_t bytes, uint64_t cps)
{
	e->ai += bytes;
	e->bi += bytes;
	e->pos += cps;
}

static enum text_op op_of(const struct text_edit *t)
{
	if (!t->del_len)
		return TEXT_INSERT;
	return t->ins_len ? TEXT_REPLACE : TEXT_DELETE;
}

/* abytes (acps code points) of a give way to bbytes (bcps) of b. */
static void emit_change(struct emitter *e, size_t abytes, uint64_t acps,
			size_t bbytes, uint64_t bcps)
{
	struct text_edits *out = e->out;
	struct text_edit *t;

	if (!abytes && !bbytes)
		return;
	if (out->n && e->ai == e->end_ai && e->bi == e->end_bi) {
		/* Touches the last edit: one edit, not two. */
		t = &out->v[out->n - 1];
		t->len += acps;
		t->del_len += abytes;
		t->ins_len += bbytes;
	} else {
		XGROW(out->v, out->n + 1, out->alloc);
		t = &out->v[out->n++];
		t->pos = e->pos;
		t->len = acps;
		t->ins = e->b + e->bi;
		t->ins_len = bbytes;
		t->del = e->a + e->ai;
		t->del_len = abytes;
	}
	t->op = op_of(t);
	e->ai += abytes;
	e->bi += bbytes;
	e->pos += bcps;
	e->end_ai = e->ai;
	e->end_bi = e->bi;
}

/* Moves every edit's text into out->arena, each NUL-terminated. */
static int own_texts(struct text_edits *out)
{
	size_t total = 0;
	char *p;
	int r;

	for (size_t i = 0; i < out->n; i++)
		total += out->v[i].ins_len + out->v[i].del_len + 2;
	buf_reset(&out->arena);
	if (!total)
		return 0;
	if ((r = buf_grow(&out->arena, total)) < 0)
		return r;
	p = out->arena.data;
	for (size_t i = 0; i < out->n; i++) {
		struct text_edit *t = &out->v[i];

		if (t->ins_len)
			memcpy(p, t->ins, t->ins_len);
		p[t->ins_len] = '\0';
		t->ins = p;
		p += t->ins_len + 1;
		if (t->del_len)
			memcpy(p, t->del, t->del_len);
		p[t->del_len] = '\0';
		t->del = p;
		p += t->del_len + 1;
	}
	buf_setlen(&out->arena, total);
	return 0;
}

/* -- Lines ---------------------------------------------------------------- */

struct lines {
	size_t n;
	size_t *off;	/* n + 1 offsets: line i is [off[i], off[i + 1]) */
	uint32_t *id;	/* see lines_classify() */
};

static void lines_split(struct lines *l, const char *s, size_t len)
{
	const char *p = s, *end = s + len, *nl;
	size_t n = 0;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		n++;
		p = nl + 1;
	}
	if (p < end)
		n++;
	l->n = n;
	l->off = xmalloc((n + 1) * sizeof(*l->off));
	l->id = xmalloc((n ? n : 1) * sizeof(*l->id));
	p = s;
	for (size_t i = 0; i < n; i++) {
		l->off[i] = (size_t)(p - s);
		nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	l->off[n] = len;
}

static void lines_release(struct lines *l)
{
	free(l->off);
	free(l->id);
}

/*
 * Lines are matched ignoring whitespace at their start and end, so that a
 * reindented line, a line that lost its trailing blanks or gained a '\r'
 * still anchors the line diff; the code point diff then finds the
 * whitespace that changed.
 */
static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static void trim_space(const char **p, size_t *n)
{
	while (*n && is_space(**p))
		(*p)++, (*n)--;
	while (*n && is_space((*p)[*n - 1]))
		(*n)--;
}

/* A word at a time; only for the hash table, so byte order is no matter. */
static uint64_t hash_bytes(const char *p, size_t n)
{
	const uint64_t k = UINT64_C(0x9e3779b97f4a7c15);
	uint64_t h = n * k, w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, p, n);
	h = (h ^ w) * k;
	return h ^ (h >> 32);
}

struct slot {
	uint64_t hash;
	const char *p;
	size_t len;
	uint32_t id;	/* 0: empty */
};

/* Numbers the lines of both texts so that lines equal but for whitespace
 * at their ends get equal ids. */
static void lines_classify(struct lines *la, const char *a, struct lines *lb,
			   const char *b)
{
	size_t cap = 16, mask;
	struct slot *t;
	uint32_t next = 1;

	while (cap < 2 * (la->n + lb->n))
		cap *= 2;
	mask = cap - 1;
	t = xcalloc(cap, sizeof(*t));
	for (int side = 0; side < 2; side++) {
		struct lines *l = side ? lb : la;
		const char *s = side ? b : a;

		for (size_t i = 0; i < l->n; i++) {
			const char *p = s + l->off[i];
			size_t len = l->off[i + 1] - l->off[i];
			uint64_t h;
			size_t k;

			trim_space(&p, &len);
			h = hash_bytes(p, len);
			k = (size_t)h & mask;
			while (t[k].id && (t[k].hash != h || t[k].len != len ||
					   memcmp(t[k].p, p, len)))
				k = (k + 1) & mask;
			if (!t[k].id) {
				t[k].hash = h;
				t[k].p = p;
				t[k].len = len;
				t[k].id = next++;
			}
			l->id[i] = t[k].id;
		}
	}
	free(t);
}

/* -- Common ends ---------------------------------------------------------- */

static int is_cont(char c)
{
	return ((unsigned char)c & 0xc0) == 0x80;
}

/* The longest common prefix of a and b that ends on a code point boundary
 * (where it ends in one, it ends in the other). */
static size_t common_prefix(const char *a, size_t alen, const char *b,
			    size_t blen)
{
	size_t n = 0;

	while (alen - n >= 8 && blen - n >= 8 && !memcmp(a + n, b + n, 8))
		n += 8;
	while (n < alen && n < blen && a[n] == b[n])
		n++;
	while (n && ((n < alen && is_cont(a[n])) ||
		     (n < blen && is_cont(b[n]))))
		n--;
	return n;
}

/* The same for the longest common suffix. */
static size_t common_suffix(const char *a, size_t alen, const char *b,
			    size_t blen)
{
	size_t n = 0;

	while (alen - n >= 8 && blen - n >= 8 &&
	       !memcmp(a + alen - n - 8, b + blen - n - 8, 8))
		n += 8;
	while (n < alen && n < blen && a[alen - 1 - n] == b[blen - 1 - n])
		n++;
	while (n && is_cont(a[alen - n]))
		n--;
	return n;
}

/* -- Hunks: the code point diff ------------------------------------------- */

/* A common run of same code points, then a change (del from a, ins from b). */
struct run {
	size_t same, del, ins;
};

struct diff {
	struct emitter em;
	int64_t work;
	int spent;
	/* The last hunk_search(): the common ends it cut off (in bytes),
	 * and the code points between them and their marks, or whole if
	 * there are none (one side empty, or no search done). Reused from
	 * hunk to hunk. */
	size_t pre, suf;
	size_t na, nb;
	int whole;
	uint32_t *ua, *ub;
	uint8_t *ca, *cb;
	size_t ualloc, uballoc, caalloc, cballoc;
	struct run *runs;
	size_t nruns, runalloc;
};

static size_t max2(size_t x, size_t y)
{
	return x > y ? x : y;
}

/*
 * Diffs the code points of ap[0..an) and bp[0..bn), leaving the marks in
 * d. Returns 1 if the search was cut short (by the hunk's share of the
 * budget, or because the budget is gone): the marks are then exact but
 * coarse.
 */
static int hunk_search(struct diff *d, const char *ap, size_t an,
		       const char *bp, size_t bn)
{
	size_t na, nb;
	int64_t work;
	int spent;

	/* Cut the common ends first: only what is between is decoded. */
	d->pre = common_prefix(ap, an, bp, bn);
	ap += d->pre;
	an -= d->pre;
	bp += d->pre;
	bn -= d->pre;
	d->suf = common_suffix(ap, an, bp, bn);
	an -= d->suf;
	bn -= d->suf;
	na = text_utf8_count(ap, an);
	nb = text_utf8_count(bp, bn);
	d->na = na;
	d->nb = nb;
	d->whole = !na || !nb || d->work <= 0 || na >= TEXT_MYERS_MAX ||
		   nb >= TEXT_MYERS_MAX;
	if (d->whole)
		return na && nb;
	XGROW(d->ua, na, d->ualloc);
	XGROW(d->ub, nb, d->uballoc);
	XGROW(d->ca, na, d->caalloc);
	XGROW(d->cb, nb, d->cballoc);
	text_utf8_decode(ap, an, d->ua);
	text_utf8_decode(bp, bn, d->ub);
	memset(d->ca, 0, na);
	memset(d->cb, 0, nb);
	work = HUNK_WORK_BASE + HUNK_WORK_PER_CP * (int64_t)(na + nb);
	if (work > d->work)
		work = d->work;
	d->work -= work;
	spent = text_myers(d->ua, na, d->ub, nb, d->ca, d->cb, &work);
	if (work > 0)
		d->work += work;	/* what the hunk did not need */
	return spent;
}

/* Adds a run, folding it and the runs before it together while the common
 * stretch between two changes is no longer than either change. */
static void push_run(struct diff *d, struct run r)
{
	struct run *s;

	XGROW(d->runs, d->nruns + 1, d->runalloc);
	s = d->runs;
	s[d->nruns++] = r;
	while (d->nruns >= 2) {
		struct run *prev = &s[d->nruns - 2], *cur = &s[d->nruns - 1];

		if (cur->same > max2(prev->del, prev->ins) ||
		    cur->same > max2(cur->del, cur->ins))
			break;
		prev->del += cur->same + cur->del;
		prev->ins += cur->same + cur->ins;
		d->nruns--;
	}
}

/* The bytes of the next n code points of s[0..len). */
static size_t skip_cps(const char *s, size_t len, size_t n)
{
	return n ? text_utf8_offset(s, len, n) : 0;
}

/* Emits the edits of the last hunk_search() of ap[0..an) -> bp[0..bn). */
static void hunk_emit(struct diff *d, const char *ap, size_t an,
		      const char *bp, size_t bn)
{
	size_t na = d->na, nb = d->nb, i = 0, j = 0, ai = 0, bi = 0, k, n;

	emit_same(&d->em, d->pre, text_utf8_count(ap, d->pre));
	ap += d->pre;
	an -= d->pre + d->suf;
	bp += d->pre;
	bn -= d->pre + d->suf;
	if (d->whole) {
		emit_change(&d->em, an, na, bn, nb);
		emit_same(&d->em, d->suf, text_utf8_count(ap + an, d->suf));
		return;
	}
	/* Group the marks into runs; the unmarked code points of a and b
	 * pair up in order. The last run has no change: the common tail. */
	d->nruns = 0;
	for (;;) {
		struct run r = { 0, 0, 0 };

		while (i < na && j < nb && !d->ca[i] && !d->cb[j])
			i++, j++, r.same++;
		while (i < na && d->ca[i])
			i++, r.del++;
		while (j < nb && d->cb[j])
			j++, r.ins++;
		if (!r.del && !r.ins) {
			XGROW(d->runs, d->nruns + 1, d->runalloc);
			d->runs[d->nruns++] = r;
			break;
		}
		push_run(d, r);
	}

	for (k = 0; k < d->nruns; k++) {
		const struct run *r = &d->runs[k];
		size_t del, ins;

		n = skip_cps(ap + ai, an - ai, r->same);
		emit_same(&d->em, n, r->same);
		ai += n;
		bi += n;
		del = skip_cps(ap + ai, an - ai, r->del);
		ins = skip_cps(bp + bi, bn - bi, r->ins);
		emit_change(&d->em, del, r->del, ins, r->ins);
		ai += del;
		bi += ins;
	}
	emit_same(&d->em, d->suf, text_utf8_count(ap + an, d->suf));
}

/*
 * The hunk of lines [i0, i1) of a facing lines [j0, j1) of b, at the
 * emitter's place. Diffed as one, unless that is too costly and both
 * sides have as many lines (every line of a block rewritten): then line k
 * is diffed against line k, which is cheap and nearly as good.
 */
static void diff_hunk(struct diff *d, const char *a, const struct lines *la,
		      size_t i0, size_t i1, const char *b,
		      const struct lines *lb, size_t j0, size_t j1)
{
	const char *ap = a + la->off[i0], *bp = b + lb->off[j0];
	size_t an = la->off[i1] - la->off[i0], bn = lb->off[j1] - lb->off[j0];
	int spent = hunk_search(d, ap, an, bp, bn);

	if (spent && i1 - i0 == j1 - j0 && i1 - i0 > 1) {
		for (size_t k = 0; k < i1 - i0; k++) {
			ap = a + la->off[i0 + k];
			an = la->off[i0 + k + 1] - la->off[i0 + k];
			bp = b + lb->off[j0 + k];
			bn = lb->off[j0 + k + 1] - lb->off[j0 + k];
			d->spent |= hunk_search(d, ap, an, bp, bn);
			hunk_emit(d, ap, an, bp, bn);
		}
		return;
	}
	d->spent |= spent;
	hunk_emit(d, ap, an, bp, bn);
}

/* Lines [i0, i1) of a are in b too. */
static void emit_lines(struct diff *d, const char *a, const struct lines *la,
		       size_t i0, size_t i1)
{
	size_t n = la->off[i1] - la->off[i0];

	if (n)
		emit_same(&d->em, n, text_utf8_count(a + la->off[i0], n));
}

/* Diffs the middle parts a[0..alen) and b[0..blen) line by line, handing
 * each hunk to diff_hunk(). */
static void diff_lines(struct diff *d, const char *a, size_t alen,
		       const char *b, size_t blen)
{
	struct lines la, lb;
	uint8_t *ca, *cb;
	size_t i = 0, j = 0;
	int64_t work;

	lines_split(&la, a, alen);
	lines_split(&lb, b, blen);
	lines_classify(&la, a, &lb, b);
	ca = xcalloc(la.n + 1, 1);
	cb = xcalloc(lb.n + 1, 1);
	work = d->work / 2;
	d->work -= work;
	d->spent |= text_myers(la.id, la.n, lb.id, lb.n, ca, cb, &work);
	if (work > 0)
		d->work += work;

	/* Unchanged lines of a and b pair up in order; between two pairs
	 * lies a hunk. A pair that differs in whitespace is a hunk of its
	 * own. */
	for (;;) {
		size_t i0 = i, j0 = j;

		while (i < la.n && j < lb.n && !ca[i] && !cb[j]) {
			size_t n = la.off[i + 1] - la.off[i];

			if (n != lb.off[j + 1] - lb.off[j] ||
			    memcmp(a + la.off[i], b + lb.off[j], n)) {
				emit_lines(d, a, &la, i0, i);
				diff_hunk(d, a, &la, i, i + 1, b, &lb, j,
					  j + 1);
				i0 = i + 1;
			}
			i++, j++;
		}
		emit_lines(d, a, &la, i0, i);
		i0 = i;
		j0 = j;
		while (i < la.n && ca[i])
			i++;
		while (j < lb.n && cb[j])
			j++;
		if (i == i0 && j == j0)
			break;
		diff_hunk(d, a, &la, i0, i, b, &lb, j0, j);
	}
	free(ca);
	free(cb);
	lines_release(&la);
	lines_release(&lb);
}

/* -- The whole ------------------------------------------------------------ */

static int line_start(const char *s, size_t i)
{
	return i == 0 || s[i - 1] == '\n';
}

int text_diff(const char *a, size_t alen, const char *b, size_t blen,
	      const struct text_diff_opts *opts, struct text_edits *out)
{
	struct diff d;
	size_t pre = 0, suf = 0, bad;
	uint64_t max_work = opts && opts->max_work ? opts->max_work
						   : TEXT_DIFF_WORK;
	int r;

	out->n = 0;
	out->coarse = 0;
	buf_reset(&out->arena);
	if (!alen)
		a = "";
	if (!blen)
		b = "";
	if ((bad = text_utf8_check(a, alen)) != alen)
		return lt_error(LT_EINVAL, "cannot diff: old text is not valid "
				"UTF-8 at byte %zu", bad);
	if ((bad = text_utf8_check(b, blen)) != blen)
		return lt_error(LT_EINVAL, "cannot diff: new text is not valid "
				"UTF-8 at byte %zu", bad);

	/* The common prefix and suffix, backed off to whole lines so that
	 * the line diff sees the lines as they are. */
	pre = common_prefix(a, alen, b, blen);
	if (pre == alen && pre == blen)
		return 0;
	while (!line_start(a, pre))
		pre--;
	suf = common_suffix(a + pre, alen - pre, b + pre, blen - pre);
	while (suf &&
	       (!line_start(a, alen - suf) || !line_start(b, blen - suf)))
		suf--;

	memset(&d, 0, sizeof(d));
	d.em.out = out;
	d.em.a = a;
	d.em.b = b;
	d.em.ai = d.em.bi = pre;
	d.em.pos = text_utf8_count(a, pre);
	d.em.end_ai = d.em.end_bi = SIZE_MAX;
	d.work = max_work > INT64_MAX ? INT64_MAX : (int64_t)max_work;
	diff_lines(&d, a + pre, alen - pre - suf, b + pre, blen - pre - suf);
	free(d.ua);
	free(d.ub);
	free(d.ca);
	free(d.cb);
	free(d.runs);

	out->coarse = d.spent;
	if ((r = own_texts(out)) < 0) {
		out->n = 0;
		return r;
	}
	return 0;
}

/* -- Applying ------------------------------------------------------------- */

int text_apply(struct buf *doc, const struct text_edit *e)
{
	size_t off, tail;
	int r;

	off = text_utf8_offset(doc->data, doc->len, e->pos);
	if (off == SIZE_MAX)
		return lt_error(LT_ECORRUPT, "edit at code point %llu is past "
				"the end of the document",
				(unsigned long long)e->pos);
	if ((e->op == TEXT_INSERT && (e->del_len || !e->ins_len)) ||
	    (e->op == TEXT_DELETE && (e->ins_len || !e->del_len)) ||
	    (e->op == TEXT_REPLACE && (!e->ins_len || !e->del_len)) ||
	    (e->op != TEXT_INSERT && e->op != TEXT_DELETE &&
	     e->op != TEXT_REPLACE))
		return lt_error(LT_ECORRUPT, "edit at code point %llu: op '%s' "
				"does not fit its texts",
				(unsigned long long)e->pos,
				text_op_name(e->op));
	if (text_utf8_check(e->ins, e->ins_len) != e->ins_len ||
	    text_utf8_check(e->del, e->del_len) != e->del_len)
		return lt_error(LT_ECORRUPT, "edit at code point %llu: text is "
				"not valid UTF-8", (unsigned long long)e->pos);
	if (text_utf8_count(e->del, e->del_len) != e->len)
		return lt_error(LT_ECORRUPT, "edit at code point %llu: deleted "
				"text is not %llu code points long",
				(unsigned long long)e->pos,
				(unsigned long long)e->len);
	if (e->del_len > doc->len - off ||
	    memcmp(doc->data + off, e->del, e->del_len))
		return lt_error(LT_ECORRUPT, "edit at code point %llu: deleted "
				"text does not match the document",
				(unsigned long long)e->pos);

	if (e->ins_len > e->del_len &&
	    (r = buf_grow(doc, e->ins_len - e->del_len)) < 0)
		return r;
	tail = doc->len - off - e->del_len;
	if (tail)
		memmove(doc->data + off + e->ins_len,
			doc->data + off + e->del_len, tail);
	if (e->ins_len)
		memcpy(doc->data + off, e->ins, e->ins_len);
	buf_setlen(doc, doc->len - e->del_len + e->ins_len);
	return 0;
}
