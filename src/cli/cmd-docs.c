/*
 * labtape docs: the documents in the vault, whatever recorded or imported
 * them: every doc id of the edit.op and fs.blob events, with its stream,
 * its number of versions and where it is now.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "error.h"
#include "events.h"
#include "strmap.h"
#include "xalloc.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape docs [--json] [--stream STREAM] [--vault DIR]\n"
	"                    [--passphrase-file FILE]\n"
	"\n"
	"Lists the documents in the vault (files recorded by 'labtape record',\n"
	"files imported from git, ...), one a line, by stream then id:\n"
	"\n"
	"  DOC  STREAM  VERSIONS  PATH\n"
	"\n"
	"VERSIONS counts the versions recorded: one per save, commit or\n"
	"revision (the events of one group). PATH is where the document is\n"
	"after its last event, followed by '(deleted)' if that event deleted\n"
	"it. 'labtape history PATH' (or 'labtape history git:NAME:PATH') shows\n"
	"the versions.\n"
	"\n"
	"  --json           one JSON object a line: doc, stream, versions,\n"
	"                   path, deleted\n"
	"  --stream STREAM  only the documents of STREAM (fs:<folder>, git:NAME)\n";

struct doc {
	char *id;
	char *stream;
	struct strmap groups;	/* the versions: group (or time) -> 1 */
	char *path;		/* after its last event, or NULL */
	int64_t last_seq, last_t;
	int deleted;
};

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void see(struct strmap *docs, const struct vault_record *rec,
		const json_t *d)
{
	const char *id = jstr(d, "doc"), *group = jstr(d, "group");
	const char *path = jstr(d, "path"), *op = jstr(d, "op");
	const json_t *detail = json_object_get(d, "detail");
	const char *action = jstr(detail, "action");
	json_int_t seq = json_integer_value(json_object_get(d, "seq"));
	struct strmap_ent *e;
	struct doc *x;
	char key[32];

	if (!id)
		return;
	e = strmap_put(docs, id);
	if (!e->val) {
		x = xcalloc(1, sizeof(*x));
		x->id = xstrdup(id);
		x->stream = xstrdup(rec->stream);
		x->last_seq = -1;
		e->val = x;
	}
	x = e->val;
	if (!group) {
		snprintf(key, sizeof(key), "t:%lld", (long long)rec->t);
		group = key;
	}
	strmap_put(&x->groups, group)->val = (void *)1;
	if (seq < x->last_seq || (seq == x->last_seq && rec->t < x->last_t))
		return;
	x->last_seq = seq;
	x->last_t = rec->t;
	x->deleted = 0;
	if (op && !strcmp(op, "structural") && action && !strcmp(action, "rename") &&
	    jstr(detail, "to"))
		path = jstr(detail, "to");
	else if (op && !strcmp(op, "structural") && action &&
		 !strcmp(action, "delete") && !json_object_get(detail, "index"))
		x->deleted = 1;
	if (path) {
		free(x->path);
		x->path = xstrdup(path);
	}
}

static int scan(struct vault *v, const char *stream, const char *kind,
		struct strmap *docs)
{
	const struct ev_kind *k = ev_kind_find(kind);
	struct vault_query q = VAULT_QUERY_INIT;
	struct vault_iter *it;
	struct vault_record rec;
	int r;

	q.stream = stream;
	q.kind = kind;
	if ((r = vault_iter_open(&it, v, &q)) < 0)
		return cli_error("%s", lt_errmsg());
	while ((r = vault_iter_next(it, &rec)) != 0) {
		json_t *d = NULL;
		if (r < 0 || ev_decode(k, rec.payload, rec.len, &d) < 0) {
			cli_error("warning: %s", lt_errmsg());
			continue;
		}
		see(docs, &rec, d);
		json_decref(d);
	}
	vault_iter_free(it);
	return 0;
}

static int by_stream_doc(const void *a, const void *b)
{
	const struct doc *x = *(const struct doc *const *)a;
	const struct doc *y = *(const struct doc *const *)b;
	int c = strcmp(x->stream, y->stream);

	return c ? c : strcmp(x->id, y->id);
}

static void print(struct doc **v, size_t n, int json)
{
	int wd = 3, ws = 6;
	struct buf line = BUF_INIT;
	/* Ids, streams and paths are anyone's names (an imported
	 * repository's files, a pad's name): shown, they must not reach the
	 * terminal as controls. shown[2i], shown[2i+1]: doc i's id, stream. */
	struct buf *shown = xcalloc(2 * n + 1, sizeof(*shown));

	for (size_t i = 0; i < n; i++) {
		buf_init(&shown[2 * i], 0);
		buf_init(&shown[2 * i + 1], 0);
		ev_format_text(v[i]->id, strlen(v[i]->id), 0, &shown[2 * i]);
		ev_format_text(v[i]->stream, strlen(v[i]->stream), 0,
			       &shown[2 * i + 1]);
		if ((int)shown[2 * i].len > wd)
			wd = (int)shown[2 * i].len;
		if ((int)shown[2 * i + 1].len > ws)
			ws = (int)shown[2 * i + 1].len;
	}
	if (!json)
		printf("%-*s  %-*s  %8s  %s\n", wd, "DOC", ws, "STREAM",
		       "VERSIONS", "PATH");
	for (size_t i = 0; i < n; i++) {
		const struct doc *d = v[i];
		buf_reset(&line);
		if (json) {
			json_t *o = json_pack("{s:s, s:s, s:I, s:s?, s:b}",
					      "doc", d->id, "stream", d->stream,
					      "versions", (json_int_t)d->groups.n,
					      "path", d->path, "deleted",
					      d->deleted);
			char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
			buf_addstr(&line, s);
			free(s);
			json_decref(o);
		} else {
			buf_addf(&line, "%-*s  %-*s  %8zu  ", wd,
				 shown[2 * i].data, ws, shown[2 * i + 1].data,
				 d->groups.n);
			if (d->path)
				ev_format_text(d->path, strlen(d->path), 0, &line);
			else
				buf_addch(&line, '-');
			if (d->deleted)
				buf_addstr(&line, " (deleted)");
		}
		buf_addch(&line, '\n');
		fwrite(line.data, 1, line.len, stdout);
	}
	for (size_t i = 0; i < 2 * n; i++)
		buf_release(&shown[i]);
	free(shown);
	buf_release(&line);
}

int cmd_docs(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "json", no_argument, NULL, 'j' },
		{ "stream", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { "docs", usage, NULL, NULL };
	struct strmap docs = STRMAP_INIT;
	struct vault *v = NULL;
	struct doc **list = NULL;
	const char *stream = NULL;
	size_t n = 0;
	int opt, r, json = 0;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = 1; break;
		case 's': stream = optarg; break;
		default:
			if ((r = cli_common_opt(&c, opt)) >= 0)
				return r;
		}
	}
	if (optind < argc)
		return cli_usage_error(&c, "unexpected argument '%s'",
				       argv[optind]);
	if (cli_open_unlocked(&c, &v))
		return 1;
	r = scan(v, stream, "edit.op", &docs) || scan(v, stream, "fs.blob", &docs);
	if (!r) {
		list = xcalloc(docs.n ? docs.n : 1, sizeof(*list));
		for (size_t i = 0; i < docs.size; i++)
			if (docs.v[i].key)
				list[n++] = docs.v[i].val;
		qsort(list, n, sizeof(*list), by_stream_doc);
		print(list, n, json);
		if (fflush(stdout) != 0 || ferror(stdout))
			r = cli_error("cannot write the output");
	}
	for (size_t i = 0; i < docs.size; i++) {
		struct doc *d = docs.v[i].val;
		if (!docs.v[i].key)
			continue;
		free(d->id);
		free(d->stream);
		free(d->path);
		strmap_release(&d->groups);
		free(d);
	}
	free(list);
	strmap_release(&docs);
	vault_free(v);
	return r;
}
