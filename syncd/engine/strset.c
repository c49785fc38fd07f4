/*
 * strset.c - the set of Okta ids a sync has seen (strset.h).
 *
 * Open addressing; each slot keeps its string's hash, so that a probe
 * compares strings only when the hashes agree.  A key of up to
 * STRSET_INLINE - 1 characters (an Okta id has 20) lives in its slot: the
 * member check, half a million times in a large sync, then costs one cache
 * miss rather than two (the slot, then the string elsewhere).  Longer keys
 * live packed in blocks of their own: as one malloc each, made amid the
 * short-lived allocations of the user object being parsed, they pinned the
 * heap into fragments that malloc could neither reuse nor give back (7 MB
 * more peak RSS at 100k users, 15 MB more during the fetch).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "idalloc.h"
#include "strset.h"
#include "xmalloc.h"

#define STRSET_BLOCK 65536
#define STRSET_INLINE 23

enum strset_kind { SLOT_FREE, SLOT_INLINE, SLOT_BLOCK };

struct strset_ent {
	uint64_t h;
	char k[STRSET_INLINE];          /* the key, or (SLOT_BLOCK) a char * */
	unsigned char kind;             /* enum strset_kind */
};

_Static_assert(sizeof(char *) <= STRSET_INLINE, "a pointer fits in a slot");

struct strset_block {
	struct strset_block *next;
	size_t used, cap;
	char data[];
};

static char *
strset_intern(struct strset *s, const char *k, size_t len)
{
	struct strset_block *b = s->blocks;

	if (b == NULL || b->cap - b->used < len) {
		b = xmalloc(sizeof(*b) + (len > STRSET_BLOCK ? len : STRSET_BLOCK));
		b->used = 0;
		b->cap = len > STRSET_BLOCK ? len : STRSET_BLOCK;
		b->next = s->blocks;
		s->blocks = b;
	}
	memcpy(b->data + b->used, k, len);
	b->used += len;
	return b->data + b->used - len;
}

static const char *
strset_key(const struct strset_ent *e)
{
	const char *p;

	if (e->kind == SLOT_INLINE)
		return e->k;
	memcpy(&p, e->k, sizeof(p));
	return p;
}

/* The slot holding k, or the free slot where it would go. */
static size_t
strset_slot(const struct strset *s, const char *k, uint64_t h)
{
	size_t i = (size_t)h & (s->cap - 1);

	while (s->v[i].kind != SLOT_FREE &&
	    (s->v[i].h != h || strcmp(strset_key(&s->v[i]), k) != 0))
		i = (i + 1) & (s->cap - 1);
	return i;
}

void
strset_add(struct strset *s, const char *k)
{
	uint64_t h = idalloc_hash(k);
	struct strset_ent *old, *e;
	size_t i, j, oldcap, len;
	char *p;

	if ((s->n + 1) * 2 > s->cap) {
		old = s->v;
		oldcap = s->cap;
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->v = xcalloc(s->cap, sizeof(*s->v));
		/* The keys are distinct: each goes to the first free slot. */
		for (j = 0; j < oldcap; j++) {
			if (old[j].kind == SLOT_FREE)
				continue;
			i = (size_t)old[j].h & (s->cap - 1);
			while (s->v[i].kind != SLOT_FREE)
				i = (i + 1) & (s->cap - 1);
			s->v[i] = old[j];
		}
		free(old);
	}
	e = &s->v[strset_slot(s, k, h)];
	if (e->kind != SLOT_FREE)
		return;
	e->h = h;
	len = strlen(k) + 1;
	if (len <= STRSET_INLINE) {
		memcpy(e->k, k, len);
		e->kind = SLOT_INLINE;
	} else {
		p = strset_intern(s, k, len);
		memcpy(e->k, &p, sizeof(p));
		e->kind = SLOT_BLOCK;
	}
	s->n++;
}

int
strset_has(const struct strset *s, const char *k)
{
	return s->cap > 0 &&
	    s->v[strset_slot(s, k, idalloc_hash(k))].kind != SLOT_FREE;
}

void
strset_free(struct strset *s)
{
	struct strset_block *b;

	while ((b = s->blocks) != NULL) {
		s->blocks = b->next;
		free(b);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}
