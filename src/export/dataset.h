#ifndef LABTAPE_DATASET_H
#define LABTAPE_DATASET_H

/*
 * Datasets out of the vault (doc/exports.md, "Datasets"). Like export.h,
 * pure computation on memory: the CLI reads the vault in time order and
 * feeds records in; lines of JSON come out through a callback.
 *
 * Next-edit prediction (edits.c):
 *
 *	struct edits *x = edits_new(&opts, redactor, author_key, emit, ctx);
 *	for (each edit.op record, in vault order)
 *		edits_feed(x, &rec);               may call emit
 *	edits_finish(x);                           closes the open groups
 *	edits_free(x);
 *
 * Memory: one flat text per document seen (its current state), plus, for
 * a document inside an edit group, a copy of its state before the group,
 * plus up to max_events diff blocks of at most EDITS_MAX_BLOCK bytes each.
 */

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct redactor;

#define EDITS_MAX_EVENTS 16
#define EDITS_MAX_COMMENTS 32	/* comment events in an example */
#define EDITS_MAX_BLOCK 8192	/* larger diff blocks are not kept */

struct edits_opts {
	int64_t gap_ns;		/* edits closer than this: one group (1 s) */
	unsigned context_lines;	/* lines around the editable region (8) */
	unsigned editable_lines;/* lines around the change and cursor (2) */
	size_t max_excerpt;	/* bytes; wider examples are skipped (16384) */
	unsigned max_events;	/* diff blocks in "events", <= 16 (16) */
	int64_t since, until;	/* groups that start in [since, until) */
	const char *version;	/* labtape's, for meta */
};
void edits_opts_init(struct edits_opts *o);

/* One edit.op record's fields (doc/files-source.md); strings may be NULL
 * when absent, and need to live only during edits_feed(). */
struct edit_rec {
	int64_t t;
	const char *stream;
	const char *doc, *part, *path, *op, *actor;
	int has_seq;
	uint64_t seq, pos, len;
	const char *ins, *del, *text;	/* with their lengths */
	size_t ins_len, del_len, text_len;
	const char *group;		/* the save or undo group */
	const char *action, *to;	/* structural detail */
	int detail_index;		/* detail has "index" (a notebook) */
};

struct edits_stats {
	uint64_t ops;		/* edit.op records fed */
	uint64_t docs;		/* documents seen */
	uint64_t groups;	/* edit groups closed */
	uint64_t examples;	/* lines emitted */
	uint64_t skipped_wide;	/* change + cursor wider than max_excerpt */
	uint64_t skipped_time;	/* groups outside [since, until) */
	uint64_t skipped_nochange; /* groups that left the text as it was */
	uint64_t unknown;	/* edits on a state not known (gap, no base) */
	uint64_t mismatched;	/* edits that did not fit the state */
	uint64_t notebook;	/* notebook records (not in this dataset) */
	uint64_t comments;	/* doc.comment events fed */
	uint64_t with_comments;	/* examples with comments */
};

/* One example: doc is its document id (for the split), line its JSON
 * without the newline. Returns 0, or an error that stops the export. */
typedef int edits_emit_fn(void *ctx, const char *doc, const char *line,
			  size_t n);

struct edits;
/* r may be NULL (no redaction); it must outlive x. author_key is 32
 * bytes: meta.author is BLAKE2b-128 of the actor keyed with it. */
struct edits *edits_new(const struct edits_opts *o, struct redactor *r,
			const uint8_t author_key[32], edits_emit_fn *emit,
			void *ctx);
int edits_feed(struct edits *x, const struct edit_rec *e);

/* One doc.comment event's fields (doc/format.md 7.2); strings may be
 * NULL when absent and need to live only during the call. */
struct edit_comment {
	int64_t t;
	const char *doc, *id, *action, *parent, *actor;
	const char *text, *quote;	/* with their lengths */
	size_t text_len, quote_len;
};
/* Feeds a comment on a document, for the "comments" of its examples: all
 * of them, in time order, before the first edits_feed(). */
int edits_comment(struct edits *x, const struct edit_comment *c);
int edits_finish(struct edits *x);
const struct edits_stats *edits_get_stats(const struct edits *x);
void edits_free(struct edits *x);

/* ---- Timelines (timeline.c) ------------------------------------------ */

/*
 * Windows of time that align what was recorded in them (doc/exports.md,
 * "timeline"): one JSON object per window with anything in it, windows
 * aligned to multiples of window_ns since the epoch, in time order.
 *
 *	struct timeline *x = timeline_new(&opts, redactor, emit, ctx);
 *	for (each record, in vault order)
 *		timeline_edit(x, &rec), timeline_term(x, ...), ...
 *		                          may call emit for the windows before
 *	timeline_finish(x);               emits the last window
 *	timeline_free(x);
 *
 * Records must come in time order (a record older than the open window
 * counts in it). Records outside [since, until) add nothing to a window,
 * but edits before `since` still build the documents' states.
 *
 * Memory: the current text of each document seen (to diff a window's net
 * change), a copy of it for each document touched in the open window,
 * the escape-parser state of each open terminal session, and the open
 * window's aggregates, each capped (max_docs, max_sessions, max_items
 * entries; max_diff, max_output, max_text bytes).
 */
struct timeline_opts {
	int64_t window_ns;	/* the window length (5 min) */
	int64_t since, until;
	size_t max_diff;	/* bytes of a document's diff (4096) */
	size_t max_output;	/* bytes of a session's output (8192) */
	size_t max_text;	/* bytes of a marker or note (4096) */
	unsigned max_docs;	/* documents in a window (256) */
	unsigned max_sessions;	/* sessions in a window (64) */
	unsigned max_items;	/* markers, notes in a window (256 each) */
};
void timeline_opts_init(struct timeline_opts *o);

struct timeline_stats {
	uint64_t windows;	/* lines emitted */
	uint64_t truncated;	/* windows with "truncated": true */
	uint64_t doc_entries;	/* documents, summed over windows */
	uint64_t session_entries;
	uint64_t markers, notes;
	uint64_t edits;		/* edit.op records fed */
	uint64_t term;		/* term.* records fed */
	uint64_t unknown;	/* edits on a state not known */
};

/* One window: start is its start (ns), line its JSON. */
typedef int timeline_emit_fn(void *ctx, int64_t start, const char *line,
			     size_t n);

struct timeline;
/* r may be NULL (no redaction); it must outlive x. */
struct timeline *timeline_new(const struct timeline_opts *o,
			      struct redactor *r, timeline_emit_fn *emit,
			      void *ctx);
int timeline_edit(struct timeline *x, const struct edit_rec *e);
/* A terminal session started; command (NULL if not known) is its argv
 * joined by spaces. */
int timeline_term_start(struct timeline *x, int64_t t, const char *session,
			const char *command);
/* Output (in = 0) or input (in = 1) bytes of a session. */
int timeline_term_io(struct timeline *x, int64_t t, const char *session,
		     int in, const void *p, size_t n);
int timeline_term_end(struct timeline *x, int64_t t, const char *session);
/* A marker (session may be NULL) or a note (is_note). */
int timeline_mark(struct timeline *x, int64_t t, int is_note,
		  const char *text, size_t n, const char *session);
int timeline_finish(struct timeline *x);
const struct timeline_stats *timeline_get_stats(const struct timeline *x);
void timeline_free(struct timeline *x);

/* Removes terminal escape sequences from p[0..n) (CSI, OSC, DCS and the
 * other string controls, two-byte escapes) and the C0 controls but \n
 * and \t, appending the rest to out. *state carries a sequence cut
 * between two calls; start it at 0. */
void ds_strip_ansi(int *state, const char *p, size_t n, struct buf *out);

/* Appends s[0..n) to out with each byte that does not start a valid
 * UTF-8 character replaced by U+FFFD. */
void ds_utf8_sanitize(struct buf *out, const char *s, size_t n);

/* ---- Conversations (conversations.c) ---------------------------------- */

/*
 * Threads of messages and comments as JSON lines of turns (doc/exports.md,
 * "conversations"):
 *
 *	struct conversations *x = conv_new(&opts, key, emit, ctx);
 *	for (each msg.message and doc.comment, in vault order)
 *		conv_feed(x, &rec);
 *	conv_finish(x, redactor);  redacts and emits every thread, in order
 *	conv_free(x);
 *
 * Memory: every turn of the selection (a thread is complete only at the
 * end), until conv_finish().
 */
struct conv_opts {
	int64_t since, until;	/* turns at times in [since, until) */
	unsigned min_turns;	/* shorter threads are left out (2) */
	int64_t chat_gap_ns;	/* loose chat messages closer than this
				   form one conversation (30 min) */
};
void conv_opts_init(struct conv_opts *o);

/* A msg.message (is_comment 0) or a doc.comment's fields; strings may be
 * NULL when absent, and need to live only during conv_feed(). */
struct conv_rec {
	int64_t t;
	const char *stream;
	int is_comment;
	const char *source;	/* slack, mail, ...; for a comment, the
				   stream's source (gdocs, posts) */
	const char *id, *thread, *reply_to, *channel, *subject, *edited;
	const char *doc, *action, *parent, *quote;	/* comments */
	const char *speaker;	/* who, as a stable key: a Slack user id, a
				   mail address, a comment's actor */
	const char *text;
	size_t text_len;
};

struct conv_stats {
	uint64_t records;	/* messages and comments fed */
	uint64_t turns;		/* turns made */
	uint64_t versions;	/* later versions that replaced a turn's text */
	uint64_t duplicates;	/* copies of a message already there */
	uint64_t chat_runs;	/* conversations made of loose chat messages */
	uint64_t short_threads;	/* threads under min_turns, left out */
	uint64_t threads;	/* lines emitted */
	uint64_t turns_out;	/* turns in them */
	uint64_t speakers;	/* distinct speakers in them */
};

/* One thread: key is what its split is decided by (the document of a
 * comment thread, else the thread), line its JSON. */
typedef int conv_emit_fn(void *ctx, const char *key, const char *line,
			 size_t n);

struct conversations;
/* id_key (32 bytes) keys the hash that is a thread's "id". */
struct conversations *conv_new(const struct conv_opts *o,
			       const uint8_t id_key[32], conv_emit_fn *emit,
			       void *ctx);
int conv_feed(struct conversations *x, const struct conv_rec *e);
/* Redaction comes last, so that a redactor can be made knowing the
 * speakers' names (r may be NULL: no redaction). Call once. */
int conv_finish(struct conversations *x, struct redactor *r);
const struct conv_stats *conv_get_stats(const struct conversations *x);
void conv_free(struct conversations *x);

/* ---- Pieces, exposed for the unit tests ---------------------------- */

/* The JSON string for s[0..n) with quotes, appended to out. Escapes ",
 * \, the C0 controls and DEL; all else is written as UTF-8. */
void ds_json_str(struct buf *out, const char *s, size_t n);

/* The byte range of an example's excerpt in text[0..n): the lines of
 * [lo, hi) widened by `lines` whole lines on each side. *start is at a
 * line start; *end after a newline or at n. */
void ds_widen_lines(const char *text, size_t n, size_t lo, size_t hi,
		    unsigned lines, size_t *start, size_t *end);

/* The bytes where a and b differ: a[*lo..*ahi) became b[*lo..*bhi), the
 * rest is common; cuts fall on UTF-8 character boundaries. Returns 0 if
 * a and b are equal. */
int ds_change_span(const char *a, size_t alen, const char *b, size_t blen,
		   size_t *lo, size_t *ahi, size_t *bhi);

/* Which split a key (a document id) goes to: 0 train, 1 validation, 2
 * test, by BLAKE2b-64 of the key modulo 100 against the percentages
 * pct[0], pct[0] + pct[1] (they add up to 100). */
int ds_split_of(const char *key, const unsigned pct[3]);
extern const char *const ds_split_names[3];

#endif
