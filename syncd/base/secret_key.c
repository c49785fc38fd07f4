/*
 * secret_key.c - a PEM private key from a root-only file (see
 * secret_key.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "secret_key.h"
#include "xmalloc.h"

/* Refuse a passphrase-protected key instead of prompting for one. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

EVP_PKEY *
secret_key_load(const char *path, const char *what, char *err, size_t errlen)
{
	char *buf = NULL, why[512];
	EVP_PKEY *key = NULL;
	struct stat sb;
	ssize_t n;
	size_t len = 0;
	BIO *bio;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the %s %s: %s", what, path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) != 0) {
		snprintf(err, errlen, "cannot stat the %s %s: %s", what, path,
		    strerror(errno));
		goto out;
	}
	if (config_check_secret(&sb, path, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "refusing the %s: %s", what, why);
		goto out;
	}
	buf = xmalloc(SECRET_KEY_MAX + 1);
	while (len <= SECRET_KEY_MAX &&
	    (n = read(fd, buf + len, SECRET_KEY_MAX + 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "cannot read the %s %s: %s", what, path,
			    strerror(errno));
			goto out;
		}
		len += (size_t)n;
	}
	if (len > SECRET_KEY_MAX) {
		snprintf(err, errlen, "the %s %s is larger than %d bytes; "
		    "it should hold one PEM private key", what, path, SECRET_KEY_MAX);
		goto out;
	}
	bio = BIO_new_mem_buf(buf, (int)len);
	if (bio != NULL) {
		key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
		BIO_free(bio);
	}
	if (key == NULL)
		snprintf(err, errlen, "the %s %s holds no PEM private key "
		    "okta-sync can use (one protected by a passphrase cannot be used; "
		    "write it unencrypted: openssl pkey -in OLD -out %s)", what, path,
		    path);
out:
	if (buf != NULL) {
		explicit_bzero(buf, SECRET_KEY_MAX + 1);
		free(buf);
	}
	close(fd);
	return key;
}
