/* test_adopt.c - adoptions of local accounts (syncd/engine/adopt.h): which IDs may
 * be adopted, the sync's view of an adoption against the local files, the
 * IDs it claims, and the cache schema's own guard. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "adopt.h"
#include "cache.h"
#include "plan.h"

static char dir[] = "/tmp/test_adopt.XXXXXX";

TEST(ids_allowed)
{
	ASSERT(!adopt_id_allowed(0));
	ASSERT(!adopt_id_allowed(1));
	ASSERT(!adopt_id_allowed(999));
	ASSERT(adopt_id_allowed(1000));
	ASSERT(adopt_id_allowed(1500));
	ASSERT(adopt_id_allowed(60000));
	ASSERT(!adopt_id_allowed(65534));
	ASSERT(!adopt_id_allowed(65535));
	ASSERT(adopt_id_allowed(65536));
	ASSERT(!adopt_id_allowed(UINT32_MAX));
	ASSERT(!adopt_id_allowed(UINT32_MAX - 1));
}

static sqlite3 *
fresh_db(void)
{
	sqlite3 *db = NULL;
	char err[256], path[300];

	snprintf(path, sizeof(path), "%s/cache.db", dir);
	unlink(path);
	if (cache_open(dir, CACHE_READ_WRITE, &db, err, sizeof(err)) != OK_SUCCESS)
		return NULL;
	if (plan_setup(db, err, sizeof(err)) != 0 ||
	    cache_exec(db, "INSERT INTO adoptions (okta_id, name, uid, gid, home,"
	    " adopted) VALUES ('00ujane', 'jane', 1500, 1500, '/home/jane', 1),"
	    " ('00ubob', 'bob', 1700, 1800, NULL, 1)", err, sizeof(err)) != 0) {
		cache_close(db);
		return NULL;
	}
	return db;
}

static struct passwd
pw(const char *name, uid_t uid, gid_t gid)
{
	struct passwd p;

	memset(&p, 0, sizeof(p));
	p.pw_name = (char *)(uintptr_t)name;
	p.pw_uid = uid;
	p.pw_gid = gid;
	return p;
}

TEST(schema_refuses_system_ids)
{
	sqlite3 *db = fresh_db();
	char err[256];

	ASSERT(db != NULL);
	ASSERT(cache_exec(db, "INSERT INTO adoptions (okta_id, name, uid, gid,"
	    " adopted) VALUES ('00uroot', 'root', 0, 0, 1)", err, sizeof(err)) != 0);
	ASSERT(cache_exec(db, "INSERT INTO adoptions (okta_id, name, uid, gid,"
	    " adopted) VALUES ('00ux', 'x', 2000, 10, 1)", err, sizeof(err)) != 0);
	/* One UID is adopted once. */
	ASSERT(cache_exec(db, "INSERT INTO adoptions (okta_id, name, uid, gid,"
	    " adopted) VALUES ('00uy', 'y', 1500, 1500, 1)", err, sizeof(err)) != 0);
	ASSERT_INT_EQ(cache_count(db, "adoptions"), 2);
	cache_close(db);
}

TEST(stage_claims_adopted_ids)
{
	sqlite3 *db = fresh_db();
	struct adopt_set *a = NULL;
	struct idalloc *ids = idalloc_new();
	const struct adoption *e;
	const char *owner = NULL;
	struct passwd p;
	char err[256];

	ASSERT(db != NULL);
	ASSERT(adopt_load(db, &a, err, sizeof(err)) == 0);
	p = pw("jane", 1500, 1500);
	ASSERT_INT_EQ(adopt_note_local_user(a, &p), ADOPT_OWN_UID | ADOPT_OWN_GID);
	/* Another user sharing jane's group: the GID is not reserved. */
	p = pw("carol", 1501, 1500);
	ASSERT_INT_EQ(adopt_note_local_user(a, &p), ADOPT_OWN_GID);
	idalloc_reserve_local(ids, 1501);
	p = pw("alice", 1000, 1000);
	ASSERT_INT_EQ(adopt_note_local_user(a, &p), 0);
	idalloc_reserve_local(ids, 1000);
	ASSERT(adopt_stage(a, db, ids, err, sizeof(err)) == 0);
	e = adopt_find(a, "00ujane");
	ASSERT(e != NULL && e->reason == NULL && e->uid == 1500 && e->gid == 1500);
	ASSERT_INT_EQ(idalloc_owner(ids, 1500, &owner), 2);
	ASSERT_STR_EQ(owner, "00ujane");
	/* bob (gone locally): his UID and his other GID are his. */
	e = adopt_find(a, "00ubob");
	ASSERT(e != NULL && e->reason == NULL);
	ASSERT_INT_EQ(idalloc_owner(ids, 1700, &owner), 2);
	ASSERT_STR_EQ(owner, "00ubob");
	ASSERT_INT_EQ(idalloc_owner(ids, 1800, &owner), 2);
	ASSERT_STR_EQ(owner, "00ubob");
	ASSERT(adopt_find(a, "00unobody") == NULL);
	adopt_free(a);
	idalloc_free(ids);
	cache_close(db);
}

TEST(stage_rejects_changed_local_accounts)
{
	sqlite3 *db = fresh_db();
	struct adopt_set *a = NULL;
	struct idalloc *ids = idalloc_new();
	const struct adoption *e;
	struct passwd p;
	char err[256];

	ASSERT(db != NULL);
	ASSERT(adopt_load(db, &a, err, sizeof(err)) == 0);
	/* jane recreated with another UID. */
	p = pw("jane", 1600, 1600);
	ASSERT_INT_EQ(adopt_note_local_user(a, &p), 0);
	idalloc_reserve_local(ids, 1600);
	/* Someone else on bob's UID. */
	p = pw("mallory", 1700, 1700);
	ASSERT_INT_EQ(adopt_note_local_user(a, &p), 0);
	idalloc_reserve_local(ids, 1700);
	ASSERT(adopt_stage(a, db, ids, err, sizeof(err)) == 0);
	e = adopt_find(a, "00ujane");
	ASSERT(e != NULL && e->reason != NULL);
	ASSERT(strstr(e->reason, "now has UID 1600, not the adopted UID 1500"));
	e = adopt_find(a, "00ubob");
	ASSERT(e != NULL && e->reason != NULL);
	ASSERT(strstr(e->reason, "UID 1700 now belongs to another local account"));
	/* The local account keeps its UID. */
	ASSERT_INT_EQ(idalloc_owner(ids, 1700, NULL), 1);
	adopt_free(a);
	idalloc_free(ids);
	cache_close(db);
}

TEST(record_refuses_what_cannot_be_adopted)
{
	sqlite3 *db = fresh_db();
	struct adopt_candidate cd;
	char err[256];

	ASSERT(db != NULL);
	memset(&cd, 0, sizeof(cd));
	cd.state = ADOPT_CANNOT;
	cd.name = (char *)(uintptr_t)"daemon";
	cd.okta_id = (char *)(uintptr_t)"00udaemon";
	cd.uid = cd.gid = 1;
	ASSERT(adopt_record(db, &cd, 5, err, sizeof(err)) != 0);
	cd.state = ADOPT_CAN;
	ASSERT(adopt_record(db, &cd, 5, err, sizeof(err)) != 0);
	cd.uid = cd.gid = 2500;
	ASSERT(adopt_record(db, &cd, 5, err, sizeof(err)) == 0);
	ASSERT_INT_EQ(cache_count(db, "adoptions"), 3);
	cache_close(db);
}

int
main(void)
{
	int rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(ids_allowed);
	RUN(schema_refuses_system_ids);
	RUN(stage_claims_adopted_ids);
	RUN(stage_rejects_changed_local_accounts);
	RUN(record_refuses_what_cannot_be_adopted);
	rc = test_done();
	if (test_rmtree(dir) != 0)
		rc = 1;
	return rc;
}
