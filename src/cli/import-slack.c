/*
 * labtape import slack EXPORT.zip (doc/imports.md, "slack").
 *
 * The ZIP is read twice with libarchive: first the workspace's lists
 * (users, channels), wherever they are in the archive, and the number of
 * day files; then each day file, whose messages become msg.message
 * events through the import framework (one transaction, a ledger).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "cli.h"
#include "error.h"
#include "fileio.h"
#include "import.h"
#include "slack.h"
#include "xalloc.h"
#include "banned.h"

static const char usage_slack[] =
	"usage: labtape import slack EXPORT.zip... [--stream NAME] [--vault DIR]\n"
	"                            [--passphrase-file FILE]\n"
	"\n"
	"Reads a Slack workspace export (the ZIP that Slack's 'Export data'\n"
	"gives: users.json, channels.json, groups.json, dms.json, mpims.json\n"
	"and a folder per channel of YYYY-MM-DD.json files) into msg.message\n"
	"events, one per message, in the stream slack:NAME (NAME is the ZIP's\n"
	"name without .zip unless --stream is given). Threads are kept (thread\n"
	"and reply_to name the root message), senders get their names from\n"
	"users.json, files are kept as references (name, type, size, URL; the\n"
	"export does not hold their bytes), and each message is kept verbatim\n"
	"in native.\n"
	"\n"
	"Importing the same export again adds nothing; a later export adds\n"
	"the new messages, and the new version of each edited one. All or\n"
	"nothing: a malformed entry is refused with its name and what is\n"
	"wrong, and nothing is kept. Needs the passphrase (to read what was\n"
	"imported before).\n"
	"\n"
	"  --stream NAME   the workspace's name in the stream (slack:NAME)\n";

/* Entries larger than this are refused (each is read whole). */
#define ENTRY_MAX (1u << 30)

static const char *const list_files[] = {
	"channels.json", "groups.json", "mpims.json", "dms.json", NULL,
};

struct slack_import {
	const char *path;
	const char *entry;	/* the day file being read */
	struct import *im;
	struct slack *s;
	uint64_t days, done;
};

static int open_zip(const char *path, struct archive **out)
{
	struct archive *a = archive_read_new();

	*out = NULL;
	if (!a)
		return lt_error(LT_EIO, "%s: out of memory", path);
	archive_read_support_format_zip(a);
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		int r = lt_error(LT_EINVAL, "%s: cannot read it as a ZIP: %s",
				 path, archive_error_string(a));
		archive_read_free(a);
		return r;
	}
	*out = a;
	return 0;
}

/* The base name of an entry (users.json may sit in a top folder). */
static const char *base_name(const char *entry)
{
	const char *s = strrchr(entry, '/');

	return s ? s + 1 : entry;
}

/* Reads the entry the archive is at into b. */
static int read_entry(struct archive *a, const char *path,
		      struct archive_entry *e, struct buf *b)
{
	la_int64_t size = archive_entry_size_is_set(e) ?
			  archive_entry_size(e) : -1;
	char chunk[1 << 16];
	la_ssize_t n;

	buf_reset(b);
	if (size > (la_int64_t)ENTRY_MAX)
		return lt_error(LT_ETOOBIG, "%s: entry %s: larger than 1 GiB",
				path, archive_entry_pathname(e));
	while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
		if (b->len + (size_t)n > ENTRY_MAX)
			return lt_error(LT_ETOOBIG, "%s: entry %s: larger than "
					"1 GiB", path, archive_entry_pathname(e));
		buf_add(b, chunk, (size_t)n);
	}
	if (n < 0)
		return lt_error(LT_EINVAL, "%s: entry %s: %s", path,
				archive_entry_pathname(e),
				archive_error_string(a));
	return 0;
}

/* Pass 1: the workspace's users and channels, and the day count. */
static int read_lists(struct slack_import *x)
{
	struct archive *a;
	struct archive_entry *e;
	struct buf b = BUF_INIT;
	int r = 0, lists = 0, hr;

	if ((r = open_zip(x->path, &a)))
		return r;
	while (!r && (hr = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		const char *base = base_name(name);
		int is_list = 0;

		if (slack_is_day(name)) {
			x->days++;
			continue;
		}
		for (int i = 0; list_files[i]; i++)
			is_list |= !strcmp(base, list_files[i]);
		if (is_list || !strcmp(base, "users.json") ||
		    !strcmp(base, "org_users.json")) {
			if ((r = read_entry(a, x->path, e, &b)))
				break;
			if (is_list) {
				lists++;
				r = slack_read_channels(x->s, x->path, name,
							b.data, b.len);
			} else {
				r = slack_read_users(x->s, x->path, name, b.data,
						     b.len);
			}
		}
	}
	if (!r && hr != ARCHIVE_EOF)
		r = lt_error(LT_EINVAL, "%s: a broken ZIP: %s", x->path,
			     archive_error_string(a));
	if (!r && !lists && !x->days)
		r = lt_error(LT_EINVAL, "%s: not a Slack export (no "
			     "channels.json and no FOLDER/YYYY-MM-DD.json "
			     "entries)", x->path);
	archive_read_free(a);
	buf_release(&b);
	return r;
}

static int on_msg(void *ctx, const struct slack_msg *m)
{
	struct slack_import *x = ctx;
	int r;

	if (import_seen(x->im, m->unit)) {
		import_skipped(x->im);
		return 0;
	}
	if ((r = import_event(x->im, m->t, "msg.message", json_incref(m->data))))
		return lt_error(r, "%s: entry %s: message %zu (%s): %s",
				x->path, x->entry, m->index, m->unit,
				lt_errmsg());
	return import_unit_done(x->im, m->unit, m->t);
}

/* Pass 2: the messages. */
static int read_days(struct slack_import *x)
{
	struct archive *a;
	struct archive_entry *e;
	struct buf b = BUF_INIT;
	int r = 0, hr;

	if ((r = open_zip(x->path, &a)))
		return r;
	while (!r && (hr = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);

		if (!slack_is_day(name))
			continue;
		x->entry = name;
		if (!(r = read_entry(a, x->path, e, &b)))
			r = slack_read_day(x->s, x->path, name, b.data, b.len,
					   on_msg, x);
		import_progress(x->im, ++x->done, x->days);
	}
	if (!r && hr != ARCHIVE_EOF)
		r = lt_error(LT_EINVAL, "%s: a broken ZIP: %s", x->path,
			     archive_error_string(a));
	archive_read_free(a);
	buf_release(&b);
	return r;
}

static int run_days(struct import *im, void *ctx)
{
	struct slack_import *x = ctx;

	x->im = im;
	return read_days(x);
}

int import_slack(int argc, char **argv)
{
	enum { OPT_STREAM = 3000 };
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "stream", required_argument, NULL, OPT_STREAM },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "import slack", usage_slack, NULL, NULL };
	struct slack_import x;
	struct buf stream = BUF_INIT, name = BUF_INIT;
	const char *ws = NULL;
	int opt, r, ret = 1;

	memset(&x, 0, sizeof(x));
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == OPT_STREAM)
			ws = optarg;
		else if ((r = cli_common_opt(&c, opt)) >= 0)
			return r;
	}
	if ((r = cli_import_each(argc, argv, import_slack)) >= 0)
		return r;
	if (optind == argc)
		return cli_usage_error(&c, "which export? Give EXPORT.zip");
	x.path = argv[optind];
	if (!ws) {
		size_t n;
		lt_basename(x.path, &name);
		n = name.len;
		if (n > 4 && !strcmp(name.data + n - 4, ".zip"))
			buf_setlen(&name, n - 4);
		ws = name.data;
	}
	if (!*ws)
		return cli_usage_error(&c, "give the workspace a name with "
				       "--stream NAME");
	buf_addf(&stream, "slack:%s", ws);
	x.s = slack_new();
	if (read_lists(&x))
		cli_error("%s; nothing was imported", lt_errmsg());
	else
		ret = cli_import_messages(&c, "slack", x.path, stream.data,
					  run_days, &x);
	slack_free(x.s);
	buf_release(&stream);
	buf_release(&name);
	return ret;
}
