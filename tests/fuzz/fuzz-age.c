/*
 * Fuzzes the age reader (src/privacy/age.c): the input is an age file,
 * read with a fixed identity (the age test kit's), in pieces whose size
 * a first byte under 16 picks. It must never crash; when it decrypts, the
 * plaintext re-encrypted to the same identity must decrypt to the same
 * bytes. The seed corpus holds small valid files to that identity (empty,
 * short, one full chunk, a chunk and a byte) and malformed headers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "age.h"
#include "buf.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

static const char identity[] =
	"AGE-SECRET-KEY-1XMWWC06LY3EE5RYTXM9MFLAZ2U56JJJ36S0MYPDRWSVLUL66MV4QX3S7F6\n";

struct src {
	const uint8_t *p;
	size_t n, pos, step;
};

static long src_read(void *ctx, void *out, size_t n)
{
	struct src *s = ctx;

	if (n > s->n - s->pos)
		n = s->n - s->pos;
	if (n > s->step)
		n = s->step;
	memcpy(out, s->p + s->pos, n);
	s->pos += n;
	return (long)n;
}

static int buf_write(void *ctx, const void *data, size_t n)
{
	return buf_add(ctx, data, n);
}

/* Decrypts; 0 and the plaintext in out, or the error. */
static int decrypt(const uint8_t *data, size_t size, size_t step,
		   const struct age_identities *ids, struct buf *out)
{
	struct src s = { data, size, 0, step };
	struct age_reader *r;
	const uint8_t *p;
	long n;

	if (age_reader_open(&r, "fuzz.age", src_read, &s, ids))
		return -1;
	while ((n = age_reader_next(r, &p)) > 0)
		CHECK(buf_add(out, p, (size_t)n) == 0);
	age_reader_free(r);
	return (int)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct age_identities ids;
	struct buf plain = BUF_INIT, enc = BUF_INIT, again = BUF_INIT;
	struct age_writer *w;
	size_t step = 1 << 20;

	if (!ids.n) {
		CHECK(sodium_init() >= 0);
		CHECK(age_identities_parse("fuzz", identity, strlen(identity),
					   &ids) == 0);
	}
	/* A first byte under 16 is not part of the file: it says to read
	 * the rest in pieces of that many bytes plus one. */
	if (size && data[0] < 16) {
		step = (size_t)data[0] + 1;
		data++;
		size--;
	}
	if (decrypt(data, size, step, &ids, &plain) == 0) {
		w = age_writer_new(ids.ids[0].pub, buf_write, &enc);
		CHECK(w);
		CHECK(age_writer_write(w, plain.data, plain.len) == 0);
		CHECK(age_writer_finish(w) == 0);
		age_writer_free(w);
		CHECK(decrypt((const uint8_t *)enc.data, enc.len, 1 << 20,
			      &ids, &again) == 0);
		CHECK(again.len == plain.len &&
		      !memcmp(again.data, plain.data, plain.len));
	}
	buf_release(&plain);
	buf_release(&enc);
	buf_release(&again);
	return 0;
}
