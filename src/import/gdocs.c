/*
 * The Google Docs revision changelog (gdocs.h, doc/imports.md "gdocs").
 *
 * NOTES
 *
 *  1. The file is what docs.google.com/document/d/ID/revisions/load
 *     answers: a guard line ")]}'" (so that the answer is not valid
 *     JavaScript), then an object with "changelog", an array of entries
 *     [op, time_ms, user, revision, session, session_index, ...], and
 *     "chunkedSnapshot", the document before the first entry as chunks
 *     of ops (empty when loading from revision 1). The format is not
 *     documented; the shapes are those that the public readers use
 *     (harvard-vpal/gdocrevisions: operation.py, revision.py).
 *  2. Ops: "is" inserts "s" before the 1-based index "ibi"; "ds" deletes
 *     the 1-based inclusive range "si".."ei"; "mlti" applies each op of
 *     "mts" in turn; "iss" and "dss" are "is" and "ds" in suggestion mode
 *     (with "sugid"); "msfd"/"usfd" mark and unmark "si".."ei" as
 *     suggested for deletion; "as" applies a style ("st", "sm") to
 *     "si".."ei"; "rplc" replaces the whole document by its "snapshot"
 *     (chunks of ops, as chunkedSnapshot); "null" does nothing; entity
 *     ops ("ae", "de", "te", "ue") and any other type change no text.
 *  3. Suggestions are text in the document: the changelog's indices count
 *     suggested insertions and text marked for deletion alike. So the
 *     text replayed here is the changelog's own: an "iss" inserts, a
 *     "msfd" deletes nothing. Accepting or rejecting a suggestion shows
 *     up as later ops (the rejected insertion deleted by "ds"/"dss", the
 *     accepted deletion deleted, a rejected deletion unmarked by "usfd"),
 *     which are replayed like any other.
 *  4. Indices count UTF-16 code units, as JavaScript strings do; the
 *     canonical record counts code points. The text is kept as code
 *     points in a gap buffer; while it holds no character outside the
 *     BMP (the usual case) the two counts are equal and the conversion is
 *     free, else it is a scan from the start. An index that falls between
 *     the two halves of a surrogate pair is refused.
 *  5. A message about entry N names its byte offset in the file, found
 *     after the fact by walking the JSON text (jansson keeps no offsets).
 */
#include "gdocs.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "text.h"
#include "xalloc.h"
#include "banned.h"

#define GUARD ")]}'"
#define MAX_DEPTH 64
/* Code points in a document; far above what Google Docs allows. */
#define MAX_TEXT (UINT64_C(1) << 30)

/* ---- Loading ------------------------------------------------------------ */

int gdocs_load(struct gdocs_log *log, const char *name, const char *data,
	       size_t len)
{
	json_error_t err;
	size_t g = 0;

	memset(log, 0, sizeof(*log));
	log->name = xstrdup(name);
	if (len >= 4 && !memcmp(data, GUARD, 4)) {
		g = 4;
		while (g < len && data[g] != '\n')
			g++;
		if (g < len)
			g++;
	}
	log->guard_len = g;
	log->json = data + g;
	log->json_len = len - g;
	log->root = json_loadb(log->json, log->json_len, JSON_ALLOW_NUL, &err);
	if (!log->root)
		return lt_error(LT_EINVAL, "%s: byte %zu (line %d, column %d): "
				"not JSON: %s", name,
				g + (size_t)(err.position > 0 ? err.position : 0),
				err.line + (g > 0), err.column, err.text);
	if (!json_is_object(log->root))
		return lt_error(LT_EINVAL, "%s: not a revision changelog: the "
				"JSON is not an object (save the answer of "
				"revisions/load as it is)", name);
	if (!json_is_array(json_object_get(log->root, "changelog")))
		return lt_error(LT_EINVAL, "%s: not a revision changelog: no "
				"\"changelog\" array", name);
	return 0;
}

void gdocs_log_release(struct gdocs_log *log)
{
	json_decref(log->root);
	free(log->name);
	memset(log, 0, sizeof(*log));
}

const char *gdocs_log_doc_id(const struct gdocs_log *log)
{
	const char *id = json_string_value(json_object_get(log->root, "docId"));

	return id ? id : json_string_value(json_object_get(log->root, "id"));
}

/* ---- Byte offsets of entries (note 5) ------------------------------------ */

static size_t skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
			 s[i] == '\n'))
		i++;
	return i;
}

/* s[i] is '"': the index after the closing quote. */
static size_t skip_string(const char *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return n;
}

static size_t skip_value(const char *s, size_t n, size_t i)
{
	size_t depth = 0;

	if (i < n && s[i] == '"')
		return skip_string(s, n, i);
	if (i < n && (s[i] == '{' || s[i] == '[')) {
		while (i < n) {
			char c = s[i];
			if (c == '"') {
				i = skip_string(s, n, i);
				continue;
			}
			if (c == '{' || c == '[')
				depth++;
			else if ((c == '}' || c == ']') && --depth == 0)
				return i + 1;
			i++;
		}
		return n;
	}
	while (i < n && !strchr(",]} \t\r\n", s[i]))
		i++;
	return i;
}

/* The offset in log->json of changelog entry k (0-based), or SIZE_MAX. */
static size_t entry_offset(const struct gdocs_log *log, size_t k)
{
	const char *s = log->json;
	size_t n = log->json_len, i = skip_ws(s, n, 0), found = SIZE_MAX;

	if (i >= n || s[i] != '{')
		return SIZE_MAX;
	for (i++;;) {
		size_t ks, ke;
		i = skip_ws(s, n, i);
		if (i >= n || s[i] != '"')
			return found;
		ks = i + 1;
		ke = skip_string(s, n, i);
		i = skip_ws(s, n, ke);
		if (i >= n || s[i] != ':')
			return found;
		i = skip_ws(s, n, i + 1);
		if (ke - ks == 10 && !memcmp(s + ks, "changelog\"", 10) &&
		    i < n && s[i] == '[') {
			/* The last "changelog" wins, as in jansson. */
			size_t j = i + 1;
			found = SIZE_MAX;
			for (size_t e = 0;; e++) {
				j = skip_ws(s, n, j);
				if (j >= n || s[j] == ']')
					break;
				if (e == k) {
					found = j;
					break;
				}
				j = skip_ws(s, n, skip_value(s, n, j));
				if (j < n && s[j] == ',')
					j++;
			}
		}
		i = skip_ws(s, n, skip_value(s, n, i));
		if (i < n && s[i] == ',')
			i++;
		else
			return found;
	}
}

/* ---- The text: code points in a gap buffer (note 4) ---------------------- */

struct gtext {
	uint32_t *v;
	size_t cap, gs, ge;	/* the gap is v[gs..ge) */
	uint64_t astral;	/* code points above U+FFFF */
};

static size_t gt_len(const struct gtext *t)
{
	return t->cap - (t->ge - t->gs);
}

static uint32_t gt_at(const struct gtext *t, size_t i)
{
	return i < t->gs ? t->v[i] : t->v[i + (t->ge - t->gs)];
}

static void gt_move_gap(struct gtext *t, size_t pos)
{
	size_t gap = t->ge - t->gs;

	if (pos < t->gs)
		memmove(t->v + pos + gap, t->v + pos,
			(t->gs - pos) * sizeof(*t->v));
	else if (pos > t->gs)
		memmove(t->v + t->gs, t->v + t->ge,
			(pos - t->gs) * sizeof(*t->v));
	t->gs = pos;
	t->ge = pos + gap;
}

static void gt_insert(struct gtext *t, size_t pos, const uint32_t *cp,
		      size_t n)
{
	if (t->ge - t->gs < n) {
		size_t len = gt_len(t), cap = t->cap * 2;
		uint32_t *v;
		if (cap < len + n + 64)
			cap = len + n + 64;
		v = xmalloc(cap * sizeof(*v));
		if (t->v) {
			memcpy(v, t->v, t->gs * sizeof(*v));
			memcpy(v + cap - (t->cap - t->ge), t->v + t->ge,
			       (t->cap - t->ge) * sizeof(*v));
		}
		t->ge = cap - (t->cap - t->ge);
		free(t->v);
		t->v = v;
		t->cap = cap;
	}
	gt_move_gap(t, pos);
	memcpy(t->v + t->gs, cp, n * sizeof(*cp));
	t->gs += n;
	for (size_t i = 0; i < n; i++)
		t->astral += cp[i] > 0xFFFF;
}

static void gt_delete(struct gtext *t, size_t pos, size_t n)
{
	gt_move_gap(t, pos);
	for (size_t i = 0; i < n; i++)
		t->astral -= t->v[t->ge + i] > 0xFFFF;
	t->ge += n;
}

static void gt_release(struct gtext *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static void utf8_put(struct buf *b, uint32_t c)
{
	char s[4];
	size_t n;

	if (c < 0x80) {
		s[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		s[0] = (char)(0xC0 | (c >> 6));
		s[1] = (char)(0x80 | (c & 0x3F));
		n = 2;
	} else if (c < 0x10000) {
		s[0] = (char)(0xE0 | (c >> 12));
		s[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		s[2] = (char)(0x80 | (c & 0x3F));
		n = 3;
	} else {
		s[0] = (char)(0xF0 | (c >> 18));
		s[1] = (char)(0x80 | ((c >> 12) & 0x3F));
		s[2] = (char)(0x80 | ((c >> 6) & 0x3F));
		s[3] = (char)(0x80 | (c & 0x3F));
		n = 4;
	}
	buf_add(b, s, n);
}

/* Appends text[pos..pos+n) as UTF-8 to b. */
static void gt_utf8(const struct gtext *t, size_t pos, size_t n,
		    struct buf *b)
{
	for (size_t i = pos; i < pos + n; i++)
		utf8_put(b, gt_at(t, i));
}

/*
 * The code point index of UTF-16 index u (0-based) in t: 0, or -1 if u
 * is past the end, -2 if it splits a surrogate pair.
 */
static int gt_cp(const struct gtext *t, uint64_t u, uint64_t *cp)
{
	size_t len = gt_len(t), i = 0;
	uint64_t units = 0;

	if (!t->astral) {
		if (u > len)
			return -1;
		*cp = u;
		return 0;
	}
	while (i < len && units < u)
		units += gt_at(t, i++) > 0xFFFF ? 2 : 1;
	if (units < u)
		return -1;
	if (units > u)
		return -2;
	*cp = i;
	return 0;
}

/* ---- Replay --------------------------------------------------------------- */

struct replay {
	struct gdocs_log *log;
	const struct gdocs_ops *ops;
	void *ctx;
	struct gtext text;
	struct gdocs_rev rev, prev;
	int emit;		/* call ops->edit (not in snapshots) */
	int in_changelog;	/* else in chunkedSnapshot, for messages */
	struct buf path;	/* the op's path inside the entry, for messages */
	struct buf del;		/* scratch */
	uint32_t *cps;		/* scratch for decoding */
	size_t cps_alloc;
};

static int op_error(struct replay *rp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int op_error(struct replay *rp, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;
	int r;

	if (rp->in_changelog) {
		size_t off = entry_offset(rp->log, rp->rev.entry - 1);
		buf_addf(&msg, "%s: changelog entry %zu", rp->log->name,
			 rp->rev.entry);
		if (off != SIZE_MAX)
			buf_addf(&msg, " (byte %zu)", rp->log->guard_len + off);
	} else {
		buf_addf(&msg, "%s: chunkedSnapshot", rp->log->name);
	}
	if (rp->path.len)
		buf_addf(&msg, ": %s", rp->path.data);
	buf_addstr(&msg, ": ");
	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	r = lt_error(LT_EINVAL, "%s", msg.data);
	buf_release(&msg);
	return r;
}

/* An integer member of op, >= min; *present says whether it is there
 * (*out is 0 if not, so that no caller reads an unset value). */
static int get_int(struct replay *rp, json_t *op, const char *key,
		   int64_t min, int64_t *out, int *present)
{
	json_t *v = json_object_get(op, key);

	*out = 0;
	*present = v != NULL;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min)
		return op_error(rp, "\"%s\" is not an integer >= %lld", key,
				(long long)min);
	*out = json_integer_value(v);
	return 0;
}

static int need_int(struct replay *rp, json_t *op, const char *key,
		    int64_t min, int64_t *out)
{
	int present, r = get_int(rp, op, key, min, out, &present);

	if (!r && !present)
		r = op_error(rp, "\"%s\" is missing", key);
	return r;
}

static uint64_t units(const struct replay *rp)
{
	return gt_len(&rp->text) + rp->text.astral;
}

/* The code point index of the 1-based UTF-16 index what=u (note 4). */
static int index_cp(struct replay *rp, const char *what, int64_t u,
		    int64_t base, uint64_t *cp)
{
	int r = gt_cp(&rp->text, (uint64_t)(u - base), cp);

	if (r)
		return op_error(rp, "%s %lld %s (the document has %llu UTF-16 "
				"code units)", what, (long long)u,
				r == -2 ? "splits a character outside the BMP"
					: "is past the end",
				(unsigned long long)units(rp));
	return 0;
}

/*
 * The 1-based inclusive UTF-16 range si..ei of op, in code points.
 * *present is 0 if op has no "si" (an error if required).
 */
static int get_range(struct replay *rp, json_t *op, int required,
		     uint64_t *pos, uint64_t *len, int *present)
{
	int64_t si = 0, ei = 0;
	uint64_t a, b;
	int r;

	if ((r = get_int(rp, op, "si", 1, &si, present)))
		return r;
	if (!*present)
		return required ? op_error(rp, "\"si\" is missing") : 0;
	if ((r = need_int(rp, op, "ei", 0, &ei)))
		return r;
	if (ei < si)
		return op_error(rp, "ei %lld is before si %lld",
				(long long)ei, (long long)si);
	if ((r = index_cp(rp, "si", si, 1, &a)) ||
	    (r = index_cp(rp, "ei", ei, 0, &b)))
		return r;
	if (b <= a)	/* si..ei is half a surrogate pair: caught above */
		return op_error(rp, "si..ei %lld..%lld is empty",
				(long long)si, (long long)ei);
	*pos = a;
	*len = b - a;
	return 0;
}

static int emit(struct replay *rp, struct gdocs_edit *e, json_t *op)
{
	if (!rp->emit || !rp->ops->edit)
		return 0;
	e->native = op;
	return rp->ops->edit(rp->ctx, &rp->rev, e);
}

/* The detail of a suggestion op: {"suggestion": sugid} (true if none). */
static json_t *suggestion(json_t *op)
{
	json_t *id = json_object_get(op, "sugid");

	return json_pack("{s:O}", "suggestion",
			 json_is_string(id) ? id : json_true());
}

static int op_insert(struct replay *rp, json_t *op, int sugg)
{
	json_t *s = json_object_get(op, "s");
	struct gdocs_edit e;
	int64_t ibi;
	uint64_t pos;
	size_t n, slen;
	int r;

	if ((r = need_int(rp, op, "ibi", 1, &ibi)))
		return r;
	if (!json_is_string(s))
		return op_error(rp, "\"s\" is not a string");
	if ((r = index_cp(rp, "ibi", ibi, 1, &pos)))
		return r;
	slen = json_string_length(s);
	n = (size_t)text_utf8_count(json_string_value(s), slen);
	if (gt_len(&rp->text) + n > MAX_TEXT)
		return op_error(rp, "the document grows past %llu characters",
				(unsigned long long)MAX_TEXT);
	XGROW(rp->cps, n, rp->cps_alloc);
	text_utf8_decode(json_string_value(s), slen, rp->cps);
	memset(&e, 0, sizeof(e));
	e.op = "insert";
	e.pos = pos;
	e.has_pos = 1;
	e.ins = json_string_value(s);
	e.ins_len = slen;
	e.detail = sugg ? suggestion(op) : NULL;
	r = emit(rp, &e, op);
	json_decref(e.detail);
	if (!r)
		gt_insert(&rp->text, pos, rp->cps, n);
	return r;
}

static int op_delete(struct replay *rp, json_t *op, int sugg)
{
	struct gdocs_edit e;
	uint64_t pos, len;
	int present, r;

	if ((r = get_range(rp, op, 1, &pos, &len, &present)))
		return r;
	buf_reset(&rp->del);
	gt_utf8(&rp->text, pos, len, &rp->del);
	memset(&e, 0, sizeof(e));
	e.op = "delete";
	e.pos = pos;
	e.len = len;
	e.has_pos = e.has_len = 1;
	e.del = rp->del.data;
	e.del_len = rp->del.len;
	e.detail = sugg ? suggestion(op) : NULL;
	r = emit(rp, &e, op);
	json_decref(e.detail);
	if (!r)
		gt_delete(&rp->text, pos, len);
	return r;
}

/* A style or structural op: no text changes; the range if it has one. */
static int op_other(struct replay *rp, json_t *op, const char *kind,
		    const char *ty, int range)
{
	json_t *v;
	struct gdocs_edit e;
	uint64_t pos = 0, len = 0;
	int present = 0, r;

	memset(&e, 0, sizeof(e));
	if (range && (r = get_range(rp, op, range > 1, &pos, &len, &present)))
		return r;
	if (present) {
		e.pos = pos;
		e.len = len;
		e.has_pos = e.has_len = 1;
	}
	e.op = kind;
	e.detail = json_pack("{s:s}", "type", ty);
	if (!e.detail)
		return op_error(rp, "\"ty\" is not valid UTF-8");
	if (json_is_string(v = json_object_get(op, "st")))
		json_object_set(e.detail, "style", v);
	if (json_is_string(v = json_object_get(op, "sugid")))
		json_object_set(e.detail, "suggestion", v);
	r = emit(rp, &e, op);
	json_decref(e.detail);
	return r;
}

static int apply(struct replay *rp, json_t *op, int depth);

/*
 * Applies the ops of arr in turn; an element may itself be an array of
 * ops (a chunk of a snapshot). label names arr in messages.
 */
static int apply_ops(struct replay *rp, json_t *arr, const char *label,
		     int depth)
{
	size_t mark = rp->path.len;
	int r = 0;

	for (size_t i = 0; i < json_array_size(arr) && !r; i++) {
		json_t *el = json_array_get(arr, i);
		buf_addf(&rp->path, "%s%s[%zu]", mark ? "/" : "", label, i);
		if (json_is_array(el)) {
			size_t m2 = rp->path.len;
			for (size_t j = 0; j < json_array_size(el) && !r; j++) {
				buf_addf(&rp->path, "[%zu]", j);
				r = apply(rp, json_array_get(el, j), depth);
				buf_setlen(&rp->path, m2);
			}
		} else {
			r = apply(rp, el, depth);
		}
		buf_setlen(&rp->path, mark);
	}
	return r;
}

/* "rplc": the document becomes the text of the op's snapshot. */
static int op_replace(struct replay *rp, json_t *op, int depth)
{
	json_t *snap = json_object_get(op, "snapshot");
	struct gtext old = rp->text;
	struct gdocs_edit e;
	struct buf t = BUF_INIT;
	int emit_was = rp->emit, r;

	if (!json_is_array(snap))
		return op_error(rp, "\"snapshot\" is not an array");
	if (depth >= MAX_DEPTH)
		return op_error(rp, "nested deeper than %d", MAX_DEPTH);
	memset(&rp->text, 0, sizeof(rp->text));
	rp->emit = 0;
	r = apply_ops(rp, snap, "snapshot", depth + 1);
	rp->emit = emit_was;
	if (r) {
		gt_release(&rp->text);
		rp->text = old;
		return r;
	}
	gt_utf8(&rp->text, 0, gt_len(&rp->text), &t);
	memset(&e, 0, sizeof(e));
	e.op = "snapshot";
	e.text = t.data;
	e.text_len = t.len;
	r = emit(rp, &e, op);
	buf_release(&t);
	if (r) {
		gt_release(&rp->text);
		rp->text = old;
	} else {
		gt_release(&old);
	}
	return r;
}

static int apply(struct replay *rp, json_t *op, int depth)
{
	const char *ty;
	size_t mark = rp->path.len;
	int r;

	if (!json_is_object(op))
		return op_error(rp, "the op is not an object");
	ty = json_string_value(json_object_get(op, "ty"));
	if (!ty)
		return op_error(rp, "the op has no \"ty\" string");
	buf_addf(&rp->path, "%s%.16s", mark ? "/" : "", ty);
	if (!strcmp(ty, "is") || !strcmp(ty, "iss")) {
		r = op_insert(rp, op, ty[2] == 's');
	} else if (!strcmp(ty, "ds") || !strcmp(ty, "dss")) {
		r = op_delete(rp, op, ty[2] == 's');
	} else if (!strcmp(ty, "mlti")) {
		json_t *mts = json_object_get(op, "mts");
		if (!json_is_array(mts))
			r = op_error(rp, "\"mts\" is not an array");
		else if (depth >= MAX_DEPTH)
			r = op_error(rp, "nested deeper than %d", MAX_DEPTH);
		else
			r = apply_ops(rp, mts, "mts", depth + 1);
	} else if (!strcmp(ty, "rplc")) {
		r = op_replace(rp, op, depth);
	} else if (!strcmp(ty, "null")) {
		r = 0;
	} else if (!strcmp(ty, "as")) {
		r = op_other(rp, op, "style", ty, 1);
	} else if (!strcmp(ty, "msfd") || !strcmp(ty, "usfd")) {
		r = op_other(rp, op, "style", ty, 2);
	} else {
		r = op_other(rp, op, "structural", ty, 0);
	}
	buf_setlen(&rp->path, mark);
	return r;
}

/* Reads entry i's [op, time_ms, user, revision, session, ...] into rp->rev. */
static int entry_header(struct replay *rp, json_t *ent, json_t **op)
{
	json_t *t, *user, *rev, *sess;
	double ms;

	if (!json_is_array(ent) || json_array_size(ent) < 4)
		return op_error(rp, "not an array [op, time, user, revision, "
				"...]");
	*op = json_array_get(ent, 0);
	t = json_array_get(ent, 1);
	user = json_array_get(ent, 2);
	rev = json_array_get(ent, 3);
	sess = json_array_get(ent, 4);
	if (!json_is_number(t) || !isfinite(ms = json_number_value(t)) ||
	    ms < 0 || ms > 9.2e15)
		return op_error(rp, "the time (element 2) is not a number of "
				"milliseconds since 1970");
	if (!json_is_string(user) && !json_is_null(user))
		return op_error(rp, "the user (element 3) is not a string");
	if (!json_is_integer(rev) || json_integer_value(rev) < 0)
		return op_error(rp, "the revision (element 4) is not an "
				"integer >= 0");
	if (sess && !json_is_string(sess) && !json_is_null(sess))
		return op_error(rp, "the session (element 5) is not a string");
	if (json_integer_value(rev) < rp->rev.revision)
		return op_error(rp, "revision %lld comes after revision %lld "
				"(the changelog must be in order)",
				(long long)json_integer_value(rev),
				(long long)rp->rev.revision);
	rp->rev.time_ms = (int64_t)ms;
	rp->rev.revision = json_integer_value(rev);
	rp->rev.user = json_string_value(user);
	rp->rev.session = json_string_value(sess);
	return 0;
}

static int replay_snapshot(struct replay *rp)
{
	json_t *snap = json_object_get(rp->log->root, "chunkedSnapshot");

	if (!snap || json_is_null(snap))
		return 0;
	if (!json_is_array(snap))
		return op_error(rp, "not an array of chunks");
	return apply_ops(rp, snap, "chunk", 0);
}

static int replay_entries(struct replay *rp)
{
	json_t *log = json_object_get(rp->log->root, "changelog");
	size_t n = json_array_size(log);
	int64_t cur = -1;
	int r = 0;

	rp->in_changelog = 1;
	rp->emit = 1;
	for (size_t i = 0; i < n && !r; i++) {
		json_t *op = NULL;
		rp->rev.entry = i + 1;
		if (rp->ops->progress)
			rp->ops->progress(rp->ctx, i, n);
		if ((r = entry_header(rp, json_array_get(log, i), &op)))
			break;
		if (i == 0 && gt_len(&rp->text) && rp->ops->snapshot) {
			struct buf t = BUF_INIT;
			gt_utf8(&rp->text, 0, gt_len(&rp->text), &t);
			r = rp->ops->snapshot(rp->ctx, rp->rev.revision - 1,
					      rp->rev.time_ms, t.data, t.len);
			buf_release(&t);
		}
		if (!r && rp->rev.revision != cur) {
			struct gdocs_rev next = rp->rev;
			if (cur >= 0 && rp->ops->rev_end) {
				/* The last entry's header ends the unit. */
				rp->rev = rp->prev;
				r = rp->ops->rev_end(rp->ctx, &rp->rev);
				rp->rev = next;
			}
			cur = rp->rev.revision;
			if (!r && rp->ops->rev_begin)
				r = rp->ops->rev_begin(rp->ctx, &rp->rev);
		}
		if (!r)
			r = apply(rp, op, 0);
		rp->prev = rp->rev;
	}
	if (!r && cur >= 0 && rp->ops->rev_end)
		r = rp->ops->rev_end(rp->ctx, &rp->rev);
	if (!r && rp->ops->progress)
		rp->ops->progress(rp->ctx, n, n);
	return r;
}

int gdocs_replay(struct gdocs_log *log, const struct gdocs_ops *ops,
		 void *ctx, struct buf *text)
{
	static const struct gdocs_ops none;
	struct replay rp;
	int r;

	memset(&rp, 0, sizeof(rp));
	rp.log = log;
	rp.ops = ops ? ops : &none;
	rp.ctx = ctx;
	rp.rev.revision = -1;
	buf_init(&rp.path, 0);
	buf_init(&rp.del, 0);
	r = replay_snapshot(&rp);
	if (!r)
		r = replay_entries(&rp);
	if (!r && text)
		gt_utf8(&rp.text, 0, gt_len(&rp.text), text);
	gt_release(&rp.text);
	buf_release(&rp.path);
	buf_release(&rp.del);
	free(rp.cps);
	return r;
}
