#ifndef LABTAPE_NBJSON_H
#define LABTAPE_NBJSON_H

/*
 * Writing a notebook the way nbformat writes .ipynb files, so that a
 * notebook rebuilt from its recorded cells can come out byte for byte as
 * Jupyter saved it. nbformat.write() is, for nbformat 4:
 *
 *	json.dumps(nb, indent=1, sort_keys=True, separators=(",", ": "),
 *	           ensure_ascii=False) + "\n"
 *
 * after splitting every cell's source into lines (str.splitlines(True)).
 */

#include <jansson.h>

#include "buf.h"

/*
 * Appends v formatted as Python's json.dumps() with the options above
 * (without the final newline): one-space indents, keys sorted by code
 * point, non-ASCII as is, floats as Python's repr() writes them.
 */
void nbjson_dump(const json_t *v, struct buf *out);

/* A new JSON array of the lines of s[0..n), each with its line ending, as
 * Python's s.splitlines(True) cuts them (also at \r, \v, \f, \x1c..\x1e,
 * U+0085, U+2028 and U+2029). The caller json_decref()s it. */
json_t *nbjson_split_lines(const char *s, size_t n);

#endif
