/*
 * options.c - pam_okta's module-line options, parsed once per call into
 * struct pam_okta_opts, and merged with the policy the sync published in
 * the snapshot ([pam] in okta-sync.conf, the 'P' record) into the policy
 * of common/account.h.
 *
 *   debug                       log every decision, also "not an Okta user"
 *   allowed_groups=G1,G2        only members of these Okta groups log in
 *   max_cache_age=N[s|m|h|d]    older snapshot = stale (0: no limit)
 *   stale_policy=deny|allow     what a stale snapshot means
 *   recovery=allow|deny         RECOVERY users
 *   password_expired=allow|deny PASSWORD_EXPIRED users
 *   tombstone=deny|ignore       users who left the host
 *   snapshot=PATH               the snapshot (tests; default in paths.h)
 *   passwd=PATH                 the local passwd file (tests; /etc/passwd)
 *   use_first_pass              auth: answer "Okta password:" from the
 *                               password an earlier module read; fail
 *                               if there is none
 *   try_first_pass              auth: that password if there is one,
 *                               else prompt
 *   socket=PATH                 auth: okta-syncd's socket (tests; default
 *                               in paths.h)
 *
 * The policy options are overrides: each one given replaces the snapshot's
 * setting of the same name for this module line (allowed_groups= replaces
 * the whole list); the rest come from the snapshot.  pam-auth-update's
 * profile line carries no option, so there the snapshot decides alone.
 *
 * A mistake on the module line must never widen access: a typo in
 * "allowed_groups" silently ignored would let every Okta user in.  So
 * anything not understood is logged and marks the options broken, which
 * denies Okta users (local users are never affected: rule 8).
 */
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_ext.h>

#include "file_trust.h"
#include "local_passwd.h"
#include "pam_okta.h"
#include "paths.h"
#include "snapshot.h"

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

/*
 * snapshot= and passwd= name files that decide who is an Okta user and who
 * is local: they get the checks the default files get (file_trust.h).  A
 * file that exists and is not trusted marks the options broken (Okta users
 * denied); the reader and local_passwd_lookup refuse it again on the
 * descriptor they read, so the local-user fallback never believes it.  A
 * missing file is left to the lookup (a missing snapshot is not a typo).
 * 0 trusted or missing, -1 refused (logged).
 */
static int
check_file_option(pam_handle_t *pamh, const char *arg, const char *path)
{
	const char *why = NULL;
	int fd;

	if ((fd = file_trust_open(path, NULL, &why)) >= 0) {
		close(fd);
		return 0;
	}
	if (why == NULL)
		return 0;
	pam_syslog(pamh, LOG_ERR, "bad option \"%s\": %s %s (it must be a "
	    "regular file owned by root, not writable by group or others); "
	    "Okta users are denied until it is fixed", arg, path, why);
	return -1;
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
	o->socket = OKTA_AUTH_SOCKET_PATH;

	for (i = 0; i < argc; i++) {
		arg = argv[i];
		if (arg == NULL)
			continue;
		if (strcmp(arg, "debug") == 0) {
			o->debug = 1;
		} else if (strcmp(arg, "use_first_pass") == 0) {
			o->use_first_pass = 1;
		} else if (strcmp(arg, "try_first_pass") == 0) {
			o->try_first_pass = 1;
		} else if ((v = opt_value(arg, "socket")) != NULL) {
			/* For tests (the module line is root's file); the
			 * module checks at connect time that root serves
			 * the socket, so here only an absolute path that
			 * fits sun_path. */
			if (*v != '/' || strlen(v) >= PAM_OKTA_SOCKET_MAX) {
				pam_syslog(pamh, LOG_ERR, "bad option \"%s\": "
				    "expected an absolute path shorter than %d "
				    "bytes", arg, PAM_OKTA_SOCKET_MAX);
				o->broken = 1;
			} else {
				o->socket = v;
			}
		} else if ((v = opt_value(arg, "allowed_groups")) != NULL) {
			if (parse_groups(v, o) < 0) {
				pam_syslog(pamh, LOG_ERR, "bad option \"%s\": "
				    "expected a comma-separated list of at most "
				    "%d group names", arg, PAM_OKTA_MAX_GROUPS);
				o->broken = 1;
			}
			o->set_groups = 1;
		} else if ((v = opt_value(arg, "max_cache_age")) != NULL) {
			if (snap_policy_parse_duration(v, &o->max_cache_age) < 0) {
				pam_syslog(pamh, LOG_ERR, "bad option \"%s\": "
				    "expected seconds, or a number with s, m, h "
				    "or d", arg);
				o->broken = 1;
			}
			o->set_max_cache_age = 1;
		} else if ((v = opt_value(arg, "stale_policy")) != NULL) {
			if ((b = parse_allow_deny(v)) < 0) {
				pam_syslog(pamh, LOG_ERR, "bad option \"%s\": "
				    "expected deny or allow", arg);
				o->broken = 1;
			} else {
				o->stale_allow = b;
				o->set_stale = 1;
			}
		} else if ((v = opt_value(arg, "recovery")) != NULL) {
			if ((b = parse_allow_deny(v)) < 0) {
				pam_syslog(pamh, LOG_ERR, "bad option \"%s\": "
				    "expected allow or deny", arg);
				o->broken = 1;
			} else {
				o->allow_recovery = b;
				o->set_recovery = 1;
			}
		} else if ((v = opt_value(arg, "password_expired")) != NULL) {
			if ((b = parse_allow_deny(v)) < 0) {
				pam_syslog(pamh, LOG_ERR, "bad option \"%s\": "
				    "expected allow or deny", arg);
				o->broken = 1;
			} else {
				o->allow_password_expired = b;
				o->set_password_expired = 1;
			}
		} else if ((v = opt_value(arg, "tombstone")) != NULL) {
			if (strcmp(v, "deny") == 0 || strcmp(v, "ignore") == 0) {
				o->tombstone_ignore = v[0] == 'i';
				o->set_tombstone = 1;
			} else {
				pam_syslog(pamh, LOG_ERR, "bad option \"%s\": "
				    "expected deny or ignore", arg);
				o->broken = 1;
			}
		} else if ((v = opt_value(arg, "snapshot")) != NULL) {
			if (*v != '/') {
				pam_syslog(pamh, LOG_ERR, "bad option \"%s\": "
				    "expected an absolute path", arg);
				o->broken = 1;
			} else {
				o->snapshot = v;
				if (check_file_option(pamh, arg, v) < 0)
					o->broken = 1;
			}
		} else if ((v = opt_value(arg, "passwd")) != NULL) {
			if (*v != '/') {
				pam_syslog(pamh, LOG_ERR, "bad option \"%s\": "
				    "expected an absolute path", arg);
				o->broken = 1;
			} else {
				o->passwd = v;
				if (check_file_option(pamh, arg, v) < 0)
					o->broken = 1;
			}
		} else {
			pam_syslog(pamh, LOG_ERR, "unknown option \"%s\": Okta "
			    "users are denied until the module line is fixed",
			    arg);
			o->broken = 1;
		}
	}
}

void
pam_okta_merge_policy(void *ctx, const struct snap_policy *sp,
    struct acct_policy *pol)
{
	const struct pam_okta_opts *o = ctx;
	size_t i;

	acct_policy_from_snap(sp, pol);
	if (o->set_groups) {
		for (i = 0; i < o->ngroups; i++) {
			pol->groups[i] = o->groups[i];
			pol->group_len[i] = o->group_len[i];
		}
		pol->ngroups = o->ngroups;
	}
	if (o->set_max_cache_age)
		pol->max_cache_age = o->max_cache_age;
	if (o->set_stale)
		pol->stale_allow = o->stale_allow;
	if (o->set_recovery)
		pol->allow_recovery = o->allow_recovery;
	if (o->set_password_expired)
		pol->allow_password_expired = o->allow_password_expired;
	if (o->set_tombstone)
		pol->tombstone_ignore = o->tombstone_ignore;
}
