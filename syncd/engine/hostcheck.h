/*
 * hostcheck.h - what `okta-sync status` checks on the host besides the
 * sync itself: whether nscd caches users and groups (a removed Okta user
 * then resolves from nscd's cache for its TTL), and whether the snapshot
 * file is still the one okta-sync published (publish.h records its
 * identity in cache.db).
 *
 * Both only read; neither fails loudly: a file that cannot be read is a
 * check that cannot be made, not an error of status.
 */
#ifndef OKTA_HOSTCHECK_H
#define OKTA_HOSTCHECK_H

#include <sqlite3.h>
#include <stddef.h>

#define NSCD_CONF_PATH "/etc/nscd.conf"
#define NSCD_SOCKET_PATH "/var/run/nscd/socket"

/*
 * Does a running nscd cache passwd or group?  nscd runs when its socket
 * accepts a connection; it caches a database when conf_path says
 * `enable-cache DB yes` (nscd's default is no).  Returns 1 with a warning
 * sentence for the admin in msg, 0 when nscd does not run or caches
 * neither (msg then says which, for --json), -1 when the answer is not
 * known (msg says why).
 */
int hostcheck_nscd(const char *conf_path, const char *socket_path, char *msg,
    size_t msglen);

/*
 * Is the file at snap_path the one the last publish renamed into place
 * (device, inode, mtime, size recorded in db's meta table)?  Returns 1
 * with a warning sentence in msg when it was replaced or changed in place
 * since, 0 when it is the same, -1 when unknown (nothing recorded yet, or
 * no file: status says so elsewhere).
 */
int hostcheck_snapshot_identity(sqlite3 *db, const char *snap_path, char *msg,
    size_t msglen);

#endif
