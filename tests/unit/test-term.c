/*
 * The terminal recorder's pieces that need no terminal: the direct
 * term.out/term.in payload writer against the JSON path.
 */
#include <sodium.h>

#include "error.h"
#include "events.h"
#include "test.h"

/* ev_encode_term_io(session, raw) must be the very bytes ev_encode makes
 * of the JSON event, and decode to it. */
static void same_as_json(const char *session, const uint8_t *raw, size_t n)
{
	const char *kinds[] = { "term.out", "term.in" };
	size_t blen = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = malloc(blen);
	struct buf direct = BUF_INIT, viajson = BUF_INIT;
	json_t *v, *back;

	sodium_bin2base64(b64, blen, raw, n, sodium_base64_VARIANT_ORIGINAL);
	v = json_pack("{s:s, s:s}", "session", session, "data", b64);
	for (size_t i = 0; i < 2; i++) {
		const struct ev_kind *k = ev_kind_find(kinds[i]);
		ASSERT(k);
		buf_reset(&direct);
		buf_reset(&viajson);
		ASSERT_OK(ev_encode_term_io(&direct, session, raw, n));
		ASSERT_OK(ev_encode(k, v, &viajson));
		ASSERT_EQ(direct.len, viajson.len);
		ASSERT_MEMEQ(direct.data, viajson.data, direct.len);
		ASSERT_OK(ev_decode(k, (const uint8_t *)direct.data, direct.len,
				    &back));
		ASSERT(json_equal(back, v));
		json_decref(back);
	}
	json_decref(v);
	free(b64);
	buf_release(&direct);
	buf_release(&viajson);
}

TEST(term_io_payload)
{
	static uint8_t raw[70000];

	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(i * 131 + (i >> 9));
	/* Lengths around the varint's 1-, 2- and 3-byte forms. */
	size_t lens[] = { 0, 1, 2, 3, 127, 128, 16383, 16384, 65536,
			  sizeof(raw) };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		same_as_json("4f2a09c1", raw, lens[i]);
	/* UTF-8 cut in the middle of a character stays as it was. */
	same_as_json("00000000", (const uint8_t *)"\xc3\xa9\xe2\x82", 4);
	same_as_json("", (const uint8_t *)"x", 1);
}

TEST(term_io_payload_appends)
{
	struct buf b = BUF_INIT;

	buf_addstr(&b, "keep");
	ASSERT_OK(ev_encode_term_io(&b, "ab", "xy", 2));
	ASSERT_EQ(b.len, 4 + 12);
	ASSERT_MEMEQ(b.data, "keep\x07\x02\x01\x05\x02" "ab\x03\x08\x02xy", 16);
	/* A full buffer is refused and left alone. */
	buf_reset(&b);
	b.cap = 8;
	ASSERT_EQ(ev_encode_term_io(&b, "ab", "xy", 2), LT_ETOOBIG);
	ASSERT_EQ(b.len, 0);
	buf_release(&b);
}

TEST_LIST = {
	TEST_ENTRY(term_io_payload),
	TEST_ENTRY(term_io_payload_appends),
	TEST_END,
};
TEST_MAIN()
