/*
 * idtoken.h - checking the ID token that Okta's Direct Authentication
 * grants return (issue 11), against the authorization server's JWKS.
 *
 * A token is accepted only when every one of these holds:
 *   - three base64url parts, the header and claims JSON objects (strict);
 *   - header alg "RS256" exactly (never "none", never HS*), a kid;
 *   - the kid names an RSA key of the JWKS (use "sig" or absent, kty
 *     "RSA", alg RS256 or absent, modulus of at least 2048 bits), and the
 *     signature verifies with it through libcrypto (EVP_DigestVerify);
 *   - iss equal to the configured issuer, byte for byte;
 *   - aud equal to client_id (a string, or an array holding it);
 *   - exp in the future and iat not in the future, each with at most
 *     IDTOKEN_SKEW_SECONDS of clock skew;
 *   - sub equal to the Okta user ID the cache holds for the Linux user.
 *
 * The JWKS is cached in memory by kid, for the Cache-Control max-age the
 * keys endpoint sent (bounded to [IDTOKEN_JWKS_MIN_AGE, ..._MAX_AGE]).
 * A kid not in the cache makes one refetch (at most one a minute, so a
 * flood of forged kids cannot make us hammer Okta); a kid still unknown
 * after it is refused.  The cache is shared by every login of the daemon
 * and is safe to use from several threads at once.
 *
 * Fetching is the caller's (it owns the HTTP client): jwks_fetch_fn.
 * Nothing here logs, and no message quotes the token.
 */
#ifndef OKTA_IDTOKEN_H
#define OKTA_IDTOKEN_H

#include <stddef.h>
#include <time.h>

#define IDTOKEN_SKEW_SECONDS 120
#define IDTOKEN_JWKS_MIN_AGE 60
#define IDTOKEN_JWKS_MAX_AGE 86400
#define IDTOKEN_JWKS_DEFAULT_AGE 3600   /* no usable Cache-Control */
#define IDTOKEN_REFETCH_SECONDS 60
#define IDTOKEN_MAX_LEN 16384

/*
 * GET the JWKS.  0 with a malloc'd body in *body, its length in *len
 * and the Cache-Control max-age in *max_age (-1: none given); -1 when it
 * could not be fetched (with a sentence in err).
 */
typedef int (*jwks_fetch_fn)(void *ctx, char **body, size_t *len,
    long *max_age, char *err, size_t errlen);

struct jwks_cache;

struct jwks_cache *jwks_cache_new(void);      /* NULL when out of memory */
void jwks_cache_free(struct jwks_cache *jc);  /* accepts NULL */

/* What a verified token says (only what the broker needs). */
struct idtoken_claims {
	char sub[64];
	long long exp, iat, auth_time;   /* auth_time 0 when absent */
};

enum idtoken_result {
	IDTOKEN_OK = 0,
	IDTOKEN_INVALID = 1,     /* refused: forged, wrong aud/iss/sub, expired */
	IDTOKEN_UNAVAILABLE = 2  /* the JWKS could not be fetched */
};

/*
 * Check token for a login of the Okta user expected_sub.  now is the
 * wall clock (a parameter for the tests).  IDTOKEN_OK with *out filled;
 * otherwise a sentence in err that says which check failed ("ID token
 * signature does not verify", "ID token is for another Okta user") and
 * never quotes the token.
 */
enum idtoken_result idtoken_verify(struct jwks_cache *jc,
    jwks_fetch_fn fetch, void *fetch_ctx, const char *token,
    const char *issuer, const char *client_id, const char *expected_sub,
    time_t now, struct idtoken_claims *out, char *err, size_t errlen);

#endif
