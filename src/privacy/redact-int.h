#ifndef LABTAPE_REDACT_INT_H
#define LABTAPE_REDACT_INT_H

/*
 * Inside the redactor: the candidate patterns, the detectors that confirm
 * them, and the validators (exposed for the unit tests).
 *
 * A pattern is a short, bounded anchor compiled into the one Hyperscan
 * database. A report gives where the anchor ends; where it starts is the
 * end less its length when that is fixed, and else Hyperscan tracks it
 * (HS_FLAG_SOM_LEFTMOST, which costs: only the anchors of variable
 * length ask for it). Its detector looks at the whole token around the anchor,
 * checks the boundaries and runs the validator; what passes becomes a
 * candidate. Every detector reads at most a bounded window around its
 * anchor, and records how far it looked (struct scan.ex_lo, ex_hi), so that
 * later reports inside a token already judged cost nothing: the whole
 * pass is linear in the input, whatever it holds.
 */

#include <stddef.h>
#include <stdint.h>

#include "redact.h"

struct scan;
struct pattern;

typedef void detect_fn(struct scan *sc, const struct pattern *p,
		       size_t from, size_t to);

struct pattern {
	const char *re;		/* Hyperscan and grep -E syntax alike */
	int type;
	const char *detector;	/* shown by --explain */
	detect_fn *fn;
	int slot;		/* detectors sharing a slot share 'examined' */
	unsigned len;		/* the anchor's length if fixed, else 0 */
};

extern const struct pattern redact_patterns[];
extern const size_t redact_npatterns;
#define REDACT_NSLOTS 32

struct cand {
	size_t start, end;	/* in the window */
	int type;
	int prio;		/* the higher wins an overlap */
	int person;		/* NAME: which person (the placeholder key) */
	uint32_t num;		/* its placeholder's number once written (the
				 * document's map never forgets one), else 0 */
	const char *detector;
	char why[88];
};

/* The state of one Hyperscan pass over a window. */
struct scan {
	struct redactor *r;
	const char *s;
	size_t n;
	int flush;		/* the window ends where the input ends */
	int explain;		/* fill in cand.why */
	struct cand *c;
	size_t nc, alloc;
	size_t cur_from;	/* the anchor being looked at */
	size_t ex_lo[REDACT_NSLOTS], ex_hi[REDACT_NSLOTS];
};

/* Adds a candidate; returns it so the detector can fill in why. */
struct cand *scan_add(struct scan *sc, size_t start, size_t end, int type,
		      const char *detector);

/* Sets c->why, when someone will read it (--explain). */
void scan_why(struct scan *sc, struct cand *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* People's names (redact.c), called for Hyperscan ids past the built-ins. */
void redact_detect_name(struct scan *sc, unsigned id, size_t from, size_t to);

/* Validators. */
int redact_luhn(const char *digits, size_t n);
/* The card brand for these digits, or NULL if no network issues such a
 * prefix at this length. */
const char *redact_card_brand(const char *digits, size_t n);
/* 1 if area-group-serial can be an issued SSN. */
int redact_ssn_valid(int area, int group, int serial);
/* The IBAN length for a country code, or 0 if it has none. */
int redact_iban_length(const char cc[2]);
/* 1 if the IBAN (no spaces, upper case) passes ISO 7064 mod 97-10. */
int redact_iban_mod97(const char *iban, size_t n);
/* Shannon entropy in bits per byte. */
double redact_entropy(const char *s, size_t n);
/* 1 if s is a JWT header: base64url of a JSON object with "alg". */
int redact_jwt_header(const char *s, size_t n);

#endif
