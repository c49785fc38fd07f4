/*
 * okta_auth.h - Okta's Direct Authentication and Device Authorization
 * grants (issue 11): the HTTP side of one login, for the auth broker
 * (syncd/auth/login.c).
 *
 * Endpoints, from [auth] authorization_server: the org server
 * https://DOMAIN/oauth2/v1/{token,challenge,device/authorize,keys}, issuer
 * https://DOMAIN; a custom server ID: /oauth2/ID/v1/..., issuer
 * https://DOMAIN/oauth2/ID.
 *
 * One struct okta_auth per daemon (the client_id, the client secret, the
 * JWKS cache, shared by every login and safe to use from several
 * threads); one struct okta_auth_login per login, holding its own
 * okta_client (libcurl handles are not thread-safe).
 *
 * Every request of a login first waits for the per-user spacing kept in
 * struct okta_auth: one request naming a user in flight at a time, sent
 * OKTA_AUTH_SPACING_MS after the answer to the one before, whichever
 * thread sends them (Okta allows 4 a second per user on /token and
 * /challenge).
 * The password grant is sent exactly once: never retried, not even after
 * a 5xx or a broken connection (Okta may have counted it towards the
 * lockout).  Polling requests are retried by the client as usual.
 *
 * Secrets (password, OTP, mfa_token, oob_code, device_code, the ID token)
 * are wiped with explicit_bzero: the forms (by okta_post_form), the
 * response bodies, and struct okta_auth_reply (okta_auth_reply_wipe).
 * Nothing here logs them or puts them into a message.
 */
#ifndef OKTA_OKTA_AUTH_H
#define OKTA_OKTA_AUTH_H

#include <signal.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "idtoken.h"

struct okta_auth;
struct okta_auth_login;

#define OKTA_AUTH_SPACING_MS 260   /* 4 a second, with a margin */

/* What one request came to. */
enum oa_status {
	OA_OK = 0,          /* tokens issued: id_token set */
	OA_MFA_REQUIRED,    /* 403 mfa_required: mfa_token set */
	OA_CHALLENGE,       /* /challenge answered: oob_code (push) or otp */
	OA_DEVICE,          /* /device/authorize answered */
	OA_PENDING,         /* authorization_pending: poll again */
	OA_SLOW_DOWN,       /* slow_down: poll again, 5 s later (RFC 8628) */
	OA_DENIED,          /* Okta refused: invalid_grant, access_denied */
	OA_EXPIRED,         /* the mfa_token, oob_code or device_code expired */
	OA_NOT_ENROLLED,    /* the factor asked for is not enrolled */
	OA_UNAVAILABLE,     /* no answer, 5xx or 429: Okta cannot be reached */
	OA_ERROR            /* anything else (our setup, a broken answer) */
};

#define OA_SECRET_MAX 1024      /* mfa_token, oob_code, device_code */

struct okta_auth_reply {
	enum oa_status status;
	long http_status;               /* 0: no answer */
	char *id_token;                 /* OA_OK, malloc'd; secret */
	char mfa_token[OA_SECRET_MAX];  /* OA_MFA_REQUIRED; secret */
	char oob_code[OA_SECRET_MAX];   /* OA_CHALLENGE (push); secret */
	char device_code[OA_SECRET_MAX];/* OA_DEVICE; secret */
	int challenge_otp;              /* OA_CHALLENGE: enter an OTP */
	char binding_code[16];          /* number matching; "" none */
	char user_code[32];             /* OA_DEVICE */
	char verification_uri[400];     /* OA_DEVICE: _complete when sent */
	long interval, expires_in;      /* seconds; 0: not sent */
	char error[64];                 /* Okta's "error", sanitized */
	char detail[384];               /* for the log: what happened, no
	                                 * secret; "" on success */
};

/* Wipe every secret of r and free id_token.  Can't fail. */
void okta_auth_reply_wipe(struct okta_auth_reply *r);

/*
 * The daemon's Direct Authentication client for config c (copied: c may
 * be freed afterwards): reads [auth] client_secret_file when set.  NULL
 * with a sentence in err.
 */
struct okta_auth *okta_auth_new(const struct config *c, char *err,
    size_t errlen);
void okta_auth_free(struct okta_auth *a);            /* accepts NULL */

/* The issuer ID tokens must carry, and the token endpoint's path. */
const char *okta_auth_issuer(const struct okta_auth *a);
const char *okta_auth_path(const struct okta_auth *a, const char *what);

/*
 * A login's client: user_key (the cached Okta user ID) names the user
 * for the request spacing; stop, when non-NULL and set, ends waits and
 * requests.  NULL when libcurl fails (err says).
 */
struct okta_auth_login *okta_auth_login_new(struct okta_auth *a,
    const char *user_key, volatile sig_atomic_t *stop, char *err,
    size_t errlen);
void okta_auth_login_free(struct okta_auth_login *l); /* accepts NULL */

/* The grants and endpoints.  Each fills *r (status, and what it says);
 * the secrets passed in are not kept. */
void okta_auth_password(struct okta_auth_login *l, const char *username,
    const char *password, struct okta_auth_reply *r);
void okta_auth_challenge(struct okta_auth_login *l, const char *mfa_token,
    int push, struct okta_auth_reply *r);
void okta_auth_mfa_otp(struct okta_auth_login *l, const char *mfa_token,
    const char *otp, struct okta_auth_reply *r);
void okta_auth_mfa_oob(struct okta_auth_login *l, const char *mfa_token,
    const char *oob_code, struct okta_auth_reply *r);
void okta_auth_device_authorize(struct okta_auth_login *l,
    struct okta_auth_reply *r);
void okta_auth_device_poll(struct okta_auth_login *l,
    const char *device_code, struct okta_auth_reply *r);

/*
 * Check an ID token for the Okta user expected_sub (idtoken_verify, the
 * JWKS fetched through this login's client).  IDTOKEN_OK, or another
 * result with a sentence in err.
 */
enum idtoken_result okta_auth_verify(struct okta_auth_login *l,
    const char *id_token, const char *expected_sub, char *err,
    size_t errlen);

/*
 * For `okta-sync test`: the keys endpoint answers with a key set (*nkeys
 * gets how many), and the token endpoint knows client_id and lets it use
 * the password grant (a password request without a user, which Okta
 * refuses as incomplete after checking the client, and which names no
 * user).  0 with a sentence in msg, or 1 with what is wrong and what to
 * do in msg.
 */
int okta_auth_check(struct okta_auth *a, int *nkeys, char *msg,
    size_t msglen);

/*
 * Pure helpers, unit-tested and fuzzed (tests/fuzz/fuzz_auth_answer.c).
 *
 * Fill *r (zeroed by the caller) from one answer of Okta: status and
 * body[0..len) of a POST to path (for messages); what: "token",
 * "challenge" or "device".  A 4xx is classified by its OAuth error (429:
 * OA_UNAVAILABLE), a 2xx must carry what `what` needs, checked for type
 * and size; anything else is OA_ERROR with r->detail saying why.  Secrets
 * taken from the body are wiped in the parsed JSON; the body itself is the
 * caller's to wipe.
 */
void okta_auth_read_answer(struct okta_auth_reply *r, const char *path,
    const char *what, long status, const char *body, size_t len);

/* The next polling interval after `status`
 * (slow_down adds 5 s, RFC 8628 section 3.5), at least 1 s, at most 60. */
long okta_auth_next_interval(long interval, enum oa_status status);

/* The name of a status, for the log ("denied").  Can't fail. */
const char *okta_auth_status_name(enum oa_status s);

#endif
