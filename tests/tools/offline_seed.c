/*
 * offline_seed.c - store an offline credential in cache.db as a fully
 * successful online login would (syncd/auth/offline.h), so that the
 * tests of the sync's wiping (tests/integration/test_auth_offline_wipe.py)
 * need neither the broker nor the emulator's login path.
 *
 *   build/tests/offline_seed CACHE_DIR OKTA_ID < password
 *
 * The password is read from standard input (one line, the newline
 * dropped), never from argv: the same rule as for the daemon.  It goes
 * through the real offline_store (yescrypt, a fresh salt), stored_at now.
 * Exit 0 stored, 1 failed (the reason on stderr), 2 usage.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "offline.h"

int
main(int argc, char **argv)
{
	char pw[1024], err[512];
	sqlite3 *db = NULL;
	size_t n;
	int rc = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: offline_seed CACHE_DIR OKTA_ID < password\n");
		return 2;
	}
	if (fgets(pw, sizeof(pw), stdin) == NULL) {
		fprintf(stderr, "offline_seed: no password on standard input\n");
		return 1;
	}
	n = strcspn(pw, "\n");
	pw[n] = '\0';
	if (cache_open(argv[1], CACHE_READ_WRITE, &db, err, sizeof(err)) !=
	    OK_SUCCESS)
		fprintf(stderr, "offline_seed: %s\n", err);
	else if (offline_store(db, argv[2], pw, time(NULL), err,
	    sizeof(err)) != 0)
		fprintf(stderr, "offline_seed: %s\n", err);
	else
		rc = 0;
	explicit_bzero(pw, sizeof(pw));
	cache_close(db);
	return rc;
}
