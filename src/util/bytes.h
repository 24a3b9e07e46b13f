#ifndef LABTAPE_BYTES_H
#define LABTAPE_BYTES_H

/*
 * Little-endian fixed-width integers and LEB128 varints, for on-disk
 * layouts. Readers take an explicit end and never read past it.
 */

#include <stddef.h>
#include <stdint.h>

#define UVARINT_MAX 10

static inline void put_u16le(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_u32le(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put_u64le(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t get_u16le(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t get_u32le(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static inline uint64_t get_u64le(const uint8_t *p)
{
	return (uint64_t)get_u32le(p) | ((uint64_t)get_u32le(p + 4) << 32);
}

/* Writes v to p (at least UVARINT_MAX bytes of room); returns the length. */
static inline size_t put_uvarint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/*
 * Reads a varint from [*pp, end). Returns 0 and advances *pp, or -1 if the
 * input ends early, the value overflows 64 bits, or the encoding is longer
 * than the shortest one (a trailing 0x00 byte).
 */
static inline int get_uvarint(const uint8_t **pp, const uint8_t *end,
			      uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (p >= end)
			return -1;
		uint8_t c = *p++;
		if (shift == 63 && c > 1)
			return -1;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			/* Only the shortest form is valid: one value, one
			 * encoding. */
			if (c == 0 && shift)
				return -1;
			*pp = p;
			*out = v;
			return 0;
		}
	}
	return -1;
}

static inline uint64_t zigzag_encode(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t zigzag_decode(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static inline int get_svarint(const uint8_t **pp, const uint8_t *end,
			      int64_t *out)
{
	uint64_t u;

	if (get_uvarint(pp, end, &u) < 0)
		return -1;
	*out = zigzag_decode(u);
	return 0;
}

#endif
