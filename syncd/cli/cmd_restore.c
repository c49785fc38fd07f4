/*
 * cmd_restore.c - `okta-sync restore [--wait] FILE`: put a saved snapshot
 * (a backup, or a copy from another host) in place of the live one,
 * safely.
 *
 * The one safe way (snapshot_install.h): FILE is copied into a temporary
 * file in the snapshot's directory, made 0644, checked there as the
 * readers will check it, fsynced and renamed over the snapshot.  Copying
 * over the live file instead (`cp backup snapshot.cdb`) kills every
 * process that has it mapped with SIGBUS.  The copy is checked, not FILE:
 * what is renamed into place is exactly what was validated.
 *
 * The check: the reader opens it (root's, not group/other-writable,
 * magic, version, meta flags 0, the cdb tables), then every passwd and
 * group record must decode (no UID or GID below the floor, no bad field),
 * be found again by its name and by its ID, and their numbers must be the
 * meta record's; every user's initgroups list must be valid.  A file that
 * any reader would refuse in part is refused whole.
 *
 * It holds the sync lock, so it never races a sync or okta-syncd (--wait
 * waits for them).  The next sync publishes from cache.db again, so a
 * restore lasts until then: it is for getting a host working while the
 * sync cannot run, or after the file was damaged.
 *
 * Exit status: 0 restored, 1 FILE refused or a failure (the live
 * snapshot is then untouched), 2 usage, 75 another sync holds the lock,
 * 78 configuration problem.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "commands.h"
#include "config.h"
#include "error.h"
#include "lock.h"
#include "paths.h"
#include "publish.h"
#include "snapshot.h"
#include "snapcheck.h"
#include "snapshot_install.h"
#include "xmalloc.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: okta-sync [-c FILE] restore [--wait] SNAPSHOT\n\n"
	    "Replace the published snapshot with SNAPSHOT (a saved copy), the safe\n"
	    "way: copied to a temporary file next to it, checked as NSS and PAM\n"
	    "will read it, then renamed into place.  Never copy a file over the\n"
	    "snapshot: every process that has it mapped would die with SIGBUS.\n"
	    "The next sync publishes from cache.db again.\n\n"
	    "  --wait      wait for a running sync instead of failing (exit 75)\n\n"
	    "Exit status: 0 restored, 1 refused or failed (nothing changed),\n"
	    "75 busy, 78 configuration problem.\n");
}

/* Copy everything from in to out.  0, or -1 with errno. */
static int
copy_fd(int in, int out)
{
	char buf[65536];
	ssize_t n, w, off;

	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		for (off = 0; off < n; off += w) {
			w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w < 0)
				return -1;
		}
	}
}

static void
fmt_time(int64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, outlen, "never");
}

/*
 * Tell cache.db which file is now published, so that `okta-sync status`
 * does not take the restore for someone replacing the file behind the
 * sync's back.  Without a cache.db (no sync yet) there is nothing to tell.
 */
static void
record_restore(const struct config *c, const char *live)
{
	char err[512], *dbpath = cache_db_path(c->cache_dir);
	sqlite3 *db = NULL;
	int exists = access(dbpath, F_OK) == 0;

	free(dbpath);
	if (!exists)
		return;
	if (cache_open(c->cache_dir, CACHE_READ_WRITE, &db, err, sizeof(err)) != OK_SUCCESS ||
	    publish_record_identity(db, live, err, sizeof(err)) != 0)
		fprintf(stderr, "okta-sync: restore: warning: could not record the "
		    "restored file in cache.db (%s); okta-sync status will say the "
		    "snapshot was replaced without a publish\n", err);
	cache_close(db);
}

/* FILE, opened for the copy: a regular file only.  The fd, or -1 (said). */
static int
open_source(const char *file)
{
	struct stat st;
	int in;

	/* O_NONBLOCK: a FIFO given by mistake must not hang us. */
	if ((in = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
		fprintf(stderr, "okta-sync: restore: cannot open %s: %s\n", file,
		    strerror(errno));
		return -1;
	}
	if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "okta-sync: restore: %s is not a regular file\n",
		    file);
		close(in);
		return -1;
	}
	return in;
}

/* The meta record of the snapshot in place, to say what is replaced.
 * 1, or 0 when there is none that the reader opens. */
static int
live_meta(const char *live, struct snap_meta *old)
{
	struct snap *cur = NULL;

	if (snap_open(live, &cur) != 0)
		return 0;
	*old = *snap_get_meta(cur);
	snap_close(cur);
	return 1;
}

/* What is in place now; old is NULL when nothing was before. */
static void
print_restored(const char *file, const char *live,
    const struct snap_meta *meta, const struct snap_meta *old)
{
	char when[64];

	fmt_time(meta->last_sync, when, sizeof(when));
	printf("Restored %s as %s: generation %llu, last sync %s, %u users, "
	    "%u groups.\n", file, live, (unsigned long long)meta->generation,
	    when, (unsigned)meta->nusers, (unsigned)meta->ngroups);
	if (old != NULL)
		printf("It replaces generation %llu (%u users, %u groups).\n",
		    (unsigned long long)old->generation, (unsigned)old->nusers,
		    (unsigned)old->ngroups);
	printf("Every process sees it within a second.  The next sync "
	    "publishes from cache.db again.\n");
}

static int
restore(const struct config *c, const char *file, int wait)
{
	char tmp[PATH_MAX + 32], err[PATH_MAX + 512];
	char *live = xasprintf("%s/%s", c->cache_dir, OKTA_SNAPSHOT_NAME);
	struct snap_meta meta, old;
	int in = -1, out = -1, lockfd = -1, rc = 1, have_old, r;
	okerr orc;

	if ((in = open_source(file)) < 0)
		goto out;
	orc = sync_lock_acquire(c->cache_dir, wait, &lockfd, err, sizeof(err));
	if (orc != OK_SUCCESS) {
		fprintf(stderr, "okta-sync: restore: %s\n", err);
		rc = err_exit_code(orc);
		goto out;
	}
	if ((out = snap_install_tmp(live, tmp, sizeof(tmp), err,
	    sizeof(err))) < 0) {
		fprintf(stderr, "okta-sync: restore: %s\n", err);
		goto out;
	}
	if (copy_fd(in, out) != 0 || fchmod(out, 0644) != 0) {
		fprintf(stderr, "okta-sync: restore: copying %s to %s: %s\n",
		    file, tmp, strerror(errno));
		goto fail;
	}
	if (snapshot_check_fd(out, &meta, err, sizeof(err)) != 0) {
		fprintf(stderr, "okta-sync: restore: %s is refused: %s; the "
		    "snapshot in place is unchanged\n", file, err);
		goto fail;
	}
	have_old = live_meta(live, &old);
	r = snap_install(out, tmp, live, err, sizeof(err));
	out = -1;
	if (r < 0) {
		fprintf(stderr, "okta-sync: restore: %s; the snapshot in place is "
		    "unchanged\n", err);
		goto fail;
	}
	if (r > 0)
		fprintf(stderr, "okta-sync: restore: warning: %s (the new "
		    "snapshot is in place, but may not survive a crash)\n", err);
	record_restore(c, live);
	print_restored(file, live, &meta, have_old ? &old : NULL);
	rc = 0;
	goto out;
fail:
	if (out >= 0)
		close(out);
	out = -1;
	unlink(tmp);
out:
	if (out >= 0)
		close(out);
	if (in >= 0)
		close(in);
	sync_lock_release(lockfd);
	free(live);
	return rc;
}

int
cmd_restore(int argc, char **argv, const char *config_path)
{
	struct config *c;
	const char *path = config_path ? config_path : OKTA_CONFIG_PATH;
	const char *file = NULL;
	int i, wait = 0, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--wait") == 0) {
			wait = 1;
		} else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "okta-sync: restore: unknown option %s\n",
			    argv[i]);
			usage(stderr);
			return 2;
		} else if (file == NULL) {
			file = argv[i];
		} else {
			fprintf(stderr, "okta-sync: restore: one SNAPSHOT only\n");
			usage(stderr);
			return 2;
		}
	}
	if (file == NULL) {
		usage(stderr);
		return 2;
	}
	if ((c = config_load_or_report(path, 0)) == NULL)
		return err_exit_code(OK_ERR_CONFIG);
	rc = restore(c, file, wait);
	fflush(stdout);
	config_free(c);
	return rc;
}
