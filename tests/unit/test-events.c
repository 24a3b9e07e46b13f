/* Unit tests for src/events: registry, validation, payload codec, JSON. */
#include <limits.h>
#include <math.h>

#include <jansson.h>
#include <sodium.h>

#include "buf.h"
#include "error.h"
#include "events.h"
#include "events-int.h"
#include "ltime.h"
#include "test.h"
#include "banned.h"

/* A JSON value from text; any value, NUL bytes allowed. */
static json_t *J(const char *text)
{
	json_error_t err;
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);

	if (!v)
		TEST_FAIL("bad test JSON %s: %s", text, err.text);
	return v;
}

/* ev_validate's reason for data (JSON text) under kind, or "" if valid. */
static const char *why_of(const char *kind, const char *data)
{
	static char reason[256];
	const struct ev_kind *k = ev_kind_find(kind);
	struct buf why = BUF_INIT;
	json_t *v = J(data);
	int r;

	ASSERT(k);
	r = ev_validate(k, v, &why);
	ASSERT(r == 0 || r == LT_EINVAL);
	ASSERT((r == 0) == (why.len == 0));
	snprintf(reason, sizeof(reason), "%s", why.data);
	buf_release(&why);
	json_decref(v);
	return reason;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* Code points in s, or -1 if it is not valid UTF-8. */
static long utf8_len(const char *s)
{
	json_t *v = json_string(s); /* jansson validates */
	long n = 0;

	if (!v)
		return -1;
	json_decref(v);
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

TEST(registry_sorted_and_found)
{
	size_t n;
	const struct ev_kind *k = ev_kinds(&n);

	ASSERT(n >= 5);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			ASSERT(strcmp(k[i - 1].name, k[i].name) < 0);
		ASSERT(ev_kind_find(k[i].name) == &k[i]);
		ASSERT(k[i].doc && *k[i].doc);
		ASSERT(k[i].nfields > 0 && k[i].nfields < 64);
		for (size_t j = 0; j < k[i].nfields; j++) {
			ASSERT(k[i].fields[j].doc && *k[i].fields[j].doc);
			for (size_t m = 0; m < j; m++)
				ASSERT(strcmp(k[i].fields[m].name,
					      k[i].fields[j].name) != 0);
		}
	}
	ASSERT_STREQ(k[0].name, "control.pause");
	ASSERT(ev_kind_find("note") && ev_kind_find("marker") &&
	       ev_kind_find("control.resume") && ev_kind_find("edit.op") &&
	       ev_kind_find("fs.chunk") && ev_kind_find("fs.blob"));
	ASSERT(!ev_kind_find(""));
	ASSERT(!ev_kind_find("edit"));
	ASSERT(!ev_kind_find("edit.op "));
	ASSERT(!ev_kind_find("Note"));
	ASSERT(!ev_kind_find("a"));
	ASSERT(!ev_kind_find("zzz"));
}

/* Field numbers are the on-disk format: this list may only grow. */
TEST(registry_field_numbers_fixed)
{
	static const char *const edit[] = {
		"doc", "part", "seq", "actor", "op", "pos", "len", "ins",
		"del", "text", "group", "native", "detail", "path",
	};
	const struct ev_kind *k = ev_kind_find("edit.op");

	ASSERT(k->nfields >= 14);
	for (size_t i = 0; i < 14; i++)
		ASSERT_STREQ(k->fields[i].name, edit[i]);
	ASSERT_STREQ(ev_kind_find("note")->fields[0].name, "text");
	ASSERT_STREQ(ev_kind_find("marker")->fields[1].name, "session");
	ASSERT_STREQ(ev_kind_find("control.pause")->fields[1].name, "until");
	ASSERT_STREQ(ev_kind_find("control.resume")->fields[1].name, "by");

	static const char *const blob[] = {
		"doc", "path", "seq", "group", "actor", "size", "chunks",
	};
	k = ev_kind_find("fs.blob");
	ASSERT(k->nfields >= 7);
	for (size_t i = 0; i < 7; i++)
		ASSERT_STREQ(k->fields[i].name, blob[i]);
	ASSERT_EQ(k->fields[6].type, EV_ARRAY);
	k = ev_kind_find("fs.chunk");
	ASSERT_STREQ(k->fields[0].name, "hash");
	ASSERT_STREQ(k->fields[1].name, "data");
	ASSERT_EQ(k->fields[1].type, EV_BYTES);
}

TEST(validate_fields)
{
	ASSERT_STREQ(why_of("note", "{\"text\":\"hi\"}"), "");
	ASSERT_STREQ(why_of("note", "{\"text\":\"hi\",\"extra\":[1]}"), "");
	ASSERT_STREQ(why_of("note", "{}"), "data.text: required string is missing");
	ASSERT_STREQ(why_of("note", "{\"text\":3}"),
		     "data.text: must be a string, not an integer");
	ASSERT_STREQ(why_of("note", "[]"), "data: must be an object, not an array");
	ASSERT_STREQ(why_of("note", "\"x\""), "data: must be an object, not a string");
	ASSERT_STREQ(why_of("marker", "{\"text\":\"m\"}"), "");
	ASSERT_STREQ(why_of("marker", "{\"text\":\"m\",\"session\":\"4f2a\"}"), "");
	ASSERT_STREQ(why_of("marker", "{\"text\":\"m\",\"session\":7}"),
		     "data.session: must be a string, not an integer");
	ASSERT_STREQ(why_of("marker", "{\"session\":\"s\"}"),
		     "data.text: required string is missing");
	ASSERT_STREQ(why_of("control.pause", "{}"), "");
	ASSERT_STREQ(why_of("control.pause",
			    "{\"reason\":\"lunch\",\"by\":\"me\","
			    "\"until\":\"2026-11-26T20:00:00+01:00\"}"), "");
	ASSERT_STREQ(why_of("control.pause", "{\"until\":\"in an hour\"}"),
		     "data.until: not an RFC 3339 time such as 2026-11-26T19:00:00Z");
	ASSERT_STREQ(why_of("control.pause", "{\"until\":\"2026-11-26\"}"),
		     "data.until: not an RFC 3339 time such as 2026-11-26T19:00:00Z");
	ASSERT_STREQ(why_of("control.pause", "{\"until\":5}"),
		     "data.until: must be a string, not an integer");
	ASSERT_STREQ(why_of("control.pause", "{\"by\":null}"),
		     "data.by: must be a string, not null");
	ASSERT_STREQ(why_of("control.resume", "{\"reason\":\"back\"}"), "");
	ASSERT_STREQ(why_of("control.resume", "{\"reason\":true}"),
		     "data.reason: must be a string, not a boolean");
}

TEST(validate_edit_op)
{
	const char *e = "edit.op";

	/* One valid record of each op. */
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":0,\"op\":\"insert\","
			    "\"pos\":0,\"ins\":\"x\"}"), "");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":1,\"op\":\"delete\","
			    "\"pos\":2,\"len\":2,\"del\":\"\xc3\xa9\xf0\x9f\x98\x80\"}"),
		     "");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":2,\"op\":\"replace\","
			    "\"pos\":0,\"len\":1,\"ins\":\"y\",\"del\":\"x\","
			    "\"actor\":\"me\",\"part\":\"a.txt\",\"group\":\"g1\"}"), "");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":3,\"op\":\"snapshot\","
			    "\"text\":\"all\"}"), "");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"nb\",\"part\":\"cell-3\",\"seq\":4,"
			    "\"op\":\"structural\",\"detail\":{\"action\":\"move\","
			    "\"from\":3,\"to\":5},\"native\":[1,{\"x\":null}]}"), "");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":5,\"op\":\"style\"}"), "");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":6,\"op\":\"comment\","
			    "\"native\":\"raw\"}"), "");

	/* Required and typed fields. */
	ASSERT_STREQ(why_of(e, "{\"seq\":0,\"op\":\"style\"}"),
		     "data.doc: required string is missing");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"op\":\"style\"}"),
		     "data.seq: required integer is missing");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":0}"),
		     "data.op: required string is missing");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":1.0,\"op\":\"style\"}"),
		     "data.seq: must be an integer, not a real");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":0,\"op\":\"style\","
			    "\"detail\":[]}"),
		     "data.detail: must be an object, not an array");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":0,\"op\":\"insert\","
			    "\"pos\":\"0\",\"ins\":\"x\"}"),
		     "data.pos: must be an integer, not a string");

	/* Ranges and the op's needs. */
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":-1,\"op\":\"style\"}"),
		     "data.seq: must not be negative");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":0,\"op\":\"delete\","
			    "\"pos\":-3,\"len\":1}"),
		     "data.pos: must not be negative");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":0,\"op\":\"delete\","
			    "\"pos\":0,\"len\":-1}"),
		     "data.len: must not be negative");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":0,\"op\":\"move\"}"),
		     "data.op: unknown op 'move' (expected insert, delete, "
		     "replace, style, structural, snapshot or comment)");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":0,\"op\":\"insert\","
			    "\"pos\":0}"), "data.ins: required for op 'insert'");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":0,\"op\":\"insert\","
			    "\"ins\":\"x\"}"), "data.pos: required for op 'insert'");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":0,\"op\":\"delete\","
			    "\"pos\":0}"), "data.len: required for op 'delete'");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":0,\"op\":\"delete\","
			    "\"len\":1}"), "data.pos: required for op 'delete'");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":0,\"op\":\"replace\","
			    "\"pos\":0,\"len\":1}"),
		     "data.ins: required for op 'replace'");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":0,\"op\":\"replace\","
			    "\"pos\":0,\"ins\":\"\"}"),
		     "data.len: required for op 'replace'");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":0,\"op\":\"snapshot\"}"),
		     "data.text: required for op 'snapshot'");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":0,\"op\":\"delete\","
			    "\"pos\":0,\"len\":3,\"del\":\"\xc3\xa9\xc3\xa9\"}"),
		     "data.del: is 2 code points long but data.len is 3");
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":0,\"op\":\"style\","
			    "\"del\":\"x\"}"),
		     "data.len: required when data.del is given");
	/* "op" must match whole: a NUL does not hide a suffix. */
	ASSERT_STREQ(why_of(e, "{\"doc\":\"d\",\"seq\":0,\"op\":\"style\\u0000x\"}"),
		     "data.op: unknown op 'style' (expected insert, delete, "
		     "replace, style, structural, snapshot or comment)");
}

TEST(validate_invalid_utf8)
{
	const struct ev_kind *k = ev_kind_find("note");
	json_t *v = json_object();
	struct buf why = BUF_INIT;

	json_object_set_new(v, "text", json_stringn_nocheck("a\xff", 2));
	ASSERT_EQ(ev_validate(k, v, &why), LT_EINVAL);
	ASSERT_STREQ(why.data, "data.text: not valid UTF-8");
	buf_release(&why);
	json_decref(v);
}

static void roundtrip(const struct ev_kind *k, const json_t *v)
{
	struct buf b = BUF_INIT;
	json_t *back = NULL;
	char *s1, *s2;

	ASSERT_OK(ev_encode(k, v, &b));
	ASSERT_OK(ev_decode(k, (const uint8_t *)b.data, b.len, &back));
	ASSERT(json_equal(back, v));
	/* Same keys in the same order, same kinds of number. */
	s1 = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	s2 = json_dumps(back, JSON_ENCODE_ANY | JSON_COMPACT);
	ASSERT(s1 && s2);
	ASSERT_STREQ(s1, s2);
	free(s1);
	free(s2);
	json_decref(back);
	buf_release(&b);
}

TEST(codec_roundtrip)
{
	static const char *const values[] = {
		"null", "true", "false", "0", "1", "-1", "63", "64", "-64",
		"-65", "300", "1234567890123", "-9876543210987",
		"0.0", "-0.0", "1.5", "0.1", "-2.5e-300", "1e308",
		"4.9406564584124654e-324", "\"\"", "\"a\"",
		"\"h\\u00e9llo w\\u00f6rld \\u4e16\\u754c \\ud83d\\ude00\"",
		"\"nul\\u0000inside\"", "\"\\n\\t\\\"\\\\\\u001b[0m\"",
		"[]", "{}", "[[]]", "[{}]", "{\"\":{}}",
		"[null,true,false,1,-1,2.5,\"s\",[],{}]",
		"{\"a\":{\"b\":{\"c\":[1,[2,[3,{\"d\":\"e\"}]]]}}}",
		"{\"z\":1,\"a\":2,\"m\":3}",
		"{\"text\":\"t\",\"text2\":\"u\",\"tex\":\"v\"}",
		"{\"doc\":\"d\",\"seq\":3,\"op\":\"insert\",\"pos\":0,\"ins\":\"x\","
		"\"detail\":{\"doc\":1,\"text\":{\"seq\":2}},\"native\":"
		"{\"op\":[{\"doc\":null}]},\"custom\":[1,2]}",
		"{\"text\":\"a note\",\"session\":\"4f2a\",\"reason\":1}",
	};
	size_t n;
	const struct ev_kind *kinds = ev_kinds(&n);

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		json_t *v = J(values[i]);
		roundtrip(NULL, v);
		if (json_is_object(v)) {
			for (size_t j = 0; j < n; j++)
				roundtrip(&kinds[j], v);
		}
		json_decref(v);
	}
}

TEST(codec_roundtrip_built)
{
	const struct ev_kind *k = ev_kind_find("edit.op");
	json_t *o = json_object(), *a = json_array(), *deep;
	json_t *big = json_array();
	struct buf s = BUF_INIT;

	json_array_append_new(a, json_integer(LLONG_MIN));
	json_array_append_new(a, json_integer(LLONG_MAX));
	json_array_append_new(a, json_integer(LLONG_MIN + 1));
	json_array_append_new(a, json_integer(0));
	json_array_append_new(a, json_real(-0.0));
	json_array_append_new(a, json_real(1.7976931348623157e308));
	json_array_append_new(a, json_real(-2.2250738585072014e-308));
	json_array_append_new(a, json_stringn("\0\0", 2));
	json_object_set_new(o, "ints", a);
	/* A field name, and keys that only look like one. */
	json_object_set_new(o, "doc", json_string("real field"));
	json_object_set_new(o, "do", json_integer(1));
	json_object_set_new(o, "docs", json_integer(2));
	json_object_setn_new(o, "", 0, json_null());
	for (int i = 0; i < 1000; i++)
		buf_addstr(&s, "\xe2\x82\xac");	/* a 3000-byte string */
	json_object_set_new(o, "long", json_string(s.data));
	for (int i = 0; i < 300; i++)
		json_array_append_new(big, json_integer(i * 1000003LL));
	json_object_set_new(o, "big", big);
	roundtrip(NULL, o);
	roundtrip(k, o);

	/* -0.0 keeps its sign bit. */
	{
		struct buf b = BUF_INIT;
		json_t *back;
		ASSERT_OK(ev_encode(NULL, json_array_get(a, 4), &b));
		ASSERT_OK(ev_decode(NULL, (const uint8_t *)b.data, b.len, &back));
		ASSERT(signbit(json_real_value(back)));
		json_decref(back);
		buf_release(&b);
	}

	/* 64 levels of nesting is the limit, both ways. */
	deep = json_object();
	for (int i = 1; i < 64; i++)
		deep = json_pack("[o]", deep);
	roundtrip(NULL, deep);
	deep = json_pack("{so}", "x", deep);
	{
		struct buf b = BUF_INIT;
		buf_addstr(&b, "keep");
		ASSERT_EQ(ev_encode(NULL, deep, &b), LT_EINVAL);
		ASSERT(strstr(lt_errmsg(), "nested deeper than 64"));
		ASSERT_EQ(b.len, 4);	/* out is left as it was */
		ASSERT_STREQ(b.data, "keep");
		buf_release(&b);
	}
	json_decref(deep);
	json_decref(o);
	buf_release(&s);
}

static void expect_bytes(const struct ev_kind *k, const char *json,
			 const char *bytes, size_t n)
{
	struct buf b = BUF_INIT;
	json_t *v = J(json);

	ASSERT_OK(ev_encode(k, v, &b));
	ASSERT_EQ(b.len, n);
	ASSERT_MEMEQ(b.data, bytes, n);
	json_decref(v);
	buf_release(&b);
}

#define EXPECT_BYTES(k, json, lit) expect_bytes(k, json, lit, sizeof(lit) - 1)

TEST(codec_exact_bytes)
{
	const struct ev_kind *note = ev_kind_find("note");
	const struct ev_kind *edit = ev_kind_find("edit.op");

	EXPECT_BYTES(NULL, "null", "\x00");
	EXPECT_BYTES(NULL, "false", "\x01");
	EXPECT_BYTES(NULL, "true", "\x02");
	EXPECT_BYTES(NULL, "0", "\x03\x00");
	EXPECT_BYTES(NULL, "-1", "\x03\x01");
	EXPECT_BYTES(NULL, "64", "\x03\x80\x01");
	EXPECT_BYTES(NULL, "1.0", "\x04\x00\x00\x00\x00\x00\x00\xf0\x3f");
	EXPECT_BYTES(NULL, "\"\"", "\x05\x00");
	EXPECT_BYTES(NULL, "[true,[]]", "\x06\x02\x02\x06\x00");
	EXPECT_BYTES(NULL, "{}", "\x07\x00");
	/* A registered field is a field number; without a kind, a name. */
	EXPECT_BYTES(note, "{\"text\":\"hi\"}", "\x07\x01\x01\x05\x02hi");
	EXPECT_BYTES(NULL, "{\"text\":\"hi\"}", "\x07\x01\x08text\x05\x02hi");
	EXPECT_BYTES(note, "{\"x\":null}", "\x07\x01\x02x\x00");
	/* Nested objects always use names, even for field names. */
	EXPECT_BYTES(edit,
		     "{\"doc\":\"d\",\"seq\":0,\"op\":\"insert\",\"pos\":3,"
		     "\"ins\":\"x\",\"detail\":{\"doc\":1}}",
		     "\x07\x06"
		     "\x01\x05\x01" "d"
		     "\x05\x03\x00"
		     "\x09\x05\x06" "insert"
		     "\x0b\x03\x06"
		     "\x0f\x05\x01" "x"
		     "\x19\x07\x01\x06" "doc" "\x03\x02");
}

/* Decodes bytes, expecting failure with a message containing want. */
static void expect_corrupt(const struct ev_kind *k, const char *bytes,
			   size_t n, const char *want)
{
	json_t *v = (json_t *)1;

	ASSERT_EQ(ev_decode(k, (const uint8_t *)bytes, n, &v), LT_ECORRUPT);
	ASSERT(v == NULL);
	if (!strstr(lt_errmsg(), want))
		TEST_FAIL("message '%s' lacks '%s'", lt_errmsg(), want);
}

#define EXPECT_CORRUPT(k, lit, want) expect_corrupt(k, lit, sizeof(lit) - 1, want)

TEST(codec_decode_errors)
{
	const struct ev_kind *note = ev_kind_find("note");
	char deep[2 * 65 + 1];
	json_t *v;

	EXPECT_CORRUPT(NULL, "", "payload is empty");
	EXPECT_CORRUPT(NULL, "\x09", "payload byte 0: unknown value tag 9");
	EXPECT_CORRUPT(NULL, "\x08\x00", "payload byte 0: bytes outside a "
		       "bytes field");
	EXPECT_CORRUPT(NULL, "\xff", "payload byte 0: unknown value tag 255");
	EXPECT_CORRUPT(NULL, "\x00\x00", "payload byte 1: 1 unexpected bytes");
	EXPECT_CORRUPT(NULL, "\x03", "payload byte 0: integer is truncated");
	EXPECT_CORRUPT(NULL, "\x03\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f",
		       "integer is truncated or too long");
	EXPECT_CORRUPT(NULL, "\x04\x00\x00", "real is truncated");
	EXPECT_CORRUPT(NULL, "\x04\x00\x00\x00\x00\x00\x00\xf8\x7f",
		       "real is not a finite number");
	EXPECT_CORRUPT(NULL, "\x04\x00\x00\x00\x00\x00\x00\xf0\xff",
		       "real is not a finite number");
	EXPECT_CORRUPT(NULL, "\x05\x05" "abc", "payload byte 1: string length 5 "
		       "exceeds the 3 bytes left");
	EXPECT_CORRUPT(NULL, "\x05\x01\xff", "string is not valid UTF-8");
	EXPECT_CORRUPT(NULL, "\x05\x02\xc0\x80", "string is not valid UTF-8");
	EXPECT_CORRUPT(NULL, "\x05\x03\xed\xa0\x80", "string is not valid UTF-8");
	EXPECT_CORRUPT(NULL, "\x05\x04\xf4\x90\x80\x80", "string is not valid UTF-8");
	EXPECT_CORRUPT(NULL, "\x05\x02\xe2\x82", "string is not valid UTF-8");
	/* A forged count fails at once instead of allocating. */
	EXPECT_CORRUPT(NULL, "\x06\xff\xff\xff\xff\x0f\x00",
		       "payload byte 1: array size 4294967295 exceeds");
	EXPECT_CORRUPT(NULL, "\x07\x02\x02x\x00", "object size 2 exceeds");
	EXPECT_CORRUPT(NULL, "\x07\x01\x02x", "payload byte 4: payload ends "
		       "where a value should be");
	EXPECT_CORRUPT(NULL, "\x06\x02\x05\x01", "payload byte 3: string length 1 "
		       "exceeds the 0 bytes left");
	EXPECT_CORRUPT(NULL, "\x07\x01\x0a" "ab\x00",
		       "key length 5 exceeds the 3 bytes left");
	EXPECT_CORRUPT(NULL, "\x07\x01\x02\xff\x00", "object key is not valid UTF-8");
	EXPECT_CORRUPT(NULL, "\x07\x01\x04" "a\x00" "\x00",
		       "payload byte 2: object key contains a NUL byte");
	EXPECT_CORRUPT(NULL, "\x07\x02\x02x\x00\x02x\x01",
		       "payload byte 5: duplicate key 'x'");
	/* Field numbers: only with a kind, only at the top, only known ones. */
	EXPECT_CORRUPT(NULL, "\x07\x01\x01\x00", "field number 0 but no kind");
	EXPECT_CORRUPT(note, "\x07\x01\x03\x00",
		       "payload byte 2: kind 'note' has no field number 1");
	EXPECT_CORRUPT(note, "\x07\x01\x02x\x07\x01\x01\x00",
		       "payload byte 6: field number 0 in a nested object");
	EXPECT_CORRUPT(note, "\x07\x02\x01\x00\x08text\x00", "duplicate key 'text'");
	EXPECT_CORRUPT(note, "\x06\x00", "payload of kind 'note' is not an object");

	/* A literal name for a registered field decodes (a payload written
	 * before the field was registered). */
	ASSERT_OK(ev_decode(note, (const uint8_t *)"\x07\x01\x08text\x05\x01z",
			    10, &v));
	ASSERT_STREQ(json_string_value(json_object_get(v, "text")), "z");
	json_decref(v);

	/* 64 nested arrays decode; 65 do not. */
	for (int i = 0; i < 65; i++) {
		deep[2 * i] = 6;
		deep[2 * i + 1] = 1;
	}
	deep[2 * 63 + 1] = 0;
	ASSERT_OK(ev_decode(NULL, (const uint8_t *)deep, 2 * 64, &v));
	json_decref(v);
	deep[2 * 63 + 1] = 1;
	deep[2 * 64 + 1] = 0;
	expect_corrupt(NULL, deep, 2 * 65, "payload byte 128: nested deeper than 64");
}

TEST(codec_truncations_and_flips)
{
	const struct ev_kind *k = ev_kind_find("edit.op");
	json_t *v = J("{\"doc\":\"d\xc3\xa9\",\"seq\":300,\"op\":\"replace\","
		      "\"pos\":-5,\"len\":1,\"ins\":\"\xe4\xb8\x96\",\"del\":\"x\","
		      "\"native\":[1.5,null,true,false,{\"k\":[\"v\"]}],"
		      "\"detail\":{\"a\":{}},\"other\":\"o\"}");
	struct buf b = BUF_INIT;
	int ok = 0;

	ASSERT_OK(ev_encode(k, v, &b));
	for (size_t n = 0; n < b.len; n++) {
		json_t *out = (json_t *)1;
		ASSERT_EQ(ev_decode(k, (const uint8_t *)b.data, n, &out),
			  LT_ECORRUPT);
		ASSERT(out == NULL);
		ASSERT(n == 0 || !strncmp(lt_errmsg(), "payload byte ", 13));
	}
	/* Every single-bit flip either fails cleanly or gives a value that
	 * round-trips itself. */
	for (size_t i = 0; i < b.len * 8; i++) {
		json_t *out;
		b.data[i / 8] ^= (char)(1 << (i % 8));
		if (ev_decode(k, (const uint8_t *)b.data, b.len, &out) == 0) {
			roundtrip(k, out);
			json_decref(out);
			ok++;
		}
		b.data[i / 8] ^= (char)(1 << (i % 8));
	}
	ASSERT(ok > 0 && ok < (int)b.len * 8);
	json_decref(v);
	buf_release(&b);
}

TEST(codec_random_bytes)
{
	const struct ev_kind *k = ev_kind_find("edit.op");
	uint8_t p[96];
	int decoded = 0;

	for (int i = 0; i < 5000; i++) {
		/* Mostly short inputs: long random ones are rarely whole. */
		size_t n = rng() % (i % 8 ? 12 : sizeof(p));
		for (size_t j = 0; j < n; j++) {
			/* Mostly small bytes, so tags and counts are often
			 * plausible and the decoder gets deep. */
			uint64_t r = rng();
			p[j] = (uint8_t)(r % 4 ? r % 9 : r >> 8);
		}
		if (i % 2 && n)
			p[0] = 7;
		for (int withkind = 0; withkind < 2; withkind++) {
			json_t *out;
			int r = ev_decode(withkind ? k : NULL, p, n, &out);
			ASSERT(r == 0 || r == LT_ECORRUPT);
			if (r == 0) {
				roundtrip(withkind ? k : NULL, out);
				json_decref(out);
				decoded++;
			} else {
				ASSERT(out == NULL);
			}
		}
	}
	ASSERT(decoded > 50);
}

TEST(codec_encode_errors)
{
	const struct ev_kind *note = ev_kind_find("note");
	struct buf b = BUF_INIT;
	json_t *v = json_array(), *o = json_object();

	ASSERT_EQ(ev_encode(note, v, &b), LT_EINVAL);
	ASSERT_STREQ(lt_errmsg(), "data of kind 'note' must be an object");
	json_array_append_new(v, json_stringn_nocheck("\xc3", 1));
	ASSERT_EQ(ev_encode(NULL, v, &b), LT_EINVAL);
	ASSERT_STREQ(lt_errmsg(), "string is not valid UTF-8");
	json_object_setn_new_nocheck(o, "\xff", 1, json_null());
	ASSERT_EQ(ev_encode(NULL, o, &b), LT_EINVAL);
	ASSERT_STREQ(lt_errmsg(), "object key is not valid UTF-8");
	json_decref(o);
	o = json_object();
	json_object_setn_new(o, "a\0b", 3, json_null());
	ASSERT_EQ(ev_encode(NULL, o, &b), LT_EINVAL);
	ASSERT_STREQ(lt_errmsg(), "object key contains a NUL byte");
	ASSERT_EQ(b.len, 0);
	/* A size cap is honoured and leaves the buffer as it was. */
	json_decref(v);
	v = J("{\"text\":\"0123456789012345678901234567890123456789\"}");
	b.cap = 16;
	ASSERT_EQ(ev_encode(note, v, &b), LT_ETOOBIG);
	ASSERT_EQ(b.len, 0);
	json_decref(v);
	json_decref(o);
	buf_release(&b);
}

#define HASH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

TEST(validate_fs_kinds)
{
	ASSERT_STREQ(why_of("fs.chunk", "{\"hash\":\"" HASH "\",\"data\":\"\"}"),
		     "");
	ASSERT_STREQ(why_of("fs.chunk", "{\"hash\":\"" HASH "\",\"data\":"
					"\"aGVsbG8=\"}"), "");
	ASSERT_STREQ(why_of("fs.chunk", "{\"hash\":\"" HASH "\"}"),
		     "data.data: required bytes is missing");
	ASSERT_STREQ(why_of("fs.chunk", "{\"hash\":\"" HASH "\",\"data\":1}"),
		     "data.data: must be bytes (a base64 string), not an "
		     "integer");
	ASSERT_STREQ(why_of("fs.chunk", "{\"hash\":\"" HASH "\",\"data\":"
					"\"aGVsbG8\"}"),
		     "data.data: not canonical base64 (standard alphabet, '=' "
		     "padding, no spaces)");
	ASSERT_STREQ(why_of("fs.chunk", "{\"hash\":\"0123\",\"data\":\"\"}"),
		     "data.hash: must be 64 lowercase hex digits");
	ASSERT_STREQ(why_of("fs.chunk", "{\"hash\":\"" "0123456789ABCDEF"
			    "0123456789abcdef0123456789abcdef0123456789abcdef"
			    "\",\"data\":\"\"}"),
		     "data.hash: must be 64 lowercase hex digits");

	ASSERT_STREQ(why_of("fs.blob", "{\"doc\":\"file:1\",\"seq\":0,"
				       "\"size\":0,\"chunks\":[]}"), "");
	ASSERT_STREQ(why_of("fs.blob", "{\"doc\":\"file:1\",\"seq\":3,"
				       "\"path\":\"a.bin\",\"group\":\"save:2\","
				       "\"actor\":\"u\",\"size\":5,\"chunks\":"
				       "[\"" HASH "\",\"" HASH "\"]}"), "");
	ASSERT_STREQ(why_of("fs.blob", "{\"doc\":\"file:1\",\"seq\":0,"
				       "\"size\":5}"),
		     "data.chunks: required array is missing");
	ASSERT_STREQ(why_of("fs.blob", "{\"doc\":\"file:1\",\"seq\":0,"
				       "\"size\":-1,\"chunks\":[]}"),
		     "data.size: must not be negative");
	ASSERT_STREQ(why_of("fs.blob", "{\"doc\":\"file:1\",\"seq\":0,"
				       "\"size\":1,\"chunks\":[\"" HASH "\",7]}"),
		     "data.chunks[1]: must be a chunk hash, 64 lowercase hex "
		     "digits");
}

/* Canonical base64 and what it is not. */
TEST(codec_base64)
{
	static const char *const bad[] = {
		"a", "aa", "aaa", "aGVsbG8", "aGVsbG8==", "aGVsbG9=",
		"aGVsbA=", "aGVs bG8=", "aGVsbG8=\n", "=aGVsbG8", "aG=sbG8=",
		"aGVsbG8-", "aGVsbG8_", "a===", "====", "aGVsbG8=aGVs",
		"QR==", "QUF=",
	};
	static const char *const good[] = { "", "QQ==", "QUE=", "QUFB",
					    "aGVsbG8=", "+/+/", "AAAA" };
	const struct ev_kind *k = ev_kind_find("fs.chunk");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *v = json_pack("{ssss}", "hash", HASH, "data", bad[i]);
		struct buf b = BUF_INIT;
		ASSERT(v);
		ASSERT_EQ(ev_encode(k, v, &b), LT_EINVAL);
		ASSERT_STREQ(lt_errmsg(), "data.data: not canonical base64 "
			     "(standard alphabet, '=' padding, no spaces)");
		ASSERT_EQ(b.len, 0);
		buf_release(&b);
		json_decref(v);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		json_t *v = json_pack("{ssss}", "hash", HASH, "data", good[i]);
		roundtrip(k, v);
		json_decref(v);
	}
	/* libsodium's decoder takes bytes from 0x80 up for digits: each
	 * such byte, at each place of both the word loop and its tail. */
	for (int at = 0; at < 20; at++) {
		for (int c = 0x80; c <= 0xff; c++) {
			char s[21] = "aGVsbG8gd29ybGQhIQ==";
			json_t *v = json_pack("{ss}", "hash", HASH);
			struct buf b = BUF_INIT;
			s[at] = (char)c;
			ASSERT_EQ(ev_base64_check(s, 20), -1);
			json_object_set_new(v, "data", json_stringn_nocheck(s, 20));
			ASSERT_EQ(ev_encode(k, v, &b), LT_EINVAL);
			buf_release(&b);
			json_decref(v);
		}
	}
	ASSERT_EQ(ev_base64_check("aGVsbG8gd29ybGQhIQ==", 20), 13);
	/* A 4097-character string crosses ev_base64_check's pieces; padding
	 * at the end of a piece that is not the last is refused. */
	{
		struct buf s = BUF_INIT;
		json_t *v;
		for (int i = 0; i < 1024; i++)
			buf_addstr(&s, i == 1023 ? "QQ==" : "QUFB");
		buf_addstr(&s, "QUFB");
		v = json_pack("{ssss}", "hash", HASH, "data", s.data);
		struct buf b = BUF_INIT;
		ASSERT_EQ(ev_encode(k, v, &b), LT_EINVAL);
		buf_release(&b);
		json_decref(v);
		s.data[4095] = 'B';
		s.data[4094] = 'F';
		v = json_pack("{ssss}", "hash", HASH, "data", s.data);
		roundtrip(k, v);
		json_decref(v);
		buf_release(&s);
	}
}

TEST(codec_bytes)
{
	const struct ev_kind *chunk = ev_kind_find("fs.chunk");
	const struct ev_kind *note = ev_kind_find("note");
	uint8_t raw[3000];
	json_t *v, *back;
	struct buf b = BUF_INIT;
	char *b64;
	size_t n;

	/* Exact bytes: field 1 ("data") is tag 8, the raw bytes. */
	EXPECT_BYTES(chunk, "{\"data\":\"aGk=\"}", "\x07\x01\x03\x08\x02hi");
	EXPECT_BYTES(chunk, "{\"data\":\"\"}", "\x07\x01\x03\x08\x00");
	/* Not a bytes field, or no kind: a string is a string. */
	EXPECT_BYTES(chunk, "{\"hash\":\"aGk=\"}", "\x07\x01\x01\x05\x04" "aGk=");
	EXPECT_BYTES(NULL, "{\"data\":\"aGk=\"}", "\x07\x01\x08" "data\x05\x04"
		     "aGk=");
	/* A bytes field holding something else than a string is kept as is
	 * (ev_validate refuses it; the codec stays total). */
	EXPECT_BYTES(chunk, "{\"data\":[1]}", "\x07\x01\x03\x06\x01\x03\x02");
	v = J("{\"data\":[1],\"x\":{\"data\":\"aGk=\"}}");
	roundtrip(chunk, v);
	json_decref(v);

	/* Every byte value, and lengths around base64's groups of 3. */
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(i * 7 + (i >> 8));
	for (size_t len = 0; len <= sizeof(raw); len += len < 10 ? 1 : 997) {
		n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
		b64 = malloc(n);
		sodium_bin2base64(b64, n, raw, len, sodium_base64_VARIANT_ORIGINAL);
		v = json_pack("{sssiss}", "hash", HASH, "extra", 1, "data", b64);
		roundtrip(chunk, v);
		buf_reset(&b);
		ASSERT_OK(ev_encode(chunk, v, &b));
		/* The raw bytes are in the payload, not their base64. */
		ASSERT(b.len < len + 100);
		ASSERT(b.len >= len && !memcmp(b.data + b.len - len, raw, len));
		ASSERT_OK(ev_decode(chunk, (const uint8_t *)b.data, b.len, &back));
		ASSERT_STREQ(json_string_value(json_object_get(back, "data")), b64);
		json_decref(back);
		json_decref(v);
		free(b64);
	}

	/* A literal name for the bytes field decodes too (rule 3). */
	ASSERT_OK(ev_decode(chunk, (const uint8_t *)"\x07\x01\x08" "data\x08\x01"
			    "A", 10, &back));
	ASSERT_STREQ(json_string_value(json_object_get(back, "data")), "QQ==");
	json_decref(back);

	/* Tag 8 only where the encoder writes it; a string never there. */
	EXPECT_CORRUPT(chunk, "\x07\x01\x03\x05\x00",
		       "payload byte 3: a string where bytes belong");
	EXPECT_CORRUPT(chunk, "\x07\x01\x08" "data\x05\x00",
		       "a string where bytes belong");
	EXPECT_CORRUPT(chunk, "\x07\x01\x01\x08\x00",
		       "payload byte 3: bytes outside a bytes field");
	EXPECT_CORRUPT(chunk, "\x07\x01\x02x\x08\x00", "bytes outside a bytes");
	EXPECT_CORRUPT(chunk, "\x07\x01\x03\x06\x01\x08\x00",
		       "bytes outside a bytes");
	EXPECT_CORRUPT(note, "\x07\x01\x01\x08\x00", "bytes outside a bytes");
	EXPECT_CORRUPT(NULL, "\x07\x01\x08" "data\x08\x00",
		       "bytes outside a bytes");
	EXPECT_CORRUPT(chunk, "\x07\x01\x03\x08\x05" "abc",
		       "payload byte 4: bytes length 5 exceeds the 3 bytes left");
	buf_release(&b);
}

/* ev_encode_edit decodes to what ev_encode of the same JSON holds, and
 * passes the kind's checks. */
static void expect_edit(const struct ev_edit *x, const char *json)
{
	const struct ev_kind *k = ev_kind_find("edit.op");
	struct buf direct = BUF_INIT, why = BUF_INIT;
	json_t *want = J(json), *got;

	ASSERT_OK(ev_encode_edit(&direct, x));
	ASSERT_OK(ev_decode(k, (const uint8_t *)direct.data, direct.len, &got));
	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_SORT_KEYS);
		TEST_FAIL("ev_encode_edit gave %s, want %s", g, json);
	}
	ASSERT_OK(ev_validate(k, got, &why));
	json_decref(got);
	json_decref(want);
	buf_release(&direct);
	buf_release(&why);
}

TEST(direct_edit_op)
{
	struct ev_edit snap = { .doc = "file:0123456789abcdef", .part = "a.txt",
				.path = "a.txt", .actor = "ada",
				.group = "save:1", .op = "snapshot", .seq = 0,
				.text = "h\303\251\0llo\n", .text_len = 8 };
	struct ev_edit del = { .doc = "file:0123456789abcdef", .op = "replace",
			       .seq = 300, .pos = 1, .has_pos = 1, .len = 2,
			       .has_len = 1, .del = "\303\251x", .del_len = 3,
			       .ins = "e", .ins_len = 1 };
	struct ev_edit bad = { .doc = "d", .op = "insert", .pos = 0,
			       .has_pos = 1, .ins = "\377", .ins_len = 1 };
	struct ev_edit none = { .op = "insert" };
	struct buf b = BUF_INIT;

	expect_edit(&snap, "{\"doc\":\"file:0123456789abcdef\",\"part\":"
		    "\"a.txt\",\"path\":\"a.txt\",\"actor\":\"ada\","
		    "\"group\":\"save:1\",\"op\":\"snapshot\",\"seq\":0,"
		    "\"text\":\"h\\u00e9\\u0000llo\\n\"}");
	expect_edit(&del, "{\"doc\":\"file:0123456789abcdef\",\"op\":"
		    "\"replace\",\"seq\":300,\"pos\":1,\"len\":2,"
		    "\"del\":\"\\u00e9x\",\"ins\":\"e\"}");
	ASSERT_EQ(ev_encode_edit(&b, &bad), LT_EINVAL);
	ASSERT_EQ(ev_encode_edit(&b, &none), LT_EINVAL);
	ASSERT_EQ(b.len, 0);
	buf_release(&b);
}

static int64_t T0;

static void set_t0(void)
{
	if (!T0)
		ASSERT_OK(lt_time_parse_rfc3339("2026-11-26T19:00:00.123456789Z", &T0));
}

TEST(parse_line_ok)
{
	struct event e = EVENT_INIT;
	const char *line;

	set_t0();
	line = "{\"t\":\"2026-11-26T19:00:00.123456789Z\",\"stream\":\"s\","
	       "\"kind\":\"note\",\"data\":{\"text\":\"hi\",\"x\":1}} \r\n";
	ASSERT_OK(ev_parse_line(line, strlen(line), 5, "s", &e));
	ASSERT_EQ(e.t, T0);
	ASSERT_STREQ(e.stream, "s");
	ASSERT_STREQ(e.kind, "note");
	ASSERT_EQ(json_integer_value(json_object_get(e.data, "x")), 1);
	event_release(&e);
	ASSERT(!e.data && !e.kind && !e.stream);

	/* Defaults: now and the default stream; a stream when none is set. */
	line = "{\"data\":{\"text\":\"m\"},\"kind\":\"marker\"}";
	ASSERT_OK(ev_parse_line(line, strlen(line), 42, "term:1", &e));
	ASSERT_EQ(e.t, 42);
	ASSERT_STREQ(e.stream, "term:1");
	event_release(&e);
	ASSERT_OK(ev_parse_line(line, strlen(line), 42, NULL, &e));
	ASSERT(e.stream == NULL);
	event_release(&e);
	line = "{\"stream\":\"mine\",\"kind\":\"control.resume\",\"data\":{}}";
	ASSERT_OK(ev_parse_line(line, strlen(line), 1, NULL, &e));
	ASSERT_STREQ(e.stream, "mine");
	event_release(&e);
	/* Only n bytes are read: what follows is not part of the line. */
	line = "{\"kind\":\"note\",\"data\":{\"text\":\"a\"}}garbage";
	ASSERT_OK(ev_parse_line(line, strlen(line) - 7, 1, NULL, &e));
	event_release(&e);
}

/* Parses line, expecting failure with exactly the message want. */
static void expect_line_error(const char *line, const char *want)
{
	struct event e = EVENT_INIT;

	ASSERT_EQ(ev_parse_line(line, strlen(line), 1, "s", &e), LT_EINVAL);
	ASSERT(!e.data && !e.kind && !e.stream);
	if (strcmp(lt_errmsg(), want))
		TEST_FAIL("line %s:\n got  %s\n want %s", line, lt_errmsg(), want);
}

TEST(parse_line_errors)
{
	expect_line_error("", "empty line (expected one JSON object per line)");
	expect_line_error(" \t\r", "empty line (expected one JSON object per line)");
	expect_line_error("{\"kind\":\"note\",\"data\":{\"text\":\"x\"} x}",
			  "column 36: '}' expected near 'x' (expected one JSON "
			  "object per line)");
	expect_line_error("{\"kind\":\"note\",\"data\":{\"text\":\"x\"}} {}",
			  "column 37: end of file expected near '{' (expected "
			  "one JSON object per line)");
	expect_line_error("{\"kind\":\"note\",\"kind\":\"note\"}",
			  "column 21: duplicate object key near '\"kind\"' "
			  "(expected one JSON object per line)");
	expect_line_error("{\"kind\":\"note\",\"data\":{\"text\":\"a\",\"text\":\"b\"}}",
			  "column 40: duplicate object key near '\"text\"' "
			  "(expected one JSON object per line)");
	expect_line_error("[1]", "expected a JSON object, not an array");
	expect_line_error("{\"data\":{\"text\":\"x\"}}",
			  "missing \"kind\", such as \"kind\":\"note\" "
			  "(see 'labtape kinds')");
	expect_line_error("{\"kind\":7,\"data\":{}}",
			  "\"kind\" must be a string, not an integer "
			  "(see 'labtape kinds')");
	expect_line_error("{\"kind\":\"nope\",\"data\":{}}",
			  "unknown kind 'nope' (see 'labtape kinds')");
	expect_line_error("{\"kind\":\"note\"}",
			  "missing \"data\", the object with the event's fields "
			  "(see 'labtape kinds note')");
	expect_line_error("{\"kind\":\"note\",\"data\":\"hello\"}",
			  "\"data\" must be an object, not a string");
	expect_line_error("{\"kind\":\"note\",\"data\":{}}",
			  "data.text: required string is missing "
			  "(see 'labtape kinds note')");
	expect_line_error("{\"kind\":\"note\",\"data\":{\"text\":\"x\"},\"x\":1}",
			  "unknown key 'x' (expected t, stream, kind, data)");
	expect_line_error("{\"kind\":\"note\",\"data\":{\"text\":\"x\"},"
			  "\"t\":\"yesterday\"}",
			  "\"t\": bad timestamp 'yesterday': expected RFC 3339 "
			  "such as 2026-11-26T19:00:00.123Z");
	expect_line_error("{\"kind\":\"note\",\"data\":{\"text\":\"x\"},\"t\":1}",
			  "\"t\" must be a string such as \"2026-11-26T19:00:00Z\", "
			  "not an integer");
	expect_line_error("{\"kind\":\"note\",\"data\":{\"text\":\"x\"},"
			  "\"stream\":\"other\"}",
			  "\"stream\" is 'other' but this input goes to stream 's' "
			  "(leave \"stream\" out, or make it match)");
	expect_line_error("{\"kind\":\"note\",\"data\":{\"text\":\"x\"},"
			  "\"stream\":null}",
			  "\"stream\" must be a string, not null");
	expect_line_error("{\"kind\":\"note\",\"data\":{\"text\":\"\\u0000\"}}",
			  "column 38: \\u0000 is not allowed in text (remove it)");
}

TEST(parse_line_depth)
{
	struct buf line = BUF_INIT;
	struct event e = EVENT_INIT;

	/* data is level 1; 63 more levels fit, 64 do not. */
	for (int extra = 63; extra <= 64; extra++) {
		buf_reset(&line);
		buf_addstr(&line, "{\"kind\":\"note\",\"data\":{\"text\":\"x\",\"n\":");
		for (int i = 0; i < extra; i++)
			buf_addch(&line, '[');
		for (int i = 0; i < extra; i++)
			buf_addch(&line, ']');
		buf_addstr(&line, "}}");
		if (extra == 63) {
			ASSERT_OK(ev_parse_line(line.data, line.len, 1, NULL, &e));
			event_release(&e);
		} else {
			ASSERT_EQ(ev_parse_line(line.data, line.len, 1, NULL, &e),
				  LT_EINVAL);
			ASSERT_STREQ(lt_errmsg(), "data: nested deeper than 64 levels");
		}
	}
	buf_release(&line);
}

static void expect_json(int64_t t, const char *stream, const char *kind,
			const char *data, const char *want)
{
	struct buf b = BUF_INIT;
	json_t *v = J(data);

	buf_addstr(&b, ">");
	ASSERT_OK(ev_to_json(t, stream, kind, v, &b));
	ASSERT_STREQ(b.data + 1, want);
	json_decref(v);
	buf_release(&b);
}

TEST(to_json_canonical)
{
	set_t0();
	expect_json(T0, "fs:~/papers", "note",
		    "{\"text\":\"h\xc3\xa9llo \\\"q\\\"\\n/\"}",
		    "{\"t\":\"2026-11-26T19:00:00.123456789Z\",\"stream\":"
		    "\"fs:~/papers\",\"kind\":\"note\",\"data\":{\"text\":"
		    "\"h\xc3\xa9llo \\\"q\\\"\\n/\"}}");
	expect_json(0, "s", "edit.op",
		    "{\"seq\":1,\"doc\":\"d\",\"op\":\"delete\",\"pos\":0,"
		    "\"len\":2,\"del\":\"ab\",\"native\":{\"z\":[1.5,0.1],\"a\":null}}",
		    "{\"t\":\"1970-01-01T00:00:00.000000000Z\",\"stream\":\"s\","
		    "\"kind\":\"edit.op\",\"data\":{\"del\":\"ab\",\"doc\":\"d\","
		    "\"len\":2,\"native\":{\"a\":null,\"z\":[1.5,0.10000000000000001]},"
		    "\"op\":\"delete\",\"pos\":0,\"seq\":1}}");
	expect_json(-1, "q\"\\\x01\x1f\x7f\t", "x.y", "[1]",
		    "{\"t\":\"1969-12-31T23:59:59.999999999Z\",\"stream\":"
		    "\"q\\\"\\\\\\u0001\\u001F\x7f\\t\",\"kind\":\"x.y\",\"data\":[1]}");
	expect_json(0, NULL, "note", "{\"text\":\"\"}",
		    "{\"t\":\"1970-01-01T00:00:00.000000000Z\",\"kind\":\"note\","
		    "\"data\":{\"text\":\"\"}}");
}

/* The stream and kind are escaped exactly as jansson escapes data. */
TEST(to_json_escapes_like_jansson)
{
	struct buf b = BUF_INIT, want = BUF_INIT;
	json_t *data = json_object();

	for (int c = 1; c < 0x80; c++) {
		char s[8] = { 'a', (char)c, '\xe2', '\x80', '\xa8', 'z', 0 };
		json_t *js = json_string(s);
		char *dumped = json_dumps(js, JSON_ENCODE_ANY);

		buf_reset(&b);
		buf_reset(&want);
		ASSERT_OK(ev_to_json(0, s, s, data, &b));
		buf_addf(&want, "{\"t\":\"1970-01-01T00:00:00.000000000Z\","
			 "\"stream\":%s,\"kind\":%s,\"data\":{}}", dumped, dumped);
		ASSERT_STREQ(b.data, want.data);
		free(dumped);
		json_decref(js);
	}
	ASSERT_EQ(ev_to_json(0, "bad\xff", "note", data, &b), LT_EINVAL);
	json_decref(data);
	buf_release(&b);
	buf_release(&want);
}

TEST(to_json_deterministic_and_parses_back)
{
	json_t *a = J("{\"text\":\"x\",\"b\":{\"y\":1,\"x\":[2]},\"a\":1.25}");
	json_t *b = J("{\"a\":1.25,\"b\":{\"x\":[2],\"y\":1},\"text\":\"x\"}");
	struct buf ja = BUF_INIT, jb = BUF_INIT;
	struct event e = EVENT_INIT;

	ASSERT_OK(ev_to_json(123456789, "st", "note", a, &ja));
	ASSERT_OK(ev_to_json(123456789, "st", "note", b, &jb));
	ASSERT_STREQ(ja.data, jb.data);
	ASSERT_OK(ev_parse_line(ja.data, ja.len, 0, "st", &e));
	ASSERT_EQ(e.t, 123456789);
	ASSERT(json_equal(e.data, a));
	event_release(&e);
	json_decref(a);
	json_decref(b);
	buf_release(&ja);
	buf_release(&jb);
}

static const char *human(int64_t t, const char *stream, const char *kind,
			 const char *data, int width)
{
	static struct buf b = BUF_INIT;
	json_t *v = J(data);

	buf_reset(&b);
	ev_format_human(t, stream, kind, v, width, &b);
	json_decref(v);
	return b.data;
}

TEST(format_human)
{
	set_t0();
	ASSERT_STREQ(human(T0, "fs:~/papers", "note",
			   "{\"text\":\"line1\\nline2\"}", 0),
		     "2026-11-26 19:00:00.123  fs:~/papers  note  line1\xe2\x8f\x8eline2");
	ASSERT_STREQ(human(T0, NULL, "marker", "{\"text\":\"here\",\"session\":\"s\"}", 0),
		     "2026-11-26 19:00:00.123  -  marker  here");
	ASSERT_STREQ(human(0, "d", "control.pause", "{\"reason\":\"lunch\",\"by\":\"me\"}", 0),
		     "1970-01-01 00:00:00.000  d  control.pause  "
		     "{\"by\":\"me\",\"reason\":\"lunch\"}");
	ASSERT_STREQ(human(0, "e", "edit.op",
			   "{\"doc\":\"paper\",\"part\":\"intro.tex\",\"seq\":4,"
			   "\"op\":\"insert\",\"pos\":120,\"ins\":\"hello\"}", 0),
		     "1970-01-01 00:00:00.000  e  edit.op  "
		     "insert paper[intro.tex]@120 +5 -0 \"hello\"");
	ASSERT_STREQ(human(0, "e", "edit.op",
			   "{\"doc\":\"d\",\"seq\":4,\"op\":\"delete\",\"pos\":0,"
			   "\"len\":2,\"del\":\"\\n\\u00e9\"}", 0),
		     "1970-01-01 00:00:00.000  e  edit.op  "
		     "delete d@0 +0 -2 \"\xe2\x8f\x8e\xc3\xa9\"");
	ASSERT_STREQ(human(0, "e", "edit.op",
			   "{\"doc\":\"nb\",\"seq\":4,\"op\":\"structural\","
			   "\"detail\":{\"to\":5,\"action\":\"move\"}}", 0),
		     "1970-01-01 00:00:00.000  e  edit.op  "
		     "structural nb {\"action\":\"move\",\"to\":5}");
	ASSERT_STREQ(human(0, "e", "edit.op",
			   "{\"doc\":\"d\",\"seq\":0,\"op\":\"snapshot\",\"text\":"
			   "\"0123456789012345678901234567890123456789ABC\"}", 0),
		     "1970-01-01 00:00:00.000  e  edit.op  snapshot d +43 -0 "
		     "\"0123456789012345678901234567890123456789\xe2\x80\xa6\"");
	/* Terminal controls in recorded text are neutralised. */
	ASSERT_STREQ(human(0, "s", "note",
			   "{\"text\":\"a\\u001b[2Jb\\tc\\u0085d\\u202ee\"}", 0),
		     "1970-01-01 00:00:00.000  s  note  "
		     "a\xef\xbf\xbd[2Jb c\xef\xbf\xbd" "d\xef\xbf\xbd" "e");
	/* Terminal bytes show as the text they print: decoded, escape
	 * sequences and \r left out, other controls neutralised. */
	ASSERT_STREQ(human(0, "term:s", "term.out",	/* \e[1;31mred\e[0m ok\r\n */
			   "{\"data\":\"G1sxOzMxbXJlZBtbMG0gb2sNCg==\","
			   "\"session\":\"s\"}", 0),
		     "1970-01-01 00:00:00.000  term:s  term.out  red ok\xe2\x8f\x8e");
	ASSERT_STREQ(human(0, "term:s", "term.out",	/* OSC to BEL, to ST; ESC ( B */
			   "{\"data\":\"G10wO3QHeBtdMjt1G1x5GyhCeg==\"}", 0),
		     "1970-01-01 00:00:00.000  term:s  term.out  xyz");
	ASSERT_STREQ(human(0, "term:s", "term.in",	/* a BEL b \xff q, cut CSI */
			   "{\"data\":\"YQdi/3EbWzEy\"}", 0),
		     "1970-01-01 00:00:00.000  term:s  term.in  "
		     "a\xef\xbf\xbd" "b\xef\xbf\xbdq");
	ASSERT_STREQ(human(0, "term:s", "term.out",	/* a lone ESC at the end */
			   "{\"data\":\"ZW5kGw==\"}", 0),
		     "1970-01-01 00:00:00.000  term:s  term.out  end\xef\xbf\xbd");
	ASSERT_STREQ(human(0, "term:s", "term.out", "{\"data\":\"not base64!\"}", 0),
		     "1970-01-01 00:00:00.000  term:s  term.out  ");
}

TEST(format_human_truncates)
{
	struct buf text = BUF_INIT;
	const char *s;

	buf_addstr(&text, "{\"text\":\"");
	for (int i = 0; i < 60; i++)
		buf_addstr(&text, i % 3 ? "\xce\xb1" : "\xf0\x9f\x98\x80");
	buf_addstr(&text, "\\n\"}");
	for (int width = 1; width < 120; width++) {
		s = human(0, "s", "note", text.data, width);
		long n = utf8_len(s);
		ASSERT(n >= 0);
		ASSERT(n <= width);
		if (width < 95) {
			ASSERT_EQ(n, width);
			ASSERT(!strcmp(s + strlen(s) - 3, "\xe2\x80\xa6"));
		}
	}
	s = human(0, "s", "note", text.data, 0);
	ASSERT_EQ(utf8_len(s), 23 + 2 + 1 + 2 + 4 + 2 + 61);
	s = human(0, "s", "note", "{\"text\":\"abc\"}", 34);
	ASSERT_STREQ(s, "1970-01-01 00:00:00.000  s  note \xe2\x80\xa6");
	s = human(0, "s", "note", "{\"text\":\"abc\"}", 37);
	ASSERT_STREQ(s, "1970-01-01 00:00:00.000  s  note  abc");
	buf_release(&text);
}

TEST_LIST = {
	TEST_ENTRY(direct_edit_op),
	TEST_ENTRY(registry_sorted_and_found),
	TEST_ENTRY(registry_field_numbers_fixed),
	TEST_ENTRY(validate_fields),
	TEST_ENTRY(validate_edit_op),
	TEST_ENTRY(validate_invalid_utf8),
	TEST_ENTRY(codec_roundtrip),
	TEST_ENTRY(codec_roundtrip_built),
	TEST_ENTRY(codec_exact_bytes),
	TEST_ENTRY(codec_decode_errors),
	TEST_ENTRY(codec_truncations_and_flips),
	TEST_ENTRY(codec_random_bytes),
	TEST_ENTRY(codec_encode_errors),
	TEST_ENTRY(validate_fs_kinds),
	TEST_ENTRY(codec_base64),
	TEST_ENTRY(codec_bytes),
	TEST_ENTRY(parse_line_ok),
	TEST_ENTRY(parse_line_errors),
	TEST_ENTRY(parse_line_depth),
	TEST_ENTRY(to_json_canonical),
	TEST_ENTRY(to_json_escapes_like_jansson),
	TEST_ENTRY(to_json_deterministic_and_parses_back),
	TEST_ENTRY(format_human),
	TEST_ENTRY(format_human_truncates),
	TEST_END,
};

TEST_MAIN()
