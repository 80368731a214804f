/*
 * test_ingest_arp.c - the frame's Ethernet addresses and ARP's fields
 * (ingest/decode.c: decode_eth(), decode_arp()), RFC 826.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "ingest/ingest.h"

TestSuite(ingest_arp, .timeout = 30);

/* who-has 192.168.1.135 tell 192.168.1.1, from c0:56:27:73:46:0b */
static const uint8_t request[42] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc0, 0x56, 0x27, 0x73, 0x46, 0x0b, 0x08, 0x06,
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0xc0, 0x56, 0x27, 0x73, 0x46, 0x0b,
    192,  168,	1,    1,    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 192,  168,  1,	  135,
};

Test(ingest_arp, request_fields)
{
	struct sx_pkt p;

	sx_decode(&p, SX_L2_ETH, request, sizeof(request), sizeof(request));
	cr_assert_eq(p.status, SX_DEC_OK);
	cr_assert_eq(p.proto, SX_P_ARP);
	cr_assert(p.has_mac);
	cr_assert_arr_eq(p.mac_dst, ((uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), 6);
	cr_assert_arr_eq(p.mac_src, request + 6, 6);
	cr_assert(p.has_arp);
	cr_assert_eq(p.arp_op, 1);
	cr_assert_arr_eq(p.arp_sha, request + 6, 6);
	cr_assert_arr_eq(p.arp_spa, ((uint8_t[]){192, 168, 1, 1}), 4);
	cr_assert_arr_eq(p.arp_tpa, ((uint8_t[]){192, 168, 1, 135}), 4);
}

/* Cut at every length: never read past the end; ARP fields only when whole. */
Test(ingest_arp, truncated_at_every_length)
{
	for (uint32_t n = 0; n < sizeof(request); n++) {
		uint8_t *copy = malloc(n ? n : 1);
		struct sx_pkt p;

		memcpy(copy, request, n);
		sx_decode(&p, SX_L2_ETH, copy, n, sizeof(request));
		cr_assert(!p.has_arp, "length %u", n);
		cr_assert_eq(p.has_mac, n >= 12, "length %u", n);
		free(copy);
	}
}

/* Not Ethernet/IPv4 (here a hardware length of 8): no ARP fields. */
Test(ingest_arp, other_kinds_are_not_decoded)
{
	uint8_t f[sizeof(request)];
	struct sx_pkt p;

	memcpy(f, request, sizeof(f));
	f[18] = 8;
	sx_decode(&p, SX_L2_ETH, f, sizeof(f), sizeof(f));
	cr_assert_eq(p.proto, SX_P_ARP);
	cr_assert(!p.has_arp);
}

/* Raw IP has no link addresses. */
Test(ingest_arp, raw_ip_has_no_mac)
{
	static const uint8_t ip[20] = {0x45, 0, 0,  20, 0, 0, 0,  0, 64, 17,
				       0,    0, 10, 0,	0, 1, 10, 0, 0,	 2};
	struct sx_pkt p;

	sx_decode(&p, SX_L2_RAW, ip, sizeof(ip), sizeof(ip));
	cr_assert(!p.has_mac);
}
