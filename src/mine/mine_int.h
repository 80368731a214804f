/*
 * mine_int.h - PRIVATE to the mine module (default algorithm): the arena,
 * the interned strings, the miner's copy of a flow, the feature vectors,
 * and the functions the files of the module share (sx_mine__*).
 */
#ifndef SX_MINE_MINE_INT_H
#define SX_MINE_MINE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/map.h"
#include "core/sort.h"
#include "core/util.h"
#include "flows/flow.h"
#include "ingest/packet.h"

/* Loops of the miner poll the stop flag every this many items. */
#define SX_MINE_STOP_MASK 1023u

/* SX_E_STOPPED when a stop was requested and item i is a polling point. */
static inline int sx_mine__stop_at(uint32_t i)
{
	return (i & SX_MINE_STOP_MASK) == 0 && sx_stop_requested() ? SX_E_STOPPED : 0;
}
#include "mine/mine.h"

/* ---- arena (arena.c): chunked bump allocator, freed as a whole ---- */

struct sx_mine_chunk;

struct sx_mine_arena {
	struct sx_mine_chunk *head;
	size_t used; /* bytes used in head */
	size_t size; /* bytes available in head */
};

void sx_mine__arena_init(struct sx_mine_arena *a);
void sx_mine__arena_fini(struct sx_mine_arena *a);
/* n bytes aligned to 16, zeroed; NULL on overflow or OOM. */
void *sx_mine__alloc(struct sx_mine_arena *a, size_t n);
void *sx_mine__alloc_array(struct sx_mine_arena *a, size_t n, size_t size);
char *sx_mine__strdup(struct sx_mine_arena *a, const char *s);

/* ---- interned strings (arena.c): equal strings, equal pointers ---- */

struct sx_mine_strtab {
	struct sx_mine_arena *a; /* borrowed; holds the strings */
	struct sx_map map;	 /* of const char *, under XXH3 of the string */
};

int sx_mine__strtab_init(struct sx_mine_strtab *t, struct sx_mine_arena *a);
void sx_mine__strtab_fini(struct sx_mine_strtab *t);
/* The interned copy of s, or NULL on OOM. */
const char *sx_mine__intern(struct sx_mine_strtab *t, const char *s);

/* ---- the miner's copy of a flow ---- */

/* One end of a flow, oriented client/server (see mine.h). */
struct sx_mine_ep {
	struct sx_addr addr;
	uint16_t port;
	bool named;	   /* host is a resolved name, not the address text */
	const char *host;  /* interned: name or address text */
	const char *local; /* interned mDNS name, "" when none */
	uint8_t mac[6];	   /* Ethernet source of its first frame, zero when none */
};

/* A sparse vector: entries sorted by index, no duplicates. */
struct sx_mine_vec {
	uint32_t n;
	uint32_t *idx;
	int32_t *val;
	int64_t norm2; /* exact sum of val^2 */
};

struct sx_mine_flow {
	uint32_t unit;	    /* index into the miner's units (canonical after sort) */
	uint64_t row_index; /* Index within its unit */
	int64_t first_ns, last_ns;
	int64_t offset_ns; /* first_ns - unit start */
	uint8_t ip_proto;
	uint8_t family;
	uint8_t top_proto; /* enum sx_proto */
	uint8_t initiator; /* enum sx_mine_role of the initiator */
	bool session;	   /* continues a session open before its window */
	bool has_service;  /* the flow stage found a service side */
	bool has_ports;
	struct sx_mine_ep ep[2]; /* [SX_MINE_CLIENT], [SX_MINE_SERVER] */
	uint64_t pkts[2];	 /* sent by the client, by the server */
	uint64_t bytes[2];
	uint8_t nseq;
	int32_t seq_len[SX_FLOW_SEQ_MAX]; /* + client to server, - server to client */
	const char *spec;		  /* interned ApplicationSpecific, as the CSV writes it */
	const char *attrs;		  /* interned AppAttributes */
	struct sx_mine_vec vec;
};

/* ---- features (features.c) ---- */

/* Reusable scratch of one thread while vectors are built. */
struct sx_mine_fscratch;

int sx_mine__fscratch_new(struct sx_mine_fscratch **out);
void sx_mine__fscratch_free(struct sx_mine_fscratch *s);

/*
 * sx_mine__flow_vector - tokens of a flow hashed into its vector (f->vec,
 * allocated from a).  Needs f->offset_ns.  0 or -ENOMEM.  Thread-safe with
 * one scratch and one arena per thread.  The scratch keeps what it made of
 * the flows it saw, so that a later flow made of the same inputs but its
 * start offset is vectorised from it (the same vector as made anew); it
 * knows the flows' strings by their address, so they must not change
 * while it lives (the miner's are interned).
 */
int sx_mine__flow_vector(struct sx_mine_flow *f, uint64_t seed, unsigned dim_bits,
			 struct sx_mine_fscratch *s, struct sx_mine_arena *a);

/* One token with its family, as the vector builder sees it (for tests and
 * for explaining a vector). */
typedef void (*sx_mine_token_fn)(void *arg, unsigned family, const char *tok, double weight);
void sx_mine__flow_tokens(const struct sx_mine_flow *f, sx_mine_token_fn fn, void *arg);

/*
 * sx_mine__vec_from_tokens - the vector builder on its own: tokens[i] of
 * family fam[i] with raw weight w[i].  For tests.  0 or -ENOMEM.
 */
int sx_mine__vec_from_tokens(const char *const *tokens, const unsigned *fam, const double *w,
			     size_t n, uint64_t seed, unsigned dim_bits, struct sx_mine_vec *out,
			     struct sx_mine_arena *a);

/* Cosine similarity of two vectors (exact integer dot product). */
double sx_mine__cosine(const struct sx_mine_vec *a, const struct sx_mine_vec *b);

/* Feature families and their shares of the squared norm (features.c). */
enum sx_mine_family {
	SX_FAM_SERVICE = 0,
	SX_FAM_SERVER,
	SX_FAM_CLIENT,
	SX_FAM_APP,
	SX_FAM_SHAPE,
	SX_FAM_VOLUME,
	SX_FAM_SEQ,
	SX_FAM_TIME,
	SX_FAM__COUNT,
};
extern const double sx_mine__family_share[SX_FAM__COUNT];
const char *sx_mine__family_name(unsigned fam);

/* ---- names (domains.c): domain-aware normalisation ---- */

/* Registrable domain of a name by the Public Suffix List ("api.tplinkra.com"
 * -> "tplinkra.com", "a.b.co.uk" -> "b.co.uk"), a pointer into name; the
 * name itself when it is a public suffix or cannot be judged. */
const char *sx_mine__reg_domain(const char *name);
/* The shape of a name or URI: alphanumeric runs of 12+ characters with a
 * digit become '*', other digit runs '#'. */
void sx_mine__shape(const char *s, char *out, size_t outsz);
/* Longest common label suffix of two names ("" when none); returns the
 * suffix of a, a pointer into a. */
const char *sx_mine__common_suffix(const char *a, const char *b);
enum sx_mine_scope sx_mine__addr_scope(const struct sx_addr *a);
/* Whether s is a host name (not an address text, not empty). */
bool sx_mine__is_name(const char *host, const struct sx_addr *addr);

/* ---- clustering (cluster.c) ---- */

/*
 * sx_mine__cluster - deterministic DP-means over vectors in a given order.
 * @vecs:   n vectors (borrowed)
 * @group:  n group numbers; vectors of different groups never share a cluster
 * @tau:    cosine threshold to join a cluster
 * @assign: receives the cluster of each vector; clusters are numbered 0..k-1
 *          in the order of their first member
 * Returns k >= 0, -ENOMEM, or SX_E_STOPPED on a stop request (core/util.h).
 * Context: starts and joins nthreads - 1 threads.
 */
long sx_mine__cluster(const struct sx_mine_vec *const *vecs, const uint32_t *group, uint32_t n,
		      double tau, unsigned nthreads, uint32_t *assign);

/*
 * sx_mine__merge_services - merge the clusters of one service (merge.c):
 * flows[i] is in cluster assign[i] of k; assign is renumbered in place,
 * still in the order of each cluster's first member.  Returns the new
 * number of clusters, or -ENOMEM (assign unchanged).
 */
long sx_mine__merge_services(const struct sx_mine_flow *const *flows, uint32_t n, uint32_t *assign,
			     uint32_t k);
/* Whether an attribute key names the application (an identifying key:
 * DNS question, HTTP request, TLS SNI, ...; see merge.c). */
bool sx_mine__is_id_key(const char *k, size_t klen);

/* Centroids of clusters, for matching other vectors against them. */
struct sx_mine_centroids;

/*
 * sx_mine__centroids_new - the centroid (sum) of each of the k clusters of
 * assign.  0 or -ENOMEM.
 */
int sx_mine__centroids_new(const struct sx_mine_vec *const *vecs, const uint32_t *group,
			   const uint32_t *assign, uint32_t n, uint32_t k,
			   struct sx_mine_centroids **out);
void sx_mine__centroids_free(struct sx_mine_centroids *c);
/*
 * sx_mine__centroids_best - the cluster whose centroid is most similar to v
 * among those of group g and with allowed[c] (NULL: all), if the cosine is
 * >= tau; else -1 (or -ENOMEM).  Ties: the lowest cluster number.  One
 * thread at a time per c (it keeps search scratch).
 */
long sx_mine__centroids_best(struct sx_mine_centroids *c, const struct sx_mine_vec *v, uint32_t g,
			     const bool *allowed, double tau, double *sim);

/* ---- units and the input of the pattern builder (mine.c, patterns.c) ---- */

struct sx_mine_unit {
	const char *file; /* interned */
	uint32_t event;
	const char *label; /* interned */
	int64_t event_ns;
	int64_t start_ns; /* window start, else first flow's first packet */
	uint32_t nflows;
	uint8_t set; /* enum sx_mine_set */
	int src;
	bool discarded;
	bool have_start;
	uint32_t order; /* canonical position within its set */
};

/* What sx_mine__patterns() works on; everything in canonical order. */
struct sx_mine_input {
	double support, bg_support, threshold;
	unsigned dim_bits;
	struct sx_mine_unit *const *occs; /* event units */
	uint32_t noccs;
	struct sx_mine_unit *const *bg; /* background units */
	uint32_t nbg;
	struct sx_mine_flow *const *flows; /* event flows; flow->unit = occurrence */
	uint32_t nflows;
	const uint32_t *assign; /* cluster of each event flow */
	uint32_t k;
	struct sx_mine_flow *const *bgflows; /* flow->unit = background unit */
	uint32_t nbgflows;
	unsigned nthreads;
};

/* Build the result from the clusters (patterns.c).  0 or -ENOMEM. */
int sx_mine__patterns(const struct sx_mine_input *in, struct sx_mine_result **out);

/* ---- small helpers (patterns.c) ---- */

/* Lower median of n sorted values (n > 0). */
int64_t sx_mine__median(const int64_t *sorted, size_t n);
/* Linear-interpolated quantile q in [0, 1] of n sorted values. */
int64_t sx_mine__quantile(const int64_t *sorted, size_t n, double q);
void sx_mine__sort_i64(int64_t *v, size_t n);
/* Scratch for sorting n elements of size bytes: stack (stack_bytes long)
 * when they fit, else from the heap (the caller frees it when it is not
 * stack); NULL when out of memory. */
void *sx_mine__sort_scratch(void *stack, size_t stack_bytes, size_t n, size_t size);

/*
 * SX_MINE_SORT_DEFINE(name, type, before, qcmp) defines
 *
 *	static void name(type *a, size_t n);
 *
 * core/sort.h's stable merge sort by before() (inlined), with scratch on
 * the stack up to 64 elements; qsort(3) by qcmp, the same order, when
 * memory for the scratch runs out.  The miner's sorts of a pattern's
 * members (addresses, ports, attributes) were qsort's, whose comparison
 * through a pointer cost more than the work around it; glibc's qsort is a
 * stable merge sort as well, so the orders are the same.
 */
#define SX_MINE_SORT_DEFINE(name, type, before, qcmp)                                              \
	SX_SORT_DEFINE(name##_with, type, before)                                                  \
	static void name(type *a, size_t n)                                                        \
	{                                                                                          \
		type stack_[64];                                                                   \
		type *tmp_ = sx_mine__sort_scratch(stack_, sizeof(stack_), n, sizeof(type));       \
                                                                                                   \
		if (!tmp_) {                                                                       \
			qsort(a, n, sizeof(type), qcmp);                                           \
			return;                                                                    \
		}                                                                                  \
		name##_with(a, n, tmp_);                                                           \
		if (tmp_ != stack_)                                                                \
			free(tmp_);                                                                \
	}

#endif /* SX_MINE_MINE_INT_H */
