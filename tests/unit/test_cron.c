/*
 * test_cron.c - the cron expression parser: a table of expressions, valid
 * and invalid, with their next fire times from fixed start times, in UTC
 * (so free of DST).  The expected times were worked out by hand and checked
 * against an independent minute-by-minute evaluation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testlib.h"
#include "cron.h"

#define MAXNEXT 5

/* A valid expression, a start time, and its next fire times in order. */
static const struct {
	const char *expr;
	const char *start;		/* UTC, "YYYY-MM-DD HH:MM[:SS]" */
	const char *next[MAXNEXT];	/* UTC, "YYYY-MM-DD HH:MM" */
} valid[] = {
	/* Every minute: strictly after the start, seconds ignored. */
	{ "* * * * *", "2026-01-01 00:00",
	    { "2026-01-01 00:01", "2026-01-01 00:02",
	      "2026-01-01 00:03" } },
	{ "* * * * *", "2026-01-01 00:00:30",
	    { "2026-01-01 00:01" } },
	/* Steps, ranges and lists. */
	{ "*/15 * * * *", "2026-03-10 10:07",
	    { "2026-03-10 10:15", "2026-03-10 10:30",
	      "2026-03-10 10:45", "2026-03-10 11:00" } },
	{ "10-50/20 * * * *", "2026-03-10 10:00",
	    { "2026-03-10 10:10", "2026-03-10 10:30",
	      "2026-03-10 10:50", "2026-03-10 11:10" } },
	{ "*/7 * * * *", "2026-03-10 10:55",
	    { "2026-03-10 10:56", "2026-03-10 11:00",
	      "2026-03-10 11:07" } },
	{ "1-3,58-59 * * * *", "2026-03-10 10:57",
	    { "2026-03-10 10:58", "2026-03-10 10:59",
	      "2026-03-10 11:01", "2026-03-10 11:02", "2026-03-10 11:03" } },
	/* The end of a day and of a year. */
	{ "0 0 * * *", "2026-12-31 23:59",
	    { "2027-01-01 00:00", "2027-01-02 00:00" } },
	{ "59 23 31 12 *", "2026-06-01 00:00",
	    { "2026-12-31 23:59", "2027-12-31 23:59" } },
	{ "0 0 1 1 *", "2026-12-31 23:59:59",
	    { "2027-01-01 00:00", "2028-01-01 00:00" } },
	{ "59 23 * * *", "2026-05-05 23:59",
	    { "2026-05-06 23:59" } },
	/* Ends of months: the 31st skips 30-day months; Feb 29. */
	{ "0 0 31 * *", "2026-04-01 00:00",
	    { "2026-05-31 00:00", "2026-07-31 00:00",
	      "2026-08-31 00:00", "2026-10-31 00:00" } },
	{ "0 0 31 * *", "2026-12-31 00:00",
	    { "2027-01-31 00:00" } },
	{ "0 0 30 * *", "2027-01-30 00:00",
	    { "2027-03-30 00:00", "2027-04-30 00:00" } },
	{ "0 0 29 2 *", "2026-01-01 00:00",
	    { "2028-02-29 00:00", "2032-02-29 00:00" } },
	{ "0 0 29 2 *", "2024-02-28 12:00",
	    { "2024-02-29 00:00", "2028-02-29 00:00" } },
	{ "0 0 29 2 *", "2096-03-01 00:00",
	    { "2104-02-29 00:00" } },
	{ "0 12 28-31 2 *", "2024-02-27 00:00",
	    { "2024-02-28 12:00", "2024-02-29 12:00",
	      "2025-02-28 12:00" } },
	{ "0 0 1 * *", "2026-01-31 23:59",
	    { "2026-02-01 00:00", "2026-03-01 00:00" } },
	/* Both day fields restricted: either may match (Vixie). */
	{ "0 0 1,15 * MON", "2026-06-01 00:00",
	    { "2026-06-08 00:00", "2026-06-15 00:00",
	      "2026-06-22 00:00", "2026-06-29 00:00", "2026-07-01 00:00" } },
	{ "30 4 1 * 0", "2026-02-01 04:30",
	    { "2026-02-08 04:30", "2026-02-15 04:30",
	      "2026-02-22 04:30", "2026-03-01 04:30" } },
	/* A day field starting with "*" makes both required (Vixie). */
	{ "0 0 */2 * MON", "2026-06-01 00:00",
	    { "2026-06-15 00:00", "2026-06-29 00:00",
	      "2026-07-13 00:00" } },
	{ "0 0 13 * FRI", "2026-01-01 00:00",
	    { "2026-01-02 00:00", "2026-01-09 00:00",
	      "2026-01-13 00:00", "2026-01-16 00:00" } },
	{ "0 0 30 2 MON", "2026-01-01 00:00",
	    { "2026-02-02 00:00", "2026-02-09 00:00",
	      "2026-02-16 00:00" } },
	/* Sunday as 0, 7 and SUN; day names and ranges. */
	{ "0 0 * * 0", "2026-11-28 12:00",
	    { "2026-11-29 00:00", "2026-12-06 00:00" } },
	{ "0 0 * * 7", "2026-11-28 12:00",
	    { "2026-11-29 00:00", "2026-12-06 00:00" } },
	{ "0 0 * * SUN", "2026-11-28 12:00",
	    { "2026-11-29 00:00", "2026-12-06 00:00" } },
	{ "0 0 * * sun", "2026-11-28 12:00",
	    { "2026-11-29 00:00" } },
	{ "0 0 * * 5-7", "2026-11-26 12:00",
	    { "2026-11-27 00:00", "2026-11-28 00:00",
	      "2026-11-29 00:00", "2026-12-04 00:00" } },
	{ "0 0 * * 6,0", "2026-11-25 00:00",
	    { "2026-11-28 00:00", "2026-11-29 00:00",
	      "2026-12-05 00:00" } },
	{ "0 9 * * MON-FRI", "2026-11-27 10:00",
	    { "2026-11-30 09:00", "2026-12-01 09:00" } },
	{ "0 9 * * 1-5", "2026-11-27 10:00",
	    { "2026-11-30 09:00", "2026-12-01 09:00" } },
	{ "0 22 * * Mon-Fri/2", "2026-11-23 00:00",
	    { "2026-11-23 22:00", "2026-11-25 22:00",
	      "2026-11-27 22:00" } },
	/* Month names, steps over months. */
	{ "0 0 1 JAN,jul *", "2026-02-01 00:00",
	    { "2026-07-01 00:00", "2027-01-01 00:00",
	      "2027-07-01 00:00" } },
	{ "0 0 1 jan-mar/2 *", "2026-01-01 00:00",
	    { "2026-03-01 00:00", "2027-01-01 00:00",
	      "2027-03-01 00:00" } },
	{ "0 0,12 1 */2 *", "2026-01-01 00:00",
	    { "2026-01-01 12:00", "2026-03-01 00:00",
	      "2026-03-01 12:00", "2026-05-01 00:00" } },
	{ "0 */6 * * *", "2026-03-10 19:00",
	    { "2026-03-11 00:00", "2026-03-11 06:00",
	      "2026-03-11 12:00" } },
	{ "23 0-20/2 * * *", "2026-03-10 19:00",
	    { "2026-03-10 20:23", "2026-03-11 00:23",
	      "2026-03-11 02:23" } },
	{ "5 0 * 8 *", "2026-08-31 00:05",
	    { "2027-08-01 00:05", "2027-08-02 00:05" } },
	{ "0 4 8-14 * *", "2026-03-14 04:00",
	    { "2026-04-08 04:00", "2026-04-09 04:00" } },
	/* Shortcuts, and blanks around and between fields. */
	{ "@hourly", "2026-03-10 10:00",
	    { "2026-03-10 11:00", "2026-03-10 12:00" } },
	{ "@daily", "2026-03-10 10:00",
	    { "2026-03-11 00:00" } },
	{ "@midnight", "2026-03-10 10:00",
	    { "2026-03-11 00:00" } },
	{ "@weekly", "2026-03-10 10:00",
	    { "2026-03-15 00:00", "2026-03-22 00:00" } },
	{ "@monthly", "2026-12-10 10:00",
	    { "2027-01-01 00:00", "2027-02-01 00:00" } },
	{ "@yearly", "2026-03-10 10:00",
	    { "2027-01-01 00:00" } },
	{ "@annually", "2026-03-10 10:00",
	    { "2027-01-01 00:00" } },
	{ "@DAILY", "2026-03-10 10:00",
	    { "2026-03-11 00:00" } },
	{ "  0\t 0  * * *  ", "2026-03-10 10:00",
	    { "2026-03-11 00:00" } },
};

/* An invalid expression and (a part of) the message that must say why. */
static const struct {
	const char *expr;
	const char *msg;
} invalid[] = {
	/* The exact wording an admin sees. */
	{ "0 24 * * *", "field 2 (hour): 24 is out of range 0-23" },
	{ "60 * * * *", "field 1 (minute): 60 is out of range 0-59" },
	{ "0 0 0 * *", "field 3 (day-of-month): 0 is out of range 1-31" },
	{ "0 0 32 * *", "field 3 (day-of-month): 32 is out of range 1-31" },
	{ "0 0 * 13 *", "field 4 (month): 13 is out of range 1-12" },
	{ "0 0 * * 8", "field 5 (day-of-week): 8 is out of range 0-7" },
	{ "99999999999999999999 * * * *", "field 1 (minute): 99999999999999999999 is out of range" },
	/* Wrong number of fields. */
	{ "* * * *", "expected 5 fields" },
	{ "* * * * * *", "found 6" },
	{ "", "found 0" },
	{ "   ", "found 0" },
	{ "hello world", "found 2" },
	/* Bad names. */
	{ "0 0 * FOO *", "field 4 (month): unknown name 'FOO'" },
	{ "0 0 * * MONDAY", "field 5 (day-of-week): unknown name 'MONDAY'" },
	{ "0 0 * * JAN", "field 5 (day-of-week): unknown name 'JAN'" },
	{ "0 0 * MON *", "field 4 (month): unknown name 'MON'" },
	{ "MON * * * *", "field 1 (minute): 'MON' is not a number" },
	/* Ranges, steps and lists. */
	{ "5-1 * * * *", "field 1 (minute): range 5-1 is reversed" },
	{ "0 0 * * FRI-MON", "range FRI-MON is reversed" },
	{ "*/0 * * * *", "field 1 (minute): step 0 is not allowed" },
	{ "0 1-5/0 * * *", "field 2 (hour): step 0 is not allowed" },
	{ "*/ * * * *", "a step must be a number" },
	{ "*/x * * * *", "a step must be a number" },
	{ "5/15 * * * *", "a step needs a range" },
	{ "1,,2 * * * *", "field 1 (minute): empty list item" },
	{ "1, * * * *", "empty list item" },
	{ ",1 * * * *", "empty list item" },
	{ "1-2-3 * * * *", "unexpected '-'" },
	{ "- * * * *", "field 1 (minute): unexpected '-'" },
	{ "1- * * * *", "a value is missing" },
	{ "*x * * * *", "unexpected 'x'" },
	{ "0 0 1.5 * *", "unexpected '.'" },
	{ "0 0 -1 * *", "unexpected '-'" },
	/* Garbage and unknown shortcuts. */
	{ "@reboot", "unknown shortcut '@reboot'" },
	{ "@daily 5", "unknown shortcut" },
	{ "@", "unknown shortcut" },
	{ "\x01\x02 * * * *", "field 1 (minute): unexpected" },
	{ "0 0 L * *", "'L' is not a number" },
	{ "0 0 ? * *", "unexpected '?'" },
	/* Expressions that can never fire. */
	{ "0 0 30 2 *", "never fires" },
	{ "0 0 31 4,6,9,11 *", "never fires" },
	{ "0 0 30-31 FEB *", "never fires" },
};

static time_t
utc(const char *s)
{
	struct tm tm;
	int sec = 0, n;

	memset(&tm, 0, sizeof(tm));
	n = sscanf(s, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &sec);
	if (n < 5) {
		fprintf(stderr, "bad time in the test table: %s\n", s);
		abort();
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_sec = sec;
	return timegm(&tm);
}

static const char *
fmt(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL)
		snprintf(buf, len, "(never)");
	else
		strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
	return buf;
}

TEST(table_has_40_expressions)
{
	ASSERT(sizeof(valid) / sizeof(valid[0]) + sizeof(invalid) / sizeof(invalid[0]) >= 40);
}

TEST(valid_expressions_fire_at_the_expected_times)
{
	char err[256], got[32];
	struct cron c;
	time_t t;
	size_t i, k;
	int bad = 0;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		if (cron_parse(valid[i].expr, &c, err, sizeof(err)) != 0) {
			fprintf(stderr, "  \"%s\": rejected: %s\n", valid[i].expr, err);
			bad++;
			continue;
		}
		t = utc(valid[i].start);
		for (k = 0; k < MAXNEXT && valid[i].next[k] != NULL; k++) {
			t = cron_next(&c, t);
			if (t != utc(valid[i].next[k])) {
				fprintf(stderr, "  \"%s\" from %s: fire %zu is %s, "
				    "expected %s\n", valid[i].expr, valid[i].start,
				    k + 1, fmt(t, got, sizeof(got)), valid[i].next[k]);
				bad++;
				break;
			}
		}
	}
	ASSERT_INT_EQ(bad, 0);
}

TEST(invalid_expressions_say_why)
{
	char err[256];
	struct cron c;
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		err[0] = '\0';
		if (cron_parse(invalid[i].expr, &c, err, sizeof(err)) == 0) {
			fprintf(stderr, "  \"%s\": accepted\n", invalid[i].expr);
			bad++;
		} else if (strstr(err, invalid[i].msg) == NULL) {
			fprintf(stderr, "  \"%s\": message \"%s\" lacks \"%s\"\n",
			    invalid[i].expr, err, invalid[i].msg);
			bad++;
		}
	}
	ASSERT_INT_EQ(bad, 0);
}

TEST(exact_message)
{
	char err[256];
	struct cron c;

	ASSERT_INT_EQ(cron_parse("0 24 * * *", &c, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "field 2 (hour): 24 is out of range 0-23");
	/* A NULL or tiny buffer is fine. */
	ASSERT_INT_EQ(cron_parse("0 24 * * *", &c, NULL, 0), -1);
	ASSERT_INT_EQ(cron_parse("0 24 * * *", &c, err, 1), -1);
	ASSERT_STR_EQ(err, "");
	ASSERT_INT_EQ(cron_parse(NULL, &c, err, sizeof(err)), -1);
}

TEST(sunday_is_0_and_7)
{
	struct cron a, b, s;

	ASSERT_INT_EQ(cron_parse("0 0 * * 0", &a, NULL, 0), 0);
	ASSERT_INT_EQ(cron_parse("0 0 * * 7", &b, NULL, 0), 0);
	ASSERT_INT_EQ(cron_parse("0 0 * * Sun", &s, NULL, 0), 0);
	ASSERT_INT_EQ(a.dow, 1);
	ASSERT_INT_EQ(b.dow, 1);
	ASSERT_INT_EQ(s.dow, 1);
	ASSERT_INT_EQ(cron_parse("0 0 * * 0-7", &a, NULL, 0), 0);
	ASSERT_INT_EQ(a.dow, 0x7f);
}

/* A set that no calendar day satisfies (cron_parse refuses to build one):
 * cron_next gives up after its horizon instead of looping. */
TEST(never_fires_returns_minus_one)
{
	struct cron c;

	ASSERT_INT_EQ(cron_parse("0 0 * 2 *", &c, NULL, 0), 0);
	c.dom = 1u << 30;
	ASSERT_INT_EQ(cron_next(&c, utc("2026-01-01 00:00")), -1);
	ASSERT_INT_EQ(cron_next_local(&c, utc("2026-01-01 00:00")), -1);
	c.minute = 0;
	ASSERT_INT_EQ(cron_next(&c, utc("2026-01-01 00:00")), -1);
}

/* In UTC, the local variant the daemon uses agrees with cron_next. */
TEST(local_time_in_utc_agrees)
{
	struct cron c;
	time_t t = utc("2026-12-31 23:58");
	int i;

	ASSERT(setenv("TZ", "UTC", 1) == 0);
	tzset();
	ASSERT_INT_EQ(cron_parse("*/15 * * * *", &c, NULL, 0), 0);
	for (i = 0; i < 10; i++) {
		ASSERT_INT_EQ(cron_next_local(&c, t), cron_next(&c, t));
		t = cron_next(&c, t);
	}
}

/* Fuzz-like: random printable strings never crash or hang, and whatever
 * parses yields a fire time after the start. */
TEST(random_input_is_safe)
{
	static const char alphabet[] = "0123456789*/-, \tMONJAFRISUDECLW@?x";
	char expr[32], err[256];
	struct cron c;
	time_t start = utc("2026-06-15 12:34"), t;
	int i, j, n;

	srand(12345);
	for (i = 0; i < 20000; i++) {
		n = rand() % (int)(sizeof(expr) - 1);
		for (j = 0; j < n; j++)
			expr[j] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
		expr[n] = '\0';
		if (cron_parse(expr, &c, err, sizeof(err)) == 0) {
			t = cron_next(&c, start);
			ASSERT(t > start);
		} else {
			ASSERT(err[0] != '\0');
		}
	}
}

int
main(void)
{
	RUN(table_has_40_expressions);
	RUN(valid_expressions_fire_at_the_expected_times);
	RUN(invalid_expressions_say_why);
	RUN(exact_message);
	RUN(sunday_is_0_and_7);
	RUN(never_fires_returns_minus_one);
	RUN(local_time_in_utc_agrees);
	RUN(random_input_is_safe);
	return test_done();
}
