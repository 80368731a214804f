/*
 * mine.c - the default mining algorithm: occurrences in, signature out.
 *
 * DESIGN
 *
 * Input.  Flow rows (struct sx_flow_row), from the in-process reducer or
 * from flow CSVs; the miner keeps its own copy of what it needs and ignores
 * what differs between the two paths (the capture's index, the packet
 * number of a flow's first packet, the attribute-cut flag).  The flow
 * stage writes the service name of the service port into
 * ApplicationSpecific when a flow has none; the copy does the same for
 * in-process rows, so both paths see the same text.  Rows are grouped into
 * units (File, Event); event units are the occurrences, units given as
 * background are idle captures.
 *
 * Canonical order.  Units are sorted by start (window start, else the
 * first packet of their first flow), then file name, then event number;
 * flows by unit, first packet, Index, then their content.  Every later step
 * works in this order, so nothing depends on the order of the command line
 * or of arrival.
 *
 * Steps.
 *   1. Each flow gets a feature vector (features.c): tokens of what it
 *      talks to and about, its volumes, its packet-length n-grams and its
 *      start offset, hashed with seeded XXH3 into 2^32 signed dimensions.
 *   2. Flows of all occurrences are clustered by cosine similarity,
 *      threshold 0.6, with deterministic DP-means (cluster.c); flows of
 *      different IP protocols never meet.  Clusters of one service (peer,
 *      transport, service port, application identity) are then merged
 *      (merge.c): support counts the occurrences of a service, whatever
 *      the shape of its flows.
 *   3. A cluster present in at least ceil(support x N) occurrences is a
 *      pattern (patterns.c); its identity (ends, fixed port, application
 *      fields), statistics and id are computed from its member flows.
 *   4. Background units: every background flow is matched against the
 *      patterns' centroids with the same threshold; a pattern found in at
 *      least ceil(bg_support x B) of the B background units (default half)
 *      is moved to the background list.
 *   5. A pattern that repeats within occurrences at a steady period and
 *      whose first flow is not locked to the occurrence start (periodic
 *      replies, heartbeats) is moved to the periodic list (patterns.c).
 *   6. Patterns are numbered in their typical order within an occurrence.
 *
 * Default support, 0.9 (PingPong's 90 %), chosen on ../shared/corpora:
 *   - reference TP-Link toggles (3 captures): the three reference patterns
 *     at any support; 0.9 of 3 requires all three (ceil(2.7) = 3).  The
 *     plug's UDP 9999 replies to the phone app recur in all three captures
 *     with --window 0 (2, 3 and 3 flows), so no support can drop them: the
 *     periodic rule does (period 11.96 s, not locked to the event);
 *   - synthetic corpora (10 captures, one event flow missing from one
 *     capture by design, background with --background): 0.7, 0.8 and 0.9
 *     give exactly the event flows; 1.0 loses the flows present in 9 of 10;
 *     0.6 and below admit background chatter (NTP in 6 of 10 synth
 *     captures, SSDP in 5);
 *   - IoT Sentinel setups (23 devices, odd vs even captures, median
 *     Jaccard of the pattern ids, tests/test_e2e_mine_stability.c): 0.88
 *     at 0.5, 0.92 at 0.7, 0.86 at 0.8, 0.89 at 0.9, 0.90 at 1.0 (means
 *     0.84-0.87): stability does not decide.  0.9 is the highest support
 *     that keeps an event flow missing from one occurrence in ten, the
 *     usual loss of a cached DNS answer.
 *
 * Background threshold, half of the background units: a pattern that
 * occurs while the device is idle as often as not is chatter; one seen in a
 * single idle capture of many may be a coincidence (the device happened to
 * refresh a name) and stays in the signature.
 *
 * Threads.  One miner is driven by one thread; sx_mine_run() uses
 * cfg.nthreads threads for the matching passes, with the same result for
 * any number.  A stop request (SIGINT, SIGTERM) ends it with SX_E_STOPPED:
 * the loops over flows poll the flag every SX_MINE_STOP_MASK + 1 items,
 * the clustering once per pass, and nothing is written by the miner.
 */
#include "mine/mine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/map.h"
#include "core/util.h"
#include "flows/flows.h"
#include "mine/mine_int.h"

#define UNITS_INIT 64
#define FLOWS_INIT 1024

/* The strings of a row, by their place in intern_row(). */
enum row_str {
	ROW_FILE,
	ROW_DEV_HOST,
	ROW_OTHER_HOST,
	ROW_DEV_LOCAL,
	ROW_OTHER_LOCAL,
	ROW_SPEC,
	ROW_ATTRS,
	ROW_STRS
};

struct sx_mine {
	struct sx_mine_cfg cfg;
	struct sx_mine_arena arena;
	struct sx_mine_strtab strs;
	struct sx_mine_unit **units;
	uint32_t nunits, ucap;
	struct sx_map umap; /* of uint32_t unit numbers, under unit_hash() */
	uint32_t last_unit; /* cache: rows of a unit usually come together */
	struct sx_mine_flow **flows;
	uint32_t nflows, fcap;
	const char *last[ROW_STRS]; /* the interned strings of the last row */
	bool ran;
};

const char *sx_mine_role_name(enum sx_mine_role r)
{
	switch (r) {
	case SX_MINE_CLIENT:
		return "client";
	case SX_MINE_SERVER:
		return "server";
	default:
		return "none";
	}
}

const char *sx_mine_host_kind_name(enum sx_mine_host_kind k)
{
	switch (k) {
	case SX_MINE_HOST_NAME:
		return "name";
	case SX_MINE_HOST_DOMAIN:
		return "domain";
	default:
		return "addresses";
	}
}

const char *sx_mine_scope_name(enum sx_mine_scope s)
{
	static const char *const names[] = {"public",	 "private",  "link-local",  "multicast",
					    "broadcast", "loopback", "unspecified", "mixed"};

	return (unsigned)s < SX_ARRAY_SIZE(names) ? names[s] : "?";
}

const char *sx_mine_kind_name(enum sx_mine_kind k)
{
	switch (k) {
	case SX_MINE_PATTERN:
		return "pattern";
	case SX_MINE_BACKGROUND_PATTERN:
		return "background";
	case SX_MINE_BELOW_SUPPORT:
		return "below-support";
	default:
		return "periodic";
	}
}

const char *sx_mine_arp_op(const struct sx_mine_pattern *p)
{
	const char *op = NULL;
	uint32_t i, best = 0;

	if (p->family != SX_FLOW_FAMILY_ARP)
		return NULL;
	for (i = 0; i < p->nattrs; i++)
		if (!strcmp(p->attrs[i].key, "arp") && p->attrs[i].count > best) {
			op = p->attrs[i].value;
			best = p->attrs[i].count;
		}
	return op;
}

bool sx_mine_arp_gratuitous(const struct sx_mine_pattern *p)
{
	uint32_t i;

	if (!sx_mine_arp_op(p))
		return false;
	for (i = 0; i < p->npairs; i++)
		if (sx_addr_cmp(&p->pairs[i].addr[SX_MINE_CLIENT],
				&p->pairs[i].addr[SX_MINE_SERVER]))
			return false;
	return p->npairs > 0;
}

static bool end_is(const struct sx_mine_end *e, const struct sx_addr *dev4,
		   const struct sx_addr *dev6)
{
	uint32_t i;

	if (!e->naddrs)
		return false;
	for (i = 0; i < e->naddrs; i++)
		if ((!dev4->family || sx_addr_cmp(&e->addrs[i], dev4)) &&
		    (!dev6->family || sx_addr_cmp(&e->addrs[i], dev6)))
			return false;
	return true;
}

int sx_mine_device_ipv6(const struct sx_mine_result *r, const uint8_t mac[6], struct sx_addr *a)
{
	const struct sx_mine_pattern *lists[4] = {r->patterns, r->background, r->periodic,
						  r->below};
	uint32_t counts[4] = {r->npatterns, r->nbackground, r->nperiodic, r->nbelow};
	struct sx_addr ll = sx_addr_eui64_link_local(mac);
	size_t i, k, e;
	uint32_t j;

	if (!sx_mac_pack(mac))
		return -ENOENT;
	for (k = 0; k < 4; k++)
		for (i = 0; i < counts[k]; i++)
			for (e = 0; e < 2; e++) {
				const struct sx_mine_end *end = &lists[k][i].end[e];

				for (j = 0; j < end->naddrs; j++)
					if (!sx_addr_cmp(&end->addrs[j], &ll)) {
						*a = ll;
						return 0;
					}
			}
	return -ENOENT;
}

int sx_mine_device_mac(const struct sx_mine_result *r, const struct sx_addr *dev4,
		       const struct sx_addr *dev6, uint8_t mac[6])
{
	/* Few distinct MACs end up here (the device's, rarely an old
	 * interface's): a small tally, linear. */
	enum { TALLY = 8 };
	uint64_t m[TALLY], best = 0, best_n = 0;
	uint64_t n[TALLY];
	size_t nm = 0, i, k, e;
	const struct sx_mine_pattern *lists[3] = {r->patterns, r->background, r->periodic};
	uint32_t counts[3] = {r->npatterns, r->nbackground, r->nperiodic};

	for (k = 0; k < 3; k++)
		for (i = 0; i < counts[k]; i++)
			for (e = 0; e < 2; e++) {
				const struct sx_mine_end *end = &lists[k][i].end[e];
				uint64_t v = sx_mac_pack(end->mac);
				size_t j;

				if (!v || !end_is(end, dev4, dev6))
					continue;
				for (j = 0; j < nm && m[j] != v; j++)
					;
				if (j == nm) {
					if (nm == TALLY)
						continue;
					m[nm] = v;
					n[nm++] = 0;
				}
				n[j] += lists[k][i].nflows;
			}
	for (i = 0; i < nm; i++)
		if (n[i] > best_n || (n[i] == best_n && m[i] < best)) {
			best = m[i];
			best_n = n[i];
		}
	if (!best)
		return -ENOENT;
	sx_mac_unpack(best, mac);
	return 0;
}

int sx_mine_new(const struct sx_mine_cfg *cfg, struct sx_mine **out)
{
	struct sx_mine *m;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	if (cfg)
		m->cfg = *cfg;
	if (m->cfg.support == 0)
		m->cfg.support = SX_MINE_SUPPORT_DEFAULT;
	if (m->cfg.bg_support == 0)
		m->cfg.bg_support = SX_MINE_BG_SUPPORT_DEFAULT;
	if (m->cfg.threshold == 0)
		m->cfg.threshold = SX_MINE_THRESHOLD_DEFAULT;
	if (m->cfg.dim_bits == 0)
		m->cfg.dim_bits = SX_MINE_DIM_BITS_DEFAULT;
	if (m->cfg.nthreads == 0)
		m->cfg.nthreads = 1;
	if (!(m->cfg.support > 0 && m->cfg.support <= 1) ||
	    !(m->cfg.bg_support > 0 && m->cfg.bg_support <= 1) ||
	    !(m->cfg.threshold > 0 && m->cfg.threshold < 1) || m->cfg.dim_bits < 8 ||
	    m->cfg.dim_bits > 32) {
		free(m);
		return -EINVAL;
	}
	sx_mine__arena_init(&m->arena);
	if (sx_mine__strtab_init(&m->strs, &m->arena)) {
		free(m);
		return -ENOMEM;
	}
	sx_map_init(&m->umap, sizeof(uint32_t), 256, 50);
	m->last_unit = UINT32_MAX;
	*out = m;
	return 0;
}

void sx_mine_free(struct sx_mine *m)
{
	if (!m)
		return;
	free(m->units);
	sx_map_fini(&m->umap);
	free(m->flows);
	sx_mine__strtab_fini(&m->strs);
	sx_mine__arena_fini(&m->arena);
	free(m);
}

uint32_t sx_mine_noccs(const struct sx_mine *m)
{
	uint32_t i, n = 0;

	for (i = 0; i < m->nunits; i++)
		n += m->units[i]->set == SX_MINE_EVENT && !m->units[i]->discarded;
	return n;
}

uint32_t sx_mine_nbg(const struct sx_mine *m)
{
	uint32_t i, n = 0;

	for (i = 0; i < m->nunits; i++)
		n += m->units[i]->set == SX_MINE_BACKGROUND && !m->units[i]->discarded;
	return n;
}

/* ---- units ---- */

static uint64_t unit_hash(const char *file, uint32_t event)
{
	return XXH3_64bits_withSeed(file, strlen(file), event);
}

/* The unit of (file, event), created if new; NULL on OOM. */
static struct sx_mine_unit *unit_get(struct sx_mine *m, const char *file, uint32_t event,
				     bool *created)
{
	size_t pos = SX_MAP_START;
	uint64_t h;
	struct sx_mine_unit *u;
	uint32_t *j;

	*created = false;
	if (m->last_unit < m->nunits) {
		u = m->units[m->last_unit];
		if (u->file == file && u->event == event)
			return u;
	}
	if (sx_map_reserve(&m->umap, m->nunits + 1))
		return NULL;
	h = unit_hash(file, event);
	while ((j = sx_map_next(&m->umap, h, &pos))) {
		u = m->units[*j];
		if (u->file == file && u->event == event) {
			m->last_unit = *j;
			return u;
		}
	}
	if (m->nunits == m->ucap) {
		uint32_t cap = m->ucap ? m->ucap * 2 : UNITS_INIT;
		struct sx_mine_unit **nu = sx_realloc_array(m->units, cap, sizeof(*nu));

		if (!nu)
			return NULL;
		m->units = nu;
		m->ucap = cap;
	}
	u = sx_mine__alloc(&m->arena, sizeof(*u));
	if (!u)
		return NULL;
	u->file = file;
	u->event = event;
	m->units[m->nunits] = u;
	*(uint32_t *)sx_map_add(&m->umap, h, pos) = m->nunits;
	m->last_unit = m->nunits++;
	*created = true;
	return u;
}

/* ---- rows ---- */

/* The interned copy of s, a string of a row at place at: rows of one
 * capture come together and repeat the file, the device's host and most
 * local names, so the string of the last row is compared first (it is
 * the interned copy when equal).  NULL on OOM. */
static const char *intern_row(struct sx_mine *m, enum row_str at, const char *s)
{
	if (m->last[at] && strcmp(m->last[at], s) == 0)
		return m->last[at];
	m->last[at] = sx_mine__intern(&m->strs, s);
	return m->last[at];
}

static int copy_row(struct sx_mine *m, struct sx_mine_flow *f, const struct sx_flow_row *row)
{
	const struct sx_flow_rec *r = &row->rec;
	bool srv_init = row->service_side == SX_SIDE_DEVICE;
	struct sx_mine_ep *ini, *rsp;
	const char *spec = r->spec;
	uint8_t i;

	f->row_index = row->index;
	f->first_ns = r->first_ns;
	f->last_ns = r->last_ns;
	f->ip_proto = r->key.proto;
	f->family = r->key.family;
	f->top_proto = r->top_proto;
	f->has_ports = sx_flow_has_ports(&r->key);
	f->has_service = row->service_side != SX_SIDE_NONE;
	f->initiator = srv_init ? SX_MINE_SERVER : SX_MINE_CLIENT;
	/* A TCP connection whose handshake was not seen (open before the
	 * capture or its window) was opened by its client, whoever spoke first
	 * in what was seen. */
	if (r->key.proto == 6 && r->init == SX_INIT_FIRST && row->service_side != SX_SIDE_NONE)
		f->initiator = SX_MINE_CLIENT;
	f->session = r->session != 0;
	ini = &f->ep[srv_init ? SX_MINE_SERVER : SX_MINE_CLIENT];
	rsp = &f->ep[srv_init ? SX_MINE_CLIENT : SX_MINE_SERVER];
	sx_flow_rec_end(r, SX_SIDE_DEVICE, &ini->addr, &ini->port);
	sx_flow_rec_end(r, SX_SIDE_OTHER, &rsp->addr, &rsp->port);
	if (!f->has_ports)
		ini->port = rsp->port = 0;
	memcpy(ini->mac, r->mac[0], 6);
	memcpy(rsp->mac, r->mac[1], 6);
	ini->host = intern_row(m, ROW_DEV_HOST, row->dev_host ? row->dev_host : "");
	rsp->host = intern_row(m, ROW_OTHER_HOST, row->other_host ? row->other_host : "");
	ini->local = intern_row(m, ROW_DEV_LOCAL, row->dev_local ? row->dev_local : "");
	rsp->local = intern_row(m, ROW_OTHER_LOCAL, row->other_local ? row->other_local : "");
	if (!ini->host || !rsp->host || !ini->local || !rsp->local)
		return -ENOMEM;
	ini->named = sx_mine__is_name(ini->host, &ini->addr);
	rsp->named = sx_mine__is_name(rsp->host, &rsp->addr);
	f->pkts[SX_MINE_CLIENT] = r->pkts[srv_init ? 1 : 0];
	f->pkts[SX_MINE_SERVER] = r->pkts[srv_init ? 0 : 1];
	f->bytes[SX_MINE_CLIENT] = r->bytes[srv_init ? 1 : 0];
	f->bytes[SX_MINE_SERVER] = r->bytes[srv_init ? 0 : 1];
	f->nseq = r->nseq < SX_FLOW_SEQ_MAX ? r->nseq : SX_FLOW_SEQ_MAX;
	for (i = 0; i < f->nseq; i++)
		f->seq_len[i] = srv_init ? -r->seq_len[i] : r->seq_len[i];
	/* as the flow CSV writes it */
	if (!spec[0] && row->service_side != SX_SIDE_NONE) {
		const char *n = sx_flow_service_name(r->key.proto, row->service_port);

		if (n)
			spec = n;
	}
	f->spec = intern_row(m, ROW_SPEC, spec);
	f->attrs = intern_row(m, ROW_ATTRS, r->attrs);
	return f->spec && f->attrs ? 0 : -ENOMEM;
}

int sx_mine_add_row(struct sx_mine *m, enum sx_mine_set set, int src, const struct sx_flow_row *row)
{
	struct sx_mine_unit *u;
	struct sx_mine_flow *f;
	const char *file;
	bool created;
	int ret;

	if (m->ran)
		return -EINVAL;
	file = intern_row(m, ROW_FILE, row->file ? row->file : "");
	if (!file)
		return -ENOMEM;
	u = unit_get(m, file, row->rec.key.event, &created);
	if (!u)
		return -ENOMEM;
	if (created) {
		u->set = (uint8_t)set;
		u->src = src;
		u->event_ns = row->rec.key.event == SX_FLOW_NO_EVENT ? 0 : row->event_ns;
		u->label = sx_mine__intern(&m->strs, row->event_label ? row->event_label : "");
		if (!u->label)
			return -ENOMEM;
	} else if (u->set != set || u->src != src || u->discarded) {
		return -EEXIST;
	}
	if (m->nflows == m->fcap) {
		uint32_t cap = m->fcap ? m->fcap * 2 : FLOWS_INIT;
		struct sx_mine_flow **nf = sx_realloc_array(m->flows, cap, sizeof(*nf));

		if (!nf)
			return -ENOMEM;
		m->flows = nf;
		m->fcap = cap;
	}
	f = sx_mine__alloc(&m->arena, sizeof(*f));
	if (!f)
		return -ENOMEM;
	ret = copy_row(m, f, row);
	if (ret)
		return ret;
	f->unit = (uint32_t)(m->last_unit);
	m->flows[m->nflows++] = f;
	u->nflows++;
	return 0;
}

int sx_mine_add_unit(struct sx_mine *m, enum sx_mine_set set, int src, const char *file,
		     uint32_t event, int64_t event_ns, const char *label)
{
	struct sx_mine_unit *u;
	bool created;

	if (m->ran)
		return -EINVAL;
	file = sx_mine__intern(&m->strs, file ? file : "");
	if (!file)
		return -ENOMEM;
	u = unit_get(m, file, event, &created);
	if (!u)
		return -ENOMEM;
	if (!created)
		return u->set != set || u->src != src || u->discarded ? -EEXIST : 0;
	u->set = (uint8_t)set;
	u->src = src;
	u->event_ns = event == SX_FLOW_NO_EVENT ? 0 : event_ns;
	u->label = sx_mine__intern(&m->strs, label ? label : "");
	return u->label ? 0 : -ENOMEM;
}

void sx_mine_discard_src(struct sx_mine *m, int src)
{
	uint32_t i;

	for (i = 0; i < m->nunits; i++)
		if (m->units[i]->src == src)
			m->units[i]->discarded = true;
}

int sx_mine_row_fn(void *arg, const struct sx_flow_row *row)
{
	const struct sx_mine_sink *s = arg;

	return sx_mine_add_row(s->m, s->set, s->src, row);
}

/* ---- canonical order ---- */

static int unit_cmp(const void *a, const void *b)
{
	const struct sx_mine_unit *x = *(const struct sx_mine_unit *const *)a;
	const struct sx_mine_unit *y = *(const struct sx_mine_unit *const *)b;
	int c;

	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	c = strcmp(x->file, y->file);
	if (c)
		return c;
	return x->event < y->event ? -1 : x->event > y->event;
}

#define CMP(a, b)                                                                                  \
	do {                                                                                       \
		if ((a) != (b))                                                                    \
			return (a) < (b) ? -1 : 1;                                                 \
	} while (0)

/* Flows by (unit order, first packet, Index, content). */
static int flow_cmp(const void *a, const void *b)
{
	const struct sx_mine_flow *x = *(const struct sx_mine_flow *const *)a;
	const struct sx_mine_flow *y = *(const struct sx_mine_flow *const *)b;
	int c, e;

	CMP(x->unit, y->unit);
	CMP(x->first_ns, y->first_ns);
	CMP(x->row_index, y->row_index);
	CMP(x->ip_proto, y->ip_proto);
	for (e = 0; e < 2; e++) {
		c = sx_addr_cmp(&x->ep[e].addr, &y->ep[e].addr);
		if (c)
			return c;
		CMP(x->ep[e].port, y->ep[e].port);
		c = strcmp(x->ep[e].host, y->ep[e].host);
		if (c)
			return c;
	}
	CMP(x->last_ns, y->last_ns);
	CMP(x->pkts[0], y->pkts[0]);
	CMP(x->pkts[1], y->pkts[1]);
	CMP(x->bytes[0], y->bytes[0]);
	CMP(x->bytes[1], y->bytes[1]);
	c = strcmp(x->attrs, y->attrs);
	if (c)
		return c;
	return strcmp(x->spec, y->spec);
}

/* ---- run ---- */

/* The canonical sets: occurrences and background units, their flows. */
struct sets {
	struct sx_mine_unit **occs, **bg;
	struct sx_mine_flow **ev, **bgf;
	uint32_t nocc, nbg, nev, nbgf;
};

static void sets_fini(struct sets *s)
{
	free(s->occs);
	free(s->bg);
	free(s->ev);
	free(s->bgf);
}

/* Unit starts: the window start, else the first flow's first packet. */
static void unit_starts(struct sx_mine *m)
{
	uint32_t i;

	for (i = 0; i < m->nunits; i++) {
		struct sx_mine_unit *u = m->units[i];

		u->have_start = u->event != SX_FLOW_NO_EVENT;
		u->start_ns = u->have_start ? u->event_ns : 0;
	}
	for (i = 0; i < m->nflows; i++) {
		struct sx_mine_unit *u = m->units[m->flows[i]->unit];

		if (u->event == SX_FLOW_NO_EVENT &&
		    (!u->have_start || m->flows[i]->first_ns < u->start_ns)) {
			u->start_ns = m->flows[i]->first_ns;
			u->have_start = true;
		}
	}
}

/* Split the kept units and their flows into the two sets, each in
 * canonical order; flow->unit becomes the unit's position within its set
 * and flow->offset_ns its start within the unit.  0 or -ENOMEM. */
static int split_sets(struct sx_mine *m, struct sets *s)
{
	uint32_t i;

	s->occs = sx_calloc_array(m->nunits + 1, sizeof(*s->occs));
	s->bg = sx_calloc_array(m->nunits + 1, sizeof(*s->bg));
	s->ev = sx_calloc_array(m->nflows + 1, sizeof(*s->ev));
	s->bgf = sx_calloc_array(m->nflows + 1, sizeof(*s->bgf));
	if (!s->occs || !s->bg || !s->ev || !s->bgf)
		return -ENOMEM;
	for (i = 0; i < m->nunits; i++) {
		struct sx_mine_unit *u = m->units[i];

		if (u->discarded)
			continue;
		if (u->set == SX_MINE_EVENT)
			s->occs[s->nocc++] = u;
		else
			s->bg[s->nbg++] = u;
	}
	qsort(s->occs, s->nocc, sizeof(*s->occs), unit_cmp);
	qsort(s->bg, s->nbg, sizeof(*s->bg), unit_cmp);
	for (i = 0; i < s->nocc; i++)
		s->occs[i]->order = i;
	for (i = 0; i < s->nbg; i++)
		s->bg[i]->order = i;
	for (i = 0; i < m->nflows; i++) {
		struct sx_mine_flow *f = m->flows[i];
		const struct sx_mine_unit *u = m->units[f->unit];

		if (u->discarded)
			continue;
		f->offset_ns = f->first_ns - u->start_ns;
		f->unit = u->order;
		if (u->set == SX_MINE_EVENT)
			s->ev[s->nev++] = f;
		else
			s->bgf[s->nbgf++] = f;
	}
	qsort(s->ev, s->nev, sizeof(*s->ev), flow_cmp);
	qsort(s->bgf, s->nbgf, sizeof(*s->bgf), flow_cmp);
	return 0;
}

/* Step 1: the feature vector of each of n flows.  0, SX_E_STOPPED or -ENOMEM. */
static int vectorise(struct sx_mine *m, struct sx_mine_flow **flows, uint32_t n,
		     struct sx_mine_fscratch *scratch)
{
	uint32_t i;
	int ret = 0;

	for (i = 0; i < n && !ret; i++) {
		ret = sx_mine__stop_at(i);
		if (!ret)
			ret = sx_mine__flow_vector(flows[i], m->cfg.seed, m->cfg.dim_bits, scratch,
						   &m->arena);
	}
	return ret;
}

/* Step 2: cluster the occurrences' flows, then merge the clusters of one
 * service (merge.c); *assign (caller frees) gets each
 * flow's cluster.  The number of clusters, or a negative error. */
static long cluster_events(const struct sx_mine *m, const struct sets *s, uint32_t **assign)
{
	const struct sx_mine_vec **vecs = sx_calloc_array(s->nev + 1, sizeof(*vecs));
	uint32_t *group = sx_calloc_array(s->nev + 1, sizeof(*group)), i;
	long k = -ENOMEM;

	*assign = sx_calloc_array(s->nev + 1, sizeof(**assign));
	if (!vecs || !group || !*assign)
		goto out_free;
	for (i = 0; i < s->nev; i++) {
		vecs[i] = &s->ev[i]->vec;
		group[i] = s->ev[i]->ip_proto;
	}
	k = sx_mine__cluster(vecs, group, s->nev, m->cfg.threshold, m->cfg.nthreads, *assign);
	if (k >= 0)
		k = sx_mine__merge_services((const struct sx_mine_flow *const *)s->ev, s->nev,
					    *assign, (uint32_t)k);
	if (k >= 0 && sx_mine__stop_at(0))
		k = SX_E_STOPPED;
out_free:
	free(vecs);
	free(group);
	return k;
}

int sx_mine_run(struct sx_mine *m, struct sx_mine_result **out)
{
	struct sx_mine_fscratch *scratch = NULL;
	struct sets s = {0};
	struct sx_mine_input in;
	uint32_t *assign = NULL;
	long k;
	int ret;

	*out = NULL;
	if (m->ran)
		return -EINVAL;
	m->ran = true;

	unit_starts(m);
	ret = split_sets(m, &s);
	if (!ret)
		ret = sx_mine__fscratch_new(&scratch);
	if (!ret)
		ret = vectorise(m, s.ev, s.nev, scratch);
	if (!ret)
		ret = vectorise(m, s.bgf, s.nbgf, scratch);
	if (ret)
		goto out_free;
	k = cluster_events(m, &s, &assign);
	if (k < 0) {
		ret = (int)k;
		goto out_free;
	}
	in = (struct sx_mine_input){
	    .support = m->cfg.support,
	    .bg_support = m->cfg.bg_support,
	    .threshold = m->cfg.threshold,
	    .dim_bits = m->cfg.dim_bits,
	    .occs = s.occs,
	    .noccs = s.nocc,
	    .bg = s.bg,
	    .nbg = s.nbg,
	    .flows = s.ev,
	    .nflows = s.nev,
	    .assign = assign,
	    .k = (uint32_t)k,
	    .bgflows = s.bgf,
	    .nbgflows = s.nbgf,
	    .nthreads = m->cfg.nthreads,
	};
	ret = sx_mine__patterns(&in, out);
out_free:
	sx_mine__fscratch_free(scratch);
	free(assign);
	sets_fini(&s);
	return ret;
}
