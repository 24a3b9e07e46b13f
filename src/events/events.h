#ifndef LABTAPE_EVENTS_H
#define LABTAPE_EVENTS_H

/*
 * The event model: a registry of event kinds, each with a compact binary
 * encoding (what the vault stores as a record's payload) and one canonical
 * JSON form (what export and `labtape log --json` print):
 *
 *   {"t":"2026-11-26T19:00:00.123456789Z","stream":"fs:~/papers",
 *    "kind":"note","data":{"text":"..."}}
 *
 * The vault knows nothing of this layer: it stores (time, kind name,
 * payload bytes) per stream. This layer turns payload bytes into JSON and
 * back, and checks that data fits its kind.
 *
 * Binary payload encoding (doc/format.md, "Event payloads"):
 *   value  := tag:u8 body
 *     tag 0 null, 1 false, 2 true
 *     tag 3 integer      body: zigzag LEB128 varint
 *     tag 4 real         body: IEEE 754 binary64, little-endian
 *     tag 5 string       body: uvarint length, UTF-8 bytes
 *     tag 6 array        body: uvarint count, count values
 *     tag 7 object       body: uvarint count, count (key value) pairs
 *     tag 8 bytes        body: uvarint length, raw bytes; only as the value
 *                        of a top-level field of type EV_BYTES
 *   key    := uvarint k; k odd: field number k>>1 of the kind's registry
 *             entry; k even: a literal name of k>>1 bytes follows
 *   payload := value (always an object for registered kinds)
 *
 * A bytes field's JSON form is a base64 string (standard alphabet, with
 * padding, nothing else); the encoder turns it into tag 8, the decoder back.
 *
 * Field numbers are part of the format: a kind's fields may be added at the
 * end of its table but never reordered or removed.
 */

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"

enum ev_type {
	EV_ANY,		/* any JSON value */
	EV_STRING,
	EV_INT,
	EV_BOOL,
	EV_NUMBER,	/* integer or real */
	EV_OBJECT,
	EV_ARRAY,
	EV_BYTES,	/* binary data; in JSON a canonical base64 string */
};

struct ev_field {
	const char *name;
	enum ev_type type;
	int required;
	const char *doc;
};

struct ev_kind {
	const char *name;
	const char *doc;
	const struct ev_field *fields;
	size_t nfields;
	/* Extra checks beyond field types; NULL if none. On failure appends
	 * a reason to why and returns LT_EINVAL. */
	int (*check)(const json_t *data, struct buf *why);
};

/* The registered kind with this name, or NULL. */
const struct ev_kind *ev_kind_find(const char *name);
/* All registered kinds, in name order; *n receives the count. */
const struct ev_kind *ev_kinds(size_t *n);

/*
 * Checks data (a JSON object) against kind k: required fields present,
 * types right, the kind's own check. Unknown fields are allowed and kept.
 * On failure appends a reason such as "data.text: required string is
 * missing" to why and returns LT_EINVAL.
 */
int ev_validate(const struct ev_kind *k, const json_t *data, struct buf *why);

/*
 * Encodes data (any JSON value; an object for registered kinds) as a
 * payload, appending to out. k may be NULL (no field numbers are used).
 * A string in a top-level EV_BYTES field of k is written as the bytes it
 * encodes; if it is not canonical base64, returns LT_EINVAL naming the
 * field. On failure out is left as it was.
 */
int ev_encode(const struct ev_kind *k, const json_t *data, struct buf *out);

/*
 * Decodes a payload into a new JSON value (*out, caller json_decref()s it).
 * k must be the kind the payload was encoded with (NULL if none). Never
 * reads outside [p, p+n); malformed input returns LT_ECORRUPT with a
 * message naming the byte offset. Nesting deeper than 64 is refused.
 */
int ev_decode(const struct ev_kind *k, const uint8_t *p, size_t n,
	      json_t **out);

/*
 * Appends the payload of a term.out or term.in event, {"session":
 * session, "data": the n bytes at data}, byte for byte what ev_encode
 * writes for the same event in JSON (data base64-encoded), but without
 * the JSON and base64 detour: for the terminal recorder's hot path.
 * session is a NUL-terminated UTF-8 string. 0 or LT_ETOOBIG (out's cap).
 */
int ev_encode_term_io(struct buf *out, const char *session, const void *data,
		      size_t n);
/* The bytes of a bytes field's JSON form v (a base64 string), in memory
 * the caller free()s, their number in *len; NULL if v is not a string of
 * base64. */
uint8_t *ev_bytes_decode(const json_t *v, size_t *len);

/* The same for fs.chunk: {"hash": hash (64 hex digits), "data": the n
 * bytes at data}. The caller vouches for the hash's form. */
int ev_encode_chunk(struct buf *out, const char *hash, const void *data,
		    size_t n);

/*
 * An edit.op of plain text, encoded directly (the files source's hot
 * path): the payload decodes to the same JSON as ev_encode of the object
 * with these fields. Strings are NUL-terminated except ins, del and text
 * (which may hold U+0000); NULL leaves a field out. LT_EINVAL if doc or op
 * is missing or a string is not valid UTF-8.
 */
struct ev_edit {
	const char *doc, *part, *actor, *op, *group, *path;
	int64_t seq, pos, len;
	int has_pos, has_len;
	const char *ins, *del, *text;
	size_t ins_len, del_len, text_len;
};
int ev_encode_edit(struct buf *out, const struct ev_edit *e);

/* One event in memory. */
struct event {
	int64_t t;		/* ns since the epoch, UTC */
	char *stream;		/* owned; may be NULL if not given */
	char *kind;		/* owned */
	json_t *data;		/* owned reference */
};
#define EVENT_INIT { 0, NULL, NULL, NULL }
void event_release(struct event *e);

/*
 * Parses one JSONL line of `labtape append` input into e: an object with
 * "kind" (a registered kind), "data" (an object valid for that kind),
 * optional "t" (RFC 3339 string; default now_ns) and optional "stream"
 * (must equal default_stream if given). Duplicate keys and unknown
 * top-level keys are refused. On failure returns LT_EINVAL with
 * lt_errmsg() saying what is wrong and, for JSON syntax errors, at which
 * column, e.g. "column 17: '}' expected near 'x'".
 */
int ev_parse_line(const char *line, size_t n, int64_t now_ns,
		  const char *default_stream, struct event *e);

/*
 * Appends the canonical JSON form of one event to out, without a newline:
 * keys "t", "stream", "kind", "data" in that order, no whitespace, "data"
 * with its keys sorted, strings escaped as jansson does with
 * JSON_ENSURE_ASCII off. Same input, same bytes.
 */
int ev_to_json(int64_t t, const char *stream, const char *kind,
	       const json_t *data, struct buf *out);

/* Appends a one-line human rendering, e.g.
 *   2026-11-26 19:00:00.123  fs:~/papers  note  remember to ...
 * Long or multi-line text is shortened to fit width columns (0: no limit). */
void ev_format_human(int64_t t, const char *stream, const char *kind,
		     const json_t *data, int width, struct buf *out);
/* Appends recorded text s[0..n) as ev_format_human shows it: safe to
 * print on a terminal and on one line (controls and invalid UTF-8 become
 * U+FFFD, newlines a return symbol), within width columns (0: no limit).
 * For titles, commands and other recorded strings in listings. */
void ev_format_text(const char *s, size_t n, int width, struct buf *out);

#endif
