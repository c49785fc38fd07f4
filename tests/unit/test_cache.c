/* test_cache.c - cache.db creation, modes, schema version, read-only
 * opening, the 5 -> 6 migration, and the plan diff/apply over the staging
 * tables (syncd/engine/cache.h, syncd/engine/plan.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "cache.h"
#include "plan.h"

static char dir[] = "/tmp/test_cache.XXXXXX";

static int
exists(const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

TEST(read_only_missing_creates_nothing)
{
	sqlite3 *db = NULL;
	char err[256], sub[300];

	snprintf(sub, sizeof(sub), "%s/none", dir);
	ASSERT_INT_EQ(cache_open(sub, CACHE_READ_ONLY, &db, err, sizeof(err)), OK_SUCCESS);
	ASSERT_INT_EQ(cache_count(db, "users"), 0);
	cache_close(db);
	ASSERT(access(sub, F_OK) != 0);
}

TEST(create_mode_and_version)
{
	sqlite3 *db = NULL;
	char err[256], path[300];
	struct stat sb;

	ASSERT_INT_EQ(cache_open(dir, CACHE_READ_WRITE, &db, err, sizeof(err)), OK_SUCCESS);
	snprintf(path, sizeof(path), "%s/cache.db", dir);
	ASSERT(stat(path, &sb) == 0);
	ASSERT_INT_EQ(sb.st_mode & 0777, 0600);
	ASSERT_INT_EQ(cache_meta_get_int(db, "generation", 7), 7);
	ASSERT(cache_meta_set_int(db, "generation", 3) == 0);
	ASSERT_INT_EQ(cache_meta_get_int(db, "generation", 7), 3);
	ASSERT_INT_EQ(cache_count(db, "allocations"), 0);
	ASSERT_INT_EQ(cache_count(db, "no_such_table; DROP TABLE users"), -1);
	cache_close(db);
	ASSERT(!exists("cache.db-wal"));
	/* Reopen read-only: immutable, no -shm/-wal appear. */
	ASSERT_INT_EQ(cache_open(dir, CACHE_READ_ONLY, &db, err, sizeof(err)), OK_SUCCESS);
	ASSERT_INT_EQ(cache_meta_get_int(db, "generation", 7), 3);
	ASSERT(!exists("cache.db-shm"));
	cache_close(db);
}

TEST(newer_schema_refused)
{
	sqlite3 *db = NULL;
	char err[256];

	ASSERT_INT_EQ(cache_open(dir, CACHE_READ_WRITE, &db, err, sizeof(err)), OK_SUCCESS);
	ASSERT(cache_exec(db, "PRAGMA user_version = 99", err, sizeof(err)) == 0);
	cache_close(db);
	ASSERT_INT_EQ(cache_open(dir, CACHE_READ_WRITE, &db, err, sizeof(err)), OK_ERR_CACHE);
	ASSERT(strstr(err, "99") != NULL);
	ASSERT_INT_EQ(cache_open(dir, CACHE_READ_ONLY, &db, err, sizeof(err)), OK_ERR_CACHE);
	ASSERT_INT_EQ(cache_open(dir, CACHE_READ_WRITE, &db, err, sizeof(err)) == OK_SUCCESS, 0);
	/* Put it back for the next cases. */
	{
		char path[300];

		snprintf(path, sizeof(path), "%s/cache.db", dir);
		unlink(path);
	}
}

static int
stage(sqlite3 *db, const char *sql)
{
	char err[256];

	if (cache_exec(db, sql, err, sizeof(err)) != 0) {
		fprintf(stderr, "  %s\n", err);
		return -1;
	}
	return 0;
}

#define STAGE_USERS \
	"INSERT INTO s_users (okta_id, name, uid, gid, gecos, home, shell, status)" \
	" VALUES ('00u1', 'jane', 2000000001, 2000000001, 'Jane', '/home/jane'," \
	" '/bin/bash', 'ACTIVE'), ('00u2', 'bob', 2000000002, 2000000002, 'Bob'," \
	" '/home/bob', '/bin/bash', 'ACTIVE');" \
	"INSERT INTO s_groups (okta_id, okta_name, name, gid) VALUES" \
	" ('00g1', 'Eng', 'eng', 2000000100);" \
	"INSERT INTO s_members VALUES ('00g1', '00u1'), ('00g1', '00u2');"

TEST(plan_diff_and_apply)
{
	sqlite3 *db = NULL;
	char err[256];
	struct plan_counts pc;

	ASSERT_INT_EQ(cache_open(dir, CACHE_READ_WRITE, &db, err, sizeof(err)), OK_SUCCESS);
	ASSERT(plan_setup(db, err, sizeof(err)) == 0);
	ASSERT(stage(db, STAGE_USERS) == 0);
	ASSERT(plan_finish_staging(db, err, sizeof(err)) == 0);
	ASSERT(plan_count(db, &pc, err, sizeof(err)) == 0);
	ASSERT_INT_EQ(pc.users.added, 2);
	ASSERT_INT_EQ(pc.groups.added, 1);
	ASSERT_INT_EQ(pc.memberships_added, 2);
	ASSERT(stage(db, "BEGIN IMMEDIATE") == 0);
	ASSERT(plan_apply(db, &pc, 1, err, sizeof(err)) == 0);
	ASSERT(stage(db, "COMMIT") == 0);
	ASSERT_INT_EQ(cache_count(db, "users"), 2);
	ASSERT_INT_EQ(cache_count(db, "memberships"), 2);
	cache_close(db);

	/* Next run: bob's shell changes, jane is rejected, a new member. */
	ASSERT_INT_EQ(cache_open(dir, CACHE_READ_WRITE, &db, err, sizeof(err)), OK_SUCCESS);
	ASSERT(plan_setup(db, err, sizeof(err)) == 0);
	ASSERT(stage(db, STAGE_USERS
	    "UPDATE s_users SET shell = '/bin/sh' WHERE okta_id = '00u2';"
	    "UPDATE s_users SET reject = 'a reason' WHERE okta_id = '00u1';"
	    "INSERT INTO s_users (okta_id, name, uid, gid, gecos, home, shell,"
	    " status) VALUES ('00u3', 'carl', 2000000003, 2000000003, 'C',"
	    " '/home/carl', '/bin/bash', 'SUSPENDED');"
	    "INSERT INTO s_members VALUES ('00g1', '00u3');") == 0);
	ASSERT(plan_finish_staging(db, err, sizeof(err)) == 0);
	ASSERT(plan_count(db, &pc, err, sizeof(err)) == 0);
	ASSERT_INT_EQ(pc.users.added, 1);
	ASSERT_INT_EQ(pc.users.modified, 1);
	ASSERT_INT_EQ(pc.users.removed, 1);
	ASSERT_INT_EQ(pc.users.unchanged, 0);
	ASSERT_INT_EQ(pc.users.rejected, 1);
	ASSERT_INT_EQ(pc.groups.unchanged, 1);
	ASSERT_INT_EQ(pc.memberships_added, 1);
	ASSERT_INT_EQ(pc.memberships_removed, 1);
	ASSERT(stage(db, "BEGIN IMMEDIATE") == 0);
	ASSERT(plan_apply(db, &pc, 2, err, sizeof(err)) == 0);
	ASSERT(stage(db, "COMMIT") == 0);
	ASSERT_INT_EQ(cache_count(db, "users"), 2);
	ASSERT_INT_EQ(cache_count(db, "rejects"), 1);
	ASSERT_INT_EQ(cache_count(db, "memberships"), 2);
	cache_close(db);
}

/* One text column of one row (or "(null)" / "(none)"). */
static void
text1(sqlite3 *db, const char *sql, char *out, size_t outlen)
{
	sqlite3_stmt *st;

	snprintf(out, outlen, "(none)");
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, outlen, "%s", sqlite3_column_type(st, 0) ==
		    SQLITE_NULL ? "(null)" : (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/*
 * Schema 5 -> 6 (issue 11): a file as okta-sync 5 left it gains
 * offline_creds and users.password_changed (NULL for the users it
 * has), keeps its users, and the sync then stores passwordChanged even
 * for a user otherwise unchanged (no "modified" in the plan for it).
 */
TEST(migration_5_to_6)
{
	sqlite3 *db = NULL;
	char err[256], sub[300], v[128];
	struct plan_counts pc;

	snprintf(sub, sizeof(sub), "%s/m56", dir);
	ASSERT_INT_EQ(cache_open(sub, CACHE_READ_WRITE, &db, err, sizeof(err)), OK_SUCCESS);
	ASSERT(stage(db, "DROP TABLE offline_creds;"
	    "ALTER TABLE users DROP COLUMN password_changed;"
	    "INSERT INTO users (okta_id, name, uid, gid, gecos, home, shell,"
	    " status) VALUES ('00u1', 'jane', 2000000001, 2000000001, 'Jane',"
	    " '/home/jane', '/bin/bash', 'ACTIVE');"
	    "PRAGMA user_version = 5") == 0);
	cache_close(db);
	/* Read-only does not migrate: it says what to do. */
	ASSERT_INT_EQ(cache_open(sub, CACHE_READ_ONLY, &db, err, sizeof(err)), OK_ERR_CACHE);
	ASSERT(strstr(err, "older schema version 5") != NULL);
	ASSERT_INT_EQ(cache_open(sub, CACHE_READ_WRITE, &db, err, sizeof(err)), OK_SUCCESS);
	text1(db, "PRAGMA user_version", v, sizeof(v));
	ASSERT_STR_EQ(v, "6");
	ASSERT_INT_EQ(cache_count(db, "users"), 1);
	ASSERT_INT_EQ(cache_count(db, "offline_creds"), 0);
	text1(db, "SELECT password_changed FROM users", v, sizeof(v));
	ASSERT_STR_EQ(v, "(null)");
	ASSERT(stage(db, "INSERT INTO offline_creds (okta_id, hash, stored_at)"
	    " VALUES ('00u1', '$y$x', 5)") == 0);
	text1(db, "SELECT failures || ',' || last_failure FROM offline_creds", v,
	    sizeof(v));
	ASSERT_STR_EQ(v, "0,0");
	ASSERT(stage(db, "INSERT INTO offline_creds (okta_id, hash) VALUES"
	    " ('00u2', '$y$x')") != 0);               /* stored_at NOT NULL */

	ASSERT(plan_setup(db, err, sizeof(err)) == 0);
	ASSERT(stage(db, "INSERT INTO s_users (okta_id, name, uid, gid, gecos,"
	    " home, shell, status, password_changed) VALUES ('00u1', 'jane',"
	    " 2000000001, 2000000001, 'Jane', '/home/jane', '/bin/bash',"
	    " 'ACTIVE', '2026-11-30T01:02:03.000Z')") == 0);
	ASSERT(plan_finish_staging(db, err, sizeof(err)) == 0);
	ASSERT(plan_count(db, &pc, err, sizeof(err)) == 0);
	ASSERT_INT_EQ(pc.users.unchanged, 1);
	ASSERT_INT_EQ(pc.users.modified, 0);
	ASSERT(stage(db, "BEGIN IMMEDIATE") == 0);
	ASSERT(plan_apply(db, &pc, 1, err, sizeof(err)) == 0);
	ASSERT(stage(db, "COMMIT") == 0);
	text1(db, "SELECT password_changed FROM users", v, sizeof(v));
	ASSERT_STR_EQ(v, "2026-11-30T01:02:03.000Z");
	cache_close(db);
}

int
main(void)
{
	int rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(read_only_missing_creates_nothing);
	RUN(create_mode_and_version);
	RUN(newer_schema_refused);
	RUN(plan_diff_and_apply);
	RUN(migration_5_to_6);
	rc = test_done();
	if (test_rmtree(dir) != 0)
		rc = 1;
	return rc;
}
