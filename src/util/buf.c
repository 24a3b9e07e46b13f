#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "error.h"
#include "xalloc.h"
#include "banned.h"

/* The shared empty string an unallocated buffer points at. Never written
 * except for the terminating NUL that is already there. */
char buf_slop[1];

void buf_init(struct buf *b, size_t hint)
{
	b->data = buf_slop;
	b->len = 0;
	b->alloc = 0;
	b->cap = 0;
	if (hint)
		buf_grow(b, hint);
}

void buf_release(struct buf *b)
{
	size_t cap = b->cap;

	if (b->alloc)
		free(b->data);
	buf_init(b, 0);
	b->cap = cap;
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p;

	if (len)
		*len = b->len;
	p = b->alloc ? b->data : xstrdup("");
	b->data = buf_slop;
	b->len = 0;
	b->alloc = 0;
	return p;
}

int buf_grow(struct buf *b, size_t extra)
{
	size_t need;

	if (extra > SIZE_MAX - b->len - 1)
		return lt_error(LT_ETOOBIG, "buffer size overflow");
	need = b->len + extra + 1;
	if (b->cap && b->len + extra > b->cap)
		return lt_error(LT_ETOOBIG, "buffer limit of %zu bytes reached",
				b->cap);
	if (need <= b->alloc)
		return 0;
	size_t n = b->alloc ? b->alloc : 64;
	while (n < need)
		n = n < SIZE_MAX / 2 ? n * 2 : need;
	b->data = xrealloc(b->alloc ? b->data : NULL, n);
	b->alloc = n;
	if (b->len == 0)
		b->data[0] = '\0';
	return 0;
}

void buf_setlen(struct buf *b, size_t len)
{
	if (!b->alloc && len == 0)
		return;
	b->len = len;
	b->data[len] = '\0';
}

int buf_add(struct buf *b, const void *data, size_t n)
{
	int r;

	if (!n)
		return 0;
	if ((r = buf_grow(b, n)) < 0)
		return r;
	memcpy(b->data + b->len, data, n);
	buf_setlen(b, b->len + n);
	return 0;
}

int buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addch(struct buf *b, int c)
{
	char ch = (char)c;
	return buf_add(b, &ch, 1);
}

int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, r;

	va_copy(cp, ap);
	n = vsnprintf(b->data + b->len, b->alloc ? b->alloc - b->len : 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return lt_error(LT_EINVAL, "bad format string");
	if (b->alloc && (size_t)n < b->alloc - b->len &&
	    (!b->cap || b->len + (size_t)n <= b->cap)) {
		buf_setlen(b, b->len + (size_t)n);
		return 0;
	}
	if ((r = buf_grow(b, (size_t)n)) < 0)
		return r;
	vsnprintf(b->data + b->len, b->alloc - b->len, fmt, ap);
	buf_setlen(b, b->len + (size_t)n);
	return 0;
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return r;
}

int buf_add_u16le(struct buf *b, uint16_t v)
{
	uint8_t t[2];
	put_u16le(t, v);
	return buf_add(b, t, 2);
}

int buf_add_u32le(struct buf *b, uint32_t v)
{
	uint8_t t[4];
	put_u32le(t, v);
	return buf_add(b, t, 4);
}

int buf_add_u64le(struct buf *b, uint64_t v)
{
	uint8_t t[8];
	put_u64le(t, v);
	return buf_add(b, t, 8);
}

int buf_add_uvarint(struct buf *b, uint64_t v)
{
	uint8_t t[UVARINT_MAX];
	return buf_add(b, t, put_uvarint(t, v));
}

int buf_add_svarint(struct buf *b, int64_t v)
{
	return buf_add_uvarint(b, zigzag_encode(v));
}
