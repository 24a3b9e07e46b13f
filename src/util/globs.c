/*
 * Patterns in .gitignore syntax: the files source's ignore rules and the
 * privacy filter's path rules. Each pattern is kept split at '/' so that
 * '**' can stand for any number of folders while fnmatch(3) matches each
 * name against its own piece of pattern.
 */
#include "globs.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"
#include "banned.h"

struct glob {
	char *pat;		/* the pattern, '/' replaced by NUL */
	const char **seg;	/* anchored: its pieces; else NULL */
	size_t nseg;
	unsigned negate : 1;
	unsigned dir_only : 1;
};

struct globs {
	struct glob *v;
	size_t n, alloc;
};

/* Splits copy (a path, modified) at '/' into names, dropping the empty
 * ones; names must have room for strlen(copy) + 1. Returns the count. */
static size_t split_names(char *copy, const char **names)
{
	size_t n = 0;

	for (char *s = copy, *q = copy;; q++) {
		if (*q == '/' || !*q) {
			int end = !*q;
			*q = '\0';
			if (*s)
				names[n++] = s;
			s = q + 1;
			if (end)
				return n;
		}
	}
}

struct globs *globs_new(void)
{
	return xcalloc(1, sizeof(struct globs));
}

void globs_free(struct globs *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].pat);
		free(r->v[i].seg);
	}
	free(r->v);
	free(r);
}

size_t globs_count(const struct globs *r)
{
	return r->n;
}

void globs_add(struct globs *r, const char *line, size_t len)
{
	struct glob rule = { 0 };
	char *p;

	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	/* Trailing spaces do not count unless escaped with a backslash. */
	while (len && line[len - 1] == ' ' &&
	       !(len >= 2 && line[len - 2] == '\\'))
		len--;
	if (!len || line[0] == '#')
		return;
	if (line[0] == '!') {
		rule.negate = 1;
		line++;
		len--;
	}
	if (len && line[len - 1] == '/') {
		rule.dir_only = 1;
		len--;
	}
	if (!len)
		return;
	rule.pat = p = xstrndup(line, len);
	if (memchr(p, '/', len)) {
		/* Anchored to the rules' folder: split into pieces, dropping
		 * the empty ones a leading or doubled '/' leaves. */
		rule.seg = xcalloc(len + 1, sizeof(*rule.seg));
		rule.nseg = split_names(p, rule.seg);
		if (!rule.nseg) {
			free(rule.pat);
			free(rule.seg);
			return;
		}
	}
	XGROW(r->v, r->n + 1, r->alloc);
	r->v[r->n++] = rule;
}

void globs_parse(struct globs *r, const char *text, size_t len)
{
	const char *end = text + len;

	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t n = nl ? (size_t)(nl - text) : (size_t)(end - text);
		globs_add(r, text, n);
		text += n + (nl != NULL);
	}
}

/* Pattern pieces against path names; '**' matches any number of names,
 * except at the end, where it matches one or more (everything inside). */
static int match_segs(const char *const *p, size_t np, const char *const *s,
		      size_t ns)
{
	while (np) {
		if (!strcmp(p[0], "**")) {
			for (size_t k = np == 1; k <= ns; k++)
				if (match_segs(p + 1, np - 1, s + k, ns - k))
					return 1;
			return 0;
		}
		if (!ns || fnmatch(p[0], s[0], 0))
			return 0;
		p++, np--;
		s++, ns--;
	}
	return ns == 0;
}

static int rule_matches(const struct glob *rule, const char *const *names,
			size_t nnames, int is_dir)
{
	if (rule->dir_only && !is_dir)
		return 0;
	if (!rule->seg)
		return nnames && !fnmatch(rule->pat, names[nnames - 1], 0);
	return match_segs(rule->seg, rule->nseg, names, nnames);
}

/* The last pattern matching names[0..n), or -1. */
static long last_match(const struct globs *r, const char *const *names, size_t n,
		       int is_dir)
{
	for (size_t i = r->n; i-- > 0;)
		if (rule_matches(&r->v[i], names, n, is_dir))
			return (long)i;
	return -1;
}

enum globs_verdict globs_match(const struct globs *r, const char *path,
			       int is_dir)
{
	char *copy;
	const char **names;
	size_t nnames;
	long i;

	if (!r || !r->n)
		return GLOBS_NO_MATCH;
	copy = xstrdup(path);
	names = xcalloc(strlen(path) + 1, sizeof(*names));
	nnames = split_names(copy, names);
	i = last_match(r, names, nnames, is_dir);
	free(names);
	free(copy);
	if (i < 0)
		return GLOBS_NO_MATCH;
	return r->v[i].negate ? GLOBS_KEEP : GLOBS_IGNORE;
}

long globs_find_within(const struct globs *r, const char *path)
{
	char *copy;
	const char **names;
	size_t nnames;
	long i = -1;

	if (!r || !r->n)
		return -1;
	copy = xstrdup(path);
	names = xcalloc(strlen(path) + 1, sizeof(*names));
	nnames = split_names(copy, names);
	/* Outermost folder first, as a walk meets them. */
	for (size_t k = 1; k <= nnames && i < 0; k++)
		i = last_match(r, names, k, k < nnames);
	free(names);
	free(copy);
	return i;
}
