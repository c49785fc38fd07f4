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

/* [sync] tombstone_days: at least a day, longer than any cache TTL. */
#define TOMBSTONE_DAYS_DEFAULT 30
#define TOMBSTONE_DAYS_MIN 1
#define TOMBSTONE_DAYS_MAX 3650
/* [sync] event_interval, seconds. */
#define EVENT_INTERVAL_DEFAULT 30
#define EVENT_INTERVAL_MIN 1
#define EVENT_INTERVAL_MAX 3600

/* [pam], as okta-sync.conf(5) describes it.  line_*: where each key was
 * set (0: not set, the default applies), for check-config's messages. */
struct config_pam {
	char **allowed_groups;   /* NULL-terminated; empty: any group */
	size_t nallowed;
	long long max_cache_age; /* seconds, 0: no limit; default 7 days */
	int stale_allow;         /* stale_policy = allow */
	int deny_recovery;
	int deny_password_expired;
	int tombstone_ignore;    /* tombstone = ignore */
	int line_allowed_groups, line_max_cache_age, line_stale_policy,
	    line_deny_recovery, line_deny_password_expired, line_tombstone;
};

/* [auth]: password + Okta MFA at the PAM auth phase, through okta-syncd
 * (issue 11).  Enabled when client_id is set. */
enum auth_mfa { AUTH_MFA_PUSH = 1, AUTH_MFA_OTP = 2 };
#define AUTH_MFA_MAX 2
struct config_auth {
	char *client_id;            /* NULL: [auth] not configured */
	char *client_secret_file;   /* NULL: a public client */
	char *authorization_server; /* NULL: the org server (/oauth2/v1/...);
	                             * else its id (/oauth2/ID/v1/...) */
	int mfa[AUTH_MFA_MAX];      /* enum auth_mfa in the order offered,
	                             * 0-terminated; default push,otp */
	int device_flow;            /* default no */
	char *socket_path;          /* default OKTA_AUTH_SOCKET_PATH */
	int failed_login_attempts;  /* local failures in a row before the
	                             * delay, default 5 */
	long long failed_login_delay; /* seconds, default 60 */
	int offline_credentials;    /* default no */
	long long offline_expiration;         /* seconds, default 7 days */
	int offline_failed_login_attempts;    /* default 3 */
	long long offline_failed_login_delay; /* seconds, default 5 minutes */
	char **offline_deny_groups; /* NULL-terminated; NULL: none */
	size_t noffline_deny;
};

/* [fleet] (issue 12): one host syncs from Okta and publishes a signed
 * snapshot, the others pull it.  See okta-sync.conf(5), FLEET. */
enum fleet_role { FLEET_STANDALONE = 0, FLEET_PUBLISHER, FLEET_SUBSCRIBER };
#define FLEET_POLL_DEFAULT 60
#define FLEET_MAX_AGE_DEFAULT (2LL * 86400)
struct config_fleet {
	int role;                   /* enum fleet_role */
	/* publisher */
	char *destination;          /* directory, http(s) URL or s3:// */
	char *s3_endpoint, *s3_region;
	char *credentials_file;     /* root-only: ID:SECRET or USER:PASSWORD */
	char *signing_key;          /* default /etc/okta-sync/fleet.key */
	unsigned keep_deltas;       /* default 4, at most 8 */
	/* subscriber */
	char *source;               /* URL of the published directory */
	char *ca_file;
	char **public_keys;         /* NULL-terminated "okta-sync-ed25519 ..." */
	size_t npublic_keys;
	long long max_age;          /* seconds, default 2 days */
	long long poll_interval;    /* seconds, default 60 */
};

struct config {
	char *path;              /* the file this was read from */

	/* [okta] */
	char *domain;            /* host or host:port, no scheme, no path */
	char *token_file;
	char *ca_file;           /* NULL: the system store */
	long timeout;            /* seconds per request */
	/* auth = oauth: an OAuth 2.0 service app (oauth.c) instead of the
	 * SSWS token; token_file is then not needed. */
	int auth_oauth;
	char *proxy;             /* http(s)://host:port, NULL: libcurl's environment */
	char *no_proxy;          /* hosts reached directly (libcurl's NOPROXY list) */
	char *proxy_credentials_file;  /* root-only, user:password */
	char *client_id;
	char *private_key_file;  /* PEM, RSA or EC P-256, root-only */
	char *key_id;            /* the JWT kid, NULL: none */
	char *scopes;            /* space-separated */

	/* [cache] */
	char *cache_dir;

	/* [sync] */
	char **groups;           /* names of Okta groups to sync; NULL-terminated */
	size_t ngroups;
	int members_only;        /* only members of `groups` become users */
	unsigned group_types;    /* GROUP_TYPE_* bits: the Okta group types synced */
	char *schedule;          /* cron expression, NULL: no schedule */
	char *full_sync_schedule;
	long max_delete_count;   /* -1: no limit by count */
	int max_delete_percent;  /* -1: no limit by share */
	int rate_limit_reserve;  /* percent of X-Rate-Limit-Limit kept free */
	int max_concurrency;
	enum deprovisioned_policy deprovisioned;
	long tombstone_days;     /* how long a user who left stays a tombstone */
	char *metrics_file;      /* Prometheus textfile, NULL: none */
	int events;              /* follow Okta's System Log between syncs */
	long event_interval;     /* seconds between two System Log polls */

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
	/* SSH public keys (syncd/engine/userkeys.h): the profile attribute
	 * holding them, NULL: no keys are synced; options such as from=
	 * admitted (from sshkey.h's allowlist) only with allow_options. */
	char *ssh_keys_attribute;
	int ssh_keys_allow_options;
	enum primary_group_mode primary_group;
	uint32_t primary_gid;

	/* Where the local passwd and group files are ([posix] local_passwd,
	 * local_group): /etc/passwd and /etc/group unless a test or a chroot
	 * points them elsewhere. */
	char *passwd_file;
	char *group_file;

	/* [pam]: pam_okta's policy, published in the snapshot's 'P' record
	 * (config_pam_policy); pam_okta never reads this file. */
	struct config_pam pam;

	/* [auth] */
	struct config_auth auth;

	/* [fleet] */
	struct config_fleet fleet;
};

/* One problem found in the config file. */
/* Okta's group types ([sync] group_types). */
#define GROUP_TYPE_OKTA 1u        /* OKTA_GROUP: made in Okta */
#define GROUP_TYPE_APP 2u         /* APP_GROUP: imported from an app (AD, LDAP...) */
#define GROUP_TYPE_BUILT_IN 4u    /* BUILT_IN: Everyone, the whole directory */
#define GROUP_TYPES_ALL 7u

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

/* config_load for a command: on failure, print every problem and the
 * sentence for OK_ERR_CONFIG on stderr and return NULL (the caller exits
 * with err_exit_code(OK_ERR_CONFIG)). */
struct config *config_load_or_report(const char *path, int check_files);

struct snap_policy;
/* The [pam] section as the snapshot's policy record wants it; the strings
 * point into c (valid while c lives).  Can't fail. */
void config_pam_policy(const struct config *c, struct snap_policy *p);

/*
 * Read the API token from c->token_file after checking that it is a
 * regular file owned by root (or by the running user, when not root, for
 * tests) and not readable or writable by group or others.  Returns a
 * malloc'd string with the trailing newline removed, or NULL with a
 * sentence in err.  The caller wipes it with explicit_bzero and frees it.
 */
char *config_read_token(const struct config *c, char *err, size_t errlen);

/* The same for [auth] client_secret_file; NULL with err set on a
 * problem, NULL with err "" when none is configured (a public client). */
char *config_read_client_secret(const struct config *c, char *err,
    size_t errlen);

/* The same for [fleet] credentials_file; NULL with err "" when none is
 * configured. */
char *config_read_fleet_credentials(const struct config *c, char *err,
    size_t errlen);

/* [fleet]'s state directory: CACHE_DIR/fleet (malloc'd). */
char *config_fleet_state_dir(const struct config *c);

/* The same for c->proxy_credentials_file (user:password); NULL with err
 * set on a problem, NULL with err "" when none is configured. */
char *config_read_proxy_credentials(const struct config *c, char *err,
    size_t errlen);

/*
 * The Okta filter that lists only the configured group types, e.g.
 * `type eq "OKTA_GROUP" or type eq "APP_GROUP"`; NULL when every type is
 * synced (no filter needed).  malloc'd; the caller frees it.
 */
char *config_group_type_filter(const struct config *c);

/* The Okta name of one GROUP_TYPE_* bit ("OKTA_GROUP"...), or NULL. */
const char *config_group_type_name(unsigned bit);

struct stat;
/* The check config_read_token makes of the token file, for any secret file
 * (the OAuth private key): a regular file, not a symbolic link, owned by
 * root (or the running user), no group or other access.  0, or -1 with a
 * sentence in why. */
int config_check_secret(const struct stat *sb, const char *path, char *why,
    size_t whylen);

#endif
