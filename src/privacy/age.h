#ifndef LABTAPE_AGE_H
#define LABTAPE_AGE_H

/*
 * The age v1 file format (age-encryption.org/v1, C2SP age.md), with the
 * X25519 recipient type: what 'labtape release' writes and 'labtape open'
 * reads, and what the age tool reads and writes too. Built on libsodium's
 * primitives only (X25519, ChaCha20-Poly1305, HMAC-SHA-256); call
 * sodium_init() first.
 *
 * Writing, streaming:
 *
 *	struct age_writer *w = age_writer_new(recipient, write_fn, ctx);
 *	age_writer_write(w, data, n);    any number of times
 *	age_writer_finish(w);            the last chunk
 *	age_writer_free(w);
 *
 * Reading, streaming, with bounded memory whatever the file's size:
 *
 *	age_reader_open(&r, "f.age", read_fn, ctx, &ids);  header checked
 *	while ((n = age_reader_next(r, &chunk)) > 0)
 *		use chunk[0..n)            authentic, but the file may still
 *		                           turn out truncated or damaged later
 *	n == 0: the whole payload is authentic; n < 0: lt_errmsg() says
 *	what failed, naming the file, the chunk and its byte offset.
 *	age_reader_free(r);
 *
 * Each chunk is authenticated before it is handed out, but only the end
 * proves that nothing was cut off: a caller must treat what it got as
 * final only after age_reader_next() returned 0.
 */

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define AGE_CHUNK_SIZE 65536	/* plaintext bytes per payload chunk */
#define AGE_KEY_SIZE 32		/* X25519 keys */

struct age_identity {
	uint8_t secret[AGE_KEY_SIZE];
	uint8_t pub[AGE_KEY_SIZE];
};

/* A set of identities in locked memory (sodium_malloc), e.g. from a key
 * file. Free with age_identities_release(), which wipes them. */
struct age_identities {
	struct age_identity *ids;
	size_t n;
};

/* A new random identity. */
void age_identity_generate(struct age_identity *id);
/* Fills id->pub from id->secret. */
void age_identity_derive(struct age_identity *id);

/* "AGE-SECRET-KEY-1..." of an identity, appended to out (wipe it after). */
void age_identity_encode(const struct age_identity *id, struct buf *out);
/* Parses one "AGE-SECRET-KEY-1..." string; LT_EINVAL if it is not one. */
int age_identity_decode(const char *s, size_t len, struct age_identity *id);

/* "age1..." of a public key, appended to out. */
void age_recipient_encode(const uint8_t pub[AGE_KEY_SIZE], struct buf *out);
/* Parses an "age1..." recipient; LT_EINVAL with a message if it is not. */
int age_recipient_decode(const char *s, uint8_t pub[AGE_KEY_SIZE]);

/*
 * Parses an identity file as age does: one AGE-SECRET-KEY-1... a line,
 * blank lines and lines starting with '#' ignored. name is for messages
 * ("NAME: line N: ..."). At least one identity is required.
 */
int age_identities_parse(const char *name, const char *text, size_t len,
			 struct age_identities *out);
int age_identities_load(const char *path, struct age_identities *out);
void age_identities_release(struct age_identities *ids);

/* Output and input for the streams. A write function returns 0, or a
 * negative code after lt_error(). A read function returns the number of
 * bytes read (at most n), 0 at the end, or a negative code after
 * lt_error(). */
typedef int age_write_fn(void *ctx, const void *data, size_t n);
typedef long age_read_fn(void *ctx, void *data, size_t n);

struct age_writer;

/* A writer encrypting to one X25519 recipient. The header is written at
 * the first write or at finish. */
struct age_writer *age_writer_new(const uint8_t recipient[AGE_KEY_SIZE],
				  age_write_fn *fn, void *ctx);
int age_writer_write(struct age_writer *w, const void *data, size_t n);
/* Writes the final chunk. After it the writer only accepts free. */
int age_writer_finish(struct age_writer *w);
/* Wipes the keys and frees the writer. */
void age_writer_free(struct age_writer *w);

struct age_reader;

/*
 * Reads and checks the header of the age file that fn reads: it must be
 * age-encryption.org/v1, canonical, with an X25519 stanza that one of ids
 * opens (LT_ENOKEY "no identity matches" otherwise) and a header MAC that
 * verifies (LT_EAUTH). Other malformations are LT_ECORRUPT, an unknown
 * version LT_EVERSION. name is for messages.
 */
int age_reader_open(struct age_reader **out, const char *name,
		    age_read_fn *fn, void *ctx,
		    const struct age_identities *ids);
/* The next chunk of authenticated plaintext, see above. *data stays
 * valid until the next call. */
long age_reader_next(struct age_reader *r, const uint8_t **data);
/* The number of bytes of the age file consumed so far. */
uint64_t age_reader_offset(const struct age_reader *r);
void age_reader_free(struct age_reader *r);

#endif
