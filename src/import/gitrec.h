#ifndef LABTAPE_GITREC_H
#define LABTAPE_GITREC_H

/*
 * The record a git import leaves in the vault (doc/imports.md, "git"),
 * read back without git: which commits were imported into a stream
 * git:NAME, the line of history each one continues, and the files a
 * commit left. `labtape history git:NAME:PATH --rev C` and the importer
 * (to go on from a commit imported before) both read it.
 *
 *	struct gitrec g = GITREC_INIT;
 *	struct strmap chain = STRMAP_INIT;
 *	struct gitrec_files f = GITREC_FILES_INIT;
 *	size_t c;
 *	gitrec_load(&g, v, "git:labtape");          the ledger
 *	gitrec_find(&g, "3f2a9c", &c);              a commit, maybe abbreviated
 *	gitrec_chain(&g, c, &chain);                its line: commit -> rank
 *	gitrec_files(v, "git:labtape", &chain, &f); each document's state at c
 *
 * A commit's line (its chain) follows the ledger's "after" links back to
 * the unit that started anew (the first commit imported of that line):
 * the events of the commits on it, in rank order, rebuild every file as
 * the commit left it. Events of commits off the line (other branches,
 * earlier imports of older history) are not part of it.
 */

#include <stddef.h>
#include <stdint.h>

#include "strmap.h"
#include "vault.h"

struct gitrec_unit {
	char *id;		/* the commit id, as imported (40 hex digits) */
	char *after;		/* the commit it continues, or NULL */
	int64_t t;		/* its time in the vault */
	int tip;		/* no unit continues it */
};

struct gitrec {
	struct gitrec_unit *u;
	size_t n, alloc;
	struct strmap ids;	/* commit id -> index + 1 */
};
#define GITREC_INIT { NULL, 0, 0, STRMAP_INIT }

/* Reads the import.unit events of stream (v unlocked). 0 units is not an
 * error. Release with gitrec_release(). */
int gitrec_load(struct gitrec *g, struct vault *v, const char *stream);
void gitrec_release(struct gitrec *g);

/* The index of rev: a full commit id or an abbreviation of at least 4 hex
 * digits that only one imported commit starts with. LT_ENOENT or
 * LT_EINVAL (ambiguous, not hex) with a message otherwise. */
int gitrec_find(const struct gitrec *g, const char *rev, size_t *idx);

/* The newest tip (the commit no other continues, latest in time): what
 * the last import of the main line reached. LT_ENOENT if g is empty. */
int gitrec_head(const struct gitrec *g, size_t *idx);

/* Fills chain (empty before) with the commits of idx's line: id ->
 * (void *)rank, from 1 for the one that started anew to the number of
 * commits for idx. Returns that number. */
size_t gitrec_chain(const struct gitrec *g, size_t idx, struct strmap *chain);

/* The rank of group in chain, 0 if group is NULL or not on it. */
uint64_t gitrec_rank(const struct strmap *chain, const char *group);

/* One document's state after the last of its events on a chain. */
struct gitrec_file {
	char *doc;
	char *path;		/* where it is */
	char *group;		/* the commit of that event */
	int gone;		/* that event deleted it */
	uint64_t rank, seq;
};

struct gitrec_files {
	struct gitrec_file *v;
	size_t n, alloc;
	struct strmap index;	/* doc -> index + 1 */
};
#define GITREC_FILES_INIT { NULL, 0, 0, STRMAP_INIT }

/* Reads the stream's edit.op and fs.blob events into out (empty before):
 * every document with an event on chain, as chain's last commit left it. */
int gitrec_files(struct vault *v, const char *stream,
		 const struct strmap *chain, struct gitrec_files *out);
void gitrec_files_release(struct gitrec_files *f);

#endif
