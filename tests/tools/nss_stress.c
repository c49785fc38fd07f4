/*
 * nss_stress.c - 8 threads look users and groups up through glibc and
 * libnss_okta while this process republishes the snapshot again and
 * again (issue 3, done-when 5).
 *
 *   nss_stress SNAPSHOT_PATH REPUBLISHES
 *   nss_stress SNAPSHOT_PATH REPUBLISHES --restore OKTA_SYNC CONFIG DIR
 *
 * With --restore (issue 14, done-when 7) each generation is written to a
 * file in DIR instead, and put in place by `OKTA_SYNC -c CONFIG restore
 * FILE` (whose config's cache dir must be where SNAPSHOT_PATH is), with 4
 * reader threads: a restore must replace the file atomically, so that no
 * reader ever sees a mix, an error, or SIGBUS (which kills this process).
 *
 * Run it where libnss_okta reads SNAPSHOT_PATH (tests bind-mount a
 * directory at /var/lib/okta-sync) with LD_LIBRARY_PATH at build/.  glibc
 * is pointed at the module alone with __nss_configure_lookup.  Each
 * generation G has the same users su0..su49 (UID 2000001000+i) and
 * groups sg0..sg9, with GECOS "gen G", shell "/bin/sh-G" and group
 * members that depend on G, so that any answer can be checked: it must be
 * complete and consistent with one generation between the first and the
 * last published (an old or a new value, never a mix, never an error).
 * At the end the readers must see the last generation, and the process
 * must hold no more descriptors and at most one mapping of the snapshot.
 * Every tenth publish it also forks a child that must look a user up and
 * exit at once (fork safety: no lock inherited held).
 * Prints a summary line and exits 0, or 1 with the first problem.
 */
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "snapshot.h"

#define NUSERS 50
#define NGROUPS 10
#define NTHREADS 8
#define UID_BASE 2000001000u
#define GID_BASE 2000002000u

static const char *snap_path;
/* --restore: okta-sync, its config, the directory of saved generations. */
static const char *restore_prog, *restore_conf, *restore_dir;
extern char **environ;
static atomic_int published = -1;   /* the last generation written */
static atomic_int stop;
static atomic_long lookups, errors, max_seen;
static pthread_mutex_t msg_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_error[512];

static void
fail(const char *fmt, const char *a, long b)
{
	pthread_mutex_lock(&msg_lock);
	if (first_error[0] == '\0')
		snprintf(first_error, sizeof(first_error), "%s %s %ld", fmt, a, b);
	pthread_mutex_unlock(&msg_lock);
	atomic_fetch_add(&errors, 1);
}

/* Group j's members in generation g: every user i with (i + g) % 10 == j. */
static int
is_member(int i, int j, int g)
{
	return (i + g) % NGROUPS == j;
}

/* Run okta-sync restore on file: 0 when it exited 0. */
static int
run_restore(const char *file)
{
	char *argv[] = { (char *)restore_prog, "-c", (char *)restore_conf,
	    "restore", (char *)file, NULL };
	posix_spawn_file_actions_t fa;
	int status, r;
	pid_t pid;

	if (posix_spawn_file_actions_init(&fa) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) != 0)
		return -1;
	r = posix_spawn(&pid, restore_prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "nss_stress: okta-sync restore %s: status %d\n",
		    file, status);
		return -1;
	}
	return 0;
}

static int
publish(int g)
{
	struct snap_meta meta = { .last_sync = 1700000000 + g, .generation = (uint64_t)g };
	char names[NUSERS][16], gecos[32], shell[32], gname[16], err[256];
	char saved[4096];
	const char *members[NUSERS], *out = snap_path;
	struct snap_writer *w;
	struct snap_user u;
	struct snap_group gr;
	uint32_t gid;
	int i, j, n;

	if (restore_dir != NULL && g > 0) {
		snprintf(saved, sizeof(saved), "%s/gen-%d.cdb", restore_dir, g);
		out = saved;
	}
	if ((w = snap_writer_open(out, err, sizeof(err))) == NULL) {
		fprintf(stderr, "nss_stress: %s\n", err);
		return -1;
	}
	snprintf(gecos, sizeof(gecos), "gen %d", g);
	snprintf(shell, sizeof(shell), "/bin/sh-%d", g);
	for (i = 0; i < NUSERS; i++) {
		snprintf(names[i], sizeof(names[i]), "su%d", i);
		u = (struct snap_user){ names[i], UID_BASE + (uint32_t)i,
		    UID_BASE + (uint32_t)i, gecos, "/home/su", shell,
		    OKTA_STATUS_ACTIVE };
		if (snap_writer_add_user(w, &u) != 0)
			goto bad;
		gid = GID_BASE + (uint32_t)((i + g) % NGROUPS);
		if (snap_writer_add_user_gids(w, names[i], &gid, 1) != 0)
			goto bad;
	}
	for (j = 0; j < NGROUPS; j++) {
		n = 0;
		for (i = 0; i < NUSERS; i++)
			if (is_member(i, j, g))
				members[n++] = names[i];
		snprintf(gname, sizeof(gname), "sg%d", j);
		gr = (struct snap_group){ gname, GID_BASE + (uint32_t)j, members,
		    (size_t)n };
		if (snap_writer_add_group(w, &gr) != 0)
			goto bad;
	}
	/* Readers may see the file as soon as it is renamed, before commit
	 * returns: announce the generation first. */
	atomic_store(&published, g);
	if (snap_writer_commit(w, &meta, err, sizeof(err)) != 0) {
		fprintf(stderr, "nss_stress: %s\n", err);
		return -1;
	}
	if (out != snap_path)
		return run_restore(out);
	return 0;
bad:
	fprintf(stderr, "nss_stress: %s\n", snap_writer_error(w));
	snap_writer_abort(w);
	return -1;
}

/* Check a passwd answer for user i; returns its generation or -1. */
static int
check_pw(const struct passwd *p, int i)
{
	char name[16];
	int g, g2;

	snprintf(name, sizeof(name), "su%d", i);
	if (strcmp(p->pw_name, name) != 0 || p->pw_uid != UID_BASE + (uint32_t)i ||
	    p->pw_gid != UID_BASE + (uint32_t)i || strcmp(p->pw_dir, "/home/su") != 0)
		return -1;
	if (sscanf(p->pw_gecos, "gen %d", &g) != 1 ||
	    sscanf(p->pw_shell, "/bin/sh-%d", &g2) != 1 || g != g2)
		return -1;
	return g;
}

static void
note_gen(int g, long lo)
{
	long m;

	if (g < lo || g > atomic_load(&published)) {
		fail("generation out of range:", "", g);
		return;
	}
	m = atomic_load(&max_seen);
	while (g > m && !atomic_compare_exchange_weak(&max_seen, &m, g))
		;
}

static void *
reader(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	struct passwd pw, *pwr;
	struct group gr, *grr;
	char buf[4096], name[16];
	gid_t groups[16];
	int i, j, g, k, n, rc, ng, member_gen;

	while (!atomic_load(&stop)) {
		i = (int)(rand_r(&seed) % NUSERS);
		snprintf(name, sizeof(name), "su%d", i);
		switch (rand_r(&seed) % 4) {
		case 0:
			pwr = NULL;
			rc = getpwnam_r(name, &pw, buf, sizeof(buf), &pwr);
			if (rc != 0 || pwr == NULL || (g = check_pw(pwr, i)) < 0) {
				fail("getpwnam_r", name, rc);
				break;
			}
			note_gen(g, 0);
			break;
		case 1:
			pwr = NULL;
			rc = getpwuid_r(UID_BASE + (uid_t)i, &pw, buf, sizeof(buf), &pwr);
			if (rc != 0 || pwr == NULL || (g = check_pw(pwr, i)) < 0) {
				fail("getpwuid_r", name, rc);
				break;
			}
			note_gen(g, 0);
			break;
		case 2:
			j = i % NGROUPS;
			grr = NULL;
			rc = getgrgid_r(GID_BASE + (gid_t)j, &gr, buf, sizeof(buf), &grr);
			if (rc != 0 || grr == NULL || grr->gr_gid != GID_BASE + (gid_t)j) {
				fail("getgrgid_r", "", j);
				break;
			}
			/* The member list must be exactly one generation's. */
			member_gen = -1;
			for (k = 0; grr->gr_mem[k] != NULL; k++) {
				if (sscanf(grr->gr_mem[k], "su%d", &n) != 1 || n < 0 ||
				    n >= NUSERS) {
					member_gen = -2;
					break;
				}
				/* (n + g) % 10 == j fixes g modulo 10. */
				g = ((j - n) % NGROUPS + NGROUPS) % NGROUPS;
				if (member_gen == -1)
					member_gen = g;
				else if (member_gen != g)
					member_gen = -2;
			}
			if (k != NUSERS / NGROUPS || member_gen < 0)
				fail("getgrgid_r members of group", "", j);
			break;
		case 3:
			ng = 16;
			if (getgrouplist(name, UID_BASE + (gid_t)i, groups, &ng) != 2 ||
			    groups[0] != UID_BASE + (gid_t)i ||
			    groups[1] < GID_BASE || groups[1] >= GID_BASE + NGROUPS)
				fail("getgrouplist", name, ng);
			break;
		}
		atomic_fetch_add(&lookups, 1);
	}
	return NULL;
}

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;   /* the DIR's own descriptor */
}

static int
count_mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[1024];
	int n = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, snap_path) != NULL)
			n++;
	fclose(f);
	return n;
}

/* Fork while the readers run; the child looks su1 up.  0 when it did. */
static int
fork_lookup(void)
{
	struct passwd pw, *pwr = NULL;
	char buf[1024];
	int status;
	pid_t pid;

	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		alarm(10);   /* a deadlock shows as a failure, not a hang */
		getpwnam_r("su1", &pw, buf, sizeof(buf), &pwr);
		_exit(pwr != NULL && check_pw(pwr, 1) >= 0 ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	pthread_t th[NTHREADS];
	struct timespec t0, t;
	int n, i, fds0, fds1, maps, nthreads = NTHREADS;
	long t_ms;

	if (argc == 7 && strcmp(argv[3], "--restore") == 0) {
		restore_prog = argv[4];
		restore_conf = argv[5];
		restore_dir = argv[6];
		nthreads = 4;
	} else if (argc != 3) {
		fprintf(stderr, "usage: nss_stress SNAPSHOT_PATH REPUBLISHES "
		    "[--restore OKTA_SYNC CONFIG DIR]\n");
		return 2;
	}
	snap_path = argv[1];
	n = atoi(argv[2]);
	if (__nss_configure_lookup("passwd", "okta") != 0 ||
	    __nss_configure_lookup("group", "okta") != 0 ||
	    __nss_configure_lookup("initgroups", "okta") != 0)
		return 2;
	if (publish(0) != 0)
		return 1;
	/* Warm up glibc (loads the module) before counting descriptors. */
	getpwnam("su0");
	fds0 = count_fds();
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, reader, (void *)(uintptr_t)(i + 1)) != 0)
			return 2;
	for (i = 1; i <= n; i++) {
		if (publish(i) != 0)
			return 1;
		if (i % 10 == 0 && fork_lookup() != 0) {
			atomic_fetch_add(&errors, 1);
			snprintf(first_error, sizeof(first_error),
			    "a forked child could not look up su1");
		}
		/* Spread the publishes over a few refresh periods so that
		 * readers switch mappings under load several times. */
		usleep(30000);
	}
	/* Every reader must come to see the last generation. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		clock_gettime(CLOCK_MONOTONIC, &t);
		t_ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (atomic_load(&max_seen) == n)
			break;
		usleep(10000);
	} while (t_ms < 5000);
	atomic_store(&stop, 1);
	for (i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	fds1 = count_fds();
	maps = count_mappings();
	printf("nss_stress: threads=%d %s lookups=%ld errors=%ld republished=%d "
	    "last_seen=%ld fds_before=%d fds_after=%d mappings=%d\n", nthreads,
	    restore_dir ? "by=restore" : "by=writer", atomic_load(&lookups),
	    atomic_load(&errors), n, atomic_load(&max_seen), fds0, fds1, maps);
	if (atomic_load(&errors) != 0) {
		printf("nss_stress: first error: %s\n", first_error);
		return 1;
	}
	if (atomic_load(&max_seen) != n || fds1 != fds0 || maps > 1)
		return 1;
	return 0;
}
