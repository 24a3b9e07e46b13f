#ifndef LABTAPE_FILEIO_H
#define LABTAPE_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

/*
 * File I/O that retries on EINTR and short transfers and reports failures
 * through lt_error(). All of the vault's writes go through lt_write_all()
 * and lt_pwrite_all(), which is where tests inject a full disk:
 *
 *   LABTAPE_FAULT_ENOSPC=N   every write after the first N bytes written by
 *                            this process fails with ENOSPC.
 */
/* The same budget set from code (tests); negative: no limit. */
void lt_fault_enospc(long long budget);

int lt_write_all(int fd, const void *data, size_t n, const char *what);
int lt_pwrite_all(int fd, const void *data, size_t n, off_t off,
		  const char *what);
/* Reads exactly n bytes at off; LT_ECORRUPT if the file is shorter. */
int lt_pread_all(int fd, void *data, size_t n, off_t off, const char *what);

/* fdatasync(fd), or fsync() of a directory by path. */
int lt_fsync(int fd, const char *what);
int lt_fsync_dir(const char *dir);
/* Syncs the whole file system holding fd: cheaper than an fsync per file
 * when there are many, and it covers their directory entries too. */
int lt_syncfs(int fd, const char *what);

/* Reads a whole file (at most max bytes) into out. */
int lt_read_file(const char *path, size_t max, struct buf *out);

/*
 * Replaces path with data durably: writes a temporary file beside it, syncs
 * it, renames it over path and syncs the directory. Readers see the old or
 * the new content, never a mix. flags: LT_WRITE_EXCL fails with LT_EEXIST
 * rather than replace an existing file; LT_WRITE_NOSYNC leaves the syncs
 * to the caller (who makes it durable later, e.g. with syncfs()).
 */
#define LT_WRITE_EXCL 1
#define LT_WRITE_NOSYNC 2
int lt_write_file_atomic(const char *path, const void *data, size_t n,
			 mode_t mode, int flags);

/* mkdir -p with mode for what it creates; each directory it creates is
 * synced into its parent. */
int lt_mkdirs(const char *path, mode_t mode);
/* The same without the syncs, for caches that need not survive a crash. */
int lt_mkdirs_nosync(const char *path, mode_t mode);

/* Makes dir (mkdir -p, mode 0700, no syncs: sockets' folders live in
 * memory) and checks that it is the user's and closed to everyone else.
 * 0, or LT_EIO / LT_EINVAL with a message saying what to do. */
int lt_private_dir(const char *dir);
/* For a Unix socket at path: checks that the path fits in a socket
 * address and makes its folder with lt_private_dir. */
int lt_socket_dir(const char *path);

/* The directory part of path, in out. */
void lt_dirname(const char *path, struct buf *out);
/* The last part of path, trailing slashes left out ("a/b/" gives "b"),
 * in out. */
void lt_basename(const char *path, struct buf *out);

#endif
