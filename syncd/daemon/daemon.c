/*
 * daemon.c - okta-syncd's main loop (see daemon.h).
 *
 * Two threads.  The main thread owns the config and runs the loop: wait
 * until the next sync is due (or an event comes), run sync_run(), log one
 * line, update the systemd status and the metrics file.  A helper thread
 * takes SIGTERM, SIGINT and SIGHUP with sigtimedwait (they are blocked in
 * every thread) and pings the systemd watchdog every WATCHDOG_USEC/2 for
 * as long as the main thread shows signs of life: it is waiting (and wakes
 * at least once a minute), or it is inside a sync that has not run for
 * longer than SYNC_MAX_SECONDS.  A hung sync therefore ends in a watchdog
 * restart, while a long but healthy one is not killed.
 *
 * SIGTERM sets the flag that sync_run() polls (sync_opts.stop), so a sync
 * under way is abandoned; the engine's transaction leaves the cache and the
 * snapshot as they were.  SIGHUP is handled between syncs.
 *
 * With [sync] events, the loop also wakes every event_interval between
 * syncs to poll Okta's System Log (events.h), which applies what it
 * learns through sync_run: the same lock, never at the same time as a
 * sync (the loop runs one thing at a time), and watched like a sync.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "broker.h"
#include "daemon.h"
#include "events.h"
#include "fleet_run.h"
#include "lock.h"
#include "log.h"
#include "paths.h"
#include "snapshot.h"
#include "sync.h"
#include "xmalloc.h"

#define EX_CONFIG_CODE 78
/* The main loop wakes at least this often while waiting (clock changes). */
#define WAIT_CHUNK_SECONDS 60
/* Waiting without waking for longer than this means the loop is stuck. */
#define LOOP_STALL_SECONDS 180
/* A sync running for longer than this is taken to be hung. */
#define SYNC_MAX_SECONDS (2 * 3600)

enum event { EV_DUE, EV_STOP, EV_RELOAD };

struct daemon {
	const char *config_path;
	long interval;
	struct config *cfg;
	struct daemon_schedule sched;

	/* Shared with the helper thread, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop, reload;
	int quit;                      /* the helper thread must return */
	struct timespec loop_beat;     /* CLOCK_MONOTONIC */
	struct timespec sync_started;  /* CLOCK_MONOTONIC; 0: not syncing */
	uint64_t watchdog_usec;        /* 0: no watchdog */

	/* The loop's own state (main thread only). */
	time_t next_inc, next_full, retry_at;
	int owe_full, retry_full;
	unsigned failures;
	time_t last_attempt, last_success;
	okerr last_rc;
	double last_duration;
	struct sync_result last_ok;    /* of the last successful sync */
	unsigned long errors_total, syncs_total;
	struct events *events;         /* the System Log follower, or NULL */
	unsigned events_refused;       /* System Log polls refused in a row */
	time_t next_poll;              /* -1: events off */
};

/* Handed to sync_run(); set by the helper thread on SIGTERM/SIGINT. */
static volatile sig_atomic_t stop_flag;

/* ---- Schedules --------------------------------------------------------- */

int
daemon_schedule_init(struct daemon_schedule *s, const struct config *c,
    long interval, char *err, size_t errlen)
{
	char why[256];

	memset(s, 0, sizeof(*s));
	s->interval = interval > 0 ? interval : 0;
	if (c->schedule != NULL && s->interval == 0) {
		if (cron_parse(c->schedule, &s->inc, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "[sync] schedule = %s: %s",
			    c->schedule, why);
			return -1;
		}
		s->has_inc = 1;
	}
	if (c->full_sync_schedule != NULL) {
		if (cron_parse(c->full_sync_schedule, &s->full, why,
		    sizeof(why)) != 0) {
			snprintf(err, errlen, "[sync] full_sync_schedule = %s: %s",
			    c->full_sync_schedule, why);
			return -1;
		}
		s->has_full = 1;
	}
	if (!s->has_inc && !s->has_full && s->interval == 0) {
		snprintf(err, errlen, "no [sync] schedule or full_sync_schedule "
		    "is set, so okta-syncd has nothing to do; set one, e.g. "
		    "schedule = */15 * * * *");
		return -1;
	}
	return 0;
}

time_t
daemon_next(const struct daemon_schedule *s, int full, time_t after)
{
	if (full)
		return s->has_full ? cron_next_local(&s->full, after) : -1;
	if (s->interval > 0)
		return after + s->interval;
	return s->has_inc ? cron_next_local(&s->inc, after) : -1;
}

long
daemon_backoff(unsigned failures, long cap)
{
	long d = 1;
	unsigned i;

	if (cap <= 0)
		cap = 3600;
	for (i = 1; i < failures && d < cap; i++)
		d *= 2;
	return d < cap ? d : cap;
}

int
daemon_error_is_transient(okerr e)
{
	switch (e) {
	case OK_ERR_DNS:
	case OK_ERR_CONNECT:
	case OK_ERR_TIMEOUT:
	case OK_ERR_SERVER:
	case OK_ERR_RATE_LIMIT:
	case OK_ERR_PROTOCOL:
		return 1;
	default:
		return 0;
	}
}

/* The earlier of two times, where -1 means "never". */
static time_t
earliest(time_t a, time_t b)
{
	if (a == -1)
		return b;
	if (b == -1)
		return a;
	return a < b ? a : b;
}

/* ---- Small helpers ----------------------------------------------------- */

static const char *
fmt_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (t == -1 || localtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(buf, len, "never");
	return buf;
}

static double
mono_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(a->tv_sec - b->tv_sec) +
	    (double)(a->tv_nsec - b->tv_nsec) / 1e9;
}

static void
mono_now(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

/* Tell systemd; a failure only means we are not under systemd. */
static void notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
notify(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r = sd_notify(0, msg);
	if (r < 0)
		debug_f("sd_notify: %s", strerror(-r));
}

/* The STATUS= line systemctl status shows: the last sync and the next. */
static void
notify_status(const struct daemon *d)
{
	char last[64], next[64];
	time_t due = earliest(earliest(d->next_inc, d->next_full), d->retry_at);
	const char *kind = (d->owe_full || due == d->next_full ||
	    (due == d->retry_at && d->retry_full)) ? "full" : "incremental";

	fmt_time(due, next, sizeof(next));
	if (d->last_attempt == 0)
		notify("STATUS=Next sync at %s (%s)", next, kind);
	else if (d->last_rc == OK_SUCCESS)
		notify("STATUS=Last sync ok at %s (%lu users, %lu groups); "
		    "next sync at %s (%s)", fmt_time(d->last_success, last,
		    sizeof(last)), d->last_ok.users.added +
		    d->last_ok.users.modified + d->last_ok.users.unchanged,
		    d->last_ok.groups.added + d->last_ok.groups.modified +
		    d->last_ok.groups.unchanged, next, kind);
	else
		notify("STATUS=Last sync failed at %s: %s; next sync at %s (%s)",
		    fmt_time(d->last_attempt, last, sizeof(last)),
		    err_sentence(d->last_rc), next, kind);
}

/* ---- The Prometheus textfile ------------------------------------------- */

static void
metrics_counts(FILE *f, const char *name, const char *help,
    const struct sync_counts *n)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
	fprintf(f, "%s{state=\"added\"} %lu\n", name, n->added);
	fprintf(f, "%s{state=\"modified\"} %lu\n", name, n->modified);
	fprintf(f, "%s{state=\"removed\"} %lu\n", name, n->removed);
	fprintf(f, "%s{state=\"unchanged\"} %lu\n", name, n->unchanged);
	fprintf(f, "%s{state=\"rejected\"} %lu\n", name, n->rejected);
}

/*
 * The published snapshot's age and, under its PAM policy, when pam_okta
 * starts refusing Okta logins (+Inf: never; 0: now, never synced).  Read
 * from the snapshot itself, as pam_okta reads it.  Nothing is written when
 * there is no readable snapshot.
 */
static void
metrics_snapshot(FILE *f, const struct config *c)
{
	struct snap *s = NULL;
	struct snap_policy pol;
	char *path, *buf;
	long long last;
	int64_t refuse;

	path = xasprintf("%s/%s", c->cache_dir, OKTA_SNAPSHOT_NAME);
	buf = xmalloc(SNAP_POLICY_BUF);
	if (snap_open(path, &s) != 0)
		goto out;
	last = (long long)snap_get_meta(s)->last_sync;
	fprintf(f, "# HELP okta_sync_snapshot_last_sync_timestamp_seconds "
	    "The last successful sync of the snapshot NSS and PAM read.\n"
	    "# TYPE okta_sync_snapshot_last_sync_timestamp_seconds gauge\n"
	    "okta_sync_snapshot_last_sync_timestamp_seconds %lld\n", last);
	fprintf(f, "# HELP okta_sync_snapshot_age_seconds Age of the "
	    "snapshot's data when this file was written (live: time() - "
	    "okta_sync_snapshot_last_sync_timestamp_seconds).\n"
	    "# TYPE okta_sync_snapshot_age_seconds gauge\n"
	    "okta_sync_snapshot_age_seconds %lld\n",
	    last > 0 ? (long long)time(NULL) - last : -1LL);
	if (snap_get_policy(s, &pol, buf, SNAP_POLICY_BUF) != 1)
		goto out;
	refuse = snap_policy_refuse_at(&pol, (int64_t)last);
	fprintf(f, "# HELP okta_sync_pam_logins_refused_timestamp_seconds "
	    "When pam_okta starts refusing Okta users because the snapshot "
	    "is older than [pam] max_cache_age (+Inf: never).\n"
	    "# TYPE okta_sync_pam_logins_refused_timestamp_seconds gauge\n");
	if (refuse < 0)
		fprintf(f, "okta_sync_pam_logins_refused_timestamp_seconds "
		    "+Inf\n");
	else
		fprintf(f, "okta_sync_pam_logins_refused_timestamp_seconds "
		    "%lld\n", (long long)refuse);
out:
	snap_close(s);
	free(buf);
	free(path);
}

/* One gauge or counter; NaN stands for "not known yet". */
static void
metric(FILE *f, const char *name, const char *type, const char *help,
    double v, int known)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	if (known)
		fprintf(f, "%s %.15g\n", name, v);
	else
		fprintf(f, "%s NaN\n", name);
}

/* Following the System Log (events.h), as of the last poll. */
static void
metrics_events(FILE *f, const struct daemon *d)
{
	const struct events_state *s = events_state_of(d->events);
	long long pub = s != NULL ? okta_log_time_ms(s->last_published) : -1;
	time_t now = time(NULL);

	metric(f, "okta_sync_events_enabled", "gauge", "Whether okta-syncd "
	    "follows Okta's System Log between syncs.", d->cfg->events, 1);
	metric(f, "okta_sync_events_cursor_age_seconds", "gauge", "Seconds "
	    "since the System Log was last polled.", s != NULL ?
	    (double)(now - s->polled_at) : 0, s != NULL && s->polled_at > 0);
	metric(f, "okta_sync_events_seen_total", "counter", "System Log "
	    "events seen.", s != NULL ? (double)s->seen : 0, 1);
	metric(f, "okta_sync_events_applied_total", "counter", "System Log "
	    "events applied (SUCCESS, of a type that matters).", s != NULL ?
	    (double)s->applied : 0, 1);
	metric(f, "okta_sync_event_latency_seconds", "gauge", "From the last "
	    "applied event's published time to its snapshot here.",
	    s != NULL ? s->latency : 0, s != NULL && s->latency >= 0);
	metric(f, "okta_sync_last_event_published_timestamp_seconds", "gauge",
	    "When the last applied event was published in Okta.",
	    (double)pub / 1000.0, pub >= 0);
}

/* What the syncs did: the daemon's own counters and the last result. */
static void
metrics_sync(FILE *f, const struct daemon *d)
{
	fprintf(f, "# HELP okta_sync_last_success_timestamp_seconds When the "
	    "last successful sync ended.\n"
	    "# TYPE okta_sync_last_success_timestamp_seconds gauge\n"
	    "okta_sync_last_success_timestamp_seconds %lld\n",
	    (long long)d->last_success);
	fprintf(f, "# HELP okta_sync_last_attempt_timestamp_seconds When the "
	    "last sync attempt ended.\n"
	    "# TYPE okta_sync_last_attempt_timestamp_seconds gauge\n"
	    "okta_sync_last_attempt_timestamp_seconds %lld\n",
	    (long long)d->last_attempt);
	fprintf(f, "# HELP okta_sync_last_duration_seconds How long the last "
	    "sync attempt took.\n"
	    "# TYPE okta_sync_last_duration_seconds gauge\n"
	    "okta_sync_last_duration_seconds %.3f\n", d->last_duration);
	fprintf(f, "# HELP okta_sync_last_success Whether the last sync "
	    "attempt succeeded (1) or failed (0).\n"
	    "# TYPE okta_sync_last_success gauge\n"
	    "okta_sync_last_success %d\n", d->last_rc == OK_SUCCESS ? 1 : 0);
	metrics_counts(f, "okta_sync_users", "Users by what the last "
	    "successful sync did with them.", &d->last_ok.users);
	metrics_counts(f, "okta_sync_groups", "Groups by what the last "
	    "successful sync did with them.", &d->last_ok.groups);
	fprintf(f, "# HELP okta_sync_last_requests Requests to Okta made by "
	    "the last successful sync.\n"
	    "# TYPE okta_sync_last_requests gauge\n"
	    "okta_sync_last_requests %lu\n", d->last_ok.requests);
	fprintf(f, "# HELP okta_sync_snapshot_generation Generation of the "
	    "snapshot the last successful sync published.\n"
	    "# TYPE okta_sync_snapshot_generation gauge\n"
	    "okta_sync_snapshot_generation %llu\n", d->last_ok.generation);
	fprintf(f, "# HELP okta_sync_syncs_total Syncs attempted since "
	    "okta-syncd started.\n"
	    "# TYPE okta_sync_syncs_total counter\n"
	    "okta_sync_syncs_total %lu\n", d->syncs_total);
	fprintf(f, "# HELP okta_sync_errors_total Syncs that failed since "
	    "okta-syncd started.\n"
	    "# TYPE okta_sync_errors_total counter\n"
	    "okta_sync_errors_total %lu\n", d->errors_total);
}

/*
 * Write [sync] metrics_file for node_exporter's textfile collector: to a
 * temporary name the collector ignores (it reads only *.prom), then renamed
 * over the old file, so a scrape never sees half a file.  A failure is
 * logged and otherwise ignored: metrics must never stop the syncs.
 */
static void
write_metrics(const struct daemon *d)
{
	const char *path = d->cfg->metrics_file;
	char *tmp = NULL;
	FILE *f = NULL;
	int fd = -1, ok = 0;

	if (path == NULL)
		return;
	tmp = xasprintf("%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd == -1)
		goto out;
	if ((f = fdopen(fd, "w")) == NULL)
		goto out;
	fd = -1;
	/* A subscriber does not sync: no sync metrics (zeros would alarm). */
	if (d->cfg->fleet.role != FLEET_SUBSCRIBER)
		metrics_sync(f, d);
	metrics_snapshot(f, d->cfg);
	if (d->cfg->fleet.role != FLEET_SUBSCRIBER)
		metrics_events(f, d);
	fleet_metrics(f, d->cfg);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		goto out;
	if (fclose(f) != 0) {
		f = NULL;
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) != 0)
		goto out;
	ok = 1;
out:
	if (!ok) {
		warn("cannot write the metrics file %s: %s", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		if (fd != -1)
			close(fd);
		unlink(tmp);
	}
	free(tmp);
}

/* ---- The helper thread: signals and the watchdog ---------------------- */

/* Whether the main thread is alive: see the top of the file.  mu held. */
static int
main_thread_alive(const struct daemon *d)
{
	struct timespec now;

	mono_now(&now);
	if (d->sync_started.tv_sec != 0 || d->sync_started.tv_nsec != 0)
		return mono_diff(&now, &d->sync_started) < SYNC_MAX_SECONDS;
	return mono_diff(&now, &d->loop_beat) < LOOP_STALL_SECONDS;
}

static void *
helper_thread(void *arg)
{
	struct daemon *d = arg;
	struct timespec next_ping, now, ts;
	sigset_t set;
	double left;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	mono_now(&next_ping);
	for (;;) {
		if (d->watchdog_usec == 0) {
			sig = sigwaitinfo(&set, NULL);
		} else {
			mono_now(&now);
			left = mono_diff(&next_ping, &now);
			if (left <= 0) {
				pthread_mutex_lock(&d->mu);
				if (d->quit) {
					/* Nothing: the daemon is on its way out. */
				} else if (main_thread_alive(d)) {
					notify("WATCHDOG=1");
				} else {
					warn("the main loop looks stuck; not "
					    "pinging the watchdog");
				}
				pthread_mutex_unlock(&d->mu);
				next_ping = now;
				next_ping.tv_nsec += (long)(d->watchdog_usec / 2 % 1000000) * 1000;
				next_ping.tv_sec += (time_t)(d->watchdog_usec / 2 / 1000000) +
				    next_ping.tv_nsec / 1000000000;
				next_ping.tv_nsec %= 1000000000;
				continue;
			}
			ts.tv_sec = (time_t)left;
			ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
			sig = sigtimedwait(&set, NULL, &ts);
		}
		if (sig == -1)
			continue;	/* EAGAIN: time to ping; EINTR */
		pthread_mutex_lock(&d->mu);
		if (d->quit) {
			pthread_mutex_unlock(&d->mu);
			break;
		}
		if (sig == SIGHUP) {
			d->reload = 1;
		} else {
			stop_flag = 1;
			d->stop = 1;
		}
		pthread_cond_broadcast(&d->cv);
		pthread_mutex_unlock(&d->mu);
	}
	return NULL;
}

/* ---- The main loop ----------------------------------------------------- */

/*
 * Wait until `due` (wall-clock; -1: no deadline) or an event.  Wakes at
 * least every WAIT_CHUNK_SECONDS to notice wall-clock changes (suspend,
 * NTP steps) and to show the watchdog thread it is alive.
 */
static enum event
wait_for(struct daemon *d, time_t due)
{
	struct timespec real, deadline;
	enum event ev;
	double left;

	pthread_mutex_lock(&d->mu);
	for (;;) {
		mono_now(&d->loop_beat);
		if (d->stop) {
			ev = EV_STOP;
			break;
		}
		if (d->reload) {
			d->reload = 0;
			ev = EV_RELOAD;
			break;
		}
		clock_gettime(CLOCK_REALTIME, &real);
		left = WAIT_CHUNK_SECONDS;
		if (due != -1) {
			left = (double)(due - real.tv_sec) - (double)real.tv_nsec / 1e9;
			if (left <= 0) {
				ev = EV_DUE;
				break;
			}
			if (left > WAIT_CHUNK_SECONDS)
				left = WAIT_CHUNK_SECONDS;
		}
		deadline = d->loop_beat;
		deadline.tv_sec += (time_t)left;
		deadline.tv_nsec += (long)((left - (double)(time_t)left) * 1e9);
		deadline.tv_sec += deadline.tv_nsec / 1000000000;
		deadline.tv_nsec %= 1000000000;
		pthread_cond_timedwait(&d->cv, &d->mu, &deadline);
	}
	pthread_mutex_unlock(&d->mu);
	return ev;
}

/* Recompute the next scheduled times from `now`. */
static void
plan_from(struct daemon *d, time_t now)
{
	d->next_inc = daemon_next(&d->sched, 0, now);
	d->next_full = daemon_next(&d->sched, 1, now);
}

/* When the next System Log poll is due: -1 with [sync] events off. */
static void
plan_poll(struct daemon *d, time_t now)
{
	d->next_poll = d->cfg->events ? now + d->cfg->event_interval : -1;
}

/* The longest back-off: the time between two scheduled syncs. */
static long
backoff_cap(const struct daemon *d)
{
	time_t a, b;

	if (d->sched.interval > 0)
		return d->sched.interval;
	a = d->next_inc != -1 ? d->next_inc : d->next_full;
	if (a == -1)
		return 3600;
	b = daemon_next(&d->sched, d->next_inc == -1, a);
	return b == -1 ? 3600 : (long)(b - a);
}

static void
log_result(okerr rc, int full, const struct sync_result *r)
{
	const char *kind = full ? "full" : "incremental";

	if (rc == OK_SUCCESS) {
		info("sync ok (%s): users +%lu ~%lu -%lu =%lu !%lu, "
		    "groups +%lu ~%lu -%lu =%lu !%lu, memberships +%lu -%lu, "
		    "%lu requests, %.2f s, snapshot generation %llu", kind,
		    r->users.added, r->users.modified, r->users.removed,
		    r->users.unchanged, r->users.rejected, r->groups.added,
		    r->groups.modified, r->groups.removed, r->groups.unchanged,
		    r->groups.rejected, r->memberships_added,
		    r->memberships_removed, r->requests, r->seconds,
		    r->generation);
	} else if (rc == OK_ERR_BUSY) {
		info("sync (%s) skipped: another sync is running", kind);
	} else if (rc == OK_ERR_INTERRUPTED) {
		info("sync (%s) abandoned: stopping; nothing was changed", kind);
	} else {
		error("sync failed (%s) after %.2f s: %s%s%s", kind, r->seconds,
		    err_sentence(rc), r->message[0] != '\0' ? ": " : "",
		    r->message);
	}
}

/* The watchdog (the helper thread) gives a sync, or a System Log poll,
 * SYNC_MAX_SECONDS from *t0 instead of the loop's stall limit; the end
 * of it counts as a loop heartbeat at *t1. */
static void
watch_begin(struct daemon *d, struct timespec *t0)
{
	mono_now(t0);
	pthread_mutex_lock(&d->mu);
	d->sync_started = *t0;
	pthread_mutex_unlock(&d->mu);
}

static void
watch_end(struct daemon *d, struct timespec *t1)
{
	mono_now(t1);
	pthread_mutex_lock(&d->mu);
	memset(&d->sync_started, 0, sizeof(d->sync_started));
	d->loop_beat = *t1;
	pthread_mutex_unlock(&d->mu);
}

/* Run one sync and update the loop's state.  Returns the result. */
static okerr
run_one(struct daemon *d, int full)
{
	struct sync_opts o;
	struct sync_result r;
	struct timespec t0, t1;
	char when[64];
	time_t now;
	okerr rc;
	long delay;

	memset(&o, 0, sizeof(o));
	memset(&r, 0, sizeof(r));
	o.full = full;
	o.wait = 0;
	o.format = PLAN_FORMAT_NONE;
	o.stop = &stop_flag;

	watch_begin(d, &t0);
	notify("STATUS=Syncing (%s) since %s", full ? "full" : "incremental",
	    fmt_time(time(NULL), when, sizeof(when)));

	rc = sync_run(d->cfg, &o, &r);
	if (rc == OK_SUCCESS)
		(void)fleet_after_sync(d->cfg);   /* logs its own outcome */

	watch_end(d, &t1);
	if (r.seconds <= 0)
		r.seconds = mono_diff(&t1, &t0);
	log_result(rc, full, &r);
	if (rc == OK_ERR_INTERRUPTED || rc == OK_ERR_BUSY)
		return rc;

	now = time(NULL);
	d->syncs_total++;
	d->last_attempt = now;
	d->last_rc = rc;
	d->last_duration = r.seconds;
	if (rc == OK_SUCCESS) {
		d->last_success = now;
		d->last_ok = r;
		d->failures = 0;
		if (full)
			d->owe_full = 0;
	} else {
		d->errors_total++;
		if (daemon_error_is_transient(rc)) {
			d->failures++;
			delay = daemon_backoff(d->failures, backoff_cap(d));
			d->retry_at = now + delay;
			d->retry_full = full;
			/* The schedule comes first when it is sooner. */
			if (d->retry_at >= earliest(d->next_inc, d->next_full))
				d->retry_at = -1;
			else
				info("Okta is unreachable; the last snapshot goes "
				    "on serving; retrying in %ld s", delay);
		}
	}
	write_metrics(d);
	return rc;
}

/* SIGHUP: re-read the config; keep the old one when the new one is bad. */
static void
reload(struct daemon *d)
{
	struct config_problems probs = { NULL, 0 };
	struct daemon_schedule s;
	struct config *nc;
	char err[512];
	size_t i;

	notify("RELOADING=1");
	nc = config_load(d->config_path, 1, &probs);
	if (nc == NULL) {
		error("reloading the configuration failed; keeping the running "
		    "one.  The problems:");
		for (i = 0; i < probs.n; i++) {
			if (probs.v[i].line > 0)
				error("%s:%d: %s", d->cfg->path, probs.v[i].line,
				    probs.v[i].message);
			else
				error("%s: %s", d->cfg->path, probs.v[i].message);
		}
		goto out;
	}
	if (nc->fleet.role != d->cfg->fleet.role) {
		error("reloading the configuration failed; keeping the running "
		    "one: a change of [fleet] role needs a restart "
		    "(systemctl restart okta-syncd)");
		config_free(nc);
		goto out;
	}
	if (nc->fleet.role == FLEET_SUBSCRIBER)
		memset(&s, 0, sizeof(s));
	else if (daemon_schedule_init(&s, nc, d->interval, err,
	    sizeof(err)) != 0) {
		error("reloading the configuration failed; keeping the running "
		    "one: %s", err);
		config_free(nc);
		goto out;
	}
	config_free(d->cfg);
	d->cfg = nc;
	d->sched = s;
	plan_from(d, time(NULL));
	/* The follower's client was made for the old config. */
	events_drop_client(d->events);
	plan_poll(d, time(NULL));
	info("reloaded the configuration from %s", d->cfg->path);
out:
	config_problems_free(&probs);
	notify("READY=1");
	notify_status(d);
}

static void
log_plan(const struct daemon *d)
{
	char a[64], b[64];

	info("next incremental sync at %s, next full sync at %s",
	    fmt_time(d->next_inc, a, sizeof(a)),
	    fmt_time(d->next_full, b, sizeof(b)));
}

/* Block the signals the helper thread takes, in this thread and so in
 * every thread it starts.  Returns 0, -1 (said). */
static int
block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
		error("cannot block signals");
		return -1;
	}
	return 0;
}

/*
 * Load the configuration and its schedules into d.  Returns 0, or the exit
 * code (EX_CONFIG_CODE) after saying every problem, to the log and to
 * systemd.
 */
static int
read_config(struct daemon *d, const char *config_path)
{
	struct config_problems probs = { NULL, 0 };
	char err[512];
	size_t i;

	d->cfg = config_load(config_path, 1, &probs);
	if (d->cfg == NULL) {
		error("the configuration %s is invalid:", config_path ?
		    config_path : OKTA_CONFIG_PATH);
		for (i = 0; i < probs.n; i++) {
			if (probs.v[i].line > 0)
				error("  line %d: %s", probs.v[i].line,
				    probs.v[i].message);
			else
				error("  %s", probs.v[i].message);
		}
		config_problems_free(&probs);
		notify("STATUS=Invalid configuration; see the log");
		return EX_CONFIG_CODE;
	}
	config_problems_free(&probs);
	if (d->cfg->fleet.role == FLEET_SUBSCRIBER)
		return 0;            /* it pulls; it has no sync schedule */
	if (daemon_schedule_init(&d->sched, d->cfg, d->interval, err,
	    sizeof(err)) != 0) {
		error("%s: %s", d->cfg->path, err);
		notify("STATUS=Invalid schedule; see the log");
		config_free(d->cfg);
		return EX_CONFIG_CODE;
	}
	if (d->interval > 0)
		warn("testing mode: an incremental sync every %ld s instead of "
		    "[sync] schedule", d->interval);
	return 0;
}

/* The lock and condition shared with the helper thread; the condition
 * waits on the monotonic clock, so that a clock change does not stretch a
 * wait.  Returns 0, -1 (said). */
static int
init_lock(struct daemon *d)
{
	pthread_condattr_t ca;

	if (pthread_mutex_init(&d->mu, NULL) != 0 ||
	    pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&d->cv, &ca) != 0) {
		error("cannot initialise the daemon's lock");
		return -1;
	}
	pthread_condattr_destroy(&ca);
	return 0;
}

/*
 * Sync once at start, then follow the schedules: a host that was off
 * catches up at once, and an incremental sync costs little.
 */
static void
start_schedule(struct daemon *d)
{
	time_t now = time(NULL);

	plan_from(d, now);
	plan_poll(d, now);
	d->retry_at = now;
	log_plan(d);
	notify("READY=1");
	notify_status(d);
	info("started (pid %ld), watchdog %s", (long)getpid(),
	    d->watchdog_usec ? "on" : "off");
}

/*
 * Whether a sync is due at now, and whether it is to be full (*full):
 * move the schedules on past now, and take a due retry.  A full sync,
 * once due, stays owed until one succeeds.
 */
static int
sync_due(struct daemon *d, time_t now, int *full)
{
	int run = 0;

	if (d->next_full != -1 && d->next_full <= now) {
		d->owe_full = 1;
		d->next_full = daemon_next(&d->sched, 1, now);
	}
	if (d->next_inc != -1 && d->next_inc <= now) {
		d->next_inc = daemon_next(&d->sched, 0, now);
		run = 1;
	}
	*full = d->owe_full;
	if (d->retry_at != -1 && d->retry_at <= now) {
		d->retry_at = -1;
		*full = *full || d->retry_full;
		run = 1;
	}
	if (d->owe_full)
		run = 1;
	return run;
}

/* One System Log poll (events.h), watched like a sync: it may run one. */
static void
poll_events(struct daemon *d)
{
	struct timespec t0, t1;
	long delay;
	okerr rc;

	if (d->events == NULL)
		d->events = events_new();
	watch_begin(d, &t0);
	rc = events_poll(d->events, d->cfg, &stop_flag);
	watch_end(d, &t1);
	plan_poll(d, time(NULL));
	if (rc == OK_ERR_FORBIDDEN || rc == OK_ERR_AUTH) {
		/* A token without the right to read the System Log stays
		 * without it: back off, doubling up to an hour, instead of a
		 * refused request (and a warning) every event_interval. */
		d->events_refused++;
		delay = daemon_backoff(d->events_refused, 3600) *
		    d->cfg->event_interval;
		if (delay > 3600)
			delay = 3600;
		d->next_poll = time(NULL) + delay;
		info("events: the System Log refused the request; the next "
		    "System Log poll in %ld s (the scheduled syncs go on)", delay);
	} else if (rc == OK_SUCCESS && d->events_refused > 0) {
		d->events_refused = 0;
		info("events: the System Log answers again; polling every %ld s",
		    d->cfg->event_interval);
	}
	write_metrics(d);
}

/* The loop: wait for the next due time or event, sync when due, until
 * told to stop; between syncs, poll the System Log when that is due. */
/*
 * A fleet subscriber's loop: pull from [fleet] source every poll_interval
 * (the test interval when given), with up to a tenth of it of random
 * jitter so that a fleet started at once does not pull at once.  A pull
 * is watched like a sync; it never overlaps an `okta-sync fleet pull`
 * (the sync lock: busy means that pull is doing the work).
 */
static void
serve_subscriber(struct daemon *d)
{
	long interval = d->interval > 0 ? d->interval :
	    (long)d->cfg->fleet.poll_interval;
	struct fleet_sub_state st;
	struct timespec t0, t1;
	time_t next = time(NULL);
	char err[512];
	int lockfd, outcome;
	enum event ev;

	notify("READY=1\nSTATUS=Fleet subscriber of %s", d->cfg->fleet.source);
	info("started (pid %ld) as a fleet subscriber of %s, pulling every "
	    "%ld s", (long)getpid(), d->cfg->fleet.source, interval);
	for (;;) {
		ev = wait_for(d, next);
		if (ev == EV_STOP)
			break;
		if (ev == EV_RELOAD) {
			reload(d);
			interval = d->interval > 0 ? d->interval :
			    (long)d->cfg->fleet.poll_interval;
			continue;
		}
		watch_begin(d, &t0);
		if (sync_lock_acquire(d->cfg->cache_dir, 0, &lockfd, err,
		    sizeof(err)) == OK_SUCCESS) {
			outcome = fleet_run_pull(d->cfg, &st);
			sync_lock_release(lockfd);
			if (outcome == FLEET_PULL_INSTALLED)
				info("fleet: installed generation %llu (%zu bytes%s)",
				    (unsigned long long)st.generation,
				    st.last_downloaded, st.last_delta ?
				    ", delta" : "");
			else if (outcome != FLEET_PULL_UNCHANGED)
				warn("fleet: pull %s: %s; the installed snapshot "
				    "keeps serving", fleet_outcome_name(outcome),
				    st.last_error);
			notify("STATUS=Fleet subscriber: generation %llu, last "
			    "pull %s", (unsigned long long)st.generation,
			    fleet_outcome_name(outcome));
		} else
			debug("fleet: pull skipped: %s", err);
		watch_end(d, &t1);
		write_metrics(d);
		next = time(NULL) + interval +
		    (interval >= 10 ? (time_t)(random() % (interval / 10 + 1)) : 0);
	}
}

static void
serve(struct daemon *d)
{
	time_t now, due;
	int full;
	enum event ev;

	for (;;) {
		due = earliest(earliest(d->next_inc, d->next_full), d->retry_at);
		ev = wait_for(d, earliest(due, d->next_poll));
		if (ev == EV_STOP)
			break;
		if (ev == EV_RELOAD) {
			reload(d);
			continue;
		}
		if (!sync_due(d, time(NULL), &full)) {
			if (d->next_poll != -1 && d->next_poll <= time(NULL))
				poll_events(d);
			continue;
		}
		/* After SIGTERM the sync returns early; wait_for then stops. */
		run_one(d, full);
		/* A sync that outlasted a fire time does not run twice. */
		now = time(NULL);
		if (d->next_inc != -1 && d->next_inc <= now)
			d->next_inc = daemon_next(&d->sched, 0, now);
		notify_status(d);
	}
}

int
daemon_run(const struct daemon_opts *o)
{
	struct daemon d;
	struct broker *auth = NULL;
	pthread_t helper;
	char err[512];
	int rc;

	memset(&d, 0, sizeof(d));
	d.config_path = o->config_path;
	d.interval = o->interval;
	d.next_inc = d.next_full = d.retry_at = d.next_poll = -1;

	/* Before anything else, so that an early SIGTERM waits for us. */
	if (block_signals() != 0)
		return 1;
	if ((rc = read_config(&d, o->config_path)) != 0)
		return rc;
	if (init_lock(&d) != 0) {
		config_free(d.cfg);
		return 1;
	}
	mono_now(&d.loop_beat);
	if (sd_watchdog_enabled(1, &d.watchdog_usec) <= 0)
		d.watchdog_usec = 0;
	rc = 1;
	/* [auth]: the login broker (its own threads, its own copy of the
	 * config); a reload does not restart it. */
	if ((auth = broker_start(d.cfg->path, err, sizeof(err))) == NULL &&
	    err[0] != '\0') {
		error("cannot serve logins ([auth]): %s", err);
		notify("STATUS=Cannot serve logins; see the log");
		rc = EX_CONFIG_CODE;
		goto out;
	}
	if (auth != NULL)
		info("serving logins on %s", broker_socket(auth));
	if (pthread_create(&helper, NULL, helper_thread, &d) != 0) {
		error("cannot start the signal and watchdog thread");
		broker_stop(auth);
		goto out;
	}
	if (d.cfg->fleet.role == FLEET_SUBSCRIBER) {
		srandom((unsigned)getpid() ^ (unsigned)time(NULL));
		serve_subscriber(&d);
	} else {
		start_schedule(&d);
		serve(&d);
	}
	notify("STOPPING=1\nSTATUS=Stopping");
	info("stopping");
	broker_stop(auth);
	rc = 0;
	/* d lives on this stack: the helper thread must end before it. */
	pthread_mutex_lock(&d.mu);
	d.quit = 1;
	pthread_mutex_unlock(&d.mu);
	if (pthread_kill(helper, SIGHUP) == 0)
		pthread_join(helper, NULL);
out:
	pthread_cond_destroy(&d.cv);
	pthread_mutex_destroy(&d.mu);
	events_free(d.events);
	config_free(d.cfg);
	return rc;
}
