/* cmd_status.c - placeholder until the subcommand lands. */
#include <stdio.h>

#include "commands.h"

int
cmd_status(int argc, char **argv, const char *config_path)
{
	(void)argc;
	(void)config_path;
	fprintf(stderr, "okta-sync: %s: not implemented yet\n", argv[0]);
	return 1;
}
