#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"
#include "cli.h"
#include "error.h"
#include "hex.h"
#include "ltime.h"
#include "xalloc.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape forget [--stream S] [--kind K] --from T --until T\n"
	"       labtape forget [--stream S] [--kind K] --all\n"
	"                      [--dry-run] [--yes] [--vault DIR]\n"
	"                      [--passphrase-file FILE]\n"
	"\n"
	"Deletes recorded events for good. Every segment holds one stream on\n"
	"one day under its own key: a segment whose events are all selected\n"
	"is crypto-shredded (its key file destroyed, then the segment and its\n"
	"index rows removed); a segment only partly selected is rewritten\n"
	"under a new key without the forgotten events, and the old key and\n"
	"segment destroyed. Afterwards nobody can read the forgotten events,\n"
	"not even with the passphrase or from a copy of the old segments.\n"
	"\n"
	"  --stream S    only stream S (exact name)\n"
	"  --kind K      only events of kind K\n"
	"  --from T      from T on (RFC 3339, a date, or a time ago: 10m, 2h, 3d)\n"
	"  --until T     before T (exclusive)\n"
	"  --all         all of time instead of --from and --until\n"
	"  --dry-run     print what would be forgotten, change nothing\n"
	"  --yes         do not ask for confirmation\n"
	"\n"
	"Prints what will be forgotten and asks on the terminal first; without\n"
	"a terminal it refuses unless --yes is given. Segments that a running\n"
	"recorder is still writing are left alone and reported (run 'labtape\n"
	"stop', which seals them, then forget again); the exit status is then\n"
	"1. If forget is interrupted (a crash, kill -9), the next labtape\n"
	"command finishes it, or leaves a segment whose rewrite had not\n"
	"committed as it was: run the same forget again.\n";

struct days {
	int32_t *d;
	size_t n, alloc;
};

static void add_unique_day(struct days *s, int32_t day)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->d[i] == day)
			return;
	XGROW(s->d, s->n + 1, s->alloc);
	s->d[s->n++] = day;
}

static int stream_seen(const struct vault_forget_plan *p, size_t upto,
		       const char *name)
{
	for (size_t i = 0; i < upto; i++)
		if (p->segs[i].stream && !strcmp(p->segs[i].stream, name))
			return 1;
	return 0;
}

static const char *how_name(enum vault_forget_how h)
{
	switch (h) {
	case VAULT_FORGET_WHOLE: return "whole";
	case VAULT_FORGET_PART: return "partly";
	case VAULT_FORGET_LIVE: return "skipped";
	case VAULT_FORGET_UNREADABLE: return "unreadable";
	}
	return "?";
}

static void print_time(const char *what, int64_t t, int64_t none)
{
	char s[LT_TIME_MAX_LEN];

	if (t == none) {
		printf(" %s (none)", what);
		return;
	}
	lt_time_format(t, s);
	printf(" %s %s", what, s);
}

static void print_plan(const struct vault_forget_plan *p)
{
	size_t count[4] = { 0 };
	struct days days = { NULL, 0, 0 };
	int first = 1;

	printf("selection: stream %s, kind %s,", p->spec.stream ? p->spec.stream : "(any)",
	       p->spec.kind ? p->spec.kind : "(any)");
	print_time("from", p->spec.from, INT64_MIN);
	print_time("until", p->spec.until, INT64_MAX);
	putchar('\n');
	for (size_t i = 0; i < p->n; i++) {
		const struct vault_forget_seg *s = &p->segs[i];
		char day[16], hex[33];
		count[s->how]++;
		add_unique_day(&days, s->day);
		lt_day_format(s->day, day);
		lt_hex(s->seg_id, 16, hex);
		printf("  %-10s %s  %s  %llu of %llu events in %llu blocks  "
		       "(segment %s)\n", how_name(s->how), day,
		       s->stream ? s->stream : "(key already destroyed)",
		       (unsigned long long)s->selected,
		       (unsigned long long)s->records,
		       (unsigned long long)s->blocks, hex);
	}
	printf("segments: %zu whole (key destroyed, removed), %zu partly "
	       "(rewritten under a new key), %zu unreadable already (removed), "
	       "%zu skipped (being recorded)\n",
	       count[VAULT_FORGET_WHOLE], count[VAULT_FORGET_PART],
	       count[VAULT_FORGET_UNREADABLE], count[VAULT_FORGET_LIVE]);
	printf("events: %llu to forget, %llu kept in rewritten segments\n",
	       (unsigned long long)p->forget, (unsigned long long)p->keep);
	printf("streams:");
	for (size_t i = 0; i < p->n; i++)
		if (p->segs[i].stream && !stream_seen(p, i, p->segs[i].stream)) {
			printf("%s %s", first ? "" : ",", p->segs[i].stream);
			first = 0;
		}
	printf("%s\ndays:", first ? " (none)" : "");
	first = 1;
	for (size_t i = 0; i < days.n; i++) {
		char day[16];
		lt_day_format(days.d[i], day);
		printf("%s %s", first ? "" : ",", day);
		first = 0;
	}
	printf("%s\n", first ? " (none)" : "");
	free(days.d);
	fflush(stdout);
}

/* Asks on the terminal: 1 for yes, 0 for no, -1 without a terminal. */
static int confirm(uint64_t n)
{
	char prompt[96], answer[16];
	size_t len = 0;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	snprintf(prompt, sizeof(prompt), "forget %llu events? [y/N] ",
		 (unsigned long long)n);
	if (write(fd, prompt, strlen(prompt)) < 0) {
		close(fd);
		return -1;
	}
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		if (len + 1 < sizeof(answer))
			answer[len++] = c;
	}
	close(fd);
	answer[len] = '\0';
	return !strcmp(answer, "y") || !strcmp(answer, "Y") ||
	       !strcmp(answer, "yes") || !strcmp(answer, "YES");
}

static void report(void *ctx, int problem, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s%s\n", problem ? "labtape: warning: " : "", msg);
}

static json_t *time_or_null(int64_t t)
{
	char buf[40];

	if (t == INT64_MIN || t == INT64_MAX)
		return json_null();
	lt_time_format(t, buf);
	return json_string(buf);
}

/*
 * Says what was forgotten, and enters it into the audit log: the
 * selection and the counts, never what the events held. A forget that
 * cannot be audited still happened; the failure is the command's.
 */
static int note_forget(struct vault *v, const struct vault_forget_plan *p,
		       const struct vault_forget_stats *st, int result)
{
	const struct vault_forget_spec *s = &p->spec;
	json_t *d;
	int r = 0;

	fprintf(stderr, "labtape: %s %llu events: %llu segments shredded, "
		"%llu rewritten (%llu events kept), %llu skipped\n",
		result ? "forget stopped after forgetting" : "forgot",
		(unsigned long long)st->forgotten,
		(unsigned long long)st->shredded,
		(unsigned long long)st->rewritten,
		(unsigned long long)st->kept,
		(unsigned long long)st->skipped);
	d = json_pack("{s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:b}",
		      "stream", s->stream ? json_string(s->stream) : json_null(),
		      "kind", s->kind ? json_string(s->kind) : json_null(),
		      "from", time_or_null(s->from),
		      "until", time_or_null(s->until),
		      "events", (json_int_t)st->forgotten,
		      "shredded", (json_int_t)st->shredded,
		      "rewritten", (json_int_t)st->rewritten,
		      "skipped", (json_int_t)st->skipped,
		      "complete", !result && !st->skipped);
	if (audit_append(v, AUDIT_FORGET, d))
		r = cli_error("not in the audit log: %s", lt_errmsg());
	json_decref(d);
	return r;
}

int cmd_forget(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "stream", required_argument, NULL, 's' },
		{ "kind", required_argument, NULL, 'k' },
		{ "from", required_argument, NULL, 'F' },
		{ "until", required_argument, NULL, 'U' },
		{ "all", no_argument, NULL, 'a' },
		{ "yes", no_argument, NULL, 'y' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "forget", usage, NULL, NULL };
	struct vault_forget_spec spec = VAULT_FORGET_SPEC_INIT;
	struct vault_forget_plan plan;
	struct vault_forget_stats st;
	struct vault *v = NULL;
	int opt, r, all = 0, yes = 0, dry = 0, have_from = 0, have_until = 0;

	while ((opt = getopt_long(argc, argv, "hs:k:yn", opts, NULL)) != -1) {
		switch (opt) {
		case 's': spec.stream = optarg; break;
		case 'k': spec.kind = optarg; break;
		case 'a': all = 1; break;
		case 'y': yes = 1; break;
		case 'n': dry = 1; break;
		case 'F':
		case 'U':
			if (lt_time_parse(optarg, opt == 'F' ? &spec.from
							     : &spec.until))
				return cli_usage_error(&c, "%s", lt_errmsg());
			*(opt == 'F' ? &have_from : &have_until) = 1;
			break;
		default:
			if ((r = cli_common_opt(&c, opt)) >= 0)
				return r;
		}
	}
	if (optind < argc)
		return cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
	if (all && (have_from || have_until))
		return cli_usage_error(&c, "--all means all of time: give it, or "
				       "--from and --until, not both");
	if (!all && !(have_from && have_until))
		return cli_usage_error(&c, "say which time to forget: --from T "
				       "and --until T, or --all");
	if (spec.from >= spec.until)
		return cli_usage_error(&c, "--from must be before --until");
	if ((spec.stream && !*spec.stream) || (spec.kind && !*spec.kind))
		return cli_usage_error(&c, "empty --stream or --kind");

	if (cli_open_unlocked(&c, &v))
		return 1;
	if (vault_forget_plan(v, &spec, &plan)) {
		cli_error("%s", lt_errmsg());
		vault_forget_plan_release(&plan);
		vault_free(v);
		return 1;
	}
	print_plan(&plan);
	r = 0;
	if (!plan.forget) {
		printf("nothing to forget\n");
		r = plan.n ? 1 : 0;	/* only skipped segments */
		if (r)
			cli_error("the selected events are all in segments a "
				  "running recorder is writing (run 'labtape "
				  "stop', then forget again)");
		goto out;
	}
	if (dry)
		goto out;
	if (!yes) {
		int ok = confirm(plan.forget);
		if (ok < 0) {
			r = cli_error("no terminal to ask for confirmation on "
				      "(add --yes to forget without asking)");
			goto out;
		}
		if (!ok) {
			r = cli_error("nothing was forgotten");
			goto out;
		}
	}
	r = vault_forget(v, &plan, report, NULL, &st);
	if (r)
		cli_error("%s", lt_errmsg());
	r = note_forget(v, &plan, &st, r) || r || st.skipped ? 1 : 0;
out:
	vault_forget_plan_release(&plan);
	vault_free(v);
	return r;
}
