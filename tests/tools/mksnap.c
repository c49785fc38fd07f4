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
 *   meta last_sync=EPOCH generation=N [flags=N]
 *                                            (optional; default 0, 1, 0)
 *   user NAME UID GID STATUS GECOS DIR SHELL
 *   group NAME GID MEMBER,MEMBER,...
 *   gids NAME GID,GID,...                    (optional, see below)
 *   tombstone NAME UID REASON LEFT_AT WHY    (a user who left: REASON the
 *       number of enum snap_tomb_reason; expires 30 days after LEFT_AT)
 *   policy KEY=VALUE ...                     (optional: the 'P' record;
 *       keys max_cache_age=SECONDS, stale_policy=deny|allow,
 *       deny_recovery=0|1, deny_password_expired=0|1,
 *       tombstone=deny|ignore, allowed_groups=G1,G2; unset keys keep
 *       the defaults, as an empty [pam] section does)
 *   key NAME LINE                            (one SSH public key of user
 *       NAME: LINE is the rest of the line after NAME and the blanks
 *       after it, its own spaces kept, %XX decoded; one `key` line per
 *       key, in order; they go through snap_writer_add_user_keys, so
 *       each must be canonical, as sshkey_check writes it, and NAME a
 *       user; up to SNAP_KEYS_MAX a user.  Example:
 *       key jane ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA... jane@laptop)
 *   rawkey NAME LINE                         (the same, but written into
 *       the 'k' record as it is, past the writer's checks, for the
 *       readers' tests: "%0A" puts a LF into a line, any count goes.
 *       All rawkey lines of NAME make one record; do not also give NAME
 *       `key` lines.  With "rawkey NAME %" the record is NAME's 'k'
 *       record with a count of 1 and no line at all.)
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
 *
 * Forging what the writer never writes (for the reader's tests): flags=N
 * puts N into the meta record's flags field, which the writer always
 * leaves 0.  The file is written under a temporary name, patched there and
 * renamed over OUTPUT, so that OUTPUT changes only by rename, as the
 * writer's own does.  (IDs below the floor need no option: the writer
 * stores what it is given except 0 and -1, and the sync is what keeps
 * them out.)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cdb.h>

#include "snapshot.h"
#include "snapshot_format.h"

/* The key lines of one user (`key` or `rawkey`), in order. */
struct key_ent {
	char *name;
	char **lines;
	size_t n, cap;
	int raw;
};

static struct key_ent *keys;
static size_t nkeys, keys_cap;

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

/* Put flags into the meta record of the finished file at path. */
static void
patch_flags(const char *path, uint32_t flags)
{
	struct cdb c;
	unsigned char b[4];
	char key = SNAP_KEY_META;
	int fd;

	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0 || cdb_init(&c, fd) != 0 ||
	    cdb_find(&c, &key, 1) <= 0 || cdb_datalen(&c) < SNAP_META_LEN) {
		fprintf(stderr, "mksnap: cannot find the meta record of %s\n",
		    path);
		exit(1);
	}
	snap_put32(b, flags);
	if (pwrite(fd, b, 4, (off_t)cdb_datapos(&c) + 12) != 4 ||
	    fsync(fd) != 0) {
		fprintf(stderr, "mksnap: patching %s: %s\n", path,
		    strerror(errno));
		exit(1);
	}
	cdb_free(&c);
	close(fd);
}

/* Add one `key`/`rawkey` line: raw is the whole input line. */
static void
add_key_line(char *raw, int is_raw, long line)
{
	char *p = raw, *name, *k;
	struct key_ent *e = NULL;
	size_t i, len;

	p += strspn(p, " \t");
	p += strcspn(p, " \t");        /* "key" / "rawkey" */
	p += strspn(p, " \t");
	name = p;
	p += strcspn(p, " \t\n");
	if (p == name || *p == '\0' || *p == '\n')
		die(line, "want %s NAME LINE", is_raw ? "rawkey" : "key");
	*p++ = '\0';
	p += strspn(p, " \t");
	len = strlen(p);
	if (len > 0 && p[len - 1] == '\n')
		p[--len] = '\0';
	if (*p == '\0')
		die(line, "want %s NAME LINE", is_raw ? "rawkey" : "key");
	/* "%" alone: the count without its line (rawkey only). */
	k = strcmp(p, "%") == 0 && is_raw ? NULL : unescape(p);
	for (i = 0; i < nkeys; i++)
		if (strcmp(keys[i].name, name) == 0 && keys[i].raw == is_raw)
			e = &keys[i];
	if (e == NULL) {
		if (nkeys == keys_cap) {
			keys_cap = keys_cap ? keys_cap * 2 : 64;
			keys = xrealloc(keys, keys_cap * sizeof(*keys));
		}
		e = &keys[nkeys++];
		memset(e, 0, sizeof(*e));
		e->raw = is_raw;
		if ((e->name = strdup(name)) == NULL)
			die(line, "out of memory");
	}
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 4;
		e->lines = xrealloc(e->lines, e->cap * sizeof(*e->lines));
	}
	e->lines[e->n] = NULL;
	if (k != NULL && (e->lines[e->n] = strdup(k)) == NULL)
		die(line, "out of memory");
	e->n++;
}

/*
 * Append the rawkey records to the finished file at path: copy its records
 * in their order into a new cdb (so that every offset the meta record
 * holds stays right), add the forged 'k' records after them, then the
 * meta record (format 4: the last), and rename the copy over path.
 */
static void
add_raw_keys(const char *path)
{
	struct cdb c;
	struct cdb_make cm;
	unsigned pos, metalen = 0;
	const void *meta = NULL;
	unsigned char *v;
	char tmp[4096], kb[300];
	size_t i, j, len, vlen;
	int in, out;

	if (snprintf(tmp, sizeof(tmp), "%s.raw", path) >= (int)sizeof(tmp) ||
	    (in = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    cdb_init(&c, in) != 0 ||
	    (out = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
	    cdb_make_start(&cm, out) != 0) {
		fprintf(stderr, "mksnap: rawkey: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	cdb_seqinit(&pos, &c);
	while (cdb_seqnext(&pos, &c) > 0) {
		if (cdb_keylen(&c) == 1 &&
		    *(const char *)cdb_getkey(&c) == SNAP_KEY_META) {
			meta = cdb_getdata(&c);
			metalen = cdb_datalen(&c);
			continue;
		}
		if (cdb_make_add(&cm, cdb_getkey(&c), cdb_keylen(&c),
		    cdb_getdata(&c), cdb_datalen(&c)) != 0)
			goto fail;
	}
	for (i = 0; i < nkeys; i++) {
		if (!keys[i].raw)
			continue;
		vlen = 4;
		for (j = 0; j < keys[i].n; j++)
			vlen += keys[i].lines[j] ? 2 + strlen(keys[i].lines[j]) : 0;
		v = xrealloc(NULL, vlen);
		snap_put32(v, (uint32_t)keys[i].n);
		for (vlen = 4, j = 0; j < keys[i].n; j++) {
			if (keys[i].lines[j] == NULL)
				continue;
			len = strlen(keys[i].lines[j]);
			snap_put16(v + vlen, (uint16_t)len);
			memcpy(v + vlen + 2, keys[i].lines[j], len);
			vlen += 2 + len;
		}
		len = strlen(keys[i].name);
		if (len + 1 > sizeof(kb))
			goto fail;
		kb[0] = SNAP_KEY_SSHKEY;
		memcpy(kb + 1, keys[i].name, len);
		if (cdb_make_add(&cm, kb, (unsigned)len + 1, v,
		    (unsigned)vlen) != 0)
			goto fail;
		free(v);
	}
	if (meta == NULL || cdb_make_add(&cm, "M", 1, meta, metalen) != 0 ||
	    cdb_make_finish(&cm) != 0 || fsync(out) != 0)
		goto fail;
	close(out);
	cdb_free(&c);
	close(in);
	if (rename(tmp, path) != 0)
		goto fail;
	return;
fail:
	fprintf(stderr, "mksnap: rawkey: writing %s: %s\n", tmp, strerror(errno));
	unlink(tmp);
	exit(1);
}

int
main(int argc, char **argv)
{
	struct snap_meta meta = { .generation = 1 };
	struct snap_policy pol;
	char *gsave;
	struct snap_writer *w;
	struct snap_user u;
	struct snap_group g;
	struct user_ent key, *ue;
	char *line = NULL, *f[9], *m, *save, **members = NULL;
	size_t cap = 0, n, nm, mcap = 0, i;
	long lineno = 0;
	char err[512], tmp[4096];
	int sorted = 0;
	uint32_t flags = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: mksnap OUTPUT < description\n");
		return 2;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.mksnap", argv[1]) >= (int)sizeof(tmp)) {
		fprintf(stderr, "mksnap: path too long\n");
		return 1;
	}
	if ((w = snap_writer_open(tmp, err, sizeof(err))) == NULL) {
		fprintf(stderr, "mksnap: %s\n", err);
		return 1;
	}
	while (getline(&line, &cap, stdin) > 0) {
		lineno++;
		/* A key line keeps its spaces: it is not split. */
		m = line + strspn(line, " \t");
		if (strncmp(m, "key", 3) == 0 && (m[3] == ' ' || m[3] == '\t')) {
			add_key_line(line, 0, lineno);
			continue;
		}
		if (strncmp(m, "rawkey", 6) == 0 && (m[6] == ' ' || m[6] == '\t')) {
			add_key_line(line, 1, lineno);
			continue;
		}
		n = split(line, f, 9);
		if (n == 0 || f[0][0] == '#')
			continue;
		if (strcmp(f[0], "meta") == 0) {
			for (i = 1; i < n; i++) {
				if (strncmp(f[i], "last_sync=", 10) == 0)
					meta.last_sync = strtoll(f[i] + 10, NULL, 10);
				else if (strncmp(f[i], "generation=", 11) == 0)
					meta.generation = strtoull(f[i] + 11, NULL, 10);
				else if (strncmp(f[i], "flags=", 6) == 0)
					flags = parse_id(f[i] + 6, lineno);
				else
					die(lineno, "unknown meta field \"%s\"", f[i]);
			}
		} else if (strcmp(f[0], "policy") == 0) {
			snap_policy_defaults(&pol);
			for (i = 1; i < n; i++) {
				if (strncmp(f[i], "max_cache_age=", 14) == 0)
					pol.max_cache_age = strtoll(f[i] + 14, NULL, 10);
				else if (strcmp(f[i], "stale_policy=allow") == 0)
					pol.stale_policy = SNAP_STALE_ALLOW;
				else if (strcmp(f[i], "stale_policy=deny") == 0)
					pol.stale_policy = SNAP_STALE_DENY;
				else if (strncmp(f[i], "deny_recovery=", 14) == 0)
					pol.deny_recovery = atoi(f[i] + 14);
				else if (strncmp(f[i], "deny_password_expired=", 22) == 0)
					pol.deny_password_expired = atoi(f[i] + 22);
				else if (strcmp(f[i], "tombstone=ignore") == 0)
					pol.tombstone = SNAP_TOMB_POLICY_IGNORE;
				else if (strcmp(f[i], "tombstone=deny") == 0)
					pol.tombstone = SNAP_TOMB_POLICY_DENY;
				else if (strncmp(f[i], "allowed_groups=", 15) == 0) {
					gsave = NULL;
					for (m = strtok_r(f[i] + 15, ",", &gsave);
					    m != NULL && pol.ngroups < SNAP_POLICY_MAX_GROUPS;
					    m = strtok_r(NULL, ",", &gsave))
						pol.groups[pol.ngroups++] = m;
				} else
					die(lineno, "unknown policy field \"%s\"", f[i]);
			}
			/* The names point into this line: set it now. */
			if (snap_writer_set_policy(w, &pol) != 0)
				die(lineno, "%s", snap_writer_error(w));
		} else if (strcmp(f[0], "tombstone") == 0) {
			struct snap_tombstone t;

			if (n != 6)
				die(lineno, "want tombstone NAME UID REASON LEFT_AT WHY");
			memset(&t, 0, sizeof(t));
			t.name = unescape(f[1]);
			t.uid = parse_id(f[2], lineno);
			t.reason = (enum snap_tomb_reason)parse_id(f[3], lineno);
			t.left_at = strtoll(f[4], NULL, 10);
			t.expires = t.left_at + 30 * 86400;
			t.why = unescape(f[5]);
			if (snap_writer_add_tombstone(w, &t) != 0)
				die(lineno, "%s", snap_writer_error(w));
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
	for (i = 0; i < nkeys; i++)
		if (!keys[i].raw && snap_writer_add_user_keys(w, keys[i].name,
		    (const char *const *)keys[i].lines, keys[i].n) != 0)
			die(lineno, "%s", snap_writer_error(w));
	if (snap_writer_commit(w, &meta, err, sizeof(err)) != 0) {
		fprintf(stderr, "mksnap: %s\n", err);
		return 1;
	}
	for (i = 0; i < nkeys; i++)
		if (keys[i].raw) {
			add_raw_keys(tmp);
			break;
		}
	if (flags != 0)
		patch_flags(tmp, flags);
	if (rename(tmp, argv[1]) != 0) {
		fprintf(stderr, "mksnap: renaming %s to %s: %s\n", tmp, argv[1],
		    strerror(errno));
		unlink(tmp);
		return 1;
	}
	for (i = 0; i < nusers; i++) {
		free(users[i].name);
		free(users[i].gids);
	}
	free(users);
	for (i = 0; i < nkeys; i++) {
		for (n = 0; n < keys[i].n; n++)
			free(keys[i].lines[n]);
		free(keys[i].lines);
		free(keys[i].name);
	}
	free(keys);
	free(members);
	free(line);
	return 0;
}
