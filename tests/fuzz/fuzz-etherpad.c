/*
 * Fuzzes Etherpad's formats (src/import/etherpad.c). The input is read
 * three ways, none of which may crash:
 *
 *  - as an easysync changeset applied to "\n" or, when the input holds a
 *    0x00 byte, to the (UTF-8) text before it with the changeset after
 *    it. When it applies, the changes it reports, applied one by one to
 *    the old text with text_apply() (which checks every deleted text),
 *    must give the new text, whose UTF-16 length is the header's;
 *  - as a .etherpad export, replayed to the end with every callback;
 *  - as a changeset inside a minimal export, so that the replay's own
 *    checks see arbitrary changesets too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "error.h"
#include "etherpad.h"
#include "text.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

static int replay_change(void *ctx, const struct easysync_change *c)
{
	struct buf *doc = ctx;
	struct text_edit e;

	if (c->kind == EASYSYNC_STYLE) {
		CHECK(c->pos + c->len <= text_utf8_count(doc->data, doc->len));
		return 0;
	}
	memset(&e, 0, sizeof(e));
	e.pos = c->pos;
	e.ins = e.del = "";
	if (c->kind == EASYSYNC_INSERT) {
		e.op = TEXT_INSERT;
		e.ins = c->text;
		e.ins_len = c->text_len;
		CHECK(text_utf8_count(c->text, c->text_len) == c->len);
	} else {
		e.op = TEXT_DELETE;
		e.del = c->text;
		e.del_len = c->text_len;
		e.len = c->len;
	}
	CHECK(text_apply(doc, &e) == 0);
	return 0;
}

static void one_changeset(const char *base, size_t nbase, const char *cs,
			  size_t ncs)
{
	struct easysync_doc d;
	struct easysync_cs c;
	struct buf doc = BUF_INIT, got = BUF_INIT;

	easysync_doc_init(&d);
	easysync_init(&c);
	buf_init(&doc, 0);
	buf_init(&got, 0);
	if (!easysync_doc_set(&d, base, nbase) &&
	    !easysync_parse(cs, ncs, &c)) {
		buf_add(&doc, base, nbase);
		if (!easysync_apply(&d, cs, &c, replay_change, &doc)) {
			uint64_t units = 0;
			easysync_doc_text(&d, &got);
			CHECK(got.len == doc.len &&
			      !memcmp(got.data, doc.data, doc.len));
			for (size_t i = 0; i < got.len; i++) {
				unsigned char b = (unsigned char)got.data[i];
				if ((b & 0xc0) != 0x80)
					units += b >= 0xf0 ? 2 : 1;
			}
			CHECK(units == c.new_len && d.units == c.new_len);
		} else {
			/* A refused changeset leaves the text alone. */
			easysync_doc_text(&d, &got);
			CHECK(got.len == nbase && !memcmp(got.data, base, nbase));
		}
	}
	buf_release(&doc);
	buf_release(&got);
	easysync_release(&c);
	easysync_doc_release(&d);
}

static int on_change(void *ctx, const struct etherpad_rev *r,
		     const struct easysync_change *c, json_t *attribs)
{
	(void)ctx;
	CHECK(r->changeset != NULL);
	CHECK(!attribs || json_is_array(attribs));
	CHECK(c->kind == EASYSYNC_STYLE || c->text_len > 0);
	return 0;
}

static int on_chat(void *ctx, const struct etherpad_chat *m)
{
	(void)ctx;
	CHECK(m->text != NULL);
	return 0;
}

static void one_export(const char *p, size_t n)
{
	static const struct etherpad_ops ops = { NULL, on_change, NULL,
						 on_chat };
	struct etherpad *ep;

	if (etherpad_open(&ep, "fuzz.etherpad", p, n))
		return;
	etherpad_replay(ep, &ops, NULL);
	etherpad_free(ep);
}

/* A pad whose one revision is the input, as a JSON string. */
static void one_revision(const char *cs, size_t n)
{
	json_t *root = json_object(), *s = json_stringn(cs, n);
	char *text;

	if (!s) {
		json_decref(root);
		return;
	}
	json_object_set_new(root, "pad:f", json_pack("{s:{s:s}, s:i}",
		"atext", "text", "\n", "head", 0));
	json_object_set_new(root, "pad:f:revs:0", json_pack("{s:o, s:{s:s}}",
		"changeset", s, "meta", "author", "a.x"));
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (text)
		one_export(text, strlen(text));
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	const char *nul = memchr(p, 0, size);

	if (nul)
		one_changeset(p, (size_t)(nul - p), nul + 1,
			      size - (size_t)(nul - p) - 1);
	else
		one_changeset("\n", 1, p, size);
	one_export(p, size);
	one_revision(p, size);
	return 0;
}
