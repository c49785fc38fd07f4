/*
 * cmd_status.c - `okta-sync status [--json]`: the last sync, the next
 * scheduled one, how old the data NSS serves is, the published snapshot,
 * and the latest errors of failed syncs.
 *
 * Status never writes: cache.db is opened CACHE_READ_ONLY (no -wal or -shm
 * file is created, no lock is taken), the snapshot is only mapped, and the
 * token is never read.  Each source may be missing or unreadable on its
 * own: a non-root user cannot read cache.db or sync-errors.log (both 0600)
 * but can read the snapshot (0644), so status says so and shows the rest.
 * Exit status: 0 whenever the report could be made (a stale snapshot or a
 * failed sync is reported, not an exit code: scripts read --json), 78 when
 * the config cannot be loaded, 2 on a usage error.
 *
 * The --json document (keys are stable; times are ISO 8601 UTC strings,
 * each with an "_epoch" twin in seconds; null where unknown):
 *   config                  the config file read
 *   cache_dir
 *   cache                   {"path", "readable": bool, "error": null|sentence}
 *   last_sync               null (no sync has run yet) or {"started",
 *                           "started_epoch", "finished", "finished_epoch",
 *                           "result" ("success" | "publish failed"), "mode",
 *                           "duration_seconds", "message",
 *                           "users": {"added", "modified", "removed",
 *                           "unchanged", "rejected"}, "groups": {same},
 *                           "memberships": {"added", "removed"}, "requests"}
 *   last_attempt_failed     true when the newest error is newer than the
 *                           last applied sync
 *   schedule, full_sync_schedule        the expressions, or null
 *   next_sync, next_sync_epoch          null: not scheduled
 *   next_full_sync, next_full_sync_epoch
 *   last_success, last_success_epoch    the snapshot's last_sync (else the
 *                                       cache's), what NSS serves
 *   data_age_seconds        now - last_success, null when never synced
 *   stale_after_seconds     twice the longest gap between scheduled syncs
 *                           (at least 300), or 86400 without a schedule
 *   data_stale              data_age_seconds > stale_after_seconds
 *   snapshot                {"path", "present": bool, "error": null|sentence,
 *                           "generation", "last_sync", "last_sync_epoch",
 *                           "users", "groups" (user-private groups included)}
 *   cache_generation        the generation cache.db last published, or null
 *   tombstones              users who left the host, published as
 *                           tombstones (null: cache.db not readable)
 *   snapshot_replaced       true when the snapshot file is not the one the
 *                           last publish put in place (replaced, or changed
 *                           in place), null when unknown;
 *                           snapshot_replaced_detail: the sentence, or null
 *   nscd_caches_users       true when a running nscd caches passwd or group
 *                           (removed users keep resolving), null: unknown;
 *                           nscd: the sentence
 *   snapshot_matches_cache  true, false, or null when either is unknown
 *   snapshot_age_seconds    now - the snapshot's last_sync, null: none
 *   pam                     the policy pam_okta applies, as published in
 *                           the snapshot ([pam]; null: no snapshot, or its
 *                           policy unreadable): {"max_cache_age_seconds",
 *                           "stale_policy", "deny_recovery",
 *                           "deny_password_expired", "tombstone",
 *                           "allowed_groups": [...], "logins_refused_from",
 *                           "logins_refused_from_epoch" (null: never; 0:
 *                           never synced, refused now), "logins_refused":
 *                           bool (now)}
 *   rejected                the entries the last sync rejected, at most
 *                           REJECTS_MAX: [{"kind" ("user"|"group"),
 *                           "okta_id", "okta_name", "reason"}]; null when
 *                           cache.db is not readable; rejected_total
 *   errors                  newest first: [{"time", "time_epoch", "error"
 *                           ("OK_ERR_..."), "sentence", "message"}]
 *   errors_readable         false when sync-errors.log exists but cannot be
 *                           read (errors is then empty)
 *   events                  following the System Log (events.h):
 *                           {"enabled", "interval_seconds",
 *                           "cursor_age_seconds" (since the last poll; null:
 *                           none yet), "seen", "applied", "last_event":
 *                           null | {"uuid", "event_type", "published"},
 *                           "latency_seconds" (the last applied event's
 *                           published to its snapshot here; null: none)}
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cache.h"
#include "commands.h"
#include "config.h"
#include "cron.h"
#include "error.h"
#include "events.h"
#include "fleet_run.h"
#include "names.h"
#include "textout.h"
#include "paths.h"
#include "runlog.h"
#include "snapshot.h"
#include "hostcheck.h"
#include "tombstone.h"
#include "xmalloc.h"

#define STALE_MIN 300           /* never warn before five minutes */
#define STALE_NO_SCHEDULE 86400
#define HUMAN_ERRORS 5          /* errors shown in the human form */
#define HUMAN_REJECTS 10        /* rejected entries shown in the human form */
#define REJECTS_MAX 1000        /* ... and in the JSON form */

/* One entry the last sync rejected (the cache's rejects table). */
struct status_reject {
	char *kind, *okta_id, *okta_name, *reason;
};

struct status {
	struct config *c;
	const char *config_path;
	time_t now;

	char *cache_path;
	int cache_ok;
	char cache_err[512];
	int have_run;
	struct cache_run run;
	long long cache_generation;     /* -1 unknown */
	long long cache_last_sync;      /* 0 never */

	char *snap_path;
	int snap_ok;
	char snap_err[512];
	struct snap_meta meta;

	time_t next, next_full;         /* -1: not scheduled */
	char sched_err[256];
	long long stale_after;

	long long last_success;         /* 0 never */
	int stale;

	struct runlog_entry errs[RUNLOG_KEEP];
	int nerrs;
	int errs_readable;
	char errs_err[256];
	int last_attempt_failed;

	/* The PAM policy the snapshot carries, and when it starts refusing
	 * Okta logins (-1 never); the last sync's rejects. */
	int pol_ok;
	struct snap_policy pol;
	char polbuf[SNAP_POLICY_BUF];
	long long refuse_at;
	struct status_reject *rej;
	size_t nrej;
	long long rej_total;            /* -1 unknown */

	/* Tombstones and host checks (tombstone.h, hostcheck.h). */
	long long tombstones;           /* -1 unknown */
	int snap_replaced;              /* 1, 0, -1 unknown */
	char snap_replaced_msg[512];
	int nscd;                       /* 1 caches users, 0 not, -1 unknown */
	char nscd_msg[512];

	/* Following the System Log (events.h). */
	struct events_state ev;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: okta-sync [-c FILE] status [--json]\n\n"
	    "Show the last sync (times, result, counts, requests), the next\n"
	    "scheduled sync, the age of the data NSS serves, the published\n"
	    "snapshot and the latest errors.  Reads only; never writes.\n\n"
	    "  --json   one JSON object for scripts, with stable keys: config,\n"
	    "           cache, last_sync, last_attempt_failed, schedule, next_sync,\n"
	    "           full_sync_schedule, next_full_sync, last_success,\n"
	    "           data_age_seconds, stale_after_seconds, data_stale, snapshot,\n"
	    "           cache_generation, snapshot_matches_cache, tombstones,\n"
	    "           snapshot_replaced, nscd_caches_users, errors (newest\n"
	    "           first); times as ISO 8601 UTC plus *_epoch seconds\n"
	    "           (details at the top of syncd/cli/cmd_status.c)\n\n"
	    "The data is reported stale when older than twice the interval of\n"
	    "[sync] schedule (at least 5 minutes), or a day without a schedule.\n"
	    "As a non-root user, cache.db and sync-errors.log (mode 0600) are\n"
	    "not readable: only the snapshot part is shown.\n\n"
	    "Also shown: the tombstones (users who left the host), and warnings\n"
	    "when the snapshot file was replaced or changed without a publish,\n"
	    "and when a running nscd caches passwd or group.\n");
}

/* ---- Formatting ------------------------------------------------------ */

/* "2026-11-28T13:34:38Z" into buf. */
static const char *
iso_utc(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "@%lld", t);
	return buf;
}

/* "2026-11-28 13:34:38 UTC" in local time (TZ), as the admin reads it. */
static const char *
local_time(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(buf, len, "@%lld", t);
	return buf;
}

/* A duration for people: "45 s", "3 min", "2 h 5 min", "3 days 4 h". */
static const char *
human_span(long long s, char *buf, size_t len)
{
	if (s < 0)
		s = -s;
	if (s < 60)
		snprintf(buf, len, "%lld s", s);
	else if (s < 3600)
		snprintf(buf, len, "%lld min", s / 60);
	else if (s < 86400)
		snprintf(buf, len, "%lld h %lld min", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lld day%s %lld h", s / 86400,
		    s / 86400 == 1 ? "" : "s", s % 86400 / 3600);
	return buf;
}

static void
add_time(json_object *o, const char *key, long long t)
{
	char k[64], buf[64];

	snprintf(k, sizeof(k), "%s_epoch", key);
	if (t <= 0) {
		json_object_object_add(o, key, NULL);
		json_object_object_add(o, k, NULL);
		return;
	}
	json_object_object_add(o, key, json_object_new_string(iso_utc(t, buf,
	    sizeof(buf))));
	json_object_object_add(o, k, json_object_new_int64(t));
}

/* ---- Gathering ------------------------------------------------------- */

static char *
col_dup(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);

	return xstrdup(t != NULL ? (const char *)t : "");
}

/* The last sync's rejects (a name clash says here why a group is
 * missing).  A failure leaves rej_total at -1: "unknown". */
static void
gather_rejects(struct status *st, sqlite3 *db)
{
	sqlite3_stmt *q;
	struct status_reject *e;

	if (sqlite3_prepare_v2(db, "SELECT kind, okta_id, okta_name, reason"
	    " FROM rejects ORDER BY kind, okta_id", -1, &q, NULL) != SQLITE_OK)
		return;
	st->rej_total = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (st->nrej < REJECTS_MAX) {
			st->rej = xreallocarray(st->rej, st->nrej + 1,
			    sizeof(*st->rej));
			e = &st->rej[st->nrej++];
			e->kind = col_dup(q, 0);
			e->okta_id = col_dup(q, 1);
			e->okta_name = col_dup(q, 2);
			e->reason = col_dup(q, 3);
		}
		st->rej_total++;
	}
	sqlite3_finalize(q);
}

static void
gather_cache(struct status *st)
{
	sqlite3 *db = NULL;
	int r;

	st->cache_generation = -1;
	st->tombstones = -1;
	st->snap_replaced = -1;
	st->rej_total = -1;
	st->cache_path = cache_db_path(st->c->cache_dir);
	/* cache_open would say "unable to open database file"; say why. */
	if (access(st->cache_path, R_OK) != 0 && errno != ENOENT) {
		if (errno == EACCES)
			snprintf(st->cache_err, sizeof(st->cache_err),
			    "cannot read %s: permission denied (it is readable "
			    "by root only); run okta-sync status as root to see "
			    "the last sync and its errors", st->cache_path);
		else
			snprintf(st->cache_err, sizeof(st->cache_err),
			    "cannot read %s: %s", st->cache_path, strerror(errno));
		return;
	}
	if (cache_open(st->c->cache_dir, CACHE_READ_ONLY, &db, st->cache_err,
	    sizeof(st->cache_err)) != OK_SUCCESS)
		return;
	r = cache_last_run(db, &st->run);
	if (r < 0) {
		snprintf(st->cache_err, sizeof(st->cache_err), "cannot read the "
		    "last sync from %s: %s", st->cache_path, sqlite3_errmsg(db));
		cache_close(db);
		return;
	}
	st->have_run = r == 1;
	st->cache_generation = cache_meta_get_int(db, "generation", 0);
	st->cache_last_sync = cache_meta_get_int(db, "last_sync", 0);
	st->tombstones = tomb_count(db, st->c, (long long)st->now);
	gather_rejects(st, db);
	(void)events_state_load(db, &st->ev);   /* zeroed when absent */
	{
		char *snap = xasprintf("%s/%s", st->c->cache_dir,
		    OKTA_SNAPSHOT_NAME);

		st->snap_replaced = hostcheck_snapshot_identity(db, snap,
		    st->snap_replaced_msg, sizeof(st->snap_replaced_msg));
		free(snap);
	}
	st->cache_ok = 1;
	cache_close(db);
}

static void
gather_snapshot(struct status *st)
{
	struct snap *s = NULL;

	st->snap_path = xasprintf("%s/%s", st->c->cache_dir, OKTA_SNAPSHOT_NAME);
	if (snap_open(st->snap_path, &s) != 0) {
		if (errno == ENOENT)
			snprintf(st->snap_err, sizeof(st->snap_err), "no snapshot "
			    "yet: NSS serves no Okta users until a sync publishes "
			    "one");
		else if (errno == EPROTO)
			snprintf(st->snap_err, sizeof(st->snap_err), "%s is "
			    "corrupt or of an unknown format; NSS refuses it; the "
			    "next sync replaces it", st->snap_path);
		else
			snprintf(st->snap_err, sizeof(st->snap_err), "cannot "
			    "read %s: %s", st->snap_path, strerror(errno));
		return;
	}
	st->meta = *snap_get_meta(s);
	st->snap_ok = 1;
	/* What pam_okta applies is the snapshot's policy, not the config's
	 * (they differ until the next publish). */
	st->pol_ok = snap_get_policy(s, &st->pol, st->polbuf,
	    sizeof(st->polbuf)) == 1;
	if (st->pol_ok)
		st->refuse_at = snap_policy_refuse_at(&st->pol,
		    st->meta.last_sync);
	snap_close(s);
}

/*
 * The next fire time of expr after now (local time, as okta-syncd runs
 * it), and the longest gap between the following fires (so that a
 * weekdays-only schedule is not called stale on Monday morning).
 * -1 when expr is NULL; -2 with err when it does not parse.
 */
static time_t
next_fire(const char *expr, time_t now, long long *gap, char *err,
    size_t errlen)
{
	struct cron cr;
	time_t first, t, n;
	int i;

	*gap = 0;
	if (expr == NULL || *expr == '\0')
		return -1;
	if (cron_parse(expr, &cr, err, errlen) != 0)
		return -2;
	first = t = cron_next_local(&cr, now);
	for (i = 0; t > 0 && i < 8; i++) {
		n = cron_next_local(&cr, t);
		if (n <= 0)
			break;
		if ((long long)(n - t) > *gap)
			*gap = (long long)(n - t);
		t = n;
	}
	return first;
}

static void
gather_schedule(struct status *st)
{
	char err[200];
	long long gap, gap_full;

	st->next = next_fire(st->c->schedule, st->now, &gap, err, sizeof(err));
	if (st->next == -2)
		snprintf(st->sched_err, sizeof(st->sched_err), "[sync] schedule "
		    "is invalid: %s", err);
	st->next_full = next_fire(st->c->full_sync_schedule, st->now,
	    &gap_full, err, sizeof(err));
	if (st->next_full == -2 && st->sched_err[0] == '\0')
		snprintf(st->sched_err, sizeof(st->sched_err), "[sync] "
		    "full_sync_schedule is invalid: %s", err);
	if (st->next < 0)
		gap = 0;
	if (st->next_full < 0)
		gap_full = 0;
	/* Either schedule refreshes the data; the regular one is the one
	 * that matters, the full one when it is alone. */
	if (gap == 0)
		gap = gap_full;
	st->stale_after = gap > 0 ? 2 * gap : STALE_NO_SCHEDULE;
	if (st->stale_after < STALE_MIN)
		st->stale_after = STALE_MIN;
}

static void
gather(struct status *st)
{
	int n;

	gather_cache(st);
	gather_snapshot(st);
	gather_schedule(st);
	st->nscd = hostcheck_nscd(NSCD_CONF_PATH, NSCD_SOCKET_PATH,
	    st->nscd_msg, sizeof(st->nscd_msg));

	/* What NSS serves is the snapshot: its last_sync is the data's age.
	 * Without one, the cache's says when Okta was last read. */
	if (st->snap_ok && st->meta.last_sync > 0)
		st->last_success = st->meta.last_sync;
	else if (st->cache_ok && st->cache_last_sync > 0)
		st->last_success = st->cache_last_sync;
	st->stale = st->last_success > 0 &&
	    (long long)st->now - st->last_success > st->stale_after;

	st->errs_readable = 1;
	n = runlog_read(st->c->cache_dir, st->errs, RUNLOG_KEEP);
	if (n < 0) {
		st->errs_readable = 0;
		snprintf(st->errs_err, sizeof(st->errs_err), "cannot read "
		    "%s/%s: %s%s", st->c->cache_dir, RUNLOG_NAME, strerror(errno),
		    errno == EACCES ? " (it is readable by root only)" : "");
		n = 0;
	}
	st->nerrs = n;
	if (n > 0)
		st->last_attempt_failed = !st->have_run ||
		    st->errs[0].time >= st->run.finished;
}

/* ---- Human form ------------------------------------------------------ */

#define KEY "%-20s"
#define SUBKEY "  %-18s"

/* The snapshot's PAM policy, its age, and when Okta logins start being
 * refused. */
static void
print_policy(const struct status *st)
{
	char b1[64], b2[64], d[32];
	size_t i;

	if (!st->pol_ok) {
		printf("  WARNING: the snapshot's PAM policy is missing or "
		    "unreadable: pam_okta refuses every Okta user; the next "
		    "sync publishes it again\n");
		return;
	}
	printf(SUBKEY "max_cache_age %s, stale_policy %s", "pam policy:",
	    st->pol.max_cache_age > 0 ? snap_policy_format_duration(
	    st->pol.max_cache_age, d, sizeof(d)) : "0 (no limit)",
	    st->pol.stale_policy == SNAP_STALE_ALLOW ? "allow" : "deny");
	/* (The names come from the snapshot: escaped for the terminal.) */
	for (i = 0; i < st->pol.ngroups; i++)
		printf("%s%s", i == 0 ? ", allowed_groups " : ",",
		    term_text(st->pol.groups[i], b2, sizeof(b2)));
	printf("\n");
	if (st->meta.last_sync > 0 && st->meta.last_sync <= (long long)st->now)
		printf(SUBKEY "%s\n", "age:", human_span((long long)st->now -
		    st->meta.last_sync, b1, sizeof(b1)));
	if (st->refuse_at < 0)
		printf(SUBKEY "never (%s)\n", "logins refused:",
		    st->pol.max_cache_age > 0 ? "stale_policy allow: Okta "
		    "users get a warning" : "max_cache_age 0");
	else if (st->refuse_at <= (long long)st->now)
		printf("  WARNING: Okta users are refused since %s: the "
		    "snapshot is older than max_cache_age; make a sync "
		    "succeed (okta-sync sync)\n", st->refuse_at > 0 ?
		    local_time(st->refuse_at, b1, sizeof(b1)) : "now (never "
		    "synced)");
	else
		printf(SUBKEY "from %s (in %s) unless a sync succeeds\n",
		    "logins refused:", local_time(st->refuse_at, b1,
		    sizeof(b1)), human_span(st->refuse_at - (long long)st->now,
		    b2, sizeof(b2)));
}

static void
print_rejects(const struct status *st)
{
	char b1[512], b2[512];
	size_t i;

	if (st->rej_total < 0)
		return;
	printf(KEY "%lld by the last sync%s\n", "rejected:", st->rej_total,
	    st->rej_total > HUMAN_REJECTS ? " (10 shown; okta-sync sync "
	    "--dry-run lists all)" : "");
	for (i = 0; i < st->nrej && i < HUMAN_REJECTS; i++)
		printf("  %-5s %s \"%s\": %s\n", st->rej[i].kind,
		    st->rej[i].okta_id, term_text(st->rej[i].okta_name, b1,
		    sizeof(b1)), term_text(st->rej[i].reason, b2, sizeof(b2)));
}

static json_object *
policy_json(const struct status *st)
{
	json_object *x, *a;
	size_t i;

	if (!st->snap_ok || !st->pol_ok)
		return NULL;
	x = json_object_new_object();
	json_object_object_add(x, "max_cache_age_seconds",
	    json_object_new_int64(st->pol.max_cache_age));
	json_object_object_add(x, "stale_policy", json_object_new_string(
	    st->pol.stale_policy == SNAP_STALE_ALLOW ? "allow" : "deny"));
	json_object_object_add(x, "deny_recovery",
	    json_object_new_boolean(st->pol.deny_recovery));
	json_object_object_add(x, "deny_password_expired",
	    json_object_new_boolean(st->pol.deny_password_expired));
	json_object_object_add(x, "tombstone", json_object_new_string(
	    st->pol.tombstone == SNAP_TOMB_POLICY_IGNORE ? "ignore" : "deny"));
	a = json_object_new_array();
	for (i = 0; i < st->pol.ngroups; i++)
		json_object_array_add(a, json_text(st->pol.groups[i]));
	json_object_object_add(x, "allowed_groups", a);
	if (st->refuse_at == 0) {
		/* Never synced: refused from the start. */
		json_object_object_add(x, "logins_refused_from", NULL);
		json_object_object_add(x, "logins_refused_from_epoch",
		    json_object_new_int64(0));
	} else
		add_time(x, "logins_refused_from", st->refuse_at > 0 ?
		    st->refuse_at : 0);
	json_object_object_add(x, "logins_refused", json_object_new_boolean(
	    st->refuse_at >= 0 && st->refuse_at <= (long long)st->now));
	return x;
}

static json_object *
rejects_json(const struct status *st)
{
	json_object *a, *e;
	size_t i;

	if (st->rej_total < 0)
		return NULL;
	a = json_object_new_array();
	for (i = 0; i < st->nrej; i++) {
		e = json_object_new_object();
		json_object_object_add(e, "kind", json_text(st->rej[i].kind));
		json_object_object_add(e, "okta_id", json_text(st->rej[i].okta_id));
		json_object_object_add(e, "okta_name",
		    json_text(st->rej[i].okta_name));
		json_object_object_add(e, "reason", json_text(st->rej[i].reason));
		json_object_array_add(a, e);
	}
	return a;
}

static void
print_counts(const char *key, unsigned long added, unsigned long modified,
    unsigned long removed, unsigned long unchanged, unsigned long rejected)
{
	printf(SUBKEY "%lu added, %lu modified, %lu removed, %lu unchanged, "
	    "%lu rejected\n", key, added, modified, removed, unchanged, rejected);
}

static void
print_next(const char *key, time_t t, const char *expr, time_t now)
{
	char b1[64], b2[64];

	if (t == -1)
		printf(KEY "not scheduled\n", key);
	else if (t == -2)
		printf(KEY "invalid schedule \"%s\"\n", key, expr);
	else if (t < 0)
		printf(KEY "never (schedule \"%s\" does not fire)\n", key, expr);
	else
		printf(KEY "%s (in %s; schedule \"%s\")\n", key,
		    local_time(t, b1, sizeof(b1)),
		    human_span((long long)(t - now), b2, sizeof(b2)), expr);
}

/* The last sync cache.db recorded, and a newer failed attempt. */
static void
print_last_sync(const struct status *st)
{
	const struct cache_run *r = &st->run;
	char b1[64], b2[64], esc[1100];

	if (!st->cache_ok) {
		printf(KEY "unknown: %s\n", "last sync:", st->cache_err);
	} else if (!st->have_run) {
		printf(KEY "none: no sync has run yet\n", "last sync:");
	} else {
		printf(KEY "%s (%s)\n", "last sync:", r->result, r->mode);
		if (r->message[0] != '\0')
			printf(SUBKEY "%s\n", "message:",
			    names_escape(r->message, esc, sizeof(esc)));
		printf(SUBKEY "%s (%s ago)\n", "started:",
		    local_time(r->started, b1, sizeof(b1)),
		    human_span((long long)st->now - r->started, b2, sizeof(b2)));
		printf(SUBKEY "%s\n", "finished:",
		    local_time(r->finished, b1, sizeof(b1)));
		printf(SUBKEY "%lld s\n", "duration:", r->finished - r->started);
		print_counts("users:", r->users_added, r->users_modified,
		    r->users_removed, r->users_unchanged, r->users_rejected);
		print_counts("groups:", r->groups_added,
		    r->groups_modified, r->groups_removed, r->groups_unchanged,
		    r->groups_rejected);
		printf(SUBKEY "%lu added, %lu removed\n", "memberships:",
		    r->memberships_added, r->memberships_removed);
		printf(SUBKEY "%lld\n", "requests:", r->requests);
	}
	if (st->last_attempt_failed)
		printf(KEY "FAILED at %s: %s (see latest errors)\n",
		    "last attempt:", local_time(st->errs[0].time, b1, sizeof(b1)),
		    st->errs[0].error);
}

/* How old the data NSS serves is, and whether that is stale. */
static void
print_data_age(const struct status *st)
{
	char b1[64], b2[64];

	if (st->last_success <= 0)
		printf(KEY "no data yet\n", "data age:");
	else if (st->last_success > (long long)st->now)
		printf(KEY "unknown: the last successful sync (%s) is in the "
		    "future; check the system clock\n", "data age:",
		    local_time(st->last_success, b2, sizeof(b2)));
	else {
		printf(KEY "%s ago (last successful sync %s)\n", "data age:",
		    human_span((long long)st->now - st->last_success, b1,
		    sizeof(b1)), local_time(st->last_success, b2, sizeof(b2)));
		if (st->stale)
			printf("  WARNING: the data is older than %s; syncs are "
			    "not succeeding (see latest errors) or okta-syncd is "
			    "not running\n",
			    human_span(st->stale_after, b1, sizeof(b1)));
	}
}

/* The published snapshot, its policy, and what the host checks found. */
static void
print_snapshot(const struct status *st)
{
	char b1[64];

	printf(KEY "%s\n", "snapshot:", st->snap_path);
	if (!st->snap_ok)
		printf("  %s\n", st->snap_err);
	else {
		printf(SUBKEY "%llu", "generation:",
		    (unsigned long long)st->meta.generation);
		if (st->c->fleet.role == FLEET_SUBSCRIBER)
			printf(" (pulled from the publisher)\n");
		else if (st->cache_ok && st->cache_generation ==
		    (long long)st->meta.generation)
			printf(" (cache.db agrees)\n");
		else if (st->cache_ok)
			printf(" (cache.db is at generation %lld: the snapshot "
			    "is out of date; the next sync publishes it again)\n",
			    st->cache_generation);
		else
			printf(" (cache.db not readable: not compared)\n");
		printf(SUBKEY "%s\n", "last sync:",
		    local_time(st->meta.last_sync, b1, sizeof(b1)));
		printf(SUBKEY "%u\n", "users:", st->meta.nusers);
		printf(SUBKEY "%u\n", "groups:", st->meta.ngroups);
		print_policy(st);
	}
	if (st->tombstones >= 0)
		printf(SUBKEY "%lld (users who left the host; PAM denies them "
		    "for %ld days)\n", "tombstones:", st->tombstones,
		    st->c->tombstone_days);
	if (st->snap_replaced == 1)
		printf("  WARNING: %s\n", st->snap_replaced_msg);
	if (st->nscd == 1)
		printf("WARNING: %s\n", st->nscd_msg);
	else if (st->nscd < 0)
		printf("note: %s\n", st->nscd_msg);
	if (!st->snap_ok && st->cache_ok && st->cache_generation > 0)
		printf("  cache.db is at generation %lld: the next sync "
		    "publishes the snapshot again\n", st->cache_generation);
}

/* The Events block: following the System Log between syncs. */
static void
print_events(const struct status *st)
{
	const struct events_state *e = &st->ev;
	char b1[64], esc[200];

	if (!st->c->events)
		printf(KEY "off ([sync] events = no)\n", "Events:");
	else if (e->polled_at <= 0)
		printf(KEY "following the System Log every %ld s; not polled "
		    "yet\n", "Events:", st->c->event_interval);
	else
		printf(KEY "following the System Log every %ld s; last polled "
		    "%s ago\n", "Events:", st->c->event_interval,
		    human_span((long long)st->now - e->polled_at, b1, sizeof(b1)));
	printf(SUBKEY "%llu seen, %llu applied\n", "events:", e->seen,
	    e->applied);
	if (e->last_uuid[0] != '\0') {
		printf(SUBKEY "%s", "last applied:", names_escape(e->last_type,
		    esc, sizeof(esc)));
		printf(" %s", names_escape(e->last_uuid, esc, sizeof(esc)));
		printf(", published %s\n", names_escape(e->last_published, esc,
		    sizeof(esc)));
	}
	if (e->latency >= 0)
		printf(SUBKEY "%.1f s from Okta to this host's snapshot\n",
		    "latency:", e->latency);
}

/* The newest HUMAN_ERRORS entries of sync-errors.log. */
static void
print_errors(const struct status *st)
{
	char b1[64], esc[1100];
	int i;

	if (!st->errs_readable)
		printf(KEY "unknown: %s\n", "latest errors:", st->errs_err);
	else if (st->nerrs == 0)
		printf(KEY "none\n", "latest errors:");
	else {
		printf(KEY "%d recorded%s, newest first\n", "latest errors:",
		    st->nerrs, st->nerrs > HUMAN_ERRORS ? " (5 shown)" : "");
		for (i = 0; i < st->nerrs && i < HUMAN_ERRORS; i++) {
			const struct runlog_entry *e = &st->errs[i];
			const char *sentence = runlog_err_sentence(e->error);

			printf("  %s  %s: %s\n", local_time(e->time, b1,
			    sizeof(b1)), e->error, sentence ? sentence : "");
			if (e->message[0] != '\0')
				printf("      %s\n", names_escape(e->message, esc,
				    sizeof(esc)));
		}
	}
}

/* The Fleet block: a publisher's last upload, or a subscriber's source,
 * generation, manifest age and last pull. */
static void
print_fleet(const struct status *st)
{
	const struct config_fleet *f = &st->c->fleet;
	char b1[64], b2[64], esc[1100];

	if (f->role == FLEET_PUBLISHER) {
		struct fleet_pub_state p;

		printf(KEY "publisher, uploading to %s\n", "Fleet:",
		    names_escape(f->destination, esc, sizeof(esc)));
		if (fleet_pub_state_load(st->c, &p) != 0)
			printf(SUBKEY "unknown (its state file cannot be read)\n",
			    "last publish:");
		else if (p.last_publish == 0)
			printf(SUBKEY "never\n", "last publish:");
		else {
			printf(SUBKEY "%s, %s ago: %s\n", "last publish:",
			    local_time(p.last_publish, b1, sizeof(b1)),
			    human_span((long long)st->now - p.last_publish, b2,
			    sizeof(b2)), p.last_ok ? "ok" : "FAILED");
			if (!p.last_ok)
				printf("  %s\n", names_escape(p.last_error, esc,
				    sizeof(esc)));
			if (p.generation > 0)
				printf(SUBKEY "%llu\n", "published:",
				    (unsigned long long)p.generation);
		}
	} else if (f->role == FLEET_SUBSCRIBER) {
		struct fleet_sub_state s;
		char *dir = config_fleet_state_dir(st->c);
		int rc = fleet_state_load(dir, &s);

		free(dir);
		printf(KEY "subscriber of %s\n", "Fleet:",
		    names_escape(f->source, esc, sizeof(esc)));
		if (rc != 0) {
			printf(SUBKEY "unknown (its state file cannot be read)\n",
			    "last pull:");
			return;
		}
		if (s.generation > 0)
			printf(SUBKEY "%llu\n", "generation:",
			    (unsigned long long)s.generation);
		if (s.created > 0)
			printf(SUBKEY "signed %s ago (max_age %s)%s\n",
			    "manifest age:", human_span((long long)st->now -
			    s.created, b1, sizeof(b1)), human_span(f->max_age, b2,
			    sizeof(b2)), (long long)st->now - s.created > f->max_age ?
			    ": TOO OLD, the publisher has stopped publishing" : "");
		if (s.last_outcome == 0)
			printf(SUBKEY "never\n", "last pull:");
		else {
			printf(SUBKEY "%s, %s ago: %s (%zu bytes%s)\n", "last pull:",
			    local_time(s.last_pull, b1, sizeof(b1)),
			    human_span((long long)st->now - s.last_pull, b2,
			    sizeof(b2)), fleet_outcome_name(s.last_outcome),
			    s.last_downloaded, s.last_delta ? ", delta" : "");
			if (s.last_error[0] != '\0')
				printf("  %s\n", names_escape(s.last_error, esc,
				    sizeof(esc)));
		}
	}
}

static json_object *
fleet_json(const struct status *st)
{
	const struct config_fleet *f = &st->c->fleet;
	json_object *o = json_object_new_object();

	json_object_object_add(o, "role", json_object_new_string(
	    f->role == FLEET_PUBLISHER ? "publisher" :
	    f->role == FLEET_SUBSCRIBER ? "subscriber" : "standalone"));
	if (f->role == FLEET_PUBLISHER) {
		struct fleet_pub_state p;

		json_object_object_add(o, "destination",
		    json_text(f->destination));
		if (fleet_pub_state_load(st->c, &p) == 0) {
			add_time(o, "last_publish", p.last_publish);
			json_object_object_add(o, "last_publish_ok",
			    json_object_new_boolean(p.last_ok));
			json_object_object_add(o, "last_error",
			    json_text(p.last_error));
			json_object_object_add(o, "generation",
			    json_object_new_int64((int64_t)p.generation));
		}
	} else if (f->role == FLEET_SUBSCRIBER) {
		struct fleet_sub_state s;
		char *dir = config_fleet_state_dir(st->c);

		json_object_object_add(o, "source", json_text(f->source));
		if (fleet_state_load(dir, &s) == 0) {
			json_object_object_add(o, "generation",
			    json_object_new_int64((int64_t)s.generation));
			json_object_object_add(o, "manifest_age_seconds",
			    s.created > 0 ? json_object_new_int64((int64_t)
			    ((long long)st->now - s.created)) : NULL);
			add_time(o, "last_pull", s.last_pull);
			json_object_object_add(o, "last_result",
			    json_object_new_string(fleet_outcome_name(
			    s.last_outcome)));
			json_object_object_add(o, "last_error",
			    json_text(s.last_error));
			json_object_object_add(o, "last_downloaded_bytes",
			    json_object_new_int64((int64_t)s.last_downloaded));
		}
		free(dir);
	}
	return o;
}

static void
print_human(const struct status *st)
{
	printf(KEY "%s\n", "config:", st->config_path);
	if (st->c->fleet.role == FLEET_SUBSCRIBER) {
		/* It never syncs: its data comes from the publisher. */
		print_fleet(st);
		print_data_age(st);
		print_snapshot(st);
		return;
	}
	print_last_sync(st);
	print_next("next sync:", st->next, st->c->schedule, st->now);
	print_next("next full sync:", st->next_full, st->c->full_sync_schedule,
	    st->now);
	if (st->sched_err[0] != '\0')
		printf("  %s\n", st->sched_err);
	print_data_age(st);
	print_snapshot(st);
	print_rejects(st);
	print_errors(st);
	print_events(st);
	print_fleet(st);
}

/* ---- JSON form ------------------------------------------------------- */

static json_object *
counts(unsigned long added, unsigned long modified, unsigned long removed,
    unsigned long unchanged, unsigned long rejected)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "added", json_object_new_int64((int64_t)added));
	json_object_object_add(o, "modified",
	    json_object_new_int64((int64_t)modified));
	json_object_object_add(o, "removed",
	    json_object_new_int64((int64_t)removed));
	json_object_object_add(o, "unchanged",
	    json_object_new_int64((int64_t)unchanged));
	json_object_object_add(o, "rejected",
	    json_object_new_int64((int64_t)rejected));
	return o;
}

static void
next_json(json_object *o, const char *key, const char *sched_key,
    time_t t, const char *expr)
{
	json_object_object_add(o, sched_key, json_text(expr));
	add_time(o, key, t > 0 ? (long long)t : 0);
}

/* The "cache" object: where cache.db is and whether it could be read. */
static json_object *
cache_json(const struct status *st)
{
	json_object *x = json_object_new_object();

	json_object_object_add(x, "path", json_text(st->cache_path));
	json_object_object_add(x, "readable", json_object_new_boolean(st->cache_ok));
	json_object_object_add(x, "error", st->cache_ok ? NULL :
	    json_text(st->cache_err));
	return x;
}

/* The "last_sync" object, or NULL when none is known. */
static json_object *
last_sync_json(const struct status *st)
{
	const struct cache_run *r = &st->run;
	json_object *x, *a;

	if (!st->cache_ok || !st->have_run)
		return NULL;
	x = json_object_new_object();
	add_time(x, "started", r->started);
	add_time(x, "finished", r->finished);
	json_object_object_add(x, "result", json_text(r->result));
	json_object_object_add(x, "mode", json_text(r->mode));
	json_object_object_add(x, "duration_seconds",
	    json_object_new_int64(r->finished - r->started));
	json_object_object_add(x, "message", r->message[0] ?
	    json_text(r->message) : NULL);
	json_object_object_add(x, "users", counts(r->users_added,
	    r->users_modified, r->users_removed, r->users_unchanged,
	    r->users_rejected));
	json_object_object_add(x, "groups", counts(r->groups_added,
	    r->groups_modified, r->groups_removed, r->groups_unchanged,
	    r->groups_rejected));
	a = json_object_new_object();
	json_object_object_add(a, "added",
	    json_object_new_int64((int64_t)r->memberships_added));
	json_object_object_add(a, "removed",
	    json_object_new_int64((int64_t)r->memberships_removed));
	json_object_object_add(x, "memberships", a);
	json_object_object_add(x, "requests",
	    json_object_new_int64(r->requests));
	return x;
}

/* The schedules, their next fires, and the age of the data NSS serves. */
static void
add_schedule_json(json_object *o, const struct status *st)
{
	next_json(o, "next_sync", "schedule", st->next, st->c->schedule);
	next_json(o, "next_full_sync", "full_sync_schedule", st->next_full,
	    st->c->full_sync_schedule);
	json_object_object_add(o, "schedule_error", st->sched_err[0] ?
	    json_text(st->sched_err) : NULL);

	add_time(o, "last_success", st->last_success);
	json_object_object_add(o, "data_age_seconds", st->last_success > 0 ?
	    json_object_new_int64((long long)st->now - st->last_success) : NULL);
	json_object_object_add(o, "stale_after_seconds",
	    json_object_new_int64(st->stale_after));
	json_object_object_add(o, "data_stale", json_object_new_boolean(st->stale));
}

/* The "snapshot" object; its members are null when there is none. */
static json_object *
snapshot_json(const struct status *st)
{
	json_object *x = json_object_new_object();

	json_object_object_add(x, "path", json_text(st->snap_path));
	json_object_object_add(x, "present", json_object_new_boolean(st->snap_ok));
	json_object_object_add(x, "error", st->snap_ok ? NULL : json_text(st->snap_err));
	if (st->snap_ok) {
		json_object_object_add(x, "generation",
		    json_object_new_int64((int64_t)st->meta.generation));
		add_time(x, "last_sync", st->meta.last_sync);
		json_object_object_add(x, "users",
		    json_object_new_int64(st->meta.nusers));
		json_object_object_add(x, "groups",
		    json_object_new_int64(st->meta.ngroups));
	} else {
		json_object_object_add(x, "generation", NULL);
		add_time(x, "last_sync", 0);
		json_object_object_add(x, "users", NULL);
		json_object_object_add(x, "groups", NULL);
	}
	return x;
}

/* What the cache and the host checks say about the snapshot. */
static void
add_checks_json(json_object *o, const struct status *st)
{
	json_object_object_add(o, "cache_generation", st->cache_ok ?
	    json_object_new_int64(st->cache_generation) : NULL);
	json_object_object_add(o, "tombstones", st->tombstones >= 0 ?
	    json_object_new_int64(st->tombstones) : NULL);
	json_object_object_add(o, "snapshot_replaced", st->snap_replaced >= 0 ?
	    json_object_new_boolean(st->snap_replaced) : NULL);
	json_object_object_add(o, "snapshot_replaced_detail",
	    st->snap_replaced == 1 ? json_text(st->snap_replaced_msg) : NULL);
	json_object_object_add(o, "nscd_caches_users", st->nscd >= 0 ?
	    json_object_new_boolean(st->nscd) : NULL);
	json_object_object_add(o, "nscd", json_text(st->nscd_msg));
	json_object_object_add(o, "snapshot_matches_cache",
	    st->cache_ok && st->snap_ok ? json_object_new_boolean(
	    st->cache_generation == (long long)st->meta.generation) : NULL);
	json_object_object_add(o, "snapshot_age_seconds", st->snap_ok &&
	    st->meta.last_sync > 0 ? json_object_new_int64((long long)st->now -
	    st->meta.last_sync) : NULL);
}

/* The "errors" array, newest first. */
static json_object *
errors_json(const struct status *st)
{
	json_object *a = json_object_new_array(), *e;
	int i;

	for (i = 0; i < st->nerrs; i++) {
		e = json_object_new_object();
		add_time(e, "time", st->errs[i].time);
		json_object_object_add(e, "error", json_text(st->errs[i].error));
		json_object_object_add(e, "sentence",
		    json_text(runlog_err_sentence(st->errs[i].error)));
		json_object_object_add(e, "message", json_text(st->errs[i].message));
		json_object_array_add(a, e);
	}
	return a;
}

static json_object *
events_json(const struct status *st)
{
	const struct events_state *e = &st->ev;
	json_object *o = json_object_new_object(), *last = NULL;

	json_object_object_add(o, "enabled",
	    json_object_new_boolean(st->c->events));
	json_object_object_add(o, "interval_seconds",
	    json_object_new_int64(st->c->event_interval));
	json_object_object_add(o, "cursor_age_seconds", e->polled_at > 0 ?
	    json_object_new_int64((long long)st->now - e->polled_at) : NULL);
	json_object_object_add(o, "seen", json_object_new_int64((int64_t)e->seen));
	json_object_object_add(o, "applied",
	    json_object_new_int64((int64_t)e->applied));
	if (e->last_uuid[0] != '\0') {
		last = json_object_new_object();
		json_object_object_add(last, "uuid", json_text(e->last_uuid));
		json_object_object_add(last, "event_type", json_text(e->last_type));
		json_object_object_add(last, "published",
		    json_text(e->last_published));
	}
	json_object_object_add(o, "last_event", last);
	json_object_object_add(o, "latency_seconds", e->latency >= 0 ?
	    json_object_new_double(e->latency) : NULL);
	return o;
}

/* The --json document; its keys, in this order, are the interface. */
static void
print_json(const struct status *st)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "config", json_text(st->config_path));
	json_object_object_add(o, "cache_dir", json_text(st->c->cache_dir));
	json_object_object_add(o, "cache", cache_json(st));
	json_object_object_add(o, "last_sync", last_sync_json(st));
	json_object_object_add(o, "last_attempt_failed",
	    json_object_new_boolean(st->last_attempt_failed));
	add_schedule_json(o, st);
	json_object_object_add(o, "snapshot", snapshot_json(st));
	add_checks_json(o, st);
	json_object_object_add(o, "pam", policy_json(st));
	json_object_object_add(o, "rejected", rejects_json(st));
	json_object_object_add(o, "rejected_total", st->rej_total >= 0 ?
	    json_object_new_int64(st->rej_total) : NULL);
	json_object_object_add(o, "errors", errors_json(st));
	json_object_object_add(o, "errors_readable",
	    json_object_new_boolean(st->errs_readable));
	json_object_object_add(o, "events", events_json(st));
	json_object_object_add(o, "fleet", fleet_json(st));

	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

int
cmd_status(int argc, char **argv, const char *config_path)
{
	struct config_problems problems = { NULL, 0 };
	struct status st;
	const char *path = config_path ? config_path : OKTA_CONFIG_PATH;
	int i, json = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "okta-sync: status: unknown option %s\n",
			    argv[i]);
			usage(stderr);
			return 2;
		}
	}
	memset(&st, 0, sizeof(st));
	/* check_files = 0: status neither needs nor reads the token. */
	st.c = config_load(path, 0, &problems);
	if (st.c == NULL) {
		config_print_problems(stderr, path, &problems);
		fprintf(stderr, "okta-sync: status: the configuration has "
		    "problems; run 'okta-sync check-config'\n");
		config_problems_free(&problems);
		return err_exit_code(OK_ERR_CONFIG);
	}
	config_problems_free(&problems);
	st.config_path = path;
	st.now = time(NULL);
	st.ev.latency = -1;
	gather(&st);
	if (json)
		print_json(&st);
	else
		print_human(&st);
	free(st.cache_path);
	free(st.snap_path);
	for (i = 0; (size_t)i < st.nrej; i++) {
		free(st.rej[i].kind);
		free(st.rej[i].okta_id);
		free(st.rej[i].okta_name);
		free(st.rej[i].reason);
	}
	free(st.rej);
	config_free(st.c);
	return 0;
}
