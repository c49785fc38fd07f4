/* test_idalloc.c - the UID/GID pool and the derivation rule
 * (syncd/engine/idalloc.h). */
#include <stdint.h>
#include <string.h>

#include "testlib.h"
#include "idalloc.h"

#define MIN 2000000000u
#define MAX 2099999999u

TEST(fnv1a)
{
	/* The published FNV-1a 64 test vectors. */
	ASSERT(idalloc_hash("") == 0xcbf29ce484222325ULL);
	ASSERT(idalloc_hash("a") == 0xaf63dc4c8601ec8cULL);
	ASSERT(idalloc_hash("foobar") == 0x85944171f73967e8ULL);
}

TEST(derive_is_deterministic)
{
	struct idalloc *a = idalloc_new(), *b = idalloc_new();
	uint32_t x, y;

	ASSERT(idalloc_derive(a, "00uabc", ID_KIND_USER, MIN, MAX, &x) == 0);
	ASSERT(idalloc_derive(b, "00uabc", ID_KIND_USER, MIN, MAX, &y) == 0);
	ASSERT_INT_EQ(x, y);
	ASSERT_INT_EQ(x, MIN + idalloc_hash("00uabc") % (MAX - MIN + 1));
	idalloc_free(a);
	idalloc_free(b);
}

TEST(collision_probes_upward_and_wraps)
{
	struct idalloc *a = idalloc_new();
	uint32_t want, got;
	const char *owner = NULL;

	want = 10 + (uint32_t)(idalloc_hash("00ux") % 5);
	idalloc_reserve_local(a, want);
	ASSERT(idalloc_derive(a, "00ux", ID_KIND_USER, 10, 14, &got) == 0);
	ASSERT_INT_EQ(got, want == 14 ? 10 : want + 1);
	ASSERT_INT_EQ(idalloc_owner(a, got, &owner), 2);
	ASSERT_STR_EQ(owner, "00ux");
	ASSERT_INT_EQ(idalloc_owner(a, want, NULL), 1);
	/* Fill the range: then no ID is left. */
	ASSERT(idalloc_derive(a, "00u1", ID_KIND_USER, 10, 14, &got) == 0);
	ASSERT(idalloc_derive(a, "00u2", ID_KIND_USER, 10, 14, &got) == 0);
	ASSERT(idalloc_derive(a, "00u3", ID_KIND_USER, 10, 14, &got) == 0);
	ASSERT(idalloc_derive(a, "00u4", ID_KIND_USER, 10, 14, &got) == -1);
	idalloc_free(a);
}

TEST(claims)
{
	struct idalloc *a = idalloc_new();

	idalloc_reserve_local(a, 1000);
	idalloc_add_existing(a, MIN + 5, "00uold", ID_KIND_USER);
	ASSERT_INT_EQ(idalloc_claim(a, 1000, "00u1", ID_KIND_USER), 1);
	ASSERT_INT_EQ(idalloc_claim(a, MIN + 5, "00u1", ID_KIND_USER), 2);
	ASSERT_INT_EQ(idalloc_claim(a, MIN + 5, "00uold", ID_KIND_USER), 0);
	ASSERT_INT_EQ(idalloc_claim(a, MIN + 6, "00u1", ID_KIND_USER), 0);
	ASSERT_INT_EQ(idalloc_claim(a, MIN + 6, "00u1", ID_KIND_USER), 0);
	ASSERT_INT_EQ(idalloc_claim(a, MIN + 6, "00g1", ID_KIND_GROUP), 2);
	/* A local account that appears later wins over a cached allocation. */
	idalloc_reserve_local(a, MIN + 5);
	ASSERT_INT_EQ(idalloc_claim(a, MIN + 5, "00uold", ID_KIND_USER), 1);
	idalloc_free(a);
}

static void
count_new(void *ctx, uint32_t id, const char *okta_id, enum id_kind kind)
{
	(void)id;
	(void)okta_id;
	(void)kind;
	(*(int *)ctx)++;
}

TEST(many_and_new_list)
{
	struct idalloc *a = idalloc_new();
	char id[32];
	uint32_t got;
	int i, n = 0;

	for (i = 0; i < 50000; i++)
		idalloc_add_existing(a, MIN + (uint32_t)i * 7, "00uexisting", ID_KIND_USER);
	for (i = 0; i < 20000; i++) {
		snprintf(id, sizeof(id), "00u%08d", i);
		ASSERT(idalloc_derive(a, id, ID_KIND_USER, MIN, MAX, &got) == 0);
		ASSERT(got >= MIN && got <= MAX);
	}
	idalloc_each_new(a, count_new, &n);
	ASSERT_INT_EQ(n, 20000);
	idalloc_free(a);
	idalloc_free(NULL);
}

int
main(void)
{
	RUN(fnv1a);
	RUN(derive_is_deterministic);
	RUN(collision_probes_upward_and_wraps);
	RUN(claims);
	RUN(many_and_new_list);
	return test_done();
}
