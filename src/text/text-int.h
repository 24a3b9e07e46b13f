#ifndef LABTAPE_TEXT_INT_H
#define LABTAPE_TEXT_INT_H

/*
 * Private to src/text and its unit test: the sequence diff at the heart
 * of text_diff(), exposed so that tests can hold it to a brute-force
 * longest common subsequence.
 */

#include <stddef.h>
#include <stdint.h>

/*
 * Finds an edit script between a[0..n) and b[0..m) and marks the items it
 * deletes (ca[i] = 1) and inserts (cb[j] = 1); ca and cb must be zeroed
 * by the caller. The unmarked items of a and of b, in order, are the same
 * sequence: a common subsequence, and a longest one if a shortest script
 * has at most 512 insertions and deletions (beyond that the search may
 * settle for a near-longest one, as xdiff does). Each step of the search
 * is taken off *work; once it is below zero the stretches still open are
 * marked whole (still a correct script) and 1 is returned; otherwise 0.
 * Sequences of TEXT_MYERS_MAX items or more are marked whole.
 */
int text_myers(const uint32_t *a, size_t n, const uint32_t *b, size_t m,
	       uint8_t *ca, uint8_t *cb, int64_t *work);
#define TEXT_MYERS_MAX ((size_t)1 << 30)

#endif
