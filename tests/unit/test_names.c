/* test_names.c - the name, group-name, GECOS, path and escape rules of
 * common/names.h. */
#include "testlib.h"
#include "names.h"

TEST(valid_names)
{
	ASSERT(names_check("jane") == NULL);
	ASSERT(names_check("jane.doe") == NULL);
	ASSERT(names_check("_svc-1") == NULL);
	ASSERT(names_check("a") == NULL);
	ASSERT(names_check("abcdefghijklmnopqrstuvwxyz012345") == NULL);	/* 32 */
}

TEST(invalid_names)
{
	ASSERT_STR_EQ(names_check(NULL), "is empty");
	ASSERT_STR_EQ(names_check(""), "is empty");
	ASSERT_STR_EQ(names_check("-dash"), "starts with '-'");
	ASSERT_STR_EQ(names_check("1234"), "starts with a digit");
	ASSERT_STR_EQ(names_check("Jane"), "has upper-case letters");
	ASSERT_STR_EQ(names_check("jaNe"), "has upper-case letters");
	ASSERT_STR_EQ(names_check("col:on"), "contains ':'");
	ASSERT_STR_EQ(names_check("sla/sh"), "contains '/'");
	ASSERT_STR_EQ(names_check("new\nline"), "contains a line break");
	ASSERT_STR_EQ(names_check("has space"), "contains white space");
	ASSERT_STR_EQ(names_check("j\xc3\xbcrgen"), "contains non-ASCII characters");
	ASSERT_STR_EQ(names_check("a@b"), "contains '@'");
	ASSERT_STR_EQ(names_check("bell\a"), "contains a control character");
	ASSERT_STR_EQ(names_check("abcdefghijklmnopqrstuvwxyz0123456"),
	    "is longer than 32 characters");
	ASSERT(names_check("a$") != NULL);
}

TEST(group_derivation)
{
	char out[NAME_MAX_LEN + 1];

	ASSERT(names_derive_group("Engineering Team", out, sizeof(out)) == NULL);
	ASSERT_STR_EQ(out, "engineering-team");
	ASSERT(names_derive_group("  Ops / SRE!!  ", out, sizeof(out)) == NULL);
	ASSERT_STR_EQ(out, "ops-sre");
	ASSERT(names_derive_group("bad:group", out, sizeof(out)) == NULL);
	ASSERT_STR_EQ(out, "bad-group");
	ASSERT(names_derive_group("bad\ngroup", out, sizeof(out)) == NULL);
	ASSERT_STR_EQ(out, "bad-group");
	ASSERT(names_derive_group("D\xc3\xa9veloppeurs", out, sizeof(out)) == NULL);
	ASSERT_STR_EQ(out, "d-veloppeurs");
	ASSERT(names_derive_group("2024 Interns", out, sizeof(out)) == NULL);
	ASSERT_STR_EQ(out, "g-2024-interns");
	ASSERT(names_derive_group("..hidden..", out, sizeof(out)) == NULL);
	ASSERT_STR_EQ(out, "hidden");
	ASSERT(names_derive_group("\xe6\x97\xa5\xe6\x9c\xac", out, sizeof(out)) != NULL);
	ASSERT(names_derive_group("", out, sizeof(out)) != NULL);
	ASSERT(names_derive_group(NULL, out, sizeof(out)) != NULL);
	ASSERT(names_derive_group("A very long group name that is far too long",
	    out, sizeof(out)) != NULL);
	ASSERT(names_derive_group("abcdefghijklmnopqrstuvwxyz012345", out,
	    sizeof(out)) == NULL);
	/* 31 characters plus the prefix is too long: never truncated. */
	ASSERT(names_derive_group("1bcdefghijklmnopqrstuvwxyz01234", out,
	    sizeof(out)) != NULL);
}

TEST(gecos_sanitised)
{
	char out[GECOS_MAX_LEN + 1];

	names_sanitise_gecos("Jane Doe", out, sizeof(out));
	ASSERT_STR_EQ(out, "Jane Doe");
	names_sanitise_gecos("Eve:x:0:0 Evil\nroot::0:0::/:/bin/sh", out, sizeof(out));
	ASSERT_STR_EQ(out, "Evex00 Evil root00//bin/sh");
	names_sanitise_gecos("  a,b=c \t\r d  ", out, sizeof(out));
	ASSERT_STR_EQ(out, "abc d");
	names_sanitise_gecos("Zo\xc3\xab \xe6\x9d\x8e", out, sizeof(out));
	ASSERT_STR_EQ(out, "Zo\xc3\xab \xe6\x9d\x8e");
	names_sanitise_gecos("bad\xff\xfe utf8", out, sizeof(out));
	ASSERT_STR_EQ(out, "bad utf8");
	names_sanitise_gecos(NULL, out, sizeof(out));
	ASSERT_STR_EQ(out, "");
	{
		char small[6];

		names_sanitise_gecos("\xc3\xa9\xc3\xa9\xc3\xa9", small, sizeof(small));
		ASSERT_STR_EQ(small, "\xc3\xa9\xc3\xa9");	/* cut at a boundary */
	}
}

TEST(paths_and_home)
{
	char out[128];

	ASSERT(names_path_normal("/bin/bash"));
	ASSERT(names_path_normal("/"));
	ASSERT(!names_path_normal("bin/bash"));
	ASSERT(!names_path_normal("/home//x"));
	ASSERT(!names_path_normal("/home/x/"));
	ASSERT(!names_path_normal("/home/../etc"));
	ASSERT(!names_path_normal("/home/./x"));
	ASSERT(!names_path_normal("/home/a:b"));
	ASSERT(!names_path_normal("/home/a\nb"));
	ASSERT(names_expand_home("/home/%u", "jane", out, sizeof(out)) == NULL);
	ASSERT_STR_EQ(out, "/home/jane");
	ASSERT(names_expand_home("/srv/%u/home", "jane", out, sizeof(out)) == NULL);
	ASSERT_STR_EQ(out, "/srv/jane/home");
	ASSERT(names_expand_home("/home/100%%/%u", "jane", out, sizeof(out)) == NULL);
	ASSERT_STR_EQ(out, "/home/100%/jane");
	ASSERT(names_expand_home("/home/%x", "jane", out, sizeof(out)) != NULL);
	ASSERT(names_expand_home("home/%u", "jane", out, sizeof(out)) != NULL);
	ASSERT(names_expand_home("/home/%u/..", "jane", out, sizeof(out)) != NULL);
	ASSERT(names_expand_home("/home/%u", "jane", out, 8) != NULL);
}

TEST(escape)
{
	char out[32];

	ASSERT_STR_EQ(names_escape("plain", out, sizeof(out)), "plain");
	ASSERT_STR_EQ(names_escape("a\nb\"c\\", out, sizeof(out)), "a\\nb\\\"c\\\\");
	ASSERT_STR_EQ(names_escape("\xc3\xbc", out, sizeof(out)), "\\xc3\\xbc");
	ASSERT_STR_EQ(names_escape("0123456789012345678901234567890123456789",
	    out, sizeof(out)), "0123456789012345678901234567...");
	ASSERT(strlen(names_escape("\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n", out,
	    sizeof(out))) < sizeof(out));
}

TEST(okta_ids_and_utf8)
{
	ASSERT(names_okta_id_valid("00u1abcDEF"));
	ASSERT(!names_okta_id_valid(""));
	ASSERT(!names_okta_id_valid(NULL));
	ASSERT(!names_okta_id_valid("00u/../x"));
	ASSERT(!names_okta_id_valid("00u?x=1"));
	ASSERT(names_utf8_valid("Zo\xc3\xab"));
	ASSERT(!names_utf8_valid("\xc3"));
	ASSERT(!names_utf8_valid("\xed\xa0\x80"));	/* a surrogate */
	ASSERT(!names_utf8_valid("\xc0\xaf"));		/* overlong '/' */
}

int
main(void)
{
	RUN(valid_names);
	RUN(invalid_names);
	RUN(group_derivation);
	RUN(gecos_sanitised);
	RUN(paths_and_home);
	RUN(escape);
	RUN(okta_ids_and_utf8);
	return test_done();
}
