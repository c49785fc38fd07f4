/* okta_status.c - Okta status names <-> enum (see okta_status.h). */
#include <string.h>

#include "okta_status.h"

static const char *const status_names[] = {
	[OKTA_STATUS_UNKNOWN] = "UNKNOWN",
	[OKTA_STATUS_STAGED] = "STAGED",
	[OKTA_STATUS_PROVISIONED] = "PROVISIONED",
	[OKTA_STATUS_ACTIVE] = "ACTIVE",
	[OKTA_STATUS_RECOVERY] = "RECOVERY",
	[OKTA_STATUS_PASSWORD_EXPIRED] = "PASSWORD_EXPIRED",
	[OKTA_STATUS_LOCKED_OUT] = "LOCKED_OUT",
	[OKTA_STATUS_SUSPENDED] = "SUSPENDED",
	[OKTA_STATUS_DEPROVISIONED] = "DEPROVISIONED",
};

enum okta_status
okta_status_from_string(const char *s)
{
	int i;

	if (s == NULL)
		return OKTA_STATUS_UNKNOWN;
	for (i = 1; i <= OKTA_STATUS_MAX; i++)
		if (strcmp(s, status_names[i]) == 0)
			return (enum okta_status)i;
	return OKTA_STATUS_UNKNOWN;
}

const char *
okta_status_name(enum okta_status st)
{
	if ((int)st < 0 || st > OKTA_STATUS_MAX)
		return status_names[OKTA_STATUS_UNKNOWN];
	return status_names[st];
}
