/*
 * snapshot_index.c - the 'X' index record's hash functions, which the
 * reader and the builder share (see snapshot_index.h).  The builder is in
 * snapshot_index_build.c, so that NSS and PAM do not link it; the
 * reader's lookups are in snapshot_reader.c.
 */
#include <stddef.h>

#include "snapshot_format.h"
#include "snapshot_index.h"

#define K1 0x9e3779b97f4a7c15ull
#define K2 0xbf58476d1ce4e5b9ull
#define K3 0x94d049bb133111ebull

/* splitmix64's finaliser: every input bit reaches every output bit, so
 * the bucket (high bits) and the slot (low bits) are independent. */
static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= K2;
	x ^= x >> 27;
	x *= K3;
	return x ^ (x >> 31);
}

/* Little-endian whatever the host, so that a publisher and a subscriber
 * of another byte order build the same index; compilers make this one
 * load on x86 and arm64. */
static uint64_t
load64(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	    (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

uint64_t
snap_idx_hash_name(uint32_t seed, const void *name, size_t len)
{
	const unsigned char *p = name;
	uint64_t h = ((uint64_t)seed * K1) ^ len, v;
	size_t i;

	/* Eight bytes a step: a login name is one or two steps. */
	for (; len >= 8; p += 8, len -= 8) {
		h = (h ^ load64(p)) * K1;
		h ^= h >> 29;
	}
	if (len > 0) {
		for (v = 0, i = 0; i < len; i++)
			v |= (uint64_t)p[i] << (8 * i);
		h = (h ^ v) * K1;
		h ^= h >> 29;
	}
	return mix(h);
}

uint64_t
snap_idx_hash_id(uint32_t seed, uint32_t id)
{
	return mix(((uint64_t)seed << 32 | id) * K1);
}

size_t
snap_idx_pad(uint64_t rec_at)
{
	/* Header `klen vlen` (8), the key "X" (1), the value's header. */
	uint64_t tables = rec_at + 8 + 1 + SNAP_IDX_HDR;

	return (size_t)((SNAP_IDX_ALIGN - tables % SNAP_IDX_ALIGN) %
	    SNAP_IDX_ALIGN);
}
