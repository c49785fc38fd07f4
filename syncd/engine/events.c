/*
 * events.c - following Okta's System Log between syncs (see events.h):
 * the table of event types, a poll's batch, the state in cache.db, and
 * the poll itself, which hands what the events name to sync_run.
 *
 * Nothing here writes users, groups or the snapshot: sync_run does, under
 * the sync lock, the one writer.  The state is written after it, under
 * the same lock taken again; when a sync holds it then, the state waits
 * in memory for the next poll.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "events.h"
#include "lock.h"
#include "log.h"
#include "sync.h"
#include "xmalloc.h"

static const struct events_type types[] = {
	{ "user.lifecycle.create", EVENTS_USER | EVENTS_MEMBERSHIP },
	{ "user.lifecycle.activate", EVENTS_USER },
	{ "user.lifecycle.reactivate", EVENTS_USER },
	{ "user.lifecycle.deactivate", EVENTS_USER },
	{ "user.lifecycle.suspend", EVENTS_USER },
	{ "user.lifecycle.unsuspend", EVENTS_USER },
	/* Okta's catalogue names a deletion in two steps; older orgs and
	 * the emulator log the bare name. */
	{ "user.lifecycle.delete", EVENTS_USER },
	{ "user.lifecycle.delete.initiated", EVENTS_USER },
	{ "user.lifecycle.delete.completed", EVENTS_USER },
	{ "user.account.lock", EVENTS_USER },
	{ "user.account.unlock", EVENTS_USER },
	{ "user.account.unlock_by_admin", EVENTS_USER },
	{ "user.account.update_profile", EVENTS_USER },
	{ "user.account.reset_password", EVENTS_USER },
	{ "user.account.expire_password", EVENTS_USER },
	{ "group.user_membership.add", EVENTS_USER | EVENTS_GROUP |
	    EVENTS_MEMBERSHIP },
	{ "group.user_membership.remove", EVENTS_USER | EVENTS_GROUP |
	    EVENTS_MEMBERSHIP },
	{ "group.lifecycle.create", EVENTS_GROUP },
	{ "group.lifecycle.delete", EVENTS_GROUP },
	{ "group.profile.update", EVENTS_GROUP },
};

const struct events_type *
events_types(size_t *n)
{
	*n = sizeof(types) / sizeof(types[0]);
	return types;
}

unsigned
events_type_what(const char *event_type)
{
	size_t i;

	for (i = 0; event_type != NULL && i < sizeof(types) / sizeof(types[0]);
	    i++)
		if (strcmp(types[i].name, event_type) == 0)
			return types[i].what;
	return 0;
}

char *
events_filter(void)
{
	char *f = xstrdup(""), *more;
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		more = xasprintf("%s%seventType eq \"%s\"", f, i ? " or " : "",
		    types[i].name);
		free(f);
		f = more;
	}
	return f;
}

/* ---- The batch ---------------------------------------------------------- */

/* Index of s in v[0..n), or n.  Batches are a few pages at most: a
 * linear search over ids of at most 64 bytes costs little next to the
 * requests each entry brings. */
static size_t
find(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return i;
	return n;
}

static size_t
push(char ***v, size_t *n, const char *s)
{
	size_t i = find(*v, *n, s);

	if (i == *n) {
		*v = xreallocarray(*v, *n + 1, sizeof(**v));
		(*v)[(*n)++] = xstrdup(s);
	}
	return i;
}

int
events_batch_add(struct events_batch *b, const struct okta_log_event *ev)
{
	unsigned what;
	size_t i, u;

	if (find(b->uuids, b->nuuids, ev->uuid) < b->nuuids)
		return 0;
	push(&b->uuids, &b->nuuids, ev->uuid);
	b->seen++;
	what = events_type_what(ev->event_type);
	if (!ev->success || what == 0)
		return 1;
	b->relevant++;
	b->last = *ev;
	for (i = 0; i < ev->ntargets; i++) {
		const struct okta_log_target *t = &ev->target[i];

		if (t->kind == OKTA_TARGET_USER && (what & EVENTS_USER)) {
			size_t before = b->nusers;

			u = push(&b->users, &b->nusers, t->id);
			if (b->nusers != before) {
				b->refresh = xreallocarray(b->refresh, b->nusers, 1);
				b->refresh[u] = 0;
			}
			if (what & EVENTS_MEMBERSHIP)
				b->refresh[u] = 1;
		} else if (t->kind == OKTA_TARGET_GROUP &&
		    (what & EVENTS_GROUP) && !(what & EVENTS_MEMBERSHIP)) {
			push(&b->groups, &b->ngroups, t->id);
		}
	}
	return 1;
}

void
events_batch_free(struct events_batch *b)
{
	size_t i;

	for (i = 0; i < b->nusers; i++)
		free(b->users[i]);
	for (i = 0; i < b->ngroups; i++)
		free(b->groups[i]);
	for (i = 0; i < b->nuuids; i++)
		free(b->uuids[i]);
	free(b->users);
	free(b->refresh);
	free(b->groups);
	free(b->uuids);
	memset(b, 0, sizeof(*b));
}

/* ---- The state in cache.db ---------------------------------------------- */

static void
copy_column(sqlite3_stmt *st, int i, char *out, size_t outlen)
{
	const unsigned char *v = sqlite3_column_text(st, i);
	size_t n = v != NULL ? strlen((const char *)v) : 0;

	/* Too long for its buffer: not what this program wrote; dropped. */
	if (n >= outlen)
		n = 0;
	memcpy(out, v != NULL ? (const char *)v : "", n);
	out[n] = '\0';
}

int
events_state_load(sqlite3 *db, struct events_state *es)
{
	sqlite3_stmt *st;
	int step;

	memset(es, 0, sizeof(*es));
	es->latency = -1;
	if (sqlite3_prepare_v2(db, "SELECT cursor, polled_at, seen, applied,"
	    " last_uuid, last_type, last_published, latency FROM events_state"
	    " WHERE id = 1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		copy_column(st, 0, es->cursor, sizeof(es->cursor));
		es->polled_at = sqlite3_column_int64(st, 1);
		es->seen = (unsigned long long)sqlite3_column_int64(st, 2);
		es->applied = (unsigned long long)sqlite3_column_int64(st, 3);
		copy_column(st, 4, es->last_uuid, sizeof(es->last_uuid));
		copy_column(st, 5, es->last_type, sizeof(es->last_type));
		copy_column(st, 6, es->last_published, sizeof(es->last_published));
		if (sqlite3_column_type(st, 7) != SQLITE_NULL)
			es->latency = sqlite3_column_double(st, 7);
	}
	sqlite3_finalize(st);
	return step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : -1;
}

static void
bind_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s[0] != '\0')
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

int
events_state_store(sqlite3 *db, const struct events_state *es)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO events_state (id,"
	    " cursor, polled_at, seen, applied, last_uuid, last_type,"
	    " last_published, latency) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)", -1,
	    &st, NULL) != SQLITE_OK)
		return -1;
	bind_or_null(st, 1, es->cursor);
	sqlite3_bind_int64(st, 2, es->polled_at);
	sqlite3_bind_int64(st, 3, (long long)es->seen);
	sqlite3_bind_int64(st, 4, (long long)es->applied);
	bind_or_null(st, 5, es->last_uuid);
	bind_or_null(st, 6, es->last_type);
	bind_or_null(st, 7, es->last_published);
	if (es->latency >= 0)
		sqlite3_bind_double(st, 8, es->latency);
	else
		sqlite3_bind_null(st, 8);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- The follower ------------------------------------------------------- */

struct events {
	struct okta_client *oc;     /* kept between polls; dropped on errors */
	struct events_state st;
	int loaded;                 /* st was read from cache.db */
};

struct events *
events_new(void)
{
	struct events *e = xcalloc(1, sizeof(*e));

	e->st.latency = -1;
	return e;
}

void
events_free(struct events *e)
{
	if (e == NULL)
		return;
	okta_client_free(e->oc);
	explicit_bzero(e->st.cursor, sizeof(e->st.cursor));
	free(e);
}

void
events_drop_client(struct events *e)
{
	if (e == NULL)
		return;
	okta_client_free(e->oc);
	e->oc = NULL;
}

const struct events_state *
events_state_of(const struct events *e)
{
	return e != NULL && e->loaded ? &e->st : NULL;
}

/*
 * The state (once) and the start of the last sync from cache.db, read
 * only.  1 ready, 0 no cache yet (said at debug level).
 */
static int
load(struct events *e, const struct config *c, long long *last_start)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	char err[512];

	*last_start = 0;
	if (cache_open(c->cache_dir, CACHE_READ_ONLY, &db, err,
	    sizeof(err)) != OK_SUCCESS) {
		debug("events: not polling yet: %s", err);
		return 0;
	}
	if (!e->loaded && events_state_load(db, &e->st) >= 0)
		e->loaded = 1;
	if (sqlite3_prepare_v2(db, "SELECT max(started) FROM sync_runs", -1,
	    &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			*last_start = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	cache_close(db);
	return e->loaded;
}

struct page_ctx {
	struct events_batch *b;
	unsigned long unusable;
};

static int
event_cb(void *ctx, json_object *item)
{
	struct page_ctx *p = ctx;
	struct okta_log_event ev;

	if (okta_log_event_parse(item, &ev) != 0)
		p->unusable++;
	else
		(void)events_batch_add(p->b, &ev);
	return 0;
}

/*
 * The new events into b: from the stored cursor, or on a fresh start
 * from last_start minus the overlap; page after full page, up to
 * EVENTS_PAGES_MAX.  The last page's next link goes into next.
 */
static okerr
read_events(struct events *e, long long last_start, struct events_batch *b,
    char *next, size_t nextlen)
{
	struct page_ctx pc = { b, 0 };
	char *first = NULL, *filter;
	const char *url = e->st.cursor;
	unsigned long n;
	okerr rc = OK_SUCCESS;
	int pages;

	if (url[0] != '\0' && !okta_url_is_ours(e->oc, url)) {
		warn("events: the stored System Log cursor is not https on the "
		    "configured [okta] domain (was it changed?); starting afresh");
		e->st.cursor[0] = '\0';
	}
	if (url[0] == '\0') {
		filter = events_filter();
		first = okta_logs_first_path(last_start - EVENTS_FRESH_OVERLAP,
		    filter, OKTA_LOG_PAGE_LIMIT);
		free(filter);
		url = first;
		info("events: following Okta's System Log from %d s before the "
		    "last sync", EVENTS_FRESH_OVERLAP);
	}
	for (pages = 0; pages < EVENTS_PAGES_MAX; pages++) {
		/* okta_poll_page copies url before it writes next. */
		rc = okta_poll_page(e->oc, url, event_cb, &pc, &n, next, nextlen);
		if (rc != OK_SUCCESS || n < OKTA_LOG_PAGE_LIMIT)
			break;
		url = next;
	}
	free(first);
	if (pc.unusable > 0)
		warn("events: %lu System Log entries were not usable LogEvents "
		    "(no uuid, eventType or published); skipped", pc.unusable);
	return rc;
}

/* The batch through the one sync path: by id, or a burst as one
 * incremental sync. */
static okerr
apply_batch(const struct config *c, volatile sig_atomic_t *stop,
    const struct events_batch *b, struct sync_result *res)
{
	struct sync_targets t;
	struct sync_opts o;

	memset(&o, 0, sizeof(o));
	memset(&t, 0, sizeof(t));
	o.format = PLAN_FORMAT_NONE;
	o.stop = stop;
	if (b->nusers > EVENTS_BURST_USERS) {
		info("events: %lu events name %zu users, running an incremental "
		    "sync instead", b->relevant, b->nusers);
	} else {
		t.users = b->users;
		t.refresh = b->refresh;
		t.nusers = b->nusers;
		t.groups = b->groups;
		t.ngroups = b->ngroups;
		o.targets = &t;
	}
	return sync_run(c, &o, res);
}

/* "jane, joe" for the log: the Linux names of the first users the batch
 * names (their Okta ids when the cache has none), malloc'd. */
static char *
names_of(const struct config *c, const struct events_batch *b)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char err[256], *s = xstrdup(""), *more;
	const char *name;
	size_t i;

	if (cache_open(c->cache_dir, CACHE_READ_ONLY, &db, err,
	    sizeof(err)) == OK_SUCCESS)
		(void)sqlite3_prepare_v2(db, "SELECT name FROM users WHERE"
		    " okta_id = ?", -1, &st, NULL);
	for (i = 0; i < b->nusers && i < 20; i++) {
		name = b->users[i];
		if (st != NULL) {
			sqlite3_reset(st);
			sqlite3_bind_text(st, 1, b->users[i], -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW &&
			    sqlite3_column_text(st, 0) != NULL)
				name = (const char *)sqlite3_column_text(st, 0);
		}
		more = xasprintf("%s%s%s", s, i ? ", " : "", name);
		free(s);
		s = more;
	}
	if (b->nusers > 20) {
		more = xasprintf("%s and %zu more", s, b->nusers - 20);
		free(s);
		s = more;
	}
	sqlite3_finalize(st);
	cache_close(db);
	return s;
}

/* What the poll leaves: the cursor moves on; an applied batch counts,
 * with its last event and (when a snapshot was published) the latency. */
static void
advance(struct events *e, const struct events_batch *b, const char *next,
    int applied, const struct sync_result *res)
{
	struct timespec now;
	struct events_state *s = &e->st;

	snprintf(s->cursor, sizeof(s->cursor), "%s", next);
	s->polled_at = (long long)time(NULL);
	s->seen += b->seen;
	if (!applied || b->relevant == 0)
		return;
	s->applied += b->relevant;
	memcpy(s->last_uuid, b->last.uuid, sizeof(s->last_uuid));
	memcpy(s->last_type, b->last.event_type, sizeof(s->last_type));
	memcpy(s->last_published, b->last.published, sizeof(s->last_published));
	if (res->unchanged || res->generation == 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	s->latency = ((double)now.tv_sec * 1000.0 + (double)now.tv_nsec / 1e6 -
	    (double)b->last.published_ms) / 1000.0;
	if (s->latency < 0)
		s->latency = 0;     /* Okta's clock ahead of ours */
}

/* Write the state under the sync lock; when a sync holds it, the state
 * stays in memory and the next poll writes it. */
static void
store(struct events *e, const struct config *c)
{
	sqlite3 *db = NULL;
	char err[512];
	int fd = -1;

	if (sync_lock_acquire(c->cache_dir, 0, &fd, err, sizeof(err)) !=
	    OK_SUCCESS) {
		debug("events: the cursor is stored at the next poll: %s", err);
		return;
	}
	if (cache_open(c->cache_dir, CACHE_READ_WRITE, &db, err,
	    sizeof(err)) != OK_SUCCESS)
		warn("events: cannot store the System Log cursor: %s", err);
	else if (events_state_store(db, &e->st) != 0)
		warn("events: cannot store the System Log cursor in cache.db: "
		    "%s", sqlite3_errmsg(db));
	cache_close(db);
	sync_lock_release(fd);
}

/* The log line for an applied batch, or why it was not. */
static void
report(const struct config *c, const struct events_batch *b, okerr rc,
    const struct sync_result *res)
{
	char *names;

	if (rc == OK_SUCCESS) {
		names = b->nusers > 0 ? names_of(c, b) : xstrdup("none");
		if (res->unchanged)
			info("events: %lu new (%lu applied), users: %s; nothing "
			    "changed", b->seen, b->relevant, names);
		else
			info("events: %lu new (%lu applied), users: %s; published "
			    "generation %llu", b->seen, b->relevant, names,
			    res->generation);
		free(names);
	} else if (rc == OK_ERR_BUSY) {
		info("events: another sync is running; the events wait for the "
		    "next poll");
	} else if (rc != OK_ERR_INTERRUPTED) {
		error("events: applying %lu events failed: %s%s%s", b->relevant,
		    err_sentence(rc), res->message[0] ? ": " : "", res->message);
	}
}

okerr
events_poll(struct events *e, const struct config *c,
    volatile sig_atomic_t *stop)
{
	struct events_batch b;
	struct sync_result res;
	char *next = xcalloc(1, OKTA_URL_MAX), err[512];
	long long last_start;
	okerr rc = OK_SUCCESS;

	memset(&b, 0, sizeof(b));
	memset(&res, 0, sizeof(res));
	if (!load(e, c, &last_start) || (e->st.cursor[0] == '\0' &&
	    last_start <= 0))
		goto out;	/* no sync yet: the first one comes first */
	if (e->oc == NULL &&
	    (rc = sync_client_new(c, stop, &e->oc, err, sizeof(err))) != OK_SUCCESS) {
		error("events: %s: %s", err_sentence(rc), err);
		goto out;
	}
	rc = read_events(e, last_start, &b, next, OKTA_URL_MAX);
	if (rc != OK_SUCCESS) {
		if (rc != OK_ERR_INTERRUPTED)
			warn("events: polling the System Log failed: %s: %s; "
			    "trying again at the next poll%s", err_sentence(rc),
			    okta_last_error(e->oc), rc == OK_ERR_FORBIDDEN ?
			    " (the token may not read the System Log: with auth "
			    "= oauth add okta.logs.read to [okta] scopes, or set "
			    "[sync] events = no)" : "");
		/* A cursor Okta no longer takes: read afresh next time. */
		if (rc == OK_ERR_PROTOCOL && okta_last_http_status(e->oc) == 400)
			e->st.cursor[0] = '\0';
		okta_client_free(e->oc);
		e->oc = NULL;
		goto out;
	}
	if (b.relevant > 0) {
		rc = apply_batch(c, stop, &b, &res);
		report(c, &b, rc, &res);
	} else if (b.seen > 0)
		info("events: %lu new (0 applied)", b.seen);
	if (rc == OK_SUCCESS || rc == OK_ERR_REFUSED) {
		advance(e, &b, next, rc == OK_SUCCESS, &res);
		store(e, c);
	}
out:
	events_batch_free(&b);
	explicit_bzero(next, OKTA_URL_MAX);
	free(next);
	return rc;
}
