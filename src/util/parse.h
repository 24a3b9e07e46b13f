#ifndef LABTAPE_PARSE_H
#define LABTAPE_PARSE_H

/* Values of the configuration, shared by its readers (src/sources/config.c,
 * src/privacy/filter.c). */

/* yes/true/on/1 -> 1, no/false/off/0 -> 0 (case-insensitive); LT_EINVAL
 * for anything else, without a message (the caller names the key). */
int lt_parse_bool(const char *s, int *out);

#endif
