/*
 * forge_snapshot.h - unit tests' forger of one-record snapshots: a file
 * holding a valid meta record and one record the writer would refuse, so
 * that a reader's checks of that record can be tried.  Include after
 * testlib.h (it uses ASSERT).
 */
#ifndef OKTA_FORGE_SNAPSHOT_H
#define OKTA_FORGE_SNAPSHOT_H

#include <stdio.h>
#include <string.h>

#include <cdb.h>

#include "snapshot.h"
#include "snapshot_format.h"

/* Write to path a snapshot of the meta record and key type + name ->
 * v[0..vlen), with cdb directly. */
static void
forge_named_record(const char *path, char type, const char *name,
    const unsigned char *v, size_t vlen)
{
	unsigned char m[SNAP_META_LEN], key[64];
	size_t nl = strlen(name);
	struct cdb_make cm;
	FILE *f;

	ASSERT(nl < sizeof(key));
	f = fopen(path, "w+");
	ASSERT(f != NULL);
	if (f == NULL || nl >= sizeof(key))
		return;
	ASSERT(cdb_make_start(&cm, fileno(f)) == 0);
	key[0] = (unsigned char)type;
	memcpy(key + 1, name, nl);
	ASSERT(cdb_make_add(&cm, key, (unsigned)nl + 1, v, (unsigned)vlen) == 0);
	memset(m, 0, sizeof(m));
	memcpy(m, SNAP_MAGIC, SNAP_MAGIC_LEN);
	snap_put32(m + 8, SNAP_FORMAT_VERSION);
	ASSERT(cdb_make_add(&cm, "M", 1, m, sizeof(m)) == 0);
	ASSERT(cdb_make_finish(&cm) == 0);
	fclose(f);
}

#endif
