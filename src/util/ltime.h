#ifndef LABTAPE_LTIME_H
#define LABTAPE_LTIME_H

#include <stdint.h>

/*
 * Time in labtape is an int64 count of nanoseconds since the Unix epoch,
 * UTC (enough until the year 2262).
 */

#define LT_NS_PER_SEC 1000000000LL
#define LT_NS_PER_DAY (86400LL * LT_NS_PER_SEC)
#define LT_TIME_MAX_LEN 40

/* Wall-clock time now. */
int64_t lt_now_ns(void);
/* Monotonic time, for intervals. */
int64_t lt_mono_ns(void);
/* The same clock at tick resolution (a few ms), much cheaper to read: for
 * checks on hot paths (the tape asks it once per record). */
int64_t lt_mono_coarse_ns(void);

/* The UTC day (days since 1970-01-01, floor) a timestamp falls in. */
static inline int32_t lt_day_of(int64_t ns)
{
	int64_t d = ns / LT_NS_PER_DAY;
	if (ns % LT_NS_PER_DAY < 0)
		d--;
	return (int32_t)d;
}

/* Formats as RFC 3339 UTC with nine fraction digits:
 * "2026-11-26T19:00:00.123456789Z". out has LT_TIME_MAX_LEN bytes. */
void lt_time_format(int64_t ns, char *out);
/* "2026-11-26" for a day number; out has at least 16 bytes. */
void lt_day_format(int32_t day, char *out);

/*
 * Parses RFC 3339 ("2026-11-26T19:00:00Z", with up to nine fraction digits
 * and 'Z' or a +hh:mm offset; 't', 'z' and a space for 'T' accepted), a
 * bare date ("2026-11-26", midnight UTC), or a relative time before now
 * ("10m", "2h", "3d" ago; units s, m, h, d, w). Returns 0 or LT_EINVAL
 * with a message.
 */
int lt_time_parse(const char *s, int64_t *out);
/* Parses a strict RFC 3339 timestamp only (no dates, no relative forms). */
int lt_time_parse_rfc3339(const char *s, int64_t *out);

/* Parses a duration ("500ms", "90s", "15m", "2h", "1d", "1h30m") into ns. */
int lt_duration_parse(const char *s, int64_t *out);

#endif
