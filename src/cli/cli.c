#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <termios.h>
#include <fcntl.h>
#include <unistd.h>

#include <sodium.h>

#include "ctl.h"
#include "error.h"
#include "fileio.h"
#include "hex.h"
#include "banned.h"

int cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("labtape: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int cli_usage_error(const struct cli *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "labtape %s: ", c->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'labtape %s --help')\n", c->cmd);
	return EXIT_USAGE;
}

int cli_common_opt(struct cli *c, int opt)
{
	switch (opt) {
	case OPT_VAULT:
		c->vault = optarg;
		return -1;
	case OPT_PASSFILE:
		c->passfile = optarg;
		return -1;
	case OPT_HELP:
		fputs(c->usage, stdout);
		return 0;
	default:
		/* getopt printed what was wrong. */
		fprintf(stderr, "(see 'labtape %s --help')\n", c->cmd);
		return EXIT_USAGE;
	}
}

int cli_common_only(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int opt, r;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		if ((r = cli_common_opt(c, opt)) >= 0)
			return r;
	if (optind < argc)
		return cli_usage_error(c, "unexpected argument '%s'", argv[optind]);
	return -1;
}

void cli_many_files(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int cli_open_vault(struct cli *c, struct vault **v)
{
	struct buf dir = BUF_INIT;
	int r;

	vault_default_dir(c->vault, &dir);
	r = vault_open(v, dir.data);
	buf_release(&dir);
	if (r)
		return cli_error("%s", lt_errmsg());
	return 0;
}

/* The recorder, when it holds this vault's key (`labtape unlock`). */
static struct ctl agent = { -1, NULL };

static int agent_unseal(void *ctx, const uint8_t key_id[16], int32_t day,
			uint8_t key[32])
{
	char hex[33];
	json_t *resp = NULL;
	const char *k;
	int r;

	(void)ctx;
	json_t *req;

	lt_hex(key_id, 16, hex);
	req = json_pack("{s:s, s:s, s:i}", "cmd", "unseal", "key_id", hex,
			"day", (int)day);
	r = ctl_call(&agent, req, &resp);
	json_decref(req);
	if (!r) {
		k = json_string_value(json_object_get(resp, "key"));
		if (!k || lt_unhex(k, key, 32))
			r = lt_error(LT_EIO, "the recorder sent a malformed key");
	} else if (r == LT_EINVAL) {
		r = lt_error_wrap(LT_ENOKEY, "the recorder cannot open key %s",
				  hex);
	}
	json_decref(resp);
	return r;
}

/* The same for a key sealed inside a file (the audit log, consents). */
static int agent_open_box(void *ctx, const uint8_t sealed[VAULT_SEALED_KEY_LEN],
			  uint8_t key[32])
{
	char hex[2 * VAULT_SEALED_KEY_LEN + 1];
	json_t *resp = NULL, *req;
	const char *k;
	int r;

	(void)ctx;
	lt_hex(sealed, VAULT_SEALED_KEY_LEN, hex);
	req = json_pack("{s:s, s:s}", "cmd", "unseal", "sealed", hex);
	r = ctl_call(&agent, req, &resp);
	json_decref(req);
	if (!r) {
		k = json_string_value(json_object_get(resp, "key"));
		if (!k || lt_unhex(k, key, 32))
			r = lt_error(LT_EIO, "the recorder sent a malformed key");
	} else if (r == LT_EINVAL) {
		/* The recorder answered: the seal does not open (damage),
		 * or it no longer holds the key. */
		r = json_is_true(json_object_get(resp, "bad_seal")) ?
		    lt_error(LT_EAUTH, "a sealed key does not open with this "
			     "vault's key") :
		    lt_error_wrap(LT_ENOKEY, "the recorder cannot open a "
				  "sealed key");
	}
	json_decref(resp);
	return r;
}

/* Uses a running recorder that holds v's key, if there is one. */
static int try_agent(struct vault *v)
{
	json_t *resp = NULL, *req;
	const char *id;
	int ok;

	if (ctl_connect(&agent))
		return 0;
	req = json_pack("{s:s}", "cmd", "status");
	ok = ctl_call(&agent, req, &resp) == 0 &&
	     json_is_true(json_object_get(resp, "unlocked")) &&
	     (id = json_string_value(json_object_get(resp, "vault_id"))) &&
	     !strcmp(id, vault_id_hex(v));
	json_decref(resp);
	json_decref(req);
	if (!ok) {
		ctl_close(&agent);
		return 0;
	}
	vault_use_agent(v, agent_unseal, NULL);
	vault_use_agent_box(v, agent_open_box, NULL);
	return 1;
}

int cli_open_unlocked(struct cli *c, struct vault **v)
{
	struct buf pass = BUF_INIT;
	int r;

	if (cli_open_vault(c, v))
		return 1;
	if (!c->passfile && !getenv("LABTAPE_PASSPHRASE") && try_agent(*v))
		return 0;
	if (cli_passphrase(c->passfile, "LABTAPE_PASSPHRASE", "Passphrase: ", 0,
			   &pass)) {
		vault_free(*v);
		return 1;
	}
	r = vault_unlock(*v, pass.data, pass.len);
	cli_wipe(&pass);
	if (r) {
		cli_error("%s", lt_errmsg());
		vault_free(*v);
		*v = NULL;
		return 1;
	}
	return 0;
}

void cli_wipe(struct buf *b)
{
	if (b->alloc)
		sodium_memzero(b->data, b->alloc);
	buf_release(b);
}

static int read_tty(const char *prompt, struct buf *out)
{
	struct termios old, quiet;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC), r = 0;
	char c;

	if (fd < 0)
		return -1;
	if (tcgetattr(fd, &old) < 0) {
		close(fd);
		return -1;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (write(fd, prompt, strlen(prompt)) < 0 ||
	    tcsetattr(fd, TCSAFLUSH, &quiet) < 0) {
		close(fd);
		return -1;
	}
	buf_reset(out);
	for (;;) {
		ssize_t n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n')
			break;
		buf_addch(out, c);
	}
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		r = -1;
	close(fd);
	return r;
}

int cli_passphrase(const char *file, const char *env, const char *prompt,
		   int confirm, struct buf *out)
{
	const char *e;
	int r = 0;

	buf_reset(out);
	if (file) {
		char *nl;
		if (lt_read_file(file, 4096, out)) {
			r = cli_error("cannot read the passphrase: %s",
				      lt_errmsg());
			goto out;
		}
		nl = memchr(out->data, '\n', out->len);
		if (nl)
			buf_setlen(out, (size_t)(nl - out->data));
		if (out->len && out->data[out->len - 1] == '\r')
			buf_setlen(out, out->len - 1);
	} else if (env && (e = getenv(env)) != NULL) {
		buf_addstr(out, e);
	} else {
		struct buf again = BUF_INIT;
		if (read_tty(prompt, out)) {
			r = cli_error("no passphrase: there is no terminal to "
				      "ask on (use --passphrase-file FILE or "
				      "set %s)", env ? env : "LABTAPE_PASSPHRASE");
			goto out;
		}
		if (confirm) {
			if (read_tty("Repeat passphrase: ", &again) ||
			    again.len != out->len ||
			    memcmp(again.data, out->data, out->len) != 0)
				r = cli_error("the passphrases do not match");
			cli_wipe(&again);
		}
		if (r)
			goto out;
	}
	if (!out->len)
		r = cli_error("the passphrase is empty");
out:
	/* Callers only wipe what they got: leave nothing behind. */
	if (r)
		cli_wipe(out);
	return r;
}

int cli_kdf(const char *name, enum vault_kdf *out)
{
	if (!name)
		name = getenv("LABTAPE_KDF");
	if (!name || !*name || !strcmp(name, "moderate")) {
		*out = VAULT_KDF_MODERATE;
		return 0;
	}
	if (!strcmp(name, "fast")) {
		*out = VAULT_KDF_FAST;
		return 0;
	}
	return cli_error("unknown KDF preset '%s' (use 'moderate', or 'fast' "
			 "for tests only)", name);
}

void cli_human_bytes(uint64_t n, char *out, size_t size)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)n;
	unsigned u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, size, "%llu B", (unsigned long long)n);
	else
		snprintf(out, size, "%.1f %s", d, units[u]);
}
