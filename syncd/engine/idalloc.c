/*
 * idalloc.c - the pool of taken UIDs/GIDs and the derivation rule (see
 * idalloc.h).  An open-addressing hash table keyed by ID, linear probing,
 * grown at 50% load.
 */
#include <stdlib.h>
#include <string.h>

#include "idalloc.h"
#include "names.h"
#include "xmalloc.h"

struct slot {
	uint32_t id;
	unsigned char used;
	unsigned char kind;      /* enum id_kind */
	char *okta_id;           /* NULL for local IDs */
};

struct idalloc {
	struct slot *slots;
	size_t cap;              /* a power of two */
	size_t n;
	uint32_t *fresh;         /* IDs allocated since idalloc_new, in order */
	size_t nfresh, capfresh;
};

struct idalloc *
idalloc_new(void)
{
	struct idalloc *a = xcalloc(1, sizeof(*a));

	a->cap = 1024;
	a->slots = xcalloc(a->cap, sizeof(*a->slots));
	return a;
}

void
idalloc_free(struct idalloc *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->cap; i++)
		free(a->slots[i].okta_id);
	free(a->slots);
	free(a->fresh);
	free(a);
}

uint64_t
idalloc_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static size_t
bucket(const struct idalloc *a, uint32_t id)
{
	return (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15ULL) >> 17) & (a->cap - 1);
}

static struct slot *
find(const struct idalloc *a, uint32_t id)
{
	size_t i = bucket(a, id);

	while (a->slots[i].used) {
		if (a->slots[i].id == id)
			return &a->slots[i];
		i = (i + 1) & (a->cap - 1);
	}
	return NULL;
}

static void
grow(struct idalloc *a)
{
	struct slot *old = a->slots;
	size_t oldcap = a->cap, i, j;

	a->cap *= 2;
	a->slots = xcalloc(a->cap, sizeof(*a->slots));
	for (i = 0; i < oldcap; i++) {
		if (!old[i].used)
			continue;
		j = bucket(a, old[i].id);
		while (a->slots[j].used)
			j = (j + 1) & (a->cap - 1);
		a->slots[j] = old[i];
	}
	free(old);
}

/* Insert id (known absent). */
static void
insert(struct idalloc *a, uint32_t id, const char *okta_id, enum id_kind kind)
{
	size_t i;

	if ((a->n + 1) * 2 > a->cap)
		grow(a);
	i = bucket(a, id);
	while (a->slots[i].used)
		i = (i + 1) & (a->cap - 1);
	a->slots[i].used = 1;
	a->slots[i].id = id;
	a->slots[i].kind = (unsigned char)kind;
	a->slots[i].okta_id = okta_id ? xstrdup(okta_id) : NULL;
	a->n++;
}

static void
note_fresh(struct idalloc *a, uint32_t id)
{
	if (a->nfresh == a->capfresh) {
		a->capfresh = a->capfresh ? a->capfresh * 2 : 256;
		a->fresh = xreallocarray(a->fresh, a->capfresh, sizeof(*a->fresh));
	}
	a->fresh[a->nfresh++] = id;
}

void
idalloc_reserve_local(struct idalloc *a, uint32_t id)
{
	struct slot *s = find(a, id);

	if (s == NULL) {
		insert(a, id, NULL, ID_KIND_LOCAL);
		return;
	}
	/* A local account always wins, even over a cached allocation. */
	if (s->okta_id != NULL) {
		free(s->okta_id);
		s->okta_id = NULL;
		s->kind = ID_KIND_LOCAL;
	}
}

void
idalloc_add_existing(struct idalloc *a, uint32_t id, const char *okta_id,
    enum id_kind kind)
{
	if (find(a, id) == NULL)
		insert(a, id, okta_id, kind);
}

int
idalloc_owner(const struct idalloc *a, uint32_t id, const char **okta_id)
{
	const struct slot *s = find(a, id);

	if (s == NULL)
		return 0;
	if (s->okta_id == NULL)
		return 1;
	if (okta_id != NULL)
		*okta_id = s->okta_id;
	return 2;
}

int
idalloc_claim(struct idalloc *a, uint32_t id, const char *okta_id,
    enum id_kind kind)
{
	const struct slot *s = find(a, id);

	/* Rule 1's floor, whatever the caller checked: the system range
	 * belongs to the host, as a local account's ID does. */
	if (id < OKTA_ID_FLOOR)
		return 1;
	if (s == NULL) {
		insert(a, id, okta_id, kind);
		note_fresh(a, id);
		return 0;
	}
	if (s->okta_id == NULL)
		return 1;
	return strcmp(s->okta_id, okta_id) == 0 ? 0 : 2;
}

int
idalloc_derive(struct idalloc *a, const char *okta_id, enum id_kind kind,
    uint32_t min, uint32_t max, uint32_t *id)
{
	uint64_t span, k, i;
	uint32_t cand;

	if (max < min)
		return -1;
	span = (uint64_t)max - min + 1;
	k = idalloc_hash(okta_id) % span;
	for (i = 0; i < span; i++) {
		cand = (uint32_t)(min + (k + i) % span);
		if (find(a, cand) == NULL) {
			insert(a, cand, okta_id, kind);
			note_fresh(a, cand);
			*id = cand;
			return 0;
		}
	}
	return -1;
}

static int
cmp_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void
idalloc_each_new(const struct idalloc *a,
    void (*fn)(void *ctx, uint32_t id, const char *okta_id, enum id_kind kind),
    void *ctx)
{
	uint32_t *v;
	size_t i;
	const struct slot *s;

	if (a->nfresh == 0)
		return;
	v = xreallocarray(NULL, a->nfresh, sizeof(*v));
	memcpy(v, a->fresh, a->nfresh * sizeof(*v));
	qsort(v, a->nfresh, sizeof(*v), cmp_id);
	for (i = 0; i < a->nfresh; i++) {
		s = find(a, v[i]);
		if (s != NULL && s->okta_id != NULL)
			fn(ctx, s->id, s->okta_id, (enum id_kind)s->kind);
	}
	free(v);
}
