/*
 * The redaction engine (src/privacy): every detector against its true
 * and false positives in data/redact/<detector>.txt, the validators on
 * their own, placeholder numbering, user rules, the allowlist, windows
 * that cut through matches, and inputs built to be slow.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "redact.h"
#include "redact-int.h"
#include "xalloc.h"
#include "test.h"
#include "banned.h"

#define DATA TEST_DATA_DIR "/redact"

static void redact_str(struct redactor *r, const char *in, struct buf *out)
{
	buf_reset(out);
	redact_begin_doc(r);
	if (redact_text(r, in, strlen(in), out))
		TEST_FAIL("redact_text: %s", lt_errmsg());
}

/* Builds the input and the expected output of a tp: line. */
static void expand_case(const char *line, const char *type, struct buf *in,
			struct buf *want)
{
	char *vals[32];
	size_t nvals = 0;
	const char *p = line;

	buf_reset(in);
	buf_reset(want);
	while (*p) {
		const char *open = strstr(p, "[["), *close, *bar;
		size_t n, vn;
		long num = 0;

		if (!open) {
			buf_addstr(in, p);
			buf_addstr(want, p);
			break;
		}
		close = strstr(open, "]]");
		if (!close)
			TEST_FAIL("unclosed [[ in: %s", line);
		buf_add(in, p, (size_t)(open - p));
		buf_add(want, p, (size_t)(open - p));
		open += 2;
		bar = memchr(open, '|', (size_t)(close - open));
		vn = (size_t)((bar ? bar : close) - open);
		buf_add(in, open, vn);
		if (bar) {
			num = strtol(bar + 1, NULL, 10);
		} else {
			for (n = 0; n < nvals; n++)
				if (strlen(vals[n]) == vn && !memcmp(vals[n], open, vn))
					break;
			if (n == nvals) {
				ASSERT(nvals < 32);
				vals[nvals++] = xstrndup(open, vn);
			}
			num = (long)n + 1;
		}
		buf_addf(want, "<%s_%ld>", type, num);
		p = close + 2;
	}
	for (size_t i = 0; i < nvals; i++)
		free(vals[i]);
}

static int file_failures;

/* Runs one data file; returns the number of cases. */
static int run_file(const char *name)
{
	char path[512], type[64] = "";
	struct redact_rules rr;
	struct redactor *r = NULL;
	struct buf in = BUF_INIT, want = BUF_INIT, got = BUF_INIT;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int cases = 0, lineno = 0, failed = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", DATA, name);
	f = fopen(path, "r");
	ASSERT(f);
	redact_rules_init(&rr);
	/* The directives come first: the redactor is built at the first case. */
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (!len || line[0] == '#')
			continue;
		if (!strncmp(line, "type: ", 6)) {
			snprintf(type, sizeof(type), "%s", line + 6);
			continue;
		}
		if (!strncmp(line, "name: ", 6)) {
			ASSERT_OK(redact_rules_add_name(&rr, line + 6));
			continue;
		}
		if (!r)
			ASSERT_OK(redactor_new(&r, &rr));
		if (!strncmp(line, "tp: ", 4)) {
			ASSERT(type[0]);
			expand_case(line + 4, type, &in, &want);
		} else if (!strncmp(line, "fp: ", 4)) {
			buf_reset(&in);
			buf_addstr(&in, line + 4);
			buf_reset(&want);
			buf_addstr(&want, line + 4);
		} else {
			TEST_FAIL("%s:%d: expected tp:, fp:, type: or name:", path,
				  lineno);
		}
		redact_str(r, in.data, &got);
		if (strcmp(got.data, want.data)) {
			fprintf(stderr, "%s:%d:\n  input: %s\n  want:  %s\n  got:   %s\n",
				path, lineno, in.data, want.data, got.data);
			failed++;
		}
		cases++;
	}
	free(line);
	fclose(f);
	redactor_free(r);
	redact_rules_release(&rr);
	buf_release(&in);
	buf_release(&want);
	buf_release(&got);
	if (failed) {
		fprintf(stderr, "%s: %d of %d cases failed\n", name, failed, cases);
		file_failures++;
	}
	return cases;
}

TEST(detector_cases)
{
	DIR *d = opendir(DATA);
	struct dirent *e;
	int files = 0, cases = 0;

	ASSERT(d);
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (n < 5 || strcmp(e->d_name + n - 4, ".txt"))
			continue;
		cases += run_file(e->d_name);
		files++;
	}
	closedir(d);
	if (file_failures)
		TEST_FAIL("%d detector files have failing cases", file_failures);
	ASSERT(files >= 14);
	ASSERT(cases >= 200);
}

TEST(validators)
{
	ASSERT(redact_luhn("4111111111111111", 16));
	ASSERT(!redact_luhn("4111111111111112", 16));
	ASSERT(redact_luhn("378282246310005", 15));
	ASSERT_STREQ(redact_card_brand("378282246310005", 15), "American Express");
	ASSERT(redact_card_brand("1234567812345678", 16) == NULL);
	ASSERT(redact_card_brand("4111111111111", 13) != NULL);
	ASSERT(redact_card_brand("41111111111111", 14) == NULL);
	ASSERT(redact_ssn_valid(123, 45, 6789));
	ASSERT(!redact_ssn_valid(0, 45, 6789));
	ASSERT(!redact_ssn_valid(666, 45, 6789));
	ASSERT(!redact_ssn_valid(900, 45, 6789));
	ASSERT(!redact_ssn_valid(123, 0, 6789));
	ASSERT(!redact_ssn_valid(123, 45, 0));
	ASSERT_EQ(redact_iban_length("DE"), 22);
	ASSERT_EQ(redact_iban_length("NO"), 15);
	ASSERT_EQ(redact_iban_length("US"), 0);
	ASSERT(redact_iban_mod97("DE89370400440532013000", 22));
	ASSERT(!redact_iban_mod97("DE88370400440532013000", 22));
	ASSERT(redact_iban_mod97("GB82WEST12345698765432", 22));
	ASSERT(redact_entropy("aaaaaaaa", 8) == 0.0);
	ASSERT(redact_entropy("abcdefgh", 8) == 3.0);
	ASSERT(redact_jwt_header("eyJhbGciOiJIUzI1NiJ9", 20));
	ASSERT(!redact_jwt_header("eyJub3QiOiJhIGp3dCJ9", 20));
	ASSERT(!redact_jwt_header("eyJhbGciOi", 10));	/* truncated JSON */
}

TEST(numbering_counts_and_explain)
{
	struct redact_rules rr;
	struct redactor *r;
	struct buf out = BUF_INIT;

	redact_rules_init(&rr);
	ASSERT_OK(redactor_new(&r, &rr));
	redact_str(r, "a@b.org x c@d.org y A@B.ORG 4111-1111-1111-1111 "
		   "4111 1111 1111 1111\n", &out);
	ASSERT_STREQ(out.data, "<EMAIL_1> x <EMAIL_2> y <EMAIL_1> <CARD_1> "
		     "<CARD_1>\n");
	ASSERT_EQ(redact_count(r, REDACT_EMAIL), 3);
	ASSERT_EQ(redact_count(r, REDACT_CARD), 2);
	/* A new document numbers from 1 again; counts go on. */
	redact_str(r, "c@d.org\n", &out);
	ASSERT_STREQ(out.data, "<EMAIL_1>\n");
	ASSERT_EQ(redact_count(r, REDACT_EMAIL), 4);
	redact_counts_reset(r);
	ASSERT_EQ(redact_count(r, REDACT_EMAIL), 0);
	ASSERT_STREQ(redact_type_label(r, REDACT_URL_CREDENTIALS),
		     "URL_CREDENTIALS");
	redactor_free(r);
	redact_rules_release(&rr);
	buf_release(&out);
}

struct seen {
	char lines[8][160];
	int n;
};

static void record(void *ctx, const struct redact_match *m)
{
	struct seen *s = ctx;

	if (s->n < 8)
		snprintf(s->lines[s->n++], sizeof(s->lines[0]), "%llu %zu %s %s %s",
			 (unsigned long long)m->offset, m->len, m->type_name,
			 m->placeholder, m->detector);
	ASSERT(m->why[0]);
}

TEST(explain_offsets)
{
	struct redact_rules rr;
	struct redactor *r;
	struct buf out = BUF_INIT;
	struct seen s = { .n = 0 };
	const char *text = "one\nmail bob@x.io and SSN 123-45-6789\n";

	redact_rules_init(&rr);
	ASSERT_OK(redactor_new(&r, &rr));
	redactor_set_explain(r, record, &s);
	redact_begin_doc(r);
	/* Two calls make one document: offsets go on from the first. */
	ASSERT_OK(redact_text(r, text, 4, &out));
	ASSERT_OK(redact_text(r, text + 4, strlen(text) - 4, &out));
	ASSERT_EQ(s.n, 2);
	ASSERT_STREQ(s.lines[0], "9 8 EMAIL <EMAIL_1> email");
	ASSERT_STREQ(s.lines[1], "26 11 SSN <SSN_1> ssn");
	redactor_free(r);
	redact_rules_release(&rr);
	buf_release(&out);
}

TEST(rules_allow_and_disabled)
{
	struct redact_rules rr;
	struct redactor *r;
	struct buf out = BUF_INIT;

	redact_rules_init(&rr);
	ASSERT_OK(redact_rules_add_rule_spec(&rr, "ticket:JIRA-[0-9]+"));
	ASSERT_OK(redact_rules_add_rule(&rr, "Employee_ID", "\\bE[0-9]{6}\\b"));
	ASSERT_OK(redact_rules_add_allow(&rr, "noreply@example.org"));
	ASSERT_OK(redact_rules_add_allow(&rr, "/@test\\.invalid$/"));
	ASSERT(redact_rules_add_rule_spec(&rr, "no-separator") == LT_EINVAL);
	ASSERT(redact_rules_add_rule(&rr, "EMAIL", "x") == LT_EINVAL);
	ASSERT(redact_rules_add_rule(&rr, "9lives", "x") == LT_EINVAL);
	ASSERT(redact_rules_add_rule(&rr, "bad name", "x") == LT_EINVAL);
	rr.disabled = 1u << REDACT_IP;
	ASSERT_OK(redactor_new(&r, &rr));
	redact_str(r, "JIRA-1234 by E123456 (JIRA-1234) noreply@example.org "
		   "a@test.invalid b@test.org 10.1.2.3", &out);
	ASSERT_STREQ(out.data, "<TICKET_1> by <EMPLOYEE_ID_1> (<TICKET_1>) "
		     "noreply@example.org a@test.invalid <EMAIL_1> 10.1.2.3");
	ASSERT_EQ(redact_ntypes(r), REDACT_NTYPES + 2);
	ASSERT_STREQ(redact_type_label(r, REDACT_NTYPES), "TICKET");
	ASSERT_EQ(redact_count(r, REDACT_NTYPES + 1), 1);
	redactor_free(r);
	redact_rules_release(&rr);

	/* A bad regex names the rule. */
	redact_rules_init(&rr);
	ASSERT_OK(redact_rules_add_rule(&rr, "broken", "a(b"));
	ASSERT(redactor_new(&r, &rr) == LT_EINVAL);
	ASSERT(strstr(lt_errmsg(), "BROKEN"));
	redact_rules_release(&rr);
	buf_release(&out);
}

TEST(names_file)
{
	char path[256];
	struct redact_rules rr;
	FILE *f;

	snprintf(path, sizeof(path), "%s/names-%d.txt", getenv("TEST_TMPDIR") ?
		 getenv("TEST_TMPDIR") : "/tmp", (int)getpid());
	f = fopen(path, "w");
	ASSERT(f);
	fputs("# colleagues\n\nAda Lovelace [parts]\n  Alan Turing  \n", f);
	fclose(f);
	redact_rules_init(&rr);
	ASSERT_OK(redact_rules_load_names(&rr, path));
	ASSERT_EQ(rr.nnames, 2);
	ASSERT_STREQ(rr.names[1], "Alan Turing");
	f = fopen(path, "w");
	fputs("Ada\n1\n", f);
	fclose(f);
	ASSERT(redact_rules_load_names(&rr, path) == LT_EINVAL);
	ASSERT(strstr(lt_errmsg(), "line 2"));
	remove(path);
	ASSERT(redact_rules_load_names(&rr, path) == LT_EIO);
	redact_rules_release(&rr);
}

/* A document larger than a window, with matches right at the cuts. */
TEST(windows)
{
	struct redact_rules rr;
	struct redactor *r;
	struct buf in = BUF_INIT, out = BUF_INIT, want = BUF_INIT;
	const char *card = "4111 1111 1111 1111";
	size_t i = 0;

	redact_rules_init(&rr);
	ASSERT_OK(redactor_new(&r, &rr));
	/* One long line of words, so the cuts fall at blanks, with a card
	 * every 997 bytes: some straddle every possible cut. */
	while (in.len < 3 * REDACT_CHUNK) {
		buf_addf(&in, "w%zu ", i);
		buf_addf(&want, "w%zu ", i);
		if (++i % 150 == 0) {
			buf_addf(&in, "%s ", card);
			buf_addstr(&want, "<CARD_1> ");
		}
	}
	redact_str(r, in.data, &out);
	ASSERT_EQ(out.len, want.len);
	ASSERT(!strcmp(out.data, want.data));
	ASSERT_EQ(redact_count(r, REDACT_CARD), (long long)(i / 150));
	redactor_free(r);
	redact_rules_release(&rr);
	buf_release(&in);
	buf_release(&out);
	buf_release(&want);
}

/* Inputs that would make a naive engine quadratic must stay fast. */
TEST(pathological)
{
	static const char *const unit[] = {
		"4", "1 ", "@", "a@", "a.", "eyJ", "eyJhbGciOiJIUzI1NiJ9.", "::",
		"key=", "+1", "AKIA", "-----BEGIN PRIVATE KEY-----", "0", "ab:",
		"1.", "a", "A1",
	};
	struct redact_rules rr;
	struct redactor *r;
	struct buf in = BUF_INIT, out = BUF_INIT;
	clock_t t0;

	redact_rules_init(&rr);
	ASSERT_OK(redactor_new(&r, &rr));
	for (size_t k = 0; k < sizeof(unit) / sizeof(*unit); k++) {
		buf_reset(&in);
		while (in.len < (2u << 20))
			buf_addstr(&in, unit[k]);
		t0 = clock();
		redact_str(r, in.data, &out);
		/* 2 MiB in well under a second, even under sanitizers. */
		if ((double)(clock() - t0) / CLOCKS_PER_SEC > 20.0)
			TEST_FAIL("'%s' repeated took %.1f s", unit[k],
				  (double)(clock() - t0) / CLOCKS_PER_SEC);
		ASSERT(out.len > 0);
	}
	redactor_free(r);
	redact_rules_release(&rr);
	buf_release(&in);
	buf_release(&out);
}

/* ---- redact_window() against redact_text() ------------------------------ */

/* The lines of every data file (cases expanded, directives dropped):
 * text with every kind of value, near misses, and private keys. */
static void load_pool(char ***v, size_t *n)
{
	DIR *dir = opendir(DATA);
	struct dirent *e;
	struct buf in = BUF_INIT, want = BUF_INIT;

	ASSERT(dir);
	*v = NULL;
	*n = 0;
	while ((e = readdir(dir))) {
		char path[512], *line = NULL;
		size_t cap = 0;
		ssize_t len;
		FILE *f;

		if (!strstr(e->d_name, ".txt"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", DATA, e->d_name);
		ASSERT((f = fopen(path, "r")));
		while ((len = getline(&line, &cap, f)) >= 0) {
			if (len && line[len - 1] == '\n')
				line[--len] = '\0';
			if (!strncmp(line, "tp: ", 4))
				expand_case(line + 4, "X", &in, &want);
			else if (!strncmp(line, "fp: ", 4)) {
				buf_reset(&in);
				buf_addstr(&in, line + 4);
			} else {
				continue;
			}
			*v = xrealloc(*v, (*n + 1) * sizeof(**v));
			(*v)[(*n)++] = xstrdup(in.data);
		}
		free(line);
		fclose(f);
	}
	closedir(dir);
	buf_release(&in);
	buf_release(&want);
	ASSERT(*n > 100);
}

static uint64_t wrng = 0x2545f4914f6cdd1dULL;

static size_t wrand(size_t n)
{
	wrng ^= wrng << 13;
	wrng ^= wrng >> 7;
	wrng ^= wrng << 17;
	return n ? (size_t)(wrng % n) : 0;
}

/* Every replacement, as a line of text, to compare the two ways. */
static void log_match(void *ctx, const struct redact_match *m)
{
	buf_addf(ctx, "%llu %zu %s %s %s\n", (unsigned long long)m->offset,
		 m->len, m->placeholder, m->detector, m->why);
}

/* Some of the pool: whole lines, a piece of one, blanks, newlines. */
static void pool_text(struct buf *b, char **pool, size_t npool, size_t lines)
{
	for (size_t k = 0; k < lines; k++) {
		const char *l = pool[wrand(npool)];
		size_t n = strlen(l), from = 0;

		if (wrand(4) == 0) {	/* a piece: cuts values in two */
			from = wrand(n + 1);
			n = from + wrand(n - from + 1);
		} else {
			n -= from;
		}
		buf_add(b, l + from, n - from);
		buf_addstr(b, wrand(5) ? "\n" : wrand(2) ? " " : "");
	}
}

/* The start of a line near p, or p itself. */
static size_t near_line(const struct buf *t, size_t p)
{
	if (wrand(3) == 0)
		return p;
	while (p > 0 && t->data[p - 1] != '\n')
		p--;
	return p;
}

/*
 * Documents edited at random, each state redacted in windows both ways:
 * redact_window() (with its memory of the lines) must give what
 * redact_text() gives on the same window: bytes, numbers, explain calls
 * (offsets, detectors, reasons) and counts. rules says which redactor.
 */
static void windows_vs_text(struct redact_rules *rr, int docs,
			    size_t maxlines, int no_keys)
{
	struct redactor *a, *b;
	struct buf t = BUF_INIT, t2 = BUF_INIT, ins = BUF_INIT;
	struct buf oa = BUF_INIT, ob = BUF_INIT, la = BUF_INIT, lb = BUF_INIT;
	char **pool;
	size_t npool;

	load_pool(&pool, &npool);
	for (size_t k = 0; no_keys && k < npool; k++)
		if (strstr(pool[k], "PRIVATE KEY"))	/* one would do it all plain */
			pool[k][0] = '\0';
	ASSERT_OK(redactor_new(&a, rr));
	ASSERT_OK(redactor_new(&b, rr));
	redactor_set_explain(a, log_match, &la);
	redactor_set_explain(b, log_match, &lb);
	for (int d = 0; d < docs; d++) {
		buf_reset(&t);
		pool_text(&t, pool, npool, 5 + wrand(maxlines));
		redact_begin_doc(a);
		redact_begin_doc(b);
		for (int step = 0; step < 40; step++) {
			size_t ws = near_line(&t, wrand(t.len + 1));
			size_t we = ws + wrand(t.len - ws + 1), lo, ahi;

			if (wrand(2) && we < t.len)	/* to a line's end */
				while (we < t.len && t.data[we++] != '\n')
					;
			buf_reset(&oa);
			buf_reset(&ob);
			buf_reset(&la);
			buf_reset(&lb);
			ASSERT_OK(redact_window(a, t.data, t.len, ws, we, &oa));
			ASSERT_OK(redact_text(b, t.data + ws, we - ws, &ob));
			if (strcmp(oa.data, ob.data) || strcmp(la.data, lb.data))
				TEST_FAIL("doc %d step %d, window [%zu, %zu) of:\n"
					  "%s\n-- window:\n%s\n-- text:\n%s\n"
					  "-- window explains:\n%s-- text:\n%s",
					  d, step, ws, we, t.data, oa.data,
					  ob.data, la.data, lb.data);
			/* An edit: a range replaced by a piece of the pool. */
			lo = wrand(t.len + 1);
			ahi = lo + wrand((t.len - lo) / 4 + 1);
			buf_reset(&ins);
			if (wrand(3))
				pool_text(&ins, pool, npool, 1 + wrand(2));
			if (ins.len > 1 && wrand(2))
				buf_setlen(&ins, wrand(ins.len));
			buf_reset(&t2);
			buf_add(&t2, t.data, lo);
			buf_add(&t2, ins.data, ins.len);
			buf_add(&t2, t.data + ahi, t.len - ahi);
			{
				size_t p = 0, alen = t.len, blen = t2.len;

				/* As the export gives it: the span that differs. */
				while (p < alen && p < blen && t.data[p] == t2.data[p])
					p++;
				while (alen > p && blen > p &&
				       t.data[alen - 1] == t2.data[blen - 1])
					alen--, blen--;
				ASSERT_OK(redact_window_edit(a, t2.data, t2.len, p,
							     alen, blen));
			}
			buf_reset(&t);
			buf_add(&t, t2.data, t2.len);
		}
	}
	for (size_t k = 0; k < redact_ntypes(a); k++)
		ASSERT_EQ(redact_count(a, k), redact_count(b, k));
	redactor_free(a);
	redactor_free(b);
	for (size_t k = 0; k < npool; k++)
		free(pool[k]);
	free(pool);
	buf_release(&t);
	buf_release(&t2);
	buf_release(&ins);
	buf_release(&oa);
	buf_release(&ob);
	buf_release(&la);
	buf_release(&lb);
}

TEST(window_same_as_text)
{
	struct redact_rules rr;

	/* The built-ins, an allowlist and one-word names: lines apply. */
	redact_rules_init(&rr);
	ASSERT_OK(redact_rules_add_allow(&rr, "ada@example.org"));
	ASSERT_OK(redact_rules_add_allow(&rr, "/^10\\./"));
	ASSERT_OK(redact_rules_add_name(&rr, "Lovelace"));
	ASSERT_OK(redact_rules_add_name(&rr, "Turing"));
	windows_vs_text(&rr, 300, 60, 0);
	/* Documents with more candidates than a document remembers. */
	windows_vs_text(&rr, 10, 2000, 1);
	redact_rules_release(&rr);
	/* A user rule and a full name may span lines: plain redact_text. */
	redact_rules_init(&rr);
	ASSERT_OK(redact_rules_add_rule(&rr, "TICKET", "JIRA-[0-9]+\\s+X"));
	ASSERT_OK(redact_rules_add_name(&rr, "Ada Lovelace [parts]"));
	windows_vs_text(&rr, 40, 60, 0);
	redact_rules_release(&rr);
}

TEST_LIST = {
	TEST_ENTRY(detector_cases),
	TEST_ENTRY(validators),
	TEST_ENTRY(numbering_counts_and_explain),
	TEST_ENTRY(explain_offsets),
	TEST_ENTRY(rules_allow_and_disabled),
	TEST_ENTRY(names_file),
	TEST_ENTRY(windows),
	TEST_ENTRY(pathological),
	TEST_ENTRY(window_same_as_text),
	TEST_END,
};

TEST_MAIN()
