/*
 * fleet_dest.c - the publisher's upload destinations (see fleet_dest.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fleet_dest.h"
#include "fleet_file.h"
#include "fleet_http.h"
#include "manifest.h"
#include "xmalloc.h"

enum kind { DEST_DIR, DEST_PUT, DEST_S3 };

struct fleet_dest {
	enum kind kind;
	char *base;                /* directory path, or URL ending in '/' */
	char describe[600];
	struct fleet_http *http;
};

static char *
with_slash(const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(n + 2);

	memcpy(out, s, n + 1);
	if (n == 0 || s[n - 1] != '/')
		strcat(out, "/");
	return out;
}

/* s3://bucket/prefix/ -> the base URL of its objects. */
static char *
s3_base(const struct fleet_dest_config *c, char *err, size_t errlen)
{
	const char *rest = c->destination + strlen("s3://"), *slash;
	const char *region = c->s3_region ? c->s3_region : "us-east-1";
	char bucket[64], *prefix, *url, *ep;
	size_t blen, n;

	slash = strchr(rest, '/');
	blen = slash ? (size_t)(slash - rest) : strlen(rest);
	if (blen < 3 || blen >= sizeof(bucket)) {
		snprintf(err, errlen, "[fleet] destination %s: no valid bucket name "
		    "(s3://BUCKET/PREFIX/)", c->destination);
		return NULL;
	}
	memcpy(bucket, rest, blen);
	bucket[blen] = '\0';
	for (size_t i = 0; i < blen; i++)
		if (!((bucket[i] >= 'a' && bucket[i] <= 'z') ||
		    (bucket[i] >= '0' && bucket[i] <= '9') || bucket[i] == '-' ||
		    bucket[i] == '.')) {
			snprintf(err, errlen, "[fleet] destination %s: a bucket name "
			    "has lowercase letters, digits, '-' and '.' only",
			    c->destination);
			return NULL;
		}
	prefix = with_slash(slash ? slash + 1 : "");
	if (strcmp(prefix, "/") == 0)
		prefix[0] = '\0';
	if (c->s3_endpoint != NULL && c->s3_endpoint[0] != '\0') {
		ep = xstrdup(c->s3_endpoint);
		n = strlen(ep);
		while (n > 0 && ep[n - 1] == '/')
			ep[--n] = '\0';
		n += strlen(bucket) + strlen(prefix) + 3;
		url = xmalloc(n);
		snprintf(url, n, "%s/%s/%s", ep, bucket, prefix);
		free(ep);
	} else {
		n = strlen(bucket) + strlen(region) + strlen(prefix) + 40;
		url = xmalloc(n);
		snprintf(url, n, "https://%s.s3.%s.amazonaws.com/%s", bucket, region,
		    prefix);
	}
	free(prefix);
	return url;
}

struct fleet_dest *
fleet_dest_open(const struct fleet_dest_config *c, char *err, size_t errlen)
{
	struct fleet_dest *d = xcalloc(1, sizeof(*d));
	const char *dst = c->destination ? c->destination : "";

	if (dst[0] == '/') {
		struct stat sb;

		d->kind = DEST_DIR;
		d->base = with_slash(dst);
		if (stat(d->base, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			snprintf(err, errlen, "[fleet] destination %s is not a "
			    "directory (create it: mkdir -p %s)", dst, dst);
			goto fail;
		}
		snprintf(d->describe, sizeof(d->describe), "directory %s", dst);
		return d;
	}
	if (strncmp(dst, "https://", 8) == 0 || strncmp(dst, "http://", 7) == 0) {
		d->kind = DEST_PUT;
		d->base = with_slash(dst);
		snprintf(d->describe, sizeof(d->describe), "WebDAV %s", d->base);
	} else if (strncmp(dst, "s3://", 5) == 0) {
		d->kind = DEST_S3;
		d->base = s3_base(c, err, errlen);
		if (d->base == NULL)
			goto fail;
		snprintf(d->describe, sizeof(d->describe), "S3 %s (%s)", dst,
		    d->base);
	} else {
		snprintf(err, errlen, "[fleet] destination must be a directory "
		    "(/srv/okta-sync/), an http(s):// URL (WebDAV PUT) or "
		    "s3://BUCKET/PREFIX/");
		goto fail;
	}
	d->http = fleet_http_new(c->ca_file, 300, err, errlen);
	if (d->http == NULL)
		goto fail;
	if (d->kind == DEST_S3) {
		const char *colon = c->credentials ? strchr(c->credentials, ':') : NULL;
		char id[256];
		size_t idlen;

		if (colon == NULL || colon == c->credentials ||
		    (idlen = (size_t)(colon - c->credentials)) >= sizeof(id)) {
			snprintf(err, errlen, "S3 needs [fleet] credentials_file with "
			    "one line ACCESS_KEY_ID:SECRET_ACCESS_KEY");
			goto fail;
		}
		memcpy(id, c->credentials, idlen);
		id[idlen] = '\0';
		if (fleet_http_set_sigv4(d->http, c->s3_region ? c->s3_region :
		    "us-east-1", id, colon + 1) != 0) {
			snprintf(err, errlen, "cannot set up SigV4 signing in libcurl");
			goto fail;
		}
	} else if (c->credentials != NULL) {
		const char *colon = strchr(c->credentials, ':');
		char user[256];
		size_t ulen = colon ? (size_t)(colon - c->credentials) : 0;

		if (colon == NULL || ulen >= sizeof(user)) {
			snprintf(err, errlen, "[fleet] credentials_file must hold one "
			    "line USER:PASSWORD for an http(s) destination");
			goto fail;
		}
		memcpy(user, c->credentials, ulen);
		user[ulen] = '\0';
		if (fleet_http_set_basic(d->http, user, colon + 1) != 0) {
			snprintf(err, errlen, "cannot set up the credentials in libcurl");
			goto fail;
		}
	}
	return d;
fail:
	fleet_dest_free(d);
	return NULL;
}

void
fleet_dest_free(struct fleet_dest *d)
{
	if (d == NULL)
		return;
	fleet_http_free(d->http);
	free(d->base);
	free(d);
}

const char *
fleet_dest_describe(const struct fleet_dest *d)
{
	return d->describe;
}

static char *
join(const char *base, const char *name)
{
	size_t n = strlen(base) + strlen(name) + 1;
	char *p = xmalloc(n);

	snprintf(p, n, "%s%s", base, name);
	return p;
}

int
fleet_dest_put(struct fleet_dest *d, const char *name, const void *data,
    size_t len, char *err, size_t errlen)
{
	char *url;
	int rc;

	if (!fleet_name_ok(name)) {
		snprintf(err, errlen, "refusing to upload a file named \"%s\"", name);
		return -1;
	}
	if (d->kind == DEST_DIR)
		return fleet_write_file(d->base, name, data, len, 0644, err,
		    errlen);
	url = join(d->base, name);
	rc = fleet_http_put(d->http, url, data, len, err, errlen);
	free(url);
	return rc;
}

int
fleet_dest_remove(struct fleet_dest *d, const char *name, char *err,
    size_t errlen)
{
	char *p;
	int rc = 0;

	if (!fleet_name_ok(name)) {
		snprintf(err, errlen, "refusing to remove a file named \"%s\"", name);
		return -1;
	}
	p = join(d->base, name);
	if (d->kind == DEST_DIR) {
		if (unlink(p) != 0 && errno != ENOENT) {
			snprintf(err, errlen, "cannot remove %s: %s", p, strerror(errno));
			rc = -1;
		}
	} else
		rc = fleet_http_delete(d->http, p, err, errlen);
	free(p);
	return rc;
}
