/*
 * bench/ingest: how fast the vault takes in events and gives them back,
 * next to this machine's own limits. It prints figures; it is not a test.
 *
 *	ingest [--small N] [--large-mb N] [--dir DIR] [--keep] [--cold]
 *	ingest --quick
 *
 * One run:
 *
 *  1. A fresh vault (KDF "fast") in a scratch folder under DIR ($TMPDIR or
 *     /tmp by default), removed afterwards unless --keep.
 *  2. In a child process (so that its resident memory is the writer's):
 *     N small 'note' events of about 100 bytes, then N MB of 64 KiB 'note'
 *     events, each phase through its own tape in autocommit mode with a
 *     1 s flush interval (real fsyncs and index commits), timed from
 *     tape_open() to tape_close(), i.e. until everything is durable.
 *     Payloads are built in the binary encoding of events.h from
 *     pre-generated pseudo-English; every event differs.
 *  3. In the parent, a fresh vault_open() and vault_unlock(), then every
 *     record read back with vault_iter (each phase by its stream and time
 *     range), summing every payload byte; counts and sums must match what
 *     was written, or the exit status is 1. With --cold the vault's files
 *     are dropped from the page cache first (posix_fadvise), else the read
 *     is from a warm cache, as right after recording.
 *  4. Peers on the same data: zstd level 1 on 64 KiB chunks,
 *     XChaCha20-Poly1305 on 64 KiB chunks, and batched SQLite inserts into
 *     a table shaped like the index's blocks table.
 *  5. A summary of the issue's targets, pass or FAIL. Missing a target does
 *     not change the exit status: only wrong results and errors do.
 *
 * MB is 10^6 bytes, MiB 2^20. Event sizes are payload bytes (what
 * tape_append() is given).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>
#include <zstd.h>

#include "buf.h"
#include "error.h"
#include "events.h"
#include "ltime.h"
#include "vault.h"
#include "xalloc.h"
#include "banned.h"

#define MB 1e6

#define PASS "bench"
#define SMALL_STREAM "bench:small"
#define LARGE_STREAM "bench:large"
#define KIND "note"

#define LARGE_PAYLOAD 65536	/* bytes per large event, encoding included */
#define NOTE_HDR_SMALL 5	/* object, 1 member, key, string, 1-byte length */
#define NOTE_HDR_LARGE 7	/* ... 3-byte length */
#define SENTENCES 4096		/* distinct small-event texts */
#define RING (1u << 20)		/* large-event text to take windows from */

/* The issue's targets and its figures for this machine's limits. */
#define TARGET_SMALL_EPS 1e6
#define TARGET_LARGE_MBPS 150.0
#define TARGET_RSS_MIB 16.0
#define ISSUE_ZSTD_MBPS 500.0
#define ISSUE_XCHACHA_MBPS 1200.0
#define ISSUE_SQLITE_RPS 1.3e6

/* 2026-03-02T01:00:00Z: small events from here, 1 us apart; large events
 * from an hour later, 1 ms apart. One day, so one segment per stream. */
#define T_SMALL 1772413200000000000LL
#define T_LARGE (T_SMALL + 3600 * LT_NS_PER_SEC)
#define DT_SMALL 1000LL
#define DT_LARGE 1000000LL

struct opts {
	uint64_t small;
	uint64_t large_mb;
	const char *dir;
	int keep, cold, quick;
	uint64_t sqlite_rows;
};

/* ---- inputs ----------------------------------------------------------- */

static const char *const words[] = {
	"the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "as",
	"with", "was", "on", "be", "by", "this", "are", "not", "or", "from",
	"at", "which", "but", "we", "have", "an", "they", "can", "all", "were",
	"there", "one", "been", "their", "more", "has", "if", "will", "would",
	"so", "when", "what", "about", "into", "than", "only", "other", "some",
	"then", "these", "two", "may", "first", "also", "any", "after", "most",
	"should", "between", "each", "where", "because", "however", "both",
	"data", "model", "results", "analysis", "figure", "table", "sample",
	"samples", "measurement", "error", "signal", "noise", "method", "paper",
	"draft", "section", "reviewer", "experiment", "run", "baseline",
	"protocol", "subject", "session", "trial", "condition", "effect",
	"variance", "mean", "median", "distribution", "regression", "estimate",
	"parameter", "parameters", "training", "validation", "test", "loss",
	"accuracy", "dataset", "script", "notebook", "plot", "axis", "label",
	"function", "value", "values", "file", "folder", "version", "commit",
	"branch", "merge", "build", "check", "fix", "bug", "issue", "note",
	"remember", "tomorrow", "meeting", "discuss", "idea", "question",
	"answer", "reference", "citation", "appendix", "supplementary",
	"temperature", "pressure", "voltage", "current", "frequency",
	"spectrum", "calibration", "detector", "sensor", "instrument",
	"microscope", "image", "images", "pixel", "resolution", "threshold",
	"filter", "window", "buffer", "memory", "cache", "throughput",
	"latency", "benchmark", "compression", "encryption", "index", "block",
	"segment", "record", "event", "stream", "time", "day", "week", "hour",
	"minute", "second", "again", "still", "already", "perhaps", "probably",
	"clearly", "roughly", "exactly", "slightly", "much", "many", "few",
	"large", "small", "new", "old", "same", "different", "higher", "lower",
	"better", "worse", "good", "bad", "wrong", "right", "strange",
	"interesting", "important", "useful", "missing", "found", "seems",
	"looks", "shows", "suggests", "explains", "means", "needs", "want",
	"try", "tried", "compare", "compared", "rerun", "rewrite", "move",
	"split", "ask", "send", "read", "write", "wrote", "keep", "drop",
	"Alice", "Bob", "Carol", "Dave", "lab", "group", "supervisor",
	"deadline", "conference", "journal", "submission", "revision",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

/* splitmix64: a fixed seed, so every run writes the same events. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Skewed towards the front of the list, as word frequencies are. */
static const char *rng_word(uint64_t *s)
{
	uint64_t r = rng_next(s);
	uint64_t a = r % NWORDS, b = (r >> 32) % NWORDS;
	return words[a < b ? a : b];
}

/* Appends one sentence of about target bytes (a word may overshoot). */
static void add_sentence(struct buf *b, uint64_t *s, size_t target)
{
	size_t start = b->len;
	int first = 1;

	while (b->len - start < target) {
		uint64_t r = rng_next(s);
		if (!first)
			buf_addch(b, (r & 15) == 0 ? ',' : ' ');
		if ((r & 15) == 0 && !first)
			buf_addch(b, ' ');
		if (((r >> 8) & 31) == 0)
			buf_addf(b, "%u", (unsigned)((r >> 16) % 1000));
		else if (first) {
			const char *w = rng_word(s);
			buf_addch(b, w[0] >= 'a' && w[0] <= 'z' ? w[0] - 32 : w[0]);
			buf_addstr(b, w + 1);
		} else {
			buf_addstr(b, rng_word(s));
		}
		first = 0;
	}
	buf_addch(b, '.');
}

struct inputs {
	/* Small events: texts of 70..100 bytes, in fixed slots of 112. */
	char (*sent)[112];
	uint8_t *sent_len;
	/* Large events: RING bytes of paragraphs, and a window's worth more
	 * so that any offset below RING has LARGE_PAYLOAD bytes after it. */
	char *ring;
	uint8_t *large;			/* the payload being built */
};

static void inputs_init(struct inputs *in)
{
	struct buf b = BUF_INIT;
	uint64_t s = 42;

	in->sent = xmalloc(SENTENCES * sizeof(*in->sent));
	in->sent_len = xmalloc(SENTENCES);
	for (unsigned i = 0; i < SENTENCES; i++) {
		buf_reset(&b);
		add_sentence(&b, &s, 70 + rng_next(&s) % 26);
		if (b.len > 100)
			buf_setlen(&b, 100);
		memcpy(in->sent[i], b.data, b.len);
		in->sent_len[i] = (uint8_t)b.len;
	}
	buf_reset(&b);
	while (b.len < RING + LARGE_PAYLOAD) {
		unsigned n = 3 + (unsigned)(rng_next(&s) % 6);
		for (unsigned i = 0; i < n; i++) {
			add_sentence(&b, &s, 40 + rng_next(&s) % 120);
			buf_addch(&b, ' ');
		}
		buf_addstr(&b, "\n\n");
	}
	in->ring = buf_detach(&b, NULL);
	in->large = xmalloc(LARGE_PAYLOAD);
}

static void inputs_release(struct inputs *in)
{
	free(in->sent);
	free(in->sent_len);
	free(in->ring);
	free(in->large);
}

static size_t put_dec(char *out, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* A cheap mix so that neighbouring events take unrelated inputs. */
static uint64_t mix(uint64_t i)
{
	i *= 0x9e3779b97f4a7c15ULL;
	return i ^ (i >> 29);
}

/*
 * Small event i as a 'note' payload, {"text": "<i> <sentence>"}, in the
 * binary encoding of events.h: tag 7 (object), count 1, key 1 (field 0,
 * "text"), tag 5 (string), uvarint length, bytes. Returns the length
 * (at most 128).
 */
static size_t small_payload(const struct inputs *in, uint64_t i, uint8_t *out)
{
	unsigned k = (unsigned)(mix(i) % SENTENCES);
	char *text = (char *)out + NOTE_HDR_SMALL;
	size_t n = put_dec(text, i);

	text[n++] = ' ';
	memcpy(text + n, in->sent[k], in->sent_len[k]);
	n += in->sent_len[k];
	out[0] = 7;
	out[1] = 1;
	out[2] = 1;
	out[3] = 5;
	out[4] = (uint8_t)n;	/* below 128: one varint byte */
	return NOTE_HDR_SMALL + n;
}

/* Large event i: LARGE_PAYLOAD bytes, its text a header line and a window
 * of the ring at an offset of its own. Built in in->large. */
static const uint8_t *large_payload(struct inputs *in, uint64_t i)
{
	size_t tlen = LARGE_PAYLOAD - NOTE_HDR_LARGE, n;
	uint8_t *p = in->large;
	char *text = (char *)p + NOTE_HDR_LARGE;

	p[0] = 7;
	p[1] = 1;
	p[2] = 1;
	p[3] = 5;
	p[4] = (uint8_t)(0x80 | (tlen & 0x7f));
	p[5] = (uint8_t)(0x80 | ((tlen >> 7) & 0x7f));
	p[6] = (uint8_t)(tlen >> 14);
	memcpy(text, "snapshot ", 9);
	n = 9 + put_dec(text + 9, i);
	text[n++] = '\n';
	memcpy(text + n, in->ring + mix(i) % RING, tlen - n);
	return p;
}

/* Every byte of a payload, in 8-byte words where it can. */
static uint64_t sum_bytes(const uint8_t *p, size_t n)
{
	uint64_t s = 0, w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		s += w;
	}
	for (; i < n; i++)
		s += (uint64_t)p[i] << (8 * (i & 7));
	return s;
}

/* Order-sensitive digest of a sequence of payloads. */
static uint64_t digest_add(uint64_t d, const uint8_t *p, size_t n)
{
	return (d ^ sum_bytes(p, n) ^ n) * 0x100000001b3ULL;
}

static uint64_t large_count(const struct opts *o)
{
	return ((uint64_t)(o->large_mb * MB) + LARGE_PAYLOAD - 1) / LARGE_PAYLOAD;
}

/* Encodes one payload of each shape with ev_encode() and checks that the
 * hand-built ones are the same bytes, and decode as notes. */
static int inputs_check(struct inputs *in)
{
	const struct ev_kind *k = ev_kind_find(KIND);
	uint8_t small[128];
	const uint8_t *p[2];
	size_t n[2];
	int r = 0;

	p[0] = small;
	n[0] = small_payload(in, 123456, small);
	p[1] = large_payload(in, 7);
	n[1] = LARGE_PAYLOAD;
	for (int i = 0; i < 2 && !r; i++) {
		struct buf enc = BUF_INIT;
		json_t *data = NULL;
		if (!k || ev_decode(k, p[i], n[i], &data) ||
		    ev_encode(k, data, &enc) || enc.len != n[i] ||
		    memcmp(enc.data, p[i], n[i]) ||
		    !json_is_string(json_object_get(data, "text")))
			r = -1;
		json_decref(data);
		buf_release(&enc);
	}
	return r;
}

/* ---- measuring -------------------------------------------------------- */

static double now_s(void)
{
	return (double)lt_mono_ns() / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* A field of /proc/self/status in KiB, or -1. */
static long proc_status_kib(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t fl = strlen(field);
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, fl) && line[fl] == ':') {
			v = strtol(line + fl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* Resets VmHWM to the current RSS (Linux 4.0+); 0 if it worked. */
static int reset_peak_rss(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, "5", 1) == 1;
	close(fd);
	return ok ? 0 : -1;
}

struct progress {
	const char *what;
	uint64_t total;
	double start, last;
	int tty;
};

static void progress_start(struct progress *p, const char *what, uint64_t total)
{
	p->what = what;
	p->total = total;
	p->start = p->last = now_s();
	p->tty = isatty(STDERR_FILENO);
	fprintf(stderr, "%s: %" PRIu64 " events...%s", what, total,
		p->tty ? "" : "\n");
}

/* Call now and then (every few thousand small events). */
static void progress_tick(struct progress *p, uint64_t done)
{
	double t = now_s();

	if (t - p->last < (p->tty ? 0.25 : 2.0))
		return;
	p->last = t;
	fprintf(stderr, p->tty ? "\r%s: %" PRIu64 "/%" PRIu64 " events (%.0f%%)  "
			       : "%s: %" PRIu64 "/%" PRIu64 " events (%.0f%%)\n",
		p->what, done, p->total, 100.0 * (double)done / (double)p->total);
}

static void progress_done(struct progress *p)
{
	fprintf(stderr, "%s%s: %" PRIu64 " events in %.2f s\n",
		p->tty ? "\r" : "", p->what, p->total, now_s() - p->start);
}

/* CPU seconds the whole machine has been busy (not idle, not waiting
 * for I/O), from /proc/stat; -1 if unknown. Less what this process and
 * its children used, it says how much other work skewed the figures. */
static double machine_busy_s(void)
{
	FILE *f = fopen("/proc/stat", "r");
	unsigned long long v[8] = { 0 };
	double busy = -1;

	if (f) {
		if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7]) == 8)
			busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) /
			       (double)sysconf(_SC_CLK_TCK);
		fclose(f);
	}
	return busy;
}

static double own_cpu_s(void)
{
	struct rusage ru, rc;

	getrusage(RUSAGE_SELF, &ru);
	getrusage(RUSAGE_CHILDREN, &rc);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6 +
	       (double)rc.ru_utime.tv_sec + rc.ru_utime.tv_usec / 1e6 +
	       (double)rc.ru_stime.tv_sec + rc.ru_stime.tv_usec / 1e6;
}

/* ---- files ------------------------------------------------------------ */

/* Calls fn on every regular file under dir, depth first. */
static int walk(const char *dir, void (*fn)(void *ctx, const char *path,
					    const struct stat *st),
		void *ctx)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct buf p = BUF_INIT;
	int r = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		buf_reset(&p);
		buf_addf(&p, "%s/%s", dir, e->d_name);
		if (lstat(p.data, &st) < 0) {
			r = -1;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (walk(p.data, fn, ctx))
				r = -1;
		}
		fn(ctx, p.data, &st);
	}
	closedir(d);
	buf_release(&p);
	return r;
}

static void remove_one(void *ctx, const char *path, const struct stat *st)
{
	if (S_ISDIR(st->st_mode))
		rmdir(path);
	else
		unlink(path);
}

static void size_one(void *ctx, const char *path, const struct stat *st)
{
	if (S_ISREG(st->st_mode))
		*(uint64_t *)ctx += (uint64_t)st->st_size;
}

/* Drops a file's pages from the page cache (they are clean: synced). */
static void uncache_one(void *ctx, const char *path, const struct stat *st)
{
	int fd;

	if (!S_ISREG(st->st_mode))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	fdatasync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
}

static void remove_tree(const char *dir)
{
	struct stat st;

	walk(dir, remove_one, NULL);
	if (lstat(dir, &st) == 0)
		remove_one(NULL, dir, &st);
}

static uint64_t tree_size(const char *dir)
{
	uint64_t n = 0;

	walk(dir, size_one, &n);
	return n;
}

/* ---- the writer (a child process) ------------------------------------- */

struct phase {
	uint64_t n, bytes;
	double wall, cpu;
};

struct wresult {
	int ok;
	char err[512];
	struct phase small, large;
	long rss_start_kib;	/* the process before opening the vault */
	long rss_base_kib;	/* vault open, inputs ready */
	long hwm_small_kib;	/* peak while writing small events */
	long hwm_large_kib;	/* peak while writing large events */
	int hwm_reset;		/* the peaks are from the baseline on */
};

static int werr(struct wresult *w, int r, const char *what)
{
	snprintf(w->err, sizeof(w->err), "%s: %s", what, lt_errmsg());
	return r;
}

static int write_small(struct vault *v, struct inputs *in, uint64_t n,
		       struct phase *ph)
{
	struct tape_options opt = TAPE_OPTIONS_INIT;
	struct progress pr;
	struct tape *t;
	uint8_t p[128];
	double t0, c0;
	int r;

	opt.autocommit = 1;
	progress_start(&pr, "write small", n);
	c0 = cpu_s();
	t0 = now_s();
	if ((r = tape_open(&t, v, &opt)))
		return r;
	for (uint64_t i = 0; i < n; i++) {
		size_t len = small_payload(in, i, p);
		r = tape_append(t, SMALL_STREAM, T_SMALL + (int64_t)i * DT_SMALL,
				KIND, p, len);
		if (r) {
			tape_abort(t);
			return r;
		}
		ph->bytes += len;
		if ((i & 8191) == 0)
			progress_tick(&pr, i);
	}
	r = tape_close(t);
	ph->wall = now_s() - t0;
	ph->cpu = cpu_s() - c0;
	ph->n = n;
	progress_done(&pr);
	return r;
}

static int write_large(struct vault *v, struct inputs *in, uint64_t n,
		       struct phase *ph)
{
	struct tape_options opt = TAPE_OPTIONS_INIT;
	struct progress pr;
	struct tape *t;
	double t0, c0;
	int r;

	opt.autocommit = 1;
	progress_start(&pr, "write large", n);
	c0 = cpu_s();
	t0 = now_s();
	if ((r = tape_open(&t, v, &opt)))
		return r;
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *p = large_payload(in, i);
		r = tape_append(t, LARGE_STREAM, T_LARGE + (int64_t)i * DT_LARGE,
				KIND, p, LARGE_PAYLOAD);
		if (r) {
			tape_abort(t);
			return r;
		}
		ph->bytes += LARGE_PAYLOAD;
		if ((i & 31) == 0)
			progress_tick(&pr, i);
	}
	r = tape_close(t);
	ph->wall = now_s() - t0;
	ph->cpu = cpu_s() - c0;
	ph->n = n;
	progress_done(&pr);
	return r;
}

static int writer(const struct opts *o, const char *vdir, struct wresult *w)
{
	struct inputs in;
	struct vault *v;
	int r;

	w->rss_start_kib = proc_status_kib("VmRSS");
	if ((r = vault_create(vdir, PASS, strlen(PASS), VAULT_KDF_FAST)))
		return werr(w, r, "cannot create the vault");
	if ((r = vault_open(&v, vdir)))
		return werr(w, r, "cannot open the vault");
	inputs_init(&in);
	if (inputs_check(&in)) {
		snprintf(w->err, sizeof(w->err), "the hand-built payloads differ "
			 "from what ev_encode() makes; fix bench/ingest.c");
		vault_free(v);
		inputs_release(&in);
		return -1;
	}

	w->rss_base_kib = proc_status_kib("VmRSS");
	w->hwm_reset = reset_peak_rss() == 0;
	if ((r = write_small(v, &in, o->small, &w->small)))
		goto out;
	w->hwm_small_kib = proc_status_kib("VmHWM");
	if ((r = write_large(v, &in, large_count(o), &w->large)))
		goto out;
	w->hwm_large_kib = proc_status_kib("VmHWM");
	w->ok = 1;
out:
	if (r)
		werr(w, r, "cannot write");
	vault_free(v);
	inputs_release(&in);
	return r;
}

/* Runs the writer in a child; its result comes back through a pipe. */
static int run_writer(const struct opts *o, const char *vdir, struct wresult *w,
		      long *maxrss_kib)
{
	struct rusage ru;
	int fds[2], status = 0;
	size_t got = 0;
	pid_t pid;

	memset(w, 0, sizeof(*w));
	fflush(NULL);
	if (pipe(fds) < 0 || (pid = fork()) < 0) {
		snprintf(w->err, sizeof(w->err), "cannot start the writer: %s",
			 strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		writer(o, vdir, w);
		if (write(fds[1], w, sizeof(*w)) != (ssize_t)sizeof(*w))
			_exit(2);
		_exit(w->ok ? 0 : 1);
	}
	close(fds[1]);
	while (got < sizeof(*w)) {
		ssize_t n = read(fds[0], (char *)w + got, sizeof(*w) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	getrusage(RUSAGE_CHILDREN, &ru);
	*maxrss_kib = ru.ru_maxrss;
	if (got != sizeof(*w)) {
		w->ok = 0;
		snprintf(w->err, sizeof(w->err), "the writer died (status %d)",
			 status);
	}
	return w->ok ? 0 : -1;
}

/* ---- reading ---------------------------------------------------------- */

struct rphase {
	uint64_t n, bytes, digest;
	double wall, cpu;
	int bad_meta;		/* records of another stream or kind */
};

static int read_phase(struct vault *v, const char *what, const char *stream,
		      int64_t since, int64_t until, uint64_t expect,
		      struct rphase *ph)
{
	struct vault_query q = VAULT_QUERY_INIT;
	struct vault_record rec;
	struct vault_iter *it;
	struct progress pr;
	const char *seen_kind = NULL, *seen_stream = NULL;
	double t0, c0;
	int r;

	q.stream = stream;
	q.since = since;
	q.until = until;
	memset(ph, 0, sizeof(*ph));
	progress_start(&pr, what, expect);
	c0 = cpu_s();
	t0 = now_s();
	if ((r = vault_iter_open(&it, v, &q)))
		return r;
	while ((r = vault_iter_next(it, &rec)) == 1) {
		ph->digest = digest_add(ph->digest, rec.payload, rec.len);
		ph->bytes += rec.len;
		/* The names are the same pointers for a whole block. */
		if (rec.kind != seen_kind || rec.stream != seen_stream) {
			if (strcmp(rec.kind, KIND) || strcmp(rec.stream, stream))
				ph->bad_meta++;
			seen_kind = rec.kind;
			seen_stream = rec.stream;
		}
		if ((++ph->n & 8191) == 0)
			progress_tick(&pr, ph->n);
	}
	vault_iter_free(it);
	ph->wall = now_s() - t0;
	ph->cpu = cpu_s() - c0;
	progress_done(&pr);
	return r;
}

/* What the writer wrote, regenerated: the digests to compare with, and
 * how long making the inputs takes (a share of the write times). */
struct expect {
	uint64_t small_digest, large_digest;
	uint64_t small_bytes, large_bytes;
	double small_gen, large_gen;
};

static void expect_compute(const struct opts *o, struct inputs *in,
			   struct expect *e)
{
	uint8_t p[128];
	uint64_t n = large_count(o);
	double t0;

	memset(e, 0, sizeof(*e));
	t0 = now_s();
	for (uint64_t i = 0; i < o->small; i++) {
		size_t len = small_payload(in, i, p);
		e->small_digest = digest_add(e->small_digest, p, len);
		e->small_bytes += len;
	}
	e->small_gen = now_s() - t0;
	t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *lp = large_payload(in, i);
		e->large_digest = digest_add(e->large_digest, lp, LARGE_PAYLOAD);
		e->large_bytes += LARGE_PAYLOAD;
	}
	e->large_gen = now_s() - t0;
}

static double safe_div(double a, double b)
{
	return b > 0 ? a / b : 0;
}

/* ---- peers ------------------------------------------------------------ */

struct peers {
	double zstd_c, zstd_d, zstd_ratio;	/* MB/s of plaintext */
	double xchacha_e, xchacha_d;		/* MB/s */
	double sqlite_rps, sqlite_idx_rps;	/* rows per second: plain,
						 * with the index's indexes */
	double small_zstd_c, small_zstd_ratio;	/* on small-event blocks */
};

#define PEER_CHUNKS 64
#define PEER_SECONDS 0.5
#define PEER_ROUNDS 3
static double peer_seconds = PEER_SECONDS;	/* less with --quick */

/* The large payloads of events 0..PEER_CHUNKS-1, one after another. */
static uint8_t *peer_chunks(struct inputs *in)
{
	uint8_t *c = xmalloc((size_t)PEER_CHUNKS * LARGE_PAYLOAD);

	for (unsigned i = 0; i < PEER_CHUNKS; i++)
		memcpy(c + (size_t)i * LARGE_PAYLOAD, large_payload(in, i),
		       LARGE_PAYLOAD);
	return c;
}

/* Small events laid out as in a block's plaintext (doc/format.md,
 * "Records"), cut into 64 KiB chunks: what zstd sees when a tape closes
 * a block of small events. */
static uint8_t *peer_small_blocks(struct inputs *in)
{
	size_t size = (size_t)PEER_CHUNKS * LARGE_PAYLOAD, off = 0;
	uint8_t *c = xmalloc(size);
	uint64_t i = 0;

	while (off + 4 + 128 <= size) {
		size_t n = small_payload(in, i++, c + off + 4);
		c[off] = 0xd0;		/* svarint(+1000 ns): 2 bytes */
		c[off + 1] = 0x0f;
		c[off + 2] = 0;		/* kind 0 */
		c[off + 3] = (uint8_t)n;	/* length, below 128 */
		off += 4 + n;
	}
	memset(c + off, ' ', size - off);
	return c;
}

/* One operation on chunk k: returns the plaintext bytes it handled, 0 if
 * it failed. */
typedef size_t peer_op(void *ctx, unsigned k);

/* The best of PEER_ROUNDS rounds of peer_seconds each, in MB/s: a limit
 * is what the machine does when nothing else gets in the way. */
static double peer_rate(peer_op *op, void *ctx)
{
	double best = 0;

	for (int round = 0; round < PEER_ROUNDS; round++) {
		uint64_t bytes = 0, i = 0;
		double t0 = now_s(), t = 0;
		do {
			size_t n = op(ctx, (unsigned)(i++ % PEER_CHUNKS));
			if (!n)
				return 0;
			bytes += n;
		} while ((t = now_s() - t0) < peer_seconds || i < PEER_CHUNKS);
		if ((double)bytes / MB / t > best)
			best = (double)bytes / MB / t;
	}
	return best;
}

struct zpeer {
	ZSTD_CCtx *cc;
	ZSTD_DCtx *dc;
	const uint8_t *chunks;
	uint8_t *out, *comp;
	size_t bound, clen[PEER_CHUNKS];
	uint64_t in_bytes, out_bytes;
};

static size_t zstd_c_op(void *ctx, unsigned k)
{
	struct zpeer *z = ctx;
	size_t n = ZSTD_compressCCtx(z->cc, z->out, z->bound,
				     z->chunks + (size_t)k * LARGE_PAYLOAD,
				     LARGE_PAYLOAD, 1);

	if (ZSTD_isError(n))
		return 0;
	z->in_bytes += LARGE_PAYLOAD;
	z->out_bytes += n;
	return LARGE_PAYLOAD;
}

static size_t zstd_d_op(void *ctx, unsigned k)
{
	struct zpeer *z = ctx;
	size_t n = ZSTD_decompressDCtx(z->dc, z->out, LARGE_PAYLOAD,
				       z->comp + k * z->bound, z->clen[k]);

	return ZSTD_isError(n) ? 0 : n;
}

/* zstd level 1 on 64 KiB chunks: compression and decompression MB/s (of
 * plaintext) and the compression ratio. */
static void zstd_rates(const uint8_t *chunks, double *comp, double *decomp,
		       double *ratio)
{
	struct zpeer z = { 0 };

	z.cc = ZSTD_createCCtx();
	z.dc = ZSTD_createDCtx();
	z.chunks = chunks;
	z.bound = ZSTD_compressBound(LARGE_PAYLOAD);
	z.out = xmalloc(z.bound);
	z.comp = xmalloc(z.bound * PEER_CHUNKS);
	*comp = peer_rate(zstd_c_op, &z);
	*ratio = safe_div((double)z.in_bytes, (double)z.out_bytes);
	for (unsigned k = 0; k < PEER_CHUNKS; k++)
		z.clen[k] = ZSTD_compressCCtx(z.cc, z.comp + k * z.bound, z.bound,
					      chunks + (size_t)k * LARGE_PAYLOAD,
					      LARGE_PAYLOAD, 1);
	if (decomp)
		*decomp = peer_rate(zstd_d_op, &z);
	free(z.out);
	free(z.comp);
	ZSTD_freeCCtx(z.cc);
	ZSTD_freeDCtx(z.dc);
}

#define CT_LEN (LARGE_PAYLOAD + crypto_aead_xchacha20poly1305_ietf_ABYTES)

struct xpeer {
	uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	uint8_t ad[64];		/* a frame header's worth */
	const uint8_t *chunks;
	uint8_t *ct, *pt;
};

static size_t xchacha_e_op(void *ctx, unsigned k)
{
	struct xpeer *x = ctx;
	unsigned long long n;

	crypto_aead_xchacha20poly1305_ietf_encrypt(
		x->ct + (size_t)k * CT_LEN, &n,
		x->chunks + (size_t)k * LARGE_PAYLOAD, LARGE_PAYLOAD,
		x->ad, sizeof(x->ad), NULL, x->nonce, x->key);
	return LARGE_PAYLOAD;
}

static size_t xchacha_d_op(void *ctx, unsigned k)
{
	struct xpeer *x = ctx;
	unsigned long long n;

	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    x->pt, &n, NULL, x->ct + (size_t)k * CT_LEN, CT_LEN, x->ad,
		    sizeof(x->ad), x->nonce, x->key) != 0)
		return 0;
	return (size_t)n;
}

/* XChaCha20-Poly1305 on 64 KiB chunks: encryption and decryption MB/s. */
static void xchacha_rates(const uint8_t *chunks, double *enc, double *dec)
{
	struct xpeer x;

	crypto_aead_xchacha20poly1305_ietf_keygen(x.key);
	randombytes_buf(x.nonce, sizeof(x.nonce));
	randombytes_buf(x.ad, sizeof(x.ad));
	x.chunks = chunks;
	x.ct = xmalloc((size_t)CT_LEN * PEER_CHUNKS);
	x.pt = xmalloc(LARGE_PAYLOAD);
	*enc = peer_rate(xchacha_e_op, &x);
	*dec = peer_rate(xchacha_d_op, &x);	/* the chunks encrypted above */
	free(x.ct);
	free(x.pt);
}

/*
 * Rows per second inserted in one transaction with a prepared statement,
 * into a WAL database (synchronous=FULL, as the index) with a table shaped
 * like the index's blocks table; with indexed, its UNIQUE constraint and
 * t_min index too (three b-trees per row instead of one). Timed from BEGIN
 * to the end of COMMIT.
 */
static double sqlite_rate(const char *path, uint64_t rows, int indexed,
			  char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	double t0, t = 0;
	int ok = 0;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		goto out;
	if (sqlite3_exec(db,
			 "PRAGMA journal_mode=WAL;"
			 "PRAGMA synchronous=FULL;"
			 "CREATE TABLE blocks(\n"
			 "  id INTEGER PRIMARY KEY,\n"
			 "  segment INTEGER NOT NULL,\n"
			 "  frame INTEGER NOT NULL,\n"
			 "  offset INTEGER NOT NULL,\n"
			 "  length INTEGER NOT NULL,\n"
			 "  t_min INTEGER NOT NULL,\n"
			 "  t_max INTEGER NOT NULL,\n"
			 "  records INTEGER NOT NULL,\n"
			 "  plain_len INTEGER NOT NULL);",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    (indexed &&
	     sqlite3_exec(db, "CREATE UNIQUE INDEX blocks_frame ON"
			  " blocks(segment, frame);"
			  "CREATE INDEX blocks_time ON blocks(t_min);",
			  NULL, NULL, NULL) != SQLITE_OK) ||
	    sqlite3_prepare_v2(db, "INSERT INTO blocks(segment, frame, offset,"
			       " length, t_min, t_max, records, plain_len)"
			       " VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	t0 = now_s();
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	for (uint64_t i = 0; i < rows; i++) {
		int64_t tm = T_SMALL + (int64_t)i * 1000000;
		sqlite3_bind_int64(st, 1, (int64_t)(i >> 16) + 1);
		sqlite3_bind_int64(st, 2, (int64_t)(i & 0xffff));
		sqlite3_bind_int64(st, 3, 64 + (int64_t)(i & 0xffff) * 24000);
		sqlite3_bind_int64(st, 4, 24000 + (int64_t)(i % 977));
		sqlite3_bind_int64(st, 5, tm);
		sqlite3_bind_int64(st, 6, tm + 999999);
		sqlite3_bind_int64(st, 7, 650);
		sqlite3_bind_int64(st, 8, 65536);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
		sqlite3_reset(st);
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	t = now_s() - t0;
	ok = 1;
out:
	if (!ok)
		snprintf(err, errlen, "%s", db ? sqlite3_errmsg(db) : "cannot open");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ok ? (double)rows / t : 0;
}

/* ---- reporting -------------------------------------------------------- */

/* "1,234,567" */
static const char *commas(uint64_t v, char *out, size_t n)
{
	char tmp[32];
	size_t len = (size_t)snprintf(tmp, sizeof(tmp), "%" PRIu64, v), o = 0;

	for (size_t i = 0; i < len && o + 1 < n; i++) {
		if (i && (len - i) % 3 == 0 && o + 2 < n)
			out[o++] = ',';
		out[o++] = tmp[i];
	}
	out[o] = '\0';
	return out;
}

struct row {
	const char *what, *target;
	char measured[64];
	int pass;
};

static void usage(FILE *f)
{
	fputs("usage: ingest [--small N] [--large-mb N] [--dir DIR] [--keep] "
	      "[--cold] [--sqlite-rows N]\n"
	      "       ingest --quick\n"
	      "\n"
	      "  --small N        small events (~100 bytes) to append "
	      "(default 1000000)\n"
	      "  --large-mb N     MB of 64 KiB events to append (default 1000)\n"
	      "  --dir DIR        make the scratch folder in DIR (default "
	      "$TMPDIR or /tmp)\n"
	      "  --keep           keep the scratch folder (the vault's "
	      "passphrase is 'bench')\n"
	      "  --cold           drop the vault from the page cache before "
	      "reading\n"
	      "  --sqlite-rows N  rows for the SQLite peer (default 1000000)\n"
	      "  --quick          a small run (20000 small events, 32 MB), "
	      "a smoke test\n", f);
}

static int parse_u64(const char *opt, const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!s || !*s || *s == '-') {
		fprintf(stderr, "ingest: %s needs a number\n", opt);
		return -1;
	}
	v = strtoull(s, &end, 10);
	if (errno || *end) {
		fprintf(stderr, "ingest: %s: '%s' is not a number\n", opt, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	int small_set = 0, large_set = 0, rows_set = 0;

	o->small = 1000000;
	o->large_mb = 1000;
	o->sqlite_rows = 1000000;
	o->dir = getenv("TMPDIR");
	if (!o->dir || !*o->dir)
		o->dir = "/tmp";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--small")) {
			if (parse_u64(a, i + 1 < argc ? argv[++i] : NULL,
				      &o->small))
				return -1;
			small_set = 1;
		} else if (!strcmp(a, "--large-mb")) {
			if (parse_u64(a, i + 1 < argc ? argv[++i] : NULL,
				      &o->large_mb))
				return -1;
			large_set = 1;
		} else if (!strcmp(a, "--sqlite-rows")) {
			if (parse_u64(a, i + 1 < argc ? argv[++i] : NULL,
				      &o->sqlite_rows))
				return -1;
			rows_set = 1;
		} else if (!strcmp(a, "--dir")) {
			if (i + 1 >= argc) {
				fputs("ingest: --dir needs a folder\n", stderr);
				return -1;
			}
			o->dir = argv[++i];
		} else if (!strcmp(a, "--keep")) {
			o->keep = 1;
		} else if (!strcmp(a, "--cold")) {
			o->cold = 1;
		} else if (!strcmp(a, "--quick")) {
			o->quick = 1;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		} else {
			fprintf(stderr, "ingest: unknown option '%s'\n", a);
			usage(stderr);
			return -1;
		}
	}
	if (o->quick) {
		if (!small_set)
			o->small = 20000;
		if (!large_set)
			o->large_mb = 32;
		if (!rows_set)
			o->sqlite_rows = 100000;
		peer_seconds = 0.1;
	}
	if (!o->small || !o->large_mb || !o->sqlite_rows) {
		fputs("ingest: sizes must be at least 1\n", stderr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct wresult w;
	struct rphase rs, rl;
	struct expect ex;
	struct peers pe = { 0 };
	struct inputs in;
	struct buf scratch = BUF_INIT, vdir = BUF_INIT, db = BUF_INIT;
	struct buf db2 = BUF_INIT;
	struct vault *v = NULL;
	struct row rows[8];
	char c1[32], c2[32], sqlerr[256] = "";
	long maxrss_kib = 0;
	uint64_t disk, nlarge;
	int bad = 0, nrows = 0, r;
	double small_eps, small_mbps, large_mbps, rs_eps, rs_mbps, rl_mbps;
	double serial_w, serial_r, peak_mib, busy0, own0, wall0, others, wall;

	if (parse_opts(argc, argv, &o))
		return 2;
	if (sodium_init() < 0) {
		fputs("ingest: cannot initialise libsodium\n", stderr);
		return 1;
	}
	nlarge = large_count(&o);
	buf_addf(&scratch, "%s/labtape-bench.XXXXXX", o.dir);
	if (!mkdtemp(scratch.data)) {
		fprintf(stderr, "ingest: cannot make a scratch folder in '%s': "
			"%s (choose another with --dir)\n", o.dir,
			strerror(errno));
		return 1;
	}
	buf_addf(&vdir, "%s/vault", scratch.data);
	buf_addf(&db, "%s/peer.db", scratch.data);
	buf_addf(&db2, "%s/peer-indexed.db", scratch.data);
	fprintf(stderr, "ingest: scratch folder %s\n", scratch.data);
	busy0 = machine_busy_s();
	own0 = own_cpu_s();
	wall0 = now_s();

	/* 1-2: write, in a child. */
	if (run_writer(&o, vdir.data, &w, &maxrss_kib)) {
		fprintf(stderr, "ingest: %s\n", w.err);
		bad = 1;
		goto out;
	}
	disk = tree_size(vdir.data);

	/* 3: read back. */
	if (o.cold) {
		fputs("ingest: dropping the vault from the page cache\n", stderr);
		walk(vdir.data, uncache_one, NULL);
	}
	if ((r = vault_open(&v, vdir.data)) ||
	    (r = vault_unlock(v, PASS, strlen(PASS)))) {
		fprintf(stderr, "ingest: cannot open the vault to read: %s\n",
			lt_errmsg());
		bad = 1;
		goto out;
	}
	if ((r = read_phase(v, "read small", SMALL_STREAM, T_SMALL,
			    T_SMALL + (int64_t)o.small * DT_SMALL, o.small, &rs)) ||
	    (r = read_phase(v, "read large", LARGE_STREAM, T_LARGE,
			    T_LARGE + (int64_t)nlarge * DT_LARGE, nlarge, &rl))) {
		fprintf(stderr, "ingest: cannot read: %s\n", lt_errmsg());
		bad = 1;
		goto out;
	}

	/* What was written, regenerated, to compare. */
	inputs_init(&in);
	fputs("ingest: regenerating the inputs to check them\n", stderr);
	expect_compute(&o, &in, &ex);
	if (rs.n != o.small || rs.bytes != ex.small_bytes ||
	    rs.digest != ex.small_digest || rs.bad_meta) {
		fprintf(stderr, "ingest: small events: wrote %" PRIu64 " (%" PRIu64
			" bytes), read %" PRIu64 " (%" PRIu64 " bytes)%s%s\n",
			o.small, ex.small_bytes, rs.n, rs.bytes,
			rs.digest != ex.small_digest ? ", contents differ" : "",
			rs.bad_meta ? ", wrong stream or kind" : "");
		bad = 1;
	}
	if (rl.n != nlarge || rl.bytes != ex.large_bytes ||
	    rl.digest != ex.large_digest || rl.bad_meta) {
		fprintf(stderr, "ingest: large events: wrote %" PRIu64 " (%" PRIu64
			" bytes), read %" PRIu64 " (%" PRIu64 " bytes)%s%s\n",
			nlarge, ex.large_bytes, rl.n, rl.bytes,
			rl.digest != ex.large_digest ? ", contents differ" : "",
			rl.bad_meta ? ", wrong stream or kind" : "");
		bad = 1;
	}

	/* 4: peers. */
	fputs("ingest: measuring zstd, XChaCha20-Poly1305 and SQLite\n", stderr);
	{
		uint8_t *chunks = peer_chunks(&in);
		uint8_t *blocks = peer_small_blocks(&in);
		zstd_rates(chunks, &pe.zstd_c, &pe.zstd_d, &pe.zstd_ratio);
		zstd_rates(blocks, &pe.small_zstd_c, NULL, &pe.small_zstd_ratio);
		xchacha_rates(chunks, &pe.xchacha_e, &pe.xchacha_d);
		free(chunks);
		free(blocks);
	}
	pe.sqlite_rps = sqlite_rate(db.data, o.sqlite_rows, 0, sqlerr,
				    sizeof(sqlerr));
	pe.sqlite_idx_rps = sqlite_rate(db2.data, o.sqlite_rows, 1, sqlerr,
					sizeof(sqlerr));
	if (!pe.sqlite_rps || !pe.sqlite_idx_rps)
		fprintf(stderr, "ingest: the SQLite peer failed: %s\n", sqlerr);
	inputs_release(&in);
	wall = now_s() - wall0;
	others = machine_busy_s() - busy0 - (own_cpu_s() - own0);
	if (busy0 < 0)
		others = -1;

	/* 5: figures. */
	small_eps = safe_div((double)w.small.n, w.small.wall);
	small_mbps = safe_div((double)w.small.bytes / MB, w.small.wall);
	large_mbps = safe_div((double)w.large.bytes / MB, w.large.wall);
	rs_eps = safe_div((double)rs.n, rs.wall);
	rs_mbps = safe_div((double)rs.bytes / MB, rs.wall);
	rl_mbps = safe_div((double)rl.bytes / MB, rl.wall);
	/* One core doing both steps of a block, one after the other; the
	 * cipher sees the compressed bytes only. */
	serial_w = safe_div(1.0, safe_div(1.0, pe.zstd_c) +
			    safe_div(1.0, pe.xchacha_e * pe.zstd_ratio));
	serial_r = safe_div(1.0, safe_div(1.0, pe.zstd_d) +
			    safe_div(1.0, pe.xchacha_d * pe.zstd_ratio));
	peak_mib = (double)(w.hwm_large_kib > w.hwm_small_kib ?
			    w.hwm_large_kib : w.hwm_small_kib) / 1024.0;

	printf("labtape bench/ingest%s: %s small events, %" PRIu64 " MB of "
	       "64 KiB events (%s), flush interval 1 s, autocommit\n",
	       o.quick ? " --quick (figures not representative)" : "",
	       commas(o.small, c1, sizeof(c1)), o.large_mb,
	       commas(nlarge, c2, sizeof(c2)));
	printf("%ld CPUs online; other processes were busy for %.1f CPU-s of "
	       "the %.1f s this took%s\n",
	       sysconf(_SC_NPROCESSORS_ONLN), others, wall,
	       others > 0.05 * wall ? " (figures may be low)" : "");
	printf("vault %s, %.1f MB on disk for %.1f MB of payloads (%.2fx)\n\n",
	       vdir.data, (double)disk / MB,
	       (double)(w.small.bytes + w.large.bytes) / MB,
	       safe_div((double)(w.small.bytes + w.large.bytes), (double)disk));

	printf("write (tape_open .. tape_close, durable)\n");
	printf("  small events  %8.3f M/s  %7.1f MB/s  %6.2f s wall  %6.2f s cpu"
	       "  (%.0f B/event)\n",
	       small_eps / 1e6, small_mbps, w.small.wall, w.small.cpu,
	       safe_div((double)w.small.bytes, (double)w.small.n));
	printf("                = %.2f x batched SQLite inserts (%.2f M rows/s), "
	       "%.2f x zstd-1 on such blocks (%.0f MB/s)\n",
	       safe_div(small_eps, pe.sqlite_rps), pe.sqlite_rps / 1e6,
	       safe_div(small_mbps, pe.small_zstd_c), pe.small_zstd_c);
	printf("  large events  %8.4f M/s  %7.1f MB/s  %6.2f s wall  %6.2f s cpu\n",
	       safe_div((double)w.large.n, w.large.wall) / 1e6, large_mbps,
	       w.large.wall, w.large.cpu);
	printf("                = %.2f x zstd-1 (%.0f MB/s), %.2f x XChaCha20-"
	       "Poly1305 (%.0f MB/s), %.2f x zstd-1 + cipher (%.0f MB/s)\n",
	       safe_div(large_mbps, pe.zstd_c), pe.zstd_c,
	       safe_div(large_mbps, pe.xchacha_e), pe.xchacha_e,
	       safe_div(large_mbps, serial_w), serial_w);
	printf("  of which making the inputs (at most; timed apart with digesting): "
	       "%.3f s small, %.3f s large\n\n",
	       ex.small_gen, ex.large_gen);

	printf("read (vault_iter, every payload byte summed; %s cache)\n",
	       o.cold ? "cold" : "warm");
	printf("  small events  %8.3f M/s  %7.1f MB/s  %6.2f s wall  %6.2f s cpu"
	       "  = %.2f x write\n",
	       rs_eps / 1e6, rs_mbps, rs.wall, rs.cpu, safe_div(rs_eps, small_eps));
	printf("  large events  %8.4f M/s  %7.1f MB/s  %6.2f s wall  %6.2f s cpu"
	       "  = %.2f x write\n",
	       safe_div((double)rl.n, rl.wall) / 1e6, rl_mbps, rl.wall, rl.cpu,
	       safe_div(rl_mbps, large_mbps));
	printf("                = %.2f x zstd-1 decompression (%.0f MB/s), "
	       "%.2f x zstd + cipher (%.0f MB/s)\n",
	       safe_div(rl_mbps, pe.zstd_d), pe.zstd_d,
	       safe_div(rl_mbps, serial_r), serial_r);
	printf("  counts: small %s of %s, large %" PRIu64 " of %" PRIu64 ", "
	       "contents %s\n\n",
	       commas(rs.n, c1, sizeof(c1)), commas(o.small, c2, sizeof(c2)),
	       rl.n, nlarge, bad ? "DIFFER" : "match");

	printf("writer memory (resident, the writer process)\n");
	printf("  at start %.1f MiB; vault open and inputs ready (baseline) "
	       "%.1f MiB\n",
	       w.rss_start_kib / 1024.0, w.rss_base_kib / 1024.0);
	printf("  peak while writing: small %.1f MiB, large %.1f MiB "
	       "(writer's own: +%.1f MiB)%s\n",
	       w.hwm_small_kib / 1024.0, w.hwm_large_kib / 1024.0,
	       peak_mib - w.rss_base_kib / 1024.0,
	       w.hwm_reset ? "" : " [VmHWM not reset: peak includes setup]");
	printf("  getrusage ru_maxrss of the child: %.1f MiB\n\n",
	       maxrss_kib / 1024.0);

	printf("peers on this machine, one core     measured      issue says  "
	       "(best of %d rounds of %.1f s; SQLite one run)\n", PEER_ROUNDS,
	       peer_seconds);
	printf("  zstd level 1, 64 KiB chunks     %7.0f MB/s   ~%.0f MB/s  "
	       "(ratio %.2f; %.2f on small-event blocks)\n",
	       pe.zstd_c, ISSUE_ZSTD_MBPS, pe.zstd_ratio, pe.small_zstd_ratio);
	printf("  zstd decompression              %7.0f MB/s\n", pe.zstd_d);
	printf("  XChaCha20-Poly1305 encrypt      %7.0f MB/s   ~%.0f MB/s\n",
	       pe.xchacha_e, ISSUE_XCHACHA_MBPS);
	printf("  XChaCha20-Poly1305 decrypt      %7.0f MB/s\n", pe.xchacha_d);
	printf("  SQLite inserts, 1 transaction   %7.3f M/s    ~%.1f M/s   "
	       "(%s rows, WAL, synchronous=FULL)\n",
	       pe.sqlite_rps / 1e6, ISSUE_SQLITE_RPS / 1e6,
	       commas(o.sqlite_rows, c1, sizeof(c1)));
	printf("    the same with blocks' 2 indexes %5.3f M/s\n\n",
	       pe.sqlite_idx_rps / 1e6);

	rows[nrows] = (struct row){ "small append", ">= 1,000,000 events/s", "", 0 };
	snprintf(rows[nrows].measured, sizeof(rows[0].measured), "%s events/s",
		 commas((uint64_t)small_eps, c1, sizeof(c1)));
	rows[nrows++].pass = small_eps >= TARGET_SMALL_EPS;
	rows[nrows] = (struct row){ "large append", ">= 150 MB/s", "", 0 };
	snprintf(rows[nrows].measured, sizeof(rows[0].measured), "%.1f MB/s",
		 large_mbps);
	rows[nrows++].pass = large_mbps >= TARGET_LARGE_MBPS;
	rows[nrows] = (struct row){ "small read", ">= small append", "", 0 };
	snprintf(rows[nrows].measured, sizeof(rows[0].measured),
		 "%s events/s (%.2fx)", commas((uint64_t)rs_eps, c1, sizeof(c1)),
		 safe_div(rs_eps, small_eps));
	rows[nrows++].pass = rs_eps >= small_eps;
	rows[nrows] = (struct row){ "large read", ">= large append", "", 0 };
	snprintf(rows[nrows].measured, sizeof(rows[0].measured),
		 "%.1f MB/s (%.2fx)", rl_mbps, safe_div(rl_mbps, large_mbps));
	rows[nrows++].pass = rl_mbps >= large_mbps;
	rows[nrows] = (struct row){ "writer peak RSS", "< 16 MiB", "", 0 };
	snprintf(rows[nrows].measured, sizeof(rows[0].measured),
		 "%.1f MiB (base %.1f)", peak_mib, w.rss_base_kib / 1024.0);
	rows[nrows++].pass = peak_mib > 0 && peak_mib < TARGET_RSS_MIB;
	rows[nrows] = (struct row){ "read back", "all events, same bytes", "", 0 };
	snprintf(rows[nrows].measured, sizeof(rows[0].measured), "%s",
		 bad ? "DIFFER" : "all match");
	rows[nrows++].pass = !bad;

	printf("%-16s  %-24s  %-32s  %s\n", "target", "wanted", "measured",
	       "result");
	for (int i = 0; i < nrows; i++)
		printf("%-16s  %-24s  %-32s  %s\n", rows[i].what, rows[i].target,
		       rows[i].measured, rows[i].pass ? "pass" : "FAIL");
out:
	vault_free(v);
	if (o.keep)
		fprintf(stderr, "ingest: kept %s\n", scratch.data);
	else
		remove_tree(scratch.data);
	buf_release(&scratch);
	buf_release(&vdir);
	buf_release(&db);
	buf_release(&db2);
	return bad;
}
