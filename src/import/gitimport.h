#ifndef LABTAPE_GITIMPORT_H
#define LABTAPE_GITIMPORT_H

/*
 * labtape import git: a repository's first-parent history as edit.op
 * events, one import unit per commit (doc/imports.md, "git"). libgit2
 * reads the repository; gitrec.h reads back what an import left.
 *
 *	struct gitimport_opts o = { .repo = "~/code/x", .range = "v1..main" };
 *	struct gitimport_result res = GITIMPORT_RESULT_INIT;
 *	if (gitimport_run(v, &o, &res) < 0)
 *		... lt_errmsg(); the vault is as it was
 *	gitimport_result_release(&res);
 */

#include <stdint.h>

#include "import.h"
#include "vault.h"

struct gitimport_opts {
	const char *repo;	/* the repository's folder (or a bare one) */
	const char *range;	/* REV or A..B; NULL: HEAD */
	int progress;		/* a bar on stderr, on a terminal */
	unsigned snapshot_every;/* a snapshot after this many edits (0: 300) */
};

struct gitimport_result {
	char *stream;		/* git:NAME */
	struct import_summary sum;
	uint64_t commits;	/* in the range */
	uint64_t bad_paths;	/* files left out: path not UTF-8 */
	char *bad_example;	/* "commit <id>" of the first of them */
};
#define GITIMPORT_RESULT_INIT { NULL, { 0, 0, 0 }, 0, 0, NULL }

/* Imports o->range of o->repo into the vault v (unlocked), all or
 * nothing. Fills res (release it either way). */
int gitimport_run(struct vault *v, const struct gitimport_opts *o,
		  struct gitimport_result *res);
void gitimport_result_release(struct gitimport_result *res);

#endif
