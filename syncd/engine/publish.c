/*
 * publish.c - cache.db -> a new snapshot (see publish.h).
 *
 * Scans of the cache without joins, each in its table's primary-key
 * order (so SQLite never sorts): the adopted users whose local group
 * stands in for their private group (a short list, merged with the
 * users), users (streamed into the writer, with their private groups;
 * their ids and names kept), groups, and memberships, merged with the
 * groups; each member is found in a hash table of the users' ids, and
 * the (user, GID) pairs are bucketed by user for the supplementary GIDs.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "log.h"
#include "name_index.h"
#include "paths.h"
#include "publish.h"
#include "snapshot.h"
#include "sshkey.h"
#include "tombstone.h"
#include "xmalloc.h"

/* A growable list of strings packed into one buffer. */
struct strpack {
	char *buf;
	size_t len, cap;
	size_t *off;
	size_t n, capn;
	const char **ptrs;
	size_t capp;
};

static void
pack_reset(struct strpack *p)
{
	p->len = 0;
	p->n = 0;
}

static void
pack_add(struct strpack *p, const char *s)
{
	size_t l = strlen(s) + 1;

	while (p->cap - p->len < l) {
		p->cap = p->cap ? p->cap * 2 : 4096;
		p->buf = xreallocarray(p->buf, p->cap, 1);
	}
	if (p->n == p->capn) {
		p->capn = p->capn ? p->capn * 2 : 256;
		p->off = xreallocarray(p->off, p->capn, sizeof(*p->off));
	}
	memcpy(p->buf + p->len, s, l);
	p->off[p->n++] = p->len;
	p->len += l;
}

static const char *const *
pack_ptrs(struct strpack *p)
{
	size_t i;

	if (p->capp < p->n + 1) {
		p->capp = p->n + 1;
		p->ptrs = xreallocarray(p->ptrs, p->capp, sizeof(*p->ptrs));
	}
	for (i = 0; i < p->n; i++)
		p->ptrs[i] = p->buf + p->off[i];
	p->ptrs[p->n] = NULL;
	return p->ptrs;
}

static void
pack_free(struct strpack *p)
{
	free(p->buf);
	free(p->off);
	free(p->ptrs);
}

static const char *
txt(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

/* What publish keeps of each user and group: their keys and names. */
struct pub_entry {
	size_t okta_id;          /* offsets into a strpack's buffer */
	size_t name;
	uint32_t id;
	int skip;                /* not published (deprovisioned = remove) */
};

static size_t
pack_str(struct strpack *p, const char *s)
{
	pack_add(p, s);
	return p->off[p->n - 1];
}

/*
 * Remove the temporary files of publishes that were killed half way
 * (".snapshot.cdb.XXXXXX", the writer's mkostemp names).  The caller holds
 * the sync lock, so no other publish can be writing one.  Best effort.
 */
static void
remove_stale_temporaries(const char *dir)
{
	char prefix[64];
	struct dirent *d;
	size_t plen;
	DIR *dp;

	snprintf(prefix, sizeof(prefix), ".%s.", OKTA_SNAPSHOT_NAME);
	plen = strlen(prefix);
	if ((dp = opendir(dir)) == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (strncmp(d->d_name, prefix, plen) != 0 ||
		    strlen(d->d_name) != plen + 6)
			continue;
		if (unlinkat(dirfd(dp), d->d_name, 0) == 0)
			debug("removed %s/%s, left by an interrupted publish",
			    dir, d->d_name);
	}
	closedir(dp);
}

static int
add_tombstone(void *ctx, const struct snap_tombstone *t)
{
	return snap_writer_add_tombstone(ctx, t) != 0 ? 1 : 0;
}

int
publish_record_identity(sqlite3 *db, const char *path, char *err,
    size_t errlen)
{
	struct stat sb;
	char e[128];

	if (stat(path, &sb) != 0) {
		snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
		return -1;
	}
	if (cache_exec(db, "BEGIN IMMEDIATE", err, errlen) != 0)
		return -1;
	if (cache_meta_set_int(db, "snapshot_dev", (long long)sb.st_dev) != 0 ||
	    cache_meta_set_int(db, "snapshot_ino", (long long)sb.st_ino) != 0 ||
	    cache_meta_set_int(db, "snapshot_mtime_ns",
	    (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec) != 0 ||
	    cache_meta_set_int(db, "snapshot_size", (long long)sb.st_size) != 0) {
		snprintf(err, errlen, "recording the snapshot's identity: %s",
		    sqlite3_errmsg(db));
		cache_exec(db, "ROLLBACK", e, sizeof(e));
		return -1;
	}
	return cache_exec(db, "COMMIT", err, errlen);
}

/* What the steps of publish_snapshot share. */
struct pub {
	sqlite3 *db;
	const struct config *c;
	struct snap_writer *w;
	sqlite3_stmt *st;        /* the scan under way (finalized at the end,
	                            after its error is read) */
	struct strpack ustr, gstr, members;
	struct pub_entry *users, *groups;
	size_t nusers, capusers, ngroups, capgroups;
	struct strpack adopted;          /* okta_ids, in okta_id order */
	struct name_index byid;          /* index_users */
	uint32_t *pair_user, *pair_gid;   /* (user index, GID) memberships */
	size_t npairs, cappairs;
	uint32_t pub_users, pub_groups;   /* written, for the snapshot's meta */
};

/* How a step failed: the writer (snap_writer_error) or reading the cache
 * (sqlite3_errmsg). */
enum { PUB_OK, PUB_WRITER_ERR, PUB_SQL_ERR, PUB_NOMEM };

/* A new entry at the end of *v, growing it from first entries. */
static struct pub_entry *
entry_push(struct pub_entry **v, size_t *n, size_t *cap, size_t first)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : first;
		*v = xreallocarray(*v, *cap, sizeof(**v));
	}
	return &(*v)[(*n)++];
}

/* [pam] travels in the snapshot: pam_okta never reads the config. */
static int
write_policy(struct pub *p)
{
	struct snap_policy pol;

	config_pam_policy(p->c, &pol);
	return snap_writer_set_policy(p->w, &pol) != 0 ? PUB_WRITER_ERR : PUB_OK;
}

/*
 * The 'k' record of user `name` from the stored lines (cache.h, version
 * 4).  Each line is checked again, as the key program will: one that no
 * longer passes (the cache edited by hand, or ssh_keys_allow_options
 * turned off since the sync that stored it) is left out with a warning
 * rather than failing the publish.  No keys at all without [posix]
 * ssh_keys_attribute.  PUB_OK or PUB_WRITER_ERR.
 */
static int
write_user_keys(struct pub *p, const char *name, const char *stored)
{
	const char *lines[SNAP_KEYS_MAX], *bad;
	char *copy, *line, *save = NULL;
	char canon[SSHKEY_LINE_MAX + 1], why[SSHKEY_WHY_MAX];
	size_t n = 0;
	int r = PUB_OK;

	if (p->c->ssh_keys_attribute == NULL || *stored == '\0')
		return PUB_OK;
	copy = xstrdup(stored);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (n == SNAP_KEYS_MAX)
			bad = "more keys than a snapshot holds for one user";
		else if (sshkey_check(line, strlen(line),
		    p->c->ssh_keys_allow_options, canon, sizeof(canon), why,
		    sizeof(why)) != 0)
			bad = why;
		else if (strcmp(canon, line) != 0)
			bad = "not in canonical form";
		else {
			lines[n++] = line;
			continue;
		}
		warn("not publishing an SSH key of %s stored in cache.db: %s",
		    name, bad);
	}
	if (n > 0 && snap_writer_add_user_keys(p->w, name, lines, n) != 0)
		r = PUB_WRITER_ERR;
	free(copy);
	return r;
}

/* The adopted users whose local group stands in for their private group
 * (adopt.h), in okta_id order, into p->adopted. */
static int
load_adopted(struct pub *p)
{
	int r;

	if (sqlite3_prepare_v2(p->db, "SELECT okta_id FROM adoptions"
	    " WHERE local_group ORDER BY okta_id", -1, &p->st,
	    NULL) != SQLITE_OK)
		return PUB_SQL_ERR;
	while ((r = sqlite3_step(p->st)) == SQLITE_ROW)
		pack_add(&p->adopted, txt(p->st, 0));
	if (r != SQLITE_DONE)
		return PUB_SQL_ERR;
	sqlite3_finalize(p->st);
	p->st = NULL;
	return PUB_OK;
}

/* Whether the user okta_id (the users come in okta_id order) is in
 * p->adopted, whose first *ai entries come before it. */
static int
adopted_merge(const struct pub *p, size_t *ai, const char *okta_id)
{
	int c = 1;

	while (*ai < p->adopted.n &&
	    (c = strcmp(p->adopted.buf + p->adopted.off[*ai], okta_id)) < 0)
		(*ai)++;
	return *ai < p->adopted.n && c == 0;
}

/* Users (and their private groups), in okta_id order; each is kept in
 * p->users for the membership scan. */
static int
write_users(struct pub *p)
{
	int drop_dep = p->c->deprovisioned == DEPROVISIONED_REMOVE;
	int upg = p->c->primary_group == PRIMARY_GROUP_USER_PRIVATE;
	sqlite3_stmt *st;
	size_t ai = 0;
	int r;

	if (sqlite3_prepare_v2(p->db, "SELECT okta_id, name, uid, gid, gecos,"
	    " home, shell, status, ssh_keys FROM users ORDER BY okta_id", -1,
	    &p->st, NULL) != SQLITE_OK)
		return PUB_SQL_ERR;
	st = p->st;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct snap_user u = {
			.name = txt(st, 1),
			.uid = (uint32_t)sqlite3_column_int64(st, 2),
			.gid = (uint32_t)sqlite3_column_int64(st, 3),
			.gecos = txt(st, 4),
			.dir = txt(st, 5),
			.shell = txt(st, 6),
			.status = okta_status_from_string(txt(st, 7)),
		};
		struct pub_entry *e = entry_push(&p->users, &p->nusers,
		    &p->capusers, 1024);

		e->okta_id = pack_str(&p->ustr, txt(st, 0));
		e->name = pack_str(&p->ustr, u.name);
		e->id = u.uid;
		e->skip = drop_dep && u.status == OKTA_STATUS_DEPROVISIONED;
		if (e->skip)
			continue;
		if (snap_writer_add_user(p->w, &u) != 0 ||
		    write_user_keys(p, u.name, txt(st, 8)) != PUB_OK)
			return PUB_WRITER_ERR;
		p->pub_users++;
		if (upg && !adopted_merge(p, &ai, p->ustr.buf + e->okta_id)) {
			/* gid is uid, except for an adopted user (adopt.h). */
			struct snap_group g = {
				.name = u.name, .gid = u.gid, .members = NULL,
				.nmembers = 0,
			};
			if (snap_writer_add_group(p->w, &g) != 0)
				return PUB_WRITER_ERR;
			p->pub_groups++;
		}
	}
	if (r != SQLITE_DONE)
		return PUB_SQL_ERR;
	sqlite3_finalize(p->st);
	p->st = NULL;
	return PUB_OK;
}

static const char *
user_id_at(const void *ctx, size_t i)
{
	const struct pub *p = ctx;

	return p->ustr.buf + p->users[i].okta_id;
}

/*
 * The users' okta_ids (their buffer complete now) into p->byid, for the
 * membership scan: 1.3 probes a look-up at 100k users, where a binary
 * search made 17 string comparisons.  (glibc's hsearch_r hashes only the
 * first eight bytes of a key, the "00u" prefix and five characters of an
 * Okta id: it was no faster than the binary search.)  Okta assigns the
 * ids, which are the table's primary key: no seed or duplicate to care
 * about.  PUB_OK or PUB_NOMEM.
 */
static int
index_users(struct pub *p)
{
	const char *dup;

	return name_index_build(&p->byid, 0, p->nusers, user_id_at, p,
	    &dup) == 0 ? PUB_OK : PUB_NOMEM;
}

/* The user whose okta_id is id, or NULL. */
static const struct pub_entry *
find_user(const struct pub *p, const char *id)
{
	size_t i = name_index_find(&p->byid, id);

	return i != 0 ? &p->users[i - 1] : NULL;
}

/* The groups, in okta_id order, into p->groups (written with their
 * members by write_groups). */
static int
load_groups(struct pub *p)
{
	int r;

	if (sqlite3_prepare_v2(p->db, "SELECT okta_id, name, gid FROM groups"
	    " ORDER BY okta_id", -1, &p->st, NULL) != SQLITE_OK)
		return PUB_SQL_ERR;
	while ((r = sqlite3_step(p->st)) == SQLITE_ROW) {
		struct pub_entry *e = entry_push(&p->groups, &p->ngroups,
		    &p->capgroups, 256);

		e->okta_id = pack_str(&p->gstr, txt(p->st, 0));
		e->name = pack_str(&p->gstr, txt(p->st, 1));
		e->id = (uint32_t)sqlite3_column_int64(p->st, 2);
		e->skip = 0;
	}
	if (r != SQLITE_DONE)
		return PUB_SQL_ERR;
	sqlite3_finalize(p->st);
	p->st = NULL;
	return PUB_OK;
}

/* Remember that user ui is a member of the group with GID gid, for the
 * supplementary GIDs. */
static void
pair_push(struct pub *p, uint32_t ui, uint32_t gid)
{
	if (p->npairs == p->cappairs) {
		p->cappairs = p->cappairs ? p->cappairs * 2 : 4096;
		p->pair_user = xreallocarray(p->pair_user, p->cappairs,
		    sizeof(*p->pair_user));
		p->pair_gid = xreallocarray(p->pair_gid, p->cappairs,
		    sizeof(*p->pair_gid));
	}
	p->pair_user[p->npairs] = ui;
	p->pair_gid[p->npairs] = gid;
	p->npairs++;
}

/* Groups with their members: memberships in (group, user) order, merged
 * with p->groups. */
static int
write_groups(struct pub *p)
{
	size_t gi;
	int r;

	if (sqlite3_prepare_v2(p->db, "SELECT group_id, user_id FROM memberships"
	    " ORDER BY group_id, user_id", -1, &p->st, NULL) != SQLITE_OK)
		return PUB_SQL_ERR;
	r = sqlite3_step(p->st);
	for (gi = 0; gi < p->ngroups; gi++) {
		const char *gkey = p->gstr.buf + p->groups[gi].okta_id;
		const struct pub_entry *u;
		size_t i, n = 0;

		/* The group's member ids first, then their lookups back to
		 * back, so that the CPU can overlap their cache misses (each
		 * lookup touches three random lines), which it cannot across
		 * SQLite's steps. */
		pack_reset(&p->members);
		while (r == SQLITE_ROW) {
			int cmp = strcmp(txt(p->st, 0), gkey);

			if (cmp > 0)
				break;
			if (cmp == 0)
				pack_add(&p->members, txt(p->st, 1));
			r = sqlite3_step(p->st);
		}
		if (r != SQLITE_ROW && r != SQLITE_DONE)
			return PUB_SQL_ERR;
		pack_ptrs(&p->members);
		for (i = 0; i < p->members.n; i++)
			if ((u = find_user(p, p->members.ptrs[i])) != NULL &&
			    !u->skip) {
				p->members.ptrs[n++] = p->ustr.buf + u->name;
				pair_push(p, (uint32_t)(u - p->users), p->groups[gi].id);
			}
		p->members.ptrs[n] = NULL;
		struct snap_group g = {
			.name = p->gstr.buf + p->groups[gi].name,
			.gid = p->groups[gi].id,
			.members = p->members.ptrs,
			.nmembers = n,
		};
		if (snap_writer_add_group(p->w, &g) != 0)
			return PUB_WRITER_ERR;
		p->pub_groups++;
	}
	sqlite3_finalize(p->st);
	p->st = NULL;
	return PUB_OK;
}

/* Supplementary GIDs: the pairs bucketed by user (counting sort). */
static int
write_user_gids(struct pub *p)
{
	size_t *start, *fill, i;
	uint32_t *gids;
	int rc = PUB_OK;

	start = xcalloc(p->nusers + 1, sizeof(*start));
	for (i = 0; i < p->npairs; i++)
		start[p->pair_user[i] + 1]++;
	for (i = 0; i < p->nusers; i++)
		start[i + 1] += start[i];
	gids = xreallocarray(NULL, p->npairs ? p->npairs : 1, sizeof(*gids));
	fill = xcalloc(p->nusers + 1, sizeof(*fill));
	for (i = 0; i < p->npairs; i++)
		gids[start[p->pair_user[i]] + fill[p->pair_user[i]]++] =
		    p->pair_gid[i];
	free(fill);
	for (i = 0; i < p->nusers && rc == PUB_OK; i++) {
		if (start[i + 1] == start[i] || p->users[i].skip)
			continue;
		if (snap_writer_add_user_gids(p->w, p->ustr.buf + p->users[i].name,
		    gids + start[i], start[i + 1] - start[i]) != 0)
			rc = PUB_WRITER_ERR;
	}
	free(gids);
	free(start);
	return rc;
}

/* Everything in the cache into the writer: policy, users, groups, GIDs. */
static int
write_entries(struct pub *p)
{
	int r;

	if ((r = write_policy(p)) != PUB_OK ||
	    (r = load_adopted(p)) != PUB_OK ||
	    (r = write_users(p)) != PUB_OK ||
	    (r = index_users(p)) != PUB_OK ||
	    (r = load_groups(p)) != PUB_OK ||
	    (r = write_groups(p)) != PUB_OK)
		return r;
	debug("publish: users and groups written, %.3f s CPU so far",
	    (double)clock() / CLOCKS_PER_SEC);
	return write_user_gids(p);
}

/* What the scans kept, freed (again: harmless). */
static void
pub_free(struct pub *p)
{
	pack_free(&p->ustr);
	pack_free(&p->gstr);
	pack_free(&p->members);
	pack_free(&p->adopted);
	name_index_free(&p->byid);
	free(p->users);
	free(p->groups);
	free(p->pair_user);
	free(p->pair_gid);
	p->pair_user = p->pair_gid = NULL;
	p->users = p->groups = NULL;
	memset(&p->ustr, 0, sizeof(p->ustr));
	memset(&p->gstr, 0, sizeof(p->gstr));
	memset(&p->members, 0, sizeof(p->members));
	memset(&p->adopted, 0, sizeof(p->adopted));
}

/* The snapshot's meta, the commit (which renames it into place) and the
 * record of its identity.  Takes p->w. */
static okerr
commit_snapshot(struct pub *p, const char *path,
    unsigned long long generation, time_t last_sync, char *err, size_t errlen)
{
	struct snap_meta meta;
	char ident_err[256];
	int r;

	memset(&meta, 0, sizeof(meta));
	meta.last_sync = (int64_t)last_sync;
	meta.generation = generation;
	meta.nusers = p->pub_users;
	meta.ngroups = p->pub_groups;
	r = snap_writer_commit(p->w, &meta, err, errlen);
	debug("publish: committed, %.3f s CPU so far",
	    (double)clock() / CLOCKS_PER_SEC);
	p->w = NULL;
	if (r != 0)
		return OK_ERR_PUBLISH;
	/* What status compares the file with (part of a publish: a failure
	 * here is logged, the snapshot is in place all the same). */
	if (publish_record_identity(p->db, path, ident_err,
	    sizeof(ident_err)) != 0)
		warn("the snapshot is published, but %s; okta-sync status may "
		    "report it as replaced", ident_err);
	return OK_SUCCESS;
}

/*
 * The scans read no joins: users and groups are kept in memory in
 * okta_id order (the tables' primary key order, so no sort), and the
 * membership table is read once in its own (group_id, user_id) order;
 * each member is found in a hash table of the users.  About 60 bytes per
 * user and 8 per membership, freed before the writer's commit, which
 * needs the most.
 */
okerr
publish_snapshot(sqlite3 *db, const struct config *c,
    unsigned long long generation, time_t last_sync, char *err, size_t errlen)
{
	struct pub p;
	char *path;
	okerr rc = OK_ERR_PUBLISH;
	int r;

	memset(&p, 0, sizeof(p));
	p.db = db;
	p.c = c;
	debug("publish: start, %.3f s CPU so far", (double)clock() / CLOCKS_PER_SEC);
	remove_stale_temporaries(c->cache_dir);
	path = xasprintf("%s/%s", c->cache_dir, OKTA_SNAPSHOT_NAME);
	p.w = snap_writer_open(path, err, errlen);
	if (p.w == NULL)
		goto out;
	r = write_entries(&p);
	/* The users who left the host (tombstone.h). */
	if (r == PUB_OK) {
		r = tomb_for_each(db, c, (long long)time(NULL), add_tombstone, p.w,
		    err, errlen);
		if (r < 0) {
			rc = OK_ERR_CACHE;
			goto out;
		}
		r = r > 0 ? PUB_WRITER_ERR : PUB_OK;
	}
	/* The writer's commit needs the most memory: none of this. */
	pub_free(&p);
	if (r == PUB_OK)
		rc = commit_snapshot(&p, path, generation, last_sync, err, errlen);
	else if (r == PUB_WRITER_ERR) {
		snprintf(err, errlen, "%s", snap_writer_error(p.w));
		rc = OK_ERR_PUBLISH;
	} else if (r == PUB_NOMEM) {
		snprintf(err, errlen, "out of memory publishing the snapshot");
		rc = OK_ERR_PUBLISH;
	} else {
		snprintf(err, errlen, "reading the cache to publish: %s",
		    sqlite3_errmsg(db));
		rc = OK_ERR_CACHE;
	}
out:
	snap_writer_abort(p.w);
	sqlite3_finalize(p.st);
	pub_free(&p);
	free(path);
	return rc;
}
