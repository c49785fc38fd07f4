/*
 * sync.h - one sync run: fetch from Okta, map and validate, plan against the
 * cache, and (unless dry-run) apply the plan in one SQLite transaction and
 * publish a new snapshot.
 *
 * Used by the CLI (`okta-sync sync`) and by the daemon.  Only one sync runs
 * at a time on a host: sync_run takes an exclusive lock file in the cache
 * directory (OK_ERR_BUSY when held and opts->wait is 0); a dry run takes no
 * lock and writes nothing.  sync_run reads the API token itself
 * (config_read_token) and wipes it.  On failure res->message holds the
 * detail (never the token) and res->applied says whether the cache was
 * changed (only a failed publish leaves it changed).
 */
#ifndef OKTA_SYNC_H
#define OKTA_SYNC_H

#include <stdio.h>
#include <signal.h>

#include "config.h"
#include "error.h"

enum plan_format { PLAN_FORMAT_NONE, PLAN_FORMAT_TABLE, PLAN_FORMAT_JSON };

/*
 * An event-driven run (events.h): instead of the lastUpdated listings,
 * the incremental sync fetches these users and groups by id over what
 * the cache holds, and the same validation, plan, guard, apply and
 * publish follow.  A user or group the token cannot read (403, 404) is
 * logged and skipped (a group Okta answers 404 for is gone: it leaves).
 * The run leaves the watermark of the scheduled syncs as it was, so they
 * still see everything changed since.  When no incremental sync is
 * possible the run is a full sync and the targets are not needed.
 */
struct sync_targets {
	char **users;                   /* Okta user ids */
	const unsigned char *refresh;   /* per user: list its groups again */
	size_t nusers;
	char **groups;                  /* Okta group ids */
	size_t ngroups;
};

struct sync_opts {
	int dry_run;               /* plan only: write neither cache nor snapshot */
	int force;                 /* override the deletion guard */
	int full;                  /* full sync (else incremental when possible) */
	int wait;                  /* wait for the lock instead of OK_ERR_BUSY */
	int progress;              /* show progress on stderr */
	int show_unchanged;        /* list unchanged entries too */
	enum plan_format format;   /* how to print the plan to `out` */
	FILE *out;                 /* where the plan goes; NULL: nowhere */
	volatile sig_atomic_t *stop;   /* set non-zero to abandon the run */
	const struct sync_targets *targets;  /* NULL: not event-driven */
};

struct sync_counts {
	unsigned long added, modified, removed, unchanged, rejected;
};

struct sync_result {
	struct sync_counts users, groups;
	unsigned long memberships_added, memberships_removed;
	unsigned long requests;
	double seconds;
	double publish_seconds;
	unsigned long long generation;   /* of the snapshot published, 0 if none */
	char message[512];               /* detail for the log on failure */
	int applied;                     /* 1 once the cache was changed (the
	                                    snapshot may still have failed) */
	int incremental;                 /* the run was incremental (an
	                                    incremental request may run full:
	                                    sync.c says when) */
	int unchanged;                   /* event-driven, and the plan was
	                                    empty: nothing applied, nothing
	                                    published */
};

okerr sync_run(const struct config *c, const struct sync_opts *opts,
    struct sync_result *res);

/*
 * An Okta client as a sync makes it (the token or OAuth app of c, the
 * proxy, [sync] rate_limit_reserve, stopping on *stop), for okta-syncd's
 * System Log polls between syncs.  OK_SUCCESS with *out (free it with
 * okta_client_free), or the error with a sentence in err.
 */
struct okta_client;
okerr sync_client_new(const struct config *c, volatile sig_atomic_t *stop,
    struct okta_client **out, char *err, size_t errlen);

#endif
