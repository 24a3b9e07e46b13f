#ifndef LABTAPE_EVENTS_INT_H
#define LABTAPE_EVENTS_INT_H

/* Private to src/events: shared by registry.c, codec.c and evjson.c. */

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Containers nest at most this deep in a payload; the outermost value is
 * level 1. The decoder refuses deeper input, so the encoder and
 * ev_parse_line refuse to produce it. */
#define EV_MAX_DEPTH 64

/*
 * Reads one UTF-8 sequence from [p, end) into *cp and returns its length,
 * or 0 if it is not valid UTF-8 as jansson defines it (no overlong forms,
 * no surrogates, nothing above U+10FFFF; U+0000 is allowed).
 */
size_t ev_utf8_next(const uint8_t *p, const uint8_t *end, uint32_t *cp);

/* The number of code points in s[0..n), or -1 if it is not valid UTF-8. */
long long ev_utf8_count(const char *s, size_t n);

/*
 * The number of bytes that s[0..n) encodes if it is canonical base64: the
 * standard alphabet, '=' padding to a multiple of 4 characters, zero bits
 * after the last byte, nothing else (no whitespace). Else -1. Canonical
 * form is what makes the round trip through tag 8 exact.
 */
long long ev_base64_check(const char *s, size_t n);

/* 0 if v nests no deeper than EV_MAX_DEPTH, else LT_EINVAL with a
 * message naming what (e.g. "data"). */
int ev_check_depth(const json_t *v, const char *what);

/* "an object", "a string", ...: what a JSON value is, for messages. */
const char *ev_json_type_name(const json_t *v);

#endif
