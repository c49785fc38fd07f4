/*
 * oauth.h - [okta] auth = oauth: an Okta OAuth 2.0 service app instead of
 * an SSWS token.
 *
 * The client credentials grant on https://DOMAIN/oauth2/v1/token, the
 * client authenticated by a private_key_jwt assertion (RS256 or ES256,
 * iss = sub = client_id, aud = the token URL, iat, exp 4 minutes on, a
 * random jti), signed with [okta] private_key_file.  When the app requires
 * DPoP (Okta answers the grant without a proof with invalid_dpop_proof),
 * every request from then on carries a proof of dpop.c; a use_dpop_nonce
 * answer (400 from the token endpoint, 401 from the API) is retried with
 * the nonce the server sent, and DPoP-Nonce headers are remembered.
 *
 * The access token lives in this process's memory only: renewed when its
 * expires_in is nearly over and after a 401 (the page is then sent
 * again), wiped when replaced or freed.  The assertion, the proofs and the
 * token are never logged nor put into a message.
 */
#ifndef OKTA_OAUTH_H
#define OKTA_OAUTH_H

#include <stddef.h>

#include "config.h"
#include "error.h"
#include "okta.h"

struct oauth;

/*
 * Load c->private_key_file (checked as the token file is: root-owned,
 * mode 0600, no symbolic link; PEM, RSA of 2048 bits or more, or EC
 * P-256) and make the process's DPoP key.  Nothing is sent.  NULL with a
 * sentence in err when the key cannot be used.
 */
struct oauth *oauth_new(const struct config *c, char *err, size_t errlen);
void oauth_free(struct oauth *oa);            /* accepts NULL */

/* Hand oa to oc: its requests authenticate through oa, which oc frees. */
void oauth_attach(struct oauth *oa, struct okta_client *oc);

/*
 * Ask the token endpoint for an access token now (the first request of a
 * sync does this by itself).  OK_SUCCESS, or OK_ERR_AUTH / OK_ERR_FORBIDDEN
 * / a transport error, with okta_last_error saying what Okta answered and
 * what to check.  Does not check the granted scopes (oauth_missing_scope).
 */
okerr oauth_request_token(struct oauth *oa, struct okta_client *oc);

/* "RSA 2048 bits, RS256" or "EC P-256, ES256". */
const char *oauth_key_description(const struct oauth *oa);
/* The scopes Okta granted with the latest token ("" before one). */
const char *oauth_granted_scopes(const struct oauth *oa);
/* A configured scope Okta did not grant (static storage), NULL if none. */
const char *oauth_missing_scope(const struct oauth *oa);
/* Whether the app turned out to require DPoP. */
int oauth_dpop_required(const struct oauth *oa);
/* The OAuth "error" of the latest refusal by the token endpoint, "". */
const char *oauth_error(const struct oauth *oa);

#endif
