/*
 * Payloads written directly, for the hot paths that carry bulk bytes:
 * term.out and term.in ({"session": s, "data": base64(data)}) and
 * fs.chunk ({"hash": h, "data": base64(data)}), byte for byte what
 * ev_encode would make of that JSON, without building JSON or base64
 * first. A terminal session can print a gigabyte and a first baseline
 * reads every file; these paths copy the bytes once.
 */
#include "events.h"

#include <string.h>

#include "bytes.h"
#include "error.h"
#include "banned.h"

/* The tags and field keys of the encoding in events.h. */
enum {
	TAG_STRING = 5,
	TAG_OBJECT = 7,
	TAG_BYTES = 8,
	KEY_FIELD0 = 0 << 1 | 1,	/* "session" of term.*, "hash" of fs.chunk */
	KEY_FIELD1 = 1 << 1 | 1,	/* "data" of both */
};

/* {field 0: the string s, field 1: the n bytes at data}. */
static int encode_string_bytes(struct buf *out, const char *s,
			       const void *data, size_t n)
{
	size_t slen = strlen(s);
	uint8_t *p;
	size_t len = 0;
	int r;

	if ((r = buf_grow(out, 5 + 2 * UVARINT_MAX + slen + n)) < 0)
		return r;
	p = (uint8_t *)out->data + out->len;
	p[len++] = TAG_OBJECT;
	p[len++] = 2;
	p[len++] = KEY_FIELD0;
	p[len++] = TAG_STRING;
	len += put_uvarint(p + len, slen);
	memcpy(p + len, s, slen);
	len += slen;
	p[len++] = KEY_FIELD1;
	p[len++] = TAG_BYTES;
	len += put_uvarint(p + len, n);
	if (n)
		memcpy(p + len, data, n);
	buf_setlen(out, out->len + len + n);
	return 0;
}

int ev_encode_term_io(struct buf *out, const char *session, const void *data,
		      size_t n)
{
	return encode_string_bytes(out, session, data, n);
}

int ev_encode_chunk(struct buf *out, const char *hash, const void *data,
		    size_t n)
{
	return encode_string_bytes(out, hash, data, n);
}
