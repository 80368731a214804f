/*
 * flows.h - PUBLIC API of the flows module: packets in, bidirectional flows
 * out, per unit (capture, or event window within a capture), in a stable
 * order.
 *
 * Pipeline:
 *
 *   sx_flows_new()                      one run-wide table (64 rculfhash shards)
 *   sx_flows_collect()                  reader threads (sx_ingest_run) feed it;
 *     per thread: sx_flows_worker_*     finished flows leave the table in
 *                                       batches into the spill (memory,
 *                                       then a file)
 *   sx_flows_reduce()                   per unit, k-way merge of the spilled
 *                                       runs: rows in (first timestamp, key)
 *                                       order, names resolved
 *   sx_flows_free()
 *
 * Semantics (what a flow is, the unit rules, the CSV columns) are documented
 * at the top of flow_table.c, flow_unit.c and flow_csv.c.
 *
 * Threads: every thread that calls a function marked "RCU thread" must be
 * between sx_flows_thread_enter() and sx_flows_thread_leave() (liburcu
 * registration; nesting is counted).  sx_flows_collect() does this for its
 * reader threads.
 */
#ifndef SX_FLOWS_FLOWS_H
#define SX_FLOWS_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "flows/flow.h"
#include "ingest/ingest.h"
#include "ingest/packet.h"

struct sx_buf;

/* Defaults of the command-line options, in seconds (see flow_unit.c). */
#define SX_FLOWS_IDLE_DEFAULT	  120 /* --idle-timeout */
#define SX_FLOWS_WINDOW_DEFAULT	  0   /* --window: 0 = the whole capture */
#define SX_FLOWS_DURATION_DEFAULT 30  /* --duration of an --events window */

/*
 * Memory ceiling (--max-flows).  A live flow costs one 1 KiB record; by
 * default each reader thread holds at most this many (128 MiB) before it
 * ends the least recently active half of them early, as idle, in one batch.
 * With --max-flows N the run holds at most N, N / threads per reader
 * thread.  The cap binds only when more flows than that are active at once
 * (a scan, timestamps that never advance); sx_flows_stats.capped counts the
 * flows it ended, and the commands print one warning per run.
 */
#define SX_FLOWS_MAX_LIVE_DEFAULT 131072

/*
 * IP fragments (flow_frag.c): a later fragment of a TCP or UDP datagram is
 * counted to the flow of its first fragment, with that fragment's ports,
 * when both come within SX_FLOWS_FRAG_WINDOW_NS of the datagram's first
 * fragment seen; per worker, at most SX_FLOWS_FRAG_MAX datagrams are
 * remembered (oldest out first), SX_FLOWS_FRAG_PKTS fragments accounted per
 * datagram, and SX_FLOWS_FRAG_HOLD later fragments (SX_FLOWS_FRAG_HOLD_PER
 * per datagram) held while their first fragment has not come.  A later
 * fragment that finds no first fragment is counted in frag_unmatched and in
 * no flow.
 */
#define SX_FLOWS_FRAG_WINDOW_NS (30 * 1000000000LL)
#define SX_FLOWS_FRAG_MAX	1024
#define SX_FLOWS_FRAG_PKTS	128
#define SX_FLOWS_FRAG_HOLD	256
#define SX_FLOWS_FRAG_HOLD_PER	8

#define SX_NS_PER_SEC 1000000000LL
/* Longest idle timeout, window or duration accepted (about 3 years). */
#define SX_FLOWS_MAX_SPAN_NS (100000000LL * SX_NS_PER_SEC)

/* ---- events (--events FILE) ---- */

#define SX_EVENT_LABEL_MAX 128 /* label bytes with the NUL (escaped text) */
#define SX_EVENTS_MAX	   (1u << 20)

struct sx_event {
	/* absolute: ns since the epoch; relative: ns after the first packet
	 * of the capture it is applied to */
	int64_t start_ns;
	bool relative;
	uint32_t capture;		/* 1 + index into sx_events.captures; 0: every capture */
	unsigned long line;		/* of the events file, for messages */
	char label[SX_EVENT_LABEL_MAX]; /* printable ASCII (core/text.h), "" when none */
};

/* Events: absolute ones first, by time, then relative ones, by offset (ties
 * keep file order).  An event's index is its number (key.event). */
struct sx_events {
	struct sx_event *ev;
	uint32_t n;
	char **captures; /* the capture names rows give, as written (escaped) */
	uint32_t ncaptures;
	bool any_relative, any_capture;
};

/*
 * sx_events_parse - parse an events CSV held in memory (any bytes).
 * Rows are "[capture,]time[,label]":
 *   time     absolute: epoch seconds with an optional fraction, or ISO 8601
 *            "YYYY-MM-DD[T ]hh:mm:ss[.frac](Z|+hh:mm|-hh:mm|+hhmm)";
 *            relative to the capture's first packet: "+S[.frac]",
 *            "+M:SS[.frac]" or "+H:MM:SS[.frac]"
 *   capture  the capture the row applies to, matched against the captures
 *            given (path as given, or its file name); without it the row
 *            applies to every capture (a script run once per capture)
 * A two-field row is "time,label" when its first field is a time, else
 * "capture,time".  Blank lines and lines starting with '#' are skipped; a
 * first row without a digit is taken as a header.  Returns 0 with *out set
 * (caller frees with sx_events_free()), or SX_E_FORMAT / -ENOMEM with a
 * message naming the line and what was expected in msg.  Stateless;
 * thread-safe.
 */
int sx_events_parse(const char *data, size_t len, struct sx_events **out, char *msg, size_t msglen);
/* Same, from a file ("-" is not accepted).  -errno when unreadable. */
int sx_events_load(const char *path, struct sx_events **out, char *msg, size_t msglen);
void sx_events_free(struct sx_events *ev);

/* ---- where the events are in each capture (flow_align.c) ---- */

/* One window of a capture: its start and its event's number. */
struct sx_window {
	int64_t start_ns;
	uint32_t event;
};

/* The windows of every capture, each list sorted by start (then event). */
struct sx_windows {
	uint32_t ncaps;
	struct sx_window **w;
	uint32_t *n;
};

#define SX_ALIGN_BOUND_DEFAULT	   300 /* seconds: the shift searched, +- */
#define SX_ALIGN_TOLERANCE_DEFAULT 20  /* seconds: each event's drift, +- */

struct sx_align_cfg {
	const char *const *paths; /* the captures (matched by the events' names) */
	uint32_t ncaps;
	const bool *applies;	      /* per capture: events apply to it; NULL: all */
	bool align;		      /* find each capture's shift (top of flow_align.c) */
	int64_t bound_ns;	      /* shift searched, +- (> 0 when align) */
	int64_t tolerance_ns;	      /* drift allowed to each event after the shift */
	const struct sx_addr *device; /* whose activity aligns (when align) */
	const struct sx_addr *dev_of; /* per capture (ncaps), or NULL: device */
	unsigned nthreads;	      /* readers of the pre-pass; 0: CPUs */
	const char *filter;	      /* BPF filter of the run, or NULL */
};

/* What placing found in one capture. */
struct sx_align {
	bool read;	  /* the capture was read and holds a packet */
	bool aligned;	  /* a shift was searched (align, and device activity) */
	bool weak;	  /* few events matched, or another shift is about as good */
	int64_t first_ns; /* its first packet (the origin of relative times) */
	int64_t shift_ns; /* the shift applied to its scripted times */
	uint32_t events;  /* events placed in it */
	uint32_t matched; /* of which with device activity at the shift */
};

/*
 * sx_events_place - the windows of ev in each capture of cfg: events with a
 * capture name go to that capture (by path as given, or file name), others
 * to every capture that cfg->applies; relative times count from each
 * capture's first packet; with cfg->align, scripted times are moved to the
 * device's activity.  Captures are read first (once, with a pool of reader
 * threads) only when some time is relative or align is set.
 * @rep:  cfg->ncaps entries, filled
 * Returns 0 with *out set (free with sx_windows_free()), -ENOENT / -EINVAL
 * for a capture name that matches none or several (msg set), -ENOMEM, or
 * SX_E_STOPPED.  Context: any thread; starts and joins reader threads.
 */
int sx_events_place(const struct sx_events *ev, const struct sx_align_cfg *cfg,
		    struct sx_windows **out, struct sx_align *rep, char *msg, size_t msglen);
void sx_windows_free(struct sx_windows *w);
/* The windows of capture file (*n of them), NULL when none. */
const struct sx_window *sx_windows_of(const struct sx_windows *w, uint32_t file, uint32_t *n);

/* Parse one timestamp as in an events file.  0 or -EINVAL. */
int sx_time_parse(const char *s, size_t n, int64_t *ns);

/* ---- the table ---- */

struct sx_flows_cfg {
	uint64_t seed;			/* hash seed; changes nothing in the output */
	int64_t idle_ns;		/* idle timeout (> 0, <= SX_FLOWS_MAX_SPAN_NS) */
	int64_t window_ns;		/* gap cut-off per capture, 0: whole capture */
	const struct sx_events *events; /* borrowed, must outlive the table; NULL: none */
	/* the events' windows in each capture (sx_events_place()), borrowed;
	 * NULL: every event (absolute) is a window of every capture */
	const struct sx_windows *windows;
	int64_t duration_ns;	 /* length of an event window (> 0 with events) */
	bool outside;		 /* with events: a capture's packets outside every
				  * window are one more unit of it (key.event
				  * SX_FLOW_NO_EVENT, flow_unit.c); false: they
				  * belong to no unit */
	uint64_t est_flows;	 /* flows expected live at once, to presize
				  * (sx_flows_estimate()): shards of
				  * est / 64 buckets, 16 at least; 0: no
				  * estimate, 1024 buckets per shard */
	const char *tmpdir;	 /* spill file's directory, used once the spill's
				  * memory is full; NULL: $TMPDIR, else /tmp */
	uint64_t spill_mem;	 /* bytes of the spill kept in memory, the rest
				  * going to the file; 0: 8 MiB.  Tests set it
				  * low to send runs to the file. */
	uint32_t sweep_min_live; /* sweep only above this many live flows per worker;
				  * 0: default (4096).  Tests set it low. */
	uint32_t min_buckets;	 /* per shard, a power of two; 0: as above.
				  * Tests set it low to force resizes. */
	uint32_t max_live;	 /* flows a worker may hold (1 KiB each) before the
				  * least recently active half is ended early;
				  * 0: max_flows split, else the default
				  * (SX_FLOWS_MAX_LIVE_DEFAULT).  Tests set it. */
	uint64_t max_flows;	 /* --max-flows: run-wide ceiling on live flows,
				  * split evenly among the reader threads by
				  * sx_flows_collect() (at least 1 each); 0: none
				  * beyond max_live's default per thread */
};

/* Counters of a run, for tests and -v output. */
struct sx_flows_stats {
	uint64_t flows;	  /* flow records written to the spill */
	uint64_t packets; /* packets accounted to flows */
	uint64_t bytes;
	uint64_t batches;     /* eviction batches = grace periods waited for */
	uint64_t runs;	      /* sorted runs in the spill */
	uint64_t resizes;     /* explicit cds_lfht_resize() calls */
	uint64_t replaced;    /* flows ended by a new flow on the same key */
	uint64_t lost_races;  /* cds_lfht_add_unique() losers rolled back */
	uint64_t peak_live;   /* largest number of live flows of one worker */
	uint64_t capped;      /* flows ended early by the max_live cap */
	uint64_t spill_bytes; /* written to the spill, memory and file */
	/* IP fragments of TCP/UDP datagrams (SX_FLOWS_FRAG_* above) */
	uint64_t frag_joined;	   /* later fragments counted to their datagram's flow */
	uint64_t frag_held;	   /* ... of which came before their first fragment */
	uint64_t frag_unmatched;   /* later fragments whose first never came: no flow */
	uint64_t frag_dropped;	   /* over the per-datagram limits: no flow */
	uint64_t frag_evicted;	   /* incomplete datagrams pushed out by the table cap */
	uint64_t frag_overlap;	   /* datagrams whose fragments overlap */
	uint64_t frag_peak;	   /* most datagrams one worker remembered at once */
	uint64_t left_at_teardown; /* set by sx_flows_free_stats() only: nodes the
				    * teardown still had to unlink, plus shards
				    * that refused to be destroyed; 0 when every
				    * worker was freed first */
};

struct sx_flows;
struct sx_flows_worker;

/* Register / unregister the calling thread with liburcu (nesting counted). */
void sx_flows_thread_enter(void);
void sx_flows_thread_leave(void);

/*
 * sx_flows_new - create the table and its spill (its file is created in
 * cfg.tmpdir when its memory is full: a run that cannot create it fails
 * with that -errno, latched as sx_flows_error()).
 * Returns 0 with *out set (caller frees with sx_flows_free()), -EINVAL for a
 * bad cfg or -ENOMEM.
 * Context: any thread (registration not needed).
 */
int sx_flows_new(const struct sx_flows_cfg *cfg, struct sx_flows **out);

/*
 * sx_flows_estimate - the flows a run over these captures may hold live at
 * once, from their sizes (at most 64 of them, the rest assumed alike:
 * sizes[] when given, as sx_ingest_cfg.sizes, else stat'ed), for
 * cfg.est_flows: 150 per MiB plus 1024, at most one worker's default
 * ceiling (a week-long capture presizes no more than a day's; the table
 * resizes itself past it).  Non-regular files count as empty.
 * Context: any thread.
 */
uint64_t sx_flows_estimate(const char *const *paths, const uint64_t *sizes, uint32_t npaths);

/*
 * sx_flows_free - tear down: delete any node still in the shards, one grace
 * period, destroy the shards, close the spill.  Every worker must have been
 * freed.  Context: any thread; registers itself if needed.  NULL is a no-op.
 */
void sx_flows_free(struct sx_flows *fl);
/* sx_flows_free(), leaving the table's last counters in *st (NULL: none). */
void sx_flows_free_stats(struct sx_flows *fl, struct sx_flows_stats *st);

void sx_flows_get_stats(const struct sx_flows *fl, struct sx_flows_stats *st);

/* First error latched by any worker (spill write failure, -ENOMEM), or 0. */
int sx_flows_error(const struct sx_flows *fl);

/*
 * sx_flows_worker_new - per-thread state: arena of flow records, the list of
 * the flows it created, the read-side batch.  A worker is used by one thread
 * at a time.  Context: RCU thread.  0 or -ENOMEM.
 */
int sx_flows_worker_new(struct sx_flows *fl, struct sx_flows_worker **out);

/*
 * sx_flows_worker_free - evict every flow the worker created (one grace
 * period), write them to the spill, free the arena.  Returns the worker's
 * latched error (0, -ENOMEM, -errno of a spill write).  Context: RCU thread
 * (any, not necessarily the creator; nobody may use the worker any more).
 */
int sx_flows_worker_free(struct sx_flows_worker *w);

/*
 * Per-capture driving, in packet order (what sx_flows_collect() calls).
 * sx_flows_packet() applies the unit rules (--window or --events) to every
 * packet of the capture, IP or not, and accounts IP packets to flows.
 * sx_flows_file_end() evicts the capture's flows.  Context: RCU thread; the
 * worker's owner.
 */
void sx_flows_file_begin(struct sx_flows_worker *w, uint32_t file);
void sx_flows_packet(struct sx_flows_worker *w, const struct sx_pkt *pkt);
void sx_flows_file_end(struct sx_flows_worker *w, uint32_t file);

/*
 * sx_flows_add - account one IP packet to the flow of (capture, event),
 * creating or replacing it as the flow rules say.  The capture is the one
 * given to sx_flows_file_begin() while it is being driven, else pkt->file.
 * unit_end_ns is the end of the unit (INT64_MAX when open-ended).  Non-IP
 * packets are ignored.
 * Returns 0 or -ENOMEM (latched).  Holds the RCU read lock across a batch of
 * calls; sx_flows_worker_release() drops it.  Context: RCU thread.
 */
int sx_flows_add(struct sx_flows_worker *w, const struct sx_pkt *pkt, uint32_t event,
		 int64_t unit_end_ns);

/* End the worker's read-side batch (before blocking for a long time). */
void sx_flows_worker_release(struct sx_flows_worker *w);

/*
 * sx_flows_sweep - evict the worker's flows that are idle at now_ns (or
 * replaced, or whose unit ended before now_ns), in one batch.  Returns the
 * number evicted, or a negative error.  Context: RCU thread, owner.
 */
long sx_flows_sweep(struct sx_flows_worker *w, int64_t now_ns);

/* Number of flows the worker has in the table (or waiting to leave it). */
uint64_t sx_flows_worker_live(const struct sx_flows_worker *w);

/*
 * sx_flows_collect - read every capture with sx_ingest_run() into fl.
 * @names: borrowed, may be NULL; names are learned from every packet into it
 *         (per-thread learners merged in thread order) and it is finished
 *         (sx_names_finish) before returning.
 * Returns 0, SX_E_STOPPED, -ENOMEM, or the first worker error; per-file
 * outcomes go to status (cfg->npaths entries).  Context: any thread.
 */
int sx_flows_collect(struct sx_flows *fl, const struct sx_ingest_cfg *cfg, struct sx_names *names,
		     struct sx_file_status *status);

/*
 * Many tables, one reader pool (`sigex batch`).  The files of several jobs
 * (GROUPS: one flow table each, e.g. one device's event) are read by ONE
 * sx_ingest_run(), in the order given, so that the reader threads serve
 * the whole list instead of one run per job.  A file that belongs to several
 * groups is listed once per group.  Each group is set up lazily, by the
 * open callback, when the first of its files is begun, and handed back by
 * the done callback as soon as its last file is read, while the readers go
 * on with the other groups; so the groups alive at once are those in
 * flight, not all of them.
 *
 * A reader thread keeps a flows worker on the group's table and a names
 * learner while its files stay in one group, and releases them when it
 * leaves the group (or nothing of it is left to begin): the worker is
 * freed, since a table is reduced only once every worker on it is, and the
 * learner merged into the group's names under the group's lock
 * (sx_names_finish() sums and chooses in an order of its own, so the merge
 * order does not matter).  Each file's status is copied into the group's
 * array.  The thread whose release completes a group finishes its names
 * and calls done.
 */
struct sx_flows_group {
	struct sx_flows *fl;	       /* the table the group's flows go to */
	struct sx_names *names;	       /* learned into, then finished; or NULL */
	struct sx_file_status *status; /* one per file of the group, by index */
};

struct sx_flows_multi_ops {
	/*
	 * Set group g up into *io (all three borrowed until done).  Called
	 * once, on the reader thread that begins the group's first file; the
	 * threads beginning its other files wait for it.  A non-zero return
	 * fails the group: its files are still read (and counted) but not
	 * used, and done gets the error.
	 */
	int (*open)(void *arg, uint32_t g, struct sx_flows_group *io);
	/* File i (an index into paths) was read, to its end or to an error.
	 * Any reader thread, concurrently; may be NULL. */
	void (*file_done)(void *arg, uint32_t i, const struct sx_file_status *st);
	/*
	 * A packet of file i, when tap[i] (sx_flows_multi): every packet the
	 * reader delivers, in the file's order, whether its group is open or
	 * failed, before file_done(i).  On the one thread decoding file i;
	 * other files' calls run concurrently.  May be NULL without tap.
	 */
	void (*packet)(void *arg, uint32_t i, const struct sx_pkt *pkt);
	/*
	 * Every file of group g was read: its status entries are filled, its
	 * names finished, every worker on its table freed.  err is open's
	 * error, else the group's first worker or names error (-ENOMEM, -errno
	 * of the spill), else 0.  Runs on the reader thread that ended the
	 * group's last file, registered with liburcu and outside any read-side
	 * section; the other readers go on meanwhile.  Not called after a stop
	 * request (the group is then left open: see sx_flows_collect_multi).
	 */
	void (*done)(void *arg, uint32_t g, int err);
};

struct sx_flows_multi {
	const char *const *paths; /* npaths files, taken in this order (borrowed) */
	const uint32_t *group;	  /* per file: its group, < ngroups */
	const uint32_t *index;	  /* per file: its number in the group's table
				   * (the flows' capture, the status slot) */
	uint32_t npaths, ngroups; /* every group has at least one file */
	unsigned nthreads;	  /* reader threads; 0: number of CPUs */
	unsigned max_open;	  /* groups open (begun, not done) at once; a reader
				   * about to open one more waits.  0: no limit */
	const char *filter;	  /* BPF, or NULL */
	const bool *tap;	  /* per file: its packets also go to ops->packet;
				   * NULL: none */
	const struct sx_flows_multi_ops *ops;
	void *arg;
};

/*
 * sx_flows_collect_multi - read every file of every group with one pool of
 * reader threads; see above.  The files of a group must be consecutive in
 * paths (with max_open, a reader waiting to open a group then never holds
 * up a group already open).  A group's cfg.max_flows ceiling is split among
 * the reader threads, as by sx_flows_collect().
 * Returns 0 when every group was done, SX_E_STOPPED when a stop request
 * ended the run, -EINVAL, -ENOMEM or a thread start failure; then the
 * groups that were opened but not done still hold what open gave them,
 * which the caller frees (done is not called for them).  Context: any
 * thread; it waits for the readers.
 */
int sx_flows_collect_multi(const struct sx_flows_multi *m);

/*
 * A whole `sigex flows` run: table, collect, reduce, CSV.  Used by the
 * command and by the tests (determinism across -j and seeds).
 */
struct sx_flows_job {
	const char *const *paths; /* captures to read (borrowed) */
	const char *const *shown; /* names for the File column, NULL: paths */
	const uint64_t *sizes;	  /* the captures' sizes (sx_ingest_cfg.sizes),
				   * or NULL: stat'ed by the run */
	uint32_t npaths;
	unsigned nthreads;	 /* 0: number of CPUs */
	const char *filter;	 /* BPF, or NULL */
	struct sx_flows_cfg cfg; /* est_flows 0: estimated from the file sizes */
	struct sx_names *names;	 /* borrowed (seeded by the caller), or NULL */
};

/*
 * sx_flows_write_csv - run the job and write the flow CSV (header first) to
 * out.  status gets npaths entries; st (may be NULL) the run's counters.
 * Returns 0 (bad files are in status, not here), -ENODATA when no capture
 * could be opened (nothing is then written, not even the header),
 * SX_E_STOPPED, -ENOMEM, or -errno of a failed write or spill.  Context: any thread, not reentrant
 * with itself on the same names table.
 */
int sx_flows_write_csv(const struct sx_flows_job *job, FILE *out, struct sx_file_status *status,
		       struct sx_flows_stats *st);

/* ---- reduce ---- */

typedef int (*sx_flow_row_fn)(void *arg, const struct sx_flow_row *row);

/*
 * sx_flows_reduce - visit every flow, unit by unit (captures in index order,
 * then event windows in order), within a unit in (first timestamp, key)
 * order, with Index, names, service port and event fields filled.
 * @files:  display names of the captures, by index (nfiles of them)
 * @names:  finished name table, or NULL
 * A non-zero return of fn stops the walk and is returned.  Returns 0,
 * -ENOMEM, -EIO.  Call after every worker is freed.  Context: any thread
 * (touches only the spill); not concurrently with itself.
 */
int sx_flows_reduce(struct sx_flows *fl, const char *const *files, uint32_t nfiles,
		    const struct sx_names *names, sx_flow_row_fn fn, void *arg);

/* Format one row as text, appended to b. */
typedef void (*sx_flow_text_fn)(struct sx_buf *b, const struct sx_flow_row *row);

/*
 * sx_flows_reduce_text - the walk of sx_flows_reduce(), each row formatted
 * by fmt and written to out, on up to nthreads threads (the caller's
 * included): units are reduced in parallel, their text written in the
 * order sx_flows_reduce() gives, so out holds the same bytes for any
 * nthreads.  Memory: each thread buffers at most 16 MiB ahead of the
 * writing one.  Returns 0, -ENOMEM, -EIO, or -errno of a write.  Call
 * after every worker is freed.  Context: any thread; not concurrently
 * with itself.
 */
int sx_flows_reduce_text(struct sx_flows *fl, const char *const *files, uint32_t nfiles,
			 const struct sx_names *names, unsigned nthreads, sx_flow_text_fn fmt,
			 FILE *out);

/* ---- CSV (flow_csv.c) ---- */

#define SX_FLOWS_CSV_NCOLS 38

/* The header line. */
void sx_flows_csv_header(struct sx_buf *b);
/* One row (RFC 4180; untrusted text neutralised with sx_buf_csv_text). */
void sx_flows_csv_row(struct sx_buf *b, const struct sx_flow_row *row);

struct sx_flows_csv_reader;

/* Read rows back from f (borrowed).  0 or -ENOMEM. */
int sx_flows_csv_reader_new(FILE *f, struct sx_flows_csv_reader **out);
void sx_flows_csv_reader_free(struct sx_flows_csv_reader *r);
/*
 * sx_flows_csv_next - the next row.  Returns 1 with row filled (its strings
 * live until the next call; row->file until the reader is freed), 0 at the
 * end, SX_E_FORMAT with msg naming the line, or -errno.  Hostile input is
 * rejected, never trusted: lengths, counts and numbers are all checked.
 */
int sx_flows_csv_next(struct sx_flows_csv_reader *r, struct sx_flow_row *row, char *msg,
		      size_t msglen);

/* ---- helpers (flow_key.c, flow_app.c) ---- */

/*
 * sx_flow_key_make - the canonical key of an IP packet for a unit, or the
 * key of an ARP message (flow.h: sender first, operation in lo_port).
 * Returns the direction: 0 when the packet goes lo -> hi, 1 for hi -> lo
 * (always 0 for ARP).  The packet must be IP (pkt->src.family 4 or 6) or a
 * decoded ARP message (sx_pkt_is_arp()).
 */
unsigned sx_flow_key_make(struct sx_flow_key *k, const struct sx_pkt *pkt, uint32_t file,
			  uint32_t event);
uint64_t sx_flow_key_hash(const struct sx_flow_key *k, uint64_t seed);
/* Total order on keys (numeric per field); 0 iff equal. */
int sx_flow_key_cmp(const struct sx_flow_key *a, const struct sx_flow_key *b);
/* Order within a unit: first timestamp, key, first packet number. */
int sx_flow_rec_cmp(const struct sx_flow_rec *a, const struct sx_flow_rec *b);
/* The address and port of a side (SX_SIDE_DEVICE or SX_SIDE_OTHER); an ARP
 * flow's are IPv4 (family 4), the sender's on the device side. */
void sx_flow_rec_end(const struct sx_flow_rec *r, enum sx_flow_side side, struct sx_addr *a,
		     uint16_t *port);
/* Whether the key's protocol has ports (TCP, UDP, SCTP, UDP-Lite). */
bool sx_flow_has_ports(const struct sx_flow_key *k);
/* Service name of a well-known or IoT port ("https", "domain"), or NULL. */
const char *sx_flow_service_name(uint8_t proto, uint16_t port);
/* An ARP operation as the flow CSV writes it (ApplicationSpecific, the
 * "arp" attribute): "request", "reply", else the number (in buf). */
const char *sx_flow_arp_op_name(uint16_t op, char *buf, size_t bufsz);
/* Its inverse: the operation, or -1 when s is not a name that
 * sx_flow_arp_op_name() writes. */
int sx_flow_arp_op_parse(const char *s);
/* Whether a port is well known (< 1024) or in the table of IoT service ports. */
bool sx_flow_port_is_known(uint8_t proto, uint16_t port);

/* Versions of the libraries of this module: xxHash's run-time version
 * number (major * 10000 + minor * 100 + release); liburcu's from its
 * headers (liburcu has no run-time query), else the version pkg-config
 * found at build time.  Thread-safe. */
unsigned sx_flows_xxhash_version(void);
const char *sx_flows_urcu_version(void);

#endif /* SX_FLOWS_FLOWS_H */
