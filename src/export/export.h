#ifndef LABTAPE_EXPORT_H
#define LABTAPE_EXPORT_H

/*
 * Dataset formats, one file each. Everything here is pure computation on
 * memory: no vault, no I/O. The CLI reads the vault and feeds these.
 *
 * asciicast v2 (asciicast.c), the asciinema format; the specification is
 * asciinema/docs, docs/manual/asciicast/v2.md, and doc/exports.md says how
 * terminal sessions map onto it. Writing:
 *
 *	struct buf out = BUF_INIT;
 *	struct cast_writer w;
 *	cast_writer_init(&w, &out);
 *	cast_write_header(&w, &header);
 *	cast_write_bytes(&w, t, 'o', bytes, n);     raw pty output, any bytes
 *	cast_write_resize(&w, t, 100, 50);
 *	cast_writer_finish(&w);
 *	fwrite(out.data, 1, out.len, f);           (and buf_reset() between
 *	buf_release(&out);                          calls to stream it)
 *
 * Reading: cast_parse() checks a whole file in memory and hands the
 * header and each event to callbacks.
 */

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The header line. Strings are UTF-8, NULL when absent. */
struct cast_header {
	long long width, height;	/* columns and rows, 0..65535 */
	int has_timestamp;
	int64_t timestamp;		/* Unix seconds of the start */
	const char *command;		/* as given to `asciinema rec -c` */
	const char *title;
	const char *shell, *term;	/* env SHELL and TERM */
	int version;			/* read: 2 or 3; written: always 2 */
};

/* ---- Writing -------------------------------------------------------- */

/*
 * Times are ns since the start of the recording. They never decrease in
 * the output: an event given an earlier time than one already written
 * (or a negative one) is written at that latest time.
 *
 * Output and input are raw bytes: a UTF-8 sequence split between two
 * chunks is carried over to the next event of the same code, and bytes
 * that are not UTF-8 become U+FFFD, one per maximal ill-formed subpart
 * (Unicode's "best practice", which is what Python's errors="replace",
 * and so asciinema's own recorder, does). Events whose text comes out
 * empty are not written. The output is valid UTF-8 JSON, one line each,
 * control characters escaped as \u and four hex digits.
 */
struct cast_writer {
	struct buf *out;	/* not owned; lines are appended to it */
	uint8_t carry[2][4];	/* incomplete UTF-8 tails of 'o' and 'i' */
	size_t ncarry[2];
	int64_t now;		/* the latest time written */
};

void cast_writer_init(struct cast_writer *w, struct buf *out);
/* {"version": 2, "width": W, "height": H, "timestamp": T, "command": C,
 *  "title": T, "env": {"SHELL": S, "TERM": T}}; absent fields left out. */
void cast_write_header(struct cast_writer *w, const struct cast_header *h);
/* code is 'o' (output) or 'i' (input). */
void cast_write_bytes(struct cast_writer *w, int64_t t, char code,
		      const void *p, size_t n);
/* [t, "r", "COLSxROWS"] */
void cast_write_resize(struct cast_writer *w, int64_t t, long long cols,
		       long long rows);
/* [t, "m", label]; label may be empty. */
void cast_write_marker(struct cast_writer *w, int64_t t, const char *label,
		       size_t n);
/* Writes what is left of incomplete UTF-8 tails (as U+FFFD) at the
 * latest time written. Call once, after the last event. */
void cast_writer_finish(struct cast_writer *w);

/* ---- Reading -------------------------------------------------------- */

/* Largest time of an event, in seconds (about 31 years), and largest
 * header timestamp: their sum in ns fits an int64_t. */
#define CAST_MAX_TIME 1e9
#define CAST_MAX_TIMESTAMP 8e9

struct cast_event {
	size_t line;		/* 1-based line number in the file */
	int64_t t;		/* ns since the start */
	char code;		/* 'o', 'i', 'r', 'm', or 'x' (v3 only) */
	const char *data;	/* UTF-8, may hold U+0000; valid during the
				   callback only */
	size_t len;
	long long cols, rows;	/* for 'r' */
	int status;		/* for 'x': the command's exit status */
};

struct cast_parse_ops {
	/* Each returns 0, or a negative code (with lt_error()) that stops
	 * the parse and is returned by cast_parse(). Either may be NULL. */
	int (*header)(void *ctx, const struct cast_header *h);
	int (*event)(void *ctx, const struct cast_event *e);
};

struct cast_parse_stats {
	size_t events;		/* events passed to ops->event */
	size_t skipped;		/* events with codes other than o, i, r, m
				   (and x in v3) */
	size_t first_skipped;	/* line of the first of those, 0 if none */
};

/*
 * Parses asciicast v2 or v3 p[0..n) (v1 is refused): a header line, then
 * one event array a line. v2: [time, code, data], times in seconds since
 * the start, never decreasing; v3: [interval, code, data], seconds since
 * the previous event, the header's size in "term", lines starting with
 * "#" after the header ignored, and "x" events (the exit status). Times
 * reach ops->event as ns since the start either way. Lines end with "\n";
 * the last one may lack it; blank lines are refused; a UTF-8 byte order
 * mark before the header is skipped. Events with unknown codes are
 * skipped and counted (the specifications say to ignore them). On
 * malformed input returns LT_EINVAL with a message like
 *   x.cast: line 7: expected [time, code, data] (see the asciicast v2 format)
 * where name is the file's name for messages. st may be NULL.
 */
int cast_parse(const char *name, const void *p, size_t n,
	       const struct cast_parse_ops *ops, void *ctx,
	       struct cast_parse_stats *st);

#endif
