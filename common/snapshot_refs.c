/*
 * snapshot_refs.c - strip and fill a data section's by-ID references
 * (see snapshot_refs.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot_format.h"
#include "snapshot_refs.h"

/* The first format whose by-ID records are references. */
#define REFS_FORMAT 3

struct rec {
	size_t at;                 /* offset of `klen` in the data section */
	const unsigned char *key, *val;
	uint32_t klen, vlen;
};

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

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
	r->klen = get32(d + *pos);
	r->vlen = get32(d + *pos + 4);
	if ((uint64_t)r->klen + r->vlen > left - 8)
		return -1;
	r->key = d + *pos + 8;
	r->val = r->key + r->klen;
	*pos += 8 + (size_t)r->klen + r->vlen;
	return 1;
}

/* A by-ID reference record: 'u' or 'G', a u32 ID, a u32 value. */
static int
is_ref(const struct rec *r)
{
	return r->klen == 5 && r->vlen == SNAP_ID_REF_LEN &&
	    (r->key[0] == SNAP_KEY_PWUID || r->key[0] == SNAP_KEY_GRGID);
}

/* The meta record's format version: 1 with *version, 0 when the section
 * has no meta record, -1 when it is malformed. */
static int
format_of(const unsigned char *d, size_t len, uint32_t *version)
{
	size_t pos = 0;
	struct rec r;
	int n;

	while ((n = next(d, len, &pos, &r)) == 1)
		if (r.klen == 1 && r.key[0] == SNAP_KEY_META &&
		    r.vlen >= SNAP_MAGIC_LEN + 4) {
			*version = get32(r.val + SNAP_MAGIC_LEN);
			return 1;
		}
	return n;
}

int
snap_refs_strip(unsigned char *data, size_t len)
{
	uint32_t version = 0;
	size_t pos = 0;
	struct rec r;
	int n;

	if (format_of(data, len, &version) != 1) {
		errno = EPROTO;
		return -1;
	}
	if (version < REFS_FORMAT)
		return 0;
	while ((n = next(data, len, &pos, &r)) == 1)
		if (is_ref(&r))
			memset(data + r.at + 8 + r.klen, 0, SNAP_ID_REF_LEN);
	return 0;
}

/* An ID and the file offset of its by-name record. */
struct target {
	uint32_t id, off;
};

static int
by_id(const void *a, const void *b)
{
	const struct target *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* The by-name records of kind ('p' or 'g'), sorted by the ID each value
 * starts with.  NULL with errno on failure. */
static struct target *
targets(const unsigned char *d, size_t len, unsigned char kind, size_t *nt)
{
	struct target *t = NULL;
	size_t pos = 0, n = 0, cap = 0;
	struct rec r;
	int k;

	while ((k = next(d, len, &pos, &r)) == 1) {
		if (r.klen < 2 || r.key[0] != kind || r.vlen < 4)
			continue;
		if (n == cap) {
			struct target *nt2;

			cap = cap ? cap * 2 : 1024;
			nt2 = realloc(t, cap * sizeof(*t));
			if (nt2 == NULL) {
				free(t);
				errno = ENOMEM;
				return NULL;
			}
			t = nt2;
		}
		if (SNAP_CDB_TOC + (uint64_t)r.at > UINT32_MAX) {
			free(t);
			errno = EPROTO;
			return NULL;
		}
		t[n].id = get32(r.val);
		t[n].off = (uint32_t)(SNAP_CDB_TOC + r.at);
		n++;
	}
	if (k < 0) {
		free(t);
		errno = EPROTO;
		return NULL;
	}
	if (n > 0)
		qsort(t, n, sizeof(*t), by_id);
	*nt = n;
	return t != NULL ? t : malloc(1);
}

int
snap_refs_fill(unsigned char *data, size_t len)
{
	struct target *pw = NULL, *gr = NULL, key, *hit;
	uint32_t version = 0;
	size_t npw = 0, ngr = 0, pos = 0;
	struct rec r;
	int n, rc = -1;

	if (format_of(data, len, &version) != 1) {
		errno = EPROTO;
		return -1;
	}
	if (version < REFS_FORMAT)
		return 0;
	if ((pw = targets(data, len, SNAP_KEY_PWNAM, &npw)) == NULL ||
	    (gr = targets(data, len, SNAP_KEY_GRNAM, &ngr)) == NULL)
		goto out;
	while ((n = next(data, len, &pos, &r)) == 1) {
		if (!is_ref(&r))
			continue;
		key.id = get32(r.key + 1);
		hit = r.key[0] == SNAP_KEY_PWUID ?
		    bsearch(&key, pw, npw, sizeof(*pw), by_id) :
		    bsearch(&key, gr, ngr, sizeof(*gr), by_id);
		if (hit == NULL) {
			errno = EPROTO;
			goto out;
		}
		put32(data + r.at + 8 + r.klen, hit->off);
	}
	rc = n < 0 ? (errno = EPROTO, -1) : 0;
out:
	free(pw);
	free(gr);
	return rc;
}
