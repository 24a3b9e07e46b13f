/*
 * The age format (src/privacy/age.c, bech32.c): known answers from RFC
 * 5869, BIP-173, the age specification and the age test kit (C2SP CCTV,
 * whose vectors are made with a fixed ChaCha20 keystream as randomness,
 * so that the header of its "x25519" vector can be rebuilt byte for
 * byte), then round trips at the chunk edges, flipped bytes, truncation
 * and wrong keys.
 */
#include <string.h>

#include <sodium.h>

#include "age-int.h"
#include "bech32.h"
#include "buf.h"
#include "error.h"
#include "hex.h"
#include "test.h"

/* ---- a memory file -------------------------------------------------- */

struct mem {
	struct buf b;
	size_t pos;
	size_t step;	/* at most this many bytes per read (0: any) */
};

static int mem_write(void *ctx, const void *data, size_t n)
{
	return buf_add(&((struct mem *)ctx)->b, data, n);
}

static long mem_read(void *ctx, void *data, size_t n)
{
	struct mem *m = ctx;
	size_t left = m->b.len - m->pos;

	if (n > left)
		n = left;
	if (m->step && n > m->step)
		n = m->step;
	memcpy(data, m->b.data + m->pos, n);
	m->pos += n;
	return (long)n;
}

/* Decrypts the age file in text[0..n) with ids; the plaintext in out.
 * Returns 0 or the error code. */
static int decrypt(const void *text, size_t n, const struct age_identities *ids,
		   struct buf *out, size_t step)
{
	struct mem m = { BUF_INIT, 0, step };
	struct age_reader *r;
	const uint8_t *p;
	long got;
	int e;

	buf_add(&m.b, text, n);
	buf_reset(out);
	e = age_reader_open(&r, "test.age", mem_read, &m, ids);
	if (!e) {
		while ((got = age_reader_next(r, &p)) > 0)
			buf_add(out, p, (size_t)got);
		e = (int)got;
		age_reader_free(r);
	}
	buf_release(&m.b);
	return e;
}

static void one_identity(const char *s, struct age_identities *ids)
{
	ASSERT_OK(age_identities_parse("key", s, strlen(s), ids));
	ASSERT_EQ(ids->n, 1);
}

/* ---- known answers -------------------------------------------------- */

TEST(hkdf_rfc5869_case1)
{
	uint8_t ikm[22], salt[13], out[32], want[32];
	const char info[] = "\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9";

	memset(ikm, 0x0b, sizeof(ikm));
	for (int i = 0; i < 13; i++)
		salt[i] = (uint8_t)i;
	age_hkdf(ikm, sizeof(ikm), salt, sizeof(salt), info, out);
	ASSERT_OK(lt_unhex("3cb25f25faacd57a90434f64d0362f2a"
			   "2d2d0a90cf1a5a4c5db02d56ecc4c5bf", want, 32));
	ASSERT_MEMEQ(out, want, 32);
}

TEST(bech32_bip173)
{
	static const char *const valid[] = {
		"A12UEL5L", "a12uel5l",
		"an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
		"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
		"split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
		NULL };
	static const char *const invalid[] = {
		"pzry9x0s0muk",	/* no separator */
		"1pzry9x0s0muk",	/* empty hrp */
		"x1b4n0q5v",	/* 'b' is not in the charset */
		"li1dgmt3",	/* checksum too short */
		"A1G7SGD8",	/* checksum of the upper-case hrp */
		"A12uEL5L",	/* mixed case */
		"a12uel5m",	/* bad checksum */
		NULL };
	struct buf hrp = BUF_INIT, again = BUF_INIT;
	uint8_t data[64];
	size_t n;

	for (int i = 0; valid[i]; i++) {
		int e = bech32_decode(valid[i], strlen(valid[i]), &hrp, data,
				      sizeof(data), &n);
		/* The long one's 5-bit data does not end on a byte: only
		 * the checksum matters for it. */
		if (e && strstr(lt_errmsg(), "padding"))
			continue;
		ASSERT_OK(e);
	}
	ASSERT_OK(bech32_decode("A12UEL5L", 8, &hrp, data, sizeof(data), &n));
	ASSERT_STREQ(hrp.data, "a");
	ASSERT_EQ(n, 0);
	for (int i = 0; invalid[i]; i++)
		ASSERT(bech32_decode(invalid[i], strlen(invalid[i]), &hrp,
				     data, sizeof(data), &n) == LT_EINVAL);
	/* Round trip, in both cases. */
	ASSERT_OK(bech32_decode(valid[3], strlen(valid[3]), &hrp, data,
				sizeof(data), &n));
	ASSERT_EQ(n, 20);
	bech32_encode("abcdef", data, n, 0, &again);
	ASSERT_STREQ(again.data, valid[3]);
	buf_reset(&again);
	bech32_encode("abcdef", data, n, 1, &again);
	ASSERT_STREQ(again.data, "ABCDEF1QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7LMQQQXW");
	buf_release(&again);
	buf_release(&hrp);
}

/* The age spec's example identity and recipient, and two from the test
 * kit; the public keys were checked with the age tool's age-keygen -y. */
TEST(keys_known)
{
	static const char *const pairs[][2] = {
		{ "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX",
		  "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj" },
		{ "AGE-SECRET-KEY-1XMWWC06LY3EE5RYTXM9MFLAZ2U56JJJ36S0MYPDRWSVLUL66MV4QX3S7F6",
		  "age1w3tyke4gev25vaxxsvcgqu4484rf6ejpmavs57p6yz6lhy2sfs5swrvwyn" },
		{ "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0",
		  "age1xmwwc06ly3ee5rytxm9mflaz2u56jjj36s0mypdrwsvlul66mv4q47ryef" },
	};
	struct age_identity id;
	struct buf s = BUF_INIT;
	uint8_t pub[32];

	for (size_t i = 0; i < 3; i++) {
		ASSERT_OK(age_identity_decode(pairs[i][0], strlen(pairs[i][0]),
					      &id));
		buf_reset(&s);
		age_recipient_encode(id.pub, &s);
		ASSERT_STREQ(s.data, pairs[i][1]);
		buf_reset(&s);
		age_identity_encode(&id, &s);
		ASSERT_STREQ(s.data, pairs[i][0]);
		ASSERT_OK(age_recipient_decode(pairs[i][1], pub));
		ASSERT_MEMEQ(pub, id.pub, 32);
	}
	/* The spec's identity is 32 bytes of 'B'. */
	ASSERT_OK(age_identity_decode(pairs[0][0], strlen(pairs[0][0]), &id));
	for (int i = 0; i < 32; i++)
		ASSERT_EQ(id.secret[i], 0x42);
	/* Wrong case, wrong kind, a typo. */
	ASSERT(age_recipient_decode("AGE1ZVKYG2LQZRAA2LNJVQEJ32NKUU0UES2S82HZRYE869XEEXVN73EQUNUJWJ", pub));
	ASSERT(age_recipient_decode(pairs[0][0], pub));
	ASSERT(age_recipient_decode("age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwk", pub));
	ASSERT(age_identity_decode(pairs[0][1], strlen(pairs[0][1]), &id));
	buf_release(&s);
}

#define KIT_ID "AGE-SECRET-KEY-1XMWWC06LY3EE5RYTXM9MFLAZ2U56JJJ36S0MYPDRWSVLUL66MV4QX3S7F6"
#define KIT_PAYLOAD_SHA256 "013f54400c82da08037759ada907a8b864e97de81c088a182062c4b5622fd2ab"

/* The test kit's randomness: ChaCha20 keystream under this key. */
static void kit_rand(uint8_t *out, size_t n)
{
	static const uint8_t zero[12];
	crypto_stream_chacha20_ietf((uint8_t *)out, n, zero,
				    (const uint8_t *)"TEST RANDOMNESS TEST RANDOMNESS!");
}

/* A header from the test kit followed by a payload of "age" under the
 * kit's file key ("YELLOW SUBMARINE"), with payload nonce nonce. */
static void kit_file(const char *header, const uint8_t nonce[16], struct buf *f)
{
	uint8_t key[32], n12[12] = { 0 }, enc[3 + 16];

	buf_reset(f);
	buf_addstr(f, header);
	buf_add(f, nonce, 16);
	age_hkdf((const uint8_t *)"YELLOW SUBMARINE", 16, nonce, 16, "payload",
		 key);
	n12[11] = 1;
	crypto_aead_chacha20poly1305_ietf_encrypt(enc, NULL,
						  (const uint8_t *)"age", 3,
						  NULL, 0, NULL, n12, key);
	buf_add(f, enc, sizeof(enc));
}

static const char kit_x25519[] =
	"age-encryption.org/v1\n"
	"-> X25519 TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc\n"
	"EmECAEcKN+n/Vs9SbWiV+Hu0r+E8R77DdWYyd83nw7U\n"
	"--- Vn+54jqiiUCE+WZcEVY3f1sqHjlu/z1LCQ/T7Xm7qI0\n";

/* Encrypting with the kit's randomness gives the kit's header exactly. */
TEST(testkit_x25519_encrypt)
{
	struct age_identities ids;
	struct mem m = { BUF_INIT, 0, 0 };
	struct age_writer *w;
	uint8_t rnd[48];

	one_identity(KIT_ID, &ids);
	kit_rand(rnd, sizeof(rnd));
	w = age_writer_new_fixed(ids.ids[0].pub, rnd,
				 (const uint8_t *)"YELLOW SUBMARINE", rnd + 32,
				 mem_write, &m);
	ASSERT(w);
	ASSERT_OK(age_writer_write(w, "age", 3));
	ASSERT_OK(age_writer_finish(w));
	age_writer_free(w);
	ASSERT(m.b.len == strlen(kit_x25519) + 16 + 3 + 16);
	ASSERT_MEMEQ(m.b.data, kit_x25519, strlen(kit_x25519));
	ASSERT_MEMEQ(m.b.data + strlen(kit_x25519), rnd + 32, 16);
	buf_release(&m.b);
	age_identities_release(&ids);
}

/* Decrypting the kit's success vectors (their headers, as published). */
TEST(testkit_success)
{
	static const char *const headers[] = {
		kit_x25519,
		/* x25519_multiple_recipients */
		"age-encryption.org/v1\n"
		"-> X25519 ajtqAvDEkVNr2B7zUOtq2mAQXDSBlNrVAuM/dKb5sT4\n"
		"0evrK/HQXVsQ4YaDe+659l5OQzvAzD2ytLGHQLQiqxg\n"
		"-> X25519 0qC7u6AbLxuwnM8tPFOWVtWZn/ZZe7z7gcsP5kgA0FI\n"
		"T/PZg76MmVt2IaLntrxppzDnzeFDYHsHFcnTnhbRLQ8\n"
		"--- 7W07ef2PhsTAl74pn+9vSj/Xzukwa6SuTqMc16cdBk0\n",
		/* stanza_valid_characters: unknown stanzas are skipped */
		"age-encryption.org/v1\n"
		"-> !\"#$%&' ()*+,-./ 01234567 89:;<=>? @ABCDEFG HIJKLMNO\n"
		"\n"
		"-> PQRSTUVW XYZ[\\]^_ `abcdefg hijklmno pqrstuvw xyz{|}~\n"
		"\n"
		"-> X25519 TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc\n"
		"EmECAEcKN+n/Vs9SbWiV+Hu0r+E8R77DdWYyd83nw7U\n"
		"--- x538z9xJq9XEK1aTTTv80aWDVvVdROvaXn2tpqXPC8g\n",
		NULL };
	struct age_identities ids;
	struct buf f = BUF_INIT, out = BUF_INIT;
	uint8_t nonce[16], sum[32], want[32];

	one_identity(KIT_ID, &ids);
	memset(nonce, 7, sizeof(nonce));
	ASSERT_OK(lt_unhex(KIT_PAYLOAD_SHA256, want, 32));
	for (int i = 0; headers[i]; i++) {
		kit_file(headers[i], nonce, &f);
		ASSERT_OK(decrypt(f.data, f.len, &ids, &out, 0));
		crypto_hash_sha256(sum, (const uint8_t *)out.data, out.len);
		ASSERT_MEMEQ(sum, want, 32);
		/* One byte at a time from the input, too. */
		ASSERT_OK(decrypt(f.data, f.len, &ids, &out, 1));
		ASSERT_EQ(out.len, 3);
	}
	buf_release(&f);
	buf_release(&out);
	age_identities_release(&ids);
}

TEST(testkit_failures)
{
	static const struct {
		const char *id, *header;
		int code;
	} v[] = {
		/* hmac_not_canonical */
		{ "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0",
		  "age-encryption.org/v1\n"
		  "-> X25519 TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc\n"
		  "hjabGXwSLQ9c3S6Lw2i+S2Tu2fiwQHHslbBN6B41FLE\n"
		  "--- WyJp9F/9FOZh7gJdheq2WIJcwHgYc8NIVh3ddwhrcNh\n", LT_ECORRUPT },
		/* stanza_not_canonical */
		{ KIT_ID,
		  "age-encryption.org/v1\n"
		  "-> X25519 TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc\n"
		  "EmECAEcKN+n/Vs9SbWiV+Hu0r+E8R77DdWYyd83nw7U\n"
		  "-> stanza\n"
		  "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n"
		  "QUF\n"
		  "--- nQM2VCzmNLPrUurNWN+SW9wVp/9uTMQ/6CTUM7l8c84\n", LT_ECORRUPT },
		/* x25519_low_order */
		{ "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0",
		  "age-encryption.org/v1\n"
		  "-> X25519 X5yVvKNQjCSx0LFVnIPvWwREXMRYHI6G2CJO3dCfEdc\n"
		  "3E0NpFans/m0WLWF7+54ZBdNj3iqQqpraGDFiaRkvBA\n"
		  "--- sXw327YMT1/ULXe+ZyRMbMY0Z2jnWHGgI9j1we6yQ8A\n", LT_ECORRUPT },
		/* the x25519 vector with the other kit key: no match */
		{ "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0",
		  kit_x25519, LT_ENOKEY },
		/* the x25519 vector with its MAC's last character changed */
		{ KIT_ID,
		  "age-encryption.org/v1\n"
		  "-> X25519 TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc\n"
		  "EmECAEcKN+n/Vs9SbWiV+Hu0r+E8R77DdWYyd83nw7U\n"
		  "--- Vn+54jqiiUCE+WZcEVY3f1sqHjlu/z1LCQ/T7Xm7qI4\n", LT_EAUTH },
		/* padding, a long body line, no stanza, another version */
		{ KIT_ID,
		  "age-encryption.org/v1\n"
		  "-> X25519 TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc=\n"
		  "EmECAEcKN+n/Vs9SbWiV+Hu0r+E8R77DdWYyd83nw7U\n"
		  "--- Vn+54jqiiUCE+WZcEVY3f1sqHjlu/z1LCQ/T7Xm7qI0\n", LT_ECORRUPT },
		{ KIT_ID,
		  "age-encryption.org/v1\n"
		  "-> X25519 TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc\n"
		  "EmECAEcKN+n/Vs9SbWiV+Hu0r+E8R77DdWYyd83nw7UEmECAEcKN+n/Vs9SbWiV+Hu0r+E8R77DdWYyd83nw7U\n"
		  "--- Vn+54jqiiUCE+WZcEVY3f1sqHjlu/z1LCQ/T7Xm7qI0\n", LT_ECORRUPT },
		{ KIT_ID,
		  "age-encryption.org/v1\n"
		  "--- Vn+54jqiiUCE+WZcEVY3f1sqHjlu/z1LCQ/T7Xm7qI0\n", LT_ECORRUPT },
		{ KIT_ID, "age-encryption.org/v2\n", LT_EVERSION },
		{ KIT_ID, "not age\n", LT_ECORRUPT },
	};
	struct age_identities ids;
	struct buf f = BUF_INIT, out = BUF_INIT;
	uint8_t nonce[16] = { 0 };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		one_identity(v[i].id, &ids);
		kit_file(v[i].header, nonce, &f);
		ASSERT_EQ(decrypt(f.data, f.len, &ids, &out, 0), v[i].code);
		ASSERT_EQ(out.len, 0);
		age_identities_release(&ids);
	}
	buf_release(&f);
	buf_release(&out);
}

/* ---- round trips ---------------------------------------------------- */

static void encrypt(const uint8_t pub[32], const uint8_t *data, size_t n,
		    struct buf *out)
{
	struct mem m = { BUF_INIT, 0, 0 };
	struct age_writer *w = age_writer_new(pub, mem_write, &m);

	ASSERT(w);
	/* In uneven pieces, so that chunks fill across writes. */
	for (size_t off = 0; off < n;) {
		size_t take = n - off < 1000 ? n - off : 1000 + off % 7919;
		if (take > n - off)
			take = n - off;
		ASSERT_OK(age_writer_write(w, data + off, take));
		off += take;
	}
	ASSERT_OK(age_writer_finish(w));
	age_writer_free(w);
	buf_release(out);
	*out = m.b;
}

/* The size of an age file's payload with n bytes of plaintext. */
static size_t enc_size(size_t n)
{
	size_t chunks = n ? (n + AGE_CHUNK_SIZE - 1) / AGE_CHUNK_SIZE : 1;
	return 16 + n + 16 * chunks;
}

TEST(round_trip_chunk_edges)
{
	static const size_t sizes[] = { 0, 1, 65535, 65536, 65537, 131072,
					131073, 200000 };
	struct age_identities ids, other;
	struct buf f = BUF_INIT, out = BUF_INIT;
	uint8_t *data = malloc(200000);
	char *text;
	struct age_identity id;
	struct buf s = BUF_INIT;

	age_identity_generate(&id);
	age_identity_encode(&id, &s);
	buf_addstr(&s, "\n");
	text = s.data;
	one_identity(text, &ids);
	one_identity(KIT_ID, &other);
	randombytes_buf(data, 200000);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i], hdr;
		encrypt(id.pub, data, n, &f);
		hdr = f.len - enc_size(n);
		ASSERT_OK(decrypt(f.data, f.len, &ids, &out, 0));
		ASSERT_EQ(out.len, n);
		ASSERT(n == 0 || !memcmp(out.data, data, n));
		ASSERT_OK(decrypt(f.data, f.len, &ids, &out, 4093));
		ASSERT_EQ(out.len, n);
		/* The wrong key. */
		ASSERT_EQ(decrypt(f.data, f.len, &other, &out, 0), LT_ENOKEY);
		/* A flipped bit anywhere in the header or payload. */
		for (size_t at = 0; at < f.len; at += (at < hdr + 64 ? 1 : 4099)) {
			f.data[at] ^= 0x10;
			ASSERT(decrypt(f.data, f.len, &ids, &out, 0) < 0);
			f.data[at] ^= 0x10;
		}
		f.data[f.len - 1] ^= 1;	/* the last tag's last byte */
		ASSERT_EQ(decrypt(f.data, f.len, &ids, &out, 0), LT_EAUTH);
		ASSERT(strstr(lt_errmsg(), "test.age: chunk"));
		f.data[f.len - 1] ^= 1;
		/* Cut short anywhere, and anything appended. */
		for (size_t cut = 0; cut < f.len; cut += (cut < hdr + 40 ? 1 : 997))
			ASSERT(decrypt(f.data, cut, &ids, &out, 0) < 0);
		for (size_t c = 1; hdr + 16 + c * (AGE_CHUNK_SIZE + 16) < f.len; c++)
			ASSERT(decrypt(f.data, hdr + 16 + c * (AGE_CHUNK_SIZE + 16),
				       &ids, &out, 0) < 0);
		buf_addch(&f, 0);
		ASSERT(decrypt(f.data, f.len, &ids, &out, 0) < 0);
	}
	sodium_memzero(s.data, s.len);
	buf_release(&s);
	buf_release(&f);
	buf_release(&out);
	free(data);
	age_identities_release(&ids);
	age_identities_release(&other);
}

/* An empty final chunk after a full one is refused (age forbids it). */
TEST(empty_final_chunk_refused)
{
	struct age_identities ids;
	struct buf f = BUF_INIT;
	uint8_t key[32], nonce[16] = { 1 }, n12[12] = { 0 };
	uint8_t *plain = calloc(1, AGE_CHUNK_SIZE), *enc = malloc(AGE_CHUNK_SIZE + 16);
	struct buf out = BUF_INIT;

	one_identity(KIT_ID, &ids);
	buf_addstr(&f, kit_x25519);
	buf_add(&f, nonce, 16);
	age_hkdf((const uint8_t *)"YELLOW SUBMARINE", 16, nonce, 16, "payload", key);
	crypto_aead_chacha20poly1305_ietf_encrypt(enc, NULL, plain, AGE_CHUNK_SIZE,
						  NULL, 0, NULL, n12, key);
	buf_add(&f, enc, AGE_CHUNK_SIZE + 16);
	n12[10] = 1;
	n12[11] = 1;
	crypto_aead_chacha20poly1305_ietf_encrypt(enc, NULL, plain, 0, NULL, 0,
						  NULL, n12, key);
	buf_add(&f, enc, 16);
	ASSERT_EQ(decrypt(f.data, f.len, &ids, &out, 0), LT_ECORRUPT);
	ASSERT(strstr(lt_errmsg(), "empty final chunk"));
	free(plain);
	free(enc);
	buf_release(&f);
	buf_release(&out);
	age_identities_release(&ids);
}

TEST(identity_files)
{
	struct age_identities ids;
	const char good[] =
		"# created: 2024-01-01T00:00:00Z\r\n"
		"# public key: age1...\n"
		"\n"
		KIT_ID "\r\n"
		"AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";
	const char bad[] = "# comment\n" KIT_ID "\n  " KIT_ID "\n";

	ASSERT_OK(age_identities_parse("k", good, strlen(good), &ids));
	ASSERT_EQ(ids.n, 2);
	age_identities_release(&ids);
	ASSERT_EQ(age_identities_parse("k", bad, strlen(bad), &ids), LT_EINVAL);
	ASSERT(strstr(lt_errmsg(), "k: line 3: "));
	ASSERT_EQ(age_identities_parse("k", "# only\n", 7, &ids), LT_EINVAL);
	ASSERT(strstr(lt_errmsg(), "no identity"));
}

TEST_LIST = {
	TEST_ENTRY(hkdf_rfc5869_case1),
	TEST_ENTRY(bech32_bip173),
	TEST_ENTRY(keys_known),
	TEST_ENTRY(testkit_x25519_encrypt),
	TEST_ENTRY(testkit_success),
	TEST_ENTRY(testkit_failures),
	TEST_ENTRY(round_trip_chunk_edges),
	TEST_ENTRY(empty_final_chunk_refused),
	TEST_ENTRY(identity_files),
	TEST_END
};

static void init_sodium(void) __attribute__((constructor));
static void init_sodium(void)
{
	if (sodium_init() < 0)
		abort();
}

TEST_MAIN()
