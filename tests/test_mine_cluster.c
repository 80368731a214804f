/*
 * test_mine_cluster.c - DP-means on hand-built vectors: services found as
 * clusters numbered by first member, groups never mixed, the threshold
 * respected, the same partition for any number of threads and any hash
 * seed, and centroid matching for background flows.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "mine/mine_int.h"

TestSuite(mine_cluster, .timeout = 60);

static struct sx_mine_arena arena;

static void setup(void)
{
	sx_mine__arena_init(&arena);
}

static void teardown(void)
{
	sx_mine__arena_fini(&arena);
}

/*
 * A vector for "service s, variant v": five tokens shared by the service
 * (weight 2), and two variant tokens (weight 1): close to the service's
 * other variants (cosine about 0.9), far from other services (0).
 */
static void service_vec(unsigned s, unsigned v, uint64_t seed, struct sx_mine_vec *out)
{
	char text[7][32];
	const char *toks[7];
	unsigned fam[7];
	double w[7];
	unsigned i;

	for (i = 0; i < 5; i++) {
		snprintf(text[i], sizeof(text[i]), "svc%u.k%u", s, i);
		w[i] = 2.0;
	}
	snprintf(text[5], sizeof(text[5]), "svc%u.var%u", s, v);
	snprintf(text[6], sizeof(text[6]), "svc%u.len%u", s, v % 7);
	w[5] = w[6] = 1.0;
	for (i = 0; i < 7; i++) {
		toks[i] = text[i];
		fam[i] = SX_FAM_APP;
	}
	cr_assert_eq(sx_mine__vec_from_tokens(toks, fam, w, 7, seed, 32, out, &arena), 0);
}

Test(mine_cluster, services_become_clusters_in_first_member_order, .init = setup, .fini = teardown)
{
	/* occurrences of three services, interleaved, service 2 first */
	static const unsigned svc[] = {2, 0, 1, 2, 1, 0, 0, 2, 1, 1, 2, 0};
	struct sx_mine_vec v[12];
	const struct sx_mine_vec *vp[12];
	uint32_t group[12], assign[12], i;
	long k;

	for (i = 0; i < 12; i++) {
		service_vec(svc[i], i, 5, &v[i]);
		vp[i] = &v[i];
		group[i] = 6;
	}
	k = sx_mine__cluster(vp, group, 12, 0.6, 1, assign);
	cr_assert_eq(k, 3);
	for (i = 0; i < 12; i++) {
		/* service 2 came first (cluster 0), then 0, then 1 */
		uint32_t want = svc[i] == 2 ? 0 : svc[i] == 0 ? 1 : 2;

		cr_assert_eq(assign[i], want, "vector %u: cluster %u, want %u", i, assign[i], want);
	}
}

Test(mine_cluster, groups_never_share_a_cluster, .init = setup, .fini = teardown)
{
	struct sx_mine_vec v[4];
	const struct sx_mine_vec *vp[4];
	uint32_t group[4] = {6, 17, 6, 17}, assign[4], i;

	for (i = 0; i < 4; i++) {
		service_vec(0, 1, 5, &v[i]); /* identical vectors */
		vp[i] = &v[i];
	}
	cr_assert_eq(sx_mine__cluster(vp, group, 4, 0.6, 1, assign), 2);
	cr_assert_eq(assign[0], 0);
	cr_assert_eq(assign[1], 1);
	cr_assert_eq(assign[2], 0);
	cr_assert_eq(assign[3], 1);
}

Test(mine_cluster, threshold_decides, .init = setup, .fini = teardown)
{
	const char *a[] = {"x", "y", "z"}, *b[] = {"x", "y", "w"};
	unsigned fam[] = {SX_FAM_APP, SX_FAM_APP, SX_FAM_APP};
	double w[] = {1, 1, 1};
	struct sx_mine_vec va, vb;
	const struct sx_mine_vec *vp[2] = {&va, &vb};
	uint32_t group[2] = {1, 1}, assign[2];
	double c;

	cr_assert_eq(sx_mine__vec_from_tokens(a, fam, w, 3, 9, 32, &va, &arena), 0);
	cr_assert_eq(sx_mine__vec_from_tokens(b, fam, w, 3, 9, 32, &vb, &arena), 0);
	c = sx_mine__cosine(&va, &vb);
	cr_assert(c > 0.6 && c < 0.7, "cosine %f", c);
	cr_assert_eq(sx_mine__cluster(vp, group, 2, 0.5, 1, assign), 1);
	cr_assert_eq(sx_mine__cluster(vp, group, 2, 0.8, 1, assign), 2);
}

Test(mine_cluster, empty_input, .init = setup, .fini = teardown)
{
	cr_assert_eq(sx_mine__cluster(NULL, NULL, 0, 0.6, 4, NULL), 0);
}

/* 600 vectors of 40 services, enough for the threaded passes. */
static void many(uint64_t seed, uint32_t *assign, long *k)
{
	static struct sx_mine_vec v[600];
	static const struct sx_mine_vec *vp[600];
	static uint32_t group[600];
	uint32_t i;

	for (i = 0; i < 600; i++) {
		service_vec((i * 7) % 40, i, seed, &v[i]);
		vp[i] = &v[i];
		group[i] = i % 2;
	}
	*k = sx_mine__cluster(vp, group, 600, 0.6, (unsigned)(seed % 4) + 1, assign);
}

Test(mine_cluster, same_partition_for_any_threads_and_seed, .init = setup, .fini = teardown)
{
	static uint32_t a0[600], a1[600];
	uint64_t seeds[] = {0, 1, 2, 3, 77777};
	long k0, k1;
	size_t i;

	many(seeds[0], a0, &k0);
	/* 40 services, each split by the two groups: services of one residue
	 * class of i * 7 mod 40 meet only one group or both */
	cr_assert(k0 >= 40 && k0 <= 80, "k = %ld", k0);
	for (i = 1; i < SX_ARRAY_SIZE(seeds); i++) {
		many(seeds[i], a1, &k1);
		cr_assert_eq(k1, k0);
		cr_assert_eq(memcmp(a0, a1, sizeof(a0)), 0, "seed %zu", i);
	}
}

Test(mine_cluster, centroids_match_other_vectors, .init = setup, .fini = teardown)
{
	struct sx_mine_vec v[6], q;
	const struct sx_mine_vec *vp[6];
	uint32_t group[6], assign[6], i;
	struct sx_mine_centroids *c;
	bool allowed[2];
	double s;
	long k;

	for (i = 0; i < 6; i++) {
		service_vec(i % 2, i, 11, &v[i]);
		vp[i] = &v[i];
		group[i] = 17;
	}
	k = sx_mine__cluster(vp, group, 6, 0.6, 1, assign);
	cr_assert_eq(k, 2);
	cr_assert_eq(sx_mine__centroids_new(vp, group, assign, 6, 2, &c), 0);
	service_vec(1, 99, 11, &q);
	cr_assert_eq(sx_mine__centroids_best(c, &q, 17, NULL, 0.6, &s), 1);
	cr_assert(s > 0.8, "%f", s);
	/* another group: no match; a cluster left out: no match */
	cr_assert_eq(sx_mine__centroids_best(c, &q, 6, NULL, 0.6, NULL), -1);
	allowed[0] = true;
	allowed[1] = false;
	cr_assert_eq(sx_mine__centroids_best(c, &q, 17, allowed, 0.6, NULL), -1);
	service_vec(5, 1, 11, &q);
	cr_assert_eq(sx_mine__centroids_best(c, &q, 17, NULL, 0.6, NULL), -1);
	sx_mine__centroids_free(c);
}

/* Equal vectors (a device's flows repeat exactly) share one search in a
 * matching pass: they land in one cluster, never across groups, and the
 * partition is the same for any number of threads. */
Test(mine_cluster, equal_vectors_share_a_cluster_within_their_group, .init = setup,
     .fini = teardown)
{
	enum { N = 300 };
	static struct sx_mine_vec v[N];
	static const struct sx_mine_vec *vp[N];
	static uint32_t group[N], a1[N], a2[N];
	long k1, k2;
	uint32_t i, j;

	for (i = 0; i < N; i++) {
		/* five services, three variants each, in both groups: every
		 * vector has many equals (separate copies), half of them in the
		 * other group */
		service_vec(i % 5, (i / 5) % 3, 9, &v[i]);
		vp[i] = &v[i];
		group[i] = (i / 15) % 2 ? 7 : 6;
	}
	k1 = sx_mine__cluster(vp, group, N, 0.6, 1, a1);
	k2 = sx_mine__cluster(vp, group, N, 0.6, 2, a2);
	cr_assert_eq(k1, 10, "%ld clusters: five services in two groups", k1);
	cr_assert_eq(k2, k1);
	cr_assert_arr_eq(a1, a2, sizeof(a1));
	for (i = 0; i < N; i++)
		for (j = i + 1; j < N; j++) {
			bool equal = i % 5 == j % 5 && (i / 5) % 3 == (j / 5) % 3;

			if (equal && group[i] == group[j])
				cr_assert_eq(a1[i], a1[j], "equal vectors %u and %u apart", i, j);
			if (group[i] != group[j])
				cr_assert_neq(a1[i], a1[j],
					      "vectors %u and %u share a cluster "
					      "across groups",
					      i, j);
		}
}
