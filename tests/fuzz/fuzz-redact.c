/*
 * Fuzzes the redaction engine (src/privacy/redact.c): any bytes, as one
 * document and again fed in pieces the way labtape redact streams them.
 * It must never crash or hang, the output must keep every byte that was
 * not replaced (so with no matches it equals the input), and the two
 * ways of feeding the same text must give the same result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "redact.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

static struct redactor *r;
static uint64_t replaced;

static void count(void *ctx, const struct redact_match *m)
{
	(void)ctx;
	CHECK(m->len > 0 && m->placeholder[0] == '<');
	replaced++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	const char *s = (const char *)data;
	size_t off = 0, used;

	if (!r) {
		struct redact_rules rr;

		redact_rules_init(&rr);
		CHECK(redact_rules_add_name(&rr, "Ada Lovelace [parts]") == 0);
		CHECK(redact_rules_add_rule(&rr, "TICKET", "JIRA-[0-9]+") == 0);
		CHECK(redact_rules_add_allow(&rr, "/^a@b\\.co$/") == 0);
		CHECK(redactor_new(&r, &rr) == 0);
		redact_rules_release(&rr);
		redactor_set_explain(r, count, NULL);
	}
	replaced = 0;
	redact_begin_doc(r);
	CHECK(redact_text(r, s, size, &a) == 0);
	if (!replaced)
		CHECK(a.len == size && !memcmp(a.data, s, size));

	/* The same text through redact_feed, a small window at a time. */
	redact_begin_doc(r);
	while (off < size) {
		size_t win = size - off;
		int flush = win <= REDACT_LOOKAHEAD + 4096;

		if (!flush)
			win = REDACT_LOOKAHEAD + 4096;
		CHECK(redact_feed(r, s + off, win, flush, &used, &b) == 0);
		if (!used)
			CHECK(redact_feed(r, s + off, win, 1, &used, &b) == 0);
		off += used;
	}
	CHECK(b.len == a.len && !memcmp(a.data, b.data, a.len));
	buf_release(&a);
	buf_release(&b);
	return 0;
}
