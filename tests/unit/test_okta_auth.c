/*
 * test_okta_auth.c - what okta-syncd makes of Okta's Direct Authentication
 * answers (syncd/okta/okta_auth.h, issue 11): each error of Okta's table
 * classified (a refusal is never taken for "Okta unreachable", which
 * would open the way to offline credentials), the fields of a challenge
 * and of a device authorization checked, the polling interval after
 * slow_down, the endpoints of the org and of a custom server, and the
 * keys endpoint's Cache-Control max-age.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "config.h"
#include "okta.h"
#include "okta_auth.h"

#define MFA_OOB "http://auth0.com/oauth/grant-type/mfa-oob"
#define MFA_OTP "http://auth0.com/oauth/grant-type/mfa-otp"

static enum oa_status
answer(const char *what, long status, const char *body,
    struct okta_auth_reply *r)
{
	memset(r, 0, sizeof(*r));
	okta_auth_read_answer(r, "/oauth2/v1/token", what, status, body,
	    strlen(body));
	return r->status;
}

static enum oa_status
error_of(long status, const char *error, const char *desc)
{
	struct okta_auth_reply r;
	char body[512];
	enum oa_status s;

	snprintf(body, sizeof(body), "{\"error\":\"%s\",\"error_description\":"
	    "\"%s\"}", error, desc);
	s = answer("token", status, body, &r);
	okta_auth_reply_wipe(&r);
	return s;
}

TEST(okta_errors_are_classified)
{
	ASSERT_INT_EQ(error_of(400, "invalid_grant",
	    "The credentials provided were invalid."), OA_DENIED);
	ASSERT_INT_EQ(error_of(400, "invalid_grant",
	    "User rejected out-of-band authentication prompt."), OA_DENIED);
	ASSERT_INT_EQ(error_of(400, "authorization_pending", "wait"), OA_PENDING);
	ASSERT_INT_EQ(error_of(400, "slow_down", "Slow down"), OA_SLOW_DOWN);
	ASSERT_INT_EQ(error_of(400, "expired_token", "gone"), OA_EXPIRED);
	ASSERT_INT_EQ(error_of(403, "access_denied",
	    "'oob_code' has expired. Use a new 'oob_code' and try again."),
	    OA_EXPIRED);
	ASSERT_INT_EQ(error_of(403, "access_denied", "The required authenticator "
	    "cannot be used. Check if it is required by policy and the user is "
	    "enrolled in the authenticator and try again."), OA_NOT_ENROLLED);
	ASSERT_INT_EQ(error_of(403, "access_denied", "policy"), OA_DENIED);
	/* Okta's per-user limit: 429 with error invalid_grant. */
	ASSERT_INT_EQ(error_of(429, "invalid_grant",
	    "API call exceeded rate limit due to too many requests."),
	    OA_UNAVAILABLE);
	ASSERT_INT_EQ(error_of(401, "invalid_client", "bad"), OA_ERROR);
	ASSERT_INT_EQ(error_of(400, "invalid_scope", "openid"), OA_ERROR);
}

TEST(mfa_required_needs_its_token)
{
	struct okta_auth_reply r;

	ASSERT_INT_EQ(answer("token", 403, "{\"error\":\"mfa_required\","
	    "\"error_description\":\"x\",\"mfa_token\":\"tok-123\"}", &r),
	    OA_MFA_REQUIRED);
	ASSERT_STR_EQ(r.mfa_token, "tok-123");
	ASSERT(strstr(r.detail, "tok-123") == NULL);
	okta_auth_reply_wipe(&r);
	ASSERT_INT_EQ(answer("token", 403, "{\"error\":\"mfa_required\"}", &r),
	    OA_ERROR);
	ASSERT_INT_EQ(answer("token", 403, "{\"error\":\"mfa_required\","
	    "\"mfa_token\":7}", &r), OA_ERROR);
	okta_auth_reply_wipe(&r);
}

TEST(tokens_and_broken_answers)
{
	struct okta_auth_reply r;

	ASSERT_INT_EQ(answer("token", 200, "{\"id_token\":\"a.b.c\","
	    "\"access_token\":\"x\"}", &r), OA_OK);
	ASSERT_STR_EQ(r.id_token, "a.b.c");
	okta_auth_reply_wipe(&r);
	ASSERT(r.id_token == NULL);
	ASSERT_INT_EQ(answer("token", 200, "{\"access_token\":\"x\"}", &r),
	    OA_ERROR);
	ASSERT_INT_EQ(answer("token", 200, "[1]", &r), OA_ERROR);
	ASSERT_INT_EQ(answer("token", 200, "{\"id_token\":\"a\"} junk", &r),
	    OA_ERROR);
	/* A 400 without a JSON body is no refusal, and no outage either. */
	ASSERT_INT_EQ(answer("token", 400, "<html>", &r), OA_ERROR);
	ASSERT_INT_EQ(answer("token", 502, "<html>", &r), OA_UNAVAILABLE);
	/* Only a 2xx is a success (the fuzzer found a 3xx taken for one). */
	ASSERT_INT_EQ(answer("token", 302, "{\"id_token\":\"a.b.c\"}", &r),
	    OA_ERROR);
	ASSERT(r.id_token == NULL);
}

TEST(a_push_challenge_and_its_number)
{
	struct okta_auth_reply r;

	ASSERT_INT_EQ(answer("challenge", 200, "{\"challenge_type\":\"" MFA_OOB
	    "\",\"oob_code\":\"oob-1\",\"channel\":\"push\",\"binding_method\":"
	    "\"transfer\",\"binding_code\":\"42\",\"expires_in\":300,"
	    "\"interval\":5}", &r), OA_CHALLENGE);
	ASSERT_STR_EQ(r.oob_code, "oob-1");
	ASSERT_STR_EQ(r.binding_code, "42");
	ASSERT_INT_EQ(r.interval, 5);
	ASSERT_INT_EQ(r.expires_in, 300);
	ASSERT_INT_EQ(r.challenge_otp, 0);
	/* A binding code that is not a short number is not shown. */
	ASSERT_INT_EQ(answer("challenge", 200, "{\"oob_code\":\"o\","
	    "\"binding_code\":\"\\u001b[2J\",\"interval\":-3}", &r), OA_CHALLENGE);
	ASSERT_STR_EQ(r.binding_code, "");
	ASSERT_INT_EQ(r.interval, 5);
	ASSERT_INT_EQ(answer("challenge", 200, "{\"challenge_type\":\"" MFA_OTP
	    "\"}", &r), OA_CHALLENGE);
	ASSERT_INT_EQ(r.challenge_otp, 1);
	ASSERT_INT_EQ(answer("challenge", 200, "{\"channel\":\"push\"}", &r),
	    OA_ERROR);
	okta_auth_reply_wipe(&r);
}

TEST(a_device_authorization)
{
	struct okta_auth_reply r;

	ASSERT_INT_EQ(answer("device", 200, "{\"device_code\":\"dc-1\","
	    "\"user_code\":\"BCDFGHJK\",\"verification_uri\":"
	    "\"https://o.example/activate\",\"verification_uri_complete\":"
	    "\"https://o.example/activate?user_code=BCDFGHJK\",\"expires_in\":600,"
	    "\"interval\":5}", &r), OA_DEVICE);
	ASSERT_STR_EQ(r.device_code, "dc-1");
	ASSERT_STR_EQ(r.user_code, "BCDFGHJK");
	ASSERT_STR_EQ(r.verification_uri,
	    "https://o.example/activate?user_code=BCDFGHJK");
	/* Only an https page is shown to the user. */
	ASSERT_INT_EQ(answer("device", 200, "{\"device_code\":\"d\",\"user_code\":"
	    "\"AB\",\"verification_uri\":\"http://evil.example/\"}", &r), OA_ERROR);
	ASSERT_INT_EQ(answer("device", 200, "{\"device_code\":\"d\",\"user_code\":"
	    "\"a b\",\"verification_uri\":\"https://o.example/\"}", &r), OA_ERROR);
	okta_auth_reply_wipe(&r);
}

TEST(slow_down_adds_five_seconds)
{
	ASSERT_INT_EQ(okta_auth_next_interval(5, OA_PENDING), 5);
	ASSERT_INT_EQ(okta_auth_next_interval(5, OA_SLOW_DOWN), 10);
	ASSERT_INT_EQ(okta_auth_next_interval(0, OA_PENDING), 1);
	ASSERT_INT_EQ(okta_auth_next_interval(58, OA_SLOW_DOWN), 60);
}

TEST(org_and_custom_server_endpoints)
{
	struct config c;
	struct okta_auth *a;
	char err[256];

	memset(&c, 0, sizeof(c));
	c.domain = "dev-1.okta.com";
	c.auth.client_id = "0oa1";
	a = okta_auth_new(&c, err, sizeof(err));
	ASSERT(a != NULL);
	ASSERT_STR_EQ(okta_auth_issuer(a), "https://dev-1.okta.com");
	ASSERT_STR_EQ(okta_auth_path(a, "token"), "/oauth2/v1/token");
	ASSERT_STR_EQ(okta_auth_path(a, "challenge"), "/oauth2/v1/challenge");
	ASSERT_STR_EQ(okta_auth_path(a, "device"), "/oauth2/v1/device/authorize");
	ASSERT_STR_EQ(okta_auth_path(a, "keys"), "/oauth2/v1/keys");
	okta_auth_free(a);
	c.auth.authorization_server = "aus9";
	a = okta_auth_new(&c, err, sizeof(err));
	ASSERT(a != NULL);
	ASSERT_STR_EQ(okta_auth_issuer(a), "https://dev-1.okta.com/oauth2/aus9");
	ASSERT_STR_EQ(okta_auth_path(a, "token"), "/oauth2/aus9/v1/token");
	ASSERT_STR_EQ(okta_auth_path(a, "keys"), "/oauth2/aus9/v1/keys");
	okta_auth_free(a);
}

/* The JWKS's Cache-Control, which the ID-token check's key cache honours. */
static long
max_age_of(const char *line)
{
	struct okta_headers h;

	okta_headers_reset(&h);
	okta_headers_parse_line(&h, line, strlen(line));
	return h.max_age;
}

TEST(cache_control_max_age)
{
	ASSERT_INT_EQ(max_age_of("Cache-Control: max-age=86400, must-revalidate\r\n"),
	    86400);
	ASSERT_INT_EQ(max_age_of("cache-control: public, MAX-AGE=60\r\n"), 60);
	ASSERT_INT_EQ(max_age_of("Cache-Control: no-cache, no-store\r\n"), 0);
	ASSERT_INT_EQ(max_age_of("Cache-Control: max-age=-5\r\n"), -1);
	ASSERT_INT_EQ(max_age_of("Cache-Control: max-age=99999999999999999999\r\n"),
	    -1);
	ASSERT_INT_EQ(max_age_of("Content-Type: application/json\r\n"), -1);
}

int
main(void)
{
	RUN(okta_errors_are_classified);
	RUN(mfa_required_needs_its_token);
	RUN(tokens_and_broken_answers);
	RUN(a_push_challenge_and_its_number);
	RUN(a_device_authorization);
	RUN(slow_down_adds_five_seconds);
	RUN(org_and_custom_server_endpoints);
	RUN(cache_control_max_age);
	return test_done();
}
