#ifndef LABTAPE_RECORDER_H
#define LABTAPE_RECORDER_H

/*
 * The recorder: `labtape record`. One libuv loop runs the configured
 * sources, writes what they emit into the vault through one tape in
 * autocommit mode, and answers the control socket (doc/protocol.md).
 *
 *	struct recorder_options o = { cfg, vault_dir, socket_path, ... };
 *	return recorder_run(&o);    returns when stopped
 */

#include "config.h"

struct recorder_options {
	const struct config *cfg;
	const char *vault_dir;
	const char *socket_path;
	/* Called once the recorder is listening (for --detach), or NULL. */
	void (*ready)(void *ctx);
	void *ready_ctx;
};

/* Runs until `labtape stop`, SIGINT or SIGTERM. 0, or an error (with
 * lt_errmsg()) if it could not start. */
int recorder_run(const struct recorder_options *o);

#endif
