/*
 * The built-in detectors: each takes a Hyperscan report of its anchor,
 * finds the whole token around it, checks that the token stands on its
 * own (word boundaries: digits inside a longer number or letters inside
 * an identifier never match) and runs its validator. doc/redaction.md
 * describes every one in words.
 */
#define _GNU_SOURCE	/* memmem */
#include "redact-int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "banned.h"

/* ---- character classes and boundaries ---------------------------------- */

static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_upper(int c) { return c >= 'A' && c <= 'Z'; }
static int is_lower(int c) { return c >= 'a' && c <= 'z'; }
static int is_alpha(int c) { return is_upper(c) || is_lower(c); }
static int is_alnum(int c) { return is_alpha(c) || is_digit(c); }
static int is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
/* Part of a word: letters, digits, _ and any byte of a UTF-8 sequence. */
static int is_word(int c) { return is_alnum(c) || c == '_' || c >= 0x80; }
static int is_b64url(int c) { return is_alnum(c) || c == '-' || c == '_'; }

/* The byte at i, or 0 outside the window (a boundary). */
static int at(const struct scan *sc, size_t i)
{
	return i < sc->n ? (unsigned char)sc->s[i] : 0;
}
static int before(const struct scan *sc, size_t i)
{
	return i > 0 ? (unsigned char)sc->s[i - 1] : 0;
}

/* Reports of this slot inside [the current anchor, end) need no look. */
static void examined(struct scan *sc, const struct pattern *p, size_t end)
{
	if (end > sc->ex_hi[p->slot]) {
		sc->ex_lo[p->slot] = sc->cur_from;
		sc->ex_hi[p->slot] = end;
	}
}

/* A number continues past i: a digit, or . , - : / followed by a digit. */
static int number_goes_on(const struct scan *sc, size_t i)
{
	int c = at(sc, i);

	if (is_word(c))
		return 1;
	return (c == '.' || c == ',' || c == '-' || c == ':' || c == '/') &&
	       is_digit(at(sc, i + 1));
}

/* A number started before i (the mirror of number_goes_on). */
static int number_came_before(const struct scan *sc, size_t i)
{
	int c = before(sc, i);

	if (is_word(c))
		return 1;
	return (c == '.' || c == ',' || c == '-' || c == ':' || c == '/' ||
		c == '+') && i >= 2 && is_digit(before(sc, i - 1));
}

/* ---- validators --------------------------------------------------------- */

int redact_luhn(const char *d, size_t n)
{
	unsigned sum = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned v = (unsigned)(d[n - 1 - i] - '0');

		if (i & 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return n > 0 && sum % 10 == 0;
}

static unsigned prefix(const char *d, size_t k)
{
	unsigned v = 0;

	for (size_t i = 0; i < k; i++)
		v = v * 10 + (unsigned)(d[i] - '0');
	return v;
}

const char *redact_card_brand(const char *d, size_t n)
{
	unsigned p2 = prefix(d, 2), p3 = prefix(d, 3), p4 = prefix(d, 4);
	unsigned p6 = prefix(d, 6);

	if (n < 13 || n > 19)
		return NULL;
	if (d[0] == '4' && (n == 13 || n == 16 || n == 19))
		return "Visa";
	if (((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) && n == 16)
		return "Mastercard";
	if ((p2 == 34 || p2 == 37) && n == 15)
		return "American Express";
	if ((p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649) ||
	     (p6 >= 622126 && p6 <= 622925)) && n >= 16)
		return "Discover";
	if (p2 == 62 && n >= 16)
		return "UnionPay";
	if (p4 >= 3528 && p4 <= 3589 && n >= 16)
		return "JCB";
	if (((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39 ||
	     p4 == 3095) && n >= 14)
		return "Diners Club";
	if (p4 >= 2200 && p4 <= 2204 && n == 16)
		return "Mir";
	if (p4 == 5018 || p4 == 5020 || p4 == 5038 || p4 == 5893 ||
	    p4 == 6304 || p4 == 6759 || (p4 >= 6761 && p4 <= 6763))
		return "Maestro";
	return NULL;
}

int redact_ssn_valid(int area, int group, int serial)
{
	if (area <= 0 || area == 666 || area >= 900)
		return 0;
	if (group <= 0 || serial <= 0)
		return 0;
	/* Numbers the SSA voided after they were printed on cards in
	 * advertising (Woolworth's wallet, a 1940s ad). */
	if ((area == 78 && group == 5 && serial == 1120) ||
	    (area == 219 && group == 9 && serial == 9999))
		return 0;
	return 1;
}

/* The SWIFT IBAN registry: country and total length. */
static const struct {
	char cc[3];
	unsigned char len;
} iban_lengths[] = {
	{"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28},
	{"BA", 20}, {"BE", 16}, {"BG", 22}, {"BH", 22}, {"BI", 27},
	{"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28},
	{"CZ", 24}, {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28},
	{"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FK", 18},
	{"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23},
	{"GL", 18}, {"GR", 27}, {"GT", 28}, {"HN", 28}, {"HR", 21},
	{"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26},
	{"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28},
	{"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21},
	{"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19},
	{"MN", 20}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NI", 28},
	{"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24}, {"PL", 28},
	{"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22},
	{"RU", 33}, {"SA", 24}, {"SC", 31}, {"SD", 18}, {"SE", 24},
	{"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23}, {"ST", 25},
	{"SV", 28}, {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29},
	{"VA", 22}, {"VG", 24}, {"XK", 20}, {"YE", 30},
};

int redact_iban_length(const char cc[2])
{
	for (size_t i = 0; i < sizeof(iban_lengths) / sizeof(*iban_lengths); i++)
		if (iban_lengths[i].cc[0] == cc[0] && iban_lengths[i].cc[1] == cc[1])
			return iban_lengths[i].len;
	return 0;
}

int redact_iban_mod97(const char *s, size_t n)
{
	unsigned rem = 0;

	if (n < 5)
		return 0;
	/* The first four characters move to the end; letters count 10..35. */
	for (size_t k = 0; k < n; k++) {
		int c = (unsigned char)s[(k + 4) % n];

		if (is_digit(c))
			rem = (rem * 10 + (unsigned)(c - '0')) % 97;
		else if (is_upper(c))
			rem = (rem * 100 + (unsigned)(c - 'A' + 10)) % 97;
		else
			return 0;
	}
	return rem == 1;
}

double redact_entropy(const char *s, size_t n)
{
	unsigned count[256] = {0};
	double h = 0;

	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		count[(unsigned char)s[i]]++;
	for (int c = 0; c < 256; c++)
		if (count[c]) {
			double p = (double)count[c] / (double)n;
			h -= p * log2(p);
		}
	return h;
}

static int b64url_value(int c)
{
	if (is_upper(c)) return c - 'A';
	if (is_lower(c)) return c - 'a' + 26;
	if (is_digit(c)) return c - '0' + 52;
	if (c == '-' || c == '+') return 62;
	if (c == '_' || c == '/') return 63;
	return -1;
}

int redact_jwt_header(const char *s, size_t n)
{
	unsigned char out[1536];
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0, ok;
	json_t *j;

	if (n > 2048 || n % 4 == 1)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64url_value((unsigned char)s[i]);

		if (v < 0)
			return 0;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	j = json_loadb((const char *)out, o, JSON_REJECT_DUPLICATES, NULL);
	ok = json_is_object(j) && json_is_string(json_object_get(j, "alg"));
	json_decref(j);
	return ok;
}

/* ---- email -------------------------------------------------------------- */

static int is_local(int c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' ||
	       c == '-';
}

/* Names that look like domains but are files (icon@2x.png) or code. */
static int file_tld(const char *t, size_t n)
{
	static const char *const ext[] = {
		"png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp",
		"js", "mjs", "ts", "tsx", "jsx", "css", "scss", "html", "htm",
		"py", "rb", "rs", "go", "java", "kt", "swift", "cpp", "hpp",
		"json", "yaml", "yml", "toml", "xml", "txt", "log", "lock",
		"pdf", "zip", "gz", "tar", "mp4", "mp3", "wav", "woff", "ttf",
		"sh", "vue", "php", "lua", "min", "map", "tgz", "exe", "dll",
		NULL,
	};
	for (int i = 0; ext[i]; i++)
		if (strlen(ext[i]) == n && !strncasecmp(t, ext[i], n))
			return 1;
	return 0;
}

static void det_email(struct scan *sc, const struct pattern *p, size_t from,
		      size_t to)
{
	const char *s = sc->s;
	size_t a = from + 1, ls = a, d, e, label, tld = 0, dots = 0;

	/* UTF-8 letters belong to the local part too (RFC 6531, and an edit
	 * that glued a word onto an address must not hide it). */
	while (ls > 0 && a - ls <= 64 &&
	       (is_local(before(sc, ls)) || before(sc, ls) >= 0x80))
		ls--;
	if (a - ls > 64)
		return;
	while (ls < a && !is_alnum((unsigned char)s[ls]))
		ls++;
	if (ls == a || s[a - 1] == '.')
		return;
	/* The domain: labels of letters, digits and inner hyphens. */
	d = e = a + 1;
	for (;;) {
		label = e;
		while (e < sc->n && e - label < 64 &&
		       (is_alnum(at(sc, e)) || at(sc, e) == '-'))
			e++;
		if (e == label || e - label > 63 || s[label] == '-' ||
		    s[e - 1] == '-')
			return;
		tld = label;
		if (at(sc, e) == '.' && is_alnum(at(sc, e + 1)) && e - d < 253) {
			e++;
			dots++;
			continue;
		}
		break;
	}
	examined(sc, p, e);
	if (!dots || is_word(at(sc, e)) || e - tld < 2 || e - tld > 24)
		return;
	for (size_t i = tld; i < e; i++)
		if (!is_alpha((unsigned char)s[i]))
			return;
	if (file_tld(s + tld, e - tld))
		return;
	/* https://user@host/ names a login on a host, not a mailbox. */
	if (ls >= 3 && !memcmp(s + ls - 3, "://", 3))
		return;
	/* git@github.com:owner/repo is an SSH remote, not a mailbox. */
	if (a - ls == 3 && !memcmp(s + ls, "git", 3) && at(sc, e) == ':')
		return;
	scan_why(sc, scan_add(sc, ls, e, REDACT_EMAIL, p->detector), "local part and %zu-label domain, TLD '%.*s'", dots + 1,
		 (int)(e - tld), s + tld);
}

/* ---- phone numbers ------------------------------------------------------ */

/* Reads a run of digits at *i; returns how many. */
static size_t digits_at(const struct scan *sc, size_t *i, size_t max)
{
	size_t k = 0;

	while (k <= max && is_digit(at(sc, *i))) {
		(*i)++;
		k++;
	}
	return k;
}

/* Neither side touches more of a number; seps are the separators the
 * phone number uses (a space-separated table goes on with a space). */
static int phone_alone(const struct scan *sc, size_t start, size_t end,
		       const char *seps)
{
	int c;

	if (number_came_before(sc, start) || number_goes_on(sc, end))
		return 0;
	c = before(sc, start);
	if (c && strchr(seps, c) && is_digit(before(sc, start - 1)))
		return 0;
	c = at(sc, end);
	if (c && strchr(seps, c) && is_digit(at(sc, end + 1)))
		return 0;
	return 1;
}

static void phone_add(struct scan *sc, const struct pattern *p, size_t start,
		      size_t end, const char *how)
{
	scan_why(sc, scan_add(sc, start, end, REDACT_PHONE, p->detector), "%s", how);
}

/* +CC then groups of digits, single separators, one (group) at most. */
static void det_phone_intl(struct scan *sc, const struct pattern *p,
			   size_t from, size_t to)
{
	size_t i = from + 1, end = 0, ndig = 0, groups = 0;
	int prev_sep = 1, paren = 0, parens = 0, c;
	char seps[4] = "";

	while (i < sc->n && i - from < 32) {
		c = at(sc, i);
		if (is_digit(c)) {
			size_t k = digits_at(sc, &i, 15);

			ndig += k;
			groups++;
			end = i;
			prev_sep = 0;
			continue;
		}
		if (c == '(' && !paren && !parens && groups &&
		    is_digit(at(sc, i + 1))) {
			paren = 1;
			parens++;
		} else if (c == ')' && paren && !prev_sep) {
			paren = 0;
			prev_sep = 0;
			i++;
			continue;
		} else if ((c == ' ' || c == '-' || c == '.') && !prev_sep) {
			if (!strchr(seps, c) && strlen(seps) < 3)
				seps[strlen(seps)] = (char)c;
		} else {
			break;
		}
		prev_sep = 1;
		i++;
	}
	examined(sc, p, end);
	if (paren || ndig < 9 || ndig > 15 || groups > 6 || !end)
		return;
	c = before(sc, from);
	if (is_word(c) || (c && strchr(")]}+-*/^%.", c)))
		return;
	if (!phone_alone(sc, from, end, seps))
		return;
	phone_add(sc, p, from, end, "E.164: '+' and 9 to 15 digits");
}

/* (555) 123-4567, 555-123-4567, 555.123.4567, 1-555-123-4567. */
static void det_phone_us(struct scan *sc, const struct pattern *p,
			 size_t from, size_t to)
{
	size_t i = from, start = from;
	int paren = at(sc, i) == '(', s1 = 0, s2;
	char seps[3] = "";

	if (paren)
		i++;
	if (digits_at(sc, &i, 3) != 3)
		return;
	if (paren) {
		if (at(sc, i) != ')')
			return;
		i++;
		if (at(sc, i) == ' ')
			i++;
	} else {
		s1 = at(sc, i);
		if (s1 != '-' && s1 != '.' && s1 != ' ')
			return;
		i++;
	}
	if (!(at(sc, i) >= '2' && at(sc, i) <= '9') ||
	    digits_at(sc, &i, 3) != 3)
		return;
	s2 = at(sc, i);
	if ((s2 != '-' && s2 != '.' && s2 != ' ') || (!paren && s1 != s2))
		return;
	i++;
	if (digits_at(sc, &i, 4) != 4)
		return;
	examined(sc, p, i);
	seps[0] = (char)s2;
	if (!paren && start >= 2 && before(sc, start) == s1 &&
	    before(sc, start - 1) == '1' && !is_word(before(sc, start - 2)) &&
	    before(sc, start - 2) != '+')
		start -= 2;	/* the country code 1 */
	else if (paren && before(sc, start) == ' ' && before(sc, start - 1) == '1'
		 && !is_word(before(sc, start - 2)))
		start -= 2;
	if (!phone_alone(sc, start, i, seps))
		return;
	phone_add(sc, p, start, i, "North American number: area code, "
		  "exchange and line with separators");
}

/* 06 12 34 56 78 (France), 020 7946 0958 (UK), 030/12345678 (Germany):
 * a leading 0 then a fixed grouping, 10 to 12 digits in all. */
static void det_phone_eu(struct scan *sc, const struct pattern *p,
			 size_t from, size_t to)
{
	size_t i = from, g[6], ng = 0, ndig = 0;
	int sep = 0, c;
	char seps[2] = "";

	while (ng < 6) {
		size_t k = digits_at(sc, &i, 12);

		if (!k)
			return;
		g[ng++] = k;
		ndig += k;
		c = at(sc, i);
		if (!(c == ' ' || c == '.' || c == '/' || c == '-') ||
		    !is_digit(at(sc, i + 1)) || (sep && c != sep))
			break;
		if (!sep)
			sep = c;
		i++;
	}
	examined(sc, p, i);
	seps[0] = (char)sep;
	if (ndig < 10 || ndig > 12 || ng < 2 || !phone_alone(sc, from, i, seps))
		return;
	if (ng == 5 && ndig == 10 && (sep == ' ' || sep == '.') &&
	    g[0] == 2 && g[1] == 2 && g[2] == 2 && g[3] == 2)
		phone_add(sc, p, from, i, "French number: 0X then four pairs");
	else if (ng == 3 && sep == ' ' && g[0] >= 3 && g[0] <= 5 &&
		 g[1] >= 3 && g[1] <= 4 && g[2] >= 3 && g[2] <= 4)
		phone_add(sc, p, from, i, "UK-style number: 0 area, two groups");
	else if (ng == 2 && g[0] >= 3 && g[0] <= 5 && g[1] >= 5)
		phone_add(sc, p, from, i, "German-style number: 0 area, "
			  "separator, subscriber");
}

/* ---- payment cards ------------------------------------------------------ */

static void det_card(struct scan *sc, const struct pattern *p, size_t from,
		     size_t to)
{
	char d[20];
	size_t start = from, i, nd = 0, g[6], ng = 0;
	int sep = 0, c;
	const char *brand;

	/* The run of digit groups from here, joined by one kind of separator.
	 * Reports come in order of their ends, so the first report of a run
	 * starts where the run does; the rest fall in what it examined. */
	/* An anchor that starts inside another number (the last group of
	 * 4111-1111-1111-1111 4111 ...) judges nothing. */
	if (number_came_before(sc, start))
		return;
	i = start;
	for (;;) {
		size_t k = 0;

		while (is_digit(at(sc, i)) && i - start < 4096) {
			if (nd < sizeof(d))
				d[nd] = sc->s[i];
			nd++;
			k++;
			i++;
		}
		if (ng < 6)
			g[ng] = k;
		ng++;
		c = at(sc, i);
		if ((c == ' ' || c == '-') && (!sep || c == sep) &&
		    is_digit(at(sc, i + 1)) && i - start < 4096) {
			sep = c;
			i++;
			continue;
		}
		break;
	}
	examined(sc, p, i);
	if (nd < 13 || nd > 19 || ng > 5)
		return;
	/* A row of a table of numbers (12 4111 1111 ...), not a card. */
	if (sep && before(sc, start) == sep && is_digit(before(sc, start - 1))) {
		size_t k = start - 1;

		while (k > 0 && start - k < 8 && is_digit(before(sc, k)))
			k--;
		if (start - k < 8 && !is_word(before(sc, k)) &&
		    before(sc, k) != '-')
			return;
	}
	if (before(sc, start) == '+')
		return;	/* +4111...: a phone number */
	if (ng > 1) {
		/* 4-4-4-4, 4-4-4-4-3, 4-6-5 (Amex), 4-6-4 (Diners). */
		if (g[0] != 4)
			return;
		for (size_t k = 1; k < ng; k++)
			if (g[k] < (k == ng - 1 ? 1u : 4u) || g[k] > 6)
				return;
	}
	if (number_came_before(sc, start) || number_goes_on(sc, i))
		return;
	if (!redact_luhn(d, nd) || !(brand = redact_card_brand(d, nd)))
		return;
	scan_why(sc, scan_add(sc, start, i, REDACT_CARD, p->detector), "Luhn checksum valid, %s prefix, %zu digits", brand, nd);
}

/* ---- US social security numbers ----------------------------------------- */

static void ssn_add(struct scan *sc, const struct pattern *p, size_t start,
		    size_t end, const char *d, const char *how)
{
	int area = (int)prefix(d, 3), group = (int)prefix(d + 3, 2);
	int serial = (int)prefix(d + 5, 4);

	if (!redact_ssn_valid(area, group, serial))
		return;
	scan_why(sc, scan_add(sc, start, end, REDACT_SSN, p->detector), "%s; area %03d, group %02d, serial %04d can be issued", how,
		 area, group, serial);
}

static void det_ssn(struct scan *sc, const struct pattern *p, size_t from,
		    size_t to)
{
	char d[9];
	const char *s = sc->s + from;

	examined(sc, p, to);
	if (number_came_before(sc, from) || number_goes_on(sc, to))
		return;
	memcpy(d, s, 3);
	memcpy(d + 3, s + 4, 2);
	memcpy(d + 5, s + 7, 4);
	ssn_add(sc, p, from, to, d, "AAA-GG-SSSS");
}

/* "SSN 123 45 6789" or "social security number: 123456789": the forms
 * without dashes count only right after such a label. */
static void det_ssn_label(struct scan *sc, const struct pattern *p,
			  size_t from, size_t to)
{
	char d[9];
	size_t i = to, start, nd = 0;
	int sep = -1;

	if (is_alpha(before(sc, from)))
		return;
	while (i < sc->n && i - to < 24 && !is_digit(at(sc, i)) &&
	       at(sc, i) != '\n')
		i++;
	start = i;
	while (nd < 9 && i < sc->n) {
		int c = at(sc, i);

		if (is_digit(c)) {
			d[nd++] = (char)c;
			i++;
		} else if ((nd == 3 || nd == 5) && (c == ' ' || c == '-')) {
			if (sep >= 0 && c != sep)
				return;
			sep = c;
			i++;
		} else {
			break;
		}
	}
	examined(sc, p, i);
	if (nd != 9 || sep == '-' || number_came_before(sc, start) ||
	    number_goes_on(sc, i))
		return;
	ssn_add(sc, p, start, i, d, "9 digits after an SSN label");
}

/* ---- IBAN --------------------------------------------------------------- */

static void det_iban(struct scan *sc, const struct pattern *p, size_t from,
		     size_t to)
{
	char v[34];
	size_t i = from, n = 0;
	int want, grouped;

	if (is_word(before(sc, from)))
		return;
	want = redact_iban_length(sc->s + from);
	if (!want)
		return;
	grouped = at(sc, from + 4) == ' ';
	while (n < (size_t)want && i < sc->n) {
		int c = at(sc, i);

		if (is_upper(c) || is_digit(c)) {
			v[n++] = (char)c;
			i++;
		} else if (grouped && c == ' ' && n % 4 == 0 && n &&
			   (is_upper(at(sc, i + 1)) || is_digit(at(sc, i + 1)))) {
			i++;
		} else {
			break;
		}
	}
	/* Not examined() on failure: a failed try (DE89 GB82WEST...) may
	 * run into a real IBAN that starts inside it. */
	if (n != (size_t)want || is_word(at(sc, i)))
		return;
	if (!redact_iban_mod97(v, n))
		return;
	examined(sc, p, i);
	scan_why(sc, scan_add(sc, from, i, REDACT_IBAN, p->detector), "country %.2s, %d characters, mod-97 checksum valid",
		 sc->s + from, want);
}

/* ---- IP and MAC addresses ----------------------------------------------- */

static void det_ipv4(struct scan *sc, const struct pattern *p, size_t from,
		     size_t to)
{
	size_t i = from;
	int o[4];

	for (int k = 0; k < 4; k++) {
		size_t s = i, nd = digits_at(sc, &i, 3);

		if (nd == 0 || nd > 3 || (nd > 1 && sc->s[s] == '0'))
			return;
		o[k] = (int)prefix(sc->s + s, nd);
		if (o[k] > 255)
			return;
		if (k < 3) {
			if (at(sc, i) != '.')
				return;
			i++;
		}
	}
	examined(sc, p, i);
	/* A port may follow (1.2.3.4:8080), more dotted numbers may not. */
	if (number_came_before(sc, from) || before(sc, from) == '.' ||
	    is_word(at(sc, i)) || (at(sc, i) == '.' && is_word(at(sc, i + 1))))
		return;
	/* Addresses that name no one: unspecified, loopback, broadcast and
	 * netmasks. */
	if (o[0] == 0 || o[0] == 127 || o[0] == 255)
		return;
	scan_why(sc, scan_add(sc, from, i, REDACT_IP, p->detector), "IPv4: four octets of at most 255");
}

static void det_ipv6(struct scan *sc, const struct pattern *p, size_t from,
		     size_t to)
{
	char tok[48];
	size_t s = from, e = from, groups = 0, glen = 0, long_group = 0;
	int has_digit = 0;
	unsigned char addr[16];
	static const unsigned char loop[16] = {[15] = 1};
	static const unsigned char zero[16];

	while (s > 0 && from - s < 46 && (is_hex(before(sc, s)) ||
					  before(sc, s) == ':'))
		s--;
	while (e < sc->n && e - s < 46 && (is_hex(at(sc, e)) ||
					   at(sc, e) == ':' || at(sc, e) == '.'))
		e++;
	examined(sc, p, e);
	if (e - s > 45 || is_word(before(sc, s)) || is_word(at(sc, e)))
		return;
	while (e > s && at(sc, e - 1) == '.')
		e--;
	if (e - s >= 2 && at(sc, e - 1) == ':' && at(sc, e - 2) != ':')
		e--;
	memcpy(tok, sc->s + s, e - s);
	tok[e - s] = '\0';
	if (inet_pton(AF_INET6, tok, addr) != 1)
		return;
	if (!memcmp(addr, loop, 16) || !memcmp(addr, zero, 16))
		return;
	/* C++ names (Cafe::Bad) parse too: ask for digits or many groups. */
	for (size_t k = 0; k <= e - s; k++) {
		int c = k < e - s ? tok[k] : ':';

		if (c == ':' || c == '.') {
			if (glen)
				groups++;
			if (glen == 4)
				long_group = 1;
			glen = 0;
		} else {
			glen++;
			has_digit |= is_digit(c);
		}
	}
	if (!(groups >= 3 || long_group) || !(has_digit || groups >= 4))
		return;
	scan_why(sc, scan_add(sc, s, e, REDACT_IP, p->detector), "IPv6: inet_pton accepts it, %zu groups", groups);
}

static void det_mac(struct scan *sc, const struct pattern *p, size_t from,
		    size_t to)
{
	const char *s = sc->s + from;
	int dotted = s[4] == '.', zero = 1, ones = 1;
	char sep = dotted ? '.' : s[2];

	examined(sc, p, to);
	if (!dotted) {
		for (int k = 5; k < 17; k += 3)
			if (s[k] != sep)
				return;
	}
	if (is_word(before(sc, from)) || before(sc, from) == ':' ||
	    before(sc, from) == '-' || before(sc, from) == '.' ||
	    is_word(at(sc, to)) ||
	    ((at(sc, to) == sep || at(sc, to) == ':') && is_hex(at(sc, to + 1))))
		return;
	for (size_t k = 0; k < to - from; k++) {
		if (!is_hex((unsigned char)s[k]))
			continue;
		zero &= s[k] == '0';
		ones &= s[k] == 'f' || s[k] == 'F';
	}
	if (zero || ones)	/* no device: all zeros, broadcast */
		return;
	scan_why(sc, scan_add(sc, from, to, REDACT_MAC, p->detector), "MAC: six hex octets, one separator '%c'", sep);
}

/* ---- URLs with credentials ---------------------------------------------- */

/* A value that only stands for a secret: ${X}, <password>, ****, ... */
static int placeholder_value(const char *v, size_t n)
{
	static const char *const words[] = {
		"password", "passwd", "pass", "secret", "token", "changeme",
		"null", "none", "nil", "true", "false", "undefined", "empty",
		"string", "required", "optional", "test", "xxx", "pwd", "key",
		"your_password", "yourpassword", "mypassword", "placeholder",
		"redacted", "hidden", "masked", "value", "foo", "bar", "user",
		NULL,
	};
	static const char *const parts[] = {
		"EXAMPLE", "example", "xxxx", "XXXX", "****", "...", "${", "{{",
		"<", ">", "your_", "your-", "YOUR_", "changeme", "CHANGEME",
		"placeholder", "PLACEHOLDER", "dummy", "DUMMY", "redacted",
		"REDACTED", "sample", "SAMPLE", "\\(", "%s", "%(", NULL,
	};
	size_t same = 1;

	if (!n)
		return 1;
	if (strchr("$%{[<*#@", v[0]))
		return 1;
	for (int i = 0; words[i]; i++)
		if (strlen(words[i]) == n && !strncasecmp(v, words[i], n))
			return 1;
	for (int i = 0; parts[i]; i++)
		if (memmem(v, n, parts[i], strlen(parts[i])))
			return 1;
	while (same < n && v[same] == v[0])
		same++;
	return same == n;
}

static void det_url_creds(struct scan *sc, const struct pattern *p,
			  size_t from, size_t to)
{
	size_t scheme = from, colon, atpos = to - 1;
	const char *s = sc->s;

	examined(sc, p, to);
	while (scheme > 0 && from - scheme < 32 &&
	       (is_alnum(before(sc, scheme)) || before(sc, scheme) == '+' ||
		before(sc, scheme) == '.' || before(sc, scheme) == '-'))
		scheme--;
	if (scheme == from || !is_alpha(at(sc, scheme)))
		return;
	colon = from + 3;
	while (s[colon] != ':')
		colon++;
	if (placeholder_value(s + colon + 1, atpos - colon - 1))
		return;
	if (!is_alnum(at(sc, to)) && at(sc, to) != '[')
		return;	/* the host must follow */
	scan_why(sc, scan_add(sc, from + 3, atpos, REDACT_URL_CREDENTIALS,
			  p->detector), "user:password before '@' in a %.*s:// URL",
		 (int)(from - scheme > 16 ? 16 : from - scheme), s + scheme);
}

/* ---- tokens with a known shape ------------------------------------------ */

static size_t distinct(const char *s, size_t n)
{
	unsigned char seen[256] = {0};
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (!seen[(unsigned char)s[i]]++)
			k++;
	return k;
}

/* A fixed-length token: it must not touch other word characters, and
 * documentation examples (AKIAIOSFODNN7EXAMPLE, ghp_xxxx...) do not count. */
static int token_alone(struct scan *sc, size_t from, size_t to)
{
	const char *s = sc->s + from;
	size_t n = to - from;

	if (is_word(before(sc, from)) || is_word(at(sc, to)))
		return 0;
	if (memmem(s, n, "EXAMPLE", 7) || memmem(s, n, "example", 7))
		return 0;
	return distinct(s, n) >= (n < 24 ? 8u : 12u);
}

static void det_fixed_token(struct scan *sc, const struct pattern *p,
			    size_t from, size_t to)
{
	examined(sc, p, to);
	if (!token_alone(sc, from, to))
		return;
	scan_why(sc, scan_add(sc, from, to, p->type, p->detector), "%s: prefix and %zu characters, not an example",
		 p->detector, to - from);
}

/* A token that goes on over [A-Za-z0-9_-] after its prefix: Slack, and
 * the prefixed API keys (Stripe, OpenAI, GitLab, npm, Google). */
static void det_open_token(struct scan *sc, const struct pattern *p,
			   size_t from, size_t to)
{
	size_t e = to, min = 20;
	double h;

	while (e < sc->n && e - from < 256 && (is_b64url(at(sc, e)) ||
		(p->type == REDACT_SLACK_TOKEN && at(sc, e) == '.')))
		e++;
	examined(sc, p, e);
	if (p->type == REDACT_SECRET)
		min = 32;
	if (e - from < min || e - from >= 256 || !token_alone(sc, from, e))
		return;
	h = redact_entropy(sc->s + from, e - from);
	if (h < 3.0)
		return;
	scan_why(sc, scan_add(sc, from, e, p->type, p->detector), "%s: prefix, %zu characters, entropy %.2f bits", p->detector,
		 e - from, h);
}

/* https://hooks.slack.com/services/T000/B000/XXXX: the path is the key. */
static void det_slack_webhook(struct scan *sc, const struct pattern *p,
			      size_t from, size_t to)
{
	size_t s = from + strlen("hooks.slack.com/services/"), e = s;

	while (e < sc->n && e - s < 128 && (is_alnum(at(sc, e)) ||
					    at(sc, e) == '/'))
		e++;
	examined(sc, p, e);
	if (e - s < 20 || !token_alone(sc, s, e))
		return;
	scan_why(sc, scan_add(sc, s, e, REDACT_SLACK_TOKEN, p->detector), "Slack incoming webhook path");
}

/* ---- private keys ------------------------------------------------------- */

static int is_b64(int c) { return is_alnum(c) || c == '+' || c == '/' || c == '='; }

static void det_private_key(struct scan *sc, const struct pattern *p,
			    size_t from, size_t to)
{
	size_t limit = sc->n - to < 65536 ? sc->n : to + 65536, e;
	const char *end = memmem(sc->s + to, limit - to, "-----END", 8);
	const char *why = "PEM block from BEGIN to END";

	if (end) {
		size_t after = (size_t)(end - sc->s) + 8;
		size_t room = limit - after < 64 ? limit - after : 64;
		const char *close = memmem(sc->s + after, room, "-----", 5);

		e = close ? (size_t)(close - sc->s) + 5 : after;
	} else if (!sc->flush && limit == sc->n) {
		/* The END may be in the next window: claim to the end of
		 * this one so that the window is cut before the block. */
		e = sc->n;
		why = "PEM block cut at the window's end";
	} else {
		/* No END: take the lines of base64 that follow. */
		e = to;
		while (e < limit) {
			size_t l = e;

			while (l < limit && (at(sc, l) == '\n' || at(sc, l) == '\r'))
				l++;
			if (l == limit || !is_b64(at(sc, l)))
				break;
			while (l < limit && (is_b64(at(sc, l)) ||
					     at(sc, l) == '\\'))
				l++;
			e = l;
		}
		why = "PEM BEGIN line and the base64 after it (no END)";
	}
	examined(sc, p, e);
	scan_why(sc, scan_add(sc, from, e, REDACT_PRIVATE_KEY, p->detector), "%s", why);
}

/* ---- JWT ---------------------------------------------------------------- */

static void det_jwt(struct scan *sc, const struct pattern *p, size_t from,
		    size_t to)
{
	size_t d1 = from, d2, e;

	while (d1 < sc->n && d1 - from < 2048 && is_b64url(at(sc, d1)))
		d1++;
	if (at(sc, d1) != '.') {
		examined(sc, p, d1);
		return;
	}
	d2 = d1 + 1;
	while (d2 < sc->n && d2 - d1 < 65536 && is_b64url(at(sc, d2)))
		d2++;
	if (at(sc, d2) != '.' || d2 - d1 < 5) {
		examined(sc, p, d2);
		return;
	}
	e = d2 + 1;
	while (e < sc->n && e - d2 < 8192 && is_b64url(at(sc, e)))
		e++;
	examined(sc, p, e);
	if (is_word(before(sc, from)) || before(sc, from) == '.' ||
	    is_b64url(at(sc, e)) || (at(sc, e) == '.' && is_b64url(at(sc, e + 1))))
		return;
	if (!redact_jwt_header(sc->s + from, d1 - from))
		return;
	scan_why(sc, scan_add(sc, from, e, REDACT_JWT, p->detector), "three base64url parts, header is JSON with \"alg\"");
}

/* ---- generic secrets: NAME = value -------------------------------------- */

static int is_ident(int c)
{
	return is_alnum(c) || c == '_' || c == '-' || c == '.';
}

enum { SECRET_NONE, SECRET_PASSWORD, SECRET_KEY };

/*
 * Is a variable of this name a secret? Its words (split at _ - . and at
 * camelCase humps, lower-cased) decide: any word that says it is about the
 * secret rather than the secret itself (max_tokens, public_key,
 * password_length) means no; a password word asks little of the value,
 * a key, token or secret word asks for a high-entropy one.
 */
static int secret_name(const char *name, size_t n, int *aws)
{
	static const char *const not_secret[] = {
		"public", "pub", "count", "counts", "len", "length", "size",
		"max", "min", "num", "type", "types", "name", "names", "file",
		"filename", "path", "dir", "url", "uri", "endpoint", "prefix",
		"suffix", "hint", "field", "fields", "label", "policy",
		"format", "mode", "reset", "expiry", "expires", "expiration",
		"expire", "ttl", "timeout", "limit", "usage", "index", "idx",
		"column", "col", "enabled", "enable", "required", "pattern",
		"regex", "strength", "rotation", "version", "location",
		"store", "manager", "env", "var", "input", "placeholder",
		"header", "headers", "primary", "foreign", "sort", "partition",
		"cache", "lookup", "map", "group", "row", "join", "unique",
		"hotkey", "shortcut", "press", "event", "keyboard", "keys",
		"tokenizer", "tokens", "author", "authors", "authority",
		"id", "ids", "kind", "policy", "algorithm", "alg", "fingerprint",
		"provider", "schema", "class", "method", "handler", "callback",
		"prompt", "validator", "validation", "error", "errors", "msg",
		"message", "text", "desc", "description", "note", "pair",
		"forgot", "strategy", "scope", "scopes", "owner", "user",
		NULL,
	};
	static const char *const key_words[] = {
		"key", "apikey", "accesskey", "secretkey", "privatekey",
		"signingkey", "masterkey", "encryptionkey", "clientkey",
		"authkey", "licensekey", "sessionkey", "appkey", "token",
		"accesstoken", "authtoken", "apitoken", "refreshtoken",
		"bearertoken", "idtoken", "credential", "credentials", "auth",
		"authorization", "bearer", "cookie", NULL,
	};
	char w[64];
	size_t wl = 0;
	int cls = SECRET_NONE, stop = 0, pass;

	*aws = 0;
	/* Two passes: the cheap one finds the class, the stop words (most
	 * of the cost) are looked up only for names that may be secrets. */
	for (pass = 0; pass < 2 && (pass == 0 || cls != SECRET_NONE); pass++) {
	for (size_t i = 0; i <= n; i++) {
		int c = i < n ? (unsigned char)name[i] : 0;
		int hump = i > 0 && i < n && is_upper(c) &&
			   is_lower((unsigned char)name[i - 1]);

		if (c && is_alnum(c) && !hump && wl < sizeof(w) - 1) {
			w[wl++] = (char)tolower(c);
			continue;
		}
		if (wl && pass == 1 && cls != SECRET_NONE) {
			w[wl] = '\0';
			for (int k = 0; !stop && not_secret[k]; k++)
				stop |= w[0] == not_secret[k][0] &&
					!strcmp(w, not_secret[k]);
		} else if (wl && pass == 0) {
			w[wl] = '\0';
			if (!strcmp(w, "pass") || strstr(w, "password") ||
			    strstr(w, "passwd") || strstr(w, "passphrase") ||
			    strstr(w, "passcode") || !strcmp(w, "pwd") ||
			    !strcmp(w, "dbpass") || !strcmp(w, "pgpass"))
				cls = SECRET_PASSWORD;
			else if (cls == SECRET_NONE && strstr(w, "secret"))
				cls = SECRET_KEY;
			for (int k = 0; cls == SECRET_NONE && key_words[k]; k++)
				if (!strcmp(w, key_words[k]))
					cls = SECRET_KEY;
			*aws |= !strcmp(w, "aws");
		}
		wl = 0;
		if (hump && c)
			w[wl++] = (char)tolower(c);
	}
	}
	return stop ? SECRET_NONE : cls;
}

/* Checks a value given to a secret name; returns why it counts, or NULL. */
static const char *secret_value(const char *v, size_t n, int cls, int quoted,
				double *h)
{
	int lower = 0, upper = 0, digit = 0, other = 0, hex = 1;

	if (n > 512 || placeholder_value(v, n))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)v[i];

		lower |= is_lower(c);
		upper |= is_upper(c);
		digit |= is_digit(c);
		other |= !is_alnum(c);
		hex &= is_hex(c);
		if (c == ' ' && (!quoted || cls == SECRET_KEY))
			return NULL;
	}
	*h = redact_entropy(v, n);
	if (!quoted) {
		/* Code, not a literal: self.password, os.environ, ./path. */
		if (v[0] == '/' || v[0] == '~' || v[0] == '.')
			return NULL;
		if (!digit)
			return NULL;
	}
	if (cls == SECRET_PASSWORD) {
		if (n < 6 || lower + upper + digit + other < 2 || *h < 2.0)
			return n >= 12 && *h >= 3.0 ? "long password value" : NULL;
		return "password value, more than one kind of character";
	}
	if (n < 16 || lower + upper + digit < 2)
		return NULL;
	if (*h < (hex ? 3.0 : 3.3))
		return NULL;
	return hex ? "high-entropy hex value" : "high-entropy value";
}

static void det_assign(struct scan *sc, const struct pattern *p, size_t from,
		       size_t to)
{
	const char *s = sc->s;
	size_t ns = from, ne = to, q, vs, ve;
	int cls, aws, quote = 0, dashes = 0, xml = 0, op = 0;
	const char *why;
	double h = 0;

	while (ns > 0 && from - ns < 64 && is_ident(before(sc, ns)))
		ns--;
	while (ne < sc->n && ne - to < 64 && is_ident(at(sc, ne)))
		ne++;
	examined(sc, p, ne);
	if (is_ident(before(sc, ns)) || is_ident(at(sc, ne)))
		return;
	while (ns < ne && (s[ns] == '-' || s[ns] == '.')) {
		dashes += s[ns] == '-';
		ns++;
	}
	while (ne > ns && s[ne - 1] == '.')
		ne--;
	cls = secret_name(s + ns, ne - ns, &aws);
	if (cls == SECRET_NONE)
		return;
	q = ne;
	if ((at(sc, q) == '"' || at(sc, q) == '\'') && before(sc, ns) == at(sc, q))
		q++;
	else if (at(sc, q) == '>' && before(sc, ns) == '<')
		xml = 1, q++;
	while (at(sc, q) == ' ' || at(sc, q) == '\t')
		q++;
	if (!xml) {
		int c = at(sc, q), c2 = at(sc, q + 1);

		if (c == ':' && c2 == '=')
			op = 2;
		else if (c == '=' && c2 == '>')
			op = 2;
		else if ((c == '=' && c2 != '=') || (c == ':' && c2 != ':'))
			op = 1;
		else if (dashes && q > ne && c && !strchr("=:-|&;", c))
			op = 0;	/* --password VALUE */
		else
			return;
		q += (size_t)op;
		while (at(sc, q) == ' ' || at(sc, q) == '\t')
			q++;
	}
	if (at(sc, q) == '"' || at(sc, q) == '\'' || at(sc, q) == '`')
		quote = at(sc, q++);
	vs = q;
	/* "Authorization: Bearer X", "token abc": the scheme is not secret. */
	for (int k = 0; k < 3; k++) {
		static const char *const schemes[] = { "Bearer ", "Basic ", "token " };
		size_t l = strlen(schemes[k]);

		if (vs + l < sc->n && !strncasecmp(s + vs, schemes[k], l)) {
			vs += l;
			while (at(sc, vs) == ' ')
				vs++;
			break;
		}
	}
	ve = vs;
	if (quote) {
		while (ve < sc->n && ve - vs <= 512 && at(sc, ve) != quote &&
		       at(sc, ve) != '\n')
			ve++;
		if (at(sc, ve) != quote)
			return;
	} else {
		/* In a query string (?api_key=...&x=1) & ends the value. */
		int query = before(sc, ns) == '?' || before(sc, ns) == '&';

		while (ve < sc->n && ve - vs <= 512 && at(sc, ve) > ' ' &&
		       !strchr(xml ? "<" : ",;)}]<>\"'`(", at(sc, ve)) &&
		       !(query && at(sc, ve) == '&'))
			ve++;
		if (at(sc, ve) == '(' || at(sc, ve) == '[')
			return;
		while (ve > vs && at(sc, ve - 1) == '.')
			ve--;
	}
	/* Judged, either way: keywords inside the value (key=key=...) are
	 * not names of their own. */
	examined(sc, p, ve);
	if (!(why = secret_value(s + vs, ve - vs, cls, quote || xml, &h)))
		return;
	if (aws && ve - vs == 40) {
		scan_why(sc, scan_add(sc, vs, ve, REDACT_AWS_KEY, "aws-secret-key"), "40-character value of '%.*s', entropy %.2f",
			 (int)(ne - ns > 40 ? 40 : ne - ns), s + ns, h);
		return;
	}
	scan_why(sc, scan_add(sc, vs, ve, REDACT_SECRET, p->detector), "%s of '%.*s', entropy %.2f",
		 why, (int)(ne - ns > 32 ? 32 : ne - ns), s + ns, h);
}

/* ---- the table ---------------------------------------------------------- */

#define HEX "[0-9A-Fa-f]"

const struct pattern redact_patterns[] = {
	{ "[A-Za-z0-9]@[A-Za-z0-9]", REDACT_EMAIL, "email", det_email, 0, 3 },
	{ "\\+[1-9][0-9 ().-]{6}", REDACT_PHONE, "phone-e164",
	  det_phone_intl, 1, 8 },
	{ "[2-9][0-9]{2}[.-][2-9][0-9]{2}[.-][0-9]{4}", REDACT_PHONE,
	  "phone-nanp", det_phone_us, 2, 12 },
	{ "[2-9][0-9]{2} [2-9][0-9]{2} [0-9]{4}", REDACT_PHONE, "phone-nanp",
	  det_phone_us, 2, 12 },
	{ "\\([2-9][0-9]{2}\\) ?[2-9][0-9]{2}[ .-][0-9]{4}", REDACT_PHONE,
	  "phone-nanp", det_phone_us, 2, 0 },
	{ "0[1-9][ .][0-9]{2}[ .][0-9]{2}[ .][0-9]{2}[ .][0-9]{2}", REDACT_PHONE,
	  "phone-eu", det_phone_eu, 3, 14 },
	{ "0[1-9][0-9]{1,3} [0-9]{3}", REDACT_PHONE, "phone-eu", det_phone_eu,
	  3, 0 },
	{ "0[1-9][0-9]{1,4}[/-][0-9]{5}", REDACT_PHONE, "phone-eu",
	  det_phone_eu, 3, 0 },
	{ "[0-9]{10}", REDACT_CARD, "card", det_card, 4, 10 },
	{ "[0-9]{4}[ -][0-9]{6}", REDACT_CARD, "card", det_card, 4, 11 },
	{ "[0-9]{4}[ -][0-9]{4}[ -][0-9]{2}", REDACT_CARD, "card", det_card, 4,
	  12 },
	{ "[0-9]{3}-[0-9]{2}-[0-9]{4}", REDACT_SSN, "ssn", det_ssn, 5, 11 },
	{ "([Ss][Ss][Nn]|[Ss]ocial [Ss]ecurity( [Nn](o|umber))?)", REDACT_SSN,
	  "ssn-label", det_ssn_label, 6, 0 },
	{ "[A-Z]{2}[0-9]{2}[A-Z0-9]{4}", REDACT_IBAN, "iban", det_iban, 7, 8 },
	{ "[A-Z]{2}[0-9]{2} [A-Z0-9]{4}", REDACT_IBAN, "iban", det_iban, 7, 9 },
	{ "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]", REDACT_IP, "ipv4",
	  det_ipv4, 8, 0 },
	{ HEX "{1,4}(::|:" HEX "{1,4}:" HEX "{1,4}:" HEX "{1,4}:)", REDACT_IP,
	  "ipv6", det_ipv6, 9, 0 },
	{ HEX "{2}[:-]" HEX "{2}[:-]" HEX "{2}[:-]" HEX "{2}[:-]" HEX "{2}[:-]"
	  HEX "{2}", REDACT_MAC, "mac", det_mac, 10, 17 },
	{ HEX "{4}\\." HEX "{4}\\." HEX "{4}", REDACT_MAC, "mac-dotted",
	  det_mac, 11, 14 },
	{ "://[^/[:space:]@:]{1,64}:[^/[:space:]@]{1,128}@",
	  REDACT_URL_CREDENTIALS, "url-credentials", det_url_creds, 12, 0 },
	{ "(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}", REDACT_AWS_KEY, "aws-access-key",
	  det_fixed_token, 13, 20 },
	{ "gh[pousr]_[A-Za-z0-9]{36}", REDACT_GITHUB_TOKEN, "github-token",
	  det_fixed_token, 14, 40 },
	{ "github_pat_[A-Za-z0-9_]{82}", REDACT_GITHUB_TOKEN, "github-pat",
	  det_fixed_token, 15, 93 },
	{ "xox[abeoprs]-[0-9A-Za-z]", REDACT_SLACK_TOKEN, "slack-token",
	  det_open_token, 16, 6 },
	{ "xapp-[0-9]-[A-Z0-9]", REDACT_SLACK_TOKEN, "slack-app-token",
	  det_open_token, 16, 8 },
	{ "hooks\\.slack\\.com/services/T", REDACT_SLACK_TOKEN,
	  "slack-webhook", det_slack_webhook, 17, 26 },
	{ "-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY( BLOCK)?-----",
	  REDACT_PRIVATE_KEY, "private-key", det_private_key, 18, 0 },
	{ "eyJ[A-Za-z0-9_-]{8}", REDACT_JWT, "jwt", det_jwt, 19, 11 },
	{ "AIza[0-9A-Za-z_-]{35}", REDACT_SECRET, "google-api-key",
	  det_fixed_token, 20, 39 },
	{ "[rs]k_(live|test)_[0-9A-Za-z]{8}", REDACT_SECRET, "stripe-key",
	  det_open_token, 21, 16 },
	{ "sk-[A-Za-z0-9_-]{8}", REDACT_SECRET, "openai-key", det_open_token,
	  21, 11 },
	{ "glpat-[0-9A-Za-z_-]{20}", REDACT_SECRET, "gitlab-token",
	  det_fixed_token, 22, 26 },
	{ "npm_[A-Za-z0-9]{36}", REDACT_SECRET, "npm-token", det_fixed_token,
	  23, 40 },
	{ "[Pp][Aa][Ss][Ss]", REDACT_SECRET, "assignment", det_assign, 24, 4 },
	{ "[Pp][Ww][Dd]", REDACT_SECRET, "assignment", det_assign, 24, 3 },
	{ "[Ss][Ee][Cc][Rr][Ee][Tt]", REDACT_SECRET, "assignment", det_assign,
	  24, 6 },
	{ "[Tt][Oo][Kk][Ee][Nn]", REDACT_SECRET, "assignment", det_assign, 24, 5 },
	{ "[Kk][Ee][Yy]", REDACT_SECRET, "assignment", det_assign, 24, 3 },
	{ "[Cc][Rr][Ee][Dd][Ee][Nn][Tt][Ii][Aa][Ll]", REDACT_SECRET,
	  "assignment", det_assign, 24, 10 },
	{ "[Aa][Uu][Tt][Hh]", REDACT_SECRET, "assignment", det_assign, 24, 4 },
	{ "[Cc][Oo][Oo][Kk][Ii][Ee]", REDACT_SECRET, "assignment", det_assign,
	  24, 6 },
};
const size_t redact_npatterns = sizeof(redact_patterns) / sizeof(*redact_patterns);
