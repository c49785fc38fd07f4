/*
 * nss_lookup.c - look users and groups up through glibc in a loop: for the
 * NSS tests (strace -c of a lookup loop) and the NSS benchmark.
 *
 *   nss_lookup [-s SERVICE] OP ARG COUNT
 *
 * OP is getpwnam NAME, getpwuid UID, getgrnam NAME, getgrgid GID,
 * initgroups NAME (getgrouplist with the user's primary GID), enum-pw or
 * enum-gr (ARG ignored; one call = one whole setXXent..endXXent walk).
 * -s SERVICE makes glibc use only that NSS service for passwd, group and
 * initgroups (__nss_configure_lookup: no nsswitch.conf, no nscd).  One
 * warm-up call is made before the COUNT timed calls.  Prints
 *   OP ns_per_call=N result=TEXT
 * and exits 0 when every call found the entry, 1 otherwise.
 */
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20];
static gid_t groups[65536];

/* One lookup; returns a count (entries, groups) or -1 when not found. */
static long
one(const char *op, const char *arg)
{
	struct passwd pw, *pwr = NULL;
	struct group gr, *grr = NULL;
	long n = 0;
	int ng;

	if (strcmp(op, "getpwnam") == 0) {
		getpwnam_r(arg, &pw, buf, sizeof(buf), &pwr);
		return pwr ? 1 : -1;
	}
	if (strcmp(op, "getpwuid") == 0) {
		getpwuid_r((uid_t)strtoul(arg, NULL, 10), &pw, buf, sizeof(buf), &pwr);
		return pwr ? 1 : -1;
	}
	if (strcmp(op, "getgrnam") == 0) {
		getgrnam_r(arg, &gr, buf, sizeof(buf), &grr);
		return grr ? 1 : -1;
	}
	if (strcmp(op, "getgrgid") == 0) {
		getgrgid_r((gid_t)strtoul(arg, NULL, 10), &gr, buf, sizeof(buf), &grr);
		return grr ? 1 : -1;
	}
	if (strcmp(op, "initgroups") == 0) {
		getpwnam_r(arg, &pw, buf, sizeof(buf), &pwr);
		if (pwr == NULL)
			return -1;
		ng = (int)(sizeof(groups) / sizeof(groups[0]));
		if (getgrouplist(arg, pw.pw_gid, groups, &ng) < 0)
			return -1;
		return ng;
	}
	if (strcmp(op, "enum-pw") == 0) {
		setpwent();
		while (getpwent() != NULL)
			n++;
		endpwent();
		return n;
	}
	if (strcmp(op, "enum-gr") == 0) {
		setgrent();
		while (getgrent() != NULL)
			n++;
		endgrent();
		return n;
	}
	fprintf(stderr, "nss_lookup: unknown op %s\n", op);
	exit(2);
}

int
main(int argc, char **argv)
{
	struct timespec t0, t1;
	const char *svc = NULL;
	long count, i, r, res;
	double ns;
	int c, missed = 0;

	while ((c = getopt(argc, argv, "s:")) != -1) {
		if (c == 's')
			svc = optarg;
		else
			return 2;
	}
	if (argc - optind != 3) {
		fprintf(stderr, "usage: nss_lookup [-s SERVICE] OP ARG COUNT\n");
		return 2;
	}
	if (svc != NULL) {
		if (__nss_configure_lookup("passwd", svc) != 0 ||
		    __nss_configure_lookup("group", svc) != 0 ||
		    __nss_configure_lookup("initgroups", svc) != 0) {
			fprintf(stderr, "nss_lookup: __nss_configure_lookup failed\n");
			return 2;
		}
	}
	count = strtol(argv[optind + 2], NULL, 10);
	res = one(argv[optind], argv[optind + 1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < count; i++) {
		r = one(argv[optind], argv[optind + 1]);
		if (r < 0)
			missed = 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
	    (double)(count > 0 ? count : 1);
	printf("%s ns_per_call=%.1f result=%ld\n", argv[optind], ns, res);
	return res < 0 || missed ? 1 : 0;
}
