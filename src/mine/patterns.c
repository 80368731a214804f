/*
 * patterns.c - from clusters of flows to patterns: support, identity,
 * statistics, background and periodic lists, order, ids.  The steps that
 * build one pattern's parts live next to it: its ends (pattern_ends.c), its
 * application fields (pattern_attrs.c), its statistics and histograms
 * (pattern_stats.c); their shared state is in patterns_int.h.
 *
 * DESIGN
 *
 * Support.  A cluster's support is the number of occurrences holding at
 * least one of its flows; the clusters of one service were merged before
 * (merge.c), so this counts the occurrences of the service.  It is a
 * pattern when the support reaches ceil(support x N) (at least 1); a flow
 * that recurs in fewer occurrences is not a pattern.
 *
 * Orientation and ends.  Each flow is seen from its client and its server
 * (mine.h).  An end is named by its resolved name when all the flows of the
 * pattern agree on it; when at least half of them have names and the names
 * differ, by the longest common label suffix of the names, written
 * "*.suffix", provided the suffix holds every name's registrable domain
 * (so never "*.com"); otherwise by its addresses.  All distinct addresses
 * and names are kept.
 *
 * Fixed port.  The server's port when at least 90 % of the flows use the
 * same one (the service side: the flow stage already put the well-known,
 * handshake-listening or constant side there); else the client's port under
 * the same rule (a service the flow stage could not recognise, e.g. replies
 * sent from a device's port to changing client ports); else none: when both
 * sides vary, the pattern constrains no port.  Ephemeral ports are never
 * fixed because they do not stay constant.  When the pattern holds flows of
 * other hosts than the focal one (below), the share is counted over the
 * focal host's flows alone (fix_port()).
 *
 * Application fields.  An attribute (key=value) held by at least half of
 * the flows is the pattern's.  The keys that name the application (DNS,
 * mDNS and LLMNR questions, TLS SNI, HTTP and CoAP requests) keep every
 * other value too, with its count: a pattern's identity is never dropped
 * because its flows disagree (99 flows asking for ntp1..4.aliyun.com and
 * one also for time3.google.com are both names of the pattern, and its
 * policy then admits those names, not any query).  Values that share a
 * group are merged into its generalisation: DNS questions and TLS SNI
 * under one question type and registrable domain by the common label
 * suffix of their names ("A:*.pool.ntp.org"), HTTP and CoAP requests under
 * one method and host by the common path prefix up to a '/' followed by
 * '*' ("GET:host/api/" + "*"); a value alone in its group stays as it is
 * (a minor value).
 *
 * End pairs.  The distinct (client address, server address) pairs of the
 * member flows are kept: the ends' address lists alone would pair every
 * client with every server, and a profile writer needs the pairs that
 * occurred (an ICMP error from a server to the device and another from the
 * phone to a third host are not four pairs).
 *
 * Statistics.  Over the member flows: packets and bytes sent by each end,
 * duration (last - first packet), min / lower median / max.  Start offset:
 * per occurrence the pattern's first flow, from the occurrence start;
 * median, min, max and spread = the interquartile range p75 - p25 (linear
 * interpolation), a width that ignores the odd late occurrence.
 *
 * Periodic patterns.  Periodic chatter recurs in every occurrence without
 * being caused by the event: a device answering a phone app's discovery
 * broadcast every 12 s (the TP-Link captures of the reference tool), a
 * heartbeat.  Such a pattern is moved to the periodic list when
 *   - it repeats: at least half of the occurrences holding it hold two or
 *     more of its flows;
 *   - at a steady period: the gaps between consecutive flows of one
 *     occurrence have a median P >= 1 s and a median absolute deviation
 *     <= P / 4;
 *   - and it is not locked to the event: the spread (IQR) of its start
 *     offsets is at least P / 5 (a timer runs at a random phase relative to
 *     the event, which gives an IQR near P / 2; an event-driven repetition
 *     starts at about the same offset every time).
 * Measured on the reference TP-Link captures: P = 11.96 s, deviation
 * 0.01 s, IQR 3.54 s (> 2.39 s).  An event flow that repeats (a retried
 * DNS query, the polls a D-Link sensor starts every 18 s after its setup:
 * IQR 2.0 s) stays in the signature because its offset is locked.
 *
 * Below support.  The clusters in at least two occurrences but fewer than
 * the support asks are built as patterns too, for the record only: the
 * below list says what a lower support would add and what recurs too
 * rarely to be trusted (a flow of one occurrence is not listed).  They
 * take no part in the background match, the periodic rule or the order of
 * the signature.
 *
 * Background.  With background units (idle captures), a pattern matched
 * (same threshold, against its centroid) in at least ceil(bg_support x B)
 * of them is moved to the background list; background takes precedence
 * over periodic.
 *
 * Order and numbers.  Each list is ordered by the median start offset,
 * then the identity key: the typical order of the patterns within an
 * occurrence.  For consecutive patterns the result says in how many
 * occurrences holding both the first one indeed started first.
 *
 * The focal host.  Captures are taken of one device, so in each occurrence
 * the address seen in the most flows (ties: a private or link-local address,
 * then the lower address) is taken for the device; an end that is that
 * host in at least half of the pattern's flows is marked focal.  It only
 * serves the ids: a profile writer knows the device's address.
 *
 * Ids.  The identity key is the text of what makes the pattern: IP
 * protocol; fixed port and its end; each end as "self" when focal, else its
 * name or "*.suffix", else the address that at least half of its flows use,
 * else the scope of its varying addresses; and, per identifying application
 * key (DNS, mDNS and LLMNR question, HTTP request, CoAP, SSDP, DHCP type,
 * TP-Link command, MQTT, NTP, IGMP, ICMP, TLS SNI), one of the pattern's
 * values: the first (in text order) that the initiator sends (a CoAP
 * method, an ICMP echo request, an NTP client packet, a DHCP discover or
 * request, an SSDP search or notification), else the first.  So the id
 * does not change with the device's address, with one more address behind
 * a server, with a second value, or with answers missing from some flows.  The id is "p-" and the
 * first 12 hex digits of XXH3-64 of the key, unseeded: the same pattern
 * mined from other captures gets the same id.  Patterns of one result with
 * equal keys (two exchanges with one service) get their typical size
 * appended to the key ("|bytes~2^13"), then a counter if still equal.
 *
 * Determinism: every loop runs in the canonical order and every sort has a
 * total order (ties broken by the key, then the cluster number).
 */
#include "mine/patterns_int.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/util.h"
#include "flows/flows.h"
#include "ingest/ingest.h"

#define FIXED_SHARE 0.9 /* flows on one port for it to be fixed */

/* ---- small helpers ---- */

/* dst = a b c, if it fits (else false, dst unspecified). */
bool sx_mine__cat3(char *dst, size_t dsz, const char *a, size_t alen, const char *b, const char *c)
{
	size_t bl = strlen(b), cl = strlen(c);

	if (alen + bl + cl + 1 > dsz)
		return false;
	memcpy(dst, a, alen);
	memcpy(dst + alen, b, bl);
	memcpy(dst + alen + bl, c, cl + 1);
	return true;
}

static int i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

void *sx_mine__sort_scratch(void *stack, size_t stack_bytes, size_t n, size_t size)
{
	if (n <= stack_bytes / size)
		return stack;
	return sx_calloc_array(n, size);
}

static inline bool i64_before(const int64_t *x, const int64_t *y)
{
	return *x < *y;
}

SX_MINE_SORT_DEFINE(i64_sort, int64_t, i64_before, i64_cmp)

/* Values already in order (a pattern's start offsets often are) are left
 * as they are. */
void sx_mine__sort_i64(int64_t *v, size_t n)
{
	size_t i;

	for (i = 1; i < n && v[i - 1] <= v[i]; i++)
		;
	if (i < n)
		i64_sort(v, n);
}

int64_t sx_mine__median(const int64_t *sorted, size_t n)
{
	return n ? sorted[(n - 1) / 2] : 0;
}

int64_t sx_mine__quantile(const int64_t *sorted, size_t n, double q)
{
	double pos, frac;
	size_t i;

	if (!n)
		return 0;
	pos = q * (double)(n - 1);
	i = (size_t)floor(pos);
	if (i + 1 >= n)
		return sorted[n - 1];
	frac = pos - (double)i;
	return sorted[i] + (int64_t)llround(frac * (double)(sorted[i + 1] - sorted[i]));
}

static uint32_t ceil_frac(double f, uint32_t n)
{
	double v = ceil(f * (double)n - 1e-9);
	uint32_t k = v < 1 ? 1 : (uint32_t)v;

	return k > n && n ? n : (k ? k : 1);
}

#define BELOW_MIN 2 /* occurrences for the below-support list */

/* ---- identity key and id ---- */

static bool id_key(const char *k)
{
	return sx_mine__is_id_key(k, strlen(k));
}

/*
 * Whether an attribute value is what the initiator sends (a request) rather
 * than the answer: a flow's attributes mix both directions, and the answer
 * may be missing from some flows, so the key prefers the request.
 */
static bool is_request(const char *k, const char *v)
{
	static const char *const dhcp_req[] = {"discover", "request", "decline", "release",
					       "inform"};
	unsigned t, m;
	size_t i;

	if (!strcmp(k, "coap")) {
		const char *c = strchr(v, ':');

		return c && sx_mine__coap_is_request(c + 1);
	}
	if (!strcmp(k, "icmp"))
		return sscanf(v, "%u:", &t) == 1 && (t == 8 || t == 13 || t == 15 || t == 17);
	if (!strcmp(k, "icmpv6"))
		return sscanf(v, "%u:", &t) == 1 && (t == 128 || t == 130 || t == 133 || t == 135);
	if (!strcmp(k, "ntp"))
		return sscanf(v, "v%u:%u", &t, &m) == 2 && (m == 1 || m == 3);
	if (!strcmp(k, "ssdp"))
		return strncmp(v, "RESPONSE", 8) != 0;
	if (!strcmp(k, "dhcp")) {
		for (i = 0; i < SX_ARRAY_SIZE(dhcp_req); i++)
			if (!strcmp(v, dhcp_req[i]))
				return true;
		return false;
	}
	return true;
}

/* Whether attribute x names the pattern in its key before y (same key). */
static bool key_value_better(const struct sx_mine_attr *x, const struct sx_mine_attr *y)
{
	bool rx = is_request(x->key, x->value), ry = is_request(y->key, y->value);

	if (x->minor != y->minor)
		return !x->minor;
	if (rx != ry)
		return rx;
	return x->minor && x->count > y->count;
}

static void host_key(const struct sx_mine_end *e, char *out, size_t outsz)
{
	char a[64];

	if (e->focal) {
		snprintf(out, outsz, "self");
		return;
	}
	switch (e->kind) {
	case SX_MINE_HOST_NAME:
		snprintf(out, outsz, "n:%s", e->name);
		break;
	case SX_MINE_HOST_DOMAIN:
		snprintf(out, outsz, "d:%s", e->name);
		break;
	default:
		if (e->modal_share2 >= 1)
			snprintf(out, outsz, "a:%s", sx_addr_str(&e->modal, a, sizeof(a)));
		else
			snprintf(out, outsz, "s:%s", sx_mine_scope_name(e->scope));
	}
}

static void build_key(struct sx_mine_pattern *p)
{
	char ck[SX_NAME_MAX + 8], sk[SX_NAME_MAX + 8], fixed[32];
	size_t len;
	uint32_t i, j;

	host_key(&p->end[SX_MINE_CLIENT], ck, sizeof(ck));
	host_key(&p->end[SX_MINE_SERVER], sk, sizeof(sk));
	if (p->fixed_role != SX_MINE_NO_ROLE)
		snprintf(fixed, sizeof(fixed), "%s:%u",
			 sx_mine_role_name((enum sx_mine_role)p->fixed_role), p->fixed_port);
	else
		snprintf(fixed, sizeof(fixed), "none");
	len =
	    (size_t)snprintf(p->key, sizeof(p->key),
			     "v1|%u|fixed=%s|client=%s|server=%s|app=", p->ip_proto, fixed, ck, sk);
	/* attrs are sorted by key, then value: per key, the first request
	 * value, else the first value; a value of most flows or a
	 * generalisation before a minor one, the most frequent minor one
	 * when all are */
	for (i = 0; i < p->nattrs && len < sizeof(p->key); i = j) {
		uint32_t best = i;

		for (j = i + 1; j < p->nattrs && !strcmp(p->attrs[j].key, p->attrs[i].key); j++)
			if (key_value_better(&p->attrs[j], &p->attrs[best]))
				best = j;
		if (!id_key(p->attrs[i].key))
			continue;
		len += (size_t)snprintf(p->key + len, sizeof(p->key) - len, "%s=%s;",
					p->attrs[best].key, p->attrs[best].value);
	}
}

static void set_id(struct sx_mine_pattern *p)
{
	uint64_t h = XXH3_64bits(p->key, strlen(p->key));

	snprintf(p->id, sizeof(p->id), "p-%012" PRIx64, h >> 16);
}

/* ---- one pattern ---- */

/* Whether p is a peer-to-peer stream (struct sx_mine_pattern): UDP, no
 * fixed port, both ends unicast with every port dynamic. */
static bool peer_to_peer(const struct sx_mine_pattern *p)
{
	uint32_t r, i;

	if (p->ip_proto != 17 || p->fixed_port)
		return false;
	for (r = 0; r < 2; r++) {
		if (!p->end[r].nports || (p->end[r].scope != SX_MINE_SCOPE_PUBLIC &&
					  p->end[r].scope != SX_MINE_SCOPE_PRIVATE))
			return false;
		for (i = 0; i < p->end[r].nports; i++)
			if (sx_flow_port_is_known(p->ip_proto, p->end[r].ports[i].port))
				return false;
	}
	return true;
}

/* Whether flow f has the focal host of its occurrence at an end. */
static bool focal_flow(const struct ctx *cx, const struct sx_mine_flow *f)
{
	const struct sx_addr *h = &cx->focal[f->unit];

	return !sx_addr_cmp(&f->ep[0].addr, h) || !sx_addr_cmp(&f->ep[1].addr, h);
}

/*
 * The fixed port (see DESIGN), its share counted over the flows of the
 * focal host when the pattern also holds other hosts': the device's policy
 * is written from its own pairs, and another host's flows that fell in its
 * cluster (a phone's own sessions, seen on the same access point, between
 * ports both drawn anew) must not take its constant port away.  e->ports is
 * sorted by count, so only the ports that hold the share of the focal flows
 * overall are counted again.
 */
static void fix_port(const struct ctx *cx, const struct clu *c, struct sx_mine_pattern *p)
{
	static const unsigned pref[2] = {SX_MINE_SERVER, SX_MINE_CLIENT};
	const struct sx_mine_input *in = cx->in;
	uint32_t i, k, r, nfocal = 0, need;

	for (i = 0; i < c->n; i++)
		nfocal += focal_flow(cx, in->flows[c->mem[i]]);
	if (!nfocal)
		nfocal = c->n;
	need = ceil_frac(FIXED_SHARE, nfocal);
	for (r = 0; r < 2; r++) {
		const struct sx_mine_end *e = &p->end[pref[r]];

		for (k = 0; k < e->nports && e->ports[k].count >= need; k++) {
			uint32_t n = e->ports[k].count;

			if (nfocal < c->n)
				for (i = 0, n = 0; i < c->n; i++) {
					const struct sx_mine_flow *f = in->flows[c->mem[i]];

					n += focal_flow(cx, f) &&
					     f->ep[pref[r]].port == e->ports[k].port;
				}
			if (n >= need) {
				p->fixed_role = (uint8_t)pref[r];
				p->fixed_port = e->ports[k].port;
				return;
			}
		}
	}
}

static int build_pattern(struct ctx *cx, struct clu *c)
{
	const struct sx_mine_input *in = cx->in;
	const struct sx_mine_flow *f0 = in->flows[c->mem[0]];
	struct sx_mine_pattern *p = c->p;
	uint32_t i, r, nsrv_init = 0, tp[SX_P__COUNT] = {0};
	uint64_t *bits;
	int ret;

	p->kind = c->kind;
	p->ip_proto = f0->ip_proto;
	p->family = f0->family;
	for (i = 0; i < c->n; i++) {
		const struct sx_mine_flow *f = in->flows[c->mem[i]];

		if (f->family != p->family)
			p->family = 0;
		nsrv_init += f->initiator == SX_MINE_SERVER;
		p->nsession += f->session;
		if (f->top_proto < SX_P__COUNT)
			tp[f->top_proto]++;
	}
	p->initiator = nsrv_init * 2 > c->n ? SX_MINE_SERVER : SX_MINE_CLIENT;
	p->app.proto = 0;
	for (i = 1; i < SX_P__COUNT; i++)
		if (tp[i] > tp[p->app.proto])
			p->app.proto = (uint8_t)i;
	for (r = 0; r < 2; r++) {
		ret = sx_mine__build_end(cx, c, r, &p->end[r], f0->has_ports);
		if (ret)
			return ret;
	}
	p->fixed_role = SX_MINE_NO_ROLE;
	if (f0->has_ports)
		fix_port(cx, c, p);
	p->peer_to_peer = peer_to_peer(p);
	ret = sx_mine__build_attrs(cx, c, p);
	if (ret)
		return ret;
	ret = sx_mine__parse_app(cx, p);
	if (!ret)
		ret = sx_mine__build_pairs(cx, c, p);
	if (ret)
		return ret;
	sx_mine__build_stats(cx, c, p);
	ret = sx_mine__build_hists(cx, c, p);
	if (ret)
		return ret;
	p->support = c->support;
	p->noccs = in->noccs;
	p->nflows = c->n;
	p->bg_support = c->bgsup;
	p->nbg = in->nbg;
	bits = sx_mine__alloc_array(cx->ra, cx->words ? cx->words : 1, sizeof(*bits));
	if (!bits)
		return -ENOMEM;
	for (i = 0; i < c->n; i++) {
		uint32_t u = in->flows[c->mem[i]]->unit;

		bits[u / 64] |= 1ull << (u % 64);
	}
	p->occ_bits = bits;
	p->occ_first_ns = c->first;
	build_key(p);
	return 0;
}

/* ---- the focal host of each occurrence ---- */

/* A unicast address of the local network: where a device sits. */
static bool is_lan(const struct sx_addr *a)
{
	enum sx_mine_scope s = sx_mine__addr_scope(a);

	return s == SX_MINE_SCOPE_PRIVATE || s == SX_MINE_SCOPE_LINKLOCAL;
}

/*
 * The address in the most flows of each occurrence (ties: a LAN address,
 * then the lower).  Each end's addresses are counted by runs in flow
 * order (a device's flows repeat their ends), the runs of both merged.
 */
static int find_focal(struct ctx *cx)
{
	const struct sx_mine_input *in = cx->in;
	struct sx_mine_addr_n *a;
	uint32_t i = 0, j, n, k, best, last[2];
	bool best_lan;

	cx->focal = sx_calloc_array(in->noccs + 1, sizeof(*cx->focal));
	a = sx_calloc_array(2 * (size_t)in->nflows + 1, sizeof(*a));
	if (!cx->focal || !a) {
		free(a);
		return -ENOMEM;
	}
	while (i < in->nflows) {
		uint32_t u = in->flows[i]->unit;

		last[0] = last[1] = UINT32_MAX;
		for (n = 0, j = i; j < in->nflows && in->flows[j]->unit == u; j++) {
			sx_mine__addr_run(a, &n, &last[0], &in->flows[j]->ep[0].addr);
			sx_mine__addr_run(a, &n, &last[1], &in->flows[j]->ep[1].addr);
		}
		n = sx_mine__merge_addr_runs(a, n);
		for (k = 0, best = 0, best_lan = false; k < n; k++) {
			bool lan = is_lan(&a[k].a);

			if (a[k].n > best || (a[k].n == best && lan && !best_lan)) {
				best = a[k].n;
				best_lan = lan;
				cx->focal[u] = a[k].a;
			}
		}
		i = j;
	}
	free(a);
	return 0;
}

/* ---- background ---- */

static int match_background(struct ctx *cx)
{
	const struct sx_mine_input *in = cx->in;
	const struct sx_mine_vec **vecs = NULL;
	struct sx_mine_centroids *cents = NULL;
	uint32_t *group = NULL, i, bgw = (in->nbg + 63) / 64;
	uint64_t *seen = NULL;
	bool *allowed = NULL;
	int ret = -ENOMEM;

	if (!in->nbg || !in->nbgflows)
		return 0;
	vecs = sx_calloc_array(in->nflows + 1, sizeof(*vecs));
	group = sx_calloc_array(in->nflows + 1, sizeof(*group));
	allowed = sx_calloc_array(cx->k + 1, sizeof(*allowed));
	seen = sx_calloc_array((size_t)cx->k * bgw + 1, sizeof(*seen));
	if (!vecs || !group || !allowed || !seen)
		goto out_free;
	for (i = 0; i < in->nflows; i++) {
		vecs[i] = &in->flows[i]->vec;
		group[i] = in->flows[i]->ip_proto;
	}
	for (i = 0; i < cx->k; i++)
		allowed[i] = cx->clu[i].candidate && !cx->clu[i].below;
	ret = sx_mine__centroids_new(vecs, group, in->assign, in->nflows, cx->k, &cents);
	if (ret)
		goto out_free;
	for (i = 0; i < in->nbgflows; i++) {
		const struct sx_mine_flow *f = in->bgflows[i];
		long b;
		uint64_t *w;

		ret = sx_mine__stop_at(i);
		if (ret)
			goto out_free;
		b = sx_mine__centroids_best(cents, &f->vec, f->ip_proto, allowed, in->threshold,
					    NULL);
		if (b == -ENOMEM) {
			ret = -ENOMEM;
			goto out_free;
		}
		if (b < 0)
			continue;
		w = &seen[(size_t)b * bgw + f->unit / 64];
		if (!(*w & (1ull << (f->unit % 64)))) {
			*w |= 1ull << (f->unit % 64);
			cx->clu[b].bgsup++;
		}
	}
	ret = 0;
out_free:
	sx_mine__centroids_free(cents);
	free(vecs);
	free(group);
	free(allowed);
	free(seen);
	return ret;
}

/* ---- lists ---- */

static int clu_order_cmp(const void *a, const void *b, void *arg)
{
	const struct clu *base = arg;
	const struct clu *x = &base[*(const uint32_t *)a];
	const struct clu *y = &base[*(const uint32_t *)b];
	int c;

	if (x->order_key != y->order_key)
		return x->order_key < y->order_key ? -1 : 1;
	c = strcmp(x->p->key, y->p->key);
	if (c)
		return c;
	return x->cluster < y->cluster ? -1 : x->cluster > y->cluster;
}

/* Copy the patterns of one kind into a result array in typical order. */
static int fill_list(struct ctx *cx, uint8_t kind, struct sx_mine_pattern **out, uint32_t *nout,
		     uint32_t *idx, struct clu **owner)
{
	const struct sx_mine_input *in = cx->in;
	struct sx_mine_pattern *arr;
	uint32_t i, n = 0, j;

	for (i = 0; i < cx->k; i++)
		if (cx->clu[i].candidate && cx->clu[i].kind == kind)
			idx[n++] = i;
	qsort_r(idx, n, sizeof(*idx), clu_order_cmp, cx->clu);
	arr = sx_mine__alloc_array(cx->ra, n ? n : 1, sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		arr[i] = *cx->clu[idx[i]].p;
		arr[i].number = i + 1;
		owner[i] = &cx->clu[idx[i]];
	}
	/* agreement with the next pattern's start */
	for (i = 0; i + 1 < n; i++) {
		const struct clu *a = owner[i], *b = owner[i + 1];

		for (j = 0; j < in->noccs; j++) {
			if (a->first[j] == INT64_MIN || b->first[j] == INT64_MIN)
				continue;
			arr[i].next_both++;
			arr[i].next_agree += a->first[j] <= b->first[j];
		}
	}
	*out = arr;
	*nout = n;
	return 0;
}

static int pat_key_cmp(const void *a, const void *b)
{
	const struct sx_mine_pattern *x = *(struct sx_mine_pattern *const *)a;
	const struct sx_mine_pattern *y = *(struct sx_mine_pattern *const *)b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->number < y->number ? -1 : x->number > y->number;
}

/* Make the keys of all[0..n) distinct: equal keys get their typical size
 * appended, then a counter if still equal. */
static void disambiguate(struct sx_mine_pattern **all, uint32_t n)
{
	uint32_t i, j, l, pass;

	for (pass = 0; pass < 2; pass++) {
		qsort(all, n, sizeof(*all), pat_key_cmp);
		for (i = 0; i < n; i = j) {
			for (j = i + 1; j < n && !strcmp(all[i]->key, all[j]->key); j++)
				;
			if (j - i < 2)
				continue;
			for (l = i; l < j; l++) {
				struct sx_mine_pattern *p = all[l];
				size_t len = strlen(p->key);
				uint64_t b = p->bytes[0].median + p->bytes[1].median;
				int lb = b ? (int)llround(log2((double)b)) : 0;

				if (pass == 0)
					snprintf(p->key + len, sizeof(p->key) - len, "|bytes~2^%d",
						 lb);
				else
					snprintf(p->key + len, sizeof(p->key) - len, "|#%u",
						 l - i + 1);
			}
		}
	}
}

static int key_bsearch_cmp(const void *k, const void *e)
{
	return strcmp(k, (*(struct sx_mine_pattern *const *)e)->key);
}

/*
 * Distinct keys across the patterns, background and periodic lists, then
 * the ids.  The below-support list is made distinct after them and on its
 * own: a below-support pattern whose key is a pattern's gets "|below", so
 * what recurs too rarely never changes the id of a pattern.
 */
static int assign_ids(struct sx_mine_result *r)
{
	struct sx_mine_pattern **all;
	struct sx_mine_pattern *lists[4] = {
	    (struct sx_mine_pattern *)r->patterns, (struct sx_mine_pattern *)r->background,
	    (struct sx_mine_pattern *)r->periodic, (struct sx_mine_pattern *)r->below};
	uint32_t counts[4] = {r->npatterns, r->nbackground, r->nperiodic, r->nbelow};
	uint32_t n = 0, i, l;

	all = sx_calloc_array((size_t)r->npatterns + r->nbackground + r->nperiodic + r->nbelow + 1,
			      sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (l = 0; l < 3; l++)
		for (i = 0; i < counts[l]; i++)
			all[n++] = &lists[l][i];
	disambiguate(all, n);
	qsort(all, n, sizeof(*all), pat_key_cmp); /* for the look-ups below */
	for (i = 0; i < r->nbelow; i++)
		all[n + i] = &lists[3][i];
	disambiguate(all + n, r->nbelow);
	for (i = 0; i < r->nbelow; i++) {
		struct sx_mine_pattern *p = all[n + i];
		size_t len = strlen(p->key);

		if (bsearch(p->key, all, n, sizeof(*all), key_bsearch_cmp))
			snprintf(p->key + len, sizeof(p->key) - len, "|below");
	}
	for (i = 0; i < n + r->nbelow; i++)
		set_id(all[i]);
	free(all);
	return 0;
}

/* ---- entry ---- */

struct result_box {
	struct sx_mine_result r; /* first: the box is freed through it */
	struct sx_mine_arena a;
};

void sx_mine_result_free(struct sx_mine_result *r)
{
	struct result_box *b = (struct result_box *)r;

	if (!b)
		return;
	sx_mine__arena_fini(&b->a);
	free(b);
}

static int copy_units(struct sx_mine_arena *a, struct sx_mine_unit *const *u, uint32_t n,
		      const struct sx_mine_occ **out)
{
	struct sx_mine_occ *o = sx_mine__alloc_array(a, n ? n : 1, sizeof(*o));
	uint32_t i;

	if (!o)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		o[i].file = sx_mine__strdup(a, u[i]->file);
		o[i].label = sx_mine__strdup(a, u[i]->label);
		if (!o[i].file || !o[i].label)
			return -ENOMEM;
		o[i].event = u[i]->event;
		o[i].start_ns = u[i]->start_ns;
		o[i].nflows = u[i]->nflows;
	}
	*out = o;
	return 0;
}

/* Each cluster's member flows, in canonical order (count: room for the
 * per-cluster counts), and its support.  0 or -ENOMEM. */
static int gather_members(struct ctx *cx, uint32_t *count)
{
	const struct sx_mine_input *in = cx->in;
	uint32_t i;

	for (i = 0; i < in->nflows; i++)
		count[in->assign[i]]++;
	for (i = 0; i < in->k; i++) {
		cx->clu[i].mem = sx_mine__alloc_array(cx->ra, count[i] + 1, sizeof(uint32_t));
		if (!cx->clu[i].mem)
			return -ENOMEM;
		cx->clu[i].cluster = i;
	}
	for (i = 0; i < in->nflows; i++) {
		struct clu *c = &cx->clu[in->assign[i]];

		if (c->n && in->flows[c->mem[c->n - 1]]->unit != in->flows[i]->unit)
			c->support++;
		else if (!c->n)
			c->support = 1;
		c->mem[c->n++] = i;
	}
	return 0;
}

/* The clusters whose support reaches need become candidates, with their
 * first offset per occurrence; so do those in at least BELOW_MIN
 * occurrences, for the below-support list.  0 or -ENOMEM. */
static int mark_candidates(struct ctx *cx, uint32_t need)
{
	const struct sx_mine_input *in = cx->in;
	uint32_t i;

	for (i = 0; i < in->k; i++) {
		struct clu *c = &cx->clu[i];
		uint32_t j;

		c->candidate = in->noccs && (c->support >= need || c->support >= BELOW_MIN);
		c->below = c->support < need;
		if (!c->candidate)
			continue;
		c->first = sx_mine__alloc_array(cx->ra, in->noccs, sizeof(*c->first));
		c->p = sx_mine__alloc(cx->ra, sizeof(*c->p));
		if (!c->first || !c->p)
			return -ENOMEM;
		for (j = 0; j < in->noccs; j++)
			c->first[j] = INT64_MIN;
		for (j = 0; j < c->n; j++) {
			const struct sx_mine_flow *f = in->flows[c->mem[j]];

			if (c->first[f->unit] == INT64_MIN || f->offset_ns < c->first[f->unit])
				c->first[f->unit] = f->offset_ns;
		}
	}
	return 0;
}

/* Each candidate's pattern and kind: background when matched in at least
 * min_bg background units, else periodic or a pattern.  0 or -ENOMEM. */
static int build_patterns(struct ctx *cx, uint32_t min_bg)
{
	const struct sx_mine_input *in = cx->in;
	uint32_t i;

	for (i = 0; i < in->k; i++) {
		struct clu *c = &cx->clu[i];

		if (!c->candidate)
			continue;
		if (c->below) {
			c->kind = SX_MINE_BELOW_SUPPORT;
			if (build_pattern(cx, c))
				return -ENOMEM;
			c->p->kind = c->kind;
			continue;
		}
		c->kind = SX_MINE_PATTERN;
		if (in->nbg && c->bgsup >= min_bg)
			c->kind = SX_MINE_BACKGROUND_PATTERN;
		if (build_pattern(cx, c))
			return -ENOMEM;
		if (c->kind == SX_MINE_PATTERN && sx_mine__is_periodic(cx, c, c->p))
			c->kind = SX_MINE_PERIODIC;
		c->p->kind = c->kind;
	}
	return 0;
}

int sx_mine__patterns(const struct sx_mine_input *in, struct sx_mine_result **out)
{
	struct result_box *box;
	struct sx_mine_result *r;
	struct ctx cx = {.in = in};
	uint32_t *count = NULL, *idx = NULL;
	struct clu **owner = NULL;
	struct sx_mine_pattern *lists[4];
	int ret = -ENOMEM;

	*out = NULL;
	box = calloc(1, sizeof(*box));
	if (!box)
		return -ENOMEM;
	sx_mine__arena_init(&box->a);
	r = &box->r;
	cx.ra = &box->a;
	cx.k = in->k;
	cx.words = (in->noccs + 63) / 64;

	r->support = in->support;
	r->bg_support = in->bg_support;
	r->threshold = in->threshold;
	r->dim_bits = in->dim_bits;
	r->noccs = in->noccs;
	r->nbg = in->nbg;
	r->nflows = in->nflows;
	r->nclusters = in->k;
	r->min_support = ceil_frac(in->support, in->noccs);
	r->min_bg_support = ceil_frac(in->bg_support, in->nbg);
	if (copy_units(&box->a, in->occs, in->noccs, &r->occs) ||
	    copy_units(&box->a, in->bg, in->nbg, &r->bg))
		goto out_free;

	cx.clu = sx_calloc_array(in->k + 1, sizeof(*cx.clu));
	count = sx_calloc_array(in->k + 1, sizeof(*count));
	cx.tmp = sx_calloc_array((size_t)in->nflows + in->noccs + 1, sizeof(*cx.tmp));
	idx = sx_calloc_array(in->k + 1, sizeof(*idx));
	owner = sx_calloc_array(in->k + 1, sizeof(*owner));
	if (!cx.clu || !count || !cx.tmp || !idx || !owner)
		goto out_free;
	if (gather_members(&cx, count) || mark_candidates(&cx, r->min_support))
		goto out_free;
	ret = find_focal(&cx);
	if (ret)
		goto out_free;
	ret = match_background(&cx);
	if (ret)
		goto out_free;
	ret = -ENOMEM;
	if (build_patterns(&cx, r->min_bg_support))
		goto out_free;
	if (fill_list(&cx, SX_MINE_PATTERN, &lists[0], &r->npatterns, idx, owner) ||
	    fill_list(&cx, SX_MINE_BACKGROUND_PATTERN, &lists[1], &r->nbackground, idx, owner) ||
	    fill_list(&cx, SX_MINE_PERIODIC, &lists[2], &r->nperiodic, idx, owner) ||
	    fill_list(&cx, SX_MINE_BELOW_SUPPORT, &lists[3], &r->nbelow, idx, owner))
		goto out_free;
	r->patterns = lists[0];
	r->background = lists[1];
	r->periodic = lists[2];
	r->below = lists[3];
	ret = assign_ids(r);
	if (ret)
		goto out_free;
	*out = r;
	box = NULL;
out_free:
	free(cx.focal);
	free(cx.clu);
	free(count);
	free(cx.tmp);
	free(idx);
	free(owner);
	if (box)
		sx_mine_result_free(&box->r);
	return ret;
}
