/*
 * Bech32 (BIP-173), for age's keys: age1... recipients and
 * AGE-SECRET-KEY-1... identities. The checksum is BIP-173's polymod over
 * the expanded hrp and the data; age drops the 90-character length limit.
 */
#include "bech32.h"

#include <string.h>

#include "error.h"
#include "banned.h"

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t polymod_step(uint32_t chk, uint8_t v)
{
	static const uint32_t gen[5] = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa,
					 0x3d4233dd, 0x2a1462b3 };
	uint8_t top = chk >> 25;

	chk = ((chk & 0x1ffffff) << 5) ^ v;
	for (int i = 0; i < 5; i++)
		if ((top >> i) & 1)
			chk ^= gen[i];
	return chk;
}

/* The checksum state after the expanded lowercase hrp. */
static uint32_t polymod_hrp(const char *hrp, size_t n)
{
	uint32_t chk = 1;

	for (size_t i = 0; i < n; i++)
		chk = polymod_step(chk, (uint8_t)hrp[i] >> 5);
	chk = polymod_step(chk, 0);
	for (size_t i = 0; i < n; i++)
		chk = polymod_step(chk, (uint8_t)hrp[i] & 31);
	return chk;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

void bech32_encode(const char *hrp, const uint8_t *data, size_t n, int up,
		   struct buf *out)
{
	size_t hlen = strlen(hrp);
	struct buf h = BUF_INIT;
	uint32_t chk, acc = 0;
	int bits = 0;

	for (size_t i = 0; i < hlen; i++)
		buf_addch(&h, lower(hrp[i]));
	chk = polymod_hrp(h.data, hlen);
	for (size_t i = 0; i < hlen; i++)
		buf_addch(out, up ? upper(h.data[i]) : h.data[i]);
	buf_addch(out, '1');
	/* 8-bit bytes to 5-bit groups, the last one padded with zeros. */
	for (size_t i = 0; i <= n; i++) {
		if (i < n) {
			acc = (acc << 8) | data[i];
			bits += 8;
		} else if (bits > 0) {
			acc <<= 5 - bits;
			bits = 5;
		}
		while (bits >= 5) {
			uint8_t v = (acc >> (bits - 5)) & 31;
			bits -= 5;
			chk = polymod_step(chk, v);
			buf_addch(out, up ? upper(charset[v]) : charset[v]);
		}
	}
	for (int i = 0; i < 6; i++)
		chk = polymod_step(chk, 0);
	chk ^= 1;
	for (int i = 0; i < 6; i++) {
		char c = charset[(chk >> (5 * (5 - i))) & 31];
		buf_addch(out, up ? upper(c) : c);
	}
	buf_release(&h);
}

int bech32_decode(const char *s, size_t len, struct buf *hrp, uint8_t *out,
		  size_t max, size_t *n)
{
	int has_lower = 0, has_upper = 0, bits = 0;
	size_t sep = len, hlen, nout = 0;
	uint32_t chk, acc = 0;

	buf_reset(hrp);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 33 || c > 126)
			return lt_error(LT_EINVAL, "bech32: character %zu is "
					"not printable ASCII", i + 1);
		has_lower |= c >= 'a' && c <= 'z';
		has_upper |= c >= 'A' && c <= 'Z';
		if (c == '1')
			sep = i;
	}
	if (has_lower && has_upper)
		return lt_error(LT_EINVAL, "bech32: mixed upper and lower case");
	if (sep == len || sep == 0 || len - sep - 1 < 6)
		return lt_error(LT_EINVAL, "bech32: no separator, no prefix "
				"or too short a checksum");
	hlen = sep;
	for (size_t i = 0; i < hlen; i++)
		buf_addch(hrp, lower(s[i]));
	chk = polymod_hrp(hrp->data, hlen);
	for (size_t i = sep + 1; i < len; i++) {
		const char *p = strchr(charset, lower(s[i]));
		uint8_t v;

		if (!p || !*p)
			return lt_error(LT_EINVAL, "bech32: '%c' (character "
					"%zu) is not in the bech32 alphabet",
					s[i], i + 1);
		v = (uint8_t)(p - charset);
		chk = polymod_step(chk, v);
		if (i >= len - 6)
			continue;
		acc = (acc << 5) | v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (nout == max)
				return lt_error(LT_EINVAL, "bech32: more than "
						"%zu bytes of data", max);
			out[nout++] = (uint8_t)(acc >> bits);
		}
		acc &= (1u << bits) - 1;
	}
	if (chk != 1)
		return lt_error(LT_EINVAL, "bech32: bad checksum (a typo?)");
	if (bits >= 5 || acc != 0)
		return lt_error(LT_EINVAL, "bech32: bad padding");
	*n = nout;
	return 0;
}
