#include <stdio.h>

#include "cli.h"
#include "error.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape passwd [--vault DIR] [--passphrase-file FILE]\n"
	"                      [--new-passphrase-file FILE] [--kdf PRESET]\n"
	"\n"
	"Changes the vault's passphrase. Only the wrapped secret key is\n"
	"rewritten; recorded data is not touched.\n"
	"\n"
	"  --passphrase-file FILE      the current passphrase (else\n"
	"                              $LABTAPE_PASSPHRASE, else asked)\n"
	"  --new-passphrase-file FILE  the new one (else\n"
	"                              $LABTAPE_NEW_PASSPHRASE, else asked twice)\n"
	"  --kdf PRESET                'moderate' (default) or 'fast' (tests)\n";

int cmd_passwd(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "new-passphrase-file", required_argument, NULL, 'n' },
		{ "kdf", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "passwd", usage, NULL, NULL };
	const char *newfile = NULL, *kdfname = NULL;
	struct buf pass = BUF_INIT;
	enum vault_kdf kdf;
	struct vault *v;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'n')
			newfile = optarg;
		else if (opt == 'k')
			kdfname = optarg;
		else if ((r = cli_common_opt(&c, opt)) >= 0)
			return r;
	}
	if (optind < argc)
		return cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
	if (cli_kdf(kdfname, &kdf) || cli_open_unlocked(&c, &v))
		return 1;
	if (cli_passphrase(newfile, "LABTAPE_NEW_PASSPHRASE", "New passphrase: ",
			   1, &pass)) {
		vault_free(v);
		return 1;
	}
	r = vault_passwd(v, pass.data, pass.len, kdf);
	cli_wipe(&pass);
	if (r)
		cli_error("%s", lt_errmsg());
	else
		fprintf(stderr, "Passphrase changed for %s\n", vault_dir(v));
	vault_free(v);
	return r ? 1 : 0;
}
