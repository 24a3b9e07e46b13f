#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"
#include "banned.h"

static uint64_t hash(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return h;
}

/* The slot of key, or the empty one where it would go. */
static struct strmap_ent *slot(const struct strmap *m, const char *key)
{
	size_t mask = m->size - 1, i = (size_t)hash(key) & mask;

	while (m->v[i].key && strcmp(m->v[i].key, key))
		i = (i + 1) & mask;
	return &m->v[i];
}

struct strmap_ent *strmap_put(struct strmap *m, const char *key)
{
	struct strmap_ent *e;

	if ((m->n + 1) * 2 > m->size) {
		struct strmap old = *m;
		m->size = old.size ? old.size * 2 : 64;
		m->v = xcalloc(m->size, sizeof(*m->v));
		for (size_t i = 0; i < old.size; i++)
			if (old.v[i].key)
				*slot(m, old.v[i].key) = old.v[i];
		free(old.v);
	}
	e = slot(m, key);
	if (!e->key) {
		e->key = xstrdup(key);
		m->n++;
	}
	return e;
}

struct strmap_ent *strmap_get(const struct strmap *m, const char *key)
{
	struct strmap_ent *e;

	if (!m->size)
		return NULL;
	e = slot(m, key);
	return e->key ? e : NULL;
}

void strmap_release(struct strmap *m)
{
	for (size_t i = 0; i < m->size; i++)
		free(m->v[i].key);
	free(m->v);
	m->v = NULL;
	m->size = m->n = 0;
}
