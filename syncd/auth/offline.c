/*
 * offline.c - offline credentials in cache.db's offline_creds (see
 * offline.h for the contract, cache.h for the table).
 *
 * libcrypt (libxcrypt) does the hashing: crypt_gensalt_ra("$y$") draws
 * a fresh salt from the kernel's random source and picks libxcrypt's
 * default yescrypt cost, crypt_r hashes.  Its struct crypt_data holds the
 * password and intermediate state, so it lives on the heap (32 KiB) and
 * is wiped before it is freed.  The stored hash is compared with
 * CRYPTO_memcmp, so the time taken says nothing about how much matched.
 */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "offline.h"

/* libxcrypt's prefix for yescrypt; a stored hash must start with it. */
#define YESCRYPT_PREFIX "$y$"

/* crypt_r(password, setting) into a fresh heap buffer: the hash (malloc'd,
 * NULL with err on failure).  The crypt_data is wiped on every path. */
static char *
hash_with(const char *password, const char *setting, char *err,
    size_t errlen)
{
	struct crypt_data *cd;
	const char *h;
	char *out = NULL;

	cd = calloc(1, sizeof(*cd));
	if (cd == NULL) {
		snprintf(err, errlen, "out of memory hashing the password");
		return NULL;
	}
	h = crypt_r(password, setting, cd);
	/* Failure is NULL or a string starting with '*' (libxcrypt). */
	if (h == NULL || h[0] == '*')
		snprintf(err, errlen, "libcrypt cannot hash with yescrypt "
		    "(crypt_r failed); is libxcrypt 4.3 or later installed?");
	else if ((out = strdup(h)) == NULL)
		snprintf(err, errlen, "out of memory hashing the password");
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return out;
}

static void
free_secret(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void
sql_err(sqlite3 *db, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "cache.db: %s the offline credential: %s", what,
	    sqlite3_errmsg(db));
}

int
offline_store(sqlite3 *db, const char *okta_id, const char *password,
    time_t now, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	char *setting, *hash;
	int rc;

	if (password == NULL || *password == '\0') {
		snprintf(err, errlen, "no password to store an offline "
		    "credential for");
		return -1;
	}
	setting = crypt_gensalt_ra(YESCRYPT_PREFIX, 0, NULL, 0);
	if (setting == NULL) {
		snprintf(err, errlen, "libcrypt cannot make a yescrypt salt "
		    "(crypt_gensalt_ra failed); is libxcrypt 4.3 or later "
		    "installed?");
		return -1;
	}
	hash = hash_with(password, setting, err, errlen);
	free(setting);
	if (hash == NULL)
		return -1;
	if (strncmp(hash, YESCRYPT_PREFIX, strlen(YESCRYPT_PREFIX)) != 0) {
		snprintf(err, errlen, "libcrypt made a hash that is not "
		    "yescrypt; not storing it");
		free_secret(hash);
		return -1;
	}
	if (sqlite3_prepare_v2(db, "INSERT INTO offline_creds (okta_id, hash,"
	    " stored_at, failures, last_failure) VALUES (?, ?, ?, 0, 0)"
	    " ON CONFLICT (okta_id) DO UPDATE SET hash = excluded.hash,"
	    " stored_at = excluded.stored_at, failures = 0, last_failure = 0",
	    -1, &st, NULL) != SQLITE_OK) {
		sql_err(db, "storing", err, errlen);
		free_secret(hash);
		return -1;
	}
	sqlite3_bind_text(st, 1, okta_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (long long)now);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		sql_err(db, "storing", err, errlen);
	sqlite3_finalize(st);
	free_secret(hash);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Run one statement on okta_id with up to one more integer (now).  0 or
 * -1 (err: what). */
static int
exec_row(sqlite3 *db, const char *sql, const char *okta_id, long long now,
    const char *what, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		sql_err(db, what, err, errlen);
		return -1;
	}
	sqlite3_bind_text(st, 1, okta_id, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) > 1)
		sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		sql_err(db, what, err, errlen);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The stored row: 1 found, 0 none, -1 error (err). */
struct stored {
	char *hash;              /* malloc'd */
	long long stored_at, failures, last_failure;
};

static int
load(sqlite3 *db, const char *okta_id, struct stored *s, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;
	const char *h;
	int rc;

	memset(s, 0, sizeof(*s));
	if (sqlite3_prepare_v2(db, "SELECT hash, stored_at, failures,"
	    " last_failure FROM offline_creds WHERE okta_id = ?", -1, &st,
	    NULL) != SQLITE_OK) {
		sql_err(db, "reading", err, errlen);
		return -1;
	}
	sqlite3_bind_text(st, 1, okta_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		h = (const char *)sqlite3_column_text(st, 0);
		s->hash = strdup(h != NULL ? h : "");
		s->stored_at = sqlite3_column_int64(st, 1);
		s->failures = sqlite3_column_int64(st, 2);
		s->last_failure = sqlite3_column_int64(st, 3);
		rc = s->hash != NULL ? 1 : -1;
		if (rc < 0)
			snprintf(err, errlen, "out of memory reading the "
			    "offline credential");
	} else if (rc == SQLITE_DONE)
		rc = 0;
	else {
		sql_err(db, "reading", err, errlen);
		rc = -1;
	}
	sqlite3_finalize(st);
	return rc;
}

enum offline_result
offline_verify(sqlite3 *db, const char *okta_id, const char *password,
    time_t now, const struct offline_policy *p, long long *retry_after,
    char *err, size_t errlen)
{
	struct stored s;
	char *hash;
	enum offline_result res;
	size_t n;
	int r;

	if (retry_after != NULL)
		*retry_after = 0;
	r = load(db, okta_id, &s, err, errlen);
	if (r <= 0)
		return r == 0 ? OFFLINE_NONE : OFFLINE_ERROR;
	if ((long long)now - s.stored_at > p->expiration) {
		res = offline_forget(db, okta_id, err, errlen) == 0 ?
		    OFFLINE_EXPIRED : OFFLINE_ERROR;
		goto out;
	}
	/* The delay is checked before any hashing: a guess costs the
	 * guesser the delay, not us the CPU. */
	if (p->failed_login_attempts > 0 &&
	    s.failures >= p->failed_login_attempts &&
	    (long long)now < s.last_failure + p->failed_login_delay) {
		if (retry_after != NULL)
			*retry_after = s.last_failure + p->failed_login_delay -
			    (long long)now;
		res = OFFLINE_DELAYED;
		goto out;
	}
	if (strncmp(s.hash, YESCRYPT_PREFIX, strlen(YESCRYPT_PREFIX)) != 0) {
		snprintf(err, errlen, "cache.db holds an offline credential "
		    "that is not a yescrypt hash; ignoring it");
		res = OFFLINE_ERROR;
		goto out;
	}
	hash = hash_with(password != NULL ? password : "", s.hash, err,
	    errlen);
	if (hash == NULL) {
		res = OFFLINE_ERROR;
		goto out;
	}
	n = strlen(s.hash);
	if (strlen(hash) == n && CRYPTO_memcmp(hash, s.hash, n) == 0) {
		res = exec_row(db, "UPDATE offline_creds SET failures = 0,"
		    " last_failure = 0 WHERE okta_id = ?", okta_id, 0,
		    "updating", err, errlen) == 0 ? OFFLINE_OK : OFFLINE_ERROR;
	} else {
		/* Counted in SQL, so that two guesses at once both count. */
		res = exec_row(db, "UPDATE offline_creds SET failures ="
		    " failures + 1, last_failure = ?2 WHERE okta_id = ?1",
		    okta_id, (long long)now, "updating", err, errlen) == 0 ?
		    OFFLINE_WRONG : OFFLINE_ERROR;
	}
	free_secret(hash);
out:
	free_secret(s.hash);
	return res;
}

int
offline_forget(sqlite3 *db, const char *okta_id, char *err, size_t errlen)
{
	return exec_row(db, "DELETE FROM offline_creds WHERE okta_id = ?",
	    okta_id, 0, "wiping", err, errlen);
}

int
offline_stored_at(sqlite3 *db, const char *okta_id, long long *stored_at)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT stored_at FROM offline_creds WHERE"
	    " okta_id = ?", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, okta_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && stored_at != NULL)
		*stored_at = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
offline_has(sqlite3 *db, const char *okta_id)
{
	return offline_stored_at(db, okta_id, NULL);
}
