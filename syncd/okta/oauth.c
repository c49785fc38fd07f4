/*
 * oauth.c - the OAuth 2.0 service app (see oauth.h): client credentials
 * with a private_key_jwt assertion, DPoP when the app requires it, the
 * access token in memory only.
 *
 * The token endpoint is reached through okta_post_form, on the client's
 * own connection (same TLS verification, same host); API requests get
 * their header lines from oauth_headers through okta_auth_ops.
 */
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "dpop.h"
#include "jwt.h"
#include "log.h"
#include "oauth.h"
#include "secret_key.h"
#include "xmalloc.h"

#define OAUTH_TOKEN_PATH "/oauth2/v1/token"
#define OAUTH_ASSERTION_LIFETIME 240     /* s; Okta accepts at most 5 min */
#define OAUTH_RENEW_MARGIN 60            /* s before expires_in runs out */
#define OAUTH_GRANT_ATTEMPTS 3           /* a missing proof, then a nonce */

struct oauth {
	char *client_id, *key_id, *scopes;
	EVP_PKEY *key;
	char key_desc[64];
	struct dpop *dpop;           /* the process's (process_dpop) */
	int dpop_on;                 /* the app requires DPoP (learnt) */

	char *token;                 /* NULL: none yet, or dropped */
	int token_dpop;              /* token_type DPoP, else Bearer */
	long long renew_at_ms;       /* monotonic */
	int refused_in_row;          /* 401s since the last other answer */

	char as_nonce[256];          /* the token endpoint's DPoP nonce */
	char rs_nonce[256];          /* the API's */
	char granted[1024];
	char error[64];              /* the token endpoint's "error" */
};

static void
drop_token(struct oauth *oa)
{
	jwt_free(oa->token);
	oa->token = NULL;
}

/* The DPoP key is made once per process (the daemon runs many syncs) and
 * lives in its memory only, until the process ends. */
static struct dpop *
process_dpop(char *err, size_t errlen)
{
	static struct dpop *d;

	if (d == NULL)
		d = dpop_new(err, errlen);
	return d;
}

struct oauth *
oauth_new(const struct config *c, char *err, size_t errlen)
{
	struct oauth *oa;
	const char *alg;

	if (c->client_id == NULL || c->private_key_file == NULL) {
		snprintf(err, errlen, "[okta] auth = oauth needs client_id and private_key_file");
		return NULL;
	}
	oa = xcalloc(1, sizeof(*oa));
	oa->key = secret_key_load(c->private_key_file, "private key file", err,
	    errlen);
	if (oa->key == NULL)
		goto fail;
	alg = jwt_alg(oa->key);
	if (alg == NULL) {
		snprintf(err, errlen, "the private key in %s is neither RSA nor EC P-256; "
		    "Okta's service apps sign with RS256 or ES256", c->private_key_file);
		goto fail;
	}
	if (EVP_PKEY_is_a(oa->key, "RSA")) {
		if (EVP_PKEY_get_bits(oa->key) < 2048) {
			snprintf(err, errlen, "the RSA key in %s has %d bits; Okta needs "
			    "at least 2048", c->private_key_file, EVP_PKEY_get_bits(oa->key));
			goto fail;
		}
		snprintf(oa->key_desc, sizeof(oa->key_desc), "RSA %d bits, %s",
		    EVP_PKEY_get_bits(oa->key), alg);
	} else {
		snprintf(oa->key_desc, sizeof(oa->key_desc), "EC P-256, %s", alg);
	}
	oa->dpop = process_dpop(err, errlen);
	if (oa->dpop == NULL)
		goto fail;
	oa->client_id = xstrdup(c->client_id);
	oa->key_id = c->key_id != NULL ? xstrdup(c->key_id) : NULL;
	oa->scopes = xstrdup(c->scopes != NULL ? c->scopes : "okta.users.read okta.groups.read");
	return oa;
fail:
	oauth_free(oa);
	return NULL;
}

void
oauth_free(struct oauth *oa)
{
	if (oa == NULL)
		return;
	drop_token(oa);
	EVP_PKEY_free(oa->key);
	free(oa->client_id);
	free(oa->key_id);
	free(oa->scopes);
	explicit_bzero(oa, sizeof(*oa));
	free(oa);
}

/* The client assertion: a fresh JWT (its own jti) for each grant. */
static char *
make_assertion(struct oauth *oa, const char *aud, char *err, size_t errlen)
{
	json_object *hdr = json_object_new_object(), *cl = json_object_new_object();
	char jti[32], *jwt = NULL;
	int64_t now = (int64_t)time(NULL);

	if (jwt_random_id(jti) != 0) {
		snprintf(err, errlen, "no random bytes for the assertion's jti");
		goto out;
	}
	json_object_object_add(hdr, "typ", json_object_new_string("JWT"));
	if (oa->key_id != NULL)
		json_object_object_add(hdr, "kid", json_object_new_string(oa->key_id));
	json_object_object_add(cl, "iss", json_object_new_string(oa->client_id));
	json_object_object_add(cl, "sub", json_object_new_string(oa->client_id));
	json_object_object_add(cl, "aud", json_object_new_string(aud));
	json_object_object_add(cl, "iat", json_object_new_int64(now));
	json_object_object_add(cl, "exp", json_object_new_int64(now + OAUTH_ASSERTION_LIFETIME));
	json_object_object_add(cl, "jti", json_object_new_string(jti));
	jwt = jwt_sign(oa->key, hdr, cl, err, errlen);
out:
	json_object_put(hdr);
	json_object_put(cl);
	return jwt;
}

/* The form body of the grant; malloc'd, wiped by okta_post_form. */
static char *
make_form(const struct oauth *oa, const char *assertion)
{
	char *scope = curl_easy_escape(NULL, oa->scopes, 0), *form;

	if (scope == NULL)
		return NULL;
	form = xasprintf("grant_type=client_credentials&scope=%s"
	    "&client_assertion_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3A"
	    "client-assertion-type%%3Ajwt-bearer&client_assertion=%s",
	    scope, assertion);
	curl_free(scope);
	return form;
}

/* A string member of o, sanitized into out ("" when absent). */
static void
member(json_object *o, const char *name, char *out, size_t outlen)
{
	json_object *v;
	const char *s;

	out[0] = '\0';
	if (o != NULL && json_object_object_get_ex(o, name, &v) &&
	    json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		okta_sanitize(out, outlen, s, strlen(s));
	}
}

/* What to check, by the token endpoint's error. */
static const char *
grant_hint(const char *error)
{
	if (strcmp(error, "invalid_client") == 0)
		return "check [okta] client_id, and that the app's public key in Okta "
		    "(Applications > the app > General > Public keys) is the one of "
		    "[okta] private_key_file (and key_id, when set)";
	if (strcmp(error, "invalid_scope") == 0 || strcmp(error, "access_denied") == 0)
		return "grant the scopes of [okta] scopes to the app in Okta "
		    "(Applications > the app > Okta API Scopes)";
	if (strcmp(error, "unauthorized_client") == 0)
		return "the app must be an API Services app allowed the Client "
		    "Credentials grant";
	if (strcmp(error, "invalid_dpop_proof") == 0)
		return "Okta refused the DPoP proof; check that this host's clock is right";
	return "see the app's settings in Okta";
}

/* Take the token response: access_token, token_type, expires_in, scope.
 * The body is wiped here, whatever it held. */
static okerr
take_token(struct oauth *oa, struct okta_client *oc, json_object *o)
{
	json_object *v;
	const char *type = "";
	long long exp = 3600, margin;
	size_t i;

	if (!json_object_object_get_ex(o, "access_token", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) == 0 || json_object_get_string_len(v) > 8192) {
		okta_set_error(oc, "POST " OAUTH_TOKEN_PATH ": the answer holds no access_token");
		return OK_ERR_PROTOCOL;
	}
	drop_token(oa);
	oa->token = xstrdup(json_object_get_string(v));
	/* Into a header line: no spaces, no control characters. */
	for (i = 0; oa->token[i] != '\0'; i++)
		if ((unsigned char)oa->token[i] <= 0x20 || (unsigned char)oa->token[i] >= 0x7f) {
			drop_token(oa);
			okta_set_error(oc, "POST " OAUTH_TOKEN_PATH ": the access_token "
			    "holds characters no token has");
			return OK_ERR_PROTOCOL;
		}
	if (json_object_object_get_ex(o, "token_type", &v) &&
	    json_object_is_type(v, json_type_string))
		type = json_object_get_string(v);
	oa->token_dpop = strcasecmp(type, "DPoP") == 0;
	if (oa->token_dpop && !oa->dpop_on) {
		drop_token(oa);
		okta_set_error(oc, "POST " OAUTH_TOKEN_PATH ": a DPoP-bound token "
		    "came without a DPoP proof having been sent");
		return OK_ERR_PROTOCOL;
	}
	if (json_object_object_get_ex(o, "expires_in", &v) &&
	    json_object_is_type(v, json_type_int))
		exp = json_object_get_int64(v);
	if (exp < 1)
		exp = 1;
	if (exp > 86400)
		exp = 86400;
	/* Okta's tokens live an hour; a short-lived one is renewed at half
	 * time. */
	margin = exp > 2 * OAUTH_RENEW_MARGIN ? OAUTH_RENEW_MARGIN : exp / 2;
	oa->renew_at_ms = okta_mono_ms() + (exp - margin) * 1000;
	member(o, "scope", oa->granted, sizeof(oa->granted));
	debug_f("access token (%s) for %lld s, scopes %s", oa->token_dpop ? "DPoP" :
	    "Bearer", exp, oa->granted);
	return OK_SUCCESS;
}

/* Wipe every string of a parsed answer that may hold the token. */
static void
wipe_json(json_object *o)
{
	json_object *v;

	if (o != NULL && json_object_object_get_ex(o, "access_token", &v) &&
	    json_object_is_type(v, json_type_string))
		explicit_bzero((char *)json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
}

/* One token request across its attempts: what each attempt sent that must
 * be wiped, and what the latest answer said. */
struct grant {
	char *aud;                   /* the token endpoint's URL */
	char *hdr;                   /* "DPoP: proof", NULL without DPoP */
	struct curl_slist *extra;    /* holding hdr */
	json_object *o;              /* the latest answer, parsed; NULL none */
	const struct okta_headers *h;
	long status;
	char error[64], desc[256];   /* its OAuth error, sanitized */
};

/* The DPoP line for the next attempt, into g->hdr and g->extra. */
static okerr
add_dpop_proof(struct oauth *oa, struct okta_client *oc, struct grant *g)
{
	char err[256], *proof;

	proof = dpop_proof(oa->dpop, "POST", g->aud, oa->as_nonce, NULL, err,
	    sizeof(err));
	if (proof == NULL) {
		okta_set_error(oc, "cannot build the DPoP proof: %s", err);
		return OK_ERR_INTERNAL;
	}
	g->hdr = xasprintf("DPoP: %s", proof);
	jwt_free(proof);
	g->extra = curl_slist_append(NULL, g->hdr);
	if (g->extra == NULL) {
		okta_set_error(oc, "out of memory");
		return OK_ERR_INTERNAL;
	}
	return OK_SUCCESS;
}

/* The form of the next attempt into *form (a fresh assertion), and its
 * DPoP line when the app requires DPoP; the previous attempt's let go. */
static okerr
build_grant(struct oauth *oa, struct okta_client *oc, struct grant *g,
    char **form)
{
	char err[256], *assertion;
	okerr rc;

	curl_slist_free_all(g->extra);
	g->extra = NULL;
	jwt_free(g->hdr);
	g->hdr = NULL;
	assertion = make_assertion(oa, g->aud, err, sizeof(err));
	*form = assertion != NULL ? make_form(oa, assertion) : NULL;
	jwt_free(assertion);
	if (*form == NULL) {
		okta_set_error(oc, "cannot build the client assertion: %s", err);
		return OK_ERR_INTERNAL;
	}
	if (oa->dpop_on && (rc = add_dpop_proof(oa, oc, g)) != OK_SUCCESS) {
		jwt_free(*form);
		return rc;
	}
	return OK_SUCCESS;
}

/* POST form (wiped and freed here) and take in the answer: its DPoP
 * nonce, its status and its body, parsed into g->o and wiped. */
static okerr
send_grant(struct oauth *oa, struct okta_client *oc, struct grant *g,
    char *form)
{
	char *body;
	size_t len;
	okerr rc;

	rc = okta_post_form(oc, OAUTH_TOKEN_PATH, form, g->extra, &g->status,
	    &body, &len, &g->h);
	free(form);
	if (g->extra != NULL)
		explicit_bzero(g->extra->data, strlen(g->extra->data));
	if (rc != OK_SUCCESS)
		return rc;
	if (g->h->dpop_nonce[0] != '\0')
		snprintf(oa->as_nonce, sizeof(oa->as_nonce), "%s", g->h->dpop_nonce);
	json_object_put(g->o);
	g->o = body != NULL && len > 0 ? json_tokener_parse(body) : NULL;
	if (body != NULL)
		explicit_bzero(body, len);
	return OK_SUCCESS;
}

/* The OAuth error of a refused grant, into g and oa->error. */
static void
read_grant_error(struct oauth *oa, struct grant *g)
{
	member(g->o, "error", g->error, sizeof(g->error));
	member(g->o, "error_description", g->desc, sizeof(g->desc));
	if (g->desc[0] != '\0' && g->desc[strlen(g->desc) - 1] == '.')
		g->desc[strlen(g->desc) - 1] = '\0';
	snprintf(oa->error, sizeof(oa->error), "%s", g->error);
}

/* Whether the refusal only asks for DPoP (a proof, or a nonce in it):
 * then DPoP is on and the grant is worth another attempt. */
static int
grant_wants_dpop(struct oauth *oa, const struct grant *g)
{
	if (g->status == 400 && strcmp(g->error, "use_dpop_nonce") == 0 &&
	    g->h->dpop_nonce[0] != '\0') {
		debug_f("the token endpoint asks for a DPoP nonce");
		oa->dpop_on = 1;
		return 1;
	}
	if (g->status == 400 && strcmp(g->error, "invalid_dpop_proof") == 0 &&
	    !oa->dpop_on) {
		debug_f("the app requires DPoP");
		oa->dpop_on = 1;
		return 1;
	}
	return 0;
}

/* A grant refused for good: say why and what to check, and map it. */
static okerr
grant_refused(struct okta_client *oc, const struct grant *g)
{
	if (g->status >= 200 && g->status <= 299)
		okta_set_error(oc, "POST " OAUTH_TOKEN_PATH ": %ld, an answer "
		    "that is not a token", g->status);
	else
		okta_set_error(oc, "POST " OAUTH_TOKEN_PATH ": %ld %s%s%s; %s",
		    g->status, g->error[0] ? g->error : "(no OAuth error)",
		    g->desc[0] ? ": " : "", g->desc, grant_hint(g->error));
	return g->status == 403 || strcmp(g->error, "invalid_scope") == 0 ||
	    strcmp(g->error, "access_denied") == 0 ? OK_ERR_FORBIDDEN :
	    g->status >= 500 ? OK_ERR_SERVER :
	    g->status == 401 || g->status == 400 ? OK_ERR_AUTH : OK_ERR_PROTOCOL;
}

okerr
oauth_request_token(struct oauth *oa, struct okta_client *oc)
{
	struct grant g;
	char *form;
	int attempt;
	okerr rc;

	memset(&g, 0, sizeof(g));
	oa->error[0] = '\0';
	g.aud = xasprintf("%s" OAUTH_TOKEN_PATH, okta_base_url(oc));
	for (attempt = 1; attempt <= OAUTH_GRANT_ATTEMPTS; attempt++) {
		if ((rc = build_grant(oa, oc, &g, &form)) != OK_SUCCESS ||
		    (rc = send_grant(oa, oc, &g, form)) != OK_SUCCESS)
			goto out;
		if (g.status == 200 && g.o != NULL) {
			rc = take_token(oa, oc, g.o);
			goto out;
		}
		read_grant_error(oa, &g);
		if (grant_wants_dpop(oa, &g))
			continue;
		rc = grant_refused(oc, &g);
		goto out;
	}
	okta_set_error(oc, "POST " OAUTH_TOKEN_PATH ": still refused after %d "
	    "attempts (%s)", OAUTH_GRANT_ATTEMPTS, oa->error);
	rc = OK_ERR_AUTH;
out:
	wipe_json(g.o);
	json_object_put(g.o);
	if (g.extra != NULL)
		explicit_bzero(g.extra->data, strlen(g.extra->data));
	curl_slist_free_all(g.extra);
	jwt_free(g.hdr);
	free(g.aud);
	return rc;
}

/* --- okta_auth_ops ------------------------------------------------------ */

static okerr
oauth_prepare(void *ctx, struct okta_client *oc)
{
	struct oauth *oa = ctx;
	const char *missing;
	okerr rc;

	if (oa->token != NULL && okta_mono_ms() < oa->renew_at_ms)
		return OK_SUCCESS;
	if (oa->token != NULL)
		debug_f("the access token expires soon; renewing it");
	rc = oauth_request_token(oa, oc);
	if (rc != OK_SUCCESS)
		return rc;
	missing = oauth_missing_scope(oa);
	if (missing != NULL) {
		okta_set_error(oc, "Okta granted the OAuth app the scopes \"%s\" but "
		    "not %s; grant it in Okta (Applications > the app > Okta API "
		    "Scopes)", oa->granted, missing);
		drop_token(oa);
		return OK_ERR_FORBIDDEN;
	}
	return OK_SUCCESS;
}

static int
append(struct curl_slist **hl, char *line)
{
	struct curl_slist *n = curl_slist_append(*hl, line);

	jwt_free(line);
	if (n == NULL)
		return -1;
	*hl = n;
	return 0;
}

static int
oauth_headers(void *ctx, const char *method, const char *url,
    struct curl_slist **hl)
{
	struct oauth *oa = ctx;
	char err[256], *proof, *line;

	if (oa->token == NULL)
		return -1;
	if (!oa->token_dpop)
		return append(hl, xasprintf("Authorization: Bearer %s", oa->token));
	proof = dpop_proof(oa->dpop, method, url, oa->rs_nonce, oa->token, err,
	    sizeof(err));
	if (proof == NULL) {
		warn_f("cannot build the DPoP proof: %s", err);
		return -1;
	}
	if (append(hl, xasprintf("Authorization: DPoP %s", oa->token)) != 0) {
		jwt_free(proof);
		return -1;
	}
	line = xasprintf("DPoP: %s", proof);
	jwt_free(proof);
	return append(hl, line);
}

/*
 * After each answer: remember the API's DPoP nonce; on a 401 that asks
 * for a nonce, send the page again with it; on another 401 (the token
 * expired or was revoked, invalid_token), renew the token once and send
 * the page again.  A second 401 in a row ends the request.
 */
static int
oauth_after(void *ctx, struct okta_client *oc, long status,
    const struct okta_headers *h)
{
	struct oauth *oa = ctx;
	int nonce_changed = 0;

	(void)oc;
	if (h->dpop_nonce[0] != '\0' && strcmp(h->dpop_nonce, oa->rs_nonce) != 0) {
		snprintf(oa->rs_nonce, sizeof(oa->rs_nonce), "%s", h->dpop_nonce);
		nonce_changed = 1;
	}
	if (status != 401) {
		oa->refused_in_row = 0;
		return 0;
	}
	if (++oa->refused_in_row > 2)
		return 0;
	if (oa->token_dpop && strstr(h->www_authenticate, "use_dpop_nonce") != NULL) {
		debug_f("the API asks for a new DPoP nonce");
		return nonce_changed;
	}
	if (oa->refused_in_row > 1)
		return 0;
	debug_f("the access token was refused (%s); renewing it",
	    strstr(h->www_authenticate, "invalid_token") != NULL ?
	    "invalid_token" : "401");
	drop_token(oa);
	return 1;
}

static void
oauth_release(void *ctx)
{
	oauth_free(ctx);
}

static const struct okta_auth_ops oauth_ops = {
	.prepare = oauth_prepare,
	.headers = oauth_headers,
	.after = oauth_after,
	.release = oauth_release,
};

void
oauth_attach(struct oauth *oa, struct okta_client *oc)
{
	okta_set_auth(oc, &oauth_ops, oa);
}

const char *
oauth_key_description(const struct oauth *oa)
{
	return oa->key_desc;
}

const char *
oauth_granted_scopes(const struct oauth *oa)
{
	return oa->granted;
}

/* Whether the space-separated list has the word w (NUL-terminated). */
static int
has_word(const char *list, const char *w)
{
	const char *p = list;
	size_t wlen = strlen(w);

	while ((p = strstr(p, w)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[wlen] == '\0' || p[wlen] == ' '))
			return 1;
		p++;
	}
	return 0;
}

const char *
oauth_missing_scope(const struct oauth *oa)
{
	static char missing[128];
	const char *p = oa->scopes;
	size_t n;

	while (*p != '\0') {
		n = strcspn(p, " ");
		snprintf(missing, sizeof(missing), "%.*s", (int)n, p);
		if (n > 0 && !has_word(oa->granted, missing))
			return missing;
		p += n;
		while (*p == ' ')
			p++;
	}
	return NULL;
}

int
oauth_dpop_required(const struct oauth *oa)
{
	return oa->dpop_on;
}

const char *
oauth_error(const struct oauth *oa)
{
	return oa->error;
}
