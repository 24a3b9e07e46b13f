/*
 * Fuzzes the posts JSONL reader (src/import/posts.c): any input is read
 * without crashing, and what it hands out keeps its promises: a key, a
 * text, one of three formats, a 16-digit hash, and comments whose
 * parents came before them, with ids unique in their post.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "posts.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

static int on_post(void *ctx, const struct post *p)
{
	(void)ctx;
	CHECK(p->key && *p->key && p->text);
	CHECK(!strcmp(p->format, "markdown") || !strcmp(p->format, "html") ||
	      !strcmp(p->format, "plain"));
	CHECK(strlen(p->hash) == 16);
	CHECK(json_is_array(p->authors) && json_is_object(p->native));
	for (size_t i = 0; i < p->ncomments; i++) {
		const struct post_comment *c = &p->comments[i];
		int found = !c->parent;
		CHECK(c->id && c->text && strlen(c->hash) == 16);
		for (size_t j = 0; j < i; j++) {
			CHECK(strcmp(p->comments[j].id, c->id));
			if (c->parent && !strcmp(p->comments[j].id, c->parent))
				found = 1;
		}
		CHECK(found);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	posts_parse("fuzz.jsonl", data, size, on_post, NULL);
	posts_guess_format((const char *)data, size);
	return 0;
}
