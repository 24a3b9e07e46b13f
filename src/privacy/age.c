/*
 * The age v1 format with X25519 recipients (C2SP age.md), on libsodium.
 *
 * NOTES ON THE FORMAT, as this file keeps it:
 *
 * 1. A file is a text header, then a binary payload. The header is
 *    "age-encryption.org/v1\n", one or more stanzas, and the MAC line.
 *    A stanza is "-> " and space-separated arguments (printable ASCII, none
 *    empty), then its body in unpadded canonical base64 wrapped at 64
 *    columns, ending with a line shorter than 64 (possibly empty).
 *    The MAC line is "--- " and the canonical base64 of 32 bytes.
 * 2. The 16-byte file key is random per file. An X25519 stanza is
 *    "-> X25519 <base64 ephemeral share>" with a 32-byte body: the file key
 *    sealed with ChaCha20-Poly1305 (zero nonce) under
 *    HKDF-SHA-256(ikm = X25519(ephemeral, recipient),
 *                 salt = share || recipient, info "age-encryption.org/v1/X25519").
 *    An all-zero shared secret (a low-order share) is refused.
 * 3. The MAC is HMAC-SHA-256 under HKDF(file key, no salt, "header") over
 *    the header up to and including "---" (not the space after it).
 * 4. The payload is a 16-byte random nonce, then chunks of 64 KiB of
 *    plaintext sealed with ChaCha20-Poly1305 under
 *    HKDF(file key, salt = nonce, "payload"), each with the 12-byte nonce
 *    11-byte big-endian chunk counter || last flag (1 on the final chunk).
 *    The final chunk may be full; it is empty only when the whole payload
 *    is. So a reader knows a chunk is final when fewer than 64 KiB + 16
 *    bytes + 1 follow it, and anything else at the end is an error.
 * 5. Decoders reject non-canonical base64, '=' padding, bad lines, and
 *    a file that ends without an authentic final chunk.
 *
 * HKDF is RFC 5869 built from libsodium's HMAC-SHA-256 (libsodium 1.0.18
 * has no HKDF function): extract PRK = HMAC(salt, ikm), then expand
 * T(1) = HMAC(PRK, info || 0x01), which is all of the 32 bytes needed.
 */
#include "age-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bech32.h"
#include "error.h"
#include "fileio.h"
#include "xalloc.h"
#include "banned.h"

#define TAG_SIZE crypto_aead_chacha20poly1305_ietf_ABYTES
#define ENC_CHUNK (AGE_CHUNK_SIZE + TAG_SIZE)
#define HEADER_MAX (1u << 20)
#define VERSION_LINE "age-encryption.org/v1"
#define X25519_INFO "age-encryption.org/v1/X25519"
#define B64 sodium_base64_VARIANT_ORIGINAL_NO_PADDING

void age_hkdf(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
	      size_t salt_len, const char *info, uint8_t out[32])
{
	crypto_auth_hmacsha256_state st;
	uint8_t prk[32];
	const uint8_t one = 1;
	static const uint8_t none[1];

	/* libsodium declares the key non-null, even when it is empty. */
	crypto_auth_hmacsha256_init(&st, salt ? salt : none, salt_len);
	crypto_auth_hmacsha256_update(&st, ikm, ikm_len);
	crypto_auth_hmacsha256_final(&st, prk);
	crypto_auth_hmacsha256_init(&st, prk, sizeof(prk));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)info, strlen(info));
	crypto_auth_hmacsha256_update(&st, &one, 1);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(prk, sizeof(prk));
	sodium_memzero(&st, sizeof(st));
}

static void b64_encode(const uint8_t *data, size_t n, struct buf *out)
{
	size_t len = sodium_base64_ENCODED_LEN(n, B64);

	buf_grow(out, len);
	sodium_bin2base64(out->data + out->len, len, data, n, B64);
	buf_setlen(out, out->len + len - 1);
}

static int is_b64char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Decodes s[0..len) as canonical unpadded base64 of at most max bytes:
 * it must re-encode to exactly the same text. -1 if it is not that. */
static int b64_decode(const char *s, size_t len, uint8_t *out, size_t max,
		      size_t *n)
{
	struct buf again = BUF_INIT;
	const char *end;
	int ok;

	for (size_t i = 0; i < len; i++)
		if (!is_b64char(s[i]))
			return -1;
	if (sodium_base642bin(out, max, s, len, NULL, n, &end, B64) ||
	    end != s + len)
		return -1;
	b64_encode(out, *n, &again);
	ok = again.len == len && !memcmp(again.data, s, len);
	buf_release(&again);
	return ok ? 0 : -1;
}

/* ---- keys ----------------------------------------------------------- */

void age_identity_derive(struct age_identity *id)
{
	crypto_scalarmult_base(id->pub, id->secret);
}

void age_identity_generate(struct age_identity *id)
{
	randombytes_buf(id->secret, sizeof(id->secret));
	age_identity_derive(id);
}

void age_identity_encode(const struct age_identity *id, struct buf *out)
{
	bech32_encode("AGE-SECRET-KEY-", id->secret, sizeof(id->secret), 1, out);
}

int age_identity_decode(const char *s, size_t len, struct age_identity *id)
{
	struct buf hrp = BUF_INIT;
	size_t n = 0;
	int r;

	r = bech32_decode(s, len, &hrp, id->secret, sizeof(id->secret), &n);
	if (!r && (strcmp(hrp.data, "age-secret-key-") || n != AGE_KEY_SIZE ||
		   s[0] != 'A'))
		r = lt_error(LT_EINVAL, "not an age X25519 identity "
			     "(AGE-SECRET-KEY-1 and 58 upper-case characters)");
	buf_release(&hrp);
	if (r) {
		sodium_memzero(id, sizeof(*id));
		return r;
	}
	age_identity_derive(id);
	return 0;
}

void age_recipient_encode(const uint8_t pub[AGE_KEY_SIZE], struct buf *out)
{
	bech32_encode("age", pub, AGE_KEY_SIZE, 0, out);
}

int age_recipient_decode(const char *s, uint8_t pub[AGE_KEY_SIZE])
{
	struct buf hrp = BUF_INIT;
	size_t n = 0;
	int r;

	r = bech32_decode(s, strlen(s), &hrp, pub, AGE_KEY_SIZE, &n);
	if (r)
		r = lt_error_wrap(r, "'%s' is not an age recipient", s);
	else if (strcmp(hrp.data, "age") || n != AGE_KEY_SIZE || s[0] != 'a')
		r = lt_error(LT_EINVAL, "'%s' is not an age X25519 recipient "
			     "(age1 and 58 lower-case characters)", s);
	buf_release(&hrp);
	return r;
}

int age_identities_parse(const char *name, const char *text, size_t len,
			 struct age_identities *out)
{
	size_t cap = 0, lineno = 0, count = 0;
	const char *p = text, *end = text + len;

	/* Count first, so that the secrets are written once, into locked
	 * memory, and never copied around by a realloc. */
	for (int pass = 0; pass < 2; pass++) {
		p = text;
		lineno = 0;
		count = 0;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
			struct age_identity id;

			lineno++;
			if (n && p[n - 1] == '\r')
				n--;
			if (n == 0 || p[0] == '#')
				goto next;
			if (n > 15 && !memcmp(p, "AGE-PLUGIN-", 11)) {
				age_identities_release(out);
				return lt_error(LT_EINVAL, "%s: line %zu: a "
						"plugin identity; labtape reads "
						"only X25519 identities "
						"(AGE-SECRET-KEY-1...)",
						name, lineno);
			}
			if (age_identity_decode(p, n, &id)) {
				age_identities_release(out);
				return lt_error(LT_EINVAL, "%s: line %zu: not an "
						"age identity (%s)", name,
						lineno, lt_errmsg());
			}
			if (pass == 1)
				out->ids[count] = id;
			sodium_memzero(&id, sizeof(id));
			count++;
next:
			p = nl ? nl + 1 : end;
		}
		if (count == 0)
			return lt_error(LT_EINVAL, "%s: no identity in it (an "
					"AGE-SECRET-KEY-1... line)", name);
		if (pass == 0) {
			cap = count;
			out->ids = sodium_allocarray(cap, sizeof(*out->ids));
			if (!out->ids)
				abort();
			out->n = cap;
		}
	}
	return 0;
}

int age_identities_load(const char *path, struct age_identities *out)
{
	struct buf text = BUF_INIT;
	int r;

	out->ids = NULL;
	out->n = 0;
	r = lt_read_file(path, 1u << 20, &text);
	if (!r)
		r = age_identities_parse(path, text.data, text.len, out);
	sodium_memzero(text.data, text.len);
	buf_release(&text);
	return r;
}

void age_identities_release(struct age_identities *ids)
{
	if (ids->ids)
		sodium_free(ids->ids);
	ids->ids = NULL;
	ids->n = 0;
}

/* ---- writing -------------------------------------------------------- */

struct age_writer {
	age_write_fn *fn;
	void *ctx;
	uint8_t key[32];
	uint8_t nonce[12];
	uint64_t chunk;
	int finished;
	size_t fill;
	uint8_t buf[AGE_CHUNK_SIZE];
	uint8_t enc[ENC_CHUNK];
};

static void chunk_nonce(uint8_t nonce[12], uint64_t chunk, int last)
{
	memset(nonce, 0, 12);
	for (int i = 0; i < 8; i++)
		nonce[10 - i] = (uint8_t)(chunk >> (8 * i));
	nonce[11] = last ? 1 : 0;
}

/* The X25519 wrap key of a stanza with share for recipient pub, from
 * their shared secret. -1 if the secret is all zeros. */
static int wrap_key(const uint8_t scalar[32], const uint8_t point[32],
		    const uint8_t share[32], const uint8_t pub[32],
		    uint8_t key[32])
{
	uint8_t shared[32], salt[64];

	/* libsodium fails on an all-zero result, as age requires. */
	if (crypto_scalarmult(shared, scalar, point))
		return -1;
	memcpy(salt, share, 32);
	memcpy(salt + 32, pub, 32);
	age_hkdf(shared, sizeof(shared), salt, sizeof(salt), X25519_INFO, key);
	sodium_memzero(shared, sizeof(shared));
	return 0;
}

static int writer_header(struct age_writer *w, const uint8_t recipient[32],
			 const uint8_t eph[32], const uint8_t file_key[16],
			 const uint8_t nonce[16])
{
	static const uint8_t zero_nonce[12];
	struct buf h = BUF_INIT;
	uint8_t share[32], key[32], body[32], mac[32];
	int r;

	crypto_scalarmult_base(share, eph);
	if (wrap_key(eph, recipient, share, recipient, key))
		return lt_error(LT_EINVAL, "the recipient is not a usable "
				"X25519 public key");
	crypto_aead_chacha20poly1305_ietf_encrypt(body, NULL, file_key, 16,
						  NULL, 0, NULL, zero_nonce,
						  key);
	buf_addstr(&h, VERSION_LINE "\n-> X25519 ");
	b64_encode(share, sizeof(share), &h);
	buf_addch(&h, '\n');
	b64_encode(body, sizeof(body), &h);	/* 43 columns: one line */
	buf_addstr(&h, "\n---");
	age_hkdf(file_key, 16, NULL, 0, "header", key);
	crypto_auth_hmacsha256(mac, (const uint8_t *)h.data, h.len, key);
	buf_addch(&h, ' ');
	b64_encode(mac, sizeof(mac), &h);
	buf_addch(&h, '\n');
	buf_add(&h, nonce, 16);
	age_hkdf(file_key, 16, nonce, 16, "payload", w->key);
	sodium_memzero(key, sizeof(key));
	r = w->fn(w->ctx, h.data, h.len);
	buf_release(&h);
	return r;
}

static struct age_writer *writer_new(age_write_fn *fn, void *ctx)
{
	struct age_writer *w = sodium_malloc(sizeof(*w));

	if (!w)
		abort();
	memset(w, 0, sizeof(*w));
	w->fn = fn;
	w->ctx = ctx;
	return w;
}

struct age_writer *age_writer_new_fixed(const uint8_t recipient[AGE_KEY_SIZE],
					const uint8_t ephemeral[AGE_KEY_SIZE],
					const uint8_t file_key[AGE_FILE_KEY_SIZE],
					const uint8_t nonce[AGE_NONCE_SIZE],
					age_write_fn *fn, void *ctx)
{
	struct age_writer *w = writer_new(fn, ctx);

	if (writer_header(w, recipient, ephemeral, file_key, nonce)) {
		age_writer_free(w);
		return NULL;
	}
	return w;
}

struct age_writer *age_writer_new(const uint8_t recipient[AGE_KEY_SIZE],
				  age_write_fn *fn, void *ctx)
{
	uint8_t eph[32], file_key[16], nonce[16];
	struct age_writer *w;

	randombytes_buf(eph, sizeof(eph));
	randombytes_buf(file_key, sizeof(file_key));
	randombytes_buf(nonce, sizeof(nonce));
	w = age_writer_new_fixed(recipient, eph, file_key, nonce, fn, ctx);
	sodium_memzero(eph, sizeof(eph));
	sodium_memzero(file_key, sizeof(file_key));
	return w;
}

int age_writer_write(struct age_writer *w, const void *data, size_t n)
{
	const uint8_t *p = data;

	if (w->finished)
		return lt_error(LT_EINVAL, "age: write after finish");
	while (n) {
		size_t take;
		/* A full chunk goes out only once more data follows it: the
		 * final chunk may be full but must not be empty. */
		if (w->fill == AGE_CHUNK_SIZE) {
			size_t len = w->fill;
			int r;

			chunk_nonce(w->nonce, w->chunk, 0);
			crypto_aead_chacha20poly1305_ietf_encrypt(
				w->enc, NULL, w->buf, len, NULL, 0, NULL,
				w->nonce, w->key);
			w->chunk++;
			w->fill = 0;
			r = w->fn(w->ctx, w->enc, len + TAG_SIZE);
			if (r)
				return r;
		}
		take = AGE_CHUNK_SIZE - w->fill;
		if (take > n)
			take = n;
		memcpy(w->buf + w->fill, p, take);
		w->fill += take;
		p += take;
		n -= take;
	}
	return 0;
}

int age_writer_finish(struct age_writer *w)
{
	size_t len = w->fill;

	if (w->finished)
		return lt_error(LT_EINVAL, "age: finished twice");
	w->finished = 1;
	chunk_nonce(w->nonce, w->chunk, 1);
	crypto_aead_chacha20poly1305_ietf_encrypt(w->enc, NULL, w->buf, len,
						  NULL, 0, NULL, w->nonce,
						  w->key);
	w->chunk++;
	w->fill = 0;
	return w->fn(w->ctx, w->enc, len + TAG_SIZE);
}

void age_writer_free(struct age_writer *w)
{
	if (w)
		sodium_free(w);	/* wipes it */
}

/* ---- reading -------------------------------------------------------- */

#define IN_CAP (ENC_CHUNK + 1)

enum { READ_BODY, READ_LAST, READ_DONE, READ_FAILED };

struct age_reader {
	char *name;
	age_read_fn *fn;
	void *ctx;
	size_t pos, len;	/* unread input is in[pos..len) */
	int eof;
	uint64_t offset;	/* file offset of in[pos] */
	uint64_t payload;	/* file offset of the first chunk */
	uint64_t chunk;
	int state;
	uint8_t key[32];
	uint8_t nonce[12];
	uint8_t in[IN_CAP];
	uint8_t out[AGE_CHUNK_SIZE];
};

/* Reads until want bytes are buffered or the input ends. */
static int fill(struct age_reader *r, size_t want)
{
	if (r->pos && r->pos + want > IN_CAP) {
		memmove(r->in, r->in + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	while (r->len - r->pos < want && !r->eof) {
		long n = r->fn(r->ctx, r->in + r->len, IN_CAP - r->len);
		if (n < 0)
			return (int)n;
		if (n == 0)
			r->eof = 1;
		r->len += (size_t)n;
	}
	return 0;
}

/* The next header line, without its LF, in line; the raw line with its LF
 * is appended to hdr. */
static int read_line(struct age_reader *r, struct buf *hdr, struct buf *line,
		     size_t lineno)
{
	for (;;) {
		uint8_t *start = r->in + r->pos;
		uint8_t *nl = memchr(start, '\n', r->len - r->pos);
		size_t have = r->len - r->pos;
		int e;

		if (nl) {
			size_t n = (size_t)(nl - start);
			buf_reset(line);
			buf_add(line, start, n);
			if (buf_add(hdr, start, n + 1))
				return lt_error(LT_ECORRUPT, "%s: the header "
						"is over %u bytes", r->name,
						HEADER_MAX);
			r->pos += n + 1;
			r->offset += n + 1;
			return 0;
		}
		if (have >= IN_CAP - 1 || have + hdr->len > HEADER_MAX)
			return lt_error(LT_ECORRUPT, "%s: header line %zu is "
					"too long", r->name, lineno);
		if (r->eof)
			return lt_error(LT_ECORRUPT, "%s: the file ends in "
					"its header (line %zu); it was cut "
					"short, or is not an age file",
					r->name, lineno);
		e = fill(r, have + 1);
		if (e)
			return e;
	}
}

/* What one X25519 stanza gives: 1 and the file key if an identity opens
 * it, 0 if none does. */
static int x25519_stanza(struct age_reader *r, size_t lineno, char **args,
			 size_t nargs, const uint8_t *body, size_t blen,
			 const struct age_identities *ids, uint8_t file_key[16])
{
	static const uint8_t zero_nonce[12];
	uint8_t share[32], key[32];
	size_t n;

	if (nargs != 2 ||
	    b64_decode(args[1], strlen(args[1]), share, sizeof(share), &n) ||
	    n != 32)
		return lt_error(LT_ECORRUPT, "%s: header line %zu: an X25519 "
				"stanza needs one argument, the canonical "
				"base64 of 32 bytes", r->name, lineno);
	if (blen != 32)
		return lt_error(LT_ECORRUPT, "%s: header line %zu: an X25519 "
				"stanza's body must be 32 bytes, not %zu",
				r->name, lineno, blen);
	for (size_t i = 0; i < ids->n; i++) {
		const struct age_identity *id = &ids->ids[i];
		int ok;

		if (wrap_key(id->secret, share, share, id->pub, key))
			return lt_error(LT_ECORRUPT, "%s: header line %zu: the "
					"X25519 share is a low-order point; "
					"the file is malformed or hostile",
					r->name, lineno);
		ok = !crypto_aead_chacha20poly1305_ietf_decrypt(
			file_key, NULL, NULL, body, blen, NULL, 0, zero_nonce,
			key);
		sodium_memzero(key, sizeof(key));
		if (ok)
			return 1;
	}
	return 0;
}

/* Splits "-> a b c" into its arguments (pointers into line, which is
 * changed). */
static int split_args(struct age_reader *r, size_t lineno, struct buf *line,
		      char **args, size_t max, size_t *nargs)
{
	char *p = line->data + 3;
	size_t n = 0;

	for (;;) {
		char *sp = strchr(p, ' ');
		if (sp)
			*sp = '\0';
		if (!*p)
			return lt_error(LT_ECORRUPT, "%s: header line %zu: an "
					"empty stanza argument", r->name,
					lineno);
		for (char *c = p; *c; c++)
			if (*c < 0x21 || *c > 0x7e)
				return lt_error(LT_ECORRUPT, "%s: header line "
						"%zu: a stanza argument with "
						"a character that is not "
						"printable ASCII",
						r->name, lineno);
		if (n == max)
			return lt_error(LT_ECORRUPT, "%s: header line %zu: "
					"more than %zu stanza arguments",
					r->name, lineno, max);
		args[n++] = p;
		if (!sp)
			break;
		p = sp + 1;
	}
	*nargs = n;
	return 0;
}

static int first_line(struct age_reader *r, const struct buf *line)
{
	if (!strcmp(line->data, VERSION_LINE) &&
	    line->len == strlen(VERSION_LINE))
		return 0;
	if (!strncmp(line->data, "-----BEGIN AGE ENCRYPTED FILE-----", 34))
		return lt_error(LT_EINVAL, "%s: an ASCII-armored age file; "
				"labtape reads binary ones (de-armor it "
				"with 'age -d', or re-encrypt without -a)",
				r->name);
	if (!strncmp(line->data, "age-encryption.org/", 19))
		return lt_error(LT_EVERSION, "%s: age format version '%.40s' "
				"is not one this build knows (v1)", r->name,
				line->data + 19);
	return lt_error(LT_ECORRUPT, "%s: not an age file (it does not start "
			"with '" VERSION_LINE "')", r->name);
}

/* Reads the header up to and including the MAC line; on success the file
 * key is in file_key. */
static int read_header(struct age_reader *r, const struct age_identities *ids,
		       struct buf *hdr, uint8_t file_key[16])
{
	struct buf line = BUF_INIT, body = BUF_INIT;
	uint8_t mac[32], want[32];
	uint8_t key[32];
	size_t lineno = 1, stanzas = 0, x25519 = 0, n;
	int found = 0, e;

	hdr->cap = HEADER_MAX;
	if ((e = read_line(r, hdr, &line, lineno)) || (e = first_line(r, &line)))
		goto out;
	for (;;) {
		char *args[16];
		size_t nargs = 0, start = ++lineno;
		uint8_t *bin;

		if ((e = read_line(r, hdr, &line, lineno)))
			goto out;
		if (!strncmp(line.data, "---", 3))
			break;
		if (strncmp(line.data, "-> ", 3) || line.len != strlen(line.data)) {
			e = lt_error(LT_ECORRUPT, "%s: header line %zu: "
				     "expected a stanza ('-> ...') or the MAC "
				     "line ('--- ...')", r->name, lineno);
			goto out;
		}
		if ((e = split_args(r, lineno, &line, args, 16, &nargs)))
			goto out;
		/* The body: full 64-column lines, then a shorter one. */
		buf_reset(&body);
		for (;;) {
			struct buf bl = BUF_INIT;
			lineno++;
			e = read_line(r, hdr, &bl, lineno);
			if (!e && bl.len > 64)
				e = lt_error(LT_ECORRUPT, "%s: header line %zu: "
					     "a stanza body line over 64 "
					     "columns", r->name, lineno);
			for (size_t i = 0; !e && i < bl.len; i++)
				if (!is_b64char(bl.data[i]))
					e = lt_error(LT_ECORRUPT, "%s: header "
						     "line %zu: a stanza body "
						     "with a character that "
						     "is not unpadded base64",
						     r->name, lineno);
			if (!e)
				buf_add(&body, bl.data, bl.len);
			n = bl.len;
			buf_release(&bl);
			if (e)
				goto out;
			if (n < 64)
				break;
		}
		bin = xmalloc(body.len / 4 * 3 + 3);
		if (b64_decode(body.data, body.len, bin, body.len / 4 * 3 + 3,
			       &n)) {
			free(bin);
			e = lt_error(LT_ECORRUPT, "%s: header line %zu: a stanza "
				     "body that is not canonical base64",
				     r->name, start);
			goto out;
		}
		stanzas++;
		if (!strcmp(args[0], "X25519")) {
			x25519++;
			e = x25519_stanza(r, start, args, nargs, bin, n, ids,
					  found ? key : file_key);
			if (e == 1)
				found = 1;
		} else if (!strcmp(args[0], "scrypt")) {
			e = lt_error(LT_EINVAL, "%s: encrypted with a "
				     "passphrase (an scrypt stanza); labtape "
				     "opens files encrypted to a key: use "
				     "'age -d' for this one", r->name);
		} else {
			e = 0;	/* another recipient type: not ours */
		}
		sodium_memzero(bin, n);
		free(bin);
		if (e < 0)
			goto out;
	}
	e = 0;
	if (line.len != 4 + 43 || line.data[3] != ' ' ||
	    b64_decode(line.data + 4, 43, mac, sizeof(mac), &n) || n != 32) {
		e = lt_error(LT_ECORRUPT, "%s: header line %zu: the MAC line "
			     "must be '--- ' and 43 base64 characters",
			     r->name, lineno);
		goto out;
	}
	if (!stanzas) {
		e = lt_error(LT_ECORRUPT, "%s: the header has no recipient "
			     "stanza", r->name);
		goto out;
	}
	if (!found) {
		e = lt_error(LT_ENOKEY, "%s: no identity matches: the file "
			     "was not encrypted to any of the %zu key%s given "
			     "(%zu X25519 stanza%s tried)", r->name, ids->n,
			     ids->n == 1 ? "" : "s", x25519,
			     x25519 == 1 ? "" : "s");
		goto out;
	}
	age_hkdf(file_key, 16, NULL, 0, "header", key);
	/* Up to and including "---", without the space and the MAC. */
	crypto_auth_hmacsha256(want, (const uint8_t *)hdr->data,
			       hdr->len - line.len - 1 + 3, key);
	if (sodium_memcmp(want, mac, 32))
		e = lt_error(LT_EAUTH, "%s: the header's MAC does not verify: "
			     "the header (bytes 0..%zu) was changed or "
			     "damaged", r->name, hdr->len);
out:
	sodium_memzero(key, sizeof(key));
	buf_release(&line);
	buf_release(&body);
	return e;
}

int age_reader_open(struct age_reader **out, const char *name,
		    age_read_fn *fn, void *ctx, const struct age_identities *ids)
{
	struct age_reader *r = sodium_malloc(sizeof(*r));
	struct buf hdr = BUF_INIT;
	uint8_t file_key[16];
	int e;

	if (!r)
		abort();
	memset(r, 0, sizeof(*r));
	r->name = xstrdup(name);
	r->fn = fn;
	r->ctx = ctx;
	*out = NULL;
	e = fill(r, 1);
	if (!e)
		e = read_header(r, ids, &hdr, file_key);
	buf_release(&hdr);
	if (!e && (e = fill(r, AGE_NONCE_SIZE)) == 0 &&
	    r->len - r->pos < AGE_NONCE_SIZE)
		e = lt_error(LT_ECORRUPT, "%s: the file ends after its header, "
			     "without a payload (cut short?)", r->name);
	if (e) {
		sodium_memzero(file_key, sizeof(file_key));
		age_reader_free(r);
		return e;
	}
	age_hkdf(file_key, 16, r->in + r->pos, AGE_NONCE_SIZE, "payload",
		 r->key);
	sodium_memzero(file_key, sizeof(file_key));
	r->pos += AGE_NONCE_SIZE;
	r->offset += AGE_NONCE_SIZE;
	r->payload = r->offset;
	r->state = READ_BODY;
	*out = r;
	return 0;
}

static long fail(struct age_reader *r, int code)
{
	r->state = READ_FAILED;
	return code;
}

long age_reader_next(struct age_reader *r, const uint8_t **data)
{
	unsigned long long mlen = 0;
	size_t avail, clen;
	int last, e;

	*data = r->out;
	if (r->state == READ_LAST) {
		r->state = READ_DONE;
		return 0;
	}
	if (r->state == READ_DONE)
		return 0;
	if (r->state == READ_FAILED)
		return lt_error(LT_EINVAL, "%s: read after an error", r->name);
	if ((e = fill(r, ENC_CHUNK + 1)))
		return fail(r, e);
	avail = r->len - r->pos;
	/* Final exactly when no byte follows a full encrypted chunk. */
	last = avail <= ENC_CHUNK;
	clen = last ? avail : ENC_CHUNK;
	if (clen < TAG_SIZE)
		return fail(r, lt_error(LT_ECORRUPT, "%s: chunk %llu (byte "
					"%llu): the file ends inside it; it "
					"was cut short", r->name,
					(unsigned long long)r->chunk,
					(unsigned long long)r->offset));
	chunk_nonce(r->nonce, r->chunk, last);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(r->out, &mlen, NULL,
						      r->in + r->pos, clen,
						      NULL, 0, r->nonce,
						      r->key))
		return fail(r, lt_error(LT_EAUTH, "%s: chunk %llu (bytes "
					"%llu..%llu): authentication failed; "
					"the file was changed, damaged%s",
					r->name, (unsigned long long)r->chunk,
					(unsigned long long)r->offset,
					(unsigned long long)(r->offset + clen),
					last ? " or cut short" : ""));
	if (last && mlen == 0 && r->chunk > 0)
		return fail(r, lt_error(LT_ECORRUPT, "%s: chunk %llu (byte "
					"%llu): an empty final chunk, which "
					"age forbids", r->name,
					(unsigned long long)r->chunk,
					(unsigned long long)r->offset));
	r->pos += clen;
	r->offset += clen;
	r->chunk++;
	if (last) {
		r->state = mlen ? READ_LAST : READ_DONE;
	}
	return (long)mlen;
}

uint64_t age_reader_offset(const struct age_reader *r)
{
	return r->offset;
}

void age_reader_free(struct age_reader *r)
{
	if (!r)
		return;
	free(r->name);
	sodium_free(r);
}
