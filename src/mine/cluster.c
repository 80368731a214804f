/*
 * cluster.c - matching flows of different occurrences: deterministic
 * DP-means over the feature vectors.
 *
 * DESIGN
 *
 * Similarity is the cosine of two vectors (features.c); a cluster is
 * represented by its centroid, the sum of its members' vectors, and a flow
 * joins the cluster whose centroid is most similar, if that cosine reaches
 * the threshold tau (default 0.6); otherwise it opens a new cluster.  This
 * is DP-means (Kulis and Jordan, ICML 2012): k-means whose number of
 * clusters follows from a distance threshold instead of being given.
 *
 *   1. Leader pass: flows in the canonical order (occurrences in order,
 *      flows by start time within one), each joining the best cluster so
 *      far or opening one; the centroid is updated at once.
 *   2. Refinement passes, at most MAX_PASSES: every flow is matched against
 *      the centroids of the previous pass (in parallel; each flow is
 *      independent), clusters are rebuilt from the matches, and flows that
 *      match nothing go through a leader step again, in order.  Stops when
 *      the partition no longer changes.  This undoes most of the leader
 *      pass's dependence on which occurrence came first.
 *
 * Vectors of different groups (the IP protocol: a TCP flow is never the
 * same service as a UDP one) never share a cluster.  Ties go to the lowest
 * cluster number; clusters are numbered by their first member in the
 * canonical order.  Arithmetic is exact (integer dot products, centroids as
 * 64-bit sums, norms in 128 bits), so the partition depends on the order of
 * the input and nothing else: not on the number of threads, and not on the
 * hash seed that placed the entries.
 *
 * Cost.  A centroid is a hash map (index -> 64-bit sum), so adding a flow
 * and taking a dot product cost the flow's entries, not the centroid's.
 * Candidates come from an inverted index (entry -> clusters whose centroid
 * has it) with prefix filtering: a flow is compared only with clusters
 * sharing one of its anchor entries, chosen so that a cluster sharing none
 * cannot reach the best so far (exact; see best_of()).  A vector's entries
 * are ordered for that once, at its first search, and the order kept for
 * the equal vectors and the passes after.  In a matching pass, equal
 * vectors of one group (a device's flows repeat exactly) share one search,
 * whose result depends only on the vector and the fixed centroids: the
 * HueBridge job's matching passes take 56 % fewer instructions, its whole
 * run 6 %.  Centroids are summed again only when a next step reads them:
 * not after the leader pass (its clusters open in the canonical order, so
 * the renumbering keeps them), not from the matches of a pass where every
 * flow matched (no leader step), not after the pass that changed nothing.
 * Measured: an IoT Sentinel device (20 setups, 3800 flows) mines in 0.2 s,
 * all 23 devices at once (11 k flows, 390 occurrences) in 1 s, 110 k flows
 * in 3 s of CPU.
 */
#include "mine/mine_int.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/map.h"
#include "core/util.h"

#define MAX_PASSES 10

typedef unsigned __int128 u128;
typedef __int128 i128;

/*
 * A centroid: the sum of its members' vectors, kept as a map (core/map.h)
 * from index to value (adding a vector and taking a dot product cost the
 * vector's size, not the centroid's), with its exact squared norm.  A
 * zeroed struct is an empty centroid.
 */
struct cent_ent {
	uint32_t key;
	int64_t val;
};

struct cent {
	struct sx_map map; /* of struct cent_ent, under key_hash(key) */
	u128 norm2;
	double norm; /* sqrt(norm2) */
	uint32_t group;
	uint32_t members;
};

/* The slot hash of an index (a bijection of the 32 bits: the first entry
 * found under it is the key's). */
static uint64_t key_hash(uint32_t key)
{
	return (uint32_t)(key * 0x9e3779b1u);
}

static void cent_fini(struct cent *c)
{
	sx_map_fini(&c->map);
	memset(c, 0, sizeof(*c));
}

/* Empty the centroid, keeping its memory. */
static void cent_clear(struct cent *c)
{
	sx_map_clear(&c->map);
	c->norm2 = 0;
	c->norm = 0;
	c->members = 0;
}

/*
 * c += v.  The indices new to c are written to fresh[] (room for v->n),
 * when given.  The map grows when an index is new and it has no room
 * left, not ahead for every entry of v: most of a vector's indices are
 * already in the centroid it joins.
 */
static int cent_add(struct cent *c, const struct sx_mine_vec *v, uint32_t *fresh, uint32_t *nfresh)
{
	struct cent_ent *e;
	uint32_t i;
	size_t pos;

	if (nfresh)
		*nfresh = 0;
	if (!c->map.esize)
		sx_map_init(&c->map, sizeof(struct cent_ent), 64, 50);
	for (i = 0; i < v->n; i++) {
		uint64_t h = key_hash(v->idx[i]);

		pos = SX_MAP_START;
		e = sx_map_next(&c->map, h, &pos);
		if (!e) {
			size_t cap = c->map.cap;

			if (sx_map_reserve(&c->map, c->map.n + 1))
				return -ENOMEM;
			if (c->map.cap != cap) {
				pos = SX_MAP_START;
				while (sx_map_next(&c->map, h, &pos))
					;
			}
			e = sx_map_add(&c->map, h, pos);
			e->key = v->idx[i];
			if (fresh)
				fresh[(*nfresh)++] = v->idx[i];
		}
		/* (val + x)^2 - val^2, in one product */
		c->norm2 += (u128)((i128)(2 * e->val + v->val[i]) * v->val[i]);
		e->val += v->val[i];
	}
	c->members++;
	c->norm = sqrt((double)c->norm2);
	return 0;
}

static double cent_cos(const struct cent *c, const struct sx_mine_vec *v)
{
	const struct cent_ent *e;
	i128 dot = 0;
	uint32_t i;
	size_t pos;

	if (!c->map.n || !v->n || c->norm <= 0 || v->norm2 <= 0)
		return 0;
	for (i = 0; i < v->n; i++) {
		pos = SX_MAP_START;
		e = sx_map_next(&c->map, key_hash(v->idx[i]), &pos);
		if (e)
			dot += (i128)e->val * v->val[i];
	}
	return (double)dot / (c->norm * sqrt((double)v->norm2));
}

/* ---- candidate clusters: an inverted index and prefix filtering ----
 *
 * A vector's ANCHORS are its entries taken in some order until the rest
 * has a norm below t times the whole, t = tau or the best cosine found so
 * far: a cluster that shares none of them has, by Cauchy-Schwarz, a cosine
 * below t (Bayardo et al., "Scaling up all pairs similarity search", WWW
 * 2007).  So only clusters listed under an anchor in the inverted index
 * (index -> clusters whose centroid has an entry there) are compared:
 * exact, and typically a few clusters instead of all.
 */

struct post {
	uint32_t cluster;
	uint32_t next; /* pool position + 1 of the next posting, 0 at the end */
};

/* An index key's postings: the list's first (pool position + 1) and
 * length. */
struct index_ent {
	uint32_t head;
	uint32_t count;
};

/* A zeroed struct is an empty index. */
struct index {
	struct sx_map map; /* of struct index_ent, under key_hash(key) */
	struct post *pool;
	uint32_t npool, pcap;
};

static void index_fini(struct index *ix)
{
	sx_map_fini(&ix->map);
	free(ix->pool);
	memset(ix, 0, sizeof(*ix));
}

static void index_reset(struct index *ix)
{
	sx_map_clear(&ix->map);
	ix->npool = 0;
}

static int index_add(struct index *ix, uint32_t key, uint32_t cluster)
{
	struct index_ent *e;
	size_t pos = SX_MAP_START;

	if (!ix->map.esize)
		sx_map_init(&ix->map, sizeof(struct index_ent), 1024, 50);
	if (sx_map_reserve(&ix->map, ix->map.n + 1))
		return -ENOMEM;
	if (ix->npool == ix->pcap) {
		uint32_t cap = ix->pcap ? ix->pcap * 2 : 4096;
		struct post *np = sx_realloc_array(ix->pool, cap, sizeof(*np));

		if (!np)
			return -ENOMEM;
		ix->pool = np;
		ix->pcap = cap;
	}
	e = sx_map_next(&ix->map, key_hash(key), &pos);
	if (!e)
		e = sx_map_add(&ix->map, key_hash(key), pos);
	e->count++;
	ix->pool[ix->npool].cluster = cluster;
	ix->pool[ix->npool].next = e->head;
	e->head = ++ix->npool;
	return 0;
}

/* The first posting under key (pool position + 1, 0: none); its count. */
static uint32_t index_head(const struct index *ix, uint32_t key, uint32_t *count)
{
	size_t pos = SX_MAP_START;
	const struct index_ent *e = sx_map_next(&ix->map, key_hash(key), &pos);

	*count = e ? e->count : 0;
	return e ? e->head : 0;
}

/* Index every entry of a centroid under its cluster. */
static int index_cent(struct index *ix, const struct cent *c, uint32_t cluster)
{
	const struct cent_ent *e;
	size_t i;

	for (i = 0; i < c->map.cap; i++) {
		e = sx_map_at(&c->map, i);
		if (e && index_add(ix, e->key, cluster))
			return -ENOMEM;
	}
	return 0;
}

/*
 * An entry of the vector searched for, as a search orders them: rarest
 * first (the cheapest to follow), by a counting sort on their postings up
 * to ANCHOR_BUCKETS - 1 (commoner entries share the last bucket), entries
 * of one bucket in index order.  Any order keeps a search exact (see
 * anchors_of()); a comparison sort, with the heaviest first among equally
 * rare entries, cost a search more than the postings it saved.
 */
#define ANCHOR_BUCKETS 256

struct anchor_ent {
	uint32_t head;	 /* the first posting under the index */
	uint16_t bucket; /* postings, at most ANCHOR_BUCKETS - 1 */
	uint16_t pos;	 /* the entry's position in the vector */
	int32_t val;
};

/* What one search needs besides the centroids: seen-stamps per cluster,
 * and room for a vector's anchors. */
struct searcher {
	uint32_t *stamp;
	uint32_t cap;
	uint32_t now;
	struct anchor_ent *anc, *atmp; /* room for acap each: sorted, unsorted */
	uint32_t acap;
};

static void searcher_fini(struct searcher *s)
{
	free(s->stamp);
	free(s->anc);
	free(s->atmp);
	memset(s, 0, sizeof(*s));
}

static int searcher_fit(struct searcher *s, uint32_t k)
{
	uint32_t *ns;

	if (k <= s->cap)
		return 0;
	ns = sx_realloc_array(s->stamp, k * 2, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	memset(ns + s->cap, 0, (k * 2 - s->cap) * sizeof(*ns));
	s->stamp = ns;
	s->cap = k * 2;
	return 0;
}

/*
 * The entries of v in the order a search follows them (rarest first), into
 * sr->anc[0..v->n).  0, or -1 on OOM.
 */
static int anchors_of(const struct index *ix, const struct sx_mine_vec *v, struct searcher *sr)
{
	uint32_t cnt[ANCHOR_BUCKETS], i, b, top = 0, sum = 0;

	if (v->n > sr->acap) {
		struct anchor_ent *a = sx_realloc_array(sr->anc, v->n, sizeof(*a));

		if (!a)
			return -1;
		sr->anc = a;
		a = sx_realloc_array(sr->atmp, v->n, sizeof(*a));
		if (!a)
			return -1;
		sr->atmp = a;
		sr->acap = v->n;
	}
	for (i = 0; i < v->n; i++) {
		struct anchor_ent *e = &sr->atmp[i];
		uint32_t len;

		e->head = index_head(ix, v->idx[i], &len);
		e->bucket = (uint16_t)(len < ANCHOR_BUCKETS ? len : ANCHOR_BUCKETS - 1);
		e->pos = (uint16_t)i;
		e->val = v->val[i];
		if (e->bucket > top)
			top = e->bucket;
	}
	memset(cnt, 0, (top + 1) * sizeof(*cnt));
	for (i = 0; i < v->n; i++)
		cnt[sr->atmp[i].bucket]++;
	for (b = 0; b <= top; b++) {
		uint32_t c = cnt[b];

		cnt[b] = sum;
		sum += c;
	}
	for (i = 0; i < v->n; i++)
		sr->anc[cnt[sr->atmp[i].bucket]++] = sr->atmp[i];
	return 0;
}

/* Whether cluster c of cents[0..k) may hold v (group g, allowed). */
static bool may_hold(const struct cent *cents, uint32_t k, uint32_t c, uint32_t g,
		     const bool *allowed)
{
	return c < k && cents[c].group == g && cents[c].members && (!allowed || allowed[c]);
}

/*
 * Best cluster for v among cents[0..k) of group g; -1 when none reaches
 * tau, -ENOMEM.  Ties: the lowest cluster number.
 *
 * The entries of v are followed rarest first (anchors_of()), each to the
 * clusters listed under it, until the entries not yet followed have a
 * squared norm below t^2 of the whole, t the best cosine so far when it
 * reaches tau, else tau: a cluster that shares none of the followed
 * entries has, by Cauchy-Schwarz, a cosine below t (Bayardo et al.,
 * "Scaling up all pairs similarity search", WWW 2007), so it can neither
 * reach tau nor beat or tie the best.  The margin 1e-9 covers the rounding
 * of the cosines, so the search is exact whatever the order of the
 * entries.  Over the 23 IoT Sentinel devices a search compares 1.2
 * clusters, 4.8 with t fixed at tau.
 */
static long best_of(const struct cent *cents, uint32_t k, const struct index *ix,
		    const struct sx_mine_vec *v, uint32_t g, const bool *allowed, double tau,
		    const uint16_t *order, uint16_t *save, struct searcher *sr, double *sim)
{
	double bs = -2, nv = (double)v->norm2 * (1 - 1e-9), limit = tau * tau * nv;
	int64_t rest = v->norm2;
	long best = -1;
	uint32_t i, p, c;

	if (!order) {
		if (anchors_of(ix, v, sr))
			return -ENOMEM;
		for (i = 0; save && i < v->n; i++)
			save[i] = sr->anc[i].pos;
	}
	if (++sr->now == 0) {
		memset(sr->stamp, 0, sr->cap * sizeof(*sr->stamp));
		sr->now = 1;
	}
	for (i = 0; i < v->n && (double)rest >= limit; i++) {
		uint32_t head, len;

		if (order) {
			rest -= (int64_t)v->val[order[i]] * v->val[order[i]];
			head = index_head(ix, v->idx[order[i]], &len);
		} else {
			rest -= (int64_t)sr->anc[i].val * sr->anc[i].val;
			head = sr->anc[i].head;
		}
		for (p = head; p; p = ix->pool[p - 1].next) {
			double s;

			c = ix->pool[p - 1].cluster;
			if (c >= k || c >= sr->cap || sr->stamp[c] == sr->now)
				continue;
			sr->stamp[c] = sr->now;
			if (!may_hold(cents, k, c, g, allowed))
				continue;
			s = cent_cos(&cents[c], v);
			if (s > bs || (s == bs && (long)c < best)) {
				bs = s;
				best = (long)c;
				if (bs >= tau)
					limit = bs * bs * nv;
			}
		}
	}
	if (sim)
		*sim = bs;
	return best >= 0 && bs >= tau ? best : -1;
}

/* ---- the clustering state ---- */

struct state {
	const struct sx_mine_vec *const *vecs;
	const uint32_t *group;
	uint32_t n;
	uint32_t *rep; /* per vector: the first one equal to it (group and entries) */
	double tau;
	struct cent *cents;
	uint32_t k, cap;
	struct index ix;
	uint32_t *fresh;    /* scratch: indices new to a centroid */
	struct searcher sr; /* the calling thread's */
	long *best;	    /* per vector, from the parallel step */
	uint16_t *order;    /* the orders of the reps' entries, when kept */
	uint32_t *ooff;	    /* per vector: its rep's order in order[], UINT32_MAX: none */
	bool *have;	    /* per vector: its order is kept */
};

/*
 * Vector i's entries are followed in the order its rep's first search
 * took (best_of() is exact in any order): what was rare then mostly still
 * is, and equal vectors later, in the leader pass and in every matching
 * pass, then look up the postings of the few entries they follow instead
 * of all.  The order kept for i's rep, or NULL.
 */
static const uint16_t *kept_order(const struct state *st, uint32_t i)
{
	uint32_t r = st->rep[i], off = st->ooff[r];

	return off != UINT32_MAX && st->have[r] ? st->order + off : NULL;
}

/* The best cluster for vector i in a leader step, the order of its
 * entries kept for its rep when there is none yet. */
static long search(struct state *st, uint32_t i)
{
	uint32_t r = st->rep[i], off = st->ooff[r];
	const uint16_t *order = kept_order(st, i);
	uint16_t *save = !order && off != UINT32_MAX ? st->order + off : NULL;
	long b = best_of(st->cents, st->k, &st->ix, st->vecs[i], st->group[i], NULL, st->tau, order,
			 save, &st->sr, NULL);

	if (save && b != -ENOMEM)
		st->have[r] = true;
	return b;
}

/* Add vector i to cluster c, indexing the centroid's new entries. */
static int join(struct state *st, uint32_t c, uint32_t i)
{
	uint32_t nfresh = 0, j;

	if (cent_add(&st->cents[c], st->vecs[i], st->fresh, &nfresh))
		return -ENOMEM;
	for (j = 0; j < nfresh; j++)
		if (index_add(&st->ix, st->fresh[j], c))
			return -ENOMEM;
	return 0;
}

static long new_cluster(struct state *st, uint32_t i)
{
	struct cent *c;

	if (st->k == st->cap) {
		uint32_t cap = st->cap ? st->cap * 2 : 64;
		struct cent *nc = sx_realloc_array(st->cents, cap, sizeof(*nc));

		if (!nc)
			return -ENOMEM;
		memset(nc + st->cap, 0, (cap - st->cap) * sizeof(*nc));
		st->cents = nc;
		st->cap = cap;
	}
	if (searcher_fit(&st->sr, st->k + 1))
		return -ENOMEM;
	c = &st->cents[st->k];
	cent_clear(c);
	c->group = st->group[i];
	if (join(st, st->k, i))
		return -ENOMEM;
	return (long)st->k++;
}

/* Join the best cluster or open one; returns the cluster or -ENOMEM. */
static long leader_step(struct state *st, uint32_t i)
{
	long b = search(st, i);

	if (b == -ENOMEM)
		return b;
	if (b < 0)
		return new_cluster(st, i);
	if (join(st, (uint32_t)b, i))
		return -ENOMEM;
	return b;
}

/* Renumber clusters by first member; returns the number of clusters.
 * map has room for k entries. */
static uint32_t canonical_numbers(uint32_t *assign, uint32_t n, uint32_t k, uint32_t *map)
{
	uint32_t i, next = 0;

	for (i = 0; i < k; i++)
		map[i] = UINT32_MAX;
	for (i = 0; i < n; i++) {
		if (map[assign[i]] == UINT32_MAX)
			map[assign[i]] = next++;
		assign[i] = map[assign[i]];
	}
	return next;
}

/* Empty the first st->k centroids (their buffers are kept). */
static void reset_all(struct state *st)
{
	uint32_t i;

	for (i = 0; i < st->k; i++)
		cent_clear(&st->cents[i]);
}

/* Index every centroid with members afresh. */
static int reindex(struct state *st)
{
	uint32_t c;

	index_reset(&st->ix);
	for (c = 0; c < st->k; c++)
		if (st->cents[c].members && index_cent(&st->ix, &st->cents[c], c))
			return -ENOMEM;
	return 0;
}

/* Rebuild every centroid and the index from assign (k clusters, k <= st->k). */
static int rebuild(struct state *st, const uint32_t *assign, uint32_t k)
{
	uint32_t i;

	reset_all(st);
	st->k = k;
	for (i = 0; i < st->n; i++) {
		struct cent *c = &st->cents[assign[i]];

		c->group = st->group[i];
		if (cent_add(c, st->vecs[i], NULL, NULL))
			return -ENOMEM;
	}
	return reindex(st);
}

/* Whether the renumbering map (of k clusters) keeps every number. */
static bool numbers_kept(const uint32_t *map, uint32_t k)
{
	uint32_t i;

	for (i = 0; i < k; i++)
		if (map[i] != i)
			return false;
	return true;
}

/*
 * A leader step, in the canonical order, for every vector (all: the first
 * pass) or for those the last match left without a cluster (st->best[i] < 0),
 * then the clusters renumbered by first member (map has room for st->k
 * entries once the steps are taken); *k gets their number.  The centroids
 * and the index are not rebuilt: when they held the sum of each cluster's
 * matched members before the steps and the renumbering keeps every number
 * (always after the first pass: clusters open in the canonical order), they
 * are already what rebuild() would make.  Returns 0, -ENOMEM or
 * SX_E_STOPPED.
 */
static int lead(struct state *st, bool all, uint32_t *assign, uint32_t *map, uint32_t *k)
{
	uint32_t i;
	long c;
	int ret;

	for (i = 0; i < st->n; i++) {
		ret = sx_mine__stop_at(i);
		if (ret)
			return ret;
		if (!all && st->best[i] >= 0)
			continue;
		c = leader_step(st, i);
		if (c < 0)
			return (int)c;
		assign[i] = (uint32_t)c;
	}
	*k = canonical_numbers(assign, st->n, st->k, map);
	return 0;
}

struct worker {
	struct state *st;
	uint32_t from, to;
	struct searcher sr;
	pthread_t tid;
};

static void *match_range(void *arg)
{
	struct worker *w = arg;
	struct state *st = w->st;
	uint32_t i;

	for (i = w->from; i < w->to; i++) {
		if (st->rep[i] != i)
			continue; /* its first equal's, copied by match_all() */
		st->best[i] = best_of(st->cents, st->k, &st->ix, st->vecs[i], st->group[i], NULL,
				      st->tau, kept_order(st, i), NULL, &w->sr, NULL);
		if (st->best[i] == -ENOMEM) {
			w->sr.now = UINT32_MAX; /* reported by match_all */
			break;
		}
	}
	return NULL;
}

/* best[i] for every vector, with nthreads threads (the caller is one). */
static int match_all(struct state *st, unsigned nthreads)
{
	struct worker w[64];
	unsigned t, started = 0;
	uint32_t chunk;
	int ret = 0;

	if (nthreads > SX_ARRAY_SIZE(w))
		nthreads = SX_ARRAY_SIZE(w);
	if (nthreads < 1 || st->n < 256)
		nthreads = 1;
	chunk = (st->n + nthreads - 1) / nthreads;
	memset(w, 0, sizeof(w));
	for (t = 0; t < nthreads; t++) {
		w[t].st = st;
		w[t].from = t * chunk < st->n ? t * chunk : st->n;
		w[t].to = (t + 1) * chunk < st->n ? (t + 1) * chunk : st->n;
		if (searcher_fit(&w[t].sr, st->k))
			ret = -ENOMEM;
	}
	if (!ret) {
		unsigned me = sx_cpu_slot(); /* the others on the next CPUs */

		for (t = 1; t < nthreads; t++) {
			if (sx_thread_spawn(&w[t].tid, match_range, &w[t], me + t))
				break;
			started = t;
		}
		/* the caller takes its own range, and any a thread did not get */
		match_range(&w[0]);
		for (t = started + 1; t < nthreads; t++)
			match_range(&w[t]);
		for (t = 1; t <= started; t++)
			pthread_join(w[t].tid, NULL);
	}
	for (t = 0; t < nthreads; t++) {
		if (w[t].sr.now == UINT32_MAX)
			ret = -ENOMEM;
		searcher_fini(&w[t].sr);
	}
	if (!ret) {
		uint32_t i;

		for (i = 0; i < st->n; i++)
			st->best[i] = st->best[st->rep[i]];
	}
	return ret;
}

static bool vec_equal(const struct sx_mine_vec *a, const struct sx_mine_vec *b)
{
	return a->n == b->n && a->norm2 == b->norm2 &&
	       memcmp(a->idx, b->idx, a->n * sizeof(*a->idx)) == 0 &&
	       memcmp(a->val, b->val, a->n * sizeof(*a->val)) == 0;
}

/*
 * rep[i]: the first vector equal to vector i (same group, same entries).
 * A search's result depends on the vector and the centroids only, so in a
 * matching pass (fixed centroids) equal vectors share one search: a
 * device's flows repeat exactly (the same query, the same announcement,
 * occurrence after occurrence).  0 or -ENOMEM.
 */
static int find_reps(struct state *st)
{
	struct sx_map seen;
	uint32_t i;
	int ret = 0;

	sx_map_init(&seen, sizeof(uint32_t), 64, 50);
	for (i = 0; i < st->n && !ret; i++) {
		const struct sx_mine_vec *v = st->vecs[i];
		/* the indices and the norm: equal vectors, equal hashes */
		uint64_t h = XXH3_64bits_withSeed(v->idx, v->n * sizeof(*v->idx), st->group[i]) ^
			     (uint64_t)v->norm2 * 0x9e3779b97f4a7c15ull;
		size_t pos = SX_MAP_START;
		uint32_t *e;

		st->rep[i] = i;
		while ((e = sx_map_next(&seen, h, &pos))) {
			if (st->group[*e] == st->group[i] && vec_equal(st->vecs[*e], v)) {
				st->rep[i] = *e;
				break;
			}
		}
		if (st->rep[i] != i)
			continue;
		ret = sx_map_reserve(&seen, seen.n + 1);
		if (!ret) {
			pos = SX_MAP_START;
			while (sx_map_next(&seen, h, &pos))
				;
			*(uint32_t *)sx_map_add(&seen, h, pos) = i;
		}
	}
	sx_map_fini(&seen);
	return ret;
}

long sx_mine__cluster(const struct sx_mine_vec *const *vecs, const uint32_t *group, uint32_t n,
		      double tau, unsigned nthreads, uint32_t *assign)
{
	struct state st = {.vecs = vecs, .group = group, .n = n, .tau = tau};
	uint32_t *prev = NULL, *map = NULL, i, pass, k = 0;
	long ret;

	if (!n)
		return 0;
	prev = sx_calloc_array(n, sizeof(*prev));
	st.best = sx_calloc_array(n, sizeof(*st.best));
	st.rep = sx_calloc_array(n, sizeof(*st.rep));
	/* at most n clusters before a renumbering, plus n opened in one pass */
	map = sx_calloc_array(2 * (size_t)n, sizeof(*map));
	{
		uint32_t maxn = 0;

		for (i = 0; i < n; i++)
			if (vecs[i]->n > maxn)
				maxn = vecs[i]->n;
		st.fresh = sx_calloc_array((size_t)maxn + 1, sizeof(*st.fresh));
	}
	if (!prev || !st.best || !st.rep || !map || !st.fresh || find_reps(&st)) {
		ret = -ENOMEM;
		goto out_free;
	}
	{
		size_t total = 0;

		st.ooff = sx_calloc_array(n, sizeof(*st.ooff));
		st.have = sx_calloc_array(n, sizeof(*st.have));
		if (!st.ooff || !st.have) {
			ret = -ENOMEM;
			goto out_free;
		}
		for (i = 0; i < n; i++) {
			st.ooff[i] = UINT32_MAX;
			if (st.rep[i] == i && vecs[i]->n <= UINT16_MAX && total < UINT32_MAX / 2) {
				st.ooff[i] = (uint32_t)total;
				total += vecs[i]->n;
			}
		}
		st.order = sx_calloc_array(total + 1, sizeof(*st.order));
		if (!st.order) {
			ret = -ENOMEM;
			goto out_free;
		}
	}
	/* 1. leader pass */
	ret = lead(&st, true, assign, map, &k);
	if (!ret && !numbers_kept(map, st.k))
		ret = rebuild(&st, assign, k);
	if (ret)
		goto out_free;
	/*
	 * 2. refinement passes.  The centroids are summed from the matches only
	 * when a leader step needs them (a vector matched nothing), and rebuilt
	 * only when the next pass needs them (the partition changed) and they
	 * are not already right (no leader step, or numbers moved).
	 */
	for (pass = 0; pass < MAX_PASSES; pass++) {
		bool lone = false;

		ret = sx_mine__stop_at(0);
		if (ret)
			goto out_free;
		memcpy(prev, assign, n * sizeof(*prev));
		ret = match_all(&st, nthreads);
		if (ret)
			goto out_free;
		for (i = 0; i < n; i++) {
			if (st.best[i] < 0)
				lone = true;
			else
				assign[i] = (uint32_t)st.best[i];
		}
		if (lone) {
			reset_all(&st);
			for (i = 0; i < n; i++) {
				if (st.best[i] >= 0 &&
				    cent_add(&st.cents[assign[i]], vecs[i], NULL, NULL)) {
					ret = -ENOMEM;
					goto out_free;
				}
			}
			ret = reindex(&st);
			if (ret)
				goto out_free;
		}
		ret = lead(&st, false, assign, map, &k);
		if (ret)
			goto out_free;
		if (memcmp(prev, assign, n * sizeof(*prev)) == 0) {
			st.k = k;
			break;
		}
		if (!lone || !numbers_kept(map, st.k)) {
			ret = rebuild(&st, assign, k);
			if (ret)
				goto out_free;
		}
	}
	ret = (long)st.k;
out_free:
	for (i = 0; i < st.cap; i++)
		cent_fini(&st.cents[i]);
	free(st.cents);
	index_fini(&st.ix);
	free(st.fresh);
	searcher_fini(&st.sr);
	free(st.best);
	free(st.rep);
	free(st.order);
	free(st.ooff);
	free(st.have);
	free(prev);
	free(map);
	return ret;
}

/* ---- centroids for matching other vectors ---- */

struct sx_mine_centroids {
	struct cent *c;
	uint32_t k;
	struct index ix;
	struct searcher sr;
};

int sx_mine__centroids_new(const struct sx_mine_vec *const *vecs, const uint32_t *group,
			   const uint32_t *assign, uint32_t n, uint32_t k,
			   struct sx_mine_centroids **out)
{
	struct sx_mine_centroids *c = calloc(1, sizeof(*c));
	uint32_t i;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->c = sx_calloc_array(k ? k : 1, sizeof(*c->c));
	if (!c->c || searcher_fit(&c->sr, k + 1))
		goto out_nomem;
	c->k = k;
	for (i = 0; i < n; i++) {
		if (assign[i] >= k)
			continue;
		c->c[assign[i]].group = group[i];
		if (cent_add(&c->c[assign[i]], vecs[i], NULL, NULL))
			goto out_nomem;
	}
	for (i = 0; i < k; i++)
		if (c->c[i].members && index_cent(&c->ix, &c->c[i], i))
			goto out_nomem;
	*out = c;
	return 0;
out_nomem:
	sx_mine__centroids_free(c);
	return -ENOMEM;
}

void sx_mine__centroids_free(struct sx_mine_centroids *c)
{
	uint32_t i;

	if (!c)
		return;
	for (i = 0; i < c->k; i++)
		cent_fini(&c->c[i]);
	free(c->c);
	index_fini(&c->ix);
	searcher_fini(&c->sr);
	free(c);
}

long sx_mine__centroids_best(struct sx_mine_centroids *c, const struct sx_mine_vec *v, uint32_t g,
			     const bool *allowed, double tau, double *sim)
{
	return best_of(c->c, c->k, &c->ix, v, g, allowed, tau, NULL, NULL, &c->sr, sim);
}
