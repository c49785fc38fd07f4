/*
 * secret_key.h - loading a PEM private key from a root-only file: the
 * OAuth service app's key ([okta] private_key_file) and the fleet
 * publisher's signing key ([fleet] signing_key).
 *
 * The file is checked as the token file is (config_check_secret: a
 * regular file, no symbolic link, owned by root or the running user, no
 * group or other access) on the descriptor that is then read, so it
 * cannot be swapped in between.  A passphrase-protected key is refused
 * rather than prompted for: the daemon has no one to ask.  The bytes read
 * are wiped before returning.
 */
#ifndef OKTA_SECRET_KEY_H
#define OKTA_SECRET_KEY_H

#include <openssl/evp.h>
#include <stddef.h>

#define SECRET_KEY_MAX 65536    /* a PEM key file is a few KiB */

/*
 * The key in path, or NULL with a sentence in err that names the file as
 * `what` ("private key file", "signing key") and says what to do.  Any
 * key type; the caller checks the one it needs.
 */
EVP_PKEY *secret_key_load(const char *path, const char *what, char *err,
    size_t errlen);

#endif
