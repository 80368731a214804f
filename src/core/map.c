/*
 * map.c - the open-addressing hash map (contract in map.h).
 *
 * DESIGN.  Three parallel arrays (entries, hashes, used flags) so that a
 * probe reads only the hashes and flags of the slots it passes.  Growth
 * walks the old slots in order and re-inserts each entry at the first empty
 * slot from its hash, so a map's layout depends only on its insertions.
 * Nothing is ever deleted one by one (the tables of sigex only grow and are
 * cleared or freed whole), so no tombstones.
 */
#include "core/map.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void sx_map_init(struct sx_map *m, size_t esize, size_t min_cap, unsigned load_pct)
{
	memset(m, 0, sizeof(*m));
	m->esize = esize;
	m->min_cap = min_cap;
	m->load_pct = load_pct;
	assert(min_cap && !(min_cap & (min_cap - 1)) && load_pct > 0 && load_pct < 100);
}

/* Free m's arrays and take these (cap slots) in their place. */
static void set_arrays(struct sx_map *m, unsigned char *ent, uint64_t *hash, uint8_t *used,
		       size_t cap)
{
	free(m->ent);
	free(m->hash);
	free(m->used);
	m->ent = ent;
	m->hash = hash;
	m->used = used;
	m->cap = cap;
}

void sx_map_fini(struct sx_map *m)
{
	set_arrays(m, NULL, NULL, NULL, 0);
	m->n = 0;
}

void sx_map_clear(struct sx_map *m)
{
	/* Only sx_map_add() sets a used flag, and it counts it: an empty map
	 * has none to clear (a reader's fragment table, cleared per capture,
	 * is nearly always empty). */
	if (m->n && m->used)
		memset(m->used, 0, m->cap);
	m->n = 0;
}

int sx_map_reserve(struct sx_map *m, size_t n)
{
	size_t cap = m->cap ? m->cap : m->min_cap, i, j;
	unsigned char *ent;
	uint64_t *hash;
	uint8_t *used;

	while ((uint64_t)n * 100 > (uint64_t)cap * m->load_pct)
		cap *= 2;
	if (cap == m->cap)
		return 0;
	/* Only the used flags start zeroed: a slot's entry and hash are read
	 * once it is used, and sx_map_add() writes both. */
	ent = sx_realloc_array(NULL, cap, m->esize);
	hash = sx_realloc_array(NULL, cap, sizeof(*hash));
	used = sx_calloc_array(cap, sizeof(*used));
	if (!ent || !hash || !used) {
		free(ent);
		free(hash);
		free(used);
		return -ENOMEM;
	}
	for (i = 0; i < m->cap; i++) {
		if (!m->used[i])
			continue;
		for (j = (size_t)m->hash[i] & (cap - 1); used[j]; j = (j + 1) & (cap - 1))
			;
		memcpy(ent + j * m->esize, m->ent + i * m->esize, m->esize);
		hash[j] = m->hash[i];
		used[j] = 1;
	}
	set_arrays(m, ent, hash, used, cap);
	return 0;
}

void *sx_map_add(struct sx_map *m, uint64_t hash, size_t pos)
{
	unsigned char *e = m->ent + pos * m->esize;

	assert(pos < m->cap && !m->used[pos] && (m->n + 1) * 100 <= m->cap * m->load_pct);
	m->used[pos] = 1;
	m->hash[pos] = hash;
	memset(e, 0, m->esize);
	m->n++;
	return e;
}
