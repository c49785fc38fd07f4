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
 * element to a callback as soon as its page is parsed, so that memory grows
 * with one page, not with the directory.  A URL seen twice in one listing
 * is a Link loop (OK_ERR_PROTOCOL).
 *
 * 429 (E0000047): wait until X-Rate-Limit-Reset, measured against the
 * server's Date header, then retry the same page.  5xx and timeouts: retry
 * with exponential back-off, a bounded number of times.  A page that still
 * fails fails the listing, and the caller applies nothing.
 */
#ifndef OKTA_CLIENT_H
#define OKTA_CLIENT_H

#include <json-c/json.h>
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
};

/*
 * Create a client for c (domain, ca_file, timeout).  token: the API token,
 * copied and wiped in okta_client_free.  Returns NULL only when libcurl
 * cannot be initialised.
 */
struct okta_client *okta_client_new(const struct config *c, const char *token);
void okta_client_free(struct okta_client *oc);     /* accepts NULL */

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

/* Pure helpers, unit-tested on the recorded traffic. */

/* Given one Link header value (possibly several comma-joined links), copy the
 * URL of rel="next" into out.  Returns 1 found, 0 none, -1 malformed/too long. */
int okta_parse_link_next(const char *value, char *out, size_t outlen);

/* Parse an RFC 7231 HTTP date ("Thu, 27 Aug 2020 18:19:47 GMT") to epoch
 * seconds; -1 if malformed. */
long long okta_parse_http_date(const char *s);

#endif
