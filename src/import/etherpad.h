#ifndef LABTAPE_ETHERPAD_H
#define LABTAPE_ETHERPAD_H

/*
 * Etherpad's history (doc/imports.md, "etherpad"): easysync changesets
 * and the ".etherpad" export that holds them. No vault here: the
 * importer (src/cli/import-etherpad.c) and the fuzz target drive it.
 *
 * A changeset (Etherpad's Changeset.js, doc/easysync):
 *
 *	Z:<old length> (">" | "<") <length change> <ops> ["$" <char bank>]
 *	op := ("*" <attribute number>)* ["|" <newlines>] ("=" | "-" | "+") <chars>
 *
 * numbers in base 36 (0-9, a-z). Lengths count UTF-16 code units, as
 * JavaScript strings do: a character outside the BMP (an emoji) counts
 * two. What lies past the last op is kept.
 */

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"

/* The text of a pad before its revision 0 (Pad.init in Etherpad). */
#define ETHERPAD_BASE_TEXT "\n"

struct easysync_op {
	char opcode;		/* '=', '-' or '+' */
	uint64_t chars;		/* UTF-16 code units */
	uint64_t lines;		/* newlines among them */
	size_t attribs;		/* offset of "*0*1..." in the changeset */
	size_t attribs_len;	/* 0: no attributes */
};

struct easysync_cs {
	uint64_t old_len, new_len;	/* UTF-16 code units */
	struct easysync_op *ops;
	size_t nops, alloc;
	const char *bank;		/* the char bank: UTF-8, in the changeset */
	size_t bank_len;
};

void easysync_init(struct easysync_cs *cs);
void easysync_release(struct easysync_cs *cs);

/*
 * Parses changeset s[0..n) into cs (its ops point into s, which must
 * outlive it). Checks the grammar and that the ops' lengths add up to
 * the header's; the text they apply to is checked by easysync_apply().
 * On error returns LT_EINVAL with a message such as
 * "at character 7: unexpected 'x' (expected an op: =, - or +)".
 */
int easysync_parse(const char *s, size_t n, struct easysync_cs *cs);

/* A parsed number of base 36, e.g. of an attribute: -1 if s is not one. */
int64_t easysync_num(const char *s, size_t n);

/* A document being replayed: its code points. */
struct easysync_doc {
	uint32_t *cp;
	size_t n, alloc;
	uint64_t units;		/* its length in UTF-16 code units */
	uint32_t *scratch;	/* the next state, built by easysync_apply */
	size_t scratch_alloc;
};

void easysync_doc_init(struct easysync_doc *d);
void easysync_doc_release(struct easysync_doc *d);
/* Sets the text to UTF-8 s[0..n); LT_EINVAL if it is not valid UTF-8. */
int easysync_doc_set(struct easysync_doc *d, const char *s, size_t n);
/* Appends the text as UTF-8 to out. */
void easysync_doc_text(const struct easysync_doc *d, struct buf *out);

/*
 * One change a changeset makes, in code points of the text as the
 * changes before it in the same changeset left it (what an edit.op's
 * pos means). Consecutive ops of one kind and the same attributes are
 * one change: "-" ops in a row, "+" ops in a row, "=" ops with
 * attributes in a row. "=" ops without attributes change nothing.
 */
enum easysync_kind {
	EASYSYNC_INSERT = 1,	/* text inserted at pos */
	EASYSYNC_DELETE,	/* text (len code points) deleted at pos */
	EASYSYNC_STYLE,		/* attributes set on len code points at pos */
};

struct easysync_change {
	enum easysync_kind kind;
	uint64_t pos, len;	/* code points */
	const char *text;	/* inserted or deleted text, UTF-8 */
	size_t text_len;
	const char *attribs;	/* "*0*1": the op's attributes, may be "" */
	size_t attribs_len;
};

/* Called for each change in order; a negative return stops the apply. */
typedef int (*easysync_change_fn)(void *ctx,
				  const struct easysync_change *c);

/*
 * Applies changeset cs (parsed from s) to d, calling fn (may be NULL) for
 * each change, and checks what Etherpad's applyToText checks: the old
 * length is d's length, each op's newline count is that of the text it
 * covers. A change cannot split a character outside the BMP (a
 * surrogate pair), which code points cannot say. On error d is as it
 * was (unless fn failed: then d is as it was too, and fn's code is
 * returned) and the message says what is wrong.
 */
int easysync_apply(struct easysync_doc *d, const char *s,
		   const struct easysync_cs *cs, easysync_change_fn fn,
		   void *ctx);

/* -- The .etherpad export ------------------------------------------------ */

struct etherpad;

/* One revision, as etherpad_replay() hands it out. */
struct etherpad_rev {
	uint64_t num;
	const char *key;	/* "pad:NAME:revs:N" */
	const char *changeset;	/* verbatim */
	const char *author;	/* meta.author, NULL if none */
	const char *author_name; /* its globalAuthor name, NULL if none */
	int64_t time_ms;	/* meta.timestamp */
	int has_time;
};

struct etherpad_chat {
	uint64_t num;
	const char *key;	/* "pad:NAME:chat:N" */
	const char *text;
	const char *author;	/* userId / authorId, NULL if none */
	const char *author_name; /* userName, else its globalAuthor name */
	int64_t time_ms;
	int has_time;
};

struct etherpad_ops {
	/* Each returns 0, or a negative code (with lt_error()) that stops
	 * the replay. Any may be NULL. */
	int (*rev_begin)(void *ctx, const struct etherpad_rev *r);
	/* attribs: the change's attributes resolved through the pad's
	 * pool, an array of [key, value] (borrowed), NULL if none. */
	int (*change)(void *ctx, const struct etherpad_rev *r,
		      const struct easysync_change *c, json_t *attribs);
	int (*rev_end)(void *ctx, const struct etherpad_rev *r);
	int (*chat)(void *ctx, const struct etherpad_chat *m);
};

/*
 * Reads a .etherpad export p[0..n) (one JSON object: "pad:NAME" with
 * atext, pool, head and chatHead; "pad:NAME:revs:N" for N in 0..head;
 * "globalAuthor:ID"; "pad:NAME:chat:N"; other keys are ignored). file
 * names it in messages, e.g. "x.etherpad: line 3, column 7: ...". On
 * success *out is freed with etherpad_free().
 */
int etherpad_open(struct etherpad **out, const char *file, const void *p,
		  size_t n);
void etherpad_free(struct etherpad *ep);

/* The pad's name, its head revision and its last chat message's number
 * (-1 if none). */
const char *etherpad_name(const struct etherpad *ep);
uint64_t etherpad_head(const struct etherpad *ep);
int64_t etherpad_chat_head(const struct etherpad *ep);

/*
 * Replays revisions 0..head from ETHERPAD_BASE_TEXT through the callbacks,
 * checking each changeset against the text (its old length, its newline
 * counts, the text of key revisions that carry one) and the final text
 * against the pad's; then hands out the chat messages. Errors name the
 * revision: "x.etherpad: revision 7 (key 'pad:p:revs:7'): ...".
 */
int etherpad_replay(struct etherpad *ep, const struct etherpad_ops *ops,
		    void *ctx);

#endif
