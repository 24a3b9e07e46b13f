#ifndef LABTAPE_CONSENT_H
#define LABTAPE_CONSENT_H

/*
 * The consent registry: who agreed to be recorded, for what, until when.
 * People's names are personal data, so the registry is a chain log in the
 * vault (consent/log, doc/format.md 14) whose entries are encrypted to the
 * vault's public key: adding needs no passphrase, while listing, revoking
 * and checking need the vault unlocked (the passphrase, or the recorder's
 * agent after `labtape unlock`). A source that records other people asks
 * consent_check() before it starts and carries the returned reference in
 * what it records; without the key it cannot check and MUST NOT record
 * (doc/format.md 14.8 says why this is the design).
 *
 * Every add and revoke is also appended to the audit log (with the
 * reference id and scope, never the name).
 */

#include <stdint.h>

#include "vault.h"

enum consent_scope {
	CONSENT_MEETINGS = 1,	/* audio: meetings, calls */
	CONSENT_SCREEN = 2,	/* screen capture showing them */
	CONSENT_ALL = 3,	/* both */
};

#define CONSENT_REF_LEN 16	/* hex digits */

/* A stable reference to one consent, for recordings to carry. */
struct consent_ref {
	char id[CONSENT_REF_LEN + 1];
};

struct consent {
	const char *ref;
	const char *name;	/* as given to consent_add */
	enum consent_scope scope;
	int64_t since;		/* when it was given (added) */
	int64_t until;		/* INT64_MAX: no end */
	int64_t revoked;	/* when; 0 if it was not */
	const char *note;	/* or NULL */
};

/* "meetings", "screen", "all"; LT_EINVAL with a message otherwise. */
int consent_scope_parse(const char *s, enum consent_scope *out);
const char *consent_scope_name(enum consent_scope s);

/*
 * Records that name consents to scope from since until until (INT64_MAX:
 * no end), with an optional note. Needs only the public key. Fills out
 * with the new consent's reference. Several consents may exist for one
 * name; each is revoked on its own or by name.
 */
int consent_add(struct vault *v, const char *name, enum consent_scope scope,
		int64_t since, int64_t until, const char *note,
		struct consent_ref *out);

/* Revokes every consent of name that is not revoked yet (vault unlocked),
 * at time now; *n says how many. LT_ENOENT if there was none. The history
 * stays: revoked consents are listed as such. */
int consent_revoke(struct vault *v, const char *name, int64_t now,
		   unsigned *n);

/* Every consent ever added, oldest first (vault unlocked). Stops when fn
 * returns non-zero, and returns that. The strings live during the call. */
typedef int consent_fn(void *ctx, const struct consent *c);
int consent_list(struct vault *v, consent_fn *fn, void *ctx);

/* Checks the registry's chain and entries as audit_verify() does the
 * audit log's (vault unlocked): 0, or LT_ECORRUPT after reporting each
 * problem. A vault without a registry passes. */
int consent_verify(struct vault *v, vault_report_fn *report, void *ctx);

/* Whether c covers scope at now: not revoked, since <= now < until. */
int consent_active(const struct consent *c, enum consent_scope scope,
		   int64_t now);

/*
 * Whether name has an active consent covering scope at now: 1 and *out
 * (if not NULL) the reference of the most recent such consent, 0 if none.
 * Names compare without regard to ASCII case or runs of white space.
 * Needs the vault unlocked; any error (locked, a registry that fails its
 * checks) is returned as a negative code, which callers MUST treat as no
 * consent.
 */
int consent_check(struct vault *v, const char *name, enum consent_scope scope,
		  int64_t now, struct consent_ref *out);

#endif
