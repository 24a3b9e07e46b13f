/* labtape consent: the consent registry (src/privacy/consent.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "consent.h"
#include "error.h"
#include "ltime.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape consent add NAME --for meetings|screen|all [--until DATE]\n"
	"                           [--note TEXT]\n"
	"       labtape consent list [--json]\n"
	"       labtape consent revoke NAME\n"
	"\n"
	"The people who agreed to be recorded. Sources that record other people\n"
	"(meetings, the screen) ask this registry before they record anyone and\n"
	"keep a reference to the consent they relied on. The registry is\n"
	"encrypted in the vault: adding needs no passphrase, listing and revoking\n"
	"do, and the recorder can check it only while it holds the vault key\n"
	"('labtape unlock'). Every change is written to the audit log.\n"
	"\n"
	"  add NAME       NAME consents (a person's name; several words are\n"
	"                 joined with spaces; case and spacing do not matter)\n"
	"    --for S      to what: meetings (audio), screen, or all of them\n"
	"    --until D    until D: a date (YYYY-MM-DD, through that day, UTC) or\n"
	"                 an RFC 3339 time; no end if not given\n"
	"    --note T     a note, e.g. where the consent was given\n"
	"  list           every consent: reference, status (active, expired or\n"
	"                 revoked and when), scope, since, until, name and note\n"
	"    --json       one JSON object a line\n"
	"  revoke NAME    revokes NAME's consents; they stay listed as revoked\n"
	"\n"
	"Common options: --vault DIR, --passphrase-file FILE.\n";

/* A date means through the end of that day; otherwise RFC 3339. */
static int parse_until(const char *s, int64_t *out)
{
	char year[5] = "";

	/* Times are int64 nanoseconds: they end in 2262. */
	if (strlen(s) >= 4)
		memcpy(year, s, 4);
	if (strtol(year, NULL, 10) >= 2262)
		return lt_error(LT_EINVAL, "bad --until '%s': labtape's times "
				"end in 2262 (leave --until out for no end)", s);
	if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
		if (lt_time_parse(s, out))
			return -1;
		*out += LT_NS_PER_DAY;
		return 0;
	}
	return lt_time_parse_rfc3339(s, out) ? lt_error(LT_EINVAL, "bad "
		"--until '%s': give a date (YYYY-MM-DD) or an RFC 3339 time", s) :
		0;
}

static void join(int argc, char **argv, struct buf *out)
{
	for (int i = 0; i < argc; i++)
		buf_addf(out, "%s%s", i ? " " : "", argv[i]);
}

static int consent_add_cmd(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "for", required_argument, NULL, 'f' },
		{ "until", required_argument, NULL, 'u' },
		{ "note", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *scope_arg = NULL, *note = NULL;
	enum consent_scope scope;
	struct consent_ref ref;
	struct buf name = BUF_INIT;
	int64_t until = INT64_MAX, now = lt_now_ns();
	struct vault *v;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'f': scope_arg = optarg; break;
		case 'n': note = optarg; break;
		case 'u':
			if (parse_until(optarg, &until))
				return cli_usage_error(c, "%s", lt_errmsg());
			break;
		default:
			if ((r = cli_common_opt(c, opt)) >= 0)
				return r;
		}
	}
	if (optind >= argc)
		return cli_usage_error(c, "whose consent? Give a NAME");
	if (!scope_arg)
		return cli_usage_error(c, "consent to what? Give --for meetings, "
				       "screen or all");
	if (consent_scope_parse(scope_arg, &scope))
		return cli_usage_error(c, "%s", lt_errmsg());
	if (until <= now)
		return cli_usage_error(c, "--until is in the past");
	join(argc - optind, argv + optind, &name);
	if (cli_open_vault(c, &v)) {
		buf_release(&name);
		return 1;
	}
	r = consent_add(v, name.data, scope, now, until, note, &ref);
	if (r)
		cli_error("%s", lt_errmsg());
	else
		printf("consent %s: %s, for %s\n", ref.id, name.data,
		       consent_scope_name(scope));
	vault_free(v);
	buf_release(&name);
	return r ? 1 : 0;
}

static const char *status(const struct consent *c, int64_t now)
{
	if (c->revoked)
		return "revoked";
	if (now >= c->until)
		return "expired";
	if (now < c->since)
		return "pending";
	return "active";
}

struct list_ctx {
	int json;
	int64_t now;
};

static int list_one(void *ctx, const struct consent *c)
{
	struct list_ctx *l = ctx;
	char s[LT_TIME_MAX_LEN], u[LT_TIME_MAX_LEN] = "-", rv[LT_TIME_MAX_LEN];

	lt_time_format(c->since, s);
	if (c->until != INT64_MAX)
		lt_time_format(c->until, u);
	if (c->revoked)
		lt_time_format(c->revoked, rv);
	if (l->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "ref", c->ref,
				      "name", c->name, "scope",
				      consent_scope_name(c->scope), "since", s,
				      "status", status(c, l->now));
		char *t;
		json_object_set_new(o, "until", c->until != INT64_MAX ?
				    json_string(u) : json_null());
		json_object_set_new(o, "revoked", c->revoked ?
				    json_string(rv) : json_null());
		json_object_set_new(o, "note", c->note ? json_string(c->note) :
				    json_null());
		t = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		puts(t);
		free(t);
		json_decref(o);
		return 0;
	}
	s[19] = '\0';
	if (c->until != INT64_MAX)
		u[19] = '\0';
	printf("%s  %-8s %-9s since %sZ  until %s%s  %s", c->ref,
	       status(c, l->now), consent_scope_name(c->scope), s, u,
	       c->until != INT64_MAX ? "Z" : "", c->name);
	if (c->revoked) {
		rv[19] = '\0';
		printf("  (revoked %sZ)", rv);
	}
	if (c->note)
		printf("  -- %s", c->note);
	putchar('\n');
	return 0;
}

static int consent_list_cmd(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct list_ctx l = { 0, lt_now_ns() };
	struct vault *v;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'j')
			l.json = 1;
		else if ((r = cli_common_opt(c, opt)) >= 0)
			return r;
	}
	if (optind < argc)
		return cli_usage_error(c, "unexpected argument '%s'", argv[optind]);
	if (cli_open_unlocked(c, &v))
		return 1;
	r = consent_list(v, list_one, &l);
	if (r)
		cli_error("%s", lt_errmsg());
	if (fflush(stdout) || ferror(stdout))
		r = cli_error("cannot write the output");
	vault_free(v);
	return r ? 1 : 0;
}

static int consent_revoke_cmd(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct buf name = BUF_INIT;
	struct vault *v;
	unsigned n;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		if ((r = cli_common_opt(c, opt)) >= 0)
			return r;
	if (optind >= argc)
		return cli_usage_error(c, "whose consent? Give a NAME");
	join(argc - optind, argv + optind, &name);
	if (cli_open_unlocked(c, &v)) {
		buf_release(&name);
		return 1;
	}
	r = consent_revoke(v, name.data, lt_now_ns(), &n);
	if (r)
		cli_error("%s", lt_errmsg());
	else
		printf("revoked %u consent%s of %s\n", n, n == 1 ? "" : "s",
		       name.data);
	vault_free(v);
	buf_release(&name);
	return r ? 1 : 0;
}

int cmd_consent(int argc, char **argv)
{
	struct cli c = { "consent", usage, NULL, NULL };

	if (argc < 2)
		return cli_usage_error(&c, "add, list or revoke?");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "add"))
		return consent_add_cmd(&c, argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return consent_list_cmd(&c, argc - 1, argv + 1);
	if (!strcmp(argv[1], "revoke"))
		return consent_revoke_cmd(&c, argc - 1, argv + 1);
	return cli_usage_error(&c, "unknown subcommand '%s' (add, list or "
			       "revoke)", argv[1]);
}
