/*
 * nss_null.c - libnss_benchnull.so.2, the floor of the NSS benchmark: an
 * NSS module whose getpwnam_r answers every name at once with one fixed
 * entry, without looking anything up.  bench/nss_walk -s benchnull over
 * the same names measures what glibc's own dispatch costs a lookup
 * (getpwnam_r, the service table, finding the module's function), which
 * no module can go below; nscd's answers never pay it.  Bench only:
 * never installed.
 */
#include <errno.h>
#include <nss.h>
#include <pwd.h>
#include <string.h>

enum nss_status _nss_benchnull_getpwnam_r(const char *name, struct passwd *pw,
    char *buf, size_t buflen, int *errnop);

enum nss_status
_nss_benchnull_getpwnam_r(const char *name, struct passwd *pw, char *buf,
    size_t buflen, int *errnop)
{
	size_t n = strlen(name);

	if (n + 2 > buflen) {
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	}
	memcpy(buf, name, n + 1);
	buf[n + 1] = '\0';
	pw->pw_name = buf;
	pw->pw_passwd = buf + n + 1;
	pw->pw_uid = pw->pw_gid = 2000000000;
	pw->pw_gecos = pw->pw_dir = pw->pw_shell = buf + n + 1;
	return NSS_STATUS_SUCCESS;
}
