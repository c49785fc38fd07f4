/*
 * sshkey.h - one OpenSSH public key line, as an Okta profile attribute
 * holds it, checked before it may reach sshd's AuthorizedKeysCommand.
 *
 * The attribute is user-editable in many Okta orgs, and whatever the key
 * program prints, sshd trusts as an authorized_keys line.  So a line is
 * accepted only when it is, exactly:
 *
 *     [options SP] type SP base64 [SP comment]
 *
 * - type: ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384,
 *   ecdsa-sha2-nistp521, ssh-rsa, sk-ssh-ed25519@openssh.com,
 *   sk-ecdsa-sha2-nistp256@openssh.com (DSA and anything else: refused);
 * - base64 that decodes (b64_pton from glibc's libresolv) to a blob whose
 *   first string is that same type, whose fields are all present with
 *   their lengths inside the blob and nothing after them; ssh-rsa with a
 *   modulus of at least SSHKEY_RSA_MIN_BITS; ed25519 keys 32 bytes;
 *   ECDSA keys naming their own curve;
 * - comment: printable ASCII (0x20..0x7e) up to SSHKEY_COMMENT_MAX bytes;
 * - the whole line at most SSHKEY_LINE_MAX bytes, no NUL, CR, LF, TAB or
 *   other control byte anywhere (a multi-line value is split by the
 *   caller; a line still holding one is refused, not split);
 * - options: refused unless allow_options is set, and then only these,
 *   comma-separated, each at most once: no-port-forwarding,
 *   no-agent-forwarding, no-X11-forwarding, no-pty, no-user-rc, restrict,
 *   from="PATTERNS", expiry-time="YYYYMMDD[HHMM[SS]]".  A quoted value
 *   holds no '"', '\\' or control byte.  command=, environment=,
 *   permitopen=, permitlisten=, tunnel=, principals=, cert-authority and
 *   any other option are refused whatever allow_options says.
 *
 * Leading and trailing spaces are dropped; runs of spaces between fields
 * become one (the comment keeps its own inner spaces).  Option names are
 * matched without regard to case and written as OpenSSH documents them
 * ("NO-PTY" becomes "no-pty"); a value must be in double quotes.  The
 * first field is the options unless it is a known type, or the only
 * field, or a field without '=' or ',' followed by key data ("AAAA...":
 * then it is an unknown type, and "ssh-dss" is named as such).  The
 * accepted output is canonical: checked again, it comes back unchanged.
 * Stack use is about 24 KB.
 * Pure functions: no allocation, no global state, so both the
 * sync (syncd/engine) and the key program (keys/) call them, the latter
 * again on every line it reads from the snapshot (untrusted input).
 */
#ifndef OKTA_SSHKEY_H
#define OKTA_SSHKEY_H

#include <stddef.h>

#define SSHKEY_LINE_MAX 8192       /* a 16384-bit RSA key line is ~2.8 KB */
#define SSHKEY_COMMENT_MAX 256
#define SSHKEY_RSA_MIN_BITS 2048
#define SSHKEY_WHY_MAX 160         /* room for any reason sentence */

/*
 * Check `line` (len bytes, need not be NUL-terminated).  On success
 * returns 0 and writes the canonical line (NUL-terminated, at most
 * SSHKEY_LINE_MAX bytes plus the NUL; out must have outlen >=
 * SSHKEY_LINE_MAX + 1) into out.  Otherwise returns -1 with a short
 * lower-case reason for the admin in why ("option command= is not
 * allowed", "RSA key of 1024 bits, at least 2048 required", "type
 * ssh-rsa but the key data says ssh-ed25519", ...), which never quotes
 * the line itself (it may hold control bytes).  Can't fail otherwise.
 */
int sshkey_check(const char *line, size_t len, int allow_options,
    char *out, size_t outlen, char *why, size_t whylen);

/* The key type of a canonical line (after any options), for messages
 * such as "ssh-ed25519 ...": copies at most typelen - 1 bytes; returns
 * type.  Can't fail. */
const char *sshkey_type(const char *canonical, char *type, size_t typelen);

#endif
