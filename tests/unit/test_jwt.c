/*
 * test_jwt.c - the JWTs of auth = oauth (jwt.c, dpop.c): base64url on the
 * RFC 4648 vectors, the DPoP htu without query or fragment, RS256 and
 * ES256 signatures that verify with the public key (ES256 as the raw r||s
 * of RFC 7518, turned back into DER here), and DPoP proofs with their
 * header jwk, a fresh jti each, and ath = base64url(SHA-256(token)).
 */
#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "dpop.h"
#include "jwt.h"

/* base64url (no padding) to bytes, for the test only; returns length or -1. */
static int
unb64url(const char *s, unsigned char *out, size_t outlen)
{
	size_t n = strlen(s), i;
	char buf[4096];
	int len;

	if (n + 4 >= sizeof(buf) || (n + 3) / 4 * 3 > outlen)
		return -1;
	for (i = 0; i < n; i++)
		buf[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	while (i % 4 != 0)
		buf[i++] = '=';
	buf[i] = '\0';
	len = EVP_DecodeBlock(out, (unsigned char *)buf, (int)i);
	if (len < 0)
		return -1;
	while (i > 0 && buf[i - 1] == '=') {
		len--;
		i--;
	}
	return len;
}

/* The JSON of one part of a JWT (0 header, 1 claims); caller puts it. */
static json_object *
part(const char *jwt, int which)
{
	unsigned char dec[2048];
	char seg[2048];
	const char *p = jwt, *dot;
	int n;

	while (which-- > 0)
		p = strchr(p, '.') + 1;
	dot = strchr(p, '.');
	snprintf(seg, sizeof(seg), "%.*s", (int)(dot - p), p);
	n = unb64url(seg, dec, sizeof(dec) - 1);
	if (n < 0)
		return NULL;
	dec[n] = '\0';
	return json_tokener_parse((char *)dec);
}

static const char *
str(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

/* Whether jwt's signature verifies with key (ES256: raw r||s -> DER). */
static int
verifies(EVP_PKEY *key, const char *jwt, int es256)
{
	const char *last = strrchr(jwt, '.');
	unsigned char sig[1024], *der = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ECDSA_SIG *es;
	int n, derlen, ok;

	n = unb64url(last + 1, sig, sizeof(sig));
	if (n < 0)
		return 0;
	if (es256) {
		if (n != 64)
			return 0;
		es = ECDSA_SIG_new();
		ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
		derlen = i2d_ECDSA_SIG(es, &der);
		ECDSA_SIG_free(es);
		memcpy(sig, der, (size_t)derlen);
		OPENSSL_free(der);
		n = derlen;
	}
	ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestVerify(md, sig, (size_t)n, (const unsigned char *)jwt,
	    (size_t)(last - jwt)) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

TEST(b64url_vectors)
{
	static const unsigned char fb[] = { 0xfb, 0xff }, ff[] = { 0xff, 0xfe };
	char *s;

	s = jwt_b64url((const unsigned char *)"", 0);
	ASSERT_STR_EQ(s, "");
	free(s);
	s = jwt_b64url((const unsigned char *)"f", 1);
	ASSERT_STR_EQ(s, "Zg");
	free(s);
	s = jwt_b64url((const unsigned char *)"fo", 2);
	ASSERT_STR_EQ(s, "Zm8");
	free(s);
	s = jwt_b64url((const unsigned char *)"foobar", 6);
	ASSERT_STR_EQ(s, "Zm9vYmFy");
	free(s);
	s = jwt_b64url(fb, sizeof(fb));
	ASSERT_STR_EQ(s, "-_8");
	free(s);
	s = jwt_b64url(ff, sizeof(ff));
	ASSERT_STR_EQ(s, "__4");
	free(s);
	s = jwt_sha256_b64url("abc");
	ASSERT_STR_EQ(s, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
	free(s);
}

TEST(htu_has_no_query_or_fragment)
{
	char *s = dpop_htu("https://dev-1.okta.com/api/v1/users?after=x&limit=200#f");

	ASSERT_STR_EQ(s, "https://dev-1.okta.com/api/v1/users");
	free(s);
	s = dpop_htu("https://dev-1.okta.com/oauth2/v1/token");
	ASSERT_STR_EQ(s, "https://dev-1.okta.com/oauth2/v1/token");
	free(s);
}

static void
sign_and_verify(EVP_PKEY *key, const char *alg, int es256)
{
	json_object *h = json_object_new_object(), *c = json_object_new_object(), *p;
	char err[256], *jwt;

	json_object_object_add(c, "iss", json_object_new_string("0oa1"));
	jwt = jwt_sign(key, h, c, err, sizeof(err));
	json_object_put(h);
	json_object_put(c);
	ASSERT(jwt != NULL);
	ASSERT_STR_EQ(jwt_alg(key), alg);
	p = part(jwt, 0);
	ASSERT(p != NULL);
	ASSERT_STR_EQ(str(p, "alg"), alg);
	json_object_put(p);
	ASSERT(verifies(key, jwt, es256));
	/* One changed character of the claims and it no longer verifies. */
	jwt[strchr(jwt, '.') - jwt + 2] ^= 1;
	ASSERT(!verifies(key, jwt, es256));
	jwt_free(jwt);
}

TEST(es256_signature_verifies)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");

	ASSERT(key != NULL);
	sign_and_verify(key, "ES256", 1);
	EVP_PKEY_free(key);
}

TEST(rs256_signature_verifies)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);

	ASSERT(key != NULL);
	sign_and_verify(key, "RS256", 0);
	EVP_PKEY_free(key);
}

TEST(other_curves_are_refused)
{
	EVP_PKEY *key = EVP_EC_gen("P-384");

	ASSERT(key != NULL);
	ASSERT(jwt_alg(key) == NULL);
	EVP_PKEY_free(key);
}

TEST(dpop_proofs)
{
	char err[256], *a, *b, *ath = jwt_sha256_b64url("tok123");
	struct dpop *d = dpop_new(err, sizeof(err));
	json_object *h, *c1, *c2, *jwk;

	ASSERT(d != NULL && ath != NULL);
	a = dpop_proof(d, "GET", "https://h.example/api/v1/users?limit=200", "n1",
	    "tok123", err, sizeof(err));
	b = dpop_proof(d, "POST", "https://h.example/oauth2/v1/token", NULL, NULL,
	    err, sizeof(err));
	ASSERT(a != NULL && b != NULL);
	h = part(a, 0);
	c1 = part(a, 1);
	c2 = part(b, 1);
	ASSERT(h != NULL && c1 != NULL && c2 != NULL);
	ASSERT_STR_EQ(str(h, "typ"), "dpop+jwt");
	ASSERT_STR_EQ(str(h, "alg"), "ES256");
	ASSERT(json_object_object_get_ex(h, "jwk", &jwk));
	ASSERT_STR_EQ(str(jwk, "kty"), "EC");
	ASSERT_STR_EQ(str(jwk, "crv"), "P-256");
	ASSERT(str(jwk, "x") != NULL && strlen(str(jwk, "x")) == 43);
	ASSERT(str(jwk, "d") == NULL);
	ASSERT_STR_EQ(str(c1, "htm"), "GET");
	ASSERT_STR_EQ(str(c1, "htu"), "https://h.example/api/v1/users");
	ASSERT_STR_EQ(str(c1, "nonce"), "n1");
	ASSERT_STR_EQ(str(c1, "ath"), ath);
	ASSERT(str(c2, "ath") == NULL && str(c2, "nonce") == NULL);
	ASSERT_STR_EQ(str(c2, "htm"), "POST");
	ASSERT(str(c1, "jti") != NULL && str(c2, "jti") != NULL);
	ASSERT(strcmp(str(c1, "jti"), str(c2, "jti")) != 0);
	json_object_put(h);
	json_object_put(c1);
	json_object_put(c2);
	jwt_free(a);
	jwt_free(b);
	free(ath);
	dpop_free(d);
}

int
main(void)
{
	RUN(b64url_vectors);
	RUN(htu_has_no_query_or_fragment);
	RUN(es256_signature_verifies);
	RUN(rs256_signature_verifies);
	RUN(other_curves_are_refused);
	RUN(dpop_proofs);
	return test_done();
}
