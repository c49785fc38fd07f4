/*
 * cmd_migrate.c - `okta-sync migrate [--dry-run | --apply [NAME...]]
 * [--json] [--no-sync] [--wait]`: let Okta users take over the local
 * accounts that have their names, keeping the accounts' UIDs and primary
 * GIDs so that every file keeps its owner (adopt.h has the rules).
 *
 * The candidates come from the last applied sync (its "collides with a
 * local account" rejects) and the local passwd and group files, so a sync
 * must have run first.  --dry-run (the default) lists them and what will
 * happen to each, and writes nothing (cache.db is opened read-only).
 * --apply records the adoptions (all that can be made, or the NAMEs given:
 * then all of them or none) in cache.db under the sync lock, and then runs
 * a sync right away (unless --no-sync), so that the snapshot carries the
 * users with their local UIDs at once; it then shows the result and what
 * the admin can do next (remove the local entries).
 *
 * Exit status: 0 done, 1 no sync yet or a failure (a failed sync after
 * recording says so: the adoptions stay, the next sync applies them),
 * 2 usage, 3 a NAME given cannot be migrated (nothing recorded),
 * 75 another sync holds the lock, 78 configuration problem.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "adopt.h"
#include "cache.h"
#include "commands.h"
#include "config.h"
#include "error.h"
#include "lock.h"
#include "log.h"
#include "names.h"
#include "textout.h"
#include "paths.h"
#include "sync.h"
#include "xmalloc.h"

struct opts {
	int apply, json, no_sync, wait;
	char **names;
	size_t nnames;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: okta-sync [-c FILE] migrate [--dry-run] [--json]\n"
	    "       okta-sync [-c FILE] migrate --apply [--no-sync] [--wait] "
	    "[--json] [NAME...]\n\n"
	    "Let Okta users take over the local accounts that have their names,\n"
	    "keeping each account's UID and primary GID, so that its files keep\n"
	    "their owner; afterwards the local entry can be removed from\n"
	    "/etc/passwd (and /etc/shadow, /etc/group).  Run okta-sync sync first:\n"
	    "the candidates are the users it rejected for colliding with a local\n"
	    "account.  UID/GID 0 and system accounts (below %u) are never taken over.\n\n"
	    "  --dry-run   list the candidates and what will happen (the default);\n"
	    "              changes nothing\n"
	    "  --apply     record the migrations (all that can be made, or the NAMEs\n"
	    "              given: all of them or none), then run a sync\n"
	    "  --no-sync   with --apply: do not sync now (the next sync applies them)\n"
	    "  --wait      wait for a running sync instead of failing (exit 75)\n"
	    "  --json      one JSON document for scripts\n\n"
	    "Exit status: 0 done, 1 failure or no sync yet, 3 a NAME cannot be\n"
	    "migrated, 75 busy, 78 configuration problem.\n", ADOPT_MIN_ID);
}

static const char *
esc(const char *s, char *buf, size_t len)
{
	return s ? names_escape(s, buf, len) : "(unknown)";
}

static void
fmt_time(long long t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(out, outlen, "?");
}

static size_t
count_state(const struct adopt_report *r, enum adopt_state s)
{
	size_t i, n = 0;

	for (i = 0; i < r->n; i++)
		n += r->v[i].state == s;
	return n;
}

/* "jane: local UID 1500 GID 1500 (/home/jane) ← Okta user L (ID)" */
static void
print_head(FILE *out, const struct adopt_candidate *cd)
{
	char e[300];

	if (cd->local_present || cd->state == ADOPT_DONE)
		fprintf(out, "  %s: %s UID %u GID %u%s%s%s%s%s ← Okta user %s (%s)",
		    cd->name, cd->state == ADOPT_DONE ? "adopted" : "local",
		    cd->uid, cd->gid, cd->group ? " (group " : "",
		    cd->group ? cd->group : "", cd->group ? ")" : "",
		    cd->home ? ", home " : "", cd->home ? cd->home : "",
		    esc(cd->login, e, sizeof(e)), cd->okta_id);
	else
		fprintf(out, "  %s ← Okta user %s (%s)", cd->name,
		    esc(cd->login, e, sizeof(e)), cd->okta_id);
}

static void
print_human(FILE *out, const struct adopt_report *r, const char *pwf,
    long long last_sync)
{
	char t[64];
	size_t i;

	fmt_time(last_sync, t, sizeof(t));
	if (r->n == 0) {
		fprintf(out, "No local account matches an Okta user (as of the "
		    "last sync, %s).\n", t);
		return;
	}
	fprintf(out, "Local accounts that match Okta users (as of the last "
	    "sync, %s):\n", t);
	if (count_state(r, ADOPT_CAN) > 0) {
		fprintf(out, "\nCan be migrated:\n");
		for (i = 0; i < r->n; i++) {
			const struct adopt_candidate *cd = &r->v[i];

			if (cd->state != ADOPT_CAN)
				continue;
			print_head(out, cd);
			fprintf(out, ": Okta takes over UID %u and primary GID %u; "
			    "files keep their owner", cd->uid, cd->gid);
			if (cd->okta_home != NULL)
				fprintf(out, "; note: the home becomes %s (the [posix] "
				    "home template)", cd->okta_home);
			fputc('\n', out);
		}
	}
	if (count_state(r, ADOPT_CANNOT) > 0) {
		fprintf(out, "\nCannot be migrated:\n");
		for (i = 0; i < r->n; i++) {
			const struct adopt_candidate *cd = &r->v[i];

			if (cd->state != ADOPT_CANNOT)
				continue;
			print_head(out, cd);
			fprintf(out, ": %s\n", cd->reason);
		}
	}
	if (count_state(r, ADOPT_DONE) > 0) {
		fprintf(out, "\nMigrated:\n");
		for (i = 0; i < r->n; i++) {
			const struct adopt_candidate *cd = &r->v[i];

			if (cd->state != ADOPT_DONE)
				continue;
			print_head(out, cd);
			fmt_time(cd->adopted, t, sizeof(t));
			fprintf(out, ", since %s: ", t);
			if (!cd->synced)
				fprintf(out, "not synced: %s\n", cd->reason);
			else if (cd->local_present)
				fprintf(out, "synced as %s; the local entry is still "
				    "in %s: remove it (and from /etc/shadow and "
				    "/etc/group) when you are ready\n", cd->okta_name,
				    pwf);
			else
				fprintf(out, "synced as %s; the local entry is gone\n",
				    cd->okta_name);
		}
	}
}

/* A string member; untrusted text that is not UTF-8 is escaped. */
static void
jstr(json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, json_text(s));
}

static json_object *
cand_json(const struct adopt_candidate *cd)
{
	json_object *o = json_object_new_object();

	jstr(o, "name", cd->name);
	jstr(o, "okta_id", cd->okta_id);
	jstr(o, "login", cd->login);
	json_object_object_add(o, "local_entry_present",
	    json_object_new_boolean(cd->local_present));
	if (cd->local_present || cd->state == ADOPT_DONE) {
		json_object_object_add(o, "uid", json_object_new_int64(cd->uid));
		json_object_object_add(o, "gid", json_object_new_int64(cd->gid));
	} else {
		json_object_object_add(o, "uid", NULL);
		json_object_object_add(o, "gid", NULL);
	}
	jstr(o, "home", cd->home);
	jstr(o, "group", cd->group);
	jstr(o, "reason", cd->reason);
	if (cd->state == ADOPT_CAN)
		jstr(o, "okta_home", cd->okta_home ? cd->okta_home : cd->home);
	if (cd->state == ADOPT_DONE) {
		json_object_object_add(o, "adopted_epoch",
		    json_object_new_int64(cd->adopted));
		json_object_object_add(o, "synced",
		    json_object_new_boolean(cd->synced));
		jstr(o, "okta_name", cd->okta_name);
	}
	return o;
}

static void
print_json(FILE *out, const struct adopt_report *r, int dry_run,
    long long last_sync, json_object *recorded, json_object *syncres)
{
	json_object *doc = json_object_new_object(), *a[3];
	const char *keys[3] = { "adoptable", "refused", "adopted" };
	size_t i;
	int k;

	json_object_object_add(doc, "dry_run", json_object_new_boolean(dry_run));
	json_object_object_add(doc, "last_sync_epoch",
	    json_object_new_int64(last_sync));
	for (k = 0; k < 3; k++)
		a[k] = json_object_new_array();
	for (i = 0; i < r->n; i++)
		json_object_array_add(a[r->v[i].state], cand_json(&r->v[i]));
	for (k = 0; k < 3; k++)
		json_object_object_add(doc, keys[k], a[k]);
	json_object_object_add(doc, "recorded", recorded);
	json_object_object_add(doc, "sync", syncres);
	fprintf(out, "%s\n", json_object_to_json_string_ext(doc,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
}

/* Whether cache.db is missing (no sync has run yet: said on stderr). */
static int
no_cache_yet(const struct config *c)
{
	struct stat sb;
	char *path = cache_db_path(c->cache_dir);
	int r;

	r = stat(path, &sb);
	free(path);
	if (r != 0) {
		fprintf(stderr, "okta-sync: migrate: no sync has run yet (no cache "
		    "in %s): run okta-sync sync first\n", c->cache_dir);
		return 1;
	}
	return 0;
}

/* Open the cache and check that a sync has run.  0, or an exit code. */
static int
open_cache(const struct config *c, enum cache_mode mode, sqlite3 **db,
    long long *last_sync)
{
	struct cache_run run;
	char err[512];
	int r;

	*db = NULL;
	if (no_cache_yet(c))
		return 1;
	if (cache_open(c->cache_dir, mode, db, err, sizeof(err)) != OK_SUCCESS) {
		fprintf(stderr, "okta-sync: migrate: %s\n", err);
		return err_exit_code(OK_ERR_CACHE);
	}
	r = cache_last_run(*db, &run);
	if (r != 1) {
		fprintf(stderr, "okta-sync: migrate: %s\n", r == 0 ?
		    "no sync has run yet: run okta-sync sync first" :
		    sqlite3_errmsg(*db));
		cache_close(*db);
		*db = NULL;
		return 1;
	}
	*last_sync = run.finished;
	return 0;
}

static int
survey(sqlite3 *db, const struct config *c, struct adopt_report *r)
{
	char err[512];

	if (adopt_survey(db, c, r, err, sizeof(err)) != 0) {
		fprintf(stderr, "okta-sync: migrate: %s\n", err);
		return err_exit_code(OK_ERR_CACHE);
	}
	return 0;
}

static int
dry_run(const struct config *c, const struct opts *o)
{
	const char *pwf = c->passwd_file ? c->passwd_file : "/etc/passwd";
	struct adopt_report r;
	sqlite3 *db;
	long long last;
	size_t n;
	int rc;

	if ((rc = open_cache(c, CACHE_READ_ONLY, &db, &last)) != 0)
		return rc;
	rc = survey(db, c, &r);
	cache_close(db);
	if (rc != 0)
		return rc;
	if (o->json)
		print_json(stdout, &r, 1, last, json_object_new_array(), NULL);
	else {
		print_human(stdout, &r, pwf, last);
		n = count_state(&r, ADOPT_CAN);
		if (n > 0)
			printf("\ndry run: nothing was changed; 'okta-sync migrate "
			    "--apply' records the %zu migration%s above and runs a "
			    "sync\n", n, n == 1 ? "" : "s");
		else
			printf("\ndry run: nothing was changed\n");
	}
	adopt_report_free(&r);
	return 0;
}

/* The candidates --apply records (indices into r), or an exit code when a
 * NAME given cannot be migrated. */
static int
select_names(const struct adopt_report *r, const struct opts *o,
    size_t **sel, size_t *nsel)
{
	size_t i, k;
	int bad = 0;

	*sel = xcalloc(r->n + 1, sizeof(**sel));
	*nsel = 0;
	if (o->nnames == 0) {
		for (i = 0; i < r->n; i++)
			if (r->v[i].state == ADOPT_CAN)
				(*sel)[(*nsel)++] = i;
		return 0;
	}
	for (k = 0; k < o->nnames; k++) {
		int found = 0;

		for (i = 0; i < r->n; i++) {
			const struct adopt_candidate *cd = &r->v[i];

			if (strcmp(cd->name, o->names[k]) != 0)
				continue;
			found = 1;
			if (cd->state == ADOPT_CAN)
				(*sel)[(*nsel)++] = i;
			else if (cd->state == ADOPT_CANNOT) {
				fprintf(stderr, "okta-sync: migrate: %s cannot be "
				    "migrated: %s\n", cd->name, cd->reason);
				bad = 1;
			} else
				fprintf(stderr, "okta-sync: migrate: %s is already "
				    "migrated\n", cd->name);
			break;
		}
		if (!found) {
			char e[100];

			fprintf(stderr, "okta-sync: migrate: no Okta user collides "
			    "with a local account named \"%s\" in the last sync "
			    "(see okta-sync migrate --dry-run)\n",
			    names_escape(o->names[k], e, sizeof(e)));
			bad = 1;
		}
	}
	if (bad) {
		fprintf(stderr, "okta-sync: migrate: nothing was recorded\n");
		return err_exit_code(OK_ERR_REFUSED);
	}
	return 0;
}

/* What --apply works on, from the survey to the report. */
struct apply_run {
	const struct config *c;
	const struct opts *o;
	struct adopt_report r;
	sqlite3 *db;
	int lockfd;
	size_t *sel, nsel;              /* the candidates to record */
	long long last;                 /* the last sync, for the report */
	json_object *recorded, *syncres;        /* for --json */
};

/* Record the selected candidates in one transaction: all or none.
 * 0, or -1 with err. */
static int
record_selected(struct apply_run *a, char *err, size_t errlen)
{
	long long now = (long long)time(NULL);
	char e2[256];
	size_t i;

	if (cache_exec(a->db, "BEGIN IMMEDIATE", err, errlen) != 0)
		return -1;
	for (i = 0; i < a->nsel; i++)
		if (adopt_record(a->db, &a->r.v[a->sel[i]], now, err, errlen) != 0)
			goto rollback;
	if (cache_exec(a->db, "COMMIT", err, errlen) == 0)
		return 0;
rollback:
	cache_exec(a->db, "ROLLBACK", e2, sizeof(e2));
	return -1;
}

/* Log and list what was recorded. */
static void
announce_recorded(struct apply_run *a)
{
	size_t i;

	for (i = 0; i < a->nsel; i++) {
		const struct adopt_candidate *cd = &a->r.v[a->sel[i]];

		info("migrate: Okta user %s takes over the local account %s "
		    "(UID %u, GID %u)", cd->okta_id, cd->name, cd->uid,
		    cd->gid);
		json_object_array_add(a->recorded,
		    json_object_new_string(cd->name));
		if (!a->o->json)
			printf("recorded: %s (UID %u, GID %u) now belongs to "
			    "Okta user %s\n", cd->name, cd->uid, cd->gid,
			    cd->okta_id);
	}
}

/*
 * A full sync, so that the snapshot carries the migrated users at once
 * (called without the lock: sync_run takes it).  0, or the exit code of a
 * failed sync; the recorded migrations stay either way.
 */
static int
sync_now(struct apply_run *a)
{
	struct sync_opts so;
	struct sync_result res;
	okerr orc;
	char *m;

	memset(&so, 0, sizeof(so));
	so.full = 1;
	so.wait = 1;
	so.format = PLAN_FORMAT_NONE;
	orc = sync_run(a->c, &so, &res);
	a->syncres = json_object_new_object();
	json_object_object_add(a->syncres, "ok",
	    json_object_new_boolean(orc == OK_SUCCESS));
	json_object_object_add(a->syncres, "generation",
	    json_object_new_int64((int64_t)res.generation));
	if (orc == OK_SUCCESS) {
		json_object_object_add(a->syncres, "error", NULL);
		if (!a->o->json)
			printf("sync: applied, snapshot generation %llu\n",
			    res.generation);
		return 0;
	}
	m = xasprintf("%s%s%s", err_sentence(orc), res.message[0] ? ": " : "",
	    res.message);
	jstr(a->syncres, "error", m);
	fprintf(stderr, "okta-sync: migrate: the migrations are recorded, but "
	    "the sync failed: %s\nokta-sync: migrate: the next sync applies "
	    "them (okta-sync sync)\n", m);
	free(m);
	return err_exit_code(orc);
}

/* Survey again and show what the host has now.  0, or -1 (said). */
static int
show_outcome(struct apply_run *a)
{
	const char *pwf = a->c->passwd_file ? a->c->passwd_file : "/etc/passwd";

	adopt_report_free(&a->r);
	if (open_cache(a->c, CACHE_READ_ONLY, &a->db, &a->last) != 0 ||
	    survey(a->db, a->c, &a->r) != 0)
		return -1;
	if (a->o->json) {
		print_json(stdout, &a->r, 0, a->last, a->recorded, a->syncres);
		a->recorded = a->syncres = NULL;
	} else {
		printf("\n");
		print_human(stdout, &a->r, pwf, a->last);
	}
	return 0;
}

static int
apply(const struct config *c, const struct opts *o)
{
	struct apply_run a;
	char err[512];
	int rc;
	okerr orc;

	memset(&a, 0, sizeof(a));
	a.c = c;
	a.o = o;
	a.lockfd = -1;
	a.recorded = json_object_new_array();
	if (no_cache_yet(c)) {
		rc = 1;
		goto out;
	}
	orc = sync_lock_acquire(c->cache_dir, o->wait, &a.lockfd, err, sizeof(err));
	if (orc != OK_SUCCESS) {
		fprintf(stderr, "okta-sync: migrate: %s\n", err);
		rc = err_exit_code(orc);
		goto out;
	}
	if ((rc = open_cache(c, CACHE_READ_WRITE, &a.db, &a.last)) != 0 ||
	    (rc = survey(a.db, c, &a.r)) != 0 ||
	    (rc = select_names(&a.r, o, &a.sel, &a.nsel)) != 0)
		goto out;
	if (a.nsel > 0) {
		if (record_selected(&a, err, sizeof(err)) != 0) {
			fprintf(stderr, "okta-sync: migrate: %s\nokta-sync: migrate: "
			    "nothing was recorded\n", err);
			rc = err_exit_code(OK_ERR_CACHE);
			goto out;
		}
		announce_recorded(&a);
	} else if (!o->json)
		printf("nothing to migrate\n");
	cache_close(a.db);
	a.db = NULL;
	/* sync_run takes the lock itself; closing our descriptor is what
	 * releases a POSIX lock, so it goes first. */
	sync_lock_release(a.lockfd);
	a.lockfd = -1;

	if (a.nsel > 0 && !o->no_sync)
		rc = sync_now(&a);
	else if (a.nsel > 0 && !o->json)
		printf("not synced (--no-sync): the next sync gives these users "
		    "their local UIDs (okta-sync sync)\n");
	if (show_outcome(&a) != 0 && rc == 0)
		rc = 1;
out:
	cache_close(a.db);
	sync_lock_release(a.lockfd);
	adopt_report_free(&a.r);
	free(a.sel);
	json_object_put(a.recorded);
	json_object_put(a.syncres);
	return rc;
}

int
cmd_migrate(int argc, char **argv, const char *config_path)
{
	struct config *c;
	struct opts o;
	const char *path = config_path ? config_path : OKTA_CONFIG_PATH;
	int i, rc, dry = 0;

	memset(&o, 0, sizeof(o));
	o.names = xcalloc((size_t)argc + 1, sizeof(*o.names));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0 || strcmp(argv[i], "-n") == 0)
			dry = 1;
		else if (strcmp(argv[i], "--apply") == 0)
			o.apply = 1;
		else if (strcmp(argv[i], "--json") == 0)
			o.json = 1;
		else if (strcmp(argv[i], "--no-sync") == 0)
			o.no_sync = 1;
		else if (strcmp(argv[i], "--wait") == 0)
			o.wait = 1;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			free(o.names);
			return 0;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "okta-sync: migrate: unknown option %s\n",
			    argv[i]);
			usage(stderr);
			free(o.names);
			return 2;
		} else
			o.names[o.nnames++] = argv[i];
	}
	if ((dry && o.apply) || (!o.apply && (o.nnames > 0 || o.no_sync))) {
		fprintf(stderr, "okta-sync: migrate: %s\n", dry && o.apply ?
		    "--dry-run and --apply exclude each other" :
		    "NAMEs and --no-sync go with --apply");
		usage(stderr);
		free(o.names);
		return 2;
	}

	/* The token is only needed (and checked) for the sync --apply runs. */
	if ((c = config_load_or_report(path, o.apply && !o.no_sync)) == NULL) {
		free(o.names);
		return err_exit_code(OK_ERR_CONFIG);
	}
	rc = o.apply ? apply(c, &o) : dry_run(c, &o);
	fflush(stdout);
	config_free(c);
	free(o.names);
	return rc;
}
