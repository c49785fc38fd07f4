/*
 * local_passwd.c - look a name up in /etc/passwd directly (see
 * local_passwd.h for why NSS is not used).
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file_trust.h"
#include "local_passwd.h"

/* The largest line buffer we grow to: a passwd line longer than this is
 * not an account anyone can log in with. */
#define LOCAL_PASSWD_BUF_MAX (1024 * 1024)

int
local_passwd_lookup(const char *path, const char *name, uint32_t *uid)
{
	FILE *f = NULL;
	char *buf = NULL, *nbuf;
	int fd;
	size_t buflen = 1024;
	struct passwd pw, *res;
	int ret = -1, err = 0, r;

	if (name == NULL || *name == '\0') {
		err = EINVAL;
		goto out;
	}
	/* Whoever could write the file could make any name "local", and
	 * pam_okta would then leave an Okta user to the rest of the stack:
	 * the file must be as trustworthy as /etc/passwd itself. */
	fd = file_trust_open(path != NULL ? path : LOCAL_PASSWD_PATH, NULL,
	    NULL);
	if (fd < 0) {
		err = errno;
		goto out;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		err = errno;
		close(fd);
		goto out;
	}
	buf = malloc(buflen);
	if (buf == NULL) {
		err = ENOMEM;
		goto out;
	}
	for (;;) {
		r = fgetpwent_r(f, &pw, buf, buflen, &res);
		if (r == ERANGE) {
			/* glibc rewinds to the start of the line on ERANGE,
			 * so the retry reads the same entry again. */
			if (buflen > LOCAL_PASSWD_BUF_MAX / 2) {
				err = ERANGE;
				goto out;
			}
			nbuf = realloc(buf, buflen * 2);
			if (nbuf == NULL) {
				err = ENOMEM;
				goto out;
			}
			buf = nbuf;
			buflen *= 2;
			continue;
		}
		if (r == ENOENT || (r == 0 && res == NULL)) {
			ret = 0;	/* end of file: not a local account */
			goto out;
		}
		if (r != 0) {
			err = r;
			goto out;
		}
		if (strcmp(pw.pw_name, name) == 0) {
			if (uid != NULL)
				*uid = (uint32_t)pw.pw_uid;
			ret = 1;
			goto out;
		}
	}
out:
	free(buf);
	if (f != NULL)
		fclose(f);
	if (ret < 0)
		errno = err;
	return ret;
}
