/*
 * forge_snapshot.h - unit tests' forger of one-record snapshots: a file
 * holding a valid meta record and one record the writer would refuse, so
 * that a reader's checks of that record can be tried.  Include after
 * testlib.h (it uses ASSERT).
 */
#ifndef OKTA_FORGE_SNAPSHOT_H
#define OKTA_FORGE_SNAPSHOT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cdb.h>

#include "snapshot.h"
#include "snapshot_format.h"
#include "snapshot_index.h"

/*
 * Format 4: a reader needs the 'X' index.  forge_add adds a record and,
 * for a 'p' or 'g' record with at least an ID, its index entries;
 * forge_index writes the index after the last of them (with every slot's
 * offset replaced by forge_index_off when that is not 0, to forge a bad
 * index) at the offset cm->cdb_dpos had, which the meta record names.
 */
static uint32_t forge_index_off;

static inline void
forge_add(struct cdb_make *cm, struct snap_idx_builder *b,
    const unsigned char *k, size_t klen, const unsigned char *v, size_t vlen)
{
	uint32_t at = cm->cdb_dpos;

	ASSERT(cdb_make_add(cm, k, (unsigned)klen, v, (unsigned)vlen) == 0);
	if (klen >= 2 && vlen >= 4 && k[0] == SNAP_KEY_PWNAM)
		ASSERT(snap_idx_add_user(b, k + 1, klen - 1, snap_get32(v),
		    at) == 0);
	if (klen >= 2 && vlen >= 4 && k[0] == SNAP_KEY_GRNAM)
		ASSERT(snap_idx_add_group(b, k + 1, klen - 1, snap_get32(v),
		    at) == 0);
}

static inline void
forge_index(struct cdb_make *cm, struct snap_idx_builder *b)
{
	uint32_t at = cm->cdb_dpos;
	size_t len = snap_idx_value_len(b, at), i;
	unsigned char *v = malloc(len), *t;
	uint64_t m;
	int k;

	ASSERT(v != NULL);
	if (v == NULL)
		return;
	ASSERT(snap_idx_encode(b, at, NULL, v) == 0);
	t = v + SNAP_IDX_HDR + v[SNAP_IDX_HDR - 1];
	for (k = 0; k < SNAP_IDX_NTABLES; k++) {
		m = snap_idx_slots((uint32_t)b->n[k]);
		t += snap_idx_table_len((uint32_t)b->n[k]);
		for (i = 0; forge_index_off != 0 && i < m; i++)
			if (snap_get32(t - 4 * m + 4 * i) != 0)
				snap_put32(t - 4 * m + 4 * i, forge_index_off);
	}
	ASSERT(cdb_make_add(cm, "X", 1, v, (unsigned)len) == 0);
	free(v);
	snap_idx_free(b);
}

/* Write to path a snapshot of the meta record and key type + name ->
 * v[0..vlen), with cdb directly. */
static inline void
forge_named_record(const char *path, char type, const char *name,
    const unsigned char *v, size_t vlen)
{
	unsigned char m[SNAP_META_LEN], key[64];
	size_t nl = strlen(name);
	struct snap_idx_builder b;
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
	snap_idx_init(&b, 1);
	forge_add(&cm, &b, key, nl + 1, v, vlen);
	memset(m, 0, sizeof(m));
	snap_put32(m + 56, cm.cdb_dpos);
	forge_index(&cm, &b);
	memcpy(m, SNAP_MAGIC, SNAP_MAGIC_LEN);
	snap_put32(m + 8, SNAP_FORMAT_VERSION);
	ASSERT(cdb_make_add(&cm, "M", 1, m, sizeof(m)) == 0);
	ASSERT(cdb_make_finish(&cm) == 0);
	fclose(f);
}

#endif
