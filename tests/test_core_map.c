/*
 * test_core_map.c - the open-addressing map (core/map.h): insertion and
 * look-up through growth, entries sharing a hash, the load factor, clearing,
 * and a layout that depends only on the insertions.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "core/map.h"

TestSuite(core_map, .timeout = 30);

struct ent {
	uint32_t key;
	uint32_t val;
};

/* The entry for key under hash h, added with val when absent. */
static struct ent *put(struct sx_map *m, uint64_t h, uint32_t key, uint32_t val)
{
	size_t pos = SX_MAP_START;
	struct ent *e;

	cr_assert_eq(sx_map_reserve(m, m->n + 1), 0);
	while ((e = sx_map_next(m, h, &pos)))
		if (e->key == key)
			return e;
	e = sx_map_add(m, h, pos);
	cr_assert_eq(e->val, 0, "entries start zeroed");
	e->key = key;
	e->val = val;
	return e;
}

static struct ent *get(const struct sx_map *m, uint64_t h, uint32_t key)
{
	size_t pos = SX_MAP_START;
	struct ent *e;

	while ((e = sx_map_next(m, h, &pos)))
		if (e->key == key)
			return e;
	return NULL;
}

Test(core_map, finds_every_entry_through_growth)
{
	struct sx_map m;
	uint32_t i;

	sx_map_init(&m, sizeof(struct ent), 16, 50);
	cr_assert_null(get(&m, 7, 7), "an empty map has nothing");
	for (i = 0; i < 10000; i++)
		put(&m, (uint64_t)i * 0x9e3779b97f4a7c15ull, i, i + 1);
	cr_assert_eq(m.n, 10000);
	cr_assert_geq(m.cap * 50, m.n * 100, "at most half full");
	for (i = 0; i < 10000; i++) {
		struct ent *e = get(&m, (uint64_t)i * 0x9e3779b97f4a7c15ull, i);

		cr_assert_not_null(e);
		cr_assert_eq(e->val, i + 1);
	}
	cr_assert_null(get(&m, 3, 10001));
	sx_map_fini(&m);
}

Test(core_map, entries_sharing_a_hash_are_all_found)
{
	struct sx_map m;
	uint32_t i;

	sx_map_init(&m, sizeof(struct ent), 4, 75);
	for (i = 0; i < 40; i++)
		put(&m, 42, i, i * 10);
	for (i = 0; i < 40; i++)
		cr_assert_eq(get(&m, 42, i)->val, i * 10);
	cr_assert_eq(put(&m, 42, 5, 999)->val, 50, "an existing key is found, not added");
	cr_assert_eq(m.n, 40);
	sx_map_fini(&m);
}

Test(core_map, reserve_clear_and_walk)
{
	struct sx_map m;
	size_t i, seen = 0;

	sx_map_init(&m, sizeof(struct ent), 64, 50);
	cr_assert_eq(sx_map_reserve(&m, 0), 0);
	cr_assert_eq(m.cap, 64, "the first capacity");
	cr_assert_eq(sx_map_reserve(&m, 33), 0);
	cr_assert_eq(m.cap, 128);
	for (i = 0; i < 20; i++)
		put(&m, i, (uint32_t)i, 1);
	for (i = 0; i < m.cap; i++)
		seen += sx_map_at(&m, i) != NULL;
	cr_assert_eq(seen, 20);
	sx_map_clear(&m);
	cr_assert_eq(m.n, 0);
	cr_assert_eq(m.cap, 128, "clearing keeps the memory");
	cr_assert_null(get(&m, 3, 3));
	sx_map_fini(&m);
}

Test(core_map, layout_depends_only_on_the_insertions)
{
	struct sx_map a, b;
	uint32_t i;
	size_t k;

	sx_map_init(&a, sizeof(struct ent), 16, 50);
	sx_map_init(&b, sizeof(struct ent), 16, 50);
	for (i = 0; i < 1000; i++) {
		uint64_t h = i % 97; /* long probe chains */

		put(&a, h, i, i);
		if (i % 100 == 0)
			cr_assert_eq(sx_map_reserve(&b, b.n), 0, "no-op reserves change nothing");
		put(&b, h, i, i);
	}
	cr_assert_eq(a.cap, b.cap);
	for (k = 0; k < a.cap; k++) {
		const struct ent *x = sx_map_at(&a, k), *y = sx_map_at(&b, k);

		cr_assert_eq(!x, !y);
		if (x)
			cr_assert_eq(x->key, y->key, "slot %zu", k);
	}
	sx_map_fini(&a);
	sx_map_fini(&b);
}
