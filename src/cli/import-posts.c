/*
 * labtape import posts FILE: published posts and their comments, from
 * JSONL (doc/imports.md, "posts"). src/import/posts.c reads the format;
 * this file turns each post into events.
 *
 * Units: a post's version is "post:KEY@HASH" (its text, title, authors,
 * date and URL: the same post unchanged adds nothing, a changed one adds
 * a new version); a comment's version is "comment:KEY#ID@HASH", and
 * "comment:KEY#ID" records that the comment was seen at all, so that a
 * changed text is an edit rather than a new comment.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "error.h"
#include "fileio.h"
#include "import.h"
#include "ltime.h"
#include "posts.h"
#include "xalloc.h"
#include "banned.h"

int import_posts(int argc, char **argv);

static const char usage[] =
	"usage: labtape import posts FILE... [--stream NAME] [--vault DIR]\n"
	"                            [--passphrase-file FILE]\n"
	"\n"
	"Reads published posts and their comments from JSONL, one post a line:\n"
	"id or url, title, authors (a list or one name), date (RFC 3339 or a\n"
	"date), text (Markdown or HTML: say which with \"format\", else it is\n"
	"guessed from the tags), and comments (author, date, text, and replies\n"
	"nested to any depth). The field names of the alignment research\n"
	"dataset (date_published, source, source_type, ...) work too.\n"
	"\n"
	"Each post becomes the document post:ID (ID is its id, else its URL):\n"
	"an edit.op snapshot of its text, and a msg.message with its title as\n"
	"subject. Each comment becomes a doc.comment on that document (add,\n"
	"reply to its parent, or edit when its text changed).\n"
	"\n"
	"  --stream NAME   the stream to import into (default: posts:BASENAME,\n"
	"                  BASENAME being FILE's name)\n"
	"\n"
	"All or nothing: a malformed line is refused with its number and what\n"
	"is wrong, and nothing is imported. Importing the file again adds only\n"
	"what changed: a post whose text changed adds a new version, a new\n"
	"comment adds itself. Needs the passphrase.\n";

#define IMPORT_MAX (1ull << 30)

struct posts_import {
	struct import *im;
	const char *file;
	int64_t now;
	size_t lines;
	struct buf doc, unit, base, actor;
	uint64_t posts, versions, updates, comments;
};

static int64_t post_time(struct posts_import *x, const struct post *p)
{
	if (p->has_edited)
		return p->edited;
	return p->has_time ? p->time : x->now;
}

static json_t *post_detail(const struct post *p)
{
	json_t *d = json_object();

	if (p->title)
		json_object_set_new(d, "title", json_string(p->title));
	if (p->url)
		json_object_set_new(d, "url", json_string(p->url));
	json_object_set(d, "authors", p->authors);
	return d;
}

static int put_post(struct posts_import *x, const struct post *p)
{
	int64_t ts = post_time(x, p);
	json_t *e, *m;
	int r;

	buf_reset(&x->actor);
	for (size_t i = 0; i < json_array_size(p->authors); i++)
		buf_addf(&x->actor, "%s%s", i ? ", " : "",
			 json_string_value(json_array_get(p->authors, i)));
	e = json_pack("{s:s, s:s, s:s%, s:s, s:o}", "doc", x->doc.data, "op",
		      "snapshot", "text", p->text, p->text_len, "group",
		      p->hash, "detail", post_detail(p));
	if (!e)
		return lt_error(LT_EINVAL, "%s: line %zu: not valid UTF-8",
				x->file, p->line);
	if (x->actor.len)
		json_object_set_new(e, "actor", json_string(x->actor.data));
	if ((r = import_edit_json(x->im, ts, e)))
		return r;
	m = json_pack("{s:s, s:s%, s:s, s:s, s:O}", "id",
		      p->url ? p->url : p->key, "text", p->text, p->text_len,
		      "format", p->format, "source", "posts", "native",
		      p->native);
	if (!m)
		return lt_error(LT_EINVAL, "%s: line %zu: not valid UTF-8",
				x->file, p->line);
	if (x->actor.len)
		json_object_set_new(m, "from", json_string(x->actor.data));
	if (p->title)
		json_object_set_new(m, "subject", json_string(p->title));
	if (p->channel)
		json_object_set_new(m, "channel", json_string(p->channel));
	if (p->has_edited) {
		char t[40];
		lt_time_format(p->edited, t);
		json_object_set_new(m, "edited", json_string(t));
	}
	return import_event(x->im, ts, "msg.message", m);
}

static int put_comment(struct posts_import *x, const struct post *p,
		       const struct post_comment *c)
{
	int64_t ts = c->has_time ? c->time : post_time(x, p);
	int edit;
	json_t *d;
	int r;

	buf_reset(&x->base);
	buf_addf(&x->base, "comment:%s#%s", p->key, c->id);
	buf_reset(&x->unit);
	buf_addf(&x->unit, "%s@%s", x->base.data, c->hash);
	if (import_seen(x->im, x->unit.data)) {
		import_skipped(x->im);
		return 0;
	}
	edit = import_seen(x->im, x->base.data);
	d = json_pack("{s:s, s:s, s:s, s:s%}", "doc", x->doc.data, "id", c->id,
		      "action", edit ? "edit" : c->parent ? "reply" : "add",
		      "text", c->text, c->text_len);
	if (!d)
		return lt_error(LT_EINVAL, "%s: line %zu: %s: not valid UTF-8",
				x->file, p->line, c->where);
	if (c->parent)
		json_object_set_new(d, "parent", json_string(c->parent));
	if (c->author)
		json_object_set_new(d, "actor", json_string(c->author));
	if ((r = import_event(x->im, ts, "doc.comment", d)) ||
	    (r = import_unit_done(x->im, x->unit.data, ts)))
		return r;
	if (!edit && (r = import_unit_done(x->im, x->base.data, ts)))
		return r;
	x->comments++;
	return 0;
}

static int on_post(void *ctx, const struct post *p)
{
	struct posts_import *x = ctx;
	int r;

	buf_reset(&x->doc);
	buf_addf(&x->doc, "post:%s", p->key);
	buf_reset(&x->unit);
	buf_addf(&x->unit, "post:%s@%s", p->key, p->hash);
	x->posts++;
	if (import_seen(x->im, x->unit.data)) {
		import_skipped(x->im);
	} else {
		x->versions++;
		if (import_next_seq(x->im, x->doc.data))
			x->updates++;
		if ((r = put_post(x, p)) ||
		    (r = import_unit_done(x->im, x->unit.data, post_time(x, p))))
			return r;
	}
	for (size_t i = 0; i < p->ncomments; i++)
		if ((r = put_comment(x, p, &p->comments[i])))
			return r;
	import_progress(x->im, p->line, x->lines);
	return 0;
}

static char *default_stream(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;
	char *s;

	base = base ? base + 1 : path;
	n = strlen(base) + sizeof("posts:");
	s = xmalloc(n);
	snprintf(s, n, "posts:%s", base);
	return s;
}

int import_posts(int argc, char **argv)
{
	enum { OPT_STREAM = 1100 };
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "stream", required_argument, NULL, OPT_STREAM },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "import posts", usage, NULL, NULL };
	struct import_opts o = { "posts", NULL, NULL, 1 };
	struct import_summary sum;
	struct posts_import x;
	struct vault *v = NULL;
	struct buf file = BUF_INIT;
	char *stream = NULL;
	int opt, r, ok = 0;

	memset(&x, 0, sizeof(x));
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == OPT_STREAM) {
			if (!*optarg)
				return cli_usage_error(&c, "--stream: give a "
						       "name");
			free(stream);
			stream = xstrdup(optarg);
		} else if ((r = cli_common_opt(&c, opt)) >= 0) {
			free(stream);
			return r;
		}
	}
	if ((r = cli_import_each(argc, argv, import_posts)) >= 0 ||
	    optind == argc) {
		free(stream);
		return r >= 0 ? r : cli_usage_error(&c, "which file? Give FILE");
	}
	x.file = argv[optind];
	if (!stream)
		stream = default_stream(x.file);
	buf_init(&x.doc, 0);
	buf_init(&x.unit, 0);
	buf_init(&x.base, 0);
	buf_init(&x.actor, 0);
	x.now = lt_now_ns();
	if (lt_read_file(x.file, IMPORT_MAX, &file)) {
		cli_error("%s", lt_errmsg());
		goto out;
	}
	for (size_t i = 0; i < file.len; i++)
		x.lines += file.data[i] == '\n';
	if (file.len && file.data[file.len - 1] != '\n')
		x.lines++;
	if (cli_open_unlocked(&c, &v))
		goto out;
	o.input = x.file;
	o.stream = stream;
	if (import_open(&x.im, v, &o)) {
		cli_error("%s; nothing was imported", lt_errmsg());
		goto out;
	}
	if (posts_parse(x.file, file.data, file.len, on_post, &x)) {
		import_abort(x.im);
		cli_error("%s; nothing was imported", lt_errmsg());
		goto out;
	}
	if (import_commit(x.im, &sum)) {
		cli_error("%s; nothing was imported", lt_errmsg());
		goto out;
	}
	fprintf(stderr, "labtape: imported '%s' into %s: %" PRIu64 " posts "
		"read, %" PRIu64 " new versions (%" PRIu64 " of posts imported "
		"before), %" PRIu64 " new comments, %" PRIu64 " already there "
		"(%" PRIu64 " events)\n", x.file, stream, x.posts, x.versions,
		x.updates, x.comments, sum.skipped, sum.events);
	ok = 1;
out:
	free(stream);
	buf_release(&x.doc);
	buf_release(&x.unit);
	buf_release(&x.base);
	buf_release(&x.actor);
	buf_release(&file);
	vault_free(v);
	return ok ? 0 : 1;
}
