/*
 * main_cli.c - okta-sync, the admin's command line: parses the global
 * options and dispatches to a subcommand (commands.h).
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "log.h"

#ifndef OKTA_VERSION
#define OKTA_VERSION "0.1.0"
#endif

static const struct {
	const char *name;
	int (*fn)(int, char **, const char *);
	const char *help;
} subcommands[] = {
	{ "test", cmd_test, "check that every Okta endpoint the sync needs is reachable" },
	{ "sync", cmd_sync, "sync users and groups from Okta (--dry-run: show the plan only)" },
	{ "check-config", cmd_check_config, "report every problem in the config file" },
	{ "status", cmd_status, "show the last sync, the next one and the data's age" },
	{ "show", cmd_show, "show one user or group: what Okta sent, what it became" },
	{ "migrate", cmd_migrate, "let Okta users take over matching local accounts" },
	{ "restore", cmd_restore, "put a saved snapshot in place safely (never cp over it)" },
	{ "fleet", cmd_fleet, "fleet mode: keygen, publish (publisher), pull (subscriber)" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: okta-sync [-c FILE] [-v] COMMAND [ARGS]\n\n"
	    "  -c FILE   use FILE instead of /etc/okta-sync/okta-sync.conf\n"
	    "  -v        verbose (debug) logging\n"
	    "  -h        this help;  okta-sync COMMAND --help for a command\n"
	    "  --version print the version and exit\n\n"
	    "commands:\n");
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-13s %s\n", subcommands[i].name, subcommands[i].help);
}

int
main(int argc, char **argv)
{
	const char *config_path = NULL;
	int i = 1;
	size_t k;

	log_init("okta-sync", LOG_LEVEL_INFO, 0);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			config_path = argv[++i];
		else if (strcmp(argv[i], "-v") == 0)
			log_set_level(LOG_LEVEL_DEBUG);
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("okta-sync %s\n", OKTA_VERSION);
			return 0;
		} else {
			fprintf(stderr, "okta-sync: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (k = 0; k < sizeof(subcommands) / sizeof(subcommands[0]); k++)
		if (strcmp(argv[i], subcommands[k].name) == 0)
			return subcommands[k].fn(argc - i, argv + i, config_path);
	fprintf(stderr, "okta-sync: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
