/*
 * fleet_run.h - fleet mode from the config (issue 12): what `okta-sync
 * fleet publish` / `pull` and okta-syncd run, built from [fleet] and
 * [cache] (fleet_publish.h and fleet_pull.h do the work).
 *
 * The publisher's own record of its last upload (for status and the
 * metrics) is CACHE_DIR/fleet/publisher.state; the subscriber's is
 * subscriber.state (fleet_pull.h).
 */
#ifndef OKTA_FLEET_RUN_H
#define OKTA_FLEET_RUN_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "config.h"
#include "fleet_publish.h"
#include "fleet_pull.h"

#define FLEET_PUBLISHER_STATE "publisher.state"

struct fleet_pub_state {
	uint64_t generation;       /* last uploaded; 0: none */
	long long last_publish;    /* when the last attempt ran; 0: never */
	int last_ok;
	size_t last_bytes;         /* uploaded by it */
	char last_error[512];
};

/* Upload the live snapshot to [fleet] destination.  0, or -1 with a
 * sentence in err; the attempt is recorded in publisher.state. */
int fleet_run_publish(const struct config *c, struct fleet_publish_result *r,
    char *err, size_t errlen);

/*
 * On a publisher, after a sync: upload the live snapshot, under the sync
 * lock (waiting for it), and log the outcome (log.h).  A failed upload
 * leaves the host's own snapshot serving; the next sync uploads again.
 * 0 when uploaded or not a publisher, -1 when the upload failed.
 */
int fleet_after_sync(const struct config *c);

/* Pull once from [fleet] source (fleet_pull's outcome; st filled). */
int fleet_run_pull(const struct config *c, struct fleet_sub_state *st);

/* The fleet lines of the Prometheus textfile (nothing when standalone):
 * the last publish or pull, its result, the generation and the
 * manifest's age.  Can't fail (a state file it cannot read is left out). */
void fleet_metrics(FILE *f, const struct config *c);

/* fleet_probe with the subscriber's [fleet] settings.  0, or -1 when a
 * public_key line cannot be parsed (pr->err says which). */
int fleet_run_probe(const struct config *c, struct fleet_probe *pr);

/* Read publisher.state (all zero when none).  0 or -1. */
int fleet_pub_state_load(const struct config *c, struct fleet_pub_state *st);

#endif
