/*
 * daemon.h - okta-syncd's main loop: runs sync_run() when [sync] schedule
 * (incremental) or full_sync_schedule (full) fires, talks to systemd
 * (Type=notify: READY, STATUS, WATCHDOG, RELOADING, STOPPING), re-reads the
 * config on SIGHUP and stops on SIGTERM, retrying with back-off while Okta
 * is unreachable, and writes the optional Prometheus textfile.
 *
 * The schedules are evaluated in the host's local time zone (TZ), as cron
 * does; most servers run in UTC anyway.
 */
#ifndef OKTA_DAEMON_H
#define OKTA_DAEMON_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "cron.h"
#include "error.h"

struct daemon_opts {
	const char *config_path;   /* NULL: OKTA_CONFIG_PATH */
	long interval;             /* > 0: an incremental sync every `interval`
	                            * seconds instead of [sync] schedule (for
	                            * tests: cron cannot say "every 2 s") */
};

/*
 * Run the daemon until SIGTERM or SIGINT.  Returns the process exit code:
 * 0 after a clean stop, EX_CONFIG (78) when the config or a schedule is bad
 * at start, 1 on another start-up failure.  Blocks SIGTERM, SIGINT and
 * SIGHUP in the calling thread (they are taken by a helper thread).
 */
int daemon_run(const struct daemon_opts *o);

/* ---- Pieces of the loop, exposed for unit tests ---------------------- */

/* When syncs are due, from a config and the test interval. */
struct daemon_schedule {
	struct cron inc, full;
	int has_inc, has_full;
	long interval;             /* > 0: replaces `inc` */
};

/*
 * Fill *s from c->schedule and c->full_sync_schedule (and interval > 0,
 * which replaces the first).  Returns 0, or -1 with a sentence in err when
 * an expression is invalid or there is no schedule at all.
 */
int daemon_schedule_init(struct daemon_schedule *s, const struct config *c,
    long interval, char *err, size_t errlen);

/* The next incremental (full: 0) or full (full: 1) sync strictly after
 * `after`, or -1 when that kind has no schedule. */
time_t daemon_next(const struct daemon_schedule *s, int full, time_t after);

/*
 * The delay before retry number `failures` (1, 2, ...) after a sync failed
 * because Okta could not be reached: 1, 2, 4, ... seconds, never more than
 * cap (cap <= 0: 3600).  Can't fail.
 */
long daemon_backoff(unsigned failures, long cap);

/* Whether a failed sync is worth retrying before the next scheduled one:
 * the network, Okta's servers or rate limits, not the token or a guard. */
int daemon_error_is_transient(okerr e);

#endif
