/*
 * test_pam_local_passwd.c - common/local_passwd.c, the "is this a local
 * account?" check pam_okta makes without NSS: exact names only, long lines
 * (the ERANGE retry), malformed lines skipped, a missing file reported,
 * and a file that is not trusted (not root's, writable by group or others,
 * not a regular file) refused with EPERM, never read (issue 16 finding 9:
 * a forged "local" name would make pam_okta leave an Okta user alone).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "local_passwd.h"

static char path[64];

/* Write `text` to a fresh temporary file named in `path`. */
static int
write_file(const char *text)
{
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/okta-local-passwd-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		return -1;
	}
	fputs(text, f);
	return fclose(f);
}

TEST(exact_names)
{
	uint32_t uid = 7;

	ASSERT(write_file("root:x:0:0:root:/root:/bin/bash\n"
	    "alice:x:1000:1000::/home/alice:/bin/sh\n") == 0);
	ASSERT_INT_EQ(local_passwd_lookup(path, "alice", &uid), 1);
	ASSERT_INT_EQ(uid, 1000);
	ASSERT_INT_EQ(local_passwd_lookup(path, "root", &uid), 1);
	ASSERT_INT_EQ(uid, 0);
	ASSERT_INT_EQ(local_passwd_lookup(path, "ali", NULL), 0);
	ASSERT_INT_EQ(local_passwd_lookup(path, "alice2", NULL), 0);
	ASSERT_INT_EQ(local_passwd_lookup(path, "", NULL), -1);
	unlink(path);
}

TEST(long_line_and_malformed_lines)
{
	char *text, gecos[10000];
	uint32_t uid = 0;

	memset(gecos, 'g', sizeof(gecos) - 1);
	gecos[sizeof(gecos) - 1] = '\0';
	text = malloc(sizeof(gecos) + 256);
	ASSERT(text != NULL);
	snprintf(text, sizeof(gecos) + 256, "this line is not a passwd entry\n"
	    "long:x:1001:1001:%s:/home/long:/bin/sh\n"
	    "after:x:1002:1002::/home/after:/bin/sh\n", gecos);
	ASSERT(write_file(text) == 0);
	free(text);
	ASSERT_INT_EQ(local_passwd_lookup(path, "long", &uid), 1);
	ASSERT_INT_EQ(uid, 1001);
	ASSERT_INT_EQ(local_passwd_lookup(path, "after", &uid), 1);
	ASSERT_INT_EQ(uid, 1002);
	ASSERT_INT_EQ(local_passwd_lookup(path, "nobody-here", NULL), 0);
	unlink(path);
}

TEST(missing_file)
{
	errno = 0;
	ASSERT_INT_EQ(local_passwd_lookup("/nonexistent/passwd", "root", NULL), -1);
	ASSERT_INT_EQ(errno, ENOENT);
}

TEST(default_path_has_root)
{
	uint32_t uid = 7;

	ASSERT_INT_EQ(local_passwd_lookup(NULL, "root", &uid), 1);
	ASSERT_INT_EQ(uid, 0);
}

TEST(untrusted_file_refused)
{
	char fifo[80];
	uint32_t uid = 7;

	ASSERT(write_file("alice:x:1000:1000::/home/alice:/bin/sh\n") == 0);
	ASSERT_INT_EQ(local_passwd_lookup(path, "alice", &uid), 1);
	ASSERT(chmod(path, 0664) == 0);
	errno = 0;
	ASSERT_INT_EQ(local_passwd_lookup(path, "alice", &uid), -1);
	ASSERT_INT_EQ(errno, EPERM);
	ASSERT(chmod(path, 0602) == 0);
	ASSERT_INT_EQ(local_passwd_lookup(path, "alice", &uid), -1);
	ASSERT_INT_EQ(errno, EPERM);
	ASSERT(chmod(path, 0600) == 0);
	ASSERT_INT_EQ(local_passwd_lookup(path, "alice", &uid), 1);
	ASSERT(chown(path, 65534, 0) == 0);
	ASSERT_INT_EQ(local_passwd_lookup(path, "alice", &uid), -1);
	ASSERT_INT_EQ(errno, EPERM);
	unlink(path);
	/* A FIFO with no writer: refused at once, never waited on. */
	snprintf(fifo, sizeof(fifo), "%s.fifo", path);
	ASSERT(mkfifo(fifo, 0644) == 0);
	alarm(10);
	ASSERT_INT_EQ(local_passwd_lookup(fifo, "alice", &uid), -1);
	alarm(0);
	ASSERT_INT_EQ(errno, EPERM);
	unlink(fifo);
	ASSERT_INT_EQ(local_passwd_lookup("/tmp", "alice", &uid), -1);
	ASSERT_INT_EQ(errno, EPERM);
}

int
main(void)
{
	RUN(exact_names);
	RUN(long_line_and_malformed_lines);
	RUN(missing_file);
	RUN(default_path_has_root);
	RUN(untrusted_file_refused);
	return test_done();
}
