/*
 * snapshot_policy.c - the snapshot's 'P' record: the PAM policy (see
 * snapshot.h; the layout is in snapshot_format.h).
 *
 * The sync encodes the [pam] section of okta-sync.conf here (through
 * snap_writer_set_policy); pam_okta decodes it.  The record is untrusted
 * like the rest of the file, and it decides who may log in, so the decoder
 * accepts only what the encoder writes: every known setting exactly once,
 * each with its exact length and a value in range, group names that are
 * valid fields.  Anything else is EPROTO, which pam_okta answers by
 * denying Okta users: a policy it cannot fully read might have been
 * stricter than the defaults.
 *
 * Allocates nothing; no global state.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "snapshot.h"
#include "snapshot_format.h"
#include "snapshot_internal.h"

enum {
	TAG_MAX_CACHE_AGE = 1,
	TAG_STALE_POLICY = 2,
	TAG_DENY_RECOVERY = 3,
	TAG_DENY_PASSWORD_EXPIRED = 4,
	TAG_TOMBSTONE = 5,
	TAG_ALLOWED_GROUP = 6,
	TAG_LAST = 6
};

/* The tags that must appear exactly once. */
#define SCALAR_TAGS ((1u << TAG_MAX_CACHE_AGE) | (1u << TAG_STALE_POLICY) | \
	(1u << TAG_DENY_RECOVERY) | (1u << TAG_DENY_PASSWORD_EXPIRED) | \
	(1u << TAG_TOMBSTONE))

void
snap_policy_defaults(struct snap_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->max_cache_age = SNAP_POLICY_DEFAULT_MAX_AGE;
	p->stale_policy = SNAP_STALE_DENY;
	p->deny_recovery = 0;
	p->deny_password_expired = 0;
	p->tombstone = SNAP_TOMB_POLICY_DENY;
	p->ngroups = 0;
}

int
snap_policy_parse_duration(const char *s, long long *out)
{
	long long v = 0, mult = 1;
	const char *p = s;

	if (s == NULL || *p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (LLONG_MAX - (*p - '0')) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	switch (*p) {
	case '\0':
	case 's':
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	default:
		return -1;
	}
	if (*p != '\0' && p[1] != '\0')
		return -1;
	if (v > LLONG_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

const char *
snap_policy_format_duration(long long secs, char *buf, size_t len)
{
	if (secs > 0 && secs % 86400 == 0)
		(void)snprintf(buf, len, "%lldd", secs / 86400);
	else if (secs > 0 && secs % 3600 == 0)
		(void)snprintf(buf, len, "%lldh", secs / 3600);
	else if (secs > 0 && secs % 60 == 0)
		(void)snprintf(buf, len, "%lldm", secs / 60);
	else
		(void)snprintf(buf, len, "%llds", secs);
	return buf;
}

int64_t
snap_policy_refuse_at(const struct snap_policy *p, int64_t last_sync)
{
	if (p->max_cache_age <= 0 || p->stale_policy == SNAP_STALE_ALLOW)
		return -1;
	if (last_sync <= 0)
		return 0;
	/* pam_okta refuses when the age is greater than max_cache_age. */
	if (last_sync > INT64_MAX - p->max_cache_age - 1)
		return -1;
	return last_sync + p->max_cache_age + 1;
}

static unsigned char *
put_field(unsigned char *o, unsigned tag, const void *v, size_t len)
{
	snap_put16(o, (uint16_t)tag);
	snap_put16(o + 2, (uint16_t)len);
	memcpy(o + 4, v, len);
	return o + 4 + len;
}

static unsigned char *
put_u8(unsigned char *o, unsigned tag, int v)
{
	unsigned char b = (unsigned char)v;

	return put_field(o, tag, &b, 1);
}

int
snap_policy_encode(const struct snap_policy *p, unsigned char *out,
    size_t *len, char *err, size_t errlen)
{
	unsigned char *o = out + 4, age[8];
	size_t i, nl;

	if (p->max_cache_age < 0) {
		snprintf(err, errlen, "policy: max_cache_age is negative");
		return -1;
	}
	if ((p->stale_policy != SNAP_STALE_DENY &&
	    p->stale_policy != SNAP_STALE_ALLOW) ||
	    (p->tombstone != SNAP_TOMB_POLICY_DENY &&
	    p->tombstone != SNAP_TOMB_POLICY_IGNORE) ||
	    (p->deny_recovery != 0 && p->deny_recovery != 1) ||
	    (p->deny_password_expired != 0 && p->deny_password_expired != 1)) {
		snprintf(err, errlen, "policy: a setting is out of range");
		return -1;
	}
	if (p->ngroups > SNAP_POLICY_MAX_GROUPS) {
		snprintf(err, errlen, "policy: more than %d allowed_groups",
		    SNAP_POLICY_MAX_GROUPS);
		return -1;
	}
	snap_put64(age, (uint64_t)p->max_cache_age);
	o = put_field(o, TAG_MAX_CACHE_AGE, age, sizeof(age));
	o = put_u8(o, TAG_STALE_POLICY, p->stale_policy == SNAP_STALE_ALLOW);
	o = put_u8(o, TAG_DENY_RECOVERY, p->deny_recovery);
	o = put_u8(o, TAG_DENY_PASSWORD_EXPIRED, p->deny_password_expired);
	o = put_u8(o, TAG_TOMBSTONE, p->tombstone == SNAP_TOMB_POLICY_IGNORE);
	for (i = 0; i < p->ngroups; i++) {
		nl = p->groups[i] != NULL ? strlen(p->groups[i]) : 0;
		if (nl == 0 || nl > SNAP_POLICY_NAME_MAX ||
		    !snap_field_ok(p->groups[i], nl, 1)) {
			snprintf(err, errlen, "policy: allowed_groups name "
			    "\"%.64s\" is empty, longer than %d bytes, or holds "
			    "':', ',' or a newline", p->groups[i] ? p->groups[i] :
			    "", SNAP_POLICY_NAME_MAX);
			return -1;
		}
		o = put_field(o, TAG_ALLOWED_GROUP, p->groups[i], nl);
	}
	snap_put32(out, (uint32_t)(5 + p->ngroups));
	*len = (size_t)(o - out);
	return 0;
}

/* Decode the record v[0..vlen) into *p and buf.  1, or -1 with errno. */
static int
decode(const unsigned char *v, size_t vlen, struct snap_policy *p, char *buf,
    size_t buflen)
{
	uint32_t nfields, i, seen = 0;
	size_t left, off = 0;
	unsigned tag, len;
	const unsigned char *f;
	int64_t age;

	snap_policy_defaults(p);
	if (vlen < 4)
		goto corrupt;
	nfields = snap_get32(v);
	v += 4;
	left = vlen - 4;
	/* Each field takes at least 4 bytes: bound the count by the record. */
	if (nfields > left / 4)
		goto corrupt;
	for (i = 0; i < nfields; i++) {
		if (left < 4)
			goto corrupt;
		tag = snap_get16(v);
		len = snap_get16(v + 2);
		if (len > left - 4)
			goto corrupt;
		f = v + 4;
		v += 4 + len;
		left -= 4 + len;
		if (tag == 0 || tag > TAG_LAST)
			goto corrupt;
		if (tag != TAG_ALLOWED_GROUP) {
			if (seen & (1u << tag))
				goto corrupt;
			seen |= 1u << tag;
		}
		switch (tag) {
		case TAG_MAX_CACHE_AGE:
			if (len != 8)
				goto corrupt;
			age = (int64_t)snap_get64(f);
			if (age < 0)
				goto corrupt;
			p->max_cache_age = age;
			break;
		case TAG_ALLOWED_GROUP:
			if (len == 0 || len > SNAP_POLICY_NAME_MAX ||
			    !snap_field_ok(f, len, 1) ||
			    p->ngroups == SNAP_POLICY_MAX_GROUPS)
				goto corrupt;
			if (off > buflen || len >= buflen - off) {
				errno = ERANGE;
				return -1;
			}
			memcpy(buf + off, f, len);
			buf[off + len] = '\0';
			p->groups[p->ngroups++] = buf + off;
			off += len + 1;
			break;
		default:
			/* The one-byte switches: 0 or 1 only. */
			if (len != 1 || f[0] > 1)
				goto corrupt;
			if (tag == TAG_STALE_POLICY)
				p->stale_policy = f[0] ? SNAP_STALE_ALLOW :
				    SNAP_STALE_DENY;
			else if (tag == TAG_DENY_RECOVERY)
				p->deny_recovery = f[0];
			else if (tag == TAG_DENY_PASSWORD_EXPIRED)
				p->deny_password_expired = f[0];
			else
				p->tombstone = f[0] ? SNAP_TOMB_POLICY_IGNORE :
				    SNAP_TOMB_POLICY_DENY;
			break;
		}
	}
	if (left != 0 || seen != SCALAR_TAGS)
		goto corrupt;
	return 1;
corrupt:
	errno = EPROTO;
	return -1;
}

int
snap_get_policy(const struct snap *s, struct snap_policy *p, char *buf,
    size_t buflen)
{
	const unsigned char *v;
	char key = SNAP_KEY_POLICY;
	size_t vlen;
	int r;

	snap_policy_defaults(p);
	if ((r = snap_find_key(s, &key, 1, &v, &vlen)) <= 0)
		return r;
	return decode(v, vlen, p, buf, buflen);
}
