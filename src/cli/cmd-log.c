#include <stdint.h>
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
	"usage: labtape log [--stream S] [--kind K] [--since T] [--until T]\n"
	"                   [--json] [--vault DIR] [--passphrase-file FILE]\n"
	"\n"
	"Shows recorded events in time order: one line each (terminal output\n"
	"as the text it shows, escape sequences left out), or with --json one\n"
	"canonical JSON event a line, every byte kept:\n"
	"\n"
	"  {\"t\":\"2026-11-26T19:00:00.123456789Z\",\"stream\":\"notes\",\n"
	"   \"kind\":\"note\",\"data\":{\"text\":\"...\"}}\n"
	"\n"
	"  --stream S    only stream S\n"
	"  --kind K      only events of kind K\n"
	"  --since T     from T on (RFC 3339, a date, or a time ago: 10m, 2h, 3d)\n"
	"  --until T     before T\n"
	"  --json        canonical JSON lines\n"
	"\n"
	"Blocks that cannot be read are reported on stderr and skipped; the\n"
	"exit status is then 1.\n";

int cmd_log(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "stream", required_argument, NULL, 's' },
		{ "kind", required_argument, NULL, 'k' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "log", usage, NULL, NULL };
	struct vault_query q = VAULT_QUERY_INIT;
	struct vault_iter *it = NULL;
	struct vault_record rec;
	struct vault *v = NULL;
	struct buf out = BUF_INIT;
	int opt, r, json = 0, bad = 0, width = 0;
	static char obuf[1 << 16];

	while ((opt = getopt_long(argc, argv, "hs:k:", opts, NULL)) != -1) {
		switch (opt) {
		case 's': q.stream = optarg; break;
		case 'k': q.kind = optarg; break;
		case 'j': json = 1; break;
		case 'S':
		case 'U':
			if (lt_time_parse(optarg, opt == 'S' ? &q.since : &q.until))
				return cli_usage_error(&c, "%s", lt_errmsg());
			break;
		default:
			if ((r = cli_common_opt(&c, opt)) >= 0)
				return r;
		}
	}
	if (optind < argc)
		return cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
	if (cli_open_unlocked(&c, &v))
		return 1;
	if (vault_iter_open(&it, v, &q)) {
		cli_error("%s", lt_errmsg());
		vault_free(v);
		return 1;
	}
	if (!json && isatty(STDOUT_FILENO)) {
		const char *cols = getenv("COLUMNS");
		width = cols ? (int)strtol(cols, NULL, 10) : 0;
		if (width <= 0)
			width = 120;
	}
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	while ((r = vault_iter_next(it, &rec)) != 0) {
		const struct ev_kind *k;
		json_t *data = NULL;
		if (r < 0) {
			fflush(stdout);
			cli_error("warning: %s", lt_errmsg());
			bad = 1;
			continue;
		}
		k = ev_kind_find(rec.kind);
		if (ev_decode(k, rec.payload, rec.len, &data)) {
			fflush(stdout);
			cli_error("warning: event at %lld in '%s': %s",
				  (long long)rec.t, rec.stream, lt_errmsg());
			bad = 1;
			continue;
		}
		buf_reset(&out);
		if (json)
			ev_to_json(rec.t, rec.stream, rec.kind, data, &out);
		else
			ev_format_human(rec.t, rec.stream, rec.kind, data, width,
					&out);
		buf_addch(&out, '\n');
		fwrite(out.data, 1, out.len, stdout);
		json_decref(data);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("cannot write the output");
		bad = 1;
	}
	buf_release(&out);
	vault_iter_free(it);
	vault_free(v);
	return bad;
}
