/* Unit tests for src/import/import.c: the ledger (importing again adds
 * nothing), sequence numbers that go on, binary data as chunks, and all
 * or nothing. */
#include <stdio.h>
#include <unistd.h>

#include "error.h"
#include "import.h"
#include "ltime.h"
#include "test.h"
#include "testvault.h"

#define PASS TEST_PASS
#define DAY (86400LL * 1000000000LL)
#define T0 (20000LL * DAY)	/* 2024-10-04, midnight UTC */

static struct buf dir = BUF_INIT;

static struct vault *fresh(const char *name)
{
	struct vault *v;

	test_vault_create(&dir, "import", name);
	ASSERT_OK(vault_open(&v, dir.data));
	ASSERT_OK(vault_unlock(v, PASS, strlen(PASS)));
	return v;
}

/* Records of stream (and kind, if not NULL) in the vault. */
static int count(struct vault *v, const char *stream, const char *kind)
{
	struct vault_query q = VAULT_QUERY_INIT;
	struct vault_iter *it;
	struct vault_record rec;
	int n = 0, r;

	q.stream = stream;
	q.kind = kind;
	ASSERT_OK(vault_iter_open(&it, v, &q));
	while ((r = vault_iter_next(it, &rec)) == 1)
		n++;
	ASSERT_EQ(r, 0);
	vault_iter_free(it);
	return n;
}

static void insert(struct import *im, int64_t ts, const char *doc,
		   const char *text)
{
	struct ev_edit e = { 0 };

	e.doc = doc;
	e.op = "insert";
	e.pos = 0;
	e.has_pos = 1;
	e.ins = text;
	e.ins_len = strlen(text);
	ASSERT_OK(import_edit(im, ts, &e));
}

/* Units u0..u(n-1), one a day: each inserts into doc "d" (and "e" for the
 * odd ones). */
static void import_units(struct vault *v, int n, struct import_summary *sum)
{
	struct import_opts o = { "test", "input", "test:x", 0 };
	struct import *im;

	ASSERT_OK(import_open(&im, v, &o));
	for (int i = 0; i < n; i++) {
		char key[16];
		snprintf(key, sizeof(key), "u%d", i);
		if (import_seen(im, key)) {
			import_skipped(im);
			continue;
		}
		insert(im, T0 + i * DAY, "d", "x");
		if (i % 2)
			insert(im, T0 + i * DAY + 1, "e", "y");
		ASSERT_OK(import_unit_done(im, key, T0 + i * DAY + 2));
	}
	ASSERT_OK(import_commit(im, sum));
}

TEST(again_adds_nothing)
{
	struct vault *v = fresh("again");
	struct import_summary s;

	import_units(v, 4, &s);
	ASSERT_EQ(s.units, 4);
	ASSERT_EQ(s.skipped, 0);
	ASSERT_EQ(count(v, "test:x", NULL), 4 + 2 + 4);
	import_units(v, 4, &s);
	ASSERT_EQ(s.units, 0);
	ASSERT_EQ(s.skipped, 4);
	ASSERT_EQ(s.events, 0);
	ASSERT_EQ(count(v, "test:x", NULL), 10);
	vault_free(v);
}

/* A longer input adds only its new units, numbering each document on. */
TEST(seqs_go_on)
{
	struct vault *v = fresh("seqs");
	struct import_opts o = { "test", "input", "test:x", 0 };
	struct import_summary s;
	struct import *im;

	import_units(v, 3, &s);
	import_units(v, 6, &s);
	ASSERT_EQ(s.units, 3);
	ASSERT_EQ(s.skipped, 3);
	ASSERT_OK(import_open(&im, v, &o));
	ASSERT_EQ(import_next_seq(im, "d"), 6);
	ASSERT_EQ(import_next_seq(im, "e"), 3);
	ASSERT_EQ(import_next_seq(im, "new"), 0);
	import_abort(im);
	vault_free(v);
}

TEST(abort_keeps_nothing)
{
	struct vault *v = fresh("abort");
	struct import_opts o = { "test", "input", "test:x", 0 };
	struct import *im;

	ASSERT_OK(import_open(&im, v, &o));
	for (int i = 0; i < 40; i++) {
		insert(im, T0 + i * DAY, "d", "x");
		ASSERT_OK(import_unit_done(im, "u", T0 + i * DAY));
	}
	import_abort(im);
	ASSERT_EQ(count(v, "test:x", NULL), 0);
	ASSERT_OK(import_open(&im, v, &o));
	ASSERT(!import_seen(im, "u"));
	import_abort(im);
	vault_free(v);
}

/* A bad event fails with a message naming the field. */
TEST(event_checked)
{
	struct vault *v = fresh("event");
	struct import_opts o = { "test", "input", "test:x", 0 };
	struct import *im;

	ASSERT_OK(import_open(&im, v, &o));
	ASSERT_EQ(import_event(im, T0, "msg.message",
			       json_pack("{s:s}", "id", "m1")), LT_EINVAL);
	ASSERT(strstr(lt_errmsg(), "data.text"));
	ASSERT_OK(import_event(im, T0, "msg.message",
			       json_pack("{s:s, s:s}", "id", "m1", "text", "hi")));
	ASSERT_OK(import_commit(im, NULL));
	ASSERT_EQ(count(v, "test:x", "msg.message"), 1);
	vault_free(v);
}

/* Equal data on one day is stored once; the blob lists its chunks. */
TEST(blob_chunks)
{
	struct vault *v = fresh("blob");
	struct import_opts o = { "test", "input", "test:x", 0 };
	struct import *im;
	size_t n = 300 * 1024;
	unsigned char *data = malloc(n);

	for (size_t i = 0; i < n; i++)
		data[i] = (unsigned char)((i * 2654435761u) >> 13);
	ASSERT_OK(import_open(&im, v, &o));
	ASSERT_OK(import_blob(im, T0, "b", "b.bin", "g1", NULL, data, n));
	ASSERT_OK(import_blob(im, T0 + 1, "b", "b.bin", "g2", NULL, data, n));
	ASSERT_EQ(import_next_seq(im, "b"), 2);
	ASSERT_OK(import_commit(im, NULL));
	ASSERT_EQ(count(v, "test:x", "fs.blob"), 2);
	ASSERT(count(v, "test:x", "fs.chunk") >= 2);
	ASSERT(count(v, "test:x", "fs.chunk") <= 20);
	free(data);
	vault_free(v);
}

TEST_LIST = {
	TEST_ENTRY(again_adds_nothing),
	TEST_ENTRY(seqs_go_on),
	TEST_ENTRY(abort_keeps_nothing),
	TEST_ENTRY(event_checked),
	TEST_ENTRY(blob_chunks),
	TEST_END,
};

TEST_MAIN()
