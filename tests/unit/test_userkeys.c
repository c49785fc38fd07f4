/* test_userkeys.c - an Okta profile attribute -> a user's checked SSH keys
 * and the reasons for those refused (syncd/engine/userkeys.h). */
#include <json-c/json.h>
#include <string.h>

#include "testlib.h"
#include "snapshot.h"
#include "userkeys.h"

#define K1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEW3hzemQQnZcWzh+Pp/pogCEywpVVS7vn4B2wuCW3YU"
#define K2 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKfLe6DKBO5y7/b5k5KUugyZ9Y7y6eBNsw64rHNlk58D"

static void
conf(struct config *c, int allow_options)
{
	memset(c, 0, sizeof(*c));
	c->ssh_keys_attribute = "sshPublicKey";
	c->ssh_keys_allow_options = allow_options;
}

/* Map {"sshPublicKey": <value>} (value: JSON text) into k. */
static int
map(const char *value, int allow_options, struct userkeys *k)
{
	struct config c;
	char *json;
	json_object *o;

	conf(&c, allow_options);
	json = malloc(strlen(value) + 32);
	if (json == NULL)
		return -1;
	sprintf(json, "{\"sshPublicKey\": %s}", value);
	o = json_tokener_parse(json);
	free(json);
	if (o == NULL)
		return -1;
	userkeys_map(&c, o, k);
	json_object_put(o);
	return 0;
}

TEST(array_and_string_forms)
{
	struct userkeys k;

	ASSERT(map("[\"" K1 " a@b\", \"  " K2 "  \"]", 0, &k) == 0);
	ASSERT_STR_EQ(k.lines, K1 " a@b\n" K2 "\n");
	ASSERT_INT_EQ(k.nkeys, 2);
	ASSERT_INT_EQ(k.nrejects, 0);
	userkeys_free(&k);
	ASSERT(map("\"" K1 "\\n\\n# a comment\\n" K2 "\\n\"", 0, &k) == 0);
	ASSERT_STR_EQ(k.lines, K1 "\n" K2 "\n");
	ASSERT_INT_EQ(k.nrejects, 0);
	userkeys_free(&k);
}

TEST(cr_and_lf_refuse_the_line_they_are_in)
{
	struct userkeys k;

	/* A CRLF string: the CR stays in its line, which is refused. */
	ASSERT(map("\"" K1 "\\r\\n" K2 "\"", 0, &k) == 0);
	ASSERT_STR_EQ(k.lines, K2 "\n");
	ASSERT_INT_EQ(k.nrejects, 1);
	ASSERT(strncmp(k.rejects[0], "SSH key on line 1 of sshPublicKey "
	    "(ssh-ed25519): ", 48) == 0);
	userkeys_free(&k);
	/* An array item holding a newline is one bad key, never two. */
	ASSERT(map("[\"" K1 "\\n" K2 "\"]", 0, &k) == 0);
	ASSERT(k.lines == NULL);
	ASSERT_INT_EQ(k.nkeys, 0);
	ASSERT_INT_EQ(k.nrejects, 1);
	ASSERT(strstr(k.rejects[0], "SSH key 1 of sshPublicKey (ssh-ed25519)") != NULL);
	userkeys_free(&k);
}

TEST(rejections_never_quote_the_line)
{
	struct userkeys k;

	ASSERT(map("[\"\\u001b[31mevil " K1 "\", \"command=\\\"rm -rf\\\" " K2 "\","
	    " \"\\u001b]0;pwned\\u0007 AAAA\"]", 0, &k) == 0);
	ASSERT_INT_EQ(k.nrejects, 3);
	ASSERT(strstr(k.rejects[0], "SSH key 1 of sshPublicKey (ssh-ed25519): ") != NULL);
	ASSERT(strchr(k.rejects[0], '\033') == NULL);
	ASSERT(strstr(k.rejects[0], "evil") == NULL);
	ASSERT(strstr(k.rejects[1], "rm -rf") == NULL);
	ASSERT(strstr(k.rejects[1], "SSH key 2 of sshPublicKey (ssh-ed25519): ") != NULL);
	ASSERT(strstr(k.rejects[2], "SSH key 3 of sshPublicKey (type not recognised): ") != NULL);
	ASSERT(strstr(k.rejects[2], "pwned") == NULL);
	userkeys_free(&k);
}

TEST(options_only_when_allowed)
{
	struct userkeys k;

	ASSERT(map("[\"from=\\\"10.0.0.0/8\\\" " K1 "\"]", 0, &k) == 0);
	ASSERT_INT_EQ(k.nkeys, 0);
	ASSERT_INT_EQ(k.nrejects, 1);
	userkeys_free(&k);
	ASSERT(map("[\"from=\\\"10.0.0.0/8\\\" " K1 "\", \"command=\\\"x\\\" " K2 "\"]",
	    1, &k) == 0);
	ASSERT_STR_EQ(k.lines, "from=\"10.0.0.0/8\" " K1 "\n");
	ASSERT_INT_EQ(k.nrejects, 1);
	userkeys_free(&k);
}

TEST(duplicates_kept_once_options_make_another_key)
{
	struct userkeys k;

	ASSERT(map("[\"" K1 " one\", \"" K1 " two\", \"" K1 "\"]", 0, &k) == 0);
	ASSERT_STR_EQ(k.lines, K1 " one\n");
	ASSERT_INT_EQ(k.nrejects, 0);
	userkeys_free(&k);
	ASSERT(map("[\"" K1 "\", \"no-pty " K1 "\"]", 1, &k) == 0);
	ASSERT_INT_EQ(k.nkeys, 2);
	userkeys_free(&k);
}

TEST(other_json_types)
{
	struct userkeys k;

	ASSERT(map("null", 0, &k) == 0);
	ASSERT_INT_EQ(k.nkeys + k.nrejects, 0);
	userkeys_free(&k);
	ASSERT(map("1.5", 0, &k) == 0);
	ASSERT_INT_EQ(k.nrejects, 1);
	ASSERT(strstr(k.rejects[0], "(it is a JSON number)") != NULL);
	userkeys_free(&k);
	ASSERT(map("[\"" K1 "\", {}]", 0, &k) == 0);
	ASSERT_INT_EQ(k.nkeys, 0);
	ASSERT_INT_EQ(k.nrejects, 1);
	ASSERT(strstr(k.rejects[0], "item 2 is not a string") != NULL);
	userkeys_free(&k);
}

TEST(at_most_snap_keys_max_and_bounded_reasons)
{
	struct userkeys k;
	char *v, *p;
	int i;

	/* SNAP_KEYS_MAX + 8 keys: the same key with distinct options. */
	v = malloc(200 * (SNAP_KEYS_MAX + 8) + 8);
	ASSERT(v != NULL);
	p = v + sprintf(v, "[");
	for (i = 0; i < SNAP_KEYS_MAX + 8; i++)
		p += sprintf(p, "%s\"expiry-time=\\\"2%03d0101\\\" " K1 "\"",
		    i ? "," : "", i);
	sprintf(p, "]");
	ASSERT(map(v, 1, &k) == 0);
	ASSERT_INT_EQ(k.nkeys, SNAP_KEYS_MAX);
	ASSERT_INT_EQ(k.nrejects, 1);
	ASSERT(strstr(k.rejects[0], "more than 32 SSH keys: 8 more not taken") != NULL);
	userkeys_free(&k);
	/* Many bad keys: USERKEYS_REJECTS_MAX sentences, the last a count. */
	p = v + sprintf(v, "[");
	for (i = 0; i < 40; i++)
		p += sprintf(p, "%s\"nonsense %d\"", i ? "," : "", i);
	sprintf(p, "]");
	ASSERT(map(v, 0, &k) == 0);
	free(v);
	ASSERT_INT_EQ(k.nrejects, USERKEYS_REJECTS_MAX);
	ASSERT(strstr(k.rejects[USERKEYS_REJECTS_MAX - 1], "25 more SSH keys of "
	    "sshPublicKey rejected") != NULL);
	userkeys_free(&k);
}

TEST(describe_and_diff)
{
	char b[256];

	ASSERT_STR_EQ(userkeys_describe("", b, sizeof(b)), "0 keys");
	ASSERT_STR_EQ(userkeys_describe(NULL, b, sizeof(b)), "0 keys");
	ASSERT_STR_EQ(userkeys_describe(K1 "\n", b, sizeof(b)), "1 key: ssh-ed25519");
	ASSERT_STR_EQ(userkeys_describe("no-pty " K1 "\n" K2 " c\n", b, sizeof(b)),
	    "2 keys: ssh-ed25519, ssh-ed25519");
	ASSERT_STR_EQ(userkeys_diff("", K1 "\n", b, sizeof(b)),
	    "0 -> 1 (added ssh-ed25519)");
	ASSERT_STR_EQ(userkeys_diff(K1 "\n" K2 "\n", K2 "\n", b, sizeof(b)),
	    "2 -> 1 (removed ssh-ed25519)");
	ASSERT_STR_EQ(userkeys_diff(K1 "\n", K2 "\n", b, sizeof(b)),
	    "1 -> 1 (added ssh-ed25519; removed ssh-ed25519)");
	/* A line that is a prefix of another is not that line. */
	ASSERT_STR_EQ(userkeys_diff(K1 " ab\n", K1 " a\n", b, sizeof(b)),
	    "1 -> 1 (added ssh-ed25519; removed ssh-ed25519)");
	ASSERT_INT_EQ(userkeys_count(K1 "\n" K2 "\n"), 2);
}

TEST(no_attribute_configured)
{
	struct config c;
	struct userkeys k;
	json_object *o = json_tokener_parse("{\"sshPublicKey\": [\"" K1 "\"]}");

	ASSERT(o != NULL);
	conf(&c, 0);
	c.ssh_keys_attribute = NULL;
	userkeys_map(&c, o, &k);
	json_object_put(o);
	ASSERT(k.lines == NULL);
	ASSERT_INT_EQ(k.nrejects, 0);
}

int
main(void)
{
	RUN(array_and_string_forms);
	RUN(cr_and_lf_refuse_the_line_they_are_in);
	RUN(rejections_never_quote_the_line);
	RUN(options_only_when_allowed);
	RUN(duplicates_kept_once_options_make_another_key);
	RUN(other_json_types);
	RUN(at_most_snap_keys_max_and_bounded_reasons);
	RUN(describe_and_diff);
	RUN(no_attribute_configured);
	return test_done();
}
