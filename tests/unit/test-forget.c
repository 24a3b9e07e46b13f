/* Unit tests for src/vault/forget.c: the planner (which segments are
 * whole, partly covered or live), and forgetting through the API. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "ltime.h"
#include "vault-int.h"
#include "test.h"
#include "testvault.h"

#define PASS TEST_PASS
#define DAY (86400LL * 1000000000LL)
#define HOUR (3600LL * 1000000000LL)
#define D0 (20000LL * DAY)	/* 2024-10-04, midnight UTC */

static struct buf dir = BUF_INIT;

static struct vault *fresh(const char *name)
{
	struct vault *v;

	test_vault_create(&dir, "forget", name);
	ASSERT_OK(vault_open(&v, dir.data));
	ASSERT_OK(vault_unlock(v, PASS, strlen(PASS)));
	return v;
}

static void add(struct tape *t, const char *stream, int64_t ts,
		const char *kind)
{
	char text[64];

	snprintf(text, sizeof(text), "%s@%lld", stream, (long long)(ts / HOUR));
	ASSERT_OK(tape_append(t, stream, ts, kind, text, strlen(text)));
}

/*
 * Stream a: day 0, hours 1..6, notes. Stream b: day 1, hours 1..6.
 * Stream c: day 0, a minute past hours 1..6, alternately note and marker.
 */
static void fill(struct vault *v)
{
	struct tape *t;

	ASSERT_OK(tape_open(&t, v, NULL));
	for (int h = 1; h <= 6; h++) {
		add(t, "a", D0 + h * HOUR, "note");
		add(t, "b", D0 + DAY + h * HOUR, "note");
		add(t, "c", D0 + h * HOUR + 60000000000LL,
		    h % 2 ? "note" : "marker");
	}
	ASSERT_OK(tape_close(t));
}

static const struct vault_forget_seg *find(const struct vault_forget_plan *p,
					   const char *stream)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->segs[i].stream && !strcmp(p->segs[i].stream, stream))
			return &p->segs[i];
	return NULL;
}

/* The records of the vault as "stream kind text\n" lines. */
static void dump(struct vault *v, struct buf *out)
{
	struct vault_query q = VAULT_QUERY_INIT;
	struct vault_iter *it;
	struct vault_record r;
	int rc;

	buf_reset(out);
	ASSERT_OK(vault_iter_open(&it, v, &q));
	while ((rc = vault_iter_next(it, &r)) == 1)
		buf_addf(out, "%s %s %.*s\n", r.stream, r.kind, (int)r.len,
			 (const char *)r.payload);
	vault_iter_free(it);
	ASSERT_EQ(rc, 0);
}

TEST(block_cover)
{
	struct vault_forget_spec s = VAULT_FORGET_SPEC_INIT;

	s.from = 100;
	s.until = 200;
	ASSERT_EQ(forget_block_cover(&s, 50, 99, 1, 0), 0);	/* before */
	ASSERT_EQ(forget_block_cover(&s, 200, 300, 1, 0), 0);	/* until excl. */
	ASSERT_EQ(forget_block_cover(&s, 100, 199, 3, 0), 1);	/* inside */
	ASSERT_EQ(forget_block_cover(&s, 99, 150, 1, 0), 2);	/* straddles */
	ASSERT_EQ(forget_block_cover(&s, 150, 200, 1, 0), 2);
	s.kind = "note";
	ASSERT_EQ(forget_block_cover(&s, 120, 130, 2, 0), 0);	/* no such kind */
	ASSERT_EQ(forget_block_cover(&s, 120, 130, 1, 1), 1);	/* only that kind */
	ASSERT_EQ(forget_block_cover(&s, 120, 130, 2, 1), 2);	/* mixed kinds */
}

TEST(plan_whole_and_partial)
{
	struct vault *v = fresh("plan");
	struct vault_forget_spec s = VAULT_FORGET_SPEC_INIT;
	struct vault_forget_plan p;
	const struct vault_forget_seg *a, *b, *c;

	fill(v);
	/* From hour 4 of day 0 to the end of day 1: a and c partly (hours
	 * 4..6 of 6), b whole. */
	s.from = D0 + 4 * HOUR;
	s.until = D0 + 2 * DAY;
	ASSERT_OK(vault_forget_plan(v, &s, &p));
	ASSERT_EQ(p.n, 3);
	a = find(&p, "a");
	b = find(&p, "b");
	c = find(&p, "c");
	ASSERT(a && b && c);
	ASSERT_EQ(a->how, VAULT_FORGET_PART);
	ASSERT_EQ(a->selected, 3);
	ASSERT_EQ(a->records, 6);
	ASSERT_EQ(b->how, VAULT_FORGET_WHOLE);
	ASSERT_EQ(b->selected, 6);
	ASSERT_EQ(c->how, VAULT_FORGET_PART);
	ASSERT_EQ(p.forget, 12);
	ASSERT_EQ(p.keep, 6);
	vault_forget_plan_release(&p);

	/* A stream: only its segment, whole. */
	s = (struct vault_forget_spec)VAULT_FORGET_SPEC_INIT;
	s.stream = "c";
	ASSERT_OK(vault_forget_plan(v, &s, &p));
	ASSERT_EQ(p.n, 1);
	ASSERT_EQ(p.segs[0].how, VAULT_FORGET_WHOLE);
	ASSERT_STREQ(p.segs[0].stream, "c");
	vault_forget_plan_release(&p);

	/* A kind: c partly (3 markers of 6); a and b have no markers. */
	s.stream = NULL;
	s.kind = "marker";
	ASSERT_OK(vault_forget_plan(v, &s, &p));
	ASSERT_EQ(p.n, 1);
	ASSERT_EQ(p.segs[0].how, VAULT_FORGET_PART);
	ASSERT_EQ(p.segs[0].selected, 3);
	vault_forget_plan_release(&p);

	/* Nothing in range: an empty plan. */
	s.kind = NULL;
	s.from = D0 + 5 * DAY;
	s.until = D0 + 6 * DAY;
	ASSERT_OK(vault_forget_plan(v, &s, &p));
	ASSERT_EQ(p.n, 0);
	vault_forget_plan_release(&p);
	vault_free(v);
}

TEST(forget_keeps_the_rest)
{
	struct vault *v = fresh("keep");
	struct vault_forget_spec s = VAULT_FORGET_SPEC_INIT;
	struct vault_forget_plan p;
	struct vault_forget_stats st;
	struct vault_verify_stats vs;
	struct buf got = BUF_INIT;

	fill(v);
	s.from = D0 + 4 * HOUR;
	s.until = D0 + 2 * DAY;
	s.kind = "note";
	ASSERT_OK(vault_forget_plan(v, &s, &p));
	ASSERT_OK(vault_forget(v, &p, NULL, NULL, &st));
	ASSERT_EQ(st.shredded, 1);	/* b */
	ASSERT_EQ(st.rewritten, 2);	/* a, c */
	ASSERT_EQ(st.forgotten, 6 + 3 + 1);
	ASSERT_EQ(st.kept, 3 + 5);
	vault_forget_plan_release(&p);
	dump(v, &got);
	ASSERT_STREQ(got.data,
		     "a note a@480001\nc note c@480001\n"
		     "a note a@480002\nc marker c@480002\n"
		     "a note a@480003\nc note c@480003\n"
		     "c marker c@480004\nc marker c@480006\n");
	ASSERT_OK(vault_verify(v, NULL, NULL, &vs));
	ASSERT_EQ(vs.segments, 2);
	ASSERT_EQ(vs.records, 8);
	/* Once more: nothing left to select. */
	ASSERT_OK(vault_forget_plan(v, &s, &p));
	ASSERT_EQ(p.n, 0);
	vault_forget_plan_release(&p);
	buf_release(&got);
	vault_free(v);
}

static void count_skips(void *ctx, int problem, const char *msg)
{
	(void)msg;
	*(int *)ctx += problem;
}

TEST(live_segments_are_left_alone)
{
	struct vault *v = fresh("live");
	struct vault_forget_spec s = VAULT_FORGET_SPEC_INIT;
	struct vault_forget_plan p;
	struct vault_forget_stats st;
	struct tape *t;
	int skips = 0;

	/* A writer that committed but still holds its segment. */
	ASSERT_OK(tape_open(&t, v, NULL));
	add(t, "live", D0 + HOUR, "note");
	ASSERT_OK(tape_commit(t));
	ASSERT_OK(vault_forget_plan(v, &s, &p));
	ASSERT_EQ(p.n, 1);
	ASSERT_EQ(p.segs[0].how, VAULT_FORGET_LIVE);
	ASSERT_EQ(p.forget, 0);
	ASSERT_OK(vault_forget(v, &p, count_skips, &skips, &st));
	ASSERT_EQ(st.skipped, 1);
	ASSERT_EQ(skips, 1);
	vault_forget_plan_release(&p);
	/* The writer goes on unharmed, and once it is done, its segment can
	 * be forgotten. */
	add(t, "live", D0 + 2 * HOUR, "note");
	ASSERT_OK(tape_close(t));
	ASSERT_OK(vault_forget_plan(v, &s, &p));
	ASSERT_EQ(p.n, 1);
	ASSERT_EQ(p.segs[0].how, VAULT_FORGET_WHOLE);
	ASSERT_EQ(p.segs[0].selected, 2);
	ASSERT_OK(vault_forget(v, &p, NULL, NULL, &st));
	ASSERT_EQ(st.shredded, 1);
	vault_forget_plan_release(&p);
	ASSERT_OK(vault_verify(v, NULL, NULL, NULL));
	vault_free(v);
}

TEST(damaged_journal_is_refused)
{
	struct vault *v = fresh("journal");
	struct buf path = BUF_INIT;
	FILE *f;

	vault_free(v);
	buf_addf(&path, "%s/" FORGET_JOURNAL, dir.data);
	f = fopen(path.data, "w");
	ASSERT(f);
	fputs("labtape-forget 1\nshred 2024-10-04 00 00\ncheck 0\n", f);
	fclose(f);
	ASSERT_EQ(vault_open(&v, dir.data), LT_ECORRUPT);
	ASSERT(strstr(lt_errmsg(), "forget journal"));
	unlink(path.data);
	buf_release(&path);
}

TEST_LIST = {
	TEST_ENTRY(block_cover),
	TEST_ENTRY(plan_whole_and_partial),
	TEST_ENTRY(forget_keeps_the_rest),
	TEST_ENTRY(live_segments_are_left_alone),
	TEST_ENTRY(damaged_journal_is_refused),
	TEST_END,
};
TEST_MAIN()
