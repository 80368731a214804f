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
 * The table is open addressing over XXH3 hashes (fixed seed: the table's
 * layout never reaches the output), grown at 50 % load.
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

static int strtab_alloc(struct sx_mine_strtab *t, size_t cap)
{
	t->slots = sx_calloc_array(cap, sizeof(*t->slots));
	t->hashes = sx_calloc_array(cap, sizeof(*t->hashes));
	if (!t->slots || !t->hashes) {
		free(t->slots);
		free(t->hashes);
		t->slots = NULL;
		t->hashes = NULL;
		return -ENOMEM;
	}
	t->cap = cap;
	return 0;
}

int sx_mine__strtab_init(struct sx_mine_strtab *t, struct sx_mine_arena *a)
{
	memset(t, 0, sizeof(*t));
	t->a = a;
	return strtab_alloc(t, STRTAB_INIT);
}

void sx_mine__strtab_fini(struct sx_mine_strtab *t)
{
	free(t->slots);
	free(t->hashes);
	memset(t, 0, sizeof(*t));
}

static int strtab_grow(struct sx_mine_strtab *t)
{
	const char **old = t->slots;
	uint64_t *oldh = t->hashes;
	size_t oldcap = t->cap, i, j;

	if (strtab_alloc(t, oldcap * 2)) {
		t->slots = old;
		t->hashes = oldh;
		t->cap = oldcap;
		return -ENOMEM;
	}
	for (i = 0; i < oldcap; i++) {
		if (!old[i])
			continue;
		for (j = oldh[i] & (t->cap - 1); t->slots[j]; j = (j + 1) & (t->cap - 1))
			;
		t->slots[j] = old[i];
		t->hashes[j] = oldh[i];
	}
	free(old);
	free(oldh);
	return 0;
}

const char *sx_mine__intern(struct sx_mine_strtab *t, const char *s)
{
	size_t len = strlen(s), j;
	uint64_t h = XXH3_64bits(s, len);
	char *copy;

	if ((t->n + 1) * 2 > t->cap && strtab_grow(t))
		return NULL;
	for (j = h & (t->cap - 1); t->slots[j]; j = (j + 1) & (t->cap - 1))
		if (t->hashes[j] == h && strcmp(t->slots[j], s) == 0)
			return t->slots[j];
	copy = sx_mine__alloc(t->a, len + 1);
	if (!copy)
		return NULL;
	memcpy(copy, s, len + 1);
	t->slots[j] = copy;
	t->hashes[j] = h;
	t->n++;
	return copy;
}
