#include "events.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bytes.h"
#include "error.h"
#include "events-int.h"
#include "xalloc.h"
#include "banned.h"

/*
 * NOTES ON THE PAYLOAD ENCODING
 *
 * The layout is in events.h and doc/format.md. What the code below keeps
 * true:
 *
 * 1. ev_decode(ev_encode(x)) is json_equal to x for every JSON value the
 *    encoder accepts, with object keys in the same order. The encoder
 *    refuses only what the decoder would refuse, so that a record that
 *    cannot be read back never reaches the vault: nesting deeper than
 *    EV_MAX_DEPTH, strings or keys that are not valid UTF-8 (possible only
 *    through jansson's *_nocheck constructors), and keys with a NUL byte.
 *    jansson's parser never makes such keys, its json_equal cannot compare
 *    them, and code that walks an object with C strings would see a
 *    different key than the one stored; strings may hold NULs.
 *
 * 2. Field numbers (odd keys) appear only as keys of the outermost object
 *    and only for the kind the payload was encoded with. Nested objects
 *    always carry literal names, so a field table only ever describes the
 *    top level.
 *
 * 3. The decoder accepts a literal name where a field number could have
 *    been used. A kind gains fields only at the end of its table, so a
 *    payload written before a field was registered carries its name
 *    literally, and must still decode under the newer table.
 *
 * 4. The decoder never reads outside its input, never recurses deeper
 *    than EV_MAX_DEPTH, and refuses a count that the remaining bytes
 *    cannot hold (every value takes at least one byte, every object
 *    member at least two), so a forged count cannot make it loop or
 *    allocate far beyond the input's size.
 *
 * 5. Integers are jansson's json_int_t (64 bits) as zigzag varints; reals
 *    are the raw IEEE 754 bits, so they round-trip exactly (-0.0
 *    included). JSON has no NaN or infinity, so the decoder refuses them.
 *
 * 6. Bytes (tag 8) are typed by the registry, not by the JSON value: in
 *    JSON a bytes field holds a base64 string, which the encoder writes as
 *    tag 8 when the field is an EV_BYTES field of the kind's table (so
 *    only at the top level, and only for a kind). Only canonical base64
 *    is accepted (ev_base64_check), so decoding gives back the very
 *    string that was encoded. The decoder mirrors this: tag 8 only as the
 *    value of such a field, and never a string (tag 5) there, since the
 *    encoder could not have written one; a non-string value in a bytes
 *    field is encoded and decoded as itself (ev_validate refuses it).
 */

enum {
	TAG_NULL,
	TAG_FALSE,
	TAG_TRUE,
	TAG_INT,
	TAG_REAL,
	TAG_STRING,
	TAG_ARRAY,
	TAG_OBJECT,
	TAG_BYTES,
};

#define B64 sodium_base64_VARIANT_ORIGINAL

/* jansson reports allocation failure as NULL; like xmalloc, give up. */
static json_t *jcheck(json_t *v)
{
	if (!v) {
		fputs("labtape: out of memory\n", stderr);
		abort();
	}
	return v;
}

size_t ev_utf8_next(const uint8_t *p, const uint8_t *end, uint32_t *cp)
{
	uint32_t c, min;
	size_t n;

	if (p >= end)
		return 0;
	c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c < 0xc2) /* a continuation byte, or an overlong 2-byte lead */
		return 0;
	if (c < 0xe0)
		n = 2, c &= 0x1f, min = 0x80;
	else if (c < 0xf0)
		n = 3, c &= 0x0f, min = 0x800;
	else if (c < 0xf5)
		n = 4, c &= 0x07, min = 0x10000;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

long long ev_utf8_count(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + n;
	long long count = 0;
	uint32_t cp;

	while (p < end) {
		if (*p < 0x80) {
			p++;
		} else {
			size_t len = ev_utf8_next(p, end, &cp);
			if (!len)
				return -1;
			p += len;
		}
		count++;
	}
	return count;
}

/* Whether s[0..n) is all ASCII. libsodium's decoder (1.0.18) reads any
 * byte from 0x80 up as some base64 digit, so a string holding one would
 * decode, yet not be what the bytes encode back to; base64 is ASCII, and
 * this refuses the rest first. A word at a time: file chunks pass here. */
static int b64_ascii(const char *s, size_t n)
{
	uint64_t any = 0, w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		any |= w;
	}
	for (; i < n; i++)
		any |= (uint8_t)s[i];
	return !(any & 0x8080808080808080ull);
}

long long ev_base64_check(const char *s, size_t n)
{
	/* Checked through libsodium's decoder, a piece at a time so that
	 * checking needs no memory. Each piece is whole 4-character groups;
	 * only the last may end in padding. */
	enum { PIECE = 4096 };
	unsigned char bin[PIECE / 4 * 3];
	size_t pads, got;

	if (n % 4 || !b64_ascii(s, n))
		return -1;
	for (size_t at = 0; at < n; at += PIECE) {
		size_t m = n - at < PIECE ? n - at : PIECE;
		if (at + m < n && s[at + m - 1] == '=')
			return -1;
		if (sodium_base642bin(bin, sizeof(bin), s + at, m, NULL, &got,
				      NULL, B64))
			return -1;
	}
	pads = (n && s[n - 1] == '=') + (n > 1 && s[n - 2] == '=');
	return (long long)(n / 4 * 3 - pads);
}

uint8_t *ev_bytes_decode(const json_t *v, size_t *len)
{
	size_t n = json_string_length(v), cap = n / 4 * 3 + 3;
	uint8_t *p;

	*len = 0;
	if (!json_is_string(v))
		return NULL;
	p = xmalloc(cap);
	if (sodium_base642bin(p, cap, json_string_value(v), n, NULL, len,
			      NULL, B64)) {
		free(p);
		*len = 0;
		return NULL;
	}
	return p;
}

static int depth_ok(const json_t *v, int depth)
{
	size_t i;
	const json_t *el;

	if (!json_is_array(v) && !json_is_object(v))
		return 1;
	if (depth > EV_MAX_DEPTH)
		return 0;
	if (json_is_array(v)) {
		json_array_foreach(v, i, el) {
			if (!depth_ok(el, depth + 1))
				return 0;
		}
		return 1;
	}
	/* jansson's iterators take non-const objects but do not modify them. */
	for (void *it = json_object_iter((json_t *)v); it;
	     it = json_object_iter_next((json_t *)v, it)) {
		if (!depth_ok(json_object_iter_value(it), depth + 1))
			return 0;
	}
	return 1;
}

int ev_check_depth(const json_t *v, const char *what)
{
	if (!depth_ok(v, 1))
		return lt_error(LT_EINVAL, "%s: nested deeper than %d levels",
				what, EV_MAX_DEPTH);
	return 0;
}

/* The field number of key[0..n) in k's table, or -1. key need not be
 * NUL-terminated (the decoder's point into the payload). */
static long field_index(const struct ev_kind *k, const char *key, size_t n)
{
	if (!n)
		return -1; /* no field has an empty name */
	for (size_t i = 0; i < k->nfields; i++) {
		const char *name = k->fields[i].name;
		/* Most names differ in their first byte, sparing the strlen. */
		if (name[0] == key[0] && strlen(name) == n && !memcmp(name, key, n))
			return (long)i;
	}
	return -1;
}

/*
 * Appends an optional tag byte (tag < 0: none), the uvarint v, and n bytes
 * of s, growing the buffer once.
 */
static int put(struct buf *out, int tag, uint64_t v, const char *s, size_t n)
{
	uint8_t *p;
	size_t len = 0;
	int r;

	if ((r = buf_grow(out, 1 + UVARINT_MAX + n)) < 0)
		return r;
	p = (uint8_t *)out->data + out->len;
	if (tag >= 0)
		p[len++] = (uint8_t)tag;
	len += put_uvarint(p + len, v);
	if (n)
		memcpy(p + len, s, n);
	buf_setlen(out, out->len + len + n);
	return 0;
}

static int put_real(struct buf *out, double x)
{
	uint64_t bits;
	uint8_t *p;
	int r;

	if ((r = buf_grow(out, 9)) < 0)
		return r;
	memcpy(&bits, &x, sizeof(bits));
	p = (uint8_t *)out->data + out->len;
	p[0] = TAG_REAL;
	put_u64le(p + 1, bits);
	buf_setlen(out, out->len + 9);
	return 0;
}

static int encode_value(const struct ev_kind *k, const json_t *v, int depth,
			struct buf *out);

/* Writes the base64 string v of bytes field f as tag 8 (note 6). */
static int encode_bytes(const struct ev_field *f, const json_t *v,
			struct buf *out)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v), hl, got;
	long long m;
	uint8_t *p;
	int r;

	/* The length from the padding; the one decode below checks the rest
	 * (libsodium refuses bad characters, misplaced padding and non-zero
	 * trailing bits, so what it accepts of ASCII is canonical). Chunks
	 * of files pass here: decoding them once, not twice, matters. */
	if (n % 4 || !b64_ascii(s, n))
		return lt_error(LT_EINVAL, "data.%s: not canonical base64 "
				"(standard alphabet, '=' padding, no spaces)",
				f->name);
	m = (long long)(n / 4 * 3) - (n && s[n - 1] == '=') -
	    (n > 1 && s[n - 2] == '=');
	if ((r = buf_grow(out, 1 + UVARINT_MAX + (size_t)m)) < 0)
		return r;
	p = (uint8_t *)out->data + out->len;
	p[0] = TAG_BYTES;
	hl = 1 + put_uvarint(p + 1, (uint64_t)m);
	if (m < 0 ||
	    sodium_base642bin(p + hl, (size_t)m, s, n, NULL, &got, NULL, B64) ||
	    got != (size_t)m)
		return lt_error(LT_EINVAL, "data.%s: not canonical base64 "
				"(standard alphabet, '=' padding, no spaces)",
				f->name);
	buf_setlen(out, out->len + hl + got);
	return 0;
}

/* k is non-NULL only for the outermost object (note 2). */
static int encode_object(const struct ev_kind *k, const json_t *v, int depth,
			 struct buf *out)
{
	int r;

	if ((r = put(out, TAG_OBJECT, json_object_size(v), NULL, 0)) < 0)
		return r;
	for (void *it = json_object_iter((json_t *)v); it;
	     it = json_object_iter_next((json_t *)v, it)) {
		const char *key = json_object_iter_key(it);
		size_t klen = json_object_iter_key_len(it);
		long f = k ? field_index(k, key, klen) : -1;
		const json_t *val = json_object_iter_value(it);

		if (f >= 0) {
			r = put(out, -1, (uint64_t)f << 1 | 1, NULL, 0);
		} else {
			if (ev_utf8_count(key, klen) < 0)
				return lt_error(LT_EINVAL,
						"object key is not valid UTF-8");
			if (memchr(key, 0, klen))
				return lt_error(LT_EINVAL,
						"object key contains a NUL byte");
			r = put(out, -1, (uint64_t)klen << 1, key, klen);
		}
		if (r < 0)
			return r;
		if (f >= 0 && k->fields[f].type == EV_BYTES && json_is_string(val))
			r = encode_bytes(&k->fields[f], val, out);
		else
			r = encode_value(NULL, val, depth + 1, out);
		if (r < 0)
			return r;
	}
	return 0;
}

static int encode_value(const struct ev_kind *k, const json_t *v, int depth,
			struct buf *out)
{
	const char *s;
	size_t i, n;
	const json_t *el;
	int r;

	switch (json_typeof(v)) {
	case JSON_NULL:
		return buf_addch(out, TAG_NULL);
	case JSON_FALSE:
		return buf_addch(out, TAG_FALSE);
	case JSON_TRUE:
		return buf_addch(out, TAG_TRUE);
	case JSON_INTEGER:
		return put(out, TAG_INT, zigzag_encode(json_integer_value(v)),
			   NULL, 0);
	case JSON_REAL:
		return put_real(out, json_real_value(v));
	case JSON_STRING:
		s = json_string_value(v);
		n = json_string_length(v);
		if (ev_utf8_count(s, n) < 0)
			return lt_error(LT_EINVAL, "string is not valid UTF-8");
		return put(out, TAG_STRING, n, s, n);
	case JSON_ARRAY:
	case JSON_OBJECT:
		break;
	}
	if (depth > EV_MAX_DEPTH)
		return lt_error(LT_EINVAL, "data nested deeper than %d levels",
				EV_MAX_DEPTH);
	if (json_is_object(v))
		return encode_object(k, v, depth, out);
	if ((r = put(out, TAG_ARRAY, json_array_size(v), NULL, 0)) < 0)
		return r;
	json_array_foreach(v, i, el) {
		if ((r = encode_value(NULL, el, depth + 1, out)) < 0)
			return r;
	}
	return 0;
}

int ev_encode(const struct ev_kind *k, const json_t *data, struct buf *out)
{
	size_t start = out->len;
	int r;

	if (!data)
		return lt_error(LT_EINVAL, "no data to encode");
	if (k && !json_is_object(data))
		return lt_error(LT_EINVAL, "data of kind '%s' must be an object",
				k->name);
	if ((r = encode_value(k, data, 1, out)) < 0)
		buf_setlen(out, start); /* leave out as it was */
	return r;
}

struct dec {
	const uint8_t *start, *p, *end;
	const struct ev_kind *k;
};

static int corrupt(const struct dec *d, const uint8_t *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int corrupt(const struct dec *d, const uint8_t *at, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return lt_error(LT_ECORRUPT, "payload byte %zu: %s",
			(size_t)(at - d->start), msg);
}

static size_t left(const struct dec *d)
{
	return (size_t)(d->end - d->p);
}

/*
 * Reads a uvarint length or count of items that take at least min_size
 * bytes each, and checks that the bytes left can hold that many.
 */
static int get_count(struct dec *d, const char *what, size_t min_size,
		     uint64_t *out)
{
	const uint8_t *at = d->p;

	if (get_uvarint(&d->p, d->end, out) < 0)
		return corrupt(d, at, "%s is truncated or too long", what);
	if (*out > left(d) / min_size)
		return corrupt(d, at, "%s %llu exceeds the %zu bytes left", what,
			       (unsigned long long)*out, left(d));
	return 0;
}

/* bytes_field: the value is that of a top-level EV_BYTES field (note 6). */
static int decode_value(struct dec *d, int depth, int bytes_field,
			json_t **out);

/* Reads one key into name/len, which point into d's input or k's table. */
static int decode_key(struct dec *d, int depth, const char **name,
		      size_t *len)
{
	const uint8_t *at = d->p;
	uint64_t key;

	if (get_uvarint(&d->p, d->end, &key) < 0)
		return corrupt(d, at, "object key is truncated or too long");
	if (key & 1) {
		uint64_t f = key >> 1;
		if (depth > 1)
			return corrupt(d, at, "field number %llu in a nested object",
				       (unsigned long long)f);
		if (!d->k)
			return corrupt(d, at, "field number %llu but no kind given",
				       (unsigned long long)f);
		if (f >= d->k->nfields)
			return corrupt(d, at, "kind '%s' has no field number %llu",
				       d->k->name, (unsigned long long)f);
		*name = d->k->fields[f].name;
		*len = strlen(*name);
		return 0;
	}
	if (key >> 1 > left(d))
		return corrupt(d, at, "key length %llu exceeds the %zu bytes left",
			       (unsigned long long)(key >> 1), left(d));
	*name = (const char *)d->p;
	*len = (size_t)(key >> 1);
	if (ev_utf8_count(*name, *len) < 0)
		return corrupt(d, at, "object key is not valid UTF-8");
	if (memchr(*name, 0, *len))
		return corrupt(d, at, "object key contains a NUL byte");
	d->p += *len;
	return 0;
}

static int decode_object(struct dec *d, int depth, json_t **out)
{
	json_t *obj = jcheck(json_object());
	uint64_t count;
	int r;

	/* Each member takes at least a key byte and a tag byte. */
	if ((r = get_count(d, "object size", 2, &count)) < 0)
		goto fail;
	for (uint64_t i = 0; i < count; i++) {
		const uint8_t *at = d->p;
		const char *name = NULL;
		size_t len = 0;
		long f;
		json_t *v;

		if ((r = decode_key(d, depth, &name, &len)) < 0)
			goto fail;
		f = depth == 1 && d->k ? field_index(d->k, name, len) : -1;
		if (json_object_getn(obj, name, len)) {
			r = corrupt(d, at, "duplicate key '%.*s'",
				    (int)(len < 64 ? len : 64), name);
			goto fail;
		}
		r = decode_value(d, depth + 1,
				 f >= 0 && d->k->fields[f].type == EV_BYTES, &v);
		if (r < 0)
			goto fail;
		if (json_object_setn_new_nocheck(obj, name, len, v) < 0)
			jcheck(NULL);
	}
	*out = obj;
	return 0;
fail:
	json_decref(obj);
	return r;
}

static int decode_array(struct dec *d, int depth, json_t **out)
{
	json_t *arr = jcheck(json_array());
	uint64_t count;
	int r;

	if ((r = get_count(d, "array size", 1, &count)) < 0)
		goto fail;
	for (uint64_t i = 0; i < count; i++) {
		json_t *v;
		if ((r = decode_value(d, depth + 1, 0, &v)) < 0)
			goto fail;
		if (json_array_append_new(arr, v) < 0)
			jcheck(NULL);
	}
	*out = arr;
	return 0;
fail:
	json_decref(arr);
	return r;
}

/* Reads the body of a tag 8 value into a base64 string. */
static int decode_bytes(struct dec *d, json_t **out)
{
	uint64_t len;
	char *b64;
	size_t n;
	int r;

	if ((r = get_count(d, "bytes length", 1, &len)) < 0)
		return r;
	n = sodium_base64_ENCODED_LEN((size_t)len, B64);
	b64 = xmalloc(n);
	sodium_bin2base64(b64, n, d->p, (size_t)len, B64);
	*out = jcheck(json_stringn_nocheck(b64, n - 1));
	free(b64);
	d->p += len;
	return 0;
}

static int decode_value(struct dec *d, int depth, int bytes_field,
			json_t **out)
{
	const uint8_t *at = d->p;
	uint64_t bits, len;
	int64_t i;
	double x;
	int r;

	if (d->p >= d->end)
		return corrupt(d, at, "payload ends where a value should be");
	switch (*d->p++) {
	case TAG_NULL:
		*out = json_null();
		return 0;
	case TAG_FALSE:
		*out = json_false();
		return 0;
	case TAG_TRUE:
		*out = json_true();
		return 0;
	case TAG_INT:
		if (get_svarint(&d->p, d->end, &i) < 0)
			return corrupt(d, at, "integer is truncated or too long");
		*out = jcheck(json_integer((json_int_t)i));
		return 0;
	case TAG_REAL:
		if (left(d) < 8)
			return corrupt(d, at, "real is truncated");
		bits = get_u64le(d->p);
		d->p += 8;
		memcpy(&x, &bits, sizeof(x));
		if (!isfinite(x))
			return corrupt(d, at, "real is not a finite number");
		*out = jcheck(json_real(x));
		return 0;
	case TAG_STRING:
		if (bytes_field)
			return corrupt(d, at, "a string where bytes belong");
		if ((r = get_count(d, "string length", 1, &len)) < 0)
			return r;
		if (ev_utf8_count((const char *)d->p, (size_t)len) < 0)
			return corrupt(d, at, "string is not valid UTF-8");
		*out = jcheck(json_stringn_nocheck((const char *)d->p,
						   (size_t)len));
		d->p += len;
		return 0;
	case TAG_ARRAY:
	case TAG_OBJECT:
		if (depth > EV_MAX_DEPTH)
			return corrupt(d, at, "nested deeper than %d levels",
				       EV_MAX_DEPTH);
		if (*at == TAG_ARRAY)
			return decode_array(d, depth, out);
		return decode_object(d, depth, out);
	case TAG_BYTES:
		if (!bytes_field)
			return corrupt(d, at, "bytes outside a bytes field");
		return decode_bytes(d, out);
	}
	return corrupt(d, at, "unknown value tag %u", *at);
}

int ev_decode(const struct ev_kind *k, const uint8_t *p, size_t n,
	      json_t **out)
{
	struct dec d = { p, p, NULL, k };
	json_t *v;
	int r;

	*out = NULL;
	if (!n)
		return lt_error(LT_ECORRUPT, "payload is empty");
	d.end = p + n;
	if (k && p[0] != TAG_OBJECT)
		return corrupt(&d, p, "payload of kind '%s' is not an object",
			       k->name);
	if ((r = decode_value(&d, 1, 0, &v)) < 0)
		return r;
	if (d.p != d.end) {
		json_decref(v);
		return corrupt(&d, d.p, "%zu unexpected bytes after the value",
			       left(&d));
	}
	*out = v;
	return 0;
}
