/*
 * pattern_stats.c - a pattern's statistics (packets, bytes, duration, start
 * offsets), the periodic-chatter test and the histograms of the reference's
 * Application Data (rules in patterns.c's design).
 */
#include "mine/patterns_int.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "ingest/ingest.h"

#define PERIOD_MIN_NS 1000000000LL
#define ONE_QUARTER   0.25
#define LOCK_SHARE    0.2 /* start-offset IQR below P / 5: locked to the event */

/* ---- statistics ---- */

static void stat_of(int64_t *v, size_t n, struct sx_mine_stat *s)
{
	sx_mine__sort_i64(v, n);
	s->min = n ? v[0] : 0;
	s->max = n ? v[n - 1] : 0;
	s->median = sx_mine__median(v, n);
}

/* The payload-length ranges by position (mine.h: seq_min, seq_max). */
static void seq_ranges(const struct sx_mine_input *in, const struct clu *c,
		       struct sx_mine_pattern *p)
{
	uint32_t i, k;

	p->seq_n = 0;
	p->seq_all = SX_FLOW_SEQ_MAX;
	for (i = 0; i < c->n; i++) {
		const struct sx_mine_flow *f = in->flows[c->mem[i]];
		uint8_t n = f->nseq < SX_FLOW_SEQ_MAX ? f->nseq : SX_FLOW_SEQ_MAX;

		for (k = 0; k < n; k++) {
			if (k >= p->seq_n || f->seq_len[k] < p->seq_min[k])
				p->seq_min[k] = f->seq_len[k];
			if (k >= p->seq_n || f->seq_len[k] > p->seq_max[k])
				p->seq_max[k] = f->seq_len[k];
			if (k >= p->seq_n)
				p->seq_n = (uint8_t)(k + 1);
		}
		if (n < p->seq_all)
			p->seq_all = n;
	}
	if (!c->n)
		p->seq_all = 0;
}

void sx_mine__build_stats(struct ctx *cx, struct clu *c, struct sx_mine_pattern *p)
{
	const struct sx_mine_input *in = cx->in;
	int64_t *v = cx->tmp;
	uint32_t i, r, n = 0;

	for (r = 0; r < 2; r++) {
		for (i = 0; i < c->n; i++)
			v[i] = (int64_t)in->flows[c->mem[i]]->pkts[r];
		stat_of(v, c->n, &p->pkts[r]);
		for (i = 0; i < c->n; i++)
			v[i] = (int64_t)in->flows[c->mem[i]]->bytes[r];
		stat_of(v, c->n, &p->bytes[r]);
	}
	for (i = 0; i < c->n; i++) {
		const struct sx_mine_flow *f = in->flows[c->mem[i]];

		v[i] = f->last_ns - f->first_ns;
	}
	stat_of(v, c->n, &p->duration_ns);
	for (i = 0; i < in->noccs; i++)
		if (c->first[i] != INT64_MIN)
			v[n++] = c->first[i];
	stat_of(v, n, &p->offset_ns);
	seq_ranges(in, c, p);
	p->offset_spread_ns = sx_mine__quantile(v, n, 0.75) - sx_mine__quantile(v, n, 0.25);
	c->order_key = p->offset_ns.median;
}

/* The periodic test (see the top of patterns.c); sets p->period_ns. */
bool sx_mine__is_periodic(struct ctx *cx, const struct clu *c, struct sx_mine_pattern *p)
{
	const struct sx_mine_input *in = cx->in;
	int64_t *gaps = cx->tmp, period, mad;
	uint32_t i, ng = 0, nrep = 0, run = 0;

	for (i = 0; i < c->n; i++) {
		const struct sx_mine_flow *f = in->flows[c->mem[i]];

		if (i && in->flows[c->mem[i - 1]]->unit == f->unit) {
			gaps[ng++] = f->first_ns - in->flows[c->mem[i - 1]]->first_ns;
			if (++run == 1)
				nrep++;
		} else {
			run = 0;
		}
	}
	if (!ng)
		return false;
	sx_mine__sort_i64(gaps, ng);
	period = sx_mine__median(gaps, ng);
	p->period_ns = period;
	if (nrep * 2 < c->support || period < PERIOD_MIN_NS)
		return false;
	for (i = 0; i < ng; i++)
		gaps[i] = gaps[i] > period ? gaps[i] - period : period - gaps[i];
	sx_mine__sort_i64(gaps, ng);
	mad = sx_mine__median(gaps, ng);
	if ((double)mad > ONE_QUARTER * (double)period)
		return false;
	return (double)p->offset_spread_ns >= LOCK_SHARE * (double)period;
}

/* ---- histograms (the reference's Application Data) ---- */

static int hist_add(struct sx_mine_hist *h, uint32_t *n, uint64_t num, const char *str)
{
	uint32_t i;

	for (i = 0; i < *n; i++) {
		if (str ? (h[i].str && !strcmp(h[i].str, str)) : (!h[i].str && h[i].num == num)) {
			h[i].count++;
			return 0;
		}
	}
	h[*n].num = num;
	h[*n].str = str;
	h[*n].count = 1;
	(*n)++;
	return 0;
}

int sx_mine__build_hists(struct ctx *cx, const struct clu *c, struct sx_mine_pattern *p)
{
	const struct sx_mine_input *in = cx->in;
	struct sx_mine_hist *hl, *hs, *hp;
	uint32_t i, nl = 0, ns = 0, np = 0;

	hl = sx_mine__alloc_array(cx->ra, c->n, sizeof(*hl));
	hs = sx_mine__alloc_array(cx->ra, c->n, sizeof(*hs));
	hp = sx_mine__alloc_array(cx->ra, c->n, sizeof(*hp));
	if (!hl || !hs || !hp)
		return -ENOMEM;
	for (i = 0; i < c->n; i++) {
		const struct sx_mine_flow *f = in->flows[c->mem[i]];
		uint64_t len = f->bytes[0] + f->bytes[1], np1 = f->pkts[0] + f->pkts[1];

		/* falsy values are not counted, as in the reference */
		if (len)
			hist_add(hl, &nl, len, NULL);
		if (f->spec[0])
			hist_add(hs, &ns, 0, f->spec);
		if (np1)
			hist_add(hp, &np, np1, NULL);
	}
	for (i = 0; i < ns; i++) {
		hs[i].str = sx_mine__strdup(cx->ra, hs[i].str);
		if (!hs[i].str)
			return -ENOMEM;
	}
	p->hist_len = hl;
	p->nhist_len = nl;
	p->hist_spec = hs;
	p->nhist_spec = ns;
	p->hist_pkts = hp;
	p->nhist_pkts = np;
	return 0;
}
