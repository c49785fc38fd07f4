/*
 * test_snapshot_tombstone.c - the 't' records (format 2): the writer's
 * snap_writer_add_tombstone and the reader's snap_get_tombstone, through
 * real files, including what the writer refuses and what the reader calls
 * corrupt.
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

static char dir[64];
static char path[128];

static const struct snap_user jane = {
	.name = "jane", .uid = 2000000001, .gid = 2000000001, .gecos = "Jane",
	.dir = "/home/jane", .shell = "/bin/bash", .status = OKTA_STATUS_ACTIVE,
};

static const struct snap_tombstone bob = {
	.name = "bob", .uid = 2000000002, .reason = SNAP_TOMB_OUT_OF_SCOPE,
	.left_at = 1700000000, .expires = 1700000000 + 30 * 86400,
	.why = "no longer in the synced groups",
};

/* A snapshot with jane and the tombstones t[0..n).  0 or -1 (err). */
static int
write_snap(const struct snap_tombstone *t, size_t n, char *err, size_t errlen)
{
	struct snap_meta meta = { .last_sync = 1700000100, .generation = 4 };
	struct snap_writer *w;
	size_t i;

	if ((w = snap_writer_open(path, err, errlen)) == NULL)
		return -1;
	if (snap_writer_add_user(w, &jane) != 0)
		goto fail;
	for (i = 0; i < n; i++)
		if (snap_writer_add_tombstone(w, &t[i]) != 0)
			goto fail;
	return snap_writer_commit(w, &meta, err, errlen);
fail:
	snprintf(err, errlen, "%s", snap_writer_error(w));
	snap_writer_abort(w);
	return -1;
}

TEST(round_trip)
{
	struct snap_tombstone got;
	struct snap_pw pw;
	struct snap *s = NULL;
	char err[256], buf[256];

	ASSERT(write_snap(&bob, 1, err, sizeof(err)) == 0);
	ASSERT(snap_open(path, &s) == 0);
	ASSERT_INT_EQ(snap_get_meta(s)->format_version, SNAP_FORMAT_VERSION);
	ASSERT_INT_EQ(snap_get_tombstone(s, "bob", &got, buf, sizeof(buf)), 1);
	ASSERT_STR_EQ(got.name, "bob");
	ASSERT_INT_EQ(got.uid, 2000000002);
	ASSERT_INT_EQ(got.reason, SNAP_TOMB_OUT_OF_SCOPE);
	ASSERT(got.left_at == 1700000000 && got.expires == 1700000000 + 30 * 86400);
	ASSERT_STR_EQ(got.why, "no longer in the synced groups");
	ASSERT_STR_EQ(snap_tomb_reason_name(got.reason), "out of scope");
	/* Not a user, not by name nor by UID; the user is no tombstone. */
	ASSERT_INT_EQ(snap_getpwnam(s, "bob", &pw, buf, sizeof(buf)), 0);
	ASSERT_INT_EQ(snap_getpwuid(s, 2000000002, &pw, buf, sizeof(buf)), 0);
	ASSERT_INT_EQ(snap_get_tombstone(s, "jane", &got, buf, sizeof(buf)), 0);
	ASSERT_INT_EQ(snap_get_tombstone(s, "", &got, buf, sizeof(buf)), 0);
	/* Too small a buffer: ERANGE, the numbers still filled in. */
	memset(&got, 0, sizeof(got));
	errno = 0;
	ASSERT_INT_EQ(snap_get_tombstone(s, "bob", &got, buf, 10), -1);
	ASSERT_INT_EQ(errno, ERANGE);
	ASSERT_INT_EQ(got.uid, 2000000002);
	/* Enumeration walks users only. */
	{
		uint64_t pos = 0;
		int n = 0;

		while (snap_pw_next(s, &pos, &pw, buf, sizeof(buf)) == 1)
			n++;
		ASSERT_INT_EQ(n, 1);
	}
	snap_close(s);
}

TEST(writer_refuses)
{
	struct snap_tombstone t[2];
	char err[256];

	/* A name that is both a user and a tombstone. */
	t[0] = bob;
	t[0].name = "jane";
	ASSERT(write_snap(t, 1, err, sizeof(err)) == -1);
	ASSERT(strstr(err, "user jane is also a tombstone") != NULL);
	/* The same tombstone twice. */
	t[0] = bob;
	t[1] = bob;
	ASSERT(write_snap(t, 2, err, sizeof(err)) == -1);
	ASSERT(strstr(err, "tombstone bob appears twice") != NULL);
	/* UID 0, an unknown reason, ':' in the reason, a bad name. */
	t[0] = bob;
	t[0].uid = 0;
	ASSERT(write_snap(t, 1, err, sizeof(err)) == -1);
	t[0] = bob;
	t[0].reason = (enum snap_tomb_reason)9;
	ASSERT(write_snap(t, 1, err, sizeof(err)) == -1);
	t[0] = bob;
	t[0].why = "a: b";
	ASSERT(write_snap(t, 1, err, sizeof(err)) == -1);
	t[0] = bob;
	t[0].name = "a,b";
	ASSERT(write_snap(t, 1, err, sizeof(err)) == -1);
	/* An empty reason is fine. */
	t[0] = bob;
	t[0].why = "";
	ASSERT(write_snap(t, 1, err, sizeof(err)) == 0);
}

static void
forge(const char *name, const unsigned char *v, size_t vlen)
{
	forge_named_record(path, SNAP_KEY_TOMB, name, v, vlen);
}

/* A valid value for name with reason text why; returns its length. */
static size_t
encode(unsigned char *v, const char *name, const char *why, uint32_t uid)
{
	size_t nl = strlen(name), yl = strlen(why);

	memset(v, 0, SNAP_TOMB_FIXED);
	snap_put32(v, uid);
	v[4] = SNAP_TOMB_REMOVED;
	snap_put64(v + 8, 1700000000);
	snap_put64(v + 16, 1800000000);
	snap_put16(v + 24, (uint16_t)nl);
	memcpy(v + 26, name, nl);
	snap_put16(v + 26 + nl, (uint16_t)yl);
	memcpy(v + 28 + nl, why, yl);
	return 28 + nl + yl;
}

static int
lookup(const char *name)
{
	struct snap_tombstone t;
	struct snap *s = NULL;
	char buf[256];
	int r;

	if (snap_open(path, &s) != 0)
		return -2;
	errno = 0;
	r = snap_get_tombstone(s, name, &t, buf, sizeof(buf));
	if (r < 0 && errno != EPROTO)
		r = -3;
	snap_close(s);
	return r;
}

TEST(reader_refuses_corrupt_records)
{
	unsigned char v[128];
	size_t n;

	n = encode(v, "bob", "gone", 2000000002);
	forge("bob", v, n);
	ASSERT_INT_EQ(lookup("bob"), 1);
	/* Each of these is EPROTO (-1). */
	forge("bob", v, SNAP_TOMB_FIXED - 1);          /* short fixed part */
	ASSERT_INT_EQ(lookup("bob"), -1);
	forge("bob", v, n - 1);                        /* reason cut short */
	ASSERT_INT_EQ(lookup("bob"), -1);
	n = encode(v, "eve", "gone", 2000000002);      /* name != key */
	forge("bob", v, n);
	ASSERT_INT_EQ(lookup("bob"), -1);
	n = encode(v, "bob", "gone", 0);               /* UID 0 */
	forge("bob", v, n);
	ASSERT_INT_EQ(lookup("bob"), -1);
	n = encode(v, "bob", "gone", 999);             /* below the floor */
	forge("bob", v, n);
	ASSERT_INT_EQ(lookup("bob"), -1);
	n = encode(v, "bob", "gone", 1000);            /* the floor itself */
	forge("bob", v, n);
	ASSERT_INT_EQ(lookup("bob"), 1);
	n = encode(v, "bob", "go\nne", 2000000002);    /* newline */
	forge("bob", v, n);
	ASSERT_INT_EQ(lookup("bob"), -1);
	n = encode(v, "bob", "gone", 2000000002);      /* length past the end */
	snap_put16(v + 26 + 3, 200);
	forge("bob", v, n);
	ASSERT_INT_EQ(lookup("bob"), -1);
	/* An unknown reason code reads as "other", not as corrupt. */
	n = encode(v, "bob", "gone", 2000000002);
	v[4] = 200;
	forge("bob", v, n);
	ASSERT_INT_EQ(lookup("bob"), 1);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/okta-tomb-unit-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/snapshot.cdb", dir);
	RUN(round_trip);
	RUN(writer_refuses);
	RUN(reader_refuses_corrupt_records);
	test_rmtree(dir);
	return test_done();
}
