/*
 * Payloads written directly, for the hot paths that carry bulk bytes:
 * term.out and term.in ({"session": s, "data": base64(data)}) and
 * fs.chunk ({"hash": h, "data": base64(data)}), byte for byte what
 * ev_encode would make of that JSON, and edit.op of plain text (what
 * ev_encode makes of it, fields in another order), without building JSON
 * or base64 first. A terminal session can print a gigabyte and a first
 * baseline reads every file; these paths copy the bytes once.
 */
#include "events.h"

#include <string.h>

#include "bytes.h"
#include "error.h"
#include "events-int.h"
#include "banned.h"

/* The tags and field keys of the encoding in events.h. */
enum {
	TAG_INTEGER = 3,
	TAG_STRING = 5,
	TAG_OBJECT = 7,
	TAG_BYTES = 8,
	KEY_FIELD0 = 0 << 1 | 1,	/* "session" of term.*, "hash" of fs.chunk */
	KEY_FIELD1 = 1 << 1 | 1,	/* "data" of both */
};

/* {field 0: the string s, field 1: the n bytes at data}. */
static int encode_string_bytes(struct buf *out, const char *s,
			       const void *data, size_t n)
{
	size_t slen = strlen(s);
	uint8_t *p;
	size_t len = 0;
	int r;

	if ((r = buf_grow(out, 5 + 2 * UVARINT_MAX + slen + n)) < 0)
		return r;
	p = (uint8_t *)out->data + out->len;
	p[len++] = TAG_OBJECT;
	p[len++] = 2;
	p[len++] = KEY_FIELD0;
	p[len++] = TAG_STRING;
	len += put_uvarint(p + len, slen);
	memcpy(p + len, s, slen);
	len += slen;
	p[len++] = KEY_FIELD1;
	p[len++] = TAG_BYTES;
	len += put_uvarint(p + len, n);
	if (n)
		memcpy(p + len, data, n);
	buf_setlen(out, out->len + len + n);
	return 0;
}

int ev_encode_term_io(struct buf *out, const char *session, const void *data,
		      size_t n)
{
	return encode_string_bytes(out, session, data, n);
}

int ev_encode_chunk(struct buf *out, const char *hash, const void *data,
		    size_t n)
{
	return encode_string_bytes(out, hash, data, n);
}

/* Field numbers of edit.op (registry.c, edit_fields). */
enum {
	EDIT_DOC = 0, EDIT_PART = 1, EDIT_SEQ = 2, EDIT_ACTOR = 3, EDIT_OP = 4,
	EDIT_POS = 5, EDIT_LEN = 6, EDIT_INS = 7, EDIT_DEL = 8, EDIT_TEXT = 9,
	EDIT_GROUP = 10, EDIT_PATH = 13,
};

static size_t put_key(uint8_t *p, unsigned field)
{
	return put_uvarint(p, (uint64_t)field << 1 | 1);
}

static size_t put_str(uint8_t *p, unsigned field, const char *s, size_t n)
{
	size_t len = put_key(p, field);

	p[len++] = TAG_STRING;
	len += put_uvarint(p + len, n);
	memcpy(p + len, s, n);
	return len + n;
}

static size_t put_int(uint8_t *p, unsigned field, int64_t v)
{
	size_t len = put_key(p, field);

	p[len++] = TAG_INTEGER;
	return len + put_uvarint(p + len, zigzag_encode(v));
}

int ev_encode_edit(struct buf *out, const struct ev_edit *e)
{
	struct { unsigned field; const char *s; size_t n; } str[] = {
		{ EDIT_DOC, e->doc, e->doc ? strlen(e->doc) : 0 },
		{ EDIT_PART, e->part, e->part ? strlen(e->part) : 0 },
		{ EDIT_ACTOR, e->actor, e->actor ? strlen(e->actor) : 0 },
		{ EDIT_OP, e->op, e->op ? strlen(e->op) : 0 },
		{ EDIT_INS, e->ins, e->ins_len },
		{ EDIT_DEL, e->del, e->del_len },
		{ EDIT_TEXT, e->text, e->text_len },
		{ EDIT_GROUP, e->group, e->group ? strlen(e->group) : 0 },
		{ EDIT_PATH, e->path, e->path ? strlen(e->path) : 0 },
	};
	size_t need = 2 + UVARINT_MAX + 3 * (2 + UVARINT_MAX), len = 0;
	unsigned count = 1;	/* seq */
	uint8_t *p;
	int r;

	if (!e->doc || !e->op)
		return lt_error(LT_EINVAL, "edit.op: doc and op are required");
	for (size_t i = 0; i < sizeof(str) / sizeof(*str); i++) {
		if (!str[i].s)
			continue;
		/* The decoder's rule 5: never write what cannot be read. */
		if (ev_utf8_count(str[i].s, str[i].n) < 0)
			return lt_error(LT_EINVAL, "edit.op: a string is not "
					"valid UTF-8");
		need += 2 + 2 * UVARINT_MAX + str[i].n;
		count++;
	}
	count += !!e->has_pos + !!e->has_len;
	if ((r = buf_grow(out, need)) < 0)
		return r;
	p = (uint8_t *)out->data + out->len;
	p[len++] = TAG_OBJECT;
	len += put_uvarint(p + len, count);
	len += put_int(p + len, EDIT_SEQ, e->seq);
	if (e->has_pos)
		len += put_int(p + len, EDIT_POS, e->pos);
	if (e->has_len)
		len += put_int(p + len, EDIT_LEN, e->len);
	for (size_t i = 0; i < sizeof(str) / sizeof(*str); i++)
		if (str[i].s)
			len += put_str(p + len, str[i].field, str[i].s,
				       str[i].n);
	buf_setlen(out, out->len + len);
	return 0;
}
