#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "error.h"
#include "events.h"
#include "export.h"
#include "fileio.h"
#include "hex.h"
#include "import.h"
#include "ltime.h"
#include "xalloc.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape import SOURCE ... [--vault DIR]\n"
	"\n"
	"Reads history kept elsewhere into the vault, as the same events that\n"
	"recording makes. Each input is all or nothing, and importing it again\n"
	"adds nothing; several inputs are imported one after the other, each\n"
	"by itself (the exit status is the worst of them). Sources:\n"
	"\n"
	"  cast FILE       an asciicast v2 or v3 file (asciinema rec), a terminal\n"
	"                  session\n"
	"  etherpad FILE   a pad's history, from its .etherpad export\n"
	"  gdocs FILE      a Google Docs revision changelog (and --comments FILE)\n"
	"  git REPO        a git repository's history: every change of every file\n"
	"  mail PATH       an mbox file or a Maildir folder, attachments too\n"
	"  posts FILE      published posts and their comments, as JSONL\n"
	"  slack ZIP       a Slack workspace export: messages, threads, edits\n"
	"\n"
	"'labtape import SOURCE --help' says more about each.\n";

static const char usage_cast[] =
	"usage: labtape import cast FILE... [--vault DIR]\n"
	"\n"
	"Reads an asciicast file, v2 (asciinema 2) or v3 (asciinema 3), into a\n"
	"new terminal session, and prints its id (v1 files are refused: convert\n"
	"them with asciinema first). The header becomes term.start (size,\n"
	"title, command, env SHELL and TERM; timestamp is the start, now if\n"
	"absent); events 'o', 'i', 'r' and 'm' become term.out, term.in,\n"
	"term.resize and marker at their time; a term.end closes the session\n"
	"at its last event, with v3's exit status ('x') if there is one.\n"
	"Events with other codes are skipped with a warning, as the format\n"
	"says players should.\n"
	"\n"
	"All or nothing: a malformed file is refused with its line number and\n"
	"what is wrong, and nothing of it is kept. Needs no passphrase.\n"
	"Export it again with 'labtape export cast --session ID'.\n";

/* Files larger than this are refused (they are read whole). */
#define IMPORT_MAX (1ull << 30)

struct import_cast {
	struct tape *t;
	char id[9];
	char stream[16];
	int64_t base, last;
	struct buf payload;
	uint64_t count;
	int has_status, status;	/* from v3's "x" event */
};

/* Encodes data (which it steals) as kind and appends it at time ts. */
static int put(struct import_cast *x, int64_t ts, const char *kind,
	       json_t *data)
{
	const struct ev_kind *k = ev_kind_find(kind);
	struct buf why = BUF_INIT;
	int r;

	json_object_set_new(data, "session", json_string(x->id));
	buf_reset(&x->payload);
	if ((r = ev_validate(k, data, &why)))
		r = lt_error(r, "%s", why.data);
	if (!r)
		r = ev_encode(k, data, &x->payload);
	if (!r)
		r = tape_append(x->t, x->stream, ts, kind, x->payload.data,
				x->payload.len);
	buf_release(&why);
	json_decref(data);
	if (!r) {
		x->count++;
		if (ts > x->last)
			x->last = ts;
	}
	return r;
}

static int on_header(void *ctx, const struct cast_header *h)
{
	struct import_cast *x = ctx;
	json_t *d = json_object(), *env = json_object();

	x->base = h->has_timestamp ? h->timestamp * LT_NS_PER_SEC : lt_now_ns();
	x->last = x->base;
	json_object_set_new(d, "cols", json_integer(h->width));
	json_object_set_new(d, "rows", json_integer(h->height));
	if (h->command)
		json_object_set_new(d, "command",
				    json_pack("[s,s,s]", "sh", "-c", h->command));
	if (h->title)
		json_object_set_new(d, "title", json_string(h->title));
	if (h->shell)
		json_object_set_new(env, "SHELL", json_string(h->shell));
	if (h->term)
		json_object_set_new(env, "TERM", json_string(h->term));
	if (json_object_size(env))
		json_object_set(d, "env", env);
	json_decref(env);
	return put(x, x->base, "term.start", d);
}

static int on_event(void *ctx, const struct cast_event *e)
{
	struct import_cast *x = ctx;
	int64_t ts = x->base + e->t;
	json_t *d = json_object();

	switch (e->code) {
	case 'o':
	case 'i': {
		size_t n = sodium_base64_ENCODED_LEN(e->len,
					sodium_base64_VARIANT_ORIGINAL);
		char *b64 = xmalloc(n);
		sodium_bin2base64(b64, n, (const unsigned char *)e->data,
				  e->len, sodium_base64_VARIANT_ORIGINAL);
		json_object_set_new(d, "data", json_string(b64));
		free(b64);
		return put(x, ts, e->code == 'o' ? "term.out" : "term.in", d);
	}
	case 'r':
		json_object_set_new(d, "cols", json_integer(e->cols));
		json_object_set_new(d, "rows", json_integer(e->rows));
		return put(x, ts, "term.resize", d);
	case 'x':	/* the command's exit: term.end says it */
		json_decref(d);
		x->has_status = 1;
		x->status = e->status;
		if (ts > x->last)
			x->last = ts;
		return 0;
	default:
		json_object_set_new(d, "text", json_stringn(e->data, e->len));
		return put(x, ts, "marker", d);
	}
}

static int import_cast(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	static const struct cast_parse_ops ops = { on_header, on_event };
	struct cli c = { "import cast", usage_cast, NULL, NULL };
	struct import_cast x;
	struct cast_parse_stats st;
	struct vault *v = NULL;
	struct buf file = BUF_INIT;
	uint8_t rnd[4];
	const char *path;
	int opt, r, ok = 0;

	memset(&x, 0, sizeof(x));
	buf_init(&x.payload, 0);
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		if ((r = cli_common_opt(&c, opt)) >= 0)
			return r;
	if ((r = cli_import_each(argc, argv, import_cast)) >= 0)
		return r;
	if (optind == argc)
		return cli_usage_error(&c, "which file? Give FILE");
	path = argv[optind];
	if (lt_read_file(path, IMPORT_MAX, &file))
		return cli_error("%s", lt_errmsg());
	if (cli_open_vault(&c, &v))
		goto out;
	randombytes_buf(rnd, sizeof(rnd));
	lt_hex(rnd, sizeof(rnd), x.id);
	snprintf(x.stream, sizeof(x.stream), "term:%s", x.id);
	if (tape_open(&x.t, v, NULL)) {
		cli_error("%s", lt_errmsg());
		goto out;
	}
	r = cast_parse(path, file.data, file.len, &ops, &x, &st);
	if (!r)
		r = put(&x, x.last, "term.end", x.has_status ?
			json_pack("{s:i}", "status", x.status) : json_object());
	if (!r) {
		r = tape_close(x.t);
		x.t = NULL;
	}
	if (r) {
		cli_error("%s; nothing was imported", lt_errmsg());
		goto out;
	}
	if (st.skipped)
		cli_error("warning: %s: skipped %zu events with codes other "
			  "than o, i, r, m (the first on line %zu)", path,
			  st.skipped, st.first_skipped);
	fprintf(stderr, "labtape: imported '%s' as session %s (%zu events)\n",
		path, x.id, st.events);
	printf("%s\n", x.id);
	ok = 1;
out:
	if (x.t)
		tape_abort(x.t);
	buf_release(&x.payload);
	buf_release(&file);
	vault_free(v);
	return ok ? 0 : 1;
}

int import_etherpad(int argc, char **argv);
int import_gdocs(int argc, char **argv);
int import_posts(int argc, char **argv);

int cli_import_each(int argc, char **argv, int (*fn)(int argc, char **argv))
{
	int first = optind, status = 0;
	char **one;

	if (argc - first < 2)
		return -1;
	/* getopt_long() has moved the options before the inputs. */
	one = xcalloc((size_t)first + 2, sizeof(*one));
	memcpy(one, argv, (size_t)first * sizeof(*one));
	for (int i = first; i < argc; i++) {
		int st;
		one[first] = argv[i];
		one[first + 1] = NULL;
		optind = 0;	/* getopt starts again (glibc) */
		st = fn(first + 1, one);
		if (st > status)
			status = st;
	}
	free(one);
	return status;
}

int cli_import_messages(struct cli *c, const char *source,
			const char *input, const char *stream,
			int (*fn)(struct import *im, void *ctx), void *ctx)
{
	struct import_opts io = { source, input, stream, 1 };
	struct import_summary sum;
	struct import *im;
	struct vault *v = NULL;
	int ok = 0;

	if (cli_open_unlocked(c, &v))
		goto out;
	if (import_open(&im, v, &io)) {
		cli_error("%s", lt_errmsg());
		goto out;
	}
	if (fn(im, ctx)) {
		cli_error("%s; nothing was imported", lt_errmsg());
		import_abort(im);
		goto out;
	}
	if (import_commit(im, &sum)) {
		cli_error("%s; nothing was imported", lt_errmsg());
		goto out;
	}
	fprintf(stderr, "labtape: imported '%s' into %s: %llu messages new, "
		"%llu already there\n", input, stream,
		(unsigned long long)sum.units, (unsigned long long)sum.skipped);
	ok = 1;
out:
	vault_free(v);
	return ok ? 0 : 1;
}

/*
 * The importers, by name. Each lives in a file of its own (import-NAME.c)
 * and is called with argv[0] = NAME.
 */
static const struct importer {
	const char *name;
	int (*fn)(int argc, char **argv);
} importers[] = {
	{ "cast", import_cast },
	{ "etherpad", import_etherpad },
	{ "gdocs", import_gdocs },
	{ "git", import_git },
	{ "mail", import_mail },
	{ "posts", import_posts },
	{ "slack", import_slack },
	{ NULL, NULL },
};

int cmd_import(int argc, char **argv)
{
	struct cli c = { "import", usage, NULL, NULL };

	cli_many_files();
	if (argc < 2)
		return cli_usage_error(&c, "which source? See 'labtape import "
				       "--help'");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		return 0;
	}
	for (const struct importer *im = importers; im->name; im++)
		if (!strcmp(argv[1], im->name))
			return im->fn(argc - 1, argv + 1);
	return cli_usage_error(&c, "unknown source '%s'; see 'labtape import "
			       "--help'", argv[1]);
}
