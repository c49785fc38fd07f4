/*
 * plan.h - the staging tables a sync fills, the diff between them and the
 * cache (the plan), printing it, and applying it.
 *
 * A sync stores what it fetched and mapped in TEMP tables of the cache
 * connection (so memory stays bounded by SQLite's page cache, not by the
 * directory's size):
 *   s_users(okta_id, name, uid, gid, gecos, home, shell, status, login,
 *           email, first_name, last_name, last_updated, uid_attr,
 *           in_scope, reject, ssh_keys: the accepted key lines, each
 *           ended by a newline; "" none)
 *   s_groups(okta_id, okta_name, name, gid, gid_attr, last_updated,
 *            last_membership_updated, reject)
 *   s_members(group_id, user_id)     as fetched, for the synced groups
 *   s_bad(kind, okta_id, okta_name, reason)   entries without a usable id
 *   s_keyrej(okta_id, n, reason)     the SSH keys refused of each user
 *                                    (userkeys.h), in order; shown for
 *                                    kept users as kind "key" rejects
 *   s_alloc(id, okta_id, kind)       IDs allocated by this run
 *   local_users(name), local_groups(name)     from the local files
 * Once validation is done, plan_finish_staging() leaves in s_members only
 * the memberships between accepted users and groups.
 *
 * The plan is the difference between the accepted staging rows (reject IS
 * NULL, in scope) and the cache's tables: users and groups added,
 * modified (each changed field of name, uid, gid, gecos, home, shell,
 * status, ssh_keys; group: name, gid, okta_name), removed, unchanged,
 * rejected; SSH keys refused; and memberships added and removed.  plan_apply() makes the cache equal to
 * the staging state, which is exactly that plan.
 */
#ifndef OKTA_PLAN_H
#define OKTA_PLAN_H

#include <sqlite3.h>
#include <stdio.h>

#include "sync.h"

struct plan_counts {
	struct sync_counts users, groups;
	unsigned long memberships_added, memberships_removed;
	unsigned long cached_users;        /* users in the cache before */
	unsigned long keys_rejected;       /* SSH keys refused, of kept users */
};

/* Create the staging tables and views in db's TEMP schema.  0 or -1 with
 * the SQLite message in err. */
int plan_setup(sqlite3 *db, char *err, size_t errlen);

/* Keep in s_members only memberships between accepted entries.  Expects
 * every s_members.user_id to be in s_users (the fetch only stages members
 * it has seen in the user listings).  0 or -1. */
int plan_finish_staging(sqlite3 *db, char *err, size_t errlen);

/* Count the plan.  0 or -1. */
int plan_count(sqlite3 *db, struct plan_counts *pc, char *err, size_t errlen);

/* Extra lines shown with the plan (warnings, a refusal). */
struct plan_notes {
	const char *const *warnings;   /* NULL-terminated or NULL */
	const char *refused;           /* NULL unless the guard refused */
	int dry_run;
	int users_from_members;        /* members_only: users only from member listings */
};

/*
 * Print the plan as a readable table: one section each for users, groups,
 * memberships and rejected entries, then the counts summary lines
 * ("users: 3 added, 1 modified, 0 removed, 995 unchanged, 2 rejected").
 * Untrusted text (logins, Okta group names) is escaped.  0 or -1.
 */
int plan_print_table(sqlite3 *db, FILE *out, const struct plan_counts *pc,
    const struct plan_notes *notes, int show_unchanged);

/*
 * Print the plan as the members of a JSON object, without the braces, so
 * that the caller can add "result" (see sync.c for the whole document).
 * Keys: "dry_run", "counts", "users" and "groups" (each with "added",
 * "modified" (with "changes": {field: {"old", "new"}}), "removed" (with
 * "reason"), "rejected" (with "reason"), and with show_unchanged
 * "unchanged"), "memberships" ("added", "removed": [{"group", "user"}]),
 * "warnings", "refused".  0 or -1.
 */
int plan_print_json(sqlite3 *db, FILE *out, const struct plan_counts *pc,
    const struct plan_notes *notes, int show_unchanged);

/* Log every rejected entry with its reason (info level; untrusted text
 * escaped), for runs whose plan is not printed (the daemon, --quiet). */
void plan_log_rejects(sqlite3 *db);

/* Write s as a JSON string (json-c escaping; invalid UTF-8 escaped as
 * text). */
void plan_json_str(FILE *out, const char *s);

/*
 * Apply the plan to the cache's tables: delete, update and insert users,
 * groups and memberships, record new allocations (first_seen = now) and
 * the rejects.  pc: the counts plan_count() gave for this staging state.
 * The caller holds a write transaction (BEGIN IMMEDIATE).
 * 0 or -1 with err.
 */
int plan_apply(sqlite3 *db, const struct plan_counts *pc, long long now,
    char *err, size_t errlen);

#endif
