/*
 * fleet_publish.c - the publisher's upload (see fleet_publish.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdbdata.h"
#include "delta.h"
#include "fleet_file.h"
#include "fleet_publish.h"
#include "fleet_sign.h"
#include "snapshot.h"
#include "xmalloc.h"

#define LAST_MANIFEST "last-manifest.json"
#define PUBLISHED_LIST "published.list"
#define LIST_MAX 65536

/* The generations of the base-GEN.cdb files in dir, newest first. */
static size_t
list_bases(const char *dir, uint64_t *out, size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		uint64_t g;
		char tail[8];

		if (sscanf(e->d_name, "base-%" SCNu64 ".cd%1s", &g, tail) != 2 ||
		    strcmp(tail, "b") != 0 || g == 0)
			continue;
		if (n < max)
			out[n++] = g;
		else {
			/* keep the newest max: replace the oldest if g is newer */
			size_t min = 0;
			for (size_t i = 1; i < n; i++)
				if (out[i] < out[min])
					min = i;
			if (g > out[min])
				out[min] = g;
		}
	}
	closedir(d);
	for (size_t i = 1; i < n; i++)           /* a handful: insertion sort */
		for (size_t j = i; j > 0 && out[j] > out[j - 1]; j--) {
			uint64_t t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

/* Remove base files other than the newest `keep`. */
static void
prune_bases(const char *dir, unsigned keep)
{
	DIR *d = opendir(dir);
	uint64_t newest[FLEET_DELTAS_MAX + 1];
	size_t n = list_bases(dir, newest, keep < FLEET_DELTAS_MAX + 1 ? keep :
	    FLEET_DELTAS_MAX + 1);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		uint64_t g;
		char tail[8], path[4096];
		int kept = 0;

		if (sscanf(e->d_name, "base-%" SCNu64 ".cd%1s", &g, tail) != 2)
			continue;
		for (size_t i = 0; i < n; i++)
			if (newest[i] == g)
				kept = 1;
		if (!kept) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			(void)unlink(path);     /* a leftover costs disk only */
		}
	}
	closedir(d);
}

/* Whether name is one of m's payloads. */
static int
refers_to(const struct fleet_manifest *m, const char *name)
{
	if (strcmp(m->name, name) == 0)
		return 1;
	for (size_t i = 0; i < m->ndeltas; i++)
		if (strcmp(m->deltas[i].name, name) == 0)
			return 1;
	return 0;
}

/* Remove from the destination what the last list named and neither
 * manifest refers to; write the new list.  Failures only cost space. */
static void
clean_destination(const struct fleet_publish_opts *o,
    const struct fleet_manifest *cur, const struct fleet_manifest *prev)
{
	char path[4096], err[512], list[LIST_MAX], *line, *save = NULL;
	unsigned char *old = NULL;
	size_t oldlen = 0, used = 0;

	snprintf(path, sizeof(path), "%s/%s", o->state_dir, PUBLISHED_LIST);
	if (fleet_read_file(path, LIST_MAX, &old, &oldlen, err, sizeof(err)) == 0) {
		for (line = strtok_r((char *)old, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			if (fleet_name_ok(line) && !refers_to(cur, line) &&
			    (prev == NULL || !refers_to(prev, line)))
				(void)fleet_dest_remove(o->dest, line, err, sizeof(err));
		free(old);
	}
	list[0] = '\0';
	for (int k = 0; k < 2; k++) {
		const struct fleet_manifest *m = k == 0 ? cur : prev;
		if (m == NULL)
			continue;
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s\n",
		    m->name);
		for (size_t i = 0; i < m->ndeltas && used < sizeof(list); i++)
			used += (size_t)snprintf(list + used, sizeof(list) - used,
			    "%s\n", m->deltas[i].name);
	}
	if (used < sizeof(list))
		(void)fleet_write_file(o->state_dir, PUBLISHED_LIST, list, used,
		    0600, err, sizeof(err));
}

/* One publish's working state. */
struct job {
	const struct fleet_publish_opts *o;
	struct fleet_publish_result *r;
	unsigned char *snap;            /* the snapshot file */
	size_t snaplen;
	const unsigned char *payload;   /* what is shipped: snap or its data */
	size_t paylen;
	unsigned char *owned;           /* the payload when not snap */
	struct fleet_manifest prev;     /* the last one uploaded */
	int have_prev, same_as_prev;
	char *err;
	size_t errlen;
};

/* The live snapshot's bytes, generation (through the reader), size,
 * SHA-256 and payload name; the last manifest uploaded, if any. */
static int
read_snapshot(struct job *j)
{
	struct fleet_manifest *m = &j->r->m;
	unsigned char *last = NULL;
	size_t lastlen = 0;
	char path[4096], why[256];
	struct snap *sn;
	int fd;

	fd = open(j->o->snapshot_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || snap_open_fd(fd, &sn) != 0) {
		snprintf(j->err, j->errlen, "cannot read the snapshot %s: %s",
		    j->o->snapshot_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	m->snapshot_format = snap_get_meta(sn)->format_version;
	m->generation = snap_get_meta(sn)->generation;
	snap_close(sn);
	close(fd);
	if (m->generation == 0) {
		snprintf(j->err, j->errlen, "the snapshot has generation 0; publish "
		    "one with `okta-sync sync` first");
		return -1;
	}
	if (fleet_read_file(j->o->snapshot_path, FLEET_SNAPSHOT_MAX, &j->snap,
	    &j->snaplen, j->err, j->errlen) != 0)
		return -1;
	m->created = j->o->now;
	m->size = j->snaplen;
	fleet_sha256(j->snap, j->snaplen, m->sha256);
	snprintf(m->name, sizeof(m->name), "snapshot-%" PRIu64 ".cdb.zst",
	    m->generation);
	snprintf(path, sizeof(path), "%s/%s", j->o->state_dir, LAST_MANIFEST);
	if (fleet_read_file(path, FLEET_MANIFEST_MAX, &last, &lastlen, why,
	    sizeof(why)) == 0 && fleet_manifest_parse((char *)last, lastlen,
	    &j->prev, why, sizeof(why)) == 0)
		j->have_prev = 1;
	free(last);
	j->same_as_prev = j->have_prev && j->prev.generation == m->generation &&
	    memcmp(j->prev.sha256, m->sha256, 32) == 0;
	return 0;
}

/* Ship the data section only when the file rebuilds from it byte for
 * byte here (cdbdata.h); else the whole file. */
static void
choose_encoding(struct job *j)
{
	struct fleet_manifest *m = &j->r->m;
	unsigned char *pay = NULL, *copy = NULL, *rb = NULL;
	size_t paylen = 0, rblen = 0;
	char why[256];

	m->encoding = FLEET_ENC_FILE;
	j->payload = j->snap;
	j->paylen = j->snaplen;
	if (cdbdata_payload(j->snap, j->snaplen, &pay, &paylen) == 0 &&
	    (copy = malloc(paylen ? paylen : 1)) != NULL) {
		memcpy(copy, pay, paylen);
		if (cdbdata_file(copy, paylen, &rb, &rblen, why, sizeof(why)) == 0 &&
		    rblen == j->snaplen && memcmp(rb, j->snap, j->snaplen) == 0) {
			m->encoding = FLEET_ENC_CDB_DATA;
			j->payload = j->owned = pay;
			j->paylen = paylen;
			pay = NULL;
		}
	}
	free(pay);
	free(copy);
	free(rb);
	m->payload_size = j->paylen;
}

/* The full payload, compressed; not uploaded again when the last publish
 * already did (a re-signed manifest of the same generation). */
static int
upload_snapshot(struct job *j)
{
	struct fleet_manifest *m = &j->r->m;
	size_t zlen = 0;
	void *z = NULL;
	int rc = 0;

	if (j->same_as_prev) {
		m->compressed_size = j->prev.compressed_size;
		return 0;
	}
	if (fleet_compress(NULL, 0, j->payload, j->paylen, &z, &zlen, j->err,
	    j->errlen) != 0)
		return -1;
	m->compressed_size = zlen;
	rc = fleet_dest_put(j->o->dest, m->name, z, zlen, j->err, j->errlen);
	if (rc == 0)
		j->r->uploaded_bytes += zlen;
	free(z);
	return rc;
}

/* The delta from the base snapshot of generation gen, when it is smaller
 * than the full download.  0 (made, uploaded or not worth it), or -1 when
 * an upload failed. */
static int
upload_delta(struct job *j, uint64_t gen)
{
	struct fleet_manifest *m = &j->r->m;
	struct fleet_delta *d = &m->deltas[m->ndeltas];
	unsigned char *base = NULL, *stripped = NULL;
	const unsigned char *bpay;
	size_t blen, dlen, bpaylen;
	char path[4096], why[256];
	void *dz = NULL;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/base-%" PRIu64 ".cdb", j->o->state_dir,
	    gen);
	if (fleet_read_file(path, FLEET_SNAPSHOT_MAX, &base, &blen, why,
	    sizeof(why)) != 0)
		return 0;               /* a lost base costs a delta only */
	bpay = base;
	bpaylen = blen;
	if (m->encoding == FLEET_ENC_CDB_DATA) {
		if (cdbdata_payload(base, blen, &stripped, &bpaylen) != 0)
			goto out;
		bpay = stripped;
	}
	if (fleet_compress(bpay, bpaylen, j->payload, j->paylen, &dz, &dlen, why,
	    sizeof(why)) != 0 || dlen >= m->compressed_size)
		goto out;
	d->from = gen;
	fleet_sha256(base, blen, d->base_sha256);
	snprintf(d->name, sizeof(d->name), "delta-%" PRIu64 "-%" PRIu64 ".zst",
	    gen, m->generation);
	d->compressed_size = dlen;
	rc = fleet_dest_put(j->o->dest, d->name, dz, dlen, j->err, j->errlen);
	if (rc == 0) {
		j->r->uploaded_bytes += dlen;
		m->ndeltas++;
	}
out:
	free(dz);
	free(stripped);
	free(base);
	return rc;
}

/* Deltas from the kept bases, newest first; the last publish's own when
 * it was of this same generation. */
static int
upload_deltas(struct job *j)
{
	struct fleet_manifest *m = &j->r->m;
	uint64_t bases[FLEET_DELTAS_MAX];
	size_t nb;

	if (j->same_as_prev) {
		m->ndeltas = j->prev.ndeltas;
		memcpy(m->deltas, j->prev.deltas, sizeof(m->deltas));
		return 0;
	}
	nb = list_bases(j->o->state_dir, bases, j->o->keep_deltas <
	    FLEET_DELTAS_MAX ? j->o->keep_deltas : FLEET_DELTAS_MAX);
	for (size_t i = 0; i < nb; i++)
		if (bases[i] < m->generation && upload_delta(j, bases[i]) != 0)
			return -1;
	return 0;
}

/* The signature line and the JSON, in one file, last.  *json: the JSON
 * (malloc'd) for the state directory. */
static int
upload_manifest(struct job *j, char **json, size_t *jlen)
{
	char sig[FLEET_SIG_LINE_MAX], *doc;
	size_t siglen;
	int rc;

	*json = fleet_manifest_write(&j->r->m, jlen);
	if (*json == NULL) {
		snprintf(j->err, j->errlen, "cannot write the manifest");
		return -1;
	}
	if (fleet_sign(j->o->key, (unsigned char *)*json, *jlen, sig, sizeof(sig),
	    j->err, j->errlen) != 0)
		return -1;
	siglen = strlen(sig);
	doc = xmalloc(siglen + *jlen + 1);
	memcpy(doc, sig, siglen);
	memcpy(doc + siglen, *json, *jlen);
	j->r->manifest_bytes = siglen + *jlen;
	rc = fleet_dest_put(j->o->dest, FLEET_MANIFEST_NAME, doc,
	    j->r->manifest_bytes, j->err, j->errlen);
	if (rc == 0)
		j->r->uploaded_bytes += j->r->manifest_bytes;
	free(doc);
	return rc;
}

int
fleet_publish(const struct fleet_publish_opts *o,
    struct fleet_publish_result *r, char *err, size_t errlen)
{
	struct job j;
	char *json = NULL, name[64];
	size_t jlen = 0;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	memset(&j, 0, sizeof(j));
	j.o = o;
	j.r = r;
	j.err = err;
	j.errlen = errlen;
	if (mkdir(o->state_dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", o->state_dir,
		    strerror(errno));
		return -1;
	}
	if (read_snapshot(&j) != 0)
		goto out;
	if (j.same_as_prev) {
		/* Re-signing what was uploaded: its payloads are there, and
		 * rebuilding the file to choose an encoding again is wasted. */
		r->m.encoding = j.prev.encoding;
		r->m.payload_size = j.prev.payload_size;
	} else
		choose_encoding(&j);
	if (upload_snapshot(&j) != 0 || upload_deltas(&j) != 0 ||
	    upload_manifest(&j, &json, &jlen) != 0)
		goto out;
	/* Uploaded: keep this snapshot as a base, and tidy up. */
	snprintf(name, sizeof(name), "base-%" PRIu64 ".cdb", r->m.generation);
	if (o->keep_deltas > 0 &&
	    fleet_write_file(o->state_dir, name, j.snap, j.snaplen, 0600, err,
	    errlen) != 0)
		goto out;
	prune_bases(o->state_dir, o->keep_deltas);
	if (fleet_write_file(o->state_dir, LAST_MANIFEST, json, jlen, 0600, err,
	    errlen) != 0)
		goto out;
	clean_destination(o, &r->m, j.have_prev ? &j.prev : NULL);
	rc = 0;
out:
	free(json);
	free(j.owned);
	free(j.snap);
	return rc;
}
