#ifndef LABTAPE_MAIL_H
#define LABTAPE_MAIL_H

/*
 * Mail (doc/imports.md, "mail"), read from memory with GMime 3: one
 * message into the fields of a msg.message event and its attachments,
 * and an mbox file cut into its messages.
 *
 *	mail_mbox_split(name, p, n, on_message, ctx);     for an mbox
 *	on_message: mail_parse(name, where, raw, len, channel, from_t, &m);
 *	            ... m.data, m.att[] ...
 *	            mail_msg_release(&m);
 *
 * No vault: the CLI stores the attachments (as chunks) and adds "files".
 */

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"

struct mail_attachment {
	char *name;		/* the file name it was sent with, or "part-N" */
	char *type;		/* its MIME type, e.g. "application/pdf" */
	struct buf data;	/* its bytes, transfer encoding undone */
};

struct mail_msg {
	json_t *data;		/* the msg.message event, without "files" */
	const char *id;		/* data's "id": the Message-ID without <>,
				   or "blake2b:" and the raw message's hash */
	int64_t t;		/* the Date header, else the fallback */
	struct mail_attachment *att;
	size_t natt;
};

/*
 * Parses the raw message p[0..n) (what an mbox holds between two From_
 * lines, or a Maildir file). channel is the folder's name for "channel";
 * fallback_t the time to use when the message has no valid Date
 * (INT64_MIN: none, and then such a message is refused). file and where
 * name the input and the position for messages ("line 12", a file name).
 * Returns 0 and fills m (free it with mail_msg_release()), or LT_EINVAL
 * with a message like
 *   inbox.mbox: line 12: not a mail message (it does not start with a
 *   header line like "From: ...")
 */
int mail_parse(const char *file, const char *where, const void *p, size_t n,
	       const char *channel, int64_t fallback_t, struct mail_msg *m);
void mail_msg_release(struct mail_msg *m);

/* One message of an mbox: its bytes with the From_ line removed and
 * ">From " unquoted (mboxrd), the line its From_ line is on, and the
 * time that line gives (INT64_MIN if none). */
struct mbox_msg {
	const char *p;
	size_t n;
	size_t line;
	size_t end;		/* the file's bytes up to its end */
	int64_t from_t;
};

typedef int mbox_fn(void *ctx, const struct mbox_msg *m);

/*
 * Cuts an mbox into messages: a line starting with "From " at the start
 * of the file or after an empty line begins one. A file that does not
 * start with a From_ line is refused (LT_EINVAL, naming line 1). Stops at
 * the first error fn returns.
 */
int mail_mbox_split(const char *file, const void *p, size_t n, mbox_fn *fn,
		    void *ctx);

/* The time of an mbox From_ line ("From a@b Thu Jan  4 10:00:00 2024"),
 * asctime in UTC; INT64_MIN if it has none. */
int64_t mail_from_line_time(const char *line, size_t n);

#endif
