/*
 * manifest.h - the fleet manifest (issue 12): what a publisher offers and
 * a subscriber checks before it installs anything.
 *
 * The manifest is a small JSON object, uploaded as "manifest.json" with
 * its detached signature "manifest.sig" (fleet_sign.h) over the exact
 * bytes.  A subscriber verifies the signature first and only then parses
 * (strictly: every member known, each once, of its type and range;
 * nothing else):
 *
 *   {"okta_sync_fleet": 1,              the manifest's own format
 *    "snapshot_format": 3,              common/snapshot_format.h's
 *    "generation": 42,                  the snapshot's generation (> 0)
 *    "created": 1764470000,             when it was published (epoch s)
 *    "snapshot": {"name": "snapshot-42.cdb.zst", "sha256": "<64 hex>",
 *                 "size": N, "encoding": "cdb-data", "payload_size": N,
 *                 "compressed_size": N},
 *    "deltas": [{"from": 41, "base_sha256": "<64 hex>",
 *                "name": "delta-41-42.zst", "compressed_size": N}, ...]}
 *
 * sha256 and size are those of the snapshot file, the bytes that get
 * installed.  encoding says what the payloads unpack to (payload_size
 * bytes): "file", the snapshot file itself, or "cdb-data", its cdb data
 * section only, from which the subscriber rebuilds the file (cdbdata.h).
 * A delta unpacks to the same payload, against the same encoding of its
 * base; base_sha256 is the SHA-256 of the base snapshot file.  Names
 * are plain file names ([A-Za-z0-9._-], not starting with '.'), relative
 * to the manifest's location: no path, no URL, so a manifest cannot point
 * a subscriber anywhere else.
 */
#ifndef OKTA_FLEET_MANIFEST_H
#define OKTA_FLEET_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#define FLEET_MANIFEST_FORMAT 1
#define FLEET_MANIFEST_MAX 65536        /* bytes a subscriber reads */
#define FLEET_NAME_MAX 96
#define FLEET_DELTAS_MAX 8
#define FLEET_SNAPSHOT_MAX (4ull << 30) /* refuse a claimed size over this */

struct fleet_delta {
	uint64_t from;
	unsigned char base_sha256[32];
	char name[FLEET_NAME_MAX + 1];
	uint64_t compressed_size;
};

enum fleet_encoding {
	FLEET_ENC_FILE = 1,        /* the payload is the snapshot file */
	FLEET_ENC_CDB_DATA = 2     /* its cdb data section (cdbdata.h) */
};

struct fleet_manifest {
	uint32_t snapshot_format;
	uint64_t generation;
	long long created;
	char name[FLEET_NAME_MAX + 1];
	unsigned char sha256[32];
	uint64_t size, compressed_size;
	int encoding;               /* enum fleet_encoding */
	uint64_t payload_size;
	size_t ndeltas;
	struct fleet_delta deltas[FLEET_DELTAS_MAX];
};

/* The manifest as JSON text (malloc'd, NUL-terminated; *len without the
 * NUL), or NULL when a field is out of range (a bug of the caller). */
char *fleet_manifest_write(const struct fleet_manifest *m, size_t *len);

/* Parse text[0..len) into *m.  0, or -1 with a sentence in err naming
 * the member at fault. */
int fleet_manifest_parse(const char *text, size_t len,
    struct fleet_manifest *m, char *err, size_t errlen);

/* Whether name is an acceptable payload name.  Can't fail. */
int fleet_name_ok(const char *name);

/* 64 lowercase hex characters of a SHA-256 (out: 65 bytes). */
void fleet_hex(const unsigned char sha[32], char out[65]);

#endif
