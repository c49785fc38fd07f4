/*
 * configs.h - the configs the page fuzzers (fuzz_ingest.c, fuzz_page.c)
 * map Okta's answers under: written to a private temporary directory with
 * a token file and small local passwd/group files, then read with the
 * real config_load().  Aborts when any of them does not load (a config
 * change that breaks them shows at once, not as lost coverage).
 */
#ifndef FUZZ_CONFIGS_H
#define FUZZ_CONFIGS_H

#include "config.h"

#define FUZZ_NCONFIGS 4

/*
 * Load every config into configs[0..FUZZ_NCONFIGS):
 *   0  the defaults (login names, user-private groups);
 *   1  strip_domain, a fixed primary group, deprovisioned = remove, a
 *      shell from a profile attribute;
 *   2  [sync] groups with members_only, UIDs and GIDs from profile
 *      attributes, a range of ten IDs (so that it runs out);
 *   3  names from an attribute (firstName: many clash), IDs 1000-1003
 *      next to local accounts that hold some of them.
 * Returns the temporary directory (static storage).
 */
const char *fuzz_configs_load(struct config *configs[FUZZ_NCONFIGS]);

#endif
