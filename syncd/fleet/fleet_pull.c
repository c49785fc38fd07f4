/*
 * fleet_pull.c - a fleet subscriber's pull (see fleet_pull.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdbdata.h"
#include "delta.h"
#include "fleet_file.h"
#include "fleet_http.h"
#include "fleet_publish.h"
#include "fleet_pull.h"
#include "manifest.h"
#include "snapcheck.h"
#include "snapshot.h"
#include "snapshot_install.h"
#include "xmalloc.h"

#define STATE_MAX 4096

const char *
fleet_outcome_name(int outcome)
{
	switch (outcome) {
	case FLEET_PULL_INSTALLED: return "installed";
	case FLEET_PULL_UNCHANGED: return "unchanged";
	case FLEET_PULL_REFUSED: return "refused";
	case FLEET_PULL_FAILED: return "failed";
	default: return "never";
	}
}

static void
take_state(void *ctx, const char *key, const char *v)
{
	struct fleet_sub_state *st = ctx;

	if (strcmp(key, "etag") == 0)
		snprintf(st->etag, sizeof(st->etag), "%s", v);
	else if (strcmp(key, "generation") == 0)
		st->generation = strtoull(v, NULL, 10);
	else if (strcmp(key, "created") == 0)
		st->created = strtoll(v, NULL, 10);
	else if (strcmp(key, "last_pull") == 0)
		st->last_pull = strtoll(v, NULL, 10);
	else if (strcmp(key, "last_outcome") == 0)
		st->last_outcome = atoi(v);
	else if (strcmp(key, "last_downloaded") == 0)
		st->last_downloaded = (size_t)strtoull(v, NULL, 10);
	else if (strcmp(key, "last_delta") == 0)
		st->last_delta = atoi(v);
	else if (strcmp(key, "last_error") == 0)
		snprintf(st->last_error, sizeof(st->last_error), "%s", v);
}

int
fleet_state_load(const char *state_dir, struct fleet_sub_state *st)
{
	memset(st, 0, sizeof(*st));
	return fleet_state_read(state_dir, FLEET_STATE_NAME, take_state, st);
}

/* Save *st (best effort: a lost state costs a full download and a
 * "never" in status, not safety, because the installed snapshot's own
 * generation also guards against rollback). */
static void
state_save(const char *state_dir, const struct fleet_sub_state *st)
{
	char buf[STATE_MAX], err[256];
	int n;

	if (mkdir(state_dir, 0700) != 0 && errno != EEXIST)
		return;
	n = snprintf(buf, sizeof(buf), "etag=%s\ngeneration=%" PRIu64 "\n"
	    "created=%lld\nlast_pull=%lld\nlast_outcome=%d\nlast_downloaded=%zu\n"
	    "last_delta=%d\nlast_error=%s\n", st->etag, st->generation,
	    st->created, st->last_pull, st->last_outcome, st->last_downloaded,
	    st->last_delta, st->last_error);
	if (n > 0 && (size_t)n < sizeof(buf))
		(void)fleet_write_file(state_dir, FLEET_STATE_NAME, buf, (size_t)n,
		    0644, err, sizeof(err));
}

static int
finish(const struct fleet_pull_opts *o, struct fleet_sub_state *st,
    int outcome, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
finish(const struct fleet_pull_opts *o, struct fleet_sub_state *st,
    int outcome, const char *fmt, ...)
{
	va_list ap;

	st->last_pull = o->now;
	st->last_outcome = outcome;
	st->last_error[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(st->last_error, sizeof(st->last_error), fmt, ap);
		va_end(ap);
		/* one line in the state file */
		for (char *p = st->last_error; *p; p++)
			if (*p == '\n')
				*p = ' ';
	}
	state_save(o->state_dir, st);
	return outcome;
}

static char *
url_of(const char *source, const char *name)
{
	size_t n = strlen(source) + strlen(name) + 2;
	char *u = xmalloc(n);

	snprintf(u, n, "%s%s%s", source,
	    source[0] && source[strlen(source) - 1] == '/' ? "" : "/", name);
	return u;
}

/* GET name, which must be exactly `size` bytes.  0, or -1 with err. */
static int
fetch_exact(struct fleet_http *fh, const char *source, const char *name,
    uint64_t size, struct fleet_http_answer *a, char *err, size_t errlen)
{
	char *url = url_of(source, name);
	int rc = fleet_http_get(fh, url, NULL, (size_t)size, a, err, errlen);

	if (rc == 0 && a->status != 200) {
		snprintf(err, errlen, "GET %s: HTTP %ld", url, a->status);
		rc = -1;
	} else if (rc == 0 && a->len != size) {
		snprintf(err, errlen, "GET %s: %zu bytes where the manifest says "
		    "%" PRIu64 " (truncated download?)", url, a->len, size);
		rc = -1;
	}
	if (rc != 0) {
		free(a->body);
		a->body = NULL;
	}
	free(url);
	return rc;
}

/* The installed snapshot's generation and SHA-256 (0 when none).  Its
 * bytes go to *bytes for a delta base (NULL when there is none). */
static void
installed(const char *path, uint64_t *gen, unsigned char sha[32],
    unsigned char **bytes, size_t *len)
{
	char err[256];
	struct snap *s;
	int fd;

	*gen = 0;
	*bytes = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (snap_open_fd(fd, &s) == 0) {
		*gen = snap_get_meta(s)->generation;
		snap_close(s);
	}
	close(fd);
	if (*gen != 0 && fleet_read_file(path, FLEET_SNAPSHOT_MAX, bytes, len,
	    err, sizeof(err)) == 0)
		fleet_sha256(*bytes, *len, sha);
	else
		*gen = 0;
}

/* Write bytes to a temporary file next to the snapshot, check it as the
 * readers will, and rename it into place. */
static int
install(const struct fleet_pull_opts *o, const struct fleet_manifest *m,
    const void *bytes, size_t len, char *err, size_t errlen)
{
	char tmp[4096];
	struct snap_meta meta;
	size_t off = 0;
	int fd, dup_fd, r;

	fd = snap_install_tmp(o->snapshot_path, tmp, sizeof(tmp), err, errlen);
	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t w = write(fd, (const char *)bytes + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "cannot write %.300s: %s", tmp,
			    strerror(errno));
			goto fail;
		}
		off += (size_t)w;
	}
	/* The readers trust only a root-owned 0644 file: check it as such. */
	if (fchmod(fd, 0644) != 0) {
		snprintf(err, errlen, "cannot chmod %.300s: %s", tmp, strerror(errno));
		goto fail;
	}
	dup_fd = dup(fd);
	if (dup_fd < 0) {
		snprintf(err, errlen, "dup: %s", strerror(errno));
		goto fail;
	}
	r = snapshot_check_fd(dup_fd, &meta, err, errlen);
	close(dup_fd);
	if (r != 0)
		goto fail;
	if (meta.generation != m->generation) {
		snprintf(err, errlen, "the snapshot holds generation %" PRIu64
		    ", its manifest says %" PRIu64, meta.generation, m->generation);
		goto fail;
	}
	r = snap_install(fd, tmp, o->snapshot_path, err, errlen);
	if (r < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
fail:
	close(fd);
	unlink(tmp);
	return -1;
}

/* One pull's working state.  The steps below return 0 to go on, or the
 * pull's outcome, already recorded with finish(). */
struct pull {
	const struct fleet_pull_opts *o;
	struct fleet_sub_state *st;
	struct fleet_http *fh;
	struct fleet_http_answer a;     /* the manifest's answer */
	struct fleet_manifest m;
	unsigned char *have, have_sha[32];
	size_t have_len;
	uint64_t have_gen;
	void *out;                      /* the payload, then the file */
	char err[512];
};

/* GET the manifest (conditionally), check its signature, parse it. */
static int
fetch_manifest(struct pull *p)
{
	char *url = url_of(p->o->source, FLEET_MANIFEST_NAME), *nl;
	size_t siglen;
	int rc = 0;

	if (fleet_http_get(p->fh, url, p->st->etag, FLEET_MANIFEST_MAX +
	    FLEET_SIG_LINE_MAX, &p->a, p->err, sizeof(p->err)) != 0) {
		rc = finish(p->o, p->st, FLEET_PULL_FAILED, "cannot fetch the "
		    "manifest: %s", p->err);
		goto out;
	}
	p->st->last_downloaded += p->a.len;
	if (p->a.status == 304)
		rc = finish(p->o, p->st, FLEET_PULL_UNCHANGED, NULL);
	else if (p->a.status != 200)
		rc = finish(p->o, p->st, FLEET_PULL_FAILED, "GET %s: HTTP %ld", url,
		    p->a.status);
	else if ((nl = memchr(p->a.body, '\n', p->a.len)) == NULL)
		rc = finish(p->o, p->st, FLEET_PULL_REFUSED, "the manifest has no "
		    "signature line");
	else {
		siglen = (size_t)(nl - p->a.body) + 1;
		if (fleet_verify(p->o->keys, p->o->nkeys, (unsigned char *)nl + 1,
		    p->a.len - siglen, p->a.body, siglen, p->err,
		    sizeof(p->err)) < 0 ||
		    fleet_manifest_parse(nl + 1, p->a.len - siglen, &p->m, p->err,
		    sizeof(p->err)) != 0)
			rc = finish(p->o, p->st, FLEET_PULL_REFUSED, "%s", p->err);
	}
out:
	free(url);
	return rc;
}

/* Freeze and rollback; nothing to do when it is what is installed. */
static int
check_manifest(struct pull *p)
{
	const struct fleet_manifest *m = &p->m;
	struct fleet_sub_state *st = p->st;
	uint64_t floor_gen;

	if (p->o->now - m->created > p->o->max_age)
		return finish(p->o, st, FLEET_PULL_REFUSED, "the manifest was "
		    "signed %lld s ago, longer than max_age (%lld s): the "
		    "publisher has stopped publishing, or an old manifest is "
		    "being replayed", p->o->now - m->created, p->o->max_age);
	installed(p->o->snapshot_path, &p->have_gen, p->have_sha, &p->have,
	    &p->have_len);
	/* The first pull trusts any fresh signed manifest, whatever a
	 * standalone past left in the snapshot (its generations count
	 * another history); from then on the floor only rises. */
	floor_gen = st->generation == 0 ? 0 :
	    p->have_gen > st->generation ? p->have_gen : st->generation;
	if (m->generation < floor_gen)
		return finish(p->o, st, FLEET_PULL_REFUSED, "the manifest offers "
		    "generation %" PRIu64 ", older than generation %" PRIu64
		    " installed here (a rollback)", m->generation, floor_gen);
	if (p->have_gen == m->generation &&
	    memcmp(p->have_sha, m->sha256, 32) == 0) {
		snprintf(st->etag, sizeof(st->etag), "%s", p->a.etag);
		st->generation = m->generation;
		st->created = m->created;
		return finish(p->o, st, FLEET_PULL_UNCHANGED, NULL);
	}
	if (m->generation == floor_gen)
		return finish(p->o, st, FLEET_PULL_REFUSED, "the manifest offers "
		    "generation %" PRIu64 " again with other bytes", m->generation);
	return 0;
}

/* The payload through a delta from what is installed, when one is
 * offered; p->out stays NULL otherwise. */
static void
try_delta(struct pull *p)
{
	const struct fleet_manifest *m = &p->m;
	const unsigned char *base = p->have;
	unsigned char *stripped = NULL;
	size_t baselen = p->have_len;

	if (base == NULL)
		return;
	if (m->encoding == FLEET_ENC_CDB_DATA) {
		if (cdbdata_payload(p->have, p->have_len, &stripped, &baselen) != 0)
			return;
		base = stripped;
	}
	for (size_t i = 0; i < m->ndeltas && p->out == NULL; i++) {
		const struct fleet_delta *d = &m->deltas[i];
		struct fleet_http_answer da;

		if (d->from != p->have_gen ||
		    memcmp(d->base_sha256, p->have_sha, 32) != 0)
			continue;
		if (fetch_exact(p->fh, p->o->source, d->name, d->compressed_size,
		    &da, p->err, sizeof(p->err)) != 0)
			break;              /* the full download may still work */
		p->st->last_downloaded += da.len;
		if (fleet_decompress(base, baselen, da.body, da.len,
		    (size_t)m->payload_size, &p->out, p->err, sizeof(p->err)) == 0)
			p->st->last_delta = 1;
		free(da.body);
	}
	free(stripped);
}

/* The payload: a delta, else the full download. */
static int
download(struct pull *p)
{
	struct fleet_http_answer fa;
	int bad;

	try_delta(p);
	if (p->out != NULL)
		return 0;
	if (fetch_exact(p->fh, p->o->source, p->m.name, p->m.compressed_size, &fa,
	    p->err, sizeof(p->err)) != 0)
		return finish(p->o, p->st, FLEET_PULL_FAILED, "%s", p->err);
	p->st->last_downloaded += fa.len;
	bad = fleet_decompress(NULL, 0, fa.body, fa.len,
	    (size_t)p->m.payload_size, &p->out, p->err, sizeof(p->err));
	free(fa.body);
	if (bad)
		return finish(p->o, p->st, FLEET_PULL_REFUSED, "the snapshot "
		    "download is damaged or was changed (%s)", p->err);
	return 0;
}

/* The snapshot file from the payload, checked against the manifest. */
static int
materialize(struct pull *p)
{
	const struct fleet_manifest *m = &p->m;
	unsigned char sha[32], *file = NULL;
	size_t flen = 0;

	if (m->encoding == FLEET_ENC_CDB_DATA) {
		if (cdbdata_file(p->out, (size_t)m->payload_size, &file, &flen,
		    p->err, sizeof(p->err)) != 0 || flen != m->size) {
			if (file != NULL)
				snprintf(p->err, sizeof(p->err), "it rebuilds to %zu "
				    "bytes, not %" PRIu64, flen, m->size);
			free(file);
			return finish(p->o, p->st, FLEET_PULL_REFUSED, "the snapshot "
			    "download is damaged or was changed (%s)", p->err);
		}
		free(p->out);
		p->out = file;
	}
	fleet_sha256(p->out, (size_t)m->size, sha);
	if (memcmp(sha, m->sha256, 32) != 0)
		return finish(p->o, p->st, FLEET_PULL_REFUSED, "the snapshot's "
		    "SHA-256 is not the manifest's: the download is damaged or was "
		    "changed");
	return 0;
}

int
fleet_pull(const struct fleet_pull_opts *o, struct fleet_sub_state *st)
{
	struct pull p;
	int outcome;

	memset(&p, 0, sizeof(p));
	p.o = o;
	p.st = st;
	if (fleet_state_load(o->state_dir, st) != 0)
		memset(st, 0, sizeof(*st));
	st->last_downloaded = 0;
	st->last_delta = 0;
	p.fh = fleet_http_new(o->ca_file, o->timeout > 0 ? o->timeout : 60,
	    p.err, sizeof(p.err));
	if (p.fh == NULL)
		return finish(o, st, FLEET_PULL_FAILED, "%s", p.err);
	if ((outcome = fetch_manifest(&p)) != 0 ||
	    (outcome = check_manifest(&p)) != 0 ||
	    (outcome = download(&p)) != 0 || (outcome = materialize(&p)) != 0)
		goto out;
	if (install(o, &p.m, p.out, (size_t)p.m.size, p.err,
	    sizeof(p.err)) != 0) {
		outcome = finish(o, st, FLEET_PULL_REFUSED, "the snapshot was not "
		    "installed: %s", p.err);
		goto out;
	}
	snprintf(st->etag, sizeof(st->etag), "%s", p.a.etag);
	st->generation = p.m.generation;
	st->created = p.m.created;
	outcome = finish(o, st, FLEET_PULL_INSTALLED, NULL);
out:
	free(p.out);
	free(p.have);
	free(p.a.body);
	fleet_http_free(p.fh);
	return outcome;
}

void
fleet_probe(const struct fleet_pull_opts *o, struct fleet_probe *pr)
{
	struct fleet_http_answer a = { 0 };
	struct fleet_manifest m;
	struct fleet_http *fh;
	char *url = url_of(o->source, FLEET_MANIFEST_NAME), *nl;
	size_t siglen;
	int k;

	memset(pr, 0, sizeof(*pr));
	fh = fleet_http_new(o->ca_file, o->timeout > 0 ? o->timeout : 30,
	    pr->err, sizeof(pr->err));
	if (fh == NULL || fleet_http_get(fh, url, NULL, FLEET_MANIFEST_MAX +
	    FLEET_SIG_LINE_MAX, &a, pr->err, sizeof(pr->err)) != 0) {
		pr->fetched = -1;
		goto out;
	}
	pr->status = a.status;
	pr->bytes = a.len;
	if (a.status != 200) {
		pr->fetched = -1;
		snprintf(pr->err, sizeof(pr->err), "GET %s: HTTP %ld%s", url,
		    a.status, a.status == 404 ? " (has the publisher published? "
		    "is source the directory that holds \"manifest\"?)" : "");
		goto out;
	}
	pr->fetched = 1;
	nl = memchr(a.body, '\n', a.len);
	siglen = nl != NULL ? (size_t)(nl - a.body) + 1 : 0;
	k = nl == NULL ? -1 : fleet_verify(o->keys, o->nkeys,
	    (unsigned char *)nl + 1, a.len - siglen, a.body, siglen, pr->err,
	    sizeof(pr->err));
	if (k < 0) {
		pr->verified = -1;
		if (nl == NULL)
			snprintf(pr->err, sizeof(pr->err), "the manifest has no "
			    "signature line");
		goto out;
	}
	pr->verified = 1;
	pr->key = (size_t)k;
	if (fleet_manifest_parse(nl + 1, a.len - siglen, &m, pr->err,
	    sizeof(pr->err)) != 0) {
		pr->parsed = -1;
		goto out;
	}
	pr->parsed = 1;
	pr->generation = m.generation;
	pr->age = o->now - m.created;
out:
	free(a.body);
	free(url);
	fleet_http_free(fh);
}
