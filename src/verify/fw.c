/*
 * fw.c - one running firewall: the packet path of firewall.nft and of the
 * device's NFQueue callbacks (callback.c.j2), fed decoded packets in order.
 *
 * DESIGN
 *
 * State, as the firewall keeps it: per interaction its current state, the
 * time of its last accepted packet and its cached address, the counters of
 * its policies; one DNS table (name -> addresses) for the whole device.
 * The flow table is ours: it gives nft's `ct original` direction (the
 * flow's first packet) and the per-flow verdicts the report counts.
 *
 * The path of one packet (sx_verify_fw_packet()):
 *   1. entry: the prerouting chain jumps to the filter chain for the device's
 *      MAC (either end) and ARP for its IPv4 address; anything else passes;
 *   2. the filter chain's rules, one per queue, in order: the first whose
 *      nftables matches hold decides, `accept` or the queue's callback;
 *   3. the callback tries every policy of the queue in order (they all run:
 *      an accepting policy does not stop the next ones from updating their
 *      interaction), drops on a timed-out interaction, and accepts when one
 *      policy's state guard and NFQueue matches hold;
 *   4. no rule: the chain's final rules drop the device's packet.
 *
 * One firewall is used by one thread at a time.  Memory grows only when the
 * flow table or the DNS table does; packets are never copied.
 */
#include "verify/verify_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/map.h"
#include "core/util.h"

#define DEFAULT_TIMEOUT 3600 /* nfqueue.h */
#define FLOWS_MIN	1024

struct vx_counter {
	int64_t value;
	bool pc_init;
	bool dur_init;
	int64_t dur_us;
};

struct vx_istate {
	int cur;
	int64_t time_request; /* seconds; 0: never */
	struct sx_addr cached_ip;
	struct vx_counter *ctr; /* one per policy of the interaction */
};

struct vx_dns_entry {
	const char *name; /* the policy's domain-name (the profile owns it) */
	struct sx_addr *addrs;
	size_t n, cap;
};

struct sx_verify_fw {
	const struct sx_verify_profile *p;
	bool has_mac;
	uint8_t mac[6];
	bool stateless;
	struct vx_istate *is;
	struct vx_counter *ctrs;
	struct vx_dns_entry *dns;
	size_t ndns, capdns;
	struct sx_map flows;	   /* of struct vx_flow, under XXH3(key) */
	struct vx_flow *last_flow; /* of the last device packet */
};

/* ---- small helpers ---- */

static bool addr_eq(const struct sx_addr *a, const struct sx_addr *b)
{
	return a->family && a->family == b->family && memcmp(a->b, b->b, 16) == 0;
}

static bool net_is(const struct vx_net *n, const struct sx_addr *a)
{
	return n->family && n->family == a->family &&
	       memcmp(n->b, a->b, n->family == 4 ? 4 : 16) == 0;
}

static struct sx_addr v4(const uint8_t b[4])
{
	struct sx_addr a = {.family = 4};

	memcpy(a.b, b, 4);
	return a;
}

static int64_t pymod(int64_t a, int64_t m)
{
	int64_t r = m ? a % m : 0;

	return r < 0 ? r + m : r;
}

/* ---- flows ---- */

static void flow_key(const struct sx_pkt *pkt, struct vx_flow_key *k, bool *fwd)
{
	struct vx_flow_key a;
	int c;

	memset(&a, 0, sizeof(a));
	if (pkt->src.family) {
		a.family = pkt->src.family;
		a.proto = pkt->ip_proto;
		memcpy(a.a, pkt->src.b, 16);
		memcpy(a.b, pkt->dst.b, 16);
		if (pkt->ip_proto == 6 || pkt->ip_proto == 17) {
			a.pa = pkt->sport;
			a.pb = pkt->dport;
		}
	} else {
		/* not IP: the two MACs and the EtherType */
		a.proto = 0;
		a.ethertype = pkt->ethertype;
		memcpy(a.a, pkt->mac_src, 6);
		memcpy(a.b, pkt->mac_dst, 6);
	}
	c = memcmp(a.a, a.b, 16);
	*fwd = c < 0 || (c == 0 && a.pa <= a.pb);
	*k = a;
	if (!*fwd) {
		memcpy(k->a, a.b, 16);
		memcpy(k->b, a.a, 16);
		k->pa = a.pb;
		k->pb = a.pa;
	}
}

/* The packet's flow, created on its first packet. */
static struct vx_flow *flow_get(struct sx_verify_fw *fw, const struct sx_pkt *pkt, bool *fwd)
{
	struct vx_flow_key k;
	struct vx_flow *f;
	size_t pos = SX_MAP_START;
	uint64_t h;

	flow_key(pkt, &k, fwd);
	h = XXH3_64bits(&k, sizeof(k));
	if (sx_map_reserve(&fw->flows, fw->flows.n + 1))
		return NULL;
	while ((f = sx_map_next(&fw->flows, h, &pos)))
		if (memcmp(&f->key, &k, sizeof(k)) == 0)
			return f;
	f = sx_map_add(&fw->flows, h, pos);
	f->key = k;
	f->orig_fwd = *fwd;
	f->kind = -1;
	f->first_file = pkt->file;
	f->first_index = pkt->index;
	return f;
}

/* ---- the DNS table (dns_map.c) ---- */

static struct vx_dns_entry *dns_get(const struct sx_verify_fw *fw, const char *name)
{
	for (size_t i = 0; i < fw->ndns; i++)
		if (strcmp(fw->dns[i].name, name) == 0)
			return &fw->dns[i];
	return NULL;
}

static bool dns_contains(const struct sx_verify_fw *fw, const char *name, const struct sx_addr *a)
{
	const struct vx_dns_entry *e = dns_get(fw, name);

	for (size_t i = 0; e && i < e->n; i++)
		if (addr_eq(&e->addrs[i], a))
			return true;
	return false;
}

/* dns_map_add(): the firewall appends (duplicates too); keeping each
 * address once gives the same lookups. */
static int dns_add(struct sx_verify_fw *fw, const char *name, const struct sx_addr *a)
{
	struct vx_dns_entry *e = dns_get(fw, name);

	if (!e) {
		if (fw->ndns == fw->capdns) {
			size_t cap = fw->capdns ? fw->capdns * 2 : 8;
			struct vx_dns_entry *d = sx_realloc_array(fw->dns, cap, sizeof(*d));

			if (!d)
				return -ENOMEM;
			fw->dns = d;
			fw->capdns = cap;
		}
		e = &fw->dns[fw->ndns++];
		memset(e, 0, sizeof(*e));
		e->name = name;
	}
	for (size_t i = 0; i < e->n; i++)
		if (addr_eq(&e->addrs[i], a))
			return 0;
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 4;
		struct sx_addr *n = sx_realloc_array(e->addrs, cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		e->addrs = n;
		e->cap = cap;
	}
	e->addrs[e->n++] = *a;
	return 0;
}

/* ---- nftables matches ---- */

static bool port_in(const struct vx_match *m, uint16_t port)
{
	for (size_t i = 0; i < m->n; i++)
		if (port >= m->alts[i].num && port <= m->alts[i].num2)
			return true;
	return false;
}

static bool net_in(const struct vx_match *m, const struct sx_addr *a)
{
	for (size_t i = 0; i < m->n; i++)
		if (sx_verify__net_has(&m->alts[i].net, a))
			return true;
	return false;
}

static bool mac_in(const struct vx_match *m, const uint8_t mac[6])
{
	for (size_t i = 0; i < m->n; i++)
		if (memcmp(m->alts[i].mac, mac, 6) == 0)
			return true;
	return false;
}

static bool num_in(const struct vx_match *m, int64_t v)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->alts[i].num == v)
			return true;
	return false;
}

static bool has_ports(const struct sx_pkt *pkt)
{
	return (pkt->ip_proto == 6 || pkt->ip_proto == 17) && !pkt->frag_later && pkt->src.family;
}

static bool nft_match(const struct vx_policy *pol, const struct sx_pkt *pkt,
		      const struct vx_flow *f, bool fwd)
{
	for (size_t i = 0; i < pol->nnft; i++) {
		const struct vx_match *m = &pol->nft[i];
		/* ct original: the flow's first packet's direction */
		bool orig = !m->ct_orig || fwd == f->orig_fwd;
		struct sx_addr a;
		bool ok;

		switch (m->kind) {
		case VX_N_L4PROTO:
			ok = pkt->src.family && num_in(m, pkt->ip_proto);
			break;
		case VX_N_SPORT:
			ok = has_ports(pkt) && port_in(m, orig ? pkt->sport : pkt->dport);
			break;
		case VX_N_DPORT:
			ok = has_ports(pkt) && port_in(m, orig ? pkt->dport : pkt->sport);
			break;
		case VX_N_SADDR:
			ok =
			    pkt->src.family == m->family && net_in(m, orig ? &pkt->src : &pkt->dst);
			break;
		case VX_N_DADDR:
			ok =
			    pkt->src.family == m->family && net_in(m, orig ? &pkt->dst : &pkt->src);
			break;
		case VX_N_ICMP_TYPE:
			ok = pkt->src.family == 4 && pkt->ip_proto == 1 &&
			     pkt->proto == SX_P_ICMP && num_in(m, pkt->app.icmp.type);
			break;
		case VX_N_ARP_OP:
			ok = pkt->has_arp && num_in(m, pkt->arp_op);
			break;
		case VX_N_ARP_SHA:
			ok = pkt->has_arp && mac_in(m, pkt->arp_sha);
			break;
		case VX_N_ARP_THA:
			ok = pkt->has_arp && mac_in(m, pkt->arp_tha);
			break;
		case VX_N_ARP_SPA:
			a = v4(pkt->arp_spa);
			ok = pkt->has_arp && net_in(m, &a);
			break;
		case VX_N_ARP_TPA:
			a = v4(pkt->arp_tpa);
			ok = pkt->has_arp && net_in(m, &a);
			break;
		default:
			ok = false;
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}

/* ---- NFQueue matches ---- */

/* What the callback's parsers make of the packet (parsed once). */
struct app {
	bool done;
	bool http;	 /* is_http_message */
	bool http_req;	 /* http_message.is_request */
	int http_method; /* sx_http_fw_read(): GET 1 ... TRACE 8 */
	char uri[SX_URI_MAX];
	char coap_uri[2 * SX_URI_MAX + 2];
	char chaddr[18];
	int ssdp_method; /* 0 M-SEARCH, 1 NOTIFY, -1 unknown */
};

static void parse_app(struct app *ap, const struct sx_pkt *pkt, uint8_t parser)
{
	const uint8_t *d = pkt->payload;
	size_t n = d ? pkt->payload_cap : 0;

	if (ap->done)
		return;
	ap->done = true;
	if (parser == VX_P_HTTP) {
		int m;

		if (pkt->ip_proto != 6)
			return;
		m = sx_http_fw_read(d, n, pkt->payload_len, ap->uri, sizeof(ap->uri));
		if (!m)
			return;
		ap->http = true;
		ap->http_req = pkt->dport == 80;
		ap->http_method = m;
	} else if (parser == VX_P_DHCP && pkt->proto == SX_P_DHCP) {
		const uint8_t *m = pkt->app.dhcp.chaddr;

		sx_mac_str(m, ap->chaddr, sizeof(ap->chaddr));
	} else if (parser == VX_P_SSDP) {
		ap->ssdp_method = n >= 1 && d[0] == 'M' ? 0 : n >= 1 && d[0] == 'N' ? 1 : -1;
	} else if (parser == VX_P_COAP && pkt->proto == SX_P_COAP) {
		snprintf(ap->coap_uri, sizeof(ap->coap_uri), "%s%s%s", pkt->app.coap.path,
			 pkt->app.coap.query[0] ? "?" : "", pkt->app.coap.query);
	}
}

static bool is_dns(const struct sx_pkt *pkt)
{
	return pkt->proto == SX_P_DNS || pkt->proto == SX_P_MDNS || pkt->proto == SX_P_LLMNR;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool dns_name_alt(const struct sx_pkt *pkt, const struct vx_alt *a)
{
	const struct sx_dns *m = &pkt->app.dns;

	for (unsigned q = 0; q < m->nq && q < m->qdcount; q++)
		if (a->suffix ? ends_with(m->q[q].name, a->str) : !strcmp(m->q[q].name, a->str))
			return true;
	return false;
}

static const struct sx_addr *end_addr(const struct sx_pkt *pkt, int dir)
{
	return dir ? &pkt->dst : &pkt->src;
}

static bool nfq_alt(const struct sx_verify_fw *fw, const struct vx_policy *pol,
		    const struct vx_match *m, const struct vx_alt *a, const struct sx_pkt *pkt,
		    struct app *ap)
{
	const struct vx_istate *is = &fw->is[pol->inter];

	switch (m->kind) {
	case VX_Q_ADDR: {
		const struct sx_addr *x = end_addr(pkt, m->dir);

		if (x->family != m->family)
			return false;
		if (!a->is_name)
			return net_is(&a->net, x);
		/* compare_ip(addr, cached_ip) || dns_entry_contains(name) */
		return addr_eq(&is->cached_ip, x) || dns_contains(fw, a->str, x);
	}
	case VX_Q_DNS_QR:
		return is_dns(pkt) && pkt->app.dns.qr == (a->num == 1);
	case VX_Q_DNS_QTYPE:
		return is_dns(pkt) && pkt->app.dns.qdcount > 0 && pkt->app.dns.nq > 0 &&
		       pkt->app.dns.q[0].qtype == a->num;
	case VX_Q_DNS_NAME:
		return is_dns(pkt) && dns_name_alt(pkt, a);
	case VX_Q_HTTP_REQ:
		return ap->http_req == (a->num == 1);
	case VX_Q_HTTP_METHOD:
		return ap->http_req && ap->http_method == a->num;
	case VX_Q_HTTP_URI:
		if (!ap->http_req)
			return false;
		return a->suffix ? strncmp(ap->uri, a->str, strlen(a->str)) == 0
				 : strcmp(ap->uri, a->str) == 0;
	case VX_Q_DHCP_TYPE:
		return pkt->proto == SX_P_DHCP && pkt->app.dhcp.msg_type == a->num;
	case VX_Q_DHCP_MAC:
		return pkt->proto == SX_P_DHCP && strcmp(ap->chaddr, a->str) == 0;
	case VX_Q_IGMP_TYPE:
		return pkt->proto == SX_P_IGMP && pkt->app.igmp.type == a->num;
	case VX_Q_IGMP_GROUP: {
		struct sx_addr g = v4(pkt->app.igmp.group);

		return pkt->proto == SX_P_IGMP && net_is(&a->net, &g);
	}
	case VX_Q_SSDP_REQ: {
		static const uint8_t ssdp[4] = {239, 255, 255, 250};
		struct sx_addr g = v4(ssdp);

		return addr_eq(&pkt->dst, &g) == (a->num == 1);
	}
	case VX_Q_SSDP_METHOD:
		return ap->ssdp_method == a->num;
	case VX_Q_COAP_TYPE:
		return pkt->proto == SX_P_COAP && pkt->app.coap.type == a->num;
	case VX_Q_COAP_METHOD: {
		/* coap.c: codes 0.01..0.04 are GET, POST, PUT, DELETE */
		static const int map[5] = {0, 1, 3, 4, 5};
		uint8_t code = pkt->app.coap.code;

		return pkt->proto == SX_P_COAP && code >= 1 && code <= 4 && map[code] == a->num;
	}
	case VX_Q_COAP_URI:
		return pkt->proto == SX_P_COAP && strcmp(ap->coap_uri, a->str) == 0;
	default:
		return false;
	}
}

static bool nfq_match(const struct sx_verify_fw *fw, const struct vx_policy *pol,
		      const struct sx_pkt *pkt, struct app *ap)
{
	parse_app(ap, pkt, pol->parser);
	/* HTTP: `!is_http_message || ( ... )` around all the matches */
	if (pol->parser == VX_P_HTTP && !ap->http)
		return true;
	for (size_t i = 0; i < pol->nnfq; i++) {
		const struct vx_match *m = &pol->nfq[i];
		bool any = false;

		for (size_t k = 0; k < m->n && !any; k++)
			any = nfq_alt(fw, pol, m, &m->alts[k], pkt, ap);
		if (!any)
			return false;
	}
	return true;
}

/* ---- interactions (callback.c.j2) ---- */

static const struct vx_policy *inter_pol(const struct sx_verify_profile *p,
					 const struct vx_inter *in, int64_t idx)
{
	return &p->pol[in->first + (size_t)pymod(idx, (int64_t)in->n)];
}

/* The state guard: an OR of "current_state >= K" terms. */
static bool guard_ok(const struct sx_verify_profile *p, const struct vx_policy *pol, int cur)
{
	const struct vx_inter *in = &p->inters[pol->inter];
	const struct vx_policy *prev = inter_pol(p, in, (int64_t)pol->idx - 1);
	const struct vx_policy *prev2 = inter_pol(p, in, (int64_t)pol->idx - 2);
	int64_t m1 = in->max_state + 1, st = pol->state, n = (int64_t)in->n;
	bool ok = false;

	if ((pol->transient && !pol->backward && (prev->transient || prev->periodic)) ||
	    ((pol->transient || pol->periodic) && pol->backward &&
	     (prev2->transient || prev2->periodic)))
		ok = ok || cur >= (pol->periodic ? pymod(st - 1, m1) : pymod(st - 2, m1));
	if (prev->transient || pol->transient || (pol->idx == 0 && prev->periodic))
		ok = ok || cur >= (pol->periodic ? st : pymod(st - 1, m1));
	if (pol->periodic && (int64_t)pol->idx != n - 1)
		ok = ok || cur >= pymod(st + 1, m1);
	if ((pol->periodic && pol->idx == 0) || !(pol->periodic && (int64_t)pol->idx != n - 1))
		ok = ok || cur >= st;
	return ok;
}

static bool timed_out(double threshold, int64_t last, int64_t now)
{
	if (last == 0 || threshold == -1)
		return false;
	if (threshold == 0)
		threshold = DEFAULT_TIMEOUT;
	return threshold < (double)(now - last);
}

static int64_t now_us(const struct sx_pkt *pkt)
{
	return pkt->ts_sec * 1000000 + pkt->ts_nsec / 1000;
}

/* The DNS response action: addresses of the policy's domain name. */
static int dns_learn(struct sx_verify_fw *fw, const struct vx_policy *pol, const struct sx_pkt *pkt)
{
	const struct vx_match *names = NULL;
	const char *name = NULL;
	const char *cname;
	const struct sx_dns *m = &pkt->app.dns;
	struct vx_istate *is = &fw->is[pol->inter];
	bool first = true;

	if (!is_dns(pkt))
		return 0;
	for (size_t i = 0; i < pol->nnfq; i++)
		if (pol->nfq[i].kind == VX_Q_DNS_NAME)
			names = &pol->nfq[i];
	if (!names)
		return 0;
	if (names->n == 1) {
		name = names->alts[0].str;
	} else {
		for (size_t k = 0; k < names->n && !name; k++)
			if (dns_name_alt(pkt, &names->alts[k]))
				name = names->alts[k].str;
	}
	if (!name)
		return 0;
	/* dns_get_ip_from_name(): answers in order, following CNAMEs */
	cname = name;
	for (unsigned i = 0; i < m->nrr; i++) {
		const struct sx_dns_rr *rr = &m->rr[i];

		if (rr->section != SX_DNS_AN || strcmp(rr->name, cname))
			continue;
		if ((rr->type == 1 || rr->type == 28) && rr->addr.family) {
			int ret = dns_add(fw, name, &rr->addr);

			if (ret)
				return ret;
			if (first)
				is->cached_ip = rr->addr;
			first = false;
		} else if (rr->type == 5) {
			cname = rr->data;
		}
	}
	return 0;
}

/* A queue's callback.  Returns the verdict's why and sets *policy. */
static int callback(struct sx_verify_fw *fw, const struct vx_queue *q, const struct sx_pkt *pkt,
		    int *policy, int *err)
{
	const struct sx_verify_profile *p = fw->p;
	int64_t now = pkt->ts_sec, us = now_us(pkt);
	struct app ap;
	bool accept = false;

	memset(&ap, 0, sizeof(ap));
	ap.ssdp_method = -1;
	*policy = -1;
	/* counters of the queue's base policies are initialised on entry */
	for (size_t i = 0; i < q->npols; i++) {
		const struct vx_policy *pol = &p->pol[q->pols[i]];
		struct vx_istate *is = &fw->is[pol->inter];

		if (p->inters[pol->inter].max_state <= 0)
			continue;
		if (pol->has_pc && pol->pc_base && !is->ctr[pol->pc_idx].pc_init) {
			is->ctr[pol->pc_idx].value = 0;
			is->ctr[pol->pc_idx].pc_init = true;
		}
		if (pol->has_dur && pol->dur_base && !is->ctr[pol->dur_idx].dur_init) {
			is->ctr[pol->dur_idx].dur_init = true;
			is->ctr[pol->dur_idx].dur_us = us;
		}
	}
	for (size_t i = 0; i < q->npols; i++) {
		size_t pi = q->pols[i];
		const struct vx_policy *pol = &p->pol[pi];
		const struct vx_inter *in = &p->inters[pol->inter];
		struct vx_istate *is = &fw->is[pol->inter];
		int m1 = in->max_state + 1;
		bool ok = true;

		if (pol->state < 0) {
			if (i + 1 == q->npols) { /* "No other policy matched" */
				accept = true;
				if (*policy < 0)
					*policy = (int)pi;
			}
			continue;
		}
		if (!fw->stateless && timed_out(pol->timeout, is->time_request, now) &&
		    is->cur != 0) {
			is->cur = 0;
			is->time_request = now;
			*policy = -1;
			return SX_VERIFY_TIMEOUT;
		}
		if (!fw->stateless) {
			if (pol->has_pc)
				ok = is->ctr[pol->pc_idx].pc_init;
			if (ok && pol->transient && pol->has_dur)
				ok = is->ctr[pol->dur_idx].dur_init;
			if (ok && in->max_state > 0)
				ok = guard_ok(p, pol, is->cur);
		}
		if (!ok || !nfq_match(fw, pol, pkt, &ap))
			continue;

		if (in->max_state > 0 && !fw->stateless) {
			const struct vx_policy *prev = inter_pol(p, in, (int64_t)pol->idx - 1);

			if (prev->transient && !(pol->transient && pol->backward)) {
				if (pol->periodic)
					is->cur = (pol->state + 1) % m1;
				if (prev->has_pc)
					is->ctr[prev->pc_idx].value = 0;
				if (prev->has_dur)
					is->ctr[prev->dur_idx].dur_init = false;
			}
			if (pol->transient)
				is->cur = pol->state;
			else if ((pol->one_off || (pol->periodic && pol->idx == 0)) &&
				 is->cur == pol->state)
				is->cur = (pol->state + 1) % m1;
			if (pol->transient) {
				bool done = pol->has_pc || pol->has_dur;

				if (pol->has_pc) {
					is->ctr[pol->pc_idx].value++;
					done = is->ctr[pol->pc_idx].value >= pol->pc_need;
				}
				if (done && pol->has_dur)
					done =
					    is->ctr[pol->dur_idx].dur_init &&
					    us - is->ctr[pol->dur_idx].dur_us >= pol->dur_need_us;
				if (done) {
					if (is->cur == pol->state)
						is->cur = (pol->state + 1) % m1;
					if (pol->has_pc)
						is->ctr[pol->pc_idx].pc_init = false;
					if (pol->has_dur)
						is->ctr[pol->dur_idx].dur_init = false;
				}
			}
		}
		if (pol->dns_response_learns && !*err)
			*err = dns_learn(fw, pol, pkt);
		is->time_request = now;
		accept = true;
		if (*policy < 0)
			*policy = (int)pi;
	}
	return accept ? SX_VERIFY_ACCEPT : SX_VERIFY_QUEUE_DROP;
}

/* ---- public ---- */

/* IEEE 802.1D's reserved link-local group addresses, 01:80:c2:00:00:00-0f
 * (STP, pause, 802.1X's PAE, LLDP): the Linux bridge never forwards them by
 * default, and delivers them to the bridge itself through NF_BR_LOCAL_IN
 * (br_input.c, br_handle_frame), so the firewall's prerouting chain never
 * sees them.  Nor 802.1X's EAPOL (ethertype 0x888e) on a Wi-Fi access
 * point, whatever its destination (the station's or the access point's
 * own address): hostapd takes the handshake from the wireless driver's
 * control port, before any bridge; the testbed's devices associated
 * through the firewall with profiles that hold no EAPOL rule. */
static bool is_link_local_group(const uint8_t *mac)
{
	static const uint8_t base[5] = {0x01, 0x80, 0xc2, 0x00, 0x00};

	return memcmp(mac, base, 5) == 0 && (mac[5] & 0xf0) == 0;
}

static bool is_device(const struct sx_verify_fw *fw, const struct sx_pkt *pkt, bool *from)
{
	const struct sx_verify_profile *p = fw->p;
	struct sx_addr dev4 = {.family = 4}, dev6 = {.family = 6};

	if ((pkt->has_mac && is_link_local_group(pkt->mac_dst)) || pkt->ethertype == 0x888e)
		return false;
	if (p->has_ipv4)
		memcpy(dev4.b, p->ipv4.b, 4);
	if (p->has_ipv6)
		memcpy(dev6.b, p->ipv6.b, 16);
	if (pkt->has_mac && fw->has_mac) {
		*from = memcmp(pkt->mac_src, fw->mac, 6) == 0;
		if (*from || memcmp(pkt->mac_dst, fw->mac, 6) == 0)
			return true;
		/* arp daddr ip <ipv4> jump filter */
		return p->has_ipv4 && pkt->has_arp && memcmp(pkt->arp_tpa, p->ipv4.b, 4) == 0;
	}
	/* no MAC known or no Ethernet framing: the device's IP addresses */
	*from = addr_eq(&pkt->src, &dev4) || addr_eq(&pkt->src, &dev6) ||
		(pkt->has_arp && p->has_ipv4 && memcmp(pkt->arp_spa, p->ipv4.b, 4) == 0);
	return *from || addr_eq(&pkt->dst, &dev4) || addr_eq(&pkt->dst, &dev6) ||
	       (pkt->has_arp && p->has_ipv4 && memcmp(pkt->arp_tpa, p->ipv4.b, 4) == 0);
}

int sx_verify_fw_packet(struct sx_verify_fw *fw, const struct sx_pkt *pkt,
			struct sx_verify_verdict *v)
{
	const struct sx_verify_profile *p = fw->p;
	struct vx_flow *f;
	bool fwd = true, from = false;
	int err = 0;

	v->why = SX_VERIFY_NOT_DEVICE;
	v->policy = -1;
	v->rule = -1;
	v->from_dev = false;
	fw->last_flow = NULL;
	if (!is_device(fw, pkt, &from))
		return 0;
	v->from_dev = from;
	f = flow_get(fw, pkt, &fwd);
	if (!f)
		return -ENOMEM;
	fw->last_flow = f;
	v->why = SX_VERIFY_NO_RULE;
	for (size_t qi = 0; qi < p->nqueues; qi++) {
		const struct vx_queue *q = &p->queues[qi];
		int why;

		if (!nft_match(&p->pol[q->first_pol], pkt, f, fwd))
			continue;
		v->rule = (int)qi;
		if (q->queue_num < 0) {
			v->why = SX_VERIFY_ACCEPT;
			v->policy = (int)q->pols[0];
			break;
		}
		why = callback(fw, q, pkt, &v->policy, &err);
		v->why = (uint8_t)why;
		break;
	}
	f->packets++;
	if (v->why != SX_VERIFY_ACCEPT)
		f->denied++;
	return err;
}

int sx_verify_fw_new(const struct sx_verify_profile *p, struct sx_verify_fw **out)
{
	struct sx_verify_fw *fw;

	*out = NULL;
	fw = calloc(1, sizeof(*fw));
	if (!fw)
		return -ENOMEM;
	fw->p = p;
	fw->is = sx_calloc_array(p->ninters ? p->ninters : 1, sizeof(*fw->is));
	fw->ctrs = sx_calloc_array(p->npol ? p->npol : 1, sizeof(*fw->ctrs));
	sx_map_init(&fw->flows, sizeof(struct vx_flow), FLOWS_MIN, 50);
	if (!fw->is || !fw->ctrs || sx_map_reserve(&fw->flows, 1)) {
		sx_verify_fw_free(fw);
		return -ENOMEM;
	}
	sx_verify_fw_reset(fw);
	*out = fw;
	return 0;
}

void sx_verify_fw_reset(struct sx_verify_fw *fw)
{
	const struct sx_verify_profile *p = fw->p;

	for (size_t i = 0; i < p->ninters; i++) {
		memset(&fw->is[i], 0, sizeof(fw->is[i]));
		fw->is[i].ctr = fw->ctrs + p->inters[i].first;
	}
	memset(fw->ctrs, 0, (p->npol ? p->npol : 1) * sizeof(*fw->ctrs));
	for (size_t i = 0; i < fw->ndns; i++)
		free(fw->dns[i].addrs);
	fw->ndns = 0;
	sx_map_clear(&fw->flows);
	fw->has_mac = p->has_mac;
	memcpy(fw->mac, p->mac, 6);
}

void sx_verify_fw_set_mac(struct sx_verify_fw *fw, const uint8_t mac[6])
{
	fw->has_mac = true;
	memcpy(fw->mac, mac, 6);
}

bool sx_verify_fw_has_mac(const struct sx_verify_fw *fw)
{
	return fw->has_mac;
}

void sx_verify_fw_set_stateless(struct sx_verify_fw *fw, bool stateless)
{
	fw->stateless = stateless;
}

void sx_verify_fw_free(struct sx_verify_fw *fw)
{
	if (!fw)
		return;
	for (size_t i = 0; i < fw->ndns; i++)
		free(fw->dns[i].addrs);
	free(fw->dns);
	sx_map_fini(&fw->flows);
	free(fw->is);
	free(fw->ctrs);
	free(fw);
}

struct vx_flow *sx_verify__fw_last_flow(struct sx_verify_fw *fw)
{
	return fw->last_flow;
}

size_t sx_verify__fw_nslots(const struct sx_verify_fw *fw)
{
	return fw->flows.cap;
}

const struct vx_flow *sx_verify__fw_flow_at(const struct sx_verify_fw *fw, size_t i)
{
	return sx_map_at(&fw->flows, i);
}
