/*
 * pam_okta.h - what the files of pam_okta.so share: the parsed module
 * options, the user name, and the account decision with its PAM code
 * (pam_okta.c), which the auth phase (auth.c) asks first.  Private to
 * pam/; the decision itself is common/account.h.
 */
#ifndef OKTA_PAM_OKTA_H
#define OKTA_PAM_OKTA_H

#include <security/pam_modules.h>

#include "account.h"

/* At most this many names in allowed_groups=. */
#define PAM_OKTA_MAX_GROUPS ACCT_MAX_GROUPS
/* The longest group or user name we look at. */
#define PAM_OKTA_NAME_MAX ACCT_NAME_MAX
/* socket=PATH must fit struct sockaddr_un's sun_path. */
#define PAM_OKTA_SOCKET_MAX 108

/*
 * The module line, parsed once per call by pam_okta_parse_options().
 * The policy settings override, one by one, the policy the sync published
 * in the snapshot ([pam] in okta-sync.conf); set_* says which were given.
 * Strings point into argv (which libpam keeps for the life of the handle);
 * nothing here is allocated, so there is nothing to free.
 */
struct pam_okta_opts {
	int debug;
	int broken;                  /* an unknown option or a bad value:
	                              * Okta users are denied (fail closed),
	                              * local users are never affected */
	const char *snapshot;        /* snapshot=PATH, default OKTA_SNAPSHOT_PATH */
	const char *passwd;          /* passwd=PATH, default /etc/passwd */
	const char *groups[PAM_OKTA_MAX_GROUPS];   /* allowed_groups= items */
	size_t group_len[PAM_OKTA_MAX_GROUPS];     /* (not NUL-terminated) */
	size_t ngroups;
	long long max_cache_age;     /* seconds; 0: no limit */
	int stale_allow;             /* stale_policy=allow */
	int allow_recovery;          /* recovery=allow|deny */
	int allow_password_expired;  /* password_expired=allow|deny */
	int tombstone_ignore;        /* tombstone=ignore|deny */
	int set_groups, set_max_cache_age, set_stale, set_recovery,
	    set_password_expired, set_tombstone;
	/* The auth phase (auth.c); ignored by the account phase. */
	int use_first_pass;          /* answer "Okta password:" from
	                              * PAM_AUTHTOK, fail if there is none */
	int try_first_pass;          /* from PAM_AUTHTOK if set, else prompt */
	const char *socket;          /* socket=PATH, default
	                              * OKTA_AUTH_SOCKET_PATH (tests) */
};

/*
 * Parse argv into *o.  Every unknown option and every bad value is logged
 * (LOG_ERR, through pam_syslog) and sets o->broken.  Can't fail otherwise.
 */
void pam_okta_parse_options(pam_handle_t *pamh, int argc, const char **argv,
    struct pam_okta_opts *o);

/*
 * The policy of this call: the snapshot's policy record sp (names in it
 * stay valid while its buffer does) overridden by o.  Can't fail.  Its
 * shape fits acct_ctx.policy (ctx is the struct pam_okta_opts).
 */
struct snap_policy;
void pam_okta_merge_policy(void *o, const struct snap_policy *sp,
    struct acct_policy *pol);

/*
 * PAM_USER into *user: non-empty and shorter than PAM_OKTA_NAME_MAX.
 * PAM_SUCCESS, or the code to return (logged).
 */
int pam_okta_get_user(pam_handle_t *pamh, const char **user);

/*
 * The account decision (common/account.h) for user under the options o,
 * with account.c's warnings to pam_syslog.  The auth phase asks it too,
 * so that a name that is not an Okta user costs one snapshot lookup and
 * never reaches okta-syncd.  Can't fail: every error is a verdict.
 */
void pam_okta_decide(pam_handle_t *pamh, struct pam_okta_opts *o,
    const char *user, struct acct_verdict *v);

/* The PAM code of a verdict (the table at the top of pam_okta.c). */
int pam_okta_verdict_code(const struct acct_verdict *v);

#endif
