#define _GNU_SOURCE	/* struct ucred, for SO_PEERCRED */
#include "ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "error.h"
#include "fileio.h"
#include "xalloc.h"
#include "banned.h"

int ctl_connect_path(struct ctl *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	c->fd = -1;
	c->path = xstrdup(path);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		ctl_close(c);
		return lt_error(LT_ENOENT, "socket path '%s' is too long", path);
	}
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		ctl_close(c);
		return lt_error_errno(LT_EIO, "cannot create a socket");
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = lt_error_errno(errno == ENOENT || errno == ECONNREFUSED ?
				       LT_ENOENT : LT_EIO,
				       "nothing answers on '%s'", path);
		ctl_close(c);
		return r;
	}
	return 0;
}

int ctl_connect(struct ctl *c)
{
	struct buf path = BUF_INIT;
	int r;

	config_socket_path(&path);
	if ((r = ctl_connect_path(c, path.data)))
		r = lt_error(r, "no recorder is running (nothing answers on "
			     "'%s'; start one with 'labtape record')",
			     path.data);
	buf_release(&path);
	return r;
}

int ctl_listen(const char *path, int *fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int r;

	*fd = -1;
	if ((r = lt_socket_dir(path)))
		return r;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (*fd < 0)
		return lt_error_errno(LT_EIO, "cannot create a socket");
	unlink(path);
	old = umask(077);
	r = bind(*fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || chmod(path, 0600) < 0 || listen(*fd, 8) < 0) {
		r = lt_error_errno(LT_EIO, "cannot listen on '%s'", path);
		close(*fd);
		*fd = -1;
		return r;
	}
	return 0;
}

int ctl_peer_is_me(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
	       cred.uid == getuid();
}

void ctl_close(struct ctl *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->path);
	c->path = NULL;
}

int ctl_call(struct ctl *c, json_t *req, json_t **resp)
{
	struct buf in = BUF_INIT;
	json_error_t jerr;
	char *text = json_dumps(req, JSON_COMPACT);
	char *nl = NULL;
	int r;

	*resp = NULL;
	{
		struct buf out = BUF_INIT;
		buf_addstr(&out, text);
		buf_addch(&out, '\n');
		r = lt_write_all(c->fd, out.data, out.len, "the control socket");
		if (out.alloc)
			memset(out.data, 0, out.alloc);	/* may hold a passphrase */
		buf_release(&out);
	}
	memset(text, 0, strlen(text));
	free(text);
	if (r)
		return r;
	while (!nl) {
		ssize_t n;
		buf_grow(&in, 4096);
		n = read(c->fd, in.data + in.len, in.alloc - in.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			buf_release(&in);
			return lt_error(LT_EIO, "the recorder closed the connection "
					"without answering");
		}
		buf_setlen(&in, in.len + (size_t)n);
		nl = memchr(in.data, '\n', in.len);
	}
	*resp = json_loadb(in.data, (size_t)(nl - in.data), 0, &jerr);
	buf_release(&in);
	if (!json_is_object(*resp)) {
		json_decref(*resp);
		*resp = NULL;
		return lt_error(LT_EIO, "the recorder's answer is not JSON");
	}
	if (!json_is_true(json_object_get(*resp, "ok"))) {
		const char *e = json_string_value(json_object_get(*resp, "error"));
		return lt_error(LT_EINVAL, "%s", e ? e : "the recorder refused");
	}
	return 0;
}
