/*
 * snapshot_tombstone.c - the reader's side of the 't' records (format 2,
 * snapshot.h and snapshot_format.h): the Okta users who have left the
 * host, which pam_okta denies and NSS never serves.
 *
 * Same rules as snapshot_reader.c: the file is trusted by nobody, every
 * length is checked by subtraction before it is used, fields are checked
 * with snap_field_ok, the name inside the record must equal the key it was
 * found by, the UID is at least OKTA_ID_FLOOR (as for users: a record that
 * says otherwise is forged or broken), and nothing is allocated, written
 * or logged.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "names.h"
#include "snapshot.h"
#include "snapshot_internal.h"
#include "snapshot_format.h"

const char *
snap_tomb_reason_name(enum snap_tomb_reason r)
{
	switch (r) {
	case SNAP_TOMB_REMOVED:
		return "removed from Okta";
	case SNAP_TOMB_OUT_OF_SCOPE:
		return "out of scope";
	case SNAP_TOMB_DEPROVISIONED:
		return "deprovisioned";
	case SNAP_TOMB_REJECTED:
		return "rejected";
	case SNAP_TOMB_OTHER:
		break;
	}
	return "other";
}

/* Take a u16-length string from *p (left bytes): 0, or -1 short. */
static int
take(const unsigned char **p, size_t *left, const unsigned char **s,
    size_t *len)
{
	if (*left < 2)
		return -1;
	*len = snap_get16(*p);
	if (*len > *left - 2)
		return -1;
	*s = *p + 2;
	*p += 2 + *len;
	*left -= 2 + *len;
	return 0;
}

int
snap_get_tombstone(const struct snap *s, const char *name,
    struct snap_tombstone *t, char *buf, size_t buflen)
{
	const unsigned char *v, *p, *n, *y;
	size_t nl = strlen(name), vlen, left, nlen, ylen;
	unsigned reason;
	int r;

	if ((r = snap_find_named(s, SNAP_KEY_TOMB, name, &v, &vlen)) <= 0)
		return r;
	if (vlen < SNAP_TOMB_FIXED)
		goto corrupt;
	p = v + SNAP_TOMB_FIXED;
	left = vlen - SNAP_TOMB_FIXED;
	if (take(&p, &left, &n, &nlen) != 0 || !snap_field_ok(n, nlen, 1) ||
	    nlen != nl || memcmp(n, name, nl) != 0 ||
	    take(&p, &left, &y, &ylen) != 0 || !snap_field_ok(y, ylen, 0))
		goto corrupt;
	t->uid = snap_get32(v);
	if (t->uid < OKTA_ID_FLOOR || t->uid == UINT32_MAX)
		goto corrupt;
	reason = v[4];
	t->reason = reason <= SNAP_TOMB_REASON_MAX ?
	    (enum snap_tomb_reason)reason : SNAP_TOMB_OTHER;
	t->left_at = (int64_t)snap_get64(v + 8);
	t->expires = (int64_t)snap_get64(v + 16);
	/* Both strings with their NULs, by subtraction. */
	if (buflen < 2 || nlen > buflen - 2 || ylen > buflen - 2 - nlen) {
		errno = ERANGE;
		return -1;
	}
	memcpy(buf, n, nlen);
	buf[nlen] = '\0';
	memcpy(buf + nlen + 1, y, ylen);
	buf[nlen + 1 + ylen] = '\0';
	t->name = buf;
	t->why = buf + nlen + 1;
	return 1;
corrupt:
	errno = EPROTO;
	return -1;
}
