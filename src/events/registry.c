#include "events.h"

#include <string.h>

#include "error.h"
#include "events-int.h"
#include "ltime.h"
#include "banned.h"

/*
 * The registry. A field's number is its position in its kind's table and
 * is written into every stored payload (events.h), so fields may only be
 * appended: never reorder, rename or remove one. Kinds stay sorted by name
 * (strcmp order) for ev_kind_find's binary search; test-events checks it.
 */

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

static const struct ev_field note_fields[] = {
	/* 0 */ { "text", EV_STRING, 1, "the note, free text" },
};

static const struct ev_field marker_fields[] = {
	/* 0 */ { "text", EV_STRING, 1, "what the researcher marked" },
	/* 1 */ { "session", EV_STRING, 0,
		  "the terminal session id the marker belongs to" },
};

static const struct ev_field pause_fields[] = {
	/* 0 */ { "reason", EV_STRING, 0, "why recording paused" },
	/* 1 */ { "until", EV_STRING, 0,
		  "RFC 3339 time at which recording resumes by itself" },
	/* 2 */ { "by", EV_STRING, 0, "who or what paused it" },
};

static const struct ev_field resume_fields[] = {
	/* 0 */ { "reason", EV_STRING, 0, "why recording resumed" },
	/* 1 */ { "by", EV_STRING, 0, "who or what resumed it" },
};

/*
 * One edit of a document, whatever its origin (DESIGN.md, "Event model").
 * Positions and lengths count Unicode code points in the state before the
 * operation. The order puts identity (doc, part, seq, actor) first, then
 * the operation and its arguments, then context; it is the format now.
 */
static const struct ev_field edit_fields[] = {
	/* 0 */ { "doc", EV_STRING, 1, "document id" },
	/* 1 */ { "part", EV_STRING, 0,
		  "part of the document: file path, notebook cell id, tab" },
	/* 2 */ { "seq", EV_INT, 1,
		  "per-document sequence number, from 0, gapless per source" },
	/* 3 */ { "actor", EV_STRING, 0, "who made the edit" },
	/* 4 */ { "op", EV_STRING, 1,
		  "insert, delete, replace, style, structural, snapshot or "
		  "comment" },
	/* 5 */ { "pos", EV_INT, 0,
		  "position in code points in the state before the op" },
	/* 6 */ { "len", EV_INT, 0, "number of code points deleted or replaced" },
	/* 7 */ { "ins", EV_STRING, 0, "inserted text" },
	/* 8 */ { "del", EV_STRING, 0, "deleted text; len code points long" },
	/* 9 */ { "text", EV_STRING, 0, "the full text, for a snapshot" },
	/* 10 */ { "group", EV_STRING, 0, "undo group, commit or changeset" },
	/* 11 */ { "native", EV_ANY, 0, "the source's verbatim native op" },
	/* 12 */ { "detail", EV_OBJECT, 0,
		   "for style, structural and comment ops, e.g. "
		   "{\"action\":\"move\",\"from\":3,\"to\":5}" },
	/* 13 */ { "path", EV_STRING, 0,
		   "for a file, its path relative to the stream's root" },
};

static int check_pause(const json_t *data, struct buf *why)
{
	const json_t *until = json_object_get(data, "until");
	int64_t ns;

	/* An embedded NUL would hide the rest of the string from the parser. */
	if (until && (strlen(json_string_value(until)) !=
			      json_string_length(until) ||
		      lt_time_parse_rfc3339(json_string_value(until), &ns) < 0)) {
		buf_addstr(why, "data.until: not an RFC 3339 time such as "
				"2026-11-26T19:00:00Z");
		return LT_EINVAL;
	}
	return 0;
}

static const char *const edit_ops[] = {
	"insert", "delete", "replace", "style", "structural", "snapshot",
	"comment",
};

/* For each op, the fields it cannot do without besides doc, seq, op. */
static const char *const edit_needs[][3] = {
	{ "pos", "ins", NULL },		/* insert */
	{ "pos", "len", NULL },		/* delete */
	{ "pos", "len", "ins" },	/* replace */
	{ NULL },			/* style */
	{ NULL },			/* structural */
	{ "text", NULL },		/* snapshot */
	{ NULL },			/* comment */
};

static int check_nonneg(const json_t *data, const char *name, struct buf *why)
{
	const json_t *v = json_object_get(data, name);

	if (v && json_integer_value(v) < 0) {
		buf_addf(why, "data.%s: must not be negative", name);
		return LT_EINVAL;
	}
	return 0;
}

static int check_edit(const json_t *data, struct buf *why)
{
	const json_t *opv = json_object_get(data, "op");
	const char *op = json_string_value(opv);
	const json_t *del = json_object_get(data, "del");
	const json_t *len = json_object_get(data, "len");
	size_t i;

	if (check_nonneg(data, "seq", why) || check_nonneg(data, "pos", why) ||
	    check_nonneg(data, "len", why))
		return LT_EINVAL;
	for (i = 0; i < NFIELDS(edit_ops); i++) {
		if (strlen(edit_ops[i]) == json_string_length(opv) &&
		    !memcmp(op, edit_ops[i], json_string_length(opv)))
			break;
	}
	if (i == NFIELDS(edit_ops)) {
		buf_addf(why, "data.op: unknown op '%.32s' (expected insert, "
			      "delete, replace, style, structural, snapshot or "
			      "comment)", op);
		return LT_EINVAL;
	}
	for (const char *const *need = edit_needs[i]; *need; need++) {
		if (!json_object_get(data, *need)) {
			buf_addf(why, "data.%s: required for op '%s'", *need, op);
			return LT_EINVAL;
		}
	}
	if (del) {
		long long n = ev_utf8_count(json_string_value(del),
					    json_string_length(del));
		if (!len) {
			buf_addstr(why, "data.len: required when data.del is given");
			return LT_EINVAL;
		}
		if (n != json_integer_value(len)) {
			buf_addf(why, "data.del: is %lld code points long but "
				      "data.len is %lld", n,
				 (long long)json_integer_value(len));
			return LT_EINVAL;
		}
	}
	return 0;
}

/*
 * Binary and large files as content-defined chunks (doc/files-source.md,
 * "Binary and large files"): each distinct chunk once as fs.chunk, then
 * per version of a file one fs.blob that lists its chunks in order.
 */
static const struct ev_field chunk_fields[] = {
	/* 0 */ { "hash", EV_STRING, 1,
		  "keyed BLAKE2b-256 of the data, 64 lowercase hex digits" },
	/* 1 */ { "data", EV_BYTES, 1, "the chunk's bytes" },
};

static const struct ev_field blob_fields[] = {
	/* 0 */ { "doc", EV_STRING, 1, "document id" },
	/* 1 */ { "path", EV_STRING, 0,
		  "the file's path relative to the stream's root" },
	/* 2 */ { "seq", EV_INT, 1,
		  "per-document sequence number, shared with edit.op" },
	/* 3 */ { "group", EV_STRING, 0, "the save this version belongs to" },
	/* 4 */ { "actor", EV_STRING, 0, "who saved the file" },
	/* 5 */ { "size", EV_INT, 1, "the file's size in bytes" },
	/* 6 */ { "chunks", EV_ARRAY, 1,
		  "the hashes of the file's chunks (fs.chunk), in order" },
};

static int is_hash(const json_t *v)
{
	const char *s = json_string_value(v);

	if (!s || json_string_length(v) != 64)
		return 0;
	for (size_t i = 0; i < 64; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

static int check_chunk(const json_t *data, struct buf *why)
{
	if (!is_hash(json_object_get(data, "hash"))) {
		buf_addstr(why, "data.hash: must be 64 lowercase hex digits");
		return LT_EINVAL;
	}
	return 0;
}

static int check_blob(const json_t *data, struct buf *why)
{
	const json_t *chunks = json_object_get(data, "chunks"), *h;
	size_t i;

	if (check_nonneg(data, "seq", why) || check_nonneg(data, "size", why))
		return LT_EINVAL;
	json_array_foreach(chunks, i, h) {
		if (!is_hash(h)) {
			buf_addf(why, "data.chunks[%zu]: must be a chunk hash, "
				      "64 lowercase hex digits", i);
			return LT_EINVAL;
		}
	}
	return 0;
}

/*
 * Terminal sessions (labtape shell, labtape import cast): one stream per
 * session, "term:<session>". Output and input are raw bytes, exactly as
 * they crossed the pseudo-terminal; asciicast export turns them into text.
 */
static const struct ev_field term_start_fields[] = {
	/* 0 */ { "session", EV_STRING, 1, "the session id" },
	/* 1 */ { "cols", EV_INT, 1, "terminal width in columns" },
	/* 2 */ { "rows", EV_INT, 1, "terminal height in rows" },
	/* 3 */ { "command", EV_ARRAY, 0, "the command run, as argv" },
	/* 4 */ { "cwd", EV_STRING, 0, "the folder it ran in" },
	/* 5 */ { "title", EV_STRING, 0, "the session's title" },
	/* 6 */ { "env", EV_OBJECT, 0,
		  "environment worth keeping: SHELL and TERM only" },
	/* 7 */ { "input", EV_BOOL, 0, "whether keystrokes are recorded" },
};

static const struct ev_field term_io_fields[] = {
	/* 0 */ { "session", EV_STRING, 1, "the session id" },
	/* 1 */ { "data", EV_BYTES, 1, "the bytes, as they were" },
};

static const struct ev_field term_resize_fields[] = {
	/* 0 */ { "session", EV_STRING, 1, "the session id" },
	/* 1 */ { "cols", EV_INT, 1, "new width in columns" },
	/* 2 */ { "rows", EV_INT, 1, "new height in rows" },
};

static const struct ev_field term_end_fields[] = {
	/* 0 */ { "session", EV_STRING, 1, "the session id" },
	/* 1 */ { "status", EV_INT, 0, "the command's exit status" },
	/* 2 */ { "signal", EV_INT, 0, "the signal that ended it, if any" },
};

/*
 * Imports (doc/imports.md). A comment on a document, from Google Docs'
 * comments or a published post's thread: every action on a comment is
 * one event, so a thread's history (replies, resolve, reopen) is kept.
 */
static const struct ev_field comment_fields[] = {
	/* 0 */ { "doc", EV_STRING, 1, "the document commented on" },
	/* 1 */ { "id", EV_STRING, 1,
		  "the comment's id at its source (a reply's own id)" },
	/* 2 */ { "action", EV_STRING, 1,
		  "add, reply, edit, resolve, reopen or delete" },
	/* 3 */ { "parent", EV_STRING, 0,
		  "for a reply and actions on it, the comment it answers" },
	/* 4 */ { "actor", EV_STRING, 0, "who wrote or acted" },
	/* 5 */ { "text", EV_STRING, 0, "what was written" },
	/* 6 */ { "quote", EV_STRING, 0,
		  "the document text the comment is anchored to" },
	/* 7 */ { "anchor", EV_ANY, 0, "the source's anchor, verbatim" },
	/* 8 */ { "native", EV_ANY, 0, "the source's verbatim record" },
};

static const char *const comment_actions[] = {
	"add", "reply", "edit", "resolve", "reopen", "delete",
};

static int check_comment(const json_t *data, struct buf *why)
{
	const json_t *a = json_object_get(data, "action");

	for (size_t i = 0; i < NFIELDS(comment_actions); i++) {
		if (strlen(comment_actions[i]) == json_string_length(a) &&
		    !memcmp(json_string_value(a), comment_actions[i],
			    json_string_length(a)))
			return 0;
	}
	buf_addf(why, "data.action: unknown action '%.32s' (expected add, "
		      "reply, edit, resolve, reopen or delete)",
		 json_string_value(a));
	return LT_EINVAL;
}

/* A chat message, a mail or a published post's text (imports). */
static const struct ev_field msg_fields[] = {
	/* 0 */ { "id", EV_STRING, 1,
		  "the message's id at its source: Slack channel and ts, "
		  "Message-ID, URL" },
	/* 1 */ { "thread", EV_STRING, 0, "the id of the thread's first message" },
	/* 2 */ { "reply_to", EV_STRING, 0, "the id of the message it answers" },
	/* 3 */ { "channel", EV_STRING, 0, "channel, mail folder or site" },
	/* 4 */ { "from", EV_STRING, 0, "who sent it: name, address or user id" },
	/* 5 */ { "to", EV_ARRAY, 0, "recipients, as strings" },
	/* 6 */ { "subject", EV_STRING, 0, "subject or title" },
	/* 7 */ { "text", EV_STRING, 1, "the body as text" },
	/* 8 */ { "format", EV_STRING, 0,
		  "how text is written: plain (the default), markdown or html" },
	/* 9 */ { "files", EV_ARRAY, 0,
		  "attachments, as objects: name, type, size, and url or "
		  "chunks (fs.chunk hashes) and doc (their fs.blob's)" },
	/* 10 */ { "edited", EV_STRING, 0,
		   "RFC 3339 time of the edit this version is, if edited" },
	/* 11 */ { "source", EV_STRING, 0, "slack, mail or posts" },
	/* 12 */ { "cc", EV_ARRAY, 0, "further recipients, as strings" },
	/* 13 */ { "native", EV_ANY, 0, "the source's verbatim record" },
};

/*
 * The ledger of an import (doc/imports.md): one per unit imported (a
 * commit, a revision, a message), in the stream the unit went into, so
 * that importing it again adds nothing and sequence numbers go on.
 */
static const struct ev_field import_unit_fields[] = {
	/* 0 */ { "unit", EV_STRING, 1, "the unit's key at its source" },
	/* 1 */ { "seqs", EV_OBJECT, 0,
		  "for each document the unit edited, its next sequence number" },
	/* 2 */ { "source", EV_STRING, 0, "the importer: git, gdocs, ..." },
	/* 3 */ { "after", EV_STRING, 0,
		  "the unit this one continues (a commit's first parent), if "
		  "that was imported first" },
	/* 4 */ { "native", EV_ANY, 0,
		  "the source's verbatim record of the unit (a commit's header)" },
};

/* Sorted by name. */
static const struct ev_kind kinds[] = {
	{ "control.pause", "recording paused", pause_fields,
	  NFIELDS(pause_fields), check_pause },
	{ "control.resume", "recording resumed", resume_fields,
	  NFIELDS(resume_fields), NULL },
	{ "doc.comment", "an action on a comment on a document (imports)",
	  comment_fields, NFIELDS(comment_fields), check_comment },
	{ "edit.op", "one edit of a document, in the canonical record",
	  edit_fields, NFIELDS(edit_fields), check_edit },
	{ "fs.blob", "one version of a binary or large file, as its chunks",
	  blob_fields, NFIELDS(blob_fields), check_blob },
	{ "fs.chunk", "a content-defined chunk of a file, stored once",
	  chunk_fields, NFIELDS(chunk_fields), check_chunk },
	{ "import.unit", "a unit (commit, revision, message) was imported",
	  import_unit_fields, NFIELDS(import_unit_fields), NULL },
	{ "marker", "a point in time the researcher marked", marker_fields,
	  NFIELDS(marker_fields), NULL },
	{ "msg.message", "a chat message, mail or post (imports)",
	  msg_fields, NFIELDS(msg_fields), NULL },
	{ "note", "a free-text note by the researcher", note_fields,
	  NFIELDS(note_fields), NULL },
	{ "term.end", "a terminal session ended", term_end_fields,
	  NFIELDS(term_end_fields), NULL },
	{ "term.in", "keystrokes typed into a terminal session (opt-in)",
	  term_io_fields, NFIELDS(term_io_fields), NULL },
	{ "term.out", "what a terminal session printed", term_io_fields,
	  NFIELDS(term_io_fields), NULL },
	{ "term.resize", "a terminal session's window was resized",
	  term_resize_fields, NFIELDS(term_resize_fields), NULL },
	{ "term.start", "a terminal session started", term_start_fields,
	  NFIELDS(term_start_fields), NULL },
};

const struct ev_kind *ev_kinds(size_t *n)
{
	*n = NFIELDS(kinds);
	return kinds;
}

const struct ev_kind *ev_kind_find(const char *name)
{
	size_t lo = 0, hi = NFIELDS(kinds);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, kinds[mid].name);
		if (!c)
			return &kinds[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Names of the field types, bare and with an article, by enum ev_type. */
static const char *const type_bare[] = {
	"value", "string", "integer", "boolean", "number", "object", "array",
	"bytes",
};
static const char *const type_a[] = {
	"any value", "a string", "an integer", "a boolean", "a number",
	"an object", "an array", "bytes (a base64 string)",
};

const char *ev_json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a real";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "?";
}

static int type_ok(enum ev_type t, const json_t *v)
{
	switch (t) {
	case EV_ANY: return 1;
	case EV_STRING: return json_is_string(v);
	case EV_INT: return json_is_integer(v);
	case EV_BOOL: return json_is_boolean(v);
	case EV_NUMBER: return json_is_number(v);
	case EV_OBJECT: return json_is_object(v);
	case EV_ARRAY: return json_is_array(v);
	case EV_BYTES: return json_is_string(v);
	}
	return 0;
}

int ev_validate(const struct ev_kind *k, const json_t *data, struct buf *why)
{
	if (!json_is_object(data)) {
		buf_addf(why, "data: must be an object, not %s",
			 data ? ev_json_type_name(data) : "nothing");
		return LT_EINVAL;
	}
	for (size_t i = 0; i < k->nfields; i++) {
		const struct ev_field *f = &k->fields[i];
		const json_t *v = json_object_get(data, f->name);

		if (!v && f->required) {
			buf_addf(why, "data.%s: required %s is missing", f->name,
				 type_bare[f->type]);
			return LT_EINVAL;
		}
		if (v && !type_ok(f->type, v)) {
			buf_addf(why, "data.%s: must be %s, not %s", f->name,
				 type_a[f->type], ev_json_type_name(v));
			return LT_EINVAL;
		}
		/* Only jansson's *_nocheck constructors make bad strings. */
		if (v && json_is_string(v) &&
		    ev_utf8_count(json_string_value(v), json_string_length(v)) < 0) {
			buf_addf(why, "data.%s: not valid UTF-8", f->name);
			return LT_EINVAL;
		}
		if (v && f->type == EV_BYTES &&
		    ev_base64_check(json_string_value(v),
				    json_string_length(v)) < 0) {
			buf_addf(why, "data.%s: not canonical base64 (standard "
				      "alphabet, '=' padding, no spaces)", f->name);
			return LT_EINVAL;
		}
	}
	return k->check ? k->check(data, why) : 0;
}
