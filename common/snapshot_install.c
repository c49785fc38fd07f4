/*
 * snapshot_install.c - staging, temporary file, fsync, rename, fsync the
 * directory (see snapshot_install.h for why this is the only way a
 * snapshot changes).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crashpoint.h"
#include "snapshot_install.h"

/* The directory part of path into dir ("." when there is none). */
static int
dir_of(const char *path, char *dir, size_t dirlen, const char **base)
{
	const char *slash = strrchr(path, '/');
	int n;

	*base = slash ? slash + 1 : path;
	if (slash == NULL)
		n = snprintf(dir, dirlen, ".");
	else if (slash == path)
		n = snprintf(dir, dirlen, "/");
	else
		n = snprintf(dir, dirlen, "%.*s", (int)(slash - path), path);
	return **base == '\0' || n < 0 || (size_t)n >= dirlen ? -1 : 0;
}

int
snap_install_tmp(const char *path, char *tmp, size_t tmplen, char *err,
    size_t errlen)
{
	char dir[PATH_MAX];
	const char *base;
	int n, fd;

	if (dir_of(path, dir, sizeof(dir), &base) != 0) {
		snprintf(err, errlen, "bad snapshot path \"%s\"", path);
		return -1;
	}
	n = snprintf(tmp, tmplen, "%s/.%s.XXXXXX", dir, base);
	if (n < 0 || (size_t)n >= tmplen) {
		snprintf(err, errlen, "snapshot path \"%s\" is too long", path);
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "cannot create a temporary file in %s: %s",
		    dir, strerror(errno));
		return -1;
	}
	return fd;
}

int
snap_install_stage(void)
{
	return memfd_create("okta-snapshot", MFD_CLOEXEC);
}

int
snap_install_copy(int src, int fd, const char *tmp, char *err, size_t errlen)
{
	struct stat sb;
	off_t off = 0;
	ssize_t n;

	if (fstat(src, &sb) != 0) {
		snprintf(err, errlen, "writing the snapshot %s: %s", tmp,
		    strerror(errno));
		return -1;
	}
	/* sendfile copies in the kernel: no buffer here, no pages mapped. */
	while (off < sb.st_size) {
		n = sendfile(fd, src, &off, (size_t)(sb.st_size - off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "writing the snapshot %s: %s", tmp,
			    n < 0 ? strerror(errno) : "the copy stopped short");
			return -1;
		}
	}
	return 0;
}

int
snap_install(int fd, const char *tmp, const char *path, char *err,
    size_t errlen)
{
	char dir[PATH_MAX];
	const char *base;
	int dfd;

	if (dir_of(path, dir, sizeof(dir), &base) != 0) {
		snprintf(err, errlen, "bad snapshot path \"%s\"", path);
		close(fd);
		return -1;
	}
	if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "syncing the snapshot %s: %s", tmp,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (close(fd) != 0) {
		snprintf(err, errlen, "closing the snapshot %s: %s", tmp,
		    strerror(errno));
		return -1;
	}
	if (crashpoint("before-rename") != 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "renaming %s to %s: %s", tmp, path,
		    strerror(errno));
		return -1;
	}
	(void)crashpoint("after-rename");
	/* The rename is only durable once the directory is. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(dfd) != 0) {
		snprintf(err, errlen, "syncing the directory %s: %s", dir,
		    strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return 1;
	}
	close(dfd);
	return 0;
}
