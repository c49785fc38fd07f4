/*
 * okta_status.h - the Okta user lifecycle statuses, as stored in the cache
 * and the snapshot.
 *
 * The numeric values are part of the snapshot format: never renumber them,
 * only append.  OKTA_STATUS_UNKNOWN is what any string we do not recognise
 * maps to; pam_okta treats it as "deny".
 */
#ifndef OKTA_STATUS_H
#define OKTA_STATUS_H

enum okta_status {
	OKTA_STATUS_UNKNOWN = 0,
	OKTA_STATUS_STAGED = 1,
	OKTA_STATUS_PROVISIONED = 2,
	OKTA_STATUS_ACTIVE = 3,
	OKTA_STATUS_RECOVERY = 4,
	OKTA_STATUS_PASSWORD_EXPIRED = 5,
	OKTA_STATUS_LOCKED_OUT = 6,
	OKTA_STATUS_SUSPENDED = 7,
	OKTA_STATUS_DEPROVISIONED = 8,
	OKTA_STATUS_MAX = OKTA_STATUS_DEPROVISIONED
};

/* Map Okta's spelling ("ACTIVE", ...) to the enum; unknown -> UNKNOWN. Can't fail. */
enum okta_status okta_status_from_string(const char *s);

/* Okta's spelling of a status, or "UNKNOWN".  Never NULL; static storage. */
const char *okta_status_name(enum okta_status st);

#endif
