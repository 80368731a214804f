/*
 * test_ingest_dhcp.c - BOOTP and DHCP (ingest/app_dhcp.c).
 *
 * The options of the DHCPDISCOVER below are those of a D-Link DCS-8000LH
 * camera (pcap-fuzzer traces/dhcp.pcap, frame 1); the fixed part is built
 * here.  Payloads are malloc'd at their exact length.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/app.h"
#include "ingest/ingest.h"
#include "support/pkt.h"

TestSuite(ingest_dhcp, .timeout = 60);

static uint8_t run(struct sx_pkt *pkt, uint16_t sport, uint16_t dport, const struct sx_tmsg *m)
{
	uint8_t *p = sx_tt_exact(m->b, m->n);

	sx_tt_set_pkt(pkt, SX_P_UDP, sport, dport, p, m->n, m->n);
	sx_app_dissect(pkt);
	free(p);
	pkt->payload = NULL;
	if (pkt->proto == SX_P_DHCP) {
		sx_tt_assert_printable(pkt->app.dhcp.hostname, sizeof(pkt->app.dhcp.hostname));
		sx_tt_assert_printable(pkt->app.dhcp.vendor_class,
				       sizeof(pkt->app.dhcp.vendor_class));
	}
	return pkt->proto;
}

static const uint8_t mac[6] = {0xb0, 0xc5, 0x54, 0x43, 0x54, 0x83};

/* The 236-byte fixed part, optionally the cookie. */
static void fixed(struct sx_tmsg *m, uint8_t op, uint8_t htype, uint8_t hlen, uint32_t xid,
		  bool cookie)
{
	memset(m->b, 0, 240);
	m->b[0] = op;
	m->b[1] = htype;
	m->b[2] = hlen;
	m->b[4] = (uint8_t)(xid >> 24);
	m->b[5] = (uint8_t)(xid >> 16);
	m->b[6] = (uint8_t)(xid >> 8);
	m->b[7] = (uint8_t)xid;
	memcpy(m->b + 28, mac, 6);
	memcpy(m->b + 44, "sname-not-read", 14);
	m->n = 236;
	if (cookie)
		sx_tm_putbytes(m, "\x63\x82\x53\x63", 4);
}

static const uint8_t discover_opts[] = {
    0x35, 0x01, 0x01, 0x3d, 0x07, 0x01, 0xb0, 0xc5, 0x54, 0x43, 0x54, 0x83, 0x39, 0x02,
    0x02, 0x40, 0x37, 0x07, 0x01, 0x03, 0x06, 0x0c, 0x0f, 0x1c, 0x2a, 0x3c, 0x0c, 0x75,
    0x64, 0x68, 0x63, 0x70, 0x20, 0x31, 0x2e, 0x32, 0x32, 0x2e, 0x31, 0x0c, 0x0a, 0x44,
    0x43, 0x53, 0x2d, 0x38, 0x30, 0x30, 0x30, 0x4c, 0x48, 0xff, 0x00, 0x00, 0x00, 0x00,
};

static void discover(struct sx_tmsg *m)
{
	fixed(m, 1, 1, 6, 0x1a2b3c4d, true);
	sx_tm_putbytes(m, discover_opts, sizeof(discover_opts));
}

Test(ingest_dhcp, discover)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	const struct sx_dhcp *d = &pkt.app.dhcp;

	discover(&m);
	cr_assert_eq(run(&pkt, 68, 67, &m), SX_P_DHCP);
	cr_assert_eq(d->op, 1);
	cr_assert_eq(d->xid, 0x1a2b3c4d);
	cr_assert_eq(memcmp(d->chaddr, mac, 6), 0);
	cr_assert_eq(d->msg_type, 1);
	cr_assert_str_eq(d->hostname, "DCS-8000LH");
	cr_assert_str_eq(d->vendor_class, "udhcp 1.22.1");
	cr_assert_not(d->has_requested_ip);
	cr_assert_str_eq(sx_dhcp_type_name(d->msg_type), "discover");
}

Test(ingest_dhcp, request_with_requested_ip_and_pads)
{
	static const uint8_t opts[] = {
	    0x00, 0x00, 0x35, 0x01, 0x03, 0x00, 0x32, 0x04, 0xc0,
	    0xa8, 0x01, 0x73, 0xff, 0x0c, 0x03, 'b',  'a',  'd', /* after END: ignored */
	};
	struct sx_tmsg m;
	struct sx_pkt pkt;
	const struct sx_dhcp *d = &pkt.app.dhcp;

	fixed(&m, 1, 1, 6, 7, true);
	sx_tm_putbytes(&m, opts, sizeof(opts));
	cr_assert_eq(run(&pkt, 68, 67, &m), SX_P_DHCP);
	cr_assert_eq(d->msg_type, 3);
	cr_assert(d->has_requested_ip);
	cr_assert_eq(memcmp(d->requested_ip, "\xc0\xa8\x01\x73", 4), 0);
	cr_assert_str_eq(d->hostname, "");
}

Test(ingest_dhcp, reply_from_server_port)
{
	static const uint8_t opts[] = {0x35, 0x01, 0x05, 0xff};
	struct sx_tmsg m;
	struct sx_pkt pkt;

	fixed(&m, 2, 1, 6, 99, true);
	sx_tm_putbytes(&m, opts, sizeof(opts));
	cr_assert_eq(run(&pkt, 67, 68, &m), SX_P_DHCP);
	cr_assert_eq(pkt.app.dhcp.op, 2);
	cr_assert_eq(pkt.app.dhcp.msg_type, 5);
	cr_assert_str_eq(sx_dhcp_type_name(5), "ack");
}

Test(ingest_dhcp, plain_bootp_and_other_hardware)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	static const uint8_t zero[6];

	fixed(&m, 1, 1, 6, 5, false);
	sx_tm_putbytes(&m, "\x35\x01\x01\xff", 4); /* no cookie: not options */
	cr_assert_eq(run(&pkt, 68, 67, &m), SX_P_DHCP);
	cr_assert_eq(pkt.app.dhcp.msg_type, 0);
	cr_assert_eq(memcmp(pkt.app.dhcp.chaddr, mac, 6), 0);

	fixed(&m, 1, 6, 6, 5, true); /* IEEE 802 */
	sx_tm_putbytes(&m, "\x35\x01\x08\xff", 4);
	cr_assert_eq(run(&pkt, 68, 67, &m), SX_P_DHCP);
	cr_assert_eq(pkt.app.dhcp.msg_type, 8);
	cr_assert_eq(memcmp(pkt.app.dhcp.chaddr, zero, 6), 0);

	fixed(&m, 1, 1, 16, 5, true); /* hlen not 6 */
	sx_tm_putbytes(&m, "\xff", 1);
	cr_assert_eq(run(&pkt, 68, 67, &m), SX_P_DHCP);
	cr_assert_eq(memcmp(pkt.app.dhcp.chaddr, zero, 6), 0);
}

Test(ingest_dhcp, not_bootp)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;

	discover(&m);
	m.b[0] = 3;
	cr_assert_eq(run(&pkt, 68, 67, &m), SX_P_UDP);
	discover(&m);
	m.b[2] = 17;
	cr_assert_eq(run(&pkt, 68, 67, &m), SX_P_UDP);
	discover(&m);
	m.b[3] = 17;
	cr_assert_eq(run(&pkt, 68, 67, &m), SX_P_UDP);
	discover(&m);
	m.n = 235;
	cr_assert_eq(run(&pkt, 68, 67, &m), SX_P_UDP);
	/* not on other ports */
	discover(&m);
	cr_assert_eq(run(&pkt, 1068, 1067, &m), SX_P_UDP);
}

Test(ingest_dhcp, malformed_option_lengths)
{
	static const uint8_t opts[] = {
	    0x35, 0x01, 0x01, 0x32, 0x03, 0x01, 0x02, 0x03, /* requested IP of 3 bytes */
	    0x35, 0x00,					    /* empty type: ignored */
	    0x0c, 0x02, 'h',  'i',  0x3c, 0x40, 'v',	    /* runs past the end */
	};
	struct sx_tmsg m;
	struct sx_pkt pkt;

	fixed(&m, 1, 1, 6, 5, true);
	sx_tm_putbytes(&m, opts, sizeof(opts));
	cr_assert_eq(run(&pkt, 68, 67, &m), SX_P_DHCP);
	cr_assert_eq(pkt.app.dhcp.msg_type, 1);
	cr_assert_not(pkt.app.dhcp.has_requested_ip);
	cr_assert_str_eq(pkt.app.dhcp.hostname, "hi");
	cr_assert_str_eq(pkt.app.dhcp.vendor_class, "");
}

Test(ingest_dhcp, hostile_strings_are_escaped)
{
	static const uint8_t opts[] = {
	    0x0c, 0x08, 'a', '"', ',', '\n', 0x00, 0x80, 0xff, '\\', 0xff,
	};
	struct sx_tmsg m;
	struct sx_pkt pkt;
	uint8_t big[255];

	fixed(&m, 1, 1, 6, 5, true);
	sx_tm_putbytes(&m, opts, sizeof(opts));
	cr_assert_eq(run(&pkt, 68, 67, &m), SX_P_DHCP);
	cr_assert_str_eq(pkt.app.dhcp.hostname, "a\",\\x0a\\x00\\x80\\xff\\\\");

	fixed(&m, 1, 1, 6, 5, true);
	memset(big, 0x07, sizeof(big));
	sx_tm_putbytes(&m, "\x3c\xff", 2);
	sx_tm_putbytes(&m, big, sizeof(big));
	cr_assert_eq(run(&pkt, 68, 67, &m), SX_P_DHCP);
	cr_assert_eq(strlen(pkt.app.dhcp.vendor_class) % 4, 0);
	cr_assert_gt(strlen(pkt.app.dhcp.vendor_class), SX_TEXT_MAX - 6);
}

Test(ingest_dhcp, short_capture_keeps_the_fixed_fields)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	uint8_t *p;

	discover(&m);
	/* snaplen: 100 bytes of the payload captured */
	p = sx_tt_exact(m.b, 100);
	sx_tt_set_pkt(&pkt, SX_P_UDP, 68, 67, p, 100, m.n);
	sx_app_dissect(&pkt);
	cr_assert_eq(pkt.proto, SX_P_DHCP);
	cr_assert_eq(pkt.app.dhcp.xid, 0x1a2b3c4d);
	cr_assert_eq(memcmp(pkt.app.dhcp.chaddr, mac, 6), 0);
	cr_assert_eq(pkt.app.dhcp.msg_type, 0);
	free(p);
}

Test(ingest_dhcp, truncated_at_every_offset)
{
	struct sx_tmsg m;
	size_t i;
	unsigned mode;

	discover(&m);
	for (mode = 0; mode < 2; mode++) {
		for (i = 0; i <= m.n; i++) {
			struct sx_pkt pkt;
			uint8_t *p = sx_tt_exact(m.b, i);

			sx_tt_set_pkt(&pkt, SX_P_UDP, 68, 67, p, i, mode ? m.n : i);
			sx_app_dissect(&pkt);
			if (pkt.proto == SX_P_DHCP) {
				sx_tt_assert_printable(pkt.app.dhcp.hostname,
						       sizeof(pkt.app.dhcp.hostname));
				sx_tt_assert_printable(pkt.app.dhcp.vendor_class,
						       sizeof(pkt.app.dhcp.vendor_class));
			}
			if ((mode && i >= 34) || i >= 236)
				cr_assert_eq(pkt.proto, SX_P_DHCP, "at %zu", i);
			free(p);
		}
	}
}

Test(ingest_dhcp, type_names)
{
	static const char *const names[] = {
	    "discover", "offer", "request", "decline", "ack", "nak", "release", "inform",
	};
	unsigned i;

	cr_assert_null(sx_dhcp_type_name(0));
	for (i = 0; i < 8; i++)
		cr_assert_str_eq(sx_dhcp_type_name((uint8_t)(i + 1)), names[i]);
	cr_assert_str_eq(sx_dhcp_type_name(9), "force_renew");
	cr_assert_str_eq(sx_dhcp_type_name(10), "lease_query");
	cr_assert_str_eq(sx_dhcp_type_name(13), "lease_active");
	cr_assert_str_eq(sx_dhcp_type_name(18), "tls");
	cr_assert_null(sx_dhcp_type_name(19));
	cr_assert_null(sx_dhcp_type_name(255));
}
