/*
 * map.h - the one open-addressing hash map: linear probing over a
 * power-of-two array of fixed-size entries, each stored with its 64-bit
 * hash, grown (never shrunk) by doubling when an insertion would pass the
 * map's load factor.
 *
 * The map knows hashes, not keys: the caller hashes its key, walks the
 * entries stored under that hash with sx_map_next() and compares keys
 * itself (when the hash is a bijection of the key, as for a 32-bit key
 * multiplied by an odd constant, the first entry found is the key's).  An
 * entry is a value of the caller's type (the key inside it, an index into
 * the caller's own array, counters...); the map copies entries bytewise
 * when it grows, so pointers to entries die at sx_map_reserve().
 *
 * Layout is deterministic: the same insertions in the same order give the
 * same slots, so walking the slots (sx_map_at()) gives the same order on
 * every run.  One map belongs to one thread at a time; no locking.
 *
 * Use: sx_map_init(); before each insertion sx_map_reserve(m, m->n + 1);
 * search with sx_map_next(); if absent, sx_map_add() at the slot where the
 * search stopped.  sx_map_fini() frees.
 */
#ifndef SX_CORE_MAP_H
#define SX_CORE_MAP_H

#include <stddef.h>
#include <stdint.h>

struct sx_map {
	unsigned char *ent; /* cap entries of esize bytes */
	uint64_t *hash;	    /* each slot's hash */
	uint8_t *used;	    /* 1: the slot holds an entry */
	size_t cap;	    /* power of two; 0 until the first reserve */
	size_t n;	    /* entries */
	size_t esize;	    /* bytes of an entry */
	size_t min_cap;	    /* the first capacity (a power of two) */
	unsigned load_pct;  /* at most this many entries per 100 slots (< 100) */
};

/* Before the first sx_map_next() of a search. */
#define SX_MAP_START SIZE_MAX

/* An empty map of esize-byte entries; allocates nothing (can't fail). */
void sx_map_init(struct sx_map *m, size_t esize, size_t min_cap, unsigned load_pct);
/* Free the map's arrays (not what entries point to); the map is empty. */
void sx_map_fini(struct sx_map *m);
/* Remove every entry, keeping the memory. */
void sx_map_clear(struct sx_map *m);
/* Room for n entries without passing the load factor: the capacity
 * doubles (from min_cap) until it fits.  0 or -ENOMEM (map unchanged). */
int sx_map_reserve(struct sx_map *m, size_t n);

/*
 * sx_map_next - the next entry stored under hash, in probe order: *pos is
 * SX_MAP_START for the first call, then the slot of the entry returned.
 * NULL when there is no more; *pos is then the empty slot where the search
 * stopped, the one sx_map_add() takes.
 */
static inline void *sx_map_next(const struct sx_map *m, uint64_t hash, size_t *pos)
{
	size_t mask = m->cap - 1, i;

	if (!m->cap) {
		*pos = SX_MAP_START;
		return NULL;
	}
	i = *pos == SX_MAP_START ? (size_t)hash & mask : (*pos + 1) & mask;
	for (; m->used[i]; i = (i + 1) & mask) {
		if (m->hash[i] == hash) {
			*pos = i;
			return m->ent + i * m->esize;
		}
	}
	*pos = i;
	return NULL;
}

/*
 * sx_map_add - a new entry for hash in the empty slot pos where a search
 * (sx_map_next() returning NULL) stopped, with nothing inserted since and
 * room reserved.  Returns the entry, zeroed.
 */
void *sx_map_add(struct sx_map *m, uint64_t hash, size_t pos);

/* The entry in slot i (< cap), or NULL when the slot is empty. */
static inline void *sx_map_at(const struct sx_map *m, size_t i)
{
	return m->used[i] ? m->ent + i * m->esize : NULL;
}

#endif /* SX_CORE_MAP_H */
