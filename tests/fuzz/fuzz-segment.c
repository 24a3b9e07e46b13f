/*
 * Fuzz target for the segment reader: the input is a segment file image.
 * It goes through the header decoder, the frame scanner (salvage and
 * strict), frame authentication with a fixed key, decompression and the
 * record parser. The record parser also gets the raw input, and the input
 * wrapped in a genuine frame, so that it is reached past authentication.
 *
 * Seeds: build with -DFUZZ_SEGMENT_GEN and run `./a.out DIR` to write
 * segments encrypted with the fixed key below (tests/fuzz/corpus/).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zstd.h>

#include "error.h"
#include "vault-int.h"

static const uint8_t key[VAULT_KEY_LEN] = "fuzz-key-fuzz-key-fuzz-key-fuzz";
static const uint8_t seg_id[VAULT_ID_LEN] = "fuzz-segment-id";

struct ctx {
	struct buf plain, scratch;
	ZSTD_DCtx *dctx;
};

static void parse_records(const uint8_t *p, size_t n, unsigned nkinds)
{
	struct rec_cursor c = { p, p + n, 0, nkinds };
	struct rec r;

	while (rec_next(&c, &r) == 1) {
		if (r.kind >= nkinds || r.payload + r.len > p + n)
			abort();
	}
}

static int on_frame(void *arg, int64_t off, const struct frame_header *h,
		    const uint8_t *frame)
{
	struct ctx *c = arg;

	(void)off;
	for (unsigned i = 0; i < h->nkinds; i++) {
		const char *name;
		size_t len;
		frame_kind(h, i, &name, &len);
		if (len == 0)
			abort();
	}
	if (frame_open(frame, h, seg_id, key, &c->plain, c->dctx,
		       &c->scratch) == 0 &&
	    h->type == FRAME_DATA)
		parse_records((const uint8_t *)c->plain.data, c->plain.len,
			      h->nkinds);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx c;
	struct seg_header sh;
	struct seg_scan sc;
	int fd;

	buf_init(&c.plain, 0);
	buf_init(&c.scratch, 0);
	c.dctx = ZSTD_createDCtx();
	if (size >= SEG_HEADER_LEN)
		seg_header_decode(data, &sh);

	fd = memfd_create("fuzz-segment", MFD_CLOEXEC);
	if (fd >= 0 && write(fd, data, size) == (ssize_t)size) {
		int64_t start = size >= SEG_HEADER_LEN ? SEG_HEADER_LEN : 0;
		seg_scan(fd, "fuzz", start, 0, 1, NULL, NULL, on_frame, &c, &sc);
		seg_scan(fd, "fuzz", start, 0, 0, NULL, NULL, on_frame, &c, &sc);
	}
	if (fd >= 0)
		close(fd);

	/* The record parser on raw bytes, and behind a genuine frame. */
	parse_records(data, size, size ? data[0] : 0);
	if (size && size < (1u << 20)) {
		struct frame_header h = { 0 };
		const char *kinds[] = { "note", "marker" };
		struct buf out = BUF_INIT, scratch = BUF_INIT;
		ZSTD_CCtx *cctx = ZSTD_createCCtx();
		size_t need;

		h.nrec = 1;
		h.nkinds = 2;
		if (frame_build_data(&h, kinds, seg_id, data, size, key, cctx, 1,
				     &scratch, &out) == 0) {
			if (frame_parse_header((const uint8_t *)out.data, out.len,
					       &h, &need) ||
			    frame_check_trailer((const uint8_t *)out.data, &h) ||
			    frame_open((const uint8_t *)out.data, &h, seg_id, key,
				       &c.plain, c.dctx, &c.scratch) ||
			    c.plain.len != size || memcmp(c.plain.data, data, size))
				abort();	/* our own frame must round-trip */
			parse_records((const uint8_t *)c.plain.data, c.plain.len,
				      2);
		}
		ZSTD_freeCCtx(cctx);
		buf_release(&out);
		buf_release(&scratch);
	}
	ZSTD_freeDCtx(c.dctx);
	buf_release(&c.plain);
	buf_release(&c.scratch);
	return 0;
}

#ifdef FUZZ_SEGMENT_GEN
#include "bytes.h"

/* Writes a segment of frames holding a few records, to DIR/NAME. */
static void gen(const char *dir, const char *name, int nblocks, int seal)
{
	struct seg_header sh = { VAULT_VERSION, { 0 }, { 0 }, 0, 20418 };
	struct buf seg = BUF_INIT, scratch = BUF_INIT, rec = BUF_INIT;
	uint8_t hdr[SEG_HEADER_LEN];
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	const char *kinds[] = { "note", "marker" };
	char path[4096];
	uint64_t frame = 0;
	FILE *f;

	memcpy(sh.seg_id, seg_id, VAULT_ID_LEN);
	seg_header_encode(&sh, hdr);
	buf_add(&seg, hdr, sizeof(hdr));
	for (int b = 0; b < nblocks; b++) {
		struct frame_header h = { 0 };
		int64_t prev = 0;
		buf_reset(&rec);
		for (int i = 0; i < 3; i++) {
			int64_t t = 1764183600000000000LL + b * 1000 + i;
			char text[32];
			int n = snprintf(text, sizeof(text), "record %d.%d", b, i);
			buf_add_svarint(&rec, t - prev);
			buf_add_uvarint(&rec, (uint64_t)(i % 2));
			buf_add_uvarint(&rec, (uint64_t)n);
			buf_add(&rec, text, (size_t)n);
			prev = t;
		}
		h.frame_no = frame++;
		h.nrec = 3;
		h.nkinds = 2;
		h.t_min = 1764183600000000000LL + b * 1000;
		h.t_max = h.t_min + 2;
		frame_build_data(&h, kinds, seg_id, (const uint8_t *)rec.data,
				 rec.len, key, cctx, 1, &scratch, &seg);
	}
	frame_build_commit(seg_id, frame++, (uint32_t)nblocks, seal, key, &seg);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	fwrite(seg.data, 1, seg.len, f);
	fclose(f);
	ZSTD_freeCCtx(cctx);
	buf_release(&seg);
	buf_release(&scratch);
	buf_release(&rec);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	gen(argv[1], "one-block", 1, 0);
	gen(argv[1], "three-blocks-sealed", 3, 1);
	gen(argv[1], "empty-commit", 0, 1);
	return 0;
}
#endif
