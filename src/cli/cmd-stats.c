#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "events.h"
#include "ltime.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape stats [--vault DIR] [--passphrase-file FILE]\n"
	"\n"
	"Shows, per stream and UTC day, the events recorded, the bytes they\n"
	"take on disk and the compression ratio (raw record bytes over bytes\n"
	"on disk, encryption and framing included). Stream names are\n"
	"encrypted, so this needs the passphrase.\n";

struct totals {
	struct vault_stat_row sum;
	int rows;
};

static void print_row(const struct vault_stat_row *r, const char *day)
{
	char disk[32], raw[32];
	struct buf stream = BUF_INIT;

	cli_human_bytes(r->bytes, disk, sizeof(disk));
	cli_human_bytes(r->plain, raw, sizeof(raw));
	/* Stream names come from outside too (a channel, a repository). */
	ev_format_text(r->stream, strlen(r->stream), 0, &stream);
	printf("%-24s %-10s %10llu %12s %12s %6.2f\n", stream.data, day,
	       (unsigned long long)r->records, disk, raw,
	       r->bytes ? (double)r->plain / (double)r->bytes : 0.0);
	buf_release(&stream);
}

static void row(void *ctx, const struct vault_stat_row *r)
{
	struct totals *t = ctx;
	char day[16];

	lt_day_format(r->day, day);
	print_row(r, day);
	t->sum.records += r->records;
	t->sum.blocks += r->blocks;
	t->sum.bytes += r->bytes;
	t->sum.plain += r->plain;
	t->rows++;
}

int cmd_stats(int argc, char **argv)
{
	struct cli c = { "stats", usage, NULL, NULL };
	struct totals t;
	struct vault *v;
	int r;

	if ((r = cli_common_only(&c, argc, argv)) >= 0)
		return r;
	if (cli_open_unlocked(&c, &v))
		return 1;
	memset(&t, 0, sizeof(t));
	t.sum.stream = "total";
	printf("%-24s %-10s %10s %12s %12s %6s\n", "STREAM", "DAY", "EVENTS",
	       "ON DISK", "RAW", "RATIO");
	r = vault_stats(v, row, &t);
	if (r)
		cli_error("%s", lt_errmsg());
	else
		print_row(&t.sum, "");
	vault_free(v);
	return r ? 1 : 0;
}
