/*
 * cmd_show.c - `okta-sync show user NAME|LOGIN|OKTA_ID [--json]` and
 * `okta-sync show group NAME|OKTA_NAME|OKTA_ID [--json]`: what Okta sent
 * (the raw fields the cache keeps), the Linux entry it became, whether the
 * published snapshot holds it (that is what NSS serves), and the reason
 * when the last sync rejected it.
 *
 * Read only, like status: cache.db is opened CACHE_READ_ONLY and the
 * snapshot is mapped; the token is never read.  Every raw Okta value is
 * untrusted: the human form prints text that is not clean UTF-8 without
 * control characters escaped (names_escape), and the JSON form escapes
 * invalid UTF-8 the same way.
 *
 * Lookup: a user by Linux name, Okta login (any case) or Okta id; a group
 * by Linux name, Okta group name (any case) or Okta id.  Rejected entries
 * are matched by Okta id or Okta login/name; for a user also by the part
 * of the login before '@' (so `show user root` finds "root@example.com").
 *
 * Exit status: 0 shown (accepted or rejected), 1 unknown name or the cache
 * cannot be read, 2 usage, 78 configuration problem.
 *
 * --json keys:
 *   kind ("user"|"group"), query,
 *   okta     user: {"id", "login", "email", "first_name", "last_name",
 *            "status", "last_updated"}; group: {"id", "name",
 *            "last_updated", "last_membership_updated"}; null when not in
 *            the cache (rejected only)
 *   linux    user: {"name", "uid", "gid", "gecos", "home", "shell",
 *            "passwd" (the line), "primary_group": {"name", "gid"},
 *            "groups": [{"name", "gid"}], "ssh_keys": {"count",
 *            "types": [...], "rejected": [reasons from the last sync]}};
 *            group: {"name", "gid",
 *            "members": [names], "group" (the line)}; null when rejected
 *   snapshot {"path", "readable": bool, "error", "published": bool,
 *            user: "passwd" (line or null), "gids": [...],
 *            "ssh_keys" (how many the 'k' record holds);
 *            group: "group" (line or null), "members": [...]}
 *   rejected [{"okta_id", "okta_name", "reason"}] from the last sync
 *   offline_credential  user: {"stored_at": epoch s} when an offline
 *            credential (issue 11) is stored for the user, else null
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cache.h"
#include "commands.h"
#include "config.h"
#include "error.h"
#include "names.h"
#include "offline.h"
#include "textout.h"
#include "paths.h"
#include "snapshot.h"
#include "sshkey.h"
#include "userkeys.h"
#include "xmalloc.h"

#define SNAPBUF_START 16384
#define SNAPBUF_MAX (64u << 20)   /* a group of a few hundred thousand members */

enum kind { KIND_USER, KIND_GROUP };

struct show {
	struct config *c;
	enum kind kind;
	const char *query;
	int json;
	sqlite3 *db;
	struct snap *snap;
	char snap_err[256];
	char *snap_path;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: okta-sync [-c FILE] show user NAME|LOGIN|OKTA_ID [--json]\n"
	    "       okta-sync [-c FILE] show group NAME|OKTA_NAME|OKTA_ID [--json]\n\n"
	    "Show what Okta sent for one user or group (the raw fields kept in\n"
	    "the cache), the Linux entry it became, whether the published\n"
	    "snapshot (what NSS serves) holds it, and why the last sync rejected\n"
	    "it if it did.  Rejected entries are found by their Okta login or\n"
	    "name, or their Okta id.  Reads only; must run as root (cache.db is\n"
	    "0600).  Exit status: 0 shown, 1 unknown or unreadable, 2 usage.\n");
}

/* ---- Output helpers ------------------------------------------------- */

#define KEY "  %-18s"

static void
line(const char *key, const char *value)
{
	char buf[2048];

	printf(KEY "%s\n", key, term_text(value, buf, sizeof(buf)));
}

static const char *
col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static void
print_json(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* ---- Rejects -------------------------------------------------------- */

/*
 * The last sync's rejections matching the query, as a JSON array (always),
 * printed in the human form as they are found.  *n: how many.  -1 on a
 * SQLite error.
 */
static int
rejects(struct show *sh, json_object **out, int *n)
{
	sqlite3_stmt *st = NULL;
	json_object *a = json_object_new_array(), *e;
	char b1[512], b2[1024], b3[1024];
	int rc;

	*n = 0;
	*out = a;
	if (sqlite3_prepare_v2(sh->db, "SELECT okta_id, okta_name, reason"
	    " FROM rejects WHERE kind = ?2 AND (okta_id = ?1"
	    " OR okta_name = ?1 COLLATE NOCASE"
	    " OR (?2 = 'user' AND lower(substr(okta_name, 1, length(?1) + 1))"
	    " = lower(?1) || '@'))"
	    " ORDER BY okta_name, okta_id", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, sh->query, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sh->kind == KIND_USER ? "user" : "group", -1,
	    SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		e = json_object_new_object();
		json_object_object_add(e, "okta_id", json_text(col(st, 0)));
		json_object_object_add(e, "okta_name", json_text(col(st, 1)));
		json_object_object_add(e, "reason", json_text(col(st, 2)));
		json_object_array_add(a, e);
		if (!sh->json) {
			if (*n == 0)
				printf("Rejected by the last sync (never stored, "
				    "never published):\n");
			printf("  Okta %s %s \"%s\": %s\n", sh->kind == KIND_USER ?
			    "user" : "group", term_text(col(st, 0), b1, sizeof(b1)),
			    term_text(col(st, 1), b2, sizeof(b2)),
			    term_text(col(st, 2), b3, sizeof(b3)));
		}
		(*n)++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- Snapshot lookups ------------------------------------------------ */

/* A lookup with a buffer that grows on ERANGE: 1, 0, -1 errno. */
static int
snap_lookup(struct show *sh, const char *name, struct snap_pw *pw,
    struct snap_gr *gr, char **buf)
{
	size_t len = SNAPBUF_START;
	int r;

	for (;;) {
		*buf = xreallocarray(*buf, 1, len);
		if (pw != NULL)
			r = snap_getpwnam(sh->snap, name, pw, *buf, len);
		else
			r = snap_getgrnam(sh->snap, name, gr, *buf, len);
		if (r >= 0 || errno != ERANGE || len >= SNAPBUF_MAX)
			return r;
		len *= 2;
	}
}

struct gids {
	uint32_t *v;
	size_t n;
};

static int
collect_gid(void *ctx, uint32_t gid)
{
	struct gids *g = ctx;

	g->v = xreallocarray(g->v, g->n + 1, sizeof(*g->v));
	g->v[g->n++] = gid;
	return 0;
}

static json_object *
snapshot_base(struct show *sh)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "path", json_text(sh->snap_path));
	json_object_object_add(o, "readable",
	    json_object_new_boolean(sh->snap != NULL));
	json_object_object_add(o, "error", sh->snap ? NULL : json_text(sh->snap_err));
	return o;
}

/* ---- What Okta sent ------------------------------------------------- */

/* A raw Okta field the cache keeps: its JSON key, its label in the human
 * form, and its column in the looked-up row. */
struct okta_field {
	const char *key;
	const char *label;
	int col;
};

/*
 * Look up the cached user or group the query names with sql (?1: the
 * query; column 0: the Okta id), and add what Okta sent, the id and
 * fields[] (ending with a NULL key), as "okta" to root, also printed in
 * the human form.  1 found, with the row in *stp for the caller to
 * finalize; 0 not cached ("okta" and "linux" null in root); -1 SQLite
 * error.
 */
static int
find_cached(struct show *sh, const char *sql, const struct okta_field *fields,
    json_object *root, sqlite3_stmt **stp)
{
	sqlite3_stmt *st = NULL;
	const struct okta_field *f;
	json_object *ok;
	int rc;

	*stp = NULL;
	if (sqlite3_prepare_v2(sh->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, sh->query, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		json_object_object_add(root, "okta", NULL);
		json_object_object_add(root, "linux", NULL);
		return rc == SQLITE_DONE ? 0 : -1;
	}
	ok = json_object_new_object();
	json_object_object_add(ok, "id", json_text(col(st, 0)));
	for (f = fields; f->key != NULL; f++)
		json_object_object_add(ok, f->key, json_text(col(st, f->col)));
	json_object_object_add(root, "okta", ok);
	if (!sh->json) {
		printf("Okta %s %s (what Okta sent)\n",
		    sh->kind == KIND_USER ? "user" : "group", col(st, 0));
		for (f = fields; f->key != NULL; f++)
			line(f->label, col(st, f->col));
	}
	*stp = st;
	return 1;
}

/* ---- Users ----------------------------------------------------------- */

static int
count_key(void *ctx, const char *line, size_t len)
{
	(*(size_t *)ctx)++;
	return 0;
}

/* How many SSH keys the snapshot's 'k' record of name holds, as
 * "ssh_keys" in o (null when the record is unreadable).  The count, or -1
 * with errno. */
static long
snapshot_keys(struct show *sh, const char *name, json_object *o)
{
	size_t n = 0;
	int r = snap_user_keys(sh->snap, name, count_key, &n);

	json_object_object_add(o, "ssh_keys", r < 0 ? NULL :
	    json_object_new_int64((int64_t)n));
	return r < 0 ? -1 : (long)n;
}

static int
show_user_snapshot(struct show *sh, const char *name, const char *cache_line,
    json_object *o)
{
	struct snap_pw pw;
	struct gids g = { NULL, 0 };
	char *buf = NULL, *pline = NULL;
	json_object *a;
	size_t i;
	long nkeys = 0;
	int r;

	if (sh->snap == NULL) {
		if (!sh->json)
			printf("Snapshot (what NSS serves): %s\n", sh->snap_err);
		json_object_object_add(o, "published", json_object_new_boolean(0));
		json_object_object_add(o, "passwd", NULL);
		json_object_object_add(o, "gids", json_object_new_array());
		return 0;
	}
	r = snap_lookup(sh, name, &pw, NULL, &buf);
	if (r < 0) {
		if (!sh->json)
			printf("Snapshot (what NSS serves): %s: lookup of %s "
			    "failed: %s\n", sh->snap_path, name, strerror(errno));
		json_object_object_add(o, "published", json_object_new_boolean(0));
		json_object_object_add(o, "passwd", NULL);
		json_object_object_add(o, "gids", json_object_new_array());
		free(buf);
		return 0;
	}
	if (r == 1) {
		pline = xasprintf("%s:*:%u:%u:%s:%s:%s", pw.name, pw.uid,
		    pw.gid, pw.gecos, pw.dir, pw.shell);
		snap_user_gids(sh->snap, name, collect_gid, &g);
		nkeys = snapshot_keys(sh, name, o);
	}
	json_object_object_add(o, "published", json_object_new_boolean(r == 1));
	json_object_object_add(o, "passwd", pline ? json_text(pline) : NULL);
	a = json_object_new_array();
	for (i = 0; i < g.n; i++)
		json_object_array_add(a, json_object_new_int64(g.v[i]));
	json_object_object_add(o, "gids", a);
	if (!sh->json) {
		printf("Snapshot (what NSS serves): %s\n", sh->snap_path);
		if (r == 0)
			printf(KEY "not published (with [sync] deprovisioned = "
			    "remove, DEPROVISIONED users are left out; otherwise "
			    "the next sync publishes it)\n", "passwd:");
		else if (cache_line != NULL && strcmp(pline, cache_line) == 0)
			printf(KEY "published, same as above (status %s)\n",
			    "passwd:", okta_status_name(pw.status));
		else {
			line("passwd:", pline);
			printf(KEY "differs from the cache: the next sync "
			    "publishes it again\n", "");
		}
		if (r == 1) {
			printf(KEY, "groups (gids):");
			for (i = 0; i < g.n; i++)
				printf("%s%u", i ? "," : "", g.v[i]);
			printf("%s\n", g.n ? "" : "none");
			if (nkeys < 0)
				printf(KEY "the snapshot's key record is "
				    "corrupt\n", "ssh keys:");
			else
				printf(KEY "%ld published\n", "ssh keys:", nkeys);
		}
	}
	free(g.v);
	free(pline);
	free(buf);
	return 0;
}

/* The user's Okta groups, as "id"'s groups= list and a JSON array. */
static int
user_groups(struct show *sh, const char *okta_id, const char *name,
    long long uid, long long gid, const char *primary_name, json_object *lx)
{
	sqlite3_stmt *st = NULL;
	json_object *a = json_object_new_array(), *e;
	char *idline, *tmp;
	int rc;

	idline = xasprintf("uid=%lld(%s) gid=%lld(%s) groups=%lld(%s)", uid,
	    name, gid, primary_name, gid, primary_name);
	if (sqlite3_prepare_v2(sh->db, "SELECT g.name, g.gid FROM memberships m"
	    " JOIN groups g ON g.okta_id = m.group_id WHERE m.user_id = ?"
	    " ORDER BY g.name", -1, &st, NULL) != SQLITE_OK) {
		json_object_put(a);
		free(idline);
		return -1;
	}
	sqlite3_bind_text(st, 1, okta_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		e = json_object_new_object();
		json_object_object_add(e, "name", json_text(col(st, 0)));
		json_object_object_add(e, "gid",
		    json_object_new_int64(sqlite3_column_int64(st, 1)));
		json_object_array_add(a, e);
		tmp = xasprintf("%s,%lld(%s)", idline,
		    (long long)sqlite3_column_int64(st, 1), col(st, 0));
		free(idline);
		idline = tmp;
	}
	sqlite3_finalize(st);
	json_object_object_add(lx, "groups", a);
	if (!sh->json)
		line("id:", idline);
	free(idline);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * The user's SSH keys in the cache (their count and types, never the
 * lines: `okta-sync-keys` prints those) and the keys the last sync refused
 * (rejects of kind 'key').  0, or -1 on a SQLite error.
 */
static int
user_keys(struct show *sh, const char *okta_id, const char *stored,
    json_object *lx)
{
	sqlite3_stmt *st = NULL;
	json_object *k = json_object_new_object(), *types, *rej;
	char desc[1024], type[64], buf[1024];
	const char *pos = stored, *p;
	size_t len;
	int rc;

	types = json_object_new_array();
	while (userkeys_next(&pos, &p, &len)) {
		snprintf(buf, sizeof(buf), "%.*s", (int)len, p);
		json_object_array_add(types, json_text(sshkey_type(buf, type,
		    sizeof(type))));
	}
	json_object_object_add(k, "count",
	    json_object_new_int64((int64_t)userkeys_count(stored)));
	json_object_object_add(k, "types", types);
	json_object_object_add(lx, "ssh_keys", k);
	if (!sh->json)
		line("ssh keys:", userkeys_describe(stored, desc, sizeof(desc)));
	rej = json_object_new_array();
	json_object_object_add(k, "rejected", rej);
	if (sqlite3_prepare_v2(sh->db, "SELECT reason FROM rejects WHERE"
	    " kind = 'key' AND okta_id = ? ORDER BY rowid", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, okta_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_object_array_add(rej, json_text(col(st, 0)));
		if (!sh->json)
			line("ssh key refused:", col(st, 0));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The primary group's name: the user's own (user-private), else the Okta
 * group or snapshot group with that GID, else "". */
static char *
primary_group_name(struct show *sh, const char *name, long long gid)
{
	sqlite3_stmt *st;
	struct snap_gr gr;
	char *buf = NULL, *out = NULL;
	size_t len = SNAPBUF_START;

	if (sh->c->primary_group == PRIMARY_GROUP_USER_PRIVATE)
		return xstrdup(name);
	if (sqlite3_prepare_v2(sh->db, "SELECT name FROM groups WHERE gid = ?",
	    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, gid);
		if (sqlite3_step(st) == SQLITE_ROW && col(st, 0) != NULL)
			out = xstrdup(col(st, 0));
		sqlite3_finalize(st);
	}
	while (out == NULL && sh->snap != NULL && len <= SNAPBUF_MAX) {
		buf = xreallocarray(buf, 1, len);
		if (snap_getgrgid(sh->snap, (uint32_t)gid, &gr, buf, len) == 1)
			out = xstrdup(gr.name);
		else if (errno != ERANGE)
			break;
		len *= 2;
	}
	free(buf);
	return out ? out : xstrdup("");
}

/*
 * Whether an offline credential (offline.h) is stored for the user:
 * "offline_credential" in root ({"stored_at": epoch s} or null), and a
 * line.  0, or -1 on a SQLite error.
 */
static int
user_offline(struct show *sh, const char *okta_id, json_object *root)
{
	long long at = 0;
	time_t tt;
	struct tm tm;
	char when[64] = "?";
	json_object *o = NULL;
	int r = offline_stored_at(sh->db, okta_id, &at);

	if (r < 0)
		return -1;
	if (r == 1) {
		tt = (time_t)at;
		if (gmtime_r(&tt, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC",
		    &tm) == 0)
			snprintf(when, sizeof(when), "%lld", at);
		o = json_object_new_object();
		json_object_object_add(o, "stored_at", json_object_new_int64(at));
	}
	json_object_object_add(root, "offline_credential", o);
	if (!sh->json) {
		char *v = r == 1 ? xasprintf("stored %s", when) : xstrdup("none");

		/* Wider than KEY's column: its own line format. */
		printf("  offline credential: %s\n", v);
		free(v);
	}
	return 0;
}

static const struct okta_field user_okta_fields[] = {
	{ "login", "login:", 8 }, { "email", "email:", 9 },
	{ "first_name", "first name:", 10 }, { "last_name", "last name:", 11 },
	{ "status", "status:", 7 }, { "last_updated", "last updated:", 12 },
	{ NULL, NULL, 0 }
};

/* 1 shown, 0 not in the users table, -1 SQLite error. */
static int
show_user_cached(struct show *sh, json_object *root)
{
	sqlite3_stmt *st = NULL;
	json_object *ok, *lx, *sn;
	char *pline = NULL, *pgname = NULL;
	const char *name;
	long long uid, gid;
	int rc;

	rc = find_cached(sh, "SELECT okta_id, name, uid, gid, gecos,"
	    " home, shell, status, login, email, first_name, last_name,"
	    " last_updated, ssh_keys FROM users WHERE name = ?1 OR okta_id = ?1"
	    " OR login = ?1 COLLATE NOCASE"
	    " ORDER BY name = ?1 DESC, okta_id = ?1 DESC LIMIT 1",
	    user_okta_fields, root, &st);
	if (rc != 1)
		return rc;
	name = col(st, 1);
	uid = sqlite3_column_int64(st, 2);
	gid = sqlite3_column_int64(st, 3);

	pline = xasprintf("%s:*:%lld:%lld:%s:%s:%s", name, uid, gid,
	    col(st, 4), col(st, 5), col(st, 6));
	pgname = primary_group_name(sh, name, gid);
	lx = json_object_new_object();
	json_object_object_add(lx, "name", json_text(name));
	json_object_object_add(lx, "uid", json_object_new_int64(uid));
	json_object_object_add(lx, "gid", json_object_new_int64(gid));
	json_object_object_add(lx, "gecos", json_text(col(st, 4)));
	json_object_object_add(lx, "home", json_text(col(st, 5)));
	json_object_object_add(lx, "shell", json_text(col(st, 6)));
	json_object_object_add(lx, "passwd", json_text(pline));
	ok = json_object_new_object();
	json_object_object_add(ok, "name", json_text(pgname));
	json_object_object_add(ok, "gid", json_object_new_int64(gid));
	json_object_object_add(lx, "primary_group", ok);
	json_object_object_add(root, "linux", lx);
	if (!sh->json) {
		printf("Linux user %s (what it became, in the cache)\n", name);
		line("passwd:", pline);
	}
	rc = user_groups(sh, col(st, 0), name, uid, gid, pgname, lx);
	if (rc == 0)
		rc = user_keys(sh, col(st, 0), col(st, 13), lx);
	if (rc == 0)
		rc = user_offline(sh, col(st, 0), root);
	if (rc == 0) {
		sn = snapshot_base(sh);
		show_user_snapshot(sh, name, pline, sn);
		json_object_object_add(root, "snapshot", sn);
	}
	free(pgname);
	free(pline);
	sqlite3_finalize(st);
	return rc == 0 ? 1 : -1;
}

/* ---- Groups ---------------------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
show_group_snapshot(struct show *sh, const char *name, const char *cache_line,
    json_object *o)
{
	struct snap_gr gr;
	char *buf = NULL, *gline = NULL, *sorted = NULL, *tmp;
	const char **v;
	json_object *a = json_object_new_array();
	size_t i, n;
	int r = 0;

	if (sh->snap != NULL)
		r = snap_lookup(sh, name, NULL, &gr, &buf);
	if (r == 1) {
		gline = xasprintf("%s:*:%u:", gr.name, gr.gid);
		sorted = xasprintf("%s:*:%u:", gr.name, gr.gid);
		for (n = 0; gr.members[n] != NULL; n++)
			;
		/* The snapshot keeps its own member order; the cache's line
		 * is sorted by name, so compare sorted. */
		v = xreallocarray(NULL, n + 1, sizeof(*v));
		for (i = 0; i < n; i++) {
			tmp = xasprintf("%s%s%s", gline, i ? "," : "",
			    gr.members[i]);
			free(gline);
			gline = tmp;
			json_object_array_add(a, json_text(gr.members[i]));
			v[i] = gr.members[i];
		}
		qsort(v, n, sizeof(*v), cmp_str);
		for (i = 0; i < n; i++) {
			tmp = xasprintf("%s%s%s", sorted, i ? "," : "", v[i]);
			free(sorted);
			sorted = tmp;
		}
		free(v);
	}
	json_object_object_add(o, "published", json_object_new_boolean(r == 1));
	json_object_object_add(o, "group", gline ? json_text(gline) : NULL);
	json_object_object_add(o, "members", a);
	if (!sh->json) {
		if (sh->snap == NULL)
			printf("Snapshot (what NSS serves): %s\n", sh->snap_err);
		else if (r < 0)
			printf("Snapshot (what NSS serves): %s: lookup of %s "
			    "failed: %s\n", sh->snap_path, name, strerror(errno));
		else {
			printf("Snapshot (what NSS serves): %s\n", sh->snap_path);
			if (r == 0)
				printf(KEY "not published (the next sync "
				    "publishes it)\n", "group:");
			else if (cache_line != NULL &&
			    strcmp(sorted, cache_line) == 0)
				printf(KEY "published, same as above\n", "group:");
			else {
				line("group:", gline);
				printf(KEY "differs from the cache (members "
				    "that are not published are left out)\n", "");
			}
		}
	}
	free(sorted);
	free(gline);
	free(buf);
}

static const struct okta_field group_okta_fields[] = {
	{ "name", "name:", 3 }, { "last_updated", "last updated:", 4 },
	{ "last_membership_updated", "members updated:", 5 },
	{ NULL, NULL, 0 }
};

/* 1 shown, 0 not in the groups table, -1 SQLite error. */
static int
show_group_cached(struct show *sh, json_object *root)
{
	sqlite3_stmt *st = NULL, *sm = NULL;
	json_object *lx, *a, *sn;
	char *gline = NULL, *tmp;
	const char *name;
	long long gid;
	int rc, n = 0;

	rc = find_cached(sh, "SELECT okta_id, name, gid, okta_name,"
	    " last_updated, last_membership_updated FROM groups"
	    " WHERE name = ?1 OR okta_id = ?1 OR okta_name = ?1 COLLATE NOCASE"
	    " ORDER BY name = ?1 DESC, okta_id = ?1 DESC LIMIT 1",
	    group_okta_fields, root, &st);
	if (rc != 1)
		return rc;
	name = col(st, 1);
	gid = sqlite3_column_int64(st, 2);

	rc = -1;
	if (sqlite3_prepare_v2(sh->db, "SELECT u.name FROM memberships m"
	    " JOIN users u ON u.okta_id = m.user_id WHERE m.group_id = ?"
	    " ORDER BY u.name", -1, &sm, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(sm, 1, col(st, 0), -1, SQLITE_STATIC);
	gline = xasprintf("%s:*:%lld:", name, gid);
	a = json_object_new_array();
	while ((rc = sqlite3_step(sm)) == SQLITE_ROW) {
		tmp = xasprintf("%s%s%s", gline, n++ ? "," : "", col(sm, 0));
		free(gline);
		gline = tmp;
		json_object_array_add(a, json_text(col(sm, 0)));
	}
	lx = json_object_new_object();
	json_object_object_add(lx, "name", json_text(name));
	json_object_object_add(lx, "gid", json_object_new_int64(gid));
	json_object_object_add(lx, "members", a);
	json_object_object_add(lx, "group", json_text(gline));
	json_object_object_add(root, "linux", lx);
	if (rc != SQLITE_DONE) {
		rc = -1;
		goto out;
	}
	if (!sh->json) {
		printf("Linux group %s (what it became, in the cache)\n", name);
		line("group:", gline);
		printf(KEY "%d\n", "members:", n);
	}
	sn = snapshot_base(sh);
	show_group_snapshot(sh, name, gline, sn);
	json_object_object_add(root, "snapshot", sn);
	rc = 1;
out:
	free(gline);
	sqlite3_finalize(sm);
	sqlite3_finalize(st);
	return rc;
}

/* Is query the Linux name of a cached user?  (For `show group jane`: the
 * user-private group is not an Okta group.) */
static int
is_user_name(struct show *sh)
{
	sqlite3_stmt *st;
	int r = 0;

	if (sqlite3_prepare_v2(sh->db, "SELECT 1 FROM users WHERE name = ?",
	    -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, sh->query, -1, SQLITE_STATIC);
	r = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return r;
}

/* ---- The command ----------------------------------------------------- */

static int
open_cache(struct show *sh)
{
	char err[512], *path = cache_db_path(sh->c->cache_dir);
	struct stat sb;
	int rc = -1;

	if (stat(path, &sb) != 0 && errno == ENOENT) {
		fprintf(stderr, "okta-sync: show: no sync has run yet (%s does "
		    "not exist): nothing to show\n", path);
		goto out;
	}
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "okta-sync: show: cannot read %s: %s%s\n", path,
		    strerror(errno), errno == EACCES ? " (it is readable by "
		    "root only; run okta-sync show as root)" : "");
		goto out;
	}
	if (cache_open(sh->c->cache_dir, CACHE_READ_ONLY, &sh->db, err,
	    sizeof(err)) != OK_SUCCESS) {
		fprintf(stderr, "okta-sync: show: %s\n", err);
		goto out;
	}
	rc = 0;
out:
	free(path);
	return rc;
}

static int
run_show(struct show *sh)
{
	json_object *root, *rej = NULL;
	char esc[512];
	int found, nrej = 0;

	sh->snap_path = xasprintf("%s/%s", sh->c->cache_dir, OKTA_SNAPSHOT_NAME);
	if (snap_open(sh->snap_path, &sh->snap) != 0) {
		sh->snap = NULL;
		snprintf(sh->snap_err, sizeof(sh->snap_err), "%s: %s",
		    sh->snap_path, errno == ENOENT ? "no snapshot yet" :
		    errno == EPROTO ? "corrupt or of an unknown format" :
		    strerror(errno));
	}
	if (open_cache(sh) != 0)
		return 1;

	root = json_object_new_object();
	json_object_object_add(root, "kind", json_object_new_string(
	    sh->kind == KIND_USER ? "user" : "group"));
	json_object_object_add(root, "query", json_text(sh->query));
	found = sh->kind == KIND_USER ? show_user_cached(sh, root) :
	    show_group_cached(sh, root);
	if (found >= 0) {
		if (found == 1 && !sh->json)
			fflush(stdout);
		if (rejects(sh, &rej, &nrej) != 0)
			found = -1;
		json_object_object_add(root, "rejected", rej);
	}
	if (found < 0) {
		fprintf(stderr, "okta-sync: show: reading %s/%s failed: %s\n",
		    sh->c->cache_dir, OKTA_CACHE_DB_NAME, sqlite3_errmsg(sh->db));
		json_object_put(root);
		return 1;
	}
	if (found == 0 && nrej == 0) {
		if (sh->kind == KIND_GROUP && is_user_name(sh))
			fprintf(stderr, "okta-sync: show: \"%s\" is not an Okta "
			    "group: it is the private group of the Okta user of "
			    "that name (see 'okta-sync show user %s')\n",
			    term_text(sh->query, esc, sizeof(esc)),
			    term_text(sh->query, esc, sizeof(esc)));
		else
			fprintf(stderr, "okta-sync: show: no Okta %s named %s "
			    "in the cache (rejected entries are listed by their "
			    "Okta login)\n", "user or group",
			    term_text(sh->query, esc, sizeof(esc)));
		json_object_put(root);
		return 1;
	}
	if (found == 0 && !sh->json)
		printf("  It has no Linux entry and is not in the snapshot.\n");
	if (found == 0) {
		json_object *sn = snapshot_base(sh);

		json_object_object_add(sn, "published", json_object_new_boolean(0));
		json_object_object_add(root, "snapshot", sn);
	}
	if (sh->json)
		print_json(root);
	json_object_put(root);
	return 0;
}

int
cmd_show(int argc, char **argv, const char *config_path)
{
	struct config_problems problems = { NULL, 0 };
	struct show sh;
	const char *path = config_path ? config_path : OKTA_CONFIG_PATH;
	const char *what = NULL;
	int i, rc;

	memset(&sh, 0, sizeof(sh));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			sh.json = 1;
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (what == NULL)
			what = argv[i];
		else if (sh.query == NULL)
			sh.query = argv[i];
		else {
			fprintf(stderr, "okta-sync: show: unexpected argument "
			    "%s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (what == NULL || sh.query == NULL || (strcmp(what, "user") != 0 &&
	    strcmp(what, "group") != 0)) {
		usage(stderr);
		return 2;
	}
	sh.kind = strcmp(what, "user") == 0 ? KIND_USER : KIND_GROUP;
	sh.c = config_load(path, 0, &problems);
	if (sh.c == NULL) {
		config_print_problems(stderr, path, &problems);
		fprintf(stderr, "okta-sync: show: the configuration has "
		    "problems; run 'okta-sync check-config'\n");
		config_problems_free(&problems);
		return err_exit_code(OK_ERR_CONFIG);
	}
	config_problems_free(&problems);
	rc = run_show(&sh);
	cache_close(sh.db);
	snap_close(sh.snap);
	free(sh.snap_path);
	config_free(sh.c);
	return rc;
}
