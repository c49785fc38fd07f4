/*
 * cron.c - parse 5-field cron expressions and compute their next fire time
 * (see cron.h).
 *
 * Parsing turns each field into a bit set.  The search for the next fire
 * time walks the calendar field by field (year, month, day, hour, minute),
 * skipping a whole month, day or hour as soon as it cannot match, so that
 * even an expression that fires once in eight years costs a few thousand
 * steps, and a fixed horizon bounds it in every case.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cron.h"

/* Nine years: Feb 29 can be eight years apart (2096 -> 2104). */
#define CRON_HORIZON_YEARS 9

struct field_def {
	const char *name;
	int min, max;
	const char *const *names;   /* names[i] is value names_base + i */
	int names_base;
	int nnames;
};

static const char *const month_names[] = {
	"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
	"JUL", "AUG", "SEP", "OCT", "NOV", "DEC"
};
static const char *const dow_names[] = {
	"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"
};

static const struct field_def fields[5] = {
	{ "minute", 0, 59, NULL, 0, 0 },
	{ "hour", 0, 23, NULL, 0, 0 },
	{ "day-of-month", 1, 31, NULL, 0, 0 },
	{ "month", 1, 12, month_names, 1, 12 },
	{ "day-of-week", 0, 7, dow_names, 0, 7 },
};

static const struct {
	const char *name;
	const char *expr;
} shortcuts[] = {
	{ "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
	{ "@monthly", "0 0 1 * *" },
	{ "@weekly", "0 0 * * 0" },
	{ "@daily", "0 0 * * *" },
	{ "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Read one value (a number or, where the field has names, a name) from
 * [*p, end).  Returns 0 with *p moved past it, or -1 with err set.
 */
static int
parse_value(const char **p, const char *end, int fi, int *val, char *err,
    size_t errlen)
{
	const struct field_def *f = &fields[fi];
	const char *s = *p;
	long v = 0;
	int i;

	if (s < end && isdigit((unsigned char)*s)) {
		while (s < end && isdigit((unsigned char)*s)) {
			v = v * 10 + (*s - '0');
			if (v > 9999)	/* out of range anyway; stop overflow */
				v = 9999;
			s++;
		}
		if (v < f->min || v > f->max) {
			seterr(err, errlen, "field %d (%s): %.*s is out of range %d-%d",
			    fi + 1, f->name, (int)(s - *p), *p, f->min, f->max);
			return -1;
		}
		*val = (int)v;
		*p = s;
		return 0;
	}
	if (s < end && isalpha((unsigned char)*s)) {
		while (s < end && isalpha((unsigned char)*s))
			s++;
		for (i = 0; i < f->nnames; i++) {
			if (s - *p == 3 && strncasecmp(*p, f->names[i], 3) == 0) {
				*val = f->names_base + i;
				*p = s;
				return 0;
			}
		}
		if (f->names == NULL)
			seterr(err, errlen, "field %d (%s): '%.*s' is not a number",
			    fi + 1, f->name, (int)(s - *p), *p);
		else
			seterr(err, errlen, "field %d (%s): unknown name '%.*s' "
			    "(use %s-%s or a number)", fi + 1, f->name,
			    (int)(s - *p), *p, f->names[0], f->names[f->nnames - 1]);
		return -1;
	}
	if (s == end)
		seterr(err, errlen, "field %d (%s): a value is missing", fi + 1,
		    f->name);
	else
		seterr(err, errlen, "field %d (%s): unexpected '%c'", fi + 1,
		    f->name, *s);
	return -1;
}

/*
 * Parse one list item of field fi from [s, end) into *bits.  Returns 0 or
 * -1 with err set.
 */
static int
parse_item(const char *s, const char *end, int fi, uint64_t *bits,
    char *err, size_t errlen)
{
	const struct field_def *f = &fields[fi];
	const char *start = s;
	int lo, hi, step = 1, v, is_range = 0;

	if (s == end) {
		seterr(err, errlen, "field %d (%s): empty list item", fi + 1, f->name);
		return -1;
	}
	if (*s == '*') {
		lo = f->min;
		hi = f->max;
		/* `*` in day-of-week means 0-6: 7 would only repeat Sunday. */
		if (fi == 4)
			hi = 6;
		is_range = 1;
		s++;
	} else {
		if (parse_value(&s, end, fi, &lo, err, errlen) == -1)
			return -1;
		hi = lo;
		if (s < end && *s == '-') {
			s++;
			if (parse_value(&s, end, fi, &hi, err, errlen) == -1)
				return -1;
			if (hi < lo) {
				seterr(err, errlen, "field %d (%s): range %.*s is "
				    "reversed (write the smaller value first)",
				    fi + 1, f->name, (int)(s - start), start);
				return -1;
			}
			is_range = 1;
		}
	}
	if (s < end && *s == '/') {
		long st = 0;
		const char *d = ++s;

		if (!is_range) {
			seterr(err, errlen, "field %d (%s): a step needs a range "
			    "or '*' before it, e.g. %d-%d/N", fi + 1, f->name, lo,
			    f->max);
			return -1;
		}
		while (s < end && isdigit((unsigned char)*s)) {
			st = st * 10 + (*s - '0');
			if (st > 9999)
				st = 9999;
			s++;
		}
		if (s == d) {
			seterr(err, errlen, "field %d (%s): a step must be a "
			    "number after '/'", fi + 1, f->name);
			return -1;
		}
		if (st == 0) {
			seterr(err, errlen, "field %d (%s): step 0 is not allowed",
			    fi + 1, f->name);
			return -1;
		}
		/* A step beyond the range selects only lo, as in Vixie cron. */
		step = (int)st;
	}
	if (s != end) {
		seterr(err, errlen, "field %d (%s): unexpected '%c' in '%.*s'",
		    fi + 1, f->name, *s, (int)(end - start), start);
		return -1;
	}
	for (v = lo; v <= hi; v += step)
		*bits |= (uint64_t)1 << v;
	return 0;
}

/* Parse field fi, the text [s, end), into *bits.  Returns 0 or -1. */
static int
parse_field(const char *s, const char *end, int fi, uint64_t *bits,
    char *err, size_t errlen)
{
	const char *comma;

	*bits = 0;
	for (;;) {
		comma = memchr(s, ',', (size_t)(end - s));
		if (comma == NULL)
			return parse_item(s, end, fi, bits, err, errlen);
		if (parse_item(s, comma, fi, bits, err, errlen) == -1)
			return -1;
		s = comma + 1;
	}
}

static int
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/*
 * The expression of the shortcut at s ("@daily"), alone on the line but
 * for spaces; NULL with err set when it is none of the known ones.
 */
static const char *
shortcut_expr(const char *s, char *err, size_t errlen)
{
	const char *at = s, *e = s;
	size_t i;

	while (*e != '\0' && !isspace((unsigned char)*e))
		e++;
	for (i = 0; i < sizeof(shortcuts) / sizeof(shortcuts[0]); i++) {
		if ((size_t)(e - s) == strlen(shortcuts[i].name) &&
		    strncasecmp(s, shortcuts[i].name, (size_t)(e - s)) == 0)
			break;
	}
	for (s = e; isspace((unsigned char)*s); s++)
		;
	if (i == sizeof(shortcuts) / sizeof(shortcuts[0]) || *s != '\0') {
		seterr(err, errlen, "unknown shortcut '%.*s' (use @hourly, "
		    "@daily, @midnight, @weekly, @monthly, @yearly or "
		    "@annually)", (int)(e - at), at);
		return NULL;
	}
	return shortcuts[i].expr;
}

/* Split s into its five fields [start[i], end[i]); every field is counted,
 * so that the message can say how many there are.  Returns 0 or -1. */
static int
split_fields(const char *s, const char *start[5], const char *end[5],
    char *err, size_t errlen)
{
	size_t n = 0;

	while (*s != '\0') {
		const char *f = s;

		while (*s != '\0' && !isspace((unsigned char)*s))
			s++;
		if (n < 5) {
			start[n] = f;
			end[n] = s;
		}
		n++;
		while (isspace((unsigned char)*s))
			s++;
	}
	if (n != 5) {
		seterr(err, errlen, "expected 5 fields (minute hour day-of-month "
		    "month day-of-week), found %zu", n);
		return -1;
	}
	return 0;
}

/* Store the bits of field i, whose text starts at text, into out. */
static void
set_field(struct cron *out, size_t i, uint64_t bits, const char *text)
{
	switch (i) {
	case 0:
		out->minute = bits;
		break;
	case 1:
		out->hour = (uint32_t)bits;
		break;
	case 2:
		out->dom = (uint32_t)bits;
		out->dom_star = *text == '*';
		break;
	case 3:
		out->month = (uint16_t)bits;
		break;
	case 4:
		/* 7 is Sunday too. */
		if (bits & (1u << 7))
			bits = (bits | 1u) & 0x7f;
		out->dow = (uint8_t)bits;
		out->dow_star = *text == '*';
		break;
	}
}

/*
 * With the day-of-week unrestricted, the day-of-month alone decides:
 * refuse a combination no month can satisfy (`0 0 30 2 *`), which
 * would otherwise be accepted and never run.  Feb 29 counts.
 * Returns 0 or -1.
 */
static int
check_can_fire(const struct cron *c, char *err, size_t errlen)
{
	int m, d, possible;

	if (c->dow_star || c->dom_star) {
		possible = 0;
		for (m = 1; m <= 12 && !possible; m++) {
			if (!(c->month & (1u << m)))
				continue;
			for (d = 1; d <= days_in_month(2000, m); d++)
				if (c->dom & (1u << d))
					possible = 1;
		}
		if (!possible) {
			seterr(err, errlen, "never fires: no month in field 4 "
			    "(month) has the days of field 3 (day-of-month)");
			return -1;
		}
	}
	return 0;
}

int
cron_parse(const char *expr, struct cron *out, char *err, size_t errlen)
{
	const char *start[5], *end[5], *s;
	uint64_t bits;
	size_t i;

	if (expr == NULL) {
		seterr(err, errlen, "no cron expression");
		return -1;
	}
	for (s = expr; isspace((unsigned char)*s); s++)
		;
	if (*s == '@') {
		if ((s = shortcut_expr(s, err, errlen)) == NULL)
			return -1;
		return cron_parse(s, out, err, errlen);
	}
	if (split_fields(s, start, end, err, errlen) == -1)
		return -1;
	memset(out, 0, sizeof(*out));
	for (i = 0; i < 5; i++) {
		if (parse_field(start[i], end[i], (int)i, &bits, err, errlen) == -1)
			return -1;
		set_field(out, i, bits, start[i]);
	}
	return check_can_fire(out, err, errlen);
}

/* Day of the week (0 = Sunday) of a Gregorian date; Sakamoto's method. */
static int
day_of_week(int y, int m, int d)
{
	static const int t[12] = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 };

	if (m < 3)
		y--;
	return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

static int
day_matches(const struct cron *c, int y, int m, int d)
{
	int dom = (c->dom >> d) & 1;
	int dow = (c->dow >> day_of_week(y, m, d)) & 1;

	if (c->dom_star || c->dow_star)
		return dom && dow;
	return dom || dow;
}

/*
 * Find the first wall-clock minute at or after *tm (whose seconds are
 * ignored) that matches c, within the horizon.  Returns 0 with *tm set to
 * it (tm_sec 0), or -1.  Only tm_year, tm_mon, tm_mday, tm_hour and tm_min
 * are read and written.
 */
static int
search(const struct cron *c, struct tm *tm)
{
	int y = tm->tm_year + 1900, m = tm->tm_mon + 1, d = tm->tm_mday;
	int h = tm->tm_hour, mi = tm->tm_min;
	int ylimit = y + CRON_HORIZON_YEARS;

	while (y <= ylimit) {
		if (!(c->month & (1u << m))) {
			m++, d = 1, h = 0, mi = 0;
			if (m > 12)
				y++, m = 1;
			continue;
		}
		if (d > days_in_month(y, m) || !day_matches(c, y, m, d)) {
			d++, h = 0, mi = 0;
			if (d > days_in_month(y, m)) {
				m++, d = 1;
				if (m > 12)
					y++, m = 1;
			}
			continue;
		}
		if (!(c->hour & (1u << h))) {
			h++, mi = 0;
			if (h > 23)
				d++, h = 0;	/* d may pass the month's end: above */
			continue;
		}
		if (!(c->minute & ((uint64_t)1 << mi))) {
			mi++;
			if (mi > 59)
				h++, mi = 0;
			if (h > 23)
				d++, h = 0;
			continue;
		}
		tm->tm_year = y - 1900;
		tm->tm_mon = m - 1;
		tm->tm_mday = d;
		tm->tm_hour = h;
		tm->tm_min = mi;
		tm->tm_sec = 0;
		return 0;
	}
	return -1;
}

/* Move *tm (a normalised broken-down time) to the next whole minute. */
static void
next_minute(struct tm *tm)
{
	int y = tm->tm_year + 1900;

	tm->tm_sec = 0;
	if (++tm->tm_min < 60)
		return;
	tm->tm_min = 0;
	if (++tm->tm_hour < 24)
		return;
	tm->tm_hour = 0;
	if (++tm->tm_mday <= days_in_month(y, tm->tm_mon + 1))
		return;
	tm->tm_mday = 1;
	if (++tm->tm_mon < 12)
		return;
	tm->tm_mon = 0;
	tm->tm_year++;
}

time_t
cron_next(const struct cron *c, time_t after)
{
	struct tm tm;

	if (gmtime_r(&after, &tm) == NULL)
		return -1;
	next_minute(&tm);
	if (search(c, &tm) == -1)
		return -1;
	return timegm(&tm);
}

time_t
cron_next_local(const struct cron *c, time_t after)
{
	struct tm tm, cand;
	time_t t;
	int tries;

	if (localtime_r(&after, &tm) == NULL)
		return -1;
	next_minute(&tm);
	/*
	 * A candidate that mktime maps to `after` or earlier lies in an hour
	 * repeated or skipped by a DST change: go on from the next minute.
	 * Such hours are short, so a few hundred tries are plenty; the bound
	 * only guards against a broken time zone table.
	 */
	for (tries = 0; tries < 1000; tries++) {
		if (search(c, &tm) == -1)
			return -1;
		cand = tm;
		cand.tm_isdst = -1;
		t = mktime(&cand);
		if (t != (time_t)-1 && t > after)
			return t;
		next_minute(&tm);
	}
	return -1;
}
