/* Unit tests for src/text: UTF-8 helpers, the diff, applying edits. */
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "error.h"
#include "text.h"
#include "text-int.h"
#include "xalloc.h"
#include "test.h"

/* -- Helpers ------------------------------------------------------------ */

/* splitmix64: a fixed-seed generator, so every run tests the same cases. */
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

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Diffs a -> b, checks everything that must hold of any result, and
 * returns the edits in e (caller releases). */
static void diff_checked(const char *a, size_t alen, const char *b,
			 size_t blen, uint64_t max_work, struct text_edits *e)
{
	struct text_diff_opts opts = { max_work };
	struct buf doc = BUF_INIT;
	uint64_t end = 0, bpos = 0;
	size_t boff = 0;

	ASSERT_OK(text_diff(a, alen, b, blen, &opts, e));
	ASSERT_OK(buf_add(&doc, a, alen));
	for (size_t i = 0; i < e->n; i++) {
		const struct text_edit *t = &e->v[i];

		/* In order, never touching: common text lies between. */
		ASSERT(i == 0 || t->pos > end);
		ASSERT(t->ins != NULL && t->del != NULL);
		ASSERT_EQ(t->ins[t->ins_len], 0);
		ASSERT_EQ(t->del[t->del_len], 0);
		ASSERT_EQ(t->len, text_utf8_count(t->del, t->del_len));
		ASSERT_EQ(t->op, !t->del_len ? TEXT_INSERT
				 : !t->ins_len ? TEXT_DELETE : TEXT_REPLACE);
		/* pos is where ins starts in b. */
		size_t skip = text_utf8_offset(b + boff, blen - boff,
					       t->pos - bpos);
		ASSERT(skip != SIZE_MAX && t->ins_len <= blen - boff - skip);
		boff += skip;
		bpos = t->pos;
		ASSERT_MEMEQ(b + boff, t->ins, t->ins_len);
		ASSERT_OK(text_apply(&doc, t));
		end = t->pos + text_utf8_count(t->ins, t->ins_len);
	}
	ASSERT_EQ(doc.len, blen);
	ASSERT_MEMEQ(doc.data, b, blen);
	buf_release(&doc);
}

static void add_escaped(struct buf *out, const char *s, size_t n)
{
	buf_addch(out, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			buf_addstr(out, "\\n");
		else
			buf_addch(out, s[i]);
	}
	buf_addch(out, '"');
}

/* The edits of a -> b as text: `replace 1 1 "è" "é"; insert ...`. */
static const char *diff_str(const char *a, const char *b)
{
	static struct buf out = BUF_INIT;
	struct text_edits e = TEXT_EDITS_INIT;

	diff_checked(a, strlen(a), b, strlen(b), 0, &e);
	buf_reset(&out);
	for (size_t i = 0; i < e.n; i++) {
		const struct text_edit *t = &e.v[i];

		buf_addf(&out, "%s%s %llu %llu ", i ? "; " : "",
			 text_op_name(t->op), (unsigned long long)t->pos,
			 (unsigned long long)t->len);
		add_escaped(&out, t->ins, t->ins_len);
		buf_addch(&out, ' ');
		add_escaped(&out, t->del, t->del_len);
	}
	text_edits_release(&e);
	return out.data;
}

/* Pieces random texts are made of: ASCII and 2-, 3- and 4-byte UTF-8. */
static const char *const pieces[] = {
	"a", "b", "c", "e", "t", " ", " ", "x", "é", "è", "€", "日", "本",
	"😀", "\t", "foo", "bar", "()", ";", "Ω",
};
#define NPIECES (sizeof(pieces) / sizeof(pieces[0]))

static void add_random_run(struct buf *b, size_t max)
{
	for (size_t k = rnd(max + 1); k > 0; k--)
		buf_addstr(b, pieces[rnd(NPIECES)]);
}

static void random_doc(struct buf *b, size_t maxlines, size_t maxline)
{
	buf_reset(b);
	for (size_t n = rnd(maxlines + 1); n > 0; n--) {
		add_random_run(b, maxline);
		if (n > 1 || rnd(2))
			buf_addch(b, '\n');
	}
}

/* One random change of doc: insert, delete, replace, copy or move a
 * stretch (at code point boundaries). */
static void mutate(struct buf *doc)
{
	struct buf out = BUF_INIT, ins = BUF_INIT;
	uint64_t n = text_utf8_count(doc->data, doc->len);
	uint64_t p = rnd(n + 1), len = rnd(n - p + 1) % 24;
	size_t off = text_utf8_offset(doc->data, doc->len, p);
	size_t end = text_utf8_offset(doc->data, doc->len, p + len);
	int kind = (int)rnd(5);

	if (kind == 0 || kind == 2)
		add_random_run(&ins, 6);
	if (kind == 3) {		/* copy of another stretch */
		uint64_t q = rnd(n + 1), l = rnd(n - q + 1) % 200;
		size_t o = text_utf8_offset(doc->data, doc->len, q);
		buf_add(&ins, doc->data + o,
			text_utf8_offset(doc->data, doc->len, q + l) - o);
	}
	if (kind == 4)
		buf_addch(&ins, '\n');
	buf_add(&out, doc->data, off);
	buf_add(&out, ins.data, ins.len);
	buf_add(&out, doc->data + (kind == 0 || kind == 3 || kind == 4 ? off
								      : end),
		doc->len - (kind == 0 || kind == 3 || kind == 4 ? off : end));
	buf_release(&ins);
	buf_release(doc);
	*doc = out;
}

/* The number of code points an edit list deletes and inserts. */
static uint64_t touched(const struct text_edits *e)
{
	uint64_t n = 0;

	for (size_t i = 0; i < e->n; i++)
		n += e->v[i].len +
		     text_utf8_count(e->v[i].ins, e->v[i].ins_len);
	return n;
}

/* -- UTF-8 ---------------------------------------------------------------- */

#define CHECK_VALID(s)                                                         \
	ASSERT_EQ(text_utf8_check(s, sizeof(s) - 1), sizeof(s) - 1)
#define CHECK_BAD(s, at) ASSERT_EQ(text_utf8_check(s, sizeof(s) - 1), at)

TEST(utf8_valid)
{
	CHECK_VALID("");
	CHECK_VALID("plain ASCII, long enough for the word-at-a-time path");
	CHECK_VALID("\0nul");
	CHECK_VALID("\x7f");
	CHECK_VALID("\xc2\x80");		/* U+0080 */
	CHECK_VALID("\xc3\xa9");		/* é */
	CHECK_VALID("\xdf\xbf");		/* U+07FF */
	CHECK_VALID("\xe0\xa0\x80");		/* U+0800 */
	CHECK_VALID("\xe2\x82\xac");		/* € */
	CHECK_VALID("\xed\x9f\xbf");		/* U+D7FF */
	CHECK_VALID("\xee\x80\x80");		/* U+E000 */
	CHECK_VALID("\xef\xbf\xbf");		/* U+FFFF */
	CHECK_VALID("\xf0\x90\x80\x80");	/* U+10000 */
	CHECK_VALID("\xf0\x9f\x98\x80");	/* 😀 */
	CHECK_VALID("\xf4\x8f\xbf\xbf");	/* U+10FFFF */
	CHECK_VALID("h\xc3\xa9llo \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80!");
}

TEST(utf8_invalid)
{
	/* Overlong forms. */
	CHECK_BAD("ab\xc0\x80", 2);
	CHECK_BAD("ab\xc1\xbf", 2);
	CHECK_BAD("ab\xe0\x80\x80", 2);
	CHECK_BAD("ab\xe0\x9f\xbf", 2);
	CHECK_BAD("ab\xf0\x80\x80\x80", 2);
	CHECK_BAD("ab\xf0\x8f\xbf\xbf", 2);
	/* Surrogates. */
	CHECK_BAD("ab\xed\xa0\x80", 2);
	CHECK_BAD("ab\xed\xbf\xbf", 2);
	/* Above U+10FFFF. */
	CHECK_BAD("ab\xf4\x90\x80\x80", 2);
	CHECK_BAD("ab\xf5\x80\x80\x80", 2);
	CHECK_BAD("ab\xf8\x88\x80\x80\x80", 2);
	CHECK_BAD("ab\xff", 2);
	CHECK_BAD("ab\xfe", 2);
	/* Truncated at the end, or cut by another byte. */
	CHECK_BAD("ab\xc3", 2);
	CHECK_BAD("ab\xe2\x82", 2);
	CHECK_BAD("ab\xf0\x9f\x98", 2);
	CHECK_BAD("ab\xc3\x41", 2);
	CHECK_BAD("ab\xe2\x41\xac", 2);
	CHECK_BAD("ab\xf0\x9f\x41\x80", 2);
	/* Lone continuation bytes. */
	CHECK_BAD("\x80", 0);
	CHECK_BAD("\xc3\xa9\xa9", 2);
	/* After a long ASCII run (the fast path) and after valid sequences. */
	CHECK_BAD("0123456789abcdefghijklmnopqrstuvwxyz!\x80", 37);
	CHECK_BAD("\xe2\x82\xac\xe2\x82\xac\xf0\x9f\x98\x80\xed\xa0\x80", 10);
}

/* A slow, obviously right validator: decode, then check the value. */
static size_t ref_check(const unsigned char *s, size_t n)
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
		cp = c & (0xff >> (len + 1));
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

TEST(utf8_check_matches_reference)
{
	static const unsigned char bytes[] = {
		0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0,
		0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xee, 0xef, 0xf0, 0xf1,
		0xf4, 0xf5, 0xff,
	};
	unsigned char s[24];

	rng_state = 1;
	for (int iter = 0; iter < 200000; iter++) {
		size_t n = rnd(sizeof(s) + 1);

		for (size_t i = 0; i < n; i++)
			s[i] = rnd(3) ? bytes[rnd(sizeof(bytes))]
				      : (unsigned char)rng();
		ASSERT_EQ(text_utf8_check((const char *)s, n), ref_check(s, n));
	}
}

TEST(utf8_count_offset_decode)
{
	const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z"; /* aé€😀z */
	size_t n = strlen(s);
	static const size_t offs[] = { 0, 1, 3, 6, 10, 11 };
	uint32_t u[8];
	struct buf b = BUF_INIT;

	ASSERT_EQ(text_utf8_count(s, n), 5);
	ASSERT_EQ(text_utf8_count("", 0), 0);
	for (uint64_t cp = 0; cp <= 5; cp++)
		ASSERT_EQ(text_utf8_offset(s, n, cp), offs[cp]);
	ASSERT_EQ(text_utf8_offset(s, n, 6), SIZE_MAX);
	ASSERT_EQ(text_utf8_offset("", 0, 0), 0);
	ASSERT_EQ(text_utf8_offset("", 0, 1), SIZE_MAX);
	ASSERT_EQ(text_utf8_decode(s, n, u), 5);
	ASSERT_EQ(u[0], 'a');
	ASSERT_EQ(u[1], 0xe9);
	ASSERT_EQ(u[2], 0x20ac);
	ASSERT_EQ(u[3], 0x1f600);
	ASSERT_EQ(u[4], 'z');

	/* Long random texts: the word-at-a-time paths against a byte loop. */
	rng_state = 2;
	for (int iter = 0; iter < 300; iter++) {
		uint64_t count = 0;

		random_doc(&b, 8, 20);
		for (size_t i = 0; i < b.len; i++) {
			if (((unsigned char)b.data[i] & 0xc0) == 0x80)
				continue;
			ASSERT_EQ(text_utf8_offset(b.data, b.len, count), i);
			count++;
		}
		ASSERT_EQ(text_utf8_count(b.data, b.len), count);
		/* Every start and length: the 16- and 8-byte steps and the
		 * bytes after them, each cut anywhere. */
		for (size_t from = 0; iter < 20 && from < 40 && from < b.len;
		     from++) {
			uint64_t c = 0;

			for (size_t k = from; k <= b.len; k++) {
				ASSERT_EQ(text_utf8_count(b.data + from, k - from), c);
				if (k < b.len)
					c += ((unsigned char)b.data[k] & 0xc0) != 0x80;
			}
		}
		ASSERT_EQ(text_utf8_offset(b.data, b.len, count), b.len);
		ASSERT_EQ(text_utf8_offset(b.data, b.len, count + 1), SIZE_MAX);
		ASSERT_EQ(text_utf8_check(b.data, b.len), b.len);
		uint32_t *v = xmalloc((count + 1) * sizeof(*v));
		ASSERT_EQ(text_utf8_decode(b.data, b.len, v), count);
		free(v);
	}
	/* Longer than 255 steps of 16 bytes (where the counts are added up
	 * and start again), cut at every length around there. */
	{
		struct buf big = BUF_INIT;
		uint64_t c = 0;

		while (big.len < 9000) {
			random_doc(&b, 8, 20);
			buf_add(&big, b.data, b.len);
		}
		for (size_t k = 0; k <= big.len; k++) {
			if ((k > 3900 && k < 4300) || k % 97 == 0 || k == big.len)
				ASSERT_EQ(text_utf8_count(big.data, k), c);
			if (k < big.len)
				c += ((unsigned char)big.data[k] & 0xc0) != 0x80;
		}
		/* The same lanes full of continuation bytes step after step. */
		buf_reset(&big);
		for (int k = 0; k < 5000; k++)
			buf_addstr(&big, "\xc3\xa9");
		ASSERT_EQ(text_utf8_count(big.data, big.len), 5000);
		buf_release(&big);
	}
	buf_release(&b);
}

/* -- Diff: exact expectations ---------------------------------------------- */

TEST(diff_identical_and_empty)
{
	ASSERT_STREQ(diff_str("", ""), "");
	ASSERT_STREQ(diff_str("abc\n", "abc\n"), "");
	ASSERT_STREQ(diff_str("", "abc\n"), "insert 0 0 \"abc\\n\" \"\"");
	ASSERT_STREQ(diff_str("abc\n", ""), "delete 0 4 \"\" \"abc\\n\"");
}

TEST(diff_single_char)
{
	ASSERT_STREQ(diff_str("hello world\n", "hello, world\n"),
		     "insert 5 0 \",\" \"\"");
	ASSERT_STREQ(diff_str("hello, world\n", "hello world\n"),
		     "delete 5 1 \"\" \",\"");
	ASSERT_STREQ(diff_str("cat", "cut"), "replace 1 1 \"u\" \"a\"");
	ASSERT_STREQ(diff_str("xbc", "abc"), "replace 0 1 \"a\" \"x\"");
	ASSERT_STREQ(diff_str("abc", "abd"), "replace 2 1 \"d\" \"c\"");
	ASSERT_STREQ(diff_str("abc", "abcd"), "insert 3 0 \"d\" \"\"");
	ASSERT_STREQ(diff_str("abc", "ab"), "delete 2 1 \"\" \"c\"");
}

TEST(diff_counts_code_points)
{
	ASSERT_STREQ(diff_str("h\xc3\xa9llo", "h\xc3\xa8llo"),
		     "replace 1 1 \"\xc3\xa8\" \"\xc3\xa9\"");
	/* é and è share their first byte: the edit still covers whole
	 * code points. */
	ASSERT_STREQ(diff_str("a\xf0\x9f\x98\x80" "b", "a\xf0\x9f\x98\x81" "b"),
		     "replace 1 1 \"\xf0\x9f\x98\x81\" \"\xf0\x9f\x98\x80\"");
	/* 日本語\nテキスト\n -> 日本語\nテクスト\n */
	ASSERT_STREQ(diff_str("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\n"
			      "\xe3\x83\x86\xe3\x82\xad"
			      "\xe3\x82\xb9\xe3\x83\x88\n",
			      "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\n"
			      "\xe3\x83\x86\xe3\x82\xaf"
			      "\xe3\x82\xb9\xe3\x83\x88\n"),
		     "replace 5 1 \"\xe3\x82\xaf\" \"\xe3\x82\xad\"");
	ASSERT_STREQ(diff_str("\xc3\xa9", "e\xcc\x81"),
		     "replace 0 1 \"e\xcc\x81\" \"\xc3\xa9\"");
}

TEST(diff_lines)
{
	ASSERT_STREQ(diff_str("a\nb\nc\n", "a\nb\nx\ny\nc\n"),
		     "insert 4 0 \"x\\ny\\n\" \"\"");
	ASSERT_STREQ(diff_str("a\nb\nc\nd\n", "a\nd\n"),
		     "delete 2 4 \"\" \"b\\nc\\n\"");
	ASSERT_STREQ(diff_str("one\ntwo\nthree\n", "One\ntwo\nthreE\n"),
		     "replace 0 1 \"O\" \"o\"; replace 12 1 \"E\" \"e\"");
	/* Positions are counted after the earlier edits: "cd" is at 4 in a
	 * but at 5 once X is in. */
	ASSERT_STREQ(diff_str("ab\ncd\n", "Xab\ncd!\n"),
		     "insert 0 0 \"X\" \"\"; insert 6 0 \"!\" \"\"");
	ASSERT_STREQ(diff_str("first line\nmiddle\nlast line\n",
			      "first line\nlast line\n"),
		     "delete 11 7 \"\" \"middle\\n\"");
	/* A line split in two, and two joined. */
	ASSERT_STREQ(diff_str("alpha beta\n", "alpha\nbeta\n"),
		     "replace 5 1 \"\\n\" \" \"");
	ASSERT_STREQ(diff_str("x\nalpha\nbeta\ny\n", "x\nalphabeta\ny\n"),
		     "delete 7 1 \"\" \"\\n\"");
	/* A changed word in each of two far-apart lines of a long text. */
	ASSERT_STREQ(diff_str("int main(void)\n{\n\treturn 0;\n}\n",
			      "int main(int argc)\n{\n\treturn 1;\n}\n"),
		     "replace 9 4 \"int argc\" \"void\"; "
		     "replace 29 1 \"1\" \"0\"");
}

TEST(diff_folds_slivers)
{
	/* "b" alone is no reason to split a rewrite in two. */
	ASSERT_STREQ(diff_str("abc", "xbz"), "replace 0 3 \"xbz\" \"abc\"");
	/* ", " is longer than the changes around it: two edits. */
	ASSERT_STREQ(diff_str("foo(a, b)", "foo(x, y)"),
		     "replace 4 1 \"x\" \"a\"; replace 7 1 \"y\" \"b\"");
	ASSERT_STREQ(diff_str("the cat sat\n", "a dog ran\n"),
		     "replace 0 11 \"a dog ran\" \"the cat sat\"");
}

TEST(diff_rejects_invalid_utf8)
{
	struct text_edits e = TEXT_EDITS_INIT;

	ASSERT_EQ(text_diff("ok", 2, "b\xff", 3, NULL, &e), LT_EINVAL);
	ASSERT(strstr(lt_errmsg(), "byte 1") != NULL);
	ASSERT_EQ(e.n, 0);
	ASSERT_EQ(text_diff("\xed\xa0\x80", 3, "ok", 2, NULL, &e), LT_EINVAL);
	ASSERT(strstr(lt_errmsg(), "old text") != NULL);
	ASSERT_EQ(e.n, 0);
	/* NULL with length 0 is the empty text. */
	ASSERT_OK(text_diff(NULL, 0, "x", 1, NULL, &e));
	ASSERT_EQ(e.n, 1);
	ASSERT_OK(text_diff("x", 1, NULL, 0, NULL, &e));
	ASSERT_EQ(e.n, 1);
	ASSERT_EQ(e.v[0].op, TEXT_DELETE);
	text_edits_release(&e);
}

TEST(apply_checks)
{
	struct buf doc = BUF_INIT;
	struct text_edit e = { TEXT_REPLACE, 1, 1, "\xc3\xa8", 2, "\xc3\xa9",
			       2 };

	ASSERT_OK(buf_addstr(&doc, "h\xc3\xa9llo"));
	ASSERT_OK(text_apply(&doc, &e));
	ASSERT_STREQ(doc.data, "h\xc3\xa8llo");
	/* The deleted text is not there any more. */
	ASSERT_EQ(text_apply(&doc, &e), LT_ECORRUPT);
	ASSERT_STREQ(doc.data, "h\xc3\xa8llo");
	/* Past the end; at the very end is fine for an insert. */
	e = (struct text_edit){ TEXT_INSERT, 6, 0, "!", 1, "", 0 };
	ASSERT_EQ(text_apply(&doc, &e), LT_ECORRUPT);
	e.pos = 5;
	ASSERT_OK(text_apply(&doc, &e));
	ASSERT_STREQ(doc.data, "h\xc3\xa8llo!");
	/* len must be del's length; op must fit the texts. */
	e = (struct text_edit){ TEXT_DELETE, 0, 2, "", 0, "h", 1 };
	ASSERT_EQ(text_apply(&doc, &e), LT_ECORRUPT);
	e = (struct text_edit){ TEXT_INSERT, 0, 1, "x", 1, "h", 1 };
	ASSERT_EQ(text_apply(&doc, &e), LT_ECORRUPT);
	e = (struct text_edit){ TEXT_REPLACE, 0, 0, "x", 1, "", 0 };
	ASSERT_EQ(text_apply(&doc, &e), LT_ECORRUPT);
	/* An insert of half a code point. */
	e = (struct text_edit){ TEXT_INSERT, 0, 0, "\xc3", 1, "", 0 };
	ASSERT_EQ(text_apply(&doc, &e), LT_ECORRUPT);
	ASSERT_STREQ(doc.data, "h\xc3\xa8llo!");
	e = (struct text_edit){ TEXT_DELETE, 0, 5, "", 0, "h\xc3\xa8llo", 6 };
	ASSERT_OK(text_apply(&doc, &e));
	ASSERT_STREQ(doc.data, "!");
	/* A capped buffer refuses and keeps its text. */
	doc.cap = 3;
	e = (struct text_edit){ TEXT_INSERT, 0, 0, "abc", 3, "", 0 };
	ASSERT_EQ(text_apply(&doc, &e), LT_ETOOBIG);
	ASSERT_STREQ(doc.data, "!");
	buf_release(&doc);
}

/* -- Diff: properties ------------------------------------------------------ */

/* The Myers core finds a longest common subsequence: brute force agrees,
 * on short sequences and on longer ones that differ in up to 512 items. */
#define MAXSEQ 300
TEST(myers_is_minimal)
{
	static uint32_t a[MAXSEQ], b[MAXSEQ];
	static uint8_t ca[MAXSEQ], cb[MAXSEQ];
	static int lcs[MAXSEQ + 1][MAXSEQ + 1];

	rng_state = 3;
	for (int iter = 0; iter < 20300; iter++) {
		size_t len = iter < 20000 ? 40 : MAXSEQ;
		size_t n = rnd(len + 1), m = rnd(len + 1), k = 1 + rnd(4);
		int64_t work = iter % 5 ? INT64_MAX : (int64_t)rnd(60);
		size_t i, j, same;
		int spent;

		for (i = 0; i < n; i++)
			a[i] = (uint32_t)rnd(k);
		for (j = 0; j < m; j++)
			b[j] = rnd(3) ? (uint32_t)rnd(k) : a[rnd(n)];
		memset(ca, 0, sizeof(ca));
		memset(cb, 0, sizeof(cb));
		spent = text_myers(a, n, b, m, ca, cb, &work);
		/* The unmarked items are a common subsequence... */
		for (i = j = same = 0;; i++, j++, same++) {
			while (i < n && ca[i])
				i++;
			while (j < m && cb[j])
				j++;
			if (i == n || j == m)
				break;
			ASSERT_EQ(a[i], b[j]);
		}
		ASSERT(i == n && j == m);
		if (spent)
			continue;
		/* ... and a longest one. */
		for (i = 0; i <= n; i++) {
			for (j = 0; j <= m; j++) {
				if (!i || !j)
					lcs[i][j] = 0;
				else if (a[i - 1] == b[j - 1])
					lcs[i][j] = lcs[i - 1][j - 1] + 1;
				else if (lcs[i - 1][j] > lcs[i][j - 1])
					lcs[i][j] = lcs[i - 1][j];
				else
					lcs[i][j] = lcs[i][j - 1];
			}
		}
		ASSERT(n + m - 2 * (size_t)lcs[n][m] <= 512);
		ASSERT_EQ(same, lcs[n][m]);
	}
}

/* Random documents, random changes: applying the edits in order always
 * rebuilds the new version, deleting exactly what is there. */
TEST(diff_random_roundtrip)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct text_edits e = TEXT_EDITS_INIT;
	static const uint64_t budgets[] = { 0, 0, 0, 1, 50, 2000 };
	int coarse = 0;

	rng_state = 4;
	for (int iter = 0; iter < 5000; iter++) {
		random_doc(&a, 1 + rnd(60), 1 + rnd(30));
		buf_reset(&b);
		if (iter % 10 == 9) {
			random_doc(&b, 1 + rnd(60), 1 + rnd(30));
		} else {
			buf_add(&b, a.data, a.len);
			for (size_t k = rnd(12); k > 0; k--)
				mutate(&b);
		}
		diff_checked(a.data, a.len, b.data, b.len,
			     budgets[rnd(sizeof(budgets) / sizeof(budgets[0]))],
			     &e);
		coarse += e.coarse;
	}
	/* The small budgets did run out sometimes. */
	ASSERT(coarse > 0);
	text_edits_release(&e);
	buf_release(&a);
	buf_release(&b);
}

/* One changed character in a 10,000-line document is one small edit; a
 * few scattered ones are a few small edits. */
TEST(diff_small_change_small_edit)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct text_edits e = TEXT_EDITS_INIT;

	rng_state = 5;
	for (int iter = 0; iter < 12; iter++) {
		int k = iter < 6 ? 1 : 5;

		buf_reset(&a);
		for (int line = 0; line < 10000; line++) {
			add_random_run(&a, 12);
			buf_addch(&a, '\n');
		}
		buf_reset(&b);
		buf_add(&b, a.data, a.len);
		for (int m = 0; m < k; m++) {
			uint64_t n = text_utf8_count(b.data, b.len);
			uint64_t p = rnd(n);
			size_t off = text_utf8_offset(b.data, b.len, p);
			size_t end = text_utf8_offset(b.data, b.len, p + 1);
			struct buf c = BUF_INIT;
			int kind = (int)rnd(3);

			buf_add(&c, b.data, off);
			if (kind != 1)	/* insert or replace one code point */
				buf_addstr(&c, rnd(2) ? "Z" : "\xe2\x98\x83");
			buf_add(&c, b.data + (kind ? end : off),
				b.len - (kind ? end : off));
			buf_release(&b);
			b = c;
		}
		diff_checked(a.data, a.len, b.data, b.len, 0, &e);
		ASSERT(!e.coarse);
		ASSERT(e.n >= 1 && e.n <= (size_t)k);
		if (k == 1)
			ASSERT(touched(&e) <= 2);
		else
			ASSERT(touched(&e) <= 8 * (uint64_t)k);
	}
	text_edits_release(&e);
	buf_release(&a);
	buf_release(&b);
}

/* A reindented block: lines still match (whitespace aside), and each
 * line's edit is the tab it gained. */
TEST(diff_reindent)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct text_edits e = TEXT_EDITS_INIT;

	for (int i = 0; i < 500; i++) {
		buf_addf(&a, "%*sstatement(%d);\n", i % 3, "", i % 7);
		buf_addf(&b, "\t%*sstatement(%d);\n", i % 3, "", i % 7);
	}
	diff_checked(a.data, a.len, b.data, b.len, 0, &e);
	ASSERT(!e.coarse);
	ASSERT_EQ(e.n, 500);
	for (size_t i = 0; i < e.n; i++) {
		ASSERT_EQ(e.v[i].op, TEXT_INSERT);
		ASSERT_STREQ(e.v[i].ins, "\t");
	}
	text_edits_release(&e);
	buf_release(&a);
	buf_release(&b);
}

/* A large block commented out: one small insert per line. */
TEST(diff_comment_out_block)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct text_edits e = TEXT_EDITS_INIT;

	for (int i = 0; i < 3000; i++) {
		buf_addf(&a, "result[%d] = compute(table, %d, y) + "
			     "adjust(%d, threshold, weights)\n",
			 i, i * 7, i % 13);
		buf_addf(&b, "# result[%d] = compute(table, %d, y) + "
			     "adjust(%d, threshold, weights)\n",
			 i, i * 7, i % 13);
	}
	diff_checked(a.data, a.len, b.data, b.len, 0, &e);
	ASSERT(!e.coarse);
	ASSERT_EQ(e.n, 3000);
	ASSERT_EQ(touched(&e), 6000);
	text_edits_release(&e);
	buf_release(&a);
	buf_release(&b);
}

/* Every line of a block rewritten, as many lines before as after: too
 * costly to diff as one block, so each line is diffed against its
 * counterpart, and no edit spans lines. */
TEST(diff_block_line_by_line)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct text_edits e = TEXT_EDITS_INIT;

	rng_state = 7;
	for (int i = 0; i < 2000; i++) {
		for (int k = 0; k < 40; k++) {
			buf_addch(&a, "ab"[rnd(2)]);
			buf_addch(&b, "ab"[rnd(2)]);
		}
		buf_addch(&a, '\n');
		buf_addch(&b, '\n');
	}
	diff_checked(a.data, a.len, b.data, b.len, 0, &e);
	ASSERT(!e.coarse);
	for (size_t i = 0; i < e.n; i++) {
		ASSERT(!memchr(e.v[i].ins, '\n', e.v[i].ins_len));
		ASSERT(!memchr(e.v[i].del, '\n', e.v[i].del_len));
	}
	text_edits_release(&e);
	buf_release(&a);
	buf_release(&b);
}

/* Two unrelated megabytes: the budget keeps it fast, the result exact. */
TEST(diff_pathological_fast)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct text_edits e = TEXT_EDITS_INIT;
	double t;

	rng_state = 6;
	for (int round = 0; round < 3; round++) {
		buf_reset(&a);
		buf_reset(&b);
		while (a.len < 1000000) {
			if (round == 0) {		/* unrelated lines */
				add_random_run(&a, 40);
				buf_addch(&a, '\n');
			} else {		/* one line, two letters */
				buf_addch(&a, "ab"[rnd(2)]);
			}
		}
		while (b.len < 1000000) {
			if (round == 0) {
				add_random_run(&b, 40);
				buf_addch(&b, '\n');
			} else if (round == 1) {
				buf_addch(&b, "ab"[rnd(2)]);
			} else {	/* a with a change every 1000 bytes */
				size_t at = b.len;
				buf_add(&b, a.data + at, 999);
				buf_addch(&b, 'c');
			}
		}
		t = now_s();
		ASSERT_OK(text_diff(a.data, a.len, b.data, b.len, NULL, &e));
		t = now_s() - t;
		diff_checked(a.data, a.len, b.data, b.len, 0, &e);
		printf("# pathological %d: %zu edits, %s, %.3f s\n", round, e.n,
		       e.coarse ? "coarse" : "exact", t);
		ASSERT(t < 5.0);
	}

	/* One megabyte on one line (minified), one code point changed. */
	buf_reset(&a);
	while (a.len < 1000000)
		add_random_run(&a, 10);
	buf_reset(&b);
	buf_add(&b, a.data, a.len);
	for (size_t i = b.len / 2;; i++) {
		if ((unsigned char)b.data[i] < 0x80) {
			b.data[i] = '\n';
			break;
		}
	}
	diff_checked(a.data, a.len, b.data, b.len, 0, &e);
	ASSERT_EQ(e.n, 1);
	ASSERT_EQ(touched(&e), 2);
	text_edits_release(&e);
	buf_release(&a);
	buf_release(&b);
}

TEST_LIST = {
	TEST_ENTRY(utf8_valid),
	TEST_ENTRY(utf8_invalid),
	TEST_ENTRY(utf8_check_matches_reference),
	TEST_ENTRY(utf8_count_offset_decode),
	TEST_ENTRY(diff_identical_and_empty),
	TEST_ENTRY(diff_single_char),
	TEST_ENTRY(diff_counts_code_points),
	TEST_ENTRY(diff_lines),
	TEST_ENTRY(diff_folds_slivers),
	TEST_ENTRY(diff_rejects_invalid_utf8),
	TEST_ENTRY(apply_checks),
	TEST_ENTRY(myers_is_minimal),
	TEST_ENTRY(diff_random_roundtrip),
	TEST_ENTRY(diff_small_change_small_edit),
	TEST_ENTRY(diff_reindent),
	TEST_ENTRY(diff_comment_out_block),
	TEST_ENTRY(diff_block_line_by_line),
	TEST_ENTRY(diff_pathological_fast),
	TEST_END
};

TEST_MAIN()
