/*
 * cache.h - cache.db, the SQLite cache of record (syncd and the CLI only;
 * NSS and PAM read the snapshot, never this).
 *
 * The file lives in [cache] dir (created 0755 when missing), is created
 * mode 0600 (root only), runs in WAL mode with foreign keys on and a busy
 * timeout.  The schema version is PRAGMA user_version; cache_open() brings
 * an older file up to CACHE_SCHEMA_VERSION through one migration function
 * per step, each in its own transaction.  The API token is never stored.
 *
 * Schema, version 1 (names are Linux names, IDs are numbers):
 *   users(okta_id PK, name, uid, gid, gecos, home, shell, status,
 *         login, email, first_name, last_name, last_updated)
 *       accepted users only; status is Okta's spelling (okta_status.h);
 *       login..last_name are Okta's raw values, for `okta-sync show`.
 *   groups(okta_id PK, name, gid, okta_name, last_updated,
 *          last_membership_updated)           accepted Okta groups only
 *   memberships(group_id -> groups, user_id -> users; PK both)
 *       cascades when either side is deleted.
 *   allocations(id PK, okta_id, kind 'user'|'group', first_seen)
 *       every UID/GID ever handed out; never deleted from (rule 4).
 *   rejects(kind 'user'|'group', okta_id, okta_name, reason)
 *       the entries the last applied sync rejected, and why.
 *   sync_runs(id PK, started, finished, result, mode, users_added,
 *             users_modified, users_removed, users_unchanged,
 *             users_rejected, groups_added, groups_modified,
 *             groups_removed, groups_unchanged, groups_rejected,
 *             memberships_added, memberships_removed, requests, message)
 *       one row per applied sync (times in epoch seconds).  A sync that
 *       fails before applying changes nothing, so it is not recorded here
 *       (the log has it).
 *   meta(key PK, value): "generation" (of the last snapshot published),
 *       "last_sync" (epoch s, end of the last applied sync).
 *
 * Version 2 adds (see adopt.h):
 *   adoptions(okta_id PK, name, uid UNIQUE, gid, home, adopted,
 *             local_group)
 *       the local accounts an admin let an Okta user take over: the Okta
 *       user (by okta_id, so a later rename keeps it) gets uid and primary
 *       gid; name and home are the local account's at adoption time,
 *       adopted the epoch s of `okta-sync migrate --apply`.  local_group
 *       is set by each applied sync: 1 while a local group has the gid or
 *       the user's name (its user-private group is then not published).
 *
 * Version 3 adds (see tombstone.h):
 *   tombstones(okta_id PK, name, uid, left_at, reason, why)
 *       the Okta users who have left the host: name and UID as they were
 *       published, left_at the epoch s of the applying sync, reason an
 *       enum snap_tomb_reason, why a sentence.  Published as 't' records
 *       until [sync] tombstone_days after left_at, then deleted.
 *   meta keys (publish.c): "snapshot_dev", "snapshot_ino",
 *       "snapshot_mtime_ns", "snapshot_size": the identity of the file the
 *       last publish renamed into place, for `okta-sync status`.
 *
 * Version 4 adds (see userkeys.h):
 *   users.ssh_keys: the user's SSH public keys from [posix]
 *       ssh_keys_attribute, as sshkey_check() made them canonical, each
 *       line ended by '\n'; '' when none.  Published as 'k' records.
 *   rejects rows of kind 'key': an SSH key refused (okta_name is then the
 *       user's Linux name); the user itself is kept.
 *
 * Version 5 adds (see events.h):
 *   events_state(id PK = 1, cursor, polled_at, seen, applied, last_uuid,
 *                last_type, last_published, latency)
 *       okta-syncd's place in Okta's System Log: the next link to poll
 *       (validated again before use), polled_at the epoch s of the last
 *       successful poll, the events seen and applied, the last event
 *       applied and its revocation latency (seconds from its published
 *       to the snapshot published here).  sync_runs.mode 'events' marks
 *       the runs events started.
 *
 * Version 6 adds (see syncd/auth/offline.h, issue 11):
 *   offline_creds(okta_id PK, hash, stored_at, failures, last_failure)
 *       the offline credential of an Okta user: a yescrypt hash ("$y$")
 *       of the password of their last fully successful online login,
 *       stored_at its epoch s, failures the failed offline attempts in a
 *       row and last_failure the epoch s of the last one.  The sync wipes
 *       a row whose user is gone from users, has a status other than
 *       ACTIVE, or whose password_changed moved.
 *   users.password_changed: Okta's passwordChanged as Okta sent it (a
 *       timestamp string), NULL when Okta sent null or nothing.
 */
#ifndef OKTA_CACHE_H
#define OKTA_CACHE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define CACHE_SCHEMA_VERSION 6

enum cache_mode {
	CACHE_READ_WRITE,   /* create dir and file when missing; migrate */
	CACHE_READ_ONLY     /* never write a byte; a missing file gives an
	                       empty in-memory cache with the current schema */
};

/*
 * Open <dir>/cache.db.  Returns OK_SUCCESS with *db, or OK_ERR_CACHE with a
 * sentence in err (errlen bytes).  The caller closes with cache_close().
 * CACHE_READ_ONLY on a file without a -wal file opens it immutable (no
 * -shm or -wal is created); on a newer schema than this build knows it
 * fails.  Foreign keys, WAL and busy_timeout are set in CACHE_READ_WRITE.
 */
okerr cache_open(const char *dir, enum cache_mode mode, sqlite3 **db,
    char *err, size_t errlen);
void cache_close(sqlite3 *db);   /* accepts NULL */

/* The full path of the cache file for dir (malloc'd, caller frees). */
char *cache_db_path(const char *dir);

/*
 * Run one SQL statement list (no results).  Returns 0, or -1 with the
 * SQLite message in err.  Used for BEGIN/COMMIT and the apply steps.
 */
int cache_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);

/* meta: read key as an integer (def when absent); write key (in the
 * caller's transaction).  cache_meta_set returns 0 or -1. */
long long cache_meta_get_int(sqlite3 *db, const char *key, long long def);
int cache_meta_set_int(sqlite3 *db, const char *key, long long value);

/* One applied sync run, for `okta-sync status`. */
struct cache_run {
	long long id, started, finished, requests;
	char result[32], mode[32], message[512];
	unsigned long users_added, users_modified, users_removed,
	    users_unchanged, users_rejected;
	unsigned long groups_added, groups_modified, groups_removed,
	    groups_unchanged, groups_rejected;
	unsigned long memberships_added, memberships_removed;
};

/* The latest run: 1 found (in *out), 0 none yet, -1 SQLite error. */
int cache_last_run(sqlite3 *db, struct cache_run *out);

/* Row counts for status: -1 on error. */
long long cache_count(sqlite3 *db, const char *table);

#endif
