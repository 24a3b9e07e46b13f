/*
 * Fuzzes the Google Docs changelog parser (src/import/gdocs.c): any input
 * must load and replay without crashing, and when it is accepted, the
 * edits it hands out, applied one by one with text_apply() (which checks
 * positions and deleted text), must give the very text the replay ends
 * with, and revisions must open and close in pairs. (A changelog without
 * entries hands out nothing, not even its chunkedSnapshot: there is no
 * revision to tell which version that is.)
 */
#include <stdint.h>
#include <stdlib.h>

#include "error.h"
#include "gdocs-mirror.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gdocs_log log;
	struct mirror m;
	struct buf final = BUF_INIT;

	memset(&m, 0, sizeof(m));
	buf_init(&m.text, 0);
	if (!gdocs_load(&log, "fuzz", (const char *)data, size) &&
	    !gdocs_replay(&log, &mirror_ops, &m, &final)) {
		if (m.bad || m.revs_begun != m.revs_ended ||
		    (m.revs_begun && (m.text.len != final.len ||
				      memcmp(m.text.data, final.data,
					     final.len))) ||
		    text_utf8_check(final.data, final.len) != final.len)
			abort();
	}
	gdocs_log_release(&log);
	buf_release(&m.text);
	buf_release(&final);
	return 0;
}
