/*
 * cmd_test.c - `okta-sync test`: the connection test an admin runs after
 * writing the config, one line per check, in the order a request needs
 * them: DNS, TCP, TLS, the token, then each endpoint the sync uses (list
 * users, list groups, list a group's members), and finally how much of the
 * rate limit is left.
 *
 * A failed check says what to do about it, in words (never a curl error
 * number), and the checks that depend on it are shown as skipped.  Exit 0
 * only when every check passed; 1 when one failed; 78 (EX_CONFIG) when the
 * config or the token file cannot be used.  The token is never printed.
 *
 * With auth = oauth the token check is preceded by the OAuth ones: the key
 * file loads (before anything is sent), the token endpoint accepts the
 * client assertion (or Okta's error with a hint), the scopes Okta granted,
 * and whether the app requires DPoP.  No assertion, proof or access token
 * is printed.
 *
 * With [auth] client_id (logins through okta-syncd, issue 11), a last
 * "auth" line: the keys endpoint answers and Okta accepts the client_id
 * for the password grant (a request that names no user).
 *
 * On a fleet subscriber ([fleet] role = subscriber, issue 12), which never
 * talks to Okta, the checks are its source's instead: the manifest is
 * served, its signature verifies with a configured public_key, and it is
 * younger than max_age.
 */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "error.h"
#include "fleet_run.h"
#include "oauth.h"
#include "okta.h"
#include "okta_auth.h"
#include "paths.h"

/* Status words, padded to one width by line(). */
#define ST_OK "ok"
#define ST_FAIL "FAIL"
#define ST_SKIP "skip"

static void line(const char *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Print one check's line: "  ok    DNS          detail". */
static void
line(const char *status, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("  %-6s%-12s ", status, name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* What the first group of a listing is called and its id. */
struct first_group {
	char id[65];
	char name[80];
	int seen;
};

/* Keep the first group with a usable id; printable text only. */
static int
take_first_group(void *ctx, json_object *item)
{
	struct first_group *g = ctx;
	json_object *id, *profile, *name;
	const char *s;

	if (g->seen || !json_object_is_type(item, json_type_object))
		return 0;
	if (!json_object_object_get_ex(item, "id", &id) ||
	    !json_object_is_type(id, json_type_string) ||
	    !okta_valid_id(json_object_get_string(id)))
		return 0;
	snprintf(g->id, sizeof(g->id), "%s", json_object_get_string(id));
	g->name[0] = '\0';
	if (json_object_object_get_ex(item, "profile", &profile) &&
	    json_object_object_get_ex(profile, "name", &name) &&
	    json_object_is_type(name, json_type_string) &&
	    (s = json_object_get_string(name)) != NULL)
		okta_sanitize(g->name, sizeof(g->name), s, strlen(s));
	g->seen = 1;
	return 0;
}

/*
 * The hint for a failed request, in the words an admin can act on.  The
 * detail from Okta (the errorCode) leads, so that a support ticket can
 * quote it.
 */
static void
request_failed(const char *name, struct okta_client *oc, okerr rc)
{
	const char *code = okta_last_error_code(oc);
	long status = okta_last_http_status(oc);
	char head[64];

	if (status > 0)
		snprintf(head, sizeof(head), "%ld%s%s: ", status, code[0] ? " " : "", code);
	else
		head[0] = '\0';
	switch (rc) {
	case OK_ERR_AUTH:
		line(ST_FAIL, name, "%sthe token is invalid, expired (unused for 30 days) "
		    "or revoked; create a new one in Okta (Security > API > Tokens)", head);
		break;
	case OK_ERR_FORBIDDEN:
		line(ST_FAIL, name, "%sthe token's administrator lacks read rights on "
		    "users and groups; the token needs an administrator with at least "
		    "a read-only administrator role", head);
		break;
	case OK_ERR_NOT_FOUND:
		line(ST_FAIL, name, "%sOkta does not know this endpoint; check that "
		    "[okta] domain is your Okta organisation (like dev-123.okta.com)", head);
		break;
	case OK_ERR_RATE_LIMIT:
		line(ST_FAIL, name, "%s; Okta's rate limit is used up and did not reset "
		    "in time: try again in a minute", okta_last_error(oc));
		break;
	case OK_ERR_SERVER:
		line(ST_FAIL, name, "%s; Okta kept answering with server errors: try "
		    "again later, and see status.okta.com", okta_last_error(oc));
		break;
	case OK_ERR_TIMEOUT:
		line(ST_FAIL, name, "%s; check the network, or raise [okta] timeout",
		    okta_last_error(oc));
		break;
	case OK_ERR_PROTOCOL:
		line(ST_FAIL, name, "%s; that is not how Okta answers: check that "
		    "[okta] domain is your Okta organisation and that no proxy "
		    "changes the answers", okta_last_error(oc));
		break;
	default:
		line(ST_FAIL, name, "%s; %s", okta_last_error(oc), err_sentence(rc));
		break;
	}
}

/* Every check after `from` (a name in names) is shown as skipped. */
static void
skip_rest(const char *const *names, const char *from, size_t n, const char *why)
{
	size_t i;

	for (i = 0; i < n && strcmp(names[i], from) != 0; i++)
		;
	for (; i < n; i++)
		line(ST_SKIP, names[i], "skipped (%s)", why);
}

/* The hint for a refusal by the token endpoint, by Okta's OAuth error. */
static const char *
grant_hint(const char *error)
{
	if (strcmp(error, "invalid_client") == 0)
		return "check [okta] client_id, and that the app's public key in Okta "
		    "is the one of [okta] private_key_file";
	if (strcmp(error, "invalid_scope") == 0 || strcmp(error, "access_denied") == 0)
		return "grant the scopes to the app (Applications > the app > Okta "
		    "API Scopes)";
	return "see okta-sync.conf(5), [okta] auth = oauth";
}

/* The OAuth checks between TLS and the token check; 0 when all passed. */
static int
oauth_checks(struct okta_client *oc, struct oauth *oa, const char *const *names,
    size_t nnames)
{
	const char *missing;
	okerr rc;

	rc = oauth_request_token(oa, oc);
	if (rc != OK_SUCCESS) {
		if (oauth_error(oa)[0] != '\0')
			line(ST_FAIL, "assertion", "refused by Okta: %s; %s",
			    okta_last_error(oc), grant_hint(oauth_error(oa)));
		else
			line(ST_FAIL, "assertion", "%s; %s", okta_last_error(oc),
			    err_sentence(rc));
		skip_rest(names, "scopes", nnames, "no access token");
		return 1;
	}
	line(ST_OK, "assertion", "accepted by Okta: an access token was issued");
	missing = oauth_missing_scope(oa);
	if (missing != NULL) {
		line(ST_FAIL, "scopes", "granted \"%s\" but not %s; grant it to the "
		    "app in Okta (Applications > the app > Okta API Scopes)",
		    oauth_granted_scopes(oa), missing);
		skip_rest(names, "DPoP", nnames, "a scope is missing");
		return 1;
	}
	line(ST_OK, "scopes", "granted: %s", oauth_granted_scopes(oa));
	line(ST_OK, "DPoP", oauth_dpop_required(oa) ? "required by the app: every "
	    "request carries a proof of this process's key" : "not required by "
	    "the app: a Bearer token");
	return 0;
}

/* What every check needs: the client, the config, and the names of all
 * checks (to show those after a failure as skipped). */
struct checks {
	struct okta_client *oc;
	const struct config *c;
	struct oauth *oa;               /* auth = oauth, else NULL */
	const char *const *names;
	size_t nnames;
};

/* A failed request: its hint, and every check from `next` on skipped.
 * Returns 1, the value of a failed check. */
static int
request_failed_skip(const struct checks *k, const char *name, okerr rc,
    const char *next, const char *why)
{
	request_failed(name, k->oc, rc);
	skip_rest(k->names, next, k->nnames, why);
	return 1;
}

/* The domain (or the proxy) resolves; 0, or 1 when it failed. */
static int
check_dns(const struct checks *k)
{
	okerr rc = okta_check_dns(k->oc);

	if (rc != OK_SUCCESS && k->c->proxy != NULL) {
		line(ST_FAIL, "DNS", "%s; check [okta] proxy (it is \"%s\")",
		    okta_last_error(k->oc), k->c->proxy);
		skip_rest(k->names, "TCP", k->nnames, "the proxy does not resolve");
		return 1;
	}
	if (rc != OK_SUCCESS) {
		line(ST_FAIL, "DNS", "%s; check [okta] domain for a misspelling: it "
		    "should look like dev-123.okta.com (it is \"%s\")",
		    okta_last_error(k->oc), k->c->domain);
		skip_rest(k->names, "TCP", k->nnames, "the domain does not resolve");
		return 1;
	}
	line(ST_OK, "DNS", "%s", okta_check_detail(k->oc));
	return 0;
}

/* A TCP connection to Okta (or the proxy); 0, or 1 when it failed. */
static int
check_tcp(const struct checks *k)
{
	okerr rc = okta_check_tcp(k->oc);

	if (rc != OK_SUCCESS && k->c->proxy != NULL) {
		line(ST_FAIL, "TCP", "the proxy %s is unreachable (%s); check that it "
		    "runs and [okta] proxy", k->c->proxy, okta_last_error(k->oc));
		skip_rest(k->names, "TLS", k->nnames, "no connection to the proxy");
		return 1;
	}
	if (rc != OK_SUCCESS) {
		line(ST_FAIL, "TCP", "cannot connect to %s (%s); check the network, "
		    "firewall and proxy, and the port in [okta] domain", k->c->domain,
		    okta_last_error(k->oc));
		skip_rest(k->names, "TLS", k->nnames, "no connection");
		return 1;
	}
	line(ST_OK, "TCP", "%s", okta_check_detail(k->oc));
	return 0;
}

/* A verified TLS connection; 0, or 1 when it failed. */
static int
check_tls(const struct checks *k)
{
	okerr rc = okta_check_tls(k->oc);

	if (rc != OK_SUCCESS) {
		if (k->c->ca_file != NULL)
			line(ST_FAIL, "TLS", "%s; the server's certificate is not trusted "
			    "by [okta] ca_file (%s): check that it holds the CA that "
			    "signed it", okta_last_error(k->oc), k->c->ca_file);
		else
			line(ST_FAIL, "TLS", "%s; the server's certificate is not trusted "
			    "by the system CA store: update it (ca-certificates) or name "
			    "the right CA in [okta] ca_file", okta_last_error(k->oc));
		skip_rest(k->names, k->oa != NULL ? "assertion" : "token", k->nnames,
		    "no verified TLS connection");
		return 1;
	}
	line(ST_OK, "TLS", "%s", okta_check_detail(k->oc));
	return 0;
}

/* The token, and listing the first page of users; 0, or 1 when failed. */
static int
check_users(const struct checks *k)
{
	unsigned long count;
	int more;
	okerr rc;

	rc = okta_get_page(k->oc, "/api/v1/users?limit=1", NULL, NULL, NULL, NULL);
	if (rc != OK_SUCCESS)
		return request_failed_skip(k, "token", rc, "list users",
		    "the token check failed");
	line(ST_OK, "token", "accepted by Okta");

	rc = okta_get_page(k->oc, "/api/v1/users?limit=200", NULL, NULL, &count,
	    &more);
	if (rc != OK_SUCCESS)
		return request_failed_skip(k, "list users", rc, "list groups",
		    "listing users failed");
	if (count == 0)
		line(ST_OK, "list users", "works, but no user is visible to this token "
		    "(a group-scoped administrator sees only its groups' users)");
	else
		line(ST_OK, "list users", "works: %lu user%s on the first page%s", count,
		    count == 1 ? "" : "s", more ? ", more pages follow" : "");
	return 0;
}

/* Listing groups, then the members of the first one (when there is one,
 * else that check is skipped); 0, or 1 when failed. */
static int
check_groups(const struct checks *k)
{
	struct first_group g;
	unsigned long count;
	char path[128];
	okerr rc;

	memset(&g, 0, sizeof(g));
	rc = okta_get_page(k->oc, "/api/v1/groups?limit=1", take_first_group, &g,
	    &count, NULL);
	if (rc != OK_SUCCESS)
		return request_failed_skip(k, "list groups", rc, "list members",
		    "listing groups failed");
	if (!g.seen)
		line(ST_OK, "list groups", "works, but no group is visible to this token");
	else
		line(ST_OK, "list groups", "works (the first group is \"%s\")", g.name);

	if (!g.seen) {
		line(ST_SKIP, "list members", "no group is visible, so no members "
		    "could be listed");
		return 0;
	}
	snprintf(path, sizeof(path), "/api/v1/groups/%s/users?limit=1", g.id);
	rc = okta_get_page(k->oc, path, NULL, NULL, &count, NULL);
	if (rc != OK_SUCCESS)
		return request_failed_skip(k, "list members", rc, "rate limit",
		    "listing members failed");
	line(ST_OK, "list members", "works (members of \"%s\")", g.name);
	return 0;
}

/* How much of the rate limit the last request left; never fails. */
static void
show_rate_limit(struct okta_client *oc)
{
	const struct okta_rate *rate = okta_rate(oc);

	if (rate->limit < 0 || rate->remaining < 0)
		line(ST_OK, "rate limit", "Okta did not say (no X-Rate-Limit headers)");
	else if (rate->reset_in >= 0)
		line(ST_OK, "rate limit", "%ld of %ld requests left in this window "
		    "(resets in %ld s)", rate->remaining, rate->limit, rate->reset_in);
	else
		line(ST_OK, "rate limit", "%ld of %ld requests left in this window",
		    rate->remaining, rate->limit);
}

/*
 * The System Log, which okta-syncd follows between syncs ([sync] events):
 * one event, newest first.  0, or 1 when it failed.  The rate-limit line
 * comes before it, as the log has a bucket of its own.
 */
static int
check_system_log(const struct checks *k)
{
	const char *how;
	okerr rc;

	if (!k->c->events) {
		line(ST_SKIP, "system log", "not used ([sync] events = no)");
		return 0;
	}
	rc = okta_get_page(k->oc, "/api/v1/logs?limit=1&sortOrder=DESCENDING",
	    NULL, NULL, NULL, NULL);
	if (rc == OK_ERR_FORBIDDEN) {
		how = k->oa != NULL ? "add okta.logs.read to [okta] scopes and "
		    "grant it to the app in Okta (Applications > the app > Okta API "
		    "Scopes)" : "the token's administrator needs a role that may "
		    "read the System Log (read-only administrator or above)";
		line(ST_FAIL, "system log", "%ld %s: this host may not read Okta's "
		    "System Log, so okta-syncd can only revoke access at scheduled "
		    "syncs; %s, or set [sync] events = no",
		    okta_last_http_status(k->oc), okta_last_error_code(k->oc), how);
		return 1;
	}
	if (rc != OK_SUCCESS) {
		request_failed("system log", k->oc, rc);
		return 1;
	}
	line(ST_OK, "system log", "readable: okta-syncd follows it between "
	    "syncs ([sync] events, every %ld s)", k->c->event_interval);
	return 0;
}

/* [auth]: the keys endpoint and the client_id, through the client
 * okta-syncd's logins use.  0, or 1 when it failed. */
static int
check_auth(const struct config *c)
{
	struct okta_auth *a;
	char msg[512];
	int nkeys, rc;

	if (c->auth.client_id == NULL)
		return 0;
	if ((a = okta_auth_new(c, msg, sizeof(msg))) == NULL) {
		line(ST_FAIL, "auth", "%s", msg);
		return 1;
	}
	rc = okta_auth_check(a, &nkeys, msg, sizeof(msg));
	line(rc == 0 ? ST_OK : ST_FAIL, "auth", "%s", msg);
	okta_auth_free(a);
	return rc;
}

/* Runs the checks; returns the exit code.  oa: auth = oauth, else NULL. */
static int
run_checks(struct okta_client *oc, const struct config *c, struct oauth *oa)
{
	static const char *const ssws_names[] = {
		"DNS", "TCP", "TLS", "token", "list users", "list groups",
		"list members", "rate limit", "system log",
	};
	static const char *const oauth_names[] = {
		"key file", "DNS", "TCP", "TLS", "assertion", "scopes", "DPoP",
		"token", "list users", "list groups", "list members", "rate limit",
		"system log",
	};
	struct checks k;

	k.oc = oc;
	k.c = c;
	k.oa = oa;
	k.names = oa != NULL ? oauth_names : ssws_names;
	k.nnames = oa != NULL ? sizeof(oauth_names) / sizeof(oauth_names[0]) :
	    sizeof(ssws_names) / sizeof(ssws_names[0]);
	if (check_dns(&k) != 0 || check_tcp(&k) != 0 || check_tls(&k) != 0)
		return 1;
	if (oa != NULL && oauth_checks(oc, oa, k.names, k.nnames) != 0)
		return 1;
	if (check_users(&k) != 0 || check_groups(&k) != 0)
		return 1;
	show_rate_limit(oc);
	if (check_system_log(&k) != 0)
		return 1;
	return check_auth(c);
}

/* A fleet subscriber's checks: its source, not Okta. */
static int
subscriber_checks(const struct config *c)
{
	static const char *const names[] = { "source", "signature", "manifest" };
	struct fleet_probe pr;
	char b1[64];

	printf("Testing the fleet source %s:\n", c->fleet.source);
	if (fleet_run_probe(c, &pr) != 0 || pr.fetched < 0) {
		line(ST_FAIL, "source", "%s", pr.err);
		skip_rest(names, "signature", 3, "no manifest");
		return 1;
	}
	line(ST_OK, "source", "manifest served (HTTP %ld, %zu bytes)", pr.status,
	    pr.bytes);
	if (pr.verified < 0) {
		line(ST_FAIL, "signature", "%s", pr.err);
		skip_rest(names, "manifest", 3, "not trusted");
		return 1;
	}
	line(ST_OK, "signature", "verifies with public_key %zu of %zu", pr.key + 1,
	    c->fleet.npublic_keys);
	if (pr.parsed < 0) {
		line(ST_FAIL, "manifest", "%s", pr.err);
		return 1;
	}
	snprintf(b1, sizeof(b1), "%lld s", pr.age);
	if (pr.age > c->fleet.max_age) {
		line(ST_FAIL, "manifest", "generation %llu, signed %s ago: older "
		    "than max_age (%lld s); is the publisher syncing?",
		    (unsigned long long)pr.generation, b1, c->fleet.max_age);
		return 1;
	}
	line(ST_OK, "manifest", "generation %llu, signed %s ago (max_age %lld s)",
	    (unsigned long long)pr.generation, b1, c->fleet.max_age);
	return 0;
}

static void
usage(void)
{
	printf("usage: okta-sync [-c FILE] test\n\n"
	    "Check, one step at a time, that this host can reach Okta and that\n"
	    "the API token may read everything a sync needs: DNS, TCP, TLS,\n"
	    "the token, listing users, groups and group members; then show how\n"
	    "much of the rate limit is left, and that the System Log can be read\n"
	    "(with [sync] events = yes).  With [okta] auth = oauth, also\n"
	    "that the key file loads, Okta accepts the client assertion, the\n"
	    "scopes it grants and whether the app requires DPoP.  With [auth]\n"
	    "client_id, also that Okta's keys endpoint answers and the token\n"
	    "endpoint accepts the client_id for the password grant.  Exit 0\n"
	    "when every check passes.\n");
}

/*
 * The credentials: with auth = oauth the key (its load is the first
 * check, so the heading comes first), else the API token.  0, or the
 * exit code (said on stderr).
 */
static int
load_credentials(const struct config *c, struct oauth **oa, char **token)
{
	char err[512];

	if (c->auth_oauth) {
		printf("Testing the connection to %s:\n", c->domain);
		*oa = oauth_new(c, err, sizeof(err));
		if (*oa == NULL) {
			line(ST_FAIL, "key file", "%s", err);
			fprintf(stderr, "okta-sync: %s\n", err);
			return err_exit_code(OK_ERR_TOKEN_FILE);
		}
		line(ST_OK, "key file", "%s loads (%s)", c->private_key_file,
		    oauth_key_description(*oa));
		return 0;
	}
	*token = config_read_token(c, err, sizeof(err));
	if (*token == NULL) {
		fprintf(stderr, "okta-sync: %s\n", err);
		return err_exit_code(OK_ERR_TOKEN_FILE);
	}
	return 0;
}

int
cmd_test(int argc, char **argv, const char *config_path)
{
	struct config_problems problems = { NULL, 0 };
	const char *path = config_path != NULL ? config_path : OKTA_CONFIG_PATH;
	struct okta_client *oc = NULL;
	struct config *c = NULL;
	struct oauth *oa = NULL;     /* auth = oauth; then owned by oc */
	char *token = NULL, err[512];
	int rc;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage();
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "okta-sync: test takes no arguments\n");
		return 2;
	}
	c = config_load(path, 1, &problems);
	if (c == NULL) {
		config_print_problems(stderr, path, &problems);
		fprintf(stderr, "okta-sync: fix the configuration first "
		    "(okta-sync check-config lists every problem)\n");
		rc = err_exit_code(OK_ERR_CONFIG);
		goto out;
	}
	if (c->fleet.role == FLEET_SUBSCRIBER) {
		rc = subscriber_checks(c);
		printf(rc == 0 ? "All checks passed.\n" : "Some checks failed.\n");
		goto out;
	}
	if ((rc = load_credentials(c, &oa, &token)) != 0)
		goto out;
	oc = okta_client_new(c, token);
	if (oc == NULL) {
		fprintf(stderr, "okta-sync: cannot initialise libcurl\n");
		rc = err_exit_code(OK_ERR_INTERNAL);
		goto out;
	}
	if (okta_client_set_proxy(oc, c, err, sizeof(err)) != 0) {
		fprintf(stderr, "okta-sync: %s\n", err);
		rc = err_exit_code(OK_ERR_CONFIG);
		goto out;
	}
	if (oa != NULL)
		oauth_attach(oa, oc);
	else
		printf("Testing the connection to %s:\n", c->domain);
	fflush(stdout);
	rc = run_checks(oc, c, oa);
	oa = NULL;
	printf(rc == 0 ? "All checks passed.\n" : "Some checks failed.\n");
out:
	okta_client_free(oc);
	oauth_free(oa);
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	config_free(c);
	config_problems_free(&problems);
	return rc;
}
