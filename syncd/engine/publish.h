/*
 * publish.h - derive a new snapshot in full from cache.db and put it in
 * place (the writer in common/snapshot.h does the atomic rename).
 *
 * What is published:
 *   - every cached user (with [sync] deprovisioned = remove, DEPROVISIONED
 *     users are left out: they do not resolve, their UID stays reserved);
 *   - with primary_group = user-private, each published user's private
 *     group (named like the user, GID = UID, no listed members);
 *   - every cached Okta group with its published members;
 *   - each published user's supplementary GIDs (its Okta groups);
 *   - the tombstones of the users who left the host (tombstone.h), as 't'
 *     records;
 *   - the meta record: generation, time of the sync, counts.
 */
#ifndef OKTA_PUBLISH_H
#define OKTA_PUBLISH_H

#include <sqlite3.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "error.h"

/*
 * Write <cache dir>/snapshot.cdb from db, first removing the temporary
 * files of publishes that were killed (the caller holds the sync lock).  Returns OK_SUCCESS, or
 * OK_ERR_PUBLISH / OK_ERR_CACHE with a sentence in err; the old snapshot
 * is then left in place.
 */
okerr publish_snapshot(sqlite3 *db, const struct config *c,
    unsigned long long generation, time_t last_sync, char *err, size_t errlen);

/*
 * Record the identity (device, inode, mtime, size) of the snapshot file at
 * path in cache.db's meta table, in its own transaction, so that
 * `okta-sync status` can tell a file replaced or changed in place behind
 * okta-sync's back (cache.h).  publish_snapshot calls it; anything else
 * that installs a snapshot on purpose (a restore) must call it too.
 * 0, or -1 with a sentence in err.
 */
int publish_record_identity(sqlite3 *db, const char *path, char *err,
    size_t errlen);

#endif
