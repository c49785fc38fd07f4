/*
 * test_events.c - following the System Log (issue 15): the LogEvent
 * parser and the first polling request (syncd/okta/okta_logs.h), the
 * table of event types, a poll's batch (de-duplication by uuid, SUCCESS
 * only, which users and groups an event names) and the state kept in
 * cache.db (syncd/engine/events.h).
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "cache.h"
#include "events.h"
#include "okta_logs.h"

static char dir[] = "/tmp/test_events.XXXXXX";

/* A LogEvent as Okta sends it (the shape of the OpenAPI LogEvent). */
static const char suspend_json[] =
    "{\"actor\":{\"id\":\"00uadmin1\",\"type\":\"User\","
    "\"alternateId\":\"admin@example.com\",\"displayName\":\"Admin\"},"
    "\"uuid\":\"dc9fd3c0-598c-11ef-8478-2b7584bf8d5a\","
    "\"published\":\"2026-11-28T14:03:20.123Z\","
    "\"eventType\":\"user.lifecycle.suspend\",\"version\":\"0\","
    "\"outcome\":{\"result\":\"SUCCESS\"},"
    "\"target\":[{\"id\":\"00u1abcDEF\",\"type\":\"User\","
    "\"alternateId\":\"jane@example.com\",\"displayName\":\"Jane Doe\"}]}";

static int
parse(const char *text, struct okta_log_event *ev)
{
	json_object *o = json_tokener_parse(text);
	int r = okta_log_event_parse(o, ev);

	json_object_put(o);
	return r;
}

/* An event: uuid, type, result and one User target (and a group). */
static void
make(struct okta_log_event *ev, const char *uuid, const char *type,
    int success, const char *user, const char *group)
{
	memset(ev, 0, sizeof(*ev));
	snprintf(ev->uuid, sizeof(ev->uuid), "%s", uuid);
	snprintf(ev->event_type, sizeof(ev->event_type), "%s", type);
	snprintf(ev->published, sizeof(ev->published), "2026-11-28T14:03:20Z");
	ev->published_ms = okta_log_time_ms(ev->published);
	ev->success = success;
	if (user != NULL) {
		ev->target[ev->ntargets].kind = OKTA_TARGET_USER;
		snprintf(ev->target[ev->ntargets++].id, 65, "%s", user);
	}
	if (group != NULL) {
		ev->target[ev->ntargets].kind = OKTA_TARGET_GROUP;
		snprintf(ev->target[ev->ntargets++].id, 65, "%s", group);
	}
}

TEST(parses_a_log_event)
{
	struct okta_log_event ev;

	ASSERT_INT_EQ(parse(suspend_json, &ev), 0);
	ASSERT_STR_EQ(ev.uuid, "dc9fd3c0-598c-11ef-8478-2b7584bf8d5a");
	ASSERT_STR_EQ(ev.event_type, "user.lifecycle.suspend");
	ASSERT_STR_EQ(ev.published, "2026-11-28T14:03:20.123Z");
	ASSERT(ev.published_ms == 1795874600123LL);
	ASSERT_INT_EQ(ev.success, 1);
	ASSERT_INT_EQ((int)ev.ntargets, 1);
	ASSERT_INT_EQ(ev.target[0].kind, OKTA_TARGET_USER);
	ASSERT_STR_EQ(ev.target[0].id, "00u1abcDEF");
}

TEST(refuses_what_is_not_a_usable_event)
{
	struct okta_log_event ev;
	char long_type[300];

	ASSERT_INT_EQ(parse("[]", &ev), -1);
	ASSERT_INT_EQ(parse("{\"published\":\"2026-11-28T14:03:20Z\","
	    "\"eventType\":\"user.lifecycle.suspend\"}", &ev), -1);
	ASSERT_INT_EQ(parse("{\"uuid\":\"a\\nb\",\"published\":"
	    "\"2026-11-28T14:03:20Z\",\"eventType\":\"x\"}", &ev), -1);
	ASSERT_INT_EQ(parse("{\"uuid\":\"a\",\"published\":\"yesterday\","
	    "\"eventType\":\"x\"}", &ev), -1);
	ASSERT_INT_EQ(parse("{\"uuid\":\"a\",\"published\":"
	    "\"2026-11-28T14:03:20Z\",\"eventType\":\"x y\"}", &ev), -1);
	memset(long_type, 'a', sizeof(long_type) - 1);
	long_type[sizeof(long_type) - 1] = '\0';
	{
		char *j = NULL;

		ASSERT(asprintf(&j, "{\"uuid\":\"a\",\"published\":"
		    "\"2026-11-28T14:03:20Z\",\"eventType\":\"%s\"}",
		    long_type) > 0);
		ASSERT_INT_EQ(parse(j, &ev), -1);
		free(j);
	}
	ASSERT_STR_EQ(ev.uuid, "");
}

TEST(outcome_and_targets_read_defensively)
{
	struct okta_log_event ev;

	/* No outcome: not a success.  Bad target ids and other types go. */
	ASSERT_INT_EQ(parse("{\"uuid\":\"u1\",\"published\":"
	    "\"2026-11-28T14:03:20Z\",\"eventType\":\"group.user_membership.add\","
	    "\"target\":[{\"id\":\"../x\",\"type\":\"User\"},"
	    "{\"id\":\"0oa1\",\"type\":\"AppInstance\"},"
	    "{\"id\":\"00g1\",\"type\":\"UserGroup\"},{\"type\":\"User\"},"
	    "7,{\"id\":\"00u2\",\"type\":\"User\"}]}", &ev), 0);
	ASSERT_INT_EQ(ev.success, 0);
	ASSERT_INT_EQ((int)ev.ntargets, 2);
	ASSERT_INT_EQ(ev.target[0].kind, OKTA_TARGET_GROUP);
	ASSERT_STR_EQ(ev.target[0].id, "00g1");
	ASSERT_STR_EQ(ev.target[1].id, "00u2");
	ASSERT_INT_EQ(parse("{\"uuid\":\"u1\",\"published\":"
	    "\"2026-11-28T14:03:20Z\",\"eventType\":\"x\",\"outcome\":"
	    "{\"result\":\"FAILURE\"}}", &ev), 0);
	ASSERT_INT_EQ(ev.success, 0);
}

TEST(times)
{
	ASSERT(okta_log_time_ms("1970-01-01T00:00:01Z") == 1000);
	ASSERT(okta_log_time_ms("1970-01-01T00:00:01.5Z") == 1500);
	ASSERT(okta_log_time_ms("1970-01-01T00:00:01.123456Z") == 1123);
	ASSERT(okta_log_time_ms("1970-01-01T00:00:01+01:00") == -1);
	ASSERT(okta_log_time_ms("1970-01-01 00:00:01Z") == -1);
	ASSERT(okta_log_time_ms(NULL) == -1);
}

TEST(first_request)
{
	char *p = okta_logs_first_path(1795874600, "eventType eq \"a.b\"", 1000);

	ASSERT_STR_EQ(p, "/api/v1/logs?since=2026-11-28T14%3A03%3A20.000Z"
	    "&sortOrder=ASCENDING&limit=1000&filter=eventType%20eq%20%22a.b%22");
	free(p);
	p = okta_logs_first_path(0, NULL, 10);
	ASSERT_STR_EQ(p, "/api/v1/logs?since=1970-01-01T00%3A00%3A00.000Z"
	    "&sortOrder=ASCENDING&limit=10");
	free(p);
}

TEST(the_table)
{
	size_t n, i;
	const struct events_type *t = events_types(&n);
	char *f = events_filter();

	ASSERT(n == 20);
	ASSERT_INT_EQ((int)events_type_what("user.lifecycle.suspend"),
	    (int)EVENTS_USER);
	ASSERT_INT_EQ((int)events_type_what("group.user_membership.remove"),
	    (int)(EVENTS_USER | EVENTS_GROUP | EVENTS_MEMBERSHIP));
	ASSERT_INT_EQ((int)events_type_what("group.lifecycle.delete"),
	    (int)EVENTS_GROUP);
	ASSERT_INT_EQ((int)events_type_what("user.session.start"), 0);
	ASSERT_INT_EQ((int)events_type_what("user.lifecycle.suspend.x"), 0);
	ASSERT_INT_EQ((int)events_type_what(NULL), 0);
	for (i = 0; i < n; i++) {
		char want[200];

		snprintf(want, sizeof(want), "eventType eq \"%s\"", t[i].name);
		ASSERT(strstr(f, want) != NULL);
	}
	free(f);
}

TEST(batch_dedups_and_counts_success_only)
{
	struct events_batch b;
	struct okta_log_event ev;

	memset(&b, 0, sizeof(b));
	make(&ev, "e1", "user.lifecycle.suspend", 1, "00uA", NULL);
	ASSERT_INT_EQ(events_batch_add(&b, &ev), 1);
	ASSERT_INT_EQ(events_batch_add(&b, &ev), 0);	/* the same uuid */
	make(&ev, "e2", "user.lifecycle.suspend", 0, "00uB", NULL);
	ASSERT_INT_EQ(events_batch_add(&b, &ev), 1);	/* a FAILURE */
	make(&ev, "e3", "user.session.start", 1, "00uC", NULL);
	ASSERT_INT_EQ(events_batch_add(&b, &ev), 1);	/* not in the table */
	make(&ev, "e4", "group.user_membership.add", 1, "00uA", "00gX");
	ASSERT_INT_EQ(events_batch_add(&b, &ev), 1);
	make(&ev, "e5", "group.profile.update", 1, NULL, "00gY");
	ASSERT_INT_EQ(events_batch_add(&b, &ev), 1);
	make(&ev, "e6", "user.account.update_profile", 1, "00uD", NULL);
	ASSERT_INT_EQ(events_batch_add(&b, &ev), 1);
	ASSERT_INT_EQ((int)b.seen, 6);
	ASSERT_INT_EQ((int)b.relevant, 4);
	ASSERT_INT_EQ((int)b.nusers, 2);
	ASSERT_STR_EQ(b.users[0], "00uA");
	ASSERT_INT_EQ(b.refresh[0], 1);	/* its memberships changed */
	ASSERT_STR_EQ(b.users[1], "00uD");
	ASSERT_INT_EQ(b.refresh[1], 0);
	/* A membership's group is not fetched: the user's groups are. */
	ASSERT_INT_EQ((int)b.ngroups, 1);
	ASSERT_STR_EQ(b.groups[0], "00gY");
	ASSERT_STR_EQ(b.last.uuid, "e6");
	events_batch_free(&b);
	ASSERT_INT_EQ((int)b.nusers, 0);
}

TEST(state_round_trip)
{
	sqlite3 *db = NULL;
	char err[256];
	struct events_state a, b;

	ASSERT_INT_EQ(cache_open(dir, CACHE_READ_WRITE, &db, err, sizeof(err)),
	    OK_SUCCESS);
	ASSERT_INT_EQ(events_state_load(db, &b), 0);
	ASSERT(b.cursor[0] == '\0' && b.latency < 0 && b.seen == 0);
	memset(&a, 0, sizeof(a));
	snprintf(a.cursor, sizeof(a.cursor),
	    "https://example.okta.com/api/v1/logs?after=abc");
	a.polled_at = 1795874600;
	a.seen = 12;
	a.applied = 3;
	snprintf(a.last_uuid, sizeof(a.last_uuid), "e6");
	snprintf(a.last_type, sizeof(a.last_type), "user.lifecycle.suspend");
	snprintf(a.last_published, sizeof(a.last_published),
	    "2026-11-28T14:03:20.123Z");
	a.latency = 3.25;
	ASSERT_INT_EQ(events_state_store(db, &a), 0);
	a.seen = 13;
	ASSERT_INT_EQ(events_state_store(db, &a), 0);	/* one row */
	ASSERT_INT_EQ(events_state_load(db, &b), 1);
	ASSERT_STR_EQ(b.cursor, a.cursor);
	ASSERT(b.polled_at == a.polled_at && b.seen == 13 && b.applied == 3);
	ASSERT_STR_EQ(b.last_uuid, "e6");
	ASSERT_STR_EQ(b.last_type, "user.lifecycle.suspend");
	ASSERT_STR_EQ(b.last_published, "2026-11-28T14:03:20.123Z");
	ASSERT(b.latency > 3.24 && b.latency < 3.26);
	cache_close(db);
}

int
main(void)
{
	int rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(parses_a_log_event);
	RUN(refuses_what_is_not_a_usable_event);
	RUN(outcome_and_targets_read_defensively);
	RUN(times);
	RUN(first_request);
	RUN(the_table);
	RUN(batch_dedups_and_counts_success_only);
	RUN(state_round_trip);
	rc = test_done();
	if (test_rmtree(dir) != 0)
		rc = 1;
	return rc;
}
