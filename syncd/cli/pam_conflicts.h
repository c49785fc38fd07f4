/*
 * pam_conflicts.h - `okta-sync check-config`'s look at the PAM
 * configuration: pam_okta.so lines whose options override the [pam]
 * section of okta-sync.conf.
 *
 * pam_okta applies [pam] (published in the snapshot), and each policy
 * option on its module line replaces one setting for that line only.  An
 * option that says something else than [pam] is legitimate on an extra
 * per-service line (a stricter allowed_groups for sshd), and a trap on the
 * common-account line (max_cache_age=0 there undoes [pam] for every
 * service).  So each one is reported, with both places, and the admin
 * decides; equal values (168h and 7d) are not conflicts.
 */
#ifndef OKTA_PAM_CONFLICTS_H
#define OKTA_PAM_CONFLICTS_H

#include <stdio.h>

#include "config.h"

/* Where PAM's service files live; check-config --pam-dir overrides it. */
#define PAM_CONFLICTS_DIR "/etc/pam.d"

/*
 * Read every file in dir (not following subdirectories, skipping names
 * starting with '.' or ending in '~'), and print to out one line per
 * conflicting option: "FILE:LINE: conflict: ...".  Returns the number of
 * conflicts, or -1 when dir cannot be read (a sentence printed to out).
 * A file that cannot be read is reported and skipped.
 */
int pam_conflicts_report(const struct config *c, const char *dir, FILE *out);

#endif
