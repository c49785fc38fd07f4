/* test_map.c - one Okta JSON object -> a Linux entry or a rejection
 * (syncd/engine/map.h). */
#include <json-c/json.h>
#include <string.h>

#include "testlib.h"
#include "map.h"

static char *shells[] = { "/bin/bash", "/bin/sh", "/usr/bin/zsh", NULL };

static void
conf(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->uid_min = c->gid_min = 2000000000u;
	c->uid_max = c->gid_max = 2099999999u;
	c->home = "/home/%u";
	c->default_shell = "/bin/bash";
	c->allowed_shells = shells;
	c->username_source = USERNAME_FROM_LOGIN;
	c->uid_attribute = "uidNumber";
	c->gid_attribute = "gidNumber";
	c->shell_attribute = "loginShell";
	c->primary_group = PRIMARY_GROUP_USER_PRIVATE;
}

static int
user(const struct config *c, const char *json, struct mapped_user *u)
{
	json_object *o = json_tokener_parse(json);
	int r;

	if (o == NULL)
		return -2;
	r = map_user(c, o, u);
	json_object_put(o);
	return r;
}

#define U(extra) "{\"id\":\"00u1\",\"status\":\"ACTIVE\"," \
	"\"lastUpdated\":\"2024-01-01T00:00:00.000Z\",\"profile\":{" extra "}}"

TEST(plain_user)
{
	struct config c;
	struct mapped_user u;

	conf(&c);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"Jane.Doe@Example.com\","
	    "\"firstName\":\"Jane\",\"lastName\":\"Doe\""), &u), 1);
	ASSERT_STR_EQ(u.okta_id, "00u1");
	ASSERT_STR_EQ(u.name, "jane.doe");
	ASSERT_STR_EQ(u.gecos, "Jane Doe");
	ASSERT_STR_EQ(u.home, "/home/jane.doe");
	ASSERT_STR_EQ(u.shell, "/bin/bash");
	ASSERT_INT_EQ(u.status, OKTA_STATUS_ACTIVE);
	ASSERT_INT_EQ(u.uid_attr, -1);
	ASSERT_STR_EQ(u.login, "Jane.Doe@Example.com");
}

TEST(strip_domain)
{
	struct config c;
	struct mapped_user u;

	conf(&c);
	c.strip_domain = "example.com";
	ASSERT_INT_EQ(user(&c, U("\"login\":\"jane@EXAMPLE.com\""), &u), 1);
	ASSERT_STR_EQ(u.name, "jane");
	ASSERT_INT_EQ(user(&c, U("\"login\":\"jane@other.org\""), &u), 0);
	ASSERT(strstr(u.reason, "domain other than example.com") != NULL);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"jane\""), &u), 1);
	ASSERT_STR_EQ(u.name, "jane");
}

TEST(username_attribute)
{
	struct config c;
	struct mapped_user u;

	conf(&c);
	c.username_source = USERNAME_FROM_ATTRIBUTE;
	c.username_attribute = "unixName";
	ASSERT_INT_EQ(user(&c, U("\"login\":\"x@y.z\",\"unixName\":\"JDoe\""), &u), 1);
	ASSERT_STR_EQ(u.name, "jdoe");
	ASSERT_INT_EQ(user(&c, U("\"login\":\"x@y.z\""), &u), 0);
	ASSERT(strstr(u.reason, "missing") != NULL);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"x@y.z\",\"unixName\":\"a@b\""), &u), 0);
}

TEST(rejected_names)
{
	struct config c;
	struct mapped_user u;

	conf(&c);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"root@example.com\""), &u), 0);
	ASSERT(strstr(u.reason, "local account") != NULL);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"col:on@example.com\""), &u), 0);
	ASSERT(strstr(u.reason, "':'") != NULL);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"new\\nline@example.com\""), &u), 0);
	ASSERT(strstr(u.reason, "line break") != NULL);
	ASSERT(strchr(u.reason, '\n') == NULL);	/* escaped in the reason */
	ASSERT_INT_EQ(user(&c, U("\"login\":\"j\\u00fcrgen@example.com\""), &u), 0);
	ASSERT_INT_EQ(user(&c, U("\"firstName\":\"No\""), &u), 0);
	ASSERT_INT_EQ(user(&c, U("\"login\":17"), &u), 0);
	ASSERT_INT_EQ(user(&c, "{\"id\":\"00u/..\",\"profile\":{\"login\":\"a\"}}", &u), -1);
	ASSERT_INT_EQ(user(&c, "{\"profile\":{\"login\":\"a\"}}", &u), -1);
	ASSERT_INT_EQ(user(&c, "{\"id\":\"00u1\"}", &u), 0);
	ASSERT_INT_EQ(user(&c, "[]", &u), -1);
}

TEST(uid_attribute)
{
	struct config c;
	struct mapped_user u;

	conf(&c);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"uidNumber\":2000000500"), &u), 1);
	ASSERT_INT_EQ(u.uid_attr, 2000000500);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"uidNumber\":\"2000000501\""), &u), 1);
	ASSERT_INT_EQ(u.uid_attr, 2000000501);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"uidNumber\":null"), &u), 1);
	ASSERT_INT_EQ(u.uid_attr, -1);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"uidNumber\":0"), &u), 0);
	ASSERT(strstr(u.reason, "is 0") != NULL);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"uidNumber\":-5"), &u), 0);
	ASSERT(strstr(u.reason, "negative") != NULL);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"uidNumber\":100"), &u), 0);
	ASSERT(strstr(u.reason, "system range") != NULL);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"uidNumber\":99999999999"), &u), 0);
	ASSERT(strstr(u.reason, "outside") != NULL);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"uidNumber\":1e30"), &u), 0);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"uidNumber\":99999999999999999999999"), &u), 0);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"uidNumber\":\"12x\""), &u), 0);
	ASSERT(strstr(u.reason, "whole number") != NULL);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"uidNumber\":\"-1\""), &u), 0);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"uidNumber\":2.5"), &u), 0);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"uidNumber\":[1]"), &u), 0);
}

/* An Okta attribute of type "number" arrives as a JSON double. */
TEST(uid_attribute_number_typed)
{
	struct config c;
	struct mapped_user u;

	conf(&c);
	c.uid_min = 1000;
	c.uid_max = 60000;
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"uidNumber\":1500.0"), &u), 1);
	ASSERT_INT_EQ(u.uid_attr, 1500);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"uidNumber\":1500.5"), &u), 0);
	ASSERT(strstr(u.reason, "uid attribute uidNumber (1500.5) is not a whole number") != NULL);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"uidNumber\":1e12"), &u), 0);
	ASSERT(strstr(u.reason, "(1000000000000) is outside the configured range 1000-60000") != NULL);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"uidNumber\":1e300"), &u), 0);
	ASSERT(strstr(u.reason, "is too large") != NULL);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"uidNumber\":999.0"), &u), 0);
	ASSERT(strstr(u.reason, "system range") != NULL);
}

TEST(shell_and_gecos)
{
	struct config c;
	struct mapped_user u;

	conf(&c);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"loginShell\":\"/usr/bin/zsh\""), &u), 1);
	ASSERT_STR_EQ(u.shell, "/usr/bin/zsh");
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"loginShell\":\"/bin/evil\""), &u), 0);
	ASSERT(strstr(u.reason, "not in allowed_shells") != NULL);
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"loginShell\":\"\""), &u), 1);
	ASSERT_STR_EQ(u.shell, "/bin/bash");
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\",\"firstName\":\"Eve:x:0:0\","
	    "\"lastName\":\"Evil\\nroot\""), &u), 1);
	ASSERT_STR_EQ(u.gecos, "Evex00 Evil root");
	c.home = "/home/%u/..";
	ASSERT_INT_EQ(user(&c, U("\"login\":\"a\""), &u), 0);
	ASSERT(strstr(u.reason, "home directory") != NULL);
}

TEST(status_values)
{
	struct config c;
	struct mapped_user u;

	conf(&c);
	ASSERT_INT_EQ(user(&c, "{\"id\":\"00u1\",\"status\":\"DEPROVISIONED\","
	    "\"profile\":{\"login\":\"a\"}}", &u), 1);
	ASSERT_INT_EQ(u.status, OKTA_STATUS_DEPROVISIONED);
	ASSERT_INT_EQ(user(&c, "{\"id\":\"00u1\",\"status\":\"WEIRD\","
	    "\"profile\":{\"login\":\"a\"}}", &u), 1);
	ASSERT_INT_EQ(u.status, OKTA_STATUS_UNKNOWN);
}

TEST(groups)
{
	struct config c;
	struct mapped_group g;
	json_object *o;

	conf(&c);
	o = json_tokener_parse("{\"id\":\"00g1\",\"profile\":{\"name\":"
	    "\"Engineering Team\"},\"lastMembershipUpdated\":\"x\"}");
	ASSERT_INT_EQ(map_group(&c, o, &g), 1);
	json_object_put(o);
	ASSERT_STR_EQ(g.name, "engineering-team");
	ASSERT_STR_EQ(g.okta_name, "Engineering Team");
	ASSERT_INT_EQ(g.gid_attr, -1);
	o = json_tokener_parse("{\"id\":\"00g1\",\"profile\":{\"name\":\"\\u65e5\"}}");
	ASSERT_INT_EQ(map_group(&c, o, &g), 0);
	json_object_put(o);
	o = json_tokener_parse("{\"id\":\"00g1\",\"profile\":{\"name\":\"ok\","
	    "\"gidNumber\":5}}");
	ASSERT_INT_EQ(map_group(&c, o, &g), 0);
	ASSERT(strstr(g.reason, "system range") != NULL);
	json_object_put(o);
}

int
main(void)
{
	RUN(plain_user);
	RUN(strip_domain);
	RUN(username_attribute);
	RUN(rejected_names);
	RUN(uid_attribute);
	RUN(uid_attribute_number_typed);
	RUN(shell_and_gecos);
	RUN(status_values);
	RUN(groups);
	return test_done();
}
