#include <stdio.h>

#include "audit.h"
#include "cli.h"
#include "consent.h"
#include "error.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape verify [--vault DIR] [--passphrase-file FILE]\n"
	"\n"
	"Checks the whole vault: every segment's framing and checksums, every\n"
	"block's authentication and content, the key files, and that the index\n"
	"and the segments agree, the audit log's chain and the consent\n"
	"registry's. Prints each problem (with segment, frame and\n"
	"offset) and exits 1 if there is any.\n";

static void report(void *ctx, int problem, const char *msg)
{
	(void)ctx;
	printf("%s: %s\n", problem ? "problem" : "note", msg);
}

static void report_count(void *ctx, int problem, const char *msg)
{
	struct vault_verify_stats *st = ctx;

	report(NULL, problem, msg);
	if (problem)
		st->problems++;
}

int cmd_verify(int argc, char **argv)
{
	struct cli c = { "verify", usage, NULL, NULL };
	struct vault_verify_stats st;
	struct vault *v;
	int r;

	if ((r = cli_common_only(&c, argc, argv)) >= 0)
		return r;
	if (cli_open_unlocked(&c, &v))
		return 1;
	r = vault_verify(v, report, NULL, &st);
	if (!r || r == LT_ECORRUPT) {
		/* The chain logs; their problems count with the others. */
		int a = audit_verify(v, report_count, &st);
		int k = a && a != LT_ECORRUPT ? 0 : consent_verify(v, report_count,
								   &st);
		if (a && a != LT_ECORRUPT)
			r = a;
		else if (k && k != LT_ECORRUPT)
			r = k;
		else if (a || k)
			r = LT_ECORRUPT;
	}
	if (r && r != LT_ECORRUPT) {
		cli_error("%s", lt_errmsg());
	} else {
		printf("%llu segments, %llu blocks, %llu events: %s\n",
		       (unsigned long long)st.segments,
		       (unsigned long long)st.blocks,
		       (unsigned long long)st.records,
		       st.problems ? "PROBLEMS FOUND" : "ok");
		if (st.problems)
			cli_error("verify found %llu problems in %s",
				  (unsigned long long)st.problems, vault_dir(v));
	}
	vault_free(v);
	return r ? 1 : 0;
}
