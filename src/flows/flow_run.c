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
 *
 * sx_flows_collect_multi() drives many tables with one sx_ingest_run()
 * (flows.h).  Consecutive files of a thread may go to different tables,
 * and a table can be reduced only once no worker is left on it, so a
 * thread's worker and learner belong to the group it is on: kept while its
 * files stay in that group, released (worker freed, names merged, its ended
 * files counted) when it moves to another group, when it ends a file and
 * no file of the group is left to begin, or when the thread ends.  A
 * worker per file instead would cost one grace period per file (its flows
 * leave the table when it is freed): over the 390 IoT Sentinel captures,
 * 964 membarrier calls instead of 206 and 8 % more wall time at -j1.  The
 * release at a file's end when nothing of the group is left to begin
 * matters: released later, at the thread's next file, the group's last
 * release (and its done callback, the mining) would hold up a file the
 * thread has already claimed.  Group state (files left, first error, open
 * or failed) is under the group's mutex, which also orders every merge,
 * every status entry and every worker's last spill write before the done
 * callback that reduces the table.  A tapped file's packets also go to the
 * caller as they are decoded (`sigex batch` infers a device's address from
 * the packets it reads for the flows, instead of reading them again).
 */
#include "flows/flows.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"
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
	if (!ret)
		t->w->sole = true; /* one thread per capture */
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
		    (uint64_t)1,
		    SX_MIN(fl->cfg.max_flows / (readers ? readers : 1), (uint64_t)UINT32_MAX));
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

/* ---- many tables, one reader pool ---- */

#define OPEN_POLL_NS (50 * 1000 * 1000) /* a waiting opener checks for a stop request */

enum group_state { GROUP_CLOSED = 0, GROUP_OPEN, GROUP_FAILED };

struct multi_group {
	pthread_mutex_t lock;
	struct sx_flows_group io;
	uint32_t left;	     /* files not released yet (see struct multi_thread) */
	atomic_uint unbegun; /* files no reader has begun yet */
	int state;	     /* enum group_state */
	int err;	     /* first error */
};

struct multi_ctx {
	const struct sx_flows_multi *m;
	struct multi_group *groups;
	unsigned nthreads; /* reader threads holding workers */
	pthread_mutex_t open_lock;
	pthread_cond_t open_cond;
	unsigned nopen; /* groups open (or failed) and not done */
};

/*
 * A reader thread's hold on a group: the worker and learner it keeps while
 * its consecutive files go to the same table, and the files of the group it
 * has ended but not yet released (they still count in the group's left).
 */
struct multi_thread {
	struct multi_ctx *mc;
	struct multi_group *g; /* the group held, NULL: none */
	struct sx_flows_worker *w;
	struct sx_names_learner *l;
	uint32_t ended; /* files of g ended, not released */
	uint32_t index; /* the current file's number in g's table */
	uint32_t file;	/* the current file (an index into paths) */
	bool tap;	/* its packets go to ops->packet too */
};

static void group_latch(struct multi_group *g, int err)
{
	if (err && !g->err)
		g->err = err;
}

/* Wait for room under max_open; false when a stop request came first. */
static bool wait_open_slot(struct multi_ctx *mc)
{
	bool ok = true;

	pthread_mutex_lock(&mc->open_lock);
	while (mc->m->max_open && mc->nopen >= mc->m->max_open) {
		struct timespec until;

		if (sx_stop_requested()) {
			ok = false;
			break;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += OPEN_POLL_NS;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&mc->open_cond, &mc->open_lock, &until);
	}
	if (ok)
		mc->nopen++;
	pthread_mutex_unlock(&mc->open_lock);
	return ok;
}

static void release_open_slot(struct multi_ctx *mc)
{
	pthread_mutex_lock(&mc->open_lock);
	mc->nopen--;
	pthread_cond_signal(&mc->open_cond);
	pthread_mutex_unlock(&mc->open_lock);
}

/* Open g (its lock held) the first time one of its files is begun. */
static void group_open(struct multi_ctx *mc, struct multi_group *g)
{
	const struct sx_flows_multi *m = mc->m;
	struct sx_flows *fl;
	int ret;

	if (!wait_open_slot(mc))
		return; /* stopping: stays closed, its files are ignored */
	ret = m->ops->open(m->arg, (uint32_t)(g - mc->groups), &g->io);
	if (!ret && (!g->io.fl || !g->io.status))
		ret = -EINVAL;
	if (ret) {
		group_latch(g, ret);
		g->state = GROUP_FAILED;
		return;
	}
	fl = g->io.fl;
	if (fl->split_cap)
		fl->cfg.max_live = (uint32_t)SX_MAX(
		    (uint64_t)1, SX_MIN(fl->cfg.max_flows / mc->nthreads, (uint64_t)UINT32_MAX));
	g->state = GROUP_OPEN;
}

static int multi_thread_init(void *ctx, unsigned tid, void **tctx)
{
	struct multi_thread *t = calloc(1, sizeof(*t));

	(void)tid;
	*tctx = t;
	if (!t)
		return -ENOMEM;
	t->mc = ctx;
	sx_flows_thread_enter();
	return 0;
}

/*
 * Let go of the group held: free the worker (its last flows reach the
 * spill), merge the names, and count the ended files as done; the thread
 * that brings the group to zero finishes its names and calls done.
 */
static void release(struct multi_thread *t)
{
	struct multi_ctx *mc = t->mc;
	const struct sx_flows_multi *m = mc->m;
	struct multi_group *g = t->g;
	bool last;
	int err;

	if (!g)
		return;
	err = sx_flows_worker_free(t->w);
	t->w = NULL;
	pthread_mutex_lock(&g->lock);
	group_latch(g, err);
	if (t->l && g->state == GROUP_OPEN)
		group_latch(g, sx_names_merge(g->io.names, t->l));
	g->left -= t->ended;
	last = t->ended && g->left == 0;
	pthread_mutex_unlock(&g->lock);
	sx_names_learner_free(t->l);
	t->l = NULL;
	t->g = NULL;
	t->ended = 0;
	if (!last || sx_stop_requested())
		return; /* stopping: the caller frees the group */
	/* Every other thread is done with g: no lock needed any more. */
	if (g->state == GROUP_OPEN && g->io.names)
		sx_names_finish(g->io.names);
	m->ops->done(m->arg, (uint32_t)(g - mc->groups), g->err);
	release_open_slot(mc);
}

static void multi_file_begin(void *tctx, uint32_t file)
{
	struct multi_thread *t = tctx;
	struct multi_ctx *mc = t->mc;
	struct multi_group *g = &mc->groups[mc->m->group[file]];
	int ret = 0;

	atomic_fetch_sub(&g->unbegun, 1);
	t->file = file;
	t->tap = mc->m->tap && mc->m->tap[file];
	if (t->g != g)
		release(t);
	t->index = mc->m->index[file];
	if (t->g == g) {
		if (t->w)
			sx_flows_file_begin(t->w, t->index);
		return;
	}
	t->g = g;
	pthread_mutex_lock(&g->lock);
	if (g->state == GROUP_CLOSED)
		group_open(mc, g);
	if (g->state == GROUP_OPEN) {
		ret = sx_flows_worker_new(g->io.fl, &t->w);
		if (!ret)
			t->w->sole = true; /* one thread per capture */
		if (!ret && g->io.names)
			ret = sx_names_learner_new(&t->l);
		group_latch(g, ret);
	}
	pthread_mutex_unlock(&g->lock);
	if (ret) {
		sx_flows_worker_free(t->w);
		t->w = NULL;
	}
	if (t->w)
		sx_flows_file_begin(t->w, t->index);
}

static void multi_packet(void *tctx, const struct sx_pkt *pkt)
{
	struct multi_thread *t = tctx;

	if (t->tap)
		t->mc->m->ops->packet(t->mc->m->arg, t->file, pkt);
	if (!t->w)
		return;
	if (t->l)
		sx_names_learn(t->l, pkt);
	sx_flows_packet(t->w, pkt);
}

static void multi_file_end(void *tctx, uint32_t file, const struct sx_file_status *st)
{
	struct multi_thread *t = tctx;
	const struct sx_flows_multi *m = t->mc->m;
	struct multi_group *g = t->g;

	if (t->w)
		sx_flows_file_end(t->w, t->index);
	/* The slot is this file's alone; done reads it after the lock that
	 * counts the file (release). */
	if (g->state == GROUP_OPEN)
		g->io.status[t->index] = *st;
	/* A file cut short by a stop request does not complete its group;
	 * nor does one of a group a stop kept closed. */
	if (g->state != GROUP_CLOSED && !sx_stop_requested())
		t->ended++;
	if (m->ops->file_done)
		m->ops->file_done(m->arg, file, st);
	/* No file of g left for this thread to take: let go now, so that a
	 * last release (and done) comes before this thread claims another
	 * file, which would wait for it. */
	if (!atomic_load(&g->unbegun))
		release(t);
}

static void multi_thread_fini(void *tctx)
{
	struct multi_thread *t = tctx;

	if (!t)
		return;
	release(t);
	sx_flows_thread_leave();
	free(t);
}

int sx_flows_collect_multi(const struct sx_flows_multi *m)
{
	static const struct sx_ingest_ops ops = {.thread_init = multi_thread_init,
						 .file_begin = multi_file_begin,
						 .packet = multi_packet,
						 .file_end = multi_file_end,
						 .thread_fini = multi_thread_fini};
	struct sx_ingest_cfg c = {.paths = m->paths,
				  .npaths = m->npaths,
				  .nthreads = m->nthreads ? m->nthreads : sx_nproc(),
				  .filter = m->filter};
	struct multi_ctx mc = {.m = m};
	struct sx_file_status *status = NULL;
	uint32_t *order = NULL, i;
	int ret = -ENOMEM;

	if (!m->ops || !m->ops->open || !m->ops->done || (m->tap && !m->ops->packet))
		return -EINVAL;
	for (i = 0; i < m->npaths; i++)
		if (m->group[i] >= m->ngroups)
			return -EINVAL;
	/* threads beyond one per file only read for others (ingest's pipe) */
	mc.nthreads = c.nthreads > m->npaths ? SX_MAX(m->npaths, 1u) : c.nthreads;
	mc.groups = sx_calloc_array(m->ngroups + 1, sizeof(*mc.groups));
	status = sx_calloc_array(m->npaths + 1, sizeof(*status));
	order = sx_calloc_array(m->npaths + 1, sizeof(*order));
	if (!mc.groups || !status || !order)
		goto out_free;
	for (i = 0; i < m->npaths; i++) {
		order[i] = i;
		mc.groups[m->group[i]].left++;
	}
	for (i = 0; i < m->ngroups; i++)
		atomic_init(&mc.groups[i].unbegun, mc.groups[i].left);
	ret = -EINVAL;
	for (i = 0; i < m->ngroups; i++)
		if (!mc.groups[i].left)
			goto out_free;
	for (i = 0; i < m->ngroups; i++)
		pthread_mutex_init(&mc.groups[i].lock, NULL);
	pthread_mutex_init(&mc.open_lock, NULL);
	pthread_cond_init(&mc.open_cond, NULL);
	c.order = order;
	ret = sx_ingest_run(&c, &ops, &mc, status);
	if (!ret)
		for (i = 0; i < m->ngroups && !ret; i++)
			if (mc.groups[i].left)
				ret = sx_stop_requested() ? SX_E_STOPPED : -EIO;
	pthread_cond_destroy(&mc.open_cond);
	pthread_mutex_destroy(&mc.open_lock);
	for (i = 0; i < m->ngroups; i++)
		pthread_mutex_destroy(&mc.groups[i].lock);
out_free:
	free(order);
	free(status);
	free(mc.groups);
	return ret;
}

/* Flows per MiB of capture, measured on the shared corpora (ndpiReader: 22 887
 * flows in 152 MB); only sizes the shards, which are resized when needed. */
#define FLOWS_PER_MIB 150

uint64_t sx_flows_estimate(const char *const *paths, const uint64_t *sizes, uint32_t npaths)
{
	/* A sample of at most 64 sizes is enough to presize. */
	uint32_t step = npaths / 64 + 1, n = 0, i;
	uint64_t total = 0, est;

	for (i = 0; i < npaths; i += step) {
		struct stat sb;

		n++;
		if (sizes)
			total += sizes[i] == UINT64_MAX ? 0 : sizes[i];
		else if (stat(paths[i], &sb) == 0 && S_ISREG(sb.st_mode))
			total += (uint64_t)sb.st_size;
	}
	total = n ? total / n * npaths : 0;
	est = total / (1u << 20) * FLOWS_PER_MIB + 1024;
	return SX_MIN(est, (uint64_t)SX_FLOWS_MAX_LIVE_DEFAULT);
}

int sx_flows_write_csv(const struct sx_flows_job *job, FILE *out, struct sx_file_status *status,
		       struct sx_flows_stats *st)
{
	struct sx_ingest_cfg icfg = {.paths = job->paths,
				     .names = job->shown,
				     .sizes = job->sizes,
				     .npaths = job->npaths,
				     .nthreads = job->nthreads,
				     .filter = job->filter};
	struct sx_flows_cfg cfg = job->cfg;
	struct sx_flows *fl;
	struct sx_buf hdr;
	uint32_t i;
	int ret;

	if (!cfg.est_flows)
		cfg.est_flows = sx_flows_estimate(job->paths, job->sizes, job->npaths);
	ret = sx_flows_new(&cfg, &fl);
	if (ret)
		return ret;
	ret = sx_flows_collect(fl, &icfg, job->names, status);
	for (i = 0; !ret && i < job->npaths && !status[i].opened; i++)
		;
	if (!ret && i == job->npaths)
		ret = -ENODATA;
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
