/*
 * Fuzzes src/text. The input is split at its first 0xFF byte (never part
 * of UTF-8), or in the middle if it has none, into an old text a and a new
 * text b. When both are valid UTF-8, their diff applied to a must give b
 * exactly, with a normal and with a tiny work budget; when one is not, the
 * diff must refuse. The UTF-8 helpers get the raw bytes: validation must
 * agree with a slow reference, and counting, seeking and decoding with
 * each other. A made-up edit is applied to a: it must either work and keep
 * the text valid, or fail and leave it untouched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "text.h"
#include "xalloc.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

/* Decode, then judge the value: slow and plainly right. */
static size_t ref_check(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], len, cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
		    : (c & 0xf8) == 0xf0 ? 4 : 0;
		if (!len || i + len > n)
			return i;
		cp = c & (0xffu >> (len + 1));
		for (unsigned k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += len;
	}
	return n;
}

static void check_utf8(const char *s, size_t n)
{
	uint64_t count = text_utf8_count(s, n);
	uint32_t *u;

	CHECK(text_utf8_check(s, n) == ref_check((const uint8_t *)s, n));
	u = xmalloc((count + 1) * sizeof(*u));
	CHECK(text_utf8_decode(s, n, u) == count);
	free(u);
	/* Every code point's offset against a byte walk (a sample of them
	 * for long inputs, to keep the check linear). */
	for (size_t i = 0, k = 0; i <= n; i++) {
		if (i < n && ((uint8_t)s[i] & 0xc0) == 0x80)
			continue;
		if (n <= 512 || k % (n / 64) == 0 || i == n)
			CHECK(text_utf8_offset(s, n, k) == i);
		k++;
	}
	CHECK(text_utf8_offset(s, n, count + 1) == SIZE_MAX);
}

static void check_diff(const char *a, size_t alen, const char *b,
		       size_t blen, uint64_t max_work)
{
	struct text_diff_opts opts = { max_work };
	struct text_edits e = TEXT_EDITS_INIT;
	struct buf doc = BUF_INIT;
	uint64_t end = 0;

	CHECK(text_diff(a, alen, b, blen, &opts, &e) == 0);
	CHECK(buf_add(&doc, a, alen) == 0);
	for (size_t i = 0; i < e.n; i++) {
		const struct text_edit *t = &e.v[i];

		CHECK(i == 0 || t->pos > end);
		CHECK(t->len == text_utf8_count(t->del, t->del_len));
		CHECK(text_apply(&doc, t) == 0);
		end = t->pos + text_utf8_count(t->ins, t->ins_len);
	}
	CHECK(doc.len == blen && !memcmp(doc.data, b, blen));
	buf_release(&doc);
	text_edits_release(&e);
}

/* An edit made up from the input bytes, valid or not. */
static void check_apply(const char *a, size_t alen, const uint8_t *p,
			size_t n)
{
	struct buf doc = BUF_INIT;
	struct text_edit e;
	size_t half = n / 2;

	if (n < 3)
		return;
	e.op = (enum text_op)(p[0] % 4);
	e.pos = p[1] % (text_utf8_count(a, alen) + 2);
	e.ins = (const char *)p + 3;
	e.ins_len = half > 3 ? half - 3 : 0;
	e.del = (const char *)p + 3 + e.ins_len;
	e.del_len = n - 3 - e.ins_len;
	if (p[2] & 1) {		/* delete what is really there */
		size_t off = text_utf8_offset(a, alen, e.pos);
		if (off != SIZE_MAX) {
			e.del = a + off;
			e.del_len = (alen - off) % (p[2] / 2 + 1);
		}
	}
	e.len = text_utf8_count(e.del, e.del_len);

	buf_add(&doc, a, alen);
	if (text_apply(&doc, &e) == 0) {
		CHECK(text_utf8_check(doc.data, doc.len) == doc.len);
		CHECK(doc.len == alen - e.del_len + e.ins_len);
	} else {
		CHECK(doc.len == alen && !memcmp(doc.data, a, alen));
	}
	buf_release(&doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep = memchr(data, 0xff, size);
	const char *a = (const char *)data, *b;
	size_t alen, blen;
	int va, vb;

	if (sep) {
		alen = (size_t)(sep - data);
		b = (const char *)sep + 1;
		blen = size - alen - 1;
	} else {
		alen = size / 2;
		b = a + alen;
		blen = size - alen;
	}
	check_utf8((const char *)data, size);
	va = text_utf8_check(a, alen) == alen;
	vb = text_utf8_check(b, blen) == blen;
	if (va && vb) {
		check_diff(a, alen, b, blen, 0);
		check_diff(a, alen, b, blen, 1 + size % 97);
	} else {
		struct text_edits e = TEXT_EDITS_INIT;

		CHECK(text_diff(a, alen, b, blen, NULL, &e) == LT_EINVAL);
		CHECK(e.n == 0);
		text_edits_release(&e);
	}
	if (va)
		check_apply(a, alen, (const uint8_t *)b, blen);
	return 0;
}
