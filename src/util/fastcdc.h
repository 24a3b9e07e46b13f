#ifndef LABTAPE_FASTCDC_H
#define LABTAPE_FASTCDC_H

/*
 * Content-defined chunking: FastCDC (Xia et al., "FastCDC: a Fast and
 * Efficient Content-Defined Chunking Approach for Data Deduplication",
 * USENIX ATC 2016). A gear hash runs over the bytes; a chunk ends where
 * the hash is zero under a mask, with normalized chunking: a harder mask
 * (more bits) while the chunk is shorter than FASTCDC_AVG and an easier
 * one after, so that sizes cluster around the average. No chunk is
 * shorter than FASTCDC_MIN (except the last one of an input) or longer
 * than FASTCDC_MAX.
 *
 * Whether a chunk ends after a byte depends only on the 64 bytes up to it
 * and on the length of the chunk so far, so an edit changes the chunk it
 * falls in and rarely more than the next one; the rest of a file keeps its
 * boundaries, and so its chunks.
 *
 * The boundaries are part of labtape's format (stored chunk hashes depend
 * on them): the gear table and the masks in fastcdc.c never change.
 *
 * Streaming use: the cut points do not depend on how the input is split
 * into pieces, so a file of any size goes through a fixed buffer.
 *
 *	struct fastcdc c;
 *	fastcdc_init(&c);
 *	for each piece p[0..n) of the input:
 *		while (n) {
 *			int cut;
 *			size_t used = fastcdc_feed(&c, p, n, &cut);
 *			p += used, n -= used;
 *			if (cut)
 *				a chunk ends just before p
 *		}
 *	at the end of the input, if c.len: the last c.len bytes are the
 *	last chunk
 *
 * Pure computation: no allocation, no globals that change.
 */

#include <stddef.h>
#include <stdint.h>

#define FASTCDC_MIN (16 * 1024)
#define FASTCDC_AVG (64 * 1024)
#define FASTCDC_MAX (256 * 1024)

/*
 * The format's constants (fastcdc.c says how they were made): the gear
 * table, and the masks used before and after FASTCDC_AVG bytes. The
 * average is 2^16 bytes; normalization level 2 (the paper's choice) gives
 * masks of 16 + 2 and 16 - 2 one bits.
 */
extern const uint64_t fastcdc_gear[256];
#define FASTCDC_MASK_S UINT64_C(0xa4a4a4a4a4a40000)	/* 18 bits */
#define FASTCDC_MASK_L UINT64_C(0x9224489224480000)	/* 14 bits */

struct fastcdc {
	uint64_t hash;	/* gear hash of the chunk so far (its last 64 bytes) */
	size_t len;	/* bytes in the chunk so far: read-only for callers */
};

void fastcdc_init(struct fastcdc *c);

/*
 * Feeds p[0..n) and returns how many of its bytes were taken. If a chunk
 * ends within them, stops right after its last byte, sets *cut to 1 and
 * starts a new chunk; otherwise takes all n bytes and sets *cut to 0.
 */
size_t fastcdc_feed(struct fastcdc *c, const uint8_t *p, size_t n, int *cut);

/* The length of the first chunk of p[0..n) when p holds the rest of the
 * input: n if no boundary comes before its end. */
size_t fastcdc_first(const uint8_t *p, size_t n);

#endif
