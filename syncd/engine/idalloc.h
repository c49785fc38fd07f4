/*
 * idalloc.h - UID and GID allocation (DESIGN.md rules 1, 2 and 4).
 *
 * One pool of taken IDs holds every local UID and GID (from the passwd and
 * group files), and every ID ever allocated to an Okta entry (the cache's
 * allocations table, never deleted from).  Users (whose user-private group
 * has GID = UID) and Okta groups draw from this one pool, so a private
 * group's GID is never an Okta group's GID and no ID is handed out twice.
 *
 * The rule, applied by sync.c in this order so that two fresh hosts that
 * sync the same org get the same IDs:
 *   1. An entry's ID from its uid_attribute/gid_attribute, when present and
 *      valid (map.c checks the range), is claimed; if the ID is local or
 *      belongs to another Okta entry, the entry is rejected.
 *   2. An entry that already holds an allocation keeps it.
 *   3. New entries, in order of their Okta id (byte order), get
 *      min + FNV-1a-64(okta id) mod (max - min + 1); if that ID is taken,
 *      the next one (+1, wrapping from max to min) until a free one is
 *      found.  A full range rejects the entry.
 * An allocation is never released: a deleted or deprovisioned entry keeps
 * its ID reserved forever.
 *
 * Memory: about 40 bytes per taken ID plus the Okta ids' strings.  All
 * functions abort on allocation failure (xmalloc); none can fail otherwise.
 */
#ifndef OKTA_IDALLOC_H
#define OKTA_IDALLOC_H

#include <stddef.h>
#include <stdint.h>

enum id_kind { ID_KIND_LOCAL = 0, ID_KIND_USER = 'u', ID_KIND_GROUP = 'g' };

struct idalloc;

struct idalloc *idalloc_new(void);
void idalloc_free(struct idalloc *a);   /* accepts NULL */

/* FNV-1a, 64 bits, of s: the derivation hash.  Can't fail. */
uint64_t idalloc_hash(const char *s);

/* Mark id as used by a local account or group: it is never handed out. */
void idalloc_reserve_local(struct idalloc *a, uint32_t id);

/*
 * Record an allocation that already exists (from the cache): id belongs to
 * okta_id.  A later call for the same id is ignored (first owner wins).
 */
void idalloc_add_existing(struct idalloc *a, uint32_t id, const char *okta_id,
    enum id_kind kind);

/*
 * Who holds id: returns 0 free, 1 a local account, 2 an Okta entry (then
 * *okta_id, when not NULL, points at its id, owned by a).
 */
int idalloc_owner(const struct idalloc *a, uint32_t id, const char **okta_id);

/*
 * Claim id for okta_id (an ID from an attribute, or an existing one).
 * Returns 0 when it is now (or already was) okta_id's, 1 when a local
 * account holds it, 2 when another Okta entry holds it.
 */
int idalloc_claim(struct idalloc *a, uint32_t id, const char *okta_id,
    enum id_kind kind);

/*
 * Allocate a new ID for okta_id in [min, max] by the derivation rule.
 * Returns 0 with *id set, -1 when every ID of the range is taken.
 */
int idalloc_derive(struct idalloc *a, const char *okta_id, enum id_kind kind,
    uint32_t min, uint32_t max, uint32_t *id);

/*
 * The allocations made by idalloc_claim/idalloc_derive since idalloc_new
 * (not those added with idalloc_add_existing): call fn for each, in
 * increasing ID order (the order of the cache's allocations table, which
 * the caller's rows then append to rather than scatter through).
 */
void idalloc_each_new(const struct idalloc *a,
    void (*fn)(void *ctx, uint32_t id, const char *okta_id, enum id_kind kind),
    void *ctx);

#endif
