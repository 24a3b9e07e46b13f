/* labtape audit: show and verify the audit log (src/privacy/audit.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cli.h"
#include "error.h"
#include "ltime.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape audit [--json] [--verify] [--since T] [--vault DIR]\n"
	"                     [--passphrase-file FILE]\n"
	"\n"
	"Shows the audit log: what was done to the vault and its recording\n"
	"(consent given and revoked, pauses and resumes, exports, exclusion\n"
	"changes, forget, release), one entry a line: its number, time, action,\n"
	"who did it and a summary of the details. The log is encrypted, so this\n"
	"needs the passphrase (or a recorder holding the key, 'labtape unlock').\n"
	"\n"
	"  --json       one canonical JSON object a line: seq, t, action, actor,\n"
	"               detail, offset and hash\n"
	"  --since T    only entries from T on (RFC 3339, a date, or a time ago:\n"
	"               10m, 2h, 3d)\n"
	"  --verify     check the log instead: every entry decrypts, follows the\n"
	"               one before it, and the last one is the one the head names.\n"
	"               Names the first broken entry (number and byte offset) and\n"
	"               says whether it was edited, is missing, inserted, reordered\n"
	"               or cut off the end (truncated); exits 1 if anything is.\n";

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* "key=value" pairs on one line: strings as they are, unless they hold
 * control characters (a newline, an escape sequence), and everything else
 * as JSON. */
static void summary(json_t *detail, struct buf *out)
{
	const char *k;
	json_t *val;

	json_object_foreach(detail, k, val) {
		buf_addf(out, "%s%s=", out->len ? " " : "", k);
		if (json_is_string(val) && !has_control(json_string_value(val))) {
			buf_addstr(out, json_string_value(val));
		} else {
			char *s = json_dumps(val, JSON_COMPACT | JSON_SORT_KEYS |
					     JSON_ENCODE_ANY);
			buf_addstr(out, s ? s : "?");
			free(s);
		}
	}
}

static int show(void *ctx, const struct audit_entry *e)
{
	int json = *(int *)ctx;
	struct buf line = BUF_INIT, d = BUF_INIT;
	char t[LT_TIME_MAX_LEN];

	if (json) {
		json_t *o = audit_entry_json(e);
		char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		puts(s);
		free(s);
		json_decref(o);
		return 0;
	}
	lt_time_format(e->t, t);
	t[19] = '\0';	/* seconds are enough to read */
	summary(e->detail, &d);
	buf_addf(&line, "%4llu  %sZ  %-16s %s", (unsigned long long)e->seq, t,
		 e->action, e->actor);
	if (d.len)
		buf_addf(&line, "  %s", d.data);
	puts(line.data);
	buf_release(&line);
	buf_release(&d);
	return 0;
}

static void report(void *ctx, int problem, const char *msg)
{
	(void)ctx;
	printf("%s: %s\n", problem ? "problem" : "note", msg);
}

static void warn(void *ctx, int problem, const char *msg)
{
	(void)ctx;
	fflush(stdout);
	fprintf(stderr, "labtape: %s: %s\n", problem ? "warning" : "note", msg);
}

int cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "json", no_argument, NULL, 'j' },
		{ "verify", no_argument, NULL, 'V' },
		{ "since", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "audit", usage, NULL, NULL };
	struct vault *v;
	int64_t since = INT64_MIN;
	int opt, r, json = 0, check = 0;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = 1; break;
		case 'V': check = 1; break;
		case 'S':
			if (lt_time_parse(optarg, &since))
				return cli_usage_error(&c, "%s", lt_errmsg());
			break;
		default:
			if ((r = cli_common_opt(&c, opt)) >= 0)
				return r;
		}
	}
	if (optind < argc)
		return cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
	if (check && (json || since != INT64_MIN))
		return cli_usage_error(&c, "--verify checks the whole log; it "
				       "takes no --json or --since");
	if (cli_open_unlocked(&c, &v))
		return 1;
	if (check) {
		r = audit_verify(v, report, NULL);
		if (r == LT_ECORRUPT)
			cli_error("the audit log of %s fails verification",
				  vault_dir(v));
		else if (r)
			cli_error("%s", lt_errmsg());
	} else {
		r = audit_read(v, since, show, &json, warn, NULL);
		if (fflush(stdout) || ferror(stdout))
			r = cli_error("cannot write the output");
		else if (r == LT_ECORRUPT)
			cli_error("the audit log has problems (run 'labtape "
				  "audit --verify')");
		else if (r)
			cli_error("%s", lt_errmsg());
	}
	vault_free(v);
	return r ? 1 : 0;
}
