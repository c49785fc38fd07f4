/*
 * snapshot_refs.c - strip and fill a data section's index (see
 * snapshot_refs.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot_format.h"
#include "snapshot_index.h"
#include "snapshot_refs.h"

/* The first format with an index record. */
#define REFS_FORMAT 4

struct rec {
	size_t at;                 /* offset of `klen` in the data section */
	const unsigned char *key, *val;
	uint32_t klen, vlen;
};

/* The record at *pos: 1 with *r filled and *pos moved past it, 0 at the
 * end, -1 when it runs past the end. */
static int
next(const unsigned char *d, size_t len, size_t *pos, struct rec *r)
{
	size_t left = len - *pos;

	if (left == 0)
		return 0;
	if (left < 8)
		return -1;
	r->at = *pos;
	r->klen = snap_get32(d + *pos);
	r->vlen = snap_get32(d + *pos + 4);
	if ((uint64_t)r->klen + r->vlen > left - 8)
		return -1;
	r->key = d + *pos + 8;
	r->val = r->key + r->klen;
	*pos += 8 + (size_t)r->klen + r->vlen;
	return 1;
}

/* The index record 'X' with at least its header. */
static int
is_index(const struct rec *r)
{
	return r->klen == 1 && r->key[0] == SNAP_KEY_INDEX &&
	    r->vlen >= SNAP_IDX_HDR;
}

/*
 * The index record of a section, in one walk up to the meta record (the
 * last in format 4, after the index): 1 when the section is of a format
 * with an index, with *x; 0 for an older one (left alone); -1 EPROTO (no
 * meta record, a record that runs past the end, no index before the meta
 * record, or one too short for its pad).
 */
static int
section(const unsigned char *d, size_t len, struct rec *x)
{
	size_t pos = 0;
	struct rec r;
	int index = 0, n;

	while ((n = next(d, len, &pos, &r)) == 1) {
		if (r.klen == 1 && r.key[0] == SNAP_KEY_META &&
		    r.vlen >= SNAP_MAGIC_LEN + 4) {
			if (snap_get32(r.val + SNAP_MAGIC_LEN) < REFS_FORMAT)
				return 0;
			if (!index || (size_t)SNAP_IDX_HDR +
			    x->val[SNAP_IDX_HDR - 1] > x->vlen)
				break;
			return 1;
		}
		if (!index && is_index(&r)) {
			*x = r;
			index = 1;
		}
	}
	errno = EPROTO;
	return -1;
}

int
snap_refs_strip(unsigned char *data, size_t len)
{
	size_t head;
	struct rec x;
	int r;

	if ((r = section(data, len, &x)) <= 0)
		return r;
	/* The header (seed, sizes, salts, pad) stays: fill needs it. */
	head = SNAP_IDX_HDR + x.val[SNAP_IDX_HDR - 1];
	memset(data + x.at + 8 + x.klen + head, 0, x.vlen - head);
	return 0;
}

/* Add every 'p' and 'g' record of the section to b, in file order. */
static int
add_records(struct snap_idx_builder *b, const unsigned char *d, size_t len)
{
	size_t pos = 0;
	uint64_t off;
	struct rec r;
	int n;

	while ((n = next(d, len, &pos, &r)) == 1) {
		if (r.klen < 2 || (r.key[0] != SNAP_KEY_PWNAM &&
		    r.key[0] != SNAP_KEY_GRNAM))
			continue;
		off = SNAP_CDB_TOC + (uint64_t)r.at;
		if (r.vlen < 4 || off > UINT32_MAX)
			goto bad;
		if ((r.key[0] == SNAP_KEY_PWNAM ? snap_idx_add_user :
		    snap_idx_add_group)(b, r.key + 1, r.klen - 1,
		    snap_get32(r.val), (uint32_t)off) != 0)
			return -1;    /* ENOMEM */
	}
	if (n == 0)
		return 0;
bad:
	errno = EPROTO;
	return -1;
}

int
snap_refs_fill(unsigned char *data, size_t len)
{
	struct snap_idx_builder b;
	uint8_t salts[SNAP_IDX_NTABLES];
	uint64_t at;
	struct rec x;
	int r, t;

	if ((r = section(data, len, &x)) <= 0)
		return r;
	snap_idx_init(&b, snap_get32(x.val));
	if (add_records(&b, data, len) != 0)
		goto fail;
	/* The record must be exactly what the writer would have made of
	 * these records, or the tables would not fit it. */
	at = SNAP_CDB_TOC + (uint64_t)x.at;
	if (snap_idx_value_len(&b, at) != x.vlen ||
	    snap_get32(x.val + 4) != b.n[SNAP_IDX_PWNAM] ||
	    snap_get32(x.val + 8) != b.n[SNAP_IDX_GRNAM]) {
		errno = EPROTO;
		goto fail;
	}
	for (t = 0; t < SNAP_IDX_NTABLES; t++)
		salts[t] = x.val[12 + t];
	/* The publisher's salts placed every entry; with other records
	 * they may not: the payload is not what was signed. */
	if (snap_idx_encode(&b, at, salts, data + x.at + 8 + x.klen) != 0) {
		if (errno != ENOMEM)
			errno = EPROTO;
		goto fail;
	}
	snap_idx_free(&b);
	return 0;
fail:
	snap_idx_free(&b);
	return -1;
}
