#ifndef LABTAPE_GDOCS_H
#define LABTAPE_GDOCS_H

/*
 * Google Docs: the revision changelog that the `revisions/load` endpoint
 * returns, and Drive API v3 comments (doc/imports.md, "gdocs"). Pure
 * parsing on memory, no vault: the importer (gdocs_import) and the fuzz
 * targets drive the same code.
 *
 *	struct gdocs_log log;
 *	if (gdocs_load(&log, "doc.json", data, len))     lt_errmsg() says why
 *		...
 *	gdocs_replay(&log, &ops, ctx, &text);            calls ops per edit
 *	gdocs_log_release(&log);
 *
 * Positions handed to the callbacks are 0-based code points of the text
 * before each edit; Google counts 1-based UTF-16 code units.
 */

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"

struct gdocs_log {
	char *name;		/* for messages */
	json_t *root;		/* the parsed JSON object */
	const char *json;	/* the JSON text (after the guard line) */
	size_t json_len;
	size_t guard_len;	/* bytes of the guard line, for offsets */
};

/*
 * Parses data[0..len): an optional ")]}'" guard line, then a JSON object
 * with "changelog" (an array) and optionally "chunkedSnapshot". data must
 * outlive log. Errors name the file and the byte. Release log with
 * gdocs_log_release() either way.
 */
int gdocs_load(struct gdocs_log *log, const char *name, const char *data,
	       size_t len);
void gdocs_log_release(struct gdocs_log *log);

/* The document id the JSON names ("docId" or "id"), or NULL. */
const char *gdocs_log_doc_id(const struct gdocs_log *log);

/* The revision being replayed: one or more changelog entries that share
 * a revision number. */
struct gdocs_rev {
	size_t entry;		/* 1-based index of the current entry */
	int64_t revision;
	int64_t time_ms;	/* of the current entry */
	const char *user;	/* NULL if the entry has none */
	const char *session;	/* NULL if the entry has none */
};

/* One edit in the canonical record's terms (doc/format.md, edit.op). */
struct gdocs_edit {
	const char *op;		/* insert, delete, style, structural, snapshot */
	uint64_t pos, len;
	int has_pos, has_len;
	const char *ins, *del, *text;	/* UTF-8; NULL if absent */
	size_t ins_len, del_len, text_len;
	json_t *detail;		/* NULL, or borrowed for the call */
	json_t *native;		/* the op verbatim, borrowed for the call */
};

struct gdocs_ops {
	/* The chunkedSnapshot's text when it is not empty: the document as
	 * revision `revision` left it, before the first entry. */
	int (*snapshot)(void *ctx, int64_t revision, int64_t time_ms,
			const char *text, size_t len);
	int (*rev_begin)(void *ctx, const struct gdocs_rev *r);
	int (*edit)(void *ctx, const struct gdocs_rev *r,
		    const struct gdocs_edit *e);
	int (*rev_end)(void *ctx, const struct gdocs_rev *r);
	/* Called before each entry with (done, total); may be NULL. */
	void (*progress)(void *ctx, size_t done, size_t total);
};

/*
 * Replays the changelog: the chunkedSnapshot, then each entry in order,
 * calling ops (any may be NULL; a non-zero return stops the replay and is
 * returned). If text is not NULL, the final text is appended to it.
 * Malformed entries give LT_EINVAL and a message
 *   "NAME: changelog entry N (byte B): what is wrong".
 */
int gdocs_replay(struct gdocs_log *log, const struct gdocs_ops *ops,
		 void *ctx, struct buf *text);

/* -- Comments (Drive API v3 comments.list) ------------------------------ */

/* A comment or a reply, as the file holds it. Strings may be NULL. */
struct gdocs_comment {
	int is_reply;
	const char *id;
	const char *comment_id;	/* a reply's comment; NULL for a comment */
	const char *author;	/* author.displayName */
	const char *content;
	const char *quote;	/* quotedFileContent.value */
	const char *action;	/* a reply's "resolve" or "reopen" */
	const char *created, *modified;	/* RFC 3339 */
	int64_t created_ns, modified_ns;	/* modified = created if absent */
	int deleted, resolved;
	json_t *anchor;		/* borrowed; NULL if absent */
	json_t *native;		/* the record verbatim (a comment without
				 * its replies), borrowed */
};

/*
 * Parses data[0..len): one comments.list response ({"comments": [...]})
 * or an array of them (pages concatenated), and calls fn for each comment
 * and then each of its replies, in file order. Errors name the file, the
 * page and the comment: "NAME: page 1, comments[3]: ...".
 */
int gdocs_comments_parse(const char *name, const char *data, size_t len,
			 int (*fn)(void *ctx, const struct gdocs_comment *c),
			 void *ctx);

/* -- Importing (gdocs-import.c) ------------------------------------------ */

struct vault;
struct import_summary;

struct gdocs_input {
	const char *name;	/* the changelog's file or URL, for messages */
	const char *data;	/* the changelog as revisions/load answers */
	size_t len;
	const char *comments_name;	/* NULL: no comments */
	const char *comments;	/* comments.list JSON */
	size_t comments_len;
	const char *doc;	/* the document id; NULL: the JSON's, else
				 * the file name's up to its first dot */
	const char *title;	/* the document's title; NULL: none */
	int progress;		/* a progress bar on a terminal */
};

/*
 * Imports one document's changelog and comments into the unlocked vault
 * v, as one transaction into the stream gdocs:ID (doc/imports.md). Sets
 * *doc to "gdocs:ID" (free() it) when it got that far, and sum. Returns
 * 0 or an error with lt_errmsg() saying what and where; then nothing was
 * imported.
 */
int gdocs_import(struct vault *v, const struct gdocs_input *in, char **doc,
		 struct import_summary *sum);

#endif
