/* test_offline.c - offline credentials in cache.db (syncd/auth/offline.h):
 * store then verify, wrong passwords counted, the delay after too many
 * (without hashing), expiry wiping the row, forget, and that cache.db
 * holds a yescrypt hash and never the password. */
#include <crypt.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "cache.h"
#include "offline.h"

#define PW "correct horse Battery staple 7"
#define ID "00ujane"
#define T0 ((time_t)1800000000)

static char dir[] = "/tmp/test_offline.XXXXXX";

/* Linked with -Wl,--wrap=crypt_r (Makefile): every hash offline.c
 * computes is counted, so that "not even hashed" can be asserted. */
static int crypt_calls;
char *__real_crypt_r(const char *phrase, const char *setting,
    struct crypt_data *data);
char *__wrap_crypt_r(const char *phrase, const char *setting,
    struct crypt_data *data);

char *
__wrap_crypt_r(const char *phrase, const char *setting,
    struct crypt_data *data)
{
	crypt_calls++;
	return __real_crypt_r(phrase, setting, data);
}
static const struct offline_policy pol = { 7 * 86400, 3, 300 };

static sqlite3 *
open_db(void)
{
	sqlite3 *db = NULL;
	char err[256];

	if (cache_open(dir, CACHE_READ_WRITE, &db, err, sizeof(err)) != OK_SUCCESS) {
		fprintf(stderr, "  cache_open: %s\n", err);
		return NULL;
	}
	return db;
}

/* The row's failures count (-1: none). */
static long long
failures(sqlite3 *db, const char *id)
{
	sqlite3_stmt *st;
	long long n = -1;

	if (sqlite3_prepare_v2(db, "SELECT failures FROM offline_creds WHERE"
	    " okta_id = ?", -1, &st, NULL) != SQLITE_OK)
		return -2;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void
stored_hash(sqlite3 *db, const char *id, char *out, size_t outlen)
{
	sqlite3_stmt *st;

	out[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT hash FROM offline_creds WHERE"
	    " okta_id = ?", -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, outlen, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

TEST(store_then_verify)
{
	sqlite3 *db = open_db();
	char err[256];
	long long ra = -1, at = 0;

	ASSERT(db != NULL);
	ASSERT_INT_EQ(offline_has(db, ID), 0);
	ASSERT_INT_EQ(offline_verify(db, ID, PW, T0, &pol, &ra, err, sizeof(err)),
	    OFFLINE_NONE);
	ASSERT_INT_EQ(offline_store(db, ID, PW, T0, err, sizeof(err)), 0);
	ASSERT_INT_EQ(offline_has(db, ID), 1);
	ASSERT_INT_EQ(offline_stored_at(db, ID, &at), 1);
	ASSERT_INT_EQ(at, T0);
	ASSERT_INT_EQ(offline_verify(db, ID, PW, T0 + 60, &pol, &ra, err,
	    sizeof(err)), OFFLINE_OK);
	ASSERT_INT_EQ(ra, 0);
	/* Another user has nothing, whatever the password. */
	ASSERT_INT_EQ(offline_verify(db, "00ubob", PW, T0 + 60, &pol, NULL, err,
	    sizeof(err)), OFFLINE_NONE);
	/* An empty password is never stored. */
	ASSERT_INT_EQ(offline_store(db, "00ubob", "", T0, err, sizeof(err)), -1);
	ASSERT_INT_EQ(offline_has(db, "00ubob"), 0);
	cache_close(db);
}

TEST(wrong_password_counted)
{
	sqlite3 *db = open_db();
	char err[256];

	ASSERT(db != NULL);
	ASSERT_INT_EQ(offline_store(db, ID, PW, T0, err, sizeof(err)), 0);
	ASSERT_INT_EQ(offline_verify(db, ID, PW "x", T0 + 1, &pol, NULL, err,
	    sizeof(err)), OFFLINE_WRONG);
	ASSERT_INT_EQ(failures(db, ID), 1);
	ASSERT_INT_EQ(offline_verify(db, ID, "correct horse", T0 + 2, &pol, NULL,
	    err, sizeof(err)), OFFLINE_WRONG);
	ASSERT_INT_EQ(failures(db, ID), 2);
	/* A right one resets the count. */
	ASSERT_INT_EQ(offline_verify(db, ID, PW, T0 + 3, &pol, NULL, err,
	    sizeof(err)), OFFLINE_OK);
	ASSERT_INT_EQ(failures(db, ID), 0);
	cache_close(db);
}

TEST(delayed_after_failures)
{
	sqlite3 *db = open_db();
	char err[256];
	long long ra = -1;
	int i, calls;

	ASSERT(db != NULL);
	ASSERT_INT_EQ(offline_store(db, ID, PW, T0, err, sizeof(err)), 0);
	for (i = 0; i < pol.failed_login_attempts; i++)
		ASSERT_INT_EQ(offline_verify(db, ID, "guess", T0 + 10 + i, &pol,
		    NULL, err, sizeof(err)), OFFLINE_WRONG);
	/* Now even the right password waits, and is not counted. */
	ASSERT_INT_EQ(offline_verify(db, ID, PW, T0 + 20, &pol, &ra, err,
	    sizeof(err)), OFFLINE_DELAYED);
	ASSERT_INT_EQ(ra, (T0 + 12 + pol.failed_login_delay) - (T0 + 20));
	ASSERT_INT_EQ(failures(db, ID), pol.failed_login_attempts);
	/* Not even hashed while delayed: the delay is what makes guessing
	 * slow, not our CPU. */
	calls = crypt_calls;
	ASSERT_INT_EQ(offline_verify(db, ID, "guess", T0 + 21, &pol, &ra, err,
	    sizeof(err)), OFFLINE_DELAYED);
	ASSERT_INT_EQ(crypt_calls, calls);
	ASSERT(calls > 0);      /* the wrap sees offline.c's hashing */
	/* After the delay, the right one works again. */
	ASSERT_INT_EQ(offline_verify(db, ID, PW, T0 + 12 + pol.failed_login_delay,
	    &pol, &ra, err, sizeof(err)), OFFLINE_OK);
	ASSERT_INT_EQ(failures(db, ID), 0);
	/* A wrong one after the delay is counted and delays again. */
	for (i = 0; i < pol.failed_login_attempts; i++)
		ASSERT_INT_EQ(offline_verify(db, ID, "guess", T0 + 1000, &pol,
		    NULL, err, sizeof(err)), OFFLINE_WRONG);
	ASSERT_INT_EQ(offline_verify(db, ID, "guess", T0 + 1000 +
	    pol.failed_login_delay, &pol, NULL, err, sizeof(err)), OFFLINE_WRONG);
	ASSERT_INT_EQ(offline_verify(db, ID, PW, T0 + 1001 +
	    pol.failed_login_delay, &pol, &ra, err, sizeof(err)), OFFLINE_DELAYED);
	ASSERT_INT_EQ(ra, pol.failed_login_delay - 1);
	cache_close(db);
}

TEST(expired_wiped)
{
	sqlite3 *db = open_db();
	char err[256];

	ASSERT(db != NULL);
	ASSERT_INT_EQ(offline_store(db, ID, PW, T0, err, sizeof(err)), 0);
	ASSERT_INT_EQ(offline_verify(db, ID, PW, T0 + pol.expiration, &pol, NULL,
	    err, sizeof(err)), OFFLINE_OK);
	ASSERT_INT_EQ(offline_verify(db, ID, PW, T0 + pol.expiration + 1, &pol,
	    NULL, err, sizeof(err)), OFFLINE_EXPIRED);
	ASSERT_INT_EQ(offline_has(db, ID), 0);
	ASSERT_INT_EQ(offline_verify(db, ID, PW, T0 + pol.expiration + 2, &pol,
	    NULL, err, sizeof(err)), OFFLINE_NONE);
	/* A new online login stores it afresh. */
	ASSERT_INT_EQ(offline_store(db, ID, PW, T0 + pol.expiration + 3, err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(offline_verify(db, ID, PW, T0 + pol.expiration + 4, &pol,
	    NULL, err, sizeof(err)), OFFLINE_OK);
	cache_close(db);
}

TEST(forget)
{
	sqlite3 *db = open_db();
	char err[256];

	ASSERT(db != NULL);
	ASSERT_INT_EQ(offline_store(db, ID, PW, T0, err, sizeof(err)), 0);
	ASSERT_INT_EQ(offline_store(db, "00ubob", "bobs password", T0, err,
	    sizeof(err)), 0);
	ASSERT_INT_EQ(offline_forget(db, ID, err, sizeof(err)), 0);
	ASSERT_INT_EQ(offline_has(db, ID), 0);
	ASSERT_INT_EQ(offline_verify(db, ID, PW, T0 + 1, &pol, NULL, err,
	    sizeof(err)), OFFLINE_NONE);
	ASSERT_INT_EQ(offline_has(db, "00ubob"), 1);
	/* Nothing stored is fine too. */
	ASSERT_INT_EQ(offline_forget(db, ID, err, sizeof(err)), 0);
	ASSERT_INT_EQ(offline_forget(db, "00ubob", err, sizeof(err)), 0);
	cache_close(db);
}

/* Does the file hold needle anywhere?  1, 0, or -1 (unreadable). */
static int
file_holds(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;
	size_t nl = strlen(needle);
	int hit = 0;

	if (f == NULL)
		return 0;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	hit = memmem(buf, (size_t)n, needle, nl) != NULL;
	free(buf);
	return hit;
}

TEST(hash_is_yescrypt_never_the_password)
{
	sqlite3 *db = open_db();
	char err[256], h1[256], h2[256], path[300];
	static const char *const files[] = { "cache.db", "cache.db-wal" };
	size_t i;
	int seen;

	ASSERT(db != NULL);
	ASSERT_INT_EQ(offline_store(db, ID, PW, T0, err, sizeof(err)), 0);
	stored_hash(db, ID, h1, sizeof(h1));
	ASSERT(strncmp(h1, "$y$", 3) == 0);
	ASSERT(strstr(h1, PW) == NULL);
	/* A fresh salt each time: the same password stores differently. */
	ASSERT_INT_EQ(offline_store(db, ID, PW, T0, err, sizeof(err)), 0);
	stored_hash(db, ID, h2, sizeof(h2));
	ASSERT(strncmp(h2, "$y$", 3) == 0);
	ASSERT(strcmp(h1, h2) != 0);
	ASSERT_INT_EQ(offline_verify(db, ID, PW "!", T0 + 1, &pol, NULL, err,
	    sizeof(err)), OFFLINE_WRONG);
	ASSERT(strstr(err, PW) == NULL);
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		ASSERT_INT_EQ(file_holds(path, PW), 0);
		ASSERT_INT_EQ(file_holds(path, "Battery staple"), 0);
	}
	cache_close(db);
	for (i = 0, seen = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		seen += file_holds(path, h2) == 1;   /* the check can see */
		ASSERT_INT_EQ(file_holds(path, PW), 0);
	}
	ASSERT(seen > 0);
}

TEST(no_attempt_limit)
{
	/* failed_login_attempts 0: never delayed. */
	static const struct offline_policy p0 = { 86400, 0, 300 };
	sqlite3 *db = open_db();
	char err[256];
	int i;

	ASSERT(db != NULL);
	ASSERT_INT_EQ(offline_store(db, ID, PW, T0, err, sizeof(err)), 0);
	for (i = 0; i < 4; i++)
		ASSERT_INT_EQ(offline_verify(db, ID, "guess", T0 + 1, &p0, NULL,
		    err, sizeof(err)), OFFLINE_WRONG);
	ASSERT_INT_EQ(offline_verify(db, ID, PW, T0 + 1, &p0, NULL, err,
	    sizeof(err)), OFFLINE_OK);
	cache_close(db);
}

int
main(void)
{
	int rc;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	RUN(store_then_verify);
	RUN(wrong_password_counted);
	RUN(delayed_after_failures);
	RUN(expired_wiped);
	RUN(forget);
	RUN(hash_is_yescrypt_never_the_password);
	RUN(no_attempt_limit);
	rc = test_done();
	test_rmtree(dir);
	return rc;
}
