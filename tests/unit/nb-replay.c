#include "nb-replay.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "xalloc.h"
#include "banned.h"

#define JFLAGS (JSON_COMPACT | JSON_SORT_KEYS)

static char why_buf[512];

static int fail(const char **why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(const char **why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why_buf, sizeof(why_buf), fmt, ap);
	va_end(ap);
	*why = why_buf;
	return -1;
}

static void cell_release(struct nbr_cell *c)
{
	free(c->id);
	buf_release(&c->src);
	free(c->outputs);
	free(c->meta);
}

void nbr_release(struct nbr *nb)
{
	for (size_t i = 0; i < nb->n; i++)
		cell_release(&nb->v[i]);
	free(nb->v);
	free(nb->metadata);
	memset(nb, 0, sizeof(*nb));
}

static long find(const struct nbr *nb, const char *id, size_t n)
{
	for (size_t i = 0; i < nb->n; i++) {
		if (strlen(nb->v[i].id) == n && !memcmp(nb->v[i].id, id, n))
			return (long)i;
	}
	return -1;
}

/* An integer member in [0, max], or -1. */
static long index_in(const json_t *o, const char *key, size_t max)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return -1;
	return (long)json_integer_value(v);
}

static void set(char **dst, const char *s)
{
	free(*dst);
	*dst = xstrdup(s);
}

static int structural(struct nbr *nb, const json_t *d, const char *part,
		      const char **why)
{
	const json_t *detail = json_object_get(d, "detail");
	const char *action = json_string_value(json_object_get(detail, "action"));
	long at, from, to;

	if (!action)
		return fail(why, "structural op without an action");
	if (!strcmp(action, "add")) {
		if ((at = index_in(detail, "index", nb->n)) < 0)
			return fail(why, "add: bad index");
		if (find(nb, part, strlen(part)) >= 0)
			return fail(why, "add: '%s' exists", part);
		if (!json_is_string(json_object_get(detail, "cell_type")))
			return fail(why, "add: no cell_type");
		XGROW(nb->v, nb->n + 1, nb->alloc);
		memmove(nb->v + at + 1, nb->v + at,
			(nb->n - (size_t)at) * sizeof(*nb->v));
		nb->v[at].id = xstrdup(part);
		buf_init(&nb->v[at].src, 0);
		nb->v[at].outputs = xstrdup("[]");
		nb->v[at].meta = xstrdup("{}");
		nb->n++;
		return 0;
	}
	if (!nb->n)
		return fail(why, "%s in an empty list", action);
	if (!strcmp(action, "delete")) {
		if ((at = index_in(detail, "index", nb->n - 1)) < 0)
			return fail(why, "delete: bad index");
		if (strcmp(nb->v[at].id, part))
			return fail(why, "delete: %ld is '%s', not '%s'", at,
				    nb->v[at].id, part);
		cell_release(&nb->v[at]);
		memmove(nb->v + at, nb->v + at + 1,
			(nb->n - (size_t)at - 1) * sizeof(*nb->v));
		nb->n--;
		return 0;
	}
	if (!strcmp(action, "move")) {
		struct nbr_cell c;
		from = index_in(detail, "from", nb->n - 1);
		to = index_in(detail, "to", nb->n - 1);
		if (from < 0 || to < 0 || from == to)
			return fail(why, "move: bad indices");
		if (strcmp(nb->v[from].id, part))
			return fail(why, "move: %ld is '%s', not '%s'", from,
				    nb->v[from].id, part);
		c = nb->v[from];
		memmove(nb->v + from, nb->v + from + 1,
			(nb->n - (size_t)from - 1) * sizeof(*nb->v));
		memmove(nb->v + to + 1, nb->v + to,
			(nb->n - 1 - (size_t)to) * sizeof(*nb->v));
		nb->v[to] = c;
		return 0;
	}
	return fail(why, "unknown action '%s'", action);
}

static int snapshot(struct nbr *nb, const json_t *d, const char *part,
		    const char **why)
{
	const json_t *t = json_object_get(d, "text");
	const char *text = json_string_value(t), *slash;
	long i;

	if (!text)
		return fail(why, "snapshot without text");
	if (!strcmp(part, "metadata")) {
		set(&nb->metadata, text);
		return 0;
	}
	slash = strchr(part, '/');
	i = find(nb, part, slash ? (size_t)(slash - part) : strlen(part));
	if (i < 0)
		return fail(why, "snapshot of '%s', which is not there", part);
	if (!slash) {
		buf_reset(&nb->v[i].src);
		buf_add(&nb->v[i].src, text, json_string_length(t));
	} else if (!strcmp(slash, "/outputs")) {
		set(&nb->v[i].outputs, text);
	} else if (!strcmp(slash, "/meta")) {
		set(&nb->v[i].meta, text);
	} else {
		return fail(why, "unknown part '%s'", part);
	}
	return 0;
}

static int text_edit(struct nbr *nb, const json_t *d, const char *op,
		     const char *part, const char **why)
{
	const json_t *ins = json_object_get(d, "ins");
	const json_t *del = json_object_get(d, "del");
	struct text_edit te = { 0 };
	long i = find(nb, part, strlen(part));

	if (i < 0)
		return fail(why, "%s in '%s', which is not there", op, part);
	if (!strcmp(op, "insert"))
		te.op = TEXT_INSERT;
	else if (!strcmp(op, "delete"))
		te.op = TEXT_DELETE;
	else if (!strcmp(op, "replace"))
		te.op = TEXT_REPLACE;
	else
		return fail(why, "unknown op '%s'", op);
	if ((te.op != TEXT_DELETE) != (ins != NULL) ||
	    (te.op != TEXT_INSERT) != (del != NULL) ||
	    !json_is_integer(json_object_get(d, "pos")) ||
	    (te.op != TEXT_INSERT && !json_is_integer(json_object_get(d, "len"))))
		return fail(why, "%s with the wrong fields", op);
	te.pos = (uint64_t)json_integer_value(json_object_get(d, "pos"));
	te.len = te.op == TEXT_INSERT ? 0 :
		 (uint64_t)json_integer_value(json_object_get(d, "len"));
	te.ins = ins ? json_string_value(ins) : "";
	te.ins_len = ins ? json_string_length(ins) : 0;
	te.del = del ? json_string_value(del) : "";
	te.del_len = del ? json_string_length(del) : 0;
	if (text_apply(&nb->v[i].src, &te))
		return fail(why, "%s does not apply to '%s'", op, part);
	return 0;
}

int nbr_apply(struct nbr *nb, const json_t *d, const char **why)
{
	const char *op = json_string_value(json_object_get(d, "op"));
	const char *part = json_string_value(json_object_get(d, "part"));

	if (!op || !part)
		return fail(why, "an op without op or part");
	if (!strcmp(op, "structural"))
		return structural(nb, d, part, why);
	if (!strcmp(op, "snapshot"))
		return snapshot(nb, d, part, why);
	return text_edit(nb, d, op, part, why);
}

static int same_dump(const json_t *v, const char *want, const char *fallback)
{
	char *s = v ? json_dumps(v, JFLAGS) : xstrdup(fallback);
	int same = s && want && !strcmp(s, want);

	free(s);
	return same;
}

int nbr_check(const struct nbr *nb, const char *s, size_t n, const char **why)
{
	json_t *root = json_loadb(s, n, JSON_REJECT_DUPLICATES, NULL);
	json_t *cells = json_object_get(root, "cells"), *cell;
	struct buf src = BUF_INIT;
	int r = 0;
	size_t i;

	if (!root)
		return fail(why, "the notebook does not parse");
	if (json_array_size(cells) != nb->n) {
		r = fail(why, "%zu cells, replayed %zu", json_array_size(cells),
			 nb->n);
		goto out;
	}
	json_array_foreach(cells, i, cell) {
		const json_t *sj = json_object_get(cell, "source"), *line;
		const json_t *id = json_object_get(cell, "id");
		json_t *meta;
		size_t j;

		buf_reset(&src);
		if (json_is_string(sj)) {
			buf_add(&src, json_string_value(sj), json_string_length(sj));
		} else {
			json_array_foreach(sj, j, line)
				buf_add(&src, json_string_value(line),
					json_string_length(line));
		}
		if (src.len != nb->v[i].src.len ||
		    memcmp(src.data, nb->v[i].src.data, src.len)) {
			r = fail(why, "cell %zu: source differs", i);
			goto out;
		}
		if (id && strcmp(json_string_value(id), nb->v[i].id)) {
			r = fail(why, "cell %zu: id '%s', replayed '%s'", i,
				 json_string_value(id), nb->v[i].id);
			goto out;
		}
		if (!same_dump(json_object_get(cell, "outputs"),
			       nb->v[i].outputs, "[]")) {
			r = fail(why, "cell %zu: outputs differ", i);
			goto out;
		}
		meta = json_copy(cell);
		json_object_del(meta, "id");
		json_object_del(meta, "source");
		json_object_del(meta, "outputs");
		if (!same_dump(meta, nb->v[i].meta, NULL))
			r = fail(why, "cell %zu: meta differs", i);
		json_decref(meta);
		if (r)
			goto out;
	}
	if (!same_dump(json_object_get(root, "metadata"), nb->metadata, "{}"))
		r = fail(why, "metadata differs");
out:
	buf_release(&src);
	json_decref(root);
	return r;
}
