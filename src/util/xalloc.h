#ifndef LABTAPE_XALLOC_H
#define LABTAPE_XALLOC_H

#include <stddef.h>

/*
 * Allocation that cannot fail: on out-of-memory these print a message and
 * abort (as tmux and redis do), so callers carry no impossible error paths.
 * Free the results with free().
 */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);

/* Grow *arr (of elements of size elem) so it holds at least need elements. */
#define XGROW(arr, need, alloc)                                                \
	do {                                                                   \
		if ((size_t)(need) > (alloc)) {                                \
			size_t xg_n_ = (alloc) ? (alloc) * 2 : 16;             \
			while (xg_n_ < (size_t)(need))                         \
				xg_n_ *= 2;                                    \
			(arr) = xrealloc((arr), xg_n_ * sizeof(*(arr)));       \
			(alloc) = xg_n_;                                       \
		}                                                              \
	} while (0)

#endif
