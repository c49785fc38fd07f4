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
 * snapshot_writer.c publishes through these same functions; snap_install
 * holds the crash-test points "before-rename" and "after-rename"
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
 * Where a writer that writes in small pieces (tinycdb's cdb_make: one
 * write(2) per 4 KB) puts the file first: an anonymous memory file
 * (memfd), and snap_install_copy writes it to the temporary file in a
 * few large pieces.  Small writes to the file itself are slow on ext4:
 * measured at 100k users (a 29 MB snapshot), 7,000 writes of 4 KB took
 * 40 ms where large ones took 8, and the fsync after them twice as long.
 * Returns the descriptor, or -1 when the system has no memfd (the writer
 * then writes the temporary file directly).
 */
int snap_install_stage(void);

/*
 * Copy all of the staged file src (from its start; src is left open)
 * into the temporary file fd (tmp its name, for messages).  0, or -1
 * with a sentence in err.
 */
int snap_install_copy(int src, int fd, const char *tmp, char *err,
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
