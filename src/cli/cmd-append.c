#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"
#include "events.h"
#include "ltime.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape append --stream NAME [--vault DIR]\n"
	"\n"
	"Reads events as JSON lines from stdin and appends them to a stream,\n"
	"one object a line:\n"
	"\n"
	"  {\"kind\": \"note\", \"data\": {\"text\": \"try a smaller lr\"}}\n"
	"  {\"t\": \"2026-11-26T19:00:00.5Z\", \"kind\": \"marker\", "
	"\"data\": {\"text\": \"run 2\"}}\n"
	"\n"
	"\"t\" (RFC 3339, UTC) defaults to now. 'labtape kinds' lists the kinds\n"
	"and their fields. All or nothing: a malformed line stops the append\n"
	"with an error naming the line, and nothing of that call is kept.\n"
	"Exits 0 only once every event is durable on disk.\n"
	"Needs no passphrase.\n"
	"\n"
	"  --stream NAME   the stream (e.g. notes, term:4f2a); required\n";

/* Stream names: printable, no newlines; the vault stores them encrypted. */
static int check_stream(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 256)
		return -1;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return -1;
	return 0;
}

int cmd_append(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "stream", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "append", usage, NULL, NULL };
	const char *stream = NULL;
	struct vault *v = NULL;
	struct tape *t = NULL;
	struct tape_options topt = TAPE_OPTIONS_INIT;
	struct buf payload = BUF_INIT;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long long lineno = 0;
	int opt, r, ok = 0;

	while ((opt = getopt_long(argc, argv, "hs:", opts, NULL)) != -1) {
		if (opt == 's')
			stream = optarg;
		else if ((r = cli_common_opt(&c, opt)) >= 0)
			return r;
	}
	if (optind < argc)
		return cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
	if (!stream)
		return cli_usage_error(&c, "--stream NAME is required");
	if (check_stream(stream))
		return cli_usage_error(&c, "bad stream name '%s': use 1 to 256 "
				       "printable characters", stream);
	if (cli_open_vault(&c, &v))
		return 1;
	cli_many_files();
	/* Parsing JSON beside compression, encryption and new segments. */
	topt.sealer = 1;
	if (tape_open(&t, v, &topt)) {
		cli_error("%s", lt_errmsg());
		goto out;
	}
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		struct event e = EVENT_INIT;
		lineno++;
		r = ev_parse_line(line, (size_t)n, lt_now_ns(), stream, &e);
		if (!r) {
			buf_reset(&payload);
			r = ev_encode(ev_kind_find(e.kind), e.data, &payload);
		}
		if (!r)
			r = tape_append(t, stream, e.t, e.kind,
					payload.data, payload.len);
		event_release(&e);
		if (r) {
			cli_error("stdin line %llu: %s; nothing was appended",
				  lineno, lt_errmsg());
			goto out;
		}
	}
	if (ferror(stdin)) {
		cli_error("cannot read stdin; nothing was appended");
		goto out;
	}
	r = tape_close(t);
	t = NULL;
	if (r) {
		cli_error("%s; nothing was appended", lt_errmsg());
		goto out;
	}
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "appended %llu events to '%s'\n", lineno, stream);
	ok = 1;
out:
	if (t)
		tape_abort(t);
	free(line);
	buf_release(&payload);
	vault_free(v);
	return ok ? 0 : 1;
}
