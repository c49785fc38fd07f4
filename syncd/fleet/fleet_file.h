/*
 * fleet_file.h - the small file chores of fleet mode: read a bounded file
 * whole, write one the safe way (a temporary name, fsync, rename, fsync
 * the directory: a web server or a reader never sees half a file), the
 * key=value state files of the publisher and the subscriber, SHA-256.
 */
#ifndef OKTA_FLEET_FILE_H
#define OKTA_FLEET_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Read a whole regular file of at most max bytes (no symbolic link):
 * malloc'd into *out, NUL-terminated.  0, or -1 with a sentence in err. */
int fleet_read_file(const char *path, size_t max, unsigned char **out,
    size_t *len, char *err, size_t errlen);

/* Write data[0..len) as dir/name, mode `mode`, through ".name.tmp" in the
 * same directory.  0, or -1 with a sentence in err (nothing left behind). */
int fleet_write_file(const char *dir, const char *name, const void *data,
    size_t len, mode_t mode, char *err, size_t errlen);

/* Each "key=value" line of the state file dir/name, to fn; a missing file
 * is empty.  0, or -1 when it exists but cannot be read. */
int fleet_state_read(const char *dir, const char *name,
    void (*fn)(void *ctx, const char *key, const char *value), void *ctx);

/* SHA-256 of p[0..n).  Can't fail. */
void fleet_sha256(const void *p, size_t n, unsigned char out[32]);

#endif
