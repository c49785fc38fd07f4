/*
 * pam_okta.h - what the files of pam_okta.so share: the parsed module
 * options.  Private to pam/.
 */
#ifndef OKTA_PAM_OKTA_H
#define OKTA_PAM_OKTA_H

#include <security/pam_modules.h>

/* At most this many names in allowed_groups=. */
#define PAM_OKTA_MAX_GROUPS 64
/* The longest group or user name we look at. */
#define PAM_OKTA_NAME_MAX 256

enum pam_okta_stale {
	STALE_DENY,     /* an out-of-date cache denies Okta users */
	STALE_ALLOW     /* ... or lets them in with a warning */
};

/*
 * The module line, parsed once per call by pam_okta_parse_options().
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
	size_t ngroups;              /* 0: any group may log in */
	long long max_cache_age;     /* seconds; 0: no limit */
	enum pam_okta_stale stale_policy;
	int allow_recovery;          /* recovery=allow|deny, default allow */
	int allow_password_expired;  /* password_expired=allow|deny, default allow */
};

/*
 * Parse argv into *o.  Every unknown option and every bad value is logged
 * (LOG_ERR, through pam_syslog) and sets o->broken.  Can't fail otherwise.
 */
void pam_okta_parse_options(pam_handle_t *pamh, int argc, const char **argv,
    struct pam_okta_opts *o);

/* Parse "90", "90s", "15m", "12h", "7d" into seconds.  Returns 0, or -1
 * for anything else (including overflow and negative numbers). */
int pam_okta_parse_duration(const char *s, long long *out);

#endif
