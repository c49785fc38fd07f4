/*
 * testlib.h - tiny unit-test harness, after OpenSSH's regress/unittests.
 *
 * TEST(name) defines a case; ASSERT(expr) fails the case with the file, line,
 * expression and errno; main() calls RUN(name) for each case and returns
 * test_done().  Output is one "PASS: file: case" or "FAIL: ..." line per
 * case, which tests/run.sh counts.
 */
#ifndef OKTA_TESTLIB_H
#define OKTA_TESTLIB_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failed_cases, test_case_failed;

#define TEST(name) static void name(void)

#define ASSERT(e) do { \
	if (!(e)) { \
		fprintf(stderr, "  %s:%d: ASSERT(%s) failed (errno %d: %s)\n", \
		    __FILE__, __LINE__, #e, errno, strerror(errno)); \
		test_case_failed = 1; \
		return; \
	} \
} while (0)

#define ASSERT_STR_EQ(a, b) do { \
	const char *a_ = (a), *b_ = (b); \
	if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) { \
		fprintf(stderr, "  %s:%d: ASSERT_STR_EQ(%s, %s) failed: \"%s\" != \"%s\"\n", \
		    __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
		test_case_failed = 1; \
		return; \
	} \
} while (0)

#define ASSERT_INT_EQ(a, b) do { \
	long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ != b_) { \
		fprintf(stderr, "  %s:%d: ASSERT_INT_EQ(%s, %s) failed: %lld != %lld\n", \
		    __FILE__, __LINE__, #a, #b, a_, b_); \
		test_case_failed = 1; \
		return; \
	} \
} while (0)

#define RUN(name) test_run(__FILE__, #name, name)

static void
test_run(const char *file, const char *name, void (*fn)(void))
{
	const char *base = strrchr(file, '/');

	test_case_failed = 0;
	errno = 0;
	fn();
	printf("%s: %s: %s\n", test_case_failed ? "FAIL" : "PASS",
	    base ? base + 1 : file, name);
	fflush(stdout);
	if (test_case_failed)
		test_failed_cases++;
}

/* Remove a scratch directory a test made (with mkdtemp) and everything
 * in it.  0, or -1 when rm failed.  Not every test needs it. */
__attribute__((unused)) static int
test_rmtree(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int
test_done(void)
{
	return test_failed_cases ? 1 : 0;
}

#endif
