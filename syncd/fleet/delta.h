/*
 * delta.h - compressing a snapshot for the fleet, and the binary deltas
 * between two generations (issue 12), with libzstd.
 *
 * A delta is zstd's "patch-from": the new snapshot compressed with the
 * old one as a dictionary prefix (ZSTD_CCtx_refPrefix), with long
 * distance matching and a window covering both files, so that what did
 * not change costs a few bytes of match.  Applying it needs the exact
 * base bytes (the manifest's base_sha256 says which); the result is
 * checked against the manifest's sha256 by the caller, so a delta can
 * never install anything but the publisher's file.
 *
 * Decompression is bounded: the caller says how many bytes it expects
 * (the signed manifest's size), a frame that declares another content
 * size is refused before any allocation, and the output buffer is never
 * grown.
 */
#ifndef OKTA_FLEET_DELTA_H
#define OKTA_FLEET_DELTA_H

#include <stddef.h>

/* zstd's level for snapshots and deltas.  At 100k users (a 37 MB
 * snapshot) level 9 gives 17 % of the raw size in about a second; 19
 * gives 14 % but takes 20 s or more of the publisher's CPU at every
 * publish, for a first pull that few hosts make. */
#define FLEET_ZSTD_LEVEL 9
#define FLEET_ZSTD_MIN_MATCH 4
#define FLEET_ZSTD_SEARCH_LOG 5

/*
 * Compress src[0..len) (base NULL) or make the delta from base[0..blen)
 * to src[0..len).  0 with a malloc'd *out of *outlen bytes, or -1 with a
 * sentence in err.
 */
int fleet_compress(const void *base, size_t blen, const void *src,
    size_t len, void **out, size_t *outlen, char *err, size_t errlen);

/*
 * Decompress src[0..len) (base NULL) or apply the delta src[0..len) to
 * base[0..blen), into exactly `expected` bytes.  0 with a malloc'd *out,
 * or -1 with a sentence in err (a corrupt or truncated frame, another
 * size than expected, the wrong base).
 */
int fleet_decompress(const void *base, size_t blen, const void *src,
    size_t len, size_t expected, void **out, char *err, size_t errlen);

#endif
