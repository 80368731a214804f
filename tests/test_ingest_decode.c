/*
 * test_ingest_decode.c - sx_decode() on hand-built frames.
 *
 * Each test spells out the bytes it feeds: link layers (Ethernet with VLAN
 * and QinQ tags, PPPoE, 802.3 LLC/SNAP, Linux cooked v1/v2, raw IP, BSD
 * NULL/LOOP), IPv4 options and fragments, the IPv6 extension-header chain,
 * and the transports.  The truncation tests decode every prefix of sample
 * frames from a heap buffer of exactly that length, so that
 * AddressSanitizer catches any read past caplen.
 *
 * Ports are chosen away from the well-known ones so that the application
 * dissectors (tested elsewhere) do not claim the payloads, except in the
 * DNS-like frame, where only the transport outcome is checked.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest.h"
#include "support/frames.h"

TestSuite(ingest_decode, .timeout = 60);

/* ---- a byte builder ---- */

struct fb {
	uint8_t b[4096];
	size_t n;
};

static void u8(struct fb *f, unsigned v)
{
	cr_assert_lt(f->n, sizeof(f->b));
	f->b[f->n++] = (uint8_t)v;
}

static void be16(struct fb *f, unsigned v)
{
	u8(f, v >> 8);
	u8(f, v);
}

static void be32(struct fb *f, uint32_t v)
{
	be16(f, v >> 16);
	be16(f, v & 0xffff);
}

static void bytes(struct fb *f, const void *p, size_t n)
{
	cr_assert_leq(f->n + n, sizeof(f->b));
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void fill(struct fb *f, unsigned v, size_t n)
{
	while (n--)
		u8(f, v);
}

static void set16(struct fb *f, size_t at, unsigned v)
{
	f->b[at] = (uint8_t)(v >> 8);
	f->b[at + 1] = (uint8_t)v;
}

static void macs(struct fb *f)
{
	static const uint8_t m[12] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};

	bytes(f, m, sizeof(m));
}

static void ip4addr(struct fb *f, const char *a)
{
	uint8_t b[4];

	cr_assert_eq(inet_pton(AF_INET, a, b), 1);
	bytes(f, b, 4);
}

static void ip6addr(struct fb *f, const char *a)
{
	uint8_t b[16];

	cr_assert_eq(inet_pton(AF_INET6, a, b), 1);
	bytes(f, b, 16);
}

/* IPv4 header; returns its offset so that total length can be patched. */
static size_t ipv4(struct fb *f, uint8_t proto, const char *src, const char *dst, uint16_t fragword,
		   const uint8_t *opts, size_t optlen)
{
	size_t at = f->n;

	cr_assert_eq(optlen % 4, 0);
	u8(f, 0x40 | (unsigned)(5 + optlen / 4));
	u8(f, 0);
	be16(f, 0); /* total length, patched by ip4_done */
	be16(f, 0x1234);
	be16(f, fragword);
	u8(f, 64);
	u8(f, proto);
	be16(f, 0);
	ip4addr(f, src);
	ip4addr(f, dst);
	if (optlen)
		bytes(f, opts, optlen);
	return at;
}

static void ip4_done(struct fb *f, size_t at)
{
	set16(f, at + 2, (unsigned)(f->n - at));
}

static size_t ipv6(struct fb *f, uint8_t nh, const char *src, const char *dst)
{
	size_t at = f->n;

	be32(f, 0x60000000);
	be16(f, 0); /* payload length, patched by ip6_done */
	u8(f, nh);
	u8(f, 255);
	ip6addr(f, src);
	ip6addr(f, dst);
	return at;
}

static void ip6_done(struct fb *f, size_t at)
{
	set16(f, at + 4, (unsigned)(f->n - at - 40));
}

static size_t udp(struct fb *f, uint16_t sport, uint16_t dport)
{
	size_t at = f->n;

	be16(f, sport);
	be16(f, dport);
	be16(f, 0);
	be16(f, 0);
	return at;
}

static void udp_done(struct fb *f, size_t at)
{
	set16(f, at + 4, (unsigned)(f->n - at));
}

static void tcp(struct fb *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		uint8_t flags, uint16_t win, const uint8_t *opts, size_t optlen)
{
	cr_assert_eq(optlen % 4, 0);
	be16(f, sport);
	be16(f, dport);
	be32(f, seq);
	be32(f, ack);
	u8(f, (unsigned)((5 + optlen / 4) << 4));
	u8(f, flags);
	be16(f, win);
	be16(f, 0);
	be16(f, 0);
	if (optlen)
		bytes(f, opts, optlen);
}

static struct sx_pkt *new_pkt(void)
{
	struct sx_pkt *p = calloc(1, sizeof(*p));

	cr_assert_not_null(p);
	return p;
}

/* Decode f from a heap copy of exactly caplen bytes. */
static void decode_n(struct sx_pkt *pkt, enum sx_l2 l2, const struct fb *f, size_t caplen,
		     size_t wirelen)
{
	/* malloc(0) gives a pointer with no usable byte: any read is caught. */
	uint8_t *copy = malloc(caplen);

	cr_assert_not_null(copy);
	if (caplen)
		memcpy(copy, f->b, caplen);
	sx_decode(pkt, l2, copy, (uint32_t)caplen, (uint32_t)wirelen);
	/* payload must point inside the copy; compare it before freeing. */
	if (pkt->payload_cap) {
		cr_assert_geq(pkt->payload, copy);
		cr_assert_leq(pkt->payload + pkt->payload_cap, copy + caplen);
	}
	free(copy);
	pkt->payload = NULL;
}

static void decode(struct sx_pkt *pkt, enum sx_l2 l2, const struct fb *f)
{
	decode_n(pkt, l2, f, f->n, f->n);
}

static void assert_addr4(const struct sx_addr *a, const char *want)
{
	char buf[64];

	cr_assert_eq(a->family, 4);
	cr_assert_str_eq(sx_addr_str(a, buf, sizeof(buf)), want);
}

static void assert_addr6(const struct sx_addr *a, const char *want)
{
	char buf[64];

	cr_assert_eq(a->family, 6);
	cr_assert_str_eq(sx_addr_str(a, buf, sizeof(buf)), want);
}

static const uint8_t tcp_opts[12] = {
    2, 4, 0x05, 0xb4, /* MSS 1460 */
    1,		      /* NOP */
    3, 3, 7,	      /* window scale 7 */
    4, 2,	      /* SACK permitted */
    1, 1,	      /* NOP NOP */
};

/* ---- link types ---- */

Test(ingest_decode, l2_from_dlt)
{
	cr_assert_eq(sx_l2_from_dlt(1), SX_L2_ETH);
	cr_assert_eq(sx_l2_from_dlt(113), SX_L2_SLL);
	cr_assert_eq(sx_l2_from_dlt(276), SX_L2_SLL2);
	cr_assert_eq(sx_l2_from_dlt(12), SX_L2_RAW);
	cr_assert_eq(sx_l2_from_dlt(14), SX_L2_RAW);
	cr_assert_eq(sx_l2_from_dlt(101), SX_L2_RAW);
	cr_assert_eq(sx_l2_from_dlt(228), SX_L2_RAW);
	cr_assert_eq(sx_l2_from_dlt(229), SX_L2_RAW);
	cr_assert_eq(sx_l2_from_dlt(0), SX_L2_NULL);
	cr_assert_eq(sx_l2_from_dlt(108), SX_L2_NULL);
	cr_assert_eq(sx_l2_from_dlt(105), SX_L2_UNSUPPORTED); /* 802.11 */
	cr_assert_eq(sx_l2_from_dlt(127), SX_L2_UNSUPPORTED); /* radiotap */
	cr_assert_eq(sx_l2_from_dlt(-1), SX_L2_UNSUPPORTED);
}

Test(ingest_decode, unsupported_link_type)
{
	struct sx_pkt *p = new_pkt();
	struct fb f = {.n = 0};

	fill(&f, 0x45, 64);
	decode(p, SX_L2_UNSUPPORTED, &f);
	cr_assert_eq(p->status, SX_DEC_UNSUPPORTED);
	cr_assert_eq(p->proto, SX_P_UNKNOWN);
	cr_assert_eq(p->src.family, 0);
	cr_assert_eq(p->wire_len, 64);
	cr_assert_eq(p->cap_len, 64);
	cr_assert_str_eq(sx_proto_name(p->proto), "UNKNOWN");
	free(p);
}

Test(ingest_decode, ethernet_ipv4_tcp_with_options_and_payload)
{
	struct sx_pkt *p = new_pkt();
	struct fb f = {.n = 0};
	size_t ip;

	macs(&f);
	be16(&f, 0x0800);
	ip = ipv4(&f, 6, "192.0.2.1", "198.51.100.7", 0x4000 /* DF */, NULL, 0);
	tcp(&f, 40000, 8443, 0x11223344, 0x55667788, SX_TCP_PSH | SX_TCP_ACK, 501, tcp_opts,
	    sizeof(tcp_opts));
	bytes(&f, "hello", 5);
	ip4_done(&f, ip);
	decode(p, SX_L2_ETH, &f);

	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->proto, SX_P_TCP);
	cr_assert_eq(p->l2, SX_L2_ETH);
	cr_assert_eq(p->ethertype, 0x0800);
	cr_assert_eq(p->nvlan, 0);
	cr_assert_eq(p->vlan, 0);
	assert_addr4(&p->src, "192.0.2.1");
	assert_addr4(&p->dst, "198.51.100.7");
	cr_assert_eq(p->ip_proto, 6);
	cr_assert_eq(p->ttl, 64);
	cr_assert_not(p->frag);
	cr_assert_eq(p->sport, 40000);
	cr_assert_eq(p->dport, 8443);
	cr_assert_eq(p->tcp_seq, 0x11223344u);
	cr_assert_eq(p->tcp_ack, 0x55667788u);
	cr_assert_eq(p->tcp_flags, SX_TCP_PSH | SX_TCP_ACK);
	cr_assert_eq(p->tcp_win, 501);
	cr_assert_eq(p->payload_len, 5, "the options are skipped, not payload");
	cr_assert_eq(p->payload_cap, 5);
	cr_assert_eq(p->wire_len, f.n);
	cr_assert_eq(p->cap_len, f.n);
	cr_assert_eq(sx_mac_pack(p->mac_dst), 0x020000000001ull);
	cr_assert_eq(sx_mac_pack(p->mac_src), 0x020000000002ull);
	free(p);
}

Test(ingest_decode, tcp_every_flag_and_max_options)
{
	struct sx_pkt *p = new_pkt();
	struct fb f = {.n = 0};
	uint8_t opts[40];
	size_t ip;

	memset(opts, 1, sizeof(opts)); /* 40 bytes of NOP: data offset 15 */
	macs(&f);
	be16(&f, 0x0800);
	ip = ipv4(&f, 6, "10.0.0.1", "10.0.0.2", 0, NULL, 0);
	tcp(&f, 1, 2, 0, 0, 0xff, 0, opts, sizeof(opts));
	ip4_done(&f, ip);
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->proto, SX_P_TCP);
	cr_assert_eq(p->tcp_flags, SX_TCP_FIN | SX_TCP_SYN | SX_TCP_RST | SX_TCP_PSH | SX_TCP_ACK |
				       SX_TCP_URG | SX_TCP_ECE | SX_TCP_CWR);
	cr_assert_eq(p->payload_len, 0);
	cr_assert_eq(p->payload_cap, 0);

	/* A data offset below 5 words is malformed, not a crash. */
	f.b[14 + 20 + 12] = 4 << 4;
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_MALFORMED);
	/* One beyond the segment's length as well. */
	f.b[14 + 20 + 12] = 15 << 4;
	set16(&f, 14 + 2, 20 + 40); /* IP total: the TCP segment is 40 bytes */
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_MALFORMED);
	free(p);
}

Test(ingest_decode, vlan_8021q)
{
	struct sx_pkt *p = new_pkt();
	struct fb f = {.n = 0};
	size_t ip, u;

	macs(&f);
	be16(&f, 0x8100);
	be16(&f, 0x6000 | 100); /* PCP 3, VLAN 100 */
	be16(&f, 0x0800);
	ip = ipv4(&f, 17, "192.0.2.1", "192.0.2.2", 0, NULL, 0);
	u = udp(&f, 40001, 40002);
	bytes(&f, "abcd", 4);
	udp_done(&f, u);
	ip4_done(&f, ip);
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->nvlan, 1);
	cr_assert_eq(p->vlan, 100);
	cr_assert_eq(p->ethertype, 0x0800);
	cr_assert_eq(p->proto, SX_P_UDP);
	cr_assert_eq(p->sport, 40001);
	cr_assert_eq(p->dport, 40002);
	cr_assert_eq(p->payload_len, 4);
	free(p);
}

Test(ingest_decode, qinq_records_outer_vlan)
{
	struct sx_pkt *p = new_pkt();
	struct fb f = {.n = 0};
	size_t ip, u;

	macs(&f);
	be16(&f, 0x88a8);
	be16(&f, 10); /* outer (service) VLAN 10 */
	be16(&f, 0x8100);
	be16(&f, 0x2000 | 20); /* inner (customer) VLAN 20 */
	be16(&f, 0x86dd);
	ip = ipv6(&f, 17, "2001:db8::1", "2001:db8::2");
	u = udp(&f, 40001, 40002);
	bytes(&f, "xyz", 3);
	udp_done(&f, u);
	ip6_done(&f, ip);
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->nvlan, 2);
	cr_assert_eq(p->vlan, 10, "the outer VLAN id is recorded");
	cr_assert_eq(p->ethertype, 0x86dd);
	cr_assert_eq(p->proto, SX_P_UDP);
	assert_addr6(&p->src, "2001:db8::1");
	assert_addr6(&p->dst, "2001:db8::2");
	cr_assert_eq(p->payload_len, 3);
	free(p);
}

Test(ingest_decode, too_many_vlan_tags_is_malformed)
{
	struct sx_pkt *p = new_pkt();
	struct fb f = {.n = 0};
	int i;

	macs(&f);
	for (i = 0; i < 8; i++) {
		be16(&f, 0x8100);
		be16(&f, (unsigned)(i + 1));
	}
	be16(&f, 0x0800);
	fill(&f, 0, 40);
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_MALFORMED);
	cr_assert_eq(p->vlan, 1);
	free(p);
}

static void pppoe_frame(struct fb *f, unsigned ppp, bool v6)
{
	size_t len_at, ip, u;

	macs(f);
	be16(f, 0x8864);
	u8(f, 0x11);	 /* version 1, type 1 */
	u8(f, 0x00);	 /* code: session data */
	be16(f, 0x0042); /* session id */
	len_at = f->n;
	be16(f, 0);
	be16(f, ppp);
	ip = v6 ? ipv6(f, 17, "2001:db8::10", "2001:db8::20")
		: ipv4(f, 17, "100.64.0.1", "100.64.0.2", 0, NULL, 0);
	u = udp(f, 50000, 50001);
	bytes(f, "pppoe", 5);
	udp_done(f, u);
	if (v6)
		ip6_done(f, ip);
	else
		ip4_done(f, ip);
	set16(f, len_at, (unsigned)(f->n - len_at - 2));
}

Test(ingest_decode, pppoe_session_ipv4_and_ipv6)
{
	struct sx_pkt *p = new_pkt();
	struct fb f = {.n = 0};

	pppoe_frame(&f, 0x0021, false);
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert(p->pppoe);
	cr_assert_eq(p->proto, SX_P_UDP);
	cr_assert_eq(p->ethertype, 0x0800);
	assert_addr4(&p->src, "100.64.0.1");
	cr_assert_eq(p->sport, 50000);
	cr_assert_eq(p->payload_len, 5);

	f.n = 0;
	pppoe_frame(&f, 0x0057, true);
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert(p->pppoe);
	cr_assert_eq(p->proto, SX_P_UDP);
	cr_assert_eq(p->ethertype, 0x86dd);
	assert_addr6(&p->dst, "2001:db8::20");
	cr_assert_eq(p->dport, 50001);

	/* LCP (0xc021) inside the session: PPPoE, no IP. */
	f.n = 0;
	pppoe_frame(&f, 0xc021, false);
	decode(p, SX_L2_ETH, &f);
	cr_assert(p->pppoe);
	cr_assert_eq(p->proto, SX_P_ETHERNET);
	cr_assert_eq(p->src.family, 0);
	free(p);
}

Test(ingest_decode, llc_and_snap)
{
	struct sx_pkt *p = new_pkt();
	struct fb f = {.n = 0};
	size_t ip, u, len_at;

	/* 802.3 + LLC (STP BPDU: DSAP 0x42, SSAP 0x42, UI). */
	macs(&f);
	be16(&f, 38);
	u8(&f, 0x42);
	u8(&f, 0x42);
	u8(&f, 0x03);
	fill(&f, 0, 35);
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->proto, SX_P_LLC);
	cr_assert_eq(p->ethertype, 38);
	cr_assert_eq(p->src.family, 0);
	cr_assert_str_eq(sx_proto_name(p->proto), "LLC");

	/* 802.3 + LLC + SNAP carrying IPv4. */
	f.n = 0;
	macs(&f);
	len_at = f.n;
	be16(&f, 0);
	u8(&f, 0xaa);
	u8(&f, 0xaa);
	u8(&f, 0x03);
	u8(&f, 0);
	u8(&f, 0);
	u8(&f, 0);
	be16(&f, 0x0800);
	ip = ipv4(&f, 17, "192.0.2.5", "192.0.2.6", 0, NULL, 0);
	u = udp(&f, 40005, 40006);
	bytes(&f, "snap", 4);
	udp_done(&f, u);
	ip4_done(&f, ip);
	set16(&f, len_at, (unsigned)(f.n - 14));
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->proto, SX_P_UDP);
	assert_addr4(&p->src, "192.0.2.5");
	cr_assert_eq(p->sport, 40005);
	cr_assert_eq(p->payload_len, 4);

	/* SNAP with a non-IP EtherType (AppleTalk): LLC. */
	f.b[20] = 0x80;
	f.b[21] = 0x9b;
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->proto, SX_P_LLC);
	cr_assert_eq(p->src.family, 0);
	free(p);
}

Test(ingest_decode, arp_eapol_and_other_ethertypes_are_labelled)
{
	struct sx_pkt *p = new_pkt();
	struct fb f = {.n = 0};

	macs(&f);
	be16(&f, 0x0806);
	be16(&f, 1);
	be16(&f, 0x0800);
	u8(&f, 6);
	u8(&f, 4);
	be16(&f, 1);
	fill(&f, 0, 20);
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->proto, SX_P_ARP);
	cr_assert_eq(p->ethertype, 0x0806);
	cr_assert_str_eq(sx_proto_name(p->proto), "ARP");

	f.n = 0;
	macs(&f);
	be16(&f, 0x888e);
	u8(&f, 2);
	u8(&f, 3); /* EAPOL-Key */
	be16(&f, 95);
	fill(&f, 0, 95);
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->proto, SX_P_EAPOL);
	cr_assert_str_eq(sx_proto_name(p->proto), "EAPOL");

	f.n = 0;
	macs(&f);
	be16(&f, 0x88cc); /* LLDP */
	fill(&f, 0, 30);
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->proto, SX_P_ETHERNET);
	cr_assert_eq(p->ethertype, 0x88cc);
	free(p);
}

static void sll1_header(struct fb *f, unsigned proto)
{
	be16(f, 0); /* packet type: to us */
	be16(f, 1); /* ARPHRD_ETHER */
	be16(f, 6);
	bytes(f, "\x02\x00\x00\x00\x00\x01\x00\x00", 8);
	be16(f, proto);
}

static void sll2_header(struct fb *f, unsigned proto)
{
	be16(f, proto);
	be16(f, 0);
	be32(f, 3); /* interface index */
	be16(f, 1); /* ARPHRD_ETHER */
	u8(f, 4);   /* outgoing */
	u8(f, 6);
	bytes(f, "\x02\x00\x00\x00\x00\x01\x00\x00", 8);
}

Test(ingest_decode, linux_cooked_v1)
{
	struct sx_pkt *p = new_pkt();
	struct fb f = {.n = 0};
	size_t ip, u;

	sll1_header(&f, 0x0800);
	ip = ipv4(&f, 17, "192.0.2.1", "192.0.2.9", 0, NULL, 0);
	u = udp(&f, 40001, 40009);
	bytes(&f, "sll", 3);
	udp_done(&f, u);
	ip4_done(&f, ip);
	decode(p, sx_l2_from_dlt(113), &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->l2, SX_L2_SLL);
	cr_assert_eq(p->proto, SX_P_UDP);
	assert_addr4(&p->dst, "192.0.2.9");
	cr_assert_eq(p->dport, 40009);
	cr_assert_eq(sx_mac_pack(p->mac_src), 0x020000000001ull, "SLL: the 6-byte source");
	cr_assert(sx_mac_is_zero(p->mac_dst), "SLL has no destination address");

	/* A kernel-reinserted 802.1Q tag. */
	f.n = 0;
	sll1_header(&f, 0x8100);
	be16(&f, 7);
	be16(&f, 0x86dd);
	ip = ipv6(&f, 17, "fe80::1", "ff02::fb");
	u = udp(&f, 40001, 40002);
	udp_done(&f, u);
	ip6_done(&f, ip);
	decode(p, SX_L2_SLL, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->vlan, 7);
	cr_assert_eq(p->nvlan, 1);
	cr_assert_eq(p->proto, SX_P_UDP);
	assert_addr6(&p->dst, "ff02::fb");

	/* ARP over SLL. */
	f.n = 0;
	sll1_header(&f, 0x0806);
	fill(&f, 0, 28);
	decode(p, SX_L2_SLL, &f);
	cr_assert_eq(p->proto, SX_P_ARP);
	free(p);
}

Test(ingest_decode, linux_cooked_v2)
{
	struct sx_pkt *p = new_pkt();
	struct fb f = {.n = 0};
	size_t ip;

	sll2_header(&f, 0x86dd);
	ip = ipv6(&f, 6, "2001:db8::a", "2001:db8::b");
	tcp(&f, 40443, 40444, 1, 0, SX_TCP_SYN, 65535, tcp_opts, sizeof(tcp_opts));
	ip6_done(&f, ip);
	decode(p, sx_l2_from_dlt(276), &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->l2, SX_L2_SLL2);
	cr_assert_eq(p->proto, SX_P_TCP);
	cr_assert_eq(p->tcp_flags, SX_TCP_SYN);
	assert_addr6(&p->src, "2001:db8::a");
	cr_assert_eq(p->sport, 40443);
	cr_assert_eq(p->payload_len, 0);
	cr_assert_eq(sx_mac_pack(p->mac_src), 0x020000000001ull, "SLL2: the 6-byte source");
	free(p);
}

Test(ingest_decode, raw_ip_for_every_raw_dlt)
{
	static const int dlts[] = {12, 14, 101, 228, 229};
	struct sx_pkt *p = new_pkt();
	struct fb f4 = {.n = 0}, f6 = {.n = 0}, bad = {.n = 0};
	size_t ip, u, i;

	ip = ipv4(&f4, 17, "203.0.113.1", "203.0.113.2", 0, NULL, 0);
	u = udp(&f4, 40001, 40002);
	udp_done(&f4, u);
	ip4_done(&f4, ip);
	ip = ipv6(&f6, 58, "2001:db8::1", "2001:db8::2");
	u8(&f6, 128); /* echo request */
	u8(&f6, 0);
	be16(&f6, 0);
	be32(&f6, 0x00010001);
	ip6_done(&f6, ip);
	u8(&bad, 0x50); /* IP version 5 */
	fill(&bad, 0, 39);

	for (i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++) {
		enum sx_l2 l2 = sx_l2_from_dlt(dlts[i]);

		cr_assert_eq(l2, SX_L2_RAW, "DLT %d", dlts[i]);
		decode(p, l2, &f4);
		cr_assert_eq(p->status, SX_DEC_OK);
		cr_assert_eq(p->proto, SX_P_UDP);
		cr_assert_eq(p->ethertype, 0x0800);
		assert_addr4(&p->src, "203.0.113.1");
		decode(p, l2, &f6);
		cr_assert_eq(p->status, SX_DEC_OK);
		cr_assert_eq(p->proto, SX_P_ICMPV6);
		cr_assert_eq(p->app.icmp.type, 128);
		assert_addr6(&p->dst, "2001:db8::2");
		decode(p, l2, &bad);
		cr_assert_eq(p->status, SX_DEC_MALFORMED);
	}
	free(p);
}

static void null_frame(struct fb *f, const uint8_t fam[4], bool v6)
{
	size_t ip, u;

	bytes(f, fam, 4);
	ip = v6 ? ipv6(f, 17, "::1", "::1") : ipv4(f, 17, "127.0.0.1", "127.0.0.1", 0, NULL, 0);
	u = udp(f, 40001, 40002);
	udp_done(f, u);
	if (v6)
		ip6_done(f, ip);
	else
		ip4_done(f, ip);
}

Test(ingest_decode, bsd_null_both_byte_orders_and_loop)
{
	static const struct {
		uint8_t fam[4];
		bool v6;
	} cases[] = {
	    {{2, 0, 0, 0}, false},			  /* AF_INET, little-endian host */
	    {{0, 0, 0, 2}, false},			  /* AF_INET, big-endian host / DLT_LOOP */
	    {{24, 0, 0, 0}, true},			  /* AF_INET6 NetBSD/OpenBSD */
	    {{0, 0, 0, 24}, true}, {{28, 0, 0, 0}, true}, /* FreeBSD */
	    {{0, 0, 0, 28}, true}, {{30, 0, 0, 0}, true}, /* macOS */
	    {{0, 0, 0, 30}, true},
	};
	struct sx_pkt *p = new_pkt();
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fb f = {.n = 0};

		null_frame(&f, cases[i].fam, cases[i].v6);
		decode(p, sx_l2_from_dlt(0), &f);
		cr_assert_eq(p->status, SX_DEC_OK, "case %zu", i);
		cr_assert_eq(p->l2, SX_L2_NULL);
		cr_assert_eq(p->proto, SX_P_UDP, "case %zu", i);
		cr_assert_eq(p->src.family, cases[i].v6 ? 6 : 4, "case %zu", i);
		decode(p, sx_l2_from_dlt(108), &f); /* DLT_LOOP */
		cr_assert_eq(p->status, SX_DEC_OK, "case %zu", i);
		cr_assert_eq(p->proto, SX_P_UDP, "case %zu", i);
	}
	{
		struct fb f = {.n = 0};
		static const uint8_t unknown[4] = {0, 0, 0, 99};

		null_frame(&f, unknown, false);
		decode(p, SX_L2_NULL, &f);
		cr_assert_eq(p->status, SX_DEC_UNSUPPORTED);
		cr_assert_eq(p->src.family, 0);
	}
	free(p);
}

/* ---- network layer ---- */

Test(ingest_decode, ipv4_router_alert_with_igmp_v2)
{
	static const uint8_t ra[4] = {148, 4, 0, 0};
	static const uint8_t nop_ra[8] = {1, 1, 1, 1, 148, 4, 0, 0};
	static const uint8_t no_ra[4] = {1, 1, 1, 0};
	struct sx_pkt *p = new_pkt();
	struct fb f = {.n = 0};
	size_t ip;

	macs(&f);
	be16(&f, 0x0800);
	ip = ipv4(&f, 2, "192.168.1.5", "224.0.0.251", 0, ra, sizeof(ra));
	u8(&f, 0x16); /* v2 membership report */
	u8(&f, 0);
	be16(&f, 0);
	ip4addr(&f, "224.0.0.251");
	ip4_done(&f, ip);
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert(p->ip_opt_ra);
	cr_assert_eq(p->proto, SX_P_IGMP);
	cr_assert_eq(p->ttl, 64);
	cr_assert_eq(p->app.igmp.version, 2);
	cr_assert_eq(p->app.igmp.type, 0x16);
	cr_assert_eq(memcmp(p->app.igmp.group, "\xe0\x00\x00\xfb", 4), 0);

	f.n = 0;
	macs(&f);
	be16(&f, 0x0800);
	ip = ipv4(&f, 2, "192.168.1.5", "224.0.0.22", 0, nop_ra, sizeof(nop_ra));
	u8(&f, 0x17); /* v2 leave */
	u8(&f, 0);
	be16(&f, 0);
	ip4addr(&f, "239.1.2.3");
	ip4_done(&f, ip);
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert(p->ip_opt_ra, "Router Alert after NOPs");
	cr_assert_eq(p->app.igmp.version, 2);
	cr_assert_eq(p->app.igmp.type, 0x17);

	f.n = 0;
	macs(&f);
	be16(&f, 0x0800);
	ip = ipv4(&f, 17, "192.168.1.5", "192.168.1.6", 0, no_ra, sizeof(no_ra));
	udp_done(&f, udp(&f, 40001, 40002));
	ip4_done(&f, ip);
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_not(p->ip_opt_ra);
	cr_assert_eq(p->proto, SX_P_UDP);
	cr_assert_eq(p->sport, 40001, "the options are skipped before UDP");
	free(p);
}

Test(ingest_decode, igmp_versions)
{
	struct sx_pkt *p = new_pkt();
	struct fb f;
	size_t ip;

	/* v1 query: max response time 0, 8 bytes. */
	f.n = 0;
	ip = ipv4(&f, 2, "192.168.1.1", "224.0.0.1", 0, NULL, 0);
	u8(&f, 0x11);
	u8(&f, 0);
	be16(&f, 0);
	be32(&f, 0);
	ip4_done(&f, ip);
	decode(p, SX_L2_RAW, &f);
	cr_assert_eq(p->proto, SX_P_IGMP);
	cr_assert_eq(p->app.igmp.version, 1);

	/* v2 query: max response time set, 8 bytes. */
	f.n = 0;
	ip = ipv4(&f, 2, "192.168.1.1", "224.0.0.1", 0, NULL, 0);
	u8(&f, 0x11);
	u8(&f, 100);
	be16(&f, 0);
	be32(&f, 0);
	ip4_done(&f, ip);
	decode(p, SX_L2_RAW, &f);
	cr_assert_eq(p->app.igmp.version, 2);
	cr_assert_eq(p->app.igmp.type, 0x11);

	/* v3 query: 12 bytes or more. */
	f.n = 0;
	ip = ipv4(&f, 2, "192.168.1.1", "224.0.0.1", 0, NULL, 0);
	u8(&f, 0x11);
	u8(&f, 100);
	be16(&f, 0);
	be32(&f, 0);
	u8(&f, 2);
	u8(&f, 125);
	be16(&f, 0);
	ip4_done(&f, ip);
	decode(p, SX_L2_RAW, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->app.igmp.version, 3);

	/* v3 report with two group records: the first record's group. */
	f.n = 0;
	ip = ipv4(&f, 2, "192.168.1.7", "224.0.0.22", 0, NULL, 0);
	u8(&f, 0x22);
	u8(&f, 0);
	be16(&f, 0);
	be16(&f, 0);
	be16(&f, 2);
	u8(&f, 4); /* CHANGE_TO_EXCLUDE */
	u8(&f, 0);
	be16(&f, 0);
	ip4addr(&f, "239.255.255.250");
	u8(&f, 4);
	u8(&f, 0);
	be16(&f, 0);
	ip4addr(&f, "224.0.0.251");
	ip4_done(&f, ip);
	decode(p, SX_L2_RAW, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->proto, SX_P_IGMP);
	cr_assert_eq(p->app.igmp.version, 3);
	cr_assert_eq(p->app.igmp.type, 0x22);
	cr_assert_eq(p->app.igmp.nrecords, 2);
	cr_assert_eq(memcmp(p->app.igmp.group, "\xef\xff\xff\xfa", 4), 0);

	/* v3 report cut inside its first record: truncated, still IGMP. */
	decode_n(p, SX_L2_RAW, &f, 20 + 8 + 6, f.n);
	cr_assert_eq(p->status, SX_DEC_TRUNCATED);
	cr_assert_eq(p->proto, SX_P_IGMP);
	free(p);
}

Test(ingest_decode, icmp)
{
	struct sx_pkt *p = new_pkt();
	struct fb f = {.n = 0};
	size_t ip;

	macs(&f);
	be16(&f, 0x0800);
	ip = ipv4(&f, 1, "192.0.2.1", "192.0.2.2", 0, NULL, 0);
	u8(&f, 3); /* destination unreachable */
	u8(&f, 3); /* port unreachable */
	be16(&f, 0);
	be32(&f, 0);
	ip4_done(&f, ip);
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->proto, SX_P_ICMP);
	cr_assert_eq(p->ip_proto, 1);
	cr_assert_eq(p->app.icmp.type, 3);
	cr_assert_eq(p->app.icmp.code, 3);
	cr_assert_eq(p->sport, 0);
	cr_assert_str_eq(sx_proto_name(p->proto), "ICMP");

	f.n = 0;
	macs(&f);
	be16(&f, 0x86dd);
	ip = ipv6(&f, 58, "fe80::1", "ff02::1");
	u8(&f, 135); /* neighbour solicitation */
	u8(&f, 0);
	be16(&f, 0);
	be32(&f, 0);
	ip6addr(&f, "fe80::2");
	ip6_done(&f, ip);
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->proto, SX_P_ICMPV6);
	cr_assert_eq(p->ip_proto, 58);
	cr_assert_eq(p->ttl, 255);
	cr_assert_eq(p->app.icmp.type, 135);
	cr_assert_str_eq(sx_proto_name(p->proto), "ICMPV6");
	free(p);
}

Test(ingest_decode, ipv4_other_protocol_and_bad_headers)
{
	struct sx_pkt *p = new_pkt();
	struct fb f = {.n = 0};
	size_t ip;

	ip = ipv4(&f, 132, "192.0.2.1", "192.0.2.2", 0, NULL, 0); /* SCTP */
	fill(&f, 0, 12);
	ip4_done(&f, ip);
	decode(p, SX_L2_RAW, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->proto, SX_P_IPV4);
	cr_assert_eq(p->ip_proto, 132);

	f.b[0] = 0x44; /* IHL 4: below the minimum */
	decode(p, SX_L2_RAW, &f);
	cr_assert_eq(p->status, SX_DEC_MALFORMED);
	f.b[0] = 0x45;
	set16(&f, 2, 10); /* total length shorter than the header */
	decode(p, SX_L2_RAW, &f);
	cr_assert_eq(p->status, SX_DEC_MALFORMED);
	/* IHL 15 claims 40 bytes of options that are not captured. */
	f.b[0] = 0x4f;
	set16(&f, 2, (unsigned)f.n + 100);
	decode(p, SX_L2_RAW, &f);
	cr_assert_eq(p->status, SX_DEC_TRUNCATED);
	free(p);
}

Test(ingest_decode, ipv4_fragments)
{
	struct sx_pkt *p = new_pkt();
	struct fb f = {.n = 0};
	size_t ip, u;

	/* First fragment: MF set, offset 0: the UDP header is there. */
	macs(&f);
	be16(&f, 0x0800);
	ip = ipv4(&f, 17, "192.0.2.1", "192.0.2.2", 0x2000, NULL, 0);
	u = udp(&f, 40001, 40002);
	set16(&f, u + 4, 3000); /* the whole datagram's UDP length */
	fill(&f, 0x61, 1472);
	ip4_done(&f, ip);
	decode(p, SX_L2_ETH, &f);
	cr_assert(p->frag);
	cr_assert_not(p->frag_later);
	cr_assert_eq(p->proto, SX_P_UDP);
	cr_assert_eq(p->sport, 40001);
	cr_assert_eq(p->dport, 40002);
	/* The UDP length covers the whole datagram, not this fragment: that
	 * is normal, not malformed, and the payload is what this one holds. */
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->payload_len, 1472);
	cr_assert_eq(p->payload_cap, 1472);
	cr_assert_eq(p->ip_id, 0x1234);
	cr_assert_eq(p->frag_off, 0);
	cr_assert_eq(p->frag_len, 1480);
	cr_assert(p->frag_more);

	/* A later fragment: offset 1480 (185 * 8), no transport header. */
	f.n = 0;
	macs(&f);
	be16(&f, 0x0800);
	ip = ipv4(&f, 17, "192.0.2.1", "192.0.2.2", 185, NULL, 0);
	fill(&f, 0x61, 1520);
	ip4_done(&f, ip);
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert(p->frag);
	cr_assert(p->frag_later);
	cr_assert_eq(p->proto, SX_P_IPV4);
	cr_assert_eq(p->ip_proto, 17);
	cr_assert_eq(p->sport, 0);
	cr_assert_eq(p->dport, 0);
	cr_assert_eq(p->payload_cap, 0);
	assert_addr4(&p->src, "192.0.2.1");
	cr_assert_eq(p->ip_id, 0x1234);
	cr_assert_eq(p->frag_off, 1480);
	cr_assert_eq(p->frag_len, 1520);
	cr_assert_not(p->frag_more);

	/* A later fragment whose bytes look like a UDP header stays portless. */
	f.b[14 + 20] = 0x9c;
	f.b[14 + 21] = 0x41;
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->sport, 0);

	/* DF alone is not fragmentation. */
	set16(&f, 14 + 6, 0x4000);
	decode(p, SX_L2_ETH, &f);
	cr_assert_not(p->frag);
	cr_assert_not(p->frag_later);
	cr_assert_eq(p->ip_id, 0, "identification kept for fragments only");
	free(p);
}

/* Hop-by-hop, routing, destination options, fragment, then next. */
static void ipv6_chain(struct fb *f, uint16_t frag_offm, uint8_t last_nh)
{
	u8(f, 43); /* hop-by-hop -> routing */
	u8(f, 0);
	u8(f, 5); /* PadN... */
	u8(f, 2);
	u8(f, 0);
	u8(f, 0);
	u8(f, 1); /* Pad1 x2 */
	u8(f, 1);
	u8(f, 60); /* routing -> destination options, 24 bytes */
	u8(f, 2);
	u8(f, 3); /* type 3: RPL source route */
	u8(f, 0); /* segments left */
	fill(f, 0, 20);
	u8(f, 44); /* destination options -> fragment */
	u8(f, 0);
	u8(f, 1);
	u8(f, 4);
	fill(f, 0, 4);
	u8(f, last_nh); /* fragment -> last_nh */
	u8(f, 0);
	be16(f, frag_offm);
	be32(f, 0xdeadbeef);
}

Test(ingest_decode, ipv6_extension_chain_first_fragment)
{
	struct sx_pkt *p = new_pkt();
	struct fb f = {.n = 0};
	size_t ip, u;

	macs(&f);
	be16(&f, 0x86dd);
	ip = ipv6(&f, 0, "2001:db8::1", "2001:db8::2");
	ipv6_chain(&f, 0x0001 /* offset 0, M */, 17);
	u = udp(&f, 40001, 40002);
	bytes(&f, "fragment-one", 12);
	udp_done(&f, u);
	ip6_done(&f, ip);
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->proto, SX_P_UDP);
	cr_assert_eq(p->ip_proto, 17, "the final next header");
	cr_assert(p->frag);
	cr_assert_not(p->frag_later);
	cr_assert_eq(p->sport, 40001);
	cr_assert_eq(p->dport, 40002);
	cr_assert_eq(p->payload_len, 12);
	cr_assert_eq(p->payload_cap, 12);
	cr_assert_eq(p->ip_id, 0xdeadbeef);
	cr_assert_eq(p->frag_off, 0);
	cr_assert_eq(p->frag_len, 20, "UDP header and payload after the chain");
	cr_assert(p->frag_more);

	/* The UDP length of a first fragment covers the whole datagram. */
	set16(&f, u + 4, 4000);
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->proto, SX_P_UDP);
	cr_assert_eq(p->payload_len, 12);
	free(p);
}

Test(ingest_decode, ipv6_extension_chain_later_fragment)
{
	struct sx_pkt *p = new_pkt();
	struct fb f = {.n = 0};
	size_t ip;

	macs(&f);
	be16(&f, 0x86dd);
	ip = ipv6(&f, 0, "2001:db8::1", "2001:db8::2");
	ipv6_chain(&f, (unsigned)(1232 << 0) /* offset 154*8, M=0 */, 17);
	fill(&f, 0x62, 100);
	ip6_done(&f, ip);
	decode(p, SX_L2_ETH, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->proto, SX_P_IPV6);
	cr_assert_eq(p->ip_proto, 17);
	cr_assert(p->frag);
	cr_assert(p->frag_later);
	cr_assert_eq(p->sport, 0);
	cr_assert_eq(p->dport, 0);
	cr_assert_eq(p->ip_id, 0xdeadbeef);
	cr_assert_eq(p->frag_off, 1232);
	cr_assert_eq(p->frag_len, 100);
	cr_assert_not(p->frag_more);
	assert_addr6(&p->src, "2001:db8::1");
	free(p);
}

Test(ingest_decode, ipv6_extension_without_fragment_and_tcp)
{
	struct sx_pkt *p = new_pkt();
	struct fb f = {.n = 0};
	size_t ip;

	ip = ipv6(&f, 60, "2001:db8::1", "2001:db8::2");
	u8(&f, 6); /* destination options -> TCP */
	u8(&f, 0);
	fill(&f, 1, 6);
	tcp(&f, 40080, 40081, 7, 8, SX_TCP_ACK, 100, NULL, 0);
	bytes(&f, "data", 4);
	ip6_done(&f, ip);
	decode(p, SX_L2_RAW, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->proto, SX_P_TCP);
	cr_assert_not(p->frag);
	cr_assert_eq(p->payload_len, 4);

	/* An extension header longer than the payload length: malformed. */
	f.b[40 + 1] = 200;
	decode(p, SX_L2_RAW, &f);
	cr_assert_eq(p->status, SX_DEC_MALFORMED);

	/* Wrong version nibble. */
	f.b[40 + 1] = 0;
	f.b[0] = 0x70;
	decode(p, SX_L2_RAW, &f);
	cr_assert_neq(p->status, SX_DEC_OK);
	free(p);
}

Test(ingest_decode, ipv6_endless_chain_stops)
{
	struct sx_pkt *p = new_pkt();
	struct fb f = {.n = 0};
	size_t ip;
	int i;

	ip = ipv6(&f, 60, "2001:db8::1", "2001:db8::2");
	for (i = 0; i < 40; i++) {
		u8(&f, 60);
		u8(&f, 0);
		fill(&f, 1, 6);
	}
	ip6_done(&f, ip);
	decode(p, SX_L2_RAW, &f);
	cr_assert_eq(p->status, SX_DEC_MALFORMED);
	cr_assert_eq(p->proto, SX_P_IPV6);
	free(p);
}

/* ---- lengths ---- */

Test(ingest_decode, snaplen_shorter_than_wire_length)
{
	struct sx_pkt *p = new_pkt();
	struct fb f = {.n = 0};
	size_t ip;

	macs(&f);
	be16(&f, 0x0800);
	ip = ipv4(&f, 6, "192.0.2.1", "192.0.2.2", 0, NULL, 0);
	tcp(&f, 40000, 40001, 1, 1, SX_TCP_ACK, 1000, NULL, 0);
	fill(&f, 0x7a, 1500 - 54);
	ip4_done(&f, ip);
	cr_assert_eq(f.n, 1500);

	decode_n(p, SX_L2_ETH, &f, 150, 1500); /* tcpdump -s 150 */
	cr_assert_eq(p->wire_len, 1500);
	cr_assert_eq(p->cap_len, 150);
	cr_assert_eq(p->status, SX_DEC_OK, "headers are whole: a short capture is not an error");
	cr_assert_eq(p->proto, SX_P_TCP);
	cr_assert_eq(p->sport, 40000);
	cr_assert_eq(p->payload_len, 1446, "the announced length");
	cr_assert_eq(p->payload_cap, 96, "what was captured");
	free(p);
}

Test(ingest_decode, announced_lengths_never_extend_the_capture)
{
	struct sx_pkt *p = new_pkt();
	struct fb f = {.n = 0};
	size_t ip, u;

	/* UDP claims 1000 bytes; IP claims 1028; 20 are there. */
	ip = ipv4(&f, 17, "192.0.2.1", "192.0.2.2", 0, NULL, 0);
	u = udp(&f, 40001, 40002);
	fill(&f, 0x41, 12);
	set16(&f, u + 4, 1000);
	set16(&f, ip + 2, 1028);
	decode(p, SX_L2_RAW, &f);
	cr_assert_eq(p->proto, SX_P_UDP);
	cr_assert_eq(p->payload_len, 992);
	cr_assert_eq(p->payload_cap, 12);

	/* UDP length beyond the IP datagram: malformed. */
	set16(&f, ip + 2, 40);
	decode(p, SX_L2_RAW, &f);
	cr_assert_eq(p->status, SX_DEC_MALFORMED);
	/* UDP length below its header: malformed. */
	set16(&f, u + 4, 5);
	decode(p, SX_L2_RAW, &f);
	cr_assert_eq(p->status, SX_DEC_MALFORMED);

	/* IP total shorter than the capture (Ethernet padding): the payload
	 * stops at the datagram. */
	set16(&f, u + 4, 12);
	set16(&f, ip + 2, 32);
	decode(p, SX_L2_RAW, &f);
	cr_assert_eq(p->status, SX_DEC_OK);
	cr_assert_eq(p->payload_len, 4);
	cr_assert_eq(p->payload_cap, 4);
	free(p);
}

Test(ingest_decode, decode_clears_the_previous_packet)
{
	struct sx_pkt *p = new_pkt();
	struct fb a = {.n = 0}, b = {.n = 0};
	size_t ip;

	macs(&a);
	be16(&a, 0x8100);
	be16(&a, 42);
	be16(&a, 0x0800);
	ip = ipv4(&a, 6, "192.0.2.1", "192.0.2.2", 0x2000, NULL, 0);
	tcp(&a, 1000, 2000, 1, 1, SX_TCP_SYN, 1, NULL, 0);
	ip4_done(&a, ip);
	macs(&b);
	be16(&b, 0x0806);
	fill(&b, 0, 28);

	p->file = 7;
	p->index = 9;
	p->ts_sec = 123;
	decode(p, SX_L2_ETH, &a);
	cr_assert_eq(p->vlan, 42);
	decode(p, SX_L2_ETH, &b);
	cr_assert_eq(p->proto, SX_P_ARP);
	cr_assert_eq(p->vlan, 0);
	cr_assert_eq(p->nvlan, 0);
	cr_assert_eq(p->src.family, 0);
	cr_assert_eq(p->sport, 0);
	cr_assert_eq(p->tcp_flags, 0);
	cr_assert_not(p->frag);
	cr_assert_eq(p->file, 7, "the caller's fields are left alone");
	cr_assert_eq(p->index, 9);
	cr_assert_eq(p->ts_sec, 123);
	free(p);
}

/* ---- every truncation offset ---- */

/*
 * Decode every prefix 0..len of f (wire length len) from an exact heap
 * copy.  Up to hdr_end bytes a header is cut: the status must be
 * TRUNCATED.  From hdr_end on, only payload is missing: the status must be
 * OK and the transport as in the whole frame.
 */
static void every_prefix(const struct fb *f, enum sx_l2 l2, size_t hdr_end, uint8_t want_proto)
{
	/* Ports are known once the fixed transport header is whole. */
	size_t ports_at = hdr_end - (want_proto == SX_P_TCP ? sizeof(tcp_opts) : 0);
	struct sx_pkt *p = new_pkt();
	size_t len;

	for (len = 0; len <= f->n; len++) {
		memset(p, 0xa5, sizeof(*p)); /* stale bytes must not leak through */
		decode_n(p, l2, f, len, f->n);
		cr_assert_eq(p->cap_len, len);
		cr_assert_eq(p->wire_len, f->n);
		cr_assert_leq(p->payload_cap, p->payload_len);
		if (len < hdr_end) {
			cr_assert_eq(p->status, SX_DEC_TRUNCATED, "cut at %zu of %zu: status %u",
				     len, f->n, p->status);
			if (len < ports_at)
				cr_assert_eq(p->sport, 0, "cut at %zu: no ports from a cut header",
					     len);
			cr_assert_eq(p->payload_cap, 0);
		} else {
			cr_assert_eq(p->status, SX_DEC_OK, "cut at %zu of %zu: status %u", len,
				     f->n, p->status);
			/* An application dissector may claim the payload. */
			cr_assert(p->proto == want_proto || p->proto >= SX_P_DNS,
				  "cut at %zu: proto %s", len, sx_proto_name(p->proto));
			cr_assert_eq(p->ip_proto, want_proto == SX_P_TCP ? 6 : 17);
			cr_assert_eq(p->payload_cap, len - hdr_end);
		}
	}
	free(p);
}

Test(ingest_decode, truncated_eth_vlan_ipv4_tcp)
{
	static const uint8_t opts[4] = {1, 148, 4, 0}; /* NOP, RA (cut short: ends the list) */
	struct fb f = {.n = 0};
	size_t ip, hdr_end;

	macs(&f);
	be16(&f, 0x8100);
	be16(&f, 5);
	be16(&f, 0x0800);
	ip = ipv4(&f, 6, "192.0.2.1", "192.0.2.2", 0, opts, sizeof(opts));
	tcp(&f, 40000, 40001, 1, 2, SX_TCP_PSH | SX_TCP_ACK, 1000, tcp_opts, sizeof(tcp_opts));
	hdr_end = f.n;
	bytes(&f, "GET / HTTP/1.0\r\n\r\n0123456789", 28);
	ip4_done(&f, ip);
	every_prefix(&f, SX_L2_ETH, hdr_end, SX_P_TCP);
}

Test(ingest_decode, truncated_ipv6_ext_udp_dns)
{
	/* A DNS query for example.com A, as bytes. */
	static const uint8_t dns[] = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
				      0x00, 0x00, 7,	'e',  'x',  'a',  'm',	'p',  'l',  'e',
				      3,    'c',  'o',	'm',  0,    0x00, 0x01, 0x00, 0x01};
	struct fb f = {.n = 0};
	size_t ip, u, hdr_end;

	macs(&f);
	be16(&f, 0x86dd);
	ip = ipv6(&f, 0, "2001:db8::53", "2001:db8::1");
	ipv6_chain(&f, 0x0001, 17);
	u = udp(&f, 53, 40053);
	hdr_end = f.n;
	bytes(&f, dns, sizeof(dns));
	udp_done(&f, u);
	ip6_done(&f, ip);
	every_prefix(&f, SX_L2_ETH, hdr_end, SX_P_UDP);
}

Test(ingest_decode, truncated_sll2_ipv4_udp)
{
	struct fb f = {.n = 0};
	size_t ip, u, hdr_end;

	sll2_header(&f, 0x0800);
	ip = ipv4(&f, 17, "192.0.2.1", "192.0.2.2", 0, NULL, 0);
	u = udp(&f, 40001, 40002);
	hdr_end = f.n;
	bytes(&f, "cooked v2 payload", 17);
	udp_done(&f, u);
	ip4_done(&f, ip);
	every_prefix(&f, SX_L2_SLL2, hdr_end, SX_P_UDP);
}

Test(ingest_decode, truncated_qinq_pppoe_ipv6_tcp)
{
	struct fb f = {.n = 0};
	size_t len_at, ip, hdr_end;

	macs(&f);
	be16(&f, 0x88a8);
	be16(&f, 300);
	be16(&f, 0x8100);
	be16(&f, 400);
	be16(&f, 0x8864);
	u8(&f, 0x11);
	u8(&f, 0);
	be16(&f, 1);
	len_at = f.n;
	be16(&f, 0);
	be16(&f, 0x0057);
	ip = ipv6(&f, 6, "2001:db8::1", "2001:db8::2");
	tcp(&f, 40000, 40001, 1, 2, SX_TCP_ACK, 1000, tcp_opts, sizeof(tcp_opts));
	hdr_end = f.n;
	fill(&f, 0x55, 20);
	ip6_done(&f, ip);
	set16(&f, len_at, (unsigned)(f.n - len_at - 2));
	every_prefix(&f, SX_L2_ETH, hdr_end, SX_P_TCP);
}

Test(ingest_decode, truncated_sll1_null_and_snap)
{
	static const uint8_t fam[4] = {2, 0, 0, 0};
	struct fb f = {.n = 0};
	size_t ip, u, hdr_end, len_at;

	sll1_header(&f, 0x0800);
	ip = ipv4(&f, 17, "192.0.2.1", "192.0.2.2", 0x2000, NULL, 0);
	u = udp(&f, 40001, 40002);
	hdr_end = f.n;
	bytes(&f, "0123456789", 10);
	udp_done(&f, u);
	ip4_done(&f, ip);
	every_prefix(&f, SX_L2_SLL, hdr_end, SX_P_UDP);

	f.n = 0;
	bytes(&f, fam, 4);
	ip = ipv4(&f, 6, "127.0.0.1", "127.0.0.1", 0, NULL, 0);
	tcp(&f, 40000, 40001, 1, 2, SX_TCP_ACK, 1000, NULL, 0);
	hdr_end = f.n;
	bytes(&f, "abc", 3);
	ip4_done(&f, ip);
	every_prefix(&f, SX_L2_NULL, hdr_end, SX_P_TCP);

	f.n = 0;
	macs(&f);
	len_at = f.n;
	be16(&f, 0);
	bytes(&f, "\xaa\xaa\x03\x00\x00\x00\x08\x00", 8);
	ip = ipv4(&f, 17, "192.0.2.1", "192.0.2.2", 0, NULL, 0);
	u = udp(&f, 40001, 40002);
	hdr_end = f.n;
	bytes(&f, "snap!", 5);
	udp_done(&f, u);
	ip4_done(&f, ip);
	set16(&f, len_at, (unsigned)(f.n - 14));
	every_prefix(&f, SX_L2_ETH, hdr_end, SX_P_UDP);
}

/* Random bytes behind every link type: never a crash, never an overread. */
Test(ingest_decode, random_frames_never_overread)
{
	struct sx_pkt *p = new_pkt();
	uint32_t x = 0x12345678;
	int round;

	for (round = 0; round < 20000; round++) {
		size_t len, i;
		uint8_t *buf;
		enum sx_l2 l2 = (enum sx_l2)(round % 6);

		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		len = x % 160;
		buf = malloc(len);
		cr_assert_not_null(buf);
		for (i = 0; i < len; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			buf[i] = (uint8_t)x;
		}
		/* Steer some frames into the interesting paths. */
		if (len > 20 && (round & 1)) {
			static const uint8_t types[][2] = {{0x08, 0x00}, {0x86, 0xdd},
							   {0x81, 0x00}, {0x88, 0x64},
							   {0x88, 0xa8}, {0x00, 0x40}};
			const uint8_t *t = types[(round >> 1) % 6];

			if (l2 == SX_L2_ETH) {
				buf[12] = t[0];
				buf[13] = t[1];
				buf[14] = (round & 2) ? 0x45 : 0x60;
			} else if (l2 == SX_L2_RAW) {
				buf[0] = (round & 2) ? 0x46 : 0x60;
				buf[6] = (uint8_t)((round & 4) ? 0 : 44);
				buf[9] = (uint8_t)((round & 4) ? 17 : 6);
			}
		}
		sx_decode(p, l2, buf, (uint32_t)len, (uint32_t)len + (x & 0xff));
		cr_assert_leq(p->status, SX_DEC_UNSUPPORTED);
		cr_assert_lt(p->proto, SX_P__COUNT);
		if (p->payload_cap) {
			cr_assert_geq(p->payload, buf);
			cr_assert_leq(p->payload + p->payload_cap, buf + len);
		}
		free(buf);
	}
	free(p);
}

Test(ingest_decode, proto_names)
{
	int i;

	for (i = 0; i < SX_P__COUNT; i++) {
		const char *n = sx_proto_name((enum sx_proto)i);

		cr_assert_not_null(n);
		cr_assert_gt(strlen(n), 0);
	}
	cr_assert_str_eq(sx_proto_name(SX_P_TCP), "TCP");
	cr_assert_str_eq(sx_proto_name(SX_P_UDP), "UDP");
	cr_assert_str_eq(sx_proto_name((enum sx_proto)200), "UNKNOWN");
}

Test(ingest_decode, mac_text_and_parse)
{
	uint8_t m[6] = {0x50, 0xc7, 0xbf, 0xed, 0x0a, 0x54}, back[6];
	char t[SX_MAC_TEXT_MAX];

	cr_assert_str_eq(sx_mac_str(m, t, sizeof(t)), "50:c7:bf:ed:0a:54");
	cr_assert_eq(sx_mac_parse("50:C7:bf:ed:0a:54", back), 0);
	cr_assert_eq(memcmp(m, back, 6), 0);
	cr_assert_eq(sx_mac_parse("50-c7-bf-ed-0a-54", back), 0);
	cr_assert_eq(memcmp(m, back, 6), 0);
	cr_assert_eq(sx_mac_parse("50:c7-bf:ed:0a:54", back), -EINVAL, "mixed separators");
	cr_assert_eq(sx_mac_parse("50:c7:bf:ed:0a:5", back), -EINVAL);
	cr_assert_eq(sx_mac_parse("50:c7:bf:ed:0a:54:", back), -EINVAL);
	cr_assert_eq(sx_mac_parse("+0:c7:bf:ed:0a:54", back), -EINVAL);
	cr_assert_eq(sx_mac_parse("50:c7:bf:ed:0a:5g", back), -EINVAL);
	memset(m, 0, 6);
	cr_assert_str_eq(sx_mac_str(m, t, sizeof(t)), "", "all zero: none");
	cr_assert_str_eq(sx_mac_str(back, t, 5), "", "too small a buffer: empty");
}

/* sx_addr_str's IPv6 text is its own (no printf); libc's inet_ntop is the
 * independent reference it must equal byte for byte. */
static void assert_ntop6(const uint8_t b[16])
{
	struct sx_addr a = {.family = 6};
	char want[INET6_ADDRSTRLEN], got[64];

	memcpy(a.b, b, 16);
	cr_assert_not_null(inet_ntop(AF_INET6, b, want, sizeof(want)));
	cr_assert_str_eq(sx_addr_str(&a, got, sizeof(got)), want);
}

Test(ingest_decode, ipv6_text_as_inet_ntop)
{
	static const unsigned groups[4] = {0, 1, 0xffff, 0x0a0b};
	static const struct {
		uint8_t b[16];
		const char *want;
	} lit[] = {
	    {{0}, "::"},
	    {{[15] = 1}, "::1"},
	    {{[10] = 0xff, [11] = 0xff, 192, 0, 2, 1}, "::ffff:192.0.2.1"},
	    {{[12] = 192, 0, 2, 1}, "::192.0.2.1"},
	    {{0x20, 0x01, 0x0d, 0xb8, [15] = 1}, "2001:db8::1"},
	    {{0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4}, "1::2:0:0:3:4"},
	    {{0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 4}, "1:0:2::3:4"},
	    {{0, 1, 0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7}, "1:0:2:3:4:5:6:7"},
	    {{0xfe, 0x80, [8] = 0x02, 0x1a, 0x2b, 0xff, 0xfe, 0x3c, 0x4d, 0x5e},
	     "fe80::21a:2bff:fe3c:4d5e"},
	};
	struct sx_addr a = {.family = 6};
	uint8_t b[16];
	uint32_t x = 12345;
	char buf[64];
	size_t i;
	unsigned k;

	for (i = 0; i < sizeof(lit) / sizeof(lit[0]); i++) {
		memcpy(a.b, lit[i].b, 16);
		cr_assert_str_eq(sx_addr_str(&a, buf, sizeof(buf)), lit[i].want);
		assert_ntop6(lit[i].b);
	}
	/* every arrangement of zero, one, ffff and a two-byte group: every
	 * zero run, the mapped and compatible forms */
	for (k = 0; k < 65536; k++) {
		for (i = 0; i < 8; i++) {
			unsigned g = groups[k >> (2 * i) & 3];

			b[2 * i] = (uint8_t)(g >> 8);
			b[2 * i + 1] = (uint8_t)g;
		}
		assert_ntop6(b);
	}
	for (k = 0; k < 20000; k++) {
		for (i = 0; i < 16; i++) {
			x = x * 1103515245u + 12345u;
			b[i] = (uint8_t)(x >> 16);
			if ((x >> 8 & 3) == 0)
				b[i] = 0;
		}
		assert_ntop6(b);
	}
	memcpy(a.b, lit[4].b, 16);
	cr_assert_str_eq(sx_addr_str(&a, buf, strlen("2001:db8::1")), "", "no room for the NUL");
	cr_assert_str_eq(sx_addr_str(&a, buf, strlen("2001:db8::1") + 1), "2001:db8::1");
}

/* sx_decode_headers(): the same headers as sx_decode(), no application
 * dissector (a DNS query stays UDP, its question unread). */
Test(ingest_decode, headers_only_skips_the_application)
{
	static const uint8_t query[] = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
					0x00, 0x00, 0x03, 'c',	'a',  'm',  0x07, 'e',	'x',  'a',
					'm',  'p',  'l',  'e',	0x00, 0x00, 0x01, 0x00, 0x01};
	struct sx_pkt *full = new_pkt(), *hdr = new_pkt();
	uint8_t frame[256];
	size_t n = sx_tf_udp(frame, sizeof(frame), "192.0.2.7", 40000, "192.0.2.1", 53, query,
			     sizeof(query));

	cr_assert_gt(n, 0);
	sx_decode(full, SX_L2_ETH, frame, (uint32_t)n, (uint32_t)n);
	cr_assert_eq(full->proto, SX_P_DNS);
	cr_assert_not(full->headers_only);
	sx_decode_headers(hdr, SX_L2_ETH, frame, (uint32_t)n, (uint32_t)n);
	cr_assert(hdr->headers_only);
	cr_assert_eq(hdr->proto, SX_P_UDP);
	cr_assert_eq(hdr->status, full->status);
	cr_assert_eq(memcmp(&hdr->src, &full->src, sizeof(hdr->src)), 0);
	cr_assert_eq(memcmp(&hdr->dst, &full->dst, sizeof(hdr->dst)), 0);
	cr_assert_eq(memcmp(hdr->mac_src, full->mac_src, 6), 0);
	cr_assert_eq(hdr->sport, 40000);
	cr_assert_eq(hdr->dport, 53);
	cr_assert_eq(hdr->payload_cap, full->payload_cap);
	/* and the next full decode dissects again */
	sx_decode(hdr, SX_L2_ETH, frame, (uint32_t)n, (uint32_t)n);
	cr_assert_eq(hdr->proto, SX_P_DNS);
	cr_assert_not(hdr->headers_only);
	free(full);
	free(hdr);
}
