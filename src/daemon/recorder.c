/*
 * The recorder: one libuv loop, the sources, the tape, the control socket.
 *
 * NOTES ON THE DESIGN
 *
 *  1. Idle costs nothing: no timer runs while nothing is pending. The
 *     first event after a commit arms a one-shot flush timer; when it
 *     fires the tape commits (sync, then index), so an event is durable
 *     within one flush interval.
 *  2. Pause is enforced here, not trusted to the sources: while paused,
 *     emit() drops everything before it is encoded. Sources are told too,
 *     so that they can stop working (and stop using CPU).
 *  3. A source that fails is stopped and restarted later with exponential
 *     back-off (1 s doubling to 5 min); the others go on. Its error stays
 *     visible in `labtape status`.
 *  4. The recorder never needs the passphrase. `labtape unlock` hands it
 *     one; the key is derived on libuv's thread pool into a second vault
 *     handle (the agent's), which the loop thread touches only once the
 *     derivation is done. The agent answers "unseal" requests with data
 *     keys, never with the secret key itself.
 */
#include "recorder.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>
#include <uv.h>

#include "audit.h"
#include "control.h"
#include "error.h"
#include "events.h"
#include "fileio.h"
#include "ltime.h"
#include "recorder-int.h"
#include "source.h"
#include "xalloc.h"
#include "banned.h"

#define BACKOFF_MAX_MS (5 * 60 * 1000)

void rec_log(struct recorder *rec, const char *fmt, ...)
{
	char t[LT_TIME_MAX_LEN];
	va_list ap;

	(void)rec;
	lt_time_format(lt_now_ns(), t);
	t[19] = '\0';	/* seconds are enough for a log */
	fprintf(stderr, "%sZ labtape record: ", t);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

static void set_error(char **slot, const char *msg)
{
	free(*slot);
	*slot = xstrdup(msg);
}

/* ---- recording ---------------------------------------------------- */

static void on_flush(uv_timer_t *timer)
{
	struct recorder *rec = timer->data;

	if (tape_commit(rec->tape)) {
		rec_log(rec, "cannot commit: %s", lt_errmsg());
		set_error(&rec->error, lt_errmsg());
	}
}

static void count(struct recorder *rec, struct slot *sl, size_t bytes)
{
	int32_t today = lt_day_of(lt_now_ns());

	if (today != rec->day) {
		rec->day = today;
		rec->events = rec->bytes = 0;
		for (size_t i = 0; i < rec->nslots; i++)
			rec->slots[i].events = rec->slots[i].bytes = 0;
	}
	rec->events++;
	rec->bytes += bytes;
	if (sl) {
		sl->events++;
		sl->bytes += bytes;
	}
}

static int append(struct recorder *rec, struct slot *sl, const char *stream,
		  int64_t t, const char *kind, const void *payload, size_t n);

int rec_record(struct recorder *rec, struct slot *sl, const char *stream,
	       int64_t t, const char *kind, json_t *data)
{
	const struct ev_kind *k = ev_kind_find(kind);
	struct buf why = BUF_INIT;
	int r;

	if (!k)
		return lt_error(LT_EINVAL, "unknown kind '%s' (see 'labtape "
				"kinds')", kind);
	if (ev_validate(k, data, &why)) {
		r = lt_error(LT_EINVAL, "%s", why.data);
		buf_release(&why);
		return r;
	}
	buf_reset(&rec->payload);
	if ((r = ev_encode(k, data, &rec->payload)))
		return r;
	return append(rec, sl, stream, t, kind, rec->payload.data,
		      rec->payload.len);
}

/* Puts an encoded payload on the tape and arms the flush timer. */
static int append(struct recorder *rec, struct slot *sl, const char *stream,
		  int64_t t, const char *kind, const void *payload, size_t n)
{
	int r;

	if ((r = tape_append(rec->tape, stream, t, kind, payload, n))) {
		rec_log(rec, "cannot record to '%s': %s", stream, lt_errmsg());
		set_error(&rec->error, lt_errmsg());
		return r;
	}
	count(rec, sl, n);
	if (!uv_is_active((uv_handle_t *)&rec->flush))
		uv_timer_start(&rec->flush, on_flush,
			       (uint64_t)(rec->o->cfg->flush_interval_ns / 1000000),
			       0);
	return 0;
}

/* Records now, for the recorder's own events (pause, resume, notes). */
static int record_now(struct recorder *rec, const char *stream,
		      const char *kind, json_t *data)
{
	int r = rec_record(rec, NULL, stream, lt_now_ns(), kind, data);

	json_decref(data);
	return r;
}

/* ---- sources ------------------------------------------------------ */

static int slot_emit(struct source *s, const char *stream, int64_t t,
		     const char *kind, json_t *data,
		     const struct source_about *about)
{
	struct slot *sl = s->host;

	/* Rule 2: dropped before anything reaches the tape. */
	if (sl->rec->paused || sl->state != SLOT_RUNNING) {
		sl->rec->dropped++;
		return 0;
	}
	if (rec_excluded(sl->rec, s->ops->name, t, about))
		return 0;
	return rec_record(sl->rec, sl, stream, t, kind, data);
}

static int slot_emit_payload(struct source *s, const char *stream, int64_t t,
			     const char *kind, const void *payload, size_t n,
			     const struct source_about *about)
{
	struct slot *sl = s->host;

	if (sl->rec->paused || sl->state != SLOT_RUNNING) {
		sl->rec->dropped++;
		return 0;
	}
	if (rec_excluded(sl->rec, s->ops->name, t, about))
		return 0;
	return append(sl->rec, sl, stream, t, kind, payload, n);
}

static int slot_excluded(struct source *s, const struct source_about *about)
{
	struct slot *sl = s->host;

	return rec_excluded(sl->rec, s->ops->name, lt_now_ns(), about);
}

static void slot_start(struct slot *sl);

static void on_retry(uv_timer_t *timer)
{
	slot_start(timer->data);
}

static void slot_fail(struct source *s, int code, const char *msg)
{
	struct slot *sl = s->host;
	uint64_t delay;

	(void)code;
	if (sl->state != SLOT_RUNNING && sl->state != SLOT_STARTING)
		return;
	rec_log(sl->rec, "source %s failed: %s", s->ops->name, msg);
	set_error(&sl->error, msg);
	if (sl->state == SLOT_RUNNING)
		s->ops->stop(s);
	sl->state = SLOT_FAILED;
	/* A source that ran for a while before failing starts afresh. */
	if (lt_mono_ns() - sl->started > 5 * 60 * LT_NS_PER_SEC)
		sl->failures = 0;
	delay = 1000ull << (sl->failures < 9 ? sl->failures : 9);
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	sl->failures++;
	if (!sl->rec->stopping)
		uv_timer_start(&sl->retry, on_retry, delay, 0);
}

static void slot_warn(struct source *s, const char *msg)
{
	struct slot *sl = s->host;

	rec_log(sl->rec, "%s: %s", s->ops->name, msg);
	set_error(&sl->warning, msg);
}

static void slot_start(struct slot *sl)
{
	int r;

	sl->state = SLOT_STARTING;
	sl->started = lt_mono_ns();
	r = sl->src.ops->start(&sl->src);
	if (r) {
		slot_fail(&sl->src, r, lt_errmsg());
		return;
	}
	if (sl->state != SLOT_STARTING)
		return;		/* it failed from inside start() */
	sl->state = SLOT_RUNNING;
	rec_log(sl->rec, "source %s started", sl->src.ops->name);
	if (sl->rec->paused)
		sl->src.ops->pause(&sl->src, 1);
}

static int source_enabled(const struct config *cfg, const char *name)
{
	if (!strcmp(name, "files"))
		return cfg->files_enabled;
	return 1;
}

static void start_sources(struct recorder *rec)
{
	size_t n = 0;

	while (source_registry[n])
		n++;
	rec->slots = xcalloc(n ? n : 1, sizeof(*rec->slots));
	rec->nslots = n;
	for (size_t i = 0; i < n; i++) {
		struct slot *sl = &rec->slots[i];
		sl->rec = rec;
		sl->src.ops = source_registry[i];
		sl->src.loop = &rec->loop;
		sl->src.cfg = rec->o->cfg;
		sl->src.vault_id = vault_id_hex(rec->v);
		sl->src.emit = slot_emit;
		sl->src.emit_payload = slot_emit_payload;
		sl->src.excluded = slot_excluded;
		sl->src.fail = slot_fail;
		sl->src.warn = slot_warn;
		sl->src.host = sl;
		uv_timer_init(&rec->loop, &sl->retry);
		sl->retry.data = sl;
		if (!source_enabled(rec->o->cfg, sl->src.ops->name)) {
			sl->state = SLOT_DISABLED;
			continue;
		}
		slot_start(sl);
	}
}

/* ---- pause, resume ------------------------------------------------- */

/* Pauses and resumes go to the audit log too. A failure there is shown
 * (status, the log) but does not stop the pause itself: not recording is
 * the safe side. */
static void audit(struct recorder *rec, const char *action, json_t *detail)
{
	if (audit_append(rec->v, action, detail)) {
		rec_log(rec, "%s", lt_errmsg());
		set_error(&rec->error, lt_errmsg());
	}
	json_decref(detail);
}

static void on_pause_timer(uv_timer_t *timer)
{
	rec_resume(timer->data, "timer");
}

int rec_pause(struct recorder *rec, int64_t for_ns, const char *by)
{
	json_t *data = json_pack("{s:s}", "by", by);
	int r;

	if (for_ns > 0) {
		char until[LT_TIME_MAX_LEN];
		lt_time_format(lt_now_ns() + for_ns, until);
		json_object_set_new(data, "until", json_string(until));
	}
	/* The pause itself is recorded, and committed at once. */
	if (!rec->paused) {
		json_incref(data);
		if ((r = record_now(rec, "labtape", "control.pause", data))) {
			json_decref(data);
			return r;
		}
		audit(rec, AUDIT_PAUSE, data);
		tape_commit(rec->tape);
		rec->paused = 1;
		for (size_t i = 0; i < rec->nslots; i++)
			if (rec->slots[i].state == SLOT_RUNNING)
				rec->slots[i].src.ops->pause(&rec->slots[i].src, 1);
		rec_log(rec, "paused by %s", by);
	} else {
		json_decref(data);
	}
	uv_timer_stop(&rec->pause_timer);
	rec->pause_until = for_ns > 0 ? lt_now_ns() + for_ns : 0;
	if (for_ns > 0)
		uv_timer_start(&rec->pause_timer, on_pause_timer,
			       (uint64_t)(for_ns / 1000000), 0);
	return 0;
}

int rec_resume(struct recorder *rec, const char *by)
{
	if (!rec->paused)
		return 0;
	rec->paused = 0;
	rec->pause_until = 0;
	uv_timer_stop(&rec->pause_timer);
	for (size_t i = 0; i < rec->nslots; i++)
		if (rec->slots[i].state == SLOT_RUNNING)
			rec->slots[i].src.ops->pause(&rec->slots[i].src, 0);
	rec_log(rec, "resumed by %s", by);
	audit(rec, AUDIT_RESUME, json_pack("{s:s}", "by", by));
	return record_now(rec, "labtape", "control.resume",
			  json_pack("{s:s}", "by", by));
}

int rec_note(struct recorder *rec, const char *kind, const char *text,
	     const char *session)
{
	json_t *data = json_pack("{s:s}", "text", text);

	if (session && *session)
		json_object_set_new(data, "session", json_string(session));
	return record_now(rec, "notes", kind, data);
}

/* ---- unlock, lock --------------------------------------------------- */

static void on_lock_timer(uv_timer_t *timer)
{
	rec_lock(timer->data);
}

void rec_lock(struct recorder *rec)
{
	if (rec->agent && vault_is_unlocked(rec->agent))
		rec_log(rec, "forgot the vault key");
	if (rec->agent)
		vault_lock(rec->agent);
	rec->unlock_until = 0;
	uv_timer_stop(&rec->lock_timer);
}

void rec_unlocked(struct recorder *rec, int64_t for_ns)
{
	rec->unlock_until = lt_now_ns() + for_ns;
	uv_timer_start(&rec->lock_timer, on_lock_timer,
		       (uint64_t)(for_ns / 1000000), 0);
	rec_log(rec, "holding the vault key for %lld s",
		(long long)(for_ns / LT_NS_PER_SEC));
}

/* ---- life cycle ----------------------------------------------------- */

static void on_signal(uv_signal_t *sig, int signum)
{
	struct recorder *rec = sig->data;

	rec_log(rec, "%s: stopping", strsignal(signum));
	rec_stop(rec);
}

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

void rec_stop(struct recorder *rec)
{
	if (rec->stopping)
		return;
	rec->stopping = 1;
	for (size_t i = 0; i < rec->nslots; i++) {
		struct slot *sl = &rec->slots[i];
		if (sl->state == SLOT_RUNNING)
			sl->src.ops->stop(&sl->src);
		sl->state = SLOT_STOPPED;
	}
	control_close(rec);
	/* Whatever is left (timers, signals) closes with the loop. */
	uv_walk(&rec->loop, close_walk, NULL);
}

int recorder_run(const struct recorder_options *o)
{
	struct recorder *rec = xcalloc(1, sizeof(*rec));
	struct tape_options topt = TAPE_OPTIONS_INIT;
	int r;

	rec->o = o;
	rec->day = lt_day_of(lt_now_ns());
	audit_set_process("labtape record");
	buf_init(&rec->payload, 0);
	buf_init(&rec->about_path, 0);
	signal(SIGPIPE, SIG_IGN);
	if ((r = vault_open(&rec->v, o->vault_dir)) ||
	    (r = vault_open(&rec->agent, o->vault_dir)) ||
	    (r = rec_filter_load(rec)))
		goto out;
	topt.flush_interval_ns = o->cfg->flush_interval_ns;
	topt.autocommit = 1;
	topt.sealer = 1;
	topt.live = 1;		/* what is recorded comes first */
	if ((r = tape_open(&rec->tape, rec->v, &topt)))
		goto out;
	if (uv_loop_init(&rec->loop)) {
		r = lt_error(LT_EIO, "cannot start the event loop");
		goto out;
	}
	uv_timer_init(&rec->loop, &rec->flush);
	uv_timer_init(&rec->loop, &rec->pause_timer);
	uv_timer_init(&rec->loop, &rec->lock_timer);
	rec->flush.data = rec->pause_timer.data = rec->lock_timer.data = rec;
	if ((r = control_listen(rec, o->socket_path))) {
		uv_walk(&rec->loop, close_walk, NULL);
		uv_run(&rec->loop, UV_RUN_DEFAULT);
		uv_loop_close(&rec->loop);
		goto out;
	}
	uv_signal_init(&rec->loop, &rec->sigint);
	uv_signal_init(&rec->loop, &rec->sigterm);
	rec->sigint.data = rec->sigterm.data = rec;
	uv_signal_start(&rec->sigint, on_signal, SIGINT);
	uv_signal_start(&rec->sigterm, on_signal, SIGTERM);

	rec_log(rec, "recording into %s (control: %s)", o->vault_dir,
		o->socket_path);
	start_sources(rec);
	if (o->ready)
		o->ready(o->ready_ctx);
	uv_run(&rec->loop, UV_RUN_DEFAULT);
	uv_loop_close(&rec->loop);
out:
	if (rec->tape) {
		int c = tape_close(rec->tape);
		if (c) {
			rec_log(rec, "cannot commit the last events: %s",
				lt_errmsg());
			if (!r)
				r = c;
		}
	}
	vault_free(rec->agent);
	vault_free(rec->v);
	for (size_t i = 0; i < rec->nslots; i++) {
		free(rec->slots[i].error);
		free(rec->slots[i].warning);
	}
	free(rec->slots);
	free(rec->error);
	buf_release(&rec->payload);
	buf_release(&rec->about_path);
	filter_free(rec->filter);
	if (!r)
		rec_log(rec, "stopped");
	free(rec);
	return r;
}
