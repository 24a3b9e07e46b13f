/*
 * Shared by test-gdocs and fuzz-gdocs: a second replay of the edits that
 * gdocs_replay() hands out, through text_apply() (src/text), which checks
 * every position and deleted text. If the importer's code points were
 * wrong, the mirror would refuse an edit or end with another text.
 */
#ifndef LABTAPE_GDOCS_MIRROR_H
#define LABTAPE_GDOCS_MIRROR_H

#include <string.h>

#include "gdocs.h"
#include "text.h"

struct mirror {
	struct buf text;
	size_t edits, revs_begun, revs_ended, snapshots;
	int bad;		/* an edit did not apply */
};

static int mirror_snapshot(void *ctx, int64_t rev, int64_t ms,
			   const char *text, size_t len)
{
	struct mirror *m = ctx;

	(void)rev;
	(void)ms;
	buf_reset(&m->text);
	buf_add(&m->text, text, len);
	m->snapshots++;
	return 0;
}

static int mirror_begin(void *ctx, const struct gdocs_rev *r)
{
	(void)r;
	((struct mirror *)ctx)->revs_begun++;
	return 0;
}

static int mirror_end(void *ctx, const struct gdocs_rev *r)
{
	(void)r;
	((struct mirror *)ctx)->revs_ended++;
	return 0;
}

static int mirror_edit(void *ctx, const struct gdocs_rev *r,
		       const struct gdocs_edit *e)
{
	struct mirror *m = ctx;
	struct text_edit te;
	uint64_t n = text_utf8_count(m->text.data, m->text.len);

	(void)r;
	m->edits++;
	if (!e->native)
		m->bad = 1;
	if (!strcmp(e->op, "snapshot")) {
		buf_reset(&m->text);
		buf_add(&m->text, e->text, e->text_len);
		return 0;
	}
	if (strcmp(e->op, "insert") && strcmp(e->op, "delete")) {
		if (e->has_pos && e->pos + e->len > n)
			m->bad = 1;
		return 0;
	}
	memset(&te, 0, sizeof(te));
	te.op = !strcmp(e->op, "insert") ? TEXT_INSERT : TEXT_DELETE;
	te.pos = e->pos;
	te.len = e->len;
	te.ins = e->ins ? e->ins : "";
	te.ins_len = e->ins_len;
	te.del = e->del ? e->del : "";
	te.del_len = e->del_len;
	/* text_apply refuses an insert of nothing; it changes nothing. */
	if (te.op == TEXT_INSERT && !te.ins_len)
		return e->pos <= n ? 0 : (m->bad = 1, 0);
	if (text_apply(&m->text, &te))
		m->bad = 1;
	return 0;
}

static const struct gdocs_ops mirror_ops = {
	mirror_snapshot, mirror_begin, mirror_edit, mirror_end, NULL,
};

#endif
