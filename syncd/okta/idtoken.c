/*
 * idtoken.c - ID token verification against a cached JWKS (see
 * idtoken.h for the rules a token must pass).
 *
 * JSON is json-c through okta_parse_json (strict, nothing after the
 * value); base64url, the RSA keys and the signature are libcrypto's
 * (EVP_DecodeBlock, EVP_PKEY_fromdata, EVP_DigestVerify).  Every part of
 * the token and of the JWKS is untrusted: sizes are bounded, every type
 * is checked, and no message repeats what the token holds.
 *
 * The cache lock is held while fetching, so that logins arriving while
 * the keys are fetched wait for that one fetch instead of each making
 * their own.  Keys are reference-counted EVP_PKEYs: a verify holds its
 * own reference, so a refetch may replace the set under it.
 */
#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idtoken.h"
#include "okta.h"

#define RSA_MIN_BITS 2048
#define JWKS_MAX_KEYS 64
#define JWKS_MAX_BYTES (1024 * 1024)
#define KID_MAX 256

/* One key of the JWKS, by kid.  pkey NULL: named but unusable, why says
 * so (the message then says what is wrong with the key, not "unknown"). */
struct jwks_key {
	char kid[KID_MAX];
	EVP_PKEY *pkey;
	const char *why;
};

struct jwks_cache {
	pthread_mutex_t mu;
	struct jwks_key *keys;
	size_t nkeys;
	int fetched;              /* the keys have been fetched once */
	time_t expires;           /* fetch again from then on */
	int refetched;            /* an unknown kid made a refetch ... */
	time_t refetched_at;      /* ... at this time */
};

struct jwks_cache *
jwks_cache_new(void)
{
	struct jwks_cache *jc = calloc(1, sizeof(*jc));

	if (jc == NULL)
		return NULL;
	if (pthread_mutex_init(&jc->mu, NULL) != 0) {
		free(jc);
		return NULL;
	}
	return jc;
}

static void
keys_free(struct jwks_key *keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		EVP_PKEY_free(keys[i].pkey);
	free(keys);
}

void
jwks_cache_free(struct jwks_cache *jc)
{
	if (jc == NULL)
		return;
	keys_free(jc->keys, jc->nkeys);
	pthread_mutex_destroy(&jc->mu);
	free(jc);
}

/*
 * base64url (RFC 7515 section 2: no padding) of s[0..n) into a malloc'd
 * buffer, its length in *outlen.  NULL when s holds anything outside the
 * alphabet or has an impossible length.
 */
static unsigned char *
b64url_decode(const char *s, size_t n, size_t *outlen)
{
	unsigned char *in, *out;
	size_t i, pad, inlen;
	int len;

	if (n == 0 || n % 4 == 1 || n > IDTOKEN_MAX_LEN * 2)
		return NULL;
	pad = (4 - n % 4) % 4;
	inlen = n + pad;
	in = malloc(inlen + 1);
	out = malloc(inlen / 4 * 3 + 1);
	if (in == NULL || out == NULL) {
		free(in);
		free(out);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9'))) {
			free(in);
			free(out);
			return NULL;
		}
		in[i] = (unsigned char)c;
	}
	memset(in + n, '=', pad);
	in[inlen] = '\0';
	len = EVP_DecodeBlock(out, in, (int)inlen);
	free(in);
	/* EVP_DecodeBlock counts the bytes the padding stands for. */
	if (len < 0 || (size_t)len < pad) {
		free(out);
		return NULL;
	}
	*outlen = (size_t)len - pad;
	return out;
}

/* One base64url part holding a JSON object: the object, or NULL. */
static json_object *
decode_json_part(const char *s, size_t n)
{
	unsigned char *raw;
	size_t len;
	json_object *o;
	int oom;

	if ((raw = b64url_decode(s, n, &len)) == NULL)
		return NULL;
	o = okta_parse_json((const char *)raw, len, &oom);
	free(raw);
	if (o != NULL && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

static const char *
get_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* obj[key] is a string equal to want, byte for byte (an embedded NUL
 * makes it differ). */
static int
str_is(json_object *v, const char *want)
{
	return v != NULL && json_object_is_type(v, json_type_string) &&
	    (size_t)json_object_get_string_len(v) == strlen(want) &&
	    strcmp(json_object_get_string(v), want) == 0;
}

static int
member_is(json_object *o, const char *key, const char *want)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && str_is(v, want);
}

/* An integer claim: 1 with *out, 0 absent, -1 present but not an integer. */
static int
get_int(json_object *o, const char *key, long long *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return -1;
	*out = (long long)json_object_get_int64(v);
	return 1;
}

/* A big-endian unsigned integer member (n or e) of a JWK, or NULL. */
static BIGNUM *
jwk_bn(json_object *jwk, const char *key)
{
	const char *s = get_str(jwk, key);
	unsigned char *raw;
	size_t len;
	BIGNUM *bn;

	if (s == NULL || (raw = b64url_decode(s, strlen(s), &len)) == NULL)
		return NULL;
	bn = BN_bin2bn(raw, (int)len, NULL);
	free(raw);
	return bn;
}

/* The RSA public key (n, e) of jwk, or NULL with why set. */
static EVP_PKEY *
jwk_rsa(json_object *jwk, const char **why)
{
	BIGNUM *n = jwk_bn(jwk, "n"), *e = jwk_bn(jwk, "e");
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (n == NULL || e == NULL) {
		*why = "its n or e is not base64url";
		goto out;
	}
	if (BN_num_bits(n) < RSA_MIN_BITS) {
		*why = "its modulus is shorter than 2048 bits";
		goto out;
	}
	*why = "libcrypto cannot build an RSA key from it";
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pkey;
}

/*
 * Parse a JWKS body into keys (malloc'd, *n of them).  0, or -1 with err
 * when the body is not a JWKS at all.  Keys without a kid are skipped
 * (a token must name its key); unusable keys are kept with their reason.
 */
static int
parse_jwks(const char *body, size_t len, struct jwks_key **out, size_t *n,
    char *err, size_t errlen)
{
	json_object *doc, *arr, *jwk;
	struct jwks_key *keys;
	const char *kid, *kty, *use, *alg;
	size_t i, count, k = 0;
	int oom;

	*out = NULL;
	*n = 0;
	doc = len <= JWKS_MAX_BYTES ? okta_parse_json(body, len, &oom) : NULL;
	if (doc == NULL || !json_object_is_type(doc, json_type_object) ||
	    !json_object_object_get_ex(doc, "keys", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		snprintf(err, errlen, "the authorization server's keys endpoint "
		    "did not send a JWKS (a JSON object with a \"keys\" array)");
		json_object_put(doc);
		return -1;
	}
	count = json_object_array_length(arr);
	if (count > JWKS_MAX_KEYS)
		count = JWKS_MAX_KEYS;
	keys = calloc(count ? count : 1, sizeof(*keys));
	if (keys == NULL) {
		snprintf(err, errlen, "out of memory reading the JWKS");
		json_object_put(doc);
		return -1;
	}
	for (i = 0; i < count; i++) {
		jwk = json_object_array_get_idx(arr, i);
		if (jwk == NULL || !json_object_is_type(jwk, json_type_object) ||
		    (kid = get_str(jwk, "kid")) == NULL || *kid == '\0' ||
		    strlen(kid) >= KID_MAX)
			continue;
		snprintf(keys[k].kid, sizeof(keys[k].kid), "%s", kid);
		kty = get_str(jwk, "kty");
		use = get_str(jwk, "use");
		alg = get_str(jwk, "alg");
		if (kty == NULL || strcmp(kty, "RSA") != 0)
			keys[k].why = "it is not an RSA key";
		else if (json_object_object_get_ex(jwk, "use", NULL) &&
		    (use == NULL || strcmp(use, "sig") != 0))
			keys[k].why = "its use is not \"sig\"";
		else if (json_object_object_get_ex(jwk, "alg", NULL) &&
		    (alg == NULL || strcmp(alg, "RS256") != 0))
			keys[k].why = "its alg is not RS256";
		else
			keys[k].pkey = jwk_rsa(jwk, &keys[k].why);
		k++;
	}
	json_object_put(doc);
	*out = keys;
	*n = k;
	return 0;
}

/* Fetch the JWKS into jc (lock held).  0, or -1 with err. */
static int
fetch_keys(struct jwks_cache *jc, jwks_fetch_fn fetch, void *ctx,
    time_t now, char *err, size_t errlen)
{
	char *body = NULL, why[256] = "";
	size_t len = 0, n;
	long max_age = -1;
	struct jwks_key *keys;
	int rc;

	rc = fetch(ctx, &body, &len, &max_age, why, sizeof(why));
	if (rc != 0 || body == NULL) {
		snprintf(err, errlen, "cannot fetch the authorization server's "
		    "keys (JWKS): %s", why[0] ? why : "no body");
		free(body);
		return -1;
	}
	rc = parse_jwks(body, len, &keys, &n, err, errlen);
	free(body);
	if (rc != 0)
		return -1;
	keys_free(jc->keys, jc->nkeys);
	jc->keys = keys;
	jc->nkeys = n;
	jc->fetched = 1;
	if (max_age < 0)
		max_age = IDTOKEN_JWKS_DEFAULT_AGE;
	else if (max_age < IDTOKEN_JWKS_MIN_AGE)
		max_age = IDTOKEN_JWKS_MIN_AGE;
	else if (max_age > IDTOKEN_JWKS_MAX_AGE)
		max_age = IDTOKEN_JWKS_MAX_AGE;
	jc->expires = now + max_age;
	return 0;
}

static struct jwks_key *
find_key(struct jwks_cache *jc, const char *kid)
{
	size_t i;

	for (i = 0; i < jc->nkeys; i++)
		if (strcmp(jc->keys[i].kid, kid) == 0)
			return &jc->keys[i];
	return NULL;
}

/*
 * The key named kid, with a reference of the caller's in *pkey.
 * IDTOKEN_OK, IDTOKEN_INVALID (unknown after the one refetch allowed, or
 * unusable) or IDTOKEN_UNAVAILABLE, with err.
 */
static enum idtoken_result
lookup_key(struct jwks_cache *jc, jwks_fetch_fn fetch, void *ctx,
    const char *kid, time_t now, EVP_PKEY **pkey, char *err, size_t errlen)
{
	struct jwks_key *k;
	enum idtoken_result r = IDTOKEN_INVALID;
	int fresh = 0;

	*pkey = NULL;
	pthread_mutex_lock(&jc->mu);
	if (!jc->fetched || now >= jc->expires) {
		if (fetch_keys(jc, fetch, ctx, now, err, errlen) != 0) {
			r = IDTOKEN_UNAVAILABLE;
			goto out;
		}
		fresh = 1;
	}
	k = find_key(jc, kid);
	/* Okta rotates keys: a new kid may be published before our cache
	 * expires.  One refetch a minute at most, however many forged kids
	 * arrive (and none when the keys were fetched just now). */
	if (k == NULL && !fresh && (!jc->refetched ||
	    now - jc->refetched_at >= IDTOKEN_REFETCH_SECONDS)) {
		jc->refetched = 1;
		jc->refetched_at = now;
		if (fetch_keys(jc, fetch, ctx, now, err, errlen) != 0) {
			r = IDTOKEN_UNAVAILABLE;
			goto out;
		}
		k = find_key(jc, kid);
	}
	if (k == NULL)
		snprintf(err, errlen, "ID token is signed with a key (kid) the "
		    "authorization server does not publish");
	else if (k->pkey == NULL)
		snprintf(err, errlen, "ID token is signed with a JWKS key that "
		    "is refused: %s", k->why);
	else if (EVP_PKEY_up_ref(k->pkey) != 1)
		snprintf(err, errlen, "libcrypto cannot reference the JWKS key");
	else {
		*pkey = k->pkey;
		r = IDTOKEN_OK;
	}
out:
	pthread_mutex_unlock(&jc->mu);
	return r;
}

/* RS256 over input[0..n) with sig[0..siglen).  1 verifies, 0 not. */
static int
verify_rs256(EVP_PKEY *pkey, const char *input, size_t n,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	ok = md != NULL &&
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1 &&
	    EVP_DigestVerify(md, sig, siglen, (const unsigned char *)input,
	    n) == 1;
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok;
}

/* aud is client_id, or an array that holds it. */
static int
aud_ok(json_object *claims, const char *client_id)
{
	json_object *aud, *v;
	size_t i, n;

	if (!json_object_object_get_ex(claims, "aud", &aud) || aud == NULL)
		return 0;
	if (json_object_is_type(aud, json_type_string))
		return str_is(aud, client_id);
	if (!json_object_is_type(aud, json_type_array))
		return 0;
	n = json_object_array_length(aud);
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(aud, i);
		if (str_is(v, client_id))
			return 1;
	}
	return 0;
}

/* The claims checks after the signature.  0, or -1 with err. */
static int
check_claims(json_object *claims, const char *issuer, const char *client_id,
    const char *expected_sub, time_t now, struct idtoken_claims *out,
    char *err, size_t errlen)
{
	long long exp = 0, iat = 0, auth_time = 0;

	if (!member_is(claims, "iss", issuer)) {
		snprintf(err, errlen, "ID token is not from the issuer %s",
		    issuer);
		return -1;
	}
	if (!aud_ok(claims, client_id)) {
		snprintf(err, errlen, "ID token is not for the client %s",
		    client_id);
		return -1;
	}
	if (get_int(claims, "exp", &exp) != 1 ||
	    get_int(claims, "iat", &iat) != 1) {
		snprintf(err, errlen, "ID token has no exp or iat as integers");
		return -1;
	}
	if (exp <= (long long)now - IDTOKEN_SKEW_SECONDS) {
		snprintf(err, errlen, "ID token has expired");
		return -1;
	}
	if (iat > (long long)now + IDTOKEN_SKEW_SECONDS) {
		snprintf(err, errlen, "ID token is issued in the future (is "
		    "this host's clock right?)");
		return -1;
	}
	if (get_int(claims, "auth_time", &auth_time) < 0) {
		snprintf(err, errlen, "ID token has an auth_time that is not "
		    "an integer");
		return -1;
	}
	if (!member_is(claims, "sub", expected_sub) ||
	    strlen(expected_sub) >= sizeof(out->sub)) {
		snprintf(err, errlen, "ID token is for another Okta user");
		return -1;
	}
	snprintf(out->sub, sizeof(out->sub), "%s", expected_sub);
	out->exp = exp;
	out->iat = iat;
	out->auth_time = auth_time;
	return 0;
}

enum idtoken_result
idtoken_verify(struct jwks_cache *jc, jwks_fetch_fn fetch, void *fetch_ctx,
    const char *token, const char *issuer, const char *client_id,
    const char *expected_sub, time_t now, struct idtoken_claims *out,
    char *err, size_t errlen)
{
	const char *dot1, *dot2, *alg, *kid;
	json_object *header = NULL, *claims = NULL;
	unsigned char *sig = NULL;
	size_t len, siglen = 0;
	EVP_PKEY *pkey = NULL;
	enum idtoken_result r = IDTOKEN_INVALID;

	memset(out, 0, sizeof(*out));
	if (token == NULL || issuer == NULL || client_id == NULL ||
	    expected_sub == NULL || *expected_sub == '\0') {
		snprintf(err, errlen, "no ID token to check");
		return IDTOKEN_INVALID;
	}
	len = strnlen(token, IDTOKEN_MAX_LEN + 1);
	if (len > IDTOKEN_MAX_LEN) {
		snprintf(err, errlen, "ID token is longer than %d bytes",
		    IDTOKEN_MAX_LEN);
		return IDTOKEN_INVALID;
	}
	dot1 = memchr(token, '.', len);
	dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 -
	    token)) : NULL;
	if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 -
	    token)) != NULL ||
	    (header = decode_json_part(token, (size_t)(dot1 - token))) == NULL ||
	    (claims = decode_json_part(dot1 + 1, (size_t)(dot2 - dot1 - 1))) ==
	    NULL) {
		snprintf(err, errlen, "ID token is malformed (not three "
		    "base64url parts, header and claims JSON objects)");
		goto out;
	}
	/* Only RS256: "none" and HS256 (keyed with the public key) are the
	 * classic ways to forge a token past a lax verifier. */
	alg = get_str(header, "alg");
	if (alg == NULL || strcmp(alg, "RS256") != 0) {
		snprintf(err, errlen, "ID token is not signed with RS256");
		goto out;
	}
	/* RFC 7515 4.1.11: extensions we do not implement must not be
	 * ignored. */
	if (json_object_object_get_ex(header, "crit", NULL)) {
		snprintf(err, errlen, "ID token header has critical extensions "
		    "(crit) this verifier does not know");
		goto out;
	}
	kid = get_str(header, "kid");
	if (kid == NULL || *kid == '\0' || strlen(kid) >= KID_MAX) {
		snprintf(err, errlen, "ID token header names no key (kid)");
		goto out;
	}
	sig = b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - token),
	    &siglen);
	if (sig == NULL || siglen == 0) {
		snprintf(err, errlen, "ID token is malformed (its signature "
		    "is not base64url)");
		goto out;
	}
	r = lookup_key(jc, fetch, fetch_ctx, kid, now, &pkey, err, errlen);
	if (r != IDTOKEN_OK)
		goto out;
	r = IDTOKEN_INVALID;
	if (!verify_rs256(pkey, token, (size_t)(dot2 - token), sig, siglen)) {
		snprintf(err, errlen, "ID token signature does not verify");
		goto out;
	}
	if (check_claims(claims, issuer, client_id, expected_sub, now, out,
	    err, errlen) != 0)
		goto out;
	r = IDTOKEN_OK;
out:
	if (r != IDTOKEN_OK)
		memset(out, 0, sizeof(*out));
	EVP_PKEY_free(pkey);
	free(sig);
	json_object_put(header);
	json_object_put(claims);
	return r;
}
