/*
 * login.h - one login's conversation on the auth socket (issue 11): the
 * daemon asks, pam_okta prompts, the daemon decides.
 *
 * For HELLO user U, in this order:
 *   1. the account decision of common/account.c on the snapshot (the
 *      one pam_okta's account phase makes): not an Okta user (root, a
 *      local account, not in the snapshot) -> USER_UNKNOWN, so that the
 *      stack goes on to pam_unix; suspended, locked, staged... ->
 *      PERM_DENIED; deprovisioned or a tombstone -> ACCT_EXPIRED; no
 *      usable snapshot -> AUTHINFO_UNAVAIL.  No request to Okta.
 *   2. U's Okta ID and login from cache.db (users); Okta is sent that
 *      login, never what was typed, and the ID token's sub must be that
 *      ID.
 *   3. [auth] failed_login_attempts local failures in a row within
 *      failed_login_delay -> MAXTRIES, no request to Okta (throttle.h).
 *   4. PROMPT "Okta password: " -> the password grant, sent once.  An
 *      empty answer with device_flow = yes -> the device flow instead.
 *   5. mfa_required -> "Okta Verify code, or press Enter for a push: "
 *      (mfa = otp: "Okta Verify code: "; push: straight to the push); a
 *      code -> the mfa-otp grant; a push -> /challenge, "Tap NN in Okta
 *      Verify, then press Enter: " (number matching) or "Approve the push
 *      in Okta Verify, then press Enter: ", then the mfa-oob grant polled
 *      every interval (slow_down: 5 s more) until approved, rejected or
 *      expired.
 *   6. the ID token checked (okta_auth_verify: signature, iss, aud, exp,
 *      iat, sub) -> SUCCESS; then, with offline_credentials and U in
 *      none of offline_deny_groups, the password's hash is stored
 *      (offline.h).
 *   When the password grant got no answer (transport error, 5xx, 429)
 *   and offline_credentials is on: offline_verify -> SUCCESS offline=1
 *   ("Offline login: Okta cannot be reached; MFA skipped").
 *
 * One log line per login (user, service, rhost, outcome, method, why),
 * never a secret.  The answers are wiped as soon as they are used.
 */
#ifndef OKTA_LOGIN_H
#define OKTA_LOGIN_H

#include <signal.h>
#include <stdint.h>

#include "authproto.h"
#include "config.h"

struct okta_auth;
struct throttle;

/* What every login of a broker shares. */
struct login_env {
	const struct config *cfg;      /* the broker's own copy */
	struct okta_auth *oa;
	struct throttle *throttle;
	volatile sig_atomic_t *stop;   /* set: end the conversation now */
	int answer_timeout_ms;         /* to wait for one ANSWER */
	int conversation_ms;           /* the whole login */
};

/*
 * Hold the conversation that hello (already received on fd) opened, up
 * to its RESULT.  The caller closes fd.  Can't fail: every failure is a
 * RESULT (or, after a protocol error or a CANCEL, the end of it).
 */
void login_run(const struct login_env *env, int fd,
    const struct authproto_msg *hello, int64_t started);

#endif
