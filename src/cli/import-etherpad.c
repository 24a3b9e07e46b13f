/*
 * labtape import etherpad FILE: a pad's whole history from its .etherpad
 * export (doc/imports.md, "etherpad"). The format is read and replayed by
 * src/import/etherpad.c; this file turns what it hands out into events.
 *
 * Each revision is a unit of the stream etherpad:NAME, keyed by its
 * number and a hash of its changeset. Revisions are replayed from the
 * first every time (a changeset only means something against the text
 * before it), and only those not in the vault are written. Before the
 * first new one, the document's next sequence number in the vault must
 * be the number of edits the revisions before it make: otherwise the
 * vault holds another history of a pad of that name.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "error.h"
#include "etherpad.h"
#include "fileio.h"
#include "hex.h"
#include "import.h"
#include "xalloc.h"
#include "banned.h"

int import_etherpad(int argc, char **argv);

static const char usage[] =
	"usage: labtape import etherpad FILE... [--name NAME] [--vault DIR]\n"
	"                               [--passphrase-file FILE]\n"
	"\n"
	"Reads a pad's history from its Etherpad export (in the pad, Import/\n"
	"Export, Export current pad as: Etherpad; a .etherpad file) into the\n"
	"document etherpad:NAME of the stream etherpad:NAME. Each revision's\n"
	"changeset becomes edit.op events (insert, delete, and style for\n"
	"attribute changes such as bold), by its author (the name the author\n"
	"gave Etherpad, else the author id), at its time, grouped by revision\n"
	"number; the changeset itself is kept verbatim. Chat messages become\n"
	"msg.message events.\n"
	"\n"
	"  --name NAME     import the pad as etherpad:NAME instead of its own\n"
	"                  name (for another pad that had the same name)\n"
	"\n"
	"Every changeset is checked against the text as Etherpad checks it,\n"
	"and the text rebuilt from all of them must be the pad's text. All or\n"
	"nothing: on any error nothing is imported. Importing the same pad\n"
	"again adds only its new revisions and messages. Needs the passphrase\n"
	"(to read what was imported before).\n";

#define IMPORT_MAX (1ull << 30)

struct pad_import {
	struct import *im;
	const char *file;
	char *doc;		/* etherpad:NAME, also the stream */
	uint64_t head;
	int skip;		/* the revision at hand is in the vault */
	int fresh;		/* a revision of this import was new */
	int first;		/* the next edit is its revision's first */
	int64_t expect;		/* edits the revisions so far make */
	int64_t ts;		/* the revision's time, ns */
	const char *actor;
	char group[24];
	char unit[64];
	uint64_t revs, chats;
};

static int diverged(struct pad_import *x, const struct etherpad_rev *r)
{
	return lt_error(LT_EINVAL, "%s: revision %" PRIu64 ": the vault holds "
			"another history of %s (it has %" PRId64 " edits of it "
			"where this export has %" PRId64 " before this "
			"revision); import this pad under another name with "
			"--name", x->file, r->num, x->doc,
			import_next_seq(x->im, x->doc), x->expect);
}

static int rev_begin(void *ctx, const struct etherpad_rev *r)
{
	struct pad_import *x = ctx;
	unsigned char h[16];
	char hex[33];

	crypto_generichash(h, sizeof(h), (const unsigned char *)r->changeset,
			   strlen(r->changeset), NULL, 0);
	lt_hex(h, 8, hex);
	snprintf(x->unit, sizeof(x->unit), "%" PRIu64 ":%s", r->num, hex);
	snprintf(x->group, sizeof(x->group), "%" PRIu64, r->num);
	if (r->has_time)
		x->ts = r->time_ms * 1000000;
	else if (r->num == 0)
		return lt_error(LT_EINVAL, "%s: revision 0 (key '%s'): no "
				"meta.timestamp", x->file, r->key);
	x->actor = r->author_name ? r->author_name : r->author;
	x->first = 1;
	x->skip = import_seen(x->im, x->unit);
	if (x->skip && x->fresh)
		return diverged(x, r);
	if (!x->skip && !x->fresh) {
		if (import_next_seq(x->im, x->doc) != x->expect)
			return diverged(x, r);
		x->fresh = 1;
	}
	if (x->skip)
		import_skipped(x->im);
	if (r->num)
		return 0;
	/* The text the pad starts from, so that a reader starts from a
	 * snapshot. */
	x->expect++;
	if (x->skip)
		return 0;
	return import_edit_json(x->im, x->ts, json_pack("{s:s, s:s, s:s, s:s}",
		"doc", x->doc, "op", "snapshot", "text", ETHERPAD_BASE_TEXT,
		"group", x->group));
}

static int change(void *ctx, const struct etherpad_rev *r,
		  const struct easysync_change *c, json_t *attribs)
{
	struct pad_import *x = ctx;
	json_t *d;

	x->expect++;
	if (x->skip)
		return 0;
	d = json_pack("{s:s, s:s, s:I, s:I}", "doc", x->doc, "group", x->group,
		      "pos", (json_int_t)c->pos, "len", (json_int_t)c->len);
	if (x->actor)
		json_object_set_new(d, "actor", json_string(x->actor));
	switch (c->kind) {
	case EASYSYNC_INSERT:
		json_object_set_new(d, "op", json_string("insert"));
		json_object_del(d, "len");
		json_object_set_new(d, "ins", json_stringn(c->text, c->text_len));
		break;
	case EASYSYNC_DELETE:
		json_object_set_new(d, "op", json_string("delete"));
		json_object_set_new(d, "del", json_stringn(c->text, c->text_len));
		break;
	default:
		json_object_set_new(d, "op", json_string("style"));
		break;
	}
	if (attribs)
		json_object_set_new(d, "detail",
				    json_pack("{s:O}", "attribs", attribs));
	if (x->first)
		json_object_set_new(d, "native", json_string(r->changeset));
	x->first = 0;
	return import_edit_json(x->im, x->ts, d);
}

static int rev_end(void *ctx, const struct etherpad_rev *r)
{
	struct pad_import *x = ctx;

	import_progress(x->im, r->num + 1, x->head + 1);
	if (x->skip)
		return 0;
	x->revs++;
	return import_unit_done(x->im, x->unit, x->ts);
}

static int chat(void *ctx, const struct etherpad_chat *m)
{
	struct pad_import *x = ctx;
	char unit[40];
	int64_t ts = m->has_time ? m->time_ms * 1000000 : x->ts;
	const char *from = m->author_name ? m->author_name : m->author;
	json_t *d;
	int r;

	snprintf(unit, sizeof(unit), "chat:%" PRIu64, m->num);
	if (import_seen(x->im, unit)) {
		import_skipped(x->im);
		return 0;
	}
	d = json_pack("{s:s++, s:s, s:s, s:s}", "id", x->doc, ":", unit,
		      "channel", x->doc, "text", m->text, "source", "etherpad");
	if (!d)
		return lt_error(LT_EINVAL, "%s: chat message %" PRIu64 " (key "
				"'%s'): not valid UTF-8", x->file, m->num,
				m->key);
	if (from)
		json_object_set_new(d, "from", json_string(from));
	if ((r = import_event(x->im, ts, "msg.message", d)))
		return r;
	x->chats++;
	return import_unit_done(x->im, unit, ts);
}

int import_etherpad(int argc, char **argv)
{
	enum { OPT_NAME = 1100 };
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "name", required_argument, NULL, OPT_NAME },
		{ NULL, 0, NULL, 0 },
	};
	static const struct etherpad_ops ops = { rev_begin, change, rev_end,
						 chat };
	struct cli c = { "import etherpad", usage, NULL, NULL };
	struct import_opts o = { "etherpad", NULL, NULL, 1 };
	struct import_summary sum;
	struct pad_import x;
	struct etherpad *ep = NULL;
	struct vault *v = NULL;
	struct buf file = BUF_INIT;
	const char *name = NULL;
	int opt, r, ok = 0;

	memset(&x, 0, sizeof(x));
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == OPT_NAME) {
			if (!*optarg || strchr(optarg, ':'))
				return cli_usage_error(&c, "--name: give a "
						       "name without ':'");
			name = optarg;
		} else if ((r = cli_common_opt(&c, opt)) >= 0) {
			return r;
		}
	}
	if ((r = cli_import_each(argc, argv, import_etherpad)) >= 0)
		return r;
	if (optind == argc)
		return cli_usage_error(&c, "which file? Give FILE");
	x.file = argv[optind];
	if (lt_read_file(x.file, IMPORT_MAX, &file))
		return cli_error("%s", lt_errmsg());
	if (etherpad_open(&ep, x.file, file.data, file.len)) {
		cli_error("%s; nothing was imported", lt_errmsg());
		goto out;
	}
	if (!name)
		name = etherpad_name(ep);
	x.doc = xmalloc(strlen(name) + sizeof("etherpad:"));
	snprintf(x.doc, strlen(name) + sizeof("etherpad:"), "etherpad:%s", name);
	x.head = etherpad_head(ep);
	if (cli_open_unlocked(&c, &v))
		goto out;
	o.input = x.file;
	o.stream = x.doc;
	if (import_open(&x.im, v, &o)) {
		cli_error("%s; nothing was imported", lt_errmsg());
		goto out;
	}
	if ((r = etherpad_replay(ep, &ops, &x))) {
		import_abort(x.im);
		cli_error("%s; nothing was imported", lt_errmsg());
		goto out;
	}
	if (import_commit(x.im, &sum)) {
		cli_error("%s; nothing was imported", lt_errmsg());
		goto out;
	}
	fprintf(stderr, "labtape: imported '%s' into %s: %" PRIu64 " new "
		"revisions, %" PRIu64 " new chat messages, %" PRIu64
		" already there (%" PRIu64 " events)\n", x.file, x.doc, x.revs,
		x.chats, sum.skipped, sum.events);
	printf("%s\n", x.doc);
	ok = 1;
out:
	etherpad_free(ep);
	free(x.doc);
	buf_release(&file);
	vault_free(v);
	return ok ? 0 : 1;
}
