/*
 * test_okta_ingest.c - the JSON page ingest and error-body parser of the
 * Okta client on the list and error bodies Okta really sent (recorded by
 * Okta's own SDK tests), and on broken ones: truncated, trailing garbage,
 * not an array, a callback that stops; plus the sanitizer for text from
 * Okta and the group-id check.
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "okta.h"

/* Generated from the .yaml files in /work/shared/reference/okta-recorded
 * (Okta's okta-sdk-python cassettes, Apache-2.0, copyright Okta Inc.);
 * copied here so that the test runs anywhere. */
static const struct { const char *body; unsigned long count; } rec_pages[] = {
	/* TestAgentPoolsResource.test_list_agent_pools_with_multiple_pool_types #0 */
	{ "[]",
	    0 },
	/* TestAgentPoolsResource.test_list_agent_pools_with_multiple_pool_types #2 */
	{ "[]",
	    0 },
	/* TestDPoPBackwardCompatibility.test_ssws_auth_unchanged #0 */
	{ "[{\"id\":\"00unwlw0tbo8E6aVj5d7\",\"status\":\"ACTIVE\",\"created\":"
	    "\"2025-03-19T08:01:48.000Z\",\"activated\":null,\"statusChanged\":\""
	    "2025-03-19T09:20:48.000Z\",\"lastLogin\":\"2026-03-27T11:05:20.000Z\""
	    ",\"lastUpdated\":\"2025-03-19T09:20:48.000Z\",\"passwordChanged\":\""
	    "2025-03-19T09:20:48.000Z\",\"type\":{\"id\":\"otynwlw0pkLLUgtNG5d7\""
	    "},\"profile\":{\"firstName\":\"Binoy\",\"lastName\":\"Oza\",\"mobile"
	    "Phone\":null,\"secondEmail\":null,\"login\":\"binoy.oza@okta.com\",\""
	    "email\":\"binoy.oza@okta.com\"},\"credentials\":{\"password\":{},\"e"
	    "mails\":[{\"value\":\"binoy.oza@okta.com\",\"status\":\"VERIFIED\",\""
	    "type\":\"PRIMARY\"}],\"provider\":{\"type\":\"OKTA\",\"name\":\"OKTA"
	    "\"}},\"_links\":{\"self\":{\"href\":\"https://test.okta.com/api/v1/u"
	    "sers/00unwlw0tbo8E6aVj5d7\"}}}]",
	    1 },
	/* TestGroupsResource.test_group_users_operations #3 */
	{ "[{\"id\":\"00usfbpcapvcITLwi4x6\",\"status\":\"STAGED\",\"created\":"
	    "\"2020-08-27T18:15:57.000Z\",\"activated\":null,\"statusChanged\":nu"
	    "ll,\"lastLogin\":null,\"lastUpdated\":\"2020-08-27T18:15:57.000Z\",\""
	    "passwordChanged\":\"2020-08-27T18:15:57.000Z\",\"type\":{\"id\":\"ot"
	    "yc04qb2rUDcq2YA4x6\"},\"profile\":{\"firstName\":\"John\",\"lastName"
	    "\":\"Doe-Activate\",\"mobilePhone\":null,\"secondEmail\":null,\"logi"
	    "n\":\"John.Doe-Activate@example.com\",\"email\":\"John.Doe-Activate@"
	    "example.com\"},\"credentials\":{\"password\":{},\"emails\":[{\"value"
	    "\":\"John.Doe-Activate@example.com\",\"status\":\"VERIFIED\",\"type\""
	    ":\"PRIMARY\"}],\"provider\":{\"type\":\"OKTA\",\"name\":\"OKTA\"}},\""
	    "_links\":{\"self\":{\"href\":\"https://test.okta.com/api/v1/users/00"
	    "usfbpcapvcITLwi4x6\"}}}]",
	    1 },
	/* TestGroupsResource.test_group_users_operations #5 */
	{ "[]",
	    0 },
	/* TestGroupsResource.test_list_groups #1 */
	{ "[{\"id\":\"00gc04qatkiyWnGoq4x6\",\"created\":\"2020-05-13T13:29:23."
	    "000Z\",\"lastUpdated\":\"2020-05-13T13:29:23.000Z\",\"lastMembership"
	    "Updated\":\"2020-08-27T18:15:41.000Z\",\"objectClass\":[\"okta:user_"
	    "group\"],\"type\":\"BUILT_IN\",\"profile\":{\"name\":\"Everyone\",\""
	    "description\":\"All users in your organization\"},\"_links\":{\"logo"
	    "\":[{\"name\":\"medium\",\"href\":\"https://ok11static.oktacdn.com/a"
	    "ssets/img/logos/groups/okta-medium.d7fb831bc4e7e1a5d8bd35dfaf405d9e."
	    "png\",\"type\":\"image/png\"},{\"name\":\"large\",\"href\":\"https:/"
	    "/ok11static.oktacdn.com/assets/img/logos/groups/okta-large.511fcb0de"
	    "9da185b52589cb14d581c2c.png\",\"type\":\"image/png\"}],\"users\":{\""
	    "href\":\"https://test.okta.com/api/v1/groups/00gc04qatkiyWnGoq4x6/us"
	    "ers\"},\"apps\":{\"href\":\"https://test.okta.com/api/v1/groups/00gc"
	    "04qatkiyWnGoq4x6/apps\"}}},{\"id\":\"00gsfaq86mwHfGtjb4x6\",\"create"
	    "d\":\"2020-08-27T18:15:50.000Z\",\"lastUpdated\":\"2020-08-27T18:15:"
	    "50.000Z\",\"lastMembershipUpdated\":\"2020-08-27T18:15:50.000Z\",\"o"
	    "bjectClass\":[\"okta:user_group\"],\"type\":\"OKTA_GROUP\",\"profile"
	    "\":{\"name\":\"Group-Target-Test\",\"description\":null},\"_links\":"
	    "{\"logo\":[{\"name\":\"medium\",\"href\":\"https://ok11static.oktacd"
	    "n.com/assets/img/logos/groups/okta-medium.d7fb831bc4e7e1a5d8bd35dfaf"
	    "405d9e.png\",\"type\":\"image/png\"},{\"name\":\"large\",\"href\":\""
	    "https://ok11static.oktacdn.com/assets/img/logos/groups/okta-large.51"
	    "1fcb0de9da185b52589cb14d581c2c.png\",\"type\":\"image/png\"}],\"user"
	    "s\":{\"href\":\"https://test.okta.com/api/v1/groups/00gsfaq86mwHfGtj"
	    "b4x6/users\"},\"apps\":{\"href\":\"https://test.okta.com/api/v1/grou"
	    "ps/00gsfaq86mwHfGtjb4x6/apps\"}}},{\"id\":\"00gc0eqycaP2Eja9f4x6\",\""
	    "created\":\"2020-05-13T15:03:15.000Z\",\"lastUpdated\":\"2020-05-13T"
	    "15:03:15.000Z\",\"lastMembershipUpdated\":\"2020-06-17T15:14:37.000Z"
	    "\",\"objectClass\":[\"okta:user_group\"],\"type\":\"OKTA_GROUP\",\"p"
	    "rofile\":{\"name\":\"NBA Players\",\"description\":\"Professional As"
	    "sociation of NBA Players\"},\"_links\":{\"logo\":[{\"name\":\"medium"
	    "\",\"href\":\"https://ok11static.oktacdn.com/assets/img/logos/groups"
	    "/okta-medium.d7fb831bc4e7e1a5d8bd35dfaf405d9e.png\",\"type\":\"image"
	    "/png\"},{\"name\":\"large\",\"href\":\"https://ok11static.oktacdn.co"
	    "m/assets/img/logos/groups/okta-large.511fcb0de9da185b52589cb14d581c2"
	    "c.png\",\"type\":\"image/png\"}],\"users\":{\"href\":\"https://test."
	    "okta.com/api/v1/groups/00gc0eqycaP2Eja9f4x6/users\"},\"apps\":{\"hre"
	    "f\":\"https://test.okta.com/api/v1/groups/00gc0eqycaP2Eja9f4x6/apps\""
	    "}}}]",
	    3 },
	/* TestUsersResource.test_list_user_groups #3 */
	{ "[{\"id\":\"00gnwlw0pbm3qMcXs5d7\",\"created\":\"2025-03-19T08:01:45."
	    "000Z\",\"lastUpdated\":\"2025-03-19T08:01:45.000Z\",\"lastMembership"
	    "Updated\":\"2025-09-29T02:19:52.000Z\",\"objectClass\":[\"okta:user_"
	    "group\"],\"type\":\"BUILT_IN\",\"profile\":{\"name\":\"Everyone\",\""
	    "description\":\"All users in your organization\"},\"_links\":{\"logo"
	    "\":[{\"name\":\"medium\",\"href\":\"https://ok12static.oktacdn.com/a"
	    "ssets/img/logos/groups/odyssey/okta-medium.30ce6d4085dff29412984e4c1"
	    "91bc874.png\",\"type\":\"image/png\"},{\"name\":\"large\",\"href\":\""
	    "https://ok12static.oktacdn.com/assets/img/logos/groups/odyssey/okta-"
	    "large.c3cb8cda8ae0add1b4fe928f5844dbe3.png\",\"type\":\"image/png\"}"
	    "],\"users\":{\"href\":\"https://test.okta.com/api/v1/groups/00gnwlw0"
	    "pbm3qMcXs5d7/users\"},\"apps\":{\"href\":\"https://test.okta.com/api"
	    "/v1/groups/00gnwlw0pbm3qMcXs5d7/apps\"}}},{\"id\":\"00gqrkqjqdg2c9XZ"
	    "T5d7\",\"created\":\"2025-09-29T03:38:45.000Z\",\"lastUpdated\":\"20"
	    "25-09-29T03:38:45.000Z\",\"lastMembershipUpdated\":\"2025-09-29T03:3"
	    "8:46.000Z\",\"objectClass\":[\"okta:user_group\"],\"type\":\"OKTA_GR"
	    "OUP\",\"profile\":{\"name\":\"Test-User-Group\",\"description\":null"
	    "},\"_links\":{\"logo\":[{\"name\":\"medium\",\"href\":\"https://ok12"
	    "static.oktacdn.com/assets/img/logos/groups/odyssey/okta-medium.30ce6"
	    "d4085dff29412984e4c191bc874.png\",\"type\":\"image/png\"},{\"name\":"
	    "\"large\",\"href\":\"https://ok12static.oktacdn.com/assets/img/logos"
	    "/groups/odyssey/okta-large.c3cb8cda8ae0add1b4fe928f5844dbe3.png\",\""
	    "type\":\"image/png\"}],\"users\":{\"href\":\"https://test.okta.com/a"
	    "pi/v1/groups/00gqrkqjqdg2c9XZT5d7/users\"},\"apps\":{\"href\":\"http"
	    "s://test.okta.com/api/v1/groups/00gqrkqjqdg2c9XZT5d7/apps\"}}}]",
	    2 },
	/* TestUsersResource.test_suspend_user #2 */
	{ "[{\"id\":\"00usfdd3eO3sfObs54x6\",\"status\":\"SUSPENDED\",\"created"
	    "\":\"2020-08-27T18:19:29.000Z\",\"activated\":\"2020-08-27T18:19:30."
	    "000Z\",\"statusChanged\":\"2020-08-27T18:19:30.000Z\",\"lastLogin\":"
	    "null,\"lastUpdated\":\"2020-08-27T18:19:30.000Z\",\"passwordChanged\""
	    ":\"2020-08-27T18:19:30.000Z\",\"type\":{\"id\":\"otyc04qb2rUDcq2YA4x"
	    "6\"},\"profile\":{\"firstName\":\"John\",\"lastName\":\"Doe-Suspend\""
	    ",\"mobilePhone\":null,\"secondEmail\":null,\"login\":\"John.Doe-Susp"
	    "end@example.com\",\"email\":\"John.Doe-Suspend@example.com\"},\"cred"
	    "entials\":{\"password\":{},\"emails\":[{\"value\":\"John.Doe-Suspend"
	    "@example.com\",\"status\":\"VERIFIED\",\"type\":\"PRIMARY\"}],\"prov"
	    "ider\":{\"type\":\"OKTA\",\"name\":\"OKTA\"}},\"_links\":{\"self\":{"
	    "\"href\":\"https://test.okta.com/api/v1/users/00usfdd3eO3sfObs54x6\""
	    "}}}]",
	    1 },
	/* TestUsersResource.test_suspend_user #4 */
	{ "[{\"id\":\"00uc04qdrQsSHjsDO4x6\",\"status\":\"ACTIVE\",\"created\":"
	    "\"2020-05-13T13:29:28.000Z\",\"activated\":null,\"statusChanged\":\""
	    "2020-05-13T13:33:05.000Z\",\"lastLogin\":\"2020-08-27T13:30:59.000Z\""
	    ",\"lastUpdated\":\"2020-05-13T13:33:05.000Z\",\"passwordChanged\":\""
	    "2020-05-13T13:33:05.000Z\",\"type\":{\"id\":\"otyc04qb2rUDcq2YA4x6\""
	    "},\"profile\":{\"firstName\":\"Justin\",\"lastName\":\"Abrokwah\",\""
	    "mobilePhone\":null,\"secondEmail\":null,\"login\":\"justin.abrokwah@"
	    "okta.com\",\"email\":\"justin.abrokwah@okta.com\"},\"credentials\":{"
	    "\"password\":{},\"emails\":[{\"value\":\"justin.abrokwah@okta.com\","
	    "\"status\":\"VERIFIED\",\"type\":\"PRIMARY\"}],\"recovery_question\""
	    ":{\"question\":\"What was your dream job as a child?\"},\"provider\""
	    ":{\"type\":\"OKTA\",\"name\":\"OKTA\"}},\"_links\":{\"self\":{\"href"
	    "\":\"https://test.okta.com/api/v1/users/00uc04qdrQsSHjsDO4x6\"}}},{\""
	    "id\":\"00uc093uwoiDxH8TX4x6\",\"status\":\"ACTIVE\",\"created\":\"20"
	    "20-05-13T14:25:48.000Z\",\"activated\":\"2020-05-13T14:25:48.000Z\","
	    "\"statusChanged\":\"2020-05-13T14:25:48.000Z\",\"lastLogin\":\"2020-"
	    "05-13T19:00:35.000Z\",\"lastUpdated\":\"2020-05-13T18:45:26.000Z\",\""
	    "passwordChanged\":\"2020-05-13T14:25:48.000Z\",\"type\":{\"id\":\"ot"
	    "yc04qb2rUDcq2YA4x6\"},\"profile\":{\"firstName\":\"Michael\",\"lastN"
	    "ame\":\"Jordan\",\"mobilePhone\":null,\"secondEmail\":null,\"login\""
	    ":\"thelastdance@netflix.com\",\"email\":\"thelastdance@netflix.com\""
	    "},\"credentials\":{\"password\":{},\"emails\":[{\"value\":\"thelastd"
	    "ance@netflix.com\",\"status\":\"VERIFIED\",\"type\":\"PRIMARY\"}],\""
	    "recovery_question\":{\"question\":\"Who is your favorite sports play"
	    "er?\"},\"provider\":{\"type\":\"OKTA\",\"name\":\"OKTA\"}},\"_links\""
	    ":{\"self\":{\"href\":\"https://test.okta.com/api/v1/users/00uc093uwo"
	    "iDxH8TX4x6\"}}},{\"id\":\"00usfdd3eO3sfObs54x6\",\"status\":\"ACTIVE"
	    "\",\"created\":\"2020-08-27T18:19:29.000Z\",\"activated\":\"2020-08-"
	    "27T18:19:30.000Z\",\"statusChanged\":\"2020-08-27T18:19:31.000Z\",\""
	    "lastLogin\":null,\"lastUpdated\":\"2020-08-27T18:19:31.000Z\",\"pass"
	    "wordChanged\":\"2020-08-27T18:19:30.000Z\",\"type\":{\"id\":\"otyc04"
	    "qb2rUDcq2YA4x6\"},\"profile\":{\"firstName\":\"John\",\"lastName\":\""
	    "Doe-Suspend\",\"mobilePhone\":null,\"secondEmail\":null,\"login\":\""
	    "John.Doe-Suspend@example.com\",\"email\":\"John.Doe-Suspend@example."
	    "com\"},\"credentials\":{\"password\":{},\"emails\":[{\"value\":\"Joh"
	    "n.Doe-Suspend@example.com\",\"status\":\"VERIFIED\",\"type\":\"PRIMA"
	    "RY\"}],\"provider\":{\"type\":\"OKTA\",\"name\":\"OKTA\"}},\"_links\""
	    ":{\"self\":{\"href\":\"https://test.okta.com/api/v1/users/00usfdd3eO"
	    "3sfObs54x6\"}}}]",
	    3 },
	/* TestUsersResource.test_user_pagination #2 */
	{ "[{\"id\":\"00usfdsyqnIjEmHNm4x6\",\"status\":\"STAGED\",\"created\":"
	    "\"2020-08-27T18:16:00.000Z\",\"activated\":null,\"statusChanged\":nu"
	    "ll,\"lastLogin\":null,\"lastUpdated\":\"2020-08-27T18:16:00.000Z\",\""
	    "passwordChanged\":\"2020-08-27T18:16:00.000Z\",\"type\":{\"id\":\"ot"
	    "yc04qb2rUDcq2YA4x6\"},\"profile\":{\"firstName\":\"John\",\"lastName"
	    "\":\"Doe-Activate\",\"mobilePhone\":null,\"secondEmail\":null,\"logi"
	    "n\":\"John.Doe-Activate@example.com\",\"email\":\"John.Doe-Activate@"
	    "example.com\"},\"credentials\":{\"password\":{},\"emails\":[{\"value"
	    "\":\"John.Doe-Activate@example.com\",\"status\":\"VERIFIED\",\"type\""
	    ":\"PRIMARY\"}],\"provider\":{\"type\":\"OKTA\",\"name\":\"OKTA\"}},\""
	    "_links\":{\"self\":{\"href\":\"https://test.okta.com/api/v1/users/00"
	    "usfdsyqnIjEmHNm4x6\"}}}]",
	    1 },
	/* TestUsersResource.test_user_pagination #3 */
	{ "[{\"id\":\"00usfgmn9xhwtA6f74x6\",\"status\":\"STAGED\",\"created\":"
	    "\"2020-08-27T18:19:47.000Z\",\"activated\":null,\"statusChanged\":nu"
	    "ll,\"lastLogin\":null,\"lastUpdated\":\"2020-08-27T18:19:47.000Z\",\""
	    "passwordChanged\":\"2020-08-27T18:19:47.000Z\",\"type\":{\"id\":\"ot"
	    "yc04qb2rUDcq2YA4x6\"},\"profile\":{\"firstName\":\"John\",\"lastName"
	    "\":\"Doe-Paginate-1\",\"mobilePhone\":null,\"secondEmail\":null,\"lo"
	    "gin\":\"John.Doe-Paginate-1@example.com\",\"email\":\"John.Doe-Pagin"
	    "ate-1@example.com\"},\"credentials\":{\"password\":{},\"emails\":[{\""
	    "value\":\"John.Doe-Paginate-1@example.com\",\"status\":\"VERIFIED\","
	    "\"type\":\"PRIMARY\"}],\"provider\":{\"type\":\"OKTA\",\"name\":\"OK"
	    "TA\"}},\"_links\":{\"self\":{\"href\":\"https://test.okta.com/api/v1"
	    "/users/00usfgmn9xhwtA6f74x6\"}}}]",
	    1 },
};

static const struct { int status; const char *body, *code, *summary; } rec_errors[] = {
	/* TestAgentPoolsResource.test_list_agent_pools_with_multiple_pool_types #1 */
	{ 429, "{\"errorCode\":\"E0000047\",\"errorSummary\":\"API call exceeded rat"
	    "e limit due to too many requests.\",\"errorLink\":\"E0000047\",\"err"
	    "orId\":\"oae_A2-4_P9RtWIEh-N4O0qfg\",\"errorCauses\":[]}",
	    "E0000047", "API call exceeded rate limit due to too many requests." },
	/* TestUsersResource.test_user_pagination #8 */
	{ 404, "{\"errorCode\":\"E0000007\",\"errorSummary\":\"Not found: Resource n"
	    "ot found: 00usfgmn9xhwtA6f74x6 (User)\",\"errorLink\":\"E0000007\",\""
	    "errorId\":\"oaelr1lt59PSM-TvHYQ_LDr5g\",\"errorCauses\":[]}",
	    "E0000007", "Not found: Resource not found: 00usfgmn9xhwtA6f74x6 (User)" },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct seen {
	unsigned long n;
	unsigned long with_id;
	unsigned long stop_at;	/* stop after this many; 0: never */
};

/* Counts items and those that are objects with a string "id", as the
 * sync's callbacks will look at them. */
static int
count_item(void *ctx, json_object *item)
{
	struct seen *s = ctx;
	json_object *id;

	s->n++;
	if (json_object_is_type(item, json_type_object) &&
	    json_object_object_get_ex(item, "id", &id) &&
	    json_object_is_type(id, json_type_string))
		s->with_id++;
	return s->stop_at != 0 && s->n >= s->stop_at;
}

TEST(recorded_pages)
{
	struct seen s;
	unsigned long count;
	size_t i;

	for (i = 0; i < NELEM(rec_pages); i++) {
		memset(&s, 0, sizeof(s));
		ASSERT_INT_EQ(okta_ingest_page(rec_pages[i].body, strlen(rec_pages[i].body),
		    count_item, &s, &count), OK_SUCCESS);
		ASSERT_INT_EQ(count, rec_pages[i].count);
		ASSERT_INT_EQ(s.n, rec_pages[i].count);
		ASSERT_INT_EQ(s.with_id, rec_pages[i].count);
		/* Counting only. */
		ASSERT_INT_EQ(okta_ingest_page(rec_pages[i].body, strlen(rec_pages[i].body),
		    NULL, NULL, &count), OK_SUCCESS);
		ASSERT_INT_EQ(count, rec_pages[i].count);
	}
}

/* Every proper prefix of a recorded page is an error, never a shorter
 * page: a cut connection must not look like fewer users. */
TEST(truncated_pages)
{
	const char *why = NULL;
	unsigned long count;
	struct seen s;
	size_t i, len, cut;

	for (i = 0; i < NELEM(rec_pages); i++) {
		len = strlen(rec_pages[i].body);
		for (cut = 0; cut < len; cut++) {
			/* Trailing white space after a whole array is fine. */
			memset(&s, 0, sizeof(s));
			if (okta_ingest_page_why(rec_pages[i].body, cut, count_item, &s,
			    &count, &why) != OK_ERR_PROTOCOL) {
				fprintf(stderr, "  page %zu cut at %zu/%zu accepted\n", i, cut, len);
				ASSERT(0);
			}
			ASSERT(why != NULL && why[0] != '\0');
			ASSERT_INT_EQ(count, 0);
			ASSERT_INT_EQ(s.n, 0);
		}
	}
}

TEST(broken_pages)
{
	static const char *const bad[] = {
		"[{\"id\":\"00u1\"}] x",		/* trailing garbage */
		"[{\"id\":\"00u1\"}][]",		/* two values */
		"{\"id\":\"00u1\"}",			/* an object, not a list */
		"\"[]\"",
		"null",
		"[{\"id\":\"00u1\",}]",			/* strict: trailing comma */
		"[{'id':'00u1'}]",			/* strict: single quotes */
		"<html><body>Okta</body></html>",
		"",
	};
	const char *why;
	unsigned long count = 99;
	size_t i;

	for (i = 0; i < NELEM(bad); i++) {
		if (okta_ingest_page_why(bad[i], strlen(bad[i]), NULL, NULL, &count,
		    &why) != OK_ERR_PROTOCOL) {
			fprintf(stderr, "  accepted: %s\n", bad[i]);
			ASSERT(0);
		}
		ASSERT_INT_EQ(count, 0);
	}
	ASSERT_INT_EQ(okta_ingest_page_why("{}", 2, NULL, NULL, NULL, &why), OK_ERR_PROTOCOL);
	ASSERT(strstr(why, "not a list") != NULL);
	/* A NUL inside the body is not white space. */
	ASSERT_INT_EQ(okta_ingest_page("[]\0", 3, NULL, NULL, NULL), OK_ERR_PROTOCOL);
	/* These are fine: an empty page, white space around the array. */
	ASSERT_INT_EQ(okta_ingest_page("[]", 2, NULL, NULL, &count), OK_SUCCESS);
	ASSERT_INT_EQ(count, 0);
	ASSERT_INT_EQ(okta_ingest_page(" [1, 2]\r\n", 9, NULL, NULL, &count), OK_SUCCESS);
	ASSERT_INT_EQ(count, 2);
	ASSERT_INT_EQ(okta_ingest_page(NULL, 0, NULL, NULL, &count), OK_ERR_PROTOCOL);
}

TEST(callback_stops)
{
	struct seen s;
	unsigned long count;
	size_t i;

	for (i = 0; i < NELEM(rec_pages); i++) {
		if (rec_pages[i].count < 2)
			continue;
		memset(&s, 0, sizeof(s));
		s.stop_at = 1;
		ASSERT_INT_EQ(okta_ingest_page(rec_pages[i].body, strlen(rec_pages[i].body),
		    count_item, &s, &count), OK_ERR_INTERRUPTED);
		ASSERT_INT_EQ(s.n, 1);
		return;
	}
	ASSERT(0);	/* no recorded page with two items */
}

TEST(recorded_errors)
{
	static const char e401[] = "{\"errorCode\":\"E0000011\",\"errorSummary\":"
	    "\"Invalid token provided\",\"errorLink\":\"E0000011\",\"errorId\":"
	    "\"oaeX\",\"errorCauses\":[]}";
	static const char hostile[] = "{\"errorCode\":\"E1\\n\\u001b[31m\","
	    "\"errorSummary\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}";
	char code[32], summary[256];
	size_t i;

	for (i = 0; i < NELEM(rec_errors); i++) {
		okta_parse_error(rec_errors[i].body, strlen(rec_errors[i].body), code,
		    sizeof(code), summary, sizeof(summary));
		ASSERT_STR_EQ(code, rec_errors[i].code);
		ASSERT_STR_EQ(summary, rec_errors[i].summary);
	}
	/* Okta's 401 as documented. */
	okta_parse_error(e401, strlen(e401), code, sizeof(code), summary, sizeof(summary));
	ASSERT_STR_EQ(code, "E0000011");
	ASSERT_STR_EQ(summary, "Invalid token provided");
	/* Hostile: control characters and escapes are neutralised, length capped. */
	okta_parse_error(hostile, strlen(hostile), code, sizeof(code), summary, 16);
	ASSERT_STR_EQ(code, "E1??[31m");
	ASSERT_STR_EQ(summary, "aaaaaaaaaaaa...");
	/* Not an error body: both empty. */
	okta_parse_error("<html>", 6, code, sizeof(code), summary, sizeof(summary));
	ASSERT_STR_EQ(code, "");
	ASSERT_STR_EQ(summary, "");
	okta_parse_error("{\"errorCode\":5}", 15, code, sizeof(code), summary, sizeof(summary));
	ASSERT_STR_EQ(code, "");
}

TEST(sanitize_and_ids)
{
	char out[8];

	ASSERT_INT_EQ(okta_sanitize(out, sizeof(out), "abc", 3), 3);
	ASSERT_STR_EQ(out, "abc");
	okta_sanitize(out, sizeof(out), "a\x1b\n\xc3\xa9z", 6);
	ASSERT_STR_EQ(out, "a????z");
	okta_sanitize(out, sizeof(out), "0123456789", 10);
	ASSERT_STR_EQ(out, "0123...");
	okta_sanitize(out, sizeof(out), "ab\0cd", 5);
	ASSERT_STR_EQ(out, "ab");
	ASSERT_INT_EQ(okta_valid_id("00gsf7bj3rH2d9PvL4x6"), 1);
	ASSERT_INT_EQ(okta_valid_id(""), 0);
	ASSERT_INT_EQ(okta_valid_id(NULL), 0);
	ASSERT_INT_EQ(okta_valid_id("00g/../users"), 0);
	ASSERT_INT_EQ(okta_valid_id("00g?limit=1"), 0);
	ASSERT_INT_EQ(okta_valid_id(
	    "01234567890123456789012345678901234567890123456789012345678901234"), 0);
}

int
main(void)
{
	RUN(recorded_pages);
	RUN(truncated_pages);
	RUN(broken_pages);
	RUN(callback_stops);
	RUN(recorded_errors);
	RUN(sanitize_and_ids);
	return test_done();
}
