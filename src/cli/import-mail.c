/*
 * labtape import mail PATH (doc/imports.md, "mail"): an mbox file or a
 * Maildir folder. Each message becomes a msg.message event; its
 * attachments are stored as chunks (fs.chunk, fs.blob), and the message
 * names them by their chunk hashes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"
#include "fileio.h"
#include "import.h"
#include "mail.h"
#include "xalloc.h"
#include "banned.h"

static const char usage_mail[] =
	"usage: labtape import mail PATH... [--stream NAME] [--vault DIR]\n"
	"                           [--passphrase-file FILE]\n"
	"\n"
	"Reads mail into msg.message events, one per message, in the stream\n"
	"mail:NAME (NAME is PATH's last part unless --stream is given). PATH is\n"
	"an mbox file (what mutt, Thunderbird or Google Takeout export) or a\n"
	"Maildir folder (with cur/ and new/). Each message keeps its\n"
	"Message-ID, its thread (the root of its References), In-Reply-To,\n"
	"From, To, Cc, the decoded Subject and the text/plain body decoded to\n"
	"UTF-8 (the HTML body when there is no plain one); its headers are kept\n"
	"verbatim in native. Attachments are stored in the vault as chunks,\n"
	"each as the document mail:MESSAGE-ID:FILENAME.\n"
	"\n"
	"Importing the same mail again adds nothing (a message is known by its\n"
	"Message-ID, or by a hash of its bytes when it has none). All or\n"
	"nothing: a message that is not mail, or has no date (no Date header,\n"
	"no time on its mbox From_ line or in its Maildir name), is refused\n"
	"with its line or file and nothing is kept. Needs the passphrase.\n"
	"\n"
	"  --stream NAME   the name in the stream (mail:NAME)\n";

struct mail_import {
	const char *path;
	const char *channel;
	struct import *im;
	uint64_t total;		/* for the progress: bytes or files */
	int maildir;		/* a Maildir folder, else an mbox file */
	struct buf doc, where;
};

static int import_one(struct mail_import *x, const char *where,
		      const void *p, size_t n, int64_t fallback)
{
	struct mail_msg m;
	json_t *files = NULL;
	const char *from;
	int r;

	if ((r = mail_parse(x->path, where, p, n, x->channel, fallback, &m)))
		return r;
	if (import_seen(x->im, m.id)) {
		import_skipped(x->im);
		mail_msg_release(&m);
		return 0;
	}
	from = json_string_value(json_object_get(m.data, "from"));
	for (size_t i = 0; i < m.natt; i++) {
		struct mail_attachment *a = &m.att[i];
		json_t *f;

		buf_reset(&x->doc);
		buf_addf(&x->doc, "mail:%s:%s", m.id, a->name);
		if ((r = import_blob(x->im, m.t, x->doc.data, a->name, m.id,
				     from, a->data.data, a->data.len)))
			break;
		if (!files)
			files = json_array();
		f = json_pack("{s:s, s:s, s:I, s:s, s:o}", "name", a->name,
			      "type", a->type ? a->type : "application/octet-stream",
			      "size", (json_int_t)a->data.len, "doc",
			      x->doc.data, "chunks", import_blob_chunks(x->im));
		json_array_append_new(files, f);
	}
	if (!r && files)
		json_object_set(m.data, "files", files);
	json_decref(files);
	if (!r && (r = import_event(x->im, m.t, "msg.message",
				    json_incref(m.data))))
		r = lt_error(r, "%s: %s: %s", x->path, where, lt_errmsg());
	if (!r)
		r = import_unit_done(x->im, m.id, m.t);
	mail_msg_release(&m);
	return r;
}

static int on_mbox(void *ctx, const struct mbox_msg *mm)
{
	struct mail_import *x = ctx;

	buf_reset(&x->where);
	buf_addf(&x->where, "line %zu", mm->line);
	import_progress(x->im, mm->end, x->total);
	return import_one(x, x->where.data, mm->p, mm->n, mm->from_t);
}

static int read_mbox(struct mail_import *x)
{
	struct stat st;
	void *p = NULL;
	int fd = open(x->path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0 || fstat(fd, &st))
		r = lt_error_errno(LT_EIO, "cannot read '%s'", x->path);
	else if (st.st_size == 0)
		r = lt_error(LT_EINVAL, "%s: line 1: not an mbox (it is empty)",
			     x->path);
	else if ((p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
			   fd, 0)) == MAP_FAILED)
		r = lt_error_errno(LT_EIO, "cannot read '%s'", x->path);
	else {
		x->total = (uint64_t)st.st_size;
		r = mail_mbox_split(x->path, p, (size_t)st.st_size, on_mbox, x);
	}
	if (p && p != MAP_FAILED)
		munmap(p, (size_t)st.st_size);
	if (fd >= 0)
		close(fd);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of PATH/sub (dot files left out), sorted; appended to v. */
static int list_dir(const char *path, const char *sub, char ***v, size_t *n,
		    size_t *alloc)
{
	struct buf p = BUF_INIT;
	struct dirent *de;
	DIR *d;

	buf_addf(&p, "%s/%s", path, sub);
	if (!(d = opendir(p.data))) {
		int r = errno == ENOENT ? 0 :
			lt_error_errno(LT_EIO, "cannot read '%s'", p.data);
		buf_release(&p);
		return r;
	}
	while ((de = readdir(d))) {
		struct buf f = BUF_INIT;
		if (de->d_name[0] == '.')
			continue;
		buf_addf(&f, "%s/%s", sub, de->d_name);
		XGROW(*v, *n + 1, *alloc);
		(*v)[(*n)++] = buf_detach(&f, NULL);
	}
	closedir(d);
	buf_release(&p);
	return 0;
}

/* A Maildir name starts with the delivery time: "1704362400.M1P2.host". */
static int64_t maildir_time(const char *name)
{
	const char *b = strrchr(name, '/');
	int64_t s = 0;
	int nd = 0;

	for (b = b ? b + 1 : name; *b >= '0' && *b <= '9' && nd < 11; b++, nd++)
		s = s * 10 + (*b - '0');
	return nd && nd < 11 && *b == '.' ? s * 1000000000LL : INT64_MIN;
}

static int read_maildir(struct mail_import *x)
{
	char **v = NULL;
	size_t n = 0, alloc = 0;
	struct buf p = BUF_INIT, data = BUF_INIT;
	int r;

	if (!(r = list_dir(x->path, "cur", &v, &n, &alloc)))
		r = list_dir(x->path, "new", &v, &n, &alloc);
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	x->total = n;
	for (size_t i = 0; !r && i < n; i++) {
		buf_reset(&p);
		buf_addf(&p, "%s/%s", x->path, v[i]);
		buf_reset(&data);	/* lt_read_file() appends */
		if ((r = lt_read_file(p.data, 1u << 30, &data)))
			break;
		import_progress(x->im, i + 1, n);
		r = import_one(x, v[i], data.data, data.len, maildir_time(v[i]));
	}
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	buf_release(&p);
	buf_release(&data);
	return r;
}

static int run_mail(struct import *im, void *ctx)
{
	struct mail_import *x = ctx;

	x->im = im;
	return x->maildir ? read_maildir(x) : read_mbox(x);
}

int import_mail(int argc, char **argv)
{
	enum { OPT_STREAM = 3000 };
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "stream", required_argument, NULL, OPT_STREAM },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "import mail", usage_mail, NULL, NULL };
	struct mail_import x;
	struct buf stream = BUF_INIT, base = BUF_INIT, sub = BUF_INIT;
	struct stat st;
	const char *name = NULL;
	int opt, r, ret, maildir;

	memset(&x, 0, sizeof(x));
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == OPT_STREAM)
			name = optarg;
		else if ((r = cli_common_opt(&c, opt)) >= 0)
			return r;
	}
	if ((r = cli_import_each(argc, argv, import_mail)) >= 0)
		return r;
	if (optind == argc)
		return cli_usage_error(&c, "which mail? Give an mbox file or a "
				       "Maildir folder");
	x.path = argv[optind];
	if (stat(x.path, &st))
		return cli_error("cannot read '%s': %s", x.path, strerror(errno));
	maildir = S_ISDIR(st.st_mode);
	if (maildir) {
		struct stat s2, s3;
		buf_addf(&sub, "%s/cur", x.path);
		r = stat(sub.data, &s2);
		buf_reset(&sub);
		buf_addf(&sub, "%s/new", x.path);
		if (r && stat(sub.data, &s3)) {
			buf_release(&sub);
			return cli_error("%s: not a Maildir (no cur/ or new/ in "
					 "it); give a Maildir folder or an mbox "
					 "file", x.path);
		}
	}
	buf_release(&sub);
	lt_basename(x.path, &base);
	x.channel = base.data;
	if (!name)
		name = base.data;
	if (!*name || !strcmp(name, "/"))
		return cli_usage_error(&c, "give the mail a name with --stream NAME");
	buf_addf(&stream, "mail:%s", name);
	buf_init(&x.doc, 0);
	buf_init(&x.where, 0);
	x.maildir = maildir;
	ret = cli_import_messages(&c, "mail", x.path, stream.data, run_mail,
				  &x);
	buf_release(&stream);
	buf_release(&base);
	buf_release(&x.doc);
	buf_release(&x.where);
	return ret;
}
