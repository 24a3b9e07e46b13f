/*
 * The files source's binary and large files: each version as
 * content-defined chunks (doc/files-source.md, "Binary and large files").
 */
#include "files-int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "error.h"
#include "events.h"
#include "fastcdc.h"
#include "hex.h"
#include "xalloc.h"
#include "banned.h"

/*
 * NOTES ON THE CHUNK STORE
 *
 * 1. A version of a file is cut into chunks by FastCDC (util/fastcdc.h),
 *    read through one fixed buffer: memory does not grow with the file.
 *    Each chunk is named by its BLAKE2b-256 keyed with a random key
 *    (crypto_generichash), so that a name says nothing about the content
 *    to whoever does not hold the key, yet equal chunks get equal names.
 *
 * 2. fs.chunk is emitted for each chunk whose name this files_chunks has
 *    not emitted yet, always before the fs.blob that lists it: a blob
 *    only ever names chunks stored before it in its stream. A name joins
 *    the set only once its fs.chunk was accepted.
 *
 * 3. Everything about chunks is per day of the vault (the day of the
 *    event's time, as in doc/format.md 1.5): when e->t falls on a new day
 *    the set is emptied and a new key drawn, so that no blob refers to a
 *    chunk of another day. Deleting a day (crypto-shredding its key)
 *    then never breaks a later version of a file.
 *
 * 4. The set keeps the first 16 bytes of each name (a collision needs
 *    2^64 chunks) in an open-addressing table, at most half full, which
 *    is emptied when it holds FILES_CHUNKS_MAX names: a chunk seen before
 *    is then stored again, which costs space, never correctness. At
 *    most 8 MiB.
 *
 * 5. A file that changes while it is read (its size, or its modification
 *    time, or the number of bytes read, differ from what it was) gives no
 *    fs.blob: LT_EIO, and the caller records it at its next save. The
 *    chunks already emitted stay; they are valid chunks of nothing yet.
 */

#define READ_BUF (1 << 20)		/* >= FASTCDC_MAX */
#define FILES_CHUNKS_MAX (1 << 18)	/* names kept, note 4 */
#define KEY_BYTES crypto_generichash_KEYBYTES
#define HASH_BYTES 32
#define SLOT_BYTES 16
#define NS_PER_DAY INT64_C(86400000000000)

struct files_chunks {
	uint8_t key[KEY_BYTES];
	int64_t day;		/* the day the key and the set belong to */
	int keyed;		/* key and day are set */
	uint8_t *slots;		/* nslots * SLOT_BYTES; all zero: empty */
	size_t nslots;		/* a power of two, or 0 */
	size_t count;
	int has_zero;		/* the all-zero name, which no slot can hold */
	struct buf payload;	/* the fs.chunk being emitted */
};

struct files_chunks *files_chunks_new(void)
{
	struct files_chunks *c = xcalloc(1, sizeof(*c));

	buf_init(&c->payload, 0);

	if (sodium_init() < 0) {
		fputs("labtape: cannot initialise libsodium\n", stderr);
		abort();
	}
	return c;
}

static void set_clear(struct files_chunks *c)
{
	free(c->slots);
	c->slots = NULL;
	c->nslots = 0;
	c->count = 0;
	c->has_zero = 0;
}

void files_chunks_free(struct files_chunks *c)
{
	if (!c)
		return;
	sodium_memzero(c->key, sizeof(c->key));
	set_clear(c);
	buf_release(&c->payload);
	free(c);
}

/* jansson reports allocation failure as NULL; like xmalloc, give up. */
static void *jcheck(void *p)
{
	if (!p) {
		fputs("labtape: out of memory\n", stderr);
		abort();
	}
	return p;
}

static int64_t day_of(int64_t t)
{
	return t / NS_PER_DAY - (t % NS_PER_DAY < 0);
}

/* A new key and an empty set when t is on another day (note 3). */
static void set_day(struct files_chunks *c, int64_t t)
{
	if (c->keyed && day_of(t) == c->day)
		return;
	set_clear(c);
	randombytes_buf(c->key, sizeof(c->key));
	c->day = day_of(t);
	c->keyed = 1;
}

static int is_zero(const uint8_t *p)
{
	static const uint8_t zero[SLOT_BYTES];

	return !memcmp(p, zero, SLOT_BYTES);
}

/* The slot of name in the table: where it is, or the empty one where it
 * would go. The table is never full. */
static uint8_t *set_slot(const struct files_chunks *c, const uint8_t *name)
{
	size_t mask = c->nslots - 1, i;
	uint64_t h;

	/* The name is a keyed hash: its bytes are already uniform. */
	memcpy(&h, name, sizeof(h));
	for (i = (size_t)h & mask;; i = (i + 1) & mask) {
		uint8_t *s = c->slots + i * SLOT_BYTES;
		if (is_zero(s) || !memcmp(s, name, SLOT_BYTES))
			return s;
	}
}

static int set_has(const struct files_chunks *c, const uint8_t *name)
{
	if (is_zero(name))
		return c->has_zero;
	return c->nslots && !is_zero(set_slot(c, name));
}

static void set_add(struct files_chunks *c, const uint8_t *name)
{
	if (is_zero(name)) {
		c->has_zero = 1;
		return;
	}
	if (c->count >= FILES_CHUNKS_MAX)
		set_clear(c);
	if ((c->count + 1) * 2 > c->nslots) {
		struct files_chunks old = *c;
		c->nslots = c->nslots ? c->nslots * 2 : 1024;
		c->slots = xcalloc(c->nslots, SLOT_BYTES);
		for (size_t i = 0; i < old.nslots; i++) {
			const uint8_t *s = old.slots + i * SLOT_BYTES;
			if (!is_zero(s))
				memcpy(set_slot(c, s), s, SLOT_BYTES);
		}
		free(old.slots);
	}
	memcpy(set_slot(c, name), name, SLOT_BYTES);
	c->count++;
}

/* Emits fs.chunk for data unless its name was emitted already, and adds
 * the name to chunks (note 2). The payload is encoded directly: a
 * baseline carries every byte of every binary file through here. */
static int chunk_emit(struct files_emit *e, struct files_chunks *c,
		      const uint8_t *data, size_t n, json_t *chunks)
{
	uint8_t name[HASH_BYTES];
	char hex[2 * HASH_BYTES + 1];
	int r;

	crypto_generichash(name, sizeof(name), data, n, c->key, sizeof(c->key));
	lt_hex(name, sizeof(name), hex);
	if (!set_has(c, name)) {
		buf_reset(&c->payload);
		if ((r = ev_encode_chunk(&c->payload, hex, data, n)))
			return r;
		r = e->src->emit_payload(e->src, e->stream, e->t, "fs.chunk",
					 c->payload.data, c->payload.len,
					 &e->about);
		if (r)
			return r;
		set_add(c, name);
	}
	json_array_append_new(chunks, jcheck(json_string(hex)));
	return 0;
}

/* Reads up to n bytes at off, retrying on EINTR: the count, or -1. */
static ssize_t read_at(int fd, uint8_t *p, size_t n, uint64_t off)
{
	ssize_t got;

	do
		got = pread(fd, p, n, (off_t)off);
	while (got < 0 && errno == EINTR);
	return got;
}

static int changed(const struct files_emit *e)
{
	return lt_error(LT_EIO, "'%s' changed while it was read", e->path);
}

int files_blob_emit(struct files_emit *e, struct files_chunks *seen, int fd,
		    uint64_t size)
{
	uint8_t *buf = xmalloc(READ_BUF);
	json_t *chunks = jcheck(json_array()), *blob;
	struct fastcdc cdc;
	struct stat st0, st1;
	uint64_t off = 0;
	size_t fill = 0, start = 0, scan = 0;
	int r = 0;

	if (fstat(fd, &st0) < 0) {
		r = lt_error_errno(LT_EIO, "cannot read '%s'", e->path);
		goto out;
	}
	if ((uint64_t)st0.st_size != size) {
		r = changed(e);
		goto out;
	}
	set_day(seen, e->t);
	fastcdc_init(&cdc);
	for (;;) {
		size_t want;
		ssize_t got;

		if (fill == READ_BUF) {
			/* What is left is less than one chunk (< READ_BUF). */
			memmove(buf, buf + start, fill - start);
			fill -= start;
			scan -= start;
			start = 0;
		}
		/* Up to one byte past size, which tells a file that grew. */
		want = READ_BUF - fill;
		if (size + 1 - off < want)
			want = (size_t)(size + 1 - off);
		got = read_at(fd, buf + fill, want, off);
		if (got < 0) {
			r = lt_error_errno(LT_EIO, "cannot read '%s'", e->path);
			goto out;
		}
		if (got == 0)
			break;
		off += (uint64_t)got;
		fill += (size_t)got;
		if (off > size) {
			r = changed(e);
			goto out;
		}
		while (scan < fill) {
			int cut;
			scan += fastcdc_feed(&cdc, buf + scan, fill - scan, &cut);
			if (!cut)
				continue;
			r = chunk_emit(e, seen, buf + start, scan - start, chunks);
			if (r)
				goto out;
			start = scan;
		}
	}
	if (off != size) {
		r = changed(e);
		goto out;
	}
	if (fstat(fd, &st1) < 0) {
		r = lt_error_errno(LT_EIO, "cannot read '%s'", e->path);
		goto out;
	}
	if ((uint64_t)st1.st_size != size ||
	    st0.st_mtim.tv_sec != st1.st_mtim.tv_sec ||
	    st0.st_mtim.tv_nsec != st1.st_mtim.tv_nsec) {
		r = changed(e);
		goto out;
	}
	if (start < fill &&
	    (r = chunk_emit(e, seen, buf + start, fill - start, chunks)))
		goto out;

	blob = jcheck(json_pack("{sssIsIsO}", "doc", e->doc, "seq",
				(json_int_t)e->seq, "size", (json_int_t)size,
				"chunks", chunks));
	if (e->path)
		json_object_set_new(blob, "path", json_string(e->path));
	if (e->group)
		json_object_set_new(blob, "group", json_string(e->group));
	if (e->actor)
		json_object_set_new(blob, "actor", json_string(e->actor));
	r = e->src->emit(e->src, e->stream, e->t, "fs.blob", blob, &e->about);
	json_decref(blob);
	if (!r) {
		/* A blob is a whole version, as a snapshot is. */
		e->seq++;
		e->since_snapshot = 0;
	}
out:
	json_decref(chunks);
	free(buf);
	return r;
}
