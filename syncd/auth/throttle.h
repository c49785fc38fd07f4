/*
 * throttle.h - local login failures in a row, per Okta user, and the delay
 * they bring (issue 11: "no lockouts by us").
 *
 * After [auth] failed_login_attempts failures in a row (wrong password,
 * wrong OTP, rejected push), a user's next attempts are refused on this
 * host (MAXTRIES) without a request to Okta until failed_login_delay has
 * passed since the last failure; one attempt is then let through, and a
 * failure starts the delay again.  A success clears the count.  This
 * keeps a brute force against the host from locking the user out of
 * Okta (10 bad passwords by default).
 *
 * In memory only (a restart of okta-syncd clears it), keyed by the
 * cached Okta user ID; a bounded table: when full, the entry whose delay
 * ended longest ago is reused.  Thread-safe.
 */
#ifndef OKTA_THROTTLE_H
#define OKTA_THROTTLE_H

#include <time.h>

struct throttle;

#define THROTTLE_SLOTS 4096

/* NULL when out of memory. */
struct throttle *throttle_new(int attempts, long long delay);
void throttle_free(struct throttle *t);            /* accepts NULL */

/* 0: key may try now; else the seconds until it may (> 0). */
long long throttle_check(struct throttle *t, const char *key, time_t now);
/* Count a failure of key at now; returns the failures in a row. */
int throttle_fail(struct throttle *t, const char *key, time_t now);
/* A success: key starts afresh. */
void throttle_success(struct throttle *t, const char *key);

#endif
