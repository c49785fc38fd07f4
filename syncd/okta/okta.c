/*
 * okta.c - the Okta REST client (see okta.h): one libcurl easy handle per
 * client, reused for every request so the TLS connection stays open; pages
 * followed by their rel="next" links; 429, 5xx and broken connections
 * retried within bounds; everything Okta sends treated as untrusted.
 *
 * The token: copied into the client, put into an `Authorization: SSWS`
 * header list built for each request and wiped (explicit_bzero) right after
 * it, wiped again when the client is freed.  It is only ever sent over https
 * with verification on (CURLOPT_PROTOCOLS_STR "https", no redirects
 * followed, next links checked to be on the configured host), never logged
 * and never put into an error message: messages hold the method, the path
 * and what Okta answered, sanitized.  curl's verbose output stays off.
 * With auth = oauth (okta_set_auth, oauth.c) the Authorization and DPoP
 * lines come from the auth provider instead, are wiped the same way, and
 * the provider may have a refused page sent again (a renewed token, a new
 * DPoP nonce).
 *
 * Memory: one response body at a time (capped at OKTA_BODY_MAX), parsed,
 * handed out item by item, then freed.
 *
 * Retries: 5xx, timeouts and broken connections OKTA_TRANSPORT_ATTEMPTS
 * times in all, after 0.2 s, 0.4 s, 0.8 s plus jitter (the environment
 * variable OKTA_SYNC_RETRY_BASE_MS may shorten the base, for tests); 429
 * OKTA_RATE_ATTEMPTS times, each after waiting for the reset.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "okta.h"
#include "xmalloc.h"

#ifndef OKTA_VERSION
#define OKTA_VERSION "0.1.0"
#endif

#define OKTA_PAGE_LIMIT "200"
#define OKTA_BODY_MAX ((size_t)64 << 20)	/* 64 MiB: far above a page of 200 */
#define OKTA_MSG_MAX 512
#define OKTA_MAX_PAGES 100000UL			/* 20 million entries: a backstop */
#define OKTA_TRANSPORT_ATTEMPTS 4		/* 5xx, timeouts, resets */
#define OKTA_RATE_ATTEMPTS 8			/* 429s for one request */
#define OKTA_RETRY_BASE_MS 200L			/* doubles per attempt, plus jitter */
#define OKTA_DEFAULT_TIMEOUT 30L
#define OKTA_BUCKETS 4				/* rate-limit buckets tracked */

/*
 * The rate-limit state of one bucket, as its latest response told it.
 * Okta counts each endpoint family separately (/api/v1/users,
 * /api/v1/groups, ...), so the reserve is kept per family: the state of
 * /api/v1/groups says nothing about how much of /api/v1/users is left.
 * The family is the path segment after /api/v1/.
 */
struct okta_bucket {
	char key[24];                /* "users", "groups"; "" unused */
	long limit, remaining;       /* -1 unknown */
	long long reset_at_ms;       /* monotonic ms of the reset, 0 unknown */
};

/* One response: its headers (reset when a new status line arrives) and
 * its body. */
struct okta_response {
	struct okta_headers h;
	char *body;
	size_t len, cap;
	int overflow;                /* the body passed OKTA_BODY_MAX */
};

struct okta_client {
	CURL *curl;
	char *domain;                /* host[:port] as configured */
	char *base;                  /* "https://" domain */
	char *host;                  /* from curl's URL parser; NULL: invalid */
	char *port;                  /* "443" when not given */
	char *ca_file;
	long timeout;
	char *token;
	size_t token_len;
	const struct okta_auth_ops *auth;    /* NULL: the SSWS token */
	void *auth_ctx;
	int reserve;                 /* percent of the limit kept free */
	int warned_token_limit;      /* said once: a 429 with Remaining > 0 */
	char *proxy;                 /* [okta] proxy, NULL: libcurl's environment */
	char *no_proxy;
	char *proxy_userpwd;         /* user:password, wiped in okta_client_free */
	volatile sig_atomic_t *stop;
	long retry_base_ms;
	int post_once_only;          /* okta_set_post_retry(oc, 0) */

	struct okta_rate rate;
	struct okta_bucket buckets[OKTA_BUCKETS];
	unsigned next_bucket;        /* the slot reused when all are taken */
	long long first_date;        /* Date of the first response, -1 none */
	struct okta_stats stats;
	long http_status;

	void (*progress)(void *, const char *, unsigned long);
	void *progress_ctx;

	struct okta_response resp;
	char errbuf[CURL_ERROR_SIZE];
	char last_error[OKTA_MSG_MAX];
	char error_code[32];
	char detail[OKTA_MSG_MAX];
};

long long
okta_mono_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
stopped(const struct okta_client *oc)
{
	return oc->stop != NULL && *oc->stop != 0;
}

/* Sleep ms milliseconds in slices, so that a stop request ends the wait.
 * Returns 0, or -1 when stopped. */
static int
wait_ms(struct okta_client *oc, long ms)
{
	struct timespec ts;
	long slice;

	while (ms > 0) {
		if (stopped(oc))
			return -1;
		slice = ms > 100 ? 100 : ms;
		ts.tv_sec = 0;
		ts.tv_nsec = slice * 1000000L;
		if (nanosleep(&ts, NULL) != 0 && errno != EINTR)
			break;
		ms -= slice;
	}
	return stopped(oc) ? -1 : 0;
}

/* The back-off before retry number `attempt` (1, 2, ...): base * 2^(n-1),
 * plus up to half of that again at random, so that several hosts that
 * failed together do not retry together. */
static long
backoff_ms(const struct okta_client *oc, unsigned attempt)
{
	long d = oc->retry_base_ms;
	unsigned r = 0;

	while (attempt-- > 1 && d < OKTA_WAIT_MAX_MS / 2)
		d *= 2;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = 0;
	d += (long)(r % (unsigned)(d / 2 + 1));
	return d > OKTA_WAIT_MAX_MS ? OKTA_WAIT_MAX_MS : d;
}

/* The path and query of url for messages (the base is cut off), sanitized. */
static void
url_for_message(const struct okta_client *oc, const char *url, char *out, size_t outlen)
{
	size_t blen = strlen(oc->base);

	if (strncmp(url, oc->base, blen) == 0 && url[blen] == '/')
		url += blen;
	okta_sanitize(out, outlen, url, strlen(url));
}

/* The error of the request at hand (okta_set_error, okta.h). */
#define set_error okta_set_error

/* curl's own description of the last failure: the error buffer when
 * filled, else the generic sentence; sanitized (it may quote the host). */
static void
curl_reason(const struct okta_client *oc, CURLcode cc, char *out, size_t outlen)
{
	const char *s = oc->errbuf[0] != '\0' ? oc->errbuf : curl_easy_strerror(cc);
	long connect_code = 0;

	/* A proxy that wants credentials: say what to set, not curl's words. */
	if (oc->proxy != NULL && curl_easy_getinfo(oc->curl, CURLINFO_HTTP_CONNECTCODE,
	    &connect_code) == CURLE_OK && connect_code == 407) {
		snprintf(out, outlen, "the proxy %s asks for credentials (407): %s",
		    oc->proxy, oc->proxy_userpwd != NULL ? "check the user:password in "
		    "[okta] proxy_credentials_file" : "set [okta] proxy_credentials_file");
		return;
	}
	okta_sanitize(out, outlen, s, strlen(s));
}

/*
 * Map a libcurl failure to our enum.  *transient is set when the same
 * request may succeed if tried again (a timeout, a reset or closed
 * connection, a cut-off body).
 */
static okerr
map_curl_error(CURLcode cc, int *transient)
{
	*transient = 0;
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return OK_ERR_DNS;
	case CURLE_COULDNT_CONNECT:
		return OK_ERR_CONNECT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
		return OK_ERR_TLS;
	case CURLE_OPERATION_TIMEDOUT:
		*transient = 1;
		return OK_ERR_TIMEOUT;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		*transient = 1;
		return OK_ERR_PROTOCOL;
	case CURLE_ABORTED_BY_CALLBACK:
		return OK_ERR_INTERRUPTED;
	case CURLE_OUT_OF_MEMORY:
		return OK_ERR_INTERNAL;
	default:
		return OK_ERR_PROTOCOL;
	}
}

/* --- libcurl callbacks ------------------------------------------------ */

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct okta_client *oc = ud;
	struct okta_response *r = &oc->resp;
	size_t n = nmemb;

	(void)size;	/* always 1 for the write callback */
	if (n > OKTA_BODY_MAX - r->len) {
		r->overflow = 1;
		return 0;	/* CURLE_WRITE_ERROR */
	}
	xbuf_append(&r->body, &r->len, &r->cap, ptr, n);
	oc->stats.bytes += n;
	return n;
}

/* Each header line goes to okta_headers_parse_line (okta_parse.c). */
static size_t
on_header(char *buf, size_t size, size_t nitems, void *ud)
{
	struct okta_client *oc = ud;

	(void)size;	/* always 1 */
	okta_headers_parse_line(&oc->resp.h, buf, nitems);
	return nitems;
}

/* Transfer progress: used only to abandon a request when asked to stop. */
static int
on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return stopped(ud) ? 1 : 0;
}

/* --- the client ------------------------------------------------------- */

/*
 * Options every handle of the client gets: https only, verification on
 * (never turned off anywhere), no redirects, timeouts, gzip, our
 * User-Agent, quiet.  Returns 0, or -1 when libcurl refused an option.
 */
static int
setup_handle(struct okta_client *oc, CURL *h)
{
	CURLcode cc = CURLE_OK;

	/* Each call is checked; the first failure stops the chain. */
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_VERBOSE, 0L);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cc == CURLE_OK && oc->ca_file != NULL)
		cc = curl_easy_setopt(h, CURLOPT_CAINFO, oc->ca_file);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, oc->timeout);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_TIMEOUT, oc->timeout);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_USERAGENT, "okta-sync/" OKTA_VERSION);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_ERRORBUFFER, oc->errbuf);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_XFERINFODATA, oc);
	/* A configured proxy is used for every request, token endpoint
	 * included; unset, libcurl's https_proxy/no_proxy environment
	 * applies (which a systemd unit only has through Environment=). */
	if (cc == CURLE_OK && oc->proxy != NULL)
		cc = curl_easy_setopt(h, CURLOPT_PROXY, oc->proxy);
	if (cc == CURLE_OK && oc->no_proxy != NULL)
		cc = curl_easy_setopt(h, CURLOPT_NOPROXY, oc->no_proxy);
	if (cc == CURLE_OK && oc->proxy_userpwd != NULL)
		cc = curl_easy_setopt(h, CURLOPT_PROXYUSERPWD, oc->proxy_userpwd);
	if (cc != CURLE_OK) {
		set_error(oc, "libcurl refused an option: %s", curl_easy_strerror(cc));
		return -1;
	}
	return 0;
}

/* Split the configured domain with curl's URL parser into host and port
 * (443 when not given).  Leaves oc->host NULL when the domain is not a
 * valid host[:port]. */
static void
parse_domain(struct okta_client *oc)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *path = NULL;

	if (u == NULL)
		return;
	if (curl_url_set(u, CURLUPART_URL, oc->base, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		goto out;
	if (strcmp(path, "/") != 0 || strchr(oc->domain, '@') != NULL)
		goto out;
	oc->host = xstrdup(host);
	oc->port = xstrdup(port);
out:
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
}

struct okta_client *
okta_client_new(const struct config *c, const char *token)
{
	struct okta_client *oc;
	const char *env;
	long v;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return NULL;
	oc = xcalloc(1, sizeof(*oc));
	oc->curl = curl_easy_init();
	if (oc->curl == NULL) {
		free(oc);
		curl_global_cleanup();
		return NULL;
	}
	oc->domain = xstrdup(c->domain != NULL ? c->domain : "");
	oc->base = xasprintf("https://%s", oc->domain);
	oc->ca_file = c->ca_file != NULL ? xstrdup(c->ca_file) : NULL;
	oc->timeout = c->timeout > 0 ? c->timeout : OKTA_DEFAULT_TIMEOUT;
	oc->token_len = token != NULL ? strlen(token) : 0;
	oc->token = xmalloc(oc->token_len + 1);
	if (oc->token_len > 0)
		memcpy(oc->token, token, oc->token_len);
	oc->token[oc->token_len] = '\0';
	oc->retry_base_ms = OKTA_RETRY_BASE_MS;
	/* Tests may shorten the back-off; they cannot lengthen it past 5 s. */
	env = getenv("OKTA_SYNC_RETRY_BASE_MS");
	if (env != NULL && (v = (long)okta_parse_number(env)) >= 1 && v <= 5000)
		oc->retry_base_ms = v;
	oc->rate.limit = oc->rate.remaining = oc->rate.reset_in = -1;
	oc->first_date = -1;
	okta_headers_reset(&oc->resp.h);
	parse_domain(oc);
	if (setup_handle(oc, oc->curl) != 0 ||
	    curl_easy_setopt(oc->curl, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(oc->curl, CURLOPT_WRITEDATA, oc) != CURLE_OK ||
	    curl_easy_setopt(oc->curl, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
	    curl_easy_setopt(oc->curl, CURLOPT_HEADERDATA, oc) != CURLE_OK ||
	    curl_easy_setopt(oc->curl, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)OKTA_BODY_MAX) != CURLE_OK) {
		okta_client_free(oc);
		return NULL;
	}
	return oc;
}

int
okta_client_set_proxy(struct okta_client *oc, const struct config *c,
    char *err, size_t errlen)
{
	char *up = NULL;

	err[0] = '\0';
	if (c->proxy == NULL)
		return 0;
	if (c->proxy_credentials_file != NULL &&
	    (up = config_read_proxy_credentials(c, err, errlen)) == NULL)
		return -1;
	oc->proxy = xstrdup(c->proxy);
	oc->no_proxy = c->no_proxy != NULL ? xstrdup(c->no_proxy) : NULL;
	oc->proxy_userpwd = up;
	if (setup_handle(oc, oc->curl) != 0) {
		snprintf(err, errlen, "libcurl refused the proxy settings");
		return -1;
	}
	return 0;
}

const char *
okta_client_proxy(const struct okta_client *oc)
{
	return oc->proxy;
}

void
okta_client_free(struct okta_client *oc)
{
	if (oc == NULL)
		return;
	if (oc->proxy_userpwd != NULL) {
		explicit_bzero(oc->proxy_userpwd, strlen(oc->proxy_userpwd));
		free(oc->proxy_userpwd);
	}
	free(oc->proxy);
	free(oc->no_proxy);
	if (oc->curl != NULL)
		curl_easy_cleanup(oc->curl);
	if (oc->auth != NULL && oc->auth->release != NULL)
		oc->auth->release(oc->auth_ctx);
	if (oc->token != NULL) {
		explicit_bzero(oc->token, oc->token_len);
		free(oc->token);
	}
	free(oc->resp.body);
	free(oc->domain);
	free(oc->base);
	free(oc->host);
	free(oc->port);
	free(oc->ca_file);
	free(oc);
	curl_global_cleanup();
}

const char *
okta_last_error(const struct okta_client *oc)
{
	return oc != NULL ? oc->last_error : "";
}

const char *
okta_last_error_code(const struct okta_client *oc)
{
	return oc != NULL ? oc->error_code : "";
}

const char *
okta_check_detail(const struct okta_client *oc)
{
	return oc != NULL ? oc->detail : "";
}

long
okta_last_http_status(const struct okta_client *oc)
{
	return oc != NULL ? oc->http_status : 0;
}

const struct okta_rate *
okta_rate(const struct okta_client *oc)
{
	return &oc->rate;
}

const struct okta_stats *
okta_stats(const struct okta_client *oc)
{
	return &oc->stats;
}

long long
okta_first_date(const struct okta_client *oc)
{
	return oc != NULL ? oc->first_date : -1;
}

void
okta_set_progress(struct okta_client *oc,
    void (*fn)(void *ctx, const char *what, unsigned long items), void *ctx)
{
	oc->progress = fn;
	oc->progress_ctx = ctx;
}

void
okta_set_reserve(struct okta_client *oc, int percent)
{
	oc->reserve = percent < 0 ? 0 : percent > 99 ? 99 : percent;
}

void
okta_set_stop(struct okta_client *oc, volatile sig_atomic_t *stop)
{
	oc->stop = stop;
}

/*
 * The bucket of url (the path segment after /api/v1/), NULL when url is
 * not an API path.  create: take a free slot (or recycle one) when the
 * family has none yet.
 */
static struct okta_bucket *
find_bucket(struct okta_client *oc, const char *url, int create)
{
	static const char api[] = "/api/v1/";
	struct okta_bucket *b;
	const char *p = strstr(url, "://");
	size_t n, i;

	/* The path: next links are absolute, and their host may be spelt
	 * differently from the configured domain. */
	p = p != NULL ? strchr(p + 3, '/') : url;
	if (p == NULL || strncmp(p, api, sizeof(api) - 1) != 0)
		return NULL;
	p += sizeof(api) - 1;
	n = strcspn(p, "/?#");
	if (n == 0 || n >= sizeof(b->key))
		return NULL;
	for (i = 0; i < OKTA_BUCKETS; i++) {
		b = &oc->buckets[i];
		if (strncmp(b->key, p, n) == 0 && b->key[n] == '\0')
			return b;
	}
	if (!create)
		return NULL;
	for (i = 0; i < OKTA_BUCKETS && oc->buckets[i].key[0] != '\0'; i++)
		;
	if (i == OKTA_BUCKETS)
		i = oc->next_bucket++ % OKTA_BUCKETS;
	b = &oc->buckets[i];
	memcpy(b->key, p, n);
	b->key[n] = '\0';
	b->limit = b->remaining = -1;
	b->reset_at_ms = 0;
	return b;
}

/* Note the rate-limit headers of the response to url just received: the
 * latest state (okta_rate) and that of url's bucket. */
static void
update_rate(struct okta_client *oc, const char *url)
{
	const struct okta_response *r = &oc->resp;
	struct okta_bucket *b;
	long long in;

	if (oc->first_date < 0 && r->h.date >= 0)
		oc->first_date = r->h.date;
	oc->rate.limit = r->h.rl_limit;
	oc->rate.remaining = r->h.rl_remaining;
	oc->rate.reset_in = -1;
	b = find_bucket(oc, url, 1);
	if (b != NULL) {
		b->limit = r->h.rl_limit;
		b->remaining = r->h.rl_remaining;
		b->reset_at_ms = 0;
	}
	if (r->h.rl_reset < 0)
		return;
	/* Measured against the server's clock; ours only when Date is missing. */
	in = r->h.rl_reset - (r->h.date >= 0 ? r->h.date : (long long)time(NULL));
	if (in < 0)
		in = 0;
	if (in > OKTA_WAIT_MAX_MS / 1000)
		in = OKTA_WAIT_MAX_MS / 1000;
	oc->rate.reset_in = (long)in;
	if (b != NULL)
		b->reset_at_ms = okta_mono_ms() + in * 1000;
}

/* How long to wait after a 429 (see okta_rate_wait_ms). */
static long
rate_wait_ms(const struct okta_client *oc, unsigned attempt)
{
	const struct okta_response *r = &oc->resp;

	return okta_rate_wait_ms(r->h.rl_reset,
	    r->h.date >= 0 ? r->h.date : (long long)time(NULL), attempt);
}

/*
 * Before sending to url: when a reserve is set and the latest Remaining of
 * url's bucket is at or below it, wait for that bucket's window to reset
 * (plus a margin: both clocks have one-second resolution).  The client is
 * sequential, so that Remaining is exact: no request of ours is in flight.
 * Returns 0, -1 when stopped.
 */
static int
keep_reserve(struct okta_client *oc, const char *url)
{
	struct okta_bucket *b;
	long long left;

	if (oc->reserve <= 0 || (b = find_bucket(oc, url, 0)) == NULL ||
	    b->limit <= 0 || b->remaining < 0 || b->reset_at_ms == 0)
		return 0;
	if ((long long)b->remaining * 100 > (long long)b->limit * oc->reserve)
		return 0;
	left = b->reset_at_ms - okta_mono_ms();
	/* Whatever happens next, this knowledge is used up. */
	b->remaining = -1;
	if (left <= 0)
		return 0;
	oc->stats.rate_waits++;
	debug_f("keeping %d%% of the rate limit of /api/v1/%s free: waiting "
	    "%lld ms for the reset", oc->reserve, b->key,
	    left + OKTA_RATE_MARGIN_MS);
	return wait_ms(oc, (long)(left + OKTA_RATE_MARGIN_MS > OKTA_WAIT_MAX_MS ?
	    OKTA_WAIT_MAX_MS : left + OKTA_RATE_MARGIN_MS));
}

/* Fill oc->error_code and the summary from Okta's JSON error body. */
static void
parse_error_body(struct okta_client *oc, char *summary, size_t summarylen)
{
	okta_parse_error(oc->resp.body, oc->resp.len, oc->error_code,
	    sizeof(oc->error_code), summary, summarylen);
}

/* Whether the Content-Type is JSON: application/json, optionally followed
 * by parameters (";charset=UTF-8"). */
static int
is_json_type(const char *ct)
{
	size_t n = strlen("application/json");

	if (strncasecmp(ct, "application/json", n) != 0)
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t';
}

/*
 * One GET of url on the keep-alive handle, with the token.  The header
 * list holding the token is wiped and freed before returning, whatever
 * happened.  Returns the CURLcode; oc->resp holds the answer.
 */
static CURLcode
perform_once(struct okta_client *oc, const char *url)
{
	struct curl_slist *hl = NULL, *n, *s;
	char *auth = NULL;
	size_t alen;
	long connects = 0;
	CURLcode cc = CURLE_OUT_OF_MEMORY;

	oc->resp.len = 0;
	oc->resp.overflow = 0;
	okta_headers_reset(&oc->resp.h);
	oc->errbuf[0] = '\0';

	if (oc->auth != NULL) {
		/* OAuth (oauth.c): Authorization and DPoP lines of its own. */
		if (oc->auth->headers(oc->auth_ctx, "GET", url, &hl) != 0)
			goto out;
	} else {
		alen = strlen("Authorization: SSWS ") + oc->token_len + 1;
		auth = xmalloc(alen);
		snprintf(auth, alen, "Authorization: SSWS %s", oc->token);
		n = curl_slist_append(hl, auth);
		explicit_bzero(auth, alen);
		free(auth);
		if (n == NULL)
			goto out;
		hl = n;
	}
	n = curl_slist_append(hl, "Accept: application/json");
	if (n == NULL)
		goto out;
	hl = n;
	cc = curl_easy_setopt(oc->curl, CURLOPT_URL, url);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(oc->curl, CURLOPT_HTTPHEADER, hl);
	if (cc == CURLE_OK) {
		oc->stats.requests++;
		cc = curl_easy_perform(oc->curl);
		if (curl_easy_getinfo(oc->curl, CURLINFO_NUM_CONNECTS, &connects) ==
		    CURLE_OK && connects > 0)
			oc->stats.connects += (unsigned long)connects;
	}
	/* The handle must not keep a pointer to the list freed below. */
	if (curl_easy_setopt(oc->curl, CURLOPT_HTTPHEADER, NULL) != CURLE_OK &&
	    cc == CURLE_OK)
		cc = CURLE_FAILED_INIT;
out:
	for (s = hl; s != NULL; s = s->next)
		explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(hl);
	return cc;
}

/* Okta tokens are printable ASCII without spaces ([A-Za-z0-9_-] in
 * practice); anything else is refused before it goes into a header. */
static int
token_is_sane(const char *t)
{
	size_t i;

	for (i = 0; t[i] != '\0'; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return 0;
	return i > 0 && i <= 1024;
}

/*
 * The state of one GET across its attempts: the URL as messages show it
 * and how often each kind of failure has been tried again.
 */
struct get_attempts {
	const char *url;
	char where[OKTA_URL_MAX / 16];
	unsigned transport_tries, rate_tries, auth_tries;
};

/* Refuse to send at all when the domain or the token cannot be right. */
static okerr
check_sendable(struct okta_client *oc)
{
	if (oc->host == NULL) {
		set_error(oc, "the domain \"%s\" is not a host name", oc->domain);
		return OK_ERR_CONFIG;
	}
	if (oc->auth == NULL && !token_is_sane(oc->token)) {
		/* Never send it: a CR or LF in it would add header lines. */
		set_error(oc, "the token holds characters no Okta token has (spaces, "
		    "control characters or none at all)");
		return OK_ERR_TOKEN_FILE;
	}
	return OK_SUCCESS;
}

/* Wait before the next attempt after a transient failure; returns 1
 * (try again).  A stop during the wait is reported at the top. */
static int
back_off(struct okta_client *oc, const struct get_attempts *g)
{
	oc->stats.retries++;
	(void)wait_ms(oc, backoff_ms(oc, g->transport_tries));
	return 1;
}

/*
 * The transfer itself failed (cc): returns 1 after backing off when it is
 * worth another attempt, else 0 with *rc and the error set.
 */
static int
transport_failed(struct okta_client *oc, struct get_attempts *g, CURLcode cc,
    okerr *rc)
{
	char reason[CURL_ERROR_SIZE];
	int transient;

	if ((cc == CURLE_WRITE_ERROR && oc->resp.overflow) ||
	    cc == CURLE_FILESIZE_EXCEEDED) {
		set_error(oc, "GET %s: the answer is larger than %zu MiB",
		    g->where, OKTA_BODY_MAX >> 20);
		*rc = OK_ERR_PROTOCOL;
		return 0;
	}
	*rc = map_curl_error(cc, &transient);
	curl_reason(oc, cc, reason, sizeof(reason));
	if (*rc == OK_ERR_INTERRUPTED) {
		set_error(oc, "GET %s: stopped", g->where);
		return 0;
	}
	if (!transient || ++g->transport_tries >= OKTA_TRANSPORT_ATTEMPTS) {
		if (g->transport_tries > 1)
			set_error(oc, "GET %s: %s (after %u attempts)",
			    g->where, reason, g->transport_tries);
		else
			set_error(oc, "GET %s: %s", g->where, reason);
		return 0;
	}
	debug_f("GET %s: %s; trying again", g->where, reason);
	return back_off(oc, g);
}

/* Take in the status and rate-limit headers of the answer just received;
 * returns the HTTP status (0 unknown). */
static long
note_answer(struct okta_client *oc, const struct get_attempts *g)
{
	long status;

	if (curl_easy_getinfo(oc->curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		status = 0;
	oc->http_status = status;
	update_rate(oc, g->url);
	debug_f("GET %s: %ld, %zu bytes", g->where, status, oc->resp.len);
	return status;
}

/* A 2xx is only a success when its body is what an Okta API sends. */
static okerr
check_json_answer(struct okta_client *oc, const struct get_attempts *g)
{
	if (!is_json_type(oc->resp.h.content_type)) {
		set_error(oc, "GET %s: the answer is \"%s\", not JSON; "
		    "is [okta] domain an Okta organisation?", g->where,
		    oc->resp.h.content_type[0] != '\0' ?
		    oc->resp.h.content_type : "without a content type");
		return OK_ERR_PROTOCOL;
	}
	return OK_SUCCESS;
}

/*
 * The headers report the org's bucket; a token or OAuth app capped at a
 * share of it hits its own limit while they still show plenty left.  The
 * reset is still the time to come back.  Said once per client.
 */
static void
warn_token_limit(struct okta_client *oc, const struct get_attempts *g)
{
	if (oc->resp.h.rl_remaining > 0 && !oc->warned_token_limit) {
		oc->warned_token_limit = 1;
		warn("GET %s: Okta answered 429 although %ld of %ld "
		    "requests are left in the org's rate limit: this "
		    "token or OAuth app probably has a smaller limit of "
		    "its own (Okta's per-token rate limit); waiting for "
		    "the reset", g->where, oc->resp.h.rl_remaining,
		    oc->resp.h.rl_limit);
	}
}

/* A 429: returns 1 after waiting for the reset when attempts are left,
 * else 0 with the error set (OK_ERR_RATE_LIMIT). */
static int
rate_limited(struct okta_client *oc, struct get_attempts *g)
{
	char summary[256];

	if (++g->rate_tries >= OKTA_RATE_ATTEMPTS) {
		parse_error_body(oc, summary, sizeof(summary));
		set_error(oc, "GET %s: 429 %s %s (after %u attempts)", g->where,
		    oc->error_code, summary, g->rate_tries);
		return 0;
	}
	oc->stats.rate_waits++;
	oc->stats.retries++;
	warn_token_limit(oc, g);
	debug_f("GET %s: 429, waiting %ld ms for the rate limit to reset",
	    g->where, rate_wait_ms(oc, g->rate_tries));
	(void)wait_ms(oc, rate_wait_ms(oc, g->rate_tries));
	return 1;
}

/* A 5xx: returns 1 after backing off when attempts are left, else 0 with
 * the error set (OK_ERR_SERVER). */
static int
server_failed(struct okta_client *oc, struct get_attempts *g, long status)
{
	char summary[256];

	if (++g->transport_tries >= OKTA_TRANSPORT_ATTEMPTS) {
		parse_error_body(oc, summary, sizeof(summary));
		set_error(oc, "GET %s: %ld %s%s%s (after %u attempts)", g->where,
		    status, oc->error_code, oc->error_code[0] ? " " : "",
		    summary, g->transport_tries);
		return 0;
	}
	debug_f("GET %s: %ld; trying again", g->where, status);
	return back_off(oc, g);
}

/* Any other answer ends the request: say what Okta said and map it. */
static okerr
answer_refused(struct okta_client *oc, const struct get_attempts *g,
    long status)
{
	char summary[256];

	parse_error_body(oc, summary, sizeof(summary));
	set_error(oc, "GET %s: %ld%s%s%s%s", g->where, status,
	    oc->error_code[0] ? " " : "", oc->error_code,
	    summary[0] ? " " : "", summary);
	switch (status) {
	case 401:
		return OK_ERR_AUTH;
	case 403:
		return OK_ERR_FORBIDDEN;
	case 404:
		return OK_ERR_NOT_FOUND;
	default:
		if (status >= 300 && status <= 399)
			set_error(oc, "GET %s: %ld, a redirect (not followed); "
			    "check [okta] domain", g->where, status);
		return OK_ERR_PROTOCOL;
	}
}

/*
 * GET url with the retry rules: 429 waits for the reset and tries again
 * (OKTA_RATE_ATTEMPTS in all); 5xx, timeouts and broken connections back
 * off and try again (OKTA_TRANSPORT_ATTEMPTS in all); 401, 403, 404 and
 * every other answer end at once.  On OK_SUCCESS oc->resp holds a JSON
 * body (Content-Type checked).  On error oc->last_error says what failed.
 */
static okerr
get_with_retries(struct okta_client *oc, const char *url)
{
	struct get_attempts g = { .url = url };
	CURLcode cc;
	long status;
	okerr rc;

	oc->last_error[0] = '\0';
	oc->error_code[0] = '\0';
	url_for_message(oc, url, g.where, sizeof(g.where));
	if ((rc = check_sendable(oc)) != OK_SUCCESS)
		return rc;
	for (;;) {
		if (keep_reserve(oc, url) != 0 || stopped(oc)) {
			set_error(oc, "GET %s: stopped", g.where);
			return OK_ERR_INTERRUPTED;
		}
		if (oc->auth != NULL &&
		    (rc = oc->auth->prepare(oc->auth_ctx, oc)) != OK_SUCCESS)
			return rc;
		oc->http_status = 0;
		cc = perform_once(oc, url);
		if (cc != CURLE_OK) {
			if (transport_failed(oc, &g, cc, &rc))
				continue;
			return rc;
		}
		status = note_answer(oc, &g);
		/* A renewed token or a new DPoP nonce: the same page again,
		 * a bounded number of times. */
		if (oc->auth != NULL && oc->auth->after(oc->auth_ctx, oc, status,
		    &oc->resp.h) && ++g.auth_tries <= 3) {
			oc->stats.retries++;
			continue;
		}
		if (status >= 200 && status <= 299)
			return check_json_answer(oc, &g);
		if (status == 429) {
			if (rate_limited(oc, &g))
				continue;
			return OK_ERR_RATE_LIMIT;
		}
		if (status >= 500 && status <= 599) {
			if (server_failed(oc, &g, status))
				continue;
			return OK_ERR_SERVER;
		}
		return answer_refused(oc, &g, status);
	}
}

/* Above this a response buffer is freed after its page rather than kept
 * for the next one.  A page of 200 users decodes to 200-300 KiB. */
#define OKTA_BODY_KEEP ((size_t)1 << 20)

/*
 * The body is no longer needed.  A buffer of ordinary size is kept for the
 * next page (thousands of pages would otherwise each grow a new one by
 * doubling, copying as they go); an unusually large one is freed, so that
 * memory stays at about one page.
 */
static void
drop_body(struct okta_client *oc)
{
	if (oc->resp.cap > OKTA_BODY_KEEP) {
		free(oc->resp.body);
		oc->resp.body = NULL;
		oc->resp.cap = 0;
	}
	oc->resp.len = 0;
}

/*
 * Whether a next link may be followed: an absolute https URL on exactly
 * the configured host and port (compared by curl's URL parser, so that
 * case and an explicit :443 do not matter), without user info.  Anything
 * else could send the token elsewhere.
 */
static int
next_is_same_origin(const struct okta_client *oc, const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
	int ok = 0;

	if (u == NULL)
		return 0;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
		goto out;
	ok = strcasecmp(scheme, "https") == 0 && strcasecmp(host, oc->host) == 0 &&
	    strcmp(port, oc->port) == 0 && strncasecmp(url, "https://", 8) == 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_url_cleanup(u);
	return ok;
}

/*
 * GET one page at url and hand its items to fn.  stream: parse and hand
 * over one item at a time (okta_stream_page_why), for the listings, whose
 * callers undo what a broken page handed over; else the page is checked
 * whole before fn sees any item.
 */
static okerr
fetch_page(struct okta_client *oc, const char *url, okta_item_fn fn, void *ctx,
    unsigned long *count, int stream)
{
	char where[OKTA_URL_MAX / 16];
	const char *why;
	okerr rc;

	rc = get_with_retries(oc, url);
	if (rc != OK_SUCCESS)
		goto out;
	rc = (stream ? okta_stream_page_why : okta_ingest_page_why)(oc->resp.body,
	    oc->resp.len, fn, ctx, count, &why);
	if (rc == OK_SUCCESS) {
		oc->stats.pages++;
	} else {
		url_for_message(oc, url, where, sizeof(where));
		set_error(oc, "GET %s: %s", where, why);
	}
out:
	drop_body(oc);
	return rc;
}

/*
 * Fetch every page of a listing, starting at first_url: follow rel="next"
 * as given, refusing a next link on another host or scheme, a malformed
 * Link, and a URL already fetched in this listing (a loop).
 */
static okerr
list_all(struct okta_client *oc, const char *first_url, const char *what,
    okta_item_fn fn, void *ctx)
{
	char **seen = NULL;
	size_t nseen = 0, i;
	char *url = xstrdup(first_url);
	char where[OKTA_URL_MAX / 16];
	unsigned long n, items = 0;
	okerr rc;

	for (;;) {
		url_for_message(oc, url, where, sizeof(where));
		for (i = 0; i < nseen; i++) {
			if (strcmp(seen[i], url) == 0) {
				set_error(oc, "listing %s: the next link leads back to %s, "
				    "a page already fetched (a Link loop)", what, where);
				rc = OK_ERR_PROTOCOL;
				goto out;
			}
		}
		if (nseen >= OKTA_MAX_PAGES) {
			set_error(oc, "listing %s: more than %lu pages", what, OKTA_MAX_PAGES);
			rc = OK_ERR_PROTOCOL;
			goto out;
		}
		seen = xreallocarray(seen, nseen + 1, sizeof(*seen));
		seen[nseen++] = url;
		url = NULL;
		rc = fetch_page(oc, seen[nseen - 1], fn, ctx, &n, 1);
		if (rc != OK_SUCCESS)
			goto out;
		items += n;
		if (oc->progress != NULL)
			oc->progress(oc->progress_ctx, what, items);
		if (oc->resp.h.link_bad) {
			set_error(oc, "GET %s: a malformed or ambiguous Link header", where);
			rc = OK_ERR_PROTOCOL;
			goto out;
		}
		if (!oc->resp.h.has_next)
			break;
		if (!next_is_same_origin(oc, oc->resp.h.next)) {
			char shown[256];

			okta_sanitize(shown, sizeof(shown), oc->resp.h.next,
			    strlen(oc->resp.h.next));
			set_error(oc, "GET %s: the next link %s is not https on %s; "
			    "not following it", where, shown, oc->domain);
			rc = OK_ERR_PROTOCOL;
			goto out;
		}
		url = xstrdup(oc->resp.h.next);
	}
	rc = OK_SUCCESS;
out:
	for (i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	free(url);
	return rc;
}

/* base + path + "?limit=200" + "&filter=" + the URL-encoded filter. */
static char *
listing_url(struct okta_client *oc, const char *path, const char *filter)
{
	char *esc, *url;

	if (filter == NULL || filter[0] == '\0')
		return xasprintf("%s%s?limit=" OKTA_PAGE_LIMIT, oc->base, path);
	esc = curl_easy_escape(oc->curl, filter, 0);
	if (esc == NULL)
		return NULL;
	url = xasprintf("%s%s?limit=" OKTA_PAGE_LIMIT "&filter=%s", oc->base, path, esc);
	curl_free(esc);
	return url;
}

static okerr
list_path(struct okta_client *oc, const char *path, const char *filter,
    const char *what, okta_item_fn fn, void *ctx)
{
	char *url;
	okerr rc;

	oc->last_error[0] = '\0';
	url = listing_url(oc, path, filter);
	if (url == NULL) {
		set_error(oc, "out of memory");
		return OK_ERR_INTERNAL;
	}
	rc = list_all(oc, url, what, fn, ctx);
	free(url);
	return rc;
}

okerr
okta_list_users(struct okta_client *oc, const char *filter, okta_item_fn fn,
    void *ctx)
{
	return list_path(oc, "/api/v1/users", filter, "users", fn, ctx);
}

okerr
okta_list_groups(struct okta_client *oc, const char *filter, okta_item_fn fn,
    void *ctx)
{
	return list_path(oc, "/api/v1/groups", filter, "groups", fn, ctx);
}

okerr
okta_list_group_members(struct okta_client *oc, const char *group_id,
    okta_item_fn fn, void *ctx)
{
	char path[128];

	if (!okta_valid_id(group_id)) {
		set_error(oc, "a group id that is not letters and digits");
		return OK_ERR_PROTOCOL;
	}
	snprintf(path, sizeof(path), "/api/v1/groups/%s/users", group_id);
	return list_path(oc, path, NULL, "members", fn, ctx);
}

okerr
okta_list_user_groups(struct okta_client *oc, const char *user_id,
    okta_item_fn fn, void *ctx)
{
	char path[128];

	if (!okta_valid_id(user_id)) {
		set_error(oc, "a user id that is not letters and digits");
		return OK_ERR_PROTOCOL;
	}
	snprintf(path, sizeof(path), "/api/v1/users/%s/groups", user_id);
	return list_path(oc, path, NULL, "groups of a user", fn, ctx);
}

okerr
okta_get_page(struct okta_client *oc, const char *path_and_query,
    okta_item_fn fn, void *ctx, unsigned long *count, int *has_next)
{
	char *url;
	okerr rc;

	if (count != NULL)
		*count = 0;
	if (has_next != NULL)
		*has_next = 0;
	if (path_and_query == NULL || path_and_query[0] != '/') {
		set_error(oc, "internal error: a path must start with /");
		return OK_ERR_INTERNAL;
	}
	url = xasprintf("%s%s", oc->base, path_and_query);
	rc = fetch_page(oc, url, fn, ctx, count, 0);
	if (rc == OK_SUCCESS && has_next != NULL)
		*has_next = oc->resp.h.has_next && !oc->resp.h.link_bad;
	free(url);
	return rc;
}

okerr
okta_probe(struct okta_client *oc, const char *path_and_query)
{
	return okta_get_page(oc, path_and_query, NULL, NULL, NULL, NULL);
}

/* --- one object, and polling requests (the System Log) ---------------- */

/* The body of oc->resp as one JSON object, handed to fn.  OK_ERR_PROTOCOL
 * for anything else (truncated, trailing bytes, another type). */
static okerr
ingest_object(struct okta_client *oc, const char *where, okta_item_fn fn,
    void *ctx)
{
	json_object *o;
	okerr rc = OK_ERR_PROTOCOL;
	int oom;

	o = okta_parse_json(oc->resp.body, oc->resp.len, &oom);
	if (oom) {
		set_error(oc, "out of memory parsing JSON");
		return OK_ERR_INTERNAL;
	}
	if (o != NULL && json_object_is_type(o, json_type_object))
		rc = OK_SUCCESS;
	if (rc != OK_SUCCESS)
		set_error(oc, "GET %s: the answer is not one JSON object", where);
	else if (fn != NULL && fn(ctx, o) != 0)
		rc = OK_ERR_INTERRUPTED;
	json_object_put(o);
	return rc;
}

okerr
okta_get_object(struct okta_client *oc, const char *path, okta_item_fn fn,
    void *ctx)
{
	char where[OKTA_URL_MAX / 16];
	char *url;
	okerr rc;

	if (path == NULL || path[0] != '/') {
		set_error(oc, "internal error: a path must start with /");
		return OK_ERR_INTERNAL;
	}
	url = xasprintf("%s%s", oc->base, path);
	url_for_message(oc, url, where, sizeof(where));
	rc = get_with_retries(oc, url);
	if (rc == OK_SUCCESS)
		rc = ingest_object(oc, where, fn, ctx);
	drop_body(oc);
	free(url);
	return rc;
}

/* The next link of the page just fetched, checked as list_all checks
 * one, into next.  OK_SUCCESS or OK_ERR_PROTOCOL (said). */
static okerr
poll_next(struct okta_client *oc, const char *where, char *next,
    size_t nextlen)
{
	char shown[256];

	if (oc->resp.h.link_bad || !oc->resp.h.has_next) {
		set_error(oc, "GET %s: %s", where, oc->resp.h.link_bad ?
		    "a malformed or ambiguous Link header" : "no rel=\"next\" "
		    "link, which a polling request always has");
		return OK_ERR_PROTOCOL;
	}
	if (!next_is_same_origin(oc, oc->resp.h.next) ||
	    strlen(oc->resp.h.next) >= nextlen) {
		okta_sanitize(shown, sizeof(shown), oc->resp.h.next,
		    strlen(oc->resp.h.next));
		set_error(oc, "GET %s: the next link %s is not https on %s; "
		    "not following it", where, shown, oc->domain);
		return OK_ERR_PROTOCOL;
	}
	memcpy(next, oc->resp.h.next, strlen(oc->resp.h.next) + 1);
	return OK_SUCCESS;
}

int
okta_url_is_ours(const struct okta_client *oc, const char *url)
{
	return url != NULL && next_is_same_origin(oc, url);
}

okerr
okta_poll_page(struct okta_client *oc, const char *url_or_path,
    okta_item_fn fn, void *ctx, unsigned long *count, char *next,
    size_t nextlen)
{
	char where[OKTA_URL_MAX / 16];
	char *url;
	okerr rc;

	if (count != NULL)
		*count = 0;
	oc->last_error[0] = '\0';
	if (url_or_path != NULL && url_or_path[0] == '/')
		url = xasprintf("%s%s", oc->base, url_or_path);
	else if (url_or_path != NULL && next_is_same_origin(oc, url_or_path))
		url = xstrdup(url_or_path);
	else {
		set_error(oc, "a stored System Log cursor that is not https on "
		    "%s; not following it", oc->domain);
		return OK_ERR_PROTOCOL;
	}
	url_for_message(oc, url, where, sizeof(where));
	rc = fetch_page(oc, url, fn, ctx, count, 0);
	if (rc == OK_SUCCESS)
		rc = poll_next(oc, where, next, nextlen);
	free(url);
	return rc;
}

/* --- connection checks for `okta-sync test` ---------------------------- */

okerr
okta_check_dns(struct okta_client *oc)
{
	struct addrinfo hints, *res = NULL, *ai;
	char addr[INET6_ADDRSTRLEN], list[256], *proxy_host = NULL;
	const char *host = oc->host;
	size_t used = 0;
	int gai, shown = 0;

	oc->last_error[0] = oc->detail[0] = '\0';
	if (oc->host == NULL) {
		set_error(oc, "\"%s\" is not a host name", oc->domain);
		return OK_ERR_DNS;
	}
	/* Through a proxy, the proxy resolves Okta's name: what must
	 * resolve here is the proxy's. */
	if (oc->proxy != NULL) {
		CURLU *u = curl_url();

		if (u == NULL || curl_url_set(u, CURLUPART_URL, oc->proxy, 0) != CURLUE_OK ||
		    curl_url_get(u, CURLUPART_HOST, &proxy_host, 0) != CURLUE_OK) {
			curl_url_cleanup(u);
			set_error(oc, "the proxy %s is not a URL", oc->proxy);
			return OK_ERR_DNS;
		}
		curl_url_cleanup(u);
		host = proxy_host;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	gai = getaddrinfo(host, NULL, &hints, &res);
	if (gai == EAI_AGAIN) {
		/* No answer at all: more likely the resolver than the name. */
		set_error(oc, "no DNS server answered for %s%s (%s); check the name "
		    "servers in /etc/resolv.conf and the network",
		    proxy_host ? "the proxy " : "", host, gai_strerror(gai));
		curl_free(proxy_host);
		return OK_ERR_DNS;
	}
	if (gai != 0) {
		set_error(oc, "%s%s does not resolve (%s)", proxy_host ? "the proxy " : "",
		    host, gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		curl_free(proxy_host);
		return OK_ERR_DNS;
	}
	list[0] = '\0';
	for (ai = res; ai != NULL && shown < 4; ai = ai->ai_next) {
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL,
		    0, NI_NUMERICHOST) != 0)
			continue;
		if (strstr(list, addr) != NULL)
			continue;	/* the same address for another protocol */
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
		    shown ? ", " : "", addr);
		if (used >= sizeof(list))
			break;
		shown++;
	}
	freeaddrinfo(res);
	snprintf(oc->detail, sizeof(oc->detail), "%s%s resolves to %s%s",
	    proxy_host ? "the proxy " : "", host, shown ? list : "an address",
	    proxy_host ? " (it resolves Okta's name)" : "");
	curl_free(proxy_host);
	return OK_SUCCESS;
}

/*
 * The URL a connection check connects to, into *url (curl_free it): the
 * TCP check goes to the first hop, the proxy when there is one (the TLS
 * check then tunnels through it to Okta).  Returns 0, -1 on failure.
 */
static int
connect_url(const struct okta_client *oc, CURLU *u, int tls, char **url)
{
	if (!tls && oc->proxy != NULL) {
		if (curl_url_set(u, CURLUPART_URL, oc->proxy, 0) != CURLUE_OK ||
		    curl_url_set(u, CURLUPART_SCHEME, "http", 0) != CURLUE_OK ||
		    curl_url_get(u, CURLUPART_URL, url, 0) != CURLUE_OK)
			return -1;
	} else if (curl_url_set(u, CURLUPART_URL, oc->base, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PORT, oc->port, 0) != CURLUE_OK ||
	    (!tls && curl_url_set(u, CURLUPART_SCHEME, "http", 0) != CURLUE_OK) ||
	    curl_url_get(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		return -1;
	return 0;
}

/* Make h a connect-only transfer to url: a bare http one, direct, for the
 * TCP check; one that keeps the certificates for the TLS check. */
static CURLcode
set_connect_only(CURL *h, const char *url, int tls)
{
	CURLcode cc;

	cc = curl_easy_setopt(h, CURLOPT_URL, url);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
	if (cc == CURLE_OK && !tls)
		cc = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
	if (cc == CURLE_OK && !tls)
		cc = curl_easy_setopt(h, CURLOPT_PROXY, "");
	if (cc == CURLE_OK && tls)
		cc = curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
	return cc;
}

/* The check's failure (cc) as the step it tests: a TCP check cannot fail
 * at TLS, and once TCP worked a TLS check's failure is TLS's. */
static okerr
connect_failed(struct okta_client *oc, CURLcode cc, int tls)
{
	char reason[CURL_ERROR_SIZE];
	okerr rc;
	int transient;

	rc = map_curl_error(cc, &transient);
	curl_reason(oc, cc, reason, sizeof(reason));
	if (!tls && rc == OK_ERR_TLS)
		rc = OK_ERR_CONNECT;
	if (tls && (rc == OK_ERR_PROTOCOL || rc == OK_ERR_CONNECT))
		rc = OK_ERR_TLS;	/* TCP worked a moment ago */
	set_error(oc, "%s", reason);
	return rc;
}

/* oc->detail for a TCP check that connected on h: where to. */
static void
describe_connection(struct okta_client *oc, CURL *h)
{
	char *ip = NULL;
	long port = 0;

	if (curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &ip) != CURLE_OK || ip == NULL)
		ip = NULL;
	if (curl_easy_getinfo(h, CURLINFO_PRIMARY_PORT, &port) != CURLE_OK)
		port = 0;
	snprintf(oc->detail, sizeof(oc->detail), "connected to %s%s port %ld",
	    oc->proxy != NULL ? "the proxy " : "", ip != NULL ? ip : oc->host,
	    port);
}

/* oc->detail for a TLS check that connected on h: the server
 * certificate's subject and expiry, sanitized, when curl reports them. */
static void
describe_certificate(struct okta_client *oc, CURL *h)
{
	struct curl_certinfo *ci = NULL;
	struct curl_slist *s;
	char subject[160] = "", expire[80] = "";
	int i;

	if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) == CURLE_OK &&
	    ci != NULL && ci->num_of_certs > 0) {
		for (s = ci->certinfo[0]; s != NULL; s = s->next) {
			if (strncmp(s->data, "Subject:", 8) == 0)
				okta_sanitize(subject, sizeof(subject), s->data + 8,
				    strlen(s->data + 8));
			else if (strncmp(s->data, "Expire date:", 12) == 0)
				okta_sanitize(expire, sizeof(expire), s->data + 12,
				    strlen(s->data + 12));
		}
	}
	for (i = 0; subject[i] == ' '; i++)
		;
	if (subject[i] != '\0' && expire[0] != '\0')
		snprintf(oc->detail, sizeof(oc->detail),
		    "certificate verified (%s, valid until %s)", subject + i,
		    expire[0] == ' ' ? expire + 1 : expire);
	else
		snprintf(oc->detail, sizeof(oc->detail), "certificate verified");
}

/*
 * A connect-only transfer on a handle of its own (so the keep-alive handle
 * is not left with a connect-only connection).  tls: https with the usual
 * verification, else a bare TCP connection to the same host and port (an
 * http URL that is never sent anything, and no proxy).  No token is set.
 */
static okerr
connect_only(struct okta_client *oc, int tls)
{
	CURL *h = NULL;
	CURLU *u = NULL;
	char *url = NULL;
	CURLcode cc;
	okerr rc = OK_ERR_INTERNAL;

	oc->last_error[0] = oc->detail[0] = oc->errbuf[0] = '\0';
	if (oc->host == NULL) {
		set_error(oc, "\"%s\" is not a host name", oc->domain);
		return OK_ERR_CONFIG;
	}
	h = curl_easy_init();
	u = curl_url();
	if (h == NULL || u == NULL || setup_handle(oc, h) != 0)
		goto out;
	if (connect_url(oc, u, tls, &url) != 0)
		goto out;
	if (set_connect_only(h, url, tls) != CURLE_OK)
		goto out;
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		rc = connect_failed(oc, cc, tls);
		goto out;
	}
	if (!tls)
		describe_connection(oc, h);
	else
		describe_certificate(oc, h);
	rc = OK_SUCCESS;
out:
	if (rc == OK_ERR_INTERNAL && oc->last_error[0] == '\0')
		set_error(oc, "cannot set up libcurl for the check");
	curl_free(url);
	curl_url_cleanup(u);
	if (h != NULL)
		curl_easy_cleanup(h);
	return rc;
}

okerr
okta_check_tcp(struct okta_client *oc)
{
	return connect_only(oc, 0);
}

okerr
okta_check_tls(struct okta_client *oc)
{
	return connect_only(oc, 1);
}

/* --- another way to authenticate (okta.h: okta_auth_ops) ---------------- */

void
okta_set_auth(struct okta_client *oc, const struct okta_auth_ops *ops, void *ctx)
{
	oc->auth = ops;
	oc->auth_ctx = ctx;
}

void
okta_set_post_retry(struct okta_client *oc, int retry)
{
	oc->post_once_only = !retry;
}

const char *
okta_base_url(const struct okta_client *oc)
{
	return oc->base;
}

void
okta_set_error(struct okta_client *oc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(oc->last_error, sizeof(oc->last_error), fmt, ap);
	va_end(ap);
}

/* One POST of form on the keep-alive handle; the handle is put back to
 * GET afterwards.  The header list is wiped (it may hold a DPoP proof). */
static CURLcode
post_once(struct okta_client *oc, const char *url, const char *form,
    struct curl_slist *extra)
{
	struct curl_slist *hl = NULL, *n, *s;
	long connects = 0;
	CURLcode cc = CURLE_OUT_OF_MEMORY;

	oc->resp.len = 0;
	oc->resp.overflow = 0;
	okta_headers_reset(&oc->resp.h);
	oc->errbuf[0] = '\0';
	if ((n = curl_slist_append(hl, "Accept: application/json")) == NULL)
		goto out;
	hl = n;
	if ((n = curl_slist_append(hl,
	    "Content-Type: application/x-www-form-urlencoded")) == NULL)
		goto out;
	hl = n;
	for (s = extra; s != NULL; s = s->next) {
		if ((n = curl_slist_append(hl, s->data)) == NULL)
			goto out;
		hl = n;
	}
	cc = curl_easy_setopt(oc->curl, CURLOPT_URL, url);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(oc->curl, CURLOPT_HTTPHEADER, hl);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(oc->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(oc->curl, CURLOPT_POSTFIELDS, form);
	if (cc == CURLE_OK) {
		oc->stats.requests++;
		cc = curl_easy_perform(oc->curl);
		if (curl_easy_getinfo(oc->curl, CURLINFO_NUM_CONNECTS, &connects) ==
		    CURLE_OK && connects > 0)
			oc->stats.connects += (unsigned long)connects;
	}
	/* Back to GET, and no pointer left to the list freed below. */
	if ((curl_easy_setopt(oc->curl, CURLOPT_HTTPGET, 1L) != CURLE_OK ||
	    curl_easy_setopt(oc->curl, CURLOPT_HTTPHEADER, NULL) != CURLE_OK) &&
	    cc == CURLE_OK)
		cc = CURLE_FAILED_INIT;
out:
	for (s = hl; s != NULL; s = s->next)
		explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(hl);
	return cc;
}

okerr
okta_post_form(struct okta_client *oc, const char *path, char *form,
    struct curl_slist *extra, long *status, char **body, size_t *len,
    const struct okta_headers **h)
{
	char *url, reason[CURL_ERROR_SIZE];
	unsigned tries = 0;
	CURLcode cc;
	okerr rc;
	int transient;

	*status = 0;
	*body = NULL;
	*len = 0;
	*h = &oc->resp.h;
	if (oc->host == NULL) {
		set_error(oc, "the domain \"%s\" is not a host name", oc->domain);
		explicit_bzero(form, strlen(form));
		return OK_ERR_CONFIG;
	}
	url = xasprintf("%s%s", oc->base, path);
	for (;;) {
		if (stopped(oc)) {
			set_error(oc, "POST %s: stopped", path);
			rc = OK_ERR_INTERRUPTED;
			break;
		}
		cc = post_once(oc, url, form, extra);
		if (cc != CURLE_OK) {
			rc = map_curl_error(cc, &transient);
			curl_reason(oc, cc, reason, sizeof(reason));
			if (rc != OK_ERR_INTERRUPTED && transient &&
			    !oc->post_once_only &&
			    ++tries < OKTA_TRANSPORT_ATTEMPTS) {
				oc->stats.retries++;
				(void)wait_ms(oc, backoff_ms(oc, tries));
				continue;
			}
			set_error(oc, "POST %s: %s", path, reason);
			break;
		}
		if (curl_easy_getinfo(oc->curl, CURLINFO_RESPONSE_CODE, status) != CURLE_OK)
			*status = 0;
		oc->http_status = *status;
		if (oc->first_date < 0 && oc->resp.h.date >= 0)
			oc->first_date = oc->resp.h.date;
		debug_f("POST %s: %ld, %zu bytes", path, *status, oc->resp.len);
		if (*status >= 500 && *status <= 599 && !oc->post_once_only &&
		    ++tries < OKTA_TRANSPORT_ATTEMPTS) {
			oc->stats.retries++;
			(void)wait_ms(oc, backoff_ms(oc, tries));
			continue;
		}
		*body = oc->resp.body;
		*len = oc->resp.len;
		rc = OK_SUCCESS;
		break;
	}
	explicit_bzero(form, strlen(form));
	free(url);
	return rc;
}
