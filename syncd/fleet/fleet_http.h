/*
 * fleet_http.h - the HTTP transfers of fleet mode (issue 12): a
 * subscriber's GETs of the manifest and payloads, a publisher's PUTs and
 * DELETEs (WebDAV, or S3 signed with AWS SigV4 by libcurl).
 *
 * Plain http:// is allowed besides https://: what a subscriber installs is
 * trusted through the manifest's signature, never through the transport;
 * https (with ca_file, as in [okta]) keeps the names in the snapshot from
 * the network's eyes and is what the docs recommend.  No redirects, no
 * .netrc, no proxy from the environment: a transfer goes where the config
 * says or fails.  A GET never reads more than the caller's bound.
 */
#ifndef OKTA_FLEET_HTTP_H
#define OKTA_FLEET_HTTP_H

#include <stddef.h>

struct fleet_http;

/* timeout: seconds for a whole transfer.  NULL with err set. */
struct fleet_http *fleet_http_new(const char *ca_file, long timeout,
    char *err, size_t errlen);
void fleet_http_free(struct fleet_http *fh);    /* accepts NULL */

/* Sign requests with AWS SigV4 for S3 in region (curl's CURLOPT_AWS_SIGV4
 * "aws:amz:REGION:s3") with the key id and secret. */
int fleet_http_set_sigv4(struct fleet_http *fh, const char *region,
    const char *key_id, const char *secret);

/* HTTP Basic credentials for every request (a WebDAV destination). */
int fleet_http_set_basic(struct fleet_http *fh, const char *user,
    const char *password);

struct fleet_http_answer {
	long status;            /* 0: no answer (transport error, err set) */
	char *body;             /* malloc'd, NUL-terminated; NULL if none */
	size_t len;
	char etag[256];         /* the ETag header, "" if none */
};

/*
 * GET url.  if_none_match (NULL or "": none) makes a conditional GET (a
 * 304 has no body).  A body over max bytes is cut off and the call fails.
 * 0 when an HTTP answer came (any status: check it), -1 with a sentence
 * in err when none did or the body was over max.  The caller frees
 * a->body.
 */
int fleet_http_get(struct fleet_http *fh, const char *url,
    const char *if_none_match, size_t max, struct fleet_http_answer *a,
    char *err, size_t errlen);

/* PUT data[0..len) to url.  0 on a 2xx answer, -1 with err otherwise. */
int fleet_http_put(struct fleet_http *fh, const char *url, const void *data,
    size_t len, char *err, size_t errlen);

/* DELETE url.  0 on 2xx or 404, -1 with err otherwise. */
int fleet_http_delete(struct fleet_http *fh, const char *url, char *err,
    size_t errlen);

#endif
