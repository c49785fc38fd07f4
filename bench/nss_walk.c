/*
 * nss_walk.c - warm getpwnam over many different names in turn, through
 * glibc (so through nscd when one runs), for bench_nss.py:
 *
 *   nss_walk [-s SERVICE] FMT FIRST COUNT STEP ROUNDS
 *
 * The names are FMT (a printf format with one %d) of FIRST, FIRST+STEP,
 * ... (COUNT names), made before timing.  One untimed pass warms every
 * cache (nscd fills its table here); then ROUNDS timed passes, and the
 * fastest pass is reported, as ns per lookup:
 *
 *   getpwnam-walk ns_per_call=N found=K names=COUNT
 *
 * A name looked up over and over stays in the CPU caches; walking them
 * all in turn is what `ls -l` of a big shared directory or `ps` does, and
 * what a hash table laid out for cache misses has to win.  -s SERVICE:
 * only that NSS module (__nss_configure_lookup: no nscd).  Exits 1 if a
 * name was not found in the last pass.
 */
#include <nss.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char buf[16384];

int
main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct passwd pw, *res;
	const char *svc = NULL;
	long first, count, step, rounds, i, r, found = 0;
	double ns, best = -1;
	char **names;
	int c;

	while ((c = getopt(argc, argv, "s:")) != -1) {
		if (c != 's')
			return 2;
		svc = optarg;
	}
	if (argc - optind != 5) {
		fprintf(stderr, "usage: nss_walk [-s SERVICE] FMT FIRST COUNT "
		    "STEP ROUNDS\n");
		return 2;
	}
	if (svc != NULL && __nss_configure_lookup("passwd", svc) != 0) {
		fprintf(stderr, "nss_walk: __nss_configure_lookup failed\n");
		return 2;
	}
	first = strtol(argv[optind + 1], NULL, 10);
	count = strtol(argv[optind + 2], NULL, 10);
	step = strtol(argv[optind + 3], NULL, 10);
	rounds = strtol(argv[optind + 4], NULL, 10);
	if (count <= 0 || step <= 0 || rounds <= 0 ||
	    (names = calloc((size_t)count, sizeof(*names))) == NULL)
		return 2;
	for (i = 0; i < count; i++) {
		if ((names[i] = malloc(64)) == NULL)
			return 2;
		snprintf(names[i], 64, argv[optind], (int)(first + i * step));
	}
	for (i = 0; i < count; i++)
		getpwnam_r(names[i], &pw, buf, sizeof(buf), &res);
	for (r = 0; r < rounds; r++) {
		found = 0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (i = 0; i < count; i++) {
			getpwnam_r(names[i], &pw, buf, sizeof(buf), &res);
			found += res != NULL;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
		    (double)(t1.tv_nsec - t0.tv_nsec)) / (double)count;
		if (best < 0 || ns < best)
			best = ns;
	}
	printf("getpwnam-walk ns_per_call=%.1f found=%ld names=%ld\n", best,
	    found, count);
	return found == count ? 0 : 1;
}
