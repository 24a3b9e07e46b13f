/*
 * Segment and frame layouts: encoding, parsing, sealing and opening.
 * Everything here works on memory; the files are tape.c's and recover.c's.
 * doc/format.md, "Segments" and "Frames", is the specification.
 */
#include <string.h>

#include <sodium.h>
#include <xxhash.h>
#include <zstd.h>

#include "bytes.h"
#include "error.h"
#include "vault-int.h"
#include "banned.h"

static uint32_t check32(const uint8_t *p, size_t n)
{
	return (uint32_t)XXH3_64bits(p, n);
}

void seg_header_encode(const struct seg_header *h, uint8_t out[SEG_HEADER_LEN])
{
	memset(out, 0, SEG_HEADER_LEN);
	memcpy(out, SEG_MAGIC, 8);
	put_u16le(out + 8, h->version);
	put_u16le(out + 10, SEG_HEADER_LEN);
	/* 12..15: flags, zero in version 1 */
	memcpy(out + 16, h->seg_id, VAULT_ID_LEN);
	memcpy(out + 32, h->key_id, VAULT_ID_LEN);
	put_u64le(out + 48, (uint64_t)h->created);
	put_u32le(out + 56, (uint32_t)h->day);
	put_u32le(out + 60, check32(out, 60));
}

int seg_header_decode(const uint8_t in[SEG_HEADER_LEN], struct seg_header *h)
{
	if (memcmp(in, SEG_MAGIC, 8) != 0)
		return lt_error(LT_ECORRUPT, "not a labtape segment (bad magic)");
	/* The checksum first: a damaged version byte is damage, not a
	 * segment from the future. */
	if (get_u32le(in + 60) != check32(in, 60))
		return lt_error(LT_ECORRUPT, "segment header checksum mismatch");
	h->version = get_u16le(in + 8);
	if (h->version != VAULT_VERSION)
		return lt_error(LT_EVERSION,
				"segment format version %u is not supported "
				"(this labtape reads version %d; upgrade labtape)",
				h->version, VAULT_VERSION);
	if (get_u16le(in + 10) != SEG_HEADER_LEN || get_u32le(in + 12) != 0)
		return lt_error(LT_ECORRUPT, "segment header has unknown fields");
	memcpy(h->seg_id, in + 16, VAULT_ID_LEN);
	memcpy(h->key_id, in + 32, VAULT_ID_LEN);
	h->created = (int64_t)get_u64le(in + 48);
	h->day = (int32_t)get_u32le(in + 56);
	return 0;
}

int frame_parse_header(const uint8_t *p, size_t avail, struct frame_header *h,
		       size_t *need)
{
	const uint8_t *k, *kend;

	if (avail < FRAME_FIXED) {
		*need = FRAME_FIXED;
		return LT_ETOOBIG;
	}
	if (memcmp(p, FRAME_MAGIC, 4) != 0)
		return lt_error(LT_ECORRUPT, "no frame starts here (bad magic)");
	h->type = p[4];
	h->flags = p[5];
	h->hlen = get_u16le(p + 6);
	h->frame_no = get_u64le(p + 8);
	h->ct_len = get_u32le(p + 16);
	h->plain_len = get_u32le(p + 20);
	h->nrec = get_u32le(p + 24);
	h->nkinds = get_u16le(p + 28);
	h->t_min = (int64_t)get_u64le(p + 32);
	h->t_max = (int64_t)get_u64le(p + 40);
	h->kinds = p + FRAME_FIXED;

	if (h->hlen < FRAME_FIXED + 4 || h->hlen > FRAME_MAX_HEADER)
		return lt_error(LT_ECORRUPT, "bad frame header length %u", h->hlen);
	if (avail < h->hlen) {
		*need = h->hlen;
		return LT_ETOOBIG;
	}
	if (get_u32le(p + h->hlen - 4) != check32(p, h->hlen - 4u))
		return lt_error(LT_ECORRUPT, "frame header checksum mismatch");
	if (get_u16le(p + 30) != 0)
		return lt_error(LT_ECORRUPT, "frame header has unknown fields");
	if (h->ct_len < FRAME_TAG || h->ct_len > FRAME_MAX_CT)
		return lt_error(LT_ECORRUPT, "bad ciphertext length %u", h->ct_len);

	switch (h->type) {
	case FRAME_DATA:
		if (h->flags != 0 || h->nkinds == 0 || h->nkinds > FRAME_MAX_KINDS ||
		    h->nrec == 0 || h->t_min > h->t_max ||
		    h->plain_len > FRAME_MAX_CT)
			return lt_error(LT_ECORRUPT, "inconsistent data frame header");
		break;
	case FRAME_COMMIT:
		if ((h->flags & ~(FRAME_FLAG_SEAL | FRAME_FLAG_TXN)) != 0 ||
		    h->nkinds != 0 || h->ct_len != FRAME_TAG ||
		    h->hlen != FRAME_FIXED + 4 ||
		    ((h->flags & FRAME_FLAG_TXN) ? h->plain_len < 2
						 : h->plain_len != 0))
			return lt_error(LT_ECORRUPT, "inconsistent commit frame header");
		memcpy(h->txn, p + 32, FRAME_TXN_ID_LEN);
		break;
	default:
		return lt_error(LT_ECORRUPT, "unknown frame type %u", h->type);
	}

	/* The kinds area must hold exactly nkinds non-empty names. */
	k = h->kinds;
	kend = p + h->hlen - 4;
	for (unsigned i = 0; i < h->nkinds; i++) {
		if (k >= kend || k[0] == 0 || k + 1 + k[0] > kend ||
		    memchr(k + 1, '\0', k[0]))
			return lt_error(LT_ECORRUPT, "bad kinds table in frame header");
		/* Each kind once: the index keys blocks by (kind, block). */
		for (const uint8_t *j = h->kinds; j < k; j += 1 + j[0])
			if (j[0] == k[0] && !memcmp(j + 1, k + 1, k[0]))
				return lt_error(LT_ECORRUPT, "kind listed twice "
						"in frame header");
		k += 1 + k[0];
	}
	if (k != kend)
		return lt_error(LT_ECORRUPT, "bad kinds table in frame header");
	return 0;
}

int frame_check_trailer(const uint8_t *p, const struct frame_header *h)
{
	size_t n = (size_t)frame_len(h) - FRAME_TRAILER;

	if (get_u64le(p + n) != XXH3_64bits(p, n))
		return lt_error(LT_ECORRUPT, "frame checksum mismatch");
	return 0;
}

void frame_kind(const struct frame_header *h, unsigned i, const char **name,
		size_t *len)
{
	const uint8_t *k = h->kinds;

	while (i--)
		k += 1 + k[0];
	*name = (const char *)k + 1;
	*len = k[0];
}

/* The associated data: the segment id, then the whole frame header. */
static void make_ad(const uint8_t seg_id[VAULT_ID_LEN], const uint8_t *hdr,
		    size_t hlen, struct buf *ad)
{
	buf_reset(ad);
	buf_add(ad, seg_id, VAULT_ID_LEN);
	buf_add(ad, hdr, hlen);
}

/*
 * Appends a frame to out. The header fields come from h (hlen, kinds and
 * lengths are filled in here); ciphertext is encrypted from body, which is
 * already compressed (or empty, for a commit).
 */
static void frame_build(struct frame_header *h, const char *const *kinds,
			const uint8_t seg_id[VAULT_ID_LEN], const uint8_t *body,
			size_t body_len, const uint8_t *key, struct buf *out)
{
	size_t start = out->len, hstart;
	unsigned long long ctlen;
	struct buf ad = BUF_INIT;
	uint8_t *p;

	h->hlen = FRAME_FIXED + 4;
	for (unsigned i = 0; i < h->nkinds; i++)
		h->hlen += (uint16_t)(1 + strlen(kinds[i]));
	h->ct_len = (uint32_t)(body_len + FRAME_TAG);

	buf_grow(out, frame_len(h));
	p = (uint8_t *)out->data + start;
	memcpy(p, FRAME_MAGIC, 4);
	p[4] = h->type;
	p[5] = h->flags;
	put_u16le(p + 6, h->hlen);
	put_u64le(p + 8, h->frame_no);
	put_u32le(p + 16, h->ct_len);
	put_u32le(p + 20, h->plain_len);
	put_u32le(p + 24, h->nrec);
	put_u16le(p + 28, h->nkinds);
	put_u16le(p + 30, 0);
	put_u64le(p + 32, (uint64_t)h->t_min);
	put_u64le(p + 40, (uint64_t)h->t_max);
	hstart = FRAME_FIXED;
	for (unsigned i = 0; i < h->nkinds; i++) {
		size_t n = strlen(kinds[i]);
		p[hstart] = (uint8_t)n;
		memcpy(p + hstart + 1, kinds[i], n);
		hstart += 1 + n;
	}
	put_u32le(p + hstart, check32(p, hstart));

	randombytes_buf(p + h->hlen, FRAME_NONCE);
	make_ad(seg_id, p, h->hlen, &ad);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		p + h->hlen + FRAME_NONCE, &ctlen, body, body_len,
		(const uint8_t *)ad.data, ad.len, NULL, p + h->hlen, key);
	put_u64le(p + h->hlen + FRAME_NONCE + ctlen,
		  XXH3_64bits(p, h->hlen + FRAME_NONCE + ctlen));
	buf_setlen(out, start + (size_t)frame_len(h));
	buf_release(&ad);
}

void frame_build_commit(const uint8_t seg_id[VAULT_ID_LEN], uint64_t frame_no,
			uint32_t ndata, int seal, const uint8_t *key,
			struct buf *out)
{
	struct frame_header h = { 0 };

	h.type = FRAME_COMMIT;
	h.flags = seal ? FRAME_FLAG_SEAL : 0;
	h.frame_no = frame_no;
	h.nrec = ndata;
	frame_build(&h, NULL, seg_id, NULL, 0, key, out);
}

void frame_build_txn_commit(const uint8_t seg_id[VAULT_ID_LEN],
			    uint64_t frame_no, uint32_t ndata, int seal,
			    const uint8_t txn[FRAME_TXN_ID_LEN], uint32_t parts,
			    const uint8_t *key, struct buf *out)
{
	struct frame_header h = { 0 };

	h.type = FRAME_COMMIT;
	h.flags = (uint8_t)((seal ? FRAME_FLAG_SEAL : 0) | FRAME_FLAG_TXN);
	h.frame_no = frame_no;
	h.nrec = ndata;
	h.plain_len = parts;
	/* The id takes the place of t_min and t_max, which a commit has no
	 * use for; written back byte for byte. */
	h.t_min = (int64_t)get_u64le(txn);
	h.t_max = (int64_t)get_u64le(txn + 8);
	frame_build(&h, NULL, seg_id, NULL, 0, key, out);
}

int frame_build_data(struct frame_header *h, const char *const *kinds,
		     const uint8_t seg_id[VAULT_ID_LEN], const uint8_t *plain,
		     size_t plain_len, const uint8_t *key, void *cctx, int level,
		     struct buf *scratch, struct buf *out)
{
	size_t bound = ZSTD_compressBound(plain_len), n;

	buf_reset(scratch);
	buf_grow(scratch, bound);
	n = ZSTD_compressCCtx(cctx, scratch->data, bound, plain, plain_len, level);
	if (ZSTD_isError(n))
		return lt_error(LT_EIO, "cannot compress block: %s",
				ZSTD_getErrorName(n));
	h->type = FRAME_DATA;
	h->flags = 0;
	h->plain_len = (uint32_t)plain_len;
	frame_build(h, kinds, seg_id, (const uint8_t *)scratch->data, n, key, out);
	return 0;
}

int frame_open(const uint8_t *frame, const struct frame_header *h,
	       const uint8_t seg_id[VAULT_ID_LEN], const uint8_t *key,
	       struct buf *plain, void *dctx, struct buf *scratch)
{
	struct buf ad = BUF_INIT;
	unsigned long long n;
	int r = 0;

	make_ad(seg_id, frame, h->hlen, &ad);
	buf_reset(scratch);
	buf_grow(scratch, h->ct_len);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    (uint8_t *)scratch->data, &n, NULL,
		    frame + h->hlen + FRAME_NONCE, h->ct_len,
		    (const uint8_t *)ad.data, ad.len, frame + h->hlen, key) != 0) {
		r = lt_error(LT_EAUTH, "block does not authenticate");
		goto out;
	}
	buf_reset(plain);
	if (h->type == FRAME_COMMIT)
		goto out;
	if (ZSTD_getFrameContentSize(scratch->data, n) != h->plain_len) {
		r = lt_error(LT_ECORRUPT,
			     "block content size does not match its header");
		goto out;
	}
	buf_grow(plain, h->plain_len);
	{
		size_t d = ZSTD_decompressDCtx(dctx, plain->data, h->plain_len,
					       scratch->data, n);
		if (ZSTD_isError(d) || d != h->plain_len) {
			r = lt_error(LT_ECORRUPT, "block does not decompress: %s",
				     ZSTD_isError(d) ? ZSTD_getErrorName(d)
						     : "short output");
			goto out;
		}
		buf_setlen(plain, d);
	}
out:
	buf_release(&ad);
	return r;
}

int rec_next(struct rec_cursor *c, struct rec *r)
{
	int64_t delta;
	uint64_t kind, len;

	if (c->p == c->end)
		return 0;
	if (get_svarint(&c->p, c->end, &delta) ||
	    get_uvarint(&c->p, c->end, &kind) ||
	    get_uvarint(&c->p, c->end, &len))
		return lt_error(LT_ECORRUPT, "truncated record header");
	if (__builtin_add_overflow(c->prev_t, delta, &r->t))
		return lt_error(LT_ECORRUPT, "record time out of range");
	if (kind >= c->nkinds)
		return lt_error(LT_ECORRUPT, "record kind %llu out of range",
				(unsigned long long)kind);
	if (len > (uint64_t)(c->end - c->p))
		return lt_error(LT_ECORRUPT, "record payload runs past the block");
	r->kind = (unsigned)kind;
	r->payload = c->p;
	r->len = (size_t)len;
	c->p += len;
	c->prev_t = r->t;
	return 1;
}
