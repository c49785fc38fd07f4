/*
 * fleet_file.c - reading and writing fleet mode's files (see fleet_file.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fleet_file.h"
#include "xmalloc.h"

#define STATE_MAX 4096

int
fleet_read_file(const char *path, size_t max, unsigned char **out,
    size_t *len, char *err, size_t errlen)
{
	unsigned char *buf = NULL;
	struct stat sb;
	size_t off = 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	*out = NULL;
	*len = 0;
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (uint64_t)sb.st_size > max) {
		snprintf(err, errlen, "%s is not a regular file of at most %zu "
		    "bytes", path, max);
		close(fd);
		return -1;
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	while (off < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)sb.st_size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "cannot read %s: %s", path,
			    n < 0 ? strerror(errno) : "it shrank while read");
			free(buf);
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*out = buf;
	*len = off;
	return 0;
}

void
fleet_sha256(const void *p, size_t n, unsigned char out[32])
{
	unsigned int len = 32;

	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1)
		memset(out, 0, 32);   /* never matches a real file's digest */
}

int
fleet_write_file(const char *dir, const char *name, const void *data,
    size_t len, mode_t mode, char *err, size_t errlen)
{
	size_t dn = strlen(dir), off = 0;
	const char *sep = dn > 0 && dir[dn - 1] == '/' ? "" : "/";
	char *path = xasprintf("%s%s%s", dir, sep, name);
	char *tmp = xasprintf("%s%s.%s.tmp", dir, sep, name);
	int fd, dfd, rc = -1;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	while (off < len) {
		ssize_t w = write(fd, (const char *)data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "cannot write %s: %s", tmp,
			    w < 0 ? strerror(errno) : "no progress");
			close(fd);
			unlink(tmp);
			goto out;
		}
		off += (size_t)w;
	}
	if (fchmod(fd, mode) != 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write %s to disk: %s", tmp,
		    strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot put %s in place: %s", path,
		    strerror(errno));
		unlink(tmp);
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);   /* durability only; the rename is done */
		close(dfd);
	}
	rc = 0;
out:
	free(tmp);
	free(path);
	return rc;
}

int
fleet_state_read(const char *dir, const char *name,
    void (*fn)(void *ctx, const char *key, const char *value), void *ctx)
{
	char *path = xasprintf("%s/%s", dir, name), err[256], *line, *save = NULL;
	unsigned char *buf;
	size_t len;

	if (access(path, F_OK) != 0 && errno == ENOENT) {
		free(path);
		return 0;
	}
	if (fleet_read_file(path, STATE_MAX, &buf, &len, err, sizeof(err)) != 0) {
		free(path);
		return -1;
	}
	free(path);
	for (line = strtok_r((char *)buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (eq == NULL)
			continue;
		*eq++ = '\0';
		fn(ctx, line, eq);
	}
	free(buf);
	return 0;
}
