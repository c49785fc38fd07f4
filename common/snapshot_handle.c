/*
 * snapshot_handle.c - the refreshing snapshot handle that nss/ and pam/ use
 * (snap_acquire/snap_release in snapshot.h).
 *
 * How a new snapshot is noticed within a second without a system call on
 * every lookup: each acquire after a process's first (which opens the file)
 * reads CLOCK_MONOTONIC_COARSE, which the vDSO answers from memory, and
 * only when a second has passed since the last check (and at the second
 * acquire, the clock's first) does it stat() the path and compare device,
 * inode, mtime and size with the mapped file's.  A changed file is opened
 * and validated, then replaces the current mapping for later callers;
 * callers that still hold the old mapping keep using it until they release
 * it, and the last release unmaps it (a reference count guarded by one
 * mutex; an uncontended pthread mutex is no system call either).  A missing
 * or bad snapshot is remembered for that second too, so that a host without
 * a snapshot does not pay a stat per lookup.
 *
 * A refresh that fails keeps what works.  Only "the file is gone"
 * (ENOENT) drops the mapping held: the snapshot was removed on purpose,
 * and answering from it would serve users nobody publishes any more.  Any
 * other failure (the process is out of descriptors or memory, the new file
 * is refused as untrusted or corrupt) keeps serving the mapping already
 * held, which was valid and trusted when it was read, and tries again at
 * the next one-second check.  With nothing held, the caller is told the
 * real errno (EMFILE, ENOMEM, EPERM for an untrusted file, EPROTO), not
 * ENOENT.
 *
 * A refused file is logged to syslog (LOG_AUTHPRIV) once per file and
 * failure, as identified by device, inode, mtime, size and errno, not once
 * per lookup: each process logs it once, from outside the lock (syslog may
 * block).  A missing file is not logged (a host before its first sync).
 *
 * Fork: pthread_atfork holds the mutex across fork() so that the child
 * never inherits it locked; mappings survive fork, and references held by
 * threads that do not exist in the child are simply never released there.
 * dlclose: a destructor drops the handle's own reference, so the mapping
 * goes away with the module unless someone still holds it.
 *
 * The handle maps the file without tinycdb (SNAP_OPEN_LOOKUPS): nss finds
 * records through the snapshot's own index, and tinycdb's cdb_init would
 * read the file's first page through the mapping, one page fault more in
 * every process that looks up a user.
 *
 * Exit: the destructor leaves the mapping to the kernel.  munmap costs a
 * TLB shootdown on every CPU the process ran on (0.2 ms on a VM, in every
 * `ls -l` or `id` that looked up an Okta user), and at exit another thread
 * may still be inside a lookup that reads the mapping.  An exit handler,
 * registered when the module is loaded, tells the two apart: exit() runs
 * it before any destructor, while dlclose runs a module's destructors
 * first and its exit handlers (through crtbegin's __cxa_finalize) last.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#include "snapshot.h"
#include "snapshot_internal.h"

#define CHECK_PERIOD_NS 1000000000LL

static pthread_mutex_t handle_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int handle_exiting;      /* exit() has begun */
static struct snap *handle_cur;          /* holds one reference */
static int handle_errno = ENOENT;        /* why handle_cur is NULL */
static int64_t handle_next_check;        /* CLOCK_MONOTONIC_COARSE, ns */
static int handle_checked;               /* handle_next_check is valid */
/* Allocated, not a PATH_MAX array: 4 KB of .bss is one more page fault
 * (about 30 us) in every process that looks up a user (issue 13). */
static char *handle_path;

/* What went wrong at the last refresh, and what was logged last (the
 * same failure of the same file is logged once). */
struct failure {
	dev_t dev;
	ino_t ino;
	struct timespec mtim;
	off_t size;
	int err;
	const char *why;          /* static; NULL: a system error */
	int kept;                 /* an older mapping is still served */
};

static struct failure handle_fail, handle_logged;
static int handle_fail_new;   /* handle_fail not yet logged */

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
handle_at_exit(void)
{
	handle_exiting = 1;
}

/* At load, not at the first lookup: pthread_once would cost a futex
 * system call in every process.  Without the fork handlers a fork while
 * another thread holds the lock would leave the child's lock held
 * forever; without the exit handler the mapping is unmapped at exit.  If
 * registration fails (ENOMEM) we still work, with that small risk or
 * cost. */
__attribute__((constructor)) static void
handle_init(void)
{
	(void)pthread_atfork(handle_prepare, handle_after, handle_after);
	(void)atexit(handle_at_exit);
}

/* Drop the handle's reference to the current snapshot.  Lock held. */
static void
drop_current(void)
{
	if (handle_cur != NULL && --handle_cur->refs == 0)
		snap_close(handle_cur);
	handle_cur = NULL;
}

static int
same_failure(const struct failure *a, const struct failure *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtim.tv_sec == b->mtim.tv_sec &&
	    a->mtim.tv_nsec == b->mtim.tv_nsec && a->err == b->err &&
	    a->why == b->why && a->kept == b->kept;
}

/*
 * A refresh failed with e (st: the file's identity when known, why: see
 * snap_open_why).  ENOENT drops the mapping; anything else keeps it.
 * Lock held.
 */
static void
refresh_failed(int e, const struct stat *st, const char *why)
{
	struct failure f;

	handle_errno = e;
	if (e == ENOENT) {
		drop_current();
		memset(&handle_logged, 0, sizeof(handle_logged));
		return;
	}
	memset(&f, 0, sizeof(f));
	if (st != NULL) {
		f.dev = st->st_dev;
		f.ino = st->st_ino;
		f.mtim = st->st_mtim;
		f.size = st->st_size;
	}
	f.err = e;
	f.why = why;
	f.kept = handle_cur != NULL;
	if (!same_failure(&f, &handle_logged)) {
		handle_fail = f;
		handle_logged = f;
		handle_fail_new = 1;
	}
}

/* Look at the file again and switch mappings if it changed.  Lock held. */
static void
refresh(void)
{
	struct snap *n;
	struct stat st;
	const char *why;

	/* Nothing mapped yet (a new process): open at once; snap_open's
	 * fstat gives the identity, so a stat first would be wasted. */
	if (handle_cur == NULL)
		goto open;
	if (stat(handle_path, &st) != 0) {
		refresh_failed(errno, NULL, NULL);
		return;
	}
	if (st.st_dev == handle_cur->dev &&
	    st.st_ino == handle_cur->ino && st.st_size == handle_cur->size &&
	    st.st_mtim.tv_sec == handle_cur->mtim.tv_sec &&
	    st.st_mtim.tv_nsec == handle_cur->mtim.tv_nsec)
		return;
open:
	if (snap_open_why(handle_path, SNAP_OPEN_LOOKUPS, &n, &st,
	    &why) != 0) {
		refresh_failed(errno, st.st_ino != 0 ? &st : NULL, why);
		return;
	}
	drop_current();
	memset(&handle_logged, 0, sizeof(handle_logged));
	n->refs = 1;
	handle_cur = n;
}

/* Say what refresh_failed recorded (f, a copy taken under the lock). */
static void
log_failure(const char *path, const struct failure *f)
{
	const char *then = f->kept ? "still answering from the snapshot read "
	    "before" : "Okta users and groups do not resolve";

	if (f->why != NULL)
		syslog(LOG_AUTHPRIV | LOG_ERR, "okta-sync snapshot %s %s: "
		    "refused; %s. It must be a regular file owned by root, "
		    "not writable by group or others, published by okta-sync "
		    "(or okta-sync restore).", path, f->why, then);
	else
		syslog(LOG_AUTHPRIV | LOG_ERR, "okta-sync snapshot %s cannot "
		    "be read: %s; %s; trying again each second.", path,
		    strerror(f->err), then);
}

/* CLOCK_MONOTONIC_COARSE in ns, or -1. */
static int64_t
coarse_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0)
		return -1;
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct snap *
snap_acquire(const char *path)
{
	struct snap *s = NULL;
	struct failure f;
	char *p = NULL, *np;
	int64_t now = 0;
	int e = 0, say = 0, refreshed = 0;

	if (strlen(path) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	pthread_mutex_lock(&handle_lock);
	if (handle_path == NULL || strcmp(path, handle_path) != 0) {
		if ((np = strdup(path)) == NULL) {
			pthread_mutex_unlock(&handle_lock);
			errno = ENOMEM;
			return NULL;
		}
		drop_current();
		free(handle_path);
		handle_path = np;
		handle_checked = 0;
	}
	/*
	 * A process's first lookup opens the file and leaves the clock to
	 * the next lookup, which checks the file again at once (0: due).
	 * The first clock read of a process costs two page faults, libc's
	 * code and the vDSO's data page (about 60 us on a VM), in a process
	 * that looks up one name (getent, `ls -l` of one file) for nothing.
	 */
	if (!handle_checked) {
		refresh();
		handle_next_check = 0;
		handle_checked = refreshed = 1;
	} else if ((now = coarse_now()) < 0) {
		e = errno;
		pthread_mutex_unlock(&handle_lock);
		errno = e;
		return NULL;
	} else if (now >= handle_next_check) {
		refresh();
		handle_next_check = now + CHECK_PERIOD_NS;
		refreshed = 1;
	}
	if (refreshed && handle_fail_new) {
		f = handle_fail;
		/* A copy, as another thread may replace handle_path once the
		 * lock is dropped; on the heap, not in a PATH_MAX array, as
		 * 4 KB more of stack is a page fault (about 30 us on a VM) in
		 * a process whose stack never went that deep: `stat`,
		 * `id -un UID`.  NULL (no memory): logged without it. */
		p = strdup(handle_path);
		handle_fail_new = 0;
		say = 1;
	}
	if (handle_cur != NULL) {
		s = handle_cur;
		s->refs++;
	} else {
		e = handle_errno;
	}
	pthread_mutex_unlock(&handle_lock);
	if (say) {
		log_failure(p != NULL ? p : "(path not known: out of memory)",
		    &f);
		free(p);
	}
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
	if (handle_exiting)
		return;
	pthread_mutex_lock(&handle_lock);
	drop_current();
	handle_checked = 0;
	free(handle_path);
	handle_path = NULL;
	pthread_mutex_unlock(&handle_lock);
}
