/*
 * merge.c - one service, one cluster.
 *
 * DESIGN
 *
 * The clustering (cluster.c) follows the shape of a flow as well as its
 * service: sizes, packet lengths and timing separate two exchanges with one
 * server.  That is right for grouping, wrong for counting: a Hue bridge
 * reaches data.meethue.com:443 in every occurrence, as a new TLS session in
 * some and as a session already open before the capture in the others (no
 * ClientHello, other sizes).  The two shapes fall in two clusters, each
 * below the support, and the service that is in every occurrence would give
 * no pattern.  So, before support is counted, clusters of one service are
 * merged: a pattern's support is the number of occurrences in which its
 * service occurs, whatever the shape of its flows; the shapes remain in the
 * pattern's statistics.
 *
 * A flow's service is (IP protocol, service port or "none", server host,
 * application identity), where the server host is its resolved name, else
 * its address text, and the application identity is the sorted set of its
 * identifying attributes (sx_mine__is_id_key: DNS, mDNS and LLMNR
 * questions, HTTP and CoAP requests, SSDP, DHCP type, TP-Link commands,
 * MQTT, NTP, IGMP, ICMP, TLS SNI; never sizes, ports of the client or
 * secondary attributes; for an ARP flow, its operation).  First a
 * cluster's flows on another known service port than most of them, or on
 * a port several servers listen on, are a cluster of their own
 * (split_ports(): two services of one shape, TLS and HTTP sessions
 * continued from before the window; probes of a vendor's relays beside a
 * stream to the phone).  A cluster's service is
 * the one most of its flows have (ties: the smaller hash).
 * Then
 *   - clusters with equal services merge;
 *   - a cluster with no application identity (plain TCP or UDP, a TLS
 *     session whose ClientHello was not captured) joins the clusters of the
 *     same protocol, port and server when they all have one identity, and
 *     stays apart when they have several (it cannot be told which it
 *     continues);
 *   - clusters whose identities differ never merge: a different question,
 *     request or SNI is a different meaning, not a different shape;
 *   - clusters of unnamed public servers of one protocol, port and
 *     identity that take turns across the occurrences are one rotating
 *     pool (join_pools());
 *   - so are the clusters of peer-to-peer UDP (peer_to_peer(): dynamic
 *     ports on both ends, no identity, no name for either end, a server
 *     port fewer than three servers listen on) between
 *     ends of the same scopes: NAT traversal draws both ports anew at
 *     every session, and the peer's public address with the phone's
 *     network (a camera's stream to its app: the testbed's Xiaomi camera
 *     reaches the phone at 130.104.214.55:16559 in one run and at
 *     130.104.212.112:21602 in the next).
 * Services are compared by 64-bit XXH3 hashes of their text.
 *
 * The merged cluster takes the number of its first member cluster and the
 * clusters are renumbered in that order, so the result is as deterministic
 * as the clustering.  O(n log n + k log k); no allocation per flow beyond
 * three arrays of n and k entries.
 */
#include "mine/mine_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/util.h"
#include "flows/flows.h"

bool sx_mine__is_id_key(const char *k, size_t klen)
{
	static const char *const keys[] = {"dns.q", "mdns.q", "llmnr.q", "http.req",	 "coap",
					   "ssdp",  "dhcp",   "tplink",	 "tplink.reply", "mqtt",
					   "ntp",   "igmp",   "icmp",	 "icmpv6",	 "tls.sni"};
	size_t i;

	for (i = 0; i < SX_ARRAY_SIZE(keys); i++)
		if (strlen(keys[i]) == klen && !memcmp(k, keys[i], klen))
			return true;
	return false;
}

/* The identifying attributes of attrs ("k=v k=v ..."), as a sorted set.
 * Returns their number (at most max). */
static unsigned id_tokens(const char *attrs, const char **tok, size_t *len, unsigned max)
{
	const char *p = attrs;
	unsigned n = 0, i, j;

	while (*p && n < max) {
		size_t l = strcspn(p, " ");
		const char *eq = memchr(p, '=', l);

		if (eq && sx_mine__is_id_key(p, (size_t)(eq - p))) {
			tok[n] = p;
			len[n++] = l;
		}
		p += l;
		while (*p == ' ')
			p++;
	}
	for (i = 1; i < n; i++) /* insertion sort: a flow has few */
		for (j = i; j > 0; j--) {
			size_t m = len[j - 1] < len[j] ? len[j - 1] : len[j];
			int c = memcmp(tok[j - 1], tok[j], m);
			const char *t;
			size_t tl;

			if (c < 0 || (c == 0 && len[j - 1] <= len[j]))
				break;
			t = tok[j], tok[j] = tok[j - 1], tok[j - 1] = t;
			tl = len[j], len[j] = len[j - 1], len[j - 1] = tl;
		}
	return n;
}

static bool is_unicast(enum sx_mine_scope sc)
{
	return sc == SX_MINE_SCOPE_PUBLIC || sc == SX_MINE_SCOPE_PRIVATE;
}

struct svc {
	uint64_t where; /* protocol, port, server host */
	uint64_t app;	/* application identity; 0 when none */
	uint64_t pool;	/* protocol, port, identity of an unnamed public server; 0: none */
	uint32_t cluster;
};

#define ID_MAX 64 /* identifying attributes hashed per flow */

/* A flow's service port: its server end's, 0 when it has none. */
static uint16_t service_port(const struct sx_mine_flow *f)
{
	return f->has_ports && f->has_service ? f->ep[SX_MINE_SERVER].port : 0;
}

/*
 * Whether a flow is a peer-to-peer exchange: UDP between two dynamic ports
 * (neither well known nor an IoT service port), to a unicast peer no name
 * was learnt for.  NAT traversal (a camera streaming to its app, to the
 * phone on the LAN or to the phone's public address) draws both ports anew
 * at each session, and the public address with the phone's network.
 */
static bool peer_to_peer(const struct sx_mine_flow *f)
{
	const struct sx_mine_ep *c = &f->ep[SX_MINE_CLIENT], *s = &f->ep[SX_MINE_SERVER];

	if (f->ip_proto != 17 || !f->has_ports || c->named || s->named)
		return false;
	if (sx_flow_port_is_known(f->ip_proto, c->port) ||
	    sx_flow_port_is_known(f->ip_proto, s->port))
		return false;
	return is_unicast(sx_mine__addr_scope(&c->addr)) &&
	       is_unicast(sx_mine__addr_scope(&s->addr));
}

/*
 * The hashes of a flow's service, each the one-shot XXH3 of its fields
 * laid end to end (as a streaming hash of them would give, for less): a
 * fixed head (IP protocol, family, port) and the server host; the sorted
 * identifying attributes, each with its separator; the head and the
 * identity's hash.  recurring: f's server port is a recurring one
 * (split_ports()), so f is never in a peer-to-peer pool.
 */
static void flow_service(const struct sx_mine_flow *f, bool recurring, struct svc *s)
{
	const struct sx_mine_ep *srv = &f->ep[SX_MINE_SERVER];
	const char *tok[ID_MAX];
	size_t len[ID_MAX], hl, bl;
	uint16_t port = service_port(f);
	char buf[4 + SX_FLOW_ATTR_MAX + 1];
	unsigned n, i;

	buf[0] = (char)f->ip_proto;
	buf[1] = (char)f->family;
	memcpy(buf + 2, &port, sizeof(port));
	hl = strlen(srv->host);
	if (hl <= sizeof(buf) - 4) {
		memcpy(buf + 4, srv->host, hl);
		s->where = XXH3_64bits(buf, 4 + hl);
	} else {
		XXH3_state_t st;

		XXH3_64bits_reset(&st);
		XXH3_64bits_update(&st, buf, 4);
		XXH3_64bits_update(&st, srv->host, hl);
		s->where = XXH3_64bits_digest(&st);
	}
	s->pool = 0;
	if (f->family == SX_FLOW_FAMILY_ARP) { /* its operation is its identity */
		s->app = XXH3_64bits(f->spec, strlen(f->spec)) | 1;
		return;
	}
	n = id_tokens(f->attrs, tok, len, ID_MAX);
	s->app = 0;
	for (i = 0, bl = 0; i < n; i++)
		bl += len[i] + 1; /* each token with its separator */
	if (n && bl <= sizeof(buf)) {
		for (i = 0, bl = 0; i < n; i++) {
			memcpy(buf + bl, tok[i], len[i] + 1);
			bl += len[i] + 1;
		}
		s->app = XXH3_64bits(buf, bl) | 1; /* never 0 */
	} else if (n) {
		XXH3_state_t st;

		XXH3_64bits_reset(&st);
		for (i = 0; i < n; i++)
			XXH3_64bits_update(&st, tok[i], len[i] + 1);
		s->app = XXH3_64bits_digest(&st) | 1;
	}
	if (!s->app && !recurring && peer_to_peer(f)) {
		/* both ports and the peer's address drawn anew: the pool of
		 * the scopes of the two ends */
		enum sx_mine_scope a = sx_mine__addr_scope(&f->ep[SX_MINE_CLIENT].addr);
		enum sx_mine_scope b = sx_mine__addr_scope(&srv->addr);

		buf[0] = (char)f->ip_proto;
		buf[1] = (char)f->family;
		buf[2] = (char)(a < b ? a : b);
		buf[3] = (char)(a < b ? b : a);
		memcpy(buf + 4, "p2p", 3);
		s->pool = XXH3_64bits(buf, 7) | 1;
	} else if (port && !srv->named && sx_mine__addr_scope(&srv->addr) == SX_MINE_SCOPE_PUBLIC) {
		buf[0] = (char)f->ip_proto;
		buf[1] = (char)f->family;
		memcpy(buf + 2, &port, sizeof(port));
		memcpy(buf + 4, &s->app, sizeof(s->app));
		s->pool = XXH3_64bits(buf, 4 + sizeof(s->app)) | 1;
	}
}

static int svc_flow_cmp(const void *a, const void *b)
{
	const struct svc *x = a, *y = b;

	if (x->cluster != y->cluster)
		return x->cluster < y->cluster ? -1 : 1;
	if (x->where != y->where)
		return x->where < y->where ? -1 : 1;
	return x->app < y->app ? -1 : x->app > y->app;
}

static inline bool svc_flow_before(const struct svc *x, const struct svc *y)
{
	return svc_flow_cmp(x, y) < 0;
}

SX_MINE_SORT_DEFINE(svc_flow_sort, struct svc, svc_flow_before, svc_flow_cmp)

/* Clusters by service: where, then identity (none first), then number. */
static int svc_clu_cmp(const void *a, const void *b)
{
	const struct svc *x = a, *y = b;

	if (x->where != y->where)
		return x->where < y->where ? -1 : 1;
	if (x->app != y->app)
		return x->app < y->app ? -1 : 1;
	return x->cluster < y->cluster ? -1 : x->cluster > y->cluster;
}

static uint32_t find(uint32_t *rep, uint32_t c)
{
	while (rep[c] != c)
		c = rep[c] = rep[rep[c]];
	return c;
}

static void join(uint32_t *rep, uint32_t a, uint32_t b)
{
	a = find(rep, a);
	b = find(rep, b);
	if (a < b)
		rep[b] = a;
	else if (b < a)
		rep[a] = b;
}

/* The service most of a cluster's flows have: fs[i, j) hold one cluster,
 * sorted, so equal services are runs; the first longest run wins (ties: the
 * smaller hash). */
static const struct svc *modal(const struct svc *fs, uint32_t i, uint32_t j)
{
	uint32_t a, b, best = i, bestn = 0;

	for (a = i; a < j; a = b) {
		for (b = a + 1; b < j && fs[b].where == fs[a].where && fs[b].app == fs[a].app; b++)
			;
		if (b - a > bestn) {
			bestn = b - a;
			best = a;
		}
	}
	return &fs[best];
}

/* Union the clusters of cs[i, j), which share protocol, port and server and
 * are sorted by identity, the anonymous ones (app 0) first. */
static void join_where(const struct svc *cs, uint32_t i, uint32_t j, uint32_t *rep)
{
	uint32_t a, first = j, nids = 0;

	for (a = i; a < j; a++) {
		if (!cs[a].app)
			continue;
		if (first < j && cs[a].app == cs[first].app) {
			join(rep, cs[first].cluster, cs[a].cluster);
			continue;
		}
		first = a;
		nids++;
	}
	for (a = i; a < j && !cs[a].app; a++) {
		if (nids == 1)
			join(rep, cs[a].cluster, cs[first].cluster);
		else if (!nids)
			join(rep, cs[i].cluster, cs[a].cluster);
	}
}

/* A flow of a merged cluster in a pool: (pool, cluster, unit). */
struct pool_flow {
	uint64_t pool;
	uint32_t cluster, unit;
};

static int pool_flow_cmp(const void *a, const void *b)
{
	const struct pool_flow *x = a, *y = b;

	if (x->pool != y->pool)
		return x->pool < y->pool ? -1 : 1;
	if (x->cluster != y->cluster)
		return x->cluster < y->cluster ? -1 : 1;
	return x->unit < y->unit ? -1 : x->unit > y->unit;
}

static int pool_unit_cmp(const void *a, const void *b)
{
	const struct pool_flow *x = a, *y = b;

	if (x->pool != y->pool)
		return x->pool < y->pool ? -1 : 1;
	return x->unit < y->unit ? -1 : x->unit > y->unit;
}

/*
 * Rotating pools: merged clusters whose server is an unnamed public address
 * (no DNS answer, SNI or Host named it), of one protocol, port and
 * identity, are one service when they take turns: each of them is in at
 * most half of the occurrences that the clusters of that protocol, port
 * and identity hold together, and two or more are.  A device that reaches
 * a STUN or relay server by an address its cloud hands out, another one
 * each time, then has one pattern in every occurrence rather than one per
 * address, each below the support; a server it reaches in most
 * occurrences stays a service of its own.  pf[0, n): the flows with a
 * pool, their cluster already the merged one.
 */
static void join_pools(struct pool_flow *pf, uint32_t n, uint32_t *rep)
{
	uint32_t i, j, a, b;

	qsort(pf, n, sizeof(*pf), pool_unit_cmp);
	for (i = 0; i < n; i = j) {
		uint32_t uni = 0, lead = UINT32_MAX;

		for (j = i; j < n && pf[j].pool == pf[i].pool; j++)
			uni += j == i || pf[j].unit != pf[j - 1].unit;
		/* per cluster of the run: its occurrences, against half of uni */
		qsort(pf + i, j - i, sizeof(*pf), pool_flow_cmp);
		for (a = i; a < j; a = b) {
			uint32_t occs = 1;

			for (b = a + 1; b < j && pf[b].cluster == pf[a].cluster; b++)
				occs += pf[b].unit != pf[b - 1].unit;
			if (occs * 2 > uni)
				continue;
			if (lead == UINT32_MAX)
				lead = pf[a].cluster;
			else
				join(rep, lead, pf[a].cluster);
		}
	}
}

/* A flow in split_ports(): its group (its cluster; in recurring_ports(), its
 * IP protocol), its service port (a known or recurring one, or 0 for every
 * other; in recurring_ports(), its server port), its index. */
struct port_flow {
	uint32_t group;
	uint16_t port;
	uint32_t flow;
};

static int port_flow_cmp(const void *a, const void *b)
{
	const struct port_flow *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return x->flow < y->flow ? -1 : x->flow > y->flow;
}

#define RECUR_MIN 3  /* servers on one port, at the least */
#define RECUR_MAX 16 /* and at the most */

/*
 * The fewest servers on one unknown port that chance alone would not give:
 * m flows whose server ports fall at random on the 64,512 ports above 1023
 * put k or more on one port in about 64,512 * lambda^k / k! ports (Poisson,
 * lambda = m / 64,512, its first term); the smallest k from RECUR_MIN that
 * makes that under 1/100.  3 up to 629 such flows, 4 up to 2,833, 5 up to
 * 7,303: thousands of peer-to-peer sessions, each to its own peer's random
 * port, never make a fleet.
 */
static uint32_t recur_servers(uint32_t m)
{
	const double ports = 65536 - 1024, lambda = m / ports;
	double expected = ports * lambda * lambda * lambda / 6;
	uint32_t k = RECUR_MIN;

	while (expected >= 0.01 && k < RECUR_MAX) {
		k++;
		expected *= lambda / k;
	}
	return k;
}

/* rec[i]: flows[i]'s server port is a recurring one (split_ports()); sf is
 * scratch of n entries. */
static void recurring_ports(const struct sx_mine_flow *const *flows, uint32_t n,
			    struct port_flow *sf, bool *rec)
{
	uint32_t i, j, g, m = 0, need;

	for (i = 0; i < n; i++) {
		const struct sx_mine_flow *f = flows[i];
		uint16_t port = service_port(f);

		rec[i] = false;
		if (port && !sx_flow_port_is_known(f->ip_proto, port))
			sf[m++] = (struct port_flow){f->ip_proto, port, i};
	}
	qsort(sf, m, sizeof(*sf), port_flow_cmp);
	need = recur_servers(m);
	for (i = 0; i < m; i = j) {
		const struct sx_addr *seen[RECUR_MAX];
		uint32_t nsrv = 0;

		for (j = i; j < m && sf[j].group == sf[i].group && sf[j].port == sf[i].port; j++) {
			const struct sx_addr *a = &flows[sf[j].flow]->ep[SX_MINE_SERVER].addr;

			for (g = 0; g < nsrv && sx_addr_cmp(seen[g], a); g++)
				;
			if (g == nsrv && nsrv < need)
				seen[nsrv++] = a;
		}
		for (g = i; g < j && nsrv == need; g++)
			rec[sf[g].flow] = true;
	}
}

/*
 * A cluster follows shape, and two services whose flows look alike can
 * share one (the Xiaomi camera's TLS sessions and its HTTP ones continued
 * from before the window, a few small segments each; its miIO requests on
 * UDP 54321 and a short stream to the phone): no port then holds the
 * pattern's flows, and its policy admits every port.  So a cluster's flows
 * are grouped by service port, each known one (sx_flow_port_is_known():
 * well known, or an IoT service port) or recurring one a group and every
 * other port one group together (dynamic ports are drawn anew), and the
 * groups but the largest (ties: the lowest port, the others' first) become
 * clusters of their own, numbered from k in the order of their cluster and
 * port.  One service, one pattern: the services then merge as below.
 *
 * A recurring port is an unknown server port that three server addresses
 * or more listen on among all the flows mined (more when the flows are so
 * many that chance would put three on one port: recur_servers()): a
 * vendor's fleet (the Xiaomi camera's probes of twenty relays on UDP
 * 25000, each a cluster of one flow that the pool of its stream to the
 * phone took in), where a peer-to-peer peer draws its port anew at every
 * session, one address each.  Such a flow is flagged in rec[] and is never
 * peer to peer.  Returns the number of clusters, or -ENOMEM.
 */
static long split_ports(const struct sx_mine_flow *const *flows, uint32_t n, uint32_t *assign,
			uint32_t k, bool *rec)
{
	struct port_flow *pf = sx_calloc_array(n + 1, sizeof(*pf));
	uint32_t i, j, g, next = k;

	if (!pf)
		return -ENOMEM;
	recurring_ports(flows, n, pf, rec);
	for (i = 0; i < n; i++) {
		const struct sx_mine_flow *f = flows[i];
		uint16_t port = service_port(f);

		pf[i] = (struct port_flow){
		    assign[i], rec[i] || sx_flow_port_is_known(f->ip_proto, port) ? port : 0, i};
	}
	qsort(pf, n, sizeof(*pf), port_flow_cmp);
	for (i = 0; i < n; i = j) {
		uint32_t best = i, best_n = 0;

		for (j = i; j < n && pf[j].group == pf[i].group; j = g) {
			for (g = j; g < n && pf[g].group == pf[j].group && pf[g].port == pf[j].port;
			     g++)
				;
			if (g - j > best_n) {
				best = j;
				best_n = g - j;
			}
		}
		for (j = i; j < n && pf[j].group == pf[i].group; j = g) {
			for (g = j; g < n && pf[g].group == pf[j].group && pf[g].port == pf[j].port;
			     g++)
				if (j != best)
					assign[pf[g].flow] = next;
			next += j != best;
		}
	}
	free(pf);
	return next;
}

long sx_mine__merge_services(const struct sx_mine_flow *const *flows, uint32_t n, uint32_t *assign,
			     uint32_t k)
{
	struct svc *fs = NULL, *cs = NULL;
	struct pool_flow *pf = NULL;
	uint64_t *cpool = NULL;
	uint32_t *rep = NULL, *num = NULL, i, j, npf = 0;
	bool *rec = sx_calloc_array(n + 1, sizeof(*rec));
	long ret = rec ? split_ports(flows, n, assign, k, rec) : -ENOMEM;

	if (ret < 2) /* -ENOMEM, or one cluster at most */
		goto out_free;
	k = (uint32_t)ret;
	ret = -ENOMEM;
	fs = sx_calloc_array(n, sizeof(*fs));
	cs = sx_calloc_array(k, sizeof(*cs));
	rep = sx_calloc_array(k, sizeof(*rep));
	num = sx_calloc_array(k, sizeof(*num));
	cpool = sx_calloc_array(k, sizeof(*cpool));
	pf = sx_calloc_array(n, sizeof(*pf));
	if (!fs || !cs || !rep || !num || !cpool || !pf)
		goto out_free;

	for (i = 0; i < n; i++) {
		flow_service(flows[i], rec[i], &fs[i]);
		fs[i].cluster = assign[i];
	}
	svc_flow_sort(fs, n);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && fs[j].cluster == fs[i].cluster; j++)
			;
		cs[fs[i].cluster] = *modal(fs, i, j);
		cpool[fs[i].cluster] = cs[fs[i].cluster].pool;
	}

	for (i = 0; i < k; i++)
		rep[i] = i;
	qsort(cs, k, sizeof(*cs), svc_clu_cmp);
	for (i = 0; i < k; i = j) {
		for (j = i + 1; j < k && cs[j].where == cs[i].where; j++)
			;
		join_where(cs, i, j, rep);
	}
	for (i = 0; i < n; i++) {
		uint32_t r = find(rep, assign[i]);

		if (cpool[r])
			pf[npf++] = (struct pool_flow){cpool[r], r, flows[i]->unit};
	}
	join_pools(pf, npf, rep);

	/* renumber in the order of each merged cluster's first member */
	for (i = 0, j = 0; i < k; i++)
		if (find(rep, i) == i)
			num[i] = j++;
	for (i = 0; i < n; i++)
		assign[i] = num[find(rep, assign[i])];
	ret = j;
out_free:
	free(fs);
	free(cs);
	free(rep);
	free(num);
	free(cpool);
	free(pf);
	free(rec);
	return ret;
}
