/*
 * okta.h - the Okta REST client: paging, rate limits, retries.
 *
 * One okta_client holds one libcurl easy handle, so the TLS connection is
 * reused (keep-alive) across every request of a sync; responses are asked
 * for gzip-compressed.  TLS is always verified, against c->ca_file when set.
 *
 * Listing functions fetch page after page (limit=200), following the
 * `Link: <...>; rel="next"` header exactly as sent (separate header fields,
 * comma-joined values tolerated; the cursor is opaque), and hand each
 * element to a callback as soon as it is parsed (okta_stream_page_why), so
 * that memory grows with one page, not with the directory.  A page found
 * broken fails the listing after its earlier elements were handed over:
 * a caller applies nothing from a failed listing.  A URL seen twice in one
 * listing is a Link loop (OK_ERR_PROTOCOL).
 *
 * 429 (E0000047): wait until X-Rate-Limit-Reset, measured against the
 * server's Date header, then retry the same page.  5xx and timeouts: retry
 * with exponential back-off, a bounded number of times.  A page that still
 * fails fails the listing, and the caller applies nothing.
 */
#ifndef OKTA_CLIENT_H
#define OKTA_CLIENT_H

#include <json-c/json.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"

struct okta_client;

/* The rate-limit state seen in the latest response. */
struct okta_rate {
	long limit;          /* X-Rate-Limit-Limit, -1 unknown */
	long remaining;      /* X-Rate-Limit-Remaining, -1 unknown */
	long reset_in;       /* seconds until reset, by the server's Date, -1 unknown */
};

/* Counters for the sync run record and the bench. */
struct okta_stats {
	unsigned long requests;      /* HTTP requests sent, retries included */
	unsigned long retries;
	unsigned long rate_waits;    /* times we waited for a rate-limit reset */
	unsigned long pages;
	unsigned long bytes;         /* body bytes received (decoded) */
	unsigned long connects;      /* connections opened (keep-alive: few) */
};

/*
 * Create a client for c (domain, ca_file, timeout).  token: the API token,
 * copied and wiped in okta_client_free.  Returns NULL only when libcurl
 * cannot be initialised.
 */
struct okta_client *okta_client_new(const struct config *c, const char *token);
void okta_client_free(struct okta_client *oc);     /* accepts NULL */

/*
 * Send every request of oc (the API, the OAuth token endpoint, the
 * connection test) through [okta] proxy, with no_proxy and the
 * user:password of proxy_credentials_file.  Nothing to do without a
 * proxy.  0, or -1 with a sentence in err (an unusable credentials file).
 */
int okta_client_set_proxy(struct okta_client *oc, const struct config *c,
    char *err, size_t errlen);
/* The configured proxy, or NULL. */
const char *okta_client_proxy(const struct okta_client *oc);

/* The last error's detail for the log, e.g. "GET /api/v1/users: 401
 * E0000011 Invalid token provided".  Never contains the token.  "" if none. */
const char *okta_last_error(const struct okta_client *oc);
/* The HTTP status of the last response (0 if none). */
long okta_last_http_status(const struct okta_client *oc);
const struct okta_rate *okta_rate(const struct okta_client *oc);
const struct okta_stats *okta_stats(const struct okta_client *oc);

/* Optional progress callback, called after each page. */
void okta_set_progress(struct okta_client *oc,
    void (*fn)(void *ctx, const char *what, unsigned long items), void *ctx);

/*
 * Called once per element of a listing with the parsed JSON object (borrowed:
 * valid during the call only).  Return 0 to go on, non-zero to stop; that
 * value is then returned by the listing as OK_ERR_INTERRUPTED.
 */
typedef int (*okta_item_fn)(void *ctx, json_object *item);

/* GET /api/v1/users?limit=200[&filter=...]; filter NULL: no filter (which
 * omits DEPROVISIONED users, as Okta does).  filter is not yet URL-encoded. */
okerr okta_list_users(struct okta_client *oc, const char *filter,
    okta_item_fn fn, void *ctx);

/* GET /api/v1/groups?limit=200[&filter=...]. */
okerr okta_list_groups(struct okta_client *oc, const char *filter,
    okta_item_fn fn, void *ctx);

/* GET /api/v1/groups/{id}/users?limit=200.  group_id is validated
 * (alphanumeric) before it goes into a URL. */
okerr okta_list_group_members(struct okta_client *oc, const char *group_id,
    okta_item_fn fn, void *ctx);

/* GET /api/v1/users/{id}/groups?limit=200: the groups a user is in (the
 * incremental sync asks for those of users it rejected before).  user_id
 * is validated (alphanumeric). */
okerr okta_list_user_groups(struct okta_client *oc, const char *user_id,
    okta_item_fn fn, void *ctx);

/*
 * One GET of `path_and_query` (e.g. "/api/v1/users?limit=1"), for the
 * connection test.  Returns the okerr for the outcome; okta_last_error and
 * okta_rate describe it.
 */
okerr okta_probe(struct okta_client *oc, const char *path_and_query);

/* Lower-level connection checks for `okta-sync test`: resolve the domain,
 * open TCP, complete a TLS handshake.  Each returns OK_SUCCESS or the
 * matching error (OK_ERR_DNS, OK_ERR_CONNECT, OK_ERR_TLS) with detail in
 * okta_last_error. */
okerr okta_check_dns(struct okta_client *oc);
okerr okta_check_tcp(struct okta_client *oc);
okerr okta_check_tls(struct okta_client *oc);

/*
 * Additions (no existing signature changed): details for `okta-sync test`,
 * the rate-limit reserve (issue 5), stopping on a signal, one page.
 */

/* Okta's errorCode of the last error response ("E0000011"), sanitized;
 * "" if none.  For `okta-sync test`, which shows it next to a hint. */
const char *okta_last_error_code(const struct okta_client *oc);

/* A sentence describing the last successful okta_check_* (e.g. "resolves
 * to 127.0.0.1", "connected to 127.0.0.1 port 443"); "" if none. */
const char *okta_check_detail(const struct okta_client *oc);

/* Keep `percent` (0..99) of X-Rate-Limit-Limit free: before a request,
 * when the latest Remaining of its endpoint family (the path segment after
 * /api/v1/: "users", "groups"; Okta counts them apart) is at or below that
 * share, wait for that family's reset (bounded, measured against the
 * server's Date) first.  Default 0: never wait ahead; sync_run sets
 * [sync] rate_limit_reserve. */
void okta_set_reserve(struct okta_client *oc, int percent);

/* When *stop becomes non-zero (a signal handler sets it), waits end and
 * the request in flight is abandoned with OK_ERR_INTERRUPTED.  NULL: off. */
void okta_set_stop(struct okta_client *oc, volatile sig_atomic_t *stop);

/*
 * One GET of `path_and_query`, no paging: each element of the JSON array
 * answered goes to fn (NULL: only count), *count (may be NULL) gets their
 * number and *has_next (may be NULL) whether a rel="next" link came.
 * Retries and errors as for the listings.
 */
okerr okta_get_page(struct okta_client *oc, const char *path_and_query,
    okta_item_fn fn, void *ctx, unsigned long *count, int *has_next);

/*
 * One GET of `path` (e.g. "/api/v1/users/00u1"), whose answer must be one
 * JSON object: fn (may be NULL) gets it, borrowed.  Retries and errors as
 * for the listings: OK_ERR_NOT_FOUND for 404, OK_ERR_FORBIDDEN for 403.
 */
okerr okta_get_object(struct okta_client *oc, const char *path,
    okta_item_fn fn, void *ctx);

/*
 * One page of a polling request (the System Log): url_or_path is either a
 * path starting with '/' (the first request) or a next link stored
 * earlier, which must be https on the configured host (as every next link
 * followed).  Each element goes to fn (*count: how many).  The page's
 * rel="next" link, which a polling request always carries, checked the
 * same way, goes into next (nextlen bytes); none, or one elsewhere, is
 * OK_ERR_PROTOCOL.  The request counts against its own rate-limit bucket
 * (the path after /api/v1/: "logs"), with the reserve of okta_set_reserve.
 */
okerr okta_poll_page(struct okta_client *oc, const char *url_or_path,
    okta_item_fn fn, void *ctx, unsigned long *count, char *next,
    size_t nextlen);
/* 1 when url is one a next link may be: https on exactly the configured
 * host and port, without user info; else 0. */
int okta_url_is_ours(const struct okta_client *oc, const char *url);

/* The server's clock (Date header, epoch seconds) at the first response
 * this client received, -1 when none came with a Date.  The incremental
 * sync measures its watermark with it (sync.c). */
long long okta_first_date(const struct okta_client *oc);

/* Pure helpers, unit-tested on the recorded traffic. */

/*
 * Parse one page: body must be exactly one JSON array (a truncated body,
 * trailing garbage or another JSON type is OK_ERR_PROTOCOL); fn (may be
 * NULL) gets each element, borrowed.  *count (may be NULL): elements
 * handed over.  OK_ERR_INTERRUPTED when fn returned non-zero.  The _why
 * variant also sets *why (may be NULL) to a sentence, static storage.
 */
okerr okta_ingest_page(const char *body, size_t len, okta_item_fn fn,
    void *ctx, unsigned long *count);
okerr okta_ingest_page_why(const char *body, size_t len, okta_item_fn fn,
    void *ctx, unsigned long *count, const char **why);
/*
 * The same page, accepted or refused exactly as by okta_ingest_page_why,
 * but parsed one element at a time: each goes to fn as soon as it is
 * parsed and is freed before the next, so that a page never lives as one
 * tree.  The price: the elements before a break in the page have been
 * handed over when the page turns out broken (*count: how many).  For
 * callers that undo those on an error anyway (the sync's listings, which
 * stage into a transaction that a failed listing rolls back).
 */
okerr okta_stream_page_why(const char *body, size_t len, okta_item_fn fn,
    void *ctx, unsigned long *count, const char **why);

/* Copy untrusted text, bytes outside printable ASCII replaced by '?', cut
 * with "..." to fit dstlen (> 0).  Always NUL-terminates; returns length. */
size_t okta_sanitize(char *dst, size_t dstlen, const char *src, size_t srclen);

/* 1 if s is 1..64 ASCII letters and digits (safe in a URL path), else 0. */
int okta_valid_id(const char *s);

/* Waiting after a 429: until the reset by the server's Date plus a margin,
 * at most OKTA_WAIT_MAX_MS; exponential from OKTA_RATE_BACKOFF_MS when
 * reset or date is unknown (< 0).  attempt counts from 1. */
#define OKTA_RATE_MARGIN_MS 500L
#define OKTA_RATE_BACKOFF_MS 1000L
#define OKTA_WAIT_MAX_MS 300000L
long okta_rate_wait_ms(long long reset, long long date, unsigned attempt);

/* What the client takes from a response's header lines. */
#define OKTA_URL_MAX 8192            /* longest next link followed */
#define OKTA_HDR_MAX 16384           /* longest header value looked at */
struct okta_headers {
	int has_next;                /* a rel="next" link came */
	int link_bad;                /* a malformed, too long or conflicting Link */
	char next[OKTA_URL_MAX];
	char content_type[128];      /* sanitized */
	long long date;              /* Date, epoch seconds; -1 none */
	long long rl_reset;          /* X-Rate-Limit-Reset, epoch s; -1 none */
	long rl_limit, rl_remaining; /* -1 none */
	char dpop_nonce[256];        /* DPoP-Nonce (RFC 9449), sanitized; "" none */
	char www_authenticate[512];  /* WWW-Authenticate, sanitized; "" none */
	long max_age;                /* Cache-Control max-age, s; 0 for
	                              * no-cache/no-store; -1 none (the JWKS) */
};
void okta_headers_reset(struct okta_headers *h);
/* One header line as libcurl passes it (with CRLF, not NUL-terminated);
 * names in any letter case; a status line resets h. */
void okta_headers_parse_line(struct okta_headers *h, const char *line, size_t len);
/* A plain non-negative decimal, or -1. */
long long okta_parse_number(const char *v);

/* body[0..len) as one strict JSON value with only white space after it:
 * the value (the caller puts it), or NULL (broken; *oom: no memory). */
json_object *okta_parse_json(const char *body, size_t len, int *oom);

/* Okta's JSON error body: errorCode and errorSummary, sanitized, "" when
 * absent. */
void okta_parse_error(const char *body, size_t len, char *code, size_t codelen,
    char *summary, size_t summarylen);

/* Given one Link header value (possibly several comma-joined links), copy the
 * URL of rel="next" into out.  Returns 1 found, 0 none, -1 malformed/too long. */
int okta_parse_link_next(const char *value, char *out, size_t outlen);

/* Parse an RFC 7231 HTTP date ("Thu, 27 Aug 2020 18:19:47 GMT") to epoch
 * seconds; -1 if malformed. */
long long okta_parse_http_date(const char *s);

/*
 * Another way to authenticate than the SSWS token: the OAuth service app
 * of oauth.c.  With it set, a request carries no "Authorization: SSWS";
 * it asks ops for its header lines instead, and ops sees every answer.
 */
struct curl_slist;
struct okta_auth_ops {
	/* Before each request, retries included: have a usable credential
	 * (may call okta_post_form).  OK_SUCCESS, or an error whose detail
	 * was set with okta_set_error. */
	okerr (*prepare)(void *ctx, struct okta_client *oc);
	/* Append the header lines of one request (Authorization, DPoP) to
	 * *hl; the client wipes and frees them after the request.  0 or -1. */
	int (*headers)(void *ctx, const char *method, const char *url,
	    struct curl_slist **hl);
	/* After each answer to a request of the client: 1 to send the same
	 * request again (a renewed token, a new DPoP nonce), else 0. */
	int (*after)(void *ctx, struct okta_client *oc, long status,
	    const struct okta_headers *h);
	/* Called by okta_client_free: wipe and free ctx. */
	void (*release)(void *ctx);
};
/* ops and ctx belong to oc from now on (released with it). */
void okta_set_auth(struct okta_client *oc, const struct okta_auth_ops *ops,
    void *ctx);

/* One POST of an application/x-www-form-urlencoded body to path on the
 * domain ("/oauth2/v1/token"), on the same connection, with the extra
 * header lines and no Authorization; 5xx and broken connections retried.
 * Any HTTP status is OK_SUCCESS: *status, the body (valid until the next
 * request; the caller wipes what it must) and its headers tell the rest.
 * The form is wiped after use. */
okerr okta_post_form(struct okta_client *oc, const char *path, char *form,
    struct curl_slist *extra, long *status, char **body, size_t *len,
    const struct okta_headers **h);

/* retry 0: okta_post_form sends each request once, whatever happens (a
 * password grant must never be sent twice: Okta counts each towards the
 * lockout); 1 (the default): 5xx and broken connections are retried. */
void okta_set_post_retry(struct okta_client *oc, int retry);

/* "https://" domain: the base of URLs and of a JWT's aud. */
const char *okta_base_url(const struct okta_client *oc);

/* CLOCK_MONOTONIC in milliseconds (0 if the clock fails), for waits and
 * token lifetimes. */
long long okta_mono_ms(void);

/* Set the detail okta_last_error returns. */
void okta_set_error(struct okta_client *oc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
