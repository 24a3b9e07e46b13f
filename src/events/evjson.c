#include "events.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "events-int.h"
#include "ltime.h"
#include "xalloc.h"
#include "banned.h"

#define DATA_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)

void event_release(struct event *e)
{
	free(e->stream);
	free(e->kind);
	json_decref(e->data);
	*e = (struct event)EVENT_INIT;
}

static int is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	}
	return 1;
}

/* Checks root's keys, kind and data; on success *kp and *datap are set. */
static int parse_event(json_t *root, const struct ev_kind **kp,
		       json_t **datap)
{
	const char *key;
	json_t *v, *data;
	const struct ev_kind *k;
	struct buf why = BUF_INIT;
	int r;

	json_object_foreach(root, key, v) {
		if (strcmp(key, "t") && strcmp(key, "stream") &&
		    strcmp(key, "kind") && strcmp(key, "data"))
			return lt_error(LT_EINVAL, "unknown key '%.64s' "
					"(expected t, stream, kind, data)", key);
	}
	v = json_object_get(root, "kind");
	if (!v)
		return lt_error(LT_EINVAL, "missing \"kind\", such as "
				"\"kind\":\"note\" (see 'labtape kinds')");
	if (!json_is_string(v))
		return lt_error(LT_EINVAL, "\"kind\" must be a string, not %s "
				"(see 'labtape kinds')", ev_json_type_name(v));
	if (!(k = ev_kind_find(json_string_value(v))))
		return lt_error(LT_EINVAL, "unknown kind '%.64s' "
				"(see 'labtape kinds')", json_string_value(v));
	data = json_object_get(root, "data");
	if (!data)
		return lt_error(LT_EINVAL, "missing \"data\", the object with "
				"the event's fields (see 'labtape kinds %s')",
				k->name);
	if (!json_is_object(data))
		return lt_error(LT_EINVAL, "\"data\" must be an object, not %s",
				ev_json_type_name(data));
	if (ev_validate(k, data, &why) < 0) {
		r = lt_error(LT_EINVAL, "%s (see 'labtape kinds %s')", why.data,
			     k->name);
		buf_release(&why);
		return r;
	}
	if ((r = ev_check_depth(data, "data")) < 0)
		return r;
	*kp = k;
	*datap = data;
	return 0;
}

int ev_parse_line(const char *line, size_t n, int64_t now_ns,
		  const char *default_stream, struct event *e)
{
	const struct ev_kind *k = NULL;
	const char *stream = default_stream;
	json_error_t jerr;
	json_t *root, *data = NULL, *v;
	int64_t t = now_ns;
	int r;

	if (is_blank(line, n))
		return lt_error(LT_EINVAL, "empty line (expected one JSON "
				"object per line)");
	/* Without JSON_DISABLE_EOF_CHECK jansson insists that only
	 * whitespace follows the value. */
	root = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		int col = jerr.line > 1 ? jerr.position : jerr.column;
		/* Text with NULs invites C code downstream (filters,
		 * exporters) to see less than what is stored: refuse it. */
		if (json_error_code(&jerr) == json_error_null_character)
			return lt_error(LT_EINVAL, "column %d: \\u0000 is not "
					"allowed in text (remove it)", col);
		return lt_error(LT_EINVAL, "column %d: %s (expected one JSON "
				"object per line)", col, jerr.text);
	}
	if (!json_is_object(root)) {
		r = lt_error(LT_EINVAL, "expected a JSON object, not %s",
			     ev_json_type_name(root));
		goto out;
	}
	if ((r = parse_event(root, &k, &data)) < 0)
		goto out;
	if ((v = json_object_get(root, "t"))) {
		if (!json_is_string(v)) {
			r = lt_error(LT_EINVAL, "\"t\" must be a string such as "
				     "\"2026-11-26T19:00:00Z\", not %s",
				     ev_json_type_name(v));
			goto out;
		}
		if ((r = lt_time_parse_rfc3339(json_string_value(v), &t)) < 0) {
			lt_error_wrap(r, "\"t\"");
			goto out;
		}
	}
	if ((v = json_object_get(root, "stream"))) {
		if (!json_is_string(v)) {
			r = lt_error(LT_EINVAL, "\"stream\" must be a string, "
				     "not %s", ev_json_type_name(v));
			goto out;
		}
		if (default_stream && strcmp(json_string_value(v), default_stream)) {
			r = lt_error(LT_EINVAL, "\"stream\" is '%.64s' but this "
				     "input goes to stream '%s' (leave \"stream\" "
				     "out, or make it match)",
				     json_string_value(v), default_stream);
			goto out;
		}
		stream = json_string_value(v);
	}
	e->t = t;
	e->stream = stream ? xstrdup(stream) : NULL;
	e->kind = xstrdup(k->name);
	e->data = json_incref(data);
out:
	json_decref(root);
	return r;
}

/* Appends s as a JSON string, escaped exactly as jansson's dump does
 * without JSON_ENSURE_ASCII, so the whole line has one style. */
static int add_json_string(struct buf *out, const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + n;
	const uint8_t *run = p;
	uint32_t cp;
	char u[8];
	int r = buf_addch(out, '"');

	while (r >= 0 && p < end) {
		const char *esc;
		if (*p >= 0x80) {
			size_t len = ev_utf8_next(p, end, &cp);
			if (!len)
				return lt_error(LT_EINVAL, "'%.64s' is not valid "
						"UTF-8", s);
			p += len;
			continue;
		}
		if (*p >= 0x20 && *p != '"' && *p != '\\') {
			p++;
			continue;
		}
		switch (*p) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default:
			snprintf(u, sizeof(u), "\\u%04X", *p);
			esc = u;
		}
		if ((r = buf_add(out, run, (size_t)(p - run))) < 0)
			break;
		r = buf_addstr(out, esc);
		run = ++p;
	}
	if (r >= 0)
		r = buf_add(out, run, (size_t)(p - run));
	if (r >= 0)
		r = buf_addch(out, '"');
	return r;
}

struct dump {
	struct buf *out;
	int err;
};

static int dump_cb(const char *p, size_t n, void *arg)
{
	struct dump *d = arg;

	if ((d->err = buf_add(d->out, p, n)) < 0)
		return -1;
	return 0;
}

int ev_to_json(int64_t t, const char *stream, const char *kind,
	       const json_t *data, struct buf *out)
{
	size_t start = out->len;
	struct dump d = { out, 0 };
	char ts[LT_TIME_MAX_LEN];
	int r;

	if (!data)
		return lt_error(LT_EINVAL, "event of kind '%s' has no data", kind);
	lt_time_format(t, ts);
	r = buf_addf(out, "{\"t\":\"%s\"", ts);
	/* A stream that was never given is left out, so the line still
	 * parses with ev_parse_line. */
	if (r >= 0 && stream && (r = buf_addstr(out, ",\"stream\":")) >= 0)
		r = add_json_string(out, stream, strlen(stream));
	if (r >= 0 && (r = buf_addstr(out, ",\"kind\":")) >= 0)
		r = add_json_string(out, kind, strlen(kind));
	if (r >= 0 && (r = buf_addstr(out, ",\"data\":")) >= 0 &&
	    json_dump_callback(data, dump_cb, &d, DATA_FLAGS) < 0)
		r = d.err ? d.err : lt_error(LT_EINVAL, "cannot write the data "
					     "of a '%s' event as JSON", kind);
	if (r >= 0)
		r = buf_addch(out, '}');
	if (r < 0)
		buf_setlen(out, start);
	return r;
}

/*
 * The human rendering writes through a struct line, which keeps what
 * reaches the terminal printable and within width columns (one column per
 * code point).
 */
struct line {
	struct buf *out;
	int width;	/* 0: no limit */
	int cols;
	size_t last;	/* where in out the last glyph starts */
	int full;
};

#define GLYPH_BAD "\xef\xbf\xbd"	/* U+FFFD */
#define GLYPH_NL "\xe2\x8f\x8e"		/* U+23CE, a return symbol */
#define GLYPH_MORE "\xe2\x80\xa6"	/* U+2026, an ellipsis */

static void line_glyph(struct line *l, const void *g, size_t n)
{
	if (l->full)
		return;
	if (l->width > 0 && l->cols == l->width) {
		/* One glyph too many: the last one gives way to "…". */
		buf_setlen(l->out, l->last);
		buf_addstr(l->out, GLYPH_MORE);
		l->full = 1;
		return;
	}
	l->last = l->out->len;
	buf_add(l->out, g, n);
	l->cols++;
}

/*
 * Recorded text is untrusted: control characters (C0, DEL, C1), line and
 * paragraph separators, bidirectional overrides and invalid UTF-8 become
 * U+FFFD so nothing can move the cursor, recolour or reorder the terminal;
 * newlines become ⏎ and tabs spaces so the rendering stays one line.
 */
static void line_add(struct line *l, const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + n;
	uint32_t cp;

	while (p < end && !l->full) {
		size_t len = ev_utf8_next(p, end, &cp);

		if (!len) {
			line_glyph(l, GLYPH_BAD, 3);
			p++;
			continue;
		}
		if (cp == '\n')
			line_glyph(l, GLYPH_NL, 3);
		else if (cp == '\t')
			line_glyph(l, " ", 1);
		else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ||
			 (cp >= 0x2028 && cp <= 0x202e) ||
			 (cp >= 0x2066 && cp <= 0x2069))
			line_glyph(l, GLYPH_BAD, 3);
		else
			line_glyph(l, p, len);
		p += len;
	}
}

static void line_addstr(struct line *l, const char *s)
{
	line_add(l, s, strlen(s));
}

static void line_add_json(struct line *l, const json_t *v)
{
	char *s = json_dumps(v, DATA_FLAGS);

	line_addstr(l, s ? s : "?");
	free(s);
}

/* Appends up to max code points of a string value, in quotes. */
static void line_add_quote(struct line *l, const json_t *v, size_t max)
{
	const uint8_t *p = (const uint8_t *)json_string_value(v);
	const uint8_t *end = p + json_string_length(v), *q = p;
	uint32_t cp;

	for (size_t i = 0; i < max && q < end; i++) {
		size_t len = ev_utf8_next(q, end, &cp);
		q += len ? len : 1;
	}
	line_addstr(l, " \"");
	line_add(l, (const char *)p, (size_t)(q - p));
	if (q < end)
		line_addstr(l, GLYPH_MORE);
	line_addstr(l, "\"");
}

static long long cp_count(const json_t *v)
{
	return v ? ev_utf8_count(json_string_value(v), json_string_length(v)) : 0;
}

/* "replace paper[intro.tex]@120 +5 -3 "hello"" */
static void summary_edit(struct line *l, const json_t *data)
{
	const json_t *op = json_object_get(data, "op");
	const json_t *doc = json_object_get(data, "doc");
	const json_t *part = json_object_get(data, "part");
	const json_t *pos = json_object_get(data, "pos");
	const json_t *len = json_object_get(data, "len");
	const json_t *ins = json_object_get(data, "ins");
	const json_t *del = json_object_get(data, "del");
	const json_t *text = json_object_get(data, "text");
	const json_t *detail = json_object_get(data, "detail");
	char num[64];

	/* ev_validate may not have run on what is shown: check every type. */
	ins = json_is_string(ins) ? ins : NULL;
	del = json_is_string(del) ? del : NULL;
	text = json_is_string(text) ? text : NULL;
	line_addstr(l, json_is_string(op) ? json_string_value(op) : "?");
	line_addstr(l, " ");
	line_addstr(l, json_is_string(doc) ? json_string_value(doc) : "?");
	if (json_is_string(part)) {
		line_addstr(l, "[");
		line_addstr(l, json_string_value(part));
		line_addstr(l, "]");
	}
	if (json_is_integer(pos)) {
		snprintf(num, sizeof(num), "@%lld", (long long)json_integer_value(pos));
		line_addstr(l, num);
	}
	if (ins || text || json_is_integer(len)) {
		snprintf(num, sizeof(num), " +%lld -%lld",
			 cp_count(ins ? ins : text),
			 json_is_integer(len) ? (long long)json_integer_value(len)
					      : cp_count(del));
		line_addstr(l, num);
	}
	if (ins || text || del)
		line_add_quote(l, ins ? ins : text ? text : del, 40);
	if (json_is_object(detail)) {
		line_addstr(l, " ");
		line_add_json(l, detail);
	}
}

/*
 * Terminal bytes (term.out, term.in) as the text they show: the base64
 * decoded, escape sequences (CSI, OSC, DCS and the two-byte ones) and
 * carriage returns left out, the rest through line_add. A sequence cut
 * between two records shows its tail in the second; the JSON form keeps
 * every byte.
 */
static void summary_term(struct line *l, const json_t *data)
{
	size_t len, i = 0, start = 0;
	uint8_t *p = ev_bytes_decode(json_object_get(data, "data"), &len);

	if (!p)
		return;
	while (i < len && !l->full) {
		size_t j = i;
		if (p[i] == '\r') {
			j = i + 1;
		} else if (p[i] == 0x1b && i + 1 < len) {
			uint8_t c = p[i + 1];
			j = i + 2;
			if (c == '[') {		/* CSI: to a final byte */
				while (j < len && (p[j] < 0x40 || p[j] > 0x7e))
					j++;
				j += j < len;
			} else if (c == ']' || c == 'P' || c == '_' ||
				   c == '^') {	/* to BEL or ST */
				while (j < len && p[j] != 0x07 &&
				       !(p[j] == 0x1b && j + 1 < len &&
					 p[j + 1] == '\\'))
					j++;
				j += j < len ? (p[j] == 0x07 ? 1 : 2) : 0;
			} else if (c >= 0x20 && c <= 0x2f) {	/* ESC ( B */
				j += j < len;
			}
		} else {
			i++;
			continue;
		}
		line_add(l, (const char *)p + start, i - start);
		i = start = j;
	}
	line_add(l, (const char *)p + start, i - start);
	free(p);
}

void ev_format_text(const char *s, size_t n, int width, struct buf *out)
{
	struct line l = { out, width, 0, out->len, 0 };

	line_add(&l, s, n);
}

static int has_text_field(const struct ev_kind *k)
{
	for (size_t i = 0; k && i < k->nfields; i++) {
		if (!strcmp(k->fields[i].name, "text"))
			return 1;
	}
	return 0;
}

void ev_format_human(int64_t t, const char *stream, const char *kind,
		     const json_t *data, int width, struct buf *out)
{
	struct line l = { out, width, 0, out->len, 0 };
	const json_t *text = json_object_get(data, "text");
	char ts[LT_TIME_MAX_LEN];

	/* "2026-11-26T19:00:00.123456789Z" -> "2026-11-26 19:00:00.123" */
	lt_time_format(t, ts);
	assert(ts[10] == 'T' && ts[19] == '.');
	ts[10] = ' ';
	ts[23] = '\0';
	line_addstr(&l, ts);
	line_addstr(&l, "  ");
	line_addstr(&l, stream ? stream : "-");
	line_addstr(&l, "  ");
	line_addstr(&l, kind);
	line_addstr(&l, "  ");
	if (!strcmp(kind, "edit.op") && json_is_object(data))
		summary_edit(&l, data);
	else if ((!strcmp(kind, "term.out") || !strcmp(kind, "term.in")) &&
		 json_is_object(data))
		summary_term(&l, data);
	else if (json_is_string(text) && has_text_field(ev_kind_find(kind)))
		line_add(&l, json_string_value(text), json_string_length(text));
	else if (data)
		line_add_json(&l, data);
}
