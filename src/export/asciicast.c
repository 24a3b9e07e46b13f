/*
 * asciicast v2: writing terminal sessions for asciinema, and reading them
 * back (asciinema/docs, docs/manual/asciicast/v2.md).
 *
 * NOTES ON THE FORMAT AS WRITTEN HERE
 *
 *  1. The file is newline-delimited JSON: a header object on line 1, then
 *     one [time, code, data] array a line. Every line ends with "\n",
 *     including the last; there are no blank lines (older players stop at
 *     the first one).
 *  2. Lines are spaced as the specification's example (and Python's
 *     json.dumps) space them: ", " between items, ": " after keys.
 *  3. time is seconds since the start, not a delta, with six decimals,
 *     rounded to the microsecond from labtape's nanoseconds. It never
 *     decreases because the vault yields records in time order.
 *  4. data is always valid UTF-8 (note 5), with '"', '\\', C0 and C1
 *     controls, DEL and U+2028/U+2029 escaped; \n \r \t \b \f use their
 *     short forms, the rest \u00XX. Everything else is written as is.
 *  5. Raw bytes become text the way Python's incremental UTF-8 decoder
 *     with errors="replace" does it: a sequence cut off by the end of a
 *     chunk waits for the next chunk of the same code ('o' and 'i' have
 *     separate carries); each maximal ill-formed subpart becomes one
 *     U+FFFD. A tail still incomplete at the end becomes U+FFFD.
 *  6. No 'o' or 'i' event with empty data is written.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "error.h"
#include "export.h"
#include "xalloc.h"
#include "banned.h"

#define NS_PER_SEC 1000000000LL
#define REPLACEMENT 0xFFFDu

/* ---- Writing -------------------------------------------------------- */

static void put_cp(struct buf *out, uint32_t cp)
{
	char u[8];

	switch (cp) {
	case '"': buf_add(out, "\\\"", 2); return;
	case '\\': buf_add(out, "\\\\", 2); return;
	case '\n': buf_add(out, "\\n", 2); return;
	case '\r': buf_add(out, "\\r", 2); return;
	case '\t': buf_add(out, "\\t", 2); return;
	case '\b': buf_add(out, "\\b", 2); return;
	case '\f': buf_add(out, "\\f", 2); return;
	}
	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x2028 ||
	    cp == 0x2029) {
		snprintf(u, sizeof(u), "\\u%04x", (unsigned)cp);
		buf_add(out, u, 6);
	} else if (cp < 0x80) {
		buf_addch(out, (int)cp);
	} else if (cp < 0x800) {
		buf_addch(out, (int)(0xc0 | (cp >> 6)));
		buf_addch(out, (int)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_addch(out, (int)(0xe0 | (cp >> 12)));
		buf_addch(out, (int)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addch(out, (int)(0x80 | (cp & 0x3f)));
	} else {
		buf_addch(out, (int)(0xf0 | (cp >> 18)));
		buf_addch(out, (int)(0x80 | ((cp >> 12) & 0x3f)));
		buf_addch(out, (int)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addch(out, (int)(0x80 | (cp & 0x3f)));
	}
}

/*
 * Escapes p[0..n) into out (note 5). With final off, an incomplete
 * sequence at the very end is left alone; returns the number of bytes
 * consumed (n, or less by that tail). Unicode 15, table 3-7, gives the
 * well-formed sequences and so the second-byte ranges below.
 */
static size_t put_text(struct buf *out, const uint8_t *p, size_t n, int final)
{
	size_t i = 0;

	while (i < n) {
		uint8_t b = p[i];
		size_t need, j;
		uint8_t lo = 0x80, hi = 0xbf;
		uint32_t cp;

		if (b < 0x80) {
			put_cp(out, b);
			i++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf) {
			need = 2;
			cp = b & 0x1f;
		} else if (b >= 0xe0 && b <= 0xef) {
			need = 3;
			cp = b & 0x0f;
			if (b == 0xe0)
				lo = 0xa0;
			else if (b == 0xed)
				hi = 0x9f;
		} else if (b >= 0xf0 && b <= 0xf4) {
			need = 4;
			cp = b & 0x07;
			if (b == 0xf0)
				lo = 0x90;
			else if (b == 0xf4)
				hi = 0x8f;
		} else {
			put_cp(out, REPLACEMENT);
			i++;
			continue;
		}
		for (j = 1; j < need && i + j < n; j++) {
			uint8_t c = p[i + j];
			if (c < lo || c > hi)
				break;
			cp = (cp << 6) | (c & 0x3f);
			lo = 0x80;
			hi = 0xbf;
		}
		if (j == need) {
			put_cp(out, cp);
		} else if (i + j == n && !final) {
			return i;	/* a tail the next chunk may complete */
		} else {
			put_cp(out, REPLACEMENT);
		}
		i += j;
	}
	return n;
}

static void put_string(struct buf *out, const void *p, size_t n)
{
	buf_addch(out, '"');
	put_text(out, p, n, 1);
	buf_addch(out, '"');
}

static void put_time(struct buf *out, int64_t t)
{
	int64_t us;

	us = t / 1000 + (t % 1000 >= 500);
	buf_addf(out, "[%lld.%06lld, ", (long long)(us / 1000000),
		 (long long)(us % 1000000));
}

/* Times never go backwards in the output, whatever the caller passes. */
static int64_t advance(struct cast_writer *w, int64_t t)
{
	if (t > w->now)
		w->now = t;
	return w->now;
}

void cast_writer_init(struct cast_writer *w, struct buf *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
}

void cast_write_header(struct cast_writer *w, const struct cast_header *h)
{
	struct buf *o = w->out;

	buf_addf(o, "{\"version\": 2, \"width\": %lld, \"height\": %lld",
		 h->width, h->height);
	if (h->has_timestamp)
		buf_addf(o, ", \"timestamp\": %lld", (long long)h->timestamp);
	if (h->command) {
		buf_addstr(o, ", \"command\": ");
		put_string(o, h->command, strlen(h->command));
	}
	if (h->title) {
		buf_addstr(o, ", \"title\": ");
		put_string(o, h->title, strlen(h->title));
	}
	if (h->shell || h->term) {
		buf_addstr(o, ", \"env\": {");
		if (h->shell) {
			buf_addstr(o, "\"SHELL\": ");
			put_string(o, h->shell, strlen(h->shell));
		}
		if (h->term) {
			buf_addstr(o, h->shell ? ", \"TERM\": " : "\"TERM\": ");
			put_string(o, h->term, strlen(h->term));
		}
		buf_addch(o, '}');
	}
	buf_addstr(o, "}\n");
}

/* Writes [t, "c", "<text>"] unless the text is empty; consumes what
 * put_text consumes. */
static size_t put_event(struct buf *o, int64_t t, char code,
			const uint8_t *p, size_t n, int final)
{
	size_t start = o->len, text, used;

	put_time(o, t);
	buf_addf(o, "\"%c\", \"", code);
	text = o->len;
	used = put_text(o, p, n, final);
	if (o->len == text) {
		buf_setlen(o, start);
		return used;
	}
	buf_addstr(o, "\"]\n");
	return used;
}

void cast_write_bytes(struct cast_writer *w, int64_t t, char code,
		      const void *data, size_t n)
{
	int k = code == 'i';
	const uint8_t *p = data;
	uint8_t *joined = NULL;
	size_t used;

	t = advance(w, t);
	if (w->ncarry[k]) {
		joined = xmalloc(w->ncarry[k] + n);
		memcpy(joined, w->carry[k], w->ncarry[k]);
		if (n)
			memcpy(joined + w->ncarry[k], p, n);
		p = joined;
		n += w->ncarry[k];
		w->ncarry[k] = 0;
	}
	used = put_event(w->out, t, code, p, n, 0);
	assert(n - used < sizeof(w->carry[k]));
	if (used < n)
		memcpy(w->carry[k], p + used, n - used);
	w->ncarry[k] = n - used;
	free(joined);
}

void cast_write_resize(struct cast_writer *w, int64_t t, long long cols,
		       long long rows)
{
	put_time(w->out, advance(w, t));
	buf_addf(w->out, "\"r\", \"%lldx%lld\"]\n", cols, rows);
}

void cast_write_marker(struct cast_writer *w, int64_t t, const char *label,
		       size_t n)
{
	put_time(w->out, advance(w, t));
	buf_addstr(w->out, "\"m\", ");
	put_string(w->out, label, n);
	buf_addstr(w->out, "]\n");
}

void cast_writer_finish(struct cast_writer *w)
{
	for (int k = 0; k < 2; k++) {
		if (w->ncarry[k])
			put_event(w->out, w->now, k ? 'i' : 'o',
				  w->carry[k], w->ncarry[k], 1);
		w->ncarry[k] = 0;
	}
}

/* ---- Reading -------------------------------------------------------- */

/* What a parse knows as it goes along the file. */
struct reader {
	const char *name;	/* the file, for messages */
	size_t line;		/* 1-based, of the line being read */
	int version;		/* 2 or 3, once the header is read */
	int64_t prev;		/* the previous event's time, ns */
	const struct cast_parse_ops *ops;
	void *ctx;
	struct cast_parse_stats *st;
};

static const char *spec(const struct reader *rd)
{
	return rd->version == 3 ? "(see the asciicast v3 format)"
				: "(see the asciicast v2 format)";
}

static int bad(const struct reader *rd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad(const struct reader *rd, const char *fmt, ...)
{
	struct buf m = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&m, fmt, ap);
	va_end(ap);
	lt_error(LT_EINVAL, "%s: line %zu: %s", rd->name, rd->line, m.data);
	buf_release(&m);
	return LT_EINVAL;
}

/* An optional string member: NULL if absent or null; *ok 0 if neither
 * a string nor null. */
static const char *opt_string(json_t *o, const char *key, int *ok)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		*ok = 0;
		return NULL;
	}
	return json_string_value(v);
}

/* A size of the header: o's key, where o is what `where` names. */
static int get_size(const struct reader *rd, json_t *o, const char *where,
		    const char *key, long long *out)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return bad(rd, "%s has no \"%s\" (an integer) %s", where, key,
			   spec(rd));
	/* asciinema rec writes 0 when its terminal has no size. */
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 65535)
		return bad(rd, "\"%s\" must be an integer from 0 to 65535 %s",
			   key, spec(rd));
	*out = json_integer_value(v);
	return 0;
}

static int parse_header(struct reader *rd, json_t *o, struct cast_header *h)
{
	json_t *v, *env, *term = NULL;
	int ok = 1, r;

	memset(h, 0, sizeof(*h));
	if (!json_is_object(o))
		return bad(rd, "expected the header object {\"version\": 2, "
			   "\"width\": W, \"height\": H} %s", spec(rd));
	v = json_object_get(o, "version");
	if (!v)
		return bad(rd, "the header has no \"version\"; is this an "
			   "asciicast file? %s", spec(rd));
	if (!json_is_integer(v) || (json_integer_value(v) != 2 &&
				    json_integer_value(v) != 3)) {
		if (json_is_integer(v))
			return bad(rd, "asciicast version %lld is not "
				   "supported, only versions 2 and 3 (convert "
				   "it with asciinema first)",
				   (long long)json_integer_value(v));
		return bad(rd, "\"version\" must be the integer 2 or 3 %s",
			   spec(rd));
	}
	rd->version = h->version = (int)json_integer_value(v);
	if (h->version == 2) {
		if ((r = get_size(rd, o, "the header", "width", &h->width)) ||
		    (r = get_size(rd, o, "the header", "height", &h->height)))
			return r;
	} else {
		term = json_object_get(o, "term");
		if (!json_is_object(term))
			return bad(rd, "the header has no \"term\" object "
				   "{\"cols\": W, \"rows\": H} %s", spec(rd));
		if ((r = get_size(rd, term, "\"term\"", "cols", &h->width)) ||
		    (r = get_size(rd, term, "\"term\"", "rows", &h->height)))
			return r;
	}
	v = json_object_get(o, "timestamp");
	if (v && !json_is_null(v)) {
		double ts = json_number_value(v);
		if (!json_is_number(v) || !(ts >= 0) || ts > CAST_MAX_TIMESTAMP)
			return bad(rd, "\"timestamp\" must be Unix seconds, a "
				   "number from 0 to 8e9 %s", spec(rd));
		h->has_timestamp = 1;
		h->timestamp = (int64_t)ts;
	}
	h->command = opt_string(o, "command", &ok);
	h->title = opt_string(o, "title", &ok);
	if (!ok)
		return bad(rd, "\"command\" and \"title\" must be strings %s",
			   spec(rd));
	env = json_object_get(o, "env");
	if (env && !json_is_null(env)) {
		if (!json_is_object(env))
			return bad(rd, "\"env\" must be an object of strings %s",
				   spec(rd));
		/* asciinema writes null for an unset variable. */
		h->shell = opt_string(env, "SHELL", &ok);
		h->term = opt_string(env, "TERM", &ok);
		if (!ok)
			return bad(rd, "\"env\" must be an object of strings "
				   "%s", spec(rd));
	}
	/* v3 keeps the terminal's type in term.type instead. */
	if (term && !h->term && !(h->term = opt_string(term, "type", &ok)) &&
	    !ok)
		return bad(rd, "\"type\" of \"term\" must be a string %s",
			   spec(rd));
	return 0;
}

static int parse_resize(const char *s, size_t n, long long *cols,
			long long *rows)
{
	long long v[2] = { 0, 0 };
	size_t i = 0;

	for (int k = 0; k < 2; k++) {
		size_t digits = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 6) {
			v[k] = v[k] * 10 + (s[i++] - '0');
			digits++;
		}
		if (!digits || v[k] < 1 || v[k] > 65535)
			return -1;
		if (k == 0 && (i >= n || s[i++] != 'x'))
			return -1;
	}
	if (i != n)
		return -1;
	*cols = v[0];
	*rows = v[1];
	return 0;
}

/* The exit status of an "x" event: a decimal integer, as a string. */
static int parse_status(const char *s, size_t n, int *status)
{
	long v = 0;
	size_t i = s && n && s[0] == '-';

	if (i == n || n - i > 9)
		return -1;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*status = (int)(s[0] == '-' ? -v : v);
	return 0;
}

/* The time of an event from its first member: seconds since the start
 * (v2), or since the previous event (v3). */
static int event_time(struct reader *rd, json_t *jt, int64_t *ns)
{
	double t = json_number_value(jt);
	int64_t d;

	if (!json_is_number(jt) || !(t >= 0) || t > CAST_MAX_TIME)
		return bad(rd, rd->version == 3 ?
			   "the interval must be a number of seconds since "
			   "the previous event, from 0 to 1e9 %s" :
			   "the time must be a number of seconds since the "
			   "start, from 0 to 1e9 %s", spec(rd));
	d = (int64_t)(t * NS_PER_SEC + 0.5);
	if (rd->version == 2) {
		if (d < rd->prev)
			return bad(rd, "time %.6f is before the previous "
				   "event's %.6f; times must not decrease",
				   t, (double)rd->prev / NS_PER_SEC);
		*ns = d;
	} else {
		*ns = rd->prev + d;
		if (*ns > (int64_t)(CAST_MAX_TIME * NS_PER_SEC))
			return bad(rd, "the events reach past 1e9 seconds "
				   "from the start %s", spec(rd));
	}
	rd->prev = *ns;
	return 0;
}

static int parse_event(struct reader *rd, json_t *a)
{
	struct cast_event e;
	json_t *jc, *jd;
	const char *code;
	int r;

	memset(&e, 0, sizeof(e));
	if (!json_is_array(a) || json_array_size(a) != 3)
		return bad(rd, "expected [%s, code, data] %s",
			   rd->version == 3 ? "interval" : "time", spec(rd));
	if ((r = event_time(rd, json_array_get(a, 0), &e.t)))
		return r;
	jc = json_array_get(a, 1);
	jd = json_array_get(a, 2);
	if (!json_is_string(jc))
		return bad(rd, "the code must be a string such as \"o\" %s",
			   spec(rd));
	code = json_string_value(jc);
	if (json_string_length(jc) != 1 ||
	    !strchr(rd->version == 3 ? "oirmx" : "oirm", code[0])) {
		if (!rd->st->skipped++)
			rd->st->first_skipped = rd->line;
		return 0;
	}
	if (!json_is_string(jd))
		return bad(rd, "the data of a \"%c\" event must be a string %s",
			   code[0], spec(rd));
	e.line = rd->line;
	e.code = code[0];
	e.data = json_string_value(jd);
	e.len = json_string_length(jd);
	if (e.code == 'r' && parse_resize(e.data, e.len, &e.cols, &e.rows))
		return bad(rd, "the data of an \"r\" event must be "
			   "\"COLSxROWS\", e.g. \"80x24\" %s", spec(rd));
	if (e.code == 'x' && parse_status(e.data, e.len, &e.status))
		return bad(rd, "the data of an \"x\" event must be the exit "
			   "status, e.g. \"0\" %s", spec(rd));
	rd->st->events++;
	if (rd->ops->event && (r = rd->ops->event(rd->ctx, &e)))
		return lt_error_wrap(r, "%s: line %zu", rd->name, rd->line);
	return 0;
}

int cast_parse(const char *name, const void *data, size_t n,
	       const struct cast_parse_ops *ops, void *ctx,
	       struct cast_parse_stats *st)
{
	struct cast_parse_stats dummy;
	struct reader rd = { name, 1, 2, 0, ops, ctx, st ? st : &dummy };
	const char *p = data, *end = p + n;
	int r = 0;

	memset(rd.st, 0, sizeof(*rd.st));
	/* A byte order mark, as some editors write: not part of line 1. */
	if (n >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	if (p == end)
		return bad(&rd, "the file is empty; expected the header "
			   "{\"version\": 2, ...} %s", spec(&rd));
	for (rd.line = 1; p < end; rd.line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_error_t err;
		json_t *v;

		if (len == 0)
			return bad(&rd, "blank line; asciicast has one JSON "
				   "value on every line (remove it)");
		/* v3's comments; the header line cannot be one. */
		if (rd.line > 1 && rd.version == 3 && p[0] == '#') {
			p += len + (nl != NULL);
			continue;
		}
		v = json_loadb(p, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
			       &err);
		if (!v)
			return bad(&rd, "column %d: %s%s", err.column, err.text,
				   rd.line == 1 ? " (expected the asciicast "
				   "header)" : rd.version == 3 ?
				   " (expected [interval, code, data])" :
				   " (expected [time, code, data])");
		if (rd.line == 1) {
			struct cast_header h;
			r = parse_header(&rd, v, &h);
			if (!r && ops->header && (r = ops->header(ctx, &h)))
				r = lt_error_wrap(r, "%s: line 1", name);
		} else {
			r = parse_event(&rd, v);
		}
		json_decref(v);
		if (r)
			return r;
		p += len + (nl != NULL);
	}
	return 0;
}
