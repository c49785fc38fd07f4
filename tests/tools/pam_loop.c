/*
 * pam_loop.c - run the PAM account phase many times in one process, for
 * valgrind (tests/integration/test_pam.py): no leaks, no invalid reads
 * across repeated pam_start/pam_acct_mgmt/pam_end, also from several
 * threads at once (pam_okta keeps no global state).
 *
 *   pam_loop [-t THREADS] CONFDIR SERVICE COUNT USER...
 *
 * CONFDIR holds the service file (read with pam_start_confdir, so that no
 * namespace or pam_wrapper is needed).  The users are taken in turn, COUNT
 * checks in all, shared out among THREADS threads (default 1).  Prints one
 * line per user and result, "USER: N x RESULT", and exits 0 unless a PAM
 * call itself fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <security/pam_appl.h>

#define MAX_USERS 32
#define MAX_THREADS 16
#define MAX_RC 64

struct job {
	pthread_t tid;
	const char *confdir, *service;
	char **users;
	int nusers;
	long first, count, step;
	int counts[MAX_USERS][MAX_RC];
	int failed;
};

/* Answer every message with nothing: the account phase only informs. */
static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	struct pam_response *r;
	int i;

	(void)data;
	for (i = 0; i < n; i++)
		if (msg[i]->msg_style != PAM_ERROR_MSG &&
		    msg[i]->msg_style != PAM_TEXT_INFO)
			return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	*resp = r;
	return PAM_SUCCESS;
}

static void *
worker(void *arg)
{
	struct job *j = arg;
	struct pam_conv pc = { conv, NULL };
	pam_handle_t *pamh;
	long i;
	int u, rc;

	for (i = j->first; i < j->count; i += j->step) {
		u = (int)(i % j->nusers);
		pamh = NULL;
		rc = pam_start_confdir(j->service, j->users[u], &pc, j->confdir,
		    &pamh);
		if (rc != PAM_SUCCESS) {
			fprintf(stderr, "pam_start_confdir: %s\n",
			    pam_strerror(NULL, rc));
			j->failed = 1;
			break;
		}
		rc = pam_acct_mgmt(pamh, 0);
		if (rc >= 0 && rc < MAX_RC)
			j->counts[u][rc]++;
		else
			j->failed = 1;
		if (pam_end(pamh, rc) != PAM_SUCCESS) {
			fprintf(stderr, "pam_end failed\n");
			j->failed = 1;
		}
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	static struct job jobs[MAX_THREADS];
	int nthreads = 1, t, u, rc, sum, ret = 0, opt;
	long count;

	while ((opt = getopt(argc, argv, "t:")) != -1) {
		if (opt != 't')
			goto usage;
		nthreads = atoi(optarg);
		if (nthreads < 1 || nthreads > MAX_THREADS)
			goto usage;
	}
	argc -= optind;
	argv += optind;
	if (argc < 4 || argc - 3 > MAX_USERS)
		goto usage;
	count = strtol(argv[2], NULL, 10);
	for (t = 0; t < nthreads; t++) {
		jobs[t].confdir = argv[0];
		jobs[t].service = argv[1];
		jobs[t].users = argv + 3;
		jobs[t].nusers = argc - 3;
		jobs[t].first = t;
		jobs[t].count = count;
		jobs[t].step = nthreads;
		if (pthread_create(&jobs[t].tid, NULL, worker, &jobs[t]) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			return 1;
		}
	}
	for (t = 0; t < nthreads; t++) {
		pthread_join(jobs[t].tid, NULL);
		ret |= jobs[t].failed;
	}
	for (u = 0; u < argc - 3; u++) {
		for (rc = 0; rc < MAX_RC; rc++) {
			for (sum = 0, t = 0; t < nthreads; t++)
				sum += jobs[t].counts[u][rc];
			if (sum > 0)
				printf("%s: %d x %s\n", argv[3 + u], sum,
				    pam_strerror(NULL, rc));
		}
	}
	return ret;
usage:
	fprintf(stderr, "usage: pam_loop [-t THREADS] CONFDIR SERVICE COUNT USER...\n");
	return 2;
}
