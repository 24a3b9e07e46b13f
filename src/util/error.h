#ifndef LABTAPE_ERROR_H
#define LABTAPE_ERROR_H

/*
 * Errors, libuv's way: library functions return 0 on success or one of the
 * negative codes below. The function that detects a failure also records a
 * human message with lt_error(); the caller that decides to give up prints
 * lt_errmsg(). The message is per thread and lasts until the next
 * lt_error() call in that thread.
 *
 * Messages start lowercase, name the thing and say what to do, e.g.
 *   cannot open vault '/x': not a vault (run 'labtape init')
 */

enum lt_errcode {
	LT_OK = 0,
	LT_EINVAL = -1,    /* bad argument or malformed input */
	LT_EIO = -2,       /* an operating system call failed */
	LT_ENOSPC = -3,    /* the disk is full */
	LT_ENOENT = -4,    /* something that should exist does not */
	LT_EEXIST = -5,    /* something that should not exist does */
	LT_ECORRUPT = -6,  /* stored data fails its checks */
	LT_EVERSION = -7,  /* a format version this build does not know */
	LT_EAUTH = -8,     /* wrong passphrase, or data that does not decrypt */
	LT_ETOOBIG = -9,   /* over a size limit */
	LT_EBUSY = -10,    /* locked by another process */
	LT_ENOKEY = -11,   /* the key needed was destroyed or never existed */
	LT_EDB = -12,      /* the index database failed */
	LT_ECANCEL = -13,  /* the user said no */
};

/*
 * Record a message for the current failure and return code, so that a
 * caller can write `return lt_error(LT_EIO, "cannot read '%s': %s", ...)`.
 */
int lt_error(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Like lt_error(), with strerror(errno) appended after ": ". An errno of
 * ENOSPC or EDQUOT turns the code into LT_ENOSPC. */
int lt_error_errno(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefix the current message with "prefix: ". Returns code. */
int lt_error_wrap(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The message recorded by the last lt_error() in this thread. */
const char *lt_errmsg(void);

/* A short generic description of a code ("disk full", ...). */
const char *lt_strerror(int code);

#endif
