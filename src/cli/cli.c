#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <fcntl.h>
#include <unistd.h>

#include <sodium.h>

#include "error.h"
#include "fileio.h"
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

int cli_open_unlocked(struct cli *c, struct vault **v)
{
	struct buf pass = BUF_INIT;
	int r;

	if (cli_open_vault(c, v))
		return 1;
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

	buf_reset(out);
	if (file) {
		char *nl;
		if (lt_read_file(file, 4096, out))
			return cli_error("cannot read the passphrase: %s",
					 lt_errmsg());
		nl = memchr(out->data, '\n', out->len);
		if (nl)
			buf_setlen(out, (size_t)(nl - out->data));
		if (out->len && out->data[out->len - 1] == '\r')
			buf_setlen(out, out->len - 1);
	} else if (env && (e = getenv(env)) != NULL) {
		buf_addstr(out, e);
	} else {
		struct buf again = BUF_INIT;
		int r = 0;
		if (read_tty(prompt, out))
			return cli_error("no passphrase: there is no terminal to "
					 "ask on (use --passphrase-file FILE or "
					 "set %s)", env ? env : "LABTAPE_PASSPHRASE");
		if (confirm) {
			if (read_tty("Repeat passphrase: ", &again) ||
			    again.len != out->len ||
			    memcmp(again.data, out->data, out->len) != 0)
				r = cli_error("the passphrases do not match");
			cli_wipe(&again);
		}
		if (r)
			return r;
	}
	if (!out->len)
		return cli_error("the passphrase is empty");
	return 0;
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
