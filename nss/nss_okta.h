/*
 * nss_okta.h - what the files of libnss_okta.so.2 share: the exported
 * entry points' prototypes, the one conversion from the reader's
 * 1/0/-1+errno to NSS codes, and the guarded enumeration cursor.
 */
#ifndef OKTA_NSS_OKTA_H
#define OKTA_NSS_OKTA_H

#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <stdint.h>

#include "compiler.h"
#include "snapshot.h"

/* The exported entry points (nss/exports.map lets only _nss_okta_* out). */
OKTA_EXPORT enum nss_status _nss_okta_getpwnam_r(const char *name,
    struct passwd *pw, char *buf, size_t buflen, int *errnop);
OKTA_EXPORT enum nss_status _nss_okta_getpwuid_r(uid_t uid,
    struct passwd *pw, char *buf, size_t buflen, int *errnop);
OKTA_EXPORT enum nss_status _nss_okta_setpwent(int stayopen);
OKTA_EXPORT enum nss_status _nss_okta_getpwent_r(struct passwd *pw,
    char *buf, size_t buflen, int *errnop);
OKTA_EXPORT enum nss_status _nss_okta_endpwent(void);
OKTA_EXPORT enum nss_status _nss_okta_getgrnam_r(const char *name,
    struct group *gr, char *buf, size_t buflen, int *errnop);
OKTA_EXPORT enum nss_status _nss_okta_getgrgid_r(gid_t gid,
    struct group *gr, char *buf, size_t buflen, int *errnop);
OKTA_EXPORT enum nss_status _nss_okta_setgrent(int stayopen);
OKTA_EXPORT enum nss_status _nss_okta_getgrent_r(struct group *gr,
    char *buf, size_t buflen, int *errnop);
OKTA_EXPORT enum nss_status _nss_okta_endgrent(void);
OKTA_EXPORT enum nss_status _nss_okta_initgroups_dyn(const char *user,
    gid_t group, long int *start, long int *size, gid_t **groupsp,
    long int limit, int *errnop);

/*
 * Okta users and groups have no local password and no shadow or gshadow
 * entry: "*" says so (as sssd answers).  "x" would send pam_unix to
 * shadow, and its account phase refuses a user whose shadow entry is
 * missing.
 */
#define NSS_OKTA_NO_PASSWD "*"

/*
 * Put the password field at the start of the caller's buffer and return
 * the rest of it, whose length goes to *restlen; NULL (ERANGE) when there
 * is no room even for that.  Can't fail otherwise.
 */
char *nss_okta_reserve(char *buf, size_t buflen, size_t *restlen);

/*
 * The only place a reader result becomes an NSS status.  r is what a
 * snap_* lookup returned (1, 0, -1 with errno); e is that errno.
 *   1           SUCCESS
 *   0           NOTFOUND, *errnop = ENOENT
 *   -1 ERANGE   TRYAGAIN, *errnop = ERANGE (glibc retries, bigger buffer)
 *   -1 ENOMEM   TRYAGAIN, *errnop = ENOMEM
 *   -1 EPROTO   UNAVAIL,  *errnop = ENOENT (a corrupt record or a
 *               refused file: callers see "no such user", not "protocol
 *               error")
 *   -1 other    UNAVAIL,  *errnop = e, the real reason there is no usable
 *               snapshot (ENOENT: none; EPERM: not trusted; EMFILE,
 *               ENFILE...: the process is out of resources, which must
 *               not look like "no such user")
 */
enum nss_status nss_okta_status(int r, int e, int *errnop);

/* An enumeration cursor (getpwent or getgrent): the snapshot it walks,
 * held from setXXent to endXXent so that one walk sees one file. */
struct nss_ent {
	pthread_mutex_t lock;
	struct snap *snap;
	uint64_t pos;
};

#define NSS_ENT_INIT { PTHREAD_MUTEX_INITIALIZER, NULL, 0 }

extern struct nss_ent nss_okta_pwent, nss_okta_grent;

/* (Re)start e on the current snapshot.  1 ok, -1 with errno. */
int nss_okta_ent_set(struct nss_ent *e);
/* Lock e, starting it first if needed.  1 with the lock held, or -1 with
 * errno and the lock not held. */
int nss_okta_ent_lock(struct nss_ent *e);
void nss_okta_ent_unlock(struct nss_ent *e);
/* Forget e's snapshot.  Can't fail. */
void nss_okta_ent_end(struct nss_ent *e);

#endif
