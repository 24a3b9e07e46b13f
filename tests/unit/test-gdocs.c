/*
 * The Google Docs changelog replay and the Drive comments parser
 * (src/import/gdocs.c, gdocs-comments.c), without a vault.
 */
#include <string.h>

#include "error.h"
#include "gdocs-mirror.h"
#include "test.h"
#include "banned.h"

/* Replays s; the mirror checks the edits. Returns the replay's result. */
static int replay(const char *s, struct mirror *m, struct buf *final)
{
	struct gdocs_log log;
	int r;

	memset(m, 0, sizeof(*m));
	buf_init(&m->text, 0);
	r = gdocs_load(&log, "t.json", s, strlen(s));
	if (!r)
		r = gdocs_replay(&log, &mirror_ops, m, final);
	gdocs_log_release(&log);
	return r;
}

TEST(utf16_indices_become_code_points)
{
	struct mirror m;
	struct buf out = BUF_INIT;

	/* "a😀b": 😀 is two UTF-16 units; ibi 4 is before 'b'. */
	ASSERT_OK(replay(")]}'\n{\"changelog\":["
			 "[{\"ty\":\"is\",\"ibi\":1,\"s\":\"a\\ud83d\\ude00b\"},1,\"u\",1],"
			 "[{\"ty\":\"is\",\"ibi\":4,\"s\":\"é\"},2,\"u\",2],"
			 "[{\"ty\":\"ds\",\"si\":2,\"ei\":3},3,\"u\",3]]}",
			 &m, &out));
	ASSERT_STREQ(out.data, "aéb");
	ASSERT_STREQ(m.text.data, "aéb");
	ASSERT(!m.bad);
	ASSERT_EQ(m.edits, 3);
	ASSERT_EQ(m.revs_begun, 3);
	ASSERT_EQ(m.revs_ended, 3);
	buf_release(&out);
	buf_release(&m.text);
}

TEST(split_surrogate_refused)
{
	struct mirror m;
	struct buf out = BUF_INIT;
	const char *s = "{\"changelog\":["
			"[{\"ty\":\"is\",\"ibi\":1,\"s\":\"\\ud83d\\ude00\"},1,\"u\",1],"
			"[{\"ty\":\"ds\",\"si\":2,\"ei\":2},2,\"u\",2]]}";

	ASSERT_EQ(replay(s, &m, &out), LT_EINVAL);
	ASSERT(strstr(lt_errmsg(), "t.json: changelog entry 2 (byte 63): ds: "
		      "si 2 splits a character outside the BMP"));
	ASSERT_EQ(s[63], '[');
	buf_release(&out);
	buf_release(&m.text);
}

TEST(entries_of_one_revision_are_one_unit)
{
	struct mirror m;
	struct buf out = BUF_INIT;

	ASSERT_OK(replay("{\"changelog\":["
			 "[{\"ty\":\"is\",\"ibi\":1,\"s\":\"ab\"},1,\"u\",7],"
			 "[{\"ty\":\"is\",\"ibi\":3,\"s\":\"c\"},2,\"u\",7],"
			 "[{\"ty\":\"mlti\",\"mts\":[{\"ty\":\"ds\",\"si\":1,\"ei\":1},"
			 "{\"ty\":\"mlti\",\"mts\":[{\"ty\":\"is\",\"ibi\":1,\"s\":\"Z\"}]}]},"
			 "3,null,8]]}", &m, &out));
	ASSERT_STREQ(out.data, "Zbc");
	ASSERT_EQ(m.revs_begun, 2);
	ASSERT_EQ(m.revs_ended, 2);
	ASSERT_EQ(m.edits, 4);
	buf_release(&out);
	buf_release(&m.text);
}

TEST(snapshot_replace_and_styles)
{
	struct mirror m;
	struct buf out = BUF_INIT;

	/* The chunkedSnapshot is the text before revision 5; rplc replaces
	 * the whole text; style and entity ops change nothing. */
	ASSERT_OK(replay("{\"chunkedSnapshot\":[[{\"ty\":\"is\",\"ibi\":1,\"s\":\"old\"}]],"
			 "\"changelog\":["
			 "[{\"ty\":\"as\",\"si\":1,\"ei\":3,\"st\":\"text\"},1,\"u\",5],"
			 "[{\"ty\":\"rplc\",\"snapshot\":[[{\"ty\":\"is\",\"ibi\":1,\"s\":\"new\"}]]},2,\"u\",6],"
			 "[{\"ty\":\"msfd\",\"si\":1,\"ei\":2,\"sugid\":\"s\"},3,\"u\",7],"
			 "[{\"ty\":\"ae\",\"id\":\"kix.1\"},4,\"u\",8],"
			 "[{\"ty\":\"null\"},5,\"u\",9]]}", &m, &out));
	ASSERT_STREQ(out.data, "new");
	ASSERT_EQ(m.snapshots, 1);
	ASSERT_EQ(m.edits, 4);	/* as, rplc, msfd, ae */
	ASSERT(!m.bad);
	buf_release(&out);
	buf_release(&m.text);
}

TEST(malformed_entries)
{
	static const struct {
		const char *json, *msg;
	} cases[] = {
		{ "[]", "not a revision changelog: the JSON is not an object" },
		{ "{}", "no \"changelog\" array" },
		{ "{\"changelog\":[1]}", "changelog entry 1 (byte 14): not an array" },
		{ "{\"changelog\":[[{\"ty\":\"is\",\"ibi\":0,\"s\":\"x\"},1,\"u\",1]]}",
		  "is: \"ibi\" is not an integer >= 1" },
		{ "{\"changelog\":[[{\"ty\":\"ds\",\"si\":2,\"ei\":1},1,\"u\",1]]}",
		  "ds: ei 1 is before si 2" },
		{ "{\"changelog\":[[{\"ty\":\"mlti\",\"mts\":[{\"ty\":\"is\",\"ibi\":2,\"s\":\"x\"}]},1,\"u\",1]]}",
		  "mlti/mts[0]/is: ibi 2 is past the end" },
		{ "{\"changelog\":[[{\"ty\":\"is\",\"ibi\":1,\"s\":\"x\"},\"t\",\"u\",1]]}",
		  "the time (element 2) is not a number" },
		{ "{\"changelog\":[[{\"s\":\"x\"},1,\"u\",1]]}", "no \"ty\" string" },
		{ "{\"chunkedSnapshot\":[[{\"ty\":\"ds\",\"si\":1,\"ei\":1}]],\"changelog\":[]}",
		  "t.json: chunkedSnapshot: chunk[0][0]/ds: ei 1 is past the end" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mirror m;
		struct buf out = BUF_INIT;
		ASSERT_EQ(replay(cases[i].json, &m, &out), LT_EINVAL);
		if (!strstr(lt_errmsg(), cases[i].msg))
			TEST_FAIL("case %zu: '%s' has no '%s'", i, lt_errmsg(),
				  cases[i].msg);
		buf_release(&out);
		buf_release(&m.text);
	}
}

struct seen {
	char log[512];
};

static int on_comment(void *ctx, const struct gdocs_comment *c)
{
	struct seen *s = ctx;
	size_t n = strlen(s->log);

	snprintf(s->log + n, sizeof(s->log) - n, "%s%s:%s:%s:%s:%d;",
		 c->is_reply ? "r" : "c", c->id,
		 c->comment_id ? c->comment_id : "-",
		 c->action ? c->action : "-", c->quote ? c->quote : "-",
		 c->deleted);
	return 0;
}

TEST(comments_pages_and_replies)
{
	const char *s =
		"[{\"comments\":[{\"id\":\"c1\",\"createdTime\":\"2024-01-01T00:00:00.5Z\","
		"\"quotedFileContent\":{\"value\":\"q\"},\"anchor\":\"kix.a\","
		"\"replies\":[{\"id\":\"r1\",\"createdTime\":\"2024-01-01T00:00:01Z\","
		"\"action\":\"resolve\"}]}],\"nextPageToken\":\"p\"},"
		"{\"comments\":[{\"id\":\"c2\",\"createdTime\":\"2024-01-02T00:00:00Z\","
		"\"deleted\":true}]}]";
	struct seen seen;

	memset(&seen, 0, sizeof(seen));
	ASSERT_OK(gdocs_comments_parse("c.json", s, strlen(s), on_comment,
				       &seen));
	ASSERT_STREQ(seen.log, "cc1:-:-:q:0;rr1:c1:resolve:-:0;cc2:-:-:-:1;");
	s = "[{\"comments\":[]},{\"comments\":[{\"id\":\"c\",\"createdTime\":"
	    "\"2024-01-01T00:00:00Z\",\"replies\":[{\"id\":\"r\"}]}]}]";
	ASSERT_EQ(gdocs_comments_parse("c.json", s, strlen(s), on_comment,
				       &seen), LT_EINVAL);
	ASSERT_STREQ(lt_errmsg(), "c.json: page 2, comments[0].replies[0]: "
		     "\"createdTime\" is missing");
}

TEST_LIST = {
	TEST_ENTRY(utf16_indices_become_code_points),
	TEST_ENTRY(split_surrogate_refused),
	TEST_ENTRY(entries_of_one_revision_are_one_unit),
	TEST_ENTRY(snapshot_replace_and_styles),
	TEST_ENTRY(malformed_entries),
	TEST_ENTRY(comments_pages_and_replies),
	TEST_END,
};

TEST_MAIN()
