/*
 * The conversations dataset: threads of Slack messages, mails and
 * comments on documents as JSON lines of turns (doc/exports.md,
 * "conversations").
 *
 * A thread is only complete once the whole selection has been read (a
 * reply can come years after its root), so every turn is kept in memory
 * until conv_finish(). There the threads are put in order (first turn's
 * time, then key), Slack's loose channel messages are cut into
 * conversations by time gaps, speakers are numbered in order of first
 * appearance over that order, and each thread is redacted with its own
 * placeholder map and written out. Nothing depends on the hash tables'
 * layout, so the same vault gives the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dataset.h"
#include "error.h"
#include "ltime.h"
#include "redact.h"
#include "strmap.h"
#include "xalloc.h"
#include "banned.h"

struct turn {
	int64_t t;
	char *id;		/* message or comment id, for replies and edits */
	char *speaker;		/* the speaker's key */
	char *text;
	size_t text_len;
	char *reply_to;		/* id of the turn it answers */
	char *edited;		/* RFC 3339 of the version kept */
	int deleted;
};

struct thread {
	char *key;		/* scope and root id: unique in the export */
	char *root;		/* the root message's id */
	char *source, *stream, *channel, *doc, *subject;
	int is_comment, chat;	/* chat: Slack, whose loose messages merge */
	struct turn *v;
	size_t n, alloc;
	int64_t t0;		/* the first turn's time */
};

struct conversations {
	struct conv_opts o;
	struct redactor *r;
	uint8_t key[32];
	conv_emit_fn *emit;
	void *ctx;
	struct strmap threads;	/* key -> struct thread * */
	struct strmap speakers;	/* speaker key -> (void *)number */
	unsigned nspeakers;
	struct buf line, tmp, red;
	struct conv_stats st;
};

void conv_opts_init(struct conv_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->since = INT64_MIN;
	o->until = INT64_MAX;
	o->min_turns = 2;
	o->chat_gap_ns = 30 * 60 * LT_NS_PER_SEC;
}

struct conversations *conv_new(const struct conv_opts *o,
			       const uint8_t id_key[32], conv_emit_fn *emit,
			       void *ctx)
{
	struct conversations *x = xcalloc(1, sizeof(*x));

	x->o = *o;
	memcpy(x->key, id_key, 32);
	x->emit = emit;
	x->ctx = ctx;
	buf_init(&x->line, 1 << 14);
	buf_init(&x->tmp, 0);
	buf_init(&x->red, 0);
	return x;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static struct thread *thread_get(struct conversations *x, const char *key,
				 const struct conv_rec *e, const char *root)
{
	struct strmap_ent *ent = strmap_put(&x->threads, key);
	struct thread *th = ent->val;

	if (th)
		return th;
	th = xcalloc(1, sizeof(*th));
	th->key = xstrdup(key);
	th->root = xstrdup(root);
	th->source = dup_or_null(e->source);
	th->stream = dup_or_null(e->stream);
	th->channel = dup_or_null(e->channel);
	th->doc = dup_or_null(e->doc);
	th->is_comment = e->is_comment;
	th->chat = !e->is_comment && e->source && !strcmp(e->source, "slack");
	ent->val = th;
	return th;
}

static struct turn *turn_find(struct thread *th, const char *id)
{
	for (size_t i = 0; id && i < th->n; i++)
		if (th->v[i].id && !strcmp(th->v[i].id, id))
			return &th->v[i];
	return NULL;
}

static void turn_set_text(struct turn *u, const struct conv_rec *e)
{
	free(u->text);
	u->text = xmemdup(e->text ? e->text : "", e->text_len + 1);
	u->text[e->text_len] = 0;
	u->text_len = e->text_len;
}

static struct turn *turn_add(struct thread *th, const struct conv_rec *e,
			     const char *reply_to)
{
	struct turn *u;

	XGROW(th->v, th->n + 1, th->alloc);
	u = &th->v[th->n++];
	memset(u, 0, sizeof(*u));
	u->t = e->t;
	u->id = dup_or_null(e->id);
	u->speaker = xstrdup(e->speaker ? e->speaker : "");
	u->reply_to = dup_or_null(reply_to);
	u->edited = dup_or_null(e->edited);
	turn_set_text(u, e);
	return u;
}

static int feed_message(struct conversations *x, const struct conv_rec *e)
{
	const char *root = e->thread ? e->thread : e->id;
	int mail = e->source && !strcmp(e->source, "mail");
	struct thread *th;
	struct turn *u;

	/* Mail threads cross folders (the inbox and the sent box), so they
	 * are scoped by the source; a chat's ids by its workspace. */
	buf_reset(&x->tmp);
	buf_addf(&x->tmp, "m\037%s\037%s", mail ? "mail" : e->stream, root);
	th = thread_get(x, x->tmp.data, e, root);
	if (e->subject && (!th->subject || !strcmp(e->id, root))) {
		free(th->subject);
		th->subject = xstrdup(e->subject);
	}
	if (!th->channel && e->channel)
		th->channel = xstrdup(e->channel);
	if ((u = turn_find(th, e->id))) {
		/* The same message again: an edited version replaces the
		 * text if it is later; a copy (a mail in two folders) adds
		 * nothing. */
		if (e->edited && (!u->edited || strcmp(e->edited, u->edited) > 0)) {
			turn_set_text(u, e);
			free(u->edited);
			u->edited = xstrdup(e->edited);
			x->st.versions++;
		} else {
			x->st.duplicates++;
		}
		return 0;
	}
	turn_add(th, e, e->reply_to);
	x->st.turns++;
	return 0;
}

static int feed_comment(struct conversations *x, const struct conv_rec *e)
{
	const char *root = e->parent ? e->parent : e->id;
	const char *a = e->action ? e->action : "";
	struct thread *th;
	struct turn *u;

	buf_reset(&x->tmp);
	buf_addf(&x->tmp, "c\037%s\037%s", e->doc ? e->doc : "", root);
	th = thread_get(x, x->tmp.data, e, root);
	if (e->quote && !th->subject)
		th->subject = xstrdup(e->quote);
	u = turn_find(th, e->id);
	if (!strcmp(a, "delete")) {
		if (u)
			u->deleted = 1;
		return 0;
	}
	if (!strcmp(a, "edit") && u) {
		turn_set_text(u, e);
		x->st.versions++;
		return 0;
	}
	/* Resolving or reopening says something only with words. */
	if ((!strcmp(a, "resolve") || !strcmp(a, "reopen")) &&
	    (!e->text || !e->text_len))
		return 0;
	if (u && strcmp(a, "resolve") && strcmp(a, "reopen")) {
		turn_set_text(u, e);
		x->st.duplicates++;
		return 0;
	}
	turn_add(th, e, e->parent);
	x->st.turns++;
	return 0;
}

int conv_feed(struct conversations *x, const struct conv_rec *e)
{
	if (!e->id || (e->is_comment && !e->doc))
		return 0;
	if (e->t < x->o.since || e->t >= x->o.until)
		return 0;
	x->st.records++;
	return e->is_comment ? feed_comment(x, e) : feed_message(x, e);
}

/* ---- Finishing ---------------------------------------------------------- */

static int cmp_turn(const void *a, const void *b)
{
	const struct turn *p = a, *q = b;

	if (p->t != q->t)
		return p->t < q->t ? -1 : 1;
	return strcmp(p->id ? p->id : "", q->id ? q->id : "");
}

static int cmp_thread(const void *a, const void *b)
{
	const struct thread *p = *(struct thread *const *)a;
	const struct thread *q = *(struct thread *const *)b;

	if (p->t0 != q->t0)
		return p->t0 < q->t0 ? -1 : 1;
	return strcmp(p->key, q->key);
}

static void turn_free(struct turn *u)
{
	free(u->id);
	free(u->speaker);
	free(u->text);
	free(u->reply_to);
	free(u->edited);
}

static void thread_free(struct thread *th)
{
	for (size_t i = 0; i < th->n; i++)
		turn_free(&th->v[i]);
	free(th->v);
	free(th->key);
	free(th->root);
	free(th->source);
	free(th->stream);
	free(th->channel);
	free(th->doc);
	free(th->subject);
	free(th);
}

/* Drops deleted turns, puts the rest in time order, sets t0. */
static void thread_tidy(struct thread *th)
{
	size_t k = 0;

	for (size_t i = 0; i < th->n; i++) {
		if (th->v[i].deleted)
			turn_free(&th->v[i]);
		else
			th->v[k++] = th->v[i];
	}
	th->n = k;
	qsort(th->v, th->n, sizeof(*th->v), cmp_turn);
	th->t0 = th->n ? th->v[0].t : INT64_MAX;
}

/* A chat thread that is one message and not a reply: a loose message of
 * its channel, to be joined with its neighbours in time. */
static int loose(const struct thread *th)
{
	return th->chat && th->n == 1 && th->v[0].id &&
	       !strcmp(th->v[0].id, th->root) && !th->v[0].reply_to;
}

/* Orders by workspace and channel: 0 if both are the same. */
static int cmp_scope(const struct thread *p, const struct thread *q)
{
	int c = strcmp(p->stream ? p->stream : "", q->stream ? q->stream : "");

	return c ? c : strcmp(p->channel ? p->channel : "",
			      q->channel ? q->channel : "");
}

static int cmp_loose(const void *a, const void *b)
{
	int c = cmp_scope(*(struct thread *const *)a, *(struct thread *const *)b);

	return c ? c : cmp_thread(a, b);
}

/* Joins loose chat messages of a channel closer than chat_gap_ns into
 * one thread each run; v[0..*n) becomes the new list. */
static void merge_loose(struct conversations *x, struct thread **v, size_t *n)
{
	size_t k = 0, nl = 0;
	struct thread **l = xmalloc((*n + 1) * sizeof(*l));

	for (size_t i = 0; i < *n; i++) {
		if (loose(v[i]))
			l[nl++] = v[i];
		else
			v[k++] = v[i];
	}
	qsort(l, nl, sizeof(*l), cmp_loose);
	for (size_t i = 0; i < nl;) {
		struct thread *head = l[i];
		size_t j = i + 1;

		while (j < nl && !cmp_scope(head, l[j]) &&
		       l[j]->t0 - head->v[head->n - 1].t < x->o.chat_gap_ns) {
			XGROW(head->v, head->n + 1, head->alloc);
			head->v[head->n++] = l[j]->v[0];
			l[j]->n = 0;
			thread_free(l[j]);
			j++;
		}
		if (head->n > 1)
			x->st.chat_runs++;
		v[k++] = head;
		i = j;
	}
	free(l);
	*n = k;
}

static unsigned speaker_num(struct conversations *x, const char *key)
{
	struct strmap_ent *e = strmap_put(&x->speakers, key);

	if (!e->val)
		e->val = (void *)(uintptr_t)++x->nspeakers;
	return (unsigned)(uintptr_t)e->val;
}

/* Slack mentions, <@U123> or <@U123|name>, name a speaker by the key the
 * speakers are known by: they become <@speaker-N> (<@someone> for a
 * user who never speaks), so that no user id or name is left. */
static void mentions(struct conversations *x, const char *s, size_t n,
		     struct buf *out)
{
	size_t i = 0;

	buf_reset(out);
	while (i < n) {
		const char *m = memchr(s + i, '<', n - i), *close = NULL;
		struct strmap_ent *e;
		size_t a, j, k;
		char key[64];

		if (!m) {
			buf_add(out, s + i, n - i);
			break;
		}
		a = (size_t)(m - s);
		buf_add(out, s + i, a - i);
		j = k = a + 2;
		while (k < n && ((s[k] >= 'A' && s[k] <= 'Z') ||
				 (s[k] >= '0' && s[k] <= '9')))
			k++;
		if (a + 1 >= n || s[a + 1] != '@' || k == j || k >= n ||
		    k - j >= sizeof(key) || (s[k] != '>' && s[k] != '|') ||
		    !(close = memchr(s + k, '>', n - k))) {
			buf_addch(out, '<');
			i = a + 1;
			continue;
		}
		memcpy(key, s + j, k - j);
		key[k - j] = 0;
		if ((e = strmap_get(&x->speakers, key)))
			buf_addf(out, "<@speaker-%u>", (unsigned)(uintptr_t)e->val);
		else
			buf_addstr(out, "<@someone>");
		i = (size_t)(close - s) + 1;
	}
}

/* s redacted with the thread's map, as a JSON string (or null). */
static void put_text(struct conversations *x, const char *s, size_t n,
		     int chat)
{
	struct buf *l = &x->line;

	if (!s) {
		buf_addstr(l, "null");
		return;
	}
	if (chat) {
		mentions(x, s, n, &x->tmp);
		s = x->tmp.data;
		n = x->tmp.len;
	}
	if (x->r) {
		buf_reset(&x->red);
		redact_text(x->r, s, n, &x->red);
		s = x->red.data;
		n = x->red.len;
	}
	ds_json_str(l, s, n);
}

static int emit_thread(struct conversations *x, struct thread *th)
{
	struct buf *l = &x->line;
	struct redact_doc *rd = x->r ? redact_doc_new() : NULL;
	const char *split = th->is_comment && th->doc ? th->doc : th->key;
	const char *ch = th->channel;
	uint8_t h[16];
	char hex[33], when[LT_TIME_MAX_LEN];
	size_t nturns = 0;
	int r;

	crypto_generichash(h, sizeof(h), (const uint8_t *)th->key,
			   strlen(th->key), x->key, sizeof(x->key));
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	if (rd)
		redact_swap_doc(x->r, rd);
	buf_reset(l);
	buf_addf(l, "{\"id\":\"%s\",\"source\":", hex);
	ds_json_str(l, th->source ? th->source : "",
		    th->source ? strlen(th->source) : 0);
	/* A group DM's name lists its members' user names. */
	if (ch && !strncmp(ch, "#mpdm-", 6))
		ch = "#mpdm";
	buf_addstr(l, ",\"channel\":");
	put_text(x, ch, ch ? strlen(ch) : 0, 0);
	buf_addstr(l, ",\"doc\":");
	if (th->doc)
		ds_json_str(l, th->doc, strlen(th->doc));
	else
		buf_addstr(l, "null");
	buf_addstr(l, ",\"subject\":");
	put_text(x, th->subject, th->subject ? strlen(th->subject) : 0,
		 th->chat);
	buf_addstr(l, ",\"turns\":[");
	for (size_t i = 0; i < th->n; i++) {
		const struct turn *u = &th->v[i];

		if (i)
			buf_addch(l, ',');
		lt_time_format(u->t, when);
		buf_addf(l, "{\"t\":\"%s\",\"speaker\":\"speaker-%u\",\"text\":",
			 when, speaker_num(x, u->speaker));
		put_text(x, u->text, u->text_len, th->chat);
		for (size_t j = 0; u->reply_to && j < i; j++) {
			if (th->v[j].id && !strcmp(th->v[j].id, u->reply_to)) {
				buf_addf(l, ",\"reply_to\":%zu", j);
				break;
			}
		}
		buf_addch(l, '}');
		nturns++;
	}
	buf_addstr(l, "]}");
	if (rd) {
		redact_swap_doc(x->r, rd);
		redact_doc_free(rd);
	}
	if ((r = x->emit(x->ctx, split, l->data, l->len)) < 0)
		return r;
	x->st.threads++;
	x->st.turns_out += nturns;
	return 0;
}

int conv_finish(struct conversations *x, struct redactor *r)
{
	struct thread **v = xmalloc((x->threads.n + 1) * sizeof(*v));
	size_t n = 0, k = 0;
	int ret = 0;

	for (size_t i = 0; i < x->threads.size; i++) {
		if (!x->threads.v[i].key)
			continue;
		thread_tidy(x->threads.v[i].val);
		v[n++] = x->threads.v[i].val;
	}
	strmap_release(&x->threads);
	x->r = r;
	merge_loose(x, v, &n);
	qsort(v, n, sizeof(*v), cmp_thread);
	for (size_t i = 0; i < n; i++) {
		if (v[i]->n < x->o.min_turns) {
			x->st.short_threads++;
			thread_free(v[i]);
			continue;
		}
		v[k++] = v[i];
	}
	/* Numbers first, in order of appearance, so that a mention of
	 * someone who speaks later gets their number too. */
	for (size_t i = 0; i < k; i++)
		for (size_t j = 0; j < v[i]->n; j++)
			speaker_num(x, v[i]->v[j].speaker);
	x->st.speakers = x->nspeakers;
	for (size_t i = 0; i < k; i++) {
		if (!ret)
			ret = emit_thread(x, v[i]);
		thread_free(v[i]);
	}
	free(v);
	x->r = NULL;
	return ret;
}

const struct conv_stats *conv_get_stats(const struct conversations *x)
{
	return &x->st;
}

void conv_free(struct conversations *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->threads.size; i++)
		if (x->threads.v[i].key)
			thread_free(x->threads.v[i].val);
	strmap_release(&x->threads);
	strmap_release(&x->speakers);
	buf_release(&x->line);
	buf_release(&x->tmp);
	buf_release(&x->red);
	free(x);
}
