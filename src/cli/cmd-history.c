/*
 * labtape history PATH: the recorded versions of one file, rebuilt from the
 * events the files source wrote (doc/files-source.md is the contract).
 *
 * Outline:
 *
 *  1. PATH becomes an absolute path; the streams fs:<root> whose root
 *     holds it are tried innermost first (find_doc).
 *  2. A first pass over such a stream sums up every document in it: the
 *     path it has last, and whether and when it had PATH. The rule that
 *     picks one document is in pick_doc().
 *  3. A second pass loads that document's events (edit.op, fs.blob),
 *     which are put in seq order and cut into versions, one per save
 *     (the events of one group).
 *  4. A version is rebuilt by a small state machine (struct state) fed
 *     the events from the last one that sets the whole content (a text
 *     snapshot, a blob, a delete) up to the version's end: text through
 *     text_replay (a piece table), notebooks cell by cell, blobs from
 *     their chunks (a third pass, for fs.chunk).
 *  5. A document imported from git (git:NAME:PATH, gitimport.c) is found
 *     through the ledger instead (git_find_doc): the commit's line of
 *     history (gitrec_chain) orders its events by commit, then seq, and
 *     only events on that line count. Steps 3 and 4 are the same.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "error.h"
#include "events.h"
#include "gitrec.h"
#include "ltime.h"
#include "nbjson.h"
#include "text.h"
#include "xalloc.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape history PATH [--list] [--version N | --at TIME] [--ops]\n"
	"                       [--doc ID] [--vault DIR] [--passphrase-file FILE]\n"
	"       labtape history git:NAME:PATH [--rev COMMIT] [--list | --ops]\n"
	"\n"
	"Shows what was recorded of one file in a watched folder: every saved\n"
	"version, any version byte for byte, or the edits between them.\n"
	"\n"
	"  --list          one line per version (the default): its number, time\n"
	"                  (RFC 3339, usable with --at), size in bytes, number\n"
	"                  of recorded operations, and notes: 'snapshot' (a\n"
	"                  full copy was recorded), 'renamed from OLD',\n"
	"                  'deleted', 'binary', 'notebook'\n"
	"  --version N     prints version N exactly as it was saved\n"
	"  --at TIME       prints the version current at TIME (RFC 3339, a date,\n"
	"                  or a time ago: 10m, 2h, 3d)\n"
	"  --ops           prints the recorded operations as canonical JSON lines\n"
	"                  (those of one version with --version or --at)\n"
	"  --doc ID        the document (file:...) to show when several files\n"
	"                  have had PATH; --list names them\n"
	"\n"
	"PATH is relative to the current folder, or absolute, and may name a\n"
	"file that no longer exists. It is looked up in the innermost watched\n"
	"folder that recorded it. A file answers to the path it has now with\n"
	"its whole history, renames included; an old path it was renamed from\n"
	"shows the versions saved under that path (numbered as in the whole\n"
	"history). If several files have had PATH, the one that has it last\n"
	"wins: the file there now, else the one deleted last.\n"
	"\n"
	"Notebooks (.ipynb) are recorded cell by cell and rebuilt as JSON,\n"
	"written the way nbformat writes them (one-space indents, sorted keys,\n"
	"sources split in lines), so a notebook that Jupyter or nbformat saved\n"
	"comes back byte for byte; one saved by another tool comes back with\n"
	"the same cells, outputs and metadata, but not the same bytes.\n"
	"\n"
	"Files imported from git ('labtape import git') are named git:NAME:PATH,\n"
	"NAME the repository's folder and PATH the file's path at the commit:\n"
	"\n"
	"  --rev COMMIT    prints the file as COMMIT (a full or abbreviated id of\n"
	"                  an imported commit) left it, byte for byte as 'git\n"
	"                  show COMMIT:PATH'; with --list, its versions up to\n"
	"                  COMMIT (one per commit that changed it); with --ops,\n"
	"                  the edits of the last of them. Without --rev: the\n"
	"                  last commit imported.\n";

/* ---- The record of one document --------------------------------------- */

enum hev_type {
	H_SNAP,		/* the whole text of a plain file */
	H_EDIT,		/* insert, delete or replace in a plain file */
	H_CELL,		/* anything in a notebook: cells, outputs, metadata */
	H_RENAME,
	H_GONE,		/* the file was deleted */
	H_BLOB,		/* fs.blob: the whole file as chunks */
	H_OTHER,	/* style, comment: no change of content */
};

struct hev {
	int64_t t;
	const char *kind;	/* "edit.op" or "fs.blob" */
	json_t *data;
	uint64_t seq;
	size_t order;		/* arrival, to sort stably */
	uint64_t rank;		/* git: the commit's place on its line */
	enum hev_type type;
	const char *path;	/* never NULL */
	const char *group;	/* may be NULL */
	const char *part;	/* may be NULL */
	struct text_edit e;	/* for H_EDIT and notebook edits */
	int is_edit;		/* e is filled in */
};

enum {
	V_SNAPSHOT = 1,
	V_RENAMED = 2,
	V_DELETED = 4,
	V_BLOB = 8,
	V_NOTEBOOK = 16,
};

struct version {
	size_t first, end;	/* its events: ev[first..end) */
	int64_t t;
	unsigned flags;
	const char *from;	/* with V_RENAMED */
	int shown;		/* under the PATH asked for */
};

struct history {
	char *stream;		/* fs:<root> */
	char *rel;		/* PATH relative to the root */
	char *doc;
	struct hev *ev;
	size_t n, alloc;
	struct version *ver;
	size_t nv, valloc;
	int whole;		/* every version is shown */
	const struct strmap *chain;	/* git: the commits of the line */
};

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* An integer field that is there and not negative. */
static int juint(const json_t *o, const char *key, uint64_t *out)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* Reads the fields of one event that this command uses. */
static void classify(struct hev *h)
{
	const json_t *d = h->data, *detail = json_object_get(d, "detail");
	const char *op = jstr(d, "op"), *path = jstr(d, "path");
	int plain;

	h->part = jstr(d, "part");
	h->path = path ? path : h->part ? h->part : "";
	h->group = jstr(d, "group");
	if (juint(d, "seq", &h->seq))
		h->seq = UINT64_MAX;
	if (!strcmp(h->kind, "fs.blob")) {
		h->type = H_BLOB;
		return;
	}
	/* A plain file's part is its path (or absent); a notebook's is a
	 * cell id, or "metadata", or "<cell id>/outputs". */
	plain = !h->part || !strcmp(h->part, h->path);
	h->type = H_OTHER;
	if (streq(op, "snapshot")) {
		h->type = plain ? H_SNAP : H_CELL;
	} else if (streq(op, "insert") || streq(op, "delete") ||
		   streq(op, "replace")) {
		const json_t *ins = json_object_get(d, "ins");
		const json_t *del = json_object_get(d, "del");
		uint64_t pos = 0, len = 0;

		h->type = plain ? H_EDIT : H_CELL;
		h->is_edit = 1;
		h->e.op = op[0] == 'i' ? TEXT_INSERT
			  : op[0] == 'd' ? TEXT_DELETE : TEXT_REPLACE;
		juint(d, "pos", &pos);
		juint(d, "len", &len);
		h->e.pos = pos;
		h->e.len = len;
		h->e.ins = ins ? json_string_value(ins) : "";
		h->e.ins_len = ins ? json_string_length(ins) : 0;
		/* A record without del: the replay deletes len unchecked. */
		h->e.del = del ? json_string_value(del) : len ? NULL : "";
		h->e.del_len = del ? json_string_length(del) : 0;
		if (!h->e.ins)
			h->e.ins = "";
	} else if (streq(op, "structural")) {
		const char *action = jstr(detail, "action");
		if (streq(action, "rename"))
			h->type = H_RENAME;
		else if (streq(action, "delete") &&
			 !json_object_get(detail, "index") && plain)
			h->type = H_GONE;
		else
			h->type = H_CELL;
	}
}

/* ---- Notebooks -------------------------------------------------------- */

/*
 * A notebook as files-nb.c records it (its NOTES ON THE CELL RECORD):
 * cells with an id, a source edited as text, outputs and "meta" (the cell
 * object without id, source and outputs) as JSON snapshots, and the
 * notebook's metadata as a JSON snapshot.
 */
struct cell {
	char *id;
	struct buf src;
	json_t *obj;		/* the cell's members but id, source, outputs */
	json_t *outputs;	/* NULL: none recorded */
};

struct nb {
	struct cell *c;
	size_t n, alloc;
	json_t *top;		/* metadata and other top-level fields */
};

static void nb_release(struct nb *nb)
{
	for (size_t i = 0; i < nb->n; i++) {
		free(nb->c[i].id);
		buf_release(&nb->c[i].src);
		json_decref(nb->c[i].obj);
		json_decref(nb->c[i].outputs);
	}
	free(nb->c);
	json_decref(nb->top);
	memset(nb, 0, sizeof(*nb));
}

static struct cell *nb_find(struct nb *nb, const char *id, size_t len)
{
	for (size_t i = 0; i < nb->n; i++)
		if (strlen(nb->c[i].id) == len && !memcmp(nb->c[i].id, id, len))
			return &nb->c[i];
	return NULL;
}

/* A recorded snapshot of a JSON field: its value, or the text itself if it
 * is not JSON. */
static json_t *parse_field(const json_t *text)
{
	json_t *v = json_loadb(json_string_value(text), json_string_length(text),
			       JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

	return v ? v : json_copy((json_t *)text);
}

static int nb_structural(struct nb *nb, const struct hev *h)
{
	const json_t *detail = json_object_get(h->data, "detail");
	const char *action = jstr(detail, "action");
	uint64_t i, j;
	struct cell c;

	if (streq(action, "add")) {
		if (juint(detail, "index", &i) || i > nb->n)
			return lt_error(LT_ECORRUPT, "a cell added at a bad "
					"index (seq %llu)",
					(unsigned long long)h->seq);
		XGROW(nb->c, nb->n + 1, nb->alloc);
		memmove(nb->c + i + 1, nb->c + i, (nb->n - i) * sizeof(c));
		c.id = xstrdup(h->part ? h->part : "");
		buf_init(&c.src, 0);
		c.obj = json_pack("{s:s}", "cell_type",
				  jstr(detail, "cell_type") ?
				  jstr(detail, "cell_type") : "code");
		c.outputs = NULL;
		nb->c[i] = c;
		nb->n++;
		return 0;
	}
	if (streq(action, "delete")) {
		if (juint(detail, "index", &i) || i >= nb->n ||
		    (h->part && strcmp(h->part, nb->c[i].id)))
			return lt_error(LT_ECORRUPT, "a cell deleted that is not "
					"there (seq %llu)",
					(unsigned long long)h->seq);
		free(nb->c[i].id);
		buf_release(&nb->c[i].src);
		json_decref(nb->c[i].obj);
		json_decref(nb->c[i].outputs);
		nb->n--;
		memmove(nb->c + i, nb->c + i + 1, (nb->n - i) * sizeof(c));
		return 0;
	}
	if (streq(action, "move")) {
		if (juint(detail, "from", &i) || juint(detail, "to", &j) ||
		    i >= nb->n || j >= nb->n)
			return lt_error(LT_ECORRUPT, "a cell moved from or to a "
					"bad index (seq %llu)",
					(unsigned long long)h->seq);
		/* The cell ends up at index j. */
		c = nb->c[i];
		if (i < j)
			memmove(nb->c + i, nb->c + i + 1, (j - i) * sizeof(c));
		else
			memmove(nb->c + j + 1, nb->c + j, (i - j) * sizeof(c));
		nb->c[j] = c;
		return 0;
	}
	return 0;	/* other structural ops change no content */
}

static int nb_apply(struct nb *nb, const struct hev *h)
{
	const char *op = jstr(h->data, "op"), *slash;
	struct cell *c;

	if (!nb->top)
		nb->top = json_object();
	if (streq(op, "structural"))
		return nb_structural(nb, h);
	if (!h->part)
		return lt_error(LT_ECORRUPT, "a notebook edit without a part "
				"(seq %llu)", (unsigned long long)h->seq);
	c = nb_find(nb, h->part, strlen(h->part));
	if (h->is_edit) {
		if (!c)
			return lt_error(LT_ECORRUPT, "an edit of cell '%s', which "
					"is not there (seq %llu)", h->part,
					(unsigned long long)h->seq);
		return text_apply(&c->src, &h->e);
	}
	if (streq(op, "snapshot")) {
		const json_t *text = json_object_get(h->data, "text");
		if (c) {
			buf_reset(&c->src);
			buf_add(&c->src, json_string_value(text),
				json_string_length(text));
		} else if ((slash = strrchr(h->part, '/')) &&
			   (c = nb_find(nb, h->part, (size_t)(slash - h->part)))) {
			json_t *v = parse_field(text);
			if (!strcmp(slash + 1, "outputs")) {
				json_decref(c->outputs);
				c->outputs = v;
			} else if (!strcmp(slash + 1, "meta") &&
				   json_is_object(v)) {
				json_decref(c->obj);
				c->obj = v;
			} else {
				json_object_set_new(c->obj, slash + 1, v);
			}
		} else {
			json_object_set_new(nb->top, h->part, parse_field(text));
		}
	}
	return 0;
}

/* Whether id is one files-nb.c made up for a cell without one:
 * cell-<i> or cell-<i>-<k>. */
static int made_up_id(const char *id)
{
	int dashes = 0;

	if (strncmp(id, "cell-", 5) || !id[5])
		return 0;
	for (id += 5; *id; id++) {
		if (*id == '-' && id[1] && id[-1] != '-' && ++dashes == 1)
			continue;
		if (*id < '0' || *id > '9')
			return 0;
	}
	return 1;
}

/*
 * The notebook as nbformat writes it (nbjson.h). The record does not keep
 * nbformat_minor: cells with ids of their own mean 4.5 or later, written
 * as nbformat_minor 5 with the ids; cells all with made-up ids mean an
 * older notebook, written as nbformat_minor 4 without them.
 */
static void nb_render(const struct nb *nb, struct buf *out)
{
	json_t *top = json_deep_copy(nb->top ? nb->top : json_object());
	json_t *cells = json_array();
	json_t *minor;
	int ids = 0;

	for (size_t i = 0; i < nb->n; i++)
		ids |= !made_up_id(nb->c[i].id);
	if (!json_object_get(top, "nbformat"))
		json_object_set_new(top, "nbformat", json_integer(4));
	minor = json_object_get(top, "nbformat_minor");
	if (!minor)
		json_object_set_new(top, "nbformat_minor",
				    json_integer(ids || !nb->n ? 5 : 4));
	else
		ids = json_integer_value(minor) >= 5;
	if (!json_object_get(top, "metadata"))
		json_object_set_new(top, "metadata", json_object());
	for (size_t i = 0; i < nb->n; i++) {
		const struct cell *c = &nb->c[i];
		json_t *o = json_deep_copy(c->obj);
		if (ids)
			json_object_set_new(o, "id", json_string(c->id));
		json_object_set_new(o, "source",
				    nbjson_split_lines(c->src.data, c->src.len));
		if (c->outputs)
			json_object_set(o, "outputs", c->outputs);
		if (!json_object_get(o, "metadata"))
			json_object_set_new(o, "metadata", json_object());
		if (streq(jstr(o, "cell_type"), "code")) {
			if (!json_object_get(o, "outputs"))
				json_object_set_new(o, "outputs", json_array());
			if (!json_object_get(o, "execution_count"))
				json_object_set_new(o, "execution_count",
						    json_null());
		}
		json_array_append_new(cells, o);
	}
	json_object_set_new(top, "cells", cells);
	nbjson_dump(top, out);
	buf_addch(out, '\n');
	json_decref(top);
}

/* ---- Rebuilding ------------------------------------------------------- */

enum content { C_NONE, C_TEXT, C_NB, C_BLOB, C_GONE, C_BROKEN };

struct state {
	enum content what;
	struct text_replay text;
	struct nb nb;
	const struct hev *blob;
};

static void state_release(struct state *s)
{
	text_replay_release(&s->text);
	nb_release(&s->nb);
	s->what = C_NONE;
	s->blob = NULL;
}

/* Whether h alone sets the whole content: replays start there. */
static int is_reset(const struct hev *h)
{
	return h->type == H_SNAP || h->type == H_BLOB || h->type == H_GONE;
}

static int state_apply(struct state *s, const struct hev *h)
{
	int r = 0;

	switch (h->type) {
	case H_SNAP: {
		const json_t *text = json_object_get(h->data, "text");
		text_replay_reset(&s->text, json_string_value(text),
				  json_string_length(text));
		s->what = C_TEXT;
		return 0;
	}
	case H_EDIT:
		if (s->what == C_TEXT)
			r = text_replay_apply(&s->text, &h->e);
		else if (s->what != C_BROKEN)
			r = lt_error(LT_ECORRUPT, "an edit with no text before "
				     "it (seq %llu): the snapshot it follows "
				     "was not recorded",
				     (unsigned long long)h->seq);
		break;
	case H_CELL:
		if (s->what != C_NB) {
			nb_release(&s->nb);
			s->what = C_NB;
		}
		r = nb_apply(&s->nb, h);
		break;
	case H_BLOB:
		s->what = C_BLOB;
		s->blob = h;
		return 0;
	case H_GONE:
		s->what = C_GONE;
		return 0;
	case H_RENAME:
	case H_OTHER:
		return 0;
	}
	if (r < 0) {
		lt_error_wrap(r, "cannot rebuild from the record");
		s->what = C_BROKEN;
	}
	return r;
}

/* Puts the state at the end of version v (from scratch). */
static int rebuild(const struct history *h, size_t v, struct state *s)
{
	size_t end = h->ver[v].end, start = end;
	int r;

	while (start > 0 && !is_reset(&h->ev[start - 1]))
		start--;
	if (start > 0)
		start--;
	state_release(s);
	for (size_t i = start; i < end; i++)
		if ((r = state_apply(s, &h->ev[i])) < 0)
			return r;
	return 0;
}

/* ---- Loading ---------------------------------------------------------- */

/* Decodes an edit.op or fs.blob record (others: returns 0, *data NULL). */
static int decode(const struct vault_record *rec, json_t **data)
{
	*data = NULL;
	if (strcmp(rec->kind, "edit.op") && strcmp(rec->kind, "fs.blob"))
		return 0;
	if (ev_decode(ev_kind_find(rec->kind), rec->payload, rec->len, data))
		return lt_error_wrap(LT_ECORRUPT, "event at %lld in '%s'",
				     (long long)rec->t, rec->stream);
	return 0;
}

/* What the first pass learns of each document in the stream. */
struct docsum {
	char *doc;
	uint64_t last_seq;
	char *last_path;	/* where it is after its last event */
	int gone;		/* its last event deleted it */
	int64_t first_t, last_t;
	int64_t at_t;		/* its last event at PATH; 0: never */
	int had;		/* it has had PATH */
};

struct docsums {
	struct docsum *v;
	size_t n, alloc;
	json_t *index;		/* doc id -> position in v */
};

static void docsums_release(struct docsums *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].doc);
		free(d->v[i].last_path);
	}
	free(d->v);
	json_decref(d->index);
	memset(d, 0, sizeof(*d));
}

static void sum_event(struct docsums *d, const char *rel, struct hev *h)
{
	const char *doc = jstr(h->data, "doc");
	const json_t *detail = json_object_get(h->data, "detail");
	const char *where = h->path;
	struct docsum *s;
	json_t *pos;

	if (!doc)
		return;
	pos = json_object_get(d->index, doc);
	if (!pos) {
		XGROW(d->v, d->n + 1, d->alloc);
		s = &d->v[d->n];
		memset(s, 0, sizeof(*s));
		s->doc = xstrdup(doc);
		s->first_t = h->t;
		json_object_set_new(d->index, doc, json_integer((json_int_t)d->n));
		d->n++;
	} else {
		s = &d->v[json_integer_value(pos)];
	}
	if (h->type == H_RENAME && jstr(detail, "to"))
		where = jstr(detail, "to");
	if (!s->last_path || h->seq >= s->last_seq) {
		free(s->last_path);
		s->last_path = xstrdup(where);
		s->last_seq = h->seq;
		s->gone = h->type == H_GONE;
	}
	if (h->t > s->last_t)
		s->last_t = h->t;
	if (!strcmp(h->path, rel) || !strcmp(where, rel) ||
	    (h->type == H_RENAME && streq(jstr(detail, "from"), rel))) {
		s->had = 1;
		if (h->t >= s->at_t)
			s->at_t = h->t;
	}
}

/* Pass 1: every document of the stream. */
static int sum_stream(struct vault *v, const char *stream, const char *rel,
		      struct docsums *d)
{
	struct vault_query q = VAULT_QUERY_INIT;
	struct vault_iter *it;
	struct vault_record rec;
	int r;

	d->index = json_object();
	q.stream = stream;
	if ((r = vault_iter_open(&it, v, &q)) < 0)
		return r;
	while ((r = vault_iter_next(it, &rec)) != 0) {
		struct hev h = { 0 };
		if (r < 0 || (r = decode(&rec, &h.data)) < 0) {
			cli_error("warning: %s", lt_errmsg());
			continue;
		}
		if (!h.data)
			continue;
		h.t = rec.t;
		h.kind = rec.kind;
		classify(&h);
		sum_event(d, rel, &h);
		json_decref(h.data);
	}
	vault_iter_free(it);
	return 0;
}

/*
 * The rule for which document PATH names, among those that have had it:
 *  1. the one whose last event left it at PATH and not deleted (the file
 *     there now); else
 *  2. the one whose last event left it at PATH, deleted (the file that was
 *     there last), the latest if several: for both, the whole history;
 *  3. else PATH is an old name: the document that had it last, and only
 *     its versions saved under PATH.
 * --doc ID takes that document instead, if it has had PATH.
 */
static struct docsum *pick_doc(struct docsums *d, const char *rel,
			       const char *want, int *whole)
{
	struct docsum *best = NULL;
	int best_rank = 0;

	for (size_t i = 0; i < d->n; i++) {
		struct docsum *s = &d->v[i];
		int rank;

		if (!s->had || (want && strcmp(want, s->doc)))
			continue;
		rank = strcmp(s->last_path, rel) ? 1 : s->gone ? 2 : 3;
		if (rank > best_rank ||
		    (rank == best_rank &&
		     (rank == 1 ? s->at_t > best->at_t : s->last_t > best->last_t))) {
			best = s;
			best_rank = rank;
		}
	}
	*whole = best_rank >= 2;
	return best;
}

static int cmp_hev(const void *a, const void *b)
{
	const struct hev *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Pass 2: the document's events, in seq order. */
static int load_doc(struct vault *v, struct history *h, int64_t since)
{
	struct vault_query q = VAULT_QUERY_INIT;
	struct vault_iter *it;
	struct vault_record rec;
	size_t k = 0;
	int r, bad = 0;

	q.stream = h->stream;
	q.since = since;
	if ((r = vault_iter_open(&it, v, &q)) < 0)
		return r;
	while ((r = vault_iter_next(it, &rec)) != 0) {
		json_t *data;
		struct hev *e;
		if (r < 0 || (r = decode(&rec, &data)) < 0) {
			cli_error("warning: %s", lt_errmsg());
			bad = 1;
			continue;
		}
		if (!data)
			continue;
		if (!streq(jstr(data, "doc"), h->doc) ||
		    (h->chain && !gitrec_rank(h->chain, jstr(data, "group")))) {
			json_decref(data);
			continue;
		}
		XGROW(h->ev, h->n + 1, h->alloc);
		e = &h->ev[h->n];
		memset(e, 0, sizeof(*e));
		e->t = rec.t;
		e->kind = !strcmp(rec.kind, "fs.blob") ? "fs.blob" : "edit.op";
		e->data = data;
		e->order = h->n++;
		classify(e);
		if (h->chain)
			e->rank = gitrec_rank(h->chain, e->group);
	}
	vault_iter_free(it);
	if (h->n)
		qsort(h->ev, h->n, sizeof(*h->ev), cmp_hev);
	/* A git document's seqs go on from import to import, in the order
	 * of the imports, not of the commits: gaps on one line are expected
	 * there. */
	if (h->chain)
		return 0;
	/* The same seq twice (an event written again after a crash): keep
	 * the first. A gap means events are missing. */
	for (size_t i = 0; i < h->n; i++) {
		if (k && h->ev[i].seq == h->ev[k - 1].seq) {
			json_decref(h->ev[i].data);
			continue;
		}
		if (k && h->ev[i].seq != h->ev[k - 1].seq + 1 && !bad) {
			cli_error("warning: the record of %s lacks seq %llu to "
				  "%llu: versions after it may not rebuild",
				  h->doc,
				  (unsigned long long)h->ev[k - 1].seq + 1,
				  (unsigned long long)h->ev[i].seq - 1);
			bad = 1;
		}
		h->ev[k++] = h->ev[i];
	}
	h->n = k;
	return 0;
}

static int same_save(const struct hev *a, const struct hev *b)
{
	if (a->group || b->group)
		return streq(a->group, b->group);
	return a->t == b->t;
}

/* Cuts the events into versions, one per save. */
static void make_versions(struct history *h)
{
	for (size_t i = 0; i < h->n; i++) {
		const struct hev *e = &h->ev[i];
		const json_t *detail = json_object_get(e->data, "detail");
		struct version *v;

		if (!i || !same_save(&h->ev[i - 1], e)) {
			XGROW(h->ver, h->nv + 1, h->valloc);
			v = &h->ver[h->nv++];
			memset(v, 0, sizeof(*v));
			v->first = i;
			v->shown = h->whole;
		}
		v = &h->ver[h->nv - 1];
		v->end = i + 1;
		v->t = e->t;
		switch (e->type) {
		case H_SNAP: v->flags |= V_SNAPSHOT; break;
		case H_GONE: v->flags |= V_DELETED; break;
		case H_BLOB: v->flags |= V_BLOB; break;
		case H_CELL: v->flags |= V_NOTEBOOK; break;
		case H_RENAME:
			v->flags |= V_RENAMED;
			v->from = jstr(detail, "from");
			if (streq(v->from, h->rel))
				v->shown = 1;
			break;
		default: break;
		}
		if (!strcmp(e->path, h->rel))
			v->shown = 1;
	}
}

static void history_release(struct history *h)
{
	for (size_t i = 0; i < h->n; i++)
		json_decref(h->ev[i].data);
	free(h->ev);
	free(h->ver);
	free(h->doc);
	free(h->stream);
	free(h->rel);
	memset(h, 0, sizeof(*h));
}

/* ---- Finding PATH ----------------------------------------------------- */

struct root {
	char *stream;
	char *dir;		/* absolute, no trailing '/' (but "/") */
};

struct roots {
	struct root *v;
	size_t n, alloc;
};

static void push_root(struct roots *rs, const char *stream, const char *dir)
{
	XGROW(rs->v, rs->n + 1, rs->alloc);
	rs->v[rs->n].stream = xstrdup(stream);
	rs->v[rs->n].dir = xstrdup(dir);
	rs->n++;
}

/* A root is the stream's folder as recorded and, if the folder exists
 * and its real path differs (a symbolic link on the way), that too. */
static void add_root(void *ctx, const struct vault_stat_row *row)
{
	struct roots *rs = ctx;
	const char *home = getenv("HOME");
	struct buf dir = BUF_INIT;
	char *real;

	if (strncmp(row->stream, "fs:", 3))
		return;
	for (size_t i = 0; i < rs->n; i++)
		if (!strcmp(rs->v[i].stream, row->stream))
			return;
	if (!strncmp(row->stream + 3, "~/", 2) && home)
		buf_addf(&dir, "%s%s", home, row->stream + 4);
	else
		buf_addstr(&dir, row->stream + 3);
	while (dir.len > 1 && dir.data[dir.len - 1] == '/')
		buf_setlen(&dir, dir.len - 1);
	if (dir.data[0] == '/') {
		push_root(rs, row->stream, dir.data);
		real = realpath(dir.data, NULL);
		if (real && strcmp(real, dir.data))
			push_root(rs, row->stream, real);
		free(real);
	}
	buf_release(&dir);
}

static int cmp_root(const void *a, const void *b)
{
	size_t x = strlen(((const struct root *)a)->dir);
	size_t y = strlen(((const struct root *)b)->dir);

	return (x < y) - (x > y);	/* longest first */
}

static void roots_release(struct roots *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->v[i].stream);
		free(rs->v[i].dir);
	}
	free(rs->v);
}

/* path made absolute, with "." and ".." and repeated '/' resolved in the
 * text (the file may no longer exist). */
static void absolute(const char *path, struct buf *out)
{
	struct buf in = BUF_INIT;
	char cwd[4096];
	const char *p;

	if (path[0] != '/' && getcwd(cwd, sizeof(cwd)))
		buf_addf(&in, "%s/", cwd);
	buf_addstr(&in, path);
	buf_reset(out);
	for (p = in.data; *p;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == 2 && !memcmp(p, "..", 2)) {
			while (out->len && out->data[out->len - 1] != '/')
				out->len--;
			if (out->len)
				out->len--;
			buf_setlen(out, out->len);
		} else if (n && !(n == 1 && *p == '.')) {
			buf_addch(out, '/');
			buf_add(out, p, n);
		}
		p += n + (end ? 1 : 0);
	}
	if (!out->len)
		buf_addch(out, '/');
	buf_release(&in);
}

/* The path of abs below dir, or NULL if abs is not inside it. */
static const char *below(const char *abs, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1)
		return abs[1] ? abs + 1 : NULL;
	if (strncmp(abs, dir, n) || abs[n] != '/' || !abs[n + 1])
		return NULL;
	return abs + n + 1;
}

/*
 * Finds the document PATH names (rule: pick_doc) in the innermost root
 * that has one, and loads its events into h. Prints errors.
 */
static int find_doc(struct vault *v, const char *path, const char *want,
		    int notes, struct history *h)
{
	struct roots rs = { 0 };
	struct buf abs[2] = { BUF_INIT, BUF_INIT };
	struct docsums d = { 0 };
	struct docsum *s = NULL;
	json_t *tried = json_object();
	char *real;
	int r = 1, whole = 0, inside = 0;

	if (vault_stats(v, add_root, &rs) < 0) {
		cli_error("%s", lt_errmsg());
		goto out;
	}
	if (rs.n)
		qsort(rs.v, rs.n, sizeof(*rs.v), cmp_root);
	absolute(path, &abs[0]);
	/* Through symbolic links too, if the folder still exists. */
	{
		char *slash = strrchr(abs[0].data, '/');
		*slash = 0;
		real = realpath(abs[0].data[0] ? abs[0].data : "/", NULL);
		*slash = '/';
		if (real) {
			buf_addf(&abs[1], "%s%s", strcmp(real, "/") ? real : "",
				 slash);
			free(real);
		}
	}
	for (int a = 0; a < 2 && !s; a++) {
		if (!abs[a].len)
			continue;
		for (size_t i = 0; i < rs.n && !s; i++) {
			const char *rel = below(abs[a].data, rs.v[i].dir);
			struct buf key = BUF_INIT;
			if (!rel)
				continue;
			inside = 1;
			buf_addf(&key, "%s\n%s", rs.v[i].stream, rel);
			if (json_object_get(tried, key.data)) {
				buf_release(&key);
				continue;
			}
			json_object_set_new(tried, key.data, json_true());
			buf_release(&key);
			docsums_release(&d);
			if (sum_stream(v, rs.v[i].stream, rel, &d) < 0) {
				cli_error("%s", lt_errmsg());
				goto out;
			}
			s = pick_doc(&d, rel, want, &whole);
			if (s) {
				h->stream = rs.v[i].stream;
				rs.v[i].stream = NULL;
				h->rel = xstrdup(rel);
			}
		}
	}
	if (!s) {
		if (want)
			cli_error("no document %s has had the path '%s' (see "
				  "'labtape history %s')", want, path, path);
		else
			cli_error("no recorded history for '%s' (%s; see "
				  "'labtape status')", path,
				  inside ? "no file by that name was ever "
					   "recorded in its watched folder"
					 : "it is not inside a watched folder");
		goto out;
	}
	h->doc = xstrdup(s->doc);
	h->whole = whole;
	if (notes) {
		for (size_t i = 0; i < d.n; i++) {
			char t[LT_TIME_MAX_LEN];
			if (&d.v[i] == s || !d.v[i].had)
				continue;
			lt_time_format(d.v[i].at_t, t);
			fprintf(stderr, "note: %s had this path too (last %s); "
				"see --doc %s\n", d.v[i].doc, t, d.v[i].doc);
		}
	}
	if (load_doc(v, h, s->first_t) < 0) {
		cli_error("%s", lt_errmsg());
		goto out;
	}
	make_versions(h);
	r = 0;
out:
	json_decref(tried);
	docsums_release(&d);
	roots_release(&rs);
	buf_release(&abs[0]);
	buf_release(&abs[1]);
	return r;
}

/* ---- Documents imported from git -------------------------------------- */

struct git_stream {
	const char *arg;
	char *stream;		/* the longest git:NAME that arg starts with */
};

static void match_stream(void *ctx, const struct vault_stat_row *row)
{
	struct git_stream *gs = ctx;
	size_t n = strlen(row->stream);

	if (strncmp(row->stream, "git:", 4) || strncmp(gs->arg, row->stream, n) ||
	    gs->arg[n] != ':' || (gs->stream && strlen(gs->stream) >= n))
		return;
	free(gs->stream);
	gs->stream = xstrdup(row->stream);
}

/*
 * Finds the document that has the path in arg (git:NAME:PATH) at commit
 * rev (NULL: the last imported) and loads its events on that commit's
 * line into h (outline, step 5). Prints errors.
 */
static int git_find_doc(struct vault *v, const char *arg, const char *rev,
			struct history *h, struct strmap *chain)
{
	struct git_stream gs = { arg, NULL };
	struct gitrec g = GITREC_INIT;
	struct gitrec_files fs = GITREC_FILES_INIT;
	const struct gitrec_file *live = NULL, *gone = NULL;
	const char *path, *commit;
	size_t idx;
	int r = 1;

	if (vault_stats(v, match_stream, &gs) < 0) {
		cli_error("%s", lt_errmsg());
		goto out;
	}
	if (!gs.stream) {
		cli_error("no git repository imported has the document '%s' "
			  "(see 'labtape docs')", arg);
		goto out;
	}
	path = arg + strlen(gs.stream) + 1;
	if (gitrec_load(&g, v, gs.stream) < 0 ||
	    (rev ? gitrec_find(&g, rev, &idx) : gitrec_head(&g, &idx)) < 0) {
		cli_error("%s: %s", gs.stream, lt_errmsg());
		goto out;
	}
	commit = g.u[idx].id;
	gitrec_chain(&g, idx, chain);
	if (gitrec_files(v, gs.stream, chain, &fs) < 0) {
		cli_error("%s", lt_errmsg());
		goto out;
	}
	for (size_t i = 0; i < fs.n; i++) {
		const struct gitrec_file *f = &fs.v[i];
		const struct gitrec_file **best = f->gone ? &gone : &live;
		if (strcmp(f->path, path))
			continue;
		if (!*best || f->rank > (*best)->rank ||
		    (f->rank == (*best)->rank && f->seq > (*best)->seq))
			*best = f;
	}
	if (!live) {
		if (gone)
			cli_error("'%s' did not exist at commit %.12s: it was "
				  "deleted in commit %.12s", path, commit,
				  gone->group);
		else
			cli_error("'%s' did not exist at commit %.12s of %s",
				  path, commit, gs.stream);
		goto out;
	}
	h->stream = gs.stream;
	gs.stream = NULL;
	h->rel = xstrdup(path);
	h->doc = xstrdup(live->doc);
	h->whole = 1;
	h->chain = chain;
	if (load_doc(v, h, INT64_MIN) < 0) {
		cli_error("%s", lt_errmsg());
		goto out;
	}
	make_versions(h);
	r = 0;
out:
	free(gs.stream);
	gitrec_files_release(&fs);
	gitrec_release(&g);
	return r;
}

/* ---- Blobs ------------------------------------------------------------ */

/*
 * Pass 3: the chunks of one fs.blob, from the stream's fs.chunk events
 * since `since`, into chunks (hash -> base64 data). Returns how many of
 * the blob's chunks are still missing.
 */
static size_t load_chunks(struct vault *v, const struct history *h,
			  const json_t *list, int64_t since, int64_t until,
			  json_t *chunks)
{
	struct vault_query q = VAULT_QUERY_INIT;
	struct vault_iter *it;
	struct vault_record rec;
	size_t i, missing = 0;
	json_t *hash;
	int r;

	q.stream = h->stream;
	q.kind = "fs.chunk";
	q.since = since;
	q.until = until;
	if (vault_iter_open(&it, v, &q) == 0) {
		while ((r = vault_iter_next(it, &rec)) != 0) {
			json_t *data = NULL;
			const char *k;
			if (r < 0 || ev_decode(ev_kind_find(rec.kind), rec.payload,
					       rec.len, &data) < 0) {
				cli_error("warning: %s", lt_errmsg());
				continue;
			}
			k = jstr(data, "hash");
			if (k && json_object_get(chunks, k) &&
			    json_is_null(json_object_get(chunks, k)))
				json_object_set(chunks, k,
						json_object_get(data, "data"));
			json_decref(data);
		}
		vault_iter_free(it);
	}
	json_array_foreach(list, i, hash)
		if (json_is_null(json_object_get(chunks,
						 json_string_value(hash))))
			missing++;
	return missing;
}

static int blob_get(struct vault *v, const struct history *h,
		    const struct hev *blob, struct buf *out)
{
	const json_t *list = json_object_get(blob->data, "chunks");
	json_t *chunks = json_object(), *hash;
	uint64_t size = 0;
	size_t i;
	int r = 0;

	json_array_foreach(list, i, hash)
		if (json_is_string(hash))
			json_object_set_new(chunks, json_string_value(hash),
					    json_null());
	/* Chunks are stored once a day per stream: look in the blob's day
	 * first, then in everything before it. */
	if (load_chunks(v, h, list, (int64_t)lt_day_of(blob->t) * LT_NS_PER_DAY,
			blob->t + 1, chunks) &&
	    load_chunks(v, h, list, INT64_MIN, blob->t + 1, chunks)) {
		json_decref(chunks);
		return lt_error(LT_ENOENT, "chunks of this version are missing "
				"from the vault (run 'labtape verify')");
	}
	json_array_foreach(list, i, hash) {
		const json_t *b64 = json_object_get(chunks,
						    json_string_value(hash));
		size_t n = json_string_length(b64), len;
		buf_grow(out, n);
		if (sodium_base642bin((unsigned char *)out->data + out->len,
				      out->alloc - out->len - 1,
				      json_string_value(b64), n, NULL, &len,
				      NULL, sodium_base64_VARIANT_ORIGINAL)) {
			r = lt_error(LT_ECORRUPT, "chunk %s is not valid base64",
				     json_string_value(hash));
			break;
		}
		buf_setlen(out, out->len + len);
	}
	if (!r && (juint(blob->data, "size", &size) || size != out->len))
		r = lt_error(LT_ECORRUPT, "the chunks of this version add up "
			     "to %zu bytes, not the %llu recorded", out->len,
			     (unsigned long long)size);
	json_decref(chunks);
	return r;
}

/* ---- Output ----------------------------------------------------------- */

static int print_list(const struct history *h)
{
	struct state s = { C_NONE, TEXT_REPLAY_INIT, { 0 }, NULL };
	struct buf line = BUF_INIT, nb = BUF_INIT;
	size_t next = 0;
	int bad = 0;

	for (size_t v = 0; v < h->nv; v++) {
		const struct version *ver = &h->ver[v];
		char t[LT_TIME_MAX_LEN], size[32];

		for (; next < ver->end; next++) {
			const struct hev *e = &h->ev[next];
			if (s.what == C_BROKEN && !is_reset(e))
				continue;
			if (state_apply(&s, e) < 0) {
				cli_error("warning: version %zu: %s", v + 1,
					  lt_errmsg());
				bad = 1;
			}
		}
		if (!ver->shown)
			continue;
		switch (s.what) {
		case C_TEXT:
			snprintf(size, sizeof(size), "%zu", s.text.bytes);
			break;
		case C_NB:
			buf_reset(&nb);
			nb_render(&s.nb, &nb);
			snprintf(size, sizeof(size), "%zu", nb.len);
			break;
		case C_BLOB:
			snprintf(size, sizeof(size), "%lld",
				 json_integer_value(json_object_get(
					 s.blob->data, "size")));
			break;
		case C_GONE:
			snprintf(size, sizeof(size), "-");
			break;
		default:
			snprintf(size, sizeof(size), "?");
		}
		lt_time_format(ver->t, t);
		buf_reset(&line);
		buf_addf(&line, "%4zu  %s  %9s  %4zu", v + 1, t, size,
			 ver->end - ver->first);
		if (ver->flags & V_SNAPSHOT)
			buf_addstr(&line, "  snapshot");
		if (ver->flags & V_NOTEBOOK)
			buf_addstr(&line, "  notebook");
		if (ver->flags & V_BLOB)
			buf_addstr(&line, "  binary");
		if (ver->flags & V_RENAMED)
			buf_addf(&line, "  renamed from %s",
				 ver->from ? ver->from : "?");
		if (ver->flags & V_DELETED)
			buf_addstr(&line, "  deleted");
		if (h->chain && h->ev[ver->first].group)
			buf_addf(&line, "  commit %.12s",
				 h->ev[ver->first].group);
		buf_addch(&line, '\n');
		fwrite(line.data, 1, line.len, stdout);
	}
	state_release(&s);
	buf_release(&line);
	buf_release(&nb);
	return bad;
}

static int print_version(struct vault *v, const struct history *h, size_t n)
{
	struct state s = { C_NONE, TEXT_REPLAY_INIT, { 0 }, NULL };
	struct buf out = BUF_INIT;
	int r = 0;

	if (rebuild(h, n, &s) < 0) {
		r = cli_error("version %zu: %s", n + 1, lt_errmsg());
		goto out;
	}
	switch (s.what) {
	case C_TEXT:
		text_replay_get(&s.text, &out);
		break;
	case C_NB:
		nb_render(&s.nb, &out);
		break;
	case C_BLOB:
		if (blob_get(v, h, s.blob, &out) < 0)
			r = cli_error("version %zu: %s", n + 1, lt_errmsg());
		break;
	case C_GONE:
		r = cli_error("version %zu of '%s' is its deletion: there is "
			      "nothing to print (see 'labtape history %s')",
			      n + 1, h->rel, h->rel);
		break;
	default:
		r = cli_error("version %zu: the record holds no content for it",
			      n + 1);
	}
	if (!r)
		fwrite(out.data, 1, out.len, stdout);
out:
	state_release(&s);
	buf_release(&out);
	return r;
}

static void print_ops(const struct history *h, size_t first, size_t end)
{
	struct buf line = BUF_INIT;

	for (size_t v = first; v < end; v++) {
		if (!h->ver[v].shown)
			continue;
		for (size_t i = h->ver[v].first; i < h->ver[v].end; i++) {
			const struct hev *e = &h->ev[i];
			buf_reset(&line);
			ev_to_json(e->t, h->stream, e->kind, e->data, &line);
			buf_addch(&line, '\n');
			fwrite(line.data, 1, line.len, stdout);
		}
	}
	buf_release(&line);
}

/* The version --version N or --at T asks for, or prints why there is
 * none and returns -1. */
static long pick_version(const struct history *h, const char *path,
			 unsigned long long n, int at, int64_t t)
{
	size_t first = SIZE_MAX, last = 0;
	long found = -1;

	for (size_t v = 0; v < h->nv; v++) {
		if (!h->ver[v].shown)
			continue;
		if (first == SIZE_MAX)
			first = v;
		last = v;
		if (at && h->ver[v].t <= t)
			found = (long)v;
	}
	if (first == SIZE_MAX) {
		cli_error("'%s' has no recorded versions", path);
		return -1;
	}
	if (at) {
		if (found < 0) {
			char f[LT_TIME_MAX_LEN];
			lt_time_format(h->ver[first].t, f);
			cli_error("no version of '%s' at that time: the first "
				  "is from %s", path, f);
		}
		return found;
	}
	if (n >= 1 && n <= h->nv && h->ver[n - 1].shown)
		return (long)(n - 1);
	if (n >= 1 && n <= h->nv) {
		const struct hev *e = &h->ev[h->ver[n - 1].end - 1];
		const char *now = e->path;
		if (e->type == H_RENAME &&
		    jstr(json_object_get(e->data, "detail"), "to"))
			now = jstr(json_object_get(e->data, "detail"), "to");
		cli_error("version %llu of this file was not saved as '%s' "
			  "(it was '%s' then; see 'labtape history %s')", n,
			  path, now, now);
		return -1;
	}
	if (first == last)
		cli_error("'%s' has only version %zu (see 'labtape history %s')",
			  path, first + 1, path);
	else
		cli_error("'%s' has no version %llu: its versions are %zu to "
			  "%zu (see 'labtape history %s')", path, n, first + 1,
			  last + 1, path);
	return -1;
}

int cmd_history(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "list", no_argument, NULL, 'l' },
		{ "version", required_argument, NULL, 'n' },
		{ "at", required_argument, NULL, 'a' },
		{ "ops", no_argument, NULL, 'o' },
		{ "doc", required_argument, NULL, 'd' },
		{ "rev", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct strmap chain = STRMAP_INIT;
	struct cli c = { "history", usage, NULL, NULL };
	struct history h = { 0 };
	struct vault *v = NULL;
	const char *doc = NULL, *rev = NULL;
	unsigned long long n = 0;
	int opt, r, list = 0, ops = 0, have_n = 0, at = 0;
	int64_t t = 0;
	long ver;
	char *end;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'l': list = 1; break;
		case 'o': ops = 1; break;
		case 'd': doc = optarg; break;
		case 'r': rev = optarg; break;
		case 'n':
			errno = 0;
			n = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' ||
			    !n)
				return cli_usage_error(&c, "--version wants a "
						       "version number from 1, "
						       "not '%s'", optarg);
			have_n = 1;
			break;
		case 'a':
			if (lt_time_parse(optarg, &t))
				return cli_usage_error(&c, "%s", lt_errmsg());
			at = 1;
			break;
		default:
			if ((r = cli_common_opt(&c, opt)) >= 0)
				return r;
		}
	}
	if (optind >= argc)
		return cli_usage_error(&c, "which file? (labtape history PATH)");
	if (optind + 1 < argc)
		return cli_usage_error(&c, "unexpected argument '%s'",
				       argv[optind + 1]);
	if (have_n && at)
		return cli_usage_error(&c, "--version and --at both name a "
				       "version: give one");
	if (list && (have_n || at || ops))
		return cli_usage_error(&c, "--list shows every version: it "
				       "does not go with --version, --at or "
				       "--ops");
	if (!strncmp(argv[optind], "git:", 4)) {
		if (doc)
			return cli_usage_error(&c, "--doc is for recorded "
					       "files; git:NAME:PATH names one "
					       "already");
		if (rev && (have_n || at))
			return cli_usage_error(&c, "--rev names a version "
					       "already: no --version or --at");
		/* The file at --rev: the last version on its line. */
		if (rev && !list)
			have_n = 1;
	} else if (rev) {
		return cli_usage_error(&c, "--rev is for files imported from "
				       "git (labtape history git:NAME:PATH "
				       "--rev COMMIT)");
	}
	if (cli_open_unlocked(&c, &v))
		return 1;
	if (!strncmp(argv[optind], "git:", 4))
		r = git_find_doc(v, argv[optind], rev, &h, &chain);
	else
		r = find_doc(v, argv[optind], doc, !have_n && !at && !ops, &h);
	if (r)
		goto out;
	if (rev && have_n)
		n = h.nv;
	if (!have_n && !at) {
		if (ops)
			print_ops(&h, 0, h.nv);
		else
			r = print_list(&h);
	} else if ((ver = pick_version(&h, argv[optind], n, at, t)) < 0) {
		r = 1;
	} else if (ops) {
		print_ops(&h, (size_t)ver, (size_t)ver + 1);
	} else {
		r = print_version(v, &h, (size_t)ver);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		r = cli_error("cannot write the output");
out:
	history_release(&h);
	strmap_release(&chain);
	vault_free(v);
	return r;
}
