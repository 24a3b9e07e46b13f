/*
 * The payload of term.out and term.in, written directly: what ev_encode
 * would make of {"session": s, "data": base64(data)}, without building
 * JSON or base64 first. A terminal session can print a gigabyte; this
 * path copies the bytes once.
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
	KEY_SESSION = 0 << 1 | 1,	/* term_io_fields[0], "session" */
	KEY_DATA = 1 << 1 | 1,		/* term_io_fields[1], "data" */
};

int ev_encode_term_io(struct buf *out, const char *session, const void *data,
		      size_t n)
{
	size_t slen = strlen(session);
	uint8_t *p;
	size_t len = 0;
	int r;

	if ((r = buf_grow(out, 5 + 2 * UVARINT_MAX + slen + n)) < 0)
		return r;
	p = (uint8_t *)out->data + out->len;
	p[len++] = TAG_OBJECT;
	p[len++] = 2;
	p[len++] = KEY_SESSION;
	p[len++] = TAG_STRING;
	len += put_uvarint(p + len, slen);
	memcpy(p + len, session, slen);
	len += slen;
	p[len++] = KEY_DATA;
	p[len++] = TAG_BYTES;
	len += put_uvarint(p + len, n);
	if (n)
		memcpy(p + len, data, n);
	buf_setlen(out, out->len + len + n);
	return 0;
}
