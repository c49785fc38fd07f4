/*
 * initgroups.c - _nss_okta_initgroups_dyn: a user's supplementary groups,
 * from the per-user GID list in the snapshot (one lookup, not a scan of
 * every group).
 *
 * glibc's contract (nss/initgroups.c, internal_getgrouplist): *groupsp
 * holds *start GIDs out of *size slots; we append each of the user's GIDs
 * but `group` (which the caller has already added) and any already
 * present, growing the array with realloc (doubling, capped at limit when
 * limit > 0), and stop when the array is full at limit.  Returns SUCCESS
 * (user known), NOTFOUND (not ours), UNAVAIL (no usable snapshot), or
 * TRYAGAIN with ENOMEM when realloc fails.
 *
 * `group` is whatever the caller chose, not necessarily the user's
 * primary GID: systemd runs `User=bob Group=eng` as initgroups("bob",
 * eng), and bob must still get every one of his groups.  So the answer
 * depends on it only for the one GID left out; it only spares the file
 * read below when it is the user's own private group.
 *
 * Only our own users get our groups (rule 2): a name that is a local
 * account in the passwd file with another UID than the Okta user's (files
 * comes first, so the login is the local account's) gets none of them.  A
 * local root, or a local "alice" next to an Okta "alice", never picks up
 * the Okta groups; an adopted account (same name, same UID: okta-sync
 * migrate) does.  The passwd file is read directly (local_passwd.h), as
 * pam_okta does, never through NSS, and only for a name the snapshot has
 * called with another group than the user's private one.
 * The snapshot reader never hands out a GID below OKTA_ID_FLOOR: a user
 * whose list holds one (sudo, adm...) gets no supplementary group from us.
 */
#include <errno.h>
#include <stdlib.h>

#include "local_passwd.h"
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
	uint32_t luid;
	int r, e, l;

	if (user == NULL)
		return nss_okta_status(0, 0, errnop);
	if ((s = snap_acquire(OKTA_SNAPSHOT_PATH)) == NULL)
		return nss_okta_status(-1, errno, errnop);
	r = snap_getpwnam(s, user, &pw, buf, sizeof(buf));
	/* Only the UID matters here, and the reader fills it in also when
	 * the strings do not fit buf (ERANGE). */
	if (r == -1 && errno == ERANGE)
		r = 1;
	/*
	 * Is this the Okta user, or a local account of the same name (which
	 * files answered first)?  When the caller's group is the user's own
	 * private group (GID = UID, as the sync makes them), only the Okta
	 * user or an adoption of it has that primary group: no need to read
	 * /etc/passwd, which would cost every login and every `id` a file
	 * read.  Any other group (a fixed primary GID, a systemd unit's
	 * Group=, a local account's own) asks the local file.
	 */
	if (r == 1 && !(group == (gid_t)pw.gid && pw.gid == pw.uid)) {
		l = local_passwd_lookup(NULL, user, &luid);
		if (l == 1 && luid != pw.uid)
			r = 0;      /* a local account's login: not ours */
		else if (l < 0)
			r = -1;     /* cannot tell: give no groups */
	}
	if (r == 1)
		r = snap_user_gids(s, user, add_gid, &g);
	e = errno;
	snap_release(s);
	if (r == 1 && g.nomem)
		return nss_okta_status(-1, ENOMEM, errnop);
	return nss_okta_status(r, e, errnop);
}
