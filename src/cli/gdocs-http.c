/*
 * The gdocs-bot's HTTP client and credentials (gdocs-http.h).
 *
 * NOTES
 *
 *  1. Retries: up to HTTP_TRIES attempts. A 429, any 5xx, a 403 whose
 *     body says rateLimitExceeded or userRateLimitExceeded (Drive's way
 *     of saying 429), and network errors (no connection, a timeout, a
 *     connection cut) are tried again; everything else is final. The wait
 *     before attempt k+1 is the server's Retry-After when it sent one
 *     (capped at RETRY_AFTER_MAX), else "equal jitter": half of
 *     min(BACKOFF_BASE * 2^k, BACKOFF_MAX) plus a random part of the
 *     other half, so that many clients do not come back in step.
 *  2. Timeouts: CONNECT_TIMEOUT to connect; a transfer slower than one
 *     byte a second for STALL_TIME is cut (rather than a total timeout,
 *     which a large changelog on a slow line would hit).
 *  3. A service account's token: a JWT {"alg":"RS256","typ":"JWT"} with
 *     claims iss (client_email), scope, aud (the token URI), iat and exp
 *     (an hour later), signed with the key's RSA private key through
 *     OpenSSL's EVP interface (RFC 7515, RFC 7523), posted as
 *     grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer. A token is
 *     used until a minute before it expires.
 */
#include "gdocs-http.h"

#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "error.h"
#include "fileio.h"
#include "ltime.h"
#include "xalloc.h"
#include "banned.h"

#define HTTP_TRIES 6
#define BACKOFF_BASE_MS 500
#define BACKOFF_MAX_MS 60000
#define RETRY_AFTER_MAX_S 600
#define CONNECT_TIMEOUT_S 20
#define STALL_TIME_S 60
#define BODY_MAX (512u << 20)
#define SCOPE "https://www.googleapis.com/auth/drive.readonly"

struct gdocs_http {
	CURL *curl;
	char *user_agent;
	char error[CURL_ERROR_SIZE];
};

struct gdocs_http *gdocs_http_new(const char *user_agent)
{
	struct gdocs_http *h = xcalloc(1, sizeof(*h));
	static int global;

	if (!global) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		global = 1;
	}
	h->curl = curl_easy_init();
	if (!h->curl)
		abort();
	h->user_agent = xstrdup(user_agent);
	return h;
}

void gdocs_http_free(struct gdocs_http *h)
{
	if (!h)
		return;
	curl_easy_cleanup(h->curl);
	free(h->user_agent);
	free(h);
}

void gdocs_http_escape(struct gdocs_http *h, struct buf *out, const char *s)
{
	char *e = curl_easy_escape(h->curl, s, 0);

	if (!e)
		abort();
	buf_addstr(out, e);
	curl_free(e);
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;

	return buf_add(b, p, size * n) ? 0 : size * n;
}

/* Waits ms milliseconds. */
static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1)
		;
}

static int retryable_net(CURLcode c)
{
	switch (c) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_WRITE_ERROR:		/* the body is over BODY_MAX */
	case CURLE_OUT_OF_MEMORY:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_PEER_FAILED_VERIFICATION:
		return 0;
	default:
		return 1;
	}
}

static int retryable_status(long st, const struct buf *body)
{
	if (st == 429 || (st >= 500 && st <= 599))
		return 1;
	return st == 403 && (strstr(body->data, "rateLimitExceeded") ||
			     strstr(body->data, "userRateLimitExceeded"));
}

/* The wait before attempt k + 1 (note 1). */
static long backoff_ms(int k, curl_off_t retry_after)
{
	long cap = BACKOFF_BASE_MS, half;

	if (retry_after > 0)
		return (long)(retry_after > RETRY_AFTER_MAX_S ?
			      RETRY_AFTER_MAX_S : retry_after) * 1000;
	for (int i = 0; i < k && cap < BACKOFF_MAX_MS; i++)
		cap *= 2;
	if (cap > BACKOFF_MAX_MS)
		cap = BACKOFF_MAX_MS;
	half = cap / 2;
	return half + (long)randombytes_uniform((uint32_t)half + 1);
}

int gdocs_http_request(struct gdocs_http *h, const char *url,
		       const char *token, const char *form, struct buf *out,
		       long *status)
{
	struct curl_slist *hdr = NULL;
	struct buf auth = BUF_INIT;
	CURLcode c = CURLE_OK;
	long st = 0;
	int r = 0;

	if (token) {
		buf_addf(&auth, "Authorization: Bearer %s", token);
		hdr = curl_slist_append(hdr, auth.data);
	}
	out->cap = BODY_MAX;
	for (int k = 0; k < HTTP_TRIES; k++) {
		curl_off_t after = 0;
		CURL *e = h->curl;

		buf_reset(out);
		curl_easy_reset(e);
		curl_easy_setopt(e, CURLOPT_URL, url);
		curl_easy_setopt(e, CURLOPT_USERAGENT, h->user_agent);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)STALL_TIME_S);
		curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
		curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->error);
		if (form)
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, form);
		h->error[0] = 0;
		c = curl_easy_perform(e);
		st = 0;
		if (c == CURLE_OK) {
			curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &st);
			if (st >= 200 && st <= 299)
				break;
			if (!retryable_status(st, out))
				break;
			curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &after);
		} else if (!retryable_net(c)) {
			break;
		}
		if (k + 1 < HTTP_TRIES)
			pause_ms(backoff_ms(k, after));
	}
	if (c != CURLE_OK)
		r = lt_error(LT_EIO, "%s: %s", url,
			     h->error[0] ? h->error : curl_easy_strerror(c));
	else if (st < 200 || st > 299)
		r = lt_error(LT_EIO, "%s: HTTP %ld: %.200s", url, st,
			     out->data);
	*status = st;
	curl_slist_free_all(hdr);
	buf_release(&auth);
	return r;
}

/* ---- Credentials (note 3) -------------------------------------------------- */

static void b64url(struct buf *out, const void *p, size_t n)
{
	size_t m = sodium_base64_ENCODED_LEN(n,
				sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *s = xmalloc(m);

	sodium_bin2base64(s, m, p, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	buf_addstr(out, s);
	free(s);
}

/* Signs data with the PEM key, RS256, appending base64url to out. */
static int rs256(const char *pem, const char *data, size_t n,
		 struct buf *out, const char *file)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
			    : NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int r = 0;

	if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
		r = lt_error(LT_EINVAL, "%s: private_key is not an RSA private "
			     "key in PEM form", file);
	else if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
		 EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)data,
				n) != 1 ||
		 !(sig = xmalloc(siglen)) ||
		 EVP_DigestSign(md, sig, &siglen, (const unsigned char *)data,
				n) != 1)
		r = lt_error(LT_EINVAL, "%s: cannot sign with private_key",
			     file);
	else
		b64url(out, sig, siglen);
	free(sig);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	BIO_free(bio);
	return r;
}

static int sa_token(struct gdocs_http *h, struct gdocs_auth *a)
{
	struct buf file = BUF_INIT, jwt = BUF_INIT, form = BUF_INIT,
		   resp = BUF_INIT;
	json_t *key = NULL, *hd = NULL, *cl = NULL, *ans = NULL;
	json_error_t err;
	const char *email, *pem, *uri;
	char *s;
	int64_t now = lt_now_ns() / LT_NS_PER_SEC;
	long st;
	int r;

	if ((r = lt_read_file(a->sa_file, 1 << 20, &file)))
		goto out;
	key = json_loadb(file.data, file.len, 0, &err);
	email = json_string_value(json_object_get(key, "client_email"));
	pem = json_string_value(json_object_get(key, "private_key"));
	uri = a->token_uri ? a->token_uri
			   : json_string_value(json_object_get(key, "token_uri"));
	if (!email || !pem || !uri) {
		r = lt_error(LT_EINVAL, "%s: not a service account key (JSON "
			     "with client_email, private_key and token_uri)",
			     a->sa_file);
		goto out;
	}
	hd = json_pack("{s:s, s:s}", "alg", "RS256", "typ", "JWT");
	if (json_is_string(json_object_get(key, "private_key_id")))
		json_object_set(hd, "kid", json_object_get(key, "private_key_id"));
	cl = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", email, "scope",
		       SCOPE, "aud", uri, "iat", (json_int_t)now, "exp",
		       (json_int_t)(now + 3600));
	s = json_dumps(hd, JSON_COMPACT);
	b64url(&jwt, s, strlen(s));
	free(s);
	buf_addch(&jwt, '.');
	s = json_dumps(cl, JSON_COMPACT);
	b64url(&jwt, s, strlen(s));
	free(s);
	{
		size_t n = jwt.len;
		buf_addch(&jwt, '.');
		if ((r = rs256(pem, jwt.data, n, &jwt, a->sa_file)))
			goto out;
	}
	buf_addstr(&form, "grant_type=");
	gdocs_http_escape(h, &form, "urn:ietf:params:oauth:grant-type:jwt-bearer");
	buf_addstr(&form, "&assertion=");
	gdocs_http_escape(h, &form, jwt.data);
	if ((r = gdocs_http_request(h, uri, NULL, form.data, &resp, &st)))
		goto out;
	ans = json_loadb(resp.data, resp.len, 0, &err);
	if (!json_is_string(json_object_get(ans, "access_token"))) {
		r = lt_error(LT_EIO, "%s: the answer has no access_token", uri);
		goto out;
	}
	free(a->token);
	a->token = xstrdup(json_string_value(json_object_get(ans,
							     "access_token")));
	a->expires = lt_now_ns() + (json_is_integer(json_object_get(ans,
						"expires_in")) ?
		json_integer_value(json_object_get(ans, "expires_in")) : 3600) *
		LT_NS_PER_SEC;
out:
	json_decref(key);
	json_decref(hd);
	json_decref(cl);
	json_decref(ans);
	sodium_memzero(file.data, file.len);
	buf_release(&file);
	buf_release(&jwt);
	buf_release(&form);
	buf_release(&resp);
	return r;
}

int gdocs_auth_token(struct gdocs_http *h, struct gdocs_auth *a)
{
	struct buf b = BUF_INIT;
	int r;

	if (a->sa_file) {
		if (a->token && lt_now_ns() < a->expires - 60 * LT_NS_PER_SEC)
			return 0;
		return sa_token(h, a);
	}
	/* A token file is read again every time: whatever keeps it fresh
	 * may have written a new one. */
	if ((r = lt_read_file(a->token_file, 1 << 16, &b)))
		return r;
	b.data[strcspn(b.data, "\r\n")] = 0;
	if (!*b.data) {
		buf_release(&b);
		return lt_error(LT_EINVAL, "%s: no access token on its first "
				"line", a->token_file);
	}
	free(a->token);
	a->token = xstrdup(b.data);
	sodium_memzero(b.data, b.len);
	buf_release(&b);
	return 0;
}

void gdocs_auth_release(struct gdocs_auth *a)
{
	if (a->token) {
		sodium_memzero(a->token, strlen(a->token));
		free(a->token);
	}
	a->token = NULL;
}
