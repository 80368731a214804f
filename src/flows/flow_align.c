/*
 * flow_align.c - where the events of an events file are in each capture:
 * the windows of every capture, with scripted times aligned to the traffic.
 *
 * DESIGN
 *
 * Placing.  An event applies to the captures its row names (matched by path
 * as given, or by file name), or to every event capture when it names none.
 * Its scripted time in a capture is its absolute time, or the capture's
 * first packet plus its relative offset.  Each capture gets its own sorted
 * list of windows (start, event number); the flow stage cuts that capture
 * with it (flow_unit.c), and the reduce reads a unit's start from it.
 *
 * Alignment (--align; on by default when some time is relative).  A
 * script's offsets are not where the events are: the capture did not start
 * at the script's zero, and clocks drift (on the UCLouvain testbed the
 * shift between script and traffic is -150 to +12 s per run, with 20-30 s
 * of drift inside some).  Per capture:
 *
 *  1. Activity: the starts of the device's conversations.  A conversation
 *     is (peer address, IP protocol, service port: the lower port when
 *     either is below 49152, else none); it starts at a TCP SYN without ACK
 *     from either side, or at a packet after ACTIVITY_GAP of silence.  A
 *     conversation that starts at least PERIODIC_MIN times at regular
 *     intervals (3/4 of its gaps within 10% of their median) is background
 *     chatter and weighs nothing; another weighs 1/sqrt(its starts), so a
 *     rare conversation (a phone connecting to the device) says more than
 *     a frequent one.
 *  2. Shift: the shift s in [-bound, +bound] (steps of 0.5 s) that
 *     maximises the sum, over the events, of the heaviest start in
 *     [t + s - LEAD, t + s + REACH]; ties go to the shift whose matched
 *     starts are closest to their events' shifted times in total, then to
 *     the smaller |s|.  An event matches when that start exists.
 *  3. Drift: each event is then moved, within +-tolerance of t + s, to the
 *     heaviest start there (the nearest one on ties), minus LEAD: the
 *     window opens just before the device reacts.  Events without a start
 *     keep t + s.
 *
 * The match is weak when fewer than half of the events match, or when a
 * shift more than REACH away scores at least 90% of the best.  Captures
 * holding no activity of the device keep their scripted times.  All of it
 * depends only on the captures' packets: the same inputs give the same
 * windows on every run and thread count.
 */
#include "flows/flows.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/err.h"
#include "core/map.h"
#include "core/text.h"
#include "core/util.h"
#include "flows/flows_int.h"

#define ACTIVITY_GAP  (10 * SX_NS_PER_SEC)
#define PERIODIC_MIN  4
#define LEAD	      (2 * SX_NS_PER_SEC)
#define REACH	      (20 * SX_NS_PER_SEC)
#define STEP	      (SX_NS_PER_SEC / 2)
#define STARTS_MAX    (1u << 22) /* starts kept per capture */
#define EPHEMERAL_MIN 49152

/* ---- activity of the device ---- */

struct start {
	int64_t ts;
	uint64_t key;
	double w;
};

struct capture_act {
	struct start *s;
	uint32_t n, cap; /* at most STARTS_MAX: later starts are not kept */
};

struct conv {
	uint64_t key;
	int64_t last;
};

struct act_run {
	const struct sx_addr *device;
	const struct sx_addr *dev_of; /* per capture, or NULL */
	struct capture_act *caps;     /* by capture */
	uint32_t ncaps;
	const uint32_t *idx; /* capture of each file read */
	uint32_t nread;
	_Atomic int err; /* a thread's -ENOMEM */
};

struct act_thread {
	struct act_run *run;
	struct sx_map convs; /* of struct conv, per capture */
	uint32_t file;
	int err;
};

static int act_thread_init(void *ctx, unsigned tid, void **tctx)
{
	struct act_thread *t = calloc(1, sizeof(*t));

	(void)tid;
	if (!t)
		return -ENOMEM;
	t->run = ctx;
	sx_map_init(&t->convs, sizeof(struct conv), 256, 50);
	*tctx = t;
	return 0;
}

static void act_file_begin(void *tctx, uint32_t file)
{
	struct act_thread *t = tctx;

	t->file = file < t->run->nread ? t->run->idx[file] : UINT32_MAX;
	sx_map_clear(&t->convs);
}

static int push_start(struct capture_act *ca, int64_t ts, uint64_t key)
{
	if (ca->n == STARTS_MAX)
		return 0;
	if (ca->n == ca->cap) {
		uint32_t ncap = ca->cap ? 2 * ca->cap : 256;
		struct start *ns = sx_realloc_array(ca->s, ncap, sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		ca->s = ns;
		ca->cap = ncap;
	}
	ca->s[ca->n++] = (struct start){ts, key, 0};
	return 0;
}

static void act_packet(void *tctx, const struct sx_pkt *pkt)
{
	struct act_thread *t = tctx;
	const struct sx_addr *peer, *dev;
	struct {
		uint8_t addr[16];
		uint16_t port;
		uint8_t proto, family;
	} k;
	int64_t ts = pkt->ts_sec * SX_NS_PER_SEC + pkt->ts_nsec;
	struct conv *c;
	uint16_t lo;
	size_t pos = SX_MAP_START;
	uint64_t h;
	bool syn;

	if (t->err || t->file >= t->run->ncaps)
		return;
	dev = t->run->dev_of ? &t->run->dev_of[t->file] : t->run->device;
	if (sx_addr_cmp(&pkt->src, dev) == 0)
		peer = &pkt->dst;
	else if (sx_addr_cmp(&pkt->dst, dev) == 0)
		peer = &pkt->src;
	else
		return;
	memset(&k, 0, sizeof(k));
	memcpy(k.addr, peer->b, sizeof(k.addr));
	k.family = peer->family;
	k.proto = pkt->ip_proto;
	lo = pkt->sport < pkt->dport ? pkt->sport : pkt->dport;
	k.port = (pkt->ip_proto == 6 || pkt->ip_proto == 17) && lo < EPHEMERAL_MIN ? lo : 0;
	h = XXH3_64bits(&k, sizeof(k));
	syn = pkt->ip_proto == 6 && (pkt->tcp_flags & (SX_TCP_SYN | SX_TCP_ACK)) == SX_TCP_SYN;
	c = sx_map_next(&t->convs, h, &pos);
	if (!c) {
		if (sx_map_reserve(&t->convs, t->convs.n + 1)) {
			t->err = -ENOMEM;
			return;
		}
		pos = SX_MAP_START;
		while (sx_map_next(&t->convs, h, &pos))
			;
		c = sx_map_add(&t->convs, h, pos);
		c->key = h;
		c->last = INT64_MIN;
	}
	if (syn || c->last == INT64_MIN || ts - c->last > ACTIVITY_GAP)
		if (push_start(&t->run->caps[t->file], ts, h))
			t->err = -ENOMEM;
	if (ts > c->last)
		c->last = ts;
}

static void act_thread_fini(void *tctx)
{
	struct act_thread *t = tctx;

	if (t->err)
		atomic_store(&t->run->err, t->err);
	sx_map_fini(&t->convs);
	free(t);
}

static int start_key_cmp(const void *pa, const void *pb)
{
	const struct start *a = pa, *b = pb;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->ts < b->ts ? -1 : a->ts > b->ts;
}

static int start_ts_cmp(const void *pa, const void *pb)
{
	const struct start *a = pa, *b = pb;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return a->key < b->key ? -1 : a->key > b->key;
}

static int i64_cmp(const void *pa, const void *pb)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;

	return a < b ? -1 : a > b;
}

/* Whether the starts s[0..n) of one conversation come at regular intervals. */
static bool periodic(const struct start *s, uint32_t n, int64_t *gaps)
{
	uint32_t i, close = 0;
	int64_t med;

	if (n < PERIODIC_MIN)
		return false;
	for (i = 1; i < n; i++)
		gaps[i - 1] = s[i].ts - s[i - 1].ts;
	qsort(gaps, n - 1, sizeof(*gaps), i64_cmp);
	med = gaps[(n - 1) / 2];
	for (i = 1; i < n; i++) {
		int64_t d = s[i].ts - s[i - 1].ts - med;

		close += (d < 0 ? -d : d) * 10 <= med;
	}
	return close * 4 >= (n - 1) * 3;
}

/* Weigh a capture's starts (rules at the top), then sort them by time. */
static int weigh(struct capture_act *ca)
{
	int64_t *gaps;
	uint32_t i, j;

	if (!ca->n)
		return 0;
	gaps = sx_calloc_array(ca->n, sizeof(*gaps));
	if (!gaps)
		return -ENOMEM;
	qsort(ca->s, ca->n, sizeof(*ca->s), start_key_cmp);
	for (i = 0; i < ca->n; i = j) {
		double w;

		for (j = i; j < ca->n && ca->s[j].key == ca->s[i].key; j++)
			;
		w = periodic(ca->s + i, j - i, gaps) ? 0 : 1.0 / sqrt((double)(j - i));
		for (uint32_t k = i; k < j; k++)
			ca->s[k].w = w;
	}
	free(gaps);
	qsort(ca->s, ca->n, sizeof(*ca->s), start_ts_cmp);
	return 0;
}

/* ---- alignment ---- */

/* First index with s[i].ts >= t. */
static uint32_t lower_bound(const struct capture_act *ca, int64_t t)
{
	uint32_t lo = 0, hi = ca->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (ca->s[mid].ts < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The heaviest start in [a, b] (nearest to ref on ties), or -1. */
static int64_t best_start(const struct capture_act *ca, int64_t a, int64_t b, int64_t ref,
			  double *w)
{
	uint32_t i = lower_bound(ca, a);
	int64_t best = -1, bd = 0;

	*w = 0;
	for (; i < ca->n && ca->s[i].ts <= b; i++) {
		int64_t d = ca->s[i].ts > ref ? ca->s[i].ts - ref : ref - ca->s[i].ts;

		if (ca->s[i].w <= 0)
			continue;
		if (ca->s[i].w > *w || (ca->s[i].w == *w && d < bd)) {
			*w = ca->s[i].w;
			best = i;
			bd = d;
		}
	}
	return best;
}

/* The shift's score; *dist: how far the matched starts are from their
 * events' shifted times, in total (the tie-break). */
static double score(const struct capture_act *ca, const int64_t *t, uint32_t n, int64_t s,
		    uint32_t *matched, int64_t *dist)
{
	double sum = 0, w;
	uint32_t i;

	*matched = 0;
	*dist = 0;
	for (i = 0; i < n; i++) {
		int64_t k = best_start(ca, t[i] + s - LEAD, t[i] + s + REACH, t[i] + s, &w);

		if (k < 0)
			continue;
		sum += w;
		++*matched;
		*dist += ca->s[k].ts > t[i] + s ? ca->s[k].ts - t[i] - s : t[i] + s - ca->s[k].ts;
	}
	return sum;
}

/* Align the scripted times t[0..n) of one capture: rewrites t, fills rep. */
static void align(const struct capture_act *ca, int64_t *t, uint32_t n,
		  const struct sx_align_cfg *cfg, struct sx_align *rep)
{
	int64_t s, best_s = 0, best_d = 0, d;
	double best = -1, rival = 0;
	uint32_t m, best_m = 0, i;

	rep->aligned = true;
	for (s = -cfg->bound_ns; s <= cfg->bound_ns; s += STEP) {
		double sc = score(ca, t, n, s, &m, &d);
		int64_t as = s < 0 ? -s : s, ab = best_s < 0 ? -best_s : best_s;

		if (sc > best || (sc == best && (d < best_d || (d == best_d && as < ab)))) {
			best = sc;
			best_s = s;
			best_m = m;
			best_d = d;
		}
	}
	for (s = -cfg->bound_ns; s <= cfg->bound_ns; s += STEP) {
		int64_t away = s > best_s ? s - best_s : best_s - s;
		double sc;

		if (away <= REACH)
			continue;
		sc = score(ca, t, n, s, &m, &d);
		if (sc > rival)
			rival = sc;
	}
	rep->shift_ns = best_s;
	rep->matched = best_m;
	rep->weak = best_m * 2 < n || (best > 0 && rival >= 0.9 * best) || best <= 0;
	for (i = 0; i < n; i++) {
		int64_t at = t[i] + best_s;
		double w;
		int64_t k = best_start(ca, at - cfg->tolerance_ns, at + cfg->tolerance_ns, at, &w);

		t[i] = k >= 0 ? ca->s[k].ts - LEAD : at;
	}
}

/* ---- placing ---- */

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* The capture index of events file capture name c, or a negative error
 * with msg set. */
static int find_capture(const struct sx_align_cfg *cfg, const char *c, char *msg, size_t msglen)
{
	int found = -1;
	uint32_t i;

	for (i = 0; i < cfg->ncaps; i++) {
		char shown[4096];
		bool trunc;

		sx_text_escape(shown, sizeof(shown), (const uint8_t *)cfg->paths[i],
			       strlen(cfg->paths[i]), &trunc);
		if (strcmp(shown, c) && strcmp(base_name(shown), c))
			continue;
		if (found >= 0) {
			sx_msgf(msg, msglen, "capture \"%s\" names both %s and %s", c,
				cfg->paths[found], cfg->paths[i]);
			return -EINVAL;
		}
		found = (int)i;
	}
	if (found < 0)
		sx_msgf(msg, msglen, "no capture named \"%s\" among those given", c);
	return found < 0 ? -ENOENT : found;
}

static int window_cmp(const void *pa, const void *pb)
{
	const struct sx_window *a = pa, *b = pb;

	if (a->start_ns != b->start_ns)
		return a->start_ns < b->start_ns ? -1 : 1;
	return a->event < b->event ? -1 : a->event > b->event;
}

/* Read the captures with want[i] once: first packet (into st[i]), and the
 * device's activity when aligning. */
static int read_activity(const struct sx_align_cfg *cfg, const bool *want, struct act_run *run,
			 struct sx_file_status *st)
{
	struct sx_ingest_ops ops = {.thread_init = act_thread_init,
				    .file_begin = act_file_begin,
				    .packet = cfg->align ? act_packet : NULL,
				    .thread_fini = act_thread_fini};
	const char **paths = sx_calloc_array(cfg->ncaps + 1, sizeof(*paths));
	uint32_t *idx = sx_calloc_array(cfg->ncaps + 1, sizeof(*idx));
	struct sx_file_status *cst = sx_calloc_array(cfg->ncaps + 1, sizeof(*cst));
	struct sx_ingest_cfg icfg;
	uint32_t i, n = 0;
	int ret = 0;

	if (!paths || !idx || !cst) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < cfg->ncaps; i++)
		if (want[i]) {
			paths[n] = cfg->paths[i];
			idx[n++] = i;
		}
	run->idx = idx;
	run->nread = n;
	icfg = (struct sx_ingest_cfg){
	    .paths = paths, .npaths = n, .nthreads = cfg->nthreads, .filter = cfg->filter};
	if (n)
		ret = sx_ingest_run(&icfg, &ops, run, cst);
	if (!ret)
		ret = atomic_load(&run->err);
	for (i = 0; i < n; i++)
		st[idx[i]] = cst[i];
out:
	run->idx = NULL;
	free(paths);
	free(idx);
	free(cst);
	return ret;
}

int sx_events_place(const struct sx_events *ev, const struct sx_align_cfg *cfg,
		    struct sx_windows **out, struct sx_align *rep, char *msg, size_t msglen)
{
	struct sx_windows *w;
	struct act_run run = {.device = cfg->device, .dev_of = cfg->dev_of, .ncaps = cfg->ncaps};
	struct sx_file_status *st = NULL;
	int *capof = NULL;
	int64_t *t = NULL;
	bool *want = NULL;
	uint32_t i, e;
	int ret = 0;

	*out = NULL;
	memset(rep, 0, cfg->ncaps * sizeof(*rep));
	w = calloc(1, sizeof(*w));
	if (w) {
		w->ncaps = cfg->ncaps;
		w->w = sx_calloc_array(cfg->ncaps + 1, sizeof(*w->w));
		w->n = sx_calloc_array(cfg->ncaps + 1, sizeof(*w->n));
	}
	capof = sx_calloc_array(ev->ncaptures + 1, sizeof(*capof));
	want = sx_calloc_array(cfg->ncaps + 1, sizeof(*want));
	run.caps = sx_calloc_array(cfg->ncaps + 1, sizeof(*run.caps));
	st = sx_calloc_array(cfg->ncaps + 1, sizeof(*st));
	t = sx_calloc_array(ev->n + 1, sizeof(*t));
	if (!w || !w->w || !w->n || !capof || !want || !run.caps || !st || !t) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < ev->ncaptures; i++) {
		capof[i] = find_capture(cfg, ev->captures[i], msg, msglen);
		if (capof[i] < 0) {
			ret = capof[i] == -ENOENT ? -ENOENT : -EINVAL;
			goto out;
		}
	}
	for (i = 0; i < cfg->ncaps; i++)
		want[i] = (!cfg->applies || cfg->applies[i]) && (cfg->align || ev->any_relative);
	ret = read_activity(cfg, want, &run, st);
	if (ret)
		goto out;
	for (i = 0; i < cfg->ncaps; i++) {
		struct capture_act *ca = &run.caps[i];
		int64_t first = st[i].first_sec * SX_NS_PER_SEC + st[i].first_nsec;
		uint32_t n = 0, k = 0;

		if (cfg->applies && !cfg->applies[i])
			continue;
		rep[i].read = st[i].packets > 0;
		rep[i].first_ns = first;
		for (e = 0; e < ev->n; e++) {
			const struct sx_event *x = &ev->ev[e];

			if (x->capture && capof[x->capture - 1] != (int)i)
				continue;
			if (x->relative && !rep[i].read)
				continue; /* no first packet to count from */
			t[n++] = x->relative ? first + x->start_ns : x->start_ns;
		}
		rep[i].events = n;
		if (!n)
			continue;
		ret = weigh(ca);
		if (ret)
			goto out;
		if (cfg->align && ca->n)
			align(ca, t, n, cfg, &rep[i]);
		w->w[i] = sx_calloc_array(n, sizeof(*w->w[i]));
		if (!w->w[i]) {
			ret = -ENOMEM;
			goto out;
		}
		for (e = 0; e < ev->n; e++) {
			const struct sx_event *x = &ev->ev[e];

			if ((x->capture && capof[x->capture - 1] != (int)i) ||
			    (x->relative && !rep[i].read))
				continue;
			w->w[i][k].start_ns = t[k];
			w->w[i][k].event = e;
			k++;
		}
		qsort(w->w[i], n, sizeof(*w->w[i]), window_cmp);
		w->n[i] = n;
	}
	*out = w;
	w = NULL;
out:
	if (run.caps)
		for (i = 0; i < cfg->ncaps; i++)
			free(run.caps[i].s);
	free(run.caps);
	free(st);
	free(capof);
	free(want);
	free(t);
	sx_windows_free(w);
	return ret;
}

void sx_windows_free(struct sx_windows *w)
{
	uint32_t i;

	if (!w)
		return;
	for (i = 0; w->w && i < w->ncaps; i++)
		free(w->w[i]);
	free(w->w);
	free(w->n);
	free(w);
}

const struct sx_window *sx_windows_of(const struct sx_windows *w, uint32_t file, uint32_t *n)
{
	if (!w || file >= w->ncaps) {
		*n = 0;
		return NULL;
	}
	*n = w->n[file];
	return w->w[file];
}
