/*
 * labtape gdocs-bot: backs up every Google Doc shared with an account.
 *
 * Each round: list the account's Google Docs (Drive files.list, page by
 * page); for each, find its last revision (Drive revisions.list), fetch
 * the changelog from revision 1 (docs.google.com revisions/load) and the
 * comments (comments.list, all pages), and import them exactly as
 * 'labtape import gdocs' does (gdocs_import): what is there already is
 * skipped, so a round adds only what is new. A document that fails is
 * reported and the others go on. Then sleep --interval, unless --once.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "error.h"
#include "gdocs-http.h"
#include "gdocs.h"
#include "import.h"
#include "ltime.h"
#include "xalloc.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape gdocs-bot (--token-file FILE | --service-account FILE)\n"
	"                         [--once] [--interval 10m] [--api URL]\n"
	"                         [--vault DIR] [--passphrase-file FILE]\n"
	"\n"
	"Backs up every Google Doc shared with an account: lists them (Drive\n"
	"API v3 files.list), fetches each one's revision changelog and\n"
	"comments, and imports what is new into the vault as 'labtape import\n"
	"gdocs' does (stream gdocs:ID). Runs a round every --interval until\n"
	"stopped (Ctrl-C, SIGTERM), or one round with --once.\n"
	"\n"
	"  --token-file FILE       an OAuth 2.0 access token with the\n"
	"                          drive.readonly scope on the first line (read\n"
	"                          again each round, so another program may\n"
	"                          refresh it)\n"
	"  --service-account FILE  a service account's JSON key: the bot signs\n"
	"                          a JWT (RS256) and gets its own tokens; share\n"
	"                          the documents with its client_email\n"
	"  --once                  one round, then exit (1 if a document failed)\n"
	"  --interval D            time between rounds (default 10m)\n"
	"  --api URL               send every request (Drive, Docs, token) to URL\n"
	"                          instead of Google's servers, for tests\n"
	"\n"
	"Requests time out, and are retried with exponential back-off on rate\n"
	"limits (429, honouring Retry-After), server errors and network\n"
	"errors. The vault's passphrase comes from --passphrase-file or\n"
	"$LABTAPE_PASSPHRASE (the bot reads what it imported before).\n";

enum {
	OPT_TOKEN_FILE = 1100,
	OPT_SA,
	OPT_ONCE,
	OPT_INTERVAL,
	OPT_API,
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct bot {
	struct gdocs_http *h;
	struct gdocs_auth auth;
	struct vault *v;
	char *drive, *docs;	/* base URLs */
	struct buf url, body;
};

/* GETs url as JSON into *out. */
static int get_json(struct bot *b, const char *url, json_t **out)
{
	json_error_t err;
	long st;
	int r;

	if ((r = gdocs_auth_token(b->h, &b->auth)) ||
	    (r = gdocs_http_request(b->h, url, b->auth.token, NULL, &b->body,
				    &st)))
		return r;
	*out = json_loadb(b->body.data, b->body.len, 0, &err);
	if (!*out)
		return lt_error(LT_EIO, "%s: the answer is not JSON: %s", url,
				err.text);
	return 0;
}

/* Appends "&pageToken=T" if t is a string. */
static void page_token(struct bot *b, json_t *t)
{
	if (json_is_string(t)) {
		buf_addstr(&b->url, "&pageToken=");
		gdocs_http_escape(b->h, &b->url, json_string_value(t));
	}
}

/* The account's Google Docs: appends {"id", "name"} objects to files. */
static int list_files(struct bot *b, json_t *files)
{
	json_t *next = NULL;
	int r = 0;

	do {
		json_t *ans = NULL, *list;
		buf_reset(&b->url);
		buf_addf(&b->url, "%s/files?q=", b->drive);
		gdocs_http_escape(b->h, &b->url, "mimeType='application/"
				  "vnd.google-apps.document' and trashed=false");
		buf_addstr(&b->url, "&fields=");
		gdocs_http_escape(b->h, &b->url,
				  "nextPageToken,files(id,name,modifiedTime)");
		buf_addstr(&b->url, "&pageSize=100&supportsAllDrives=true"
			   "&includeItemsFromAllDrives=true");
		page_token(b, next);
		json_decref(next);
		next = NULL;
		if ((r = get_json(b, b->url.data, &ans)))
			break;
		list = json_object_get(ans, "files");
		for (size_t i = 0; i < json_array_size(list); i++)
			if (json_is_string(json_object_get(
				    json_array_get(list, i), "id")))
				json_array_append(files, json_array_get(list, i));
		next = json_incref(json_object_get(ans, "nextPageToken"));
		json_decref(ans);
	} while (json_is_string(next) && !stop);
	json_decref(next);
	return r;
}

/* The number of the document's last revision (revisions.list). */
static int last_revision(struct bot *b, const char *id, int64_t *last)
{
	json_t *next = NULL;
	int r = 0;

	*last = 0;
	do {
		json_t *ans = NULL, *list, *rev;
		buf_reset(&b->url);
		buf_addf(&b->url, "%s/files/", b->drive);
		gdocs_http_escape(b->h, &b->url, id);
		buf_addstr(&b->url, "/revisions?pageSize=1000&fields=");
		gdocs_http_escape(b->h, &b->url,
				  "nextPageToken,revisions(id,modifiedTime)");
		page_token(b, next);
		json_decref(next);
		next = NULL;
		if ((r = get_json(b, b->url.data, &ans)))
			break;
		list = json_object_get(ans, "revisions");
		rev = json_object_get(json_array_get(list,
					json_array_size(list) - 1), "id");
		if (json_is_string(rev)) {
			char *end;
			long long n = strtoll(json_string_value(rev), &end, 10);
			if (*end || n < 1)
				r = lt_error(LT_EIO, "%s: revision id '%.40s' is "
					     "not a number", b->url.data,
					     json_string_value(rev));
			else if (n > *last)
				*last = n;
		}
		next = json_incref(json_object_get(ans, "nextPageToken"));
		json_decref(ans);
	} while (!r && json_is_string(next) && !stop);
	json_decref(next);
	return r;
}

/* Every page of the document's comments, as a JSON array of answers. */
static int fetch_comments(struct bot *b, const char *id, struct buf *out)
{
	json_t *next = NULL;
	int r = 0;

	buf_reset(out);
	buf_addch(out, '[');
	do {
		json_t *ans = NULL;
		buf_reset(&b->url);
		buf_addf(&b->url, "%s/files/", b->drive);
		gdocs_http_escape(b->h, &b->url, id);
		buf_addstr(&b->url, "/comments?fields=*&pageSize=100"
			   "&includeDeleted=true");
		page_token(b, next);
		json_decref(next);
		next = NULL;
		if ((r = get_json(b, b->url.data, &ans)))
			break;
		if (out->len > 1)
			buf_addch(out, ',');
		buf_add(out, b->body.data, b->body.len);
		next = json_incref(json_object_get(ans, "nextPageToken"));
		json_decref(ans);
	} while (json_is_string(next) && !stop);
	buf_addch(out, ']');
	json_decref(next);
	return r;
}

static int backup_doc(struct bot *b, const char *id, const char *name)
{
	struct gdocs_input in;
	struct import_summary sum;
	struct buf log = BUF_INIT, comments = BUF_INIT, where = BUF_INIT;
	char *doc = NULL;
	int64_t last;
	long st;
	int r;

	if ((r = last_revision(b, id, &last)) ||
	    (r = fetch_comments(b, id, &comments)))
		goto out;
	buf_addf(&where, "%s/document/d/", b->docs);
	gdocs_http_escape(b->h, &where, id);
	buf_addstr(&where, "/revisions/load?id=");
	gdocs_http_escape(b->h, &where, id);
	buf_addf(&where, "&start=1&end=%" PRId64, last);
	if (!last) {
		/* No revision: nothing to fetch; an empty changelog. */
		buf_addstr(&log, "{\"changelog\":[]}");
	} else if ((r = gdocs_auth_token(b->h, &b->auth)) ||
		   (r = gdocs_http_request(b->h, where.data, b->auth.token,
					   NULL, &log, &st))) {
		goto out;
	}
	memset(&in, 0, sizeof(in));
	in.name = where.data;
	in.data = log.data;
	in.len = log.len;
	in.comments_name = "comments.list";
	in.comments = comments.data;
	in.comments_len = comments.len;
	in.doc = id;
	in.title = name;
	if ((r = gdocs_import(b->v, &in, &doc, &sum)))
		goto out;
	fprintf(stderr, "labtape: %s '%s': %" PRIu64 " new units (%" PRIu64
		" events), %" PRIu64 " already there\n", doc, name, sum.units,
		sum.events, sum.skipped);
out:
	free(doc);
	buf_release(&log);
	buf_release(&comments);
	buf_release(&where);
	return r;
}

/* One round; returns the number of documents that failed, or -1 if the
 * list itself could not be had. */
static int round_once(struct bot *b)
{
	json_t *files = json_array();
	int failed = 0;

	if (list_files(b, files)) {
		cli_error("%s", lt_errmsg());
		json_decref(files);
		return -1;
	}
	for (size_t i = 0; i < json_array_size(files) && !stop; i++) {
		json_t *f = json_array_get(files, i);
		const char *id = json_string_value(json_object_get(f, "id"));
		const char *name = json_string_value(json_object_get(f, "name"));
		if (backup_doc(b, id, name ? name : id)) {
			cli_error("%s: %s; nothing of it was imported this "
				  "round", id, lt_errmsg());
			failed++;
		}
	}
	json_decref(files);
	return failed;
}

int cmd_gdocs_bot(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ "service-account", required_argument, NULL, OPT_SA },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "api", required_argument, NULL, OPT_API },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "gdocs-bot", usage, NULL, NULL };
	struct bot b;
	const char *api = NULL;
	int64_t interval = 10 * 60 * LT_NS_PER_SEC;
	int opt, r, once = 0, status = 0;
	char ua[64];

	memset(&b, 0, sizeof(b));
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_TOKEN_FILE:
			b.auth.token_file = optarg;
			break;
		case OPT_SA:
			b.auth.sa_file = optarg;
			break;
		case OPT_ONCE:
			once = 1;
			break;
		case OPT_INTERVAL:
			if (lt_duration_parse(optarg, &interval) ||
			    interval < LT_NS_PER_SEC)
				return cli_usage_error(&c, "--interval '%s': give "
						       "a duration of 1s or more, "
						       "e.g. 10m", optarg);
			break;
		case OPT_API:
			api = optarg;
			break;
		default:
			if ((r = cli_common_opt(&c, opt)) >= 0)
				return r;
		}
	}
	if (optind != argc)
		return cli_usage_error(&c, "unexpected argument '%s'",
				       argv[optind]);
	if (!b.auth.token_file == !b.auth.sa_file)
		return cli_usage_error(&c, "give one of --token-file FILE and "
				       "--service-account FILE");
	if (cli_open_unlocked(&c, &b.v))
		return 1;
	snprintf(ua, sizeof(ua), "labtape-gdocs-bot/%s", LABTAPE_VERSION);
	b.h = gdocs_http_new(ua);
	buf_init(&b.url, 0);
	buf_init(&b.body, 0);
	if (api) {
		size_t n = strlen(api);
		while (n && api[n - 1] == '/')
			n--;
		b.docs = xstrndup(api, n);
		b.drive = xmalloc(n + 10);
		snprintf(b.drive, n + 10, "%.*s/drive/v3", (int)n, api);
		b.auth.token_uri = xmalloc(n + 7);
		snprintf((char *)b.auth.token_uri, n + 7, "%.*s/token", (int)n,
			 api);
	} else {
		b.docs = xstrdup("https://docs.google.com");
		b.drive = xstrdup("https://www.googleapis.com/drive/v3");
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop) {
		int failed = round_once(&b);
		if (failed)
			status = 1;
		if (once)
			break;
		for (int64_t t = 0; t < interval && !stop; t += LT_NS_PER_SEC) {
			struct timespec ts = { 1, 0 };
			nanosleep(&ts, NULL);
		}
	}
	gdocs_auth_release(&b.auth);
	free((char *)(api ? b.auth.token_uri : NULL));
	free(b.docs);
	free(b.drive);
	buf_release(&b.url);
	buf_release(&b.body);
	gdocs_http_free(b.h);
	vault_free(b.v);
	return status;
}
