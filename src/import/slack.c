/*
 * Slack workspace exports (slack.h, doc/imports.md "slack").
 *
 * A message's id is "CHANNEL_ID/ts" (ts is unique within a channel), or
 * "FOLDER/ts" for a folder that no channels file names. Replies carry
 * thread_ts, the root's ts: thread and reply_to are then the root's id.
 * The ledger key adds edited.ts, so an export made after a message was
 * edited brings the new version in beside the old one.
 *
 * Only the fields used are checked (a wrong type is refused, naming the
 * field); everything else is kept verbatim in native, as Slack wrote it.
 */
#include "slack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "ltime.h"
#include "strmap.h"
#include "xalloc.h"
#include "banned.h"

struct channel {
	char *id, *name;
};

struct slack {
	struct strmap users;	/* user id -> char * name */
	struct strmap folders;	/* folder -> struct channel * */
	struct buf id, unit, tmp;
};

struct slack *slack_new(void)
{
	struct slack *s = xcalloc(1, sizeof(*s));

	buf_init(&s->id, 0);
	buf_init(&s->unit, 0);
	buf_init(&s->tmp, 0);
	return s;
}

void slack_free(struct slack *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->users.size; i++)
		if (s->users.v[i].key)
			free(s->users.v[i].val);
	for (size_t i = 0; i < s->folders.size; i++) {
		struct channel *c = s->folders.v[i].val;
		if (!s->folders.v[i].key)
			continue;
		free(c->id);
		free(c->name);
		free(c);
	}
	strmap_release(&s->users);
	strmap_release(&s->folders);
	buf_release(&s->id);
	buf_release(&s->unit);
	buf_release(&s->tmp);
	free(s);
}

/* Parses p[0..n) as a JSON array; the error names the line and column. */
static int load_array(const char *file, const char *entry, const void *p,
		      size_t n, json_t **out)
{
	json_error_t err;
	json_t *j = json_loadb(p, n, JSON_REJECT_DUPLICATES, &err);

	if (!j)
		return lt_error(LT_EINVAL, "%s: entry %s: line %d, column %d: "
				"%s (not the JSON a Slack export has)", file,
				entry, err.line, err.column, err.text);
	if (!json_is_array(j)) {
		json_decref(j);
		return lt_error(LT_EINVAL, "%s: entry %s: expected a JSON array "
				"(a Slack export's %s)", file, entry,
				slack_is_day(entry) ? "day of messages" : "list");
	}
	*out = j;
	return 0;
}

/* The string member k of o: NULL if absent or null; *bad set if it is
 * there with another type. */
static const char *opt_str(json_t *o, const char *k, int *bad)
{
	json_t *v = json_object_get(o, k);

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		*bad = 1;
		return NULL;
	}
	return json_string_value(v);
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

int slack_read_users(struct slack *s, const char *file, const char *entry,
		     const void *p, size_t n)
{
	json_t *a, *u;
	size_t i;
	int r;

	if ((r = load_array(file, entry, p, n, &a)))
		return r;
	json_array_foreach(a, i, u) {
		json_t *prof = json_object_get(u, "profile");
		const char *id, *name = NULL;
		struct strmap_ent *e;
		int bad = 0;

		id = json_is_object(u) ? opt_str(u, "id", &bad) : NULL;
		if (!id || bad) {
			json_decref(a);
			return lt_error(LT_EINVAL, "%s: entry %s: user %zu: "
					"expected an object with a string \"id\"",
					file, entry, i + 1);
		}
		/* What Slack shows: the display name, else the full name. */
		if (json_is_object(prof))
			name = nonempty(opt_str(prof, "display_name", &bad));
		if (!name && json_is_object(prof))
			name = nonempty(opt_str(prof, "real_name", &bad));
		if (!name)
			name = nonempty(opt_str(u, "real_name", &bad));
		if (!name)
			name = nonempty(opt_str(u, "name", &bad));
		if (bad) {
			r = lt_error(LT_EINVAL, "%s: entry %s: user %zu (%s): "
				     "a name that is not a string", file, entry,
				     i + 1, id);
			json_decref(a);	/* id is a's: after the message */
			return r;
		}
		e = strmap_put(&s->users, id);
		free(e->val);
		e->val = xstrdup(name ? name : id);
	}
	json_decref(a);
	return 0;
}

int slack_read_channels(struct slack *s, const char *file, const char *entry,
			const void *p, size_t n)
{
	int dms = strstr(entry, "dms.json") != NULL;
	json_t *a, *c;
	size_t i;
	int r;

	if ((r = load_array(file, entry, p, n, &a)))
		return r;
	json_array_foreach(a, i, c) {
		const char *id, *name;
		struct strmap_ent *e;
		struct channel *ch;
		int bad = 0;

		id = json_is_object(c) ? opt_str(c, "id", &bad) : NULL;
		name = json_is_object(c) ? opt_str(c, "name", &bad) : NULL;
		if (!id || bad || (!dms && !name)) {
			json_decref(a);
			return lt_error(LT_EINVAL, "%s: entry %s: channel %zu: "
					"expected an object with string \"id\"%s",
					file, entry, i + 1,
					dms ? "" : " and \"name\"");
		}
		e = strmap_put(&s->folders, dms ? id : name);
		if (!e->val)
			e->val = xcalloc(1, sizeof(struct channel));
		ch = e->val;
		free(ch->id);
		free(ch->name);
		ch->id = xstrdup(id);
		ch->name = xstrdup(name ? name : id);
	}
	json_decref(a);
	return 0;
}

int slack_is_day(const char *entry)
{
	const char *slash = strrchr(entry, '/'), *d;

	if (!slash || slash == entry)
		return 0;
	d = slash + 1;
	/* YYYY-MM-DD.json */
	if (strlen(d) != 15 || strcmp(d + 10, ".json"))
		return 0;
	for (int i = 0; i < 10; i++) {
		int dash = i == 4 || i == 7;
		if (dash ? d[i] != '-' : (d[i] < '0' || d[i] > '9'))
			return 0;
	}
	return 1;
}

int slack_ts_parse(const char *s, int64_t *ns)
{
	int64_t sec = 0, frac = 0;
	int nd = 0, nf = 0;

	for (; *s >= '0' && *s <= '9'; s++, nd++) {
		if (nd >= 10)
			return -1;
		sec = sec * 10 + (*s - '0');
	}
	if (!nd || sec >= 9000000000LL)	/* beyond it, ns overflow */
		return -1;
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, nf++) {
			if (nf >= 9)
				return -1;
			frac = frac * 10 + (*s - '0');
		}
		if (!nf)
			return -1;
	}
	if (*s)
		return -1;
	while (nf++ < 9)
		frac *= 10;
	*ns = sec * LT_NS_PER_SEC + frac;
	return 0;
}

/* The folder of a day entry: what is between the last two slashes. */
static void entry_folder(const char *entry, struct buf *out)
{
	const char *end = strrchr(entry, '/'), *start = end;

	while (start > entry && start[-1] != '/')
		start--;
	buf_reset(out);
	buf_add(out, start, (size_t)(end - start));
}

/* files: [{name, type, size, url}] from Slack's file objects. */
static int msg_files(json_t *files, json_t *out, const char **why)
{
	json_t *f;
	size_t i;

	json_array_foreach(files, i, f) {
		json_t *o, *size;
		const char *name, *type, *url;
		int bad = 0;

		if (!json_is_object(f)) {
			*why = "\"files\" holds something that is not an object";
			return -1;
		}
		name = nonempty(opt_str(f, "name", &bad));
		if (!name)
			name = nonempty(opt_str(f, "title", &bad));
		if (!name)
			name = opt_str(f, "id", &bad);
		type = opt_str(f, "mimetype", &bad);
		url = opt_str(f, "url_private", &bad);
		if (!url)
			url = opt_str(f, "permalink", &bad);
		size = json_object_get(f, "size");
		if (bad || (size && !json_is_null(size) &&
			    (!json_is_integer(size) ||
			     json_integer_value(size) < 0))) {
			*why = "a file's name, mimetype, url_private, permalink "
			       "or size has the wrong type";
			return -1;
		}
		o = json_object();
		json_object_set_new(o, "name", json_string(name ? name : ""));
		if (type)
			json_object_set_new(o, "type", json_string(type));
		if (json_is_integer(size))
			json_object_set(o, "size", size);
		if (url)
			json_object_set_new(o, "url", json_string(url));
		json_array_append_new(out, o);
	}
	return 0;
}

/* Who wrote m: the user's name from users.json, else the profile the
 * message carries, else a bot's username, else the user or bot id. */
static const char *msg_from(struct slack *s, json_t *m, const char *user,
			    int *bad)
{
	json_t *prof = json_object_get(m, "user_profile");
	struct strmap_ent *e = user ? strmap_get(&s->users, user) : NULL;
	const char *name = NULL;

	if (e)
		return e->val;
	if (json_is_object(prof)) {
		name = nonempty(opt_str(prof, "display_name", bad));
		if (!name)
			name = nonempty(opt_str(prof, "real_name", bad));
	}
	if (!name)
		name = nonempty(opt_str(m, "username", bad));
	if (!name)
		name = user;
	if (!name)
		name = nonempty(opt_str(m, "bot_id", bad));
	return name;
}

/* Builds message number idx of a day and hands it to fn. */
static int read_msg(struct slack *s, const char *file, const char *entry,
		    const struct channel *ch, const char *folder, json_t *m,
		    size_t idx, slack_msg_fn *fn, void *ctx)
{
	const char *ts, *thread_ts, *user, *text, *from, *why = NULL;
	const char *chan_id = ch ? ch->id : folder;
	json_t *d, *edited = json_object_get(m, "edited"), *files;
	struct slack_msg sm;
	int64_t t, et = 0, tt;
	int bad = 0, r, has_et = 0;
	char when[LT_TIME_MAX_LEN];

	if (!json_is_object(m))
		return lt_error(LT_EINVAL, "%s: entry %s: message %zu: expected "
				"an object", file, entry, idx);
	ts = opt_str(m, "ts", &bad);
	if (!ts || bad || slack_ts_parse(ts, &t))
		return lt_error(LT_EINVAL, "%s: entry %s: message %zu: \"ts\" "
				"is missing or not a Slack timestamp (like "
				"\"1700000000.000100\")", file, entry, idx);
	thread_ts = opt_str(m, "thread_ts", &bad);
	if (bad || (thread_ts && slack_ts_parse(thread_ts, &tt)))
		return lt_error(LT_EINVAL, "%s: entry %s: message %zu (ts %s): "
				"\"thread_ts\" is not a Slack timestamp", file,
				entry, idx, ts);
	user = opt_str(m, "user", &bad);
	text = opt_str(m, "text", &bad);
	if (bad)
		return lt_error(LT_EINVAL, "%s: entry %s: message %zu (ts %s): "
				"\"user\" or \"text\" is not a string", file,
				entry, idx, ts);
	from = msg_from(s, m, user, &bad);
	if (bad)
		return lt_error(LT_EINVAL, "%s: entry %s: message %zu (ts %s): "
				"a user_profile name, \"username\" or \"bot_id\" "
				"is not a string", file, entry, idx, ts);
	if (edited && !json_is_null(edited)) {
		const char *ets = json_is_object(edited) ?
				  opt_str(edited, "ts", &bad) : NULL;
		if (!ets || bad || slack_ts_parse(ets, &et))
			return lt_error(LT_EINVAL, "%s: entry %s: message %zu "
					"(ts %s): \"edited\" is not {\"user\", "
					"\"ts\"} with a Slack timestamp", file,
					entry, idx, ts);
		has_et = 1;
	}

	buf_reset(&s->id);
	buf_addf(&s->id, "%s/%s", chan_id, ts);
	d = json_object();
	json_object_set_new(d, "id", json_string(s->id.data));
	if (thread_ts && strcmp(thread_ts, ts)) {
		buf_reset(&s->tmp);
		buf_addf(&s->tmp, "%s/%s", chan_id, thread_ts);
		json_object_set_new(d, "thread", json_string(s->tmp.data));
		json_object_set_new(d, "reply_to", json_string(s->tmp.data));
	}
	buf_reset(&s->tmp);
	buf_addf(&s->tmp, "#%s", ch ? ch->name : folder);
	json_object_set_new(d, "channel", json_string(s->tmp.data));
	if (from)
		json_object_set_new(d, "from", json_string(from));
	json_object_set_new(d, "text", json_string(text ? text : ""));
	json_object_set_new(d, "format", json_string("markdown"));
	files = json_object_get(m, "files");
	if (files && !json_is_null(files)) {
		json_t *out = json_array();
		if (!json_is_array(files))
			why = "\"files\" is not an array";
		else
			msg_files(files, out, &why);
		if (why) {
			json_decref(out);
			json_decref(d);
			return lt_error(LT_EINVAL, "%s: entry %s: message %zu "
					"(ts %s): %s", file, entry, idx, ts, why);
		}
		if (json_array_size(out))
			json_object_set_new(d, "files", out);
		else
			json_decref(out);
	}
	buf_reset(&s->unit);
	buf_addstr(&s->unit, s->id.data);
	if (has_et) {
		lt_time_format(et, when);
		json_object_set_new(d, "edited", json_string(when));
		buf_addf(&s->unit, "@%s", json_string_value(
				 json_object_get(edited, "ts")));
	}
	json_object_set_new(d, "source", json_string("slack"));
	json_object_set(d, "native", m);

	sm.t = t;
	sm.unit = s->unit.data;
	sm.data = d;
	sm.index = idx;
	r = fn(ctx, &sm);
	json_decref(d);
	return r;
}

int slack_read_day(struct slack *s, const char *file, const char *entry,
		   const void *p, size_t n, slack_msg_fn *fn, void *ctx)
{
	struct buf folder = BUF_INIT;
	struct strmap_ent *e;
	json_t *a, *m;
	size_t i;
	int r;

	if ((r = load_array(file, entry, p, n, &a)))
		return r;
	entry_folder(entry, &folder);
	e = strmap_get(&s->folders, folder.data);
	json_array_foreach(a, i, m) {
		if ((r = read_msg(s, file, entry, e ? e->val : NULL,
				  folder.data, m, i + 1, fn, ctx)))
			break;
	}
	json_decref(a);
	buf_release(&folder);
	return r;
}
