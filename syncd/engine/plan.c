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
#include "userkeys.h"

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
    " in_scope INTEGER NOT NULL DEFAULT 1, reject TEXT,"
    " ssh_keys TEXT NOT NULL DEFAULT '', password_changed TEXT) WITHOUT ROWID;"
    "CREATE TEMP TABLE s_keyrej (okta_id TEXT NOT NULL, n INTEGER NOT NULL,"
    " reason TEXT NOT NULL, PRIMARY KEY (okta_id, n)) WITHOUT ROWID;"
    "CREATE TEMP TABLE s_groups ("
    " okta_id TEXT PRIMARY KEY NOT NULL, okta_name TEXT, name TEXT,"
    " gid INTEGER, gid_attr INTEGER, last_updated TEXT,"
    " last_membership_updated TEXT, reject TEXT) WITHOUT ROWID;"
    /* main.memberships' columns, in its order (apply_members_added_sql). */
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
	" OR s.shell IS NOT u.shell OR s.status IS NOT u.status" \
	" OR s.ssh_keys IS NOT u.ssh_keys)"
#define GROUP_DIFFERS \
	"(s.name IS NOT g.name OR s.gid IS NOT g.gid" \
	" OR s.okta_name IS NOT g.okta_name)"

/*
 * The columns of the one row sql gives, as counts (NULL, a sum over no
 * rows, is 0), into v[0..n).  Sets *failed on any error.
 */
static void
count_row(sqlite3 *db, const char *sql, long long *v, int n, int *failed)
{
	sqlite3_stmt *st;
	int i;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		*failed = 1;
		return;
	}
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_count(st) == n)
		for (i = 0; i < n; i++)
			v[i] = sqlite3_column_int64(st, i);
	else
		*failed = 1;
	sqlite3_finalize(st);
}

/* The one column of the one row sql gives, a count: 0 with *failed set
 * on any error or a negative count. */
static long long
count1(sqlite3 *db, const char *sql, int *failed)
{
	long long n = -1;

	count_row(db, sql, &n, 1, failed);
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
	long long v[4] = { 0, 0, 0, 0 };

	memset(pc, 0, sizeof(*pc));
	pc->cached_users = (unsigned long)count1(db,
	    "SELECT count(*) FROM main.users", &failed);
	/* One pass over the staged users (100,000 in a large org) gives
	 * added, kept, modified and rejected, where a query each walked
	 * them four times.  The conditions are v_users' own. */
	count_row(db, "SELECT"
	    " total(s.reject IS NULL AND s.in_scope AND u.okta_id IS NULL),"
	    " total(s.reject IS NULL AND s.in_scope AND u.okta_id IS NOT NULL),"
	    " total(s.reject IS NULL AND s.in_scope AND u.okta_id IS NOT NULL"
	    "  AND " USER_DIFFERS "),"
	    " total(s.reject IS NOT NULL AND s.in_scope)"
	    " FROM s_users s LEFT JOIN main.users u ON u.okta_id = s.okta_id",
	    v, 4, &failed);
	pc->users.added = (unsigned long)v[0];
	joined = (unsigned long)v[1];
	pc->users.modified = (unsigned long)v[2];
	pc->users.unchanged = joined - pc->users.modified;
	pc->users.removed = pc->cached_users - joined;
	pc->keys_rejected = (unsigned long)count1(db,
	    "SELECT count(*) FROM s_keyrej k JOIN v_users s"
	    " ON s.okta_id = k.okta_id", &failed);
	pc->users.rejected = (unsigned long)v[3] + (unsigned long)count1(db,
	    "SELECT count(*) FROM s_bad WHERE kind = 'user'", &failed);

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

	/* One pass over the (large) staged memberships: added and removed
	 * follow from both sizes and the size of their intersection. */
	count_row(db, "SELECT count(*), count(x.group_id) FROM s_members m"
	    " LEFT JOIN main.memberships x"
	    " ON x.group_id = m.group_id AND x.user_id = m.user_id", v, 2,
	    &failed);
	joined = (unsigned long)v[1];
	pc->memberships_added = (unsigned long)v[0] - joined;
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
    " s.status, s.login, s.ssh_keys FROM v_users s WHERE NOT EXISTS"
    " (SELECT 1 FROM main.users u WHERE u.okta_id = s.okta_id)"
    " ORDER BY s.name, s.okta_id";
static const char q_users_modified[] =
    "SELECT s.okta_id, s.name, u.name, s.uid, u.uid, s.gid, u.gid,"
    " s.gecos, u.gecos, s.home, u.home, s.shell, u.shell, s.status, u.status,"
    " s.ssh_keys, u.ssh_keys FROM v_users s JOIN main.users u ON u.okta_id = s.okta_id"
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
/* The SSH keys refused of the users this plan keeps (those of a rejected
 * or unselected user would only hide what matters): kind 'key', the
 * user's Linux name as the name. */
#define KEY_REJECTS \
    "SELECT 'key' AS kind, k.okta_id, s.name AS okta_name, k.reason," \
    " k.n FROM s_keyrej k JOIN v_users s ON s.okta_id = k.okta_id"
static const char q_rejected[] =
    "SELECT kind, okta_id, okta_name, reason FROM ("
    " SELECT 'user' AS kind, okta_id, login AS okta_name, reject AS reason,"
    "  0 AS n FROM s_users WHERE reject IS NOT NULL AND in_scope"
    " UNION ALL SELECT 'group', okta_id, okta_name, reject, 0 FROM s_groups"
    "  WHERE reject IS NOT NULL"
    " UNION ALL SELECT kind, okta_id, okta_name, reason, 0 FROM s_bad"
    " UNION ALL " KEY_REJECTS ")"
    " ORDER BY kind DESC, okta_name, okta_id, n";
static const char q_keys_rejected[] =
    "SELECT okta_id, okta_name, reason FROM (" KEY_REJECTS ")"
    " ORDER BY okta_name, okta_id, n";

static const char q_users_rejected[] =
    "SELECT okta_id, login, reject FROM s_users"
    " WHERE reject IS NOT NULL AND in_scope"
    " UNION ALL SELECT okta_id, okta_name, reason FROM s_bad"
    " WHERE kind = 'user' ORDER BY 2, 1";
static const char q_groups_rejected[] =
    "SELECT okta_id, okta_name, reject FROM s_groups WHERE reject IS NOT NULL"
    " UNION ALL SELECT okta_id, okta_name, reason FROM s_bad"
    " WHERE kind = 'group' ORDER BY 2, 1";

static const char *
col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

/*
 * Finalize *st (NULL is fine) and prepare sql in its place, for the next
 * list a printer walks.  0, or -1 with *st NULL and the message in db.
 */
static int
next_query(sqlite3 *db, sqlite3_stmt **st, const char *sql)
{
	sqlite3_finalize(*st);
	*st = NULL;
	return sqlite3_prepare_v2(db, sql, -1, st, NULL) == SQLITE_OK ? 0 : -1;
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

/* ---- The user and the group sections -------------------------------- */

/*
 * The users and the groups are printed alike: added, modified field by
 * field, removed, rejected and (on request) unchanged.  A plan_section
 * holds what differs between the two, so that both printers have one
 * place that walks a section.
 */

/* How a field's value is shown. */
enum plan_form {
	FORM_TEXT,        /* as it is */
	FORM_NUMBER,      /* an integer column */
	FORM_QUOTED,      /* table: in double quotes (it may hold spaces) */
	FORM_UNTRUSTED,   /* table: Okta's own text, escaped, in double quotes */
	FORM_KEYS         /* stored SSH key lines (userkeys.h): described */
};

struct plan_field {
	const char *name;
	enum plan_form form;
};

struct plan_section {
	const char *title;          /* the table's heading */
	const char *key;            /* the JSON member */
	const char *id_name;        /* "uid" or "gid" ... */
	const char *id_upper;       /* ... as the table's removed note says it */
	const char *rejected_name;  /* JSON key of a rejected entry's Okta name */
	const char *unselected;     /* removal reason: in Okta, not synced */
	const char *unseen;         /* removal reason: not met in Okta; NULL:
	                             * "no longer in Okta (...)" */
	const char *q_added, *q_modified, *q_removed, *q_rejected, *q_unchanged;
	/* The columns of q_added, in order, for JSON; ends with a NULL name. */
	const struct plan_field *added;
	/* The fields q_modified compares, in order, each as the columns
	 * (new, old) after okta_id; ends with a NULL name. */
	const struct plan_field *changes;
	/* One table line for a row of q_added. */
	void (*table_added)(FILE *out, sqlite3_stmt *st);
};

static void
table_user_added(FILE *out, sqlite3_stmt *st)
{
	char keys[300];

	fprintf(out, "  + %-24s uid %lld gid %lld %s \"%s\" %s %s",
	    col(st, 1), sqlite3_column_int64(st, 2),
	    sqlite3_column_int64(st, 3), col(st, 7), col(st, 4),
	    col(st, 5), col(st, 6));
	if (userkeys_count(col(st, 9)) > 0)
		fprintf(out, " ssh %s", userkeys_describe(col(st, 9), keys,
		    sizeof(keys)));
	fputs("\n", out);
}

static void
table_group_added(FILE *out, sqlite3_stmt *st)
{
	char esc[300];

	fprintf(out, "  + %-24s gid %lld (Okta \"%s\")\n", col(st, 1),
	    sqlite3_column_int64(st, 2),
	    names_escape(col(st, 3), esc, sizeof(esc)));
}

static const struct plan_field user_added_fields[] = {
	{ "okta_id", FORM_TEXT }, { "name", FORM_TEXT },
	{ "uid", FORM_NUMBER }, { "gid", FORM_NUMBER },
	{ "gecos", FORM_TEXT }, { "home", FORM_TEXT }, { "shell", FORM_TEXT },
	{ "status", FORM_TEXT }, { "login", FORM_TEXT },
	{ "ssh_keys", FORM_KEYS }, { NULL, FORM_TEXT }
};
static const struct plan_field user_changes[] = {
	{ "name", FORM_TEXT }, { "uid", FORM_NUMBER }, { "gid", FORM_NUMBER },
	{ "gecos", FORM_QUOTED }, { "home", FORM_TEXT },
	{ "shell", FORM_TEXT }, { "status", FORM_TEXT },
	{ "ssh_keys", FORM_KEYS }, { NULL, FORM_TEXT }
};
static const struct plan_field group_added_fields[] = {
	{ "okta_id", FORM_TEXT }, { "name", FORM_TEXT },
	{ "gid", FORM_NUMBER }, { "okta_name", FORM_TEXT }, { NULL, FORM_TEXT }
};
static const struct plan_field group_changes[] = {
	{ "name", FORM_TEXT }, { "gid", FORM_NUMBER },
	{ "okta_name", FORM_UNTRUSTED }, { NULL, FORM_TEXT }
};

static const struct plan_section users_section = {
	.title = "Users", .key = "users", .id_name = "uid", .id_upper = "UID",
	.rejected_name = "login",
	.unselected = "no longer a member of a synced group",
	.q_added = q_users_added, .q_modified = q_users_modified,
	.q_removed = q_users_removed, .q_rejected = q_users_rejected,
	.q_unchanged = q_users_unchanged,
	.added = user_added_fields, .changes = user_changes,
	.table_added = table_user_added
};
static const struct plan_section groups_section = {
	.title = "Groups", .key = "groups", .id_name = "gid", .id_upper = "GID",
	.rejected_name = "okta_name",
	.unselected = "no longer selected",
	.q_added = q_groups_added, .q_modified = q_groups_modified,
	.q_removed = q_groups_removed, .q_rejected = q_groups_rejected,
	.q_unchanged = q_groups_unchanged,
	.added = group_added_fields, .changes = group_changes,
	.table_added = table_group_added
};

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
field_change_keys(FILE *out, const char *field, const char *what)
{
	fprintf(out, "      %-7s %s\n", field, what);
}

/* Print the line for field f of a modified row if the field changed: its
 * new value is in column c, the old one in column c + 1. */
static void
table_change(FILE *out, sqlite3_stmt *st, const struct plan_field *f, int c)
{
	char o[80], n[80], e1[300], e2[300];
	const char *old, *new;

	if (f->form == FORM_NUMBER) {
		if (sqlite3_column_int64(st, c) != sqlite3_column_int64(st, c + 1))
			field_change_num(out, f->name,
			    sqlite3_column_int64(st, c + 1),
			    sqlite3_column_int64(st, c));
		return;
	}
	old = col(st, c + 1);
	new = col(st, c);
	if (strcmp(new, old) == 0)
		return;
	if (f->form == FORM_KEYS) {
		char d[600];

		field_change_keys(out, f->name, userkeys_diff(old, new, d,
		    sizeof(d)));
		return;
	}
	if (f->form == FORM_UNTRUSTED) {
		old = names_escape(old, o, sizeof(o));
		new = names_escape(new, n, sizeof(n));
	}
	if (f->form == FORM_QUOTED || f->form == FORM_UNTRUSTED) {
		snprintf(e1, sizeof(e1), "\"%s\"", old);
		snprintf(e2, sizeof(e2), "\"%s\"", new);
		old = e1;
		new = e2;
	}
	field_change(out, f->name, old, new);
}

/* Why a cached entry leaves, for the "removed" lists: its reject reason, or
 * s->unselected (still in Okta, no longer synced), or s->unseen (not met
 * in Okta at all). */
static const char *
removal_reason(sqlite3_stmt *st, int reject_col, int seen_col,
    const struct plan_section *s)
{
	if (sqlite3_column_type(st, reject_col) != SQLITE_NULL)
		return (const char *)sqlite3_column_text(st, reject_col);
	if (sqlite3_column_int(st, seen_col) > 0)
		return s->unselected;
	return s->unseen != NULL ? s->unseen :
	    "no longer in Okta (deleted, or not visible to the token)";
}

/* The users section as this plan prints it: with members_only the users
 * come from the member listings, so one not met there may well still be
 * in Okta, only out of the synced groups. */
static struct plan_section
users_section_for(const struct plan_notes *notes)
{
	struct plan_section s = users_section;

	if (notes != NULL && notes->users_from_members)
		s.unseen = "no longer a member of a synced group (or no longer in Okta)";
	return s;
}

/* Print one section of the table: its heading and its added, modified,
 * removed and (with show_unchanged) unchanged entries.  0 or -1 (the
 * message in db). */
static int
table_section(sqlite3 *db, FILE *out, const struct plan_section *s,
    int show_unchanged)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, i;

	fprintf(out, "\n%s\n", s->title);
	if (next_query(db, &st, s->q_added) != 0)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW)
		s->table_added(out, st);
	if (next_query(db, &st, s->q_modified) != 0)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW) {
		fprintf(out, "  ~ %-24s (%s)\n", col(st, 1), col(st, 0));
		for (i = 0; s->changes[i].name != NULL; i++)
			table_change(out, st, &s->changes[i], 1 + 2 * i);
	}
	if (next_query(db, &st, s->q_removed) != 0)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW)
		fprintf(out, "  - %-24s %s %lld: %s (the %s stays reserved)\n",
		    col(st, 1), s->id_name, sqlite3_column_int64(st, 2),
		    removal_reason(st, 3, 4, s), s->id_upper);
	if (show_unchanged) {
		if (next_query(db, &st, s->q_unchanged) != 0)
			goto out;
		while (sqlite3_step(st) == SQLITE_ROW)
			fprintf(out, "  = %s\n", col(st, 1));
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
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
	struct plan_section us = users_section_for(notes);
	sqlite3_stmt *st = NULL;
	char esc[300];
	int rc = -1;
	size_t i;

	fprintf(out, "%s\n", notes->dry_run ? "Plan (dry run: nothing is changed)" :
	    "Plan");
	if (table_section(db, out, &us, show_unchanged) != 0 ||
	    table_section(db, out, &groups_section, show_unchanged) != 0)
		goto out;

	fprintf(out, "\nMemberships\n");
	if (next_query(db, &st, q_members_added) != 0)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW)
		fprintf(out, "  + %s: %s\n", col(st, 0), col(st, 1));
	if (next_query(db, &st, q_members_removed) != 0)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW)
		fprintf(out, "  - %s: %s\n", col(st, 0), col(st, 1));

	fprintf(out, "\nRejected\n");
	if (next_query(db, &st, q_rejected) != 0)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW)
		fprintf(out, "  ! %-5s %s \"%s\": %s\n", col(st, 0), col(st, 1),
		    names_escape(col(st, 2), esc, sizeof(esc)), col(st, 3));

	fprintf(out, "\n");
	for (i = 0; notes->warnings != NULL && notes->warnings[i] != NULL; i++)
		fprintf(out, "warning: %s\n", notes->warnings[i]);
	print_counts_line(out, "users", &pc->users);
	print_counts_line(out, "groups", &pc->groups);
	fprintf(out, "memberships: %lu added, %lu removed\n",
	    pc->memberships_added, pc->memberships_removed);
	if (pc->keys_rejected > 0)
		fprintf(out, "ssh keys: %lu rejected (their users stay)\n",
		    pc->keys_rejected);
	if (notes->refused != NULL)
		fprintf(out, "refused: %s\n", notes->refused);
	rc = 0;
out:
	if (rc != 0)
		fprintf(out, "error: cannot print the plan: %s\n", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
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

/* Open the next object of an array: *n counts the objects so far, and
 * *first starts the object's members afresh. */
static void
jitem(FILE *out, int *n, int *first)
{
	fputs((*n)++ ? ",{" : "{", out);
	*first = 1;
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

/* A change of SSH keys: {"old": count, "new": count, "change": "1 -> 2
 * (added ssh-rsa)"}; the lines themselves are left to `okta-sync show`. */
static void
jkeys_change(FILE *out, int *first, const char *name, const char *old,
    const char *new)
{
	char d[600];

	jkey(out, first, name);
	fprintf(out, "{\"old\":%zu,\"new\":%zu,\"change\":",
	    userkeys_count(old), userkeys_count(new));
	plan_json_str(out, userkeys_diff(old, new, d, sizeof(d)));
	fputs("}", out);
}

/* The member f->name: {"old", "new"} if field f of a modified row
 * changed, with its new value in column c and the old one in c + 1;
 * nothing otherwise. */
static void
jchange(FILE *out, int *first, sqlite3_stmt *st, const struct plan_field *f,
    int c)
{
	if (f->form == FORM_NUMBER) {
		if (sqlite3_column_int64(st, c) == sqlite3_column_int64(st, c + 1))
			return;
		jkey(out, first, f->name);
		fprintf(out, "{\"old\":%lld,\"new\":%lld}",
		    sqlite3_column_int64(st, c + 1), sqlite3_column_int64(st, c));
		return;
	}
	if (strcmp(col(st, c + 1), col(st, c)) == 0)
		return;
	if (f->form == FORM_KEYS) {
		jkeys_change(out, first, f->name, col(st, c + 1), col(st, c));
		return;
	}
	jkey(out, first, f->name);
	fputs("{\"old\":", out);
	plan_json_str(out, col(st, c + 1));
	fputs(",\"new\":", out);
	plan_json_str(out, col(st, c));
	fputs("}", out);
}

static void
json_counts(FILE *out, const struct sync_counts *c)
{
	fprintf(out, "{\"added\":%lu,\"modified\":%lu,\"removed\":%lu,"
	    "\"unchanged\":%lu,\"rejected\":%lu}", c->added, c->modified,
	    c->removed, c->unchanged, c->rejected);
}

/* Print one section as the member "users" or "groups" of the plan object
 * (keys in plan.h).  0 or -1. */
static int
json_section(sqlite3 *db, FILE *out, const struct plan_section *s,
    int show_unchanged)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, first, n, i;

	fprintf(out, "\"%s\":{\"added\":[", s->key);
	if (next_query(db, &st, s->q_added) != 0)
		goto out;
	for (n = 0; sqlite3_step(st) == SQLITE_ROW;) {
		jitem(out, &n, &first);
		for (i = 0; s->added[i].name != NULL; i++) {
			if (s->added[i].form == FORM_NUMBER)
				jnum_member(out, &first, s->added[i].name,
				    sqlite3_column_int64(st, i));
			else if (s->added[i].form == FORM_KEYS)
				jnum_member(out, &first, s->added[i].name,
				    (long long)userkeys_count(col(st, i)));
			else
				jstr_member(out, &first, s->added[i].name,
				    col(st, i));
		}
		fputs("}", out);
	}
	fputs("],\"modified\":[", out);
	if (next_query(db, &st, s->q_modified) != 0)
		goto out;
	for (n = 0; sqlite3_step(st) == SQLITE_ROW;) {
		jitem(out, &n, &first);
		jstr_member(out, &first, "okta_id", col(st, 0));
		jstr_member(out, &first, "name", col(st, 1));
		fputs(",\"changes\":{", out);
		first = 1;
		for (i = 0; s->changes[i].name != NULL; i++)
			jchange(out, &first, st, &s->changes[i], 1 + 2 * i);
		fputs("}}", out);
	}
	fputs("],\"removed\":[", out);
	if (next_query(db, &st, s->q_removed) != 0)
		goto out;
	for (n = 0; sqlite3_step(st) == SQLITE_ROW;) {
		jitem(out, &n, &first);
		jstr_member(out, &first, "okta_id", col(st, 0));
		jstr_member(out, &first, "name", col(st, 1));
		jnum_member(out, &first, s->id_name, sqlite3_column_int64(st, 2));
		jstr_member(out, &first, "reason",
		    removal_reason(st, 3, 4, s));
		fputs("}", out);
	}
	fputs("],\"rejected\":[", out);
	if (next_query(db, &st, s->q_rejected) != 0)
		goto out;
	for (n = 0; sqlite3_step(st) == SQLITE_ROW;) {
		jitem(out, &n, &first);
		jstr_member(out, &first, "okta_id", col(st, 0));
		jstr_member(out, &first, s->rejected_name, col(st, 1));
		jstr_member(out, &first, "reason", col(st, 2));
		fputs("}", out);
	}
	fputs("]", out);
	if (show_unchanged) {
		fputs(",\"unchanged\":[", out);
		if (next_query(db, &st, s->q_unchanged) != 0)
			goto out;
		for (n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
			fputs(n ? "," : "", out);
			plan_json_str(out, col(st, 1));
		}
		fputs("]", out);
	}
	fputs("}", out);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/* Print a membership list, [{"group", "user"}], from the rows of sql.
 * 0 or -1. */
static int
json_memberships(sqlite3 *db, FILE *out, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, first, n;

	fputs("[", out);
	if (next_query(db, &st, sql) != 0)
		goto out;
	for (n = 0; sqlite3_step(st) == SQLITE_ROW;) {
		jitem(out, &n, &first);
		jstr_member(out, &first, "group", col(st, 0));
		jstr_member(out, &first, "user", col(st, 1));
		fputs("}", out);
	}
	fputs("]", out);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/* The refused SSH keys: [{"okta_id", "name", "reason"}].  0 or -1. */
static int
json_keys_rejected(sqlite3 *db, FILE *out)
{
	sqlite3_stmt *st = NULL;
	int first, n;

	if (next_query(db, &st, q_keys_rejected) != 0)
		return -1;
	fputs("[", out);
	for (n = 0; sqlite3_step(st) == SQLITE_ROW;) {
		jitem(out, &n, &first);
		jstr_member(out, &first, "okta_id", col(st, 0));
		jstr_member(out, &first, "name", col(st, 1));
		jstr_member(out, &first, "reason", col(st, 2));
		fputs("}", out);
	}
	fputs("]", out);
	sqlite3_finalize(st);
	return 0;
}

int
plan_print_json(sqlite3 *db, FILE *out, const struct plan_counts *pc,
    const struct plan_notes *notes, int show_unchanged)
{
	struct plan_section us = users_section_for(notes);
	size_t i;

	fprintf(out, "\"dry_run\":%s,\"counts\":{\"users\":",
	    notes->dry_run ? "true" : "false");
	json_counts(out, &pc->users);
	fputs(",\"groups\":", out);
	json_counts(out, &pc->groups);
	fprintf(out, ",\"memberships\":{\"added\":%lu,\"removed\":%lu},"
	    "\"ssh_keys_rejected\":%lu}", pc->memberships_added,
	    pc->memberships_removed, pc->keys_rejected);

	fputs(",", out);
	if (json_section(db, out, &us, show_unchanged) != 0)
		return -1;
	fputs(",", out);
	if (json_section(db, out, &groups_section, show_unchanged) != 0)
		return -1;
	fputs(",\"memberships\":{\"added\":", out);
	if (json_memberships(db, out, q_members_added) != 0)
		return -1;
	fputs(",\"removed\":", out);
	if (json_memberships(db, out, q_members_removed) != 0)
		return -1;
	fputs("},\"ssh_keys_rejected\":", out);
	if (json_keys_rejected(db, out) != 0)
		return -1;
	fputs(",\"warnings\":[", out);
	for (i = 0; notes->warnings != NULL && notes->warnings[i] != NULL; i++) {
		fputs(i ? "," : "", out);
		plan_json_str(out, notes->warnings[i]);
	}
	fputs("],\"refused\":", out);
	plan_json_str(out, notes->refused);
	return 0;
}

/* ---- Apply ---------------------------------------------------------- */

static const char apply_members_removed_sql[] =
    "DELETE FROM main.memberships WHERE NOT EXISTS (SELECT 1 FROM s_members m"
    " WHERE m.group_id = memberships.group_id"
    " AND m.user_id = memberships.user_id);";
/* "SELECT *" from a table of the same columns, in the same order: into
 * an empty table (a first sync), SQLite then copies the records as they
 * are, without decoding them (its transfer optimization: half the time
 * for half a million rows). */
static const char apply_members_added_sql[] =
    "INSERT OR IGNORE INTO main.memberships SELECT * FROM s_members;";
static const char apply_sql[] =
    "DELETE FROM main.users WHERE NOT EXISTS"
    " (SELECT 1 FROM v_users s WHERE s.okta_id = users.okta_id);"
    "DELETE FROM main.groups WHERE NOT EXISTS"
    " (SELECT 1 FROM v_groups s WHERE s.okta_id = groups.okta_id);"
    "INSERT INTO main.users (okta_id, name, uid, gid, gecos, home, shell,"
    " status, login, email, first_name, last_name, last_updated, ssh_keys,"
    " password_changed)"
    " SELECT okta_id, name, uid, gid, gecos, home, shell, status, login,"
    " email, first_name, last_name, last_updated, ssh_keys, password_changed"
    " FROM v_users"
    " WHERE 1"
    " ON CONFLICT (okta_id) DO UPDATE SET name = excluded.name,"
    " uid = excluded.uid, gid = excluded.gid, gecos = excluded.gecos,"
    " home = excluded.home, shell = excluded.shell, status = excluded.status,"
    " login = excluded.login, email = excluded.email,"
    " first_name = excluded.first_name, last_name = excluded.last_name,"
    " last_updated = excluded.last_updated, ssh_keys = excluded.ssh_keys,"
    " password_changed = excluded.password_changed"
    " WHERE users.name IS NOT excluded.name OR users.uid IS NOT excluded.uid"
    " OR users.gid IS NOT excluded.gid OR users.gecos IS NOT excluded.gecos"
    " OR users.home IS NOT excluded.home OR users.shell IS NOT excluded.shell"
    " OR users.status IS NOT excluded.status"
    " OR users.login IS NOT excluded.login OR users.email IS NOT excluded.email"
    " OR users.first_name IS NOT excluded.first_name"
    " OR users.last_name IS NOT excluded.last_name"
    " OR users.last_updated IS NOT excluded.last_updated"
    " OR users.ssh_keys IS NOT excluded.ssh_keys"
    " OR users.password_changed IS NOT excluded.password_changed;"
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
    " UNION ALL SELECT kind, okta_id, okta_name, reason FROM s_bad"
    " UNION ALL SELECT kind, okta_id, okta_name, reason FROM ("
    KEY_REJECTS " ORDER BY k.okta_id, k.n);";

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
