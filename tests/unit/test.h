#ifndef LABTAPE_TEST_H
#define LABTAPE_TEST_H

/*
 * A minimal unit-test harness in libuv's test-list style. A runner file
 * defines tests with TEST(name) { ... }, lists them in TEST_LIST, and
 * ends with TEST_MAIN(). ASSERT failures print file:line and the failing
 * expression and end that test (the runner goes on with the next).
 *
 *	TEST(buf_grows) { ... ASSERT_EQ(b.len, 3); }
 *	TEST_LIST = { TEST_ENTRY(buf_grows), TEST_END };
 *	TEST_MAIN()
 *
 * `runner NAME` runs one test; with no argument it runs all of them.
 */

#include <inttypes.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_entry {
	const char *name;
	void (*fn)(void);
};

extern jmp_buf test_jmp;
extern int test_failed;

#define TEST(name) static void test_##name(void)
#define TEST_ENTRY(name) { #name, test_##name }
#define TEST_END { NULL, NULL }
#define TEST_LIST static const struct test_entry test_list[]

#define TEST_FAIL(...)                                                         \
	do {                                                                   \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
		longjmp(test_jmp, 1);                                          \
	} while (0)

#define ASSERT(expr)                                                           \
	do {                                                                   \
		if (!(expr))                                                   \
			TEST_FAIL("assertion failed: %s", #expr);              \
	} while (0)

#define ASSERT_EQ(a, b)                                                        \
	do {                                                                   \
		long long a_ = (long long)(a), b_ = (long long)(b);            \
		if (a_ != b_)                                                  \
			TEST_FAIL("%s == %s failed: %lld != %lld", #a, #b, a_, \
				  b_);                                         \
	} while (0)

#define ASSERT_OK(expr)                                                        \
	do {                                                                   \
		long long r_ = (long long)(expr);                              \
		if (r_ != 0)                                                   \
			TEST_FAIL("%s failed with %lld: %s", #expr, r_,        \
				  lt_errmsg());                                \
	} while (0)

#define ASSERT_STREQ(a, b)                                                     \
	do {                                                                   \
		const char *a_ = (a), *b_ = (b);                               \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                         \
			TEST_FAIL("%s == %s failed: \"%s\" != \"%s\"", #a, #b, \
				  a_ ? a_ : "(null)", b_ ? b_ : "(null)");     \
	} while (0)

#define ASSERT_MEMEQ(a, b, n)                                                  \
	do {                                                                   \
		if (memcmp((a), (b), (n)) != 0)                                \
			TEST_FAIL("%s and %s differ", #a, #b);                 \
	} while (0)

#define TEST_MAIN()                                                            \
	jmp_buf test_jmp;                                                      \
	int test_failed;                                                       \
	int main(int argc, char **argv)                                        \
	{                                                                      \
		volatile int failed = 0, passed = 0;                                  \
		for (const struct test_entry *volatile t = test_list; t->name; \
		     t++) {                                                    \
			if (argc > 1 && strcmp(argv[1], t->name) != 0)         \
				continue;                                      \
			if (setjmp(test_jmp) == 0) {                           \
				t->fn();                                       \
				passed++;                                      \
				printf("ok %s\n", t->name);                    \
			} else {                                               \
				failed++;                                      \
				printf("FAILED %s\n", t->name);                \
			}                                                      \
		}                                                              \
		printf("%d passed, %d failed\n", passed, failed);              \
		return failed || !passed ? 1 : 0;                              \
	}

#endif
