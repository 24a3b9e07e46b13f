/* Unit tests for src/util. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "bytes.h"
#include "error.h"
#include "fileio.h"
#include "hex.h"
#include "ltime.h"
#include "strmap.h"
#include "test.h"

TEST(buf_never_null_and_terminated)
{
	struct buf b = BUF_INIT;

	ASSERT(b.data != NULL);
	ASSERT_EQ(b.data[0], 0);
	ASSERT_OK(buf_addstr(&b, "abc"));
	ASSERT_OK(buf_addf(&b, "-%d-%s", 42, "x"));
	ASSERT_STREQ(b.data, "abc-42-x");
	ASSERT_EQ(b.len, 8);
	buf_reset(&b);
	ASSERT_STREQ(b.data, "");
	for (int i = 0; i < 10000; i++)
		ASSERT_OK(buf_addch(&b, 'a' + i % 26));
	ASSERT_EQ(b.len, 10000);
	ASSERT_EQ(b.data[b.len], 0);
	buf_release(&b);
	ASSERT(b.data != NULL);
	ASSERT_EQ(b.len, 0);
}

TEST(buf_cap_refuses_and_keeps)
{
	struct buf b = BUF_INIT;

	b.cap = 8;
	ASSERT_OK(buf_addstr(&b, "12345678"));
	ASSERT_EQ(buf_addch(&b, '9'), LT_ETOOBIG);
	ASSERT_STREQ(b.data, "12345678");
	ASSERT_EQ(buf_addf(&b, "%s", "long text"), LT_ETOOBIG);
	ASSERT_EQ(b.len, 8);
	/* Also when the text would fit in memory already allocated. */
	buf_setlen(&b, 6);
	ASSERT_EQ(buf_addf(&b, "%s", "abc"), LT_ETOOBIG);
	ASSERT_EQ(b.len, 6);
	buf_release(&b);
}

TEST(buf_detach_hands_over)
{
	struct buf b = BUF_INIT;
	size_t n;
	char *p;

	p = buf_detach(&b, &n);
	ASSERT_STREQ(p, "");
	free(p);
	buf_addstr(&b, "hello");
	p = buf_detach(&b, &n);
	ASSERT_EQ(n, 5);
	ASSERT_STREQ(p, "hello");
	ASSERT_EQ(b.len, 0);
	free(p);
}

TEST(varints_round_trip)
{
	static const uint64_t u[] = { 0, 1, 127, 128, 300, 1ull << 35,
				      UINT64_MAX - 1, UINT64_MAX };
	static const int64_t s[] = { 0, -1, 1, -64, 64, INT64_MIN, INT64_MAX };
	uint8_t tmp[UVARINT_MAX];

	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		const uint8_t *p = tmp;
		uint64_t v;
		size_t n = put_uvarint(tmp, u[i]);
		ASSERT_OK(get_uvarint(&p, tmp + n, &v));
		ASSERT(v == u[i]);
		ASSERT(p == tmp + n);
		/* Every truncation fails cleanly. */
		for (size_t k = 0; k < n; k++) {
			p = tmp;
			ASSERT_EQ(get_uvarint(&p, tmp + k, &v), -1);
		}
	}
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		const uint8_t *p = tmp;
		int64_t v;
		size_t n = put_uvarint(tmp, zigzag_encode(s[i]));
		ASSERT_OK(get_svarint(&p, tmp + n, &v));
		ASSERT(v == s[i]);
	}
	/* Over-long forms are refused: one value, one encoding. */
	{
		const uint8_t longer[] = { 0x80, 0x00 };
		const uint8_t *p = longer;
		uint64_t v;
		ASSERT_EQ(get_uvarint(&p, longer + 2, &v), -1);
	}
	/* Eleven continuation bytes overflow. */
	memset(tmp, 0xff, sizeof(tmp));
	{
		const uint8_t *p = tmp;
		uint64_t v;
		ASSERT_EQ(get_uvarint(&p, tmp + sizeof(tmp), &v), -1);
	}
}

TEST(time_format_and_parse)
{
	char s[LT_TIME_MAX_LEN];
	int64_t t;

	lt_time_format(0, s);
	ASSERT_STREQ(s, "1970-01-01T00:00:00.000000000Z");
	lt_time_format(-1, s);
	ASSERT_STREQ(s, "1969-12-31T23:59:59.999999999Z");
	ASSERT_OK(lt_time_parse_rfc3339("2026-11-26T19:00:00.123456789Z", &t));
	lt_time_format(t, s);
	ASSERT_STREQ(s, "2026-11-26T19:00:00.123456789Z");
	ASSERT_OK(lt_time_parse_rfc3339("2026-11-26T20:30:00.5+01:30", &t));
	lt_time_format(t, s);
	ASSERT_STREQ(s, "2026-11-26T19:00:00.500000000Z");
	ASSERT_OK(lt_time_parse_rfc3339("2024-02-29t00:00:00z", &t));
	ASSERT_EQ(lt_day_of(t), 19782);
	ASSERT_EQ(lt_time_parse_rfc3339("2023-02-29T00:00:00Z", &t), LT_EINVAL);
	ASSERT_EQ(lt_time_parse_rfc3339("2026-11-26T19:00:00", &t), LT_EINVAL);
	ASSERT_EQ(lt_time_parse_rfc3339("2026-11-26T25:00:00Z", &t), LT_EINVAL);
	ASSERT_EQ(lt_time_parse_rfc3339("2026-11-26T19:00:00.Z", &t), LT_EINVAL);
	ASSERT_EQ(lt_time_parse_rfc3339("2026-11-26T19:00:00Zjunk", &t), LT_EINVAL);
	ASSERT_EQ(lt_time_parse_rfc3339("", &t), LT_EINVAL);
	ASSERT_OK(lt_time_parse("2026-11-26", &t));
	ASSERT_EQ(t % LT_NS_PER_DAY, 0);
	{
		int64_t now = lt_now_ns();
		ASSERT_OK(lt_time_parse("2h", &t));
		ASSERT(now - t >= 2 * 3600 * LT_NS_PER_SEC - LT_NS_PER_SEC);
		ASSERT(now - t <= 2 * 3600 * LT_NS_PER_SEC + LT_NS_PER_SEC);
	}
	ASSERT_EQ(lt_day_of(-1), -1);
	lt_day_format(20418, s);
	ASSERT_STREQ(s, "2025-11-26");
}

TEST(durations)
{
	int64_t d;

	ASSERT_OK(lt_duration_parse("1h30m", &d));
	ASSERT_EQ(d, 5400 * LT_NS_PER_SEC);
	ASSERT_OK(lt_duration_parse("15m", &d));
	ASSERT_EQ(d, 900 * LT_NS_PER_SEC);
	ASSERT_OK(lt_duration_parse("250ms", &d));
	ASSERT_EQ(d, 250 * 1000000LL);
	ASSERT_OK(lt_duration_parse("1m30s500ms", &d));
	ASSERT_EQ(d, 90500 * 1000000LL);
	ASSERT_EQ(lt_duration_parse("5mss", &d), LT_EINVAL);
	ASSERT_EQ(lt_duration_parse("15", &d), LT_EINVAL);
	ASSERT_EQ(lt_duration_parse("m", &d), LT_EINVAL);
	ASSERT_EQ(lt_duration_parse("99999999999d", &d), LT_EINVAL);
}

TEST(hex_round_trip)
{
	uint8_t in[4] = { 0x00, 0xab, 0x10, 0xff }, out[4];
	char s[9];

	lt_hex(in, 4, s);
	ASSERT_STREQ(s, "00ab10ff");
	ASSERT_OK(lt_unhex("00AB10ff", out, 4));
	ASSERT_MEMEQ(in, out, 4);
	ASSERT_EQ(lt_unhex("00ab10f", out, 4), -1);
	ASSERT_EQ(lt_unhex("00ab10fg", out, 4), -1);
}

TEST(atomic_write_and_read)
{
	const char *tmp = getenv("TEST_TMPDIR");
	struct buf path = BUF_INIT, got = BUF_INIT;

	buf_addf(&path, "%s/util-atomic-%d", tmp ? tmp : "/tmp", (int)getpid());
	unlink(path.data);
	ASSERT_OK(lt_write_file_atomic(path.data, "one", 3, 0600, 1));
	ASSERT_EQ(lt_write_file_atomic(path.data, "two", 3, 0600, 1), LT_EEXIST);
	ASSERT_OK(lt_read_file(path.data, 100, &got));
	ASSERT_STREQ(got.data, "one");
	ASSERT_OK(lt_write_file_atomic(path.data, "three", 5, 0600, 0));
	buf_reset(&got);
	ASSERT_OK(lt_read_file(path.data, 100, &got));
	ASSERT_STREQ(got.data, "three");
	buf_reset(&got);
	ASSERT_EQ(lt_read_file(path.data, 4, &got), LT_ETOOBIG);
	{
		struct stat st;
		ASSERT_OK(stat(path.data, &st));
		ASSERT_EQ(st.st_mode & 0777, 0600);
	}
	unlink(path.data);
	buf_reset(&got);
	ASSERT_EQ(lt_read_file(path.data, 100, &got), LT_ENOENT);
	buf_release(&path);
	buf_release(&got);
}

TEST(errors_carry_messages)
{
	errno = ENOSPC;
	ASSERT_EQ(lt_error_errno(LT_EIO, "cannot write '%s'", "x"), LT_ENOSPC);
	ASSERT(strstr(lt_errmsg(), "cannot write 'x': ") == lt_errmsg());
	lt_error(LT_EINVAL, "inner");
	ASSERT_EQ(lt_error_wrap(LT_EINVAL, "outer %d", 1), LT_EINVAL);
	ASSERT_STREQ(lt_errmsg(), "outer 1: inner");
}

TEST(strmap_puts_finds_and_grows)
{
	struct strmap m = STRMAP_INIT;
	char key[32];
	size_t seen = 0;

	ASSERT(!strmap_get(&m, "absent"));
	for (int i = 0; i < 1000; i++) {
		struct strmap_ent *e;
		snprintf(key, sizeof(key), "doc:%d", i);
		e = strmap_put(&m, key);
		ASSERT(!e->val);
		e->val = (void *)(intptr_t)(i + 1);
	}
	ASSERT_EQ(m.n, 1000);
	ASSERT(m.size >= 2000);
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "doc:%d", i);
		ASSERT(strmap_get(&m, key));
		ASSERT_EQ((intptr_t)strmap_get(&m, key)->val, i + 1);
		ASSERT_EQ((intptr_t)strmap_put(&m, key)->val, i + 1);
	}
	ASSERT_EQ(m.n, 1000);
	ASSERT(!strmap_get(&m, "doc:1000"));
	for (size_t i = 0; i < m.size; i++)
		seen += m.v[i].key != NULL;
	ASSERT_EQ(seen, 1000);
	strmap_release(&m);
	ASSERT(m.size == 0 && m.n == 0 && !strmap_get(&m, "doc:1"));
}

TEST_LIST = {
	TEST_ENTRY(strmap_puts_finds_and_grows),
	TEST_ENTRY(buf_never_null_and_terminated),
	TEST_ENTRY(buf_cap_refuses_and_keeps),
	TEST_ENTRY(buf_detach_hands_over),
	TEST_ENTRY(varints_round_trip),
	TEST_ENTRY(time_format_and_parse),
	TEST_ENTRY(durations),
	TEST_ENTRY(hex_round_trip),
	TEST_ENTRY(atomic_write_and_read),
	TEST_ENTRY(errors_carry_messages),
	TEST_END,
};

TEST_MAIN()
