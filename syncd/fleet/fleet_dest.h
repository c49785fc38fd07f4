/*
 * fleet_dest.h - where a fleet publisher uploads ([fleet] destination):
 *
 *   /srv/okta-sync/          a local directory, served by any web server
 *                            or CDN origin: each file is written to a
 *                            temporary name, fsynced and renamed, so the
 *                            web server never serves half a file;
 *   https://host/path/       HTTP PUT (WebDAV: nginx's dav_methods PUT),
 *                            with Basic credentials when given;
 *   s3://bucket/prefix/      S3-compatible object storage, each request
 *                            signed with AWS SigV4 by libcurl; at
 *                            s3_endpoint (path-style: ENDPOINT/bucket/
 *                            prefix/name) or, without one, AWS's
 *                            https://bucket.s3.REGION.amazonaws.com/.
 *
 * Upload order is the caller's (payloads first, manifest last): a
 * destination only stores and removes named files.
 */
#ifndef OKTA_FLEET_DEST_H
#define OKTA_FLEET_DEST_H

#include <stddef.h>

struct fleet_dest_config {
	const char *destination;
	const char *ca_file;       /* for https; NULL: the system's */
	const char *s3_endpoint;   /* NULL: AWS */
	const char *s3_region;     /* NULL: us-east-1 */
	const char *credentials;   /* "id:secret" (S3) or "user:password"
	                            * (PUT); NULL: none.  Copied, wiped. */
};

struct fleet_dest;

/* NULL with a sentence in err when destination is none of the three. */
struct fleet_dest *fleet_dest_open(const struct fleet_dest_config *c,
    char *err, size_t errlen);
void fleet_dest_free(struct fleet_dest *d);       /* accepts NULL */

/* Store data[0..len) as name (replacing it).  0, or -1 with err. */
int fleet_dest_put(struct fleet_dest *d, const char *name, const void *data,
    size_t len, char *err, size_t errlen);

/* Remove name (already gone is fine).  0, or -1 with err. */
int fleet_dest_remove(struct fleet_dest *d, const char *name, char *err,
    size_t errlen);

/* "directory /srv/okta-sync", "WebDAV https://...", "S3 s3://b/p/". */
const char *fleet_dest_describe(const struct fleet_dest *d);

#endif
