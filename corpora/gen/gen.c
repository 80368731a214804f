/*
 * gen.c - sigex-gen: deterministic synthetic captures of smart-home device events.
 *
 * DESIGN.  Each output file is one capture: either one occurrence of the
 * scenario's event (`<epoch>.pcap`) or an idle period (`idle-<i>.pcap`),
 * both with background chatter at random times.  A file is built in memory
 * as a list of Ethernet frames, each stamped with a capture time in
 * microseconds and an emission counter; the list is sorted by (time,
 * counter) and written with libpcap's pcap_open_dead()/pcap_dump(), so
 * flows may be generated one after the other even when they overlap in
 * time.  Frames are well-formed: Ethernet II padded to 60 bytes, IPv4 with
 * header checksum, UDP and TCP with pseudo-header checksums, TCP with
 * consistent sequence and acknowledgement numbers (handshake, PSH|ACK
 * data, pure ACKs, FIN teardown), and application payloads that tshark
 * dissects without complaint (DNS with name compression, TLS 1.2 with a
 * DER certificate chain, TP-Link Smart Home, HTTP, CoAP, DHCP, NTP, SSDP,
 * mDNS).  Frames are as seen on the LAN: a remote host's frames carry the
 * gateway's MAC address and a TTL already decremented on the way.
 *
 * Determinism.  Nothing depends on the clock, the environment or libc's
 * rand(): every random choice comes from xoshiro256** seeded through
 * splitmix64 with (--seed, scenario, file kind, file index), so the same
 * arguments give the same bytes, and a file does not depend on how many
 * other files were asked for (--events 3 writes the first three files of
 * --events 10).  Certificates are seeded by (--seed, server name) only, so
 * a server presents the same chain in every capture.
 *
 * The ground truth (which flows make up the event, which are background,
 * and in how many files each one actually occurs) is written to
 * OUTDIR/truth.txt; corpora/README.md describes the scenarios.
 *
 * Single-threaded; everything is freed before exit.  Internal invariant
 * violations (a message outgrowing its buffer) abort.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <pcap/pcap.h>

#define FRAME_MAX    1514 /* Ethernet II without FCS */
#define FRAME_MIN    60	  /* shorter frames are zero-padded */
#define MSG_MAX	     4096 /* largest payload or DER object built */
#define TCP_MSS	     1460
#define FILE_SPAN_US 7500000ull /* background activity starts within 7.5 s */
#define MAX_COUNT    100000u	/* cap on --events and --background */

#define MS(x)		((uint64_t)(x)*1000u)
#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static void die(const char *what)
{
	fprintf(stderr, "sigex-gen: internal error: %s\n", what);
	abort();
}

/* ---- PRNG: splitmix64 seeding xoshiro256** (Blackman & Vigna) ---- */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed;
	int i;

	x = splitmix64(&x) ^ stream;
	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [lo, hi], both included (rejection sampling, no modulo bias). */
static uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
	uint64_t span = hi - lo + 1, limit, v;

	if (span == 0)
		return rng_next(r);
	limit = UINT64_MAX - UINT64_MAX % span;
	do {
		v = rng_next(r);
	} while (v >= limit);
	return lo + v % span;
}

static bool rng_chance(struct rng *r, unsigned percent)
{
	return rng_range(r, 0, 99) < percent;
}

static void rng_bytes(struct rng *r, uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(rng_next(r) >> 56);
}

/* mean +- pct percent, uniformly. */
static unsigned jitter(struct rng *r, unsigned mean, unsigned pct)
{
	unsigned d = mean * pct / 100;

	return (unsigned)rng_range(r, mean - d, mean + d);
}

static uint16_t ephemeral_port(struct rng *r)
{
	return (uint16_t)rng_range(r, 49152, 65535);
}

/* FNV-1a, to turn names into PRNG streams. */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s) {
		h ^= (uint8_t)*s++;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* ---- byte buffers ---- */

struct msg {
	size_t len;
	uint8_t b[MSG_MAX];
};

static void put(struct msg *m, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (n > MSG_MAX - m->len)
		die("message overflow");
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

static void put8(struct msg *m, unsigned v)
{
	uint8_t b = (uint8_t)v;

	put(m, &b, 1);
}

static void put16(struct msg *m, unsigned v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	put(m, b, 2);
}

static void put32(struct msg *m, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	put(m, b, 4);
}

static void put_str(struct msg *m, const char *s)
{
	put(m, s, strlen(s));
}

static void put_zero(struct msg *m, size_t n)
{
	if (n > MSG_MAX - m->len)
		die("message overflow");
	memset(m->b + m->len, 0, n);
	m->len += n;
}

static void put_random(struct msg *m, struct rng *r, size_t n)
{
	if (n > MSG_MAX - m->len)
		die("message overflow");
	rng_bytes(r, m->b + m->len, n);
	m->len += n;
}

/* Reserve a big-endian length field of width bytes; fill_len() writes it. */
static size_t mark_len(struct msg *m, unsigned width)
{
	size_t at = m->len;

	put_zero(m, width);
	return at;
}

static void fill_len(struct msg *m, size_t at, unsigned width)
{
	size_t n = m->len - at - width;
	unsigned i;

	for (i = 0; i < width; i++)
		m->b[at + i] = (uint8_t)(n >> (8 * (width - 1 - i)));
}

static void set16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void set32(uint8_t *p, uint32_t v)
{
	set16(p, v >> 16);
	set16(p + 2, v & 0xffff);
}

/* ---- hosts and the capture being built ---- */

struct host {
	uint8_t mac[6];
	uint32_t ip;
	uint8_t ttl;	/* as seen on the LAN: 64 local, less for remote hosts */
	bool remote;	/* behind the gateway: frames carry the gateway's MAC */
	uint16_t ip_id; /* next IPv4 identification */
};

/*
 * The scenario's cast.  dev is the device under study, ctl the host that
 * commands it (phone, laptop), gw the gateway that also serves DNS and
 * DHCP, hub a LAN peer (CoAP, synth only), cloud the device's service
 * (address set per occurrence), ntp and app remote servers of the
 * background, mdns and ssdp the multicast groups.
 */
struct world {
	struct host dev, ctl, gw, hub, cloud, ntp, app, mdns, ssdp;
	const char *dev_local;	/* mDNS host name of dev */
	const char *cloud_name; /* name in DNS and SNI */
	const char *app_name;	/* background TLS server of ctl */
	uint16_t hb_port;	/* idle heartbeat: dev -> hb_ip:hb_port */
	uint32_t hb_ip;
	struct msg cloud_chain; /* Certificate handshake bodies */
	struct msg app_chain;
};

struct frame {
	uint64_t ts;	/* microseconds since the Unix epoch */
	uint32_t order; /* emission order: the tie-breaker */
	uint16_t len;
	uint8_t b[FRAME_MAX];
};

/* Background activities; bit i of struct gen.bg_seen. */
enum bg_kind {
	BG_MDNS,
	BG_ARP,
	BG_NTP,
	BG_SSDP,
	BG_APP_DNS,
	BG_APP_TLS,
	BG_HEARTBEAT,
	BG__COUNT,
};

struct scenario;

struct gen {
	const struct scenario *sc;
	uint64_t seed;
	struct rng rng;
	struct world w;
	struct frame *f;
	size_t nf, capf;
	unsigned bg_seen;
};

static int frame_cmp(const void *a, const void *b)
{
	const struct frame *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static struct frame *frame_new(struct gen *g, uint64_t ts)
{
	struct frame *f;

	if (g->nf == g->capf) {
		size_t cap = g->capf ? 2 * g->capf : 256;
		struct frame *v = realloc(g->f, cap * sizeof(*v));

		if (!v) {
			fputs("sigex-gen: out of memory\n", stderr);
			exit(1);
		}
		g->f = v;
		g->capf = cap;
	}
	f = &g->f[g->nf];
	f->ts = ts;
	f->order = (uint32_t)g->nf;
	g->nf++;
	return f;
}

/* Append an Ethernet II frame: dst, src, type, then the payload, padded. */
static void emit_eth(struct gen *g, uint64_t ts, const uint8_t *dst, const uint8_t *src,
		     uint16_t type, const uint8_t *p, size_t n)
{
	struct frame *f;

	if (n > FRAME_MAX - 14)
		die("frame overflow");
	f = frame_new(g, ts);
	memcpy(f->b, dst, 6);
	memcpy(f->b + 6, src, 6);
	set16(f->b + 12, type);
	memcpy(f->b + 14, p, n);
	f->len = (uint16_t)(14 + n);
	if (f->len < FRAME_MIN) {
		memset(f->b + f->len, 0, FRAME_MIN - f->len);
		f->len = FRAME_MIN;
	}
}

/* RFC 1071 one's-complement sum. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

enum { PROTO_TCP = 6, PROTO_UDP = 17 };

/*
 * An IPv4 packet from src to dst carrying l4 (whose checksum field is zero
 * and is filled here).  ttl 0 means src's usual TTL.
 *
 *   |ver|ihl| tos |  total length  |  identification | flags+frag |
 *   | ttl | proto | header checksum |  source address | dest addr  |
 */
static void emit_ip(struct gen *g, uint64_t ts, struct host *src, const struct host *dst,
		    uint8_t ttl, uint8_t proto, const struct msg *l4)
{
	uint8_t pkt[FRAME_MAX - 14];
	uint8_t pseudo[12];
	size_t n = 20 + l4->len;
	size_t csum_off = proto == PROTO_TCP ? 16 : 6;
	uint16_t sum;

	if (n > sizeof(pkt))
		die("packet overflow");
	pkt[0] = 0x45;
	pkt[1] = 0;
	set16(pkt + 2, (unsigned)n);
	set16(pkt + 4, src->ip_id++);
	set16(pkt + 6, 0x4000); /* DF */
	pkt[8] = ttl ? ttl : src->ttl;
	pkt[9] = proto;
	set16(pkt + 10, 0);
	set32(pkt + 12, src->ip);
	set32(pkt + 16, dst->ip);
	set16(pkt + 10, csum_fold(csum_add(0, pkt, 20)));
	memcpy(pkt + 20, l4->b, l4->len);

	memcpy(pseudo, pkt + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = proto;
	set16(pseudo + 10, (unsigned)l4->len);
	sum = csum_fold(csum_add(csum_add(0, pseudo, 12), pkt + 20, l4->len));
	if (proto == PROTO_UDP && sum == 0)
		sum = 0xffff;
	set16(pkt + 20 + csum_off, sum);

	emit_eth(g, ts, dst->remote ? g->w.gw.mac : dst->mac, src->remote ? g->w.gw.mac : src->mac,
		 0x0800, pkt, n);
}

/* UDP header + payload (RFC 768). */
static void emit_udp(struct gen *g, uint64_t ts, struct host *src, uint16_t sport,
		     const struct host *dst, uint16_t dport, uint8_t ttl, const struct msg *payload)
{
	struct msg u;

	u.len = 0;
	put16(&u, sport);
	put16(&u, dport);
	put16(&u, (unsigned)(8 + payload->len));
	put16(&u, 0);
	put(&u, payload->b, payload->len);
	emit_ip(g, ts, src, dst, ttl, PROTO_UDP, &u);
}

/* ---- TCP (RFC 9293) ---- */

enum { TH_FIN = 0x01, TH_SYN = 0x02, TH_PSH = 0x08, TH_ACK = 0x10 };
enum { C2S = 0, S2C = 1 };

struct tcp {
	struct gen *g;
	struct host *end[2]; /* [C2S] client, [S2C] server */
	uint16_t port[2];
	uint32_t seq[2]; /* next sequence number each side sends */
	uint16_t win[2];
	uint64_t rtt; /* round trip as seen from the capture point, us */
};

static void tcp_init(struct tcp *t, struct gen *g, struct host *cli, uint16_t cport,
		     struct host *srv, uint16_t sport, uint64_t rtt)
{
	t->g = g;
	t->end[C2S] = cli;
	t->end[S2C] = srv;
	t->port[C2S] = cport;
	t->port[S2C] = sport;
	t->seq[C2S] = (uint32_t)rng_next(&g->rng);
	t->seq[S2C] = (uint32_t)rng_next(&g->rng);
	t->win[C2S] = 64240;
	t->win[S2C] = 65535;
	t->rtt = rtt;
}

/*
 *   | sport | dport | sequence number | acknowledgement number |
 *   | off | flags | window | checksum | urgent | options (SYN: MSS, SACK) |
 */
static void tcp_seg(struct tcp *t, int dir, uint64_t ts, uint8_t flags, const uint8_t *data,
		    size_t len)
{
	struct msg h;
	bool syn = flags & TH_SYN;

	h.len = 0;
	put16(&h, t->port[dir]);
	put16(&h, t->port[!dir]);
	put32(&h, t->seq[dir]);
	put32(&h, flags & TH_ACK ? t->seq[!dir] : 0);
	put8(&h, (syn ? 7u : 5u) << 4);
	put8(&h, flags);
	put16(&h, t->win[dir]);
	put16(&h, 0);
	put16(&h, 0);
	if (syn) {
		static const uint8_t opts[8] = {2, 4, TCP_MSS >> 8, TCP_MSS & 0xff, 1, 1, 4, 2};

		put(&h, opts, sizeof(opts));
	}
	put(&h, data, len);
	t->seq[dir] += (uint32_t)len + (syn ? 1 : 0) + (flags & TH_FIN ? 1 : 0);
	emit_ip(t->g, ts, t->end[dir], t->end[!dir], 0, PROTO_TCP, &h);
}

/* Three-way handshake starting at ts; returns the time of the final ACK. */
static uint64_t tcp_open(struct tcp *t, uint64_t ts)
{
	struct rng *r = &t->g->rng;

	tcp_seg(t, C2S, ts, TH_SYN, NULL, 0);
	ts += t->rtt + rng_range(r, 50, 400);
	tcp_seg(t, S2C, ts, TH_SYN | TH_ACK, NULL, 0);
	ts += rng_range(r, 60, 300);
	tcp_seg(t, C2S, ts, TH_ACK, NULL, 0);
	return ts;
}

/* One application write: MSS-sized segments, PSH on the last; returns its time. */
static uint64_t tcp_send(struct tcp *t, int dir, uint64_t ts, const struct msg *m)
{
	size_t off = 0;

	while (off < m->len) {
		size_t n = m->len - off < TCP_MSS ? m->len - off : TCP_MSS;
		bool last = off + n == m->len;

		tcp_seg(t, dir, ts, TH_ACK | (last ? TH_PSH : 0), m->b + off, n);
		off += n;
		if (!last)
			ts += rng_range(&t->g->rng, 20, 120);
	}
	return ts;
}

static void tcp_ack(struct tcp *t, int dir, uint64_t ts)
{
	tcp_seg(t, dir, ts, TH_ACK, NULL, 0);
}

/* dir closes first at ts, the peer answers FIN|ACK, dir ACKs; returns the end. */
static uint64_t tcp_close(struct tcp *t, int dir, uint64_t ts)
{
	struct rng *r = &t->g->rng;

	tcp_seg(t, dir, ts, TH_FIN | TH_ACK, NULL, 0);
	ts += t->rtt + rng_range(r, 50, 2000);
	tcp_seg(t, !dir, ts, TH_FIN | TH_ACK, NULL, 0);
	ts += rng_range(r, 60, 300);
	tcp_seg(t, dir, ts, TH_ACK, NULL, 0);
	return ts;
}

/* ---- DNS (RFC 1035) with name compression ---- */

enum { DNS_A = 1, DNS_PTR = 12, DNS_CNAME = 5, DNS_IN = 1, MDNS_FLUSH = 0x8000 };

struct dns_writer {
	struct msg *m; /* the DNS message starts at offset 0 */
	unsigned n;
	uint16_t off[32];	/* where each remembered suffix was written */
	const char *suffix[32]; /* points into the caller's (static) names */
};

static void dns_name(struct dns_writer *d, const char *name)
{
	const char *p = name;
	unsigned i;

	while (*p) {
		size_t len = strcspn(p, ".");

		for (i = 0; i < d->n; i++) {
			if (!strcmp(d->suffix[i], p)) {
				put16(d->m, 0xc000u | d->off[i]);
				return;
			}
		}
		if (d->n < ARRAY_SIZE(d->off) && d->m->len < 0x3fff) {
			d->off[d->n] = (uint16_t)d->m->len;
			d->suffix[d->n++] = p;
		}
		if (len == 0 || len > 63)
			die("bad DNS label");
		put8(d->m, (unsigned)len);
		put(d->m, p, len);
		p += len;
		if (*p == '.')
			p++;
	}
	put8(d->m, 0);
}

struct dns_rr {
	const char *name;
	uint16_t type;
	uint16_t cls;
	uint32_t ttl;
	const char *target; /* CNAME, PTR */
	uint32_t addr;	    /* A */
};

/*
 *   | id | flags | qdcount | ancount | nscount | arcount |
 *   question: name type class;  records: name type class ttl rdlength rdata
 */
static void dns_message(struct msg *m, uint16_t id, uint16_t flags, const char *qname,
			uint16_t qtype, const struct dns_rr *rr, unsigned nrr)
{
	struct dns_writer d = {.m = m};
	unsigned i;

	m->len = 0;
	put16(m, id);
	put16(m, flags);
	put16(m, qname ? 1 : 0);
	put16(m, nrr);
	put16(m, 0);
	put16(m, 0);
	if (qname) {
		dns_name(&d, qname);
		put16(m, qtype);
		put16(m, DNS_IN);
	}
	for (i = 0; i < nrr; i++) {
		size_t at;

		dns_name(&d, rr[i].name);
		put16(m, rr[i].type);
		put16(m, rr[i].cls);
		put32(m, rr[i].ttl);
		at = mark_len(m, 2);
		if (rr[i].type == DNS_A)
			put32(m, rr[i].addr);
		else
			dns_name(&d, rr[i].target);
		fill_len(m, at, 2);
	}
}

/* A query from cli to the gateway and its answer rtt later; returns its time. */
static uint64_t dns_lookup(struct gen *g, uint64_t ts, struct host *cli, const char *qname,
			   const struct dns_rr *rr, unsigned nrr, uint64_t rtt)
{
	struct msg m;
	uint16_t id = (uint16_t)rng_next(&g->rng);
	uint16_t port = ephemeral_port(&g->rng);

	dns_message(&m, id, 0x0100, qname, DNS_A, NULL, 0);
	emit_udp(g, ts, cli, port, &g->w.gw, 53, 0, &m);
	ts += rtt;
	dns_message(&m, id, 0x8180, qname, DNS_A, rr, nrr);
	emit_udp(g, ts, &g->w.gw, 53, cli, port, 0, &m);
	return ts;
}

/* ---- DER (X.690) for the certificates ---- */

/* Open a constructed or primitive value; der_close() writes the minimal length. */
static size_t der_open(struct msg *m, unsigned tag)
{
	put8(m, tag);
	return mark_len(m, 3);
}

static void der_close(struct msg *m, size_t at)
{
	size_t n = m->len - at - 3;
	size_t k = n < 0x80 ? 1 : n < 0x100 ? 2 : 3;

	if (n > 0xffff)
		die("DER value too long");
	memmove(m->b + at + k, m->b + at + 3, n);
	m->len -= 3 - k;
	if (k == 1) {
		m->b[at] = (uint8_t)n;
	} else if (k == 2) {
		m->b[at] = 0x81;
		m->b[at + 1] = (uint8_t)n;
	} else {
		m->b[at] = 0x82;
		set16(m->b + at + 1, (unsigned)n);
	}
}

static void der_prim(struct msg *m, unsigned tag, const void *p, size_t n)
{
	size_t at = der_open(m, tag);

	put(m, p, n);
	der_close(m, at);
}

/* A non-negative INTEGER from big-endian bytes, minimally encoded. */
static void der_uint(struct msg *m, const uint8_t *p, size_t n)
{
	size_t at = der_open(m, 0x02);

	while (n > 1 && p[0] == 0) {
		p++;
		n--;
	}
	if (p[0] & 0x80)
		put8(m, 0);
	put(m, p, n);
	der_close(m, at);
}

static const uint8_t oid_ecdsa_sha256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t oid_ec_public_key[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t oid_prime256v1[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_country[] = {0x55, 0x04, 0x06};
static const uint8_t oid_org[] = {0x55, 0x04, 0x0a};
static const uint8_t oid_cn[] = {0x55, 0x04, 0x03};
static const uint8_t oid_basic_constraints[] = {0x55, 0x1d, 0x13};
static const uint8_t oid_key_usage[] = {0x55, 0x1d, 0x0f};
static const uint8_t oid_san[] = {0x55, 0x1d, 0x11};
static const uint8_t oid_eku[] = {0x55, 0x1d, 0x25};
static const uint8_t oid_server_auth[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01};

static void der_attr(struct msg *m, const uint8_t *oid, size_t oidlen, unsigned strtag,
		     const char *value)
{
	size_t set = der_open(m, 0x31), seq = der_open(m, 0x30);

	der_prim(m, 0x06, oid, oidlen);
	der_prim(m, strtag, value, strlen(value));
	der_close(m, seq);
	der_close(m, set);
}

static void der_dn(struct msg *m, const char *org, const char *cn)
{
	size_t at = der_open(m, 0x30);

	der_attr(m, oid_country, sizeof(oid_country), 0x13, "US");
	der_attr(m, oid_org, sizeof(oid_org), 0x0c, org);
	der_attr(m, oid_cn, sizeof(oid_cn), 0x0c, cn);
	der_close(m, at);
}

static void der_alg_ecdsa(struct msg *m)
{
	size_t at = der_open(m, 0x30);

	der_prim(m, 0x06, oid_ecdsa_sha256, sizeof(oid_ecdsa_sha256));
	der_close(m, at);
}

/* Ecdsa-Sig-Value (RFC 5480): SEQUENCE { r INTEGER, s INTEGER }, 70..72 bytes. */
static void der_ecdsa_sig(struct msg *m, struct rng *r)
{
	uint8_t v[32];
	size_t at = der_open(m, 0x30);

	rng_bytes(r, v, sizeof(v));
	der_uint(m, v, sizeof(v));
	rng_bytes(r, v, sizeof(v));
	der_uint(m, v, sizeof(v));
	der_close(m, at);
}

/* One extension: SEQUENCE { oid, [critical TRUE], OCTET STRING { value } }. */
static size_t der_ext_open(struct msg *m, const uint8_t *oid, size_t oidlen, bool critical,
			   size_t *octets)
{
	static const uint8_t yes = 0xff;
	size_t at = der_open(m, 0x30);

	der_prim(m, 0x06, oid, oidlen);
	if (critical)
		der_prim(m, 0x01, &yes, 1);
	*octets = der_open(m, 0x04);
	return at;
}

static void der_ext_close(struct msg *m, size_t at, size_t octets)
{
	der_close(m, octets);
	der_close(m, at);
}

struct cert_spec {
	const char *org, *cn;		    /* subject */
	const char *iss_org, *iss_cn;	    /* issuer */
	const char *not_before, *not_after; /* UTCTime */
	const char *san;		    /* dNSName, NULL for a CA */
};

/* An X.509 v3 certificate (RFC 5280) with an EC P-256 key and an ECDSA signature. */
static void make_cert(struct msg *m, struct rng *r, const struct cert_spec *cs)
{
	static const uint8_t v3 = 2;
	static const uint8_t ku_leaf[] = {0x07, 0x80}; /* digitalSignature */
	static const uint8_t ku_ca[] = {0x01, 0x06};   /* keyCertSign, cRLSign */
	static const uint8_t yes = 0xff;
	uint8_t serial[16];
	size_t cert, tbs, at, at2, ext, oct;

	cert = der_open(m, 0x30);
	tbs = der_open(m, 0x30);
	at = der_open(m, 0xa0);
	der_prim(m, 0x02, &v3, 1);
	der_close(m, at);
	rng_bytes(r, serial, sizeof(serial));
	serial[0] &= 0x7f;
	serial[0] |= 0x01;
	der_uint(m, serial, sizeof(serial));
	der_alg_ecdsa(m);
	der_dn(m, cs->iss_org, cs->iss_cn);
	at = der_open(m, 0x30);
	der_prim(m, 0x17, cs->not_before, strlen(cs->not_before));
	der_prim(m, 0x17, cs->not_after, strlen(cs->not_after));
	der_close(m, at);
	der_dn(m, cs->org, cs->cn);

	at = der_open(m, 0x30); /* SubjectPublicKeyInfo */
	at2 = der_open(m, 0x30);
	der_prim(m, 0x06, oid_ec_public_key, sizeof(oid_ec_public_key));
	der_prim(m, 0x06, oid_prime256v1, sizeof(oid_prime256v1));
	der_close(m, at2);
	at2 = der_open(m, 0x03);
	put8(m, 0);    /* unused bits */
	put8(m, 0x04); /* uncompressed point */
	put_random(m, r, 64);
	der_close(m, at2);
	der_close(m, at);

	at = der_open(m, 0xa3); /* extensions */
	at2 = der_open(m, 0x30);
	ext = der_ext_open(m, oid_basic_constraints, sizeof(oid_basic_constraints), true, &oct);
	{
		size_t bc = der_open(m, 0x30);

		if (!cs->san)
			der_prim(m, 0x01, &yes, 1);
		der_close(m, bc);
	}
	der_ext_close(m, ext, oct);
	ext = der_ext_open(m, oid_key_usage, sizeof(oid_key_usage), true, &oct);
	if (cs->san)
		der_prim(m, 0x03, ku_leaf, sizeof(ku_leaf));
	else
		der_prim(m, 0x03, ku_ca, sizeof(ku_ca));
	der_ext_close(m, ext, oct);
	if (cs->san) {
		size_t seq;

		ext = der_ext_open(m, oid_eku, sizeof(oid_eku), false, &oct);
		seq = der_open(m, 0x30);
		der_prim(m, 0x06, oid_server_auth, sizeof(oid_server_auth));
		der_close(m, seq);
		der_ext_close(m, ext, oct);
		ext = der_ext_open(m, oid_san, sizeof(oid_san), false, &oct);
		seq = der_open(m, 0x30);
		der_prim(m, 0x82, cs->san, strlen(cs->san));
		der_close(m, seq);
		der_ext_close(m, ext, oct);
	}
	der_close(m, at2);
	der_close(m, at);
	der_close(m, tbs);

	der_alg_ecdsa(m);
	at = der_open(m, 0x03);
	put8(m, 0);
	der_ecdsa_sig(m, r);
	der_close(m, at);
	der_close(m, cert);
}

/*
 * The body of a TLS Certificate message: leaf for name signed by an
 * intermediate "<org> CA".  Seeded by (seed, name): the same in every file.
 */
static void make_chain(struct msg *out, uint64_t seed, const char *name, const char *org)
{
	struct cert_spec leaf = {
	    .org = org,
	    .cn = name,
	    .iss_org = org,
	    .not_before = "230601000000Z",
	    .not_after = "250630235959Z",
	    .san = name,
	};
	struct cert_spec ca = {
	    .org = org,
	    .iss_org = "Example Trust Services",
	    .iss_cn = "Example Root CA R1",
	    .not_before = "200101000000Z",
	    .not_after = "301231235959Z",
	};
	char ca_cn[128];
	struct rng r;
	size_t list, at;

	snprintf(ca_cn, sizeof(ca_cn), "%s CA", org);
	leaf.iss_cn = ca_cn;
	ca.cn = ca_cn;
	rng_seed(&r, seed, fnv1a(name));
	out->len = 0;
	list = mark_len(out, 3);
	at = mark_len(out, 3);
	make_cert(out, &r, &leaf);
	fill_len(out, at, 3);
	at = mark_len(out, 3);
	make_cert(out, &r, &ca);
	fill_len(out, at, 3);
	fill_len(out, list, 3);
}

/* ---- TLS 1.2 (RFC 5246; extensions RFC 6066, 7301, 8446) ---- */

enum {
	TLS_CCS = 20,
	TLS_ALERT = 21,
	TLS_HANDSHAKE = 22,
	TLS_APPDATA = 23,
	HS_CLIENT_HELLO = 1,
	HS_SERVER_HELLO = 2,
	HS_CERTIFICATE = 11,
	HS_SERVER_KX = 12,
	HS_HELLO_DONE = 14,
	HS_CLIENT_KX = 16,
};

static size_t tls_record_open(struct msg *m, unsigned type, unsigned version)
{
	put8(m, type);
	put16(m, version);
	return mark_len(m, 2);
}

/* A handshake record holding one message whose body is written by the caller. */
static void tls_hs_open(struct msg *m, unsigned hs, unsigned version, size_t *rec, size_t *body)
{
	*rec = tls_record_open(m, TLS_HANDSHAKE, version);
	put8(m, hs);
	*body = mark_len(m, 3);
}

static void tls_hs_close(struct msg *m, size_t rec, size_t body)
{
	fill_len(m, body, 3);
	fill_len(m, rec, 2);
}

static void tls_ext_alpn(struct msg *m, const char *const *alpn, unsigned n)
{
	size_t ext, list;
	unsigned i;

	put16(m, 0x0010);
	ext = mark_len(m, 2);
	list = mark_len(m, 2);
	for (i = 0; i < n; i++) {
		put8(m, (unsigned)strlen(alpn[i]));
		put_str(m, alpn[i]);
	}
	fill_len(m, list, 2);
	fill_len(m, ext, 2);
}

static void tls_client_hello(struct msg *m, struct rng *r, const char *sni, const char *const *alpn,
			     unsigned nalpn)
{
	static const uint16_t suites[] = {
	    0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
	    0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
	};
	static const uint16_t groups[] = {0x001d, 0x0017, 0x0018};
	static const uint16_t sigalgs[] = {
	    0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
	};
	size_t rec, body, exts, at, at2;
	unsigned i;

	tls_hs_open(m, HS_CLIENT_HELLO, 0x0301, &rec, &body);
	put16(m, 0x0303);
	put_random(m, r, 32);
	put8(m, 32);
	put_random(m, r, 32);
	put16(m, 2 * ARRAY_SIZE(suites));
	for (i = 0; i < ARRAY_SIZE(suites); i++)
		put16(m, suites[i]);
	put8(m, 1);
	put8(m, 0);
	exts = mark_len(m, 2);

	put16(m, 0x0000); /* server_name */
	at = mark_len(m, 2);
	at2 = mark_len(m, 2);
	put8(m, 0);
	put16(m, (unsigned)strlen(sni));
	put_str(m, sni);
	fill_len(m, at2, 2);
	fill_len(m, at, 2);

	put16(m, 0x0017); /* extended_master_secret */
	put16(m, 0);
	put16(m, 0xff01); /* renegotiation_info */
	put16(m, 1);
	put8(m, 0);
	put16(m, 0x000a); /* supported_groups */
	put16(m, 2 + 2 * ARRAY_SIZE(groups));
	put16(m, 2 * ARRAY_SIZE(groups));
	for (i = 0; i < ARRAY_SIZE(groups); i++)
		put16(m, groups[i]);
	put16(m, 0x000b); /* ec_point_formats */
	put16(m, 2);
	put8(m, 1);
	put8(m, 0);
	put16(m, 0x000d); /* signature_algorithms */
	put16(m, 2 + 2 * ARRAY_SIZE(sigalgs));
	put16(m, 2 * ARRAY_SIZE(sigalgs));
	for (i = 0; i < ARRAY_SIZE(sigalgs); i++)
		put16(m, sigalgs[i]);
	tls_ext_alpn(m, alpn, nalpn);
	put16(m, 0x002b); /* supported_versions: TLS 1.3, 1.2 */
	put16(m, 5);
	put8(m, 4);
	put16(m, 0x0304);
	put16(m, 0x0303);
	put16(m, 0x002d); /* psk_key_exchange_modes: psk_dhe_ke */
	put16(m, 2);
	put8(m, 1);
	put8(m, 1);
	put16(m, 0x0033); /* key_share: x25519 */
	put16(m, 2 + 4 + 32);
	put16(m, 4 + 32);
	put16(m, 0x001d);
	put16(m, 32);
	put_random(m, r, 32);

	fill_len(m, exts, 2);
	tls_hs_close(m, rec, body);
}

/* ServerHello (TLS 1.2, ECDHE-ECDSA-AES128-GCM-SHA256), Certificate, ServerKeyExchange, Done. */
static void tls_server_flight(struct msg *m, struct rng *r, const struct msg *chain,
			      const char *alpn)
{
	size_t rec, body, exts, at;

	tls_hs_open(m, HS_SERVER_HELLO, 0x0303, &rec, &body);
	put16(m, 0x0303);
	put_random(m, r, 32);
	put8(m, 32);
	put_random(m, r, 32);
	put16(m, 0xc02b);
	put8(m, 0);
	exts = mark_len(m, 2);
	put16(m, 0xff01);
	put16(m, 1);
	put8(m, 0);
	put16(m, 0x0017);
	put16(m, 0);
	put16(m, 0x000b);
	put16(m, 2);
	put8(m, 1);
	put8(m, 0);
	tls_ext_alpn(m, &alpn, 1);
	fill_len(m, exts, 2);
	tls_hs_close(m, rec, body);

	tls_hs_open(m, HS_CERTIFICATE, 0x0303, &rec, &body);
	put(m, chain->b, chain->len);
	tls_hs_close(m, rec, body);

	tls_hs_open(m, HS_SERVER_KX, 0x0303, &rec, &body);
	put8(m, 3);	  /* named_curve */
	put16(m, 0x001d); /* x25519 */
	put8(m, 32);
	put_random(m, r, 32);
	put16(m, 0x0403); /* ecdsa_secp256r1_sha256 */
	at = mark_len(m, 2);
	der_ecdsa_sig(m, r); /* 70..72 bytes: the flight's natural jitter */
	fill_len(m, at, 2);
	tls_hs_close(m, rec, body);

	tls_hs_open(m, HS_HELLO_DONE, 0x0303, &rec, &body);
	tls_hs_close(m, rec, body);
}

/* ChangeCipherSpec, then an encrypted Finished (GCM: 8 nonce + 16 + 16 tag). */
static void tls_ccs_finished(struct msg *m, struct rng *r)
{
	size_t rec = tls_record_open(m, TLS_CCS, 0x0303);

	put8(m, 1);
	fill_len(m, rec, 2);
	rec = tls_record_open(m, TLS_HANDSHAKE, 0x0303);
	put_random(m, r, 40);
	fill_len(m, rec, 2);
}

static void tls_opaque(struct msg *m, struct rng *r, unsigned type, unsigned len)
{
	size_t rec = tls_record_open(m, type, 0x0303);

	put_random(m, r, len);
	fill_len(m, rec, 2);
}

struct tls_profile {
	const char *sni;
	const char *const *alpn; /* offered; the server picks the first */
	unsigned nalpn;
	const struct msg *chain;
	unsigned min_records, max_records;   /* application-data exchanges */
	unsigned up_mean, down_mean;	     /* record lengths, jittered 3% */
	unsigned cpu_min_ms, cpu_max_ms;     /* client ECDHE time */
	unsigned think_min_ms, think_max_ms; /* between exchanges */
};

/* A full TLS 1.2 session over TCP; returns the time of the last packet. */
static uint64_t tls_session(struct gen *g, uint64_t ts, struct host *cli, struct host *srv,
			    uint64_t rtt, const struct tls_profile *p)
{
	struct rng *r = &g->rng;
	struct tcp t;
	struct msg m;
	unsigned i, n;

	tcp_init(&t, g, cli, ephemeral_port(r), srv, 443, rtt);
	ts = tcp_open(&t, ts);

	m.len = 0;
	tls_client_hello(&m, r, p->sni, p->alpn, p->nalpn);
	ts = tcp_send(&t, C2S, ts + rng_range(r, 100, 800), &m);

	m.len = 0;
	tls_server_flight(&m, r, p->chain, p->alpn[0]);
	ts = tcp_send(&t, S2C, ts + rtt + rng_range(r, 500, 4000), &m);
	if (m.len > TCP_MSS)
		tcp_ack(&t, C2S, ts + rng_range(r, 100, 400));

	m.len = 0;
	{
		size_t rec, body;

		tls_hs_open(&m, HS_CLIENT_KX, 0x0303, &rec, &body);
		put8(&m, 32);
		put_random(&m, r, 32);
		tls_hs_close(&m, rec, body);
	}
	tls_ccs_finished(&m, r);
	ts = tcp_send(&t, C2S, ts + MS(rng_range(r, p->cpu_min_ms, p->cpu_max_ms)), &m);

	m.len = 0;
	tls_ccs_finished(&m, r);
	ts = tcp_send(&t, S2C, ts + rtt + rng_range(r, 300, 2000), &m);

	n = (unsigned)rng_range(r, p->min_records, p->max_records);
	for (i = 0; i < n; i++) {
		m.len = 0;
		tls_opaque(&m, r, TLS_APPDATA, jitter(r, p->up_mean, 3));
		ts = tcp_send(&t, C2S, ts + rng_range(r, 500, 5000), &m);
		m.len = 0;
		tls_opaque(&m, r, TLS_APPDATA, jitter(r, p->down_mean, 3));
		ts = tcp_send(&t, S2C, ts + rtt + rng_range(r, 2000, 15000), &m);
		tcp_ack(&t, C2S, ts + rng_range(r, 200, 20000));
		ts += MS(rng_range(r, p->think_min_ms, p->think_max_ms));
	}

	m.len = 0;
	tls_opaque(&m, r, TLS_ALERT, 26); /* encrypted close_notify */
	ts = tcp_send(&t, C2S, ts, &m);
	return tcp_close(&t, C2S, ts + rng_range(r, 100, 1000));
}

/* ---- background chatter ---- */

static void rev_name(char *out, size_t outsz, uint32_t ip)
{
	snprintf(out, outsz, "%u.%u.%u.%u.in-addr.arpa", ip & 0xff, (ip >> 8) & 0xff,
		 (ip >> 16) & 0xff, ip >> 24);
}

/* RFC 6762 §8.3: an unsolicited response, sent twice one second apart. */
static void bg_mdns(struct gen *g, uint64_t ts)
{
	struct world *w = &g->w;
	char rev[64];
	struct dns_rr rr[2] = {
	    {.name = w->dev_local,
	     .type = DNS_A,
	     .cls = MDNS_FLUSH | DNS_IN,
	     .ttl = 120,
	     .addr = w->dev.ip},
	    {.name = rev,
	     .type = DNS_PTR,
	     .cls = MDNS_FLUSH | DNS_IN,
	     .ttl = 120,
	     .target = w->dev_local},
	};
	struct msg m;
	int k;

	rev_name(rev, sizeof(rev), w->dev.ip);
	dns_message(&m, 0, 0x8400, NULL, 0, rr, 2);
	for (k = 0; k < 2; k++)
		emit_udp(g, ts + MS(1000) * (unsigned)k + rng_range(&g->rng, 0, 20000), &w->dev,
			 5353, &w->mdns, 5353, 255, &m);
}

/* RFC 826 who-has from dev for the gateway, and the reply. */
static void bg_arp(struct gen *g, uint64_t ts)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t zero[6] = {0};
	struct world *w = &g->w;
	struct msg m;
	int reply;

	for (reply = 0; reply < 2; reply++) {
		const struct host *s = reply ? &w->gw : &w->dev;
		const struct host *d = reply ? &w->dev : &w->gw;

		m.len = 0;
		put16(&m, 1);	   /* Ethernet */
		put16(&m, 0x0800); /* IPv4 */
		put8(&m, 6);
		put8(&m, 4);
		put16(&m, reply ? 2 : 1);
		put(&m, s->mac, 6);
		put32(&m, s->ip);
		put(&m, reply ? d->mac : zero, 6);
		put32(&m, d->ip);
		emit_eth(g, ts, reply ? d->mac : bcast, s->mac, 0x0806, m.b, m.len);
		ts += rng_range(&g->rng, 500, 4000);
	}
}

static void ntp_ts(struct msg *m, uint64_t us)
{
	put32(m, (uint32_t)(us / 1000000 + 2208988800u));
	put32(m, (uint32_t)(((us % 1000000) << 32) / 1000000));
}

/* RFC 5905 client request (mode 3) and server response (mode 4). */
static void bg_ntp(struct gen *g, uint64_t ts)
{
	struct world *w = &g->w;
	uint16_t port = ephemeral_port(&g->rng);
	uint64_t rtt = MS(rng_range(&g->rng, 15, 40));
	struct msg m;

	m.len = 0;
	put8(&m, 0xe3); /* LI 3 (unsynchronised), VN 4, mode 3 */
	put_zero(&m, 39);
	ntp_ts(&m, ts);
	emit_udp(g, ts, &w->dev, port, &w->ntp, 123, 0, &m);

	m.len = 0;
	put8(&m, 0x24);			 /* LI 0, VN 4, mode 4 */
	put8(&m, 2);			 /* stratum */
	put8(&m, 6);			 /* poll */
	put8(&m, 0xe9);			 /* precision 2^-23 */
	put32(&m, 0x00000a3c);		 /* root delay */
	put32(&m, 0x00001f2a);		 /* root dispersion */
	put32(&m, IP4(198, 51, 100, 1)); /* reference id: upstream server */
	ntp_ts(&m, ts - MS(37000));
	ntp_ts(&m, ts);
	ntp_ts(&m, ts + rtt / 2);
	ntp_ts(&m, ts + rtt / 2 + 40);
	emit_udp(g, ts + rtt, &w->ntp, 123, &w->dev, port, 0, &m);
}

/* UPnP discovery: an M-SEARCH sent three times from one socket. */
static void bg_ssdp(struct gen *g, uint64_t ts)
{
	struct world *w = &g->w;
	uint16_t port = ephemeral_port(&g->rng);
	struct msg m;
	int k;

	m.len = 0;
	put_str(&m, "M-SEARCH * HTTP/1.1\r\n"
		    "HOST: 239.255.255.250:1900\r\n"
		    "MAN: \"ssdp:discover\"\r\n"
		    "MX: 1\r\n"
		    "ST: urn:dial-multiscreen-org:service:dial:1\r\n"
		    "USER-AGENT: Android/13 UPnP/1.1 HomeApp/5.2\r\n"
		    "\r\n");
	for (k = 0; k < 3; k++) {
		emit_udp(g, ts, &w->ctl, port, &w->ssdp, 1900, 4, &m);
		ts += MS(rng_range(&g->rng, 90, 130));
	}
}

/* ctl looks up app_name and opens a short TLS session to it. */
static void bg_app(struct gen *g, uint64_t ts)
{
	static const char *const alpn[] = {"h2", "http/1.1"};
	struct world *w = &g->w;
	struct dns_rr rr = {
	    .name = w->app_name, .type = DNS_A, .cls = DNS_IN, .ttl = 60, .addr = w->app.ip};
	struct tls_profile p = {
	    .sni = w->app_name,
	    .alpn = alpn,
	    .nalpn = 2,
	    .chain = &w->app_chain,
	    .min_records = 2,
	    .max_records = 4,
	    .up_mean = 420,
	    .down_mean = 2600,
	    .cpu_min_ms = 1,
	    .cpu_max_ms = 4,
	    .think_min_ms = 30,
	    .think_max_ms = 300,
	};

	ts = dns_lookup(g, ts, &w->ctl, w->app_name, &rr, 1, MS(rng_range(&g->rng, 8, 30)));
	tls_session(g, ts + MS(rng_range(&g->rng, 1, 5)), &w->ctl, &w->app,
		    MS(rng_range(&g->rng, 20, 50)), &p);
	g->bg_seen |= 1u << BG_APP_DNS;
}

/* Background activities at random times in [t0 + 50 ms, t0 + span]. */
static void background(struct gen *g, uint64_t t0)
{
	struct rng *r = &g->rng;

	bg_mdns(g, t0 + rng_range(r, MS(50), FILE_SPAN_US - MS(1100)));
	bg_arp(g, t0 + rng_range(r, MS(50), FILE_SPAN_US));
	g->bg_seen |= 1u << BG_MDNS | 1u << BG_ARP;
	if (rng_chance(r, 40)) {
		bg_ntp(g, t0 + rng_range(r, MS(50), FILE_SPAN_US));
		g->bg_seen |= 1u << BG_NTP;
	}
	if (rng_chance(r, 30)) {
		bg_ssdp(g, t0 + rng_range(r, MS(50), FILE_SPAN_US - MS(300)));
		g->bg_seen |= 1u << BG_SSDP;
	}
	if (rng_chance(r, 30)) {
		bg_app(g, t0 + rng_range(r, MS(50), FILE_SPAN_US - MS(2500)));
		g->bg_seen |= 1u << BG_APP_TLS;
	}
}

/* Idle captures: dev's heartbeat to its cloud every 2 s from one socket. */
static void heartbeat(struct gen *g, uint64_t t0)
{
	struct world *w = &g->w;
	struct host cloud = w->cloud;
	uint16_t port = ephemeral_port(&g->rng);
	uint32_t seq = (uint32_t)rng_range(&g->rng, 1000, 90000);
	uint64_t ts;
	struct msg m;

	cloud.ip = w->hb_ip;
	for (ts = t0; ts < t0 + FILE_SPAN_US + MS(500); ts += MS(2000)) {
		m.len = 0;
		put_str(&m, "HB01");
		put32(&m, seq++);
		put(&m, w->dev.mac, 6);
		put16(&m, 0);
		emit_udp(g, ts + rng_range(&g->rng, 0, 3000), &w->dev, port, &cloud, w->hb_port, 0,
			 &m);
	}
	g->bg_seen |= 1u << BG_HEARTBEAT;
}

/* ---- scenario "plug" ---- */

static void host_set(struct host *h, const uint8_t *mac, uint32_t ip, uint8_t ttl, bool remote)
{
	memcpy(h->mac, mac, 6);
	h->ip = ip;
	h->ttl = ttl;
	h->remote = remote;
	h->ip_id = 0;
}

static void multicast_host(struct host *h, uint32_t ip)
{
	uint8_t mac[6] = {0x01,	      0x00, 0x5e, (uint8_t)((ip >> 16) & 0x7f), (uint8_t)(ip >> 8),
			  (uint8_t)ip};

	host_set(h, mac, ip, 0, false);
}

static void plug_setup(struct world *w)
{
	static const uint8_t plug[6] = {0x50, 0xc7, 0xbf, 0x00, 0x00, 0x50};
	static const uint8_t phone[6] = {0x3c, 0x22, 0xfb, 0x00, 0x00, 0x20};
	static const uint8_t gw[6] = {0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x01};

	host_set(&w->dev, plug, IP4(192, 168, 1, 50), 64, false);
	host_set(&w->ctl, phone, IP4(192, 168, 1, 20), 64, false);
	host_set(&w->gw, gw, IP4(192, 168, 1, 1), 64, false);
	host_set(&w->cloud, gw, IP4(203, 0, 113, 10), 49, true);
	host_set(&w->ntp, gw, IP4(198, 51, 100, 5), 54, true);
	host_set(&w->app, gw, IP4(198, 51, 100, 77), 52, true);
	w->dev_local = "plug-50.local";
	w->cloud_name = "api.plugcloud.example";
	w->app_name = "random-app.example";
	w->hb_ip = IP4(203, 0, 113, 10);
	w->hb_port = 50443;
}

/* TP-Link Smart Home Protocol over TCP: 4-byte length, then autokey XOR (key 171). */
static void tplink_put(struct msg *m, const char *json)
{
	size_t i, n = strlen(json);
	uint8_t key = 171;

	put32(m, (uint32_t)n);
	for (i = 0; i < n; i++) {
		key = (uint8_t)json[i] ^ key;
		put8(m, key);
	}
}

enum { PLUG_TPLINK, PLUG_DNS, PLUG_TLS };

static const char *const plug_truth[] = {
    [PLUG_TPLINK] = "tcp 192.168.1.20 -> 192.168.1.50:9999 tplink system.set_relay_state",
    [PLUG_DNS] = "udp 192.168.1.50 -> 192.168.1.1:53 dns A api.plugcloud.example",
    [PLUG_TLS] = "tcp 192.168.1.50 -> api.plugcloud.example:443 tls",
};

static bool plug_dns_cached(unsigned i)
{
	return i % 10 == 7;
}

static unsigned plug_event(struct gen *g, unsigned i, uint64_t t0)
{
	static const char *const alpn[] = {"http/1.1"};
	struct world *w = &g->w;
	struct rng *r = &g->rng;
	bool cached = plug_dns_cached(i);
	uint64_t lan_rtt = MS(rng_range(r, 3, 9));
	uint64_t wan_rtt = MS(rng_range(r, 25, 45));
	struct tls_profile p = {
	    .sni = w->cloud_name,
	    .alpn = alpn,
	    .nalpn = 1,
	    .chain = &w->cloud_chain,
	    .min_records = 6,
	    .max_records = 10,
	    .up_mean = 290,
	    .down_mean = 1130,
	    .cpu_min_ms = 30,
	    .cpu_max_ms = 70,
	    .think_min_ms = 20,
	    .think_max_ms = 120,
	};
	unsigned present = 0;
	uint64_t ts, t_reply;
	struct tcp t;
	struct msg m;

	/* A cached answer is the one of the previous occurrence. */
	w->cloud.ip = IP4(203, 0, 113, 10 + (cached ? (i + 2) % 3 : i % 3));

	tcp_init(&t, g, &w->ctl, ephemeral_port(r), &w->dev, 9999, lan_rtt);
	ts = tcp_open(&t, t0);
	m.len = 0;
	tplink_put(&m, "{\"system\":{\"set_relay_state\":{\"state\":1}}}");
	ts = tcp_send(&t, C2S, ts + rng_range(r, 300, 2000), &m);
	m.len = 0;
	tplink_put(&m, "{\"system\":{\"set_relay_state\":{\"err_code\":0}}}");
	t_reply = tcp_send(&t, S2C, ts + lan_rtt / 2 + MS(rng_range(r, 5, 25)), &m);
	tcp_close(&t, C2S, t_reply + MS(rng_range(r, 2, 15)));
	present |= 1u << PLUG_TPLINK;

	ts = t_reply + MS(rng_range(r, 40, 120));
	if (!cached) {
		struct dns_rr rr[2] = {
		    {.name = w->cloud_name,
		     .type = DNS_CNAME,
		     .cls = DNS_IN,
		     .ttl = 3600,
		     .target = "edge.plugcloud.example"},
		    {.name = "edge.plugcloud.example",
		     .type = DNS_A,
		     .cls = DNS_IN,
		     .ttl = 300,
		     .addr = w->cloud.ip},
		};

		ts = dns_lookup(g, ts, &w->dev, w->cloud_name, rr, 2, MS(rng_range(r, 5, 40)));
		present |= 1u << PLUG_DNS;
	}
	tls_session(g, ts + MS(rng_range(r, 2, 30)), &w->dev, &w->cloud, wan_rtt, &p);
	present |= 1u << PLUG_TLS;
	return present;
}

/* ---- scenario "synth" ---- */

static void synth_setup(struct world *w)
{
	static const uint8_t cam[6] = {0xac, 0xcc, 0x8e, 0x00, 0x00, 0x07};
	static const uint8_t laptop[6] = {0x8c, 0x85, 0x90, 0x00, 0x00, 0x30};
	static const uint8_t hub[6] = {0xb8, 0x27, 0xeb, 0x00, 0x00, 0x02};
	static const uint8_t gw[6] = {0x00, 0x1a, 0x2b, 0x0a, 0x00, 0x01};

	host_set(&w->dev, cam, IP4(10, 0, 0, 7), 64, false);
	host_set(&w->ctl, laptop, IP4(10, 0, 0, 30), 64, false);
	host_set(&w->hub, hub, IP4(10, 0, 0, 2), 64, false);
	host_set(&w->gw, gw, IP4(10, 0, 0, 1), 64, false);
	host_set(&w->cloud, gw, IP4(192, 0, 2, 80), 51, true);
	host_set(&w->ntp, gw, IP4(198, 51, 100, 5), 54, true);
	host_set(&w->app, gw, IP4(198, 51, 100, 77), 52, true);
	w->dev_local = "cam-7.local";
	w->cloud_name = "cam.vendor.example";
	w->app_name = "random-app.example";
	w->hb_ip = IP4(192, 0, 2, 80);
	w->hb_port = 10001;
}

enum { SYNTH_DHCP, SYNTH_DNS, SYNTH_HTTP, SYNTH_COAP };

static const char *const synth_truth[] = {
    [SYNTH_DHCP] = "udp 10.0.0.7 -> 10.0.0.1:67 dhcp REQUEST",
    [SYNTH_DNS] = "udp 10.0.0.7 -> 10.0.0.1:53 dns A cam.vendor.example",
    [SYNTH_HTTP] = "tcp 10.0.0.7 -> cam.vendor.example:80 http GET /api/v1/event",
    [SYNTH_COAP] = "udp 10.0.0.7 -> 10.0.0.2:5683 coap POST /notify",
};

static bool synth_coap_missing(unsigned i)
{
	return i % 10 == 3;
}

static void dhcp_option(struct msg *m, unsigned code, const void *p, size_t n)
{
	put8(m, code);
	put8(m, (unsigned)n);
	put(m, p, n);
}

/*
 * RFC 2131 BOOTP message: op htype hlen hops | xid | secs flags | ciaddr |
 * yiaddr | siaddr | giaddr | chaddr[16] | sname[64] | file[128] | cookie | options
 */
static void dhcp_message(struct msg *m, bool reply, uint32_t xid, const struct host *cli,
			 const struct host *srv)
{
	static const uint8_t params[] = {1, 3, 6, 15, 28, 42};
	uint8_t v[8];

	m->len = 0;
	put8(m, reply ? 2 : 1);
	put8(m, 1);
	put8(m, 6);
	put8(m, 0);
	put32(m, xid);
	put16(m, 0);
	put16(m, 0);
	put32(m, cli->ip);	       /* ciaddr: renewing */
	put32(m, reply ? cli->ip : 0); /* yiaddr */
	put32(m, 0);
	put32(m, 0);
	put(m, cli->mac, 6);
	put_zero(m, 10 + 64 + 128);
	put32(m, 0x63825363);
	if (!reply) {
		v[0] = 3; /* DHCPREQUEST */
		dhcp_option(m, 53, v, 1);
		v[0] = 1;
		memcpy(v + 1, cli->mac, 6);
		dhcp_option(m, 61, v, 7);
		set16(v, 1500);
		dhcp_option(m, 57, v, 2);
		dhcp_option(m, 12, "cam-7", 5);
		dhcp_option(m, 55, params, sizeof(params));
	} else {
		v[0] = 5; /* DHCPACK */
		dhcp_option(m, 53, v, 1);
		set32(v, srv->ip);
		dhcp_option(m, 54, v, 4);
		set32(v, 86400);
		dhcp_option(m, 51, v, 4);
		set32(v, 43200);
		dhcp_option(m, 58, v, 4);
		set32(v, 75600);
		dhcp_option(m, 59, v, 4);
		set32(v, 0xffffff00);
		dhcp_option(m, 1, v, 4);
		set32(v, srv->ip);
		dhcp_option(m, 3, v, 4);
		dhcp_option(m, 6, v, 4);
		dhcp_option(m, 15, "lan", 3);
	}
	put8(m, 255);
	if (m->len < 300)
		put_zero(m, 300 - m->len);
}

/*
 * RFC 7252 CoAP: |ver|T|TKL| code | message id | token | options | 0xff payload
 */
static uint64_t synth_coap(struct gen *g, uint64_t ts, unsigned id)
{
	struct world *w = &g->w;
	struct rng *r = &g->rng;
	uint16_t port = ephemeral_port(r);
	uint16_t mid = (uint16_t)rng_next(r);
	uint8_t token[4];
	char body[64];
	struct msg m;

	rng_bytes(r, token, sizeof(token));
	snprintf(body, sizeof(body), "{\"event\":\"motion\",\"id\":%u}", id);
	m.len = 0;
	put8(&m, 0x40 | sizeof(token)); /* ver 1, CON */
	put8(&m, 0x02);			/* 0.02 POST */
	put16(&m, mid);
	put(&m, token, sizeof(token));
	put8(&m, 0xb6); /* Uri-Path (11), 6 bytes */
	put_str(&m, "notify");
	put8(&m, 0x11); /* Content-Format (12), 1 byte */
	put8(&m, 50);	/* application/json */
	put8(&m, 0xff);
	put_str(&m, body);
	emit_udp(g, ts, &w->dev, port, &w->hub, 5683, 0, &m);

	ts += MS(rng_range(r, 4, 20));
	m.len = 0;
	put8(&m, 0x60 | sizeof(token)); /* ver 1, ACK */
	put8(&m, 0x44);			/* 2.04 Changed */
	put16(&m, mid);
	put(&m, token, sizeof(token));
	emit_udp(g, ts, &w->hub, 5683, &w->dev, port, 0, &m);
	return ts;
}

static uint64_t synth_http(struct gen *g, uint64_t ts, unsigned id)
{
	struct world *w = &g->w;
	struct rng *r = &g->rng;
	char text[512], body[64];
	struct tcp t;
	struct msg m;
	int n;

	tcp_init(&t, g, &w->dev, ephemeral_port(r), &w->cloud, 80, MS(rng_range(r, 20, 35)));
	ts = tcp_open(&t, ts);
	snprintf(text, sizeof(text),
		 "GET /api/v1/event?id=%u HTTP/1.1\r\n"
		 "Host: %s\r\n"
		 "User-Agent: camfw/2.1.7\r\n"
		 "Accept: application/json\r\n"
		 "Connection: close\r\n"
		 "\r\n",
		 id, w->cloud_name);
	m.len = 0;
	put_str(&m, text);
	ts = tcp_send(&t, C2S, ts + rng_range(r, 200, 1500), &m);
	tcp_ack(&t, S2C, ts + t.rtt + rng_range(r, 100, 500));

	n = snprintf(body, sizeof(body), "{\"status\":\"ok\",\"id\":%u}", id);
	snprintf(text, sizeof(text),
		 "HTTP/1.1 200 OK\r\n"
		 "Server: nginx\r\n"
		 "Content-Type: application/json\r\n"
		 "Content-Length: %d\r\n"
		 "Connection: close\r\n"
		 "\r\n"
		 "%s",
		 n, body);
	m.len = 0;
	put_str(&m, text);
	ts = tcp_send(&t, S2C, ts + t.rtt + MS(rng_range(r, 8, 40)), &m);
	return tcp_close(&t, S2C, ts + rng_range(r, 100, 800));
}

static unsigned synth_event(struct gen *g, unsigned i, uint64_t t0)
{
	struct world *w = &g->w;
	struct rng *r = &g->rng;
	unsigned id = 4100 + i, present = 0;
	uint32_t xid = (uint32_t)rng_next(r);
	struct dns_rr rr;
	struct msg m;
	uint64_t ts;

	w->cloud.ip = IP4(192, 0, 2, 80 + i % 2);

	dhcp_message(&m, false, xid, &w->dev, &w->gw);
	emit_udp(g, t0, &w->dev, 68, &w->gw, 67, 0, &m);
	ts = t0 + MS(rng_range(r, 2, 12));
	dhcp_message(&m, true, xid, &w->dev, &w->gw);
	emit_udp(g, ts, &w->gw, 67, &w->dev, 68, 0, &m);
	present |= 1u << SYNTH_DHCP;

	rr = (struct dns_rr){
	    .name = w->cloud_name, .type = DNS_A, .cls = DNS_IN, .ttl = 30, .addr = w->cloud.ip};
	ts = dns_lookup(g, ts + MS(rng_range(r, 30, 90)), &w->dev, w->cloud_name, &rr, 1,
			MS(rng_range(r, 5, 30)));
	present |= 1u << SYNTH_DNS;

	ts = synth_http(g, ts + MS(rng_range(r, 1, 10)), id);
	present |= 1u << SYNTH_HTTP;

	if (!synth_coap_missing(i)) {
		synth_coap(g, ts + MS(rng_range(r, 20, 80)), id);
		present |= 1u << SYNTH_COAP;
	}
	return present;
}

/* ---- scenarios, files, truth ---- */

struct scenario {
	const char *name;
	const char *summary;
	uint64_t epoch0;  /* time of event 0 */
	unsigned spacing; /* seconds between events; idle i is at +spacing/2 */
	void (*setup)(struct world *w);
	unsigned (*event)(struct gen *g, unsigned i, uint64_t t0);
	const char *const *truth;
	unsigned ntruth;
	const char *org; /* certificate organisation of the cloud */
};

static const struct scenario scenarios[] = {
    {"plug", "smart plug 192.168.1.50 switched on from a phone (the demo)", 1700000000, 600,
     plug_setup, plug_event, plug_truth, ARRAY_SIZE(plug_truth), "Plugcloud Example Inc"},
    {"synth", "camera 10.0.0.7: DHCP renew, DNS, HTTP event report, CoAP notify", 1710000000, 900,
     synth_setup, synth_event, synth_truth, ARRAY_SIZE(synth_truth), "Vendor Example Ltd"},
};

struct tally {
	unsigned events, idle;
	unsigned flow[8];	   /* event captures holding truth line i */
	unsigned bg[BG__COUNT][2]; /* [kind][0 event, 1 idle] */
	char missing[8][256];	   /* files missing truth line i */
};

static int write_pcap(const char *path, struct gen *g)
{
	pcap_t *pd;
	pcap_dumper_t *d;
	size_t i;
	int ret = 0;

	qsort(g->f, g->nf, sizeof(*g->f), frame_cmp);
	pd = pcap_open_dead(DLT_EN10MB, 65535);
	if (!pd) {
		fprintf(stderr, "sigex-gen: pcap_open_dead failed\n");
		return -1;
	}
	d = pcap_dump_open(pd, path);
	if (!d) {
		fprintf(stderr, "sigex-gen: %s: %s\n", path, pcap_geterr(pd));
		pcap_close(pd);
		return -1;
	}
	for (i = 0; i < g->nf; i++) {
		struct pcap_pkthdr h;

		memset(&h, 0, sizeof(h));
		h.ts.tv_sec = (time_t)(g->f[i].ts / 1000000);
		h.ts.tv_usec = (suseconds_t)(g->f[i].ts % 1000000);
		h.caplen = h.len = g->f[i].len;
		pcap_dump((u_char *)d, &h, g->f[i].b);
	}
	if (pcap_dump_flush(d) != 0) {
		fprintf(stderr, "sigex-gen: %s: write error\n", path);
		ret = -1;
	}
	pcap_dump_close(d);
	pcap_close(pd);
	return ret;
}

enum file_kind { KIND_EVENT = 1, KIND_IDLE = 2 };

static struct gen *gen_new(const struct scenario *sc, uint64_t seed, enum file_kind kind,
			   unsigned index)
{
	struct gen *g = calloc(1, sizeof(*g));
	struct world *w;

	if (!g) {
		fputs("sigex-gen: out of memory\n", stderr);
		exit(1);
	}
	g->sc = sc;
	g->seed = seed;
	rng_seed(&g->rng, seed, fnv1a(sc->name) ^ (uint64_t)kind << 40 ^ index);
	w = &g->w;
	sc->setup(w);
	multicast_host(&w->mdns, IP4(224, 0, 0, 251));
	multicast_host(&w->ssdp, IP4(239, 255, 255, 250));
	w->dev.ip_id = (uint16_t)rng_next(&g->rng);
	w->ctl.ip_id = (uint16_t)rng_next(&g->rng);
	w->gw.ip_id = (uint16_t)rng_next(&g->rng);
	w->hub.ip_id = (uint16_t)rng_next(&g->rng);
	w->cloud.ip_id = (uint16_t)rng_next(&g->rng);
	w->ntp.ip_id = (uint16_t)rng_next(&g->rng);
	w->app.ip_id = (uint16_t)rng_next(&g->rng);
	make_chain(&w->cloud_chain, seed, w->cloud_name, sc->org);
	make_chain(&w->app_chain, seed, w->app_name, "Random App Example");
	return g;
}

static void gen_free(struct gen *g)
{
	if (!g)
		return;
	free(g->f);
	free(g);
}

static void tally_bg(struct tally *t, const struct gen *g, int idle)
{
	unsigned k;

	for (k = 0; k < BG__COUNT; k++)
		if (g->bg_seen & 1u << k)
			t->bg[k][idle]++;
}

static int gen_event(const struct scenario *sc, uint64_t seed, unsigned i, const char *dir,
		     struct tally *t)
{
	struct gen *g = gen_new(sc, seed, KIND_EVENT, i);
	uint64_t epoch = sc->epoch0 + (uint64_t)i * sc->spacing;
	uint64_t t0 = epoch * 1000000 + MS(1000) + rng_range(&g->rng, 0, MS(500));
	char path[4096];
	unsigned present, k;
	int ret;

	present = sc->event(g, i, t0);
	background(g, t0);
	snprintf(path, sizeof(path), "%s/%" PRIu64 ".pcap", dir, epoch);
	ret = write_pcap(path, g);
	for (k = 0; k < sc->ntruth; k++) {
		size_t len = strlen(t->missing[k]);

		if (present & 1u << k)
			t->flow[k]++;
		else if (len + 32 < sizeof(t->missing[k]))
			snprintf(t->missing[k] + len, sizeof(t->missing[k]) - len,
				 "%s%" PRIu64 ".pcap", len ? " " : "", epoch);
		else if (len + 4 < sizeof(t->missing[k]) && strcmp(t->missing[k] + len - 4, " ..."))
			memcpy(t->missing[k] + len, " ...", 5);
	}
	tally_bg(t, g, 0);
	gen_free(g);
	return ret;
}

static int gen_idle(const struct scenario *sc, uint64_t seed, unsigned i, const char *dir,
		    struct tally *t)
{
	struct gen *g = gen_new(sc, seed, KIND_IDLE, i);
	uint64_t epoch = sc->epoch0 + (uint64_t)i * sc->spacing + sc->spacing / 2;
	uint64_t t0 = epoch * 1000000 + MS(1000) + rng_range(&g->rng, 0, MS(500));
	char path[4096];
	int ret;

	heartbeat(g, t0);
	background(g, t0 + MS(50));
	snprintf(path, sizeof(path), "%s/idle-%u.pcap", dir, i);
	ret = write_pcap(path, g);
	tally_bg(t, g, 1);
	gen_free(g);
	return ret;
}

static void ip_str(char *out, size_t outsz, uint32_t ip)
{
	snprintf(out, outsz, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
		 ip & 0xff);
}

static void bg_line(const struct world *w, enum bg_kind k, char *out, size_t outsz)
{
	char dev[16], ctl[16], gw[16], ip[16];

	ip_str(dev, sizeof(dev), w->dev.ip);
	ip_str(ctl, sizeof(ctl), w->ctl.ip);
	ip_str(gw, sizeof(gw), w->gw.ip);
	switch (k) {
	case BG_MDNS:
		snprintf(out, outsz, "udp %s -> 224.0.0.251:5353 mdns %s", dev, w->dev_local);
		break;
	case BG_ARP:
		snprintf(out, outsz, "arp %s -> %s who-has", dev, gw);
		break;
	case BG_NTP:
		ip_str(ip, sizeof(ip), w->ntp.ip);
		snprintf(out, outsz, "udp %s -> %s:123 ntp", dev, ip);
		break;
	case BG_SSDP:
		snprintf(out, outsz, "udp %s -> 239.255.255.250:1900 ssdp M-SEARCH", ctl);
		break;
	case BG_APP_DNS:
		snprintf(out, outsz, "udp %s -> %s:53 dns A %s", ctl, gw, w->app_name);
		break;
	case BG_APP_TLS:
		snprintf(out, outsz, "tcp %s -> %s:443 tls", ctl, w->app_name);
		break;
	case BG_HEARTBEAT:
		ip_str(ip, sizeof(ip), w->hb_ip);
		snprintf(out, outsz, "udp %s -> %s:%u heartbeat", dev, ip, w->hb_port);
		break;
	default:
		out[0] = '\0';
		break;
	}
}

static int write_truth(const char *dir, const struct scenario *sc, uint64_t seed,
		       const struct tally *t)
{
	char path[4096], line[256];
	struct world w;
	unsigned k;
	FILE *f;
	int ret = 0;

	memset(&w, 0, sizeof(w));
	sc->setup(&w);
	snprintf(path, sizeof(path), "%s/truth.txt", dir);
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "sigex-gen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f,
		"# sigex-gen ground truth: scenario %s, seed %" PRIu64
		", %u event captures, %u idle captures\n",
		sc->name, seed, t->events, t->idle);
	fprintf(f, "# %s\n", sc->summary);
	fprintf(f, "# Lines: [background] TRANSPORT CLIENT -> SERVER[:PORT] PROTOCOL [DETAIL...];\n"
		   "# '#' lines are comments (the count of captures holding the flow).\n");
	for (k = 0; k < sc->ntruth; k++) {
		fprintf(f, "# in %u of %u event captures", t->flow[k], t->events);
		if (t->missing[k][0])
			fprintf(f, " (absent from %s)", t->missing[k]);
		fprintf(f, "\n%s\n", sc->truth[k]);
	}
	for (k = 0; k < BG__COUNT; k++) {
		bg_line(&w, (enum bg_kind)k, line, sizeof(line));
		fprintf(f, "# in %u of %u event captures, %u of %u idle captures\n", t->bg[k][0],
			t->events, t->bg[k][1], t->idle);
		fprintf(f, "background %s\n", line);
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "sigex-gen: %s: %s\n", path, strerror(errno));
		ret = -1;
	}
	return ret;
}

/* mkdir -p */
static int make_dirs(const char *dir)
{
	char buf[4096];
	struct stat st;
	size_t i, n = strlen(dir);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return -errno;
		buf[i] = i < n ? '/' : '\0';
	}
	if (stat(dir, &st) != 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static const char usage[] =
    "Usage: sigex-gen [OPTIONS] OUTDIR\n"
    "\n"
    "Write a deterministic synthetic corpus of one scenario into OUTDIR: one\n"
    "capture per event occurrence (<epoch>.pcap), idle captures (idle-<i>.pcap)\n"
    "and the ground truth (truth.txt).  Same arguments, same bytes.\n"
    "\n"
    "Options:\n"
    "  -s, --seed N         seed of every random choice (default 1)\n"
    "  -S, --scenario NAME  plug (default) or synth; see corpora/README.md\n"
    "  -e, --events N       event captures (default 10)\n"
    "  -b, --background N   idle captures without the event (default 0)\n"
    "  -h, --help           this help\n"
    "\n"
    "Scenarios:\n";

static void print_usage(FILE *f)
{
	size_t i;

	fputs(usage, f);
	for (i = 0; i < ARRAY_SIZE(scenarios); i++)
		fprintf(f, "  %-6s %s\n", scenarios[i].name, scenarios[i].summary);
	fputs("\nExit status: 0 ok, 1 failure, 2 usage error.\n", f);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"seed", required_argument, NULL, 's'},   {"scenario", required_argument, NULL, 'S'},
	    {"events", required_argument, NULL, 'e'}, {"background", required_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	const struct scenario *sc = &scenarios[0];
	uint64_t seed = 1, events = 10, idle = 0;
	struct tally *t;
	const char *dir;
	unsigned i;
	size_t k;
	int c, ret;

	for (;;) {
		c = getopt_long(argc, argv, "s:S:e:b:h", opts, NULL);
		if (c == -1)
			break;
		switch (c) {
		case 's':
			if (parse_u64(optarg, UINT64_MAX, &seed)) {
				fprintf(stderr, "sigex-gen: bad --seed '%s'\n", optarg);
				return 2;
			}
			break;
		case 'S':
			for (k = 0; k < ARRAY_SIZE(scenarios); k++)
				if (!strcmp(optarg, scenarios[k].name))
					break;
			if (k == ARRAY_SIZE(scenarios)) {
				fprintf(stderr, "sigex-gen: unknown scenario '%s'\n", optarg);
				return 2;
			}
			sc = &scenarios[k];
			break;
		case 'e':
			if (parse_u64(optarg, MAX_COUNT, &events)) {
				fprintf(stderr, "sigex-gen: bad --events '%s'\n", optarg);
				return 2;
			}
			break;
		case 'b':
			if (parse_u64(optarg, MAX_COUNT, &idle)) {
				fprintf(stderr, "sigex-gen: bad --background '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			print_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		print_usage(stderr);
		return 2;
	}
	dir = argv[optind];
	ret = make_dirs(dir);
	if (ret) {
		fprintf(stderr, "sigex-gen: %s: %s\n", dir, strerror(-ret));
		return 1;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		fputs("sigex-gen: out of memory\n", stderr);
		return 1;
	}
	t->events = (unsigned)events;
	t->idle = (unsigned)idle;
	ret = 0;
	for (i = 0; i < events && !ret; i++)
		ret = gen_event(sc, seed, i, dir, t);
	for (i = 0; i < idle && !ret; i++)
		ret = gen_idle(sc, seed, i, dir, t);
	if (!ret)
		ret = write_truth(dir, sc, seed, t);
	free(t);
	return ret ? 1 : 0;
}
