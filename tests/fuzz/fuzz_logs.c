/*
 * fuzz_logs.c - libFuzzer target for a System Log page: the page parser
 * (okta_ingest_page_why), each element read as a LogEvent
 * (okta_log_event_parse, okta_logs.c) and counted into a poll's batch
 * (events_batch_add, events.c), as okta-syncd does between syncs.
 *
 * Input: the page body, as Okta would answer GET /api/v1/logs.  Seeds:
 * tests/fuzz/corpus_logs.
 *
 * The oracle, besides the sanitizers: a LogEvent accepted holds only what
 * the parser promises (uuid of letters, digits and '-'; eventType of
 * letters, digits, '.' and '_'; a published time that parses again to
 * the same milliseconds; at most OKTA_LOG_TARGETS_MAX targets, each of
 * kind User or UserGroup with an id okta_valid_id() accepts); a rejected
 * one is all zero; the batch never counts more relevant events than it
 * saw, nor names more users than those events' targets.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "okta.h"
#include "okta_logs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what, const char *value)
{
	fprintf(stderr, "fuzz_logs: %s: \"%s\"\n", what, value);
	__builtin_trap();
}

static void
check_chars(const char *s, const char *extra, const char *what)
{
	const char *p;

	if (s[0] == '\0')
		fail(what, "(empty)");
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(extra, *p) != NULL))
			fail(what, s);
}

static void
check_event(const struct okta_log_event *ev)
{
	size_t i;

	check_chars(ev->uuid, "-", "uuid");
	check_chars(ev->event_type, "._", "eventType");
	if (ev->published_ms < 0 ||
	    okta_log_time_ms(ev->published) != ev->published_ms)
		fail("published", ev->published);
	if (ev->ntargets > OKTA_LOG_TARGETS_MAX)
		fail("too many targets", ev->uuid);
	for (i = 0; i < ev->ntargets; i++) {
		if (ev->target[i].kind != OKTA_TARGET_USER &&
		    ev->target[i].kind != OKTA_TARGET_GROUP)
			fail("a target of another kind", ev->target[i].id);
		if (!okta_valid_id(ev->target[i].id))
			fail("target id", ev->target[i].id);
	}
}

static int
item_cb(void *ctx, json_object *item)
{
	static const struct okta_log_event zero;
	struct events_batch *b = ctx;
	struct okta_log_event ev;

	if (okta_log_event_parse(item, &ev) != 0) {
		if (memcmp(&ev, &zero, sizeof(ev)) != 0)
			fail("a rejected event left fields set", "");
		return 0;
	}
	check_event(&ev);
	(void)events_batch_add(b, &ev);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct events_batch b;
	char *body = malloc(size + 1);
	size_t i;

	if (body == NULL)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';
	memset(&b, 0, sizeof(b));
	(void)okta_ingest_page_why(body, size, item_cb, &b, NULL, NULL);
	if (b.relevant > b.seen || b.nuuids != b.seen ||
	    b.nusers > b.relevant * OKTA_LOG_TARGETS_MAX ||
	    b.ngroups > b.relevant * OKTA_LOG_TARGETS_MAX)
		fail("batch counts", "");
	for (i = 0; i < b.nusers; i++)
		if (!okta_valid_id(b.users[i]))
			fail("batch user id", b.users[i]);
	events_batch_free(&b);
	free(body);
	return 0;
}
