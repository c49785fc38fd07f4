/*
 * fleet_pull.h - a fleet subscriber's pull (issue 12): fetch the
 * publisher's manifest, trust it only when signed by a configured key,
 * and install the snapshot it names the way a local publish does.
 *
 * One pull, in order; any failure keeps the installed snapshot serving:
 *   1. GET SOURCE/manifest with If-None-Match (the last ETag): a 304
 *      costs one small request and changes nothing;
 *   2. verify the signature line against the public keys (fleet_sign.h),
 *      then parse the manifest strictly (manifest.h);
 *   3. refuse a manifest older than max_age (freeze: an old but validly
 *      signed manifest replayed by whoever sits between us and the
 *      source);
 *   4. refuse a generation below the highest this host has installed
 *      (rollback), or equal to it with other bytes; equal with the same
 *      bytes is "unchanged";
 *   5. download the delta from the installed generation when the manifest
 *      offers one whose base is byte for byte the installed snapshot, else
 *      the full snapshot (each exactly its announced size);
 *   6. check the result's SHA-256 against the manifest;
 *   7. check every record as `okta-sync restore` does, then install it
 *      with the same temporary file and rename as a local publish.
 *
 * The subscriber's state (ETag, highest generation, the manifest's time,
 * the last pull and its result) is kept in state_dir/subscriber.state for
 * the next pull, `okta-sync status` and the metrics.
 */
#ifndef OKTA_FLEET_PULL_H
#define OKTA_FLEET_PULL_H

#include <stddef.h>
#include <stdint.h>

#include "fleet_sign.h"

#define FLEET_STATE_NAME "subscriber.state"

struct fleet_pull_opts {
	const char *source;          /* URL of the publisher's directory */
	const char *ca_file;         /* NULL: the system's CAs */
	const struct fleet_pubkey *keys;
	size_t nkeys;
	long long max_age;           /* seconds */
	const char *snapshot_path;
	const char *state_dir;
	long long now;
	long timeout;                /* seconds per transfer */
};

enum fleet_pull_outcome {
	FLEET_PULL_INSTALLED = 1,    /* a new generation is in place */
	FLEET_PULL_UNCHANGED,        /* 304, or the installed generation */
	FLEET_PULL_REFUSED,          /* signature, age, rollback, sha256... */
	FLEET_PULL_FAILED            /* unreachable, HTTP error, local I/O */
};

/* What a pull did, and what subscriber.state holds. */
struct fleet_sub_state {
	char etag[256];
	uint64_t generation;         /* highest installed; 0: none */
	long long created;           /* its manifest's */
	long long last_pull;         /* when the last pull ran */
	int last_outcome;            /* enum fleet_pull_outcome; 0: never */
	size_t last_downloaded;      /* bytes of the last pull */
	int last_delta;              /* it installed through a delta */
	char last_error[512];        /* "" when it worked */
};

/* Pull once.  Returns the outcome; *st is the state after it (also
 * saved).  err (st->last_error) says why for REFUSED and FAILED. */
int fleet_pull(const struct fleet_pull_opts *o, struct fleet_sub_state *st);

/* What `okta-sync test` reports of a subscriber's source: each step's
 * result, in order; a step after a failed one is not tried (0). */
struct fleet_probe {
	int fetched;                 /* 1 ok, -1 failed, 0 not tried */
	long status;
	size_t bytes;
	int verified;                /* 1: by keys[key], -1: refused */
	size_t key;
	int parsed;                  /* 1 ok, -1 refused */
	uint64_t generation;
	long long age;               /* seconds since it was signed */
	char err[512];               /* why the failed step failed */
};

/* Fetch the manifest (unconditionally), verify, parse; install nothing. */
void fleet_probe(const struct fleet_pull_opts *o, struct fleet_probe *pr);

/* Read state_dir's subscriber.state (all zero when there is none).
 * 0, or -1 when it exists but cannot be read. */
int fleet_state_load(const char *state_dir, struct fleet_sub_state *st);

/* "installed", "unchanged", "refused", "failed", "never". */
const char *fleet_outcome_name(int outcome);

#endif
