/*
 * test_snapshot.c - the snapshot writer and reader: round trip, buffer
 * sizes (ERANGE keeps the enumeration position), what the writer refuses,
 * atomic publish, bad files (missing, empty, truncated at every length,
 * wrong magic/version, random bytes, forged records with lengths pointing
 * outside, bad fields, UID 0, key/record mismatch), and the refreshing
 * handle (a new file is seen, old mappings stay valid until released).
 *
 * Issue 14: only a trusted file is read (regular, root's, not writable by
 * group or others; a FIFO never blocks); no UID or GID below
 * OKTA_ID_FLOOR comes out of any record; meta flags other than 0 are
 * refused; a refresh that fails for any reason but ENOENT keeps serving
 * the mapping held (descriptors exhausted, out of memory, a refused new
 * file) and says the real errno when nothing is held; a refused file is
 * logged once, not once per lookup.
 *
 * ENOMEM is made real rather than hooked: a child lowers RLIMIT_AS to what
 * it already uses, so the new file's mmap (and any fresh malloc arena)
 * fails with ENOMEM exactly as under memory pressure.  Under AddressSanitizer
 * that cannot be done (its allocator reserves terabytes of address space
 * and aborts, not returns NULL, when it cannot grow), so the SAN build
 * checks EMFILE only; the code path after the failed open is the same one
 * (refresh_failed with errno != ENOENT).
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cdb.h>

#include "testlib.h"
#include "names.h"
#include "snapshot.h"
#include "snapshot_format.h"
#include "forge_snapshot.h"
#include "snapshot_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* The stack a process's first lookup may take: a page (first_lookup_stack). */
#define FIRST_LOOKUP_STACK_MAX 4096

static char dir[64];
static char path[128];

static const char *const eng_members[] = { "alice", "bob" };
static const char *const ops_members[] = { "bob" };

/* Write the standard small snapshot: alice, bob (DEPROVISIONED), two groups. */
static int
write_small(const char *p, const char *alice_shell, uint64_t gen)
{
	struct snap_user a = { "alice", 2000000001, 2000000001, "Alice Liddell",
	    "/home/alice", alice_shell, OKTA_STATUS_ACTIVE };
	struct snap_user b = { "bob", 2000000002, 2000000002, "",
	    "/home/bob", "/bin/sh", OKTA_STATUS_DEPROVISIONED };
	struct snap_group eng = { "eng", 2000000100, eng_members, 2 };
	struct snap_group ops = { "ops", 2000000101, ops_members, 1 };
	struct snap_group empty = { "empty", 2000000102, NULL, 0 };
	struct snap_meta meta = { .last_sync = 1700000000, .generation = gen };
	uint32_t ag[] = { 2000000100 }, bg[] = { 2000000101, 2000000100, 2000000101 };
	struct snap_writer *w;
	char err[256];

	if ((w = snap_writer_open(p, err, sizeof(err))) == NULL)
		return -1;
	if (snap_writer_add_user(w, &a) || snap_writer_add_user(w, &b) ||
	    snap_writer_add_group(w, &eng) || snap_writer_add_group(w, &ops) ||
	    snap_writer_add_group(w, &empty) ||
	    snap_writer_add_user_gids(w, "alice", ag, 1) ||
	    snap_writer_add_user_gids(w, "bob", bg, 3)) {
		fprintf(stderr, "  writer: %s\n", snap_writer_error(w));
		snap_writer_abort(w);
		return -1;
	}
	if (snap_writer_commit(w, &meta, err, sizeof(err)) != 0) {
		fprintf(stderr, "  commit: %s\n", err);
		return -1;
	}
	return 0;
}

static int
count_files(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int
collect(void *ctx, uint32_t gid)
{
	uint32_t *v = ctx;

	v[++v[0]] = gid;
	return 0;
}

TEST(round_trip)
{
	struct snap *s;
	struct snap_pw pw;
	struct snap_gr gr;
	char buf[1024];
	uint32_t g[8] = { 0 };
	struct stat st;

	ASSERT(write_small(path, "/bin/bash", 7) == 0);
	ASSERT(stat(path, &st) == 0);
	ASSERT_INT_EQ(st.st_mode & 07777, 0644);
	ASSERT_INT_EQ(count_files(), 1);   /* no temporary left behind */
	ASSERT(snap_open(path, &s) == 0);
	ASSERT_INT_EQ(snap_get_meta(s)->format_version, SNAP_FORMAT_VERSION);
	ASSERT_INT_EQ(snap_get_meta(s)->generation, 7);
	ASSERT_INT_EQ(snap_get_meta(s)->last_sync, 1700000000);
	ASSERT_INT_EQ(snap_get_meta(s)->nusers, 2);
	ASSERT_INT_EQ(snap_get_meta(s)->ngroups, 3);

	ASSERT_INT_EQ(snap_getpwnam(s, "alice", &pw, buf, sizeof(buf)), 1);
	ASSERT_STR_EQ(pw.name, "alice");
	ASSERT_STR_EQ(pw.gecos, "Alice Liddell");
	ASSERT_STR_EQ(pw.dir, "/home/alice");
	ASSERT_STR_EQ(pw.shell, "/bin/bash");
	ASSERT_INT_EQ(pw.uid, 2000000001);
	ASSERT_INT_EQ(pw.gid, 2000000001);
	ASSERT_INT_EQ(pw.status, OKTA_STATUS_ACTIVE);
	ASSERT_INT_EQ(snap_getpwuid(s, 2000000002, &pw, buf, sizeof(buf)), 1);
	ASSERT_STR_EQ(pw.name, "bob");
	ASSERT_STR_EQ(pw.gecos, "");
	ASSERT_INT_EQ(pw.status, OKTA_STATUS_DEPROVISIONED);
	ASSERT_INT_EQ(snap_getpwnam(s, "carol", &pw, buf, sizeof(buf)), 0);
	ASSERT_INT_EQ(snap_getpwnam(s, "", &pw, buf, sizeof(buf)), 0);
	ASSERT_INT_EQ(snap_getpwnam(s, "alic", &pw, buf, sizeof(buf)), 0);
	ASSERT_INT_EQ(snap_getpwuid(s, 0, &pw, buf, sizeof(buf)), 0);
	ASSERT_INT_EQ(snap_getpwuid(s, 2000000003, &pw, buf, sizeof(buf)), 0);

	ASSERT_INT_EQ(snap_getgrnam(s, "eng", &gr, buf, sizeof(buf)), 1);
	ASSERT_STR_EQ(gr.name, "eng");
	ASSERT_INT_EQ(gr.gid, 2000000100);
	ASSERT_STR_EQ(gr.members[0], "alice");
	ASSERT_STR_EQ(gr.members[1], "bob");
	ASSERT(gr.members[2] == NULL);
	ASSERT_INT_EQ(snap_getgrgid(s, 2000000102, &gr, buf, sizeof(buf)), 1);
	ASSERT_STR_EQ(gr.name, "empty");
	ASSERT(gr.members[0] == NULL);
	ASSERT_INT_EQ(snap_getgrgid(s, 0, &gr, buf, sizeof(buf)), 0);
	ASSERT_INT_EQ(snap_getgrnam(s, "alice", &gr, buf, sizeof(buf)), 0);

	ASSERT_INT_EQ(snap_user_gids(s, "bob", collect, g), 1);
	ASSERT_INT_EQ(g[0], 2);   /* sorted and de-duplicated */
	ASSERT_INT_EQ(g[1], 2000000100);
	ASSERT_INT_EQ(g[2], 2000000101);
	ASSERT_INT_EQ(snap_user_gids(s, "nobody-here", collect, g), 0);
	snap_close(s);
	snap_close(NULL);
}

TEST(erange_and_enumeration)
{
	struct snap *s;
	struct snap_pw pw;
	struct snap_gr gr;
	char buf[1024], small[8];
	uint64_t pos = 0, before;
	const char *seen[4];
	int n = 0, r;
	size_t need;

	ASSERT(write_small(path, "/bin/bash", 1) == 0);
	ASSERT(snap_open(path, &s) == 0);
	/* Every size below what alice needs is ERANGE, then success. */
	need = strlen("alice") + strlen("Alice Liddell") + strlen("/home/alice") +
	    strlen("/bin/bash") + 4;
	for (size_t len = 0; len < need; len++) {
		errno = 0;
		pw.gid = 0;
		ASSERT_INT_EQ(snap_getpwnam(s, "alice", &pw, buf, len), -1);
		ASSERT_INT_EQ(errno, ERANGE);
		ASSERT_INT_EQ(pw.gid, 2000000001);   /* filled in anyway */
	}
	ASSERT_INT_EQ(snap_getpwnam(s, "alice", &pw, buf, need), 1);
	for (size_t len = 0; len < need; len++) {
		ASSERT_INT_EQ(snap_getpwuid(s, 2000000001, &pw, buf, len), -1);
		ASSERT_INT_EQ(errno, ERANGE);
	}
	ASSERT_INT_EQ(snap_getpwuid(s, 2000000001, &pw, buf, need), 1);
	ASSERT_STR_EQ(pw.shell, "/bin/bash");
	/* The same for a group, by name and by GID, in an aligned buffer:
	 * four pointers (the name, two members and the NULL), then "eng",
	 * "alice" and "bob" with their NULs. */
	{
		union { char c[1024]; char *p; } ab;
		size_t gneed = 4 * sizeof(char *) + 4 + 6 + 4;

		for (size_t len = 0; len < gneed; len++) {
			ASSERT_INT_EQ(snap_getgrnam(s, "eng", &gr, ab.c, len), -1);
			ASSERT_INT_EQ(errno, ERANGE);
			ASSERT_INT_EQ(snap_getgrgid(s, 2000000100, &gr, ab.c, len), -1);
			ASSERT_INT_EQ(errno, ERANGE);
		}
		ASSERT_INT_EQ(snap_getgrnam(s, "eng", &gr, ab.c, gneed), 1);
		ASSERT_INT_EQ(snap_getgrgid(s, 2000000100, &gr, ab.c, gneed), 1);
		ASSERT_STR_EQ(gr.name, "eng");
		ASSERT_STR_EQ(gr.members[0], "alice");
		ASSERT_STR_EQ(gr.members[1], "bob");
		ASSERT(gr.members[2] == NULL);
	}
	/* Enumeration: ERANGE leaves pos where it was. */
	before = pos;
	ASSERT_INT_EQ(snap_pw_next(s, &pos, &pw, small, sizeof(small)), -1);
	ASSERT_INT_EQ(errno, ERANGE);
	ASSERT_INT_EQ(pos, before);
	while ((r = snap_pw_next(s, &pos, &pw, buf, sizeof(buf))) == 1 && n < 4)
		seen[n++] = pw.name[0] == 'a' ? "alice" : "bob";
	ASSERT_INT_EQ(r, 0);
	ASSERT_INT_EQ(n, 2);
	ASSERT_STR_EQ(seen[0], "alice");   /* the order they were written */
	ASSERT_STR_EQ(seen[1], "bob");
	ASSERT_INT_EQ(snap_pw_next(s, &pos, &pw, buf, sizeof(buf)), 0);

	pos = 0;
	n = 0;
	ASSERT_INT_EQ(snap_gr_next(s, &pos, &gr, small, sizeof(small)), -1);
	ASSERT_INT_EQ(errno, ERANGE);
	ASSERT_INT_EQ(pos, 0);
	while ((r = snap_gr_next(s, &pos, &gr, buf, sizeof(buf))) == 1)
		n++;
	ASSERT_INT_EQ(r, 0);
	ASSERT_INT_EQ(n, 3);
	/* A misaligned buffer still gets an aligned members array. */
	ASSERT_INT_EQ(snap_getgrnam(s, "eng", &gr, buf + 1, sizeof(buf) - 1), 1);
	ASSERT_STR_EQ(gr.members[1], "bob");
	ASSERT(((uintptr_t)gr.members % sizeof(char *)) == 0);
	snap_close(s);
}

TEST(big_group)
{
	struct snap_writer *w;
	struct snap_meta meta = { 0 };
	struct snap_group g = { "big", 2000000500, NULL, 10000 };
	struct snap *s;
	struct snap_gr gr;
	char **names, err[256], *buf;
	size_t i, buflen = 1024;
	int r;

	names = calloc(10000, sizeof(*names));
	ASSERT(names != NULL);
	for (i = 0; i < 10000; i++) {
		names[i] = malloc(16);
		snprintf(names[i], 16, "user%05zu", i);
	}
	g.members = (const char *const *)names;
	ASSERT((w = snap_writer_open(path, err, sizeof(err))) != NULL);
	ASSERT(snap_writer_add_group(w, &g) == 0);
	ASSERT(snap_writer_commit(w, &meta, err, sizeof(err)) == 0);
	ASSERT(snap_open(path, &s) == 0);
	/* Grow the buffer as glibc does until it fits. */
	buf = malloc(buflen);
	while ((r = snap_getgrgid(s, 2000000500, &gr, buf, buflen)) == -1 &&
	    errno == ERANGE) {
		buflen *= 2;
		buf = realloc(buf, buflen);
	}
	ASSERT_INT_EQ(r, 1);
	for (i = 0; i < 10000; i++)
		ASSERT_STR_EQ(gr.members[i], names[i]);
	ASSERT(gr.members[10000] == NULL);
	snap_close(s);
	free(buf);
	for (i = 0; i < 10000; i++)
		free(names[i]);
	free(names);
}

TEST(writer_refuses)
{
	struct snap_user u = { "eve", 2000000009, 2000000009, "Eve", "/home/eve",
	    "/bin/sh", OKTA_STATUS_ACTIVE };
	struct snap_group g = { "grp", 2000000200, NULL, 0 };
	struct snap_meta meta = { 0 };
	const char *const bad_members[] = { "ok", "bad,name" };
	struct snap_writer *w;
	struct snap *s;
	struct snap_pw pw;
	char err[256], buf[512];
	uint32_t zero = 0;

	ASSERT(write_small(path, "/bin/bash", 1) == 0);
	ASSERT((w = snap_writer_open(path, err, sizeof(err))) != NULL);
	u.name = "e:ve";
	ASSERT(snap_writer_add_user(w, &u) == -1);
	ASSERT(strstr(snap_writer_error(w), "':'") != NULL);
	u.name = "";
	ASSERT(snap_writer_add_user(w, &u) == -1);
	u.name = "eve";
	u.gecos = "line\nbreak";
	ASSERT(snap_writer_add_user(w, &u) == -1);
	u.gecos = "Eve";
	u.uid = 0;
	ASSERT(snap_writer_add_user(w, &u) == -1);
	u.uid = 2000000009;
	u.gid = 0;
	ASSERT(snap_writer_add_user(w, &u) == -1);
	u.gid = 2000000009;
	g.gid = 0;
	ASSERT(snap_writer_add_group(w, &g) == -1);
	g.gid = 2000000200;
	g.members = bad_members;
	g.nmembers = 2;
	ASSERT(snap_writer_add_group(w, &g) == -1);
	ASSERT(snap_writer_add_user_gids(w, "eve", &zero, 1) == -1);
	/* A refused entry leaves the writer usable; a duplicate fails commit. */
	ASSERT(snap_writer_add_user(w, &u) == 0);
	u.name = "eve2";
	ASSERT(snap_writer_add_user(w, &u) == 0);   /* same UID */
	ASSERT(snap_writer_commit(w, &meta, err, sizeof(err)) == -1);
	ASSERT(strstr(err, "UID 2000000009") != NULL);
	/* The old snapshot is untouched and no temporary is left. */
	ASSERT_INT_EQ(count_files(), 1);
	ASSERT(snap_open(path, &s) == 0);
	ASSERT_INT_EQ(snap_getpwnam(s, "alice", &pw, buf, sizeof(buf)), 1);
	ASSERT_INT_EQ(snap_getpwnam(s, "eve", &pw, buf, sizeof(buf)), 0);
	snap_close(s);

	ASSERT((w = snap_writer_open(path, err, sizeof(err))) != NULL);
	snap_writer_abort(w);
	snap_writer_abort(NULL);
	ASSERT_INT_EQ(count_files(), 1);
	ASSERT(snap_writer_open("/nonexistent-dir/x.cdb", err, sizeof(err)) == NULL);
	ASSERT(strstr(err, "/nonexistent-dir") != NULL);
}

static int
write_bytes(const char *p, const void *data, size_t len)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	if (len && write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static unsigned char *
read_all(const char *p, size_t *len)
{
	struct stat st;
	unsigned char *d;
	int fd = open(p, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0)
		return NULL;
	d = malloc((size_t)st.st_size);
	if (d && read(fd, d, (size_t)st.st_size) != st.st_size) {
		free(d);
		d = NULL;
	}
	close(fd);
	*len = (size_t)st.st_size;
	return d;
}

/* Every lookup on s must answer cleanly (1, 0 or -1 with EPROTO/ERANGE). */
static int
exercise(struct snap *s)
{
	struct snap_pw pw;
	struct snap_gr gr;
	char buf[4096];
	uint32_t g[64];
	uint64_t pos;
	int r, i;

#define CLEAN(x) do { r = (x); if (r < -1 || r > 1 || (r == -1 && \
    errno != EPROTO && errno != ERANGE)) return -1; } while (0)
	CLEAN(snap_getpwnam(s, "alice", &pw, buf, sizeof(buf)));
	CLEAN(snap_getpwnam(s, "bob", &pw, buf, sizeof(buf)));
	CLEAN(snap_getpwuid(s, 2000000001, &pw, buf, sizeof(buf)));
	CLEAN(snap_getgrnam(s, "eng", &gr, buf, sizeof(buf)));
	CLEAN(snap_getgrgid(s, 2000000100, &gr, buf, sizeof(buf)));
	g[0] = 0;
	CLEAN(snap_user_gids(s, "bob", collect, g));
	pos = 0;
	for (i = 0; i < 100; i++) {
		CLEAN(snap_pw_next(s, &pos, &pw, buf, sizeof(buf)));
		if (r != 1)
			break;
	}
	pos = 0;
	for (i = 0; i < 100; i++) {
		CLEAN(snap_gr_next(s, &pos, &gr, buf, sizeof(buf)));
		if (r != 1)
			break;
	}
#undef CLEAN
	return 0;
}

/*
 * Open p both ways a snapshot is opened: snap_open (tinycdb's mapping,
 * for pam_okta and the tools) and as nss's handle opens it
 * (SNAP_OPEN_LOOKUPS: mapped alone, the table of contents read with
 * pread).  Both must accept or refuse the file alike, and answer every
 * lookup cleanly.  0 both accepted it; -1 both refused it (errno as
 * snap_open left it); -2 they disagree or a lookup misbehaved.
 */
static int
open_both_ways(const char *p)
{
	struct snap *s, *l;
	struct stat st;
	const char *why;
	int r, rl, e;

	r = snap_open(p, &s);
	e = errno;
	rl = snap_open_why(p, SNAP_OPEN_LOOKUPS, &l, &st, &why);
	if (r != rl || (r != 0 && errno != e)) {
		snap_close(s);
		snap_close(l);
		return -2;
	}
	if (r != 0) {
		errno = e;
		return -1;
	}
	r = exercise(s) == 0 && exercise(l) == 0 ? 0 : -2;
	snap_close(s);
	snap_close(l);
	return r;
}

TEST(bad_files)
{
	struct snap *s;
	unsigned char *good, *d, *v;
	size_t len, i;
	unsigned seed = 12345;
	int r;

	ASSERT(snap_open("/nonexistent/snapshot.cdb", &s) == -1);
	ASSERT_INT_EQ(errno, ENOENT);
	ASSERT(s == NULL);
	ASSERT(write_bytes(path, "", 0) == 0);
	ASSERT(snap_open(path, &s) == -1);
	ASSERT_INT_EQ(errno, EPROTO);
	ASSERT(snap_open(dir, &s) == -1);   /* a directory */

	ASSERT(write_small(path, "/bin/bash", 1) == 0);
	ASSERT((good = read_all(path, &len)) != NULL);
	/* Truncated at every length: refused, or answers cleanly; the same
	 * whichever way it is opened. */
	for (i = 0; i < len; i++) {
		ASSERT(write_bytes(path, good, i) == 0);
		r = open_both_ways(path);
		ASSERT(r != -2);
		if (r == -1)
			ASSERT_INT_EQ(errno, EPROTO);
	}
	/* Wrong version, wrong magic. */
	d = malloc(len);
	ASSERT(d != NULL);
	memcpy(d, good, len);
	v = memmem(d, len, SNAP_MAGIC, SNAP_MAGIC_LEN);
	ASSERT(v != NULL);
	snap_put32(v + 8, SNAP_FORMAT_VERSION + 1);
	ASSERT(write_bytes(path, d, len) == 0);
	ASSERT(snap_open(path, &s) == -1);
	ASSERT_INT_EQ(errno, EPROTO);
	memcpy(d, good, len);
	v = memmem(d, len, SNAP_MAGIC, SNAP_MAGIC_LEN);
	v[0] = 'X';
	ASSERT(write_bytes(path, d, len) == 0);
	ASSERT(snap_open(path, &s) == -1);
	ASSERT_INT_EQ(errno, EPROTO);
	/* Random bytes, and the good file with random bytes flipped. */
	for (i = 0; i < 2000; i++) {
		size_t j, k;

		if (i < 50) {
			for (j = 0; j < len; j++)
				d[j] = (unsigned char)rand_r(&seed);
		} else {
			memcpy(d, good, len);
			for (k = 0; k < 1 + i % 8; k++)
				d[(size_t)rand_r(&seed) % len] =
				    (unsigned char)rand_r(&seed);
		}
		ASSERT(write_bytes(path, d, len) == 0);
		ASSERT(open_both_ways(path) != -2);
	}
	free(d);
	free(good);
}

/* Is the page at p mapped in this process's page tables?  (/proc/self/
 * pagemap: bit 63, "present", readable without privilege.)  1, 0, or -1
 * when pagemap cannot be read. */
static int
page_present(const void *p)
{
	uint64_t e;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	off_t at = (off_t)((uintptr_t)p / (uintptr_t)sysconf(_SC_PAGESIZE) * 8);

	if (fd < 0)
		return -1;
	if (pread(fd, &e, sizeof(e), at) != (ssize_t)sizeof(e)) {
		close(fd);
		return -1;
	}
	close(fd);
	return (int)(e >> 63);
}

/*
 * nss's handle opens the snapshot without tinycdb (SNAP_OPEN_LOOKUPS):
 * looking up one user touches no page of the file's first 64 KB (the
 * table of contents is read by pread; the kernel maps up to 64 KB around
 * a faulting page), where tinycdb's cdb_init reads it through the mapping:
 * a page fault (about 30 us on a VM) in every process that looks up a
 * user.  The records that tinycdb's tables find are not there to ask.
 */
TEST(lookups_open_leaves_the_first_page_alone)
{
	struct snap_writer *w;
	struct snap_meta meta = { 0 };
	struct snap *s, *l;
	struct snap_pw pw;
	struct snap_tombstone t;
	struct snap_policy pol;
	struct stat st;
	const char *why;
	char name[32], home[64], err[256], buf[1024];
	uint32_t i, n = 3000;

	ASSERT((w = snap_writer_open(path, err, sizeof(err))) != NULL);
	for (i = 0; i < n; i++) {
		struct snap_user u = { name, 2000000000 + i, 2000000000 + i,
		    "An Okta user with a long GECOS field", home, "/bin/bash",
		    OKTA_STATUS_ACTIVE };

		snprintf(name, sizeof(name), "user%05u", i);
		snprintf(home, sizeof(home), "/home/%s", name);
		ASSERT(snap_writer_add_user(w, &u) == 0);
	}
	ASSERT(snap_writer_commit(w, &meta, err, sizeof(err)) == 0);
	ASSERT(snap_open_why(path, SNAP_OPEN_LOOKUPS, &l, &st, &why) == 0);
	ASSERT(st.st_size > 4 * 65536);
	ASSERT_INT_EQ(snap_getpwnam(l, "user02999", &pw, buf, sizeof(buf)), 1);
	ASSERT_STR_EQ(pw.dir, "/home/user02999");
	ASSERT_INT_EQ(page_present(l->mem), 0);
	ASSERT_INT_EQ(snap_get_tombstone(l, "user00001", &t, buf,
	    sizeof(buf)), -1);
	ASSERT_INT_EQ(errno, EINVAL);
	ASSERT_INT_EQ(snap_get_policy(l, &pol, buf, sizeof(buf)), -1);
	ASSERT_INT_EQ(errno, EINVAL);
	/* What pam_okta and the tools open (snap_open) has tinycdb's view,
	 * and its first page is mapped. */
	ASSERT(snap_open(path, &s) == 0);
	ASSERT_INT_EQ(snap_getpwnam(s, "user02999", &pw, buf, sizeof(buf)), 1);
	ASSERT_INT_EQ(page_present(s->mem), 1);
	ASSERT_INT_EQ(snap_get_tombstone(s, "user00001", &t, buf,
	    sizeof(buf)), 0);
	snap_close(s);
	snap_close(l);
}

/* Write a cdb with a valid meta record and the given raw records. */
static int
forge(const char *p, const unsigned char *const *keys, const size_t *klens,
    const unsigned char *const *vals, const size_t *vlens, size_t n)
{
	struct snap_idx_builder b;
	struct cdb_make cm;
	unsigned char m[SNAP_META_LEN] = { 0 };
	int fd;
	size_t i;

	if ((fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return -1;
	cdb_make_start(&cm, fd);
	/* The records first, so that the enumeration spans (all of them)
	 * are known when the meta record is written last; the index of
	 * the 'p' and 'g' records after them. */
	snap_idx_init(&b, 7);
	for (i = 0; i < n; i++)
		forge_add(&cm, &b, keys[i], klens[i], vals[i], vlens[i]);
	snap_put32(m + 56, cm.cdb_dpos);
	forge_index(&cm, &b);
	memcpy(m, SNAP_MAGIC, SNAP_MAGIC_LEN);
	snap_put32(m + 8, SNAP_FORMAT_VERSION);
	if (n > 0) {
		snap_put32(m + 40, SNAP_CDB_TOC);
		snap_put32(m + 44, cm.cdb_dpos);
		snap_put32(m + 48, SNAP_CDB_TOC);
		snap_put32(m + 52, cm.cdb_dpos);
	}
	cdb_make_add(&cm, "M", 1, m, sizeof(m));
	cdb_make_finish(&cm);
	return close(fd);
}

/* A passwd value (format 3): uid, gid, then four fields given as (len,
 * text).  The first, the name, is the record's key: only counted in the
 * stored need (the reader copies it from the key); the other three are
 * written, each followed by its NUL. */
static size_t
pwval(unsigned char *v, uint32_t uid, uint32_t gid, const char *const *f,
    const uint16_t *flen)
{
	size_t off = SNAP_PW_FIXED, n, lie = 0, need;
	int i;

	memset(v, 0, SNAP_PW_FIXED);
	snap_put32(v, uid);
	snap_put32(v + 4, gid);
	v[8] = OKTA_STATUS_ACTIVE;
	need = (size_t)flen[0] + 1;
	for (i = 1; i < 4; i++) {
		/* Short fields are copied by their length (so "x\0y" keeps its
		 * NUL); a long length is the "points outside" case: only the
		 * text is written, and the stored need claims the rest. */
		n = flen[i] < 16 ? flen[i] : strlen(f[i]);
		if (flen[i] >= 16)
			lie += flen[i] - n;
		memcpy(v + off, f[i], n);
		off += n;
		v[off++] = '\0';
	}
	need += off - SNAP_PW_FIXED + lie;
	snap_put32(v + 12, (uint32_t)need);
	return off;
}

/* A group value (format 3): gid, count, the blob "name\0m\0..." of
 * blen bytes, and a stored need of blen + lie. */
static size_t
grval(unsigned char *v, uint32_t gid, uint32_t n, const char *blob,
    size_t blen, uint32_t lie)
{
	snap_put32(v, gid);
	snap_put32(v + 4, n);
	snap_put32(v + 8, (uint32_t)blen + lie);
	memcpy(v + SNAP_GR_FIXED, blob, blen);
	return SNAP_GR_FIXED + blen;
}

/* User "u"'s passwd value (format 3) with the supplementary GIDs
 * gids[0..n), of which only `have` are written (a GID list cut short: the
 * record lies about its size when have != n). */
static size_t
pw_gids_val(unsigned char *v, const uint32_t *gids, uint32_t n, uint32_t have)
{
	/* GECOS "", dir "/", shell "/bin/sh"; the name "u" is the key's. */
	static const char blob[] = "\0/\0/bin/sh";   /* and its NUL */
	size_t off = SNAP_PW_FIXED + sizeof(blob), i;

	memset(v, 0, SNAP_PW_FIXED);
	snap_put32(v, 2000000001);
	snap_put32(v + 4, 2000000001);
	snap_put32(v + 12, 2 + sizeof(blob));
	snap_put32(v + 16, n);
	memcpy(v + SNAP_PW_FIXED, blob, sizeof(blob));
	for (i = 0; i < have; i++)
		snap_put32(v + off + 4 * i, gids[i]);
	return off + 4 * have;
}

static int
pw_case(uint32_t uid, const char *name, uint16_t namelen, const char *gecos,
    const char *key)
{
	const char *f[4] = { name, gecos, "/home/x", "/bin/sh" };
	uint16_t fl[4] = { namelen, (uint16_t)strlen(gecos), 7, 7 };
	unsigned char v[256], k[64];
	const unsigned char *keys[1] = { k }, *vals[1] = { v };
	size_t klens[1], vlens[1];
	struct snap *s;
	struct snap_pw pw;
	char buf[512];
	uint64_t pos = 0;
	int r, r2;

	vlens[0] = pwval(v, uid, 2000000001, f, fl);
	k[0] = 'p';
	memcpy(k + 1, key, strlen(key));
	klens[0] = 1 + strlen(key);
	if (forge(path, keys, klens, vals, vlens, 1) != 0 || snap_open(path, &s) != 0)
		return -2;
	r = snap_getpwnam(s, key, &pw, buf, sizeof(buf));
	if (r == -1 && errno != EPROTO)
		r = -3;
	/* Enumeration skips the bad record and ends cleanly. */
	r2 = snap_pw_next(s, &pos, &pw, buf, sizeof(buf));
	snap_close(s);
	return r == -1 && r2 == 0 ? -1 : r == 1 && r2 == 1 ? 1 : -4;
}

TEST(forged_records)
{
	unsigned char v[64], k[8];
	const unsigned char *keys[2] = { k, k }, *vals[2] = { v, v };
	size_t klens[2], vlens[2];
	struct snap *s;
	struct snap_gr gr;
	char buf[512];
	uint32_t g[4];

	/* Sanity: a well-formed forged record reads back. */
	ASSERT_INT_EQ(pw_case(2000000001, "x", 1, "X", "x"), 1);
	ASSERT_INT_EQ(pw_case(0, "x", 1, "X", "x"), -1);            /* UID 0 */
	ASSERT_INT_EQ(pw_case(2000000001, "x", 1, "a:b", "x"), -1); /* ':' */
	ASSERT_INT_EQ(pw_case(2000000001, "x", 1, "a\nb", "x"), -1);
	ASSERT_INT_EQ(pw_case(2000000001, "x\0y", 3, "", "x"), -1);  /* NUL */
	ASSERT_INT_EQ(pw_case(2000000001, "x", 60000, "", "x"), -1); /* outside */
	/* Format 3: the name is the key's, checked as any name. */
	ASSERT_INT_EQ(pw_case(2000000001, "x:y", 3, "", "x:y"), -1);
	ASSERT_INT_EQ(pw_case(2000000001, "x,y", 3, "", "x,y"), -1);
	ASSERT_INT_EQ(pw_case(2000000001, "", 0, "", "x"), -1);     /* empty name */

	/* Five fields where four belong, the sizes all agreeing (a NUL
	 * inside the GECOS): refused as the fields are copied. */
	{
		static const char rest[] = "X\0Y\0/h\0/s";   /* and its NUL */
		unsigned char pv[64], pk[2] = { 'p', 'x' };
		const unsigned char *pkeys[1] = { pk }, *pvals[1] = { pv };
		size_t pkl[1] = { 2 }, pvl[1] = { SNAP_PW_FIXED + sizeof(rest) };
		struct snap_pw pw;

		memset(pv, 0, SNAP_PW_FIXED);
		snap_put32(pv, 2000000001);
		snap_put32(pv + 4, 2000000001);
		snap_put32(pv + 12, 2 + sizeof(rest));
		memcpy(pv + SNAP_PW_FIXED, rest, sizeof(rest));
		ASSERT(forge(path, pkeys, pkl, pvals, pvl, 1) == 0);
		ASSERT(snap_open(path, &s) == 0);
		ASSERT_INT_EQ(snap_getpwnam(s, "x", &pw, buf, sizeof(buf)), -1);
		ASSERT_INT_EQ(errno, EPROTO);
		snap_close(s);
	}

	/* A meta record whose enumeration span points outside the data. */
	{
		struct cdb_make cm;
		unsigned char m[SNAP_META_LEN] = { 0 };
		int fd;

		fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		ASSERT(fd >= 0);
		cdb_make_start(&cm, fd);
		memcpy(m, SNAP_MAGIC, SNAP_MAGIC_LEN);
		snap_put32(m + 8, SNAP_FORMAT_VERSION);
		snap_put32(m + 40, SNAP_CDB_TOC);
		snap_put32(m + 44, 0x7fffffff);
		cdb_make_add(&cm, "M", 1, m, sizeof(m));
		cdb_make_finish(&cm);
		close(fd);
		ASSERT(snap_open(path, &s) == -1);
		ASSERT_INT_EQ(errno, EPROTO);
		/* A meta record shorter than version 1's. */
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		ASSERT(fd >= 0);
		cdb_make_start(&cm, fd);
		cdb_make_add(&cm, "M", 1, m, 40);
		cdb_make_finish(&cm);
		close(fd);
		ASSERT(snap_open(path, &s) == -1);
		ASSERT_INT_EQ(errno, EPROTO);
	}

	/* A group whose member count is far more than its record holds
	 * (by name, and by GID through its 'G' offset). */
	{
		unsigned char kG[5], ref[4];
		const unsigned char *gkeys[2] = { k, kG }, *gvals[2] = { v, ref };
		size_t gkl[2] = { 2, 5 }, gvl[2] = { 0, 4 };

		k[0] = 'g';
		k[1] = 'g';
		kG[0] = 'G';
		snap_put32(kG + 1, 2000000100);
		snap_put32(ref, SNAP_CDB_TOC);
		gvl[0] = grval(v, 2000000100, 0xffffffffu, "g\0", 2, 0);
		ASSERT(forge(path, gkeys, gkl, gvals, gvl, 2) == 0);
		ASSERT(snap_open(path, &s) == 0);
		ASSERT_INT_EQ(snap_getgrgid(s, 2000000100, &gr, buf, sizeof(buf)), -1);
		ASSERT_INT_EQ(errno, EPROTO);
		/* Even with a tiny buffer it is EPROTO, not an endless ERANGE. */
		ASSERT_INT_EQ(snap_getgrgid(s, 2000000100, &gr, buf, 16), -1);
		ASSERT_INT_EQ(errno, EPROTO);
		ASSERT_INT_EQ(snap_getgrnam(s, "g", &gr, buf, 16), -1);
		ASSERT_INT_EQ(errno, EPROTO);
		snap_close(s);
		/* The same group whole, then with a stored size that lies
		 * about the record's length: EPROTO at every buffer size. */
		gvl[0] = grval(v, 2000000100, 1, "g\0x\0", 4, 0);
		ASSERT(forge(path, gkeys, gkl, gvals, gvl, 2) == 0);
		ASSERT(snap_open(path, &s) == 0);
		ASSERT_INT_EQ(snap_getgrgid(s, 2000000100, &gr, buf, sizeof(buf)), 1);
		ASSERT_STR_EQ(gr.members[0], "x");
		snap_close(s);
		gvl[0] = grval(v, 2000000100, 1, "g\0x\0", 4, 100000);
		ASSERT(forge(path, gkeys, gkl, gvals, gvl, 2) == 0);
		ASSERT(snap_open(path, &s) == 0);
		ASSERT_INT_EQ(snap_getgrgid(s, 2000000100, &gr, buf, sizeof(buf)), -1);
		ASSERT_INT_EQ(errno, EPROTO);
		ASSERT_INT_EQ(snap_getgrgid(s, 2000000100, &gr, buf, 8), -1);
		ASSERT_INT_EQ(errno, EPROTO);
		snap_close(s);
		/* A member with a ':' behind a small buffer: ERANGE from the
		 * stored size, without reading the members (O(1)), then
		 * EPROTO once the buffer has that size: a caller doubling
		 * its buffer, as glibc does, stops at once. */
		{
			size_t len;
			int r;

			gvl[0] = grval(v, 2000000100, 2, "g\0x\0a:b\0", 8, 0);
			ASSERT(forge(path, gkeys, gkl, gvals, gvl, 2) == 0);
			ASSERT(snap_open(path, &s) == 0);
			ASSERT_INT_EQ(snap_getgrgid(s, 2000000100, &gr, buf, 8), -1);
			ASSERT_INT_EQ(errno, ERANGE);
			for (len = 1; len <= sizeof(buf); len *= 2) {
				r = snap_getgrgid(s, 2000000100, &gr, buf, len);
				if (r != -1 || errno != ERANGE)
					break;
			}
			ASSERT_INT_EQ(r, -1);
			ASSERT_INT_EQ(errno, EPROTO);
			ASSERT(len <= 64);   /* 3 pointers, 8 bytes, alignment */
			snap_close(s);
		}
		/* An index offset that is not a 'g' record's start, and one
		 * outside the groups' span. */
		gvl[0] = grval(v, 2000000100, 1, "g\0x\0", 4, 0);
		forge_index_off = SNAP_CDB_TOC + 1;
		ASSERT(forge(path, gkeys, gkl, gvals, gvl, 2) == 0);
		ASSERT(snap_open(path, &s) == 0);
		ASSERT_INT_EQ(snap_getgrgid(s, 2000000100, &gr, buf, sizeof(buf)), -1);
		ASSERT_INT_EQ(errno, EPROTO);
		ASSERT_INT_EQ(snap_getgrnam(s, "g", &gr, buf, sizeof(buf)), -1);
		ASSERT_INT_EQ(errno, EPROTO);
		snap_close(s);
		forge_index_off = 0x7ffffff0;
		ASSERT(forge(path, gkeys, gkl, gvals, gvl, 2) == 0);
		ASSERT(snap_open(path, &s) == 0);
		ASSERT_INT_EQ(snap_getgrgid(s, 2000000100, &gr, buf, sizeof(buf)), -1);
		ASSERT_INT_EQ(errno, EPROTO);
		snap_close(s);
		forge_index_off = 0;
	}
	/* A GID list (format 3: the tail of the 'p' record) cut short of
	 * what the record says, or holding 5. */
	k[0] = 'p';
	k[1] = 'u';
	klens[0] = 2;
	g[1] = 2000000100;
	g[2] = 5;
	vlens[0] = pw_gids_val(v, g + 1, 2, 1) + 3;
	ASSERT(forge(path, keys, klens, vals, vlens, 1) == 0);
	ASSERT(snap_open(path, &s) == 0);
	g[0] = 0;
	ASSERT_INT_EQ(snap_user_gids(s, "u", collect, g), -1);
	ASSERT_INT_EQ(errno, EPROTO);
	ASSERT_INT_EQ(g[0], 0);
	snap_close(s);
	vlens[0] = pw_gids_val(v, g + 1, 2, 2);
	ASSERT(forge(path, keys, klens, vals, vlens, 1) == 0);
	ASSERT(snap_open(path, &s) == 0);
	g[0] = 0;
	ASSERT_INT_EQ(snap_user_gids(s, "u", collect, g), -1);
	ASSERT_INT_EQ(errno, EPROTO);
	ASSERT_INT_EQ(g[0], 0);   /* no partial answer */
	snap_close(s);
	/* The same list whole and good. */
	g[2] = 2000000101;
	vlens[0] = pw_gids_val(v, g + 1, 2, 2);
	ASSERT(forge(path, keys, klens, vals, vlens, 1) == 0);
	ASSERT(snap_open(path, &s) == 0);
	g[0] = 0;
	ASSERT_INT_EQ(snap_user_gids(s, "u", collect, g), 1);
	ASSERT_INT_EQ(g[0], 2);
	snap_close(s);
}

/*
 * A real format-2 file (issue 13): its meta record says version 2 and its
 * passwd record has format 2's layout (u16-length strings, a copy under
 * the UID key).  This reader refuses it whole, as an unknown version.
 */
TEST(format_2_file_refused)
{
	static const unsigned char v2pw[] = {
		0xd1, 0x94, 0x35, 0x77, 0xd1, 0x94, 0x35, 0x77,  /* uid, gid */
		1, 0, 0, 0,                                      /* status, pad */
		1, 0, 'x', 0, 0, 7, 0, '/', 'h', 'o', 'm', 'e', '/', 'x',
		7, 0, '/', 'b', 'i', 'n', '/', 's', 'h',
	};
	unsigned char m[SNAP_META_LEN] = { 0 }, ku[5] = { 'u', 0xd1, 0x94,
	    0x35, 0x77 };
	struct cdb_make cm;
	struct stat st;
	struct snap *s;
	const char *why;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT(fd >= 0);
	cdb_make_start(&cm, fd);
	cdb_make_add(&cm, "px", 2, v2pw, sizeof(v2pw));
	cdb_make_add(&cm, ku, 5, v2pw, sizeof(v2pw));
	memcpy(m, SNAP_MAGIC, SNAP_MAGIC_LEN);
	snap_put32(m + 8, 2);
	snap_put32(m + 40, SNAP_CDB_TOC);
	snap_put32(m + 44, cm.cdb_dpos);
	cdb_make_add(&cm, "M", 1, m, sizeof(m));
	cdb_make_finish(&cm);
	close(fd);
	s = (struct snap *)1;
	ASSERT_INT_EQ(snap_open_why(path, 0, &s, &st, &why), -1);
	ASSERT_INT_EQ(errno, EPROTO);
	ASSERT(s == NULL);
	ASSERT(why != NULL && strstr(why, "format version") != NULL);
	/* The same records in a file saying version 4 (with an index) open,
	 * and the format-2 records are corrupt to this reader, never
	 * misread. */
	{
		static const unsigned char kx[2] = { 'p', 'x' };
		const unsigned char *keys[2] = { kx, ku }, *vals[2] = { v2pw, v2pw };
		size_t klens[2] = { 2, 5 }, vlens[2] = { sizeof(v2pw), sizeof(v2pw) };
		struct snap_pw pw;
		char buf[256];

		ASSERT(forge(path, keys, klens, vals, vlens, 2) == 0);
		ASSERT_INT_EQ(snap_open(path, &s), 0);
		ASSERT_INT_EQ(snap_getpwnam(s, "x", &pw, buf, sizeof(buf)), -1);
		ASSERT_INT_EQ(errno, EPROTO);
		ASSERT_INT_EQ(snap_getpwuid(s, 2000000209u, &pw, buf, sizeof(buf)), -1);
		ASSERT_INT_EQ(errno, EPROTO);
		snap_close(s);
	}
}

TEST(handle_refresh)
{
	struct snap *a, *b, *c;
	struct snap_pw pw;
	char buf[512];
	struct timespec t0, t;
	int seen = 0;

	ASSERT(write_small(path, "/bin/bash", 1) == 0);
	ASSERT((a = snap_acquire(path)) != NULL);
	ASSERT((b = snap_acquire(path)) == a);   /* no re-open within the second */
	snap_release(b);
	ASSERT(write_small(path, "/bin/zsh", 2) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Poll (deadline 3 s) until the handle serves the new file. */
	for (;;) {
		ASSERT((c = snap_acquire(path)) != NULL);
		if (snap_get_meta(c)->generation == 2) {
			seen = 1;
			break;
		}
		snap_release(c);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 3)
			break;
		usleep(10000);
	}
	ASSERT(seen);
	ASSERT_INT_EQ(snap_getpwnam(c, "alice", &pw, buf, sizeof(buf)), 1);
	ASSERT_STR_EQ(pw.shell, "/bin/zsh");
	/* The old mapping is still readable until released. */
	ASSERT_INT_EQ(snap_getpwnam(a, "alice", &pw, buf, sizeof(buf)), 1);
	ASSERT_STR_EQ(pw.shell, "/bin/bash");
	snap_release(a);
	snap_release(c);
	snap_release(NULL);
	/* A removed snapshot becomes "no snapshot" (ENOENT) in time. */
	ASSERT(unlink(path) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		c = snap_acquire(path);
		if (c == NULL)
			break;
		snap_release(c);
		clock_gettime(CLOCK_MONOTONIC, &t);
		ASSERT(t.tv_sec - t0.tv_sec <= 3);
		usleep(10000);
	}
	ASSERT_INT_EQ(errno, ENOENT);
	/* Another path is looked at at once. */
	ASSERT(write_small(path, "/bin/bash", 3) == 0);
	ASSERT(snap_acquire("/nonexistent/x") == NULL);
	ASSERT((c = snap_acquire(path)) != NULL);
	ASSERT_INT_EQ(snap_get_meta(c)->generation, 3);
	snap_release(c);
}

/* ---- Issue 14: trust, the ID floor, meta flags --------------------- */

TEST(only_trusted_files)
{
	struct snap *s;
	char fifo[160];
	int fd;

	ASSERT(write_small(path, "/bin/bash", 1) == 0);
	ASSERT(snap_open(path, &s) == 0);       /* root's, 0644 */
	snap_close(s);
	ASSERT(chmod(path, 0664) == 0);         /* group-writable */
	ASSERT(snap_open(path, &s) == -1);
	ASSERT_INT_EQ(errno, EPERM);
	ASSERT(s == NULL);
	ASSERT(chmod(path, 0646) == 0);         /* writable by others */
	ASSERT(snap_open(path, &s) == -1);
	ASSERT_INT_EQ(errno, EPERM);
	ASSERT(chmod(path, 0600) == 0);         /* root-only is fine */
	ASSERT(snap_open(path, &s) == 0);
	snap_close(s);
	ASSERT(chmod(path, 0644) == 0);
	ASSERT(chown(path, 65534, 0) == 0);     /* not root's */
	ASSERT(snap_open(path, &s) == -1);
	ASSERT_INT_EQ(errno, EPERM);
	/* The same check on a descriptor (snap_open_fd). */
	ASSERT((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0);
	ASSERT(snap_open_fd(fd, &s) == -1);
	ASSERT_INT_EQ(errno, EPERM);
	close(fd);
	ASSERT(chown(path, 0, 0) == 0);
	ASSERT(snap_open(path, &s) == 0);
	snap_close(s);
	ASSERT(snap_open(dir, &s) == -1);       /* a directory */
	ASSERT_INT_EQ(errno, EPERM);
	/* A FIFO, with no writer: opening it must not block (an alarm kills
	 * the test if it does). */
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	ASSERT(mkfifo(fifo, 0644) == 0);
	alarm(10);
	ASSERT(snap_open(fifo, &s) == -1);
	alarm(0);
	ASSERT_INT_EQ(errno, EPERM);
	unlink(fifo);
}

/* A passwd record forged with uid and gid, looked up by name and by UID:
 * 1 both found, -1 both EPROTO / not found. */
static int
pw_ids(uint32_t uid, uint32_t gid)
{
	const char *f[4] = { "x", "", "/home/x", "/bin/sh" };
	uint16_t fl[4] = { 1, 0, 7, 7 };
	unsigned char v[128], k[2] = { 'p', 'x' }, ku[5], ref[4];
	const unsigned char *keys[2] = { k, ku }, *vals[2] = { v, ref };
	size_t klens[2] = { 2, 5 }, vlens[2];
	struct snap *s;
	struct snap_pw pw;
	char buf[256];
	uint64_t pos = 0;
	int r1, r2, r3;

	vlens[0] = pwval(v, uid, gid, f, fl);
	vlens[1] = 4;
	snap_put32(ref, SNAP_CDB_TOC);    /* the 'p' record, the first */
	ku[0] = 'u';
	snap_put32(ku + 1, uid);
	if (forge(path, keys, klens, vals, vlens, 2) != 0 || snap_open(path, &s) != 0)
		return -2;
	r1 = snap_getpwnam(s, "x", &pw, buf, sizeof(buf));
	if (r1 == -1 && errno != EPROTO)
		r1 = -3;
	r2 = snap_getpwuid(s, uid, &pw, buf, sizeof(buf));
	r3 = snap_pw_next(s, &pos, &pw, buf, sizeof(buf));
	snap_close(s);
	if (r1 == 1 && r2 == 1 && r3 == 1)
		return 1;
	/* By UID a low one is not even looked for (0, not found). */
	if (r1 == -1 && r2 <= 0 && r3 == 0)
		return -1;
	return -4;
}

/*
 * A group of 60 members, a bad byte in one member far into the blob: the
 * splitter compares 16 bytes at a time there (SSE2), not one, and must
 * refuse each kind of bad byte all the same; the good group splits into
 * the same 60 members the byte-at-a-time path would give.
 */
/*
 * A record found well-formed once is remembered (a bit per index slot)
 * and its fields are not scanned again: the second, third... answers of
 * the same mapping must be the first one, byte for byte, also into a
 * buffer that held something else, and an empty field must stay empty.
 */
TEST(remembered_records_answer_the_same)
{
	struct snap *s;
	struct snap_pw pw;
	struct snap_gr gr;
	char buf[1024];
	int i;

	ASSERT(write_small(path, "/bin/bash", 1) == 0);
	ASSERT(snap_open(path, &s) == 0);
	for (i = 0; i < 3; i++) {
		memset(buf, 'Z', sizeof(buf));
		ASSERT_INT_EQ(snap_getpwnam(s, "alice", &pw, buf, sizeof(buf)), 1);
		ASSERT_STR_EQ(pw.name, "alice");
		ASSERT_STR_EQ(pw.gecos, "Alice Liddell");
		ASSERT_STR_EQ(pw.dir, "/home/alice");
		ASSERT_STR_EQ(pw.shell, "/bin/bash");
		memset(buf, 'Z', sizeof(buf));
		ASSERT_INT_EQ(snap_getpwuid(s, 2000000002, &pw, buf, sizeof(buf)), 1);
		ASSERT_STR_EQ(pw.name, "bob");
		ASSERT_STR_EQ(pw.gecos, "");
		ASSERT_STR_EQ(pw.dir, "/home/bob");
		ASSERT_STR_EQ(pw.shell, "/bin/sh");
		memset(buf, 'Z', sizeof(buf));
		ASSERT_INT_EQ(snap_getgrgid(s, 2000000100, &gr, buf, sizeof(buf)), 1);
		ASSERT_STR_EQ(gr.name, "eng");
		ASSERT_STR_EQ(gr.members[0], "alice");
		ASSERT_STR_EQ(gr.members[1], "bob");
		ASSERT(gr.members[2] == NULL);
		ASSERT_INT_EQ(snap_getgrnam(s, "eng", &gr, buf, sizeof(buf)), 1);
		ASSERT_STR_EQ(gr.members[1], "bob");
	}
	snap_close(s);
}

TEST(bad_byte_deep_in_a_big_group)
{
	static const char bad[] = { ':', '\n', ',', '\0' };
	unsigned char v[1024], k[2] = { 'g', 'g' };
	const unsigned char *keys[1] = { k }, *vals[1] = { v };
	size_t klens[1] = { 2 }, vlens[1], blen, i, b;
	char blob[800], buf[4096];
	struct snap_gr gr;
	struct snap *s;
	int r;

	for (b = 0; b <= sizeof(bad); b++) {
		blen = 0;
		blob[blen++] = 'g';
		blob[blen++] = '\0';
		for (i = 0; i < 60; i++) {
			blen += (size_t)snprintf(blob + blen, sizeof(blob) - blen,
			    "member%02zu", i);
			/* b == sizeof(bad): the good group.  A NUL makes 61
			 * fields where the count says 60. */
			if (i == 47 && b < sizeof(bad))
				blob[blen - 3] = bad[b];
			blob[blen++] = '\0';
		}
		vlens[0] = grval(v, 2000000100, 60, blob, blen, 0);
		ASSERT(forge(path, keys, klens, vals, vlens, 1) == 0);
		ASSERT(snap_open(path, &s) == 0);
		r = snap_getgrgid(s, 2000000100, &gr, buf, sizeof(buf));
		if (b < sizeof(bad)) {
			ASSERT_INT_EQ(r, -1);
			ASSERT_INT_EQ(errno, EPROTO);
		} else {
			ASSERT_INT_EQ(r, 1);
			for (i = 0; gr.members[i] != NULL; i++)
				;
			ASSERT_INT_EQ(i, 60);
			ASSERT_STR_EQ(gr.members[47], "member47");
			ASSERT_STR_EQ(gr.members[59], "member59");
			/* Remembered now: the second answer finds the
			 * same 60 ends, sixteen bytes at a time. */
			memset(buf, 'Z', sizeof(buf));
			ASSERT_INT_EQ(snap_getgrgid(s, 2000000100, &gr, buf,
			    sizeof(buf)), 1);
			ASSERT_STR_EQ(gr.name, "g");
			for (i = 0; i < 60; i++) {
				char want[16];

				snprintf(want, sizeof(want), "member%02zu", i);
				ASSERT(gr.members[i] != NULL);
				ASSERT_STR_EQ(gr.members[i], want);
			}
			ASSERT(gr.members[60] == NULL);
		}
		snap_close(s);
	}
}

TEST(id_floor)
{
	struct snap *s;
	struct snap_gr gr;
	char buf[256];
	unsigned char v[64], vg[32], ref[4], k[2] = { 'p', 'u' },
	    kg[2] = { 'g', 'g' }, kG[5];
	uint32_t ug[2] = { 2000000100, 27 };
	const unsigned char *keys[3] = { k, kg, kG }, *vals[3] = { v, vg, ref };
	size_t klens[3] = { 2, 2, 5 }, vlens[3];
	uint32_t g[8];
	uint64_t pos;

	ASSERT(OKTA_ID_FLOOR == 1000);
	ASSERT_INT_EQ(pw_ids(OKTA_ID_FLOOR, OKTA_ID_FLOOR), 1);
	ASSERT_INT_EQ(pw_ids(2000000001, 2000000001), 1);
	ASSERT_INT_EQ(pw_ids(999, 2000000001), -1);       /* UID 999 */
	ASSERT_INT_EQ(pw_ids(2000000001, 27), -1);        /* primary GID sudo */
	ASSERT_INT_EQ(pw_ids(2000000001, 0), -1);
	ASSERT_INT_EQ(pw_ids(0, 2000000001), -1);
	ASSERT_INT_EQ(pw_ids(UINT32_MAX, 2000000001), -1);

	/* Group records with GID 27 and with GID 1000 ("g", one member "x"),
	 * and a user's initgroups list holding 27 among good GIDs. */
	vlens[0] = pw_gids_val(v, ug, 2, 2);
	vlens[1] = grval(vg, 27, 1, "g\0x\0", 4, 0);
	vlens[2] = 4;
	/* The 'g' record follows the 'p' one (8 header bytes, key, value). */
	snap_put32(ref, (uint32_t)(SNAP_CDB_TOC + 8 + 2 + vlens[0]));
	kG[0] = 'G';
	snap_put32(kG + 1, 27);
	ASSERT(forge(path, keys, klens, vals, vlens, 3) == 0);
	ASSERT(snap_open(path, &s) == 0);
	g[0] = 0;
	ASSERT_INT_EQ(snap_user_gids(s, "u", collect, g), -1);
	ASSERT_INT_EQ(errno, EPROTO);
	ASSERT_INT_EQ(g[0], 0);   /* not even the good GID before it */
	ASSERT_INT_EQ(snap_getgrnam(s, "g", &gr, buf, sizeof(buf)), -1);
	ASSERT_INT_EQ(errno, EPROTO);
	ASSERT_INT_EQ(snap_getgrgid(s, 27, &gr, buf, sizeof(buf)), 0);
	pos = 0;
	ASSERT_INT_EQ(snap_gr_next(s, &pos, &gr, buf, sizeof(buf)), 0);
	snap_close(s);
	/* The same records at the floor read back. */
	ug[1] = OKTA_ID_FLOOR;
	vlens[0] = pw_gids_val(v, ug, 2, 2);
	snap_put32(vg, OKTA_ID_FLOOR);
	snap_put32(kG + 1, OKTA_ID_FLOOR);
	ASSERT(forge(path, keys, klens, vals, vlens, 3) == 0);
	ASSERT(snap_open(path, &s) == 0);
	g[0] = 0;
	ASSERT_INT_EQ(snap_user_gids(s, "u", collect, g), 1);
	ASSERT_INT_EQ(g[0], 2);
	ASSERT_INT_EQ(g[2], OKTA_ID_FLOOR);
	ASSERT_INT_EQ(snap_getgrnam(s, "g", &gr, buf, sizeof(buf)), 1);
	ASSERT_INT_EQ(gr.gid, OKTA_ID_FLOOR);
	ASSERT_INT_EQ(snap_getgrgid(s, OKTA_ID_FLOOR, &gr, buf, sizeof(buf)), 1);
	ASSERT_STR_EQ(gr.members[0], "x");
	snap_close(s);
}

TEST(meta_flags_must_be_zero)
{
	struct snap *s;
	unsigned char *d, *m;
	size_t len;
	uint32_t bit;

	ASSERT(write_small(path, "/bin/bash", 1) == 0);
	ASSERT((d = read_all(path, &len)) != NULL);
	ASSERT((m = memmem(d, len, SNAP_MAGIC, SNAP_MAGIC_LEN)) != NULL);
	ASSERT_INT_EQ(snap_get32(m + 12), 0);   /* the writer's */
	for (bit = 1; bit != 0; bit <<= 1) {
		snap_put32(m + 12, bit);
		ASSERT(write_bytes(path, d, len) == 0);
		ASSERT(snap_open(path, &s) == -1);
		ASSERT_INT_EQ(errno, EPROTO);
	}
	snap_put32(m + 12, 0);
	ASSERT(write_bytes(path, d, len) == 0);
	ASSERT(snap_open(path, &s) == 0);
	snap_close(s);
	free(d);
}

/* ---- Issue 14: a failed refresh keeps the mapping ----------------- */

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/*
 * Acquire p over `secs` seconds (more than one check period, so the handle
 * does try the new file): every answer must be the mapping of generation
 * gen.  0, or -1 (a NULL or another generation).
 */
static int
always_gen(const char *p, uint64_t gen, double secs)
{
	double end = now_s() + secs;
	struct snap *c;

	while (now_s() < end) {
		if ((c = snap_acquire(p)) == NULL)
			return -1;
		if (snap_get_meta(c)->generation != gen) {
			snap_release(c);
			return -1;
		}
		snap_release(c);
		usleep(20000);
	}
	return 0;
}

/* Poll p until it serves generation gen (deadline 5 s): 0 or -1. */
static int
wait_gen(const char *p, uint64_t gen)
{
	double end = now_s() + 5;
	struct snap *c;

	while (now_s() < end) {
		if ((c = snap_acquire(p)) != NULL) {
			if (snap_get_meta(c)->generation == gen) {
				snap_release(c);
				return 0;
			}
			snap_release(c);
		}
		usleep(20000);
	}
	return -1;
}

TEST(refresh_failure_keeps_mapping)
{
	char p2[160], p3[160];
	struct rlimit old, low;
	struct snap *c;
	int fds[256], nfd = 0, i;

	snprintf(p2, sizeof(p2), "%s/keep.cdb", dir);
	snprintf(p3, sizeof(p3), "%s/other.cdb", dir);
	ASSERT(write_small(p2, "/bin/bash", 10) == 0);
	ASSERT(wait_gen(p2, 10) == 0);

	/* The repro: republish, fill the descriptor table, look up. */
	ASSERT(write_small(p2, "/bin/zsh", 11) == 0);
	ASSERT(getrlimit(RLIMIT_NOFILE, &old) == 0);
	low = old;
	low.rlim_cur = 64;
	ASSERT(setrlimit(RLIMIT_NOFILE, &low) == 0);
	while (nfd < 256 && (fds[nfd] = dup(0)) >= 0)
		nfd++;
	i = errno;
	ASSERT_INT_EQ(i, EMFILE);
	i = always_gen(p2, 10, 1.5);
	/* With nothing mapped, the real reason, not ENOENT (open fails
	 * for want of a descriptor before it looks at the path). */
	c = snap_acquire(p3);
	i = i == 0 && c == NULL && errno == EMFILE ? 0 : -1;
	snap_release(c);
	while (nfd > 0)
		close(fds[--nfd]);
	ASSERT(setrlimit(RLIMIT_NOFILE, &old) == 0);
	ASSERT_INT_EQ(i, 0);
	/* Descriptors back: the new file is seen at the next check. */
	ASSERT(wait_gen(p2, 11) == 0);

	/* A new file that is refused (group-writable) keeps the old one;
	 * once it is fixed it is read. */
	ASSERT(write_small(p2, "/bin/sh", 12) == 0);
	ASSERT(chmod(p2, 0664) == 0);
	ASSERT(always_gen(p2, 11, 1.5) == 0);
	ASSERT(chmod(p2, 0644) == 0);
	ASSERT(wait_gen(p2, 12) == 0);
	/* Gone is gone: ENOENT drops the mapping. */
	ASSERT(unlink(p2) == 0);
	{
		double end = now_s() + 5;

		while ((c = snap_acquire(p2)) != NULL && now_s() < end) {
			snap_release(c);
			usleep(20000);
		}
		ASSERT(c == NULL);
		ASSERT_INT_EQ(errno, ENOENT);
	}
	unlink(p3);
}

/* In a child: the same under ENOMEM (RLIMIT_AS at what it uses). */
static int
enomem_child(const char *p2, const char *p3)
{
	struct rlimit old, low;
	struct snap *c;
	unsigned long pages;
	FILE *f;
	int r = 0;

	if (wait_gen(p2, 20) != 0)
		return 10;
	if (write_small(p2, "/bin/zsh", 21) != 0)
		return 11;
	if ((f = fopen("/proc/self/statm", "re")) == NULL ||
	    fscanf(f, "%lu", &pages) != 1)
		return 12;
	fclose(f);
	if (getrlimit(RLIMIT_AS, &old) != 0)
		return 13;
	low = old;
	low.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE);
	if (setrlimit(RLIMIT_AS, &low) != 0)
		return 14;
	if (always_gen(p2, 20, 1.5) != 0)
		r = 15;
	/* With nothing mapped, the real reason.  Switching paths unmaps
	 * p2's file, which frees address space: take that back first. */
	c = snap_acquire("/nonexistent/snapshot.cdb");
	if ((f = fopen("/proc/self/statm", "re")) == NULL ||
	    fscanf(f, "%lu", &pages) != 1)
		return 19;
	fclose(f);
	low.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE);
	if (c != NULL || setrlimit(RLIMIT_AS, &low) != 0)
		return 20;
	c = snap_acquire(p3);
	if (r == 0 && (c != NULL || errno != ENOMEM))
		r = 16;
	snap_release(c);
	if (setrlimit(RLIMIT_AS, &old) != 0)
		return 17;
	if (r == 0 && wait_gen(p2, 21) != 0)
		r = 18;
	return r;
}

TEST(refresh_enomem_keeps_mapping)
{
	char p2[160], p3[160];
	pid_t pid;
	int st;

	snprintf(p2, sizeof(p2), "%s/mem.cdb", dir);
	snprintf(p3, sizeof(p3), "%s/mem-other.cdb", dir);
	ASSERT(write_small(p2, "/bin/bash", 20) == 0);
	ASSERT(write_small(p3, "/bin/bash", 1) == 0);
	fflush(NULL);
	ASSERT((pid = fork()) >= 0);
	if (pid == 0)
		_exit(enomem_child(p2, p3));
	ASSERT(waitpid(pid, &st, 0) == pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fprintf(stderr, "  child: status %d\n", st);
	ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	unlink(p2);
	unlink(p3);
}

/* ---- Issue 14: a refused file is logged once ---------------------- */

/* Messages waiting on the socket that hold `what`; all are drained. */
static int
count_logs(int sock, const char *what, int *other)
{
	char m[2048];
	ssize_t n;
	int c = 0;

	while ((n = recv(sock, m, sizeof(m) - 1, MSG_DONTWAIT)) > 0) {
		m[n] = '\0';
		if (strstr(m, what) != NULL)
			c++;
		else
			(*other)++;
	}
	return c;
}

/* Acquire p for secs seconds (all NULL, or all generation gen when gen). */
static int
lookups_for(const char *p, uint64_t gen, double secs)
{
	double end = now_s() + secs;
	struct snap *c;
	int bad = 0;

	while (now_s() < end) {
		c = snap_acquire(p);
		if ((gen == 0) != (c == NULL) ||
		    (c != NULL && snap_get_meta(c)->generation != gen))
			bad = 1;
		snap_release(c);
		usleep(10000);
	}
	return bad ? -1 : 0;
}

static int
log_child(const char *p2)
{
	struct sockaddr_un a;
	char what[256];
	int sock, other = 0;

	/* A private /dev with our own /dev/log, where syslog(3) sends. */
	if (unshare(CLONE_NEWNS) != 0 ||
	    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755") != 0)
		return 20;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	strcpy(a.sun_path, "/dev/log");
	if ((sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(sock, (struct sockaddr *)&a, sizeof(a)) != 0)
		return 21;
	/* A group-writable file, looked up for 1.5 s (more than one check
	 * period): one message. */
	if (write_small(p2, "/bin/bash", 30) != 0 || chmod(p2, 0664) != 0)
		return 22;
	if (lookups_for(p2, 0, 1.5) != 0)
		return 23;
	/* The message names the file. */
	snprintf(what, sizeof(what), "okta-sync snapshot %s is writable by its "
	    "group or by others", p2);
	if (count_logs(sock, what, &other) != 1)
		return 24;
	/* Another refused file (not root's): one more. */
	if (write_small(p2, "/bin/bash", 31) != 0 || chown(p2, 65534, 0) != 0)
		return 25;
	if (lookups_for(p2, 0, 1.5) != 0)
		return 26;
	if (count_logs(sock, "is not owned by root", &other) != 1)
		return 27;
	/* A good file, then an unknown flag next to it: the old mapping
	 * answers, and that is said once. */
	if (write_small(p2, "/bin/bash", 32) != 0 || wait_gen(p2, 32) != 0)
		return 28;
	{
		unsigned char *d, *m;
		size_t len;

		if ((d = read_all(p2, &len)) == NULL ||
		    (m = memmem(d, len, SNAP_MAGIC, SNAP_MAGIC_LEN)) == NULL)
			return 29;
		snap_put32(m + 12, 4);
		/* A new file (the old one stays mapped), not in place. */
		if (unlink(p2) != 0 || write_bytes(p2, d, len) != 0)
			return 30;
		free(d);
	}
	if (lookups_for(p2, 32, 1.5) != 0)
		return 31;
	if (count_logs(sock, "has meta flags this reader does not know: "
	    "refused; still answering from the snapshot read before", &other) != 1)
		return 32;
	if (other != 0)
		return 33;
	return 0;
}

TEST(refused_file_logged_once)
{
	char p2[160];
	pid_t pid;
	int st;

	snprintf(p2, sizeof(p2), "%s/log.cdb", dir);
	fflush(NULL);
	ASSERT((pid = fork()) >= 0);
	if (pid == 0)
		_exit(log_child(p2));
	ASSERT(waitpid(pid, &st, 0) == pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fprintf(stderr, "  child: status %d\n", st);
	ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	unlink(p2);
}

/*
 * The stack a process's first lookup takes: the acquire that opens and
 * checks the file, the lookup and the release.  NSS runs in any thread of
 * any program, and each page of stack below what the program had touched
 * is a page fault (about 30 us on a VM) in every `stat` or `id -un UID`
 * that looks up an Okta user.  Measured on a painted thread stack, as
 * the deepest byte written, less a thread that looks up nothing.
 */
#define PAINT 0xa5
#define PROBE_STACK (256 * 1024)

struct stack_probe {
	const char *path;     /* NULL: look up nothing */
	int found;
};

static void *
stack_probe_run(void *arg)
{
	struct stack_probe *pr = arg;
	struct snap_pw pw;
	struct snap *s;
	char buf[512];

	if (pr->path == NULL)
		return NULL;
	if ((s = snap_acquire(pr->path)) == NULL)
		return NULL;
	pr->found = snap_getpwnam(s, "alice", &pw, buf, sizeof(buf));
	snap_release(s);
	return NULL;
}

/* The bytes of stack a thread running stack_probe_run(pr) wrote, or 0. */
static size_t
stack_used(struct stack_probe *pr)
{
	pthread_attr_t a;
	pthread_t t;
	unsigned char *m;
	size_t i;
	int ok;

	m = mmap(NULL, PROBE_STACK, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return 0;
	memset(m, PAINT, PROBE_STACK);
	ok = pthread_attr_init(&a) == 0 &&
	    pthread_attr_setstack(&a, m, PROBE_STACK) == 0 &&
	    pthread_create(&t, &a, stack_probe_run, pr) == 0 &&
	    pthread_join(t, NULL) == 0;
	(void)pthread_attr_destroy(&a);
	for (i = 0; i < PROBE_STACK && m[i] == PAINT; i++)
		;
	munmap(m, PROBE_STACK);
	return ok ? PROBE_STACK - i : 0;
}

TEST(first_lookup_stack)
{
	struct stack_probe none = { NULL, 0 }, first;
	char p2[160];
	size_t base, used;

	snprintf(p2, sizeof(p2), "%s/stack.cdb", dir);
	ASSERT(write_small(p2, "/bin/bash", 1) == 0);
	first.path = p2;
	first.found = 0;
	ASSERT((base = stack_used(&none)) > 0);
	ASSERT((used = stack_used(&first)) > base);
	ASSERT_INT_EQ(first.found, 1);
	fprintf(stderr, "  first lookup: %zu bytes of stack\n", used - base);
	ASSERT(used - base <= FIRST_LOOKUP_STACK_MAX);
	unlink(p2);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_snapshot.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/snapshot.cdb", dir);
	RUN(round_trip);
	RUN(erange_and_enumeration);
	RUN(big_group);
	RUN(writer_refuses);
	RUN(bad_files);
	RUN(lookups_open_leaves_the_first_page_alone);
	RUN(forged_records);
	RUN(format_2_file_refused);
	RUN(handle_refresh);
	RUN(only_trusted_files);
	RUN(remembered_records_answer_the_same);
	RUN(bad_byte_deep_in_a_big_group);
	RUN(id_floor);
	RUN(meta_flags_must_be_zero);
	RUN(refresh_failure_keeps_mapping);
	/* Not in the AddressSanitizer build, whose allocator aborts instead
	 * of returning NULL: there is nothing to test there, and a PASS
	 * would claim a check that did not run. */
	if (!UNDER_ASAN)
		RUN(refresh_enomem_keeps_mapping);
	RUN(refused_file_logged_once);
	RUN(first_lookup_stack);
	unlink(path);
	rmdir(dir);
	return test_done();
}
