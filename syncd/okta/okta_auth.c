/*
 * okta_auth.c - the Direct Authentication client of okta_auth.h.
 *
 * Requests go through okta_post_form on the login's own okta_client (TLS
 * verified against [okta] ca_file, the [okta] proxy); the JWKS through
 * okta_get_object with an auth provider that adds no Authorization line
 * (the keys endpoint is public) and takes the Cache-Control max-age.
 *
 * Okta's answers are untrusted: every field is checked for type and size
 * before use, and what goes into a log line is sanitized.  An answer we
 * cannot read is OA_ERROR, never OA_UNAVAILABLE: only the absence of an
 * answer (or a 5xx or a 429) may open the way to offline credentials.
 */
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "okta.h"
#include "okta_auth.h"
#include "xmalloc.h"

#define GRANT_PASSWORD "password"
#define GRANT_MFA_OTP "http://auth0.com/oauth/grant-type/mfa-otp"
#define GRANT_MFA_OOB "http://auth0.com/oauth/grant-type/mfa-oob"
#define GRANT_DEVICE "urn:ietf:params:oauth:grant-type:device_code"
#define SPACING_SLOTS 256

/* When each recent user may next be sent a request (monotonic ms), and
 * whether one is in flight (busy) or waited for (waiters): such a slot
 * is never reused for another user. */
struct spacing_slot {
	char key[72];
	long long next_ms;
	int busy, waiters;
};

struct okta_auth {
	struct config cfg;          /* only the [okta] fields okta_client_new
	                             * and the proxy read, copied */
	char *client_id;
	char *client_secret;        /* NULL: a public client; wiped */
	char *prefix;               /* "/oauth2/v1" or "/oauth2/ID/v1" */
	char *issuer;
	char paths[4][128];         /* token, challenge, device, keys */
	struct jwks_cache *jwks;
	pthread_mutex_t mu;
	pthread_cond_t cv;          /* a slot became free */
	struct spacing_slot slots[SPACING_SLOTS];
};

struct okta_auth_login {
	struct okta_auth *a;
	struct okta_client *oc;
	char key[72];
	volatile sig_atomic_t *stop;
	long max_age;               /* of the last JWKS answer */
	char *jwks;                 /* the body okta_get_object handed over */
};

/* --- the daemon's client ------------------------------------------------ */

struct okta_auth *
okta_auth_new(const struct config *c, char *err, size_t errlen)
{
	struct okta_auth *a;
	const char *server = c->auth.authorization_server;
	char *secret = NULL;

	if (c->auth.client_id == NULL || c->domain == NULL) {
		snprintf(err, errlen, "[auth] client_id and [okta] domain are needed");
		return NULL;
	}
	if (c->auth.client_secret_file != NULL &&
	    (secret = config_read_client_secret(c, err, errlen)) == NULL)
		return NULL;
	a = xcalloc(1, sizeof(*a));
	if (pthread_mutex_init(&a->mu, NULL) != 0 ||
	    pthread_cond_init(&a->cv, NULL) != 0 ||
	    (a->jwks = jwks_cache_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		if (secret != NULL) {
			explicit_bzero(secret, strlen(secret));
			free(secret);
		}
		free(a);
		return NULL;
	}
	a->cfg.domain = xstrdup(c->domain);
	a->cfg.ca_file = c->ca_file != NULL ? xstrdup(c->ca_file) : NULL;
	a->cfg.timeout = c->timeout;
	a->cfg.proxy = c->proxy != NULL ? xstrdup(c->proxy) : NULL;
	a->cfg.no_proxy = c->no_proxy != NULL ? xstrdup(c->no_proxy) : NULL;
	a->cfg.proxy_credentials_file = c->proxy_credentials_file != NULL ?
	    xstrdup(c->proxy_credentials_file) : NULL;
	a->client_id = xstrdup(c->auth.client_id);
	a->client_secret = secret;
	if (server == NULL) {
		a->prefix = xstrdup("/oauth2/v1");
		a->issuer = xasprintf("https://%s", c->domain);
	} else {
		a->prefix = xasprintf("/oauth2/%s/v1", server);
		a->issuer = xasprintf("https://%s/oauth2/%s", c->domain, server);
	}
	snprintf(a->paths[0], sizeof(a->paths[0]), "%s/token", a->prefix);
	snprintf(a->paths[1], sizeof(a->paths[1]), "%s/challenge", a->prefix);
	snprintf(a->paths[2], sizeof(a->paths[2]), "%s/device/authorize", a->prefix);
	snprintf(a->paths[3], sizeof(a->paths[3]), "%s/keys", a->prefix);
	return a;
}

void
okta_auth_free(struct okta_auth *a)
{
	if (a == NULL)
		return;
	if (a->client_secret != NULL) {
		explicit_bzero(a->client_secret, strlen(a->client_secret));
		free(a->client_secret);
	}
	jwks_cache_free(a->jwks);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	free(a->cfg.domain);
	free(a->cfg.ca_file);
	free(a->cfg.proxy);
	free(a->cfg.no_proxy);
	free(a->cfg.proxy_credentials_file);
	free(a->client_id);
	free(a->prefix);
	free(a->issuer);
	free(a);
}

const char *
okta_auth_issuer(const struct okta_auth *a)
{
	return a->issuer;
}

const char *
okta_auth_path(const struct okta_auth *a, const char *what)
{
	if (strcmp(what, "challenge") == 0)
		return a->paths[1];
	if (strcmp(what, "device") == 0)
		return a->paths[2];
	if (strcmp(what, "keys") == 0)
		return a->paths[3];
	return a->paths[0];
}

/* The slot of key, or a free one taken for it; NULL when every slot is
 * in use (then the caller waits).  Under a->mu. */
static struct spacing_slot *
spacing_slot(struct okta_auth *a, const char *key)
{
	struct spacing_slot *free_slot = NULL;
	size_t i;

	for (i = 0; i < SPACING_SLOTS; i++) {
		if (strcmp(a->slots[i].key, key) == 0)
			return &a->slots[i];
		if (!a->slots[i].busy && a->slots[i].waiters == 0 &&
		    (free_slot == NULL ||
		    a->slots[i].next_ms < free_slot->next_ms))
			free_slot = &a->slots[i];
	}
	if (free_slot != NULL) {
		snprintf(free_slot->key, sizeof(free_slot->key), "%s", key);
		free_slot->next_ms = 0;
	}
	return free_slot;
}

/*
 * Take the right to send a request for key: one request of a user in
 * flight at a time, each sent OKTA_AUTH_SPACING_MS after the answer to
 * the one before, whatever thread sent that.  Measured from the answer,
 * not from the start, so that a slow TLS handshake of one request cannot
 * squeeze two arrivals at Okta closer than the spacing.  0, or -1 when
 * stopped.
 */
static int
spacing_acquire(struct okta_auth *a, const char *key,
    volatile sig_atomic_t *stop)
{
	struct spacing_slot *s;
	struct timespec ts;
	long long now, wait;
	int rc = 0;

	pthread_mutex_lock(&a->mu);
	for (;;) {
		if (stop != NULL && *stop) {
			rc = -1;
			break;
		}
		s = spacing_slot(a, key);
		now = okta_mono_ms();
		if (s != NULL && !s->busy && s->next_ms <= now) {
			s->busy = 1;
			break;
		}
		wait = s != NULL && !s->busy && s->next_ms - now < 100 ?
		    s->next_ms - now : 100;
		if (s != NULL)
			s->waiters++;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += wait * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&a->cv, &a->mu, &ts);
		if (s != NULL)
			s->waiters--;
	}
	pthread_mutex_unlock(&a->mu);
	return rc;
}

static void
spacing_release(struct okta_auth *a, const char *key)
{
	size_t i;

	pthread_mutex_lock(&a->mu);
	for (i = 0; i < SPACING_SLOTS; i++)
		if (strcmp(a->slots[i].key, key) == 0) {
			a->slots[i].busy = 0;
			a->slots[i].next_ms = okta_mono_ms() + OKTA_AUTH_SPACING_MS;
			break;
		}
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

/* --- one login's client ------------------------------------------------- */

static okerr
jwks_prepare(void *ctx, struct okta_client *oc)
{
	return OK_SUCCESS;
}

/* The keys endpoint is public: no Authorization line at all. */
static int
jwks_headers(void *ctx, const char *method, const char *url,
    struct curl_slist **hl)
{
	return 0;
}

static int
jwks_after(void *ctx, struct okta_client *oc, long status,
    const struct okta_headers *h)
{
	struct okta_auth_login *l = ctx;

	l->max_age = h->max_age;
	return 0;
}

static void
jwks_release(void *ctx)
{
}

static const struct okta_auth_ops public_ops = {
	jwks_prepare, jwks_headers, jwks_after, jwks_release
};

struct okta_auth_login *
okta_auth_login_new(struct okta_auth *a, const char *user_key,
    volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	struct okta_auth_login *l;

	l = xcalloc(1, sizeof(*l));
	l->a = a;
	l->stop = stop;
	snprintf(l->key, sizeof(l->key), "%s", user_key);
	l->oc = okta_client_new(&a->cfg, NULL);
	if (l->oc == NULL) {
		snprintf(err, errlen, "libcurl cannot be initialised");
		free(l);
		return NULL;
	}
	if (okta_client_set_proxy(l->oc, &a->cfg, err, errlen) != 0) {
		okta_client_free(l->oc);
		free(l);
		return NULL;
	}
	okta_set_auth(l->oc, &public_ops, l);
	okta_set_stop(l->oc, stop);
	return l;
}

void
okta_auth_login_free(struct okta_auth_login *l)
{
	if (l == NULL)
		return;
	okta_client_free(l->oc);
	free(l->jwks);
	free(l);
}

void
okta_auth_reply_wipe(struct okta_auth_reply *r)
{
	if (r->id_token != NULL) {
		explicit_bzero(r->id_token, strlen(r->id_token));
		free(r->id_token);
	}
	explicit_bzero(r, sizeof(*r));
}

/* --- forms and answers -------------------------------------------------- */

/* Append name=value (value percent-encoded) to the form being built in
 * buf (cap bytes); a value too long for it makes the form unusable
 * (*bad).  buf is wiped by the caller. */
static void
form_add(char *buf, size_t cap, size_t *len, const char *name,
    const char *value, int *bad)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = *len, i;
	unsigned char ch;

	if (*bad)
		return;
	if (n + strlen(name) + 2 >= cap) {
		*bad = 1;
		return;
	}
	if (n > 0)
		buf[n++] = '&';
	memcpy(buf + n, name, strlen(name));
	n += strlen(name);
	buf[n++] = '=';
	for (i = 0; value[i] != '\0'; i++) {
		ch = (unsigned char)value[i];
		if (n + 4 >= cap) {
			*bad = 1;
			return;
		}
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '~') {
			buf[n++] = (char)ch;
		} else {
			buf[n++] = '%';
			buf[n++] = hex[ch >> 4];
			buf[n++] = hex[ch & 15];
		}
	}
	buf[n] = '\0';
	*len = n;
}

#define FORM_MAX 8192

/* A JSON string member of o of 1..max-1 bytes copied into out, the
 * original wiped in place (it may be a secret); 0, or -1. */
static int
take_string(json_object *o, const char *name, char *out, size_t max)
{
	json_object *v;
	const char *s;
	size_t n;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n == 0 || n >= max || memchr(s, '\0', n) != NULL)
		return -1;
	memcpy(out, s, n + 1);
	explicit_bzero((char *)(uintptr_t)s, n);
	return 0;
}

/* A positive integer member, at most max; def when absent or unusable. */
static long
take_seconds(json_object *o, const char *name, long def, long max)
{
	json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_int))
		return def;
	n = json_object_get_int64(v);
	return n >= 1 && n <= max ? (long)n : def;
}

/* What an error answer (4xx with an OAuth error body) means. */
static enum oa_status
classify_error(const char *error, const char *desc)
{
	if (strcmp(error, "mfa_required") == 0)
		return OA_MFA_REQUIRED;
	if (strcmp(error, "authorization_pending") == 0)
		return OA_PENDING;
	if (strcmp(error, "slow_down") == 0)
		return OA_SLOW_DOWN;
	if (strcmp(error, "expired_token") == 0 ||
	    strstr(desc, "has expired") != NULL)
		return OA_EXPIRED;
	if (strcmp(error, "access_denied") == 0 &&
	    (strstr(desc, "cannot be used") != NULL ||
	    strstr(desc, "enroll") != NULL))
		return OA_NOT_ENROLLED;
	if (strcmp(error, "invalid_grant") == 0 ||
	    strcmp(error, "access_denied") == 0)
		return OA_DENIED;
	return OA_ERROR;
}

static void
read_refusal(struct okta_auth_reply *r, json_object *o, const char *path,
    long status)
{
	json_object *v;
	char desc[256];

	desc[0] = '\0';
	if (json_object_object_get_ex(o, "error", &v) &&
	    json_object_is_type(v, json_type_string))
		okta_sanitize(r->error, sizeof(r->error), json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
	if (json_object_object_get_ex(o, "error_description", &v) &&
	    json_object_is_type(v, json_type_string))
		okta_sanitize(desc, sizeof(desc), json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
	r->status = status == 429 ? OA_UNAVAILABLE :
	    classify_error(r->error, desc);
	if (r->status == OA_MFA_REQUIRED &&
	    take_string(o, "mfa_token", r->mfa_token,
	    sizeof(r->mfa_token)) != 0) {
		r->status = OA_ERROR;
		snprintf(desc, sizeof(desc), "mfa_required without a usable "
		    "mfa_token");
	}
	snprintf(r->detail, sizeof(r->detail), "POST %s: %ld %s%s%s", path,
	    status, r->error[0] ? r->error : "(no error)", desc[0] ? ": " : "",
	    desc);
}

static void
read_token(struct okta_auth_reply *r, json_object *o, const char *path,
    long status)
{
	char tok[16384];

	if (take_string(o, "id_token", tok, sizeof(tok)) != 0) {
		r->status = OA_ERROR;
		snprintf(r->detail, sizeof(r->detail), "POST %s: %ld without an "
		    "ID token (is \"openid\" allowed for the app?)", path, status);
	} else {
		r->status = OA_OK;
		r->id_token = xstrdup(tok);
	}
	/* The access token is not used: wiped where json-c keeps it (the
	 * body is wiped by the caller). */
	(void)take_string(o, "access_token", tok, sizeof(tok));
	explicit_bzero(tok, sizeof(tok));
}

static void
read_challenge(struct okta_auth_reply *r, json_object *o, const char *path,
    long status)
{
	json_object *v;
	char code[9];

	if (json_object_object_get_ex(o, "challenge_type", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    strcmp(json_object_get_string(v), GRANT_MFA_OTP) == 0) {
		r->status = OA_CHALLENGE;
		r->challenge_otp = 1;
	} else if (take_string(o, "oob_code", r->oob_code,
	    sizeof(r->oob_code)) != 0) {
		r->status = OA_ERROR;
		snprintf(r->detail, sizeof(r->detail), "POST %s: %ld without an "
		    "oob_code", path, status);
	} else {
		r->status = OA_CHALLENGE;
		r->interval = take_seconds(o, "interval", 5, 60);
		r->expires_in = take_seconds(o, "expires_in", 300, 3600);
		if (take_string(o, "binding_code", code, sizeof(code)) == 0 &&
		    strspn(code, "0123456789") == strlen(code))
			memcpy(r->binding_code, code, strlen(code) + 1);
	}
}

static void
read_device(struct okta_auth_reply *r, json_object *o, const char *path,
    long status)
{
	char tok[16384];

	if (take_string(o, "device_code", r->device_code,
	    sizeof(r->device_code)) != 0 ||
	    take_string(o, "user_code", tok, sizeof(r->user_code)) != 0 ||
	    strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != strlen(tok)) {
		r->status = OA_ERROR;
		snprintf(r->detail, sizeof(r->detail), "POST %s: %ld without a "
		    "usable device_code and user_code", path, status);
		goto out;
	}
	memcpy(r->user_code, tok, strlen(tok) + 1);
	if (take_string(o, "verification_uri_complete", tok,
	    sizeof(r->verification_uri)) != 0 &&
	    take_string(o, "verification_uri", tok,
	    sizeof(r->verification_uri)) != 0)
		tok[0] = '\0';
	okta_sanitize(r->verification_uri, sizeof(r->verification_uri), tok,
	    strlen(tok));
	if (strncmp(r->verification_uri, "https://", 8) != 0) {
		r->status = OA_ERROR;
		snprintf(r->detail, sizeof(r->detail), "POST %s: %ld without an "
		    "https verification_uri", path, status);
	} else {
		r->status = OA_DEVICE;
		r->interval = take_seconds(o, "interval", 5, 60);
		r->expires_in = take_seconds(o, "expires_in", 600, 3600);
	}
out:
	explicit_bzero(tok, sizeof(tok));
}

void
okta_auth_read_answer(struct okta_auth_reply *r, const char *path,
    const char *what, long status, const char *body, size_t len)
{
	json_object *o;
	int oom = 0;

	o = okta_parse_json(body, len, &oom);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		r->status = status >= 500 ? OA_UNAVAILABLE : OA_ERROR;
		snprintf(r->detail, sizeof(r->detail), "POST %s: %ld with %s",
		    path, status, oom ? "no memory to read the answer" :
		    "an answer that is not a JSON object");
		json_object_put(o);
		return;
	}
	if (status >= 400)
		read_refusal(r, o, path, status);
	else if (status < 200 || status > 299) {
		/* No redirect is followed, and no other status means success. */
		r->status = OA_ERROR;
		snprintf(r->detail, sizeof(r->detail), "POST %s: unexpected "
		    "status %ld", path, status);
	} else if (strcmp(what, "token") == 0)
		read_token(r, o, path, status);
	else if (strcmp(what, "challenge") == 0)
		read_challenge(r, o, path, status);
	else
		read_device(r, o, path, status);
	json_object_put(o);
}

/* Send form (wiped here) to the endpoint `what` after the user's
 * spacing; once only when once is set. */
static void
send_form(struct okta_auth_login *l, const char *what, char *form,
    int once, struct okta_auth_reply *r)
{
	const struct okta_headers *h;
	const char *path = okta_auth_path(l->a, what);
	char *body = NULL;
	size_t len = 0;
	long status = 0;
	okerr rc;

	memset(r, 0, sizeof(*r));
	if (spacing_acquire(l->a, l->key, l->stop) != 0) {
		explicit_bzero(form, strlen(form));
		r->status = OA_ERROR;
		snprintf(r->detail, sizeof(r->detail), "stopped");
		return;
	}
	okta_set_post_retry(l->oc, !once);
	rc = okta_post_form(l->oc, path, form, NULL, &status, &body, &len, &h);
	okta_set_post_retry(l->oc, 1);
	spacing_release(l->a, l->key);
	r->http_status = status;
	if (rc != OK_SUCCESS) {
		r->status = rc == OK_ERR_INTERRUPTED || rc == OK_ERR_CONFIG ?
		    OA_ERROR : OA_UNAVAILABLE;
		okta_sanitize(r->detail, sizeof(r->detail), okta_last_error(l->oc),
		    strlen(okta_last_error(l->oc)));
		return;
	}
	if (status >= 500 || status == 429) {
		r->status = OA_UNAVAILABLE;
		snprintf(r->detail, sizeof(r->detail), "POST %s: %ld", path,
		    status);
	} else {
		okta_auth_read_answer(r, path, strcmp(what, "device") == 0 ? "device" :
		    strcmp(what, "challenge") == 0 ? "challenge" : "token",
		    status, body, len);
	}
	if (body != NULL)
		explicit_bzero(body, len);
}

/* The client's own fields, the same in every form. */
static void
form_client(const struct okta_auth *a, char *buf, size_t *len, int *bad)
{
	form_add(buf, FORM_MAX, len, "client_id", a->client_id, bad);
	if (a->client_secret != NULL)
		form_add(buf, FORM_MAX, len, "client_secret", a->client_secret,
		    bad);
}

static void
finish(struct okta_auth_login *l, const char *what, char *form, int bad,
    int once, struct okta_auth_reply *r)
{
	if (bad) {
		explicit_bzero(form, FORM_MAX);
		memset(r, 0, sizeof(*r));
		r->status = OA_ERROR;
		snprintf(r->detail, sizeof(r->detail), "a field is too long "
		    "for the request");
		return;
	}
	send_form(l, what, form, once, r);
	explicit_bzero(form, FORM_MAX);
}

void
okta_auth_password(struct okta_auth_login *l, const char *username,
    const char *password, struct okta_auth_reply *r)
{
	char form[FORM_MAX];
	size_t len = 0;
	int bad = 0;

	form[0] = '\0';
	form_add(form, sizeof(form), &len, "grant_type", GRANT_PASSWORD, &bad);
	form_add(form, sizeof(form), &len, "username", username, &bad);
	form_add(form, sizeof(form), &len, "password", password, &bad);
	form_add(form, sizeof(form), &len, "scope", "openid", &bad);
	form_client(l->a, form, &len, &bad);
	finish(l, "token", form, bad, 1, r);
}

void
okta_auth_challenge(struct okta_auth_login *l, const char *mfa_token,
    int push, struct okta_auth_reply *r)
{
	char form[FORM_MAX];
	size_t len = 0;
	int bad = 0;

	form[0] = '\0';
	form_add(form, sizeof(form), &len, "mfa_token", mfa_token, &bad);
	form_add(form, sizeof(form), &len, "challenge_types_supported",
	    push ? GRANT_MFA_OOB : GRANT_MFA_OTP, &bad);
	if (push)
		form_add(form, sizeof(form), &len, "channel_hint", "push", &bad);
	form_client(l->a, form, &len, &bad);
	finish(l, "challenge", form, bad, 0, r);
}

void
okta_auth_mfa_otp(struct okta_auth_login *l, const char *mfa_token,
    const char *otp, struct okta_auth_reply *r)
{
	char form[FORM_MAX];
	size_t len = 0;
	int bad = 0;

	form[0] = '\0';
	form_add(form, sizeof(form), &len, "grant_type", GRANT_MFA_OTP, &bad);
	form_add(form, sizeof(form), &len, "mfa_token", mfa_token, &bad);
	form_add(form, sizeof(form), &len, "otp", otp, &bad);
	form_client(l->a, form, &len, &bad);
	/* An OTP counts towards Okta's MFA lockout: sent once too. */
	finish(l, "token", form, bad, 1, r);
}

void
okta_auth_mfa_oob(struct okta_auth_login *l, const char *mfa_token,
    const char *oob_code, struct okta_auth_reply *r)
{
	char form[FORM_MAX];
	size_t len = 0;
	int bad = 0;

	form[0] = '\0';
	form_add(form, sizeof(form), &len, "grant_type", GRANT_MFA_OOB, &bad);
	form_add(form, sizeof(form), &len, "mfa_token", mfa_token, &bad);
	form_add(form, sizeof(form), &len, "oob_code", oob_code, &bad);
	form_client(l->a, form, &len, &bad);
	finish(l, "token", form, bad, 0, r);
}

void
okta_auth_device_authorize(struct okta_auth_login *l, struct okta_auth_reply *r)
{
	char form[FORM_MAX];
	size_t len = 0;
	int bad = 0;

	form[0] = '\0';
	form_add(form, sizeof(form), &len, "scope", "openid", &bad);
	form_client(l->a, form, &len, &bad);
	finish(l, "device", form, bad, 0, r);
}

void
okta_auth_device_poll(struct okta_auth_login *l, const char *device_code,
    struct okta_auth_reply *r)
{
	char form[FORM_MAX];
	size_t len = 0;
	int bad = 0;

	form[0] = '\0';
	form_add(form, sizeof(form), &len, "grant_type", GRANT_DEVICE, &bad);
	form_add(form, sizeof(form), &len, "device_code", device_code, &bad);
	form_client(l->a, form, &len, &bad);
	finish(l, "token", form, bad, 0, r);
}

/* --- the ID token ------------------------------------------------------- */

static int
keep_jwks(void *ctx, json_object *item)
{
	struct okta_auth_login *l = ctx;
	const char *s = json_object_to_json_string_ext(item,
	    JSON_C_TO_STRING_PLAIN);

	free(l->jwks);
	l->jwks = s != NULL ? xstrdup(s) : NULL;
	return 0;
}

static int
fetch_jwks(void *ctx, char **body, size_t *len, long *max_age, char *err,
    size_t errlen)
{
	struct okta_auth_login *l = ctx;
	okerr rc;

	l->max_age = -1;
	free(l->jwks);
	l->jwks = NULL;
	rc = okta_get_object(l->oc, okta_auth_path(l->a, "keys"), keep_jwks, l);
	if (rc != OK_SUCCESS || l->jwks == NULL) {
		snprintf(err, errlen, "cannot fetch the JWKS: %s",
		    okta_last_error(l->oc));
		return -1;
	}
	*body = l->jwks;
	*len = strlen(l->jwks);
	*max_age = l->max_age;
	l->jwks = NULL;
	return 0;
}

enum idtoken_result
okta_auth_verify(struct okta_auth_login *l, const char *id_token,
    const char *expected_sub, char *err, size_t errlen)
{
	struct idtoken_claims claims;
	enum idtoken_result res;

	res = idtoken_verify(l->a->jwks, fetch_jwks, l, id_token,
	    l->a->issuer, l->a->client_id, expected_sub, time(NULL), &claims,
	    err, errlen);
	explicit_bzero(&claims, sizeof(claims));
	return res;
}

static int
count_keys(void *ctx, json_object *item)
{
	json_object *keys;

	if (json_object_object_get_ex(item, "keys", &keys) &&
	    json_object_is_type(keys, json_type_array))
		*(int *)ctx = (int)json_object_array_length(keys);
	return 0;
}

int
okta_auth_check(struct okta_auth *a, int *nkeys, char *msg, size_t msglen)
{
	struct okta_auth_login *l;
	struct okta_auth_reply r;
	char form[FORM_MAX], err[256];
	size_t len = 0;
	int bad = 0, rc = 1;

	*nkeys = -1;
	if ((l = okta_auth_login_new(a, "okta-sync test", NULL, err,
	    sizeof(err))) == NULL) {
		snprintf(msg, msglen, "%s", err);
		return 1;
	}
	if (okta_get_object(l->oc, a->paths[3], count_keys, nkeys) != OK_SUCCESS ||
	    *nkeys <= 0) {
		snprintf(msg, msglen, "GET %s: %s", a->paths[3], *nkeys == 0 ?
		    "no keys in the key set" : okta_last_error(l->oc));
		goto out;
	}
	form[0] = '\0';
	form_add(form, sizeof(form), &len, "grant_type", GRANT_PASSWORD, &bad);
	form_add(form, sizeof(form), &len, "scope", "openid", &bad);
	form_client(a, form, &len, &bad);
	finish(l, "token", form, bad, 1, &r);
	if (r.status == OA_UNAVAILABLE) {
		snprintf(msg, msglen, "%s", r.detail);
	} else if (strcmp(r.error, "invalid_request") == 0) {
		snprintf(msg, msglen, "client_id %s accepted, %d signing key(s) "
		    "at %s", a->client_id, *nkeys, a->paths[3]);
		rc = 0;
	} else if (strcmp(r.error, "invalid_client") == 0) {
		snprintf(msg, msglen, "Okta does not accept client_id %s%s: check "
		    "[auth] client_id (the Client ID of the native app)%s",
		    a->client_id, a->client_secret ? " with its secret" : "",
		    a->client_secret ? " and client_secret_file" : "");
	} else if (strcmp(r.error, "unauthorized_client") == 0 ||
	    strcmp(r.error, "unsupported_grant_type") == 0) {
		snprintf(msg, msglen, "the app may not use the password grant: "
		    "allow Resource Owner Password, MFA OTP and MFA OOB in its "
		    "grant types (%s)", r.detail);
	} else {
		snprintf(msg, msglen, "unexpected answer: %s", r.detail);
	}
	okta_auth_reply_wipe(&r);
out:
	okta_auth_login_free(l);
	return rc;
}

long
okta_auth_next_interval(long interval, enum oa_status status)
{
	if (status == OA_SLOW_DOWN)
		interval += 5;
	if (interval < 1)
		interval = 1;
	return interval > 60 ? 60 : interval;
}

const char *
okta_auth_status_name(enum oa_status s)
{
	static const char *const names[] = {
		"ok", "mfa_required", "challenge", "device", "pending",
		"slow_down", "denied", "expired", "not_enrolled", "unavailable",
		"error"
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] :
	    "unknown";
}
