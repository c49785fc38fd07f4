/*
 * group.c - the group database of libnss_okta.so.2: getgrnam_r,
 * getgrgid_r and enumeration.  The member list is decoded into the
 * caller's buffer (an aligned pointer array, then the names); a buffer too
 * small for a large group gives TRYAGAIN/ERANGE, and glibc retries with a
 * bigger one, so that a group of 10,000 members comes out whole.
 */
#include <errno.h>
#include <string.h>

#include "nss_okta.h"
#include "paths.h"

static void
fill(struct group *gr, const struct snap_gr *sg, char *buf)
{
	gr->gr_name = (char *)sg->name;
	gr->gr_passwd = buf;
	gr->gr_gid = (gid_t)sg->gid;
	gr->gr_mem = sg->members;
}

static enum nss_status
lookup(const char *name, gid_t gid, struct group *gr, char *buf,
    size_t buflen, int *errnop)
{
	struct snap_gr sg;
	struct snap *s;
	char *rest;
	size_t restlen;
	int r, e;

	if ((rest = nss_okta_reserve(buf, buflen, &restlen)) == NULL)
		return nss_okta_status(-1, ERANGE, errnop);
	if ((s = snap_acquire(OKTA_SNAPSHOT_PATH)) == NULL)
		return nss_okta_status(-1, errno, errnop);
	if (name != NULL)
		r = snap_getgrnam(s, name, &sg, rest, restlen);
	else
		r = snap_getgrgid(s, (uint32_t)gid, &sg, rest,
		    restlen);
	e = errno;
	snap_release(s);
	if (r == 1)
		fill(gr, &sg, buf);
	return nss_okta_status(r, e, errnop);
}

enum nss_status
_nss_okta_getgrnam_r(const char *name, struct group *gr, char *buf,
    size_t buflen, int *errnop)
{
	if (name == NULL)
		return nss_okta_status(0, 0, errnop);
	return lookup(name, 0, gr, buf, buflen, errnop);
}

enum nss_status
_nss_okta_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t buflen,
    int *errnop)
{
	if (gid == 0)
		return nss_okta_status(0, 0, errnop);
	return lookup(NULL, gid, gr, buf, buflen, errnop);
}

enum nss_status
_nss_okta_setgrent(int stayopen)
{
	int dummy;

	(void)stayopen;
	if (nss_okta_ent_set(&nss_okta_grent) != 1)
		return nss_okta_status(-1, errno, &dummy);
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_okta_getgrent_r(struct group *gr, char *buf, size_t buflen, int *errnop)
{
	struct snap_gr sg;
	char *rest;
	size_t restlen;
	int r, e;

	if ((rest = nss_okta_reserve(buf, buflen, &restlen)) == NULL)
		return nss_okta_status(-1, ERANGE, errnop);
	if (nss_okta_ent_lock(&nss_okta_grent) != 1)
		return nss_okta_status(-1, errno, errnop);
	r = snap_gr_next(nss_okta_grent.snap, &nss_okta_grent.pos, &sg, rest,
	    restlen);
	e = errno;
	nss_okta_ent_unlock(&nss_okta_grent);
	if (r == 1)
		fill(gr, &sg, buf);
	return nss_okta_status(r, e, errnop);
}

enum nss_status
_nss_okta_endgrent(void)
{
	nss_okta_ent_end(&nss_okta_grent);
	return NSS_STATUS_SUCCESS;
}
