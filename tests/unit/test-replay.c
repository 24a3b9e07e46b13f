/* Unit tests for the piece-table replay (src/text/replay.c), held to the
 * naive way: text_apply() on a flat buffer. */
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "text.h"
#include "xalloc.h"
#include "test.h"

/* splitmix64 with a fixed seed: every run tests the same cases. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static size_t rnd(size_t n)
{
	return n ? (size_t)(rng() % n) : 0;
}

/* ASCII, a newline, U+0000, and 2-, 3- and 4-byte sequences. */
static const char *const glyphs[] = {
	"a", "b", "z", " ", "\n", "\0", "\xc3\xa9", "\xce\xbb",
	"\xe2\x82\xac", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf",
};

static void add_random(struct buf *b, size_t cps)
{
	for (size_t i = 0; i < cps; i++) {
		const char *g = glyphs[rnd(sizeof(glyphs) / sizeof(*glyphs))];
		buf_add(b, g, *g ? strlen(g) : 1);
	}
}

/*
 * A random edit of doc: an insert, a delete or a replace at a random
 * place, made mostly of short texts (typing) and sometimes of long ones
 * (pasting, or cutting up to the end) unless short is set. Its texts go
 * into ins and del, which the edit points at.
 */
static void random_edit(const struct buf *doc, int short_only,
			struct buf *ins, struct buf *del, struct text_edit *e)
{
	uint64_t cps = text_utf8_count(doc->data, doc->len);
	int op = cps ? 1 + (int)rnd(3) : TEXT_INSERT;
	size_t start, end;

	buf_reset(ins);
	buf_reset(del);
	e->op = (enum text_op)op;
	e->pos = rnd(cps + 1);
	e->len = 0;
	if (op != TEXT_INSERT) {
		if (e->pos == cps)
			e->pos--;
		e->len = 1 + rnd(short_only || rnd(8) ? 4 : cps - e->pos);
		if (e->len > cps - e->pos)
			e->len = cps - e->pos;
		start = text_utf8_offset(doc->data, doc->len, e->pos);
		end = text_utf8_offset(doc->data, doc->len, e->pos + e->len);
		buf_add(del, doc->data + start, end - start);
	}
	if (op != TEXT_DELETE)
		add_random(ins, 1 + rnd(short_only || rnd(8) ? 5 : 200));
	e->ins = ins->data;
	e->ins_len = ins->len;
	e->del = del->data;
	e->del_len = del->len;
}

static void assert_same(const struct text_replay *r, const struct buf *want)
{
	struct buf got = BUF_INIT;

	ASSERT_EQ(r->bytes, want->len);
	ASSERT_EQ(r->cps, text_utf8_count(want->data, want->len));
	ASSERT_OK(text_replay_get(r, &got));
	ASSERT_EQ(got.len, want->len);
	ASSERT_MEMEQ(got.data, want->data, want->len);
	buf_release(&got);
}

TEST(replay_empty)
{
	struct text_replay r = TEXT_REPLAY_INIT;
	struct buf out = BUF_INIT;
	struct text_edit e = { TEXT_INSERT, 0, 0, "h\xc3\xa9", 3, "", 0 };

	text_replay_reset(&r, "", 0);
	ASSERT_OK(text_replay_get(&r, &out));
	ASSERT_EQ(out.len, 0);
	ASSERT_OK(text_replay_apply(&r, &e));
	e.pos = 2;
	e.ins = "!";
	e.ins_len = 1;
	ASSERT_OK(text_replay_apply(&r, &e));
	ASSERT_OK(text_replay_get(&r, &out));
	ASSERT_STREQ(out.data, "h\xc3\xa9!");
	ASSERT_EQ(r.cps, 3);
	text_replay_release(&r);
	buf_release(&out);
}

TEST(replay_simple)
{
	static const char snap[] = "h\xc3\xa9llo w\xf0\x9f\x98\x80rld";
	struct text_replay r = TEXT_REPLAY_INIT;
	struct buf out = BUF_INIT;
	struct text_edit ins = { TEXT_INSERT, 6, 0, "big ", 4, "", 0 };
	struct text_edit rep = { TEXT_REPLACE, 1, 4, "ey", 2,
				 "\xc3\xa9llo", 5 };
	struct text_edit del = { TEXT_DELETE, 9, 2, "", 0,
				 "\xf0\x9f\x98\x80r", 5 };

	text_replay_reset(&r, snap, sizeof(snap) - 1);
	ASSERT_EQ(r.cps, 11);
	ASSERT_OK(text_replay_apply(&r, &ins));
	ASSERT_OK(text_replay_apply(&r, &rep));
	ASSERT_OK(text_replay_apply(&r, &del));
	ASSERT_OK(text_replay_get(&r, &out));
	ASSERT_STREQ(out.data, "hey big wld");
	buf_reset(&out);
	/* The snapshot was not touched. */
	ASSERT_STREQ(snap, "h\xc3\xa9llo w\xf0\x9f\x98\x80rld");

	/* A record without the deleted text: len code points go unchecked. */
	{
		struct text_edit blind = { TEXT_DELETE, 1, 2, "", 0, NULL, 0 };
		struct text_edit bad = { TEXT_INSERT, 1, 2, "x", 1, NULL, 0 };
		ASSERT_OK(text_replay_apply(&r, &blind));
		ASSERT_EQ(text_replay_apply(&r, &bad), LT_ECORRUPT);
		buf_reset(&out);
		ASSERT_OK(text_replay_get(&r, &out));
		ASSERT_STREQ(out.data, "h big wld");
		ASSERT_EQ(r.bytes, 9);
		ASSERT_EQ(r.cps, 9);
	}

	/* Reset drops everything. */
	text_replay_reset(&r, "x", 1);
	buf_reset(&out);
	ASSERT_OK(text_replay_get(&r, &out));
	ASSERT_STREQ(out.data, "x");
	text_replay_release(&r);
	buf_release(&out);
}

/* Edits that do not fit are refused like text_apply() refuses them, and
 * the text stays as it was. */
TEST(replay_checks)
{
	static const char snap[] = "abc\xc3\xa9" "def";
	static const struct text_edit bad[] = {
		{ TEXT_INSERT, 8, 0, "x", 1, "", 0 },		/* past end */
		{ TEXT_DELETE, 6, 2, "", 0, "fg", 2 },		/* past end */
		{ TEXT_DELETE, 2, 2, "", 0, "c\xc3\xa8", 3 },	/* mismatch */
		{ TEXT_DELETE, 2, 1, "", 0, "c\xc3\xa9", 3 },	/* len */
		{ TEXT_INSERT, 2, 0, "", 0, "", 0 },		/* empty */
		{ TEXT_REPLACE, 2, 1, "", 0, "c", 1 },		/* no ins */
		{ TEXT_INSERT, 2, 0, "\xc3", 1, "", 0 },	/* UTF-8 */
		{ TEXT_INSERT, 2, 0, "\xed\xa0\x80", 3, "", 0 },/* surrogate */
		{ (enum text_op)9, 2, 0, "x", 1, "", 0 },	/* op */
	};
	struct text_replay r = TEXT_REPLAY_INIT;
	struct buf doc = BUF_INIT;

	text_replay_reset(&r, snap, sizeof(snap) - 1);
	buf_addstr(&doc, snap);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		ASSERT_EQ(text_apply(&doc, &bad[i]), LT_ECORRUPT);
		ASSERT_EQ(text_replay_apply(&r, &bad[i]), LT_ECORRUPT);
		assert_same(&r, &doc);
	}
	/* A mismatch found after splitting the pieces changes nothing. */
	{
		struct text_edit split = { TEXT_INSERT, 5, 0, "XY", 2, "", 0 };
		struct text_edit mis = { TEXT_DELETE, 4, 3, "", 0, "\xc3\xa9XZ", 4 };
		ASSERT_OK(text_apply(&doc, &split));
		ASSERT_OK(text_replay_apply(&r, &split));
		ASSERT_EQ(text_replay_apply(&r, &mis), LT_ECORRUPT);
		assert_same(&r, &doc);
	}
	text_replay_release(&r);
	buf_release(&doc);
}

/*
 * Random texts, random edits: after every edit the replay holds what
 * text_apply() makes of the same edits on a flat buffer. The last rounds
 * are long runs of small edits that pass MAX_PIECES, to test compaction.
 */
TEST(replay_random)
{
	struct text_replay r = TEXT_REPLAY_INIT;
	struct buf doc = BUF_INIT, snap = BUF_INIT, ins = BUF_INIT,
		   del = BUF_INIT;
	struct text_edit e;
	int compacted = 0;

	rng_state = 42;
	for (int round = 0; round < 60; round++) {
		size_t nedits = round < 50 ? 1 + rnd(200) : 3000;

		buf_reset(&snap);
		add_random(&snap, rnd(4) ? rnd(2000) : 0);
		buf_reset(&doc);
		buf_add(&doc, snap.data, snap.len);
		text_replay_reset(&r, snap.data, snap.len);
		assert_same(&r, &doc);
		for (size_t i = 0; i < nedits; i++) {
			size_t before = r.n;

			random_edit(&doc, round >= 50, &ins, &del, &e);
			ASSERT_OK(text_apply(&doc, &e));
			ASSERT_OK(text_replay_apply(&r, &e));
			compacted |= before > 1000 && r.n == 1;
			if (i % 7 == 0 || i == nedits - 1)
				assert_same(&r, &doc);
			else
				ASSERT_EQ(r.bytes, doc.len);
		}
		ASSERT(r.n <= 1024);
	}
	ASSERT(compacted);
	text_replay_release(&r);
	buf_release(&doc);
	buf_release(&snap);
	buf_release(&ins);
	buf_release(&del);
}

/* Typing: consecutive inserts grow one piece; backspacing cuts it. */
TEST(replay_typing)
{
	struct text_replay r = TEXT_REPLAY_INIT;
	struct buf doc = BUF_INIT;
	static const char snap[] = "0123456789";
	struct text_edit e;
	char c[2] = "a";

	text_replay_reset(&r, snap, 10);
	buf_addstr(&doc, snap);
	for (int i = 0; i < 500; i++) {
		e = (struct text_edit){ TEXT_INSERT, 5 + (uint64_t)i, 0, c, 1,
					"", 0 };
		ASSERT_OK(text_apply(&doc, &e));
		ASSERT_OK(text_replay_apply(&r, &e));
		c[0] = (char)('a' + i % 26);
	}
	ASSERT_EQ(r.n, 3);
	for (int i = 0; i < 100; i++) {
		uint64_t pos = 504 - (uint64_t)i;
		size_t off = text_utf8_offset(doc.data, doc.len, pos);
		char d[2] = { doc.data[off], 0 };
		e = (struct text_edit){ TEXT_DELETE, pos, 1, "", 0, d, 1 };
		ASSERT_OK(text_apply(&doc, &e));
		ASSERT_OK(text_replay_apply(&r, &e));
	}
	ASSERT_EQ(r.n, 3);
	assert_same(&r, &doc);
	text_replay_release(&r);
	buf_release(&doc);
}

TEST_LIST = {
	TEST_ENTRY(replay_empty),
	TEST_ENTRY(replay_simple),
	TEST_ENTRY(replay_checks),
	TEST_ENTRY(replay_random),
	TEST_ENTRY(replay_typing),
	TEST_END,
};

TEST_MAIN()
