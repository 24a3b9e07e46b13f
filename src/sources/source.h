#ifndef LABTAPE_SOURCE_H
#define LABTAPE_SOURCE_H

/*
 * The interface every source implements, and the services the recorder
 * (src/daemon) gives them. A source turns something happening on the
 * machine into events; it never writes the vault itself and never
 * includes another source.
 *
 * Life of a source, driven by the recorder's supervisor:
 *
 *	ops->start(s)     register libuv handles on s->loop; 0 or an error
 *	...               handles fire; the source calls s->emit()
 *	ops->pause(s, 1)  stop emitting (and, ideally, stop working)
 *	ops->pause(s, 0)  go on
 *	ops->stop(s)      close every handle (uv_close) and free what it owns
 *
 * A source that hits an error it cannot recover from calls s->fail():
 * the supervisor stops it, logs the error, shows it in `labtape status`,
 * and starts it again later with exponential back-off. Other sources go
 * on regardless.
 */

#include <stdint.h>

#include <jansson.h>
#include <uv.h>

struct config;
struct source;

/*
 * What an event is about, beyond its source and time, for the recorder's
 * exclusion filter (src/privacy/filter.h). Any field may be NULL: unknown.
 */
struct source_about {
	const char *dir;	/* an absolute folder path is relative to */
	const char *path;	/* the file: absolute, or relative to dir */
	const char *app;	/* application or window class */
	const char *title;	/* window title */
};

struct source_ops {
	const char *name;	/* "files"; also the config section */
	int (*start)(struct source *s);
	void (*pause)(struct source *s, int paused);
	/* Must close every handle the source opened; it may free its memory
	 * from the handles' close callbacks. */
	void (*stop)(struct source *s);
};

struct source {
	const struct source_ops *ops;
	uv_loop_t *loop;
	const struct config *cfg;
	/* The vault recorded into (32 hex digits): state a source keeps
	 * outside the vault is kept per vault, so that two vaults recording
	 * one folder do not share it. */
	const char *vault_id;
	void *priv;		/* the source's own state */

	/*
	 * Records one event: data is validated against the kind (src/events)
	 * and passes the recorder's filter (pause, exclusions) before it
	 * reaches the vault. about (or NULL) is what the event is about, for
	 * the exclusions. Returns 0 when accepted or dropped on purpose, an
	 * error when it could not be stored. Does not take data's reference.
	 * t is ns since the epoch, UTC.
	 */
	int (*emit)(struct source *s, const char *stream, int64_t t,
		    const char *kind, json_t *data,
		    const struct source_about *about);
	/*
	 * The same for a payload already encoded by one of the events
	 * layer's direct encoders (ev_encode_chunk, ev_encode_term_io):
	 * bulk bytes skip JSON and base64 both ways. The encoder vouches
	 * for the payload, so it is not validated again.
	 */
	int (*emit_payload)(struct source *s, const char *stream, int64_t t,
			    const char *kind, const void *payload, size_t n,
			    const struct source_about *about);
	/*
	 * Whether an event about about, now, would be excluded (and counts
	 * it as excluded if so): a source asks before it does the work of
	 * reading something, so that it neither reads nor caches what is
	 * not to be recorded. emit() applies the same rules regardless.
	 */
	int (*excluded)(struct source *s, const struct source_about *about);
	/* Reports that the source cannot go on; the message names what
	 * failed and how to fix it. The supervisor stops and restarts it. */
	void (*fail)(struct source *s, int code, const char *msg);
	/* Logs a problem the source handled itself (a file it skipped). */
	void (*warn)(struct source *s, const char *msg);
	void *host;		/* the recorder's, not the source's */
};

/* The sources labtape knows, NULL-terminated. */
extern const struct source_ops *const source_registry[];

#endif
