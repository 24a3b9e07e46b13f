/*
 * The commands that talk to a running recorder: status, pause, resume,
 * mark, note, stop, unlock, lock. They are thin wrappers over one request
 * each (doc/protocol.md), so they share this file rather than each having
 * a cmd-<name>.c of a dozen lines.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "config.h"
#include "ctl.h"
#include "error.h"
#include "ltime.h"
#include "banned.h"

/* Sends req (consumed) and prints the error if any; *resp if wanted. */
static int call(json_t *req, json_t **resp)
{
	struct ctl c = { -1, NULL };
	json_t *r = NULL;
	int rc;

	if ((rc = ctl_connect(&c)) == 0)
		rc = ctl_call(&c, req, &r);
	ctl_close(&c);
	json_decref(req);
	if (rc) {
		json_decref(r);
		return cli_error("%s", lt_errmsg());
	}
	if (resp)
		*resp = r;
	else
		json_decref(r);
	return 0;
}

/* Parses the options shared by these commands: --help, and --for. */
static int parse(int argc, char **argv, struct cli *c, const char **for_arg,
		 int *done)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "for", required_argument, NULL, 'f' },
		{ "passphrase-file", required_argument, NULL, OPT_PASSFILE },
		{ NULL, 0, NULL, 0 },
	};
	int opt, r;

	*done = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'f' && for_arg) {
			*for_arg = optarg;
		} else if (opt == 'f') {
			*done = 1;
			return cli_usage_error(c, "--for does not apply here");
		} else if ((r = cli_common_opt(c, opt)) >= 0) {
			*done = 1;
			return r;
		}
	}
	if (for_arg && *for_arg) {
		int64_t ns;
		if (lt_duration_parse(*for_arg, &ns)) {
			*done = 1;
			return cli_usage_error(c, "%s", lt_errmsg());
		}
	}
	return 0;
}

static const char status_usage[] =
	"usage: labtape status [--json]\n"
	"\n"
	"Shows the running recorder: whether it is paused or holds the vault\n"
	"key, each source's state, events and bytes recorded today, the last\n"
	"error, and how many events each exclusion rule ([exclude] in the\n"
	"configuration) kept off the disk today (counts only).\n";

static void show_time(const char *label, json_t *t)
{
	if (json_is_string(t))
		printf("%s %s\n", label, json_string_value(t));
}

/* The rules that excluded events today, and how many. */
static void show_exclusions(json_t *ex)
{
	json_t *e;
	size_t i;

	if (!json_array_size(ex))
		return;
	printf("\n%-10s  %s\n", "EXCLUDED", "RULE");
	json_array_foreach(ex, i, e) {
		json_int_t lim = json_integer_value(json_object_get(e,
							"match_limit"));
		printf("%10lld  %s", (long long)json_integer_value(
			       json_object_get(e, "count")),
		       json_string_value(json_object_get(e, "rule")));
		if (lim)
			printf(" (%lld by its match limit: simplify the regex)",
			       (long long)lim);
		putchar('\n');
	}
}

int cmd_status(int argc, char **argv)
{
	struct cli c = { "status", status_usage, NULL, NULL };
	json_t *r, *srcs, *s;
	size_t i;
	char b[32];
	int json = 0, done, rc;

	for (int k = 1; k < argc; k++)
		if (!strcmp(argv[k], "--json")) {
			json = 1;
			memmove(&argv[k], &argv[k + 1], (size_t)(argc - k) * sizeof(*argv));
			argc--;
			break;
		}
	rc = parse(argc, argv, &c, NULL, &done);
	if (done)
		return rc;
	if (optind < argc)
		return cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
	if (call(json_pack("{s:s}", "cmd", "status"), &r))
		return 1;
	if (json) {
		json_dumpf(r, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(r);
		return 0;
	}
	printf("recorder    pid %lld, vault %s\n",
	       (long long)json_integer_value(json_object_get(r, "pid")),
	       json_string_value(json_object_get(r, "vault")));
	printf("state       %s%s\n",
	       json_is_true(json_object_get(r, "paused")) ? "paused" : "recording",
	       json_is_true(json_object_get(r, "unlocked")) ?
	       ", holding the vault key" : "");
	show_time("paused until", json_object_get(r, "paused_until"));
	show_time("key until  ", json_object_get(r, "unlocked_until"));
	cli_human_bytes((uint64_t)json_integer_value(json_object_get(r, "bytes_today")),
			b, sizeof(b));
	printf("today       %lld events, %s\n",
	       (long long)json_integer_value(json_object_get(r, "events_today")), b);
	if (json_is_string(json_object_get(r, "error")))
		printf("last error  %s\n",
		       json_string_value(json_object_get(r, "error")));
	srcs = json_object_get(r, "sources");
	printf("\n%-10s %-9s %10s %10s  %s\n", "SOURCE", "STATE", "EVENTS",
	       "BYTES", "LAST ERROR");
	json_array_foreach(srcs, i, s) {
		json_t *err = json_object_get(s, "error");
		cli_human_bytes((uint64_t)json_integer_value(
					json_object_get(s, "bytes_today")),
				b, sizeof(b));
		printf("%-10s %-9s %10lld %10s  %s\n",
		       json_string_value(json_object_get(s, "name")),
		       json_string_value(json_object_get(s, "state")),
		       (long long)json_integer_value(json_object_get(s, "events_today")),
		       b, json_is_string(err) ? json_string_value(err) : "-");
	}
	show_exclusions(json_object_get(r, "exclusions"));
	json_decref(r);
	return 0;
}

static const char pause_usage[] =
	"usage: labtape pause [--for DURATION]\n"
	"\n"
	"Stops recording at once: while paused, nothing from any source\n"
	"reaches the disk. The pause itself is recorded. With --for (15m,\n"
	"2h, ...) recording resumes by itself.\n";

int cmd_pause(int argc, char **argv)
{
	struct cli c = { "pause", pause_usage, NULL, NULL };
	const char *for_arg = NULL;
	int done, rc;
	json_t *req;

	rc = parse(argc, argv, &c, &for_arg, &done);
	if (done)
		return rc;
	if (optind < argc)
		return cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
	req = json_pack("{s:s}", "cmd", "pause");
	if (for_arg)
		json_object_set_new(req, "for", json_string(for_arg));
	if (call(req, NULL))
		return 1;
	fprintf(stderr, "paused%s%s\n", for_arg ? " for " : "",
		for_arg ? for_arg : " (until 'labtape resume')");
	return 0;
}

static const char resume_usage[] =
	"usage: labtape resume\n\nResumes recording after 'labtape pause'.\n";

/* A request with no arguments: resume, stop, lock. */
static int simple(int argc, char **argv, const char *cmd, const char *usage,
		  const char *said)
{
	struct cli c = { cmd, usage, NULL, NULL };
	int done, rc;

	rc = parse(argc, argv, &c, NULL, &done);
	if (done)
		return rc;
	if (optind < argc)
		return cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
	if (call(json_pack("{s:s}", "cmd", cmd), NULL))
		return 1;
	fprintf(stderr, "%s\n", said);
	return 0;
}

int cmd_resume(int argc, char **argv)
{
	return simple(argc, argv, "resume", resume_usage, "recording");
}

static const char stop_usage[] =
	"usage: labtape stop\n"
	"\nStops the recorder, after it has committed what it recorded.\n";

int cmd_stop(int argc, char **argv)
{
	return simple(argc, argv, "stop", stop_usage, "stopped");
}

static const char lock_usage[] =
	"usage: labtape lock\n"
	"\nMakes the recorder forget the vault key now (see 'labtape unlock').\n";

int cmd_lock(int argc, char **argv)
{
	return simple(argc, argv, "lock", lock_usage,
		      "the recorder no longer holds the vault key");
}

static const char mark_usage[] =
	"usage: labtape mark TEXT...\n"
	"\nRecords a marker now: a point in time to find again (\"run 7 starts\").\n"
	"Inside 'labtape shell' the marker joins that session, with or without\n"
	"a recorder running.\n";
static const char note_usage[] =
	"usage: labtape note TEXT...\n"
	"\nRecords a note now: a thought, in your own words.\n";

/*
 * Inside `labtape shell`, a marker goes to the session's own socket, so
 * that it lands on the session's tape with or without a recorder. Returns
 * 1 with *rc set (req consumed) if the session answered; 0 if nothing
 * answers there (a session that ended, a different runtime folder), for
 * the recorder to take the marker.
 */
static int to_session(const char *session, json_t *req, int *rc)
{
	struct ctl c = { -1, NULL };
	struct buf path = BUF_INIT;
	json_t *resp = NULL;
	int r;

	config_session_socket_path(&path, session);
	r = ctl_connect_path(&c, path.data);
	buf_release(&path);
	if (r)
		return 0;
	r = ctl_call(&c, req, &resp);
	ctl_close(&c);
	json_decref(resp);
	json_decref(req);
	*rc = r ? cli_error("session %s: %s", session, lt_errmsg()) : 0;
	return 1;
}

static int text_cmd(int argc, char **argv, const char *cmd, const char *usage)
{
	struct cli c = { cmd, usage, NULL, NULL };
	struct buf text = BUF_INIT;
	const char *session = getenv("LABTAPE_SESSION");
	int done, rc;
	json_t *req;

	rc = parse(argc, argv, &c, NULL, &done);
	if (done)
		return rc;
	if (optind >= argc)
		return cli_usage_error(&c, "what should the %s say?", cmd);
	for (int i = optind; i < argc; i++)
		buf_addf(&text, "%s%s", i > optind ? " " : "", argv[i]);
	req = json_pack("{s:s, s:s}", "cmd", cmd, "text", text.data);
	buf_release(&text);
	if (session && *session) {
		json_object_set_new(req, "session", json_string(session));
		if (!strcmp(cmd, "mark") && to_session(session, req, &rc))
			return rc;
	}
	return call(req, NULL);
}

int cmd_mark(int argc, char **argv)
{
	return text_cmd(argc, argv, "mark", mark_usage);
}

int cmd_note(int argc, char **argv)
{
	return text_cmd(argc, argv, "note", note_usage);
}

static const char unlock_usage[] =
	"usage: labtape unlock [--for DURATION] [--passphrase-file FILE]\n"
	"\n"
	"Lets the running recorder hold the vault key in locked memory for a\n"
	"while (default 15m), as ssh-agent does, so that reading commands\n"
	"(log, stats, verify, ...) do not ask for the passphrase each time.\n"
	"'labtape lock' forgets it at once. The passphrase comes from FILE,\n"
	"$LABTAPE_PASSPHRASE, or the terminal.\n";

int cmd_unlock(int argc, char **argv)
{
	struct cli c = { "unlock", unlock_usage, NULL, NULL };
	const char *for_arg = NULL;
	struct buf pass = BUF_INIT;
	int done, rc;
	json_t *req;

	rc = parse(argc, argv, &c, &for_arg, &done);
	if (done)
		return rc;
	if (optind < argc)
		return cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
	if (cli_passphrase(c.passfile, "LABTAPE_PASSPHRASE", "Passphrase: ", 0,
			   &pass))
		return 1;
	req = json_pack("{s:s, s:s%}", "cmd", "unlock", "passphrase", pass.data,
			pass.len);
	cli_wipe(&pass);
	if (for_arg)
		json_object_set_new(req, "for", json_string(for_arg));
	if (call(req, NULL))
		return 1;
	fprintf(stderr, "the recorder holds the vault key for %s\n",
		for_arg ? for_arg : "15m");
	return 0;
}
