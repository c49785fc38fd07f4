/*
 * fleet_http.c - libcurl transfers of fleet mode (see fleet_http.h).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fleet_file.h"
#include "fleet_http.h"
#include "manifest.h"
#include "xmalloc.h"

struct fleet_http {
	CURL *h;
	char errbuf[CURL_ERROR_SIZE];
	char sigv4[128];
	char *userpwd;          /* key_id:secret, wiped on free */
};

struct sink {
	char *buf;
	size_t len, cap, max;
	int over;
	char *etag;
	size_t etaglen;
};

static size_t
on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;
	size_t add = size * n;

	if (add > s->max - s->len) {
		s->over = 1;
		return 0;               /* curl stops: CURLE_WRITE_ERROR */
	}
	xbuf_append(&s->buf, &s->len, &s->cap, p, add);
	return add;
}

static size_t
on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;
	size_t len = size * n, vlen;
	const char *v;

	if (len > 5 && strncasecmp(p, "ETag:", 5) == 0) {
		v = p + 5;
		while (v < p + len && (*v == ' ' || *v == '\t'))
			v++;
		vlen = (size_t)(p + len - v);
		while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
		    v[vlen - 1] == ' '))
			vlen--;
		/* An ETag longer than we keep is as good as none. */
		if (vlen < s->etaglen) {
			memcpy(s->etag, v, vlen);
			s->etag[vlen] = '\0';
		}
	}
	return len;
}

struct fleet_http *
fleet_http_new(const char *ca_file, long timeout, char *err, size_t errlen)
{
	struct fleet_http *fh = xcalloc(1, sizeof(*fh));
	CURLcode cc;

	fh->h = curl_easy_init();
	if (fh->h == NULL) {
		snprintf(err, errlen, "cannot start libcurl");
		free(fh);
		return NULL;
	}
	cc = curl_easy_setopt(fh->h, CURLOPT_NOSIGNAL, 1L);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(fh->h, CURLOPT_PROTOCOLS_STR, "https,http");
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(fh->h, CURLOPT_FOLLOWLOCATION, 0L);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(fh->h, CURLOPT_SSL_VERIFYPEER, 1L);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(fh->h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cc == CURLE_OK && ca_file != NULL && ca_file[0] != '\0')
		cc = curl_easy_setopt(fh->h, CURLOPT_CAINFO, ca_file);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(fh->h, CURLOPT_CONNECTTIMEOUT, timeout);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(fh->h, CURLOPT_TIMEOUT, timeout);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(fh->h, CURLOPT_USERAGENT,
		    "okta-sync/" OKTA_VERSION " (fleet)");
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(fh->h, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(fh->h, CURLOPT_PROXY, "");
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(fh->h, CURLOPT_ERRORBUFFER, fh->errbuf);
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "cannot set up libcurl: %s",
		    curl_easy_strerror(cc));
		fleet_http_free(fh);
		return NULL;
	}
	return fh;
}

void
fleet_http_free(struct fleet_http *fh)
{
	if (fh == NULL)
		return;
	if (fh->h != NULL)
		curl_easy_cleanup(fh->h);
	if (fh->userpwd != NULL) {
		explicit_bzero(fh->userpwd, strlen(fh->userpwd));
		free(fh->userpwd);
	}
	free(fh);
}

int
fleet_http_set_sigv4(struct fleet_http *fh, const char *region,
    const char *key_id, const char *secret)
{
	size_t n = strlen(key_id) + strlen(secret) + 2;
	int w = snprintf(fh->sigv4, sizeof(fh->sigv4), "aws:amz:%s:s3", region);

	if (w < 0 || (size_t)w >= sizeof(fh->sigv4))
		return -1;
	fh->userpwd = xmalloc(n);
	snprintf(fh->userpwd, n, "%s:%s", key_id, secret);
	if (curl_easy_setopt(fh->h, CURLOPT_AWS_SIGV4, fh->sigv4) != CURLE_OK ||
	    curl_easy_setopt(fh->h, CURLOPT_USERPWD, fh->userpwd) != CURLE_OK)
		return -1;
	return 0;
}

int
fleet_http_set_basic(struct fleet_http *fh, const char *user,
    const char *password)
{
	size_t n = strlen(user) + strlen(password) + 2;

	fh->userpwd = xmalloc(n);
	snprintf(fh->userpwd, n, "%s:%s", user, password);
	if (curl_easy_setopt(fh->h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) !=
	    CURLE_OK ||
	    curl_easy_setopt(fh->h, CURLOPT_USERPWD, fh->userpwd) != CURLE_OK)
		return -1;
	return 0;
}

/* Run the request set up on fh->h; its answer's status in *status. */
static int
perform(struct fleet_http *fh, const char *what, const char *url,
    long *status, char *err, size_t errlen)
{
	CURLcode cc;

	fh->errbuf[0] = '\0';
	*status = 0;
	cc = curl_easy_perform(fh->h);
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "%s %s failed: %s", what, url,
		    fh->errbuf[0] ? fh->errbuf : curl_easy_strerror(cc));
		return -1;
	}
	curl_easy_getinfo(fh->h, CURLINFO_RESPONSE_CODE, status);
	return 0;
}

/* Put the handle back to a plain GET with no body callback state. */
static void
reset_method(struct fleet_http *fh)
{
	curl_easy_setopt(fh->h, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(fh->h, CURLOPT_UPLOAD, 0L);
	curl_easy_setopt(fh->h, CURLOPT_NOBODY, 0L);
	curl_easy_setopt(fh->h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(fh->h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(fh->h, CURLOPT_WRITEFUNCTION, NULL);
	curl_easy_setopt(fh->h, CURLOPT_WRITEDATA, NULL);
	curl_easy_setopt(fh->h, CURLOPT_HEADERFUNCTION, NULL);
	curl_easy_setopt(fh->h, CURLOPT_HEADERDATA, NULL);
	curl_easy_setopt(fh->h, CURLOPT_READFUNCTION, NULL);
	curl_easy_setopt(fh->h, CURLOPT_READDATA, NULL);
}

/* A one-line header list "name: value" (an ETag or a SHA-256: short);
 * NULL with err when it cannot be made. */
static struct curl_slist *
one_header(const char *name, const char *value, char *err, size_t errlen)
{
	struct curl_slist *hl;
	char line[300];
	int n;

	n = snprintf(line, sizeof(line), "%s: %s", name, value);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		snprintf(err, errlen, "the %s header is too long", name);
		return NULL;
	}
	if ((hl = curl_slist_append(NULL, line)) == NULL)
		snprintf(err, errlen, "out of memory");
	return hl;
}

int
fleet_http_get(struct fleet_http *fh, const char *url,
    const char *if_none_match, size_t max, struct fleet_http_answer *a,
    char *err, size_t errlen)
{
	struct sink s = { NULL, 0, 0, max, 0, NULL, 0 };
	struct curl_slist *hl = NULL;
	int rc;

	memset(a, 0, sizeof(*a));
	s.etag = a->etag;
	s.etaglen = sizeof(a->etag);
	reset_method(fh);
	if (if_none_match != NULL && if_none_match[0] != '\0' &&
	    (hl = one_header("If-None-Match", if_none_match, err,
	    errlen)) == NULL)
		return -1;
	if (curl_easy_setopt(fh->h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(fh->h, CURLOPT_HTTPHEADER, hl) != CURLE_OK ||
	    curl_easy_setopt(fh->h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(fh->h, CURLOPT_WRITEDATA, &s) != CURLE_OK ||
	    curl_easy_setopt(fh->h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
	    curl_easy_setopt(fh->h, CURLOPT_HEADERDATA, &s) != CURLE_OK) {
		snprintf(err, errlen, "cannot set up the request for %s", url);
		rc = -1;
		goto out;
	}
	rc = perform(fh, "GET", url, &a->status, err, errlen);
	if (s.over) {
		snprintf(err, errlen, "GET %s: the answer is larger than the %zu "
		    "bytes expected", url, max);
		rc = -1;
	}
out:
	reset_method(fh);
	curl_slist_free_all(hl);
	if (rc != 0) {
		free(s.buf);
		return -1;
	}
	a->body = s.buf;
	a->len = s.len;
	return 0;
}

struct source {
	const char *p;
	size_t len, off;
};

static size_t
on_read(char *out, size_t size, size_t n, void *ctx)
{
	struct source *src = ctx;
	size_t want = size * n, left = src->len - src->off;

	if (want > left)
		want = left;
	memcpy(out, src->p + src->off, want);
	src->off += want;
	return want;
}

static size_t
discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p, (void)ctx;
	return size * n;
}

int
fleet_http_put(struct fleet_http *fh, const char *url, const void *data,
    size_t len, char *err, size_t errlen)
{
	struct source src = { data, len, 0 };
	struct curl_slist *hl = NULL;
	long status = 0;
	int rc;

	reset_method(fh);
	if (fh->sigv4[0] != '\0') {
		/* S3 wants the payload's SHA-256 in a signed header. */
		unsigned char md[32];
		char hex[65];

		fleet_sha256(data, len, md);
		fleet_hex(md, hex);
		if ((hl = one_header("x-amz-content-sha256", hex, err,
		    errlen)) == NULL)
			return -1;
	}
	if (curl_easy_setopt(fh->h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(fh->h, CURLOPT_HTTPHEADER, hl) != CURLE_OK ||
	    curl_easy_setopt(fh->h, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
	    curl_easy_setopt(fh->h, CURLOPT_READFUNCTION, on_read) != CURLE_OK ||
	    curl_easy_setopt(fh->h, CURLOPT_READDATA, &src) != CURLE_OK ||
	    curl_easy_setopt(fh->h, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)len) != CURLE_OK ||
	    curl_easy_setopt(fh->h, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK) {
		snprintf(err, errlen, "cannot set up the upload to %s", url);
		reset_method(fh);
		curl_slist_free_all(hl);
		return -1;
	}
	rc = perform(fh, "PUT", url, &status, err, errlen);
	reset_method(fh);
	curl_slist_free_all(hl);
	if (rc == 0 && (status < 200 || status > 299)) {
		snprintf(err, errlen, "PUT %s: the server answered HTTP %ld%s", url,
		    status, status == 403 || status == 401 ? " (check the "
		    "credentials and the server's write permission)" :
		    status == 405 ? " (is WebDAV PUT enabled, e.g. nginx "
		    "dav_methods PUT?)" : "");
		rc = -1;
	}
	return rc;
}

int
fleet_http_delete(struct fleet_http *fh, const char *url, char *err,
    size_t errlen)
{
	long status = 0;
	int rc;

	reset_method(fh);
	if (curl_easy_setopt(fh->h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(fh->h, CURLOPT_CUSTOMREQUEST, "DELETE") != CURLE_OK ||
	    curl_easy_setopt(fh->h, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK) {
		snprintf(err, errlen, "cannot set up the removal of %s", url);
		reset_method(fh);
		return -1;
	}
	rc = perform(fh, "DELETE", url, &status, err, errlen);
	reset_method(fh);
	if (rc == 0 && status != 404 && (status < 200 || status > 299)) {
		snprintf(err, errlen, "DELETE %s: the server answered HTTP %ld", url,
		    status);
		rc = -1;
	}
	return rc;
}
