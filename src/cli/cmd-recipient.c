/*
 * labtape recipient: key pairs for the organizations that releases go
 * to, in the age tool's own format (age-keygen's file, age1... keys).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "age.h"
#include "cli.h"
#include "error.h"
#include "fileio.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape recipient new NAME [-o KEYFILE]\n"
	"   or: labtape recipient show KEYFILE\n"
	"\n"
	"Key pairs for the organizations that 'labtape release' encrypts to.\n"
	"\n"
	"  new NAME   make a key pair for NAME: write the secret key to KEYFILE\n"
	"             (default NAME.key in the current folder, mode 0600, never\n"
	"             over an existing file) as an age identity file, exactly\n"
	"             as age-keygen writes it, and print the public key\n"
	"             (age1...) on stdout. Give the public key to whoever\n"
	"             releases data to NAME; keep KEYFILE secret: it is what\n"
	"             'labtape open' and 'age -d -i KEYFILE' decrypt with.\n"
	"  show FILE  print the public key of each identity in an identity file\n"
	"\n"
	"  -o, --output KEYFILE  where 'new' writes the secret key\n";

static int valid_name(const char *s)
{
	if (!*s || *s == '.' || *s == '-')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		      *s == '-'))
			return 0;
	return 1;
}

static int recipient_new(const char *name, const char *path)
{
	struct age_identity id;
	struct buf text = BUF_INIT, pub = BUF_INIT, def = BUF_INIT;
	char created[32];
	time_t now = time(NULL);
	struct tm tm;
	int fd, r;

	if (!path) {
		buf_addf(&def, "%s.key", name);
		path = def.data;
	}
	gmtime_r(&now, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* O_EXCL: never replace a key, which would lose what it opens. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = errno == EEXIST
			? cli_error("'%s' already exists; not replacing a key "
				    "(choose another name with -o)", path)
			: cli_error("cannot create '%s': %s", path,
				    strerror(errno));
		buf_release(&def);
		return r;
	}
	age_identity_generate(&id);
	age_recipient_encode(id.pub, &pub);
	buf_addf(&text, "# created: %s\n# public key: %s\n", created, pub.data);
	age_identity_encode(&id, &text);
	buf_addch(&text, '\n');
	sodium_memzero(&id, sizeof(id));
	r = lt_write_all(fd, text.data, text.len, path);
	if (!r)
		r = lt_fsync(fd, path);
	sodium_memzero(text.data, text.len);
	buf_release(&text);
	if (close(fd) && !r)
		r = lt_error_errno(LT_EIO, "cannot write '%s'", path);
	if (r) {
		unlink(path);
		cli_error("%s", lt_errmsg());
	} else {
		fprintf(stderr, "Wrote the secret key for %s to %s (keep it "
			"secret); the public key is:\n", name, path);
		printf("%s\n", pub.data);
	}
	buf_release(&pub);
	buf_release(&def);
	return r ? 1 : 0;
}

static int recipient_show(const char *path)
{
	struct age_identities ids;
	struct buf pub = BUF_INIT;

	if (age_identities_load(path, &ids))
		return cli_error("%s", lt_errmsg());
	for (size_t i = 0; i < ids.n; i++) {
		buf_reset(&pub);
		age_recipient_encode(ids.ids[i].pub, &pub);
		printf("%s\n", pub.data);
	}
	buf_release(&pub);
	age_identities_release(&ids);
	return 0;
}

int cmd_recipient(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "recipient", usage, NULL, NULL };
	const char *out = NULL, *verb;
	int opt, r;

	/* Options may come before or after the verb and its argument. */
	while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		if (opt == 'o')
			out = optarg;
		else if ((r = cli_common_opt(&c, opt)) >= 0)
			return r;
	}
	if (optind >= argc)
		return cli_usage_error(&c, "say 'new NAME' or 'show KEYFILE'");
	verb = argv[optind++];
	if (sodium_init() < 0)
		return cli_error("cannot initialise libsodium");
	if (!strcmp(verb, "new")) {
		if (optind + 1 != argc)
			return cli_usage_error(&c, "'new' takes one NAME");
		if (!valid_name(argv[optind]))
			return cli_usage_error(&c, "'%s' is not a usable name "
					       "(letters, digits, '.', '_', "
					       "'-')", argv[optind]);
		return recipient_new(argv[optind], out);
	}
	if (!strcmp(verb, "show")) {
		if (optind + 1 != argc || out)
			return cli_usage_error(&c, "'show' takes one KEYFILE");
		return recipient_show(argv[optind]);
	}
	return cli_usage_error(&c, "'%s' is not 'new' or 'show'", verb);
}
