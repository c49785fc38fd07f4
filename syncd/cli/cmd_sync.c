/*
 * cmd_sync.c - `okta-sync sync [--dry-run] [--json] ...`: run one sync
 * (sync.h) and print its plan.
 *
 * The CLI's sync is full unless --incremental is given: an admin who runs
 * it by hand wants the whole truth, hard deletions included; the daemon's
 * scheduled syncs are the incremental ones (daemon.c).  On a terminal
 * (stderr) the fetch shows its progress in place; --progress forces it,
 * --no-progress turns it off.
 *
 * Exit codes: 0 done, 3 refused by the deletion guard, 75 another sync
 * holds the lock, 78 configuration or token file problem, 1 any other
 * failure (err_exit_code).  The token is read and wiped inside sync_run;
 * nothing here ever sees or prints it.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "fleet_run.h"
#include "error.h"
#include "log.h"
#include "paths.h"
#include "sync.h"

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: okta-sync [-c FILE] sync [--dry-run] [--json] [--force] "
	    "[--full|--incremental]\n"
	    "                 [--wait] [-q] [--show-unchanged] [--[no-]progress]"
	    " [-v|--verbose]\n\n"
	    "Fetch the users and groups from Okta, map and validate them, and\n"
	    "print the plan: what is added, modified (field by field), removed,\n"
	    "rejected (with the reason), and the membership changes.  Then apply\n"
	    "it to the cache in one transaction and publish a new snapshot.\n\n"
	    "  --dry-run         show the plan only; write neither cache nor snapshot\n"
	    "  --json            print the plan and result as one JSON document\n"
	    "  -q, --quiet       print only the counts, not the plan's entries\n"
	    "  --force           apply even when more than max_delete users would go\n"
	    "  --full            a full sync: every user and group (the default)\n"
	    "  --incremental     only what changed in Okta since the last sync\n"
	    "                    (the daemon's scheduled syncs do this); falls back\n"
	    "                    to a full sync when it cannot give the same result;\n"
	    "                    hard deletions wait for the next full sync\n"
	    "  --wait            wait for a running sync instead of failing (exit 75)\n"
	    "  --show-unchanged  list unchanged users and groups too\n"
	    "  --progress        report fetch progress on stderr (the default when\n"
	    "                    stderr is a terminal); --no-progress: never\n"
	    "  -v, --verbose     debug logging and progress on stderr\n\n"
	    "Exit status: 0 done, 3 refused by a safety guard, 75 busy,\n"
	    "78 configuration problem, 1 other failure.\n");
}

/* The counts summary, for --quiet. */
static void
print_counts(const struct sync_result *r, int dry_run)
{
	printf("users: %lu added, %lu modified, %lu removed, %lu unchanged, "
	    "%lu rejected\n", r->users.added, r->users.modified,
	    r->users.removed, r->users.unchanged, r->users.rejected);
	printf("groups: %lu added, %lu modified, %lu removed, %lu unchanged, "
	    "%lu rejected\n", r->groups.added, r->groups.modified,
	    r->groups.removed, r->groups.unchanged, r->groups.rejected);
	printf("memberships: %lu added, %lu removed\n", r->memberships_added,
	    r->memberships_removed);
	if (dry_run)
		printf("dry run: nothing was changed (%lu requests)\n", r->requests);
	else if (r->generation > 0)
		printf("applied: snapshot generation %llu published in %.3f s; "
		    "%lu requests, %.1f s in all\n", r->generation,
		    r->publish_seconds, r->requests, r->seconds);
}

/*
 * The options, over the CLI's defaults (a full sync, the plan as a table,
 * progress when stderr is a terminal).  -1 to go on, else the exit code.
 */
static int
parse_args(int argc, char **argv, struct sync_opts *opts)
{
	int i;

	memset(opts, 0, sizeof(*opts));
	opts->format = PLAN_FORMAT_TABLE;
	opts->out = stdout;
	opts->full = 1;
	opts->progress = isatty(STDERR_FILENO);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0 || strcmp(argv[i], "-n") == 0)
			opts->dry_run = 1;
		else if (strcmp(argv[i], "--json") == 0)
			opts->format = PLAN_FORMAT_JSON;
		else if (strcmp(argv[i], "-q") == 0 ||
		    strcmp(argv[i], "--quiet") == 0)
			opts->format = PLAN_FORMAT_NONE;
		else if (strcmp(argv[i], "--force") == 0)
			opts->force = 1;
		else if (strcmp(argv[i], "--full") == 0)
			opts->full = 1;
		else if (strcmp(argv[i], "--incremental") == 0)
			opts->full = 0;
		else if (strcmp(argv[i], "--wait") == 0)
			opts->wait = 1;
		else if (strcmp(argv[i], "--show-unchanged") == 0)
			opts->show_unchanged = 1;
		else if (strcmp(argv[i], "--progress") == 0)
			opts->progress = 1;
		else if (strcmp(argv[i], "--no-progress") == 0)
			opts->progress = 0;
		else if (strcmp(argv[i], "-v") == 0 ||
		    strcmp(argv[i], "--verbose") == 0) {
			log_set_level(LOG_LEVEL_DEBUG);
			opts->progress = 1;
		} else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "okta-sync: sync: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	return -1;
}

/* SIGINT/SIGTERM abandon the run before anything is applied. */
static void
catch_stop_signals(struct sync_opts *opts)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	opts->stop = &stop_flag;
}

/*
 * What the run did, after the plan: the counts for --quiet, then on
 * stderr the failure and whether anything was changed, or the timings.
 */
static void
report(const struct sync_opts *opts, okerr rc, const struct sync_result *res)
{
	if (opts->format == PLAN_FORMAT_NONE && (rc == OK_SUCCESS ||
	    rc == OK_ERR_REFUSED || res->applied))
		print_counts(res, opts->dry_run);
	fflush(stdout);
	if (rc != OK_SUCCESS) {
		if (res->message[0] != '\0')
			fprintf(stderr, "okta-sync: %s\nokta-sync: %s\n",
			    err_sentence(rc), res->message);
		else
			fprintf(stderr, "okta-sync: %s\n", err_sentence(rc));
		if (!res->applied)
			fprintf(stderr, "okta-sync: nothing was changed: the cache "
			    "and the snapshot are as they were\n");
	} else if (opts->progress)
		fprintf(stderr, "okta-sync: done in %.1f s, %lu requests, publish "
		    "%.3f s\n", res->seconds, res->requests, res->publish_seconds);
}

int
cmd_sync(int argc, char **argv, const char *config_path)
{
	struct sync_opts opts;
	struct sync_result res;
	struct config *c;
	const char *path = config_path ? config_path : OKTA_CONFIG_PATH;
	okerr rc;
	int code;

	if ((code = parse_args(argc, argv, &opts)) >= 0)
		return code;
	if ((c = config_load_or_report(path, 1)) == NULL)
		return err_exit_code(OK_ERR_CONFIG);
	if (c->fleet.role == FLEET_SUBSCRIBER) {
		fprintf(stderr, "okta-sync: this host is a fleet subscriber "
		    "([fleet] role in %s): it takes its snapshot from the "
		    "publisher with `okta-sync fleet pull`, never from Okta\n", path);
		config_free(c);
		return err_exit_code(OK_ERR_CONFIG);
	}
	catch_stop_signals(&opts);
	rc = sync_run(c, &opts, &res);
	report(&opts, rc, &res);
	if (rc == OK_SUCCESS && !opts.dry_run)
		(void)fleet_after_sync(c);   /* logged; the sync itself worked */
	config_free(c);
	return err_exit_code(rc);
}
