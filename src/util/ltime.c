#include "ltime.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "banned.h"

int64_t lt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * LT_NS_PER_SEC + ts.tv_nsec;
}

int64_t lt_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * LT_NS_PER_SEC + ts.tv_nsec;
}

int64_t lt_mono_coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * LT_NS_PER_SEC + ts.tv_nsec;
}

/* Days from civil date, Howard Hinnant's algorithm (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void lt_time_format(int64_t ns, char *out)
{
	int64_t secs = ns / LT_NS_PER_SEC, frac = ns % LT_NS_PER_SEC;
	int64_t days, sod, y;
	unsigned m, d;

	if (frac < 0) {
		frac += LT_NS_PER_SEC;
		secs--;
	}
	days = secs / 86400;
	sod = secs % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	/* Years of int64 ns have at most 6 digits, so this always fits; the
	 * check tells the compiler so. */
	if (snprintf(out, LT_TIME_MAX_LEN, "%04lld-%02u-%02uT%02d:%02d:%02d.%09lldZ",
		     (long long)y, m, d, (int)(sod / 3600), (int)(sod / 60 % 60),
		     (int)(sod % 60), (long long)frac) >= LT_TIME_MAX_LEN)
		out[0] = '\0';
}

void lt_day_format(int32_t day, char *out)
{
	int64_t y;
	unsigned m, d;

	civil_from_days(day, &y, &m, &d);
	/* int32 days reach year 5881610: at most 14 characters. */
	if (snprintf(out, 16, "%04lld-%02u-%02u", (long long)y, m, d) >= 16)
		out[0] = '\0';
}

/* Reads exactly n digits. */
static int digits(const char **pp, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*pp)[i]))
			return -1;
		v = v * 10 + ((*pp)[i] - '0');
	}
	*pp += n;
	*out = v;
	return 0;
}

static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

static int parse_date(const char **pp, int64_t *days)
{
	int y, m, d;
	const char *p = *pp;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &m) ||
	    *p++ != '-' || digits(&p, 2, &d))
		return -1;
	if (m < 1 || m > 12 || d < 1 || (unsigned)d > mdays[m - 1])
		return -1;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	*days = days_from_civil(y, (unsigned)m, (unsigned)d);
	*pp = p;
	return 0;
}

int lt_time_parse_rfc3339(const char *s, int64_t *out)
{
	const char *p = s;
	int64_t days, frac = 0;
	int hh, mm, ss, sign = 0, oh = 0, om = 0;

	if (parse_date(&p, &days))
		goto bad;
	if (*p != 'T' && *p != 't' && *p != ' ')
		goto bad;
	p++;
	if (digits(&p, 2, &hh) || *p++ != ':' || digits(&p, 2, &mm) ||
	    *p++ != ':' || digits(&p, 2, &ss))
		goto bad;
	if (hh > 23 || mm > 59 || ss > 60)
		goto bad;
	if (ss == 60) /* a leap second is folded into the next second */
		ss = 59, frac = LT_NS_PER_SEC - 1;
	if (*p == '.') {
		int n = 0;
		p++;
		if (!isdigit((unsigned char)*p))
			goto bad;
		frac = 0;
		for (; isdigit((unsigned char)*p); p++, n++) {
			if (n < 9)
				frac = frac * 10 + (*p - '0');
		}
		for (; n < 9; n++)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			goto bad;
	} else {
		goto bad;
	}
	if (*p)
		goto bad;
	if (days < -106000 || days > 106000) /* keeps ns inside int64 */
		goto bad;
	*out = ((days * 86400 + hh * 3600 + mm * 60 + ss) -
		sign * (oh * 3600 + om * 60)) * LT_NS_PER_SEC + frac;
	return 0;
bad:
	return lt_error(LT_EINVAL,
			"bad timestamp '%.64s': expected RFC 3339 such as "
			"2026-11-26T19:00:00.123Z", s);
}

/* "1h30m" style; returns -1 on anything else. */
static int parse_units(const char *s, int64_t *out)
{
	int64_t total = 0;

	if (!*s)
		return -1;
	while (*s) {
		int64_t v = 0, unit;
		if (!isdigit((unsigned char)*s))
			return -1;
		for (; isdigit((unsigned char)*s); s++) {
			if (v > 1000000000)
				return -1;
			v = v * 10 + (*s - '0');
		}
		/* unit in ms: "ms" before "m", which is minutes. */
		if (s[0] == 'm' && s[1] == 's') {
			unit = 1;
			s += 2;
		} else {
			switch (*s++) {
			case 's': unit = 1000; break;
			case 'm': unit = 60 * 1000; break;
			case 'h': unit = 3600 * 1000; break;
			case 'd': unit = 86400 * 1000; break;
			case 'w': unit = 7 * 86400 * 1000; break;
			default: return -1;
			}
		}
		if (v > 200LL * 365 * 86400 * 1000 / unit)
			return -1;
		total += v * unit * (LT_NS_PER_SEC / 1000);
		if (total > 200LL * 365 * LT_NS_PER_DAY)
			return -1;
	}
	*out = total;
	return 0;
}

int lt_duration_parse(const char *s, int64_t *out)
{
	if (parse_units(s, out))
		return lt_error(LT_EINVAL,
				"bad duration '%.64s': use a number and a unit, "
				"such as 500ms, 90s, 15m, 2h or 1d", s);
	return 0;
}

int lt_time_parse(const char *s, int64_t *out)
{
	const char *p = s;
	int64_t days, d;

	if (!parse_units(s, &d)) {
		*out = lt_now_ns() - d;
		return 0;
	}
	if (!parse_date(&p, &days) && !*p) {
		*out = days * LT_NS_PER_DAY;
		return 0;
	}
	if (lt_time_parse_rfc3339(s, out) == 0)
		return 0;
	return lt_error(LT_EINVAL,
			"bad time '%.64s': use RFC 3339 (2026-11-26T19:00:00Z), "
			"a date (2026-11-26) or a time ago (10m, 2h, 3d)", s);
}
