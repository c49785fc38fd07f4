/*
 * account.h - the account decision: may this user log in to this host
 * now, as far as Okta is concerned?  Shared by pam_okta (the account
 * phase) and okta-sync-keys (sshd's AuthorizedKeysCommand), so that a key
 * is served exactly when the account phase would let its owner in.
 *
 * No PAM types here: the outcome is neutral (allow, ignore, or deny of a
 * kind) with a syslog priority, a reason for the log and a message for
 * the user; each caller maps it to its own world in one function.  The
 * decision table and its order are documented at the top of account.c.
 *
 * Reads the snapshot (common/snapshot.h) and the local passwd file
 * (local_passwd.h), nothing else; no global state, thread-safe; allocates
 * only temporary buffers, freed before return.
 */
#ifndef OKTA_ACCOUNT_H
#define OKTA_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

struct snap;
struct snap_policy;

/* At most this many names in allowed_groups. */
#define ACCT_MAX_GROUPS 64
/* The longest group or user name we look at. */
#define ACCT_NAME_MAX 256

/*
 * The policy one decision applies.  Group names are (pointer, length)
 * pairs: into the snapshot's policy buffer, or into pam_okta's argv.
 */
struct acct_policy {
	const char *groups[ACCT_MAX_GROUPS];
	size_t group_len[ACCT_MAX_GROUPS];
	size_t ngroups;              /* 0: any group may log in */
	long long max_cache_age;     /* seconds; 0: no limit */
	int stale_allow;             /* an out-of-date snapshot lets in */
	int allow_recovery;
	int allow_password_expired;
	int tombstone_ignore;        /* tombstones left to the caller's stack */
};

/*
 * The published policy as it is (what okta-sync-keys applies, and what
 * pam_okta starts from before its module-line overrides).  The names
 * point into sp's buffer.  Can't fail.
 */
void acct_policy_from_snap(const struct snap_policy *sp,
    struct acct_policy *pol);

/*
 * What the caller brings to a decision.  Only snapshot and passwd are
 * required; the rest may be zero.
 */
struct acct_ctx {
	const char *snapshot;        /* the snapshot's path (opened by
	                              * acct_decide, named in reasons) */
	const char *passwd;          /* the local passwd file */
	/* Non-NULL: the caller's configuration is broken and Okta users are
	 * denied (misconfigured); this is the reason for the log.  Local
	 * users are never affected (DESIGN.md rule 8). */
	const char *misconfigured;
	/* The policy of this decision from the published one.  NULL:
	 * acct_policy_from_snap.  Can't fail. */
	void (*policy)(void *ctx, const struct snap_policy *sp,
	    struct acct_policy *pol);
	void *policy_ctx;
	/* Warnings found on the way, before the verdict (a listed group
	 * missing from the snapshot, an unreadable passwd file): one
	 * sentence each, with a syslog priority.  NULL: dropped. */
	void (*log)(void *ctx, int prio, const char *msg);
	void *log_ctx;
};

enum acct_result {
	ACCT_ALLOW,                  /* an Okta user who may log in */
	ACCT_IGNORE,                 /* not ours to judge: root, a local
	                              * account, not an Okta user */
	ACCT_DENY                    /* an Okta user (or one we cannot tell
	                              * from one) who may not */
};

/* Why a denial. */
enum acct_deny_kind {
	ACCT_DENY_NONE,              /* not denied */
	ACCT_DENY_PERMISSION,        /* status, allowed_groups */
	ACCT_DENY_EXPIRED,           /* DEPROVISIONED, or a tombstone */
	ACCT_DENY_STALE,             /* the last sync is older than
	                              * max_cache_age, stale_policy deny */
	ACCT_DENY_UNAVAILABLE,       /* no usable snapshot (missing,
	                              * corrupt, an unreadable record) */
	ACCT_DENY_MISCONFIGURED      /* acct_ctx.misconfigured */
};

enum acct_msg_style {
	ACCT_MSG_NONE,
	ACCT_MSG_ERROR,              /* why the user is refused */
	ACCT_MSG_INFO                /* let in, with something to know */
};

/* The outcome of one decision. */
struct acct_verdict {
	enum acct_result result;
	enum acct_deny_kind kind;
	int prio;                    /* syslog priority of the verdict; -1:
	                              * routine, worth a line only when
	                              * debugging */
	const char *what;            /* "allowed", "denied", "ignored" */
	char reason[512];            /* for the log; never secret */
	enum acct_msg_style msg_style;
	char msg[512];               /* for the user */
};

/*
 * Decide for `user` (a non-empty name shorter than ACCT_NAME_MAX):
 * "root" is ignored without looking at anything; otherwise the snapshot
 * at c->snapshot is opened, judged and closed.  Fills *v.  Can't fail:
 * every error is a verdict.
 */
void acct_decide(const struct acct_ctx *c, const char *user,
    struct acct_verdict *v);

/*
 * As acct_decide, on a snapshot the caller opened and keeps (so that it
 * can go on reading the very file the decision was made on).  c->snapshot
 * is only named in reasons.
 */
void acct_decide_snap(const struct acct_ctx *c, const struct snap *s,
    const char *user, struct acct_verdict *v);

/*
 * The caller's snap_open(c->snapshot) failed with errno err: root and
 * local accounts are ignored, anyone else is denied (unavailable), as
 * acct_decide does.  Fills *v.
 */
void acct_no_snapshot(const struct acct_ctx *c, const char *user, int err,
    struct acct_verdict *v);

#endif
