/*
 * jwt.c - signed JWTs with libcrypto (see jwt.h).
 */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jwt.h"
#include "xmalloc.h"

char *
jwt_b64url(const unsigned char *p, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	int len = EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	int i;

	/* EVP_EncodeBlock writes standard base64 with padding. */
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (i = 0; i < len; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return out;
}

const char *
jwt_alg(EVP_PKEY *key)
{
	char group[32];
	size_t glen = 0;

	if (EVP_PKEY_is_a(key, "RSA"))
		return "RS256";
	if (EVP_PKEY_is_a(key, "EC") &&
	    EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof(group),
	    &glen) == 1 && strcmp(group, "prime256v1") == 0)
		return "ES256";
	return NULL;
}

int
jwt_random_id(char out[32])
{
	unsigned char r[16];
	char *s;

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	s = jwt_b64url(r, sizeof(r));
	snprintf(out, 32, "%s", s);
	free(s);
	return 0;
}

char *
jwt_sha256_b64url(const char *s)
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	if (EVP_Digest(s, strlen(s), md, NULL, EVP_sha256(), NULL) != 1)
		return NULL;
	return jwt_b64url(md, sizeof(md));
}

static char *
b64url_json(json_object *o)
{
	const char *s = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	return s != NULL ? jwt_b64url((const unsigned char *)s, strlen(s)) : NULL;
}

/* libcrypto's reason for the latest failure, for a message. */
static const char *
ossl_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_get_error());

	return r != NULL ? r : "libcrypto failed";
}

/* ECDSA's DER signature to the fixed 64 bytes r||s of ES256. */
static int
der_to_raw(const unsigned char *der, size_t derlen, unsigned char raw[64])
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	const BIGNUM *r, *s;
	int ok;

	if (sig == NULL)
		return -1;
	ECDSA_SIG_get0(sig, &r, &s);
	ok = BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32;
	ECDSA_SIG_free(sig);
	return ok ? 0 : -1;
}

char *
jwt_sign(EVP_PKEY *key, json_object *header, json_object *claims, char *err,
    size_t errlen)
{
	const char *alg = jwt_alg(key);
	char *h = NULL, *c = NULL, *input = NULL, *sigb = NULL, *jwt = NULL;
	unsigned char *sig = NULL, raw[64];
	size_t siglen = 0;
	EVP_MD_CTX *md = NULL;

	if (alg == NULL) {
		snprintf(err, errlen, "the key is neither RSA nor EC P-256");
		return NULL;
	}
	json_object_object_add(header, "alg", json_object_new_string(alg));
	h = b64url_json(header);
	c = b64url_json(claims);
	if (h == NULL || c == NULL) {
		snprintf(err, errlen, "cannot encode the JWT as JSON");
		goto out;
	}
	input = xasprintf("%s.%s", h, c);
	md = EVP_MD_CTX_new();
	if (md == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, (unsigned char *)input,
	    strlen(input)) != 1) {
		snprintf(err, errlen, "cannot sign the JWT (%s)",
		    ossl_reason());
		goto out;
	}
	sig = xmalloc(siglen);
	if (EVP_DigestSign(md, sig, &siglen, (unsigned char *)input,
	    strlen(input)) != 1) {
		snprintf(err, errlen, "cannot sign the JWT (%s)",
		    ossl_reason());
		goto out;
	}
	if (strcmp(alg, "ES256") == 0) {
		if (der_to_raw(sig, siglen, raw) != 0) {
			snprintf(err, errlen, "cannot convert the ECDSA signature");
			goto out;
		}
		sigb = jwt_b64url(raw, sizeof(raw));
	} else {
		sigb = jwt_b64url(sig, siglen);
	}
	jwt = xasprintf("%s.%s", input, sigb);
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	jwt_free(h);
	jwt_free(c);
	jwt_free(input);
	jwt_free(sigb);
	free(sig);
	return jwt;
}

void
jwt_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}
