/*
 * passwd.c - the passwd database of libnss_okta.so.2: getpwnam_r,
 * getpwuid_r and enumeration, each a thin shell around the snapshot
 * reader.  Entries are decoded straight into the caller's buffer; nothing
 * is allocated.  Every user in the snapshot resolves, whatever its Okta
 * status: refusing a SUSPENDED or DEPROVISIONED user is pam_okta's job,
 * and their files must keep showing an owner.
 */
#include <errno.h>
#include <string.h>

#include "nss_okta.h"
#include "paths.h"

/*
 * Fill pw from the reader's answer.  The password field takes the first
 * bytes of buf; the reader's strings follow (decode() put them there).
 */
static void
fill(struct passwd *pw, const struct snap_pw *sp, char *buf)
{
	pw->pw_name = (char *)sp->name;
	pw->pw_passwd = buf;
	pw->pw_uid = (uid_t)sp->uid;
	pw->pw_gid = (gid_t)sp->gid;
	pw->pw_gecos = (char *)sp->gecos;
	pw->pw_dir = (char *)sp->dir;
	pw->pw_shell = (char *)sp->shell;
}

/* One keyed lookup: by name when name is set, else by uid. */
static enum nss_status
lookup(const char *name, uid_t uid, struct passwd *pw, char *buf,
    size_t buflen, int *errnop)
{
	struct snap_pw sp;
	struct snap *s;
	char *rest;
	size_t restlen;
	int r, e;

	if ((rest = nss_okta_reserve(buf, buflen, &restlen)) == NULL)
		return nss_okta_status(-1, ERANGE, errnop);
	if ((s = snap_acquire(OKTA_SNAPSHOT_PATH)) == NULL)
		return nss_okta_status(-1, errno, errnop);
	if (name != NULL)
		r = snap_getpwnam(s, name, &sp, rest, restlen);
	else
		r = snap_getpwuid(s, (uint32_t)uid, &sp, rest,
		    restlen);
	e = errno;
	snap_release(s);
	if (r == 1)
		fill(pw, &sp, buf);
	return nss_okta_status(r, e, errnop);
}

enum nss_status
_nss_okta_getpwnam_r(const char *name, struct passwd *pw, char *buf,
    size_t buflen, int *errnop)
{
	if (name == NULL)
		return nss_okta_status(0, 0, errnop);
	return lookup(name, 0, pw, buf, buflen, errnop);
}

enum nss_status
_nss_okta_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t buflen,
    int *errnop)
{
	/* uid_t is 32 bits on Linux; 0 is never an Okta user (rule 1). */
	if (uid == 0)
		return nss_okta_status(0, 0, errnop);
	return lookup(NULL, uid, pw, buf, buflen, errnop);
}

enum nss_status
_nss_okta_setpwent(int stayopen)
{
	int dummy;

	(void)stayopen;
	if (nss_okta_ent_set(&nss_okta_pwent) != 1)
		return nss_okta_status(-1, errno, &dummy);
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_okta_getpwent_r(struct passwd *pw, char *buf, size_t buflen, int *errnop)
{
	struct snap_pw sp;
	char *rest;
	size_t restlen;
	int r, e;

	if ((rest = nss_okta_reserve(buf, buflen, &restlen)) == NULL)
		return nss_okta_status(-1, ERANGE, errnop);
	if (nss_okta_ent_lock(&nss_okta_pwent) != 1)
		return nss_okta_status(-1, errno, errnop);
	/* On ERANGE the reader leaves pos alone: the retry gets this entry. */
	r = snap_pw_next(nss_okta_pwent.snap, &nss_okta_pwent.pos, &sp, rest,
	    restlen);
	e = errno;
	nss_okta_ent_unlock(&nss_okta_pwent);
	if (r == 1)
		fill(pw, &sp, buf);
	return nss_okta_status(r, e, errnop);
}

enum nss_status
_nss_okta_endpwent(void)
{
	nss_okta_ent_end(&nss_okta_pwent);
	return NSS_STATUS_SUCCESS;
}
