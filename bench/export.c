/*
 * bench/export: how fast `labtape export edits` turns a vault into
 * next-edit examples, with redaction on and off, and its peak memory.
 * It prints figures; it is not a test.
 *
 *	export [--ops N] [--docs N] [--labtape PATH] [--dir DIR] [--quick]
 *	       [--keep]
 *
 * --keep leaves the vault (passphrase "bench") and the last output in
 * DIR/labtape-bench-export.XXXXXX, for profiling the export alone.
 *
 * 1. A fresh vault (KDF "fast") under DIR ($TMPDIR or /tmp): N edit.op
 *    records (1,000,000) over D documents (1,000), written straight with
 *    the tape API. Each document starts with a snapshot of 60 lines of
 *    pseudo-code, a few with an e-mail address or a phone number in
 *    them; then inserts of a word and deletes of up to 8 characters at
 *    random places, every edit 2 s after the document's last one (so
 *    each is its own group: one example each), documents interleaved.
 * 2. `labtape export edits -o OUT` (and again with --no-redact) in a
 *    child pinned to CPU 0, timed from fork to exit; peak resident
 *    memory from wait4()'s ru_maxrss; the examples counted in the
 *    output files.
 * 3. The figures next to the targets: 50,000 examples/s with
 *    redaction, 64 MiB resident. Missing a target does not change the
 *    exit status; a failed export does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "error.h"
#include "events.h"
#include "ltime.h"
#include "vault.h"
#include "xalloc.h"
#include "banned.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const char *const words[] = {
	"int", "return", "x", "value", "for", "while", "if", "else", "self",
	"data", "result", "count", "(", ")", "=", "+", ";", "0", "1", "name",
};

static void line(struct buf *b, int k)
{
	if (k % 20 == 7)
		buf_addf(b, "# contact: jane.doe%d@example.com\n", k);
	else if (k % 20 == 13)
		buf_addf(b, "# phone: +1 415-555-%04d\n", 1000 + k);
	else
		buf_addf(b, "    %s %s %s %s %s\n", words[rnd() % 20],
			 words[rnd() % 20], words[rnd() % 20],
			 words[rnd() % 20], words[rnd() % 20]);
}

static int append(struct tape *t, const char *stream, int64_t ts,
		  json_t *data, struct buf *p)
{
	const struct ev_kind *k = ev_kind_find("edit.op");
	int r;

	buf_reset(p);
	if ((r = ev_encode(k, data, p)) || (r = tape_append(t, stream, ts,
					     "edit.op", p->data, p->len))) {
		fprintf(stderr, "bench/export: %s\n", lt_errmsg());
		return r;
	}
	return 0;
}

static int build(const char *dir, long ops, long docs)
{
	struct vault *v;
	struct tape *t;
	struct buf *text = xcalloc((size_t)docs, sizeof(*text));
	long *seq = xcalloc((size_t)docs, sizeof(*seq));
	struct buf p = BUF_INIT;
	int64_t t0 = 1767225600LL * LT_NS_PER_SEC;	/* 2026-01-01 */
	char id[64], path[64];
	long done = 0, round = 0;
	int r;

	if ((r = vault_create(dir, "bench", 5, VAULT_KDF_FAST)) ||
	    (r = vault_open(&v, dir)) || (r = tape_open(&t, v, NULL))) {
		fprintf(stderr, "bench/export: %s\n", lt_errmsg());
		return 1;
	}
	while (done < ops) {
		for (long d = 0; d < docs && done < ops; d++, done++) {
			int64_t ts = t0 + round * 2 * LT_NS_PER_SEC + d * 1000;
			json_t *j;

			snprintf(id, sizeof(id), "file:%016lx", 0x1000 + d);
			snprintf(path, sizeof(path), "src/mod%ld.py", d);
			if (!round) {
				buf_init(&text[d], 4096);
				for (int k = 0; k < 60; k++)
					line(&text[d], k);
				j = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s#}",
					"doc", id, "path", path, "part", path,
					"seq", (json_int_t)seq[d]++, "actor", "bench",
					"op", "snapshot", "text", text[d].data,
					text[d].len);
			} else if (text[d].len > 2000 && rnd() % 5 < 2) {
				size_t pos = rnd() % (text[d].len - 8);
				size_t n = 1 + rnd() % 8;
				j = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:I, s:s#}",
					"doc", id, "path", path, "part", path,
					"seq", (json_int_t)seq[d]++, "actor", "bench",
					"op", "delete", "pos", (json_int_t)pos,
					"len", (json_int_t)n, "del",
					text[d].data + pos, n);
				memmove(text[d].data + pos, text[d].data + pos + n,
					text[d].len - pos - n);
				buf_setlen(&text[d], text[d].len - n);
			} else {
				size_t pos = rnd() % (text[d].len + 1);
				const char *w = words[rnd() % 20];
				size_t n = strlen(w);
				j = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:s}",
					"doc", id, "path", path, "part", path,
					"seq", (json_int_t)seq[d]++, "actor", "bench",
					"op", "insert", "pos", (json_int_t)pos,
					"ins", w);
				buf_grow(&text[d], n);
				memmove(text[d].data + pos + n, text[d].data + pos,
					text[d].len - pos);
				memcpy(text[d].data + pos, w, n);
				buf_setlen(&text[d], text[d].len + n);
			}
			r = append(t, "fs:/bench", ts, j, &p);
			json_decref(j);
			if (r)
				return 1;
		}
		round++;
	}
	r = tape_close(t);
	vault_free(v);
	for (long d = 0; d < docs; d++)
		buf_release(&text[d]);
	free(text);
	free(seq);
	buf_release(&p);
	return r ? 1 : 0;
}

static long count_lines(const char *dir)
{
	static const char *const s[] = { "train", "validation", "test" };
	char path[4400], b[1 << 16];
	long n = 0;

	for (int i = 0; i < 3; i++) {
		FILE *f;
		size_t got;
		snprintf(path, sizeof(path), "%s/edits.%s.jsonl", dir, s[i]);
		if (!(f = fopen(path, "r")))
			return -1;
		while ((got = fread(b, 1, sizeof(b), f)) > 0)
			for (size_t k = 0; k < got; k++)
				n += b[k] == '\n';
		fclose(f);
	}
	return n;
}

static int run(const char *labtape, const char *vault, const char *out,
	       int redact, double *secs, long *rss_kib, long *examples)
{
	int64_t t0 = lt_mono_ns();
	struct rusage ru;
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(0, &set);
		sched_setaffinity(0, sizeof(set), &set);
		setenv("LABTAPE_VAULT", vault, 1);
		setenv("LABTAPE_PASSPHRASE", "bench", 1);
		if (redact)
			execl(labtape, labtape, "export", "edits", "-o", out,
			      "--force", (char *)NULL);
		else
			execl(labtape, labtape, "export", "edits", "-o", out,
			      "--force", "--no-redact", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) != pid ||
	    !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "bench/export: the export failed\n");
		return 1;
	}
	*secs = (lt_mono_ns() - t0) / 1e9;
	*rss_kib = ru.ru_maxrss;
	*examples = count_lines(out);
	return 0;
}

int main(int argc, char **argv)
{
	long ops = 1000000, docs = 1000;
	const char *labtape = "./labtape", *tmp = getenv("TMPDIR");
	char dir[4096], vault[4200], out[4200];
	double secs[2];
	long rss[2], ex[2];
	int rc = 0, keep = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ops") && i + 1 < argc)
			ops = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--docs") && i + 1 < argc)
			docs = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--labtape") && i + 1 < argc)
			labtape = argv[++i];
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			tmp = argv[++i];
		else if (!strcmp(argv[i], "--keep"))
			keep = 1;
		else if (!strcmp(argv[i], "--quick")) {
			ops = 20000;
			docs = 50;
		} else {
			fprintf(stderr, "usage: export [--ops N] [--docs N] "
				"[--labtape PATH] [--dir DIR] [--quick] [--keep]\n");
			return 2;
		}
	}
	if (ops < docs || docs < 1)
		return 2;
	snprintf(dir, sizeof(dir), "%s/labtape-bench-export.XXXXXX",
		 tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror(dir);
		return 1;
	}
	snprintf(vault, sizeof(vault), "%s/vault", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	printf("building a vault of %ld edit.op over %ld documents...\n", ops,
	       docs);
	fflush(stdout);
	if (build(vault, ops, docs))
		rc = 1;
	for (int redact = 1; !rc && redact >= 0; redact--) {
		int k = !redact;
		char cmd[8400];
		if (run(labtape, vault, out, redact, &secs[k], &rss[k], &ex[k])) {
			rc = 1;
			break;
		}
		printf("export edits %-12s %8ld examples in %6.2f s: %8.0f "
		       "examples/s, peak RSS %6.1f MiB\n",
		       redact ? "(redact)" : "--no-redact", ex[k], secs[k],
		       ex[k] / secs[k], rss[k] / 1024.0);
		fflush(stdout);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", out);
		if (!keep && system(cmd))
			rc = 1;
	}
	if (!rc) {
		double rate = ex[0] / secs[0];
		printf("\ntarget: >= 50000 examples/s with redaction, one core: "
		       "%.0f  %s\n", rate, rate >= 50000 ? "pass" : "FAIL");
		printf("target: < 64 MiB resident:                         "
		       "%.1f MiB  %s\n", (rss[0] > rss[1] ? rss[0] : rss[1]) / 1024.0,
		       (rss[0] > rss[1] ? rss[0] : rss[1]) < 64 * 1024 ? "pass"
								     : "FAIL");
	}
	if (keep) {
		printf("kept: %s (vault, passphrase \"bench\")\n", vault);
	} else {
		char cmd[8400];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			rc = 1;
	}
	return rc;
}
