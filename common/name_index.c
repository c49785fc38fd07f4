/*
 * name_index.c - an index of strings held elsewhere (see name_index.h).
 */
#include <stdlib.h>
#include <string.h>

#include "name_index.h"
#include "snapshot_index.h"

/* The slot of name: the one holding it, or the free one it would take. */
static size_t
slot_of(const struct name_index *x, const char *name)
{
	size_t h = (size_t)snap_idx_hash_name(x->seed, name, strlen(name));
	uint32_t e;

	while ((e = x->slot[h & x->mask]) != 0 &&
	    strcmp(x->at(x->ctx, e - 1), name) != 0)
		h++;
	return h & x->mask;
}

int
name_index_build(struct name_index *x, uint32_t seed, size_t n,
    name_index_at_fn at, const void *ctx, const char **dup)
{
	size_t i, k;

	*dup = NULL;
	x->seed = seed;
	x->at = at;
	x->ctx = ctx;
	x->mask = 15;
	while (x->mask / 2 < n && x->mask < SIZE_MAX / 8)
		x->mask = x->mask * 2 + 1;
	if (n >= UINT32_MAX || x->mask / 2 < n ||
	    (x->slot = calloc(x->mask + 1, sizeof(*x->slot))) == NULL) {
		x->slot = NULL;
		return -1;
	}
	for (i = 0; i < n; i++) {
		k = slot_of(x, at(ctx, i));
		if (x->slot[k] == 0)
			x->slot[k] = (uint32_t)i + 1;
		else if (*dup == NULL)
			*dup = at(ctx, i);
	}
	return 0;
}

size_t
name_index_find(const struct name_index *x, const char *name)
{
	return x->slot[slot_of(x, name)];
}

void
name_index_free(struct name_index *x)
{
	free(x->slot);
	x->slot = NULL;
}
