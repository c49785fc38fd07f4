/*
 * publish.c - cache.db -> a new snapshot (see publish.h).
 *
 * Three scans of the cache without joins: users (streamed into the
 * writer, with their private groups; their ids and names kept), groups,
 * and memberships in primary-key order, merged with the groups; each
 * member is found by binary search, and the (user, GID) pairs are bucketed
 * by user for the supplementary GIDs.
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
#include "paths.h"
#include "publish.h"
#include "snapshot.h"
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

static int
cmp_key(const void *key, const void *elem, const char *buf)
{
	return strcmp(key, buf + ((const struct pub_entry *)elem)->okta_id);
}

/* Binary search of okta_id in v (sorted by okta_id, byte order). */
static ssize_t
find_entry(const struct pub_entry *v, size_t n, const char *buf,
    const char *okta_id)
{
	size_t lo = 0, hi = n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = cmp_key(okta_id, &v[mid], buf);
		if (c == 0)
			return (ssize_t)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

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

/*
 * The three scans read no joins: users and groups are kept in memory in
 * okta_id order (the tables' primary key order, so no sort), and the
 * membership table is read once in its own (group_id, user_id) order;
 * each member is found by binary search.  About 50 bytes per user and 8
 * per membership.
 */
okerr
publish_snapshot(sqlite3 *db, const struct config *c,
    unsigned long long generation, time_t last_sync, char *err, size_t errlen)
{
	int drop_dep = c->deprovisioned == DEPROVISIONED_REMOVE;
	int upg = c->primary_group == PRIMARY_GROUP_USER_PRIVATE;
	sqlite3_stmt *st = NULL;
	struct snap_writer *w = NULL;
	struct snap_meta meta;
	struct strpack ustr = { 0 }, gstr = { 0 }, members = { 0 };
	struct pub_entry *users = NULL, *groups = NULL;
	size_t nusers = 0, capusers = 0, ngroups = 0, capgroups = 0;
	uint32_t *pair_user = NULL, *pair_gid = NULL, *gids = NULL;
	size_t npairs = 0, cappairs = 0, *start = NULL, i, gi;
	char *path = NULL, ident_err[256];
	okerr rc = OK_ERR_PUBLISH;
	int r;
	uint32_t pub_users = 0, pub_groups = 0;

	debug("publish: start, %.3f s CPU so far", (double)clock() / CLOCKS_PER_SEC);
	remove_stale_temporaries(c->cache_dir);
	path = xasprintf("%s/%s", c->cache_dir, OKTA_SNAPSHOT_NAME);
	w = snap_writer_open(path, err, errlen);
	if (w == NULL)
		goto out;
	/* [pam] travels in the snapshot: pam_okta never reads the config. */
	{
		struct snap_policy pol;

		config_pam_policy(c, &pol);
		if (snap_writer_set_policy(w, &pol) != 0)
			goto werror;
	}

	/* Users (and their private groups), in okta_id order. */
	/* Column 8: an adopted user whose local group stands in for its
	 * private group (adopt.h). */
	if (sqlite3_prepare_v2(db, "SELECT okta_id, name, uid, gid, gecos, home,"
	    " shell, status, EXISTS (SELECT 1 FROM adoptions a"
	    " WHERE a.okta_id = users.okta_id AND a.local_group)"
	    " FROM users ORDER BY okta_id", -1, &st, NULL) != SQLITE_OK)
		goto sqlerr;
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
		struct pub_entry *e;

		if (nusers == capusers) {
			capusers = capusers ? capusers * 2 : 1024;
			users = xreallocarray(users, capusers, sizeof(*users));
		}
		e = &users[nusers++];
		e->okta_id = pack_str(&ustr, txt(st, 0));
		e->name = pack_str(&ustr, u.name);
		e->id = u.uid;
		e->skip = drop_dep && u.status == OKTA_STATUS_DEPROVISIONED;
		if (e->skip)
			continue;
		if (snap_writer_add_user(w, &u) != 0)
			goto werror;
		pub_users++;
		if (upg && !sqlite3_column_int(st, 8)) {
			/* gid is uid, except for an adopted user (adopt.h). */
			struct snap_group g = {
				.name = u.name, .gid = u.gid, .members = NULL,
				.nmembers = 0,
			};
			if (snap_writer_add_group(w, &g) != 0)
				goto werror;
			pub_groups++;
		}
	}
	if (r != SQLITE_DONE)
		goto sqlerr;
	sqlite3_finalize(st);
	st = NULL;

	if (sqlite3_prepare_v2(db, "SELECT okta_id, name, gid FROM groups"
	    " ORDER BY okta_id", -1, &st, NULL) != SQLITE_OK)
		goto sqlerr;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct pub_entry *e;

		if (ngroups == capgroups) {
			capgroups = capgroups ? capgroups * 2 : 256;
			groups = xreallocarray(groups, capgroups, sizeof(*groups));
		}
		e = &groups[ngroups++];
		e->okta_id = pack_str(&gstr, txt(st, 0));
		e->name = pack_str(&gstr, txt(st, 1));
		e->id = (uint32_t)sqlite3_column_int64(st, 2);
		e->skip = 0;
	}
	if (r != SQLITE_DONE)
		goto sqlerr;
	sqlite3_finalize(st);
	st = NULL;

	/* Groups with their members: memberships in (group, user) order. */
	if (sqlite3_prepare_v2(db, "SELECT group_id, user_id FROM memberships"
	    " ORDER BY group_id, user_id", -1, &st, NULL) != SQLITE_OK)
		goto sqlerr;
	r = sqlite3_step(st);
	for (gi = 0; gi < ngroups; gi++) {
		const char *gkey = gstr.buf + groups[gi].okta_id;

		pack_reset(&members);
		while (r == SQLITE_ROW) {
			int cmp = strcmp(txt(st, 0), gkey);
			ssize_t ui;

			if (cmp > 0)
				break;
			if (cmp == 0 && (ui = find_entry(users, nusers, ustr.buf,
			    txt(st, 1))) >= 0 && !users[ui].skip) {
				pack_add(&members, ustr.buf + users[ui].name);
				if (npairs == cappairs) {
					cappairs = cappairs ? cappairs * 2 : 4096;
					pair_user = xreallocarray(pair_user, cappairs,
					    sizeof(*pair_user));
					pair_gid = xreallocarray(pair_gid, cappairs,
					    sizeof(*pair_gid));
				}
				pair_user[npairs] = (uint32_t)ui;
				pair_gid[npairs] = groups[gi].id;
				npairs++;
			}
			r = sqlite3_step(st);
		}
		if (r != SQLITE_ROW && r != SQLITE_DONE)
			goto sqlerr;
		struct snap_group g = {
			.name = gstr.buf + groups[gi].name,
			.gid = groups[gi].id,
			.members = pack_ptrs(&members),
			.nmembers = members.n,
		};
		if (snap_writer_add_group(w, &g) != 0)
			goto werror;
		pub_groups++;
	}
	sqlite3_finalize(st);
	st = NULL;

	debug("publish: users and groups written, %.3f s CPU so far",
	    (double)clock() / CLOCKS_PER_SEC);
	/* Supplementary GIDs: the pairs bucketed by user (counting sort). */
	start = xcalloc(nusers + 1, sizeof(*start));
	for (i = 0; i < npairs; i++)
		start[pair_user[i] + 1]++;
	for (i = 0; i < nusers; i++)
		start[i + 1] += start[i];
	gids = xreallocarray(NULL, npairs ? npairs : 1, sizeof(*gids));
	{
		size_t *fill = xcalloc(nusers + 1, sizeof(*fill));

		for (i = 0; i < npairs; i++)
			gids[start[pair_user[i]] + fill[pair_user[i]]++] = pair_gid[i];
		free(fill);
	}
	for (i = 0; i < nusers; i++) {
		if (start[i + 1] == start[i] || users[i].skip)
			continue;
		if (snap_writer_add_user_gids(w, ustr.buf + users[i].name,
		    gids + start[i], start[i + 1] - start[i]) != 0)
			goto werror;
	}

	/* The users who left the host (tombstone.h). */
	r = tomb_for_each(db, c, (long long)time(NULL), add_tombstone, w, err,
	    errlen);
	if (r > 0)
		goto werror;
	if (r < 0) {
		rc = OK_ERR_CACHE;
		goto out;
	}

	memset(&meta, 0, sizeof(meta));
	meta.last_sync = (int64_t)last_sync;
	meta.generation = generation;
	meta.nusers = pub_users;
	meta.ngroups = pub_groups;
	r = snap_writer_commit(w, &meta, err, errlen);
	debug("publish: committed, %.3f s CPU so far",
	    (double)clock() / CLOCKS_PER_SEC);
	w = NULL;
	rc = r == 0 ? OK_SUCCESS : OK_ERR_PUBLISH;
	/* What status compares the file with (part of a publish: a failure
	 * here is logged, the snapshot is in place all the same). */
	if (rc == OK_SUCCESS && publish_record_identity(db, path, ident_err,
	    sizeof(ident_err)) != 0)
		warn("the snapshot is published, but %s; okta-sync status may "
		    "report it as replaced", ident_err);
	goto out;

werror:
	snprintf(err, errlen, "%s", snap_writer_error(w));
	rc = OK_ERR_PUBLISH;
	goto out;
sqlerr:
	snprintf(err, errlen, "reading the cache to publish: %s",
	    sqlite3_errmsg(db));
	rc = OK_ERR_CACHE;
out:
	snap_writer_abort(w);
	sqlite3_finalize(st);
	pack_free(&ustr);
	pack_free(&gstr);
	pack_free(&members);
	free(users);
	free(groups);
	free(pair_user);
	free(pair_gid);
	free(gids);
	free(start);
	free(path);
	return rc;
}
