/*
 * test_daemon.c - the daemon's scheduling pieces: which schedule applies,
 * the next sync times (UTC), the back-off while Okta is unreachable, and
 * which failures are worth a retry.  The loop itself, with signals and
 * systemd notify, is tested by tests/integration/test_daemon.py.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testlib.h"
#include "daemon.h"

static time_t
utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return timegm(&tm);
}

TEST(schedules_from_config)
{
	struct config c;
	struct daemon_schedule s;
	char err[512];
	time_t t = utc(2026, 12, 31, 23, 50);

	ASSERT(setenv("TZ", "UTC", 1) == 0);
	tzset();
	memset(&c, 0, sizeof(c));
	c.schedule = (char *)"*/15 * * * *";
	c.full_sync_schedule = (char *)"0 3 * * *";
	ASSERT_INT_EQ(daemon_schedule_init(&s, &c, 0, err, sizeof(err)), 0);
	ASSERT_INT_EQ(daemon_next(&s, 0, t), utc(2027, 1, 1, 0, 0));
	ASSERT_INT_EQ(daemon_next(&s, 1, t), utc(2027, 1, 1, 3, 0));

	/* The test interval replaces `schedule`, not the full syncs. */
	ASSERT_INT_EQ(daemon_schedule_init(&s, &c, 2, err, sizeof(err)), 0);
	ASSERT_INT_EQ(daemon_next(&s, 0, t), t + 2);
	ASSERT_INT_EQ(daemon_next(&s, 1, t), utc(2027, 1, 1, 3, 0));

	/* Only a full schedule: no incremental syncs. */
	c.schedule = NULL;
	ASSERT_INT_EQ(daemon_schedule_init(&s, &c, 0, err, sizeof(err)), 0);
	ASSERT_INT_EQ(daemon_next(&s, 0, t), -1);
}

TEST(bad_or_missing_schedule_is_refused)
{
	struct config c;
	struct daemon_schedule s;
	char err[512];

	memset(&c, 0, sizeof(c));
	ASSERT_INT_EQ(daemon_schedule_init(&s, &c, 0, err, sizeof(err)), -1);
	ASSERT(strstr(err, "nothing to do") != NULL);
	c.schedule = (char *)"0 24 * * *";
	ASSERT_INT_EQ(daemon_schedule_init(&s, &c, 0, err, sizeof(err)), -1);
	ASSERT(strstr(err, "field 2 (hour): 24 is out of range 0-23") != NULL);
	c.schedule = (char *)"* * * * *";
	c.full_sync_schedule = (char *)"0 0 30 2 *";
	ASSERT_INT_EQ(daemon_schedule_init(&s, &c, 0, err, sizeof(err)), -1);
	ASSERT(strstr(err, "full_sync_schedule") != NULL);
}

TEST(backoff_doubles_up_to_the_cap)
{
	ASSERT_INT_EQ(daemon_backoff(1, 900), 1);
	ASSERT_INT_EQ(daemon_backoff(2, 900), 2);
	ASSERT_INT_EQ(daemon_backoff(3, 900), 4);
	ASSERT_INT_EQ(daemon_backoff(10, 900), 512);
	ASSERT_INT_EQ(daemon_backoff(11, 900), 900);
	ASSERT_INT_EQ(daemon_backoff(4000000000u, 900), 900);
	ASSERT_INT_EQ(daemon_backoff(40, 0), 3600);
	ASSERT_INT_EQ(daemon_backoff(3, 2), 2);
}

TEST(which_failures_are_retried)
{
	ASSERT(daemon_error_is_transient(OK_ERR_CONNECT));
	ASSERT(daemon_error_is_transient(OK_ERR_DNS));
	ASSERT(daemon_error_is_transient(OK_ERR_TIMEOUT));
	ASSERT(daemon_error_is_transient(OK_ERR_SERVER));
	ASSERT(daemon_error_is_transient(OK_ERR_RATE_LIMIT));
	ASSERT(!daemon_error_is_transient(OK_ERR_AUTH));
	ASSERT(!daemon_error_is_transient(OK_ERR_REFUSED));
	ASSERT(!daemon_error_is_transient(OK_ERR_BUSY));
	ASSERT(!daemon_error_is_transient(OK_SUCCESS));
}

int
main(void)
{
	RUN(schedules_from_config);
	RUN(bad_or_missing_schedule_is_refused);
	RUN(backoff_doubles_up_to_the_cap);
	RUN(which_failures_are_retried);
	return test_done();
}
