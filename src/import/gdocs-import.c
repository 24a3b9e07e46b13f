/*
 * A Google Doc into the vault (gdocs.h, doc/imports.md "gdocs"): the
 * changelog's revisions as edit.op events and the comments as
 * doc.comment events, all in the stream gdocs:ID, one transaction.
 *
 * NOTES
 *
 *  1. Units (the ledger, import.h): a revision is "rev:N"; the
 *     chunkedSnapshot of a changelog that starts after revision 1 is
 *     "snapshot:N" (N the revision it shows), and is skipped when "rev:N"
 *     was imported, since the document is then known up to there. The
 *     whole changelog is replayed every time, because the positions of a
 *     new revision only mean something in the text before it.
 *  2. Comments: a comment's first sight is "comment:ID" (an add), a
 *     reply's "reply:CID/RID" (a reply, resolve or reopen). Drive moves a
 *     comment's modifiedTime whenever a reply comes, so an edit is told by
 *     its text: "comment:ID~H" with H a hash of the content; a text not
 *     seen before for a known comment is an edit at modifiedTime. A
 *     deletion is "comment:ID~deleted". Replies alike.
 */
#include "gdocs.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "error.h"
#include "hex.h"
#include "import.h"
#include "xalloc.h"
#include "banned.h"

struct gi {
	struct import *im;
	const char *doc;
	const char *title;
	int skip;		/* the open revision was imported before */
	char unit[64];
	char group[24];
};

static int64_t ms_to_ns(int64_t ms)
{
	return ms * 1000000;
}

static int put_edit(struct gi *g, int64_t ts, const char *actor,
		    const struct gdocs_edit *e)
{
	json_t *d = json_object();

	json_object_set_new(d, "doc", json_string(g->doc));
	json_object_set_new(d, "op", json_string(e->op));
	json_object_set_new(d, "group", json_string(g->group));
	if (actor)
		json_object_set_new(d, "actor", json_string(actor));
	if (g->title)
		json_object_set_new(d, "path", json_string(g->title));
	if (e->has_pos)
		json_object_set_new(d, "pos", json_integer((json_int_t)e->pos));
	if (e->has_len)
		json_object_set_new(d, "len", json_integer((json_int_t)e->len));
	if (e->ins)
		json_object_set_new(d, "ins", json_stringn(e->ins, e->ins_len));
	if (e->del)
		json_object_set_new(d, "del", json_stringn(e->del, e->del_len));
	if (e->text)
		json_object_set_new(d, "text",
				    json_stringn(e->text, e->text_len));
	if (e->detail)
		json_object_set(d, "detail", e->detail);
	if (e->native)
		json_object_set(d, "native", e->native);
	return import_edit_json(g->im, ts, d);
}

static int on_snapshot(void *ctx, int64_t rev, int64_t ms, const char *text,
		       size_t len)
{
	struct gi *g = ctx;
	struct gdocs_edit e;
	char unit[64];
	int r;

	snprintf(g->unit, sizeof(g->unit), "rev:%" PRId64, rev);
	snprintf(unit, sizeof(unit), "snapshot:%" PRId64, rev);
	if (import_seen(g->im, g->unit) || import_seen(g->im, unit))
		return 0;
	snprintf(g->group, sizeof(g->group), "%" PRId64, rev);
	memset(&e, 0, sizeof(e));
	e.op = "snapshot";
	e.text = text;
	e.text_len = len;
	if ((r = put_edit(g, ms_to_ns(ms), NULL, &e)))
		return r;
	return import_unit_done(g->im, unit, ms_to_ns(ms));
}

static int on_begin(void *ctx, const struct gdocs_rev *r)
{
	struct gi *g = ctx;

	snprintf(g->unit, sizeof(g->unit), "rev:%" PRId64, r->revision);
	snprintf(g->group, sizeof(g->group), "%" PRId64, r->revision);
	g->skip = import_seen(g->im, g->unit);
	if (g->skip)
		import_skipped(g->im);
	return 0;
}

static int on_edit(void *ctx, const struct gdocs_rev *r,
		   const struct gdocs_edit *e)
{
	struct gi *g = ctx;

	if (g->skip)
		return 0;
	return put_edit(g, ms_to_ns(r->time_ms), r->user, e);
}

static int on_end(void *ctx, const struct gdocs_rev *r)
{
	struct gi *g = ctx;

	if (g->skip)
		return 0;
	return import_unit_done(g->im, g->unit, ms_to_ns(r->time_ms));
}

static void on_progress(void *ctx, size_t done, size_t total)
{
	struct gi *g = ctx;

	import_progress(g->im, done, total);
}

/* ---- Comments (note 2) ---------------------------------------------------- */

static int put_comment(struct gi *g, const struct gdocs_comment *c,
		       const char *action, int64_t ts, int with_text)
{
	json_t *d = json_object();

	json_object_set_new(d, "doc", json_string(g->doc));
	json_object_set_new(d, "id", json_string(c->id));
	json_object_set_new(d, "action", json_string(action));
	if (c->comment_id)
		json_object_set_new(d, "parent", json_string(c->comment_id));
	if (c->author)
		json_object_set_new(d, "actor", json_string(c->author));
	if (with_text && c->content && *c->content)
		json_object_set_new(d, "text", json_string(c->content));
	if (c->quote)
		json_object_set_new(d, "quote", json_string(c->quote));
	if (c->anchor)
		json_object_set(d, "anchor", c->anchor);
	json_object_set(d, "native", c->native);
	return import_event(g->im, ts, "doc.comment", d);
}

static int on_comment(void *ctx, const struct gdocs_comment *c)
{
	struct gi *g = ctx;
	struct buf base = BUF_INIT, key = BUF_INIT;
	uint8_t h[8];
	char hex[17];
	int r = 0, known;

	if (c->is_reply)
		buf_addf(&base, "reply:%s/%s", c->comment_id, c->id);
	else
		buf_addf(&base, "comment:%s", c->id);
	known = import_seen(g->im, base.data);
	if (!known) {
		const char *action = !c->is_reply ? "add" :
				     c->action ? c->action : "reply";
		r = put_comment(g, c, action, c->created_ns, 1);
		if (!r)
			r = import_unit_done(g->im, base.data, c->created_ns);
	} else {
		import_skipped(g->im);
	}
	if (!r && c->content && !c->deleted) {
		crypto_generichash(h, sizeof(h), (const uint8_t *)c->content,
				   strlen(c->content), NULL, 0);
		lt_hex(h, sizeof(h), hex);
		buf_addf(&key, "%s~%s", base.data, hex);
		if (!import_seen(g->im, key.data)) {
			if (known)
				r = put_comment(g, c, "edit", c->modified_ns, 1);
			if (!r)
				r = import_unit_done(g->im, key.data,
						     known ? c->modified_ns
							   : c->created_ns);
		}
	}
	if (!r && c->deleted) {
		buf_reset(&key);
		buf_addf(&key, "%s~deleted", base.data);
		if (!import_seen(g->im, key.data)) {
			r = put_comment(g, c, "delete", c->modified_ns, 0);
			if (!r)
				r = import_unit_done(g->im, key.data,
						     c->modified_ns);
		}
	}
	buf_release(&base);
	buf_release(&key);
	return r;
}

/* ---- The document's id ------------------------------------------------------ */

static int valid_id(const char *s, size_t n)
{
	if (!n || n > 256)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '-' || s[i] == '_' ||
		      (s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z')))
			return 0;
	return 1;
}

static int doc_id(const struct gdocs_input *in, const struct gdocs_log *log,
		  char **out)
{
	const char *id = in->doc ? in->doc : gdocs_log_doc_id(log);
	size_t n;

	if (id) {
		n = strlen(id);
	} else {
		const char *slash = strrchr(in->name, '/');
		id = slash ? slash + 1 : in->name;
		n = strcspn(id, ".");
	}
	if (!valid_id(id, n))
		return lt_error(LT_EINVAL, "%s: '%.*s' is not a Google Docs "
				"document id (letters, digits, '-' and '_'); "
				"give it with --doc ID", in->name,
				(int)(n > 64 ? 64 : n), id);
	*out = xmalloc(n + 7);
	memcpy(*out, "gdocs:", 6);
	memcpy(*out + 6, id, n);
	(*out)[n + 6] = 0;
	return 0;
}

int gdocs_import(struct vault *v, const struct gdocs_input *in, char **doc,
		 struct import_summary *sum)
{
	static const struct gdocs_ops ops = {
		on_snapshot, on_begin, on_edit, on_end, on_progress,
	};
	struct gdocs_log log;
	struct import_opts o;
	struct gi g;
	int r;

	*doc = NULL;
	memset(&g, 0, sizeof(g));
	if ((r = gdocs_load(&log, in->name, in->data, in->len)) ||
	    (r = doc_id(in, &log, doc))) {
		gdocs_log_release(&log);
		return r;
	}
	memset(&o, 0, sizeof(o));
	o.source = "gdocs";
	o.input = in->name;
	o.stream = *doc;
	o.progress = in->progress;
	if ((r = import_open(&g.im, v, &o))) {
		gdocs_log_release(&log);
		return r;
	}
	g.doc = *doc;
	g.title = in->title;
	r = gdocs_replay(&log, &ops, &g, NULL);
	if (!r && in->comments)
		r = gdocs_comments_parse(in->comments_name, in->comments,
					 in->comments_len, on_comment, &g);
	gdocs_log_release(&log);
	if (r) {
		import_abort(g.im);
		return r;
	}
	return import_commit(g.im, sum);
}
