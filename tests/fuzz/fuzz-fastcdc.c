/*
 * Fuzzes the FastCDC chunker's streaming: the input's first 8 bytes seed
 * how the rest is split into pieces, and the rest is chunked in those
 * pieces; the cut points must be those of chunking it in one go, and
 * every chunk but the last within the size bounds. Short inputs are
 * repeated with variations up to a few hundred KiB so that cuts happen.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fastcdc.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

#define MAX_CUTS 64

static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t seed = 0, s;
	size_t cuts[MAX_CUTS + 1], ncuts = 0, n, at, k, want;
	struct fastcdc c;
	uint8_t *p;

	for (size_t i = 0; i < 8 && i < size; i++)
		seed = seed << 8 | data[i];
	data += size < 8 ? size : 8;
	size -= size < 8 ? size : 8;
	/* The text, stretched past a few chunks (past FASTCDC_MAX twice if
	 * the seed says so, which is slower): copies of the input, each
	 * with one byte changed by the seed, so that content repeats but
	 * not exactly. */
	want = seed & 2 ? 2 * FASTCDC_MAX + 1 : 4 * FASTCDC_MIN;
	n = size;
	if (size && size < want)
		n = (want / size + 1) * size;
	if (n > 8 * FASTCDC_MAX)
		n = 8 * FASTCDC_MAX;
	p = malloc(n ? n : 1);
	for (size_t i = 0; i < n; i += size) {
		size_t m = n - i < size ? n - i : size;
		memcpy(p + i, data, m);
		if (seed & 1)
			p[i + (seed >> 8) % m] ^= (uint8_t)(i / size);
	}

	for (at = 0; at < n && ncuts < MAX_CUTS;) {
		size_t len = fastcdc_first(p + at, n - at);
		CHECK(len > 0 && len <= FASTCDC_MAX);
		at += len;
		CHECK(at == n || len >= FASTCDC_MIN);
		cuts[ncuts++] = at;
	}

	s = seed;
	fastcdc_init(&c);
	k = 0;
	for (at = 0; at < n && k < ncuts;) {
		uint64_t r = next(&s);
		size_t piece = r % 4 ? 1 + (r >> 8) % 300 : 1 + (r >> 8) % (n - at);
		if (piece > n - at)
			piece = n - at;
		while (piece) {
			int cut;
			size_t used = fastcdc_feed(&c, p + at, piece, &cut);
			CHECK(used <= piece && (cut || used == piece));
			at += used;
			piece -= used;
			if (cut) {
				CHECK(k < ncuts && cuts[k] == at);
				k++;
			}
		}
	}
	/* The last chunk is what is left at the end. */
	if (at == n && k < ncuts) {
		CHECK(k + 1 == ncuts && cuts[k] == n);
		CHECK(c.len == n - (k ? cuts[k - 1] : 0));
	}
	free(p);
	return 0;
}
