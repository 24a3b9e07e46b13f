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
/* Connects to the socket at path; LT_ENOENT if nothing answers there. */
int ctl_connect_path(struct ctl *c, const char *path);
void ctl_close(struct ctl *c);

/*
 * The server side for `labtape shell`'s session socket (the recorder has
 * its own, on libuv): listens on path, in a folder of the user's that is
 * closed to others (made if missing), mode 0600, replacing a stale
 * socket. *fd is non-blocking and close-on-exec. 0 or an error.
 */
int ctl_listen(const char *path, int *fd);
/* Whether the peer of a connected socket is this user (SO_PEERCRED). */
int ctl_peer_is_me(int fd);

/*
 * Sends req (not consumed) and reads the answer into *resp (caller
 * json_decref()s). Returns 0 when the recorder answered "ok": true,
 * LT_EINVAL with its error message when it answered "ok": false, or an
 * I/O error.
 */
int ctl_call(struct ctl *c, json_t *req, json_t **resp);

#endif
