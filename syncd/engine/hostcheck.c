/*
 * hostcheck.c - the host checks of `okta-sync status` (see hostcheck.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cache.h"
#include "hostcheck.h"

/* Does anything accept connections on the unix socket at path? */
static int
socket_live(const char *path)
{
	struct sockaddr_un sa;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return r == 0;
}

/*
 * nscd.conf: "enable-cache <db> yes|no" lines, '#' comments, any blanks
 * (nscd's own parser is as loose).  The last line for a database wins.
 * Sets cache[0] (passwd) and cache[1] (group) to 1 or 0; -1 on a read
 * error (errno).
 */
static int
read_nscd_conf(const char *path, int cache[2])
{
	char line[1024], *p, *kw, *db, *val, *save;
	FILE *f;

	cache[0] = cache[1] = 0;
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		kw = strtok_r(line, " \t\r\n", &save);
		db = kw ? strtok_r(NULL, " \t\r\n", &save) : NULL;
		val = db ? strtok_r(NULL, " \t\r\n", &save) : NULL;
		if (val == NULL || strcasecmp(kw, "enable-cache") != 0)
			continue;
		if (strcmp(db, "passwd") == 0)
			cache[0] = strcasecmp(val, "yes") == 0;
		else if (strcmp(db, "group") == 0)
			cache[1] = strcasecmp(val, "yes") == 0;
	}
	fclose(f);
	return 0;
}

int
hostcheck_nscd(const char *conf_path, const char *socket_path, char *msg,
    size_t msglen)
{
	int cache[2];

	if (!socket_live(socket_path)) {
		snprintf(msg, msglen, "nscd is not running");
		return 0;
	}
	if (read_nscd_conf(conf_path, cache) != 0) {
		snprintf(msg, msglen, "nscd is running, but %s cannot be read "
		    "(%s): whether it caches Okta users is unknown", conf_path,
		    strerror(errno));
		return -1;
	}
	if (!cache[0] && !cache[1]) {
		snprintf(msg, msglen, "nscd is running and caches neither "
		    "passwd nor group");
		return 0;
	}
	snprintf(msg, msglen, "nscd is running and caches %s: a user removed "
	    "from Okta keeps resolving from its cache until the entry "
	    "expires, and new snapshots are not seen at once; set "
	    "\"enable-cache passwd no\" and \"enable-cache group no\" in %s "
	    "and restart nscd", cache[0] && cache[1] ? "passwd and group" :
	    cache[0] ? "passwd" : "group", conf_path);
	return 1;
}

int
hostcheck_snapshot_identity(sqlite3 *db, const char *snap_path, char *msg,
    size_t msglen)
{
	long long dev, ino, mtime_ns, size;
	struct stat sb;

	dev = cache_meta_get_int(db, "snapshot_dev", -1);
	ino = cache_meta_get_int(db, "snapshot_ino", -1);
	mtime_ns = cache_meta_get_int(db, "snapshot_mtime_ns", -1);
	size = cache_meta_get_int(db, "snapshot_size", -1);
	if (dev < 0 || ino < 0 || mtime_ns < 0 || size < 0)
		return -1;
	if (stat(snap_path, &sb) != 0)
		return -1;
	if ((long long)sb.st_dev != dev || (long long)sb.st_ino != ino) {
		snprintf(msg, msglen, "%s was replaced without a publish (it is "
		    "not the file okta-sync last published: its inode changed); "
		    "a snapshot put in place by hand may be old or forged; run "
		    "'okta-sync sync' to publish it again", snap_path);
		return 1;
	}
	if ((long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec !=
	    mtime_ns || (long long)sb.st_size != size) {
		snprintf(msg, msglen, "%s was changed in place since okta-sync "
		    "published it; writing into the file (cp over it, an "
		    "editor) crashes processes that have it mapped (SIGBUS); "
		    "run 'okta-sync sync' to publish it again", snap_path);
		return 1;
	}
	return 0;
}
