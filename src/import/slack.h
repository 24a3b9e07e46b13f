#ifndef LABTAPE_SLACK_H
#define LABTAPE_SLACK_H

/*
 * A Slack workspace export (doc/imports.md, "slack"), read from memory:
 * the ZIP's users.json and channels.json (groups.json, dms.json,
 * mpims.json), then one FOLDER/YYYY-MM-DD.json per channel and day, each
 * an array of messages that become msg.message events.
 *
 *	struct slack *s = slack_new();
 *	slack_read_users(s, zip, "users.json", p, n);
 *	slack_read_channels(s, zip, "channels.json", p, n);
 *	for (each day entry)
 *		slack_read_day(s, zip, entry, p, n, on_msg, ctx);
 *	slack_free(s);
 *
 * No vault, no archive: the CLI reads the ZIP and imports what comes out.
 * Errors are LT_EINVAL with a message like
 *   x.zip: entry general/2024-01-02.json: message 3: "ts" is not a
 *   Slack timestamp ("1700000000.000100")
 */

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct slack;

struct slack *slack_new(void);
void slack_free(struct slack *s);

/* users.json (or org_users.json): an array of users, for the names. */
int slack_read_users(struct slack *s, const char *file, const char *entry,
		     const void *p, size_t n);

/* channels.json, groups.json, mpims.json (folders named by the channel's
 * name) or dms.json (by its id). */
int slack_read_channels(struct slack *s, const char *file, const char *entry,
			const void *p, size_t n);

/* 1 if entry is FOLDER/YYYY-MM-DD.json, a day of messages. */
int slack_is_day(const char *entry);

struct slack_msg {
	int64_t t;		/* the message's ts, ns */
	const char *unit;	/* ledger key: its id, "@" and edited.ts if edited */
	json_t *data;		/* the msg.message event (borrowed) */
	size_t index;		/* 1-based, in the day's array */
};

/* Returns 0, or a negative error that stops slack_read_day(). */
typedef int slack_msg_fn(void *ctx, const struct slack_msg *m);

/* Reads a day file and calls fn for each message, in the file's order. */
int slack_read_day(struct slack *s, const char *file, const char *entry,
		   const void *p, size_t n, slack_msg_fn *fn, void *ctx);

/* A Slack timestamp ("1700000000.000100") as ns; -1 if s is not one. */
int slack_ts_parse(const char *s, int64_t *ns);

#endif
