/*
 * snapcheck.h - check a whole snapshot file as the readers will read it,
 * before it is installed: `okta-sync restore` and a fleet subscriber's
 * pull (a file from elsewhere is untrusted until checked).
 *
 * The check: the reader opens it (root's, not group/other-writable,
 * magic, version, meta flags 0, the cdb tables), then every passwd and
 * group record must decode (no UID or GID below the floor, no bad field),
 * be found again by its name and by its ID, and their numbers must be the
 * meta record's; every user's initgroups list must be valid.  A file that
 * any reader would refuse in part is refused whole.
 */
#ifndef OKTA_SNAPCHECK_H
#define OKTA_SNAPCHECK_H

#include <stddef.h>

#include "snapshot.h"

/* Check the file behind fd; fills *meta.  0, or -1 with a sentence in
 * err. */
int snapshot_check_fd(int fd, struct snap_meta *meta, char *err,
    size_t errlen);

#endif
