/*
 * What every importer shares (import.h, doc/imports.md).
 *
 * NOTES
 *
 *  1. One input is one tape transaction: nothing is committed until
 *     import_commit(), so a failure anywhere leaves the vault as it was.
 *     An input that spans many days spans many segments (a segment holds
 *     one stream and one day); the tape commits them as one transaction
 *     (doc/format.md, section 6.6).
 *  2. The ledger is the stream's import.unit events. Reading it needs the
 *     vault unlocked, which is why imports ask for the passphrase: to know
 *     what is new, an importer must read what is there. Each unit's entry
 *     carries the next sequence number of every document it touched, so a
 *     later import goes on numbering where this one stopped.
 *  3. Binary files are stored as labtape's files source stores them:
 *     content-defined chunks named by a keyed hash, each stored once per
 *     day, with a new key each day (doc/files-source.md). The key lives
 *     only in memory, for one import.
 *  4. An import that adds anything is audited (doc/format.md 14.4) after
 *     its commit: it may bring other people's words into the vault (mail,
 *     chat), which is what the audit log is for.
 *  5. SIGINT and SIGTERM during an import make the next append fail
 *     ("interrupted"), so the importer stops and aborts as after any
 *     error: the tape rolls back and removes the segments it made, and
 *     the vault is as it was (rather than left with segments of days that
 *     never committed). The handlers are the caller's again after commit
 *     or abort.
 */
#include "import.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "buf.h"
#include "error.h"
#include "fastcdc.h"
#include "hex.h"
#include "ltime.h"
#include "strmap.h"
#include "xalloc.h"
#include "banned.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

struct import {
	struct vault *v;
	struct sigaction old_int, old_term;	/* note 5 */
	struct tape *t;
	char *source, *input, *stream;
	struct strmap units;	/* unit key -> (void *)1 */
	struct strmap seqs;	/* doc -> int64_t * next seq */
	struct strmap touched;	/* docs edited in the open unit */
	struct buf payload, why;
	struct import_summary sum;

	/* Chunks of binary files (note 3). */
	uint8_t key[crypto_generichash_KEYBYTES];
	int32_t key_day;
	int keyed;
	struct strmap chunks;	/* hex name -> (void *)1, for key_day */
	json_t *last_chunks;	/* of the last import_blob() */

	/* Progress. */
	int progress;
	int64_t drawn;		/* monotonic ns of the last draw */
	int bar_shown;
};

static int64_t *seq_slot(struct import *im, const char *doc)
{
	struct strmap_ent *e = strmap_put(&im->seqs, doc);

	if (!e->val)
		e->val = xcalloc(1, sizeof(int64_t));
	return e->val;
}

/* Reads one ledger entry into im (note 2). */
static int ledger_add(struct import *im, const struct vault_record *rec)
{
	const struct ev_kind *k = ev_kind_find("import.unit");
	json_t *d = NULL, *seqs, *v;
	const char *doc;
	int r;

	if ((r = ev_decode(k, rec->payload, rec->len, &d)))
		return r;
	if (!json_is_string(json_object_get(d, "unit"))) {
		json_decref(d);
		return lt_error(LT_ECORRUPT, "an import.unit event of stream "
				"'%s' has no unit", im->stream);
	}
	strmap_put(&im->units, json_string_value(json_object_get(d, "unit")))
		->val = (void *)1;
	seqs = json_object_get(d, "seqs");
	json_object_foreach(seqs, doc, v) {
		int64_t *next = seq_slot(im, doc);
		if (json_is_integer(v) && json_integer_value(v) > *next)
			*next = json_integer_value(v);
	}
	json_decref(d);
	return 0;
}

static int ledger_read(struct import *im)
{
	struct vault_query q = VAULT_QUERY_INIT;
	struct vault_iter *it;
	struct vault_record rec;
	int r;

	q.stream = im->stream;
	q.kind = "import.unit";
	if ((r = vault_iter_open(&it, im->v, &q)))
		return r;
	while ((r = vault_iter_next(it, &rec)) == 1)
		if ((r = ledger_add(im, &rec)))
			break;
	vault_iter_free(it);
	if (r < 0)
		return lt_error(r, "cannot read what was imported into '%s' "
				"before, so cannot tell what is new: %s "
				"('labtape verify' says more)", im->stream,
				lt_errmsg());
	return 0;
}

static void free_vals(struct strmap *m)
{
	for (size_t i = 0; i < m->size; i++)
		if (m->v[i].key && m->v[i].val != (void *)1)
			free(m->v[i].val);
	strmap_release(m);
}

/* Note 5: the caller's handlers again, and a signal that came meanwhile
 * passed on to the caller's own handler, if it has one (a default action
 * would end the process before the caller could say what happened). */
static void restore_signals(struct import *im)
{
	const struct sigaction *old = interrupted == SIGTERM ? &im->old_term
							     : &im->old_int;
	int sig = interrupted;

	sigaction(SIGINT, &im->old_int, NULL);
	sigaction(SIGTERM, &im->old_term, NULL);
	if (sig && old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN)
		raise(sig);
}

static void import_free(struct import *im)
{
	restore_signals(im);
	if (im->bar_shown)
		fputs("\r\033[K", stderr);
	if (im->t)
		tape_abort(im->t);
	strmap_release(&im->units);
	free_vals(&im->seqs);
	strmap_release(&im->touched);
	strmap_release(&im->chunks);
	json_decref(im->last_chunks);
	sodium_memzero(im->key, sizeof(im->key));
	buf_release(&im->payload);
	buf_release(&im->why);
	free(im->source);
	free(im->input);
	free(im->stream);
	free(im);
}

int import_open(struct import **out, struct vault *v,
		const struct import_opts *o)
{
	struct import *im = xcalloc(1, sizeof(*im));
	struct tape_options topt = TAPE_OPTIONS_INIT;
	int r;

	im->v = v;
	im->source = xstrdup(o->source);
	im->input = xstrdup(o->input ? o->input : o->source);
	im->stream = xstrdup(o->stream);
	im->progress = o->progress && isatty(STDERR_FILENO);
	buf_init(&im->payload, 0);
	buf_init(&im->why, 0);
	{
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		interrupted = 0;
		sigaction(SIGINT, &sa, &im->old_int);
		sigaction(SIGTERM, &sa, &im->old_term);
	}
	/* The sealer compresses, encrypts and makes new days' segments
	 * while the importer parses (tape.c, notes 7 and 10). */
	topt.sealer = 1;
	if ((r = ledger_read(im)) || (r = tape_open(&im->t, v, &topt))) {
		import_free(im);
		return r;
	}
	*out = im;
	return 0;
}

int import_seen(struct import *im, const char *unit)
{
	return strmap_get(&im->units, unit) != NULL;
}

int64_t import_next_seq(struct import *im, const char *doc)
{
	struct strmap_ent *e = strmap_get(&im->seqs, doc);

	return e ? *(int64_t *)e->val : 0;
}

static int append(struct import *im, int64_t ts, const char *kind)
{
	int r;

	if (interrupted)
		return lt_error(LT_ECANCEL, "interrupted by signal %d",
				(int)interrupted);
	r = tape_append(im->t, im->stream, ts, kind, im->payload.data,
			im->payload.len);

	if (!r)
		im->sum.events++;
	return r;
}

/* Takes the next sequence number of doc for the open unit. */
static int64_t take_seq(struct import *im, const char *doc)
{
	int64_t *next = seq_slot(im, doc);

	strmap_put(&im->touched, doc)->val = (void *)1;
	return (*next)++;
}

int import_edit(struct import *im, int64_t ts, struct ev_edit *e)
{
	int r;

	e->seq = take_seq(im, e->doc);
	buf_reset(&im->payload);
	if ((r = ev_encode_edit(&im->payload, e)))
		return r;
	return append(im, ts, "edit.op");
}

int import_event(struct import *im, int64_t ts, const char *kind,
		 json_t *data)
{
	const struct ev_kind *k = ev_kind_find(kind);
	int r;

	buf_reset(&im->why);
	buf_reset(&im->payload);
	if (!k)
		r = lt_error(LT_EINVAL, "unknown event kind '%s'", kind);
	else if ((r = ev_validate(k, data, &im->why)))
		r = lt_error(r, "%s event: %s", kind, im->why.data);
	else
		r = ev_encode(k, data, &im->payload);
	json_decref(data);
	return r ? r : append(im, ts, kind);
}

int import_edit_json(struct import *im, int64_t ts, json_t *data)
{
	const char *doc = json_string_value(json_object_get(data, "doc"));

	if (!doc) {
		json_decref(data);
		return lt_error(LT_EINVAL, "edit.op event: data.doc: required "
				"string is missing");
	}
	json_object_set_new(data, "seq", json_integer(take_seq(im, doc)));
	return import_event(im, ts, "edit.op", data);
}

/* A new chunk key when ts falls on another day than the last (note 3). */
static void chunk_day(struct import *im, int64_t ts)
{
	int32_t day = lt_day_of(ts);

	if (im->keyed && day == im->key_day)
		return;
	randombytes_buf(im->key, sizeof(im->key));
	strmap_release(&im->chunks);
	im->key_day = day;
	im->keyed = 1;
}

static int chunk_put(struct import *im, int64_t ts, const uint8_t *p,
		     size_t n, json_t *names)
{
	uint8_t name[32];
	char hex[65];
	int r;

	crypto_generichash(name, sizeof(name), p, n, im->key, sizeof(im->key));
	lt_hex(name, sizeof(name), hex);
	json_array_append_new(names, json_string(hex));
	if (strmap_get(&im->chunks, hex))
		return 0;
	buf_reset(&im->payload);
	if ((r = ev_encode_chunk(&im->payload, hex, p, n)) ||
	    (r = append(im, ts, "fs.chunk")))
		return r;
	strmap_put(&im->chunks, hex)->val = (void *)1;
	return 0;
}

int import_blob(struct import *im, int64_t ts, const char *doc,
		const char *path, const char *group, const char *actor,
		const void *data, size_t len)
{
	const uint8_t *p = data;
	json_t *names = json_array(), *blob;
	size_t off = 0;
	int r = 0;

	chunk_day(im, ts);
	while (off < len && !r) {
		size_t n = fastcdc_first(p + off, len - off);
		r = chunk_put(im, ts, p + off, n, names);
		off += n;
	}
	if (r) {
		json_decref(names);
		return r;
	}
	json_decref(im->last_chunks);
	im->last_chunks = json_incref(names);
	blob = json_pack("{s:s, s:I, s:I, s:o}", "doc", doc, "seq",
			 (json_int_t)take_seq(im, doc), "size",
			 (json_int_t)len, "chunks", names);
	if (!blob)
		return lt_error(LT_EINVAL, "'%s': not valid UTF-8", doc);
	if (path)
		json_object_set_new(blob, "path", json_string(path));
	if (group)
		json_object_set_new(blob, "group", json_string(group));
	if (actor)
		json_object_set_new(blob, "actor", json_string(actor));
	return import_event(im, ts, "fs.blob", blob);
}

json_t *import_blob_chunks(struct import *im)
{
	return json_incref(im->last_chunks);
}

int import_unit_done(struct import *im, const char *unit, int64_t ts)
{
	return import_unit_done_with(im, unit, ts, NULL);
}

int import_unit_done_with(struct import *im, const char *unit, int64_t ts,
			  json_t *fields)
{
	json_t *d = fields ? fields : json_object(), *seqs = json_object();
	int r;

	for (size_t i = 0; i < im->touched.size; i++) {
		const char *doc = im->touched.v[i].key;
		if (doc)
			json_object_set_new(seqs, doc,
				json_integer(import_next_seq(im, doc)));
	}
	strmap_release(&im->touched);
	json_object_set_new(d, "unit", json_string(unit));
	json_object_set_new(d, "source", json_string(im->source));
	if (json_object_size(seqs))
		json_object_set(d, "seqs", seqs);
	json_decref(seqs);
	if ((r = import_event(im, ts, "import.unit", d)))
		return r;
	strmap_put(&im->units, unit)->val = (void *)1;
	im->sum.units++;
	return 0;
}

void import_skipped(struct import *im)
{
	im->sum.skipped++;
}

void import_progress(struct import *im, uint64_t done, uint64_t total)
{
	int64_t now;

	if (!im->progress)
		return;
	now = lt_mono_ns();
	if (now - im->drawn < 100000000 && done != total)
		return;
	im->drawn = now;
	im->bar_shown = 1;
	if (total) {
		int width = 30, fill = (int)(done * (uint64_t)width / total);
		fprintf(stderr, "\rimporting %s: [%.*s%*s] %" PRIu64 "/%" PRIu64,
			im->input, fill, "##############################",
			width - fill, "", done, total);
	} else {
		fprintf(stderr, "\rimporting %s: %" PRIu64, im->input, done);
	}
	fflush(stderr);
}

/* Note 4. */
static int audit(struct import *im)
{
	json_t *d = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}",
			      "source", im->source, "input", im->input,
			      "stream", im->stream,
			      "units", (json_int_t)im->sum.units,
			      "skipped", (json_int_t)im->sum.skipped,
			      "events", (json_int_t)im->sum.events);
	int r;

	if (!d)
		return lt_error(LT_EINVAL, "the input's name is not UTF-8");
	r = audit_append(im->v, AUDIT_IMPORT, d);
	json_decref(d);
	if (r)
		return lt_error(r, "imported, but not audited: %s", lt_errmsg());
	return 0;
}

int import_commit(struct import *im, struct import_summary *sum)
{
	int r;

	if (im->bar_shown) {
		fputs("\r\033[K", stderr);
		im->bar_shown = 0;
	}
	if (interrupted) {
		import_free(im);	/* rolls back (note 5) */
		return lt_error(LT_ECANCEL, "interrupted by signal %d",
				(int)interrupted);
	}
	r = tape_close(im->t);
	im->t = NULL;
	if (!r && im->sum.units)
		r = audit(im);
	if (sum)
		*sum = im->sum;
	import_free(im);
	return r;
}

void import_abort(struct import *im)
{
	import_free(im);
}
