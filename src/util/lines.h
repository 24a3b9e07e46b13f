#ifndef LABTAPE_LINES_H
#define LABTAPE_LINES_H

#include <stddef.h>

/* Lines of a text in memory, ended by '\n' (the last may lack one). */

/* The start of the line that holds text[i - 1]: just past the last '\n'
 * before i, or 0. */
size_t lt_line_start(const char *text, size_t i);

/* Just past the first '\n' in text[i..n), or n. */
size_t lt_line_end(const char *text, size_t n, size_t i);

#endif
