/*
 * cmd_fleet.c - `okta-sync fleet keygen|publish|pull` (issue 12).
 *
 *   keygen    make the publisher's Ed25519 signing key ([fleet]
 *             signing_key, root-only) and print the public key line that
 *             every subscriber's [fleet] public_key needs;
 *   publish   upload the current snapshot now (okta-syncd does it after
 *             each sync on a publisher);
 *   pull      pull once on a subscriber (okta-syncd does it every
 *             poll_interval).
 *
 * publish and pull hold the sync lock, so they never run at the same
 * time as a sync or as okta-syncd's own publish or pull.
 *
 * Exit status: 0 done (pull: installed or unchanged), 1 failed or
 * refused, 2 usage, 75 busy, 78 configuration problem.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "config.h"
#include "error.h"
#include "fleet_run.h"
#include "fleet_sign.h"
#include "lock.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: okta-sync [-c FILE] fleet keygen|publish|pull [--wait]\n\n"
	    "Fleet mode: one host (role = publisher) syncs from Okta and uploads\n"
	    "a signed snapshot; the others (role = subscriber) pull it and never\n"
	    "talk to Okta.\n\n"
	    "  keygen    make the signing key ([fleet] signing_key) and print the\n"
	    "            public key line for the subscribers' [fleet] public_key\n"
	    "  publish   upload the current snapshot now (publisher)\n"
	    "  pull      pull the published snapshot once (subscriber)\n\n"
	    "  --wait    wait for a running sync instead of failing (exit 75)\n\n"
	    "Exit status: 0 done, 1 failed or refused, 2 usage, 75 busy,\n"
	    "78 configuration problem.\n");
}

static int
keygen(const char *config_path)
{
	char pub[FLEET_PUBKEY_LINE_MAX], err[1024];
	struct config *c = config_load_or_report(config_path, 0);

	if (c == NULL)
		return err_exit_code(OK_ERR_CONFIG);
	if (fleet_keygen(c->fleet.signing_key, pub, sizeof(pub), err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "okta-sync: %s\n", err);
		config_free(c);
		return 1;
	}
	fprintf(stderr, "Wrote the signing key %s (keep it on the publisher "
	    "only).\nPut this line in [fleet] public_key on every subscriber:\n",
	    c->fleet.signing_key);
	printf("%s\n", pub);
	config_free(c);
	return 0;
}

static int
need_role(const struct config *c, int role, const char *what)
{
	if (c->fleet.role == role)
		return 0;
	fprintf(stderr, "okta-sync: fleet %s needs [fleet] role = %s in %s\n",
	    what, role == FLEET_PUBLISHER ? "publisher" : "subscriber", c->path);
	return -1;
}

static int
publish(const struct config *c)
{
	struct fleet_publish_result r;
	char err[1024];

	if (fleet_run_publish(c, &r, err, sizeof(err)) != 0) {
		fprintf(stderr, "okta-sync: fleet publish failed: %s\n"
		    "This host's own snapshot is unaffected; the next publish "
		    "uploads everything again.\n", err);
		return 1;
	}
	printf("published generation %" PRIu64 " to %s\n", r.m.generation,
	    c->fleet.destination);
	printf("  snapshot   %" PRIu64 " bytes, %" PRIu64 " compressed (%s)\n",
	    r.m.size, r.m.compressed_size, r.m.name);
	for (size_t i = 0; i < r.m.ndeltas; i++)
		printf("  delta      from generation %" PRIu64 ": %" PRIu64
		    " bytes (%s)\n", r.m.deltas[i].from,
		    r.m.deltas[i].compressed_size, r.m.deltas[i].name);
	printf("  manifest   %zu bytes, signed\n", r.manifest_bytes);
	printf("  uploaded   %zu bytes\n", r.uploaded_bytes);
	return 0;
}

static int
pull(const struct config *c)
{
	struct fleet_sub_state st;
	int outcome = fleet_run_pull(c, &st);

	switch (outcome) {
	case FLEET_PULL_INSTALLED:
		printf("installed generation %" PRIu64 " from %s (%zu bytes "
		    "downloaded%s)\n", st.generation, c->fleet.source,
		    st.last_downloaded, st.last_delta ? ", through a delta" : "");
		return 0;
	case FLEET_PULL_UNCHANGED:
		printf("unchanged: generation %" PRIu64 " is installed (%zu bytes "
		    "downloaded)\n", st.generation, st.last_downloaded);
		return 0;
	default:
		fprintf(stderr, "okta-sync: fleet pull %s: %s\nThe installed "
		    "snapshot keeps serving.\n", fleet_outcome_name(outcome),
		    st.last_error);
		return 1;
	}
}

int
cmd_fleet(int argc, char **argv, const char *config_path)
{
	struct config *c;
	const char *what;
	char err[512];
	int wait = 0, lockfd = -1, rc;
	okerr orc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	what = argv[1];
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--wait") == 0)
			wait = 1;
		else {
			fprintf(stderr, "okta-sync: fleet: unknown argument %s\n",
			    argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (strcmp(what, "keygen") == 0)
		return keygen(config_path);
	if (strcmp(what, "publish") != 0 && strcmp(what, "pull") != 0) {
		fprintf(stderr, "okta-sync: fleet: unknown command %s\n", what);
		usage(stderr);
		return 2;
	}
	if ((c = config_load_or_report(config_path, 1)) == NULL)
		return err_exit_code(OK_ERR_CONFIG);
	if (need_role(c, strcmp(what, "publish") == 0 ? FLEET_PUBLISHER :
	    FLEET_SUBSCRIBER, what) != 0) {
		config_free(c);
		return err_exit_code(OK_ERR_CONFIG);
	}
	orc = sync_lock_acquire(c->cache_dir, wait, &lockfd, err, sizeof(err));
	if (orc != OK_SUCCESS) {
		fprintf(stderr, "okta-sync: %s\n", err);
		config_free(c);
		return err_exit_code(orc);
	}
	rc = strcmp(what, "publish") == 0 ? publish(c) : pull(c);
	sync_lock_release(lockfd);
	config_free(c);
	return rc;
}
