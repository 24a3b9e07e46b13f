#ifndef LABTAPE_POSTS_H
#define LABTAPE_POSTS_H

/*
 * Published posts with their comments, as JSONL (doc/imports.md,
 * "posts"): one post a line, with the field names of the alignment
 * research datasets (id, source, source_type, title, authors, text, url,
 * date_published) or plain ones (date, format, comments with nested
 * replies). No vault here: the importer (src/cli/import-posts.c) and the
 * fuzz target drive it.
 */

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* One comment; strings are UTF-8 and live as long as the callback. */
struct post_comment {
	const char *id;		/* its id, or one made from it (doc/imports.md) */
	const char *parent;	/* the comment it answers; NULL: the post */
	const char *author;	/* NULL if not given */
	const char *text;
	size_t text_len;
	int64_t time;		/* ns; valid if has_time */
	int has_time;
	const char *hash;	/* 16 hex digits of author, date and text */
	const char *where;	/* "comments[0].replies[2]", for messages */
};

struct post {
	size_t line;		/* in the file, from 1 */
	const char *key;	/* its id, else its URL */
	const char *title;	/* NULL if not given */
	const char *url;	/* NULL if not given (or "n/a") */
	const char *text;
	size_t text_len;
	const char *format;	/* "markdown", "html" or "plain" */
	const char *channel;	/* its source (site), else the URL's host */
	json_t *authors;	/* array of strings, maybe empty */
	int64_t time;		/* date published, ns; valid if has_time */
	int has_time;
	int64_t edited;		/* modified at, ns; valid if has_edited */
	int has_edited;
	const char *hash;	/* 16 hex digits of title, URL, authors, date
				 * and text: another hash, another version */
	json_t *native;		/* the record without text and comments */
	struct post_comment *comments;	/* parents before their replies */
	size_t ncomments;
};

/* Called for each post in order; a negative return stops the parse. */
typedef int (*posts_fn)(void *ctx, const struct post *p);

/*
 * Parses JSONL p[0..n), calling fn for each post. Blank lines are
 * skipped. On malformed input returns LT_EINVAL with a message such as
 * "x.jsonl: line 3: comments[1].replies[0]: no text"; file names the
 * input in messages.
 */
int posts_parse(const char *file, const void *p, size_t n, posts_fn fn,
		void *ctx);

/* How text looks: "html" if it has HTML tags (<p>, </div>, <br>...),
 * else "markdown" (plain text is Markdown too). */
const char *posts_guess_format(const char *text, size_t n);

#endif
