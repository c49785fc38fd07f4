/*
 * config.h - /etc/okta-sync/okta-sync.conf, parsed with inih.
 *
 * config_load() reads the whole file and collects every problem (with its
 * line number) instead of stopping at the first, so that `okta-sync
 * check-config` can report them all at once.
 */
#ifndef OKTA_CONFIG_H
#define OKTA_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

enum username_source {
	USERNAME_FROM_LOGIN,      /* profile.login, strip_domain removed */
	USERNAME_FROM_ATTRIBUTE   /* the profile attribute username_attribute */
};

enum primary_group_mode {
	PRIMARY_GROUP_USER_PRIVATE,   /* a group named like the user, GID = UID */
	PRIMARY_GROUP_FIXED           /* every user gets primary_gid */
};

enum deprovisioned_policy {
	DEPROVISIONED_KEEP,      /* stays resolvable, status marks it; PAM refuses */
	DEPROVISIONED_REMOVE     /* removed from the snapshot (UID stays reserved) */
};

struct config {
	char *path;              /* the file this was read from */

	/* [okta] */
	char *domain;            /* host or host:port, no scheme, no path */
	char *token_file;
	char *ca_file;           /* NULL: the system store */
	long timeout;            /* seconds per request */

	/* [cache] */
	char *cache_dir;

	/* [sync] */
	char **groups;           /* names of Okta groups to sync; NULL-terminated */
	size_t ngroups;
	int members_only;        /* only members of `groups` become users */
	char *schedule;          /* cron expression, NULL: no schedule */
	char *full_sync_schedule;
	long max_delete_count;   /* -1: no limit by count */
	int max_delete_percent;  /* -1: no limit by share */
	int rate_limit_reserve;  /* percent of X-Rate-Limit-Limit kept free */
	int max_concurrency;
	enum deprovisioned_policy deprovisioned;
	char *metrics_file;      /* Prometheus textfile, NULL: none */

	/* [posix] */
	uint32_t uid_min, uid_max, gid_min, gid_max;
	char *home;              /* template: %u user name, %% a percent sign */
	char *default_shell;
	char **allowed_shells;   /* NULL-terminated; default from /etc/shells */
	enum username_source username_source;
	char *strip_domain;      /* "example.com" or NULL */
	char *username_attribute;
	char *uid_attribute;     /* NULL: allocate */
	char *gid_attribute;
	char *shell_attribute;
	enum primary_group_mode primary_group;
	uint32_t primary_gid;

	/* Where the local passwd and group files are ([posix] local_passwd,
	 * local_group): /etc/passwd and /etc/group unless a test or a chroot
	 * points them elsewhere. */
	char *passwd_file;
	char *group_file;
};

/* One problem found in the config file. */
struct config_problem {
	int line;                /* 0: not tied to a line */
	char *message;
};

struct config_problems {
	struct config_problem *v;
	size_t n;
};

/*
 * Load `path` (NULL: OKTA_CONFIG_PATH).  Returns a config with defaults
 * applied, or NULL when any problem was found; every problem is appended to
 * *problems (caller frees with config_problems_free).  check_files: also
 * check the token file's owner and mode, and that ca_file is readable.
 */
struct config *config_load(const char *path, int check_files,
    struct config_problems *problems);
void config_free(struct config *c);                   /* accepts NULL */
void config_problems_free(struct config_problems *p);

/* Print each problem as "PATH:LINE: message" (or "PATH: message"), the way
 * compilers do, so that editors can jump to it.  Can't fail. */
void config_print_problems(FILE *f, const char *path,
    const struct config_problems *problems);

/*
 * Read the API token from c->token_file after checking that it is a
 * regular file owned by root (or by the running user, when not root, for
 * tests) and not readable or writable by group or others.  Returns a
 * malloc'd string with the trailing newline removed, or NULL with a
 * sentence in err.  The caller wipes it with explicit_bzero and frees it.
 */
char *config_read_token(const struct config *c, char *err, size_t errlen);

#endif
