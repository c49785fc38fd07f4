/*
 * snapshot_writer.c - writes a new snapshot (see snapshot.h and the layout
 * in snapshot_format.h) and publishes it atomically.
 *
 * The records go through tinycdb's cdb_make into a temporary file next to
 * the final path (snap_install_tmp); commit writes the meta record,
 * finishes the cdb and installs the file as `okta-sync restore` does
 * (snap_install: mode 0644, fsync, rename over the old snapshot, fsync the
 * directory), so that a reader sees either the whole old file or the whole
 * new one, also after a crash.
 *
 * The writer refuses what the reader would refuse (empty names, ':', '\n',
 * NUL, ',' in names, UID/GID 0, fields over 65535 bytes) and, at commit,
 * duplicate user names, UIDs, group names and GIDs, so that a lookup is
 * never ambiguous, and SSH keys given twice for a user or for a name that
 * is not a user (the key lines themselves: snapshot_keys.c).  Only syncd
 * writes, but this file lives in common/ next to the reader it must agree
 * with; it uses libc (with libresolv's b64_pton, through sshkey.c) and
 * tinycdb only.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cdb.h>

#include "name_index.h"
#include "snapshot.h"
#include "snapshot_format.h"
#include "snapshot_index.h"
#include "snapshot_install.h"

struct name_list {
	char **v;
	size_t n, cap;
};

struct id_list {
	uint32_t *v;
	size_t n, cap;
};

/* A growing byte arena. */
struct arena {
	unsigned char *p;
	size_t len, cap;
};

struct snap_writer {
	int fd;                   /* the temporary file, -1 once closed */
	int stage;                /* what cdb_make writes: a memfd copied
	                             into fd at commit, or -1 (fd itself) */
	int broken;               /* an I/O error: commit must fail */
	struct cdb_make cm;
	char path[PATH_MAX];
	char tmp[PATH_MAX];
	char err[512];
	unsigned char *buf;       /* record encoding buffer */
	size_t bufcap;
	struct name_list users, groups;
	/* Format 3: a user's supplementary GIDs live in its 'p' record, and
	 * they may be given after the user, so the users wait here (their
	 * values without the GIDs, back to back, in the order added) and
	 * are written at commit with their GIDs. */
	struct arena pend;
	/* snap_writer_add_user_gids, packed as tightly (a 100k-user sync's
	 * peak RSS counts): each list is the user's name, its NUL, u32 n and
	 * n u32 GIDs (sorted, unique), at the offsets in goff. */
	struct arena glists;
	struct id_list goff;
	struct name_list tombs;   /* tombstone names (snap_writer_add_tombstone) */
	struct name_list key_users;   /* snap_writer_add_user_keys */
	struct id_list uids, gids;
	/* The data-section span of the 'p' and of the 'g' records. */
	uint32_t pw_first, pw_end, gr_first, gr_end;
	/* Format 4: every 'p' and 'g' record's offset, for the 'X' index
	 * written at commit. */
	struct snap_idx_builder idx;
	uint32_t idx_at;          /* the 'X' record's offset, for the meta */
	/* The encoded 'P' record (snap_writer_set_policy; the defaults until
	 * then), written at commit. */
	unsigned char policy[SNAP_POLICY_REC_MAX];
	size_t policy_len;
};

static void
werr(struct snap_writer *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
werr(struct snap_writer *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
}

static int
name_push(struct name_list *l, const char *s)
{
	char *c, **nv;
	size_t ncap;

	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 256;
		if (ncap > SIZE_MAX / sizeof(*nv))
			return -1;
		nv = realloc(l->v, ncap * sizeof(*nv));
		if (nv == NULL)
			return -1;
		l->v = nv;
		l->cap = ncap;
	}
	if ((c = strdup(s)) == NULL)
		return -1;
	l->v[l->n++] = c;
	return 0;
}

static void
name_free(struct name_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static int
id_push(struct id_list *l, uint32_t id)
{
	uint32_t *nv;
	size_t ncap;

	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 256;
		if (ncap > SIZE_MAX / sizeof(*nv))
			return -1;
		nv = realloc(l->v, ncap * sizeof(*nv));
		if (nv == NULL)
			return -1;
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n++] = id;
	return 0;
}

/* Room for n more bytes at the end of a: a pointer to them, or NULL
 * (ENOMEM).  The bytes count as used. */
static unsigned char *
arena_take(struct arena *a, size_t n)
{
	unsigned char *np;
	size_t ncap;

	if (a->cap - a->len < n) {
		ncap = a->cap ? a->cap : 65536;
		while (ncap - a->len < n && ncap < SIZE_MAX / 2)
			ncap *= 2;
		if (ncap - a->len < n || (np = realloc(a->p, ncap)) == NULL)
			return NULL;
		a->p = np;
		a->cap = ncap;
	}
	a->len += n;
	return a->p + a->len - n;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static const char *
name_list_at(const void *ctx, size_t i)
{
	return ((const struct name_list *)ctx)->v[i];
}

/* The first duplicate in l in *dup, or NULL.  0, or -1 (ENOMEM).  The
 * names are logins from Okta: indexed under the file's random seed. */
static int
name_dup(const struct snap_writer *w, const struct name_list *l,
    const char **dup)
{
	struct name_index x;

	if (name_index_build(&x, w->idx.seed, l->n, name_list_at, l, dup) != 0)
		return -1;
	name_index_free(&x);
	return 0;
}

/* 1 and the duplicate in *dup when l holds one (sorting it), else 0. */
static int
id_dup(struct id_list *l, uint32_t *dup)
{
	size_t i;

	if (l->n < 2)
		return 0;
	qsort(l->v, l->n, sizeof(*l->v), cmp_u32);
	for (i = 1; i < l->n; i++)
		if (l->v[i - 1] == l->v[i]) {
			*dup = l->v[i];
			return 1;
		}
	return 0;
}

/* Make room for n bytes in w->buf.  Returns 0, or -1 (ENOMEM). */
static int
buf_reserve(struct snap_writer *w, size_t n)
{
	unsigned char *nb;

	if (n <= w->bufcap)
		return 0;
	if ((nb = realloc(w->buf, n)) == NULL) {
		werr(w, "out of memory writing the snapshot");
		return -1;
	}
	w->buf = nb;
	w->bufcap = n;
	return 0;
}

static unsigned char *
put_str(unsigned char *p, const char *s, size_t len)
{
	snap_put16(p, (uint16_t)len);
	memcpy(p + 2, s, len);
	return p + 2 + len;
}

/* Add one cdb record; on error mark the writer broken. */
static int
add_rec(struct snap_writer *w, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	if (klen > UINT_MAX / 4 || vlen > UINT_MAX / 4) {
		werr(w, "snapshot record too large");
		return -1;
	}
	if (cdb_make_add(&w->cm, key, (unsigned)klen, val, (unsigned)vlen) != 0) {
		werr(w, "writing the snapshot %s: %s", w->tmp, strerror(errno));
		w->broken = 1;
		return -1;
	}
	return 0;
}

/* Check a string field for the writer; fills *len.  0 ok, -1 refused. */
static int
check_field(struct snap_writer *w, const char *what, const char *s, int name,
    size_t *len)
{
	if (s == NULL) {
		werr(w, "%s is missing", what);
		return -1;
	}
	*len = strlen(s);
	if (*len > SNAP_STR_MAX) {
		werr(w, "%s is longer than %u bytes", what, SNAP_STR_MAX);
		return -1;
	}
	if (!snap_field_ok(s, *len, name)) {
		werr(w, "%s \"%.64s\" is empty or holds ':', ',' or a newline",
		    what, s);
		return -1;
	}
	return 0;
}

struct snap_writer *
snap_writer_open(const char *path, char *err, size_t errlen)
{
	struct snap_writer *w = NULL;
	struct snap_policy defaults;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->fd = w->stage = -1;
	if (strlen(path) >= sizeof(w->path)) {
		snprintf(err, errlen, "bad snapshot path \"%s\"", path);
		goto fail;
	}
	strcpy(w->path, path);
	if (snap_idx_random_seed(&w->idx.seed) != 0) {
		snprintf(err, errlen, "cannot get random bytes for the "
		    "snapshot's index: %s", strerror(errno));
		goto fail;
	}
	/* A v2 file always has its one 'P' record: the defaults unless the
	 * caller sets a policy.  (The defaults always encode.) */
	snap_policy_defaults(&defaults);
	if (snap_policy_encode(&defaults, w->policy, &w->policy_len, err,
	    errlen) != 0)
		goto fail;
	if ((w->fd = snap_install_tmp(path, w->tmp, sizeof(w->tmp), err,
	    errlen)) < 0)
		goto fail;
	/* tinycdb writes 4 KB at a time: to memory first (snap_install.h). */
	w->stage = snap_install_stage();
	if (cdb_make_start(&w->cm, w->stage >= 0 ? w->stage : w->fd) != 0) {
		snprintf(err, errlen, "cannot start the snapshot %s: %s",
		    w->tmp, strerror(errno));
		unlink(w->tmp);
		goto fail;
	}
	return w;
fail:
	if (w->fd >= 0)
		close(w->fd);
	if (w->stage >= 0)
		close(w->stage);
	free(w);
	return NULL;
}

/*
 * Store one encoded passwd or group entry (the value: vlen bytes at
 * w->buf) under its name key, and its file offset in the index (format
 * 4: one copy, found by name and by ID through the 'X' record), remember
 * the name and ID for the duplicate check at commit (names: NULL when
 * done already), and widen the span [*first, *end) of the data section
 * that enumeration walks and that index offsets must point into.
 * namekey: room for 1 + nl bytes after the value.  0, or -1 with the
 * writer's error set.
 */
static int
add_entry(struct snap_writer *w, unsigned char *namekey, unsigned char name_type,
    const char *name, size_t nl, uint32_t id, size_t vlen,
    struct name_list *names, struct id_list *ids, uint32_t *first,
    uint32_t *end)
{
	uint32_t pos;
	int r;

	namekey[0] = name_type;
	memcpy(namekey + 1, name, nl);
	if (names != NULL &&
	    (name_push(names, name) != 0 || id_push(ids, id) != 0)) {
		werr(w, "out of memory writing the snapshot");
		return -1;
	}
	pos = w->cm.cdb_dpos;
	if (add_rec(w, namekey, 1 + nl, w->buf, vlen) != 0)
		return -1;
	if (*first == 0)
		*first = pos;
	*end = w->cm.cdb_dpos;
	r = name_type == SNAP_KEY_PWNAM ?
	    snap_idx_add_user(&w->idx, name, nl, id, pos) :
	    snap_idx_add_group(&w->idx, name, nl, id, pos);
	if (r != 0) {
		werr(w, "out of memory writing the snapshot");
		return -1;
	}
	return 0;
}

/* Append s and its NUL at p; returns the byte after it. */
static unsigned char *
put_field(unsigned char *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	p[len] = '\0';
	return p + len + 1;
}

int
snap_writer_add_user(struct snap_writer *w, const struct snap_user *u)
{
	size_t nl, gl, dl, sl, vlen;
	unsigned char *p;

	if (check_field(w, "user name", u->name, 1, &nl) != 0 ||
	    check_field(w, "GECOS", u->gecos, 0, &gl) != 0 ||
	    check_field(w, "home directory", u->dir, 0, &dl) != 0 ||
	    check_field(w, "shell", u->shell, 0, &sl) != 0)
		return -1;
	if (u->uid == 0 || u->gid == 0 || u->uid == UINT32_MAX ||
	    u->gid == UINT32_MAX) {
		werr(w, "user %s: UID or GID 0 or -1 is never written", u->name);
		return -1;
	}
	if ((unsigned)u->status > OKTA_STATUS_MAX) {
		werr(w, "user %s: unknown status %d", u->name, (int)u->status);
		return -1;
	}
	vlen = SNAP_PW_FIXED + 4 + nl + gl + dl + sl;
	if (name_push(&w->users, u->name) != 0 ||
	    id_push(&w->uids, u->uid) != 0 ||
	    (p = arena_take(&w->pend, vlen)) == NULL) {
		werr(w, "out of memory writing the snapshot");
		return -1;
	}
	/* The name (the record's key), then the value as stored but for its
	 * GIDs (ngids 0 until commit); need counts the name, which the
	 * reader copies from the key. */
	p = put_field(p, u->name, nl);
	snap_put32(p, u->uid);
	snap_put32(p + 4, u->gid);
	p[8] = (unsigned char)u->status;
	p[9] = p[10] = p[11] = 0;
	snap_put32(p + 12, (uint32_t)(vlen - SNAP_PW_FIXED));
	snap_put32(p + 16, 0);
	p += SNAP_PW_FIXED;
	p = put_field(p, u->gecos, gl);
	p = put_field(p, u->dir, dl);
	p = put_field(p, u->shell, sl);
	return 0;
}

int
snap_writer_add_group(struct snap_writer *w, const struct snap_group *g)
{
	size_t nl, ml, i, vlen;
	unsigned char *p;

	if (check_field(w, "group name", g->name, 1, &nl) != 0)
		return -1;
	if (g->gid == 0 || g->gid == UINT32_MAX) {
		werr(w, "group %s: GID 0 or -1 is never written", g->name);
		return -1;
	}
	if (g->nmembers > UINT32_MAX || (g->nmembers && g->members == NULL)) {
		werr(w, "group %s: bad member list", g->name);
		return -1;
	}
	vlen = SNAP_GR_FIXED + 1 + nl;
	for (i = 0; i < g->nmembers; i++) {
		if (check_field(w, "member name", g->members[i], 1, &ml) != 0)
			return -1;
		if (vlen > UINT_MAX / 4) {
			werr(w, "group %s: too many members", g->name);
			return -1;
		}
		vlen += 1 + ml;
	}
	if (buf_reserve(w, vlen + 1 + nl) != 0)
		return -1;
	p = w->buf;
	snap_put32(p, g->gid);
	snap_put32(p + 4, (uint32_t)g->nmembers);
	snap_put32(p + 8, (uint32_t)(vlen - SNAP_GR_FIXED));
	p = put_field(p + SNAP_GR_FIXED, g->name, nl);
	for (i = 0; i < g->nmembers; i++)
		p = put_field(p, g->members[i], strlen(g->members[i]));
	return add_entry(w, p, SNAP_KEY_GRNAM, g->name, nl, g->gid, vlen,
	    &w->groups, &w->gids, &w->gr_first, &w->gr_end);
}

int
snap_writer_add_user_gids(struct snap_writer *w, const char *user,
    const uint32_t *gids, size_t ngids)
{
	unsigned char *e, *g;
	size_t nl, i, n = 0, start;

	if (check_field(w, "user name", user, 1, &nl) != 0)
		return -1;
	if (ngids > UINT_MAX / 16) {
		werr(w, "user %s: too many groups", user);
		return -1;
	}
	for (i = 0; i < ngids; i++)
		if (gids[i] == 0 || gids[i] == UINT32_MAX) {
			werr(w, "user %s: GID 0 or -1 is never written", user);
			return -1;
		}
	start = w->glists.len;
	if (start > UINT32_MAX - nl - 5 - 4 * ngids || id_push(&w->goff,
	    (uint32_t)start) != 0 ||
	    (e = arena_take(&w->glists, nl + 5 + 4 * ngids)) == NULL) {
		werr(w, "out of memory writing the snapshot");
		return -1;
	}
	memcpy(e, user, nl + 1);
	g = e + nl + 5;
	for (i = 0; i < ngids; i++)
		snap_put32(g + 4 * i, gids[i]);
	/* Sorted and unique, so that the reader's walk is cheap and glibc
	 * never sees a GID twice (sorting the stored little-endian words as
	 * numbers: snap_get32 of each). */
	if (ngids > 1) {
		uint32_t *v = malloc(ngids * sizeof(*v));

		if (v == NULL) {
			werr(w, "out of memory writing the snapshot");
			return -1;
		}
		memcpy(v, gids, ngids * sizeof(*v));
		qsort(v, ngids, sizeof(*v), cmp_u32);
		for (i = 0; i < ngids; i++)
			if (n == 0 || v[n - 1] != v[i])
				v[n++] = v[i];
		for (i = 0; i < n; i++)
			snap_put32(g + 4 * i, v[i]);
		free(v);
		/* The duplicates' room stays unused at the tail. */
	} else {
		n = ngids;
	}
	snap_put32(e + nl + 1, (uint32_t)n);
	return 0;
}

/* The GID list i's user name (its head). */
static const char *
gid_list_at(const void *ctx, size_t i)
{
	const struct snap_writer *w = ctx;

	return (const char *)w->glists.p + w->goff.v[i];
}

/*
 * The GID lists indexed by their user's name (free x->slot), after
 * refusing a name given twice.  0, or -1 with the writer's error when out
 * of memory or given twice.
 */
static int
index_gid_lists(struct snap_writer *w, struct name_index *x)
{
	const char *dup;

	if (name_index_build(x, w->idx.seed, w->goff.n, gid_list_at, w,
	    &dup) != 0) {
		werr(w, "out of memory writing the snapshot");
		return -1;
	}
	if (dup != NULL) {
		werr(w, "the groups of user %s were given twice", dup);
		name_index_free(x);
		return -1;
	}
	return 0;
}

/*
 * Write the users held since snap_writer_add_user, in the order added,
 * each 'p' record with its supplementary GIDs (none when none were given;
 * GIDs given for a name that is not a user are not stored: initgroups
 * answers only for users), each in the index.  At commit, after
 * check_unique.  0, or -1 with the writer's error.
 */
static int
write_users(struct snap_writer *w)
{
	struct name_index lists;
	const char *name;
	const unsigned char *gl;
	size_t off, vlen, need, nl, len, rest, ng, k;
	unsigned char *p;
	uint32_t uid;
	int rc = -1;

	if (index_gid_lists(w, &lists) != 0)
		return -1;
	/* Each held user: name, NUL, the value's fixed part, the rest of
	 * its blob (SNAP_PW_FIXED + need bytes in all). */
	for (off = 0; off < w->pend.len; off += len) {
		name = (const char *)w->pend.p + off;
		nl = strlen(name);
		p = w->pend.p + off + nl + 1;
		need = snap_get32(p + 12);
		len = SNAP_PW_FIXED + need;
		rest = need - nl - 1;
		uid = snap_get32(p);
		k = name_index_find(&lists, name);
		gl = k != 0 ? (const unsigned char *)gid_list_at(w, k - 1) +
		    nl + 1 : NULL;
		ng = gl != NULL ? snap_get32(gl) : 0;
		vlen = SNAP_PW_FIXED + rest + ng * 4;
		/* The value, then the 'p' key after it (add_entry). */
		if (buf_reserve(w, vlen + 1 + nl) != 0)
			goto out;
		memcpy(w->buf, p, SNAP_PW_FIXED + rest);
		snap_put32(w->buf + 16, (uint32_t)ng);
		if (ng > 0)
			memcpy(w->buf + SNAP_PW_FIXED + rest, gl + 4, ng * 4);
		if (add_entry(w, w->buf + vlen, SNAP_KEY_PWNAM, name, nl, uid,
		    vlen, NULL, NULL, &w->pw_first, &w->pw_end) != 0)
			goto out;
	}
	rc = 0;
out:
	name_index_free(&lists);
	return rc;
}

/*
 * A tombstone ('t', format 2): see snapshot_format.h.  Its name is checked
 * against the users' at commit (check_unique), since users and tombstones
 * may come in any order.
 */
int
snap_writer_add_tombstone(struct snap_writer *w, const struct snap_tombstone *t)
{
	size_t nl, yl, vlen;
	unsigned char *p;

	if (check_field(w, "tombstone name", t->name, 1, &nl) != 0 ||
	    check_field(w, "tombstone reason", t->why, 0, &yl) != 0)
		return -1;
	if (t->uid == 0 || t->uid == UINT32_MAX) {
		werr(w, "tombstone %s: UID 0 or -1 is never written", t->name);
		return -1;
	}
	if ((unsigned)t->reason > SNAP_TOMB_REASON_MAX) {
		werr(w, "tombstone %s: unknown reason %d", t->name, (int)t->reason);
		return -1;
	}
	vlen = SNAP_TOMB_FIXED + 4 + nl + yl;
	if (buf_reserve(w, vlen + 1 + nl) != 0)
		return -1;
	p = w->buf;
	snap_put32(p, t->uid);
	p[4] = (unsigned char)t->reason;
	p[5] = p[6] = p[7] = 0;
	snap_put64(p + 8, (uint64_t)t->left_at);
	snap_put64(p + 16, (uint64_t)t->expires);
	p = put_str(p + SNAP_TOMB_FIXED, t->name, nl);
	p = put_str(p, t->why, yl);
	p[0] = SNAP_KEY_TOMB;
	memcpy(p + 1, t->name, nl);
	if (name_push(&w->tombs, t->name) != 0) {
		werr(w, "out of memory writing the snapshot");
		return -1;
	}
	return add_rec(w, p, 1 + nl, w->buf, vlen);
}

/*
 * A user's SSH keys ('k', format 2): checked and encoded by
 * snapshot_keys.c; the user must be a user (checked at commit, as they may
 * come in any order).
 */
int
snap_writer_add_user_keys(struct snap_writer *w, const char *user,
    const char *const *lines, size_t nlines)
{
	size_t nl, vlen;

	if (check_field(w, "user name", user, 1, &nl) != 0)
		return -1;
	if (snap_keys_check(user, lines, nlines, &vlen, w->err,
	    sizeof(w->err)) != 0)
		return -1;
	if (buf_reserve(w, 1 + nl + vlen) != 0)
		return -1;
	w->buf[0] = SNAP_KEY_SSHKEY;
	memcpy(w->buf + 1, user, nl);
	snap_keys_encode(lines, nlines, w->buf + 1 + nl);
	if (name_push(&w->key_users, user) != 0) {
		werr(w, "out of memory writing the snapshot");
		return -1;
	}
	return add_rec(w, w->buf, 1 + nl, w->buf + 1 + nl, vlen);
}

/* The PAM policy ('P', format 2): encoded now, so that a bad value is
 * refused here, and written at commit. */
int
snap_writer_set_policy(struct snap_writer *w, const struct snap_policy *p)
{
	return snap_policy_encode(p, w->policy, &w->policy_len, w->err,
	    sizeof(w->err));
}

/* Free everything but the temporary file's name. */
static void
writer_free(struct snap_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	if (w->stage >= 0)
		close(w->stage);
	w->fd = w->stage = -1;
	name_free(&w->users);
	name_free(&w->groups);
	free(w->glists.p);
	free(w->goff.v);
	free(w->pend.p);
	name_free(&w->tombs);
	name_free(&w->key_users);
	free(w->uids.v);
	free(w->gids.v);
	free(w->buf);
	snap_idx_free(&w->idx);
	free(w);
}

/* The 'X' record, after the last 'p' and 'g' record.  0, or -1 with the
 * writer's error. */
static int
write_index(struct snap_writer *w)
{
	uint32_t at = w->cm.cdb_dpos;
	size_t vlen = snap_idx_value_len(&w->idx, at);
	char key = SNAP_KEY_INDEX;

	w->idx_at = at;

	if (buf_reserve(w, vlen) != 0)
		return -1;
	if (snap_idx_encode(&w->idx, at, NULL, w->buf) != 0) {
		if (errno == ENOMEM)
			werr(w, "out of memory writing the snapshot");
		else    /* the writer refused duplicates already */
			werr(w, "cannot build the snapshot's index: two entries "
			    "hash alike; publishing again picks a new seed");
		return -1;
	}
	return add_rec(w, &key, 1, w->buf, vlen);
}

/* Refuse duplicates (see the header comment).  0 or -1 with w->err. */
static int
check_unique(struct snap_writer *w)
{
	const struct {
		const struct name_list *l;
		const char *pre, *post;   /* the message around the name */
	} lists[] = {
		{ &w->groups, "group ", " appears twice" },
		{ &w->tombs, "tombstone ", " appears twice" },
		{ &w->key_users, "the SSH keys of user ", " were given twice" },
	};
	struct name_index users;
	const char *d;
	uint32_t id;
	size_t i, j;
	int rc = -1;

	if (name_index_build(&users, w->idx.seed, w->users.n, name_list_at,
	    &w->users, &d) != 0) {
		werr(w, "out of memory writing the snapshot");
		return -1;
	}
	if (d != NULL) {
		werr(w, "user %s appears twice", d);
		goto out;
	}
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		if (name_dup(w, lists[i].l, &d) != 0) {
			werr(w, "out of memory writing the snapshot");
			goto out;
		}
		if (d != NULL) {
			werr(w, "%s%s%s", lists[i].pre, d, lists[i].post);
			goto out;
		}
	}
	/* Every 'k' name is a 'p' name. */
	for (j = 0; j < w->key_users.n; j++)
		if (name_index_find(&users, w->key_users.v[j]) == 0) {
			werr(w, "SSH keys were given for %s, who is not a user "
			    "in the snapshot", w->key_users.v[j]);
			goto out;
		}
	/* A name is on the host or gone, never both (pam_okta would deny a
	 * live user). */
	for (j = 0; j < w->tombs.n; j++)
		if (name_index_find(&users, w->tombs.v[j]) != 0) {
			werr(w, "user %s is also a tombstone", w->tombs.v[j]);
			goto out;
		}
	if (id_dup(&w->uids, &id)) {
		werr(w, "UID %u is given to two users", (unsigned)id);
		goto out;
	}
	if (id_dup(&w->gids, &id)) {
		werr(w, "GID %u is given to two groups", (unsigned)id);
		goto out;
	}
	rc = 0;
out:
	name_index_free(&users);
	return rc;
}

int
snap_writer_commit(struct snap_writer *w, const struct snap_meta *meta,
    char *err, size_t errlen)
{
	unsigned char m[SNAP_META_LEN];
	char key = SNAP_KEY_META;
	int rc = -1, finished = 0, fd;

	if (w->broken)
		goto out;
	/* The index's slot counts (n + n/8 + 1) fit 32 bits; such a file
	 * would not fit tinycdb's 4 GiB anyway. */
	if (w->users.n > SNAP_MAX_ENTRIES || w->groups.n > SNAP_MAX_ENTRIES) {
		werr(w, "too many entries for one snapshot");
		goto out;
	}
	if (check_unique(w) != 0)
		goto out;
	if (write_users(w) != 0 || write_index(w) != 0)
		goto out;
	memcpy(m, SNAP_MAGIC, SNAP_MAGIC_LEN);
	snap_put32(m + 8, SNAP_FORMAT_VERSION);
	snap_put32(m + 12, 0);
	snap_put64(m + 16, (uint64_t)meta->last_sync);
	snap_put64(m + 24, meta->generation);
	snap_put32(m + 32, (uint32_t)w->users.n);
	snap_put32(m + 36, (uint32_t)w->groups.n);
	snap_put32(m + 40, w->pw_first);
	snap_put32(m + 44, w->pw_end);
	snap_put32(m + 48, w->gr_first);
	snap_put32(m + 52, w->gr_end);
	snap_put32(m + 56, w->idx_at);
	/* The meta record last: readers find it at the data section's end. */
	key = SNAP_KEY_POLICY;
	if (add_rec(w, &key, 1, w->policy, w->policy_len) != 0)
		goto out;
	key = SNAP_KEY_META;
	if (add_rec(w, &key, 1, m, sizeof(m)) != 0)
		goto out;
	finished = 1;
	if (cdb_make_finish(&w->cm) != 0) {
		werr(w, "writing the snapshot %s: %s", w->tmp, strerror(errno));
		goto out;
	}
	if (w->stage >= 0 && snap_install_copy(w->stage, w->fd, w->tmp, w->err,
	    sizeof(w->err)) != 0)
		goto out;
	fd = w->fd;
	w->fd = -1;     /* snap_install closes it in all cases */
	switch (snap_install(fd, w->tmp, w->path, w->err, sizeof(w->err))) {
	case 0:
		rc = 0;
		break;
	case 1:         /* published; only durability is in doubt */
		rc = 0;
		snprintf(err, errlen, "%s", w->err);
		break;
	default:
		break;
	}
out:
	if (rc != 0) {
		if (!finished)
			(void)cdb_make_finish(&w->cm);   /* frees its lists */
		snprintf(err, errlen, "%s", w->err[0] ? w->err :
		    "the snapshot writer failed earlier");
		unlink(w->tmp);
	}
	writer_free(w);
	return rc;
}

void
snap_writer_abort(struct snap_writer *w)
{
	if (w == NULL)
		return;
	(void)cdb_make_finish(&w->cm);   /* frees tinycdb's record lists */
	unlink(w->tmp);
	writer_free(w);
}

const char *
snap_writer_error(const struct snap_writer *w)
{
	return w->err;
}
