/*
 * cmd_check_config.c - `okta-sync check-config`: report every problem in
 * the config file at once, each with its line number, and check that the
 * token file is safe to use.  Exit 0 when the file is good, 78 (EX_CONFIG)
 * otherwise.  Then pam_okta.so lines in the PAM configuration whose
 * options override [pam] are reported as conflicts (pam_conflicts.h):
 * shown, not counted as problems, since an extra per-service line may
 * restrict on purpose.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "error.h"
#include "pam_conflicts.h"
#include "paths.h"
#include "snapshot.h"

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

struct config *
config_load_or_report(const char *path, int check_files)
{
	struct config_problems problems = { NULL, 0 };
	struct config *c = config_load(path, check_files, &problems);

	if (c == NULL) {
		config_print_problems(stderr, path, &problems);
		fprintf(stderr, "okta-sync: %s\n", err_sentence(OK_ERR_CONFIG));
	}
	config_problems_free(&problems);
	return c;
}

/* What the sync will do with SSH keys, in a sentence. */
static void
print_ssh_keys(const struct config *c)
{
	if (c->ssh_keys_attribute == NULL) {
		printf("  ssh keys        none (no [posix] ssh_keys_attribute)%s\n",
		    c->ssh_keys_allow_options ? "; ssh_keys_allow_options has "
		    "no effect without it" : "");
		return;
	}
	printf("  ssh keys        from profile attribute %s, %s; make the "
	    "attribute admin-writable only in Okta's profile editor, since "
	    "whoever can edit it can log in as the user\n",
	    c->ssh_keys_attribute, c->ssh_keys_allow_options ?
	    "options allowed from the allowlist (from=, no-pty, ...; never "
	    "command=)" : "key options refused");
}

/* The summary of a good config. */
static void
print_summary(const struct config *c)
{
	char d[32];
	size_t i;

	printf("  okta domain     %s\n", c->domain);
	if (c->auth_oauth)
		printf("  auth            OAuth service app %s (scopes %s)\n",
		    c->client_id, c->scopes);
	printf("  cache           %s\n", c->cache_dir);
	printf("  UID range       %u-%u\n", c->uid_min, c->uid_max);
	printf("  GID range       %u-%u\n", c->gid_min, c->gid_max);
	/* With user-private groups a UID from the attribute is also a GID:
	 * UIDs the GID range leaves out are rejected at every sync. */
	if (c->uid_attribute != NULL &&
	    c->primary_group == PRIMARY_GROUP_USER_PRIVATE &&
	    (c->uid_min < c->gid_min || c->uid_max > c->gid_max))
		printf("  warning         uid_attribute UIDs outside the GID range "
		    "%u-%u are rejected: with user-private groups each UID is "
		    "also its group's GID; widen gid_min/gid_max to cover "
		    "%u-%u\n", c->gid_min, c->gid_max, c->uid_min, c->uid_max);
	printf("  groups          %s\n", c->ngroups ? "as listed in [sync] groups" : "every group the token can see");
	printf("  schedule        %s\n", c->schedule ? c->schedule : "none (okta-syncd runs no scheduled sync)");
	if (c->events)
		printf("  events          yes: okta-syncd follows Okta's System Log "
		    "every %lds between syncs\n", c->event_interval);
	else
		printf("  events          no (changes arrive with the scheduled syncs)\n");
	printf("  pam policy      max_cache_age %s, stale_policy %s",
	    c->pam.max_cache_age ? snap_policy_format_duration(
	    c->pam.max_cache_age, d, sizeof(d)) : "0 (no limit)",
	    c->pam.stale_allow ? "allow" : "deny");
	for (i = 0; i < c->pam.nallowed; i++)
		printf("%s%s", i ? "," : ", allowed_groups ",
		    c->pam.allowed_groups[i]);
	printf("\n");
	print_ssh_keys(c);
}

int
cmd_check_config(int argc, char **argv, const char *config_path)
{
	struct config_problems problems = { NULL, 0 };
	struct config *c;
	const char *path = config_path ? config_path : OKTA_CONFIG_PATH;
	const char *pamdir = PAM_CONFLICTS_DIR;
	int n;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("usage: okta-sync [-c FILE] check-config [--pam-dir DIR]\n\n"
		    "Check the configuration file and the token file's owner and mode;\n"
		    "print every problem found, with its line number.  Then report\n"
		    "pam_okta.so lines in the PAM configuration (DIR, default\n"
		    "/etc/pam.d) whose options override [pam] (\"conflict\").\n");
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--pam-dir") == 0)
		pamdir = argv[2];
	else if (argc > 1) {
		fprintf(stderr, "okta-sync: check-config takes only --pam-dir DIR\n");
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
	print_summary(c);
	fflush(stdout);
	n = pam_conflicts_report(c, pamdir, stdout);
	if (n > 0)
		printf("%s: %d pam_okta.so option%s override%s [pam] "
		    "(conflicts above)\n", pamdir, n, n == 1 ? "" : "s",
		    n == 1 ? "s" : "");
	config_free(c);
	config_problems_free(&problems);
	return 0;
}
