/*
 * Ignore rules in .gitignore syntax, for the files source. Each rule is
 * kept split at '/' so that '**' can stand for any number of folders
 * while fnmatch(3) matches each name against its own piece of pattern.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "files-int.h"
#include "xalloc.h"
#include "banned.h"

struct files_rule {
	char *pat;		/* the pattern, '/' replaced by NUL */
	const char **seg;	/* anchored: its pieces; else NULL */
	size_t nseg;
	unsigned negate : 1;
	unsigned dir_only : 1;
};

struct files_rules {
	struct files_rule *v;
	size_t n, alloc;
};

/*
 * Never recorded, whatever a .gitignore or the configuration says: version
 * control, build outputs, editors' swap and backup files, and secrets.
 */
const char files_default_rules[] =
	".git\n.hg/\n.svn/\n"
	"build/\ndist/\ntarget/\n__pycache__/\n*.o\n*.pyc\n"
	".ipynb_checkpoints/\nnode_modules/\n"
	"*.swp\n*.swx\n*~\n.#*\n\\#*#\n"
	".env\n.env.*\n*.pem\n*.key\nid_rsa*\nid_ed25519*\n";

struct files_rules *files_rules_new(void)
{
	return xcalloc(1, sizeof(struct files_rules));
}

void files_rules_free(struct files_rules *r)
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

size_t files_rules_count(const struct files_rules *r)
{
	return r->n;
}

void files_rules_add(struct files_rules *r, const char *line, size_t len)
{
	struct files_rule rule = { 0 };
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
		char *s = p;
		rule.seg = xcalloc(len + 1, sizeof(*rule.seg));
		for (char *q = p;; q++) {
			if (*q == '/' || !*q) {
				int end = !*q;
				*q = '\0';
				if (*s)
					rule.seg[rule.nseg++] = s;
				s = q + 1;
				if (end)
					break;
			}
		}
		if (!rule.nseg) {
			free(rule.pat);
			free(rule.seg);
			return;
		}
	}
	XGROW(r->v, r->n + 1, r->alloc);
	r->v[r->n++] = rule;
}

void files_rules_parse(struct files_rules *r, const char *text, size_t len)
{
	const char *end = text + len;

	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t n = nl ? (size_t)(nl - text) : (size_t)(end - text);
		files_rules_add(r, text, n);
		text += n + (nl != NULL);
	}
}

/* Pattern pieces against path names; '**' matches any number of names,
 * except at the end, where it matches one or more (everything inside). */
static int match_segs(const char *const *p, size_t np, char *const *s,
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

static int rule_matches(const struct files_rule *rule, char *const *names,
			size_t nnames, int is_dir)
{
	if (rule->dir_only && !is_dir)
		return 0;
	if (!rule->seg)
		return nnames && !fnmatch(rule->pat, names[nnames - 1], 0);
	return match_segs(rule->seg, rule->nseg, names, nnames);
}

enum files_verdict files_rules_match(const struct files_rules *r,
				     const char *path, int is_dir)
{
	char *copy, **names;
	size_t nnames = 0, len;
	enum files_verdict v = FILES_NO_MATCH;

	if (!r || !r->n)
		return FILES_NO_MATCH;
	len = strlen(path);
	copy = xstrndup(path, len);
	names = xcalloc(len + 1, sizeof(*names));
	for (char *s = copy, *q = copy;; q++) {
		if (*q == '/' || !*q) {
			int end = !*q;
			*q = '\0';
			if (*s)
				names[nnames++] = s;
			s = q + 1;
			if (end)
				break;
		}
	}
	for (size_t i = r->n; i-- > 0;) {
		if (rule_matches(&r->v[i], names, nnames, is_dir)) {
			v = r->v[i].negate ? FILES_KEEP : FILES_IGNORE;
			break;
		}
	}
	free(names);
	free(copy);
	return v;
}
