/*
 * The files source: every save of every file in the watched trees, as
 * edit operations against the version recorded before (doc/files-source.md
 * is the contract for what is emitted).
 *
 * NOTES ON THE DESIGN
 *
 *  1. One inotify descriptor for every root, read from a uv_poll_t. Each
 *     folder has a node (parent, name, watch descriptor, its .gitignore);
 *     paths are built by walking up, so moving a folder is relinking one
 *     node. Symbolic links are never followed: not as folders, not as
 *     files (O_NOFOLLOW); they are not recorded at all.
 *  2. Events only mark a path dirty. A path is reconciled 50 ms after its
 *     last event (at most 250 ms after its first, so that a save reaches
 *     the vault within the recorder's flush interval): what is on disk now
 *     is compared with the shadow cache (files-shadow.c). So an editor's
 *     several writes are one save, and a temporary file that is renamed
 *     away before then leaves nothing. A file modified (IN_MODIFY) and not
 *     closed since waits for its close, up to those 250 ms: a writer that
 *     stalls between truncating and writing is not read half-way.
 *  3. A rename pairs IN_MOVED_FROM with the IN_MOVED_TO of the same cookie.
 *     Onto a path that already is a document, it is a save of that
 *     document (an editor's write-then-rename); otherwise the document
 *     follows: a structural rename, and the shadow moves with it. A
 *     MOVED_FROM left unpaired for 20 ms is a move out of the tree.
 *  4. A known document found missing is given 300 ms more before its
 *     delete is recorded, for editors that move the original aside and
 *     then write a new file (vim: x -> x~, write x).
 *  5. Baseline: at start, and for folders that appear, folders are
 *     scanned from an idle handle a few milliseconds at a time (the loop
 *     stays responsive). A file whose size and mtime match its shadow is
 *     not read, unless its mtime is too close to when the shadow was
 *     written to tell (git's "racy clean" problem).
 *  6. Crashes: events are durable only once the recorder commits, up to a
 *     flush interval later; the shadow is written at once. So a shadow
 *     written shortly before a crash (flush interval + 5 s before the
 *     newest write in the cache), or before a clean stop (whose last
 *     commit may fail unseen), or around a failed emit (a full disk) is
 *     not trusted: its document's next record is a snapshot, never edits
 *     against a version the vault may have lost. The first scan after a
 *     start takes those snapshots.
 *  7. Pause: the recorder drops everything emitted, so nothing is read.
 *     Paths that change are remembered; on resume each is reconciled
 *     quietly: a changed document forgets its base (its next save is a
 *     snapshot of the content then), a new file waits for its first save,
 *     and a deleted one is recorded as deleted. Nothing saved during the
 *     pause reaches the vault.
 *  8. Idle costs nothing: the timer and the idle handle run only while
 *     work is pending; memory is one node per folder, no file content.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "config.h"
#include "error.h"
#include "events.h"
#include "fileio.h"
#include "files-int.h"
#include "ltime.h"
#include "text.h"
#include "xalloc.h"
#include "banned.h"

#define DEBOUNCE_MS 50
#define MAX_DELAY_MS 250
#define GRACE_MS 300
#define MOVE_PAIR_MS 20
#define SCAN_SLICE_NS (5 * 1000000LL)
#define CRASH_MARGIN_NS (5 * LT_NS_PER_SEC)
/* After the recorder's last commit, at most a flush interval and this. */
#define STOP_MARGIN_NS (250 * 1000000LL)
/* Text files that are not UTF-8 named in the log, at most. */
#define WARN_ENC_MAX 20
/* An mtime this close to the shadow's writing may hide a later write. */
#define RACY_NS LT_NS_PER_SEC

/* IN_MODIFY too: a save that starts (a truncation) while the previous one
 * waits out its debounce postpones the read, rather than letting it see a
 * file half rewritten. */
#define WATCH_MASK (IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO | \
		    IN_CREATE | \
		    IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR |   \
		    IN_EXCL_UNLINK)

#define container_of(p, type, member)                                          \
	((type *)(void *)((char *)(p) - offsetof(type, member)))

/* ---- a small intrusive hash table ----------------------------------- */

struct hnode {
	struct hnode *next;
	uint64_t hash;
};

struct htab {
	struct hnode **b;
	size_t nb, n;
};

static void htab_add(struct htab *t, struct hnode *e, uint64_t hash)
{
	if (t->n >= t->nb) {
		size_t nb = t->nb ? t->nb * 2 : 64;
		struct hnode **b = xcalloc(nb, sizeof(*b));
		for (size_t i = 0; i < t->nb; i++) {
			for (struct hnode *x = t->b[i], *next; x; x = next) {
				next = x->next;
				x->next = b[x->hash & (nb - 1)];
				b[x->hash & (nb - 1)] = x;
			}
		}
		free(t->b);
		t->b = b;
		t->nb = nb;
	}
	e->hash = hash;
	e->next = t->b[hash & (t->nb - 1)];
	t->b[hash & (t->nb - 1)] = e;
	t->n++;
}

static void htab_del(struct htab *t, struct hnode *e)
{
	struct hnode **pp = &t->b[e->hash & (t->nb - 1)];

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	t->n--;
}

/* The first node with this hash; go on with htab_next(). */
static struct hnode *htab_get(const struct htab *t, uint64_t hash)
{
	struct hnode *x = t->nb ? t->b[hash & (t->nb - 1)] : NULL;

	while (x && x->hash != hash)
		x = x->next;
	return x;
}

static struct hnode *htab_next(struct hnode *x)
{
	uint64_t hash = x->hash;

	for (x = x->next; x && x->hash != hash; x = x->next)
		;
	return x;
}

/* ---- state ------------------------------------------------------------ */

struct files;

struct folder {
	struct hnode hn;		/* in files.wds, by wd */
	struct folder *parent, *child, *sibling;
	struct root *root;
	char *name;			/* "" for the root */
	int wd;				/* -1: not watched */
	struct globs *rules;	/* its .gitignore, or NULL */
	struct folder *scan_prev, *scan_next;
	unsigned queued : 1;
	unsigned scan_new : 1;		/* its files are new: mark them dirty */
};

struct root {
	struct files *f;
	char *path;			/* as configured */
	char *real;			/* realpath(path) */
	char *stream;			/* "fs:<path>" */
	struct files_shadow sh;
	struct folder *top;
	/* Shadows written in [from, to) may be ahead of the vault. */
	int64_t uncertain_from, uncertain_to;
};

enum mode {
	MODE_SAVE,	/* an event said the file changed: read it */
	MODE_SCAN,	/* the baseline: size and mtime may vouch for it */
	MODE_RESUME,	/* changed while paused: record nothing of it */
};

struct dirty {
	struct hnode hn;		/* in files.dirty, by root and path */
	struct dirty *prev, *next;	/* in order of arrival */
	struct root *root;
	char *path;
	uint64_t first, due;		/* uv_now(), ms */
	unsigned grace : 1;		/* found missing once already */
	unsigned quiet : 1;		/* changed while paused */
	unsigned fresh : 1;		/* its next record must be a snapshot */
	unsigned writing : 1;		/* modified, not yet closed (note 2) */
};

struct move {
	uint32_t cookie;
	struct root *root;
	char *path;
	int is_dir;
	uint64_t at;			/* uv_now(), ms */
};

struct files {
	struct source *s;
	int ifd;
	uv_poll_t poll;
	uv_timer_t timer;
	uv_idle_t idle;
	int handles;			/* open, for freeing after the last */
	struct root *roots;
	size_t nroots;
	struct htab wds;
	struct htab dirty;
	struct dirty *dhead, *dtail;
	struct folder *scan_head, *scan_tail;
	struct move *moves;
	size_t nmoves, amoves;
	struct globs *defaults, *excludes;
	char **forbidden;		/* folders never recorded (real paths) */
	size_t nforbidden;
	char *cache_dir;	/* all of labtape's cache: never recorded */
	char *shadow_dir;	/* this vault's part of it */
	char *actor;
	struct files_chunks *chunks;
	int paused;
	int warned_limit;
	unsigned warned_enc;		/* files named as not UTF-8 */
	int scanned;			/* the first scan is complete */
	int64_t started;		/* ns */
	int64_t lost_from, lost_to;	/* see note 6 */
	struct buf cur, prev;		/* file contents, reused */
	struct buf payload;		/* the edit.op being emitted */
	char evbuf[64 * 1024]
		__attribute__((aligned(__alignof__(struct inotify_event))));
};

static struct dirty *dirty_mark(struct files *f, struct root *rt,
				const char *path, int grace);
static void scan_queue(struct files *f, struct folder *d, int is_new);

/* ---- helpers ---------------------------------------------------------- */

static void warnf(struct files *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warnf(struct files *f, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	f->s->warn(f->s, b.data);
	buf_release(&b);
}

/* s with the bytes that are not UTF-8 as \xNN: fit for a log line. */
static void add_escaped(struct buf *out, const char *s)
{
	size_t n = strlen(s);

	while (n) {
		size_t ok = text_utf8_check(s, n);
		buf_add(out, s, ok);
		if (ok == n)
			break;
		buf_addf(out, "\\x%02x", (unsigned char)s[ok]);
		s += ok + 1;
		n -= ok + 1;
	}
}

static int64_t stat_mtime(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * LT_NS_PER_SEC + st->st_mtim.tv_nsec;
}

static void join(struct buf *out, const char *a, const char *b)
{
	buf_reset(out);
	if (!*a) {
		buf_addstr(out, b);
		return;
	}
	buf_addstr(out, a);
	if (*b) {
		if (a[strlen(a) - 1] != '/')
			buf_addch(out, '/');
		buf_addstr(out, b);
	}
}

/* The folder's path relative to its root ("" for the root). */
static void folder_path(const struct folder *d, struct buf *out)
{
	const struct folder *chain[256];
	size_t n = 0;

	buf_reset(out);
	for (; d && d->parent; d = d->parent) {
		if (n == sizeof(chain) / sizeof(chain[0])) {
			/* Deeper than this: build it the slow way. */
			struct buf up = BUF_INIT;
			folder_path(d, &up);
			buf_addstr(out, up.data);
			buf_release(&up);
			break;
		}
		chain[n++] = d;
	}
	while (n--) {
		if (out->len)
			buf_addch(out, '/');
		buf_addstr(out, chain[n]->name);
	}
}

static void abs_path(const struct root *rt, const char *rel, struct buf *out)
{
	join(out, rt->real, rel);
}

static uint64_t wd_hash(int wd)
{
	return (uint64_t)(unsigned)wd * UINT64_C(0x9E3779B97F4A7C15);
}

static struct folder *folder_by_wd(struct files *f, int wd)
{
	for (struct hnode *x = htab_get(&f->wds, wd_hash(wd)); x; x = htab_next(x)) {
		struct folder *d = container_of(x, struct folder, hn);
		if (d->wd == wd)
			return d;
	}
	return NULL;
}

static struct folder *folder_child(struct folder *d, const char *name)
{
	for (struct folder *c = d->child; c; c = c->sibling)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static void folder_link(struct folder *parent, struct folder *d)
{
	d->parent = parent;
	d->sibling = parent->child;
	parent->child = d;
}

static void folder_unlink(struct folder *d)
{
	struct folder **pp;

	if (!d->parent)
		return;
	for (pp = &d->parent->child; *pp != d; pp = &(*pp)->sibling)
		;
	*pp = d->sibling;
	d->parent = NULL;
	d->sibling = NULL;
}

static struct folder *folder_new(struct root *rt, struct folder *parent,
				 const char *name)
{
	struct folder *d = xcalloc(1, sizeof(*d));

	d->root = rt;
	d->name = xstrdup(name);
	d->wd = -1;
	if (parent)
		folder_link(parent, d);
	return d;
}

/* The folder node at rel under rt, or NULL. */
static struct folder *folder_lookup(struct root *rt, const char *rel)
{
	struct folder *d = rt->top;
	char *copy = xstrdup(rel), *s = copy, *slash;

	while (d && *s) {
		if ((slash = strchr(s, '/')))
			*slash = '\0';
		d = folder_child(d, s);
		s = slash ? slash + 1 : s + strlen(s);
	}
	free(copy);
	return d;
}

static void scan_unqueue(struct files *f, struct folder *d)
{
	if (!d->queued)
		return;
	if (d->scan_prev)
		d->scan_prev->scan_next = d->scan_next;
	else
		f->scan_head = d->scan_next;
	if (d->scan_next)
		d->scan_next->scan_prev = d->scan_prev;
	else
		f->scan_tail = d->scan_prev;
	d->scan_prev = d->scan_next = NULL;
	d->queued = 0;
}

static void folder_unwatch(struct files *f, struct folder *d)
{
	if (d->wd < 0)
		return;
	htab_del(&f->wds, &d->hn);
	/* The kernel may have dropped it already (the folder is gone). */
	inotify_rm_watch(f->ifd, d->wd);
	d->wd = -1;
}

/* Forgets a folder and everything under it: watches, nodes, queue. */
static void folder_drop(struct files *f, struct folder *d)
{
	while (d->child)
		folder_drop(f, d->child);
	folder_unlink(d);
	folder_unwatch(f, d);
	scan_unqueue(f, d);
	if (d->root->top == d)
		d->root->top = NULL;
	globs_free(d->rules);
	free(d->name);
	free(d);
}

/* ---- what is recorded ------------------------------------------------- */

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

static int is_forbidden(const struct files *f, const char *abs)
{
	for (size_t i = 0; i < f->nforbidden; i++)
		if (!strcmp(abs, f->forbidden[i]))
			return 1;
	return 0;
}

/* A labtape vault (doc/format.md, "Directory layout"). */
static int is_vault(int dfd)
{
	struct stat st;

	return fstatat(dfd, "vault.json", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       fstatat(dfd, "segments", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISDIR(st.st_mode);
}

/*
 * Whether rel (in folder parent, named name) stays out of the record:
 * names that are not UTF-8 (an event could not carry them), the defaults
 * and the configured globs (final), then .gitignore files from the
 * nearest folder up, git's way.
 */
static int is_ignored(struct files *f, struct folder *parent, const char *rel,
		      const char *name, int is_dir)
{
	enum globs_verdict v;
	size_t len = strlen(name);

	if (text_utf8_check(name, len) != len) {
		struct buf shown = BUF_INIT;
		add_escaped(&shown, rel);
		warnf(f, "cannot record '%s': its name is not UTF-8 (rename it "
		      "to record it)", shown.data);
		buf_release(&shown);
		return 1;
	}
	if (globs_match(f->defaults, rel, is_dir) == GLOBS_IGNORE)
		return 1;
	if ((v = globs_match(f->excludes, rel, is_dir)))
		return v == GLOBS_IGNORE;
	/* Each folder up, rel loses one more leading name. */
	const char *sub = rel + strlen(rel);
	for (struct folder *a = parent; a; a = a->parent) {
		while (sub > rel && sub[-1] != '/')
			sub--;
		if (a->rules && (v = globs_match(a->rules, sub, is_dir)))
			return v == GLOBS_IGNORE;
		if (sub > rel)
			sub--;
	}
	return 0;
}

static void load_gitignore(struct files *f, struct folder *d, int dfd)
{
	struct buf text = BUF_INIT;
	ssize_t n;
	int fd;

	globs_free(d->rules);
	d->rules = NULL;
	fd = openat(dfd, ".gitignore", O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC);
	if (fd < 0)
		return;
	buf_grow(&text, 4096);
	while (text.len < (1u << 20) &&
	       (n = read(fd, text.data + text.len, text.alloc - text.len - 1)) > 0) {
		buf_setlen(&text, text.len + (size_t)n);
		buf_grow(&text, 4096);
	}
	close(fd);
	d->rules = globs_new();
	globs_parse(d->rules, text.data, text.len);
	buf_release(&text);
	(void)f;
}

/* ---- emitting --------------------------------------------------------- */

int files_emit_op(struct files_emit *e, json_t *data)
{
	const char *op = json_string_value(json_object_get(data, "op"));
	int snapshot = op && !strcmp(op, "snapshot");
	int r;

	if (!data)
		return lt_error(LT_EINVAL, "cannot record an edit of '%s': "
				"its text is not UTF-8", e->path);

	json_object_set_new(data, "doc", json_string(e->doc));
	json_object_set_new(data, "path", json_string(e->path));
	json_object_set_new(data, "seq", json_integer((json_int_t)e->seq));
	json_object_set_new(data, "group", json_string(e->group));
	json_object_set_new(data, "actor", json_string(e->actor));
	r = e->src->emit(e->src, e->stream, e->t, "edit.op", data, &e->about);
	json_decref(data);
	if (r)
		return r;
	e->seq++;
	if (snapshot)
		e->since_snapshot = 0;
	else
		e->since_snapshot++;
	return 0;
}

/* The context of the next recorded version of m's document. */
static void emit_init(struct files_emit *e, struct files *f, struct root *rt,
		      const char *rel, const struct files_meta *m, char *group,
		      size_t gsize)
{
	snprintf(group, gsize, "save:%" PRIu64, m->saves + 1);
	e->src = f->s;
	e->stream = rt->stream;
	e->t = lt_now_ns();
	e->doc = m->doc;
	e->path = rel;
	e->about = (struct source_about){ rt->real, rel, NULL, NULL };
	e->group = group;
	e->actor = f->actor;
	e->seq = m->seq;
	e->since_snapshot = m->since;
	e->snapshot_every = f->s->cfg->snapshot_every;
}

static void emit_done(struct files_emit *e, struct files_meta *m)
{
	m->seq = e->seq;
	m->since = e->since_snapshot;
	m->saves++;
}

/* An emit failed (the vault's disk is full): what this source recorded
 * lately may have been rolled back with it (note 6). */
static void emit_failed(struct files *f, const char *rel, int r)
{
	int64_t now = lt_now_ns();
	int64_t from = now - f->s->cfg->flush_interval_ns - CRASH_MARGIN_NS;

	if (!f->lost_to || from < f->lost_from)
		f->lost_from = from;
	f->lost_to = now;
	warnf(f, "cannot record '%s': %s (%s; it is recorded again at its "
	      "next save)", rel, lt_errmsg(), lt_strerror(r));
}

static int uncertain(const struct files *f, const struct root *rt,
		     const struct files_meta *m)
{
	return (m->written >= rt->uncertain_from &&
		m->written < rt->uncertain_to) ||
	       (f->lost_to && m->written >= f->lost_from &&
		m->written <= f->lost_to);
}

/*
 * Emits one edit.op of plain text without JSON (events.h, ev_encode_edit):
 * a baseline carries every text file through here as a snapshot. Adds
 * what files_emit_op adds and counts as it does.
 */
static int emit_edit(struct files_emit *e, struct buf *payload,
		     struct ev_edit *x)
{
	int r;

	x->doc = e->doc;
	x->part = x->path = e->path;
	x->seq = (int64_t)e->seq;
	x->group = e->group;
	x->actor = e->actor;
	buf_reset(payload);
	if ((r = ev_encode_edit(payload, x)) ||
	    (r = e->src->emit_payload(e->src, e->stream, e->t, "edit.op",
				      payload->data, payload->len,
				      &e->about)))
		return r;
	e->seq++;
	if (!strcmp(x->op, "snapshot"))
		e->since_snapshot = 0;
	else
		e->since_snapshot++;
	return 0;
}

static int emit_snapshot(struct files *f, struct files_emit *e,
			 const char *text, size_t len)
{
	struct ev_edit x = { .op = "snapshot", .text = text, .text_len = len };

	return emit_edit(e, &f->payload, &x);
}

static int emit_edits(struct files *f, struct files_emit *e,
		      const struct text_edits *ed)
{
	for (size_t i = 0; i < ed->n; i++) {
		const struct text_edit *t = &ed->v[i];
		struct ev_edit x = { .op = text_op_name(t->op),
				     .pos = (int64_t)t->pos, .has_pos = 1 };
		int r;
		if (t->op != TEXT_INSERT) {
			x.len = (int64_t)t->len;
			x.has_len = 1;
			x.del = t->del;
			x.del_len = t->del_len;
		}
		if (t->op != TEXT_DELETE) {
			x.ins = t->ins;
			x.ins_len = t->ins_len;
		}
		if ((r = emit_edit(e, &f->payload, &x)))
			return r;
	}
	return 0;
}

static int emit_structural(struct files_emit *e, json_t *detail)
{
	return files_emit_op(e, json_pack("{s:s, s:o}", "op", "structural",
					  "detail", detail));
}

/* Writes m's new record; if that fails, leaves no record that could be
 * diffed against: the events are in the vault, the cache is not. */
static void shadow_store(struct files *f, struct root *rt, const char *rel,
			 struct files_meta *m, const char *text, size_t len)
{
	if (!files_shadow_write(&rt->sh, rel, m, text, len))
		return;
	warnf(f, "cannot update the shadow of '%s': %s (its next save is "
	      "recorded as a snapshot)", rel, lt_errmsg());
	if (files_shadow_forget(&rt->sh, rel, m))
		files_shadow_remove(&rt->sh, rel);
}

/* ---- deletes and renames ---------------------------------------------- */

/* Records the delete of the document at rel (or of every document under
 * the folder rel) and purges its shadow. quiet: purge only. */
static void record_gone(struct files *f, struct root *rt, const char *rel,
			int quiet)
{
	char **paths = NULL, group[32];
	size_t n = 0;
	struct buf sp = BUF_INIT;
	struct stat st;
	int r = 0;

	files_shadow_path(&rt->sh, rel, &sp);
	if (lstat(sp.data, &st) < 0) {
		buf_release(&sp);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		if (files_shadow_list(&rt->sh, rel, &paths, &n)) {
			warnf(f, "%s", lt_errmsg());
			buf_release(&sp);
			return;
		}
	} else {
		paths = xmalloc(sizeof(*paths));
		paths[n++] = xstrdup(rel);
	}
	for (size_t i = 0; i < n; i++) {
		struct files_meta m;
		struct files_emit e;
		if (!r && !quiet &&
		    !files_shadow_read(&rt->sh, paths[i], &m, NULL)) {
			emit_init(&e, f, rt, paths[i], &m, group, sizeof(group));
			r = emit_structural(&e, json_pack("{s:s}", "action",
							  "delete"));
			if (r) {
				/* Kept, so that the delete is recorded at the
				 * next scan (a restart). */
				emit_failed(f, paths[i], r);
				continue;
			}
		}
		if (!r)
			files_shadow_remove(&rt->sh, paths[i]);
	}
	if (!r && S_ISDIR(st.st_mode))
		files_shadow_remove(&rt->sh, rel);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	buf_release(&sp);
}

/*
 * The document at from is now at to: a structural rename, and its shadow
 * follows (moved: it already has, with its folder). 0, or an error (the
 * rename is not recorded).
 */
static int rename_doc(struct files *f, struct root *rt, const char *from,
		      const char *to, int moved)
{
	struct files_meta m;
	struct files_emit e;
	char group[32];
	int r;

	if ((r = files_shadow_read(&rt->sh, moved ? to : from, &m, &f->prev)))
		return r;
	emit_init(&e, f, rt, to, &m, group, sizeof(group));
	r = emit_structural(&e, json_pack("{s:s, s:s, s:s}", "action", "rename",
					  "from", from, "to", to));
	if (r) {
		emit_failed(f, to, r);
		return r;
	}
	emit_done(&e, &m);
	if (!moved && (r = files_shadow_rename(&rt->sh, from, to))) {
		warnf(f, "%s", lt_errmsg());
		return r;
	}
	shadow_store(f, rt, to, &m, f->prev.data,
		     m.base == FILES_BASE_TEXT ? f->prev.len : 0);
	return 0;
}

/* A folder moved inside the tree: its shadows move in one rename, and
 * every document under it is recorded as renamed. */
static void rename_folder(struct files *f, struct root *rt, const char *from,
			  const char *to)
{
	char **paths = NULL;
	size_t n = 0;
	struct buf a = BUF_INIT;

	if (files_shadow_rename(&rt->sh, from, to) ||
	    files_shadow_list(&rt->sh, to, &paths, &n)) {
		warnf(f, "%s", lt_errmsg());
		return;
	}
	for (size_t i = 0; i < n; i++) {
		buf_reset(&a);
		buf_addf(&a, "%s%s", from, paths[i] + strlen(to));
		rename_doc(f, rt, a.data, paths[i], 1);
		free(paths[i]);
	}
	free(paths);
	buf_release(&a);
}

/* ---- saves ------------------------------------------------------------ */

/* Whether the start of s is binary rather than text in some 8-bit
 * encoding: a NUL (git's test), or control characters in more than one
 * byte in a hundred. */
static int looks_binary(const char *s, size_t n)
{
	size_t ctl = 0;

	if (n > 8000)
		n = 8000;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!c)
			return 1;
		ctl += (c < 0x20 && !strchr("\t\n\r\f\v\033", c)) || c == 0x7f;
	}
	return ctl * 100 > n;
}

/* Whether the start of fd looks binary (no need to warn about it). */
static int starts_binary(int fd)
{
	char head[8000];
	ssize_t n = pread(fd, head, sizeof(head), 0);

	return n > 0 && looks_binary(head, (size_t)n);
}

static int is_notebook(const char *rel)
{
	size_t n = strlen(rel);

	return n > 6 && !strcmp(rel + n - 6, ".ipynb");
}

/* One save being recorded. */
struct save {
	struct root *rt;
	const char *rel;
	int fd;
	struct stat st;
	struct files_meta m;	/* from the shadow, or a new document's */
	int have;		/* there is a record */
	int trusted;		/* and its base is surely in the vault */
	int same;		/* size and mtime say the file is unchanged */
};

/* Reads at most max bytes of fd into out; 1 if there was more. */
static int read_capped(int fd, uint64_t max, struct buf *out, const char *rel)
{
	buf_reset(out);
	for (;;) {
		ssize_t n;
		if (buf_grow(out, 64 * 1024))
			return lt_error(LT_ETOOBIG, "'%s' is too big to read", rel);
		n = read(fd, out->data + out->len, out->alloc - out->len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return lt_error_errno(LT_EIO, "cannot read '%s'", rel);
		}
		if (n == 0)
			return 0;
		buf_setlen(out, out->len + (size_t)n);
		if (out->len > max)
			return 1;
	}
}

/* A binary or large version: content-defined chunks (files-blob.c). */
static void save_blob(struct files *f, struct save *sv)
{
	static const uint8_t zero[16];
	struct files_meta *m = &sv->m;
	struct files_emit e;
	uint8_t hash[16] = { 0 };
	char group[32];
	int r;

	if (sv->trusted && m->base == FILES_BASE_BLOB) {
		if (sv->same)
			return;
		/* Same size: perhaps the same bytes, worth one read to
		 * avoid recording it again. */
		if (m->size == (uint64_t)sv->st.st_size) {
			if (lseek(sv->fd, 0, SEEK_SET) < 0 ||
			    files_hash_fd(sv->fd, hash)) {
				warnf(f, "cannot read '%s': %s (skipped until "
				      "its next save)", sv->rel, strerror(errno));
				return;
			}
			if (memcmp(m->hash, zero, 16) &&
			    !memcmp(hash, m->hash, 16)) {
				m->mtime = stat_mtime(&sv->st);
				shadow_store(f, sv->rt, sv->rel, m, NULL, 0);
				return;
			}
		}
	}
	if (lseek(sv->fd, 0, SEEK_SET) < 0) {
		warnf(f, "cannot read '%s': %s (skipped until its next save)",
		      sv->rel, strerror(errno));
		return;
	}
	emit_init(&e, f, sv->rt, sv->rel, m, group, sizeof(group));
	if (!f->chunks)
		f->chunks = files_chunks_new();
	r = files_blob_emit(&e, f->chunks, sv->fd, (uint64_t)sv->st.st_size);
	if (r) {
		struct stat now;
		/* A file still being written is no loss: its next save. */
		if (fstat(sv->fd, &now) == 0 &&
		    (now.st_size != sv->st.st_size ||
		     stat_mtime(&now) != stat_mtime(&sv->st)))
			warnf(f, "%s", lt_errmsg());
		else
			emit_failed(f, sv->rel, r);
		return;
	}
	emit_done(&e, m);
	m->base = FILES_BASE_BLOB;
	m->size = (uint64_t)sv->st.st_size;
	m->mtime = stat_mtime(&sv->st);
	/* Known only if it was read above; else learnt at the next save
	 * of the same size. */
	memcpy(m->hash, hash, 16);
	shadow_store(f, sv->rt, sv->rel, m, NULL, 0);
}

/* A text version (in f->cur): edits against the recorded one, or a
 * snapshot. A notebook's record keeps, after its text, the ids given to
 * its cells (files_nb_diff_ids()). */
static void save_text(struct files *f, struct save *sv)
{
	struct files_meta *m = &sv->m;
	struct files_emit e;
	struct text_edits ed = TEXT_EDITS_INIT;
	struct buf ids = BUF_INIT;
	const char *cur = f->cur.data;
	size_t len = f->cur.len, plen = 0;
	int diffable = sv->trusted && m->base == FILES_BASE_TEXT;
	char group[32];
	int r = 0;

	if (diffable) {
		if (files_shadow_read(&sv->rt->sh, sv->rel, m, &f->prev) ||
		    m->base != FILES_BASE_TEXT) {
			diffable = 0;
		} else if ((plen = (size_t)m->size) == len &&
			   !memcmp(f->prev.data, cur, len)) {
			/* Unchanged (touched, or written the same). */
			if (m->mtime != stat_mtime(&sv->st)) {
				m->mtime = stat_mtime(&sv->st);
				shadow_store(f, sv->rt, sv->rel, m, f->prev.data,
					     f->prev.len);
			}
			return;
		}
	}
	emit_init(&e, f, sv->rt, sv->rel, m, group, sizeof(group));
	if (is_notebook(sv->rel)) {
		if (diffable)
			buf_add(&ids, f->prev.data + plen, f->prev.len - plen);
		r = files_nb_diff_ids(&e, diffable ? f->prev.data : NULL, plen,
				      cur, len, &ids);
		if (r != LT_EINVAL)
			goto emitted;
		/* Not a notebook after all: plain text. */
		buf_reset(&ids);
		r = 0;
		e.seq = m->seq;
		e.since_snapshot = m->since;
	}
	if (diffable && text_diff(f->prev.data, plen, cur, len, NULL, &ed))
		diffable = 0;	/* cannot happen for valid UTF-8 */
	if (diffable) {
		r = emit_edits(f, &e, &ed);
		if (!r && e.snapshot_every &&
		    e.since_snapshot >= e.snapshot_every)
			r = emit_snapshot(f, &e, cur, len);
	} else {
		r = emit_snapshot(f, &e, cur, len);
	}
emitted:
	text_edits_release(&ed);
	if (r) {
		emit_failed(f, sv->rel, r);
		buf_release(&ids);
		return;
	}
	emit_done(&e, m);
	m->base = FILES_BASE_TEXT;
	m->size = len;
	m->mtime = stat_mtime(&sv->st);
	if (ids.len) {
		/* The text, then the ids: one record. */
		buf_add(&f->cur, ids.data, ids.len);
		cur = f->cur.data;
	}
	shadow_store(f, sv->rt, sv->rel, m, cur, len + ids.len);
	buf_release(&ids);
}

static int read_events(struct files *f);
static struct dirty *dirty_find(struct files *f, struct root *rt,
				const char *path);
static void timer_arm(struct files *f, uint64_t due);

/*
 * Whether rel, just read for a save whose first event was at first (ms),
 * began to be written again meanwhile: its truncation may have come just
 * before the read, which then saw an empty or half-written file. If so
 * the save waits for that writer's close, up to MAX_DELAY_MS after first
 * (later, what was read is recorded: a file written without pause is not
 * starved).
 */
static int written_meanwhile(struct files *f, struct root *rt,
			     const char *rel, uint64_t first)
{
	struct dirty *dt;

	read_events(f);
	dt = dirty_find(f, rt, rel);
	if (!dt || !dt->writing || f->paused ||
	    uv_now(f->s->loop) >= first + MAX_DELAY_MS)
		return 0;
	if (first < dt->first)
		dt->first = first;
	dt->due = dt->first + MAX_DELAY_MS;
	timer_arm(f, dt->due);
	return 1;
}

/*
 * Records what the regular file rel holds now, if it differs from what
 * was recorded. fresh: the next record must be a snapshot. first: when
 * the save's first event came (ms), or 0 at a scan.
 */
static void save_file(struct files *f, struct root *rt, const char *rel,
		      enum mode mode, int fresh, uint64_t first)
{
	struct save sv;
	struct files_meta *m = &sv.m;
	uint64_t max = f->s->cfg->max_text_size;
	struct buf abs = BUF_INIT;
	int r;

	memset(&sv, 0, sizeof(sv));
	sv.rt = rt;
	sv.rel = rel;
	/* Excluded (src/privacy): not even read, so not in the shadow. */
	if (f->s->excluded(f->s, &(struct source_about){ rt->real, rel,
							  NULL, NULL }))
		return;
	abs_path(rt, rel, &abs);
	sv.fd = open(abs.data, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (sv.fd < 0) {
		/* Gone (its delete has its own event) or a symbolic link. */
		if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
			warnf(f, "cannot read '%s': %s (skipped until its next "
			      "save)", abs.data, strerror(errno));
		buf_release(&abs);
		return;
	}
	buf_release(&abs);
	if (fstat(sv.fd, &sv.st) < 0 || !S_ISREG(sv.st.st_mode))
		goto out;
	sv.have = !files_shadow_read(&rt->sh, rel, m, NULL);
	sv.trusted = sv.have && !fresh && !uncertain(f, rt, m);
	sv.same = sv.have && m->size == (uint64_t)sv.st.st_size &&
		  m->mtime == stat_mtime(&sv.st) &&
		  stat_mtime(&sv.st) + RACY_NS < m->written;
	if (mode == MODE_RESUME) {
		/* Changed while paused: forget the base (note 7). */
		if (sv.have && !sv.same && m->base != FILES_BASE_NONE) {
			m->base = FILES_BASE_NONE;
			shadow_store(f, rt, rel, m, NULL, 0);
		}
		goto out;
	}
	/* At a scan, an unchanged file is not read. Nor is one whose base
	 * was dropped by a pause: what it holds may be what was saved then. */
	if (mode == MODE_SCAN && sv.same &&
	    (sv.trusted || m->base == FILES_BASE_NONE))
		goto out;
	if (!sv.have)
		files_meta_new(m);

	r = (uint64_t)sv.st.st_size > max ? 1 :
	    read_capped(sv.fd, max, &f->cur, rel);
	if (r < 0) {
		warnf(f, "%s (skipped until its next save)", lt_errmsg());
		goto out;
	}
	if (mode == MODE_SAVE && written_meanwhile(f, rt, rel, first))
		goto out;
	if (r == 0) {
		size_t bad = text_utf8_check(f->cur.data, f->cur.len);
		if (bad == f->cur.len && !memchr(f->cur.data, '\0', f->cur.len)) {
			save_text(f, &sv);
			goto out;
		}
		if (bad < f->cur.len && !looks_binary(f->cur.data, f->cur.len) &&
		    m->base != FILES_BASE_BLOB && f->warned_enc++ < WARN_ENC_MAX)
			warnf(f, "'%s' is not UTF-8 (invalid byte at offset "
			      "%zu; Latin-1?): recorded as binary chunks, not "
			      "as edits (convert it to UTF-8 to record its "
			      "edits)%s", rel, bad, f->warned_enc == WARN_ENC_MAX ?
			      "; more such files are not named" : "");
	} else if (m->base != FILES_BASE_BLOB && !starts_binary(sv.fd)) {
		warnf(f, "'%s' is %" PRIu64 " bytes, over max_text_size (%"
		      PRIu64 "): recorded as binary chunks, not as edits", rel,
		      (uint64_t)sv.st.st_size, max);
	}
	buf_release(&f->cur);	/* do not keep a big file's bytes around */
	save_blob(f, &sv);
out:
	close(sv.fd);
}

/* Reconciles one dirty path with the shadow (note 2). */
static void reconcile(struct files *f, struct dirty *dt)
{
	struct root *rt = dt->root;
	const char *rel = dt->path;
	enum mode mode = dt->quiet ? MODE_RESUME : MODE_SAVE;
	struct buf abs = BUF_INIT, sp = BUF_INIT, dir = BUF_INIT;
	struct stat st, sst;
	int exists, shadowed;
	struct folder *parent;
	const char *name = strrchr(rel, '/');

	name = name ? name + 1 : rel;
	abs_path(rt, rel, &abs);
	files_shadow_path(&rt->sh, rel, &sp);
	if (lstat(abs.data, &st) < 0 && errno != ENOENT && errno != ENOTDIR) {
		/* Not readable now (a folder made private): not a delete. */
		warnf(f, "cannot read '%s': %s (skipped until its next save)",
		      abs.data, strerror(errno));
		goto out;
	}
	exists = lstat(abs.data, &st) == 0 &&
		 (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode));
	shadowed = lstat(sp.data, &sst) == 0;
	if (exists) {
		/* Still recorded here? (The rules may have changed.) */
		lt_dirname(rel, &dir);
		parent = folder_lookup(rt, strcmp(dir.data, ".") ? dir.data : "");
		if (!parent || is_ignored(f, parent, rel, name,
					  S_ISDIR(st.st_mode))) {
			if (shadowed)
				files_shadow_remove(&rt->sh, rel);
			goto out;
		}
	}
	if (!exists) {
		if (!shadowed)
			goto out;
		if (!dt->grace && mode != MODE_RESUME) {
			dirty_mark(f, rt, rel, 1);	/* note 4 */
			goto out;
		}
		record_gone(f, rt, rel, 0);
	} else if (S_ISDIR(st.st_mode)) {
		if (shadowed && !S_ISDIR(sst.st_mode))
			record_gone(f, rt, rel, mode == MODE_RESUME);
		if (!folder_child(parent, name)) {
			struct folder *d = folder_new(rt, parent, name);
			scan_queue(f, d, 1);
		}
	} else {
		if (shadowed && S_ISDIR(sst.st_mode))
			record_gone(f, rt, rel, mode == MODE_RESUME);
		save_file(f, rt, rel, mode, dt->fresh, dt->first);
	}
out:
	buf_release(&abs);
	buf_release(&sp);
	buf_release(&dir);
}

/* ---- the dirty set and its timer -------------------------------------- */

static uint64_t path_hash(const struct root *rt, const char *path)
{
	return XXH3_64bits_withSeed(path, strlen(path),
				    (uint64_t)(uintptr_t)rt);
}

static struct dirty *dirty_find(struct files *f, struct root *rt,
				const char *path)
{
	for (struct hnode *x = htab_get(&f->dirty, path_hash(rt, path)); x;
	     x = htab_next(x)) {
		struct dirty *dt = container_of(x, struct dirty, hn);
		if (dt->root == rt && !strcmp(dt->path, path))
			return dt;
	}
	return NULL;
}

/* Takes dt out of the list of dirty paths (not out of the table). */
static void dirty_list_remove(struct files *f, struct dirty *dt)
{
	if (dt->prev)
		dt->prev->next = dt->next;
	else
		f->dhead = dt->next;
	if (dt->next)
		dt->next->prev = dt->prev;
	else
		f->dtail = dt->prev;
	dt->prev = dt->next = NULL;
}

static void dirty_unlink(struct files *f, struct dirty *dt)
{
	htab_del(&f->dirty, &dt->hn);
	dirty_list_remove(f, dt);
}

static void dirty_free(struct dirty *dt)
{
	free(dt->path);
	free(dt);
}

static void on_timer(uv_timer_t *t);

static void timer_arm(struct files *f, uint64_t due)
{
	uint64_t now = uv_now(f->s->loop);
	uint64_t cur = uv_timer_get_due_in(&f->timer);

	if (uv_is_active((uv_handle_t *)&f->timer) && now + cur <= due)
		return;
	uv_timer_start(&f->timer, on_timer, due > now ? due - now : 0, 0);
}

/* Marks path changed; grace: it was found missing, give it a while. */
static struct dirty *dirty_mark(struct files *f, struct root *rt,
				const char *path, int grace)
{
	struct dirty *dt = dirty_find(f, rt, path);
	uint64_t now = uv_now(f->s->loop);

	if (!dt) {
		dt = xcalloc(1, sizeof(*dt));
		dt->root = rt;
		dt->path = xstrdup(path);
		dt->first = now;
		htab_add(&f->dirty, &dt->hn, path_hash(rt, path));
	} else {
		dirty_list_remove(f, dt);
	}
	dt->prev = f->dtail;
	dt->next = NULL;
	if (f->dtail)
		f->dtail->next = dt;
	else
		f->dhead = dt;
	f->dtail = dt;

	if (f->paused) {
		dt->quiet = 1;
		return dt;	/* reconciled when recording resumes */
	}
	if (dt->quiet) {
		/* Changed while paused, and saved again since: record it,
		 * but not as edits of a base the vault never saw. */
		dt->quiet = 0;
		dt->fresh = 1;
	}
	dt->grace = grace;
	if (grace) {
		dt->due = now + GRACE_MS;
	} else {
		dt->due = now + DEBOUNCE_MS;
		if (dt->due > dt->first + MAX_DELAY_MS)
			dt->due = dt->first + MAX_DELAY_MS;
	}
	timer_arm(f, dt->due);
	return dt;
}

/*
 * A file modified and not yet closed is being written: it is read at its
 * close (IN_CLOSE_WRITE), or at the latest MAX_DELAY_MS after its first
 * event, so that a writer that stalls between truncating and writing does
 * not get an empty version recorded (note 2).
 */
static void dirty_writing(struct files *f, struct dirty *dt, int writing)
{
	dt->writing = writing;
	if (writing && !dt->grace && !f->paused) {
		dt->due = dt->first + MAX_DELAY_MS;
		timer_arm(f, dt->due);
	}
}

static void move_resolve(struct files *f, struct move *mv);


static void on_timer(uv_timer_t *t)
{
	struct files *f = t->data;
	uint64_t now, next = UINT64_MAX;
	struct dirty *due = NULL, **tail = &due;

	/* Events the kernel holds may say a file is being written again:
	 * take them first, so that such a file waits. (A failure to read
	 * them is reported by on_inotify.) */
	read_events(f);
	uv_update_time(f->s->loop);
	now = uv_now(f->s->loop);

	/* Moves whose other half never came: out of the tree. */
	for (size_t i = 0; i < f->nmoves;) {
		if (f->moves[i].at + MOVE_PAIR_MS <= now) {
			struct move mv = f->moves[i];
			f->moves[i] = f->moves[--f->nmoves];
			move_resolve(f, &mv);
			free(mv.path);
		} else {
			if (f->moves[i].at + MOVE_PAIR_MS < next)
				next = f->moves[i].at + MOVE_PAIR_MS;
			i++;
		}
	}
	if (!f->paused) {
		for (struct dirty *dt = f->dhead, *nx; dt; dt = nx) {
			nx = dt->next;
			if (dt->due <= now) {
				dirty_unlink(f, dt);
				*tail = dt;
				tail = &dt->next;
			}
		}
		/* Reconciling may mark paths again (a grace period). */
		for (struct dirty *dt = due, *nx; dt; dt = nx) {
			nx = dt->next;
			reconcile(f, dt);
			dirty_free(dt);
		}
		for (struct dirty *dt = f->dhead; dt; dt = dt->next)
			if (dt->due < next)
				next = dt->due;
	}
	if (next != UINT64_MAX)
		timer_arm(f, next);
}

/* ---- scanning folders ------------------------------------------------- */

static void on_idle(uv_idle_t *h);

static void scan_queue(struct files *f, struct folder *d, int is_new)
{
	if (d->queued) {
		d->scan_new &= is_new;
		return;
	}
	d->queued = 1;
	d->scan_new = is_new;
	d->scan_prev = f->scan_tail;
	d->scan_next = NULL;
	if (f->scan_tail)
		f->scan_tail->scan_next = d;
	else
		f->scan_head = d;
	f->scan_tail = d;
	if (!uv_is_active((uv_handle_t *)&f->idle))
		uv_idle_start(&f->idle, on_idle);
}

static void warn_watch_limit(struct files *f, const char *abs)
{
	struct buf cur = BUF_INIT;

	if (f->warned_limit++)
		return;
	lt_read_file("/proc/sys/fs/inotify/max_user_watches", 64, &cur);
	while (cur.len && cur.data[cur.len - 1] == '\n')
		buf_setlen(&cur, cur.len - 1);
	warnf(f, "cannot watch '%s' and further folders: the inotify watch "
	      "limit (fs.inotify.max_user_watches = %s) is reached; raise it "
	      "with 'sudo sysctl fs.inotify.max_user_watches=524288' (and in "
	      "/etc/sysctl.d/) and restart the recorder; saves there are not "
	      "seen until then", abs, cur.len ? cur.data : "?");
	buf_release(&cur);
}

/* Adds d's watch. 0, or -1 if d cannot be recorded (it was dropped). */
static int folder_watch(struct files *f, struct folder *d, const char *abs)
{
	struct folder *other;
	uint32_t mask = WATCH_MASK | (d->parent ? IN_DONT_FOLLOW : 0);
	int wd = inotify_add_watch(f->ifd, abs, mask);

	if (wd < 0) {
		if (errno == ENOSPC) {
			warn_watch_limit(f, abs);
			return 0;	/* still recorded at start, not watched */
		}
		if (errno != ENOENT && errno != ENOTDIR)
			warnf(f, "cannot watch the folder '%s': %s (skipped; "
			      "fix it and restart the recorder)", abs,
			      strerror(errno));
		folder_drop(f, d);
		return -1;
	}
	if ((other = folder_by_wd(f, wd)) && other != d) {
		/* The same folder reached twice (a bind mount, or roots
		 * inside one another): it is recorded where it was first. */
		if (!d->parent)
			warnf(f, "not watching '%s' twice: it is already "
			      "recorded in '%s'", d->root->path,
			      other->root->path);
		folder_drop(f, d);
		return -1;
	}
	if (!other) {
		d->wd = wd;
		htab_add(&f->wds, &d->hn, wd_hash(wd));
	}
	return 0;
}

/* What a scan found in a folder: "name/" for folders, "name " for files,
 * sorted, for the shadow's side. */
struct seen {
	char **v;
	size_t n, alloc;
};

static void seen_add(struct seen *s, const char *name, int is_dir)
{
	size_t n = strlen(name) + 2;

	XGROW(s->v, s->n + 1, s->alloc);
	s->v[s->n] = xmalloc(n);
	snprintf(s->v[s->n++], n, "%s%c", name, is_dir ? '/' : ' ');
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int seen_has(const struct seen *s, const char *name, int is_dir)
{
	struct buf key = BUF_INIT;
	char *k;
	int found;

	buf_addf(&key, "%s%c", name, is_dir ? '/' : ' ');
	k = key.data;
	found = s->n && bsearch(&k, s->v, s->n, sizeof(*s->v), cmp_str);
	buf_release(&key);
	return found;
}

static void seen_release(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

/*
 * The shadow's side of a scan of rel: a record the scan did not see is
 * recorded as deleted if its file is gone (while paused: at resume), or
 * purged if the file is now ignored or no longer a file.
 */
static void scan_shadow(struct files *f, struct root *rt, const char *rel,
			const struct seen *seen)
{
	struct buf sp = BUF_INIT, sub = BUF_INIT, abs = BUF_INIT;
	DIR *dir;
	struct dirent *de;

	files_shadow_path(&rt->sh, rel, &sp);
	if (!(dir = opendir(sp.data)))
		goto out;
	while ((de = readdir(dir))) {
		struct stat st;
		if (de->d_name[0] == '.' && (!de->d_name[1] ||
		    (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if (!strcmp(de->d_name, ".lt-tmp~"))
			continue;
		join(&sub, sp.data, de->d_name);
		if (lstat(sub.data, &st) < 0 ||
		    seen_has(seen, de->d_name, S_ISDIR(st.st_mode)))
			continue;
		join(&sub, rel, de->d_name);
		if (f->paused) {
			dirty_mark(f, rt, sub.data, 0);
			continue;
		}
		abs_path(rt, sub.data, &abs);
		record_gone(f, rt, sub.data, lstat(abs.data, &st) == 0);
	}
	closedir(dir);
out:
	buf_release(&sp);
	buf_release(&sub);
	buf_release(&abs);
}

/*
 * One folder: watch it, read its .gitignore, then each entry: folders
 * are queued, files reconciled (the baseline) or, in a folder that just
 * appeared, marked dirty so that a file still being written is read
 * after its last write. While paused nothing is read (note 7).
 */
static void scan_folder(struct files *f, struct folder *d)
{
	struct root *rt = d->root;
	struct buf rel = BUF_INIT, abs = BUF_INIT, sub = BUF_INIT;
	struct seen seen = { NULL, 0, 0 };
	int dfd = -1, is_new = d->scan_new;
	DIR *dir = NULL;
	struct dirent *de;

	folder_path(d, &rel);
	abs_path(rt, rel.data, &abs);
	if (is_forbidden(f, abs.data)) {
		folder_drop(f, d);
		goto out;
	}
	dfd = open(abs.data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
			warnf(f, "cannot read the folder '%s': %s (skipped; fix "
			      "it and restart the recorder)", abs.data,
			      strerror(errno));
		folder_drop(f, d);
		goto out;
	}
	if (is_vault(dfd)) {
		/* labtape's own vault: recording it into itself would never
		 * end. */
		files_shadow_remove(&rt->sh, rel.data);
		folder_drop(f, d);
		goto out;
	}
	if (d->wd < 0 && folder_watch(f, d, abs.data) < 0)
		goto out;
	load_gitignore(f, d, dfd);
	if (!(dir = fdopendir(dfd))) {
		warnf(f, "cannot read the folder '%s': %s (skipped)", abs.data,
		      strerror(errno));
		goto out;
	}
	dfd = -1;
	while ((de = readdir(dir))) {
		unsigned char type = de->d_type;
		struct stat st;
		if (de->d_name[0] == '.' && (!de->d_name[1] ||
		    (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if (type == DT_UNKNOWN) {
			if (fstatat(dirfd(dir), de->d_name, &st,
				    AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR :
			       S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
		}
		if (type != DT_DIR && type != DT_REG)
			continue;	/* links, devices, sockets: never */
		join(&sub, rel.data, de->d_name);
		if (is_ignored(f, d, sub.data, de->d_name, type == DT_DIR))
			continue;
		seen_add(&seen, de->d_name, type == DT_DIR);
		if (type == DT_DIR) {
			struct folder *c = folder_child(d, de->d_name);
			if (!c)
				c = folder_new(rt, d, de->d_name);
			scan_queue(f, c, is_new);
		} else if (is_new || f->paused) {
			dirty_mark(f, rt, sub.data, 0);
		} else {
			save_file(f, rt, sub.data, MODE_SCAN, 0, 0);
		}
	}
	if (seen.n)
		qsort(seen.v, seen.n, sizeof(*seen.v), cmp_str);
	/* Folders no longer there, or now ignored: stop watching them. */
	for (struct folder *c = d->child, *nx; c; c = nx) {
		nx = c->sibling;
		if (!seen_has(&seen, c->name, 1))
			folder_drop(f, c);
	}
	scan_shadow(f, rt, rel.data, &seen);
out:
	if (dir)
		closedir(dir);
	if (dfd >= 0)
		close(dfd);
	seen_release(&seen);
	buf_release(&rel);
	buf_release(&abs);
	buf_release(&sub);
}

static void on_idle(uv_idle_t *h)
{
	struct files *f = h->data;
	int64_t until = lt_mono_ns() + SCAN_SLICE_NS;

	while (f->scan_head && lt_mono_ns() < until) {
		struct folder *d = f->scan_head;
		scan_unqueue(f, d);
		scan_folder(f, d);
	}
	if (!f->scan_head) {
		uv_idle_stop(h);
		f->scanned = 1;
	}
}

/* Everything again, as at start (each folder's scan queues those in
 * it): events were lost. */
static void rescan_all(struct files *f)
{
	for (size_t i = 0; i < f->nroots; i++)
		if (f->roots[i].top)
			scan_queue(f, f->roots[i].top, 0);
}

/* ---- inotify events --------------------------------------------------- */

static void move_resolve(struct files *f, struct move *mv)
{
	struct folder *src;

	if (!mv->is_dir)
		return;		/* its path is dirty: a delete, after grace */
	if ((src = folder_lookup(mv->root, mv->path)) && src->parent)
		folder_drop(f, src);
	dirty_mark(f, mv->root, mv->path, 0);
}

/* The second half of a rename inside the watched trees (note 3). */
static void move_pair(struct files *f, struct move *mv, struct folder *d,
		      const char *to, const char *name, int ignored)
{
	struct root *rt = d->root;
	struct files_meta m;

	if (ignored || mv->root != rt) {
		move_resolve(f, mv);
		if (!ignored && mv->is_dir)
			scan_queue(f, folder_new(rt, d, name), 1);
		else if (!ignored)
			dirty_mark(f, rt, to, 0);
		return;
	}
	if (mv->is_dir) {
		struct folder *src = folder_lookup(rt, mv->path), *old;
		if (!src || !src->parent) {
			move_resolve(f, mv);
			scan_queue(f, folder_new(rt, d, name), 1);
			return;
		}
		if ((old = folder_child(d, name)) && old != src)
			folder_drop(f, old);
		folder_unlink(src);
		free(src->name);
		src->name = xstrdup(name);
		folder_link(d, src);
		if (f->paused) {
			/* Out and in again (note 7): no identity to keep. */
			dirty_mark(f, rt, mv->path, 0);
			scan_queue(f, src, 1);
			return;
		}
		rename_folder(f, rt, mv->path, to);
		scan_queue(f, src, 0);	/* new place, maybe new rules */
		return;
	}
	/* A file. Onto a document: a save of that document. */
	if (!f->paused && files_shadow_read(&rt->sh, to, &m, NULL) == LT_ENOENT &&
	    !files_shadow_read(&rt->sh, mv->path, &m, NULL))
		rename_doc(f, rt, mv->path, to, 0);
	dirty_mark(f, rt, to, 0);
}

static void handle_event(struct files *f, const struct inotify_event *ev)
{
	struct folder *d;
	struct buf rel = BUF_INIT, path = BUF_INIT;
	int is_dir = !!(ev->mask & IN_ISDIR), ignored;

	if (ev->mask & IN_Q_OVERFLOW) {
		warnf(f, "the kernel dropped file events (too many at once): "
		      "rescanning the watched folders");
		rescan_all(f);
		return;
	}
	if (!(d = folder_by_wd(f, ev->wd)))
		return;		/* a folder already forgotten */
	if (ev->mask & IN_IGNORED) {
		/* The kernel removed the watch: the folder is gone. */
		htab_del(&f->wds, &d->hn);
		d->wd = -1;
		if (d->parent)
			folder_drop(f, d);
		return;
	}
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
		if (!d->parent) {
			warnf(f, "the watched folder '%s' was %s: nothing there "
			      "is recorded until it is back and the recorder "
			      "restarts", d->root->path,
			      ev->mask & IN_MOVE_SELF ? "moved" : "deleted");
			folder_drop(f, d);
		}
		return;
	}
	if (!ev->len || !ev->name[0])
		return;
	folder_path(d, &rel);
	join(&path, rel.data, ev->name);
	ignored = is_ignored(f, d, path.data, ev->name, is_dir);
	if (!strcmp(ev->name, ".gitignore") || !strcmp(ev->name, "vault.json"))
		scan_queue(f, d, 0);	/* the rules changed, or a vault */

	if (ev->mask & IN_CREATE) {
		if (is_dir && !ignored) {
			struct folder *c = folder_child(d, ev->name);
			if (c)
				folder_drop(f, c);
			scan_queue(f, folder_new(d->root, d, ev->name), 1);
		}
	} else if (ev->mask & (IN_CLOSE_WRITE | IN_MODIFY)) {
		if (!ignored)
			dirty_writing(f, dirty_mark(f, d->root, path.data, 0),
				      !(ev->mask & IN_CLOSE_WRITE));
	} else if (ev->mask & IN_DELETE) {
		struct folder *c;
		if (is_dir && (c = folder_child(d, ev->name)))
			folder_drop(f, c);
		dirty_mark(f, d->root, path.data, 0);
	} else if (ev->mask & IN_MOVED_FROM) {
		if (ignored)
			goto out;
		XGROW(f->moves, f->nmoves + 1, f->amoves);
		f->moves[f->nmoves++] = (struct move){ ev->cookie, d->root,
			xstrdup(path.data), is_dir, uv_now(f->s->loop) };
		if (!is_dir)
			dirty_mark(f, d->root, path.data, 0);
		timer_arm(f, uv_now(f->s->loop) + MOVE_PAIR_MS);
	} else if (ev->mask & IN_MOVED_TO) {
		size_t i;
		for (i = 0; i < f->nmoves && f->moves[i].cookie != ev->cookie; i++)
			;
		if (i < f->nmoves) {
			struct move mv = f->moves[i];
			f->moves[i] = f->moves[--f->nmoves];
			move_pair(f, &mv, d, path.data, ev->name, ignored);
			free(mv.path);
		} else if (!ignored) {
			/* Moved in from outside. */
			if (is_dir) {
				struct folder *c = folder_child(d, ev->name);
				if (c)
					folder_drop(f, c);
				scan_queue(f, folder_new(d->root, d, ev->name), 1);
			} else {
				dirty_mark(f, d->root, path.data, 0);
			}
		}
	}
out:
	buf_release(&rel);
	buf_release(&path);
}

/* Handles every event the kernel has queued. 0, or an error message in
 * lt_errmsg(). */
static int read_events(struct files *f)
{
	for (;;) {
		ssize_t n = read(f->ifd, f->evbuf, sizeof(f->evbuf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return lt_error_errno(LT_EIO, "cannot read file events");
		}
		for (char *p = f->evbuf; p < f->evbuf + n;) {
			const struct inotify_event *ev = (void *)p;
			handle_event(f, ev);
			p += sizeof(*ev) + ev->len;
		}
	}
}

static void on_inotify(uv_poll_t *h, int status, int events)
{
	struct files *f = h->data;
	int r;

	(void)events;
	if (status < 0)
		f->s->fail(f->s, LT_EIO, "cannot wait for file events");
	else if ((r = read_events(f)))
		f->s->fail(f->s, r, lt_errmsg());
}

/* At stop: what is pending is recorded now rather than lost (a save just
 * before 'labtape stop' is in the vault). Not while paused. */
static void flush_pending(struct files *f)
{
	if (f->paused)
		return;
	read_events(f);
	while (f->nmoves) {
		struct move mv = f->moves[--f->nmoves];
		move_resolve(f, &mv);
		free(mv.path);
	}
	while (f->dhead) {
		struct dirty *dt = f->dhead;
		dirty_unlink(f, dt);
		dt->grace = 1;	/* no time left to wait for a new file */
		reconcile(f, dt);
		dirty_free(dt);
	}
}

/* ---- the source ------------------------------------------------------- */

static void add_forbidden(struct files *f, const char *path)
{
	char real[PATH_MAX];

	if (!path || !*path)
		return;
	f->forbidden = xrealloc(f->forbidden,
				(f->nforbidden + 1) * sizeof(*f->forbidden));
	f->forbidden[f->nforbidden++] =
		xstrdup(realpath(path, real) ? real : path);
}

/* Folders never recorded: labtape's own (the vault, this cache, its
 * state) and the usual homes of keys. */
static void forbidden_init(struct files *f)
{
	const char *e, *home = getenv("HOME");
	struct buf b = BUF_INIT;

	add_forbidden(f, f->cache_dir);
	if (f->s->cfg->vault_dir)
		add_forbidden(f, f->s->cfg->vault_dir);
	add_forbidden(f, getenv("LABTAPE_VAULT"));
	if ((e = getenv("XDG_DATA_HOME")) && *e)
		buf_addf(&b, "%s/labtape", e);
	else if (home)
		buf_addf(&b, "%s/.local/share/labtape", home);
	add_forbidden(f, b.data);
	buf_reset(&b);
	if ((e = getenv("XDG_STATE_HOME")) && *e)
		buf_addf(&b, "%s/labtape", e);
	else if (home)
		buf_addf(&b, "%s/.local/state/labtape", home);
	add_forbidden(f, b.data);
	if (home) {
		buf_reset(&b);
		buf_addf(&b, "%s/.ssh", home);
		add_forbidden(f, b.data);
		buf_reset(&b);
		buf_addf(&b, "%s/.gnupg", home);
		add_forbidden(f, b.data);
	}
	buf_release(&b);
}

/* Whether path is one of the forbidden folders or inside one. */
static const char *inside_forbidden(const struct files *f, const char *path)
{
	for (size_t i = 0; i < f->nforbidden; i++) {
		size_t n = strlen(f->forbidden[i]);
		if (!strncmp(path, f->forbidden[i], n) &&
		    (path[n] == '/' || !path[n]))
			return f->forbidden[i];
	}
	return NULL;
}

/*
 * For the next start: when records were written that may be ahead of the
 * vault. The recorder commits what this source emitted last only after it
 * stopped, and cannot tell it if that fails: the last flush interval is
 * never trusted. Then a failed emit's window; and an old crash's, unless
 * the first scan recorded all of it again. One span over them all.
 */
static void untrusted(const struct files *f, const struct root *rt,
		      int64_t *from, int64_t *to)
{
	int64_t now = lt_now_ns();

	*from = now - f->s->cfg->flush_interval_ns - STOP_MARGIN_NS;
	*to = now + 1;
	if (!f->scanned && rt->uncertain_to > rt->uncertain_from &&
	    rt->uncertain_from < *from)
		*from = rt->uncertain_from;
	if (f->lost_to && f->lost_from < *from)
		*from = f->lost_from;
}

static void files_free(struct files *f)
{
	for (size_t i = 0; i < f->nroots; i++) {
		struct root *rt = &f->roots[i];
		if (rt->top)
			folder_drop(f, rt->top);
		int64_t from, to;
		untrusted(f, rt, &from, &to);
		files_shadow_close(&rt->sh, 1, from, to);
		free(rt->path);
		free(rt->real);
		free(rt->stream);
	}
	free(f->roots);
	while (f->dhead) {
		struct dirty *dt = f->dhead;
		dirty_unlink(f, dt);
		dirty_free(dt);
	}
	free(f->dirty.b);
	free(f->wds.b);
	for (size_t i = 0; i < f->nmoves; i++)
		free(f->moves[i].path);
	free(f->moves);
	globs_free(f->defaults);
	globs_free(f->excludes);
	for (size_t i = 0; i < f->nforbidden; i++)
		free(f->forbidden[i]);
	free(f->forbidden);
	files_chunks_free(f->chunks);
	free(f->cache_dir);
	free(f->shadow_dir);
	free(f->actor);
	buf_release(&f->cur);
	buf_release(&f->prev);
	buf_release(&f->payload);
	free(f);
}

static void on_close(uv_handle_t *h)
{
	struct files *f = h->data;

	if (--f->handles == 0) {
		if (f->ifd >= 0)
			close(f->ifd);
		files_free(f);
	}
}

static void files_stop(struct source *s)
{
	struct files *f = s->priv;

	if (!f)
		return;
	flush_pending(f);
	s->priv = NULL;
	uv_close((uv_handle_t *)&f->poll, on_close);
	uv_close((uv_handle_t *)&f->timer, on_close);
	uv_close((uv_handle_t *)&f->idle, on_close);
}

static void files_pause(struct source *s, int paused)
{
	struct files *f = s->priv;
	uint64_t now = uv_now(s->loop);

	if (!f || f->paused == paused)
		return;
	f->paused = paused;
	if (paused)
		return;
	/* Reconcile quietly what changed while paused (note 7). */
	for (struct dirty *dt = f->dhead; dt; dt = dt->next)
		dt->due = now;
	if (f->dhead)
		timer_arm(f, now);
}

/* An absolute path without "." and ".." and doubled '/' (as written: no
 * symbolic link is resolved), for the stream's name. */
static char *normalize(const char *path)
{
	struct buf out = BUF_INIT;
	const char *s = path;

	while (*s) {
		const char *e;
		size_t n;
		while (*s == '/')
			s++;
		if (!(e = strchr(s, '/')))
			e = s + strlen(s);
		n = (size_t)(e - s);
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			char *slash = strrchr(out.data, '/');
			buf_setlen(&out, slash ? (size_t)(slash - out.data) : 0);
		} else if (n && !(n == 1 && s[0] == '.')) {
			buf_addch(&out, '/');
			buf_add(&out, s, n);
		}
		s = e;
	}
	if (!out.len)
		buf_addch(&out, '/');
	return buf_detach(&out, NULL);
}

/* 0: watched; 1: skipped (warned); < 0: an error that stops the source. */
static int root_init(struct files *f, struct root *rt, const char *given)
{
	const char *path, *bad;
	char real[PATH_MAX];
	int64_t from, to;
	int r;

	rt->f = f;
	rt->path = normalize(given);
	path = rt->path;
	if (text_utf8_check(path, strlen(path)) != strlen(path)) {
		struct buf shown = BUF_INIT;
		add_escaped(&shown, path);
		warnf(f, "cannot watch '%s': its name is not UTF-8 (rename it "
		      "to record it)", shown.data);
		buf_release(&shown);
		return 1;
	}
	if (!realpath(given, real)) {
		warnf(f, "cannot watch '%s': %s (create it, or remove it from "
		      "the configuration)", path, strerror(errno));
		return 1;
	}
	if ((bad = inside_forbidden(f, real))) {
		warnf(f, "not watching '%s': it is inside '%s', which labtape "
		      "never records", path, bad);
		return 1;
	}
	rt->real = xstrdup(real);
	rt->stream = xmalloc(strlen(path) + 4);
	snprintf(rt->stream, strlen(path) + 4, "fs:%s", path);
	if ((r = files_shadow_open(&rt->sh, f->shadow_dir, path,
				   f->s->cfg->flush_interval_ns + CRASH_MARGIN_NS,
				   &from, &to)))
		return r;
	rt->uncertain_from = from;
	rt->uncertain_to = to < f->started ? to : f->started;
	rt->top = folder_new(rt, NULL, "");
	if (folder_watch(f, rt->top, rt->real) < 0)
		return 1;
	scan_queue(f, rt->top, 0);
	return 0;
}

static int files_start(struct source *s)
{
	const struct config *cfg = s->cfg;
	struct files *f = xcalloc(1, sizeof(*f));
	struct buf b = BUF_INIT;
	const char *user = getenv("USER");
	size_t active = 0;
	int r = 0;

	f->s = s;
	f->ifd = -1;
	f->started = lt_now_ns();
	buf_init(&f->cur, 0);
	buf_init(&f->prev, 0);
	buf_init(&f->payload, 0);
	config_cache_dir(&b);
	f->cache_dir = xstrdup(b.data);
	if (s->vault_id)
		buf_addf(&b, "/%s", s->vault_id);
	f->shadow_dir = buf_detach(&b, NULL);
	if (!user || !*user) {
		struct passwd *pw = getpwuid(getuid());
		user = pw ? pw->pw_name : "unknown";
	}
	f->actor = xstrdup(user);
	f->defaults = globs_new();
	globs_parse(f->defaults, files_default_rules,
			  strlen(files_default_rules));
	f->excludes = globs_new();
	for (size_t i = 0; i < cfg->nexclude; i++)
		globs_add(f->excludes, cfg->exclude[i],
				strlen(cfg->exclude[i]));
	forbidden_init(f);
	if ((r = lt_mkdirs(f->cache_dir, 0700))) {
		r = lt_error_wrap(r, "cannot create the cache folder '%s' (set "
				  "LABTAPE_CACHE_DIR or XDG_CACHE_HOME to a "
				  "writable folder)", f->cache_dir);
		files_free(f);
		return r;
	}
	f->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (f->ifd < 0) {
		r = lt_error_errno(LT_EIO, "cannot start watching files%s",
				   errno == EMFILE ? " (too many inotify "
				   "instances: raise fs.inotify."
				   "max_user_instances)" : "");
		files_free(f);
		return r;
	}
	s->priv = f;
	uv_poll_init(s->loop, &f->poll, f->ifd);
	uv_timer_init(s->loop, &f->timer);
	uv_idle_init(s->loop, &f->idle);
	f->poll.data = f->timer.data = f->idle.data = f;
	f->handles = 3;

	f->roots = xcalloc(cfg->nwatch ? cfg->nwatch : 1, sizeof(*f->roots));
	f->nroots = cfg->nwatch;
	for (size_t i = 0; i < cfg->nwatch; i++) {
		r = root_init(f, &f->roots[i], cfg->watch[i]);
		if (r < 0)
			break;	/* the cache: nothing can be recorded */
		active += r == 0;
		r = 0;
	}
	if (!r && !active)
		r = lt_error(LT_ENOENT, "nothing to watch: none of the folders "
			     "to record can be watched (see the warnings "
			     "above)");
	if (r) {
		char *msg = xstrdup(lt_errmsg());
		files_stop(s);
		lt_error(r, "%s", msg);
		free(msg);
		return r;
	}
	uv_poll_start(&f->poll, UV_READABLE, on_inotify);
	return 0;
}

const struct source_ops files_source_ops = {
	"files",
	files_start,
	files_pause,
	files_stop,
};
