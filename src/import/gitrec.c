/*
 * Reading back what a git import left in the vault (gitrec.h).
 *
 * NOTES
 *
 *  1. The ledger (import.unit events) is small: one entry per commit.
 *     Its "after" links make a forest; a commit's chain is its path to
 *     the root of its tree. A link to a commit that is not in the ledger
 *     (a vault where part of the history was forgotten) ends the chain
 *     there, as does a loop, which a sound ledger cannot have.
 *  2. gitrec_files() reads every edit.op and fs.blob of the stream: the
 *     vault has no index by document. It keeps, per document, only the
 *     last event on the chain, ordered by (rank, seq): rank orders the
 *     commits, seq the events of one commit.
 */
#include "gitrec.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "error.h"
#include "events.h"
#include "xalloc.h"
#include "banned.h"

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int add_unit(struct gitrec *g, const struct vault_record *rec)
{
	json_t *d = NULL;
	const char *id, *after;
	struct strmap_ent *e;
	int r;

	if ((r = ev_decode(ev_kind_find("import.unit"), rec->payload, rec->len,
			   &d)) < 0)
		return r;
	id = jstr(d, "unit");
	after = jstr(d, "after");
	if (!id) {
		json_decref(d);
		return lt_error(LT_ECORRUPT, "an import.unit event without a "
				"unit");
	}
	e = strmap_put(&g->ids, id);
	if (!e->val) {
		XGROW(g->u, g->n + 1, g->alloc);
		g->u[g->n].id = xstrdup(id);
		g->u[g->n].after = after ? xstrdup(after) : NULL;
		g->u[g->n].t = rec->t;
		g->u[g->n].tip = 1;
		e->val = (void *)(uintptr_t)(++g->n);
	}
	json_decref(d);
	return 0;
}

int gitrec_load(struct gitrec *g, struct vault *v, const char *stream)
{
	struct vault_query q = VAULT_QUERY_INIT;
	struct vault_iter *it;
	struct vault_record rec;
	int r;

	q.stream = stream;
	q.kind = "import.unit";
	if ((r = vault_iter_open(&it, v, &q)) < 0)
		return r;
	while ((r = vault_iter_next(it, &rec)) == 1)
		if ((r = add_unit(g, &rec)) < 0)
			break;
	vault_iter_free(it);
	if (r < 0)
		return lt_error(r, "cannot read the commits imported into "
				"'%s': %s", stream, lt_errmsg());
	for (size_t i = 0; i < g->n; i++) {
		struct strmap_ent *e = g->u[i].after ?
			strmap_get(&g->ids, g->u[i].after) : NULL;
		if (e)
			g->u[(uintptr_t)e->val - 1].tip = 0;
	}
	return 0;
}

void gitrec_release(struct gitrec *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->u[i].id);
		free(g->u[i].after);
	}
	free(g->u);
	strmap_release(&g->ids);
	memset(g, 0, sizeof(*g));
}

int gitrec_find(const struct gitrec *g, const char *rev, size_t *idx)
{
	size_t n = strlen(rev), found = SIZE_MAX;
	struct strmap_ent *e;

	if ((e = strmap_get(&g->ids, rev))) {
		*idx = (uintptr_t)e->val - 1;
		return 0;
	}
	if (n < 4 || n > 40 || strspn(rev, "0123456789abcdefABCDEF") != n)
		return lt_error(LT_EINVAL, "'%.64s' is not a commit id (give "
				"at least 4 of its hex digits)", rev);
	for (size_t i = 0; i < g->n; i++) {
		if (strncasecmp(g->u[i].id, rev, n))
			continue;
		if (found != SIZE_MAX)
			return lt_error(LT_EINVAL, "commit '%s' is ambiguous: "
					"%s and %s both start so (give more "
					"digits)", rev, g->u[found].id,
					g->u[i].id);
		found = i;
	}
	if (found == SIZE_MAX)
		return lt_error(LT_ENOENT, "commit '%s' was not imported", rev);
	*idx = found;
	return 0;
}

int gitrec_head(const struct gitrec *g, size_t *idx)
{
	size_t best = SIZE_MAX;

	for (size_t i = 0; i < g->n; i++)
		if (g->u[i].tip && (best == SIZE_MAX || g->u[i].t >= g->u[best].t))
			best = i;
	if (best == SIZE_MAX)
		return lt_error(LT_ENOENT, "no commit was imported");
	*idx = best;
	return 0;
}

size_t gitrec_chain(const struct gitrec *g, size_t idx, struct strmap *chain)
{
	size_t *line = NULL, n = 0, alloc = 0;

	/* Back to the start (note 1), then ranked from there. */
	for (;;) {
		struct strmap_ent *e;
		if (strmap_get(chain, g->u[idx].id))
			break;		/* a loop */
		strmap_put(chain, g->u[idx].id);
		XGROW(line, n + 1, alloc);
		line[n++] = idx;
		if (!g->u[idx].after ||
		    !(e = strmap_get(&g->ids, g->u[idx].after)))
			break;
		idx = (uintptr_t)e->val - 1;
	}
	for (size_t i = 0; i < n; i++)
		strmap_get(chain, g->u[line[i]].id)->val =
			(void *)(uintptr_t)(n - i);
	free(line);
	return n;
}

uint64_t gitrec_rank(const struct strmap *chain, const char *group)
{
	struct strmap_ent *e = group ? strmap_get(chain, group) : NULL;

	return e ? (uint64_t)(uintptr_t)e->val : 0;
}

static void file_event(struct gitrec_files *f, const struct strmap *chain,
		       const json_t *d)
{
	const char *doc = jstr(d, "doc"), *group = jstr(d, "group");
	const char *path = jstr(d, "path"), *op = jstr(d, "op");
	const json_t *detail = json_object_get(d, "detail");
	const char *action = jstr(detail, "action");
	uint64_t rank = gitrec_rank(chain, group), seq;
	struct gitrec_file *x;
	struct strmap_ent *e;

	if (!doc || !rank || !json_is_integer(json_object_get(d, "seq")))
		return;
	seq = (uint64_t)json_integer_value(json_object_get(d, "seq"));
	e = strmap_put(&f->index, doc);
	if (!e->val) {
		XGROW(f->v, f->n + 1, f->alloc);
		x = &f->v[f->n];
		memset(x, 0, sizeof(*x));
		x->doc = xstrdup(doc);
		e->val = (void *)(uintptr_t)(++f->n);
	} else {
		x = &f->v[(uintptr_t)e->val - 1];
		if (rank < x->rank || (rank == x->rank && seq < x->seq))
			return;
	}
	x->rank = rank;
	x->seq = seq;
	x->gone = 0;
	if (op && !strcmp(op, "structural") && action) {
		if (!strcmp(action, "rename") && jstr(detail, "to"))
			path = jstr(detail, "to");
		else if (!strcmp(action, "delete"))
			x->gone = 1;
	}
	free(x->path);
	x->path = xstrdup(path ? path : "");
	free(x->group);
	x->group = xstrdup(group);
}

static int read_kind(struct vault *v, const char *stream, const char *kind,
		     const struct strmap *chain, struct gitrec_files *out)
{
	const struct ev_kind *k = ev_kind_find(kind);
	struct vault_query q = VAULT_QUERY_INIT;
	struct vault_iter *it;
	struct vault_record rec;
	int r;

	q.stream = stream;
	q.kind = kind;
	if ((r = vault_iter_open(&it, v, &q)) < 0)
		return r;
	while ((r = vault_iter_next(it, &rec)) == 1) {
		json_t *d = NULL;
		if ((r = ev_decode(k, rec.payload, rec.len, &d)) < 0)
			break;
		file_event(out, chain, d);
		json_decref(d);
	}
	vault_iter_free(it);
	return r;
}

int gitrec_files(struct vault *v, const char *stream,
		 const struct strmap *chain, struct gitrec_files *out)
{
	int r;

	if ((r = read_kind(v, stream, "edit.op", chain, out)) < 0 ||
	    (r = read_kind(v, stream, "fs.blob", chain, out)) < 0)
		return lt_error(r, "cannot read the files imported into '%s': "
				"%s", stream, lt_errmsg());
	return 0;
}

void gitrec_files_release(struct gitrec_files *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].doc);
		free(f->v[i].path);
		free(f->v[i].group);
	}
	free(f->v);
	strmap_release(&f->index);
	memset(f, 0, sizeof(*f));
}
