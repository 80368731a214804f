/*
 * flows_int.h - PRIVATE to src/flows: the live flow record, the table, the
 * worker, the spill, and the cross-file helpers (sx_flows__*).
 *
 * The only header of the project that includes liburcu (memb flavor, library
 * calls: _LGPL_SOURCE is not defined, the read lock is taken per batch of
 * packets so its call cost does not matter).
 */
#ifndef SX_FLOWS_FLOWS_INT_H
#define SX_FLOWS_FLOWS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <urcu/urcu-memb.h>
#include <urcu/rculfhash.h>

#include "core/buf.h"
#include "core/compiler.h"
#include "flows/flows.h"

#define SX_SHARD_BITS	   6
#define SX_NSHARDS	   (1u << SX_SHARD_BITS)
#define SX_MIN_BUCKETS	   1024ul      /* per shard, without an estimate */
#define SX_MIN_BUCKETS_EST 16ul	       /* per shard at least, with one */
#define SX_MAX_PRESIZE	   (1ul << 14) /* buckets per shard from the estimate */
#define SX_BATCH_PKTS	   256	       /* packets per read-side critical section */
#define SX_RECORD_SIZE	   1536	       /* a multiple of SX_CACHELINE: sx_flow, padded */

/* sx_flow.state bits */
#define SX_FS_PUBLISHED 0x01 /* initialised; release-stored before add_unique */
#define SX_FS_ENDED	0x02 /* TCP: both FINs or an RST seen */
#define SX_FS_RETIRED	0x04 /* replaced by a newer flow on the same key */
#define SX_FS_RET_IDLE	0x08 /* ... because it was idle (or evicted by the cap) */

/*
 * One live flow.  64-byte aligned, SX_RECORD_SIZE bytes, carved from the
 * creating worker's arena.  The rculfhash node comes first (pitfall 9: UBSan
 * with 0.13.2's cds_lfht_for_each_entry) and shares the first cache line
 * with the key that match_flow() reads.
 *
 * Who writes what:
 *   key, shard, unit_end_ns, first_index   creator, before publication
 *   pkts, bytes, flags, first/last_ns      any updater, atomics (relaxed)
 *   state                                  atomics (see SX_FS_*)
 *   fields after "lock"                    any updater, under lock
 *   next, prev                             creator only (its live list)
 */
struct sx_flow {
	struct cds_lfht_node node;
	struct sx_flow_key key;
	/* second line: hot counters */
	_Atomic uint64_t pkts[2]; /* by key direction: [0] from lo, [1] from hi */
	_Atomic uint64_t bytes[2];
	_Atomic int64_t first_ns;
	_Atomic int64_t last_ns;
	_Atomic uint8_t flags[2];
	_Atomic uint8_t state;
	_Atomic uint8_t nseq_hint; /* copy of nseq, read without the lock */
	_Atomic uint8_t top_rank;  /* rank of top_proto, read without the lock */
	uint8_t shard;
	atomic_flag lock;
	struct sx_flow *next, *prev;
	int64_t unit_end_ns;
	uint64_t first_index;
	/* Ethernet source of each key direction's first packet (48 bits), 0
	 * when none: written once, by the thread that counts that packet. */
	_Atomic uint64_t mac[2];
	/* under lock */
	int64_t seq_prev_ns;
	uint8_t init_dir; /* key direction of the initiator */
	uint8_t init_by;  /* enum sx_flow_init */
	uint8_t fin_mask; /* bit per key direction */
	uint8_t end;	  /* SX_END_FIN / SX_END_RST once ended */
	uint8_t top_proto;
	uint8_t nseq;
	uint8_t attr_cut;
	uint8_t session; /* a session open before the unit's window (flow_unit.c) */
	uint16_t attr_len;
	uint16_t attr_run[2];		  /* sx_flows__attrs_merge()'s last run: offset, length */
	int32_t seq_len[SX_FLOW_SEQ_MAX]; /* sign: + from lo, - from hi */
	int64_t seq_iat[SX_FLOW_SEQ_MAX];
	char spec[SX_FLOW_SPEC_MAX];
	char attrs[SX_FLOW_ATTR_MAX];
} __attribute__((aligned(SX_CACHELINE)));

struct sx_shard {
	struct cds_lfht *ht;
	_Atomic uint64_t nflows;
	_Atomic unsigned long nbuckets;
	atomic_flag resizing;
} __attribute__((aligned(SX_CACHELINE)));

/* A sorted run of one unit in the spill (offset: flow_spill.c). */
struct sx_run {
	uint32_t file;
	uint32_t event;
	uint64_t off;
	uint64_t len;
	uint64_t count;
};

/* The spill's memory by default: its first bytes (flow_spill.c's top
 * comment). */
#define SX_SPILL_MEM_DEFAULT (8u << 20)

struct sx_spill {
	char *mem;		   /* mem_cap bytes mapped, or NULL */
	uint64_t mem_cap;	   /* 0 without memory: every run in the file */
	_Atomic uint64_t mem_end;  /* bytes of mem reserved so far */
	int fd;			   /* the file, -1 until a run is written to it */
	int file_err;		   /* its creation failed: -errno (under lock) */
	char *dir;		   /* where it is created */
	_Atomic uint64_t file_end; /* bytes of the file reserved so far */
	pthread_mutex_t lock;	   /* runs, the file's creation */
	struct sx_run *runs;
	size_t nruns, cap;
};

struct sx_flows {
	struct sx_shard shards[SX_NSHARDS];
	struct sx_flows_cfg cfg;
	struct sx_spill spill;
	_Atomic int err;
	_Atomic int nworkers;
	bool split_cap; /* max_live comes from cfg.max_flows / reader threads */
	/* the windows of a capture without cfg.windows: every event, in order */
	struct sx_window *all_windows;
	uint32_t nall_windows;
	/* stats */
	_Atomic uint64_t st_flows, st_packets, st_bytes, st_batches, st_resizes, st_replaced,
	    st_lost, st_peak_live, st_capped;
	_Atomic uint64_t st_fjoined, st_fheld, st_funmatched, st_fdropped, st_fevicted, st_foverlap,
	    st_fpeak;
	char gp_token; /* TSan: models the grace period's happens-before */
};

struct arena_chunk {
	struct arena_chunk *next;
};

struct sx_flows_worker {
	struct sx_flows *fl;
	/* arena */
	struct arena_chunk *chunks;
	char *bump, *bump_end;
	struct sx_flow *free_list;
	/* flows created by this worker, oldest first */
	struct sx_flow *head, *tail;
	uint64_t live;
	/* read-side batch */
	bool in_read;
	unsigned batch;
	/* no other worker writes the flows this one writes (the pipeline: a
	 * capture is read by one thread, and the key holds the capture), so
	 * counters are updated by plain relaxed loads and stores and the
	 * per-flow lock is not taken; false (sx_flows_add() callers): atomic
	 * read-modify-writes and the lock */
	bool sole;
	/* the flow the previous packet went to, valid inside this read-side
	 * batch only (sx_flows__add()); NULL: none */
	struct sx_flow *last;
	uint64_t resize_mask; /* shards to look at after the batch */
	/* eviction */
	struct sx_flow **evict;
	size_t nevict, evict_cap;
	struct sx_evict_ent *order; /* write_batch()'s sort keys: 2 x evict_cap */
	struct sx_buf out;
	int err;
	/* fragments of the current capture (flow_frag.c): made at the first
	 * fragment (most captures have none), NULL until then */
	struct sx_frags *frags;
	/* the current capture (flow_unit.c) */
	struct {
		uint32_t file;
		bool active;
		bool any;	 /* a packet was seen */
		bool cut;	 /* --window closed */
		int64_t clock;	 /* latest timestamp seen */
		int64_t prev_ns; /* --window: last accepted non-signalling packet */
		int64_t next_sweep_ns;
		uint64_t sweep_at_live;
	} cur;
};

/* ---- flow_unit.c ---- */
/* The event windows of capture file, sorted by start (*n of them). */
const struct sx_window *sx_flows__windows(const struct sx_flows *fl, uint32_t file, uint32_t *n);

/* ---- flow_table.c ---- */
void sx_flows__read_unlock(struct sx_flows_worker *w);

/*
 * key.event of a capture's session shadow in --events mode (flow_unit.c):
 * every IP packet of the capture is also counted, outside any window, to
 * the flow of this unit, so that a window's flow can learn when and by whom
 * its connection was opened.  Shadows leave the table like other flows but
 * are never written to the spill.
 */
#define SX_FLOW_SESSION (UINT32_MAX - 1)

/* The unit a packet is added to. */
struct sx_flow_unit {
	uint32_t event;	  /* key.event */
	int64_t start_ns; /* window start, INT64_MIN when open-ended */
	int64_t end_ns;	  /* window end, INT64_MAX when open-ended */
	/* the packet's session shadow, or NULL: a flow created in the window
	 * whose shadow began before start_ns takes the shadow's initiator and is
	 * marked session */
	const struct sx_flow *session;
};

/*
 * sx_flows_add() with the unit spelled out; *out (when not NULL) is set to
 * the flow the packet was counted to (NULL on -ENOMEM without one).  The
 * pointer stays valid until the worker's next eviction.  Context: RCU
 * thread, the worker's owner.
 */
int sx_flows__add(struct sx_flows_worker *w, const struct sx_pkt *pkt, const struct sx_flow_unit *u,
		  struct sx_flow **out);
/*
 * Evict in one batch: all == true takes every flow of the worker; else the
 * sweep rule at now_ns (replaced, idle, unit ended), plus, for the memory
 * cap, the flows last active before force_before (INT64_MIN: none) and the
 * force_first oldest-created ones; those end as idle.  now_ns is also the
 * clock that tells "idle" from "open".  Returns the number evicted or a
 * negative error.
 */
long sx_flows__evict(struct sx_flows_worker *w, bool all, int64_t now_ns, int64_t force_before,
		     size_t force_first);
/*
 * The end of a capture: unlink every flow of the worker now, but wait for
 * the grace period (and write them) only once SX_EVICT_DEFER_MAX flows are
 * pending, or at the next eviction or sx_flows_worker_free(): one grace
 * period per capture made small captures cost a membarrier each.  Pending
 * records go back to the arena only after their grace period, so the bound
 * is also how far a worker's records (1.5 KiB each) and its eviction buffer
 * spread before they are reused: 4096 left them cold in cache when reused,
 * and cost the 390 small bench captures 15 % more CPU than 1024 (-j1 and
 * -j2 alike, the large capture unchanged).
 */
#define SX_EVICT_DEFER_MAX 1024
void sx_flows__retire_all(struct sx_flows_worker *w, int64_t now_ns);
/* The memory cap: evict the least recently active half when over max_live. */
void sx_flows__cap(struct sx_flows_worker *w);
int64_t sx_flows__pkt_ns(const struct sx_pkt *pkt);

/* Whether two times are more than idle apart, in either direction.  Times
 * are clamped by sx_flows__pkt_ns(), so the difference cannot overflow. */
static inline bool sx_flows__apart(int64_t a, int64_t b, int64_t idle)
{
	return a - b > idle || b - a > idle;
}

/* ---- flow_app.c ---- */
/* Rank of a protocol for the Protocol column: 2 application, 1 transport,
 * 0 bare IP. */
unsigned sx_flows__proto_rank(uint8_t proto);
/* Whether the packet may carry spec text or attribute tokens (cheap). */
bool sx_flows__pkt_has_app(const struct sx_pkt *pkt);
/* ApplicationSpecific text of a packet into buf ("" if none). */
void sx_flows__pkt_spec(const struct sx_pkt *pkt, char *buf, size_t bufsz);
/* Attribute tokens of a packet, space-separated, into buf ("" if none). */
void sx_flows__pkt_attrs(const struct sx_pkt *pkt, char *buf, size_t bufsz);
/*
 * Add the tokens of src (space-separated) to the list dst (*dlen bytes of
 * dsz, tokens once each, in order of first sight); true if some did not
 * fit.  run[0..1] is the offset and length of a run of dst that equals an
 * earlier src ({0, 0} for a new list, dst only ever growing): src equal to
 * it adds nothing, and src found or appended whole becomes the new run.
 */
bool sx_flows__attrs_merge(char *dst, size_t dsz, uint16_t *dlen, uint16_t run[2], const char *src);

/* ---- flow_frag.c ---- */
struct sx_frags;

struct sx_frag_stats {
	uint64_t joined, held, unmatched, dropped, evicted, overlap, peak;
};

/* What to do with a fragment. */
enum sx_frag_act {
	SX_FRAG_PASS,  /* a first fragment: count it as it is */
	SX_FRAG_COUNT, /* a later fragment: count the view instead */
	SX_FRAG_HELD,  /* held until its first fragment comes */
	SX_FRAG_DROP,  /* counted in no flow (a counter says why) */
};

/* A fixed-size table (no allocation afterwards).  0 or -ENOMEM. */
int sx_frags__new(struct sx_frags **out);
/* w's fragment table, made at its first use; NULL without memory (the
 * error latched: the run fails).  flow_table.c. */
struct sx_frags *sx_flows__frags(struct sx_flows_worker *w);
void sx_frags__free(struct sx_frags *t);
/* Forget every datagram (held fragments count as unmatched). */
void sx_frags__reset(struct sx_frags *t);
const struct sx_frag_stats *sx_frags__stats(const struct sx_frags *t);
/* Whether pkt is a fragment that the table handles (TCP/UDP, not atomic). */
bool sx_frags__tracked(const struct sx_pkt *pkt);
/*
 * sx_frags__packet - classify a tracked fragment at time ts.  For
 * SX_FRAG_COUNT, *view is pkt's headers with its datagram's ports (borrowed
 * from the table, valid until the next call).  After an SX_FRAG_PASS, call
 * sx_frags__replay() until NULL: the held fragments of that datagram.
 */
enum sx_frag_act sx_frags__packet(struct sx_frags *t, const struct sx_pkt *pkt, int64_t ts,
				  const struct sx_pkt **view);
const struct sx_pkt *sx_frags__replay(struct sx_frags *t);

/* ---- flow_spill.c ---- */
/* An empty spill of mem_cap bytes of memory (0: none) whose file goes in
 * dir (NULL: $TMPDIR, else /tmp) when it is needed.  0 or -ENOMEM. */
int sx_spill__init(struct sx_spill *s, const char *dir, uint64_t mem_cap);
void sx_spill__fini(struct sx_spill *s);
/* Bytes written to the spill, memory and file. */
uint64_t sx_spill__bytes(const struct sx_spill *s);
/* Write buf (runs already laid out) and register its runs (offsets relative
 * to buf).  0 or -errno. */
int sx_spill__write(struct sx_spill *s, const struct sx_buf *buf, const struct sx_run *runs,
		    size_t nruns);
/* Append r to b as a spill record (flow_spill.c's layout). */
void sx_spill__put_rec(struct sx_buf *b, const struct sx_flow_rec *r);

/* ---- flow_service.c ---- */
struct sx_svc_map;
int sx_svc_map_new(struct sx_svc_map **out);
void sx_svc_map_free(struct sx_svc_map *m);
void sx_svc_map_reset(struct sx_svc_map *m);
/* Pass 1: count the endpoints of a flow that the in-flow rules leave open. */
void sx_svc_map_count(struct sx_svc_map *m, const struct sx_flow_rec *r);
/* Pass 2: choose the service side. */
enum sx_flow_side sx_flows__service(const struct sx_svc_map *m, const struct sx_flow_rec *r);

#endif /* SX_FLOWS_FLOWS_INT_H */
