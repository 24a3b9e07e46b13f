/*
 * Fuzzes the Slack export reader (src/import/slack.c) on a buffer: the
 * input is read as users.json, as channels.json and dms.json, then as a
 * day of messages. It must never crash, and every message it hands out
 * must be a valid msg.message event (the registry's own check) with an
 * id, a ledger key and a time that a tape accepts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "events.h"
#include "slack.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

static int on_msg(void *ctx, const struct slack_msg *m)
{
	const struct ev_kind *k = ev_kind_find("msg.message");
	struct buf why = BUF_INIT, enc = BUF_INIT;

	(void)ctx;
	CHECK(m->unit && *m->unit && m->t >= 0);
	CHECK(ev_validate(k, m->data, &why) == 0);
	CHECK(ev_encode(k, m->data, &enc) == 0);
	buf_release(&why);
	buf_release(&enc);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slack *s = slack_new();

	slack_read_users(s, "fuzz.zip", "users.json", data, size);
	slack_read_channels(s, "fuzz.zip", "channels.json", data, size);
	slack_read_channels(s, "fuzz.zip", "dms.json", data, size);
	slack_read_day(s, "fuzz.zip", "general/2024-01-02.json", data, size,
		       on_msg, NULL);
	slack_free(s);
	return 0;
}
