#ifndef LABTAPE_RECORDER_INT_H
#define LABTAPE_RECORDER_INT_H

/* Private to src/daemon: the recorder's state, shared by recorder.c and
 * control.c. */

#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "buf.h"
#include "filter.h"
#include "recorder.h"
#include "source.h"
#include "vault.h"

enum slot_state {
	SLOT_STOPPED,
	SLOT_STARTING,
	SLOT_RUNNING,
	SLOT_FAILED,
	SLOT_DISABLED,
};

/* One source under supervision. */
struct slot {
	struct source src;
	struct recorder *rec;
	enum slot_state state;
	char *error;		/* why it last failed */
	char *warning;		/* the last problem it handled itself */
	unsigned failures;	/* in a row, for back-off */
	int64_t started;	/* monotonic */
	uv_timer_t retry;
	uint64_t events, bytes;	/* today */
};

struct recorder {
	uv_loop_t loop;
	const struct recorder_options *o;
	struct vault *v;	/* the writer's: public key only */
	struct vault *agent;	/* the agent's: unlocked by `labtape unlock` */
	int unlocking;		/* a key derivation is running */
	struct tape *tape;
	struct slot *slots;
	size_t nslots;
	uv_timer_t flush, pause_timer, lock_timer;
	uv_signal_t sigint, sigterm;
	uv_pipe_t server;
	int listening;
	int paused;
	int64_t pause_until;	/* 0: until resumed */
	int64_t unlock_until;
	int32_t day;		/* the UTC day the counters are for */
	uint64_t events, bytes, dropped;
	char *error;		/* the last error writing the vault */
	int stopping;
	struct buf payload;
	struct filter *filter;	/* the exclusions (exclude.c) */
	struct buf about_path;	/* scratch: a source's dir + path */
};

void rec_log(struct recorder *rec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Validates, encodes and appends one event (sl: the source, or NULL). */
int rec_record(struct recorder *rec, struct slot *sl, const char *stream,
	       int64_t t, const char *kind, json_t *data);
int rec_pause(struct recorder *rec, int64_t for_ns, const char *by);
int rec_resume(struct recorder *rec, const char *by);
/* A marker or note now, on stream "notes". */
int rec_note(struct recorder *rec, const char *kind, const char *text,
	     const char *session);
void rec_lock(struct recorder *rec);
void rec_unlocked(struct recorder *rec, int64_t for_ns);
void rec_stop(struct recorder *rec);

/* exclude.c: reads the [exclude] rules of the configuration (errors name
 * the file and line) and notes whether they changed since the last run. */
int rec_filter_load(struct recorder *rec);
/* 1 if the rules exclude an event of source at t about a (may be NULL);
 * counted. 0 without a filter. */
int rec_excluded(struct recorder *rec, const char *source, int64_t t,
		 const struct source_about *a);
/* Today's counts for status: [{"rule":..,"count":..,"match_limit":..}]. */
json_t *rec_exclusions_json(struct recorder *rec);

#endif
