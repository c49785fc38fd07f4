/*
 * spawn_loop.c - run a command N times (posix_spawn, stdout to /dev/null)
 * and print the median and the fastest wall time and the mean CPU time
 * (user + system, from wait4) of one run, in microseconds:
 *
 *   spawn_loop N COMMAND [ARG...]   ->   wall_us=M min_us=F cpu_us=C
 *
 * Used by bench_nss.py for the whole-process figures: the median and the
 * child's own CPU time are steadier than a shell loop's total on a busy
 * machine.  Exits 1 if any run fails.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	posix_spawn_file_actions_t fa;
	struct timespec t0, t1;
	struct rusage ru;
	double *wall, cpu = 0;
	int n, i, status;
	pid_t pid;

	if (argc < 3 || (n = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: spawn_loop N COMMAND [ARG...]\n");
		return 2;
	}
	if ((wall = calloc((size_t)n, sizeof(*wall))) == NULL)
		return 2;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	for (i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (posix_spawnp(&pid, argv[2], &fa, NULL, argv + 2, environ) != 0)
			return 1;
		if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		wall[i] = (double)(t1.tv_sec - t0.tv_sec) * 1e6 +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
		cpu += (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
		    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	}
	qsort(wall, (size_t)n, sizeof(*wall), cmp_d);
	printf("wall_us=%.1f min_us=%.1f cpu_us=%.1f\n", wall[n / 2], wall[0],
	    cpu / n);
	free(wall);
	return 0;
}
