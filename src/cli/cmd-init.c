#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape init [--vault DIR] [--passphrase-file FILE] [--kdf PRESET]\n"
	"\n"
	"Creates a vault: a folder that holds everything labtape records,\n"
	"encrypted. Recording needs no passphrase; reading does. Choose a\n"
	"strong one and keep it safe: without it the vault cannot be read.\n"
	"\n"
	"  --vault DIR             where (default: $LABTAPE_VAULT, else\n"
	"                          $XDG_DATA_HOME/labtape)\n"
	"  --passphrase-file FILE  read the passphrase from FILE's first line\n"
	"                          (else $LABTAPE_PASSPHRASE, else ask twice)\n"
	"  --kdf PRESET            key derivation cost: 'moderate' (default;\n"
	"                          Argon2id, 256 MiB) or 'fast' (tests only);\n"
	"                          also $LABTAPE_KDF\n";

int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "kdf", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "init", usage, NULL, NULL };
	const char *kdfname = NULL;
	enum vault_kdf kdf;
	struct buf dir = BUF_INIT, pass = BUF_INIT;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'k')
			kdfname = optarg;
		else if ((r = cli_common_opt(&c, opt)) >= 0)
			return r;
	}
	if (optind < argc)
		return cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
	if (cli_kdf(kdfname, &kdf))
		return 1;
	vault_default_dir(c.vault, &dir);
	if (cli_passphrase(c.passfile, "LABTAPE_PASSPHRASE",
			   "New passphrase for the vault: ", 1, &pass)) {
		buf_release(&dir);
		return 1;
	}
	r = vault_create(dir.data, pass.data, pass.len, kdf);
	cli_wipe(&pass);
	if (r) {
		cli_error("%s", lt_errmsg());
	} else {
		fprintf(stderr, "Created vault in %s\n", dir.data);
		if (kdf == VAULT_KDF_FAST)
			fputs("warning: the 'fast' KDF is for tests; run "
			      "'labtape passwd' to protect real data\n", stderr);
	}
	buf_release(&dir);
	return r ? 1 : 0;
}
