#ifndef LABTAPE_REDACT_H
#define LABTAPE_REDACT_H

/*
 * Redaction: personal data and secrets in text become typed placeholders
 * such as <EMAIL_1>, numbered per document so that the same value gets the
 * same placeholder everywhere in it (doc/redaction.md lists every type).
 *
 * One Hyperscan pass finds candidates for every built-in detector at once;
 * a validator in C then looks at each candidate's whole token and decides
 * (Luhn, mod-97, SSN area rules, entropy, ...). User rules run as PCRE2.
 *
 *	struct redact_rules rules;
 *	struct redactor *r;
 *
 *	redact_rules_init(&rules);
 *	redact_rules_add_rule(&rules, "TICKET", "JIRA-[0-9]+");
 *	if (redactor_new(&r, &rules))		// compiles once
 *		die(lt_errmsg());
 *	for each document:
 *		redact_begin_doc(r);
 *		redact_text(r, text, len, &out);	// appends to out
 *	redactor_free(r);
 *	redact_rules_release(&rules);
 *
 * Memory is bounded: redact_text() works through a document in windows of
 * REDACT_CHUNK bytes, and the per-document placeholder map keeps a 16-byte
 * digest per distinct value, never the value itself.
 */

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The built-in placeholder types, in the order of their counts. */
enum redact_type {
	REDACT_EMAIL,
	REDACT_PHONE,
	REDACT_CARD,
	REDACT_SSN,
	REDACT_IBAN,
	REDACT_IP,
	REDACT_MAC,
	REDACT_URL_CREDENTIALS,
	REDACT_AWS_KEY,
	REDACT_GITHUB_TOKEN,
	REDACT_SLACK_TOKEN,
	REDACT_PRIVATE_KEY,
	REDACT_JWT,
	REDACT_SECRET,
	REDACT_NAME,
	REDACT_NTYPES	/* user rules are numbered from here */
};

/* "EMAIL", "URL_CREDENTIALS", ...; NULL past the built-ins. */
const char *redact_type_name(int type);

/*
 * What a redactor looks for. Everything built in is on; the lists start
 * empty. The add functions copy their arguments; redact_rules_release()
 * frees the copies.
 */
struct redact_rules {
	uint32_t disabled;	/* bit (1 << type): that built-in type is off */
	char **rule_names;	/* user rules: upper-case type names ... */
	char **rule_regex;	/* ... and their PCRE2 patterns */
	size_t nrules;
	char **allow;		/* literals, or /regex/ */
	size_t nallow;
	char **names;		/* people: "Ada Lovelace", "Alan Turing [parts]" */
	size_t nnames;
};

void redact_rules_init(struct redact_rules *rr);
void redact_rules_release(struct redact_rules *rr);

/* A user rule: matches of regex become <NAME_N> (NAME upper-cased; it
 * must be letters, digits and _, starting with a letter). */
int redact_rules_add_rule(struct redact_rules *rr, const char *name,
			  const char *regex);
/* "NAME:REGEX" or "NAME=REGEX", as the command line and config take it. */
int redact_rules_add_rule_spec(struct redact_rules *rr, const char *spec);
/* Never redact this: a literal compared with the whole match, or /regex/
 * searched for in the match. */
int redact_rules_add_allow(struct redact_rules *rr, const char *allow);
/* One person's name; with a trailing " [parts]" each word of the name is
 * redacted on its own too (as the same person). */
int redact_rules_add_name(struct redact_rules *rr, const char *name);
/* A names file: one name a line; blank lines and lines starting with #
 * are skipped. Errors name the file and line. */
int redact_rules_load_names(struct redact_rules *rr, const char *path);

/* One replacement, for --explain and tests. Offsets count bytes from the
 * start of the document. Valid only during the callback. */
struct redact_match {
	uint64_t offset;
	size_t len;
	int type;
	const char *type_name;	/* "EMAIL" or a user rule's name */
	const char *placeholder;	/* "<EMAIL_1>" */
	const char *detector;	/* which candidate pattern found it */
	const char *why;	/* which validator confirmed it, and how */
};

typedef void redact_explain_fn(void *ctx, const struct redact_match *m);

struct redactor;

/* Compiles the rules (Hyperscan and PCRE2). Errors name the bad rule. The
 * redactor does not keep rr. */
int redactor_new(struct redactor **out, const struct redact_rules *rr);
void redactor_free(struct redactor *r);

/* Called for every replacement made from now on (NULL: none). */
void redactor_set_explain(struct redactor *r, redact_explain_fn *fn,
			  void *ctx);

/* A new document: placeholder numbers restart, offsets restart at 0.
 * Counts are not reset (see redact_counts_reset). */
void redact_begin_doc(struct redactor *r);

/*
 * Many documents at once (the exports read the vault in time order, where
 * documents interleave): each keeps its placeholder map in a redact_doc,
 * and redact_swap_doc() exchanges the redactor's current document with it.
 *
 *	d = redact_doc_new();			a fresh document
 *	redact_swap_doc(r, d);			r works on d's document
 *	redact_text(r, ...);
 *	redact_swap_doc(r, d);			d holds it again
 *
 * A redact_doc costs nothing until its document has a placeholder (then
 * a few KiB).
 */
struct redact_doc;
struct redact_doc *redact_doc_new(void);
void redact_doc_free(struct redact_doc *d);
void redact_swap_doc(struct redactor *r, struct redact_doc *d);
/* Bytes redacted in the current document so far: the offset that the
 * next call's matches are counted from (struct redact_match.offset). */
uint64_t redact_doc_offset(const struct redactor *r);

/*
 * Windows of a text that changes a little at a time (the edits export
 * redacts two excerpts of every state of a document, and consecutive
 * states share all but a few lines). The current document remembers
 * what the lines of the text it was last given hold, so that a window
 * costs a scan of only the lines it has not seen.
 *
 *	redact_window(r, S, n, ws, we, out);	   S[ws..we) of a state S
 *	redact_window_edit(r, S2, n2, lo, ahi, bhi);  S became S2
 *	redact_window(r, S2, n2, ws2, we2, out);   S2[ws2..we2)
 *
 * redact_window() appends exactly what redact_text(r, text + ws, we - ws,
 * out) would (the same bytes, numbers, counts and explain calls). Between
 * its calls for one document, the text must stay the same, or change
 * only as redact_window_edit() says: S2 is S with its bytes [lo, ahi)
 * replaced by S2[lo..bhi), the bytes before lo and after ahi the same.
 * Any other change must be told with redact_doc_forget() (on a document
 * not swapped in) or redact_begin_doc(). With user rules or names of
 * several words (which may span lines), it is plain redact_text().
 */
int redact_window(struct redactor *r, const char *text, size_t n, size_t ws,
		  size_t we, struct buf *out);
int redact_window_edit(struct redactor *r, const char *text, size_t n,
		       size_t lo, size_t ahi, size_t bhi);
/* The text of d's windows changed in a way not told: forget its lines. */
void redact_doc_forget(struct redact_doc *d);

/* Redacts in[0..n) (all of it) and appends the result to out. A document
 * may be given in several calls, each ending where a line ends. */
int redact_text(struct redactor *r, const char *in, size_t n,
		struct buf *out);

/*
 * Streaming: redacts a prefix of in[0..n), appends it to out and sets
 * *used to its length. Without flush the last REDACT_LOOKAHEAD bytes are
 * only looked at, never consumed, and the cut is put after a newline
 * (else a blank) outside any match, so that nothing is missed at a cut;
 * call again with the rest and more data. With flush everything is used.
 */
#define REDACT_CHUNK (4u << 20)
#define REDACT_LOOKAHEAD (64u << 10)
int redact_feed(struct redactor *r, const char *in, size_t n, int flush,
		size_t *used, struct buf *out);

/* Replacements made per type since the redactor was made or the counts
 * were reset. ntypes is REDACT_NTYPES plus the number of user rules. */
size_t redact_ntypes(const struct redactor *r);
const char *redact_type_label(const struct redactor *r, size_t type);
uint64_t redact_count(const struct redactor *r, size_t type);
void redact_counts_reset(struct redactor *r);

/* The built-in candidate patterns, one a line, in a syntax that both
 * Hyperscan and grep -E take (for the benchmark). */
void redact_print_patterns(struct buf *out);

#endif
