/*
 * options.c - pam_okta's module-line options, parsed once per call into
 * struct pam_okta_opts.
 *
 *   debug                       log every decision, also "not an Okta user"
 *   allowed_groups=G1,G2        only members of these Okta groups log in
 *   max_cache_age=N[s|m|h|d]    older snapshot = stale (0: no limit)
 *   stale_policy=deny|allow     what a stale snapshot means (default deny)
 *   recovery=allow|deny         RECOVERY users (default allow)
 *   password_expired=allow|deny PASSWORD_EXPIRED users (default allow)
 *   snapshot=PATH               the snapshot (tests; default in paths.h)
 *   passwd=PATH                 the local passwd file (tests; /etc/passwd)
 *
 * A mistake on the module line must never widen access: a typo in
 * "allowed_groups" silently ignored would let every Okta user in.  So
 * anything not understood is logged and marks the options broken, which
 * denies Okta users (local users are never affected: rule 8).
 */
#include <ctype.h>
#include <limits.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "local_passwd.h"
#include "pam_okta.h"
#include "paths.h"

int
pam_okta_parse_duration(const char *s, long long *out)
{
	long long v = 0, mult = 1;
	const char *p = s;

	if (s == NULL || !isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (LLONG_MAX - (*p - '0')) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	switch (*p) {
	case '\0':
	case 's':
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	default:
		return -1;
	}
	if (*p != '\0' && p[1] != '\0')
		return -1;
	if (v > LLONG_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

/* "allow" -> 1, "deny" -> 0, anything else -> -1. */
static int
parse_allow_deny(const char *v)
{
	if (strcmp(v, "allow") == 0)
		return 1;
	if (strcmp(v, "deny") == 0)
		return 0;
	return -1;
}

/* A group name as the sync accepts them: no separators, no control
 * characters.  The snapshot lookup is exact, so this only catches typos
 * such as a stray space or an empty item ("a,,b"). */
static int
group_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= PAM_OKTA_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == ':' || c == 0x7f)
			return 0;
	}
	return 1;
}

/* Split "a,b,c" into o->groups.  Returns 0, or -1 (logged by the caller). */
static int
parse_groups(const char *v, struct pam_okta_opts *o)
{
	const char *p = v, *comma;
	size_t len;

	o->ngroups = 0;
	for (;;) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (!group_name_ok(p, len) || o->ngroups == PAM_OKTA_MAX_GROUPS)
			return -1;
		o->groups[o->ngroups] = p;
		o->group_len[o->ngroups] = len;
		o->ngroups++;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* If arg is "key=..." return the value, else NULL. */
static const char *
opt_value(const char *arg, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(arg, key, n) == 0 && arg[n] == '=')
		return arg + n + 1;
	return NULL;
}

void
pam_okta_parse_options(pam_handle_t *pamh, int argc, const char **argv,
    struct pam_okta_opts *o)
{
	const char *arg, *v;
	int i, b;

	memset(o, 0, sizeof(*o));
	o->snapshot = OKTA_SNAPSHOT_PATH;
	o->passwd = LOCAL_PASSWD_PATH;
	o->stale_policy = STALE_DENY;
	o->allow_recovery = 1;
	o->allow_password_expired = 1;

	for (i = 0; i < argc; i++) {
		arg = argv[i];
		if (arg == NULL)
			continue;
		if (strcmp(arg, "debug") == 0) {
			o->debug = 1;
		} else if ((v = opt_value(arg, "allowed_groups")) != NULL) {
			if (parse_groups(v, o) < 0) {
				pam_syslog(pamh, LOG_ERR, "bad option \"%s\": "
				    "expected a comma-separated list of at most "
				    "%d group names", arg, PAM_OKTA_MAX_GROUPS);
				o->broken = 1;
			}
		} else if ((v = opt_value(arg, "max_cache_age")) != NULL) {
			if (pam_okta_parse_duration(v, &o->max_cache_age) < 0) {
				pam_syslog(pamh, LOG_ERR, "bad option \"%s\": "
				    "expected seconds, or a number with s, m, h "
				    "or d", arg);
				o->broken = 1;
			}
		} else if ((v = opt_value(arg, "stale_policy")) != NULL) {
			if ((b = parse_allow_deny(v)) < 0) {
				pam_syslog(pamh, LOG_ERR, "bad option \"%s\": "
				    "expected deny or allow", arg);
				o->broken = 1;
			} else {
				o->stale_policy = b ? STALE_ALLOW : STALE_DENY;
			}
		} else if ((v = opt_value(arg, "recovery")) != NULL) {
			if ((b = parse_allow_deny(v)) < 0) {
				pam_syslog(pamh, LOG_ERR, "bad option \"%s\": "
				    "expected allow or deny", arg);
				o->broken = 1;
			} else {
				o->allow_recovery = b;
			}
		} else if ((v = opt_value(arg, "password_expired")) != NULL) {
			if ((b = parse_allow_deny(v)) < 0) {
				pam_syslog(pamh, LOG_ERR, "bad option \"%s\": "
				    "expected allow or deny", arg);
				o->broken = 1;
			} else {
				o->allow_password_expired = b;
			}
		} else if ((v = opt_value(arg, "snapshot")) != NULL) {
			if (*v != '/') {
				pam_syslog(pamh, LOG_ERR, "bad option \"%s\": "
				    "expected an absolute path", arg);
				o->broken = 1;
			} else {
				o->snapshot = v;
			}
		} else if ((v = opt_value(arg, "passwd")) != NULL) {
			if (*v != '/') {
				pam_syslog(pamh, LOG_ERR, "bad option \"%s\": "
				    "expected an absolute path", arg);
				o->broken = 1;
			} else {
				o->passwd = v;
			}
		} else {
			pam_syslog(pamh, LOG_ERR, "unknown option \"%s\": Okta "
			    "users are denied until the module line is fixed",
			    arg);
			o->broken = 1;
		}
	}
}
