/* Unit tests for src/util/fastcdc.c: content-defined chunking. */
#include <stdint.h>
#include <stdlib.h>

#include "error.h"
#include "fastcdc.h"
#include "test.h"
#include "banned.h"

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static uint8_t *random_bytes(size_t n, uint64_t seed)
{
	uint8_t *p = malloc(n ? n : 1);

	rng_state = seed;
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rng() >> 32);
	return p;
}

/* The cut points of p[0..n) chunked in one go: ends[i] is the offset just
 * after chunk i. Returns the number of chunks. */
static size_t chunk_all(const uint8_t *p, size_t n, size_t *ends, size_t max)
{
	size_t at = 0, k = 0;

	while (at < n) {
		at += fastcdc_first(p + at, n - at);
		ASSERT(k < max);
		ends[k++] = at;
	}
	return k;
}

/* The same, fed in pieces of the sizes that next_piece() gives. */
static size_t chunk_pieces(const uint8_t *p, size_t n, size_t *ends,
			   size_t max, size_t (*next_piece)(void))
{
	struct fastcdc c;
	size_t at = 0, k = 0;

	fastcdc_init(&c);
	while (at < n) {
		size_t piece = next_piece();
		if (piece > n - at)
			piece = n - at;
		const uint8_t *q = p + at;
		size_t left = piece;
		at += piece;
		while (left) {
			int cut;
			size_t used = fastcdc_feed(&c, q, left, &cut);
			ASSERT(used <= left);
			ASSERT(cut || used == left);
			q += used;
			left -= used;
			if (cut) {
				ASSERT(k < max);
				ends[k++] = at - left;
			}
		}
	}
	if (c.len) {
		ASSERT(k < max);
		ASSERT(k == 0 ? c.len == n : c.len == n - ends[k - 1]);
		ends[k++] = n;
	}
	return k;
}

/* FNV-1a, to name chunks by content in these tests. */
static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static size_t chunk_names(const uint8_t *p, size_t n, uint64_t *names,
			  size_t max)
{
	size_t *ends = malloc(max * sizeof(*ends));
	size_t k = chunk_all(p, n, ends, max);

	for (size_t i = 0; i < k; i++) {
		size_t start = i ? ends[i - 1] : 0;
		names[i] = fnv(p + start, ends[i] - start);
	}
	free(ends);
	return k;
}

static size_t count_shared(const uint64_t *a, size_t na, const uint64_t *b,
			   size_t nb)
{
	size_t shared = 0;

	for (size_t i = 0; i < na; i++) {
		for (size_t j = 0; j < nb; j++) {
			if (a[i] == b[j]) {
				shared++;
				break;
			}
		}
	}
	return shared;
}

/* The table and masks are the format: recompute them from their rules. */
TEST(constants_follow_their_rules)
{
	uint64_t x = 0x6c6162746170652dULL; /* "labtape-" */

	for (int i = 0; i < 256; i++) {
		uint64_t z;
		x += 0x9e3779b97f4a7c15ULL;
		z = x;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		ASSERT(fastcdc_gear[i] == (z ^ (z >> 31)));
	}
	for (int bits = 14; bits <= 18; bits += 4) {
		uint64_t m = 0;
		for (int i = 0; i < bits; i++)
			m |= 1ULL << (63 - i * 48 / bits);
		ASSERT(m == (bits == 18 ? FASTCDC_MASK_S : FASTCDC_MASK_L));
		ASSERT_EQ(__builtin_popcountll(m), bits);
	}
	ASSERT_EQ(FASTCDC_AVG, 1 << 16);
}

TEST(empty_and_small_inputs)
{
	struct fastcdc c;
	uint8_t *p = random_bytes(FASTCDC_MIN, 1);
	int cut = 7;

	fastcdc_init(&c);
	ASSERT_EQ(fastcdc_feed(&c, p, 0, &cut), 0);
	ASSERT_EQ(cut, 0);
	ASSERT_EQ(c.len, 0);
	ASSERT_EQ(fastcdc_first(p, 0), 0);
	/* Anything up to the minimum is one chunk. */
	for (size_t n = 1; n <= FASTCDC_MIN; n = n * 3 + 1) {
		ASSERT_EQ(fastcdc_first(p, n), n);
		fastcdc_init(&c);
		ASSERT_EQ(fastcdc_feed(&c, p, n, &cut), n);
		ASSERT_EQ(cut, 0);
		ASSERT_EQ(c.len, n);
	}
	ASSERT_EQ(fastcdc_first(p, FASTCDC_MIN), FASTCDC_MIN);
	free(p);
}

TEST(sizes_within_bounds_and_average)
{
	size_t n = 64u << 20, max = n / FASTCDC_MIN + 1, k;
	size_t *ends = malloc(max * sizeof(*ends));
	uint8_t *p = random_bytes(n, 0x1234567);
	size_t shortest = SIZE_MAX, longest = 0;
	double avg;

	k = chunk_all(p, n, ends, max);
	for (size_t i = 0; i + 1 < k; i++) {
		size_t len = ends[i] - (i ? ends[i - 1] : 0);
		ASSERT(len >= FASTCDC_MIN && len <= FASTCDC_MAX);
		if (len < shortest)
			shortest = len;
		if (len > longest)
			longest = len;
	}
	ASSERT(ends[k - 1] == n);
	avg = (double)n / (double)k;
	printf("# %zu chunks, average %.1f KiB, %zu .. %zu bytes\n", k,
	       avg / 1024, shortest, longest);
	/* Normalized chunking puts the mean a little above the point where
	 * the masks change (72.6 KiB on this data); sizes spread both ways. */
	ASSERT(avg > 60 * 1024 && avg < 80 * 1024);
	ASSERT(shortest < 24 * 1024 && longest > 128 * 1024);
	free(ends);
	free(p);
}

TEST(long_runs_cut_at_max)
{
	size_t n = 3 * FASTCDC_MAX + 100;
	uint8_t *p = calloc(n, 1);
	size_t ends[8], k;

	/* A run of one byte value gives a constant hash; with this table
	 * and these masks it never has zeros under them. */
	k = chunk_all(p, n, ends, 8);
	ASSERT_EQ(k, 4);
	for (size_t i = 0; i < 3; i++)
		ASSERT_EQ(ends[i], (i + 1) * FASTCDC_MAX);
	ASSERT_EQ(ends[3], n);
	free(p);
}

static size_t piece_size;
static size_t fixed_piece(void)
{
	return piece_size;
}
static size_t random_piece(void)
{
	uint64_t r = rng();
	/* Mostly small, sometimes large pieces. */
	return r % 4 ? 1 + r % 97 : 1 + (r >> 8) % (3 * FASTCDC_MAX);
}

TEST(streaming_does_not_change_cuts)
{
	static const size_t sizes[] = { 1, 7, 63, 64, 65, 4096, 16321, 65536,
					FASTCDC_MAX, FASTCDC_MAX + 1, 1 << 20 };
	size_t n = 6u << 20, max = n / FASTCDC_MIN + 2;
	size_t *ends = malloc(max * sizeof(*ends));
	size_t *ends2 = malloc(max * sizeof(*ends));
	uint8_t *p = random_bytes(n, 99);
	size_t k, k2;

	/* Some low-entropy stretches too, which reach FASTCDC_MAX. */
	memset(p + (1 << 20), 'x', 600000);
	k = chunk_all(p, n, ends, max);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		piece_size = sizes[i];
		k2 = chunk_pieces(p, n, ends2, max, fixed_piece);
		ASSERT_EQ(k2, k);
		ASSERT_MEMEQ(ends2, ends, k * sizeof(*ends));
	}
	rng_state = 5;
	for (int round = 0; round < 3; round++) {
		k2 = chunk_pieces(p, n, ends2, max, random_piece);
		ASSERT_EQ(k2, k);
		ASSERT_MEMEQ(ends2, ends, k * sizeof(*ends));
	}
	free(ends);
	free(ends2);
	free(p);
}

/* Editing a file changes the chunks around the edit only. */
TEST(boundaries_are_content_defined)
{
	size_t n = 16u << 20, max = n / FASTCDC_MIN + 2;
	uint8_t *p = random_bytes(n + 1, 7), *q = malloc(n + 1);
	uint64_t *a = malloc(max * sizeof(*a)), *b = malloc(max * sizeof(*b));
	size_t na, nb, shared;

	na = chunk_names(p, n, a, max);
	ASSERT(na > 150);

	/* One byte inserted near the start. */
	q[0] = p[0];
	q[1] = 0x5a;
	memcpy(q + 2, p + 1, n - 1);
	nb = chunk_names(q, n + 1, b, max);
	shared = count_shared(a, na, b, nb);
	ASSERT(shared >= na - 3);

	/* One byte inserted in the middle, one deleted further on. */
	memcpy(q, p, n / 2);
	q[n / 2] = 0xa5;
	memcpy(q + n / 2 + 1, p + n / 2, n / 4);
	memcpy(q + n / 2 + 1 + n / 4, p + n / 2 + n / 4 + 1, n - n / 2 - n / 4 - 1);
	nb = chunk_names(q, n, b, max);
	shared = count_shared(a, na, b, nb);
	ASSERT(shared >= na - 4);
	/* And the chunks before the first edit are the very same. */
	for (size_t i = 0; i < na / 3; i++)
		ASSERT(a[i] == b[i]);

	/* A different prefix of the same data: boundaries resynchronise. */
	nb = chunk_names(p + 12345, n - 12345, b, max);
	shared = count_shared(a, na, b, nb);
	ASSERT(shared >= na - 3);
	free(a);
	free(b);
	free(p);
	free(q);
}

TEST_LIST = {
	TEST_ENTRY(constants_follow_their_rules),
	TEST_ENTRY(empty_and_small_inputs),
	TEST_ENTRY(sizes_within_bounds_and_average),
	TEST_ENTRY(long_runs_cut_at_max),
	TEST_ENTRY(streaming_does_not_change_cuts),
	TEST_ENTRY(boundaries_are_content_defined),
	TEST_END
};

TEST_MAIN()
