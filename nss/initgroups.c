/*
 * initgroups.c - _nss_okta_initgroups_dyn: a user's supplementary groups,
 * from the per-user GID list in the snapshot (one lookup, not a scan of
 * every group).
 *
 * glibc's contract (nss/initgroups.c, internal_getgrouplist): *groupsp
 * holds *start GIDs out of *size slots; we append each of the user's GIDs
 * but `group` (the primary group, which glibc has already added) and any
 * already present, growing the array with realloc (doubling, capped at
 * limit when limit > 0), and stop when the array is full at limit.
 * Returns SUCCESS (user known), NOTFOUND (not ours), UNAVAIL (no usable
 * snapshot), or TRYAGAIN with ENOMEM when realloc fails.
 *
 * Only our own users get our groups: glibc passes the primary GID of the
 * passwd entry it resolved, so when that is not the snapshot user's
 * primary GID the name belongs to a local account (files comes first) and
 * we answer NOTFOUND.  A local root (GID 0, never in a snapshot) or a
 * local "alice" never picks up the groups of an Okta "alice" (rule 2).
 */
#include <errno.h>
#include <stdlib.h>

#include "nss_okta.h"
#include "paths.h"

struct grow {
	gid_t skip;           /* the primary group */
	long int *start, *size, limit;
	long int given;       /* entries present before we started */
	gid_t **groupsp;
	int nomem;
};

static int
add_gid(void *ctx, uint32_t gid32)
{
	struct grow *g = ctx;
	gid_t gid = (gid_t)gid32, *ng;
	long int i, nsize;

	if (gid == g->skip)
		return 0;
	/* Our own list has no duplicates: check only what others added. */
	for (i = 0; i < g->given; i++)
		if ((*g->groupsp)[i] == gid)
			return 0;
	if (*g->start == *g->size) {
		if (g->limit > 0 && *g->size >= g->limit)
			return 1;    /* full: stop, the answer is still SUCCESS */
		nsize = *g->size > 0 ? 2 * *g->size : 16;
		if (g->limit > 0 && nsize > g->limit)
			nsize = g->limit;
		if ((size_t)nsize > SIZE_MAX / sizeof(gid_t) ||
		    (ng = realloc(*g->groupsp, (size_t)nsize * sizeof(gid_t))) == NULL) {
			g->nomem = 1;
			return 1;
		}
		*g->groupsp = ng;
		*g->size = nsize;
	}
	(*g->groupsp)[(*g->start)++] = gid;
	return 0;
}

enum nss_status
_nss_okta_initgroups_dyn(const char *user, gid_t group, long int *start,
    long int *size, gid_t **groupsp, long int limit, int *errnop)
{
	struct grow g = { group, start, size, limit, *start, groupsp, 0 };
	struct snap_pw pw;
	struct snap *s;
	char buf[1024];
	int r, e;

	if (user == NULL || group == 0)
		return nss_okta_status(0, 0, errnop);
	if ((s = snap_acquire(OKTA_SNAPSHOT_PATH)) == NULL)
		return nss_okta_status(-1, errno, errnop);
	r = snap_getpwnam(s, user, &pw, buf, sizeof(buf));
	/* Only the gid matters here, and the reader fills it in also when
	 * the strings do not fit buf (ERANGE). */
	if (r == 1 || (r == -1 && errno == ERANGE))
		r = pw.gid == (uint32_t)group ? 1 : 0;
	if (r == 1)
		r = snap_user_gids(s, user, add_gid, &g);
	e = errno;
	snap_release(s);
	if (r == 1 && g.nomem)
		return nss_okta_status(-1, ENOMEM, errnop);
	return nss_okta_status(r, e, errnop);
}
