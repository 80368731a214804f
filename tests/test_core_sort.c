/*
 * test_core_sort.c - the typed merge sort (core/sort.h): every length
 * around the insertion runs and the merge widths, against qsort(3) on the
 * same keys; equal keys keep their order; the caller's scratch is all it
 * uses.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sort.h"

TestSuite(core_sort, .timeout = 30);

struct item {
	uint32_t key;
	uint32_t seq; /* position before sorting */
};

static inline bool item_before(const struct item *x, const struct item *y)
{
	return x->key < y->key;
}

SX_SORT_DEFINE(item_sort, struct item, item_before)

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A reproducible pseudo-random sequence (xorshift32). */
static uint32_t next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void check_length(size_t n, uint32_t range, uint32_t seed)
{
	struct item *a = calloc(n + 1, sizeof(*a)), *want = calloc(n + 1, sizeof(*a));
	struct item *tmp = calloc(n + 1, sizeof(*a));
	size_t i;

	cr_assert(a && want && tmp);
	for (i = 0; i < n; i++) {
		a[i].key = next(&seed) % range;
		a[i].seq = (uint32_t)i;
	}
	memcpy(want, a, n * sizeof(*a));
	/* (key, seq) is total: qsort's order is the stable order by key */
	qsort(want, n, sizeof(*want), item_cmp);
	item_sort(a, n, tmp);
	for (i = 0; i < n; i++)
		cr_assert(a[i].key == want[i].key && a[i].seq == want[i].seq,
			  "n=%zu range=%u: position %zu holds %u/%u, wanted %u/%u", n, range, i,
			  a[i].key, a[i].seq, want[i].key, want[i].seq);
	free(a);
	free(want);
	free(tmp);
}

Test(core_sort, every_length_around_the_runs_and_merges)
{
	size_t n;

	for (n = 0; n <= 140; n++) {
		check_length(n, 1000000, 0x9e3779b9u + (uint32_t)n);
		check_length(n, 3, 7 + (uint32_t)n); /* many equal keys */
	}
	check_length(1000, 1000000, 12345);
	check_length(4099, 50, 777);
}

Test(core_sort, sorted_and_reversed_input)
{
	struct item a[100], tmp[100];
	size_t i;

	for (i = 0; i < 100; i++)
		a[i] = (struct item){.key = (uint32_t)(100 - i), .seq = (uint32_t)i};
	item_sort(a, 100, tmp);
	for (i = 0; i < 100; i++)
		cr_assert_eq(a[i].key, i + 1);
	item_sort(a, 100, tmp);
	for (i = 0; i < 100; i++)
		cr_assert_eq(a[i].key, i + 1, "a sorted array stays as it is");
}
