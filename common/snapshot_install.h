/*
 * snapshot_install.h - put a finished snapshot file in place the one safe
 * way: a temporary file in the snapshot's own directory, mode 0644, fsync,
 * rename over the snapshot, fsync the directory.
 *
 * Why never anything else: every process that looks a user up has the
 * snapshot mapped (libnss_okta, pam_okta).  Truncating or overwriting the
 * file in place (`cp backup snapshot.cdb`, an editor) changes pages under
 * those mappings: a shorter file kills each of those processes with
 * SIGBUS on its next lookup, a rewritten one shows them half-old, half-new
 * records.  A rename leaves the old inode, and every mapping of it, intact;
 * readers pick the new file up at their next one-second check.
 *
 * The temporary name is ".NAME.XXXXXX" next to NAME, the name the writer
 * uses, so that publish's clean-up of killed publishes also removes the
 * leftovers of a killed `okta-sync restore`.  The writer in
 * snapshot_writer.c publishes through these same two functions, which hold
 * the crash-test points "before-rename" and "after-rename"
 * (crashpoint.h).
 */
#ifndef OKTA_SNAPSHOT_INSTALL_H
#define OKTA_SNAPSHOT_INSTALL_H

#include <stddef.h>

/*
 * Create the temporary file for path: its name goes to tmp (tmplen bytes).
 * Returns the descriptor (O_RDWR, O_CLOEXEC, mode 0600 until installed), or
 * -1 with a sentence in err.
 */
int snap_install_tmp(const char *path, char *tmp, size_t tmplen, char *err,
    size_t errlen);

/*
 * Install the temporary file tmp (descriptor fd, which this closes in all
 * cases) as path: fchmod 0644, fsync, close, rename, fsync the directory.
 * Returns 0 installed; 1 installed, but the directory could not be synced
 * (err says so: durability in doubt); -1 not installed, err set, tmp still
 * there for the caller to unlink.
 */
int snap_install(int fd, const char *tmp, const char *path, char *err,
    size_t errlen);

#endif
