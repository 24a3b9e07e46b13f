#ifndef LABTAPE_BECH32_H
#define LABTAPE_BECH32_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * Bech32 as BIP-173 specifies it, without its 90-character limit (the age
 * format's variant): a human-readable part, "1", the data in 5-bit groups
 * from the charset "qpzry9x8gf2tvdw0s3jn54khce6mua7l", and a 6-character
 * checksum computed over the lowercase string. A string is either all
 * lowercase or all uppercase.
 */

/* Appends the encoding of n bytes of data under hrp to out, in upper case
 * when upper is set. hrp must be printable ASCII (33..126). */
void bech32_encode(const char *hrp, const uint8_t *data, size_t n, int upper,
		   struct buf *out);

/*
 * Decodes s[0..len). On success the lowercase hrp is in hrp (reset first)
 * and the bytes in out (at most max of them, their number in *n).
 * LT_EINVAL, with a message that says what is wrong, for mixed case, a
 * bad character, a bad checksum, non-zero padding or more than max bytes.
 */
int bech32_decode(const char *s, size_t len, struct buf *hrp, uint8_t *out,
		  size_t max, size_t *n);

#endif
