/*
 * test_okta_stream.c - okta_stream_page_why, the element-by-element page
 * parse of the sync's listings, against okta_ingest_page_why, the
 * whole-page parse: on every input here both must give the same verdict,
 * the same count and the same elements in the same order (good pages,
 * broken ones, strictness, nesting limits, NULs, every truncation of a
 * page); and the stream must hand elements over as it goes, which is
 * what keeps a page from living as one tree.
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "okta.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Each element, serialized, one per line. */
struct seen {
	char buf[65536];
	size_t len;
	unsigned long n, stop_at;
};

static int
keep(void *ctx, json_object *item)
{
	struct seen *s = ctx;
	const char *t = item != NULL ?
	    json_object_to_json_string_ext(item, JSON_C_TO_STRING_PLAIN) : "null";
	size_t tl = strlen(t);

	if (s->len + tl + 2 < sizeof(s->buf)) {
		memcpy(s->buf + s->len, t, tl);
		s->len += tl;
		s->buf[s->len++] = '\n';
		s->buf[s->len] = '\0';
	}
	s->n++;
	return s->stop_at != 0 && s->n >= s->stop_at;
}

/* Three users as Okta lists them (trimmed), then the same page with white
 * space everywhere JSON allows it. */
static const char page3[] =
    "[{\"id\":\"00ua1\",\"status\":\"ACTIVE\",\"profile\":{\"login\":"
    "\"a@example.com\",\"firstName\":\"A\",\"mobilePhone\":null},\"credentials"
    "\":{\"emails\":[{\"value\":\"a@example.com\"}]},\"_links\":{\"self\":"
    "{\"href\":\"https://x.okta.com/api/v1/users/00ua1\"}}},"
    "{\"id\":\"00ub2\",\"status\":\"SUSPENDED\",\"profile\":{\"login\":"
    "\"b@example.com\",\"uid\":1500.0,\"name\":\"B \\u00e9\\n\"}},"
    "{\"id\":\"00uc3\",\"status\":\"DEPROVISIONED\",\"profile\":{}}]";
static const char page3_ws[] =
    " \r\n[ {\"id\" : \"00ua1\" } ,\n\t{ \"id\":\"00ub2\"}\r\n,{\"id\":\"00uc3\"}\n] \t\r\n";

/* A page of n nested arrays in one element: "[[[...]]]" n deep. */
static char *
nested(int depth)
{
	char *p = malloc((size_t)depth * 2 + 1);
	int i;

	for (i = 0; i < depth; i++) {
		p[i] = '[';
		p[depth * 2 - 1 - i] = ']';
	}
	p[depth * 2] = '\0';
	return p;
}

/* Both parses of body[0..len): same result, count, elements. */
static int
same_verdict(const char *body, size_t len)
{
	static struct seen a, b;
	unsigned long ca = 99, cb = 99;
	const char *wa = NULL, *wb = NULL;
	okerr ra, rb;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	ra = okta_ingest_page_why(body, len, keep, &a, &ca, &wa);
	rb = okta_stream_page_why(body, len, keep, &b, &cb, &wb);
	if (ra != rb || wb == NULL || (rb != OK_SUCCESS && wb[0] == '\0') ||
	    (ra == OK_SUCCESS && (ca != cb || strcmp(a.buf, b.buf) != 0))) {
		fprintf(stderr, "  differs on \"%.*s\": whole %d (%lu, %s), "
		    "stream %d (%lu, %s)\n", (int)(len > 200 ? 200 : len), body,
		    ra, ca, wa, rb, cb, wb ? wb : "(null)");
		return 0;
	}
	return 1;
}

TEST(same_as_whole_page)
{
	static const char *const bodies[] = {
		"[]", " [ ] ", "[1, 2]", " [1, 2]\r\n", "[null]", "[null,null]",
		"[\"a\",{\"b\":[1,2,{\"c\":null}]},true,false,-0,1.5e3]",
		"[[]]", "[{}]", "[\"\\u0000\"]", "[\"\\ud83d\\ude00\"]",
		/* broken, each in its own way */
		"", " ", "[", "[ ", "]", "[1", "[1,", "[1,]", "[,1]", "[1 2]",
		"[1]]", "[[1]", "[{}]x", "[1] x", "[1][]", "[{\"id\":\"x\"} {}]",
		"{\"id\":\"00u1\"}", "\"[]\"", "null", "1", "[tru]", "[01]",
		"[{\"id\":\"00u1\",}]", "[{'id':'00u1'}]", "[\"a\tb\"]",
		"[1,\n]", "[\f1]", "[1]\f", "[\v1]", "[\"\xff\"]", "[NaN]",
		"[Infinity]", "[-]", "[1e]", "[\"\\x\"]", "[/*c*/1]", "[1]//",
		"<html><body>Okta</body></html>",
	};
	size_t i;

	for (i = 0; i < NELEM(bodies); i++)
		ASSERT(same_verdict(bodies[i], strlen(bodies[i])));
	ASSERT(same_verdict(page3, strlen(page3)));
	ASSERT(same_verdict(page3_ws, strlen(page3_ws)));
	/* A NUL is not white space, before, inside or after the array. */
	ASSERT(same_verdict("[]\0", 3));
	ASSERT(same_verdict("\0[]", 3));
	ASSERT(same_verdict("[1,\0 2]", 7));
	ASSERT(same_verdict("[\"a\0b\"]", 7));
	ASSERT_INT_EQ(okta_stream_page_why("[]\0", 3, NULL, NULL, NULL, NULL),
	    OK_ERR_PROTOCOL);
	ASSERT_INT_EQ(okta_stream_page_why(NULL, 0, NULL, NULL, NULL, NULL),
	    OK_ERR_PROTOCOL);
}

/* json-c's nesting limit counts the page's '[' in a whole-page parse: an
 * element may nest one level less, in both. */
TEST(nesting_limit)
{
	char *p;
	int depth;

	for (depth = 28; depth <= 36; depth++) {
		p = nested(depth);
		ASSERT(same_verdict(p, strlen(p)));
		free(p);
	}
	p = nested(JSON_TOKENER_DEFAULT_DEPTH);
	ASSERT_INT_EQ(okta_stream_page_why(p, strlen(p), NULL, NULL, NULL, NULL),
	    OK_SUCCESS);
	free(p);
	p = nested(JSON_TOKENER_DEFAULT_DEPTH + 1);
	ASSERT_INT_EQ(okta_stream_page_why(p, strlen(p), NULL, NULL, NULL, NULL),
	    OK_ERR_PROTOCOL);
	free(p);
}

/* Every proper prefix of a page is an error, never a shorter page. */
TEST(every_truncation)
{
	const char *why;
	size_t cut, len = strlen(page3);

	for (cut = 0; cut < len; cut++) {
		why = NULL;
		if (okta_stream_page_why(page3, cut, NULL, NULL, NULL, &why) !=
		    OK_ERR_PROTOCOL || why == NULL || why[0] == '\0') {
			fprintf(stderr, "  cut at %zu/%zu accepted\n", cut, len);
			ASSERT(0);
		}
		ASSERT(same_verdict(page3, cut));
	}
}

/*
 * The point of the stream: elements go to the callback as they are
 * parsed, so on a page broken after two good elements those two have
 * been handed over (the whole-page parse hands over none) and the page
 * is still refused.
 */
TEST(hands_over_as_it_goes)
{
	static const char body[] = "[{\"id\":\"00ua1\"},{\"id\":\"00ub2\"},{\"id\":";
	static struct seen s;
	unsigned long count = 99;
	const char *why = NULL;

	memset(&s, 0, sizeof(s));
	ASSERT_INT_EQ(okta_stream_page_why(body, strlen(body), keep, &s, &count,
	    &why), OK_ERR_PROTOCOL);
	ASSERT_INT_EQ(s.n, 2);
	ASSERT_INT_EQ(count, 2);
	ASSERT_STR_EQ(s.buf, "{\"id\":\"00ua1\"}\n{\"id\":\"00ub2\"}\n");
	ASSERT_STR_EQ(why, "the answer is broken or truncated JSON");
	memset(&s, 0, sizeof(s));
	ASSERT_INT_EQ(okta_ingest_page_why(body, strlen(body), keep, &s, &count,
	    &why), OK_ERR_PROTOCOL);
	ASSERT_INT_EQ(s.n, 0);
	/* "not a list" is told apart from broken JSON, as by the whole parse. */
	ASSERT_INT_EQ(okta_stream_page_why("{}", 2, NULL, NULL, NULL, &why),
	    OK_ERR_PROTOCOL);
	ASSERT(strstr(why, "not a list") != NULL);
}

TEST(callback_stops)
{
	static struct seen s;
	unsigned long count = 99;
	const char *why = NULL;

	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	ASSERT_INT_EQ(okta_stream_page_why(page3, strlen(page3), keep, &s, &count,
	    &why), OK_ERR_INTERRUPTED);
	ASSERT_INT_EQ(s.n, 2);
	ASSERT_INT_EQ(count, 1);	/* as okta_ingest_page_why counts */
	ASSERT_STR_EQ(why, "stopped by the caller");
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	ASSERT_INT_EQ(okta_ingest_page_why(page3, strlen(page3), keep, &s, &count,
	    NULL), OK_ERR_INTERRUPTED);
	ASSERT_INT_EQ(count, 1);
	ASSERT_INT_EQ(okta_stream_page_why(page3, strlen(page3), NULL, NULL,
	    &count, NULL), OK_SUCCESS);
	ASSERT_INT_EQ(count, 3);
}

int
main(void)
{
	RUN(same_as_whole_page);
	RUN(nesting_limit);
	RUN(every_truncation);
	RUN(hands_over_as_it_goes);
	RUN(callback_stops);
	return test_done();
}
