/*
 * fleet_publish.h - a fleet publisher's upload of the snapshot it just
 * published locally (issue 12).
 *
 * What it uploads, in this order, so that a subscriber never sees a
 * manifest whose payloads are missing:
 *   1. snapshot-GEN.cdb.zst, the snapshot compressed (delta.h);
 *   2. delta-FROM-GEN.zst for each base snapshot kept in the state
 *      directory (up to keep_deltas, newest first), when smaller than the
 *      full download;
 *   3. "manifest": the signature line (fleet_sign.h), then the manifest
 *      JSON (manifest.h), in one file, so that a reader never pairs a
 *      manifest with another one's signature.
 * Then it keeps the snapshot as a future delta base in the state
 * directory and removes, from the state directory and the destination,
 * what neither this manifest nor the one before it refers to (a
 * subscriber that read the previous manifest a moment ago can still
 * fetch its payloads).
 *
 * A failure leaves the host's own snapshot alone (it was installed
 * before): the caller logs it, and the next publish uploads everything
 * again.
 */
#ifndef OKTA_FLEET_PUBLISH_H
#define OKTA_FLEET_PUBLISH_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "fleet_dest.h"
#include "manifest.h"

#define FLEET_MANIFEST_NAME "manifest"
#define FLEET_KEEP_DELTAS_DEFAULT 4

struct fleet_publish_opts {
	const char *snapshot_path;  /* the live snapshot */
	const char *state_dir;      /* the publisher's delta bases; created */
	EVP_PKEY *key;              /* Ed25519 (fleet_load_signing_key) */
	struct fleet_dest *dest;
	unsigned keep_deltas;       /* 0: no deltas */
	long long now;              /* the manifest's created */
};

struct fleet_publish_result {
	struct fleet_manifest m;    /* what was uploaded */
	size_t manifest_bytes;
	size_t uploaded_bytes;      /* payloads and manifest */
};

/* 0, or -1 with a sentence in err. */
int fleet_publish(const struct fleet_publish_opts *o,
    struct fleet_publish_result *r, char *err, size_t errlen);

#endif
