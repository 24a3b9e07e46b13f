/*
 * The audit log over a chain log (chainlog.c): what an entry holds, who
 * appends it, reading and verifying.
 */
#include "audit.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chainlog.h"
#include "error.h"
#include "hex.h"
#include "ltime.h"
#include "banned.h"

static char process_name[64] = "labtape";

void audit_set_process(const char *name)
{
	snprintf(process_name, sizeof(process_name), "%s", name);
}

static void actor(struct buf *out)
{
	const char *user = getenv("USER");
	struct passwd *pw;

	if (!user || !*user)
		user = (pw = getpwuid(getuid())) ? pw->pw_name : NULL;
	if (user)
		buf_addstr(out, user);
	else
		buf_addf(out, "uid %lu", (unsigned long)getuid());
	buf_addf(out, " (%s, pid %ld)", process_name, (long)getpid());
}

static int action_ok(const char *a)
{
	size_t n = strlen(a);

	if (n < 1 || n > 64)
		return 0;
	for (; *a; a++)
		if (!((*a >= 'a' && *a <= 'z') || (*a >= '0' && *a <= '9') ||
		      *a == '.' || *a == '_' || *a == '-'))
			return 0;
	return 1;
}

int audit_append(struct vault *v, const char *action, json_t *detail)
{
	struct chainlog cl;
	struct buf who = BUF_INIT;
	char t[LT_TIME_MAX_LEN], *text = NULL;
	json_t *o;
	int r;

	if (!action_ok(action))
		return lt_error(LT_EINVAL, "bad audit action '%s'", action);
	if (detail && !json_is_object(detail))
		return lt_error(LT_EINVAL, "an audit detail must be an object");
	lt_time_format(lt_now_ns(), t);
	actor(&who);
	o = json_pack("{s:s, s:s, s:s, s:o}", "t", t, "action", action,
		      "actor", who.data, "detail",
		      detail ? json_incref(detail) : json_object());
	buf_release(&who);
	if (!o)
		return lt_error(LT_EINVAL, "the audit entry is not valid JSON "
				"(bad UTF-8?)");
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!text)
		return lt_error(LT_EINVAL, "cannot encode the audit entry");
	if (!(r = chain_open(&cl, v, &CHAIN_AUDIT, 1)) &&
	    !(r = chain_recover(&cl, NULL, NULL)))
		r = chain_append(&cl, text, strlen(text));
	chain_close(&cl);
	free(text);
	if (r)
		lt_error_wrap(r, "cannot append to the audit log");
	return r;
}

/* ---- reading -------------------------------------------------------- */

struct read_ctx {
	int64_t since;
	audit_entry_fn *fn;
	void *ctx;
	vault_report_fn *report;
	void *rctx;
	const char *path;
	int bad;
};

static int on_entry(void *ctx, const struct chain_entry *ce, const char *text)
{
	struct read_ctx *rc = ctx;
	struct audit_entry e;
	json_error_t jerr;
	json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	const char *t = json_string_value(json_object_get(o, "t"));
	int r = 0;

	e.seq = ce->seq;
	e.offset = ce->off;
	e.hash = ce->hash;
	e.action = json_string_value(json_object_get(o, "action"));
	e.actor = json_string_value(json_object_get(o, "actor"));
	e.detail = json_object_get(o, "detail");
	if (!json_is_object(o) || !t || lt_time_parse_rfc3339(t, &e.t) ||
	    !e.action || !e.actor || !json_is_object(e.detail)) {
		struct buf m = BUF_INIT;
		buf_addf(&m, "%s: entry %llu at offset %llu: decrypts, but is "
			 "not an audit entry", rc->path,
			 (unsigned long long)ce->seq,
			 (unsigned long long)ce->off);
		if (rc->report)
			rc->report(rc->rctx, 1, m.data);
		else
			fprintf(stderr, "labtape: %s\n", m.data);
		buf_release(&m);
		rc->bad = 1;
	} else if (e.t >= rc->since && rc->fn) {
		r = rc->fn(rc->ctx, &e);
	}
	json_decref(o);
	return r;
}

static int walk(struct vault *v, int verify, struct read_ctx *rc)
{
	struct chainlog cl;
	struct buf recovered = BUF_INIT;
	int r, rr;

	r = chain_open(&cl, v, &CHAIN_AUDIT, 0);
	if (r == LT_ENOENT) {
		chain_close(&cl);
		return 0;
	}
	rc->path = cl.log_path.data;
	if (!r) {
		/* A log that does not match its head is not changed; the
		 * walk below names what is wrong with it. */
		rr = chain_recover(&cl, rc->report, rc->rctx);
		if (rr && rr != LT_ECORRUPT)
			r = rr;
		else if (rr)
			buf_addstr(&recovered, lt_errmsg());
	}
	if (!r)
		r = chain_walk(&cl, verify, rc->report, rc->rctx, on_entry, rc);
	if (!r && recovered.len) {
		if (rc->report)
			rc->report(rc->rctx, 1, recovered.data);
		r = LT_ECORRUPT;
	}
	if (!r && rc->bad)
		r = LT_ECORRUPT;
	chain_close(&cl);
	buf_release(&recovered);
	return r;
}

int audit_read(struct vault *v, int64_t since, audit_entry_fn *fn, void *ctx,
	       vault_report_fn *report, void *rctx)
{
	struct read_ctx rc = { since, fn, ctx, report, rctx, NULL, 0 };

	return walk(v, 0, &rc);
}

static int count(void *ctx, const struct audit_entry *e)
{
	(void)e;
	++*(uint64_t *)ctx;
	return 0;
}

int audit_verify(struct vault *v, vault_report_fn *report, void *ctx)
{
	uint64_t n = 0;
	struct read_ctx rc = { INT64_MIN, count, &n, report, ctx, NULL, 0 };
	struct buf m = BUF_INIT;
	int r;

	if (!vault_is_unlocked(v))
		return lt_error(LT_EINVAL, "the vault must be unlocked to "
				"verify the audit log");
	r = walk(v, 1, &rc);
	if (r == 0 || r == LT_ECORRUPT) {
		buf_addf(&m, "audit log: %llu entries%s", (unsigned long long)n,
			 r ? "" : ", chain intact");
		if (report)
			report(ctx, 0, m.data);
		buf_release(&m);
	}
	return r;
}

json_t *audit_entry_json(const struct audit_entry *e)
{
	char t[LT_TIME_MAX_LEN], h[65];

	lt_time_format(e->t, t);
	lt_hex(e->hash, 32, h);
	return json_pack("{s:I, s:s, s:s, s:s, s:O, s:I, s:s}", "seq",
			 (json_int_t)e->seq, "t", t, "action", e->action,
			 "actor", e->actor, "detail", e->detail, "offset",
			 (json_int_t)e->offset, "hash", h);
}
