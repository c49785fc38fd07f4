/*
 * configs.c - the configs of the page fuzzers (see configs.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "configs.h"

static char dir[] = "/tmp/okta-fuzz.XXXXXX";
static const char *const files[] = { "token", "passwd", "group", "conf0",
    "conf1", "conf2", "conf3" };

/* At exit: the directory and what is in it. */
static void
cleanup(void)
{
	char path[600];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		(void)unlink(path);
	}
	(void)rmdir(dir);
}

static void
put(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) < 0 ||
	    fclose(f) != 0 || chmod(path, mode) != 0) {
		perror(path);
		abort();
	}
}

static struct config *
load(const char *dir, int i, const char *extra_sync, const char *extra_posix)
{
	struct config_problems pr = { 0 };
	struct config *c;
	char name[600], *text;

	if (asprintf(&text, "[okta]\ndomain = fuzz.okta.com\ntoken_file = %s/token\n"
	    "[cache]\ndir = %s/no-cache\n[sync]\n%s\n[posix]\n"
	    "local_passwd = %s/passwd\nlocal_group = %s/group\n"
	    "allowed_shells = /bin/bash, /bin/sh, /bin/zsh\n%s\n",
	    dir, dir, extra_sync, dir, dir, extra_posix) < 0)
		abort();
	snprintf(name, sizeof(name), "conf%d", i);
	put(dir, name, text, 0600);
	free(text);
	snprintf(name, sizeof(name), "%s/conf%d", dir, i);
	c = config_load(name, 0, &pr);
	if (c == NULL) {
		config_print_problems(stderr, name, &pr);
		abort();
	}
	config_problems_free(&pr);
	return c;
}

const char *
fuzz_configs_load(struct config *configs[FUZZ_NCONFIGS])
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	atexit(cleanup);
	put(dir, "token", "fuzz-token\n", 0600);
	put(dir, "passwd", "root:x:0:0:root:/root:/bin/bash\n"
	    "john.doe-activate:x:1000:1000::/home/j:/bin/sh\n"
	    "nobody:x:65534:65534::/:/bin/false\n", 0644);
	put(dir, "group", "root:x:0:\nusers:x:100:\neveryone:x:2000000005:\n"
	    "jdoe:x:1000:\n", 0644);
	configs[0] = load(dir, 0, "", "");
	configs[1] = load(dir, 1, "deprovisioned = remove\nmax_delete = none",
	    "strip_domain = example.com\nprimary_group = 2000\nhome = /srv/%u\n"
	    "shell_attribute = mobilePhone");
	configs[2] = load(dir, 2, "groups = Everyone, Group-Test, "
	    "SDK_TEST_GROUP\nmembers_only = yes",
	    "uid_attribute = secondEmail\ngid_attribute = description\n"
	    "uid_min = 2000000000\nuid_max = 2000000009\ngid_min = 2000000000\n"
	    "gid_max = 2000000009");
	configs[3] = load(dir, 3, "", "username = attribute:firstName\n"
	    "uid_min = 1000\nuid_max = 1003\ngid_min = 1000\ngid_max = 1010");
	return dir;
}
