/*
 * cron.h - standard 5-field cron expressions for [sync] schedule and
 * full_sync_schedule, as Vixie cron (and cronie) read them.
 *
 *   minute hour day-of-month month day-of-week
 *
 * Each field is `*`, a number, a range `1-5`, a step `*\/15` or `10-50/20`,
 * or a comma-separated list of those.  Months may be given as JAN-DEC and
 * days as SUN-SAT (any case); day-of-week 0 and 7 are both Sunday.  The
 * shortcuts @yearly, @annually, @monthly, @weekly, @daily, @midnight and
 * @hourly are accepted.
 *
 * The classic rule for the two day fields: when both day-of-month and
 * day-of-week are restricted, a day matches if EITHER matches; when one of
 * them starts with `*` (so `*` and `*\/2` alike, as in Vixie cron), both
 * must match.  `0 0 1,15 * MON` fires on the 1st, the 15th and on Mondays.
 */
#ifndef OKTA_CRON_H
#define OKTA_CRON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A parsed expression: one bit per allowed value of each field. */
struct cron {
	uint64_t minute;      /* bits 0-59 */
	uint32_t hour;        /* bits 0-23 */
	uint32_t dom;         /* bits 1-31 */
	uint16_t month;       /* bits 1-12 */
	uint8_t dow;          /* bits 0-6, Sunday is 0 (7 is folded into 0) */
	unsigned char dom_star;   /* the field started with '*' */
	unsigned char dow_star;
};

/*
 * Parse expr into *out.  Returns 0, or -1 with a sentence in err (errlen
 * bytes; err may be NULL) that names the field and says what is wrong,
 * e.g. "field 2 (hour): 24 is out of range 0-23".  An expression that can
 * never fire (`0 0 30 2 *`) is rejected too.  Can't fail otherwise; never
 * allocates.  *out is unspecified after a failure.
 *
 * This is what `okta-sync check-config` and config_load() use to validate
 * [sync] schedule and full_sync_schedule.
 */
int cron_parse(const char *expr, struct cron *out, char *err, size_t errlen);

/*
 * The next fire time strictly after `after`, evaluating the expression in
 * UTC.  Returns -1 when there is none within a bounded horizon (nine years,
 * enough for a Feb 29 across a non-leap century year); never loops without
 * bound.
 */
time_t cron_next(const struct cron *c, time_t after);

/*
 * As cron_next, but in the local time zone (TZ), as cron does.  This is
 * what okta-syncd uses.  A wall-clock time that is skipped by a DST change
 * fires at the corresponding time after the change; a wall-clock time that
 * occurs twice fires once, the first time.
 */
time_t cron_next_local(const struct cron *c, time_t after);

#endif
