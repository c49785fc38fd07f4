/*
 * fleet_sign.h - the Ed25519 keys and signatures of fleet mode (issue
 * 12): the publisher signs the exact bytes of each manifest, a subscriber
 * trusts a manifest only when one of its configured public keys verifies
 * it.  Everything cryptographic is OpenSSL's libcrypto.
 *
 * Text forms (one line each, so they paste into a config file):
 *   public key   "okta-sync-ed25519 " base64(32-byte raw key)
 *   signature    "okta-sync-ed25519-sig " key_id " " base64(64 bytes) "\n"
 * key_id is the first 8 bytes of SHA-256(raw public key) in hex: it names
 * the key in messages and lets a subscriber with several keys (rotation)
 * say which one is missing.  The key id is a hint, never trusted: the
 * signature is checked against every configured key until one verifies.
 *
 * The private key is a PKCS#8 PEM file written by fleet_keygen (mode
 * 0600, never over an existing file) and loaded through secret_key_load
 * (root-only, checked like the token).
 */
#ifndef OKTA_FLEET_SIGN_H
#define OKTA_FLEET_SIGN_H

#include <openssl/evp.h>
#include <stddef.h>

#define FLEET_PUBKEY_PREFIX "okta-sync-ed25519 "
#define FLEET_SIG_PREFIX "okta-sync-ed25519-sig "
#define FLEET_KEY_ID_LEN 16           /* hex characters */
#define FLEET_PUBKEY_LINE_MAX 128     /* with room to spare */
#define FLEET_SIG_LINE_MAX 160

struct fleet_pubkey {
	unsigned char raw[32];
	char id[FLEET_KEY_ID_LEN + 1];
};

/*
 * Make a new Ed25519 key, write it to path (created with O_EXCL, mode
 * 0600: an existing file is never replaced) and put its public line in
 * publine.  0, or -1 with a sentence in err (nothing left behind).
 */
int fleet_keygen(const char *path, char *publine, size_t publen, char *err,
    size_t errlen);

/* The signing key in path (secret_key_load), which must be Ed25519.
 * NULL with a sentence in err. */
EVP_PKEY *fleet_load_signing_key(const char *path, char *err, size_t errlen);

/* The public line of a private or public Ed25519 key.  0 or -1. */
int fleet_public_line(EVP_PKEY *key, char *out, size_t outlen);

/* Parse one public line (surrounding blanks allowed).  0, or -1 with a
 * sentence in err. */
int fleet_parse_pubkey(const char *line, struct fleet_pubkey *pk, char *err,
    size_t errlen);

/* Sign msg[0..len) with key; the signature line (with its '\n') in sig.
 * 0, or -1 with a sentence in err. */
int fleet_sign(EVP_PKEY *key, const unsigned char *msg, size_t len,
    char *sig, size_t siglen, char *err, size_t errlen);

/*
 * Check the signature file sig[0..siglen) over msg[0..len) against
 * keys[0..nkeys).  The index of the key that verifies, or -1 with a
 * sentence in err ("signed by key 1a2b..., which is not among the
 * configured public_key", "the signature does not verify: the manifest
 * was changed after signing").
 */
int fleet_verify(const struct fleet_pubkey *keys, size_t nkeys,
    const unsigned char *msg, size_t len, const char *sig, size_t siglen,
    char *err, size_t errlen);

#endif
