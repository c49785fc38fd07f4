/*
 * jwt.h - the signed JWTs okta-sync sends: the OAuth client assertion
 * (RS256 or ES256, oauth.c) and DPoP proofs (ES256, dpop.c).
 *
 * Everything cryptographic is OpenSSL's libcrypto (EVP_DigestSign, RAND);
 * JSON is json-c.  Nothing here logs: the JWTs are secrets (DESIGN.md
 * rule 7) and the callers wipe them with explicit_bzero after use.
 */
#ifndef OKTA_JWT_H
#define OKTA_JWT_H

#include <json-c/json.h>
#include <openssl/evp.h>
#include <stddef.h>

/* base64url without padding (RFC 7515) of n bytes; malloc'd. */
char *jwt_b64url(const unsigned char *p, size_t n);

/* The JWS alg for key: "RS256" (RSA), "ES256" (EC P-256), NULL otherwise. */
const char *jwt_alg(EVP_PKEY *key);

/* 16 random bytes (RAND_bytes), base64url: a jti.  0, or -1. */
int jwt_random_id(char out[32]);

/* base64url(SHA-256(s)), the DPoP ath; malloc'd, NULL on failure. */
char *jwt_sha256_b64url(const char *s);

/*
 * header.claims.signature, signed with key by jwt_alg(key) (header gets
 * its "alg").  ES256 signatures are the raw r||s of RFC 7518, not DER.
 * Returns a malloc'd string, or NULL with a sentence in err.
 */
char *jwt_sign(EVP_PKEY *key, json_object *header, json_object *claims,
    char *err, size_t errlen);

/* Wipe and free a JWT (or any secret string); accepts NULL. */
void jwt_free(char *s);

#endif
