/*
 * decode.c - one captured frame -> struct sx_pkt.
 *
 * Link layer (Ethernet with 802.1Q/802.1ad/QinQ tags and PPPoE sessions,
 * 802.3/LLC, Linux cooked v1 and v2, raw IP, BSD NULL/LOOP), network layer
 * (IPv4 with options and fragments, IPv6 with its extension-header chain),
 * transport (TCP, UDP, ICMP, ICMPv6, IGMP), then the application dissectors
 * (app.c).
 *
 * Every read goes through struct sx_cursor over the captured bytes, so no
 * input can make the decoder read past caplen.  Lengths announced by headers
 * (IP total length, UDP length) only ever shrink the region decoded further:
 * they bound the payload, they never extend it.  Bad frames are data: the
 * outcome is pkt->status, with pkt->proto naming the highest layer that was
 * understood.  Stateless; any thread; no allocation.
 */
#include "ingest/ingest.h"

#include <pcap/dlt.h>
#include <stddef.h>
#include <string.h>

#include "core/compiler.h"
#include "ingest/app.h"
#include "ingest/cursor.h"

#define ETH_IPV4       0x0800
#define ETH_ARP	       0x0806
#define ETH_VLAN       0x8100
#define ETH_QINQ       0x88a8
#define ETH_QINQ_OLD   0x9100
#define ETH_IPV6       0x86dd
#define ETH_PPPOE_SESS 0x8864
#define ETH_PPPOE_DISC 0x8863
#define ETH_EAPOL      0x888e

#define MAX_VLAN_TAGS 4
#define MAX_IPV6_EXT  16

static const char *const proto_names[SX_P__COUNT] = {
    [SX_P_UNKNOWN] = "UNKNOWN", [SX_P_ETHERNET] = "ETH",      [SX_P_ARP] = "ARP",
    [SX_P_EAPOL] = "EAPOL",	[SX_P_LLC] = "LLC",	      [SX_P_IPV4] = "IPV4",
    [SX_P_IPV6] = "IPV6",	[SX_P_TCP] = "TCP",	      [SX_P_UDP] = "UDP",
    [SX_P_ICMP] = "ICMP",	[SX_P_ICMPV6] = "ICMPV6",     [SX_P_IGMP] = "IGMP",
    [SX_P_DNS] = "DNS",		[SX_P_MDNS] = "MDNS",	      [SX_P_LLMNR] = "LLMNR",
    [SX_P_TLS] = "TLS",		[SX_P_HTTP] = "HTTP",	      [SX_P_COAP] = "COAP",
    [SX_P_SSDP] = "SSDP",	[SX_P_DHCP] = "DHCP",	      [SX_P_NTP] = "NTP",
    [SX_P_MQTT] = "MQTT",	[SX_P_TPLINK] = "TPLINK-SHP",
};

const char *sx_proto_name(enum sx_proto proto)
{
	if ((unsigned)proto >= SX_P__COUNT || !proto_names[proto])
		return "UNKNOWN";
	return proto_names[proto];
}

enum sx_l2 sx_l2_from_dlt(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
		return SX_L2_ETH;
	case DLT_LINUX_SLL:
		return SX_L2_SLL;
	case 276: /* DLT_LINUX_SLL2 */
		return SX_L2_SLL2;
	case 12:  /* DLT_RAW on most systems */
	case 14:  /* DLT_RAW on OpenBSD */
	case 101: /* LINKTYPE_RAW */
	case 228: /* DLT_IPV4 */
	case 229: /* DLT_IPV6 */
		return SX_L2_RAW;
	case DLT_NULL:
	case DLT_LOOP:
		return SX_L2_NULL;
	default:
		return SX_L2_UNSUPPORTED;
	}
}

static void set_status(struct sx_pkt *pkt, enum sx_dec_status st)
{
	if (pkt->status == SX_DEC_OK)
		pkt->status = (uint8_t)st;
}

/*
 * ICMP (RFC 792) / ICMPv6 (RFC 4443): type, code.
 *   0      8      16             31
 *   | type | code |   checksum    |
 */
static void decode_icmp(struct sx_pkt *pkt, struct sx_cursor *c, enum sx_proto proto)
{
	pkt->app.icmp.type = sx_cur_u8(c);
	pkt->app.icmp.code = sx_cur_u8(c);
	if (c->bad) {
		set_status(pkt, SX_DEC_TRUNCATED);
		return;
	}
	pkt->proto = (uint8_t)proto;
}

/*
 * IGMP v1 (RFC 1112), v2 (RFC 2236), v3 (RFC 3376).
 *   0      8      16             31
 *   | type | mrt  |   checksum    |
 *   |        group address        |     v3 report: reserved, nrecords,
 *                                       then records (type, auxlen, nsrc, group...)
 */
static void decode_igmp(struct sx_pkt *pkt, struct sx_cursor *c, size_t len)
{
	struct sx_igmp *g = &pkt->app.igmp;
	uint8_t type = sx_cur_u8(c);
	uint8_t mrt = sx_cur_u8(c);

	sx_cur_skip(c, 2);
	if (c->bad) {
		set_status(pkt, SX_DEC_TRUNCATED);
		return;
	}
	memset(g, 0, sizeof(*g));
	g->type = type;
	switch (type) {
	case 0x11: /* membership query */
		g->version = len >= 12 ? 3 : mrt == 0 ? 1 : 2;
		sx_cur_copy(c, g->group, 4);
		break;
	case 0x12:
		g->version = 1;
		sx_cur_copy(c, g->group, 4);
		break;
	case 0x16:
	case 0x17:
		g->version = 2;
		sx_cur_copy(c, g->group, 4);
		break;
	case 0x22: /* v3 membership report */
		g->version = 3;
		sx_cur_skip(c, 2);
		g->nrecords = sx_cur_be16(c);
		if (g->nrecords && !c->bad) {
			sx_cur_skip(c, 4); /* record type, aux len, number of sources */
			sx_cur_copy(c, g->group, 4);
		}
		break;
	default:
		g->version = 0;
		break;
	}
	if (c->bad)
		set_status(pkt, SX_DEC_TRUNCATED);
	pkt->proto = SX_P_IGMP;
}

/*
 * TCP (RFC 9293).
 *   |   source port   |   dest port     |
 *   |          sequence number          |
 *   |       acknowledgment number       |
 *   |off|rsv| flags   |     window      |
 *   |    checksum     | urgent pointer  |   options: (off - 5) * 4 bytes
 */
static void decode_tcp(struct sx_pkt *pkt, struct sx_cursor *c, size_t l4len)
{
	uint8_t off;
	size_t hlen;

	pkt->sport = sx_cur_be16(c);
	pkt->dport = sx_cur_be16(c);
	pkt->tcp_seq = sx_cur_be32(c);
	pkt->tcp_ack = sx_cur_be32(c);
	off = sx_cur_u8(c);
	pkt->tcp_flags = sx_cur_u8(c);
	pkt->tcp_win = sx_cur_be16(c);
	sx_cur_skip(c, 4);
	if (c->bad) {
		pkt->sport = pkt->dport = 0;
		pkt->tcp_flags = 0;
		set_status(pkt, SX_DEC_TRUNCATED);
		return;
	}
	pkt->proto = SX_P_TCP;
	hlen = (size_t)(off >> 4) * 4;
	if (hlen < 20 || hlen > l4len) {
		set_status(pkt, SX_DEC_MALFORMED);
		return;
	}
	if (!sx_cur_skip(c, hlen - 20)) {
		set_status(pkt, SX_DEC_TRUNCATED);
		return;
	}
	pkt->payload = c->p;
	pkt->payload_len = (uint32_t)(l4len - hlen);
	pkt->payload_cap = (uint32_t)SX_MIN(sx_cur_left(c), (size_t)pkt->payload_len);
}

/*
 * UDP (RFC 768).
 *   | source port | dest port | length | checksum |
 */
static void decode_udp(struct sx_pkt *pkt, struct sx_cursor *c, size_t l4len)
{
	uint16_t ulen;

	pkt->sport = sx_cur_be16(c);
	pkt->dport = sx_cur_be16(c);
	ulen = sx_cur_be16(c);
	sx_cur_skip(c, 2);
	if (c->bad) {
		pkt->sport = pkt->dport = 0;
		set_status(pkt, SX_DEC_TRUNCATED);
		return;
	}
	pkt->proto = SX_P_UDP;
	/* A zero length is legal for IPv6 jumbograms; otherwise it must fit,
	 * except in a first fragment, which holds only the start of the
	 * datagram that the length covers. */
	if (ulen != 0 && (ulen < 8 || (ulen > l4len && !pkt->frag))) {
		set_status(pkt, SX_DEC_MALFORMED);
		return;
	}
	pkt->payload = c->p;
	pkt->payload_len = (uint32_t)((ulen ? SX_MIN((size_t)ulen, l4len) : l4len) - 8);
	pkt->payload_cap = (uint32_t)SX_MIN(sx_cur_left(c), (size_t)pkt->payload_len);
}

/* Transport dispatch; l4len is the length the network header announces. */
static void decode_l4(struct sx_pkt *pkt, struct sx_cursor *c, size_t l4len)
{
	switch (pkt->ip_proto) {
	case 6:
		decode_tcp(pkt, c, l4len);
		break;
	case 17:
		decode_udp(pkt, c, l4len);
		break;
	case 1:
		decode_icmp(pkt, c, SX_P_ICMP);
		return;
	case 58:
		decode_icmp(pkt, c, SX_P_ICMPV6);
		return;
	case 2:
		decode_igmp(pkt, c, l4len);
		return;
	default:
		return;
	}
	if (pkt->payload_cap > 0 && !pkt->headers_only)
		sx_app_dissect(pkt);
}

/*
 * IPv4 (RFC 791).
 *   |ver|ihl| tos |  total length  |
 *   |  identification |flg| offset |
 *   | ttl | proto |    checksum    |
 *   |        source address        |
 *   |      destination address     |   options: (ihl - 5) * 4 bytes
 */
static void decode_ipv4(struct sx_pkt *pkt, struct sx_cursor *c)
{
	const uint8_t *start = c->p;
	uint8_t vihl = sx_cur_u8(c);
	uint16_t total, id, frag;
	size_t hlen, avail;
	struct sx_cursor opt, l4;

	sx_cur_skip(c, 1);
	total = sx_cur_be16(c);
	id = sx_cur_be16(c);
	frag = sx_cur_be16(c);
	pkt->ttl = sx_cur_u8(c);
	pkt->ip_proto = sx_cur_u8(c);
	sx_cur_skip(c, 2);
	pkt->src.family = 4;
	pkt->dst.family = 4;
	sx_cur_copy(c, pkt->src.b, 4);
	sx_cur_copy(c, pkt->dst.b, 4);
	if (c->bad) {
		memset(&pkt->src, 0, sizeof(pkt->src));
		memset(&pkt->dst, 0, sizeof(pkt->dst));
		set_status(pkt, SX_DEC_TRUNCATED);
		return;
	}
	pkt->proto = SX_P_IPV4;
	hlen = (size_t)(vihl & 15) * 4;
	if ((vihl >> 4) != 4 || hlen < 20 || total < hlen) {
		set_status(pkt, SX_DEC_MALFORMED);
		return;
	}
	pkt->frag = (frag & 0x2000) || (frag & 0x1fff);
	pkt->frag_later = (frag & 0x1fff) != 0;
	if (pkt->frag) {
		pkt->ip_id = id;
		pkt->frag_off = (uint32_t)(frag & 0x1fff) * 8;
		pkt->frag_len = (uint32_t)(total - hlen);
		pkt->frag_more = (frag & 0x2000) != 0;
	}
	/* Options: look for Router Alert (type 148), RFC 2113. */
	c->p = start + 20;
	opt = sx_cur_sub(c, hlen - 20);
	if (c->bad) {
		set_status(pkt, SX_DEC_TRUNCATED);
		return;
	}
	while (sx_cur_left(&opt) > 0) {
		uint8_t type = sx_cur_u8(&opt);
		uint8_t olen;

		if (type == 0)
			break;
		if (type == 1)
			continue;
		olen = sx_cur_u8(&opt);
		if (opt.bad || olen < 2)
			break;
		if (type == 148)
			pkt->ip_opt_ra = true;
		if (!sx_cur_skip(&opt, (size_t)olen - 2))
			break;
	}
	if (pkt->frag_later)
		return;
	avail = SX_MIN(sx_cur_left(c), (size_t)(total - hlen));
	l4 = sx_cur(c->p, avail);
	decode_l4(pkt, &l4, total - hlen);
	if (l4.bad)
		set_status(pkt, SX_DEC_TRUNCATED);
}

/*
 * IPv6 (RFC 8200).
 *   |ver| tclass |      flow label       |
 *   | payload length | next hdr | hoplim |
 *   |   source address (16)   |   destination address (16)   |
 * Extension headers: hop-by-hop (0), routing (43), fragment (44),
 * destination options (60), authentication (51, RFC 4302), mobility (135).
 */
static void decode_ipv6(struct sx_pkt *pkt, struct sx_cursor *c)
{
	uint32_t vtf = sx_cur_be32(c);
	uint16_t plen = sx_cur_be16(c);
	uint8_t nh = sx_cur_u8(c);
	size_t len, avail;
	struct sx_cursor p;
	int i;

	pkt->ttl = sx_cur_u8(c);
	pkt->src.family = 6;
	pkt->dst.family = 6;
	sx_cur_copy(c, pkt->src.b, 16);
	sx_cur_copy(c, pkt->dst.b, 16);
	if (c->bad) {
		memset(&pkt->src, 0, sizeof(pkt->src));
		memset(&pkt->dst, 0, sizeof(pkt->dst));
		set_status(pkt, SX_DEC_TRUNCATED);
		return;
	}
	pkt->proto = SX_P_IPV6;
	if ((vtf >> 28) != 6) {
		set_status(pkt, SX_DEC_MALFORMED);
		return;
	}
	/* A zero payload length means a jumbogram (RFC 2675): bounded by capture. */
	len = plen ? plen : sx_cur_left(c);
	avail = SX_MIN(sx_cur_left(c), len);
	p = sx_cur(c->p, avail);
	for (i = 0; i < MAX_IPV6_EXT; i++) {
		uint8_t next, hl;
		size_t ext;

		switch (nh) {
		case 0:
		case 43:
		case 60:
		case 135:
			next = sx_cur_u8(&p);
			hl = sx_cur_u8(&p);
			ext = ((size_t)hl + 1) * 8;
			break;
		case 51: /* AH: length in 4-byte units, minus 2 */
			next = sx_cur_u8(&p);
			hl = sx_cur_u8(&p);
			ext = ((size_t)hl + 2) * 4;
			break;
		case 44: { /* fragment: next, reserved, offset|M, id */
			uint16_t offm;
			uint32_t id;

			next = sx_cur_u8(&p);
			sx_cur_skip(&p, 1);
			offm = sx_cur_be16(&p);
			id = sx_cur_be32(&p);
			if (p.bad) {
				set_status(pkt, SX_DEC_TRUNCATED);
				return;
			}
			pkt->frag = true;
			pkt->frag_later = (offm & 0xfff8) != 0;
			if (len < 8) {
				set_status(pkt, SX_DEC_MALFORMED);
				return;
			}
			len -= 8;
			nh = next;
			pkt->ip_id = id;
			pkt->frag_off = offm & 0xfff8;
			pkt->frag_len = (uint32_t)len;
			pkt->frag_more = (offm & 1) != 0;
			if (pkt->frag_later) {
				pkt->ip_proto = nh;
				return;
			}
			continue;
		}
		default:
			pkt->ip_proto = nh;
			decode_l4(pkt, &p, len);
			if (p.bad)
				set_status(pkt, SX_DEC_TRUNCATED);
			return;
		}
		if (p.bad) {
			set_status(pkt, SX_DEC_TRUNCATED);
			return;
		}
		if (ext > len) {
			set_status(pkt, SX_DEC_MALFORMED);
			return;
		}
		if (!sx_cur_skip(&p, ext - 2)) {
			set_status(pkt, SX_DEC_TRUNCATED);
			return;
		}
		len -= ext;
		nh = next;
	}
	pkt->ip_proto = nh; /* chain too long: stop, keep what we have */
	set_status(pkt, SX_DEC_MALFORMED);
}

/*
 * ARP (RFC 826), Ethernet hardware and IPv4 protocol addresses only; other
 * kinds and short messages stay SX_P_ARP with has_arp false (the decoding
 * status is left as it was: ARP was never counted as truncated).
 *
 *   htype(2) ptype(2) hlen(1) plen(1) oper(2) sha(6) spa(4) tha(6) tpa(4)
 */
static void decode_arp(struct sx_pkt *pkt, struct sx_cursor *c)
{
	uint16_t htype = sx_cur_be16(c);
	uint16_t ptype = sx_cur_be16(c);
	uint8_t hlen = sx_cur_u8(c);
	uint8_t plen = sx_cur_u8(c);

	pkt->arp_op = sx_cur_be16(c);
	if (c->bad || htype != 1 || ptype != ETH_IPV4 || hlen != 6 || plen != 4)
		return;
	sx_cur_copy(c, pkt->arp_sha, 6);
	sx_cur_copy(c, pkt->arp_spa, 4);
	sx_cur_copy(c, pkt->arp_tha, 6);
	sx_cur_copy(c, pkt->arp_tpa, 4);
	pkt->has_arp = !c->bad;
}

/* Network layer by EtherType (or PPP protocol mapped to one). */
static void decode_net(struct sx_pkt *pkt, struct sx_cursor *c, uint16_t type)
{
	pkt->ethertype = type;
	switch (type) {
	case ETH_IPV4:
		decode_ipv4(pkt, c);
		break;
	case ETH_IPV6:
		decode_ipv6(pkt, c);
		break;
	case ETH_ARP:
		pkt->proto = SX_P_ARP;
		decode_arp(pkt, c);
		break;
	case ETH_EAPOL:
		pkt->proto = SX_P_EAPOL;
		break;
	default:
		pkt->proto = SX_P_ETHERNET;
		break;
	}
}

/* IP version from the first nibble (raw IP, NULL, PPP). */
static void decode_ip_any(struct sx_pkt *pkt, struct sx_cursor *c)
{
	uint8_t v;

	if (!sx_cur_has(c, 1)) {
		set_status(pkt, SX_DEC_TRUNCATED);
		return;
	}
	v = c->p[0] >> 4;
	if (v == 4)
		decode_net(pkt, c, ETH_IPV4);
	else if (v == 6)
		decode_net(pkt, c, ETH_IPV6);
	else
		set_status(pkt, SX_DEC_MALFORMED);
}

/*
 * PPPoE session (RFC 2516): ver/type, code, session id, length, then the
 * PPP protocol field (0x0021 IPv4, 0x0057 IPv6).
 */
static void decode_pppoe(struct sx_pkt *pkt, struct sx_cursor *c)
{
	uint8_t vt = sx_cur_u8(c);
	uint16_t len, ppp;
	struct sx_cursor body;

	sx_cur_skip(c, 3);
	len = sx_cur_be16(c);
	if (c->bad) {
		set_status(pkt, SX_DEC_TRUNCATED);
		return;
	}
	pkt->pppoe = true;
	pkt->proto = SX_P_ETHERNET;
	if (vt != 0x11 || len < 2) {
		set_status(pkt, SX_DEC_MALFORMED);
		return;
	}
	body = sx_cur(c->p, SX_MIN(sx_cur_left(c), (size_t)len));
	ppp = sx_cur_be16(&body);
	if (body.bad) {
		set_status(pkt, SX_DEC_TRUNCATED);
		return;
	}
	if (ppp == 0x0021)
		decode_net(pkt, &body, ETH_IPV4);
	else if (ppp == 0x0057)
		decode_net(pkt, &body, ETH_IPV6);
}

/*
 * Ethernet II / 802.3 (IEEE 802.3), 802.1Q and 802.1ad tags.
 *   | dst (6) | src (6) | type/len (2) |  [ TCI (2) | type (2) ]*
 * A type field <= 1500 is an 802.3 length: LLC follows (SNAP with an
 * EtherType is decoded through).
 */
static void decode_eth(struct sx_pkt *pkt, struct sx_cursor *c)
{
	uint16_t type;

	pkt->has_mac = sx_cur_copy(c, pkt->mac_dst, 6) && sx_cur_copy(c, pkt->mac_src, 6);
	type = sx_cur_be16(c);
	if (c->bad) {
		set_status(pkt, SX_DEC_TRUNCATED);
		return;
	}
	while (type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD) {
		uint16_t tci = sx_cur_be16(c);

		type = sx_cur_be16(c);
		if (c->bad) {
			pkt->proto = SX_P_ETHERNET;
			set_status(pkt, SX_DEC_TRUNCATED);
			return;
		}
		if (pkt->nvlan == 0)
			pkt->vlan = tci & 0x0fff;
		if (++pkt->nvlan > MAX_VLAN_TAGS) {
			pkt->proto = SX_P_ETHERNET;
			set_status(pkt, SX_DEC_MALFORMED);
			return;
		}
	}
	if (type <= 1500) {
		/* 802.2 LLC: DSAP, SSAP, control; SNAP: OUI (3) + EtherType. */
		uint8_t dsap = sx_cur_u8(c);
		uint8_t ssap = sx_cur_u8(c);
		uint8_t ctl = sx_cur_u8(c);

		pkt->proto = SX_P_LLC;
		pkt->ethertype = type;
		if (c->bad) {
			set_status(pkt, SX_DEC_TRUNCATED);
			return;
		}
		if (dsap == 0xaa && ssap == 0xaa && ctl == 0x03) {
			uint16_t snap_type;

			sx_cur_skip(c, 3);
			snap_type = sx_cur_be16(c);
			if (c->bad) {
				set_status(pkt, SX_DEC_TRUNCATED);
				return;
			}
			if (snap_type == ETH_IPV4 || snap_type == ETH_IPV6)
				decode_net(pkt, c, snap_type);
		}
		return;
	}
	if (type == ETH_PPPOE_SESS) {
		pkt->ethertype = type;
		decode_pppoe(pkt, c);
		return;
	}
	decode_net(pkt, c, type);
}

/*
 * Linux cooked capture v1 (DLT_LINUX_SLL): 16 bytes, protocol last.
 *   | pkttype | arphrd | addrlen | addr (8) | protocol |
 * v2 (DLT_LINUX_SLL2): 20 bytes, protocol first.
 *   | protocol | reserved | ifindex (4) | arphrd | pkttype | addrlen | addr (8) |
 */
static void decode_sll(struct sx_pkt *pkt, struct sx_cursor *c, bool v2)
{
	uint16_t proto, addrlen;
	uint8_t addr[8];

	if (v2) {
		proto = sx_cur_be16(c);
		sx_cur_skip(c, 9);
		addrlen = sx_cur_u8(c);
	} else {
		sx_cur_skip(c, 4);
		addrlen = sx_cur_be16(c);
	}
	sx_cur_copy(c, addr, sizeof(addr));
	if (!v2)
		proto = sx_cur_be16(c);
	if (c->bad) {
		set_status(pkt, SX_DEC_TRUNCATED);
		return;
	}
	if (addrlen == 6)
		memcpy(pkt->mac_src, addr, 6);
	if (proto == ETH_VLAN) { /* kernel-reinserted tag: TCI, type */
		pkt->vlan = sx_cur_be16(c) & 0x0fff;
		pkt->nvlan = 1;
		proto = sx_cur_be16(c);
		if (c->bad) {
			set_status(pkt, SX_DEC_TRUNCATED);
			return;
		}
	}
	decode_net(pkt, c, proto);
}

/*
 * BSD loopback (DLT_NULL: host byte order of the capturing machine;
 * DLT_LOOP: network order): a 4-byte address family.  AF_INET is 2
 * everywhere; AF_INET6 is 24, 28 or 30 depending on the BSD.  Both byte
 * orders are accepted since the capturing host's order is unknown.
 */
static void decode_null(struct sx_pkt *pkt, struct sx_cursor *c)
{
	uint32_t fam = sx_cur_be32(c);

	if (c->bad) {
		set_status(pkt, SX_DEC_TRUNCATED);
		return;
	}
	if (fam > 0xffff)
		fam = __builtin_bswap32(fam);
	switch (fam) {
	case 2:
		decode_net(pkt, c, ETH_IPV4);
		break;
	case 10:
	case 24:
	case 28:
	case 30:
		decode_net(pkt, c, ETH_IPV6);
		break;
	default:
		set_status(pkt, SX_DEC_UNSUPPORTED);
		break;
	}
}

/* The decoded header part of a packet, from status to app, all zero. */
static const uint8_t dec_zero[offsetof(struct sx_pkt, app) - offsetof(struct sx_pkt, status)];

static void decode(struct sx_pkt *pkt, enum sx_l2 l2, const uint8_t *data, uint32_t caplen,
		   uint32_t wirelen, bool app, struct sx_app_memo *memo)
{
	struct sx_cursor c = sx_cur(data, caplen);

	/* Clear the decoded header part only: file, index and timestamps
	 * belong to the caller, and the application union is written by
	 * whichever dissector claims the packet.  Copied from zeros: gcc
	 * makes a memset of this size (172 bytes) a `rep stosq`, whose
	 * start-up was 60 % of this function's time on the large capture;
	 * a copy it makes vector stores. */
	memcpy(&pkt->status, dec_zero, sizeof(dec_zero));
	pkt->headers_only = !app;
	pkt->memo = memo;
	pkt->cap_len = caplen;
	pkt->wire_len = wirelen;
	pkt->l2 = (uint8_t)l2;
	pkt->proto = SX_P_UNKNOWN;
	switch (l2) {
	case SX_L2_ETH:
		decode_eth(pkt, &c);
		break;
	case SX_L2_SLL:
		decode_sll(pkt, &c, false);
		break;
	case SX_L2_SLL2:
		decode_sll(pkt, &c, true);
		break;
	case SX_L2_RAW:
		decode_ip_any(pkt, &c);
		break;
	case SX_L2_NULL:
		decode_null(pkt, &c);
		break;
	default:
		pkt->status = SX_DEC_UNSUPPORTED;
		break;
	}
}

void sx_decode(struct sx_pkt *pkt, enum sx_l2 l2, const uint8_t *data, uint32_t caplen,
	       uint32_t wirelen)
{
	decode(pkt, l2, data, caplen, wirelen, true, NULL);
}

void sx_decode_memo(struct sx_pkt *pkt, struct sx_app_memo *memo, enum sx_l2 l2,
		    const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
	decode(pkt, l2, data, caplen, wirelen, true, memo);
}

void sx_decode_headers(struct sx_pkt *pkt, enum sx_l2 l2, const uint8_t *data, uint32_t caplen,
		       uint32_t wirelen)
{
	decode(pkt, l2, data, caplen, wirelen, false, NULL);
}
