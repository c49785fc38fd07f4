/*
 * offline.h - offline credentials (issue 11): a slow salted hash of an
 * Okta user's password, kept in cache.db after a fully successful online
 * login (MFA included) so that the user can log in while Okta cannot be
 * reached.  Opt-in: [auth] offline_credentials.
 *
 * The hash is yescrypt through libcrypt's crypt_gensalt_ra / crypt_r
 * (with its own random salt per store), in the table offline_creds,
 * keyed by the Okta user ID (never the Linux name, so that a name handed
 * to another Okta user never inherits a hash).  The table also counts the
 * failed offline attempts in a row.
 *
 * Used only when Okta is unreachable (transport error, 5xx, 429), never
 * after Okta refused; the broker decides that, not this file.
 *
 * Rows are wiped (offline_forget) by the sync when it sees the user
 * suspended, deprovisioned, locked out, removed, or their passwordChanged
 * move; and by offline_verify when the entry is past its expiration.
 *
 * Every function takes an open cache.db handle (cache.h); safe to call
 * from several threads that each hold their own handle (SQLite's busy
 * timeout serialises the writers).  Passwords are never logged, never
 * put into a message, and the caller wipes its copy.
 */
#ifndef OKTA_OFFLINE_H
#define OKTA_OFFLINE_H

#include <stddef.h>
#include <time.h>

#include <sqlite3.h>

/* The offline settings of [auth] (config.h) the functions need. */
struct offline_policy {
	long long expiration;        /* seconds a stored hash stays usable */
	int failed_login_attempts;   /* failures in a row before the delay */
	long long failed_login_delay;/* seconds refused after them */
};

enum offline_result {
	OFFLINE_OK = 0,        /* the password matches: log in (no MFA) */
	OFFLINE_WRONG,         /* it does not (counted) */
	OFFLINE_NONE,          /* nothing stored for this user */
	OFFLINE_EXPIRED,       /* stored more than `expiration` ago (wiped) */
	OFFLINE_DELAYED,       /* too many failures: try again later */
	OFFLINE_ERROR          /* cache.db or libcrypt failed (err says) */
};

/* Store (or replace) the hash of password for okta_id, stored_at = now,
 * failures reset.  0, or -1 with a sentence in err. */
int offline_store(sqlite3 *db, const char *okta_id, const char *password,
    time_t now, char *err, size_t errlen);

/*
 * Check password against what is stored for okta_id at time now, under
 * policy p.  While OFFLINE_DELAYED, the password is not even hashed (the
 * delay is what makes guessing slow).  *retry_after gets the seconds to
 * wait for OFFLINE_DELAYED (may be NULL).
 */
enum offline_result offline_verify(sqlite3 *db, const char *okta_id,
    const char *password, time_t now, const struct offline_policy *p,
    long long *retry_after, char *err, size_t errlen);

/* Wipe what is stored for okta_id (nothing stored is fine).  0 or -1. */
int offline_forget(sqlite3 *db, const char *okta_id, char *err,
    size_t errlen);

/* Whether something is stored for okta_id (1, 0, or -1 on error): for
 * `okta-sync show user`. */
int offline_has(sqlite3 *db, const char *okta_id);

/* Like offline_has, with the epoch s it was stored in *stored_at (when 1):
 * `okta-sync show user` prints it. */
int offline_stored_at(sqlite3 *db, const char *okta_id,
    long long *stored_at);

#endif
