/*
 * lock.h - one sync at a time per host: a POSIX write lock (fcntl
 * F_SETLK) on <cache dir>/sync.lock.
 *
 * A POSIX lock rather than flock(2), because F_GETLK tells a second
 * `okta-sync sync` (or okta-syncd) the holder's PID without writing it
 * into the file: cache.db and the snapshot stay byte-for-byte unchanged
 * by a sync that fails (which leaves its reason in sync-errors.log).  The lock goes away with the process, whatever way it
 * ends; the (empty) file stays.  The descriptor is O_CLOEXEC and must be
 * the only one the process opens on the file (closing any descriptor of
 * it drops a POSIX lock).
 */
#ifndef OKTA_LOCK_H
#define OKTA_LOCK_H

#include <stddef.h>

#include "error.h"

#define SYNC_LOCK_NAME "sync.lock"

/*
 * Take the lock in dir (which must exist).  wait: block until it is free;
 * else OK_ERR_BUSY at once with "another okta-sync sync or okta-syncd is
 * running (pid N)" in err.  Returns OK_SUCCESS with *fd (close it with
 * sync_lock_release), or OK_ERR_BUSY / OK_ERR_CACHE with a sentence in err.
 */
okerr sync_lock_acquire(const char *dir, int wait, int *fd, char *err,
    size_t errlen);
void sync_lock_release(int fd);   /* accepts -1 */

#endif
