/* nss_okta.c - placeholder until the NSS module lands. */
#include <nss.h>
#include <pwd.h>
#include <errno.h>

#include "compiler.h"

OKTA_EXPORT enum nss_status _nss_okta_getpwnam_r(const char *name,
    struct passwd *pw, char *buf, size_t buflen, int *errnop);

OKTA_EXPORT enum nss_status
_nss_okta_getpwnam_r(const char *name, struct passwd *pw, char *buf,
    size_t buflen, int *errnop)
{
	(void)name; (void)pw; (void)buf; (void)buflen;
	*errnop = ENOENT;
	return NSS_STATUS_UNAVAIL;
}
