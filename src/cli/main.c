/*
 * labtape: the command table. Each subcommand lives in cmd-<name>.c as
 * int cmd_<name>(int argc, char **argv), returning the exit status.
 */
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "cli.h"
#include "banned.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
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
	{ "sessions", cmd_sessions, "list the recorded terminal sessions" },
	{ "export", cmd_export, "write events in another format (cast)" },
	{ "redact", cmd_redact, "replace personal data and secrets in stdin" },
	{ "import", cmd_import, "read another tool's file (cast) into the vault" },
	{ "recipient", cmd_recipient, "make or show a release recipient's keys" },
	{ "release", cmd_release, "encrypt files to a recipient (age format)" },
	{ "open", cmd_open, "decrypt, check and extract a release" },
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
			char *args[] = { argv[2], "--help", NULL };
			for (const struct command *c = commands; c->name; c++)
				if (!strcmp(c->name, argv[2]))
					return c->fn(2, args);
		}
		usage(stdout);
		return 0;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "version")) {
		printf("labtape %s\n", LABTAPE_VERSION);
		return 0;
	}
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, name)) {
			char proc[64];
			snprintf(proc, sizeof(proc), "labtape %s", c->name);
			audit_set_process(proc);
			return c->fn(argc - 1, argv + 1);
		}
	fprintf(stderr, "labtape: '%s' is not a labtape command "
		"(see 'labtape --help')\n", name);
	return EXIT_USAGE;
}
