/*
 * The asciicast v2 writer and parser (src/export/asciicast.c): UTF-8
 * replacement as Python's errors="replace" does it, carries across
 * chunks, and a round trip of random events through both.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "export.h"
#include "test.h"
#include "banned.h"

/* The cast of one output event of bytes p[0..n), as one string. */
static void one(const char *p, size_t n, struct buf *out)
{
	struct cast_writer w;

	buf_reset(out);
	cast_writer_init(&w, out);
	cast_write_bytes(&w, 1500000, 'o', p, n);
	cast_writer_finish(&w);
}

#define FFFD "\xef\xbf\xbd"

TEST(replacement_like_python)
{
	/* Each pair: bytes, and what bytes.decode('utf-8', 'replace') gives
	 * (checked with Python 3.11). */
	static const struct { const char *in, *want; } cases[] = {
		{ "a\xc3\xa9z", "aéz" },
		{ "\xe0\x80", FFFD FFFD },		/* E0 needs A0..BF */
		{ "\xed\xa0\x80", FFFD FFFD FFFD },	/* a surrogate */
		{ "\xc0\xaf", FFFD FFFD },		/* overlong */
		{ "\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD }, /* > U+10FFFF */
		{ "\xf0\x9f\x98", FFFD },		/* cut off at the end */
		{ "\xe2\x82x", FFFD "x" },		/* cut off in the middle */
		{ "\xff\xfe", FFFD FFFD },
		{ "\x80\xbf", FFFD FFFD },
		{ "\xf1\x80\x80\xc3\xa9", FFFD "é" },
	};
	struct buf out = BUF_INIT, want = BUF_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		one(cases[i].in, strlen(cases[i].in), &out);
		buf_reset(&want);
		buf_addf(&want, "[0.001500, \"o\", \"%s\"]\n", cases[i].want);
		ASSERT_STREQ(out.data, want.data);
	}
	buf_release(&out);
	buf_release(&want);
}

TEST(escapes)
{
	struct buf out = BUF_INIT;
	static const char in[] = "\"\\\n\r\t\b\f\x01\x7f\xc2\x85\xe2\x80\xa8/";

	one(in, sizeof(in) - 1, &out);
	ASSERT_STREQ(out.data, "[0.001500, \"o\", \"\\\"\\\\\\n\\r\\t\\b\\f"
		     "\\u0001\\u007f\\u0085\\u2028/\"]\n");
	one("\0", 1, &out);
	ASSERT_STREQ(out.data, "[0.001500, \"o\", \"\\u0000\"]\n");
	one("", 0, &out);
	ASSERT_STREQ(out.data, "");
	buf_release(&out);
}

TEST(carry_per_code)
{
	struct buf out = BUF_INIT;
	struct cast_writer w;

	cast_writer_init(&w, &out);
	cast_write_bytes(&w, 1000, 'o', "\xf0\x9f", 2);	/* nothing yet */
	cast_write_bytes(&w, 2000, 'i', "\xc3", 1);
	cast_write_resize(&w, 3000, 80, 24);
	cast_write_bytes(&w, 4000, 'o', "\x98", 1);	/* still nothing */
	cast_write_bytes(&w, 5000, 'i', "\xa9!", 2);
	cast_write_bytes(&w, 6000, 'o', "\x80.", 2);
	cast_write_marker(&w, 5000, "m", 1);		/* never backwards */
	cast_write_bytes(&w, 7000, 'o', "\xe2", 1);
	cast_writer_finish(&w);
	ASSERT_STREQ(out.data,
		     "[0.000003, \"r\", \"80x24\"]\n"
		     "[0.000005, \"i\", \"é!\"]\n"
		     "[0.000006, \"o\", \"😀.\"]\n"
		     "[0.000006, \"m\", \"m\"]\n"
		     "[0.000007, \"o\", \"" FFFD "\"]\n");
	buf_release(&out);
}

struct ev {
	int64_t t;
	char code;
	char *data;
	size_t len;
	long long cols, rows;
	int status;
};

struct got {
	struct cast_header h;
	char title[64];
	struct ev *v;
	size_t n;
};

static int on_header(void *ctx, const struct cast_header *h)
{
	struct got *g = ctx;

	g->h = *h;
	snprintf(g->title, sizeof(g->title), "%s", h->title ? h->title : "");
	g->h.title = g->title;
	g->h.shell = g->h.term = g->h.command = NULL;
	return 0;
}

static int on_event(void *ctx, const struct cast_event *e)
{
	struct got *g = ctx;
	struct ev *x;

	g->v = realloc(g->v, (g->n + 1) * sizeof(*g->v));
	x = &g->v[g->n++];
	x->t = e->t;
	x->code = e->code;
	x->data = malloc(e->len + 1);
	memcpy(x->data, e->data, e->len);
	x->len = e->len;
	x->cols = e->cols;
	x->rows = e->rows;
	x->status = e->status;
	return 0;
}

TEST(round_trip)
{
	static const struct cast_parse_ops ops = { on_header, on_event };
	struct cast_header h = { 120, 40, 1, 1700000000, NULL, "t\xc3\xa9st",
				 "/bin/sh", "xterm", 2 };
	struct buf out = BUF_INIT;
	struct cast_writer w;
	struct ev want[400];
	struct got g;
	size_t n = 0;
	int64_t t = 0;

	memset(&g, 0, sizeof(g));
	srand(42);
	cast_writer_init(&w, &out);
	cast_write_header(&w, &h);
	for (int i = 0; i < 400; i++) {
		struct ev *e = &want[n];
		t += rand() % 3 ? rand() % 2000000 : 0;
		e->t = t;
		e->code = "oirm"[rand() % 4];
		e->len = (size_t)(rand() % 8);
		e->data = malloc(8);
		/* Valid UTF-8 only, so that nothing is replaced: ASCII
		 * including controls and NUL, and é. */
		for (size_t j = 0; j < e->len; j++)
			e->data[j] = (char)(rand() % 0x80);
		if (e->len >= 2 && rand() % 2) {
			e->data[0] = '\xc3';
			e->data[1] = '\xa9';
		}
		e->cols = 1 + rand() % 300;
		e->rows = 1 + rand() % 100;
		if (e->code == 'r')
			cast_write_resize(&w, t, e->cols, e->rows);
		else if (e->code == 'm')
			cast_write_marker(&w, t, e->data, e->len);
		else
			cast_write_bytes(&w, t, e->code, e->data, e->len);
		if ((e->code == 'o' || e->code == 'i') && e->len == 0) {
			free(e->data);
			continue;	/* not written */
		}
		n++;
	}
	cast_writer_finish(&w);
	ASSERT_OK(cast_parse("rt.cast", out.data, out.len, &ops, &g, NULL));
	ASSERT_EQ(g.h.width, 120);
	ASSERT_EQ(g.h.height, 40);
	ASSERT_EQ(g.h.timestamp, 1700000000);
	ASSERT_STREQ(g.title, "tést");
	ASSERT_EQ(g.n, n);
	for (size_t i = 0; i < n; i++) {
		/* Times go through microseconds. */
		ASSERT_EQ(g.v[i].t / 1000, (want[i].t + 500) / 1000);
		ASSERT_EQ(g.v[i].code, want[i].code);
		if (want[i].code == 'r') {
			ASSERT_EQ(g.v[i].cols, want[i].cols);
			ASSERT_EQ(g.v[i].rows, want[i].rows);
		} else {
			ASSERT_EQ(g.v[i].len, want[i].len);
			ASSERT_MEMEQ(g.v[i].data, want[i].data, want[i].len);
		}
		free(want[i].data);
		free(g.v[i].data);
	}
	free(g.v);
	buf_release(&out);
}

TEST(parse_errors_name_the_line)
{
	static const struct { const char *in, *msg; } cases[] = {
		{ "", "x.cast: line 1: the file is empty" },
		{ "{\"version\": 4}\n", "x.cast: line 1: asciicast version 4 is not supported, only versions 2 and 3" },
		{ "{\"version\": 3, \"term\": {}}\n", "x.cast: line 1: \"term\" has no \"cols\"" },
		{ "{\"version\": 3, \"width\": 80, \"height\": 24}\n", "x.cast: line 1: the header has no \"term\" object" },
		{ "{\"version\": 3, \"term\": {\"cols\": 1, \"rows\": 1}}\n# a comment\n[0.5, \"x\", \"zero\"]\n",
		  "x.cast: line 3: the data of an \"x\" event must be the exit status" },
		{ "{\"version\": 3, \"term\": {\"cols\": 1, \"rows\": 1}}\n[-0.5, \"o\", \"a\"]\n",
		  "x.cast: line 2: the interval must be a number of seconds since the previous event" },
		{ "{\"version\": 3, \"term\": {\"cols\": 1, \"rows\": 1}}\n[1, \"o\"]\n",
		  "x.cast: line 2: expected [interval, code, data] (see the asciicast v3 format)" },
		{ "# not a header\n", "x.cast: line 1: column 1: " },
		{ "{\"version\": 2, \"width\": 1, \"height\": 1}\n# v2 has no comments\n", "x.cast: line 2: column 1: " },
		{ "{\"version\": 2, \"width\": 1, \"height\": 1}\n[1, \"o\", \"a\"]\n[0.5, \"o\", \"b\"]\n",
		  "x.cast: line 3: time 0.500000 is before" },
		{ "{\"version\": 2, \"width\": 1, \"height\": 1}\n[1, \"o\"]\n",
		  "x.cast: line 2: expected [time, code, data]" },
		{ "{\"version\": 2, \"width\": 1, \"height\": 1}\n[1, \"r\", \"80x\"]\n",
		  "x.cast: line 2: the data of an \"r\" event" },
		{ "{\"version\": 2, \"width\": 1, \"height\": 1}\n\n",
		  "x.cast: line 2: blank line" },
	};
	static const struct cast_parse_ops ops = { NULL, NULL };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ASSERT_EQ(cast_parse("x.cast", cases[i].in, strlen(cases[i].in),
				     &ops, NULL, NULL), LT_EINVAL);
		if (strncmp(lt_errmsg(), cases[i].msg, strlen(cases[i].msg)))
			TEST_FAIL("got '%s', want '%s...'", lt_errmsg(),
				  cases[i].msg);
	}
}

/* v3: intervals add up to times since the start, comments are skipped,
 * the size is in "term" and its type stands for TERM, "x" gives the exit
 * status; an unknown code is skipped as in v2. */
TEST(v3_reads_as_times_since_the_start)
{
	static const char in[] =
		"{\"version\": 3, \"term\": {\"cols\": 90, \"rows\": 30, "
		"\"type\": \"xterm-256color\"}, \"timestamp\": 1700000000, "
		"\"title\": \"v3\", \"env\": {\"SHELL\": \"/bin/zsh\"}}\n"
		"# a comment after the header\n"
		"[0.25, \"o\", \"hello\"]\n"
		"[1.5, \"r\", \"100x40\"]\n"
		"#\n"
		"[0, \"m\", \"\"]\n"
		"[0.125, \"?\", \"unknown\"]\n"
		"[2, \"x\", \"3\"]";
	static const struct cast_parse_ops ops = { on_header, on_event };
	static const int64_t ms[] = { 250, 1750, 1750, 3875 };
	struct cast_parse_stats st;
	struct got g;

	memset(&g, 0, sizeof(g));
	ASSERT_OK(cast_parse("v3.cast", in, strlen(in), &ops, &g, &st));
	ASSERT_EQ(g.h.version, 3);
	ASSERT_EQ(g.h.width, 90);
	ASSERT_EQ(g.h.height, 30);
	ASSERT_EQ(g.h.timestamp, 1700000000);
	ASSERT_STREQ(g.title, "v3");
	ASSERT_EQ(g.n, 4);
	ASSERT_EQ(st.events, 4);
	ASSERT_EQ(st.skipped, 1);
	ASSERT_EQ(st.first_skipped, 7);
	for (size_t i = 0; i < 4; i++)
		ASSERT_EQ(g.v[i].t, ms[i] * 1000000);
	ASSERT_EQ(g.v[0].code, 'o');
	ASSERT_EQ(g.v[1].code, 'r');
	ASSERT_EQ(g.v[1].cols, 100);
	ASSERT_EQ(g.v[2].code, 'm');
	ASSERT_EQ(g.v[3].code, 'x');
	ASSERT_EQ(g.v[3].status, 3);
	for (size_t i = 0; i < g.n; i++)
		free(g.v[i].data);
	free(g.v);
}

TEST_LIST = {
	TEST_ENTRY(replacement_like_python),
	TEST_ENTRY(escapes),
	TEST_ENTRY(carry_per_code),
	TEST_ENTRY(round_trip),
	TEST_ENTRY(parse_errors_name_the_line),
	TEST_ENTRY(v3_reads_as_times_since_the_start),
	TEST_END,
};
TEST_MAIN()
