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
};

okerr sync_run(const struct config *c, const struct sync_opts *opts,
    struct sync_result *res);

#endif
