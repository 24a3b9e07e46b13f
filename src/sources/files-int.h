#ifndef LABTAPE_FILES_INT_H
#define LABTAPE_FILES_INT_H

/*
 * The files source's internal interface, shared by files.c (watching,
 * ignore rules, the shadow cache, plain text), files-nb.c (notebooks) and
 * files-blob.c (binary and large files). Nothing outside src/sources
 * includes this.
 */

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "globs.h"
#include "source.h"

/* The context of one save of one document, for emitting its events. */
struct files_emit {
	struct source *src;
	const char *stream;	/* "fs:<root>" */
	int64_t t;		/* time of the save, ns UTC */
	const char *doc;	/* "file:<16 hex>" */
	const char *path;	/* relative to the root */
	const char *group;	/* "save:<n>" */
	const char *actor;	/* $USER */
	uint64_t seq;		/* next sequence number; each event takes one */
	unsigned since_snapshot;/* edits since the document's last snapshot */
	unsigned snapshot_every;
	struct source_about about;	/* the file, for the exclusions */
};
/* Emits one edit.op: adds doc, path, seq (then increments it), group and
 * actor to data (consumed), on e->stream at e->t. Counts non-snapshot ops in
 * since_snapshot and resets it on a snapshot. */
int files_emit_op(struct files_emit *e, json_t *data);
/* files-nb.c: a notebook save. prev is the previous version (NULL at the
 * baseline). LT_EINVAL if cur is not an nbformat 4 notebook (the caller then
 * records it as a plain text file). */
int files_nb_diff(struct files_emit *e, const char *prev, size_t prevlen,
		  const char *cur, size_t curlen);
/* files-nb.c: files_nb_diff() that knows the ids the record gave prev's
 * cells, so that cells without an id of their own are followed by content
 * rather than position. ids holds, on entry, prev's cells' ids, each
 * followed by '\n' (what the previous call left there; ignored if it does
 * not fit prev) and on success those of cur's cells; the caller keeps it
 * with its copy of prev (files.c: after the text in the shadow). On an
 * error from files_emit_op() ids is left as it was. */
int files_nb_diff_ids(struct files_emit *e, const char *prev, size_t prevlen,
		      const char *cur, size_t curlen, struct buf *ids);
/* files-blob.c: content-defined chunks for binary and large files. */
struct files_chunks;
struct files_chunks *files_chunks_new(void);
void files_chunks_free(struct files_chunks *c);
/* Reads fd (size bytes) in chunks, emits fs.chunk for chunks not seen, then fs.blob. */
int files_blob_emit(struct files_emit *e, struct files_chunks *seen, int fd,
		    uint64_t size);

/* -- Ignore rules (src/util/globs.h, in .gitignore syntax) ----------------- */

/* The rules labtape always applies, whatever a .gitignore says:
 * version control, build outputs, editor leftovers and secrets. */
extern const char files_default_rules[];

/* -- The shadow cache (files-shadow.c) ------------------------------------ */

enum files_base {
	FILES_BASE_NONE = 0,	/* the recorded version is unknown here */
	FILES_BASE_TEXT,	/* the shadow holds the recorded text */
	FILES_BASE_BLOB,	/* recorded as chunks; only its hash is kept */
};

/* What the cache knows of one document. */
struct files_meta {
	char doc[24];		/* "file:<16 hex>" */
	uint64_t seq;		/* the next sequence number */
	unsigned since;		/* edits since the last snapshot */
	uint64_t saves;		/* versions recorded (the last group's n) */
	enum files_base base;
	uint64_t size;		/* of the file when recorded */
	uint64_t extra;		/* bytes kept after the text (notebook ids) */
	int64_t mtime;		/* ns, of the file when recorded */
	uint8_t hash[16];	/* XXH3-128 of the recorded content */
	int64_t written;	/* ns: when this record was written */
};

/* One watched root's part of the cache: <cache>/roots/<32 hex>/. */
struct files_shadow {
	char *dir;		/* .../roots/<id> */
	char *tree;		/* .../roots/<id>/tree: mirrors the root */
};

/*
 * Opens (creating, mode 0700) the cache of the root at root_path under
 * cache_dir. [*untrusted_from, *untrusted_to) receives when records were
 * written that may be ahead of the vault (both 0: none): after a crash,
 * from the newest write in the cache less margin on; after a clean stop,
 * what that stop said. The mark of a clean stop is removed: a crash from
 * now on leaves none.
 */
int files_shadow_open(struct files_shadow *sh, const char *cache_dir,
		      const char *root_path, int64_t margin,
		      int64_t *untrusted_from, int64_t *untrusted_to);
/* Frees sh's strings; clean: leaves the mark of a clean stop, with when
 * records were written that may be ahead of the vault (from >= to:
 * none). */
void files_shadow_close(struct files_shadow *sh, int clean,
			int64_t untrusted_from, int64_t untrusted_to);

/* The shadow's own path for a document or folder path. */
void files_shadow_path(const struct files_shadow *sh, const char *rel,
		       struct buf *out);

/*
 * Reads the record of rel: its metadata, and into content (if not NULL)
 * the recorded text (m->size bytes) and what was kept after it. LT_ENOENT if there is none; a record with a damaged
 * header is removed and reported as LT_ENOENT; one whose text is damaged
 * comes back with base FILES_BASE_NONE (the document stays, its last
 * version is unknown).
 */
int files_shadow_read(const struct files_shadow *sh, const char *rel,
		      struct files_meta *m, struct buf *content);
/* Replaces rel's record (atomically, mode 0600); content only with
 * FILES_BASE_TEXT: the text (m->size bytes), then len - m->size bytes
 * more for the caller (m->extra is set). Sets m->written. */
int files_shadow_write(const struct files_shadow *sh, const char *rel,
		       struct files_meta *m, const char *content, size_t len);
/* Rewrites rel's record in place with m and base FILES_BASE_NONE,
 * dropping its text: works on a full disk, where a write may not. */
int files_shadow_forget(const struct files_shadow *sh, const char *rel,
			struct files_meta *m);
/* Removes rel's record, or a whole folder of them. Missing is fine. */
int files_shadow_remove(const struct files_shadow *sh, const char *rel);
/* Moves a record, or a folder of them, from one path to another. */
int files_shadow_rename(const struct files_shadow *sh, const char *from,
			const char *to);

/*
 * The paths of every record under the folder rel ("" for all), in no
 * particular order, relative to the root; each a string the caller frees
 * (and the array).
 */
int files_shadow_list(const struct files_shadow *sh, const char *rel,
		      char ***paths, size_t *n);

/* XXH3-128 of n bytes; of what is left to read of fd. */
void files_hash(const void *p, size_t n, uint8_t out[16]);
int files_hash_fd(int fd, uint8_t out[16]);

/* Fills m for a new document: a random id, everything else zero. */
void files_meta_new(struct files_meta *m);

#endif
