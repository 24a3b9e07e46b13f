#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "events.h"
#include "ltime.h"
#include "xalloc.h"
#include "banned.h"

static const char usage[] =
	"usage: labtape sessions [--vault DIR] [--passphrase-file FILE]\n"
	"\n"
	"Lists the recorded terminal sessions (labtape shell, labtape import\n"
	"cast), one a line, oldest first:\n"
	"\n"
	"  ID  START (UTC)  DURATION  OUTPUT SIZE  EXIT  TITLE OR COMMAND\n"
	"\n"
	"  4f2a09c1  2026-11-26 19:00:00     12m04s   1.3 MiB  exit 0  make train\n"
	"\n"
	"EXIT is 'exit N', 'signal N', 'ended' when the end carries no status\n"
	"(imported casts), or '-' when no end was recorded (still running, or\n"
	"cut off). 'labtape export cast --session ID' writes one\n"
	"for asciinema.\n";

struct session {
	char *stream;		/* "term:<id>" */
	int64_t start, last;
	uint64_t out;		/* bytes of output */
	int ended, status, sig;	/* status, sig: -1 if not recorded */
	char *label;		/* title, else the command; never NULL */
};

struct sessions {
	struct session *v;
	size_t n, alloc;
};

static int by_stream(const void *a, const void *b)
{
	return strcmp(((const struct session *)a)->stream,
		      ((const struct session *)b)->stream);
}

static int by_start(const void *a, const void *b)
{
	const struct session *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcmp(x->stream, y->stream);
}

static struct session *find(struct sessions *s, const char *stream)
{
	struct session key = { 0 };

	key.stream = (char *)stream;
	return bsearch(&key, s->v, s->n, sizeof(*s->v), by_stream);
}

/* The label of a term.start: its title, else its command joined. */
static char *start_label(json_t *data)
{
	json_t *v = json_object_get(data, "title"), *a;
	struct buf b = BUF_INIT;
	size_t i;

	if (json_is_string(v) && json_string_length(v))
		return xstrdup(json_string_value(v));
	json_array_foreach(json_object_get(data, "command"), i, a) {
		if (i)
			buf_addch(&b, ' ');
		if (json_is_string(a))
			buf_addstr(&b, json_string_value(a));
	}
	return buf_detach(&b, NULL);
}

static long long int_field(json_t *data, const char *key)
{
	json_t *v = json_object_get(data, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* Runs one query of kind over all streams, calling fn for each decoded
 * event in a term:* stream. Returns 1 if some records could not be read
 * (warnings printed), -1 on a fatal error (printed), else 0. */
static int scan(struct vault *v, const char *kind,
		void (*fn)(struct sessions *, const struct vault_record *,
			   json_t *),
		struct sessions *s)
{
	struct vault_query q = VAULT_QUERY_INIT;
	struct vault_iter *it;
	struct vault_record rec;
	int r, bad = 0;

	q.kind = kind;
	if (vault_iter_open(&it, v, &q)) {
		cli_error("%s", lt_errmsg());
		return -1;
	}
	while ((r = vault_iter_next(it, &rec)) != 0) {
		json_t *data;
		if (r < 0) {
			cli_error("warning: %s", lt_errmsg());
			bad = 1;
			continue;
		}
		if (strncmp(rec.stream, "term:", 5))
			continue;
		if (ev_decode(ev_kind_find(rec.kind), rec.payload, rec.len,
			      &data)) {
			cli_error("warning: event at %lld in '%s': %s",
				  (long long)rec.t, rec.stream, lt_errmsg());
			bad = 1;
			continue;
		}
		fn(s, &rec, data);
		json_decref(data);
	}
	vault_iter_free(it);
	return bad;
}

static void on_start(struct sessions *s, const struct vault_record *rec,
		     json_t *data)
{
	struct session *e;

	for (size_t i = 0; i < s->n; i++)	/* one start per session */
		if (!strcmp(s->v[i].stream, rec->stream))
			return;
	XGROW(s->v, s->n + 1, s->alloc);
	e = &s->v[s->n++];
	memset(e, 0, sizeof(*e));
	e->stream = xstrdup(rec->stream);
	e->start = e->last = rec->t;
	e->status = e->sig = -1;
	e->label = start_label(data);
}

static void on_end(struct sessions *s, const struct vault_record *rec,
		   json_t *data)
{
	struct session *e = find(s, rec->stream);

	if (!e || e->ended)
		return;
	e->ended = 1;
	e->status = (int)int_field(data, "status");
	e->sig = (int)int_field(data, "signal");
	if (rec->t > e->last)
		e->last = rec->t;
}

static void on_out(struct sessions *s, const struct vault_record *rec,
		   json_t *data)
{
	struct session *e = find(s, rec->stream);
	json_t *d = json_object_get(data, "data");
	size_t n = json_string_length(d);

	if (!e)
		return;
	/* Canonical base64: 4 characters per 3 bytes, '=' padding. */
	if (n >= 4)
		e->out += n / 4 * 3 - (json_string_value(d)[n - 1] == '=') -
			  (json_string_value(d)[n - 2] == '=');
	if (rec->t > e->last)
		e->last = rec->t;
}

static void format_duration(int64_t ns, char *out, size_t size)
{
	long long s = (long long)(ns / LT_NS_PER_SEC);

	if (s < 60)
		snprintf(out, size, "%.1fs", (double)ns / LT_NS_PER_SEC);
	else if (s < 3600)
		snprintf(out, size, "%lldm%02llds", s / 60, s % 60);
	else
		snprintf(out, size, "%lldh%02lldm%02llds", s / 3600,
			 s / 60 % 60, s % 60);
}

int sessions_print(struct vault *v, FILE *out)
{
	struct sessions s = { NULL, 0, 0 };
	int r, bad = 0;

	r = scan(v, "term.start", on_start, &s);
	if (r >= 0) {
		bad |= r;
		qsort(s.v, s.n, sizeof(*s.v), by_stream);
		r = scan(v, "term.end", on_end, &s);
	}
	if (r >= 0) {
		bad |= r;
		r = scan(v, "term.out", on_out, &s);
	}
	if (r >= 0) {
		bad |= r;
		qsort(s.v, s.n, sizeof(*s.v), by_start);
	}
	for (size_t i = 0; r >= 0 && i < s.n; i++) {
		const struct session *e = &s.v[i];
		char when[LT_TIME_MAX_LEN], dur[32], size[32], st[32];
		struct buf id = BUF_INIT, label = BUF_INIT;
		lt_time_format(e->start, when);
		when[10] = ' ';
		when[19] = '\0';
		format_duration(e->last - e->start, dur, sizeof(dur));
		cli_human_bytes(e->out, size, sizeof(size));
		if (e->sig > 0)
			snprintf(st, sizeof(st), "signal %d", e->sig);
		else if (e->status >= 0)
			snprintf(st, sizeof(st), "exit %d", e->status);
		else if (e->ended)
			snprintf(st, sizeof(st), "ended");
		else
			snprintf(st, sizeof(st), "-");
		/* An imported cast's title is anyone's text: it must not
		 * move the cursor or break the line. */
		ev_format_text(e->stream + 5, strlen(e->stream + 5), 0, &id);
		ev_format_text(e->label, strlen(e->label), 0, &label);
		fprintf(out, "%-8s  %s  %9s  %9s  %-8s  %s\n", id.data,
			when, dur, size, st, label.data);
		buf_release(&id);
		buf_release(&label);
	}
	for (size_t i = 0; i < s.n; i++) {
		free(s.v[i].stream);
		free(s.v[i].label);
	}
	free(s.v);
	return r < 0 || bad;
}

int cmd_sessions(int argc, char **argv)
{
	struct cli c = { "sessions", usage, NULL, NULL };
	struct vault *v = NULL;
	int r;

	if ((r = cli_common_only(&c, argc, argv)) >= 0)
		return r;
	if (cli_open_unlocked(&c, &v))
		return 1;
	r = sessions_print(v, stdout);
	if (fflush(stdout) || ferror(stdout))
		r = cli_error("cannot write the output");
	vault_free(v);
	return r;
}
