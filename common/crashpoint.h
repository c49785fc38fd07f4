/*
 * crashpoint.h - deterministic kill points for the crash-consistency test.
 *
 * In a build made with -DOKTA_TEST_HOOKS (make TEST_HOOKS=1; make check
 * builds one into build/hooks for tests/integration/test_sync_robust.py),
 * crashpoint("name") kills the process with SIGKILL when the environment
 * variable OKTA_SYNC_CRASH_AT equals "name", exactly as `kill -9` would at
 * that instant.  Otherwise it returns 0, so that it can stand in a chain
 * of `|| step() != 0` calls.  In every other build, the installed and
 * packaged ones included, it is the constant 0: no hook ships.
 *
 * The points: "before-commit" (the cache transaction is complete but not
 * committed), "after-commit" (cache.db holds the new generation, nothing
 * is published yet), "before-rename" (the new snapshot is written and
 * fsynced under its temporary name) and "after-rename" (it is in place).
 */
#ifndef OKTA_CRASHPOINT_H
#define OKTA_CRASHPOINT_H

#ifdef OKTA_TEST_HOOKS
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static inline int
crashpoint(const char *name)
{
	const char *at = getenv("OKTA_SYNC_CRASH_AT");

	if (at != NULL && strcmp(at, name) == 0)
		raise(SIGKILL);
	return 0;
}
#else
#define crashpoint(name) 0
#endif

#endif
