/*
 * test_snapshot_keys.c - the 'k' records (format 2, issue 10): the
 * writer's snap_writer_add_user_keys and the reader's snap_user_keys,
 * through real files, including what the writer refuses (at the call and
 * at commit) and what the reader calls corrupt (forged with cdb directly,
 * as test_snapshot_tombstone.c forges 't' records).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cdb.h>

#include "testlib.h"
#include "forge_snapshot.h"
#include "snapshot.h"
#include "snapshot_format.h"
#include "sshkey.h"

#define K1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDsu3fCqJpfzuj7UZv/T6KA5HhfeXWKoaGEq3bo59u9k jane@laptop"
#define K2 "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPoIQM33u20JmRglebu+QAfDyKmhhBNFxPzYgjJMjGenUQvixwmj3RJz5IueIkiTs3SQ56Gj22j5LwDeNT9QNHo="
#define K3 "from=\"10.0.0.0/8\",no-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDsu3fCqJpfzuj7UZv/T6KA5HhfeXWKoaGEq3bo59u9k"

static char dir[64];
static char path[128];

static const struct snap_user jane = {
	.name = "jane", .uid = 2000000001, .gid = 2000000001, .gecos = "Jane",
	.dir = "/home/jane", .shell = "/bin/bash", .status = OKTA_STATUS_ACTIVE,
};
static const struct snap_user bob = {
	.name = "bob", .uid = 2000000002, .gid = 2000000002, .gecos = "Bob",
	.dir = "/home/bob", .shell = "/bin/bash", .status = OKTA_STATUS_ACTIVE,
};

/* A snapshot with jane and bob, and the keys lines[0..n) for `who`
 * (twice when `twice`).  0, or -1 with the writer's sentence in err. */
static int
write_snap(const char *who, const char *const *lines, size_t n, int twice,
    char *err, size_t errlen)
{
	struct snap_meta meta = { .last_sync = 1700000100, .generation = 4 };
	struct snap_writer *w;

	err[0] = '\0';
	if ((w = snap_writer_open(path, err, errlen)) == NULL)
		return -1;
	if (snap_writer_add_user(w, &jane) != 0 ||
	    snap_writer_add_user_keys(w, who, lines, n) != 0 ||
	    (twice && snap_writer_add_user_keys(w, who, lines, n) != 0) ||
	    snap_writer_add_user(w, &bob) != 0)
		goto fail;
	return snap_writer_commit(w, &meta, err, errlen);
fail:
	snprintf(err, errlen, "%s", snap_writer_error(w));
	snap_writer_abort(w);
	return -1;
}

/* Collects what snap_user_keys hands out, NUL-terminated. */
struct got {
	char lines[SNAP_KEYS_MAX + 1][SSHKEY_LINE_MAX + 1];
	size_t n, stop_after;
};

static int
collect(void *ctx, const char *line, size_t len)
{
	struct got *g = ctx;

	if (g->n < SNAP_KEYS_MAX + 1 && len <= SSHKEY_LINE_MAX) {
		memcpy(g->lines[g->n], line, len);
		g->lines[g->n][len] = '\0';
	}
	g->n++;
	return g->stop_after && g->n >= g->stop_after;
}

static struct got got;

/* snap_user_keys(user) on path: its result, -3 when errno is not EPROTO,
 * -2 when the file does not open. */
static int
lookup(const char *user, size_t stop_after)
{
	struct snap *s = NULL;
	int r;

	memset(&got, 0, sizeof(got));
	got.stop_after = stop_after;
	if (snap_open(path, &s) != 0)
		return -2;
	errno = 0;
	r = snap_user_keys(s, user, collect, &got);
	if (r < 0 && errno != EPROTO)
		r = -3;
	snap_close(s);
	return r;
}

TEST(round_trip)
{
	const char *lines[] = { K1, K2, K3 };
	struct snap_pw pw;
	struct snap *s = NULL;
	char err[512], buf[256];

	if (write_snap("jane", lines, 3, 0, err, sizeof(err)) != 0)
		fprintf(stderr, "  %s\n", err);
	ASSERT(write_snap("jane", lines, 3, 0, err, sizeof(err)) == 0);
	ASSERT_INT_EQ(lookup("jane", 0), 1);
	ASSERT_INT_EQ(got.n, 3);
	ASSERT_STR_EQ(got.lines[0], K1);
	ASSERT_STR_EQ(got.lines[1], K2);
	ASSERT_STR_EQ(got.lines[2], K3);
	/* fn returning non-zero stops the walk; still 1. */
	ASSERT_INT_EQ(lookup("jane", 1), 1);
	ASSERT_INT_EQ(got.n, 1);
	/* A user without keys, an unknown name, an empty one: 0. */
	ASSERT_INT_EQ(lookup("bob", 0), 0);
	ASSERT_INT_EQ(got.n, 0);
	ASSERT_INT_EQ(lookup("nobody", 0), 0);
	ASSERT_INT_EQ(lookup("", 0), 0);
	/* The users themselves are untouched. */
	ASSERT(snap_open(path, &s) == 0);
	ASSERT_INT_EQ(snap_getpwnam(s, "jane", &pw, buf, sizeof(buf)), 1);
	ASSERT_INT_EQ(snap_get_meta(s)->nusers, 2);
	snap_close(s);
}

TEST(max_keys)
{
	const char *lines[SNAP_KEYS_MAX + 1];
	char err[512];
	size_t i;

	for (i = 0; i <= SNAP_KEYS_MAX; i++)
		lines[i] = K2;
	ASSERT(write_snap("jane", lines, SNAP_KEYS_MAX, 0, err, sizeof(err)) == 0);
	ASSERT_INT_EQ(lookup("jane", 0), 1);
	ASSERT_INT_EQ(got.n, SNAP_KEYS_MAX);
	ASSERT(write_snap("jane", lines, SNAP_KEYS_MAX + 1, 0, err,
	    sizeof(err)) == -1);
	ASSERT(strstr(err, "user jane: 33 SSH keys, 1 to 32 may be written") != NULL);
	ASSERT(write_snap("jane", lines, 0, 0, err, sizeof(err)) == -1);
	ASSERT(strstr(err, "user jane: 0 SSH keys") != NULL);
}

TEST(writer_refuses)
{
	const char *lines[] = { K1 };
	const char *bad[2];
	char err[512];

	/* Keys for a name that is not a user: refused at commit. */
	ASSERT(write_snap("eve", lines, 1, 0, err, sizeof(err)) == -1);
	ASSERT(strstr(err, "SSH keys were given for eve, who is not a user") != NULL);
	/* The same user's keys twice. */
	ASSERT(write_snap("jane", lines, 1, 1, err, sizeof(err)) == -1);
	ASSERT(strstr(err, "the SSH keys of user jane were given twice") != NULL);
	/* A line sshkey_check would change (spaces) or refuse. */
	bad[0] = K1;
	bad[1] = "  " K2;
	ASSERT(write_snap("jane", bad, 2, 0, err, sizeof(err)) == -1);
	ASSERT(strstr(err, "user jane: SSH key 2 is not in canonical form") != NULL);
	bad[1] = "command=\"/bin/sh\" " K2;
	ASSERT(write_snap("jane", bad, 2, 0, err, sizeof(err)) == -1);
	ASSERT(strstr(err, "user jane: SSH key 2 is refused: option command= is not allowed") != NULL);
	bad[1] = K2 "\ncommand=\"/bin/sh\" " K1;
	ASSERT(write_snap("jane", bad, 2, 0, err, sizeof(err)) == -1);
	ASSERT(strstr(err, "line break") != NULL);
	bad[1] = NULL;
	ASSERT(write_snap("jane", bad, 2, 0, err, sizeof(err)) == -1);
	/* A bad user name. */
	ASSERT(write_snap("a:b", lines, 1, 0, err, sizeof(err)) == -1);
}

static void
forge(const char *name, const unsigned char *v, size_t vlen)
{
	forge_named_record(path, SNAP_KEY_SSHKEY, name, v, vlen);
}

/* A 'k' value with count n and the lines l[0..nl); returns its length. */
static size_t
encode(unsigned char *v, uint32_t n, const char *const *l, size_t nl)
{
	size_t i, len, off = 4;

	snap_put32(v, n);
	for (i = 0; i < nl; i++) {
		len = strlen(l[i]);
		snap_put16(v + off, (uint16_t)len);
		memcpy(v + off + 2, l[i], len);
		off += 2 + len;
	}
	return off;
}

static unsigned char v[(SNAP_KEYS_MAX + 2) * (SSHKEY_LINE_MAX + 2) + 8];

TEST(reader_refuses_corrupt_records)
{
	const char *two[] = { K1, K2 };
	const char *lf[] = { K1 "\ncommand=\"x\" " K2 };
	const char *cr[] = { K1 "\r" };
	const char *many[SNAP_KEYS_MAX + 1];
	size_t n, i;

	n = encode(v, 2, two, 2);
	forge("jane", v, n);
	ASSERT_INT_EQ(lookup("jane", 0), 1);       /* sanity: well-formed */
	ASSERT_INT_EQ(got.n, 2);
	/* Each of these is EPROTO (-1), and fn is never called. */
	n = encode(v, 3, two, 2);                  /* count above the lines */
	forge("jane", v, n);
	ASSERT_INT_EQ(lookup("jane", 0), -1);
	ASSERT_INT_EQ(got.n, 0);
	n = encode(v, 1, two, 2);                  /* trailing bytes */
	forge("jane", v, n);
	ASSERT_INT_EQ(lookup("jane", 0), -1);
	ASSERT_INT_EQ(got.n, 0);
	n = encode(v, 2, two, 2);                  /* a byte of trailing junk */
	v[n] = 'x';
	forge("jane", v, n + 1);
	ASSERT_INT_EQ(lookup("jane", 0), -1);
	n = encode(v, 0, two, 0);                  /* count 0 */
	forge("jane", v, n);
	ASSERT_INT_EQ(lookup("jane", 0), -1);
	forge("jane", v, 3);                       /* shorter than the count */
	ASSERT_INT_EQ(lookup("jane", 0), -1);
	forge("jane", v, 0);
	ASSERT_INT_EQ(lookup("jane", 0), -1);
	n = encode(v, 2, two, 2);                  /* length past the end */
	snap_put16(v + 4 + 2 + strlen(K1), 0xffff);
	forge("jane", v, n);
	ASSERT_INT_EQ(lookup("jane", 0), -1);
	ASSERT_INT_EQ(got.n, 0);
	n = encode(v, 2, two, 2);                  /* cut inside a length */
	forge("jane", v, 4 + 2 + strlen(K1) + 1);
	ASSERT_INT_EQ(lookup("jane", 0), -1);
	n = encode(v, 1, lf, 1);                   /* LF inside a line */
	forge("jane", v, n);
	ASSERT_INT_EQ(lookup("jane", 0), -1);
	n = encode(v, 1, cr, 1);                   /* CR */
	forge("jane", v, n);
	ASSERT_INT_EQ(lookup("jane", 0), -1);
	n = encode(v, 2, two, 2);                  /* NUL, DEL, 8-bit */
	v[10] = '\0';
	forge("jane", v, n);
	ASSERT_INT_EQ(lookup("jane", 0), -1);
	v[10] = 0x7f;
	forge("jane", v, n);
	ASSERT_INT_EQ(lookup("jane", 0), -1);
	v[10] = 0xc3;
	forge("jane", v, n);
	ASSERT_INT_EQ(lookup("jane", 0), -1);
	v[10] = 'x';                               /* still printable: 1 */
	forge("jane", v, n);
	ASSERT_INT_EQ(lookup("jane", 0), 1);
	ASSERT_INT_EQ(got.n, 2);
	/* An empty line; a line over SSHKEY_LINE_MAX. */
	snap_put32(v, 1);
	snap_put16(v + 4, 0);
	forge("jane", v, 6);
	ASSERT_INT_EQ(lookup("jane", 0), -1);
	snap_put16(v + 4, SSHKEY_LINE_MAX + 1);
	memset(v + 6, 'A', SSHKEY_LINE_MAX + 1);
	forge("jane", v, 6 + SSHKEY_LINE_MAX + 1);
	ASSERT_INT_EQ(lookup("jane", 0), -1);
	snap_put16(v + 4, SSHKEY_LINE_MAX);        /* exactly the limit: 1 */
	forge("jane", v, 6 + SSHKEY_LINE_MAX);
	ASSERT_INT_EQ(lookup("jane", 0), 1);
	/* More than SNAP_KEYS_MAX lines, all well-formed. */
	for (i = 0; i <= SNAP_KEYS_MAX; i++)
		many[i] = K2;
	n = encode(v, SNAP_KEYS_MAX + 1, many, SNAP_KEYS_MAX + 1);
	forge("jane", v, n);
	ASSERT_INT_EQ(lookup("jane", 0), -1);
	ASSERT_INT_EQ(got.n, 0);
	n = encode(v, SNAP_KEYS_MAX, many, SNAP_KEYS_MAX);
	forge("jane", v, n);
	ASSERT_INT_EQ(lookup("jane", 0), 1);
	/* A huge count. */
	snap_put32(v, 0xffffffffu);
	forge("jane", v, n);
	ASSERT_INT_EQ(lookup("jane", 0), -1);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/okta-keys-unit-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/snapshot.cdb", dir);
	RUN(round_trip);
	RUN(max_keys);
	RUN(writer_refuses);
	RUN(reader_refuses_corrupt_records);
	test_rmtree(dir);
	return test_done();
}
