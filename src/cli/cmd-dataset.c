/*
 * labtape export edits|events|timeline|cast -o DIR: datasets
 * (doc/exports.md, "Datasets").
 *
 * Every kind works the same way: the output goes to DIR.tmp-XXXXXX next
 * to DIR, the vault is read once in time order (vault_iter), lines go to
 * one file per split, and at the end the dataset card (README.md) is
 * written and the folder renamed to DIR. An error, SIGINT or SIGTERM
 * removes the temporary folder, so a DIR that exists is complete.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <sodium.h>

#include "audit.h"
#include "cli.h"
#include "config.h"
#include "dataset.h"
#include "error.h"
#include "events.h"
#include "export.h"
#include "fileio.h"
#include "ltime.h"
#include "redact.h"
#include "strmap.h"
#include "xalloc.h"
#include "banned.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

/* One output file (a split of a kind). */
struct out {
	char *name;		/* relative to the folder */
	FILE *f;
	uint64_t lines;
};

struct ds {
	const char *kind;
	struct vault *v;
	struct cli *c;
	const char *stream;
	int64_t since, until;
	const char *dir;
	char *tmp;
	int redact, force;
	unsigned pct[3];
	unsigned shards;
	struct redact_rules rules;
	struct redactor *r;
	struct out out[3];
	uint64_t total, read;	/* records, for the progress bar */
	int64_t tmin, tmax;	/* of the records selected */
	int64_t t0;		/* monotonic start, for the rate */
	int64_t last_bar;
	int bar;
	unsigned delay_us;	/* LABTAPE_TEST_EXPORT_DELAY_US */
	int bad;
	struct buf opts;	/* the options, for the card and audit */
	struct buf schema;	/* the card's schema section */
	struct buf notes;	/* the card's kind-specific counts */
	uint8_t author_key[32];
};

/* ---- The folder ------------------------------------------------------------ */

static int rm_one(const char *path, const struct stat *st, int type,
		  struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

static void remove_tree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int open_out(struct ds *x, int i, const char *name)
{
	struct buf p = BUF_INIT;

	x->out[i].name = xstrdup(name);
	buf_addf(&p, "%s/%s", x->tmp, name);
	x->out[i].f = fopen(p.data, "w");
	if (!x->out[i].f) {
		cli_error("cannot write '%s': %s", p.data, strerror(errno));
		buf_release(&p);
		return -1;
	}
	setvbuf(x->out[i].f, NULL, _IOFBF, 1 << 16);
	buf_release(&p);
	return 0;
}

/* One file per split: KIND.train.jsonl, ... */
static int open_splits(struct ds *x)
{
	struct buf n = BUF_INIT;

	for (int i = 0; i < 3; i++) {
		buf_reset(&n);
		buf_addf(&n, "%s.%s.jsonl", x->kind, ds_split_names[i]);
		if (open_out(x, i, n.data)) {
			buf_release(&n);
			return -1;
		}
	}
	buf_release(&n);
	return 0;
}

static int write_line(struct ds *x, int split, const char *line, size_t n)
{
	FILE *f = x->out[split].f;

	if (fwrite(line, 1, n, f) != n || putc('\n', f) == EOF) {
		cli_error("cannot write '%s/%s': %s", x->tmp,
			  x->out[split].name, strerror(errno));
		return LT_EIO;
	}
	x->out[split].lines++;
	return 0;
}

static int close_outs(struct ds *x)
{
	int r = 0;

	for (int i = 0; i < 3; i++) {
		if (x->out[i].f && (fflush(x->out[i].f) ||
				    fsync(fileno(x->out[i].f)) ||
				    fclose(x->out[i].f))) {
			if (!r)
				cli_error("cannot write '%s/%s': %s", x->tmp,
					  x->out[i].name, strerror(errno));
			r = -1;
		}
		x->out[i].f = NULL;
	}
	return r;
}

/* ---- Progress ----------------------------------------------------------- */

static void count_rows(void *ctx, const struct vault_stat_row *row)
{
	struct ds *x = ctx;

	if (!x->stream || !strcmp(x->stream, row->stream))
		x->total += row->records;
}

static void progress(struct ds *x, int last)
{
	int64_t now = lt_mono_ns();
	double secs, pct;

	if (!x->bar || (!last && now - x->last_bar < 200000000))
		return;
	x->last_bar = now;
	secs = (now - x->t0) / 1e9;
	pct = x->total ? 100.0 * x->read / x->total : 100.0;
	if (pct > 100)
		pct = 100;
	fprintf(stderr, "\rexport %s: [%-30.*s] %3.0f%% %llu/%llu events, "
		"%.0f/s ", x->kind, (int)(pct * 30 / 100),
		"##############################", pct,
		(unsigned long long)x->read, (unsigned long long)x->total,
		secs > 0 ? x->read / secs : 0.0);
	if (last)
		fputc('\n', stderr);
}

/* Reads the records q selects, calling fn for each; stops early on an
 * error from fn or a signal. */
static int each(struct ds *x, const struct vault_query *q,
		int (*fn)(struct ds *, const struct vault_record *, void *),
		void *ctx)
{
	struct vault_iter *it;
	struct vault_record rec;
	int r, ret = 0;

	if (vault_iter_open(&it, x->v, q))
		return cli_error("%s", lt_errmsg()) ? -1 : -1;
	while (!interrupted && (r = vault_iter_next(it, &rec)) != 0) {
		if (r < 0) {
			cli_error("warning: %s", lt_errmsg());
			x->bad = 1;
			continue;
		}
		x->read++;
		if ((x->read & 1023) == 0)
			progress(x, 0);
		if (x->delay_us)
			usleep(x->delay_us);
		if ((ret = fn(x, &rec, ctx)) < 0)
			break;
	}
	vault_iter_free(it);
	if (interrupted)
		return -1;
	return ret < 0 ? -1 : 0;
}

static void span(struct ds *x, int64_t t)
{
	if (t < x->tmin)
		x->tmin = t;
	if (t > x->tmax)
		x->tmax = t;
}

static json_t *decode(struct ds *x, const struct vault_record *rec)
{
	json_t *data;

	if (ev_decode(ev_kind_find(rec->kind), rec->payload, rec->len, &data)) {
		cli_error("warning: event at %lld in '%s': %s; left out",
			  (long long)rec->t, rec->stream, lt_errmsg());
		x->bad = 1;
		return NULL;
	}
	return data;
}

/* ---- edits ------------------------------------------------------------- */

static const char schema_edits[] =
	"Each line of `edits.SPLIT.jsonl` is one JSON object, keys in this order:\n"
	"\n"
	"| field | type | meaning |\n"
	"| --- | --- | --- |\n"
	"| `events` | string | the document's edits before the cut, oldest first, as `User edited \"PATH\":` blocks with a unified diff (at most `--max-events`) |\n"
	"| `input` | string | the excerpt at the cut: a ```` ```PATH ```` line, the text with `<|editable_region_start|>`, `<|user_cursor_is_here|>`, `<|editable_region_end|>`, and a closing ```` ``` ```` line |\n"
	"| `output` | string | the same excerpt after the next edit group, with the region markers |\n"
	"| `doc` | string | the document id |\n"
	"| `part` | string | the file's path (relative to the watched folder) |\n"
	"| `cut_seq` | integer | seq of the last event before the cut |\n"
	"| `next_seq` | [integer, integer] | first and last seq of the next group |\n"
	"| `cursor` | integer | cursor position, code points in the state at `cut_seq` |\n"
	"| `editable_range` | [integer, integer] | the editable region, code points in that state |\n"
	"| `excerpt_range` | [integer, integer] | the excerpt, code points in that state |\n"
	"| `next_ops` | array of objects | `{op, pos, len, ins, del}`: `op` is `insert`, `delete` or `replace`, `pos` and `len` (integers) count code points in the excerpt (the input without fence lines and markers), each on the text left by the ones before; applied in order they give the output's excerpt |\n"
	"| `comments` | array of objects | the comment threads open near the region at the cut (a first comment quoting text of the excerpt, or nothing; not resolved or deleted): their doc.comment events before the cut, oldest first, at most 32: `t` (string, RFC 3339), `id` (string), `action` (string: add, reply, edit, resolve, reopen, delete), `parent` (string or null: the comment a reply answers), `author` (string: hashed as `meta.author`), `text`, `quote` (string or null: what was written, the text it is anchored to; redacted with the document's placeholders) |\n"
	"| `meta` | object | `source` (string: the recording source, e.g. `fs`), `author` (string: 32 hex digits, BLAKE2b-128 of the author keyed with a key derived from the vault id), `labtape` (string: version) |\n";

static int edits_emit(void *ctx, const char *doc, const char *line, size_t n)
{
	struct ds *x = ctx;

	return write_line(x, ds_split_of(doc, x->pct), line, n);
}

/* The fields of an edit.op record d; pointers into d. */
static void edit_rec_fill(struct edit_rec *er, const struct vault_record *rec,
			  json_t *d)
{
	json_t *v, *detail;

	memset(er, 0, sizeof(*er));
	er->t = rec->t;
	er->stream = rec->stream;
	er->doc = json_string_value(json_object_get(d, "doc"));
	er->part = json_string_value(json_object_get(d, "part"));
	er->path = json_string_value(json_object_get(d, "path"));
	er->op = json_string_value(json_object_get(d, "op"));
	er->actor = json_string_value(json_object_get(d, "actor"));
	if (json_is_integer(v = json_object_get(d, "seq")) &&
	    json_integer_value(v) >= 0) {
		er->has_seq = 1;
		er->seq = (uint64_t)json_integer_value(v);
	}
	if (json_is_integer(v = json_object_get(d, "pos")) && json_integer_value(v) >= 0)
		er->pos = (uint64_t)json_integer_value(v);
	if (json_is_integer(v = json_object_get(d, "len")) && json_integer_value(v) >= 0)
		er->len = (uint64_t)json_integer_value(v);
	if ((v = json_object_get(d, "ins")) && json_is_string(v)) {
		er->ins = json_string_value(v);
		er->ins_len = json_string_length(v);
	} else {
		er->ins = "";
	}
	if ((v = json_object_get(d, "del")) && json_is_string(v)) {
		er->del = json_string_value(v);
		er->del_len = json_string_length(v);
	} else if (!er->len) {
		er->del = "";
	}
	if ((v = json_object_get(d, "text")) && json_is_string(v)) {
		er->text = json_string_value(v);
		er->text_len = json_string_length(v);
	}
	detail = json_object_get(d, "detail");
	er->group = json_string_value(json_object_get(d, "group"));
	er->action = json_string_value(json_object_get(detail, "action"));
	er->to = json_string_value(json_object_get(detail, "to"));
	er->detail_index = json_object_get(detail, "index") != NULL;
}

static int edits_rec(struct ds *x, const struct vault_record *rec, void *ctx)
{
	struct edits *e = ctx;
	struct edit_rec er;
	json_t *d;
	int r;

	if (!(d = decode(x, rec)))
		return 0;
	edit_rec_fill(&er, rec, d);
	if (rec->t >= x->since && rec->t < x->until)
		span(x, rec->t);
	r = edits_feed(e, &er);
	json_decref(d);
	return r;
}

static int edits_comment_rec(struct ds *x, const struct vault_record *rec,
			     void *ctx)
{
	struct edit_comment c;
	json_t *d, *t, *q;
	int r;

	if (!(d = decode(x, rec)))
		return 0;
	memset(&c, 0, sizeof(c));
	c.t = rec->t;
	c.doc = json_string_value(json_object_get(d, "doc"));
	c.id = json_string_value(json_object_get(d, "id"));
	c.action = json_string_value(json_object_get(d, "action"));
	c.parent = json_string_value(json_object_get(d, "parent"));
	c.actor = json_string_value(json_object_get(d, "actor"));
	t = json_object_get(d, "text");
	q = json_object_get(d, "quote");
	c.text = json_string_value(t);
	c.text_len = json_string_length(t);
	c.quote = json_string_value(q);
	c.quote_len = json_string_length(q);
	r = edits_comment(ctx, &c);
	json_decref(d);
	return r;
}

static int run_edits(struct ds *x, const struct edits_opts *eo)
{
	struct vault_query q = VAULT_QUERY_INIT;
	struct edits *e;
	const struct edits_stats *st;
	int r;

	if (open_splits(x))
		return -1;
	e = edits_new(eo, x->r, x->author_key, edits_emit, x);
	/* The comments first (few, kept per document), then the edits:
	 * the states at `since` need the edits before it. */
	q.stream = x->stream;
	q.kind = "doc.comment";
	q.until = x->until;
	r = each(x, &q, edits_comment_rec, e);
	q.kind = "edit.op";
	if (!r)
		r = each(x, &q, edits_rec, e);
	if (!r && !interrupted)
		r = edits_finish(e) < 0 ? -1 : 0;
	st = edits_get_stats(e);
	buf_addstr(&x->schema, schema_edits);
	buf_addf(&x->notes,
		 "- edit operations read: %llu, documents: %llu, edit groups: %llu\n"
		 "- examples: %llu; groups not made examples: %llu wider than "
		 "`--max-excerpt`, %llu outside the time selection, %llu that "
		 "changed nothing\n"
		 "- edits on an unknown state (after a gap in seq, before any "
		 "snapshot): %llu; edits that did not fit the recorded state: %llu\n"
		 "- notebook records (not in this dataset): %llu\n"
		 "- comment events read: %llu; examples with comments: %llu\n",
		 (unsigned long long)st->ops, (unsigned long long)st->docs,
		 (unsigned long long)st->groups,
		 (unsigned long long)st->examples,
		 (unsigned long long)st->skipped_wide,
		 (unsigned long long)st->skipped_time,
		 (unsigned long long)st->skipped_nochange,
		 (unsigned long long)st->unknown,
		 (unsigned long long)st->mismatched,
		 (unsigned long long)st->notebook,
		 (unsigned long long)st->comments,
		 (unsigned long long)st->with_comments);
	buf_addf(&x->opts, ", gap %.3f s, context lines %u, editable lines %u, "
		 "max excerpt %zu bytes, max events %u", eo->gap_ns / 1e9,
		 eo->context_lines, eo->editable_lines, eo->max_excerpt,
		 eo->max_events);
	edits_free(e);
	return r;
}

/* ---- events ----------------------------------------------------------- */

static const char schema_events[] =
	"Each line of `events.SPLIT.jsonl` is one event in labtape's canonical JSON\n"
	"(doc/format.md): `{\"t\": string (RFC 3339, ns, UTC), \"stream\": string,\n"
	"\"kind\": string, \"data\": object}`, no spaces, `data`'s keys sorted.\n"
	"Events with a `data.doc` are split by that document id, the others by\n"
	"their stream. With redaction every string in `data` is redacted except\n"
	"the identifiers (`doc`, `op`, `group`, `hash`, `session`, `action`,\n"
	"`cell_type`, `kind`); `term.out`/`term.in` bytes are redacted as text\n"
	"and encoded again; `fs.chunk` data (binary) is left out (null).\n";

/* Placeholder maps per document (or stream), for the events kind: a
 * sorted array, looked up by bisection. */
struct rdoc {
	char *key;
	struct redact_doc *d;
};
struct rdocs {
	struct rdoc *v;
	size_t n, alloc;
};

static struct redact_doc *rdoc_get(struct rdocs *m, const char *key)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(m->v[mid].key, key);
		if (!c)
			return m->v[mid].d;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	XGROW(m->v, m->n + 1, m->alloc);
	memmove(m->v + lo + 1, m->v + lo, (m->n - lo) * sizeof(*m->v));
	m->v[lo].key = xstrdup(key);
	m->v[lo].d = redact_doc_new();
	m->n++;
	return m->v[lo].d;
}

static void rdocs_release(struct rdocs *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].key);
		redact_doc_free(m->v[i].d);
	}
	free(m->v);
}

static const char *const id_keys[] = {
	"doc", "op", "group", "hash", "session", "action", "cell_type",
	"kind", NULL,
};

static int is_id_key(const char *k)
{
	for (int i = 0; id_keys[i]; i++)
		if (!strcmp(k, id_keys[i]))
			return 1;
	return 0;
}

static void redact_json(struct ds *x, json_t *j, struct buf *tmp)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach(j, k, v) {
			if (json_is_string(v) && is_id_key(k))
				continue;
			redact_json(x, v, tmp);
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			redact_json(x, v, tmp);
	} else if (json_is_string(j)) {
		buf_reset(tmp);
		redact_text(x->r, json_string_value(j), json_string_length(j),
			    tmp);
		json_string_setn(j, tmp->data, tmp->len);
	}
}

/* term.out/term.in data: base64 of raw bytes, redacted as text. */
static void redact_bytes(struct ds *x, json_t *data, struct buf *tmp)
{
	json_t *d = json_object_get(data, "data");
	size_t n, got;
	uint8_t *bin;
	char *b64;

	if (!(bin = ev_bytes_decode(d, &got)))
		return;
	buf_reset(tmp);
	redact_text(x->r, (const char *)bin, got, tmp);
	n = sodium_base64_ENCODED_LEN(tmp->len, sodium_base64_VARIANT_ORIGINAL);
	b64 = xmalloc(n);
	sodium_bin2base64(b64, n, (const uint8_t *)tmp->data, tmp->len,
			  sodium_base64_VARIANT_ORIGINAL);
	json_object_set_new(data, "data", json_string(b64));
	free(b64);
	free(bin);
}

struct events_ctx {
	struct rdocs docs;
	struct buf line, tmp;
	uint64_t by_kind_n;
};

static int events_rec(struct ds *x, const struct vault_record *rec, void *ctx)
{
	struct events_ctx *ec = ctx;
	json_t *d;
	const char *doc;
	int r;

	if (!(d = decode(x, rec)))
		return 0;
	span(x, rec->t);
	doc = json_string_value(json_object_get(d, "doc"));
	if (x->r) {
		struct redact_doc *rd = rdoc_get(&ec->docs, doc ? doc : rec->stream);
		redact_swap_doc(x->r, rd);
		if (!strcmp(rec->kind, "fs.chunk")) {
			json_object_set_new(d, "data", json_null());
		} else {
			if (!strcmp(rec->kind, "term.out") ||
			    !strcmp(rec->kind, "term.in"))
				redact_bytes(x, d, &ec->tmp);
			redact_json(x, d, &ec->tmp);
		}
		redact_swap_doc(x->r, rd);
	}
	buf_reset(&ec->line);
	ev_to_json(rec->t, rec->stream, rec->kind, d, &ec->line);
	r = write_line(x, ds_split_of(doc ? doc : rec->stream, x->pct),
		       ec->line.data, ec->line.len);
	json_decref(d);
	return r;
}

static int run_events(struct ds *x)
{
	struct vault_query q = VAULT_QUERY_INIT;
	struct events_ctx ec;
	int r;

	memset(&ec, 0, sizeof(ec));
	buf_init(&ec.line, 4096);
	buf_init(&ec.tmp, 4096);
	if (open_splits(x))
		return -1;
	q.stream = x->stream;
	q.since = x->since;
	q.until = x->until;
	r = each(x, &q, events_rec, &ec);
	buf_addstr(&x->schema, schema_events);
	rdocs_release(&ec.docs);
	buf_release(&ec.line);
	buf_release(&ec.tmp);
	return r;
}

/* ---- timeline ---------------------------------------------------------- */

static const char schema_timeline[] =
	"Each line of `timeline.SPLIT.jsonl` is one window of time with something\n"
	"recorded in it, in time order; keys in this order:\n"
	"\n"
	"| field | type | meaning |\n"
	"| --- | --- | --- |\n"
	"| `start` | string | the window's start, RFC 3339 UTC (a multiple of `--window` since the epoch) |\n"
	"| `end` | string | its end (excluded) |\n"
	"| `documents` | array of objects | per document edited, in order of its first record in the window: `doc` (string), `path` (string), `seq` ([integer, integer]: first and last seq seen), `saves` (integer: runs of records with the same `group`), `ops` (object of integers: `insert`, `delete`, `replace`, `snapshot`, `structural`, `other`), `chars_inserted`, `chars_deleted` (integers, code points), `diff` (string: the window's net change as one unified-diff hunk with 2 lines of context; from the state at the window's start, or at the document's first snapshot in the window; empty if neither is known), `diff_truncated` (boolean) |\n"
	"| `terminal` | array of objects | per terminal session, in order of its first record in the window: `session` (string), `commands` (array of strings: the command the session ran, if it started in the window: `X` for `sh -c X`, else its words joined by spaces), `output` (string: what it printed, escape sequences and control characters but newline and tab removed, capped), `output_truncated` (boolean), `input_withheld` (integer: keystroke events in the window; their text is never exported), `started`, `ended` (booleans) |\n"
	"| `markers` | array of objects | `time` (string), `text` (string), `session` (string or null) |\n"
	"| `notes` | array of objects | `time` (string), `text` (string) |\n"
	"| `windows` | array | focused windows (reserved; no source records them yet: always empty) |\n"
	"| `keys` | array | keystrokes (reserved: always empty) |\n"
	"| `screen` | array | screen chunks (reserved: always empty) |\n"
	"| `transcripts` | array | transcript segments (reserved: always empty) |\n"
	"| `truncated` | boolean | something in the window was cut to its cap (a diff, an output, a marker's or note's text, or entries past the caps) |\n";

struct tl_ctx {
	struct timeline *t;
	struct buf tmp;
};

static int timeline_emit(void *ctx, int64_t start, const char *line, size_t n)
{
	struct ds *x = ctx;
	char day[16];

	/* Split by the window's UTC day: neighbouring windows share text
	 * (the same document, the same session), so a day stays whole. */
	lt_day_format(lt_day_of(start), day);
	return write_line(x, ds_split_of(day, x->pct), line, n);
}

/* term.start's argv: X for ["sh", "-c", X] (what labtape shell and
 * asciinema run), else the words joined by spaces. */
static void join_argv(json_t *argv, struct buf *out)
{
	json_t *v;
	size_t i;

	buf_reset(out);
	if (json_array_size(argv) == 3 &&
	    json_is_string(v = json_array_get(argv, 2)) &&
	    !strcmp(json_string_value(json_array_get(argv, 1)) ?
		    json_string_value(json_array_get(argv, 1)) : "", "-c")) {
		buf_add(out, json_string_value(v), json_string_length(v));
		return;
	}
	json_array_foreach(argv, i, v) {
		if (!json_is_string(v))
			continue;
		if (out->len)
			buf_addch(out, ' ');
		buf_add(out, json_string_value(v), json_string_length(v));
	}
}

static int timeline_rec(struct ds *x, const struct vault_record *rec, void *ctx)
{
	struct tl_ctx *tc = ctx;
	const char *k = rec->kind, *sess;
	json_t *d;
	int r = 0;

	if (strcmp(k, "edit.op") && strncmp(k, "term.", 5) &&
	    strcmp(k, "marker") && strcmp(k, "note"))
		return 0;
	if (!(d = decode(x, rec)))
		return 0;
	if (rec->t >= x->since && rec->t < x->until)
		span(x, rec->t);
	sess = json_string_value(json_object_get(d, "session"));
	if (!sess && !strncmp(rec->stream, "term:", 5))
		sess = rec->stream + 5;
	if (!strcmp(k, "edit.op")) {
		struct edit_rec er;
		edit_rec_fill(&er, rec, d);
		r = timeline_edit(tc->t, &er);
	} else if (!strcmp(k, "marker") || !strcmp(k, "note")) {
		json_t *t = json_object_get(d, "text");
		r = timeline_mark(tc->t, rec->t, k[0] == 'n',
				  json_string_value(t) ? json_string_value(t) : "",
				  json_string_length(t), k[0] == 'n' ? NULL : sess);
	} else if (!sess) {
		r = 0;
	} else if (!strcmp(k, "term.start")) {
		json_t *argv = json_object_get(d, "command");
		join_argv(argv, &tc->tmp);
		r = timeline_term_start(tc->t, rec->t, sess,
					json_is_array(argv) ? tc->tmp.data : NULL);
	} else if (!strcmp(k, "term.end")) {
		r = timeline_term_end(tc->t, rec->t, sess);
	} else if (!strcmp(k, "term.out") || !strcmp(k, "term.in")) {
		size_t got;
		uint8_t *bin = ev_bytes_decode(json_object_get(d, "data"), &got);
		if (bin)
			r = timeline_term_io(tc->t, rec->t, sess, k[5] == 'i',
					     bin, got);
		free(bin);
	}
	json_decref(d);
	return r;
}

static int run_timeline(struct ds *x, const struct timeline_opts *to)
{
	struct vault_query q = VAULT_QUERY_INIT;
	struct tl_ctx tc;
	const struct timeline_stats *st;
	char w[32];
	int r;

	if (open_splits(x))
		return -1;
	memset(&tc, 0, sizeof(tc));
	buf_init(&tc.tmp, 0);
	tc.t = timeline_new(to, x->r, timeline_emit, x);
	/* The documents' states at `since` need the edits before it. */
	q.stream = x->stream;
	q.until = x->until;
	r = each(x, &q, timeline_rec, &tc);
	if (!r && !interrupted)
		r = timeline_finish(tc.t) < 0 ? -1 : 0;
	st = timeline_get_stats(tc.t);
	buf_addstr(&x->schema, schema_timeline);
	buf_addf(&x->notes,
		 "- windows: %llu (%llu with something cut to its cap)\n"
		 "- documents in windows: %llu, terminal sessions in windows: "
		 "%llu, markers: %llu, notes: %llu\n"
		 "- edit operations read: %llu (%llu on a state not known), "
		 "terminal events read: %llu\n",
		 (unsigned long long)st->windows,
		 (unsigned long long)st->truncated,
		 (unsigned long long)st->doc_entries,
		 (unsigned long long)st->session_entries,
		 (unsigned long long)st->markers,
		 (unsigned long long)st->notes,
		 (unsigned long long)st->edits,
		 (unsigned long long)st->unknown,
		 (unsigned long long)st->term);
	if (to->window_ns % LT_NS_PER_SEC == 0)
		snprintf(w, sizeof(w), "%llds",
			 (long long)(to->window_ns / LT_NS_PER_SEC));
	else
		snprintf(w, sizeof(w), "%lldns", (long long)to->window_ns);
	buf_addf(&x->opts, ", window %s, caps: diff %zu bytes, output %zu "
		 "bytes, text %zu bytes, %u documents, %u sessions, %u markers "
		 "and notes", w, to->max_diff, to->max_output, to->max_text,
		 to->max_docs, to->max_sessions, to->max_items);
	timeline_free(tc.t);
	buf_release(&tc.tmp);
	return r;
}

/* ---- conversations ------------------------------------------------------ */

static const char schema_conversations[] =
	"Each line of `conversations.SPLIT.jsonl` is one conversation, in order of\n"
	"its first turn; keys in this order:\n"
	"\n"
	"| field | type | meaning |\n"
	"| --- | --- | --- |\n"
	"| `id` | string | 32 hex digits: BLAKE2b-128 of the thread's key, keyed with a key derived from the vault id (stable within a vault, not reversible without it) |\n"
	"| `source` | string | `slack`, `mail`, `posts`, ...; for comments on a document, its source (`gdocs`, ...) |\n"
	"| `channel` | string or null | the Slack channel (`#name`), mail folder or site; null for comments |\n"
	"| `doc` | string or null | the document commented on; null for messages |\n"
	"| `subject` | string or null | the mail's subject, the text a comment is anchored to |\n"
	"| `turns` | array of objects | in time order: `t` (string, RFC 3339 UTC), `speaker` (string: `speaker-N`, numbered in order of first appearance over the whole export), `text` (string), `reply_to` (integer, the index of the turn answered, when it is in this conversation) |\n";

static int conv_emit(void *ctx, const char *key, const char *line, size_t n)
{
	struct ds *x = ctx;

	return write_line(x, ds_split_of(key, x->pct), line, n);
}

/* Slack's notices that someone joined, left, renamed...: not turns. */
static int slack_notice(json_t *native)
{
	static const char *const sub[] = {
		"channel_join", "channel_leave", "channel_topic",
		"channel_purpose", "channel_name", "channel_archive",
		"channel_unarchive", "group_join", "group_leave", "group_topic",
		"group_purpose", "group_name", "group_archive",
		"group_unarchive", "pinned_item", "unpinned_item", NULL,
	};
	const char *s = json_string_value(json_object_get(native, "subtype"));

	for (int i = 0; s && sub[i]; i++)
		if (!strcmp(s, sub[i]))
			return 1;
	return 0;
}

struct conv_ctx {
	struct conversations *c;
	struct strmap names;	/* speakers' names, for the redactor */
	struct buf key, name;
	uint64_t notices;
};

/* "Name <addr>": the address (lower case) in key, the name in name. */
static void split_address(const char *from, struct buf *key, struct buf *name)
{
	const char *lt = strrchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;

	buf_reset(key);
	buf_reset(name);
	if (!lt || !gt) {
		for (const char *p = from; *p; p++)
			buf_addch(key, *p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		return;
	}
	for (const char *p = lt + 1; p < gt; p++)
		buf_addch(key, *p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	for (const char *p = from; p < lt; p++)
		if (*p != '"')
			buf_addch(name, *p);
	while (name->len && name->data[name->len - 1] == ' ')
		buf_setlen(name, name->len - 1);
}

static void conv_name(struct conv_ctx *cc, const char *name)
{
	if (name && *name && !strchr(name, '@'))
		strmap_put(&cc->names, name)->val = (void *)1;
}

static int conv_rec_feed(struct ds *x, const struct vault_record *rec, void *ctx)
{
	struct conv_ctx *cc = ctx;
	struct conv_rec e;
	json_t *d, *text, *native;
	const char *from;
	int r;

	if (!(d = decode(x, rec)))
		return 0;
	memset(&e, 0, sizeof(e));
	e.t = rec->t;
	e.stream = rec->stream;
	e.id = json_string_value(json_object_get(d, "id"));
	text = json_object_get(d, "text");
	e.text = json_string_value(text);
	e.text_len = json_string_length(text);
	if (!strcmp(rec->kind, "doc.comment")) {
		size_t n = strcspn(rec->stream, ":");
		buf_reset(&cc->key);
		buf_add(&cc->key, rec->stream, n);
		e.is_comment = 1;
		e.source = cc->key.data;
		e.doc = json_string_value(json_object_get(d, "doc"));
		e.action = json_string_value(json_object_get(d, "action"));
		e.parent = json_string_value(json_object_get(d, "parent"));
		e.quote = json_string_value(json_object_get(d, "quote"));
		e.speaker = json_string_value(json_object_get(d, "actor"));
		conv_name(cc, e.speaker);
	} else {
		native = json_object_get(d, "native");
		e.source = json_string_value(json_object_get(d, "source"));
		e.thread = json_string_value(json_object_get(d, "thread"));
		e.reply_to = json_string_value(json_object_get(d, "reply_to"));
		e.channel = json_string_value(json_object_get(d, "channel"));
		e.subject = json_string_value(json_object_get(d, "subject"));
		e.edited = json_string_value(json_object_get(d, "edited"));
		from = json_string_value(json_object_get(d, "from"));
		e.speaker = from;
		if (e.source && !strcmp(e.source, "slack")) {
			if (slack_notice(native)) {
				cc->notices++;
				json_decref(d);
				return 0;
			}
			if (json_is_string(json_object_get(native, "user")))
				e.speaker = json_string_value(
					json_object_get(native, "user"));
			conv_name(cc, from);
		} else if (from && e.source && !strcmp(e.source, "mail")) {
			split_address(from, &cc->key, &cc->name);
			e.speaker = cc->key.data;
			conv_name(cc, cc->name.data);
		} else {
			conv_name(cc, from);
		}
	}
	span(x, rec->t);
	r = conv_feed(cc->c, &e);
	json_decref(d);
	return r;
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The redactor again, with the speakers' names added (in sorted order:
 * the same vault, the same rules), so that a name written in a message
 * is redacted too. */
static int conv_redactor(struct ds *x, struct conv_ctx *cc)
{
	char **v = xmalloc((cc->names.n + 1) * sizeof(*v));
	size_t n = 0;
	struct buf s = BUF_INIT;

	for (size_t i = 0; i < cc->names.size; i++)
		if (cc->names.v[i].key)
			v[n++] = cc->names.v[i].key;
	qsort(v, n, sizeof(*v), cmp_cstr);
	for (size_t i = 0; i < n; i++) {
		buf_reset(&s);
		buf_addstr(&s, v[i]);
		if (strchr(v[i], ' '))
			buf_addstr(&s, " [parts]");
		redact_rules_add_name(&x->rules, s.data);	/* not a name: skip */
	}
	free(v);
	buf_release(&s);
	redactor_free(x->r);
	x->r = NULL;
	if (redactor_new(&x->r, &x->rules))
		return cli_error("%s", lt_errmsg()) ? -1 : -1;
	return 0;
}

static int run_conversations(struct ds *x, const struct conv_opts *co)
{
	struct vault_query q = VAULT_QUERY_INIT;
	struct conv_ctx cc;
	const struct conv_stats *st;
	int r;

	if (open_splits(x))
		return -1;
	memset(&cc, 0, sizeof(cc));
	buf_init(&cc.key, 0);
	buf_init(&cc.name, 0);
	cc.c = conv_new(co, x->author_key, conv_emit, x);
	q.stream = x->stream;
	q.since = x->since;
	q.until = x->until;
	q.kind = "msg.message";
	r = each(x, &q, conv_rec_feed, &cc);
	q.kind = "doc.comment";
	if (!r)
		r = each(x, &q, conv_rec_feed, &cc);
	if (!r && x->r)
		r = conv_redactor(x, &cc);
	if (!r && !interrupted)
		r = conv_finish(cc.c, x->r) < 0 ? -1 : 0;
	st = conv_get_stats(cc.c);
	buf_addstr(&x->schema, schema_conversations);
	buf_addf(&x->notes,
		 "- messages and comments read: %llu (and %llu Slack notices "
		 "of joins, topics and the like, left out)\n"
		 "- conversations: %llu with %llu turns and %llu speakers; "
		 "%llu made of loose chat messages; %llu shorter than "
		 "`--min-turns`, left out\n"
		 "- later versions of a message (edits): %llu; copies of a "
		 "message already there: %llu\n",
		 (unsigned long long)st->records,
		 (unsigned long long)cc.notices,
		 (unsigned long long)st->threads,
		 (unsigned long long)st->turns_out,
		 (unsigned long long)st->speakers,
		 (unsigned long long)st->chat_runs,
		 (unsigned long long)st->short_threads,
		 (unsigned long long)st->versions,
		 (unsigned long long)st->duplicates);
	buf_addf(&x->opts, ", min turns %u, chat gap %llds", co->min_turns,
		 (long long)(co->chat_gap_ns / LT_NS_PER_SEC));
	conv_free(cc.c);
	strmap_release(&cc.names);
	buf_release(&cc.key);
	buf_release(&cc.name);
	return r;
}

/* ---- The card ---------------------------------------------------------- */

static int write_card(struct ds *x)
{
	struct buf c = BUF_INIT, p = BUF_INIT;
	char t0[LT_TIME_MAX_LEN], t1[LT_TIME_MAX_LEN], hex[33];
	uint8_t h[16];
	uint64_t total = 0;
	int r;

	crypto_generichash(h, sizeof(h), (const uint8_t *)vault_id_hex(x->v),
			   strlen(vault_id_hex(x->v)),
			   (const uint8_t *)"labtape dataset card vault id",
			   29);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	buf_addf(&c, "# labtape dataset: %s\n\n", x->kind);
	buf_addf(&c, "Made by labtape %s with `labtape export %s`. The same "
		 "vault and options give these files byte for byte.\n\n",
		 LABTAPE_VERSION, x->kind);
	buf_addstr(&c, "## What was recorded\n\n");
	buf_addf(&c, "- vault: `%s` (BLAKE2b-128 of the vault id)\n", hex);
	buf_addf(&c, "- selection: %s\n", x->opts.data);
	if (x->tmin <= x->tmax) {
		lt_time_format(x->tmin, t0);
		lt_time_format(x->tmax, t1);
		buf_addf(&c, "- time span of the selected events: %s to %s\n",
			 t0, t1);
	} else {
		buf_addstr(&c, "- no events were selected\n");
	}
	buf_add(&c, x->notes.data, x->notes.len);
	buf_addstr(&c, "\n## Files\n\n| file | lines |\n| --- | --- |\n");
	for (int i = 0; i < 3; i++) {
		if (!x->out[i].name)
			continue;
		buf_addf(&c, "| `%s` | %llu |\n", x->out[i].name,
			 (unsigned long long)x->out[i].lines);
		total += x->out[i].lines;
	}
	buf_addf(&c, "| total | %llu |\n", (unsigned long long)total);
	if (!strcmp(x->kind, "conversations"))
		buf_addf(&c, "\nSplits: by conversation, %u/%u/%u "
			 "(train/validation/test): a conversation goes to the split "
			 "of BLAKE2b-64(key) mod 100 (its 8 bytes read "
			 "little-endian), the key being the document for comments "
			 "(as in `edits`, so a document's comments and edits share "
			 "a split) and the thread otherwise.\n",
			 x->pct[0], x->pct[1], x->pct[2]);
	else if (!strcmp(x->kind, "timeline"))
		buf_addf(&c, "\nSplits: by the UTC day of the window's start, "
			 "%u/%u/%u (train/validation/test): a window goes to the "
			 "split of BLAKE2b-64(\"YYYY-MM-DD\") mod 100 (its 8 bytes "
			 "read little-endian), so a day's windows are never in two "
			 "splits (a document edited on two days can be).\n",
			 x->pct[0], x->pct[1], x->pct[2]);
	else
		buf_addf(&c, "\nSplits: by document, %u/%u/%u (train/validation/test): "
			 "a key goes to the split of BLAKE2b-64(key) mod 100 (its 8 bytes "
			 "read little-endian), so a document is never in two splits.\n",
			 x->pct[0], x->pct[1], x->pct[2]);
	if (x->shards)
		buf_addf(&c, "\nShards: `shards/%s-SPLIT-NNNNNN.tar`, WebDataset "
			 "layout, at most %u per split; member `KEY.json` is one "
			 "line, KEY the line number in its split file (12 digits).\n",
			 x->kind, x->shards);
	buf_addstr(&c, "\n## Schema\n\n");
	buf_add(&c, x->schema.data, x->schema.len);
	buf_addstr(&c, "\nJSON is written with no spaces, keys in the order "
		   "shown, integers in decimal, strings as UTF-8 with `\"`, `\\`, "
		   "control characters and DEL escaped; every line ends with a "
		   "newline.\n");
	buf_addstr(&c, "\n## Redaction\n\n");
	if (!x->r) {
		buf_addstr(&c, "redact: false. Redaction was turned off with "
			   "`--no-redact`: the files hold the text as recorded, "
			   "personal data included.\n");
	} else {
		buf_addstr(&c, "redact: true. Personal data and secrets were "
			   "replaced by typed placeholders (`<EMAIL_1>`, ...), "
			   "numbered per document (per window for `timeline`, "
			   "per conversation for `conversations`, whose speakers' "
			   "names are redacted too; doc/redaction.md). "
			   "Replacements made, by type (a value that appears "
			   "in several examples counts each time):\n\n"
			   "| type | replaced |\n| --- | --- |\n");
		for (size_t t = 0; t < redact_ntypes(x->r); t++)
			buf_addf(&c, "| %s | %llu |\n", redact_type_label(x->r, t),
				 (unsigned long long)redact_count(x->r, t));
	}
	buf_addf(&p, "%s/README.md", x->tmp);
	r = lt_write_file_atomic(p.data, c.data, c.len, 0644, 0);
	if (r)
		cli_error("%s", lt_errmsg());
	buf_release(&c);
	buf_release(&p);
	return r ? -1 : 0;
}

/* ---- Shards (WebDataset) ------------------------------------------------ */

/* Splits each KIND.SPLIT.jsonl into at most x->shards tar files of
 * about equal line counts, shards/KIND-SPLIT-NNNNNN.tar, each line a
 * member KEY.json; pax headers with fixed owner, mode and time, so the
 * same lines give the same bytes. */
static int write_shards(struct ds *x)
{
	struct buf p = BUF_INIT, name = BUF_INIT;
	char *line = NULL;
	size_t cap = 0;
	int r = 0;

	buf_addf(&p, "%s/shards", x->tmp);
	if (mkdir(p.data, 0755))
		r = cli_error("cannot create '%s': %s", p.data, strerror(errno));
	for (int i = 0; !r && i < 3; i++) {
		uint64_t per, key = 0;
		unsigned shard = 0;
		struct archive *a = NULL;
		FILE *in;
		ssize_t n;

		if (!x->out[i].name || !x->out[i].lines)
			continue;
		per = (x->out[i].lines + x->shards - 1) / x->shards;
		buf_reset(&p);
		buf_addf(&p, "%s/%s", x->tmp, x->out[i].name);
		if (!(in = fopen(p.data, "r"))) {
			r = cli_error("cannot read '%s': %s", p.data,
				      strerror(errno));
			break;
		}
		while (!r && !interrupted && (n = getline(&line, &cap, in)) > 0) {
			struct archive_entry *e;

			if (key % per == 0) {
				if (a && (archive_write_close(a) != ARCHIVE_OK))
					r = cli_error("tar: %s",
						      archive_error_string(a));
				if (a)
					archive_write_free(a);
				a = archive_write_new();
				archive_write_set_format_pax_restricted(a);
				archive_write_add_filter_none(a);
				buf_reset(&p);
				buf_addf(&p, "%s/shards/%s-%s-%06u.tar", x->tmp,
					 x->kind, ds_split_names[i], shard++);
				if (archive_write_open_filename(a, p.data) !=
				    ARCHIVE_OK) {
					r = cli_error("tar: %s",
						      archive_error_string(a));
					break;
				}
			}
			if (line[n - 1] == '\n')
				n--;
			buf_reset(&name);
			buf_addf(&name, "%012llu.json", (unsigned long long)key++);
			e = archive_entry_new();
			archive_entry_set_pathname(e, name.data);
			archive_entry_set_size(e, n);
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_uid(e, 0);
			archive_entry_set_gid(e, 0);
			archive_entry_set_mtime(e, 0, 0);
			if (archive_write_header(a, e) != ARCHIVE_OK ||
			    archive_write_data(a, line, (size_t)n) != n)
				r = cli_error("tar: %s", archive_error_string(a));
			archive_entry_free(e);
		}
		if (a) {
			if (archive_write_close(a) != ARCHIVE_OK && !r)
				r = cli_error("tar: %s", archive_error_string(a));
			archive_write_free(a);
		}
		fclose(in);
	}
	free(line);
	buf_release(&p);
	buf_release(&name);
	return r || interrupted ? -1 : 0;
}

/* ---- cast -o DIR ------------------------------------------------------- */

static const char schema_cast[] =
	"`cast/SPLIT/ID.cast` is terminal session ID (stream `term:ID`) as\n"
	"asciicast v2 (doc/exports.md, \"asciicast v2\"): a header line, then\n"
	"`[time, code, data]` lines. Sessions are split by their stream name.\n"
	"With redaction, output and input are redacted chunk by chunk, with one\n"
	"placeholder map per session (a value cut between two chunks of the\n"
	"terminal is seen in neither).\n";

struct session {
	char *stream;
	struct redact_doc *rd;
	struct cast_writer w;
	struct buf out;
	FILE *f;
	int64_t start;
	int ended;
};

struct cast_ctx {
	struct session *s;
	size_t n, alloc;
	struct buf tmp;
};

static struct session *session_find(struct cast_ctx *cc, const char *stream)
{
	for (size_t i = 0; i < cc->n; i++)
		if (!strcmp(cc->s[i].stream, stream))
			return &cc->s[i];
	return NULL;
}

static int cast_rec(struct ds *x, const struct vault_record *rec, void *ctx)
{
	struct cast_ctx *cc = ctx;
	struct session *s = session_find(cc, rec->stream);
	json_t *d;

	if (strncmp(rec->stream, "term:", 5))
		return 0;
	if (!(d = decode(x, rec)))
		return 0;
	span(x, rec->t);
	if (!s && !strcmp(rec->kind, "term.start")) {
		struct cast_header h;
		struct buf p = BUF_INIT;
		json_t *env = json_object_get(d, "env");
		const char *id = rec->stream + 5;
		int split = ds_split_of(rec->stream, x->pct);

		XGROW(cc->s, cc->n + 1, cc->alloc);
		s = &cc->s[cc->n++];
		memset(s, 0, sizeof(*s));
		s->stream = xstrdup(rec->stream);
		s->rd = x->r ? redact_doc_new() : NULL;
		s->start = rec->t;
		buf_init(&s->out, 1 << 14);
		cast_writer_init(&s->w, &s->out);
		buf_addf(&p, "%s/cast/%s", x->tmp, ds_split_names[split]);
		lt_mkdirs_nosync(p.data, 0755);
		buf_addf(&p, "/%s.cast", id);
		if (!(s->f = fopen(p.data, "w"))) {
			cli_error("cannot write '%s': %s", p.data, strerror(errno));
			buf_release(&p);
			json_decref(d);
			return -1;
		}
		buf_release(&p);
		x->out[split].lines++;
		memset(&h, 0, sizeof(h));
		h.width = json_integer_value(json_object_get(d, "cols"));
		h.height = json_integer_value(json_object_get(d, "rows"));
		if (h.width < 1)
			h.width = 80;
		if (h.height < 1)
			h.height = 24;
		h.has_timestamp = 1;
		h.timestamp = rec->t / LT_NS_PER_SEC - (rec->t % LT_NS_PER_SEC < 0);
		h.shell = json_string_value(json_object_get(env, "SHELL"));
		h.term = json_string_value(json_object_get(env, "TERM"));
		cast_write_header(&s->w, &h);
	} else if (s && !s->ended) {
		if (!strcmp(rec->kind, "term.out") || !strcmp(rec->kind, "term.in")) {
			size_t got;
			uint8_t *bin = ev_bytes_decode(json_object_get(d, "data"),
						       &got);
			if (bin) {
				const void *p = bin;
				if (x->r) {
					redact_swap_doc(x->r, s->rd);
					buf_reset(&cc->tmp);
					redact_text(x->r, (const char *)bin, got,
						    &cc->tmp);
					redact_swap_doc(x->r, s->rd);
					p = cc->tmp.data;
					got = cc->tmp.len;
				}
				cast_write_bytes(&s->w, rec->t - s->start,
						 rec->kind[5] == 'o' ? 'o' : 'i', p,
						 got);
			}
			free(bin);
		} else if (!strcmp(rec->kind, "term.resize")) {
			cast_write_resize(&s->w, rec->t - s->start,
				json_integer_value(json_object_get(d, "cols")),
				json_integer_value(json_object_get(d, "rows")));
		} else if (!strcmp(rec->kind, "marker")) {
			/* What was typed at 'labtape mark', or an imported
			 * cast's label: text like the output, redacted so. */
			json_t *t = json_object_get(d, "text");
			const char *p = json_is_string(t) ? json_string_value(t) : "";
			size_t n = json_string_length(t);
			if (x->r) {
				redact_swap_doc(x->r, s->rd);
				buf_reset(&cc->tmp);
				redact_text(x->r, p, n, &cc->tmp);
				redact_swap_doc(x->r, s->rd);
				p = cc->tmp.data;
				n = cc->tmp.len;
			}
			cast_write_marker(&s->w, rec->t - s->start, p, n);
		} else if (!strcmp(rec->kind, "term.end")) {
			s->ended = 1;
		}
		if (s->out.len > (1 << 16)) {
			fwrite(s->out.data, 1, s->out.len, s->f);
			buf_reset(&s->out);
		}
	}
	json_decref(d);
	return 0;
}

static int run_cast(struct ds *x)
{
	struct vault_query q = VAULT_QUERY_INIT;
	struct cast_ctx cc;
	int r, bad = 0;

	memset(&cc, 0, sizeof(cc));
	for (int i = 0; i < 3; i++) {
		struct buf n = BUF_INIT;
		buf_addf(&n, "cast/%s/", ds_split_names[i]);
		x->out[i].name = buf_detach(&n, NULL);
	}
	q.stream = x->stream;
	q.since = x->since;
	q.until = x->until;
	r = each(x, &q, cast_rec, &cc);
	for (size_t i = 0; i < cc.n; i++) {
		struct session *s = &cc.s[i];
		cast_writer_finish(&s->w);
		fwrite(s->out.data, 1, s->out.len, s->f);
		if (fflush(s->f) || fsync(fileno(s->f)))
			bad = 1;
		if (fclose(s->f))
			bad = 1;
		free(s->stream);
		redact_doc_free(s->rd);
		buf_release(&s->out);
	}
	free(cc.s);
	buf_release(&cc.tmp);
	if (bad && !r)
		r = cli_error("cannot write the sessions: %s", strerror(errno)) ? -1 : -1;
	buf_addstr(&x->schema, schema_cast);
	return r;
}

/* ---- The command -------------------------------------------------------- */

static const char usage_dataset[] =
	"usage: labtape export KIND -o DIR [--stream S] [--since T] [--until T]\n"
	"                      [--no-redact] [--split A,B,C] [--shards N] [--force]\n"
	"                      [--vault DIR] [--passphrase-file FILE]\n"
	"KIND is edits, events, timeline, conversations or cast (cast also:\n"
	"--session ID, labtape export cast --help). Options of edits:\n"
	"                      [--gap SECONDS] [--context-lines N]\n"
	"                      [--editable-lines N] [--max-excerpt BYTES]\n"
	"                      [--max-events N]\n"
	"Of timeline:          [--window DURATION]\n"
	"Of conversations:     [--min-turns N] [--chat-gap DURATION]\n"
	"\n"
	"Writes a dataset into the folder DIR (which must not exist, unless\n"
	"--force): one JSONL file per split, train/validation/test by a hash of\n"
	"the document id (timeline: of the day), and a dataset card, DIR/README.md, that lists the\n"
	"fields, the counts and what was redacted. doc/exports.md has the\n"
	"formats. Same vault, same options: same bytes.\n"
	"\n"
	"  edits    next-edit prediction (Zeta-style events/input/output, plus\n"
	"           the character-level next_ops), one line per edit group\n"
	"  events   the selected events in canonical JSON\n"
	"  timeline windows of time (5 minutes) aligning documents edited,\n"
	"           terminal output, markers and notes, one line per window\n"
	"  conversations  Slack threads, mail threads and comment threads,\n"
	"           speakers pseudonymised (speaker-1, ...), one line each\n"
	"  cast     every terminal session as asciicast v2, cast/SPLIT/ID.cast\n"
	"\n"
	"  -o, --output DIR     the dataset folder\n"
	"  --stream S           only the stream S (e.g. fs:/home/me/papers)\n"
	"  --since T, --until T only events at or after T, before T (RFC 3339,\n"
	"                       a date, or a time ago: 10m, 2h, 3d)\n"
	"  --no-redact          keep personal data and secrets as recorded\n"
	"                       (written into the card and the audit log)\n"
	"  --split A,B,C        percentages of train, validation, test (90,5,5)\n"
	"  --shards N           also write each split as up to N WebDataset tar\n"
	"                       shards in DIR/shards\n"
	"  --force              replace DIR if it exists\n"
	"  --gap SECONDS        edits closer than this are one group (1)\n"
	"  --context-lines N    lines of context around the editable region (8)\n"
	"  --editable-lines N   lines around the change in the region (2)\n"
	"  --max-excerpt BYTES  examples with a wider excerpt are left out (16384)\n"
	"  --max-events N       edit blocks in 'events', at most 16 (16)\n"
	"  --window DURATION    timeline: the window length, like 30s, 5m, 1h (5m)\n"
	"  --min-turns N        conversations: shorter ones are left out (2)\n"
	"  --chat-gap DURATION  conversations: Slack messages outside threads\n"
	"                       closer than this form one conversation (30m)\n";

enum {
	OPT_STREAM = 2000, OPT_SINCE, OPT_UNTIL, OPT_NOREDACT, OPT_SPLIT,
	OPT_SHARDS, OPT_FORCE, OPT_GAP, OPT_CTX, OPT_EDITABLE, OPT_MAXEX,
	OPT_MAXEV, OPT_WINDOW, OPT_MINTURNS, OPT_CHATGAP,
};

static int parse_uint(const char *s, unsigned long long max,
		      unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return *s < '0' || *s > '9' || *end || errno || *out > max ? -1 : 0;
}

static int make_tmp(struct ds *x)
{
	struct buf p = BUF_INIT;
	struct stat st;

	if (!lstat(x->dir, &st) && !x->force) {
		buf_release(&p);
		return cli_error("'%s' exists; give another folder, or --force "
				 "to replace it", x->dir);
	}
	buf_addf(&p, "%s.tmp-XXXXXX", x->dir);
	if (!mkdtemp(p.data)) {
		cli_error("cannot create '%s': %s", p.data, strerror(errno));
		buf_release(&p);
		return 1;
	}
	chmod(p.data, 0755);
	x->tmp = buf_detach(&p, NULL);
	return 0;
}

static int finish_dir(struct ds *x)
{
	struct stat st;

	if (!lstat(x->dir, &st)) {
		if (!x->force)
			return cli_error("'%s' appeared while exporting; the "
					 "dataset is left in '%s'", x->dir, x->tmp);
		remove_tree(x->dir);
	}
	if (rename(x->tmp, x->dir))
		return cli_error("cannot rename '%s' to '%s': %s", x->tmp,
				 x->dir, strerror(errno));
	{
		struct buf parent = BUF_INIT;
		lt_dirname(x->dir, &parent);
		lt_fsync_dir(parent.data);
		buf_release(&parent);
	}
	return 0;
}

int cmd_export_dataset(const char *kind, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "output", required_argument, NULL, 'o' },
		{ "stream", required_argument, NULL, OPT_STREAM },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "no-redact", no_argument, NULL, OPT_NOREDACT },
		{ "split", required_argument, NULL, OPT_SPLIT },
		{ "shards", required_argument, NULL, OPT_SHARDS },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "gap", required_argument, NULL, OPT_GAP },
		{ "context-lines", required_argument, NULL, OPT_CTX },
		{ "editable-lines", required_argument, NULL, OPT_EDITABLE },
		{ "max-excerpt", required_argument, NULL, OPT_MAXEX },
		{ "max-events", required_argument, NULL, OPT_MAXEV },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ "min-turns", required_argument, NULL, OPT_MINTURNS },
		{ "chat-gap", required_argument, NULL, OPT_CHATGAP },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { NULL, usage_dataset, NULL, NULL };
	struct buf cmdname = BUF_INIT;
	struct edits_opts eo;
	struct timeline_opts to;
	struct conv_opts co;
	struct ds x;
	struct sigaction sa, old_int, old_term;
	unsigned long long n;
	int opt, r, ret = 1, is_edits = !strcmp(kind, "edits");
	const char *since_s = NULL, *until_s = NULL;
	const char *env;

	memset(&x, 0, sizeof(x));
	buf_addf(&cmdname, "export %s", kind);
	c.cmd = cmdname.data;
	x.kind = kind;
	x.redact = 1;
	x.pct[0] = 90;
	x.pct[1] = 5;
	x.pct[2] = 5;
	x.since = INT64_MIN;
	x.until = INT64_MAX;
	x.tmin = INT64_MAX;
	x.tmax = INT64_MIN;
	edits_opts_init(&eo);
	eo.version = LABTAPE_VERSION;
	timeline_opts_init(&to);
	conv_opts_init(&co);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		const char *a = optarg;
		if (opt == 'o') {
			x.dir = a;
		} else if (opt == OPT_STREAM) {
			x.stream = a;
		} else if (opt == OPT_SINCE) {
			since_s = a;
		} else if (opt == OPT_UNTIL) {
			until_s = a;
		} else if (opt == OPT_NOREDACT) {
			x.redact = 0;
		} else if (opt == OPT_FORCE) {
			x.force = 1;
		} else if (opt == OPT_SPLIT) {
			if (sscanf(a, "%u,%u,%u", &x.pct[0], &x.pct[1], &x.pct[2]) != 3 ||
			    x.pct[0] + x.pct[1] + x.pct[2] != 100 ||
			    x.pct[0] > 100 || x.pct[1] > 100 || x.pct[2] > 100) {
				ret = cli_usage_error(&c, "--split wants three "
					"percentages that add up to 100, like 90,5,5");
				goto out;
			}
		} else if (opt == OPT_SHARDS) {
			if (parse_uint(a, 100000, &n) || !n) {
				ret = cli_usage_error(&c, "--shards wants a number "
						      "from 1 to 100000");
				goto out;
			}
			x.shards = (unsigned)n;
		} else if (opt == OPT_WINDOW) {
			if (lt_duration_parse(a, &to.window_ns) ||
			    to.window_ns < LT_NS_PER_SEC ||
			    to.window_ns > 366 * LT_NS_PER_DAY) {
				ret = cli_usage_error(&c, "--window wants a "
					"duration from 1s to 366d, like 30s, 5m or 1h");
				goto out;
			}
		} else if (opt == OPT_MINTURNS) {
			if (parse_uint(a, 1000000, &n) || !n) {
				ret = cli_usage_error(&c, "--min-turns wants a "
						      "number from 1 to 1000000");
				goto out;
			}
			co.min_turns = (unsigned)n;
		} else if (opt == OPT_CHATGAP) {
			if (lt_duration_parse(a, &co.chat_gap_ns) ||
			    co.chat_gap_ns < 0 ||
			    co.chat_gap_ns > 366 * LT_NS_PER_DAY) {
				ret = cli_usage_error(&c, "--chat-gap wants a "
					"duration up to 366d, like 0s, 30m or 2h");
				goto out;
			}
		} else if (opt == OPT_GAP) {
			char *end;
			double g = strtod(a, &end);
			if (*end || !(g >= 0 && g < 1e6)) {
				ret = cli_usage_error(&c, "--gap wants seconds, "
						      "like 1 or 0.5");
				goto out;
			}
			eo.gap_ns = (int64_t)(g * 1e9 + 0.5);
		} else if (opt == OPT_CTX || opt == OPT_EDITABLE ||
			   opt == OPT_MAXEX || opt == OPT_MAXEV) {
			unsigned long long max = opt == OPT_MAXEV ? EDITS_MAX_EVENTS
					       : opt == OPT_MAXEX ? (1ULL << 30) : 10000;
			if (parse_uint(a, max, &n)) {
				ret = cli_usage_error(&c, "--%s wants a number from "
					"0 to %llu", opt == OPT_CTX ? "context-lines"
					: opt == OPT_EDITABLE ? "editable-lines"
					: opt == OPT_MAXEX ? "max-excerpt"
					: "max-events", max);
				goto out;
			}
			if (opt == OPT_CTX)
				eo.context_lines = (unsigned)n;
			else if (opt == OPT_EDITABLE)
				eo.editable_lines = (unsigned)n;
			else if (opt == OPT_MAXEX)
				eo.max_excerpt = (size_t)n;
			else
				eo.max_events = (unsigned)n;
		} else if ((r = cli_common_opt(&c, opt)) >= 0) {
			ret = r;
			goto out;
		}
	}
	if (optind < argc) {
		ret = cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!x.dir || !*x.dir) {
		ret = cli_usage_error(&c, "where to? Give -o DIR");
		goto out;
	}
	if ((since_s && lt_time_parse(since_s, &x.since)) ||
	    (until_s && lt_time_parse(until_s, &x.until))) {
		ret = cli_usage_error(&c, "bad time '%s' (RFC 3339, a date, or "
			"10m, 2h, 3d ago)", since_s && lt_time_parse(since_s,
			&x.since) ? since_s : until_s);
		goto out;
	}
	eo.since = x.since;
	eo.until = x.until;
	to.since = x.since;
	to.until = x.until;
	co.since = x.since;
	co.until = x.until;
	if ((env = getenv("LABTAPE_TEST_EXPORT_DELAY_US")))
		x.delay_us = (unsigned)strtoul(env, NULL, 10);
	if (cli_open_unlocked(&c, &x.v))
		goto out;
	redact_rules_init(&x.rules);
	if (x.redact && (cli_redact_rules(NULL, &x.rules) ||
			 (redactor_new(&x.r, &x.rules) &&
			  cli_error("%s", lt_errmsg()))))
		goto out;
	crypto_generichash(x.author_key, sizeof(x.author_key),
			   (const uint8_t *)vault_id_hex(x.v),
			   strlen(vault_id_hex(x.v)),
			   (const uint8_t *)"labtape export author salt", 26);
	buf_init(&x.opts, 0);
	buf_addf(&x.opts, "kind %s, stream %s, since %s, until %s, split "
		 "%u/%u/%u, redact %s", kind, x.stream ? x.stream : "(all)",
		 since_s ? since_s : "(start)", until_s ? until_s : "(end)",
		 x.pct[0], x.pct[1], x.pct[2], x.redact ? "true" : "false");
	if (make_tmp(&x))
		goto out;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	x.bar = isatty(2);
	x.t0 = lt_mono_ns();
	if (x.bar)
		vault_stats(x.v, count_rows, &x);

	if (is_edits)
		r = run_edits(&x, &eo);
	else if (!strcmp(kind, "events"))
		r = run_events(&x);
	else if (!strcmp(kind, "timeline"))
		r = run_timeline(&x, &to);
	else if (!strcmp(kind, "conversations"))
		r = run_conversations(&x, &co);
	else
		r = run_cast(&x);
	progress(&x, 1);
	if (close_outs(&x))
		r = -1;
	if (!r && x.shards && strcmp(kind, "cast"))
		r = write_shards(&x);
	if (!r && !interrupted)
		r = write_card(&x);
	if (!r && !interrupted)
		r = finish_dir(&x) ? -1 : 0;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (r || interrupted) {
		if (interrupted)
			cli_error("interrupted; nothing was written");
		remove_tree(x.tmp);
		ret = interrupted ? 128 + interrupted : 1;
		goto out;
	}
	{
		json_t *d = json_pack("{s:s, s:s, s:b, s:s*, s:s*, s:s*, s:s}",
				      "format", kind, "output", x.dir,
				      "redact", x.redact, "stream", x.stream,
				      "since", since_s, "until", until_s,
				      "options", x.opts.data);
		json_t *cnt = json_object();
		for (int i = 0; i < 3; i++)
			if (x.out[i].name)
				json_object_set_new(cnt, x.out[i].name,
					json_integer((json_int_t)x.out[i].lines));
		json_object_set_new(d, "counts", cnt);
		if (audit_append(x.v, AUDIT_EXPORT, d)) {
			cli_error("exported, but %s", lt_errmsg());
			x.bad = 1;
		}
		json_decref(d);
	}
	ret = x.bad;
out:
	for (int i = 0; i < 3; i++) {
		if (x.out[i].f)
			fclose(x.out[i].f);
		free(x.out[i].name);
	}
	free(x.tmp);
	redactor_free(x.r);
	redact_rules_release(&x.rules);
	buf_release(&x.opts);
	buf_release(&x.schema);
	buf_release(&x.notes);
	buf_release(&cmdname);
	vault_free(x.v);
	return ret;
}
