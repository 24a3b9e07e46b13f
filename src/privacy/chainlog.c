/*
 * Chain logs: the audit log and the consent registry (doc/format.md,
 * section 14).
 *
 * NOTES ON THE DESIGN
 *
 *  1. Appending needs only the public key. Each entry has its own random
 *     key, sealed to pk (crypto_box_seal) inside the entry, so the
 *     recorder, which never has the passphrase, can append; reading opens
 *     the seal with sk, or through the recorder's agent.
 *  2. The chain: every entry carries the BLAKE2b-256 of the whole entry
 *     before it (the first, of the file header: the genesis), and its
 *     sequence number, in clear; the AEAD binds both, with the file header
 *     (vault id, log kind), as associated data. So an entry cannot be
 *     edited, moved or copied without failing authentication or the chain.
 *  3. The head (seq, offset and hash of the last entry) lives outside the
 *     log, in <name>/head and in the index's meta table, so that cutting
 *     entries off the end of the log shows. Order of an append, under an
 *     exclusive flock on the log: entry written and fdatasync'ed; head
 *     file replaced atomically; index row. A crash leaves the heads at
 *     most behind the log, never ahead; recovery takes such entries in.
 *  4. Recovery never cuts anything at or before the head: an entry there
 *     that fails is evidence and stays for verify to name. Only bytes past
 *     the head that do not parse as an entry (a torn append) are cut.
 *  5. Everything is read into memory: the logs are small (an entry per
 *     user action), and CHAIN_MAX_FILE bounds them.
 */
#include "chainlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <xxhash.h>

#include "bytes.h"
#include "error.h"
#include "fileio.h"
#include "hex.h"
#include "xalloc.h"
#include "banned.h"

#define CHAIN_VERSION 1
#define HEAD_TAG "labtape-chain-head"

const struct chain_kind CHAIN_AUDIT = { "audit", "LTAPEAUD" };
const struct chain_kind CHAIN_CONSENT = { "consent", "LTAPECNS" };

static uint32_t check32(const uint8_t *p, size_t n)
{
	return (uint32_t)XXH3_64bits(p, n);
}

static void say(vault_report_fn *report, void *ctx, int problem,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void say(vault_report_fn *report, void *ctx, int problem,
		const char *fmt, ...)
{
	struct buf m = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&m, fmt, ap);
	va_end(ap);
	if (report)
		report(ctx, problem, m.data);
	else
		fprintf(stderr, "labtape: %s: %s\n", problem ? "problem" : "note",
			m.data);
	buf_release(&m);
}

/* ---- the file header and the head ---------------------------------- */

static void build_header(struct chainlog *cl)
{
	uint8_t *h = cl->header;

	memset(h, 0, CHAIN_HEADER_LEN);
	memcpy(h, cl->kind->magic, CHAIN_MAGIC_LEN);
	put_u16le(h + 8, CHAIN_VERSION);
	put_u16le(h + 10, CHAIN_HEADER_LEN);
	lt_unhex(vault_id_hex(cl->v), h + 12, 16);
	put_u32le(h + 28, check32(h, 28));
	crypto_generichash(cl->genesis, CHAIN_HASH_LEN, h, CHAIN_HEADER_LEN,
			   NULL, 0);
}

static int check_header(struct chainlog *cl, const uint8_t *p)
{
	const char *path = cl->log_path.data;

	if (memcmp(p, cl->kind->magic, CHAIN_MAGIC_LEN) != 0)
		return lt_error(LT_ECORRUPT, "%s: not a labtape %s log", path,
				cl->kind->name);
	if (get_u32le(p + 28) != check32(p, 28))
		return lt_error(LT_ECORRUPT, "%s: offset 0: the header is "
				"damaged (checksum)", path);
	if (get_u16le(p + 8) != CHAIN_VERSION)
		return lt_error(LT_EVERSION, "%s: version %u; this labtape "
				"knows %d (upgrade labtape)", path,
				get_u16le(p + 8), CHAIN_VERSION);
	if (memcmp(p, cl->header, CHAIN_HEADER_LEN) != 0)
		return lt_error(LT_ECORRUPT, "%s: offset 0: the header belongs "
				"to another vault", path);
	return 0;
}

static void head_text(const struct chain_head *h, struct buf *out)
{
	char hex[2 * CHAIN_HASH_LEN + 1];

	lt_hex(h->hash, CHAIN_HASH_LEN, hex);
	buf_addf(out, "%llu %llu %llu %s", (unsigned long long)h->seq,
		 (unsigned long long)h->off, (unsigned long long)h->end, hex);
}

static int parse_u64(const char **s, uint64_t *out)
{
	char *end;

	if (**s < '0' || **s > '9')
		return -1;
	errno = 0;
	*out = strtoull(*s, &end, 10);
	if (errno || *end != ' ')
		return -1;
	*s = end + 1;
	return 0;
}

/* "seq off end hash", as head_text() writes it. */
static int parse_head(const char *s, struct chain_head *h)
{
	if (parse_u64(&s, &h->seq) || parse_u64(&s, &h->off) ||
	    parse_u64(&s, &h->end) || strlen(s) != 2 * CHAIN_HASH_LEN ||
	    lt_unhex(s, h->hash, CHAIN_HASH_LEN))
		return -1;
	if (h->seq ? h->end <= h->off || h->off < CHAIN_HEADER_LEN :
		     h->off != 0 || h->end != CHAIN_HEADER_LEN)
		return -1;
	return 0;
}

static void meta_key(const struct chainlog *cl, struct buf *out)
{
	buf_addf(out, "%s_head", cl->kind->name);
}

/* The head file: 1 and h, 0 if there is none, or an error. */
static int read_head_file(struct chainlog *cl, struct chain_head *h)
{
	struct buf f = BUF_INIT, want = BUF_INIT;
	int r;

	r = lt_read_file(cl->head_path.data, 4096, &f);
	if (r == LT_ENOENT) {
		buf_release(&f);
		return 0;
	}
	if (r)
		goto out;
	buf_addf(&want, HEAD_TAG " %d %s %s ", CHAIN_VERSION, cl->kind->name,
		 vault_id_hex(cl->v));
	if (f.len && f.data[f.len - 1] == '\n')
		buf_setlen(&f, f.len - 1);
	if (f.len < want.len || memcmp(f.data, want.data, want.len) != 0 ||
	    parse_head(f.data + want.len, h))
		r = lt_error(LT_ECORRUPT, "%s: not a head of this vault's %s "
			     "log", cl->head_path.data, cl->kind->name);
	else
		r = 1;
out:
	buf_release(&f);
	buf_release(&want);
	return r;
}

static int read_head_index(struct chainlog *cl, struct chain_head *h)
{
	struct buf key = BUF_INIT, val = BUF_INIT;
	int r;

	meta_key(cl, &key);
	r = vault_meta_get(cl->v, key.data, &val);
	if (r == 1 && parse_head(val.data, h))
		r = lt_error(LT_ECORRUPT, "the index of '%s': the %s row is "
			     "malformed", vault_dir(cl->v), key.data);
	buf_release(&key);
	buf_release(&val);
	return r;
}

static int write_head_file(struct chainlog *cl, const struct chain_head *h)
{
	struct buf t = BUF_INIT;
	int r;

	buf_addf(&t, HEAD_TAG " %d %s %s ", CHAIN_VERSION, cl->kind->name,
		 vault_id_hex(cl->v));
	head_text(h, &t);
	buf_addch(&t, '\n');
	r = lt_write_file_atomic(cl->head_path.data, t.data, t.len, 0600, 0);
	buf_release(&t);
	return r;
}

static int write_head_index(struct chainlog *cl, const struct chain_head *h)
{
	struct buf key = BUF_INIT, t = BUF_INIT;
	int r;

	meta_key(cl, &key);
	head_text(h, &t);
	r = vault_meta_set(cl->v, key.data, t.data);
	buf_release(&key);
	buf_release(&t);
	return r;
}

static int head_eq(const struct chain_head *a, const struct chain_head *b)
{
	return a->seq == b->seq && a->off == b->off && a->end == b->end &&
	       memcmp(a->hash, b->hash, CHAIN_HASH_LEN) == 0;
}

/* ---- opening ------------------------------------------------------- */

int chain_open(struct chainlog *cl, struct vault *v,
	       const struct chain_kind *kind, int create)
{
	struct buf dir = BUF_INIT;
	struct stat st;
	int r = 0;

	memset(cl, 0, sizeof(*cl));
	cl->v = v;
	cl->kind = kind;
	cl->fd = -1;
	buf_init(&cl->log_path, 0);
	buf_init(&cl->head_path, 0);
	buf_addf(&dir, "%s/%s", vault_dir(v), kind->name);
	buf_addf(&cl->log_path, "%s/log", dir.data);
	buf_addf(&cl->head_path, "%s/head", dir.data);
	build_header(cl);
	if (create && (r = lt_mkdirs(dir.data, 0700)))
		goto out;
	cl->fd = open(cl->log_path.data,
		      O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
	if (cl->fd < 0) {
		r = errno == ENOENT ? lt_error(LT_ENOENT, "%s: no %s log yet",
					       cl->log_path.data, kind->name) :
		    lt_error_errno(LT_EIO, "cannot open '%s'", cl->log_path.data);
		goto out;
	}
	while (flock(cl->fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			r = lt_error_errno(LT_EIO, "cannot lock '%s'",
					   cl->log_path.data);
			goto out;
		}
	}
	if (fstat(cl->fd, &st) < 0) {
		r = lt_error_errno(LT_EIO, "cannot stat '%s'", cl->log_path.data);
		goto out;
	}
	/* A new log, or one whose creator died before its header was
	 * complete (nothing can follow a torn header). */
	if (create && st.st_size < CHAIN_HEADER_LEN) {
		if (ftruncate(cl->fd, 0) < 0 ||
		    (r = lt_pwrite_all(cl->fd, cl->header, CHAIN_HEADER_LEN, 0,
				       cl->log_path.data)) ||
		    (r = lt_fsync(cl->fd, cl->log_path.data)) ||
		    (r = lt_fsync_dir(dir.data))) {
			if (!r)
				r = lt_error_errno(LT_EIO, "cannot truncate '%s'",
						   cl->log_path.data);
		}
	}
out:
	buf_release(&dir);
	return r;
}

void chain_close(struct chainlog *cl)
{
	if (cl->fd >= 0)
		close(cl->fd);	/* drops the lock */
	cl->fd = -1;
	buf_release(&cl->log_path);
	buf_release(&cl->head_path);
}

static int read_log(struct chainlog *cl, struct buf *f)
{
	struct stat st;
	size_t n;

	if (fstat(cl->fd, &st) < 0)
		return lt_error_errno(LT_EIO, "cannot stat '%s'",
				      cl->log_path.data);
	if ((uint64_t)st.st_size > CHAIN_MAX_FILE)
		return lt_error(LT_ETOOBIG, "%s: larger than %u MiB; not a "
				"labtape log", cl->log_path.data,
				CHAIN_MAX_FILE >> 20);
	n = (size_t)st.st_size;
	buf_reset(f);
	buf_grow(f, n);
	if (n) {
		int r = lt_pread_all(cl->fd, f->data, n, 0, cl->log_path.data);
		if (r)
			return r;
	}
	buf_setlen(f, n);
	if (n < CHAIN_HEADER_LEN)
		return lt_error(LT_ECORRUPT, "%s: %zu bytes: shorter than its "
				"header", cl->log_path.data, n);
	return check_header(cl, (const uint8_t *)f->data);
}

/* ---- entries ------------------------------------------------------- */

int chain_parse(const uint8_t *p, size_t avail, uint64_t off,
		struct chain_entry *e)
{
	uint32_t ct;

	if (avail < 8)
		return memcmp(p, CHAIN_ENTRY_MAGIC, avail < 4 ? avail : 4) ?
		       lt_error(LT_ECORRUPT, "no entry starts here") : 0;
	if (memcmp(p, CHAIN_ENTRY_MAGIC, 4) != 0)
		return lt_error(LT_ECORRUPT, "no entry starts here");
	ct = get_u32le(p + 4);
	if (ct <= crypto_aead_xchacha20poly1305_ietf_ABYTES ||
	    ct > CHAIN_MAX_PLAIN + crypto_aead_xchacha20poly1305_ietf_ABYTES ||
	    (ct - crypto_aead_xchacha20poly1305_ietf_ABYTES) % CHAIN_PAD)
		return lt_error(LT_ECORRUPT, "bad ciphertext length %u", ct);
	e->ct_len = ct;
	e->len = CHAIN_ENTRY_FIXED + ct + CHAIN_ENTRY_TRAILER;
	if (avail < e->len)
		return 0;
	if (get_u32le(p + e->len - 4) != check32(p, e->len - 4))
		return lt_error(LT_ECORRUPT, "its checksum does not match");
	e->off = off;
	e->seq = get_u64le(p + 8);
	e->prev = p + 16;
	e->bytes = p;
	if (e->seq == 0)
		return lt_error(LT_ECORRUPT, "sequence number 0");
	crypto_generichash(e->hash, CHAIN_HASH_LEN, p, e->len, NULL, 0);
	return 1;
}

static void entry_ad(const uint8_t header[CHAIN_HEADER_LEN], const uint8_t *p,
		     uint8_t ad[CHAIN_HEADER_LEN + CHAIN_ENTRY_FIXED])
{
	memcpy(ad, header, CHAIN_HEADER_LEN);
	memcpy(ad + CHAIN_HEADER_LEN, p, CHAIN_ENTRY_FIXED);
}

int chain_decrypt(struct vault *v, const uint8_t header[CHAIN_HEADER_LEN],
		  const struct chain_entry *e, struct buf *out)
{
	uint8_t ad[CHAIN_HEADER_LEN + CHAIN_ENTRY_FIXED], *key;
	size_t n = e->ct_len - crypto_aead_xchacha20poly1305_ietf_ABYTES, len;
	int r;

	key = sodium_malloc(32);
	if (!key)
		return lt_error(LT_EIO, "cannot allocate locked memory");
	if ((r = vault_open_sealed(v, e->bytes + 48, key))) {
		sodium_free(key);
		return r;
	}
	entry_ad(header, e->bytes, ad);
	buf_reset(out);
	buf_grow(out, n);
	r = crypto_aead_xchacha20poly1305_ietf_decrypt(
		(uint8_t *)out->data, NULL, NULL, e->bytes + CHAIN_ENTRY_FIXED,
		e->ct_len, ad, sizeof(ad), e->bytes + 128, key);
	sodium_free(key);
	if (r != 0)
		return lt_error(LT_EAUTH, "it does not decrypt");
	/* JSON text, then zero padding. */
	len = strnlen(out->data, n);
	for (size_t i = len; i < n; i++)
		if (out->data[i])
			return lt_error(LT_ECORRUPT, "bad padding");
	buf_setlen(out, len);
	return 0;
}

static void build_entry(struct chainlog *cl, uint64_t seq,
			const uint8_t prev[CHAIN_HASH_LEN], const char *text,
			size_t n, struct buf *out)
{
	size_t plen = (n / CHAIN_PAD + 1) * CHAIN_PAD;
	uint32_t ct = (uint32_t)(plen + crypto_aead_xchacha20poly1305_ietf_ABYTES);
	uint8_t ad[CHAIN_HEADER_LEN + CHAIN_ENTRY_FIXED], *key, *p;
	uint8_t *plain = xcalloc(1, plen);

	memcpy(plain, text, n);
	buf_reset(out);
	buf_grow(out, CHAIN_ENTRY_FIXED + ct + CHAIN_ENTRY_TRAILER);
	p = (uint8_t *)out->data;
	memcpy(p, CHAIN_ENTRY_MAGIC, 4);
	put_u32le(p + 4, ct);
	put_u64le(p + 8, seq);
	memcpy(p + 16, prev, CHAIN_HASH_LEN);
	key = sodium_malloc(32);
	if (!key)
		abort();	/* as xmalloc does: no locked memory left */
	crypto_aead_xchacha20poly1305_ietf_keygen(key);
	vault_seal_key(cl->v, key, p + 48);
	randombytes_buf(p + 128, 24);
	entry_ad(cl->header, p, ad);
	crypto_aead_xchacha20poly1305_ietf_encrypt(p + CHAIN_ENTRY_FIXED, NULL,
						   plain, plen, ad, sizeof(ad),
						   NULL, p + 128, key);
	sodium_free(key);
	sodium_memzero(plain, plen);
	free(plain);
	put_u32le(p + CHAIN_ENTRY_FIXED + ct,
		  check32(p, CHAIN_ENTRY_FIXED + ct));
	buf_setlen(out, CHAIN_ENTRY_FIXED + ct + CHAIN_ENTRY_TRAILER);
}

/* ---- recovery -------------------------------------------------------- */

/* Does the log hold the entry h names? */
static int log_has(const struct buf *f, const struct chain_head *h)
{
	struct chain_entry e;

	if (h->seq == 0)
		return 1;
	if (h->end > f->len || h->off >= h->end)
		return 0;
	return chain_parse((const uint8_t *)f->data + h->off, f->len - h->off,
			   h->off, &e) == 1 &&
	       e.off + e.len == h->end && e.seq == h->seq &&
	       memcmp(e.hash, h->hash, CHAIN_HASH_LEN) == 0;
}

int chain_recover(struct chainlog *cl, vault_report_fn *report, void *ctx)
{
	struct chain_head hf, hi, h;
	struct buf f = BUF_INIT;
	const char *path = cl->log_path.data;
	int rf, ri, r, moved = 0;
	uint64_t off;

	memset(&hf, 0, sizeof(hf));
	memset(&hi, 0, sizeof(hi));
	if ((r = read_log(cl, &f)))
		goto out;
	if ((rf = read_head_file(cl, &hf)) < 0 ||
	    (ri = read_head_index(cl, &hi)) < 0) {
		r = rf < 0 ? rf : ri;
		goto out;
	}
	memset(&h, 0, sizeof(h));
	h.end = CHAIN_HEADER_LEN;
	memcpy(h.hash, cl->genesis, CHAIN_HASH_LEN);
	/* The heads lag the log, the index the head file (note 3): the
	 * furthest is the one to hold the log to. */
	if (rf && (!ri || hf.seq >= hi.seq))
		h = hf;
	else if (ri)
		h = hi;
	if (!log_has(&f, &h)) {
		r = lt_error(LT_ECORRUPT, "%s: the log does not hold entry %llu "
			     "that its head names (at offset %llu): it was "
			     "truncated or edited (see 'labtape %s --verify')",
			     path, (unsigned long long)h.seq,
			     (unsigned long long)h.off, cl->kind->name);
		goto out;
	}
	if (rf && ri && !head_eq(&hf, &hi) && !log_has(&f, rf && h.seq == hf.seq ?
						     &hi : &hf)) {
		r = lt_error(LT_ECORRUPT, "%s: its two heads (%s and the index) "
			     "disagree and the older one does not match the "
			     "log (see 'labtape %s --verify')", path,
			     cl->head_path.data, cl->kind->name);
		goto out;
	}
	/* Entries past the head: synced by a writer that died before it
	 * updated the head, then perhaps a torn one. */
	for (off = h.end; off < f.len;) {
		struct chain_entry e;
		r = chain_parse((const uint8_t *)f.data + off, f.len - off, off,
				&e);
		if (r == 1 && e.seq == h.seq + 1 &&
		    memcmp(e.prev, h.hash, CHAIN_HASH_LEN) == 0) {
			say(report, ctx, 0, "%s: entry %llu at offset %llu was "
			    "appended but not in the head yet; taken in", path,
			    (unsigned long long)e.seq, (unsigned long long)off);
			h.seq = e.seq;
			h.off = off;
			h.end = off + e.len;
			memcpy(h.hash, e.hash, CHAIN_HASH_LEN);
			off = h.end;
			moved = 1;
			continue;
		}
		if (r == 1) {
			r = lt_error(LT_ECORRUPT, "%s: offset %llu: an entry with "
				     "seq %llu follows entry %llu but does not "
				     "chain to it (see 'labtape %s --verify')",
				     path, (unsigned long long)off,
				     (unsigned long long)e.seq,
				     (unsigned long long)h.seq, cl->kind->name);
			goto out;
		}
		say(report, ctx, 0, "%s: cut a torn entry at offset %llu (%llu "
		    "bytes) left by an interrupted append", path,
		    (unsigned long long)off, (unsigned long long)(f.len - off));
		if (ftruncate(cl->fd, (off_t)off) < 0) {
			r = lt_error_errno(LT_EIO, "cannot truncate '%s'", path);
			goto out;
		}
		if ((r = lt_fsync(cl->fd, path)))
			goto out;
		break;
	}
	r = 0;
	/* Bring both heads to h: file first, then the index (note 3). */
	if (moved || !rf || !head_eq(&hf, &h)) {
		if (!moved && !rf && h.seq)
			say(report, ctx, 1, "%s is missing; rewritten from the "
			    "index", cl->head_path.data);
		if ((r = write_head_file(cl, &h)))
			goto out;
	}
	if (moved || !ri || !head_eq(&hi, &h)) {
		if (!moved && !ri && h.seq)
			say(report, ctx, 0, "the index had no %s head (was it "
			    "rebuilt?); restored from %s", cl->kind->name,
			    cl->head_path.data);
		if ((r = write_head_index(cl, &h)))
			goto out;
	}
	cl->head = h;
	cl->recovered = 1;
out:
	buf_release(&f);
	return r;
}

int chain_append(struct chainlog *cl, const char *text, size_t n)
{
	struct buf e = BUF_INIT;
	struct chain_head h = cl->head;
	int r;

	if (!cl->recovered)
		return lt_error(LT_EINVAL, "chain_append before chain_recover");
	if (n >= CHAIN_MAX_PLAIN)
		return lt_error(LT_ETOOBIG, "an entry of %zu bytes is too large "
				"for the %s log", n, cl->kind->name);
	build_entry(cl, h.seq + 1, h.hash, text, n, &e);
	if ((r = lt_pwrite_all(cl->fd, e.data, e.len, (off_t)h.end,
			       cl->log_path.data)) ||
	    (r = lt_fsync(cl->fd, cl->log_path.data))) {
		/* Leave no half entry for the next append to find. */
		if (ftruncate(cl->fd, (off_t)h.end) == 0)
			lt_fsync(cl->fd, cl->log_path.data);
		goto out;
	}
	h.seq++;
	h.off = h.end;
	h.end += e.len;
	crypto_generichash(h.hash, CHAIN_HASH_LEN, (const uint8_t *)e.data,
			   e.len, NULL, 0);
	cl->head = h;
	/* The entry is durable: a failure from here on leaves heads that
	 * lag, which the next recovery mends. */
	if ((r = write_head_file(cl, &h)))
		goto out;
	r = write_head_index(cl, &h);
out:
	buf_release(&e);
	return r;
}

/* ---- reading and verifying ----------------------------------------- */

struct walk_ent {
	struct chain_entry e;
	int bad;		/* failed to decrypt: already reported */
	int after_damage;	/* damaged bytes (reported) come just before */
};

struct seq_pos {
	uint64_t seq;
	size_t i;
};

static int seq_pos_cmp(const void *a, const void *b)
{
	const struct seq_pos *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Is there an entry with this seq at a position in [lo, hi)? */
static int seq_at(const struct seq_pos *sp, size_t n, uint64_t seq, size_t lo,
		  size_t hi)
{
	size_t a = 0, b = n;

	while (a < b) {
		size_t m = (a + b) / 2;
		if (sp[m].seq < seq)
			a = m + 1;
		else
			b = m;
	}
	for (; a < n && sp[a].seq == seq; a++)
		if (sp[a].i >= lo && sp[a].i < hi)
			return 1;
	return 0;
}

/*
 * The chain's order (verify): in file order, each entry must have the next
 * sequence number and the previous entry's hash. Names what is wrong with
 * each entry that breaks it, then goes on as best it can so that one
 * removal does not make every later entry a problem.
 */
static uint64_t check_chain(struct chainlog *cl, struct walk_ent *w, size_t n,
			    vault_report_fn *report, void *ctx,
			    uint64_t *last_seq, size_t *last_i)
{
	struct seq_pos *sp = xcalloc(n ? n : 1, sizeof(*sp));
	const char *path = cl->log_path.data;
	uint8_t prev[CHAIN_HASH_LEN];
	uint64_t s = 1, problems = 0;
	int prev_bad = 0;

	for (size_t i = 0; i < n; i++) {
		sp[i].seq = w[i].e.seq;
		sp[i].i = i;
	}
	qsort(sp, n, sizeof(*sp), seq_pos_cmp);
	memcpy(prev, cl->genesis, CHAIN_HASH_LEN);
	*last_i = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		const struct chain_entry *e = &w[i].e;
		unsigned long long seq = e->seq, off = e->off;

		if (w[i].after_damage && e->seq >= s) {
			/* The damaged bytes held what is missing here:
			 * reported already. */
		} else if (e->seq == s) {
			if (!prev_bad && !w[i].bad &&
			    memcmp(e->prev, prev, CHAIN_HASH_LEN) != 0) {
				say(report, ctx, 1, "%s: entry %llu at offset "
				    "%llu: edited or replaced: it does not chain "
				    "to the entry before it", path, seq, off);
				problems++;
			}
		} else if (e->seq < s) {
			if (seq_at(sp, n, e->seq, 0, i))
				say(report, ctx, 1, "%s: entry %llu at offset "
				    "%llu: inserted: a second entry %llu (a "
				    "copy?) after entry %llu", path, seq, off,
				    seq, (unsigned long long)(s - 1));
			else
				say(report, ctx, 1, "%s: entry %llu at offset "
				    "%llu: reordered: it comes after entry %llu",
				    path, seq, off, (unsigned long long)(s - 1));
			problems++;
			continue;	/* the chain goes on without it */
		} else if (seq_at(sp, n, s, i + 1, n)) {
			say(report, ctx, 1, "%s: entry %llu at offset %llu: "
			    "reordered: it comes before entry %llu", path, seq,
			    off, (unsigned long long)s);
			problems++;
		} else {
			if (e->seq - s == 1)
				say(report, ctx, 1, "%s: entry %llu at offset "
				    "%llu: missing: entry %llu before it was "
				    "removed", path, seq, off,
				    (unsigned long long)s);
			else
				say(report, ctx, 1, "%s: entry %llu at offset "
				    "%llu: missing: entries %llu to %llu before "
				    "it were removed", path, seq, off,
				    (unsigned long long)s, seq - 1);
			problems++;
		}
		s = e->seq + 1;
		memcpy(prev, e->hash, CHAIN_HASH_LEN);
		prev_bad = w[i].bad;
		*last_i = i;
	}
	*last_seq = s - 1;
	free(sp);
	return problems;
}

/* Both heads against the chain as read: a head past the log's last entry
 * means entries were cut off its end. */
static uint64_t check_heads(struct chainlog *cl, struct walk_ent *w, size_t n,
			    uint64_t last_seq, size_t last_i, uint64_t file_len,
			    vault_report_fn *report, void *ctx)
{
	struct chain_head h[2];
	const char *where[2] = { cl->head_path.data, "the index" };
	const char *path = cl->log_path.data;
	uint64_t problems = 0;
	int have[2];

	have[0] = read_head_file(cl, &h[0]);
	have[1] = read_head_index(cl, &h[1]);
	for (int k = 0; k < 2; k++) {
		const struct chain_entry *e = NULL;
		if (have[k] < 0) {
			say(report, ctx, 1, "%s", lt_errmsg());
			problems++;
			continue;
		}
		if (!have[k]) {
			if (n) {
				say(report, ctx, 1, "%s: no head in %s", path,
				    where[k]);
				problems++;
			}
			continue;
		}
		if (h[k].seq > last_seq) {
			say(report, ctx, 1, "%s: truncated: the head in %s names "
			    "entry %llu, but the log ends after entry %llu "
			    "(offset %llu): the last %llu entries were removed",
			    path, where[k], (unsigned long long)h[k].seq,
			    (unsigned long long)last_seq,
			    (unsigned long long)file_len,
			    (unsigned long long)(h[k].seq - last_seq));
			problems++;
			continue;
		}
		/* By seq: entries removed or inserted before it move it,
		 * and that is reported already. */
		for (size_t i = 0; i < n && h[k].seq; i++)
			if (w[i].e.seq == h[k].seq)
				e = &w[i].e;
		if (h[k].seq && (!e ||
				 memcmp(e->hash, h[k].hash, CHAIN_HASH_LEN))) {
			say(report, ctx, 1, "%s: entry %llu at offset %llu: "
			    "edited: it is not the entry the head in %s names",
			    path, (unsigned long long)h[k].seq,
			    (unsigned long long)h[k].off, where[k]);
			problems++;
		} else if (h[k].seq < last_seq && last_i != SIZE_MAX) {
			say(report, ctx, 0, "%s: the head in %s names entry "
			    "%llu; entries up to %llu follow it", path, where[k],
			    (unsigned long long)h[k].seq,
			    (unsigned long long)last_seq);
		}
	}
	return problems;
}

int chain_walk(struct chainlog *cl, int verify, vault_report_fn *report,
	       void *rctx, chain_entry_fn *fn, void *fctx)
{
	struct buf f = BUF_INIT, text = BUF_INIT;
	struct walk_ent *w = NULL;
	size_t n = 0, alloc = 0, last_i = SIZE_MAX;
	const char *path = cl->log_path.data;
	uint64_t problems = 0, off, last_seq = 0;
	int r, damaged = 0;

	if ((r = read_log(cl, &f)))
		goto out;
	for (off = CHAIN_HEADER_LEN; off < f.len;) {
		const uint8_t *p = (const uint8_t *)f.data;
		struct chain_entry e;
		uint64_t o;

		r = chain_parse(p + off, f.len - off, off, &e);
		if (r == 1) {
			if (n == alloc) {
				alloc = alloc ? 2 * alloc : 64;
				w = xrealloc(w, alloc * sizeof(*w));
			}
			w[n].e = e;
			w[n].after_damage = damaged;
			w[n++].bad = 0;
			damaged = 0;
			off += e.len;
			continue;
		}
		if (r == 0) {
			say(report, rctx, 1, "%s: offset %llu: the log ends "
			    "inside an entry (%llu bytes)", path,
			    (unsigned long long)off,
			    (unsigned long long)(f.len - off));
			problems++;
			break;
		}
		if (f.len - off >= 16)
			say(report, rctx, 1, "%s: entry %llu (by its header) at "
			    "offset %llu: edited or damaged: %s", path,
			    (unsigned long long)get_u64le(p + off + 8),
			    (unsigned long long)off, lt_errmsg());
		else
			say(report, rctx, 1, "%s: offset %llu: edited or "
			    "damaged: %s", path, (unsigned long long)off,
			    lt_errmsg());
		problems++;
		damaged = 1;
		/* Resynchronise on the next intact entry. */
		for (o = off + 1; o < f.len; o++) {
			struct chain_entry e2;
			if (p[o] == 'L' &&
			    chain_parse(p + o, f.len - o, o, &e2) == 1)
				break;
		}
		off = o;
	}
	r = 0;
	for (size_t i = 0; i < n; i++) {
		int d = chain_decrypt(cl->v, cl->header, &w[i].e, &text);
		if (d == LT_EINVAL || d == LT_ENOKEY || d == LT_EIO) {
			r = d;	/* locked, or the agent failed: not damage */
			goto out;
		}
		if (d) {
			say(report, rctx, 1, "%s: entry %llu at offset %llu: "
			    "edited: %s", path, (unsigned long long)w[i].e.seq,
			    (unsigned long long)w[i].e.off, lt_errmsg());
			problems++;
			w[i].bad = 1;
			continue;
		}
		if (fn && (r = fn(fctx, &w[i].e, text.data)))
			goto out;
	}
	if (verify) {
		problems += check_chain(cl, w, n, report, rctx, &last_seq,
					&last_i);
		problems += check_heads(cl, w, n, last_seq, last_i, f.len,
					report, rctx);
	}
	r = problems ? LT_ECORRUPT : 0;
out:
	free(w);
	buf_release(&f);
	if (text.alloc)
		sodium_memzero(text.data, text.alloc);
	buf_release(&text);
	return r;
}
