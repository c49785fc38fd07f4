/* test_idtoken.c - ID token verification (syncd/okta/idtoken.h): the good
 * token, every refusal kind, and the JWKS cache (max-age, one refetch a
 * minute for an unknown kid).  Tokens are signed with jwt_sign (jwt.h) by
 * RSA keys libcrypto makes here; the JWKS is served by a fetch callback
 * that counts its calls. */
#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testlib.h"
#include "idtoken.h"
#include "jwt.h"

#define ISS "https://org.example.com/oauth2/default"
#define CID "0oaclient"
#define SUB "00ujane"
#define T0 ((time_t)1800000000)

static EVP_PKEY *key1, *key2, *small;

/* What the fake keys endpoint serves. */
struct fake {
	const char *body;
	long max_age;
	int fail;
	int calls;
	int wait_threads;    /* >0: the fetch waits (with a deadline) until
	                      * that many threads have started verifying */
};

static int thr_started;

static int
fake_fetch(void *ctx, char **body, size_t *len, long *max_age, char *err,
    size_t errlen)
{
	struct fake *f = ctx;

	__atomic_add_fetch(&f->calls, 1, __ATOMIC_SEQ_CST);
	if (f->wait_threads > 0) {
		struct timespec ms = { 0, 1000000 };
		int i;

		/* Poll, 5 s at most: the others are then inside
		 * idtoken_verify, blocked on the cache or fetching too. */
		for (i = 0; i < 5000 && __atomic_load_n(&thr_started,
		    __ATOMIC_SEQ_CST) < f->wait_threads; i++)
			nanosleep(&ms, NULL);
		nanosleep(&ms, NULL);
	}
	if (f->fail) {
		snprintf(err, errlen, "connection refused");
		return -1;
	}
	*body = strdup(f->body);
	*len = strlen(f->body);
	*max_age = f->max_age;
	return 0;
}

static char *
bn_b64(EVP_PKEY *k, const char *name)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n;
	char *s;

	if (EVP_PKEY_get_bn_param(k, name, &bn) != 1)
		return NULL;
	n = BN_bn2bin(bn, buf);
	BN_free(bn);
	s = jwt_b64url(buf, (size_t)n);
	return s;
}

/* One JWK of k under kid, as a JSON text; extra members appended. */
static void
jwk(char *out, size_t outlen, EVP_PKEY *k, const char *kid, const char *extra)
{
	char *n = bn_b64(k, OSSL_PKEY_PARAM_RSA_N);
	char *e = bn_b64(k, OSSL_PKEY_PARAM_RSA_E);

	snprintf(out, outlen, "{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\","
	    "\"e\":\"%s\"%s}", kid, n, e, extra ? extra : "");
	free(n);
	free(e);
}

static char jwks1[8192], jwks_small[16384], jwks_rot[16384];

/* A token signed by k with header kid and the standard claims, one of
 * them (set_key) then set to set_val (NULL: JSON null). */
static char *
token(EVP_PKEY *k, const char *kid, const char *set_key, json_object *set_val)
{
	json_object *h = json_object_new_object(), *c = json_object_new_object();
	char err[256], *t;

	if (kid != NULL)
		json_object_object_add(h, "kid", json_object_new_string(kid));
	json_object_object_add(h, "typ", json_object_new_string("JWT"));
	json_object_object_add(c, "iss", json_object_new_string(ISS));
	json_object_object_add(c, "aud", json_object_new_string(CID));
	json_object_object_add(c, "sub", json_object_new_string(SUB));
	json_object_object_add(c, "iat", json_object_new_int64(T0));
	json_object_object_add(c, "exp", json_object_new_int64(T0 + 3600));
	json_object_object_add(c, "auth_time", json_object_new_int64(T0 - 5));
	if (set_key != NULL)
		json_object_object_add(c, set_key, set_val);
	t = jwt_sign(k, h, c, err, sizeof(err));
	json_object_put(h);
	json_object_put(c);
	return t;
}

static enum idtoken_result
verify(struct jwks_cache *jc, struct fake *f, const char *t, time_t now,
    struct idtoken_claims *cl, char *err, size_t errlen)
{
	err[0] = '\0';
	return idtoken_verify(jc, fake_fetch, f, t, ISS, CID, SUB, now, cl, err,
	    errlen);
}

/* Expect a refusal whose message holds want, and that never quotes the
 * token's claims part. */
#define REFUSED(jc, f, t, now, want) do { \
	struct idtoken_claims cl_; \
	char err_[512]; \
	const char *dot_ = strchr((t), '.'); \
	char part_[32] = ""; \
	ASSERT_INT_EQ(verify((jc), (f), (t), (now), &cl_, err_, sizeof(err_)), \
	    IDTOKEN_INVALID); \
	if (strstr(err_, (want)) == NULL) \
		fprintf(stderr, "  message: %s\n", err_); \
	ASSERT(strstr(err_, (want)) != NULL); \
	ASSERT_STR_EQ(cl_.sub, ""); \
	if (dot_ != NULL) \
		snprintf(part_, sizeof(part_), "%.16s", dot_ + 1); \
	ASSERT(strlen(part_) < 8 || strstr(err_, part_) == NULL); \
} while (0)

TEST(good_token)
{
	struct jwks_cache *jc = jwks_cache_new();
	struct fake f = { jwks1, 600, 0, 0, 0 };
	struct idtoken_claims cl;
	char err[512], *t = token(key1, "k1", NULL, NULL);

	ASSERT(jc != NULL && t != NULL);
	ASSERT_INT_EQ(verify(jc, &f, t, T0 + 10, &cl, err, sizeof(err)), IDTOKEN_OK);
	ASSERT_STR_EQ(cl.sub, SUB);
	ASSERT_INT_EQ(cl.exp, T0 + 3600);
	ASSERT_INT_EQ(cl.iat, T0);
	ASSERT_INT_EQ(cl.auth_time, T0 - 5);
	ASSERT_INT_EQ(f.calls, 1);
	/* Within the skew either side, still good. */
	ASSERT_INT_EQ(verify(jc, &f, t, T0 - IDTOKEN_SKEW_SECONDS + 1, &cl, err,
	    sizeof(err)), IDTOKEN_OK);
	ASSERT_INT_EQ(verify(jc, &f, t, T0 + 3600 + IDTOKEN_SKEW_SECONDS - 1,
	    &cl, err, sizeof(err)), IDTOKEN_OK);
	jwt_free(t);
	jwks_cache_free(jc);
}

TEST(bad_signature)
{
	struct jwks_cache *jc = jwks_cache_new();
	struct fake f = { jwks1, 600, 0, 0, 0 };
	char *t = token(key2, "k1", NULL, NULL);      /* key2 under k1's kid */
	char *good = token(key1, "k1", NULL, NULL);
	char *other = token(key1, "k1", "sub", json_object_new_string("00ubob"));
	char *mix;
	const char *d1, *d2, *o1, *o2;

	ASSERT(t != NULL && good != NULL && other != NULL);
	REFUSED(jc, &f, t, T0, "signature does not verify");
	/* good's header and signature around other's claims: a forged body. */
	d1 = strchr(good, '.');
	d2 = strchr(d1 + 1, '.');
	o1 = strchr(other, '.');
	o2 = strchr(o1 + 1, '.');
	mix = malloc(strlen(good) + strlen(other) + 1);
	sprintf(mix, "%.*s%.*s%s", (int)(d1 - good), good, (int)(o2 - o1), o1, d2);
	REFUSED(jc, &f, mix, T0, "signature does not verify");
	/* A flipped bit in the signature. */
	good[strlen(good) - 2] = good[strlen(good) - 2] == 'A' ? 'B' : 'A';
	REFUSED(jc, &f, good, T0, "signature does not verify");
	free(mix);
	jwt_free(t);
	jwt_free(good);
	jwt_free(other);
	jwks_cache_free(jc);
}

TEST(wrong_aud)
{
	struct jwks_cache *jc = jwks_cache_new();
	struct fake f = { jwks1, 600, 0, 0, 0 };
	struct idtoken_claims cl;
	char err[512], *t;
	json_object *a;

	t = token(key1, "k1", "aud", json_object_new_string("0oaother"));
	REFUSED(jc, &f, t, T0, "not for the client " CID);
	jwt_free(t);
	a = json_object_new_array();
	json_object_array_add(a, json_object_new_string("0oaother"));
	json_object_array_add(a, json_object_new_string(CID "x"));
	t = token(key1, "k1", "aud", a);
	REFUSED(jc, &f, t, T0, "not for the client");
	jwt_free(t);
	t = token(key1, "k1", "aud", json_object_new_int(7));
	REFUSED(jc, &f, t, T0, "not for the client");
	jwt_free(t);
	/* An array that holds it is fine. */
	a = json_object_new_array();
	json_object_array_add(a, json_object_new_string("0oaother"));
	json_object_array_add(a, json_object_new_string(CID));
	t = token(key1, "k1", "aud", a);
	ASSERT_INT_EQ(verify(jc, &f, t, T0, &cl, err, sizeof(err)), IDTOKEN_OK);
	jwt_free(t);
	jwks_cache_free(jc);
}

TEST(wrong_iss)
{
	struct jwks_cache *jc = jwks_cache_new();
	struct fake f = { jwks1, 600, 0, 0, 0 };
	char *t = token(key1, "k1", "iss",
	    json_object_new_string("https://org.example.com"));

	REFUSED(jc, &f, t, T0, "not from the issuer " ISS);
	jwt_free(t);
	t = token(key1, "k1", "iss", json_object_new_string(ISS "/"));
	REFUSED(jc, &f, t, T0, "not from the issuer");
	jwt_free(t);
	jwks_cache_free(jc);
}

TEST(expired)
{
	struct jwks_cache *jc = jwks_cache_new();
	struct fake f = { jwks1, 600, 0, 0, 0 };
	char *t = token(key1, "k1", NULL, NULL);

	REFUSED(jc, &f, t, T0 + 3600 + IDTOKEN_SKEW_SECONDS, "expired");
	jwt_free(t);
	t = token(key1, "k1", "exp", json_object_new_string("9999999999"));
	REFUSED(jc, &f, t, T0, "no exp or iat");
	jwt_free(t);
	t = token(key1, "k1", "exp", NULL);
	REFUSED(jc, &f, t, T0, "no exp or iat");
	jwt_free(t);
	jwks_cache_free(jc);
}

TEST(iat_in_future)
{
	struct jwks_cache *jc = jwks_cache_new();
	struct fake f = { jwks1, 600, 0, 0, 0 };
	char *t = token(key1, "k1", NULL, NULL);

	REFUSED(jc, &f, t, T0 - IDTOKEN_SKEW_SECONDS - 1, "issued in the future");
	jwt_free(t);
	jwks_cache_free(jc);
}

TEST(other_sub)
{
	struct jwks_cache *jc = jwks_cache_new();
	struct fake f = { jwks1, 600, 0, 0, 0 };
	char *t = token(key1, "k1", "sub", json_object_new_string("00ubob"));
	struct idtoken_claims cl;
	char err[512];

	REFUSED(jc, &f, t, T0, "for another Okta user");
	ASSERT_INT_EQ(verify(jc, &f, t, T0, &cl, err, sizeof(err)), IDTOKEN_INVALID);
	ASSERT(strstr(err, "00ubob") == NULL);
	jwt_free(t);
	/* A prefix of the expected sub, or one with a NUL after it. */
	t = token(key1, "k1", "sub", json_object_new_string("00ujan"));
	REFUSED(jc, &f, t, T0, "for another Okta user");
	jwt_free(t);
	t = token(key1, "k1", "sub", json_object_new_string_len(SUB "\0x", 9));
	REFUSED(jc, &f, t, T0, "for another Okta user");
	jwt_free(t);
	t = token(key1, "k1", "sub", NULL);
	REFUSED(jc, &f, t, T0, "for another Okta user");
	jwt_free(t);
	/* The same token is fine for bob. */
	t = token(key1, "k1", "sub", json_object_new_string("00ubob"));
	ASSERT_INT_EQ(idtoken_verify(jc, fake_fetch, &f, t, ISS, CID, "00ubob",
	    T0, &cl, err, sizeof(err)), IDTOKEN_OK);
	ASSERT_STR_EQ(cl.sub, "00ubob");
	jwt_free(t);
	jwks_cache_free(jc);
}

/* Replace the header of t with the JSON text hdr and the signature with
 * sig (malloc'd). */
static char *
reheader(const char *t, const char *hdr, const char *sig)
{
	char *h = jwt_b64url((const unsigned char *)hdr, strlen(hdr));
	const char *d1 = strchr(t, '.'), *d2 = strchr(d1 + 1, '.');
	char *out = malloc(strlen(h) + strlen(t) + strlen(sig) + 4);

	sprintf(out, "%s%.*s.%s", h, (int)(d2 - d1), d1, sig);
	free(h);
	return out;
}

TEST(alg_none_and_hs256)
{
	struct jwks_cache *jc = jwks_cache_new();
	struct fake f = { jwks1, 600, 0, 0, 0 };
	char *t = token(key1, "k1", NULL, NULL), *n, *hs, *sigb, *input;
	unsigned char mac[32];
	unsigned int maclen = 0;
	char *pem_n = bn_b64(key1, OSSL_PKEY_PARAM_RSA_N);

	n = reheader(t, "{\"alg\":\"none\",\"kid\":\"k1\"}", "");
	REFUSED(jc, &f, n, T0, "not signed with RS256");
	free(n);
	n = reheader(t, "{\"alg\":\"none\",\"kid\":\"k1\"}", strrchr(t, '.') + 1);
	REFUSED(jc, &f, n, T0, "not signed with RS256");
	free(n);
	n = reheader(t, "{\"kid\":\"k1\"}", strrchr(t, '.') + 1);
	REFUSED(jc, &f, n, T0, "not signed with RS256");
	free(n);
	/* HS256 keyed with the public modulus: the classic confusion. */
	hs = reheader(t, "{\"alg\":\"HS256\",\"kid\":\"k1\"}", "");
	input = strndup(hs, strlen(hs) - 1);
	HMAC(EVP_sha256(), pem_n, (int)strlen(pem_n), (unsigned char *)input,
	    strlen(input), mac, &maclen);
	sigb = jwt_b64url(mac, maclen);
	free(hs);
	hs = reheader(t, "{\"alg\":\"HS256\",\"kid\":\"k1\"}", sigb);
	REFUSED(jc, &f, hs, T0, "not signed with RS256");
	/* "RS256 " or "rs256" are not RS256 either. */
	n = reheader(t, "{\"alg\":\"rs256\",\"kid\":\"k1\"}", strrchr(t, '.') + 1);
	REFUSED(jc, &f, n, T0, "not signed with RS256");
	free(n);
	ASSERT_INT_EQ(f.calls, 0);      /* refused before any key is fetched */
	free(hs);
	free(sigb);
	free(input);
	free(pem_n);
	jwt_free(t);
	jwks_cache_free(jc);
}

TEST(small_key_refused)
{
	struct jwks_cache *jc = jwks_cache_new();
	struct fake f = { jwks_small, 600, 0, 0, 0 };
	char *t = token(small, "small", NULL, NULL);

	ASSERT(t != NULL);
	REFUSED(jc, &f, t, T0, "shorter than 2048 bits");
	jwt_free(t);
	jwks_cache_free(jc);
}

TEST(jwks_key_kinds)
{
	/* A key whose use is "enc", or alg RS512, or kty EC, is not ours. */
	static const char *const extra[] = { ",\"use\":\"enc\"",
	    ",\"alg\":\"RS512\"", ",\"use\":7" };
	static const char *const want[] = { "use is not", "alg is not RS256",
	    "use is not" };
	char body[8192], j[8000];
	size_t i;

	for (i = 0; i < 3; i++) {
		struct jwks_cache *jc = jwks_cache_new();
		struct fake f = { body, 600, 0, 0, 0 };
		char *t = token(key1, "k1", NULL, NULL);

		jwk(j, sizeof(j), key1, "k1", extra[i]);
		snprintf(body, sizeof(body), "{\"keys\":[%s]}", j);
		REFUSED(jc, &f, t, T0, want[i]);
		jwt_free(t);
		jwks_cache_free(jc);
	}
	{
		struct jwks_cache *jc = jwks_cache_new();
		struct fake f = { "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"k1\","
		    "\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}]}", 600, 0, 0, 0 };
		char *t = token(key1, "k1", NULL, NULL);

		REFUSED(jc, &f, t, T0, "not an RSA key");
		jwt_free(t);
		jwks_cache_free(jc);
	}
}

TEST(malformed_parts)
{
	static const char *const bad[] = { "", "abc", "a.b", "a.b.c.d", "..",
	    "e30.e30.", "e30.e30.AAAA", "W10.e30.AAAA", "e30=.e30.AAAA",
	    "e30.e30.AA+A", "e30.e30.A" };
	struct jwks_cache *jc = jwks_cache_new();
	struct fake f = { jwks1, 600, 0, 0, 0 };
	char *t = token(key1, "k1", NULL, NULL), *x;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		REFUSED(jc, &f, bad[i], T0, "ID token");
	/* Header JSON with trailing bytes; claims not an object. */
	x = reheader(t, "{\"alg\":\"RS256\",\"kid\":\"k1\"} x",
	    strrchr(t, '.') + 1);
	REFUSED(jc, &f, x, T0, "malformed");
	free(x);
	x = reheader(t, "{\"alg\":\"RS256\",\"kid\":\"k1\"}", "");
	REFUSED(jc, &f, x, T0, "malformed");
	free(x);
	x = reheader(t, "{\"alg\":\"RS256\"}", strrchr(t, '.') + 1);
	REFUSED(jc, &f, x, T0, "names no key");
	free(x);
	x = reheader(t, "{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":[\"exp\"],"
	    "\"exp\":1}", strrchr(t, '.') + 1);
	REFUSED(jc, &f, x, T0, "critical extensions");
	free(x);
	/* Standard base64 ('+', '/') is not base64url. */
	x = strdup(t);
	{
		char *p = strrchr(x, '.') + 1;
		int changed = 0;

		for (; *p; p++)
			if (*p == '-' || *p == '_') {
				*p = *p == '-' ? '+' : '/';
				changed = 1;
			}
		ASSERT(changed);
	}
	REFUSED(jc, &f, x, T0, "signature is not base64url");
	free(x);
	/* A '.' inside the signature makes four parts. */
	x = malloc(strlen(t) + 3);
	sprintf(x, "%s.x", t);
	REFUSED(jc, &f, x, T0, "not three base64url parts");
	free(x);
	ASSERT_INT_EQ(f.calls, 0);
	ASSERT_INT_EQ(idtoken_verify(jc, fake_fetch, &f, NULL, ISS, CID, SUB, T0,
	    &(struct idtoken_claims){ 0 }, (char[64]){ 0 }, 64), IDTOKEN_INVALID);
	jwt_free(t);
	jwks_cache_free(jc);
}

TEST(oversize_token)
{
	struct jwks_cache *jc = jwks_cache_new();
	struct fake f = { jwks1, 600, 0, 0, 0 };
	char *big, *pad = malloc(IDTOKEN_MAX_LEN);

	ASSERT(pad != NULL);
	memset(pad, 'a', IDTOKEN_MAX_LEN);
	big = token(key1, "k1", "pad", json_object_new_string_len(pad,
	    IDTOKEN_MAX_LEN / 4 * 3));
	free(pad);
	ASSERT(big != NULL && strlen(big) > IDTOKEN_MAX_LEN);
	REFUSED(jc, &f, big, T0, "longer than");
	ASSERT_INT_EQ(f.calls, 0);
	jwt_free(big);
	jwks_cache_free(jc);
}

TEST(unknown_kid_one_refetch_a_minute)
{
	struct jwks_cache *jc = jwks_cache_new();
	struct fake f = { jwks1, 3600, 0, 0, 0 };
	struct idtoken_claims cl;
	char err[512];
	char *good = token(key1, "k1", NULL, NULL);
	char *k9 = token(key2, "k9", NULL, NULL);
	char *k8 = token(key2, "k8", NULL, NULL);
	char *k7 = token(key2, "k7", NULL, NULL);

	/* Unknown on the first fetch: no second fetch at once. */
	REFUSED(jc, &f, k9, T0 - 100, "does not publish");
	ASSERT_INT_EQ(f.calls, 1);
	ASSERT_INT_EQ(verify(jc, &f, good, T0, &cl, err, sizeof(err)), IDTOKEN_OK);
	ASSERT_INT_EQ(f.calls, 1);
	/* An unknown kid: one refetch, still unknown, refused. */
	REFUSED(jc, &f, k9, T0 + 5, "does not publish");
	ASSERT_INT_EQ(f.calls, 2);
	/* Another one within the minute: no fetch at all. */
	REFUSED(jc, &f, k8, T0 + 30, "does not publish");
	REFUSED(jc, &f, k9, T0 + 5 + IDTOKEN_REFETCH_SECONDS - 1, "does not publish");
	ASSERT_INT_EQ(f.calls, 2);
	/* Okta rotated its keys: after the minute, the refetch finds k7. */
	f.body = jwks_rot;
	ASSERT_INT_EQ(verify(jc, &f, k7, T0 + 5 + IDTOKEN_REFETCH_SECONDS, &cl,
	    err, sizeof(err)), IDTOKEN_OK);
	ASSERT_INT_EQ(f.calls, 3);
	/* And k9 is still unknown in it, within the minute: no fetch. */
	REFUSED(jc, &f, k9, T0 + 100, "does not publish");
	ASSERT_INT_EQ(f.calls, 3);
	jwt_free(good);
	jwt_free(k9);
	jwt_free(k8);
	jwt_free(k7);
	jwks_cache_free(jc);
}

TEST(max_age_honoured)
{
	struct jwks_cache *jc = jwks_cache_new();
	struct fake f = { jwks1, 300, 0, 0, 0 };
	struct idtoken_claims cl;
	char err[512];
	char *t = token(key1, "k1", "exp", json_object_new_int64(T0 + 1000000));
	time_t t1 = T0 + 600, t2, t3;

	ASSERT_INT_EQ(verify(jc, &f, t, T0, &cl, err, sizeof(err)), IDTOKEN_OK);
	ASSERT_INT_EQ(f.calls, 1);
	ASSERT_INT_EQ(verify(jc, &f, t, T0 + 299, &cl, err, sizeof(err)), IDTOKEN_OK);
	ASSERT_INT_EQ(f.calls, 1);
	ASSERT_INT_EQ(verify(jc, &f, t, T0 + 300, &cl, err, sizeof(err)), IDTOKEN_OK);
	ASSERT_INT_EQ(f.calls, 2);
	/* No Cache-Control: the default age. */
	f.max_age = -1;
	ASSERT_INT_EQ(verify(jc, &f, t, t1, &cl, err, sizeof(err)), IDTOKEN_OK);
	ASSERT_INT_EQ(f.calls, 3);
	ASSERT_INT_EQ(verify(jc, &f, t, t1 + IDTOKEN_JWKS_DEFAULT_AGE - 1, &cl,
	    err, sizeof(err)), IDTOKEN_OK);
	ASSERT_INT_EQ(f.calls, 3);
	/* max-age 0 (no-cache) is bounded below: no fetch per login. */
	f.max_age = 0;
	t2 = t1 + IDTOKEN_JWKS_DEFAULT_AGE;
	ASSERT_INT_EQ(verify(jc, &f, t, t2, &cl, err, sizeof(err)), IDTOKEN_OK);
	ASSERT_INT_EQ(f.calls, 4);
	ASSERT_INT_EQ(verify(jc, &f, t, t2 + IDTOKEN_JWKS_MIN_AGE - 1, &cl, err,
	    sizeof(err)), IDTOKEN_OK);
	ASSERT_INT_EQ(f.calls, 4);
	/* A huge max-age is bounded above. */
	f.max_age = 10L * IDTOKEN_JWKS_MAX_AGE;
	t3 = t2 + IDTOKEN_JWKS_MIN_AGE;
	ASSERT_INT_EQ(verify(jc, &f, t, t3, &cl, err, sizeof(err)), IDTOKEN_OK);
	ASSERT_INT_EQ(f.calls, 5);
	ASSERT_INT_EQ(verify(jc, &f, t, t3 + IDTOKEN_JWKS_MAX_AGE - 1, &cl, err,
	    sizeof(err)), IDTOKEN_OK);
	ASSERT_INT_EQ(f.calls, 5);
	ASSERT_INT_EQ(verify(jc, &f, t, t3 + IDTOKEN_JWKS_MAX_AGE, &cl, err,
	    sizeof(err)), IDTOKEN_OK);
	ASSERT_INT_EQ(f.calls, 6);
	jwt_free(t);
	jwks_cache_free(jc);
}

TEST(jwks_unavailable)
{
	struct jwks_cache *jc = jwks_cache_new();
	struct fake f = { jwks1, 300, 1, 0, 0 };
	struct fake junk = { "{\"keys\":{}}", 300, 0, 0, 0 };
	struct idtoken_claims cl;
	char err[512], *t = token(key1, "k1", NULL, NULL);

	ASSERT_INT_EQ(verify(jc, &f, t, T0, &cl, err, sizeof(err)),
	    IDTOKEN_UNAVAILABLE);
	ASSERT(strstr(err, "connection refused") != NULL);
	ASSERT_INT_EQ(verify(jc, &junk, t, T0, &cl, err, sizeof(err)),
	    IDTOKEN_UNAVAILABLE);
	ASSERT(strstr(err, "did not send a JWKS") != NULL);
	f.fail = 0;
	ASSERT_INT_EQ(verify(jc, &f, t, T0, &cl, err, sizeof(err)), IDTOKEN_OK);
	jwt_free(t);
	jwks_cache_free(jc);
}

struct thr {
	struct jwks_cache *jc;
	struct fake *f;
	const char *t;
	int ok;
};

static void *
thr_run(void *p)
{
	struct thr *a = p;
	struct idtoken_claims cl;
	char err[512];
	int i;

	__atomic_add_fetch(&thr_started, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < 50; i++)
		if (idtoken_verify(a->jc, fake_fetch, a->f, a->t, ISS, CID, SUB,
		    T0, &cl, err, sizeof(err)) == IDTOKEN_OK)
			a->ok++;
	return NULL;
}

TEST(threads_share_one_fetch)
{
	struct jwks_cache *jc = jwks_cache_new();
	struct fake f = { jwks1, 300, 0, 0, 4 };
	char *t = token(key1, "k1", NULL, NULL);
	pthread_t th[4];
	struct thr a[4];
	int i;

	for (i = 0; i < 4; i++) {
		a[i] = (struct thr){ jc, &f, t, 0 };
		ASSERT(pthread_create(&th[i], NULL, thr_run, &a[i]) == 0);
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < 4; i++)
		ASSERT_INT_EQ(a[i].ok, 50);
	ASSERT_INT_EQ(f.calls, 1);
	jwt_free(t);
	jwks_cache_free(jc);
}

int
main(void)
{
	char j1[8000], j2[8000], js[8000];

	key1 = EVP_RSA_gen(2048);
	key2 = EVP_RSA_gen(2048);
	small = EVP_RSA_gen(1024);
	if (key1 == NULL || key2 == NULL || small == NULL) {
		fprintf(stderr, "cannot make RSA keys\n");
		return 1;
	}
	jwk(j1, sizeof(j1), key1, "k1", ",\"use\":\"sig\",\"alg\":\"RS256\"");
	jwk(j2, sizeof(j2), key2, "k7", NULL);
	jwk(js, sizeof(js), small, "small", ",\"use\":\"sig\"");
	snprintf(jwks1, sizeof(jwks1), "{\"keys\":[%s]}", j1);
	snprintf(jwks_small, sizeof(jwks_small), "{\"keys\":[%s,%s]}", j1, js);
	snprintf(jwks_rot, sizeof(jwks_rot), "{\"keys\":[%s,%s]}", j1, j2);

	RUN(good_token);
	RUN(bad_signature);
	RUN(wrong_aud);
	RUN(wrong_iss);
	RUN(expired);
	RUN(iat_in_future);
	RUN(other_sub);
	RUN(alg_none_and_hs256);
	RUN(small_key_refused);
	RUN(jwks_key_kinds);
	RUN(malformed_parts);
	RUN(oversize_token);
	RUN(unknown_kid_one_refetch_a_minute);
	RUN(max_age_honoured);
	RUN(jwks_unavailable);
	RUN(threads_share_one_fetch);
	EVP_PKEY_free(key1);
	EVP_PKEY_free(key2);
	EVP_PKEY_free(small);
	return test_done();
}
