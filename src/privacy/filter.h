#ifndef LABTAPE_FILTER_H
#define LABTAPE_FILTER_H

/*
 * Exclusions before disk: the rules of the configuration's [exclude]
 * section, checked against every event before it reaches the tape.
 *
 *	[exclude]
 *	source = shell                   no terminal recording at all
 *	app = keepassxc                  application or window class (glob,
 *	                                 case-insensitive)
 *	title = (?i)private browsing     window title (PCRE2, unanchored)
 *	path = ~/personal/               absolute path (.gitignore glob)
 *	time = Mon-Fri 18:00-08:00       local time: days, hours, or both
 *	defaults = yes                   the built-in rules (filter.c)
 *
 * Each key may be repeated; each line is one rule, and an event that any
 * rule matches is excluded. The defaults (password managers, private
 * browsing windows, secret files) are on unless `defaults = no`.
 *
 *	struct filter *f = filter_new();
 *	if (filter_load(f, cfg->path))          errors name the file and line
 *		...
 *	struct filter_event e = { "files", NULL, NULL, "/home/a/x.pem", t };
 *	if (filter_check(f, &e, &rule) == FILTER_EXCLUDE)
 *		drop it;                        rule says which, for status
 *	filter_free(f);
 *
 * Not thread-safe: one filter per thread (matching uses scratch space).
 */

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum {
	FILTER_KEEP = 0,
	FILTER_EXCLUDE = 1,
};

/* What a rule can test. NULL fields are unknown: no rule of that type
 * matches them. */
struct filter_event {
	const char *source;	/* "files", "shell", "editor", ... */
	const char *app;	/* application or window class */
	const char *title;	/* window title */
	const char *path;	/* absolute */
	int64_t t;		/* ns since the epoch, UTC; compared in local time */
};

struct filter;
struct filter_rule;

/* An empty filter: no rules at all, not even the defaults (filter_parse
 * and filter_load add those). Free it with filter_free(). */
struct filter *filter_new(void);
void filter_free(struct filter *f);

/*
 * Adds one rule: key and value as in the [exclude] section (~/ in a path
 * is $HOME). "defaults" only records the choice. LT_EINVAL (with
 * lt_errmsg()) if the value is not a valid rule of that key.
 */
int filter_add(struct filter *f, const char *key, const char *value);

/*
 * Reads the [exclude] section of INI text (other sections are skipped),
 * then adds the defaults unless it said `defaults = no`. Errors name name
 * and the line. text need not be NUL-terminated.
 */
int filter_parse(struct filter *f, const char *text, size_t len,
		 const char *name);
/* filter_parse() of a file; path NULL or a missing file: the defaults. */
int filter_load(struct filter *f, const char *path);

/*
 * FILTER_EXCLUDE if a rule matches e (*fired, if fired is not NULL, is
 * then the rule), else FILTER_KEEP (*fired = NULL). A title regex that
 * runs into its match limit excludes (fail closed) and is counted.
 * Counts what fired today.
 */
int filter_check(struct filter *f, const struct filter_event *e,
		 const struct filter_rule **fired);

/* A rule's name for people: "path ~/personal/", "default: secret file".
 * Owned by the filter. */
const char *filter_rule_name(const struct filter_rule *r);

/* One rule's counts of today (local time). */
struct filter_count {
	const char *rule;	/* filter_rule_name(), owned by the filter */
	uint64_t count;		/* events excluded */
	uint64_t limit_hits;	/* of those, by a regex's match limit */
};

/*
 * The rules that fired today, in the order of the configuration; *out is
 * an array the caller frees (free()), valid while f is. Returns how many.
 */
size_t filter_counts(struct filter *f, struct filter_count **out);

/* The number of rules, the defaults included. */
size_t filter_rules(const struct filter *f);

/*
 * The rules as canonical text, one "key value" a line (the defaults as
 * "defaults yes"), so that two loads of the same rules compare equal and
 * a changed configuration shows. Appended to out.
 */
void filter_describe(const struct filter *f, struct buf *out);

/* The clock deciding when today's counts start afresh (local midnight);
 * lt_now_ns unless set (tests). */
void filter_set_clock(struct filter *f, int64_t (*now)(void));

#endif
