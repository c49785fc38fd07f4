/*
 * config.c - load and check /etc/okta-sync/okta-sync.conf (see config.h).
 *
 * The file is read with inih through a line-counting reader, so that every
 * problem is reported with its line number and none stops the parse: an
 * admin running `okta-sync check-config` sees all of them at once.  Lines
 * inih would reject (no '=' and no section header) and over-long lines are
 * caught by the reader itself for the same reason.
 *
 * Values are checked here for form (a domain without a scheme, numbers in
 * range, a home template with %u); what depends on Okta's data (names, IDs)
 * is checked at mapping time.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "cron.h"
#include "names.h"
#include "paths.h"
#include "snapshot.h"
#include "xmalloc.h"

#define CONFIG_MAX_LINE 4096
#define TOKEN_MAX 4096

/* Defaults; see okta-sync.conf(5) for why the ID range sits where it does. */
#define DEFAULT_ID_MIN 2000000000u
#define DEFAULT_ID_MAX 2099999999u

struct parse_state {
	struct config *c;
	struct config_problems *problems;
	FILE *f;
	int line;
	char pending[CONFIG_MAX_LINE];
	/* Which keys were seen, to report duplicates. */
	char **seen;
	size_t nseen;
	int auth_seen;           /* the first line of an [auth] key, 0: none */
};

static void problem(struct config_problems *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
problem(struct config_problems *p, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = xstrdup("out of memory");
	va_end(ap);
	p->v = xreallocarray(p->v, p->n + 1, sizeof(*p->v));
	p->v[p->n].line = line;
	p->v[p->n].message = msg;
	p->n++;
}

void
config_problems_free(struct config_problems *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		free(p->v[i].message);
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

static void
free_strv(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->domain);
	free(c->token_file);
	free(c->proxy);
	free(c->no_proxy);
	free(c->proxy_credentials_file);
	free(c->ca_file);
	free(c->client_id);
	free(c->private_key_file);
	free(c->key_id);
	free(c->scopes);
	free(c->cache_dir);
	free_strv(c->groups);
	free(c->schedule);
	free(c->full_sync_schedule);
	free(c->metrics_file);
	free(c->home);
	free(c->default_shell);
	free_strv(c->allowed_shells);
	free(c->strip_domain);
	free(c->username_attribute);
	free(c->uid_attribute);
	free(c->gid_attribute);
	free(c->shell_attribute);
	free(c->ssh_keys_attribute);
	free(c->passwd_file);
	free(c->group_file);
	free_strv(c->pam.allowed_groups);
	free(c->auth.client_id);
	free(c->auth.client_secret_file);
	free(c->fleet.destination);
	free(c->fleet.s3_endpoint);
	free(c->fleet.s3_region);
	free(c->fleet.credentials_file);
	free(c->fleet.signing_key);
	free(c->fleet.source);
	free(c->fleet.ca_file);
	free_strv(c->fleet.public_keys);
	free(c->auth.authorization_server);
	free(c->auth.socket_path);
	free_strv(c->auth.offline_deny_groups);
	free(c);
}

/* Replace *dst with a copy of src. */
static void
set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = xstrdup(src);
}

/* Split a comma-separated list, trimming blanks; empty items are dropped. */
static char **
split_list(const char *s, size_t *np)
{
	char **v = NULL;
	size_t n = 0;
	const char *p = s, *end, *a, *b;

	for (;;) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		for (a = p; a < end && isspace((unsigned char)*a); a++)
			;
		for (b = end; b > a && isspace((unsigned char)b[-1]); b--)
			;
		if (b > a) {
			v = xreallocarray(v, n + 2, sizeof(*v));
			v[n++] = xstrndup(a, (size_t)(b - a));
			v[n] = NULL;
		}
		if (*end == '\0')
			break;
		p = end + 1;
	}
	if (v == NULL)
		v = xcalloc(1, sizeof(*v));
	if (np != NULL)
		*np = n;
	return v;
}

static int
parse_bool(const char *v, int *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") ||
	    !strcasecmp(v, "on")) {
		*out = 1;
		return 0;
	}
	if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") ||
	    !strcasecmp(v, "off")) {
		*out = 0;
		return 0;
	}
	return -1;
}

/* A decimal number in [min, max]; no sign, no trailing junk. */
static int
parse_ulong(const char *v, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long n;

	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

/* "20%" or "20" -> 20, within 0..100. */
static int
parse_percent(const char *v, int *out)
{
	char buf[16];
	size_t len = strlen(v);
	unsigned long n;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, v, len + 1);
	if (buf[len - 1] == '%')
		buf[len - 1] = '\0';
	if (parse_ulong(buf, 0, 100, &n) != 0)
		return -1;
	*out = (int)n;
	return 0;
}

/*
 * A host name (RFC 1123 labels) or IPv4 address, or [IPv6], optionally with
 * :port.  On error, writes a sentence that says what to write instead.
 */
static int
check_domain(const char *d, char *why, size_t whylen)
{
	const char *p, *host_end, *slash;
	size_t label = 0;

	if (strstr(d, "://") != NULL) {
		p = strstr(d, "://") + 3;
		slash = strchr(p, '/');
		snprintf(why, whylen, "domain must not have a scheme: write '%.*s' instead of '%s'",
		    (int)(slash ? (size_t)(slash - p) : strlen(p)), p, d);
		return -1;
	}
	slash = strchr(d, '/');
	if (slash != NULL) {
		snprintf(why, whylen, "domain must not have a path: write '%.*s' instead of '%s'",
		    (int)(slash - d), d, d);
		return -1;
	}
	if (d[0] == '[') {
		host_end = strchr(d, ']');
		if (host_end == NULL || host_end == d + 1)
			goto bad;
		for (p = d + 1; p < host_end; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
				goto bad;
		host_end++;
	} else {
		for (p = d; *p != '\0' && *p != ':'; p++) {
			if (*p == '.') {
				if (label == 0)
					goto bad;
				label = 0;
			} else if (isalnum((unsigned char)*p) || *p == '-') {
				if (++label > 63)
					goto bad;
			} else
				goto bad;
		}
		if (p == d || label == 0)
			goto bad;
		host_end = p;
	}
	if (*host_end == ':') {
		unsigned long port;

		if (parse_ulong(host_end + 1, 1, 65535, &port) != 0) {
			snprintf(why, whylen, "domain '%s' has an invalid port; write host or host:port (1-65535)", d);
			return -1;
		}
	} else if (*host_end != '\0')
		goto bad;
	return 0;
bad:
	snprintf(why, whylen, "domain '%s' is not a valid host name; write it like 'dev-123456.okta.com' (no https://, no path)", d);
	return -1;
}

/*
 * The Admin Console's host (dev-123-admin.okta.com) is not an API host:
 * its next links point at the org's own host, which the client refuses to
 * follow, and Okta's SDKs refuse it for that reason.  Says which host to
 * write instead.  d has passed check_domain.
 */
static int
check_not_admin_domain(const char *d, char *why, size_t whylen)
{
	static const char *const okta_hosts[] = {
		".okta.com", ".oktapreview.com", ".okta-emea.com", ".okta-gov.com",
		".okta.mil",
	};
	const char *dot = strchr(d, '.');
	size_t first, i;

	if (dot == NULL)
		return 0;
	first = (size_t)(dot - d);
	if (first <= 6 || strncasecmp(dot - 6, "-admin", 6) != 0)
		return 0;
	for (i = 0; i < sizeof(okta_hosts) / sizeof(okta_hosts[0]); i++) {
		size_t n = strlen(okta_hosts[i]);
		const char *port = strchr(dot, ':');
		size_t rest = port ? (size_t)(port - dot) : strlen(dot);

		if (rest == n && strncasecmp(dot, okta_hosts[i], n) == 0) {
			snprintf(why, whylen, "domain '%s' is the Admin Console's "
			    "address, not the API's: write '%.*s%s' instead", d,
			    (int)(first - 6), d, dot);
			return -1;
		}
	}
	return 0;
}

/*
 * [okta] proxy: http://host:port or https://host:port (the proxy's own
 * scheme), nothing after the authority.  Credentials never go here (they
 * would show in check-config and ps): proxy_credentials_file holds them.
 */
static int
check_proxy(const char *v, char *why, size_t whylen)
{
	const char *host = NULL;
	char inner[512];
	size_t n;

	if (strncasecmp(v, "http://", 7) == 0)
		host = v + 7;
	else if (strncasecmp(v, "https://", 8) == 0)
		host = v + 8;
	if (host == NULL || strchr(host, '@') != NULL) {
		snprintf(why, whylen, "proxy must look like http://proxy.example.com:3128 "
		    "(credentials go into proxy_credentials_file), not '%s'", v);
		return -1;
	}
	n = strcspn(host, "/");
	if (host[n] != '\0' && strcmp(host + n, "/") != 0) {
		snprintf(why, whylen, "proxy must not have a path: write '%.*s' instead of '%s'",
		    (int)(host - v + (ptrdiff_t)n), v, v);
		return -1;
	}
	if (n >= sizeof(inner))
		n = sizeof(inner) - 1;
	memcpy(inner, host, n);
	inner[n] = '\0';
	if (check_domain(inner, why, whylen) != 0 || strchr(inner, ':') == NULL) {
		snprintf(why, whylen, "proxy '%s' needs a host and a port, like "
		    "http://proxy.example.com:3128", v);
		return -1;
	}
	return 0;
}

/* The home template: absolute, holds %u, only %u and %% escapes, no "..". */
static int
check_home(const char *h, char *why, size_t whylen)
{
	const char *p;
	int has_u = 0;

	if (h[0] != '/') {
		snprintf(why, whylen, "home '%s' must be an absolute path like /home/%%u", h);
		return -1;
	}
	for (p = h; *p != '\0'; p++) {
		if (*p == '%') {
			if (p[1] == 'u')
				has_u = 1;
			else if (p[1] != '%') {
				snprintf(why, whylen, "home '%s': only %%u (the user name) and %%%% are allowed", h);
				return -1;
			}
			p++;
		} else if (*p == ':' || iscntrl((unsigned char)*p)) {
			snprintf(why, whylen, "home '%s' contains a ':' or a control character", h);
			return -1;
		}
	}
	if (strstr(h, "/../") != NULL || strstr(h, "/./") != NULL ||
	    (strlen(h) >= 3 && strcmp(h + strlen(h) - 3, "/..") == 0)) {
		snprintf(why, whylen, "home '%s' must not contain '.' or '..' components", h);
		return -1;
	}
	if (!has_u) {
		snprintf(why, whylen, "home '%s' must contain %%u, or every user would share one home", h);
		return -1;
	}
	return 0;
}

/* A profile attribute name as Okta allows them: letters, digits, _ . */
static int
valid_attribute(const char *a)
{
	const char *p;

	if (*a == '\0' || strlen(a) > 128)
		return 0;
	for (p = a; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return 0;
	return 1;
}

static int
key_seen(struct parse_state *st, const char *section, const char *name)
{
	char *k = xasprintf("%s.%s", section, name);
	size_t i;

	for (i = 0; i < st->nseen; i++)
		if (strcasecmp(st->seen[i], k) == 0) {
			free(k);
			return 1;
		}
	st->seen = xreallocarray(st->seen, st->nseen + 1, sizeof(*st->seen));
	st->seen[st->nseen++] = k;
	return 0;
}

static void
set_id(struct parse_state *st, const char *name, const char *value, uint32_t *out)
{
	unsigned long n;

	if (parse_ulong(value, 1, 4294967294UL, &n) != 0)
		problem(st->problems, st->line, "[posix] %s: '%s' is not a number between 1 and 4294967294",
		    name, value);
	else
		*out = (uint32_t)n;
}

/* An OAuth client ID or key ID (scopes: a list of scopes): 1..128 of
 * [A-Za-z0-9._-] (and single spaces between scopes), so that it can go
 * into a JWT and a form body without escaping surprises. */
static int
oauth_value_ok(const char *v, int scopes)
{
	size_t i;

	for (i = 0; v[i] != '\0'; i++) {
		if (isalnum((unsigned char)v[i]) || v[i] == '.' || v[i] == '_' || v[i] == '-')
			continue;
		if (scopes && v[i] == ' ' && i > 0 && v[i - 1] != ' ' && v[i + 1] != '\0')
			continue;
		return 0;
	}
	return i > 0 && i <= (scopes ? 1024 : 128);
}

static int
handle_okta(struct parse_state *st, const char *name, const char *value)
{
	struct config *c = st->c;
	char why[512];
	unsigned long n;

	if (strcmp(name, "domain") == 0) {
		if (check_domain(value, why, sizeof(why)) != 0 ||
		    check_not_admin_domain(value, why, sizeof(why)) != 0)
			problem(st->problems, st->line, "[okta] %s", why);
		else
			set_str(&c->domain, value);
	} else if (strcmp(name, "token_file") == 0) {
		if (value[0] != '/')
			problem(st->problems, st->line, "[okta] token_file must be an absolute path");
		else
			set_str(&c->token_file, value);
	} else if (strcmp(name, "proxy") == 0) {
		if (check_proxy(value, why, sizeof(why)) != 0)
			problem(st->problems, st->line, "[okta] %s", why);
		else
			set_str(&c->proxy, value);
	} else if (strcmp(name, "no_proxy") == 0) {
		set_str(&c->no_proxy, value);
	} else if (strcmp(name, "proxy_credentials_file") == 0) {
		if (value[0] != '/')
			problem(st->problems, st->line, "[okta] proxy_credentials_file must be an absolute path");
		else
			set_str(&c->proxy_credentials_file, value);
	} else if (strcmp(name, "auth") == 0) {
		if (strcmp(value, "oauth") == 0)
			c->auth_oauth = 1;
		else if (strcmp(value, "ssws") == 0)
			c->auth_oauth = 0;
		else
			problem(st->problems, st->line, "[okta] auth must be 'ssws' (an API token) or 'oauth' (a service app)");
	} else if (strcmp(name, "client_id") == 0) {
		if (!oauth_value_ok(value, 0))
			problem(st->problems, st->line, "[okta] client_id: '%s' is not an Okta client ID (letters and digits, e.g. 0oa1b2c3d4)", value);
		else
			set_str(&c->client_id, value);
	} else if (strcmp(name, "private_key_file") == 0) {
		if (value[0] != '/')
			problem(st->problems, st->line, "[okta] private_key_file must be an absolute path");
		else
			set_str(&c->private_key_file, value);
	} else if (strcmp(name, "key_id") == 0) {
		if (!oauth_value_ok(value, 0))
			problem(st->problems, st->line, "[okta] key_id: '%s' is not a key ID (letters, digits, '-' and '_')", value);
		else
			set_str(&c->key_id, value);
	} else if (strcmp(name, "scopes") == 0) {
		if (!oauth_value_ok(value, 1))
			problem(st->problems, st->line, "[okta] scopes: '%s' is not a space-separated list of scopes such as okta.users.read", value);
		else
			set_str(&c->scopes, value);
	} else if (strcmp(name, "ca_file") == 0) {
		if (value[0] != '/')
			problem(st->problems, st->line, "[okta] ca_file must be an absolute path");
		else
			set_str(&c->ca_file, value);
	} else if (strcmp(name, "timeout") == 0) {
		if (parse_ulong(value, 1, 600, &n) != 0)
			problem(st->problems, st->line, "[okta] timeout must be a number of seconds between 1 and 600");
		else
			c->timeout = (long)n;
	} else
		return 0;
	return 1;
}

static int
handle_cache(struct parse_state *st, const char *name, const char *value)
{
	if (strcmp(name, "dir") != 0)
		return 0;
	if (value[0] != '/')
		problem(st->problems, st->line, "[cache] dir must be an absolute path");
	else
		set_str(&st->c->cache_dir, value);
	return 1;
}

/* max_delete: "10%", "50", "10%,50" or "none". */
static void
set_max_delete(struct parse_state *st, const char *value)
{
	struct config *c = st->c;
	char **items;
	size_t n, i;
	unsigned long count;
	int pct;

	c->max_delete_count = -1;
	c->max_delete_percent = -1;
	if (strcasecmp(value, "none") == 0)
		return;
	items = split_list(value, &n);
	if (n == 0 || n > 2)
		goto bad;
	for (i = 0; i < n; i++) {
		if (strchr(items[i], '%') != NULL) {
			if (parse_percent(items[i], &pct) != 0 || c->max_delete_percent != -1)
				goto bad;
			c->max_delete_percent = pct;
		} else {
			if (parse_ulong(items[i], 0, LONG_MAX, &count) != 0 || c->max_delete_count != -1)
				goto bad;
			c->max_delete_count = (long)count;
		}
	}
	free_strv(items);
	return;
bad:
	free_strv(items);
	problem(st->problems, st->line,
	    "[sync] max_delete: '%s' is not a share ('10%%'), a count ('50'), both ('10%%,50') or 'none'", value);
}

static void
set_schedule(struct parse_state *st, const char *name, const char *value, char **dst)
{
	struct cron cr;
	char why[256];

	if (cron_parse(value, &cr, why, sizeof(why)) != 0)
		problem(st->problems, st->line, "[sync] %s: %s", name, why);
	else
		set_str(dst, value);
}

static const char *const group_type_names[] = { "OKTA_GROUP", "APP_GROUP", "BUILT_IN" };

const char *
config_group_type_name(unsigned bit)
{
	size_t i;

	for (i = 0; i < sizeof(group_type_names) / sizeof(group_type_names[0]); i++)
		if (bit == 1u << i)
			return group_type_names[i];
	return NULL;
}

/* [sync] group_types = OKTA_GROUP, APP_GROUP, BUILT_IN (any non-empty set). */
static void
set_group_types(struct parse_state *st, const char *value)
{
	size_t n, i, j;
	char **items = split_list(value, &n);
	unsigned types = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < sizeof(group_type_names) / sizeof(group_type_names[0]); j++)
			if (strcasecmp(items[i], group_type_names[j]) == 0)
				break;
		if (j == sizeof(group_type_names) / sizeof(group_type_names[0])) {
			problem(st->problems, st->line, "[sync] group_types: unknown "
			    "group type \"%s\"; write any of OKTA_GROUP, APP_GROUP, "
			    "BUILT_IN", items[i]);
			free_strv(items);
			return;
		}
		types |= 1u << j;
	}
	free_strv(items);
	if (types == 0)
		problem(st->problems, st->line, "[sync] group_types must name at "
		    "least one of OKTA_GROUP, APP_GROUP, BUILT_IN");
	else
		st->c->group_types = types;
}

char *
config_group_type_filter(const struct config *c)
{
	char *f = NULL, *more;
	unsigned bit;

	if ((c->group_types & GROUP_TYPES_ALL) == GROUP_TYPES_ALL)
		return NULL;
	for (bit = 1; bit <= GROUP_TYPE_BUILT_IN; bit <<= 1) {
		if (!(c->group_types & bit))
			continue;
		more = xasprintf("%s%stype eq \"%s\"", f ? f : "", f ? " or " : "",
		    config_group_type_name(bit));
		free(f);
		f = more;
	}
	return f;
}

/* [sync] events (yes/no) and event_interval (a duration, 1 s to 1 h). */
static void
set_events(struct parse_state *st, const char *name, const char *value)
{
	struct config *c = st->c;
	long long secs;
	int b;

	if (strcmp(name, "events") == 0) {
		if (parse_bool(value, &b) != 0)
			problem(st->problems, st->line, "[sync] events must be yes or no");
		else
			c->events = b;
	} else if (snap_policy_parse_duration(value, &secs) != 0 ||
	    secs < EVENT_INTERVAL_MIN || secs > EVENT_INTERVAL_MAX) {
		problem(st->problems, st->line, "[sync] event_interval must be "
		    "a duration between 1s and 1h (e.g. 30s or 1m)");
	} else
		c->event_interval = (long)secs;
}

static int
handle_sync(struct parse_state *st, const char *name, const char *value)
{
	struct config *c = st->c;
	unsigned long n;
	int b;

	if (strcmp(name, "groups") == 0) {
		free_strv(c->groups);
		c->groups = split_list(value, &c->ngroups);
	} else if (strcmp(name, "members_only") == 0) {
		if (parse_bool(value, &b) != 0)
			problem(st->problems, st->line, "[sync] members_only must be yes or no");
		else
			c->members_only = b;
	} else if (strcmp(name, "group_types") == 0) {
		set_group_types(st, value);
	} else if (strcmp(name, "schedule") == 0) {
		set_schedule(st, name, value, &c->schedule);
	} else if (strcmp(name, "full_sync_schedule") == 0) {
		set_schedule(st, name, value, &c->full_sync_schedule);
	} else if (strcmp(name, "max_delete") == 0) {
		set_max_delete(st, value);
	} else if (strcmp(name, "rate_limit_reserve") == 0) {
		if (parse_percent(value, &c->rate_limit_reserve) != 0 || c->rate_limit_reserve > 90)
			problem(st->problems, st->line, "[sync] rate_limit_reserve must be a share between 0%% and 90%%");
	} else if (strcmp(name, "max_concurrency") == 0) {
		if (parse_ulong(value, 1, 75, &n) != 0)
			problem(st->problems, st->line, "[sync] max_concurrency must be between 1 and 75 (Okta's concurrent request limit)");
		else
			c->max_concurrency = (int)n;
	} else if (strcmp(name, "deprovisioned") == 0) {
		if (strcmp(value, "keep") == 0)
			c->deprovisioned = DEPROVISIONED_KEEP;
		else if (strcmp(value, "remove") == 0)
			c->deprovisioned = DEPROVISIONED_REMOVE;
		else
			problem(st->problems, st->line, "[sync] deprovisioned must be 'keep' or 'remove'");
	} else if (strcmp(name, "tombstone_days") == 0) {
		/* At least a day: longer than any cache TTL (nscd's is 600 s),
		 * so that no cache can outlive the tombstone. */
		if (parse_ulong(value, TOMBSTONE_DAYS_MIN, TOMBSTONE_DAYS_MAX, &n) != 0)
			problem(st->problems, st->line, "[sync] tombstone_days must be a number of days between %d and %d (longer than any cache's lifetime, such as nscd's)", TOMBSTONE_DAYS_MIN, TOMBSTONE_DAYS_MAX);
		else
			c->tombstone_days = (long)n;
	} else if (strcmp(name, "events") == 0 ||
	    strcmp(name, "event_interval") == 0) {
		set_events(st, name, value);
	} else if (strcmp(name, "metrics_file") == 0) {
		if (value[0] != '/')
			problem(st->problems, st->line, "[sync] metrics_file must be an absolute path");
		else
			set_str(&c->metrics_file, value);
	} else
		return 0;
	return 1;
}

/* [posix] ssh_keys_attribute and ssh_keys_allow_options: 1 when name is
 * one of them (problems reported), 0 otherwise. */
static int
handle_posix_ssh(struct parse_state *st, const char *name, const char *value)
{
	struct config *c = st->c;
	int b;

	if (strcmp(name, "ssh_keys_attribute") == 0) {
		if (!valid_attribute(value))
			problem(st->problems, st->line, "[posix] ssh_keys_attribute: "
			    "'%s' is not an Okta profile attribute name (letters, "
			    "digits and _, e.g. sshPublicKey)", value);
		else
			set_str(&c->ssh_keys_attribute, value);
	} else if (strcmp(name, "ssh_keys_allow_options") == 0) {
		if (parse_bool(value, &b) != 0)
			problem(st->problems, st->line,
			    "[posix] ssh_keys_allow_options must be yes or no");
		else
			c->ssh_keys_allow_options = b;
	} else
		return 0;
	return 1;
}

static int
handle_posix(struct parse_state *st, const char *name, const char *value)
{
	struct config *c = st->c;
	char why[512];
	unsigned long n;

	if (strcmp(name, "uid_min") == 0)
		set_id(st, name, value, &c->uid_min);
	else if (strcmp(name, "uid_max") == 0)
		set_id(st, name, value, &c->uid_max);
	else if (strcmp(name, "gid_min") == 0)
		set_id(st, name, value, &c->gid_min);
	else if (strcmp(name, "gid_max") == 0)
		set_id(st, name, value, &c->gid_max);
	else if (strcmp(name, "home") == 0) {
		if (check_home(value, why, sizeof(why)) != 0)
			problem(st->problems, st->line, "[posix] %s", why);
		else
			set_str(&c->home, value);
	} else if (strcmp(name, "default_shell") == 0) {
		if (value[0] != '/' || strchr(value, ':') != NULL)
			problem(st->problems, st->line, "[posix] default_shell must be an absolute path");
		else
			set_str(&c->default_shell, value);
	} else if (strcmp(name, "allowed_shells") == 0) {
		size_t i;

		free_strv(c->allowed_shells);
		c->allowed_shells = split_list(value, NULL);
		for (i = 0; c->allowed_shells[i] != NULL; i++)
			if (c->allowed_shells[i][0] != '/')
				problem(st->problems, st->line,
				    "[posix] allowed_shells: '%s' is not an absolute path", c->allowed_shells[i]);
	} else if (strcmp(name, "username") == 0) {
		if (strcmp(value, "login") == 0)
			c->username_source = USERNAME_FROM_LOGIN;
		else if (strncmp(value, "attribute:", 10) == 0 && valid_attribute(value + 10)) {
			c->username_source = USERNAME_FROM_ATTRIBUTE;
			set_str(&c->username_attribute, value + 10);
		} else
			problem(st->problems, st->line,
			    "[posix] username must be 'login' or 'attribute:NAME' (an Okta profile attribute)");
	} else if (strcmp(name, "strip_domain") == 0) {
		if (value[0] == '@')
			value++;
		if (check_domain(value, why, sizeof(why)) != 0 || strchr(value, ':') != NULL)
			problem(st->problems, st->line, "[posix] strip_domain must be a mail domain like example.com");
		else
			set_str(&c->strip_domain, value);
	} else if (strcmp(name, "uid_attribute") == 0 || strcmp(name, "gid_attribute") == 0 ||
	    strcmp(name, "shell_attribute") == 0) {
		char **dst = name[0] == 'u' ? &c->uid_attribute :
		    name[0] == 'g' ? &c->gid_attribute : &c->shell_attribute;

		if (!valid_attribute(value))
			problem(st->problems, st->line, "[posix] %s: '%s' is not an Okta profile attribute name",
			    name, value);
		else
			set_str(dst, value);
	} else if (strcmp(name, "primary_group") == 0) {
		if (strcmp(value, "user-private") == 0)
			c->primary_group = PRIMARY_GROUP_USER_PRIVATE;
		else if (parse_ulong(value, OKTA_ID_FLOOR, 4294967294UL, &n) == 0) {
			c->primary_group = PRIMARY_GROUP_FIXED;
			c->primary_gid = (uint32_t)n;
		} else
			problem(st->problems, st->line,
			    "[posix] primary_group must be 'user-private' or a GID of %u "
			    "or more: libnss_okta refuses system GIDs, so make a group "
			    "for Okta users (groupadd -g 5000 okta-users)", OKTA_ID_FLOOR);
	} else if (strcmp(name, "local_passwd") == 0) {
		set_str(&c->passwd_file, value);
	} else if (strcmp(name, "local_group") == 0) {
		set_str(&c->group_file, value);
	} else
		return handle_posix_ssh(st, name, value);
	return 1;
}

/* "yes"/"no" into *out, remembering the line. */
static void
set_pam_bool(struct parse_state *st, const char *name, const char *value,
    int *out, int *line)
{
	int b;

	if (parse_bool(value, &b) != 0) {
		problem(st->problems, st->line, "[pam] %s must be yes or no", name);
		return;
	}
	*out = b;
	*line = st->line;
}

/*
 * [pam]: the policy pam_okta applies, published in the snapshot.  As on
 * pam_okta's module line, a mistake is never ignored: check-config
 * reports it and the sync refuses to run with it.
 */
static int
handle_pam(struct parse_state *st, const char *name, const char *value)
{
	struct config_pam *pp = &st->c->pam;
	const char *why;
	long long secs;
	size_t i;

	if (strcmp(name, "allowed_groups") == 0) {
		free_strv(pp->allowed_groups);
		pp->allowed_groups = split_list(value, &pp->nallowed);
		pp->line_allowed_groups = st->line;
		if (pp->nallowed > SNAP_POLICY_MAX_GROUPS)
			problem(st->problems, st->line, "[pam] allowed_groups "
			    "lists %zu groups; at most %d", pp->nallowed,
			    SNAP_POLICY_MAX_GROUPS);
		for (i = 0; i < pp->nallowed; i++)
			if ((why = names_check(pp->allowed_groups[i])) != NULL)
				problem(st->problems, st->line, "[pam] "
				    "allowed_groups: '%s' %s; write the Linux "
				    "name of an Okta group as getent group shows it",
				    pp->allowed_groups[i], why);
		if (pp->nallowed == 0)
			problem(st->problems, st->line, "[pam] allowed_groups "
			    "is empty; name at least one group, or remove the "
			    "line to let every group in");
	} else if (strcmp(name, "max_cache_age") == 0) {
		if (snap_policy_parse_duration(value, &secs) != 0)
			problem(st->problems, st->line, "[pam] max_cache_age "
			    "must be seconds, or a number with s, m, h or d "
			    "(e.g. 7d), or 0 for no limit");
		else {
			pp->max_cache_age = secs;
			pp->line_max_cache_age = st->line;
		}
	} else if (strcmp(name, "stale_policy") == 0) {
		if (strcmp(value, "deny") == 0 || strcmp(value, "allow") == 0) {
			pp->stale_allow = value[0] == 'a';
			pp->line_stale_policy = st->line;
		} else
			problem(st->problems, st->line, "[pam] stale_policy "
			    "must be 'deny' or 'allow'");
	} else if (strcmp(name, "deny_recovery") == 0) {
		set_pam_bool(st, name, value, &pp->deny_recovery,
		    &pp->line_deny_recovery);
	} else if (strcmp(name, "deny_password_expired") == 0) {
		set_pam_bool(st, name, value, &pp->deny_password_expired,
		    &pp->line_deny_password_expired);
	} else if (strcmp(name, "tombstone") == 0) {
		if (strcmp(value, "deny") == 0 || strcmp(value, "ignore") == 0) {
			pp->tombstone_ignore = value[0] == 'i';
			pp->line_tombstone = st->line;
		} else
			problem(st->problems, st->line, "[pam] tombstone "
			    "must be 'deny' or 'ignore'");
	} else
		return 0;
	return 1;
}

void
config_pam_policy(const struct config *c, struct snap_policy *p)
{
	size_t i;

	snap_policy_defaults(p);
	p->max_cache_age = c->pam.max_cache_age;
	p->stale_policy = c->pam.stale_allow ? SNAP_STALE_ALLOW :
	    SNAP_STALE_DENY;
	p->deny_recovery = c->pam.deny_recovery;
	p->deny_password_expired = c->pam.deny_password_expired;
	p->tombstone = c->pam.tombstone_ignore ? SNAP_TOMB_POLICY_IGNORE :
	    SNAP_TOMB_POLICY_DENY;
	for (i = 0; i < c->pam.nallowed && i < SNAP_POLICY_MAX_GROUPS; i++)
		p->groups[p->ngroups++] = c->pam.allowed_groups[i];
}

/* A duration key of [auth] (see snap_policy_parse_duration) within
 * [min, max] seconds. */
static void
set_auth_duration(struct parse_state *st, const char *name, const char *value,
    long long min, long long max, long long *out)
{
	long long secs;

	if (snap_policy_parse_duration(value, &secs) != 0 || secs < min ||
	    secs > max)
		problem(st->problems, st->line, "[auth] %s must be a duration "
		    "between %llds and %lldd: seconds, or a number with s, m, h "
		    "or d (e.g. 5m or 7d)", name, min, max / 86400);
	else
		*out = secs;
}

/* A count of failures of [auth], 1..1000. */
static void
set_auth_count(struct parse_state *st, const char *name, const char *value,
    int *out)
{
	unsigned long n;

	if (parse_ulong(value, 1, 1000, &n) != 0)
		problem(st->problems, st->line, "[auth] %s must be a number of "
		    "failed logins between 1 and 1000", name);
	else
		*out = (int)n;
}

/* [auth] mfa = push, otp: the factors offered, in order, each once. */
static void
set_auth_mfa(struct parse_state *st, const char *value)
{
	struct config_auth *a = &st->c->auth;
	int mfa[AUTH_MFA_MAX] = { 0, 0 }, f;
	size_t n, i, j;
	char **items = split_list(value, &n);

	for (i = 0; i < n; i++) {
		if (strcasecmp(items[i], "push") == 0)
			f = AUTH_MFA_PUSH;
		else if (strcasecmp(items[i], "otp") == 0)
			f = AUTH_MFA_OTP;
		else {
			problem(st->problems, st->line, "[auth] mfa: unknown "
			    "factor \"%s\"; write push, otp or both in the order "
			    "offered (e.g. mfa = push, otp)", items[i]);
			free_strv(items);
			return;
		}
		for (j = 0; j < i; j++)
			if (mfa[j] == f) {
				problem(st->problems, st->line, "[auth] mfa names "
				    "%s twice; name each factor once", items[i]);
				free_strv(items);
				return;
			}
		if (i < AUTH_MFA_MAX)
			mfa[i] = f;
	}
	free_strv(items);
	if (n == 0) {
		problem(st->problems, st->line, "[auth] mfa is empty; write push, "
		    "otp or both (e.g. mfa = push, otp)");
		return;
	}
	memcpy(a->mfa, mfa, sizeof(a->mfa));
}

/*
 * [auth]: password + Okta MFA at the PAM auth phase, brokered by
 * okta-syncd (issue 11).  The custom authorization server's ID and the
 * client_id go into URLs and form bodies: letters, digits and a few
 * punctuation marks only.
 */
static int
handle_auth(struct parse_state *st, const char *name, const char *value)
{
	struct config_auth *a = &st->c->auth;
	const char *why;
	size_t i;
	int b;

	st->auth_seen = st->auth_seen ? st->auth_seen : st->line;
	if (strcmp(name, "client_id") == 0) {
		if (!oauth_value_ok(value, 0))
			problem(st->problems, st->line, "[auth] client_id: '%s' "
			    "is not an Okta client ID (letters and digits, e.g. "
			    "0oa1b2c3d4)", value);
		else
			set_str(&a->client_id, value);
	} else if (strcmp(name, "client_secret_file") == 0) {
		if (value[0] != '/')
			problem(st->problems, st->line, "[auth] client_secret_file "
			    "must be an absolute path");
		else
			set_str(&a->client_secret_file, value);
	} else if (strcmp(name, "authorization_server") == 0) {
		for (i = 0; value[i] != '\0'; i++)
			if (!isalnum((unsigned char)value[i]))
				break;
		if (value[i] != '\0' || i == 0 || i > 64)
			problem(st->problems, st->line, "[auth] authorization_server:"
			    " '%s' is not the ID of an Okta authorization server "
			    "(letters and digits, e.g. aus1a2b3c4 or default); "
			    "remove the line to use the org server", value);
		else
			set_str(&a->authorization_server, value);
	} else if (strcmp(name, "mfa") == 0) {
		set_auth_mfa(st, value);
	} else if (strcmp(name, "device_flow") == 0) {
		if (parse_bool(value, &b) != 0)
			problem(st->problems, st->line, "[auth] device_flow must be yes or no");
		else
			a->device_flow = b;
	} else if (strcmp(name, "socket") == 0) {
		if (value[0] != '/' || strlen(value) >= 108)
			problem(st->problems, st->line, "[auth] socket must be an "
			    "absolute path shorter than 108 bytes");
		else
			set_str(&a->socket_path, value);
	} else if (strcmp(name, "failed_login_attempts") == 0) {
		set_auth_count(st, name, value, &a->failed_login_attempts);
	} else if (strcmp(name, "failed_login_delay") == 0) {
		set_auth_duration(st, name, value, 1, 86400,
		    &a->failed_login_delay);
	} else if (strcmp(name, "offline_credentials") == 0) {
		if (parse_bool(value, &b) != 0)
			problem(st->problems, st->line, "[auth] offline_credentials "
			    "must be yes or no");
		else
			a->offline_credentials = b;
	} else if (strcmp(name, "offline_credentials_expiration") == 0) {
		set_auth_duration(st, name, value, 60, 365LL * 86400,
		    &a->offline_expiration);
	} else if (strcmp(name, "offline_failed_login_attempts") == 0) {
		set_auth_count(st, name, value, &a->offline_failed_login_attempts);
	} else if (strcmp(name, "offline_failed_login_delay") == 0) {
		set_auth_duration(st, name, value, 1, 86400,
		    &a->offline_failed_login_delay);
	} else if (strcmp(name, "offline_deny_groups") == 0) {
		free_strv(a->offline_deny_groups);
		a->offline_deny_groups = split_list(value, &a->noffline_deny);
		for (i = 0; i < a->noffline_deny; i++)
			if ((why = names_check(a->offline_deny_groups[i])) != NULL)
				problem(st->problems, st->line, "[auth] "
				    "offline_deny_groups: '%s' %s; write the Linux "
				    "name of a group as getent group shows it",
				    a->offline_deny_groups[i], why);
	} else
		return 0;
	return 1;
}

/* A duration key of [fleet] within [min, max] seconds. */
static void
set_fleet_duration(struct parse_state *st, const char *name, const char *value,
    long long min, long long max, long long *out)
{
	long long secs;

	if (snap_policy_parse_duration(value, &secs) != 0 || secs < min ||
	    secs > max)
		problem(st->problems, st->line, "[fleet] %s must be a duration "
		    "between %llds and %lldd: seconds, or a number with s, m, h "
		    "or d (e.g. 60s or 2d)", name, min, max / 86400);
	else
		*out = secs;
}

static int
handle_fleet(struct parse_state *st, const char *name, const char *value)
{
	struct config_fleet *f = &st->c->fleet;
	unsigned long n;

	if (strcmp(name, "role") == 0) {
		if (strcmp(value, "standalone") == 0)
			f->role = FLEET_STANDALONE;
		else if (strcmp(value, "publisher") == 0)
			f->role = FLEET_PUBLISHER;
		else if (strcmp(value, "subscriber") == 0)
			f->role = FLEET_SUBSCRIBER;
		else
			problem(st->problems, st->line, "[fleet] role must be "
			    "standalone, publisher or subscriber");
	} else if (strcmp(name, "destination") == 0) {
		if (value[0] != '/' && strncmp(value, "https://", 8) != 0 &&
		    strncmp(value, "http://", 7) != 0 &&
		    strncmp(value, "s3://", 5) != 0)
			problem(st->problems, st->line, "[fleet] destination must be "
			    "a directory (/srv/okta-sync/), an http(s):// URL "
			    "(WebDAV PUT) or s3://BUCKET/PREFIX/");
		else
			set_str(&f->destination, value);
	} else if (strcmp(name, "s3_endpoint") == 0) {
		if (strncmp(value, "https://", 8) != 0 &&
		    strncmp(value, "http://", 7) != 0)
			problem(st->problems, st->line, "[fleet] s3_endpoint must be "
			    "an http(s):// URL, e.g. https://s3.example.com:9000");
		else
			set_str(&f->s3_endpoint, value);
	} else if (strcmp(name, "s3_region") == 0) {
		set_str(&f->s3_region, value);
	} else if (strcmp(name, "credentials_file") == 0 ||
	    strcmp(name, "signing_key") == 0) {
		char **dst = strcmp(name, "signing_key") == 0 ? &f->signing_key :
		    &f->credentials_file;

		if (value[0] != '/')
			problem(st->problems, st->line, "[fleet] %s must be an "
			    "absolute path", name);
		else
			set_str(dst, value);
	} else if (strcmp(name, "keep_deltas") == 0) {
		if (parse_ulong(value, 0, 8, &n) != 0)
			problem(st->problems, st->line, "[fleet] keep_deltas must be "
			    "a number from 0 to 8");
		else
			f->keep_deltas = (unsigned)n;
	} else if (strcmp(name, "source") == 0) {
		if (strncmp(value, "https://", 8) != 0 &&
		    strncmp(value, "http://", 7) != 0)
			problem(st->problems, st->line, "[fleet] source must be the "
			    "http(s):// URL of the publisher's directory");
		else
			set_str(&f->source, value);
	} else if (strcmp(name, "ca_file") == 0) {
		set_str(&f->ca_file, value);
	} else if (strcmp(name, "public_key") == 0) {
		free_strv(f->public_keys);
		f->public_keys = split_list(value, &f->npublic_keys);
		for (size_t i = 0; i < f->npublic_keys; i++)
			if (strncmp(f->public_keys[i], "okta-sync-ed25519 ", 18) != 0)
				problem(st->problems, st->line, "[fleet] public_key: "
				    "each key is a line \"okta-sync-ed25519 ...\" as "
				    "`okta-sync fleet keygen` prints it (several: "
				    "separate them with commas)");
	} else if (strcmp(name, "max_age") == 0) {
		set_fleet_duration(st, name, value, 60, 365LL * 86400, &f->max_age);
	} else if (strcmp(name, "poll_interval") == 0) {
		set_fleet_duration(st, name, value, 1, 86400, &f->poll_interval);
	} else
		return 0;
	return 1;
}

static int
ini_handler_fn(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	int known;

	if (key_seen(st, section, name))
		problem(st->problems, st->line, "[%s] %s is set more than once; keep one",
		    section, name);
	if (strcmp(section, "okta") == 0)
		known = handle_okta(st, name, value);
	else if (strcmp(section, "cache") == 0)
		known = handle_cache(st, name, value);
	else if (strcmp(section, "sync") == 0)
		known = handle_sync(st, name, value);
	else if (strcmp(section, "posix") == 0)
		known = handle_posix(st, name, value);
	else if (strcmp(section, "pam") == 0)
		known = handle_pam(st, name, value);
	else if (strcmp(section, "auth") == 0)
		known = handle_auth(st, name, value);
	else if (strcmp(section, "fleet") == 0)
		known = handle_fleet(st, name, value);
	else if (section[0] == '\0') {
		problem(st->problems, st->line, "'%s' is outside any section; put it under [okta], [cache], [sync], [posix], [pam], [auth] or [fleet]",
		    name);
		return 1;
	} else {
		problem(st->problems, st->line, "unknown section [%s]", section);
		return 1;
	}
	if (!known)
		problem(st->problems, st->line, "unknown key '%s' in [%s]", name, section);
	return 1;
}

/*
 * inih takes only " ;" as the start of an inline comment, so a "# note"
 * after a value would become part of it ("domain = x  # ours").  No value
 * okta-sync reads can hold a '#' after white space, so cut there.
 */
static void
strip_inline_comment(char *line)
{
	char *p;

	for (p = line; *p != '\0'; p++)
		if (*p == '#' && p > line && (p[-1] == ' ' || p[-1] == '\t')) {
			p[0] = '\n';
			p[1] = '\0';
			return;
		}
}

/*
 * The reader inih calls for each line: counts lines, and turns lines inih
 * would reject into blank ones after recording why, so that parsing goes on.
 */
static char *
counting_reader(char *str, int num, void *stream)
{
	struct parse_state *st = stream;
	const char *p;
	size_t len;
	int ch;

	if (fgets(st->pending, sizeof(st->pending), st->f) == NULL)
		return NULL;
	st->line++;
	len = strlen(st->pending);
	if (len > 0 && st->pending[len - 1] != '\n' && !feof(st->f)) {
		while ((ch = fgetc(st->f)) != EOF && ch != '\n')
			;
		problem(st->problems, st->line, "line is longer than %d characters", CONFIG_MAX_LINE - 2);
		st->pending[0] = '\0';
	}
	for (p = st->pending; isspace((unsigned char)*p); p++)
		;
	if (*p != '\0' && *p != '#' && *p != ';' && *p != '[' && strchr(p, '=') == NULL) {
		problem(st->problems, st->line, "expected 'key = value' or '[section]'");
		st->pending[0] = '\0';
	} else if (*p == '[' && strchr(p, ']') == NULL) {
		problem(st->problems, st->line, "section header has no closing ']'");
		st->pending[0] = '\0';
	}
	else if (*p != '\0' && *p != '#' && *p != ';' && *p != '[')
		strip_inline_comment(st->pending);
	if (strlen(st->pending) >= (size_t)num) {
		problem(st->problems, st->line, "line is too long");
		st->pending[0] = '\0';
	}
	strcpy(str, st->pending);
	return str;
}

static char **
read_etc_shells(void)
{
	FILE *f = fopen("/etc/shells", "re");
	char line[512], **v = NULL;
	size_t n = 0, len;

	if (f == NULL)
		return split_list("/bin/sh,/bin/bash,/usr/bin/sh,/usr/bin/bash", NULL);
	while (fgets(line, sizeof(line), f) != NULL) {
		len = strcspn(line, "\r\n");
		line[len] = '\0';
		if (line[0] != '/')
			continue;
		v = xreallocarray(v, n + 2, sizeof(*v));
		v[n++] = xstrdup(line);
		v[n] = NULL;
	}
	fclose(f);
	if (v == NULL)
		v = xcalloc(1, sizeof(*v));
	return v;
}

static void
set_defaults(struct config *c)
{
	c->timeout = 30;
	c->scopes = xstrdup("okta.users.read okta.groups.read");
	c->cache_dir = xstrdup(OKTA_CACHE_DIR);
	c->max_delete_count = -1;
	c->max_delete_percent = 10;
	c->rate_limit_reserve = 20;
	/* Not Everyone (BUILT_IN): the whole directory as one Linux group,
	 * listed again at every full sync, is rarely what anyone wants. */
	c->group_types = GROUP_TYPE_OKTA | GROUP_TYPE_APP;
	c->max_concurrency = 4;
	c->deprovisioned = DEPROVISIONED_KEEP;
	c->tombstone_days = TOMBSTONE_DAYS_DEFAULT;
	c->events = 1;
	c->event_interval = EVENT_INTERVAL_DEFAULT;
	c->uid_min = c->gid_min = DEFAULT_ID_MIN;
	c->uid_max = c->gid_max = DEFAULT_ID_MAX;
	c->home = xstrdup("/home/%u");
	c->default_shell = xstrdup("/bin/bash");
	c->username_source = USERNAME_FROM_LOGIN;
	c->primary_group = PRIMARY_GROUP_USER_PRIVATE;
	c->passwd_file = xstrdup("/etc/passwd");
	c->group_file = xstrdup("/etc/group");
	c->pam.max_cache_age = SNAP_POLICY_DEFAULT_MAX_AGE;
	c->auth.mfa[0] = AUTH_MFA_PUSH;
	c->auth.mfa[1] = AUTH_MFA_OTP;
	c->auth.socket_path = xstrdup(OKTA_AUTH_SOCKET_PATH);
	c->auth.failed_login_attempts = 5;
	c->auth.failed_login_delay = 60;
	c->auth.offline_expiration = 7LL * 86400;
	c->auth.offline_failed_login_attempts = 3;
	c->auth.offline_failed_login_delay = 300;
	c->fleet.signing_key = xstrdup(OKTA_SYSCONFDIR "/okta-sync/fleet.key");
	c->fleet.keep_deltas = 4;
	c->fleet.max_age = FLEET_MAX_AGE_DEFAULT;
	c->fleet.poll_interval = FLEET_POLL_DEFAULT;
}

/* Owner root (or, for tests run as a user, the caller) and no group/other
 * access: sshd's StrictModes for a secret file. */
static int
check_secret_mode(const struct stat *sb, const char *path, char *why, size_t whylen)
{
	if (S_ISLNK(sb->st_mode)) {
		snprintf(why, whylen, "%s is a symbolic link; point the setting at the file itself", path);
		return -1;
	}
	if (!S_ISREG(sb->st_mode)) {
		snprintf(why, whylen, "%s is not a regular file", path);
		return -1;
	}
	if (sb->st_uid != 0 && sb->st_uid != geteuid()) {
		snprintf(why, whylen, "%s must be owned by root (chown root:root %s)", path, path);
		return -1;
	}
	if ((sb->st_mode & 077) != 0) {
		snprintf(why, whylen, "%s is accessible by group or others (mode %04o); run: chmod 600 %s",
		    path, (unsigned)(sb->st_mode & 07777), path);
		return -1;
	}
	return 0;
}

/* Was a problem starting with `prefix` reported already?  Then "not set"
 * would only repeat it. */
static int
reported(const struct config_problems *problems, const char *prefix)
{
	size_t i;

	for (i = 0; i < problems->n; i++)
		if (strncmp(problems->v[i].message, prefix, strlen(prefix)) == 0)
			return 1;
	return 0;
}

/*
 * A root-only secret file named by [okta] key: report it missing or
 * unsafe.  lstat, because the secret is opened with O_NOFOLLOW: a symbolic
 * link that passed here would fail every sync.
 */
static void
check_secret_file(struct config_problems *problems, const char *key,
    const char *path)
{
	struct stat sb;
	char why[512];

	if (lstat(path, &sb) != 0)
		problem(problems, 0, "[okta] %s %s: %s", key, path, strerror(errno));
	else if (check_secret_mode(&sb, path, why, sizeof(why)) != 0)
		problem(problems, 0, "[okta] %s: %s", key, why);
}

/* [auth] keys without client_id would do nothing, silently; a secret file
 * is checked like the token file. */
static void
check_auth(const struct config *c, int auth_seen, int check_files,
    struct config_problems *problems)
{
	struct stat sb;
	char why[512];
	const char *f = c->auth.client_secret_file;

	if (auth_seen && c->auth.client_id == NULL &&
	    !reported(problems, "[auth] client_id"))
		problem(problems, auth_seen, "[auth] has no client_id, so "
		    "okta-syncd serves no logins; write the Client ID of the "
		    "Okta native app with the Direct Authentication grants, or "
		    "remove the [auth] section");
	if (!check_files || f == NULL)
		return;
	if (lstat(f, &sb) != 0)
		problem(problems, 0, "[auth] client_secret_file %s: %s", f,
		    strerror(errno));
	else if (check_secret_mode(&sb, f, why, sizeof(why)) != 0)
		problem(problems, 0, "[auth] client_secret_file: %s", why);
}

static void
check_cross(struct config *c, int check_files, struct config_problems *problems)
{
	size_t i;
	int found = 0;

	if (c->fleet.role == FLEET_SUBSCRIBER)
		goto posix;          /* a subscriber never talks to Okta */
	if (c->domain == NULL && !reported(problems, "[okta] domain"))
		problem(problems, 0, "[okta] domain is not set; write your Okta domain, e.g. domain = dev-123456.okta.com");
	if (c->token_file == NULL && !c->auth_oauth)
		problem(problems, 0, "[okta] token_file is not set; write the path of a root-only file holding the API token");
	if (c->auth_oauth && c->client_id == NULL && !reported(problems, "[okta] client_id"))
		problem(problems, 0, "[okta] auth = oauth needs client_id: the Client ID of the API Services app in Okta");
	if (c->auth_oauth && c->private_key_file == NULL && !reported(problems, "[okta] private_key_file"))
		problem(problems, 0, "[okta] auth = oauth needs private_key_file: a root-only PEM file with the app's private key (RSA or EC P-256)");
posix:
	if (c->uid_min > c->uid_max)
		problem(problems, 0, "[posix] uid_min (%u) is greater than uid_max (%u)", c->uid_min, c->uid_max);
	if (c->gid_min > c->gid_max)
		problem(problems, 0, "[posix] gid_min (%u) is greater than gid_max (%u)", c->gid_min, c->gid_max);
	if (c->uid_min < OKTA_ID_FLOOR)
		problem(problems, 0, "[posix] uid_min (%u) is in the system range (below %u)",
		    c->uid_min, OKTA_ID_FLOOR);
	if (c->gid_min < OKTA_ID_FLOOR)
		problem(problems, 0, "[posix] gid_min (%u) is in the system range (below %u)",
		    c->gid_min, OKTA_ID_FLOOR);
	if (c->username_source == USERNAME_FROM_ATTRIBUTE && c->strip_domain != NULL)
		problem(problems, 0, "[posix] strip_domain applies only to username = login");
	if (c->members_only && c->ngroups == 0)
		problem(problems, 0, "[sync] members_only = yes needs [sync] groups to name the groups");
	if (c->allowed_shells == NULL)
		c->allowed_shells = read_etc_shells();
	for (i = 0; c->allowed_shells[i] != NULL; i++)
		if (strcmp(c->allowed_shells[i], c->default_shell) == 0)
			found = 1;
	if (!found)
		problem(problems, 0, "[posix] default_shell %s is not among the allowed shells (%s)",
		    c->default_shell, "[posix] allowed_shells, or /etc/shells");
	if (!check_files)
		return;
	if (c->fleet.role == FLEET_SUBSCRIBER)
		return;
	if (c->auth_oauth && c->private_key_file != NULL)
		check_secret_file(problems, "private_key_file", c->private_key_file);
	if (c->token_file != NULL && !c->auth_oauth)
		check_secret_file(problems, "token_file", c->token_file);
	if (c->proxy_credentials_file != NULL)
		check_secret_file(problems, "proxy_credentials_file",
		    c->proxy_credentials_file);
	if (c->proxy_credentials_file != NULL && c->proxy == NULL)
		problem(problems, 0, "[okta] proxy_credentials_file needs proxy");
	if (c->ca_file != NULL && access(c->ca_file, R_OK) != 0)
		problem(problems, 0, "[okta] ca_file %s: %s", c->ca_file, strerror(errno));
}

/* What each [fleet] role needs. */
static void
check_fleet(const struct config *c, int check_files,
    struct config_problems *problems)
{
	const struct config_fleet *f = &c->fleet;

	if (f->role == FLEET_PUBLISHER) {
		if (f->destination == NULL)
			problem(problems, 0, "[fleet] role = publisher needs "
			    "destination: a directory, an http(s):// URL or "
			    "s3://BUCKET/PREFIX/");
		if (f->destination != NULL &&
		    strncmp(f->destination, "s3://", 5) == 0 &&
		    f->credentials_file == NULL)
			problem(problems, 0, "[fleet] an s3:// destination needs "
			    "credentials_file: a root-only file with one line "
			    "ACCESS_KEY_ID:SECRET_ACCESS_KEY");
		if (check_files && f->credentials_file != NULL)
			check_secret_file(problems, "credentials_file",
			    f->credentials_file);
		if (check_files && access(f->signing_key, F_OK) != 0)
			problem(problems, 0, "[fleet] signing_key %s does not exist; "
			    "make it with `okta-sync fleet keygen` and give the "
			    "public key it prints to every subscriber", f->signing_key);
		else if (check_files)
			check_secret_file(problems, "signing_key", f->signing_key);
	} else if (f->role == FLEET_SUBSCRIBER) {
		if (f->source == NULL)
			problem(problems, 0, "[fleet] role = subscriber needs source: "
			    "the http(s):// URL the publisher's files are served at");
		if (f->npublic_keys == 0)
			problem(problems, 0, "[fleet] role = subscriber needs "
			    "public_key: the line `okta-sync fleet keygen` printed on "
			    "the publisher");
		if (check_files && f->ca_file != NULL && access(f->ca_file, R_OK) != 0)
			problem(problems, 0, "[fleet] ca_file %s: %s", f->ca_file,
			    strerror(errno));
	}
}

struct config *
config_load(const char *path, int check_files, struct config_problems *problems)
{
	struct parse_state st;
	struct config *c;
	size_t before = problems->n, i;
	int rc;

	if (path == NULL)
		path = OKTA_CONFIG_PATH;
	c = xcalloc(1, sizeof(*c));
	c->path = xstrdup(path);
	set_defaults(c);

	memset(&st, 0, sizeof(st));
	st.c = c;
	st.problems = problems;
	st.f = fopen(path, "re");
	if (st.f == NULL) {
		problem(problems, 0, "cannot read %s: %s", path, strerror(errno));
		config_free(c);
		return NULL;
	}
	rc = ini_parse_stream(counting_reader, &st, ini_handler_fn, &st);
	fclose(st.f);
	for (i = 0; i < st.nseen; i++)
		free(st.seen[i]);
	free(st.seen);
	if (rc < 0)
		problem(problems, 0, "cannot parse %s", path);
	check_cross(c, check_files, problems);
	check_auth(c, st.auth_seen, check_files, problems);
	check_fleet(c, check_files, problems);
	if (problems->n != before) {
		config_free(c);
		return NULL;
	}
	return c;
}

int
config_check_secret(const struct stat *sb, const char *path, char *why, size_t whylen)
{
	return check_secret_mode(sb, path, why, whylen);
}

/*
 * Read a one-line secret from a root-only file: what names the file for
 * the admin ("token file"), item its content ("the token"), hint what to
 * do about an empty one.  The same checks as config_check_secret.
 */
static char *
read_secret_line(const char *path, const char *what, const char *item,
    const char *hint, char *err, size_t errlen)
{
	char buf[TOKEN_MAX + 1], why[512], *tok = NULL;
	struct stat sb;
	ssize_t n;
	size_t len, i;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the %s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) != 0) {
		snprintf(err, errlen, "cannot stat the %s %s: %s", what, path, strerror(errno));
		goto out;
	}
	if (check_secret_mode(&sb, path, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "refusing the %s: %s", what, why);
		goto out;
	}
	n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		snprintf(err, errlen, "cannot read the %s %s: %s", what, path, strerror(errno));
		goto out;
	}
	if ((size_t)n > TOKEN_MAX) {
		snprintf(err, errlen, "the %s %s is larger than %d bytes; it should hold only %s",
		    what, path, TOKEN_MAX, item);
		goto out;
	}
	len = (size_t)n;
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		len--;
	if (len == 0) {
		snprintf(err, errlen, "the %s %s is empty; %s", what, path, hint);
		goto out;
	}
	for (i = 0; i < len; i++)
		if (!isgraph((unsigned char)buf[i])) {
			snprintf(err, errlen, "the %s %s must hold %s alone on one line",
			    what, path, item);
			goto out;
		}
	tok = xstrndup(buf, len);
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return tok;
}

char *
config_read_token(const struct config *c, char *err, size_t errlen)
{
	return read_secret_line(c->token_file, "token file", "the token",
	    "paste the API token from Okta into it", err, errlen);
}

char *
config_read_client_secret(const struct config *c, char *err, size_t errlen)
{
	if (errlen > 0)
		err[0] = '\0';
	if (c->auth.client_secret_file == NULL)
		return NULL;
	return read_secret_line(c->auth.client_secret_file,
	    "client secret file", "the client secret", "paste the native "
	    "app's client secret from Okta into it, or remove "
	    "client_secret_file for a public client", err, errlen);
}

char *
config_read_proxy_credentials(const struct config *c, char *err, size_t errlen)
{
	char *up;

	if (errlen > 0)
		err[0] = '\0';
	if (c->proxy_credentials_file == NULL)
		return NULL;
	up = read_secret_line(c->proxy_credentials_file, "proxy credentials file",
	    "user:password", "write the proxy's user:password into it", err, errlen);
	if (up != NULL && strchr(up, ':') == NULL) {
		snprintf(err, errlen, "the proxy credentials file %s must hold "
		    "user:password", c->proxy_credentials_file);
		explicit_bzero(up, strlen(up));
		free(up);
		return NULL;
	}
	return up;
}

char *
config_read_fleet_credentials(const struct config *c, char *err, size_t errlen)
{
	if (c->fleet.credentials_file == NULL) {
		if (errlen > 0)
			err[0] = '\0';
		return NULL;
	}
	return read_secret_line(c->fleet.credentials_file, "credentials file",
	    "the credentials", "write one line ID:SECRET (S3) or USER:PASSWORD "
	    "(WebDAV) into it", err, errlen);
}

char *
config_fleet_state_dir(const struct config *c)
{
	size_t n = strlen(c->cache_dir) + sizeof("/fleet");
	char *p = xmalloc(n);

	snprintf(p, n, "%s/fleet", c->cache_dir);
	return p;
}
