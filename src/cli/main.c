/*
 * labtape: the command table. Each subcommand lives in cmd-<name>.c as
 * int cmd_<name>(int argc, char **argv), returning the exit status.
 *
 * Helper programs. The recorder and `labtape shell` run for days and
 * their resident size is a promise (under 20 and 8 MiB), most of which
 * is the pages of the shared libraries the program maps at start. So
 * commands that need heavy libraries (libarchive and what it pulls in:
 * libxml2, ICU, libstdc++; Hyperscan) are built as programs of their own,
 * labtape-NAME, as git keeps curl out of git itself in git-remote-https;
 * `labtape NAME` executes the one beside it (the build folder) or in
 * ../libexec/labtape (an installed labtape), with the same arguments.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "banned.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);	/* NULL: a helper program */
	const char *help;
};

static const struct command commands[] = {
	{ "init", cmd_init, "create a vault" },
	{ "record", cmd_record, "start the recorder (the main job)" },
	{ "status", cmd_status, "show what the recorder is doing" },
	{ "pause", cmd_pause, "stop recording for now (or --for 15m)" },
	{ "resume", cmd_resume, "record again after a pause" },
	{ "mark", cmd_mark, "record a marker now" },
	{ "note", cmd_note, "record a note now" },
	{ "unlock", cmd_unlock, "let the recorder hold the vault key a while" },
	{ "lock", cmd_lock, "make the recorder forget the vault key" },
	{ "stop", cmd_stop, "stop the recorder" },
	{ "shell", cmd_shell, "run a shell or command, recording the session" },
	{ "passwd", cmd_passwd, "change the vault's passphrase" },
	{ "append", cmd_append, "append JSONL events from stdin to a stream" },
	{ "log", cmd_log, "show recorded events in time order" },
	{ "history", cmd_history, "a file's recorded versions, any of them" },
	{ "docs", cmd_docs, "list the documents in the vault" },
	{ "sessions", cmd_sessions, "list the recorded terminal sessions" },
	{ "export", NULL, "datasets: edits, events, timeline, conversations, cast" },
	{ "redact", NULL, "replace personal data and secrets in stdin" },
	{ "import", NULL, "history from git, Google Docs, Etherpad, Slack, mail, casts" },
	{ "gdocs-bot", NULL, "back up every Google Doc shared with an account" },
	{ "recipient", cmd_recipient, "make or show a release recipient's keys" },
	{ "release", NULL, "encrypt files to a recipient (age format)" },
	{ "open", NULL, "decrypt, check and extract a release" },
	{ "forget", cmd_forget, "delete events for good (crypto-shredding)" },
	{ "stats", cmd_stats, "events and bytes per stream and day" },
	{ "verify", cmd_verify, "check every block and the index" },
	{ "reindex", cmd_reindex, "rebuild the index from the segments" },
	{ "kinds", cmd_kinds, "list the event kinds and their fields" },
	{ "audit", cmd_audit, "show or verify the audit log" },
	{ "consent", cmd_consent, "who agreed to be recorded: add, list, revoke" },
	{ NULL, NULL, NULL },
};

static void usage(FILE *out)
{
	fputs("usage: labtape [--version] [--help] <command> [<args>]\n"
	      "\n"
	      "labtape records how research is done into an encrypted vault\n"
	      "that you alone can read.\n"
	      "\n"
	      "Commands:\n", out);
	for (const struct command *c = commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->help);
	fputs("\n"
	      "Every command takes --vault DIR (default: $LABTAPE_VAULT, else\n"
	      "$XDG_DATA_HOME/labtape) and --help.\n"
	      "Reading commands ask for the passphrase on the terminal, or take\n"
	      "--passphrase-file FILE or $LABTAPE_PASSPHRASE.\n", out);
}

/* Runs labtape-NAME with argv, which is labtape's own: argv[1] is NAME.
 * Returns only if it cannot. */
static int run_helper(const char *name, char **argv)
{
	static const char *const where[] = { "", "/../libexec/labtape" };
	char self[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0 || !(self[n] = '\0', slash = strrchr(self, '/'))) {
		fprintf(stderr, "labtape: cannot find where labtape is "
			"(/proc/self/exe): %s\n", strerror(errno));
		return 1;
	}
	*slash = '\0';
	for (size_t i = 0; i < sizeof(where) / sizeof(*where); i++) {
		snprintf(path, sizeof(path), "%s%s/labtape-%s", self, where[i],
			 name);
		if (access(path, X_OK) == 0) {
			argv[0] = path;
			execv(path, argv);
			fprintf(stderr, "labtape: cannot run '%s': %s\n", path,
				strerror(errno));
			return 1;
		}
	}
	fprintf(stderr, "labtape: '%s' is a separate program, labtape-%s, "
		"which is not beside '%s/labtape' nor in %s/../libexec/labtape; "
		"install labtape again ('make install')\n", name, name, self,
		self);
	return 1;
}

static int run(const struct command *c, int argc, char **argv)
{
	char proc[64];

	if (!c->fn)
		return run_helper(c->name, argv);
	snprintf(proc, sizeof(proc), "labtape %s", c->name);
	audit_set_process(proc);
	return c->fn(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
	const char *name;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h") ||
	    !strcmp(name, "help")) {
		if (argc > 2 && strcmp(name, "help") == 0) {
			char *args[] = { argv[0], argv[2], "--help", NULL };
			for (const struct command *c = commands; c->name; c++)
				if (!strcmp(c->name, argv[2]))
					return run(c, 3, args);
		}
		usage(stdout);
		return 0;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "version")) {
		printf("labtape %s\n", LABTAPE_VERSION);
		return 0;
	}
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return run(c, argc, argv);
	fprintf(stderr, "labtape: '%s' is not a labtape command "
		"(see 'labtape --help')\n", name);
	return EXIT_USAGE;
}
