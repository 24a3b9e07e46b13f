#ifndef LABTAPE_CLI_H
#define LABTAPE_CLI_H

/*
 * Shared by the subcommands: opening and unlocking the vault, reading
 * passphrases, printing errors the same way everywhere.
 *
 * Exit statuses: 0 success, 1 failure (an error was printed), 2 usage.
 */

#include <getopt.h>
#include <stdio.h>

#include "buf.h"
#include "vault.h"

#define EXIT_USAGE 2

/* Options every vault command takes; the getopt_long codes below. */
enum {
	OPT_VAULT = 1000,
	OPT_PASSFILE,
	OPT_HELP = 'h',
};
#define CLI_COMMON_OPTIONS                                                     \
	{ "vault", required_argument, NULL, OPT_VAULT },                       \
	{ "passphrase-file", required_argument, NULL, OPT_PASSFILE },          \
	{ "help", no_argument, NULL, OPT_HELP }

struct cli {
	const char *cmd;	/* the subcommand, for messages */
	const char *usage;	/* its --help text */
	const char *vault;	/* --vault DIR */
	const char *passfile;	/* --passphrase-file FILE */
};

/*
 * Handles a common option or a getopt error. Returns -1 if c was one of
 * them and parsing should go on, or an exit status (0 after --help, 2 on
 * an unknown option) when the command should return it.
 */
int cli_common_opt(struct cli *c, int opt);
/* Parses the arguments of a command that takes the common options and
 * nothing else. Returns -1 to go on, or an exit status as above (2 also
 * for an argument). */
int cli_common_only(struct cli *c, int argc, char **argv);

/* "labtape: <message>" on stderr; returns 1. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "labtape CMD: <message>" and a pointer to --help; returns 2. */
int cli_usage_error(const struct cli *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Opens the vault (--vault, $LABTAPE_VAULT or the default). On failure
 * prints why and returns 1. */
/*
 * Raises the limit on open files to the hard limit: a transaction keeps a
 * segment open per stream and day it writes (an append or import over
 * years of history), often more than the usual soft limit of 1024.
 */
void cli_many_files(void);
int cli_open_vault(struct cli *c, struct vault **v);
/* Opens the vault and unlocks it with the passphrase. */
int cli_open_unlocked(struct cli *c, struct vault **v);

/*
 * Reads a passphrase into out: from file if given (its first line), else
 * from the environment variable env if set, else from the terminal
 * (twice when confirm). Errors are printed; returns 0 or 1 (out is then
 * wiped and released). Wipe out with cli_wipe() when done.
 */
int cli_passphrase(const char *file, const char *env, const char *prompt,
		   int confirm, struct buf *out);
void cli_wipe(struct buf *b);

/* The KDF preset from --kdf NAME or $LABTAPE_KDF; prints errors. */
int cli_kdf(const char *name, enum vault_kdf *out);

/* A human size: "1.5 MiB". */
void cli_human_bytes(uint64_t n, char *out, size_t size);

int cmd_init(int argc, char **argv);
int cmd_passwd(int argc, char **argv);
int cmd_append(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_docs(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_reindex(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_forget(int argc, char **argv);
int cmd_kinds(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_mark(int argc, char **argv);
int cmd_note(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_unlock(int argc, char **argv);
int cmd_lock(int argc, char **argv);
int cmd_sessions(int argc, char **argv);
int cmd_export(int argc, char **argv);
/* labtape export edits|events|cast -o DIR (cmd-dataset.c). */
int cmd_export_dataset(const char *kind, int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_gdocs_bot(int argc, char **argv);
/* labtape import git (import-git.c), called by cmd_import. */
int import_git(int argc, char **argv);
/* The importers of labtape-import (cmd-import.c's table), import-*.c. */
int import_slack(int argc, char **argv);
/*
 * The end every message importer shares (cmd-import.c): unlocks the
 * vault, opens the import of input into stream as source (import.h),
 * runs fn, commits all or nothing, and says how many messages came in.
 * Returns the command's exit status.
 */
struct import;
/*
 * Several inputs (labtape import SOURCE A B ...), after the importer fn
 * has parsed its options: runs fn once per input, with those options and
 * that input alone, so that each is all or nothing by itself. Returns the
 * worst exit status, or -1 when there is one input or none (the caller
 * goes on).
 */
int cli_import_each(int argc, char **argv, int (*fn)(int argc, char **argv));
int cli_import_messages(struct cli *c, const char *source,
			const char *input, const char *stream,
			int (*fn)(struct import *im, void *ctx), void *ctx);
int import_mail(int argc, char **argv);
int cmd_recipient(int argc, char **argv);
int cmd_release(int argc, char **argv);
int cmd_open(int argc, char **argv);
int cmd_redact(int argc, char **argv);

/* Prints the recorded terminal sessions to out, one a line, oldest first
 * (cmd-sessions.c). Returns 0, or 1 if something could not be read (a
 * message was printed). */
int sessions_print(struct vault *v, FILE *out);
int cmd_shell(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_consent(int argc, char **argv);

struct redact_rules;
/* Adds the [redact] rules of the configuration file (the default one if
 * file is NULL, which may then be missing) to rr (cli-redact.c, linked
 * into the programs that redact). Reports errors itself. */
int cli_redact_rules(const char *file, struct redact_rules *rr);

#endif
