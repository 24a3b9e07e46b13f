/*
 * The vault's identity and keys: vault.json, the passphrase-wrapped secret
 * key, the sealed data keys (key files) and the cache of opened ones.
 *
 * Key hierarchy (doc/format.md, "Keys"):
 *   passphrase --Argon2id--> wrapping key --XChaCha20-Poly1305--> secret key
 *   secret key (X25519) opens sealed boxes --> data key per key file
 *   data key --XChaCha20-Poly1305--> blocks of one segment, its stream label
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>
#include <xxhash.h>

#include "bytes.h"
#include "error.h"
#include "fileio.h"
#include "hex.h"
#include "ltime.h"
#include "xalloc.h"
#include "vault-int.h"
#include "banned.h"

#define SK_AD_PREFIX "labtape-vault-sk"

void vault_default_dir(const char *dir, struct buf *out)
{
	const char *e;

	buf_reset(out);
	if (dir && *dir)
		buf_addstr(out, dir);
	else if ((e = getenv("LABTAPE_VAULT")) && *e)
		buf_addstr(out, e);
	else if ((e = getenv("XDG_DATA_HOME")) && *e)
		buf_addf(out, "%s/labtape", e);
	else
		buf_addf(out, "%s/.local/share/labtape",
			 (e = getenv("HOME")) && *e ? e : ".");
}

const char *vault_dir(const struct vault *v)
{
	return v->dir;
}

const char *vault_id_hex(const struct vault *v)
{
	return v->id_hex;
}

const char *vault_kdf_name(const struct vault *v)
{
	return v->kdf_name;
}

void vault_seg_path(const struct vault *v, int32_t day,
		    const uint8_t seg_id[VAULT_ID_LEN], struct buf *out)
{
	char d[16], hex[2 * VAULT_ID_LEN + 1];

	lt_day_format(day, d);
	lt_hex(seg_id, VAULT_ID_LEN, hex);
	buf_reset(out);
	buf_addf(out, "%s/" VAULT_SEG_DIR "/%s/%s.seg", v->dir, d, hex);
}

void vault_key_path(const struct vault *v, int32_t day,
		    const uint8_t key_id[VAULT_ID_LEN], struct buf *out)
{
	char d[16], hex[2 * VAULT_ID_LEN + 1];

	lt_day_format(day, d);
	lt_hex(key_id, VAULT_ID_LEN, hex);
	buf_reset(out);
	buf_addf(out, "%s/" VAULT_KEY_DIR "/%s/%s.key", v->dir, d, hex);
}

/* ---- vault.json ---------------------------------------------------- */

static void kdf_params(enum vault_kdf kdf, struct vault *v)
{
	if (kdf == VAULT_KDF_FAST) {
		snprintf(v->kdf_name, sizeof(v->kdf_name), "fast");
		v->opslimit = crypto_pwhash_OPSLIMIT_MIN;
		v->memlimit = crypto_pwhash_MEMLIMIT_MIN;
	} else {
		snprintf(v->kdf_name, sizeof(v->kdf_name), "moderate");
		v->opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
		v->memlimit = crypto_pwhash_MEMLIMIT_MODERATE;
	}
}

static void sk_ad(const struct vault *v, uint8_t ad[16 + VAULT_ID_LEN + 32])
{
	memcpy(ad, SK_AD_PREFIX, 16);
	memcpy(ad + 16, v->id, VAULT_ID_LEN);
	memcpy(ad + 16 + VAULT_ID_LEN, v->pk, 32);
}

static int derive(const struct vault *v, const char *pass, size_t passlen,
		  uint8_t *wrap)
{
	if (crypto_pwhash(wrap, 32, pass, passlen, v->salt, v->opslimit,
			  v->memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return lt_error(LT_EIO,
				"cannot derive the key from the passphrase: "
				"out of memory (the KDF needs %zu MiB)",
				v->memlimit >> 20);
	return 0;
}

/* Wraps sk under pass with a fresh salt, into v's sk fields. */
static int wrap_sk(struct vault *v, const uint8_t *sk, const char *pass,
		   size_t passlen)
{
	uint8_t *wrap = sodium_malloc(32), ad[16 + VAULT_ID_LEN + 32];
	int r;

	if (!wrap)
		return lt_error(LT_EIO, "cannot allocate locked memory");
	randombytes_buf(v->salt, sizeof(v->salt));
	randombytes_buf(v->sk_nonce, sizeof(v->sk_nonce));
	if ((r = derive(v, pass, passlen, wrap)) == 0) {
		sk_ad(v, ad);
		crypto_aead_xchacha20poly1305_ietf_encrypt(
			v->sk_ct, NULL, sk, 32, ad, sizeof(ad), NULL,
			v->sk_nonce, wrap);
	}
	sodium_free(wrap);
	return r;
}

static void json_set_hex(json_t *o, const char *k, const uint8_t *p, size_t n)
{
	char hex[256];

	lt_hex(p, n, hex);
	json_object_set_new(o, k, json_string(hex));
}

static int meta_write(const struct vault *v, int excl)
{
	json_t *root = json_object(), *kdf = json_object(), *sk = json_object();
	char created[LT_TIME_MAX_LEN], path[4096];
	char *text;
	int r;

	lt_time_format(v->created, created);
	json_object_set_new(root, "format", json_string("labtape-vault"));
	json_object_set_new(root, "version", json_integer(VAULT_VERSION));
	json_set_hex(root, "id", v->id, VAULT_ID_LEN);
	json_object_set_new(root, "created", json_string(created));
	json_set_hex(root, "public_key", v->pk, 32);
	json_object_set_new(kdf, "alg", json_string("argon2id13"));
	json_object_set_new(kdf, "preset", json_string(v->kdf_name));
	json_object_set_new(kdf, "opslimit", json_integer((json_int_t)v->opslimit));
	json_object_set_new(kdf, "memlimit", json_integer((json_int_t)v->memlimit));
	json_set_hex(kdf, "salt", v->salt, sizeof(v->salt));
	json_object_set_new(root, "kdf", kdf);
	json_object_set_new(sk, "alg", json_string("xchacha20poly1305-ietf"));
	json_set_hex(sk, "nonce", v->sk_nonce, sizeof(v->sk_nonce));
	json_set_hex(sk, "ciphertext", v->sk_ct, sizeof(v->sk_ct));
	json_object_set_new(root, "secret_key", sk);

	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	snprintf(path, sizeof(path), "%s/" VAULT_META_FILE, v->dir);
	{
		struct buf b = BUF_INIT;
		buf_addstr(&b, text);
		buf_addch(&b, '\n');
		r = lt_write_file_atomic(path, b.data, b.len, 0600, excl);
		buf_release(&b);
	}
	free(text);
	return r;
}

static int get_hex(json_t *o, const char *k, uint8_t *out, size_t n)
{
	json_t *s = json_object_get(o, k);

	return json_is_string(s) && lt_unhex(json_string_value(s), out, n) == 0
		       ? 0
		       : -1;
}

/* The string at o[k], or "" if there is none. */
static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static int meta_read(struct vault *v)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	json_t *root = NULL, *kdf, *sk, *ver, *ops, *mem, *preset, *created;
	json_error_t jerr;
	int r;

	buf_addf(&path, "%s/" VAULT_META_FILE, v->dir);
	r = lt_read_file(path.data, 1 << 16, &text);
	if (r == LT_ENOENT) {
		struct stat st;
		if (stat(v->dir, &st) < 0)
			r = lt_error(LT_ENOENT,
				     "cannot open vault '%s': no such directory "
				     "(run 'labtape init' to create one)", v->dir);
		else
			r = lt_error(LT_ENOENT,
				     "cannot open vault '%s': not a vault "
				     "(run 'labtape init' to create one)", v->dir);
		goto out;
	}
	if (r)
		goto out;
	root = json_loadb(text.data, text.len, 0, &jerr);
	if (!root || !json_is_object(root)) {
		r = lt_error(LT_ECORRUPT, "'%s' is damaged: %s (line %d)", path.data,
			     root ? "not an object" : jerr.text, jerr.line);
		goto out;
	}
	ver = json_object_get(root, "version");
	if (!json_is_integer(ver) ||
	    strcmp(jstr(root, "format"), "labtape-vault") != 0) {
		r = lt_error(LT_ECORRUPT, "'%s' is not a labtape vault file",
			     path.data);
		goto out;
	}
	if (json_integer_value(ver) != VAULT_VERSION) {
		r = lt_error(LT_EVERSION,
			     "vault '%s' has format version %lld; this labtape "
			     "reads version %d (upgrade labtape)",
			     v->dir, (long long)json_integer_value(ver),
			     VAULT_VERSION);
		goto out;
	}
	kdf = json_object_get(root, "kdf");
	sk = json_object_get(root, "secret_key");
	ops = json_object_get(kdf, "opslimit");
	mem = json_object_get(kdf, "memlimit");
	preset = json_object_get(kdf, "preset");
	created = json_object_get(root, "created");
	if (get_hex(root, "id", v->id, VAULT_ID_LEN) ||
	    get_hex(root, "public_key", v->pk, 32) ||
	    get_hex(kdf, "salt", v->salt, sizeof(v->salt)) ||
	    get_hex(sk, "nonce", v->sk_nonce, sizeof(v->sk_nonce)) ||
	    get_hex(sk, "ciphertext", v->sk_ct, sizeof(v->sk_ct)) ||
	    !json_is_integer(ops) || !json_is_integer(mem) ||
	    json_integer_value(ops) < crypto_pwhash_OPSLIMIT_MIN ||
	    json_integer_value(mem) < (json_int_t)crypto_pwhash_MEMLIMIT_MIN ||
	    json_integer_value(mem) > ((json_int_t)1 << 40) ||
	    json_integer_value(ops) > 64 ||
	    strcmp(jstr(kdf, "alg"), "argon2id13") != 0 ||
	    strcmp(jstr(sk, "alg"), "xchacha20poly1305-ietf") != 0 ||
	    !json_is_string(created) ||
	    lt_time_parse_rfc3339(json_string_value(created), &v->created)) {
		r = lt_error(LT_ECORRUPT, "'%s' is damaged: a field is missing "
			     "or malformed", path.data);
		goto out;
	}
	v->opslimit = (unsigned long long)json_integer_value(ops);
	v->memlimit = (size_t)json_integer_value(mem);
	snprintf(v->kdf_name, sizeof(v->kdf_name), "%s",
		 json_is_string(preset) ? json_string_value(preset) : "custom");
	lt_hex(v->id, VAULT_ID_LEN, v->id_hex);
out:
	json_decref(root);
	buf_release(&path);
	buf_release(&text);
	return r;
}

/* ---- create, open, unlock ------------------------------------------ */

static int lt_sodium_init(void)
{
	if (sodium_init() < 0)
		return lt_error(LT_EIO, "cannot initialise libsodium");
	return 0;
}

/*
 * Whether dir can take a new vault: it does not exist, is empty, or holds
 * only what an interrupted 'labtape init' leaves before vault.json (an
 * index and empty keys/ and segments/ folders), which is then removed.
 */
static int dir_ready_for_vault(const char *dir)
{
	static const char *const leftovers[] = {
		VAULT_INDEX_FILE, VAULT_INDEX_FILE "-wal", VAULT_INDEX_FILE "-shm",
		VAULT_KEY_DIR, VAULT_SEG_DIR, "lock", NULL,
	};
	DIR *d = opendir(dir);
	struct dirent *de;
	int empty = 1;

	if (!d)
		return errno == ENOENT;
	while (empty && (de = readdir(d))) {
		int known = 0;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		for (int i = 0; leftovers[i] && !known; i++)
			known = !strcmp(de->d_name, leftovers[i]);
		empty = known;
	}
	closedir(d);
	if (empty) {
		struct buf p = BUF_INIT;
		for (int i = 0; leftovers[i]; i++) {
			buf_reset(&p);
			buf_addf(&p, "%s/%s", dir, leftovers[i]);
			/* rmdir fails on a non-empty folder, which is kept. */
			if (unlink(p.data) < 0 && errno != ENOENT &&
			    rmdir(p.data) < 0 && errno != ENOENT)
				empty = 0;
		}
		buf_release(&p);
	}
	return empty;
}

int vault_create(const char *dir, const char *pass, size_t passlen,
		 enum vault_kdf kdf)
{
	struct vault *v = xcalloc(1, sizeof(*v));
	struct buf p = BUF_INIT;
	uint8_t *sk = NULL;

	v->lock_fd = -1;
	int r, created;

	if ((r = lt_sodium_init()))
		goto out;
	v->dir = xstrdup(dir);
	buf_addf(&p, "%s/" VAULT_META_FILE, dir);
	if (access(p.data, F_OK) == 0) {
		r = lt_error(LT_EEXIST, "'%s' is already a vault", dir);
		goto out;
	}
	if (!dir_ready_for_vault(dir)) {
		r = lt_error(LT_EEXIST,
			     "cannot create a vault in '%s': the directory is "
			     "not empty (choose a new one with --vault)", dir);
		goto out;
	}
	if ((r = lt_mkdirs(dir, 0700)))
		goto out;
	chmod(dir, 0700);
	buf_reset(&p);
	buf_addf(&p, "%s/" VAULT_SEG_DIR, dir);
	if ((r = lt_mkdirs(p.data, 0700)))
		goto out;
	buf_reset(&p);
	buf_addf(&p, "%s/" VAULT_KEY_DIR, dir);
	if ((r = lt_mkdirs(p.data, 0700)))
		goto out;

	sk = sodium_malloc(32);
	if (!sk) {
		r = lt_error(LT_EIO, "cannot allocate locked memory");
		goto out;
	}
	crypto_box_keypair(v->pk, sk);
	randombytes_buf(v->id, VAULT_ID_LEN);
	lt_hex(v->id, VAULT_ID_LEN, v->id_hex);
	v->created = lt_now_ns();
	kdf_params(kdf, v);
	if ((r = wrap_sk(v, sk, pass, passlen)))
		goto out;
	if ((r = idx_open(v, &created)))
		goto out;
	/* vault.json last: its presence is what makes the folder a vault. */
	if ((r = meta_write(v, 1)))
		goto out;
	r = lt_fsync_dir(dir);
out:
	if (sk)
		sodium_free(sk);
	buf_release(&p);
	vault_free(v);
	return r;
}

int vault_open(struct vault **out, const char *dir)
{
	struct vault *v = xcalloc(1, sizeof(*v));
	int r, created = 0;

	*out = NULL;
	v->dir = xstrdup(dir);
	v->lock_fd = -1;
	if ((r = lt_sodium_init()) || (r = meta_read(v)))
		goto fail;
	{
		struct buf p = BUF_INIT;
		buf_addf(&p, "%s/lock", dir);
		v->lock_fd = open(p.data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (v->lock_fd < 0)
			r = lt_error_errno(LT_EIO, "cannot open '%s'", p.data);
		buf_release(&p);
		if (r)
			goto fail;
		vault_lock_shared(v);
	}
	if ((r = idx_open(v, &created)))
		goto fail;
	if (created) {
		/* The index was lost: rebuild it from the segments. */
		if ((r = vault_reindex(v, NULL, NULL)))
			goto fail;
	}
	/* After recovery: a forget's journal asks whether the segments it
	 * was writing committed, which recovery may just have found out. */
	if ((r = vault_recover(v)) || (r = forget_recover(v)))
		goto fail;
	*out = v;
	return 0;
fail:
	vault_free(v);
	return r;
}

static void forget_keys(struct vault *v)
{
	for (size_t i = 0; i < v->nkeys; i++) {
		if (v->keys[i].key)
			sodium_free(v->keys[i].key);
		free(v->keys[i].label);
	}
	free(v->keys);
	v->keys = NULL;
	v->nkeys = v->keys_alloc = 0;
}

void vault_lock(struct vault *v)
{
	forget_keys(v);
	if (v->sk)
		sodium_free(v->sk);
	v->sk = NULL;
	v->agent = NULL;
	v->agent_box = NULL;
}

void vault_free(struct vault *v)
{
	if (!v)
		return;
	vault_lock(v);
	idx_close(v);
	if (v->lock_fd >= 0)
		close(v->lock_fd);
	free(v->dir);
	free(v);
}

int vault_is_unlocked(const struct vault *v)
{
	return v->sk != NULL || v->agent != NULL;
}

void vault_use_agent(struct vault *v, vault_unseal_fn *fn, void *ctx)
{
	forget_keys(v);
	v->agent = fn;
	v->agent_ctx = ctx;
}

void vault_use_agent_box(struct vault *v, vault_open_sealed_fn *fn, void *ctx)
{
	v->agent_box = fn;
	v->agent_box_ctx = ctx;
}

void vault_seal_key(const struct vault *v, const uint8_t key[32],
		    uint8_t sealed[VAULT_SEALED_KEY_LEN])
{
	crypto_box_seal(sealed, key, VAULT_KEY_LEN, v->pk);
}

int vault_open_sealed(struct vault *v, const uint8_t sealed[VAULT_SEALED_KEY_LEN],
		      uint8_t key[32])
{
	if (v->sk) {
		if (crypto_box_seal_open(key, sealed, VAULT_SEALED_KEY_LEN,
					 v->pk, v->sk) != 0)
			return lt_error(LT_EAUTH, "a sealed key does not open "
					"with this vault's key");
		return 0;
	}
	if (v->agent_box)
		return v->agent_box(v->agent_box_ctx, sealed, key);
	return lt_error(LT_EINVAL, "the vault must be unlocked first");
}

int vault_unseal(struct vault *v, const uint8_t key_id[16], int32_t day,
		 uint8_t key[32])
{
	const uint8_t *k;
	const char *label;
	int r;

	if (!v->sk)
		return lt_error(LT_EINVAL, "the vault is locked");
	if ((r = vault_data_key(v, key_id, day, &k, &label)))
		return r;
	memcpy(key, k, VAULT_KEY_LEN);
	return 0;
}

int vault_unlock(struct vault *v, const char *pass, size_t passlen)
{
	uint8_t *wrap, *sk, pk[32], ad[16 + VAULT_ID_LEN + 32];
	int r;

	if (v->sk)
		return 0;
	wrap = sodium_malloc(32);
	sk = sodium_malloc(32);
	if (!wrap || !sk) {
		r = lt_error(LT_EIO, "cannot allocate locked memory");
		goto fail;
	}
	if ((r = derive(v, pass, passlen, wrap)))
		goto fail;
	sk_ad(v, ad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    sk, NULL, NULL, v->sk_ct, sizeof(v->sk_ct), ad, sizeof(ad),
		    v->sk_nonce, wrap) != 0) {
		r = lt_error(LT_EAUTH, "wrong passphrase for vault '%s'", v->dir);
		goto fail;
	}
	/* A secret key that does not match the public key would mean a
	 * damaged vault.json: refuse rather than fail later. */
	crypto_scalarmult_base(pk, sk);
	if (sodium_memcmp(pk, v->pk, 32) != 0) {
		r = lt_error(LT_ECORRUPT, "vault '%s': the secret key does not "
			     "match the public key", v->dir);
		goto fail;
	}
	sodium_free(wrap);
	sodium_mprotect_readonly(sk);
	v->sk = sk;
	return 0;
fail:
	if (wrap)
		sodium_free(wrap);
	if (sk)
		sodium_free(sk);
	return r;
}

int vault_passwd(struct vault *v, const char *newpass, size_t newlen,
		 enum vault_kdf kdf)
{
	struct vault old = *v;
	int r;

	if (!v->sk)
		return lt_error(LT_EINVAL, "the vault must be unlocked first");
	kdf_params(kdf, v);
	if ((r = wrap_sk(v, v->sk, newpass, newlen)) || (r = meta_write(v, 0))) {
		/* Keep the old wrapping in memory: the file was not replaced. */
		memcpy(v->salt, old.salt, sizeof(v->salt));
		memcpy(v->sk_nonce, old.sk_nonce, sizeof(v->sk_nonce));
		memcpy(v->sk_ct, old.sk_ct, sizeof(v->sk_ct));
		memcpy(v->kdf_name, old.kdf_name, sizeof(v->kdf_name));
		v->opslimit = old.opslimit;
		v->memlimit = old.memlimit;
	}
	return r;
}

/* ---- key files ----------------------------------------------------- */

static uint32_t check32(const uint8_t *p, size_t n)
{
	return (uint32_t)XXH3_64bits(p, n);
}

int keyfile_write(struct vault *v, const uint8_t key_id[VAULT_ID_LEN],
		  int32_t day, const uint8_t *data_key, const char *label,
		  int sync)
{
	size_t llen = strlen(label), n = KEY_FIXED + llen + FRAME_TAG + 4;
	struct buf path = BUF_INIT, dir = BUF_INIT;
	uint8_t *f;
	int r;

	if (llen > KEY_MAX_LABEL)
		return lt_error(LT_ETOOBIG, "stream name longer than %d bytes",
				KEY_MAX_LABEL);
	f = xcalloc(1, n);
	memcpy(f, KEY_MAGIC, 8);
	put_u16le(f + 8, VAULT_VERSION);
	put_u16le(f + 10, (uint16_t)(llen + FRAME_TAG));
	put_u32le(f + 12, (uint32_t)day);
	memcpy(f + 16, key_id, VAULT_ID_LEN);
	memcpy(f + 32, v->id, VAULT_ID_LEN);
	crypto_box_seal(f + 48, data_key, VAULT_KEY_LEN, v->pk);
	randombytes_buf(f + 128, 24);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		f + KEY_FIXED, NULL, (const uint8_t *)label, llen, f, 128, NULL,
		f + 128, data_key);
	put_u32le(f + n - 4, check32(f, n - 4));

	vault_key_path(v, day, key_id, &path);
	lt_dirname(path.data, &dir);
	if (!(r = sync ? lt_mkdirs(dir.data, 0700)
		       : lt_mkdirs_nosync(dir.data, 0700)))
		r = lt_write_file_atomic(path.data, f, n, 0600,
					 LT_WRITE_EXCL | (sync ? 0 : LT_WRITE_NOSYNC));
	free(f);
	buf_release(&path);
	buf_release(&dir);
	return r;
}

/* Checks a key file's framing; its label length in *llen. */
static int keyfile_check(const struct vault *v, const struct buf *f,
			 const char *path, size_t *llen)
{
	const uint8_t *p = (const uint8_t *)f->data;

	if (f->len < KEY_FIXED + FRAME_TAG + 4 || memcmp(p, KEY_MAGIC, 8) != 0)
		return lt_error(LT_ECORRUPT, "'%s' is not a key file", path);
	*llen = get_u16le(p + 10);
	if (f->len != KEY_FIXED + *llen + 4 || *llen < FRAME_TAG ||
	    *llen > KEY_MAX_LABEL + FRAME_TAG ||
	    get_u32le(p + f->len - 4) != check32(p, f->len - 4))
		return lt_error(LT_ECORRUPT, "key file '%s' is damaged", path);
	if (get_u16le(p + 8) != VAULT_VERSION)
		return lt_error(LT_EVERSION,
				"key file '%s' has format version %u (this "
				"labtape reads version %d; upgrade labtape)",
				path, get_u16le(p + 8), VAULT_VERSION);
	if (memcmp(p + 32, v->id, VAULT_ID_LEN) != 0)
		return lt_error(LT_ECORRUPT,
				"key file '%s' belongs to another vault", path);
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(((const struct vault_key *)a)->id,
		      ((const struct vault_key *)b)->id, VAULT_ID_LEN);
}

static int open_key(struct vault *v, struct vault_key *k, int32_t day)
{
	struct buf path = BUF_INIT, f = BUF_INIT;
	const uint8_t *p;
	size_t llen = 0;
	int r;

	vault_key_path(v, day, k->id, &path);
	r = lt_read_file(path.data, KEY_FIXED + KEY_MAX_LABEL + 64, &f);
	if (r == LT_ENOENT) {
		r = lt_error(LT_ENOKEY, "key file '%s' is gone: its data can "
			     "no longer be read", path.data);
		goto out;
	}
	if (r || (r = keyfile_check(v, &f, path.data, &llen)))
		goto out;
	p = (const uint8_t *)f.data;
	if (get_u32le(p + 12) != (uint32_t)day ||
	    memcmp(p + 16, k->id, VAULT_ID_LEN) != 0) {
		r = lt_error(LT_ECORRUPT, "key file '%s' does not match its name",
			     path.data);
		goto out;
	}
	k->key = sodium_malloc(VAULT_KEY_LEN);
	k->label = xmalloc(llen - FRAME_TAG + 1);
	if (!k->key) {
		r = lt_error(LT_EIO, "cannot allocate locked memory");
		goto out;
	}
	if (!v->sk) {
		if ((r = v->agent(v->agent_ctx, k->id, day, k->key)))
			goto out;
	} else if (crypto_box_seal_open(k->key, p + 48, KEY_SEALED_LEN, v->pk,
					v->sk) != 0) {
		r = lt_error(LT_EAUTH, "key file '%s' does not open with this "
			     "vault's key", path.data);
		goto out;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    (uint8_t *)k->label, NULL, NULL, p + KEY_FIXED, llen, p, 128,
		    p + 128, k->key) != 0) {
		r = lt_error(LT_EAUTH, "key file '%s' does not open with this "
			     "vault's key", path.data);
		goto out;
	}
	k->label[llen - FRAME_TAG] = '\0';
	if (memchr(k->label, '\0', llen - FRAME_TAG))
		r = lt_error(LT_ECORRUPT, "key file '%s' has a bad stream name",
			     path.data);
out:
	if (r) {
		if (k->key)
			sodium_free(k->key);
		free(k->label);
		k->key = NULL;
		k->label = NULL;
	}
	buf_release(&path);
	buf_release(&f);
	return r;
}

int vault_data_key(struct vault *v, const uint8_t key_id[VAULT_ID_LEN],
		   int32_t day, const uint8_t **key, const char **label)
{
	struct vault_key probe, *k;
	size_t lo = 0, hi = v->nkeys;

	if (!vault_is_unlocked(v))
		return lt_error(LT_EINVAL, "the vault must be unlocked first");
	memcpy(probe.id, key_id, VAULT_ID_LEN);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = key_cmp(&probe, &v->keys[mid]);
		if (c == 0) {
			lo = mid;
			goto found;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	XGROW(v->keys, v->nkeys + 1, v->keys_alloc);
	memmove(&v->keys[lo + 1], &v->keys[lo],
		(v->nkeys - lo) * sizeof(*v->keys));
	v->nkeys++;
	memset(&v->keys[lo], 0, sizeof(*v->keys));
	memcpy(v->keys[lo].id, key_id, VAULT_ID_LEN);
found:
	k = &v->keys[lo];
	if (k->state == 0) {
		int r = open_key(v, k, day);
		k->state = r ? r : 1;
		if (r)
			return r;
	} else if (k->state < 0) {
		/* Reported once in full; afterwards the short form. */
		char hex[2 * VAULT_ID_LEN + 1];
		lt_hex(key_id, VAULT_ID_LEN, hex);
		return lt_error(k->state, "key %s cannot be opened", hex);
	}
	*key = k->key;
	*label = k->label;
	return 0;
}
