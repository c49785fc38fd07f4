/*
 * fuzz_ingest.c - libFuzzer target for the page ingest: raw JSON bytes as
 * Okta would answer them, through the real sync (sync_run, dry run) into
 * the staging tables, the validation and the printed plan.
 *
 * Only the network is replaced: this file defines the okta.h client
 * functions sync.c calls (linked first, with --allow-multiple-definition,
 * so that these win over okta.c's, see run.sh), and each listing
 * sync_run asks for is answered from the input with the real page parser,
 * okta_stream_page_why, whose items go to sync.c's own callbacks (user,
 * group and member staging, map.c's mapping).  Everything after it is the
 * product's code on an in-memory cache (a dry run with no cache file).
 *
 * Input: byte 0 picks one of the configs of configs.h; the rest is the
 * answers to the listings of a full sync, in the order sync_run makes
 * them (users, DEPROVISIONED users, groups, then the members of each
 * staged group in okta_id order), separated by "\n@@\n"; a listing may
 * have several pages, separated by "\n@+\n".  A listing the input has no
 * answer for is an empty page.  Seeds: tests/fuzz/corpus_ingest, made by
 * tests/fuzz/make_seeds.py from the recorded Okta traffic.
 *
 * Besides crashes, leaks and undefined behaviour, the oracle: sync_run
 * ends in success or a protocol error (a malformed page), never in a
 * cache or internal error; the plan printed is strict JSON; and every
 * user and group the plan would add has a name that names_check()
 * accepts and an ID inside its range.
 * FUZZ_DEBUG=1 in the environment prints each run's result and plan.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "configs.h"
#include "log.h"
#include "names.h"
#include "okta.h"
#include "sync.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config *configs[FUZZ_NCONFIGS];

/* The listings still to be answered: [cur, end) of the input. */
static const char *cur, *end;
static struct okta_stats stats;
static char last_error[256];
static int dummy_client;

/* ---- the client, answered from the input -------------------------------- */

struct okta_client *
okta_client_new(const struct config *c, const char *token)
{
	(void)c, (void)token;
	return (struct okta_client *)&dummy_client;
}

void okta_client_free(struct okta_client *oc) { (void)oc; }
void okta_set_reserve(struct okta_client *oc, int percent) { (void)oc, (void)percent; }
void okta_set_stop(struct okta_client *oc, volatile sig_atomic_t *stop) { (void)oc, (void)stop; }
const struct okta_stats *okta_stats(const struct okta_client *oc) { (void)oc; return &stats; }
const char *okta_last_error(const struct okta_client *oc) { (void)oc; return last_error; }
long long okta_first_date(const struct okta_client *oc) { (void)oc; return 1700000000; }

void
okta_set_progress(struct okta_client *oc,
    void (*fn)(void *ctx, const char *what, unsigned long items), void *ctx)
{
	(void)oc, (void)fn, (void)ctx;
}

static const char *
find(const char *p, const char *e, const char *sep)
{
	size_t n = strlen(sep);

	for (; (size_t)(e - p) >= n; p++)
		if (memcmp(p, sep, n) == 0)
			return p;
	return NULL;
}

/* One page as the client holds it: a malloc'd copy with a NUL after it
 * (on_body in okta.c), so that ASan sees any read past the body. */
static okerr
one_page(const char *p, size_t len, okta_item_fn fn, void *ctx)
{
	char *body = malloc(len + 1);
	const char *why;
	unsigned long n;
	okerr rc;

	if (body == NULL)
		return OK_ERR_INTERNAL;
	memcpy(body, p, len);
	body[len] = '\0';
	stats.requests++;
	/* As okta.c parses a listing's pages: element by element. */
	rc = okta_stream_page_why(body, len, fn, ctx, &n, &why);
	if (rc != OK_SUCCESS)
		snprintf(last_error, sizeof(last_error), "GET: %s", why);
	free(body);
	return rc;
}

/* The next listing of the input, page by page. */
static okerr
listing(okta_item_fn fn, void *ctx)
{
	const char *e, *p, *q;
	okerr rc;

	if (cur == NULL || cur >= end)
		return one_page("[]", 2, fn, ctx);
	e = find(cur, end, "\n@@\n");
	if (e == NULL)
		e = end;
	for (p = cur;; p = q + 4) {
		q = find(p, e, "\n@+\n");
		rc = one_page(p, (size_t)((q != NULL ? q : e) - p), fn, ctx);
		if (rc != OK_SUCCESS || q == NULL)
			break;
	}
	cur = e < end ? e + 4 : end;
	return rc;
}

okerr
okta_list_users(struct okta_client *oc, const char *filter, okta_item_fn fn,
    void *ctx)
{
	(void)oc, (void)filter;
	return listing(fn, ctx);
}

okerr
okta_list_groups(struct okta_client *oc, const char *filter, okta_item_fn fn,
    void *ctx)
{
	(void)oc, (void)filter;
	return listing(fn, ctx);
}

okerr
okta_list_group_members(struct okta_client *oc, const char *group_id,
    okta_item_fn fn, void *ctx)
{
	(void)oc;
	if (!okta_valid_id(group_id))
		__builtin_trap();	/* sync.c staged a group id unfit for a URL */
	return listing(fn, ctx);
}

okerr
okta_list_user_groups(struct okta_client *oc, const char *user_id,
    okta_item_fn fn, void *ctx)
{
	(void)oc;
	if (!okta_valid_id(user_id))
		__builtin_trap();
	return listing(fn, ctx);
}

/* ---- set-up -------------------------------------------------------------- */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_configs_load(configs);
	log_set_level(LOG_LEVEL_ERROR);
	return 0;
}

/* ---- the oracle ---------------------------------------------------------- */

static void
check_added(json_object *plan, const char *kind, const char *idkey,
    uint32_t min, uint32_t max)
{
	json_object *arr, *e, *v;
	size_t i, n;
	int64_t id;

	if (!json_object_object_get_ex(plan, kind, &arr) ||
	    !json_object_is_type(arr, json_type_object) ||
	    !json_object_object_get_ex(arr, "added", &arr))
		return;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(arr, i);
		if (!json_object_object_get_ex(e, "name", &v) ||
		    names_check(json_object_get_string(v)) != NULL) {
			fprintf(stderr, "plan adds a %s with a bad name: %s\n", kind,
			    json_object_to_json_string(e));
			__builtin_trap();
		}
		if (!json_object_object_get_ex(e, idkey, &v))
			continue;
		id = json_object_get_int64(v);
		if (id < (int64_t)min || id > (int64_t)max || id == 0) {
			fprintf(stderr, "plan adds a %s with %s %lld outside %u-%u: "
			    "%s\n", kind, idkey, (long long)id, min, max,
			    json_object_to_json_string(e));
			__builtin_trap();
		}
	}
}

/* The plan must be JSON to the letter (a consumer may be strict). */
static json_object *
parse_strict(const char *s, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;

	if (tok == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, s, (int)len);
	if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sync_opts opts;
	struct sync_result res;
	const struct config *c;
	json_object *plan;
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;
	okerr rc;

	if (size == 0)
		return 0;
	c = configs[data[0] % FUZZ_NCONFIGS];
	cur = (const char *)data + 1;
	end = (const char *)data + size;
	last_error[0] = '\0';
	if ((f = open_memstream(&out, &outlen)) == NULL)
		return 0;
	memset(&opts, 0, sizeof(opts));
	opts.dry_run = 1;
	opts.full = 1;
	opts.out = f;
	opts.format = PLAN_FORMAT_JSON;
	rc = sync_run(c, &opts, &res);
	fclose(f);
	if (getenv("FUZZ_DEBUG") != NULL)	/* to see what a seed reaches */
		fprintf(stderr, "sync_run: %d %s; users +%lu, %lu rejected; "
		    "groups +%lu, %lu rejected; memberships +%lu\n%s\n", rc,
		    res.message, res.users.added, res.users.rejected,
		    res.groups.added, res.groups.rejected, res.memberships_added,
		    out != NULL ? out : "");
	if (rc != OK_SUCCESS && rc != OK_ERR_PROTOCOL) {
		fprintf(stderr, "sync_run: %s: %s\n", err_sentence(rc), res.message);
		__builtin_trap();
	}
	if (rc == OK_SUCCESS) {
		plan = parse_strict(out, outlen);
		if (plan == NULL) {
			fprintf(stderr, "the JSON plan does not parse:\n%s\n", out);
			__builtin_trap();
		}
		check_added(plan, "users", "uid", c->uid_min, c->uid_max);
		check_added(plan, "groups", "gid", c->gid_min, c->gid_max);
		json_object_put(plan);
	}
	free(out);
	return 0;
}
