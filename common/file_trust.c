/*
 * file_trust.c - the trust check on files read by the modules (see
 * file_trust.h for the rule and why it is made on the descriptor).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <unistd.h>

#include "file_trust.h"

int
file_trust_check(const struct stat *st, const char **why)
{
	const char *w = NULL;

	if (!S_ISREG(st->st_mode))
		w = "is not a regular file";
	else if (st->st_uid != 0)
		w = "is not owned by root";
	else if (st->st_mode & (S_IWGRP | S_IWOTH))
		w = "is writable by its group or by others";
	if (why != NULL)
		*why = w;
	if (w == NULL)
		return 0;
	errno = EPERM;
	return -1;
}

int
file_trust_open(const char *path, struct stat *st, const char **why)
{
	struct stat sb;
	int fd, e;

	if (why != NULL)
		*why = NULL;
	if (st == NULL)
		st = &sb;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0 || file_trust_check(st, why) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}
