#ifndef LABTAPE_BUF_H
#define LABTAPE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A growable byte buffer with git strbuf's guarantees and curl dynbuf's
 * size cap:
 *
 *  - b->data is never NULL and always NUL-terminated (b->data[b->len] == 0),
 *    so text in a buf can be passed to C string functions;
 *  - an initialised buf owns its memory until buf_release() or
 *    buf_detach();
 *  - if b->cap is non-zero, adds that would grow len past cap fail with
 *    LT_ETOOBIG and leave the buffer as it was.
 *
 *	struct buf b = BUF_INIT;
 *	buf_addf(&b, "%d events", n);
 *	puts(b.data);
 *	buf_release(&b);
 */
struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t cap;	/* 0: unlimited */
};

extern char buf_slop[];
#define BUF_INIT { buf_slop, 0, 0, 0 }

void buf_init(struct buf *b, size_t hint);
/* Frees what the buffer owns and reinitialises it (the cap is kept). */
void buf_release(struct buf *b);
/* Empties the buffer, keeping its memory. buf_slop (shared by every
 * empty buffer, in every thread) is never written: it is always "". */
static inline void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->alloc)
		b->data[0] = '\0';
}
/* Hands the memory to the caller (free() it); the buffer is reinitialised. */
char *buf_detach(struct buf *b, size_t *len);

/* Make room for at least extra more bytes. 0 or LT_ETOOBIG. */
int buf_grow(struct buf *b, size_t extra);
/* Set len (<= alloc) after writing into data directly. */
void buf_setlen(struct buf *b, size_t len);

int buf_add(struct buf *b, const void *data, size_t n);
int buf_addstr(struct buf *b, const char *s);
int buf_addch(struct buf *b, int c);
int buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap);

/* Fixed-width little-endian integers, and LEB128 varints. */
int buf_add_u16le(struct buf *b, uint16_t v);
int buf_add_u32le(struct buf *b, uint32_t v);
int buf_add_u64le(struct buf *b, uint64_t v);
int buf_add_uvarint(struct buf *b, uint64_t v);
int buf_add_svarint(struct buf *b, int64_t v);

#endif
