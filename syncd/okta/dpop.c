/*
 * dpop.c - DPoP proofs (see dpop.h) with libcrypto and json-c.
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dpop.h"
#include "jwt.h"
#include "xmalloc.h"

struct dpop {
	EVP_PKEY *key;
	char *x, *y;            /* the public point, base64url, for the jwk */
};

/* One coordinate of the public point, as the 32 bytes JWK wants. */
static char *
coordinate(EVP_PKEY *key, const char *name)
{
	BIGNUM *bn = NULL;
	unsigned char b[32];
	char *s = NULL;

	if (EVP_PKEY_get_bn_param(key, name, &bn) == 1 &&
	    BN_bn2binpad(bn, b, sizeof(b)) == (int)sizeof(b))
		s = jwt_b64url(b, sizeof(b));
	BN_free(bn);
	return s;
}

struct dpop *
dpop_new(char *err, size_t errlen)
{
	struct dpop *d = xcalloc(1, sizeof(*d));

	d->key = EVP_EC_gen("P-256");
	if (d->key != NULL) {
		d->x = coordinate(d->key, OSSL_PKEY_PARAM_EC_PUB_X);
		d->y = coordinate(d->key, OSSL_PKEY_PARAM_EC_PUB_Y);
	}
	if (d->key == NULL || d->x == NULL || d->y == NULL) {
		snprintf(err, errlen, "libcrypto cannot generate the DPoP key (EC P-256)");
		dpop_free(d);
		return NULL;
	}
	return d;
}

void
dpop_free(struct dpop *d)
{
	if (d == NULL)
		return;
	EVP_PKEY_free(d->key);
	free(d->x);
	free(d->y);
	free(d);
}

char *
dpop_htu(const char *url)
{
	return xstrndup(url, strcspn(url, "?#"));
}

char *
dpop_proof(struct dpop *d, const char *method, const char *url,
    const char *nonce, const char *access_token, char *err, size_t errlen)
{
	json_object *hdr = json_object_new_object(), *jwk = json_object_new_object();
	json_object *claims = json_object_new_object();
	char jti[32], *htu = dpop_htu(url), *ath = NULL, *jwt = NULL;

	if (jwt_random_id(jti) != 0) {
		snprintf(err, errlen, "no random bytes for the DPoP proof's jti");
		goto out;
	}
	json_object_object_add(jwk, "kty", json_object_new_string("EC"));
	json_object_object_add(jwk, "crv", json_object_new_string("P-256"));
	json_object_object_add(jwk, "x", json_object_new_string(d->x));
	json_object_object_add(jwk, "y", json_object_new_string(d->y));
	json_object_object_add(hdr, "typ", json_object_new_string("dpop+jwt"));
	json_object_object_add(hdr, "jwk", jwk);
	jwk = NULL;
	json_object_object_add(claims, "htm", json_object_new_string(method));
	json_object_object_add(claims, "htu", json_object_new_string(htu));
	json_object_object_add(claims, "iat", json_object_new_int64((int64_t)time(NULL)));
	json_object_object_add(claims, "jti", json_object_new_string(jti));
	if (nonce != NULL && nonce[0] != '\0')
		json_object_object_add(claims, "nonce", json_object_new_string(nonce));
	if (access_token != NULL) {
		ath = jwt_sha256_b64url(access_token);
		if (ath == NULL) {
			snprintf(err, errlen, "cannot hash the access token for the DPoP proof");
			goto out;
		}
		json_object_object_add(claims, "ath", json_object_new_string(ath));
	}
	jwt = jwt_sign(d->key, hdr, claims, err, errlen);
out:
	json_object_put(jwk);
	json_object_put(hdr);
	json_object_put(claims);
	free(htu);
	free(ath);
	return jwt;
}
