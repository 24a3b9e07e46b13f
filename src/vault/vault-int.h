#ifndef LABTAPE_VAULT_INT_H
#define LABTAPE_VAULT_INT_H

/*
 * Private to src/vault: the on-disk layouts (doc/format.md is the
 * specification; the constants here must match it) and the pieces the
 * vault's files share.
 */

#include <sqlite3.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "vault.h"

#define VAULT_VERSION 1		/* of every file below; readers refuse others */
#define VAULT_ID_LEN 16
#define VAULT_KEY_LEN 32	/* data keys: XChaCha20-Poly1305 */

/* vault.json: the vault's identity and its wrapped secret key. */
#define VAULT_META_FILE "vault.json"
#define VAULT_INDEX_FILE "index.db"
#define VAULT_SEG_DIR "segments"
#define VAULT_KEY_DIR "keys"

/* Segment header: 64 bytes. */
#define SEG_MAGIC "LTAPESEG"
#define SEG_HEADER_LEN 64

struct seg_header {
	uint16_t version;
	uint8_t seg_id[VAULT_ID_LEN];
	uint8_t key_id[VAULT_ID_LEN];
	int64_t created;
	int32_t day;
};

void seg_header_encode(const struct seg_header *h, uint8_t out[SEG_HEADER_LEN]);
/* LT_ECORRUPT or LT_EVERSION with a message (without the file's name). */
int seg_header_decode(const uint8_t in[SEG_HEADER_LEN], struct seg_header *h);

/* Frames: a fixed header, the kinds area, a header checksum, the nonce,
 * the ciphertext (with its 16-byte tag) and a trailing checksum. */
#define FRAME_MAGIC "LTFR"
#define FRAME_FIXED 48		/* header bytes before the kinds area */
#define FRAME_NONCE 24
#define FRAME_TAG 16
#define FRAME_TRAILER 8
#define FRAME_MAX_KINDS 255
#define FRAME_MAX_CT ((uint32_t)TAPE_MAX_PAYLOAD + (16u << 20))
#define FRAME_MAX_HEADER (FRAME_FIXED + FRAME_MAX_KINDS * 256 + 4)

enum frame_type {
	FRAME_DATA = 1,		/* a block of records */
	FRAME_COMMIT = 2,	/* commits the data frames before it */
};
#define FRAME_FLAG_SEAL 0x01	/* on a commit: the writer closed the segment */
#define FRAME_FLAG_TXN 0x02	/* on a commit: one part of a transaction */
#define FRAME_TXN_ID_LEN 16

struct frame_header {
	uint8_t type;
	uint8_t flags;
	uint16_t hlen;		/* header bytes incl. kinds area and checksum */
	uint64_t frame_no;
	uint32_t ct_len;	/* ciphertext incl. tag */
	uint32_t plain_len;	/* records before compression */
	uint32_t nrec;		/* data: records; commit: data frames committed */
	uint16_t nkinds;
	int64_t t_min, t_max;
	const uint8_t *kinds;	/* the kinds area, inside the parsed bytes */
	/* A commit with FRAME_FLAG_TXN: the transaction's id (bytes 32..47)
	 * and how many segments it spans (plain_len), doc/format.md 6.6. */
	uint8_t txn[FRAME_TXN_ID_LEN];
};

/* Total bytes of a frame with this header. */
static inline uint64_t frame_len(const struct frame_header *h)
{
	return (uint64_t)h->hlen + FRAME_NONCE + h->ct_len + FRAME_TRAILER;
}

/*
 * Parses a frame header from p (avail bytes available). Needs at least
 * FRAME_FIXED bytes to learn hlen; returns LT_ETOOBIG with *need set when
 * avail is short of the whole header. Checks magic, type, lengths and the
 * header checksum. Errors carry a message without position; callers add it.
 */
int frame_parse_header(const uint8_t *p, size_t avail, struct frame_header *h,
		       size_t *need);
/* Checks the trailing checksum of a whole frame (frame_len(h) bytes). */
int frame_check_trailer(const uint8_t *p, const struct frame_header *h);
/* The i-th kind name of a parsed header (kinds area validated by parse). */
void frame_kind(const struct frame_header *h, unsigned i, const char **name,
		size_t *len);

/*
 * Appends a data frame holding plain (records) to out: compressed with
 * zstd at level into scratch, then encrypted. h supplies frame_no, nrec,
 * nkinds, t_min and t_max; the rest is filled in.
 */
int frame_build_data(struct frame_header *h, const char *const *kinds,
		     const uint8_t seg_id[VAULT_ID_LEN], const uint8_t *plain,
		     size_t plain_len, const uint8_t *key, void *cctx, int level,
		     struct buf *scratch, struct buf *out);
/* Appends a commit frame to out. */
void frame_build_commit(const uint8_t seg_id[VAULT_ID_LEN], uint64_t frame_no,
			uint32_t ndata, int seal, const uint8_t *key,
			struct buf *out);
/* The same, as one of parts commit frames of transaction txn (parts ≥ 2). */
void frame_build_txn_commit(const uint8_t seg_id[VAULT_ID_LEN],
			    uint64_t frame_no, uint32_t ndata, int seal,
			    const uint8_t txn[FRAME_TXN_ID_LEN], uint32_t parts,
			    const uint8_t *key, struct buf *out);

/*
 * Decrypts and decompresses a data or commit frame (already checked with
 * frame_check_trailer) into plain, using scratch for the decrypted,
 * still compressed body (callers keep one to avoid an allocation per
 * block). LT_EAUTH if authentication fails, LT_ECORRUPT if the plaintext
 * is not what the header says.
 */
int frame_open(const uint8_t *frame, const struct frame_header *h,
	       const uint8_t seg_id[VAULT_ID_LEN], const uint8_t *key,
	       struct buf *plain, void *zstd_dctx, struct buf *scratch);

/*
 * Records, inside a data frame's plaintext:
 *   record := svarint(t - previous t; the first record's from 0)
 *             uvarint(kind index into the frame's kinds) uvarint(len) payload
 * rec_next() reads one; returns 1, 0 at the end, LT_ECORRUPT if malformed.
 */
struct rec_cursor {
	const uint8_t *p, *end;
	int64_t prev_t;
	unsigned nkinds;
};
struct rec {
	int64_t t;
	unsigned kind;
	const uint8_t *payload;
	size_t len;
};
int rec_next(struct rec_cursor *c, struct rec *r);

/* Key files: keys/<day>/<key id>.key. */
#define KEY_MAGIC "LTAPEKEY"
#define KEY_FIXED 152		/* bytes before the label ciphertext */
#define KEY_SEALED_LEN (VAULT_KEY_LEN + 48)	/* crypto_box_SEALBYTES */
#define KEY_MAX_LABEL 4096

/* Writes a new key file for a data key and stream label; durably unless
 * sync is 0 (the caller then makes it durable before it is relied on). */
int keyfile_write(struct vault *v, const uint8_t key_id[VAULT_ID_LEN],
		  int32_t day, const uint8_t *data_key, const char *label,
		  int sync);

/* ---- the vault object -------------------------------------------- */

struct vault_key {
	uint8_t id[VAULT_ID_LEN];
	int state;		/* 0 not tried, 1 open, <0 the error */
	uint8_t *key;		/* sodium_malloc'd, when open */
	char *label;
};

struct vault {
	char *dir;
	uint8_t id[VAULT_ID_LEN];
	char id_hex[2 * VAULT_ID_LEN + 1];
	uint8_t pk[32];
	/* The wrapped secret key, as read from vault.json. */
	char kdf_name[16];
	unsigned long long opslimit;
	size_t memlimit;
	uint8_t salt[16];
	uint8_t sk_nonce[24];
	uint8_t sk_ct[32 + 16];
	int64_t created;
	uint8_t *sk;		/* sodium_malloc'd when unlocked */
	vault_unseal_fn *agent;	/* or this opens data keys */
	void *agent_ctx;
	vault_open_sealed_fn *agent_box;	/* and this sealed keys */
	void *agent_box_ctx;
	sqlite3 *db;
	sqlite3_stmt *st_block, *st_block_kind, *st_kind_ins, *st_kind_sel;
	int lock_fd;		/* flock: shared while open, exclusive to reindex */
	/* Data keys opened so far (unlocked only), sorted by id. */
	struct vault_key *keys;
	size_t nkeys, keys_alloc;
};

/* Paths of a segment and a key file. */
void vault_seg_path(const struct vault *v, int32_t day,
		    const uint8_t seg_id[VAULT_ID_LEN], struct buf *out);
void vault_key_path(const struct vault *v, int32_t day,
		    const uint8_t key_id[VAULT_ID_LEN], struct buf *out);

/* The data key and stream label of key_id (vault unlocked). Results are
 * cached in v and owned by it. LT_ENOKEY if the key file is gone. */
int vault_data_key(struct vault *v, const uint8_t key_id[VAULT_ID_LEN],
		   int32_t day, const uint8_t **key, const char **label);

/* ---- the index (index.c) ------------------------------------------ */

int idx_open(struct vault *v, int *created);
void idx_close(struct vault *v);
int idx_exec(struct vault *v, const char *sql);
int idx_begin(struct vault *v);
int idx_commit(struct vault *v);
void idx_rollback(struct vault *v);
/* Prepares a statement, reporting failures through lt_error(LT_EDB). */
int idx_prepare(struct vault *v, const char *sql, sqlite3_stmt **st);
int idx_error(struct vault *v, const char *what);

struct idx_segment {
	int64_t rowid;
	uint8_t seg_id[VAULT_ID_LEN];
	uint8_t key_id[VAULT_ID_LEN];
	int32_t day;
	int64_t created;
	int64_t committed_end;
	uint64_t next_frame;
	int sealed;
};
int idx_add_segment(struct vault *v, struct idx_segment *s);
int idx_update_segment(struct vault *v, const struct idx_segment *s);

struct idx_block {
	uint64_t frame_no;
	int64_t offset;
	uint32_t length;
	int64_t t_min, t_max;
	uint32_t nrec, plain_len;
};
/* Adds a block with its kinds (names of a frame header). */
int idx_add_block(struct vault *v, int64_t seg_rowid, const struct idx_block *b,
		  const struct frame_header *h);

/* ---- the writer's private side (tape.c), for forget.c -------------- */

/*
 * Creates the tape's segment for stream and day now, with the given
 * segment and key ids rather than random ones, so that a caller can name
 * them durably (forget's journal) before they exist. LT_EEXIST if the tape
 * already has a segment for that stream and day.
 */
int tape_start_segment(struct tape *t, const char *stream, int32_t day,
		       const uint8_t seg_id[VAULT_ID_LEN],
		       const uint8_t key_id[VAULT_ID_LEN]);
/* fn runs inside every index transaction of the tape's commits, after the
 * blocks are added and before COMMIT; an error from it rolls the commit
 * back. forget.c removes a rewritten segment's rows in the same
 * transaction that adds its replacement's. */
typedef int tape_commit_hook(void *ctx);
void tape_set_commit_hook(struct tape *t, tape_commit_hook *fn, void *ctx);

/* ---- forgetting (forget.c) ----------------------------------------- */

#define FORGET_JOURNAL "forget.journal"

/*
 * Completes or undoes what an interrupted forget left (doc/format.md,
 * "Forgetting"), unless the forget that wrote the journal is still
 * running. Called by vault_open after recovery; needs no passphrase.
 */
int forget_recover(struct vault *v);
/* Whether a forget is running now (its journal is locked); if so, *ids
 * gets the segment ids it names (old and new), 16 bytes each, *n of them
 * (free *ids). */
int forget_live_segments(struct vault *v, uint8_t **ids, size_t *n);
/* How much of a block (time range, nkinds kinds, whether the selection's
 * kind is among them) a selection covers: 0 none, 1 all, 2 some (decrypt
 * the block to know). */
int forget_block_cover(const struct vault_forget_spec *s, int64_t t_min,
		       int64_t t_max, unsigned nkinds, int has_kind);

/* ---- recovery (recover.c) ----------------------------------------- */

/*
 * Scans the segment open on fd from offset start (frame number
 * first_frame). Data frames followed by a commit frame are committed: fn
 * is called for each of them, in order, and for each commit frame (h->type
 * tells which), with the whole checked frame. On return *end is the offset
 * just after the last commit, *next the frame number after it and *sealed
 * whether a seal was seen.
 *
 * Without salvage the scan stops at the first frame that is torn or does
 * not check, and returns 0 with *stop set to that error (0 when it reached
 * the end of the file cleanly): this is how a torn tail is found. With
 * salvage (verify, reindex) it looks for the next intact frame after
 * damage and goes on, so that one bad byte costs one block; damage that a
 * later commit proves was inside committed data is reported through
 * report and counted in damaged, damage after the last commit only sets
 * tail_damage (a torn tail is the caller's to judge). An error from fn or
 * from reading the file is returned.
 */
typedef int seg_frame_fn(void *ctx, int64_t off, const struct frame_header *h,
			 const uint8_t *frame);
struct seg_scan {
	int64_t end;
	uint64_t next;
	int sealed;
	int stop;
	uint64_t damaged;	/* salvage: damaged stretches before *end */
	int tail_damage;	/* salvage: damage after the last commit */
};
int seg_scan(int fd, const char *path, int64_t start, uint64_t first_frame,
	     int salvage, vault_report_fn *report, void *rctx,
	     seg_frame_fn *fn, void *ctx, struct seg_scan *out);

/* Takes the vault lock: shared for ordinary use, exclusive to reindex. */
int vault_lock_exclusive(struct vault *v);
void vault_lock_shared(struct vault *v);

/* Committed data frames found by a scan, for the index. */
struct rblock {
	struct idx_block b;
	struct buf hdr;		/* a copy of the frame header */
};
struct blockset {
	struct rblock *blocks;
	size_t n, alloc;
};
seg_frame_fn blockset_collect;	/* ctx: a struct blockset */
void blockset_release(struct blockset *c);
/* Adds the blocks to the index (inside the caller's transaction). */
int idx_add_blockset(struct vault *v, int64_t seg_rowid, struct blockset *c);

int vault_recover(struct vault *v);

#endif
