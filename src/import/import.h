#ifndef LABTAPE_IMPORT_H
#define LABTAPE_IMPORT_H

/*
 * What every importer shares (doc/imports.md): one input imported as one
 * transaction, a ledger that makes importing it again add nothing, and
 * per-document sequence numbers that go on from earlier imports.
 *
 *	import_open()           reads the stream's ledger (vault unlocked)
 *	for each unit of the input (a commit, a revision, a message):
 *		if (import_seen(im, key)) skip it;
 *		import_edit() / import_event() / import_blob() ...
 *		import_unit_done(im, key, t)
 *	import_commit()         all of it durable, or none of it
 *
 * An importer that fails calls import_abort(): nothing it appended is
 * kept, and the vault is as it was.
 */

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "events.h"
#include "vault.h"

struct import;

struct import_opts {
	const char *source;	/* "git", "gdocs", ...: in the ledger and messages */
	const char *input;	/* the file or folder imported, for messages */
	const char *stream;	/* where everything goes, e.g. "git:labtape" */
	int progress;		/* draw a progress bar on stderr (a terminal) */
};

/* Reads the ledger of o->stream (v must be unlocked) and opens a tape. */
int import_open(struct import **out, struct vault *v,
		const struct import_opts *o);

/* 1 if unit was imported before, by an earlier import or this one. */
int import_seen(struct import *im, const char *unit);

/* The next sequence number of doc: 0 for a document not seen before. */
int64_t import_next_seq(struct import *im, const char *doc);

/* Appends an edit.op at ts; sets e->seq to doc's next number and
 * advances it. */
int import_edit(struct import *im, int64_t ts, struct ev_edit *e);

/* Appends an edit.op given as JSON (for edits that carry a native op or
 * a detail, which struct ev_edit has no room for) at ts: sets its "seq"
 * to the next number of its "doc" and advances it, then appends it as
 * import_event() does. Takes data's reference either way. */
int import_edit_json(struct import *im, int64_t ts, json_t *data);

/* Appends an event of a registered kind at ts, validating data first;
 * takes data's reference either way. Errors say which field is wrong. */
int import_event(struct import *im, int64_t ts, const char *kind,
		 json_t *data);

/*
 * Stores a binary file's version as content-defined chunks (fs.chunk,
 * each distinct chunk once per day) and an fs.blob for doc, whose seq it
 * takes as import_edit does; group and actor may be NULL.
 */
int import_blob(struct import *im, int64_t ts, const char *doc,
		const char *path, const char *group, const char *actor,
		const void *data, size_t len);

/* The chunk hashes of the last import_blob(), in order: a new reference
 * to an array of strings (the caller decrefs it), or NULL before any.
 * For a message that names its attachments by their chunks. */
json_t *import_blob_chunks(struct import *im);

/* Ends a unit: records its key in the ledger with the sequence numbers of
 * the documents it touched. */
int import_unit_done(struct import *im, const char *unit, int64_t ts);

/* The same, with more fields of the ledger entry (import.unit: "after",
 * "native"): fields, an object or NULL, is taken either way. */
int import_unit_done_with(struct import *im, const char *unit, int64_t ts,
			  json_t *fields);

/* Counts a unit that import_seen() said was there already. */
void import_skipped(struct import *im);

/* Progress, drawn at most ten times a second; total 0 if unknown. */
void import_progress(struct import *im, uint64_t done, uint64_t total);

struct import_summary {
	uint64_t units;		/* units imported now */
	uint64_t skipped;	/* units already in the vault */
	uint64_t events;	/* events appended, ledger included */
};

/* Makes everything durable, all or nothing, and frees im (even on error,
 * when nothing is kept). Fills sum if not NULL. An import that added a
 * unit is then written to the audit log; if that fails, the error says
 * the import itself was kept. */
int import_commit(struct import *im, struct import_summary *sum);

/* Drops everything and frees im. */
void import_abort(struct import *im);

#endif
