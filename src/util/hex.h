#ifndef LABTAPE_HEX_H
#define LABTAPE_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Lowercase hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void lt_hex(const uint8_t *in, size_t n, char *out);
/* Decodes exactly 2n hex digits (no more, no less); 0 or -1. */
int lt_unhex(const char *in, uint8_t *out, size_t n);

#endif
