/*
 * reader.c - a pool of reader threads over many captures.
 *
 * Work distribution: files are sorted by size, largest first, unless the
 * caller gives its own order (cfg->order; stdin and
 * FIFOs count as largest), and threads take the next one from an atomic
 * index, so a long file starts early and small files fill the gaps.  Each
 * file is read by exactly one thread, in packet order; the callbacks say
 * which file a packet belongs to, so consumers that need file order (the
 * packet CSV, the flow reduce) restore it themselves.
 *
 * Threads: sx_ingest_run() starts min(nthreads, npaths) threads and joins
 * them; status[i] is written only by the thread that read file i, and read
 * by the caller after the join.  The struct sx_pkt lives in the thread's
 * context (it is large because of the DNS records), never on a shared path.
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

/* Check the stop flag every this many packets. */
#define STOP_CHECK_MASK 4095

struct run {
	const struct sx_ingest_cfg *cfg;
	const struct sx_ingest_ops *ops;
	void *ctx;
	struct sx_file_status *status;
	uint32_t *order;	/* file indices, largest first */
	atomic_uint next;
	atomic_int err;		/* first thread_init failure */
	atomic_bool abort;	/* a thread could not start: the others stop */
};

struct worker {
	struct run *run;
	unsigned tid;
	pthread_t thread;
	struct sx_pkt pkt;
};

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
	while ((rc = sx_capture_next(cap, &w->pkt)) == 1) {
		struct sx_pkt *pkt = &w->pkt;

		pkt->file = file;
		if (st->packets == 0) {
			st->first_sec = pkt->ts_sec;
			st->first_nsec = pkt->ts_nsec;
		}
		st->packets++;
		st->bytes += pkt->wire_len;
		st->by_status[pkt->status & 3]++;
		if (pkt->src.family)
			st->ip_packets++;
		if (ops->packet)
			ops->packet(tctx, pkt);
		if ((st->packets & STOP_CHECK_MASK) == 0 && sx_stop_requested())
			break;
	}
	if (rc < 0) {
		st->err = rc;
		snprintf(st->msg, sizeof(st->msg), "%s", sx_capture_error(cap));
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

	if (run->ops->thread_init) {
		ret = run->ops->thread_init(run->ctx, w->tid, &tctx);
		if (ret) {
			int zero = 0;

			atomic_compare_exchange_strong(&run->err, &zero, ret);
			return NULL;
		}
	}
	for (;;) {
		unsigned i = atomic_fetch_add(&run->next, 1);

		if (i >= run->cfg->npaths || sx_stop_requested() || atomic_load(&run->abort))
			break;
		read_file(w, tctx, run->order[i]);
	}
	if (run->ops->thread_fini)
		run->ops->thread_fini(tctx);
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

/* The order files are taken in: the caller's, else largest first. */
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
		if (strcmp(cfg->paths[i], "-") == 0 || stat(cfg->paths[i], &st) < 0)
			v[i].size = UINT64_MAX;	/* unknown: start early */
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
	unsigned n, i, started = 0;
	int ret = 0;

	n = cfg->nthreads ? cfg->nthreads : sx_nproc();
	if (n > cfg->npaths)
		n = cfg->npaths ? cfg->npaths : 1;
	run.order = take_order(cfg);
	workers = sx_calloc_array(n, sizeof(*workers));
	if (!run.order || !workers) {
		ret = -ENOMEM;
		goto out_free;
	}
	atomic_init(&run.next, 0);
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
