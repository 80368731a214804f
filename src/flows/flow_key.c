/*
 * flow_key.c - canonical flow keys, their hash and their order.
 *
 * DESIGN.  A key is 48 bytes with no implicit padding (static-asserted in
 * flow.h) and is always built from a zeroed struct, so equality is memcmp
 * and the hash covers every byte.  The endpoints are ordered jointly:
 * (address bytes, then port) of the packet's source is compared with its
 * destination's, and the smaller becomes lo.  IPv4 addresses sit in the
 * first 4 of 16 bytes; the family byte keeps an IPv4 key from ever equalling
 * an IPv6 one.  Protocols without ports (ICMP, IGMP, non-first fragments,
 * anything else) have both ports 0, so all such packets between two hosts
 * are one flow per protocol.
 *
 * ARP messages (sx_pkt_is_arp()) have keys of their own (flow.h): sender
 * first, the operation in lo_port, never reordered, so the direction is
 * always 0 (from the sender).
 *
 * The hash is XXH3-64 with the run's seed, inlined (XXH_INLINE_ALL: no link
 * dependency).  The seed changes shard placement and table order only; every
 * output is sorted with sx_flow_key_cmp()/sx_flow_rec_cmp(), which compare
 * numerically field by field and never look at the hash.
 *
 * Stateless; thread-safe.
 */
#include "flows/flows.h"

#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static inline uint32_t load_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

static inline uint64_t load_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* The sign of memcmp(a, b, alen) for alen 4 or 16, compared as big-endian
 * words (no call on every packet). */
static inline int addr_cmp(const uint8_t *a, const uint8_t *b, size_t alen)
{
	uint64_t x, y;

	if (alen == 4) {
		uint32_t u = load_be32(a), v = load_be32(b);

		return (u > v) - (u < v);
	}
	x = load_be64(a);
	y = load_be64(b);
	if (x == y) {
		x = load_be64(a + 8);
		y = load_be64(b + 8);
	}
	return (x > y) - (x < y);
}

unsigned sx_flow_key_make(struct sx_flow_key *k, const struct sx_pkt *pkt, uint32_t file,
			  uint32_t event)
{
	size_t alen = pkt->src.family == 6 ? 16 : 4;
	uint16_t sport = pkt->sport, dport = pkt->dport;
	unsigned dir;
	int c;

	memset(k, 0, sizeof(*k));
	if (sx_pkt_is_arp(pkt)) {
		memcpy(k->lo_addr, pkt->arp_spa, 4);
		memcpy(k->hi_addr, pkt->arp_tpa, 4);
		k->lo_port = pkt->arp_op;
		k->vlan = pkt->vlan;
		k->family = SX_FLOW_FAMILY_ARP;
		k->file = file;
		k->event = event;
		return 0;
	}
	c = addr_cmp(pkt->src.b, pkt->dst.b, alen);
	dir = c > 0 || (c == 0 && sport > dport);
	if (!dir) {
		memcpy(k->lo_addr, pkt->src.b, alen);
		memcpy(k->hi_addr, pkt->dst.b, alen);
		k->lo_port = sport;
		k->hi_port = dport;
	} else {
		memcpy(k->lo_addr, pkt->dst.b, alen);
		memcpy(k->hi_addr, pkt->src.b, alen);
		k->lo_port = dport;
		k->hi_port = sport;
	}
	k->vlan = pkt->vlan;
	k->proto = pkt->ip_proto;
	k->family = pkt->src.family;
	k->file = file;
	k->event = event;
	return dir;
}

uint64_t sx_flow_key_hash(const struct sx_flow_key *k, uint64_t seed)
{
	return XXH3_64bits_withSeed(k, sizeof(*k), seed);
}

#define CMP(a, b)                                                                                  \
	do {                                                                                       \
		if ((a) != (b))                                                                    \
			return (a) < (b) ? -1 : 1;                                                 \
	} while (0)

int sx_flow_key_cmp(const struct sx_flow_key *a, const struct sx_flow_key *b)
{
	int c;

	CMP(a->file, b->file);
	CMP(a->event, b->event);
	CMP(a->family, b->family);
	c = memcmp(a->lo_addr, b->lo_addr, 16);
	if (c)
		return c < 0 ? -1 : 1;
	c = memcmp(a->hi_addr, b->hi_addr, 16);
	if (c)
		return c < 0 ? -1 : 1;
	CMP(a->lo_port, b->lo_port);
	CMP(a->hi_port, b->hi_port);
	CMP(a->proto, b->proto);
	CMP(a->vlan, b->vlan);
	return 0;
}

int sx_flow_rec_cmp(const struct sx_flow_rec *a, const struct sx_flow_rec *b)
{
	int c;

	CMP(a->first_ns, b->first_ns);
	c = sx_flow_key_cmp(&a->key, &b->key);
	if (c)
		return c;
	CMP(a->first_index, b->first_index);
	CMP(a->last_ns, b->last_ns);
	return 0;
}

void sx_flow_rec_end(const struct sx_flow_rec *r, enum sx_flow_side side, struct sx_addr *a,
		     uint16_t *port)
{
	bool lo = (side == SX_SIDE_DEVICE) == (r->dev == 0);

	memset(a, 0, sizeof(*a));
	a->family = sx_flow_key_is_arp(&r->key) ? 4 : r->key.family;
	memcpy(a->b, lo ? r->key.lo_addr : r->key.hi_addr, 16);
	if (port)
		*port = lo ? r->key.lo_port : r->key.hi_port;
}

bool sx_flow_has_ports(const struct sx_flow_key *k)
{
	return (k->proto == 6 || k->proto == 17 || k->proto == 132 || k->proto == 136) &&
	       (k->lo_port != 0 || k->hi_port != 0);
}

unsigned sx_flows_xxhash_version(void)
{
	return XXH_versionNumber();
}
