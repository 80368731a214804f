/*
 * profile.c - profile.yaml -> the firewall's rules (struct sx_verify_profile).
 *
 * DESIGN
 *
 * This file is the firewall's translator (src/translator/translator.py,
 * Policy.py, NFQueue.py and protocols/\*.py) redone in C, so that each key
 * means here what it means there.  Policies are compiled in the translator's
 * order: single policies first (a bidirectional one gives "name" and
 * "name-backward"), then each interaction, whose nested policies are
 * flattened in document order.  Each policy gets:
 *   - its nftables matches, from the protocols in document order (Policy.parse)
 *     with the backward mirror of each protocol's add_field();
 *   - its NFQueue matches (the C conditions of callback.c.j2);
 *   - its state and counters (parse_policy(), NFQueue.add_policy());
 *   - its queue: policies whose sorted nftables matches are equal share one
 *     (NFQueue.contains_policy_matches()), numbered as parse_policy() numbers
 *     them, and the queue's policies are sorted as add_policy() sorts them.
 * A key the translator would not read is ignored here too; what the
 * translator reads but this model does not run is flagged (VX_NM_*) and
 * listed in the report.
 *
 * The compiled profile is immutable after sx_verify_profile_parse() and read
 * by every replay thread.
 */
#include "verify/verify_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/util.h"
#include "yaml/ydoc.h"

#define PROFILE_MAX_BYTES (16u << 20)
#define NFQ_ID_INC	  10

/* Firewall aliases (protocols/ip.py, igmp.py, icmpv6.py, arp.py). */
struct alias {
	const char *name, *value;
};

static const struct alias ipv4_aliases[] = {
    {"local", "192.168.0.0/16"},      {"external", "!= 192.168.0.0/16"},
    {"gateway", "192.168.1.1"},	      {"phone", "192.168.1.222"},
    {"broadcast", "255.255.255.255"}, {"udp-broadcast", "192.168.1.255"},
    {"igmpv3", "224.0.0.22"},	      {"all", "224.0.0.2"},
    {"mdns", "224.0.0.251"},	      {"ssdp", "239.255.255.250"},
    {"coap", "224.0.1.187"},	      {NULL, NULL},
};

static const struct alias ipv6_aliases[] = {
    {"default", "::"},
    {"local", "fe80::/10, fc00::/7"},
    {"gateway", "fddd:ed18:f05b::1"},
    {"gateway-local", "fe80::c256:27ff:fe73:460b"},
    {"phone", "fe80::db22:fbec:a6b4:44fe"},
    {"multicast", "ff02::/16"},
    {"all-nodes", "ff02::1"},
    {"all-routers", "ff02::2"},
    {"all-mldv2-routers", "ff02::16"},
    {"mdns", "ff02::fb"},
    {"coap", "ff02::158"},
    {NULL, NULL},
};

static const struct alias arp_mac_aliases[] = {
    {"gateway", "c0:56:27:73:46:0b"},
    {"default", "00:00:00:00:00:00"},
    {"broadcast", "ff:ff:ff:ff:ff:ff"},
    {"phone", "3c:cd:5d:a2:a9:d7"},
    {NULL, NULL},
};

static const struct alias arp_ip_aliases[] = {
    {"local", "192.168.1.0/24"},
    {"gateway", "192.168.1.1"},
    {"phone", "192.168.1.222"},
    {NULL, NULL},
};

static const struct alias igmp_groups[] = {
    {"all", "224.0.0.2"},
    {"mdns", "224.0.0.251"},
    {"ssdp", "239.255.255.250"},
    {"coap", "224.0.1.187"},
    {NULL, NULL},
};

struct named {
	const char *name;
	int value;
};

/* nft's icmp type names. */
static const struct named icmp_types[] = {
    {"echo-reply", 0},		 {"destination-unreachable", 3},
    {"source-quench", 4},	 {"redirect", 5},
    {"echo-request", 8},	 {"router-advertisement", 9},
    {"router-solicitation", 10}, {"time-exceeded", 11},
    {"parameter-problem", 12},	 {"timestamp-request", 13},
    {"timestamp-reply", 14},	 {"info-request", 15},
    {"info-reply", 16},		 {"address-mask-request", 17},
    {"address-mask-reply", 18},	 {NULL, 0},
};

/* dns.h's dns_rr_type_t, by the names profiles use. */
static const struct named dns_types[] = {
    {"A", 1},	 {"NS", 2},    {"CNAME", 5}, {"SOA", 6},  {"PTR", 12},	 {"HINFO", 13}, {"MX", 15},
    {"TXT", 16}, {"AAAA", 28}, {"SRV", 33},  {"OPT", 41}, {"HTTPS", 65}, {"ANY", 255},	{NULL, 0},
};

/* http.h's methods (HTTP_GET...), also CoAP's. */
static const struct named http_methods[] = {
    {"GET", 1},	    {"HEAD", 2},    {"POST", 3},  {"PUT", 4},	{"DELETE", 5},
    {"CONNECT", 6}, {"OPTIONS", 7}, {"TRACE", 8}, {"PATCH", 9}, {NULL, 0},
};

static const struct named dhcp_types[] = {
    {"DISCOVER", 1}, {"OFFER", 2},   {"REQUEST", 3}, {"DECLINE", 4}, {"ACK", 5},
    {"NAK", 6},	     {"RELEASE", 7}, {"INFORM", 8},  {NULL, 0},
};

static const struct named igmp_types[] = {
    {"MEMBERSHIP_QUERY", 0x11}, {"V1_MEMBERSHIP_REPORT", 0x12}, {"V2_MEMBERSHIP_REPORT", 0x16},
    {"LEAVE_GROUP", 0x17},	{"V3_MEMBERSHIP_REPORT", 0x22}, {NULL, 0},
};

static const struct named coap_types[] = {
    {"COAP_CON", 0}, {"COAP_NON", 1}, {"COAP_ACK", 2}, {"COAP_RST", 3}, {NULL, 0},
};

static const struct named ssdp_methods[] = {
    {"SSDP_M_SEARCH", 0},
    {"SSDP_NOTIFY", 1},
    {NULL, 0},
};

/* Compilation context. */
struct cc {
	struct sx_verify_profile *p;
	char *msg;
	size_t msglen;
	int err;
	/* the policy being compiled */
	const char *inter_name;
	/* translator counters */
	int nfq_id_base;
	int nfq_id_offset;
	int policy_idx;
	int max_state;
};

static int fail(struct cc *c, int err, const char *fmt, ...) SX_PRINTF(3, 4);
static int fail(struct cc *c, int err, const char *fmt, ...)
{
	va_list ap;

	if (!c->err) {
		va_start(ap, fmt);
		vsnprintf(c->msg, c->msglen, fmt, ap);
		va_end(ap);
		c->err = err;
	}
	return c->err;
}

static int lookup_named(const struct named *t, const char *name, int *out)
{
	for (; t->name; t++) {
		if (strcmp(t->name, name) == 0) {
			*out = t->value;
			return 0;
		}
	}
	return -1;
}

static const char *lookup_alias(const struct alias *t, const char *name)
{
	for (; t->name; t++)
		if (strcmp(t->name, name) == 0)
			return t->value;
	return NULL;
}

/* ---- addresses ---- */

/* An IPv4 alias, with the LAN's gateway and phone when given. */
static const char *ipv4_alias(const struct sx_verify_profile *p, const struct alias *t,
			      const char *name)
{
	if (!strcmp(name, "gateway") && p->gateway[0])
		return p->gateway;
	if (!strcmp(name, "phone") && p->phone[0])
		return p->phone;
	return lookup_alias(t, name);
}

/* Python's ipaddress.ip_network(s) (strict): an address or a network with
 * no host bits set.  0 or -1. */
static int parse_net(const char *s, struct vx_net *n)
{
	char buf[64];
	const char *slash;
	size_t len;
	unsigned bits;

	memset(n, 0, sizeof(*n));
	while (*s == ' ')
		s++;
	if (strncmp(s, "!=", 2) == 0) {
		n->neg = true;
		s += 2;
		while (*s == ' ')
			s++;
	}
	slash = strchr(s, '/');
	len = slash ? (size_t)(slash - s) : strlen(s);
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, n->b) == 1) {
		n->family = 4;
		bits = 32;
	} else if (inet_pton(AF_INET6, buf, n->b) == 1) {
		n->family = 6;
		bits = 128;
	} else {
		return -1;
	}
	n->plen = (uint8_t)bits;
	if (slash) {
		uint64_t v;

		if (sx_parse_u64(slash + 1, 0, bits, &v))
			return -1;
		n->plen = (uint8_t)v;
		/* strict: no host bits */
		for (unsigned i = n->plen; i < bits; i++)
			if (n->b[i / 8] & (0x80 >> (i % 8)))
				return -1;
	}
	return 0;
}

bool sx_verify__net_has(const struct vx_net *n, const struct sx_addr *a)
{
	unsigned full, rest;
	bool in;

	if (!n->family || n->family != a->family)
		return n->neg && n->family && a->family;
	full = n->plen / 8;
	rest = n->plen % 8;
	in = memcmp(n->b, a->b, full) == 0;
	if (in && rest) {
		uint8_t m = (uint8_t)(0xff << (8 - rest));

		in = (n->b[full] & m) == (a->b[full] & m);
	}
	return n->neg ? !in : in;
}

int sx_verify__parse_mac(const char *s, uint8_t mac[6])
{
	return s && sx_mac_parse(s, mac) == 0 ? 0 : -1;
}

/* ---- YAML helpers ---- */

static bool yes(const struct sx_ytree *t)
{
	const char *s = sx_ytree_str(t);

	/* YAML 1.1 booleans as PyYAML reads them */
	return s && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE") ||
		     !strcmp(s, "yes") || !strcmp(s, "Yes") || !strcmp(s, "YES") ||
		     !strcmp(s, "on") || !strcmp(s, "On") || !strcmp(s, "ON"));
}

/* The scalars of a value: one for a scalar, the items of a sequence. */
static size_t values(const struct sx_ytree *t, const char **out, size_t max)
{
	size_t n = 0;

	if (!t)
		return 0;
	if (t->kind == SX_YTREE_SCALAR) {
		out[0] = t->text;
		return 1;
	}
	if (t->kind != SX_YTREE_SEQ)
		return 0;
	for (size_t i = 0; i < t->n && n < max; i++)
		if (t->kids[i]->kind == SX_YTREE_SCALAR)
			out[n++] = t->kids[i]->text;
	return n;
}

#define MAX_VALUES 64

/* ---- building matches ---- */

static struct vx_match *add_match(struct cc *c, struct vx_match **arr, size_t *n, uint8_t kind,
				  size_t nalts)
{
	struct vx_match *a = sx_realloc_array(*arr, *n + 1, sizeof(**arr));
	struct vx_match *m;

	if (!a) {
		fail(c, -ENOMEM, "out of memory");
		return NULL;
	}
	*arr = a;
	m = &a[(*n)++];
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->alts = sx_calloc_array(nalts ? nalts : 1, sizeof(*m->alts));
	if (!m->alts) {
		(*n)--;
		fail(c, -ENOMEM, "out of memory");
		return NULL;
	}
	m->n = nalts;
	return m;
}

static char *xstrdup(struct cc *c, const char *s)
{
	char *d = strdup(s);

	if (!d)
		fail(c, -ENOMEM, "out of memory");
	return d;
}

/* The nft text of a value or list: "v" or "{ a, b }". */
static void fmt_values(char *buf, size_t sz, const char *const *v, size_t n)
{
	size_t off = 0;

	buf[0] = '\0';
	if (n == 1) {
		snprintf(buf, sz, "%s", v[0]);
		return;
	}
	off += (size_t)snprintf(buf + off, sz - off, "{ ");
	for (size_t i = 0; i < n && off < sz; i++)
		off += (size_t)snprintf(buf + off, sz - off, "%s%s", i ? ", " : "", v[i]);
	if (off < sz)
		snprintf(buf + off, sz - off, " }");
}

static int set_text(struct cc *c, struct vx_match *m, const char *fmt, ...) SX_PRINTF(3, 4);
static int set_text(struct cc *c, struct vx_match *m, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	m->text = xstrdup(c, buf);
	return c->err;
}

/* ---- protocols ---- */

struct pctx {
	struct cc *c;
	struct vx_policy *pol;
	const struct sx_ytree *data; /* the protocol's map */
	const char *initiator;	     /* "", "src" or "dst" */
};

/* Transport.parse(): meta l4proto, ports (tcp, udp). */
static int proto_transport(struct pctx *x, const char *name)
{
	static const char *keys[2] = {"src-port", "dst-port"};
	struct vx_policy *pol = x->pol;
	bool ct = x->initiator[0] != '\0';
	bool swap = pol->backward;
	struct vx_match *m;

	m = add_match(x->c, &pol->nft, &pol->nnft, VX_N_L4PROTO, 1);
	if (!m)
		return x->c->err;
	m->alts[0].num = strcmp(name, "tcp") == 0 ? 6 : 17;
	set_text(x->c, m, "meta l4proto %s", name);
	if (ct) {
		if (strcmp(x->initiator, "src") && strcmp(x->initiator, "dst"))
			return 0; /* neither: the translator adds no port */
		swap = pol->backward != (strcmp(x->initiator, "dst") == 0);
	}
	for (int k = 0; k < 2; k++) {
		const char *v[MAX_VALUES];
		size_t n = values(sx_ytree_get(x->data, keys[k]), v, MAX_VALUES);
		bool is_src = (k == 0) != swap;
		char list[512];

		if (!n)
			continue;
		m = add_match(x->c, &pol->nft, &pol->nnft, is_src ? VX_N_SPORT : VX_N_DPORT, n);
		if (!m)
			return x->c->err;
		m->ct_orig = ct;
		for (size_t i = 0; i < n; i++) {
			uint64_t a, b;
			const char *dash = strchr(v[i], '-');

			if (dash) {
				char lo[16];
				size_t l = (size_t)(dash - v[i]);

				if (l >= sizeof(lo))
					return fail(x->c, SX_E_FORMAT, "bad port %s", v[i]);
				memcpy(lo, v[i], l);
				lo[l] = '\0';
				if (sx_parse_u64(lo, 0, 65535, &a) ||
				    sx_parse_u64(dash + 1, 0, 65535, &b))
					return fail(x->c, SX_E_FORMAT, "bad port %s", v[i]);
			} else if (sx_parse_u64(v[i], 0, 65535, &a)) {
				return fail(x->c, SX_E_FORMAT, "bad port %s", v[i]);
			} else {
				b = a;
			}
			m->alts[i].num = (int64_t)a;
			m->alts[i].num2 = (int64_t)b;
		}
		fmt_values(list, sizeof(list), v, n);
		if (ct)
			set_text(x->c, m, "ct original proto-%s %s", is_src ? "src" : "dst", list);
		else
			set_text(x->c, m, "%s %s %s", name, is_src ? "sport" : "dport", list);
	}
	return x->c->err;
}

/* ip.is_ip(): "self", an alias, or an address/network. */
static bool is_ip(const char *s, int family)
{
	struct vx_net n;

	if (strcmp(s, "self") == 0)
		return true;
	if (lookup_alias(family == 6 ? ipv6_aliases : ipv4_aliases, s))
		return true;
	return parse_net(s, &n) == 0;
}

/* ip.explicit_address() of one value, as nets (an alias may be a list). */
static int explicit_nets(struct cc *c, const char *s, int family, struct vx_net *out, size_t *nout,
			 size_t max, char *text, size_t textsz)
{
	struct sx_verify_profile *p = c->p;
	const char *v;
	char buf[128];

	*nout = 0;
	if (strcmp(s, "self") == 0) {
		if (family == 6 ? !p->has_ipv6 : !p->has_ipv4)
			return fail(c, SX_E_FORMAT, "self: device-info has no %s",
				    family == 6 ? "ipv6" : "ipv4");
		out[(*nout)++] = family == 6 ? p->ipv6 : p->ipv4;
		inet_ntop(family == 6 ? AF_INET6 : AF_INET, out[0].b, text, (socklen_t)textsz);
		return 0;
	}
	v = family == 6 ? lookup_alias(ipv6_aliases, s) : ipv4_alias(p, ipv4_aliases, s);
	if (!v)
		v = s;
	/* an alias may stand for a list (ipv6 "local": two networks) */
	snprintf(text, textsz, strchr(v, ',') ? "{ %s }" : "%s", v);
	while (*v && *nout < max) {
		const char *comma = strchr(v, ',');
		size_t l = comma ? (size_t)(comma - v) : strlen(v);

		snprintf(buf, sizeof(buf), "%.*s", (int)l, v);
		if (parse_net(buf, &out[*nout]) == 0)
			(*nout)++;
		v += l + (comma ? 1 : 0);
	}
	return 0;
}

/* ip.add_addr(): an IP end, in nft when every value is an address, else in
 * the queue (add_addr_nfqueue()). */
static int proto_ip_end(struct pctx *x, int family, int dir)
{
	struct cc *c = x->c;
	struct vx_policy *pol = x->pol;
	const char *v[MAX_VALUES];
	size_t n = values(sx_ytree_get(x->data, dir ? "dst" : "src"), v, MAX_VALUES);
	bool all_ip = true;
	bool ct = x->initiator[0] != '\0';
	bool swap = pol->backward;
	struct vx_match *m;

	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		all_ip = all_ip && is_ip(v[i], family);
	if (ct) {
		if (strcmp(x->initiator, "src") && strcmp(x->initiator, "dst"))
			return fail(c, SX_E_FORMAT, "initiator must be src or dst");
		swap = pol->backward != (strcmp(x->initiator, "dst") == 0);
	}
	if (all_ip) {
		struct vx_net nets[MAX_VALUES];
		size_t nn = 0;
		char texts[MAX_VALUES][96];
		const char *tp[MAX_VALUES];
		char list[2048];
		bool is_src = (dir == 0) != swap;

		for (size_t i = 0; i < n; i++) {
			size_t got = 0;

			if (explicit_nets(c, v[i], family, nets + nn, &got, MAX_VALUES - nn,
					  texts[i], sizeof(texts[i])))
				return c->err;
			nn += got;
			tp[i] = texts[i];
		}
		m = add_match(c, &pol->nft, &pol->nnft, is_src ? VX_N_SADDR : VX_N_DADDR, nn);
		if (!m)
			return c->err;
		m->family = (uint8_t)family;
		m->ct_orig = ct;
		for (size_t i = 0; i < nn; i++)
			m->alts[i].net = nets[i];
		fmt_values(list, sizeof(list), tp, n);
		set_text(c, m, "%s%s %s %s", ct ? "ct original " : "", family == 6 ? "ip6" : "ip",
			 is_src ? "saddr" : "daddr", list);
		return c->err;
	}
	/* NFQueue: names (DNS table or the interaction's cached address) and
	 * addresses compared exactly (compare_ip()); the backward policy
	 * checks the other end */
	m = add_match(c, &pol->nfq, &pol->nnfq, VX_Q_ADDR, n);
	if (!m)
		return c->err;
	m->family = (uint8_t)family;
	m->dir = (uint8_t)(pol->backward ? !dir : dir);
	for (size_t i = 0; i < n; i++) {
		struct vx_alt *a = &m->alts[i];

		if (is_ip(v[i], family)) {
			struct vx_net nets[4];
			size_t got = 0;
			char t[96];

			if (explicit_nets(c, v[i], family, nets, &got, 4, t, sizeof(t)))
				return c->err;
			/* ip_str_to_net() of a network or list gives no address */
			if (got == 1 && nets[0].plen == (family == 6 ? 128 : 32) && !nets[0].neg)
				a->net = nets[0];
		} else {
			a->is_name = true;
			a->str = xstrdup(c, v[i]);
		}
	}
	return c->err;
}

static int proto_ip(struct pctx *x, int family)
{
	if (proto_ip_end(x, family, 0))
		return x->c->err;
	return proto_ip_end(x, family, 1);
}

/* icmp.parse() / icmpv6.parse() / igmp's l4proto. */
static int proto_l4num(struct pctx *x, int num)
{
	struct vx_match *m = add_match(x->c, &x->pol->nft, &x->pol->nnft, VX_N_L4PROTO, 1);

	if (!m)
		return x->c->err;
	m->alts[0].num = num;
	return set_text(x->c, m, "meta l4proto %d", num);
}

static const char *icmp_flip(const char *t, char *buf, size_t sz)
{
	const char *r = strstr(t, "request");
	const char *p = strstr(t, "reply");

	if (r)
		snprintf(buf, sz, "%.*sreply%s", (int)(r - t), t, r + 7);
	else if (p)
		snprintf(buf, sz, "%.*srequest%s", (int)(p - t), t, p + 5);
	else
		snprintf(buf, sz, "%s", t);
	return buf;
}

static int proto_icmp(struct pctx *x)
{
	const char *v[MAX_VALUES];
	size_t n;
	struct vx_match *m;
	char flipped[MAX_VALUES][48];
	const char *tp[MAX_VALUES];
	char list[1024];

	if (proto_l4num(x, 1))
		return x->c->err;
	n = values(sx_ytree_get(x->data, "type"), v, MAX_VALUES);
	if (!n)
		return 0;
	m = add_match(x->c, &x->pol->nft, &x->pol->nnft, VX_N_ICMP_TYPE, n);
	if (!m)
		return x->c->err;
	for (size_t i = 0; i < n; i++) {
		/* backward_func flips request/reply (applied to the list's
		 * text by the translator: same effect per item) */
		tp[i] = x->pol->backward ? icmp_flip(v[i], flipped[i], sizeof(flipped[i])) : v[i];
		int t;

		if (lookup_named(icmp_types, tp[i], &t)) {
			uint64_t num;

			if (sx_parse_u64(tp[i], 0, 255, &num))
				return fail(x->c, SX_E_FORMAT, "unknown icmp type %s", tp[i]);
			t = (int)num;
		}
		m->alts[i].num = t;
	}
	fmt_values(list, sizeof(list), tp, n);
	return set_text(x->c, m, "icmp type %s", list);
}

/* arp.parse(). */
static int proto_arp(struct pctx *x)
{
	static const struct {
		const char *key;
		uint8_t fwd, bwd;
		bool mac;
		const char *tf, *tb;
	} f[] = {
	    {"sha", VX_N_ARP_SHA, VX_N_ARP_THA, true, "arp saddr ether", "arp daddr ether"},
	    {"tha", VX_N_ARP_THA, VX_N_ARP_SHA, true, "arp daddr ether", "arp saddr ether"},
	    {"spa", VX_N_ARP_SPA, VX_N_ARP_TPA, false, "arp saddr ip", "arp daddr ip"},
	    {"tpa", VX_N_ARP_TPA, VX_N_ARP_SPA, false, "arp daddr ip", "arp saddr ip"},
	};
	struct cc *c = x->c;
	struct vx_policy *pol = x->pol;
	const char *v[MAX_VALUES];
	size_t n;
	struct vx_match *m;

	n = values(sx_ytree_get(x->data, "type"), v, MAX_VALUES);
	if (n) {
		const char *t = v[0];

		if (pol->backward)
			t = !strcmp(t, "request") ? "reply" : !strcmp(t, "reply") ? "request" : t;
		m = add_match(c, &pol->nft, &pol->nnft, VX_N_ARP_OP, 1);
		if (!m)
			return c->err;
		m->alts[0].num = !strcmp(t, "request") ? 1 : !strcmp(t, "reply") ? 2 : atoi(t);
		set_text(c, m, "arp operation %s", t);
	}
	for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
		char texts[MAX_VALUES][64];
		const char *tp[MAX_VALUES];
		char list[2048];

		n = values(sx_ytree_get(x->data, f[k].key), v, MAX_VALUES);
		if (!n)
			continue;
		m = add_match(c, &pol->nft, &pol->nnft, pol->backward ? f[k].bwd : f[k].fwd, n);
		if (!m)
			return c->err;
		for (size_t i = 0; i < n; i++) {
			char self[INET_ADDRSTRLEN];
			const char *e;

			if (f[k].mac) {
				e = !strcmp(v[i], "self") ? c->p->mac_text
							  : lookup_alias(arp_mac_aliases, v[i]);
				if (!e)
					e = v[i];
				if (sx_verify__parse_mac(e, m->alts[i].mac))
					return fail(c, SX_E_FORMAT, "arp %s: bad MAC %s", f[k].key,
						    e);
			} else {
				if (!strcmp(v[i], "self"))
					e = inet_ntop(AF_INET, c->p->ipv4.b, self, sizeof(self));
				else
					e = ipv4_alias(c->p, arp_ip_aliases, v[i]);
				if (!e)
					e = v[i];
				if (parse_net(e, &m->alts[i].net))
					return fail(c, SX_E_FORMAT, "arp %s: bad address %s",
						    f[k].key, e);
			}
			snprintf(texts[i], sizeof(texts[i]), "%s", e);
			tp[i] = texts[i];
		}
		fmt_values(list, sizeof(list), tp, n);
		set_text(c, m, "%s %s", pol->backward ? f[k].tb : f[k].tf, list);
	}
	return c->err;
}

static void upper_sep(char *dst, size_t sz, const char *prefix, const char *s)
{
	size_t off = (size_t)snprintf(dst, sz, "%s", prefix);

	for (; *s && off + 1 < sz; s++)
		dst[off++] = (*s == ' ' || *s == '-') ? '_' : (char)toupper((unsigned char)*s);
	dst[off < sz ? off : sz - 1] = '\0';
}

/* Custom.add_field(): an NFQueue match on one key, forward policies only
 * unless the protocol gives a backward template (backward_ok). */
static struct vx_match *nfq_field(struct pctx *x, const char *key, uint8_t kind, bool backward_ok,
				  const char **v, size_t *n)
{
	*n = values(sx_ytree_get(x->data, key), v, MAX_VALUES);
	if (!*n || (x->pol->backward && !backward_ok))
		return NULL;
	return add_match(x->c, &x->pol->nfq, &x->pol->nnfq, kind, *n);
}

static int named_alts(struct pctx *x, struct vx_match *m, const char **v, size_t n,
		      const struct named *table, const char *prefix, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		char name[64];
		int val;

		upper_sep(name, sizeof(name), prefix, v[i]);
		if (lookup_named(table, name, &val))
			return fail(x->c, SX_E_FORMAT, "%s: unknown %s %s", x->pol->name, what,
				    v[i]);
		m->alts[i].num = val;
	}
	return 0;
}

/* dns.parse() (also mdns). */
static int proto_dns(struct pctx *x)
{
	struct cc *c = x->c;
	struct vx_policy *pol = x->pol;
	bool response = yes(sx_ytree_get(x->data, "response"));
	const char *v[MAX_VALUES];
	size_t n;
	struct vx_match *m;

	m = add_match(c, &pol->nfq, &pol->nnfq, VX_Q_DNS_QR, 1);
	if (!m)
		return c->err;
	m->alts[0].num = response != pol->backward;
	pol->dns_response_learns = m->alts[0].num == 1;
	m = nfq_field(x, "qtype", VX_Q_DNS_QTYPE, true, v, &n);
	if (m) {
		for (size_t i = 0; i < n; i++) {
			char up[32];
			int t;

			upper_sep(up, sizeof(up), "", v[i]);
			if (lookup_named(dns_types, up, &t))
				return fail(c, SX_E_FORMAT, "%s: unknown DNS type %s", pol->name,
					    v[i]);
			m->alts[i].num = t;
		}
	}
	if (c->err)
		return c->err;
	m = nfq_field(x, "domain-name", VX_Q_DNS_NAME, true, v, &n);
	if (m) {
		for (size_t i = 0; i < n; i++) {
			m->alts[i].suffix = v[i][0] == '$';
			m->alts[i].str = xstrdup(c, v[i] + (m->alts[i].suffix ? 1 : 0));
		}
	}
	return c->err;
}

/* http.parse(). */
static int proto_http(struct pctx *x)
{
	struct cc *c = x->c;
	bool response = yes(sx_ytree_get(x->data, "response"));
	const char *v[MAX_VALUES];
	size_t n;
	struct vx_match *m;

	m = add_match(c, &x->pol->nfq, &x->pol->nnfq, VX_Q_HTTP_REQ, 1);
	if (!m)
		return c->err;
	m->alts[0].num = response == x->pol->backward;
	m = nfq_field(x, "method", VX_Q_HTTP_METHOD, false, v, &n);
	if (m && named_alts(x, m, v, n, http_methods, "", "HTTP method"))
		return c->err;
	m = nfq_field(x, "uri", VX_Q_HTTP_URI, false, v, &n);
	if (m) {
		for (size_t i = 0; i < n; i++) {
			size_t len = strlen(v[i]);

			/* strncmp(uri, "U", len - 1) for "U*" / "U$", len + 1
			 * (the NUL: exact) otherwise */
			m->alts[i].suffix = len && (v[i][len - 1] == '*' || v[i][len - 1] == '$');
			m->alts[i].str = xstrdup(c, v[i]);
			if (m->alts[i].str && m->alts[i].suffix)
				m->alts[i].str[len - 1] = '\0';
		}
	}
	return c->err;
}

/* dhcp.parse(). */
static int proto_dhcp(struct pctx *x)
{
	struct cc *c = x->c;
	const char *v[MAX_VALUES];
	size_t n;
	struct vx_match *m;

	m = nfq_field(x, "type", VX_Q_DHCP_TYPE, false, v, &n);
	if (m && named_alts(x, m, v, n, dhcp_types, "", "DHCP type"))
		return c->err;
	m = nfq_field(x, "client-mac", VX_Q_DHCP_MAC, false, v, &n);
	if (m) {
		for (size_t i = 0; i < n; i++) {
			/* strcmp() with mac_hex_to_str(): lower-case text */
			const char *mac = strcmp(v[i], "self") ? v[i] : c->p->mac_text;

			m->alts[i].str = xstrdup(c, mac);
		}
	}
	return c->err;
}

/* igmp.parse(). */
static int proto_igmp(struct pctx *x)
{
	struct cc *c = x->c;
	const char *v[MAX_VALUES];
	const char *ver = sx_ytree_str(sx_ytree_get(x->data, "version"));
	int version = ver ? atoi(ver) : 2;
	size_t n;
	struct vx_match *m;

	if (proto_l4num(x, 2))
		return c->err;
	m = nfq_field(x, "type", VX_Q_IGMP_TYPE, false, v, &n);
	if (m) {
		for (size_t i = 0; i < n; i++) {
			char prefix[8];

			/* "V{version}_" only when the profile's type says report
			 * (the translator looks at the whole value) */
			snprintf(prefix, sizeof(prefix), "V%d_", version);
			if (named_alts(x, &(struct vx_match){.alts = &m->alts[i]}, &v[i], 1,
				       igmp_types, strstr(v[0], "report") ? prefix : "",
				       "IGMP type"))
				return c->err;
		}
	}
	m = nfq_field(x, "group", VX_Q_IGMP_GROUP, false, v, &n);
	if (m) {
		for (size_t i = 0; i < n; i++) {
			const char *g = lookup_alias(igmp_groups, v[i]);

			if (parse_net(g ? g : v[i], &m->alts[i].net))
				return fail(c, SX_E_FORMAT, "%s: bad IGMP group %s", x->pol->name,
					    v[i]);
		}
	}
	return c->err;
}

/* ssdp.parse(). */
static int proto_ssdp(struct pctx *x)
{
	struct cc *c = x->c;
	bool response = yes(sx_ytree_get(x->data, "response"));
	const char *v[MAX_VALUES];
	size_t n;
	struct vx_match *m;

	m = add_match(c, &x->pol->nfq, &x->pol->nnfq, VX_Q_SSDP_REQ, 1);
	if (!m)
		return c->err;
	m->alts[0].num = response == x->pol->backward;
	m = nfq_field(x, "method", VX_Q_SSDP_METHOD, false, v, &n);
	if (m && named_alts(x, m, v, n, ssdp_methods, "SSDP_", "SSDP method"))
		return c->err;
	return c->err;
}

/* coap.parse(). */
static int proto_coap(struct pctx *x)
{
	struct cc *c = x->c;
	const char *v[MAX_VALUES];
	size_t n;
	struct vx_match *m;

	m = nfq_field(x, "type", VX_Q_COAP_TYPE, false, v, &n);
	if (m && named_alts(x, m, v, n, coap_types, "COAP_", "CoAP type"))
		return c->err;
	m = nfq_field(x, "method", VX_Q_COAP_METHOD, false, v, &n);
	if (m && named_alts(x, m, v, n, http_methods, "", "CoAP method"))
		return c->err;
	m = nfq_field(x, "uri", VX_Q_COAP_URI, false, v, &n);
	if (m)
		for (size_t i = 0; i < n; i++)
			m->alts[i].str = xstrdup(c, v[i]);
	return c->err;
}

/* Policy.parse(): every protocol the translator knows, in document order. */
static int parse_protocols(struct cc *c, struct vx_policy *pol, const struct sx_ytree *pdata)
{
	const struct sx_ytree *protos = sx_ytree_get(pdata, "protocols");
	const char *init = sx_ytree_str(sx_ytree_get(pdata, "initiator"));
	bool involves_self = false, has_ends = false;

	if (!protos || protos->kind != SX_YTREE_MAP)
		return fail(c, SX_E_FORMAT, "%s: no protocols", pol->name);
	for (size_t i = 0; i + 1 < protos->n && !c->err; i += 2) {
		const char *name = protos->kids[i]->text;
		struct pctx x = {c, pol, protos->kids[i + 1], init ? init : ""};

		if (!strcmp(name, "ipv4") || !strcmp(name, "ipv6") || !strcmp(name, "arp")) {
			bool arp = name[0] == 'a';
			const char *s = sx_ytree_str(sx_ytree_get(x.data, arp ? "spa" : "src"));
			const char *d = sx_ytree_str(sx_ytree_get(x.data, arp ? "tpa" : "dst"));

			has_ends = true;
			if ((s && !strcmp(s, "self")) || (d && !strcmp(d, "self")))
				involves_self = true;
		}
		if (!strcmp(name, "tcp") || !strcmp(name, "udp"))
			proto_transport(&x, name);
		else if (!strcmp(name, "ipv4"))
			proto_ip(&x, 4);
		else if (!strcmp(name, "ipv6"))
			proto_ip(&x, 6);
		else if (!strcmp(name, "icmp"))
			proto_icmp(&x);
		else if (!strcmp(name, "icmpv6"))
			proto_l4num(&x, 58);
		else if (!strcmp(name, "arp"))
			proto_arp(&x);
		else if (!strcmp(name, "dns") || !strcmp(name, "mdns"))
			pol->parser = VX_P_DNS, proto_dns(&x);
		else if (!strcmp(name, "http"))
			pol->parser = VX_P_HTTP, proto_http(&x);
		else if (!strcmp(name, "dhcp"))
			pol->parser = VX_P_DHCP, proto_dhcp(&x);
		else if (!strcmp(name, "igmp"))
			pol->parser = VX_P_IGMP, proto_igmp(&x);
		else if (!strcmp(name, "ssdp"))
			pol->parser = VX_P_SSDP, proto_ssdp(&x);
		else if (!strcmp(name, "coap"))
			pol->parser = VX_P_COAP, proto_coap(&x);
		else if (!strcmp(name, "tls") || !strcmp(name, "mqtt"))
			pol->parser = VX_P_OTHER, c->p->not_modelled |= VX_NM_TLS;
		/* anything else: ModuleNotFoundError in the translator, skipped */
	}
	if (has_ends && !involves_self)
		c->p->not_modelled |= VX_NM_OTHER;
	return c->err;
}

/* Policy.parse_duration(): "<value> [unit]" -> microseconds. */
static int parse_duration(const char *s, int64_t *us)
{
	char unit[16] = "s";
	double v;
	int n = sscanf(s, "%lf %15s", &v, unit);

	if (n < 1)
		return -1;
	if (!strcmp(unit, "s") || !strcmp(unit, "sec") || !strcmp(unit, "secs") ||
	    !strcmp(unit, "second") || !strcmp(unit, "seconds"))
		v *= 1e6;
	else if (!strcmp(unit, "ms") || !strcmp(unit, "msec") || !strcmp(unit, "msecs") ||
		 !strcmp(unit, "millisecond") || !strcmp(unit, "milliseconds"))
		v *= 1e3;
	else if (strcmp(unit, "us") && strcmp(unit, "usec") && strcmp(unit, "usecs") &&
		 strcmp(unit, "microsecond") && strcmp(unit, "microseconds"))
		return -1;
	*us = (int64_t)ceil(v);
	return 0;
}

/* Policy.parse_stat() for the counters: the value for this direction, and
 * whether the counter is this policy's own (is_base_for_counter) or the
 * forward policy's (is_backward_for_counter). */
static int parse_counter(struct cc *c, struct vx_policy *pol, const struct sx_ytree *v, bool dur,
			 bool *has, int64_t *need, bool *base)
{
	const struct sx_ytree *d;
	const char *s;

	if (!v)
		return 0;
	if (v->kind == SX_YTREE_MAP) {
		d = sx_ytree_get(v, pol->backward ? "bwd" : "fwd");
		s = sx_ytree_str(d);
		*base = s != NULL; /* the direction's own counter */
	} else {
		s = sx_ytree_str(v);
		*base = !pol->backward;
	}
	if (!s)
		return 0;
	*has = true;
	if (dur) {
		if (parse_duration(s, need))
			return fail(c, SX_E_FORMAT, "%s: bad duration %s", pol->name, s);
	} else {
		uint64_t n;

		if (sx_parse_u64(s, 0, INT64_MAX, &n))
			return fail(c, SX_E_FORMAT, "%s: bad packet-count %s", pol->name, s);
		*need = (int64_t)n;
	}
	return 0;
}

/* The queue key: the policy's nft match texts, sorted. */
static int make_key(struct cc *c, struct vx_policy *pol)
{
	const char *t[64];
	size_t n = pol->nnft < 64 ? pol->nnft : 64, len = 1;

	for (size_t i = 0; i < n; i++) {
		t[i] = pol->nft[i].text ? pol->nft[i].text : "";
		len += strlen(t[i]) + 1;
	}
	qsort(t, n, sizeof(t[0]), sx_str_qcmp);
	pol->key = malloc(len);
	if (!pol->key)
		return fail(c, -ENOMEM, "out of memory");
	pol->key[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		strcat(pol->key, t[i]);
		strcat(pol->key, "\n");
	}
	return 0;
}

static int queue_sort_key(const struct vx_policy *p)
{
	return p->queue_num >= 0 ? p->queue_num : 1 << 30;
}

/* NFQueue.add_policy()'s sort: stable, by queue number, accept ones last. */
static void sort_queue(struct sx_verify_profile *p, struct vx_queue *q)
{
	for (size_t i = 1; i < q->npols; i++) {
		size_t v = q->pols[i], j = i;

		while (j > 0 &&
		       queue_sort_key(&p->pol[q->pols[j - 1]]) > queue_sort_key(&p->pol[v])) {
			q->pols[j] = q->pols[j - 1];
			j--;
		}
		q->pols[j] = v;
	}
}

/*
 * parse_policy() of translator.py: compile one policy, give it its state,
 * its queue number and its queue.  Returns 0 and sets *new_nfq.
 */
static int parse_policy(struct cc *c, const char *pname, const struct sx_ytree *pdata,
			bool backward, bool is_interaction, int policies_count, double timeout,
			bool *new_nfq)
{
	struct sx_verify_profile *p = c->p;
	struct vx_policy *pol, *arr;
	const struct sx_ytree *stats = sx_ytree_get(pdata, "stats");
	bool bidir = yes(sx_ytree_get(pdata, "bidirectional"));
	bool is_first, is_last, is_new_state, not_nfq;
	char name[512];
	int nfq_id;
	size_t qi;

	*new_nfq = false;
	arr = sx_realloc_array(p->pol, p->npol + 1, sizeof(*p->pol));
	if (!arr)
		return fail(c, -ENOMEM, "out of memory");
	p->pol = arr;
	pol = &p->pol[p->npol++];
	memset(pol, 0, sizeof(*pol));
	pol->pc_idx = pol->dur_idx = -1;
	snprintf(name, sizeof(name), "%s#%s", c->inter_name, pname);
	pol->name = xstrdup(c, name);
	pol->inter = (unsigned)(p->ninters - 1); /* the interaction begun */
	pol->backward = backward;
	pol->timeout = timeout;
	if (c->err)
		return c->err;

	/* is_transient(), is_periodic() */
	if (stats && stats->kind == SX_YTREE_MAP) {
		bool pc = sx_ytree_get(stats, "packet-count") != NULL;
		bool du = sx_ytree_get(stats, "duration") != NULL;
		const struct sx_ytree *rate = sx_ytree_get(stats, "rate");
		bool no_limit = rate && rate->kind == SX_YTREE_SCALAR &&
				rate->style == SX_YSTYLE_PLAIN && !strcmp(rate->text, "0");

		pol->transient = pc || du;
		pol->periodic = rate && !pc && !du;
		/* a plain 0, PyYAML's int 0: periodic without a limit
		 * (NFQueue.py writes no `limit rate` for it) */
		if (rate && !no_limit)
			p->not_modelled |= VX_NM_RATE;
		if (sx_ytree_get(stats, "packet-size"))
			p->not_modelled |= VX_NM_SIZE;
	}
	pol->one_off = !pol->transient && !pol->periodic;
	if (sx_ytree_get(pdata, "activity-period"))
		p->not_modelled |= VX_NM_ACTIVITY;

	if (policies_count == 1)
		is_interaction = false;
	c->policy_idx++;
	pol->idx = (unsigned)c->policy_idx;
	if (parse_protocols(c, pol, pdata))
		return c->err;
	if (stats && stats->kind == SX_YTREE_MAP) {
		if (parse_counter(c, pol, sx_ytree_get(stats, "packet-count"), false, &pol->has_pc,
				  &pol->pc_need, &pol->pc_base) ||
		    parse_counter(c, pol, sx_ytree_get(stats, "duration"), true, &pol->has_dur,
				  &pol->dur_need_us, &pol->dur_base))
			return c->err;
	}
	/* counters_idx: own counter, or the forward policy's (idx - 1) */
	if (pol->has_pc)
		pol->pc_idx = pol->pc_base ? (int)pol->idx : (int)pol->idx - 1;
	if (pol->has_dur)
		pol->dur_idx = pol->dur_base ? (int)pol->idx : (int)pol->idx - 1;

	/* states */
	is_first = is_interaction && c->policy_idx == 0;
	is_last = is_interaction && c->policy_idx == policies_count - 1;
	is_new_state = (!pol->periodic || is_first) && !(pol->transient && pol->backward);
	if (is_new_state || (pol->periodic && is_last)) {
		c->max_state++;
		if (pol->transient)
			c->max_state++;
	}

	/* queue number */
	not_nfq = pol->nnfq == 0 && !is_interaction && (pol->periodic || (pol->one_off && !bidir));
	nfq_id = not_nfq ? -1 : c->nfq_id_base + c->nfq_id_offset;
	pol->queue_num = nfq_id;
	if (make_key(c, pol))
		return c->err;
	for (qi = 0; qi < p->nqueues; qi++)
		if (!strcmp(p->queues[qi].key, pol->key))
			break;
	if (qi == p->nqueues) {
		struct vx_queue *qa = sx_realloc_array(p->queues, p->nqueues + 1, sizeof(*qa));

		if (!qa)
			return fail(c, -ENOMEM, "out of memory");
		p->queues = qa;
		memset(&qa[qi], 0, sizeof(qa[qi]));
		qa[qi].key = xstrdup(c, pol->key);
		qa[qi].queue_num = nfq_id;
		qa[qi].first_pol = p->npol - 1;
		p->nqueues++;
		c->nfq_id_offset++;
		*new_nfq = nfq_id != -1;
	}
	pol->state = c->max_state;
	{
		struct vx_queue *q = &p->queues[qi];
		size_t *pa = sx_realloc_array(q->pols, q->npols + 1, sizeof(*pa));

		if (!pa)
			return fail(c, -ENOMEM, "out of memory");
		q->pols = pa;
		q->pols[q->npols++] = p->npol - 1;
		if (q->queue_num < 0 && pol->queue_num >= 0) {
			q->queue_num = pol->queue_num;
			c->nfq_id_offset++;
		}
		sort_queue(p, q);
	}
	return c->err;
}

static int begin_inter(struct cc *c, const char *name)
{
	struct sx_verify_profile *p = c->p;
	struct vx_inter *a = sx_realloc_array(p->inters, p->ninters + 1, sizeof(*a));

	if (!a)
		return fail(c, -ENOMEM, "out of memory");
	p->inters = a;
	memset(&a[p->ninters], 0, sizeof(*a));
	a[p->ninters].name = xstrdup(c, name);
	a[p->ninters].first = p->npol;
	/* counted from here, so that a policy failing inside it frees its name */
	p->ninters++;
	c->inter_name = name;
	c->policy_idx = -1;
	c->max_state = -1;
	c->nfq_id_offset = 0;
	return c->err;
}

static void end_inter(struct cc *c)
{
	struct sx_verify_profile *p = c->p;
	struct vx_inter *in = &p->inters[p->ninters - 1];

	in->n = p->npol - in->first;
	in->max_state = c->max_state;
}

/* flatten_policies(): nested maps down to the maps holding "protocols". */
struct flat {
	const char *name;
	const struct sx_ytree *data;
	bool backward;
};

static int flatten(struct cc *c, const char *name, const struct sx_ytree *t, struct flat **out,
		   size_t *n, unsigned depth)
{
	if (!t || t->kind != SX_YTREE_MAP || depth > 16)
		return 0;
	if (sx_ytree_get(t, "protocols")) {
		struct flat *a = sx_realloc_array(*out, *n + 2, sizeof(*a));

		if (!a)
			return fail(c, -ENOMEM, "out of memory");
		*out = a;
		a[(*n)++] = (struct flat){name, t, false};
		if (yes(sx_ytree_get(t, "bidirectional")))
			a[(*n)++] = (struct flat){name, t, true};
		return 0;
	}
	for (size_t i = 0; i + 1 < t->n; i += 2)
		if (flatten(c, t->kids[i]->text, t->kids[i + 1], out, n, depth + 1))
			return c->err;
	return 0;
}

static int compile(struct cc *c, const struct sx_ytree *root, const struct sx_verify_ids *ids)
{
	struct sx_verify_profile *p = c->p;
	const struct sx_ytree *dev = sx_ytree_get(root, "device-info");
	const struct sx_ytree *singles = sx_ytree_get(root, "single-policies");
	const struct sx_ytree *inters = sx_ytree_get(root, "interactions");
	const char *name = sx_ytree_str(sx_ytree_get(dev, "name"));
	const char *mac = sx_ytree_str(sx_ytree_get(dev, "mac"));
	const char *v4 = sx_ytree_str(sx_ytree_get(dev, "ipv4"));
	const char *v6 = sx_ytree_str(sx_ytree_get(dev, "ipv6"));
	bool new_nfq;

	if (!dev || dev->kind != SX_YTREE_MAP)
		return fail(c, SX_E_FORMAT, "no device-info");
	if (ids && ids->mac && *ids->mac)
		mac = ids->mac;
	if (ids && ids->ipv4 && *ids->ipv4)
		v4 = ids->ipv4;
	if (ids && ids->ipv6 && *ids->ipv6)
		v6 = ids->ipv6;
	if (ids && ids->gateway && *ids->gateway)
		snprintf(p->gateway, sizeof(p->gateway), "%s", ids->gateway);
	if (ids && ids->phone && *ids->phone)
		snprintf(p->phone, sizeof(p->phone), "%s", ids->phone);
	p->device = xstrdup(c, name ? name : "device");
	if (mac) {
		if (sx_verify__parse_mac(mac, p->mac))
			return fail(c, SX_E_FORMAT, "device-info: bad mac %s", mac);
		p->has_mac = true;
		sx_mac_str(p->mac, p->mac_text, sizeof(p->mac_text));
		/* the profile's own spelling is what client-mac compares with */
		if (strlen(mac) < sizeof(p->mac_text))
			snprintf(p->mac_text, sizeof(p->mac_text), "%s", mac);
	}
	if (v4) {
		if (parse_net(v4, &p->ipv4) || p->ipv4.family != 4)
			return fail(c, SX_E_FORMAT, "device-info: bad ipv4 %s", v4);
		p->has_ipv4 = true;
	}
	if (v6) {
		if (parse_net(v6, &p->ipv6) || p->ipv6.family != 6)
			return fail(c, SX_E_FORMAT, "device-info: bad ipv6 %s", v6);
		p->has_ipv6 = true;
	}
	/* A device-info.ipv6 made from device-info.mac (sigex's inference: the
	 * link-local address) follows a MAC given in its place: another unit's
	 * link-local address is made from its own. */
	if (p->has_ipv6 && p->has_mac && ids && ids->mac && *ids->mac &&
	    !(ids->ipv6 && *ids->ipv6)) {
		const char *own = sx_ytree_str(sx_ytree_get(dev, "mac"));
		struct sx_addr a = {.family = 6}, ll = {0};
		uint8_t m[6];

		memcpy(a.b, p->ipv6.b, 16);
		if (own && !sx_verify__parse_mac(own, m))
			ll = sx_addr_eui64_link_local(m);
		if (ll.family && p->ipv6.plen == 128 && !p->ipv6.neg && !sx_addr_cmp(&a, &ll)) {
			ll = sx_addr_eui64_link_local(p->mac);
			memcpy(p->ipv6.b, ll.b, 16);
		}
	}
	if (!p->has_ipv4 && !p->has_ipv6 && !p->has_mac)
		return fail(c, SX_E_FORMAT, "device-info: no address (ipv4, ipv6 or mac)");

	for (size_t i = 0; singles && singles->kind == SX_YTREE_MAP && i + 1 < singles->n; i += 2) {
		const char *pname = singles->kids[i]->text;
		const struct sx_ytree *pd = singles->kids[i + 1];
		bool bidir = yes(sx_ytree_get(pd, "bidirectional"));
		char bname[512];

		if (begin_inter(c, "single"))
			return c->err;
		if (parse_policy(c, pname, pd, false, false, bidir ? 2 : 1, 0, &new_nfq))
			return c->err;
		if (bidir) {
			snprintf(bname, sizeof(bname), "%s-backward", pname);
			if (parse_policy(c, bname, pd, true, false, 2, 0, &new_nfq))
				return c->err;
		}
		if (new_nfq)
			c->nfq_id_base += NFQ_ID_INC;
		end_inter(c);
	}
	for (size_t i = 0; inters && inters->kind == SX_YTREE_MAP && i + 1 < inters->n; i += 2) {
		const char *iname = inters->kids[i]->text;
		const struct sx_ytree *it = inters->kids[i + 1];
		struct flat *fl = NULL;
		size_t nfl = 0;
		bool update = false;

		if (!it || it->kind != SX_YTREE_MAP)
			continue;
		for (size_t k = 0; k + 1 < it->n; k += 2) {
			const char *kn = it->kids[k]->text;

			if (!strcmp(kn, "loop") || !strcmp(kn, "next")) {
				p->not_modelled |= VX_NM_LOOP;
				continue;
			}
			if (flatten(c, kn, it->kids[k + 1], &fl, &nfl, 0))
				break;
		}
		if (!c->err && begin_inter(c, iname) == 0) {
			for (size_t k = 0; k < nfl && !c->err; k++) {
				const struct sx_ytree *to = sx_ytree_get(fl[k].data, "timeout");
				double timeout =
				    to && sx_ytree_str(to) ? atof(sx_ytree_str(to)) : 0;
				char bname[512];

				snprintf(bname, sizeof(bname), "%s%s", fl[k].name,
					 fl[k].backward ? "-backward" : "");
				parse_policy(c, bname, fl[k].data, fl[k].backward, true, (int)nfl,
					     timeout, &new_nfq);
				update = update || new_nfq;
			}
			if (!c->err)
				end_inter(c);
		}
		free(fl);
		if (c->err)
			return c->err;
		if (update)
			c->nfq_id_base += NFQ_ID_INC;
	}
	return c->err;
}

/* The profile in yaml[0..len), its !include files relative to dir (NULL:
 * none but itself). */
static int parse_in(const char *yaml, size_t len, const char *dir, const struct sx_verify_ids *ids,
		    struct sx_verify_profile **out, char *msg, size_t msglen)
{
	struct sx_ytree *root = NULL;
	struct cc c = {.msg = msg, .msglen = msglen};
	int ret;

	*out = NULL;
	ret = sx_ytree_parse(yaml, len, sx_verify__profile_limits(), &root, msg, msglen);
	if (ret)
		return ret;
	if (!root || root->kind != SX_YTREE_MAP) {
		sx_ytree_free(root);
		snprintf(msg, msglen, "not a profile (no top-level mapping)");
		return SX_E_FORMAT;
	}
	ret = sx_verify__includes(root, dir, msg, msglen);
	if (ret)
		goto out_tree;
	c.p = calloc(1, sizeof(*c.p));
	if (!c.p) {
		ret = -ENOMEM;
		goto out_tree;
	}
	ret = compile(&c, root, ids);
	if (ret) {
		sx_verify_profile_free(c.p);
		goto out_tree;
	}
	*out = c.p;
out_tree:
	sx_ytree_free(root);
	return ret;
}

int sx_verify_profile_parse(const char *yaml, size_t len, const struct sx_verify_ids *ids,
			    struct sx_verify_profile **out, char *msg, size_t msglen)
{
	return parse_in(yaml, len, NULL, ids, out, msg, msglen);
}

int sx_verify_profile_load(const char *path, const struct sx_verify_ids *ids,
			   struct sx_verify_profile **out, char *msg, size_t msglen)
{
	FILE *f;
	char *data, *dir;
	size_t got;
	int ret;

	*out = NULL;
	f = fopen(path, "rb");
	if (!f) {
		ret = -errno;
		snprintf(msg, msglen, "%s: cannot open: %s", path, strerror(errno));
		return ret;
	}
	data = malloc(PROFILE_MAX_BYTES + 1);
	if (!data) {
		fclose(f);
		return -ENOMEM;
	}
	got = fread(data, 1, PROFILE_MAX_BYTES + 1, f);
	ret = ferror(f) ? -EIO : 0;
	fclose(f);
	if (!ret && got > PROFILE_MAX_BYTES)
		ret = -EFBIG;
	if (ret) {
		snprintf(msg, msglen, "%s: cannot read: %s", path, strerror(-ret));
		goto out_data;
	}
	dir = strdup(path);
	if (!dir) {
		ret = -ENOMEM;
		goto out_data;
	}
	ret = parse_in(data, got, dirname(dir), ids, out, msg, msglen);
	free(dir);
out_data:
	free(data);
	return ret;
}

static void free_matches(struct vx_match *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < m[i].n; k++)
			free(m[i].alts[k].str);
		free(m[i].alts);
		free(m[i].text);
	}
	free(m);
}

void sx_verify_profile_free(struct sx_verify_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->npol; i++) {
		free_matches(p->pol[i].nft, p->pol[i].nnft);
		free_matches(p->pol[i].nfq, p->pol[i].nnfq);
		free(p->pol[i].name);
		free(p->pol[i].key);
	}
	for (size_t i = 0; i < p->ninters; i++)
		free(p->inters[i].name);
	for (size_t i = 0; i < p->nqueues; i++) {
		free(p->queues[i].key);
		free(p->queues[i].pols);
	}
	free(p->pol);
	free(p->inters);
	free(p->queues);
	free(p->device);
	free(p);
}

size_t sx_verify_profile_npolicies(const struct sx_verify_profile *p)
{
	return p->npol;
}

const char *sx_verify_profile_policy_name(const struct sx_verify_profile *p, size_t i)
{
	return i < p->npol ? p->pol[i].name : NULL;
}

size_t sx_verify_profile_nrules(const struct sx_verify_profile *p)
{
	return p->nqueues;
}

const char *sx_verify_profile_rule(const struct sx_verify_profile *p, size_t i, char *buf,
				   size_t bufsz)
{
	const struct vx_policy *pol;
	size_t off = 0;

	if (!bufsz)
		return buf;
	buf[0] = '\0';
	if (i >= p->nqueues)
		return buf;
	pol = &p->pol[p->queues[i].first_pol];
	for (size_t k = 0; k < pol->nnft && off < bufsz; k++)
		off += (size_t)snprintf(buf + off, bufsz - off, "%s ", pol->nft[k].text);
	if (off < bufsz) {
		if (p->queues[i].queue_num >= 0)
			snprintf(buf + off, bufsz - off, "queue num %d", p->queues[i].queue_num);
		else
			snprintf(buf + off, bufsz - off, "accept");
	}
	return buf;
}
