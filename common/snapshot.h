/*
 * snapshot.h - the published snapshot: a tinycdb file that okta-sync writes
 * and that libnss_okta and pam_okta read.
 *
 * The snapshot is derived in full from cache.db at each publish, written to
 * a temporary file in the same directory, fsynced and renamed into place
 * (mode 0644).  It holds no secrets.  Readers map it read-only and never
 * lock; a reader refuses a file whose magic or format version it does not
 * know.  The record layout is documented in snapshot_format.h.
 *
 * Error convention for lookups (as tinycdb's cdb_find): 1 found, 0 not
 * found, -1 with errno set (EPROTO: the file is corrupt, ERANGE: the
 * caller's buffer is too small, ENOENT/EACCES...: no usable snapshot).
 */
#ifndef OKTA_SNAPSHOT_H
#define OKTA_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "okta_status.h"

/* 2: adds 't' tombstones and the 'P' policy record, reserves 'k'; the
 * meta record's flags must be 0 (snapshot_format.h).  3: each passwd and
 * group record stored once (the ID keys hold its offset), with the buffer
 * size its answer needs (issue 13).  4: the records found through a
 * perfect-hash index, the 'X' record, instead of the ID keys. */
#define SNAP_FORMAT_VERSION 4

/* The meta record. */
struct snap_meta {
	uint32_t format_version;   /* SNAP_FORMAT_VERSION */
	int64_t last_sync;         /* end of the last successful sync, epoch s */
	uint64_t generation;       /* increases by one at each publish */
	uint32_t nusers;
	uint32_t ngroups;
};

/* ---- Writer (syncd only) ------------------------------------------- */

/* One user, as the writer is handed it.  Strings are validated by the
 * caller; the writer still refuses ':' and '\n' in any of them. */
struct snap_user {
	const char *name;
	uint32_t uid;
	uint32_t gid;             /* primary group */
	const char *gecos;
	const char *dir;
	const char *shell;
	enum okta_status status;
};

struct snap_group {
	const char *name;
	uint32_t gid;
	const char *const *members;   /* member user names */
	size_t nmembers;
};

struct snap_writer;

/*
 * Start a new snapshot that will replace `path` on commit.  The temporary
 * file is created next to it.  Returns NULL on error with a sentence for
 * the admin in err (errlen bytes).
 */
struct snap_writer *snap_writer_open(const char *path, char *err, size_t errlen);

/* Add entries.  Return 0, or -1 with a sentence in the writer's error
 * (snap_writer_error).  Users and groups may come in any order; every user
 * must be added at most once, every group at most once. */
int snap_writer_add_user(struct snap_writer *w, const struct snap_user *u);
int snap_writer_add_group(struct snap_writer *w, const struct snap_group *g);
/* The supplementary GIDs of one user (for initgroups); call at most once
 * per user name, before or after the user.  Format 3 stores them in the
 * user's passwd record, which is therefore written at commit; GIDs given
 * for a name that is never added as a user are not stored. */
int snap_writer_add_user_gids(struct snap_writer *w, const char *user,
    const uint32_t *gids, size_t ngids);

/* Write the meta record, fsync, rename into place, fsync the directory.
 * meta->format_version, nusers and ngroups are filled in by the writer
 * (from what was added); it refuses duplicate names and IDs here.  Frees w in all
 * cases.  Returns 0, or -1 with a sentence in err. */
int snap_writer_commit(struct snap_writer *w, const struct snap_meta *meta,
    char *err, size_t errlen);

/* Throw the temporary file away.  Accepts NULL. */
void snap_writer_abort(struct snap_writer *w);

/* The last error sentence of w ("" if none).  Never NULL. */
const char *snap_writer_error(const struct snap_writer *w);

/* ---- Reader (nss, pam, syncd) -------------------------------------- */

struct snap;   /* one mapped, validated snapshot file */

/* Open and validate (trust, magic, version, meta flags 0).  Returns 0, or
 * -1 with errno (ENOENT missing, EPERM not a regular file owned by root and
 * unwritable by group and others, EPROTO unknown or corrupt format, others
 * from open/mmap).  The descriptor is O_CLOEXEC and O_NONBLOCK (a FIFO
 * never blocks) and closed once the file is mapped. */
int snap_open(const char *path, struct snap **out);
/* As snap_open, on a descriptor the caller keeps (and closes when it
 * likes: the mapping does not need it).  For tests and the fuzzer. */
int snap_open_fd(int fd, struct snap **out);
void snap_close(struct snap *s);   /* accepts NULL */
const struct snap_meta *snap_get_meta(const struct snap *s);

/* A decoded passwd entry: the strings point into buf. */
struct snap_pw {
	const char *name, *gecos, *dir, *shell;
	uint32_t uid, gid;
	enum okta_status status;
};

/* A decoded group: name and the NULL-terminated members array in buf. */
struct snap_gr {
	const char *name;
	uint32_t gid;
	char **members;
};

/* Lookups: 1 found, 0 not found, -1 with errno EPROTO (corrupt record) or
 * ERANGE (buf too small, answered from the record's stored size without
 * reading its strings; pw->uid, gid and status, which are checked, are
 * still filled in).  The strings are checked as they are copied: a
 * corrupt record answers EPROTO once buf is as big as its size, which is
 * bounded by the record's length, so a retry loop always ends. */
int snap_getpwnam(const struct snap *s, const char *name,
    struct snap_pw *pw, char *buf, size_t buflen);
int snap_getpwuid(const struct snap *s, uint32_t uid,
    struct snap_pw *pw, char *buf, size_t buflen);
int snap_getgrnam(const struct snap *s, const char *name,
    struct snap_gr *gr, char *buf, size_t buflen);
int snap_getgrgid(const struct snap *s, uint32_t gid,
    struct snap_gr *gr, char *buf, size_t buflen);

/* The supplementary GIDs of `user`: calls fn for each; returns 1 (user
 * known, fn called for each GID), 0 (not known), -1 errno.  fn returning
 * non-zero stops the walk early (result still 1). */
int snap_user_gids(const struct snap *s, const char *user,
    int (*fn)(void *ctx, uint32_t gid), void *ctx);

/* Enumeration: *pos starts at 0.  On success *pos is advanced; on ERANGE it
 * is left alone so that the retry reads the same entry.  Returns 1, 0 at
 * the end, -1 errno. */
int snap_pw_next(const struct snap *s, uint64_t *pos,
    struct snap_pw *pw, char *buf, size_t buflen);
int snap_gr_next(const struct snap *s, uint64_t *pos,
    struct snap_gr *gr, char *buf, size_t buflen);

/* ---- Tombstones (format 2; common/snapshot_tombstone.c) ------------ */

/*
 * A tombstone: an Okta user who has left the host, kept in the snapshot
 * for [sync] tombstone_days so that a lingering cache elsewhere (nscd)
 * cannot let them in (DESIGN.md rule 9).  NSS never serves one; pam_okta
 * denies the name.  Why the user left:
 */
enum snap_tomb_reason {
	SNAP_TOMB_OTHER = 0,          /* a reason this reader does not know */
	SNAP_TOMB_REMOVED = 1,        /* no longer in Okta (or not visible) */
	SNAP_TOMB_OUT_OF_SCOPE = 2,   /* in Okta, no longer synced ([sync] groups) */
	SNAP_TOMB_DEPROVISIONED = 3,  /* deprovisioned, [sync] deprovisioned = remove */
	SNAP_TOMB_REJECTED = 4,       /* rejected after once being synced */
	SNAP_TOMB_REASON_MAX = 4
};

struct snap_tombstone {
	const char *name;
	uint32_t uid;                 /* the UID the user had (rule 4: still theirs) */
	enum snap_tomb_reason reason;
	int64_t left_at;              /* epoch s */
	int64_t expires;              /* epoch s: no longer published after */
	const char *why;              /* a sentence for the admin, may be "" */
};

/* Writer: add one tombstone.  Its name must not also be added as a user
 * (refused at commit), nor twice.  0, or -1 with the writer's error. */
int snap_writer_add_tombstone(struct snap_writer *w,
    const struct snap_tombstone *t);

/* Reader: the tombstone of `name` (strings copied into buf).  1 found, 0
 * not, -1 with errno EPROTO (corrupt record) or ERANGE (buf too small). */
int snap_get_tombstone(const struct snap *s, const char *name,
    struct snap_tombstone *t, char *buf, size_t buflen);

/* A short word for a reason ("removed", "out of scope", ...).  Never NULL. */
const char *snap_tomb_reason_name(enum snap_tomb_reason r);

/* ---- PAM policy (format 2; common/snapshot_policy.c) --------------- */

/*
 * The [pam] section of okta-sync.conf as the sync saw it, published as the
 * snapshot's one 'P' record so that pam_okta (which must never read the
 * root-only config) applies the admin's policy; module-line options
 * override it.  Layout in snapshot_format.h.
 */
#define SNAP_POLICY_MAX_GROUPS 64
#define SNAP_POLICY_NAME_MAX 64          /* longest allowed_groups name */
#define SNAP_POLICY_DEFAULT_MAX_AGE (7 * 86400LL)

enum snap_stale_policy {
	SNAP_STALE_DENY = 0,          /* an out-of-date snapshot denies Okta users */
	SNAP_STALE_ALLOW = 1          /* ... or lets them in with a warning */
};

enum snap_tomb_policy {
	SNAP_TOMB_POLICY_DENY = 0,    /* a tombstoned name is refused */
	SNAP_TOMB_POLICY_IGNORE = 1   /* ... or left to the rest of the stack */
};

struct snap_policy {
	int64_t max_cache_age;        /* seconds; 0: no limit */
	enum snap_stale_policy stale_policy;
	int deny_recovery;            /* 0 or 1 */
	int deny_password_expired;    /* 0 or 1 */
	enum snap_tomb_policy tombstone;
	/* allowed_groups: Linux names of Okta groups; 0: any group.  The
	 * writer takes the caller's strings; the reader's point into its
	 * buf, NUL-terminated. */
	const char *groups[SNAP_POLICY_MAX_GROUPS];
	size_t ngroups;
};

/* The defaults, which are also what an empty [pam] section means:
 * 7 days, deny, RECOVERY and PASSWORD_EXPIRED allowed, tombstones
 * denied, any group.  Can't fail. */
void snap_policy_defaults(struct snap_policy *p);

/* Writer: the policy to publish (copied).  Without this call the writer
 * publishes the defaults, so that a v2 file always has its one 'P'
 * record.  0, or -1 with the writer's error (a bad group name, a value
 * out of range). */
int snap_writer_set_policy(struct snap_writer *w, const struct snap_policy *p);

/* Reader: the published policy, names copied into buf (SNAP_POLICY_BUF
 * bytes always suffice).  1 found, 0 there is none, -1 with errno EPROTO
 * (corrupt or not understood: see snapshot_format.h) or ERANGE. */
#define SNAP_POLICY_BUF (SNAP_POLICY_MAX_GROUPS * (SNAP_POLICY_NAME_MAX + 1))
int snap_get_policy(const struct snap *s, struct snap_policy *p, char *buf,
    size_t buflen);

/* "90", "90s", "15m", "12h", "7d" -> seconds, as both [pam] max_cache_age
 * and pam_okta's max_cache_age= take them.  0, or -1 for anything else
 * (a sign, junk, overflow). */
int snap_policy_parse_duration(const char *s, long long *out);
/* When pam_okta starts refusing Okta users because the snapshot whose
 * last successful sync was last_sync is too old (epoch s): -1 never
 * (max_cache_age 0, or stale_policy allow), 0 already (never synced).
 * For status and the metrics; can't fail. */
int64_t snap_policy_refuse_at(const struct snap_policy *p, int64_t last_sync);
/* The other way, in the largest unit that is exact ("7d", "90s"); returns
 * buf.  Can't fail. */
const char *snap_policy_format_duration(long long secs, char *buf, size_t len);

/* ---- SSH public keys (format 2; common/snapshot_keys.c) ----------- */

/*
 * The 'k' record of a user: the OpenSSH public key lines the sync accepted
 * from the user's [posix] ssh_keys_attribute (common/sshkey.h), in the
 * order Okta lists them.  Keys are public; the key program (keys/) prints
 * them for sshd's AuthorizedKeysCommand.  Format 2 reserved the key byte
 * and every format-2 reader ignores records it does not look up, so
 * adding them changes no version.  Layout in snapshot_format.h.
 */
#define SNAP_KEYS_MAX 32              /* keys per user */

/* Writer: the keys of `user`, who must also be added as a user (checked
 * at commit); at most once per user, 1..SNAP_KEYS_MAX lines (a user with
 * none gets no record).  Each line must pass sshkey_check() unchanged
 * (canonical), with options allowed: the sync has already applied
 * ssh_keys_allow_options.  0, or -1 with the writer's error (naming the
 * user and the key's position, 1-based, and sshkey_check's reason). */
int snap_writer_add_user_keys(struct snap_writer *w, const char *user,
    const char *const *lines, size_t nlines);

/* Reader: calls fn(ctx, line, len) for each key of `user` (line points
 * into the mapping, not NUL-terminated).  1 (the user has a 'k' record),
 * 0 (none), -1 with errno EPROTO (corrupt record: a bad count or length,
 * a byte no key line may hold).  fn returning non-zero stops the walk
 * (result still 1).  The reader checks framing and bytes only; callers
 * that print a line run sshkey_check() on it too. */
int snap_user_keys(const struct snap *s, const char *user,
    int (*fn)(void *ctx, const char *line, size_t len), void *ctx);

/* ---- A refreshing handle (nss, pam) -------------------------------- */

/*
 * snap_acquire() returns the current snapshot, re-checking the file (one
 * stat) at most once per second, measured with CLOCK_MONOTONIC_COARSE so
 * that the steady-state path makes no system call.  The returned snapshot
 * stays valid until the matching snap_release(); a newer file replaces the
 * mapping for later callers only.  Thread-safe and fork-safe.
 * Returns NULL with errno when there is no usable snapshot.  A refresh that
 * fails for any reason but ENOENT keeps the mapping already held (see
 * snapshot_handle.c).
 */
struct snap *snap_acquire(const char *path);
void snap_release(struct snap *s);

#endif
