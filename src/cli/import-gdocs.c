/*
 * labtape import gdocs FILE: a Google Docs revision changelog, and its
 * comments, into the vault (src/import/gdocs-import.c does the work).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "fileio.h"
#include "gdocs.h"
#include "import.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape import gdocs FILE... [--comments FILE] [--doc ID]\n"
	"                            [--title T] [--vault DIR]\n"
	"                            [--passphrase-file FILE]\n"
	"\n"
	"Reads a Google Docs revision changelog, as\n"
	"  https://docs.google.com/document/d/ID/revisions/load?id=ID&start=1&end=N\n"
	"answers (the )]}' line, then JSON with chunkedSnapshot and changelog),\n"
	"into the stream gdocs:ID: every op of every revision becomes an\n"
	"edit.op of the document gdocs:ID, with positions in code points, the\n"
	"revision number as its group, the user id as its actor and the op\n"
	"verbatim in 'native'. Suggested text is text of the document, as in\n"
	"the changelog; accepting or rejecting it are later ops.\n"
	"\n"
	"  --comments FILE  Drive API v3 comments.list JSON (one answer, or an\n"
	"                   array of pages): comments, replies, resolve and\n"
	"                   reopen become doc.comment events\n"
	"  --doc ID         the document's id (default: the JSON's \"docId\",\n"
	"                   else FILE's name up to its first dot)\n"
	"  --title T        the document's title, kept as the edits' 'path'\n"
	"\n"
	"All or nothing, and idempotent: importing the same changelog again\n"
	"adds nothing, a longer one of the same document adds only the new\n"
	"revisions, and comments come again only when edited, resolved,\n"
	"reopened or deleted. Needs the passphrase (it reads what was\n"
	"imported before). 'labtape gdocs-bot' fetches all of this itself.\n";

enum {
	OPT_COMMENTS = 1100,
	OPT_DOC,
	OPT_TITLE,
};

/* Files larger than this are refused (they are read whole). */
#define GDOCS_MAX (1ull << 30)

int import_gdocs(int argc, char **argv);

int import_gdocs(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "comments", required_argument, NULL, OPT_COMMENTS },
		{ "doc", required_argument, NULL, OPT_DOC },
		{ "title", required_argument, NULL, OPT_TITLE },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "import gdocs", usage, NULL, NULL };
	struct gdocs_input in;
	struct import_summary sum;
	struct buf file = BUF_INIT, comments = BUF_INIT;
	struct vault *v = NULL;
	char *doc = NULL;
	int opt, r, ok = 0;

	memset(&in, 0, sizeof(in));
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_COMMENTS:
			in.comments_name = optarg;
			break;
		case OPT_DOC:
			in.doc = optarg;
			break;
		case OPT_TITLE:
			in.title = optarg;
			break;
		default:
			if ((r = cli_common_opt(&c, opt)) >= 0)
				return r;
		}
	}
	if (in.comments_name && argc - optind > 1)
		return cli_usage_error(&c, "--comments goes with one FILE");
	if ((r = cli_import_each(argc, argv, import_gdocs)) >= 0)
		return r;
	if (optind == argc)
		return cli_usage_error(&c, "which file? Give FILE");
	in.name = argv[optind];
	if (lt_read_file(in.name, GDOCS_MAX, &file) ||
	    (in.comments_name &&
	     lt_read_file(in.comments_name, GDOCS_MAX, &comments))) {
		cli_error("%s", lt_errmsg());
		goto out;
	}
	in.data = file.data;
	in.len = file.len;
	if (in.comments_name) {
		in.comments = comments.data;
		in.comments_len = comments.len;
	}
	in.progress = 1;
	if (cli_open_unlocked(&c, &v))
		goto out;
	if (gdocs_import(v, &in, &doc, &sum)) {
		cli_error("%s; nothing was imported", lt_errmsg());
		goto out;
	}
	fprintf(stderr, "labtape: imported '%s' into %s: %" PRIu64
		" new units (%" PRIu64 " events), %" PRIu64
		" already there\n", in.name, doc, sum.units, sum.events,
		sum.skipped);
	printf("%s\n", doc);
	ok = 1;
out:
	free(doc);
	buf_release(&file);
	buf_release(&comments);
	vault_free(v);
	return ok ? 0 : 1;
}
