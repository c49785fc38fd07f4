/*
 * snapshot_index.h - the snapshot's lookup index, the 'X' record of
 * format 4 (issue 13; the layout is in snapshot_format.h).  Private to
 * common/ and to the tests that forge snapshots.
 *
 * Why not tinycdb's own hash tables: a cdb lookup loads a 16-byte slot
 * pair from one of 256 tables spread over every record of the file
 * (megabytes at 20k users), then the record.  A warm getpwnam over many
 * names then misses the cache twice; nscd with a tuned table misses once.
 *
 * The index keeps, for each of the four lookups (user by name, by UID,
 * group by name, by GID), a minimal-space perfect hash in the manner of
 * PTHash (Pibiri and Trani, SIGIR 2021): the keys are spread over
 * buckets of about four; each bucket has a 16-bit pilot, chosen when the
 * file is written, that sends each of its keys to a slot of its own; a
 * slot holds the file offset of its record.  A lookup reads one pilot,
 * one slot and the record, whose key (or ID) it then compares: no probing,
 * no tags.  That is about 5 bytes an entry (a 4-byte slot at 89 % load,
 * half a pilot): the user-name table of 100k users is 0.5 MB and stays in
 * L2, where a linear-probing table of tagged slots took 1.2 MB.
 *
 * The hash is seeded from the snapshot's own seed (random per file), so
 * that names chosen in Okta cannot be made to collide.  Everything here
 * is deterministic given the seed, the salts and the order the entries
 * are added in: the fleet's subscriber rebuilds the same bytes from the
 * records (snapshot_refs.c).  libc only.
 */
#ifndef OKTA_SNAPSHOT_INDEX_H
#define OKTA_SNAPSHOT_INDEX_H

#include <stddef.h>
#include <stdint.h>

/* The four tables, in the order they are stored (each by-ID table right
 * after its by-name table: the builder relies on it). */
enum snap_idx_table {
	SNAP_IDX_PWNAM, SNAP_IDX_PWUID, SNAP_IDX_GRNAM, SNAP_IDX_GRGID,
	SNAP_IDX_NTABLES
};

/* seed, nusers, ngroups, one salt a table, the pad's length */
#define SNAP_IDX_HDR (12 + SNAP_IDX_NTABLES + 1)
#define SNAP_IDX_ALIGN 64       /* the first table starts on a cache line */
#define SNAP_MAX_ENTRIES 0x40000000u    /* users, or groups, in one file */

/* The buckets (16-bit pilots) and slots (32-bit offsets) of a table of
 * n entries. */
static inline uint32_t
snap_idx_buckets(uint32_t n)
{
	return n / 4 + 1;
}

static inline uint32_t
snap_idx_slots(uint32_t n)
{
	return n + n / 8 + 1;
}

/* A table's bytes: its pilots, padded to 4 bytes, then its slots. */
static inline uint64_t
snap_idx_table_len(uint32_t n)
{
	return ((uint64_t)snap_idx_buckets(n) * 2 + 3) / 4 * 4 +
	    (uint64_t)snap_idx_slots(n) * 4;
}

/* The hash of a name and of an ID under seed. */
uint64_t snap_idx_hash_name(uint32_t seed, const void *name, size_t len);
uint64_t snap_idx_hash_id(uint32_t seed, uint32_t id);

/* The hash of pilot p under a table's salt, that moves its keys: one
 * multiply (snap_idx_slot mixes again). */
static inline uint32_t
snap_idx_pilot_hash(uint32_t p, uint8_t salt)
{
	return (uint32_t)((((uint64_t)salt << 16 | p) + 1) *
	    0xd6e8feb86659fd93ull >> 32);
}

static inline uint32_t
snap_idx_range(uint32_t x, uint32_t n)
{
	return (uint32_t)(((uint64_t)x * n) >> 32);
}

/* A key's bucket, and its slot under that bucket's pilot hash. */
static inline uint32_t
snap_idx_bucket(uint64_t h, uint32_t nbuckets)
{
	return snap_idx_range((uint32_t)(h >> 32), nbuckets);
}

static inline uint32_t
snap_idx_slot(uint64_t h, uint32_t pilot_hash, uint32_t nslots)
{
	/* The multiply carries every bit of the XOR into the high bits
	 * that snap_idx_range keeps: without it, two keys that agree in
	 * their top bits would share a slot under every pilot. */
	uint64_t x = ((uint32_t)h ^ pilot_hash) * 0x9e3779b97f4a7c15ull;

	return snap_idx_range((uint32_t)(x >> 32), nslots);
}

/*
 * The pad length for an 'X' record whose header `klen vlen` is at file
 * offset rec_at: the tables then start at a multiple of SNAP_IDX_ALIGN.
 */
size_t snap_idx_pad(uint64_t rec_at);

/*
 * A builder: the entries in the order they lie in the file, then the
 * record's value.  Used by the writer, by the fleet's fill and by the
 * tests' forgers, so that all of them write the same bytes.
 */
struct snap_idx_builder {
	uint32_t seed;
	struct snap_idx_ent {
		uint64_t h;
		uint32_t off;
	} *ent[SNAP_IDX_NTABLES];
	size_t n[SNAP_IDX_NTABLES], cap[SNAP_IDX_NTABLES];
};

void snap_idx_init(struct snap_idx_builder *b, uint32_t seed);
void snap_idx_free(struct snap_idx_builder *b);

/* A 'p' (user) or 'g' (group) record with this name and ID whose header
 * is at file offset off.  0, or -1 ENOMEM. */
int snap_idx_add_user(struct snap_idx_builder *b, const void *name,
    size_t nlen, uint32_t uid, uint32_t off);
int snap_idx_add_group(struct snap_idx_builder *b, const void *name,
    size_t nlen, uint32_t gid, uint32_t off);

/* The length of the 'X' record's value that will be written at file
 * offset rec_at. */
size_t snap_idx_value_len(const struct snap_idx_builder *b, uint64_t rec_at);

/*
 * Write that value into out (snap_idx_value_len bytes).  salts: the salt
 * of each table, or NULL to find them (the writer); given, they must
 * work (the fleet's fill, with the publisher's).  0, or -1 with errno
 * ENOMEM, or EEXIST when two entries of a table have the same 64-bit
 * hash (the same name or ID twice, or a 1-in-2^64 accident: a new seed
 * cures that one), or, with salts given, when they do not place every
 * entry.
 */
int snap_idx_encode(const struct snap_idx_builder *b, uint64_t rec_at,
    const uint8_t *salts, unsigned char *out);

/* A random seed from the kernel: 0, or -1 with errno. */
int snap_idx_random_seed(uint32_t *seed);

#endif
