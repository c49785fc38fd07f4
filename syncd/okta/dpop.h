/*
 * dpop.h - DPoP proofs (RFC 9449) for the OAuth service app (oauth.c).
 *
 * A dpop holds an EC P-256 key generated when it is created (oauth.c makes
 * one per process): it lives in memory only, is never written anywhere
 * and dies with the process.  Each proof is a fresh JWT (typ dpop+jwt, alg ES256,
 * the public jwk in its header) with htm, htu (the URL without query or
 * fragment), iat and a random jti; nonce when the server asked for one,
 * ath = base64url(SHA-256(access token)) on resource requests.
 */
#ifndef OKTA_DPOP_H
#define OKTA_DPOP_H

#include <stddef.h>

struct dpop;

/* NULL with a sentence in err when libcrypto cannot make a key. */
struct dpop *dpop_new(char *err, size_t errlen);
void dpop_free(struct dpop *d);      /* accepts NULL */

/*
 * A proof for one request.  method "GET"/"POST"; url absolute (query and
 * fragment are cut off here); nonce and access_token may be NULL.
 * Returns a malloc'd JWT (free with jwt_free), or NULL with err set.
 */
char *dpop_proof(struct dpop *d, const char *method, const char *url,
    const char *nonce, const char *access_token, char *err, size_t errlen);

/* The htu of url: scheme, host and path, without query or fragment;
 * malloc'd. */
char *dpop_htu(const char *url);

#endif
