/*
 * bench/history: how fast one version of a document rebuilds from its
 * recorded edits, the way `labtape history --version N` does it, next to
 * the naive way and to git. It prints figures; it is not a test.
 *
 *	history [--size BYTES] [--edits N] [--snapshot-every N] [--runs N]
 *	        [--no-git] [--seed N]
 *
 * One run:
 *
 *  1. A document of --size bytes (100 KB) of pseudo-English lines with
 *     some non-ASCII words is saved again and again: each save makes 1 to
 *     15 small changes (a word typed, a word or a line deleted, a word
 *     replaced, a line pasted) at random places, and the saves are diffed
 *     with text_diff(), as the files source does, until --edits (10,000)
 *     edits are recorded. After every --snapshot-every (100) edits, the
 *     save that crosses the count also records a full snapshot
 *     (doc/files-source.md). One save is one version.
 *  2. The measure, "any version rebuilds in under 1 ms": for
 *     --runs random versions, the time to rebuild the version from the
 *     nearest snapshot at or before it with text_replay (reset, the edits
 *     since, one copy out), after the edits are in memory. Median, p99 and
 *     the worst run.
 *  3. The naive way on the same versions: the snapshot copied into a
 *     buffer and text_apply() edit by edit (a code point scan and a
 *     memmove of the tail each); and, on a few versions, both ways with
 *     no snapshots at all (from the first version).
 *  4. Every rebuilt version is compared with the naive one: a difference
 *     is a bug and the exit status is 1.
 *  5. The peer: the same saves as commits of one file in a git repository
 *     (git fast-import, then `git gc`, in a scratch folder), and the time
 *     of `git show <commit>:doc.txt` for random versions, as a process
 *     (what a user waits for) and through one `git cat-file --batch`
 *     (git's own cost without starting a process).
 *  6. The target, pass or FAIL by the p99 of step 2 (the maximum says more
 *     about what else ran on the machine). Only wrong results change the
 *     exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "text.h"
#include "xalloc.h"
#include "banned.h"

extern char **environ;

struct opts {
	size_t size;
	size_t edits;
	size_t snapshot_every;
	size_t runs;
	int git;
	uint64_t seed;
};

/* The record of one document: edits, saves (versions) and snapshots. */
struct record {
	struct text_edit *e;	/* every edit, its texts owned */
	size_t n, alloc;
	size_t *vend;		/* version v ends before edit vend[v] */
	size_t nv, valloc;
	struct snap {
		size_t version;	/* the snapshot is the text of this one */
		size_t edit;	/* and comes before this edit */
		char *text;
		size_t len;
	} *s;
	size_t ns, salloc;
};

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static size_t rnd(size_t n)
{
	return n ? (size_t)(rng() % n) : 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const char *const words[] = {
	"the", "model", "loss", "of", "a", "gradient", "we", "find", "that",
	"training", "data", "is", "small", "results", "in", "table", "and",
	"network", "layer", "with", "attention", "baseline", "improves",
	"naïve", "café", "über", "λ", "α=0.1", "→", "数据", "😀", "résumé",
};

static void add_word(struct buf *b)
{
	buf_addstr(b, words[rnd(sizeof(words) / sizeof(*words))]);
}

static void add_line(struct buf *b)
{
	size_t n = 4 + rnd(14);

	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addch(b, ' ');
		add_word(b);
	}
	buf_addstr(b, rnd(5) ? ".\n" : ".\n\n");
}

/* A random place in doc at a line or word boundary (or anywhere). */
static size_t random_spot(const struct buf *doc, int line)
{
	size_t at = rnd(doc->len + 1);

	while (at < doc->len && doc->data[at] != (line ? '\n' : ' '))
		at++;
	return at < doc->len ? at + 1 : doc->len;
}

/* One small change of doc (a copy is made into out). */
static void change(const struct buf *doc, size_t target, struct buf *out)
{
	struct buf ins = BUF_INIT;
	size_t at, end;
	int kind = (int)rnd(4);

	/* Keep the size near target: delete more when above it. */
	if (doc->len > target + target / 50)
		kind = 1;
	else if (doc->len < target - target / 50)
		kind = 3;
	at = random_spot(doc, kind >= 2);
	end = at;
	switch (kind) {
	case 0:		/* a word typed */
		add_word(&ins);
		buf_addch(&ins, ' ');
		break;
	case 1:		/* a word deleted */
	case 2:		/* a word replaced */
		while (end < doc->len && doc->data[end] != ' ' &&
		       doc->data[end] != '\n')
			end++;
		if (kind == 2)
			add_word(&ins);
		break;
	default:	/* a line pasted */
		add_line(&ins);
	}
	buf_reset(out);
	buf_add(out, doc->data, at);
	buf_add(out, ins.data, ins.len);
	buf_add(out, doc->data + end, doc->len - end);
	buf_release(&ins);
}

static void record_build(struct record *rec, const struct opts *o,
			 struct buf *first)
{
	struct buf doc = BUF_INIT, next = BUF_INIT, prev = BUF_INIT;
	struct text_edits d = TEXT_EDITS_INIT;
	size_t since = 0;

	while (doc.len < o->size)
		add_line(&doc);
	buf_setlen(&doc, o->size);
	while (doc.len && (doc.data[doc.len - 1] & 0xc0) == 0x80)
		buf_setlen(&doc, doc.len - 1);	/* do not cut a code point */
	if (doc.len && (unsigned char)doc.data[doc.len - 1] >= 0xc0)
		buf_setlen(&doc, doc.len - 1);
	buf_add(first, doc.data, doc.len);
	buf_add(&prev, doc.data, doc.len);

	/* Version 0 is the baseline snapshot. */
	XGROW(rec->vend, rec->nv + 1, rec->valloc);
	rec->vend[rec->nv++] = 0;
	XGROW(rec->s, rec->ns + 1, rec->salloc);
	rec->s[rec->ns++] = (struct snap){ 0, 0, xmemdup(doc.data, doc.len + 1),
					   doc.len };
	while (rec->n < o->edits) {
		size_t k = 1 + rnd(15);

		for (size_t i = 0; i < k; i++) {
			change(&doc, o->size, &next);
			buf_reset(&doc);
			buf_add(&doc, next.data, next.len);
		}
		if (text_diff(prev.data, prev.len, doc.data, doc.len, NULL,
			      &d) < 0) {
			fprintf(stderr, "history: diff: %s\n", lt_errmsg());
			exit(1);
		}
		if (!d.n)
			continue;
		for (size_t i = 0; i < d.n; i++) {
			struct text_edit e = d.v[i];
			e.ins = xmemdup(e.ins, e.ins_len + 1);
			e.del = xmemdup(e.del, e.del_len + 1);
			XGROW(rec->e, rec->n + 1, rec->alloc);
			rec->e[rec->n++] = e;
		}
		since += d.n;
		XGROW(rec->vend, rec->nv + 1, rec->valloc);
		rec->vend[rec->nv++] = rec->n;
		if (since >= o->snapshot_every) {
			XGROW(rec->s, rec->ns + 1, rec->salloc);
			rec->s[rec->ns++] = (struct snap){
				rec->nv - 1, rec->n,
				xmemdup(doc.data, doc.len + 1), doc.len };
			since = 0;
		}
		buf_reset(&prev);
		buf_add(&prev, doc.data, doc.len);
	}
	text_edits_release(&d);
	buf_release(&prev);
	buf_release(&doc);
	buf_release(&next);
}

/* The last snapshot at or before version v. */
static const struct snap *snap_for(const struct record *rec, size_t v)
{
	size_t lo = 0, hi = rec->ns;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (rec->s[mid].version <= v)
			lo = mid;
		else
			hi = mid;
	}
	return &rec->s[lo];
}

/* Rebuilds version v with the replay, into out. */
static void rebuild_replay(const struct record *rec, size_t v,
			   const struct snap *s, struct text_replay *r,
			   struct buf *out)
{
	buf_reset(out);
	text_replay_reset(r, s->text, s->len);
	for (size_t i = s->edit; i < rec->vend[v]; i++)
		if (text_replay_apply(r, &rec->e[i]) < 0) {
			fprintf(stderr, "history: replay: %s\n", lt_errmsg());
			exit(1);
		}
	text_replay_get(r, out);
}

static void rebuild_naive(const struct record *rec, size_t v,
			  const struct snap *s, struct buf *out)
{
	buf_reset(out);
	buf_add(out, s->text, s->len);
	for (size_t i = s->edit; i < rec->vend[v]; i++)
		if (text_apply(out, &rec->e[i]) < 0) {
			fprintf(stderr, "history: apply: %s\n", lt_errmsg());
			exit(1);
		}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Prints median, p99 and max of t[0..n) (sorted here) in microseconds;
 * returns the p99. */
static double print_times(const char *what, int64_t *t, size_t n)
{
	double p99;

	qsort(t, n, sizeof(*t), cmp_i64);
	p99 = (double)t[(n * 99) / 100] / 1e3;
	printf("  %-44s %9.1f %9.1f %9.1f   (%zu runs)\n", what,
	       (double)t[n / 2] / 1e3, p99, (double)t[n - 1] / 1e3, n);
	return p99;
}

/* ---- git -------------------------------------------------------------- */

static int run_git(const char *dir, char *const *args, int quiet)
{
	char *argv[16];
	size_t k = 0;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st;

	argv[k++] = "git";
	argv[k++] = "-C";
	argv[k++] = (char *)dir;
	for (; *args && k < 15; args++)
		argv[k++] = *args;
	argv[k] = NULL;
	posix_spawn_file_actions_init(&fa);
	if (quiet) {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	}
	if (posix_spawnp(&pid, "git", &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return 0;
}

/* Feeds every version to git fast-import as one commit each. */
static int git_import(const char *dir, const struct record *rec,
		      const struct buf *first)
{
	struct text_replay r = TEXT_REPLAY_INIT;
	struct buf path = BUF_INIT, text = BUF_INIT;
	FILE *p;
	int err = 0;

	buf_addf(&path, "git -C '%s' fast-import --quiet", dir);
	p = popen(path.data, "w");
	if (!p)
		return -1;
	text_replay_reset(&r, first->data, first->len);
	for (size_t v = 0; v < rec->nv; v++) {
		for (size_t i = v ? rec->vend[v - 1] : 0; i < rec->vend[v]; i++)
			text_replay_apply(&r, &rec->e[i]);
		buf_reset(&text);
		text_replay_get(&r, &text);
		fprintf(p, "blob\nmark :%zu\ndata %zu\n", v + 1, text.len);
		fwrite(text.data, 1, text.len, p);
		fprintf(p, "\ncommit refs/heads/main\n"
			   "committer bench <bench@example.org> %zu +0000\n"
			   "data 5\nsave\nM 100644 :%zu doc.txt\n\n",
			(size_t)1700000000 + v, v + 1);
	}
	if (pclose(p) != 0)
		err = -1;
	text_replay_release(&r);
	buf_release(&path);
	buf_release(&text);
	return err;
}

/* The commit of every version, oldest first, into ids (41 bytes each). */
static int git_commits(const char *dir, size_t nv, char (*ids)[41])
{
	struct buf cmd = BUF_INIT;
	char line[128];
	size_t k = 0;
	FILE *p;

	buf_addf(&cmd, "git -C '%s' rev-list --reverse main", dir);
	p = popen(cmd.data, "r");
	buf_release(&cmd);
	if (!p)
		return -1;
	while (k < nv && fgets(line, sizeof(line), p)) {
		memcpy(ids[k], line, 40);
		ids[k++][40] = 0;
	}
	return pclose(p) == 0 && k == nv ? 0 : -1;
}

/* `git cat-file --batch` answering one request at a time: the time from
 * writing "<commit>:doc.txt" to having read the whole content. */
static int git_batch(const char *dir, char (*ids)[41], const size_t *vs,
		     size_t n, int64_t *t)
{
	int to[2], from[2];
	pid_t pid;
	FILE *w, *rd;
	struct buf content = BUF_INIT;
	int err = 0;

	if (pipe(to) || pipe(from))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[1]);
		close(from[0]);
		execlp("git", "git", "-C", dir, "cat-file", "--batch",
		       (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	w = fdopen(to[1], "w");
	rd = fdopen(from[0], "r");
	for (size_t i = 0; i < n && !err; i++) {
		char hdr[256];
		unsigned long long size;
		int64_t t0 = now_ns();

		fprintf(w, "%s:doc.txt\n", ids[vs[i]]);
		fflush(w);
		if (!fgets(hdr, sizeof(hdr), rd) ||
		    sscanf(hdr, "%*40s blob %llu", &size) != 1) {
			err = -1;
			break;
		}
		buf_reset(&content);
		buf_grow(&content, size + 1);
		if (fread(content.data, 1, size + 1, rd) != size + 1)
			err = -1;
		t[i] = now_ns() - t0;
	}
	fclose(w);
	fclose(rd);
	waitpid(pid, NULL, 0);
	buf_release(&content);
	return err;
}

static void bench_git(const struct record *rec, const struct buf *first,
		      const struct opts *o)
{
	char (*ids)[41] = xcalloc(rec->nv, sizeof(*ids));
	size_t n = o->runs < 200 ? o->runs : 200;
	size_t *vs = xcalloc(o->runs, sizeof(*vs));
	int64_t *t = xcalloc(o->runs, sizeof(*t)), t0;
	char *init[] = { "init", "-q", "-b", "main", NULL };
	char *gc[] = { "gc", "-q", NULL };
	char spec[64];
	const char *tmp = getenv("TMPDIR");
	struct buf d = BUF_INIT;

	buf_addf(&d, "%s/labtape-bench-history.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(d.data)) {
		printf("  git: cannot create a scratch folder; skipped\n");
		goto out;
	}
	t0 = now_ns();
	if (run_git(d.data, init, 1) || git_import(d.data, rec, first) ||
	    run_git(d.data, gc, 1) || git_commits(d.data, rec->nv, ids)) {
		printf("  git: could not build the repository; skipped\n");
		goto clean;
	}
	printf("  (git repository of %zu commits built and gc'ed in %.1f s)\n",
	       rec->nv, (double)(now_ns() - t0) / 1e9);

	for (size_t i = 0; i < n; i++) {
		char *show[] = { "show", spec, NULL };
		vs[i] = rnd(rec->nv);
		snprintf(spec, sizeof(spec), "%s:doc.txt", ids[vs[i]]);
		t0 = now_ns();
		if (run_git(d.data, show, 1)) {
			printf("  git show failed; skipped\n");
			goto clean;
		}
		t[i] = now_ns() - t0;
	}
	print_times("git show <commit>:doc.txt (a process)", t, n);
	for (size_t i = 0; i < o->runs; i++)
		vs[i] = rnd(rec->nv);
	if (git_batch(d.data, ids, vs, o->runs, t))
		printf("  git cat-file --batch failed; skipped\n");
	else
		print_times("git cat-file --batch, per version", t, o->runs);
clean:
	{
		struct buf rm = BUF_INIT;
		buf_addf(&rm, "rm -rf '%s'", d.data);
		if (system(rm.data) != 0)
			fprintf(stderr, "history: could not remove %s\n",
				d.data);
		buf_release(&rm);
	}
out:
	buf_release(&d);
	free(ids);
	free(vs);
	free(t);
}

/* ---- main ------------------------------------------------------------- */

static size_t arg_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (*end == 'K' || *end == 'k')
		v *= 1000, end++;
	if (*end || !v) {
		fprintf(stderr, "history: bad number '%s'\n", s);
		exit(2);
	}
	return (size_t)v;
}

int main(int argc, char **argv)
{
	struct opts o = { 100000, 10000, 100, 2000, 1, 1 };
	struct record rec = { 0 };
	struct text_replay r = TEXT_REPLAY_INIT;
	struct buf first = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
	struct snap origin;
	int64_t *tr, *tn, t0, setup;
	double p99;
	size_t *vs, few, total_ops = 0, max_ops = 0;
	int bad = 0;

	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];
		if (!strcmp(opt, "--no-git")) {
			o.git = 0;
			continue;
		}
		if (i + 1 == argc) {
			fprintf(stderr, "usage: history [--size BYTES] [--edits N] "
				"[--snapshot-every N] [--runs N] [--no-git] "
				"[--seed N]\n");
			return 2;
		}
		if (!strcmp(opt, "--size"))
			o.size = arg_size(argv[++i]);
		else if (!strcmp(opt, "--edits"))
			o.edits = arg_size(argv[++i]);
		else if (!strcmp(opt, "--snapshot-every"))
			o.snapshot_every = arg_size(argv[++i]);
		else if (!strcmp(opt, "--runs"))
			o.runs = arg_size(argv[++i]);
		else if (!strcmp(opt, "--seed"))
			o.seed = arg_size(argv[++i]);
		else {
			fprintf(stderr, "history: unknown option '%s'\n", opt);
			return 2;
		}
	}
	rng_state = o.seed;
	signal(SIGPIPE, SIG_IGN);

	t0 = now_ns();
	record_build(&rec, &o, &first);
	setup = now_ns() - t0;
	for (size_t v = 0; v < rec.nv; v++) {
		const struct snap *s = snap_for(&rec, v);
		size_t k = rec.vend[v] - s->edit;
		total_ops += k;
		if (k > max_ops)
			max_ops = k;
	}
	printf("history: a %zu-byte document, %zu edits in %zu versions "
	       "(saves),\n  a snapshot every %zu edits (%zu snapshots); up to "
	       "%zu edits to replay,\n  %.1f on average (built with text_diff "
	       "in %.1f s)\n\n",
	       first.len, rec.n, rec.nv, o.snapshot_every, rec.ns, max_ops,
	       (double)total_ops / (double)rec.nv, (double)setup / 1e9);

	vs = xcalloc(o.runs, sizeof(*vs));
	tr = xcalloc(o.runs, sizeof(*tr));
	tn = xcalloc(o.runs, sizeof(*tn));
	for (size_t i = 0; i < o.runs; i++)
		vs[i] = rnd(rec.nv);

	printf("  rebuild one version, in us                      median       "
	       "p99       max\n");
	for (size_t i = 0; i < o.runs; i++) {
		const struct snap *s = snap_for(&rec, vs[i]);
		t0 = now_ns();
		rebuild_replay(&rec, vs[i], s, &r, &a);
		tr[i] = now_ns() - t0;
		t0 = now_ns();
		rebuild_naive(&rec, vs[i], s, &b);
		tn[i] = now_ns() - t0;
		if (a.len != b.len || memcmp(a.data, b.data, a.len)) {
			fprintf(stderr, "history: version %zu differs between "
				"the replay and the naive rebuild\n", vs[i]);
			bad = 1;
		}
	}
	p99 = print_times("labtape: snapshot + piece table (text_replay)", tr,
			  o.runs);
	print_times("naive: snapshot + text_apply() per edit", tn, o.runs);

	/* Without snapshots: everything from the first version. */
	few = o.runs < 20 ? o.runs : 20;
	origin = rec.s[0];
	for (size_t i = 0; i < few; i++) {
		t0 = now_ns();
		rebuild_replay(&rec, vs[i], &origin, &r, &a);
		tr[i] = now_ns() - t0;
		t0 = now_ns();
		rebuild_naive(&rec, vs[i], &origin, &b);
		tn[i] = now_ns() - t0;
		if (a.len != b.len || memcmp(a.data, b.data, a.len))
			bad = 1;
	}
	print_times("labtape, no snapshots (all edits)", tr, few);
	print_times("naive, no snapshots (all edits)", tn, few);

	if (o.git) {
		printf("\n  the peer, on the same %zu versions:\n", rec.nv);
		bench_git(&rec, &first, &o);
	}
	printf("\n  target: any version in under 1 ms with a snapshot every "
	       "%zu edits: p99 %.0f us, %s\n  (the max is the slowest of all "
	       "runs, with whatever else the machine was doing)\n",
	       o.snapshot_every, p99, p99 < 1000 ? "pass" : "FAIL");
	if (bad)
		printf("  WRONG RESULTS: see above\n");

	for (size_t i = 0; i < rec.n; i++) {
		free((char *)rec.e[i].ins);
		free((char *)rec.e[i].del);
	}
	for (size_t i = 0; i < rec.ns; i++)
		free(rec.s[i].text);
	free(rec.e);
	free(rec.vend);
	free(rec.s);
	free(vs);
	free(tr);
	free(tn);
	text_replay_release(&r);
	buf_release(&first);
	buf_release(&a);
	buf_release(&b);
	return bad;
}
