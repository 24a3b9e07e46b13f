#define _GNU_SOURCE	/* memrchr */
#include "lines.h"

#include <string.h>

#include "banned.h"

size_t lt_line_start(const char *text, size_t i)
{
	const char *nl = i ? memrchr(text, '\n', i) : NULL;

	return nl ? (size_t)(nl - text) + 1 : 0;
}

size_t lt_line_end(const char *text, size_t n, size_t i)
{
	const char *nl = i < n ? memchr(text + i, '\n', n - i) : NULL;

	return nl ? (size_t)(nl - text) + 1 : n;
}
