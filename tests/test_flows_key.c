/*
 * test_flows_key.c - canonical flow keys: symmetric for replies, padding-free
 * and deterministic, IPv4 never equal to IPv6, the seed changing the hash
 * but not equality, and the total orders used by the reduce phase.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "flows/flows.h"

TestSuite(flows_key, .timeout = 30);

static void pkt4(struct sx_pkt *p, const char *garbage_fill, uint8_t a, uint16_t sp, uint8_t b,
		 uint16_t dp, uint8_t proto)
{
	memset(p, garbage_fill ? garbage_fill[0] : 0, sizeof(*p));
	memset(&p->src, 0, sizeof(p->src));
	memset(&p->dst, 0, sizeof(p->dst));
	p->src.family = p->dst.family = 4;
	p->src.b[0] = 10;
	p->src.b[3] = a;
	p->dst.b[0] = 10;
	p->dst.b[3] = b;
	p->sport = sp;
	p->dport = dp;
	p->ip_proto = proto;
	p->vlan = 0;
}

Test(flows_key, symmetric_for_reply)
{
	struct sx_pkt q, r;
	struct sx_flow_key kq, kr;
	unsigned dq, dr;

	pkt4(&q, NULL, 1, 40000, 2, 53, 17);
	pkt4(&r, NULL, 2, 53, 1, 40000, 17);
	dq = sx_flow_key_make(&kq, &q, 3, SX_FLOW_NO_EVENT);
	dr = sx_flow_key_make(&kr, &r, 3, SX_FLOW_NO_EVENT);
	cr_assert_eq(memcmp(&kq, &kr, sizeof(kq)), 0);
	cr_assert_neq(dq, dr);
	cr_assert_eq(sx_flow_key_hash(&kq, 99), sx_flow_key_hash(&kr, 99));
	cr_assert_eq(sx_flow_key_cmp(&kq, &kr), 0);
}

Test(flows_key, same_host_both_ends_orders_by_port)
{
	struct sx_pkt q, r;
	struct sx_flow_key kq, kr;

	pkt4(&q, NULL, 1, 5000, 1, 80, 6);
	pkt4(&r, NULL, 1, 80, 1, 5000, 6);
	cr_assert_eq(sx_flow_key_make(&kq, &q, 0, 0), 1);
	cr_assert_eq(sx_flow_key_make(&kr, &r, 0, 0), 0);
	cr_assert_eq(memcmp(&kq, &kr, sizeof(kq)), 0);
	cr_assert_eq(kq.lo_port, 80);
}

Test(flows_key, padding_and_unused_bytes_are_zero)
{
	struct sx_pkt a, b;
	struct sx_flow_key ka, kb;

	/* The packets differ only in fields that are not part of the key. */
	pkt4(&a, "\x55", 1, 1, 2, 2, 6);
	pkt4(&b, "\xaa", 1, 1, 2, 2, 6);
	a.wire_len = 1;
	b.wire_len = 2000;
	memset(&ka, 0x77, sizeof(ka));
	memset(&kb, 0x11, sizeof(kb));
	sx_flow_key_make(&ka, &a, 0, 0);
	sx_flow_key_make(&kb, &b, 0, 0);
	cr_assert_eq(memcmp(&ka, &kb, sizeof(ka)), 0);
	cr_assert_eq(ka.lo_addr[4], 0);
	cr_assert_eq(ka.hi_addr[15], 0);
}

Test(flows_key, v4_and_v6_never_equal)
{
	struct sx_pkt a, b;
	struct sx_flow_key ka, kb;

	pkt4(&a, NULL, 1, 1, 2, 2, 17);
	b = a;
	b.src.family = b.dst.family = 6; /* same 16 bytes, other family */
	sx_flow_key_make(&ka, &a, 0, 0);
	sx_flow_key_make(&kb, &b, 0, 0);
	cr_assert_neq(memcmp(&ka, &kb, sizeof(ka)), 0);
	cr_assert_neq(sx_flow_key_cmp(&ka, &kb), 0);
}

Test(flows_key, unit_vlan_and_proto_are_part_of_the_key)
{
	struct sx_pkt a, b;
	struct sx_flow_key ka, kb;

	pkt4(&a, NULL, 1, 1, 2, 2, 17);
	sx_flow_key_make(&ka, &a, 0, 0);
	sx_flow_key_make(&kb, &a, 1, 0);
	cr_assert_neq(sx_flow_key_cmp(&ka, &kb), 0);
	sx_flow_key_make(&kb, &a, 0, 1);
	cr_assert_neq(sx_flow_key_cmp(&ka, &kb), 0);
	b = a;
	b.vlan = 5;
	sx_flow_key_make(&kb, &b, 0, 0);
	cr_assert_neq(sx_flow_key_cmp(&ka, &kb), 0);
	b = a;
	b.ip_proto = 6;
	sx_flow_key_make(&kb, &b, 0, 0);
	cr_assert_neq(sx_flow_key_cmp(&ka, &kb), 0);
}

Test(flows_key, seed_changes_hash_not_equality)
{
	struct sx_pkt a;
	struct sx_flow_key k;
	unsigned top_bits_seen = 0;
	uint64_t s;

	pkt4(&a, NULL, 1, 1000, 2, 2000, 6);
	sx_flow_key_make(&k, &a, 0, 0);
	cr_assert_neq(sx_flow_key_hash(&k, 1), sx_flow_key_hash(&k, 2));
	cr_assert_eq(sx_flow_key_hash(&k, 1), sx_flow_key_hash(&k, 1));
	/* the top bits (shard selection) vary with the seed too */
	for (s = 0; s < 256; s++)
		top_bits_seen |= 1u << (sx_flow_key_hash(&k, s) >> 59);
	cr_assert_gt(__builtin_popcount(top_bits_seen), 16);
}

Test(flows_key, rec_order_is_first_timestamp_then_key)
{
	struct sx_flow_rec a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.first_ns = 5;
	b.first_ns = 6;
	a.key.lo_port = 9;
	cr_assert_lt(sx_flow_rec_cmp(&a, &b), 0);
	b.first_ns = 5;
	cr_assert_gt(sx_flow_rec_cmp(&a, &b), 0);
	b.key.lo_port = 9;
	b.first_index = 1;
	cr_assert_lt(sx_flow_rec_cmp(&a, &b), 0);
	b.first_index = 0;
	cr_assert_eq(sx_flow_rec_cmp(&a, &b), 0);
}

Test(flows_key, ports_and_services)
{
	/* the table's first, last and middle entries, each transport, and
	 * ports it does not hold (below 1024: known without a name) */
	static const struct {
		uint8_t proto;
		uint16_t port;
		const char *name; /* NULL: none */
		bool known;
	} cases[] = {
	    {17, 53, "domain", true},
	    {6, 443, "https", true},
	    {6, 9999, NULL, true},
	    {6, 22, "ssh", true},
	    {6, 40000, NULL, false},
	    {6, 20, "ftp-data", true},
	    {17, 20, NULL, true},
	    {17, 20002, NULL, true},
	    {6, 20002, NULL, false},
	    {17, 54321, NULL, true}, /* Xiaomi's miIO */
	    {6, 54321, NULL, false},
	    {6, 3702, "ws-discovery", true},
	    {17, 3702, "ws-discovery", true},
	    {17, 4500, "ipsec-nat-t", true},
	    {6, 8883, "secure-mqtt", true},
	    {6, 5228, NULL, true},
	    {17, 5228, NULL, false},
	    {6, 65535, NULL, false},
	    {6, 0, NULL, false},
	};
	struct sx_flow_key k;
	size_t i;

	memset(&k, 0, sizeof(k));
	k.proto = 1;
	cr_assert_not(sx_flow_has_ports(&k));
	k.proto = 17;
	cr_assert_not(sx_flow_has_ports(&k), "no ports at all: a non-first fragment");
	k.hi_port = 53;
	cr_assert(sx_flow_has_ports(&k));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *name = sx_flow_service_name(cases[i].proto, cases[i].port);

		if (cases[i].name)
			cr_assert_str_eq(name, cases[i].name, "%u/%u", cases[i].proto,
					 cases[i].port);
		else
			cr_assert_null(name, "%u/%u", cases[i].proto, cases[i].port);
		cr_assert_eq(sx_flow_port_is_known(cases[i].proto, cases[i].port), cases[i].known,
			     "%u/%u", cases[i].proto, cases[i].port);
	}
}

/* The endpoint order is memcmp's on the address bytes, then the ports, for
 * addresses that differ in any byte (the compare goes by words); key
 * equality is every byte's. */
Test(flows_key, endpoint_order_is_bytewise)
{
	static const size_t lens[] = {4, 16};
	uint32_t x = 12345;
	unsigned t, i;

	for (t = 0; t < 20000; t++) {
		size_t alen = lens[t & 1];
		struct sx_pkt p;
		struct sx_flow_key k, k2;
		unsigned dir, want;
		int c;

		memset(&p, 0, sizeof(p));
		p.src.family = p.dst.family = alen == 4 ? 4 : 6;
		for (i = 0; i < alen; i++) {
			x = x * 1103515245u + 12345u;
			p.src.b[i] = (uint8_t)(x >> 16);
			/* mostly equal bytes, so that every position decides sometimes */
			p.dst.b[i] = (x >> 8) % 5 ? p.src.b[i] : (uint8_t)(x >> 24);
		}
		p.sport = (uint16_t)(x % 3);
		p.dport = (uint16_t)(x / 3 % 3);
		p.ip_proto = 17;
		c = memcmp(p.src.b, p.dst.b, alen);
		want = c > 0 || (c == 0 && p.sport > p.dport);
		dir = sx_flow_key_make(&k, &p, 0, 0);
		cr_assert_eq(dir, want, "case %u", t);
		cr_assert_eq(memcmp(want ? k.hi_addr : k.lo_addr, p.src.b, alen), 0);
		k2 = k;
		cr_assert(sx_flow_key_eq(&k, &k2));
		for (i = 0; i < sizeof(k2); i++) {
			k2 = k;
			((uint8_t *)&k2)[i] ^= (uint8_t)(1u << (t % 8));
			cr_assert(!sx_flow_key_eq(&k, &k2), "byte %u", i);
		}
	}
}
