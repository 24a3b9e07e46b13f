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
	struct cli c = { "reindex", usage, NULL, NULL };
	struct vault *v;
	int r;

	if ((r = cli_common_only(&c, argc, argv)) >= 0)
		return r;
	if (cli_open_vault(&c, &v))
		return 1;
	r = vault_reindex(v, report, NULL);
	if (r)
		cli_error("%s", lt_errmsg());
	vault_free(v);
	return r ? 1 : 0;
}
