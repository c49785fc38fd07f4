/*
 * pam_okta.c - pam_okta.so, the PAM account module: may this Okta user log
 * in to this host now?  (The auth phase, password + Okta MFA through
 * okta-syncd, is auth.c; it asks the same decision first, through
 * pam_okta_decide.)  The decision is common/account.c's (shared with
 * okta-sync-keys, so that sshd is handed a user's keys exactly when this
 * module would let them in); this file parses the module line (options.c),
 * asks, and maps the verdict to PAM:
 *
 *   verdict                                  PAM code
 *   allowed                                  PAM_SUCCESS
 *   ignored (root, local, not an Okta user)  PAM_IGNORE
 *   denied, permission (status, groups)      PAM_PERM_DENIED
 *   denied, expired (DEPROVISIONED,
 *       a tombstone)                         PAM_ACCT_EXPIRED
 *   denied, stale (max_cache_age,
 *       stale_policy=deny)                   PAM_AUTHINFO_UNAVAIL
 *   denied, unavailable (no usable
 *       snapshot, a corrupt record)          PAM_AUTHINFO_UNAVAIL
 *   denied, misconfigured (an unknown
 *       option or a bad value)               PAM_SERVICE_ERR
 *
 * "Ignored" is PAM_IGNORE, so that with the documented stacking line
 *   account [success=ok user_unknown=ignore ignore=ignore default=bad] pam_okta.so
 * the rest of the stack decides, and even a careless "required" line never
 * locks a local user out.
 *
 * Each verdict goes to syslog (LOG_AUTHPRIV, through pam_syslog) with its
 * reason; "ignored" only with `debug`, except the warnings account.c
 * raises.  A denied user is told why through the PAM conversation, and a
 * user let in with something to fix is told that as information (unless
 * PAM_SILENT).
 *
 * State: none global.  The snapshot is opened and closed on every call
 * (acct_decide: snap_open/snap_close rather than the caching
 * snap_acquire): an account check happens once per login, always sees the
 * newest file, and nothing survives libpam's dlclose() of the module at
 * pam_end() to leak.
 */
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "account.h"
#include "compiler.h"
#include "pam_okta.h"

/* The one place a verdict becomes a PAM code (the table at the top). */
int
pam_okta_verdict_code(const struct acct_verdict *v)
{
	if (v->result == ACCT_ALLOW)
		return PAM_SUCCESS;
	if (v->result == ACCT_IGNORE)
		return PAM_IGNORE;
	switch (v->kind) {
	case ACCT_DENY_EXPIRED:
		return PAM_ACCT_EXPIRED;
	case ACCT_DENY_STALE:
	case ACCT_DENY_UNAVAILABLE:
		return PAM_AUTHINFO_UNAVAIL;
	case ACCT_DENY_MISCONFIGURED:
		return PAM_SERVICE_ERR;
	case ACCT_DENY_PERMISSION:
	case ACCT_DENY_NONE:
	default:
		return PAM_PERM_DENIED;
	}
}

/* account.c's warnings on the way, to pam_syslog. */
static void
log_warning(void *ctx, int prio, const char *msg)
{
	pam_syslog((pam_handle_t *)ctx, prio, "%s", msg);
}

int
pam_okta_get_user(pam_handle_t *pamh, const char **user)
{
	int r;

	*user = NULL;
	r = pam_get_user(pamh, user, NULL);
	if (r != PAM_SUCCESS || *user == NULL || **user == '\0' ||
	    strlen(*user) >= PAM_OKTA_NAME_MAX) {
		pam_syslog(pamh, LOG_ERR, "cannot determine the user name: %s",
		    r != PAM_SUCCESS ? pam_strerror(pamh, r) : "empty or too long");
		return PAM_USER_UNKNOWN;
	}
	return PAM_SUCCESS;
}

void
pam_okta_decide(pam_handle_t *pamh, struct pam_okta_opts *o,
    const char *user, struct acct_verdict *v)
{
	struct acct_ctx c;

	memset(&c, 0, sizeof(c));
	c.snapshot = o->snapshot;
	c.passwd = o->passwd;
	c.misconfigured = o->broken ?
	    "invalid pam_okta options (logged above)" : NULL;
	c.policy = pam_okta_merge_policy;
	c.policy_ctx = o;
	c.log = log_warning;
	c.log_ctx = pamh;
	acct_decide(&c, user, v);
}

OKTA_EXPORT int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_okta_opts o;
	struct acct_verdict v;
	const char *user = NULL;
	int r;

	pam_okta_parse_options(pamh, argc, argv, &o);
	if ((r = pam_okta_get_user(pamh, &user)) != PAM_SUCCESS)
		return r;
	pam_okta_decide(pamh, &o, user, &v);

	if (v.prio >= 0 || o.debug)
		pam_syslog(pamh, v.prio >= 0 ? v.prio : LOG_DEBUG,
		    "user %s: %s: %s", user, v.what, v.reason);
	if (v.msg_style != ACCT_MSG_NONE && !(flags & PAM_SILENT))
		(void)pam_prompt(pamh, v.msg_style == ACCT_MSG_ERROR ?
		    PAM_ERROR_MSG : PAM_TEXT_INFO, NULL, "%s", v.msg);
	return pam_okta_verdict_code(&v);
}
