#ifndef LABTAPE_VAULT_H
#define LABTAPE_VAULT_H

/*
 * The vault: an encrypted, append-only store of timestamped records, one
 * stream per source instance. doc/format.md specifies the files; this
 * header says how to use them.
 *
 * Writing needs only the vault's public key; reading needs the secret key,
 * which vault_unlock() derives from the passphrase.
 *
 *	struct vault *v;
 *	struct tape *t;
 *	vault_open(&v, dir);                       no passphrase needed
 *	tape_open(&t, v, NULL);
 *	tape_append(t, "notes", now, "note", payload, n);
 *	tape_close(t);                             committed and synced
 *	vault_free(v);
 *
 * The vault layer knows records as (time, kind name, payload bytes); what
 * a payload means is the events layer's business.
 */

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct vault;

/* Key derivation cost presets for the passphrase (Argon2id). */
enum vault_kdf {
	VAULT_KDF_MODERATE,	/* libsodium's MODERATE: 256 MiB, 3 passes */
	VAULT_KDF_FAST,		/* minimal cost; for tests only */
};

/* Resolves the vault directory: dir if given, else $LABTAPE_VAULT, else
 * $XDG_DATA_HOME/labtape, else ~/.local/share/labtape. */
void vault_default_dir(const char *dir, struct buf *out);

/* Creates a new vault in dir (which must not exist or be empty).
 * LT_EEXIST if dir is a vault already. */
int vault_create(const char *dir, const char *pass, size_t passlen,
		 enum vault_kdf kdf);

/*
 * Opens the vault in dir for writing and reading (reading needs
 * vault_unlock() too). Brings the vault to a consistent state first, as
 * SQLite does with a hot journal: segments left by writers that died are
 * cut back to their last commit and indexed (doc/format.md, "Recovery").
 * Free with vault_free().
 */
int vault_open(struct vault **out, const char *dir);
void vault_free(struct vault *v);

const char *vault_dir(const struct vault *v);
/* The vault id as 32 hex digits. */
const char *vault_id_hex(const struct vault *v);
/* The KDF preset the vault's passphrase uses ("moderate", "fast", ...). */
const char *vault_kdf_name(const struct vault *v);

/* Derives the key from pass and opens the secret key. LT_EAUTH if the
 * passphrase is wrong. The secret key lives in locked, guarded memory
 * until vault_lock() or vault_free(). */
int vault_unlock(struct vault *v, const char *pass, size_t passlen);
void vault_lock(struct vault *v);
int vault_is_unlocked(const struct vault *v);

/*
 * Reading through an agent instead of the passphrase: the recorder holds
 * the secret key after `labtape unlock`, and fn asks it for the data key
 * of one key file. The secret key never enters this process. A vault with
 * an agent counts as unlocked for reading (not for vault_passwd()).
 */
typedef int vault_unseal_fn(void *ctx, const uint8_t key_id[16], int32_t day,
			    uint8_t key[32]);
void vault_use_agent(struct vault *v, vault_unseal_fn *fn, void *ctx);

/* The data key of a key file (the agent's side); needs the secret key. */
int vault_unseal(struct vault *v, const uint8_t key_id[16], int32_t day,
		 uint8_t key[32]);

/*
 * Small secrets sealed to the vault's public key, for files outside the
 * segments (the audit log, the consent registry): a writer draws a random
 * 32-byte key, seals it with vault_seal_key() (public key only) and
 * encrypts under it; a reader opens the seal with vault_open_sealed(),
 * which needs the secret key or an agent (vault_use_agent_box()).
 */
#define VAULT_SEALED_KEY_LEN 80		/* crypto_box_SEALBYTES + 32 */
void vault_seal_key(const struct vault *v, const uint8_t key[32],
		    uint8_t sealed[VAULT_SEALED_KEY_LEN]);
int vault_open_sealed(struct vault *v, const uint8_t sealed[VAULT_SEALED_KEY_LEN],
		      uint8_t key[32]);
typedef int vault_open_sealed_fn(void *ctx,
				 const uint8_t sealed[VAULT_SEALED_KEY_LEN],
				 uint8_t key[32]);
/* The agent's side of vault_open_sealed(), set beside vault_use_agent(). */
void vault_use_agent_box(struct vault *v, vault_open_sealed_fn *fn, void *ctx);

/*
 * Values kept in the index's meta table beside its own (the audit log's
 * head). They survive reindex, which rebuilds only the block tables; a
 * deleted index.db loses them. vault_meta_get() returns 1 and fills out,
 * 0 if key has no row, or an error. vault_meta_set() commits at once
 * (durable when it returns).
 */
int vault_meta_get(struct vault *v, const char *key, struct buf *out);
int vault_meta_set(struct vault *v, const char *key, const char *value);

/* Re-wraps the secret key under a new passphrase (and KDF preset). Needs
 * the vault unlocked. Segments and data keys are untouched. */
int vault_passwd(struct vault *v, const char *newpass, size_t newlen,
		 enum vault_kdf kdf);

/* ---- Writing -------------------------------------------------------- */

struct tape;

struct tape_options {
	/* Close a block after this much plaintext (default 64 KiB). */
	size_t block_size;
	/* Commit (sync + index) at least this often when autocommit is on,
	 * and close blocks open longer than this (default 1 s). */
	int64_t flush_interval_ns;
	/* Commit by itself every flush interval (the recorder); off, data is
	 * committed only by tape_commit() and tape_close() (append). */
	int autocommit;
	/* Compress, encrypt and write closed blocks on a thread of the
	 * tape's own, overlapping them with the caller's work; errors then
	 * surface at the next append or commit. Off: all in line. */
	int sealer;
	/* The tape records something live that must not wait for it (a
	 * terminal, the recorder): the sealer runs at idle priority, and
	 * while it is behind, blocks are compressed at zstd's fastest level
	 * rather than slow the caller down (tape.c note 7). */
	int live;
	/* With sealer and autocommit: the periodic commits (commit frames,
	 * sync, index) run on the sealer too, so that the caller never
	 * waits for the disk (tape.c note 11). The tape then shares the
	 * vault's index with that thread: the caller must not use v itself
	 * while the tape is open, nor set a commit hook. */
	int commit_behind;
};
#define TAPE_OPTIONS_INIT { 64 * 1024, 1000000000LL, 0, 0, 0, 0 }

/* Largest payload of one record. */
#define TAPE_MAX_PAYLOAD (64u << 20)

/* A writer. It owns its segments; several tapes (in one process or many)
 * may write one vault at the same time. opt may be NULL for defaults. */
int tape_open(struct tape **out, struct vault *v,
	      const struct tape_options *opt);

/*
 * Adds one record to stream at time t (ns, UTC). kind is a short name
 * (1..255 bytes). Nothing is durable until the next commit. In autocommit
 * mode this may commit. After an error the tape has rolled back to its
 * last commit and can be used again.
 */
int tape_append(struct tape *t, const char *stream, int64_t ts,
		const char *kind, const void *payload, size_t n);

/*
 * Makes everything appended so far durable: closes open blocks, writes
 * commit frames, syncs the segments and then records the blocks in the
 * index (a block is synced before the index points at it). On failure
 * the tape rolls back to the previous commit and returns the error.
 */
int tape_commit(struct tape *t);
/* In autocommit mode, commits if the flush interval has passed. */
int tape_tick(struct tape *t);
/* Drops everything appended since the last commit. */
int tape_rollback(struct tape *t);
/* Commits, seals the tape's segments and frees it. Returns the commit's
 * result; the tape is freed either way. */
int tape_close(struct tape *t);
/* Frees the tape, dropping anything uncommitted. */
void tape_abort(struct tape *t);

/* Records appended since the tape opened, committed or not. */
uint64_t tape_count(const struct tape *t);

/* ---- Reading -------------------------------------------------------- */

struct vault_query {
	const char *stream;	/* exact stream name, or NULL for all */
	const char *kind;	/* exact kind, or NULL for all */
	int64_t since;		/* inclusive; INT64_MIN for no bound */
	int64_t until;		/* exclusive; INT64_MAX for no bound */
};
#define VAULT_QUERY_INIT { NULL, NULL, INT64_MIN, INT64_MAX }

struct vault_record {
	int64_t t;
	const char *stream;
	const char *kind;
	const uint8_t *payload;
	size_t len;
};

struct vault_iter;

/* Starts a query; needs the vault unlocked. Free with vault_iter_free(). */
int vault_iter_open(struct vault_iter **out, struct vault *v,
		    const struct vault_query *q);
/*
 * The next record in time order (ties in a stable order): returns 1 and
 * fills rec (valid until the next call), or 0 at the end. A block that
 * cannot be read (corrupt, or its key destroyed) returns LT_ECORRUPT or
 * LT_ENOKEY with a message naming segment, frame and offset; calling
 * again goes on with the other blocks.
 */
int vault_iter_next(struct vault_iter *it, struct vault_record *rec);
void vault_iter_free(struct vault_iter *it);

/* ---- Maintenance ---------------------------------------------------- */

/* Called once per problem (or note) that verify or reindex finds. */
typedef void vault_report_fn(void *ctx, int problem, const char *msg);

struct vault_verify_stats {
	uint64_t segments, blocks, records, bytes;
	uint64_t problems;
};

/*
 * Checks every segment's framing and checksums, every block's
 * authentication and content (needs the vault unlocked), and that the
 * index and the segments agree. Reports each problem through report and
 * returns 0 if there were none, LT_ECORRUPT if there were.
 */
int vault_verify(struct vault *v, vault_report_fn *report, void *ctx,
		 struct vault_verify_stats *st);

/* Rebuilds the index from the segments (no passphrase needed). Needs the
 * vault to itself: LT_EBUSY while another process has it open. The old
 * index is replaced only once the new one is complete. */
int vault_reindex(struct vault *v, vault_report_fn *report, void *ctx);

struct vault_stat_row {
	const char *stream;
	int32_t day;
	uint64_t records, blocks;
	uint64_t bytes;		/* on disk: frames */
	uint64_t plain;		/* records before compression */
};
typedef void vault_stat_fn(void *ctx, const struct vault_stat_row *row);

/* Per stream and day, in stream then day order. Needs the vault unlocked
 * (stream names are encrypted). */
int vault_stats(struct vault *v, vault_stat_fn *fn, void *ctx);

/* ---- Forgetting ----------------------------------------------------- */

/*
 * Deletion that is final (doc/format.md, "Forgetting"): the records a
 * selection matches become unreadable by anyone, in this vault and in any
 * copy of its segments that lacks the key files.
 *
 *	struct vault_forget_plan p;
 *	vault_forget_plan(v, &spec, &p);      which segments, what happens
 *	vault_forget(v, &p, report, ctx, &st);
 *	vault_forget_plan_release(&p);
 *
 * Both need the vault unlocked: stream names are encrypted, and counting
 * or keeping part of a block means decrypting it.
 */
struct vault_forget_spec {
	const char *stream;	/* exact stream name, or NULL for every stream */
	const char *kind;	/* exact kind, or NULL for every kind */
	int64_t from;		/* inclusive; INT64_MIN for no bound */
	int64_t until;		/* exclusive; INT64_MAX for no bound */
};
#define VAULT_FORGET_SPEC_INIT { NULL, NULL, INT64_MIN, INT64_MAX }

enum vault_forget_how {
	VAULT_FORGET_WHOLE,	 /* every record selected: key shredded,
				    segment removed */
	VAULT_FORGET_PART,	 /* rewritten without the selected records
				    under a new key; the old one shredded */
	VAULT_FORGET_LIVE,	 /* a running writer holds it: left alone */
	VAULT_FORGET_UNREADABLE, /* its key file was gone already: removed
				    (only when no stream is given) */
};

struct vault_forget_seg {
	uint8_t seg_id[16], key_id[16];
	int32_t day;
	char *stream;		/* NULL when the key is gone */
	enum vault_forget_how how;
	uint64_t blocks;	/* the segment's blocks */
	uint64_t records;	/* the segment's records */
	uint64_t selected;	/* of them, those the selection matches */
};

/* Segments with at least one selected record, in day and segment order.
 * forget and keep count records over the segments that are not LIVE. */
struct vault_forget_plan {
	struct vault_forget_seg *segs;
	size_t n;
	uint64_t forget, keep;
	struct vault_forget_spec spec;	/* a copy; strings owned by the plan */
};

/* Works out what forgetting spec means, without changing anything. Free
 * with vault_forget_plan_release(). */
int vault_forget_plan(struct vault *v, const struct vault_forget_spec *spec,
		      struct vault_forget_plan *out);
void vault_forget_plan_release(struct vault_forget_plan *p);

struct vault_forget_stats {
	uint64_t shredded;	/* segments removed whole, keys destroyed */
	uint64_t rewritten;	/* segments rewritten without some records */
	uint64_t skipped;	/* LIVE segments left alone */
	uint64_t forgotten;	/* records made unreadable */
	uint64_t kept;		/* records copied into new segments */
};

/*
 * Carries out a plan. Crash-safe: a journal (forget.journal) names every
 * segment first, and whatever a crash interrupts is completed, or for a
 * rewrite not yet committed undone, by the next vault_open. report gets
 * one line per segment (problem = 0) and each LIVE segment skipped
 * (problem = 1). Returns 0 when everything but the LIVE segments was
 * forgotten; st may be NULL.
 */
int vault_forget(struct vault *v, const struct vault_forget_plan *p,
		 vault_report_fn *report, void *ctx,
		 struct vault_forget_stats *st);

#endif
