/*
 * tombstone.c - the tombstones table of cache.db (see tombstone.h).
 *
 * All of it is SQL over the cache connection, like the plan: departures
 * are the cached users the staged plan does not keep on the host, found
 * with the same tests the plan's "removed" list uses (plan.c), so the
 * tombstone's reason is the one the plan printed.
 */
#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "tombstone.h"

/* meta key: 1 when the last apply ran under deprovisioned = remove, 0
 * under keep (absent before the first apply of schema 3). */
#define META_DEP_REMOVE "tomb_deprovisioned_remove"

/* The longest reason published (a reject reason may quote Okta's text). */
#define TOMB_WHY_MAX 256

static long long
keep_seconds(const struct config *c)
{
	return (long long)c->tombstone_days * 86400;
}

/* Run sql with ?1 = now, ?2 = 1 under deprovisioned = remove, ?3 = the
 * expiry cutoff, ?4 = 1 under members_only (up to the highest parameter
 * sql names).  0 or -1. */
static int
run(sqlite3 *db, const char *sql, const struct config *c, long long now,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc, n;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	n = sqlite3_bind_parameter_count(st);
	if (n >= 1)
		sqlite3_bind_int64(st, 1, now);
	if (n >= 2)
		sqlite3_bind_int(st, 2, c->deprovisioned == DEPROVISIONED_REMOVE);
	if (n >= 3)
		sqlite3_bind_int64(st, 3, now - keep_seconds(c));
	if (n >= 4)
		sqlite3_bind_int(st, 4, c->members_only != 0);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
fail:
	snprintf(err, errlen, "recording tombstones: %s", sqlite3_errmsg(db));
	return -1;
}

/*
 * The cached users the plan removes, with the reason the plan gives
 * (plan.c's removal_reason): rejected while in scope, seen but out of
 * scope, or not seen at all.  With members_only the users come from the
 * synced groups' member listings, so one not seen has left those groups
 * (deleted from Okta or not): out of scope.  A user already off the host
 * (deprovisioned under remove) is not departing again.
 */
static const char departed_sql[] =
    "INSERT INTO main.tombstones (okta_id, name, uid, left_at, reason, why)"
    " SELECT u.okta_id, u.name, u.uid, ?1,"
    "  CASE WHEN x.reject IS NOT NULL AND x.in_scope THEN 4"
    "   WHEN x.okta_id IS NOT NULL OR ?4 THEN 2 ELSE 1 END,"
    "  CASE WHEN x.reject IS NOT NULL AND x.in_scope THEN x.reject"
    "   WHEN x.okta_id IS NOT NULL THEN 'no longer in the synced groups'"
    "   WHEN ?4 THEN 'no longer a member of the synced groups"
    " (or no longer in Okta)'"
    "   ELSE 'no longer in Okta (deleted, or not visible to the token)' END"
    " FROM main.users u LEFT JOIN s_users x ON x.okta_id = u.okta_id"
    " WHERE NOT EXISTS (SELECT 1 FROM v_users s WHERE s.okta_id = u.okta_id)"
    " AND NOT (?2 AND u.status = 'DEPROVISIONED')"
    " ON CONFLICT (okta_id) DO NOTHING";

/* Deprovisioned under remove: still cached, no longer published.  The
 * name and UID are the ones the host had. */
static const char deprovisioned_sql[] =
    "INSERT INTO main.tombstones (okta_id, name, uid, left_at, reason, why)"
    " SELECT u.okta_id, u.name, u.uid, ?1, 3,"
    "  'deprovisioned in Okta ([sync] deprovisioned = remove)'"
    " FROM v_users s JOIN main.users u ON u.okta_id = s.okta_id"
    " WHERE ?2 AND s.status = 'DEPROVISIONED'"
    " AND u.status IS NOT 'DEPROVISIONED'"
    " ON CONFLICT (okta_id) DO NOTHING";

/* The policy went from keep to remove: every cached DEPROVISIONED user
 * was published and is not any more. */
static const char policy_sql[] =
    "INSERT INTO main.tombstones (okta_id, name, uid, left_at, reason, why)"
    " SELECT u.okta_id, u.name, u.uid, ?1, 3,"
    "  'deprovisioned in Okta ([sync] deprovisioned = remove)'"
    " FROM v_users s JOIN main.users u ON u.okta_id = s.okta_id"
    " WHERE ?2 AND s.status = 'DEPROVISIONED'"
    " ON CONFLICT (okta_id) DO NOTHING";

/* Published again: no longer a tombstone.  A look-up by key per
 * tombstone (there are few), where "okta_id IN (SELECT ...)" first
 * collected every staged user's id (100,000 in a large org). */
static const char returned_sql[] =
    "DELETE FROM main.tombstones WHERE EXISTS (SELECT 1 FROM v_users s"
    " WHERE s.okta_id = tombstones.okta_id"
    " AND NOT (?2 AND s.status = 'DEPROVISIONED'))";

static const char expire_sql[] =
    "DELETE FROM main.tombstones WHERE left_at <= ?3";

int
tomb_record(sqlite3 *db, const struct config *c, long long now, char *err,
    size_t errlen)
{
	int remove = c->deprovisioned == DEPROVISIONED_REMOVE;
	long long before = cache_meta_get_int(db, META_DEP_REMOVE, -1);

	if (run(db, departed_sql, c, now, err, errlen) != 0 ||
	    run(db, deprovisioned_sql, c, now, err, errlen) != 0)
		return -1;
	if (remove && before == 0 &&
	    run(db, policy_sql, c, now, err, errlen) != 0)
		return -1;
	if (run(db, returned_sql, c, now, err, errlen) != 0 ||
	    run(db, expire_sql, c, now, err, errlen) != 0)
		return -1;
	if (cache_meta_set_int(db, META_DEP_REMOVE, remove) != 0) {
		snprintf(err, errlen, "recording tombstones: %s",
		    sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/*
 * The reason as the snapshot may carry it: a reject reason quotes Okta's
 * text, and the writer refuses ':' and newlines (as the reader would), so
 * those become ';' and spaces, and it is cut to fit out.
 */
static const char *
clean_why(const char *why, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; why[i] != '\0' && i + 1 < outlen; i++) {
		unsigned char ch = (unsigned char)why[i];

		out[i] = ch == ':' ? ';' : (ch < 0x20 || ch == 0x7f) ? ' ' :
		    (char)ch;
	}
	out[i] = '\0';
	return out;
}

/*
 * What is published: not expired (also between syncs, should the apply's
 * deletion not have run yet), no published user of that name (the
 * returned_sql deletion covers the same user; this covers another Okta
 * user who took the name), and of several tombstones of one name the
 * newest.  ?2 remove, ?3 cutoff.
 */
static const char publish_sql[] =
    "SELECT t.name, t.uid, t.reason, t.left_at, t.why FROM main.tombstones t"
    " WHERE t.left_at > ?3"
    " AND NOT EXISTS (SELECT 1 FROM main.users u WHERE u.name = t.name"
    "  AND NOT (?2 AND u.status = 'DEPROVISIONED'))"
    " AND NOT EXISTS (SELECT 1 FROM main.tombstones o WHERE o.name = t.name"
    "  AND (o.left_at > t.left_at OR (o.left_at = t.left_at"
    "  AND o.okta_id > t.okta_id)))"
    " ORDER BY t.name";

int
tomb_for_each(sqlite3 *db, const struct config *c, long long now,
    int (*fn)(void *ctx, const struct snap_tombstone *t), void *ctx,
    char *err, size_t errlen)
{
	struct snap_tombstone t;
	char why[TOMB_WHY_MAX];
	sqlite3_stmt *st;
	long long reason;
	int r, rc = 0;

	if (sqlite3_prepare_v2(db, publish_sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int(st, 2, c->deprovisioned == DEPROVISIONED_REMOVE);
	sqlite3_bind_int64(st, 3, now - keep_seconds(c));
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&t, 0, sizeof(t));
		t.name = (const char *)sqlite3_column_text(st, 0);
		t.uid = (uint32_t)sqlite3_column_int64(st, 1);
		reason = sqlite3_column_int64(st, 2);
		t.reason = reason >= 0 && reason <= SNAP_TOMB_REASON_MAX ?
		    (enum snap_tomb_reason)reason : SNAP_TOMB_OTHER;
		t.left_at = sqlite3_column_int64(st, 3);
		t.expires = t.left_at + keep_seconds(c);
		t.why = (const char *)sqlite3_column_text(st, 4);
		if (t.name == NULL)
			continue;
		t.why = clean_why(t.why != NULL ? t.why : "", why, sizeof(why));
		if ((rc = fn(ctx, &t)) != 0)
			break;
	}
	if (rc == 0 && r != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	return rc;
fail:
	snprintf(err, errlen, "reading the tombstones: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return -1;
}

static int
count_one(void *ctx, const struct snap_tombstone *t)
{
	(void)t;
	(*(long long *)ctx)++;
	return 0;
}

long long
tomb_count(sqlite3 *db, const struct config *c, long long now)
{
	long long n = 0;
	char err[256];

	if (tomb_for_each(db, c, now, count_one, &n, err, sizeof(err)) != 0)
		return -1;
	return n;
}

long long
tomb_plan_count(sqlite3 *db, const struct config *c)
{
	sqlite3_stmt *st;
	long long n = -1;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM main.users u"
	    " WHERE NOT (?1 AND u.status = 'DEPROVISIONED') AND (NOT EXISTS"
	    " (SELECT 1 FROM v_users s WHERE s.okta_id = u.okta_id)"
	    " OR EXISTS (SELECT 1 FROM v_users s WHERE s.okta_id = u.okta_id"
	    " AND ?1 AND s.status = 'DEPROVISIONED'))", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, c->deprovisioned == DEPROVISIONED_REMOVE);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

void
tomb_print_plan(sqlite3 *db, const struct config *c, FILE *out, int json)
{
	long long n = tomb_plan_count(db, c);

	if (out == NULL || n < 0)
		return;
	if (json)
		fprintf(out, ",\"tombstones\":{\"new\":%lld,\"days\":%ld}", n,
		    c->tombstone_days);
	else if (n > 0)
		fprintf(out, "tombstones: %lld new (users who leave the host; "
		    "pam_okta denies them for %ld days)\n", n, c->tombstone_days);
}
