/*
 * mksnap.c - build a snapshot file from a text description, so that the
 * NSS and PAM tests (and the benchmarks) can make snapshots without a sync.
 *
 *   build/tests/mksnap OUTPUT < description
 *
 * It goes through the real writer (snap_writer_*), so what it makes is
 * exactly what okta-sync would publish.  The description, one entry a line
 * (blank lines and lines starting with '#' are ignored), fields separated
 * by spaces or tabs:
 *
 *   meta last_sync=EPOCH generation=N        (optional; default 0 and 1)
 *   user NAME UID GID STATUS GECOS DIR SHELL
 *   group NAME GID MEMBER,MEMBER,...
 *   gids NAME GID,GID,...                    (optional, see below)
 *
 * STATUS is an Okta status name (ACTIVE, SUSPENDED, DEPROVISIONED, ...) or
 * its number.  In any field, "%XX" stands for the byte with hex code XX
 * (so "Jane%20Doe" is a GECOS with a space) and a field of exactly "-" is
 * empty (an empty member list, an empty GECOS).
 *
 * Each user's supplementary GIDs (for initgroups) are computed from the
 * groups whose member lists name them, unless a `gids` line gives them
 * explicitly.  User lines come before group and gids lines.  Exit status 0, or 1 with a message on stderr (a line the
 * writer refused, with its line number).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

struct user_ent {
	char *name;
	uint32_t *gids;
	size_t ngids, cap;
	int explicit_gids;
};

static struct user_ent *users;
static size_t nusers, users_cap;

static void
die(long line, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void
die(long line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mksnap: line %ld: ", line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n ? n : 1)) == NULL) {
		fprintf(stderr, "mksnap: out of memory\n");
		exit(1);
	}
	return p;
}

/* Decode %XX and "-" in place. */
static char *
unescape(char *s)
{
	char *r = s, *w = s;
	unsigned v;

	if (strcmp(s, "-") == 0) {
		*s = '\0';
		return s;
	}
	while (*r) {
		if (r[0] == '%' && r[1] && r[2] && sscanf(r + 1, "%2x", &v) == 1) {
			*w++ = (char)v;
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return s;
}

/* Split line into at most max whitespace-separated fields. */
static size_t
split(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *save = NULL, *t;

	for (t = strtok_r(line, " \t\r\n", &save); t && n < max;
	    t = strtok_r(NULL, " \t\r\n", &save))
		f[n++] = t;
	return n;
}

static uint32_t
parse_id(const char *s, long line)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v > UINT32_MAX)
		die(line, "bad number \"%s\"", s);
	return (uint32_t)v;
}

static struct user_ent *
find_user(const char *name)
{
	size_t i;

	/* Linear, but only over the users during the group pass via the
	 * sorted index below; this is the fallback for `gids` lines. */
	for (i = 0; i < nusers; i++)
		if (strcmp(users[i].name, name) == 0)
			return &users[i];
	return NULL;
}

static int
cmp_user(const void *a, const void *b)
{
	return strcmp(((const struct user_ent *)a)->name,
	    ((const struct user_ent *)b)->name);
}

static void
add_gid(struct user_ent *u, uint32_t gid)
{
	if (u->ngids == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 8;
		u->gids = xrealloc(u->gids, u->cap * sizeof(*u->gids));
	}
	u->gids[u->ngids++] = gid;
}

int
main(int argc, char **argv)
{
	struct snap_meta meta = { .generation = 1 };
	struct snap_writer *w;
	struct snap_user u;
	struct snap_group g;
	struct user_ent key, *ue;
	char *line = NULL, *f[9], *m, *save, **members = NULL;
	size_t cap = 0, n, nm, mcap = 0, i;
	long lineno = 0;
	char err[512];
	int sorted = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: mksnap OUTPUT < description\n");
		return 2;
	}
	if ((w = snap_writer_open(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "mksnap: %s\n", err);
		return 1;
	}
	while (getline(&line, &cap, stdin) > 0) {
		lineno++;
		n = split(line, f, 9);
		if (n == 0 || f[0][0] == '#')
			continue;
		if (strcmp(f[0], "meta") == 0) {
			for (i = 1; i < n; i++) {
				if (strncmp(f[i], "last_sync=", 10) == 0)
					meta.last_sync = strtoll(f[i] + 10, NULL, 10);
				else if (strncmp(f[i], "generation=", 11) == 0)
					meta.generation = strtoull(f[i] + 11, NULL, 10);
				else
					die(lineno, "unknown meta field \"%s\"", f[i]);
			}
		} else if (strcmp(f[0], "user") == 0) {
			if (n != 8)
				die(lineno, "want user NAME UID GID STATUS GECOS DIR SHELL");
			if (sorted)
				die(lineno, "users must come before groups and gids");
			memset(&u, 0, sizeof(u));
			u.name = unescape(f[1]);
			u.uid = parse_id(f[2], lineno);
			u.gid = parse_id(f[3], lineno);
			if (f[4][0] >= '0' && f[4][0] <= '9')
				u.status = (enum okta_status)parse_id(f[4], lineno);
			else
				u.status = okta_status_from_string(f[4]);
			u.gecos = unescape(f[5]);
			u.dir = unescape(f[6]);
			u.shell = unescape(f[7]);
			if (snap_writer_add_user(w, &u) != 0)
				die(lineno, "%s", snap_writer_error(w));
			if (nusers == users_cap) {
				users_cap = users_cap ? users_cap * 2 : 256;
				users = xrealloc(users, users_cap * sizeof(*users));
			}
			memset(&users[nusers], 0, sizeof(users[nusers]));
			if ((users[nusers].name = strdup(u.name)) == NULL)
				die(lineno, "out of memory");
			nusers++;
		} else if (strcmp(f[0], "group") == 0) {
			if (n != 4 && n != 3)
				die(lineno, "want group NAME GID MEMBERS");
			if (!sorted) {
				qsort(users, nusers, sizeof(*users), cmp_user);
				sorted = 1;
			}
			memset(&g, 0, sizeof(g));
			g.name = unescape(f[1]);
			g.gid = parse_id(f[2], lineno);
			nm = 0;
			save = NULL;
			for (m = n == 4 && strcmp(f[3], "-") != 0 ?
			    strtok_r(f[3], ",", &save) : NULL; m != NULL;
			    m = strtok_r(NULL, ",", &save)) {
				if (nm == mcap) {
					mcap = mcap ? mcap * 2 : 64;
					members = xrealloc(members,
					    mcap * sizeof(*members));
				}
				members[nm++] = unescape(m);
				key.name = m;
				ue = bsearch(&key, users, nusers, sizeof(*users),
				    cmp_user);
				if (ue != NULL && !ue->explicit_gids)
					add_gid(ue, g.gid);
			}
			g.members = (const char *const *)members;
			g.nmembers = nm;
			if (snap_writer_add_group(w, &g) != 0)
				die(lineno, "%s", snap_writer_error(w));
		} else if (strcmp(f[0], "gids") == 0) {
			if (n != 3)
				die(lineno, "want gids NAME GID,GID,...");
			if ((ue = find_user(f[1])) == NULL)
				die(lineno, "gids for unknown user %s", f[1]);
			ue->explicit_gids = 1;
			ue->ngids = 0;
			save = NULL;
			if (strcmp(f[2], "-") != 0)
				for (m = strtok_r(f[2], ",", &save); m != NULL;
				    m = strtok_r(NULL, ",", &save))
					add_gid(ue, parse_id(m, lineno));
			if (!sorted) {
				qsort(users, nusers, sizeof(*users), cmp_user);
				sorted = 1;
			}
		} else {
			die(lineno, "unknown entry \"%s\"", f[0]);
		}
	}
	for (i = 0; i < nusers; i++)
		if (snap_writer_add_user_gids(w, users[i].name, users[i].gids,
		    users[i].ngids) != 0)
			die(lineno, "%s", snap_writer_error(w));
	if (snap_writer_commit(w, &meta, err, sizeof(err)) != 0) {
		fprintf(stderr, "mksnap: %s\n", err);
		return 1;
	}
	for (i = 0; i < nusers; i++) {
		free(users[i].name);
		free(users[i].gids);
	}
	free(users);
	free(members);
	free(line);
	return 0;
}
