/*
 * name_index.h - an index of n strings held elsewhere (at(ctx, i) is the
 * i-th), for finding one by its text: open addressing, at most half full,
 * each slot 0 or i + 1, a probe or two a look-up where sorting 100,000
 * names and searching them cost about 17 string comparisons each.
 *
 * The hash is seeded (snap_idx_hash_name): names that come from Okta and
 * may be chosen by people (logins) must be indexed under a random seed,
 * as the snapshot's own index is, so that colliding names cannot make
 * building the index quadratic.  The strings must stay in place and
 * unchanged while the index is used.  Allocates (calloc) and never
 * aborts: the snapshot writer uses it as well as syncd.
 */
#ifndef OKTA_NAME_INDEX_H
#define OKTA_NAME_INDEX_H

#include <stddef.h>
#include <stdint.h>

typedef const char *(*name_index_at_fn)(const void *ctx, size_t i);

struct name_index {
	uint32_t *slot;
	size_t mask;
	uint32_t seed;
	name_index_at_fn at;
	const void *ctx;
};

/*
 * Index the n strings at(ctx, 0..n) under seed; *dup receives the first
 * one equal to an earlier one, or NULL (the earlier one is what is
 * found).  0, or -1 (ENOMEM, or more than 2^32 - 1 strings) with nothing
 * to free.
 */
int name_index_build(struct name_index *x, uint32_t seed, size_t n,
    name_index_at_fn at, const void *ctx, const char **dup);

/* i + 1 where at(ctx, i) is name, or 0 when no string is. */
size_t name_index_find(const struct name_index *x, const char *name);

void name_index_free(struct name_index *x);

#endif
