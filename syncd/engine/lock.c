/* lock.c - the per-host sync lock (see lock.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lock.h"
#include "xmalloc.h"

okerr
sync_lock_acquire(const char *dir, int wait, int *out, char *err, size_t errlen)
{
	char *path = xasprintf("%s/%s", dir, SYNC_LOCK_NAME);
	struct flock fl;
	okerr rc = OK_ERR_CACHE;
	int fd;

	*out = -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	for (;;) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EACCES || errno == EAGAIN) {
			memset(&fl, 0, sizeof(fl));
			fl.l_type = F_WRLCK;
			fl.l_whence = SEEK_SET;
			if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
				snprintf(err, errlen, "another okta-sync sync or "
				    "okta-syncd is running (pid %ld); use --wait to "
				    "wait for it", (long)fl.l_pid);
			else
				snprintf(err, errlen, "another okta-sync sync or "
				    "okta-syncd is running; use --wait to wait for it");
			rc = OK_ERR_BUSY;
		} else
			snprintf(err, errlen, "cannot lock %s: %s", path,
			    strerror(errno));
		close(fd);
		goto out;
	}
	*out = fd;
	rc = OK_SUCCESS;
out:
	free(path);
	return rc;
}

void
sync_lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
