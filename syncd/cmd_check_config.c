/*
 * cmd_check_config.c - `okta-sync check-config`: report every problem in
 * the config file at once, each with its line number, and check that the
 * token file is safe to use.  Exit 0 when the file is good, 78 (EX_CONFIG)
 * otherwise.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "error.h"
#include "paths.h"

void
config_print_problems(FILE *f, const char *path, const struct config_problems *problems)
{
	size_t i;

	for (i = 0; i < problems->n; i++) {
		if (problems->v[i].line > 0)
			fprintf(f, "%s:%d: %s\n", path, problems->v[i].line, problems->v[i].message);
		else
			fprintf(f, "%s: %s\n", path, problems->v[i].message);
	}
}

int
cmd_check_config(int argc, char **argv, const char *config_path)
{
	struct config_problems problems = { NULL, 0 };
	struct config *c;
	const char *path = config_path ? config_path : OKTA_CONFIG_PATH;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("usage: okta-sync [-c FILE] check-config\n\n"
		    "Check the configuration file and the token file's owner and mode;\n"
		    "print every problem found, with its line number.\n");
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "okta-sync: check-config takes no arguments\n");
		return 2;
	}
	c = config_load(path, 1, &problems);
	if (c == NULL) {
		config_print_problems(stderr, path, &problems);
		fprintf(stderr, "%s: %zu problem%s found\n", path, problems.n,
		    problems.n == 1 ? "" : "s");
		config_problems_free(&problems);
		return err_exit_code(OK_ERR_CONFIG);
	}
	printf("%s: ok\n", path);
	printf("  okta domain     %s\n", c->domain);
	printf("  cache           %s\n", c->cache_dir);
	printf("  UID range       %u-%u\n", c->uid_min, c->uid_max);
	printf("  GID range       %u-%u\n", c->gid_min, c->gid_max);
	printf("  groups          %s\n", c->ngroups ? "as listed in [sync] groups" : "every group the token can see");
	printf("  schedule        %s\n", c->schedule ? c->schedule : "none (okta-syncd runs no scheduled sync)");
	config_free(c);
	config_problems_free(&problems);
	return 0;
}
