/*
 * The timeline dataset: windows of time aligning what was recorded in
 * them (doc/exports.md, "timeline").
 *
 * Records come in time order. The open window keeps only aggregates:
 * per document touched, counters and a copy of its text as the window
 * found it; per terminal session, its output with escapes stripped (up
 * to a cap) and counters; the markers and notes. When a record falls
 * past the window's end, the window is written as one line and
 * forgotten, so memory does not grow with the length of the recording.
 * A document's net change in a window is the difference between that
 * copy and its text at the window's end, shown as one unified-diff hunk
 * from the first changed line to the last.
 *
 * Redaction: one placeholder map per window (redact_begin_doc() as each
 * window is written), shared by everything in it, so that <EMAIL_1> is
 * the same address in a document's diff and in a terminal's output of
 * the same window. Windows are the examples; nothing of one window's
 * numbering leaks into another's.
 */
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "error.h"
#include "ltime.h"
#include "redact.h"
#include "text.h"
#include "strmap.h"
#include "xalloc.h"
#include "banned.h"

void timeline_opts_init(struct timeline_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->window_ns = 300 * LT_NS_PER_SEC;
	o->since = INT64_MIN;
	o->until = INT64_MAX;
	o->max_diff = 4096;
	o->max_output = 8192;
	o->max_text = 4096;
	o->max_docs = 256;
	o->max_sessions = 64;
	o->max_items = 256;
}

/* ---- Terminal text ------------------------------------------------------ */

enum { ST_GROUND, ST_ESC, ST_INTER, ST_CSI, ST_STR, ST_STR_ESC };

void ds_strip_ansi(int *state, const char *p, size_t n, struct buf *out)
{
	int st = *state;
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)p[i];

		if (st == ST_GROUND) {
			size_t run = i;
			/* Printable runs (and UTF-8) copied whole. */
			while (run < n && ((unsigned char)p[run] >= 0x20 &&
					   (unsigned char)p[run] != 0x7f))
				run++;
			buf_add(out, p + i, run - i);
			if ((i = run) == n)
				break;
			c = (unsigned char)p[i++];
			if (c == 0x1b)
				st = ST_ESC;
			else if (c == '\n' || c == '\t')
				buf_addch(out, c);
			continue;
		}
		i++;
		switch (st) {
		case ST_ESC:
			if (c == '[')
				st = ST_CSI;
			else if (c == ']' || c == 'P' || c == 'X' || c == '^' ||
				 c == '_')
				st = ST_STR;
			else if (c >= 0x20 && c <= 0x2f)
				st = ST_INTER;
			else if (c != 0x1b)
				st = ST_GROUND;
			break;
		case ST_INTER:
			if (c >= 0x30 && c <= 0x7e)
				st = ST_GROUND;
			else if (c == 0x1b)
				st = ST_ESC;
			break;
		case ST_CSI:
			if (c >= 0x40 && c <= 0x7e)
				st = ST_GROUND;
			else if (c == 0x1b)
				st = ST_ESC;
			break;
		case ST_STR:
			/* OSC ends with BEL or ST (ESC \), the others with ST. */
			if (c == 0x07)
				st = ST_GROUND;
			else if (c == 0x1b)
				st = ST_STR_ESC;
			break;
		case ST_STR_ESC:
			st = c == '\\' ? ST_GROUND : c == 0x1b ? ST_STR_ESC
							  : ST_STR;
			break;
		}
	}
	*state = st;
}

void ds_utf8_sanitize(struct buf *out, const char *s, size_t n)
{
	while (n) {
		size_t ok = text_utf8_check(s, n);

		buf_add(out, s, ok);
		if (ok == n)
			break;
		buf_addstr(out, "\xef\xbf\xbd");
		s += ok + 1;
		n -= ok + 1;
	}
}

/* ---- State that lasts across windows ------------------------------------ */

struct tdoc {
	char *id;
	char *path;
	struct buf text;
	int known;		/* text is the document's state */
	int started;
	uint64_t last_seq;
	long win;		/* its entry in the open window, or -1 */
};

struct tsess {
	char *id;
	int esc;		/* ds_strip_ansi() state */
	long win;
};

/* ---- The open window ---------------------------------------------------- */

enum { OP_INSERT, OP_DELETE, OP_REPLACE, OP_SNAPSHOT, OP_STRUCTURAL,
       OP_OTHER, NOPS };
static const char *const op_names[NOPS] = {
	"insert", "delete", "replace", "snapshot", "structural", "other",
};

struct wdoc {
	struct tdoc *d;
	uint64_t seq0, seq1;
	uint64_t saves;
	char *group;		/* the last record's */
	uint64_t ops[NOPS];
	uint64_t ins_cp, del_cp;
	int before_known;
	struct buf before;
};

struct wsess {
	struct tsess *s;
	char *command;		/* from a term.start in the window */
	struct buf out;		/* stripped, capped */
	int out_trunc;
	uint64_t input;		/* term.in events withheld */
	int started, ended;
};

struct item {
	int64_t t;
	char *text;
	size_t len;
	char *session;
};

struct timeline {
	struct timeline_opts o;
	struct redactor *r;
	timeline_emit_fn *emit;
	void *ctx;
	struct timeline_stats st;

	struct strmap docs;	/* id -> struct tdoc */
	struct tsess **sess;	/* sorted by id */
	size_t nsess, asess;

	int open;
	int64_t start, end;
	int truncated;
	struct wdoc *wd;
	size_t nwd, awd;
	struct wsess *ws;
	size_t nws, aws;
	struct item *it[2];	/* markers, notes */
	size_t nit[2], ait[2];

	struct buf line, tmp, red, hunk;
};

static struct tdoc *doc_get(struct timeline *x, const char *id)
{
	struct strmap_ent *e = strmap_put(&x->docs, id);
	struct tdoc *d = e->val;

	if (d)
		return d;
	d = e->val = xcalloc(1, sizeof(*d));
	d->id = xstrdup(id);
	d->win = -1;
	buf_init(&d->text, 0);
	return d;
}

/* The session's state; with make == 0, NULL if it is not known. */
static struct tsess *sess_get(struct timeline *x, const char *id, int make)
{
	size_t lo = 0, hi = x->nsess;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(x->sess[mid]->id, id);
		if (!c)
			return x->sess[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!make)
		return NULL;
	XGROW(x->sess, x->nsess + 1, x->asess);
	memmove(x->sess + lo + 1, x->sess + lo, (x->nsess - lo) * sizeof(*x->sess));
	x->sess[lo] = xcalloc(1, sizeof(struct tsess));
	x->sess[lo]->id = xstrdup(id);
	x->sess[lo]->win = -1;
	x->nsess++;
	return x->sess[lo];
}

static void sess_drop(struct timeline *x, struct tsess *s)
{
	for (size_t i = 0; i < x->nsess; i++) {
		if (x->sess[i] != s)
			continue;
		memmove(x->sess + i, x->sess + i + 1,
			(x->nsess - i - 1) * sizeof(*x->sess));
		x->nsess--;
		break;
	}
	free(s->id);
	free(s);
}

/* ---- Writing a window --------------------------------------------------- */

static void add_u64(struct buf *b, uint64_t v)
{
	buf_addf(b, "%llu", (unsigned long long)v);
}

static void add_time(struct buf *b, int64_t t)
{
	char s[LT_TIME_MAX_LEN];

	lt_time_format(t, s);
	buf_addch(b, '"');
	buf_addstr(b, s);
	buf_addch(b, '"');
}

/* s[0..n) redacted with the window's placeholders, as a JSON string. */
static void add_text(struct timeline *x, const char *s, size_t n)
{
	buf_reset(&x->red);
	if (x->r)
		redact_text(x->r, s, n, &x->red);
	else
		buf_add(&x->red, s, n);
	ds_json_str(&x->line, x->red.data, x->red.len);
}

/* The longest prefix of s[0..n) of at most max bytes that ends after a
 * newline, else on a character boundary. */
static size_t cut_at(const char *s, size_t n, size_t max)
{
	size_t k = max;

	if (n <= max)
		return n;
	while (k > 0 && s[k - 1] != '\n')
		k--;
	if (k > 0)
		return k;
	k = max;
	while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
		k--;
	return k;
}

static size_t count_lines(const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == '\n';
	return k + (n && s[n - 1] != '\n');
}

static void hunk_lines(struct buf *o, char mark, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t j = nl ? (size_t)(nl - s) + 1 : n;

		buf_addch(o, mark);
		buf_add(o, s + i, j - i);
		if (s[j - 1] != '\n')
			buf_addch(o, '\n');
		i = j;
	}
}

#define DIFF_CONTEXT 2

/* The net change a -> b as one unified hunk with DIFF_CONTEXT lines of
 * context, into x->hunk (empty if a and b are equal). */
static void net_diff(struct timeline *x, const char *a, size_t alen,
		     const char *b, size_t blen)
{
	size_t lo, ahi, bhi, ls, le, le2, cs, ce, ce2, line = 1;
	struct buf *o = &x->hunk;

	buf_reset(o);
	if (!ds_change_span(a, alen, b, blen, &lo, &ahi, &bhi))
		return;
	if (lo == ahi && (lo == 0 || a[lo - 1] == '\n') && b[bhi - 1] == '\n')
		ls = le = lo;	/* whole lines inserted: no line is removed */
	else
		ds_widen_lines(a, alen, lo, ahi, 0, &ls, &le);
	le2 = le + bhi - ahi;
	/* DIFF_CONTEXT whole lines before ls and after le (both at line
	 * starts, or le at the end). */
	cs = ls;
	for (int k = 0; k < DIFF_CONTEXT && cs > 0; k++) {
		cs--;
		while (cs > 0 && a[cs - 1] != '\n')
			cs--;
	}
	ce = le;
	for (int k = 0; k < DIFF_CONTEXT && ce < alen; k++) {
		const char *nl = memchr(a + ce, '\n', alen - ce);
		ce = nl ? (size_t)(nl - a) + 1 : alen;
	}
	ce2 = ce + bhi - ahi;
	for (size_t i = 0; i < cs; i++)
		line += a[i] == '\n';
	{
		size_t na = count_lines(a + cs, ce - cs);
		size_t nb = count_lines(b + cs, ce2 - cs);
		buf_addf(o, "@@ -%zu,%zu +%zu,%zu @@\n", na ? line : line - 1,
			 na, nb ? line : line - 1, nb);
	}
	hunk_lines(o, ' ', a + cs, ls - cs);
	hunk_lines(o, '-', a + ls, le - ls);
	hunk_lines(o, '+', b + ls, le2 - ls);
	hunk_lines(o, ' ', a + le, ce - le);
}

static void write_docs(struct timeline *x)
{
	struct buf *l = &x->line;

	buf_addstr(l, "\"documents\":[");
	for (size_t i = 0; i < x->nwd; i++) {
		struct wdoc *w = &x->wd[i];
		struct tdoc *d = w->d;
		int trunc = 0;
		size_t n = 0;

		if (i)
			buf_addch(l, ',');
		buf_addstr(l, "{\"doc\":");
		ds_json_str(l, d->id, strlen(d->id));
		buf_addstr(l, ",\"path\":");
		add_text(x, d->path ? d->path : "", d->path ? strlen(d->path) : 0);
		buf_addstr(l, ",\"seq\":[");
		add_u64(l, w->seq0);
		buf_addch(l, ',');
		add_u64(l, w->seq1);
		buf_addstr(l, "],\"saves\":");
		add_u64(l, w->saves);
		buf_addstr(l, ",\"ops\":{");
		for (int k = 0; k < NOPS; k++) {
			buf_addf(l, "%s\"%s\":", k ? "," : "", op_names[k]);
			add_u64(l, w->ops[k]);
		}
		buf_addstr(l, "},\"chars_inserted\":");
		add_u64(l, w->ins_cp);
		buf_addstr(l, ",\"chars_deleted\":");
		add_u64(l, w->del_cp);
		buf_reset(&x->hunk);
		if (w->before_known && d->known)
			net_diff(x, w->before.data, w->before.len, d->text.data,
				 d->text.len);
		n = cut_at(x->hunk.data, x->hunk.len, x->o.max_diff);
		trunc = n < x->hunk.len;
		buf_addstr(l, ",\"diff\":");
		add_text(x, x->hunk.data, n);
		buf_addf(l, ",\"diff_truncated\":%s}", trunc ? "true" : "false");
		x->truncated |= trunc;
	}
	buf_addch(l, ']');
}

static void write_terms(struct timeline *x)
{
	struct buf *l = &x->line;

	buf_addstr(l, ",\"terminal\":[");
	for (size_t i = 0; i < x->nws; i++) {
		struct wsess *w = &x->ws[i];

		if (i)
			buf_addch(l, ',');
		buf_addstr(l, "{\"session\":");
		ds_json_str(l, w->s->id, strlen(w->s->id));
		buf_addstr(l, ",\"commands\":[");
		if (w->command)
			add_text(x, w->command, strlen(w->command));
		buf_addstr(l, "],\"output\":");
		buf_reset(&x->tmp);
		ds_utf8_sanitize(&x->tmp, w->out.data, w->out.len);
		add_text(x, x->tmp.data, x->tmp.len);
		buf_addf(l, ",\"output_truncated\":%s,\"input_withheld\":",
			 w->out_trunc ? "true" : "false");
		add_u64(l, w->input);
		buf_addf(l, ",\"started\":%s,\"ended\":%s}",
			 w->started ? "true" : "false",
			 w->ended ? "true" : "false");
		x->truncated |= w->out_trunc;
	}
	buf_addch(l, ']');
}

static void write_items(struct timeline *x, int k)
{
	struct buf *l = &x->line;

	buf_addstr(l, k ? ",\"notes\":[" : ",\"markers\":[");
	for (size_t i = 0; i < x->nit[k]; i++) {
		struct item *m = &x->it[k][i];

		buf_addstr(l, i ? ",{\"time\":" : "{\"time\":");
		add_time(l, m->t);
		buf_addstr(l, ",\"text\":");
		add_text(x, m->text, m->len);
		if (!k) {
			buf_addstr(l, ",\"session\":");
			if (m->session)
				ds_json_str(l, m->session, strlen(m->session));
			else
				buf_addstr(l, "null");
		}
		buf_addch(l, '}');
	}
	buf_addch(l, ']');
}

static void window_clear(struct timeline *x)
{
	for (size_t i = 0; i < x->nwd; i++) {
		x->wd[i].d->win = -1;
		free(x->wd[i].group);
		buf_release(&x->wd[i].before);
	}
	for (size_t i = 0; i < x->nws; i++) {
		struct wsess *w = &x->ws[i];
		free(w->command);
		buf_release(&w->out);
		if (w->ended)
			sess_drop(x, w->s);
		else
			w->s->win = -1;
	}
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < x->nit[k]; i++) {
			free(x->it[k][i].text);
			free(x->it[k][i].session);
		}
		x->nit[k] = 0;
	}
	x->nwd = x->nws = 0;
	x->truncated = 0;
	x->open = 0;
}

static int window_close(struct timeline *x)
{
	struct buf *l = &x->line;
	int r;

	if (!x->open)
		return 0;
	if (x->r)
		redact_begin_doc(x->r);
	buf_reset(l);
	buf_addstr(l, "{\"start\":");
	add_time(l, x->start);
	buf_addstr(l, ",\"end\":");
	add_time(l, x->end);
	buf_addch(l, ',');
	write_docs(x);
	write_terms(x);
	write_items(x, 0);
	write_items(x, 1);
	buf_addf(l, ",\"windows\":[],\"keys\":[],\"screen\":[],"
		 "\"transcripts\":[],\"truncated\":%s}",
		 x->truncated ? "true" : "false");
	x->st.windows++;
	x->st.truncated += x->truncated;
	x->st.doc_entries += x->nwd;
	x->st.session_entries += x->nws;
	x->st.markers += x->nit[0];
	x->st.notes += x->nit[1];
	r = x->emit(x->ctx, x->start, l->data, l->len);
	window_clear(x);
	return r < 0 ? r : 0;
}

/* Closes the window if t is past it; returns whether t adds to a window
 * (then one is open for it), or a negative error. */
static int window_at(struct timeline *x, int64_t t)
{
	int64_t w = x->o.window_ns, s;
	int r;

	if (t < x->o.since || t >= x->o.until)
		return 0;
	if (x->open && t < x->end)
		return 1;
	if ((r = window_close(x)) < 0)
		return r;
	s = t / w * w;
	if (s > t)
		s -= w;		/* floor, for times before 1970 */
	x->start = s;
	x->end = s > INT64_MAX - w ? INT64_MAX : s + w;
	x->open = 1;
	return 1;
}

/* ---- Feeding ------------------------------------------------------------ */

static struct wdoc *wdoc_of(struct timeline *x, struct tdoc *d, uint64_t seq)
{
	struct wdoc *w;

	if (d->win >= 0)
		return &x->wd[d->win];
	if (x->nwd >= x->o.max_docs) {
		x->truncated = 1;
		return NULL;
	}
	XGROW(x->wd, x->nwd + 1, x->awd);
	w = &x->wd[x->nwd];
	memset(w, 0, sizeof(*w));
	d->win = (long)x->nwd++;
	w->d = d;
	w->seq0 = seq;
	w->before_known = d->known;
	buf_init(&w->before, 0);
	if (d->known)
		buf_add(&w->before, d->text.data, d->text.len);
	return w;
}

static int op_index(const char *op)
{
	for (int k = 0; k < OP_OTHER; k++)
		if (!strcmp(op, op_names[k]))
			return k;
	return OP_OTHER;
}

/* Applies e to d's text; the state is lost if it does not fit. */
static void doc_apply(struct timeline *x, struct tdoc *d,
		      const struct edit_rec *e, int k)
{
	struct text_edit te;

	if (k == OP_SNAPSHOT) {
		buf_reset(&d->text);
		buf_add(&d->text, e->text ? e->text : "", e->text_len);
		d->known = 1;
		return;
	}
	if (k == OP_STRUCTURAL) {
		if (e->action && !strcmp(e->action, "delete")) {
			d->known = 0;
			buf_reset(&d->text);
		}
		return;
	}
	if (k > OP_REPLACE || !d->known)
		return;
	te.op = k == OP_INSERT ? TEXT_INSERT : k == OP_DELETE ? TEXT_DELETE
							      : TEXT_REPLACE;
	te.pos = e->pos;
	te.len = e->len;
	te.ins = e->ins ? e->ins : "";
	te.ins_len = e->ins_len;
	te.del = e->del;
	te.del_len = e->del_len;
	if (!te.del || text_apply(&d->text, &te)) {
		d->known = 0;
		x->st.unknown++;
	}
}

int timeline_edit(struct timeline *x, const struct edit_rec *e)
{
	struct tdoc *d;
	struct wdoc *w = NULL;
	const char *op = e->op ? e->op : "";
	int k = op_index(op), in, plain;

	x->st.edits++;
	if (!e->doc || !e->has_seq)
		return 0;
	if ((in = window_at(x, e->t)) < 0)
		return in;
	d = doc_get(x, e->doc);
	if (d->started && e->seq <= d->last_seq)
		return 0;	/* a repeated seq, dropped as history does */
	if (in && (w = wdoc_of(x, d, e->seq))) {
		w->seq1 = e->seq;
		w->ops[k]++;
		w->ins_cp += text_utf8_count(e->ins ? e->ins : "", e->ins_len);
		w->del_cp += k == OP_DELETE || k == OP_REPLACE ? e->len : 0;
		if (!w->saves || (e->group ? !w->group || strcmp(w->group, e->group)
					   : w->group != NULL)) {
			w->saves++;
			free(w->group);
			w->group = e->group ? xstrdup(e->group) : NULL;
		}
	}
	if (e->path && (!d->path || strcmp(d->path, e->path))) {
		free(d->path);
		d->path = xstrdup(e->path);
	}
	if (k == OP_STRUCTURAL && e->action && !strcmp(e->action, "rename") &&
	    e->to) {
		free(d->path);
		d->path = xstrdup(e->to);
	}
	/* Notebooks (a cell as the part) are counted, not diffed. */
	plain = (!e->part || !e->path || !strcmp(e->part, e->path)) &&
		!e->detail_index;
	if (d->started && e->seq != d->last_seq + 1 && k != OP_SNAPSHOT)
		d->known = 0;	/* a gap in seq: what came between is lost */
	if (!d->started && e->seq == 0 && k <= OP_REPLACE)
		d->known = 1;	/* a document that starts empty */
	d->started = 1;
	d->last_seq = e->seq;
	if (!plain) {
		d->known = 0;
		if (w)
			w->before_known = 0;
		return 0;
	}
	doc_apply(x, d, e, k);
	/* A document first known in this window (its first snapshot):
	 * the net change counts from there. */
	if (w && !w->before_known && d->known && k == OP_SNAPSHOT) {
		w->before_known = 1;
		buf_reset(&w->before);
		buf_add(&w->before, d->text.data, d->text.len);
	}
	return 0;
}

static struct wsess *wsess_of(struct timeline *x, struct tsess *s)
{
	struct wsess *w;

	if (s->win >= 0)
		return &x->ws[s->win];
	if (x->nws >= x->o.max_sessions) {
		x->truncated = 1;
		return NULL;
	}
	XGROW(x->ws, x->nws + 1, x->aws);
	w = &x->ws[x->nws];
	memset(w, 0, sizeof(*w));
	buf_init(&w->out, 0);
	s->win = (long)x->nws++;
	w->s = s;
	return w;
}

int timeline_term_start(struct timeline *x, int64_t t, const char *session,
			const char *command)
{
	struct tsess *s;
	struct wsess *w;
	int in;

	x->st.term++;
	if ((in = window_at(x, t)) <= 0)
		return in;
	s = sess_get(x, session, 1);
	s->esc = 0;
	if ((w = wsess_of(x, s))) {
		w->started = 1;
		if (command && !w->command)
			w->command = xstrdup(command);
	}
	return 0;
}

int timeline_term_io(struct timeline *x, int64_t t, const char *session,
		     int input, const void *p, size_t n)
{
	struct tsess *s;
	struct wsess *w;
	int in;

	x->st.term++;
	if ((in = window_at(x, t)) <= 0)
		return in;
	s = sess_get(x, session, 1);
	if (!(w = wsess_of(x, s)))
		return 0;
	if (input) {
		w->input++;
		return 0;
	}
	if (w->out_trunc) {
		/* Keep the escape state right for the next window. */
		buf_reset(&x->tmp);
		ds_strip_ansi(&s->esc, p, n, &x->tmp);
		return 0;
	}
	ds_strip_ansi(&s->esc, p, n, &w->out);
	if (w->out.len > x->o.max_output) {
		size_t k = x->o.max_output;
		while (k > 0 && ((unsigned char)w->out.data[k] & 0xc0) == 0x80)
			k--;
		buf_setlen(&w->out, k);
		w->out_trunc = 1;
	}
	return 0;
}

int timeline_term_end(struct timeline *x, int64_t t, const char *session)
{
	struct tsess *s;
	struct wsess *w;
	int in;

	x->st.term++;
	if ((in = window_at(x, t)) < 0)
		return in;
	if (!(s = sess_get(x, session, in)))
		return 0;
	if (in && (w = wsess_of(x, s))) {
		w->ended = 1;	/* dropped when the window closes */
		return 0;
	}
	if (s->win < 0)
		sess_drop(x, s);
	else
		x->ws[s->win].ended = 1;
	return 0;
}

int timeline_mark(struct timeline *x, int64_t t, int is_note,
		  const char *text, size_t n, const char *session)
{
	struct item *m;
	int k = is_note ? 1 : 0, in;
	size_t cut;

	if ((in = window_at(x, t)) <= 0)
		return in;
	if (x->nit[k] >= x->o.max_items) {
		x->truncated = 1;
		return 0;
	}
	XGROW(x->it[k], x->nit[k] + 1, x->ait[k]);
	m = &x->it[k][x->nit[k]++];
	cut = n;
	if (n > x->o.max_text) {
		cut = x->o.max_text;
		while (cut > 0 && ((unsigned char)text[cut] & 0xc0) == 0x80)
			cut--;
		x->truncated = 1;
	}
	m->t = t;
	m->text = xmalloc(cut + 1);
	memcpy(m->text, text, cut);
	m->text[cut] = '\0';
	m->len = cut;
	m->session = session ? xstrdup(session) : NULL;
	return 0;
}

/* ---- Life ---------------------------------------------------------------- */

struct timeline *timeline_new(const struct timeline_opts *o,
			      struct redactor *r, timeline_emit_fn *emit,
			      void *ctx)
{
	struct timeline *x = xcalloc(1, sizeof(*x));

	x->o = *o;
	if (x->o.window_ns <= 0)
		x->o.window_ns = 300 * LT_NS_PER_SEC;
	x->r = r;
	x->emit = emit;
	x->ctx = ctx;
	buf_init(&x->line, 1 << 14);
	buf_init(&x->tmp, 0);
	buf_init(&x->red, 0);
	buf_init(&x->hunk, 0);
	return x;
}

int timeline_finish(struct timeline *x)
{
	return window_close(x);
}

const struct timeline_stats *timeline_get_stats(const struct timeline *x)
{
	return &x->st;
}

void timeline_free(struct timeline *x)
{
	if (!x)
		return;
	window_clear(x);
	for (size_t i = 0; i < x->docs.size; i++) {
		struct tdoc *d = x->docs.v[i].val;
		if (!x->docs.v[i].key)
			continue;
		free(d->id);
		free(d->path);
		buf_release(&d->text);
		free(d);
	}
	strmap_release(&x->docs);
	for (size_t i = 0; i < x->nsess; i++) {
		free(x->sess[i]->id);
		free(x->sess[i]);
	}
	free(x->sess);
	free(x->wd);
	free(x->ws);
	free(x->it[0]);
	free(x->it[1]);
	buf_release(&x->line);
	buf_release(&x->tmp);
	buf_release(&x->red);
	buf_release(&x->hunk);
	free(x);
}
