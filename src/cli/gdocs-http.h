#ifndef LABTAPE_GDOCS_HTTP_H
#define LABTAPE_GDOCS_HTTP_H

/*
 * The gdocs-bot's HTTP client (libcurl) and its credentials: GET and POST
 * with timeouts, retries with exponential back-off and jitter on 429, 5xx,
 * Drive's 403 rate limits and network errors (Retry-After honoured), and
 * OAuth access tokens from a file or from a service account's key (a JWT
 * signed RS256 with OpenSSL, exchanged at the token URI).
 */

#include <stdint.h>

#include "buf.h"

struct gdocs_http;

/* A client; user_agent is sent with every request. Free with
 * gdocs_http_free(). */
struct gdocs_http *gdocs_http_new(const char *user_agent);
void gdocs_http_free(struct gdocs_http *h);

/*
 * GETs url with "Authorization: Bearer token" (if token is not NULL), or
 * POSTs form (application/x-www-form-urlencoded) if form is not NULL.
 * Retries as said above. On a 2xx answer returns 0 with the body in out
 * (replacing what it held). Else LT_EIO with a message naming the URL
 * and the status, and *status set (0 for a network error).
 */
int gdocs_http_request(struct gdocs_http *h, const char *url,
		       const char *token, const char *form, struct buf *out,
		       long *status);

/* url-encodes s and appends it to out. */
void gdocs_http_escape(struct gdocs_http *h, struct buf *out, const char *s);

/* Where access tokens come from. */
struct gdocs_auth {
	const char *token_file;		/* a file holding a token, or */
	const char *sa_file;		/* a service account's JSON key */
	const char *token_uri;		/* NULL: the key's token_uri */
	char *token;			/* the current token */
	int64_t expires;		/* when it expires, ns (0: never) */
};

/* Sets a->token to a valid access token, getting a new one if needed.
 * Errors name the file or the token URI. */
int gdocs_auth_token(struct gdocs_http *h, struct gdocs_auth *a);
void gdocs_auth_release(struct gdocs_auth *a);

#endif
