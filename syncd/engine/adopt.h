/*
 * adopt.h - migration of existing local users: an Okta user takes over a
 * local account's UID and primary GID, so that every file keeps its owner
 * and the local entry can then be removed from /etc/passwd (the product
 * guide's "if you already have users in your system which you want to
 * migrate, without losing their history").
 *
 * Without an adoption, an Okta user whose name is a local account's is
 * rejected ("collides with a local account", DESIGN.md rule 2).  An
 * adoption is the admin's deliberate exception, recorded by `okta-sync
 * migrate --apply` in cache.db's adoptions table (cache.h, schema 2):
 * (okta_id, local name, uid, gid, home, time).  It is keyed by okta_id, so
 * the Okta user keeps the UID when its login is renamed later.
 *
 * What is never adopted (adopt_survey refuses it, with the reason):
 *   - UID or GID 0, and system IDs: below ADOPT_MIN_ID (1000), 65534
 *     (nobody), 65535 and (uid_t)-1 and -2;
 *   - a local account whose UID (or a GID other than its UID) is already
 *     an Okta allocation (allocations table) or another adoption;
 *   - a local account whose UID another local account shares, or whose
 *     UID is the GID of another local group (one pool holds both, see
 *     idalloc.h);
 *   - a name that two or more Okta users map to.
 * Adopted IDs lie outside [posix] uid_min..uid_max by design: rule 1's
 * range does not apply to them (the admin chose them), rule 1's "never 0"
 * does.
 *
 * In a sync (sync.c calls these in this order):
 *   adopt_load                 read the adoptions (start of load_local)
 *   adopt_note_local_user/     for each passwd/group entry: the adopted
 *   adopt_note_local_group     account's own IDs are not reserved as local
 *   adopt_stage                check each adoption against the local files,
 *                              claim its IDs in idalloc for its okta_id
 *                              (recorded in allocations, never reused, even
 *                              when the user is rejected or gone), and make
 *                              TEMP table adopted(okta_id, name, uid, gid,
 *                              gid_local, reason)
 *   (collision checks)         an adopted user is exempt from "collides
 *                              with a local account" under the adopted name,
 *                              and from "is the name of a local group"
 *   adopt_find                 the ID step: an adopted user gets its UID, or
 *                              is rejected with the adoption's reason
 *   adopt_after_ids            ... and its primary GID
 *   adopt_apply                in the apply transaction: adoptions.local_group
 * An adoption is usable when the local account of that name is gone, or
 * still has the adopted UID; the adopted UID held by another local account
 * rejects the user.  Its user-private group (primary_group = user-private)
 * is published with the adopted GID only while no local group has that GID
 * or the user's name (publish.c): the local group stands in for it until
 * the admin removes it.
 */
#ifndef OKTA_ADOPT_H
#define OKTA_ADOPT_H

#include <grp.h>
#include <pwd.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "idalloc.h"
#include "names.h"

/* No adoption below rule 1's floor either (names.h). */
#define ADOPT_MIN_ID OKTA_ID_FLOOR

/* Returns 1 when id may be adopted as a UID or GID (see above). */
int adopt_id_allowed(uint32_t id);

/* ---- In a sync -------------------------------------------------------- */

struct adoption {
	char *okta_id;
	char *name;              /* the local account's name when adopted */
	uint32_t uid, gid;
	int local_seen;          /* a passwd entry has that name ... */
	uint32_t local_uid;      /* ... with this UID */
	int gid_local;           /* a local group has gid */
	char *reason;            /* set by adopt_stage: NULL usable */
};

struct adopt_set;

/*
 * Read main.adoptions of db.  0 with *out (free with adopt_free), or -1
 * with err.  An empty set is a set.
 */
int adopt_load(sqlite3 *db, struct adopt_set **out, char *err, size_t errlen);
void adopt_free(struct adopt_set *a);       /* accepts NULL */

#define ADOPT_OWN_UID 1
#define ADOPT_OWN_GID 2

/*
 * One local passwd entry: returns ADOPT_OWN_UID when it is an adopted
 * account (its name and UID), ADOPT_OWN_GID when its primary GID is an
 * adopted GID; the caller does not reserve those IDs as local.  a may be
 * NULL (returns 0).
 */
unsigned adopt_note_local_user(struct adopt_set *a, const struct passwd *pw);

/* One local group: returns 1 when its GID is an adopted GID (not to be
 * reserved as local).  a may be NULL. */
int adopt_note_local_group(struct adopt_set *a, const struct group *gr);

/*
 * After the local files: decide each adoption's reason, claim its IDs in
 * ids, and create TEMP table adopted in db (always, even empty: the
 * validation SQL refers to it).  0, or -1 with err.
 */
int adopt_stage(struct adopt_set *a, sqlite3 *db, struct idalloc *ids,
    char *err, size_t errlen);

/* The adoption of okta_id, or NULL. */
const struct adoption *adopt_find(const struct adopt_set *a,
    const char *okta_id);

/* After the IDs are stored in s_users: accepted adopted users get their
 * adopted primary GID.  0 or -1 with err. */
int adopt_after_ids(sqlite3 *db, char *err, size_t errlen);

/* In the apply transaction: record whether a local group stands in for
 * each adopted user's private group.  0 or -1 with err. */
int adopt_apply(sqlite3 *db, char *err, size_t errlen);

/* ---- For okta-sync migrate -------------------------------------------- */

enum adopt_state {
	ADOPT_CAN,          /* can be adopted */
	ADOPT_CANNOT,       /* cannot: reason */
	ADOPT_DONE          /* already adopted */
};

struct adopt_candidate {
	enum adopt_state state;
	char *name;              /* the local (and Okta) name */
	char *okta_id;
	char *login;             /* Okta's login (untrusted text), or NULL */
	int local_present;       /* the local passwd file has name */
	uint32_t uid, gid;       /* the local account's (ADOPT_DONE: adopted) */
	char *home;              /* the local account's, or NULL */
	char *group;             /* the local group with gid, or NULL */
	char *reason;            /* ADOPT_CANNOT: why; ADOPT_DONE: the
	                            user's reject reason in the last sync, or
	                            NULL when it is synced */
	long long adopted;       /* ADOPT_DONE: epoch s */
	int synced;              /* ADOPT_DONE: in the cache's users with uid */
	char *okta_name;         /* ADOPT_DONE and synced: its name now */
	char *okta_home;         /* ADOPT_CAN: the home the [posix] home
	                            template gives, when it is not home */
};

struct adopt_report {
	struct adopt_candidate *v;   /* sorted by state, then name */
	size_t n;
};

/*
 * Survey the local accounts that match Okta users: the last applied sync's
 * "collides with a local account" rejects in db, the local passwd and group
 * files of c, and the adoptions already made.  0, or -1 with err (cannot
 * read db or a local file).
 */
int adopt_survey(sqlite3 *db, const struct config *c, struct adopt_report *r,
    char *err, size_t errlen);
void adopt_report_free(struct adopt_report *r);

/* Record one ADOPT_CAN candidate (the caller holds a write transaction and
 * the sync lock).  0 or -1 with err. */
int adopt_record(sqlite3 *db, const struct adopt_candidate *cand,
    long long now, char *err, size_t errlen);

#endif
