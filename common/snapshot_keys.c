/*
 * snapshot_keys.c - the 'k' records (format 2, issue 10): a user's SSH
 * public keys (snapshot.h; layout in snapshot_format.h).
 *
 * Writer side: snap_keys_check and snap_keys_encode, which
 * snap_writer_add_user_keys (snapshot_writer.c, which owns the writer's
 * state) calls.  Every line must already be what sshkey_check makes of it,
 * with options allowed (the sync applied the admin's
 * ssh_keys_allow_options before; the writer only makes sure nothing else
 * gets in).  Reader side: snap_user_keys, under the reader's rules (see
 * snapshot_reader.c): the record is untrusted, every length is checked by
 * subtraction, the whole record is checked before the first line is
 * handed out (a corrupt record gives no partial answer), and nothing is
 * allocated, written or logged.  The reader checks framing and bytes
 * only: a caller that prints a line runs sshkey_check on it too.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "snapshot.h"
#include "snapshot_format.h"
#include "snapshot_internal.h"
#include "sshkey.h"

/* Bytes a stored line may hold. */
static int
line_bytes_ok(const unsigned char *p, size_t len)
{
	size_t i;

	if (len == 0 || len > SSHKEY_LINE_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return 0;
	return 1;
}

int
snap_keys_check(const char *user, const char *const *lines, size_t nlines,
    size_t *vlen, char *err, size_t errlen)
{
	char canon[SSHKEY_LINE_MAX + 1], why[SSHKEY_WHY_MAX];
	size_t i, len, total = 4;

	if (nlines == 0 || nlines > SNAP_KEYS_MAX || lines == NULL) {
		snprintf(err, errlen, "user %s: %zu SSH keys, 1 to %d may be "
		    "written", user, nlines, SNAP_KEYS_MAX);
		return -1;
	}
	for (i = 0; i < nlines; i++) {
		if (lines[i] == NULL) {
			snprintf(err, errlen, "user %s: SSH key %zu is missing",
			    user, i + 1);
			return -1;
		}
		len = strlen(lines[i]);
		if (sshkey_check(lines[i], len, 1, canon, sizeof(canon), why,
		    sizeof(why)) != 0) {
			snprintf(err, errlen, "user %s: SSH key %zu is refused: "
			    "%s", user, i + 1, why);
			return -1;
		}
		if (strcmp(canon, lines[i]) != 0) {
			snprintf(err, errlen, "user %s: SSH key %zu is not in "
			    "canonical form (sshkey_check's output)", user, i + 1);
			return -1;
		}
		total += 2 + len;
	}
	*vlen = total;
	return 0;
}

void
snap_keys_encode(const char *const *lines, size_t nlines, unsigned char *out)
{
	size_t i, len;

	snap_put32(out, (uint32_t)nlines);
	out += 4;
	for (i = 0; i < nlines; i++) {
		len = strlen(lines[i]);
		snap_put16(out, (uint16_t)len);
		memcpy(out + 2, lines[i], len);
		out += 2 + len;
	}
}

/* The whole record v[0..vlen): framing and bytes.  1 ok, 0 corrupt. */
static int
record_ok(const unsigned char *v, size_t vlen)
{
	size_t left, len;
	uint32_t n, i;

	if (vlen < 4)
		return 0;
	n = snap_get32(v);
	if (n == 0 || n > SNAP_KEYS_MAX)
		return 0;
	v += 4;
	left = vlen - 4;
	for (i = 0; i < n; i++) {
		if (left < 2)
			return 0;
		len = snap_get16(v);
		if (len > left - 2 || !line_bytes_ok(v + 2, len))
			return 0;
		v += 2 + len;
		left -= 2 + len;
	}
	return left == 0;
}

int
snap_user_keys(const struct snap *s, const char *user,
    int (*fn)(void *ctx, const char *line, size_t len), void *ctx)
{
	const unsigned char *v;
	size_t vlen, len;
	uint32_t n, i;
	int r;

	if ((r = snap_find_named(s, SNAP_KEY_SSHKEY, user, &v, &vlen)) <= 0)
		return r;
	if (!record_ok(v, vlen)) {
		errno = EPROTO;
		return -1;
	}
	n = snap_get32(v);
	v += 4;
	for (i = 0; i < n; i++) {
		len = snap_get16(v);
		if (fn(ctx, (const char *)v + 2, len) != 0)
			break;
		v += 2 + len;
	}
	return 1;
}
