/*
 * fuzz_headers.c - libFuzzer target for the response headers the client
 * acts on: Date, X-Rate-Limit-Limit/-Remaining/-Reset (any letter case),
 * Content-Type and Link, through okta_headers_parse_line, then what
 * okta.c does with them after each response: the rate-limit bucket of the
 * URL's endpoint family (update_rate), the reserve kept before the next
 * request (keep_reserve), the wait after a 429 (rate_wait_ms,
 * okta_rate_wait_ms), the Content-Type check and the same-origin check of
 * a next link.
 *
 * Those are static in okta.c and work on the client's private state, so
 * this file includes okta.c (and okta.o is not linked): no prototype had
 * to be exported for the fuzzer, and every function runs as the client
 * runs it.  No request is ever sent; the client is stopped (okta_set_stop)
 * so that a wait returns at once instead of sleeping.
 *
 * Input: responses separated by a blank line; in each, line 1 is the
 * request URL and every further line is one header line as libcurl hands
 * it over (the status line, then "Name: value"; CRLF added, no NUL).  The
 * buckets carry over from one response to the next, as in a listing.
 * Seeds: tests/fuzz/corpus_headers (the recorded Okta responses' headers,
 * made by tests/fuzz/make_seeds.py).
 *
 * The oracle, besides the sanitizers: every parsed number is -1 or in its
 * range; every wait is between 0 and OKTA_WAIT_MAX_MS; reset_in is -1 or
 * at most the longest wait; the Content-Type kept is printable; a next
 * link judged same-origin is https on the configured host.
 */
#include "../../syncd/okta/okta.c"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct okta_client *oc;
static volatile sig_atomic_t stop_now = 1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct config c;

	(void)argc, (void)argv;
	memset(&c, 0, sizeof(c));
	c.domain = (char *)"test.okta.com";
	oc = okta_client_new(&c, "fuzz-token");
	if (oc == NULL || oc->host == NULL)
		abort();
	okta_set_reserve(oc, 20);
	okta_set_stop(oc, &stop_now);
	return 0;
}

static void
check_headers(const struct okta_headers *h)
{
	size_t i, n = strnlen(h->content_type, sizeof(h->content_type));

	if (n == sizeof(h->content_type))
		__builtin_trap();
	for (i = 0; i < n; i++)
		if (h->content_type[i] < 0x20 || h->content_type[i] > 0x7e)
			__builtin_trap();
	if (h->rl_limit < -1 || h->rl_limit > 1000000000 ||
	    h->rl_remaining < -1 || h->rl_remaining > 1000000000 ||
	    h->rl_reset < -1 || h->date < -1)
		__builtin_trap();
	if (h->has_next && strnlen(h->next, sizeof(h->next)) == sizeof(h->next))
		__builtin_trap();
}

static void
check_wait(long ms)
{
	if (ms < 0 || ms > OKTA_WAIT_MAX_MS)
		__builtin_trap();
}

/* One response: [p, e). */
static void
response(const char *p, const char *e)
{
	const char *nl;
	char *url, *line;
	size_t len;
	unsigned a;

	nl = memchr(p, '\n', (size_t)(e - p));
	if (nl == NULL)
		nl = e;
	if ((url = strndup(p, (size_t)(nl - p))) == NULL)
		return;
	okta_headers_reset(&oc->resp.h);
	for (p = nl < e ? nl + 1 : e; p < e; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(e - p));
		if (nl == NULL)
			nl = e;
		len = (size_t)(nl - p);
		if ((line = malloc(len + 2)) == NULL)
			break;
		memcpy(line, p, len);
		memcpy(line + len, "\r\n", 2);
		okta_headers_parse_line(&oc->resp.h, line, len + 2);
		free(line);
		if (nl == e)
			break;
	}
	check_headers(&oc->resp.h);

	/* What get_with_retries does around the response. */
	(void)keep_reserve(oc, url);
	update_rate(oc, url);
	if (oc->rate.reset_in < -1 || oc->rate.reset_in > OKTA_WAIT_MAX_MS / 1000)
		__builtin_trap();
	for (a = 1; a <= 12; a++) {
		check_wait(rate_wait_ms(oc, a));
		check_wait(okta_rate_wait_ms(oc->resp.h.rl_reset, oc->resp.h.date, a));
	}
	(void)is_json_type(oc->resp.h.content_type);
	if (oc->resp.h.has_next && next_is_same_origin(oc, oc->resp.h.next) &&
	    strncasecmp(oc->resp.h.next, "https://", 8) != 0)
		__builtin_trap();
	(void)keep_reserve(oc, url);
	free(url);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *e = p + size, *q;

	/* A fresh client state for each input. */
	memset(oc->buckets, 0, sizeof(oc->buckets));
	oc->next_bucket = 0;
	oc->first_date = -1;
	oc->rate.limit = oc->rate.remaining = oc->rate.reset_in = -1;
	while (p < e) {
		for (q = p; q + 1 < e && !(q[0] == '\n' && q[1] == '\n'); q++)
			;
		if (q + 1 >= e)
			q = e;
		response(p, q);
		p = q < e ? q + 2 : e;
	}
	return 0;
}
