/* Unit tests for the exclusion filter (src/privacy/filter.c). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "filter.h"
#include "ltime.h"
#include "test.h"
#include "banned.h"

/* 2024-01-01 was a Monday. t(d, h, m): January d, 2024, h:m in TZ. */
static int64_t t(int d, int h, int m)
{
	struct tm tm = { .tm_year = 124, .tm_mon = 0, .tm_mday = d,
			 .tm_hour = h, .tm_min = m, .tm_isdst = -1 };

	return (int64_t)mktime(&tm) * LT_NS_PER_SEC;
}

static void zone(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static struct filter *parse(const char *text)
{
	struct filter *f = filter_new();

	if (filter_parse(f, text, strlen(text), "test.ini")) {
		fprintf(stderr, "%s\n", lt_errmsg());
		filter_free(f);
		return NULL;
	}
	return f;
}

/* The verdict on an event, and the name of the rule that fired. */
static int check(struct filter *f, const char *source, const char *app,
		 const char *title, const char *path, int64_t when,
		 const char **name)
{
	struct filter_event e = { source, app, title, path, when };
	const struct filter_rule *r;
	int v = filter_check(f, &e, &r);

	if (name)
		*name = r ? filter_rule_name(r) : NULL;
	return v;
}

#define NOON t(3, 12, 0)	/* a Wednesday */
#define EXCL(f, src, app, title, path, when) \
	ASSERT_EQ(check(f, src, app, title, path, when, NULL), FILTER_EXCLUDE)
#define KEEP(f, src, app, title, path, when) \
	ASSERT_EQ(check(f, src, app, title, path, when, NULL), FILTER_KEEP)

TEST(source_and_app)
{
	struct filter *f = parse("[exclude]\ndefaults = no\nsource = shell\n"
				 "app = firefox*\n");
	const char *name;

	ASSERT(f);
	ASSERT_EQ(filter_rules(f), 2);
	ASSERT_EQ(check(f, "shell", NULL, NULL, NULL, NOON, &name),
		  FILTER_EXCLUDE);
	ASSERT_STREQ(name, "source shell");
	EXCL(f, "SHELL", NULL, NULL, NULL, NOON);	/* case-insensitive */
	KEEP(f, "files", NULL, NULL, NULL, NOON);
	EXCL(f, "window", "Firefox-ESR", NULL, NULL, NOON);
	KEEP(f, "window", "chromium", NULL, NULL, NOON);
	KEEP(f, "window", NULL, "Firefox", NULL, NOON);	/* app unknown */
	filter_free(f);
}

TEST(title_regex)
{
	struct filter *f = parse("[exclude]\ndefaults = no\n"
				 "title = (?i)bank|^Inbox \\(\\d+\\)\n");
	const char *name;

	ASSERT(f);
	ASSERT_EQ(check(f, "window", "x", "My BANK - Firefox", NULL, NOON,
			&name), FILTER_EXCLUDE);
	ASSERT_STREQ(name, "title /(?i)bank|^Inbox \\(\\d+\\)/");
	EXCL(f, "window", "x", "inbox (12)", NULL, NOON);
	KEEP(f, "window", "x", "Re: inbox (12)", NULL, NOON);
	/* Titles that are not UTF-8 are matched, not refused. */
	EXCL(f, "window", "x", "\xff\xfe bank", NULL, NOON);
	KEEP(f, "window", "x", "\xff\xfe", NULL, NOON);
	filter_free(f);
}

/* A regex that backtracks without end is stopped and excludes. */
TEST(title_match_limit)
{
	struct filter *f = parse("[exclude]\ndefaults = no\n"
				 "title = ^(a|aa)+$\n");
	struct filter_count *c;
	char title[200];
	int64_t t0;

	ASSERT(f);
	memset(title, 'a', sizeof(title) - 2);
	title[sizeof(title) - 2] = 'b';
	title[sizeof(title) - 1] = '\0';
	t0 = lt_mono_ns();
	EXCL(f, "window", "x", title, NULL, NOON);
	ASSERT(lt_mono_ns() - t0 < 2 * LT_NS_PER_SEC);
	KEEP(f, "window", "x", "bbb", NULL, NOON);
	EXCL(f, "window", "x", "aaaa", NULL, NOON);
	ASSERT_EQ(filter_counts(f, &c), 1);
	ASSERT_EQ(c[0].count, 2);
	ASSERT_EQ(c[0].limit_hits, 1);
	free(c);
	filter_free(f);
}

TEST(path_globs)
{
	struct filter *f;

	setenv("HOME", "/home/ada", 1);
	f = parse("[exclude]\ndefaults = no\npath = ~/personal/**\n"
		  "path = *.secret\npath = /srv/*/private\npath = **/tmp/*.log\n");
	ASSERT(f);
	/* '**' at the end: everything inside, not the folder's name alone. */
	EXCL(f, "files", NULL, NULL, "/home/ada/personal/a.txt", NOON);
	EXCL(f, "files", NULL, NULL, "/home/ada/personal/x/y/z.md", NOON);
	KEEP(f, "files", NULL, NULL, "/home/ada/personal", NOON);
	KEEP(f, "files", NULL, NULL, "/home/ada/personalia/a.txt", NOON);
	KEEP(f, "files", NULL, NULL, "/home/bob/personal/a.txt", NOON);
	/* No '/': a name at any depth, a file or a folder above it. */
	EXCL(f, "files", NULL, NULL, "/a/b/c.secret", NOON);
	EXCL(f, "files", NULL, NULL, "/a/b.secret/c.txt", NOON);
	KEEP(f, "files", NULL, NULL, "/a/b/c.secret.txt", NOON);
	/* Anchored with '*' in one name; a matched folder covers its inside. */
	EXCL(f, "files", NULL, NULL, "/srv/web/private", NOON);
	EXCL(f, "files", NULL, NULL, "/srv/web/private/k/v", NOON);
	KEEP(f, "files", NULL, NULL, "/srv/web/x/private", NOON);
	/* Leading '**': any depth. */
	EXCL(f, "files", NULL, NULL, "/tmp/run.log", NOON);
	EXCL(f, "files", NULL, NULL, "/x/y/tmp/run.log", NOON);
	KEEP(f, "files", NULL, NULL, "/x/y/tmp/sub/run.log", NOON);
	/* Only absolute paths are tested. */
	KEEP(f, "files", NULL, NULL, "a/b/c.secret", NOON);
	KEEP(f, "files", NULL, NULL, NULL, NOON);
	filter_free(f);
}

TEST(time_days_and_hours)
{
	struct filter *f;
	const char *name;

	zone("UTC");
	f = parse("[exclude]\ndefaults = no\ntime = Sat-Sun\n");
	ASSERT(f);
	ASSERT_EQ(check(f, "files", NULL, NULL, NULL, t(6, 0, 0), &name),
		  FILTER_EXCLUDE);
	ASSERT_STREQ(name, "time Sat-Sun");
	EXCL(f, "files", NULL, NULL, NULL, t(7, 23, 59));
	KEEP(f, "files", NULL, NULL, NULL, t(8, 0, 0));	/* Monday */
	KEEP(f, "files", NULL, NULL, NULL, t(5, 23, 59));	/* Friday */
	filter_free(f);

	f = parse("[exclude]\ndefaults = no\ntime = 09:00-17:30\n"
		  "time = Mon,wednesday\n");
	ASSERT(f);
	EXCL(f, "x", NULL, NULL, NULL, t(2, 9, 0));	/* Tuesday */
	EXCL(f, "x", NULL, NULL, NULL, t(2, 17, 29));
	KEEP(f, "x", NULL, NULL, NULL, t(2, 17, 30));	/* the end is out */
	KEEP(f, "x", NULL, NULL, NULL, t(2, 8, 59));
	EXCL(f, "x", NULL, NULL, NULL, t(1, 3, 0));	/* Monday */
	EXCL(f, "x", NULL, NULL, NULL, t(3, 20, 0));	/* Wednesday */
	KEEP(f, "x", NULL, NULL, NULL, t(4, 20, 0));	/* Thursday */
	filter_free(f);
}

/* A range over midnight belongs to the day it starts on. */
TEST(time_over_midnight)
{
	struct filter *f;

	zone("UTC");
	f = parse("[exclude]\ndefaults = no\ntime = Mon-Fri 18:00-08:00\n");
	ASSERT(f);
	EXCL(f, "x", NULL, NULL, NULL, t(1, 18, 0));	/* Mon evening */
	EXCL(f, "x", NULL, NULL, NULL, t(2, 7, 59));	/* Tue early */
	KEEP(f, "x", NULL, NULL, NULL, t(2, 8, 0));
	KEEP(f, "x", NULL, NULL, NULL, t(2, 17, 59));
	EXCL(f, "x", NULL, NULL, NULL, t(6, 3, 0));	/* Fri night */
	KEEP(f, "x", NULL, NULL, NULL, t(6, 9, 0));	/* Sat day */
	KEEP(f, "x", NULL, NULL, NULL, t(6, 20, 0));	/* Sat evening */
	KEEP(f, "x", NULL, NULL, NULL, t(1, 3, 0));	/* Sun night */
	filter_free(f);

	/* Days wrap too, and 24:00 ends the day. */
	f = parse("[exclude]\ndefaults = no\ntime = Fri-Mon 22:00-24:00\n");
	ASSERT(f);
	EXCL(f, "x", NULL, NULL, NULL, t(7, 23, 59));	/* Sunday */
	EXCL(f, "x", NULL, NULL, NULL, t(1, 22, 0));	/* Monday */
	KEEP(f, "x", NULL, NULL, NULL, t(2, 23, 0));	/* Tuesday */
	KEEP(f, "x", NULL, NULL, NULL, t(6, 0, 0));
	filter_free(f);
}

/* Time is local time. */
TEST(time_is_local)
{
	struct filter *f;
	int64_t utc_1730;

	zone("UTC");
	utc_1730 = t(2, 17, 30);
	zone("CET-1");		/* 18:30 there */
	f = parse("[exclude]\ndefaults = no\ntime = 18:00-19:00\n");
	ASSERT(f);
	EXCL(f, "x", NULL, NULL, NULL, utc_1730);
	zone("UTC");
	KEEP(f, "x", NULL, NULL, NULL, utc_1730);
	filter_free(f);
}

TEST(defaults)
{
	struct filter *f;
	const char *name;

	setenv("HOME", "/home/ada", 1);
	f = parse("");
	ASSERT(f);
	ASSERT_EQ(check(f, "window", "KeePassXC", "db - KeePassXC", NULL,
			NOON, &name), FILTER_EXCLUDE);
	ASSERT_STREQ(name, "default: password manager");
	EXCL(f, "window", "Bitwarden", NULL, NULL, NOON);
	EXCL(f, "window", "1Password", NULL, NULL, NOON);
	EXCL(f, "window", "org.keepassxc.KeePassXC", NULL, NULL, NOON);
	EXCL(f, "window", "kwalletmanager5", NULL, NULL, NOON);
	KEEP(f, "window", "emacs", "notes.org", NULL, NOON);
	ASSERT_EQ(check(f, "window", "firefox",
			"New Tab — Mozilla Firefox Private Browsing", NULL,
			NOON, &name), FILTER_EXCLUDE);
	ASSERT_STREQ(name, "default: private browsing");
	EXCL(f, "window", "chrome", "New Tab - Google Chrome (Incognito)",
	     NULL, NOON);
	EXCL(f, "window", "msedge", "New InPrivate tab - Microsoft Edge",
	     NULL, NOON);
	EXCL(f, "window", "brave", "Private Tab - Brave", NULL, NOON);
	EXCL(f, "window", "tor", "Explore. Privately. - Tor Browser", NULL,
	     NOON);
	KEEP(f, "window", "firefox", "Privacy policy - Mozilla Firefox", NULL,
	     NOON);
	ASSERT_EQ(check(f, "files", NULL, NULL, "/home/ada/proj/.env", NOON,
			&name), FILTER_EXCLUDE);
	ASSERT_STREQ(name, "default: secret file");
	EXCL(f, "files", NULL, NULL, "/home/ada/.ssh/config", NOON);
	EXCL(f, "files", NULL, NULL, "/home/ada/x/id_rsa.pub", NOON);
	EXCL(f, "files", NULL, NULL, "/home/ada/.gnupg/pubring.kbx", NOON);
	EXCL(f, "files", NULL, NULL, "/home/ada/.password-store/a.gpg", NOON);
	EXCL(f, "files", NULL, NULL, "/home/ada/vault.kdbx", NOON);
	EXCL(f, "files", NULL, NULL, "/home/ada/.aws/credentials", NOON);
	EXCL(f, "files", NULL, NULL, "/home/ada/.kube/config", NOON);
	EXCL(f, "files", NULL, NULL, "/home/ada/.docker/config.json", NOON);
	EXCL(f, "files", NULL, NULL, "/home/ada/.config/gcloud/a/b.json",
	     NOON);
	EXCL(f, "files", NULL, NULL, "/home/ada/tls/server.key", NOON);
	KEEP(f, "files", NULL, NULL, "/home/ada/papers/draft.tex", NOON);
	KEEP(f, "files", NULL, NULL, "/home/ada/.config/app/config", NOON);
	KEEP(f, "files", NULL, NULL, "/home/ada/.sshrc", NOON);
	filter_free(f);

	f = parse("[exclude]\ndefaults = no\n");
	ASSERT(f);
	ASSERT_EQ(filter_rules(f), 0);
	KEEP(f, "window", "KeePassXC", NULL, "/home/ada/.ssh/id_rsa", NOON);
	filter_free(f);
}

static const char *parse_error(const char *text)
{
	struct filter *f = filter_new();
	int r = filter_parse(f, text, strlen(text), "cfg");

	filter_free(f);
	return r ? lt_errmsg() : NULL;
}

#define BAD(text, what)                                                        \
	do {                                                                   \
		const char *m_ = parse_error(text);                            \
		ASSERT(m_);                                                    \
		if (!strstr(m_, what))                                         \
			TEST_FAIL("'%s' lacks '%s'", m_, what);                \
	} while (0)

TEST(errors_name_file_and_line)
{
	BAD("[exclude]\n\ntitle = (unclosed\n", "cfg:3: title '(unclosed'");
	BAD("[exclude]\nwindow = x\n", "cfg:2: unknown key 'window'");
	BAD("[exclude]\ntime = Mon-Fri 9-17\n", "cfg:2: time 'Mon-Fri 9-17'");
	BAD("[exclude]\ntime = 10:00-10:00\n", "cfg:2: time");
	BAD("[exclude]\ntime = 25:00-10:00\n", "cfg:2: time");
	BAD("[exclude]\ntime = Mo\n", "cfg:2: time");
	BAD("[exclude]\ntime = Mon-\n", "cfg:2: time");
	BAD("[exclude]\ntime = Mon,\n", "cfg:2: time");
	BAD("[exclude]\npath = !x\n", "cfg:2: path '!x'");
	BAD("[exclude]\npath = a/b\n", "cfg:2: path 'a/b'");
	BAD("[exclude]\ndefaults = maybe\n", "cfg:2: defaults 'maybe'");
	BAD("[exclude]\nsource =\n", "cfg:2: source");
	BAD("[exclude\n", "cfg:1: malformed line");
	/* Other sections are config.c's. */
	ASSERT(!parse_error("[files]\nwatch = x\n[exclude]\nsource = y\n"));
}

static int64_t fake_now;
static int64_t fake_clock(void)
{
	return fake_now;
}

/* Counts are of today: they start afresh at local midnight. */
TEST(counters_reset_at_midnight)
{
	struct filter *f;
	struct filter_count *c;

	zone("UTC");
	f = parse("[exclude]\ndefaults = no\nsource = shell\napp = x\n"
		  "source = never\n");
	ASSERT(f);
	filter_set_clock(f, fake_clock);
	fake_now = t(3, 23, 58);
	ASSERT_EQ(filter_counts(f, &c), 0);
	free(c);
	EXCL(f, "shell", NULL, NULL, NULL, fake_now);
	EXCL(f, "shell", NULL, NULL, NULL, fake_now);
	EXCL(f, "window", "X", NULL, NULL, fake_now);
	KEEP(f, "files", NULL, NULL, NULL, fake_now);
	ASSERT_EQ(filter_counts(f, &c), 2);
	ASSERT_STREQ(c[0].rule, "source shell");
	ASSERT_EQ(c[0].count, 2);
	ASSERT_STREQ(c[1].rule, "app x");
	ASSERT_EQ(c[1].count, 1);
	ASSERT_EQ(c[1].limit_hits, 0);
	free(c);
	fake_now = t(4, 0, 0);
	ASSERT_EQ(filter_counts(f, &c), 0);
	free(c);
	EXCL(f, "shell", NULL, NULL, NULL, fake_now);
	ASSERT_EQ(filter_counts(f, &c), 1);
	ASSERT_EQ(c[0].count, 1);
	free(c);
	/* Midnight is local: 23:01 UTC on the 4th is the 5th in CET. */
	zone("CET-1");
	fake_now = t(4, 23, 30);
	ASSERT_EQ(filter_counts(f, &c), 1);
	free(c);
	fake_now += 60 * LT_NS_PER_SEC * 31;
	ASSERT_EQ(filter_counts(f, &c), 0);
	free(c);
	filter_free(f);
}

TEST(describe)
{
	struct filter *a = parse("[exclude]\nsource = shell\npath = *.x\n");
	struct filter *b = parse("[files]\nwatch = y\n[exclude]\n"
				 "source = shell\npath = *.x\n");
	struct filter *c = parse("[exclude]\nsource = shell\n");
	struct buf da = BUF_INIT, db = BUF_INIT, dc = BUF_INIT;

	ASSERT(a && b && c);
	filter_describe(a, &da);
	filter_describe(b, &db);
	filter_describe(c, &dc);
	ASSERT_STREQ(da.data, "source shell\npath *.x\ndefaults yes\n");
	ASSERT_STREQ(da.data, db.data);
	ASSERT(strcmp(da.data, dc.data));
	buf_release(&da);
	buf_release(&db);
	buf_release(&dc);
	filter_free(a);
	filter_free(b);
	filter_free(c);
}

TEST_LIST = {
	TEST_ENTRY(source_and_app),
	TEST_ENTRY(title_regex),
	TEST_ENTRY(title_match_limit),
	TEST_ENTRY(path_globs),
	TEST_ENTRY(time_days_and_hours),
	TEST_ENTRY(time_over_midnight),
	TEST_ENTRY(time_is_local),
	TEST_ENTRY(defaults),
	TEST_ENTRY(errors_name_file_and_line),
	TEST_ENTRY(counters_reset_at_midnight),
	TEST_ENTRY(describe),
	TEST_END,
};

TEST_MAIN()
