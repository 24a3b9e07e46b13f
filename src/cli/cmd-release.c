/*
 * labtape release and labtape open: exported files encrypted to an
 * organization's age1... key as an age file holding a tar archive with
 * MANIFEST.json first (doc/release.md), and the way back.
 *
 * Both stream: memory stays bounded whatever the sizes. Nothing that
 * open writes counts as final until the age payload's last chunk has
 * authenticated and every file matched its manifest hash: it extracts
 * into a temporary folder beside the destination, renamed into place
 * only then, and removed on any failure.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <sodium.h>

#include "age.h"
#include "audit.h"
#include "cli.h"
#include "error.h"
#include "fileio.h"
#include "hex.h"
#include "ltime.h"
#include "xalloc.h"
#include "banned.h"

#define MANIFEST_NAME "MANIFEST.json"
#define IO_SIZE 65536

/* ---- shared --------------------------------------------------------- */

static void now_rfc3339(char out[32])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int is_date(const char *s)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

/* An embargo: a date (YYYY-MM-DD) or an RFC 3339 time; its start in ns. */
static int parse_embargo(const char *s, int64_t *t)
{
	int r = is_date(s) ? lt_time_parse(s, t) : lt_time_parse_rfc3339(s, t);

	if (r)
		return lt_error(LT_EINVAL, "embargo '%s' is not a date "
				"(YYYY-MM-DD) or an RFC 3339 time", s);
	if (is_date(s)) {
		/* lt_time_parse normalises: 2024-02-30 must not pass. */
		char back[16];
		lt_day_format(lt_day_of(*t), back);
		if (strcmp(back, s))
			return lt_error(LT_EINVAL, "embargo '%s' is not a real "
					"date", s);
	}
	return 0;
}

static void sha256_hex(crypto_hash_sha256_state *st, char out[65])
{
	uint8_t sum[32];

	crypto_hash_sha256_final(st, sum);
	lt_hex(sum, 32, out);
}

/* ---- release -------------------------------------------------------- */

static const char usage_release[] =
	"usage: labtape release --to RECIPIENT [<options>] PATH... -o FILE\n"
	"\n"
	"Encrypts exported files to an organization's public key (age1...,\n"
	"from 'labtape recipient new') as an age file, which the\n"
	"organization opens with 'labtape open' or the age tool\n"
	"('age -d -i KEYFILE FILE | tar x'). Inside is a tar archive:\n"
	"MANIFEST.json first (what was released, when, by whom, the consents\n"
	"relied on, the embargo, each file's size and SHA-256), then the\n"
	"files under their base names; a folder PATH is included whole, under\n"
	"its own name. Symbolic links and special files in folders are\n"
	"refused. FILE is never overwritten. doc/release.md has the format.\n"
	"\n"
	"  --to RECIPIENT     the age1... public key to encrypt to\n"
	"  -o, --output FILE  the release file to write (e.g. NAME.age)\n"
	"  --embargo DATE     not to be used or published before DATE\n"
	"                     (YYYY-MM-DD or an RFC 3339 time)\n"
	"  --consent NAME     a consent this release relies on (repeatable)\n"
	"  --by NAME          who releases (default: $USER)\n"
	"  --vault DIR        the vault the data came from, named in the\n"
	"                     manifest by a hash of its id (default: the\n"
	"                     default vault, if there is one)\n";

struct rfile {
	char *src;	/* path on disk */
	char *name;	/* path in the archive */
	uint64_t size;
	int64_t mtime;
	char sha[65];
};

struct release {
	struct rfile *f;
	size_t n, alloc;
	struct age_writer *w;
	int fd;
	const char *out;
};

static int add_file(struct release *rel, const char *src, const char *name)
{
	for (size_t i = 0; i < rel->n; i++)
		if (!strcmp(rel->f[i].name, name))
			return lt_error(LT_EINVAL, "two files would be '%s' in "
					"the release ('%s' and '%s'); release "
					"them separately or rename one", name,
					rel->f[i].src, src);
	if (!strcmp(name, MANIFEST_NAME))
		return lt_error(LT_EINVAL, "'%s': the name %s is the "
				"release's own; rename the file", src,
				MANIFEST_NAME);
	XGROW(rel->f, rel->n + 1, rel->alloc);
	memset(&rel->f[rel->n], 0, sizeof(rel->f[0]));
	rel->f[rel->n].src = xstrdup(src);
	rel->f[rel->n].name = xstrdup(name);
	rel->n++;
	return 0;
}

/* Adds the regular files under dir (sorted, so releases are repeatable). */
static int add_tree(struct release *rel, const char *dir, const char *name)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort), r = 0;

	if (n < 0)
		return lt_error_errno(LT_EIO, "cannot list '%s'", dir);
	for (int i = 0; i < n; i++) {
		const char *e = ents[i]->d_name;
		struct buf src = BUF_INIT, sub = BUF_INIT;
		struct stat st;

		if (!r && strcmp(e, ".") && strcmp(e, "..")) {
			buf_addf(&src, "%s/%s", dir, e);
			buf_addf(&sub, "%s/%s", name, e);
			if (lstat(src.data, &st))
				r = lt_error_errno(LT_EIO, "cannot stat '%s'",
						   src.data);
			else if (S_ISDIR(st.st_mode))
				r = add_tree(rel, src.data, sub.data);
			else if (S_ISREG(st.st_mode))
				r = add_file(rel, src.data, sub.data);
			else
				r = lt_error(LT_EINVAL, "'%s' is %s; a release "
					     "holds regular files and folders "
					     "only (copy what it points to "
					     "instead)", src.data,
					     S_ISLNK(st.st_mode)
					     ? "a symbolic link"
					     : "a special file");
		}
		buf_release(&src);
		buf_release(&sub);
		free(ents[i]);
	}
	free(ents);
	return r;
}

static int add_path(struct release *rel, const char *path)
{
	char real[PATH_MAX];
	const char *base;
	struct stat st;

	if (stat(path, &st))
		return lt_error_errno(LT_EIO, "cannot release '%s'", path);
	if (!realpath(path, real))
		return lt_error_errno(LT_EIO, "cannot resolve '%s'", path);
	base = strrchr(real, '/');
	base = base && base[1] ? base + 1 : NULL;
	if (S_ISREG(st.st_mode))
		return add_file(rel, path, base);
	if (!S_ISDIR(st.st_mode) || !base)
		return lt_error(LT_EINVAL, "'%s' is not a regular file or a "
				"folder", path);
	return add_tree(rel, path, base);
}

/* Sizes and hashes, read before the archive is written: the manifest
 * comes first in it. */
static int hash_file(struct rfile *f)
{
	crypto_hash_sha256_state st;
	uint8_t *b = xmalloc(IO_SIZE);
	struct stat sb;
	int fd = open(f->src, O_RDONLY | O_CLOEXEC), r = 0;
	ssize_t n;

	if (fd < 0) {
		free(b);
		return lt_error_errno(LT_EIO, "cannot open '%s'", f->src);
	}
	fstat(fd, &sb);
	f->mtime = sb.st_mtime;
	crypto_hash_sha256_init(&st);
	f->size = 0;
	while ((n = read(fd, b, IO_SIZE)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = lt_error_errno(LT_EIO, "cannot read '%s'", f->src);
			break;
		}
		crypto_hash_sha256_update(&st, b, (size_t)n);
		f->size += (uint64_t)n;
	}
	sha256_hex(&st, f->sha);
	close(fd);
	free(b);
	return r;
}

/*
 * The consents this release relies on. For now they are what --consent
 * named; this is the one place that gathers them, so that it can read
 * them from the consent registry instead when there is one.
 */
static json_t *gather_consents(char **names, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(names[i]));
	return a;
}

/*
 * The researcher's vault, opened once for the manifest's reference and
 * the audit entry: *out is NULL when there is none (dir not given and
 * nothing at the default place), a release of files from elsewhere,
 * which is then in no audit log. A vault that is there but does not open
 * is an error: a release it cannot audit is not made.
 */
static int open_vault(const char *dir, struct vault **out)
{
	struct buf d = BUF_INIT;
	struct stat st;
	int r = 0;

	*out = NULL;
	vault_default_dir(dir, &d);
	if (!dir && stat(d.data, &st))
		fprintf(stderr, "labtape: no vault at '%s': this release is in "
			"no audit log\n", d.data);
	else if (vault_open(out, d.data))
		r = cli_error("%s", lt_errmsg());
	buf_release(&d);
	return r;
}

/* SHA-256 of the vault id (its 32 hex digits), or null without a vault. */
static json_t *vault_ref(struct vault *v)
{
	const char *id;
	uint8_t sum[32];
	char hex[65];

	if (!v)
		return json_null();
	id = vault_id_hex(v);
	crypto_hash_sha256(sum, (const uint8_t *)id, strlen(id));
	lt_hex(sum, 32, hex);
	return json_string(hex);
}

/*
 * Enters a release into the vault's audit log: the output file and the
 * manifest (recipient, embargo, consents, files with their hashes; no
 * content).
 */
static int note_release(struct vault *v, const char *file,
			const json_t *manifest)
{
	json_t *detail;
	int r = 0;

	if (!v)
		return 0;
	detail = json_deep_copy(manifest);
	json_object_del(detail, "labtape_release");
	json_object_del(detail, "by");
	json_object_set_new(detail, "output", json_string(file));
	if (audit_append(v, AUDIT_RELEASE, detail))
		r = cli_error("released, but not in the audit log: %s",
			      lt_errmsg());
	json_decref(detail);
	return r;
}

static la_ssize_t tar_write(struct archive *a, void *ctx, const void *buf,
			    size_t n)
{
	struct release *rel = ctx;

	if (age_writer_write(rel->w, buf, n)) {
		archive_set_error(a, EIO, "%s", lt_errmsg());
		return -1;
	}
	return (la_ssize_t)n;
}

static int fd_write(void *ctx, const void *data, size_t n)
{
	struct release *rel = ctx;
	return lt_write_all(rel->fd, data, n, rel->out);
}

static int tar_entry(struct archive *a, const char *name, uint64_t size,
		     int64_t mtime)
{
	struct archive_entry *e = archive_entry_new();
	int r;

	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, mtime, 0);
	r = archive_write_header(a, e);
	archive_entry_free(e);
	if (r != ARCHIVE_OK)
		return lt_error(LT_EIO, "tar: %s", archive_error_string(a));
	return 0;
}

/* Copies f into the archive, checking it is what was hashed. */
static int tar_file(struct archive *a, const struct rfile *f)
{
	crypto_hash_sha256_state st;
	uint8_t *b = xmalloc(IO_SIZE);
	uint64_t left = f->size;
	char sha[65];
	int fd = open(f->src, O_RDONLY | O_CLOEXEC), r;
	ssize_t n = 0;

	if (fd < 0) {
		free(b);
		return lt_error_errno(LT_EIO, "cannot open '%s'", f->src);
	}
	r = tar_entry(a, f->name, f->size, f->mtime);
	crypto_hash_sha256_init(&st);
	while (!r && left) {
		n = read(fd, b, left < IO_SIZE ? left : IO_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		crypto_hash_sha256_update(&st, b, (size_t)n);
		if (archive_write_data(a, b, (size_t)n) != n)
			r = lt_error(LT_EIO, "tar: %s", archive_error_string(a));
		left -= (uint64_t)n;
	}
	if (!r && (left || read(fd, b, 1) != 0))
		r = lt_error(LT_EINVAL, "'%s' changed while it was being "
			     "released; release it again when it is still",
			     f->src);
	sha256_hex(&st, sha);
	if (!r && strcmp(sha, f->sha))
		r = lt_error(LT_EINVAL, "'%s' changed while it was being "
			     "released; release it again when it is still",
			     f->src);
	close(fd);
	free(b);
	return r;
}

static json_t *manifest_new(const struct release *rel, json_t *vault,
			    const char *by, const char *recipient,
			    const char *embargo, json_t *consents)
{
	json_t *m = json_object(), *files = json_array();
	char created[32];

	now_rfc3339(created);
	json_object_set_new(m, "labtape_release", json_integer(1));
	json_object_set_new(m, "created", json_string(created));
	json_object_set_new(m, "by", json_pack("{s:o,s:o}", "vault", vault,
					       "user", by ? json_string(by)
							  : json_null()));
	json_object_set_new(m, "recipient", json_string(recipient));
	json_object_set_new(m, "embargo", embargo ? json_string(embargo)
						  : json_null());
	json_object_set_new(m, "consents", consents);
	for (size_t i = 0; i < rel->n; i++)
		json_array_append_new(files, json_pack(
			"{s:s,s:I,s:s}", "path", rel->f[i].name, "size",
			(json_int_t)rel->f[i].size, "sha256", rel->f[i].sha));
	json_object_set_new(m, "files", files);
	return m;
}

/* Writes the archive into rel->w. */
static int write_archive(struct release *rel, const char *manifest)
{
	struct archive *a = archive_write_new();
	size_t mlen = strlen(manifest);
	int r;

	/* ustar, with pax headers only where ustar cannot say it. */
	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_none(a);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open(a, rel, NULL, tar_write, NULL) != ARCHIVE_OK) {
		r = lt_error(LT_EIO, "tar: %s", archive_error_string(a));
		archive_write_free(a);
		return r;
	}
	r = tar_entry(a, MANIFEST_NAME, mlen, time(NULL));
	if (!r && archive_write_data(a, manifest, mlen) != (la_ssize_t)mlen)
		r = lt_error(LT_EIO, "tar: %s", archive_error_string(a));
	for (size_t i = 0; !r && i < rel->n; i++)
		r = tar_file(a, &rel->f[i]);
	if (!r && archive_write_close(a) != ARCHIVE_OK)
		r = lt_error(LT_EIO, "tar: %s", archive_error_string(a));
	archive_write_free(a);
	return r;
}

/* Writes the release to rel->out through a temporary file, never
 * replacing an existing file. */
static int write_release(struct release *rel, const uint8_t pub[32],
			 const char *manifest)
{
	struct buf tmp = BUF_INIT;
	int r;

	buf_addf(&tmp, "%s.tmp-XXXXXX", rel->out);
	rel->fd = mkstemp(tmp.data);
	if (rel->fd < 0) {
		r = lt_error_errno(LT_EIO, "cannot create '%s'", tmp.data);
		buf_release(&tmp);
		return r;
	}
	rel->w = age_writer_new(pub, fd_write, rel);
	r = rel->w ? 0 : -1;
	if (!r)
		r = write_archive(rel, manifest);
	if (!r)
		r = age_writer_finish(rel->w);
	age_writer_free(rel->w);
	if (!r)
		r = lt_fsync(rel->fd, tmp.data);
	close(rel->fd);
	if (!r && link(tmp.data, rel->out))
		r = errno == EEXIST
			? lt_error(LT_EEXIST, "'%s' already exists; not "
				   "replacing it", rel->out)
			: lt_error_errno(LT_EIO, "cannot create '%s'", rel->out);
	unlink(tmp.data);
	buf_release(&tmp);
	return r;
}

int cmd_release(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "to", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "embargo", required_argument, NULL, 'e' },
		{ "consent", required_argument, NULL, 'c' },
		{ "by", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "release", usage_release, NULL, NULL };
	struct release rel = { NULL, 0, 0, NULL, -1, NULL };
	const char *to = NULL, *embargo = NULL, *by = NULL;
	char **consents = NULL;
	size_t nconsents = 0;
	uint8_t pub[32];
	json_t *m = NULL;
	struct vault *v = NULL;
	char *text = NULL;
	int64_t t;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (opt) {
		case 't': to = optarg; break;
		case 'o': rel.out = optarg; break;
		case 'e': embargo = optarg; break;
		case 'b': by = optarg; break;
		case 'c':
			consents = xrealloc(consents, (nconsents + 1) *
					    sizeof(*consents));
			consents[nconsents++] = optarg;
			break;
		default:
			if ((r = cli_common_opt(&c, opt)) >= 0) {
				free(consents);
				return r;
			}
		}
	}
	r = EXIT_USAGE;
	if (!to)
		cli_usage_error(&c, "say who to release to: --to age1...");
	else if (!rel.out)
		cli_usage_error(&c, "say where to write the release: -o FILE");
	else if (optind >= argc)
		cli_usage_error(&c, "name the files or folders to release");
	else if (age_recipient_decode(to, pub))
		cli_usage_error(&c, "%s", lt_errmsg());
	else if (embargo && parse_embargo(embargo, &t))
		cli_usage_error(&c, "%s", lt_errmsg());
	else
		r = 0;
	for (size_t i = 0; i < nconsents && !r; i++)
		if (!*consents[i])
			r = cli_usage_error(&c, "--consent needs a name");
	if (r) {
		free(consents);
		return r;
	}
	if (sodium_init() < 0) {
		free(consents);
		return cli_error("cannot initialise libsodium");
	}
	if (!by)
		by = getenv("USER");
	if (!by || !*by) {
		struct passwd *pw = getpwuid(getuid());
		by = pw ? pw->pw_name : NULL;
	}
	if (access(rel.out, F_OK) == 0) {
		r = cli_error("'%s' already exists; not replacing it", rel.out);
		goto out;
	}
	for (int i = optind; !r && i < argc; i++)
		if (add_path(&rel, argv[i]))
			r = cli_error("%s", lt_errmsg());
	for (size_t i = 0; !r && i < rel.n; i++)
		if (hash_file(&rel.f[i]))
			r = cli_error("%s", lt_errmsg());
	if (r || (r = open_vault(c.vault, &v)))
		goto out;
	m = manifest_new(&rel, vault_ref(v), by, to, embargo,
			 gather_consents(consents, nconsents));
	{
		/* Pretty, one key a line, ending with a newline. */
		char *j = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		struct buf tb = BUF_INIT;
		buf_addf(&tb, "%s\n", j);
		free(j);
		text = buf_detach(&tb, NULL);
	}
	if (write_release(&rel, pub, text)) {
		r = cli_error("%s", lt_errmsg());
		goto out;
	}
	r = note_release(v, rel.out, m);
	{
		uint64_t total = 0;
		char human[32];
		for (size_t i = 0; i < rel.n; i++)
			total += rel.f[i].size;
		cli_human_bytes(total, human, sizeof(human));
		fprintf(stderr, "Released %zu file%s (%s) to %s in %s\n", rel.n,
			rel.n == 1 ? "" : "s", human, to, rel.out);
	}
out:
	vault_free(v);
	free(text);
	json_decref(m);
	for (size_t i = 0; i < rel.n; i++) {
		free(rel.f[i].src);
		free(rel.f[i].name);
	}
	free(rel.f);
	free(consents);
	return r ? 1 : 0;
}
