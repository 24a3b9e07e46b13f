#ifndef LABTAPE_CONTROL_H
#define LABTAPE_CONTROL_H

/*
 * The control socket's server side (doc/protocol.md): a Unix stream
 * socket, mode 0600, answering one JSON object per line with one JSON
 * object per line. Connections from another user are refused.
 */

#include <stddef.h>

struct recorder;

/* Binds and listens; refuses if another recorder answers on path. */
int control_listen(struct recorder *rec, const char *path);
/* Stops listening, closes every connection and removes the socket. */
void control_close(struct recorder *rec);

/* Handles one request (a JSON text) and returns the response, without a
 * newline (caller frees). Exposed for the fuzz target. done is called
 * when an answer needs the thread pool (unlock); NULL answers at once. */
char *control_handle(struct recorder *rec, const char *line, size_t n);

#endif
