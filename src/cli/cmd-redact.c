#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "error.h"
#include "redact.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape redact [--rule NAME:REGEX]... [--allow X]... [--names FILE]\n"
	"                      [--explain] [--stats] [--config FILE]\n"
	"\n"
	"Copies stdin to stdout with personal data and secrets replaced by\n"
	"typed placeholders: <EMAIL_1>, <CARD_2>, <SECRET_1>, ... The same value\n"
	"gets the same placeholder everywhere in the input (one document).\n"
	"Built in: EMAIL PHONE CARD SSN IBAN IP MAC URL_CREDENTIALS AWS_KEY\n"
	"GITHUB_TOKEN SLACK_TOKEN PRIVATE_KEY JWT SECRET, and NAME for the\n"
	"people you list (doc/redaction.md says what each one takes).\n"
	"\n"
	"  --rule NAME:REGEX  also replace matches of a PCRE2 regex by <NAME_N>\n"
	"  --allow X          never replace X (a literal), or what matches /X/\n"
	"  --names FILE       people's names, one a line; 'Ada Lovelace [parts]'\n"
	"                     also replaces 'Ada' and 'Lovelace' on their own\n"
	"  --explain          on stderr, one line per replacement, tab-separated:\n"
	"                     offset, length, type, placeholder, detector, why\n"
	"  --stats            on stderr, how many of each type were replaced\n"
	"  --config FILE      read [redact] rule, allow and names from FILE\n"
	"                     (default: ~/.config/labtape/config, if it exists)\n"
	"\n"
	"The input is read in windows of about 4 MiB, so any size works.\n";

enum {
	OPT_RULE = 2000, OPT_ALLOW, OPT_NAMES, OPT_EXPLAIN, OPT_STATS,
	OPT_CONFIG, OPT_PATTERNS,
};

static void explain_line(void *ctx, const struct redact_match *m)
{
	(void)ctx;
	fprintf(stderr, "%llu\t%zu\t%s\t%s\t%s\t%s\n",
		(unsigned long long)m->offset, m->len, m->type_name,
		m->placeholder, m->detector, m->why);
}

static int write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(STDOUT_FILENO, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return cli_error("cannot write to stdout: %s",
					 strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads stdin until in holds want bytes or the input ends. */
static int fill(struct buf *in, size_t want, int *eof)
{
	while (!*eof && in->len < want) {
		ssize_t r;

		buf_grow(in, want - in->len);
		r = read(STDIN_FILENO, in->data + in->len, want - in->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return cli_error("cannot read stdin: %s", strerror(errno));
		if (r == 0)
			*eof = 1;
		else
			buf_setlen(in, in->len + (size_t)r);
	}
	return 0;
}

static int filter(struct redactor *r)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	size_t want = REDACT_CHUNK + REDACT_LOOKAHEAD, used;
	int eof = 0, ret = 0;

	for (;;) {
		if ((ret = fill(&in, want, &eof)))
			break;
		/* A match (a huge PEM block, a user rule) can outgrow a
		 * window: read more, up to 16 windows, then take it all. */
		if (redact_feed(r, in.data, in.len, eof || want >= 16 * REDACT_CHUNK,
				&used, &out)) {
			ret = cli_error("%s", lt_errmsg());
			break;
		}
		if (!used && !eof) {
			want *= 2;
			continue;
		}
		if ((ret = write_all(out.data, out.len)))
			break;
		buf_reset(&out);
		memmove(in.data, in.data + used, in.len - used);
		buf_setlen(&in, in.len - used);
		want = REDACT_CHUNK + REDACT_LOOKAHEAD;
		if (eof && !in.len)
			break;
	}
	buf_release(&in);
	buf_release(&out);
	return ret;
}

static void print_stats(const struct redactor *r)
{
	uint64_t total = 0;

	for (size_t t = 0; t < redact_ntypes(r); t++) {
		uint64_t n = redact_count(r, t);

		if (n)
			fprintf(stderr, "%s: %llu replaced\n",
				redact_type_label(r, t), (unsigned long long)n);
		total += n;
	}
	fprintf(stderr, "total: %llu replaced\n", (unsigned long long)total);
}

int cmd_redact(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rule", required_argument, NULL, OPT_RULE },
		{ "allow", required_argument, NULL, OPT_ALLOW },
		{ "names", required_argument, NULL, OPT_NAMES },
		{ "explain", no_argument, NULL, OPT_EXPLAIN },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "print-patterns", no_argument, NULL, OPT_PATTERNS },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "redact", usage, NULL, NULL };
	struct redact_rules cmdline, rr;
	struct redactor *r = NULL;
	const char *config = NULL;
	int opt, ret = 1, explain = 0, stats = 0;

	redact_rules_init(&cmdline);
	redact_rules_init(&rr);
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_RULE:
			if (redact_rules_add_rule_spec(&cmdline, optarg)) {
				ret = cli_usage_error(&c, "%s", lt_errmsg());
				goto out;
			}
			break;
		case OPT_ALLOW:
			if (redact_rules_add_allow(&cmdline, optarg)) {
				ret = cli_usage_error(&c, "%s", lt_errmsg());
				goto out;
			}
			break;
		case OPT_NAMES:
			if (redact_rules_load_names(&cmdline, optarg)) {
				ret = cli_error("%s", lt_errmsg());
				goto out;
			}
			break;
		case OPT_EXPLAIN:
			explain = 1;
			break;
		case OPT_STATS:
			stats = 1;
			break;
		case OPT_CONFIG:
			config = optarg;
			break;
		case OPT_PATTERNS: {
			/* For bench/redact.sh: the anchors, for grep -E -f. */
			struct buf b = BUF_INIT;

			redact_print_patterns(&b);
			fputs(b.data, stdout);
			buf_release(&b);
			ret = 0;
			goto out;
		}
		default:
			ret = cli_common_opt(&c, opt);
			goto out;
		}
	}
	if (optind < argc) {
		ret = cli_usage_error(&c, "unexpected argument '%s' (the text "
				      "comes on stdin)", argv[optind]);
		goto out;
	}
	if (cli_redact_rules(config, &rr))
		goto out;
	/* The command line adds to what the configuration says. */
	for (size_t i = 0; i < cmdline.nrules; i++)
		redact_rules_add_rule(&rr, cmdline.rule_names[i],
				      cmdline.rule_regex[i]);
	for (size_t i = 0; i < cmdline.nallow; i++)
		redact_rules_add_allow(&rr, cmdline.allow[i]);
	for (size_t i = 0; i < cmdline.nnames; i++)
		redact_rules_add_name(&rr, cmdline.names[i]);
	if (redactor_new(&r, &rr)) {
		ret = cli_error("%s", lt_errmsg());
		goto out;
	}
	if (explain)
		redactor_set_explain(r, explain_line, NULL);
	ret = filter(r) ? 1 : 0;
	if (stats)
		print_stats(r);
out:
	redactor_free(r);
	redact_rules_release(&cmdline);
	redact_rules_release(&rr);
	return ret;
}
