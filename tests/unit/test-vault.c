/* Unit tests for src/vault: the format, the writer, the reader, recovery. */
#define _GNU_SOURCE	/* sched_setaffinity, sched_getcpu */
#include <sched.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "error.h"
#include "ltime.h"
#include "vault-int.h"
#include "fileio.h"
#include "test.h"
#include "testvault.h"

#define PASS TEST_PASS
#define T0 1764183600000000000LL	/* 2025-11-26T19:00:00Z */
#define DAY (86400LL * 1000000000LL)

static struct buf dir = BUF_INIT;

/* A fresh vault directory for each test. */
static void fresh(const char *name)
{
	test_vault_create(&dir, "vault", name);
}

static struct vault *open_unlocked(void)
{
	struct vault *v;

	if (vault_open(&v, dir.data))
		TEST_FAIL("vault_open: %s", lt_errmsg());
	if (vault_unlock(v, PASS, strlen(PASS)))
		TEST_FAIL("vault_unlock: %s", lt_errmsg());
	return v;
}

static void append(struct tape *t, const char *stream, int64_t ts,
		   const char *kind, const char *text)
{
	if (tape_append(t, stream, ts, kind, text, strlen(text)))
		TEST_FAIL("tape_append: %s", lt_errmsg());
}

/* All records of a query as "t stream kind payload\n" lines. */
static void dump(struct vault *v, const struct vault_query *q, struct buf *out)
{
	struct vault_iter *it;
	struct vault_record r;
	int rc;

	buf_reset(out);
	if (vault_iter_open(&it, v, q))
		TEST_FAIL("vault_iter_open: %s", lt_errmsg());
	while ((rc = vault_iter_next(it, &r)) == 1)
		buf_addf(out, "%lld %s %s %.*s\n", (long long)(r.t - T0), r.stream,
			 r.kind, (int)r.len, (const char *)r.payload);
	vault_iter_free(it);
	if (rc < 0)
		TEST_FAIL("vault_iter_next: %s", lt_errmsg());
}

TEST(create_refuses_existing_and_unlock_checks_passphrase)
{
	struct vault *v;

	fresh("create");
	ASSERT_EQ(vault_create(dir.data, PASS, strlen(PASS), VAULT_KDF_FAST),
		  LT_EEXIST);
	ASSERT_OK(vault_open(&v, dir.data));
	ASSERT_STREQ(vault_kdf_name(v), "fast");
	ASSERT_EQ(vault_unlock(v, "wrong", 5), LT_EAUTH);
	ASSERT(strstr(lt_errmsg(), "wrong passphrase"));
	ASSERT(!vault_is_unlocked(v));
	ASSERT_OK(vault_unlock(v, PASS, strlen(PASS)));
	ASSERT(vault_is_unlocked(v));
	ASSERT_OK(vault_passwd(v, "new one", 7, VAULT_KDF_FAST));
	vault_free(v);
	ASSERT_OK(vault_open(&v, dir.data));
	ASSERT_EQ(vault_unlock(v, PASS, strlen(PASS)), LT_EAUTH);
	ASSERT_OK(vault_unlock(v, "new one", 7));
	vault_free(v);
}

TEST(open_missing_vault_says_what_to_do)
{
	struct vault *v;

	ASSERT_EQ(vault_open(&v, "/nonexistent/labtape-vault"), LT_ENOENT);
	ASSERT(strstr(lt_errmsg(), "labtape init"));
}

TEST(records_come_back_in_time_order_across_streams)
{
	struct vault_query q = VAULT_QUERY_INIT;
	struct vault *v;
	struct tape *t;
	struct buf out = BUF_INIT;

	fresh("order");
	v = open_unlocked();
	ASSERT_OK(tape_open(&t, v, NULL));
	append(t, "b", T0 + 30, "note", "b30");
	append(t, "a", T0 + 10, "note", "a10");
	append(t, "a", T0 + 40, "marker", "a40");
	append(t, "b", T0 + 25, "note", "b25");
	append(t, "a", T0 + 20, "note", "a20");
	/* Another day: another key domain and segment. */
	append(t, "a", T0 + LT_NS_PER_DAY, "note", "tomorrow");
	ASSERT_OK(tape_close(t));
	dump(v, &q, &out);
	ASSERT_STREQ(out.data, "10 a note a10\n"
			       "20 a note a20\n"
			       "25 b note b25\n"
			       "30 b note b30\n"
			       "40 a marker a40\n"
			       "86400000000000 a note tomorrow\n");
	q.stream = "a";
	q.kind = "note";
	q.since = T0 + 15;
	q.until = T0 + LT_NS_PER_DAY;
	dump(v, &q, &out);
	ASSERT_STREQ(out.data, "20 a note a20\n");
	q.stream = "nope";
	q.kind = NULL;
	q.since = INT64_MIN;
	q.until = INT64_MAX;
	dump(v, &q, &out);
	ASSERT_STREQ(out.data, "");
	buf_release(&out);
	vault_free(v);
}

/* sealer: 0 off, 1 on, 2 live with the whole test on one CPU, where the
 * sealer runs only when the appender waits or is preempted: the appender
 * then seals blocks itself (at the live level) and runs queued jobs in
 * the sealer's place. */
static void many_blocks(int sealer)
{
	cpu_set_t all, one;
	struct tape_options opt = TAPE_OPTIONS_INIT;
	struct vault_query q = VAULT_QUERY_INIT;
	struct vault_iter *it;
	struct vault_record r;
	struct vault *v;
	struct tape *t;
	int64_t last = INT64_MIN;
	int n = 0;

	fresh("blocks");
	v = open_unlocked();
	opt.block_size = 512;	/* many small blocks */
	opt.sealer = sealer > 0;
	opt.live = sealer == 2;
	ASSERT(sched_getaffinity(0, sizeof(all), &all) == 0);
	if (sealer == 2) {
		CPU_ZERO(&one);
		CPU_SET(sched_getcpu(), &one);
		ASSERT(sched_setaffinity(0, sizeof(one), &one) == 0);
	}
	ASSERT_OK(tape_open(&t, v, &opt));
	for (int i = 0; i < 5000; i++) {
		char text[64];
		/* Two streams whose times interleave, out of order in blocks. */
		snprintf(text, sizeof(text), "event %d", i);
		append(t, i % 2 ? "odd" : "even",
		       T0 + (i % 2 ? i : 5000 - i) * 1000, "note", text);
	}
	ASSERT_EQ(tape_count(t), 5000);
	ASSERT_OK(tape_close(t));
	sched_setaffinity(0, sizeof(all), &all);
	ASSERT_OK(vault_iter_open(&it, v, &q));
	while (vault_iter_next(it, &r) == 1) {
		ASSERT(r.t >= last);
		last = r.t;
		n++;
	}
	vault_iter_free(it);
	ASSERT_EQ(n, 5000);
	{
		struct vault_verify_stats st;
		ASSERT_OK(vault_verify(v, NULL, NULL, &st));
		ASSERT_EQ(st.records, 5000);
		ASSERT(st.blocks > 50);
		ASSERT_EQ(st.problems, 0);
	}
	vault_free(v);
}

TEST(many_blocks_merge_and_read_back)
{
	many_blocks(0);
}

TEST(many_blocks_through_the_sealer_thread)
{
	many_blocks(1);
}

TEST(many_blocks_through_an_idle_sealer_on_one_cpu)
{
	many_blocks(2);
}

/*
 * A child whose writes fail after budget bytes (lt_fault_enospc)
 * appends with the sealer on and commits every 100 records, until a
 * commit fails; it exits with the number of commits that succeeded.
 */
static int sealer_child(long long budget)
{
	pid_t pid = fork();
	int status;

	ASSERT(pid >= 0);
	if (pid == 0) {
		struct tape_options opt = TAPE_OPTIONS_INIT;
		struct vault *v;
		struct tape *t;
		char text[64];
		int commits = 0, r = 0;

		lt_fault_enospc(budget);
		opt.block_size = 256;
		opt.sealer = 1;
		if (vault_open(&v, dir.data) || tape_open(&t, v, &opt))
			_exit(200);
		for (int i = 0; i < 10000 && !r; i++) {
			snprintf(text, sizeof(text), "record %05d", i);
			r = tape_append(t, "s", T0 + i, "note", text,
					strlen(text));
			if (!r && i % 100 == 99 && !(r = tape_commit(t)))
				commits++;
		}
		/* The error rolled back; the tape is usable, the disk full. */
		if (r != LT_ENOSPC)
			_exit(r ? 202 : 201);
		tape_abort(t);
		vault_free(v);
		_exit(commits);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT(WIFEXITED(status));
	if (WEXITSTATUS(status) >= 200)
		TEST_FAIL("the writer exited with %d", WEXITSTATUS(status));
	return WEXITSTATUS(status);
}

TEST(a_sealer_error_rolls_back_to_the_last_commit)
{
	struct vault_query q = VAULT_QUERY_INIT;
	struct vault_iter *it;
	struct vault_record r;
	struct vault *v;
	int commits, n = 0;

	fresh("sealer-enospc");
	commits = sealer_child(40000);
	ASSERT(commits > 0 && commits < 100);
	v = open_unlocked();
	ASSERT_OK(vault_iter_open(&it, v, &q));
	while (vault_iter_next(it, &r) == 1) {
		char want[64];
		snprintf(want, sizeof(want), "record %05d", n);
		ASSERT(r.len == strlen(want) && !memcmp(r.payload, want, r.len));
		n++;
	}
	vault_iter_free(it);
	/* Exactly what was committed: nothing more, nothing less. */
	ASSERT_EQ(n, commits * 100);
	ASSERT_OK(vault_verify(v, NULL, NULL, NULL));
	vault_free(v);
}

/* The tape of a shell (tape.c note 11): commits every interval_ns, run
 * by the sealer; blocks of block_size. */
#define EVERY_MS 1000000LL
/* Longer than a test's appends take, so no commit comes due while they
 * run. */
#define EVERY_S 1000000000LL
static int open_behind(struct vault *v, struct tape **t, size_t block_size,
		       int64_t interval_ns)
{
	struct tape_options opt = TAPE_OPTIONS_INIT;

	opt.block_size = block_size;
	opt.sealer = 1;
	opt.live = 1;
	opt.autocommit = 1;
	opt.commit_behind = 1;
	opt.flush_interval_ns = interval_ns;
	return tape_open(t, v, &opt);
}

/* Appends "record %05d" for i in [from, to), pausing now and then for
 * the flush interval to pass; returns the first error. */
static int append_records(struct tape *t, int from, int to)
{
	char text[64];
	int r = 0;

	for (int i = from; i < to && !r; i++) {
		if (i % 250 == 0)
			usleep(3000);
		snprintf(text, sizeof(text), "record %05d", i);
		r = tape_append(t, "s", T0 + i, "note", text, strlen(text));
	}
	return r;
}

/* The records of the vault, which must be "record 00000" onwards with
 * none missing; returns how many. */
static int count_prefix(struct vault *v)
{
	struct vault_query q = VAULT_QUERY_INIT;
	struct vault_iter *it;
	struct vault_record r;
	int n = 0;

	ASSERT_OK(vault_iter_open(&it, v, &q));
	while (vault_iter_next(it, &r) == 1) {
		char want[64];
		snprintf(want, sizeof(want), "record %05d", n);
		if (r.len != strlen(want) || memcmp(r.payload, want, r.len))
			TEST_FAIL("record %d is '%.*s'", n, (int)r.len,
				  (const char *)r.payload);
		n++;
	}
	vault_iter_free(it);
	return n;
}

/* The vault holds "record 00000" to n - 1, and verifies clean. */
static void holds_prefix(struct vault *v, int n)
{
	struct vault_verify_stats st;

	ASSERT_EQ(count_prefix(v), n);
	ASSERT_OK(vault_verify(v, NULL, NULL, &st));
	ASSERT_EQ(st.records, (uint64_t)n);
	ASSERT_EQ(st.problems, 0);
}

/*
 * Commits behind: the index learns of blocks while the tape is open and
 * nobody calls tape_commit(), and closing leaves every record. On one
 * CPU the caller runs most jobs, the commits among them, in the sealer's
 * place.
 */
static void commits_behind(int one_cpu)
{
	cpu_set_t all, one;
	struct vault *v, *reader;
	struct tape *t;
	int seen;

	fresh("behind");
	v = open_unlocked();
	ASSERT(sched_getaffinity(0, sizeof(all), &all) == 0);
	if (one_cpu) {
		CPU_ZERO(&one);
		CPU_SET(sched_getcpu(), &one);
		ASSERT(sched_setaffinity(0, sizeof(one), &one) == 0);
	}
	ASSERT_OK(open_behind(v, &t, 512, EVERY_MS));
	ASSERT_OK(append_records(t, 0, 5000));
	/* Two intervals have passed since the first commit was queued, so
	 * it has run, whoever ran it. */
	reader = open_unlocked();
	seen = count_prefix(reader);
	vault_free(reader);
	ASSERT(seen > 0 && seen <= 5000);
	ASSERT_OK(tape_close(t));
	sched_setaffinity(0, sizeof(all), &all);
	holds_prefix(v, 5000);
	vault_free(v);
}

TEST(commits_behind_on_the_sealer_thread)
{
	commits_behind(0);
}

TEST(commits_behind_on_one_cpu)
{
	commits_behind(1);
}

/*
 * A commit behind writes its commit frame in its turn and leaves the
 * sync and the index transaction to the sealer (note 11). While another
 * writer holds the index, so that no commit can finish, the tape's
 * appends go on well past what the sealer's queue holds, where they used
 * to wait for the commit; the index learns of the blocks once it is free.
 */
TEST(appends_do_not_wait_for_the_sync_of_a_commit_behind)
{
	struct vault *v, *other, *reader;
	struct tape *t;
	char text[64];

	fresh("behind-sync");
	v = open_unlocked();
	other = open_unlocked();
	reader = open_unlocked();
	/* The next commit would wait for this one's: not due meanwhile. */
	ASSERT_OK(open_behind(v, &t, 512, EVERY_S));
	append(t, "s", T0, "note", "record 00000");
	ASSERT_OK(tape_commit(t));	/* the segment made and indexed */
	ASSERT_OK(idx_begin(other));
	usleep(1100000);
	/* Past the interval: this append queues the commit of the first. */
	for (int i = 1; i < 2000; i++) {
		snprintf(text, sizeof(text), "record %05d", i);
		if (tape_append(t, "s", T0 + i, "note", text, strlen(text)))
			TEST_FAIL("append %d: %s", i, lt_errmsg());
	}
	/* About 70 blocks went by while no commit could finish: the index
	 * knows the first record only (read through a handle of its own,
	 * as the sealer is using v's index). */
	ASSERT_EQ(count_prefix(reader), 1);
	vault_free(reader);
	idx_rollback(other);
	ASSERT_OK(tape_close(t));
	holds_prefix(v, 2000);
	vault_free(other);
	vault_free(v);
}

static void sum_stats(void *ctx, const struct vault_stat_row *row)
{
	uint64_t *sums = ctx;

	sums[0] += row->bytes;
	sums[1] += row->plain;
}

/*
 * Output at an ordinary rate, one block each flush interval followed by
 * its commit: the commit waiting behind a block does not count as the
 * sealer falling behind, so blocks keep the usual compression (words
 * and digits, which zstd's fastest level compresses much less). On one
 * CPU, so that blocks are sealed with their commit queued behind them.
 */
TEST(commits_behind_keep_ordinary_output_compressed)
{
	cpu_set_t all, one;
	struct vault *v;
	struct tape *t;
	uint64_t sums[2] = { 0, 0 };
	static const char *const words[] = {
		"loss", "step", "epoch", "lr", "eval", "grad_norm", "tokens/s",
		"checkpoint", "saved", "warning:", "acc", "ppl",
	};
	uint32_t x = 12345;

	fresh("behind-ratio");
	v = open_unlocked();
	ASSERT(sched_getaffinity(0, sizeof(all), &all) == 0);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	ASSERT(sched_setaffinity(0, sizeof(one), &one) == 0);
	/* Blocks closed only by commits: one record each interval. */
	ASSERT_OK(open_behind(v, &t, 64 * 1024, EVERY_MS));
	for (int i = 0; i < 100; i++) {
		char line[8192];
		size_t n = 0;
		while (n < sizeof(line) - 64) {
			x = x * 1103515245u + 12345u;
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s %u.%04u ",
					      words[(x >> 16) % 12], (x >> 8) % 1000,
					      x % 10000);
		}
		ASSERT_OK(tape_append(t, "s", T0 + i, "term.out", line, n));
		/* Past the flush interval, so the next append commits;
		 * spinning, so that the sealer hardly runs and the caller
		 * seals most blocks with their commit queued behind. */
		for (int64_t end = lt_mono_ns() + 6000000; lt_mono_ns() < end;)
			;
	}
	ASSERT_OK(tape_close(t));
	sched_setaffinity(0, sizeof(all), &all);
	ASSERT_OK(vault_stats(v, sum_stats, sums));
	/* About 2.6 to 1 at the usual level, 1.6 at the fastest. */
	if (sums[0] * 2 > sums[1])
		TEST_FAIL("%llu bytes on disk for %llu of records",
			  (unsigned long long)sums[0], (unsigned long long)sums[1]);
	vault_free(v);
}

/*
 * The disk fills up under commits behind: the error reaches an append,
 * the tape rolls back, and the vault holds what was committed, a prefix
 * of what was appended. A writer killed outright leaves a prefix too.
 */
TEST(commits_behind_fail_and_die_cleanly)
{
	for (int kill = 0; kill < 2; kill++) {
		pid_t pid;
		int status, n;
		struct vault *v;

		fresh(kill ? "behind-kill" : "behind-enospc");
		pid = fork();
		ASSERT(pid >= 0);
		if (pid == 0) {
			struct tape *t;
			int r;

			if (!kill)
				lt_fault_enospc(60000);
			if (vault_open(&v, dir.data) ||
			    open_behind(v, &t, 512, EVERY_MS))
				_exit(200);
			r = append_records(t, 0, 20000);
			if (kill)
				_exit(r ? 201 : 0);	/* no close: a crash */
			if (r != LT_ENOSPC)
				_exit(r ? 202 : 203);
			/* Rolled back, and usable; the disk still full. */
			tape_abort(t);
			vault_free(v);
			_exit(0);
		}
		ASSERT_EQ(waitpid(pid, &status, 0), pid);
		ASSERT(WIFEXITED(status));
		if (WEXITSTATUS(status))
			TEST_FAIL("the writer exited with %d", WEXITSTATUS(status));
		v = open_unlocked();	/* recovery runs here */
		n = count_prefix(v);
		ASSERT(n > 0 && n < 20000);
		ASSERT_OK(vault_verify(v, NULL, NULL, NULL));
		vault_free(v);
	}
}

/* Files under dir/sub whose names end in suffix, counted with find(1). */
static int count_files(const char *sub, const char *suffix)
{
	struct buf cmd = BUF_INIT;
	FILE *f;
	int n = -1;

	buf_addf(&cmd, "find '%s/%s' -name '*%s' | wc -l", dir.data, sub, suffix);
	f = popen(cmd.data, "r");
	ASSERT(f);
	ASSERT_EQ(fscanf(f, "%d", &n), 1);
	pclose(f);
	buf_release(&cmd);
	return n;
}

/*
 * A transaction over many days with the sealer making each new day's
 * segment (tape.c, note 10), and the disk filling up: what was committed
 * stays, the rest leaves no segment or key file behind.
 */
TEST(a_full_disk_while_the_sealer_makes_segments)
{
	pid_t pid;
	int status, commits;
	struct vault *v;

	fresh("sealer-days");
	pid = fork();
	ASSERT(pid >= 0);
	if (pid == 0) {
		struct tape_options opt = TAPE_OPTIONS_INIT;
		struct tape *t;
		int r = 0;

		commits = 0;
		lt_fault_enospc(60000);
		opt.sealer = 1;
		if (vault_open(&v, dir.data) || tape_open(&t, v, &opt))
			_exit(200);
		for (int i = 0; i < 3000 && !r; i++) {
			r = tape_append(t, "s", T0 + i * DAY, "note", "day", 3);
			if (!r && i % 50 == 49 && !(r = tape_commit(t)))
				commits++;
		}
		if (r != LT_ENOSPC)
			_exit(r ? 202 : 201);
		tape_abort(t);
		vault_free(v);
		_exit(commits);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT(WIFEXITED(status));
	commits = WEXITSTATUS(status);
	if (commits >= 200)
		TEST_FAIL("the writer exited with %d", commits);
	ASSERT(commits > 0);
	v = open_unlocked();
	ASSERT_OK(vault_verify(v, NULL, NULL, NULL));
	vault_free(v);
	ASSERT_EQ(count_files("segments", ".seg"), commits * 50);
	ASSERT_EQ(count_files("keys", ".key"), commits * 50);
	ASSERT_EQ(count_files("segments", ".tmp"), 0);
}

/*
 * A shell's tape across many days (a session left open for months, in
 * fast motion): each day's segment is made by the sealer, its index row
 * beside the sync of an earlier commit on the other thread (tape.c note
 * 11), and past 64 open segments the oldest are retired in line. Every
 * record is there, one segment a day, and the vault verifies.
 */
TEST(commits_behind_across_many_days)
{
	struct vault *v;
	struct tape *t;
	char text[64];

	fresh("behind-days");
	v = open_unlocked();
	ASSERT_OK(open_behind(v, &t, 512, EVERY_MS));
	for (int i = 0; i < 8000; i++) {
		if (i % 100 == 0)
			usleep(2000);	/* a commit comes due each day */
		snprintf(text, sizeof(text), "record %05d", i);
		if (tape_append(t, "s", T0 + (int64_t)(i / 100) * DAY + i,
				"note", text, strlen(text)))
			TEST_FAIL("append %d: %s", i, lt_errmsg());
	}
	ASSERT_OK(tape_close(t));
	holds_prefix(v, 8000);
	ASSERT_EQ(count_files("segments", ".seg"), 80);
	vault_free(v);
}

/*
 * A shell's tape has its new segments made by the sealer (tape.c note
 * 11): the first record does not wait for the key file, the header,
 * their syncs and the index row. While another writer holds the index,
 * the first appends return at once, where they used to wait for it; the
 * segment and the records are there once the index is free.
 */
TEST(a_commit_behind_tape_makes_its_segments_on_the_sealer)
{
	struct vault *v, *other;
	struct tape *t;

	fresh("behind-create");
	v = open_unlocked();
	other = open_unlocked();
	ASSERT_OK(open_behind(v, &t, 512, EVERY_S));
	ASSERT_OK(idx_begin(other));
	ASSERT_OK(append_records(t, 0, 10));
	idx_rollback(other);
	ASSERT_OK(tape_close(t));
	holds_prefix(v, 10);
	ASSERT_EQ(count_files("segments", ".seg"), 1);
	vault_free(other);
	vault_free(v);
}

/*
 * The disk is full when the sealer makes a shell's segment: the error
 * reaches an append (the blocks queued behind the segment fill the
 * queue), and the rollback drops the segment, so nothing of it is left
 * behind. Once there is room again, the same tape makes a new one.
 */
TEST(a_full_disk_when_the_sealer_makes_a_shells_segment)
{
	struct vault *v;
	struct tape *t;

	fresh("behind-create-enospc");
	v = open_unlocked();
	ASSERT_OK(open_behind(v, &t, 512, EVERY_MS));
	lt_fault_enospc(0);
	ASSERT_EQ(append_records(t, 0, 2000), LT_ENOSPC);
	ASSERT_EQ(count_files("segments", ".seg"), 0);
	ASSERT_EQ(count_files("segments", ".tmp"), 0);
	ASSERT_EQ(count_files("keys", ".key"), 0);
	lt_fault_enospc(-1);
	ASSERT_OK(append_records(t, 0, 100));
	ASSERT_OK(tape_close(t));
	holds_prefix(v, 100);
	ASSERT_EQ(count_files("segments", ".seg"), 1);
	ASSERT_EQ(count_files("keys", ".key"), 1);
	vault_free(v);
}

TEST(rollback_and_abort_keep_nothing)
{
	struct vault_query q = VAULT_QUERY_INIT;
	struct vault *v;
	struct tape *t;
	struct buf out = BUF_INIT;

	fresh("rollback");
	v = open_unlocked();
	ASSERT_OK(tape_open(&t, v, NULL));
	append(t, "s", T0 + 1, "note", "kept");
	ASSERT_OK(tape_commit(t));
	append(t, "s", T0 + 2, "note", "dropped");
	ASSERT_OK(tape_rollback(t));
	append(t, "s", T0 + 3, "note", "kept too");
	ASSERT_OK(tape_commit(t));
	append(t, "s", T0 + 4, "note", "aborted");
	append(t, "other", T0 + 5, "note", "aborted");
	tape_abort(t);
	dump(v, &q, &out);
	ASSERT_STREQ(out.data, "1 s note kept\n3 s note kept too\n");
	ASSERT_OK(vault_verify(v, NULL, NULL, NULL));
	buf_release(&out);
	vault_free(v);
}

TEST(bad_arguments_are_refused_without_damage)
{
	struct vault *v;
	struct tape *t;
	char kind[300];

	fresh("badargs");
	v = open_unlocked();
	ASSERT_OK(tape_open(&t, v, NULL));
	memset(kind, 'k', sizeof(kind) - 1);
	kind[sizeof(kind) - 1] = '\0';
	ASSERT_EQ(tape_append(t, "s", T0, kind, "x", 1), LT_EINVAL);
	ASSERT_EQ(tape_append(t, "s", T0, "", "x", 1), LT_EINVAL);
	ASSERT_EQ(tape_append(t, "", T0, "note", "x", 1), LT_EINVAL);
	ASSERT_EQ(tape_append(t, "s", T0, "note", "x", TAPE_MAX_PAYLOAD + 1),
		  LT_ETOOBIG);
	append(t, "s", T0, "note", "fine");
	ASSERT_OK(tape_close(t));
	ASSERT_OK(vault_verify(v, NULL, NULL, NULL));
	vault_free(v);
}

/* A child that commits, leaves an uncommitted tail and dies. */
static void die_midway(void)
{
	pid_t pid = fork();
	int status;

	ASSERT(pid >= 0);
	if (pid == 0) {
		struct vault *v;
		struct tape *t;
		if (vault_open(&v, dir.data) || tape_open(&t, v, NULL))
			_exit(2);
		tape_append(t, "s", T0 + 1, "note", "committed", 9);
		if (tape_commit(t))
			_exit(3);
		tape_append(t, "s", T0 + 2, "note", "not committed", 13);
		/* Force the block out without a commit frame. */
		for (int i = 0; i < 2000; i++)
			tape_append(t, "s", T0 + 3, "note",
				    "padding padding padding padding padding", 39);
		_exit(0);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(recovery_cuts_a_dead_writers_tail)
{
	struct vault_query q = VAULT_QUERY_INIT;
	struct vault *v;
	struct buf out = BUF_INIT;
	sqlite3_stmt *st;

	fresh("recover");
	die_midway();
	v = open_unlocked();	/* recovery runs here */
	dump(v, &q, &out);
	ASSERT_STREQ(out.data, "1 s note committed\n");
	ASSERT_OK(idx_prepare(v, "SELECT count(*) FROM segments WHERE sealed = 0",
			      &st));
	ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
	ASSERT_EQ(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	ASSERT_OK(vault_verify(v, NULL, NULL, NULL));
	buf_release(&out);
	vault_free(v);
}

TEST(reindex_gives_the_same_answers)
{
	struct vault_query q = VAULT_QUERY_INIT;
	struct buf before = BUF_INIT, after = BUF_INIT, path = BUF_INIT;
	struct vault *v;
	struct tape *t;

	fresh("reindex");
	v = open_unlocked();
	ASSERT_OK(tape_open(&t, v, NULL));
	for (int i = 0; i < 300; i++)
		append(t, i % 3 ? "x" : "y", T0 + i * LT_NS_PER_SEC * 600,
		       i % 5 ? "note" : "marker", "some text to compress");
	ASSERT_OK(tape_close(t));
	dump(v, &q, &before);
	ASSERT_OK(vault_reindex(v, NULL, NULL));
	dump(v, &q, &after);
	ASSERT_STREQ(before.data, after.data);
	vault_free(v);

	/* Losing the index altogether rebuilds it on open. */
	buf_addf(&path, "%s/index.db", dir.data);
	ASSERT_OK(unlink(path.data));
	buf_addstr(&path, "-wal");
	unlink(path.data);
	v = open_unlocked();
	dump(v, &q, &after);
	ASSERT_STREQ(before.data, after.data);
	ASSERT_OK(vault_verify(v, NULL, NULL, NULL));
	vault_free(v);
	buf_release(&before);
	buf_release(&after);
	buf_release(&path);
}

/* The path of the only segment of stream day T0. */
static void first_segment(struct vault *v, struct buf *path)
{
	sqlite3_stmt *st;

	ASSERT_OK(idx_prepare(v, "SELECT seg_id, day FROM segments LIMIT 1", &st));
	ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
	vault_seg_path(v, sqlite3_column_int(st, 1), sqlite3_column_blob(st, 0),
		       path);
	sqlite3_finalize(st);
}

static void flip_byte(const char *path, off_t off)
{
	int fd = open(path, O_RDWR);
	uint8_t c;

	ASSERT(fd >= 0);
	ASSERT_EQ(pread(fd, &c, 1, off), 1);
	c ^= 0x20;
	ASSERT_EQ(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

static void count_problems(void *ctx, int problem, const char *msg)
{
	(void)msg;
	if (problem)
		(*(int *)ctx)++;
}

TEST(a_flipped_byte_costs_one_block)
{
	struct tape_options opt = TAPE_OPTIONS_INIT;
	struct vault_query q = VAULT_QUERY_INIT;
	struct vault_iter *it;
	struct vault_record r;
	struct buf path = BUF_INIT;
	struct vault *v;
	struct tape *t;
	struct stat st;
	int n = 0, errors = 0, problems = 0, rc;

	fresh("flip");
	v = open_unlocked();
	opt.block_size = 1024;
	ASSERT_OK(tape_open(&t, v, &opt));
	for (int i = 0; i < 1000; i++)
		append(t, "s", T0 + i, "note", "0123456789abcdefghij");
	ASSERT_OK(tape_close(t));
	first_segment(v, &path);
	ASSERT_OK(stat(path.data, &st));
	flip_byte(path.data, st.st_size / 2);

	ASSERT_EQ(vault_verify(v, count_problems, &problems, NULL), LT_ECORRUPT);
	ASSERT(problems >= 1);
	ASSERT_OK(vault_iter_open(&it, v, &q));
	while ((rc = vault_iter_next(it, &r)) != 0) {
		if (rc < 0) {
			ASSERT(strstr(lt_errmsg(), path.data));
			errors++;
		} else {
			n++;
		}
	}
	vault_iter_free(it);
	ASSERT_EQ(errors, 1);
	ASSERT(n < 1000 && n >= 1000 - 60);
	buf_release(&path);
	vault_free(v);
}

TEST(deleting_a_key_file_shreds_its_segment_only)
{
	struct vault_query q = VAULT_QUERY_INIT;
	struct buf kp = BUF_INIT, out = BUF_INIT;
	struct vault *v;
	struct tape *t;
	sqlite3_stmt *st;
	int rc, errors = 0;

	fresh("shred");
	v = open_unlocked();
	ASSERT_OK(tape_open(&t, v, NULL));
	append(t, "secret", T0 + 1, "note", "gone");
	append(t, "public", T0 + 2, "note", "stays");
	ASSERT_OK(tape_close(t));
	vault_free(v);

	v = open_unlocked();
	ASSERT_OK(idx_prepare(v, "SELECT key_id, day FROM segments", &st));
	while (sqlite3_step(st) == SQLITE_ROW) {
		const uint8_t *key;
		const char *label;
		const uint8_t *id = sqlite3_column_blob(st, 0);
		int32_t day = sqlite3_column_int(st, 1);
		ASSERT_OK(vault_data_key(v, id, day, &key, &label));
		if (!strcmp(label, "secret"))
			vault_key_path(v, day, id, &kp);
	}
	sqlite3_finalize(st);
	vault_free(v);
	ASSERT(kp.len > 0);
	ASSERT_OK(unlink(kp.data));

	v = open_unlocked();
	{
		struct vault_iter *it;
		struct vault_record r;
		ASSERT_OK(vault_iter_open(&it, v, &q));
		buf_reset(&out);
		while ((rc = vault_iter_next(it, &r)) != 0) {
			if (rc == LT_ENOKEY)
				errors++;
			else if (rc == 1)
				buf_addf(&out, "%.*s\n", (int)r.len,
					 (const char *)r.payload);
			else
				TEST_FAIL("unexpected %d: %s", rc, lt_errmsg());
		}
		vault_iter_free(it);
	}
	ASSERT_EQ(errors, 1);
	ASSERT_STREQ(out.data, "stays\n");
	buf_release(&kp);
	buf_release(&out);
	vault_free(v);
}

TEST(frame_parser_survives_garbage)
{
	uint8_t buf[512];
	struct frame_header h;
	size_t need;

	randombytes_buf_deterministic(buf, sizeof(buf),
				      (const uint8_t *)"0123456789abcdef0123456789abcdef");
	for (size_t i = 0; i + FRAME_FIXED < sizeof(buf); i++) {
		memcpy(buf + i, FRAME_MAGIC, 4);
		int r = frame_parse_header(buf + i, sizeof(buf) - i, &h, &need);
		ASSERT(r == LT_ECORRUPT || r == LT_ETOOBIG);
	}
}

TEST(segment_header_round_trip_and_version_check)
{
	struct seg_header h = { VAULT_VERSION, { 1, 2, 3 }, { 4, 5, 6 }, T0, 20418 },
			  g;
	uint8_t b[SEG_HEADER_LEN];

	seg_header_encode(&h, b);
	ASSERT_OK(seg_header_decode(b, &g));
	ASSERT_MEMEQ(h.seg_id, g.seg_id, VAULT_ID_LEN);
	ASSERT_EQ(g.created, T0);
	ASSERT_EQ(g.day, 20418);
	h.version = 2;
	seg_header_encode(&h, b);
	ASSERT_EQ(seg_header_decode(b, &g), LT_EVERSION);
	ASSERT(strstr(lt_errmsg(), "upgrade labtape"));
	h.version = VAULT_VERSION;
	seg_header_encode(&h, b);
	b[40] ^= 1;
	ASSERT_EQ(seg_header_decode(b, &g), LT_ECORRUPT);
}

TEST_LIST = {
	TEST_ENTRY(create_refuses_existing_and_unlock_checks_passphrase),
	TEST_ENTRY(open_missing_vault_says_what_to_do),
	TEST_ENTRY(records_come_back_in_time_order_across_streams),
	TEST_ENTRY(many_blocks_merge_and_read_back),
	TEST_ENTRY(many_blocks_through_the_sealer_thread),
	TEST_ENTRY(many_blocks_through_an_idle_sealer_on_one_cpu),
	TEST_ENTRY(a_sealer_error_rolls_back_to_the_last_commit),
	TEST_ENTRY(a_full_disk_while_the_sealer_makes_segments),
	TEST_ENTRY(a_commit_behind_tape_makes_its_segments_on_the_sealer),
	TEST_ENTRY(commits_behind_across_many_days),
	TEST_ENTRY(a_full_disk_when_the_sealer_makes_a_shells_segment),
	TEST_ENTRY(commits_behind_on_the_sealer_thread),
	TEST_ENTRY(commits_behind_on_one_cpu),
	TEST_ENTRY(appends_do_not_wait_for_the_sync_of_a_commit_behind),
	TEST_ENTRY(commits_behind_keep_ordinary_output_compressed),
	TEST_ENTRY(commits_behind_fail_and_die_cleanly),
	TEST_ENTRY(rollback_and_abort_keep_nothing),
	TEST_ENTRY(bad_arguments_are_refused_without_damage),
	TEST_ENTRY(recovery_cuts_a_dead_writers_tail),
	TEST_ENTRY(reindex_gives_the_same_answers),
	TEST_ENTRY(a_flipped_byte_costs_one_block),
	TEST_ENTRY(deleting_a_key_file_shreds_its_segment_only),
	TEST_ENTRY(frame_parser_survives_garbage),
	TEST_ENTRY(segment_header_round_trip_and_version_check),
	TEST_END,
};

TEST_MAIN()
