/*
 * test_emit_report.c - pattern.txt: the reference tool's block format with
 * Python reprs, the three most used ports of each host (or all of them),
 * "Fixed port: None", sigex's extra lines, the periodic section, and the
 * same bytes whatever order the rows came in.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "emit/emit.h"
#include "mine/mine.h"

TestSuite(emit_report, .timeout = 30);

#define S 1000000000LL

struct rowspec {
	unsigned occ;
	int64_t at_ns;
	uint8_t proto;
	const char *ini_ip;
	uint16_t ini_port;
	const char *rsp_ip;
	uint16_t rsp_port;
	const char *rsp_host;
	uint8_t service_side;
	uint64_t pkts[2], bytes[2];
	const char *attrs;
	const char *spec;
	uint8_t top;
};

static void add(struct sx_mine *m, const struct rowspec *s)
{
	static char files[64][32];
	struct sx_flow_row row;
	struct sx_flow_rec *r = &row.rec;
	uint8_t ia[16] = {0}, ra[16] = {0};
	int c;

	memset(&row, 0, sizeof(row));
	cr_assert_eq(inet_pton(AF_INET, s->ini_ip, ia), 1);
	cr_assert_eq(inet_pton(AF_INET, s->rsp_ip, ra), 1);
	c = memcmp(ia, ra, 4);
	r->dev = c > 0 || (c == 0 && s->ini_port > s->rsp_port);
	memcpy(r->key.lo_addr, r->dev ? ra : ia, 16);
	memcpy(r->key.hi_addr, r->dev ? ia : ra, 16);
	r->key.lo_port = r->dev ? s->rsp_port : s->ini_port;
	r->key.hi_port = r->dev ? s->ini_port : s->rsp_port;
	r->key.proto = s->proto;
	r->key.family = 4;
	r->key.event = SX_FLOW_NO_EVENT;
	r->first_ns = (int64_t)s->occ * 1000 * S + s->at_ns;
	r->last_ns = r->first_ns + S / 100;
	r->pkts[0] = s->pkts[0];
	r->pkts[1] = s->pkts[1];
	r->bytes[0] = s->bytes[0];
	r->bytes[1] = s->bytes[1];
	r->top_proto = s->top;
	snprintf(r->attrs, sizeof(r->attrs), "%s", s->attrs);
	snprintf(r->spec, sizeof(r->spec), "%s", s->spec);
	snprintf(files[s->occ], sizeof(files[0]), "%u.pcap", 1700000000 + s->occ);
	row.file = files[s->occ];
	row.event_label = "";
	row.dev_host = s->ini_ip;
	row.other_host = s->rsp_host ? s->rsp_host : s->rsp_ip;
	row.dev_local = row.other_local = "";
	row.service_side = s->service_side;
	row.service_port = s->service_side == SX_SIDE_OTHER ? s->rsp_port : s->ini_port;
	row.ephemeral_port = s->service_side == SX_SIDE_OTHER ? s->ini_port : s->rsp_port;
	if (s->service_side == SX_SIDE_NONE)
		row.service_port = row.ephemeral_port = 0;
	cr_assert_eq(sx_mine_add_row(m, SX_MINE_EVENT, 0, &row), 0);
}

static struct rowspec tls(unsigned i)
{
	struct rowspec r = {i,
			    S / 10,
			    6,
			    "192.168.1.135",
			    (uint16_t)(40000 + i),
			    "52.3.101.168",
			    443,
			    "api.vendor.example",
			    SX_SIDE_OTHER,
			    {16, 12},
			    {2225 + i, 7632 + 30 * (i % 2)},
			    "tls.sni=api.vendor.example",
			    "",
			    SX_P_TLS};

	return r;
}

/* The report for the rows of scenario n, added in the given order. */
static char *report(void (*scenario)(struct sx_mine *, const unsigned *), const unsigned *order,
		    bool all_ports)
{
	struct sx_emit_opts eo = {.all_ports = all_ports};
	struct sx_mine_result *res;
	struct sx_mine *m;
	struct sx_buf b;
	char *text;

	cr_assert_eq(sx_mine_new(NULL, &m), 0);
	scenario(m, order);
	cr_assert_eq(sx_mine_run(m, &res), 0);
	sx_mine_free(m);
	sx_buf_init(&b);
	sx_emit_report(&b, res, &eo);
	sx_buf_putc(&b, '\0');
	cr_assert_eq(b.err, 0);
	text = strdup(b.data);
	sx_buf_fini(&b);
	sx_mine_result_free(res);
	return text;
}

static void three_tls(struct sx_mine *m, const unsigned *order)
{
	unsigned i;

	for (i = 0; i < 3; i++) {
		struct rowspec r = tls(order[i]);

		add(m, &r);
	}
}

static const unsigned fwd[] = {0, 1, 2, 3, 4, 5}, rev[] = {5, 4, 3, 2, 1, 0};

Test(emit_report, reference_block_format)
{
	char *t = report(three_tls, fwd, false);

	cr_assert(strstr(t, "1 pattern(s) found in 3 occurrences (support 90 %: at least 3 of 3); "
			    "0 periodic pattern(s)\n\nPattern 1:\n"
			    "IP Addresses: ('192.168.1.135', 'api.vendor.example')\n"
			    "Protocol: TCP\n"
			    "Ports: [(443, {'number': 3, 'host': ['api.vendor.example']}), "
			    "(40000, {'number': 1, 'host': ['192.168.1.135']}), "
			    "(40001, {'number': 1, 'host': ['192.168.1.135']}), "
			    "(40002, {'number': 1, 'host': ['192.168.1.135']})]\n"
			    "Fixed port: 443 -> ['api.vendor.example']\n"
			    "Application Data: {'Length': {9857: 1, 9888: 1, 9859: 1}, "
			    "'ApplicationSpecific': {'https': 3}, 'nbPacket': {28: 3}}\n"
			    "Id: p-"),
		  "%s", t);
	cr_assert(strstr(t, "\nSupport: 3/3 occurrences, 3 flows\n"
			    "Ends: initiator client; client 192.168.1.135 (addresses), "
			    "server api.vendor.example (name)\n"
			    "Packets: client 16 / 16 / 16, server 12 / 12 / 12 "
			    "(min / median / max)\n"
			    "Bytes: client 2225 / 2226 / 2227, server 7632 / 7632 / 7662 "
			    "(min / median / max)\n"
			    "Duration: 0.010000 / 0.010000 / 0.010000 s (min / median / max)\n"
			    "Start offset: median 0.000000 s, spread 0.000000 s (IQR), "
			    "min 0.000000 s, max 0.000000 s\n"
			    "Application: TLS; tls sni api.vendor.example\n"
			    "Order: 1 of 1\n\n"
			    "Typical order: Pattern 1\n\n"),
		  "%s", t);
	free(t);
}

Test(emit_report, same_text_whatever_the_order_of_the_rows)
{
	char *a = report(three_tls, fwd, false), *b = report(three_tls, rev + 3, false);

	cr_assert_str_eq(a, b);
	free(a);
	free(b);
}

/* Five occurrences where the client uses ports 40000, 40001, 40001, 40002,
 * 40003, 40004... : six client ports with counts 1 or 2. */
static void many_ports(struct sx_mine *m, const unsigned *order)
{
	static const uint16_t ports[] = {40005, 40001, 40001, 40002, 40003, 40004, 40000};
	unsigned i;

	(void)order;
	for (i = 0; i < 7; i++) {
		struct rowspec r = tls(i);

		r.ini_port = ports[i];
		add(m, &r);
	}
}

Test(emit_report, three_ports_per_host_or_all)
{
	char *t = report(many_ports, fwd, false), *all = report(many_ports, fwd, true);

	cr_assert(strstr(t, "Ports: [(443, {'number': 7, 'host': ['api.vendor.example']}), "
			    "(40001, {'number': 2, 'host': ['192.168.1.135']}), "
			    "(40000, {'number': 1, 'host': ['192.168.1.135']}), "
			    "(40002, {'number': 1, 'host': ['192.168.1.135']})]\n"),
		  "%s", t);
	cr_assert(strstr(all, "(40001, {'number': 2, 'host': ['192.168.1.135']}), "
			      "(40000, {'number': 1, 'host': ['192.168.1.135']}), "
			      "(40002, {'number': 1, 'host': ['192.168.1.135']}), "
			      "(40003, {'number': 1, 'host': ['192.168.1.135']}), "
			      "(40004, {'number': 1, 'host': ['192.168.1.135']}), "
			      "(40005, {'number': 1, 'host': ['192.168.1.135']})]\n"),
		  "%s", all);
	free(t);
	free(all);
}

static void odd_texts(struct sx_mine *m, const unsigned *order)
{
	unsigned i;

	(void)order;
	for (i = 0; i < 3; i++) {
		/* both ports vary; texts with a quote and a backslash */
		struct rowspec r = {i,
				    0,
				    17,
				    "10.0.0.2",
				    (uint16_t)(50000 + i),
				    "10.0.0.3",
				    (uint16_t)(51000 + 2 * i),
				    NULL,
				    SX_SIDE_NONE,
				    {2, 2},
				    {200, 200},
				    "",
				    i == 2 ? "a\\b" : "it's",
				    SX_P_UDP};

		add(m, &r);
	}
}

Test(emit_report, python_reprs_and_no_fixed_port)
{
	char *t = report(odd_texts, fwd, false);

	cr_assert(strstr(t, "Fixed port: None\n"), "%s", t);
	cr_assert(strstr(t, "'ApplicationSpecific': {\"it's\": 2, 'a\\\\b': 1}"), "%s", t);
	free(t);
}

static void with_periodic(struct sx_mine *m, const unsigned *order)
{
	static const int64_t phase_ms[] = {7083, 1021, 0, 5400};
	unsigned i, k;

	(void)order;
	for (i = 0; i < 4; i++) {
		struct rowspec r = tls(i);

		r.at_ns = 0;
		add(m, &r);
		for (k = 0; k < 3; k++) {
			struct rowspec u = {i,
					    S / 50 + (phase_ms[i] + 12000 * (int64_t)k) * 1000000,
					    17,
					    "192.168.1.135",
					    9999,
					    "192.168.1.110",
					    (uint16_t)(41000 + 10 * i + k),
					    NULL,
					    SX_SIDE_DEVICE,
					    {3, 0},
					    {3066, 0},
					    "tplink.reply=system.get_sysinfo",
					    "system.get_sysinfo",
					    SX_P_TPLINK};

			add(m, &u);
		}
	}
}

Test(emit_report, periodic_section)
{
	char *t = report(with_periodic, fwd, false);

	cr_assert(strstr(t, "1 pattern(s) found in 4 occurrences"), "%s", t);
	cr_assert(strstr(t, "; 1 periodic pattern(s)\n"), "%s", t);
	cr_assert(strstr(t, "1 periodic pattern(s): repeat at a steady period, not locked to the "
			    "event, not part of the signature\n\nPeriodic 1:\n"
			    "IP Addresses: ('192.168.1.135', '192.168.1.110')\nProtocol: UDP\n"),
		  "%s", t);
	cr_assert(strstr(t, "Fixed port: 9999 -> ['192.168.1.135']\n"), "%s", t);
	cr_assert(strstr(t, "\nPeriod: 12.000000 s\n"), "%s", t);
	cr_assert(strstr(t, "Application: TPLINK-SHP; tplink system.get_sysinfo\n"), "%s", t);
	free(t);
}

static void nothing(struct sx_mine *m, const unsigned *order)
{
	(void)m;
	(void)order;
}

Test(emit_report, empty_result)
{
	char *t = report(nothing, fwd, false);

	cr_assert_str_eq(t, "0 pattern(s) found in 0 occurrences (support 90 %: at least 0 of 0); "
			    "0 periodic pattern(s)\n\n");
	free(t);
}
