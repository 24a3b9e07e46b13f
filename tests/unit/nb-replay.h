#ifndef LABTAPE_NB_REPLAY_H
#define LABTAPE_NB_REPLAY_H

/*
 * A notebook rebuilt from its edit.op events, the way a reader of the
 * record does it (files-nb.c, note 1), for test-nb and fuzz-notebook: it
 * checks every op against the state it applies to, and compares the
 * result with the notebook that was saved.
 */

#include <stddef.h>

#include <jansson.h>

#include "buf.h"

struct nbr_cell {
	char *id;
	struct buf src;
	char *outputs;
	char *meta;
};

struct nbr {
	struct nbr_cell *v;
	size_t n, alloc;
	char *metadata;		/* NULL until its first snapshot */
};

void nbr_release(struct nbr *nb);

/* Applies the data of one edit.op event. 0, or -1 with *why saying
 * what does not fit (a static string, valid until the next call). */
int nbr_apply(struct nbr *nb, const json_t *d, const char **why);

/* Whether nb holds what notebook text s[0..n) holds: the same cells with
 * the same sources, outputs and other members, the cells' own ids where
 * they have one, and the same metadata. 0, or -1 with *why. */
int nbr_check(const struct nbr *nb, const char *s, size_t n,
	      const char **why);

#endif
