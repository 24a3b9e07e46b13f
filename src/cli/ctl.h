#ifndef LABTAPE_CTL_H
#define LABTAPE_CTL_H

/*
 * The client side of the recorder's control socket (doc/protocol.md):
 * blocking, one request and one response per call.
 */

#include <jansson.h>

struct ctl {
	int fd;
	char *path;
};

/* Connects to the recorder's socket. LT_ENOENT (with a message saying
 * how to start one) if no recorder is running. */
int ctl_connect(struct ctl *c);
void ctl_close(struct ctl *c);

/*
 * Sends req (not consumed) and reads the answer into *resp (caller
 * json_decref()s). Returns 0 when the recorder answered "ok": true,
 * LT_EINVAL with its error message when it answered "ok": false, or an
 * I/O error.
 */
int ctl_call(struct ctl *c, json_t *req, json_t **resp);

#endif
