/*
 * test_mine_sort.c - the miner's sorts (SX_MINE_SORT_DEFINE): the order
 * qsort(3) gives, equal elements kept in their order, with the scratch on
 * the stack and from the heap; values already in order left alone;
 * addresses in sx_addr_cmp()'s order.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mine/patterns_int.h"

TestSuite(mine_sort, .timeout = 30);

struct item {
	uint32_t key;
	uint32_t seq; /* its place in the input */
};

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

static inline bool item_before(const struct item *x, const struct item *y)
{
	return x->key < y->key;
}

SX_MINE_SORT_DEFINE(item_sort, struct item, item_before, item_cmp)

static int i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

Test(mine_sort, stable_as_qsort_on_the_stack_and_the_heap)
{
	static const size_t sizes[] = {0, 1, 17, 64, 65, 1000};
	uint64_t x = 7;
	size_t s, i;

	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];
		struct item *a = calloc(n + 1, sizeof(*a)), *b = calloc(n + 1, sizeof(*b));

		cr_assert(a && b);
		for (i = 0; i < n; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			a[i].key = (uint32_t)((x >> 33) % 13); /* many equal keys */
			a[i].seq = (uint32_t)i;
		}
		memcpy(b, a, n * sizeof(*a));
		item_sort(a, n);
		qsort(b, n, sizeof(*b), item_cmp); /* glibc's: a stable merge sort */
		for (i = 0; i < n; i++) {
			cr_assert_eq(a[i].key, b[i].key, "n %zu at %zu", n, i);
			cr_assert_eq(a[i].seq, b[i].seq, "n %zu at %zu: equal keys reordered", n,
				     i);
			if (i)
				cr_assert(a[i - 1].key < a[i].key || a[i - 1].seq < a[i].seq);
		}
		free(a);
		free(b);
	}
}

Test(mine_sort, i64_values_sorted_or_left_in_order)
{
	int64_t v[300], w[300];
	size_t i;

	for (i = 0; i < 300; i++)
		v[i] = (int64_t)((i * 7919) % 300) - 150;
	memcpy(w, v, sizeof(v));
	sx_mine__sort_i64(v, 300);
	qsort(w, 300, sizeof(*w), i64_cmp);
	cr_assert_arr_eq(v, w, sizeof(v));
	sx_mine__sort_i64(v, 300);
	cr_assert_arr_eq(v, w, sizeof(v), "already in order");
	sx_mine__sort_i64(v, 0);
}

static int addr_qcmp(const void *a, const void *b)
{
	return sx_addr_cmp(a, b);
}

/* Addresses in sx_addr_cmp()'s order: family, then the bytes as memcmp()
 * reads them (equal first halves, bytes past 0x7f). */
Test(mine_sort, addresses_as_sx_addr_cmp_orders_them)
{
	struct sx_addr a[200], b[200];
	uint64_t x = 11;
	size_t i, k;

	memset(a, 0, sizeof(a));
	for (i = 0; i < 200; i++) {
		a[i].family = i % 3 ? 6 : 4;
		for (k = 0; k < 16; k++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			/* few byte values, so that long prefixes are equal */
			a[i].b[k] = k < 9 ? (uint8_t)(0x7e + (x >> 62)) : (uint8_t)(x >> 56);
		}
	}
	memcpy(b, a, sizeof(a));
	sx_mine__sort_addrs(a, 200);
	qsort(b, 200, sizeof(*b), addr_qcmp);
	cr_assert_arr_eq(a, b, sizeof(a));
}
