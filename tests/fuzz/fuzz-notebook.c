/*
 * Fuzzes files_nb_diff, the reader of notebooks (outside data): the input
 * is two versions of a notebook separated by the first 0xFF byte (never
 * in UTF-8 text; without one, the whole input is a first version). Each
 * version that parses is recorded, its events are replayed as a reader of
 * the record would (tests/unit/nb-replay.c), and the result must be that
 * version. With the first byte odd, cell ids are followed with state
 * (files_nb_diff_ids), else without. Same input, same events.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "error.h"
#include "files-int.h"
#include "nb-replay.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int files_nb_diff_ids(struct files_emit *e, const char *prev, size_t prevlen,
		      const char *cur, size_t curlen, struct buf *ids);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

static json_t *recorded;

int files_emit_op(struct files_emit *e, json_t *data)
{
	const char *op = json_string_value(json_object_get(data, "op"));

	json_object_set_new(data, "seq", json_integer((json_int_t)e->seq++));
	if (op && !strcmp(op, "snapshot"))
		e->since_snapshot = 0;
	else
		e->since_snapshot++;
	json_array_append_new(recorded, data);
	return 0;
}

/* Records one version; if it is a notebook, replays its events onto nb
 * and checks the result. */
static void version(struct files_emit *e, struct nbr *nb, const char *prev,
		    size_t plen, const char *cur, size_t clen, struct buf *ids)
{
	size_t before = json_array_size(recorded);
	const char *why;
	int r;

	r = files_nb_diff_ids(e, prev, plen, cur, clen, ids);
	if (r) {
		CHECK(r == LT_EINVAL);
		CHECK(json_array_size(recorded) == before);
		return;
	}
	for (size_t k = before; k < json_array_size(recorded); k++)
		CHECK(nbr_apply(nb, json_array_get(recorded, k), &why) == 0);
	CHECK(nbr_check(nb, cur, clen, &why) == 0);
	CHECK(!e->snapshot_every || e->since_snapshot < e->snapshot_every);
}

/* All the events of one run, as text. */
static char *run(const uint8_t *data, size_t size)
{
	const uint8_t *sep = memchr(data, 0xff, size);
	const char *a = (const char *)data, *b = sep ? (const char *)sep + 1 : a;
	size_t alen = sep ? (size_t)(sep - data) : size;
	size_t blen = sep ? size - alen - 1 : size;
	struct buf ids = BUF_INIT;
	struct files_emit e;
	struct nbr nb = { 0 };
	char *out;

	memset(&e, 0, sizeof(e));
	e.snapshot_every = 4;
	recorded = json_array();
	version(&e, &nb, NULL, 0, a, alen, size && data[0] & 1 ? &ids : NULL);
	if (sep)
		version(&e, &nb, a, alen, b, blen,
			size && data[0] & 1 ? &ids : NULL);
	out = json_dumps(recorded, JSON_COMPACT);
	CHECK(out);
	json_decref(recorded);
	nbr_release(&nb);
	buf_release(&ids);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *one = run(data, size), *two = run(data, size);

	CHECK(!strcmp(one, two));
	free(one);
	free(two);
	return 0;
}
