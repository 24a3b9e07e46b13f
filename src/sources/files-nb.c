/*
 * The files source's notebooks: a save of a Jupyter notebook (nbformat 4)
 * as cell-level edit.op events (doc/files-source.md, "Notebooks").
 */
#include "files-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "text.h"
#include "xalloc.h"
#include "banned.h"

/*
 * NOTES ON THE CELL RECORD
 *
 * 1. The record holds, per notebook, a list of cells, each with an id
 *    (the part of its events), a source text, an outputs text and a meta
 *    text; and the notebook's metadata. Replaying a notebook's events in
 *    seq order from its baseline rebuilds them:
 *
 *      structural {"action":"add","index":i,"cell_type":t}, part id:
 *          insert a new cell at index i (0 <= i <= n): source "",
 *          outputs "[]", meta "{}".
 *      structural {"action":"delete","index":i}, part id:
 *          remove the cell at index i, whose id is part.
 *      structural {"action":"move","from":i,"to":j}, part id:
 *          take the cell at index i out and put it back so that it is
 *          at index j of the result (0 <= i, j < n).
 *      insert / delete / replace, part id:
 *          a text edit of that cell's source (text_apply()).
 *      snapshot, part id: that cell's source is text.
 *      snapshot, part "<id>/outputs": its outputs are text.
 *      snapshot, part "<id>/meta": its other members are text.
 *      snapshot, part "metadata": the notebook's metadata is text.
 *
 *    Indices count cells in the list as it is just before the op.
 *
 * 2. Texts of JSON values (outputs, meta, metadata) are compact JSON with
 *    object keys sorted, as jansson writes them with JSON_COMPACT |
 *    JSON_SORT_KEYS, so equal values give equal texts and a change is
 *    found by comparing texts. "<id>/meta" is the cell object without
 *    "id", "source" and "outputs" (cell_type, metadata, execution_count,
 *    attachments...): what else is needed to give the cell back.
 *
 * 3. A cell's id is its nbformat 4.5 "id". A cell without one gets a
 *    generated id: cell-<i>, i its index in the version where it is first
 *    seen, or cell-<i>-<k> with the smallest k >= 1 that is free. Without
 *    state (files_nb_diff), ids are generated from each version alone,
 *    so an id-less cell is known by its position. With state
 *    (files_nb_diff_ids), the ids the record gave the previous version
 *    are known and id-less cells are followed by content: a cell keeps
 *    its id when its source is unchanged (same type and text; the first
 *    free such cell, in order), then by position: the cells left between
 *    two such anchors are paired in order with the previous version's
 *    cells left between the same anchors, the most alike ones first.
 *
 * 4. Cells present in both versions keep their id; the others are
 *    deleted (from the last to the first, so each index is its index in
 *    the previous version) or added. The survivors are put in order with
 *    the fewest moves: those on a longest run already in order stay, each
 *    other one moves, in the new order, to just after the cell that now
 *    precedes it. Then new cells are added in order, each at its final
 *    index, followed by snapshots of its source (even empty), of its
 *    outputs unless "[]" and of its meta. Then each surviving cell's
 *    source edits (text_diff()), outputs snapshot and meta snapshot if
 *    changed, in the new order; then the metadata snapshot if changed.
 *
 * 5. e->since_snapshot counts the source edits since the notebook's last
 *    checkpoint: the baseline, or a save after which it reached
 *    e->snapshot_every, which ends with a snapshot of every cell's source.
 *    Structural ops and snapshots of outputs, meta or metadata neither
 *    count nor reset it (files_emit_op's own counting is overridden).
 *
 * 6. Same inputs, same events: nothing here depends on time, memory
 *    addresses or randomness.
 */

/*
 * Proposed for files-int.h: files_nb_diff() that knows the ids the record
 * gave the previous version's cells, so that cells without an id of their
 * own are followed by content rather than position (note 3). ids holds,
 * on entry, prev's cells' ids, each followed by '\n' (what the previous
 * call left there; if it does not fit prev, it is ignored) and on success
 * those of cur's cells. The caller keeps it with its copy of prev. On an
 * error from files_emit_op() the record may hold part of the save and ids
 * is left as it was.
 */
int files_nb_diff_ids(struct files_emit *e, const char *prev, size_t prevlen,
		      const char *cur, size_t curlen, struct buf *ids);

#define JFLAGS (JSON_COMPACT | JSON_SORT_KEYS)
/* Above this many pairs a gap is paired in order, without comparing. */
#define ALIGN_MAX_PAIRS 4096
/* How much of each end of two sources the likeness measure looks at. */
#define ALIKE_MAX 4096

struct cell {
	char *id;		/* the record's id */
	const char *fid;	/* the file's "id", or NULL */
	const char *type;	/* cell_type */
	struct buf src;		/* source, joined */
	char *outputs;		/* note 2; "[]" if the cell has none */
	char *meta;		/* note 2 */
	long match;		/* index of the same cell in the other version */
};

struct nb {
	json_t *root;
	struct cell *v;
	size_t n;
	char *metadata;		/* note 2 */
	json_t *ids;		/* the set of ids in use: keys of an object */
};

/* jansson reports allocation failure as NULL; like xmalloc, give up. */
static void *jcheck(void *p)
{
	if (!p) {
		fputs("labtape: out of memory\n", stderr);
		abort();
	}
	return p;
}

static json_t *jstr(const char *s, size_t n)
{
	return jcheck(json_stringn(s, n));
}

static char *dump(const json_t *v)
{
	return jcheck(json_dumps(v, JFLAGS));
}

static void nb_release(struct nb *nb)
{
	for (size_t i = 0; i < nb->n; i++) {
		free(nb->v[i].id);
		buf_release(&nb->v[i].src);
		free(nb->v[i].outputs);
		free(nb->v[i].meta);
	}
	free(nb->v);
	free(nb->metadata);
	json_decref(nb->ids);
	json_decref(nb->root);
	memset(nb, 0, sizeof(*nb));
}

/* nbformat 4.5: 1 to 64 of [a-zA-Z0-9-_]. */
static int id_ok(const char *s, size_t n)
{
	if (n < 1 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

static int parse_cell(json_t *cj, size_t i, struct cell *c)
{
	json_t *id = json_object_get(cj, "id");
	json_t *type = json_object_get(cj, "cell_type");
	json_t *src = json_object_get(cj, "source");
	json_t *outputs = json_object_get(cj, "outputs");
	json_t *meta, *line;
	size_t j;

	if (!json_is_object(cj))
		return lt_error(LT_EINVAL, "cell %zu is not an object", i);
	if (!json_is_string(type))
		return lt_error(LT_EINVAL, "cell %zu has no cell_type", i);
	c->type = json_string_value(type);
	if (id) {
		if (!json_is_string(id) ||
		    !id_ok(json_string_value(id), json_string_length(id)))
			return lt_error(LT_EINVAL, "cell %zu: its id is not 1 to "
					"64 of a-z, A-Z, 0-9, '-' and '_'", i);
		if (!strcmp(json_string_value(id), "metadata"))
			return lt_error(LT_EINVAL, "cell %zu: the id 'metadata' "
					"names the notebook's metadata", i);
		c->fid = json_string_value(id);
	}
	if (json_is_string(src)) {
		buf_add(&c->src, json_string_value(src), json_string_length(src));
	} else if (json_is_array(src)) {
		json_array_foreach(src, j, line) {
			if (!json_is_string(line))
				return lt_error(LT_EINVAL, "cell %zu: source line "
						"%zu is not a string", i, j);
			buf_add(&c->src, json_string_value(line),
				json_string_length(line));
		}
	} else {
		return lt_error(LT_EINVAL, "cell %zu: source is neither a string "
				"nor a list of strings", i);
	}
	if (outputs && !json_is_array(outputs))
		return lt_error(LT_EINVAL, "cell %zu: outputs is not a list", i);
	c->outputs = outputs ? dump(outputs) : xstrdup("[]");
	meta = jcheck(json_copy(cj));
	json_object_del(meta, "id");
	json_object_del(meta, "source");
	json_object_del(meta, "outputs");
	c->meta = dump(meta);
	json_decref(meta);
	return 0;
}

/* Parses an nbformat 4 notebook; LT_EINVAL (message set) if s is not one. */
static int nb_parse(const char *s, size_t len, struct nb *nb)
{
	json_error_t err;
	json_t *cells, *metadata, *fmt;
	int r;

	memset(nb, 0, sizeof(*nb));
	nb->ids = jcheck(json_object());
	nb->root = json_loadb(s, len, JSON_REJECT_DUPLICATES, &err);
	if (!nb->root)
		return lt_error(LT_EINVAL, "not an nbformat 4 notebook: line %d: "
				"%s", err.line, err.text);
	cells = json_object_get(nb->root, "cells");
	metadata = json_object_get(nb->root, "metadata");
	fmt = json_object_get(nb->root, "nbformat");
	if (!json_is_object(nb->root) || !json_is_integer(fmt) ||
	    json_integer_value(fmt) != 4 || !json_is_array(cells))
		return lt_error(LT_EINVAL, "not an nbformat 4 notebook (no "
				"\"nbformat\": 4, or no \"cells\" list)");
	if (metadata && !json_is_object(metadata))
		return lt_error(LT_EINVAL, "not an nbformat 4 notebook: its "
				"metadata is not an object");
	nb->metadata = metadata ? dump(metadata) : xstrdup("{}");
	nb->n = json_array_size(cells);
	nb->v = xcalloc(nb->n ? nb->n : 1, sizeof(*nb->v));
	for (size_t i = 0; i < nb->n; i++) {
		struct cell *c = &nb->v[i];
		buf_init(&c->src, 0);
		c->match = -1;
	}
	for (size_t i = 0; i < nb->n; i++) {
		struct cell *c = &nb->v[i];
		if ((r = parse_cell(json_array_get(cells, i), i, c)) < 0)
			return lt_error_wrap(r, "not an nbformat 4 notebook");
		if (c->fid && json_object_get(nb->ids, c->fid))
			return lt_error(LT_EINVAL, "not an nbformat 4 notebook: "
					"cells %zu and another share the id '%s'",
					i, c->fid);
		if (c->fid)
			json_object_set_new(nb->ids, c->fid, json_null());
	}
	return 0;
}

static int id_taken(const struct nb *a, const struct nb *b, const char *id)
{
	return json_object_get(a->ids, id) || (b && json_object_get(b->ids, id));
}

/* Gives cell i of nb the id it has in the file, or a generated one that
 * neither nb nor other (if given) uses (note 3). */
static void assign_id(struct nb *nb, size_t i, const struct nb *other)
{
	struct cell *c = &nb->v[i];
	char id[64];

	if (c->fid) {
		c->id = xstrdup(c->fid);
		return;
	}
	snprintf(id, sizeof(id), "cell-%zu", i);
	for (unsigned long k = 1; id_taken(nb, other, id); k++)
		snprintf(id, sizeof(id), "cell-%zu-%lu", i, k);
	c->id = xstrdup(id);
	json_object_set_new(nb->ids, id, json_null());
}

/*
 * Gives prev's cells the ids the record gave them, from ids: one per cell,
 * each followed by '\n', agreeing with the file's ids and unique. Returns
 * 1 if they were, else 0 with no cell given an id.
 */
static int prev_ids(struct nb *prev, const struct buf *ids)
{
	const char *p = ids->data, *end = ids->data + ids->len, *nl;
	size_t i;

	for (i = 0; i < prev->n; i++, p = nl + 1) {
		struct cell *c = &prev->v[i];
		size_t n;
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			break;
		n = (size_t)(nl - p);
		if (!id_ok(p, n) || (n == 8 && !memcmp(p, "metadata", 8)))
			break;
		if (c->fid ? strlen(c->fid) != n || memcmp(c->fid, p, n)
			   : json_object_getn(prev->ids, p, n) != NULL)
			break;
		c->id = xstrndup(p, n);
		if (!c->fid)
			json_object_set_new(prev->ids, c->id, json_null());
	}
	if (i == prev->n && p == end)
		return 1;
	while (i-- > 0) {
		if (!prev->v[i].fid)
			json_object_del(prev->ids, prev->v[i].id);
		free(prev->v[i].id);
		prev->v[i].id = NULL;
	}
	return 0;
}

/* A map from the ids of nb's cells to their indices. */
static json_t *id_map(const struct nb *nb)
{
	json_t *map = jcheck(json_object());

	for (size_t i = 0; i < nb->n; i++)
		json_object_set_new(map, nb->v[i].id,
				    jcheck(json_integer((json_int_t)i)));
	return map;
}

/* Matches each cell of cur whose id is known (id, or the file's id if
 * id is NULL) with prev's cell of that id. */
static void match_ids(struct nb *prev, struct nb *cur, int file_ids)
{
	json_t *map = id_map(prev);

	for (size_t j = 0; j < cur->n; j++) {
		struct cell *c = &cur->v[j];
		const char *id = file_ids ? c->fid : c->id;
		json_t *i = id ? json_object_get(map, id) : NULL;
		if (i) {
			c->match = (long)json_integer_value(i);
			prev->v[c->match].match = (long)j;
		}
	}
	json_decref(map);
}

/* How alike two sources are, 0 to 1: their common prefix and suffix. */
static double alike(const struct buf *a, const struct buf *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	size_t most = a->len > b->len ? a->len : b->len, pre = 0, suf = 0;
	size_t lim = n < ALIKE_MAX ? n : ALIKE_MAX;

	if (!most)
		return 1;
	while (pre < lim && a->data[pre] == b->data[pre])
		pre++;
	lim = n - pre < ALIKE_MAX ? n - pre : ALIKE_MAX;
	while (suf < lim && a->data[a->len - 1 - suf] == b->data[b->len - 1 - suf])
		suf++;
	return (double)(pre + suf) / (double)most;
}

/*
 * Pairs the previous version's cells pc[0..k) with the new one's cc[0..m)
 * in order (note 3): as many pairs as can be, and of those the most alike
 * (same type, then common ends). A plain alignment by dynamic
 * programming; gaps are small.
 */
static void align(struct nb *prev, const size_t *pc, size_t k, struct nb *cur,
		  const size_t *cc, size_t m)
{
	double *best;
	size_t i, j, w = m + 1;

	if (k * m > ALIGN_MAX_PAIRS) {
		for (i = 0; i < k && i < m; i++) {
			prev->v[pc[i]].match = (long)cc[i];
			cur->v[cc[i]].match = (long)pc[i];
		}
		return;
	}
	best = xcalloc((k + 1) * w, sizeof(*best));
	for (i = 1; i <= k; i++) {
		for (j = 1; j <= m; j++) {
			const struct cell *a = &prev->v[pc[i - 1]];
			const struct cell *b = &cur->v[cc[j - 1]];
			/* 4 per pair outweighs any likeness: most pairs first. */
			double s = 4 + !strcmp(a->type, b->type) +
				   alike(&a->src, &b->src);
			double v = best[(i - 1) * w + j - 1] + s;
			if (best[(i - 1) * w + j] > v)
				v = best[(i - 1) * w + j];
			if (best[i * w + j - 1] > v)
				v = best[i * w + j - 1];
			best[i * w + j] = v;
		}
	}
	for (i = k, j = m; i && j;) {
		if (best[i * w + j] == best[(i - 1) * w + j]) {
			i--;
		} else if (best[i * w + j] == best[i * w + j - 1]) {
			j--;
		} else {
			prev->v[pc[i - 1]].match = (long)cc[j - 1];
			cur->v[cc[j - 1]].match = (long)pc[i - 1];
			i--, j--;
		}
	}
	free(best);
}

/* Follows id-less cells by content (note 3), after the ids have matched. */
static void match_by_content(struct nb *prev, struct nb *cur)
{
	size_t *pc = xmalloc((prev->n + 1) * sizeof(*pc));
	size_t *cc = xmalloc((cur->n + 1) * sizeof(*cc));
	long lo = -1;

	/* Unchanged cells first. */
	for (size_t j = 0; j < cur->n; j++) {
		struct cell *b = &cur->v[j];
		if (b->fid || b->match >= 0)
			continue;
		for (size_t i = 0; i < prev->n; i++) {
			struct cell *a = &prev->v[i];
			if (a->match < 0 && !strcmp(a->type, b->type) &&
			    a->src.len == b->src.len &&
			    !memcmp(a->src.data, b->src.data, a->src.len)) {
				a->match = (long)j;
				b->match = (long)i;
				break;
			}
		}
	}
	/* Then each gap between matched cells, by position. */
	for (size_t j = 0; j < cur->n;) {
		size_t m = 0, k = 0;
		long hi = (long)prev->n;

		if (cur->v[j].match >= 0) {
			lo = cur->v[j++].match;
			continue;
		}
		for (; j < cur->n && cur->v[j].match < 0; j++) {
			if (!cur->v[j].fid)
				cc[m++] = j;
		}
		for (size_t i = 0; i < prev->n; i++) {
			long t = prev->v[i].match;
			if (t >= 0 && (long)i > lo && (long)i < hi)
				hi = (long)i;
		}
		for (long i = lo + 1; i < hi; i++) {
			if (prev->v[i].match < 0)
				pc[k++] = (size_t)i;
		}
		align(prev, pc, k, cur, cc, m);
	}
	free(pc);
	free(cc);
}

/* -- Emitting ----------------------------------------------------------- */

/* Emits data (consumed) as op on part; counts: a source edit (note 5). */
static int emit(struct files_emit *e, json_t *data, const char *op,
		const char *part, int counts)
{
	unsigned n = e->since_snapshot;
	int r;

	json_object_set_new(data, "op", jcheck(json_string(op)));
	json_object_set_new(data, "part", jcheck(json_string(part)));
	r = files_emit_op(e, data);
	e->since_snapshot = n + (counts && n < ~0u);
	return r;
}

static int emit_structural(struct files_emit *e, const char *part,
			   json_t *detail)
{
	json_t *data = jcheck(json_object());

	json_object_set_new(data, "detail", jcheck(detail));
	return emit(e, data, "structural", part, 0);
}

static int emit_snapshot(struct files_emit *e, const char *id,
			 const char *suffix, const char *text, size_t len)
{
	json_t *data = jcheck(json_object());
	char part[80];

	snprintf(part, sizeof(part), "%s%s", id, suffix);
	json_object_set_new(data, "text", jstr(text, len));
	return emit(e, data, "snapshot", part, 0);
}

static int emit_source_edits(struct files_emit *e, const struct cell *a,
			     const struct cell *b)
{
	struct text_edits edits = TEXT_EDITS_INIT;
	int r;

	if (a->src.len == b->src.len &&
	    !memcmp(a->src.data, b->src.data, a->src.len))
		return 0;
	if ((r = text_diff(a->src.data, a->src.len, b->src.data, b->src.len,
			   NULL, &edits)) < 0)
		return r;
	for (size_t i = 0; i < edits.n && r >= 0; i++) {
		const struct text_edit *t = &edits.v[i];
		json_t *data = jcheck(json_object());
		json_object_set_new(data, "pos", jcheck(json_integer(
						(json_int_t)t->pos)));
		if (t->op != TEXT_INSERT) {
			json_object_set_new(data, "len", jcheck(json_integer(
							(json_int_t)t->len)));
			json_object_set_new(data, "del", jstr(t->del, t->del_len));
		}
		if (t->op != TEXT_DELETE)
			json_object_set_new(data, "ins", jstr(t->ins, t->ins_len));
		r = emit(e, data, text_op_name(t->op), b->id, 1);
	}
	text_edits_release(&edits);
	return r;
}

/* An added cell: its add, then snapshots of what it holds (note 4). */
static int emit_add(struct files_emit *e, const struct cell *c, size_t index)
{
	int r;

	r = emit_structural(e, c->id, json_pack("{sssIss}", "action", "add",
						"index", (json_int_t)index,
						"cell_type", c->type));
	if (!r)
		r = emit_snapshot(e, c->id, "", c->src.data, c->src.len);
	if (!r && strcmp(c->outputs, "[]"))
		r = emit_snapshot(e, c->id, "/outputs", c->outputs,
				  strlen(c->outputs));
	if (!r)
		r = emit_snapshot(e, c->id, "/meta", c->meta, strlen(c->meta));
	return r;
}

/*
 * Longest increasing subsequence of s[0..k) (distinct values): sets
 * keep[s[j]] for the values on it. O(k log k).
 */
static void mark_lis(const size_t *s, size_t k, unsigned char *keep)
{
	size_t *tail = xmalloc((k + 1) * sizeof(*tail)); /* index into s */
	size_t *prev = xmalloc((k + 1) * sizeof(*prev));
	size_t len = 0;

	for (size_t j = 0; j < k; j++) {
		size_t lo = 0, hi = len;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (s[tail[mid]] < s[j])
				lo = mid + 1;
			else
				hi = mid;
		}
		prev[j] = lo ? tail[lo - 1] : SIZE_MAX;
		tail[lo] = j;
		if (lo == len)
			len++;
	}
	for (size_t j = len ? tail[len - 1] : SIZE_MAX; j != SIZE_MAX; j = prev[j])
		keep[s[j]] = 1;
	free(tail);
	free(prev);
}

static size_t index_of(const size_t *list, size_t n, size_t v)
{
	for (size_t i = 0; i < n; i++) {
		if (list[i] == v)
			return i;
	}
	return SIZE_MAX; /* not reached: v is always in the list */
}

/* The cell list's structural ops, from prev's cells to cur's (note 4). */
static int emit_structure(struct files_emit *e, const struct nb *prev,
			  const struct nb *cur)
{
	size_t *list = xmalloc((prev->n + 1) * sizeof(*list)), k = 0;
	unsigned char *keep = xcalloc(cur->n + 1, 1);
	long last = -1; /* the survivor last put in place, by index in cur */
	int r = 0;

	for (size_t i = prev->n; i-- > 0 && !r;) {
		if (prev->v[i].match < 0)
			r = emit_structural(e, prev->v[i].id,
					    json_pack("{sssI}", "action", "delete",
						      "index", (json_int_t)i));
	}
	/* list: the survivors, by their index in cur, in prev's order. */
	for (size_t i = 0; i < prev->n; i++) {
		if (prev->v[i].match >= 0)
			list[k++] = (size_t)prev->v[i].match;
	}
	mark_lis(list, k, keep);
	for (size_t j = 0; j < cur->n && !r; j++) {
		size_t from, to, after;
		if (cur->v[j].match < 0)
			continue;
		if (!keep[j]) {
			from = index_of(list, k, j);
			if (last < 0) {
				to = 0;
			} else {
				after = index_of(list, k, (size_t)last);
				to = from < after ? after : after + 1;
			}
			if (from != to) {
				r = emit_structural(e, cur->v[j].id, json_pack(
					"{sssIsI}", "action", "move",
					"from", (json_int_t)from,
					"to", (json_int_t)to));
				if (from < to)
					memmove(list + from, list + from + 1,
						(to - from) * sizeof(*list));
				else
					memmove(list + to + 1, list + to,
						(from - to) * sizeof(*list));
				list[to] = j;
			}
		}
		last = (long)j;
	}
	for (size_t j = 0; j < cur->n && !r; j++) {
		if (cur->v[j].match < 0)
			r = emit_add(e, &cur->v[j], j);
	}
	free(list);
	free(keep);
	return r;
}

static int emit_changes(struct files_emit *e, const struct nb *prev,
			const struct nb *cur)
{
	int r = 0;

	for (size_t j = 0; j < cur->n && !r; j++) {
		const struct cell *b = &cur->v[j], *a;
		if (b->match < 0)
			continue;
		a = &prev->v[b->match];
		r = emit_source_edits(e, a, b);
		if (!r && strcmp(a->outputs, b->outputs))
			r = emit_snapshot(e, b->id, "/outputs", b->outputs,
					  strlen(b->outputs));
		if (!r && strcmp(a->meta, b->meta))
			r = emit_snapshot(e, b->id, "/meta", b->meta,
					  strlen(b->meta));
	}
	if (!r && (!prev->metadata || strcmp(prev->metadata, cur->metadata)))
		r = emit_snapshot(e, "metadata", "", cur->metadata,
				  strlen(cur->metadata));
	return r;
}

/* The checkpoint (note 5): a snapshot of every cell's source. */
static int checkpoint(struct files_emit *e, const struct nb *nb)
{
	int r = 0;

	for (size_t j = 0; j < nb->n && !r; j++)
		r = emit_snapshot(e, nb->v[j].id, "", nb->v[j].src.data,
				  nb->v[j].src.len);
	if (!r)
		e->since_snapshot = 0;
	return r;
}

int files_nb_diff_ids(struct files_emit *e, const char *prev, size_t prevlen,
		      const char *cur, size_t curlen, struct buf *ids)
{
	struct nb a = { 0 }, b;
	int r;

	if ((r = nb_parse(cur, curlen, &b)) < 0)
		goto out;
	/* A previous version that is not a notebook is no help. */
	if (prev && nb_parse(prev, prevlen, &a) < 0) {
		nb_release(&a);
		prev = NULL;
	}
	if (prev && ids && prev_ids(&a, ids)) {
		/* The record's ids: follow id-less cells by content. */
		match_ids(&a, &b, 1);
		match_by_content(&a, &b);
		for (size_t j = 0; j < b.n; j++) {
			struct cell *c = &b.v[j];
			if (c->match >= 0 && !c->fid) {
				c->id = xstrdup(a.v[c->match].id);
				json_object_set_new(b.ids, c->id, json_null());
			}
		}
		for (size_t j = 0; j < b.n; j++) {
			if (!b.v[j].id)
				assign_id(&b, j, &a);
		}
	} else {
		/* Ids from each version alone; generated ones are positions. */
		for (size_t i = 0; i < a.n; i++)
			assign_id(&a, i, NULL);
		for (size_t j = 0; j < b.n; j++)
			assign_id(&b, j, NULL);
		match_ids(&a, &b, 0);
	}
	r = emit_structure(e, &a, &b);
	if (!r)
		r = emit_changes(e, &a, &b);
	if (!r && !prev)
		e->since_snapshot = 0;
	else if (!r && e->snapshot_every &&
		 e->since_snapshot >= e->snapshot_every)
		r = checkpoint(e, &b);
	if (!r && ids) {
		buf_reset(ids);
		for (size_t j = 0; j < b.n; j++) {
			buf_addstr(ids, b.v[j].id);
			buf_addch(ids, '\n');
		}
	}
	nb_release(&a);
out:
	nb_release(&b);
	return r;
}

int files_nb_diff(struct files_emit *e, const char *prev, size_t prevlen,
		  const char *cur, size_t curlen)
{
	return files_nb_diff_ids(e, prev, prevlen, cur, curlen, NULL);
}
