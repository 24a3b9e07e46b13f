/*
 * The exclusion filter: rules from the [exclude] section, checked against
 * each event before it is encoded (filter.h says how to use it).
 *
 * NOTES ON THE DESIGN
 *
 *  1. One rule, one test: a rule has one type (source, app, title, path,
 *     time) and excludes what it matches. A default rule is one rule with
 *     many patterns, so that status says "default: secret file" once
 *     rather than naming the pattern (which could say what the file was).
 *  2. Regexes are compiled once, JIT-compiled where PCRE2 can, and run
 *     under a match limit and a depth limit: a regex that backtracks
 *     without end costs at most MATCH_LIMIT steps per event. Running into
 *     a limit, or any other failure to match, excludes the event (fail
 *     closed) and is counted apart, so that the rule can be fixed.
 *  3. Path rules are .gitignore globs (src/util/globs.h) over the absolute
 *     path without its leading '/', matched as a walk would: a rule that
 *     matches a folder excludes everything inside it. A pattern with a
 *     '/' is anchored at the root, so it must be absolute (or ~/...);
 *     one without matches a name at any depth.
 *  4. Time rules are local time. A range that passes midnight belongs to
 *     the day it starts on: "Fri 22:00-06:00" is Friday night, until
 *     Saturday 06:00. The end is excluded; 24:00 is the end of the day.
 *  5. Counts are of today, local time: the first check or listing after
 *     midnight (by the injectable clock) starts them afresh.
 */
#define _GNU_SOURCE	/* FNM_CASEFOLD */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "filter.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <ini.h>
#include <pcre2.h>

#include "error.h"
#include "fileio.h"
#include "globs.h"
#include "ltime.h"
#include "parse.h"
#include "xalloc.h"
#include "banned.h"

#define MATCH_LIMIT 100000
#define DEPTH_LIMIT 1000
#define HEAP_LIMIT_KIB 4096
#define MAX_CONFIG (1u << 20)

enum rule_type { R_SOURCE, R_APP, R_TITLE, R_PATH, R_TIME };

static const char *const type_key[] = { "source", "app", "title", "path",
					"time" };

struct filter_rule {
	enum rule_type type;
	char *name;		/* for status */
	char *value;		/* as configured, for filter_describe() */
	int builtin;
	/* R_SOURCE, R_APP: globs matched case-insensitively */
	char **pats;
	size_t npats;
	struct globs *globs;	/* R_PATH */
	pcre2_code *re;		/* R_TITLE */
	/* R_TIME: weekdays (bit 0 Sunday) and minutes [from, to); from <
	 * 0 is the whole day; to < from passes midnight (note 4). */
	unsigned days;
	int from, to;
	uint64_t count, limit_hits;
};

struct filter {
	struct filter_rule **v;
	size_t n, alloc;
	int defaults;		/* -1: not said (yes) */
	pcre2_match_context *mctx;
	pcre2_match_data *md;
	int64_t (*now)(void);
	long day;		/* local day the counts are of */
};

/* ---- the defaults -------------------------------------------------- */

/* Window classes and application names, case-insensitive globs. */
static const char *const default_apps[] = {
	"keepassxc", "org.keepassxc.*", "keepass", "keepass2", "keeweb",
	"1password", "*1password*", "bitwarden", "bitwarden*", "qtpass", "pass",
	"seahorse", "org.gnome.seahorse*", "kwalletmanager*",
	"org.kde.kwalletmanager*", "enpass", "enpass*", "dashlane*",
	"lastpass*", "*passwordsafe*", "gnome-passwordsafe", "authy*",
	"proton pass", "protonpass", NULL,
};

/* Private windows of Firefox, Chrome/Chromium, Edge, Tor Browser, Brave,
 * Safari-like "Private Window", Opera/Vivaldi "Private". */
static const char default_titles[] =
	"(?i)private browsing|\\bincognito\\b|\\binprivate\\b|tor browser"
	"|\\(private\\)|private (tab|window)";

/* Secret files, as .gitignore globs (~/ is $HOME). */
static const char *const default_paths[] = {
	".env", ".env.*", "*.pem", "*.key", "*.p12", "*.pfx", "*.kdbx",
	"*.keystore", "*.jks", "id_rsa*", "id_dsa*", "id_ecdsa*",
	"id_ed25519*", ".netrc", ".pgpass", ".git-credentials",
	"~/.ssh/", "~/.gnupg/", "~/.password-store/", "~/.aws/credentials",
	"~/.aws/config", "~/.config/gcloud/", "~/.docker/config.json",
	"~/.kube/config", "~/.local/share/keyrings/", "~/.pki/", NULL,
};

/* ---- rules --------------------------------------------------------- */

static void rule_free(struct filter_rule *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->npats; i++)
		free(r->pats[i]);
	free(r->pats);
	globs_free(r->globs);
	pcre2_code_free(r->re);
	free(r->name);
	free(r->value);
	free(r);
}

static struct filter_rule *rule_new(enum rule_type type, const char *value)
{
	struct filter_rule *r = xcalloc(1, sizeof(*r));
	struct buf name = BUF_INIT;

	r->type = type;
	r->value = xstrdup(value);
	if (type == R_TITLE)
		buf_addf(&name, "title /%s/", value);
	else
		buf_addf(&name, "%s %s", type_key[type], value);
	r->name = buf_detach(&name, NULL);
	return r;
}

static void add_pat(struct filter_rule *r, const char *p)
{
	r->pats = xrealloc(r->pats, (r->npats + 1) * sizeof(*r->pats));
	r->pats[r->npats++] = xstrdup(p);
}

static int compile_title(struct filter_rule *r, const char *re)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	int code;

	r->re = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
			      PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off,
			      NULL);
	if (!r->re) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		return lt_error(LT_EINVAL, "title '%s': %s at character %zu "
				"(a PCRE2 regular expression)", re,
				(const char *)msg, (size_t)off);
	}
	/* Without JIT (an unsupported CPU) the interpreter does the same,
	 * under the same limits. */
	pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
	return 0;
}

/* ~/x -> $HOME/x; the pattern as globs_add() wants it (note 3). */
static int path_pattern(const char *pat, struct buf *out)
{
	const char *home = getenv("HOME");

	buf_reset(out);
	if (pat[0] == '!')
		return lt_error(LT_EINVAL, "path '%s': an exclusion cannot be "
				"negated ('!'); narrow the pattern instead", pat);
	if (pat[0] == '~' && (pat[1] == '/' || !pat[1])) {
		if (!home || home[0] != '/')
			return lt_error(LT_EINVAL, "path '%s': $HOME is not an "
					"absolute path", pat);
		buf_addf(out, "%s%s", home, pat + 1);
	} else if (strchr(pat, '/') && pat[0] != '/' &&
		   strncmp(pat, "**/", 3)) {
		return lt_error(LT_EINVAL, "path '%s': a pattern with a '/' "
				"must start with '/', '~/' or '**/' (one "
				"without matches a name anywhere)", pat);
	} else {
		buf_addstr(out, pat);
	}
	return 0;
}

static int add_path(struct filter_rule *r, const char *pat)
{
	struct buf p = BUF_INIT;
	int ret;

	if (!r->globs)
		r->globs = globs_new();
	if ((ret = path_pattern(pat, &p)) == 0) {
		size_t before = globs_count(r->globs);
		globs_add(r->globs, p.data, p.len);
		if (globs_count(r->globs) == before)
			ret = lt_error(LT_EINVAL, "path '%s': not a pattern",
				       pat);
	}
	buf_release(&p);
	return ret;
}

static const char *const day_names[] = { "sunday", "monday", "tuesday",
	"wednesday", "thursday", "friday", "saturday" };

/* A day name ("Mon" or "monday") at *s, advancing it; its number or -1. */
static int parse_day(const char **s)
{
	size_t n = 0;

	while (isalpha((unsigned char)(*s)[n]))
		n++;
	if (n < 3)
		return -1;
	for (int d = 0; d < 7; d++)
		if (n <= strlen(day_names[d]) &&
		    !strncasecmp(*s, day_names[d], n)) {
			*s += n;
			return d;
		}
	return -1;
}

/* Days: "Mon", "Mon-Fri" (may wrap: "Fri-Mon"), comma-separated. */
static int parse_days(const char *s, unsigned *out)
{
	*out = 0;
	for (;;) {
		int a = parse_day(&s), b;
		if (a < 0)
			return -1;
		b = a;
		if (*s == '-') {
			s++;
			if ((b = parse_day(&s)) < 0)
				return -1;
		}
		for (int d = a;; d = (d + 1) % 7) {
			*out |= 1u << d;
			if (d == b)
				break;
		}
		if (!*s)
			return 0;
		if (*s++ != ',')
			return -1;
	}
}

/* "HH:MM", 00:00 to 24:00, in minutes; -1 if not one. */
static int parse_hhmm(const char *s, size_t n)
{
	int h, m;

	if (n < 4 || n > 5 || s[n - 3] != ':' ||
	    !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[n - 2]) ||
	    !isdigit((unsigned char)s[n - 1]) ||
	    (n == 5 && !isdigit((unsigned char)s[1])))
		return -1;
	h = n == 5 ? (s[0] - '0') * 10 + (s[1] - '0') : s[0] - '0';
	m = (s[n - 2] - '0') * 10 + (s[n - 1] - '0');
	if (m > 59 || h > 24 || (h == 24 && m))
		return -1;
	return h * 60 + m;
}

/* "HH:MM-HH:MM" into from, to. */
static int parse_hours(const char *s, int *from, int *to)
{
	const char *dash = strchr(s, '-');

	if (!dash)
		return -1;
	*from = parse_hhmm(s, (size_t)(dash - s));
	*to = parse_hhmm(dash + 1, strlen(dash + 1));
	if (*from < 0 || *to < 0 || *from == *to || *from == 24 * 60)
		return -1;
	return 0;
}

static int parse_time(struct filter_rule *r, const char *value)
{
	const char *sp = strchr(value, ' ');
	char *days = NULL;
	int bad;

	r->days = 0x7f;
	r->from = r->to = -1;
	if (sp) {
		days = xstrndup(value, (size_t)(sp - value));
		while (*sp == ' ')
			sp++;
		bad = parse_days(days, &r->days) || parse_hours(sp, &r->from,
								  &r->to);
	} else if (isdigit((unsigned char)value[0])) {
		bad = parse_hours(value, &r->from, &r->to);
	} else {
		bad = parse_days(value, &r->days);
	}
	free(days);
	if (bad)
		return lt_error(LT_EINVAL, "time '%s': use days (Sat-Sun, "
				"Mon,Wed), hours (18:00-08:00), or both "
				"(Mon-Fri 18:00-08:00)", value);
	return 0;
}

static void push(struct filter *f, struct filter_rule *r)
{
	XGROW(f->v, f->n + 1, f->alloc);
	f->v[f->n++] = r;
}

int filter_add(struct filter *f, const char *key, const char *value)
{
	struct filter_rule *r;
	int t, ret = 0;

	if (!strcmp(key, "defaults")) {
		if (lt_parse_bool(value, &f->defaults))
			return lt_error(LT_EINVAL, "defaults '%s': use yes or "
					"no", value);
		return 0;
	}
	for (t = 0; t <= R_TIME; t++)
		if (!strcmp(key, type_key[t]))
			break;
	if (t > R_TIME)
		return lt_error(LT_EINVAL, "unknown key '%s' in section "
				"[exclude] (use source, app, title, path, time "
				"or defaults)", key);
	if (!*value)
		return lt_error(LT_EINVAL, "%s: a value is required", key);
	r = rule_new((enum rule_type)t, value);
	switch (r->type) {
	case R_SOURCE:
	case R_APP:
		add_pat(r, value);
		break;
	case R_TITLE:
		ret = compile_title(r, value);
		break;
	case R_PATH:
		ret = add_path(r, value);
		break;
	case R_TIME:
		ret = parse_time(r, value);
		break;
	}
	if (ret)
		rule_free(r);
	else
		push(f, r);
	return ret;
}

/* A built-in rule (note 1). */
static struct filter_rule *builtin(struct filter *f, enum rule_type type,
				   const char *name)
{
	struct filter_rule *r = xcalloc(1, sizeof(*r));

	r->type = type;
	r->builtin = 1;
	r->name = xstrdup(name);
	r->value = xstrdup(name);
	push(f, r);
	return r;
}

static int add_defaults(struct filter *f)
{
	struct filter_rule *r;
	int ret;

	r = builtin(f, R_APP, "default: password manager");
	for (size_t i = 0; default_apps[i]; i++)
		add_pat(r, default_apps[i]);
	r = builtin(f, R_TITLE, "default: private browsing");
	if ((ret = compile_title(r, default_titles)))
		return ret;
	r = builtin(f, R_PATH, "default: secret file");
	for (size_t i = 0; default_paths[i]; i++) {
		/* Without $HOME the ~/ patterns cannot be placed; the others
		 * still apply. */
		ret = add_path(r, default_paths[i]);
		if (ret && default_paths[i][0] != '~')
			return ret;
	}
	return 0;
}

/* ---- reading the configuration -------------------------------------- */

struct parse {
	struct filter *f;
	struct buf err;		/* the first problem */
};

static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct parse *p = user;

	if (strcmp(section, "exclude"))
		return 1;	/* config.c reads the rest */
	if (filter_add(p->f, name, value)) {
		if (!p->err.len)
			buf_addstr(&p->err, lt_errmsg());
		return 0;
	}
	return 1;
}

int filter_parse(struct filter *f, const char *text, size_t len,
		 const char *name)
{
	struct parse p = { f, BUF_INIT };
	char *copy = xstrndup(text, len);
	int line, r = 0;

	line = ini_parse_string(copy, on_key, &p);
	free(copy);
	if (line != 0)
		r = lt_error(LT_EINVAL, "%s:%d: %s (see 'labtape record "
			     "--help')", name, line < 0 ? 0 : line,
			     p.err.len ? p.err.data : "malformed line: "
			     "expected [section] or key = value");
	buf_release(&p.err);
	if (!r && f->defaults != 0)
		r = add_defaults(f);
	return r;
}

int filter_load(struct filter *f, const char *path)
{
	struct buf text = BUF_INIT;
	int r;

	if (!path)
		return filter_parse(f, "", 0, "(defaults)");
	r = lt_read_file(path, MAX_CONFIG, &text);
	if (r == LT_ENOENT)
		r = filter_parse(f, "", 0, path);
	else if (!r)
		r = filter_parse(f, text.data, text.len, path);
	buf_release(&text);
	return r;
}

/* ---- matching ------------------------------------------------------- */

struct filter *filter_new(void)
{
	struct filter *f = xcalloc(1, sizeof(*f));

	f->defaults = -1;
	f->now = lt_now_ns;
	f->day = -1;
	f->mctx = pcre2_match_context_create(NULL);
	f->md = pcre2_match_data_create(1, NULL);
	if (!f->mctx || !f->md) {
		fputs("labtape: out of memory\n", stderr);
		abort();
	}
	pcre2_set_match_limit(f->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(f->mctx, DEPTH_LIMIT);
	pcre2_set_heap_limit(f->mctx, HEAP_LIMIT_KIB);
	return f;
}

void filter_free(struct filter *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		rule_free(f->v[i]);
	free(f->v);
	pcre2_match_context_free(f->mctx);
	pcre2_match_data_free(f->md);
	free(f);
}

void filter_set_clock(struct filter *f, int64_t (*now)(void))
{
	f->now = now;
}

static int local_tm(int64_t ns, struct tm *tm)
{
	time_t s = (time_t)(ns / LT_NS_PER_SEC - (ns % LT_NS_PER_SEC < 0));

	return localtime_r(&s, tm) ? 0 : -1;
}

/* Note 5: counts are of the local day of f->now(). */
static void roll(struct filter *f)
{
	struct tm tm;
	long day;

	if (local_tm(f->now(), &tm))
		return;
	day = (long)tm.tm_year * 400 + tm.tm_yday;
	if (day == f->day)
		return;
	f->day = day;
	for (size_t i = 0; i < f->n; i++)
		f->v[i]->count = f->v[i]->limit_hits = 0;
}

static int any_glob(const struct filter_rule *r, const char *s)
{
	for (size_t i = 0; i < r->npats; i++)
		if (!fnmatch(r->pats[i], s, FNM_CASEFOLD))
			return 1;
	return 0;
}

/* 1 if matched, 0 if not, -1 if the regex could not tell (note 2). */
static int title_matches(struct filter *f, const struct filter_rule *r,
			 const char *title)
{
	int rc = pcre2_match(r->re, (PCRE2_SPTR)title, strlen(title), 0, 0,
			     f->md, f->mctx);

	if (rc >= 0)
		return 1;
	return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

static int time_matches(const struct filter_rule *r, const struct tm *tm)
{
	int min = tm->tm_hour * 60 + tm->tm_min;
	int today = (r->days >> tm->tm_wday) & 1;
	int yesterday = (r->days >> ((tm->tm_wday + 6) % 7)) & 1;

	if (r->from < 0)
		return today;
	if (r->from < r->to)
		return today && min >= r->from && min < r->to;
	return (today && min >= r->from) || (yesterday && min < r->to);
}

/* 1 if r matches e, 0 if not, -1 if it could not tell (excluded). */
static int rule_matches(struct filter *f, const struct filter_rule *r,
			const struct filter_event *e, const struct tm *tm)
{
	switch (r->type) {
	case R_SOURCE:
		return e->source && any_glob(r, e->source);
	case R_APP:
		return e->app && any_glob(r, e->app);
	case R_TITLE:
		return e->title ? title_matches(f, r, e->title) : 0;
	case R_PATH:
		return e->path && e->path[0] == '/' &&
		       globs_find_within(r->globs, e->path + 1) >= 0;
	case R_TIME:
		return tm && time_matches(r, tm);
	}
	return 0;
}

int filter_check(struct filter *f, const struct filter_event *e,
		 const struct filter_rule **fired)
{
	struct tm tm;
	int have_tm = local_tm(e->t, &tm) == 0;

	if (fired)
		*fired = NULL;
	roll(f);
	for (size_t i = 0; i < f->n; i++) {
		struct filter_rule *r = f->v[i];
		int m = rule_matches(f, r, e, have_tm ? &tm : NULL);
		if (!m)
			continue;
		r->count++;
		if (m < 0)
			r->limit_hits++;
		if (fired)
			*fired = r;
		return FILTER_EXCLUDE;
	}
	return FILTER_KEEP;
}

const char *filter_rule_name(const struct filter_rule *r)
{
	return r->name;
}

size_t filter_counts(struct filter *f, struct filter_count **out)
{
	size_t n = 0;

	roll(f);
	*out = xcalloc(f->n ? f->n : 1, sizeof(**out));
	for (size_t i = 0; i < f->n; i++) {
		if (!f->v[i]->count)
			continue;
		(*out)[n].rule = f->v[i]->name;
		(*out)[n].count = f->v[i]->count;
		(*out)[n].limit_hits = f->v[i]->limit_hits;
		n++;
	}
	return n;
}

size_t filter_rules(const struct filter *f)
{
	return f->n;
}

void filter_describe(const struct filter *f, struct buf *out)
{
	for (size_t i = 0; i < f->n; i++)
		if (!f->v[i]->builtin)
			buf_addf(out, "%s %s\n", type_key[f->v[i]->type],
				 f->v[i]->value);
	buf_addf(out, "defaults %s\n", f->defaults ? "yes" : "no");
}
