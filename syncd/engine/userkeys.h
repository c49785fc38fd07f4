/*
 * userkeys.h - a user's SSH public keys, read from the Okta profile
 * attribute [posix] ssh_keys_attribute, each checked by sshkey_check()
 * (common/sshkey.h) before it may be stored or published.
 *
 * The attribute (untrusted: in many orgs the user can edit it) is taken as:
 *   - absent or null: no keys, nothing to report;
 *   - an array of strings: one key per item; an item that holds a line
 *     break is one bad key, never split into two;
 *   - one string: keys separated by LF; a CR anywhere stays in its line,
 *     which sshkey_check() then refuses (a CRLF value is refused, not
 *     silently repaired);
 *   - anything else (a number, an object, an array holding a non-string):
 *     no keys, and one rejection saying so.
 * Empty items and lines, and lines starting with '#', are skipped, as in
 * an authorized_keys file.  A key that fails sshkey_check() is rejected
 * with a sentence naming its position and, where it can be recognised,
 * its type, never its text.  A key whose options, type and base64 repeat
 * an accepted one is dropped (only its comment may differ).  After
 * SNAP_KEYS_MAX accepted keys the rest are rejected, in one sentence.
 * The user is kept in every case: only keys are rejected.
 */
#ifndef OKTA_USERKEYS_H
#define OKTA_USERKEYS_H

#include <json-c/json.h>
#include <stddef.h>

#include "config.h"

/* At most this many rejection sentences for one user; the rest are
 * counted in one more. */
#define USERKEYS_REJECTS_MAX 16

struct userkeys {
	char *lines;       /* the accepted canonical lines, each followed by
	                      '\n'; NULL when none (malloc'd) */
	size_t nkeys;      /* lines in `lines` */
	char **rejects;    /* sentences (malloc'd), nrejects of them */
	size_t nrejects;
};

/*
 * Read c->ssh_keys_attribute of profile (a JSON object, or NULL) into k.
 * Nothing to do when the attribute is not configured.  Can't fail
 * (memory exhaustion aborts, as xmalloc does); free k with userkeys_free.
 */
void userkeys_map(const struct config *c, json_object *profile,
    struct userkeys *k);
void userkeys_free(struct userkeys *k);     /* accepts an empty k */

/*
 * "N key(s): type, type, ..." for a stored list of lines (the format of
 * userkeys.lines, NULL or "" for none): what `okta-sync show` and the plan
 * print about a user's keys.  Writes at most outlen bytes; returns out.
 * Can't fail.
 */
const char *userkeys_describe(const char *lines, char *out, size_t outlen);

/*
 * What changed between two stored lists, for the plan: "1 -> 2 (added
 * ssh-rsa)", "1 -> 1 (added ssh-ed25519; removed ssh-ed25519)" (a key
 * replaced by another of its type).  Lines are compared whole, comments
 * included.  Returns out.  Can't fail.
 */
const char *userkeys_diff(const char *old, const char *new, char *out,
    size_t outlen);

/* The number of lines in a stored list (NULL: 0).  Can't fail. */
size_t userkeys_count(const char *lines);

/* Walk a stored list: *pos starts at the list (may be NULL).  1 with the
 * next line in *line, *len bytes without its '\n', and *pos moved past
 * it; 0 at the end (a last line without its '\n' is not a line, as
 * userkeys_count counts).  Can't fail. */
int userkeys_next(const char **pos, const char **line, size_t *len);

#endif
