/* test_okta_status.c - status names round-trip and unknowns map to UNKNOWN. */
#include "testlib.h"
#include "okta_status.h"

TEST(round_trip)
{
	int i;

	for (i = 1; i <= OKTA_STATUS_MAX; i++)
		ASSERT_INT_EQ(okta_status_from_string(okta_status_name((enum okta_status)i)), i);
}

TEST(unknown_strings)
{
	ASSERT_INT_EQ(okta_status_from_string(NULL), OKTA_STATUS_UNKNOWN);
	ASSERT_INT_EQ(okta_status_from_string("active"), OKTA_STATUS_UNKNOWN);
	ASSERT_INT_EQ(okta_status_from_string(""), OKTA_STATUS_UNKNOWN);
	ASSERT_STR_EQ(okta_status_name((enum okta_status)99), "UNKNOWN");
	ASSERT_STR_EQ(okta_status_name(OKTA_STATUS_SUSPENDED), "SUSPENDED");
}

int
main(void)
{
	RUN(round_trip);
	RUN(unknown_strings);
	return test_done();
}
