/*
 * test_flows_multi.c - sx_flows_collect_multi(): the files of several flow
 * tables (groups) read by ONE pool of reader threads, as `sigex batch`
 * reads a whole archive.
 *
 *   - one pool serves every group: the callbacks come from at most
 *     nthreads reader threads, never the caller, and one reader reads files
 *     of several groups; each group is opened and done exactly once, and
 *     its rows are byte for byte those of sx_flows_collect() over its files
 *     alone (names learned too);
 *   - groups are done as their files end, while later groups are still to
 *     be read (one reader: open 0, done 0, open 1, done 1, ...);
 *   - max_open bounds the groups in flight;
 *   - an open that fails reaches done with its error, the others go on;
 *   - a tapped file's packets reach the caller, all and in order, before
 *     its file_done, also when its group failed; the others' never;
 *   - a stop request leaves the unfinished groups to the caller.
 *
 * Captures are written by the test (support/frames.h).  The TSan build has
 * its own runner (support/check.h), each test in a child process: the stop
 * flag is process-wide.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/util.h"
#include "flows/flows.h"
#include "support/check.h"
#include "support/frames.h"
#include "support/tmp.h"

TestSuite(flows_multi, .timeout = 120);

#define TEST(name)                                                                                 \
	static void t_##name(void);                                                                \
	Test(flows_multi, name)                                                                    \
	{                                                                                          \
		t_##name();                                                                        \
	}                                                                                          \
	static void t_##name(void)

#define MAX_GROUPS 8
#define MAX_FILES  4
#define MAX_TIDS   16

enum ev_kind { EV_OPEN, EV_DONE };

struct ev {
	uint8_t kind;
	uint8_t group;
};

/* The groups of a test, their captures and what the callbacks saw. */
struct world {
	char *dir;
	uint32_t ngroups, nfiles; /* files per group */
	char *paths[MAX_GROUPS][MAX_FILES];
	struct sx_flows *fl[MAX_GROUPS];
	struct sx_names *names[MAX_GROUPS];
	struct sx_file_status status[MAX_GROUPS][MAX_FILES];
	int fail_open;	     /* group whose open fails, or -1 */
	uint32_t stop_after; /* files_done at which to request a stop, 0: never */
	const bool *tap;     /* per file in reading order, or NULL */
	/* seen */
	pthread_mutex_t lock;
	unsigned opened[MAX_GROUPS], done[MAX_GROUPS];
	int done_err[MAX_GROUPS];
	char *rows[MAX_GROUPS]; /* reduced at done */
	struct ev evs[2 * MAX_GROUPS];
	unsigned nevs;
	long tids[MAX_TIDS];
	uint32_t tid_groups[MAX_TIDS]; /* bit per group whose files the reader ended */
	unsigned ntids;
	unsigned files_done;
	atomic_int in_flight, max_in_flight;
	/* per file, written by the one thread reading it */
	unsigned tapped[MAX_GROUPS][MAX_FILES];
	uint64_t last_sec[MAX_GROUPS][MAX_FILES];
	bool ended[MAX_GROUPS][MAX_FILES];
	bool tap_late; /* a packet came after its file's file_done, or out of order */
};

static long tid(void)
{
	return (long)syscall(SYS_gettid);
}

/* The reader's slot (added on first sight), under w->lock. */
static unsigned tid_slot(struct world *w)
{
	long t = tid();
	unsigned i;

	for (i = 0; i < w->ntids; i++)
		if (w->tids[i] == t)
			return i;
	CHECK(w->ntids < MAX_TIDS);
	w->tids[w->ntids] = t;
	return w->ntids++;
}

/* Capture f of group g: 5 UDP flows of 4 packets and an HTTP request
 * naming its server "g<g>.example". */
static void write_capture(struct world *w, uint32_t g, uint32_t f)
{
	uint8_t frames[24][256];
	struct sx_tf_rec recs[24];
	static const char payload[MAX_GROUPS + 4] = "abcdefghijkl";
	char name[32], src[32], host[64], req[128], srv[32];
	unsigned k, n = 0;

	for (k = 0; k < 20; k++) {
		snprintf(src, sizeof(src), "10.%u.%u.%u", g, f, 1 + k % 5);
		recs[n] = (struct sx_tf_rec){frames[n],
					     (uint32_t)sx_tf_udp(frames[n], sizeof(frames[n]), src,
								 (uint16_t)(4000 + k % 5),
								 "192.0.2.1", 53, payload, 4 + g),
					     0, 1700000000 + f * 100 + k, k};
		n++;
	}
	snprintf(srv, sizeof(srv), "198.51.100.%u", 1 + g);
	snprintf(host, sizeof(host), "g%u.example", g);
	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", host);
	recs[n] = (struct sx_tf_rec){frames[n],
				     (uint32_t)sx_tf_tcp(frames[n], sizeof(frames[n]), "10.9.9.9",
							 5555, srv, 80, 0x18, req, strlen(req)),
				     0, 1700000000 + f * 100 + 30, 0};
	n++;
	snprintf(name, sizeof(name), "g%u-f%u.pcap", g, f);
	w->paths[g][f] = sx_tt_path(w->dir, name);
	CHECK_EQ(sx_tf_write_pcap(w->paths[g][f], 1, recs, n), 0);
}

static void world_init(struct world *w, uint32_t ngroups, uint32_t nfiles)
{
	uint32_t g, f;

	memset(w, 0, sizeof(*w));
	w->dir = sx_tt_tmpdir();
	CHECK(w->dir != NULL);
	w->ngroups = ngroups;
	w->nfiles = nfiles;
	w->fail_open = -1;
	pthread_mutex_init(&w->lock, NULL);
	atomic_init(&w->in_flight, 0);
	atomic_init(&w->max_in_flight, 0);
	for (g = 0; g < ngroups; g++)
		for (f = 0; f < nfiles; f++)
			write_capture(w, g, f);
}

static void world_fini(struct world *w)
{
	uint32_t g, f;

	for (g = 0; g < w->ngroups; g++) {
		sx_flows_free(w->fl[g]);
		sx_names_free(w->names[g]);
		free(w->rows[g]);
		for (f = 0; f < w->nfiles; f++) {
			unlink(w->paths[g][f]);
			free(w->paths[g][f]);
		}
	}
	rmdir(w->dir);
	free(w->dir);
	pthread_mutex_destroy(&w->lock);
}

static struct sx_flows *new_table(void)
{
	struct sx_flows_cfg cfg = {.idle_ns = 120 * SX_NS_PER_SEC};
	struct sx_flows *fl;

	CHECK_EQ(sx_flows_new(&cfg, &fl), 0);
	return fl;
}

static int row_text(void *arg, const struct sx_flow_row *row)
{
	sx_flows_csv_row(arg, row);
	return 0;
}

/* The CSV rows of a finished table (its files named by their paths). */
static char *reduce_text(struct world *w, uint32_t g, struct sx_flows *fl,
			 const struct sx_names *names)
{
	struct sx_buf b;
	char *text;

	sx_buf_init(&b);
	CHECK_EQ(
	    sx_flows_reduce(fl, (const char *const *)w->paths[g], w->nfiles, names, row_text, &b),
	    0);
	CHECK(!b.err);
	text = strndup(b.data ? b.data : "", b.len);
	sx_buf_fini(&b);
	return text;
}

/* The same files read alone by sx_flows_collect(). */
static char *alone_text(struct world *w, uint32_t g)
{
	struct sx_ingest_cfg icfg = {
	    .paths = (const char *const *)w->paths[g], .npaths = w->nfiles, .nthreads = 2};
	struct sx_file_status st[MAX_FILES];
	struct sx_flows *fl = new_table();
	struct sx_names *names;
	char *text;

	CHECK_EQ(sx_names_new(&names), 0);
	CHECK_EQ(sx_flows_collect(fl, &icfg, names, st), 0);
	text = reduce_text(w, g, fl, names);
	sx_flows_free(fl);
	sx_names_free(names);
	return text;
}

static void note(struct world *w, enum ev_kind kind, uint32_t g)
{
	w->evs[w->nevs++] = (struct ev){(uint8_t)kind, (uint8_t)g};
	tid_slot(w);
}

static int cb_open(void *arg, uint32_t g, struct sx_flows_group *io)
{
	struct world *w = arg;
	int n = atomic_fetch_add(&w->in_flight, 1) + 1, max = atomic_load(&w->max_in_flight);

	while (n > max && !atomic_compare_exchange_weak(&w->max_in_flight, &max, n))
		;
	pthread_mutex_lock(&w->lock);
	w->opened[g]++;
	note(w, EV_OPEN, g);
	pthread_mutex_unlock(&w->lock);
	if ((int)g == w->fail_open)
		return -EIO;
	w->fl[g] = new_table();
	CHECK_EQ(sx_names_new(&w->names[g]), 0);
	*io = (struct sx_flows_group){.fl = w->fl[g], .names = w->names[g], .status = w->status[g]};
	return 0;
}

static void cb_file_done(void *arg, uint32_t i, const struct sx_file_status *st)
{
	struct world *w = arg;
	uint32_t g = i / w->nfiles;
	unsigned slot;

	CHECK(st->opened);
	w->ended[g][i % w->nfiles] = true;
	pthread_mutex_lock(&w->lock);
	slot = tid_slot(w);
	w->tid_groups[slot] |= 1u << g;
	w->files_done++;
	if (w->stop_after && w->files_done == w->stop_after)
		sx_request_stop();
	pthread_mutex_unlock(&w->lock);
}

static void cb_done(void *arg, uint32_t g, int err)
{
	struct world *w = arg;
	char *text = NULL;

	/* the table is complete and no worker is left on it: reduce it here,
	 * on the reader thread, as sigex batch does */
	if (!err)
		text = reduce_text(w, g, w->fl[g], w->names[g]);
	pthread_mutex_lock(&w->lock);
	w->done[g]++;
	w->done_err[g] = err;
	w->rows[g] = text;
	note(w, EV_DONE, g);
	pthread_mutex_unlock(&w->lock);
	atomic_fetch_sub(&w->in_flight, 1);
}

static void cb_packet(void *arg, uint32_t i, const struct sx_pkt *pkt)
{
	struct world *w = arg;
	uint32_t g = i / w->nfiles, f = i % w->nfiles;

	if (w->ended[g][f] || (uint64_t)pkt->ts_sec < w->last_sec[g][f])
		w->tap_late = true;
	w->last_sec[g][f] = (uint64_t)pkt->ts_sec;
	w->tapped[g][f]++;
}

static const struct sx_flows_multi_ops ops = {
    .open = cb_open, .file_done = cb_file_done, .packet = cb_packet, .done = cb_done};

/* Read every group's files, group by group, with nthreads readers. */
static int run(struct world *w, unsigned nthreads, unsigned max_open)
{
	const char *paths[MAX_GROUPS * MAX_FILES];
	uint32_t group[MAX_GROUPS * MAX_FILES], index[MAX_GROUPS * MAX_FILES], g, f, n = 0;
	struct sx_flows_multi m;

	for (g = 0; g < w->ngroups; g++)
		for (f = 0; f < w->nfiles; f++, n++) {
			paths[n] = w->paths[g][f];
			group[n] = g;
			index[n] = f;
		}
	m = (struct sx_flows_multi){.paths = paths,
				    .group = group,
				    .index = index,
				    .npaths = n,
				    .ngroups = w->ngroups,
				    .nthreads = nthreads,
				    .max_open = max_open,
				    .tap = w->tap,
				    .ops = &ops,
				    .arg = w};
	return sx_flows_collect_multi(&m);
}

TEST(one_pool_reads_every_group)
{
	struct world w;
	uint32_t g, f;
	unsigned i, multi = 0;

	world_init(&w, 4, 3);
	CHECK_EQ(run(&w, 2, 0), 0);
	CHECK(w.ntids >= 1 && w.ntids <= 2);
	for (i = 0; i < w.ntids; i++) {
		CHECK(w.tids[i] != tid());
		multi += (w.tid_groups[i] & (w.tid_groups[i] - 1)) != 0;
	}
	/* 12 files, 2 readers: one read files of two groups or more */
	CHECK(multi >= 1);
	for (g = 0; g < w.ngroups; g++) {
		char *alone = alone_text(&w, g);
		struct sx_addr a = {.family = 4, .b = {198, 51, 100, (uint8_t)(1 + g)}};
		char host[32];

		CHECK_EQ(w.opened[g], 1);
		CHECK_EQ(w.done[g], 1);
		CHECK_EQ(w.done_err[g], 0);
		for (f = 0; f < w.nfiles; f++) {
			CHECK(w.status[g][f].opened);
			CHECK_EQ(w.status[g][f].packets, 21);
		}
		CHECK(w.rows[g] && strlen(w.rows[g]) > 100);
		CHECK(strcmp(w.rows[g], alone) == 0);
		snprintf(host, sizeof(host), "g%u.example", g);
		CHECK(sx_names_lookup(w.names[g], &a) &&
		      strcmp(sx_names_lookup(w.names[g], &a), host) == 0);
		free(alone);
	}
	world_fini(&w);
}

TEST(groups_are_done_as_their_files_end)
{
	struct world w;
	uint32_t g;

	world_init(&w, 5, 2);
	CHECK_EQ(run(&w, 1, 0), 0);
	CHECK_EQ(w.nevs, 10);
	CHECK_EQ(w.ntids, 1);
	for (g = 0; g < w.ngroups; g++) {
		CHECK_EQ(w.evs[2 * g].kind, EV_OPEN);
		CHECK_EQ(w.evs[2 * g].group, g);
		CHECK_EQ(w.evs[2 * g + 1].kind, EV_DONE);
		CHECK_EQ(w.evs[2 * g + 1].group, g);
	}
	world_fini(&w);
}

TEST(max_open_bounds_the_groups_in_flight)
{
	static const struct {
		uint32_t ngroups, nfiles;
		unsigned nthreads, max_open;
	} cases[] = {{6, 3, 3, 1}, {6, 1, 4, 2}};
	struct world w;
	uint32_t g;
	size_t i;

	for (i = 0; i < SX_ARRAY_SIZE(cases); i++) {
		world_init(&w, cases[i].ngroups, cases[i].nfiles);
		CHECK_EQ(run(&w, cases[i].nthreads, cases[i].max_open), 0);
		CHECK(atomic_load(&w.max_in_flight) >= 1);
		CHECK(atomic_load(&w.max_in_flight) <= (int)cases[i].max_open);
		for (g = 0; g < w.ngroups; g++)
			CHECK_EQ(w.done[g], 1);
		world_fini(&w);
	}
}

TEST(failed_open_reaches_done_and_the_others_go_on)
{
	struct world w;
	uint32_t g;

	world_init(&w, 3, 2);
	w.fail_open = 1;
	CHECK_EQ(run(&w, 2, 0), 0);
	CHECK_EQ(w.files_done, 6);
	for (g = 0; g < w.ngroups; g++) {
		CHECK_EQ(w.opened[g], 1);
		CHECK_EQ(w.done[g], 1);
		CHECK_EQ(w.done_err[g], g == 1 ? -EIO : 0);
		CHECK(g == 1 || w.rows[g] != NULL);
	}
	world_fini(&w);
}

TEST(tapped_files_packets_reach_the_caller_in_order)
{
	/* 3 groups x 2 files, in reading order; group 1 fails to open */
	static const bool tap[6] = {true, false, false, true, true, true};
	struct world w;
	uint32_t g, f;
	unsigned threads;

	for (threads = 1; threads <= 3; threads++) {
		world_init(&w, 3, 2);
		w.fail_open = 1;
		w.tap = tap;
		CHECK_EQ(run(&w, threads, 0), 0);
		CHECK(!w.tap_late);
		for (g = 0; g < w.ngroups; g++)
			for (f = 0; f < w.nfiles; f++)
				CHECK_EQ(w.tapped[g][f], tap[g * w.nfiles + f] ? 21u : 0u);
		world_fini(&w);
	}
}

TEST(stop_leaves_unfinished_groups_to_the_caller)
{
	struct world w;
	uint32_t g, done = 0, open_not_done = 0;

	world_init(&w, 4, 3);
	w.stop_after = 4; /* in the second group */
	CHECK_EQ(run(&w, 1, 0), SX_E_STOPPED);
	for (g = 0; g < w.ngroups; g++) {
		CHECK(w.done[g] <= 1);
		done += w.done[g];
		open_not_done += w.opened[g] && !w.done[g];
	}
	CHECK_EQ(done, 1); /* the first group only */
	CHECK_EQ(w.done[0], 1);
	CHECK_EQ(open_not_done, 1); /* the second, left open: freed by world_fini */
	CHECK_EQ(w.opened[2] + w.opened[3], 0);
	world_fini(&w);
}

#ifdef SX_TC_STANDALONE
/* The TSan build's runner (support/check.h). */
int main(int argc, char **argv)
{
	static const struct sx_tc_test tests[] = {
#define T(n) {#n, t_##n}
	    T(one_pool_reads_every_group),
	    T(groups_are_done_as_their_files_end),
	    T(max_open_bounds_the_groups_in_flight),
	    T(failed_open_reaches_done_and_the_others_go_on),
	    T(tapped_files_packets_reach_the_caller_in_order),
	    T(stop_leaves_unfinished_groups_to_the_caller),
#undef T
	};

	return sx_tc_run_standalone("flows_multi", tests, SX_ARRAY_SIZE(tests), NULL, NULL, true,
				    argc, argv);
}
#endif
