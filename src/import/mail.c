/*
 * Mail messages and mbox files (mail.h, doc/imports.md "mail"), parsed
 * with GMime 3.
 *
 * GMime reads almost anything as a message, so the one thing checked
 * here is what makes bytes a mail at all: they start with a header line
 * ("Name: value"). Everything GMime decodes (RFC 2047 words, charsets,
 * quoted-printable and base64) comes out as UTF-8; what is still not
 * UTF-8 after that (8-bit headers in an unknown charset) has its bad
 * bytes replaced by U+FFFD, since events hold text.
 *
 * The thread of a message is the first id of its References (the root
 * of the chain, RFC 5322 section 3.6.4), else its In-Reply-To, else the
 * message itself: so every message of a thread names the same root, as
 * long as the mailers kept References.
 */
#include "mail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>
#include <sodium.h>

#include "error.h"
#include "hex.h"
#include "ltime.h"
#include "xalloc.h"
#include "banned.h"

static void mail_init(void)
{
	static int done;

	if (!done) {
		g_mime_init();
		done = 1;
	}
}

/* s[0..n) (n < 0: up to its NUL) as a JSON string, bad UTF-8 replaced. */
static json_t *jstr(const char *s, gssize n)
{
	char *v = g_utf8_make_valid(s ? s : "", s ? n : 0);
	json_t *j = json_string(v);

	g_free(v);
	return j ? j : json_string("");
}

/* 1 if p starts with a header line: a field name (printable ASCII but
 * ':') and a colon. */
static int starts_with_header(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && p[i] > ' ' && p[i] < 127 && p[i] != ':')
		i++;
	return i > 0 && i < n && p[i] == ':';
}

/* The first message id of a References or In-Reply-To header, or NULL;
 * free it with g_free(). */
static char *first_ref(GMimeMessage *msg, const char *header)
{
	const char *v = g_mime_object_get_header(GMIME_OBJECT(msg), header);
	GMimeReferences *refs;
	char *id = NULL;

	if (!v)
		return NULL;
	refs = g_mime_references_parse(NULL, v);
	if (refs && g_mime_references_length(refs) > 0)
		id = g_strdup(g_mime_references_get_message_id(refs, 0));
	if (refs)
		g_mime_references_free(refs);
	return id;
}

static json_t *addresses(GMimeMessage *msg, GMimeAddressType type)
{
	InternetAddressList *l = g_mime_message_get_addresses(msg, type);
	json_t *a = json_array();
	int n = l ? internet_address_list_length(l) : 0;

	for (int i = 0; i < n; i++) {
		char *s = internet_address_to_string(
			internet_address_list_get_address(l, i), NULL, FALSE);
		json_array_append_new(a, jstr(s, -1));
		g_free(s);
	}
	return a;
}

struct walk {
	struct mail_msg *m;
	char *plain, *html;		/* the first text parts, UTF-8 */
};

static void add_attachment(struct walk *w, const char *name, char *type,
			   GByteArray *bytes)
{
	struct mail_attachment *a;

	w->m->att = xrealloc(w->m->att, (w->m->natt + 1) * sizeof(*w->m->att));
	a = &w->m->att[w->m->natt++];
	if (name && *name) {
		a->name = g_utf8_make_valid(name, -1);
	} else {
		char tmp[32];
		snprintf(tmp, sizeof(tmp), "part-%zu", w->m->natt);
		a->name = g_strdup(tmp);
	}
	a->type = type;
	buf_init(&a->data, bytes->len);
	buf_add(&a->data, bytes->data, bytes->len);
}

/* A part's decoded bytes (transfer encoding undone). */
static GMimeStream *part_bytes(GMimePart *part)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	GMimeStream *ms = g_mime_stream_mem_new();

	if (dw)
		g_mime_data_wrapper_write_to_stream(dw, ms);
	return ms;
}

static void on_part(GMimeObject *parent, GMimeObject *obj, gpointer ctx)
{
	struct walk *w = ctx;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *disp = g_mime_object_get_disposition(obj);
	int attached = disp && !g_ascii_strcasecmp(disp, "attachment");
	GMimeStream *ms;

	(void)parent;
	if (GMIME_IS_MULTIPART(obj))
		return;
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(
			GMIME_MESSAGE_PART(obj));
		ms = g_mime_stream_mem_new();
		if (inner)
			g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL,
						      ms);
		add_attachment(w, g_mime_object_get_content_type_parameter(
				       obj, "name"),
			       g_strdup("message/rfc822"),
			       g_mime_stream_mem_get_byte_array(
				       GMIME_STREAM_MEM(ms)));
		g_object_unref(ms);
		return;
	}
	if (!GMIME_IS_PART(obj))
		return;
	if (GMIME_IS_TEXT_PART(obj) && !attached &&
	    !g_mime_part_get_filename(GMIME_PART(obj)) &&
	    (g_mime_content_type_is_type(ct, "text", "plain") ||
	     g_mime_content_type_is_type(ct, "text", "html"))) {
		int html = g_mime_content_type_is_type(ct, "text", "html");
		char **slot = html ? &w->html : &w->plain;
		char *t;

		if (*slot)
			goto attach;	/* a second body: keep it as a file */
		t = g_mime_text_part_get_text(GMIME_TEXT_PART(obj));
		if (!t) {
			/* A charset iconv does not know: the raw bytes. */
			GByteArray *b;
			ms = part_bytes(GMIME_PART(obj));
			b = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
			t = g_utf8_make_valid((const char *)b->data, b->len);
			g_object_unref(ms);
		}
		*slot = t;
		return;
	}
attach:
	ms = part_bytes(GMIME_PART(obj));
	add_attachment(w, g_mime_part_get_filename(GMIME_PART(obj)),
		       g_mime_content_type_get_mime_type(ct),
		       g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms)));
	g_object_unref(ms);
}

/* The raw header lines, verbatim, for native. */
static json_t *headers(GMimeObject *obj)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	int n = g_mime_header_list_get_count(hl);
	json_t *a = json_array();

	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		json_array_append_new(a, json_pack("[o, o]",
			jstr(g_mime_header_get_name(h), -1),
			jstr(g_mime_header_get_raw_value(h), -1)));
	}
	return a;
}

/* The Date header as ns, if it is there and in range. */
static int date_of(GMimeMessage *msg, int64_t *t)
{
	GDateTime *dt = g_mime_message_get_date(msg);
	gint64 s;

	if (!dt)
		return -1;
	s = g_date_time_to_unix(dt);
	if (s < -9000000000LL || s > 9000000000LL)
		return -1;
	*t = s * LT_NS_PER_SEC + (int64_t)g_date_time_get_microsecond(dt) * 1000;
	return 0;
}

int mail_parse(const char *file, const char *where, const void *p, size_t n,
	       const char *channel, int64_t fallback_t, struct mail_msg *m)
{
	GMimeStream *st;
	GMimeParser *parser;
	GMimeMessage *msg;
	InternetAddressList *from;
	struct walk w;
	json_t *d, *a;
	const char *mid, *subject;
	char *ref, *irt, *s;

	memset(m, 0, sizeof(*m));
	if (!starts_with_header(p, n))
		return lt_error(LT_EINVAL, "%s: %s: not a mail message (it does "
				"not start with a header line like \"From: "
				"...\")", file, where);
	mail_init();
	st = g_mime_stream_mem_new_with_buffer(p, n);
	parser = g_mime_parser_new_with_stream(st);
	g_object_unref(st);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	if (!msg)
		return lt_error(LT_EINVAL, "%s: %s: GMime cannot read it as a "
				"mail message", file, where);
	if (date_of(msg, &m->t)) {
		if (fallback_t == INT64_MIN) {
			g_object_unref(msg);
			return lt_error(LT_EINVAL, "%s: %s: no Date header (or "
					"one that is not a date)", file, where);
		}
		m->t = fallback_t;
	}

	d = json_object();
	mid = g_mime_message_get_message_id(msg);
	if (mid && *mid) {
		json_object_set_new(d, "id", jstr(mid, -1));
	} else {
		uint8_t h[32];
		char hex[65], id[80];
		crypto_generichash(h, sizeof(h), p, n, NULL, 0);
		lt_hex(h, sizeof(h), hex);
		snprintf(id, sizeof(id), "blake2b:%s", hex);
		json_object_set_new(d, "id", json_string(id));
	}
	m->id = json_string_value(json_object_get(d, "id"));
	ref = first_ref(msg, "References");
	irt = first_ref(msg, "In-Reply-To");
	json_object_set_new(d, "thread", ref ? jstr(ref, -1) : irt ?
			    jstr(irt, -1) : json_string(m->id));
	if (irt)
		json_object_set_new(d, "reply_to", jstr(irt, -1));
	g_free(ref);
	g_free(irt);
	if (channel)
		json_object_set_new(d, "channel", jstr(channel, -1));
	from = g_mime_message_get_from(msg);
	if (from && internet_address_list_length(from) > 0) {
		s = internet_address_list_to_string(from, NULL, FALSE);
		json_object_set_new(d, "from", jstr(s, -1));
		g_free(s);
	}
	if (json_array_size(a = addresses(msg, GMIME_ADDRESS_TYPE_TO)))
		json_object_set_new(d, "to", a);
	else
		json_decref(a);
	if (json_array_size(a = addresses(msg, GMIME_ADDRESS_TYPE_CC)))
		json_object_set_new(d, "cc", a);
	else
		json_decref(a);
	if ((subject = g_mime_message_get_subject(msg)))
		json_object_set_new(d, "subject", jstr(subject, -1));

	memset(&w, 0, sizeof(w));
	w.m = m;
	g_mime_message_foreach(msg, on_part, &w);
	if (w.plain || !w.html) {
		json_object_set_new(d, "text", jstr(w.plain, -1));
		json_object_set_new(d, "format", json_string("plain"));
	} else {
		json_object_set_new(d, "text", jstr(w.html, -1));
		json_object_set_new(d, "format", json_string("html"));
	}
	/* An HTML alternative of a plain body is the same text again. */
	g_free(w.plain);
	g_free(w.html);
	json_object_set_new(d, "source", json_string("mail"));
	json_object_set_new(d, "native", json_pack("{s:o}", "headers",
				headers(GMIME_OBJECT(msg))));
	g_object_unref(msg);
	m->data = d;
	return 0;
}

void mail_msg_release(struct mail_msg *m)
{
	for (size_t i = 0; i < m->natt; i++) {
		g_free(m->att[i].name);
		g_free(m->att[i].type);
		buf_release(&m->att[i].data);
	}
	free(m->att);
	json_decref(m->data);
	memset(m, 0, sizeof(*m));
}

/* ---- mbox ------------------------------------------------------------- */

static const char *const months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned mo, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= mo <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int64_t mail_from_line_time(const char *line, size_t n)
{
	char tmp[256], *tok[16], *save = NULL;
	size_t nt = 0;

	/* asctime: "Thu Jan  4 10:00:00 2024", after the sender. */
	if (n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	memcpy(tmp, line, n);
	tmp[n] = 0;
	for (char *t = strtok_r(tmp, " \t\r\n", &save); t && nt < 16;
	     t = strtok_r(NULL, " \t\r\n", &save))
		tok[nt++] = t;
	for (size_t i = 2; i + 3 < nt; i++) {
		unsigned mo, d, hh, mm, ss;
		long y;
		char *end;

		for (mo = 0; mo < 12 && strcmp(tok[i], months[mo]); mo++)
			;
		if (mo == 12)
			continue;
		d = (unsigned)strtoul(tok[i + 1], &end, 10);
		if (*end || d < 1 || d > 31 ||
		    sscanf(tok[i + 2], "%2u:%2u:%2u", &hh, &mm, &ss) != 3 ||
		    hh > 23 || mm > 59 || ss > 60)
			continue;
		y = strtol(tok[i + 3], &end, 10);
		if (*end || y < 1970 || y > 2200)
			continue;
		return (days_from_civil(y, mo + 1, d) * 86400 + hh * 3600 +
			mm * 60 + ss) * LT_NS_PER_SEC;
	}
	return INT64_MIN;
}

static int is_from_line(const char *p, size_t n)
{
	return n >= 5 && !memcmp(p, "From ", 5);
}

/* Calls fn with message p[s..e), whose From_ line is at p[fl..s). */
static int one_message(const char *p, size_t fl, size_t s, size_t e,
		       size_t line, struct buf *tmp, mbox_fn *fn, void *ctx)
{
	struct mbox_msg m;
	size_t i = s, end = e;

	/* The empty line before the next From_ belongs to the mbox. */
	if (e > s && p[e - 1] == '\n') {
		e--;
		if (e > s && p[e - 1] == '\r')
			e--;
	}
	/* mboxrd: ">From ", ">>From " ... lose one '>'. */
	buf_reset(tmp);
	while (i < e) {
		const char *nl = memchr(p + i, '\n', e - i);
		size_t j = nl ? (size_t)(nl - p) + 1 : e, k = i;

		while (k < j && p[k] == '>')
			k++;
		if (k > i && j - k >= 5 && !memcmp(p + k, "From ", 5))
			i++;
		buf_add(tmp, p + i, j - i);
		i = j;
	}
	m.p = tmp->data;
	m.n = tmp->len;
	m.line = line;
	m.end = end;
	m.from_t = mail_from_line_time(p + fl, s - fl);
	return fn(ctx, &m);
}

int mail_mbox_split(const char *file, const void *data, size_t n, mbox_fn *fn,
		    void *ctx)
{
	const char *p = data;
	struct buf tmp = BUF_INIT;
	size_t i = 0, line = 1, fl = 0, start = 0, from_line = 1;
	int blank = 1, open = 0, r = 0;

	if (!is_from_line(p, n))
		return lt_error(LT_EINVAL, "%s: line 1: not an mbox (it does not "
				"start with a \"From \" line)", file);
	while (i < n && !r) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t j = nl ? (size_t)(nl - p) + 1 : n;

		if (blank && is_from_line(p + i, j - i)) {
			if (open)
				r = one_message(p, fl, start, i, from_line, &tmp,
						fn, ctx);
			open = 1;
			fl = i;
			start = j;
			from_line = line;
		}
		blank = j - i == 1 || (j - i == 2 && p[i] == '\r');
		i = j;
		line++;
	}
	if (!r && open)
		r = one_message(p, fl, start, n, from_line, &tmp, fn, ctx);
	buf_release(&tmp);
	return r;
}
