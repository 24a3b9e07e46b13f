#ifndef LABTAPE_CHAINLOG_H
#define LABTAPE_CHAINLOG_H

/*
 * A chain log: an append-only file of entries, each encrypted to the
 * vault's public key and hash-chained to the one before, with its head
 * (last sequence number and hash) kept in a head file and in the index.
 * The audit log (audit/log) and the consent registry (consent/log) are
 * chain logs; doc/format.md section 14 specifies the layout.
 *
 * Private to src/privacy: audit.c and consent.c use it.
 *
 *	struct chainlog cl;
 *	chain_open(&cl, v, &CHAIN_AUDIT, 1);     locks the log
 *	chain_recover(&cl, report, ctx);         cuts a torn tail, heads
 *	chain_append(&cl, json, len);            durable when it returns
 *	chain_close(&cl);
 */

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "vault.h"

#define CHAIN_MAGIC_LEN 8
#define CHAIN_HEADER_LEN 32
#define CHAIN_ENTRY_MAGIC "LTAE"
#define CHAIN_ENTRY_FIXED 152	/* bytes before the ciphertext */
#define CHAIN_ENTRY_TRAILER 4
#define CHAIN_HASH_LEN 32
#define CHAIN_MAX_PLAIN (1u << 20)
#define CHAIN_PAD 64		/* plaintexts are padded to a multiple */
#define CHAIN_MAX_FILE (256u << 20)

/* Which log: its folder under the vault and its file magic. */
struct chain_kind {
	const char *name;	/* "audit": <vault>/audit/log, meta audit_head */
	const char *magic;	/* 8 bytes */
};
extern const struct chain_kind CHAIN_AUDIT, CHAIN_CONSENT;

struct chain_head {
	uint64_t seq;		/* of the last entry; 0 for an empty log */
	uint64_t off, end;	/* where the last entry starts and ends */
	uint8_t hash[CHAIN_HASH_LEN];
};

struct chainlog {
	struct vault *v;
	const struct chain_kind *kind;
	struct buf log_path, head_path;
	int fd;			/* locked exclusively while open */
	uint8_t header[CHAIN_HEADER_LEN];
	uint8_t genesis[CHAIN_HASH_LEN];
	struct chain_head head;	/* valid after chain_recover() */
	int recovered;
};

/* An entry as parsed from the file, before decryption. */
struct chain_entry {
	uint64_t off;
	uint32_t len;		/* the whole entry */
	uint32_t ct_len;
	uint64_t seq;
	const uint8_t *prev;	/* inside the parsed bytes */
	const uint8_t *bytes;
	uint8_t hash[CHAIN_HASH_LEN];
};

/*
 * Opens and locks (flock, exclusive, waiting) the log. With create, makes
 * the folder and the file (with its header) if missing; without, LT_ENOENT
 * if there is no log. Free with chain_close() whatever it returns.
 */
int chain_open(struct chainlog *cl, struct vault *v,
	       const struct chain_kind *kind, int create);
void chain_close(struct chainlog *cl);

/*
 * Brings the log to a consistent state (doc/format.md 14.5): checks that
 * the log holds the entry its head names, takes in entries appended after
 * the head by a writer that died before updating it, cuts a torn last
 * entry, and rewrites a missing or lagging head. Notes go to report (NULL:
 * stderr). LT_ECORRUPT when the log does not match its head (truncated or
 * edited): then nothing is changed.
 */
int chain_recover(struct chainlog *cl, vault_report_fn *report, void *ctx);

/* Appends one entry holding text (n bytes, no NUL) after chain_recover():
 * written, synced, then the head file, then the index. */
int chain_append(struct chainlog *cl, const char *text, size_t n);

/*
 * Parses the entry at p (avail bytes): 1 and *e filled, 0 if the bytes
 * end inside it (torn), LT_ECORRUPT (with a message) if it is malformed
 * or fails its checksum. Needs no key.
 */
int chain_parse(const uint8_t *p, size_t avail, uint64_t off,
		struct chain_entry *e);

/*
 * Decrypts e (the vault unlocked) into out: the JSON text, NUL-terminated,
 * padding removed. LT_EAUTH if it does not decrypt with this log's header.
 */
int chain_decrypt(struct vault *v, const uint8_t header[CHAIN_HEADER_LEN],
		  const struct chain_entry *e, struct buf *out);

/*
 * Reads every entry in file order. fn gets each entry that decrypts, with
 * its text; problems go to report. With verify, also checks the chain
 * (order, gaps, copies) and both heads, and reports what is wrong with the
 * first entry that breaks it (doc/format.md 14.6). Returns 0 if there
 * were no problems, LT_ECORRUPT if there were, another error if the log
 * could not be read, or what fn returned if not 0.
 */
typedef int chain_entry_fn(void *ctx, const struct chain_entry *e,
			   const char *text);
int chain_walk(struct chainlog *cl, int verify, vault_report_fn *report,
	       void *rctx, chain_entry_fn *fn, void *fctx);

#endif
