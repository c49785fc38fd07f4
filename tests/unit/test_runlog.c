/*
 * test_runlog.c - sync-errors.log: records round-trip newest first, only
 * the last RUNLOG_KEEP are kept, the file is 0600 and never torn, bad
 * lines are skipped, and a failure to record never fails the caller.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "runlog.h"

static char dir[64];

static void
fresh_dir(void)
{
	if (dir[0] != '\0' && test_rmtree(dir) != 0)
		perror("rm");
	snprintf(dir, sizeof(dir), "/tmp/test_runlog.XXXXXX");
	if (mkdtemp(dir) == NULL)
		perror("mkdtemp");
}

static char *
log_path(void)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, RUNLOG_NAME);
	return p;
}

TEST(missing_file_is_empty)
{
	struct runlog_entry v[4];

	fresh_dir();
	ASSERT_INT_EQ(runlog_read(dir, v, 4), 0);
}

TEST(record_and_read_back)
{
	struct runlog_entry v[RUNLOG_KEEP];
	struct stat sb;
	time_t before = time(NULL);

	fresh_dir();
	runlog_record_failure(dir, OK_ERR_AUTH, "401 from https://x/api/v1/users");
	runlog_record_failure(dir, OK_ERR_REFUSED, "would remove \"50\" users\nof 100");
	ASSERT_INT_EQ(runlog_read(dir, v, RUNLOG_KEEP), 2);
	/* Newest first. */
	ASSERT_STR_EQ(v[0].error, "OK_ERR_REFUSED");
	ASSERT_STR_EQ(v[0].message, "would remove \"50\" users\nof 100");
	ASSERT_STR_EQ(v[1].error, "OK_ERR_AUTH");
	ASSERT_STR_EQ(v[1].message, "401 from https://x/api/v1/users");
	ASSERT(v[1].time >= (long long)before && v[1].time <= (long long)time(NULL));
	ASSERT(stat(log_path(), &sb) == 0);
	ASSERT_INT_EQ(sb.st_mode & 0777, 0600);
	/* A reader asking for fewer gets the newest. */
	ASSERT_INT_EQ(runlog_read(dir, v, 1), 1);
	ASSERT_STR_EQ(v[0].error, "OK_ERR_REFUSED");
}

TEST(keeps_only_the_last_entries)
{
	struct runlog_entry v[RUNLOG_KEEP + 5];
	char msg[32], line[8192];
	FILE *f;
	int i, lines = 0;

	fresh_dir();
	for (i = 0; i < RUNLOG_KEEP + 7; i++) {
		snprintf(msg, sizeof(msg), "failure %d", i);
		runlog_record_failure(dir, OK_ERR_SERVER, msg);
	}
	ASSERT_INT_EQ(runlog_read(dir, v, RUNLOG_KEEP + 5), RUNLOG_KEEP);
	snprintf(msg, sizeof(msg), "failure %d", RUNLOG_KEEP + 6);
	ASSERT_STR_EQ(v[0].message, msg);
	ASSERT_STR_EQ(v[RUNLOG_KEEP - 1].message, "failure 7");
	ASSERT((f = fopen(log_path(), "r")) != NULL);
	while (fgets(line, sizeof(line), f) != NULL)
		lines++;
	fclose(f);
	ASSERT_INT_EQ(lines, RUNLOG_KEEP);
}

TEST(bad_lines_are_skipped)
{
	struct runlog_entry v[8];
	FILE *f;
	int i;

	fresh_dir();
	ASSERT((f = fopen(log_path(), "w")) != NULL);
	fputs("{\"time\":100,\"error\":\"OK_ERR_TLS\",\"message\":\"m1\"}\n", f);
	fputs("not json\n", f);
	fputs("{\"time\":\"x\",\"error\":\"OK_ERR_TLS\"}\n", f);
	fputs("[1,2]\n", f);
	fputs("{\"time\":200,\"error\":\"a sentence\"}\n", f);
	fputs("{\"time\":300,\"error\":\"OK_ERR_DNS\",\"message\":\"", f);
	for (i = 0; i < RUNLOG_LINE_MAX; i++)
		fputc('x', f);	/* an over-long line */
	fputs("\"}\n", f);
	fclose(f);
	ASSERT_INT_EQ(runlog_read(dir, v, 8), 2);
	ASSERT_INT_EQ(v[0].time, 200);
	ASSERT_STR_EQ(v[0].error, "a sentence");
	ASSERT_STR_EQ(v[0].message, "");
	ASSERT_INT_EQ(v[1].time, 100);
	/* A record keeps the good old lines and drops the bad ones. */
	runlog_record_failure(dir, OK_ERR_CONNECT, NULL);
	ASSERT_INT_EQ(runlog_read(dir, v, 8), 3);
	ASSERT_STR_EQ(v[0].error, "OK_ERR_CONNECT");
	ASSERT_STR_EQ(v[2].message, "m1");
}

TEST(long_detail_is_cut_on_a_character)
{
	struct runlog_entry v[2];
	char big[3000];
	size_t i, n;

	fresh_dir();
	/* "é" is two bytes: any cut must fall between characters. */
	for (i = 0; i + 2 < sizeof(big); i += 2) {
		big[i] = (char)0xC3;
		big[i + 1] = (char)0xA9;
	}
	big[i] = '\0';
	runlog_record_failure(dir, OK_ERR_PROTOCOL, big);
	ASSERT_INT_EQ(runlog_read(dir, v, 2), 1);
	n = strlen(v[0].message);
	ASSERT(n > 0 && n < sizeof(v[0].message));
	ASSERT(n % 2 == 0);
}

TEST(failures_never_fail_the_caller)
{
	struct runlog_entry v[2];
	char sub[128];

	fresh_dir();
	/* A directory where the log should be: reading fails with errno,
	 * recording warns and leaves it. */
	ASSERT(mkdir(log_path(), 0700) == 0);
	ASSERT_INT_EQ(runlog_read(dir, v, 2), -1);
	runlog_record_failure(dir, OK_ERR_AUTH, "x");
	/* A cache dir that cannot be created. */
	snprintf(sub, sizeof(sub), "%s/file", dir);
	fclose(fopen(sub, "w"));
	snprintf(sub, sizeof(sub), "%s/file/sub", dir);
	runlog_record_failure(sub, OK_ERR_AUTH, "x");
	ASSERT_INT_EQ(runlog_read(sub, v, 2), -1);
}

TEST(names_and_sentences)
{
	ASSERT_STR_EQ(runlog_err_name(OK_ERR_AUTH), "OK_ERR_AUTH");
	ASSERT_STR_EQ(runlog_err_name(OK_ERR_MAX), "OK_ERR_UNKNOWN");
	ASSERT_STR_EQ(runlog_err_sentence("OK_ERR_REFUSED"),
	    err_sentence(OK_ERR_REFUSED));
	ASSERT(runlog_err_sentence("something else") == NULL);
}

int
main(void)
{
	RUN(missing_file_is_empty);
	RUN(record_and_read_back);
	RUN(keeps_only_the_last_entries);
	RUN(bad_lines_are_skipped);
	RUN(long_detail_is_cut_on_a_character);
	RUN(failures_never_fail_the_caller);
	RUN(names_and_sentences);
	if (test_rmtree(dir) != 0)
		perror("rm");
	return test_done();
}
