/*
 * test_mine_upstream.c - pieces of `--mode upstream` (mine/upstream*.c):
 * Python repr formatting, timestamp text, event names, the known-port and
 * fixed-port rules, pattern mining on hand-made tables, and the reference's
 * packet acceptance and fields on hand-built frames decoded by sx_decode().
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "ingest/ingest.h"
#include "upstream/upstream.h"
#include "upstream/upstream_int.h"
#include "core/text.h"
#include "support/frames.h"

TestSuite(mine_upstream, .timeout = 60);

static char *repr(const char *s)
{
	static char out[256];
	struct sx_buf b;

	sx_buf_init(&b);
	sx_upstream_repr_str(&b, s);
	sx_buf_putc(&b, '\0');
	cr_assert_eq(b.err, 0);
	snprintf(out, sizeof(out), "%s", b.data);
	sx_buf_fini(&b);
	return out;
}

Test(mine_upstream, python_repr_of_str)
{
	cr_expect_str_eq(repr("192.168.1.135"), "'192.168.1.135'");
	cr_expect_str_eq(repr(""), "''");
	cr_expect_str_eq(repr("it's"), "\"it's\"");
	cr_expect_str_eq(repr("a'b\"c"), "'a\\'b\"c'");
	cr_expect_str_eq(repr("say \"hi\""), "'say \"hi\"'");
	cr_expect_str_eq(repr("back\\slash"), "'back\\\\slash'");
	cr_expect_str_eq(repr("tab\there\n"), "'tab\\there\\n'");
	cr_expect_str_eq(repr("\x01\x7f"), "'\\x01\\x7f'");
}

Test(mine_upstream, timestamp_text_as_python_decimal)
{
	char b[48];

	sx_upstream_ts_text(b, sizeof(b), 1724059940, 554488000, SX_UP_TS_USEC);
	cr_expect_str_eq(b, "1724059940.554488");
	sx_upstream_ts_text(b, sizeof(b), 1724059940, 0, SX_UP_TS_USEC);
	cr_expect_str_eq(b, "1724059940.000000");
	sx_upstream_ts_text(b, sizeof(b), 1669130403, 435474395, SX_UP_TS_NSEC);
	cr_expect_str_eq(b, "1669130403.435474395");
	sx_upstream_ts_text(b, sizeof(b), 1669130403, 500000, SX_UP_TS_NSEC);
	cr_expect_str_eq(b, "1669130403.000500000");
	/* pcapng: Decimal(ticks) / resolution, the shortest exact form */
	sx_upstream_ts_text(b, sizeof(b), 1720184369, 500000000, SX_UP_TS_SHORTEST);
	cr_expect_str_eq(b, "1720184369.5");
	sx_upstream_ts_text(b, sizeof(b), 1720184369, 0, SX_UP_TS_SHORTEST);
	cr_expect_str_eq(b, "1720184369");
	sx_upstream_ts_text(b, sizeof(b), 1720184369, 123456789, SX_UP_TS_SHORTEST);
	cr_expect_str_eq(b, "1720184369.123456789");
}

Test(mine_upstream, event_name_is_python_int_of_the_stem)
{
	char b[64];

	cr_expect_str_eq(sx_text_int_name("/x/1724059939.pcap", b, sizeof(b)), "1724059939");
	cr_expect_str_eq(sx_text_int_name("007.pcap.gz", b, sizeof(b)), "7");
	cr_expect_str_eq(sx_text_int_name("-5.pcap", b, sizeof(b)), "-5");
	cr_expect_str_eq(sx_text_int_name("1_000.pcap", b, sizeof(b)), "1000");
	cr_expect_str_eq(sx_text_int_name("dir.d/ 12 .pcap", b, sizeof(b)), "12");
	cr_expect_null(sx_text_int_name("capture-1.pcap", b, sizeof(b)));
	cr_expect_null(sx_text_int_name("0.pcap", b, sizeof(b))); /* int 0: fallback */
	cr_expect_null(sx_text_int_name("1__0.pcap", b, sizeof(b)));
	cr_expect_null(sx_text_int_name(".pcap", b, sizeof(b)));
}

Test(mine_upstream, known_ports_follow_netbase_and_9999_tcp)
{
	cr_expect(sx_upstream_known_port(9999, "TCP"));
	cr_expect_not(sx_upstream_known_port(9999, "UDP"));
	cr_expect(sx_upstream_known_port(443, "TCP"));
	cr_expect(sx_upstream_known_port(53, "UDP"));
	cr_expect(sx_upstream_known_port(5353, "UDP"));
	cr_expect_not(sx_upstream_known_port(5353, "TCP"));
	cr_expect_not(sx_upstream_known_port(1900, "UDP")); /* not in netbase */
	cr_expect_not(sx_upstream_known_port(5683, "UDP"));
	/* the 260bf34 application-port table is not used (faithful to 15015a3) */
	cr_expect_not(sx_upstream_known_port(5000, "TCP"));
}

/* ---- mining on hand-made tables ---- */

static struct sx_up_row row(uint64_t index, const char *dh, uint16_t dp, const char *oh,
			    uint16_t op, const char *tr, uint64_t len, const char *app, uint64_t n)
{
	struct sx_up_row r = {0};

	r.index = index;
	r.dev_host = strdup(dh);
	r.other_host = strdup(oh);
	r.dev_port = dp;
	r.other_port = op;
	r.transport = tr;
	r.protocol = strdup(tr);
	r.app = strdup(app);
	r.length = len;
	r.npackets = n;
	return r;
}

static struct sx_upstream_result *result(size_t ntables)
{
	struct sx_upstream_result *r = calloc(1, sizeof(*r));

	r->tables = calloc(ntables, sizeof(*r->tables));
	r->ntables = ntables;
	r->ipv4 = strdup("10.0.0.2");
	return r;
}

static void add_row(struct sx_up_table *t, struct sx_up_row rw)
{
	t->rows = realloc(t->rows, (t->nrows + 1) * sizeof(*t->rows));
	t->rows[t->nrows++] = rw;
}

Test(mine_upstream, fixed_port_prefers_known_ports_by_count)
{
	struct sx_upstream_result *r = result(2);
	struct sx_buf b;

	/* 40000 is counted 3 times, 9999 once: 9999/tcp is known and wins */
	add_row(&r->tables[0], row(0, "10.0.0.1", 40000, "10.0.0.2", 9999, "TCP", 100, "", 2));
	add_row(&r->tables[1], row(0, "10.0.0.1", 40000, "10.0.0.2", 1234, "TCP", 100, "", 2));
	cr_assert_eq(sx_up_find_patterns(r), 0);
	cr_assert_eq(r->npatterns, 1);
	cr_expect_eq(r->patterns[0].fixed, 9999);
	/* kept rows: only the one with 9999; ports recounted from it */
	cr_expect_eq(r->patterns[0].nrows, 1);
	cr_expect_eq(r->patterns[0].nports, 2);
	sx_buf_init(&b);
	sx_upstream_pattern_str(&r->patterns[0], &b);
	sx_buf_putc(&b, '\0');
	cr_expect_str_eq(b.data,
			 "IP Addresses: ('10.0.0.1', '10.0.0.2')\n"
			 "Protocol: TCP\n"
			 "Ports: [(40000, {'number': 1, 'host': ['10.0.0.1']}), "
			 "(9999, {'number': 1, 'host': ['10.0.0.2']})]\n"
			 "Fixed port: 9999 -> ['10.0.0.2']\n"
			 "Application Data: {'Length': {100: 1}, 'ApplicationSpecific': {}, "
			 "'nbPacket': {2: 1}}");
	sx_buf_fini(&b);
	cr_assert_eq(sx_up_make_policies(r), 0);
	cr_assert_eq(r->npolicies, 1);
	cr_expect_str_eq(r->policies[0].id, "tcp_9999");
	cr_expect_str_eq(r->policies[0].src, "10.0.0.1");
	cr_expect_str_eq(r->policies[0].dst, "self");
	cr_expect_str_eq(r->policies[0].port_key, "dst-port");
	sx_upstream_result_free(r);
}

Test(mine_upstream, fixed_port_falls_back_on_most_counted_and_is_distinct)
{
	struct sx_upstream_result *r = result(2);

	/* UDP 9999 is not known: the most counted port; two reference streams
	 * between the same hosts: the second cannot take the first's port */
	add_row(&r->tables[0], row(0, "10.0.0.2", 9999, "10.0.0.1", 50000, "UDP", 10, "", 1));
	add_row(&r->tables[0], row(1, "10.0.0.2", 9999, "10.0.0.1", 50001, "UDP", 20, "", 1));
	add_row(&r->tables[1], row(0, "10.0.0.2", 9999, "10.0.0.1", 50002, "UDP", 30, "", 1));
	add_row(&r->tables[1], row(1, "10.0.0.2", 9999, "10.0.0.1", 50003, "UDP", 40, "", 1));
	add_row(&r->tables[1], row(2, "10.0.0.9", 53, "10.0.0.1", 50004, "UDP", 40, "", 1));
	cr_assert_eq(sx_up_find_patterns(r), 0);
	cr_assert_eq(r->npatterns, 2);
	cr_expect_eq(r->patterns[0].fixed, 9999);
	cr_expect_eq(r->patterns[0].nrows, 4);
	/* the second pattern's port is 50001, counted twice (the reference row
	 * again): only that row is kept; the printed "Fixed port" is computed
	 * again on its ports {9999: 1, 50001: 1} and is 9999 */
	cr_expect_eq(r->patterns[1].nrows, 1);
	cr_expect_eq(r->patterns[1].rows[0]->other_port, 50001);
	cr_expect_eq(r->patterns[1].fixed, 9999);
	sx_upstream_result_free(r);
}

Test(mine_upstream, reference_is_the_smallest_table_first_on_ties)
{
	struct sx_upstream_result *r = result(3);

	add_row(&r->tables[0], row(0, "a", 1000, "b", 80, "TCP", 1, "", 1));
	add_row(&r->tables[0], row(1, "a", 1001, "c", 443, "TCP", 1, "https", 1));
	add_row(&r->tables[1], row(0, "a", 1002, "c", 443, "TCP", 2, "https", 1));
	add_row(&r->tables[2], row(0, "a", 1003, "b", 80, "TCP", 3, "", 1));
	cr_assert_eq(sx_up_find_patterns(r), 0);
	cr_assert_eq(r->npatterns, 1);
	cr_expect_str_eq(r->patterns[0].hosts[1], "c");
	cr_expect_eq(r->patterns[0].fixed, 443);
	cr_expect_eq(r->patterns[0].nrows, 2);
	sx_upstream_result_free(r);
}

Test(mine_upstream, dns_policy_from_the_first_query)
{
	struct sx_upstream_result *r = result(1);

	add_row(&r->tables[0],
		row(0, "10.0.0.2", 40000, "10.0.0.1", 53, "UDP", 200, "A x.example.", 2));
	cr_assert_eq(sx_up_find_patterns(r), 0);
	cr_assert_eq(sx_up_make_policies(r), 0);
	cr_assert_eq(r->npolicies, 1);
	cr_expect_str_eq(r->policies[0].id, "dns_A_x.example");
	cr_expect_str_eq(r->policies[0].qtype, "A");
	cr_expect_str_eq(r->policies[0].domain, "x.example");
	cr_expect_str_eq(r->policies[0].src, "self");
	sx_upstream_result_free(r);
}

Test(mine_upstream, empty_reference_gives_no_pattern)
{
	struct sx_upstream_result *r = result(2);

	add_row(&r->tables[1], row(0, "a", 1, "b", 2, "TCP", 1, "", 1));
	cr_assert_eq(sx_up_find_patterns(r), 0);
	cr_expect_eq(r->npatterns, 0);
	cr_assert_eq(sx_up_make_policies(r), 0);
	cr_expect_eq(r->npolicies, 0);
	sx_upstream_result_free(r);
}

/* ---- acceptance and fields on hand-built frames ---- */

struct frame {
	uint8_t b[2048];
	size_t n;
	struct sx_pkt pkt;
};

static void decode(struct frame *f)
{
	memset(&f->pkt, 0, sizeof(f->pkt));
	sx_decode(&f->pkt, SX_L2_ETH, f->b, (uint32_t)f->n, (uint32_t)f->n);
}

static void tcp_frame(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags,
		      const char *payload)
{
	f->n = sx_tf_tcp(f->b, sizeof(f->b), "10.0.0.1", sport, "10.0.0.2", dport, flags, payload,
			 payload ? strlen(payload) : 0);
	cr_assert_gt(f->n, 0);
	decode(f);
}

static void udp_frame(struct frame *f, uint16_t sport, uint16_t dport, const void *payload,
		      size_t plen)
{
	f->n = sx_tf_udp(f->b, sizeof(f->b), "10.0.0.1", sport, "10.0.0.2", dport, payload, plen);
	cr_assert_gt(f->n, 0);
	decode(f);
}

static bool skipped(struct frame *f)
{
	return sx_up_skip(&f->pkt, sx_up_padded(&f->pkt, f->b));
}

Test(mine_upstream, signalling_tcp_flags_are_skipped_pure_acks_kept)
{
	struct frame f;

	tcp_frame(&f, 40000, 9999, 0x02, NULL); /* SYN */
	cr_expect(skipped(&f));
	tcp_frame(&f, 40000, 9999, 0x12, NULL); /* SYN+ACK */
	cr_expect(skipped(&f));
	tcp_frame(&f, 40000, 9999, 0x11, NULL); /* FIN+ACK */
	cr_expect(skipped(&f));
	tcp_frame(&f, 40000, 9999, 0x04, NULL); /* RST */
	cr_expect(skipped(&f));
	tcp_frame(&f, 40000, 9999, 0x10, NULL); /* pure ACK: 54 bytes, kept */
	cr_expect_not(skipped(&f));
	tcp_frame(&f, 40000, 9999, 0x18, "data"); /* PSH+ACK with data */
	cr_expect_not(skipped(&f));
}

Test(mine_upstream, padded_frames_are_skipped)
{
	struct frame f;

	/* 2 bytes of data: 56 bytes, padded to the Ethernet minimum of 60 */
	tcp_frame(&f, 40000, 9999, 0x18, "hi");
	cr_assert_eq(f.n, 56);
	memset(f.b + f.n, 0, 4);
	f.n = 60;
	decode(&f);
	cr_expect(sx_up_padded(&f.pkt, f.b));
	cr_expect(skipped(&f));
	/* a UDP datagram shorter than its IP payload also has scapy Padding */
	udp_frame(&f, 40000, 9999, "abcd", 4);
	cr_expect_not(skipped(&f));
	memset(f.b + f.n, 0, 18);
	f.n += 18;
	decode(&f);
	cr_expect(skipped(&f));
}

Test(mine_upstream, arp_and_non_transport_packets_are_skipped)
{
	struct frame f;
	uint8_t ip[256];
	size_t n;
	static const uint8_t echo[8] = {8, 0, 0, 0, 0, 1, 0, 1};

	/* ICMP echo: the reference crashes on it; skipped like a signalling packet */
	n = sx_tf_ip(ip, sizeof(ip), "10.0.0.1", "10.0.0.2", 1, echo, sizeof(echo));
	f.n = sx_tf_eth(f.b, sizeof(f.b), ip, n);
	memset(f.b + f.n, 0, 60 - f.n);
	f.n = 60;
	decode(&f);
	cr_expect(skipped(&f));
	/* ARP */
	memset(f.b, 0, 60);
	f.b[12] = 0x08;
	f.b[13] = 0x06;
	f.n = 60;
	decode(&f);
	cr_expect_eq(f.pkt.proto, SX_P_ARP);
	cr_expect(skipped(&f));
}

Test(mine_upstream, fields_of_tcp_packets)
{
	struct frame f;
	struct sx_up_view v;

	tcp_frame(&f, 40000, 443, 0x18, "\x17\x03\x03\x00\x05hello");
	sx_up_view(&f.pkt, &v);
	cr_expect_str_eq(v.transport, "TCP");
	cr_expect_str_eq(v.protocol, "HTTPS");
	cr_expect_str_eq(v.app, "https");
	cr_expect_eq(v.length, f.n);
	tcp_frame(&f, 40000, 9999, 0x10, NULL);
	sx_up_view(&f.pkt, &v);
	cr_expect_str_eq(v.protocol, "TCP");
	cr_expect_str_eq(v.app, "");
	/* both ports named: concatenated, then no HTTPS override */
	tcp_frame(&f, 22, 443, 0x10, NULL);
	sx_up_view(&f.pkt, &v);
	cr_expect_str_eq(v.app, "sshhttps");
	cr_expect_str_eq(v.protocol, "TCP");
	/* HTTP request: the real method and Host + path */
	tcp_frame(&f, 40000, 80, 0x18,
		  "GET /a/b?c=1 HTTP/1.1\r\nHost: Example.com\r\nAccept: */*\r\n\r\n");
	sx_up_view(&f.pkt, &v);
	cr_expect_str_eq(v.protocol, "HTTP");
	cr_expect_str_eq(v.app, "GET Example.com/a/b?c=1");
	/* HTTP on port 80 that scapy does not take for a request: "" */
	tcp_frame(&f, 40000, 80, 0x18, "NOTIFY * HTTP/1.1\r\n\r\n");
	sx_up_view(&f.pkt, &v);
	cr_expect_str_eq(v.protocol, "HTTP");
	cr_expect_str_eq(v.app, "");
}

Test(mine_upstream, http_response_length_is_the_unchunked_body)
{
	struct frame f;
	struct sx_up_view v;

	tcp_frame(&f, 80, 40000, 0x18,
		  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "5\r\nhello\r\n0\r\n\r\n");
	sx_up_view(&f.pkt, &v);
	cr_expect_str_eq(v.protocol, "HTTP");
	cr_expect_str_eq(v.app, "{pkt.getlayer(HTTPResponse).Status_Code.decode('utf-8')} "
				"{pkt.getlayer(HTTPResponse).Reason_Phrase.decode('utf-8')}");
	/* body "5\r\nhello\r\n0\r\n\r\n" (15 bytes) becomes "hello" (5) */
	cr_expect_eq(v.length, f.n - 10);
}

static size_t dns_query(uint8_t *m, const char *name, uint16_t qtype, bool qr)
{
	size_t n = 12;
	const char *p = name;

	memset(m, 0, 12);
	m[2] = qr ? 0x81 : 0x01;
	m[5] = 1; /* qdcount */
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		m[n++] = (uint8_t)l;
		memcpy(m + n, p, l);
		n += l;
		p += l + (dot ? 1 : 0);
	}
	m[n++] = 0;
	m[n++] = (uint8_t)(qtype >> 8);
	m[n++] = (uint8_t)qtype;
	m[n++] = 0;
	m[n++] = 1;
	return n;
}

Test(mine_upstream, fields_and_names_of_dns)
{
	struct frame f;
	struct sx_up_view v;
	struct sx_up_names t;
	uint8_t m[512];
	size_t n = dns_query(m, "use1-api.tplinkra.com", 1, false);

	udp_frame(&f, 40000, 53, m, n);
	sx_up_view(&f.pkt, &v);
	cr_expect_str_eq(v.transport, "UDP");
	cr_expect_str_eq(v.protocol, "DNS");
	cr_expect_str_eq(v.app, "A use1-api.tplinkra.com.");
	n = dns_query(m, "x.example", 255, false); /* scapy's dnsqtypes: ALL */
	udp_frame(&f, 40000, 53, m, n);
	sx_up_view(&f.pkt, &v);
	cr_expect_str_eq(v.app, "ALL x.example.");
	/* a message that ends in its header: scapy's default question */
	udp_frame(&f, 40000, 53, m, 4);
	sx_up_view(&f.pkt, &v);
	cr_expect_str_eq(v.protocol, "DNS");
	cr_expect_str_eq(v.app, "A www.example.com.");
	/* a query names nothing; UDP elsewhere is plain */
	sx_up_names_init(&t);
	n = dns_query(m, "a.example", 1, false);
	udp_frame(&f, 40000, 53, m, n);
	cr_expect_eq(sx_up_names_learn(&t, &f.pkt), 0);
	cr_expect_str_eq(sx_up_names_subst(&t, "10.0.0.2"), "10.0.0.2");
	cr_expect_eq(t.nnames, 1);
	sx_up_names_fini(&t);
	udp_frame(&f, 40000, 9999, "{}", 2);
	sx_up_view(&f.pkt, &v);
	cr_expect_str_eq(v.protocol, "UDP");
	cr_expect_str_eq(v.app, "");
}
