/*
 * plan.c - staging tables, the diff against the cache, printing the plan
 * as a table or JSON, and applying it (see plan.h).
 *
 * Everything is SQL over the cache connection: the diff of 100,000 users
 * is a few joins, and no list of the directory is ever held in memory.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "cache.h"
#include "names.h"
#include "textout.h"
#include "plan.h"

/*
 * The TEMP schema keeps no rollback journal: its content is thrown away
 * whenever a step fails, so journaling every page the validation touches
 * would only cost time.
 */
static const char staging_sql[] =
    "PRAGMA temp.journal_mode = OFF;"
    "PRAGMA temp.cache_size = -8000;"
    "CREATE TEMP TABLE s_users ("
    " okta_id TEXT PRIMARY KEY NOT NULL, name TEXT, uid INTEGER, gid INTEGER,"
    " gecos TEXT, home TEXT, shell TEXT, status TEXT, login TEXT, email TEXT,"
    " first_name TEXT, last_name TEXT, last_updated TEXT, uid_attr INTEGER,"
    " in_scope INTEGER NOT NULL DEFAULT 1, reject TEXT) WITHOUT ROWID;"
    "CREATE TEMP TABLE s_groups ("
    " okta_id TEXT PRIMARY KEY NOT NULL, okta_name TEXT, name TEXT,"
    " gid INTEGER, gid_attr INTEGER, last_updated TEXT,"
    " last_membership_updated TEXT, reject TEXT) WITHOUT ROWID;"
    "CREATE TEMP TABLE s_members (group_id TEXT NOT NULL,"
    " user_id TEXT NOT NULL, PRIMARY KEY (group_id, user_id)) WITHOUT ROWID;"
    "CREATE TEMP TABLE s_bad (kind TEXT, okta_id TEXT, okta_name TEXT,"
    " reason TEXT);"
    "CREATE TEMP TABLE s_alloc (id INTEGER PRIMARY KEY, okta_id TEXT NOT NULL,"
    " kind TEXT NOT NULL);"
    "CREATE TEMP TABLE local_users (name TEXT PRIMARY KEY) WITHOUT ROWID;"
    "CREATE TEMP TABLE local_groups (name TEXT PRIMARY KEY) WITHOUT ROWID;"
    "CREATE TEMP VIEW v_users AS SELECT * FROM s_users"
    " WHERE reject IS NULL AND in_scope;"
    "CREATE TEMP VIEW v_groups AS SELECT * FROM s_groups WHERE reject IS NULL;";

int
plan_setup(sqlite3 *db, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, staging_sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "cannot create the staging tables: %s",
		    msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static long long count1(sqlite3 *db, const char *sql, int *failed);

int
plan_finish_staging(sqlite3 *db, char *err, size_t errlen)
{
	int failed = 0;

	/*
	 * Filtering in place rather than into a copy keeps the TEMP data
	 * (half a million rows for a large org) from doubling.  Rejected
	 * groups' rows go by primary-key prefix; the scan for rejected users'
	 * rows happens only when there are any.
	 */
	if (cache_exec(db, "DELETE FROM s_members WHERE group_id IN"
	    " (SELECT okta_id FROM s_groups WHERE reject IS NOT NULL)",
	    err, errlen) != 0)
		return -1;
	if (count1(db, "SELECT EXISTS (SELECT 1 FROM s_users"
	    " WHERE reject IS NOT NULL OR NOT in_scope)", &failed) == 0) {
		if (failed) {
			snprintf(err, errlen, "%s", sqlite3_errmsg(db));
			return -1;
		}
		return 0;
	}
	return cache_exec(db, "DELETE FROM s_members WHERE user_id IN"
	    " (SELECT okta_id FROM s_users WHERE reject IS NOT NULL"
	    " OR NOT in_scope)", err, errlen);
}

/* The WHERE clause that makes a staged user differ from its cached row. */
#define USER_DIFFERS \
	"(s.name IS NOT u.name OR s.uid IS NOT u.uid OR s.gid IS NOT u.gid" \
	" OR s.gecos IS NOT u.gecos OR s.home IS NOT u.home" \
	" OR s.shell IS NOT u.shell OR s.status IS NOT u.status)"
#define GROUP_DIFFERS \
	"(s.name IS NOT g.name OR s.gid IS NOT g.gid" \
	" OR s.okta_name IS NOT g.okta_name)"

static long long
count1(sqlite3 *db, const char *sql, int *failed)
{
	sqlite3_stmt *st;
	long long n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		*failed = 1;
		return 0;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (n < 0) {
		*failed = 1;
		return 0;
	}
	return n;
}

int
plan_count(sqlite3 *db, struct plan_counts *pc, char *err, size_t errlen)
{
	int failed = 0;
	unsigned long joined;

	memset(pc, 0, sizeof(*pc));
	pc->cached_users = (unsigned long)count1(db,
	    "SELECT count(*) FROM main.users", &failed);
	pc->users.added = (unsigned long)count1(db,
	    "SELECT count(*) FROM v_users s WHERE NOT EXISTS"
	    " (SELECT 1 FROM main.users u WHERE u.okta_id = s.okta_id)", &failed);
	joined = (unsigned long)count1(db,
	    "SELECT count(*) FROM v_users s JOIN main.users u"
	    " ON u.okta_id = s.okta_id", &failed);
	pc->users.modified = (unsigned long)count1(db,
	    "SELECT count(*) FROM v_users s JOIN main.users u"
	    " ON u.okta_id = s.okta_id WHERE " USER_DIFFERS, &failed);
	pc->users.unchanged = joined - pc->users.modified;
	pc->users.removed = pc->cached_users - joined;
	pc->users.rejected = (unsigned long)count1(db,
	    "SELECT (SELECT count(*) FROM s_users WHERE reject IS NOT NULL"
	    " AND in_scope) + (SELECT count(*) FROM s_bad WHERE kind = 'user')",
	    &failed);

	pc->groups.added = (unsigned long)count1(db,
	    "SELECT count(*) FROM v_groups s WHERE NOT EXISTS"
	    " (SELECT 1 FROM main.groups g WHERE g.okta_id = s.okta_id)", &failed);
	joined = (unsigned long)count1(db,
	    "SELECT count(*) FROM v_groups s JOIN main.groups g"
	    " ON g.okta_id = s.okta_id", &failed);
	pc->groups.modified = (unsigned long)count1(db,
	    "SELECT count(*) FROM v_groups s JOIN main.groups g"
	    " ON g.okta_id = s.okta_id WHERE " GROUP_DIFFERS, &failed);
	pc->groups.unchanged = joined - pc->groups.modified;
	pc->groups.removed = (unsigned long)count1(db,
	    "SELECT count(*) FROM main.groups", &failed) - joined;
	pc->groups.rejected = (unsigned long)count1(db,
	    "SELECT (SELECT count(*) FROM s_groups WHERE reject IS NOT NULL)"
	    " + (SELECT count(*) FROM s_bad WHERE kind = 'group')", &failed);

	/* One pass over the (large) membership tables: added and removed
	 * follow from both sizes and the size of their intersection. */
	joined = (unsigned long)count1(db,
	    "SELECT count(*) FROM s_members m JOIN main.memberships x"
	    " ON x.group_id = m.group_id AND x.user_id = m.user_id", &failed);
	pc->memberships_added = (unsigned long)count1(db,
	    "SELECT count(*) FROM s_members", &failed) - joined;
	pc->memberships_removed = (unsigned long)count1(db,
	    "SELECT count(*) FROM main.memberships", &failed) - joined;
	if (failed) {
		snprintf(err, errlen, "cannot compute the plan: %s",
		    sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* ---- The queries both printers walk -------------------------------- */

static const char q_users_added[] =
    "SELECT s.okta_id, s.name, s.uid, s.gid, s.gecos, s.home, s.shell,"
    " s.status, s.login FROM v_users s WHERE NOT EXISTS"
    " (SELECT 1 FROM main.users u WHERE u.okta_id = s.okta_id)"
    " ORDER BY s.name, s.okta_id";
static const char q_users_modified[] =
    "SELECT s.okta_id, s.name, u.name, s.uid, u.uid, s.gid, u.gid,"
    " s.gecos, u.gecos, s.home, u.home, s.shell, u.shell, s.status, u.status"
    " FROM v_users s JOIN main.users u ON u.okta_id = s.okta_id"
    " WHERE " USER_DIFFERS " ORDER BY s.name, s.okta_id";
static const char q_users_removed[] =
    "SELECT u.okta_id, u.name, u.uid,"
    " (SELECT x.reject FROM s_users x WHERE x.okta_id = u.okta_id"
    "  AND x.in_scope),"
    " (SELECT count(*) FROM s_users x WHERE x.okta_id = u.okta_id)"
    " FROM main.users u WHERE NOT EXISTS"
    " (SELECT 1 FROM v_users s WHERE s.okta_id = u.okta_id)"
    " ORDER BY u.name, u.okta_id";
static const char q_users_unchanged[] =
    "SELECT s.okta_id, s.name FROM v_users s JOIN main.users u"
    " ON u.okta_id = s.okta_id WHERE NOT " USER_DIFFERS
    " ORDER BY s.name, s.okta_id";
static const char q_groups_added[] =
    "SELECT s.okta_id, s.name, s.gid, s.okta_name FROM v_groups s"
    " WHERE NOT EXISTS (SELECT 1 FROM main.groups g"
    " WHERE g.okta_id = s.okta_id) ORDER BY s.name, s.okta_id";
static const char q_groups_modified[] =
    "SELECT s.okta_id, s.name, g.name, s.gid, g.gid, s.okta_name,"
    " g.okta_name FROM v_groups s JOIN main.groups g"
    " ON g.okta_id = s.okta_id WHERE " GROUP_DIFFERS
    " ORDER BY s.name, s.okta_id";
static const char q_groups_removed[] =
    "SELECT g.okta_id, g.name, g.gid,"
    " (SELECT x.reject FROM s_groups x WHERE x.okta_id = g.okta_id),"
    " (SELECT count(*) FROM s_groups x WHERE x.okta_id = g.okta_id)"
    " FROM main.groups g WHERE NOT EXISTS"
    " (SELECT 1 FROM v_groups s WHERE s.okta_id = g.okta_id)"
    " ORDER BY g.name, g.okta_id";
static const char q_groups_unchanged[] =
    "SELECT s.okta_id, s.name FROM v_groups s JOIN main.groups g"
    " ON g.okta_id = s.okta_id WHERE NOT " GROUP_DIFFERS
    " ORDER BY s.name, s.okta_id";
static const char q_members_added[] =
    "SELECT g.name, u.name FROM s_members m"
    " JOIN s_groups g ON g.okta_id = m.group_id"
    " JOIN s_users u ON u.okta_id = m.user_id"
    " WHERE NOT EXISTS (SELECT 1 FROM main.memberships x"
    " WHERE x.group_id = m.group_id AND x.user_id = m.user_id)"
    " ORDER BY g.name, u.name";
static const char q_members_removed[] =
    "SELECT g.name, u.name FROM main.memberships x"
    " JOIN main.groups g ON g.okta_id = x.group_id"
    " JOIN main.users u ON u.okta_id = x.user_id"
    " WHERE NOT EXISTS (SELECT 1 FROM s_members m"
    " WHERE m.group_id = x.group_id AND m.user_id = x.user_id)"
    " ORDER BY g.name, u.name";
static const char q_rejected[] =
    "SELECT kind, okta_id, okta_name, reason FROM ("
    " SELECT 'user' AS kind, okta_id, login AS okta_name, reject AS reason"
    "  FROM s_users WHERE reject IS NOT NULL AND in_scope"
    " UNION ALL SELECT 'group', okta_id, okta_name, reject FROM s_groups"
    "  WHERE reject IS NOT NULL"
    " UNION ALL SELECT kind, okta_id, okta_name, reason FROM s_bad)"
    " ORDER BY kind DESC, okta_name, okta_id";

static const char q_users_rejected[] =
    "SELECT okta_id, login, reject FROM s_users"
    " WHERE reject IS NOT NULL AND in_scope"
    " UNION ALL SELECT okta_id, okta_name, reason FROM s_bad"
    " WHERE kind = 'user' ORDER BY 2, 1";
static const char q_groups_rejected[] =
    "SELECT okta_id, okta_name, reject FROM s_groups WHERE reject IS NOT NULL"
    " UNION ALL SELECT okta_id, okta_name, reason FROM s_bad"
    " WHERE kind = 'group' ORDER BY 2, 1";

/* Why a cached entry leaves: the text for the "removed" lists. */
static const char *
removal_reason(sqlite3_stmt *st, int reject_col, int seen_col, int is_user)
{
	if (sqlite3_column_type(st, reject_col) != SQLITE_NULL)
		return (const char *)sqlite3_column_text(st, reject_col);
	if (sqlite3_column_int(st, seen_col) > 0)
		return is_user ? "no longer a member of a synced group" :
		    "no longer selected";
	return "no longer in Okta (deleted, or not visible to the token)";
}

static const char *
col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

void
plan_log_rejects(sqlite3 *db)
{
	sqlite3_stmt *st;
	char esc[160];

	if (sqlite3_prepare_v2(db, q_rejected, -1, &st, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW)
		info("rejected %s %s \"%s\": %s", col(st, 0), col(st, 1),
		    names_escape(col(st, 2), esc, sizeof(esc)), col(st, 3));
	sqlite3_finalize(st);
}

/* ---- Table ---------------------------------------------------------- */

static void
field_change(FILE *out, const char *field, const char *old, const char *new)
{
	fprintf(out, "      %-7s %s -> %s\n", field, old, new);
}

static void
field_change_num(FILE *out, const char *field, long long old, long long new)
{
	fprintf(out, "      %-7s %lld -> %lld\n", field, old, new);
}

static void
print_counts_line(FILE *out, const char *what, const struct sync_counts *c)
{
	fprintf(out, "%s: %lu added, %lu modified, %lu removed, %lu unchanged, "
	    "%lu rejected\n", what, c->added, c->modified, c->removed,
	    c->unchanged, c->rejected);
}

int
plan_print_table(sqlite3 *db, FILE *out, const struct plan_counts *pc,
    const struct plan_notes *notes, int show_unchanged)
{
	sqlite3_stmt *st = NULL;
	char e1[300], e2[300];
	int rc = -1;
	size_t i;

#define QUERY(q) do { \
	sqlite3_finalize(st); \
	st = NULL; \
	if (sqlite3_prepare_v2(db, (q), -1, &st, NULL) != SQLITE_OK) \
		goto out; \
} while (0)

	fprintf(out, "%s\n", notes->dry_run ? "Plan (dry run: nothing is changed)" :
	    "Plan");
	fprintf(out, "\nUsers\n");
	QUERY(q_users_added);
	while (sqlite3_step(st) == SQLITE_ROW)
		fprintf(out, "  + %-24s uid %lld gid %lld %s \"%s\" %s %s\n",
		    col(st, 1), sqlite3_column_int64(st, 2),
		    sqlite3_column_int64(st, 3), col(st, 7), col(st, 4),
		    col(st, 5), col(st, 6));
	QUERY(q_users_modified);
	while (sqlite3_step(st) == SQLITE_ROW) {
		fprintf(out, "  ~ %-24s (%s)\n", col(st, 1), col(st, 0));
		if (strcmp(col(st, 1), col(st, 2)) != 0)
			field_change(out, "name", col(st, 2), col(st, 1));
		if (sqlite3_column_int64(st, 3) != sqlite3_column_int64(st, 4))
			field_change_num(out, "uid", sqlite3_column_int64(st, 4),
			    sqlite3_column_int64(st, 3));
		if (sqlite3_column_int64(st, 5) != sqlite3_column_int64(st, 6))
			field_change_num(out, "gid", sqlite3_column_int64(st, 6),
			    sqlite3_column_int64(st, 5));
		if (strcmp(col(st, 7), col(st, 8)) != 0) {
			snprintf(e1, sizeof(e1), "\"%s\"", col(st, 8));
			snprintf(e2, sizeof(e2), "\"%s\"", col(st, 7));
			field_change(out, "gecos", e1, e2);
		}
		if (strcmp(col(st, 9), col(st, 10)) != 0)
			field_change(out, "home", col(st, 10), col(st, 9));
		if (strcmp(col(st, 11), col(st, 12)) != 0)
			field_change(out, "shell", col(st, 12), col(st, 11));
		if (strcmp(col(st, 13), col(st, 14)) != 0)
			field_change(out, "status", col(st, 14), col(st, 13));
	}
	QUERY(q_users_removed);
	while (sqlite3_step(st) == SQLITE_ROW)
		fprintf(out, "  - %-24s uid %lld: %s (the UID stays reserved)\n",
		    col(st, 1), sqlite3_column_int64(st, 2),
		    removal_reason(st, 3, 4, 1));
	if (show_unchanged) {
		QUERY(q_users_unchanged);
		while (sqlite3_step(st) == SQLITE_ROW)
			fprintf(out, "  = %s\n", col(st, 1));
	}

	fprintf(out, "\nGroups\n");
	QUERY(q_groups_added);
	while (sqlite3_step(st) == SQLITE_ROW)
		fprintf(out, "  + %-24s gid %lld (Okta \"%s\")\n", col(st, 1),
		    sqlite3_column_int64(st, 2),
		    names_escape(col(st, 3), e1, sizeof(e1)));
	QUERY(q_groups_modified);
	while (sqlite3_step(st) == SQLITE_ROW) {
		fprintf(out, "  ~ %-24s (%s)\n", col(st, 1), col(st, 0));
		if (strcmp(col(st, 1), col(st, 2)) != 0)
			field_change(out, "name", col(st, 2), col(st, 1));
		if (sqlite3_column_int64(st, 3) != sqlite3_column_int64(st, 4))
			field_change_num(out, "gid", sqlite3_column_int64(st, 4),
			    sqlite3_column_int64(st, 3));
		if (strcmp(col(st, 5), col(st, 6)) != 0) {
			char o[80], n[80];

			snprintf(e1, sizeof(e1), "\"%s\"",
			    names_escape(col(st, 6), o, sizeof(o)));
			snprintf(e2, sizeof(e2), "\"%s\"",
			    names_escape(col(st, 5), n, sizeof(n)));
			field_change(out, "okta_name", e1, e2);
		}
	}
	QUERY(q_groups_removed);
	while (sqlite3_step(st) == SQLITE_ROW)
		fprintf(out, "  - %-24s gid %lld: %s (the GID stays reserved)\n",
		    col(st, 1), sqlite3_column_int64(st, 2),
		    removal_reason(st, 3, 4, 0));
	if (show_unchanged) {
		QUERY(q_groups_unchanged);
		while (sqlite3_step(st) == SQLITE_ROW)
			fprintf(out, "  = %s\n", col(st, 1));
	}

	fprintf(out, "\nMemberships\n");
	QUERY(q_members_added);
	while (sqlite3_step(st) == SQLITE_ROW)
		fprintf(out, "  + %s: %s\n", col(st, 0), col(st, 1));
	QUERY(q_members_removed);
	while (sqlite3_step(st) == SQLITE_ROW)
		fprintf(out, "  - %s: %s\n", col(st, 0), col(st, 1));

	fprintf(out, "\nRejected\n");
	QUERY(q_rejected);
	while (sqlite3_step(st) == SQLITE_ROW)
		fprintf(out, "  ! %-5s %s \"%s\": %s\n", col(st, 0), col(st, 1),
		    names_escape(col(st, 2), e1, sizeof(e1)), col(st, 3));

	fprintf(out, "\n");
	for (i = 0; notes->warnings != NULL && notes->warnings[i] != NULL; i++)
		fprintf(out, "warning: %s\n", notes->warnings[i]);
	print_counts_line(out, "users", &pc->users);
	print_counts_line(out, "groups", &pc->groups);
	fprintf(out, "memberships: %lu added, %lu removed\n",
	    pc->memberships_added, pc->memberships_removed);
	if (notes->refused != NULL)
		fprintf(out, "refused: %s\n", notes->refused);
	rc = 0;
out:
	if (rc != 0)
		fprintf(out, "error: cannot print the plan: %s\n", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
#undef QUERY
}

/* ---- JSON ----------------------------------------------------------- */

void
plan_json_str(FILE *out, const char *s)
{
	json_object *o = json_text(s);

	if (o == NULL) {
		fputs("null", out);
		return;
	}
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE), out);
	json_object_put(o);
}

static void
jkey(FILE *out, int *first, const char *key)
{
	fputs(*first ? "" : ",", out);
	*first = 0;
	fprintf(out, "\"%s\":", key);
}

static void
jstr_member(FILE *out, int *first, const char *key, const char *value)
{
	jkey(out, first, key);
	plan_json_str(out, value);
}

static void
jnum_member(FILE *out, int *first, const char *key, long long value)
{
	jkey(out, first, key);
	fprintf(out, "%lld", value);
}

static void
jchange_str(FILE *out, int *first, const char *field, const char *old,
    const char *new)
{
	if (strcmp(old, new) == 0)
		return;
	jkey(out, first, field);
	fputs("{\"old\":", out);
	plan_json_str(out, old);
	fputs(",\"new\":", out);
	plan_json_str(out, new);
	fputs("}", out);
}

static void
jchange_num(FILE *out, int *first, const char *field, long long old,
    long long new)
{
	if (old == new)
		return;
	jkey(out, first, field);
	fprintf(out, "{\"old\":%lld,\"new\":%lld}", old, new);
}

static void
json_counts(FILE *out, const struct sync_counts *c)
{
	fprintf(out, "{\"added\":%lu,\"modified\":%lu,\"removed\":%lu,"
	    "\"unchanged\":%lu,\"rejected\":%lu}", c->added, c->modified,
	    c->removed, c->unchanged, c->rejected);
}

int
plan_print_json(sqlite3 *db, FILE *out, const struct plan_counts *pc,
    const struct plan_notes *notes, int show_unchanged)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, first, n;
	size_t i;

#define QUERY(q) do { \
	sqlite3_finalize(st); \
	st = NULL; \
	if (sqlite3_prepare_v2(db, (q), -1, &st, NULL) != SQLITE_OK) \
		goto out; \
} while (0)
#define OPEN_ITEM() do { fputs(n++ ? ",{" : "{", out); first = 1; } while (0)

	fprintf(out, "\"dry_run\":%s,\"counts\":{\"users\":",
	    notes->dry_run ? "true" : "false");
	json_counts(out, &pc->users);
	fputs(",\"groups\":", out);
	json_counts(out, &pc->groups);
	fprintf(out, ",\"memberships\":{\"added\":%lu,\"removed\":%lu}}",
	    pc->memberships_added, pc->memberships_removed);

	fputs(",\"users\":{\"added\":[", out);
	QUERY(q_users_added);
	for (n = 0; sqlite3_step(st) == SQLITE_ROW;) {
		OPEN_ITEM();
		jstr_member(out, &first, "okta_id", col(st, 0));
		jstr_member(out, &first, "name", col(st, 1));
		jnum_member(out, &first, "uid", sqlite3_column_int64(st, 2));
		jnum_member(out, &first, "gid", sqlite3_column_int64(st, 3));
		jstr_member(out, &first, "gecos", col(st, 4));
		jstr_member(out, &first, "home", col(st, 5));
		jstr_member(out, &first, "shell", col(st, 6));
		jstr_member(out, &first, "status", col(st, 7));
		jstr_member(out, &first, "login", col(st, 8));
		fputs("}", out);
	}
	fputs("],\"modified\":[", out);
	QUERY(q_users_modified);
	for (n = 0; sqlite3_step(st) == SQLITE_ROW;) {
		OPEN_ITEM();
		jstr_member(out, &first, "okta_id", col(st, 0));
		jstr_member(out, &first, "name", col(st, 1));
		fputs(",\"changes\":{", out);
		first = 1;
		jchange_str(out, &first, "name", col(st, 2), col(st, 1));
		jchange_num(out, &first, "uid", sqlite3_column_int64(st, 4),
		    sqlite3_column_int64(st, 3));
		jchange_num(out, &first, "gid", sqlite3_column_int64(st, 6),
		    sqlite3_column_int64(st, 5));
		jchange_str(out, &first, "gecos", col(st, 8), col(st, 7));
		jchange_str(out, &first, "home", col(st, 10), col(st, 9));
		jchange_str(out, &first, "shell", col(st, 12), col(st, 11));
		jchange_str(out, &first, "status", col(st, 14), col(st, 13));
		fputs("}}", out);
	}
	fputs("],\"removed\":[", out);
	QUERY(q_users_removed);
	for (n = 0; sqlite3_step(st) == SQLITE_ROW;) {
		OPEN_ITEM();
		jstr_member(out, &first, "okta_id", col(st, 0));
		jstr_member(out, &first, "name", col(st, 1));
		jnum_member(out, &first, "uid", sqlite3_column_int64(st, 2));
		jstr_member(out, &first, "reason", removal_reason(st, 3, 4, 1));
		fputs("}", out);
	}
	fputs("],\"rejected\":[", out);
	QUERY(q_users_rejected);
	for (n = 0; sqlite3_step(st) == SQLITE_ROW;) {
		OPEN_ITEM();
		jstr_member(out, &first, "okta_id", col(st, 0));
		jstr_member(out, &first, "login", col(st, 1));
		jstr_member(out, &first, "reason", col(st, 2));
		fputs("}", out);
	}
	fputs("]", out);
	if (show_unchanged) {
		fputs(",\"unchanged\":[", out);
		QUERY(q_users_unchanged);
		for (n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
			fputs(n ? "," : "", out);
			plan_json_str(out, col(st, 1));
		}
		fputs("]", out);
	}
	fputs("},\"groups\":{\"added\":[", out);
	QUERY(q_groups_added);
	for (n = 0; sqlite3_step(st) == SQLITE_ROW;) {
		OPEN_ITEM();
		jstr_member(out, &first, "okta_id", col(st, 0));
		jstr_member(out, &first, "name", col(st, 1));
		jnum_member(out, &first, "gid", sqlite3_column_int64(st, 2));
		jstr_member(out, &first, "okta_name", col(st, 3));
		fputs("}", out);
	}
	fputs("],\"modified\":[", out);
	QUERY(q_groups_modified);
	for (n = 0; sqlite3_step(st) == SQLITE_ROW;) {
		OPEN_ITEM();
		jstr_member(out, &first, "okta_id", col(st, 0));
		jstr_member(out, &first, "name", col(st, 1));
		fputs(",\"changes\":{", out);
		first = 1;
		jchange_str(out, &first, "name", col(st, 2), col(st, 1));
		jchange_num(out, &first, "gid", sqlite3_column_int64(st, 4),
		    sqlite3_column_int64(st, 3));
		jchange_str(out, &first, "okta_name", col(st, 6), col(st, 5));
		fputs("}}", out);
	}
	fputs("],\"removed\":[", out);
	QUERY(q_groups_removed);
	for (n = 0; sqlite3_step(st) == SQLITE_ROW;) {
		OPEN_ITEM();
		jstr_member(out, &first, "okta_id", col(st, 0));
		jstr_member(out, &first, "name", col(st, 1));
		jnum_member(out, &first, "gid", sqlite3_column_int64(st, 2));
		jstr_member(out, &first, "reason", removal_reason(st, 3, 4, 0));
		fputs("}", out);
	}
	fputs("],\"rejected\":[", out);
	QUERY(q_groups_rejected);
	for (n = 0; sqlite3_step(st) == SQLITE_ROW;) {
		OPEN_ITEM();
		jstr_member(out, &first, "okta_id", col(st, 0));
		jstr_member(out, &first, "okta_name", col(st, 1));
		jstr_member(out, &first, "reason", col(st, 2));
		fputs("}", out);
	}
	fputs("]", out);
	if (show_unchanged) {
		fputs(",\"unchanged\":[", out);
		QUERY(q_groups_unchanged);
		for (n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
			fputs(n ? "," : "", out);
			plan_json_str(out, col(st, 1));
		}
		fputs("]", out);
	}
	fputs("},\"memberships\":{\"added\":[", out);
	QUERY(q_members_added);
	for (n = 0; sqlite3_step(st) == SQLITE_ROW;) {
		OPEN_ITEM();
		jstr_member(out, &first, "group", col(st, 0));
		jstr_member(out, &first, "user", col(st, 1));
		fputs("}", out);
	}
	fputs("],\"removed\":[", out);
	QUERY(q_members_removed);
	for (n = 0; sqlite3_step(st) == SQLITE_ROW;) {
		OPEN_ITEM();
		jstr_member(out, &first, "group", col(st, 0));
		jstr_member(out, &first, "user", col(st, 1));
		fputs("}", out);
	}
	fputs("]},\"warnings\":[", out);
	for (i = 0; notes->warnings != NULL && notes->warnings[i] != NULL; i++) {
		fputs(i ? "," : "", out);
		plan_json_str(out, notes->warnings[i]);
	}
	fputs("],\"refused\":", out);
	plan_json_str(out, notes->refused);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
#undef QUERY
#undef OPEN_ITEM
}

/* ---- Apply ---------------------------------------------------------- */

static const char apply_members_removed_sql[] =
    "DELETE FROM main.memberships WHERE NOT EXISTS (SELECT 1 FROM s_members m"
    " WHERE m.group_id = memberships.group_id"
    " AND m.user_id = memberships.user_id);";
static const char apply_members_added_sql[] =
    "INSERT OR IGNORE INTO main.memberships (group_id, user_id)"
    " SELECT group_id, user_id FROM s_members;";
static const char apply_sql[] =
    "DELETE FROM main.users WHERE NOT EXISTS"
    " (SELECT 1 FROM v_users s WHERE s.okta_id = users.okta_id);"
    "DELETE FROM main.groups WHERE NOT EXISTS"
    " (SELECT 1 FROM v_groups s WHERE s.okta_id = groups.okta_id);"
    "INSERT INTO main.users (okta_id, name, uid, gid, gecos, home, shell,"
    " status, login, email, first_name, last_name, last_updated)"
    " SELECT okta_id, name, uid, gid, gecos, home, shell, status, login,"
    " email, first_name, last_name, last_updated FROM v_users WHERE 1"
    " ON CONFLICT (okta_id) DO UPDATE SET name = excluded.name,"
    " uid = excluded.uid, gid = excluded.gid, gecos = excluded.gecos,"
    " home = excluded.home, shell = excluded.shell, status = excluded.status,"
    " login = excluded.login, email = excluded.email,"
    " first_name = excluded.first_name, last_name = excluded.last_name,"
    " last_updated = excluded.last_updated"
    " WHERE users.name IS NOT excluded.name OR users.uid IS NOT excluded.uid"
    " OR users.gid IS NOT excluded.gid OR users.gecos IS NOT excluded.gecos"
    " OR users.home IS NOT excluded.home OR users.shell IS NOT excluded.shell"
    " OR users.status IS NOT excluded.status"
    " OR users.login IS NOT excluded.login OR users.email IS NOT excluded.email"
    " OR users.first_name IS NOT excluded.first_name"
    " OR users.last_name IS NOT excluded.last_name"
    " OR users.last_updated IS NOT excluded.last_updated;"
    "INSERT INTO main.groups (okta_id, name, gid, okta_name, last_updated,"
    " last_membership_updated)"
    " SELECT okta_id, name, gid, okta_name, last_updated,"
    " last_membership_updated FROM v_groups WHERE 1"
    " ON CONFLICT (okta_id) DO UPDATE SET name = excluded.name,"
    " gid = excluded.gid, okta_name = excluded.okta_name,"
    " last_updated = excluded.last_updated,"
    " last_membership_updated = excluded.last_membership_updated"
    " WHERE groups.name IS NOT excluded.name OR groups.gid IS NOT excluded.gid"
    " OR groups.okta_name IS NOT excluded.okta_name"
    " OR groups.last_updated IS NOT excluded.last_updated"
    " OR groups.last_membership_updated IS NOT"
    " excluded.last_membership_updated;"
    "DELETE FROM main.rejects;"
    "INSERT INTO main.rejects (kind, okta_id, okta_name, reason)"
    " SELECT 'user', okta_id, login, reject FROM s_users"
    "  WHERE reject IS NOT NULL AND in_scope"
    " UNION ALL SELECT 'group', okta_id, okta_name, reject FROM s_groups"
    "  WHERE reject IS NOT NULL"
    " UNION ALL SELECT kind, okta_id, okta_name, reason FROM s_bad;";

int
plan_apply(sqlite3 *db, const struct plan_counts *pc, long long now,
    char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc;

	/* The membership steps each walk half a million rows in a large
	 * org: skip them when the plan says they change nothing. */
	if (pc->memberships_removed > 0 &&
	    cache_exec(db, apply_members_removed_sql, err, errlen) != 0)
		return -1;
	if (cache_exec(db, apply_sql, err, errlen) != 0)
		return -1;
	if (pc->memberships_added > 0 &&
	    cache_exec(db, apply_members_added_sql, err, errlen) != 0)
		return -1;
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO main.allocations"
	    " (id, okta_id, kind, first_seen) SELECT id, okta_id,"
	    " CASE kind WHEN 'g' THEN 'group' ELSE 'user' END, ? FROM s_alloc",
	    -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}
