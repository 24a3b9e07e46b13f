/*
 * Published posts as JSONL (posts.h).
 *
 * NOTES
 *
 *  1. Field names: the alignment research dataset's (StampyAI's
 *     Article.to_dict: id, source, source_type, title, url, text,
 *     date_published, authors, modified_at) and plain ones (date,
 *     format, author, body), first found wins. "n/a", "" and null mean
 *     absent, as the dataset writes them.
 *  2. A post's hash covers what a reader sees (title, URL, authors,
 *     date, text) but not its comments, which the importer keeps apart:
 *     a new comment is not a new version of the post.
 *  3. A comment without an id gets one from what does not change when
 *     it is edited: its parent's id, its author and its date (a second
 *     comment with all three the same gets "-2", and so on). Its hash
 *     covers author, date and text, so an edited comment is a new unit.
 *  4. Nesting deeper than POSTS_MAX_DEPTH is refused (the recursion is
 *     bounded; jansson stops at 2048 levels anyway).
 */
#include "posts.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "error.h"
#include "hex.h"
#include "ltime.h"
#include "strmap.h"
#include "xalloc.h"
#include "banned.h"

#define POSTS_MAX_DEPTH 100

/* Everything one post's callback needs, freed after it. */
struct parse {
	const char *file;
	size_t line;
	struct post p;
	size_t alloc;
	struct strmap ids;	/* comment ids of the post */
	char **strs;		/* strings made for the post */
	size_t nstrs, astrs;
};

static int perr(struct parse *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int perr(struct parse *x, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	int r;

	buf_init(&b, 0);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	r = lt_error(LT_EINVAL, "%s: line %zu: %s", x->file, x->line, b.data);
	buf_release(&b);
	return r;
}

static const char *keep(struct parse *x, char *s)
{
	XGROW(x->strs, x->nstrs + 1, x->astrs);
	x->strs[x->nstrs++] = s;
	return s;
}

/* A present string (note 1): NULL for absent, null, "", "n/a". */
static const char *str_of(const json_t *v)
{
	const char *s = json_string_value(v);

	if (!s || !*s || !strcmp(s, "n/a"))
		return NULL;
	return s;
}

/* The first of names that obj has, or NULL. */
static json_t *field(const json_t *obj, const char *const *names)
{
	for (; *names; names++) {
		json_t *v = json_object_get(obj, *names);
		if (v && !json_is_null(v))
			return v;
	}
	return NULL;
}

/* A field that must be a string if present; *out NULL if absent. */
static int str_field(struct parse *x, const json_t *obj, const char *where,
		     const char *const *names, const char **out)
{
	json_t *v = field(obj, names);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return perr(x, "%s%s: not a string", where, names[0]);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return perr(x, "%s%s: holds a NUL character", where, names[0]);
	*out = str_of(v);
	return 0;
}

/* An id: a string or an integer, as a string. */
static int id_field(struct parse *x, const json_t *obj, const char *where,
		    const char *const *names, const char **out)
{
	json_t *v = field(obj, names);

	if (json_is_integer(v)) {
		char *s = xmalloc(24);
		snprintf(s, 24, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		*out = keep(x, s);
		return 0;
	}
	return str_field(x, obj, where, names, out);
}

static int is_date_only(const char *s)
{
	for (int i = 0; i < 10; i++) {
		if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
			return 0;
	}
	return s[10] == '\0';
}

/* RFC 3339, a bare date, or a date and time without a zone (as UTC). */
static int parse_date(const char *s, int64_t *out)
{
	char tmp[64];

	if (!lt_time_parse_rfc3339(s, out))
		return 0;
	if (is_date_only(s))
		return lt_time_parse(s, out);
	if (strlen(s) < sizeof(tmp) - 1) {
		snprintf(tmp, sizeof(tmp), "%sZ", s);
		if (!lt_time_parse_rfc3339(tmp, out))
			return 0;
	}
	return LT_EINVAL;
}

static int date_field(struct parse *x, const json_t *obj, const char *where,
		      const char *const *names, int64_t *t, int *has,
		      const char **raw)
{
	const char *s;
	int r;

	*has = 0;
	if ((r = str_field(x, obj, where, names, &s)))
		return r;
	if (raw)
		*raw = s;
	if (!s)
		return 0;
	if (parse_date(s, t))
		return perr(x, "%s%s: '%.64s' is not an RFC 3339 time "
			    "(2024-05-01T12:00:00Z) or a date (2024-05-01)",
			    where, names[0], s);
	*has = 1;
	return 0;
}

/* 16 hex digits of BLAKE2b over parts, each ended by a NUL. */
static const char *hash_of(struct parse *x, const char *const *parts,
			   const size_t *lens, size_t n)
{
	crypto_generichash_state st;
	unsigned char h[16];
	char *hex = xmalloc(33);

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	for (size_t i = 0; i < n; i++) {
		const char *p = parts[i] ? parts[i] : "";
		crypto_generichash_update(&st, (const unsigned char *)p,
					  lens ? lens[i] : strlen(p));
		crypto_generichash_update(&st, (const unsigned char *)"", 1);
	}
	crypto_generichash_final(&st, h, sizeof(h));
	lt_hex(h, 8, hex);
	return keep(x, hex);
}

/* -- The format of a text ------------------------------------------------- */

static const char *const html_tags[] = {
	"p", "div", "br", "a", "span", "em", "strong", "b", "i", "li", "ul",
	"ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code",
	"table", "tr", "td", "th", "img", "hr", "sup", "sub", "figure", NULL,
};

/* Whether s[0..n) (after '<' or "</") names a tag of html_tags. */
static int is_tag(const char *s, size_t n)
{
	for (const char *const *t = html_tags; *t; t++) {
		size_t k = strlen(*t);
		if (n > k && !strncasecmp(s, *t, k) &&
		    (s[k] == '>' || s[k] == ' ' || s[k] == '/' || s[k] == '\n'))
			return 1;
	}
	return 0;
}

const char *posts_guess_format(const char *text, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		size_t j;
		if (text[i] != '<')
			continue;
		j = i + 1 + (text[i + 1] == '/');
		if (j < n && is_tag(text + j, n - j))
			return "html";
	}
	return "markdown";
}

static const char *format_of(const json_t *rec, const char *text, size_t n)
{
	static const char *const names[] = { "format", "text_format",
					     "source_type", NULL };
	const char *f = str_of(field(rec, names));

	if (f) {
		if (!strcasecmp(f, "html") || !strcasecmp(f, "htm") ||
		    !strcasecmp(f, "text/html"))
			return "html";
		if (!strcasecmp(f, "markdown") || !strcasecmp(f, "md") ||
		    !strcasecmp(f, "text/markdown"))
			return "markdown";
		if (!strcasecmp(f, "plain") || !strcasecmp(f, "text") ||
		    !strcasecmp(f, "txt") || !strcasecmp(f, "text/plain"))
			return "plain";
	}
	return posts_guess_format(text, n);
}

/* The host of an http(s) URL, or NULL. */
static const char *host_of(struct parse *x, const char *url)
{
	const char *p = strstr(url, "://"), *end;

	if (!p)
		return NULL;
	p += 3;
	end = p + strcspn(p, "/?#");
	if (end == p)
		return NULL;
	return keep(x, xstrndup(p, (size_t)(end - p)));
}

/* -- Comments ------------------------------------------------------------- */

static const char *const c_id[] = { "id", "_id", NULL };
static const char *const c_text[] = { "text", "body", "content", NULL };
static const char *const c_date[] = { "date", "date_published", "postedAt",
				      "created_at", "time", NULL };
static const char *const c_author[] = { "author", "user", "username", NULL };
static const char *const c_kids[] = { "replies", "children", NULL };

static int author_of(struct parse *x, const json_t *c, const char *where,
		     const char **out)
{
	static const char *const names[] = { "name", "displayName",
					     "username", NULL };
	json_t *a = field(c, c_author);

	*out = NULL;
	if (json_is_object(a))
		return str_field(x, a, where, names, out);
	return str_field(x, c, where, c_author, out);
}

static int add_comments(struct parse *x, const json_t *arr, const char *parent,
			const char *where, const char *name, int depth);

static int add_comment(struct parse *x, const json_t *c, const char *parent,
		       const char *where, int depth)
{
	struct post_comment *pc;
	struct strmap_ent *e;
	const char *id, *author, *date;
	json_t *text = field(c, c_text), *kids;
	char *w = xmalloc(strlen(where) + 2);
	int64_t t = 0;
	int has = 0, r;

	snprintf(w, strlen(where) + 2, "%s.", where);
	keep(x, w);
	if (!json_is_object(c))
		return perr(x, "%s: not an object (a comment: author, date, "
			    "text, replies)", where);
	if ((r = id_field(x, c, w, c_id, &id)) ||
	    (r = author_of(x, c, w, &author)) ||
	    (r = date_field(x, c, w, c_date, &t, &has, &date)))
		return r;
	if (!json_is_string(text))
		return perr(x, "%s: no text (a comment needs \"text\")", where);
	if (!id) {
		/* Note 3. */
		const char *parts[] = { parent, author, date };
		const char *h = hash_of(x, parts, NULL, 3);
		char *made = xmalloc(strlen(h) + 24);
		snprintf(made, strlen(h) + 24, "c%s", h);
		for (unsigned k = 2; strmap_get(&x->ids, made); k++)
			snprintf(made, strlen(h) + 24, "c%s-%u", h, k);
		id = keep(x, made);
	}
	e = strmap_put(&x->ids, id);
	if (e->val)
		return perr(x, "%s: comment id '%.64s' appears twice in the "
			    "post", where, id);
	e->val = (void *)1;
	XGROW(x->p.comments, x->p.ncomments + 1, x->alloc);
	pc = &x->p.comments[x->p.ncomments++];
	memset(pc, 0, sizeof(*pc));
	pc->id = id;
	pc->parent = parent;
	pc->author = author;
	pc->text = json_string_value(text);
	pc->text_len = json_string_length(text);
	pc->time = t;
	pc->has_time = has;
	pc->where = keep(x, xstrdup(where));
	{
		const char *parts[] = { author, date, pc->text };
		size_t lens[] = { author ? strlen(author) : 0,
				  date ? strlen(date) : 0, pc->text_len };
		pc->hash = hash_of(x, parts, lens, 3);
	}
	kids = field(c, c_kids);
	if (!kids)
		return 0;
	if (depth >= POSTS_MAX_DEPTH)
		return perr(x, "%s: replies nested deeper than %d levels",
			    where, POSTS_MAX_DEPTH);
	return add_comments(x, kids, id, where,
			    json_object_get(c, c_kids[0]) ? c_kids[0] : c_kids[1],
			    depth + 1);
}

static int add_comments(struct parse *x, const json_t *arr, const char *parent,
			const char *where, const char *name, int depth)
{
	struct buf w = BUF_INIT;
	json_t *c;
	size_t i;
	int r = 0;

	if (!json_is_array(arr))
		return perr(x, "%s%s%s: not an array", where, *where ? "." : "",
			    name);
	buf_init(&w, 0);
	json_array_foreach(arr, i, c) {
		buf_reset(&w);
		buf_addf(&w, "%s%s%s[%zu]", where, *where ? "." : "", name, i);
		if ((r = add_comment(x, c, parent, w.data, depth)))
			break;
	}
	buf_release(&w);
	return r;
}

/* -- Posts ---------------------------------------------------------------- */

static const char *const p_id[] = { "id", "_id", NULL };
static const char *const p_url[] = { "url", "pageUrl", "link", NULL };
static const char *const p_title[] = { "title", NULL };
static const char *const p_text[] = { "text", "body", "content", NULL };
static const char *const p_date[] = { "date_published", "date", "published",
				      "postedAt", NULL };
static const char *const p_edited[] = { "modified_at", "modifiedAt",
					"updated", NULL };
static const char *const p_source[] = { "source", "site", NULL };
static const char *const p_authors[] = { "authors", "author", NULL };
static const char *const p_comments[] = { "comments", NULL };

static int authors_of(struct parse *x, const json_t *rec)
{
	json_t *a = field(rec, p_authors), *v;
	size_t i;

	x->p.authors = json_array();
	if (!a)
		return 0;
	if (json_is_string(a)) {
		if (str_of(a))
			json_array_append(x->p.authors, a);
		return 0;
	}
	if (!json_is_array(a))
		return perr(x, "authors: not a list of names or a name");
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			return perr(x, "authors[%zu]: not a string", i);
		if (str_of(v))
			json_array_append(x->p.authors, v);
	}
	return 0;
}

static int post_hash(struct parse *x, const char *date)
{
	struct buf names = BUF_INIT;
	json_t *v;
	size_t i;

	buf_init(&names, 0);
	json_array_foreach(x->p.authors, i, v) {
		buf_add(&names, json_string_value(v), json_string_length(v));
		buf_addch(&names, '\n');
	}
	{
		const char *parts[] = { x->p.title, x->p.url, names.data, date,
					x->p.text };
		size_t lens[] = { x->p.title ? strlen(x->p.title) : 0,
				  x->p.url ? strlen(x->p.url) : 0, names.len,
				  date ? strlen(date) : 0, x->p.text_len };
		x->p.hash = hash_of(x, parts, lens, 5);
	}
	buf_release(&names);
	return 0;
}

static int read_post(struct parse *x, json_t *rec)
{
	const char *id, *url, *date, *channel;
	json_t *text;
	int r;

	if (!json_is_object(rec))
		return perr(x, "not a JSON object (one post a line: id or url, "
			    "title, authors, date, text, comments)");
	if ((r = id_field(x, rec, "", p_id, &id)) ||
	    (r = str_field(x, rec, "", p_url, &url)) ||
	    (r = str_field(x, rec, "", p_title, &x->p.title)) ||
	    (r = str_field(x, rec, "", p_source, &channel)) ||
	    (r = date_field(x, rec, "", p_date, &x->p.time, &x->p.has_time,
			    &date)) ||
	    (r = date_field(x, rec, "", p_edited, &x->p.edited,
			    &x->p.has_edited, NULL)) ||
	    (r = authors_of(x, rec)))
		return r;
	if (!id && !url)
		return perr(x, "no id or url (each post needs one, to know it "
			    "when it is imported again)");
	text = field(rec, p_text);
	if (!json_is_string(text))
		return perr(x, "no text (a post needs \"text\", a string)");
	x->p.key = id ? id : url;
	x->p.url = url;
	x->p.text = json_string_value(text);
	x->p.text_len = json_string_length(text);
	x->p.format = format_of(rec, x->p.text, x->p.text_len);
	x->p.channel = channel ? channel : url ? host_of(x, url) : NULL;
	post_hash(x, date);
	x->p.native = json_copy(rec);
	for (const char *const *k = p_text; *k; k++)
		json_object_del(x->p.native, *k);
	json_object_del(x->p.native, "comments");
	if (field(rec, p_comments))
		return add_comments(x, field(rec, p_comments), NULL, "",
				    "comments", 0);
	return 0;
}

static void post_reset(struct parse *x)
{
	json_decref(x->p.authors);
	json_decref(x->p.native);
	free(x->p.comments);
	for (size_t i = 0; i < x->nstrs; i++)
		free(x->strs[i]);
	x->nstrs = 0;
	strmap_release(&x->ids);
	memset(&x->p, 0, sizeof(x->p));
	x->alloc = 0;
}

static int is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)s[i]))
			return 0;
	return 1;
}

int posts_parse(const char *file, const void *p, size_t n, posts_fn fn,
		void *ctx)
{
	const char *s = p, *end = s + n;
	struct parse x;
	int r = 0;

	memset(&x, 0, sizeof(x));
	x.file = file;
	while (s < end && !r) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = (size_t)((nl ? nl : end) - s);
		json_error_t err;
		json_t *rec;

		x.line++;
		if (!is_blank(s, len)) {
			rec = json_loadb(s, len, JSON_REJECT_DUPLICATES, &err);
			if (!rec) {
				r = perr(&x, "column %d: %s", err.column,
					 err.text);
			} else {
				x.p.line = x.line;
				r = read_post(&x, rec);
				if (!r)
					r = fn(ctx, &x.p);
				post_reset(&x);
				json_decref(rec);
			}
		}
		s += len + 1;
	}
	post_reset(&x);
	free(x.strs);
	return r;
}
