/*
 * snapcheck.c - check a whole snapshot file (see snapcheck.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapcheck.h"
#include "xmalloc.h"

/* A lookup result that is a record the reader refuses, as a phrase. */
static const char *
what_errno(int e)
{
	return e == EPROTO ? "is corrupt or breaks a rule the readers enforce "
	    "(an ID below the floor, a bad field)" : strerror(e);
}

struct walk {
	char *buf;
	size_t buflen;
	char err[512];
};

static int
grow(struct walk *k)
{
	if (k->buflen >= (size_t)64 << 20) {
		snprintf(k->err, sizeof(k->err), "a record is larger than 64 MiB");
		return -1;
	}
	k->buflen *= 2;
	k->buf = xreallocarray(k->buf, k->buflen, 1);
	return 0;
}

static int
ignore_gid(void *ctx, uint32_t gid)
{
	(void)ctx;
	(void)gid;
	return 0;
}

/*
 * Every passwd record: decodes, is found by name and UID, its initgroups
 * list is valid; their number is n.  0, or -1 with k->err.
 */
static int
check_users(const struct snap *s, uint32_t n, struct walk *k)
{
	struct snap_pw pw, again;
	char name[256], *b2;
	uint64_t pos = 0;
	uint32_t count = 0;
	int r;

	for (;;) {
		r = snap_pw_next(s, &pos, &pw, k->buf, k->buflen);
		if (r == -1 && errno == ERANGE) {
			if (grow(k) != 0)
				return -1;
			continue;
		}
		if (r < 0) {
			snprintf(k->err, sizeof(k->err), "its passwd records "
			    "cannot be walked: %s", what_errno(errno));
			return -1;
		}
		if (r == 0)
			break;
		count++;
		snprintf(name, sizeof(name), "%s", pw.name);
		b2 = xmalloc(k->buflen);
		if (snap_getpwnam(s, name, &again, b2, k->buflen) != 1 ||
		    again.uid != pw.uid ||
		    snap_getpwuid(s, pw.uid, &again, b2, k->buflen) != 1 ||
		    strcmp(again.name, name) != 0) {
			free(b2);
			snprintf(k->err, sizeof(k->err), "user %s (UID %u) is "
			    "not found again by its name and UID", name,
			    (unsigned)pw.uid);
			return -1;
		}
		free(b2);
		if (snap_user_gids(s, name, ignore_gid, NULL) < 0) {
			snprintf(k->err, sizeof(k->err), "the group list of user "
			    "%s %s", name, what_errno(errno));
			return -1;
		}
	}
	if (count != n) {
		snprintf(k->err, sizeof(k->err), "it holds %u readable users, "
		    "its meta record says %u: %u would not resolve",
		    (unsigned)count, (unsigned)n,
		    (unsigned)(n > count ? n - count : count - n));
		return -1;
	}
	return 0;
}

/* The same for the group records. */
static int
check_groups(const struct snap *s, uint32_t n, struct walk *k)
{
	struct snap_gr gr, again;
	char name[256], *b2;
	uint64_t pos = 0;
	uint32_t count = 0;
	int r;

	for (;;) {
		r = snap_gr_next(s, &pos, &gr, k->buf, k->buflen);
		if (r == -1 && errno == ERANGE) {
			if (grow(k) != 0)
				return -1;
			continue;
		}
		if (r < 0) {
			snprintf(k->err, sizeof(k->err), "its group records "
			    "cannot be walked: %s", what_errno(errno));
			return -1;
		}
		if (r == 0)
			break;
		count++;
		snprintf(name, sizeof(name), "%s", gr.name);
		b2 = xmalloc(k->buflen);
		if (snap_getgrnam(s, name, &again, b2, k->buflen) != 1 ||
		    again.gid != gr.gid ||
		    snap_getgrgid(s, gr.gid, &again, b2, k->buflen) != 1 ||
		    strcmp(again.name, name) != 0) {
			free(b2);
			snprintf(k->err, sizeof(k->err), "group %s (GID %u) is "
			    "not found again by its name and GID", name,
			    (unsigned)gr.gid);
			return -1;
		}
		free(b2);
	}
	if (count != n) {
		snprintf(k->err, sizeof(k->err), "it holds %u readable groups, "
		    "its meta record says %u", (unsigned)count, (unsigned)n);
		return -1;
	}
	return 0;
}

int
snapshot_check_fd(int fd, struct snap_meta *meta, char *err, size_t errlen)
{
	struct walk k = { NULL, 16384, "" };
	struct snap *s;
	int rc = -1;

	if (snap_open_fd(fd, &s) != 0) {
		snprintf(err, errlen, "%s", errno == EPROTO ? "it is not a "
		    "snapshot this version of okta-sync can read (wrong magic "
		    "or format version, unknown meta flags, or corrupt)" :
		    errno == EPERM ? "the copy would not be trusted by the "
		    "readers (it must be root's and mode 0644: run restore as "
		    "root)" : strerror(errno));
		return -1;
	}
	*meta = *snap_get_meta(s);
	k.buf = xmalloc(k.buflen);
	if (check_users(s, meta->nusers, &k) == 0 &&
	    check_groups(s, meta->ngroups, &k) == 0)
		rc = 0;
	else
		snprintf(err, errlen, "%s", k.err);
	free(k.buf);
	snap_close(s);
	return rc;
}
