/*
 * Etherpad's easysync changesets and .etherpad exports (etherpad.h).
 *
 * NOTES
 *
 *  1. The grammar is Etherpad's own (src/static/js/Changeset.js, unpack
 *     and deserializeOps): the header must open the string; an op is
 *     ("*" N)* ["|" N] ("=" | "-" | "+") N with N of [0-9a-z]+; anything
 *     else before "$" is an error; the char bank is all that follows the
 *     first "$". Numbers above 2^53 are refused (JavaScript's parseInt
 *     would round them).
 *  2. Lengths are UTF-16 code units, positions in labtape are code
 *     points. The document is kept as code points and every op is
 *     walked character by character, adding 1 or 2 units per code point;
 *     an op that would end inside a surrogate pair is an error (Etherpad
 *     could once do that when a backspace took half an emoji, and such a
 *     pad has no text in code points).
 *  3. easysync_apply() builds the next state in scratch space and
 *     collects the changes; only when the whole changeset has applied
 *     are the changes handed out and the state swapped in, so a bad
 *     changeset leaves the document as it was and reports nothing.
 *  4. The checks are those of Etherpad: applyToText's (old length, the
 *     newline count of every op) and checkRep's arithmetic (the ops and
 *     the bank add up to the header's new length). Attribute numbers
 *     resolve through the pad's pool (it only grows, so the last one
 *     names every number ever used), else the revision's own meta.pool.
 */
#include "etherpad.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "text.h"
#include "xalloc.h"
#include "banned.h"

#define NUM_MAX (UINT64_C(1) << 53)

/* -- Changesets ----------------------------------------------------------- */

void easysync_init(struct easysync_cs *cs)
{
	memset(cs, 0, sizeof(*cs));
}

void easysync_release(struct easysync_cs *cs)
{
	free(cs->ops);
	easysync_init(cs);
}

static int is_digit36(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

static unsigned digit36(char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10);
}

/* Reads a base-36 number at s[*i]; -1 if there is none or it is too big. */
static int read_num(const char *s, size_t n, size_t *i, uint64_t *out)
{
	uint64_t v = 0;
	size_t start = *i;

	while (*i < n && is_digit36(s[*i])) {
		v = v * 36 + digit36(s[*i]);
		if (v > NUM_MAX)
			return -1;
		(*i)++;
	}
	*out = v;
	return *i > start ? 0 : -1;
}

int64_t easysync_num(const char *s, size_t n)
{
	size_t i = 0;
	uint64_t v;

	if (read_num(s, n, &i, &v) || i != n)
		return -1;
	return (int64_t)v;
}

static int bad(size_t at, const char *s, size_t n, const char *what)
{
	if (at < n) {
		unsigned char c = (unsigned char)s[at];
		if (c >= 0x20 && c < 0x7f)
			return lt_error(LT_EINVAL, "at character %zu: unexpected "
					"'%c' (expected %s)", at, c, what);
		return lt_error(LT_EINVAL, "at character %zu: unexpected byte "
				"0x%02x (expected %s)", at, c, what);
	}
	return lt_error(LT_EINVAL, "at character %zu: the changeset ends "
			"(expected %s)", at, what);
}

/* The length of UTF-8 s[0..n) in UTF-16 code units. */
static uint64_t utf16_len(const char *s, size_t n)
{
	uint64_t u = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c & 0xc0) != 0x80)
			u += c >= 0xf0 ? 2 : 1;
	}
	return u;
}

int easysync_parse(const char *s, size_t n, struct easysync_cs *cs)
{
	uint64_t delta, kept = 0, ins = 0, bank_units;
	size_t i = 2;
	int grow;

	cs->nops = 0;
	cs->bank = NULL;
	cs->bank_len = 0;
	if (n < 2 || s[0] != 'Z' || s[1] != ':')
		return lt_error(LT_EINVAL, "does not start with 'Z:' (not an "
				"easysync changeset)");
	if (read_num(s, n, &i, &cs->old_len))
		return bad(i, s, n, "the old length, in base 36");
	if (i >= n || (s[i] != '>' && s[i] != '<'))
		return bad(i, s, n, "'>' or '<'");
	grow = s[i++] == '>';
	if (read_num(s, n, &i, &delta))
		return bad(i, s, n, "the length change, in base 36");
	if (!grow && delta > cs->old_len)
		return lt_error(LT_EINVAL, "the new length would be below zero "
				"(%" PRIu64 " - %" PRIu64 ")", cs->old_len, delta);
	cs->new_len = grow ? cs->old_len + delta : cs->old_len - delta;
	while (i < n && s[i] != '$') {
		struct easysync_op op = { 0, 0, 0, i, 0 };

		while (i < n && s[i] == '*') {
			uint64_t a;
			i++;
			if (read_num(s, n, &i, &a))
				return bad(i, s, n, "an attribute number, in "
					   "base 36");
		}
		op.attribs_len = i - op.attribs;
		if (i < n && s[i] == '|') {
			i++;
			if (read_num(s, n, &i, &op.lines))
				return bad(i, s, n, "a newline count, in base 36");
		}
		if (i >= n || (s[i] != '=' && s[i] != '-' && s[i] != '+'))
			return bad(i, s, n, "an op: '=', '-' or '+'");
		op.opcode = s[i++];
		if (read_num(s, n, &i, &op.chars))
			return bad(i, s, n, "a length, in base 36");
		if (op.lines > op.chars)
			return lt_error(LT_EINVAL, "at character %zu: an op of "
					"%" PRIu64 " characters cannot hold %"
					PRIu64 " newlines", op.attribs, op.chars,
					op.lines);
		if (op.opcode == '+')
			ins += op.chars;
		else
			kept += op.chars;	/* '=' and '-' use up old text */
		if (kept > cs->old_len)
			return lt_error(LT_EINVAL, "at character %zu: the ops "
					"cover %" PRIu64 " characters of a text of "
					"%" PRIu64, op.attribs, kept, cs->old_len);
		XGROW(cs->ops, cs->nops + 1, cs->alloc);
		cs->ops[cs->nops++] = op;
	}
	if (i < n) {
		cs->bank = s + i + 1;
		cs->bank_len = n - i - 1;
	}
	if (text_utf8_check(cs->bank ? cs->bank : "", cs->bank_len) !=
	    cs->bank_len)
		return lt_error(LT_EINVAL, "the char bank is not valid UTF-8");
	bank_units = utf16_len(cs->bank ? cs->bank : "", cs->bank_len);
	if (bank_units != ins)
		return lt_error(LT_EINVAL, "the ops insert %" PRIu64 " characters "
				"but the char bank holds %" PRIu64, ins,
				bank_units);
	/* Each op's '=' and '+' make the new text, and what the ops do not
	 * reach is kept. */
	{
		uint64_t dels = 0;
		for (size_t k = 0; k < cs->nops; k++)
			if (cs->ops[k].opcode == '-')
				dels += cs->ops[k].chars;
		if (cs->old_len - dels + ins != cs->new_len)
			return lt_error(LT_EINVAL, "the header says the new "
					"length is %" PRIu64 " but the ops make "
					"%" PRIu64, cs->new_len,
					cs->old_len - dels + ins);
	}
	return 0;
}

/* -- The document --------------------------------------------------------- */

void easysync_doc_init(struct easysync_doc *d)
{
	memset(d, 0, sizeof(*d));
}

void easysync_doc_release(struct easysync_doc *d)
{
	free(d->cp);
	free(d->scratch);
	easysync_doc_init(d);
}

static unsigned units_of(uint32_t c)
{
	return c >= 0x10000 ? 2 : 1;
}

int easysync_doc_set(struct easysync_doc *d, const char *s, size_t n)
{
	if (text_utf8_check(s, n) != n)
		return lt_error(LT_EINVAL, "not valid UTF-8");
	XGROW(d->cp, text_utf8_count(s, n) + 1, d->alloc);
	d->n = text_utf8_decode(s, n, d->cp);
	d->units = 0;
	for (size_t i = 0; i < d->n; i++)
		d->units += units_of(d->cp[i]);
	return 0;
}

static void put_utf8(struct buf *out, uint32_t c)
{
	char b[4];
	size_t n;

	if (c < 0x80) {
		b[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		b[0] = (char)(0xc0 | (c >> 6));
		b[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		b[0] = (char)(0xe0 | (c >> 12));
		b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (c >> 18));
		b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	buf_add(out, b, n);
}

static void add_cps(struct buf *out, const uint32_t *cp, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_utf8(out, cp[i]);
}

void easysync_doc_text(const struct easysync_doc *d, struct buf *out)
{
	add_cps(out, d->cp, d->n);
}

/* -- Applying a changeset (notes 2 and 3) --------------------------------- */

struct pending {
	enum easysync_kind kind;
	uint64_t pos, len;
	size_t text, text_len;	/* in struct applier's text */
	size_t attribs, attribs_len;
};

struct applier {
	const char *s;
	struct pending *ch;
	size_t nch, alloc;
	struct buf text;
	int open;		/* ch[nch - 1] may still grow */
};

/* Adds a change, merged with the last one when it goes on from it. */
static void add_change(struct applier *a, enum easysync_kind kind,
		       uint64_t pos, const uint32_t *cp, size_t k,
		       const struct easysync_op *op)
{
	struct pending *last = a->open ? &a->ch[a->nch - 1] : NULL;

	if (last && last->kind == kind &&
	    last->attribs_len == op->attribs_len &&
	    !memcmp(a->s + last->attribs, a->s + op->attribs, op->attribs_len) &&
	    pos == (kind == EASYSYNC_DELETE ? last->pos : last->pos + last->len)) {
		last->len += k;
	} else {
		XGROW(a->ch, a->nch + 1, a->alloc);
		last = &a->ch[a->nch++];
		last->kind = kind;
		last->pos = pos;
		last->len = k;
		last->text = a->text.len;
		last->text_len = 0;
		last->attribs = op->attribs;
		last->attribs_len = op->attribs_len;
		a->open = 1;
	}
	if (kind != EASYSYNC_STYLE) {
		size_t before = a->text.len;
		add_cps(&a->text, cp, k);
		last->text_len += a->text.len - before;
	}
}

/*
 * Takes op->chars code units from src[*at..n) as code points: their
 * number in *k. Checks that they end on a character boundary and hold
 * op->lines newlines.
 */
static int take(const uint32_t *src, size_t n, size_t *at, size_t *k,
		const struct easysync_op *op, size_t opno, const char *from)
{
	uint64_t u = 0, lines = 0;
	size_t i = *at;

	while (u < op->chars && i < n) {
		u += units_of(src[i]);
		lines += src[i] == '\n';
		i++;
	}
	if (u < op->chars)
		return lt_error(LT_EINVAL, "op %zu ('%c%" PRIu64 "') runs past "
				"the end of the %s", opno + 1, op->opcode,
				op->chars, from);
	if (u > op->chars)
		return lt_error(LT_EINVAL, "op %zu ('%c%" PRIu64 "') ends "
				"inside the character U+%04" PRIX32 " (half of "
				"a UTF-16 surrogate pair), which has no text "
				"in code points", opno + 1, op->opcode,
				op->chars, src[i - 1]);
	if (lines != op->lines)
		return lt_error(LT_EINVAL, "op %zu ('%c%" PRIu64 "') says it "
				"holds %" PRIu64 " newlines but the %s there "
				"has %" PRIu64, opno + 1, op->opcode, op->chars,
				op->lines, from, lines);
	*k = i - *at;
	*at = i;
	return 0;
}

static int apply_ops(struct easysync_doc *d, const struct easysync_cs *cs,
		     const uint32_t *bank, size_t nbank, struct applier *a,
		     size_t *out_n)
{
	uint32_t *out = d->scratch;
	size_t oi = 0, bi = 0, no = 0, k;
	int r;

	for (size_t i = 0; i < cs->nops; i++) {
		const struct easysync_op *op = &cs->ops[i];
		size_t at;

		switch (op->opcode) {
		case '=':
			at = oi;
			if ((r = take(d->cp, d->n, &oi, &k, op, i, "text")))
				return r;
			memcpy(out + no, d->cp + at, k * sizeof(*out));
			if (op->attribs_len && k)
				add_change(a, EASYSYNC_STYLE, no, NULL, k, op);
			else
				a->open = 0;
			no += k;
			break;
		case '-':
			at = oi;
			if ((r = take(d->cp, d->n, &oi, &k, op, i, "text")))
				return r;
			if (k)
				add_change(a, EASYSYNC_DELETE, no, d->cp + at, k,
					   op);
			break;
		default:
			at = bi;
			if ((r = take(bank, nbank, &bi, &k, op, i, "char bank")))
				return r;
			memcpy(out + no, bank + at, k * sizeof(*out));
			if (k)
				add_change(a, EASYSYNC_INSERT, no, bank + at, k,
					   op);
			no += k;
			break;
		}
	}
	memcpy(out + no, d->cp + oi, (d->n - oi) * sizeof(*out));
	*out_n = no + d->n - oi;
	return 0;
}

int easysync_apply(struct easysync_doc *d, const char *s,
		   const struct easysync_cs *cs, easysync_change_fn fn,
		   void *ctx)
{
	struct applier a = { s, NULL, 0, 0, BUF_INIT, 0 };
	const char *bs = cs->bank ? cs->bank : "";
	size_t nbank = text_utf8_count(bs, cs->bank_len), n = 0;
	uint32_t *bank = xmalloc((nbank + 1) * sizeof(*bank));
	int r;

	if (cs->old_len != d->units) {
		r = lt_error(LT_EINVAL, "the changeset applies to a text of %"
			     PRIu64 " characters but the text is %" PRIu64
			     " long (UTF-16 code units)", cs->old_len, d->units);
		goto out;
	}
	text_utf8_decode(bs, cs->bank_len, bank);
	XGROW(d->scratch, d->n + nbank + 1, d->scratch_alloc);
	buf_init(&a.text, 0);
	if ((r = apply_ops(d, cs, bank, nbank, &a, &n)))
		goto out;
	for (size_t i = 0; i < a.nch && fn && !r; i++) {
		struct easysync_change c;
		c.kind = a.ch[i].kind;
		c.pos = a.ch[i].pos;
		c.len = a.ch[i].len;
		c.text = a.text.data + a.ch[i].text;
		c.text_len = a.ch[i].text_len;
		c.attribs = s + a.ch[i].attribs;
		c.attribs_len = a.ch[i].attribs_len;
		r = fn(ctx, &c);
	}
	if (!r) {
		uint32_t *t = d->cp;
		size_t ta = d->alloc;
		d->cp = d->scratch;
		d->alloc = d->scratch_alloc;
		d->scratch = t;
		d->scratch_alloc = ta;
		d->n = n;
		d->units = cs->new_len;
	}
out:
	free(bank);
	free(a.ch);
	buf_release(&a.text);
	return r;
}

/* -- The .etherpad export ------------------------------------------------- */

struct etherpad {
	char *file;
	json_t *root;
	char *name;
	json_t *pad;		/* root's "pad:NAME" */
	json_t *pool;		/* its pool.numToAttrib, may be NULL */
	const char *text;	/* its atext.text */
	size_t text_len;
	uint64_t head;
	int64_t chat_head;
};

static int ep_error(const struct etherpad *ep, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int ep_error(const struct etherpad *ep, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	int r;

	buf_init(&b, 0);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	r = lt_error(LT_EINVAL, "%s: %s", ep->file, b.data);
	buf_release(&b);
	return r;
}

void etherpad_free(struct etherpad *ep)
{
	if (!ep)
		return;
	json_decref(ep->root);
	free(ep->file);
	free(ep->name);
	free(ep);
}

const char *etherpad_name(const struct etherpad *ep)
{
	return ep->name;
}

uint64_t etherpad_head(const struct etherpad *ep)
{
	return ep->head;
}

int64_t etherpad_chat_head(const struct etherpad *ep)
{
	return ep->chat_head;
}

/* A non-negative integer (JSON integer or integral real), else -1. */
static int64_t json_count(const json_t *v)
{
	if (json_is_integer(v))
		return json_integer_value(v) < 0 ? -1 : json_integer_value(v);
	if (json_is_real(v)) {
		double d = json_real_value(v);
		if (d >= 0 && d < 9e15 && d == (double)(int64_t)d)
			return (int64_t)d;
	}
	return -1;
}

/* Finds the one "pad:NAME" key (NAME without ':'). */
static int find_pad(struct etherpad *ep)
{
	const char *key;
	json_t *v;

	json_object_foreach(ep->root, key, v) {
		if (strncmp(key, "pad:", 4) || !key[4] || strchr(key + 4, ':'))
			continue;
		if (ep->name)
			return ep_error(ep, "holds two pads, '%s' and 'pad:%s' "
					"(an Etherpad export holds one)", key,
					ep->name);
		ep->name = xstrdup(key + 4);
		ep->pad = v;
	}
	if (!ep->name)
		return ep_error(ep, "no 'pad:NAME' key (not an Etherpad "
				"export: use Export, Etherpad in the pad's "
				"import/export menu)");
	return 0;
}

static int check_pad(struct etherpad *ep)
{
	json_t *atext = json_object_get(ep->pad, "atext");
	json_t *text = json_object_get(atext, "text");
	json_t *chat = json_object_get(ep->pad, "chatHead");
	int64_t head = json_count(json_object_get(ep->pad, "head"));

	if (!json_is_object(ep->pad))
		return ep_error(ep, "key 'pad:%s': not an object", ep->name);
	if (!json_is_string(text))
		return ep_error(ep, "key 'pad:%s': no atext.text (the pad's "
				"text)", ep->name);
	if (head < 0)
		return ep_error(ep, "key 'pad:%s': head is not a revision "
				"number", ep->name);
	ep->text = json_string_value(text);
	ep->text_len = json_string_length(text);
	ep->head = (uint64_t)head;
	ep->pool = json_object_get(json_object_get(ep->pad, "pool"),
				   "numToAttrib");
	if (ep->pool && !json_is_object(ep->pool))
		return ep_error(ep, "key 'pad:%s': pool.numToAttrib is not an "
				"object", ep->name);
	ep->chat_head = -1;
	if (chat && !json_is_null(chat)) {
		if (json_is_integer(chat) && json_integer_value(chat) == -1)
			ep->chat_head = -1;
		else if ((ep->chat_head = json_count(chat)) < 0)
			return ep_error(ep, "key 'pad:%s': chatHead is not a "
					"number", ep->name);
	}
	return 0;
}

int etherpad_open(struct etherpad **out, const char *file, const void *p,
		  size_t n)
{
	struct etherpad *ep = xcalloc(1, sizeof(*ep));
	json_error_t err;
	int r;

	ep->file = xstrdup(file);
	ep->root = json_loadb(p, n, JSON_REJECT_DUPLICATES, &err);
	if (!ep->root)
		r = ep_error(ep, "line %d, column %d: %s", err.line,
			     err.column, err.text);
	else if (!json_is_object(ep->root))
		r = ep_error(ep, "not an Etherpad export (expected one JSON "
			     "object)");
	else if (!(r = find_pad(ep)))
		r = check_pad(ep);
	if (r) {
		etherpad_free(ep);
		return r;
	}
	*out = ep;
	return 0;
}

/* The replay of one export. */
struct replay {
	struct etherpad *ep;
	const struct etherpad_ops *ops;
	void *ctx;
	struct etherpad_rev rev;
	json_t *meta_pool;	/* the revision's meta.pool.numToAttrib */
	struct buf key;
};

static const char *author_name(struct etherpad *ep, const char *id)
{
	struct buf k = BUF_INIT;
	json_t *name;

	if (!id)
		return NULL;
	buf_init(&k, 0);
	buf_addf(&k, "globalAuthor:%s", id);
	name = json_object_get(json_object_get(ep->root, k.data), "name");
	buf_release(&k);
	return json_is_string(name) && json_string_length(name) &&
			       strlen(json_string_value(name)) ==
				       json_string_length(name) ?
		       json_string_value(name) :
		       NULL;
}

/* "*0*1" as [[key, value], ...] through the pools (note 4). */
static int resolve(struct replay *x, const char *s, size_t n, json_t **out)
{
	json_t *arr = json_array();
	size_t i = 0;

	while (i < n) {
		size_t start = ++i;	/* past '*' */
		char dec[24];
		json_t *a;
		int64_t num;

		while (i < n && s[i] != '*')
			i++;
		num = easysync_num(s + start, i - start);
		snprintf(dec, sizeof(dec), "%" PRId64, num);
		a = json_object_get(x->ep->pool, dec);
		if (!a)
			a = json_object_get(x->meta_pool, dec);
		if (!json_is_array(a) || json_array_size(a) != 2 ||
		    !json_is_string(json_array_get(a, 0)) ||
		    !json_is_string(json_array_get(a, 1))) {
			json_decref(arr);
			return lt_error(LT_EINVAL, "attribute *%.*s is not a "
					"[key, value] pair of the pad's pool",
					(int)(i - start), s + start);
		}
		json_array_append(arr, a);
	}
	*out = arr;
	return 0;
}

static int on_change(void *ctx, const struct easysync_change *c)
{
	struct replay *x = ctx;
	json_t *attribs = NULL;
	int r;

	if (!x->ops->change)
		return 0;
	if (c->attribs_len &&
	    (r = resolve(x, c->attribs, c->attribs_len, &attribs)))
		return r;
	r = x->ops->change(x->ctx, &x->rev, c, attribs);
	json_decref(attribs);
	return r;
}

static int rev_error(struct replay *x, const char *what)
{
	return ep_error(x->ep, "revision %" PRIu64 " (key '%s'): %s%s",
			x->rev.num, x->key.data, what, lt_errmsg());
}

/* Where two UTF-8 texts first differ, in code points. */
static uint64_t first_diff(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i = 0;

	while (i < an && i < bn && a[i] == b[i])
		i++;
	while (i > 0 && i < an && ((unsigned char)a[i] & 0xc0) == 0x80)
		i--;
	return text_utf8_count(a, i);
}

static int check_text(struct replay *x, struct easysync_doc *d,
		      const char *want, size_t want_len, const char *whose)
{
	struct buf got = BUF_INIT;
	int r = 0;

	buf_init(&got, 0);
	easysync_doc_text(d, &got);
	if (got.len != want_len || memcmp(got.data, want, want_len))
		r = ep_error(x->ep, "revision %" PRIu64 " (key '%s'): the text "
			     "replayed up to it differs from %s at character "
			     "%" PRIu64 " (%zu and %zu bytes long); the export "
			     "is inconsistent", x->rev.num, x->key.data, whose,
			     first_diff(got.data, got.len, want, want_len),
			     got.len, want_len);
	buf_release(&got);
	return r;
}

static int replay_rev(struct replay *x, struct easysync_doc *d,
		      struct easysync_cs *cs, uint64_t num)
{
	json_t *rev, *cs_v, *meta, *author, *ts, *atext;
	int r;

	buf_reset(&x->key);
	buf_addf(&x->key, "pad:%s:revs:%" PRIu64, x->ep->name, num);
	memset(&x->rev, 0, sizeof(x->rev));
	x->rev.num = num;
	x->rev.key = x->key.data;
	rev = json_object_get(x->ep->root, x->key.data);
	if (!rev)
		return ep_error(x->ep, "revision %" PRIu64 " is missing (no "
				"key '%s', and the pad's head is %" PRIu64 ")",
				num, x->key.data, x->ep->head);
	cs_v = json_object_get(rev, "changeset");
	if (!json_is_string(cs_v))
		return ep_error(x->ep, "revision %" PRIu64 " (key '%s'): no "
				"changeset", num, x->key.data);
	meta = json_object_get(rev, "meta");
	author = json_object_get(meta, "author");
	ts = json_object_get(meta, "timestamp");
	x->meta_pool = json_object_get(json_object_get(meta, "pool"),
				       "numToAttrib");
	x->rev.changeset = json_string_value(cs_v);
	if (json_is_string(author) && json_string_length(author) &&
	    strlen(json_string_value(author)) == json_string_length(author)) {
		x->rev.author = json_string_value(author);
		x->rev.author_name = author_name(x->ep, x->rev.author);
	}
	if (json_count(ts) >= 0) {
		x->rev.time_ms = json_count(ts);
		x->rev.has_time = 1;
	}
	if (easysync_parse(x->rev.changeset, json_string_length(cs_v), cs))
		return rev_error(x, "changeset ");
	if (x->ops->rev_begin && (r = x->ops->rev_begin(x->ctx, &x->rev)))
		return r;
	if ((r = easysync_apply(d, x->rev.changeset, cs, on_change, x)))
		return r == LT_EINVAL ? rev_error(x, "") : r;
	/* A key revision carries the text it leaves (note 4). */
	atext = json_object_get(json_object_get(meta, "atext"), "text");
	if (json_is_string(atext) &&
	    (r = check_text(x, d, json_string_value(atext),
			    json_string_length(atext), "its meta.atext.text")))
		return r;
	if (x->ops->rev_end && (r = x->ops->rev_end(x->ctx, &x->rev)))
		return r;
	return 0;
}

static int replay_chat(struct replay *x, int64_t num)
{
	struct etherpad_chat m;
	json_t *v, *text, *author, *name, *t;

	buf_reset(&x->key);
	buf_addf(&x->key, "pad:%s:chat:%" PRId64, x->ep->name, num);
	v = json_object_get(x->ep->root, x->key.data);
	if (!v || json_is_null(v))
		return 0;	/* Etherpad exports a lost message as nothing */
	memset(&m, 0, sizeof(m));
	m.num = (uint64_t)num;
	m.key = x->key.data;
	text = json_object_get(v, "text");
	if (!json_is_string(text))
		return ep_error(x->ep, "chat message %" PRId64 " (key '%s'): "
				"no text", num, x->key.data);
	m.text = json_string_value(text);
	author = json_object_get(v, "authorId");
	if (!author)
		author = json_object_get(v, "userId");
	if (json_is_string(author))
		m.author = json_string_value(author);
	name = json_object_get(v, "displayName");
	if (!name)
		name = json_object_get(v, "userName");
	m.author_name = json_is_string(name) && json_string_length(name) ?
				json_string_value(name) :
				author_name(x->ep, m.author);
	t = json_object_get(v, "time");
	if (json_count(t) >= 0) {
		m.time_ms = json_count(t);
		m.has_time = 1;
	}
	return x->ops->chat(x->ctx, &m);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * The numbers of the chat messages the export holds, up to the chat head,
 * in order. Found from the keys rather than by trying 0..chatHead: a
 * message Etherpad lost leaves a gap, and chatHead is only the file's
 * word (a number in the trillions would take hours to count up to).
 */
static size_t chat_numbers(const struct etherpad *ep, int64_t **out)
{
	struct buf prefix = BUF_INIT;
	int64_t *nums = NULL;
	size_t n = 0, alloc = 0;
	const char *key;
	json_t *v;

	buf_addf(&prefix, "pad:%s:chat:", ep->name);
	json_object_foreach(ep->root, key, v) {
		const char *p = key + prefix.len;
		char *end;
		long long k;

		if (strncmp(key, prefix.data, prefix.len) ||
		    *p < '0' || *p > '9' || (*p == '0' && p[1]))
			continue;	/* only the keys Etherpad writes */
		errno = 0;
		k = strtoll(p, &end, 10);
		if (*end || errno || k > ep->chat_head)
			continue;
		XGROW(nums, n + 1, alloc);
		nums[n++] = k;
	}
	if (n)
		qsort(nums, n, sizeof(*nums), cmp_i64);
	buf_release(&prefix);
	*out = nums;
	return n;
}

int etherpad_replay(struct etherpad *ep, const struct etherpad_ops *ops,
		    void *ctx)
{
	struct replay x;
	struct easysync_doc d;
	struct easysync_cs cs;
	int r = 0;

	memset(&x, 0, sizeof(x));
	x.ep = ep;
	x.ops = ops;
	x.ctx = ctx;
	buf_init(&x.key, 0);
	easysync_doc_init(&d);
	easysync_init(&cs);
	easysync_doc_set(&d, ETHERPAD_BASE_TEXT, strlen(ETHERPAD_BASE_TEXT));
	for (uint64_t i = 0; i <= ep->head && !r; i++)
		r = replay_rev(&x, &d, &cs, i);
	if (!r)
		r = check_text(&x, &d, ep->text, ep->text_len,
			       "the pad's text (its atext.text)");
	if (!r && ops->chat && ep->chat_head >= 0) {
		int64_t *nums;
		size_t n = chat_numbers(ep, &nums);

		for (size_t i = 0; i < n && !r; i++)
			r = replay_chat(&x, nums[i]);
		free(nums);
	}
	easysync_release(&cs);
	easysync_doc_release(&d);
	buf_release(&x.key);
	return r;
}
