/*
 * Unit tests for src/sources/files-blob.c: binary files as content-defined
 * chunks. A fake source records the events, checks each against its kind
 * (ev_validate, and the payload codec both ways), and the file is rebuilt
 * from them.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "error.h"
#include "events.h"
#include "fastcdc.h"
#include "files-int.h"
#include "test.h"
#include "banned.h"

#define T0 INT64_C(1795719600000000000) /* 2026-11-26T19:00:00Z */
#define DAY INT64_C(86400000000000)

static json_t *events;	/* [kind, data] pairs */
static int fail_after = -1;

static int fake_emit(struct source *s, const char *stream, int64_t t,
		     const char *kind, json_t *data,
		     const struct source_about *about)
{
	const struct ev_kind *k = ev_kind_find(kind);
	struct buf why = BUF_INIT, payload = BUF_INIT;
	json_t *back;

	if (fail_after > 0 && --fail_after == 0)
		return lt_error(LT_EIO, "emit failed on purpose");
	ASSERT(k);
	ASSERT(about && about->path && !strcmp(about->path, "data/a.bin"));
	if (ev_validate(k, data, &why))
		TEST_FAIL("%s: %s", kind, why.data);
	ASSERT_OK(ev_encode(k, data, &payload));
	ASSERT_OK(ev_decode(k, (const uint8_t *)payload.data, payload.len,
			    &back));
	ASSERT(json_equal(back, data));
	json_decref(back);
	buf_release(&payload);
	json_array_append_new(events, json_pack("[sO]", kind, data));
	return 0;
}

/* A direct payload must be byte for byte what the JSON path makes of it. */
static int fake_emit_payload(struct source *s, const char *stream, int64_t t,
			     const char *kind, const void *payload, size_t n,
			     const struct source_about *about)
{
	const struct ev_kind *k = ev_kind_find(kind);
	struct buf again = BUF_INIT;
	json_t *data;
	int r;

	ASSERT(k);
	ASSERT_OK(ev_decode(k, payload, n, &data));
	ASSERT_OK(ev_encode(k, data, &again));
	ASSERT(again.len == n && !memcmp(again.data, payload, n));
	buf_release(&again);
	r = fake_emit(s, stream, t, kind, data, about);
	json_decref(data);
	return r;
}

static struct source fake = { .emit = fake_emit,
			      .emit_payload = fake_emit_payload };

static void emit_init(struct files_emit *e, int64_t t)
{
	memset(e, 0, sizeof(*e));
	e->src = &fake;
	e->stream = "fs:/test";
	e->t = t;
	e->doc = "file:0123456789abcdef";
	e->path = "data/a.bin";
	e->about.dir = "/test";
	e->about.path = e->path;
	e->group = "save:1";
	e->actor = "tester";
	e->since_snapshot = 7;
	e->snapshot_every = 100;
}

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint8_t *random_bytes(size_t n, uint64_t seed)
{
	uint8_t *p = malloc(n ? n : 1);

	rng_state = seed;
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng();
	return p;
}

/* A temporary file holding p[0..n), open for reading. */
static int temp_file(const uint8_t *p, size_t n)
{
	char path[4096];
	const char *dir = getenv("TEST_TMPDIR");
	int fd;

	snprintf(path, sizeof(path), "%s/blob-XXXXXX", dir ? dir : "/tmp");
	fd = mkstemp(path);
	ASSERT(fd >= 0);
	unlink(path);
	ASSERT(write(fd, p, n) == (ssize_t)n);
	return fd;
}

/* The chunk store built from every fs.chunk so far: hash -> base64. */
static json_t *store;

/*
 * Checks the events from index `from` on: fs.chunks, then one fs.blob
 * last, which rebuilds to p[0..n). Returns the number of new chunks.
 */
static size_t check_version(size_t from, const uint8_t *p, size_t n,
			    uint64_t seq)
{
	size_t count = json_array_size(events), fresh = 0, off = 0, i;
	json_t *blob, *h;

	ASSERT(count > from);
	for (i = from; i + 1 < count; i++) {
		json_t *ev = json_array_get(events, i);
		json_t *d = json_array_get(ev, 1);
		const char *hash = json_string_value(json_object_get(d, "hash"));
		ASSERT_STREQ(json_string_value(json_array_get(ev, 0)), "fs.chunk");
		/* A name is stored once. */
		ASSERT(!json_object_get(store, hash));
		json_object_set(store, hash, json_object_get(d, "data"));
		fresh++;
	}
	ASSERT_STREQ(json_string_value(json_array_get(json_array_get(events,
		count - 1), 0)), "fs.blob");
	blob = json_array_get(json_array_get(events, count - 1), 1);
	ASSERT_EQ(json_integer_value(json_object_get(blob, "size")), n);
	ASSERT_EQ(json_integer_value(json_object_get(blob, "seq")), seq);
	ASSERT_STREQ(json_string_value(json_object_get(blob, "doc")),
		     "file:0123456789abcdef");
	ASSERT_STREQ(json_string_value(json_object_get(blob, "path")),
		     "data/a.bin");
	ASSERT_STREQ(json_string_value(json_object_get(blob, "group")),
		     "save:1");
	ASSERT_STREQ(json_string_value(json_object_get(blob, "actor")),
		     "tester");
	json_array_foreach(json_object_get(blob, "chunks"), i, h) {
		json_t *b64 = json_object_get(store, json_string_value(h));
		uint8_t *bin;
		size_t len;
		ASSERT(b64);
		bin = malloc(json_string_length(b64) + 1);
		ASSERT(sodium_base642bin(bin, json_string_length(b64) + 1,
					 json_string_value(b64),
					 json_string_length(b64), NULL, &len,
					 NULL, sodium_base64_VARIANT_ORIGINAL) == 0);
		ASSERT(len <= FASTCDC_MAX);
		ASSERT(i + 1 == json_array_size(json_object_get(blob, "chunks")) ||
		       len >= FASTCDC_MIN);
		ASSERT(off + len <= n);
		ASSERT_MEMEQ(bin, p + off, len);
		off += len;
		free(bin);
	}
	ASSERT_EQ(off, n);
	return fresh;
}

static void setup(void)
{
	events = json_array();
	store = json_object();
}

static void teardown(void)
{
	json_decref(events);
	json_decref(store);
}

TEST(versions_share_chunks)
{
	size_t n = 5u << 20, fresh;
	uint8_t *p = random_bytes(n + 1, 1), *q = malloc(n + 1);
	struct files_chunks *c = files_chunks_new();
	struct files_emit e;
	size_t mark;
	int fd;

	setup();
	emit_init(&e, T0);
	fd = temp_file(p, n);
	ASSERT_OK(files_blob_emit(&e, c, fd, n));
	close(fd);
	fresh = check_version(0, p, n, 0);
	ASSERT(fresh > 40 && fresh < 120);
	ASSERT_EQ(e.seq, 1);
	ASSERT_EQ(e.since_snapshot, 0);

	/* The same bytes again: only a blob. */
	mark = json_array_size(events);
	fd = temp_file(p, n);
	ASSERT_OK(files_blob_emit(&e, c, fd, n));
	close(fd);
	ASSERT_EQ(check_version(mark, p, n, 1), 0);

	/* One byte inserted near the start: one or two new chunks. */
	q[0] = p[0];
	q[1] = 0x42;
	memcpy(q + 2, p + 1, n - 1);
	mark = json_array_size(events);
	fd = temp_file(q, n + 1);
	ASSERT_OK(files_blob_emit(&e, c, fd, n + 1));
	close(fd);
	ASSERT(check_version(mark, q, n + 1, 2) <= 2);

	/* The next day: a new key, every chunk stored again under a new
	 * name (no blob refers to another day's chunks). */
	mark = json_array_size(events);
	emit_init(&e, T0 + DAY);
	e.seq = 3;
	fd = temp_file(p, n);
	ASSERT_OK(files_blob_emit(&e, c, fd, n));
	close(fd);
	ASSERT_EQ(check_version(mark, p, n, 3), fresh);

	files_chunks_free(c);
	teardown();
	free(p);
	free(q);
}

TEST(small_empty_and_repetitive_files)
{
	struct files_chunks *c = files_chunks_new();
	struct files_emit e;
	size_t n = 3 * FASTCDC_MAX + 5;
	uint8_t *zeros = calloc(n, 1);
	uint8_t *p = random_bytes(100, 2);
	size_t mark;
	int fd;

	setup();
	emit_init(&e, T0);
	fd = temp_file(p, 0);
	ASSERT_OK(files_blob_emit(&e, c, fd, 0));
	close(fd);
	ASSERT_EQ(check_version(0, p, 0, 0), 0);
	ASSERT_EQ(json_array_size(json_object_get(json_array_get(
		json_array_get(events, 0), 1), "chunks")), 0);

	mark = json_array_size(events);
	fd = temp_file(p, 100);
	ASSERT_OK(files_blob_emit(&e, c, fd, 100));
	close(fd);
	ASSERT_EQ(check_version(mark, p, 100, 1), 1);

	/* Three equal chunks of the largest size and a tail: two stored. */
	mark = json_array_size(events);
	fd = temp_file(zeros, n);
	ASSERT_OK(files_blob_emit(&e, c, fd, n));
	close(fd);
	ASSERT_EQ(check_version(mark, zeros, n, 2), 2);
	ASSERT_EQ(json_array_size(json_object_get(json_array_get(
		json_array_get(events, json_array_size(events) - 1), 1),
		"chunks")), 4);
	files_chunks_free(c);
	teardown();
	free(zeros);
	free(p);
}

TEST(file_that_changes)
{
	struct files_chunks *c = files_chunks_new();
	struct files_emit e;
	uint8_t *p = random_bytes(300000, 3);
	int fd;

	setup();
	emit_init(&e, T0);
	fd = temp_file(p, 300000);
	/* Longer than it was said to be, and shorter. */
	ASSERT_EQ(files_blob_emit(&e, c, fd, 200000), LT_EIO);
	ASSERT(strstr(lt_errmsg(), "'data/a.bin' changed while it was read"));
	ASSERT_EQ(files_blob_emit(&e, c, fd, 400000), LT_EIO);
	ASSERT_EQ(e.seq, 0);
	ASSERT_EQ(e.since_snapshot, 7);
	for (size_t i = 0; i < json_array_size(events); i++)
		ASSERT_STREQ(json_string_value(json_array_get(json_array_get(
			events, i), 0)), "fs.chunk");
	/* A descriptor that cannot be read. */
	close(fd);
	ASSERT_EQ(files_blob_emit(&e, c, fd, 10), LT_EIO);
	ASSERT(strstr(lt_errmsg(), "cannot read 'data/a.bin'"));
	files_chunks_free(c);
	teardown();
	free(p);
}

TEST(failed_emit_is_retried)
{
	struct files_chunks *c = files_chunks_new();
	struct files_emit e;
	size_t n = 2u << 20;
	uint8_t *p = random_bytes(n, 4);
	int fd = temp_file(p, n);

	setup();
	emit_init(&e, T0);
	fail_after = 3;
	ASSERT_EQ(files_blob_emit(&e, c, fd, n), LT_EIO);
	fail_after = -1;
	ASSERT_EQ(json_array_size(events), 2);
	ASSERT_EQ(e.seq, 0);
	/* The chunk whose event failed is sent again, the two before not
	 * (check_version fails on a name stored twice). */
	ASSERT_OK(files_blob_emit(&e, c, fd, n));
	ASSERT(check_version(0, p, n, 0) > 3);
	close(fd);
	files_chunks_free(c);
	teardown();
	free(p);
}

/* A file far larger than the read buffer streams through it. */
TEST(large_sparse_file)
{
	struct files_chunks *c = files_chunks_new();
	struct files_emit e;
	uint64_t n = (256u << 20) + 12345;
	uint8_t *p = random_bytes(4096, 5);
	char path[4096];
	const char *dir = getenv("TEST_TMPDIR");
	json_t *chunks;
	int fd;

	snprintf(path, sizeof(path), "%s/blob-XXXXXX", dir ? dir : "/tmp");
	ASSERT((fd = mkstemp(path)) >= 0);
	unlink(path);
	ASSERT(ftruncate(fd, (off_t)n) == 0);
	ASSERT(pwrite(fd, p, 4096, 100 << 20) == 4096);
	setup();
	emit_init(&e, T0);
	ASSERT_OK(files_blob_emit(&e, c, fd, n));
	close(fd);
	chunks = json_object_get(json_array_get(json_array_get(events,
		json_array_size(events) - 1), 1), "chunks");
	ASSERT(json_array_size(chunks) >= n / FASTCDC_MAX);
	/* Zeros repeat: a handful of distinct chunks. */
	ASSERT(json_array_size(events) < 10);
	files_chunks_free(c);
	teardown();
	free(p);
}

TEST_LIST = {
	TEST_ENTRY(versions_share_chunks),
	TEST_ENTRY(small_empty_and_repetitive_files),
	TEST_ENTRY(file_that_changes),
	TEST_ENTRY(failed_emit_is_retried),
	TEST_ENTRY(large_sparse_file),
	TEST_END
};

TEST_MAIN()
