/*
 * Fuzzes the event layer's two readers of outside data: a JSONL line of
 * `labtape append` input (ev_parse_line) and a stored payload (ev_decode,
 * under edit.op, under fs.chunk and term.out for bytes fields (term.out's
 * human rendering reads terminal escapes), and without a kind).
 * Whatever parses must survive encode -> decode unchanged, print as
 * canonical JSON that parses back to the same event, and render as valid
 * UTF-8 within the width asked for.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "events.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

/* The number of code points in a buf, or -1 if it is not valid UTF-8. */
static long utf8_cols(const struct buf *b)
{
	json_t *s = json_stringn(b->data, b->len); /* validates */
	long n = 0;

	if (!s)
		return -1;
	json_decref(s);
	for (size_t i = 0; i < b->len; i++)
		n += ((uint8_t)b->data[i] & 0xc0) != 0x80;
	return n;
}

/* v came from a decoder or parser: it must encode, and decode to itself. */
static void roundtrip(const struct ev_kind *k, const json_t *v)
{
	struct buf b = BUF_INIT, b2 = BUF_INIT;
	json_t *back;

	CHECK(ev_encode(k, v, &b) == 0);
	CHECK(ev_decode(k, (const uint8_t *)b.data, b.len, &back) == 0);
	CHECK(json_equal(back, v));
	/* What the encoder writes is a fixed point. */
	CHECK(ev_encode(k, back, &b2) == 0);
	CHECK(b.len == b2.len && !memcmp(b.data, b2.data, b.len));
	json_decref(back);
	buf_release(&b);
	buf_release(&b2);
}

static void check_line(const uint8_t *data, size_t size)
{
	struct event e = EVENT_INIT, e2 = EVENT_INIT;
	struct buf b = BUF_INIT;
	const struct ev_kind *k;

	if (ev_parse_line((const char *)data, size, 0, "fuzz", &e) < 0)
		return;
	CHECK((k = ev_kind_find(e.kind)) != NULL);
	roundtrip(k, e.data);

	CHECK(ev_to_json(e.t, e.stream, e.kind, e.data, &b) == 0);
	CHECK(ev_parse_line(b.data, b.len, 1, "fuzz", &e2) == 0);
	CHECK(e2.t == e.t && !strcmp(e2.kind, e.kind) &&
	      json_equal(e2.data, e.data));

	for (int width = 0; width <= 40; width += 8) {
		buf_reset(&b);
		ev_format_human(e.t, e.stream, e.kind, e.data, width, &b);
		long cols = utf8_cols(&b);
		CHECK(cols >= 0 && (!width || cols <= width));
	}
	event_release(&e);
	event_release(&e2);
	buf_release(&b);
}

static void check_payload(const struct ev_kind *k, const uint8_t *data,
			  size_t size)
{
	struct buf b = BUF_INIT;
	json_t *v;

	if (ev_decode(k, data, size, &v) < 0) {
		CHECK(v == NULL);
		return;
	}
	roundtrip(k, v);
	CHECK(ev_to_json(0, "fuzz", k ? k->name : "x", v, &b) == 0);
	buf_reset(&b);
	ev_format_human(0, "fuzz", k ? k->name : "x", v, 20, &b);
	CHECK(utf8_cols(&b) >= 0);
	json_decref(v);
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_line(data, size);
	check_payload(ev_kind_find("edit.op"), data, size);
	check_payload(ev_kind_find("fs.chunk"), data, size);
	check_payload(ev_kind_find("term.out"), data, size);
	check_payload(NULL, data, size);
	return 0;
}
