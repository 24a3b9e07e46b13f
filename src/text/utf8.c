#include "text.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "banned.h"

/*
 * Counting and seeking work a word (8 bytes) at a time: a code point
 * starts at every byte that is not a continuation byte (10xxxxxx), and the
 * continuation bytes of a word are found with shifts and masks in every
 * byte lane at once. memcpy() loads keep this portable (no alignment or
 * aliasing assumptions; the lanes do not care about byte order).
 */

#define HIGH_BITS UINT64_C(0x8080808080808080)
#define LOW_BITS UINT64_C(0x0101010101010101)

static inline uint64_t load64(const char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

static inline int is_cont(char c)
{
	return ((unsigned char)c & 0xc0) == 0x80;
}

/* How many of the 8 bytes of w start a code point. */
static inline unsigned word_starts(uint64_t w)
{
	/* Bit 7 of a lane set where bit 7 is set and bit 6 is clear. */
	uint64_t cont = w & ~(w << 1) & HIGH_BITS;

	/* Sum the 0/1 lanes into the top byte. */
	return 8 - (unsigned)(((cont >> 7) * LOW_BITS) >> 56);
}

/*
 * The length of the valid sequence that starts at p (rem bytes left), or
 * 0 if there is none. The ranges are those of the Unicode standard's
 * table 3-7 of well-formed UTF-8: the second byte's range is narrowed
 * after E0 (overlongs), ED (surrogates), F0 (overlongs) and F4 (above
 * U+10FFFF); C0, C1 and F5..FF never appear.
 */
static size_t seq_len(const unsigned char *p, size_t rem)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0) {
		len = 2;
	} else if (c < 0xf0) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c < 0xf5) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (rem < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t k = 2; k < len; k++)
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	return len;
}

size_t text_utf8_check(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			/* ASCII runs 32 bytes at a time: most text is ASCII,
			 * and importers check every version of every file. */
			while (n - i >= 32 &&
			       !((load64(s + i) | load64(s + i + 8) |
				  load64(s + i + 16) | load64(s + i + 24)) &
				 HIGH_BITS))
				i += 32;
			while (n - i >= 8 && !(load64(s + i) & HIGH_BITS))
				i += 8;
			continue;
		}
		size_t len = seq_len(p + i, n - i);
		if (!len)
			return i;
		i += len;
	}
	return n;
}

uint64_t text_utf8_count(const char *s, size_t n)
{
	uint64_t count = 0;
	size_t i = 0;

#ifdef __SSE2__
	/* 16 bytes a step where SSE2 is there (every x86-64): each lane
	 * counts its continuation bytes for up to 255 steps, then a sum of
	 * absolute differences adds the lanes up. */
	while (n - i >= 16) {
		size_t steps = (n - i) / 16 > 255 ? 255 : (n - i) / 16;
		__m128i acc = _mm_setzero_si128(), sad;

		for (size_t k = 0; k < steps; k++, i += 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
			__m128i cont = _mm_cmpeq_epi8(
				_mm_and_si128(v, _mm_set1_epi8((char)0xc0)),
				_mm_set1_epi8((char)0x80));

			acc = _mm_sub_epi8(acc, cont);	/* +1 per one */
		}
		sad = _mm_sad_epu8(acc, _mm_setzero_si128());
		count += 16 * steps - (uint64_t)(_mm_cvtsi128_si32(sad) +
						 _mm_extract_epi16(sad, 4));
	}
#endif
	for (; n - i >= 8; i += 8)
		count += word_starts(load64(s + i));
	for (; i < n; i++)
		count += !is_cont(s[i]);
	return count;
}

size_t text_utf8_offset(const char *s, size_t n, uint64_t cp)
{
	size_t i = 0;

	/* Skip whole words while they hold no more than cp starts; the
	 * target is the first start after the cp starts skipped. */
	while (n - i >= 8) {
		unsigned k = word_starts(load64(s + i));
		if (k > cp)
			break;
		cp -= k;
		i += 8;
	}
	for (; i < n; i++) {
		if (is_cont(s[i]))
			continue;
		if (!cp)
			return i;
		cp--;
	}
	return cp ? SIZE_MAX : n;
}

size_t text_utf8_decode(const char *s, size_t n, uint32_t *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k = 0;

	while (i < n) {
		uint32_t c = p[i++];

		if (c >= 0x80) {
			/* Stray continuation bytes (only in invalid input)
			 * are skipped, so k never passes text_utf8_count(). */
			if (c < 0xc0)
				continue;
			c &= c >= 0xf0 ? 0x07 : c >= 0xe0 ? 0x0f : 0x1f;
			while (i < n && (p[i] & 0xc0) == 0x80)
				c = c << 6 | (p[i++] & 0x3f);
		}
		out[k++] = c;
	}
	return k;
}
