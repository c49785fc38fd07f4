/*
 * snapshot_handle.c - the refreshing snapshot handle that nss/ and pam/ use
 * (snap_acquire/snap_release in snapshot.h).
 *
 * How a new snapshot is noticed within a second without a system call on
 * every lookup: each acquire reads CLOCK_MONOTONIC_COARSE, which the vDSO
 * answers from memory, and only when a second has passed since the last
 * check does it stat() the path and compare device, inode, mtime and size
 * with the mapped file's.  A changed file is opened and validated, then
 * replaces the current mapping for later callers; callers that still hold
 * the old mapping keep using it until they release it, and the last release
 * unmaps it (a reference count guarded by one mutex; an uncontended
 * pthread mutex is no system call either).  A missing or bad snapshot is
 * remembered for that second too, so that a host without a snapshot does
 * not pay a stat per lookup.
 *
 * Fork: pthread_atfork holds the mutex across fork() so that the child
 * never inherits it locked; mappings survive fork, and references held by
 * threads that do not exist in the child are simply never released there.
 * dlclose: a destructor drops the handle's own reference, so the mapping
 * goes away with the module unless someone still holds it.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "snapshot.h"
#include "snapshot_internal.h"

#define CHECK_PERIOD_NS 1000000000LL

static pthread_mutex_t handle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t handle_once = PTHREAD_ONCE_INIT;
static struct snap *handle_cur;          /* holds one reference */
static int handle_errno = ENOENT;        /* why handle_cur is NULL */
static int64_t handle_next_check;        /* CLOCK_MONOTONIC_COARSE, ns */
static int handle_checked;               /* handle_next_check is valid */
static char handle_path[PATH_MAX];

static void
handle_prepare(void)
{
	pthread_mutex_lock(&handle_lock);
}

static void
handle_after(void)
{
	pthread_mutex_unlock(&handle_lock);
}

static void
handle_register(void)
{
	/* Without the handlers a fork while another thread holds the lock
	 * would leave the child's lock held forever; if registration fails
	 * (ENOMEM) we still work, with that small risk. */
	(void)pthread_atfork(handle_prepare, handle_after, handle_after);
}

/* Drop the handle's reference to the current snapshot.  Lock held. */
static void
drop_current(void)
{
	if (handle_cur != NULL && --handle_cur->refs == 0)
		snap_close(handle_cur);
	handle_cur = NULL;
}

/* Look at the file again and switch mappings if it changed.  Lock held. */
static void
refresh(void)
{
	struct snap *n;
	struct stat st;

	/* Nothing mapped yet (a new process): open at once; snap_open's
	 * fstat gives the identity, so a stat first would be wasted. */
	if (handle_cur == NULL)
		goto open;
	if (stat(handle_path, &st) != 0) {
		handle_errno = errno;
		drop_current();
		return;
	}
	if (handle_cur != NULL && st.st_dev == handle_cur->dev &&
	    st.st_ino == handle_cur->ino && st.st_size == handle_cur->size &&
	    st.st_mtim.tv_sec == handle_cur->mtim.tv_sec &&
	    st.st_mtim.tv_nsec == handle_cur->mtim.tv_nsec)
		return;
open:
	if (snap_open(handle_path, &n) != 0) {
		handle_errno = errno;
		drop_current();
		return;
	}
	drop_current();
	n->refs = 1;
	handle_cur = n;
}

struct snap *
snap_acquire(const char *path)
{
	struct timespec ts;
	struct snap *s = NULL;
	int64_t now;
	int e = 0;

	if (strlen(path) >= sizeof(handle_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	(void)pthread_once(&handle_once, handle_register);
	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0)
		return NULL;
	now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	pthread_mutex_lock(&handle_lock);
	if (strcmp(path, handle_path) != 0) {
		drop_current();
		strcpy(handle_path, path);
		handle_checked = 0;
	}
	if (!handle_checked || now >= handle_next_check) {
		refresh();
		handle_next_check = now + CHECK_PERIOD_NS;
		handle_checked = 1;
	}
	if (handle_cur != NULL) {
		s = handle_cur;
		s->refs++;
	} else {
		e = handle_errno;
	}
	pthread_mutex_unlock(&handle_lock);
	if (s == NULL)
		errno = e;
	return s;
}

void
snap_release(struct snap *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&handle_lock);
	/* The handle holds its own reference to the current mapping, so the
	 * count only reaches 0 for a mapping that has been replaced. */
	if (--s->refs == 0)
		snap_close(s);
	pthread_mutex_unlock(&handle_lock);
}

__attribute__((destructor)) static void
handle_fini(void)
{
	pthread_mutex_lock(&handle_lock);
	drop_current();
	handle_checked = 0;
	handle_path[0] = '\0';
	pthread_mutex_unlock(&handle_lock);
}
