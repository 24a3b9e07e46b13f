/*
 * The consent registry over a chain log (chainlog.c). Entries are JSON:
 *
 *   {"op":"add","ref":R,"name":N,"scope":S,"since":T,"until":T,"note":X,"t":T}
 *   {"op":"revoke","ref":R,"t":T}
 *
 * and the registry is what folding them in order gives (doc/format.md 14.7).
 */
#include "consent.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "audit.h"
#include "chainlog.h"
#include "error.h"
#include "hex.h"
#include "ltime.h"
#include "xalloc.h"
#include "banned.h"

static const char *const scope_names[] = { NULL, "meetings", "screen", "all" };

int consent_scope_parse(const char *s, enum consent_scope *out)
{
	for (int i = 1; i <= 3; i++)
		if (!strcmp(s, scope_names[i])) {
			*out = (enum consent_scope)i;
			return 0;
		}
	return lt_error(LT_EINVAL, "unknown consent scope '%s' (use meetings, "
			"screen or all)", s);
}

const char *consent_scope_name(enum consent_scope s)
{
	return s >= 1 && s <= 3 ? scope_names[s] : "?";
}

static void time_str(int64_t t, char out[LT_TIME_MAX_LEN])
{
	lt_time_format(t, out);
}

/* Appends one registry entry (o is consumed). */
static int registry_append(struct vault *v, json_t *o)
{
	struct chainlog cl;
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	int r;

	json_decref(o);
	if (!text)
		return lt_error(LT_EINVAL, "a consent entry must be UTF-8 text");
	if (!(r = chain_open(&cl, v, &CHAIN_CONSENT, 1)) &&
	    !(r = chain_recover(&cl, NULL, NULL)))
		r = chain_append(&cl, text, strlen(text));
	chain_close(&cl);
	sodium_memzero(text, strlen(text));
	free(text);
	if (r)
		lt_error_wrap(r, "cannot write the consent registry");
	return r;
}

int consent_add(struct vault *v, const char *name, enum consent_scope scope,
		int64_t since, int64_t until, const char *note,
		struct consent_ref *out)
{
	char t[LT_TIME_MAX_LEN], s[LT_TIME_MAX_LEN], u[LT_TIME_MAX_LEN];
	uint8_t id[CONSENT_REF_LEN / 2];
	json_t *o, *d;
	int r;

	if (!name || !*name || strlen(name) > 1024)
		return lt_error(LT_EINVAL, "a consent needs a name (at most "
				"1024 bytes)");
	if (note && strlen(note) > 4096)
		return lt_error(LT_EINVAL, "the note is longer than 4096 bytes");
	if (scope < CONSENT_MEETINGS || scope > CONSENT_ALL)
		return lt_error(LT_EINVAL, "bad consent scope");
	if (until <= since)
		return lt_error(LT_EINVAL, "the consent would end before it "
				"starts (--until is in the past)");
	randombytes_buf(id, sizeof(id));
	lt_hex(id, sizeof(id), out->id);
	time_str(lt_now_ns(), t);
	time_str(since, s);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "op", "add", "ref",
		      out->id, "name", name, "scope", consent_scope_name(scope),
		      "since", s, "t", t);
	if (!o)
		return lt_error(LT_EINVAL, "the name must be UTF-8 text");
	d = json_pack("{s:s, s:s, s:s}", "ref", out->id, "scope",
		      consent_scope_name(scope), "since", s);
	if (until != INT64_MAX) {
		time_str(until, u);
		json_object_set_new(o, "until", json_string(u));
		json_object_set_new(d, "until", json_string(u));
	}
	if (note && *note) {
		json_t *n = json_string(note);
		if (!n) {
			json_decref(o);
			json_decref(d);
			return lt_error(LT_EINVAL, "the note must be UTF-8 text");
		}
		json_object_set_new(o, "note", n);
	}
	if (!(r = registry_append(v, o)))
		r = audit_append(v, AUDIT_CONSENT_ADD, d);
	json_decref(d);
	return r;
}

/* ---- reading: the registry as a list ------------------------------- */

struct entry {
	struct consent c;
	char ref[CONSENT_REF_LEN + 1];
	char *name, *note;
};

struct registry {
	struct entry *e;
	size_t n, alloc;
	const char *path;
	int bad;
};

static void registry_release(struct registry *g)
{
	for (size_t i = 0; i < g->n; i++) {
		sodium_memzero(g->e[i].name, strlen(g->e[i].name));
		free(g->e[i].name);
		free(g->e[i].note);
	}
	free(g->e);
}

static int time_member(json_t *o, const char *k, int64_t *out)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && !lt_time_parse_rfc3339(s, out);
}

static struct entry *find_ref(struct registry *g, const char *ref)
{
	for (size_t i = 0; i < g->n; i++)
		if (!strcmp(g->e[i].ref, ref))
			return &g->e[i];
	return NULL;
}

static int bad_entry(struct registry *g, const struct chain_entry *ce,
		     const char *why)
{
	g->bad = 1;
	return lt_error(LT_ECORRUPT, "%s: entry %llu at offset %llu: %s",
			g->path, (unsigned long long)ce->seq,
			(unsigned long long)ce->off, why);
}

static int fold(void *ctx, const struct chain_entry *ce, const char *text)
{
	struct registry *g = ctx;
	json_error_t jerr;
	json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	const char *op = json_string_value(json_object_get(o, "op"));
	const char *ref = json_string_value(json_object_get(o, "ref"));
	int64_t t;
	int r = 0;

	if (!op || !ref || strlen(ref) != CONSENT_REF_LEN ||
	    !time_member(o, "t", &t)) {
		r = bad_entry(g, ce, "not a consent entry");
	} else if (!strcmp(op, "add")) {
		const char *name = json_string_value(json_object_get(o, "name"));
		const char *sc = json_string_value(json_object_get(o, "scope"));
		const char *note = json_string_value(json_object_get(o, "note"));
		struct entry *e;
		enum consent_scope scope = CONSENT_ALL;
		int64_t since, until = INT64_MAX;

		if (!name || !sc || consent_scope_parse(sc, &scope) ||
		    !time_member(o, "since", &since) ||
		    (json_object_get(o, "until") &&
		     !time_member(o, "until", &until)) || find_ref(g, ref)) {
			r = bad_entry(g, ce, "a malformed or repeated consent");
			goto out;
		}
		if (g->n == g->alloc) {
			g->alloc = g->alloc ? 2 * g->alloc : 16;
			g->e = xrealloc(g->e, g->alloc * sizeof(*g->e));
		}
		e = &g->e[g->n++];
		memset(e, 0, sizeof(*e));
		snprintf(e->ref, sizeof(e->ref), "%s", ref);
		e->name = xstrdup(name);
		e->note = note ? xstrdup(note) : NULL;
		e->c.scope = scope;
		e->c.since = since;
		e->c.until = until;
	} else if (!strcmp(op, "revoke")) {
		struct entry *e = find_ref(g, ref);
		if (!e || e->c.revoked)
			r = bad_entry(g, ce, "revokes a consent that is not "
				      "there");
		else
			e->c.revoked = t;
	} else {
		r = bad_entry(g, ce, "an unknown operation");
	}
out:
	json_decref(o);
	return r;
}

static void quiet(void *ctx, int problem, const char *msg)
{
	(void)ctx;
	(void)problem;
	(void)msg;
}

/* Reads and checks the whole registry (an empty one if there is none). */
static int registry_load(struct vault *v, struct registry *g)
{
	struct chainlog cl;
	int r;

	memset(g, 0, sizeof(*g));
	if (!vault_is_unlocked(v))
		return lt_error(LT_EINVAL, "the consent registry can only be "
				"read with the vault unlocked");
	r = chain_open(&cl, v, &CHAIN_CONSENT, 0);
	if (r == LT_ENOENT) {
		chain_close(&cl);
		return 0;
	}
	g->path = cl.log_path.data;
	if (!r)
		r = chain_recover(&cl, NULL, NULL);
	/* Checked as a whole every time: a revocation removed from the
	 * middle would otherwise bring a consent back. */
	if (!r) {
		r = chain_walk(&cl, 1, quiet, NULL, fold, g);
		if (r == LT_ECORRUPT && !g->bad)
			r = lt_error(LT_ECORRUPT, "%s fails its checks (see "
				     "'labtape verify')", cl.log_path.data);
	}
	chain_close(&cl);
	g->path = NULL;
	for (size_t i = 0; i < g->n; i++) {
		g->e[i].c.ref = g->e[i].ref;
		g->e[i].c.name = g->e[i].name;
		g->e[i].c.note = g->e[i].note;
	}
	return r;
}

int consent_verify(struct vault *v, vault_report_fn *report, void *ctx)
{
	struct registry g;
	struct chainlog cl;
	struct buf m = BUF_INIT;
	int r, rr;

	memset(&g, 0, sizeof(g));
	if (!vault_is_unlocked(v))
		return lt_error(LT_EINVAL, "the vault must be unlocked to "
				"verify the consent registry");
	r = chain_open(&cl, v, &CHAIN_CONSENT, 0);
	if (r == LT_ENOENT) {
		chain_close(&cl);
		return 0;
	}
	g.path = cl.log_path.data;
	if (!r) {
		rr = chain_recover(&cl, report, ctx);
		if (rr && rr != LT_ECORRUPT)
			r = rr;
		else if (rr)
			buf_addstr(&m, lt_errmsg());
	}
	if (!r) {
		r = chain_walk(&cl, 1, report, ctx, fold, &g);
		if (g.bad && report)	/* fold stopped the walk: say why */
			report(ctx, 1, lt_errmsg());
		if (g.bad)
			r = LT_ECORRUPT;
	}
	if (!r && m.len) {
		if (report)
			report(ctx, 1, m.data);
		r = LT_ECORRUPT;
	}
	if ((!r || r == LT_ECORRUPT) && report) {
		buf_reset(&m);
		buf_addf(&m, "consent registry: %zu consents%s", g.n,
			 r ? "" : ", chain intact");
		report(ctx, 0, m.data);
	}
	chain_close(&cl);
	registry_release(&g);
	buf_release(&m);
	return r;
}

int consent_list(struct vault *v, consent_fn *fn, void *ctx)
{
	struct registry g;
	int r = registry_load(v, &g);

	for (size_t i = 0; !r && i < g.n; i++)
		r = fn(ctx, &g.e[i].c);
	registry_release(&g);
	return r;
}

/* A name as compared: words joined by one space, ASCII lower case. */
static void norm_name(const char *s, struct buf *out)
{
	buf_reset(out);
	for (; *s; s++) {
		if (isspace((unsigned char)*s)) {
			if (out->len && out->data[out->len - 1] != ' ')
				buf_addch(out, ' ');
			continue;
		}
		buf_addch(out, tolower((unsigned char)*s));
	}
	if (out->len && out->data[out->len - 1] == ' ')
		buf_setlen(out, out->len - 1);
}

static int same_name(const char *a, const char *b)
{
	struct buf x = BUF_INIT, y = BUF_INIT;
	int r;

	norm_name(a, &x);
	norm_name(b, &y);
	r = x.len == y.len && !memcmp(x.data, y.data, x.len);
	buf_release(&x);
	buf_release(&y);
	return r;
}

int consent_active(const struct consent *c, enum consent_scope scope,
		   int64_t now)
{
	return !c->revoked && c->since <= now && now < c->until &&
	       ((unsigned)c->scope & (unsigned)scope) == (unsigned)scope;
}

int consent_check(struct vault *v, const char *name, enum consent_scope scope,
		  int64_t now, struct consent_ref *out)
{
	struct registry g;
	int r = registry_load(v, &g), found = 0;

	for (size_t i = 0; !r && i < g.n; i++)
		if (same_name(g.e[i].name, name) &&
		    consent_active(&g.e[i].c, scope, now)) {
			found = 1;
			if (out)
				snprintf(out->id, sizeof(out->id), "%s",
					 g.e[i].ref);
		}
	registry_release(&g);
	return r ? r : found;
}

int consent_revoke(struct vault *v, const char *name, int64_t now,
		   unsigned *n)
{
	struct registry g;
	char t[LT_TIME_MAX_LEN];
	int r = registry_load(v, &g);

	*n = 0;
	time_str(now, t);
	for (size_t i = 0; !r && i < g.n; i++) {
		json_t *d;
		if (g.e[i].c.revoked || !same_name(g.e[i].name, name))
			continue;
		r = registry_append(v, json_pack("{s:s, s:s, s:s}", "op",
						 "revoke", "ref", g.e[i].ref,
						 "t", t));
		if (r)
			break;
		(*n)++;
		d = json_pack("{s:s, s:s}", "ref", g.e[i].ref, "scope",
			      consent_scope_name(g.e[i].c.scope));
		r = audit_append(v, AUDIT_CONSENT_REVOKE, d);
		json_decref(d);
	}
	registry_release(&g);
	if (!r && !*n)
		r = lt_error(LT_ENOENT, "no consent of '%s' to revoke (see "
			     "'labtape consent list')", name);
	return r;
}
