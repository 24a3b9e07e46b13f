#include "nbjson.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"
#include "banned.h"

/* A string as Python's json module escapes it with ensure_ascii=False. */
static void dump_string(const char *s, size_t n, struct buf *out)
{
	buf_addch(out, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': buf_addstr(out, "\\\""); break;
		case '\\': buf_addstr(out, "\\\\"); break;
		case '\n': buf_addstr(out, "\\n"); break;
		case '\r': buf_addstr(out, "\\r"); break;
		case '\t': buf_addstr(out, "\\t"); break;
		case '\b': buf_addstr(out, "\\b"); break;
		case '\f': buf_addstr(out, "\\f"); break;
		default:
			if (c < 0x20)
				buf_addf(out, "\\u%04x", c);
			else
				buf_addch(out, c);
		}
	}
	buf_addch(out, '"');
}

/*
 * A double as Python's float.__repr__: the shortest digits that read back
 * as the same double, in fixed notation when the decimal exponent is in
 * [-4, 16) (with ".0" for whole numbers), else as 1.5e+16 or 1e-05.
 */
static void dump_real(double d, struct buf *out)
{
	char tmp[40], digits[24];
	int prec, exp, nd = 0;
	char *p;

	if (d == 0) {
		buf_addstr(out, signbit(d) ? "-0.0" : "0.0");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	/* tmp is [-]d[.ddd]e[+-]xx */
	p = tmp;
	if (*p == '-') {
		buf_addch(out, '-');
		p++;
	}
	for (; *p != 'e'; p++)
		if (*p != '.')
			digits[nd++] = *p;
	exp = (int)strtol(p + 1, NULL, 10);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	if (exp >= -4 && exp < 16) {
		if (exp < 0) {
			buf_addstr(out, "0.");
			for (int i = -1; i > exp; i--)
				buf_addch(out, '0');
			buf_add(out, digits, (size_t)nd);
		} else {
			for (int i = 0; i <= exp; i++)
				buf_addch(out, i < nd ? digits[i] : '0');
			buf_addch(out, '.');
			if (nd > exp + 1)
				buf_add(out, digits + exp + 1,
					(size_t)(nd - exp - 1));
			else
				buf_addch(out, '0');
		}
		return;
	}
	buf_addch(out, digits[0]);
	if (nd > 1) {
		buf_addch(out, '.');
		buf_add(out, digits + 1, (size_t)(nd - 1));
	}
	buf_addf(out, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void newline(struct buf *out, int depth)
{
	buf_addch(out, '\n');
	for (int i = 0; i < depth; i++)
		buf_addch(out, ' ');
}

static void dump(const json_t *v, int depth, struct buf *out)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		size_t n = json_object_size(v), k = 0;
		const char **keys;
		const char *key;
		json_t *val;

		if (!n) {
			buf_addstr(out, "{}");
			return;
		}
		keys = xcalloc(n, sizeof(*keys));
		json_object_foreach((json_t *)v, key, val)
			keys[k++] = key;
		/* strcmp on UTF-8 orders as Python compares code points. */
		qsort(keys, n, sizeof(*keys), cmp_key);
		buf_addch(out, '{');
		for (k = 0; k < n; k++) {
			if (k)
				buf_addch(out, ',');
			newline(out, depth + 1);
			dump_string(keys[k], strlen(keys[k]), out);
			buf_addstr(out, ": ");
			dump(json_object_get(v, keys[k]), depth + 1, out);
		}
		newline(out, depth);
		buf_addch(out, '}');
		free(keys);
		return;
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(v);

		if (!n) {
			buf_addstr(out, "[]");
			return;
		}
		buf_addch(out, '[');
		for (size_t i = 0; i < n; i++) {
			if (i)
				buf_addch(out, ',');
			newline(out, depth + 1);
			dump(json_array_get(v, i), depth + 1, out);
		}
		newline(out, depth);
		buf_addch(out, ']');
		return;
	}
	case JSON_STRING:
		dump_string(json_string_value(v), json_string_length(v), out);
		return;
	case JSON_INTEGER:
		buf_addf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return;
	case JSON_REAL:
		dump_real(json_real_value(v), out);
		return;
	case JSON_TRUE:
		buf_addstr(out, "true");
		return;
	case JSON_FALSE:
		buf_addstr(out, "false");
		return;
	case JSON_NULL:
		buf_addstr(out, "null");
		return;
	}
}

void nbjson_dump(const json_t *v, struct buf *out)
{
	dump(v, 0, out);
}

/* The length of the line break at s[i..n), 0 if there is none. */
static size_t line_break(const unsigned char *s, size_t i, size_t n)
{
	switch (s[i]) {
	case '\r':
		return i + 1 < n && s[i + 1] == '\n' ? 2 : 1;
	case '\n': case '\v': case '\f': case 0x1c: case 0x1d: case 0x1e:
		return 1;
	case 0xc2:	/* U+0085 */
		return i + 1 < n && s[i + 1] == 0x85 ? 2 : 0;
	case 0xe2:	/* U+2028, U+2029 */
		return i + 2 < n && s[i + 1] == 0x80 &&
		       (s[i + 2] == 0xa8 || s[i + 2] == 0xa9) ? 3 : 0;
	}
	return 0;
}

json_t *nbjson_split_lines(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	json_t *lines = json_array();
	size_t start = 0;

	if (!lines)
		abort();
	for (size_t i = 0; i < n;) {
		size_t k = line_break(u, i, n);
		if (!k) {
			i++;
			continue;
		}
		i += k;
		json_array_append_new(lines,
				      json_stringn_nocheck(s + start, i - start));
		start = i;
	}
	if (start < n)
		json_array_append_new(lines,
				      json_stringn_nocheck(s + start, n - start));
	return lines;
}
