#ifndef LABTAPE_AGE_INT_H
#define LABTAPE_AGE_INT_H

/* age.c's internals, for its tests: fixed randomness and HKDF. */

#include "age.h"

#define AGE_FILE_KEY_SIZE 16
#define AGE_NONCE_SIZE 16

/* HKDF-SHA-256 (RFC 5869) with a 32-byte output. */
void age_hkdf(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
	      size_t salt_len, const char *info, uint8_t out[32]);

/* A writer whose randomness is given: the ephemeral secret, the file key
 * and the payload nonce. Only for known-answer tests. */
struct age_writer *age_writer_new_fixed(const uint8_t recipient[AGE_KEY_SIZE],
					const uint8_t ephemeral[AGE_KEY_SIZE],
					const uint8_t file_key[AGE_FILE_KEY_SIZE],
					const uint8_t nonce[AGE_NONCE_SIZE],
					age_write_fn *fn, void *ctx);

#endif
