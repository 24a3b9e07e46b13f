/*
 * Drive API v3 comments (gdocs.h): what comments.list answers, a page
 *
 *	{"kind": "drive#commentList", "nextPageToken": "...",
 *	 "comments": [{"id", "author": {"displayName", ...}, "content",
 *	   "htmlContent", "createdTime", "modifiedTime", "resolved",
 *	   "deleted", "anchor", "quotedFileContent": {"mimeType", "value"},
 *	   "replies": [{"id", "author", "content", "createdTime",
 *	     "modifiedTime", "action": "resolve"|"reopen", "deleted"}]}]}
 *
 * or several pages in a JSON array. Only "id" and "createdTime" are
 * required; the rest is passed on when present. (A deleted comment keeps
 * its metadata but loses its content.)
 */
#include "gdocs.h"

#include <stdarg.h>
#include <string.h>

#include "error.h"
#include "ltime.h"
#include "banned.h"

struct where {
	const char *name;
	size_t page, npages, comment, reply;
	int in_reply;
};

static int bad(const struct where *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad(const struct where *w, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;
	int r;

	buf_addf(&msg, "%s: ", w->name);
	if (w->npages > 1)
		buf_addf(&msg, "page %zu, ", w->page + 1);
	buf_addf(&msg, "comments[%zu]", w->comment);
	if (w->in_reply)
		buf_addf(&msg, ".replies[%zu]", w->reply);
	buf_addstr(&msg, ": ");
	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	r = lt_error(LT_EINVAL, "%s", msg.data);
	buf_release(&msg);
	return r;
}

/* An optional string member: NULL if absent; an error if not a string. */
static int opt_str(const struct where *w, json_t *o, const char *key,
		   const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return bad(w, "\"%s\" is not a string", key);
	*out = json_string_value(v);
	return 0;
}

static int opt_bool(const struct where *w, json_t *o, const char *key,
		    int *out)
{
	json_t *v = json_object_get(o, key);

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return bad(w, "\"%s\" is not true or false", key);
	*out = json_is_true(v);
	return 0;
}

static int get_time(const struct where *w, json_t *o, const char *key,
		    const char **s, int64_t *ns, int required)
{
	int r;

	if ((r = opt_str(w, o, key, s)))
		return r;
	if (!*s)
		return required ? bad(w, "\"%s\" is missing", key) : 0;
	if (lt_time_parse_rfc3339(*s, ns))
		return bad(w, "\"%s\" is not an RFC 3339 time: '%.40s'", key,
			   *s);
	return 0;
}

/* The fields both comments and replies have. */
static int common(const struct where *w, json_t *o, struct gdocs_comment *c)
{
	json_t *author = json_object_get(o, "author");
	int r;

	if (!json_is_object(o))
		return bad(w, "not an object");
	if ((r = opt_str(w, o, "id", &c->id)))
		return r;
	if (!c->id)
		return bad(w, "\"id\" is missing");
	if (author && !json_is_null(author) && !json_is_object(author))
		return bad(w, "\"author\" is not an object");
	if ((r = opt_str(w, author, "displayName", &c->author)) ||
	    (r = opt_str(w, o, "content", &c->content)) ||
	    (r = opt_bool(w, o, "deleted", &c->deleted)) ||
	    (r = get_time(w, o, "createdTime", &c->created, &c->created_ns,
			  1)) ||
	    (r = get_time(w, o, "modifiedTime", &c->modified,
			  &c->modified_ns, 0)))
		return r;
	if (!c->modified) {
		c->modified = c->created;
		c->modified_ns = c->created_ns;
	}
	return 0;
}

static int reply(struct where *w, json_t *o, const char *comment_id,
		 int (*fn)(void *, const struct gdocs_comment *), void *ctx)
{
	struct gdocs_comment c;
	int r;

	memset(&c, 0, sizeof(c));
	c.is_reply = 1;
	c.comment_id = comment_id;
	if ((r = common(w, o, &c)) || (r = opt_str(w, o, "action", &c.action)))
		return r;
	if (c.action && strcmp(c.action, "resolve") &&
	    strcmp(c.action, "reopen"))
		return bad(w, "\"action\" is '%.20s', not resolve or reopen",
			   c.action);
	c.native = o;
	return fn(ctx, &c);
}

static int comment(struct where *w, json_t *o,
		   int (*fn)(void *, const struct gdocs_comment *), void *ctx)
{
	struct gdocs_comment c;
	json_t *q, *replies, *anchor;
	int r;

	memset(&c, 0, sizeof(c));
	w->in_reply = 0;
	if ((r = common(w, o, &c)) ||
	    (r = opt_bool(w, o, "resolved", &c.resolved)))
		return r;
	q = json_object_get(o, "quotedFileContent");
	if (q && !json_is_null(q) && !json_is_object(q))
		return bad(w, "\"quotedFileContent\" is not an object");
	if ((r = opt_str(w, q, "value", &c.quote)))
		return r;
	anchor = json_object_get(o, "anchor");
	c.anchor = json_is_null(anchor) ? NULL : anchor;
	replies = json_object_get(o, "replies");
	if (replies && !json_is_null(replies) && !json_is_array(replies))
		return bad(w, "\"replies\" is not an array");
	/* The comment's own record; its replies are records of their own. */
	c.native = json_copy(o);
	json_object_del(c.native, "replies");
	r = fn(ctx, &c);
	json_decref(c.native);
	for (size_t i = 0; i < json_array_size(replies) && !r; i++) {
		w->in_reply = 1;
		w->reply = i;
		r = reply(w, json_array_get(replies, i), c.id, fn, ctx);
	}
	w->in_reply = 0;
	return r;
}

static int page(struct where *w, json_t *p,
		int (*fn)(void *, const struct gdocs_comment *), void *ctx)
{
	json_t *list = json_object_get(p, "comments");
	int r = 0;

	if (!json_is_object(p))
		return lt_error(LT_EINVAL, "%s: page %zu: not a comments.list "
				"answer (an object with \"comments\")",
				w->name, w->page + 1);
	if (list && !json_is_null(list) && !json_is_array(list))
		return lt_error(LT_EINVAL, "%s: page %zu: \"comments\" is not "
				"an array", w->name, w->page + 1);
	for (size_t i = 0; i < json_array_size(list) && !r; i++) {
		w->comment = i;
		r = comment(w, json_array_get(list, i), fn, ctx);
	}
	return r;
}

int gdocs_comments_parse(const char *name, const char *data, size_t len,
			 int (*fn)(void *ctx, const struct gdocs_comment *c),
			 void *ctx)
{
	struct where w;
	json_error_t err;
	json_t *root = json_loadb(data, len, JSON_ALLOW_NUL, &err);
	int r = 0;

	if (!root)
		return lt_error(LT_EINVAL, "%s: byte %zu (line %d, column %d): "
				"not JSON: %s", name,
				(size_t)(err.position > 0 ? err.position : 0),
				err.line, err.column, err.text);
	memset(&w, 0, sizeof(w));
	w.name = name;
	if (json_is_array(root)) {
		w.npages = json_array_size(root);
		for (size_t i = 0; i < w.npages && !r; i++) {
			w.page = i;
			r = page(&w, json_array_get(root, i), fn, ctx);
		}
	} else {
		w.npages = 1;
		r = page(&w, root, fn, ctx);
	}
	json_decref(root);
	return r;
}
