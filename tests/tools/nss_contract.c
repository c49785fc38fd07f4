/*
 * nss_contract.c - calls libnss_okta.so.2's entry points directly (dlopen)
 * and checks glibc's NSS contract case by case: SUCCESS / NOTFOUND+ENOENT
 * / UNAVAIL / TRYAGAIN+ERANGE at every too-small buffer size, enumeration
 * that re-reads the same entry after ERANGE, initgroups_dyn growing the
 * array and honouring limit and skipping the primary group, and repeated
 * dlopen/dlclose leaking neither descriptors nor mappings.
 *
 *   nss_contract MODULE.so SNAPSHOT_PATH
 *
 * SNAPSHOT_PATH must be where the module reads (tests bind-mount a
 * directory at /var/lib/okta-sync).  Prints PASS:/FAIL: lines (counted by
 * tests/run.sh through test_nss.py) and exits 1 when any case fails.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot.h"

typedef enum nss_status (*pwnam_fn)(const char *, struct passwd *, char *,
    size_t, int *);
typedef enum nss_status (*pwuid_fn)(uid_t, struct passwd *, char *, size_t,
    int *);
typedef enum nss_status (*pwent_fn)(struct passwd *, char *, size_t, int *);
typedef enum nss_status (*grnam_fn)(const char *, struct group *, char *,
    size_t, int *);
typedef enum nss_status (*grgid_fn)(gid_t, struct group *, char *, size_t,
    int *);
typedef enum nss_status (*grent_fn)(struct group *, char *, size_t, int *);
typedef enum nss_status (*setent_fn)(int);
typedef enum nss_status (*endent_fn)(void);
typedef enum nss_status (*initgr_fn)(const char *, gid_t, long *, long *,
    gid_t **, long, int *);

static const char *module, *snap_path;
static int failed;

#define CHECK(name, cond) do { \
	if (cond) \
		printf("PASS: nss_contract: %s\n", name); \
	else { \
		printf("FAIL: nss_contract: %s (line %d)\n", name, __LINE__); \
		failed = 1; \
	} \
} while (0)

static void *
sym(void *h, const char *name)
{
	void *p = dlsym(h, name);

	if (p == NULL) {
		printf("FAIL: nss_contract: missing %s\n", name);
		exit(1);
	}
	return p;
}

static int
publish(void)
{
	static const char *const big[] = { "alice", "bob", "carol", "dave" };
	struct snap_user u[] = {
		{ "alice", 2000000001, 2000000001, "Alice", "/home/alice",
		    "/bin/bash", OKTA_STATUS_ACTIVE },
		{ "bob", 2000000002, 2000000002, "Bob", "/home/bob", "/bin/sh",
		    OKTA_STATUS_SUSPENDED },
	};
	struct snap_group g = { "team", 2000000100, big, 4 };
	struct snap_meta meta = { 0 };
	uint32_t gids[40];
	struct snap_writer *w;
	char err[256], gname[16];
	size_t i;

	if ((w = snap_writer_open(snap_path, err, sizeof(err))) == NULL)
		return -1;
	for (i = 0; i < 2; i++)
		if (snap_writer_add_user(w, &u[i]) != 0)
			return -1;
	if (snap_writer_add_group(w, &g) != 0)
		return -1;
	/* alice: her primary group and 39 others. */
	gids[0] = 2000000001;
	for (i = 1; i < 40; i++) {
		struct snap_group gi = { gname, (uint32_t)(2000000200 + i),
		    NULL, 0 };

		snprintf(gname, sizeof(gname), "g%zu", i);
		gids[i] = gi.gid;
		if (snap_writer_add_group(w, &gi) != 0)
			return -1;
	}
	if (snap_writer_add_user_gids(w, "alice", gids, 40) != 0)
		return -1;
	return snap_writer_commit(w, &meta, err, sizeof(err));
}

static int
count_dir(const char *d)
{
	DIR *dir = opendir(d);
	struct dirent *e;
	int n = 0;

	if (dir == NULL)
		return -1;
	while ((e = readdir(dir)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

static int
count_maps(const char *what)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[1024];
	int n = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, what))
			n++;
	fclose(f);
	return n;
}

static void
contract(void *h)
{
	pwnam_fn getpwnam_r = (pwnam_fn)sym(h, "_nss_okta_getpwnam_r");
	pwuid_fn getpwuid_r = (pwuid_fn)sym(h, "_nss_okta_getpwuid_r");
	pwent_fn getpwent_r = (pwent_fn)sym(h, "_nss_okta_getpwent_r");
	setent_fn setpwent = (setent_fn)sym(h, "_nss_okta_setpwent");
	endent_fn endpwent = (endent_fn)sym(h, "_nss_okta_endpwent");
	grnam_fn getgrnam_r = (grnam_fn)sym(h, "_nss_okta_getgrnam_r");
	grgid_fn getgrgid_r = (grgid_fn)sym(h, "_nss_okta_getgrgid_r");
	grent_fn getgrent_r = (grent_fn)sym(h, "_nss_okta_getgrent_r");
	setent_fn setgrent = (setent_fn)sym(h, "_nss_okta_setgrent");
	endent_fn endgrent = (endent_fn)sym(h, "_nss_okta_endgrent");
	initgr_fn initgroups_dyn = (initgr_fn)sym(h, "_nss_okta_initgroups_dyn");
	struct passwd pw;
	struct group gr;
	char buf[4096];
	enum nss_status st;
	int err, ok, n;
	size_t len, need = 0;
	long start, size, i;
	gid_t *groups;

	err = 0;
	st = getpwnam_r("alice", &pw, buf, sizeof(buf), &err);
	CHECK("getpwnam_r SUCCESS", st == NSS_STATUS_SUCCESS &&
	    strcmp(pw.pw_name, "alice") == 0 && pw.pw_uid == 2000000001 &&
	    strcmp(pw.pw_passwd, "*") == 0 && strcmp(pw.pw_shell, "/bin/bash") == 0);
	st = getpwuid_r(2000000002, &pw, buf, sizeof(buf), &err);
	CHECK("getpwuid_r SUSPENDED user still resolves",
	    st == NSS_STATUS_SUCCESS && strcmp(pw.pw_name, "bob") == 0);
	err = 0;
	st = getpwnam_r("nobody-here", &pw, buf, sizeof(buf), &err);
	CHECK("getpwnam_r NOTFOUND/ENOENT", st == NSS_STATUS_NOTFOUND && err == ENOENT);
	st = getpwuid_r(0, &pw, buf, sizeof(buf), &err);
	CHECK("getpwuid_r(0) NOTFOUND", st == NSS_STATUS_NOTFOUND);
	st = getgrgid_r(0, &gr, buf, sizeof(buf), &err);
	CHECK("getgrgid_r(0) NOTFOUND", st == NSS_STATUS_NOTFOUND);

	/* Every buffer size below the need: TRYAGAIN/ERANGE, then SUCCESS. */
	ok = 1;
	for (len = 0; len < sizeof(buf); len++) {
		err = 0;
		st = getpwnam_r("alice", &pw, buf, len, &err);
		if (st == NSS_STATUS_SUCCESS) {
			need = len;
			break;
		}
		if (st != NSS_STATUS_TRYAGAIN || err != ERANGE)
			ok = 0;
	}
	CHECK("getpwnam_r TRYAGAIN/ERANGE below the need", ok && need > 0);
	ok = 1;
	for (len = 0; len < sizeof(buf); len++) {
		err = 0;
		st = getgrnam_r("team", &gr, buf, len, &err);
		if (st == NSS_STATUS_SUCCESS)
			break;
		if (st != NSS_STATUS_TRYAGAIN || err != ERANGE)
			ok = 0;
	}
	CHECK("getgrnam_r TRYAGAIN/ERANGE below the need", ok &&
	    st == NSS_STATUS_SUCCESS && strcmp(gr.gr_mem[3], "dave") == 0 &&
	    gr.gr_mem[4] == NULL && strcmp(gr.gr_passwd, "*") == 0);
	st = getgrgid_r(2000000100, &gr, buf, sizeof(buf), &err);
	CHECK("getgrgid_r SUCCESS", st == NSS_STATUS_SUCCESS &&
	    strcmp(gr.gr_name, "team") == 0);

	/* Enumeration: a too-small buffer re-reads the same entry. */
	CHECK("setpwent", setpwent(0) == NSS_STATUS_SUCCESS);
	st = getpwent_r(&pw, buf, 8, &err);
	ok = st == NSS_STATUS_TRYAGAIN && err == ERANGE;
	st = getpwent_r(&pw, buf, sizeof(buf), &err);
	ok = ok && st == NSS_STATUS_SUCCESS && strcmp(pw.pw_name, "alice") == 0;
	st = getpwent_r(&pw, buf, 8, &err);
	ok = ok && st == NSS_STATUS_TRYAGAIN;
	st = getpwent_r(&pw, buf, sizeof(buf), &err);
	ok = ok && st == NSS_STATUS_SUCCESS && strcmp(pw.pw_name, "bob") == 0;
	err = 0;
	st = getpwent_r(&pw, buf, sizeof(buf), &err);
	ok = ok && st == NSS_STATUS_NOTFOUND && err == ENOENT;
	CHECK("getpwent_r ERANGE keeps the position; NOTFOUND at the end", ok);
	CHECK("endpwent", endpwent() == NSS_STATUS_SUCCESS);
	/* getpwent without setpwent starts at the beginning. */
	st = getpwent_r(&pw, buf, sizeof(buf), &err);
	CHECK("getpwent_r without setpwent", st == NSS_STATUS_SUCCESS &&
	    strcmp(pw.pw_name, "alice") == 0);
	endpwent();
	setgrent(1);
	for (n = 0; getgrent_r(&gr, buf, sizeof(buf), &err) == NSS_STATUS_SUCCESS; n++)
		;
	endgrent();
	CHECK("getgrent_r walks every group", n == 40);

	/* initgroups_dyn: grows from a 1-slot array, skips the primary. */
	groups = malloc(sizeof(*groups));
	groups[0] = 2000000001;
	start = 1;
	size = 1;
	st = initgroups_dyn("alice", 2000000001, &start, &size, &groups, 0, &err);
	ok = st == NSS_STATUS_SUCCESS && start == 40 && size >= 40;
	for (i = 1; ok && i < start; i++)
		ok = groups[i] == (gid_t)(2000000200 + i);
	CHECK("initgroups_dyn grows, skips the primary group", ok);
	/* Again with the same array: no duplicates of what is there. */
	st = initgroups_dyn("alice", 2000000001, &start, &size, &groups, 0, &err);
	CHECK("initgroups_dyn adds no duplicates", st == NSS_STATUS_SUCCESS && start == 40);
	start = 1;
	st = initgroups_dyn("alice", 2000000001, &start, &size, &groups, 10, &err);
	CHECK("initgroups_dyn honours limit (array already large)",
	    st == NSS_STATUS_SUCCESS && start <= 40);
	free(groups);
	groups = malloc(sizeof(*groups));
	groups[0] = 2000000001;
	start = 1;
	size = 1;
	st = initgroups_dyn("alice", 2000000001, &start, &size, &groups, 10, &err);
	CHECK("initgroups_dyn honours limit", st == NSS_STATUS_SUCCESS &&
	    start == 10 && size == 10);
	free(groups);
	/* The group argument is whatever the caller chose (systemd's
	 * Group=): every GID of hers but that one, her primary included. */
	groups = malloc(sizeof(*groups));
	groups[0] = 2000000205;
	start = 1;
	size = 1;
	st = initgroups_dyn("alice", 2000000205, &start, &size, &groups, 0, &err);
	ok = st == NSS_STATUS_SUCCESS && start == 40 && groups[1] == 2000000001;
	for (i = 1; ok && i < start; i++)
		ok = groups[i] != 2000000205;
	CHECK("initgroups_dyn: one of her groups as the group argument", ok);
	/* A group that is none of hers (a local GID): all 40 are added. */
	groups[0] = 100;
	start = 1;
	st = initgroups_dyn("alice", 100, &start, &size, &groups, 0, &err);
	CHECK("initgroups_dyn: an unrelated GID as the group argument",
	    st == NSS_STATUS_SUCCESS && start == 41 && groups[1] == 2000000001 &&
	    groups[40] == 2000000239);
	start = 1;
	st = initgroups_dyn("nobody-here", 5, &start, &size, &groups, 0, &err);
	CHECK("initgroups_dyn NOTFOUND", st == NSS_STATUS_NOTFOUND && start == 1);
	free(groups);
}

int
main(int argc, char **argv)
{
	enum nss_status st;
	pwnam_fn getpwnam_r;
	struct passwd pw;
	char buf[1024];
	int fds0, fds1, maps, i, err;
	void *h;

	if (argc != 3) {
		fprintf(stderr, "usage: nss_contract MODULE.so SNAPSHOT_PATH\n");
		return 2;
	}
	module = argv[1];
	snap_path = argv[2];
	unlink(snap_path);
	if ((h = dlopen(module, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		printf("FAIL: nss_contract: dlopen: %s\n", dlerror());
		return 1;
	}
	getpwnam_r = (pwnam_fn)sym(h, "_nss_okta_getpwnam_r");
	err = 0;
	st = getpwnam_r("alice", &pw, buf, sizeof(buf), &err);
	CHECK("no snapshot: UNAVAIL/ENOENT", st == NSS_STATUS_UNAVAIL && err == ENOENT);
	dlclose(h);
	if (publish() != 0) {
		printf("FAIL: nss_contract: cannot publish %s\n", snap_path);
		return 1;
	}
	if ((h = dlopen(module, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return 1;
	contract(h);
	dlclose(h);

	/* dlopen, use (with an enumeration left open), dlclose: 200 times. */
	fds0 = count_dir("/proc/self/fd");
	for (i = 0; i < 200; i++) {
		if ((h = dlopen(module, RTLD_NOW | RTLD_LOCAL)) == NULL)
			return 1;
		getpwnam_r = (pwnam_fn)sym(h, "_nss_okta_getpwnam_r");
		getpwnam_r("alice", &pw, buf, sizeof(buf), &err);
		((setent_fn)sym(h, "_nss_okta_setpwent"))(0);
		dlclose(h);
	}
	fds1 = count_dir("/proc/self/fd");
	maps = count_maps(snap_path);
	CHECK("dlopen/dlclose x200: no descriptor or mapping left",
	    fds0 == fds1 && maps == 0 && count_maps("libnss_okta") == 0);
	if (fds0 != fds1 || maps != 0)
		printf("  fds %d -> %d, snapshot mappings %d\n", fds0, fds1, maps);
	return failed;
}
