/*
 * sync.c - one sync run (see sync.h): fetch everything from Okta into
 * staging tables, validate (map.c per entry, then the checks that need
 * every entry: local collisions, duplicate names, IDs), print the plan
 * (plan.c), and unless dry-run apply it in one SQLite transaction and
 * publish a new snapshot (publish.c).
 *
 * Order matters for the guarantees in DESIGN.md:
 *   - Nothing is written to cache.db before every listing has succeeded
 *     (rule 5): fetch results live in TEMP tables, which vanish with the
 *     connection.  A dry run opens the cache read-only (or not at all when
 *     it does not exist yet) and takes no lock, so it cannot change a byte.
 *   - Name checks run before IDs are allocated, so a rejected entry never
 *     consumes an ID; IDs follow the deterministic rule of idalloc.h.
 *   - The token lives only inside the Okta client, which wipes it.
 *
 * The API token is read here (config_read_token), handed to the Okta
 * client, and wiped at once; it is never stored or printed.  Rejected
 * entries appear in the printed plan with their reason, and are logged
 * (info) when no plan is printed (the daemon, --quiet); they are also kept
 * in the cache's rejects table.
 *
 * Scope: with [sync] groups set, only those Okta groups (matched by name,
 * ASCII case-insensitively) are synced; with members_only, only members of
 * the synced groups become users.
 *
 * Incremental syncs (opts->full == 0): the staging tables are first filled
 * from the cache (what the last applied sync made of Okta), then the
 * entries Okta changed since the watermark are fetched over them --
 * users with `lastUpdated gt W` (a filter, so DEPROVISIONED users come
 * too), groups with `lastUpdated gt W or lastMembershipUpdated gt W`, and
 * the members of those groups only -- and the same validation, plan and
 * apply run as for a full sync, so the result is the one a full sync
 * gives.  W is the watermark minus OVERLAP_SECONDS (see there for why
 * that much): an entry changed in the same second as the watermark, or
 * shown late by Okta's listings, must come again (it is de-duplicated by
 * the staging tables' primary keys).  The watermark is the server's Date at the first
 * response of the run, but never later than the newest lastUpdated seen
 * (or the previous watermark), so a server clock ahead of its data cannot
 * skip changes; it is stored in the meta table ("incr_since", epoch s) in
 * the apply's transaction, with a fingerprint of the mapping settings
 * ("incr_config").  Hard deletions are invisible to an incremental sync
 * (a deleted user leaves the groups that listed it, whose
 * lastMembershipUpdated changes, but the user stays until the next full
 * sync; full_sync_schedule catches them).
 *
 * The entries the last sync rejected are not in the cache, so an
 * incremental sync fetches them again by id (and each such user's groups),
 * to judge them as a full sync would.
 *
 * A sync is full when asked (opts->full), and also when an incremental one
 * could not give a full sync's result: no watermark yet, the mapping
 * settings changed, more than REFETCH_MAX rejected entries to fetch again,
 * or a rejected entry without a usable id.
 */
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "adopt.h"
#include "cache.h"
#include "crashpoint.h"
#include "idalloc.h"
#include "lock.h"
#include "runlog.h"
#include "strset.h"
#include "tombstone.h"
#include "log.h"
#include "map.h"
#include "oauth.h"
#include "okta.h"
#include "okta_logs.h"
#include "plan.h"
#include "publish.h"
#include "sync.h"
#include "userkeys.h"
#include "xmalloc.h"

/* A growable array of strings, for lists of Okta ids. */
static void
strv_push(char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
}

static void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * Fetch this much before the watermark again.  Two seconds would cover
 * the one-second resolution of Okta's timestamps alone; the rest covers
 * what the watermark cannot see: a change stamped just before the
 * watermark that Okta's listings (served from an eventually consistent
 * index) show only a little later, and the skew between the Okta nodes
 * that stamp lastUpdated and the one whose Date set the watermark (NTP
 * keeps those well within a second).  Entries fetched twice are merged by
 * the staging tables' keys, so the cost is only re-listing what changed
 * in the last two minutes.
 */
#define OVERLAP_SECONDS 120
/* Entries the last sync rejected are fetched again by id, REFETCH_BATCH
 * ids a request (and each user's groups, one request a user), unless
 * there are more than REFETCH_MAX: then a full sync costs less. */
#define REFETCH_BATCH 20
#define REFETCH_MAX 50
/*
 * Memberships are staged MEMBER_BATCH rows to an INSERT: one statement
 * per membership (half a million in a large sync) spent nearly as much
 * on starting and ending the statement (reset, step, halt) as on the
 * insert itself.  The rows wait in sync_ctx.pending until a batch is
 * full or the group's listing ends (flush_members).
 */
#define MEMBER_BATCH 32

struct sync_ctx {
	struct strset seen_users;       /* Okta ids from the user listings */
	struct strset changed_set;      /* incremental: groups to re-list */
	char **changed;                 /* the same, in the order seen */
	size_t nchanged;
	int incremental;                /* this run is incremental */
	char **rej_users, **rej_groups; /* incremental: rejected last time */
	size_t nrej_users, nrej_groups;
	const char *cur_user;           /* whose groups are being fetched */
	sqlite3_stmt *ins_ugroup;       /* a membership from a user's groups
	                                   (fetch_rejected only) */
	long long prev_since;           /* the stored watermark (incremental) */
	long long max_seen;             /* newest lastUpdated seen, epoch s */
	double fetch_t0;                /* progress: when fetching began */
	double prog_last;               /* progress: last line shown */
	unsigned long prog_pages, prog_done, prog_cur;
	int prog_tty;                   /* stderr is a terminal: \r lines */
	const struct config *c;
	const struct sync_opts *opts;
	sqlite3 *db;
	struct idalloc *ids;
	struct adopt_set *adopt;          /* adoptions (adopt.h) */
	sqlite3_stmt *ins_user, *ins_group, *ins_member, *ins_bad;
	sqlite3_stmt *ins_members;      /* MEMBER_BATCH memberships at once */
	char pending[MEMBER_BATCH][MAP_ID_MAX];  /* cur_group's, not staged yet */
	size_t npending;
	sqlite3_stmt *ins_keyrej, *del_keyrej;  /* s_keyrej (userkeys.h) */
	const char *cur_group;          /* whose members are being fetched */
	unsigned long fetched_users;
	int failed;                     /* a callback hit a SQLite error */
	char err[512];
	char **warnings;                /* NULL-terminated */
	size_t nwarnings;
	unsigned char *group_seen;      /* one per c->groups entry */
};

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void add_warning(struct sync_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
add_warning(struct sync_ctx *x, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = xstrdup("(out of memory)");
	va_end(ap);
	x->warnings = xreallocarray(x->warnings, x->nwarnings + 2,
	    sizeof(*x->warnings));
	x->warnings[x->nwarnings++] = s;
	x->warnings[x->nwarnings] = NULL;
}

static int
sql_fail(struct sync_ctx *x, const char *what)
{
	if (!x->failed)
		snprintf(x->err, sizeof(x->err), "%s: %s", what,
		    sqlite3_errmsg(x->db));
	x->failed = 1;
	return -1;
}

static int
exec(struct sync_ctx *x, const char *sql)
{
	char e[400];

	if (cache_exec(x->db, sql, e, sizeof(e)) != 0) {
		if (!x->failed)
			snprintf(x->err, sizeof(x->err), "%s", e);
		x->failed = 1;
		return -1;
	}
	return 0;
}

/*
 * Bind a text value without a copy: every statement here is stepped right
 * after binding, while the caller's string is still alive, and reset
 * before its next use.
 */
static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static int
stopped(const struct sync_ctx *x)
{
	return x->opts->stop != NULL && *x->opts->stop;
}

/* ---- Watermarks ------------------------------------------------------- */

/* An Okta timestamp ("2026-11-28T14:03:20.000Z", UTC, fraction optional)
 * as epoch seconds (the fraction dropped), or -1 when s is anything else:
 * the System Log's parser, so that both read Okta's times alike. */
static long long
okta_time(const char *s)
{
	long long ms = okta_log_time_ms(s);

	return ms < 0 ? -1 : ms / 1000;
}

static void
note_time(struct sync_ctx *x, const char *s)
{
	long long t = okta_time(s);

	if (t > x->max_seen)
		x->max_seen = t;
}

/* The filter value for t: Okta's format, UTC. */
static void
format_okta_time(long long t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%dT%H:%M:%S.000Z", &tm) == 0)
		snprintf(out, outlen, "1970-01-01T00:00:00.000Z");
}

static uint64_t
fp_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static uint64_t
fp_str(uint64_t h, const char *s)
{
	if (s == NULL)
		return fp_bytes(h, "\1", 2);	/* NULL differs from "" */
	return fp_bytes(h, s, strlen(s) + 1);
}

static uint64_t
fp_num(uint64_t h, long long v)
{
	return fp_bytes(h, &v, sizeof(v));
}

/*
 * A fingerprint (FNV-1a, 63 bits) of every setting that changes what an
 * Okta entry becomes or whether it is synced.  A cache made under other
 * settings cannot stand in for Okta's unchanged entries, so an
 * incremental sync needs the fingerprint of the last sync.
 */
static long long
config_fingerprint(const struct config *c)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; c->groups != NULL && i < c->ngroups; i++)
		h = fp_str(h, c->groups[i]);
	h = fp_num(h, (long long)c->ngroups);
	h = fp_num(h, c->members_only);
	h = fp_num(h, (long long)c->deprovisioned);
	h = fp_num(h, c->uid_min);
	h = fp_num(h, c->uid_max);
	h = fp_num(h, c->gid_min);
	h = fp_num(h, c->gid_max);
	h = fp_str(h, c->home);
	h = fp_str(h, c->default_shell);
	for (i = 0; c->allowed_shells != NULL && c->allowed_shells[i] != NULL; i++)
		h = fp_str(h, c->allowed_shells[i]);
	h = fp_num(h, (long long)c->username_source);
	h = fp_str(h, c->strip_domain);
	h = fp_str(h, c->username_attribute);
	h = fp_str(h, c->uid_attribute);
	h = fp_str(h, c->gid_attribute);
	h = fp_str(h, c->shell_attribute);
	h = fp_str(h, c->ssh_keys_attribute);
	h = fp_num(h, c->ssh_keys_allow_options);
	h = fp_num(h, (long long)c->primary_group);
	h = fp_num(h, c->primary_gid);
	h = fp_num(h, c->group_types);
	h = fp_str(h, c->domain);
	return (long long)(h >> 1);
}

/* ---- Local accounts --------------------------------------------------- */

/*
 * Read the local passwd and group files (never through NSS, which would
 * ask libnss_okta itself): their names go into local_users/local_groups,
 * their IDs are reserved.  "root" is always reserved.  0 or -1 (x->err).
 */
static int
load_local(struct sync_ctx *x)
{
	const char *pwf = x->c->passwd_file ? x->c->passwd_file : "/etc/passwd";
	const char *grf = x->c->group_file ? x->c->group_file : "/etc/group";
	sqlite3_stmt *su = NULL, *sg = NULL;
	struct passwd *pw;
	struct group *gr;
	FILE *f = NULL;
	int rc = -1;
	unsigned own;

	if (sqlite3_prepare_v2(x->db, "INSERT OR IGNORE INTO local_users(name)"
	    " VALUES (?)", -1, &su, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(x->db, "INSERT OR IGNORE INTO local_groups(name)"
	    " VALUES (?)", -1, &sg, NULL) != SQLITE_OK) {
		sql_fail(x, "preparing the local account tables");
		goto out;
	}
	bind_text(su, 1, "root");
	bind_text(sg, 1, "root");
	if (sqlite3_step(su) != SQLITE_DONE || sqlite3_step(sg) != SQLITE_DONE) {
		sql_fail(x, "storing local accounts");
		goto out;
	}
	idalloc_reserve_local(x->ids, 0);
	if (adopt_load(x->db, &x->adopt, x->err, sizeof(x->err)) != 0) {
		x->failed = 1;
		goto out;
	}

	if ((f = fopen(pwf, "re")) == NULL) {
		snprintf(x->err, sizeof(x->err), "cannot read the local passwd "
		    "file %s: %s", pwf, strerror(errno));
		goto out;
	}
	while ((pw = fgetpwent(f)) != NULL) {
		sqlite3_reset(su);
		bind_text(su, 1, pw->pw_name);
		if (sqlite3_step(su) != SQLITE_DONE) {
			sql_fail(x, "storing local accounts");
			goto out;
		}
		/* An adopted account's own IDs are its Okta user's now
		 * (adopt.h); adopt_stage claims them. */
		own = adopt_note_local_user(x->adopt, pw);
		if (!(own & ADOPT_OWN_UID))
			idalloc_reserve_local(x->ids, (uint32_t)pw->pw_uid);
		/* A local user's primary GID is taken too, even when its
		 * group is missing from the group file. */
		if (!(own & ADOPT_OWN_GID))
			idalloc_reserve_local(x->ids, (uint32_t)pw->pw_gid);
	}
	fclose(f);
	if ((f = fopen(grf, "re")) == NULL) {
		snprintf(x->err, sizeof(x->err), "cannot read the local group "
		    "file %s: %s", grf, strerror(errno));
		goto out;
	}
	while ((gr = fgetgrent(f)) != NULL) {
		sqlite3_reset(sg);
		bind_text(sg, 1, gr->gr_name);
		if (sqlite3_step(sg) != SQLITE_DONE) {
			sql_fail(x, "storing local groups");
			goto out;
		}
		if (!adopt_note_local_group(x->adopt, gr))
			idalloc_reserve_local(x->ids, (uint32_t)gr->gr_gid);
	}
	if (adopt_stage(x->adopt, x->db, x->ids, x->err, sizeof(x->err)) != 0) {
		x->failed = 1;
		goto out;
	}
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	sqlite3_finalize(su);
	sqlite3_finalize(sg);
	return rc;
}

/* ---- Fetch ------------------------------------------------------------ */

static int
insert_bad(struct sync_ctx *x, const char *kind, const char *okta_id,
    const char *name, const char *reason)
{
	sqlite3_stmt *st = x->ins_bad;

	sqlite3_reset(st);
	bind_text(st, 1, kind);
	bind_text(st, 2, okta_id);
	bind_text(st, 3, name);
	bind_text(st, 4, reason);
	if (sqlite3_step(st) != SQLITE_DONE)
		return sql_fail(x, "staging a rejected entry");
	return 0;
}

/*
 * The SSH keys of an accepted user (userkeys.h): their refusals go into
 * s_keyrej, replacing those of an earlier fetch of the same user (seen:
 * the user was staged before in this run).  0, or -1 (x->err).
 */
static int
stage_key_rejects(struct sync_ctx *x, const char *okta_id,
    const struct userkeys *k, int seen)
{
	size_t i;

	if (seen) {
		sqlite3_reset(x->del_keyrej);
		bind_text(x->del_keyrej, 1, okta_id);
		if (sqlite3_step(x->del_keyrej) != SQLITE_DONE)
			return sql_fail(x, "staging SSH key refusals");
	}
	for (i = 0; i < k->nrejects; i++) {
		sqlite3_reset(x->ins_keyrej);
		bind_text(x->ins_keyrej, 1, okta_id);
		sqlite3_bind_int64(x->ins_keyrej, 2, (long long)i);
		bind_text(x->ins_keyrej, 3, k->rejects[i]);
		if (sqlite3_step(x->ins_keyrej) != SQLITE_DONE)
			return sql_fail(x, "staging SSH key refusals");
	}
	return 0;
}

/* Map the keys of an accepted user from item's profile into *k and stage
 * their refusals (a rejected user's keys are not looked at, but refusals
 * staged by an earlier fetch of them still go).  0, or -1 (x->err). */
static int
map_keys(struct sync_ctx *x, json_object *item, const char *okta_id,
    int seen, int accepted, struct userkeys *k)
{
	json_object *profile = NULL;

	memset(k, 0, sizeof(*k));
	if (accepted && x->c->ssh_keys_attribute != NULL) {
		if (!json_object_object_get_ex(item, "profile", &profile))
			profile = NULL;
		userkeys_map(x->c, profile, k);
	}
	if (!seen && k->nrejects == 0)
		return 0;
	return stage_key_rejects(x, okta_id, k, seen);
}

static int
user_cb(void *ctx, json_object *item)
{
	struct sync_ctx *x = ctx;
	struct mapped_user u;
	struct userkeys k;
	sqlite3_stmt *st = x->ins_user;
	int r, seen;

	if (stopped(x) || x->failed)
		return 1;
	x->fetched_users++;
	r = map_user(x->c, item, &u);
	note_time(x, u.last_updated);
	seen = strset_has(&x->seen_users, u.okta_id);
	if (r >= 0)
		strset_add(&x->seen_users, u.okta_id);
	if (r < 0)
		return insert_bad(x, "user", u.okta_id, u.login, u.reason) ? 1 : 0;
	if (map_keys(x, item, u.okta_id, seen, r == 1, &k) != 0) {
		userkeys_free(&k);
		return 1;
	}
	sqlite3_reset(st);
	bind_text(st, 1, u.okta_id);
	if (r == 1) {
		bind_text(st, 2, u.name);
		bind_text(st, 3, u.gecos);
		bind_text(st, 4, u.home);
		bind_text(st, 5, u.shell);
	} else {
		sqlite3_bind_null(st, 2);
		sqlite3_bind_null(st, 3);
		sqlite3_bind_null(st, 4);
		sqlite3_bind_null(st, 5);
	}
	bind_text(st, 6, okta_status_name(u.status));
	bind_text(st, 7, u.login);
	bind_text(st, 8, u.email);
	bind_text(st, 9, u.first_name);
	bind_text(st, 10, u.last_name);
	bind_text(st, 11, u.last_updated);
	if (u.uid_attr >= 0)
		sqlite3_bind_int64(st, 12, u.uid_attr);
	else
		sqlite3_bind_null(st, 12);
	if (r == 1)
		sqlite3_bind_null(st, 13);
	else
		bind_text(st, 13, u.reason);
	bind_text(st, 14, k.lines != NULL ? k.lines : "");
	if (u.password_changed[0] != '\0')
		bind_text(st, 15, u.password_changed);
	else
		sqlite3_bind_null(st, 15);
	r = sqlite3_step(st);
	userkeys_free(&k);
	if (r != SQLITE_DONE) {
		sql_fail(x, "staging a user");
		return 1;
	}
	return 0;
}

/* Is this Okta group one of [sync] groups?  (All are when none is set.) */
static int
group_selected(struct sync_ctx *x, const char *okta_name)
{
	size_t i;
	int hit = 0;

	if (x->c->groups == NULL || x->c->ngroups == 0)
		return 1;
	for (i = 0; i < x->c->ngroups; i++)
		if (strcasecmp(x->c->groups[i], okta_name) == 0) {
			x->group_seen[i] = 1;
			hit = 1;
		}
	return hit;
}

/*
 * Incremental: drop a group's staged row (filled from the cache) and its
 * staged members, because Okta says it changed.  row: 1 the row and the
 * members, 0 the members only.  0, or -1 (x->err).
 */
static int
unstage_group(struct sync_ctx *x, const char *okta_id, int row)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(x->db, row ? "DELETE FROM s_groups WHERE"
	    " okta_id = ?" : "DELETE FROM s_members WHERE group_id = ?", -1,
	    &st, NULL) != SQLITE_OK)
		return sql_fail(x, "staging a changed group");
	bind_text(st, 1, okta_id);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = sql_fail(x, "staging a changed group");
	sqlite3_finalize(st);
	if (rc == 0 && row)
		return unstage_group(x, okta_id, 0);
	return rc;
}

static int
group_cb(void *ctx, json_object *item)
{
	struct sync_ctx *x = ctx;
	struct mapped_group g;
	sqlite3_stmt *st = x->ins_group;
	int r;

	if (stopped(x) || x->failed)
		return 1;
	r = map_group(x->c, item, &g);
	note_time(x, g.last_updated);
	note_time(x, g.last_membership_updated);
	if (x->incremental && g.okta_id[0] != '\0') {
		/* Whatever it is now replaces what the cache said. */
		if (unstage_group(x, g.okta_id, 1) != 0)
			return 1;
		/* Its members are listed again, rejected or not, as a full
		 * sync lists them (they count for members_only's scope). */
		if (r >= 0 && !strset_has(&x->changed_set, g.okta_id) &&
		    group_selected(x, g.okta_name)) {
			strset_add(&x->changed_set, g.okta_id);
			strv_push(&x->changed, &x->nchanged, g.okta_id);
		}
	}
	if (!group_selected(x, g.okta_name))
		return 0;
	if (r < 0)
		return insert_bad(x, "group", g.okta_id, g.okta_name, g.reason) ? 1 : 0;
	sqlite3_reset(st);
	bind_text(st, 1, g.okta_id);
	bind_text(st, 2, g.okta_name);
	if (r == 1)
		bind_text(st, 3, g.name);
	else
		sqlite3_bind_null(st, 3);
	if (g.gid_attr >= 0)
		sqlite3_bind_int64(st, 4, g.gid_attr);
	else
		sqlite3_bind_null(st, 4);
	bind_text(st, 5, g.last_updated);
	bind_text(st, 6, g.last_membership_updated);
	if (r == 1)
		sqlite3_bind_null(st, 7);
	else
		bind_text(st, 7, g.reason);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sql_fail(x, "staging a group");
		return 1;
	}
	return 0;
}

/*
 * Stage the memberships of cur_group waiting in x->pending: a full batch
 * with one statement, fewer one by one.  0, or -1 (x->err).
 */
static int
flush_members(struct sync_ctx *x)
{
	sqlite3_stmt *st = x->npending == MEMBER_BATCH ? x->ins_members :
	    x->ins_member;
	size_t i = 0;
	int col;

	while (i < x->npending) {
		sqlite3_reset(st);
		bind_text(st, 1, x->cur_group);
		for (col = 2; col <= sqlite3_bind_parameter_count(st); col++)
			bind_text(st, col, x->pending[i++]);
		if (sqlite3_step(st) != SQLITE_DONE) {
			x->npending = 0;
			return sql_fail(x, "staging a membership");
		}
	}
	x->npending = 0;
	return 0;
}

static int
member_cb(void *ctx, json_object *item)
{
	struct sync_ctx *x = ctx;
	const char *id = map_item_id(item);

	if (stopped(x) || x->failed)
		return 1;
	/*
	 * With members_only the users come from here: a member entry is the
	 * whole user object, so the first time a user is met it is staged
	 * from it, as a users listing would have.  A full sync lists no
	 * users at all then (two groups of 50 cost a few requests, not the
	 * whole directory); an incremental one meets here the members that
	 * are neither in the cache nor among the changed users.  (Without
	 * members_only every user the token sees is staged already.)
	 */
	if (x->c->members_only && names_okta_id_valid(id) &&
	    !strset_has(&x->seen_users, id) && user_cb(x, item) != 0)
		return 1;
	if (!names_okta_id_valid(id) || !strset_has(&x->seen_users, id))
		return 0;	/* not a user we have staged */
	/* Valid: 1 to 64 characters, so it fits. */
	memcpy(x->pending[x->npending++], id, strlen(id) + 1);
	if (x->npending == MEMBER_BATCH && flush_members(x) != 0)
		return 1;
	return 0;
}

/*
 * After each page: pages fetched, entries, entries per second.  On a
 * terminal one line rewritten in place (\r), at most ten times a second;
 * otherwise (--progress into a file) one line per page.
 */
static void
progress_cb(void *ctx, const char *what, unsigned long items)
{
	struct sync_ctx *x = ctx;
	unsigned long total;
	double now = now_mono(), dt;

	x->prog_pages++;
	x->prog_cur = items;
	if (x->prog_tty && now - x->prog_last < 0.1)
		return;
	x->prog_last = now;
	total = x->prog_done + x->prog_cur;
	dt = now - x->fetch_t0;
	fprintf(stderr, "%sokta-sync: %s: %lu page%s, %lu entries, %.0f "
	    "entries/s%s", x->prog_tty ? "\r" : "", what, x->prog_pages,
	    x->prog_pages == 1 ? "" : "s", total,
	    dt > 0 ? (double)total / dt : 0.0, x->prog_tty ? "\033[K" : "\n");
}

/* A listing is about to begin: its items count from 0 again. */
static void
progress_next(struct sync_ctx *x)
{
	x->prog_done += x->prog_cur;
	x->prog_cur = 0;
}

/* The end of the fetch: the last figures, and the line ended. */
static void
progress_end(struct sync_ctx *x)
{
	if (!x->opts->progress)
		return;
	progress_next(x);
	fprintf(stderr, "%sokta-sync: fetched %lu pages, %lu entries in %.1f s"
	    "%s\n", x->prog_tty ? "\r" : "", x->prog_pages, x->prog_done,
	    now_mono() - x->fetch_t0, x->prog_tty ? "\033[K" : "");
}

/* Turn a failed listing into the result: the okerr, with the detail. */
static okerr
fetch_error(struct sync_ctx *x, struct okta_client *oc, okerr rc,
    struct sync_result *res)
{
	if (x->failed) {
		snprintf(res->message, sizeof(res->message), "%s", x->err);
		return OK_ERR_CACHE;
	}
	if (rc == OK_ERR_INTERRUPTED && stopped(x)) {
		snprintf(res->message, sizeof(res->message),
		    "stopped by a signal before anything was applied");
		return OK_ERR_INTERRUPTED;
	}
	snprintf(res->message, sizeof(res->message), "%s", okta_last_error(oc));
	return rc;
}

/* One group of a user the last sync rejected: the membership is staged
 * when the group is (a synced group). */
static int
user_group_cb(void *ctx, json_object *item)
{
	struct sync_ctx *x = ctx;
	sqlite3_stmt *st = x->ins_ugroup;
	const char *id = map_item_id(item);

	if (stopped(x) || x->failed)
		return 1;
	if (!okta_valid_id(id))
		return 0;
	sqlite3_reset(st);
	bind_text(st, 1, id);
	bind_text(st, 2, x->cur_user);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sql_fail(x, "staging a membership");
		return 1;
	}
	return 0;
}

/* List ids[0..n) with `id eq "..." or ...` filters, REFETCH_BATCH a time. */
static okerr
fetch_by_id(struct sync_ctx *x, struct okta_client *oc, char **ids, size_t n,
    int groups)
{
	char *filter, *more;
	size_t i, j;
	okerr rc = OK_SUCCESS;

	for (i = 0; i < n && rc == OK_SUCCESS; i += REFETCH_BATCH) {
		filter = xstrdup("");
		for (j = i; j < n && j < i + REFETCH_BATCH; j++) {
			more = xasprintf("%s%sid eq \"%s\"", filter,
			    j > i ? " or " : "", ids[j]);
			free(filter);
			filter = more;
		}
		rc = groups ? okta_list_groups(oc, filter, group_cb, x) :
		    okta_list_users(oc, filter, user_cb, x);
		progress_next(x);
		free(filter);
	}
	return rc;
}

/* The statement that stages a user's groups as memberships (of groups
 * staged already), for the refetches by id. */
static okerr
prepare_ins_ugroup(struct sync_ctx *x)
{
	if (sqlite3_prepare_v2(x->db, "INSERT OR IGNORE INTO s_members"
	    " (group_id, user_id) SELECT ?1, ?2 WHERE EXISTS"
	    " (SELECT 1 FROM s_groups WHERE okta_id = ?1)", -1, &x->ins_ugroup,
	    NULL) != SQLITE_OK) {
		sql_fail(x, "preparing the staging statements");
		return OK_ERR_CACHE;
	}
	return OK_SUCCESS;
}

/*
 * Incremental: the entries the last sync rejected are not in the cache,
 * yet a full sync would judge them again (a local account removed since,
 * a name freed): fetch them again by id.  A group comes with its members
 * (group_cb queues it); a user's memberships come from its groups, since
 * the cache kept none for it.
 */
static okerr
fetch_rejected(struct sync_ctx *x, struct okta_client *oc)
{
	size_t i;
	okerr rc;

	rc = fetch_by_id(x, oc, x->rej_groups, x->nrej_groups, 1);
	if (rc == OK_SUCCESS)
		rc = fetch_by_id(x, oc, x->rej_users, x->nrej_users, 0);
	if (rc != OK_SUCCESS)
		return rc;
	if (prepare_ins_ugroup(x) != OK_SUCCESS)
		return OK_ERR_CACHE;
	for (i = 0; i < x->nrej_users && rc == OK_SUCCESS; i++) {
		/* Not returned: deleted in Okta, or no longer visible. */
		if (!strset_has(&x->seen_users, x->rej_users[i]))
			continue;
		x->cur_user = x->rej_users[i];
		rc = okta_list_user_groups(oc, x->rej_users[i], user_group_cb, x);
		progress_next(x);
	}
	x->cur_user = NULL;
	sqlite3_finalize(x->ins_ugroup);
	x->ins_ugroup = NULL;
	return rc;
}

/*
 * Incremental: fill the staging tables from the cache (accepted entries
 * and their memberships: what the last sync made of Okta).  0, or -1
 * (x->err).
 */
static int
restage_cache(struct sync_ctx *x)
{
	static const char restage_sql[] =
	    "INSERT INTO s_users (okta_id, name, gecos, home, shell, status,"
	    " login, email, first_name, last_name, last_updated, ssh_keys,"
	    " password_changed)"
	    " SELECT okta_id, name, gecos, home, shell, status, login, email,"
	    " first_name, last_name, last_updated, ssh_keys, password_changed"
	    " FROM main.users;"
	    "INSERT INTO s_groups (okta_id, okta_name, name, last_updated,"
	    " last_membership_updated) SELECT okta_id, okta_name, name,"
	    " last_updated, last_membership_updated FROM main.groups;"
	    "INSERT INTO s_members (group_id, user_id)"
	    " SELECT group_id, user_id FROM main.memberships;";
	sqlite3_stmt *st = NULL;

	if (exec(x, restage_sql) != 0)
		return -1;
	/* The cached users count as seen (a member may name them); the
	 * cached groups as found (for the [sync] groups warning). */
	if (sqlite3_prepare_v2(x->db, "SELECT okta_id FROM main.users", -1,
	    &st, NULL) != SQLITE_OK)
		return sql_fail(x, "reading the cached users");
	while (sqlite3_step(st) == SQLITE_ROW)
		strset_add(&x->seen_users, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(x->db, "SELECT okta_name FROM main.groups", -1,
	    &st, NULL) != SQLITE_OK)
		return sql_fail(x, "reading the cached groups");
	while (sqlite3_step(st) == SQLITE_ROW)
		(void)group_selected(x, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return 0;
}

/* Incremental: the users and groups changed since the watermark. */
static okerr
fetch_changed_since(struct sync_ctx *x, struct okta_client *oc)
{
	char since[40], *filter, *types;
	okerr rc;

	format_okta_time(x->prev_since - OVERLAP_SECONDS, since, sizeof(since));
	debug("incremental sync: entries changed after %s", since);
	/* A filter returns DEPROVISIONED users too: one listing suffices. */
	filter = xasprintf("lastUpdated gt \"%s\"", since);
	rc = okta_list_users(oc, filter, user_cb, x);
	progress_next(x);
	free(filter);
	if (rc != OK_SUCCESS)
		return rc;
	types = config_group_type_filter(x->c);
	if (types != NULL)
		filter = xasprintf("(lastUpdated gt \"%s\" or lastMembershipUpdated"
		    " gt \"%s\") and (%s)", since, since, types);
	else
		filter = xasprintf("lastUpdated gt \"%s\" or lastMembershipUpdated"
		    " gt \"%s\"", since, since);
	free(types);
	rc = okta_list_groups(oc, filter, group_cb, x);
	progress_next(x);
	free(filter);
	if (rc == OK_SUCCESS && x->nrej_users + x->nrej_groups > 0)
		rc = fetch_rejected(x, oc);
	return rc;
}

/* A 403 or 404 for an entry an event named: said, and skipped. */
static int
unreadable(struct okta_client *oc, okerr rc, const char *what, const char *id)
{
	if (rc != OK_ERR_NOT_FOUND && rc != OK_ERR_FORBIDDEN)
		return 0;
	warn("events: the %s %s cannot be read (%ld: %s); skipped", what, id,
	    okta_last_http_status(oc), rc == OK_ERR_NOT_FOUND ? "not found or "
	    "not visible to the token" : "the token may not read it");
	return 1;
}

/* Event-driven: a group by id.  Found, group_cb restages it and queues
 * its members; gone (404), it leaves the staging tables. */
static okerr
fetch_target_group(struct sync_ctx *x, struct okta_client *oc, const char *id)
{
	char path[128];
	okerr rc;

	snprintf(path, sizeof(path), "/api/v1/groups/%s", id);
	rc = okta_get_object(oc, path, group_cb, x);
	if (rc == OK_ERR_NOT_FOUND && unstage_group(x, id, 1) != 0)
		return OK_ERR_CACHE;
	return unreadable(oc, rc, "group", id) ? OK_SUCCESS : rc;
}

/* Event-driven: a user by id and, when refresh (its memberships changed,
 * or the cache does not know it), the synced groups it is in now. */
static okerr
fetch_target_user(struct sync_ctx *x, struct okta_client *oc, const char *id,
    int refresh)
{
	char path[128];
	sqlite3_stmt *st = NULL;
	okerr rc;

	refresh = refresh || !strset_has(&x->seen_users, id);
	snprintf(path, sizeof(path), "/api/v1/users/%s", id);
	rc = okta_get_object(oc, path, user_cb, x);
	if (rc != OK_SUCCESS)
		return unreadable(oc, rc, "user", id) ? OK_SUCCESS : rc;
	if (!refresh || !strset_has(&x->seen_users, id))
		return OK_SUCCESS;
	if (sqlite3_prepare_v2(x->db, "DELETE FROM s_members WHERE user_id = ?",
	    -1, &st, NULL) != SQLITE_OK)
		return sql_fail(x, "staging a user's groups"), OK_ERR_CACHE;
	bind_text(st, 1, id);
	rc = sqlite3_step(st) == SQLITE_DONE ? OK_SUCCESS : OK_ERR_CACHE;
	sqlite3_finalize(st);
	if (rc != OK_SUCCESS)
		return sql_fail(x, "staging a user's groups"), rc;
	x->cur_user = id;
	rc = okta_list_user_groups(oc, id, user_group_cb, x);
	x->cur_user = NULL;
	return rc;
}

/*
 * Event-driven: what the last sync rejected and this run did not fetch
 * again stays rejected (an incremental sync fetches them all again; an
 * event-driven one only what the events name), so that the next
 * incremental sync still knows to look at them.  0, or -1 (x->err).
 */
static int
carry_rejects(struct sync_ctx *x, const struct sync_targets *t)
{
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc = 0;

	if (exec(x, "CREATE TEMP TABLE IF NOT EXISTS s_targets (okta_id TEXT"
	    " PRIMARY KEY) WITHOUT ROWID; DELETE FROM s_targets;") != 0)
		return -1;
	if (sqlite3_prepare_v2(x->db, "INSERT OR IGNORE INTO s_targets"
	    " (okta_id) VALUES (?)", -1, &st, NULL) != SQLITE_OK)
		return sql_fail(x, "staging the events' targets");
	for (i = 0; i < t->nusers + t->ngroups && rc == 0; i++) {
		sqlite3_reset(st);
		bind_text(st, 1, i < t->nusers ? t->users[i] :
		    t->groups[i - t->nusers]);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = sql_fail(x, "staging the events' targets");
	}
	sqlite3_finalize(st);
	if (rc != 0)
		return rc;
	return exec(x, "INSERT INTO s_bad (kind, okta_id, okta_name, reason)"
	    " SELECT kind, okta_id, okta_name, reason FROM main.rejects"
	    " WHERE okta_id NOT IN (SELECT okta_id FROM s_targets)");
}

/* Event-driven: the groups, then the users the events named (sync.h). */
static okerr
fetch_targets(struct sync_ctx *x, struct okta_client *oc)
{
	const struct sync_targets *t = x->opts->targets;
	okerr rc = OK_SUCCESS;
	size_t i;

	if (prepare_ins_ugroup(x) != OK_SUCCESS)
		return OK_ERR_CACHE;
	for (i = 0; i < t->ngroups && rc == OK_SUCCESS && !x->failed; i++)
		if (okta_valid_id(t->groups[i]))
			rc = fetch_target_group(x, oc, t->groups[i]);
	for (i = 0; i < t->nusers && rc == OK_SUCCESS && !x->failed; i++)
		if (okta_valid_id(t->users[i]))
			rc = fetch_target_user(x, oc, t->users[i],
			    t->refresh != NULL && t->refresh[i]);
	sqlite3_finalize(x->ins_ugroup);
	x->ins_ugroup = NULL;
	if (rc == OK_SUCCESS && !x->failed && carry_rejects(x, t) != 0)
		return OK_ERR_CACHE;
	return rc;
}

/*
 * Incremental: fill the staging tables from the cache, then fetch over
 * them what changed: the entries changed since the watermark, or those
 * an event-driven run names.  The groups whose members must be listed
 * again end up in x->changed.  The caller holds the TEMP transaction.
 */
static okerr
fetch_changes(struct sync_ctx *x, struct okta_client *oc)
{
	if (restage_cache(x) != 0)
		return OK_ERR_CACHE;
	if (x->opts->targets != NULL)
		return fetch_targets(x, oc);
	return fetch_changed_since(x, oc);
}

/* The statements the listing callbacks stage entries with.  0, or -1
 * (x->err). */
static int
prepare_staging(struct sync_ctx *x)
{
	char sql[64 + MEMBER_BATCH * 16];
	size_t i, n;

	n = (size_t)snprintf(sql, sizeof(sql), "INSERT OR IGNORE INTO s_members"
	    " (group_id, user_id) VALUES (?1, ?2)");
	for (i = 1; i < MEMBER_BATCH && n < sizeof(sql); i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, ", (?1, ?%zu)", i + 2);
	if (n >= sizeof(sql) || sqlite3_prepare_v2(x->db, sql, -1,
	    &x->ins_members, NULL) != SQLITE_OK)
		return sql_fail(x, "preparing the staging statements");
	if (sqlite3_prepare_v2(x->db, "INSERT OR REPLACE INTO s_users (okta_id,"
	    " name, gecos, home, shell, status, login, email, first_name,"
	    " last_name, last_updated, uid_attr, reject, ssh_keys,"
	    " password_changed) VALUES"
	    " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &x->ins_user,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(x->db, "INSERT OR REPLACE INTO s_keyrej (okta_id,"
	    " n, reason) VALUES (?, ?, ?)", -1, &x->ins_keyrej,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(x->db, "DELETE FROM s_keyrej WHERE okta_id = ?",
	    -1, &x->del_keyrej, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(x->db, "INSERT OR REPLACE INTO s_groups (okta_id,"
	    " okta_name, name, gid_attr, last_updated, last_membership_updated,"
	    " reject) VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &x->ins_group,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(x->db, "INSERT OR IGNORE INTO s_members (group_id,"
	    " user_id) VALUES (?, ?)", -1, &x->ins_member, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(x->db, "INSERT INTO s_bad (kind, okta_id,"
	    " okta_name, reason) VALUES (?, ?, ?, ?)", -1, &x->ins_bad,
	    NULL) != SQLITE_OK)
		return sql_fail(x, "preparing the staging statements");
	return 0;
}

/*
 * Full: every user and every synced group.  The staged groups, whose
 * members are listed next, go into *gids.
 */
static okerr
fetch_everything(struct sync_ctx *x, struct okta_client *oc, char ***gids,
    size_t *ngids)
{
	sqlite3_stmt *sg = NULL;
	okerr rc = OK_SUCCESS;

	/* Every user: the plain listing omits DEPROVISIONED users,
	 * so they come from a second, filtered listing.  With
	 * members_only, the member listings below bring every user
	 * in scope (whatever their status), and no one else counts. */
	if (!x->c->members_only) {
		rc = okta_list_users(oc, NULL, user_cb, x);
		progress_next(x);
		if (rc == OK_SUCCESS)
			rc = okta_list_users(oc, "status eq \"DEPROVISIONED\"",
			    user_cb, x);
		progress_next(x);
	}
	if (rc == OK_SUCCESS) {
		/* Only the configured group types: by default not
		 * Everyone, whose members are the whole directory. */
		char *types = config_group_type_filter(x->c);

		rc = okta_list_groups(oc, types, group_cb, x);
		free(types);
	}
	progress_next(x);
	if (rc != OK_SUCCESS || x->failed)
		return rc;

	if (sqlite3_prepare_v2(x->db, "SELECT okta_id FROM s_groups"
	    " ORDER BY okta_id", -1, &sg, NULL) != SQLITE_OK) {
		sql_fail(x, "listing the staged groups");
		return OK_ERR_CACHE;
	}
	while (sqlite3_step(sg) == SQLITE_ROW)
		strv_push(gids, ngids, (const char *)sqlite3_column_text(sg, 0));
	sqlite3_finalize(sg);
	return OK_SUCCESS;
}

/* The groups in [sync] groups that no listing (nor the cache) found. */
static void
warn_missing_groups(struct sync_ctx *x)
{
	size_t i;

	for (i = 0; i < x->c->ngroups && x->c->groups != NULL; i++)
		if (!x->group_seen[i])
			add_warning(x, "the group \"%s\" in [sync] groups was not "
			    "found in Okta (or the token cannot see it)",
			    x->c->groups[i]);
}

/* The members of each group in gids[0..n). */
static okerr
fetch_members(struct sync_ctx *x, struct okta_client *oc, char **gids,
    size_t n)
{
	okerr rc = OK_SUCCESS;
	size_t i;

	for (i = 0; i < n && rc == OK_SUCCESS; i++) {
		x->cur_group = gids[i];
		x->npending = 0;
		rc = okta_list_group_members(oc, gids[i], member_cb, x);
		if (rc == OK_SUCCESS && flush_members(x) != 0)
			rc = OK_ERR_CACHE;
		progress_next(x);
	}
	x->cur_group = NULL;
	return rc;
}

/*
 * The fetch phase: everything (full) or the changes (incremental) from
 * Okta into the staging tables, in one TEMP transaction, then the members
 * of the groups that need them.
 */
static okerr
fetch(struct sync_ctx *x, struct okta_client *oc, struct sync_result *res)
{
	char **gids = NULL;
	size_t ngids = 0;
	okerr rc;

	if (prepare_staging(x) != 0)
		return fetch_error(x, oc, OK_ERR_CACHE, res);
	if (exec(x, "BEGIN") != 0)
		return fetch_error(x, oc, OK_ERR_CACHE, res);
	x->fetch_t0 = now_mono();

	if (x->incremental) {
		rc = fetch_changes(x, oc);
		/* Only the changed groups' members are listed again. */
		gids = x->changed;
		ngids = x->nchanged;
		x->changed = NULL;
		x->nchanged = 0;
	} else
		rc = fetch_everything(x, oc, &gids, &ngids);
	if (rc == OK_SUCCESS && !x->failed) {
		warn_missing_groups(x);
		rc = fetch_members(x, oc, gids, ngids);
	}
	strv_free(gids, ngids);
	/* Only the fetch looks at them: their memory (8 MB at 100k users)
	 * goes back before validation and apply reach their peak. */
	strset_free(&x->seen_users);
	strset_free(&x->changed_set);
	if (rc == OK_SUCCESS && !x->failed && exec(x, "COMMIT") == 0)
		return OK_SUCCESS;
	return fetch_error(x, oc, rc == OK_SUCCESS ? OK_ERR_CACHE : rc, res);
}

/* ---- Validation across entries ---------------------------------------- */

static const char check_groups_sql[] =
    "UPDATE s_groups SET reject = 'group name \"' || name ||"
    " '\" collides with a local group'"
    " WHERE reject IS NULL AND name IN (SELECT name FROM local_groups);"
    "DROP TABLE IF EXISTS temp.dup_g;"
    "CREATE TEMP TABLE dup_g AS SELECT name, group_concat(okta_id, ', ') AS ids"
    " FROM (SELECT name, okta_id FROM s_groups WHERE reject IS NULL"
    " ORDER BY okta_id) GROUP BY name HAVING count(*) > 1;"
    /* The group that already holds the name in the cache keeps it; else
     * none of them gets it (no silent winner). */
    "UPDATE s_groups SET reject = 'group name \"' || name ||"
    " '\" is derived from more than one Okta group ('"
    " || (SELECT ids FROM dup_g d WHERE d.name = s_groups.name) || ')'"
    " WHERE reject IS NULL AND name IN (SELECT name FROM dup_g)"
    " AND NOT EXISTS (SELECT 1 FROM main.groups g"
    " WHERE g.okta_id = s_groups.okta_id AND g.name = s_groups.name);";

static const char scope_sql[] =
    "UPDATE s_users SET in_scope = 0"
    " WHERE okta_id NOT IN (SELECT user_id FROM s_members);";

static const char check_users_sql[] =
    "UPDATE s_users SET reject = 'user name \"' || name ||"
    " '\" collides with a local account'"
    " WHERE reject IS NULL AND in_scope"
    " AND name IN (SELECT name FROM local_users)"
    /* ... unless the admin let this Okta user adopt that account. */
    " AND NOT EXISTS (SELECT 1 FROM temp.adopted a"
    " WHERE a.okta_id = s_users.okta_id AND a.name = s_users.name);";

static const char check_private_sql[] =
    "UPDATE s_users SET reject = 'user name \"' || name ||"
    " '\" is the name of a local group, so its private group cannot be made'"
    " WHERE reject IS NULL AND in_scope"
    " AND name IN (SELECT name FROM local_groups)"
    /* An adopted user's local group stands in for it (adopt.h). */
    " AND okta_id NOT IN (SELECT okta_id FROM temp.adopted);";

/*
 * An Okta group named like an Okta user (user-private groups): the user
 * keeps the name and the private group, the group is rejected.  Decided
 * this way round because whoever may create a group in Okta could
 * otherwise lock any user out of every host by naming a group after them
 * (issue 14).  Run after the user checks, so that only a user who is
 * really synced holds the name.
 */
static const char check_group_clash_sql[] =
    /* (Only validated names and Okta ids go into the reason: plans and
     * status print it as it is.) */
    "UPDATE s_groups SET reject = 'group name \"' || name ||"
    " '\" is taken by the Okta user ' || name || ' (' || (SELECT u.okta_id"
    " FROM s_users u WHERE u.name = s_groups.name AND u.reject IS NULL"
    " AND u.in_scope ORDER BY u.okta_id LIMIT 1) || ') and their private"
    " group; the user keeps it: rename the group in Okta'"
    " WHERE reject IS NULL AND name IN (SELECT name FROM s_users"
    " WHERE reject IS NULL AND in_scope);";

static const char check_dup_users_sql[] =
    "DROP TABLE IF EXISTS temp.dup_u;"
    "CREATE TEMP TABLE dup_u AS SELECT name, group_concat(okta_id, ', ') AS ids"
    " FROM (SELECT name, okta_id FROM s_users WHERE reject IS NULL"
    " AND in_scope ORDER BY okta_id) GROUP BY name HAVING count(*) > 1;"
    "UPDATE s_users SET reject = 'user name \"' || name ||"
    " '\" maps from more than one Okta user ('"
    " || (SELECT ids FROM dup_u d WHERE d.name = s_users.name) || ')'"
    " WHERE reject IS NULL AND in_scope AND name IN (SELECT name FROM dup_u)"
    " AND NOT EXISTS (SELECT 1 FROM main.users u"
    " WHERE u.okta_id = s_users.okta_id AND u.name = s_users.name);";

/* One entry's ID decision, kept until the staging rows are updated. */
struct id_result {
	char *okta_id;
	uint32_t id;
	char *reject;        /* NULL: accepted with id */
};

struct id_results {
	struct id_result *v;
	size_t n, cap;
};

static struct id_result *
idr_push(struct id_results *r, const char *okta_id)
{
	struct id_result *e;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 1024;
		r->v = xreallocarray(r->v, r->cap, sizeof(*r->v));
	}
	e = &r->v[r->n++];
	e->okta_id = xstrdup(okta_id);
	e->id = 0;
	e->reject = NULL;
	return e;
}

static void
idr_free(struct id_results *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->v[i].okta_id);
		free(r->v[i].reject);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* The reason an attribute-given ID cannot be used (claim result 1 or 2). */
static char *
taken_reason(struct sync_ctx *x, const char *what, uint32_t id, int r)
{
	const char *owner = "";

	if (r == 1)
		return xasprintf("%s %u from the %s attribute belongs to a local "
		    "account or group", what, id, what);
	idalloc_owner(x->ids, id, &owner);
	return xasprintf("%s %u from the %s attribute is already used by the "
	    "Okta entry %s", what, id, what, owner);
}

/*
 * Why an ID from an attribute does not fit [min, max], naming the range it
 * missed.  A user's range in user-private-group mode is where the UID
 * range and the GID range overlap (the UID is also its group's GID), so
 * say which of the two it is outside: printing the overlap as "the range"
 * sent admins looking at the wrong setting.
 */
static char *
id_range_reason(const struct config *c, enum id_kind kind, const char *what,
    uint32_t id, uint32_t min, uint32_t max)
{
	if (kind == ID_KIND_USER && c->primary_group == PRIMARY_GROUP_USER_PRIVATE &&
	    id >= c->uid_min && id <= c->uid_max)
		return xasprintf("uid %u from the uid attribute is inside the UID "
		    "range, but its user-private group's GID %u is outside the "
		    "GID range %u-%u ([posix] gid_min, gid_max)", id, id,
		    c->gid_min, c->gid_max);
	if (kind == ID_KIND_USER)
		return xasprintf("uid %u from the uid attribute is outside the UID "
		    "range %u-%u ([posix] uid_min, uid_max)", id, c->uid_min,
		    c->uid_max);
	return xasprintf("%s %u from the %s attribute is outside the GID range "
	    "%u-%u ([posix] gid_min, gid_max)", what, id, what, min, max);
}

/*
 * Pass one for one kind: attribute IDs are claimed, existing IDs kept;
 * entries that need a new ID are returned in `pending` in Okta id order.
 * sql columns: okta_id, attr, cached id, earliest allocation.
 */
static int
ids_pass_one(struct sync_ctx *x, const char *sql, enum id_kind kind,
    const char *what, uint32_t min, uint32_t max, struct id_results *done,
    struct id_results *pending)
{
	sqlite3_stmt *st;
	int r, step;

	if (sqlite3_prepare_v2(x->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(x, "reading IDs");
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *okta_id = (const char *)sqlite3_column_text(st, 0);
		struct id_result *e;
		const struct adoption *ad;
		uint32_t id;

		if (kind == ID_KIND_USER &&
		    (ad = adopt_find(x->adopt, okta_id)) != NULL) {
			/* Adopted: the local account's UID, outside the range
			 * by the admin's choice, claimed by adopt_stage. */
			e = idr_push(done, okta_id);
			e->id = ad->uid;
			if (ad->reason != NULL)
				e->reject = xstrdup(ad->reason);
			continue;
		}
		if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
			id = (uint32_t)sqlite3_column_int64(st, 1);
			e = idr_push(done, okta_id);
			e->id = id;
			if (id < min || id > max)
				e->reject = id_range_reason(x->c, kind, what, id, min, max);
			else if ((r = idalloc_claim(x->ids, id, okta_id, kind)) != 0)
				e->reject = taken_reason(x, what, id, r);
			continue;
		}
		if (sqlite3_column_type(st, 2) != SQLITE_NULL &&
		    sqlite3_column_int64(st, 2) >= min &&
		    sqlite3_column_int64(st, 2) <= max) {
			/* Already synced: it keeps its ID unless a local
			 * account has taken it since (rule 2 wins).  An ID
			 * outside a changed range is never kept (rule 1): the
			 * entry gets a new one below, which the plan shows as
			 * a modification, and the old one stays reserved. */
			id = (uint32_t)sqlite3_column_int64(st, 2);
			r = idalloc_claim(x->ids, id, okta_id, kind);
			e = idr_push(done, okta_id);
			e->id = id;
			if (r == 1)
				e->reject = xasprintf("its %s %u now belongs to a local "
				    "account or group", what, id);
			else if (r == 2)
				e->reject = taken_reason(x, what, id, r);
			continue;
		}
		if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
			/* Seen before (deleted, then back): its old ID. */
			id = (uint32_t)sqlite3_column_int64(st, 3);
			if (id >= min && id <= max &&
			    idalloc_claim(x->ids, id, okta_id, kind) == 0) {
				e = idr_push(done, okta_id);
				e->id = id;
				continue;
			}
		}
		idr_push(pending, okta_id);
	}
	sqlite3_finalize(st);
	if (step != SQLITE_DONE)
		return sql_fail(x, "reading IDs");
	return 0;
}

static void
ids_pass_two(struct sync_ctx *x, enum id_kind kind, const char *what,
    uint32_t min, uint32_t max, struct id_results *pending)
{
	size_t i;

	for (i = 0; i < pending->n; i++) {
		struct id_result *e = &pending->v[i];

		if (min > max) {
			e->reject = xasprintf("no %s range is usable", what);
			continue;
		}
		if (idalloc_derive(x->ids, e->okta_id, kind, min, max, &e->id) != 0)
			e->reject = xasprintf("no free %s is left in %u-%u", what,
			    min, max);
	}
}

/* The decisions of one kind, in okta_id order, for assigned_fn. */
struct id_lookup {
	struct id_result **v;
	size_t n, last;
};

static int
idr_cmp(const void *key, const void *e)
{
	return strcmp(key, (*(struct id_result *const *)e)->okta_id);
}

/* a and b (each in okta_id order: ids_pass_one's ORDER BY, byte order as
 * strcmp's) merged into l. */
static void
lookup_merge(struct id_lookup *l, struct id_results *a, struct id_results *b)
{
	size_t i = 0, j = 0;

	l->n = a->n + b->n;
	l->last = 0;
	l->v = xreallocarray(NULL, l->n ? l->n : 1, sizeof(*l->v));
	while (i < a->n || j < b->n) {
		if (j == b->n || (i < a->n &&
		    strcmp(a->v[i].okta_id, b->v[j].okta_id) < 0)) {
			l->v[i + j] = &a->v[i];
			i++;
		} else {
			l->v[i + j] = &b->v[j];
			j++;
		}
	}
}

/*
 * okta_sync_assigned(okta_id, what): the ID (what 0) or the reject reason
 * (what 1; NULL when accepted) decided for okta_id; an error for an entry
 * without a decision, which fails the store.
 */
static void
assigned_fn(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	struct id_lookup *l = sqlite3_user_data(cx);
	const char *id = (const char *)sqlite3_value_text(argv[0]);
	struct id_result **hit = NULL;

	(void)argc;
	/* The UPDATE walks the table in its key order, which is v's: the
	 * row asks about the last answer again, or about the next one. */
	if (id != NULL && l->last < l->n &&
	    strcmp(l->v[l->last]->okta_id, id) == 0)
		hit = &l->v[l->last];
	else if (id != NULL && l->last + 1 < l->n &&
	    strcmp(l->v[l->last + 1]->okta_id, id) == 0)
		hit = &l->v[l->last + 1];
	else if (id != NULL)
		hit = bsearch(id, l->v, l->n, sizeof(*l->v), idr_cmp);
	if (hit == NULL) {
		sqlite3_result_error(cx, "an entry has no ID decision", -1);
		return;
	}
	l->last = (size_t)(hit - l->v);
	if (sqlite3_value_int(argv[1]) == 0)
		sqlite3_result_int64(cx, (*hit)->id);
	else if ((*hit)->reject != NULL)
		sqlite3_result_text(cx, (*hit)->reject, -1, SQLITE_STATIC);
	else
		sqlite3_result_null(cx);
}

/*
 * The decisions (done and pending) into the staging rows they were made
 * for, by one UPDATE over the table that asks okta_sync_assigned for
 * each row's: a statement a row cost twice as much at 100,000 users.
 * sql may use ?1 (user-private groups) and ?2 (the primary GID).
 */
static int
store_ids(struct sync_ctx *x, const char *sql, struct id_results *done,
    struct id_results *pending)
{
	struct id_lookup l;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	lookup_merge(&l, done, pending);
	if (sqlite3_create_function(x->db, "okta_sync_assigned", 2,
	    SQLITE_UTF8 | SQLITE_DIRECTONLY, &l, assigned_fn, NULL,
	    NULL) != SQLITE_OK) {
		sql_fail(x, "storing IDs");
		goto out;
	}
	if (sqlite3_prepare_v2(x->db, sql, -1, &st, NULL) != SQLITE_OK) {
		sql_fail(x, "storing IDs");
		goto out;
	}
	sqlite3_bind_int(st, 1,
	    x->c->primary_group == PRIMARY_GROUP_USER_PRIVATE);
	sqlite3_bind_int64(st, 2, (long long)x->c->primary_gid);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sql_fail(x, "storing IDs");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	/* l is about to go: nothing may call the function after this. */
	sqlite3_create_function(x->db, "okta_sync_assigned", 2, SQLITE_UTF8,
	    NULL, NULL, NULL, NULL);
	free(l.v);
	return rc;
}

static void
note_alloc(void *ctx, uint32_t id, const char *okta_id, enum id_kind kind)
{
	struct sync_ctx *x = ctx;
	sqlite3_stmt *st = x->ins_bad;	/* reused: see assign_ids */

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, okta_id);
	bind_text(st, 3, kind == ID_KIND_GROUP ? "g" : "u");
	if (sqlite3_step(st) != SQLITE_DONE)
		sql_fail(x, "recording allocations");
}

static int
load_allocations(struct sync_ctx *x)
{
	sqlite3_stmt *st;
	int step;

	if (sqlite3_prepare_v2(x->db, "SELECT id, okta_id, kind FROM"
	    " main.allocations", -1, &st, NULL) != SQLITE_OK)
		return sql_fail(x, "reading allocations");
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 2);

		idalloc_add_existing(x->ids, (uint32_t)sqlite3_column_int64(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    kind && strcmp(kind, "group") == 0 ? ID_KIND_GROUP : ID_KIND_USER);
	}
	sqlite3_finalize(st);
	if (step != SQLITE_DONE)
		return sql_fail(x, "reading allocations");
	/* Every cached user's and group's ID has its allocations row: the
	 * apply inserts both in one transaction. */
	return 0;
}

/*
 * Give every accepted user and group its ID (idalloc.h has the rule).
 * With user-private groups a UID is also a GID, so users draw from the
 * part of the UID range that is also inside the GID range.
 */
static int
assign_ids(struct sync_ctx *x)
{
	const struct config *c = x->c;
	int upg = c->primary_group == PRIMARY_GROUP_USER_PRIVATE;
	uint32_t umin = c->uid_min, umax = c->uid_max;
	struct id_results ud = { 0 }, up = { 0 }, gd = { 0 }, gp = { 0 };
	int rc = -1;

	if (upg) {
		umin = c->uid_min > c->gid_min ? c->uid_min : c->gid_min;
		umax = c->uid_max < c->gid_max ? c->uid_max : c->gid_max;
	}
	if (load_allocations(x) != 0)
		goto out;
	/* The earliest allocation is looked up only for entries that are not
	 * in the cache (a user deleted, then back). */
	if (ids_pass_one(x, "SELECT s.okta_id, s.uid_attr, u.uid,"
	    " CASE WHEN u.uid IS NULL THEN (SELECT min(a.id)"
	    "  FROM main.allocations a"
	    "  WHERE a.okta_id = s.okta_id AND a.kind = 'user') END"
	    " FROM v_users s LEFT JOIN main.users u ON u.okta_id = s.okta_id"
	    " ORDER BY s.okta_id", ID_KIND_USER, "uid", umin, umax, &ud, &up) != 0)
		goto out;
	if (ids_pass_one(x, "SELECT s.okta_id, s.gid_attr, g.gid,"
	    " CASE WHEN g.gid IS NULL THEN (SELECT min(a.id)"
	    "  FROM main.allocations a"
	    "  WHERE a.okta_id = s.okta_id AND a.kind = 'group') END"
	    " FROM v_groups s LEFT JOIN main.groups g ON g.okta_id = s.okta_id"
	    " ORDER BY s.okta_id", ID_KIND_GROUP, "gid", c->gid_min, c->gid_max,
	    &gd, &gp) != 0)
		goto out;
	ids_pass_two(x, ID_KIND_USER, "uid", umin, umax, &up);
	ids_pass_two(x, ID_KIND_GROUP, "gid", c->gid_min, c->gid_max, &gp);

	/* The rows ids_pass_one read (v_users, v_groups), unchanged since. */
	if (store_ids(x, "UPDATE s_users SET"
	    " uid = okta_sync_assigned(okta_id, 0),"
	    " gid = CASE WHEN ?1 THEN okta_sync_assigned(okta_id, 0)"
	    "  ELSE ?2 END,"
	    " reject = okta_sync_assigned(okta_id, 1)"
	    " WHERE reject IS NULL AND in_scope", &ud, &up) != 0 ||
	    store_ids(x, "UPDATE s_groups SET"
	    " gid = okta_sync_assigned(okta_id, 0),"
	    " reject = okta_sync_assigned(okta_id, 1)"
	    " WHERE reject IS NULL", &gd, &gp) != 0)
		goto out;

	sqlite3_finalize(x->ins_bad);
	x->ins_bad = NULL;
	if (sqlite3_prepare_v2(x->db, "INSERT OR IGNORE INTO s_alloc (id,"
	    " okta_id, kind) VALUES (?, ?, ?)", -1, &x->ins_bad,
	    NULL) != SQLITE_OK) {
		sql_fail(x, "recording allocations");
		goto out;
	}
	idalloc_each_new(x->ids, note_alloc, x);
	if (x->failed)
		goto out;
	rc = 0;
out:
	idr_free(&ud);
	idr_free(&up);
	idr_free(&gd);
	idr_free(&gp);
	return rc;
}

/* Which of the user name checks can reject anyone (scan_user_names). */
struct name_hits {
	int local_user;      /* a user may be named like a local account */
	int local_group;     /* ... like a local group */
	int dup;             /* two users may share a name */
	int group;           /* an accepted Okta group may be named so */
};

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Whether a name that sql gives (one column) hashes like one of the n
 * sorted hashes in v. */
static int
any_name_in(struct sync_ctx *x, const char *sql, const uint64_t *v, size_t n,
    int *hit)
{
	sqlite3_stmt *st;
	int step;

	*hit = 0;
	if (n == 0)       /* no accepted user: nothing to collide with */
		return 0;
	if (sqlite3_prepare_v2(x->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(x, "checking names");
	while (!*hit && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		uint64_t h;

		if (name == NULL)
			continue;
		h = idalloc_hash(name);
		*hit = bsearch(&h, v, n, sizeof(*v), cmp_u64) != NULL;
	}
	sqlite3_finalize(st);
	if (!*hit && step != SQLITE_DONE)
		return sql_fail(x, "checking names");
	return 0;
}

/*
 * One pass over the names of the users still accepted answers which of
 * the checks below can fire.  Each of those walks every staged user (and
 * the duplicate check sorts them all): half a second at 100,000 users,
 * for no reject in a usual org.  The pass keeps only each name's 64-bit
 * hash (800 KB at 100,000 users, not the names): equal names hash alike,
 * so a check is skipped only when it would have changed nothing, and two
 * names that merely hash alike just run the check.  The users a check
 * sees are these or fewer; NULL names match nothing in SQL either.
 */
static int
scan_user_names(struct sync_ctx *x, struct name_hits *h)
{
	uint64_t *v = NULL;
	size_t n = 0, cap = 0, i;
	sqlite3_stmt *st;
	int step, rc = -1;

	memset(h, 0, sizeof(*h));
	if (sqlite3_prepare_v2(x->db, "SELECT name FROM v_users", -1, &st,
	    NULL) != SQLITE_OK)
		return sql_fail(x, "checking names");
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		if (name == NULL)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n++] = idalloc_hash(name);
	}
	sqlite3_finalize(st);
	if (step != SQLITE_DONE) {
		sql_fail(x, "checking names");
		goto out;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_u64);
	for (i = 1; i < n && !h->dup; i++)
		h->dup = v[i - 1] == v[i];
	if (any_name_in(x, "SELECT name FROM local_users", v, n,
	    &h->local_user) != 0 ||
	    any_name_in(x, "SELECT name FROM local_groups", v, n,
	    &h->local_group) != 0 ||
	    any_name_in(x, "SELECT name FROM s_groups WHERE reject IS NULL", v,
	    n, &h->group) != 0)
		goto out;
	rc = 0;
out:
	free(v);
	return rc;
}

/* Scope, local collisions, duplicate names: the rejects that must be
 * known before any ID is assigned.  0 or -1 (x->err). */
static int
check_entries(struct sync_ctx *x)
{
	int upg = x->c->primary_group == PRIMARY_GROUP_USER_PRIVATE;
	struct name_hits h;

	if ((x->c->members_only && exec(x, scope_sql) != 0) ||
	    exec(x, check_groups_sql) != 0 ||
	    scan_user_names(x, &h) != 0 ||
	    (h.local_user && exec(x, check_users_sql) != 0) ||
	    (upg && h.local_group && exec(x, check_private_sql) != 0) ||
	    (h.dup && exec(x, check_dup_users_sql) != 0) ||
	    (upg && h.group && exec(x, check_group_clash_sql) != 0))
		return -1;
	return 0;
}

/*
 * Everything that needs all entries at once, in one transaction on the
 * TEMP tables: scope, local collisions, duplicates, then IDs.
 */
static int
validate(struct sync_ctx *x)
{
	if (exec(x, "BEGIN") != 0)
		return -1;
	if (check_entries(x) != 0 ||
	    assign_ids(x) != 0 ||
	    adopt_after_ids(x->db, x->err, sizeof(x->err)) != 0) {
		exec(x, "ROLLBACK");
		return -1;
	}
	if (plan_finish_staging(x->db, x->err, sizeof(x->err)) != 0) {
		x->failed = 1;
		exec(x, "ROLLBACK");
		return -1;
	}
	return exec(x, "COMMIT");
}

/* ---- Guard, apply, output --------------------------------------------- */

/* The deletion guard (rule 5).  Returns a malloc'd refusal or NULL. */
static char *
guard(const struct sync_ctx *x, const struct plan_counts *pc)
{
	const struct config *c = x->c;
	unsigned long keep = pc->users.added + pc->users.modified +
	    pc->users.unchanged;

	if (pc->cached_users == 0 || pc->users.removed == 0)
		return NULL;
	/* (An incremental sync that finds no change fetches no user.) */
	if (!x->incremental && x->fetched_users == 0)
		return xasprintf("Okta returned no users at all, and the cache "
		    "has %lu: an empty answer never empties the host",
		    pc->cached_users);
	if (x->opts->force)
		return NULL;
	if (keep == 0)
		return xasprintf("the sync would remove all %lu users; use "
		    "--force if that is right", pc->cached_users);
	if (c->max_delete_count >= 0 &&
	    pc->users.removed > (unsigned long)c->max_delete_count)
		return xasprintf("the sync would remove %lu users, more than "
		    "max_delete (%ld); use --force if that is right",
		    pc->users.removed, c->max_delete_count);
	if (c->max_delete_percent >= 0 &&
	    pc->users.removed * 100 > (unsigned long)c->max_delete_percent *
	    pc->cached_users)
		return xasprintf("the sync would remove %lu of %lu users, more "
		    "than max_delete (%d%%); use --force if that is right",
		    pc->users.removed, pc->cached_users, c->max_delete_percent);
	return NULL;
}

static int
record_run(struct sync_ctx *x, time_t started, const struct plan_counts *pc,
    unsigned long requests, long long *run_id)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(x->db, "INSERT INTO main.sync_runs (started,"
	    " finished, result, mode, users_added, users_modified, users_removed,"
	    " users_unchanged, users_rejected, groups_added, groups_modified,"
	    " groups_removed, groups_unchanged, groups_rejected,"
	    " memberships_added, memberships_removed, requests, message)"
	    " VALUES (?, ?, 'success', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
	    " NULL)", -1, &st, NULL) != SQLITE_OK)
		return sql_fail(x, "recording the run");
	sqlite3_bind_int64(st, 1, (long long)started);
	sqlite3_bind_int64(st, 2, (long long)time(NULL));
	bind_text(st, 3, !x->incremental ? "full" : x->opts->targets != NULL ?
	    "events" : "incremental");
	sqlite3_bind_int64(st, 4, (long long)pc->users.added);
	sqlite3_bind_int64(st, 5, (long long)pc->users.modified);
	sqlite3_bind_int64(st, 6, (long long)pc->users.removed);
	sqlite3_bind_int64(st, 7, (long long)pc->users.unchanged);
	sqlite3_bind_int64(st, 8, (long long)pc->users.rejected);
	sqlite3_bind_int64(st, 9, (long long)pc->groups.added);
	sqlite3_bind_int64(st, 10, (long long)pc->groups.modified);
	sqlite3_bind_int64(st, 11, (long long)pc->groups.removed);
	sqlite3_bind_int64(st, 12, (long long)pc->groups.unchanged);
	sqlite3_bind_int64(st, 13, (long long)pc->groups.rejected);
	sqlite3_bind_int64(st, 14, (long long)pc->memberships_added);
	sqlite3_bind_int64(st, 15, (long long)pc->memberships_removed);
	sqlite3_bind_int64(st, 16, (long long)requests);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sql_fail(x, "recording the run");
	*run_id = sqlite3_last_insert_rowid(x->db);
	return 0;
}

static void
print_result(const struct sync_opts *opts, okerr rc, int applied,
    const struct sync_result *res)
{
	FILE *out = opts->out;

	if (out == NULL || opts->format == PLAN_FORMAT_NONE)
		return;
	if (opts->format == PLAN_FORMAT_JSON) {
		fprintf(out, ",\"result\":{\"applied\":%s,\"ok\":%s,"
		    "\"mode\":\"%s\",\"generation\":%llu,\"requests\":%lu,"
		    "\"seconds\":%.3f,\"publish_seconds\":%.3f,\"error\":",
		    applied ? "true" : "false", rc == OK_SUCCESS ? "true" : "false",
		    res->incremental ? "incremental" : "full",
		    res->generation, res->requests, res->seconds,
		    res->publish_seconds);
		if (rc == OK_SUCCESS)
			fputs("null", out);
		else {
			char *e = xasprintf("%s%s%s", err_sentence(rc),
			    res->message[0] ? ": " : "", res->message);
			plan_json_str(out, e);
			free(e);
		}
		fputs("}}\n", out);
		return;
	}
	if (applied && rc == OK_SUCCESS)
		fprintf(out, "applied: snapshot generation %llu published in "
		    "%.3f s; %lu requests, %.1f s in all\n", res->generation,
		    res->publish_seconds, res->requests, res->seconds);
	else if (opts->dry_run && rc == OK_SUCCESS)
		fprintf(out, "dry run: nothing was changed (%lu requests)\n",
		    res->requests);
}

/* The ids of the entries the last sync rejected, into x->rej_users and
 * x->rej_groups.  0, or -1 when one has no usable id (or SQLite fails). */
static int
load_rejected(struct sync_ctx *x)
{
	sqlite3_stmt *st;
	int step, rc = 0;

	if (sqlite3_prepare_v2(x->db, "SELECT DISTINCT kind, okta_id FROM"
	    " main.rejects ORDER BY kind, okta_id", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 0);
		const char *id = (const char *)sqlite3_column_text(st, 1);

		if (kind == NULL || !okta_valid_id(id)) {
			rc = -1;
			break;
		}
		if (strcmp(kind, "group") == 0)
			strv_push(&x->rej_groups, &x->nrej_groups, id);
		else
			strv_push(&x->rej_users, &x->nrej_users, id);
	}
	sqlite3_finalize(st);
	return rc == 0 && step == SQLITE_DONE ? 0 : -1;
}

/* How many entries the last sync rejected: distinct ids, since a user
 * kept with refused SSH keys has a row for each key.  -1 on error. */
static long long
rejected_entries(sqlite3 *db)
{
	sqlite3_stmt *st;
	long long n = -1;

	if (sqlite3_prepare_v2(db, "SELECT count(DISTINCT okta_id) FROM"
	    " main.rejects", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/*
 * Whether this run can be incremental (see the top of the file); when it
 * cannot, says why at info level (the daemon asked for an incremental
 * sync).  Sets x->prev_since.
 */
static int
incremental_possible(struct sync_ctx *x, long long fingerprint)
{
	long long rejects;

	x->prev_since = cache_meta_get_int(x->db, "incr_since", 0);
	if (x->prev_since <= 0) {
		info("a full sync: no earlier sync has left a watermark");
		return 0;
	}
	if (cache_meta_get_int(x->db, "incr_config", 0) != fingerprint) {
		info("a full sync: the mapping settings changed since the last "
		    "sync");
		return 0;
	}
	/* The entries the last sync rejected are not in the cache: they are
	 * fetched again by id (fetch_rejected). */
	rejects = rejected_entries(x->db);
	if (rejects > REFETCH_MAX) {
		info("a full sync: the last sync rejected %lld entries (more than "
		    "%d to check again one by one)", rejects, REFETCH_MAX);
		return 0;
	}
	if (rejects != 0 && load_rejected(x) != 0) {
		info("a full sync: the last sync rejected entries without a "
		    "usable id, which only a full sync sees again");
		return 0;
	}
	return 1;
}

/*
 * The watermark this run leaves: the server's Date at its first response,
 * but never later than the newest timestamp seen (or, incremental, the
 * previous watermark), so that a server clock ahead of its data skips
 * nothing.  0 when neither is known (the next sync is then full).
 */
static long long
new_watermark(const struct sync_ctx *x, struct okta_client *oc)
{
	long long date = okta_first_date(oc), base = x->max_seen;

	if (x->incremental && x->prev_since > base)
		base = x->prev_since;
	if (date >= 0 && (base <= 0 || date < base))
		return date;
	return base > 0 ? base : 0;
}

/* ---- The run, phase by phase ------------------------------------------ */

/* What sync_run's phases share besides the fetch context. */
struct run {
	struct sync_ctx x;
	struct sync_result *res;
	char *token;                 /* until the Okta client has it */
	struct oauth *oa;            /* auth = oauth: handed to oc */
	int lockfd;
	struct okta_client *oc;
	struct plan_counts pc;
	char *refused;               /* the deletion guard's refusal */
	long long fingerprint;       /* config_fingerprint() */
	long long since;             /* the watermark this run leaves */
	long long run_id;            /* this run's row in sync_runs */
	unsigned long long generation;   /* of the snapshot to publish */
	double t0;
	time_t started;
	int planned;                 /* the plan was shown: show the result */
	int applied;
};

static void
run_init(struct run *r, const struct config *c, const struct sync_opts *opts,
    struct sync_result *res)
{
	memset(r, 0, sizeof(*r));
	r->t0 = now_mono();
	r->started = time(NULL);
	r->fingerprint = config_fingerprint(c);
	r->lockfd = -1;
	r->res = res;
	memset(res, 0, sizeof(*res));
	r->x.c = c;
	r->x.opts = opts;
	if (c->ngroups > 0)
		r->x.group_seen = xcalloc(c->ngroups, 1);
}

/* A failed phase: rc, with msg as the detail in res->message. */
static okerr
run_fail(struct run *r, okerr rc, const char *msg)
{
	snprintf(r->res->message, sizeof(r->res->message), "%s", msg);
	return rc;
}

/* The secret is checked and read before anything else happens. */
static okerr
read_secret(struct run *r)
{
	const struct config *c = r->x.c;
	char err[512];

	if (c->auth_oauth)
		r->oa = oauth_new(c, err, sizeof(err));
	else
		r->token = config_read_token(c, err, sizeof(err));
	if (r->token == NULL && r->oa == NULL)
		return run_fail(r, OK_ERR_TOKEN_FILE, err);
	return OK_SUCCESS;
}

/* Only one sync writes at a time (sync.h); a dry run takes no lock. */
static okerr
take_lock(struct run *r)
{
	const struct config *c = r->x.c;
	char err[512];
	okerr rc;

	if (r->x.opts->dry_run)
		return OK_SUCCESS;
	/* The directory must exist for the lock; cache_open would
	 * make it too. */
	if (mkdir(c->cache_dir, 0755) != 0 && errno != EEXIST) {
		snprintf(r->res->message, sizeof(r->res->message),
		    "cannot create %s: %s", c->cache_dir, strerror(errno));
		return OK_ERR_CACHE;
	}
	rc = sync_lock_acquire(c->cache_dir, r->x.opts->wait, &r->lockfd, err,
	    sizeof(err));
	if (rc != OK_SUCCESS)
		return run_fail(r, rc, err);
	return OK_SUCCESS;
}

/*
 * The cache (read-only for a dry run) with the staging tables, the local
 * accounts, and whether this run can be incremental.
 */
static okerr
open_cache(struct run *r)
{
	struct sync_ctx *x = &r->x;
	char err[512];
	okerr rc;

	rc = cache_open(x->c->cache_dir, x->opts->dry_run ? CACHE_READ_ONLY :
	    CACHE_READ_WRITE, &x->db, err, sizeof(err));
	if (rc != OK_SUCCESS)
		return run_fail(r, rc, err);
	if (plan_setup(x->db, x->err, sizeof(x->err)) != 0)
		return run_fail(r, OK_ERR_CACHE, x->err);
	x->ids = idalloc_new();
	if (load_local(x) != 0)
		return run_fail(r, x->failed ? OK_ERR_CACHE : OK_ERR_CONFIG,
		    x->err);

	if (!x->opts->full)
		x->incremental = incremental_possible(x, r->fingerprint);
	r->res->incremental = x->incremental;
	return OK_SUCCESS;
}

/*
 * A client for c with the secret (token, wiped here at once; or oa, which
 * the client takes), the proxy and the run's manners.  OK_SUCCESS with
 * *out, or the error with a sentence in err.
 */
static okerr
client_setup(const struct config *c, char **token, struct oauth **oa,
    volatile sig_atomic_t *stop, struct okta_client **out, char *err,
    size_t errlen)
{
	struct okta_client *oc = okta_client_new(c, *token);

	if (*token != NULL)
		explicit_bzero(*token, strlen(*token));
	free(*token);
	*token = NULL;
	if (oc != NULL && *oa != NULL) {
		oauth_attach(*oa, oc);
		*oa = NULL;
	}
	if (oc == NULL) {
		snprintf(err, errlen, "cannot initialise the HTTP client");
		return OK_ERR_INTERNAL;
	}
	if (okta_client_set_proxy(oc, c, err, errlen) != 0) {
		okta_client_free(oc);
		return OK_ERR_CONFIG;
	}
	/*
	 * Rate-limit manners: keep [sync] rate_limit_reserve of each limit
	 * free for the org's other integrations.  The client sends one
	 * request at a time on one connection, so max_concurrency is an
	 * upper bound this never exceeds.
	 */
	okta_set_reserve(oc, c->rate_limit_reserve);
	okta_set_stop(oc, stop);
	*out = oc;
	return OK_SUCCESS;
}

okerr
sync_client_new(const struct config *c, volatile sig_atomic_t *stop,
    struct okta_client **out, char *err, size_t errlen)
{
	struct oauth *oa = NULL;
	char *token = NULL;

	*out = NULL;
	if (c->auth_oauth)
		oa = oauth_new(c, err, errlen);
	else
		token = config_read_token(c, err, errlen);
	if (token == NULL && oa == NULL)
		return OK_ERR_TOKEN_FILE;
	return client_setup(c, &token, &oa, stop, out, err, errlen);
}

/* The Okta client for the run (client_setup), and its progress lines. */
static okerr
start_client(struct run *r)
{
	char err[512];
	okerr rc;

	rc = client_setup(r->x.c, &r->token, &r->oa, r->x.opts->stop, &r->oc,
	    err, sizeof(err));
	if (rc != OK_SUCCESS)
		return run_fail(r, rc, err);
	if (r->x.opts->progress) {
		/* In place only on a terminal, and not when debug lines
		 * would be written into the middle of the line. */
		r->x.prog_tty = isatty(STDERR_FILENO) &&
		    log_get_level() < LOG_LEVEL_DEBUG;
		okta_set_progress(r->oc, progress_cb, &r->x);
	}
	return OK_SUCCESS;
}

/* Fetch (and map, entry by entry: the listing callbacks), then the
 * watermark the run will leave. */
static okerr
fetch_from_okta(struct run *r)
{
	okerr rc;

	rc = fetch(&r->x, r->oc, r->res);
	progress_end(&r->x);
	r->res->requests = okta_stats(r->oc)->requests;
	if (rc != OK_SUCCESS)
		return rc;
	/* An event-driven run saw only what the events named. */
	r->since = r->x.incremental && r->x.opts->targets != NULL ?
	    r->x.prev_since : new_watermark(&r->x, r->oc);
	debug("fetched %lu users in %.3f s, %lu requests", r->x.fetched_users,
	    now_mono() - r->t0, r->res->requests);
	return OK_SUCCESS;
}

/* Validate across entries and assign IDs (validate), then count the plan. */
static okerr
validate_and_plan(struct run *r)
{
	struct sync_ctx *x = &r->x;
	double tp = now_mono();

	if (validate(x) != 0 ||
	    plan_count(x->db, &r->pc, x->err, sizeof(x->err)) != 0)
		return run_fail(r, OK_ERR_CACHE, x->err);
	debug("validated and planned in %.3f s", now_mono() - tp);
	r->res->users = r->pc.users;
	r->res->groups = r->pc.groups;
	r->res->memberships_added = r->pc.memberships_added;
	r->res->memberships_removed = r->pc.memberships_removed;
	return OK_SUCCESS;
}

/* The plan as asked (table or JSON), or its rejects in the log when it is
 * not shown; then the warnings. */
static void
print_plan(struct run *r)
{
	const struct sync_opts *opts = r->x.opts;
	sqlite3 *db = r->x.db;
	struct plan_notes notes;
	size_t i;

	memset(&notes, 0, sizeof(notes));
	notes.warnings = (const char *const *)r->x.warnings;
	notes.refused = r->refused;
	notes.dry_run = opts->dry_run;
	notes.users_from_members = r->x.c->members_only;
	if (opts->out != NULL && opts->format == PLAN_FORMAT_TABLE)
		plan_print_table(db, opts->out, &r->pc, &notes,
		    opts->show_unchanged);
	else if (opts->out != NULL && opts->format == PLAN_FORMAT_JSON) {
		fputs("{", opts->out);
		plan_print_json(db, opts->out, &r->pc, &notes,
		    opts->show_unchanged);
	}
	if (opts->out != NULL && opts->format != PLAN_FORMAT_NONE)
		tomb_print_plan(db, r->x.c, opts->out,
		    opts->format == PLAN_FORMAT_JSON);
	r->planned = 1;
	if (opts->out == NULL || opts->format == PLAN_FORMAT_NONE)
		plan_log_rejects(db);
	for (i = 0; i < r->x.nwarnings; i++)
		warn("%s", r->x.warnings[i]);
}

/*
 * The offline credentials (syncd/auth/offline.h) this plan ends: a hash
 * stays only while its user stays, ACTIVE, with the passwordChanged it
 * had; suspended, deprovisioned, locked out, in password recovery,
 * removed, rejected or out of scope, or a password changed in Okta,
 * wipes it.  Full and incremental syncs and the System Log follower all
 * apply here.  Runs before plan_apply, which overwrites the cached
 * passwordChanged it compares with.  0, or -1 (x->err).
 */
static int
wipe_offline(struct sync_ctx *x)
{
	if (exec(x, "DELETE FROM main.offline_creds WHERE NOT EXISTS"
	    " (SELECT 1 FROM v_users s JOIN main.users u"
	    " ON u.okta_id = s.okta_id WHERE s.okta_id = offline_creds.okta_id"
	    " AND s.status = 'ACTIVE'"
	    " AND s.password_changed IS u.password_changed)") != 0)
		return -1;
	if (sqlite3_changes(x->db) > 0)
		info("wiped %d offline credential(s) of users who left, are no "
		    "longer active, or changed their password in Okta",
		    sqlite3_changes(x->db));
	return 0;
}

/*
 * Apply: one transaction, all or nothing.  Foreign keys are off for
 * it: the plan only links accepted rows and deletes memberships
 * before their users and groups, so the half a million parent
 * look-ups the checks would cost prove nothing (they are on for any
 * other writer).
 */
static okerr
apply_plan(struct run *r)
{
	struct sync_ctx *x = &r->x;
	const struct config *c = x->c;
	char err[512];
	double tp;

	if (stopped(x))
		return run_fail(r, OK_ERR_INTERRUPTED,
		    "stopped by a signal before anything was applied");
	tp = now_mono();
	exec(x, "PRAGMA foreign_keys = OFF");
	r->generation = (unsigned long long)cache_meta_get_int(x->db,
	    "generation", 0) + 1;
	if (exec(x, "BEGIN IMMEDIATE") != 0 ||
	    tomb_record(x->db, c, (long long)time(NULL), x->err, sizeof(x->err)) != 0 ||
	    wipe_offline(x) != 0 ||
	    plan_apply(x->db, &r->pc, (long long)time(NULL), x->err, sizeof(x->err)) != 0 ||
	    adopt_apply(x->db, x->err, sizeof(x->err)) != 0 ||
	    record_run(x, r->started, &r->pc, r->res->requests, &r->run_id) != 0 ||
	    cache_meta_set_int(x->db, "generation", (long long)r->generation) != 0 ||
	    cache_meta_set_int(x->db, "last_sync", (long long)time(NULL)) != 0 ||
	    cache_meta_set_int(x->db, "incr_since", r->since) != 0 ||
	    cache_meta_set_int(x->db, "incr_config", r->fingerprint) != 0 ||
	    crashpoint("before-commit") != 0 || exec(x, "COMMIT") != 0) {
		snprintf(r->res->message, sizeof(r->res->message),
		    "applying the plan: %.400s",
		    x->err[0] ? x->err : sqlite3_errmsg(x->db));
		cache_exec(x->db, "ROLLBACK", err, sizeof(err));
		return OK_ERR_CACHE;
	}
	exec(x, "PRAGMA foreign_keys = ON");
	r->applied = 1;
	r->res->applied = 1;
	debug("applied in %.3f s", now_mono() - tp);
	return OK_SUCCESS;
}

/* The cache is applied but the snapshot failed: the run's row, committed
 * as a success, says so, and res->message what to expect. */
static void
record_publish_failure(struct run *r, const char *err)
{
	char *m = xasprintf("the cache is updated, but publishing the "
	    "snapshot failed: %s; the next sync publishes it again", err);
	sqlite3_stmt *st;

	snprintf(r->res->message, sizeof(r->res->message), "%s", m);
	if (sqlite3_prepare_v2(r->x.db, "UPDATE main.sync_runs SET result ="
	    " 'publish failed', message = ? WHERE id = ?", -1, &st,
	    NULL) == SQLITE_OK) {
		bind_text(st, 1, m);
		sqlite3_bind_int64(st, 2, r->run_id);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	free(m);
}

/* The snapshot of what was just committed. */
static okerr
publish_applied(struct run *r)
{
	char err[512];
	double tp = now_mono();
	okerr rc;

	(void)crashpoint("after-commit");
	rc = publish_snapshot(r->x.db, r->x.c, r->generation, time(NULL), err,
	    sizeof(err));
	r->res->publish_seconds = now_mono() - tp;
	if (rc != OK_SUCCESS) {
		record_publish_failure(r, err);
		return rc;
	}
	r->res->generation = r->generation;
	return OK_SUCCESS;
}

/* The result line after the plan. */
static void
record_result(struct run *r, okerr rc)
{
	r->res->seconds = now_mono() - r->t0;
	if (r->planned)
		print_result(r->x.opts, rc, r->applied, r->res);
}

/* Everything the run holds, released; a failure is recorded on the way,
 * while the lock is still held. */
static void
clean_up(struct run *r, okerr rc)
{
	struct sync_ctx *x = &r->x;
	size_t i;

	if (r->token != NULL) {
		explicit_bzero(r->token, strlen(r->token));
		free(r->token);
	}
	sqlite3_finalize(x->ins_user);
	sqlite3_finalize(x->ins_group);
	sqlite3_finalize(x->ins_member);
	sqlite3_finalize(x->ins_members);
	sqlite3_finalize(x->ins_bad);
	sqlite3_finalize(x->ins_keyrej);
	sqlite3_finalize(x->del_keyrej);
	cache_close(x->db);
	okta_client_free(r->oc);
	oauth_free(r->oa);
	idalloc_free(x->ids);
	adopt_free(x->adopt);
	/* Failures are kept outside cache.db, which a failed sync must leave
	 * byte for byte as it was; a busy lock is not a failed sync. */
	if (rc != OK_SUCCESS && rc != OK_ERR_BUSY && !x->opts->dry_run)
		runlog_record_failure(x->c->cache_dir, rc, r->res->message);
	sync_lock_release(r->lockfd);
	for (i = 0; i < x->nwarnings; i++)
		free(x->warnings[i]);
	free(x->warnings);
	free(x->group_seen);
	strset_free(&x->seen_users);
	strset_free(&x->changed_set);
	strv_free(x->rej_users, x->nrej_users);
	strv_free(x->rej_groups, x->nrej_groups);
	strv_free(x->changed, x->nchanged);
	free(r->refused);
}

/*
 * An event-driven run that changes nothing applies and publishes nothing:
 * an event about an entry outside the scope leaves the host as it was,
 * down to the snapshot's generation.
 */
static int
events_unchanged(struct run *r)
{
	const struct plan_counts *pc = &r->pc;

	if (r->x.opts->targets == NULL || !r->x.incremental ||
	    pc->users.added + pc->users.modified + pc->users.removed +
	    pc->groups.added + pc->groups.modified + pc->groups.removed +
	    pc->memberships_added + pc->memberships_removed > 0)
		return 0;
	r->res->unchanged = 1;
	return 1;
}

/*
 * The phases in order; each returns OK_SUCCESS to go on, or the run's
 * result with res->message set.  A dry run stops after showing its plan.
 */
okerr
sync_run(const struct config *c, const struct sync_opts *opts,
    struct sync_result *res)
{
	struct run r;
	okerr rc;

	run_init(&r, c, opts, res);
	rc = read_secret(&r);
	if (rc == OK_SUCCESS)
		rc = take_lock(&r);
	if (rc == OK_SUCCESS)
		rc = open_cache(&r);
	if (rc == OK_SUCCESS)
		rc = start_client(&r);
	if (rc == OK_SUCCESS)
		rc = fetch_from_okta(&r);
	if (rc == OK_SUCCESS)
		rc = validate_and_plan(&r);
	if (rc == OK_SUCCESS) {
		r.refused = guard(&r.x, &r.pc);
		print_plan(&r);
		if (r.refused != NULL)
			rc = run_fail(&r, OK_ERR_REFUSED, r.refused);
	}
	if (rc == OK_SUCCESS && !opts->dry_run && !events_unchanged(&r)) {
		rc = apply_plan(&r);
		if (rc == OK_SUCCESS)
			rc = publish_applied(&r);
	}
	record_result(&r, rc);
	clean_up(&r, rc);
	return rc;
}
