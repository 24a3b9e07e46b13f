/*
 * labtape import git REPO [--rev RANGE]: the command around gitimport.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "gitimport.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape import git REPO... [--rev RANGE] [--snapshot-every N]\n"
	"                          [--vault DIR] [--passphrase-file FILE]\n"
	"\n"
	"Reads the history of a git repository into the stream git:NAME (NAME:\n"
	"the repository's folder), commit by commit along the first parents,\n"
	"oldest first: every change of every file becomes edit.op events (text,\n"
	"as inserts, deletes and replaces in code points) or chunks (binary\n"
	"files), with the commit id as group, its author as actor and its\n"
	"commit time as time. Renames are followed: a file keeps the id\n"
	"git:NAME:PATH, PATH where it first appeared.\n"
	"\n"
	"  --rev RANGE         what to import: a commit (its history up to it)\n"
	"                      or A..B (the commits after A up to B), as git\n"
	"                      names them (default HEAD)\n"
	"  --snapshot-every N  a full copy of a file after N edits (default 300)\n"
	"\n"
	"Commits imported before are skipped: importing again adds only new\n"
	"ones. All or nothing: on any error the vault is left as it was. Needs\n"
	"the passphrase (to know what was imported before). Then:\n"
	"\n"
	"  labtape docs                                   the documents\n"
	"  labtape history git:NAME:PATH --rev COMMIT     a file at a commit\n";

int import_git(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "rev", required_argument, NULL, 'r' },
		{ "snapshot-every", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "import git", usage, NULL, NULL };
	struct gitimport_opts o = { 0 };
	struct gitimport_result res = GITIMPORT_RESULT_INIT;
	struct vault *v = NULL;
	unsigned long n;
	char *end;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (!optarg[0] || optarg[0] == '-')
				return cli_usage_error(&c, "--rev wants a commit "
						       "or A..B, not '%s'",
						       optarg);
			o.range = optarg;
			break;
		case 's':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || !n ||
			    optarg[0] == '-' || n > 1000000)
				return cli_usage_error(&c, "--snapshot-every "
						       "wants a number from 1 "
						       "to 1000000, not '%s'",
						       optarg);
			o.snapshot_every = (unsigned)n;
			break;
		default:
			if ((r = cli_common_opt(&c, opt)) >= 0)
				return r;
		}
	}
	if ((r = cli_import_each(argc, argv, import_git)) >= 0)
		return r;
	if (optind == argc)
		return cli_usage_error(&c, "which repository? Give REPO");
	o.repo = argv[optind];
	o.progress = 1;
	if (cli_open_unlocked(&c, &v))
		return 1;
	r = gitimport_run(v, &o, &res);
	if (r < 0) {
		cli_error("%s: %s; nothing was imported", o.repo, lt_errmsg());
	} else {
		fprintf(stderr, "labtape: imported %llu of %llu commits of "
			"'%s' into %s (%llu there already, %llu events)\n",
			(unsigned long long)res.sum.units,
			(unsigned long long)res.commits, o.repo, res.stream,
			(unsigned long long)res.sum.skipped,
			(unsigned long long)res.sum.events);
		if (res.bad_paths)
			cli_error("warning: %s: %llu changes of files whose "
				  "path is not UTF-8 were left out (the first "
				  "in %s)", o.repo,
				  (unsigned long long)res.bad_paths,
				  res.bad_example);
	}
	gitimport_result_release(&res);
	vault_free(v);
	return r < 0 ? 1 : 0;
}
