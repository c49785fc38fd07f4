/*
 * account.c - the account decision of account.h: may this Okta user log
 * in to this host now?  It reads the snapshot that okta-sync publishes and
 * the local passwd file, nothing else; it never talks to the network.
 * pam_okta (pam/pam_okta.c) maps the verdict to PAM codes, okta-sync-keys
 * (keys/) to "print the keys or not".
 *
 * Who is judged.  An "Okta user" is a name found in the snapshot whose
 * account is the one the host resolves (DESIGN.md rules 2 and 8):
 *
 *   name is "root", or a local account with UID 0       -> ignored
 *   snapshot usable, name not in it (and no tombstone)   -> ignored
 *   snapshot usable, name in it and in the passwd file
 *       with another UID (the local account wins in NSS) -> ignored, warning
 *   snapshot usable, name in it (not local, or local
 *       with the same UID: an adopted account)           -> judged below
 *   snapshot missing or corrupt, name in the passwd file -> ignored, warning
 *   snapshot missing or corrupt, name not local          -> denied,
 *       unavailable ("Okta user cache unavailable": fail closed)
 *
 * Only the passwd file is consulted for "local", never getpwnam(): that
 * would ask libnss_okta too.
 *
 * A name that is not in the snapshot's users but has a tombstone there (an
 * Okta user who left the host) is denied, expired, unless it is a local
 * account or the policy says tombstone = ignore: a lingering cache (nscd)
 * may still resolve it, and pam_unix admits a user with password "*" and
 * no shadow entry.
 *
 * The policy: the sync publishes the [pam] section of okta-sync.conf in
 * the snapshot (the 'P' record); a caller may override it (pam_okta's
 * module line, through acct_ctx.policy).  A snapshot whose policy record
 * is missing or unreadable denies Okta users like a corrupt one
 * (unavailable): the policy it held may have been stricter than any
 * default; it also keeps denying tombstones.
 *
 * The decision table for an Okta user, checked in this order:
 *
 *   1. acct_ctx.misconfigured       -> denied, misconfigured
 *   2. status (snapshot):
 *      status            default  switch                  denial
 *      ACTIVE            allow    -                       -
 *      RECOVERY          allow    allow_recovery          permission
 *      PASSWORD_EXPIRED  allow    allow_password_expired  permission
 *      STAGED            deny     -                       permission
 *      PROVISIONED       deny     -                       permission
 *      LOCKED_OUT        deny     -                       permission
 *      SUSPENDED         deny     -                       permission
 *      DEPROVISIONED     deny     -                       expired
 *      anything else     deny     -                       permission
 *      RECOVERY and PASSWORD_EXPIRED are allowed by default: Okta owns
 *      the password and the user is still that person; a host login by SSH
 *      key does not use the Okta password.  Let in, they are told (as
 *      information) what to fix in Okta.  Sites that want "fix your
 *      password first" set the switches.
 *   3. allowed_groups: the primary group or one of the user's
 *      supplementary groups (both from the snapshot) must be listed, else
 *      denied, permission.  Only Okta groups count: a user-private
 *      group (named like an Okta user, with that user's primary GID) is
 *      never a match, so listing "jane" does not admit jane.  The sync
 *      rejects an Okta group named like an Okta user (syncd/engine/sync.c),
 *      so this tells the two apart exactly.
 *   4. max_cache_age: when the last successful sync is older (or never
 *      happened), stale_allow unset denies (stale) and set lets the user
 *      in with a warning.
 *   5. allowed.
 *
 * A snapshot that turns out unreadable part way (a corrupt record) is
 * treated like a missing one.  Each verdict carries its reason for the
 * log ("ignored" at priority -1, except the warnings above) and, for a
 * denial or a warning, a message for the user.
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

#include "account.h"
#include "local_passwd.h"
#include "okta_status.h"
#include "snapshot.h"

/* The largest record buffer we grow to (a group with many members). */
#define REC_BUF_MAX (64u * 1024 * 1024)

/* One row of the status table (see the top of the file). */
struct status_rule {
	int allow;            /* the default; allow_recovery and
	                       * allow_password_expired override theirs */
	enum acct_deny_kind kind;   /* when denied */
	const char *msg;      /* what the user is told when denied */
	const char *note;     /* ... and when allowed anyway (or NULL) */
};

static const struct status_rule status_rules[OKTA_STATUS_MAX + 1] = {
	[OKTA_STATUS_UNKNOWN] = { .allow = 0, .kind = ACCT_DENY_PERMISSION,
	    .msg = "Your account status in Okta is unknown to this host. "
	    "Contact your administrator." },
	[OKTA_STATUS_STAGED] = { .allow = 0, .kind = ACCT_DENY_PERMISSION,
	    .msg = "Your account is not activated in Okta yet. "
	    "Contact your administrator." },
	[OKTA_STATUS_PROVISIONED] = { .allow = 0, .kind = ACCT_DENY_PERMISSION,
	    .msg = "Your account is not activated in Okta yet. "
	    "Finish activating it in Okta, then try again." },
	[OKTA_STATUS_ACTIVE] = { .allow = 1, .kind = ACCT_DENY_NONE },
	[OKTA_STATUS_RECOVERY] = { .allow = 1, .kind = ACCT_DENY_PERMISSION,
	    .msg = "Your Okta account is in password recovery. "
	    "Finish resetting your password in Okta, then try again.",
	    .note = "Note: your Okta account is in password recovery. "
	    "Finish resetting your password in Okta." },
	[OKTA_STATUS_PASSWORD_EXPIRED] = { .allow = 1,
	    .kind = ACCT_DENY_PERMISSION,
	    .msg = "Your Okta password has expired. "
	    "Change it in Okta, then try again.",
	    .note = "Note: your Okta password has expired. Change it in Okta." },
	[OKTA_STATUS_LOCKED_OUT] = { .allow = 0, .kind = ACCT_DENY_PERMISSION,
	    .msg = "Your account is locked out in Okta. "
	    "Contact your administrator." },
	[OKTA_STATUS_SUSPENDED] = { .allow = 0, .kind = ACCT_DENY_PERMISSION,
	    .msg = "Your account is suspended in Okta. "
	    "Contact your administrator." },
	[OKTA_STATUS_DEPROVISIONED] = { .allow = 0, .kind = ACCT_DENY_EXPIRED,
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

static void set_reason(struct acct_verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void warn(const struct acct_ctx *c, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_reason(struct acct_verdict *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

static void
set_verdict(struct acct_verdict *v, enum acct_result result,
    enum acct_deny_kind kind, int prio, const char *what)
{
	v->result = result;
	v->kind = kind;
	v->prio = prio;
	v->what = what;
}

/* A denial with one of the fixed messages. */
static void
deny(struct acct_verdict *v, enum acct_deny_kind kind, int prio,
    const char *msg)
{
	set_verdict(v, ACCT_DENY, kind, prio, "denied");
	v->msg_style = ACCT_MSG_ERROR;
	(void)snprintf(v->msg, sizeof(v->msg), "%s", msg);
}

/* A warning on the way, through the caller's log. */
static void
warn(const struct acct_ctx *c, int prio, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (c->log == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->log(c->log_ctx, prio, msg);
}

static void
verdict_init(struct acct_verdict *v)
{
	memset(v, 0, sizeof(*v));
	set_verdict(v, ACCT_IGNORE, ACCT_DENY_NONE, -1, "ignored");
}

/* Rule 1 keeps UID 0 out of Okta; root never depends on the cache,
 * even when the passwd file cannot be read.  1 when *v is decided. */
static int
superuser(const char *user, struct acct_verdict *v)
{
	if (strcmp(user, "root") != 0)
		return 0;
	set_verdict(v, ACCT_IGNORE, ACCT_DENY_NONE, -1, "ignored");
	set_reason(v, "local superuser");
	return 1;
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
	uint32_t gid[ACCT_MAX_GROUPS];
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
in_allowed_groups(const struct acct_ctx *c, const struct acct_policy *pol,
    const struct snap *s, const struct snap_pw *pw)
{
	struct gid_set set;
	char name[ACCT_NAME_MAX];
	size_t i;
	uint32_t gid = 0;
	int r;

	memset(&set, 0, sizeof(set));
	for (i = 0; i < pol->ngroups && i < ACCT_MAX_GROUPS; i++) {
		/* The options parser and the snapshot reader bounded each
		 * length below NAME_MAX; a caller that did not gets no
		 * match rather than an overflow. */
		if (pol->group_len[i] >= sizeof(name))
			continue;
		memcpy(name, pol->groups[i], pol->group_len[i]);
		name[pol->group_len[i]] = '\0';
		r = lookup_group_gid(s, name, &gid);
		if (r < 0)
			return -1;
		if (r == 0) {
			warn(c, LOG_WARNING, "allowed_groups: group %s is not "
			    "in the Okta user cache", name);
			continue;
		}
		if ((r = is_private_group(s, name, gid)) < 0)
			return -1;
		if (r == 1) {
			warn(c, LOG_WARNING, "allowed_groups: %s is the "
			    "private group of the Okta user %s, not an Okta "
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
 * Step 4: is the snapshot out of date under pol?  1 (with "when" filled
 * in: "never synced", "last sync 3 days ago"), 0 fresh.  A sync "in the
 * future" (the clock went back) counts as fresh.
 */
static int
is_stale(const struct acct_policy *pol, const struct snap *s, char *when,
    size_t whenlen)
{
	const struct snap_meta *meta;
	char age_s[48];
	long long age;

	if (pol->max_cache_age <= 0)
		return 0;
	meta = snap_get_meta(s);
	if (meta == NULL || meta->last_sync <= 0) {
		(void)snprintf(when, whenlen, "never synced");
		return 1;
	}
	age = (long long)time(NULL) - (long long)meta->last_sync;
	if (age <= pol->max_cache_age)
		return 0;
	describe_age(age, age_s, sizeof(age_s));
	(void)snprintf(when, whenlen, "last sync %s ago", age_s);
	return 1;
}

/*
 * Judge an Okta user (steps 1 to 5 of the table at the top).  Fills *v.
 */
static void
judge(const struct acct_ctx *c, const struct acct_policy *pol,
    const struct snap *s, const struct snap_pw *pw, struct acct_verdict *v)
{
	const struct status_rule *rule;
	const char *stname;
	char when[96];
	size_t len;
	int allow, stale, r;

	if (c->misconfigured != NULL) {
		deny(v, ACCT_DENY_MISCONFIGURED, LOG_ERR, msg_misconfigured);
		set_reason(v, "%s", c->misconfigured);
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
		deny(v, rule->kind, LOG_NOTICE, rule->msg);
		set_reason(v, "status %s", stname);
		return;
	}

	/* 3. allowed_groups. */
	if (pol->ngroups > 0) {
		r = in_allowed_groups(c, pol, s, pw);
		if (r < 0) {
			deny(v, ACCT_DENY_UNAVAILABLE, LOG_ERR, msg_unavailable);
			set_reason(v, "Okta user cache unavailable (groups "
			    "unreadable: %s)", strerror(errno));
			return;
		}
		if (r == 0) {
			deny(v, ACCT_DENY_PERMISSION, LOG_NOTICE,
			    msg_not_in_group);
			set_reason(v, "status %s, not in allowed_groups",
			    stname);
			return;
		}
	}

	/* 4. The age of the last successful sync. */
	stale = is_stale(pol, s, when, sizeof(when));
	if (stale && !pol->stale_allow) {
		set_verdict(v, ACCT_DENY, ACCT_DENY_STALE, LOG_NOTICE, "denied");
		set_reason(v, "status %s, Okta user cache out of date (%s, "
		    "max_cache_age %llds), stale_policy=deny", stname, when,
		    pol->max_cache_age);
		v->msg_style = ACCT_MSG_ERROR;
		(void)snprintf(v->msg, sizeof(v->msg), "The Okta user cache "
		    "on this host is out of date (%s), so Okta users cannot "
		    "log in. Contact your administrator.", when);
		return;
	}

	/* 5. Allowed. */
	set_verdict(v, ACCT_ALLOW, ACCT_DENY_NONE, LOG_INFO, "allowed");
	if (stale) {
		v->prio = LOG_WARNING;
		set_reason(v, "status %s, Okta user cache out of date (%s, "
		    "max_cache_age %llds), stale_policy=allow", stname, when,
		    pol->max_cache_age);
		v->msg_style = ACCT_MSG_INFO;
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
		v->msg_style = ACCT_MSG_INFO;
	}
}

/*
 * There is no usable snapshot (why: a sentence).  Local accounts are not
 * ours and pass on to the rest of the stack; anyone else might be an Okta
 * user we can no longer judge, and is denied.
 */
static void
no_cache(const struct acct_ctx *c, const char *user, const char *why,
    struct acct_verdict *v)
{
	uint32_t uid;
	int r;

	r = local_passwd_lookup(c->passwd, user, &uid);
	if (r == 1) {
		set_verdict(v, ACCT_IGNORE, ACCT_DENY_NONE, LOG_WARNING,
		    "ignored");
		set_reason(v, "local account (in %s); note: Okta user cache "
		    "unavailable (%s)", c->passwd, why);
		return;
	}
	deny(v, ACCT_DENY_UNAVAILABLE, LOG_ERR, msg_unavailable);
	if (r == 0)
		set_reason(v, "Okta user cache unavailable (%s), and not a "
		    "local account", why);
	else
		set_reason(v, "Okta user cache unavailable (%s), and %s "
		    "unreadable (%s)", why, c->passwd, strerror(errno));
}

/*
 * A name that is not in the snapshot's users may be a tombstone (see the
 * top of the file).  Returns 1 when *v is decided, 0 when the name is no
 * tombstone.
 */
static int
tombstoned(const struct acct_ctx *c, const struct snap *s,
    const char *user, struct acct_verdict *v)
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
		    c->snapshot, errno == EPROTO ? "corrupt" : strerror(errno));
		no_cache(c, user, why, v);
		return 1;
	}
	/* ERANGE: a valid record with a long reason; the name is enough. */
	if (r < 0)
		t.why = "";
	r = local_passwd_lookup(c->passwd, user, &luid);
	if (r == 1) {
		set_verdict(v, ACCT_IGNORE, ACCT_DENY_NONE, LOG_WARNING,
		    "ignored");
		set_reason(v, "local account (UID %u in %s) has the name of an "
		    "Okta user who left this host (UID %u); the local account "
		    "is not judged", (unsigned)luid, c->passwd, (unsigned)t.uid);
		return 1;
	}
	left = (time_t)t.left_at;
	if (gmtime_r(&left, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(when, sizeof(when), "@%lld", (long long)t.left_at);
	deny(v, ACCT_DENY_EXPIRED, LOG_NOTICE, msg_tombstone);
	set_reason(v, "left this host (tombstone, UID %u): %s at %s%s%s",
	    (unsigned)t.uid, snap_tomb_reason_name(t.reason), when,
	    *t.why != '\0' ? ": " : "", t.why);
	return 1;
}

void
acct_policy_from_snap(const struct snap_policy *sp, struct acct_policy *pol)
{
	size_t i;

	memset(pol, 0, sizeof(*pol));
	/* The reader bounds both the count and each name. */
	for (i = 0; i < sp->ngroups && i < ACCT_MAX_GROUPS; i++) {
		pol->groups[i] = sp->groups[i];
		pol->group_len[i] = strlen(sp->groups[i]);
	}
	pol->ngroups = i;
	pol->max_cache_age = (long long)sp->max_cache_age;
	pol->stale_allow = sp->stale_policy == SNAP_STALE_ALLOW;
	pol->allow_recovery = !sp->deny_recovery;
	pol->allow_password_expired = !sp->deny_password_expired;
	pol->tombstone_ignore = sp->tombstone == SNAP_TOMB_POLICY_IGNORE;
}

void
acct_no_snapshot(const struct acct_ctx *c, const char *user, int err,
    struct acct_verdict *v)
{
	char why[PATH_MAX + 128];

	verdict_init(v);
	if (superuser(user, v))
		return;
	(void)snprintf(why, sizeof(why), "%s: %s", c->snapshot,
	    err == EPROTO ? "corrupt or unknown format" : strerror(err));
	no_cache(c, user, why, v);
}

void
acct_decide_snap(const struct acct_ctx *c, const struct snap *s,
    const char *user, struct acct_verdict *v)
{
	struct snap_pw pw;
	struct snap_policy sp;
	struct acct_policy pol;
	char *buf = NULL, *polbuf = NULL;
	char why[PATH_MAX + 128];
	size_t buflen = 0;
	uint32_t luid;
	int r, policy_ok;

	verdict_init(v);
	if (superuser(user, v))
		return;
	/* The published policy, with the caller's overrides.  Kept for
	 * the Okta users below; unreadable, it denies them. */
	r = -1;
	if ((polbuf = malloc(SNAP_POLICY_BUF)) == NULL)
		errno = ENOMEM;
	else
		r = snap_get_policy(s, &sp, polbuf, SNAP_POLICY_BUF);
	policy_ok = r == 1;
	if (policy_ok) {
		if (c->policy != NULL)
			c->policy(c->policy_ctx, &sp, &pol);
		else
			acct_policy_from_snap(&sp, &pol);
	} else {
		(void)snprintf(why, sizeof(why), "%s: policy record: %s",
		    c->snapshot, r == 0 ? "missing" : errno == EPROTO ?
		    "corrupt or not understood" : strerror(errno));
	}
	r = lookup_user(s, user, &pw, &buf, &buflen);
	if (r < 0) {
		(void)snprintf(why, sizeof(why), "%s: user record: %s",
		    c->snapshot, errno == EPROTO ? "corrupt" : strerror(errno));
		no_cache(c, user, why, v);
		goto out;
	}
	if (r == 0) {
		/* tombstone = ignore leaves them to the caller; an
		 * unreadable policy keeps denying them (fail closed). */
		if ((!policy_ok || !pol.tombstone_ignore) &&
		    tombstoned(c, s, user, v))
			goto out;
		set_verdict(v, ACCT_IGNORE, ACCT_DENY_NONE, -1, "ignored");
		set_reason(v, "not an Okta user");
		goto out;
	}

	r = local_passwd_lookup(c->passwd, user, &luid);
	if (r < 0) {
		/* Judging an Okta user without knowing about a local twin is
		 * the safe side: it can only deny more. */
		warn(c, LOG_WARNING, "cannot read %s: %s", c->passwd,
		    strerror(errno));
	} else if (r == 1 && luid == 0) {
		set_verdict(v, ACCT_IGNORE, ACCT_DENY_NONE, LOG_WARNING,
		    "ignored");
		set_reason(v, "local superuser (UID 0 in %s)", c->passwd);
		goto out;
	} else if (r == 1 && luid != pw.uid) {
		/* NSS answers from the passwd file first: the login is the
		 * local account's, which the snapshot must not shadow. */
		set_verdict(v, ACCT_IGNORE, ACCT_DENY_NONE, LOG_WARNING,
		    "ignored");
		set_reason(v, "local account (UID %u in %s) has the name of "
		    "an Okta user (UID %u); the local account is not judged",
		    (unsigned)luid, c->passwd, (unsigned)pw.uid);
		goto out;
	}
	if (!policy_ok) {
		deny(v, ACCT_DENY_UNAVAILABLE, LOG_ERR, msg_unavailable);
		set_reason(v, "Okta user cache unavailable (%s)", why);
		goto out;
	}
	judge(c, &pol, s, &pw, v);
out:
	free(buf);
	free(polbuf);
}

void
acct_decide(const struct acct_ctx *c, const char *user,
    struct acct_verdict *v)
{
	struct snap *s = NULL;

	verdict_init(v);
	if (superuser(user, v))
		return;
	if (snap_open(c->snapshot, &s) < 0) {
		acct_no_snapshot(c, user, errno, v);
		return;
	}
	acct_decide_snap(c, s, user, v);
	snap_close(s);
}
