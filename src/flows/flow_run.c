/*
 * flow_run.c - the reader pool feeding the table: sx_flows_collect().
 *
 * DESIGN.  sx_ingest_run() calls us per thread: thread_init registers the
 * thread with liburcu and gives it a flows worker and a names learner;
 * packets go to both (names are learned from every packet of the capture,
 * flows follow the unit rules); file_end evicts the capture's flows;
 * thread_fini frees the worker (evicting anything left) and unregisters.
 * A run-wide flow ceiling (cfg.max_flows) is split evenly among the reader
 * threads before they start.
 * Learners outlive their threads and are merged into the run's name table
 * after the join, in thread-id order, then the table is finished; the name
 * table chooses one name per address itself, so the result does not depend
 * on which thread read which capture.
 */
#include "flows/flows.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/util.h"
#include "flows/flows_int.h"

struct run_ctx {
	struct sx_flows *fl;
	bool learn;
	struct sx_names_learner **learners; /* by tid */
	_Atomic int err;
};

struct run_thread {
	struct run_ctx *rc;
	struct sx_flows_worker *w;
	struct sx_names_learner *l;
};

static void run_latch(struct run_ctx *rc, int err)
{
	int zero = 0;

	if (err)
		atomic_compare_exchange_strong(&rc->err, &zero, err);
}

static int run_thread_init(void *ctx, unsigned tid, void **tctx)
{
	struct run_ctx *rc = ctx;
	struct run_thread *t = calloc(1, sizeof(*t));
	int ret;

	*tctx = NULL;
	if (!t)
		return -ENOMEM;
	t->rc = rc;
	sx_flows_thread_enter();
	ret = sx_flows_worker_new(rc->fl, &t->w);
	if (!ret && rc->learn) {
		ret = sx_names_learner_new(&rc->learners[tid]);
		t->l = rc->learners[tid];
	}
	if (ret) {
		if (t->w)
			sx_flows_worker_free(t->w);
		sx_flows_thread_leave();
		free(t);
		return ret;
	}
	*tctx = t;
	return 0;
}

static void run_file_begin(void *tctx, uint32_t file)
{
	struct run_thread *t = tctx;

	sx_flows_file_begin(t->w, file);
}

static void run_packet(void *tctx, const struct sx_pkt *pkt)
{
	struct run_thread *t = tctx;

	if (t->l)
		sx_names_learn(t->l, pkt);
	sx_flows_packet(t->w, pkt);
}

static void run_file_end(void *tctx, uint32_t file, const struct sx_file_status *st)
{
	struct run_thread *t = tctx;

	(void)st;
	sx_flows_file_end(t->w, file);
}

static void run_thread_fini(void *tctx)
{
	struct run_thread *t = tctx;

	if (!t)
		return;
	run_latch(t->rc, sx_flows_worker_free(t->w));
	sx_flows_thread_leave();
	free(t);
}

int sx_flows_collect(struct sx_flows *fl, const struct sx_ingest_cfg *cfg, struct sx_names *names,
		     struct sx_file_status *status)
{
	static const struct sx_ingest_ops ops = {.thread_init = run_thread_init,
						 .file_begin = run_file_begin,
						 .packet = run_packet,
						 .file_end = run_file_end,
						 .thread_fini = run_thread_fini};
	struct sx_ingest_cfg c = *cfg;
	struct run_ctx rc = {.fl = fl, .learn = names != NULL};
	unsigned i, readers;
	int ret, ret2;

	if (!c.nthreads)
		c.nthreads = sx_nproc();
	/* Threads beyond one per capture read for the decoding ones (ingest's
	 * pipe) and hold no flows: the ceiling is split among the others. */
	readers = c.npaths && c.nthreads > c.npaths ? c.npaths : c.nthreads;
	if (fl->split_cap)
		fl->cfg.max_live = (uint32_t)SX_MAX(
		    (uint64_t)1, SX_MIN(fl->cfg.max_flows / (readers ? readers : 1),
					(uint64_t)UINT32_MAX));
	rc.learners = sx_calloc_array(c.nthreads ? c.nthreads : 1, sizeof(*rc.learners));
	if (!rc.learners)
		return -ENOMEM;
	atomic_init(&rc.err, 0);
	ret = sx_ingest_run(&c, &ops, &rc, status);
	for (i = 0; i < c.nthreads; i++) {
		if (!ret && names && rc.learners[i])
			ret = sx_names_merge(names, rc.learners[i]);
		sx_names_learner_free(rc.learners[i]);
	}
	free(rc.learners);
	if (names)
		sx_names_finish(names);
	ret2 = atomic_load(&rc.err);
	if (!ret2)
		ret2 = sx_flows_error(fl);
	return ret ? ret : ret2;
}

/* Flows per MiB of capture, measured on the shared corpora (ndpiReader: 22 887
 * flows in 152 MB); only sizes the shards, which are resized when needed. */
#define FLOWS_PER_MIB 150

int sx_flows_write_csv(const struct sx_flows_job *job, FILE *out, struct sx_file_status *status,
		       struct sx_flows_stats *st)
{
	struct sx_ingest_cfg icfg = {.paths = job->paths,
				     .names = job->shown,
				     .npaths = job->npaths,
				     .nthreads = job->nthreads,
				     .filter = job->filter};
	struct sx_flows_cfg cfg = job->cfg;
	struct sx_flows *fl;
	struct sx_buf hdr;
	uint64_t total = 0;
	uint32_t i;
	int ret;

	if (!cfg.est_flows) {
		/* A sample of at most 64 sizes is enough to presize. */
		uint32_t step = job->npaths / 64 + 1, n = 0;

		for (i = 0; i < job->npaths; i += step) {
			struct stat sb;

			n++;
			if (stat(job->paths[i], &sb) == 0 && S_ISREG(sb.st_mode))
				total += (uint64_t)sb.st_size;
		}
		total = n ? total / n * job->npaths : 0;
		cfg.est_flows = total / (1u << 20) * FLOWS_PER_MIB + 1024;
	}
	ret = sx_flows_new(&cfg, &fl);
	if (ret)
		return ret;
	ret = sx_flows_collect(fl, &icfg, job->names, status);
	if (!ret) {
		sx_buf_init(&hdr);
		sx_flows_csv_header(&hdr);
		ret = sx_buf_flush(&hdr, out);
		sx_buf_fini(&hdr);
	}
	if (!ret)
		ret = sx_flows_reduce_text(fl, job->shown ? job->shown : job->paths, job->npaths,
					   job->names, job->nthreads ? job->nthreads : sx_nproc(),
					   sx_flows_csv_row, out);
	if (!ret && fflush(out) != 0)
		ret = -errno;
	if (st)
		sx_flows_get_stats(fl, st);
	sx_flows_free(fl);
	return ret;
}
