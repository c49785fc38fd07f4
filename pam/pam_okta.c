/*
 * pam_okta.c - pam_okta.so, the PAM account module: may this Okta user log
 * in to this host now?  It reads the snapshot that okta-sync publishes
 * (through the reader in common/) and the local passwd file, nothing else;
 * it never talks to the network.
 *
 * Who is judged.  An "Okta user" is a name found in the snapshot whose
 * account is the one the host resolves (DESIGN.md rules 2 and 8):
 *
 *   name is "root", or a local account with UID 0       -> ignored
 *   snapshot usable, name not in it                      -> ignored
 *   snapshot usable, name in it and in the passwd file
 *       with another UID (the local account wins in NSS) -> ignored, warning
 *   snapshot usable, name in it (not local, or local
 *       with the same UID: an adopted account)           -> judged below
 *   snapshot missing or corrupt, name in the passwd file -> ignored, warning
 *   snapshot missing or corrupt, name not local          -> denied
 *       ("Okta user cache unavailable": fail closed)
 *
 * "Ignored" is PAM_IGNORE, so that with the documented stacking line
 *   account [success=ok user_unknown=ignore ignore=ignore default=bad] pam_okta.so
 * the rest of the stack decides, and even a careless "required" line never
 * locks a local user out.  Only the passwd file is consulted for "local",
 * never getpwnam(): that would ask libnss_okta too.
 *
 * The policy: the sync publishes the [pam] section of okta-sync.conf in
 * the snapshot (the 'P' record), so that this module never reads the
 * root-only config and pam-auth-update's option-less profile line gets
 * the admin's policy; each policy option on the module line overrides the
 * snapshot's setting of that name (options.c).  A snapshot whose policy
 * record is missing or unreadable denies Okta users like a corrupt one:
 * the policy it held may have been stricter than any default.
 *
 * The decision table for an Okta user, checked in this order:
 *
 *   1. the module line has an unknown option or a bad value
 *                              -> denied (PAM_SERVICE_ERR)
 *   2. status (snapshot):
 *      status            default  switch                 PAM code
 *      ACTIVE            allow    -                      PAM_SUCCESS
 *      RECOVERY          allow    recovery=deny          PAM_PERM_DENIED
 *      PASSWORD_EXPIRED  allow    password_expired=deny  PAM_PERM_DENIED
 *      STAGED            deny     -                      PAM_PERM_DENIED
 *      PROVISIONED       deny     -                      PAM_PERM_DENIED
 *      LOCKED_OUT        deny     -                      PAM_PERM_DENIED
 *      SUSPENDED         deny     -                      PAM_PERM_DENIED
 *      DEPROVISIONED     deny     -                      PAM_ACCT_EXPIRED
 *      anything else     deny     -                      PAM_PERM_DENIED
 *      RECOVERY and PASSWORD_EXPIRED are allowed by default: Okta owns
 *      the password and the user is still that person; a host login by SSH
 *      key does not use the Okta password.  Let in, they are told (as
 *      information) what to fix in Okta.  Sites that want "fix your
 *      password first" set the switches.
 *   3. allowed_groups: the primary group or one of the user's
 *      supplementary groups (both from the snapshot) must be listed, else
 *      denied (PAM_PERM_DENIED).  Only Okta groups count: a user-private
 *      group (named like an Okta user, with that user's primary GID) is
 *      never a match, so listing "jane" does not admit jane.  The sync
 *      rejects an Okta group named like an Okta user (syncd/engine/sync.c), so
 *      this tells the two apart exactly.
 *   4. max_cache_age (default 7 days): when the last successful sync is
 *      older (or never happened), stale_policy=deny (default) denies
 *      (PAM_AUTHINFO_UNAVAIL) and stale_policy=allow lets the user in with
 *      a warning.
 *   5. allowed (PAM_SUCCESS).
 *
 * A snapshot that turns out unreadable part way (a corrupt record) is
 * treated like a missing one.  Each decision goes to syslog (LOG_AUTHPRIV,
 * through pam_syslog) with its reason; "ignored" only with `debug`, except
 * the two warnings above.  A denied user is told why through the PAM
 * conversation (unless PAM_SILENT).
 *
 * State: none global.  The snapshot is opened and closed on every call
 * (snap_open/snap_close rather than the caching snap_acquire): an account
 * check happens once per login, always sees the newest file, and nothing
 * survives libpam's dlclose() of the module at pam_end() to leak.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "compiler.h"
#include "local_passwd.h"
#include "okta_status.h"
#include "pam_okta.h"
#include "snapshot.h"

/* The largest record buffer we grow to (a group with many members). */
#define REC_BUF_MAX (64u * 1024 * 1024)

/* The outcome of one account check. */
struct verdict {
	int rc;               /* what pam_sm_acct_mgmt returns */
	int prio;             /* syslog priority; -1: only with `debug` */
	const char *what;     /* "allowed", "denied", "ignored" */
	char reason[512];     /* for syslog */
	int msg_style;        /* PAM_ERROR_MSG, PAM_TEXT_INFO, 0: nothing */
	char msg[512];        /* for the user */
};

/* One row of the status table (see the top of the file). */
struct status_rule {
	int allow;            /* the default; recovery= and password_expired=
	                       * override theirs */
	int rc;               /* when denied */
	const char *msg;      /* what the user is told when denied */
	const char *note;     /* ... and when allowed anyway (or NULL) */
};

static const struct status_rule status_rules[OKTA_STATUS_MAX + 1] = {
	[OKTA_STATUS_UNKNOWN] = { .allow = 0, .rc = PAM_PERM_DENIED,
	    .msg = "Your account status in Okta is unknown to this host. "
	    "Contact your administrator." },
	[OKTA_STATUS_STAGED] = { .allow = 0, .rc = PAM_PERM_DENIED,
	    .msg = "Your account is not activated in Okta yet. "
	    "Contact your administrator." },
	[OKTA_STATUS_PROVISIONED] = { .allow = 0, .rc = PAM_PERM_DENIED,
	    .msg = "Your account is not activated in Okta yet. "
	    "Finish activating it in Okta, then try again." },
	[OKTA_STATUS_ACTIVE] = { .allow = 1, .rc = PAM_SUCCESS },
	[OKTA_STATUS_RECOVERY] = { .allow = 1, .rc = PAM_PERM_DENIED,
	    .msg = "Your Okta account is in password recovery. "
	    "Finish resetting your password in Okta, then try again.",
	    .note = "Note: your Okta account is in password recovery. "
	    "Finish resetting your password in Okta." },
	[OKTA_STATUS_PASSWORD_EXPIRED] = { .allow = 1, .rc = PAM_PERM_DENIED,
	    .msg = "Your Okta password has expired. "
	    "Change it in Okta, then try again.",
	    .note = "Note: your Okta password has expired. Change it in Okta." },
	[OKTA_STATUS_LOCKED_OUT] = { .allow = 0, .rc = PAM_PERM_DENIED,
	    .msg = "Your account is locked out in Okta. "
	    "Contact your administrator." },
	[OKTA_STATUS_SUSPENDED] = { .allow = 0, .rc = PAM_PERM_DENIED,
	    .msg = "Your account is suspended in Okta. "
	    "Contact your administrator." },
	[OKTA_STATUS_DEPROVISIONED] = { .allow = 0, .rc = PAM_ACCT_EXPIRED,
	    .msg = "Your account has been deactivated in Okta. "
	    "Contact your administrator." },
};

static const char msg_unavailable[] =
    "The Okta user cache on this host is unavailable, so Okta users cannot "
    "log in. Contact your administrator.";
static const char msg_misconfigured[] =
    "Okta access rules on this host are misconfigured. "
    "Contact your administrator.";
static const char msg_tombstone[] =
    "Your Okta account no longer grants access to this host. "
    "Contact your administrator if you think this is wrong.";
static const char msg_not_in_group[] =
    "Your account is not in a group allowed to log in to this host.";

static void set_reason(struct verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_reason(struct verdict *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

static void
set_verdict(struct verdict *v, int rc, int prio, const char *what)
{
	v->rc = rc;
	v->prio = prio;
	v->what = what;
}

/* Grow *buf for an ERANGE retry.  Returns 0, or -1 with errno. */
static int
grow(char **buf, size_t *len)
{
	char *nbuf;

	if (*len > REC_BUF_MAX / 2) {
		errno = ERANGE;
		return -1;
	}
	nbuf = realloc(*buf, *len * 2);
	if (nbuf == NULL) {
		errno = ENOMEM;
		return -1;
	}
	*buf = nbuf;
	*len *= 2;
	return 0;
}

/*
 * snap_getpwnam with a buffer that grows on ERANGE.  *buf (owned by the
 * caller, freed by it, may be NULL on entry) holds the strings of *pw.
 * Returns 1, 0 or -1 with errno, as snap_getpwnam.
 */
static int
lookup_user(const struct snap *s, const char *user, struct snap_pw *pw,
    char **buf, size_t *buflen)
{
	int r;

	if (*buf == NULL) {
		*buflen = 4096;
		if ((*buf = malloc(*buflen)) == NULL) {
			errno = ENOMEM;
			return -1;
		}
	}
	for (;;) {
		r = snap_getpwnam(s, user, pw, *buf, *buflen);
		if (r >= 0 || errno != ERANGE)
			return r;
		if (grow(buf, buflen) < 0)
			return -1;
	}
}

/* The GID of group `name` in the snapshot: 1 found, 0 not, -1 errno. */
static int
lookup_group_gid(const struct snap *s, const char *name, uint32_t *gid)
{
	struct snap_gr gr;
	char *buf;
	size_t buflen = 4096;
	int r;

	if ((buf = malloc(buflen)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	for (;;) {
		r = snap_getgrnam(s, name, &gr, buf, buflen);
		if (r >= 0 || errno != ERANGE)
			break;
		if (grow(&buf, &buflen) < 0) {
			r = -1;
			break;
		}
	}
	if (r == 1)
		*gid = gr.gid;
	free(buf);
	return r;
}

/* The allowed GIDs, and whether the user is in one of them. */
struct gid_set {
	uint32_t gid[PAM_OKTA_MAX_GROUPS];
	size_t n;
	int hit;
};

static int
gid_set_visit(void *ctx, uint32_t gid)
{
	struct gid_set *set = ctx;
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->gid[i] == gid)
			set->hit = 1;
	return set->hit;	/* non-zero stops the walk */
}

/*
 * Is group `name` (GID gid) a user-private group: the group of an Okta
 * user of that name whose primary GID it is?  1, 0, or -1 with errno.
 */
static int
is_private_group(const struct snap *s, const char *name, uint32_t gid)
{
	struct snap_pw owner;
	char *buf = NULL;
	size_t buflen = 0;
	int r;

	r = lookup_user(s, name, &owner, &buf, &buflen);
	free(buf);
	if (r <= 0)
		return r;
	return owner.gid == gid;
}

/*
 * Is the user in one of allowed_groups?  Returns 1 or 0; -1 with errno
 * when the snapshot cannot answer.  A listed group that is not in the
 * snapshot is logged (a typo, or a group no longer synced) and has no
 * members; so is a listed user-private group (not an Okta group).
 */
static int
in_allowed_groups(pam_handle_t *pamh, const struct pam_okta_policy *pol,
    const struct snap *s, const struct snap_pw *pw)
{
	struct gid_set set;
	char name[PAM_OKTA_NAME_MAX];
	size_t i;
	uint32_t gid = 0;
	int r;

	memset(&set, 0, sizeof(set));
	for (i = 0; i < pol->ngroups; i++) {
		/* The options parser and the snapshot reader bounded each
		 * length below NAME_MAX. */
		memcpy(name, pol->groups[i], pol->group_len[i]);
		name[pol->group_len[i]] = '\0';
		r = lookup_group_gid(s, name, &gid);
		if (r < 0)
			return -1;
		if (r == 0) {
			pam_syslog(pamh, LOG_WARNING, "allowed_groups: group "
			    "%s is not in the Okta user cache", name);
			continue;
		}
		if ((r = is_private_group(s, name, gid)) < 0)
			return -1;
		if (r == 1) {
			pam_syslog(pamh, LOG_WARNING, "allowed_groups: %s is "
			    "the private group of the Okta user %s, not an Okta "
			    "group; it admits nobody", name, name);
			continue;
		}
		if (gid == pw->gid)
			return 1;
		set.gid[set.n++] = gid;
	}
	if (set.n == 0)
		return 0;
	r = snap_user_gids(s, pw->name, gid_set_visit, &set);
	if (r < 0)
		return -1;
	return set.hit;
}

/* "2 days", "5 hours", "12 minutes", "40 seconds". */
static void
describe_age(long long age, char *buf, size_t len)
{
	if (age >= 2 * 86400)
		(void)snprintf(buf, len, "%lld days", age / 86400);
	else if (age >= 2 * 3600)
		(void)snprintf(buf, len, "%lld hours", age / 3600);
	else if (age >= 2 * 60)
		(void)snprintf(buf, len, "%lld minutes", age / 60);
	else
		(void)snprintf(buf, len, "%lld seconds", age);
}

/*
 * Judge an Okta user (steps 1 to 5 of the table at the top).  Fills *v.
 */
static void
judge(pam_handle_t *pamh, const struct pam_okta_opts *o,
    const struct pam_okta_policy *pol, const struct snap *s,
    const struct snap_pw *pw, struct verdict *v)
{
	const struct snap_meta *meta;
	const struct status_rule *rule;
	const char *stname;
	char when[96], age_s[48];
	long long age;
	size_t len;
	int allow, stale, r;

	if (o->broken) {
		set_verdict(v, PAM_SERVICE_ERR, LOG_ERR, "denied");
		set_reason(v, "invalid pam_okta options (logged above)");
		v->msg_style = PAM_ERROR_MSG;
		(void)snprintf(v->msg, sizeof(v->msg), "%s", msg_misconfigured);
		return;
	}

	/* 2. The status.  Anything outside the enum is UNKNOWN. */
	stname = okta_status_name(pw->status);
	rule = &status_rules[OKTA_STATUS_UNKNOWN];
	if ((int)pw->status >= 0 && pw->status <= OKTA_STATUS_MAX)
		rule = &status_rules[pw->status];
	allow = rule->allow;
	if (pw->status == OKTA_STATUS_RECOVERY)
		allow = pol->allow_recovery;
	else if (pw->status == OKTA_STATUS_PASSWORD_EXPIRED)
		allow = pol->allow_password_expired;
	if (!allow) {
		set_verdict(v, rule->rc, LOG_NOTICE, "denied");
		set_reason(v, "status %s", stname);
		v->msg_style = PAM_ERROR_MSG;
		(void)snprintf(v->msg, sizeof(v->msg), "%s", rule->msg);
		return;
	}

	/* 3. allowed_groups. */
	if (pol->ngroups > 0) {
		r = in_allowed_groups(pamh, pol, s, pw);
		if (r < 0) {
			set_verdict(v, PAM_AUTHINFO_UNAVAIL, LOG_ERR, "denied");
			set_reason(v, "Okta user cache unavailable (groups "
			    "unreadable: %s)", strerror(errno));
			v->msg_style = PAM_ERROR_MSG;
			(void)snprintf(v->msg, sizeof(v->msg), "%s",
			    msg_unavailable);
			return;
		}
		if (r == 0) {
			set_verdict(v, PAM_PERM_DENIED, LOG_NOTICE, "denied");
			set_reason(v, "status %s, not in allowed_groups",
			    stname);
			v->msg_style = PAM_ERROR_MSG;
			(void)snprintf(v->msg, sizeof(v->msg), "%s",
			    msg_not_in_group);
			return;
		}
	}

	/* 4. The age of the last successful sync.  A sync "in the future"
	 * (the clock went back) counts as fresh. */
	stale = 0;
	if (pol->max_cache_age > 0) {
		meta = snap_get_meta(s);
		if (meta == NULL || meta->last_sync <= 0) {
			stale = 1;
			(void)snprintf(when, sizeof(when), "never synced");
		} else {
			age = (long long)time(NULL) - (long long)meta->last_sync;
			if (age > pol->max_cache_age) {
				stale = 1;
				describe_age(age, age_s, sizeof(age_s));
				(void)snprintf(when, sizeof(when),
				    "last sync %s ago", age_s);
			}
		}
	}
	if (stale && !pol->stale_allow) {
		set_verdict(v, PAM_AUTHINFO_UNAVAIL, LOG_NOTICE, "denied");
		set_reason(v, "status %s, Okta user cache out of date (%s, "
		    "max_cache_age %llds), stale_policy=deny", stname, when,
		    pol->max_cache_age);
		v->msg_style = PAM_ERROR_MSG;
		(void)snprintf(v->msg, sizeof(v->msg), "The Okta user cache "
		    "on this host is out of date (%s), so Okta users cannot "
		    "log in. Contact your administrator.", when);
		return;
	}

	/* 5. Allowed. */
	set_verdict(v, PAM_SUCCESS, LOG_INFO, "allowed");
	if (stale) {
		v->prio = LOG_WARNING;
		set_reason(v, "status %s, Okta user cache out of date (%s, "
		    "max_cache_age %llds), stale_policy=allow", stname, when,
		    pol->max_cache_age);
		v->msg_style = PAM_TEXT_INFO;
		(void)snprintf(v->msg, sizeof(v->msg), "Warning: the Okta "
		    "user cache on this host is out of date (%s); your access "
		    "was checked against old data.", when);
	} else {
		set_reason(v, "status %s", stname);
	}
	/* RECOVERY or PASSWORD_EXPIRED let in: say what to fix in Okta. */
	if (rule->note != NULL) {
		len = strlen(v->msg);
		(void)snprintf(v->msg + len, sizeof(v->msg) - len, "%s%s",
		    len > 0 ? " " : "", rule->note);
		v->msg_style = PAM_TEXT_INFO;
	}
}

/*
 * There is no usable snapshot (why: a sentence).  Local accounts are not
 * ours and pass on to the rest of the stack; anyone else might be an Okta
 * user we can no longer judge, and is denied.
 */
static void
no_cache(const struct pam_okta_opts *o, const char *user, const char *why,
    struct verdict *v)
{
	uint32_t uid;
	int r;

	r = local_passwd_lookup(o->passwd, user, &uid);
	if (r == 1) {
		set_verdict(v, PAM_IGNORE, LOG_WARNING, "ignored");
		set_reason(v, "local account (in %s); note: Okta user cache "
		    "unavailable (%s)", o->passwd, why);
		return;
	}
	set_verdict(v, PAM_AUTHINFO_UNAVAIL, LOG_ERR, "denied");
	if (r == 0)
		set_reason(v, "Okta user cache unavailable (%s), and not a "
		    "local account", why);
	else
		set_reason(v, "Okta user cache unavailable (%s), and %s "
		    "unreadable (%s)", why, o->passwd, strerror(errno));
	v->msg_style = PAM_ERROR_MSG;
	(void)snprintf(v->msg, sizeof(v->msg), "%s", msg_unavailable);
}

/*
 * A name that is not in the snapshot's users may be a tombstone: an Okta
 * user who has left the host, whom a lingering cache (nscd) may still
 * resolve.  Unless the name is a local account, deny it with
 * PAM_ACCT_EXPIRED: the documented stacking line (and the pam-auth-update
 * profile) maps user_unknown to "ignore", which would let pam_unix decide,
 * and pam_unix admits a user with password "*" and no shadow entry.
 * Returns 1 when *v is decided, 0 when the name is no tombstone.
 */
static int
tombstoned(const struct pam_okta_opts *o, const struct snap *s,
    const char *user, struct verdict *v)
{
	struct snap_tombstone t;
	char buf[1024], when[32], why[PATH_MAX + 128];
	struct tm tm;
	time_t left;
	uint32_t luid;
	int r;

	memset(&t, 0, sizeof(t));
	r = snap_get_tombstone(s, user, &t, buf, sizeof(buf));
	if (r == 0)
		return 0;
	if (r < 0 && errno != ERANGE) {
		(void)snprintf(why, sizeof(why), "%s: tombstone record: %s",
		    o->snapshot, errno == EPROTO ? "corrupt" : strerror(errno));
		no_cache(o, user, why, v);
		return 1;
	}
	/* ERANGE: a valid record with a long reason; the name is enough. */
	if (r < 0)
		t.why = "";
	r = local_passwd_lookup(o->passwd, user, &luid);
	if (r == 1) {
		set_verdict(v, PAM_IGNORE, LOG_WARNING, "ignored");
		set_reason(v, "local account (UID %u in %s) has the name of an "
		    "Okta user who left this host (UID %u); the local account "
		    "is not judged", (unsigned)luid, o->passwd, (unsigned)t.uid);
		return 1;
	}
	left = (time_t)t.left_at;
	if (gmtime_r(&left, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(when, sizeof(when), "@%lld", (long long)t.left_at);
	set_verdict(v, PAM_ACCT_EXPIRED, LOG_NOTICE, "denied");
	set_reason(v, "left this host (tombstone, UID %u): %s at %s%s%s",
	    (unsigned)t.uid, snap_tomb_reason_name(t.reason), when,
	    *t.why != '\0' ? ": " : "", t.why);
	v->msg_style = PAM_ERROR_MSG;
	(void)snprintf(v->msg, sizeof(v->msg), "%s", msg_tombstone);
	return 1;
}

/* Decide for `user`; fills *v.  Always closes what it opened. */
static void
decide(pam_handle_t *pamh, const struct pam_okta_opts *o, const char *user,
    struct verdict *v)
{
	struct snap *s = NULL;
	struct snap_pw pw;
	struct snap_policy sp;
	struct pam_okta_policy pol;
	char *buf = NULL, *polbuf = NULL;
	char why[PATH_MAX + 128];
	size_t buflen = 0;
	uint32_t luid;
	int r, policy_ok;

	/* Rule 1 keeps UID 0 out of Okta; root never depends on the cache,
	 * even when the passwd file cannot be read. */
	if (strcmp(user, "root") == 0) {
		set_verdict(v, PAM_IGNORE, -1, "ignored");
		set_reason(v, "local superuser");
		goto out;
	}
	if (snap_open(o->snapshot, &s) < 0) {
		s = NULL;
		(void)snprintf(why, sizeof(why), "%s: %s", o->snapshot,
		    errno == EPROTO ? "corrupt or unknown format" :
		    strerror(errno));
		no_cache(o, user, why, v);
		goto out;
	}
	/* The published policy, with the module line's overrides.  Kept
	 * for the Okta users below; unreadable, it denies them. */
	r = -1;
	if ((polbuf = malloc(SNAP_POLICY_BUF)) == NULL)
		errno = ENOMEM;
	else
		r = snap_get_policy(s, &sp, polbuf, SNAP_POLICY_BUF);
	policy_ok = r == 1;
	if (policy_ok)
		pam_okta_merge_policy(&sp, o, &pol);
	else
		(void)snprintf(why, sizeof(why), "%s: policy record: %s",
		    o->snapshot, r == 0 ? "missing" : errno == EPROTO ?
		    "corrupt or not understood" : strerror(errno));
	r = lookup_user(s, user, &pw, &buf, &buflen);
	if (r < 0) {
		(void)snprintf(why, sizeof(why), "%s: user record: %s",
		    o->snapshot, errno == EPROTO ? "corrupt" : strerror(errno));
		no_cache(o, user, why, v);
		goto out;
	}
	if (r == 0) {
		/* [pam] tombstone = ignore leaves them to the stack; an
		 * unreadable policy keeps denying them (fail closed). */
		if ((!policy_ok || !pol.tombstone_ignore) &&
		    tombstoned(o, s, user, v))
			goto out;
		set_verdict(v, PAM_IGNORE, -1, "ignored");
		set_reason(v, "not an Okta user");
		goto out;
	}

	r = local_passwd_lookup(o->passwd, user, &luid);
	if (r < 0) {
		/* Judging an Okta user without knowing about a local twin is
		 * the safe side: it can only deny more. */
		pam_syslog(pamh, LOG_WARNING, "cannot read %s: %s", o->passwd,
		    strerror(errno));
	} else if (r == 1 && luid == 0) {
		set_verdict(v, PAM_IGNORE, LOG_WARNING, "ignored");
		set_reason(v, "local superuser (UID 0 in %s)", o->passwd);
		goto out;
	} else if (r == 1 && luid != pw.uid) {
		/* NSS answers from the passwd file first: the login is the
		 * local account's, which the snapshot must not shadow. */
		set_verdict(v, PAM_IGNORE, LOG_WARNING, "ignored");
		set_reason(v, "local account (UID %u in %s) has the name of "
		    "an Okta user (UID %u); the local account is not judged",
		    (unsigned)luid, o->passwd, (unsigned)pw.uid);
		goto out;
	}
	if (!policy_ok) {
		set_verdict(v, PAM_AUTHINFO_UNAVAIL, LOG_ERR, "denied");
		set_reason(v, "Okta user cache unavailable (%s)", why);
		v->msg_style = PAM_ERROR_MSG;
		(void)snprintf(v->msg, sizeof(v->msg), "%s", msg_unavailable);
		goto out;
	}
	judge(pamh, o, &pol, s, &pw, v);
out:
	free(buf);
	free(polbuf);
	snap_close(s);
}

OKTA_EXPORT int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_okta_opts o;
	struct verdict v;
	const char *user = NULL;
	int r;

	pam_okta_parse_options(pamh, argc, argv, &o);

	r = pam_get_user(pamh, &user, NULL);
	if (r != PAM_SUCCESS || user == NULL || *user == '\0' ||
	    strlen(user) >= PAM_OKTA_NAME_MAX) {
		pam_syslog(pamh, LOG_ERR, "cannot determine the user name: %s",
		    r != PAM_SUCCESS ? pam_strerror(pamh, r) : "empty or too long");
		return PAM_USER_UNKNOWN;
	}

	memset(&v, 0, sizeof(v));
	decide(pamh, &o, user, &v);

	if (v.prio >= 0 || o.debug)
		pam_syslog(pamh, v.prio >= 0 ? v.prio : LOG_DEBUG,
		    "user %s: %s: %s", user, v.what, v.reason);
	if (v.msg_style != 0 && !(flags & PAM_SILENT))
		(void)pam_prompt(pamh, v.msg_style, NULL, "%s", v.msg);
	return v.rc;
}
