/*
 * nss_okta.c - the parts of libnss_okta.so.2 that passwd.c, group.c and
 * initgroups.c share: the NSS status conversion and the enumeration
 * cursors.
 *
 * The module reads only the snapshot, through the refreshing handle in
 * common/snapshot_handle.c (a new snapshot is seen within a second, with
 * no system call on the steady-state path).  It never writes files,
 * aborts or talks to the network; the only allocation is the group array
 * that initgroups_dyn must grow by glibc's contract.  The only thing it
 * says is the handle's syslog line when a snapshot file is refused or
 * cannot be read (once per file, see snapshot_handle.c).
 *
 * Lock order: a cursor's lock is never held while the snapshot handle's
 * lock is taken (acquire and release happen outside it), so the two
 * pthread_atfork handler sets cannot deadlock whatever their order.
 */
#include <errno.h>
#include <pthread.h>

#include <string.h>

#include "nss_okta.h"
#include "paths.h"

struct nss_ent nss_okta_pwent = NSS_ENT_INIT;
struct nss_ent nss_okta_grent = NSS_ENT_INIT;

enum nss_status
nss_okta_status(int r, int e, int *errnop)
{
	if (r == 1)
		return NSS_STATUS_SUCCESS;
	if (r == 0) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	if (e == ERANGE || e == ENOMEM) {
		*errnop = e;
		return NSS_STATUS_TRYAGAIN;
	}
	*errnop = e == EPROTO || e == 0 ? ENOENT : e;
	return NSS_STATUS_UNAVAIL;
}

int
nss_okta_ent_set(struct nss_ent *e)
{
	struct snap *n, *old;

	/* Taken before the cursor lock: see the lock order above. */
	if ((n = snap_acquire(OKTA_SNAPSHOT_PATH)) == NULL)
		return -1;
	pthread_mutex_lock(&e->lock);
	old = e->snap;
	e->snap = n;
	e->pos = 0;
	pthread_mutex_unlock(&e->lock);
	snap_release(old);
	return 1;
}

int
nss_okta_ent_lock(struct nss_ent *e)
{
	struct snap *n = NULL;

	pthread_mutex_lock(&e->lock);
	if (e->snap != NULL)
		return 1;
	pthread_mutex_unlock(&e->lock);
	/* getXXent without setXXent: start at the beginning. */
	if ((n = snap_acquire(OKTA_SNAPSHOT_PATH)) == NULL)
		return -1;
	pthread_mutex_lock(&e->lock);
	if (e->snap == NULL) {
		e->snap = n;
		e->pos = 0;
		n = NULL;
	}
	if (n != NULL) {
		/* Another thread started it meanwhile; give ours back
		 * without holding the cursor lock. */
		pthread_mutex_unlock(&e->lock);
		snap_release(n);
		pthread_mutex_lock(&e->lock);
		if (e->snap == NULL) {
			pthread_mutex_unlock(&e->lock);
			errno = EAGAIN;
			return -1;
		}
	}
	return 1;
}

void
nss_okta_ent_unlock(struct nss_ent *e)
{
	pthread_mutex_unlock(&e->lock);
}

void
nss_okta_ent_end(struct nss_ent *e)
{
	struct snap *old;

	pthread_mutex_lock(&e->lock);
	old = e->snap;
	e->snap = NULL;
	e->pos = 0;
	pthread_mutex_unlock(&e->lock);
	snap_release(old);
}

static void
ent_prepare(void)
{
	pthread_mutex_lock(&nss_okta_pwent.lock);
	pthread_mutex_lock(&nss_okta_grent.lock);
}

static void
ent_after(void)
{
	pthread_mutex_unlock(&nss_okta_grent.lock);
	pthread_mutex_unlock(&nss_okta_pwent.lock);
}

/* A fork while another thread enumerates must not leave the child with a
 * cursor lock held forever. */
__attribute__((constructor)) static void
nss_okta_init(void)
{
	(void)pthread_atfork(ent_prepare, ent_after, ent_after);
}

/* dlclose: give the cursors' snapshots back, so that nothing stays mapped
 * (the handle's own destructor drops its reference too). */
__attribute__((destructor)) static void
nss_okta_fini(void)
{
	nss_okta_ent_end(&nss_okta_pwent);
	nss_okta_ent_end(&nss_okta_grent);
}

char *
nss_okta_reserve(char *buf, size_t buflen, size_t *restlen)
{
	if (buflen < sizeof(NSS_OKTA_NO_PASSWD))
		return NULL;
	memcpy(buf, NSS_OKTA_NO_PASSWD, sizeof(NSS_OKTA_NO_PASSWD));
	*restlen = buflen - sizeof(NSS_OKTA_NO_PASSWD);
	return buf + sizeof(NSS_OKTA_NO_PASSWD);
}
