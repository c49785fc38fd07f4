/*
 * map.c - one Okta user or group object -> the Linux entry it becomes, or
 * a rejection with its reason (the rules are in map.h).
 *
 * Everything here reads untrusted JSON: every field's type is checked, and
 * every raw value that may end up in a message goes through names_escape().
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "map.h"
#include "names.h"

/* A string member of obj, or NULL when absent or not a string. */
static const char *
get_str(json_object *obj, const char *key)
{
	json_object *v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Copy src (NULL: "") into dst, cut to fit. */
static void
copy_str(char *dst, size_t dstlen, const char *src)
{
	snprintf(dst, dstlen, "%s", src ? src : "");
}

const char *
map_item_id(json_object *item)
{
	return get_str(item, "id");
}

/*
 * Read the numeric ID attribute `attr` of profile.  Returns 1 with *out set,
 * 0 when absent or null (allocate), -1 when present but unusable (reason
 * written).  what: "uid" or "gid"; [min, max]: the configured range.
 */
static int
get_id_attr(json_object *profile, const char *attr, const char *what,
    uint32_t min, uint32_t max, int64_t *out, char *reason, size_t reasonlen)
{
	json_object *v;
	int64_t n;
	char esc[64];

	if (attr == NULL || profile == NULL ||
	    !json_object_object_get_ex(profile, attr, &v) || v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		errno = 0;
		n = json_object_get_int64(v);
		if (errno != 0 || n == INT64_MAX || n == INT64_MIN) {
			snprintf(reason, reasonlen, "%s attribute %s is too large",
			    what, attr);
			return -1;
		}
	} else if (json_object_is_type(v, json_type_double)) {
		/* Okta's "number" attributes arrive as doubles (1500.0). */
		double d = json_object_get_double(v);

		if (!isfinite(d) || d != floor(d)) {
			snprintf(reason, reasonlen, "%s attribute %s (%g) is not a "
			    "whole number", what, attr, d);
			return -1;
		}
		if (d >= 9007199254740992.0 || d <= -9007199254740992.0) {
			snprintf(reason, reasonlen, "%s attribute %s (%g) is too large",
			    what, attr, d);
			return -1;
		}
		n = (int64_t)d;
	} else if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v), *p;

		if (*s == '\0')
			return 0;
		for (p = s; *p != '\0'; p++)
			if (*p < '0' || *p > '9' || p - s > 12)
				break;
		if (*p != '\0') {
			snprintf(reason, reasonlen,
			    "%s attribute %s (\"%s\") is not a whole number",
			    what, attr, names_escape(s, esc, sizeof(esc)));
			return -1;
		}
		n = strtoll(s, NULL, 10);
	} else {
		snprintf(reason, reasonlen, "%s attribute %s is not a whole number",
		    what, attr);
		return -1;
	}
	if (n == 0) {
		snprintf(reason, reasonlen, "%s attribute %s is 0 (root's ID)",
		    what, attr);
		return -1;
	}
	if (n < 0) {
		snprintf(reason, reasonlen, "%s attribute %s is negative (%lld)",
		    what, attr, (long long)n);
		return -1;
	}
	if (n < 1000) {
		snprintf(reason, reasonlen,
		    "%s attribute %s (%lld) is in the system range; allowed %u-%u",
		    what, attr, (long long)n, min, max);
		return -1;
	}
	if (n < (int64_t)min || n > (int64_t)max) {
		snprintf(reason, reasonlen,
		    "%s attribute %s (%lld) is outside the configured range %u-%u",
		    what, attr, (long long)n, min, max);
		return -1;
	}
	*out = n;
	return 1;
}

int
map_username(const struct config *c, const char *value, char *out,
    size_t outlen, char *reason, size_t reasonlen)
{
	char buf[MAP_TEXT_MAX], esc[96];
	const char *why, *at;
	size_t len, i, dlen;

	out[0] = '\0';
	if (value == NULL || *value == '\0') {
		snprintf(reason, reasonlen, "%s is missing or empty",
		    c->username_source == USERNAME_FROM_ATTRIBUTE ?
		    "the user name attribute" : "profile.login");
		return -1;
	}
	len = strlen(value);
	if (len >= sizeof(buf)) {
		snprintf(reason, reasonlen, "login is too long");
		return -1;
	}
	for (i = 0; i <= len; i++) {
		char ch = value[i];

		buf[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
	}
	if (c->username_source == USERNAME_FROM_LOGIN) {
		if (c->strip_domain != NULL && *c->strip_domain != '\0') {
			dlen = strlen(c->strip_domain);
			if (len > dlen + 1 && buf[len - dlen - 1] == '@' &&
			    strcasecmp(buf + len - dlen, c->strip_domain) == 0)
				buf[len - dlen - 1] = '\0';
			if (strchr(buf, '@') != NULL) {
				snprintf(reason, reasonlen,
				    "login \"%s\" has a domain other than %s",
				    names_escape(value, esc, sizeof(esc)),
				    c->strip_domain);
				return -1;
			}
		} else if ((at = strchr(buf, '@')) != NULL) {
			buf[at - buf] = '\0';
		}
	}
	why = names_check(buf);
	if (why != NULL) {
		snprintf(reason, reasonlen, "user name \"%s\" %s",
		    names_escape(buf, esc, sizeof(esc)), why);
		return -1;
	}
	if (strcmp(buf, "root") == 0) {
		snprintf(reason, reasonlen,
		    "user name \"root\" collides with a local account");
		return -1;
	}
	if (strlen(buf) >= outlen) {
		snprintf(reason, reasonlen, "user name is too long");
		return -1;
	}
	memcpy(out, buf, strlen(buf) + 1);
	return 0;
}

static int
shell_allowed(const struct config *c, const char *shell)
{
	size_t i;

	if (c->allowed_shells == NULL)
		return c->default_shell != NULL && strcmp(shell, c->default_shell) == 0;
	for (i = 0; c->allowed_shells[i] != NULL; i++)
		if (strcmp(c->allowed_shells[i], shell) == 0)
			return 1;
	return 0;
}

int
map_user(const struct config *c, json_object *item, struct mapped_user *u)
{
	json_object *profile = NULL;
	const char *id, *status, *src, *shell, *why;
	char gecos_raw[2 * MAP_TEXT_MAX + 2], esc[96];
	int r;

	memset(u, 0, sizeof(*u));
	u->uid_attr = -1;
	id = map_item_id(item);
	if (!names_okta_id_valid(id)) {
		copy_str(u->okta_id, sizeof(u->okta_id),
		    names_escape(id ? id : "", esc, sizeof(esc)));
		snprintf(u->reason, sizeof(u->reason),
		    "the Okta id is missing or not alphanumeric");
		return -1;
	}
	copy_str(u->okta_id, sizeof(u->okta_id), id);
	status = get_str(item, "status");
	u->status = okta_status_from_string(status);
	copy_str(u->last_updated, sizeof(u->last_updated), get_str(item, "lastUpdated"));
	copy_str(u->password_changed, sizeof(u->password_changed),
	    get_str(item, "passwordChanged"));
	if (!json_object_object_get_ex(item, "profile", &profile) ||
	    !json_object_is_type(profile, json_type_object)) {
		snprintf(u->reason, sizeof(u->reason), "the user has no profile");
		return 0;
	}
	copy_str(u->login, sizeof(u->login), get_str(profile, "login"));
	copy_str(u->email, sizeof(u->email), get_str(profile, "email"));
	copy_str(u->first_name, sizeof(u->first_name), get_str(profile, "firstName"));
	copy_str(u->last_name, sizeof(u->last_name), get_str(profile, "lastName"));

	src = c->username_source == USERNAME_FROM_ATTRIBUTE ?
	    get_str(profile, c->username_attribute) : get_str(profile, "login");
	if (map_username(c, src, u->name, sizeof(u->name), u->reason,
	    sizeof(u->reason)) != 0)
		return 0;

	snprintf(gecos_raw, sizeof(gecos_raw), "%s %s", u->first_name, u->last_name);
	names_sanitise_gecos(gecos_raw, u->gecos, sizeof(u->gecos));

	why = names_expand_home(c->home ? c->home : "/home/%u", u->name, u->home,
	    sizeof(u->home));
	if (why != NULL) {
		snprintf(u->reason, sizeof(u->reason), "home directory %s", why);
		return 0;
	}

	shell = NULL;
	if (c->shell_attribute != NULL) {
		shell = get_str(profile, c->shell_attribute);
		if (shell != NULL && *shell == '\0')
			shell = NULL;
	}
	if (shell == NULL)
		shell = c->default_shell ? c->default_shell : "/bin/bash";
	if (!names_path_normal(shell) || !shell_allowed(c, shell) ||
	    strlen(shell) >= sizeof(u->shell)) {
		snprintf(u->reason, sizeof(u->reason),
		    "shell \"%s\" is not in allowed_shells",
		    names_escape(shell, esc, sizeof(esc)));
		return 0;
	}
	copy_str(u->shell, sizeof(u->shell), shell);

	r = get_id_attr(profile, c->uid_attribute, "uid", c->uid_min, c->uid_max,
	    &u->uid_attr, u->reason, sizeof(u->reason));
	if (r < 0)
		return 0;
	return 1;
}

int
map_group(const struct config *c, json_object *item, struct mapped_group *g)
{
	json_object *profile = NULL;
	const char *id, *name, *why;
	char esc[96];
	int r;

	memset(g, 0, sizeof(*g));
	g->gid_attr = -1;
	id = map_item_id(item);
	if (!names_okta_id_valid(id)) {
		copy_str(g->okta_id, sizeof(g->okta_id),
		    names_escape(id ? id : "", esc, sizeof(esc)));
		snprintf(g->reason, sizeof(g->reason),
		    "the Okta id is missing or not alphanumeric");
		return -1;
	}
	copy_str(g->okta_id, sizeof(g->okta_id), id);
	copy_str(g->last_updated, sizeof(g->last_updated), get_str(item, "lastUpdated"));
	copy_str(g->last_membership_updated, sizeof(g->last_membership_updated),
	    get_str(item, "lastMembershipUpdated"));
	if (!json_object_object_get_ex(item, "profile", &profile) ||
	    !json_object_is_type(profile, json_type_object)) {
		snprintf(g->reason, sizeof(g->reason), "the group has no profile");
		return 0;
	}
	name = get_str(profile, "name");
	copy_str(g->okta_name, sizeof(g->okta_name), name);
	why = names_derive_group(name, g->name, sizeof(g->name));
	if (why != NULL) {
		snprintf(g->reason, sizeof(g->reason), "group name \"%s\" %s",
		    names_escape(name ? name : "", esc, sizeof(esc)), why);
		return 0;
	}
	r = get_id_attr(profile, c->gid_attribute, "gid", c->gid_min, c->gid_max,
	    &g->gid_attr, g->reason, sizeof(g->reason));
	if (r < 0)
		return 0;
	return 1;
}
