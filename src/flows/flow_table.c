/*
 * flow_table.c - the run-wide flow table: 64 rculfhash shards that reader
 * threads insert into and update concurrently, and the batched eviction
 * that keeps it small.
 *
 * DESIGN
 *
 * What a flow is.  Packets of one unit (capture, or event window) with the
 * same canonical key (flow_key.c) belong to one bidirectional flow until it
 * ends:
 *   - any flow ends when no packet came for longer than the idle timeout
 *     (the next packet starts a new flow: "idle"); "longer" is measured in
 *     either direction, so a capture whose clock jumps back (captures
 *     concatenated, a clock reset) does not continue flows across the jump;
 *   - a TCP flow ends when both sides have sent FIN, or one sent RST; it
 *     keeps the late ACKs and retransmissions that follow, and a new SYN
 *     (without ACK) on the same endpoints then starts a new flow;
 *   - a flow still active when its unit ends is "open".
 * The initiator (the "device" side of the CSV) is the sender of the first
 * SYN without ACK, else the receiver of a SYN+ACK, else the sender of the
 * first packet.  Per flow we keep: first/last timestamp, packets and wire
 * bytes per direction, TCP flags per direction, the highest protocol layer
 * seen (application > transport > IP; the first application protocol wins),
 * the wire length (signed by direction) and inter-arrival time of the first
 * SX_FLOW_SEQ_MAX payload-bearing packets, the first ApplicationSpecific
 * text and the distinct application attribute tokens (flow_app.c).
 *
 * Shards.  hash = XXH3(key, seed); shard = top SX_SHARD_BITS bits; the full
 * 64-bit hash goes to rculfhash, which picks buckets from the low bits
 * (pitfalls 2, 3).  Shards are created presized (next_pow2 of the estimate
 * per shard, at least 1024 buckets), WITHOUT CDS_LFHT_AUTO_RESIZE (pitfall
 * 6: lazy, and seen to stall on 0.13.2).  Each shard counts its nodes; when a
 * worker's insert takes a shard past 4 nodes per bucket, the worker resizes
 * it (next_pow2 of the count) after its current read-side batch, outside any
 * read-side critical section, one resizer per shard (atomic_flag).
 *
 * Concurrency.  Any thread may update any flow.  Commutative counters
 * (packets, bytes, flags, first/last timestamp) are relaxed atomics; the
 * order-dependent state (initiator, FIN/RST, the packet sequence, the
 * application attributes, the top protocol) is behind a per-flow atomic_flag
 * spinlock, taken only by packets that change it (SYN/FIN/RST, the first 32
 * payload packets, packets with application data).  Insertion uses
 * cds_lfht_add_unique only (pitfall 4); the loser of a race goes back to the
 * arena at once (no grace period needed: it was never published).  A flow
 * that has ended is replaced in place by its successor with cds_lfht_replace,
 * so a key has at most one live node; the old record is marked RETIRED.
 * match_flow() compares the whole key (pitfall 5).  The read lock is held
 * across batches of SX_BATCH_PKTS packets, not per packet; it is dropped
 * before anything that waits for a grace period (pitfall 7).
 *
 * In the real pipeline the key contains the capture, and a capture is read
 * by exactly one thread, so a flow is written by one thread: the pipeline's
 * workers say so (w->sole, flow_run.c), and theirs update the counters by
 * relaxed loads and stores and take no lock, where a bus-locked
 * read-modify-write per counter per packet was a few percent of the flow
 * stage.  Other callers (sx_flows_add(); the tests hammer overlapping keys
 * from many threads) keep the atomics and the lock.
 *
 * The previous packet's flow.  A worker remembers, within a read-side
 * batch, the flow its last packet went to; a packet with the same key goes
 * to it without hashing or a lookup while it is still the key's live node
 * (cds_lfht_is_node_deleted() false) and the packet does not end it.  Most
 * packets of real captures (85 % of the bench's large capture) follow one of
 * their own flow.  The record stays safe to touch only inside the batch, so
 * the memory is dropped with the read lock.
 *
 * Ownership and eviction.  A record belongs to the worker that created it:
 * it comes from that worker's arena (64-byte aligned, SX_RECORD_SIZE bytes,
 * node first: pitfall 9) and sits on that worker's live list.  Only the
 * owner evicts it.  Eviction is batched: the owner walks its live list,
 * unlinks every due flow (cds_lfht_del; already-replaced ones are just
 * collected), waits for ONE grace period (urcu_memb_synchronize_rcu, which
 * also covers a concurrent updater or a resize helper still walking the
 * bucket), then, now that nobody can reach the records, sorts them by (unit,
 * first timestamp, key) and writes them as sorted runs to the spill
 * (flow_spill.c), and puts the records back on its free list.  At the end
 * of a capture the flows are unlinked at once but the grace period waits
 * until SX_EVICT_DEFER_MAX of them are pending (or the next sweep, or the
 * worker's end): a capture of a few flows then costs no membarrier of its
 * own, which dominated runs over many small captures.  Due flows
 * are: all of them at the end of a capture or of the worker; on a sweep,
 * the replaced ones, the idle ones and those whose event window has closed.
 * Sweeps run only when the worker holds at least sweep_min_live flows and
 * some capture time has passed since the last one, and the threshold then
 * doubles with what is left, so their cost is amortised; the decision
 * depends only on the capture's own packets, never on thread timing.
 * Memory therefore follows the flows active at once, not the capture length.
 * A safety cap (max_live, by default 131072 records = 128 MiB per worker)
 * covers captures where that is unbounded (a scan, or timestamps that never
 * advance): past it, the least recently active half of the worker's flows
 * (the oldest-created half when their times are all equal) end early as
 * "idle", in one batch.  The default is per worker, hence per capture, so
 * output stays the same for any -j; a run-wide ceiling (cfg.max_flows,
 * --max-flows) is split among the reader threads by sx_flows_collect(), so
 * when it binds, which flows end early depends on the number of threads.
 *
 * Teardown (sx_flows_free): workers are freed first (each evicts all its
 * flows); then any node still in a shard is deleted, one grace period,
 * cds_lfht_destroy per shard (checked: -EPERM would mean a node was left).
 *
 * Registration: every thread calling in here is registered with liburcu
 * (sx_flows_thread_enter; pitfall 1).  No call_rcu anywhere.
 *
 * ThreadSanitizer cannot see the ordering that liburcu provides (the library
 * is not instrumented).  Two annotations model it exactly where we rely on
 * it: publication (a release store of state before add_unique/replace,
 * acquired in match_flow) and the grace period (__tsan_release at every
 * read-side unlock, __tsan_acquire after synchronize_rcu).
 */
#include "flows/flows.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/err.h"
#include "core/log.h"
#include "core/sort.h"
#include "core/util.h"
#include "flows/flows_int.h"

#if defined(__SANITIZE_THREAD__)
#define SX_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SX_TSAN 1
#endif
#endif
#ifdef SX_TSAN
#include <sanitizer/tsan_interface.h>
#define TSAN_RELEASE(p) __tsan_release(p)
#define TSAN_ACQUIRE(p) __tsan_acquire(p)
#else
#define TSAN_RELEASE(p) ((void)(p))
#define TSAN_ACQUIRE(p) ((void)(p))
#endif

SX_STATIC_ASSERT(sizeof(struct sx_flow) == SX_RECORD_SIZE, "flow record size");
SX_STATIC_ASSERT(offsetof(struct sx_flow, node) == 0, "rculfhash node must come first");

#define CHUNK_BYTES	       (256u * 1024u)
#define SWEEP_MIN_LIVE_DEFAULT 4096
#define SPILL_FLUSH	       (1u << 20)

#define RELAXED memory_order_relaxed

/* ---- liburcu registration ---- */

static _Thread_local unsigned rcu_depth;

void sx_flows_thread_enter(void)
{
	if (rcu_depth++ == 0)
		urcu_memb_register_thread();
}

void sx_flows_thread_leave(void)
{
	if (rcu_depth && --rcu_depth == 0)
		urcu_memb_unregister_thread();
}

/* ---- small helpers ---- */

static unsigned long next_pow2(uint64_t v)
{
	unsigned long p = 1;

	while (p < v && p < (1ul << 40))
		p <<= 1;
	return p;
}

static void latch(struct sx_flows_worker *w, int err)
{
	int zero = 0;

	if (!w->err)
		w->err = err;
	atomic_compare_exchange_strong(&w->fl->err, &zero, err);
}

int64_t sx_flows__pkt_ns(const struct sx_pkt *pkt)
{
	int64_t s = pkt->ts_sec;

	/* As the capture reader does (times after 2038 read as negative 32-bit
	 * seconds), for packets built by other callers. */
	if (s < 0 && s >= INT32_MIN)
		s += (int64_t)1 << 32;
	/* Nonsense timestamps are clamped so that differences never overflow. */
	if (s < 0)
		s = 0;
	if (s > 9000000000LL)
		s = 9000000000LL;
	return s * SX_NS_PER_SEC + (int64_t)(pkt->ts_nsec % 1000000000u);
}

/*
 * A sole writer (w->sole) updates a counter by a relaxed load and store: no
 * bus-locked instruction per packet, and still no data race for a reader
 * on another thread (match_flow reads only the key and the state).
 */
static uint64_t add_u64(_Atomic uint64_t *p, uint64_t v, bool sole)
{
	uint64_t old;

	if (!sole)
		return atomic_fetch_add_explicit(p, v, RELAXED);
	old = atomic_load_explicit(p, RELAXED);
	atomic_store_explicit(p, old + v, RELAXED);
	return old;
}

static void max_i64(_Atomic int64_t *p, int64_t v, bool sole)
{
	int64_t cur = atomic_load_explicit(p, RELAXED);

	if (sole) {
		if (v > cur)
			atomic_store_explicit(p, v, RELAXED);
		return;
	}
	while (cur < v && !atomic_compare_exchange_weak_explicit(p, &cur, v, RELAXED, RELAXED))
		;
}

static void min_i64(_Atomic int64_t *p, int64_t v, bool sole)
{
	int64_t cur = atomic_load_explicit(p, RELAXED);

	if (sole) {
		if (v < cur)
			atomic_store_explicit(p, v, RELAXED);
		return;
	}
	while (cur > v && !atomic_compare_exchange_weak_explicit(p, &cur, v, RELAXED, RELAXED))
		;
}

static void or_u8(_Atomic uint8_t *p, uint8_t v, bool sole)
{
	if (sole)
		atomic_store_explicit(p, atomic_load_explicit(p, RELAXED) | v, RELAXED);
	else
		atomic_fetch_or_explicit(p, v, RELAXED);
}

static void flow_lock(struct sx_flow *f)
{
	while (atomic_flag_test_and_set_explicit(&f->lock, memory_order_acquire))
		caa_cpu_relax();
}

static void flow_unlock(struct sx_flow *f)
{
	atomic_flag_clear_explicit(&f->lock, memory_order_release);
}

/* The record of a node: the node is its first member (static-asserted), so
 * no pointer arithmetic, and NULL stays NULL (pitfall 9). */
static struct sx_flow *flow_of(struct cds_lfht_node *node)
{
	return (struct sx_flow *)(void *)node;
}

/* rculfhash match callback: the whole canonical key. */
int match_flow(struct cds_lfht_node *node, const void *key);
int match_flow(struct cds_lfht_node *node, const void *key)
{
	struct sx_flow *f = flow_of(node);

	/* Pairs with the release in publish(): the key and the initial state
	 * were written before the node became reachable. */
	(void)atomic_load_explicit(&f->state, memory_order_acquire);
	return sx_flow_key_eq(&f->key, key);
}

/* ---- table ---- */

int sx_flows_new(const struct sx_flows_cfg *cfg, struct sx_flows **out)
{
	struct sx_flows *fl;
	unsigned long nb;
	uint64_t est;
	unsigned i;
	int ret;

	*out = NULL;
	/* Bounded so that no time sum can overflow (times are < 9e18 ns). */
	if (cfg->idle_ns <= 0 || cfg->idle_ns > SX_FLOWS_MAX_SPAN_NS || cfg->window_ns < 0 ||
	    cfg->window_ns > SX_FLOWS_MAX_SPAN_NS ||
	    (cfg->events && (cfg->duration_ns <= 0 || cfg->duration_ns > SX_FLOWS_MAX_SPAN_NS)))
		return -EINVAL;
	fl = aligned_alloc(SX_CACHELINE, sizeof(*fl));
	if (!fl)
		return -ENOMEM;
	memset(fl, 0, sizeof(*fl));
	fl->cfg = *cfg;
	if (!fl->cfg.sweep_min_live)
		fl->cfg.sweep_min_live = SWEEP_MIN_LIVE_DEFAULT;
	if (!fl->cfg.max_live && cfg->max_flows) {
		/* One worker may have it all; sx_flows_collect() splits it. */
		fl->cfg.max_live = (uint32_t)SX_MIN(cfg->max_flows, (uint64_t)UINT32_MAX);
		fl->split_cap = true;
	} else if (!fl->cfg.max_live) {
		fl->cfg.max_live = SX_FLOWS_MAX_LIVE_DEFAULT;
	}
	est = cfg->est_flows ? cfg->est_flows : 65536;
	nb = next_pow2(est / SX_NSHARDS);
	nb = SX_MAX(nb, cfg->min_buckets ? next_pow2(cfg->min_buckets)
			: cfg->est_flows ? SX_MIN_BUCKETS_EST
					 : SX_MIN_BUCKETS);
	nb = SX_MIN(nb, SX_MAX_PRESIZE);
	for (i = 0; i < SX_NSHARDS; i++) {
		struct sx_shard *s = &fl->shards[i];

		s->ht = cds_lfht_new_flavor(nb, nb, 0, 0, &urcu_memb_flavor, NULL);
		if (!s->ht) {
			ret = -ENOMEM;
			goto out_destroy;
		}
		atomic_init(&s->nbuckets, nb);
		atomic_init(&s->nflows, 0);
		atomic_flag_clear(&s->resizing);
	}
	if (cfg->events && !cfg->windows) {
		fl->all_windows = sx_calloc_array(cfg->events->n + 1, sizeof(*fl->all_windows));
		if (!fl->all_windows) {
			ret = -ENOMEM;
			goto out_destroy;
		}
		for (i = 0; i < cfg->events->n; i++)
			fl->all_windows[i] = (struct sx_window){cfg->events->ev[i].start_ns, i};
		fl->nall_windows = cfg->events->n;
	}
	ret = sx_spill__init(&fl->spill, cfg->tmpdir,
			     cfg->spill_mem ? cfg->spill_mem : SX_SPILL_MEM_DEFAULT);
	if (ret)
		goto out_destroy;
	*out = fl;
	return 0;

out_destroy:
	/* Empty tables: destroy needs no registration beyond the caller's. */
	sx_flows_thread_enter();
	for (i = 0; i < SX_NSHARDS; i++)
		if (fl->shards[i].ht)
			cds_lfht_destroy(fl->shards[i].ht, NULL);
	sx_flows_thread_leave();
	free(fl->all_windows);
	free(fl);
	return ret;
}

void sx_flows_free(struct sx_flows *fl)
{
	sx_flows_free_stats(fl, NULL);
}

void sx_flows_free_stats(struct sx_flows *fl, struct sx_flows_stats *st)
{
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	unsigned long left = 0;
	unsigned i;

	if (!fl)
		return;
	sx_flows_thread_enter();
	/* 1. Unlink whatever is left (nothing, when every worker was freed). */
	urcu_memb_read_lock();
	for (i = 0; i < SX_NSHARDS; i++) {
		struct cds_lfht *ht = fl->shards[i].ht;

		/* Walking a presized shard's empty buckets costs more than the
		 * rest of a small run: skip the shards the counters say are
		 * empty (cds_lfht_destroy below still refuses a non-empty one). */
		if (!atomic_load_explicit(&fl->shards[i].nflows, RELAXED))
			continue;
		cds_lfht_for_each (ht, &iter, node)
			if (cds_lfht_del(ht, node) == 0)
				left++;
	}
	urcu_memb_read_unlock();
	/* 2. One grace period for all shards (also covers resize helpers). */
	urcu_memb_synchronize_rcu();
	/* 3. Destroy; -EPERM would mean a node is still linked. */
	for (i = 0; i < SX_NSHARDS; i++) {
		int ret = cds_lfht_destroy(fl->shards[i].ht, NULL);

		if (ret) {
			sx_log(SX_LOG_ERROR, "flow shard %u: cds_lfht_destroy: %s", i,
			       sx_strerror(ret));
			left++;
		}
	}
	sx_flows_thread_leave();
	if (left)
		sx_log(SX_LOG_ERROR, "flow table: %lu flows left at teardown", left);
	if (st) {
		sx_flows_get_stats(fl, st);
		st->left_at_teardown = left;
	}
	sx_spill__fini(&fl->spill);
	free(fl->all_windows);
	free(fl);
}

int sx_flows_error(const struct sx_flows *fl)
{
	return atomic_load(&fl->err);
}

void sx_flows_get_stats(const struct sx_flows *fl, struct sx_flows_stats *st)
{
	struct sx_spill *sp = (struct sx_spill *)&fl->spill;

	st->flows = atomic_load(&fl->st_flows);
	st->packets = atomic_load(&fl->st_packets);
	st->bytes = atomic_load(&fl->st_bytes);
	st->batches = atomic_load(&fl->st_batches);
	st->resizes = atomic_load(&fl->st_resizes);
	st->replaced = atomic_load(&fl->st_replaced);
	st->lost_races = atomic_load(&fl->st_lost);
	st->peak_live = atomic_load(&fl->st_peak_live);
	st->capped = atomic_load(&fl->st_capped);
	st->spill_bytes = sx_spill__bytes(sp);
	st->frag_joined = atomic_load(&fl->st_fjoined);
	st->frag_held = atomic_load(&fl->st_fheld);
	st->frag_unmatched = atomic_load(&fl->st_funmatched);
	st->frag_dropped = atomic_load(&fl->st_fdropped);
	st->frag_evicted = atomic_load(&fl->st_fevicted);
	st->frag_overlap = atomic_load(&fl->st_foverlap);
	st->frag_peak = atomic_load(&fl->st_fpeak);
	pthread_mutex_lock(&sp->lock);
	st->runs = sp->nruns;
	pthread_mutex_unlock(&sp->lock);
	st->left_at_teardown = 0;
}

/* ---- worker: arena and live list ---- */

struct worker_stats {
	uint64_t packets, bytes, replaced, lost, peak, capped;
};

/*
 * The attribute tokens of the application messages the decoding memo
 * numbered (pkt->app_id, ingest/app_memo.c), made once per message: the
 * repeated mDNS announcements and DNS queries are most of the packets that
 * carry tokens.  Direct-mapped by the number; a slot's id 0 holds nothing
 * (no message has number 0).
 */
#define TOK_MEMO_SLOTS 64

struct tok_memo {
	uint64_t id;
	char text[SX_FLOW_ATTR_MAX];
};

/* Kept apart from the public struct to keep hot fields together. */
struct sx_flows_worker_priv {
	struct sx_flows_worker w;
	struct worker_stats st;
	struct tok_memo toks[TOK_MEMO_SLOTS];
};

#define PRIV(wp) ((struct sx_flows_worker_priv *)(wp))

int sx_flows_worker_new(struct sx_flows *fl, struct sx_flows_worker **out)
{
	struct sx_flows_worker_priv *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p)
		return -ENOMEM;
	p->w.fl = fl;
	sx_buf_init(&p->w.out);
	p->w.cur.sweep_at_live = fl->cfg.sweep_min_live;
	atomic_fetch_add(&fl->nworkers, 1);
	*out = &p->w;
	return 0;
}

static struct sx_flow *arena_alloc(struct sx_flows_worker *w)
{
	struct sx_flow *f = w->free_list;

	if (f) {
		w->free_list = f->next;
		return f;
	}
	if (!w->bump || w->bump + SX_RECORD_SIZE > w->bump_end) {
		/* A worker's later chunks are mapped with their pages: one call,
		 * where faulting them in one by one cost a trap per 4 KiB (most
		 * of a busy worker's page faults).  Its first is faulted in as
		 * used: the worker of a small unit (sigex batch) touches a few
		 * pages of it. */
		int populate = w->chunks ? MAP_POPULATE : 0;
		struct arena_chunk *c = mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE,
					     MAP_PRIVATE | MAP_ANONYMOUS | populate, -1, 0);

		if (c == MAP_FAILED)
			return NULL;
		c->next = w->chunks;
		w->chunks = c;
		w->bump = (char *)c + SX_CACHELINE;
		w->bump_end = (char *)c + CHUNK_BYTES;
	}
	f = (struct sx_flow *)(void *)w->bump;
	w->bump += SX_RECORD_SIZE;
	return f;
}

/* Back to the arena: never published, or unreachable after a grace period. */
static void arena_free(struct sx_flows_worker *w, struct sx_flow *f)
{
	f->next = w->free_list;
	w->free_list = f;
}

static void live_push(struct sx_flows_worker *w, struct sx_flow *f)
{
	f->next = NULL;
	f->prev = w->tail;
	if (w->tail)
		w->tail->next = f;
	else
		w->head = f;
	w->tail = f;
	w->live++;
	if (w->live > PRIV(w)->st.peak)
		PRIV(w)->st.peak = w->live;
}

static void live_unlink(struct sx_flows_worker *w, struct sx_flow *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		w->head = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else
		w->tail = f->prev;
	w->live--;
}

uint64_t sx_flows_worker_live(const struct sx_flows_worker *w)
{
	return w->live;
}

/* ---- read-side batches and resizing ---- */

static void read_lock(struct sx_flows_worker *w)
{
	if (!w->in_read) {
		urcu_memb_read_lock();
		w->in_read = true;
	}
}

static void do_resizes(struct sx_flows_worker *w)
{
	struct sx_flows *fl = w->fl;
	uint64_t mask = w->resize_mask;

	w->resize_mask = 0;
	while (mask) {
		unsigned i = (unsigned)__builtin_ctzll(mask);
		struct sx_shard *s = &fl->shards[i];
		uint64_t n;

		mask &= mask - 1;
		if (atomic_flag_test_and_set(&s->resizing))
			continue; /* another worker is on it */
		n = atomic_load(&s->nflows);
		if (n > 4 * (uint64_t)atomic_load(&s->nbuckets)) {
			unsigned long target = next_pow2(n);

			cds_lfht_resize(s->ht, target);
			atomic_store(&s->nbuckets, target);
			atomic_fetch_add_explicit(&fl->st_resizes, 1, RELAXED);
		}
		atomic_flag_clear(&s->resizing);
	}
}

void sx_flows__read_unlock(struct sx_flows_worker *w)
{
	if (w->in_read) {
		TSAN_RELEASE(&w->fl->gp_token);
		urcu_memb_read_unlock();
		w->in_read = false;
	}
	w->last = NULL; /* no record stays safe to touch outside the batch */
	w->batch = 0;
	if (w->resize_mask)
		do_resizes(w);
}

void sx_flows_worker_release(struct sx_flows_worker *w)
{
	sx_flows__read_unlock(w);
}

/* ---- per-packet update ---- */

/* What a packet brings, computed once before the table is touched. */
struct pkt_info {
	int64_t ts;
	uint32_t wire;
	uint8_t tflags;
	uint8_t rank;
	bool payload;
	bool app;		    /* may carry spec text or attribute tokens */
	bool sole;		    /* the worker's w->sole */
	const char *attrs;	    /* the tokens, made lazily (under the first lock) */
	struct tok_memo *toks;	    /* the worker's memo of them */
	char own[SX_FLOW_ATTR_MAX]; /* the tokens of a message without a number */
};

/* The packet's attribute tokens: from the worker's memo when the decoding
 * numbered its message, else made in pi->own. */
static const char *pkt_tokens(struct pkt_info *pi, const struct sx_pkt *pkt)
{
	struct tok_memo *t;

	if (!pkt->app_id) {
		sx_flows__pkt_attrs(pkt, pi->own, sizeof(pi->own));
		return pi->own;
	}
	t = &pi->toks[pkt->app_id % TOK_MEMO_SLOTS];
	if (t->id != pkt->app_id) {
		sx_flows__pkt_attrs(pkt, t->text, sizeof(t->text));
		t->id = pkt->app_id;
	}
	return t->text;
}

static void flow_locked_update(struct sx_flow *f, const struct sx_pkt *pkt, unsigned dir,
			       struct pkt_info *pi)
{
	uint8_t tf = pi->tflags;
	uint8_t st;

	if (!pi->sole)
		flow_lock(f);
	st = atomic_load_explicit(&f->state, RELAXED);
	if (tf & SX_TCP_SYN) {
		if (!(tf & SX_TCP_ACK)) {
			if (f->init_by != SX_INIT_SYN) {
				f->init_dir = (uint8_t)dir;
				f->init_by = SX_INIT_SYN;
			}
		} else if (f->init_by == SX_INIT_FIRST) {
			f->init_dir = (uint8_t)!dir;
			f->init_by = SX_INIT_SYNACK;
		}
	}
	if ((tf & SX_TCP_RST) && !(st & SX_FS_ENDED)) {
		f->end = SX_END_RST;
		atomic_fetch_or_explicit(&f->state, SX_FS_ENDED, RELAXED);
	}
	if (tf & SX_TCP_FIN) {
		f->fin_mask |= (uint8_t)(1u << dir);
		if (f->fin_mask == 3 && !(st & SX_FS_ENDED)) {
			f->end = SX_END_FIN;
			atomic_fetch_or_explicit(&f->state, SX_FS_ENDED, RELAXED);
		}
	}
	if (pi->payload && f->nseq < SX_FLOW_SEQ_MAX) {
		unsigned n = f->nseq;
		int64_t prev = n ? f->seq_prev_ns : atomic_load_explicit(&f->first_ns, RELAXED);
		int32_t len = (int32_t)SX_MIN(pi->wire, (uint32_t)INT32_MAX);

		f->seq_len[n] = dir ? -len : len;
		f->seq_iat[n] = pi->ts > prev ? pi->ts - prev : 0;
		f->seq_prev_ns = pi->ts;
		f->nseq = (uint8_t)(n + 1);
		atomic_store_explicit(&f->nseq_hint, f->nseq, RELAXED);
	}
	if (pi->app) {
		/* Computed here, so a flow pays for its spec once. */
		if (!f->spec[0])
			sx_flows__pkt_spec(pkt, f->spec, sizeof(f->spec));
		if (!pi->attrs)
			pi->attrs = pkt_tokens(pi, pkt);
		if (pi->attrs[0] && sx_flows__attrs_merge(f->attrs, sizeof(f->attrs), &f->attr_len,
							  f->attr_run, pi->attrs))
			f->attr_cut = 1;
	}
	if (pi->rank > atomic_load_explicit(&f->top_rank, RELAXED)) {
		f->top_proto = pkt->proto;
		atomic_store_explicit(&f->top_rank, pi->rank, RELAXED);
	}
	if (!pi->sole)
		flow_unlock(f);
}

static void flow_update(struct sx_flow *f, const struct sx_pkt *pkt, unsigned dir,
			struct pkt_info *pi)
{
	uint8_t tf = pi->tflags;

	if (add_u64(&f->pkts[dir], 1, pi->sole) == 0)
		atomic_store_explicit(&f->mac[dir],
				      sx_mac_pack(sx_pkt_is_arp(pkt) ? pkt->arp_sha : pkt->mac_src),
				      RELAXED);
	add_u64(&f->bytes[dir], pi->wire, pi->sole);
	max_i64(&f->last_ns, pi->ts, pi->sole);
	min_i64(&f->first_ns, pi->ts, pi->sole);
	if (tf & ~atomic_load_explicit(&f->flags[dir], RELAXED))
		or_u8(&f->flags[dir], tf, pi->sole);
	if ((tf & (SX_TCP_SYN | SX_TCP_FIN | SX_TCP_RST)) ||
	    (pi->payload && atomic_load_explicit(&f->nseq_hint, RELAXED) < SX_FLOW_SEQ_MAX) ||
	    pi->app || pi->rank > atomic_load_explicit(&f->top_rank, RELAXED))
		flow_locked_update(f, pkt, dir, pi);
}

/* Whether the packet starts a new flow on f's key: 0, or the SX_FS_* bits to
 * retire f with. */
static uint8_t flow_over(const struct sx_flows *fl, struct sx_flow *f, const struct pkt_info *pi)
{
	int64_t last = atomic_load_explicit(&f->last_ns, RELAXED);

	if (sx_flows__apart(pi->ts, last, fl->cfg.idle_ns))
		return SX_FS_RETIRED | SX_FS_RET_IDLE;
	if ((pi->tflags & (SX_TCP_SYN | SX_TCP_ACK)) == SX_TCP_SYN &&
	    (atomic_load_explicit(&f->state, RELAXED) & SX_FS_ENDED))
		return SX_FS_RETIRED;
	return 0;
}

/* A new record holding this packet, not yet published. */
static struct sx_flow *flow_create(struct sx_flows_worker *w, const struct sx_flow_key *key,
				   unsigned shard, const struct sx_pkt *pkt, unsigned dir,
				   const struct sx_flow_unit *u, struct pkt_info *pi)
{
	struct sx_flow *f = arena_alloc(w);

	if (!f)
		return NULL;
	memset(f, 0, offsetof(struct sx_flow, seq_len));
	f->spec[0] = '\0';
	f->attrs[0] = '\0';
	atomic_flag_clear(&f->lock);
	f->key = *key;
	f->shard = (uint8_t)shard;
	f->unit_end_ns = u->end_ns;
	f->first_index = pkt->index;
	f->init_dir = (uint8_t)dir;
	f->init_by = SX_INIT_FIRST;
	if (u->session && atomic_load_explicit(&((struct sx_flow *)u->session)->first_ns, RELAXED) <
			      u->start_ns) {
		/* Open before the window: the session's initiator, not the window's
		 * first sender (flow_unit.c). */
		f->init_dir = u->session->init_dir;
		f->init_by = u->session->init_by;
		f->session = 1;
	}
	f->top_proto = key->family == 6 ? SX_P_IPV6 : SX_P_IPV4;
	if (sx_flow_key_is_arp(key)) {
		/* the target's side never sends: it keeps tha (flow.h) */
		f->top_proto = SX_P_ARP;
		atomic_store_explicit(&f->mac[1], sx_mac_pack(pkt->arp_tha), RELAXED);
	}
	atomic_store_explicit(&f->first_ns, pi->ts, RELAXED);
	atomic_store_explicit(&f->last_ns, pi->ts, RELAXED);
	flow_update(f, pkt, dir, pi);
	return f;
}

static void publish(struct sx_flow *f)
{
	atomic_fetch_or_explicit(&f->state, SX_FS_PUBLISHED, memory_order_release);
}

int sx_flows_add(struct sx_flows_worker *w, const struct sx_pkt *pkt, uint32_t event,
		 int64_t unit_end_ns)
{
	struct sx_flow_unit u = {.event = event, .start_ns = INT64_MIN, .end_ns = unit_end_ns};

	return sx_flows__add(w, pkt, &u, NULL);
}

int sx_flows__add(struct sx_flows_worker *w, const struct sx_pkt *pkt, const struct sx_flow_unit *u,
		  struct sx_flow **out)
{
	struct sx_flows *fl = w->fl;
	struct sx_flow_key key;
	struct cds_lfht_iter iter;
	struct pkt_info pi;
	struct sx_shard *sh;
	struct sx_flow *g = NULL;
	unsigned dir, shard;
	uint64_t h;
	int ret = 0;

	if (pkt->src.family != 4 && pkt->src.family != 6 && !sx_pkt_is_arp(pkt))
		return 0;
	/* The capture being driven names the unit (a multi-table collect
	 * numbers captures per table); pkt->file when driven by this call alone. */
	dir = sx_flow_key_make(&key, pkt, w->cur.active ? w->cur.file : pkt->file, u->event);

	pi.ts = sx_flows__pkt_ns(pkt);
	pi.wire = pkt->wire_len;
	pi.tflags = pkt->ip_proto == 6 ? pkt->tcp_flags : 0;
	pi.rank = (uint8_t)sx_flows__proto_rank(pkt->proto);
	pi.payload =
	    (pkt->ip_proto == 6 || pkt->ip_proto == 17) && pkt->payload_len > 0 && !pkt->frag_later;
	pi.attrs = NULL;
	pi.toks = PRIV(w)->toks;
	pi.sole = w->sole;
	pi.app = sx_flows__pkt_has_app(pkt);

	read_lock(w);
	/* Most packets belong to the flow of the packet before (a stream's
	 * segments come in runs): that flow, if it is still the key's live node
	 * and the packet does not end it, is what the lookup would find. */
	g = w->last;
	if (g && sx_flow_key_eq(&g->key, &key) && !cds_lfht_is_node_deleted(&g->node) &&
	    !flow_over(fl, g, &pi)) {
		flow_update(g, pkt, dir, &pi);
		goto counted;
	}
	g = NULL;
	h = sx_flow_key_hash(&key, fl->cfg.seed);
	shard = (unsigned)(h >> (64 - SX_SHARD_BITS));
	sh = &fl->shards[shard];
	for (;;) {
		struct cds_lfht_node *node;
		struct sx_flow *f;
		uint8_t over = 0;

		cds_lfht_lookup(sh->ht, h, match_flow, &key, &iter);
		node = cds_lfht_iter_get_node(&iter);
		f = flow_of(node);
		if (f) {
			over = flow_over(fl, f, &pi);
			if (!over) {
				flow_update(f, pkt, dir, &pi);
				g = f;
				break;
			}
		}
		g = flow_create(w, &key, shard, pkt, dir, u, &pi);
		if (!g) {
			ret = -ENOMEM;
			latch(w, ret);
			if (f) /* keep the packet counted somewhere */
				flow_update(f, pkt, dir, &pi);
			g = f;
			break;
		}
		publish(g);
		if (f) {
			if (cds_lfht_replace(sh->ht, &iter, h, match_flow, &key, &g->node) == 0) {
				atomic_fetch_or_explicit(&f->state, over, memory_order_release);
				live_push(w, g);
				PRIV(w)->st.replaced++;
				break;
			}
		} else {
			node = cds_lfht_add_unique(sh->ht, h, match_flow, &key, &g->node);
			if (node == &g->node) {
				uint64_t n = atomic_fetch_add_explicit(&sh->nflows, 1, RELAXED) + 1;

				live_push(w, g);
				if (n > 4 * (uint64_t)atomic_load_explicit(&sh->nbuckets, RELAXED))
					w->resize_mask |= 1ull << shard;
				break;
			}
		}
		/* Lost a race: roll back and look again. */
		PRIV(w)->st.lost++;
		arena_free(w, g);
		g = NULL;
	}
counted:
	w->last = g;
	if (u->event != SX_FLOW_SESSION) {
		PRIV(w)->st.packets++;
		PRIV(w)->st.bytes += pkt->wire_len;
	}
	if (out)
		*out = g;
	if (++w->batch >= SX_BATCH_PKTS)
		sx_flows__read_unlock(w);
	return ret;
}

/* ---- eviction ---- */

/*
 * A pending flow's place in its batch: unit (capture, then event window),
 * first packet's time, then key and first packet number, the order of the
 * spill's runs.  The first three are copied next to the flow so that the
 * sort rarely reads the flow itself.
 */
struct sx_evict_ent {
	uint64_t unit; /* file << 32 | event */
	int64_t first_ns;
	struct sx_flow *f;
};

static inline bool evict_before(const struct sx_evict_ent *x, const struct sx_evict_ent *y)
{
	int c;

	if (x->unit != y->unit)
		return x->unit < y->unit;
	if (x->first_ns != y->first_ns)
		return x->first_ns < y->first_ns;
	c = sx_flow_key_cmp(&x->f->key, &y->f->key);
	if (c)
		return c < 0;
	return x->f->first_index < y->f->first_index;
}

SX_SORT_DEFINE(evict_sort, struct sx_evict_ent, evict_before)

/* The finished record of f, normalised to the device (initiator) side. */
static void to_rec(const struct sx_flows *fl, struct sx_flow *f, struct sx_flow_rec *r)
{
	unsigned d = f->init_dir;
	uint8_t st = atomic_load_explicit(&f->state, RELAXED);
	int64_t ref = f->unit_end_ns; /* min(unit end, clock at eviction): unlink_due() */
	unsigned i;

	r->key = f->key;
	r->first_ns = atomic_load_explicit(&f->first_ns, RELAXED);
	r->last_ns = atomic_load_explicit(&f->last_ns, RELAXED);
	r->first_index = f->first_index;
	r->pkts[0] = atomic_load_explicit(&f->pkts[d], RELAXED);
	r->pkts[1] = atomic_load_explicit(&f->pkts[!d], RELAXED);
	r->bytes[0] = atomic_load_explicit(&f->bytes[d], RELAXED);
	r->bytes[1] = atomic_load_explicit(&f->bytes[!d], RELAXED);
	r->tcp_flags[0] = atomic_load_explicit(&f->flags[d], RELAXED);
	r->tcp_flags[1] = atomic_load_explicit(&f->flags[!d], RELAXED);
	sx_mac_unpack(atomic_load_explicit(&f->mac[d], RELAXED), r->mac[0]);
	sx_mac_unpack(atomic_load_explicit(&f->mac[!d], RELAXED), r->mac[1]);
	r->dev = (uint8_t)d;
	r->init = f->init_by;
	r->session = f->session;
	if (st & SX_FS_ENDED)
		r->end = f->end;
	else if ((st & SX_FS_RET_IDLE) ||
		 (ref != INT64_MIN && sx_flows__apart(ref, r->last_ns, fl->cfg.idle_ns)))
		r->end = SX_END_IDLE;
	else
		r->end = SX_END_OPEN;
	r->top_proto = f->top_proto;
	r->nseq = f->nseq;
	r->attr_cut = f->attr_cut != 0;
	/* Only what the spill keeps (sx_spill__put_rec): the nseq entries in
	 * use, the texts up to their NUL; attr_len is the tokens' length. */
	for (i = 0; i < f->nseq; i++) {
		r->seq_len[i] = d ? -f->seq_len[i] : f->seq_len[i];
		r->seq_iat[i] = f->seq_iat[i];
	}
	memcpy(r->spec, f->spec, strlen(f->spec) + 1);
	memcpy(r->attrs, f->attrs, (size_t)f->attr_len + 1);
}

static bool sweep_due(const struct sx_flows *fl, const struct sx_flow *f, int64_t now_ns)
{
	return f->unit_end_ns <= now_ns ||
	       sx_flows__apart(now_ns,
			       atomic_load_explicit(&((struct sx_flow *)f)->last_ns, RELAXED),
			       fl->cfg.idle_ns);
}

/* Sort the collected batch and write it to the spill as one run per unit. */
static int write_batch(struct sx_flows_worker *w)
{
	struct sx_flows *fl = w->fl;
	struct sx_flow_rec *rec;
	struct sx_run *runs = NULL;
	size_t i, nruns = 0, cap = 0, nsession = 0;
	int ret = 0;

	for (i = 0; i < w->nevict; i++) {
		struct sx_flow *f = w->evict[i];

		w->order[i] =
		    (struct sx_evict_ent){.unit = (uint64_t)f->key.file << 32 | f->key.event,
					  .first_ns = atomic_load_explicit(&f->first_ns, RELAXED),
					  .f = f};
	}
	evict_sort(w->order, w->nevict, w->order + w->evict_cap);
	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	sx_buf_reset(&w->out);
	for (i = 0; i < w->nevict; i++) {
		struct sx_flow *f = w->order[i].f;
		size_t at = w->out.len;

		if (f->key.event == SX_FLOW_SESSION) {
			nsession++; /* a unit's helper, never a row */
			continue;
		}
		if (!nruns || runs[nruns - 1].file != f->key.file ||
		    runs[nruns - 1].event != f->key.event) {
			if (nruns == cap) {
				size_t ncap = cap ? cap * 2 : 4;
				struct sx_run *nr = sx_realloc_array(runs, ncap, sizeof(*runs));

				if (!nr) {
					ret = -ENOMEM;
					goto out;
				}
				runs = nr;
				cap = ncap;
			}
			runs[nruns++] =
			    (struct sx_run){.file = f->key.file, .event = f->key.event, .off = at};
		}
		to_rec(fl, f, rec);
		sx_spill__put_rec(&w->out, rec);
		runs[nruns - 1].len += w->out.len - at;
		runs[nruns - 1].count++;
	}
	if (w->out.err) {
		ret = w->out.err;
		goto out;
	}
	ret = sx_spill__write(&fl->spill, &w->out, runs, nruns);
	if (!ret)
		atomic_fetch_add_explicit(&fl->st_flows, w->nevict - nsession, RELAXED);
out:
	/* Release memory held by a big batch; small ones keep their buffer. */
	if (w->out.cap > 8 * SPILL_FLUSH)
		sx_buf_fini(&w->out);
	else
		sx_buf_reset(&w->out);
	free(runs);
	free(rec);
	return ret;
}

/*
 * Unlink the due flows from the table onto the worker's pending list
 * (w->evict[0..nevict)), fixing the clock each one ends at.  Returns 0 or
 * -ENOMEM.
 */
static int unlink_due(struct sx_flows_worker *w, bool all, int64_t now_ns, int64_t force_before,
		      size_t force_first)
{
	size_t seen = 0;
	struct sx_flows *fl = w->fl;
	struct sx_flow *f, *next;

	if (w->evict_cap < w->nevict + w->live) {
		size_t ncap = (size_t)(w->nevict + w->live);
		struct sx_flow **ne = sx_realloc_array(w->evict, ncap, sizeof(*ne));
		struct sx_evict_ent *no;

		if (!ne) {
			latch(w, -ENOMEM);
			return -ENOMEM;
		}
		w->evict = ne;
		no = sx_realloc_array(w->order, 2 * ncap, sizeof(*no));
		if (!no) {
			latch(w, -ENOMEM);
			return -ENOMEM;
		}
		w->order = no;
		w->evict_cap = ncap;
	}
	urcu_memb_read_lock();
	for (f = w->head; f; f = next) {
		uint8_t st = atomic_load_explicit(&f->state, memory_order_acquire);

		next = f->next;
		if (!(st & SX_FS_RETIRED)) {
			if (!all && !sweep_due(fl, f, now_ns)) {
				if (atomic_load_explicit(&f->last_ns, RELAXED) >= force_before &&
				    seen++ >= force_first)
					continue;
				atomic_fetch_or_explicit(&f->state, SX_FS_RET_IDLE, RELAXED);
				PRIV(w)->st.capped++;
			}
			/* Fails only when a concurrent replace already unlinked it. */
			if (cds_lfht_del(fl->shards[f->shard].ht, &f->node) == 0)
				atomic_fetch_sub_explicit(&fl->shards[f->shard].nflows, 1, RELAXED);
		}
		live_unlink(w, f);
		/* The clock that tells "idle" from "open" (to_rec); the owner
		 * alone reads unit_end_ns. */
		f->unit_end_ns = SX_MIN(f->unit_end_ns, now_ns);
		w->evict[w->nevict++] = f;
	}
	TSAN_RELEASE(&fl->gp_token);
	urcu_memb_read_unlock();
	return 0;
}

/* One grace period for every pending flow, then write them and recycle. */
static long flush_pending(struct sx_flows_worker *w)
{
	struct sx_flows *fl = w->fl;
	size_t i;
	long n;
	int ret;

	if (!w->nevict)
		return 0;
	urcu_memb_synchronize_rcu();
	TSAN_ACQUIRE(&fl->gp_token);
	atomic_fetch_add_explicit(&fl->st_batches, 1, RELAXED);
	ret = write_batch(w);
	if (ret)
		latch(w, ret);
	for (i = 0; i < w->nevict; i++)
		arena_free(w, w->evict[i]);
	n = (long)w->nevict;
	w->nevict = 0;
	return ret ? ret : n;
}

long sx_flows__evict(struct sx_flows_worker *w, bool all, int64_t now_ns, int64_t force_before,
		     size_t force_first)
{
	int ret;

	sx_flows__read_unlock(w);
	if (w->live) {
		ret = unlink_due(w, all, now_ns, force_before, force_first);
		if (ret)
			return ret;
	}
	return flush_pending(w);
}

void sx_flows__retire_all(struct sx_flows_worker *w, int64_t now_ns)
{
	sx_flows__read_unlock(w);
	if (w->live && unlink_due(w, true, now_ns, INT64_MIN, 0))
		return;
	if (w->nevict >= SX_EVICT_DEFER_MAX)
		flush_pending(w);
}

long sx_flows_sweep(struct sx_flows_worker *w, int64_t now_ns)
{
	return sx_flows__evict(w, false, now_ns, INT64_MIN, 0);
}

static int cmp_i64(const void *pa, const void *pb)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;

	return a < b ? -1 : a > b;
}

void sx_flows__cap(struct sx_flows_worker *w)
{
	struct sx_flow *f;
	int64_t *last, median;
	size_t n = 0, before = 0, i;

	if (w->live <= w->fl->cfg.max_live)
		return;
	last = sx_calloc_array((size_t)w->live, sizeof(*last));
	if (!last) {
		latch(w, -ENOMEM);
		return;
	}
	for (f = w->head; f; f = f->next)
		last[n++] = atomic_load_explicit(&f->last_ns, RELAXED);
	qsort(last, n, sizeof(*last), cmp_i64);
	median = last[n / 2];
	for (i = 0; i < n && last[i] < median; i++)
		before++;
	free(last);
	/* The least recently active half; when timestamps do not tell them
	 * apart (all equal), the oldest-created half. */
	if (before >= n / 4)
		sx_flows__evict(w, false, w->cur.clock, median, 0);
	else
		sx_flows__evict(w, false, w->cur.clock, INT64_MIN, n / 2);
}

struct sx_frags *sx_flows__frags(struct sx_flows_worker *w)
{
	int ret;

	if (!w->frags) {
		ret = sx_frags__new(&w->frags);
		if (ret)
			latch(w, ret);
	}
	return w->frags;
}

static void add_frag_stats(struct sx_flows *fl, struct sx_frags *t)
{
	const struct sx_frag_stats *fs;
	uint64_t peak;

	sx_frags__reset(t); /* what is still held is unmatched */
	fs = sx_frags__stats(t);
	atomic_fetch_add_explicit(&fl->st_fjoined, fs->joined, RELAXED);
	atomic_fetch_add_explicit(&fl->st_fheld, fs->held, RELAXED);
	atomic_fetch_add_explicit(&fl->st_funmatched, fs->unmatched, RELAXED);
	atomic_fetch_add_explicit(&fl->st_fdropped, fs->dropped, RELAXED);
	atomic_fetch_add_explicit(&fl->st_fevicted, fs->evicted, RELAXED);
	atomic_fetch_add_explicit(&fl->st_foverlap, fs->overlap, RELAXED);
	peak = atomic_load(&fl->st_fpeak);
	while (peak < fs->peak && !atomic_compare_exchange_weak(&fl->st_fpeak, &peak, fs->peak))
		;
}

int sx_flows_worker_free(struct sx_flows_worker *w)
{
	struct sx_flows_worker_priv *p = PRIV(w);
	struct sx_flows *fl;
	struct arena_chunk *c, *next;
	int err;
	uint64_t peak;

	if (!w)
		return 0;
	fl = w->fl;
	/* No capture clock when driven by sx_flows_add() alone: flows stay "open". */
	sx_flows__evict(w, true, w->cur.any ? w->cur.clock : INT64_MIN, INT64_MIN, 0);
	sx_flows__read_unlock(w);
	err = w->err;
	for (c = w->chunks; c; c = next) {
		next = c->next;
		munmap(c, CHUNK_BYTES);
	}
	atomic_fetch_add_explicit(&fl->st_packets, p->st.packets, RELAXED);
	atomic_fetch_add_explicit(&fl->st_bytes, p->st.bytes, RELAXED);
	atomic_fetch_add_explicit(&fl->st_replaced, p->st.replaced, RELAXED);
	atomic_fetch_add_explicit(&fl->st_lost, p->st.lost, RELAXED);
	atomic_fetch_add_explicit(&fl->st_capped, p->st.capped, RELAXED);
	peak = atomic_load(&fl->st_peak_live);
	while (peak < p->st.peak &&
	       !atomic_compare_exchange_weak(&fl->st_peak_live, &peak, p->st.peak))
		;
	if (w->frags) {
		add_frag_stats(fl, w->frags);
		sx_frags__free(w->frags);
	}
	atomic_fetch_sub(&fl->nworkers, 1);
	free(w->evict);
	free(w->order);
	sx_buf_fini(&w->out);
	free(p);
	return err;
}

#if defined(__has_include)
#if __has_include(<urcu/version.h>)
#include <urcu/version.h>
#endif
#endif
#define SX_STR_(x) #x
#define SX_STR(x)  SX_STR_(x)

const char *sx_flows_urcu_version(void)
{
#if defined(URCU_VERSION_MAJOR) && defined(URCU_VERSION_MINOR) && defined(URCU_VERSION_PATCH)
	return SX_STR(URCU_VERSION_MAJOR) "." SX_STR(URCU_VERSION_MINOR) "." SX_STR(
	    URCU_VERSION_PATCH) " (headers; liburcu has no run-time query)";
#else
	return SX_URCU_BUILD_VERSION " (at build time; liburcu has no run-time query)";
#endif
}
