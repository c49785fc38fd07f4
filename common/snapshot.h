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

#define SNAP_FORMAT_VERSION 1

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
 * per user name. */
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

/* Open and validate (magic, version, meta).  Returns 0, or -1 with errno
 * (ENOENT missing, EPROTO unknown or corrupt format, others from open/mmap).
 * The descriptor is O_CLOEXEC and closed once the file is mapped. */
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
 * ERANGE (buf too small; pw->uid, gid and status are still filled in, as
 * the record itself is valid). */
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

/* ---- A refreshing handle (nss, pam) -------------------------------- */

/*
 * snap_acquire() returns the current snapshot, re-checking the file (one
 * stat) at most once per second, measured with CLOCK_MONOTONIC_COARSE so
 * that the steady-state path makes no system call.  The returned snapshot
 * stays valid until the matching snap_release(); a newer file replaces the
 * mapping for later callers only.  Thread-safe and fork-safe.
 * Returns NULL with errno when there is no usable snapshot.
 */
struct snap *snap_acquire(const char *path);
void snap_release(struct snap *s);

#endif
