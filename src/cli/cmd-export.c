#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "error.h"
#include "events.h"
#include "export.h"
#include "ltime.h"
#include "xalloc.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape export KIND [<options>]\n"
	"\n"
	"Writes recorded events in another tool's format. Kinds:\n"
	"\n"
	"  cast    a terminal session as asciicast v2, for asciinema; with\n"
	"          -o DIR and no --session, every session, as a dataset\n"
	"  edits   next-edit prediction examples (JSONL), a dataset\n"
	"  events  the selected events in canonical JSON, a dataset\n"
	"  timeline  windows of time aligning edits, terminals, markers and\n"
	"          notes (JSONL), a dataset\n"
	"  conversations  threads of Slack messages, mail and comments, as\n"
	"          turns with pseudonymous speakers (JSONL), a dataset\n"
	"\n"
	"'labtape export KIND --help' says more about each.\n";

static const char usage_cast[] =
	"usage: labtape export cast --session ID [-o FILE] [--vault DIR]\n"
	"                           [--passphrase-file FILE]\n"
	"\n"
	"Writes a terminal session (labtape shell, labtape import cast) as an\n"
	"asciicast v2 file, which 'asciinema play' and 'asciinema cat' play:\n"
	"a header with the size, start time, command, title and env (SHELL\n"
	"and TERM only), then one [time, code, data] line per output ('o'),\n"
	"input ('i', only if it was recorded), resize ('r') and marker ('m').\n"
	"Markers made with 'labtape mark' during the session are included.\n"
	"\n"
	"The vault keeps the raw bytes the program wrote; asciicast needs text.\n"
	"A UTF-8 character split between two reads is joined again, and bytes\n"
	"that are not UTF-8 become U+FFFD, as asciinema's own recorder does\n"
	"(Python's errors=\"replace\"). doc/exports.md has the details.\n"
	"\n"
	"  -s, --session ID   the session: its id or its stream, term:ID\n"
	"                     ('labtape sessions' lists them)\n"
	"  -o, --output FILE  write to FILE (default: stdout)\n";

static const char *const kinds[] = { "cast", "edits", "events", "timeline",
				     "conversations", NULL };

/* A marker from another stream (e.g. the recorder's) that names the
 * session. */
struct marker {
	int64_t t;
	char *text;
	size_t len;
};

struct export_cast {
	struct vault *v;
	const char *id;
	char *stream;
	struct marker *m;
	size_t nm, am, next;
	struct cast_writer w;
	struct buf out;
	FILE *f;
	int found, bad;
	int64_t start, end;	/* of the session; end INT64_MAX if unknown */
};

static const char *str(json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "";
}

/* Decodes a record's payload; prints a warning and returns NULL if it
 * cannot. */
static json_t *decode(struct export_cast *x, const struct vault_record *rec)
{
	json_t *data;

	if (ev_decode(ev_kind_find(rec->kind), rec->payload, rec->len, &data)) {
		cli_error("warning: event at %lld in '%s': %s; left out",
			  (long long)rec->t, rec->stream, lt_errmsg());
		x->bad = 1;
		return NULL;
	}
	return data;
}

static void flush_out(struct export_cast *x, size_t above)
{
	if (x->out.len > above) {
		fwrite(x->out.data, 1, x->out.len, x->f);
		buf_reset(&x->out);
	}
}

/* Runs q, calling fn for each record. -1 on a fatal error (printed). */
static int each(struct export_cast *x, const struct vault_query *q,
		int (*fn)(struct export_cast *, const struct vault_record *))
{
	struct vault_iter *it;
	struct vault_record rec;
	int r;

	if (vault_iter_open(&it, x->v, q)) {
		cli_error("%s", lt_errmsg());
		return -1;
	}
	while ((r = vault_iter_next(it, &rec)) != 0) {
		if (r < 0) {
			cli_error("warning: %s", lt_errmsg());
			x->bad = 1;
			continue;
		}
		if (fn(x, &rec))
			break;
	}
	vault_iter_free(it);
	return 0;
}

/* The header from the session's term.start. */
static int on_start(struct export_cast *x, const struct vault_record *rec)
{
	json_t *data = decode(x, rec), *cmd, *env;
	struct cast_header h;
	struct buf command = BUF_INIT;

	if (!data)
		return 0;
	x->found = 1;
	x->start = rec->t;
	memset(&h, 0, sizeof(h));
	h.width = json_integer_value(json_object_get(data, "cols"));
	h.height = json_integer_value(json_object_get(data, "rows"));
	h.has_timestamp = 1;
	h.timestamp = rec->t / LT_NS_PER_SEC - (rec->t % LT_NS_PER_SEC < 0);
	h.title = json_string_value(json_object_get(data, "title"));
	env = json_object_get(data, "env");
	h.shell = json_string_value(json_object_get(env, "SHELL"));
	h.term = json_string_value(json_object_get(env, "TERM"));
	/* The header's command is a shell command line (asciinema rec -c
	 * runs it with sh -c), the vault's an argv. */
	cmd = json_object_get(data, "command");
	if (json_array_size(cmd) == 3 &&
	    !strcmp("-c", str(json_array_get(cmd, 1))) &&
	    (!strcmp("sh", str(json_array_get(cmd, 0))) ||
	     !strcmp("/bin/sh", str(json_array_get(cmd, 0))))) {
		buf_addstr(&command, json_string_value(json_array_get(cmd, 2)));
	} else {
		size_t i;
		json_t *a;
		json_array_foreach(cmd, i, a) {
			const char *s = str(a);
			if (i)
				buf_addch(&command, ' ');
			if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				      "_@%+=:,./-") == strlen(s)) {
				buf_addstr(&command, s);
				continue;
			}
			buf_addch(&command, '\'');
			for (; *s; s++) {
				if (*s == '\'')
					buf_addstr(&command, "'\\''");
				else
					buf_addch(&command, *s);
			}
			buf_addch(&command, '\'');
		}
	}
	if (json_array_size(cmd))
		h.command = command.data;
	if (h.width < 1)
		h.width = 80;
	if (h.height < 1)
		h.height = 24;
	cast_write_header(&x->w, &h);
	buf_release(&command);
	json_decref(data);
	return 1;	/* the first one is the one */
}

static int on_marker(struct export_cast *x, const struct vault_record *rec)
{
	json_t *data, *text;
	struct marker *m;

	if (!strcmp(rec->stream, x->stream))
		return 0;	/* the main pass has these */
	if (!(data = decode(x, rec)))
		return 0;
	if (!strcmp(str(json_object_get(data, "session")), x->id)) {
		text = json_object_get(data, "text");
		XGROW(x->m, x->nm + 1, x->am);
		m = &x->m[x->nm++];
		m->t = rec->t;
		m->len = json_string_length(text);
		m->text = xmemdup(str(text), m->len + 1);
	}
	json_decref(data);
	return 0;
}

static void markers_until(struct export_cast *x, int64_t t)
{
	while (x->next < x->nm && x->m[x->next].t <= t) {
		struct marker *m = &x->m[x->next++];
		cast_write_marker(&x->w, m->t - x->start, m->text, m->len);
	}
}

static int on_event(struct export_cast *x, const struct vault_record *rec)
{
	int64_t t = rec->t - x->start;
	json_t *data;

	if (!strcmp(rec->kind, "term.start"))
		return 0;
	markers_until(x, rec->t);
	if (!(data = decode(x, rec)))
		return 0;
	if (!strcmp(rec->kind, "term.out") || !strcmp(rec->kind, "term.in")) {
		size_t got;
		uint8_t *bin = ev_bytes_decode(json_object_get(data, "data"),
					       &got);
		if (bin)
			cast_write_bytes(&x->w, t, rec->kind[5] == 'o' ? 'o' :
					 'i', bin, got);
		free(bin);
	} else if (!strcmp(rec->kind, "term.resize")) {
		cast_write_resize(&x->w, t,
			json_integer_value(json_object_get(data, "cols")),
			json_integer_value(json_object_get(data, "rows")));
	} else if (!strcmp(rec->kind, "marker")) {
		json_t *text = json_object_get(data, "text");
		cast_write_marker(&x->w, t, str(text), json_string_length(text));
	} else if (!strcmp(rec->kind, "term.end")) {
		x->end = rec->t;
	}
	json_decref(data);
	flush_out(x, 1 << 16);
	return x->end != INT64_MAX;
}

static int export_cast(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "session", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "export cast", usage_cast, NULL, NULL };
	struct vault_query q = VAULT_QUERY_INIT;
	struct export_cast x;
	const char *session = NULL, *output = NULL;
	int opt, r, ok = 0;

	memset(&x, 0, sizeof(x));
	x.end = INT64_MAX;
	while ((opt = getopt_long(argc, argv, "hs:o:", opts, NULL)) != -1) {
		if (opt == 's')
			session = optarg;
		else if (opt == 'o')
			output = optarg;
		else if ((r = cli_common_opt(&c, opt)) >= 0)
			return r;
	}
	if (optind < argc)
		return cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
	if (session && !strncmp(session, "term:", 5))
		session += 5;
	if (session && (!*session || strlen(session) > 64))
		return cli_usage_error(&c, "bad session id '%s'", session);
	if (cli_open_unlocked(&c, &x.v))
		return 1;
	if (!session) {
		fprintf(stderr, "labtape export cast: which session? Give "
			"--session ID, one of:\n");
		sessions_print(x.v, stderr);
		vault_free(x.v);
		return EXIT_USAGE;
	}
	x.id = session;
	x.stream = xmalloc(strlen(session) + 6);
	snprintf(x.stream, strlen(session) + 6, "term:%s", session);
	buf_init(&x.out, 1 << 17);
	cast_writer_init(&x.w, &x.out);

	q.stream = x.stream;
	q.kind = "term.start";
	if (each(&x, &q, on_start))
		goto out;
	if (!x.found) {
		cli_error("no terminal session '%s' in the vault (run "
			  "'labtape sessions' to list them)", session);
		goto out;
	}
	q.stream = NULL;
	q.kind = "marker";
	q.since = x.start;
	if (each(&x, &q, on_marker))
		goto out;

	if (output && !(x.f = fopen(output, "w"))) {
		cli_error("cannot write '%s': %s", output, strerror(errno));
		goto out;
	}
	if (!output)
		x.f = stdout;
	q.stream = x.stream;
	q.kind = NULL;
	if (each(&x, &q, on_event))
		goto out;
	markers_until(&x, x.end);
	cast_writer_finish(&x.w);
	flush_out(&x, 0);
	if (fflush(x.f) || ferror(x.f)) {
		cli_error("cannot write %s", output ? output : "the output");
		goto out;
	}
	ok = 1;
out:
	if (x.f && x.f != stdout && fclose(x.f) && ok) {
		cli_error("cannot write '%s': %s", output, strerror(errno));
		ok = 0;
	}
	if (ok) {
		json_t *d = json_pack("{s:s, s:s, s:s}", "format", "cast",
				      "session", session, "output",
				      output ? output : "-");
		if (audit_append(x.v, AUDIT_EXPORT, d)) {
			cli_error("exported, but %s", lt_errmsg());
			x.bad = 1;
		}
		json_decref(d);
	}
	if (output && x.f && !ok)
		unlink(output);
	for (size_t i = 0; i < x.nm; i++)
		free(x.m[i].text);
	free(x.m);
	free(x.stream);
	buf_release(&x.out);
	vault_free(x.v);
	return ok ? x.bad : 1;
}

int cmd_export(int argc, char **argv)
{
	struct cli c = { "export", usage, NULL, NULL };
	struct buf list = BUF_INIT;

	if (argc < 2)
		return cli_usage_error(&c, "which kind? One of: cast, edits, "
				       "events, timeline, conversations");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "edits") || !strcmp(argv[1], "events") ||
	    !strcmp(argv[1], "timeline") || !strcmp(argv[1], "conversations"))
		return cmd_export_dataset(argv[1], argc - 1, argv + 1);
	if (!strcmp(argv[1], "cast")) {
		int session = 0, output = 0;
		/* Without --session, -o names a dataset folder of every
		 * session; with it, the one session's file as before. */
		for (int i = 2; i < argc; i++) {
			session |= !strcmp(argv[i], "-s") ||
				   !strncmp(argv[i], "--session", 9);
			output |= !strcmp(argv[i], "-o") ||
				  !strncmp(argv[i], "--output", 8);
		}
		if (!session && output)
			return cmd_export_dataset("cast", argc - 1, argv + 1);
		return export_cast(argc - 1, argv + 1);
	}
	for (int i = 0; kinds[i]; i++)
		buf_addf(&list, "%s%s", i ? ", " : "", kinds[i]);
	cli_usage_error(&c, "unknown kind '%s'; the kinds are: %s", argv[1],
			list.data);
	buf_release(&list);
	return EXIT_USAGE;
}
