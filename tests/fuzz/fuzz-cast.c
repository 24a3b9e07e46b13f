/*
 * Fuzzes the asciicast parser (v2 and v3) and the v2 writer
 * (src/export/asciicast.c). The input is parsed as a cast file: it must
 * never crash, and when it is accepted, writing its header and events
 * back out as v2 must give a cast that the parser accepts again with as
 * many events (minus output and input events with empty data, which the
 * writer leaves out, and v3's exit events, which v2 has not). Then the raw
 * bytes, cut into chunks at every 0xFF byte, go through the writer as
 * output and input: the result must parse, with text that is valid UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "error.h"
#include "export.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

struct copy {
	struct buf out;
	struct cast_writer w;
	size_t written;
};

static int on_header(void *ctx, const struct cast_header *h)
{
	struct copy *c = ctx;

	cast_write_header(&c->w, h);
	return 0;
}

static int on_event(void *ctx, const struct cast_event *e)
{
	struct copy *c = ctx;

	switch (e->code) {
	case 'r':
		cast_write_resize(&c->w, e->t, e->cols, e->rows);
		break;
	case 'm':
		cast_write_marker(&c->w, e->t, e->data, e->len);
		break;
	case 'x':
		return 0;
	default:
		/* The parser hands out valid UTF-8, so nothing carries. */
		cast_write_bytes(&c->w, e->t, e->code, e->data, e->len);
		if (!e->len)
			return 0;
	}
	c->written++;
	return 0;
}

static int count_event(void *ctx, const struct cast_event *e)
{
	(void)e;
	(*(size_t *)ctx)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct cast_parse_ops copy_ops = { on_header, on_event };
	static const struct cast_parse_ops count_ops = { NULL, count_event };
	struct cast_parse_stats st;
	struct copy c;
	struct cast_writer w;
	struct cast_header h = { 80, 24, 1, 0, NULL, NULL, NULL, NULL, 2 };
	size_t again = 0, start = 0;

	buf_init(&c.out, 0);
	cast_writer_init(&c.w, &c.out);
	c.written = 0;
	if (cast_parse("fuzz.cast", data, size, &copy_ops, &c, &st) == 0) {
		cast_writer_finish(&c.w);
		CHECK(cast_parse("copy.cast", c.out.data, c.out.len,
				 &count_ops, &again, NULL) == 0);
		CHECK(again == c.written);
	}

	buf_reset(&c.out);
	cast_writer_init(&w, &c.out);
	cast_write_header(&w, &h);
	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i] != 0xff)
			continue;
		cast_write_bytes(&w, (int64_t)i * 1000, i % 2 ? 'i' : 'o',
				 data + start, i - start);
		start = i + 1;
	}
	cast_writer_finish(&w);
	again = 0;
	CHECK(cast_parse("raw.cast", c.out.data, c.out.len, &count_ops,
			 &again, NULL) == 0);
	buf_release(&c.out);
	return 0;
}
