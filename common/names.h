/*
 * names.h - validation of the names and fields an Okta entry becomes:
 * user and group names, the derived group name rule, GECOS sanitising,
 * home directories, and escaping untrusted text for messages.
 *
 * Shared by syncd (which validates before anything is stored) and by any
 * reader that wants to re-check a field.  libc only, no allocation, no
 * logging: every function writes into a caller's buffer.
 *
 * The rules (DESIGN.md rule 3):
 * - A valid name matches ^[a-z_][a-z0-9_.-]*$ and has 1..NAME_MAX_LEN
 *   bytes.  So it never starts with '-' or a digit (never all digits, so
 *   never mistaken for an ID), never holds ':', '/', '@', white space,
 *   upper case, control characters or non-ASCII bytes.
 * - Okta group names ("Engineering Team") become names by
 *   names_derive_group(): ASCII letters are lower-cased; every run of bytes
 *   outside [a-z0-9_.-] (spaces, punctuation, ':', newlines, each whole
 *   UTF-8 sequence) becomes one '-'; leading and trailing '-' and '.' are
 *   trimmed; a result starting with a digit gets the prefix "g-".  A result
 *   that is empty or longer than NAME_MAX_LEN is refused (never truncated).
 * - GECOS is sanitised, never a reason to reject: ':' ',' '=' are removed
 *   (they are field separators in passwd and in the GECOS sub-fields),
 *   control characters (newline included) and invalid UTF-8 become a
 *   space, runs of spaces collapse, the ends are trimmed, and the result is
 *   cut (at a character boundary) to GECOS_MAX_LEN bytes.
 */
#ifndef OKTA_NAMES_H
#define OKTA_NAMES_H

#include <stddef.h>

#define NAME_MAX_LEN 32

/*
 * The lowest UID or GID an Okta entry may ever have (DESIGN.md rule 1):
 * below it are the system accounts and groups (sudo 27, adm 4, shadow
 * 42...).  The sync never allocates or adopts an ID below it, and the
 * snapshot reader refuses any record that carries one, so that a forged
 * snapshot cannot hand out a system group.  A build-time constant, not a
 * setting: no host should lower it.
 */
#define OKTA_ID_FLOOR 1000u
#define GECOS_MAX_LEN 256
#define PATH_FIELD_MAX_LEN 4096

/*
 * Check a user or group name.  Returns NULL when valid, else a static
 * sentence fragment saying what is wrong ("is longer than 32 characters").
 * s NULL: "is missing".  Can't fail.
 */
const char *names_check(const char *s);

/*
 * Derive a group name from an Okta group name by the rule above into out
 * (outlen >= NAME_MAX_LEN + 1).  Returns NULL on success, else a static
 * sentence fragment ("has no letters or digits usable in a group name").
 */
const char *names_derive_group(const char *okta_name, char *out, size_t outlen);

/*
 * Sanitise a GECOS value by the rule above into out (outlen >= 1).  in NULL
 * is treated as "".  Returns the length written.  Can't fail.
 */
size_t names_sanitise_gecos(const char *in, char *out, size_t outlen);

/*
 * Returns 1 when s is safe as a passwd field: no ':' and no control
 * character (newline included), valid UTF-8, at most PATH_FIELD_MAX_LEN
 * bytes.  0 otherwise (NULL included).
 */
int names_field_safe(const char *s);

/*
 * Returns 1 when s is an absolute, normalised path: starts with '/', no
 * empty, "." or ".." component, no trailing '/' (except "/" itself), and
 * names_field_safe().  0 otherwise.
 */
int names_path_normal(const char *s);

/*
 * Expand the home template tmpl ("%u" -> name, "%%" -> "%") into out.
 * Returns NULL on success, else a static sentence fragment: the template
 * holds another '%' sequence, the result is too long, or it is not an
 * absolute normalised path under the template's fixed directory part (the
 * text before the first '%').
 */
const char *names_expand_home(const char *tmpl, const char *name, char *out,
    size_t outlen);

/*
 * Copy untrusted text into out for a message: printable ASCII as is ('\\'
 * and '"' escaped), everything else as \n, \t or \xHH, cut with "..." when
 * it does not fit.  out is always NUL-terminated (outlen >= 4).  Returns out.
 */
char *names_escape(const char *in, char *out, size_t outlen);

/* Returns 1 when s (not NULL) is valid UTF-8 without NUL, 0 otherwise. */
int names_utf8_valid(const char *s);

/* Returns 1 when s is a well-formed Okta id: 1..64 ASCII letters and digits. */
int names_okta_id_valid(const char *s);

#endif
