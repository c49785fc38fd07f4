/*
 * fuzz_page.c - libFuzzer target for one Okta page, fast: the page parser
 * (okta_ingest_page_why) and the per-entry mapping (map.c) that turns each
 * user or group object into the row sync.c stages, without SQLite, so
 * that it runs thousands of times a second.  fuzz_ingest.c runs the same
 * bytes through the whole sync, slowly.
 *
 * Input: byte 0: bits 0-1 pick a config of configs.h, bits 2-3 the
 * listing (0 users, 1 groups, 2 a group's members: each member's id, and
 * the member mapped as a user, as an incremental members_only sync
 * does); the rest is the page body.  Seeds: tests/fuzz/corpus_page, made
 * by tests/fuzz/make_seeds.py from the recorded Okta traffic.
 *
 * The oracle, besides the sanitizers: the listings' own parse,
 * okta_stream_page_why, accepts and counts exactly as okta_ingest_page_why;
 * an accepted entry holds only what the snapshot may hold (names_check()
 * passes, an absolute normalised home, an allowed shell, GECOS without ':'
 * or a newline, an ID attribute inside the range, a well-formed Okta id);
 * a rejected one has a reason.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "configs.h"
#include "map.h"
#include "names.h"
#include "okta.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config *configs[FUZZ_NCONFIGS];
static const struct config *cfg;

static void
fail(const char *what, const char *value)
{
	fprintf(stderr, "fuzz_page: %s: \"%s\"\n", what, value);
	__builtin_trap();
}

static int
shell_allowed(const char *shell)
{
	size_t i;

	for (i = 0; cfg->allowed_shells[i] != NULL; i++)
		if (strcmp(cfg->allowed_shells[i], shell) == 0)
			return 1;
	return 0;
}

static int
user_cb(void *ctx, json_object *item)
{
	struct mapped_user u;
	int r;

	(void)ctx;
	r = map_user(cfg, item, &u);
	if (r < -1 || r > 1)
		fail("map_user returned", "?");
	if (r < 1 && u.reason[0] == '\0')
		fail("rejected without a reason", u.okta_id);
	if (r >= 0 && !names_okta_id_valid(u.okta_id))
		fail("an entry with a bad Okta id", u.okta_id);
	if (r != 1)
		return 0;
	if (names_check(u.name) != NULL)
		fail("accepted a bad user name", u.name);
	if (u.home[0] != '/' || !names_path_normal(u.home))
		fail("accepted a bad home", u.home);
	if (!shell_allowed(u.shell))
		fail("accepted a shell not allowed", u.shell);
	if (!names_field_safe(u.gecos))
		fail("GECOS unsafe in a passwd line", u.gecos);
	if ((unsigned)u.status > OKTA_STATUS_MAX)
		fail("status out of the enum", u.okta_id);
	if (u.uid_attr != -1 && (u.uid_attr < (int64_t)cfg->uid_min ||
	    u.uid_attr > (int64_t)cfg->uid_max || u.uid_attr < 1000))
		fail("a UID attribute outside the range", u.okta_id);
	return 0;
}

static int
group_cb(void *ctx, json_object *item)
{
	struct mapped_group g;
	int r;

	(void)ctx;
	r = map_group(cfg, item, &g);
	if (r < -1 || r > 1)
		fail("map_group returned", "?");
	if (r < 1 && g.reason[0] == '\0')
		fail("rejected without a reason", g.okta_id);
	if (r >= 0 && !names_okta_id_valid(g.okta_id))
		fail("an entry with a bad Okta id", g.okta_id);
	if (r != 1)
		return 0;
	if (names_check(g.name) != NULL)
		fail("accepted a bad group name", g.name);
	if (g.gid_attr != -1 && (g.gid_attr < (int64_t)cfg->gid_min ||
	    g.gid_attr > (int64_t)cfg->gid_max || g.gid_attr < 1000))
		fail("a GID attribute outside the range", g.okta_id);
	return 0;
}

static int
member_cb(void *ctx, json_object *item)
{
	const char *id = map_item_id(item);

	if (id != NULL && names_okta_id_valid(id) && !okta_valid_id(id))
		fail("an id valid for staging but not for a URL", id);
	return user_cb(ctx, item);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_configs_load(configs);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static okta_item_fn fns[4] = { user_cb, group_cb, member_cb, user_cb };
	unsigned long n, n2;
	const char *why;
	char *body;
	okerr rc;

	if (size == 0)
		return 0;
	cfg = configs[data[0] % FUZZ_NCONFIGS];
	/* The body as okta.c holds it: exactly its bytes, then a NUL. */
	if ((body = malloc(size)) == NULL)
		return 0;
	memcpy(body, data + 1, size - 1);
	body[size - 1] = '\0';
	rc = okta_ingest_page_why(body, size - 1, fns[(data[0] >> 2) & 3], NULL,
	    &n, &why);
	if (rc != OK_SUCCESS && rc != OK_ERR_PROTOCOL)
		fail("okta_ingest_page_why", why);
	if (why == NULL || (rc != OK_SUCCESS && why[0] == '\0'))
		fail("an error without a reason", "");
	/* The listings' element-by-element parse accepts exactly the same
	 * pages, with the same number of entries. */
	n2 = 0;
	if (okta_stream_page_why(body, size - 1, NULL, NULL, &n2, NULL) != rc ||
	    (rc == OK_SUCCESS && n2 != n))
		fail("okta_stream_page_why disagrees with okta_ingest_page_why", why);
	free(body);
	return 0;
}
