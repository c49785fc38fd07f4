/*
 * tombstone.h - the cache's record of the Okta users who have left the
 * host (cache.db's tombstones table, cache.h version 3), so that every
 * snapshot can name them ('t' records, snapshot.h) and pam_okta can deny
 * a user whom a lingering cache (nscd) still resolves (DESIGN.md rule 9).
 *
 * Who becomes a tombstone, at the sync that applies the change:
 *   - a cached user the sync removes: no longer in Okta (or not visible
 *     to the token), out of scope ([sync] groups with members_only), or
 *     rejected after once being synced;
 *   - with [sync] deprovisioned = remove, a cached user whose status
 *     becomes DEPROVISIONED (kept in the cache, no longer published), and
 *     every cached DEPROVISIONED user when the policy changes from keep to
 *     remove.
 * A user who was already off the host (deprovisioned under remove) gets
 * no second tombstone when Okta later deletes them; a continuous absence
 * keeps its first left_at.  A user who comes back (published again) stops
 * being a tombstone at once and, as the ID allocator never releases an
 * ID (rule 4), gets their old UID back.  Tombstones older than [sync]
 * tombstone_days are deleted at the next applied sync and never
 * published.  A name is never both a published user and a tombstone:
 * the published user wins, and of two tombstones with one name the newer.
 */
#ifndef OKTA_TOMBSTONE_H
#define OKTA_TOMBSTONE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "snapshot.h"

/*
 * Record the departures and returns of the staged plan (plan.h's TEMP
 * tables) and delete the expired tombstones.  Call inside the apply's
 * write transaction, before plan_apply() (it reads the cached users the
 * plan removes).  now: the apply's time, epoch s.  0, or -1 with err.
 */
int tomb_record(sqlite3 *db, const struct config *c, long long now,
    char *err, size_t errlen);

/*
 * Call fn for each tombstone to publish at `now` (not expired, no
 * published user of that name, the newest per name), in name order.  The
 * strings in *t live until fn returns.  fn returning non-zero stops the
 * walk, and is returned.  0, fn's value, or -1 with the SQLite message in
 * err.
 */
int tomb_for_each(sqlite3 *db, const struct config *c, long long now,
    int (*fn)(void *ctx, const struct snap_tombstone *t), void *ctx,
    char *err, size_t errlen);

/* The number of tombstones tomb_for_each would give; -1 on error. */
long long tomb_count(sqlite3 *db, const struct config *c, long long now);

/* The number of cached users the staged plan turns into tombstones (for
 * the plan's summary); -1 on error. */
long long tomb_plan_count(sqlite3 *db, const struct config *c);

/* Print that count after the plan: a line "tombstones: N new (...)" when
 * N > 0, or with json the member ,"tombstones":{"new":N,"days":D} of the
 * plan's object.  Nothing when out is NULL or the count fails. */
void tomb_print_plan(sqlite3 *db, const struct config *c, FILE *out, int json);

#endif
