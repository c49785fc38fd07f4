/*
 * fleet_sign.c - Ed25519 keys and signatures of fleet mode (see
 * fleet_sign.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fleet_file.h"
#include "fleet_sign.h"
#include "manifest.h"
#include "secret_key.h"

#define RAW_PUB_LEN 32
#define RAW_SIG_LEN 64

/* Standard base64 of n bytes into out (outlen >= 4 * ((n + 2) / 3) + 1). */
static void
b64_encode(const unsigned char *p, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

/*
 * Decode exactly `want` bytes from s[0..len), which must be the canonical
 * padded encoding of them (re-encoding gives the same text): no blanks,
 * no other length, no trailing bits.  0 or -1.
 */
static int
b64_decode_exact(const char *s, size_t len, unsigned char *out, size_t want)
{
	unsigned char buf[RAW_SIG_LEN + 3];
	char again[((RAW_SIG_LEN + 2) / 3) * 4 + 1];
	size_t enc = ((want + 2) / 3) * 4;
	int n;

	if (want > RAW_SIG_LEN || len != enc)
		return -1;
	n = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len);
	if (n < 0 || (size_t)n < want)
		return -1;
	b64_encode(buf, want, again);
	if (memcmp(again, s, len) != 0)
		return -1;
	memcpy(out, buf, want);
	return 0;
}

static void
key_id(const unsigned char raw[RAW_PUB_LEN], char id[FLEET_KEY_ID_LEN + 1])
{
	unsigned char md[32];
	char hex[65];

	fleet_sha256(raw, RAW_PUB_LEN, md);
	fleet_hex(md, hex);
	memcpy(id, hex, FLEET_KEY_ID_LEN);
	id[FLEET_KEY_ID_LEN] = '\0';
}

int
fleet_public_line(EVP_PKEY *key, char *out, size_t outlen)
{
	unsigned char raw[RAW_PUB_LEN];
	char b64[((RAW_PUB_LEN + 2) / 3) * 4 + 1];
	size_t rawlen = sizeof(raw);
	int n;

	if (key == NULL || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(key, raw, &rawlen) != 1 ||
	    rawlen != RAW_PUB_LEN)
		return -1;
	b64_encode(raw, rawlen, b64);
	n = snprintf(out, outlen, "%s%s", FLEET_PUBKEY_PREFIX, b64);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int
fleet_keygen(const char *path, char *publine, size_t publen, char *err,
    size_t errlen)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	BIO *bio = NULL;
	char *pem = NULL;
	long pemlen = 0;
	int fd = -1, rc = -1;
	size_t off = 0;

	if (key == NULL) {
		snprintf(err, errlen, "cannot make an Ed25519 key (OpenSSL failed)");
		return -1;
	}
	if (fleet_public_line(key, publine, publen) != 0) {
		snprintf(err, errlen, "cannot write the public key line");
		goto out;
	}
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0,
	    NULL, NULL) != 1 || (pemlen = BIO_get_mem_data(bio, &pem)) <= 0) {
		snprintf(err, errlen, "cannot encode the key as PEM (OpenSSL failed)");
		goto out;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			snprintf(err, errlen, "%s already exists; okta-sync never "
			    "replaces a signing key (remove it first if you mean to "
			    "rotate, after adding the new public key to every "
			    "subscriber)", path);
		else
			snprintf(err, errlen, "cannot create %s: %s", path,
			    strerror(errno));
		goto out;
	}
	while (off < (size_t)pemlen) {
		ssize_t w = write(fd, pem + off, (size_t)pemlen - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "cannot write %s: %s", path,
			    strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write %s to disk: %s", path,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (pem != NULL)
		OPENSSL_cleanse(pem, (size_t)pemlen);
	BIO_free(bio);
	if (fd >= 0) {
		if (close(fd) != 0 && rc == 0) {
			snprintf(err, errlen, "cannot write %s: %s", path,
			    strerror(errno));
			rc = -1;
		}
		if (rc != 0)
			unlink(path);
	}
	EVP_PKEY_free(key);
	return rc;
}

EVP_PKEY *
fleet_load_signing_key(const char *path, char *err, size_t errlen)
{
	EVP_PKEY *key = secret_key_load(path, "signing key", err, errlen);

	if (key != NULL && EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
		snprintf(err, errlen, "the signing key %s is not an Ed25519 key; "
		    "make one with `okta-sync fleet keygen`", path);
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}

int
fleet_parse_pubkey(const char *line, struct fleet_pubkey *pk, char *err,
    size_t errlen)
{
	size_t plen = strlen(FLEET_PUBKEY_PREFIX), len;

	while (*line == ' ' || *line == '\t')
		line++;
	len = strlen(line);
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' ||
	    line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len < plen || strncmp(line, FLEET_PUBKEY_PREFIX, plen) != 0) {
		snprintf(err, errlen, "a public key must start with \"%s\" (as "
		    "`okta-sync fleet keygen` prints it)", FLEET_PUBKEY_PREFIX);
		return -1;
	}
	if (b64_decode_exact(line + plen, len - plen, pk->raw, RAW_PUB_LEN) != 0) {
		snprintf(err, errlen, "the public key is not the base64 of 32 bytes "
		    "(an Ed25519 key); copy the whole line `okta-sync fleet keygen` "
		    "printed");
		return -1;
	}
	key_id(pk->raw, pk->id);
	return 0;
}

int
fleet_sign(EVP_PKEY *key, const unsigned char *msg, size_t len, char *sig,
    size_t siglen, char *err, size_t errlen)
{
	unsigned char raw[RAW_SIG_LEN], pub[RAW_PUB_LEN];
	char b64[((RAW_SIG_LEN + 2) / 3) * 4 + 1], id[FLEET_KEY_ID_LEN + 1];
	size_t rawlen = sizeof(raw), publen = sizeof(pub);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok, n;

	ok = ctx != NULL &&
	    EVP_PKEY_get_raw_public_key(key, pub, &publen) == 1 &&
	    publen == RAW_PUB_LEN &&
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestSign(ctx, raw, &rawlen, msg, len) == 1 &&
	    rawlen == RAW_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		snprintf(err, errlen, "cannot sign the manifest (OpenSSL failed)");
		return -1;
	}
	key_id(pub, id);
	b64_encode(raw, rawlen, b64);
	n = snprintf(sig, siglen, "%s%s %s\n", FLEET_SIG_PREFIX, id, b64);
	if (n < 0 || (size_t)n >= siglen) {
		snprintf(err, errlen, "no room for the signature line");
		return -1;
	}
	return 0;
}

/* Split "PREFIX id b64\n" into the key id and the raw signature. */
static int
parse_sig(const char *sig, size_t siglen, char id[FLEET_KEY_ID_LEN + 1],
    unsigned char raw[RAW_SIG_LEN])
{
	size_t plen = strlen(FLEET_SIG_PREFIX), b64len;
	const char *p = sig, *end = sig + siglen;

	if (siglen > 0 && end[-1] == '\n')
		end--;
	if ((size_t)(end - p) < plen + FLEET_KEY_ID_LEN + 1 ||
	    memcmp(p, FLEET_SIG_PREFIX, plen) != 0)
		return -1;
	p += plen;
	for (size_t i = 0; i < FLEET_KEY_ID_LEN; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return -1;
	memcpy(id, p, FLEET_KEY_ID_LEN);
	id[FLEET_KEY_ID_LEN] = '\0';
	p += FLEET_KEY_ID_LEN;
	if (*p != ' ')
		return -1;
	p++;
	b64len = (size_t)(end - p);
	return b64_decode_exact(p, b64len, raw, RAW_SIG_LEN);
}

int
fleet_verify(const struct fleet_pubkey *keys, size_t nkeys,
    const unsigned char *msg, size_t len, const char *sig, size_t siglen,
    char *err, size_t errlen)
{
	unsigned char raw[RAW_SIG_LEN];
	char id[FLEET_KEY_ID_LEN + 1];
	int named = 0;

	if (parse_sig(sig, siglen, id, raw) != 0) {
		snprintf(err, errlen, "the signature file is not an okta-sync "
		    "Ed25519 signature line");
		return -1;
	}
	for (size_t i = 0; i < nkeys; i++) {
		EVP_PKEY *pk;
		EVP_MD_CTX *ctx;
		int ok;

		if (strcmp(keys[i].id, id) == 0)
			named = 1;
		pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, keys[i].raw,
		    RAW_PUB_LEN);
		ctx = EVP_MD_CTX_new();
		ok = pk != NULL && ctx != NULL &&
		    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
		    EVP_DigestVerify(ctx, raw, RAW_SIG_LEN, msg, len) == 1;
		EVP_MD_CTX_free(ctx);
		EVP_PKEY_free(pk);
		if (ok)
			return (int)i;
	}
	if (named)
		snprintf(err, errlen, "the signature by key %s does not verify: the "
		    "manifest was changed after it was signed", id);
	else
		snprintf(err, errlen, "the manifest is signed by key %s, which is "
		    "not among the configured public_key lines", id);
	return -1;
}
