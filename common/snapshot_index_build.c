/*
 * snapshot_index_build.c - the builder of the 'X' index record (see
 * snapshot_index.h): the writer, the fleet's fill and the tests' forgers
 * use it; NSS and PAM only read (snapshot_index.c, snapshot_reader.c).
 *
 * Placing a table: the entries are grouped by bucket, and the buckets are
 * placed largest first (PTHash's order: a large bucket needs many free
 * slots at once, easiest while the table is empty).  For each, pilots
 * 0, 1, 2... are tried until one sends every entry of the bucket to a
 * free slot of its own.  The tables are 89 % full at most, buckets hold
 * four entries on average, so a pilot is found within a few tries; a
 * bucket that finds none in 65,536 (a table this full makes that
 * vanishingly rare) makes the whole table start again under the next
 * salt.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "snapshot_format.h"
#include "snapshot_index.h"

void
snap_idx_init(struct snap_idx_builder *b, uint32_t seed)
{
	memset(b, 0, sizeof(*b));
	b->seed = seed;
}

void
snap_idx_free(struct snap_idx_builder *b)
{
	int t;

	for (t = 0; t < SNAP_IDX_NTABLES; t++)
		free(b->ent[t]);
	memset(b, 0, sizeof(*b));
}

static int
push(struct snap_idx_builder *b, int t, uint64_t h, uint32_t off)
{
	struct snap_idx_ent *e;
	size_t cap;

	if (b->n[t] == b->cap[t]) {
		cap = b->cap[t] ? b->cap[t] * 2 : 256;
		if (cap > SIZE_MAX / sizeof(*e) ||
		    (e = realloc(b->ent[t], cap * sizeof(*e))) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		b->ent[t] = e;
		b->cap[t] = cap;
	}
	b->ent[t][b->n[t]++] = (struct snap_idx_ent){ h, off };
	return 0;
}

/* An entry of the by-name table tname and of the by-ID table tname + 1. */
static int
add_entry(struct snap_idx_builder *b, int tname, const void *name,
    size_t nlen, uint32_t id, uint32_t off)
{
	if (push(b, tname, snap_idx_hash_name(b->seed, name, nlen), off) != 0)
		return -1;
	return push(b, tname + 1, snap_idx_hash_id(b->seed, id), off);
}

int
snap_idx_add_user(struct snap_idx_builder *b, const void *name, size_t nlen,
    uint32_t uid, uint32_t off)
{
	return add_entry(b, SNAP_IDX_PWNAM, name, nlen, uid, off);
}

int
snap_idx_add_group(struct snap_idx_builder *b, const void *name, size_t nlen,
    uint32_t gid, uint32_t off)
{
	return add_entry(b, SNAP_IDX_GRNAM, name, nlen, gid, off);
}

size_t
snap_idx_value_len(const struct snap_idx_builder *b, uint64_t rec_at)
{
	uint64_t len = SNAP_IDX_HDR + snap_idx_pad(rec_at);
	int t;

	for (t = 0; t < SNAP_IDX_NTABLES; t++)
		len += snap_idx_table_len((uint32_t)b->n[t]);
	return (size_t)len;
}

/* A table being placed: its entries grouped by bucket, largest first. */
struct place {
	const struct snap_idx_ent *e;
	uint32_t n, nb, m;
	uint32_t *start;          /* nb + 1: bucket i's entries in by[] */
	uint32_t *by;             /* entry indices, grouped by bucket */
	uint32_t *order;          /* bucket indices, largest bucket first */
	unsigned char *taken;     /* m bits */
	uint32_t *pos;            /* one bucket's slots while trying */
};

static void
place_free(struct place *pl)
{
	free(pl->start);
	free(pl->by);
	free(pl->order);
	free(pl->taken);
	free(pl->pos);
}

/* Group the entries by bucket (counting sorts: deterministic, stable). */
static int
place_init(struct place *pl, const struct snap_idx_ent *e, uint32_t n)
{
	uint32_t i, b, *fill = NULL, maxsz = 0, *bysz = NULL;

	memset(pl, 0, sizeof(*pl));
	pl->e = e;
	pl->n = n;
	pl->nb = snap_idx_buckets(n);
	pl->m = snap_idx_slots(n);
	pl->start = calloc((size_t)pl->nb + 1, sizeof(uint32_t));
	pl->by = malloc(((size_t)n + 1) * sizeof(uint32_t));
	pl->order = malloc((size_t)pl->nb * sizeof(uint32_t));
	pl->taken = calloc((size_t)pl->m / 8 + 1, 1);
	fill = calloc((size_t)pl->nb + 1, sizeof(uint32_t));
	if (pl->start == NULL || pl->by == NULL || pl->order == NULL ||
	    pl->taken == NULL || fill == NULL)
		goto nomem;
	for (i = 0; i < n; i++)
		pl->start[snap_idx_bucket(e[i].h, pl->nb) + 1]++;
	for (b = 0; b < pl->nb; b++) {
		if (pl->start[b + 1] > maxsz)
			maxsz = pl->start[b + 1];
		pl->start[b + 1] += pl->start[b];
	}
	for (i = 0; i < n; i++) {
		b = snap_idx_bucket(e[i].h, pl->nb);
		pl->by[pl->start[b] + fill[b]++] = i;
	}
	/* Buckets by size, largest first, then by index. */
	if ((bysz = calloc((size_t)maxsz + 2, sizeof(uint32_t))) == NULL ||
	    (pl->pos = malloc(((size_t)maxsz + 1) * sizeof(uint32_t))) == NULL)
		goto nomem;
	for (b = 0; b < pl->nb; b++)
		bysz[maxsz - (pl->start[b + 1] - pl->start[b]) + 1]++;
	for (i = 0; i <= maxsz; i++)
		bysz[i + 1] += bysz[i];
	for (b = 0; b < pl->nb; b++)
		pl->order[bysz[maxsz - (pl->start[b + 1] - pl->start[b])]++] = b;
	free(fill);
	free(bysz);
	return 0;
nomem:
	free(fill);
	free(bysz);
	place_free(pl);
	errno = ENOMEM;
	return -1;
}

static int
taken(const struct place *pl, uint32_t i)
{
	return pl->taken[i / 8] >> (i % 8) & 1;
}

/*
 * Find bucket b's pilot: the first that sends each of its entries to a
 * free slot of its own.  The pilot, or -1 when none does (EEXIST: two
 * entries share their hash, and no pilot ever will).
 */
static long
find_pilot(struct place *pl, uint32_t b, uint8_t salt)
{
	uint32_t lo = pl->start[b], cnt = pl->start[b + 1] - lo, p, ph, i, j;
	const struct snap_idx_ent *e = pl->e;

	for (i = 0; i < cnt; i++)
		for (j = 0; j < i; j++)
			if (e[pl->by[lo + i]].h == e[pl->by[lo + j]].h) {
				errno = EEXIST;
				return -1;
			}
	for (p = 0; p <= 0xffff; p++) {
		ph = snap_idx_pilot_hash(p, salt);
		for (i = 0; i < cnt; i++) {
			pl->pos[i] = snap_idx_slot(e[pl->by[lo + i]].h, ph, pl->m);
			if (taken(pl, pl->pos[i]))
				break;
			for (j = 0; j < i && pl->pos[j] != pl->pos[i]; j++)
				;
			if (j < i)
				break;
		}
		if (i == cnt)
			return p;
	}
	errno = EAGAIN;
	return -1;
}

/* Place table pl under salt into out (snap_idx_table_len bytes).  0, or
 * -1 with EAGAIN (this salt leaves a bucket without a pilot) or EEXIST. */
static int
place_all(struct place *pl, uint8_t salt, unsigned char *out)
{
	size_t pbytes = ((size_t)pl->nb * 2 + 3) / 4 * 4;
	unsigned char *slots = out + pbytes;
	uint32_t k, b, i, cnt;
	long p;

	memset(out, 0, (size_t)snap_idx_table_len(pl->n));
	memset(pl->taken, 0, (size_t)pl->m / 8 + 1);
	for (k = 0; k < pl->nb; k++) {
		b = pl->order[k];
		if ((cnt = pl->start[b + 1] - pl->start[b]) == 0)
			break;    /* the rest are empty too */
		if ((p = find_pilot(pl, b, salt)) < 0)
			return -1;
		snap_put16(out + (size_t)b * 2, (uint16_t)p);
		for (i = 0; i < cnt; i++) {
			pl->taken[pl->pos[i] / 8] |=
			    (unsigned char)(1u << (pl->pos[i] % 8));
			snap_put32(slots + (size_t)pl->pos[i] * 4,
			    pl->e[pl->by[pl->start[b] + i]].off);
		}
	}
	return 0;
}

/* One table: with the given salt, or the first of 0..255 that works. */
static int
encode_table(const struct snap_idx_builder *b, int t, const uint8_t *given,
    uint8_t *salt, unsigned char *out)
{
	struct place pl;
	unsigned s;
	int r = -1;

	if (place_init(&pl, b->ent[t], (uint32_t)b->n[t]) != 0)
		return -1;
	for (s = given ? given[t] : 0; s <= (given ? given[t] : 255u); s++) {
		if ((r = place_all(&pl, (uint8_t)s, out)) == 0 ||
		    errno != EAGAIN)
			break;
	}
	*salt = (uint8_t)s;
	place_free(&pl);
	if (r != 0 && errno == EAGAIN)
		errno = EEXIST;
	return r;
}

int
snap_idx_encode(const struct snap_idx_builder *b, uint64_t rec_at,
    const uint8_t *salts, unsigned char *out)
{
	size_t pad = snap_idx_pad(rec_at);
	unsigned char *tbl;
	uint8_t salt;
	int t;

	snap_put32(out, b->seed);
	snap_put32(out + 4, (uint32_t)b->n[SNAP_IDX_PWNAM]);
	snap_put32(out + 8, (uint32_t)b->n[SNAP_IDX_GRNAM]);
	out[SNAP_IDX_HDR - 1] = (unsigned char)pad;
	tbl = out + SNAP_IDX_HDR + pad;
	memset(out + SNAP_IDX_HDR, 0, pad);
	for (t = 0; t < SNAP_IDX_NTABLES; t++) {
		if (encode_table(b, t, salts, &salt, tbl) != 0)
			return -1;
		out[12 + t] = salt;
		tbl += snap_idx_table_len((uint32_t)b->n[t]);
	}
	return 0;
}

int
snap_idx_random_seed(uint32_t *seed)
{
	ssize_t r;

	do
		r = getrandom(seed, sizeof(*seed), 0);
	while (r < 0 && errno == EINTR);
	if (r != (ssize_t)sizeof(*seed)) {
		if (r >= 0)
			errno = EIO;
		return -1;
	}
	return 0;
}
