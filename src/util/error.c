#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "banned.h"

static _Thread_local char errbuf[1024];

int lt_error(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return code;
}

int lt_error_errno(int code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	n = strlen(errbuf);
	snprintf(errbuf + n, sizeof(errbuf) - n, ": %s", strerror(saved));
	if (saved == ENOSPC || saved == EDQUOT)
		return LT_ENOSPC;
	return code;
}

int lt_error_wrap(int code, const char *fmt, ...)
{
	char old[sizeof(errbuf)];
	va_list ap;
	size_t n;

	memcpy(old, errbuf, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	n = strlen(errbuf);
	snprintf(errbuf + n, sizeof(errbuf) - n, ": %s", old);
	return code;
}

const char *lt_errmsg(void)
{
	return errbuf[0] ? errbuf : "unknown error";
}

const char *lt_strerror(int code)
{
	switch (code) {
	case LT_OK: return "success";
	case LT_EINVAL: return "invalid input";
	case LT_EIO: return "input/output error";
	case LT_ENOSPC: return "disk full";
	case LT_ENOENT: return "not found";
	case LT_EEXIST: return "already exists";
	case LT_ECORRUPT: return "corrupt data";
	case LT_EVERSION: return "unsupported format version";
	case LT_EAUTH: return "authentication failed";
	case LT_ETOOBIG: return "too large";
	case LT_EBUSY: return "busy";
	case LT_ENOKEY: return "key not available";
	case LT_EDB: return "index database error";
	case LT_ECANCEL: return "cancelled";
	}
	return "unknown error";
}
