/*
 * The importers' format readers without a vault (src/import): easysync
 * changesets and .etherpad exports, posts as JSONL. Expected values are
 * worked out by hand in the comments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "etherpad.h"
#include "fileio.h"
#include "posts.h"
#include "test.h"

/* -- Changesets ----------------------------------------------------------- */

TEST(parse_ops)
{
	/* old 1, new 1 + 12; an op with attributes and a newline count. */
	static const char cs[] = "Z:1>c*0*1f|1+c$Hello wörld\n";
	struct easysync_cs c;

	easysync_init(&c);
	ASSERT_OK(easysync_parse(cs, strlen(cs), &c));
	ASSERT_EQ(c.old_len, 1);
	ASSERT_EQ(c.new_len, 13);
	ASSERT_EQ(c.nops, 1);
	ASSERT_EQ(c.ops[0].opcode, '+');
	ASSERT_EQ(c.ops[0].chars, 12);
	ASSERT_EQ(c.ops[0].lines, 1);
	ASSERT_EQ(c.ops[0].attribs_len, 5);
	ASSERT_MEMEQ(cs + c.ops[0].attribs, "*0*1f", 5);
	ASSERT_EQ(c.bank_len, strlen("Hello wörld\n"));
	/* "=" and "-" ops, no char bank at all, base 36 with letters. */
	ASSERT_OK(easysync_parse("Z:1a<z=1-z", 10, &c));
	ASSERT_EQ(c.old_len, 46);
	ASSERT_EQ(c.new_len, 11);
	ASSERT_EQ(c.nops, 2);
	ASSERT_EQ(c.ops[1].opcode, '-');
	ASSERT_EQ(c.ops[1].chars, 35);
	ASSERT(c.bank == NULL);
	/* An emoji counts two in the char bank. */
	ASSERT_OK(easysync_parse("Z:1>2+2$😀", strlen("Z:1>2+2$😀"), &c));
	ASSERT_EQ(easysync_num("1f", 2), 51);
	ASSERT_EQ(easysync_num("1F", 2), -1);
	ASSERT_EQ(easysync_num("", 0), -1);
	easysync_release(&c);
}

static void expect_bad(const char *cs, const char *msg)
{
	struct easysync_cs c;
	int r;

	easysync_init(&c);
	r = easysync_parse(cs, strlen(cs), &c);
	easysync_release(&c);
	if (r != LT_EINVAL)
		TEST_FAIL("'%s' was accepted", cs);
	if (!strstr(lt_errmsg(), msg))
		TEST_FAIL("'%s': message '%s' lacks '%s'", cs, lt_errmsg(), msg);
}

TEST(parse_refuses)
{
	expect_bad("", "not an easysync changeset");
	expect_bad("X:1>0", "not an easysync changeset");
	expect_bad("Z:>0", "at character 2");
	expect_bad("Z:1=0", "'>' or '<'");
	expect_bad("Z:1>", "the length change");
	expect_bad("Z:1>0*0$", "an op");	/* attributes need an op */
	expect_bad("Z:1>0*$", "attribute number");
	expect_bad("Z:1>0|1$", "an op");
	expect_bad("Z:1>0=A", "a length");	/* base 36 is lower case */
	expect_bad("Z:1>0=1!", "unexpected '!'");
	expect_bad("Z:1<2", "below zero");
	expect_bad("Z:1>0=2", "cover 2 characters of a text of 1");
	expect_bad("Z:1>1+1", "char bank holds 0");
	expect_bad("Z:1>1+1$ab", "char bank holds 2");
	expect_bad("Z:1>1+1$😀", "char bank holds 2");
	expect_bad("Z:1>2+1$a", "the new length is 3 but the ops make 2");
	expect_bad("Z:1>0|2+1$", "cannot hold 2 newlines");
	expect_bad("Z:1>0=zzzzzzzzzzzzz", "a length");	/* above 2^53 */
}

struct rec {
	struct buf log;
};

static int record(void *ctx, const struct easysync_change *c)
{
	struct rec *r = ctx;
	static const char *const kind[] = { "?", "ins", "del", "style" };

	buf_addf(&r->log, "%s %d %d '%.*s' %.*s;", kind[c->kind], (int)c->pos,
		 (int)c->len, (int)c->text_len, c->text, (int)c->attribs_len,
		 c->attribs);
	return 0;
}

/* Applies cs to text and checks the changes and the text after. */
static void apply(const char *text, const char *cs, const char *changes,
		  const char *after)
{
	struct easysync_doc d;
	struct easysync_cs c;
	struct rec r;
	struct buf got = BUF_INIT;

	easysync_doc_init(&d);
	easysync_init(&c);
	buf_init(&r.log, 0);
	buf_init(&got, 0);
	ASSERT_OK(easysync_doc_set(&d, text, strlen(text)));
	ASSERT_OK(easysync_parse(cs, strlen(cs), &c));
	ASSERT_OK(easysync_apply(&d, cs, &c, record, &r));
	ASSERT_STREQ(r.log.data, changes);
	easysync_doc_text(&d, &got);
	ASSERT_STREQ(got.data, after);
	buf_release(&got);
	buf_release(&r.log);
	easysync_release(&c);
	easysync_doc_release(&d);
}

TEST(apply_changes)
{
	/* "a😀b\n" is 5 code units long and 4 code points. */
	apply("a😀b\n", "Z:5<2=1-2$", "del 1 1 '😀' ;", "ab\n");
	apply("a😀b\n", "Z:5>2=3*0+2$😀", "ins 2 1 '😀' *0;", "a😀😀b\n");
	/* "-" before "+" at one place: a delete then an insert, both at 1. */
	apply("a😀b\n", "Z:5<1=1-2*0+1$é", "del 1 1 '😀' ;ins 1 1 'é' *0;",
	      "aéb\n");
	/* A multi-line insert is two ops of one kind: one change. */
	apply("\n", "Z:1>5*0|1+3*0+2$ab\nc中", "ins 0 5 'ab\nc中' *0;",
	      "ab\nc中\n");
	/* Other attributes: two changes. */
	apply("\n", "Z:1>2*0+1*1+1$xy", "ins 0 1 'x' *0;ins 1 1 'y' *1;",
	      "xy\n");
	/* Attributes over two lines: one style change; a plain keep ends it. */
	apply("ab\ncd\nef\n", "Z:9>0*2|1=3*2=1|1=2*2=1$",
	      "style 0 4 '' *2;style 6 1 '' *2;", "ab\ncd\nef\n");
	/* Deletes in a row (across a newline) are one change. */
	apply("ab\ncd\n", "Z:6<4=1|1-2-2$", "del 1 4 'b\ncd' ;", "a\n");
	/* A keep without attributes changes nothing; the rest is kept. */
	apply("abc\n", "Z:4>0=2$", "", "abc\n");
}

static void apply_bad(const char *text, const char *cs, const char *msg)
{
	struct easysync_doc d;
	struct easysync_cs c;
	struct rec r;
	struct buf got = BUF_INIT;

	easysync_doc_init(&d);
	easysync_init(&c);
	buf_init(&r.log, 0);
	buf_init(&got, 0);
	ASSERT_OK(easysync_doc_set(&d, text, strlen(text)));
	ASSERT_OK(easysync_parse(cs, strlen(cs), &c));
	ASSERT_EQ(easysync_apply(&d, cs, &c, record, &r), LT_EINVAL);
	if (!strstr(lt_errmsg(), msg))
		TEST_FAIL("'%s': message '%s' lacks '%s'", cs, lt_errmsg(), msg);
	/* Nothing reported, nothing changed. */
	ASSERT_EQ(r.log.len, 0);
	easysync_doc_text(&d, &got);
	ASSERT_STREQ(got.data, text);
	buf_release(&got);
	buf_release(&r.log);
	easysync_release(&c);
	easysync_doc_release(&d);
}

TEST(apply_refuses)
{
	apply_bad("a😀b\n", "Z:4>0$", "a text of 4 characters but the text "
		  "is 5 long");
	apply_bad("a😀b\n", "Z:5<1=1-1$", "inside the character U+1F600");
	apply_bad("a😀b\n", "Z:5<1=2-1$", "inside the character U+1F600");
	apply_bad("a😀b\n", "Z:5>0=5$", "says it holds 0 newlines but the "
		  "text there has 1");
	apply_bad("ab\n", "Z:3>1=1|1+1$x", "says it holds 1 newlines but the "
		  "char bank there has 0");
	apply_bad("ab\n", "Z:3<1|1-1$", "holds 1 newlines");
	apply_bad("ab\n", "Z:3>2+1+1$😀", "inside the character U+1F600");
}

/* -- The .etherpad export -------------------------------------------------- */

struct pad_log {
	struct buf log;
	int changes, revs, chats;
};

static int p_change(void *ctx, const struct etherpad_rev *r,
		    const struct easysync_change *c, json_t *attribs)
{
	struct pad_log *x = ctx;
	char *a = attribs ? json_dumps(attribs, JSON_COMPACT) : NULL;

	buf_addf(&x->log, "%d:%s %d %d %s|", (int)r->num,
		 r->author_name ? r->author_name : r->author, (int)c->pos,
		 (int)c->len, a ? a : "-");
	free(a);
	x->changes++;
	return 0;
}

static int p_rev_end(void *ctx, const struct etherpad_rev *r)
{
	(void)r;
	((struct pad_log *)ctx)->revs++;
	return 0;
}

static int p_chat(void *ctx, const struct etherpad_chat *m)
{
	struct pad_log *x = ctx;

	buf_addf(&x->log, "chat %s: %s|", m->author_name, m->text);
	x->chats++;
	return 0;
}

static const struct etherpad_ops pad_ops = { NULL, p_change, p_rev_end,
					     p_chat };

static int replay(const char *data, size_t n, struct pad_log *x)
{
	struct etherpad *ep;
	int r;

	buf_init(&x->log, 0);
	x->changes = x->revs = x->chats = 0;
	if ((r = etherpad_open(&ep, "t.etherpad", data, n)))
		return r;
	r = etherpad_replay(ep, &pad_ops, x);
	etherpad_free(ep);
	return r;
}

TEST(etherpad_fixture)
{
	struct buf f = BUF_INIT;
	struct pad_log x;

	buf_init(&f, 0);
	ASSERT_OK(lt_read_file(TEST_DATA_DIR "/etherpad/notes.etherpad",
			       1 << 20, &f));
	ASSERT_OK(replay(f.data, f.len, &x));
	ASSERT_EQ(x.revs, 7);
	ASSERT_EQ(x.chats, 2);
	/* Worked out by hand in tests/data/import/etherpad/README: revision,
	 * author, pos and len (code points), the attributes. */
	ASSERT_STREQ(x.log.data,
		"0:Alice 0 12 [[\"author\",\"a.alice\"]]|"
		"1:Bob 中 6 5 [[\"author\",\"a.bob\"]]|"
		"2:Alice 3 4 -|"
		"2:Alice 3 3 [[\"author\",\"a.alice\"]]|"
		"3:Bob 中 0 4 [[\"bold\",\"true\"],[\"author\",\"a.bob\"]]|"
		"4:a.carol 7 2 -|"
		"4:a.carol 14 12 [[\"author\",\"a.carol\"]]|"
		"5:Alice 6 10 -|"
		"5:Alice 6 1 [[\"author\",\"a.alice\"]]|"
		"6:Bob 中 7 8 [[\"italic\",\"true\"],[\"author\",\"a.bob\"]]|"
		"chat Alice: Shall we 🎉?|chat Carol C.: ok — later|");
	buf_release(&x.log);
	buf_release(&f);
}

/* Replaces the first from in the fixture by to, and replays it. */
static void pad_bad(const char *from, const char *to, const char *msg)
{
	struct buf f = BUF_INIT, g = BUF_INIT;
	struct pad_log x;
	char *at;

	buf_init(&f, 0);
	buf_init(&g, 0);
	ASSERT_OK(lt_read_file(TEST_DATA_DIR "/etherpad/notes.etherpad",
			       1 << 20, &f));
	at = strstr(f.data, from);
	ASSERT(at != NULL);
	buf_add(&g, f.data, (size_t)(at - f.data));
	buf_addstr(&g, to);
	buf_addstr(&g, at + strlen(from));
	if (replay(g.data, g.len, &x) != LT_EINVAL)
		TEST_FAIL("replacing %s by %s was accepted", from, to);
	if (!strstr(lt_errmsg(), msg))
		TEST_FAIL("message '%s' lacks '%s'", lt_errmsg(), msg);
	buf_release(&x.log);
	buf_release(&f);
	buf_release(&g);
}

TEST(etherpad_refuses)
{
	pad_bad("\"head\": 6", "\"head\": 7", "revision 7 is missing");
	/* Revision 6 only sets italics: stopping at 5 is the same text. */
	pad_bad("\"head\": 6", "\"head\": 4", "revision 4 (key 'pad:notes:revs:4')"
		": the text replayed up to it differs from the pad's text");
	pad_bad("Z:j<1=3-4", "Z:j<1=3-5", "revision 2 (key 'pad:notes:revs:2')"
		": changeset the header says");
	/* A changeset that applies but to the wrong place: only the end tells. */
	pad_bad("Z:s<9=6|1-a", "Z:s<9=5|1-a", "revision 6 (key "
		"'pad:notes:revs:6'): the text replayed up to it differs from "
		"the pad's text (its atext.text) at character 5");
	pad_bad("Z:i>0*2*1=4$", "Z:i>0*2*9=4$", "revision 3 (key "
		"'pad:notes:revs:3'): attribute *9 is not");
	pad_bad("\"Hello wörld\\n\\n\"", "\"Hello world\\n\\n\"",
		"revision 0 (key 'pad:notes:revs:0'): the text replayed up to "
		"it differs from its meta.atext.text at character 7");
	pad_bad("\"pad:notes\": {", "\"pad:other\": {}, \"pad:notes\": {",
		"holds two pads");
	pad_bad("\"pad:notes\": {", "\"pad:notes\": [", "line ");
	pad_bad("\"chatHead\": 1", "\"chatHead\": 1, \"chatHead\": 2",
		"duplicate object key");
}

/* -- Posts ----------------------------------------------------------------- */

TEST(guess_format)
{
	ASSERT_STREQ(posts_guess_format("<p>x</p>", 8), "html");
	ASSERT_STREQ(posts_guess_format("a<br/>b", 7), "html");
	ASSERT_STREQ(posts_guess_format("a</DIV>", 7), "html");
	ASSERT_STREQ(posts_guess_format("# x\n\n*y* <z>", 12), "markdown");
	ASSERT_STREQ(posts_guess_format("a < b > c <pre", 14), "markdown");
	ASSERT_STREQ(posts_guess_format("<", 1), "markdown");
}

static int collect(void *ctx, const struct post *p)
{
	struct buf *b = ctx;

	buf_addf(b, "%zu %s %s %s %d|", p->line, p->key, p->format,
		 p->channel ? p->channel : "-", (int)json_array_size(p->authors));
	for (size_t i = 0; i < p->ncomments; i++) {
		const struct post_comment *c = &p->comments[i];
		buf_addf(b, "%s<%s %s %s|", c->id, c->parent ? c->parent : "-",
			 c->author ? c->author : "-", c->where);
	}
	return 0;
}

TEST(posts_fixture)
{
	struct buf f = BUF_INIT, got = BUF_INIT;

	buf_init(&f, 0);
	buf_init(&got, 0);
	ASSERT_OK(lt_read_file(TEST_DATA_DIR "/posts/posts.jsonl", 1 << 20,
			       &f));
	ASSERT_OK(posts_parse("p.jsonl", f.data, f.len, collect, &got));
	/* Line 2 is blank; the second post's comments have made-up ids. */
	ASSERT(!strncmp(got.data,
		"1 5f1d7e2a9c0b4e8f markdown lesswrong 2|"
		"c1<- Grace comments[0]|"
		"c2<c1 Ada Lovelace comments[0].replies[0]|"
		"c3<c2 Bé 中 comments[0].replies[0].replies[0]|"
		"c4<- Linus comments[1]|"
		"3 https://blog.example.org/2024/leap html blog.example.org 1|",
		strlen("1 5f1d7e2a9c0b4e8f markdown lesswrong 2|"
		"c1<- Grace comments[0]|"
		"c2<c1 Ada Lovelace comments[0].replies[0]|"
		"c3<c2 Bé 中 comments[0].replies[0].replies[0]|"
		"c4<- Linus comments[1]|"
		"3 https://blog.example.org/2024/leap html blog.example.org 1|")));
	ASSERT(strstr(got.data, "comments[0].children[0]|4 7 plain - 1|"));
	buf_release(&got);
	buf_release(&f);
}

static void posts_bad(const char *jsonl, const char *msg)
{
	struct buf got = BUF_INIT;

	buf_init(&got, 0);
	ASSERT_EQ(posts_parse("p.jsonl", jsonl, strlen(jsonl), collect, &got),
		  LT_EINVAL);
	if (!strstr(lt_errmsg(), msg))
		TEST_FAIL("'%s': message '%s' lacks '%s'", jsonl, lt_errmsg(),
			  msg);
	buf_release(&got);
}

TEST(posts_refuses)
{
	posts_bad("{\"id\":1,\"text\":\"x\"}\n{\"id\":2,", "p.jsonl: line 2: "
		  "column");
	posts_bad("[1]", "line 1: not a JSON object");
	posts_bad("{\"title\":\"t\",\"text\":\"x\"}", "line 1: no id or url");
	posts_bad("{\"id\":\"a\"}", "line 1: no text");
	posts_bad("{\"id\":\"a\",\"text\":\"x\",\"date\":\"May 1\"}",
		  "line 1: date_published: 'May 1' is not an RFC 3339");
	posts_bad("{\"id\":\"a\",\"text\":\"x\",\"authors\":[1]}",
		  "authors[0]: not a string");
	posts_bad("{\"id\":\"a\",\"text\":\"x\",\"comments\":{}}",
		  "comments: not an array");
	posts_bad("{\"id\":\"a\",\"text\":\"x\",\"comments\":[{\"text\":\"c\","
		  "\"replies\":[{\"author\":\"b\"}]}]}",
		  "line 1: comments[0].replies[0]: no text");
	posts_bad("{\"id\":\"a\",\"text\":\"x\",\"comments\":[{\"id\":\"k\","
		  "\"text\":\"c\"},{\"id\":\"k\",\"text\":\"d\"}]}",
		  "comments[1]: comment id 'k' appears twice");
	posts_bad("{\"id\":\"a\",\"text\":\"x\",\"comments\":[{\"text\":\"c\","
		  "\"date\":7}]}", "comments[0].date: not a string");
}

static int times(void *ctx, const struct post *p)
{
	buf_addf(ctx, "%s %lld|", p->key,
		 p->has_time ? (long long)(p->time / 1000000000) : -1LL);
	return 0;
}

TEST(posts_dates)
{
	struct buf got = BUF_INIT;
	/* Naive times are UTC; a bare date is midnight UTC. */
	static const char in[] =
		"{\"id\":\"a\",\"text\":\"x\",\"date\":\"2024-01-02T03:04:05\"}\n"
		"{\"id\":\"b\",\"text\":\"x\",\"date_published\":\"2024-01-02\"}\n"
		"{\"id\":\"c\",\"text\":\"x\",\"date\":\"2024-01-02T01:00:00+01:00\"}\n"
		"{\"id\":\"d\",\"text\":\"x\",\"date\":\"n/a\"}\n";

	buf_init(&got, 0);
	ASSERT_OK(posts_parse("p.jsonl", in, strlen(in), times, &got));
	/* 2024-01-02 is day 19724 since 1970: 1704153600. */
	ASSERT_STREQ(got.data, "a 1704164645|b 1704153600|c 1704153600|d -1|");
	buf_release(&got);
}

TEST_LIST = {
	TEST_ENTRY(parse_ops),
	TEST_ENTRY(parse_refuses),
	TEST_ENTRY(apply_changes),
	TEST_ENTRY(apply_refuses),
	TEST_ENTRY(etherpad_fixture),
	TEST_ENTRY(etherpad_refuses),
	TEST_ENTRY(guess_format),
	TEST_ENTRY(posts_fixture),
	TEST_ENTRY(posts_refuses),
	TEST_ENTRY(posts_dates),
	TEST_END,
};

TEST_MAIN()
