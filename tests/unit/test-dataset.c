/* The pieces of the edits dataset (src/export/edits.c): lines around a
 * change, the changed span, JSON strings, and grouping by time; and of
 * the timeline (timeline.c): terminal text, windows and caps. */
#include <string.h>

#include "dataset.h"
#include "error.h"
#include "test.h"

TEST(widen)
{
	const char *t = "a\nbb\ncc\ndd\nee";
	size_t s, e, n = strlen(t);

	ds_widen_lines(t, n, 6, 6, 0, &s, &e);	/* inside "cc" */
	ASSERT_EQ(s, 5);
	ASSERT_EQ(e, 8);
	ds_widen_lines(t, n, 6, 6, 1, &s, &e);
	ASSERT_EQ(s, 2);
	ASSERT_EQ(e, 11);
	ds_widen_lines(t, n, 6, 6, 9, &s, &e);	/* clamped to the text */
	ASSERT_EQ(s, 0);
	ASSERT_EQ(e, n);
	ds_widen_lines(t, n, 5, 8, 0, &s, &e);	/* a change ending at '\n' */
	ASSERT_EQ(s, 5);
	ASSERT_EQ(e, 8);
}

TEST(span)
{
	size_t lo, ahi, bhi;

	ASSERT(!ds_change_span("abc", 3, "abc", 3, &lo, &ahi, &bhi));
	ASSERT(ds_change_span("abXc", 4, "abc", 3, &lo, &ahi, &bhi));
	ASSERT_EQ(lo, 2);
	ASSERT_EQ(ahi, 3);
	ASSERT_EQ(bhi, 2);
	/* é (c3 a9) against è (c3 a8): the cut goes back to the character. */
	ASSERT(ds_change_span("x\xc3\xa9y", 4, "x\xc3\xa8y", 4, &lo, &ahi, &bhi));
	ASSERT_EQ(lo, 1);
	ASSERT_EQ(ahi, 3);
	ASSERT_EQ(bhi, 3);
}

TEST(json)
{
	struct buf b = BUF_INIT;

	ds_json_str(&b, "a\"\\\n\x01\x7f\xc3\xa9", 8);
	ASSERT_STREQ(b.data, "\"a\\\"\\\\\\n\\u0001\\u007f\xc3\xa9\"");
	buf_release(&b);
}

/* The escapes of doc/exports.md, a byte at a time, as the reference for
 * ds_json_str()'s word-at-a-time scan. */
static void json_ref(struct buf *b, const unsigned char *s, size_t n)
{
	buf_addch(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			buf_addf(b, "\\%c", c);
		else if (c == '\n')
			buf_addstr(b, "\\n");
		else if (c == '\r')
			buf_addstr(b, "\\r");
		else if (c == '\t')
			buf_addstr(b, "\\t");
		else if (c == '\b')
			buf_addstr(b, "\\b");
		else if (c == '\f')
			buf_addstr(b, "\\f");
		else if (c < 0x20 || c == 0x7f)
			buf_addf(b, "\\u%04x", c);
		else
			buf_addch(b, c);
	}
	buf_addch(b, '"');
}

/* Every byte value at every place of a word and of a 16-byte step, and
 * strings of every length around them, against the reference. */
TEST(json_every_byte)
{
	unsigned char s[80];
	struct buf got = BUF_INIT, want = BUF_INIT;
	uint32_t x = 12345;

	for (size_t len = 0; len <= sizeof(s); len++) {
		for (int c = 0; c < 256; c++) {
			for (size_t i = 0; i < len; i++) {
				x = x * 1103515245u + 12345u;
				/* Mostly plain text, with escapes about. */
				s[i] = (x >> 24) % 8 ? (unsigned char)('a' + (x >> 16) % 26)
						     : (unsigned char)(x >> 8);
			}
			if (len)
				s[(size_t)c % len] = (unsigned char)c;
			buf_reset(&got);
			buf_reset(&want);
			ds_json_str(&got, (const char *)s, len);
			json_ref(&want, s, len);
			ASSERT_EQ(got.len, want.len);
			ASSERT(!memcmp(got.data, want.data, got.len));
		}
	}
	buf_release(&got);
	buf_release(&want);
}

/* The span against a plain byte loop, on texts that share long heads
 * and tails (the word-at-a-time compare) and differ in UTF-8. */
TEST(span_vs_bytes)
{
	static const char *const piece[] = { "a", "\xc3\xa9", "\xe2\x82\xac", "\n", "xyzw" };
	char a[200], b[200];
	uint32_t x = 777;

	for (int round = 0; round < 20000; round++) {
		size_t alen = 0, blen, lo, ahi, bhi, p = 0, k = 0, min;
		int same;

		x = x * 1103515245u + 12345u;
		for (int i = 0; i < (int)((x >> 16) % 40); i++) {
			const char *q = piece[(x >> (i % 16)) % 5];

			memcpy(a + alen, q, strlen(q));
			alen += strlen(q);
		}
		memcpy(b, a, alen);
		blen = alen;
		/* One change: a piece in place of some bytes (maybe none). */
		{
			size_t at = alen ? (x >> 8) % (alen + 1) : 0;
			size_t cut = (x >> 3) % 4 <= alen - at ? (x >> 3) % 4 : 0;
			const char *q = piece[(x >> 5) % 5];
			size_t ql = (x >> 12) % 3 ? strlen(q) : 0;

			memmove(b + at + ql, a + at + cut, alen - at - cut);
			memcpy(b + at, q, ql);
			blen = alen - cut + ql;
		}
		/* The reference: byte loops, then back to characters. */
		min = alen < blen ? alen : blen;
		while (p < min && a[p] == b[p])
			p++;
		same = p == alen && p == blen;
		while (p > 0 && ((unsigned char)a[p] & 0xc0) == 0x80)
			p--;
		while (k < min - p && a[alen - 1 - k] == b[blen - 1 - k])
			k++;
		while (k > 0 && ((unsigned char)a[alen - k] & 0xc0) == 0x80)
			k--;
		ASSERT_EQ(ds_change_span(a, alen, b, blen, &lo, &ahi, &bhi), !same);
		if (same)
			continue;
		ASSERT_EQ(lo, p);
		ASSERT_EQ(ahi, alen - k);
		ASSERT_EQ(bhi, blen - k);
	}
}

struct got {
	int n;
	char last[4096];
};

static int emit(void *ctx, const char *doc, const char *line, size_t n)
{
	struct got *g = ctx;
	(void)doc;
	g->n++;
	if (n < sizeof(g->last)) {
		memcpy(g->last, line, n);
		g->last[n] = 0;
	}
	return 0;
}

static void feed(struct edits *x, int64_t t, uint64_t seq, const char *op,
		 uint64_t pos, const char *ins, const char *text)
{
	struct edit_rec e;

	memset(&e, 0, sizeof(e));
	e.t = t;
	e.stream = "fs:/x";
	e.doc = "file:1";
	e.path = e.part = "a.txt";
	e.op = op;
	e.has_seq = 1;
	e.seq = seq;
	e.pos = pos;
	e.ins = ins ? ins : "";
	e.ins_len = strlen(e.ins);
	e.del = "";
	e.text = text;
	e.text_len = text ? strlen(text) : 0;
	ASSERT_OK(edits_feed(x, &e));
}

TEST(groups)
{
	struct edits_opts o;
	struct got g;
	uint8_t key[32] = { 0 };
	struct edits *x;

	memset(&g, 0, sizeof(g));
	edits_opts_init(&o);
	x = edits_new(&o, NULL, key, emit, &g);
	feed(x, 0, 0, "snapshot", 0, NULL, "one\ntwo\n");
	/* Two inserts 0.5 s apart: one group; a third 2 s later: another. */
	feed(x, 1000000000LL, 1, "insert", 0, "A", NULL);
	feed(x, 1500000000LL, 2, "insert", 1, "B", NULL);
	ASSERT_EQ(g.n, 0);
	feed(x, 3500000000LL, 3, "insert", 6, "C", NULL);
	ASSERT_EQ(g.n, 1);
	ASSERT(strstr(g.last, "\"cut_seq\":0,\"next_seq\":[1,2]"));
	ASSERT(strstr(g.last, "\"next_ops\":[{\"op\":\"insert\",\"pos\":0,"
			      "\"len\":0,\"ins\":\"AB\",\"del\":\"\"}]"));
	ASSERT(strstr(g.last, "\"input\":\"```a.txt\\n<|editable_region_start|>"
			      "<|user_cursor_is_here|>one\\ntwo\\n"
			      "<|editable_region_end|>\\n```\""));
	/* The snapshot that repeats the text changes nothing. */
	feed(x, 3500000000LL, 4, "snapshot", 0, NULL, "ABone\nCtwo\n");
	ASSERT_OK(edits_finish(x));
	ASSERT_EQ(g.n, 2);
	ASSERT(strstr(g.last, "\"cursor\":2,"));	/* after "AB" */
	ASSERT(strstr(g.last, "User edited \\\"a.txt\\\""));
	ASSERT_EQ(edits_get_stats(x)->groups, 2);
	edits_free(x);
}

/* meta.author of the last example (32 hex digits). */
static void last_author(const struct got *g, char out[33])
{
	const char *p = strstr(g->last, "\"author\":\"");

	ASSERT(p);
	memcpy(out, p + 10, 32);
	out[32] = '\0';
}

/* Each example's author is the actor of its document as it stands when
 * the group closes (the edit that closes it has come in), even when the
 * hash is kept from one example to the next: ada, bob, ada, ada here. */
TEST(author_follows_actor)
{
	static const char *const actors[] = { "ada", "ada", "bob", "ada" };
	struct edits_opts o;
	struct got g;
	uint8_t key[32] = { 7 };
	struct edits *x;
	struct edit_rec e;
	char h[4][33];

	memset(&g, 0, sizeof(g));
	edits_opts_init(&o);
	x = edits_new(&o, NULL, key, emit, &g);
	feed(x, 0, 0, "snapshot", 0, NULL, "one\n");
	for (int k = 0; k < 5; k++) {
		memset(&e, 0, sizeof(e));
		e.t = (int64_t)(k + 1) * 2000000000LL;
		e.stream = "fs:/x";
		e.doc = "file:1";
		e.path = e.part = "a.txt";
		e.op = "insert";
		e.actor = actors[k < 4 ? k : 3];
		e.has_seq = 1;
		e.seq = (uint64_t)k + 1;
		e.ins = "x";
		e.ins_len = 1;
		e.del = "";
		ASSERT_OK(edits_feed(x, &e));
		if (k)	/* the group of edit k - 1 closed */
			last_author(&g, h[k - 1]);
	}
	ASSERT_EQ(g.n, 4);
	ASSERT(strcmp(h[0], h[1]));
	ASSERT(!strcmp(h[0], h[2]));
	ASSERT(!strcmp(h[2], h[3]));
	edits_free(x);
}

/* Terminal text: escapes go, also when cut between two chunks. */
TEST(ansi)
{
	struct buf o = BUF_INIT;
	int st = 0;

	ds_strip_ansi(&st, "\x1b[1;31mred\x1b[0m\r\n", 17, &o);
	ASSERT_STREQ(o.data, "red\n");
	buf_reset(&o);
	ds_strip_ansi(&st, "a\x1b]0;ti", 7, &o);
	ASSERT(st != 0);
	ds_strip_ansi(&st, "tle\x07" "b\x1b[", 7, &o);
	ds_strip_ansi(&st, "2Jc\t\x1bPq#0\x1b\\d\x1b(Be", 16, &o);
	ASSERT_STREQ(o.data, "abc\tde");
	ASSERT_EQ(st, 0);
	buf_reset(&o);
	ds_utf8_sanitize(&o, "ok \xff \xc3\xa9 \xe2\x82", 10);
	ASSERT_STREQ(o.data, "ok \xef\xbf\xbd \xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd");
	buf_release(&o);
}

static int tl_emit(void *ctx, int64_t start, const char *line, size_t n)
{
	(void)start;
	return emit(ctx, NULL, line, n) ;
}

/* Windows: aligned, one line each, caps and the truncated flag. */
TEST(timeline)
{
	struct timeline_opts o;
	struct timeline *x;
	struct got g;
	struct edit_rec e;
	char big[300];

	memset(&g, 0, sizeof(g));
	timeline_opts_init(&o);
	o.window_ns = 10 * 1000000000LL;
	o.max_output = 8;
	x = timeline_new(&o, NULL, tl_emit, &g);
	memset(&e, 0, sizeof(e));
	e.t = 12000000000LL;
	e.doc = "d";
	e.path = e.part = "p";
	e.op = "snapshot";
	e.has_seq = 1;
	e.text = "x\n";
	e.text_len = 2;
	ASSERT_OK(timeline_edit(x, &e));
	ASSERT_OK(timeline_term_io(x, 15000000000LL, "s", 0, "0123456789", 10));
	ASSERT_EQ(g.n, 0);
	memset(big, 'm', sizeof(big));
	ASSERT_OK(timeline_mark(x, 31000000000LL, 0, big, sizeof(big), NULL));
	ASSERT_EQ(g.n, 1);
	ASSERT(strstr(g.last, "\"start\":\"1970-01-01T00:00:10.000000000Z\""));
	ASSERT(strstr(g.last, "\"output\":\"01234567\",\"output_truncated\":true"));
	ASSERT(strstr(g.last, "\"truncated\":true}"));
	ASSERT_OK(timeline_finish(x));
	ASSERT_EQ(g.n, 2);
	ASSERT(strstr(g.last, "\"start\":\"1970-01-01T00:00:30.000000000Z\""));
	ASSERT(strstr(g.last, "\"documents\":[],\"terminal\":[]"));
	ASSERT(strstr(g.last, "\"truncated\":false}"));
	ASSERT_EQ(timeline_get_stats(x)->windows, 2);
	timeline_free(x);
}

TEST_LIST = {
	TEST_ENTRY(ansi),
	TEST_ENTRY(timeline),
	TEST_ENTRY(widen),
	TEST_ENTRY(span),
	TEST_ENTRY(json),
	TEST_ENTRY(json_every_byte),
	TEST_ENTRY(span_vs_bytes),
	TEST_ENTRY(groups),
	TEST_ENTRY(author_follows_actor),
	TEST_END,
};

TEST_MAIN()
