/*
 * map.h - turn one Okta user or group (the JSON object the API sent) into
 * the Linux entry it becomes, or into a rejection with a reason.
 *
 * This is the per-entry half of validation (DESIGN.md rule 3); the checks
 * that need every entry at once (two users mapping to one name, a name
 * taken by a local account, IDs) are made by sync.c and idalloc.c.
 *
 * The mapping rules, as an admin sees them:
 *
 * User name ([posix] username).  The source is profile.login, or with
 * `username = attribute:NAME` the string profile attribute NAME.  ASCII
 * letters are lower-cased.  Then:
 *   - with strip_domain set: a value ending in "@<strip_domain>" (any case)
 *     loses that suffix; a value that still holds an '@' is rejected
 *     ("login has a domain other than <strip_domain>");
 *   - with no strip_domain: the part before the '@' is used
 *     ("jane.doe@example.com" -> "jane.doe"); users of two domains with the
 *     same local part then map to one name and are both rejected, see
 *     sync.c.
 *   With `username = attribute:NAME` the value is only lower-cased (the
 *   config refuses strip_domain there), so an '@' in it is rejected.
 *   The result must pass names_check() (^[a-z_][a-z0-9_.-]*$, at most 32
 *   bytes); anything else is rejected with the reason, never "fixed".
 *   "root" is always refused, whatever the local passwd file says.
 * GECOS: "firstName lastName", sanitised by names_sanitise_gecos() (':' ','
 *   '=' removed, control characters become spaces) -- never a reason to
 *   reject.
 * Home: [posix] home with %u replaced; must be absolute and normalised.
 * Shell: the profile attribute shell_attribute when configured and a
 *   non-empty string, else default_shell; a shell not in allowed_shells is
 *   rejected ("shell /bin/evil is not in allowed_shells").
 * UID/GID attribute (uid_attribute for users, gid_attribute for groups):
 *   absent or null -> allocated (idalloc.h).  Present, it must be an
 *   integer (a JSON number or a string of digits) inside the configured
 *   range; 0, negative, non-integer, huge or out-of-range values are
 *   rejected with the reason, never clamped.
 * Status: Okta's status; an unknown spelling becomes UNKNOWN (PAM denies).
 * passwordChanged: kept as Okta's text (a string, else none), never a
 *   reason to reject.
 * Group name: profile.name through names_derive_group() ("Engineering
 *   Team" -> "engineering-team"); see names.h for the rule.
 */
#ifndef OKTA_MAP_H
#define OKTA_MAP_H

#include <json-c/json.h>
#include <stdint.h>

#include "config.h"
#include "names.h"
#include "okta_status.h"

#define MAP_ID_MAX 65
#define MAP_TEXT_MAX 512
#define MAP_REASON_MAX 256

struct mapped_user {
	char okta_id[MAP_ID_MAX];
	char name[NAME_MAX_LEN + 1];
	char gecos[GECOS_MAX_LEN + 1];
	char home[MAP_TEXT_MAX];
	char shell[MAP_TEXT_MAX];
	enum okta_status status;
	int64_t uid_attr;               /* -1: none, allocate */
	/* Raw values kept for `okta-sync show` (may hold anything). */
	char login[MAP_TEXT_MAX];
	char email[MAP_TEXT_MAX];
	char first_name[MAP_TEXT_MAX];
	char last_name[MAP_TEXT_MAX];
	char last_updated[64];
	/* Okta's passwordChanged as sent ("" when null or absent): the sync
	 * wipes the offline credential when it moves (offline.h). */
	char password_changed[64];
	char reason[MAP_REASON_MAX];    /* "" unless rejected */
};

struct mapped_group {
	char okta_id[MAP_ID_MAX];
	char okta_name[MAP_TEXT_MAX];   /* raw profile.name (may hold anything) */
	char name[NAME_MAX_LEN + 1];
	int64_t gid_attr;               /* -1: none, allocate */
	char last_updated[64];
	char last_membership_updated[64];
	char reason[MAP_REASON_MAX];
};

/*
 * Map one user object.  Returns 1 when accepted, 0 when rejected (reason in
 * u->reason, u->okta_id and u->login filled as far as known), -1 when the
 * object has no usable id at all (it cannot even be listed by id; reason
 * filled).  Can't fail otherwise; allocates nothing.
 */
int map_user(const struct config *c, json_object *item, struct mapped_user *u);

/* Map one group object; same return convention as map_user. */
int map_group(const struct config *c, json_object *item, struct mapped_group *g);

/*
 * The user name rule alone (exposed for tests): value is the login or the
 * attribute's value.  Returns 0 with the name in out, or -1 with a
 * sentence in reason (untrusted text in it escaped).
 */
int map_username(const struct config *c, const char *value, char *out,
    size_t outlen, char *reason, size_t reasonlen);

/* The okta id of a JSON object ("id"), or NULL; borrowed from item. */
const char *map_item_id(json_object *item);

#endif
