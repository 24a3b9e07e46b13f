/*
 * The redaction engine: compiles the candidate patterns once, scans a
 * window of text in one Hyperscan pass (plus one PCRE2 pass per user
 * rule), settles overlaps, and writes the text with placeholders.
 *
 * NOTES ON THE DESIGN
 *
 * 1. Candidates come from short anchors, not from full regular
 *    expressions: a detector in redact-detect.c reads the whole token
 *    around its anchor and validates it. The cost is one Hyperscan pass
 *    plus work bounded per anchor, whatever the text holds.
 * 2. Overlaps: of two overlapping candidates the one with the higher
 *    priority wins (user rules, then private keys, JWTs, URL credentials,
 *    known tokens, generic secrets, then the personal data types), and of
 *    equal priorities the longer. What the allowlist names is dropped
 *    after that, so an allowed value never lets a weaker match through.
 * 3. Windows: redact_feed() scans everything it is given but consumes
 *    only up to a cut REDACT_LOOKAHEAD bytes before the end, placed after
 *    a newline (else a blank) and outside every match. A token shorter
 *    than the lookahead is therefore always seen whole, and each window
 *    starts where a token may start.
 * 4. Placeholders are numbered when they are written, in document order.
 *    The map from value to number holds a 128-bit XXH3 digest of the
 *    value's canonical form (digits of a card, the lower-cased email),
 *    so the same value written two ways gets one number and the map
 *    never holds the values themselves.
 * 5. Lines: no built-in detector reads across a '\n' (each stops at it,
 *    and treats it as it treats the edge of the window), and no anchor
 *    holds one, except the private key's block and a name of several
 *    words. So, without those and without user rules (PCRE2 may match
 *    anything), the candidates of a text are those of its lines, each
 *    scanned alone: a line's candidates depend on its bytes only, and
 *    candidates of two lines never overlap. redact_window() keeps, per
 *    document, the candidates of the lines of the text it last saw and
 *    scans only lines it has not seen; any scan that meets a private key
 *    or a candidate holding a '\n' goes back to redact_text(). Numbers
 *    are still given when written, in order, so the output is the same
 *    bytes (tests/unit/test-redact.c compares the two on every case).
 */
#define _GNU_SOURCE	/* memrchr */
#include "redact.h"
#include "redact-int.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <xxhash.h>

#include "error.h"
#include "lines.h"
#include "xalloc.h"
#include "banned.h"

static const char *const type_names[REDACT_NTYPES] = {
	"EMAIL", "PHONE", "CARD", "SSN", "IBAN", "IP", "MAC",
	"URL_CREDENTIALS", "AWS_KEY", "GITHUB_TOKEN", "SLACK_TOKEN",
	"PRIVATE_KEY", "JWT", "SECRET", "NAME",
};

static const int type_prio[REDACT_NTYPES] = {
	[REDACT_EMAIL] = 50, [REDACT_PHONE] = 40, [REDACT_CARD] = 44,
	[REDACT_SSN] = 43, [REDACT_IBAN] = 45, [REDACT_IP] = 34,
	[REDACT_MAC] = 35, [REDACT_URL_CREDENTIALS] = 75,
	[REDACT_AWS_KEY] = 70, [REDACT_GITHUB_TOKEN] = 70,
	[REDACT_SLACK_TOKEN] = 70, [REDACT_PRIVATE_KEY] = 90,
	[REDACT_JWT] = 80, [REDACT_SECRET] = 60, [REDACT_NAME] = 30,
};
#define USER_PRIO 100

const char *redact_type_name(int type)
{
	return type >= 0 && type < REDACT_NTYPES ? type_names[type] : NULL;
}

/* ---- rules -------------------------------------------------------------- */

void redact_rules_init(struct redact_rules *rr)
{
	memset(rr, 0, sizeof(*rr));
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void redact_rules_release(struct redact_rules *rr)
{
	free_strv(rr->rule_names, rr->nrules);
	free_strv(rr->rule_regex, rr->nrules);
	free_strv(rr->allow, rr->nallow);
	free_strv(rr->names, rr->nnames);
	redact_rules_init(rr);
}

static void push(char ***v, size_t *n, char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = s;
}

int redact_rules_add_rule(struct redact_rules *rr, const char *name,
			  const char *regex)
{
	size_t n = strlen(name);
	char *up;

	if (!n || n > 32 || !isalpha((unsigned char)name[0]))
		return lt_error(LT_EINVAL, "rule name '%s': use a letter then "
				"letters, digits or _ (at most 32)", name);
	up = xstrdup(name);
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)up[i]) && up[i] != '_') {
			free(up);
			return lt_error(LT_EINVAL, "rule name '%s': use only "
					"letters, digits and _", name);
		}
		up[i] = (char)toupper((unsigned char)up[i]);
	}
	for (int t = 0; t < REDACT_NTYPES; t++)
		if (!strcmp(up, type_names[t])) {
			free(up);
			return lt_error(LT_EINVAL, "rule name '%s' is a built-in "
					"type: choose another name", name);
		}
	if (!*regex) {
		free(up);
		return lt_error(LT_EINVAL, "rule %s: the regex is empty", name);
	}
	rr->rule_names = xrealloc(rr->rule_names,
				  (rr->nrules + 1) * sizeof(*rr->rule_names));
	rr->rule_regex = xrealloc(rr->rule_regex,
				  (rr->nrules + 1) * sizeof(*rr->rule_regex));
	rr->rule_names[rr->nrules] = up;
	rr->rule_regex[rr->nrules++] = xstrdup(regex);
	return 0;
}

int redact_rules_add_rule_spec(struct redact_rules *rr, const char *spec)
{
	size_t k = strcspn(spec, ":=");
	char *name;
	int r;

	if (!spec[k])
		return lt_error(LT_EINVAL, "rule '%s': write NAME:REGEX", spec);
	name = xstrndup(spec, k);
	r = redact_rules_add_rule(rr, name, spec + k + 1);
	free(name);
	return r;
}

int redact_rules_add_allow(struct redact_rules *rr, const char *allow)
{
	if (!*allow)
		return lt_error(LT_EINVAL, "an empty allow entry would allow "
				"nothing: remove it");
	push(&rr->allow, &rr->nallow, xstrdup(allow));
	return 0;
}

int redact_rules_add_name(struct redact_rules *rr, const char *name)
{
	int letters = 0;

	for (const char *p = name; *p; p++)
		letters += isalpha((unsigned char)*p) || (unsigned char)*p >= 0x80;
	if (letters < 2 || strlen(name) > 200)
		return lt_error(LT_EINVAL, "name '%s': give a person's name "
				"(letters, at most 200 bytes)", name);
	push(&rr->names, &rr->nnames, xstrdup(name));
	return 0;
}

int redact_rules_load_names(struct redact_rules *rr, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, r = 0;

	if (!f)
		return lt_error_errno(LT_EIO, "cannot read names file '%s'", path);
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *s = line, *e = line + len;

		lineno++;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		*e = '\0';
		if (s == e || *s == '#')
			continue;
		if (memchr(s, '\0', (size_t)(e - s)) ||
		    redact_rules_add_name(rr, s)) {
			r = lt_error(LT_EINVAL, "%s: line %d: not a name (one "
				     "name a line, # for comments)", path, lineno);
			break;
		}
	}
	free(line);
	fclose(f);
	return r;
}

/* ---- the redactor ------------------------------------------------------- */

struct name_pat {
	int person;
	int single;	/* one word: case must match */
	char *text;
	size_t len;
};

struct slot {
	uint64_t lo, hi;
	uint32_t num;	/* 0: empty */
};

/* What redact_window() knows of a document's text (NOTES 5): the
 * candidates of its whole lines [ks, ke), in order, offsets in the text. */
struct memo {
	int valid;
	size_t ks, ke;
	struct cand *c;
	size_t n, alloc;
};
/* More candidates than this in a document's lines: not worth the memory
 * (a candidate is about 140 bytes), scan them again each time. */
#define MEMO_MAX_CANDS 256

struct redactor {
	hs_database_t *db;
	hs_scratch_t *scratch;
	uint32_t disabled;

	struct name_pat *names;
	size_t nnames;
	char **persons;
	size_t npersons;

	pcre2_code **rules;
	char **rule_types;
	size_t nrules;
	pcre2_match_data *md;

	char **allow_lit;
	size_t nallow_lit;
	pcre2_code **allow_re;
	size_t nallow_re;

	redact_explain_fn *explain;
	void *explain_ctx;

	/* The document. */
	uint64_t doc_off;
	struct slot *map;
	size_t map_size, map_used;
	uint32_t *next;		/* per type: the last number given */
	uint64_t *counts;
	struct memo memo;

	struct scan sc;
	struct cand *keep;
	size_t nkeep, keep_alloc;

	int line_local;		/* NOTES 5 holds for these rules */
	struct cand *wk, *run;	/* redact_window()'s scratch */
	size_t nwk, wk_alloc, nrun, run_alloc;
};

size_t redact_ntypes(const struct redactor *r)
{
	return REDACT_NTYPES + r->nrules;
}

const char *redact_type_label(const struct redactor *r, size_t type)
{
	if (type < REDACT_NTYPES)
		return type_names[type];
	if (type < redact_ntypes(r))
		return r->rule_types[type - REDACT_NTYPES];
	return NULL;
}

uint64_t redact_count(const struct redactor *r, size_t type)
{
	return type < redact_ntypes(r) ? r->counts[type] : 0;
}

void redact_counts_reset(struct redactor *r)
{
	memset(r->counts, 0, redact_ntypes(r) * sizeof(*r->counts));
}

void redactor_set_explain(struct redactor *r, redact_explain_fn *fn, void *ctx)
{
	r->explain = fn;
	r->explain_ctx = ctx;
}

void redact_print_patterns(struct buf *out)
{
	for (size_t i = 0; i < redact_npatterns; i++)
		buf_addf(out, "%s\n", redact_patterns[i].re);
}

/* A name as a Hyperscan expression: words joined by any blanks, every
 * other byte escaped. */
static void name_regex(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isspace(c)) {
			while (i + 1 < n && isspace((unsigned char)s[i + 1]))
				i++;
			buf_addstr(b, "[ \\t\\r\\n]+");
		} else if (isalnum(c)) {
			buf_addch(b, c);
		} else {
			buf_addf(b, "\\x%02x", c);
		}
	}
}

static void add_name_pat(struct redactor *r, int person, int single,
			 const char *s, size_t n)
{
	struct name_pat *np;

	r->names = xrealloc(r->names, (r->nnames + 1) * sizeof(*r->names));
	np = &r->names[r->nnames++];
	np->person = person;
	np->single = single;
	np->text = xstrndup(s, n);
	np->len = n;
}

static void setup_names(struct redactor *r, const struct redact_rules *rr)
{
	for (size_t i = 0; i < rr->nnames; i++) {
		const char *s = rr->names[i], *tag = strstr(s, "[parts]");
		size_t n = tag ? (size_t)(tag - s) : strlen(s);
		int person = (int)r->npersons, words = 0;

		while (n && isspace((unsigned char)s[n - 1]))
			n--;
		push(&r->persons, &r->npersons, xstrndup(s, n));
		for (size_t k = 0; k < n;) {
			size_t w = k;

			while (w < n && !isspace((unsigned char)s[w]))
				w++;
			if (w > k)
				words++;
			if (tag && w - k >= 2 && words)
				add_name_pat(r, person, 1, s + k, w - k);
			k = w;
			while (k < n && isspace((unsigned char)s[k]))
				k++;
		}
		if (!tag || words > 1)
			add_name_pat(r, person, words == 1, s, n);
	}
}

static int compile_hs(struct redactor *r)
{
	size_t max = redact_npatterns + r->nnames, n = 0;
	const char **exprs = xcalloc(max, sizeof(*exprs));
	unsigned *flags = xcalloc(max, sizeof(*flags));
	unsigned *ids = xcalloc(max, sizeof(*ids));
	struct buf *regs = xcalloc(r->nnames ? r->nnames : 1, sizeof(*regs));
	hs_compile_error_t *err = NULL;
	int ret = 0;

	for (size_t i = 0; i < redact_npatterns; i++) {
		if (r->disabled & (1u << redact_patterns[i].type))
			continue;
		exprs[n] = redact_patterns[i].re;
		flags[n] = redact_patterns[i].len ? 0 : HS_FLAG_SOM_LEFTMOST;
		ids[n++] = (unsigned)i;
	}
	for (size_t i = 0; i < r->nnames && !(r->disabled & (1u << REDACT_NAME)); i++) {
		regs[i] = (struct buf)BUF_INIT;
		name_regex(&regs[i], r->names[i].text, r->names[i].len);
		exprs[n] = regs[i].data;
		flags[n] = HS_FLAG_SOM_LEFTMOST | HS_FLAG_CASELESS;
		ids[n++] = (unsigned)(redact_npatterns + i);
	}
	if (n == 0) {
		/* Everything off: a pattern that cannot match keeps the
		 * scan code simple. */
		exprs[n] = "\\A\\z[a]";
		flags[n] = 0;
		ids[n++] = 0;
	}
	if (hs_compile_multi(exprs, flags, ids, (unsigned)n, HS_MODE_BLOCK,
			     NULL, &r->db, &err) != HS_SUCCESS) {
		ret = lt_error(LT_EINVAL, "cannot compile the detectors: %s "
			       "(pattern %d)", err ? err->message : "?",
			       err ? err->expression : -1);
		hs_free_compile_error(err);
	} else if (hs_alloc_scratch(r->db, &r->scratch) != HS_SUCCESS) {
		ret = lt_error(LT_EIO, "cannot allocate Hyperscan scratch space");
	}
	for (size_t i = 0; i < r->nnames; i++)
		if (regs[i].data)
			buf_release(&regs[i]);
	free(regs);
	free(exprs);
	free(flags);
	free(ids);
	return ret;
}

static int compile_pcre(pcre2_code **out, const char *re, const char *what)
{
	int errcode;
	PCRE2_SIZE off;
	PCRE2_UCHAR msg[160];

	*out = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
			     PCRE2_MULTILINE, &errcode, &off, NULL);
	if (!*out) {
		pcre2_get_error_message(errcode, msg, sizeof(msg));
		return lt_error(LT_EINVAL, "%s '%s': %s at offset %zu", what, re,
				(char *)msg, (size_t)off);
	}
	/* Without JIT (some architectures) the interpreter still works. */
	pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE);
	return 0;
}

int redactor_new(struct redactor **out, const struct redact_rules *rr)
{
	struct redactor *r = xcalloc(1, sizeof(*r));
	int ret;

	*out = NULL;
	r->disabled = rr->disabled;
	setup_names(r, rr);
	if ((ret = compile_hs(r)))
		goto fail;
	r->rules = xcalloc(rr->nrules + 1, sizeof(*r->rules));
	r->rule_types = xcalloc(rr->nrules + 1, sizeof(*r->rule_types));
	for (size_t i = 0; i < rr->nrules; i++) {
		struct buf what = BUF_INIT;

		buf_addf(&what, "rule %s", rr->rule_names[i]);
		ret = compile_pcre(&r->rules[i], rr->rule_regex[i], what.data);
		buf_release(&what);
		if (ret)
			goto fail;
		r->rule_types[i] = xstrdup(rr->rule_names[i]);
		r->nrules++;
	}
	r->allow_lit = xcalloc(rr->nallow + 1, sizeof(*r->allow_lit));
	r->allow_re = xcalloc(rr->nallow + 1, sizeof(*r->allow_re));
	for (size_t i = 0; i < rr->nallow; i++) {
		const char *a = rr->allow[i];
		size_t n = strlen(a);

		if (n >= 2 && a[0] == '/' && a[n - 1] == '/') {
			char *re = xstrndup(a + 1, n - 2);

			ret = compile_pcre(&r->allow_re[r->nallow_re], re,
					   "allow regex");
			free(re);
			if (ret)
				goto fail;
			r->nallow_re++;
		} else {
			r->allow_lit[r->nallow_lit++] = xstrdup(a);
		}
	}
	r->line_local = rr->nrules == 0;
	for (size_t i = 0; i < r->nnames && !(r->disabled & (1u << REDACT_NAME));
	     i++)
		if (!r->names[i].single)
			r->line_local = 0;	/* "Ada\nLovelace" is one */
	r->md = pcre2_match_data_create(1, NULL);
	r->counts = xcalloc(redact_ntypes(r), sizeof(*r->counts));
	r->next = xcalloc(redact_ntypes(r), sizeof(*r->next));
	r->sc.r = r;
	redact_begin_doc(r);
	*out = r;
	return 0;
fail:
	redactor_free(r);
	return ret;
}

void redactor_free(struct redactor *r)
{
	if (!r)
		return;
	hs_free_scratch(r->scratch);
	hs_free_database(r->db);
	for (size_t i = 0; i < r->nnames; i++)
		free(r->names[i].text);
	free(r->names);
	free_strv(r->persons, r->npersons);
	for (size_t i = 0; i < r->nrules; i++)
		pcre2_code_free(r->rules[i]);
	free(r->rules);
	free_strv(r->rule_types, r->nrules);
	free_strv(r->allow_lit, r->nallow_lit);
	for (size_t i = 0; i < r->nallow_re; i++)
		pcre2_code_free(r->allow_re[i]);
	free(r->allow_re);
	pcre2_match_data_free(r->md);
	free(r->map);
	free(r->next);
	free(r->counts);
	free(r->sc.c);
	free(r->keep);
	free(r->memo.c);
	free(r->wk);
	free(r->run);
	free(r);
}

void redact_begin_doc(struct redactor *r)
{
	r->doc_off = 0;
	if (r->map_size > 4096) {
		free(r->map);
		r->map = NULL;
		r->map_size = 0;
	}
	if (r->map)
		memset(r->map, 0, r->map_size * sizeof(*r->map));
	r->map_used = 0;
	if (r->next)
		memset(r->next, 0, redact_ntypes(r) * sizeof(*r->next));
	r->memo.valid = 0;
	r->memo.n = 0;
}

struct redact_doc {
	uint64_t doc_off;
	struct slot *map;
	size_t map_size, map_used;
	uint32_t *next;		/* NULL: all zero */
	struct memo memo;
};

struct redact_doc *redact_doc_new(void)
{
	return xcalloc(1, sizeof(struct redact_doc));
}

void redact_doc_free(struct redact_doc *d)
{
	if (!d)
		return;
	free(d->map);
	free(d->next);
	free(d->memo.c);
	free(d);
}

void redact_doc_forget(struct redact_doc *d)
{
	d->memo.valid = 0;
	d->memo.n = 0;
}

void redact_swap_doc(struct redactor *r, struct redact_doc *d)
{
	struct redact_doc cur = { r->doc_off, r->map, r->map_size,
				  r->map_used, r->next, r->memo };

	r->doc_off = d->doc_off;
	r->map = d->map;
	r->map_size = d->map_size;
	r->map_used = d->map_used;
	/* The redactor always has a next array; a fresh document has none
	 * until it is swapped in. */
	r->next = d->next ? d->next
			  : xcalloc(redact_ntypes(r), sizeof(*r->next));
	r->memo = d->memo;
	*d = cur;
}

uint64_t redact_doc_offset(const struct redactor *r)
{
	return r->doc_off;
}

/* ---- candidates --------------------------------------------------------- */

struct cand *scan_add(struct scan *sc, size_t start, size_t end, int type,
		      const char *detector)
{
	struct cand *c;

	XGROW(sc->c, sc->nc + 1, sc->alloc);
	c = &sc->c[sc->nc++];
	c->start = start;
	c->end = end;
	c->type = type;
	c->prio = type < REDACT_NTYPES ? type_prio[type] : USER_PRIO;
	c->person = -1;
	c->num = 0;
	c->detector = detector;
	c->why[0] = '\0';
	return c;
}

void scan_why(struct scan *sc, struct cand *c, const char *fmt, ...)
{
	va_list ap;

	if (!sc->explain)
		return;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

static int is_wordc(int c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

void redact_detect_name(struct scan *sc, unsigned id, size_t from, size_t to)
{
	const struct name_pat *np = &sc->r->names[id - redact_npatterns];
	const char *s = sc->s + from;
	size_t n = to - from;
	struct cand *c;
	int ok = 1;

	if ((from > 0 && is_wordc((unsigned char)sc->s[from - 1])) ||
	    (to < sc->n && is_wordc((unsigned char)sc->s[to])))
		return;
	if (np->single) {
		/* "Will" the name, not "will" the verb: exact, or all caps. */
		ok = n == np->len && !memcmp(s, np->text, n);
		for (size_t i = 0; !ok && n == np->len && i < n; i++)
			if (s[i] != toupper((unsigned char)np->text[i]))
				break;
			else if (i + 1 == n)
				ok = 1;
	}
	if (!ok)
		return;
	c = scan_add(sc, from, to, REDACT_NAME, "names");
	c->person = np->person;
	scan_why(sc, c, "%s of a listed person",
		 np->single ? "a name part" : "the full name");
}

static int on_match(unsigned id, unsigned long long from,
		    unsigned long long to, unsigned flags, void *ctx)
{
	struct scan *sc = ctx;
	const struct pattern *p;

	(void)flags;
	if (id >= redact_npatterns) {
		redact_detect_name(sc, id, (size_t)from, (size_t)to);
		return 0;
	}
	p = &redact_patterns[id];
	if (p->len)
		from = to - p->len;
	if (from >= sc->ex_lo[p->slot] && to <= sc->ex_hi[p->slot])
		return 0;
	sc->cur_from = (size_t)from;
	p->fn(sc, p, (size_t)from, (size_t)to);
	return 0;
}

static void run_rules(struct redactor *r, struct scan *sc)
{
	for (size_t k = 0; k < r->nrules; k++) {
		size_t off = 0;

		while (off <= sc->n) {
			PCRE2_SIZE *ov;
			int rc = pcre2_match(r->rules[k], (PCRE2_SPTR)sc->s, sc->n,
					     off, 0, r->md, NULL);
			struct cand *c;

			if (rc < 0)
				break;	/* no match, or a match limit hit */
			ov = pcre2_get_ovector_pointer(r->md);
			if (ov[1] <= ov[0]) {
				off = ov[0] + 1;
				continue;
			}
			c = scan_add(sc, ov[0], ov[1], (int)(REDACT_NTYPES + k),
				     r->rule_types[k]);
			scan_why(sc, c, "user rule %s",
				 r->rule_types[k]);
			off = ov[1];
		}
	}
}

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->prio != y->prio)
		return y->prio - x->prio;
	if (x->end != y->end)
		return x->end > y->end ? -1 : 1;
	return 0;
}

static int allowed(struct redactor *r, const char *s, size_t n)
{
	for (size_t i = 0; i < r->nallow_lit; i++)
		if (strlen(r->allow_lit[i]) == n && !memcmp(r->allow_lit[i], s, n))
			return 1;
	for (size_t i = 0; i < r->nallow_re; i++)
		if (pcre2_match(r->allow_re[i], (PCRE2_SPTR)s, n, 0, 0, r->md,
				NULL) >= 0)
			return 1;
	return 0;
}

/* Sorted, then one sweep: an overlap keeps the stronger candidate. */
static void resolve(struct redactor *r, const char *s)
{
	struct scan *sc = &r->sc;

	if (sc->nc > 1)
		qsort(sc->c, sc->nc, sizeof(*sc->c), cand_cmp);
	r->nkeep = 0;
	for (size_t i = 0; i < sc->nc; i++) {
		struct cand *c = &sc->c[i], *last;

		if (r->nkeep) {
			last = &r->keep[r->nkeep - 1];
			if (c->start < last->end) {
				if (c->prio < last->prio || (c->prio == last->prio &&
				    c->end - c->start <= last->end - last->start))
					continue;
				r->nkeep--;
			}
		}
		XGROW(r->keep, r->nkeep + 1, r->keep_alloc);
		r->keep[r->nkeep++] = *c;
	}
	if (!r->nallow_lit && !r->nallow_re)
		return;
	for (size_t i = 0, j = 0; i < r->nkeep; i++) {
		struct cand *c = &r->keep[i];

		if (!allowed(r, s + c->start, c->end - c->start))
			r->keep[j++] = *c;
		if (i + 1 == r->nkeep)
			r->nkeep = j;
	}
}

/* ---- placeholders ------------------------------------------------------- */

static XXH128_hash_t value_digest(const struct cand *c, const char *s)
{
	char canon[64];
	size_t n = 0, len = c->end - c->start;
	const char *v = s + c->start;

	switch (c->type) {
	case REDACT_NAME:
		return XXH3_128bits_withSeed(&c->person, sizeof(c->person),
					     (XXH64_hash_t)c->type);
	case REDACT_PHONE: case REDACT_CARD: case REDACT_SSN:
	case REDACT_IBAN: case REDACT_MAC:
		for (size_t i = 0; i < len && n < sizeof(canon); i++)
			if (isalnum((unsigned char)v[i]))
				canon[n++] = (char)tolower((unsigned char)v[i]);
		break;
	case REDACT_EMAIL: case REDACT_IP:
		if (len > sizeof(canon))
			break;
		for (size_t i = 0; i < len; i++)
			canon[n++] = (char)tolower((unsigned char)v[i]);
		break;
	default:
		break;
	}
	if (n)
		return XXH3_128bits_withSeed(canon, n, (XXH64_hash_t)c->type);
	return XXH3_128bits_withSeed(v, len, (XXH64_hash_t)c->type);
}

static uint32_t placeholder_number(struct redactor *r, const struct cand *c,
				   const char *s)
{
	XXH128_hash_t h = value_digest(c, s);
	size_t i;

	if ((r->map_used + 1) * 4 > r->map_size * 3) {
		struct slot *old = r->map;
		size_t oldn = r->map_size;

		r->map_size = oldn ? oldn * 2 : 256;
		r->map = xcalloc(r->map_size, sizeof(*r->map));
		for (size_t k = 0; k < oldn; k++) {
			if (!old[k].num)
				continue;
			i = old[k].lo & (r->map_size - 1);
			while (r->map[i].num)
				i = (i + 1) & (r->map_size - 1);
			r->map[i] = old[k];
		}
		free(old);
	}
	i = h.low64 & (r->map_size - 1);
	while (r->map[i].num) {
		if (r->map[i].lo == h.low64 && r->map[i].hi == h.high64)
			return r->map[i].num;
		i = (i + 1) & (r->map_size - 1);
	}
	r->map[i].lo = h.low64;
	r->map[i].hi = h.high64;
	r->map[i].num = ++r->next[c->type];
	r->map_used++;
	return r->map[i].num;
}

/* Writes c's placeholder; returns its number. */
static uint32_t emit(struct redactor *r, const struct cand *c, const char *s,
		     struct buf *out)
{
	const char *label = redact_type_label(r, (size_t)c->type);
	uint32_t num = c->num ? c->num : placeholder_number(r, c, s), ret = num;
	size_t mark = out->len, k;
	char d[10];

	/* "<LABEL_N>", without printf: an export writes millions. */
	k = sizeof(d);
	do
		d[--k] = (char)('0' + num % 10);
	while (num /= 10);
	buf_addch(out, '<');
	buf_addstr(out, label);
	buf_addch(out, '_');
	buf_add(out, d + k, sizeof(d) - k);
	buf_addch(out, '>');
	r->counts[c->type]++;
	if (r->explain) {
		struct redact_match m = {
			.offset = r->doc_off + c->start,
			.len = c->end - c->start,
			.type = c->type,
			.type_name = label,
			.placeholder = out->data + mark,
			.detector = c->detector,
			.why = c->why,
		};
		r->explain(r->explain_ctx, &m);
	}
	return ret;
}

/* ---- windows ------------------------------------------------------------ */

static size_t choose_cut(const struct redactor *r, const char *in, size_t n)
{
	size_t limit = n - REDACT_LOOKAHEAD, cut = limit;
	const char *nl = memrchr(in, '\n', limit);

	if (nl) {
		cut = (size_t)(nl - in) + 1;
	} else {
		while (cut > 0 && in[cut - 1] != ' ' && in[cut - 1] != '\t')
			cut--;
		if (cut == 0)
			cut = limit;
	}
	/* Never inside a match: before it, or after it if it starts at 0. */
	for (size_t i = 0; i < r->nkeep; i++) {
		const struct cand *c = &r->keep[i];

		if (c->start < cut && cut < c->end) {
			cut = c->start ? c->start : c->end;
			break;
		}
	}
	return cut;
}

int redact_feed(struct redactor *r, const char *in, size_t n, int flush,
		size_t *used, struct buf *out)
{
	struct scan *sc = &r->sc;
	size_t cut, pos = 0;

	*used = 0;
	if (!flush && n <= REDACT_LOOKAHEAD)
		return 0;
	if (n > UINT32_MAX)
		return lt_error(LT_ETOOBIG, "a window of %zu bytes is too big "
				"for one scan: give less at a time", n);
	sc->s = in;
	sc->n = n;
	sc->flush = flush;
	sc->explain = r->explain != NULL;
	sc->nc = 0;
	memset(sc->ex_lo, 0, sizeof(sc->ex_lo));
	memset(sc->ex_hi, 0, sizeof(sc->ex_hi));
	if (n && hs_scan(r->db, in, (unsigned)n, 0, r->scratch, on_match, sc)
	    != HS_SUCCESS)
		return lt_error(LT_EIO, "the Hyperscan scan failed");
	run_rules(r, sc);
	resolve(r, in);
	cut = flush ? n : choose_cut(r, in, n);
	for (size_t i = 0; i < r->nkeep && r->keep[i].end <= cut; i++) {
		const struct cand *c = &r->keep[i];

		buf_add(out, in + pos, c->start - pos);
		emit(r, c, in, out);
		pos = c->end;
	}
	buf_add(out, in + pos, cut - pos);
	r->doc_off += cut;
	*used = cut;
	return 0;
}

int redact_text(struct redactor *r, const char *in, size_t n, struct buf *out)
{
	size_t off = 0, used;
	int ret;

	while (off < n || (n == 0 && off == 0)) {
		size_t win = n - off;
		int flush = win <= REDACT_CHUNK + REDACT_LOOKAHEAD;

		if (!flush)
			win = REDACT_CHUNK + REDACT_LOOKAHEAD;
		if ((ret = redact_feed(r, in + off, win, flush, &used, out)))
			return ret;
		if (!used && !flush &&
		    (ret = redact_feed(r, in + off, win, 1, &used, out)))
			return ret;	/* one match fills the window */
		off += used;
		if (n == 0)
			break;
	}
	return 0;
}

/* ---- windows of a changing text (NOTES 5) ------------------------------- */

/*
 * Scans the lines text[a..b) as one window and appends their kept
 * candidates, offsets in text, to r->run. 1 if NOTES 5 does not hold for
 * them (a private key, or a candidate over a '\n'): the caller must use
 * redact_text() instead.
 */
static int scan_lines(struct redactor *r, const char *text, size_t a,
		      size_t b)
{
	struct scan *sc = &r->sc;

	if (a >= b)
		return 0;
	sc->s = text + a;
	sc->n = b - a;
	sc->flush = 1;
	sc->explain = 1;	/* kept for later windows that may want it */
	sc->nc = 0;
	memset(sc->ex_lo, 0, sizeof(sc->ex_lo));
	memset(sc->ex_hi, 0, sizeof(sc->ex_hi));
	if (hs_scan(r->db, sc->s, (unsigned)sc->n, 0, r->scratch, on_match, sc)
	    != HS_SUCCESS)
		return lt_error(LT_EIO, "the Hyperscan scan failed");
	for (size_t i = 0; i < sc->nc; i++) {
		const struct cand *c = &sc->c[i];

		if (c->type == REDACT_PRIVATE_KEY ||
		    memchr(sc->s + c->start, '\n', c->end - c->start))
			return 1;
	}
	resolve(r, sc->s);
	XGROW(r->run, r->nrun + r->nkeep, r->run_alloc);
	for (size_t i = 0; i < r->nkeep; i++) {
		struct cand *c = &r->run[r->nrun++];

		*c = r->keep[i];
		c->start += a;
		c->end += a;
	}
	return 0;
}

/* Forgets what m knew, and its memory if it held more than the cap. */
static void memo_drop(struct memo *m)
{
	m->valid = 0;
	m->n = 0;
	if (m->alloc > MEMO_MAX_CANDS) {
		free(m->c);
		m->c = NULL;
		m->alloc = 0;
	}
}

/* The first candidate of m that starts at or after off. */
static size_t memo_find(const struct memo *m, size_t off)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->c[mid].start < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Replaces m's candidates [i, j) with r->run, and moves those after by
 * shift bytes. */
static void memo_splice(struct redactor *r, size_t i, size_t j,
			int64_t shift)
{
	struct memo *m = &r->memo;
	size_t tail = m->n - j, n = i + r->nrun + tail;

	if (!n) {
		m->n = 0;
		return;
	}
	XGROW(m->c, n, m->alloc);
	if (tail)
		memmove(m->c + i + r->nrun, m->c + j, tail * sizeof(*m->c));
	if (r->nrun)
		memcpy(m->c + i, r->run, r->nrun * sizeof(*m->c));
	for (size_t k = i + r->nrun; k < n; k++) {
		m->c[k].start = (size_t)((int64_t)m->c[k].start + shift);
		m->c[k].end = (size_t)((int64_t)m->c[k].end + shift);
	}
	m->n = n;
	if (m->n > MEMO_MAX_CANDS)
		m->valid = 0;
}

/* Makes the memo cover the whole lines text[fs..fe); 1 as scan_lines(). */
static int memo_cover(struct redactor *r, const char *text, size_t fs,
		      size_t fe)
{
	struct memo *m = &r->memo;
	int ret;

	if (!m->valid || fe < m->ks || fs > m->ke) {
		m->n = 0;
		m->valid = 0;
		r->nrun = 0;
		if ((ret = scan_lines(r, text, fs, fe)))
			return ret;
		memo_splice(r, 0, 0, 0);
		m->ks = fs;
		m->ke = fe;
		m->valid = m->n <= MEMO_MAX_CANDS;
		return 0;
	}
	if (fs < m->ks) {
		r->nrun = 0;
		if ((ret = scan_lines(r, text, fs, m->ks)))
			return ret;
		memo_splice(r, 0, 0, 0);
		m->ks = fs;
	}
	if (fe > m->ke) {
		r->nrun = 0;
		if ((ret = scan_lines(r, text, m->ke, fe)))
			return ret;
		memo_splice(r, m->n, m->n, 0);
		m->ke = fe;
	}
	return 0;
}

/* Writes text[*pos..) up to each of v[0..n) (offsets in text, in order),
 * and its placeholder; *pos ends past the last. Each candidate keeps its
 * number: the memo's are written again in later windows, and the map
 * would give the same number, after hashing the value. */
static void emit_run(struct redactor *r, const char *text, size_t ws,
		     struct cand *v, size_t n, size_t *pos, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		struct cand c = v[i];

		buf_add(out, text + *pos, c.start - *pos);
		*pos = c.end;
		c.start -= ws;
		c.end -= ws;
		v[i].num = emit(r, &c, text + ws, out);
	}
}

int redact_window(struct redactor *r, const char *text, size_t n, size_t ws,
		  size_t we, struct buf *out)
{
	struct memo *m = &r->memo;
	size_t fs, fe, pos = ws, i = 0, j = 0, nhead = 0;
	int ret;

	if (!r->line_local || we - ws > REDACT_CHUNK)
		goto plain;
	/* A first piece up to the first '\n' if ws starts no line, the
	 * whole lines, and a last piece if we ends none: the first and last
	 * are scanned (into wk), the lines come from the memo. */
	fs = ws == 0 || text[ws - 1] == '\n' ? ws : lt_line_end(text, we, ws);
	fe = we == n || text[we - 1] == '\n' ? we : lt_line_start(text, we);
	if (fe < fs)
		fe = fs;
	r->nrun = 0;
	if ((ret = scan_lines(r, text, ws, fs)) ||
	    (ret = scan_lines(r, text, fe, we)))
		goto unsafe;
	if (r->nrun) {
		XGROW(r->wk, r->nrun, r->wk_alloc);
		memcpy(r->wk, r->run, r->nrun * sizeof(*r->wk));
	}
	r->nwk = r->nrun;
	if (fs < fe) {
		if ((ret = memo_cover(r, text, fs, fe)))
			goto unsafe;
		i = memo_find(m, fs);
		j = memo_find(m, fe);
	}
	/* wk holds the first piece's candidates, then the last's. */
	while (nhead < r->nwk && r->wk[nhead].start < fs)
		nhead++;
	if (nhead)
		emit_run(r, text, ws, r->wk, nhead, &pos, out);
	if (j > i)
		emit_run(r, text, ws, m->c + i, j - i, &pos, out);
	if (r->nwk > nhead)
		emit_run(r, text, ws, r->wk + nhead, r->nwk - nhead, &pos, out);
	if (!m->valid)
		memo_drop(m);
	buf_add(out, text + pos, we - pos);
	r->doc_off += we - ws;
	return 0;
unsafe:
	memo_drop(m);
	if (ret < 0)
		return ret;
plain:
	return redact_text(r, text + ws, we - ws, out);
}

int redact_window_edit(struct redactor *r, const char *text, size_t n,
		       size_t lo, size_t ahi, size_t bhi)
{
	struct memo *m = &r->memo;
	int64_t delta = (int64_t)bhi - (int64_t)ahi;
	size_t l1, t2, t1;
	int ret;

	if (!m->valid)
		return 0;
	/* The lines the change touched: from the start of lo's line (the
	 * bytes before lo did not change) to past the first '\n' at or
	 * after the change's end (the bytes after it did not either). */
	l1 = lt_line_start(text, lo);
	t2 = lt_line_end(text, n, bhi);
	t1 = (size_t)((int64_t)t2 - delta);
	if (m->ke <= l1)
		return 0;
	if (t2 - l1 > REDACT_CHUNK) {
		memo_drop(m);	/* windows that big are not remembered */
		return 0;
	}
	if (m->ks >= t1) {
		r->nrun = 0;
		memo_splice(r, 0, 0, delta);
		m->ks = (size_t)((int64_t)m->ks + delta);
		m->ke = (size_t)((int64_t)m->ke + delta);
		return 0;
	}
	r->nrun = 0;
	if ((ret = scan_lines(r, text, l1, t2))) {
		memo_drop(m);
		return ret < 0 ? ret : 0;
	}
	memo_splice(r, memo_find(m, l1), memo_find(m, t1), delta);
	m->ks = m->ks < l1 ? m->ks : l1;
	m->ke = m->ke > t1 ? (size_t)((int64_t)m->ke + delta) : t2;
	if (!m->valid)
		memo_drop(m);
	return 0;
}
