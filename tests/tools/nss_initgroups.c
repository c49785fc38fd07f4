/*
 * nss_initgroups.c - run a command as a user the way systemd runs a unit
 * with `User=USER Group=GROUP`: initgroups(USER, GID of GROUP), then
 * setgid(GROUP), setuid(USER's UID), exec (issue 14, done-when 5).
 *
 *   nss_initgroups USER GROUP COMMAND [ARG...]
 *
 * USER and GROUP are names or numbers, resolved through glibc (so through
 * libnss_okta where nsswitch.conf says so).  Must run as root.  Exit
 * status 127 with a message when a step fails; otherwise COMMAND's.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
fail(const char *what, const char *arg)
{
	fprintf(stderr, "nss_initgroups: %s %s: %s\n", what, arg,
	    errno ? strerror(errno) : "not found");
	return 127;
}

int
main(int argc, char **argv)
{
	struct passwd *pw;
	struct group *gr;
	char *end;
	unsigned long v;
	gid_t gid;
	uid_t uid;

	if (argc < 4) {
		fprintf(stderr, "usage: nss_initgroups USER GROUP COMMAND [ARG...]\n");
		return 2;
	}
	errno = 0;
	if ((pw = getpwnam(argv[1])) == NULL)
		return fail("no user", argv[1]);
	uid = pw->pw_uid;
	errno = 0;
	v = strtoul(argv[2], &end, 10);
	if (*argv[2] != '\0' && *end == '\0') {
		gid = (gid_t)v;
	} else {
		if ((gr = getgrnam(argv[2])) == NULL)
			return fail("no group", argv[2]);
		gid = gr->gr_gid;
	}
	errno = 0;
	if (initgroups(argv[1], gid) != 0)
		return fail("initgroups", argv[1]);
	if (setgid(gid) != 0)
		return fail("setgid", argv[2]);
	if (setuid(uid) != 0)
		return fail("setuid", argv[1]);
	execvp(argv[3], argv + 3);
	return fail("exec", argv[3]);
}
