#ifndef LABTAPE_TEXT_H
#define LABTAPE_TEXT_H

/*
 * Text: UTF-8 helpers, and the diff that turns one saved version of a
 * document into the next as character-level edits in the canonical edit
 * record (DESIGN.md, "Event model"): positions and lengths count Unicode
 * code points in the state before each edit.
 *
 *	struct text_edits e = TEXT_EDITS_INIT;
 *	if (text_diff(old, oldlen, new, newlen, NULL, &e) < 0)
 *		return ...;                          lt_errmsg() says why
 *	for (size_t i = 0; i < e.n; i++)
 *		record(text_op_name(e.v[i].op), e.v[i].pos, e.v[i].len,
 *		       e.v[i].ins, e.v[i].ins_len, e.v[i].del, e.v[i].del_len);
 *	text_edits_release(&e);
 *
 * Everything here is pure computation on memory: no I/O, no globals, safe
 * to call from several threads on different data.
 */

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* -- UTF-8 -------------------------------------------------------------- */

/*
 * Checks that s[0..n) is strict UTF-8 (RFC 3629): no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
 * sequence. Returns n if it is, else the byte offset where the first
 * invalid sequence starts. U+0000 is valid.
 */
size_t text_utf8_check(const char *s, size_t n);

/* The number of code points in valid UTF-8 s[0..n). (On invalid input:
 * the number of bytes that are not continuation bytes.) */
uint64_t text_utf8_count(const char *s, size_t n);

/*
 * The byte offset at which code point number cp (from 0) of valid UTF-8
 * s[0..n) starts: n if cp is the number of code points in s (the end),
 * SIZE_MAX if cp is past the end.
 */
size_t text_utf8_offset(const char *s, size_t n, uint64_t cp);

/* Decodes valid UTF-8 s[0..n) into out, which must have room for
 * text_utf8_count(s, n) code points; returns how many were written. */
size_t text_utf8_decode(const char *s, size_t n, uint32_t *out);

/* -- Edits -------------------------------------------------------------- */

enum text_op {
	TEXT_INSERT = 1,	/* ins at pos; len 0, del empty */
	TEXT_DELETE,		/* del (len code points) at pos; ins empty */
	TEXT_REPLACE,		/* del at pos replaced by ins; both non-empty */
};

/* "insert", "delete" or "replace": the op names of the edit.op kind. */
const char *text_op_name(enum text_op op);

/*
 * One edit. pos and len count code points in the document as it is just
 * before this edit; len is the length of del in code points. ins and del
 * are UTF-8, NUL-terminated for convenience (they may contain U+0000
 * themselves, so use the lengths) and never NULL.
 */
struct text_edit {
	enum text_op op;
	uint64_t pos;
	uint64_t len;
	const char *ins;
	size_t ins_len;
	const char *del;
	size_t del_len;
};

/*
 * A list of edits to apply in order, each one seeing the result of those
 * before it. The list owns everything: v is its array, and arena holds
 * the bytes every v[i].ins and v[i].del point into, so those pointers are
 * valid until text_edits_release() or the next text_diff() into the list.
 * coarse is set when text_diff() ran out of its work budget and replaced
 * some stretch whole instead of finding its smallest change; the edits are
 * still exact.
 */
struct text_edits {
	struct text_edit *v;
	size_t n;
	size_t alloc;
	struct buf arena;
	int coarse;
};
#define TEXT_EDITS_INIT { NULL, 0, 0, BUF_INIT, 0 }

void text_edits_init(struct text_edits *e);
/* Frees what the list owns (not e itself) and reinitialises it. */
void text_edits_release(struct text_edits *e);

/* Tuning for text_diff(); pass NULL for the defaults. */
struct text_diff_opts {
	/*
	 * How much search text_diff() may do, in steps of its inner loops
	 * (0: TEXT_DIFF_WORK, which keeps the worst diff of a few MB to a
	 * few tenths of a second). When it is spent, what is left is
	 * diffed coarsely (and out->coarse is set).
	 */
	uint64_t max_work;
};
#define TEXT_DIFF_WORK (UINT64_C(1) << 25)

/*
 * Computes edits that turn a[0..alen) into b[0..blen), replacing what out
 * held (out must be initialised). Both texts must be valid UTF-8; if one
 * is not, returns LT_EINVAL (out left empty) with a message naming the
 * byte offset. A text of length 0 may be NULL. Identical texts give no
 * edits.
 *
 * The edits are in document order and do not touch each other: between
 * two edits lies text common to a and b. Because earlier edits are applied
 * first, each edit's pos is also where its ins starts in b. The changes
 * are found line by line first, then code point by code point within the
 * changed lines, so a one-character change in a long line is a
 * one-code-point edit. Close small changes separated by a sliver of common
 * text (the 'e' of two unrelated words) are merged into one replace.
 */
int text_diff(const char *a, size_t alen, const char *b, size_t blen,
	      const struct text_diff_opts *opts, struct text_edits *out);

/*
 * Applies one edit to the text in doc (valid UTF-8). Checks that pos is
 * inside doc, that the text at pos is e->del, that len matches del, that
 * the op fits the texts (insert: only ins; delete: only del; replace:
 * both) and that ins and del are valid UTF-8; if not, returns LT_ECORRUPT
 * and leaves doc as it was. LT_ETOOBIG if doc's cap is in the way.
 */
int text_apply(struct buf *doc, const struct text_edit *e);

/* -- Replay ------------------------------------------------------------- */

/*
 * Rebuilding a version fast: start from the nearest snapshot and apply the
 * edits recorded after it, on a piece table rather than a flat buffer, so
 * that each edit costs O(pieces) plus the length of one piece instead of a
 * code point scan and a memmove of the whole text (replay.c says how).
 * Used by `labtape history` and the exports.
 *
 *	struct text_replay r = TEXT_REPLAY_INIT;
 *	text_replay_reset(&r, snap, snap_len);    snap must outlive the replay
 *	for (each edit e recorded after the snapshot)
 *		if ((err = text_replay_apply(&r, &e)) < 0)
 *			...                          lt_errmsg() says why
 *	text_replay_get(&r, &out);                appends the text to out
 *	text_replay_release(&r);
 *
 * r.bytes and r.cps are the text's current length in bytes and in code
 * points (read them; do not change them or the other fields).
 */
struct text_piece {
	size_t off;		/* in the base text, or in adds when add is set */
	size_t bytes;
	uint64_t cps;
	int add;
};

struct text_replay {
	const char *base;	/* the snapshot (not owned), or own.data */
	struct buf own;		/* the base after a compaction */
	struct buf adds;	/* every inserted text, end to end */
	struct text_piece *v;	/* the pieces, in text order */
	size_t n, alloc;
	size_t cur;		/* a cursor: a piece index, */
	uint64_t cur_cp;	/* and the code point it starts at */
	size_t bytes;
	uint64_t cps;
};
#define TEXT_REPLAY_INIT                                                       \
	{ "", BUF_INIT, BUF_INIT, NULL, 0, 0, 0, 0, 0, 0 }

void text_replay_init(struct text_replay *r);
/* Frees what the replay owns (not r itself) and reinitialises it. */
void text_replay_release(struct text_replay *r);

/*
 * Starts over from text[0..n): a snapshot. It must be valid UTF-8 (every
 * string decoded from an event is), which is not checked again here: on
 * 100 KB the check would cost more than the whole replay. (Invalid text
 * gives wrong results, never reads out of bounds.) The text is not copied:
 * it must stay valid and unchanged until the next reset or the release.
 */
void text_replay_reset(struct text_replay *r, const char *text, size_t n);

/*
 * Applies one edit, exactly as text_apply() would, with the same checks:
 * LT_ECORRUPT, and the text left as it was, if the edit does not fit it.
 * One addition: e->del may be NULL for a record that did not keep the
 * deleted text; then len code points are deleted without a check.
 */
int text_replay_apply(struct text_replay *r, const struct text_edit *e);

/* Appends the current text (r->bytes bytes) to out. LT_ETOOBIG if out's cap
 * is in the way. */
int text_replay_get(const struct text_replay *r, struct buf *out);

#endif
