/*
 * Fuzzes the Drive comments parser (src/import/gdocs-comments.c): any
 * input must parse or be refused without crashing; every record handed
 * out has an id, a creation time, a native record, and a reply names its
 * comment.
 */
#include <stdint.h>
#include <stdlib.h>

#include "gdocs.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_comment(void *ctx, const struct gdocs_comment *c)
{
	(void)ctx;
	if (!c->id || !c->created || !c->modified || !c->native ||
	    (c->is_reply && !c->comment_id) || (!c->is_reply && c->action))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gdocs_comments_parse("fuzz", (const char *)data, size, on_comment,
			     NULL);
	return 0;
}
