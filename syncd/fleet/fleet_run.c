/*
 * fleet_run.c - fleet mode from the config (see fleet_run.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fleet_dest.h"
#include "fleet_file.h"
#include "fleet_run.h"
#include "fleet_sign.h"
#include "lock.h"
#include "log.h"
#include "paths.h"
#include "xmalloc.h"

#define PUB_STATE_MAX 2048

static void
pub_state_save(const char *dir, const struct fleet_pub_state *st)
{
	char buf[PUB_STATE_MAX], err[256];
	int n;

	n = snprintf(buf, sizeof(buf), "generation=%" PRIu64 "\nlast_publish=%lld\n"
	    "last_ok=%d\nlast_bytes=%zu\nlast_error=%s\n", st->generation,
	    st->last_publish, st->last_ok, st->last_bytes, st->last_error);
	if (n > 0 && (size_t)n < sizeof(buf))
		(void)fleet_write_file(dir, FLEET_PUBLISHER_STATE, buf, (size_t)n,
		    0644, err, sizeof(err));
}

static void
take_pub_state(void *ctx, const char *key, const char *v)
{
	struct fleet_pub_state *st = ctx;

	if (strcmp(key, "generation") == 0)
		st->generation = strtoull(v, NULL, 10);
	else if (strcmp(key, "last_publish") == 0)
		st->last_publish = strtoll(v, NULL, 10);
	else if (strcmp(key, "last_ok") == 0)
		st->last_ok = atoi(v);
	else if (strcmp(key, "last_bytes") == 0)
		st->last_bytes = (size_t)strtoull(v, NULL, 10);
	else if (strcmp(key, "last_error") == 0)
		snprintf(st->last_error, sizeof(st->last_error), "%s", v);
}

int
fleet_pub_state_load(const struct config *c, struct fleet_pub_state *st)
{
	char *dir = config_fleet_state_dir(c);
	int rc;

	memset(st, 0, sizeof(*st));
	rc = fleet_state_read(dir, FLEET_PUBLISHER_STATE, take_pub_state, st);
	free(dir);
	return rc;
}

int
fleet_run_publish(const struct config *c, struct fleet_publish_result *r,
    char *err, size_t errlen)
{
	struct fleet_dest_config dc = { 0 };
	struct fleet_publish_opts o = { 0 };
	struct fleet_pub_state st;
	struct fleet_dest *dest = NULL;
	char *creds = NULL, *dir = config_fleet_state_dir(c), *snap;
	EVP_PKEY *key = NULL;
	int rc = -1;

	snap = xasprintf("%s/%s", c->cache_dir, OKTA_SNAPSHOT_NAME);
	if (fleet_pub_state_load(c, &st) != 0)
		memset(&st, 0, sizeof(st));
	key = fleet_load_signing_key(c->fleet.signing_key, err, errlen);
	if (key == NULL)
		goto out;
	creds = config_read_fleet_credentials(c, err, errlen);
	if (creds == NULL && err[0] != '\0')
		goto out;
	dc.destination = c->fleet.destination;
	dc.ca_file = c->fleet.ca_file != NULL ? c->fleet.ca_file : c->ca_file;
	dc.s3_endpoint = c->fleet.s3_endpoint;
	dc.s3_region = c->fleet.s3_region;
	dc.credentials = creds;
	dest = fleet_dest_open(&dc, err, errlen);
	if (dest == NULL)
		goto out;
	o.snapshot_path = snap;
	o.state_dir = dir;
	o.key = key;
	o.dest = dest;
	o.keep_deltas = c->fleet.keep_deltas;
	o.now = (long long)time(NULL);
	rc = fleet_publish(&o, r, err, errlen);
	if (rc == 0) {
		st.generation = r->m.generation;
		st.last_bytes = r->uploaded_bytes;
	}
out:
	st.last_publish = (long long)time(NULL);
	st.last_ok = rc == 0;
	snprintf(st.last_error, sizeof(st.last_error), "%s", rc == 0 ? "" : err);
	for (char *p = st.last_error; *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		pub_state_save(dir, &st);
	fleet_dest_free(dest);
	if (creds != NULL) {
		explicit_bzero(creds, strlen(creds));
		free(creds);
	}
	EVP_PKEY_free(key);
	free(snap);
	free(dir);
	return rc;
}

int
fleet_after_sync(const struct config *c)
{
	struct fleet_publish_result r;
	char err[1024];
	int lockfd = -1, rc;

	if (c->fleet.role != FLEET_PUBLISHER)
		return 0;
	if (sync_lock_acquire(c->cache_dir, 1, &lockfd, err, sizeof(err)) !=
	    OK_SUCCESS) {
		warn("fleet: not uploaded: %s", err);
		return -1;
	}
	rc = fleet_run_publish(c, &r, err, sizeof(err));
	sync_lock_release(lockfd);
	if (rc != 0) {
		warn("fleet: upload to %s failed: %s; this host's snapshot is "
		    "unaffected, the next sync uploads again", c->fleet.destination,
		    err);
		return -1;
	}
	info("fleet: published generation %llu to %s (%zu bytes uploaded, "
	    "%zu deltas)", (unsigned long long)r.m.generation,
	    c->fleet.destination, r.uploaded_bytes, r.m.ndeltas);
	return 0;
}

/* The subscriber's public keys.  NULL with err set when a line is bad. */
static struct fleet_pubkey *
load_keys(const struct config *c, size_t *n, char *err, size_t errlen)
{
	struct fleet_pubkey *keys = xcalloc(c->fleet.npublic_keys + 1,
	    sizeof(*keys));
	char why[400];

	for (*n = 0; *n < c->fleet.npublic_keys; (*n)++)
		if (fleet_parse_pubkey(c->fleet.public_keys[*n], &keys[*n], why,
		    sizeof(why)) != 0) {
			snprintf(err, errlen, "[fleet] public_key %zu: %s", *n + 1,
			    why);
			free(keys);
			return NULL;
		}
	return keys;
}

int
fleet_run_probe(const struct config *c, struct fleet_probe *pr)
{
	struct fleet_pull_opts o = { 0 };
	struct fleet_pubkey *keys;
	size_t n;

	memset(pr, 0, sizeof(*pr));
	keys = load_keys(c, &n, pr->err, sizeof(pr->err));
	if (keys == NULL)
		return -1;
	o.source = c->fleet.source;
	o.ca_file = c->fleet.ca_file;
	o.keys = keys;
	o.nkeys = n;
	o.now = (long long)time(NULL);
	o.timeout = c->timeout > 0 ? c->timeout : 30;
	fleet_probe(&o, pr);
	free(keys);
	return 0;
}

int
fleet_run_pull(const struct config *c, struct fleet_sub_state *st)
{
	struct fleet_pubkey *keys;
	struct fleet_pull_opts o = { 0 };
	char *dir = config_fleet_state_dir(c), *snap, err[512];
	size_t n = 0;
	int rc;

	snap = xasprintf("%s/%s", c->cache_dir, OKTA_SNAPSHOT_NAME);
	keys = load_keys(c, &n, err, sizeof(err));
	if (keys == NULL) {
		memset(st, 0, sizeof(*st));
		fleet_state_load(dir, st);
		st->last_pull = (long long)time(NULL);
		st->last_outcome = FLEET_PULL_REFUSED;
		snprintf(st->last_error, sizeof(st->last_error), "%s", err);
		free(snap);
		free(dir);
		return FLEET_PULL_REFUSED;
	}
	o.source = c->fleet.source;
	o.ca_file = c->fleet.ca_file;
	o.keys = keys;
	o.nkeys = n;
	o.max_age = c->fleet.max_age;
	o.snapshot_path = snap;
	o.state_dir = dir;
	o.now = (long long)time(NULL);
	o.timeout = c->timeout > 0 ? c->timeout * 4 : 120;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		memset(st, 0, sizeof(*st));
		snprintf(st->last_error, sizeof(st->last_error), "cannot create "
		    "%s: %s", dir, strerror(errno));
		st->last_outcome = FLEET_PULL_FAILED;
		rc = FLEET_PULL_FAILED;
	} else
		rc = fleet_pull(&o, st);
	free(keys);
	free(snap);
	free(dir);
	return rc;
}

void
fleet_metrics(FILE *f, const struct config *c)
{
	long long now = (long long)time(NULL);

	if (c->fleet.role == FLEET_PUBLISHER) {
		struct fleet_pub_state p;

		if (fleet_pub_state_load(c, &p) != 0)
			return;
		fprintf(f, "# HELP okta_sync_fleet_last_publish_timestamp_seconds "
		    "When the last upload to [fleet] destination was tried.\n"
		    "# TYPE okta_sync_fleet_last_publish_timestamp_seconds gauge\n"
		    "okta_sync_fleet_last_publish_timestamp_seconds %lld\n",
		    p.last_publish);
		fprintf(f, "# HELP okta_sync_fleet_last_publish_success Whether "
		    "it worked (1) or not (0).\n"
		    "# TYPE okta_sync_fleet_last_publish_success gauge\n"
		    "okta_sync_fleet_last_publish_success %d\n", p.last_ok);
		fprintf(f, "# HELP okta_sync_fleet_generation The generation "
		    "last published to the fleet.\n"
		    "# TYPE okta_sync_fleet_generation gauge\n"
		    "okta_sync_fleet_generation %llu\n",
		    (unsigned long long)p.generation);
	} else if (c->fleet.role == FLEET_SUBSCRIBER) {
		struct fleet_sub_state s;
		char *dir = config_fleet_state_dir(c);
		int rc = fleet_state_load(dir, &s);

		free(dir);
		if (rc != 0)
			return;
		fprintf(f, "# HELP okta_sync_fleet_last_pull_timestamp_seconds "
		    "When the last pull from [fleet] source ran.\n"
		    "# TYPE okta_sync_fleet_last_pull_timestamp_seconds gauge\n"
		    "okta_sync_fleet_last_pull_timestamp_seconds %lld\n",
		    s.last_pull);
		fprintf(f, "# HELP okta_sync_fleet_last_pull_success Whether the "
		    "last pull installed or found nothing new (1), or was "
		    "refused or failed (0).\n"
		    "# TYPE okta_sync_fleet_last_pull_success gauge\n"
		    "okta_sync_fleet_last_pull_success %d\n",
		    s.last_outcome == FLEET_PULL_INSTALLED ||
		    s.last_outcome == FLEET_PULL_UNCHANGED);
		fprintf(f, "# HELP okta_sync_fleet_generation The generation "
		    "installed from the publisher.\n"
		    "# TYPE okta_sync_fleet_generation gauge\n"
		    "okta_sync_fleet_generation %llu\n",
		    (unsigned long long)s.generation);
		fprintf(f, "# HELP okta_sync_fleet_manifest_age_seconds Age of "
		    "the newest manifest accepted (alert above max_age).\n"
		    "# TYPE okta_sync_fleet_manifest_age_seconds gauge\n"
		    "okta_sync_fleet_manifest_age_seconds %lld\n",
		    s.created > 0 ? now - s.created : -1LL);
		fprintf(f, "# HELP okta_sync_fleet_last_pull_bytes Bytes the last "
		    "pull downloaded.\n"
		    "# TYPE okta_sync_fleet_last_pull_bytes gauge\n"
		    "okta_sync_fleet_last_pull_bytes %zu\n", s.last_downloaded);
	}
}
