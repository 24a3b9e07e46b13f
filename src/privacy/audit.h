#ifndef LABTAPE_AUDIT_H
#define LABTAPE_AUDIT_H

/*
 * The audit log: what was done to the vault and its recording (consent,
 * pause, exclusions, forget, export, release), appended to a hash-chained,
 * encrypted log in the vault (doc/format.md section 14) so that a later
 * edit, insertion, removal or reordering shows in audit_verify().
 *
 * Appending needs only the vault's public key (the recorder appends its
 * pauses); reading and verifying need the vault unlocked (the passphrase
 * or the recorder's agent).
 *
 *	json_t *d = json_pack("{s:s}", "session", id);
 *	audit_append(v, AUDIT_EXPORT, d);       durable when it returns
 *	json_decref(d);                         audit_append borrows d
 */

#include <stdint.h>

#include <jansson.h>

#include "vault.h"

/* The actions (doc/format.md 14.4 lists their details). */
#define AUDIT_CONSENT_ADD "consent.add"
#define AUDIT_CONSENT_REVOKE "consent.revoke"
#define AUDIT_PAUSE "pause"
#define AUDIT_RESUME "resume"
#define AUDIT_EXCLUSION_CHANGE "exclusion.change"
#define AUDIT_FORGET "forget"
#define AUDIT_EXPORT "export"
#define AUDIT_RELEASE "release"
#define AUDIT_IMPORT "import"

/*
 * Names the process in the entries it appends ("labtape record"); the
 * actor is "$USER (<process>, pid N)". Default "labtape".
 */
void audit_set_process(const char *name);

/*
 * Appends an entry: now, action (1..64 bytes of [a-z0-9._-]), the actor,
 * and detail, a JSON object or NULL for {}. Borrows detail: the caller
 * keeps its reference. Several processes may append at once (an flock
 * serialises them); the entry is synced before this returns. Notes about
 * repairs (a torn last entry cut) go to stderr. LT_ECORRUPT, and nothing
 * appended, if the log's end does not match its head (see audit_verify).
 */
int audit_append(struct vault *v, const char *action, json_t *detail);

struct audit_entry {
	uint64_t seq;
	uint64_t offset;	/* in audit/log */
	int64_t t;		/* ns, UTC */
	const char *action;
	const char *actor;
	json_t *detail;		/* borrowed: valid during the callback */
	const uint8_t *hash;	/* 32 bytes: this entry's, as the next chains */
};

/*
 * Calls fn for each entry with t >= since, in log order, until fn returns
 * non-zero (which is then returned). Needs the vault unlocked. Entries
 * that do not decrypt are reported through report (NULL: stderr) and
 * skipped; the result is then LT_ECORRUPT. A vault without an audit log
 * has no entries.
 */
typedef int audit_entry_fn(void *ctx, const struct audit_entry *e);
int audit_read(struct vault *v, int64_t since, audit_entry_fn *fn, void *ctx,
	       vault_report_fn *report, void *rctx);

/*
 * Checks the whole log (vault unlocked): that every entry decrypts, that
 * they chain in order with no gap, copy or swap, and that both heads (the
 * head file and the index) name its last entry, so that entries cut off
 * the end show. Cuts a torn last entry first, as an append would. Reports
 * each problem, naming the entry (seq, byte offset) and whether it was
 * edited, is missing, inserted, reordered or truncated; a final note
 * counts the entries. Returns 0, or LT_ECORRUPT if there were problems.
 */
int audit_verify(struct vault *v, vault_report_fn *report, void *ctx);

/* The canonical JSON of an entry (for `labtape audit --json`); free with
 * json_decref. */
json_t *audit_entry_json(const struct audit_entry *e);

#endif
