/*
 * reader.c - a pool of reader threads over many captures.
 *
 * Work distribution: files are taken largest first (stdin and FIFOs count
 * as largest) unless the caller gives its own order (cfg->order), from an
 * atomic index, so a long file starts early and small files fill the gaps.
 * Each file is processed by exactly one thread, in packet order: all its
 * callbacks run on that thread; consumers that need file order (the packet
 * CSV, the flow reduce) restore it themselves.
 *
 * Threads: sx_ingest_run() starts min(nthreads, npaths) threads and joins
 * them.  The nthreads - npaths threads left over when there are fewer
 * files than threads (and the share of each thread that runs out of files)
 * are "spare": a thread starting a file takes a spare one if there is, and
 * the file is then READ on a second thread (libpcap: the floor of the
 * whole pipeline) while this thread decodes and calls back.  The two meet
 * in a pipe of PIPE_SLOTS batches of raw records copied out of libpcap's
 * buffer (single producer, single consumer, a mutex and a condition
 * variable per batch handed over, not per packet); the pipe's memory is
 * fixed (PIPE_SLOTS x PIPE_BYTES plus records) and freed with the file.
 * Decoding, callbacks and their order are exactly those of a plain read,
 * so the output does not depend on whether a file was piped.
 *
 * status[i] is written only by the thread that processes file i, and read
 * by the caller after the join.  The struct sx_pkt lives in the thread's
 * context (it is large because of the DNS records), never on a shared path,
 * with the thread's memo of DNS-family messages (app_memo.c: a repeated
 * message is copied, not decoded again; the packet is the same).
 */
#include "ingest/ingest.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "ingest/app.h"

/* Check the stop flag every this many packets. */
#define STOP_CHECK_MASK 4095

/* The pipe between a file's reading and decoding threads. */
#define PIPE_SLOTS 4	      /* batches in flight */
#define PIPE_BYTES (1u << 20) /* captured bytes per batch (grown for a longer record) */
#define PIPE_RECS  8192	      /* records per batch */

struct run {
	const struct sx_ingest_cfg *cfg;
	const struct sx_ingest_ops *ops;
	void *ctx;
	struct sx_file_status *status;
	uint32_t *order; /* file indices, in the order they are taken */
	atomic_uint next;
	atomic_int spare;  /* threads allowed but not running: pipe readers */
	atomic_int err;	   /* first thread_init failure */
	atomic_bool abort; /* a thread could not start: the others stop */
};

struct worker {
	struct run *run;
	unsigned tid;
	pthread_t thread;
	struct sx_app_memo *memo; /* its decodings' (app_memo.c), or NULL */
	struct sx_pkt pkt;
};

/* One batch of raw records; rec[i].data points into buf. */
struct slot {
	struct sx_raw_rec *rec;
	uint32_t n;
	uint8_t *buf;
	size_t used, size;
};

/*
 * A single-producer single-consumer queue of PIPE_SLOTS batches.  The
 * reading thread fills slot[head % PIPE_SLOTS] (it owns the slots between
 * head and tail + PIPE_SLOTS), the decoding thread empties slot[tail %
 * PIPE_SLOTS]; head, tail, done, quit and rc are under lock.
 */
struct pipe {
	struct sx_capture *cap;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct slot slot[PIPE_SLOTS];
	unsigned head, tail;
	bool done; /* the reader has published its last batch */
	bool quit; /* the decoder stopped: the reader must too */
	int rc;	   /* the reader's final sx_capture_next_raw() result, 0 or < 0 */
};

/*
 * Account one decoded packet of file and hand it to the consumer.  Returns
 * false when a stop was requested.
 */
static bool deliver(struct worker *w, void *tctx, struct sx_file_status *st, uint32_t file)
{
	const struct sx_ingest_ops *ops = w->run->ops;
	struct sx_pkt *pkt = &w->pkt;

	pkt->file = file;
	if (st->packets == 0) {
		st->first_sec = st->last_sec = pkt->ts_sec;
		st->first_nsec = st->last_nsec = pkt->ts_nsec;
	} else if (pkt->ts_sec > st->last_sec ||
		   (pkt->ts_sec == st->last_sec && pkt->ts_nsec > st->last_nsec)) {
		st->last_sec = pkt->ts_sec;
		st->last_nsec = pkt->ts_nsec;
	}
	st->packets++;
	st->bytes += pkt->wire_len;
	st->by_status[pkt->status & 3]++;
	if (pkt->src.family)
		st->ip_packets++;
	if (pkt->proto == SX_P_ARP) {
		st->arp_packets += pkt->has_arp;
		st->arp_other += !pkt->has_arp;
	}
	if (ops->packet)
		ops->packet(tctx, pkt);
	return (st->packets & STOP_CHECK_MASK) != 0 || !sx_stop_requested();
}

/* Read and decode on this thread.  Returns the last sx_capture_next() result. */
static int read_plain(struct worker *w, void *tctx, struct sx_capture *cap,
		      struct sx_file_status *st, uint32_t file)
{
	int rc;

	while ((rc = sx_capture_next(cap, &w->pkt)) == 1)
		if (!deliver(w, tctx, st, file))
			return 0;
	return rc;
}

static bool slot_fits(const struct slot *s, const struct sx_raw_rec *r)
{
	return s->n < PIPE_RECS && s->size - s->used >= r->caplen;
}

/* The reading thread: records into batches, until the end, an error or quit. */
static void *pipe_reader(void *arg)
{
	struct pipe *p = arg;
	struct sx_raw_rec r;
	bool pending = false; /* r was read but did not fit the last batch */
	int rc = 1;

	while (rc == 1) {
		struct slot *s;
		bool quit;

		pthread_mutex_lock(&p->lock);
		while (p->head - p->tail == PIPE_SLOTS && !p->quit)
			pthread_cond_wait(&p->cond, &p->lock);
		quit = p->quit;
		pthread_mutex_unlock(&p->lock);
		if (quit)
			return NULL;
		s = &p->slot[p->head % PIPE_SLOTS];
		s->n = 0;
		s->used = 0;
		for (;;) {
			if (!pending && (rc = sx_capture_next_raw(p->cap, &r)) != 1)
				break;
			pending = true;
			if (!slot_fits(s, &r)) {
				uint8_t *nb;

				if (s->n)
					break; /* publish; r starts the next batch */
				nb = realloc(s->buf, r.caplen);
				if (!nb) {
					rc = -ENOMEM;
					break;
				}
				s->buf = nb;
				s->size = r.caplen;
			}
			memcpy(s->buf + s->used, r.data, r.caplen);
			s->rec[s->n] = r;
			s->rec[s->n].data = s->buf + s->used;
			s->n++;
			s->used += r.caplen;
			pending = false;
		}
		pthread_mutex_lock(&p->lock);
		p->head++;
		if (rc != 1) {
			p->done = true;
			p->rc = rc;
		}
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

static void pipe_fini(struct pipe *p)
{
	unsigned i;

	for (i = 0; i < PIPE_SLOTS; i++) {
		free(p->slot[i].rec);
		free(p->slot[i].buf);
	}
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
}

static int pipe_init(struct pipe *p, struct sx_capture *cap)
{
	unsigned i;

	memset(p, 0, sizeof(*p));
	p->cap = cap;
	if (pthread_mutex_init(&p->lock, NULL))
		return -ENOMEM;
	if (pthread_cond_init(&p->cond, NULL)) {
		pthread_mutex_destroy(&p->lock);
		return -ENOMEM;
	}
	for (i = 0; i < PIPE_SLOTS; i++) {
		p->slot[i].rec = sx_calloc_array(PIPE_RECS, sizeof(*p->slot[i].rec));
		p->slot[i].buf = malloc(PIPE_BYTES);
		p->slot[i].size = PIPE_BYTES;
		if (!p->slot[i].rec || !p->slot[i].buf) {
			pipe_fini(p);
			return -ENOMEM;
		}
	}
	return 0;
}

/*
 * Read on a second thread, decode on this one.  Returns 1 when the pipe
 * could not be set up (nothing was read: the caller reads plainly), else
 * as read_plain().
 */
static int read_piped(struct worker *w, void *tctx, struct sx_capture *cap,
		      struct sx_file_status *st, uint32_t file)
{
	struct pipe p;
	pthread_t reader;
	bool stopped = false;
	int rc;

	if (pipe_init(&p, cap))
		return 1;
	if (pthread_create(&reader, NULL, pipe_reader, &p)) {
		pipe_fini(&p);
		return 1;
	}
	while (!stopped) {
		struct slot *s;
		uint32_t i;

		pthread_mutex_lock(&p.lock);
		while (p.head == p.tail && !p.done)
			pthread_cond_wait(&p.cond, &p.lock);
		if (p.head == p.tail) {
			pthread_mutex_unlock(&p.lock);
			break;
		}
		pthread_mutex_unlock(&p.lock);
		s = &p.slot[p.tail % PIPE_SLOTS];
		for (i = 0; i < s->n && !stopped; i++) {
			sx_capture_decode(cap, &s->rec[i], &w->pkt);
			stopped = !deliver(w, tctx, st, file);
		}
		pthread_mutex_lock(&p.lock);
		p.tail++;
		pthread_cond_broadcast(&p.cond);
		pthread_mutex_unlock(&p.lock);
	}
	pthread_mutex_lock(&p.lock);
	p.quit = true;
	pthread_cond_broadcast(&p.cond);
	pthread_mutex_unlock(&p.lock);
	pthread_join(reader, NULL);
	rc = stopped || !p.done ? 0 : p.rc;
	pipe_fini(&p);
	return rc;
}

/* Take a spare thread for a pipe, if the run has one. */
static bool take_spare(struct run *run)
{
	int n = atomic_load(&run->spare);

	while (n > 0)
		if (atomic_compare_exchange_weak(&run->spare, &n, n - 1))
			return true;
	return false;
}

static void read_file(struct worker *w, void *tctx, uint32_t file)
{
	const struct sx_ingest_cfg *cfg = w->run->cfg;
	const struct sx_ingest_ops *ops = w->run->ops;
	struct sx_file_status *st = &w->run->status[file];
	struct sx_capture *cap;
	int rc;

	memset(st, 0, sizeof(*st));
	st->dlt = -1;
	rc = sx_capture_open(cfg->paths[file], cfg->filter, &cap, st->msg, sizeof(st->msg));
	if (ops->file_begin)
		ops->file_begin(tctx, file);
	if (rc) {
		st->err = rc;
		goto out_end;
	}
	st->opened = true;
	st->dlt = sx_capture_dlt(cap);
	sx_capture_set_memo(cap, w->memo);
	rc = 1;
	if (take_spare(w->run)) {
		rc = read_piped(w, tctx, cap, st, file);
		st->piped = rc != 1;
		atomic_fetch_add(&w->run->spare, 1);
	}
	if (rc == 1)
		rc = read_plain(w, tctx, cap, st, file);
	if (rc < 0) {
		st->err = rc;
		snprintf(st->msg, sizeof(st->msg), "%s",
			 rc == -ENOMEM ? "out of memory" : sx_capture_error(cap));
	} else if (sx_l2_from_dlt(st->dlt) == SX_L2_UNSUPPORTED) {
		st->err = SX_E_LINKTYPE;
		snprintf(st->msg, sizeof(st->msg),
			 "unsupported link-layer type %d: %llu packets not decoded", st->dlt,
			 (unsigned long long)st->packets);
	} else if (st->packets == 0) {
		st->warn_empty = true;
		snprintf(st->msg, sizeof(st->msg), "valid capture header but no packets");
	}
	sx_capture_close(cap);
out_end:
	if (ops->file_end)
		ops->file_end(tctx, file, st);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct run *run = w->run;
	void *tctx = NULL;
	int ret;

	/* without memory, every message is decoded: the same packets */
	if (sx_app_memo_new(&w->memo))
		w->memo = NULL;

	if (run->ops->thread_init) {
		ret = run->ops->thread_init(run->ctx, w->tid, &tctx);
		if (ret) {
			int zero = 0;

			atomic_compare_exchange_strong(&run->err, &zero, ret);
			sx_app_memo_free(w->memo);
			return NULL;
		}
	}
	for (;;) {
		unsigned i = atomic_fetch_add(&run->next, 1);

		if (i >= run->cfg->npaths || sx_stop_requested() || atomic_load(&run->abort))
			break;
		read_file(w, tctx, run->order[i]);
	}
	/* This thread's share goes to the files still being started. */
	atomic_fetch_add(&run->spare, 1);
	if (run->ops->thread_fini)
		run->ops->thread_fini(tctx);
	sx_app_memo_free(w->memo);
	return NULL;
}

struct sized {
	uint32_t idx;
	uint64_t size;
};

static int by_size_desc(const void *a, const void *b)
{
	const struct sized *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The order files are taken in: the caller's, else largest first (the sizes
 * the caller found, else a stat of each). */
static uint32_t *take_order(const struct sx_ingest_cfg *cfg)
{
	struct sized *v;
	uint32_t *order = sx_calloc_array(cfg->npaths, sizeof(*order));
	uint32_t i;

	if (order && cfg->order) {
		memcpy(order, cfg->order, cfg->npaths * sizeof(*order));
		return order;
	}
	v = sx_calloc_array(cfg->npaths, sizeof(*v));
	if (!v || !order) {
		free(v);
		free(order);
		return NULL;
	}
	for (i = 0; i < cfg->npaths; i++) {
		struct stat st;

		v[i].idx = i;
		if (cfg->sizes)
			v[i].size = cfg->sizes[i];
		else if (strcmp(cfg->paths[i], "-") == 0 || stat(cfg->paths[i], &st) < 0)
			v[i].size = UINT64_MAX; /* unknown: start early */
		else
			v[i].size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : UINT64_MAX;
	}
	qsort(v, cfg->npaths, sizeof(*v), by_size_desc);
	for (i = 0; i < cfg->npaths; i++)
		order[i] = v[i].idx;
	free(v);
	return order;
}

int sx_ingest_run(const struct sx_ingest_cfg *cfg, const struct sx_ingest_ops *ops, void *ctx,
		  struct sx_file_status *status)
{
	struct run run = {.cfg = cfg, .ops = ops, .ctx = ctx, .status = status};
	struct worker *workers;
	unsigned n, i, started = 0, allowed;
	int ret = 0;

	allowed = cfg->nthreads ? cfg->nthreads : sx_nproc();
	n = allowed;
	if (n > cfg->npaths)
		n = cfg->npaths ? cfg->npaths : 1;
	run.order = take_order(cfg);
	workers = sx_calloc_array(n, sizeof(*workers));
	if (!run.order || !workers) {
		ret = -ENOMEM;
		goto out_free;
	}
	atomic_init(&run.next, 0);
	atomic_init(&run.spare, (int)(allowed - n));
	atomic_init(&run.err, 0);
	atomic_init(&run.abort, false);
	for (i = 0; i < n; i++) {
		workers[i].run = &run;
		workers[i].tid = i;
		ret = -pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]);
		if (ret) {
			/* Not the process-wide stop flag: that one is for signals
			 * and would make every later run stop at once. */
			atomic_store(&run.abort, true);
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(workers[i].thread, NULL);
	if (!ret)
		ret = atomic_load(&run.err);
	if (!ret && sx_stop_requested())
		ret = SX_E_STOPPED;
out_free:
	free(workers);
	free(run.order);
	return ret;
}

int sx_ingest_report(const struct sx_ingest_cfg *cfg, const struct sx_file_status *status)
{
	uint32_t i, bad = 0, readable = 0;

	for (i = 0; i < cfg->npaths; i++) {
		const struct sx_file_status *st = &status[i];

		if (st->err) {
			bad++;
			sx_log(SX_LOG_ERROR, "%s: %s", cfg->names ? cfg->names[i] : cfg->paths[i],
			       st->msg);
		} else if (st->warn_empty) {
			bad++;
			sx_log(SX_LOG_WARN, "%s: %s", cfg->names ? cfg->names[i] : cfg->paths[i],
			       st->msg);
		}
		if (st->opened)
			readable++;
	}
	if (!bad)
		return SX_EXIT_OK;
	return readable ? SX_EXIT_PARTIAL : SX_EXIT_FAILURE;
}
