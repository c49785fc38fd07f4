/*
 * events.h - following Okta's System Log between scheduled syncs
 * ([sync] events, okta-syncd only).
 *
 * Every [sync] event_interval the daemon calls events_poll(): one GET of
 * the stored polling cursor (or, on a fresh start, of the events since
 * the last sync's start minus EVENTS_FRESH_OVERLAP seconds).  Of the
 * events answered, those with outcome SUCCESS and a type in the table
 * (events_types) name users and groups; the batch then goes through the
 * one sync path (sync_run with sync_opts.targets: fetch those by id, map,
 * validate, plan, the deletion guard, apply, publish).  A batch naming
 * more than EVENTS_BURST_USERS users runs one incremental sync instead.
 * The System Log lags: this only shortens the window between scheduled
 * syncs, which stay the safety net.
 *
 * The cursor, the counters and the last event applied are kept in
 * cache.db (events_state, schema 5) so that a restart resumes from the
 * cursor and `okta-sync status` can show them.  Events are de-duplicated
 * by uuid within a poll.  A poll that fails keeps the old cursor (the
 * next poll reads the same events again); one the deletion guard refuses
 * moves on (the scheduled syncs will refuse the same).
 */
#ifndef OKTA_EVENTS_H
#define OKTA_EVENTS_H

#include <signal.h>
#include <sqlite3.h>
#include <stddef.h>

#include "config.h"
#include "error.h"
#include "okta.h"
#include "okta_logs.h"

/* More distinct users than this in one poll: one incremental sync. */
#define EVENTS_BURST_USERS 100
/* A fresh start reads the events since the last sync's start minus this. */
#define EVENTS_FRESH_OVERLAP 120
/* Full pages read in one poll before the rest waits for the next. */
#define EVENTS_PAGES_MAX 10

/* What an event type names (events_type_what). */
#define EVENTS_USER 1u          /* its User target: fetch the user */
#define EVENTS_GROUP 2u         /* its UserGroup target: fetch the group */
#define EVENTS_MEMBERSHIP 4u    /* the user's groups changed: list them */

struct events_type {
	const char *name;        /* Okta's eventType */
	unsigned what;           /* EVENTS_* bits */
};

/* The table of the event types that matter (the same in okta-syncd(8)),
 * *n entries. */
const struct events_type *events_types(size_t *n);
/* The EVENTS_* bits of event_type, 0 for a type that does not matter. */
unsigned events_type_what(const char *event_type);
/* `eventType eq "..." or ...` over the table, for the first request;
 * malloc'd. */
char *events_filter(void);

/* What cache.db keeps (events_state). */
struct events_state {
	char cursor[OKTA_URL_MAX];   /* "" none: a fresh start */
	long long polled_at;         /* epoch s of the last good poll, 0 none */
	unsigned long long seen, applied;
	char last_uuid[OKTA_LOG_UUID_MAX + 1];      /* "" none */
	char last_type[OKTA_LOG_TYPE_MAX + 1];
	char last_published[OKTA_LOG_TIME_MAX];
	double latency;              /* seconds, < 0 none */
};

/* Read db's state into *st (zeroed, latency -1, when there is none).
 * 1 found, 0 none, -1 SQLite error. */
int events_state_load(sqlite3 *db, struct events_state *st);
/* Write *st (in the caller's transaction, if any).  0, -1. */
int events_state_store(sqlite3 *db, const struct events_state *st);

/* The users and groups one poll's events name. */
struct events_batch {
	char **users;               /* distinct Okta user ids, in order */
	unsigned char *refresh;     /* per user: its memberships changed */
	size_t nusers;
	char **groups;              /* distinct Okta group ids */
	size_t ngroups;
	char **uuids;               /* the events seen, for de-duplication */
	size_t nuuids;
	unsigned long seen;         /* distinct events */
	unsigned long relevant;     /* of those: SUCCESS and in the table */
	struct okta_log_event last; /* the last relevant one */
};

/* Count ev into b: 1 a new event, 0 a duplicate (by uuid).  Only a
 * relevant event adds users and groups. */
int events_batch_add(struct events_batch *b, const struct okta_log_event *ev);
void events_batch_free(struct events_batch *b);

/* okta-syncd's follower: the Okta client kept between polls (so that the
 * rate-limit reserve knows the logs bucket) and the state. */
struct events;
struct events *events_new(void);
void events_free(struct events *e);     /* accepts NULL */
/* Drop the Okta client (after a config reload: the next poll makes one
 * for the new config); the state stays.  Accepts NULL. */
void events_drop_client(struct events *e);
/* The state as of the last poll (for the metrics); NULL before one. */
const struct events_state *events_state_of(const struct events *e);

/* One poll (see the top).  OK_SUCCESS also when there was nothing to do;
 * otherwise the error, said in the log. */
okerr events_poll(struct events *e, const struct config *c,
    volatile sig_atomic_t *stop);

#endif
