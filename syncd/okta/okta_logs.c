/*
 * okta_logs.c - LogEvent objects and the first polling request of the
 * System Log (see okta_logs.h).  Pure: no I/O, unit-tested and fuzzed
 * (tests/fuzz/fuzz_logs.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "okta.h"
#include "okta_logs.h"
#include "xmalloc.h"

/* The string member key of o, or NULL when absent or not a string. */
static const char *
member_str(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Copy s into out (outlen bytes) when it is 1..outlen-1 bytes, each a
 * letter, a digit or one of extra.  1 copied, 0 refused. */
static int
copy_checked(const char *s, const char *extra, char *out, size_t outlen)
{
	size_t i, n;

	if (s == NULL)
		return 0;
	n = strlen(s);
	if (n == 0 || n >= outlen)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || (ch != '\0' &&
		    strchr(extra, ch) != NULL)))
			return 0;
	}
	memcpy(out, s, n + 1);
	return 1;
}

long long
okta_log_time_ms(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, se, n = 0, digits = 0;
	long long ms = 0;
	const char *p;

	if (s == NULL || strlen(s) >= OKTA_LOG_TIME_MAX ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se,
	    &n) != 6 || n != 19)
		return -1;
	for (p = s; p < s + 19; p++)
		if ((*p < '0' || *p > '9') && *p != '-' && *p != ':' && *p != 'T')
			return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*p - '0');
	while (digits > 0 && digits < 3) {
		ms *= 10;
		digits++;
	}
	if (strcmp(p, "Z") != 0 || y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > 31 || h > 23 || mi > 59 || se > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	return (long long)timegm(&tm) * 1000 + ms;
}

/* The targets of item: those of type User or UserGroup with an Okta id
 * (others are kept as OTHER only when they fit, which costs nothing). */
static void
parse_targets(json_object *item, struct okta_log_event *ev)
{
	json_object *arr, *t;
	const char *type, *id;
	size_t i, n;

	if (!json_object_object_get_ex(item, "target", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return;
	n = json_object_array_length(arr);
	for (i = 0; i < n && ev->ntargets < OKTA_LOG_TARGETS_MAX; i++) {
		t = json_object_array_get_idx(arr, i);
		type = member_str(t, "type");
		id = member_str(t, "id");
		if (type == NULL || id == NULL || !okta_valid_id(id))
			continue;
		if (strcmp(type, "User") == 0)
			ev->target[ev->ntargets].kind = OKTA_TARGET_USER;
		else if (strcmp(type, "UserGroup") == 0)
			ev->target[ev->ntargets].kind = OKTA_TARGET_GROUP;
		else
			continue;
		memcpy(ev->target[ev->ntargets].id, id, strlen(id) + 1);
		ev->ntargets++;
	}
}

int
okta_log_event_parse(json_object *item, struct okta_log_event *ev)
{
	json_object *outcome;
	const char *result;

	memset(ev, 0, sizeof(*ev));
	if (item == NULL || !json_object_is_type(item, json_type_object))
		return -1;
	if (!copy_checked(member_str(item, "uuid"), "-", ev->uuid,
	    sizeof(ev->uuid)) ||
	    !copy_checked(member_str(item, "eventType"), "._", ev->event_type,
	    sizeof(ev->event_type)) ||
	    !copy_checked(member_str(item, "published"), "-:.TZ", ev->published,
	    sizeof(ev->published)) ||
	    (ev->published_ms = okta_log_time_ms(ev->published)) < 0) {
		memset(ev, 0, sizeof(*ev));
		return -1;
	}
	if (json_object_object_get_ex(item, "outcome", &outcome) &&
	    (result = member_str(outcome, "result")) != NULL)
		ev->success = strcmp(result, "SUCCESS") == 0;
	parse_targets(item, ev);
	return 0;
}

/* Percent-encode s (RFC 3986: all but the unreserved characters). */
static char *
url_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s), i, o = 0;
	char *out = xmalloc(n * 3 + 1);

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch) != NULL) {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
	return out;
}

char *
okta_logs_first_path(long long since, const char *filter, unsigned limit)
{
	time_t t = (time_t)(since > 0 ? since : 0);
	char when[40], *enc_when, *enc_filter, *path;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S.000Z", &tm) == 0)
		snprintf(when, sizeof(when), "1970-01-01T00:00:00.000Z");
	enc_when = url_encode(when);
	if (filter == NULL || filter[0] == '\0') {
		path = xasprintf("/api/v1/logs?since=%s&sortOrder=ASCENDING"
		    "&limit=%u", enc_when, limit);
		free(enc_when);
		return path;
	}
	enc_filter = url_encode(filter);
	path = xasprintf("/api/v1/logs?since=%s&sortOrder=ASCENDING&limit=%u"
	    "&filter=%s", enc_when, limit, enc_filter);
	free(enc_when);
	free(enc_filter);
	return path;
}
