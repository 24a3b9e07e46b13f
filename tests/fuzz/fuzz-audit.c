/*
 * Fuzz target for the chain log reader (src/privacy/chainlog.c): the input
 * is a file image. An input starting with the consent registry's magic
 * ("LTAPECNS") becomes <vault>/consent/log and goes through consent_verify
 * and consent_list; any other becomes <vault>/audit/log and goes through
 * audit_verify and audit_read. Both recover first (which may cut a torn
 * tail), parse every entry, open its sealed key, authenticate and decrypt
 * it, parse its JSON and check the chain and the heads.
 *
 * The vault is fixed (vault.json below, passphrase "fuzz", the fast KDF)
 * so that the seeds in tests/fuzz/corpus/fuzz-audit/, made with
 * `labtape consent` against it, decrypt and reach the JSON. Each input
 * starts from no heads and a fresh index, so inputs do not depend on one
 * another.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "consent.h"
#include "error.h"
#include "fileio.h"

static const char vault_json[] =
	"{\n"
	"  \"format\": \"labtape-vault\",\n"
	"  \"version\": 1,\n"
	"  \"id\": \"6df40105ffc803936c8aa8e9c7d6aa94\",\n"
	"  \"created\": \"2026-11-26T22:04:33.945535776Z\",\n"
	"  \"public_key\": \"d3c19df029bede4348fc6296fd905081c4e0aa75b8a6a40e2d203afb13489676\",\n"
	"  \"kdf\": {\n"
	"    \"alg\": \"argon2id13\",\n"
	"    \"preset\": \"fast\",\n"
	"    \"opslimit\": 1,\n"
	"    \"memlimit\": 8192,\n"
	"    \"salt\": \"4b8188e729f79ffa09b975cd0dad4863\"\n"
	"  },\n"
	"  \"secret_key\": {\n"
	"    \"alg\": \"xchacha20poly1305-ietf\",\n"
	"    \"nonce\": \"950b182c28589a46d769b8c7ea795c8cc3e3b32f504ce33b\",\n"
	"    \"ciphertext\": \"3be8dcf20d5699a600bfd0e670efe793e6a8cc8e1c4cccd0009d3371c45992aa456519db0d3e8d9a1ef69b49fff4f522\"\n"
	"  }\n"
	"}\n";

static char dir[256];

static void quiet(void *ctx, int problem, const char *msg)
{
	(void)ctx;
	(void)problem;
	(void)msg;
}

static int on_audit(void *ctx, const struct audit_entry *e)
{
	(void)ctx;
	if (!e->action || !e->actor || !json_is_object(e->detail))
		abort();
	return 0;
}

static int on_consent(void *ctx, const struct consent *c)
{
	(void)ctx;
	if (!c->name || !c->ref || strlen(c->ref) != CONSENT_REF_LEN)
		abort();
	return 0;
}

static void path(struct buf *p, const char *rel)
{
	buf_reset(p);
	buf_addf(p, "%s/%s", dir, rel);
}

static void die(const char *what)
{
	fprintf(stderr, "fuzz-audit: %s: %s\n", what, lt_errmsg());
	abort();
}

static void cleanup(void)
{
	struct buf cmd = BUF_INIT;

	buf_addf(&cmd, "rm -rf '%s'", dir);
	if (system(cmd.data) != 0)
		fprintf(stderr, "fuzz-audit: cannot remove %s\n", dir);
	buf_release(&cmd);
}

static void setup(void)
{
	struct buf p = BUF_INIT;
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/fuzz-audit-%d", tmp ? tmp : "/tmp",
		 (int)getpid());
	if (lt_mkdirs_nosync(dir, 0700))
		die("setup");
	path(&p, "vault.json");
	if (lt_write_file_atomic(p.data, vault_json, strlen(vault_json), 0600, 0))
		die("setup");
	for (int i = 0; i < 4; i++) {
		static const char *const sub[] = { "audit", "consent", "keys",
			"segments" };
		path(&p, sub[i]);
		if (lt_mkdirs_nosync(p.data, 0700))
			die("setup");
	}
	buf_release(&p);
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const gone[] = { "audit/head", "consent/head",
		"audit/log", "consent/log", "index.db", "index.db-wal",
		"index.db-shm", NULL };
	int consent = size >= 8 && !memcmp(data, "LTAPECNS", 8);
	struct buf p = BUF_INIT;
	struct vault *v;

	if (!dir[0])
		setup();
	for (int i = 0; gone[i]; i++) {
		path(&p, gone[i]);
		unlink(p.data);
	}
	path(&p, consent ? "consent/log" : "audit/log");
	if (lt_write_file_atomic(p.data, data, size, 0600, 0))
		die("write the input");
	buf_release(&p);
	if (vault_open(&v, dir))
		die("vault_open");
	if (vault_unlock(v, "fuzz", 4))
		die("vault_unlock");
	if (consent) {
		consent_verify(v, quiet, NULL);
		consent_list(v, on_consent, NULL);
	} else {
		audit_verify(v, quiet, NULL);
		audit_read(v, INT64_MIN, on_audit, NULL, quiet, NULL);
	}
	vault_free(v);
	return 0;
}
