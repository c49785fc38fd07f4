/* main_daemon.c - okta-syncd: placeholder until the daemon lands. */
#include <stdio.h>

int
main(void)
{
	fprintf(stderr, "okta-syncd: not implemented yet\n");
	return 1;
}
