/*
 * Fuzzes the mail reader (src/import/mail.c, GMime underneath) on a
 * buffer: the input is parsed as one message, and cut as an mbox with
 * each message parsed. It must never crash; every message accepted must
 * give a valid msg.message event (the registry's own check) whose
 * attachments have names and types.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "events.h"
#include "mail.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

static void check_msg(const void *p, size_t n, int64_t fallback)
{
	const struct ev_kind *k = ev_kind_find("msg.message");
	struct buf why = BUF_INIT, enc = BUF_INIT;
	struct mail_msg m;

	if (mail_parse("fuzz.mbox", "line 1", p, n, "fuzz", fallback, &m))
		return;
	CHECK(m.id && *m.id);
	CHECK(ev_validate(k, m.data, &why) == 0);
	CHECK(ev_encode(k, m.data, &enc) == 0);
	for (size_t i = 0; i < m.natt; i++)
		CHECK(m.att[i].name && *m.att[i].name && m.att[i].type);
	buf_release(&why);
	buf_release(&enc);
	mail_msg_release(&m);
}

static int on_msg(void *ctx, const struct mbox_msg *mm)
{
	(void)ctx;
	check_msg(mm->p, mm->n, mm->from_t);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_msg(data, size, 0);
	mail_mbox_split("fuzz.mbox", data, size, on_msg, NULL);
	return 0;
}
