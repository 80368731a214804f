/*
 * arena.c - the mine module's memory: a chunked bump allocator and a table
 * of interned strings.
 *
 * DESIGN.  The miner copies every flow it is given and builds vectors,
 * clusters and patterns that all die together, so everything is carved from
 * arenas: chunks of at least 1 MiB (bigger for a bigger request), blocks
 * aligned to 16 bytes and zeroed, never freed one by one; the arena is
 * freed as a whole.  The result of a run has its own arena, so it outlives
 * the miner.  One arena per thread (no locking).
 *
 * Strings the miner compares often (host names, attributes, file names) are
 * interned: one copy per distinct string, so equality is pointer equality.
 * The table is core's map (core/map.h) over XXH3 hashes (fixed seed: the
 * table's layout never reaches the output), grown at 50 % load.
 */
#include "mine/mine_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/util.h"

#define CHUNK_MIN (1u << 20)
#define ALIGN	  16

struct sx_mine_chunk {
	struct sx_mine_chunk *next;
	size_t size;
	_Alignas(ALIGN) unsigned char data[];
};

void sx_mine__arena_init(struct sx_mine_arena *a)
{
	memset(a, 0, sizeof(*a));
}

void sx_mine__arena_fini(struct sx_mine_arena *a)
{
	struct sx_mine_chunk *c = a->head, *next;

	while (c) {
		next = c->next;
		free(c);
		c = next;
	}
	memset(a, 0, sizeof(*a));
}

void *sx_mine__alloc(struct sx_mine_arena *a, size_t n)
{
	struct sx_mine_chunk *c;
	size_t need, size;
	void *p;

	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - ALIGN - sizeof(*c))
		return NULL;
	need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (!a->head || a->size - a->used < need) {
		size = need > CHUNK_MIN ? need : CHUNK_MIN;
		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->size = size;
		c->next = a->head;
		a->head = c;
		a->used = 0;
		a->size = size;
	}
	p = a->head->data + a->used;
	a->used += need;
	memset(p, 0, n);
	return p;
}

void *sx_mine__alloc_array(struct sx_mine_arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return sx_mine__alloc(a, n * size);
}

char *sx_mine__strdup(struct sx_mine_arena *a, const char *s)
{
	size_t n = strlen(s);
	char *p = sx_mine__alloc(a, n + 1);

	if (p)
		memcpy(p, s, n + 1);
	return p;
}

/* ---- interned strings ---- */

#define STRTAB_INIT 256

int sx_mine__strtab_init(struct sx_mine_strtab *t, struct sx_mine_arena *a)
{
	memset(t, 0, sizeof(*t));
	t->a = a;
	sx_map_init(&t->map, sizeof(const char *), STRTAB_INIT, 50);
	return sx_map_reserve(&t->map, 0);
}

void sx_mine__strtab_fini(struct sx_mine_strtab *t)
{
	sx_map_fini(&t->map);
	memset(t, 0, sizeof(*t));
}

const char *sx_mine__intern(struct sx_mine_strtab *t, const char *s)
{
	size_t len = strlen(s), pos = SX_MAP_START;
	uint64_t h = XXH3_64bits(s, len);
	const char **e;
	char *copy;

	if (sx_map_reserve(&t->map, t->map.n + 1))
		return NULL;
	while ((e = sx_map_next(&t->map, h, &pos)))
		if (strcmp(*e, s) == 0)
			return *e;
	copy = sx_mine__alloc(t->a, len + 1);
	if (!copy)
		return NULL;
	memcpy(copy, s, len + 1);
	*(const char **)sx_map_add(&t->map, h, pos) = copy;
	return copy;
}
