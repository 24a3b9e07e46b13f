/*
 * The recorder's side of the exclusions (src/privacy/filter.h): the rules
 * are read once at start, every event a source emits or a plugin sends is
 * checked before it is encoded, and `status` lists today's counts.
 *
 * Whether the rules changed since the recorder last ran on this vault is
 * known from a fingerprint of them kept in the cache
 * ($XDG_CACHE_HOME/labtape/exclusions/VAULT_ID): a hash of the canonical
 * rules, which says nothing of what they are.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "error.h"
#include "fileio.h"
#include "hex.h"
#include "ltime.h"
#include "recorder-int.h"
#include "xalloc.h"
#include "banned.h"

/*
 * The exclusion rules in force are not those of the last run on this
 * vault (or no run left a fingerprint): an "exclusion.change" action for
 * the audit log. was is the previous fingerprint or NULL, now the new one
 * (32 hex digits each); nrules counts the rules, the defaults included.
 */
static int note_exclusion_change(struct recorder *rec, const char *was,
				 const char *now, size_t nrules)
{
	struct buf rules = BUF_INIT;
	json_t *d;
	int r;

	rec_log(rec, "exclusion rules %s: %zu rules (fingerprint %s)",
		was ? "changed" : "in force", nrules, now);
	/* The log is encrypted: the rules themselves may go in it. */
	filter_describe(rec->filter, &rules);
	d = json_pack("{s:o, s:s, s:I, s:s#, s:o}",
		      "was", was ? json_stringn(was, 32) : json_null(),
		      "now", now, "rules", (json_int_t)nrules,
		      "text", rules.data, (int)rules.len,
		      "config", rec->o->cfg->path ? json_string(rec->o->cfg->path)
						  : json_null());
	r = audit_append(rec->v, AUDIT_EXCLUSION_CHANGE, d);
	if (r)
		rec_log(rec, "exclusion change not in the audit log: %s",
			lt_errmsg());
	json_decref(d);
	buf_release(&rules);
	return r;
}

static void fingerprint(const struct filter *f, char hex[33])
{
	struct buf d = BUF_INIT;
	uint8_t h[16];

	filter_describe(f, &d);
	crypto_generichash(h, sizeof(h), (const uint8_t *)d.data, d.len,
			   NULL, 0);
	lt_hex(h, sizeof(h), hex);
	buf_release(&d);
}

/* Compares the rules with the fingerprint the last run left. A cache that
 * cannot be written only costs a repeated note at the next start. */
static void check_change(struct recorder *rec)
{
	struct buf path = BUF_INIT, dir = BUF_INIT, old = BUF_INIT;
	char now[33];
	int had;

	fingerprint(rec->filter, now);
	config_cache_dir(&dir);
	buf_addstr(&dir, "/exclusions");
	buf_addf(&path, "%s/%s", dir.data, vault_id_hex(rec->v));
	had = lt_read_file(path.data, 64, &old) == 0 && old.len == 32;
	if (!had || memcmp(old.data, now, 32)) {
		/* Not audited: the old fingerprint stays, to try again at
		 * the next start. */
		if (!note_exclusion_change(rec, had ? old.data : NULL, now,
					   filter_rules(rec->filter)) &&
		    (lt_mkdirs_nosync(dir.data, 0700) ||
		     lt_write_file_atomic(path.data, now, 32, 0600, 0)))
			rec_log(rec, "cannot keep the exclusions' fingerprint: "
				"%s", lt_errmsg());
	}
	buf_release(&path);
	buf_release(&dir);
	buf_release(&old);
}

int rec_filter_load(struct recorder *rec)
{
	int r;

	rec->filter = filter_new();
	if ((r = filter_load(rec->filter, rec->o->cfg->path)))
		return r;
	check_change(rec);
	return 0;
}

int rec_excluded(struct recorder *rec, const char *source, int64_t t,
		 const struct source_about *a)
{
	struct filter_event e = { source, NULL, NULL, NULL, t };

	if (!rec->filter)
		return 0;
	if (a) {
		e.app = a->app;
		e.title = a->title;
		e.path = a->path;
		if (a->path && a->path[0] != '/' && a->dir) {
			buf_reset(&rec->about_path);
			buf_addf(&rec->about_path, "%s/%s", a->dir, a->path);
			e.path = rec->about_path.data;
		}
	}
	return filter_check(rec->filter, &e, NULL) == FILTER_EXCLUDE;
}

json_t *rec_exclusions_json(struct recorder *rec)
{
	json_t *a = json_array();
	struct filter_count *c;
	size_t n;

	if (!rec->filter)
		return a;
	n = filter_counts(rec->filter, &c);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "rule",
				      c[i].rule, "count", (json_int_t)c[i].count,
				      "match_limit", (json_int_t)c[i].limit_hits));
	free(c);
	return a;
}
