/*
 * labtape import git (gitimport.h, doc/imports.md "git").
 *
 * NOTES ON THE RECORD
 *
 *  1. The commits imported are the first-parent line of the range's end,
 *     oldest first, minus what is reachable from its start (as `git log
 *     --first-parent A..B`). Each is one import unit keyed by its full id;
 *     a merge is its diff against its first parent.
 *  2. Every event of a commit has its id as group, its committer time as
 *     time; edits have its author ("Name <email>") as actor. A file's
 *     events carry its path at that commit in `path` and `part`.
 *  3. A file is a document `git:NAME:PATH`, PATH where it first appeared;
 *     renames (libgit2's git_diff_find_similar, as `git log` finds them)
 *     keep the id. A new file at a path whose id a living document holds
 *     (it was renamed away) is `git:NAME:PATH@<12 hex of the commit>`.
 *  4. Text (valid UTF-8, no NUL, at most 8 MiB, as the files source says)
 *     is a `snapshot` when it appears, then insert/delete/replace edits
 *     from text_diff(), and a snapshot again after `snapshot_every` edits
 *     (counted within one import). Anything else is an fs.blob of chunks.
 *     A rename is a structural {"action":"rename","from","to"}, a delete
 *     a structural {"action":"delete"}. Each of these resets nothing but
 *     what it says; a snapshot, a blob or a delete resets the whole.
 *  5. The ledger entry of a commit has "after": its first parent, when
 *     that was imported (before, or just now). A commit whose parent was
 *     not (the first of a range, or a root) starts anew: its unit begins
 *     with a snapshot of every file of the parent's tree, so that its
 *     line rebuilds without anything before it (gitrec.h).
 *  6. Going on from a parent imported before, the files at the parent
 *     and their documents are read back from the vault (gitrec_files):
 *     the ids must be those the earlier import gave.
 *  7. Paths that are not UTF-8 cannot be named in an event: such files
 *     are left out and counted. Submodules (gitlinks) have no content
 *     here and are left out; symbolic links are files whose content is
 *     their target, as `git show` prints them.
 *  8. A file's old version in a commit is the new one of the commit that
 *     changed it last: each file keeps its blob (up to KEEP_MAX bytes in
 *     all), so that each version is inflated once, not twice.
 *  9. Most commits change a few files in a few folders: tree_diff()
 *     compares trees itself, skipping equal subtrees, three times as fast
 *     as libgit2's diff, which walks every entry. Only a commit that
 *     adds and deletes files, where renames may hide, goes through
 *     libgit2's diff and git_diff_find_similar().
 */
#include "gitimport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>
#include <git2/sys/repository.h>
#include <jansson.h>

#include "buf.h"
#include "error.h"
#include "gitrec.h"
#include "strmap.h"
#include "text.h"
#include "xalloc.h"
#include "banned.h"

#define TEXT_MAX (8u << 20)
#define SNAPSHOT_EVERY 300
/* How much of the files' last versions to keep at most (note 8). */
#define KEEP_MAX ((size_t)256 << 20)

struct gfile {
	char *doc;
	unsigned since;		/* edits since its last snapshot (note 4) */
	git_blob *last;		/* its content now, if kept (note 8) */
	int last_text;		/* last is text (note 4) */
	int new_text;		/* what emit_content() found of the new one */
};

struct gi {
	git_repository *repo;
	struct vault *v;
	struct import *im;
	struct gitimport_result *res;
	const char *input;
	char *name;
	struct gitrec rec;
	unsigned every;

	/* The files of the commit last imported (cur): path -> struct gfile *
	 * (NULL: none there now), and the ids they hold: doc -> non-NULL. */
	struct strmap files, live;
	size_t kept;		/* bytes of the files' last blobs */
	git_oid cur;
	int have_cur;

	/* The commit being imported. */
	char hex[GIT_OID_HEXSZ + 1];
	int64_t ts;
	struct buf actor;
	struct text_edits ed;
	struct buf scratch;
};

static int git_fail(const char *what)
{
	const git_error *e = git_error_last();

	return lt_error(LT_EINVAL, "%s: %s", what,
			e && e->message ? e->message : "unknown libgit2 error");
}

/* s[0..n) as UTF-8, each byte of an invalid sequence as U+FFFD. */
static void utf8_clean(struct buf *out, const char *s, size_t n)
{
	buf_reset(out);
	while (n) {
		size_t ok = text_utf8_check(s, n);
		buf_add(out, s, ok);
		if (ok == n)
			break;
		buf_addstr(out, "\xef\xbf\xbd");
		s += ok + 1;
		n -= ok + 1;
	}
}

static int is_utf8(const char *s)
{
	size_t n = strlen(s);

	return text_utf8_check(s, n) == n;
}

static int is_file_mode(uint32_t mode)
{
	return mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE ||
	       mode == GIT_FILEMODE_LINK;
}

static int is_text(const char *p, size_t n)
{
	return n <= TEXT_MAX && !memchr(p, 0, n) && text_utf8_check(p, n) == n;
}

static void bad_path(struct gi *g)
{
	if (!g->res->bad_paths++) {
		struct buf b = BUF_INIT;
		buf_addf(&b, "commit %s", g->hex);
		g->res->bad_example = buf_detach(&b, NULL);
	}
}

/* ---- The files of the current commit ------------------------------------ */

static struct gfile *file_get(struct gi *g, const char *path)
{
	struct strmap_ent *e = strmap_get(&g->files, path);

	return e ? e->val : NULL;
}

/* Takes f off path (the caller keeps it). */
static struct gfile *file_take(struct gi *g, const char *path)
{
	struct strmap_ent *e = strmap_get(&g->files, path);
	struct gfile *f = e ? e->val : NULL;

	if (f)
		e->val = NULL;
	return f;
}

/* f's content is now blob, which it keeps if there is room (note 8);
 * takes blob. */
static void file_keep(struct gi *g, struct gfile *f, git_blob *blob)
{
	size_t n = blob ? (size_t)git_blob_rawsize(blob) : 0;

	if (f->last) {
		g->kept -= (size_t)git_blob_rawsize(f->last);
		git_blob_free(f->last);
		f->last = NULL;
	}
	if (blob && g->kept + n <= KEEP_MAX) {
		f->last = blob;
		f->last_text = f->new_text;
		g->kept += n;
	} else {
		git_blob_free(blob);
	}
}

static void file_free(struct gi *g, struct gfile *f)
{
	struct strmap_ent *e = strmap_get(&g->live, f->doc);

	if (e && e->val == f)
		e->val = NULL;
	file_keep(g, f, NULL);
	free(f->doc);
	free(f);
}

static void file_put(struct gi *g, const char *path, struct gfile *f)
{
	struct strmap_ent *e = strmap_put(&g->files, path);

	if (e->val)	/* cannot happen: deletes and renames went first */
		file_free(g, e->val);
	e->val = f;
	strmap_put(&g->live, f->doc)->val = f;
}

static void files_clear(struct gi *g)
{
	for (size_t i = 0; i < g->files.size; i++)
		if (g->files.v[i].key && g->files.v[i].val)
			file_free(g, g->files.v[i].val);
	strmap_release(&g->files);
	strmap_release(&g->live);
	g->have_cur = 0;
}

/* A new document for a file that appears at path (note 3). */
static struct gfile *file_new(struct gi *g, const char *path)
{
	struct gfile *f = xcalloc(1, sizeof(*f));
	struct buf id = BUF_INIT;
	struct strmap_ent *e;

	buf_addf(&id, "git:%s:%s", g->name, path);
	e = strmap_get(&g->live, id.data);
	if (e && e->val)
		buf_addf(&id, "@%.12s", g->hex);
	f->doc = buf_detach(&id, NULL);
	return f;
}

/* The files at commit id, as an earlier import left them (note 6). */
static int files_from_vault(struct gi *g, const char *id)
{
	struct strmap chain = STRMAP_INIT;
	struct gitrec_files fs = GITREC_FILES_INIT;
	size_t idx;
	int r;

	files_clear(g);
	if ((r = gitrec_find(&g->rec, id, &idx)) < 0)
		return r;
	gitrec_chain(&g->rec, idx, &chain);
	r = gitrec_files(g->v, g->res->stream, &chain, &fs);
	for (size_t i = 0; !r && i < fs.n; i++) {
		struct gfile *f;
		if (fs.v[i].gone || file_get(g, fs.v[i].path))
			continue;
		f = xcalloc(1, sizeof(*f));
		f->doc = xstrdup(fs.v[i].doc);
		file_put(g, fs.v[i].path, f);
	}
	gitrec_files_release(&fs);
	strmap_release(&chain);
	return r;
}

/* ---- Events ------------------------------------------------------------- */

static int emit_snapshot(struct gi *g, struct gfile *f, const char *path,
			 const char *text, size_t len)
{
	struct ev_edit e = { .doc = f->doc, .part = path, .path = path,
			     .actor = g->actor.data, .op = "snapshot",
			     .group = g->hex, .text = text, .text_len = len };

	f->since = 0;
	return import_edit(g->im, g->ts, &e);
}

/* The edits from a to b (a is text); LT_EINVAL if b is not UTF-8. */
static int emit_edits(struct gi *g, struct gfile *f, const char *path,
		      const char *a, size_t alen, const char *b, size_t blen)
{
	int r;

	if ((r = text_diff(a, alen, b, blen, NULL, &g->ed)) < 0)
		return r;
	for (size_t i = 0; i < g->ed.n; i++) {
		const struct text_edit *t = &g->ed.v[i];
		struct ev_edit e = { .doc = f->doc, .part = path, .path = path,
				     .actor = g->actor.data,
				     .op = text_op_name(t->op), .group = g->hex,
				     .pos = (int64_t)t->pos, .has_pos = 1 };
		if (t->op != TEXT_INSERT) {
			e.len = (int64_t)t->len;
			e.has_len = 1;
			e.del = t->del;
			e.del_len = t->del_len;
		}
		if (t->op != TEXT_DELETE) {
			e.ins = t->ins;
			e.ins_len = t->ins_len;
		}
		/* Not LT_EINVAL, which would say that b is not UTF-8. */
		if ((r = import_edit(g->im, g->ts, &e)) < 0)
			return r == LT_EINVAL ? LT_ECORRUPT : r;
		f->since++;
	}
	if (f->since >= g->every)
		return emit_snapshot(g, f, path, b, blen);
	return 0;
}

static int emit_structural(struct gi *g, struct gfile *f, const char *path,
			   json_t *detail)
{
	json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}",
			      "doc", f->doc, "part", path, "path", path,
			      "actor", g->actor.data, "group", g->hex,
			      "op", "structural", "detail", detail);

	return import_edit_json(g->im, g->ts, d);
}

static int blob_load(struct gi *g, const git_oid *id, git_blob **out)
{
	if (git_blob_lookup(out, g->repo, id) < 0)
		return git_fail("cannot read a file of the commit");
	return 0;
}

/*
 * The content of f at path becomes new (note 4); old is what it was
 * (NULL: nothing diffable, so the whole content is recorded).
 */
static int emit_content(struct gi *g, struct gfile *f, const char *path,
			const git_blob *old, const git_blob *new)
{
	const char *b = git_blob_rawcontent(new);
	size_t blen = (size_t)git_blob_rawsize(new);
	int r;

	f->new_text = blen <= TEXT_MAX && !memchr(b, 0, blen);
	if (f->new_text && old) {
		const char *a = git_blob_rawcontent(old);
		size_t alen = (size_t)git_blob_rawsize(old);
		/* text_diff() checks that b is UTF-8 (is_text() would be a
		 * third pass over it). */
		if (old == f->last ? f->last_text : is_text(a, alen)) {
			r = emit_edits(g, f, path, a, alen, b, blen);
			if (r != LT_EINVAL)
				return r;
			f->new_text = 0;
		}
	}
	if (f->new_text && text_utf8_check(b, blen) == blen)
		return emit_snapshot(g, f, path, b, blen);
	f->new_text = 0;
	return import_blob(g->im, g->ts, f->doc, path, g->hex, g->actor.data,
			   b, blen);
}

/* A file that appears at path with blob id. */
static int add_file(struct gi *g, const char *path, const git_oid *id)
{
	struct gfile *f;
	git_blob *blob;
	int r;

	if (!is_utf8(path)) {
		bad_path(g);
		return 0;
	}
	if ((r = blob_load(g, id, &blob)) < 0)
		return r;
	f = file_new(g, path);
	file_put(g, path, f);
	r = emit_content(g, f, path, NULL, blob);
	file_keep(g, f, blob);
	return r;
}

/* ---- One commit --------------------------------------------------------- */

struct base_walk {
	struct gi *g;
	struct buf path;
	int r;
};

static int base_entry(const char *root, const git_tree_entry *e, void *ctx)
{
	struct base_walk *w = ctx;

	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
	    !is_file_mode(git_tree_entry_filemode(e)))
		return 0;
	buf_reset(&w->path);
	buf_addf(&w->path, "%s%s", root, git_tree_entry_name(e));
	if ((w->r = add_file(w->g, w->path.data, git_tree_entry_id(e))) < 0)
		return -1;
	return 0;
}

/* A commit that starts anew: every file of the parent's tree, as it was
 * (note 5). */
static int base_snapshot(struct gi *g, git_tree *tree)
{
	struct base_walk w = { g, BUF_INIT, 0 };
	int r;

	files_clear(g);
	r = git_tree_walk(tree, GIT_TREEWALK_PRE, base_entry, &w);
	buf_release(&w.path);
	if (w.r < 0)
		return w.r;
	return r < 0 ? git_fail("cannot read the range's first tree") : 0;
}

/* Whether the delta's side is a file we record. */
static int side_ok(struct gi *g, const git_diff_file *s, int count)
{
	if (!is_file_mode(s->mode))
		return 0;
	if (!is_utf8(s->path)) {
		if (count)
			bad_path(g);
		return 0;
	}
	return 1;
}

/* Content change of the file at path (old and new blob ids). */
static int change(struct gi *g, struct gfile *f, const char *path,
		  const git_oid *old_id, const git_oid *new_id)
{
	git_blob *a = NULL, *b = NULL;
	int r;

	if (git_oid_equal(old_id, new_id))
		return 0;
	if (f->last && git_oid_equal(git_blob_id(f->last), old_id))
		a = f->last;
	else if ((r = blob_load(g, old_id, &a)) < 0)
		return r;
	if ((r = blob_load(g, new_id, &b)) == 0)
		r = emit_content(g, f, path, a, b);
	if (a != f->last)
		git_blob_free(a);
	file_keep(g, f, b);
	return r;
}

enum phase { P_DELETE, P_RENAME_FROM, P_RENAME_TO, P_MODIFY, P_ADD, P_END };

/*
 * The deltas of one commit, in phases so that a path is free before
 * anything takes it: deletes, renames away, renames to, changes, adds.
 */
static int apply_delta(struct gi *g, const git_diff_delta *d, enum phase ph,
		       struct gfile **moving)
{
	const git_diff_file *o = &d->old_file, *n = &d->new_file;
	int ook, nok, renamed = d->status == GIT_DELTA_RENAMED;
	struct gfile *f;
	int r;

	if (d->status == GIT_DELTA_UNMODIFIED || d->status == GIT_DELTA_IGNORED ||
	    d->status == GIT_DELTA_UNTRACKED)
		return 0;
	ook = d->status != GIT_DELTA_ADDED && side_ok(g, o, 0);
	nok = d->status != GIT_DELTA_DELETED && side_ok(g, n, ph == P_ADD);
	f = ook ? file_get(g, o->path) : NULL;

	switch (ph) {
	case P_DELETE:
		/* Gone, or no longer a file we record. */
		if (!f || nok)
			return 0;
		if ((r = emit_structural(g, f, o->path,
				json_pack("{s:s}", "action", "delete"))) < 0)
			return r;
		file_free(g, file_take(g, o->path));
		return 0;
	case P_RENAME_FROM:
		if (renamed && f && nok)
			*moving = file_take(g, o->path);
		return 0;
	case P_RENAME_TO:
		if (!renamed || !*moving)
			return 0;
		f = *moving;
		*moving = NULL;
		file_put(g, n->path, f);
		if ((r = emit_structural(g, f, n->path,
				json_pack("{s:s, s:s, s:s}", "action", "rename",
					  "from", o->path, "to", n->path))) < 0)
			return r;
		return change(g, f, n->path, &o->id, &n->id);
	case P_MODIFY:
		if (renamed || !f || !nok)
			return 0;
		return change(g, f, n->path, &o->id, &n->id);
	case P_ADD:
		/* A new file, or one whose old side we did not record. */
		if (!nok || file_get(g, n->path))
			return 0;
		return add_file(g, n->path, &n->id);
	default:
		return 0;
	}
}

/* The deltas of one commit, made by tree_diff() (note 9). */
struct deltas {
	git_diff_delta *v;
	size_t n, alloc;
	size_t added, deleted;
};

static void deltas_release(struct deltas *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free((char *)d->v[i].old_file.path);
		if (d->v[i].new_file.path != d->v[i].old_file.path)
			free((char *)d->v[i].new_file.path);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

static void delta_side(git_diff_file *f, const git_tree_entry *e, char *path)
{
	f->path = path;
	if (e) {
		f->id = *git_tree_entry_id(e);
		f->mode = git_tree_entry_filemode(e);
	}
}

static void delta_add(struct deltas *d, git_delta_t status,
		      const struct buf *prefix, const git_tree_entry *a,
		      const git_tree_entry *b)
{
	git_diff_delta *x;
	struct buf path = BUF_INIT;
	char *p;

	buf_addf(&path, "%s%s", prefix->data,
		 git_tree_entry_name(a ? a : b));
	p = buf_detach(&path, NULL);
	XGROW(d->v, d->n + 1, d->alloc);
	x = &d->v[d->n++];
	memset(x, 0, sizeof(*x));
	x->status = status;
	delta_side(&x->old_file, a, p);
	delta_side(&x->new_file, b, p);
	d->added += status == GIT_DELTA_ADDED;
	d->deleted += status == GIT_DELTA_DELETED;
}

/* The class of a mode, as a typechange sees it. */
static int mode_class(uint32_t mode)
{
	return mode == GIT_FILEMODE_BLOB_EXECUTABLE ? GIT_FILEMODE_BLOB : (int)mode;
}

/*
 * Compares trees a and b (either may be NULL) under prefix, as libgit2's
 * diff does without rename detection, but skipping subtrees whose ids are
 * equal (note 9).
 */
static int tree_diff(struct gi *g, const git_tree *a, const git_tree *b,
		     struct buf *prefix, struct deltas *out)
{
	size_t na = a ? git_tree_entrycount(a) : 0, i = 0;
	size_t nb = b ? git_tree_entrycount(b) : 0, j = 0;
	size_t plen = prefix->len;
	int r = 0;

	while (!r && (i < na || j < nb)) {
		const git_tree_entry *x = i < na ? git_tree_entry_byindex(a, i) : NULL;
		const git_tree_entry *y = j < nb ? git_tree_entry_byindex(b, j) : NULL;
		int c = !x ? 1 : !y ? -1 : git_tree_entry_cmp(x, y);
		int xt = x && git_tree_entry_type(x) == GIT_OBJECT_TREE;
		int yt = y && git_tree_entry_type(y) == GIT_OBJECT_TREE;
		git_tree *sx = NULL, *sy = NULL;

		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
		if (c == 0 && git_oid_equal(git_tree_entry_id(x),
					    git_tree_entry_id(y)) &&
		    git_tree_entry_filemode(x) == git_tree_entry_filemode(y))
			continue;
		if (c > 0)
			x = NULL, xt = 0;
		if (c < 0)
			y = NULL, yt = 0;
		if (x && y && !xt && !yt) {
			delta_add(out, mode_class(git_tree_entry_filemode(x)) ==
				  mode_class(git_tree_entry_filemode(y)) ?
				  GIT_DELTA_MODIFIED : GIT_DELTA_TYPECHANGE,
				  prefix, x, y);
			continue;
		}
		if (x && !xt)
			delta_add(out, GIT_DELTA_DELETED, prefix, x, NULL);
		if (y && !yt)
			delta_add(out, GIT_DELTA_ADDED, prefix, NULL, y);
		if (!xt && !yt)
			continue;
		if ((xt && git_tree_lookup(&sx, g->repo, git_tree_entry_id(x)) < 0) ||
		    (yt && git_tree_lookup(&sy, g->repo, git_tree_entry_id(y)) < 0)) {
			r = git_fail("cannot read a tree of the commit");
		} else {
			buf_addf(prefix, "%s/", git_tree_entry_name(xt ? x : y));
			r = tree_diff(g, sx, sy, prefix, out);
			buf_setlen(prefix, plen);
		}
		git_tree_free(sx);
		git_tree_free(sy);
	}
	return r;
}

/* The deltas through libgit2's diff, renames found: for a commit that
 * adds and deletes files. */
static int find_renames(struct gi *g, git_tree *from, git_tree *to,
			git_diff **out)
{
	git_diff_options dopts;
	git_diff_find_options fopts;

	git_diff_options_init(&dopts, GIT_DIFF_OPTIONS_VERSION);
	git_diff_find_options_init(&fopts, GIT_DIFF_FIND_OPTIONS_VERSION);
	/* Content is read here, not by the diff. */
	dopts.flags = GIT_DIFF_SKIP_BINARY_CHECK | GIT_DIFF_INCLUDE_TYPECHANGE;
	fopts.flags = GIT_DIFF_FIND_RENAMES;
	if (git_diff_tree_to_tree(out, g->repo, from, to, &dopts) < 0 ||
	    git_diff_find_similar(*out, &fopts) < 0) {
		git_diff_free(*out);
		*out = NULL;
		return git_fail("cannot diff the commit");
	}
	return 0;
}

static int apply_diff(struct gi *g, git_tree *from, git_tree *to)
{
	struct deltas d = { 0 };
	struct buf prefix = BUF_INIT;
	git_diff *diff = NULL;
	struct gfile **moving = NULL;
	size_t n;
	int r;

	buf_addstr(&prefix, "");
	r = tree_diff(g, from, to, &prefix, &d);
	buf_release(&prefix);
	if (!r && d.added && d.deleted)
		r = find_renames(g, from, to, &diff);
	if (r < 0) {
		deltas_release(&d);
		return r;
	}
	n = diff ? git_diff_num_deltas(diff) : d.n;
	moving = xcalloc(n ? n : 1, sizeof(*moving));
	for (enum phase ph = P_DELETE; ph < P_END && !r; ph++)
		for (size_t i = 0; i < n && !r; i++)
			r = apply_delta(g, diff ? git_diff_get_delta(diff, i)
					: &d.v[i], ph, &moving[i]);
	for (size_t i = 0; i < n; i++)
		if (moving[i])
			file_free(g, moving[i]);
	free(moving);
	git_diff_free(diff);
	deltas_release(&d);
	return r;
}

static json_t *jclean(struct gi *g, const char *s)
{
	utf8_clean(&g->scratch, s ? s : "", s ? strlen(s) : 0);
	return json_stringn(g->scratch.data, g->scratch.len);
}

static json_t *sig_json(struct gi *g, const git_signature *s)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", jclean(g, s->name));
	json_object_set_new(o, "email", jclean(g, s->email));
	json_object_set_new(o, "time", json_integer(s->when.time));
	json_object_set_new(o, "offset", json_integer(s->when.offset));
	return o;
}

/* The ledger entry's fields (note 5): "after" and the commit's header. */
static json_t *unit_fields(struct gi *g, git_commit *c, const char *after)
{
	json_t *d = json_object(), *native = json_object();
	json_t *parents = json_array();
	char hex[GIT_OID_HEXSZ + 1];

	for (unsigned i = 0; i < git_commit_parentcount(c); i++)
		json_array_append_new(parents, json_string(
			git_oid_tostr(hex, sizeof(hex),
				      git_commit_parent_id(c, i))));
	json_object_set_new(native, "commit", json_string(g->hex));
	json_object_set_new(native, "parents", parents);
	json_object_set_new(native, "author", sig_json(g, git_commit_author(c)));
	json_object_set_new(native, "committer",
			    sig_json(g, git_commit_committer(c)));
	json_object_set_new(native, "message",
			    jclean(g, git_commit_message_raw(c)));
	if (git_commit_message_encoding(c))
		json_object_set_new(native, "encoding",
				    jclean(g, git_commit_message_encoding(c)));
	if (after)
		json_object_set_new(d, "after", json_string(after));
	json_object_set_new(d, "native", native);
	return d;
}

static int one_commit(struct gi *g, git_commit *c)
{
	const git_signature *a = git_commit_author(c);
	git_commit *parent = NULL;
	git_tree *ptree = NULL, *tree = NULL;
	char phex[GIT_OID_HEXSZ + 1] = "";
	const char *after = NULL;
	int r = 0;

	git_oid_tostr(g->hex, sizeof(g->hex), git_commit_id(c));
	g->ts = (int64_t)git_commit_time(c) * 1000000000LL;
	utf8_clean(&g->scratch, a->name, strlen(a->name));
	buf_reset(&g->actor);
	buf_addf(&g->actor, "%s <", g->scratch.data);
	utf8_clean(&g->scratch, a->email, strlen(a->email));
	buf_addf(&g->actor, "%s>", g->scratch.data);

	if (git_commit_tree(&tree, c) < 0 ||
	    (git_commit_parentcount(c) &&
	     (git_commit_parent(&parent, c, 0) < 0 ||
	      git_commit_tree(&ptree, parent) < 0))) {
		r = git_fail("cannot read the commit");
		goto out;
	}
	if (parent) {
		const git_oid *pid = git_commit_id(parent);
		git_oid_tostr(phex, sizeof(phex), pid);
		if (g->have_cur && git_oid_equal(&g->cur, pid))
			after = phex;
		else if (strmap_get(&g->rec.ids, phex) &&
			 (r = files_from_vault(g, phex)) == 0)
			after = phex;
		if (r < 0)
			goto out;
		if (!after && (r = base_snapshot(g, ptree)) < 0)
			goto out;
	} else {
		files_clear(g);
	}
	if ((r = apply_diff(g, ptree, tree)) < 0)
		goto out;
	r = import_unit_done_with(g->im, g->hex, g->ts,
				  unit_fields(g, c, after));
	if (!r) {
		g->cur = *git_commit_id(c);
		g->have_cur = 1;
	}
out:
	if (r < 0)
		lt_error_wrap(r, "commit %s", g->hex);
	git_tree_free(tree);
	git_tree_free(ptree);
	git_commit_free(parent);
	return r;
}

/* ---- The range ---------------------------------------------------------- */

/* The folder's name: the work tree's, or the bare repository's without
 * ".git". */
static char *repo_name(git_repository *repo)
{
	const char *dir = git_repository_workdir(repo);
	struct buf b = BUF_INIT;
	char *slash;

	buf_addstr(&b, dir ? dir : git_repository_path(repo));
	while (b.len > 1 && b.data[b.len - 1] == '/')
		buf_setlen(&b, b.len - 1);
	if (!dir && b.len > 5 && !strcmp(b.data + b.len - 5, "/.git"))
		buf_setlen(&b, b.len - 5);
	if (!dir && b.len > 4 && !strcmp(b.data + b.len - 4, ".git"))
		buf_setlen(&b, b.len - 4);
	slash = strrchr(b.data, '/');
	if (slash) {
		char *name = xstrdup(slash + 1);
		buf_release(&b);
		return name;
	}
	return buf_detach(&b, NULL);
}

static int peel(git_object *obj, git_oid *out, const char *what)
{
	git_object *c = NULL;

	if (git_object_peel(&c, obj, GIT_OBJECT_COMMIT) < 0)
		return git_fail(what);
	*out = *git_object_id(c);
	git_object_free(c);
	return 0;
}

/*
 * The commits to import, oldest first (note 1): the first-parent line
 * from the range's end, down to what its start reaches.
 */
static int list_commits(struct gi *g, const char *range, git_oid **out,
			size_t *n)
{
	git_revspec spec;
	git_revwalk *walk = NULL;
	git_oid end, start, id;
	struct strmap in = STRMAP_INIT;
	git_oid *v = NULL;
	size_t alloc = 0, k = 0;
	char hex[GIT_OID_HEXSZ + 1];
	int r, ranged;

	memset(&spec, 0, sizeof(spec));
	if (git_revparse(&spec, g->repo, range) < 0)
		return git_fail(range);
	ranged = (spec.flags & GIT_REVSPEC_RANGE) != 0;
	if (spec.flags & GIT_REVSPEC_MERGE_BASE) {
		r = lt_error(LT_EINVAL, "'%s': A...B is not a first-parent "
			     "range; use A..B", range);
		goto out;
	}
	if ((r = peel(ranged ? spec.to : spec.from, &end,
		      "the range's end is not a commit")) < 0 ||
	    (ranged && (r = peel(spec.from, &start,
				 "the range's start is not a commit")) < 0))
		goto out;
	if (git_revwalk_new(&walk, g->repo) < 0 ||
	    git_revwalk_push(walk, &end) < 0 ||
	    (ranged && git_revwalk_hide(walk, &start) < 0)) {
		r = git_fail("cannot walk the history");
		goto out;
	}
	git_revwalk_simplify_first_parent(walk);
	while ((r = git_revwalk_next(&id, walk)) == 0)
		strmap_put(&in, git_oid_tostr(hex, sizeof(hex), &id))->val =
			(void *)1;
	if (r != GIT_ITEROVER) {
		r = git_fail("cannot walk the history");
		goto out;
	}
	r = 0;
	/* The line itself, newest first, then turned around. */
	id = end;
	while (strmap_get(&in, git_oid_tostr(hex, sizeof(hex), &id))) {
		git_commit *c;
		XGROW(v, k + 1, alloc);
		v[k++] = id;
		if (git_commit_lookup(&c, g->repo, &id) < 0) {
			r = git_fail("cannot read a commit");
			goto out;
		}
		if (!git_commit_parentcount(c)) {
			git_commit_free(c);
			break;
		}
		id = *git_commit_parent_id(c, 0);
		git_commit_free(c);
	}
	for (size_t i = 0; i < k / 2; i++) {
		git_oid t = v[i];
		v[i] = v[k - 1 - i];
		v[k - 1 - i] = t;
	}
out:
	git_revwalk_free(walk);
	git_object_free(spec.from);
	git_object_free(spec.to);
	strmap_release(&in);
	if (r < 0) {
		free(v);
		return r;
	}
	*out = v;
	*n = k;
	return 0;
}

static int run(struct gi *g, const struct gitimport_opts *o)
{
	struct import_opts io = { "git", o->repo, g->res->stream, o->progress };
	git_oid *list = NULL;
	size_t n = 0;
	int r;

	if ((r = list_commits(g, o->range ? o->range : "HEAD", &list, &n)) < 0)
		return r;
	g->res->commits = n;
	if ((r = gitrec_load(&g->rec, g->v, g->res->stream)) < 0 ||
	    (r = import_open(&g->im, g->v, &io)) < 0) {
		free(list);
		return r;
	}
	for (size_t i = 0; i < n && !r; i++) {
		char hex[GIT_OID_HEXSZ + 1];
		git_commit *c;

		import_progress(g->im, i, n);
		git_oid_tostr(hex, sizeof(hex), &list[i]);
		if (import_seen(g->im, hex)) {
			import_skipped(g->im);
			g->have_cur = 0;
			continue;
		}
		if (git_commit_lookup(&c, g->repo, &list[i]) < 0) {
			r = git_fail("cannot read a commit");
			break;
		}
		r = one_commit(g, c);
		git_commit_free(c);
	}
	free(list);
	if (r < 0) {
		import_abort(g->im);
	} else {
		import_progress(g->im, n, n);
		r = import_commit(g->im, &g->res->sum);
	}
	g->im = NULL;
	return r;
}

/*
 * Each diff takes a snapshot of the repository's configuration, which
 * stats its files again to see if they changed: the repository gets a
 * snapshot of its own instead, taken once (the import does not write
 * the configuration, and one that changes meanwhile is read as it was).
 */
static void freeze_config(git_repository *repo)
{
	git_config *cfg = NULL, *snap = NULL;

	if (git_repository_config(&cfg, repo) == 0 &&
	    git_config_snapshot(&snap, cfg) == 0)
		git_repository_set_config(repo, snap);
	git_config_free(snap);
	git_config_free(cfg);
}

int gitimport_run(struct vault *v, const struct gitimport_opts *o,
		  struct gitimport_result *res)
{
	struct gi g;
	int r;

	memset(&g, 0, sizeof(g));
	g.v = v;
	g.res = res;
	g.input = o->repo;
	g.every = o->snapshot_every ? o->snapshot_every : SNAPSHOT_EVERY;
	buf_init(&g.actor, 0);
	buf_init(&g.scratch, 0);
	text_edits_init(&g.ed);
	git_libgit2_init();
	/* git itself does not hash every object it reads again; zlib's
	 * checksum still finds a damaged one. A sixth of the time. */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	if (git_repository_open_ext(&g.repo, o->repo,
				    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		r = git_fail("not a git repository");
		goto out;
	}
	freeze_config(g.repo);
	g.name = repo_name(g.repo);
	if (!g.name[0] || !is_utf8(g.name)) {
		r = lt_error(LT_EINVAL, "the repository's folder name is not "
			     "UTF-8 (rename the folder)");
		goto out;
	}
	res->stream = xmalloc(strlen(g.name) + 5);
	memcpy(res->stream, "git:", 4);
	memcpy(res->stream + 4, g.name, strlen(g.name) + 1);
	r = run(&g, o);
out:
	files_clear(&g);
	gitrec_release(&g.rec);
	text_edits_release(&g.ed);
	buf_release(&g.actor);
	buf_release(&g.scratch);
	free(g.name);
	git_repository_free(g.repo);
	git_libgit2_shutdown();
	return r;
}

void gitimport_result_release(struct gitimport_result *res)
{
	free(res->stream);
	free(res->bad_example);
	memset(res, 0, sizeof(*res));
}
