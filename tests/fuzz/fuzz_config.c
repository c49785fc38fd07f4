/*
 * fuzz_config.c - libFuzzer target for the config parser: config_load()
 * on any bytes as /etc/okta-sync/okta-sync.conf (root-owned, but written
 * by hand, by scripts and by config management), then printing its
 * problems as check-config does.
 *
 * config_load takes a path, so the input goes into a memfd opened by its
 * /proc/self/fd path: the parser reads it as it reads the real file.  The
 * files the config names are not looked at (check_files 0).  Seeds:
 * tests/fuzz/corpus_config (the example config, one with every key, one
 * with the usual mistakes; made by tests/fuzz/make_seeds.py).
 *
 * The oracle, besides the sanitizers and the leak checker (every path
 * through the parser frees what it made): a config that loads holds what
 * its checks promise (a domain and an absolute token_file, ID ranges
 * above the system range and in order, an absolute normalised home
 * template, a default shell among the allowed ones); one that does not
 * load comes with at least one problem, each with a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_config(const struct config *c)
{
	size_t i;
	int found = 0;

	if (c->domain == NULL || c->domain[0] == '\0' || c->token_file == NULL ||
	    c->token_file[0] != '/' || c->cache_dir == NULL ||
	    c->cache_dir[0] != '/')
		__builtin_trap();
	if (c->uid_min < 1000 || c->gid_min < 1000 || c->uid_min > c->uid_max ||
	    c->gid_min > c->gid_max)
		__builtin_trap();
	if (c->home == NULL || c->home[0] != '/' || c->default_shell == NULL ||
	    c->default_shell[0] != '/')
		__builtin_trap();
	for (i = 0; c->allowed_shells != NULL && c->allowed_shells[i] != NULL; i++)
		if (strcmp(c->allowed_shells[i], c->default_shell) == 0)
			found = 1;
	if (!found)
		__builtin_trap();
	if (c->members_only && c->ngroups == 0)
		__builtin_trap();
	for (i = 0; i < c->ngroups; i++)
		if (c->groups == NULL || c->groups[i] == NULL)
			__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct config_problems pr = { 0 };
	struct config *c;
	char path[64];
	size_t i;
	int fd;

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		return 0;
	if ((fd = memfd_create("okta-sync.conf", MFD_CLOEXEC)) < 0)
		return 0;
	if (size > 0 && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	c = config_load(path, 0, &pr);
	close(fd);
	if (c != NULL) {
		check_config(c);
	} else {
		if (pr.n == 0)
			__builtin_trap();
		for (i = 0; i < pr.n; i++)
			if (pr.v[i].message == NULL || pr.v[i].message[0] == '\0')
				__builtin_trap();
	}
	config_print_problems(devnull, path, &pr);
	config_problems_free(&pr);
	config_free(c);
	return 0;
}
