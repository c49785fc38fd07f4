/*
 * test_config.c - the [pam] section of okta-sync.conf (issue 14, part 5)
 * and the [auth] section (issue 11: defaults, every key, every bad value):
 * its defaults (7 days, deny), every key, every bad value reported with
 * its line, and its way into the snapshot's 'P' record and back through
 * the reader that pam_okta uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "config.h"
#include "snapshot.h"

static char dir[] = "/tmp/okta-test-config-XXXXXX";

/* Write a config with [okta] and the given [pam] body; return its path. */
static const char *
write_conf(const char *pam)
{
	static char path[PATH_MAX];
	char tok[PATH_MAX];
	FILE *f;

	snprintf(tok, sizeof(tok), "%s/token", dir);
	snprintf(path, sizeof(path), "%s/okta-sync.conf", dir);
	if ((f = fopen(path, "w")) == NULL)
		return NULL;
	fprintf(f, "[okta]\ndomain = dev-1.okta.com\ntoken_file = %s\n"
	    "[posix]\ndefault_shell = /bin/sh\nallowed_shells = /bin/sh\n"
	    "%s", tok, pam);
	fclose(f);
	return path;
}

/* Load; 1 when some problem of line `line` holds `words`. */
static int
has_problem(const struct config_problems *p, int line, const char *words)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->v[i].line == line && strstr(p->v[i].message, words))
			return 1;
	return 0;
}

TEST(defaults_are_safe)
{
	struct config_problems pr = { NULL, 0 };
	struct config *c = config_load(write_conf(""), 0, &pr);
	struct snap_policy p;

	ASSERT(c != NULL);
	ASSERT_INT_EQ(c->pam.max_cache_age, 7 * 86400);
	ASSERT_INT_EQ(c->pam.stale_allow, 0);
	ASSERT_INT_EQ(c->pam.deny_recovery, 0);
	ASSERT_INT_EQ(c->pam.deny_password_expired, 0);
	ASSERT_INT_EQ(c->pam.tombstone_ignore, 0);
	ASSERT_INT_EQ(c->pam.nallowed, 0);
	config_pam_policy(c, &p);
	ASSERT_INT_EQ(p.max_cache_age, 7 * 86400);
	ASSERT_INT_EQ(p.stale_policy, SNAP_STALE_DENY);
	ASSERT_INT_EQ(p.ngroups, 0);
	config_free(c);
	config_problems_free(&pr);
}

TEST(every_key_is_read)
{
	struct config_problems pr = { NULL, 0 };
	struct config *c = config_load(write_conf("[pam]\n"
	    "allowed_groups = eng, ops-team\n"      /* line 8 */
	    "max_cache_age = 36h\n"
	    "stale_policy = allow\n"
	    "deny_recovery = yes\n"
	    "deny_password_expired = on\n"
	    "tombstone = ignore\n"), 0, &pr);
	struct snap_policy p;

	ASSERT(c != NULL);
	ASSERT_INT_EQ(c->pam.nallowed, 2);
	ASSERT_STR_EQ(c->pam.allowed_groups[0], "eng");
	ASSERT_STR_EQ(c->pam.allowed_groups[1], "ops-team");
	ASSERT_INT_EQ(c->pam.line_allowed_groups, 8);
	ASSERT_INT_EQ(c->pam.max_cache_age, 36 * 3600);
	ASSERT_INT_EQ(c->pam.line_max_cache_age, 9);
	ASSERT_INT_EQ(c->pam.stale_allow, 1);
	ASSERT_INT_EQ(c->pam.deny_recovery, 1);
	ASSERT_INT_EQ(c->pam.deny_password_expired, 1);
	ASSERT_INT_EQ(c->pam.tombstone_ignore, 1);
	config_pam_policy(c, &p);
	ASSERT_INT_EQ(p.ngroups, 2);
	ASSERT_STR_EQ(p.groups[1], "ops-team");
	ASSERT_INT_EQ(p.stale_policy, SNAP_STALE_ALLOW);
	ASSERT_INT_EQ(p.tombstone, SNAP_TOMB_POLICY_IGNORE);
	config_free(c);
	config_problems_free(&pr);
}

TEST(no_limit_is_zero)
{
	struct config_problems pr = { NULL, 0 };
	struct config *c = config_load(write_conf("[pam]\nmax_cache_age = 0\n"),
	    0, &pr);

	ASSERT(c != NULL);
	ASSERT_INT_EQ(c->pam.max_cache_age, 0);
	config_free(c);
	config_problems_free(&pr);
}

TEST(bad_values_are_reported_with_their_line)
{
	struct config_problems pr = { NULL, 0 };
	struct config *c = config_load(write_conf("[pam]\n"
	    "allowed_groups = Eng Team, ok\n"       /* 8: not a Linux name */
	    "max_cache_age = 7 days\n"              /* 9 */
	    "stale_policy = maybe\n"                /* 10 */
	    "deny_recovery = sometimes\n"           /* 11 */
	    "deny_password_expired = 2\n"           /* 12 */
	    "tombstone = allow\n"                   /* 13 */
	    "max_cache_age = -1\n"                  /* 14: twice, and negative */
	    "colour = blue\n"), 0, &pr);            /* 15 */

	ASSERT(c == NULL);
	ASSERT(has_problem(&pr, 8, "[pam] allowed_groups: 'eng team'") ||
	    has_problem(&pr, 8, "[pam] allowed_groups: 'Eng Team'"));
	ASSERT(has_problem(&pr, 9, "[pam] max_cache_age must be"));
	ASSERT(has_problem(&pr, 10, "[pam] stale_policy must be 'deny' or 'allow'"));
	ASSERT(has_problem(&pr, 11, "[pam] deny_recovery must be yes or no"));
	ASSERT(has_problem(&pr, 12, "[pam] deny_password_expired must be yes or no"));
	ASSERT(has_problem(&pr, 13, "[pam] tombstone must be 'deny' or 'ignore'"));
	ASSERT(has_problem(&pr, 14, "set more than once"));
	ASSERT(has_problem(&pr, 14, "[pam] max_cache_age must be"));
	ASSERT(has_problem(&pr, 15, "unknown key 'colour' in [pam]"));
	config_problems_free(&pr);
}

TEST(too_many_or_no_groups)
{
	struct config_problems pr = { NULL, 0 };
	char body[2048];
	size_t len;
	int i;
	struct config *c;

	/* Short names: inih takes lines of at most 200 bytes. */
	len = (size_t)snprintf(body, sizeof(body), "[pam]\nallowed_groups = ");
	for (i = 0; i < 65; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len, i < 26 ?
		    "%c," : "%c%d,", 'a' + (i < 26 ? i : (i - 26) / 10),
		    (i - 26) % 10);
	snprintf(body + len, sizeof(body) - len, "\n");
	c = config_load(write_conf(body), 0, &pr);
	ASSERT(c == NULL);
	ASSERT(has_problem(&pr, 8, "lists 65 groups; at most 64"));
	config_problems_free(&pr);
	c = config_load(write_conf("[pam]\nallowed_groups = , ,\n"), 0, &pr);
	ASSERT(c == NULL);
	ASSERT(has_problem(&pr, 8, "allowed_groups is empty"));
	config_problems_free(&pr);
}

/* [pam] -> config -> writer -> 'P' record -> reader: what pam_okta sees. */
TEST(policy_round_trip_through_a_snapshot)
{
	struct config_problems pr = { NULL, 0 };
	struct config *c = config_load(write_conf("[pam]\n"
	    "allowed_groups = eng,ops\nmax_cache_age = 2d\n"
	    "deny_password_expired = yes\n"), 0, &pr);
	struct snap_policy in, out;
	struct snap_meta meta = { .generation = 1, .last_sync = 1000 };
	struct snap_writer *w;
	struct snap *s;
	char path[PATH_MAX], err[256], buf[SNAP_POLICY_BUF];

	ASSERT(c != NULL);
	config_pam_policy(c, &in);
	snprintf(path, sizeof(path), "%s/snapshot.cdb", dir);
	ASSERT((w = snap_writer_open(path, err, sizeof(err))) != NULL);
	ASSERT_INT_EQ(snap_writer_set_policy(w, &in), 0);
	ASSERT_INT_EQ(snap_writer_commit(w, &meta, err, sizeof(err)), 0);
	ASSERT_INT_EQ(snap_open(path, &s), 0);
	ASSERT_INT_EQ(snap_get_policy(s, &out, buf, sizeof(buf)), 1);
	ASSERT_INT_EQ(out.max_cache_age, 2 * 86400);
	ASSERT_INT_EQ(out.stale_policy, SNAP_STALE_DENY);
	ASSERT_INT_EQ(out.deny_recovery, 0);
	ASSERT_INT_EQ(out.deny_password_expired, 1);
	ASSERT_INT_EQ(out.ngroups, 2);
	ASSERT_STR_EQ(out.groups[0], "eng");
	ASSERT_STR_EQ(out.groups[1], "ops");
	/* A buffer too small is ERANGE, not a corrupt record. */
	ASSERT_INT_EQ(snap_get_policy(s, &out, buf, 5), -1);
	ASSERT_INT_EQ(errno, ERANGE);
	/* Logins are refused from the second after last_sync + 2 days. */
	ASSERT_INT_EQ(snap_policy_refuse_at(&out, 1000), 1000 + 2 * 86400 + 1);
	ASSERT_INT_EQ(snap_policy_refuse_at(&out, 0), 0);
	out.stale_policy = SNAP_STALE_ALLOW;
	ASSERT_INT_EQ(snap_policy_refuse_at(&out, 1000), -1);
	snap_close(s);
	config_free(c);
	config_problems_free(&pr);
}

/* Without snap_writer_set_policy the file still has its one 'P' record,
 * and it holds the safe defaults. */
TEST(writer_publishes_the_defaults)
{
	struct snap_meta meta = { .generation = 1 };
	struct snap_policy out;
	struct snap_writer *w;
	struct snap *s;
	char path[PATH_MAX], err[256], buf[SNAP_POLICY_BUF];

	snprintf(path, sizeof(path), "%s/defaults.cdb", dir);
	ASSERT((w = snap_writer_open(path, err, sizeof(err))) != NULL);
	ASSERT_INT_EQ(snap_writer_commit(w, &meta, err, sizeof(err)), 0);
	ASSERT_INT_EQ(snap_open(path, &s), 0);
	ASSERT_INT_EQ(snap_get_policy(s, &out, buf, sizeof(buf)), 1);
	ASSERT_INT_EQ(out.max_cache_age, SNAP_POLICY_DEFAULT_MAX_AGE);
	ASSERT_INT_EQ(out.stale_policy, SNAP_STALE_DENY);
	ASSERT_INT_EQ(out.tombstone, SNAP_TOMB_POLICY_DENY);
	ASSERT_INT_EQ(out.ngroups, 0);
	snap_close(s);
}

TEST(writer_refuses_bad_policies)
{
	struct snap_policy p;
	struct snap_writer *w;
	char path[PATH_MAX], err[256];

	snprintf(path, sizeof(path), "%s/bad.cdb", dir);
	ASSERT((w = snap_writer_open(path, err, sizeof(err))) != NULL);
	snap_policy_defaults(&p);
	p.groups[p.ngroups++] = "a:b";
	ASSERT_INT_EQ(snap_writer_set_policy(w, &p), -1);
	ASSERT(strstr(snap_writer_error(w), "allowed_groups") != NULL);
	snap_policy_defaults(&p);
	p.max_cache_age = -5;
	ASSERT_INT_EQ(snap_writer_set_policy(w, &p), -1);
	snap_policy_defaults(&p);
	p.deny_recovery = 2;
	ASSERT_INT_EQ(snap_writer_set_policy(w, &p), -1);
	snap_writer_abort(w);
}

TEST(durations)
{
	long long v;
	char b[32];

	ASSERT_INT_EQ(snap_policy_parse_duration("90", &v), 0);
	ASSERT_INT_EQ(v, 90);
	ASSERT_INT_EQ(snap_policy_parse_duration("15m", &v), 0);
	ASSERT_INT_EQ(v, 900);
	ASSERT_INT_EQ(snap_policy_parse_duration("7d", &v), 0);
	ASSERT_INT_EQ(v, 604800);
	ASSERT_INT_EQ(snap_policy_parse_duration("-1", &v), -1);
	ASSERT_INT_EQ(snap_policy_parse_duration("1w", &v), -1);
	ASSERT_INT_EQ(snap_policy_parse_duration("1dd", &v), -1);
	ASSERT_INT_EQ(snap_policy_parse_duration("", &v), -1);
	ASSERT_INT_EQ(snap_policy_parse_duration("99999999999999999999d", &v), -1);
	ASSERT_STR_EQ(snap_policy_format_duration(604800, b, sizeof(b)), "7d");
	ASSERT_STR_EQ(snap_policy_format_duration(5400, b, sizeof(b)), "90m");
	ASSERT_STR_EQ(snap_policy_format_duration(61, b, sizeof(b)), "61s");
}

/* [auth] (issue 11): the defaults config.h states, with [auth] unset. */
TEST(auth_defaults)
{
	struct config_problems pr = { NULL, 0 };
	struct config *c = config_load(write_conf(""), 0, &pr);

	ASSERT(c != NULL);
	ASSERT(c->auth.client_id == NULL);
	ASSERT(c->auth.client_secret_file == NULL);
	ASSERT(c->auth.authorization_server == NULL);
	ASSERT_INT_EQ(c->auth.mfa[0], AUTH_MFA_PUSH);
	ASSERT_INT_EQ(c->auth.mfa[1], AUTH_MFA_OTP);
	ASSERT_INT_EQ(c->auth.device_flow, 0);
	ASSERT_STR_EQ(c->auth.socket_path, "/run/okta-sync/auth.sock");
	ASSERT_INT_EQ(c->auth.failed_login_attempts, 5);
	ASSERT_INT_EQ(c->auth.failed_login_delay, 60);
	ASSERT_INT_EQ(c->auth.offline_credentials, 0);
	ASSERT_INT_EQ(c->auth.offline_expiration, 7 * 86400);
	ASSERT_INT_EQ(c->auth.offline_failed_login_attempts, 3);
	ASSERT_INT_EQ(c->auth.offline_failed_login_delay, 300);
	ASSERT(c->auth.offline_deny_groups == NULL);
	config_free(c);
	config_problems_free(&pr);
}

TEST(auth_every_key_is_read)
{
	struct config_problems pr = { NULL, 0 };
	struct config *c = config_load(write_conf("[auth]\n"
	    "client_id = 0oa1b2c3d4\n"
	    "client_secret_file = /etc/okta-sync/client_secret\n"
	    "authorization_server = aus9x8y7\n"
	    "mfa = otp\n"
	    "device_flow = yes\n"
	    "socket = /tmp/okta-test.sock\n"
	    "failed_login_attempts = 7\n"
	    "failed_login_delay = 2m\n"
	    "offline_credentials = yes\n"
	    "offline_credentials_expiration = 3d\n"
	    "offline_failed_login_attempts = 4\n"
	    "offline_failed_login_delay = 90\n"
	    "offline_deny_groups = admins, ops\n"), 0, &pr);

	ASSERT(c != NULL);
	ASSERT_STR_EQ(c->auth.client_id, "0oa1b2c3d4");
	ASSERT_STR_EQ(c->auth.client_secret_file, "/etc/okta-sync/client_secret");
	ASSERT_STR_EQ(c->auth.authorization_server, "aus9x8y7");
	ASSERT_INT_EQ(c->auth.mfa[0], AUTH_MFA_OTP);
	ASSERT_INT_EQ(c->auth.mfa[1], 0);
	ASSERT_INT_EQ(c->auth.device_flow, 1);
	ASSERT_STR_EQ(c->auth.socket_path, "/tmp/okta-test.sock");
	ASSERT_INT_EQ(c->auth.failed_login_attempts, 7);
	ASSERT_INT_EQ(c->auth.failed_login_delay, 120);
	ASSERT_INT_EQ(c->auth.offline_credentials, 1);
	ASSERT_INT_EQ(c->auth.offline_expiration, 3 * 86400);
	ASSERT_INT_EQ(c->auth.offline_failed_login_attempts, 4);
	ASSERT_INT_EQ(c->auth.offline_failed_login_delay, 90);
	ASSERT_INT_EQ(c->auth.noffline_deny, 2);
	ASSERT_STR_EQ(c->auth.offline_deny_groups[1], "ops");
	config_free(c);
	config_problems_free(&pr);
}

TEST(auth_push_then_otp_in_the_order_written)
{
	struct config_problems pr = { NULL, 0 };
	struct config *c = config_load(write_conf("[auth]\n"
	    "client_id = 0oa1\nmfa = OTP, push\n"), 0, &pr);

	ASSERT(c != NULL);
	ASSERT_INT_EQ(c->auth.mfa[0], AUTH_MFA_OTP);
	ASSERT_INT_EQ(c->auth.mfa[1], AUTH_MFA_PUSH);
	config_free(c);
	config_problems_free(&pr);
}

TEST(auth_bad_values_are_reported_with_their_line)
{
	struct config_problems pr = { NULL, 0 };
	struct config *c = config_load(write_conf("[auth]\n"
	    "client_id = 0oa 1\n"                    /* 8 */
	    "client_secret_file = secret\n"          /* 9 */
	    "authorization_server = aus/../x\n"      /* 10 */
	    "mfa = push, sms\n"                      /* 11 */
	    "device_flow = perhaps\n"                /* 12 */
	    "socket = run/auth.sock\n"               /* 13 */
	    "failed_login_attempts = 0\n"            /* 14 */
	    "failed_login_delay = soon\n"            /* 15 */
	    "offline_credentials = 2\n"              /* 16 */
	    "offline_credentials_expiration = 7 d\n" /* 17 */
	    "offline_failed_login_attempts = -1\n"   /* 18 */
	    "offline_failed_login_delay = 0\n"       /* 19 */
	    "offline_deny_groups = Bad Group\n"      /* 20 */
	    "colour = blue\n"), 0, &pr);             /* 21 */

	ASSERT(c == NULL);
	ASSERT(has_problem(&pr, 8, "[auth] client_id: '0oa 1'"));
	ASSERT(has_problem(&pr, 9, "[auth] client_secret_file must be an absolute path"));
	ASSERT(has_problem(&pr, 10, "[auth] authorization_server: 'aus/../x'"));
	ASSERT(has_problem(&pr, 11, "[auth] mfa: unknown factor \"sms\""));
	ASSERT(has_problem(&pr, 12, "[auth] device_flow must be yes or no"));
	ASSERT(has_problem(&pr, 13, "[auth] socket must be an absolute path"));
	ASSERT(has_problem(&pr, 14, "[auth] failed_login_attempts must be"));
	ASSERT(has_problem(&pr, 15, "[auth] failed_login_delay must be a duration"));
	ASSERT(has_problem(&pr, 16, "[auth] offline_credentials must be yes or no"));
	ASSERT(has_problem(&pr, 17, "[auth] offline_credentials_expiration must be"));
	ASSERT(has_problem(&pr, 18, "[auth] offline_failed_login_attempts must be"));
	ASSERT(has_problem(&pr, 19, "[auth] offline_failed_login_delay must be"));
	ASSERT(has_problem(&pr, 20, "[auth] offline_deny_groups: 'Bad Group'"));
	ASSERT(has_problem(&pr, 21, "unknown key 'colour' in [auth]"));
	config_problems_free(&pr);
}

TEST(auth_without_client_id_and_twice_named_factor)
{
	struct config_problems pr = { NULL, 0 };
	struct config *c = config_load(write_conf("[auth]\n"
	    "offline_credentials = yes\n"            /* 8 */
	    "mfa = push, push\n"), 0, &pr);          /* 9 */

	ASSERT(c == NULL);
	ASSERT(has_problem(&pr, 8, "[auth] has no client_id"));
	ASSERT(has_problem(&pr, 9, "[auth] mfa names push twice"));
	config_problems_free(&pr);
}

/* The client secret file is checked like the token file: a file readable
 * by others is refused, by check-config and by config_read_client_secret. */
TEST(auth_client_secret_file_is_root_only)
{
	struct config_problems pr = { NULL, 0 };
	char sec[PATH_MAX], body[PATH_MAX + 64], err[512], *v;
	struct config *c;
	FILE *f;

	snprintf(sec, sizeof(sec), "%s/client_secret", dir);
	ASSERT((f = fopen(sec, "w")) != NULL);
	fputs("s3cr3t-value\n", f);
	fclose(f);
	ASSERT(chmod(sec, 0644) == 0);
	snprintf(body, sizeof(body), "[auth]\nclient_id = 0oa1\n"
	    "client_secret_file = %s\n", sec);
	c = config_load(write_conf(body), 1, &pr);
	ASSERT(c == NULL);
	ASSERT(has_problem(&pr, 0, "[auth] client_secret_file:"));
	ASSERT(has_problem(&pr, 0, "chmod 600"));
	config_problems_free(&pr);
	c = config_load(write_conf(body), 0, &pr);
	ASSERT(c != NULL);
	ASSERT(config_read_client_secret(c, err, sizeof(err)) == NULL);
	ASSERT(strstr(err, "chmod 600") != NULL);
	ASSERT(chmod(sec, 0600) == 0);
	v = config_read_client_secret(c, err, sizeof(err));
	ASSERT(v != NULL);
	ASSERT_STR_EQ(v, "s3cr3t-value");
	free(v);
	config_free(c);
	config_problems_free(&pr);
}

int
main(void)
{
	char tok[PATH_MAX];
	FILE *f;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(tok, sizeof(tok), "%s/token", dir);
	if ((f = fopen(tok, "w")) == NULL)
		return 1;
	fputs("00token\n", f);
	fclose(f);
	RUN(defaults_are_safe);
	RUN(every_key_is_read);
	RUN(no_limit_is_zero);
	RUN(bad_values_are_reported_with_their_line);
	RUN(too_many_or_no_groups);
	RUN(policy_round_trip_through_a_snapshot);
	RUN(writer_publishes_the_defaults);
	RUN(writer_refuses_bad_policies);
	RUN(durations);
	RUN(auth_defaults);
	RUN(auth_every_key_is_read);
	RUN(auth_push_then_otp_in_the_order_written);
	RUN(auth_bad_values_are_reported_with_their_line);
	RUN(auth_without_client_id_and_twice_named_factor);
	RUN(auth_client_secret_file_is_root_only);
	test_rmtree(dir);
	return test_done();
}
