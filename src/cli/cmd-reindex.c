#include <stdio.h>

#include "cli.h"
#include "error.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape reindex [--vault DIR]\n"
	"\n"
	"Rebuilds the index (index.db) from the segments and key files. Needs\n"
	"no passphrase, and no other labtape process may be using the vault.\n"
	"The old index is replaced only once the new one is complete.\n";

static void report(void *ctx, int problem, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s%s\n", problem ? "problem: " : "", msg);
}

int cmd_reindex(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "reindex", usage, NULL, NULL };
	struct vault *v;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		if ((r = cli_common_opt(&c, opt)) >= 0)
			return r;
	if (optind < argc)
		return cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
	if (cli_open_vault(&c, &v))
		return 1;
	r = vault_reindex(v, report, NULL);
	if (r)
		cli_error("%s", lt_errmsg());
	vault_free(v);
	return r ? 1 : 0;
}
