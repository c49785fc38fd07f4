/*
 * adopt.c - adoptions of local accounts by Okta users: their part in a
 * sync, and the survey `okta-sync migrate` shows (see adopt.h).
 *
 * The adoptions table is small (one row per migrated local account), so
 * the set lives in memory, sorted by okta_id for the ID step's look-ups.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adopt.h"
#include "names.h"
#include "xmalloc.h"

struct adopt_set {
	struct adoption *v;      /* sorted by okta_id (byte order) */
	size_t n;
};

int
adopt_id_allowed(uint32_t id)
{
	/* 65534 is nobody/nogroup, 65535 the old 16-bit (uid_t)-1; the top
	 * two are (uid_t)-1 and -2, which chown and setresuid treat
	 * specially. */
	return id >= ADOPT_MIN_ID && id != 65534 && id != 65535 &&
	    id < UINT32_MAX - 1;
}

static int
cmp_adoption(const void *a, const void *b)
{
	return strcmp(((const struct adoption *)a)->okta_id,
	    ((const struct adoption *)b)->okta_id);
}

static const char *
coltext(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

int
adopt_load(sqlite3 *db, struct adopt_set **out, char *err, size_t errlen)
{
	struct adopt_set *a = xcalloc(1, sizeof(*a));
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int step;

	*out = NULL;
	if (sqlite3_prepare_v2(db, "SELECT okta_id, name, uid, gid FROM"
	    " main.adoptions ORDER BY okta_id", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct adoption *e;
		long long uid = sqlite3_column_int64(st, 2);
		long long gid = sqlite3_column_int64(st, 3);

		/* The table's CHECKs hold these; a file edited by hand is
		 * still never trusted with UID 0. */
		if (uid < 0 || uid > UINT32_MAX || gid < 0 || gid > UINT32_MAX ||
		    !adopt_id_allowed((uint32_t)uid) ||
		    !adopt_id_allowed((uint32_t)gid))
			continue;
		if (a->n == cap) {
			cap = cap ? cap * 2 : 16;
			a->v = xreallocarray(a->v, cap, sizeof(*a->v));
		}
		e = &a->v[a->n++];
		memset(e, 0, sizeof(*e));
		e->okta_id = xstrdup(coltext(st, 0));
		e->name = xstrdup(coltext(st, 1));
		e->uid = (uint32_t)uid;
		e->gid = (uint32_t)gid;
	}
	if (step != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	/* ORDER BY used SQLite's BINARY collation: memcmp order, as strcmp. */
	*out = a;
	return 0;
fail:
	snprintf(err, errlen, "reading the adoptions: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	adopt_free(a);
	return -1;
}

void
adopt_free(struct adopt_set *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++) {
		free(a->v[i].okta_id);
		free(a->v[i].name);
		free(a->v[i].reason);
	}
	free(a->v);
	free(a);
}

unsigned
adopt_note_local_user(struct adopt_set *a, const struct passwd *pw)
{
	unsigned own = 0;
	size_t i;

	if (a == NULL)
		return 0;
	for (i = 0; i < a->n; i++) {
		struct adoption *e = &a->v[i];

		if (strcmp(e->name, pw->pw_name) == 0) {
			/* The first line wins, as in glibc's files backend. */
			if (!e->local_seen) {
				e->local_seen = 1;
				e->local_uid = (uint32_t)pw->pw_uid;
			}
			if ((uint32_t)pw->pw_uid == e->uid)
				own |= ADOPT_OWN_UID;
		}
		/* Other local users may share the adopted private group. */
		if ((uint32_t)pw->pw_gid == e->gid)
			own |= ADOPT_OWN_GID;
	}
	return own;
}

int
adopt_note_local_group(struct adopt_set *a, const struct group *gr)
{
	int own = 0;
	size_t i;

	if (a == NULL)
		return 0;
	for (i = 0; i < a->n; i++)
		if ((uint32_t)gr->gr_gid == a->v[i].gid) {
			a->v[i].gid_local = 1;
			own = 1;
		}
	return own;
}

/* Claim id for e; a reason (malloc'd) when it is not e's to have. */
static char *
claim(struct idalloc *ids, const struct adoption *e, uint32_t id,
    enum id_kind kind, const char *what)
{
	const char *owner = "";
	int r = idalloc_claim(ids, id, e->okta_id, kind);

	if (r == 1)
		return xasprintf("its adopted %s %u now belongs to another local "
		    "account or group", what, id);
	if (r == 2) {
		idalloc_owner(ids, id, &owner);
		return xasprintf("its adopted %s %u is already the Okta entry %s's",
		    what, id, owner);
	}
	return NULL;
}

int
adopt_stage(struct adopt_set *a, sqlite3 *db, struct idalloc *ids,
    char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	char *msg = NULL, *r;
	size_t i;

	if (sqlite3_exec(db, "DROP TABLE IF EXISTS temp.adopted;"
	    "CREATE TEMP TABLE adopted (okta_id TEXT PRIMARY KEY NOT NULL,"
	    " name TEXT NOT NULL, uid INTEGER NOT NULL, gid INTEGER NOT NULL,"
	    " gid_local INTEGER NOT NULL, reason TEXT) WITHOUT ROWID;",
	    NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "staging the adoptions: %s",
		    msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	if (a == NULL || a->n == 0)
		return 0;
	if (sqlite3_prepare_v2(db, "INSERT INTO temp.adopted (okta_id, name,"
	    " uid, gid, gid_local, reason) VALUES (?, ?, ?, ?, ?, ?)", -1, &st,
	    NULL) != SQLITE_OK)
		goto fail;
	for (i = 0; i < a->n; i++) {
		struct adoption *e = &a->v[i];

		/* Claimed whatever happens next, so that the IDs stay this
		 * Okta user's (rule 4) even while it is rejected. */
		e->reason = claim(ids, e, e->uid, ID_KIND_USER, "UID");
		if (e->gid != e->uid) {
			r = claim(ids, e, e->gid, ID_KIND_GROUP, "GID");
			if (e->reason == NULL)
				e->reason = r;
			else
				free(r);
		}
		if (e->local_seen && e->local_uid != e->uid) {
			free(e->reason);
			e->reason = xasprintf("the local account %s now has UID %u, "
			    "not the adopted UID %u", e->name, e->local_uid, e->uid);
		}
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, e->okta_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, e->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, e->uid);
		sqlite3_bind_int64(st, 4, e->gid);
		sqlite3_bind_int(st, 5, e->gid_local);
		if (e->reason != NULL)
			sqlite3_bind_text(st, 6, e->reason, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 6);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto fail;
	}
	sqlite3_finalize(st);
	return 0;
fail:
	snprintf(err, errlen, "staging the adoptions: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return -1;
}

const struct adoption *
adopt_find(const struct adopt_set *a, const char *okta_id)
{
	struct adoption key;

	if (a == NULL || a->n == 0)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.okta_id = (char *)(uintptr_t)okta_id;
	return bsearch(&key, a->v, a->n, sizeof(*a->v), cmp_adoption);
}

static int
exec_sql(sqlite3 *db, const char *sql, const char *what, char *err,
    size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", what, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int
adopt_after_ids(sqlite3 *db, char *err, size_t errlen)
{
	return exec_sql(db, "UPDATE s_users SET gid = (SELECT a.gid FROM"
	    " temp.adopted a WHERE a.okta_id = s_users.okta_id)"
	    " WHERE reject IS NULL AND okta_id IN (SELECT okta_id FROM"
	    " temp.adopted WHERE reason IS NULL)", "giving adopted GIDs",
	    err, errlen);
}

int
adopt_apply(sqlite3 *db, char *err, size_t errlen)
{
	/* A local group stands in for the private group when it has the
	 * GID, or the user's (current) name. */
	return exec_sql(db, "UPDATE main.adoptions SET local_group ="
	    " coalesce((SELECT a.gid_local FROM temp.adopted a"
	    "  WHERE a.okta_id = adoptions.okta_id), 1)"
	    " OR EXISTS (SELECT 1 FROM s_users s JOIN local_groups l"
	    "  ON l.name = s.name WHERE s.okta_id = adoptions.okta_id)",
	    "recording the adopted users' local groups", err, errlen);
}

/* ---- The survey ------------------------------------------------------- */

struct local_user {
	char *name, *home;
	uint32_t uid, gid;
};

struct local_group {
	char *name;
	uint32_t gid;
};

struct locals {
	struct local_user *u;
	size_t nu;
	struct local_group *g;
	size_t ng;
};

static void
locals_free(struct locals *l)
{
	size_t i;

	for (i = 0; i < l->nu; i++) {
		free(l->u[i].name);
		free(l->u[i].home);
	}
	for (i = 0; i < l->ng; i++)
		free(l->g[i].name);
	free(l->u);
	free(l->g);
	memset(l, 0, sizeof(*l));
}

/* Read both local files (never through NSS).  0 or -1 with err. */
static int
locals_read(const struct config *c, struct locals *l, char *err,
    size_t errlen)
{
	const char *pwf = c->passwd_file ? c->passwd_file : "/etc/passwd";
	const char *grf = c->group_file ? c->group_file : "/etc/group";
	struct passwd *pw;
	struct group *gr;
	FILE *f;

	memset(l, 0, sizeof(*l));
	if ((f = fopen(pwf, "re")) == NULL) {
		snprintf(err, errlen, "cannot read the local passwd file %s: %s",
		    pwf, strerror(errno));
		return -1;
	}
	while ((pw = fgetpwent(f)) != NULL) {
		l->u = xreallocarray(l->u, l->nu + 1, sizeof(*l->u));
		l->u[l->nu].name = xstrdup(pw->pw_name);
		l->u[l->nu].home = xstrdup(pw->pw_dir ? pw->pw_dir : "");
		l->u[l->nu].uid = (uint32_t)pw->pw_uid;
		l->u[l->nu].gid = (uint32_t)pw->pw_gid;
		l->nu++;
	}
	fclose(f);
	if ((f = fopen(grf, "re")) == NULL) {
		snprintf(err, errlen, "cannot read the local group file %s: %s",
		    grf, strerror(errno));
		locals_free(l);
		return -1;
	}
	while ((gr = fgetgrent(f)) != NULL) {
		l->g = xreallocarray(l->g, l->ng + 1, sizeof(*l->g));
		l->g[l->ng].name = xstrdup(gr->gr_name);
		l->g[l->ng].gid = (uint32_t)gr->gr_gid;
		l->ng++;
	}
	fclose(f);
	return 0;
}

static const struct local_user *
local_by_name(const struct locals *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->nu; i++)
		if (strcmp(l->u[i].name, name) == 0)
			return &l->u[i];
	return NULL;
}

static const struct local_group *
group_by_gid(const struct locals *l, uint32_t gid)
{
	size_t i;

	for (i = 0; i < l->ng; i++)
		if (l->g[i].gid == gid)
			return &l->g[i];
	return NULL;
}

static struct adopt_candidate *
cand_push(struct adopt_report *r)
{
	struct adopt_candidate *c;

	r->v = xreallocarray(r->v, r->n + 1, sizeof(*r->v));
	c = &r->v[r->n++];
	memset(c, 0, sizeof(*c));
	return c;
}

/*
 * The Linux name in a collision reject's reason: `user name "X" collides
 * with a local account` (sync.c).  The name was validated before it was
 * stored; it is checked again here.  0 with out, or -1.
 */
static int
collision_name(const char *reason, char *out, size_t outlen)
{
	static const char pre[] = "user name \"";
	static const char post[] = "\" collides with a local account";
	size_t n, lr = strlen(reason), lpre = sizeof(pre) - 1,
	    lpost = sizeof(post) - 1;

	if (lr <= lpre + lpost || strncmp(reason, pre, lpre) != 0 ||
	    strcmp(reason + lr - lpost, post) != 0)
		return -1;
	n = lr - lpre - lpost;
	if (n >= outlen)
		return -1;
	memcpy(out, reason + lpre, n);
	out[n] = '\0';
	return names_check(out) == NULL ? 0 : -1;
}

/* One-value look-up: the text of column 0 for one bound argument, or
 * NULL (malloc'd).  *failed set on a SQLite error. */
static char *
lookup_text(sqlite3 *db, const char *sql, long long arg, const char *sarg,
    int *failed)
{
	sqlite3_stmt *st;
	char *v = NULL;
	int step;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		*failed = 1;
		return NULL;
	}
	if (sarg != NULL)
		sqlite3_bind_text(st, 1, sarg, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, arg);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		v = xstrdup(coltext(st, 0));
	else if (step != SQLITE_DONE)
		*failed = 1;
	sqlite3_finalize(st);
	return v;
}

/* Why cand (a local account matching an Okta user) cannot be adopted, or
 * NULL.  Malloc'd. */
static char *
refusal(sqlite3 *db, const struct locals *l, const struct adopt_candidate *cd,
    const char *pwf, int *failed)
{
	const struct local_user *lu = local_by_name(l, cd->name);
	const struct local_group *lg;
	char *owner;
	size_t i;

	if (lu == NULL)
		return xasprintf("there is no local account %s in %s any more; "
		    "run okta-sync sync", cd->name, pwf);
	if (lu->uid == 0)
		return xstrdup("UID 0 (the superuser) is never adopted");
	if (!adopt_id_allowed(lu->uid))
		return xasprintf("a system account (UID %u) is never adopted: only "
		    "UIDs from %u up, except 65534 and 65535", lu->uid,
		    ADOPT_MIN_ID);
	if (lu->gid == 0 || !adopt_id_allowed(lu->gid))
		return xasprintf("its primary group (GID %u) is a system group, "
		    "never adopted: only GIDs from %u up, except 65534 and 65535",
		    lu->gid, ADOPT_MIN_ID);
	for (i = 0; i < l->nu; i++)
		if (&l->u[i] != lu && l->u[i].uid == lu->uid)
			return xasprintf("its UID %u is shared with the local account "
			    "%s", lu->uid, l->u[i].name);
	if (lu->gid != lu->uid && (lg = group_by_gid(l, lu->uid)) != NULL)
		return xasprintf("its UID %u is also the GID of the local group %s "
		    "(okta-sync keeps UIDs and GIDs apart)", lu->uid, lg->name);
	owner = lookup_text(db, "SELECT okta_id FROM main.allocations"
	    " WHERE id = ?", lu->uid, NULL, failed);
	if (owner == NULL && lu->gid != lu->uid)
		owner = lookup_text(db, "SELECT okta_id FROM main.allocations"
		    " WHERE id = ?", lu->gid, NULL, failed);
	if (owner != NULL) {
		char *r = xasprintf("its UID or GID is already allocated to the "
		    "Okta entry %s", owner);

		free(owner);
		return r;
	}
	owner = lookup_text(db, "SELECT name FROM main.adoptions WHERE uid = ?1"
	    " OR gid = ?1", lu->uid, NULL, failed);
	if (owner == NULL)
		owner = lookup_text(db, "SELECT name FROM main.adoptions"
		    " WHERE uid = ?1 OR gid = ?1", lu->gid, NULL, failed);
	if (owner != NULL) {
		char *r = xasprintf("its UID %u or GID %u is already adopted "
		    "(local account %s)", lu->uid, lu->gid, owner);

		free(owner);
		return r;
	}
	return NULL;
}

static int
cmp_cand(const void *a, const void *b)
{
	const struct adopt_candidate *x = a, *y = b;
	int c;

	if (x->state != y->state)
		return (int)x->state - (int)y->state;
	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return strcmp(x->okta_id, y->okta_id);
}

/* What adopt_survey works with, shared by its steps. */
struct survey {
	sqlite3 *db;
	const struct config *c;
	struct locals l;
	struct adopt_report *r;
	sqlite3_stmt *st;        /* the scan under way (finalized by the caller
	                            on failure, after reading its message) */
	int failed;              /* a look-up hit a SQLite error */
};

/* The adoptions already made, ADOPT_DONE.  0, or -1 on a SQLite error. */
static int
survey_adopted(struct survey *s)
{
	int step;

	if (sqlite3_prepare_v2(s->db, "SELECT a.okta_id, a.name, a.uid, a.gid,"
	    " a.home, a.adopted, u.name, u.uid, u.login,"
	    " (SELECT x.okta_name FROM main.rejects x WHERE x.kind = 'user'"
	    "  AND x.okta_id = a.okta_id LIMIT 1),"
	    " (SELECT x.reason FROM main.rejects x WHERE x.kind = 'user'"
	    "  AND x.okta_id = a.okta_id LIMIT 1)"
	    " FROM main.adoptions a LEFT JOIN main.users u"
	    " ON u.okta_id = a.okta_id", -1, &s->st, NULL) != SQLITE_OK)
		return -1;
	while ((step = sqlite3_step(s->st)) == SQLITE_ROW) {
		sqlite3_stmt *st = s->st;
		struct adopt_candidate *cd = cand_push(s->r);
		const struct local_user *lu;
		const struct local_group *lg;

		cd->state = ADOPT_DONE;
		cd->okta_id = xstrdup(coltext(st, 0));
		cd->name = xstrdup(coltext(st, 1));
		cd->uid = (uint32_t)sqlite3_column_int64(st, 2);
		cd->gid = (uint32_t)sqlite3_column_int64(st, 3);
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			cd->home = xstrdup(coltext(st, 4));
		cd->adopted = sqlite3_column_int64(st, 5);
		if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
			cd->okta_name = xstrdup(coltext(st, 6));
			cd->synced = sqlite3_column_int64(st, 7) == cd->uid;
		}
		if (sqlite3_column_type(st, 8) != SQLITE_NULL)
			cd->login = xstrdup(coltext(st, 8));
		else if (sqlite3_column_type(st, 9) != SQLITE_NULL)
			cd->login = xstrdup(coltext(st, 9));
		if (!cd->synced)
			cd->reason = xstrdup(sqlite3_column_type(st, 10) != SQLITE_NULL ?
			    coltext(st, 10) : "not synced yet (or no longer in Okta): "
			    "run okta-sync sync");
		lu = local_by_name(&s->l, cd->name);
		cd->local_present = lu != NULL && lu->uid == cd->uid;
		if ((lg = group_by_gid(&s->l, cd->gid)) != NULL)
			cd->group = xstrdup(lg->name);
	}
	if (step != SQLITE_DONE)
		return -1;
	sqlite3_finalize(s->st);
	s->st = NULL;
	return 0;
}

/* The last sync's collisions with local accounts, ADOPT_CAN for now.
 * 0, or -1 on a SQLite error. */
static int
survey_collisions(struct survey *s)
{
	char name[NAME_MAX_LEN + 1];
	int step;

	if (sqlite3_prepare_v2(s->db, "SELECT okta_id, okta_name, reason FROM"
	    " main.rejects WHERE kind = 'user' AND reason LIKE 'user name %'"
	    " AND okta_id NOT IN (SELECT okta_id FROM main.adoptions)"
	    " ORDER BY okta_id", -1, &s->st, NULL) != SQLITE_OK)
		return -1;
	while ((step = sqlite3_step(s->st)) == SQLITE_ROW) {
		sqlite3_stmt *st = s->st;
		struct adopt_candidate *cd;
		const struct local_user *lu;
		const struct local_group *lg;

		if (collision_name(coltext(st, 2), name, sizeof(name)) != 0)
			continue;
		cd = cand_push(s->r);
		cd->state = ADOPT_CAN;
		cd->name = xstrdup(name);
		cd->okta_id = xstrdup(coltext(st, 0));
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			cd->login = xstrdup(coltext(st, 1));
		if ((lu = local_by_name(&s->l, name)) != NULL) {
			cd->local_present = 1;
			cd->uid = lu->uid;
			cd->gid = lu->gid;
			cd->home = xstrdup(lu->home);
			if ((lg = group_by_gid(&s->l, lu->gid)) != NULL)
				cd->group = xstrdup(lg->name);
		}
	}
	if (step != SQLITE_DONE)
		return -1;
	sqlite3_finalize(s->st);
	s->st = NULL;
	return 0;
}

/*
 * Why the candidate r->v[k] among r->v[first..] cannot be adopted, or
 * NULL: several Okta users mapping to its name, or refusal().  Malloc'd.
 */
static char *
candidate_refusal(struct survey *s, size_t first, size_t k, const char *pwf)
{
	struct adopt_report *r = s->r;
	struct adopt_candidate *cd = &r->v[k];
	char *ids = NULL, *t, *why;
	size_t same = 0, j;

	for (j = first; j < r->n; j++)
		if (strcmp(r->v[j].name, cd->name) == 0) {
			same++;
			t = xasprintf("%s%s%s", ids ? ids : "", ids ? ", " : "",
			    r->v[j].okta_id);
			free(ids);
			ids = t;
		}
	if (same > 1)
		why = xasprintf("%zu Okta users map to the name %s "
		    "(%s); only one could take it over", same, cd->name, ids);
	else
		why = refusal(s->db, &s->l, cd, pwf, &s->failed);
	free(ids);
	return why;
}

/* Judge the collisions r->v[first..]: ADOPT_CANNOT with a reason, or
 * ADOPT_CAN with the home Okta would give when it differs. */
static void
judge_collisions(struct survey *s, size_t first)
{
	const char *pwf = s->c->passwd_file ? s->c->passwd_file : "/etc/passwd";
	char home[PATH_FIELD_MAX_LEN + 1];
	size_t i;

	for (i = first; i < s->r->n; i++) {
		struct adopt_candidate *cd = &s->r->v[i];

		cd->reason = candidate_refusal(s, first, i, pwf);
		if (cd->reason != NULL)
			cd->state = ADOPT_CANNOT;
		else if (s->c->home != NULL && names_expand_home(s->c->home,
		    cd->name, home, sizeof(home)) == NULL &&
		    strcmp(home, cd->home) != 0)
			cd->okta_home = xstrdup(home);
	}
}

int
adopt_survey(sqlite3 *db, const struct config *c, struct adopt_report *r,
    char *err, size_t errlen)
{
	struct survey s;
	size_t first;

	memset(r, 0, sizeof(*r));
	memset(&s, 0, sizeof(s));
	s.db = db;
	s.c = c;
	s.r = r;
	if (locals_read(c, &s.l, err, errlen) != 0)
		return -1;
	if (survey_adopted(&s) != 0)
		goto sqlerr;
	first = r->n;
	if (survey_collisions(&s) != 0)
		goto sqlerr;
	judge_collisions(&s, first);
	if (s.failed)
		goto sqlerr;
	qsort(r->v, r->n, sizeof(*r->v), cmp_cand);
	locals_free(&s.l);
	return 0;
sqlerr:
	snprintf(err, errlen, "reading cache.db: %s", sqlite3_errmsg(db));
	sqlite3_finalize(s.st);
	locals_free(&s.l);
	adopt_report_free(r);
	return -1;
}

void
adopt_report_free(struct adopt_report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->v[i].name);
		free(r->v[i].okta_id);
		free(r->v[i].login);
		free(r->v[i].home);
		free(r->v[i].group);
		free(r->v[i].reason);
		free(r->v[i].okta_name);
		free(r->v[i].okta_home);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

int
adopt_record(sqlite3 *db, const struct adopt_candidate *cd, long long now,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (cd->state != ADOPT_CAN || !adopt_id_allowed(cd->uid) ||
	    !adopt_id_allowed(cd->gid)) {
		snprintf(err, errlen, "%s cannot be adopted", cd->name);
		return -1;
	}
	if (sqlite3_prepare_v2(db, "INSERT INTO main.adoptions (okta_id, name,"
	    " uid, gid, home, adopted, local_group) VALUES (?, ?, ?, ?, ?, ?, 1)",
	    -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_text(st, 1, cd->okta_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cd->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, cd->uid);
	sqlite3_bind_int64(st, 4, cd->gid);
	if (cd->home != NULL)
		sqlite3_bind_text(st, 5, cd->home, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_int64(st, 6, now);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		snprintf(err, errlen, "recording the adoption of %s: %s", cd->name,
		    sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}
