/*
 * The control socket. Requests and responses are single lines of JSON;
 * doc/protocol.md lists the commands.
 */
#define _GNU_SOURCE	/* struct ucred, for SO_PEERCRED */
#include "control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "consent.h"
#include "error.h"
#include "fileio.h"
#include "hex.h"
#include "ltime.h"
#include "recorder-int.h"
#include "text.h"
#include "xalloc.h"
#include "banned.h"

#define MAX_LINE (1u << 20)	/* longest request accepted */
#define DEFAULT_UNLOCK (15 * 60 * LT_NS_PER_SEC)

struct conn {
	uv_pipe_t pipe;
	struct recorder *rec;
	struct buf in;
	int refs;		/* the pipe, and each pending unlock */
	int closed;
	struct conn *next;
};

static struct conn *conns;

struct wreq {
	uv_write_t req;
	char *data;
	int stop_after;		/* `labtape stop`: stop once answered */
};

struct unlock_work {
	uv_work_t req;
	struct conn *c;
	struct buf pass;
	int64_t for_ns;
	int result;
	char msg[512];
};

static void conn_unref(struct conn *c)
{
	if (--c->refs)
		return;
	for (struct conn **p = &conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	buf_release(&c->in);
	free(c);
}

static void on_conn_closed(uv_handle_t *h)
{
	conn_unref(h->data);
}

static void conn_close(struct conn *c)
{
	if (c->closed)
		return;
	c->closed = 1;
	uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

static void on_written(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct conn *c = req->data;

	(void)status;
	if (w->stop_after)
		rec_stop(c->rec);
	free(w->data);
	free(w);
}

static void reply(struct conn *c, char *text, int stop_after)
{
	struct wreq *w;
	uv_buf_t b;
	size_t n;

	if (c->closed) {
		free(text);
		if (stop_after)
			rec_stop(c->rec);
		return;
	}
	n = strlen(text);
	w = xcalloc(1, sizeof(*w));
	w->data = xrealloc(text, n + 2);
	w->data[n] = '\n';
	w->data[n + 1] = '\0';
	w->stop_after = stop_after;
	w->req.data = c;
	b = uv_buf_init(w->data, (unsigned)n + 1);
	if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_written)) {
		free(w->data);
		free(w);
		conn_close(c);
		if (stop_after)
			rec_stop(c->rec);
	}
}

static char *dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	return s;
}

/* An error answer. The message may hold bytes that are not UTF-8 (a
 * path, a request's text cut at 64 bytes): each bad sequence becomes
 * U+FFFD, since JSON cannot carry it and the client must get an answer. */
static char *fail_msg(const char *msg)
{
	struct buf m = BUF_INIT;
	size_t n = strlen(msg), i = 0;
	char *out;

	while (i < n) {
		size_t k = text_utf8_check(msg + i, n - i);

		buf_add(&m, msg + i, k);
		if ((i += k) < n) {
			buf_addstr(&m, "\xEF\xBF\xBD");
			i++;
		}
	}
	out = dump(json_pack("{s:b, s:s}", "ok", 0, "error", m.data));
	buf_release(&m);
	return out;
}

static char *ok(void)
{
	return dump(json_pack("{s:b}", "ok", 1));
}

static const char *state_name(enum slot_state s)
{
	switch (s) {
	case SLOT_STOPPED: return "stopped";
	case SLOT_STARTING: return "starting";
	case SLOT_RUNNING: return "running";
	case SLOT_FAILED: return "failed";
	case SLOT_DISABLED: return "disabled";
	}
	return "?";
}

static json_t *time_or_null(int64_t t)
{
	char s[LT_TIME_MAX_LEN];

	if (!t)
		return json_null();
	lt_time_format(t, s);
	return json_string(s);
}

static char *status(struct recorder *rec)
{
	json_t *o = json_object(), *srcs = json_array();

	for (size_t i = 0; i < rec->nslots; i++) {
		struct slot *sl = &rec->slots[i];
		json_t *s = json_pack("{s:s, s:s, s:I, s:I, s:i}", "name",
				      sl->src.ops->name, "state",
				      rec->paused && sl->state == SLOT_RUNNING ?
				      "paused" : state_name(sl->state),
				      "events_today", (json_int_t)sl->events,
				      "bytes_today", (json_int_t)sl->bytes,
				      "failures", (int)sl->failures);
		json_object_set_new(s, "error", sl->error ?
				    json_string(sl->error) : json_null());
		json_object_set_new(s, "warning", sl->warning ?
				    json_string(sl->warning) : json_null());
		json_array_append_new(srcs, s);
	}
	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(o, "vault", json_string(rec->o->vault_dir));
	json_object_set_new(o, "vault_id", json_string(vault_id_hex(rec->v)));
	json_object_set_new(o, "paused", json_boolean(rec->paused));
	json_object_set_new(o, "paused_until", time_or_null(rec->pause_until));
	json_object_set_new(o, "unlocked",
			    json_boolean(vault_is_unlocked(rec->agent)));
	json_object_set_new(o, "unlocked_until",
			    time_or_null(vault_is_unlocked(rec->agent) ?
					 rec->unlock_until : 0));
	json_object_set_new(o, "events_today", json_integer((json_int_t)rec->events));
	json_object_set_new(o, "bytes_today", json_integer((json_int_t)rec->bytes));
	json_object_set_new(o, "dropped_while_paused",
			    json_integer((json_int_t)rec->dropped));
	json_object_set_new(o, "error", rec->error ? json_string(rec->error) :
			    json_null());
	json_object_set_new(o, "sources", srcs);
	json_object_set_new(o, "exclusions", rec_exclusions_json(rec));
	return dump(o);
}

/* "for": a duration string; 0 when absent. */
static int get_for(json_t *req, int64_t *out, char **err)
{
	json_t *f = json_object_get(req, "for");

	*out = 0;
	if (!f || json_is_null(f))
		return 0;
	if (!json_is_string(f) || lt_duration_parse(json_string_value(f), out) ||
	    *out <= 0) {
		*err = fail_msg("'for' must be a duration such as 15m or 2h");
		return -1;
	}
	return 0;
}

static void unlock_work(uv_work_t *req)
{
	struct unlock_work *w = req->data;

	w->result = vault_unlock(w->c->rec->agent, w->pass.data, w->pass.len);
	if (w->result)
		snprintf(w->msg, sizeof(w->msg), "%s", lt_errmsg());
}

static void unlock_done(uv_work_t *req, int status)
{
	struct unlock_work *w = req->data;
	struct conn *c = w->c;
	struct recorder *rec = c->rec;

	rec->unlocking = 0;
	if (w->pass.alloc)
		sodium_memzero(w->pass.data, w->pass.alloc);
	buf_release(&w->pass);
	if (status == 0 && w->result == 0 && !rec->stopping) {
		rec_unlocked(rec, w->for_ns);
		reply(c, ok(), 0);
	} else {
		if (w->result == 0)
			vault_lock(rec->agent);
		reply(c, fail_msg(w->result ? w->msg : "cancelled"), 0);
	}
	conn_unref(c);
	free(w);
}

/* unlock needs the thread pool; it answers later. */
static char *start_unlock(struct conn *c, json_t *req)
{
	struct recorder *rec = c->rec;
	json_t *p = json_object_get(req, "passphrase");
	struct unlock_work *w;
	int64_t for_ns;
	char *err = NULL;

	if (!json_is_string(p) || !json_string_length(p))
		return fail_msg("'passphrase' is required");
	if (get_for(req, &for_ns, &err))
		return err;
	if (rec->unlocking)
		return fail_msg("an unlock is already in progress");
	if (vault_is_unlocked(rec->agent)) {
		rec_unlocked(rec, for_ns ? for_ns : DEFAULT_UNLOCK);
		return ok();
	}
	w = xcalloc(1, sizeof(*w));
	w->c = c;
	w->for_ns = for_ns ? for_ns : DEFAULT_UNLOCK;
	buf_init(&w->pass, 0);
	buf_add(&w->pass, json_string_value(p), json_string_length(p));
	w->req.data = w;
	c->refs++;
	rec->unlocking = 1;
	if (uv_queue_work(&rec->loop, &w->req, unlock_work, unlock_done)) {
		rec->unlocking = 0;
		c->refs--;
		buf_release(&w->pass);
		free(w);
		return fail_msg("cannot start the key derivation");
	}
	return NULL;
}

static char *unseal(struct recorder *rec, json_t *req)
{
	const char *hex = json_string_value(json_object_get(req, "key_id"));
	const char *sealed = json_string_value(json_object_get(req, "sealed"));
	json_t *day = json_object_get(req, "day");
	uint8_t id[16], box[VAULT_SEALED_KEY_LEN], *key;
	char out[65];

	if (!vault_is_unlocked(rec->agent) || rec->unlocking)
		return fail_msg("the recorder does not hold the vault key "
				"(run 'labtape unlock')");
	if (sealed ? lt_unhex(sealed, box, sizeof(box)) != 0 :
	    !hex || lt_unhex(hex, id, sizeof(id)) || !json_is_integer(day))
		return fail_msg("'key_id' (32 hex digits) and 'day', or "
				"'sealed' (160 hex digits), are required");
	key = sodium_malloc(32);
	if (!key)
		return fail_msg("out of locked memory");
	if (sealed && vault_open_sealed(rec->agent, box, key)) {
		sodium_free(key);
		return dump(json_pack("{s:b, s:s, s:b}", "ok", 0, "error",
				      lt_errmsg(), "bad_seal", 1));
	}
	if (!sealed &&
	    vault_unseal(rec->agent, id, (int32_t)json_integer_value(day), key)) {
		sodium_free(key);
		return fail_msg(lt_errmsg());
	}
	lt_hex(key, 32, out);
	sodium_free(key);
	{
		char *s = dump(json_pack("{s:b, s:s}", "ok", 1, "key", out));
		sodium_memzero(out, sizeof(out));
		return s;
	}
}

/* A plugin's event against the exclusions: its source is "source" (else
 * "editor"), its path data.path when absolute, app and title those of
 * the request. */
static int excluded(struct recorder *rec, json_t *req, int64_t t,
		    json_t *data)
{
	const char *src = json_string_value(json_object_get(req, "source"));
	const char *path = json_string_value(json_object_get(data, "path"));
	struct source_about a = { NULL, path && path[0] == '/' ? path : NULL,
		json_string_value(json_object_get(req, "app")),
		json_string_value(json_object_get(req, "title")) };

	return rec_excluded(rec, src && *src ? src : "editor", t, &a);
}

/*
 * Whether a person consents, for a source or tool that is about to record
 * them: {"cmd":"consent","name":..,"for":"meetings"}. Only while the
 * recorder holds the vault key; otherwise the answer is no (the registry
 * is encrypted, doc/format.md 14.8).
 */
static char *consent(struct recorder *rec, json_t *req)
{
	const char *name = json_string_value(json_object_get(req, "name"));
	const char *scope_s = json_string_value(json_object_get(req, "for"));
	enum consent_scope scope = CONSENT_MEETINGS;
	struct consent_ref ref;
	const char *why;
	int r;

	if (!name || !*name)
		return fail_msg("'name' is required");
	if (scope_s && consent_scope_parse(scope_s, &scope))
		return fail_msg(lt_errmsg());
	if (!vault_is_unlocked(rec->agent) || rec->unlocking)
		why = "the recorder does not hold the vault key, so it cannot "
		      "read the consent registry (run 'labtape unlock')";
	else if ((r = consent_check(rec->agent, name, scope, lt_now_ns(),
				    &ref)) == 1)
		return dump(json_pack("{s:b, s:b, s:s}", "ok", 1, "consent", 1,
				      "ref", ref.id));
	else
		why = r < 0 ? lt_errmsg() : "no active consent";
	return dump(json_pack("{s:b, s:b, s:s}", "ok", 1, "consent", 0, "why",
			      why));
}

/* An event from a plugin: {"cmd":"event","stream":..,"kind":..,"data":..} */
static char *event(struct recorder *rec, json_t *req)
{
	const char *stream = json_string_value(json_object_get(req, "stream"));
	const char *kind = json_string_value(json_object_get(req, "kind"));
	json_t *data = json_object_get(req, "data"), *t = json_object_get(req, "t");
	int64_t ts = lt_now_ns();

	if (!stream || !*stream || !kind || !json_is_object(data))
		return fail_msg("'stream', 'kind' and 'data' (an object) are "
				"required");
	if (t && (!json_is_string(t) ||
		  lt_time_parse_rfc3339(json_string_value(t), &ts)))
		return fail_msg("'t' must be an RFC 3339 time");
	if (rec->paused) {
		rec->dropped++;
		return dump(json_pack("{s:b, s:b}", "ok", 1, "dropped", 1));
	}
	if (excluded(rec, req, ts, data))
		return dump(json_pack("{s:b, s:b}", "ok", 1, "excluded", 1));
	if (rec_record(rec, NULL, stream, ts, kind, data))
		return fail_msg(lt_errmsg());
	return ok();
}

/* Returns the answer, or NULL when it comes later (unlock). stop is set
 * when the recorder should stop once the answer is written. */
static char *handle(struct recorder *rec, struct conn *c, const char *line,
		    size_t n, int *stop)
{
	json_error_t jerr;
	json_t *req = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
	const char *cmd;
	char *out = NULL;

	if (!req || !json_is_object(req)) {
		json_decref(req);
		return fail_msg("the request is not a JSON object");
	}
	cmd = json_string_value(json_object_get(req, "cmd"));
	if (!cmd) {
		out = fail_msg("'cmd' is required");
	} else if (!strcmp(cmd, "status")) {
		out = status(rec);
	} else if (!strcmp(cmd, "pause")) {
		int64_t for_ns;
		if (get_for(req, &for_ns, &out) == 0)
			out = rec_pause(rec, for_ns, "labtape pause") ?
			      fail_msg(lt_errmsg()) : ok();
	} else if (!strcmp(cmd, "resume")) {
		out = rec_resume(rec, "labtape resume") ? fail_msg(lt_errmsg()) :
		      ok();
	} else if (!strcmp(cmd, "mark") || !strcmp(cmd, "note")) {
		const char *text = json_string_value(json_object_get(req, "text"));
		const char *session =
			json_string_value(json_object_get(req, "session"));
		if (!text || !*text)
			out = fail_msg("'text' is required");
		else if (rec->paused)
			out = fail_msg("recording is paused (run 'labtape "
				       "resume' first)");
		else
			out = rec_note(rec, !strcmp(cmd, "mark") ? "marker" :
				       "note", text, session) ?
			      fail_msg(lt_errmsg()) : ok();
	} else if (!strcmp(cmd, "stop")) {
		*stop = 1;
		out = ok();
	} else if (!strcmp(cmd, "unlock")) {
		out = c ? start_unlock(c, req) :
		      fail_msg("unlock needs a connection");
	} else if (!strcmp(cmd, "lock")) {
		rec_lock(rec);
		out = ok();
	} else if (!strcmp(cmd, "unseal")) {
		out = unseal(rec, req);
	} else if (!strcmp(cmd, "consent")) {
		out = consent(rec, req);
	} else if (!strcmp(cmd, "event")) {
		out = event(rec, req);
	} else {
		struct buf m = BUF_INIT;
		buf_addf(&m, "unknown command '%.64s'", cmd);
		out = fail_msg(m.data);
		buf_release(&m);
	}
	json_decref(req);
	return out;
}

char *control_handle(struct recorder *rec, const char *line, size_t n)
{
	int stop = 0;

	return handle(rec, NULL, line, n, &stop);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct conn *c = h->data;

	(void)hint;
	buf_grow(&c->in, 4096);
	*b = uv_buf_init(c->in.data + c->in.len,
			 (unsigned)(c->in.alloc - c->in.len - 1));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct conn *c = s->data;
	char *nl;

	(void)b;
	if (nread < 0) {
		conn_close(c);
		return;
	}
	buf_setlen(&c->in, c->in.len + (size_t)nread);
	while (!c->closed && (nl = memchr(c->in.data, '\n', c->in.len))) {
		size_t n = (size_t)(nl - c->in.data);
		int stop = 0;
		char *out = handle(c->rec, c, c->in.data, n, &stop);
		if (out)
			reply(c, out, stop);
		memmove(c->in.data, nl + 1, c->in.len - n - 1);
		buf_setlen(&c->in, c->in.len - n - 1);
	}
	if (c->in.len > MAX_LINE) {
		reply(c, fail_msg("request too long"), 0);
		conn_close(c);
	}
}

static void on_connection(uv_stream_t *server, int status)
{
	struct recorder *rec = server->data;
	struct conn *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	uv_os_fd_t fd;

	if (status < 0)
		return;
	c = xcalloc(1, sizeof(*c));
	c->rec = rec;
	c->refs = 1;
	buf_init(&c->in, 0);
	uv_pipe_init(&rec->loop, &c->pipe, 0);
	c->pipe.data = c;
	c->next = conns;
	conns = c;
	if (uv_accept(server, (uv_stream_t *)&c->pipe)) {
		conn_close(c);
		return;
	}
	/* Only the recorder's own user may talk to it. */
	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    cred.uid != getuid()) {
		rec_log(rec, "refused a control connection from another user");
		conn_close(c);
		return;
	}
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

/* Whether a recorder answers on path. */
static int someone_listens(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), alive;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	alive = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return alive;
}

int control_listen(struct recorder *rec, const char *path)
{
	mode_t old;
	int r;

	if ((r = lt_socket_dir(path)))
		return r;
	if (someone_listens(path))
		return lt_error(LT_EBUSY, "a recorder is already running (its "
				"socket is '%s'; 'labtape status' shows it)", path);
	unlink(path);

	uv_pipe_init(&rec->loop, &rec->server, 0);
	rec->server.data = rec;
	old = umask(077);
	r = uv_pipe_bind(&rec->server, path);
	umask(old);
	if (r || chmod(path, 0600) < 0 ||
	    (r = uv_listen((uv_stream_t *)&rec->server, 16, on_connection))) {
		return lt_error(LT_EIO, "cannot listen on '%s': %s", path,
				r ? uv_strerror(r) : strerror(errno));
	}
	rec->listening = 1;
	return 0;
}

void control_close(struct recorder *rec)
{
	if (rec->listening) {
		uv_close((uv_handle_t *)&rec->server, NULL);
		unlink(rec->o->socket_path);
		rec->listening = 0;
	}
	for (struct conn *c = conns; c; c = c->next)
		conn_close(c);
}
