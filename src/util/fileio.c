#define _GNU_SOURCE	/* syncfs */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "error.h"
#include "banned.h"

/* Fault injection: bytes this process may still write, -1 (no limit) or
 * -2 (not read yet). Atomic: a tape's sealer thread writes too. */
static _Atomic long long fault_budget = -2;

static int fault_check(size_t n)
{
	long long b = atomic_load(&fault_budget), want = (long long)n;

	if (b == -2) {
		const char *s = getenv("LABTAPE_FAULT_ENOSPC");
		long long v = s && *s ? strtoll(s, NULL, 10) : -1;
		atomic_compare_exchange_strong(&fault_budget, &b, v);
		b = atomic_load(&fault_budget);
	}
	for (;;) {
		if (b < 0)
			return 0;
		if (atomic_compare_exchange_weak(&fault_budget, &b,
						 want > b ? 0 : b - want))
			break;
	}
	if (want > b) {
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

void lt_fault_enospc(long long budget)
{
	atomic_store(&fault_budget, budget < 0 ? -1 : budget);
}

int lt_write_all(int fd, const void *data, size_t n, const char *what)
{
	const char *p = data;

	if (fault_check(n))
		return lt_error_errno(LT_EIO, "cannot write %s", what);
	while (n) {
		ssize_t r = write(fd, p, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return lt_error_errno(LT_EIO, "cannot write %s", what);
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int lt_pwrite_all(int fd, const void *data, size_t n, off_t off,
		  const char *what)
{
	const char *p = data;

	if (fault_check(n))
		return lt_error_errno(LT_EIO, "cannot write %s", what);
	while (n) {
		ssize_t r = pwrite(fd, p, n, off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return lt_error_errno(LT_EIO, "cannot write %s", what);
		}
		p += r;
		n -= (size_t)r;
		off += r;
	}
	return 0;
}

int lt_pread_all(int fd, void *data, size_t n, off_t off, const char *what)
{
	char *p = data;

	while (n) {
		ssize_t r = pread(fd, p, n, off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return lt_error_errno(LT_EIO, "cannot read %s", what);
		}
		if (r == 0)
			return lt_error(LT_ECORRUPT,
					"%s ends early at offset %lld", what,
					(long long)off);
		p += r;
		n -= (size_t)r;
		off += r;
	}
	return 0;
}

int lt_fsync(int fd, const char *what)
{
	while (fdatasync(fd) < 0) {
		if (errno != EINTR)
			return lt_error_errno(LT_EIO, "cannot sync %s", what);
	}
	return 0;
}

int lt_syncfs(int fd, const char *what)
{
	if (syncfs(fd) < 0)
		return lt_error_errno(LT_EIO, "cannot sync the file system of "
				      "'%s'", what);
	return 0;
}

int lt_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return lt_error_errno(LT_EIO, "cannot open directory '%s'", dir);
	while (fsync(fd) < 0) {
		if (errno != EINTR) {
			r = lt_error_errno(LT_EIO, "cannot sync directory '%s'", dir);
			break;
		}
	}
	close(fd);
	return r;
}

int lt_read_file(const char *path, size_t max, struct buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return lt_error_errno(errno == ENOENT ? LT_ENOENT : LT_EIO,
				      "cannot open '%s'", path);
	for (;;) {
		if (out->len >= max) {
			r = lt_error(LT_ETOOBIG, "'%s' is larger than %zu bytes",
				     path, max);
			break;
		}
		if ((r = buf_grow(out, 8192)) < 0)
			break;
		/* Read at most one byte past max, to tell "too big" apart. */
		size_t room = out->alloc - out->len - 1;
		if (room > max - out->len + 1)
			room = max - out->len + 1;
		ssize_t n = read(fd, out->data + out->len, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = lt_error_errno(LT_EIO, "cannot read '%s'", path);
			break;
		}
		if (n == 0)
			break;
		buf_setlen(out, out->len + (size_t)n);
	}
	close(fd);
	return r;
}

void lt_dirname(const char *path, struct buf *out)
{
	const char *slash = strrchr(path, '/');

	buf_reset(out);
	if (!slash)
		buf_addstr(out, ".");
	else if (slash == path)
		buf_addstr(out, "/");
	else
		buf_add(out, path, (size_t)(slash - path));
}

void lt_basename(const char *path, struct buf *out)
{
	size_t n = strlen(path), s;

	while (n > 1 && path[n - 1] == '/')
		n--;
	s = n;
	while (s > 0 && path[s - 1] != '/')
		s--;
	buf_reset(out);
	buf_add(out, path + s, n - s);
}

int lt_write_file_atomic(const char *path, const void *data, size_t n,
			 mode_t mode, int flags)
{
	int sync = !(flags & LT_WRITE_NOSYNC);
	struct buf tmp = BUF_INIT, dir = BUF_INIT;
	int fd, r;

	buf_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		r = lt_error_errno(LT_EIO, "cannot create '%s'", tmp.data);
		goto out;
	}
	r = lt_write_all(fd, data, n, tmp.data);
	if (!r && sync)
		r = lt_fsync(fd, tmp.data);
	if (close(fd) < 0 && !r)
		r = lt_error_errno(LT_EIO, "cannot close '%s'", tmp.data);
	if (r)
		goto fail;
	if (flags & LT_WRITE_EXCL) {
		/* link() fails if path exists: no window where it is replaced. */
		if (link(tmp.data, path) < 0) {
			r = lt_error_errno(errno == EEXIST ? LT_EEXIST : LT_EIO,
					   "cannot create '%s'", path);
			goto fail;
		}
		unlink(tmp.data);
	} else if (rename(tmp.data, path) < 0) {
		r = lt_error_errno(LT_EIO, "cannot replace '%s'", path);
		goto fail;
	}
	if (sync) {
		lt_dirname(path, &dir);
		r = lt_fsync_dir(dir.data);
	}
	goto out;
fail:
	unlink(tmp.data);
out:
	buf_release(&tmp);
	buf_release(&dir);
	return r;
}

static int mkdirs(const char *path, mode_t mode, int sync);

int lt_mkdirs(const char *path, mode_t mode)
{
	return mkdirs(path, mode, 1);
}

int lt_mkdirs_nosync(const char *path, mode_t mode)
{
	return mkdirs(path, mode, 0);
}

int lt_private_dir(const char *dir)
{
	struct stat st;
	int r = lt_mkdirs_nosync(dir, 0700);

	if (!r && (stat(dir, &st) < 0 || st.st_uid != getuid() ||
		   (st.st_mode & 077))) {
		r = lt_error(LT_EINVAL, "'%s' must be a folder of yours that no "
			     "one else can open (chmod 700)", dir);
	}
	return r;
}

int lt_socket_dir(const char *path)
{
	struct buf dir = BUF_INIT;
	int r;

	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return lt_error(LT_EINVAL, "socket path '%s' is too long (set "
				"LABTAPE_SOCKET to a shorter one)", path);
	lt_dirname(path, &dir);
	r = lt_private_dir(dir.data);
	buf_release(&dir);
	return r;
}

static int mkdirs(const char *path, mode_t mode, int sync)
{
	struct buf p = BUF_INIT;
	int r = 0;

	buf_addstr(&p, path);
	for (char *s = p.data + 1; ; s++) {
		char c = *s;
		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p.data, mode) == 0) {
			/* Make the new entry durable in its parent. */
			struct buf parent = BUF_INIT;
			if (sync) {
				lt_dirname(p.data, &parent);
				r = lt_fsync_dir(parent.data);
				buf_release(&parent);
			}
			if (r)
				break;
		} else if (errno != EEXIST) {
			r = lt_error_errno(LT_EIO, "cannot create directory '%s'",
					   p.data);
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	buf_release(&p);
	return r;
}
