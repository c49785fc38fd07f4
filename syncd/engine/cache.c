/*
 * cache.c - open, create and migrate cache.db (see cache.h for the schema).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "log.h"
#include "paths.h"
#include "xmalloc.h"

static const char schema_v1[] =
    "CREATE TABLE users ("
    " okta_id TEXT PRIMARY KEY NOT NULL,"
    " name TEXT NOT NULL,"
    " uid INTEGER NOT NULL,"
    " gid INTEGER NOT NULL,"
    " gecos TEXT NOT NULL,"
    " home TEXT NOT NULL,"
    " shell TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " login TEXT, email TEXT, first_name TEXT, last_name TEXT,"
    " last_updated TEXT) WITHOUT ROWID;"
    /* Not UNIQUE: a rename swap inside one apply would trip it half way;
     * uniqueness is enforced before anything is stored (sync.c). */
    "CREATE INDEX users_name ON users(name);"
    "CREATE INDEX users_uid ON users(uid);"
    "CREATE TABLE groups ("
    " okta_id TEXT PRIMARY KEY NOT NULL,"
    " name TEXT NOT NULL,"
    " gid INTEGER NOT NULL,"
    " okta_name TEXT NOT NULL,"
    " last_updated TEXT,"
    " last_membership_updated TEXT) WITHOUT ROWID;"
    "CREATE INDEX groups_name ON groups(name);"
    "CREATE INDEX groups_gid ON groups(gid);"
    "CREATE TABLE memberships ("
    " group_id TEXT NOT NULL REFERENCES groups(okta_id) ON DELETE CASCADE,"
    " user_id TEXT NOT NULL REFERENCES users(okta_id) ON DELETE CASCADE,"
    " PRIMARY KEY (group_id, user_id)) WITHOUT ROWID;"
    /* No index by user: the sync never looks memberships up by user (it
     * deletes them before their users, with foreign keys off), and half a
     * million random index inserts cost a large first sync a second. */
    "CREATE TABLE allocations ("
    " id INTEGER PRIMARY KEY,"
    " okta_id TEXT NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('user', 'group')),"
    " first_seen INTEGER NOT NULL);"
    "CREATE INDEX allocations_okta ON allocations(okta_id);"
    "CREATE TABLE rejects ("
    " kind TEXT NOT NULL, okta_id TEXT NOT NULL, okta_name TEXT,"
    " reason TEXT NOT NULL);"
    "CREATE TABLE sync_runs ("
    " id INTEGER PRIMARY KEY,"
    " started INTEGER NOT NULL, finished INTEGER, result TEXT NOT NULL,"
    " mode TEXT NOT NULL,"
    " users_added INTEGER, users_modified INTEGER, users_removed INTEGER,"
    " users_unchanged INTEGER, users_rejected INTEGER,"
    " groups_added INTEGER, groups_modified INTEGER, groups_removed INTEGER,"
    " groups_unchanged INTEGER, groups_rejected INTEGER,"
    " memberships_added INTEGER, memberships_removed INTEGER,"
    " requests INTEGER, message TEXT);"
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;";

/*
 * Version 2: the local accounts an admin let Okta users take over
 * (`okta-sync migrate --apply`, adopt.h).  The CHECKs repeat the rule that
 * UID/GID 0 and system IDs are never adopted, so that no writer can get it
 * wrong; a UID is adopted at most once.
 */
static const char schema_v2[] =
    "CREATE TABLE adoptions ("
    " okta_id TEXT PRIMARY KEY NOT NULL,"
    " name TEXT NOT NULL,"
    " uid INTEGER NOT NULL UNIQUE CHECK (uid >= 1000 AND uid < 4294967295),"
    " gid INTEGER NOT NULL CHECK (gid >= 1000 AND gid < 4294967295),"
    " home TEXT,"
    " adopted INTEGER NOT NULL,"
    " local_group INTEGER NOT NULL DEFAULT 1) WITHOUT ROWID;";

/*
 * Version 3: tombstones (tombstone.h), the Okta users who have left the
 * host.  One per Okta user; uid keeps the CHECKs of rule 1 so that no
 * writer can publish a tombstone for a system account.
 */
static const char schema_v3[] =
    "CREATE TABLE tombstones ("
    " okta_id TEXT PRIMARY KEY NOT NULL,"
    " name TEXT NOT NULL,"
    " uid INTEGER NOT NULL CHECK (uid > 0 AND uid < 4294967295),"
    " left_at INTEGER NOT NULL,"
    " reason INTEGER NOT NULL,"
    " why TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX tombstones_name ON tombstones(name);";

/*
 * Version 4: a user's SSH public keys (userkeys.h), the canonical lines
 * sshkey_check() accepted, each ended by a newline; '' for none, so that
 * users cached before keep none until a sync reads them.
 */
static const char schema_v4[] =
    "ALTER TABLE users ADD COLUMN ssh_keys TEXT NOT NULL DEFAULT '';";

/*
 * Version 5: where okta-syncd follows the System Log (events.h).  One row
 * at most: the polling cursor (the next link, as Okta sent it), when it
 * was last polled, the counters, the last event applied and the
 * revocation latency measured for it.  IF NOT EXISTS: a file an admin
 * (or a test) marked older than it is keeps the table it already has.
 */
static const char schema_v5[] =
    "CREATE TABLE IF NOT EXISTS events_state ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " cursor TEXT,"
    " polled_at INTEGER,"
    " seen INTEGER NOT NULL DEFAULT 0,"
    " applied INTEGER NOT NULL DEFAULT 0,"
    " last_uuid TEXT, last_type TEXT, last_published TEXT,"
    " latency REAL);";

/*
 * Version 6: offline credentials (syncd/auth/offline.h, issue 11), keyed
 * by the Okta user ID, never the Linux name; and each user's Okta
 * passwordChanged, so that the sync sees it move and wipes the hash.  No
 * foreign key to users: the sync wipes the rows itself, in the apply's
 * transaction (sync.c), and the broker may store one for a user a sync
 * is about to remove (the next sync wipes it).
 */
static const char schema_v6[] =
    "CREATE TABLE IF NOT EXISTS offline_creds ("
    " okta_id TEXT PRIMARY KEY NOT NULL,"
    " hash TEXT NOT NULL,"
    " stored_at INTEGER NOT NULL,"
    " failures INTEGER NOT NULL DEFAULT 0,"
    " last_failure INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "ALTER TABLE users ADD COLUMN password_changed TEXT;";

/*
 * One migration step: brings a file at version (index) to index + 1.  Add
 * a version by appending its SQL here; each runs in its own transaction
 * together with the user_version bump.
 */
static const char *const migrations[CACHE_SCHEMA_VERSION] = {
	schema_v1,    /* 0 -> 1: the first schema */
	schema_v2,    /* 1 -> 2: adoptions (migration of local users) */
	schema_v3,    /* 2 -> 3: tombstones (users who left the host) */
	schema_v4,    /* 3 -> 4: users.ssh_keys (SSH public keys) */
	schema_v5,    /* 4 -> 5: events_state (the System Log cursor) */
	schema_v6,    /* 5 -> 6: offline_creds, users.password_changed */
};

char *
cache_db_path(const char *dir)
{
	return xasprintf("%s/%s", dir, OKTA_CACHE_DB_NAME);
}

int
cache_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
user_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Bring db to CACHE_SCHEMA_VERSION.  0, or -1 with err. */
static int
migrate(sqlite3 *db, char *err, size_t errlen)
{
	int v, from = -1;
	char sql[64], e[256];

	for (;;) {
		if (cache_exec(db, "BEGIN IMMEDIATE", err, errlen) != 0)
			return -1;
		v = user_version(db);
		if (v < 0 || v > CACHE_SCHEMA_VERSION) {
			snprintf(err, errlen, "cache.db has schema version %d; this "
			    "okta-sync knows versions up to %d", v, CACHE_SCHEMA_VERSION);
			goto fail;
		}
		if (v == CACHE_SCHEMA_VERSION)
			return cache_exec(db, "COMMIT", err, errlen);
		if (cache_exec(db, migrations[v], err, errlen) != 0)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (cache_exec(db, sql, err, errlen) != 0 ||
		    cache_exec(db, "COMMIT", err, errlen) != 0)
			goto fail;
		/* A new file goes through every step: only an existing
		 * file's migration is news. */
		if (from < 0)
			from = v;
		if (from > 0)
			info("cache.db migrated from schema %d to %d", v, v + 1);
	}
fail:
	cache_exec(db, "ROLLBACK", e, sizeof(e));
	return -1;
}

/* Create the file itself, mode 0600, so that SQLite never creates it with
 * the umask's mode (its -wal and -shm files copy this mode). */
static int
create_private(const char *path, char *err, size_t errlen)
{
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0600) != 0) {
		snprintf(err, errlen, "cannot chmod %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* How opening went: OPEN_FAILED leaves the message to the caller ("cannot
 * open", with SQLite's reason); OPEN_ERROR has written err itself. */
enum open_result { OPEN_OK, OPEN_FAILED, OPEN_ERROR };

/*
 * Read-only (a dry run, status): never creates, migrates or locks
 * anything.  *db may be set on failure too (for its message).
 */
static enum open_result
open_read_only(const char *path, sqlite3 **db, char *err, size_t errlen)
{
	char *wal, *uri;
	struct stat sb;
	int v;

	if (stat(path, &sb) != 0) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "cannot read %s: %s", path,
			    strerror(errno));
			return OPEN_ERROR;
		}
		/* No cache yet: an empty one in memory, so that a dry
		 * run plans everything as an addition. */
		if (sqlite3_open(":memory:", db) != SQLITE_OK ||
		    migrate(*db, err, errlen) != 0)
			return OPEN_FAILED;
		return OPEN_OK;
	}
	wal = xasprintf("%s-wal", path);
	/* Without a -wal file the main file is complete: immutable=1
	 * reads it without creating -shm/-wal files or taking locks. */
	uri = sqlite3_mprintf("file:%s?mode=ro%s", path,
	    access(wal, F_OK) == 0 ? "" : "&immutable=1");
	free(wal);
	if (uri == NULL || sqlite3_open_v2(uri, db,
	    SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
		sqlite3_free(uri);
		return OPEN_FAILED;
	}
	sqlite3_free(uri);
	sqlite3_busy_timeout(*db, 10000);
	v = user_version(*db);
	if (v == CACHE_SCHEMA_VERSION)
		return OPEN_OK;
	if (v >= 0 && v < CACHE_SCHEMA_VERSION)
		snprintf(err, errlen, "cache.db has the older schema "
		    "version %d; run a sync to migrate it", v);
	else
		snprintf(err, errlen, "cache.db has schema version %d; "
		    "this okta-sync knows versions up to %d", v,
		    CACHE_SCHEMA_VERSION);
	return OPEN_ERROR;
}

/* Read-write (the sync): creates the directory and a private file, and
 * migrates it to CACHE_SCHEMA_VERSION. */
static enum open_result
open_read_write(const char *dir, const char *path, sqlite3 **db, char *err,
    size_t errlen)
{
	struct stat sb;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return OPEN_ERROR;
	}
	if (stat(path, &sb) != 0) {
		if (create_private(path, err, errlen) != 0)
			return OPEN_ERROR;
	} else if ((sb.st_mode & 077) != 0 && chmod(path, 0600) != 0) {
		/* Root only, whoever loosened it. */
		snprintf(err, errlen, "cannot chmod %s: %s", path, strerror(errno));
		return OPEN_ERROR;
	}
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		return OPEN_FAILED;
	sqlite3_busy_timeout(*db, 10000);
	if (cache_exec(*db, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;"
	    "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16000",
	    err, errlen) != 0)
		return OPEN_ERROR;
	if (migrate(*db, err, errlen) != 0)
		return OPEN_ERROR;
	return OPEN_OK;
}

okerr
cache_open(const char *dir, enum cache_mode mode, sqlite3 **out, char *err,
    size_t errlen)
{
	char *path;
	sqlite3 *db = NULL;
	enum open_result r;
	okerr rc = OK_ERR_CACHE;

	*out = NULL;
	path = cache_db_path(dir);
	if (mode == CACHE_READ_ONLY)
		r = open_read_only(path, &db, err, errlen);
	else
		r = open_read_write(dir, path, &db, err, errlen);
	if (r == OPEN_OK) {
		cache_exec(db, "PRAGMA temp_store = FILE", err, errlen);
		*out = db;
		db = NULL;
		rc = OK_SUCCESS;
	} else if (r == OPEN_FAILED)
		snprintf(err, errlen, "cannot open %s: %s", path,
		    db ? sqlite3_errmsg(db) : "out of memory");
	if (db != NULL)
		sqlite3_close(db);
	free(path);
	return rc;
}

void
cache_close(sqlite3 *db)
{
	if (db != NULL)
		sqlite3_close(db);
}

long long
cache_meta_get_int(sqlite3 *db, const char *key, long long def)
{
	sqlite3_stmt *st;
	long long v = def;

	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1,
	    &st, NULL) != SQLITE_OK)
		return def;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int
cache_meta_set_int(sqlite3 *db, const char *key, long long value)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "INSERT INTO meta(key, value) VALUES (?, ?) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, value);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
cache_last_run(sqlite3 *db, struct cache_run *r)
{
	sqlite3_stmt *st;
	int rc;

	memset(r, 0, sizeof(*r));
	if (sqlite3_prepare_v2(db, "SELECT id, started, finished, requests, "
	    "result, mode, message, users_added, users_modified, users_removed, "
	    "users_unchanged, users_rejected, groups_added, groups_modified, "
	    "groups_removed, groups_unchanged, groups_rejected, "
	    "memberships_added, memberships_removed "
	    "FROM sync_runs ORDER BY id DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r->id = sqlite3_column_int64(st, 0);
		r->started = sqlite3_column_int64(st, 1);
		r->finished = sqlite3_column_int64(st, 2);
		r->requests = sqlite3_column_int64(st, 3);
		snprintf(r->result, sizeof(r->result), "%s",
		    (const char *)sqlite3_column_text(st, 4) ?: "");
		snprintf(r->mode, sizeof(r->mode), "%s",
		    (const char *)sqlite3_column_text(st, 5) ?: "");
		snprintf(r->message, sizeof(r->message), "%s",
		    (const char *)sqlite3_column_text(st, 6) ?: "");
		r->users_added = (unsigned long)sqlite3_column_int64(st, 7);
		r->users_modified = (unsigned long)sqlite3_column_int64(st, 8);
		r->users_removed = (unsigned long)sqlite3_column_int64(st, 9);
		r->users_unchanged = (unsigned long)sqlite3_column_int64(st, 10);
		r->users_rejected = (unsigned long)sqlite3_column_int64(st, 11);
		r->groups_added = (unsigned long)sqlite3_column_int64(st, 12);
		r->groups_modified = (unsigned long)sqlite3_column_int64(st, 13);
		r->groups_removed = (unsigned long)sqlite3_column_int64(st, 14);
		r->groups_unchanged = (unsigned long)sqlite3_column_int64(st, 15);
		r->groups_rejected = (unsigned long)sqlite3_column_int64(st, 16);
		r->memberships_added = (unsigned long)sqlite3_column_int64(st, 17);
		r->memberships_removed = (unsigned long)sqlite3_column_int64(st, 18);
		rc = 1;
	} else
		rc = rc == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

long long
cache_count(sqlite3 *db, const char *table)
{
	static const char *const known[] = { "users", "groups", "memberships",
	    "allocations", "rejects", "sync_runs", "adoptions", "tombstones",
	    "offline_creds" };
	sqlite3_stmt *st;
	char sql[64];
	long long n = -1;
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(table, known[i]) == 0)
			break;
	if (i == sizeof(known) / sizeof(known[0]))
		return -1;
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", known[i]);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}
