/*
 * okta_logs.h - Okta's System Log (GET /api/v1/logs) as the client sees
 * it: the first polling request, and LogEvent objects read defensively.
 *
 * A request without `until` is a polling request: its rel="next" link is
 * always present and, followed later, answers only the events that came
 * since (okta_poll_page in okta.h fetches a page and checks that link).
 * Everything in a LogEvent is untrusted: each field used is checked
 * (characters, length) and copied into fixed buffers; an event missing
 * uuid, published or eventType is unusable, and targets beyond
 * OKTA_LOG_TARGETS_MAX, or with ids that are not Okta ids, are dropped.
 */
#ifndef OKTA_LOGS_H
#define OKTA_LOGS_H

#include <json-c/json.h>
#include <stddef.h>

#define OKTA_LOG_TARGETS_MAX 8
#define OKTA_LOG_UUID_MAX 64
#define OKTA_LOG_TYPE_MAX 128
#define OKTA_LOG_TIME_MAX 40
/* Okta answers at most 1000 LogEvents a page. */
#define OKTA_LOG_PAGE_LIMIT 1000

enum okta_target_kind {
	OKTA_TARGET_OTHER,
	OKTA_TARGET_USER,       /* type "User" */
	OKTA_TARGET_GROUP       /* type "UserGroup" */
};

struct okta_log_target {
	enum okta_target_kind kind;
	char id[65];            /* okta_valid_id() */
};

struct okta_log_event {
	char uuid[OKTA_LOG_UUID_MAX + 1];        /* letters, digits, '-' */
	char published[OKTA_LOG_TIME_MAX];       /* "2026-11-28T14:03:20.123Z" */
	long long published_ms;                  /* epoch milliseconds */
	char event_type[OKTA_LOG_TYPE_MAX + 1];  /* letters, digits, '.', '_' */
	int success;                             /* outcome.result "SUCCESS" */
	struct okta_log_target target[OKTA_LOG_TARGETS_MAX];
	size_t ntargets;
};

/*
 * Read one element of a System Log page into *ev.  Returns 0, or -1 when
 * the element is not a usable LogEvent (not an object; uuid, published or
 * eventType missing or malformed); *ev is then zeroed.  Never fails for an
 * unknown eventType, a missing outcome (not a success) or bad targets
 * (dropped).
 */
int okta_log_event_parse(json_object *item, struct okta_log_event *ev);

/* An Okta timestamp ("YYYY-MM-DDTHH:MM:SS[.fff]Z") as epoch milliseconds,
 * or -1 when s is anything else.  Every Okta time the sync reads goes
 * through it (a user's lastUpdated too: syncd/engine/sync.c). */
long long okta_log_time_ms(const char *s);

/*
 * The path and query of the first polling request:
 * /api/v1/logs?since=S&sortOrder=ASCENDING&limit=L[&filter=F], with since
 * (epoch seconds) in Okta's format and filter (may be NULL) URL-encoded.
 * malloc'd; the caller frees.
 */
char *okta_logs_first_path(long long since, const char *filter,
    unsigned limit);

#endif
