/*
 * test_okta_link.c - the pure header parsers of the Okta client on the
 * header values Okta really sent (recorded by Okta's own SDK tests), plus
 * comma-joined and malformed ones: Link (rel="next"), Date, and the
 * X-Rate-Limit-* headers in any letter case, and the wait after a 429.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "okta.h"

/* Generated from the .yaml files in /work/shared/reference/okta-recorded
 * (Okta's okta-sdk-python cassettes, Apache-2.0, copyright Okta Inc.);
 * copied here so that the test runs anywhere. */
static const struct { const char *value, *next; } rec_links[] = {
	/* TestDPoPBackwardCompatibility.test_ssws_auth_unchanged #0 */
	{ "<https://test.okta.com/api/v1/users?limit=1>; rel=\"self\"",
	    NULL },
	/* TestDPoPBackwardCompatibility.test_ssws_auth_unchanged #0 */
	{ "<https://test.okta.com/api/v1/users?after=200unwlw0tbo8E6aVj5d7&limi"
	    "t=1>; rel=\"next\"",
	    "https://test.okta.com/api/v1/users?after=200unwlw0tbo8E6aVj5d7&limit"
	    "=1" },
	/* TestGroupsResource.test_group_users_operations #3 */
	{ "<https://test.okta.com/api/v1/groups/00gsf7bj3rH2d9PvL4x6/users?limi"
	    "t=1000>; rel=\"self\"",
	    NULL },
	/* TestGroupsResource.test_group_users_operations #5 */
	{ "<https://test.okta.com/api/v1/groups/00gsf7bj3rH2d9PvL4x6/users?limi"
	    "t=1000>; rel=\"self\"",
	    NULL },
	/* TestGroupsResource.test_list_groups #1 */
	{ "<https://test.okta.com/api/v1/groups?limit=10000>; rel=\"self\"",
	    NULL },
	/* TestUsersResource.test_list_user_groups #3 */
	{ "<https://dev-20982288.okta.com/api/v1/users/00uqrkpsp7ZR4AkPB5d7/gro"
	    "ups?limit=200>; rel=\"self\"",
	    NULL },
	/* TestUsersResource.test_suspend_user #2 */
	{ "<https://test.okta.com/api/v1/users?limit=200&filter=status+eq+%22SU"
	    "SPENDED%22>; rel=\"self\"",
	    NULL },
	/* TestUsersResource.test_suspend_user #4 */
	{ "<https://test.okta.com/api/v1/users?limit=200&filter=status+eq+%22AC"
	    "TIVE%22>; rel=\"self\"",
	    NULL },
	/* TestUsersResource.test_user_pagination #2 */
	{ "<https://test.okta.com/api/v1/users?after=000usfdsyqnIjEmHNm4x6&limi"
	    "t=1>; rel=\"next\"",
	    "https://test.okta.com/api/v1/users?after=000usfdsyqnIjEmHNm4x6&limit"
	    "=1" },
	/* TestUsersResource.test_user_pagination #3 */
	{ "<https://test.okta.com/api/v1/users?after=000usfgmn9xhwtA6f74x6&limi"
	    "t=1>; rel=\"next\"",
	    "https://test.okta.com/api/v1/users?after=000usfgmn9xhwtA6f74x6&limit"
	    "=1" },
};

static const struct { const char *value; long long epoch; } rec_dates[] = {
	{ "Thu, 11 Sep 2025 16:21:49 GMT", 1757607709LL },
	{ "Thu, 11 Sep 2025 16:21:50 GMT", 1757607710LL },
	{ "Thu, 11 Sep 2025 16:22:41 GMT", 1757607761LL },
	{ "Mon, 30 Mar 2026 07:55:48 GMT", 1774857348LL },
	{ "Thu, 27 Aug 2020 18:15:57 GMT", 1598552157LL },
	{ "Thu, 27 Aug 2020 18:15:58 GMT", 1598552158LL },
	{ "Thu, 27 Aug 2020 18:15:59 GMT", 1598552159LL },
	{ "Thu, 27 Aug 2020 18:15:50 GMT", 1598552150LL },
	{ "Mon, 29 Sep 2025 03:38:44 GMT", 1759117124LL },
	{ "Mon, 29 Sep 2025 03:38:45 GMT", 1759117125LL },
	{ "Mon, 29 Sep 2025 03:38:46 GMT", 1759117126LL },
	{ "Mon, 29 Sep 2025 03:38:47 GMT", 1759117127LL },
	{ "Mon, 29 Sep 2025 03:38:48 GMT", 1759117128LL },
	{ "Mon, 29 Sep 2025 03:38:49 GMT", 1759117129LL },
	{ "Mon, 29 Sep 2025 03:38:50 GMT", 1759117130LL },
	{ "Mon, 29 Sep 2025 03:38:52 GMT", 1759117132LL },
	{ "Thu, 27 Aug 2020 18:19:30 GMT", 1598552370LL },
	{ "Thu, 27 Aug 2020 18:19:31 GMT", 1598552371LL },
	{ "Thu, 27 Aug 2020 18:19:32 GMT", 1598552372LL },
	{ "Thu, 27 Aug 2020 18:19:47 GMT", 1598552387LL },
	{ "Thu, 27 Aug 2020 18:19:48 GMT", 1598552388LL },
	{ "Thu, 27 Aug 2020 18:19:49 GMT", 1598552389LL },
	{ "Thu, 27 Aug 2020 18:19:50 GMT", 1598552390LL },
};

/* X-Rate-Limit-Limit, -Remaining, -Reset, Date and the status. */
static const struct { const char *limit, *remaining, *reset, *date; int status; } rec_rates[] = {
	{ "10", "0", "1757607758", "Thu, 11 Sep 2025 16:21:49 GMT", 200 },	/* TestAgentPoolsResource.test_list_agent_p #0 */
	{ "10", "0", "1757607758", "Thu, 11 Sep 2025 16:21:50 GMT", 429 },	/* TestAgentPoolsResource.test_list_agent_p #1 */
	{ "10", "9", "1757607820", "Thu, 11 Sep 2025 16:22:41 GMT", 200 },	/* TestAgentPoolsResource.test_list_agent_p #2 */
	{ "50", "49", "1774857408", "Mon, 30 Mar 2026 07:55:48 GMT", 200 },	/* TestDPoPBackwardCompatibility.test_ssws_ #0 */
	{ "600", "581", "1598552194", "Thu, 27 Aug 2020 18:15:57 GMT", 200 },	/* TestGroupsResource.test_group_users_oper #0 */
	{ "500", "483", "1598552209", "Thu, 27 Aug 2020 18:15:58 GMT", 200 },	/* TestGroupsResource.test_group_users_oper #1 */
	{ "500", "482", "1598552209", "Thu, 27 Aug 2020 18:15:58 GMT", 204 },	/* TestGroupsResource.test_group_users_oper #2 */
	{ "500", "481", "1598552209", "Thu, 27 Aug 2020 18:15:58 GMT", 200 },	/* TestGroupsResource.test_group_users_oper #3 */
	{ "500", "480", "1598552209", "Thu, 27 Aug 2020 18:15:58 GMT", 204 },	/* TestGroupsResource.test_group_users_oper #4 */
	{ "500", "479", "1598552209", "Thu, 27 Aug 2020 18:15:58 GMT", 200 },	/* TestGroupsResource.test_group_users_oper #5 */
	{ "600", "593", "1598552195", "Thu, 27 Aug 2020 18:15:59 GMT", 204 },	/* TestGroupsResource.test_group_users_oper #6 */
	{ "600", "592", "1598552195", "Thu, 27 Aug 2020 18:15:59 GMT", 204 },	/* TestGroupsResource.test_group_users_oper #7 */
	{ "1000", "989", "1598552209", "Thu, 27 Aug 2020 18:15:59 GMT", 204 },	/* TestGroupsResource.test_group_users_oper #8 */
	{ "500", "498", "1598552209", "Thu, 27 Aug 2020 18:15:50 GMT", 200 },	/* TestGroupsResource.test_list_groups #0 */
	{ "500", "497", "1598552209", "Thu, 27 Aug 2020 18:15:50 GMT", 200 },	/* TestGroupsResource.test_list_groups #1 */
	{ "1000", "996", "1598552209", "Thu, 27 Aug 2020 18:15:50 GMT", 204 },	/* TestGroupsResource.test_list_groups #2 */
	{ "50", "49", "1759117184", "Mon, 29 Sep 2025 03:38:44 GMT", 200 },	/* TestUsersResource.test_list_user_groups #0 */
	{ "50", "49", "1759117185", "Mon, 29 Sep 2025 03:38:45 GMT", 200 },	/* TestUsersResource.test_list_user_groups #1 */
	{ "50", "48", "1759117185", "Mon, 29 Sep 2025 03:38:46 GMT", 204 },	/* TestUsersResource.test_list_user_groups #2 */
	{ "50", "48", "1759117184", "Mon, 29 Sep 2025 03:38:47 GMT", 200 },	/* TestUsersResource.test_list_user_groups #3 */
	{ "50", "47", "1759117185", "Mon, 29 Sep 2025 03:38:48 GMT", 204 },	/* TestUsersResource.test_list_user_groups #4 */
	{ "50", "49", "1759117189", "Mon, 29 Sep 2025 03:38:49 GMT", 204 },	/* TestUsersResource.test_list_user_groups #5 */
	{ "50", "47", "1759117184", "Mon, 29 Sep 2025 03:38:50 GMT", 200 },	/* TestUsersResource.test_list_user_groups #6 */
	{ "50", "49", "1759117191", "Mon, 29 Sep 2025 03:38:52 GMT", 204 },	/* TestUsersResource.test_list_user_groups #7 */
	{ "600", "596", "1598552424", "Thu, 27 Aug 2020 18:19:30 GMT", 200 },	/* TestUsersResource.test_suspend_user #0 */
	{ "600", "595", "1598552424", "Thu, 27 Aug 2020 18:19:30 GMT", 200 },	/* TestUsersResource.test_suspend_user #1 */
	{ "600", "594", "1598552424", "Thu, 27 Aug 2020 18:19:30 GMT", 200 },	/* TestUsersResource.test_suspend_user #2 */
	{ "600", "593", "1598552424", "Thu, 27 Aug 2020 18:19:31 GMT", 200 },	/* TestUsersResource.test_suspend_user #3 */
	{ "600", "592", "1598552424", "Thu, 27 Aug 2020 18:19:31 GMT", 200 },	/* TestUsersResource.test_suspend_user #4 */
	{ "600", "594", "1598552425", "Thu, 27 Aug 2020 18:19:31 GMT", 204 },	/* TestUsersResource.test_suspend_user #5 */
	{ "600", "593", "1598552425", "Thu, 27 Aug 2020 18:19:32 GMT", 204 },	/* TestUsersResource.test_suspend_user #6 */
	{ "600", "576", "1598552424", "Thu, 27 Aug 2020 18:19:47 GMT", 200 },	/* TestUsersResource.test_user_pagination #0 */
	{ "600", "575", "1598552424", "Thu, 27 Aug 2020 18:19:48 GMT", 200 },	/* TestUsersResource.test_user_pagination #1 */
	{ "600", "574", "1598552424", "Thu, 27 Aug 2020 18:19:48 GMT", 200 },	/* TestUsersResource.test_user_pagination #2 */
	{ "600", "573", "1598552424", "Thu, 27 Aug 2020 18:19:48 GMT", 200 },	/* TestUsersResource.test_user_pagination #3 */
	{ "600", "582", "1598552425", "Thu, 27 Aug 2020 18:19:48 GMT", 204 },	/* TestUsersResource.test_user_pagination #4 */
	{ "600", "581", "1598552425", "Thu, 27 Aug 2020 18:19:49 GMT", 204 },	/* TestUsersResource.test_user_pagination #5 */
	{ "600", "580", "1598552425", "Thu, 27 Aug 2020 18:19:49 GMT", 204 },	/* TestUsersResource.test_user_pagination #6 */
	{ "600", "579", "1598552425", "Thu, 27 Aug 2020 18:19:50 GMT", 204 },	/* TestUsersResource.test_user_pagination #7 */
	{ "2000", "1993", "1598552424", "Thu, 27 Aug 2020 18:19:50 GMT", 404 },	/* TestUsersResource.test_user_pagination #8 */
};


#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Feed one header line the way libcurl does: with CRLF, unterminated. */
static void
feed(struct okta_headers *h, const char *line)
{
	char buf[OKTA_HDR_MAX + 64];
	size_t n = strlen(line);

	memcpy(buf, line, n);
	memcpy(buf + n, "\r\nXX", 4);	/* bytes after the line must be ignored */
	okta_headers_parse_line(h, buf, n + 2);
}

TEST(recorded_link_values)
{
	char out[OKTA_URL_MAX];
	size_t i;
	int r;

	for (i = 0; i < NELEM(rec_links); i++) {
		r = okta_parse_link_next(rec_links[i].value, out, sizeof(out));
		if (rec_links[i].next == NULL) {
			ASSERT_INT_EQ(r, 0);
		} else {
			ASSERT_INT_EQ(r, 1);
			ASSERT_STR_EQ(out, rec_links[i].next);
		}
	}
}

/* Okta sends self and next as two Link fields (TestDPoP... #0); proxies
 * may join them with a comma.  Both forms give the same next link. */
TEST(separate_and_comma_joined)
{
	static const char next[] =
	    "https://test.okta.com/api/v1/users?after=200unwlw0tbo8E6aVj5d7&limit=1";
	struct okta_headers h;
	char out[OKTA_URL_MAX];

	okta_headers_reset(&h);
	feed(&h, "HTTP/1.1 200 OK");
	feed(&h, "Link: <https://test.okta.com/api/v1/users?limit=1>; rel=\"self\"");
	feed(&h, "Link: <https://test.okta.com/api/v1/users?after=200unwlw0tbo8E6aVj5d7&limit=1>; rel=\"next\"");
	ASSERT_INT_EQ(h.has_next, 1);
	ASSERT_INT_EQ(h.link_bad, 0);
	ASSERT_STR_EQ(h.next, next);

	okta_headers_reset(&h);
	feed(&h, "link: <https://test.okta.com/api/v1/users?limit=1>; rel=\"self\", "
	    "<https://test.okta.com/api/v1/users?after=200unwlw0tbo8E6aVj5d7&limit=1>; rel=\"next\"");
	ASSERT_INT_EQ(h.has_next, 1);
	ASSERT_INT_EQ(h.link_bad, 0);
	ASSERT_STR_EQ(h.next, next);

	/* next first, then self, no space after the comma. */
	ASSERT_INT_EQ(okta_parse_link_next("<https://a.example/x?after=1>;rel=next,"
	    "<https://a.example/x>;rel=self", out, sizeof(out)), 1);
	ASSERT_STR_EQ(out, "https://a.example/x?after=1");
	/* A comma inside the URL does not split it. */
	ASSERT_INT_EQ(okta_parse_link_next("<https://a.example/x?after=a,b>; rel=\"next\"",
	    out, sizeof(out)), 1);
	ASSERT_STR_EQ(out, "https://a.example/x?after=a,b");
	/* rel may list several types; names and values in any case. */
	ASSERT_INT_EQ(okta_parse_link_next("<https://a.example/n>; REL=\"prev NEXT\"",
	    out, sizeof(out)), 1);
	ASSERT_STR_EQ(out, "https://a.example/n");
	/* Other parameters, quoted commas and semicolons are skipped. */
	ASSERT_INT_EQ(okta_parse_link_next("<https://a.example/s>; title=\"a, b; c\"; rel=self, "
	    "<https://a.example/n>; type=\"application/json\"; rel=\"next\"", out, sizeof(out)), 1);
	ASSERT_STR_EQ(out, "https://a.example/n");
	/* "nextpage" is not "next". */
	ASSERT_INT_EQ(okta_parse_link_next("<https://a.example/n>; rel=\"nextpage\"",
	    out, sizeof(out)), 0);
	ASSERT_INT_EQ(okta_parse_link_next("", out, sizeof(out)), 0);
}

TEST(malformed_links)
{
	static const char *const bad[] = {
		"https://test.okta.com/api/v1/users?after=1; rel=\"next\"",	/* no <> */
		"<https://test.okta.com/api/v1/users?after=1; rel=\"next\"",	/* no > */
		"<https://test.okta.com/api/v1/users?after=1>; rel=\"next",	/* open quote */
		"<https://test.okta.com/api/v1/users?after=1> rel=\"next\"",	/* no ; */
		"<https://test.okta.com/a b>; rel=\"next\"",			/* space in URL */
		"<https://test.okta.com/a\tb>; rel=\"next\"",			/* control */
		"<>; rel=\"next\"",						/* empty URL */
		"<https://a.example/x>; =next",				/* no name */
		"<https://a.example/x>; rel=",					/* no value */
		"<https://a.example/x>; rel=\"self\" junk",
	};
	char out[OKTA_URL_MAX], small[16];
	struct okta_headers h;
	size_t i;

	for (i = 0; i < NELEM(bad); i++) {
		if (okta_parse_link_next(bad[i], out, sizeof(out)) != -1) {
			fprintf(stderr, "  accepted: %s\n", bad[i]);
			ASSERT(0);
		}
	}
	/* Too long for the buffer is an error, never a cut URL. */
	ASSERT_INT_EQ(okta_parse_link_next("<https://a.example/0123456789>; rel=next",
	    small, sizeof(small)), -1);
	ASSERT_INT_EQ(okta_parse_link_next(NULL, out, sizeof(out)), -1);

	/* Through the header parser: a bad field marks the response. */
	okta_headers_reset(&h);
	feed(&h, "Link: <https://test.okta.com/api/v1/users?after=1; rel=\"next\"");
	ASSERT_INT_EQ(h.link_bad, 1);
	/* Two different next links are ambiguous; the same one twice is not. */
	okta_headers_reset(&h);
	feed(&h, "Link: <https://a.example/1>; rel=\"next\"");
	feed(&h, "Link: <https://a.example/1>; rel=\"next\"");
	ASSERT_INT_EQ(h.link_bad, 0);
	feed(&h, "Link: <https://a.example/2>; rel=\"next\"");
	ASSERT_INT_EQ(h.link_bad, 1);
	/* A new status line (a retried request) starts afresh. */
	feed(&h, "HTTP/2 200");
	ASSERT_INT_EQ(h.link_bad, 0);
	ASSERT_INT_EQ(h.has_next, 0);
}

TEST(recorded_dates)
{
	size_t i;

	for (i = 0; i < NELEM(rec_dates); i++)
		ASSERT_INT_EQ(okta_parse_http_date(rec_dates[i].value), rec_dates[i].epoch);
	/* The obsolete forms a recipient must accept (RFC 7231 7.1.1.1). */
	ASSERT_INT_EQ(okta_parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
	ASSERT_INT_EQ(okta_parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
	ASSERT_INT_EQ(okta_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
}

TEST(malformed_dates)
{
	char longdate[200];

	ASSERT_INT_EQ(okta_parse_http_date(NULL), -1);
	ASSERT_INT_EQ(okta_parse_http_date(""), -1);
	ASSERT_INT_EQ(okta_parse_http_date("garbage"), -1);
	ASSERT_INT_EQ(okta_parse_http_date("Thu, 27 Aug 2020 18:15:57 GMT\n"), -1);
	ASSERT_INT_EQ(okta_parse_http_date("Thu, 27 Aug 2020 18:15:57 GMT\x1b[2J"), -1);
	ASSERT_INT_EQ(okta_parse_http_date("Thu, 32 Aug 2020 18:15:57 GMT"), -1);
	ASSERT_INT_EQ(okta_parse_http_date("Thu, 27 Aug 2020 25:15:57 GMT"), -1);
	memset(longdate, ' ', sizeof(longdate) - 1);
	longdate[sizeof(longdate) - 1] = '\0';
	memcpy(longdate, "Thu, 27 Aug 2020 18:15:57 GMT", 29);
	ASSERT_INT_EQ(okta_parse_http_date(longdate), -1);
}

/* Every recorded response's rate headers, fed in the letter case Okta
 * used (lower case) and in the canonical one. */
TEST(recorded_rate_headers)
{
	struct okta_headers h;
	char line[256];
	size_t i;
	int upper;

	for (i = 0; i < NELEM(rec_rates); i++) {
		for (upper = 0; upper <= 1; upper++) {
			okta_headers_reset(&h);
			snprintf(line, sizeof(line), "%s: %s", upper ?
			    "X-Rate-Limit-Limit" : "x-rate-limit-limit", rec_rates[i].limit);
			feed(&h, line);
			snprintf(line, sizeof(line), "%s: %s", upper ?
			    "X-Rate-Limit-Remaining" : "x-rate-limit-remaining",
			    rec_rates[i].remaining);
			feed(&h, line);
			snprintf(line, sizeof(line), "%s:%s", upper ?
			    "X-RATE-LIMIT-RESET" : "x-rate-limit-reset", rec_rates[i].reset);
			feed(&h, line);
			snprintf(line, sizeof(line), "%s: %s", upper ? "DATE" : "date",
			    rec_rates[i].date);
			feed(&h, line);
			ASSERT_INT_EQ(h.rl_limit, atol(rec_rates[i].limit));
			ASSERT_INT_EQ(h.rl_remaining, atol(rec_rates[i].remaining));
			ASSERT_INT_EQ(h.rl_reset, atoll(rec_rates[i].reset));
			ASSERT(h.date > 1500000000);
			ASSERT(h.rl_reset >= h.date);
		}
	}
	/* Not numbers: taken as absent. */
	okta_headers_reset(&h);
	feed(&h, "X-Rate-Limit-Limit: -5");
	feed(&h, "X-Rate-Limit-Remaining: 12abc");
	feed(&h, "X-Rate-Limit-Reset: 99999999999999999999999");
	ASSERT_INT_EQ(h.rl_limit, -1);
	ASSERT_INT_EQ(h.rl_remaining, -1);
	ASSERT_INT_EQ(h.rl_reset, -1);
	/* Content-Type with parameters, and a name that only starts alike. */
	feed(&h, "Content-Type: application/json;charset=UTF-8");
	ASSERT_STR_EQ(h.content_type, "application/json;charset=UTF-8");
	feed(&h, "Content-Type-Options: nosniff");
	ASSERT_STR_EQ(h.content_type, "application/json;charset=UTF-8");
}

/* The recorded 429: Date 16:21:50, Reset 1757607758 (48 s later); the SDK
 * retried at 16:22:41.  We wait 48 s plus the margin. */
TEST(rate_wait)
{
	long long date = okta_parse_http_date("Thu, 11 Sep 2025 16:21:50 GMT");
	long long reset = okta_parse_number("1757607758");

	ASSERT_INT_EQ(okta_rate_wait_ms(reset, date, 1), 48000 + OKTA_RATE_MARGIN_MS);
	/* A reset already past: only the margin. */
	ASSERT_INT_EQ(okta_rate_wait_ms(date - 5, date, 1), OKTA_RATE_MARGIN_MS);
	/* Bounded, whatever the server says. */
	ASSERT_INT_EQ(okta_rate_wait_ms(date + 86400, date, 1), OKTA_WAIT_MAX_MS);
	/* A reset far in the future (the fuzzer found the overflow) waits
	 * the longest, never a negative time. */
	ASSERT_INT_EQ(okta_rate_wait_ms(LLONG_MAX, date, 1), OKTA_WAIT_MAX_MS);
	ASSERT_INT_EQ(okta_rate_wait_ms(LLONG_MAX, 0, 1), OKTA_WAIT_MAX_MS);
	/* No headers: exponential back-off, bounded. */
	ASSERT_INT_EQ(okta_rate_wait_ms(-1, date, 1), OKTA_RATE_BACKOFF_MS);
	ASSERT_INT_EQ(okta_rate_wait_ms(reset, -1, 3), 4 * OKTA_RATE_BACKOFF_MS);
	ASSERT_INT_EQ(okta_rate_wait_ms(-1, -1, 40), OKTA_WAIT_MAX_MS);
}

int
main(void)
{
	RUN(recorded_link_values);
	RUN(separate_and_comma_joined);
	RUN(malformed_links);
	RUN(recorded_dates);
	RUN(malformed_dates);
	RUN(recorded_rate_headers);
	RUN(rate_wait);
	return test_done();
}
