/*
 * main_daemon.c - okta-syncd: parses the command line and runs the daemon
 * loop (daemon.h).  It always stays in the foreground, as systemd's
 * Type=notify wants; there is no forking mode.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"

#ifndef OKTA_VERSION
#define OKTA_VERSION "0.1.0"
#endif

static void
usage(FILE *f)
{
	fprintf(f, "usage: okta-syncd [-c FILE] [-v] [--foreground] "
	    "[--interval SECONDS]\n\n"
	    "  -c FILE              use FILE instead of "
	    "/etc/okta-sync/okta-sync.conf\n"
	    "  -v                   verbose (debug) logging\n"
	    "  --foreground         accepted for clarity: okta-syncd always "
	    "runs in the foreground\n"
	    "  --interval SECONDS   for testing: an incremental sync every "
	    "SECONDS\n"
	    "                       instead of [sync] schedule (also "
	    "OKTA_SYNCD_TEST_INTERVAL)\n"
	    "  -h, --help           this help\n"
	    "  --version            the version\n");
}

/* A positive number of seconds, or -1. */
static long
parse_seconds(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v <= 0 || v > 86400 * 366)
		return -1;
	return v;
}

int
main(int argc, char **argv)
{
	struct daemon_opts o;
	const char *env;
	int i;

	memset(&o, 0, sizeof(o));
	log_init("okta-syncd", LOG_LEVEL_INFO, 0);
	if ((env = getenv("OKTA_SYNCD_TEST_INTERVAL")) != NULL && *env != '\0') {
		if ((o.interval = parse_seconds(env)) == -1) {
			error("OKTA_SYNCD_TEST_INTERVAL=%s is not a positive "
			    "number of seconds", env);
			return 2;
		}
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			o.config_path = argv[++i];
		} else if (strcmp(argv[i], "-v") == 0) {
			log_set_level(LOG_LEVEL_DEBUG);
		} else if (strcmp(argv[i], "--foreground") == 0 ||
		    strcmp(argv[i], "-f") == 0) {
			/* Always the case. */
		} else if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc) {
			if ((o.interval = parse_seconds(argv[++i])) == -1) {
				error("--interval %s: not a positive number of "
				    "seconds", argv[i]);
				return 2;
			}
		} else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("okta-syncd %s\n", OKTA_VERSION);
			return 0;
		} else {
			error("unknown option %s", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	return daemon_run(&o);
}
