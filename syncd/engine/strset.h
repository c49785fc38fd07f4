/*
 * strset.h - a set of strings, for the Okta ids seen in a sync's user
 * listings: a group member the user listings did not return (a race, or a
 * token that sees the group but not the user) is never staged, and
 * checking that is done half a million times in a large sync.
 *
 * Zero-initialise a struct strset to get an empty set.  strset_add copies
 * the key (adding one already there does nothing); strset_has says whether
 * k was added; strset_free frees everything and leaves an empty set.  Out
 * of memory ends the process (xmalloc.h), as everywhere in syncd/.  Not
 * thread-safe.
 */
#ifndef OKTA_STRSET_H
#define OKTA_STRSET_H

#include <stddef.h>

struct strset_ent;
struct strset_block;

struct strset {
	struct strset_ent *v;
	size_t cap, n;
	struct strset_block *blocks;    /* the newest first */
};

void strset_add(struct strset *s, const char *k);
int strset_has(const struct strset *s, const char *k);
void strset_free(struct strset *s);

#endif
