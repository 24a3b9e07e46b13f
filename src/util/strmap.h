#ifndef LABTAPE_STRMAP_H
#define LABTAPE_STRMAP_H

/*
 * A map from strings to pointers: open addressing on FNV-1a, at most half
 * full. For tables keyed by an id (the documents of an export). The map
 * owns copies of its keys, not its values.
 *
 *	struct strmap m = STRMAP_INIT;
 *	struct strmap_ent *e = strmap_put(&m, "file:0123");
 *	if (!e->val)
 *		e->val = new_doc();
 *	for (size_t i = 0; i < m.size; i++)
 *		if (m.v[i].key)
 *			use(m.v[i].val);
 *	strmap_release(&m);
 */

#include <stddef.h>

struct strmap_ent {
	char *key;		/* NULL: an empty slot */
	void *val;
};

struct strmap {
	struct strmap_ent *v;
	size_t size;		/* slots: 0 or a power of two */
	size_t n;		/* keys */
};
#define STRMAP_INIT { NULL, 0, 0 }

/* The entry of key, added with a NULL value if it is not there. Valid
 * until the next strmap_put(). */
struct strmap_ent *strmap_put(struct strmap *m, const char *key);
/* The entry of key, or NULL. */
struct strmap_ent *strmap_get(const struct strmap *m, const char *key);
/* Frees the keys and the table (not the values) and empties the map. */
void strmap_release(struct strmap *m);

#endif
