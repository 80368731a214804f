/*
 * test_flows_e2e.c - `sigex flows` end to end: the unit rules on hand-made
 * captures, the reference tool's three sample traces, determinism across
 * threads and hash seeds on real captures, conservation of IP packets
 * against tshark, the CSV read back, and the command's exit codes.
 *
 * Runs in-process through sx_flows_write_csv() (what the command calls);
 * the command-line tests run the built binary.  Tests on the shared corpora
 * are skipped with a message when the corpora (or tshark) are absent, and
 * fail instead when built with SX_REQUIRE_CORPORA (CI).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "flows/flows.h"
#include "support/csv.h"
#include "support/frames.h"
#include "support/tmp.h"

TestSuite(flows_e2e, .timeout = 900);

/* ---- helpers ---- */

struct fspec {
	int64_t sec;
	uint32_t usec;
	char kind; /* 'u' UDP, 't' TCP, 'i' ICMP echo */
	const char *src;
	uint16_t sp;
	const char *dst;
	uint16_t dp;
	uint8_t flags;
	size_t plen;
};

static char *write_capture(const char *dir, const char *name, const struct fspec *s, size_t n)
{
	static uint8_t frames[64][2048];
	struct sx_tf_rec recs[64];
	uint8_t payload[1500];
	char *path = sx_tt_path(dir, name);
	size_t i;

	cr_assert_leq(n, 64);
	memset(payload, 'x', sizeof(payload));
	for (i = 0; i < n; i++) {
		size_t len;

		if (s[i].kind == 'u') {
			len = sx_tf_udp(frames[i], sizeof(frames[i]), s[i].src, s[i].sp, s[i].dst,
					s[i].dp, payload, s[i].plen);
		} else if (s[i].kind == 't') {
			len = sx_tf_tcp(frames[i], sizeof(frames[i]), s[i].src, s[i].sp, s[i].dst,
					s[i].dp, s[i].flags, payload, s[i].plen);
		} else {
			uint8_t icmp[8] = {8, 0, 0, 0, 0, 1, 0, 1};
			uint8_t ip[64];
			size_t iplen = sx_tf_ip(ip, sizeof(ip), s[i].src, s[i].dst, 1, icmp, 8);

			len = sx_tf_eth(frames[i], sizeof(frames[i]), ip, iplen);
		}
		cr_assert_gt(len, 0);
		recs[i] = (struct sx_tf_rec){frames[i], (uint32_t)len, 0, s[i].sec, s[i].usec};
	}
	cr_assert_eq(sx_tf_write_pcap(path, 1, recs, n), 0);
	return path;
}

struct run {
	char *csv;
	size_t len;
	struct sx_file_status *status;
	struct sx_flows_stats st;
	int ret;
};

/* the next run_job()'s cfg.outside (reset by it) */
static bool next_outside;

static struct run run_job(const char *const *paths, uint32_t n, unsigned j, uint64_t seed,
			  int64_t window_ns, const struct sx_events *ev, int64_t dur_ns)
{
	struct sx_flows_job job;
	struct run r;
	FILE *f;

	memset(&r, 0, sizeof(r));
	memset(&job, 0, sizeof(job));
	job.cfg.outside = next_outside;
	next_outside = false;
	job.paths = paths;
	job.npaths = n;
	job.nthreads = j;
	job.cfg.seed = seed;
	job.cfg.idle_ns = SX_FLOWS_IDLE_DEFAULT * SX_NS_PER_SEC;
	job.cfg.window_ns = window_ns;
	job.cfg.events = ev;
	job.cfg.duration_ns = dur_ns ? dur_ns : SX_FLOWS_DURATION_DEFAULT * SX_NS_PER_SEC;
	cr_assert_eq(sx_names_new(&job.names), 0);
	r.status = calloc(n, sizeof(*r.status));
	f = open_memstream(&r.csv, &r.len);
	cr_assert_not_null(f);
	r.ret = sx_flows_write_csv(&job, f, r.status, &r.st);
	fclose(f);
	sx_names_free(job.names);
	return r;
}

static void run_free(struct run *r)
{
	free(r->csv);
	free(r->status);
}

static const char *cell(const struct sx_tcsv *c, size_t row, const char *col)
{
	int i = sx_tcsv_col(c, col);

	cr_assert_geq(i, 0, "no column %s", col);
	cr_assert_lt((size_t)i, c->rows[row].n);
	return c->rows[row].f[i];
}

static void parse(const struct run *r, struct sx_tcsv *c)
{
	cr_assert_eq(r->ret, 0, "run failed: %s", sx_strerror(r->ret));
	cr_assert_eq(sx_tcsv_parse(r->csv, c), 0);
	cr_assert_geq(c->nrows, 1);
}

/* ---- ARP: flows of their own ---- */

/* An Ethernet/IPv4 ARP message (RFC 826): sender 02:..:0<s> at 10.0.0.<s>,
 * target 10.0.0.<t> (hardware address 02:..:0<t> in a reply, zero in a
 * request). */
static size_t arp_msg(uint8_t *f, uint16_t op, uint8_t s, uint8_t t)
{
	static const uint8_t hdr[6] = {0x00, 0x01, 0x08, 0x00, 6, 4};
	const uint8_t sha[6] = {0x02, 0, 0, 0, 0, s};

	memset(f, 0xff, 6);
	memcpy(f + 6, sha, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	memcpy(f + 14, hdr, 6);
	f[20] = 0;
	f[21] = (uint8_t)op;
	memcpy(f + 22, sha, 6);
	memcpy(f + 28, (uint8_t[]){10, 0, 0, s}, 4);
	memset(f + 32, 0, 6);
	if (op == 2)
		memcpy(f + 32, (uint8_t[]){0x02, 0, 0, 0, 0, t}, 6);
	memcpy(f + 38, (uint8_t[]){10, 0, 0, t}, 4);
	return 42;
}

Test(flows_e2e, arp_messages_are_flows_of_their_own)
{
	static uint8_t f[8][64];
	struct sx_tf_rec rec[8];
	char *dir = sx_tt_tmpdir(), *path = sx_tt_path(dir, "arp.pcap");
	const char *paths[] = {path};
	struct sx_tcsv c;
	struct run r;
	size_t i;

	memset(rec, 0, sizeof(rec));
	arp_msg(f[0], 1, 1, 2); /* who-has 10.0.0.2 tell 10.0.0.1 */
	arp_msg(f[1], 2, 2, 1); /* 10.0.0.2 is-at 02:..:02 */
	arp_msg(f[2], 1, 1, 2); /* again: the same flow */
	arp_msg(f[3], 1, 3, 3); /* gratuitous */
	arp_msg(f[4], 1, 1, 4); /* cut inside the target address: no flow */
	arp_msg(f[5], 1, 1, 5); /* a hardware length of 8: no flow */
	f[5][18] = 8;
	arp_msg(f[6], 7, 1, 6); /* an operation with no name */
	for (i = 0; i < 7; i++) {
		rec[i].data = f[i];
		rec[i].caplen = i == 4 ? 40 : 42;
		rec[i].wirelen = 42;
		rec[i].sec = 100 + (int64_t)i;
	}
	cr_assert_eq(sx_tf_write_pcap(path, 1, rec, 7), 0);
	r = run_job(paths, 1, 1, 0, 0, NULL, 0);
	parse(&r, &c);
	cr_assert_eq(c.nrows, 5, "%s", r.csv);
	cr_assert_str_eq(cell(&c, 1, "TransportProtocol"), "ARP");
	cr_assert_str_eq(cell(&c, 1, "Protocol"), "ARP");
	cr_assert_str_eq(cell(&c, 1, "ApplicationSpecific"), "request");
	cr_assert_str_eq(cell(&c, 1, "DeviceIP"), "10.0.0.1");
	cr_assert_str_eq(cell(&c, 1, "OtherIP"), "10.0.0.2");
	cr_assert_str_eq(cell(&c, 1, "DeviceMac"), "02:00:00:00:00:01");
	cr_assert_str_eq(cell(&c, 1, "OtherMac"), "");
	cr_assert_str_eq(cell(&c, 1, "nbPacket"), "2");
	cr_assert_str_eq(cell(&c, 1, "DevicePort"), "");
	cr_assert_str_eq(cell(&c, 1, "IpProto"), "0");
	cr_assert_str_eq(cell(&c, 1, "AppAttributes"), "arp=request");
	cr_assert_str_eq(cell(&c, 2, "ApplicationSpecific"), "reply");
	cr_assert_str_eq(cell(&c, 2, "DeviceIP"), "10.0.0.2");
	cr_assert_str_eq(cell(&c, 2, "OtherIP"), "10.0.0.1");
	cr_assert_str_eq(cell(&c, 2, "OtherMac"), "02:00:00:00:00:01");
	cr_assert_str_eq(cell(&c, 2, "OtherPackets"), "0");
	cr_assert_str_eq(cell(&c, 3, "DeviceIP"), "10.0.0.3");
	cr_assert_str_eq(cell(&c, 3, "OtherIP"), "10.0.0.3");
	cr_assert_str_eq(cell(&c, 4, "ApplicationSpecific"), "7");
	cr_assert_eq(r.status[0].arp_packets, 5);
	cr_assert_eq(r.status[0].arp_other, 2);
	cr_assert_eq(r.status[0].ip_packets, 0);
	sx_tcsv_free(&c);

	/* the CSV reads back, and writes back the same bytes */
	{
		FILE *in = fmemopen(r.csv, strlen(r.csv), "r");
		struct sx_flows_csv_reader *rd = NULL;
		struct sx_flow_row row;
		struct sx_buf b;
		char msg[256];
		int ret;

		cr_assert_not_null(in);
		sx_buf_init(&b);
		sx_flows_csv_header(&b);
		cr_assert_eq(sx_flows_csv_reader_new(in, &rd), 0);
		for (;;) {
			ret = sx_flows_csv_next(rd, &row, msg, sizeof(msg));
			if (ret != 1)
				break;
			cr_assert(sx_flow_key_is_arp(&row.rec.key));
			sx_flows_csv_row(&b, &row);
		}
		cr_assert_eq(ret, 0, "%s", msg);
		cr_assert_eq(b.len, strlen(r.csv));
		cr_assert_eq(memcmp(b.data, r.csv, b.len), 0, "%.*s", (int)b.len, b.data);
		sx_flows_csv_reader_free(rd);
		sx_buf_fini(&b);
		fclose(in);
	}
	run_free(&r);
	free(path);
	sx_tt_rm_tree(dir);
	free(dir);
}

/* ---- unit rules on hand-made captures ---- */

static const struct fspec window_caps[] = {
    {100, 0, 'u', "10.0.0.1", 1000, "10.0.0.2", 2000, 0, 10},
    {101, 0, 't', "10.0.0.3", 3000, "10.0.0.4", 80, 0x02, 0}, /* SYN: signalling */
    {103, 0, 'u', "10.0.0.2", 2000, "10.0.0.1", 1000, 0, 20},
    {109, 0, 't', "10.0.0.3", 3000, "10.0.0.4", 80, 0x11, 0},	   /* FIN: skipped, no cut */
    {109, 500000, 'u', "10.0.0.1", 1000, "10.0.0.2", 2000, 0, 10}, /* the cut-off */
    {110, 0, 'u', "10.0.0.1", 1000, "10.0.0.2", 2000, 0, 10},
    {111, 0, 'i', "10.0.0.5", 0, "10.0.0.6", 0, 0, 0},
};

Test(flows_e2e, window_cuts_like_the_reference)
{
	char *dir = sx_tt_tmpdir();
	char *path = write_capture(dir, "w.pcap", window_caps, SX_ARRAY_SIZE(window_caps));
	const char *paths[] = {path};
	struct run r = run_job(paths, 1, 1, 0, 5 * SX_NS_PER_SEC, NULL, 0);
	struct sx_tcsv c;

	parse(&r, &c);
	cr_assert_eq(c.nrows, 3, "two flows: %s", r.csv);
	cr_assert_str_eq(cell(&c, 1, "TransportProtocol"), "UDP");
	cr_assert_str_eq(cell(&c, 1, "nbPacket"), "2");
	cr_assert_str_eq(cell(&c, 1, "DeviceHost"), "10.0.0.1");
	cr_assert_str_eq(cell(&c, 2, "TransportProtocol"), "TCP");
	cr_assert_str_eq(cell(&c, 2, "nbPacket"), "1");
	cr_assert_str_eq(cell(&c, 2, "Initiator"), "syn");
	cr_assert_str_eq(cell(&c, 2, "ServicePort"), "80");
	sx_tcsv_free(&c);
	run_free(&r);

	/* --window 0: the whole capture, every IP packet in some flow */
	r = run_job(paths, 1, 1, 0, 0, NULL, 0);
	parse(&r, &c);
	cr_assert_eq(c.nrows, 4);
	cr_assert_str_eq(cell(&c, 1, "nbPacket"), "4");
	cr_assert_str_eq(cell(&c, 2, "nbPacket"), "2");
	cr_assert_str_eq(cell(&c, 2, "End"), "open", "a FIN from one side only does not end it");
	cr_assert_str_eq(cell(&c, 3, "TransportProtocol"), "ICMP");
	cr_assert_str_eq(cell(&c, 3, "DevicePort"), "");
	cr_assert_str_eq(cell(&c, 3, "ApplicationSpecific"), "type 8 code 0");
	cr_assert_eq(r.status[0].ip_packets, 7);
	sx_tcsv_free(&c);
	run_free(&r);
	free(path);
	sx_tt_rm_tree(dir);
	free(dir);
}

static const struct fspec event_caps[] = {
    {95, 0, 'u', "10.0.0.1", 1000, "10.0.0.2", 53, 0, 30},
    {101, 0, 'u', "10.0.0.1", 1000, "10.0.0.2", 53, 0, 30},
    {112, 0, 'u', "10.0.0.2", 53, "10.0.0.1", 1000, 0, 60},
    {120, 0, 'u', "10.0.0.1", 1000, "10.0.0.2", 53, 0, 30},
    {130, 0, 'u', "10.0.0.1", 1000, "10.0.0.2", 53, 0, 30},
};

Test(flows_e2e, event_windows_are_units)
{
	static const char events_csv[] = "timestamp,label\n"
					 "# the second row is in ISO 8601\n"
					 "100,on\n"
					 "1970-01-01T00:01:50Z,\"off, again\"\n";
	char *dir = sx_tt_tmpdir();
	char *path = write_capture(dir, "e.pcap", event_caps, SX_ARRAY_SIZE(event_caps));
	const char *paths[] = {path};
	struct sx_events *ev;
	struct run r;
	struct sx_tcsv c;
	char msg[256];

	cr_assert_eq(sx_events_parse(events_csv, strlen(events_csv), &ev, msg, sizeof(msg)), 0,
		     "%s", msg);
	cr_assert_eq(ev->n, 2);
	r = run_job(paths, 1, 1, 0, 0, ev, 15 * SX_NS_PER_SEC);
	parse(&r, &c);
	cr_assert_eq(c.nrows, 3, "%s", r.csv);
	cr_assert_str_eq(cell(&c, 1, "Event"), "0");
	cr_assert_str_eq(cell(&c, 1, "EventLabel"), "on");
	cr_assert_str_eq(cell(&c, 1, "EventTime"), "100.000000000");
	cr_assert_str_eq(cell(&c, 1, "nbPacket"), "2");
	cr_assert_str_eq(cell(&c, 1, "Index"), "0");
	cr_assert_str_eq(cell(&c, 2, "Event"), "1");
	cr_assert_str_eq(cell(&c, 2, "EventLabel"), "off, again");
	cr_assert_str_eq(cell(&c, 2, "EventTime"), "110.000000000");
	cr_assert_str_eq(cell(&c, 2, "nbPacket"), "2");
	cr_assert_str_eq(cell(&c, 2, "Index"), "0");
	cr_assert_str_eq(cell(&c, 2, "Timestamp"), "112.000000000");
	/* the window's first packet is the server's reply, but the session
	 * was opened by 10.0.0.1 at 101 s, before the window: it keeps its
	 * initiator and is marked a continuing session */
	cr_assert_str_eq(cell(&c, 2, "DeviceHost"), "10.0.0.1");
	cr_assert_str_eq(cell(&c, 2, "Initiator"), "session-first");
	cr_assert_str_eq(cell(&c, 2, "DevicePackets"), "1");
	cr_assert_str_eq(cell(&c, 2, "OtherPackets"), "1");
	cr_assert_str_eq(cell(&c, 2, "ServicePort"), "53");
	cr_assert_str_eq(cell(&c, 2, "ServiceSide"), "other");
	/* the same conversation began at 95 s, before the first window too */
	cr_assert_str_eq(cell(&c, 1, "Initiator"), "session-first");
	sx_tcsv_free(&c);
	run_free(&r);
	sx_events_free(ev);
	free(path);
	sx_tt_rm_tree(dir);
	free(dir);
}

static const struct fspec between_caps[] = {
    {95, 0, 'u', "10.0.0.1", 1000, "10.0.0.2", 53, 0, 30},     /* before the window */
    {101, 0, 't', "10.0.0.1", 2000, "10.0.0.3", 443, 0x02, 0}, /* SYN in it */
    {102, 0, 't', "10.0.0.3", 443, "10.0.0.1", 2000, 0x12, 0},
    {103, 0, 'u', "10.0.0.1", 1000, "10.0.0.2", 53, 0, 30},
    {120, 0, 't', "10.0.0.3", 443, "10.0.0.1", 2000, 0x18, 100}, /* after it */
    {121, 0, 't', "10.0.0.1", 2000, "10.0.0.3", 443, 0x10, 0},
    {130, 0, 'u', "10.0.0.1", 1000, "10.0.0.2", 53, 0, 30},
};

/* cfg.outside: a capture's packets in no window are one more unit of it,
 * with no event; a connection opened in a window keeps its opener there. */
Test(flows_e2e, packets_between_the_windows_are_a_unit_of_their_own)
{
	static const char events_csv[] = "timestamp,label\n100,on\n";
	char *dir = sx_tt_tmpdir();
	char *path = write_capture(dir, "b.pcap", between_caps, SX_ARRAY_SIZE(between_caps));
	const char *paths[] = {path};
	size_t i, in_window = 0, between = 0;
	struct sx_events *ev;
	struct run r, plain;
	struct sx_tcsv c;
	char msg[256];

	cr_assert_eq(sx_events_parse(events_csv, strlen(events_csv), &ev, msg, sizeof(msg)), 0,
		     "%s", msg);
	plain = run_job(paths, 1, 1, 0, 0, ev, 10 * SX_NS_PER_SEC);
	next_outside = true;
	r = run_job(paths, 1, 1, 0, 0, ev, 10 * SX_NS_PER_SEC);
	parse(&r, &c);
	/* the window [100, 110): the DNS flow (1 packet) and the handshake */
	for (i = 1; i < c.nrows; i++) {
		bool ev_row = cell(&c, i, "Event")[0] != '\0';

		in_window += ev_row;
		between += !ev_row;
		if (ev_row)
			continue;
		cr_assert_str_eq(cell(&c, i, "EventLabel"), "");
		cr_assert_str_eq(cell(&c, i, "EventTime"), "");
		if (!strcmp(cell(&c, i, "TransportProtocol"), "UDP")) {
			/* 95 s and 130 s: one flow, the window's packet not in it */
			cr_assert_str_eq(cell(&c, i, "nbPacket"), "2");
			cr_assert_str_eq(cell(&c, i, "Initiator"), "first");
		} else {
			/* begun by the server's data at 120 s, opened by the device
			 * in the window: the session's opener */
			cr_assert_str_eq(cell(&c, i, "nbPacket"), "2");
			cr_assert_str_eq(cell(&c, i, "DeviceHost"), "10.0.0.1");
			cr_assert_str_eq(cell(&c, i, "Initiator"), "session-syn");
		}
	}
	cr_assert_eq(in_window, 2, "%s", r.csv);
	cr_assert_eq(between, 2, "%s", r.csv);
	/* without it, the same windows' rows and nothing else */
	sx_tcsv_free(&c);
	cr_assert_eq(sx_tcsv_parse(plain.csv, &c), 0);
	cr_assert_eq(c.nrows, 1 + in_window, "%s", plain.csv);
	for (i = 1; i < c.nrows; i++)
		cr_assert_neq(cell(&c, i, "Event")[0], '\0');
	sx_tcsv_free(&c);
	run_free(&plain);
	run_free(&r);
	sx_events_free(ev);
	free(path);
	sx_tt_rm_tree(dir);
	free(dir);
}

/* ---- the reference tool's sample traces ---- */

#define REF_DIR SX_SHARED_CORPORA "/smart-home-network-security+signature-extraction/test/traces"
#define SENTINEL_DIR                                                                               \
	SX_SHARED_CORPORA "/andypitcher+IoT_Sentinel/captures_IoT_Sentinel/captures_IoT-Sentinel"

Test(flows_e2e, reference_traces_give_the_reference_flows)
{
	const char *paths[] = {REF_DIR "/1724059939.pcap", REF_DIR "/1724060053.pcap",
			       REF_DIR "/1724060140.pcap"};
	bool tcp9999[3] = {0}, dns[3] = {0}, tls[3] = {0};
	struct sx_tcsv c;
	struct run r;
	size_t i;

	if (!sx_tt_have_shared())
		sx_tt_skip_missing("shared corpora absent (%s)", SX_SHARED_CORPORA);
	r = run_job(paths, 3, 3, 0, 0, NULL, 0);
	parse(&r, &c);
	for (i = 1; i < c.nrows; i++) {
		const char *file = cell(&c, i, "File");
		int k = strstr(file, "1724059939") ? 0 : strstr(file, "1724060053") ? 1 : 2;

		if (strcmp(cell(&c, i, "OtherPort"), "9999") == 0 &&
		    strcmp(cell(&c, i, "TransportProtocol"), "TCP") == 0) {
			cr_expect_str_eq(cell(&c, i, "DeviceHost"), "192.168.1.110");
			cr_expect_str_eq(cell(&c, i, "OtherHost"), "192.168.1.135");
			cr_expect_str_eq(cell(&c, i, "ApplicationSpecific"),
					 "system.set_relay_state");
			tcp9999[k] = true;
		}
		if (strcmp(cell(&c, i, "Protocol"), "DNS") == 0) {
			cr_expect_str_eq(cell(&c, i, "ApplicationSpecific"),
					 "A use1-api.tplinkra.com.");
			cr_expect_str_eq(cell(&c, i, "OtherHost"), "192.168.1.1");
			cr_expect_str_eq(cell(&c, i, "OtherPort"), "53");
			dns[k] = true;
		}
		if (strcmp(cell(&c, i, "OtherPort"), "443") == 0) {
			cr_expect_str_eq(cell(&c, i, "OtherHost"), "use1-api.tplinkra.com");
			cr_expect_str_eq(cell(&c, i, "DeviceHost"), "192.168.1.135");
			cr_expect_str_eq(cell(&c, i, "Protocol"), "TLS");
			tls[k] = true;
		}
	}
	for (i = 0; i < 3; i++)
		cr_expect(tcp9999[i] && dns[i] && tls[i], "trace %zu misses a reference flow", i);
	sx_tcsv_free(&c);
	run_free(&r);
}

/*
 * A long-lived mDNS flow carries many long names (a camera probing seven
 * names of its own, a hub its IPv6 reverse name): every one reaches the
 * AppAttributes column, the answers after the questions, which the profile
 * writer needs for a complete domain-name list and an answers' policy.
 */
Test(flows_e2e, a_long_mdns_flow_keeps_every_name)
{
	const char *paths[] = {SENTINEL_DIR "/D-LinkCam/Setup-A-1-STA.pcap",
			       SENTINEL_DIR "/D-LinkHomeHub/Setup-A-1-STA.pcap"};
	bool cam = false, hub = false;
	struct sx_tcsv c;
	struct run r;
	size_t i;

	if (!sx_tt_have_shared())
		sx_tt_skip_missing("shared corpora absent (%s)", SX_SHARED_CORPORA);
	r = run_job(paths, 2, 1, 0, 0, NULL, 0);
	parse(&r, &c);
	for (i = 1; i < c.nrows; i++) {
		const char *attrs = cell(&c, i, "AppAttributes");

		if (strcmp(cell(&c, i, "Protocol"), "MDNS") != 0)
			continue;
		if (!strcmp(cell(&c, i, "DeviceHost"), "10.10.10.37")) {
			cr_expect(strstr(attrs, "mdns.q=ANY:iotcam.local"), "%s", attrs);
			cr_expect(strstr(attrs, "mdns.q=ANY:iotcam5b0e.local"), "%s", attrs);
			cam = true;
		}
		if (!strcmp(cell(&c, i, "DeviceHost"), "10.10.10.87")) {
			cr_expect(strstr(attrs, "mdns.q=ANY:dchgFD4E.local"), "%s", attrs);
			cr_expect(strstr(attrs, "mdns.rr=A:dchgFD4E.local"), "%s", attrs);
			cr_expect(strstr(attrs, "mdns.rr=AAAA:dchg.local"), "%s", attrs);
			hub = true;
		}
	}
	cr_assert(cam && hub, "the devices' mDNS flows are missing");
	sx_tcsv_free(&c);
	run_free(&r);
}

/* ---- the shared corpora ---- */

struct corpus {
	char **paths;
	size_t n;
};

/* Every capture of the manifest (all when every_nth is 1). */
static struct corpus corpus_files(size_t every_nth)
{
	char *text = sx_tt_read(SX_SHARED_CORPORA "/manifest.csv", NULL);
	struct corpus cp = {0};
	struct sx_tcsv c;
	size_t i;
	int repo, path;

	cr_assert_not_null(text);
	cr_assert_eq(sx_tcsv_parse(text, &c), 0);
	repo = sx_tcsv_col(&c, "repo");
	path = sx_tcsv_col(&c, "path");
	cr_assert(repo >= 0 && path >= 0);
	cp.paths = calloc(c.nrows, sizeof(*cp.paths));
	for (i = 1; i < c.nrows; i++) {
		const char *fmt = c.rows[i].f[sx_tcsv_col(&c, "fmt")];
		const char *link = c.rows[i].f[sx_tcsv_col(&c, "link")];

		/* a spread sample, plus every unusual format and link type */
		if ((i % every_nth) != 0 && strcmp(fmt, "pcap") == 0 && strcmp(link, "ether") == 0)
			continue;
		if (asprintf(&cp.paths[cp.n++], "%s/%s/%s", SX_SHARED_CORPORA, c.rows[i].f[repo],
			     c.rows[i].f[path]) < 0)
			abort();
	}
	sx_tcsv_free(&c);
	free(text);
	return cp;
}

static void corpus_free(struct corpus *cp)
{
	size_t i;

	for (i = 0; i < cp->n; i++)
		free(cp->paths[i]);
	free(cp->paths);
}

Test(flows_e2e, csv_is_identical_for_any_threads_and_seed)
{
	struct corpus cp;
	struct run base, r;
	static const struct {
		unsigned j;
		uint64_t seed;
	} variants[] = {{2, 0}, {8, 0}, {8, 0x9e3779b97f4a7c15ull}, {1, 12345}, {3, 1}};
	size_t v;

	if (!sx_tt_have_shared())
		sx_tt_skip_missing("shared corpora absent (%s)", SX_SHARED_CORPORA);
	cp = corpus_files(4);
	base = run_job((const char *const *)cp.paths, (uint32_t)cp.n, 1, 0, 0, NULL, 0);
	cr_assert_eq(base.ret, 0);
	cr_assert_gt(sx_tt_lines(base.csv), 1000);
	for (v = 0; v < SX_ARRAY_SIZE(variants); v++) {
		r = run_job((const char *const *)cp.paths, (uint32_t)cp.n, variants[v].j,
			    variants[v].seed, 0, NULL, 0);
		cr_assert_eq(r.ret, 0);
		cr_assert_eq(r.len, base.len, "-j%u --seed %llu: %zu bytes, -j1: %zu",
			     variants[v].j, (unsigned long long)variants[v].seed, r.len, base.len);
		cr_assert_eq(memcmp(r.csv, base.csv, r.len), 0, "-j%u --seed %llu differs",
			     variants[v].j, (unsigned long long)variants[v].seed);
		run_free(&r);
	}
	/* with the reference's window too */
	run_free(&base);
	base = run_job((const char *const *)cp.paths, (uint32_t)cp.n, 1, 0, 5 * SX_NS_PER_SEC, NULL,
		       0);
	r = run_job((const char *const *)cp.paths, (uint32_t)cp.n, 8, 77, 5 * SX_NS_PER_SEC, NULL,
		    0);
	cr_assert_eq(r.len, base.len);
	cr_assert_eq(memcmp(r.csv, base.csv, r.len), 0);
	run_free(&r);
	run_free(&base);
	corpus_free(&cp);
}

/* ---- conservation against tshark ---- */

#define TSHARK_CACHE SX_BUILD_DIR "/tshark-ip-counts.tsv"

/* tshark's count of `ip or ipv6` per capture, cached by path, size, mtime. */
static long long *tshark_counts(const struct corpus *cp)
{
	long long *counts = calloc(cp->n, sizeof(*counts));
	char *cache = sx_tt_read(TSHARK_CACHE, NULL);
	char *todo_path = NULL, *out = NULL, *cmd = NULL, *dir = sx_tt_tmpdir();
	FILE *todo;
	size_t i, missing = 0;
	int rc;

	todo_path = sx_tt_path(dir, "todo");
	todo = fopen(todo_path, "w");
	cr_assert_not_null(todo);
	for (i = 0; i < cp->n; i++) {
		struct stat sb;
		char key[64], *hit;

		counts[i] = -1;
		cr_assert_eq(stat(cp->paths[i], &sb), 0);
		snprintf(key, sizeof(key), "%lld\t%lld\t", (long long)sb.st_size,
			 (long long)sb.st_mtime);
		if (cache) {
			char *line = cache;

			while ((hit = strstr(line, key)) != NULL) {
				char *end = strchr(hit, '\n');
				char *tab = strchr(hit + strlen(key), '\t');

				if (tab && end && (size_t)(end - tab - 1) == strlen(cp->paths[i]) &&
				    strncmp(tab + 1, cp->paths[i], (size_t)(end - tab - 1)) == 0) {
					counts[i] = atoll(hit + strlen(key));
					break;
				}
				line = hit + 1;
			}
		}
		if (counts[i] < 0) {
			fprintf(todo, "%s\n", cp->paths[i]);
			missing++;
		}
	}
	fclose(todo);
	if (missing) {
		/* printf key<TAB>count<TAB>path, two tsharks at a time */
		if (asprintf(
			&cmd,
			"xargs -d '\\n' -P2 -I{} sh -c 'n=$(tshark -n -r \"$1\" -Y \"ip or ipv6\" "
			"-T fields -e frame.number 2>/dev/null | wc -l); "
			"printf \"%%s\\t%%s\\t%%s\\t%%s\\n\" $(stat -c \"%%s %%Y\" \"$1\") \"$n\" "
			"\"$1\"' _ {} < '%s' >> '%s'",
			todo_path, TSHARK_CACHE) < 0)
			abort();
		rc = sx_tt_run(cmd, &out, NULL);
		cr_assert_eq(rc, 0, "tshark batch failed");
		free(out);
		free(cmd);
		free(cache);
		free(counts);
		unlink(todo_path);
		free(todo_path);
		rmdir(dir);
		free(dir);
		return tshark_counts(cp); /* now all cached */
	}
	unlink(todo_path);
	free(todo_path);
	rmdir(dir);
	free(dir);
	free(cache);
	return counts;
}

Test(flows_e2e, ip_packets_are_conserved_as_tshark_counts_them)
{
	struct corpus cp;
	struct run r;
	struct sx_tcsv c;
	long long *ts, *sum;
	size_t i, k, bad = 0;
	char *out = NULL;

	if (!sx_tt_have_shared())
		sx_tt_skip_missing("shared corpora absent (%s)", SX_SHARED_CORPORA);
	if (sx_tt_run("tshark -v >/dev/null 2>&1", &out, NULL) != 0) {
		free(out);
		sx_tt_skip_missing("tshark not installed: conservation not checked");
	}
	free(out);
	cp = corpus_files(1);
	ts = tshark_counts(&cp);
	r = run_job((const char *const *)cp.paths, (uint32_t)cp.n, 2, 0, 0, NULL, 0);
	parse(&r, &c);
	sum = calloc(cp.n, sizeof(*sum));
	/* rows come in file order: walk both lists together */
	for (i = 1, k = 0; i < c.nrows; i++) {
		const char *file = cell(&c, i, "File");

		while (k < cp.n && strcmp(cp.paths[k], file) != 0)
			k++;
		cr_assert_lt(k, cp.n, "row %zu names an unknown or out-of-order file %s", i, file);
		if (!strcmp(cell(&c, i, "TransportProtocol"), "ARP"))
			continue; /* ARP flows: not IP packets */
		sum[k] += atoll(cell(&c, i, "nbPacket"));
	}
	for (k = 0; k < cp.n; k++) {
		if (sum[k] != ts[k]) {
			cr_log_error(
			    "%s: flows hold %lld IP packets, tshark counts %lld (reader %llu)",
			    cp.paths[k], sum[k], ts[k], (unsigned long long)r.status[k].ip_packets);
			bad++;
		}
	}
	cr_assert_eq(bad, 0, "%zu of %zu captures differ from tshark", bad, cp.n);
	free(sum);
	free(ts);
	sx_tcsv_free(&c);
	run_free(&r);
	corpus_free(&cp);
}

/* ---- the CSV reads back ---- */

Test(flows_e2e, csv_reads_back_and_rewrites_identically)
{
	const char *paths[1];
	struct sx_flows_csv_reader *rd;
	struct sx_flow_row row;
	struct sx_buf b;
	struct run r;
	char msg[256];
	char *dir = NULL, *path = NULL;
	FILE *f;
	int ret;
	size_t rows = 0;

	if (sx_tt_have_shared()) {
		paths[0] = REF_DIR "/1724060140.pcap";
	} else {
		dir = sx_tt_tmpdir();
		path = write_capture(dir, "w.pcap", window_caps, SX_ARRAY_SIZE(window_caps));
		paths[0] = path;
	}
	r = run_job(paths, 1, 1, 0, 0, NULL, 0);
	cr_assert_eq(r.ret, 0);
	f = fmemopen(r.csv, r.len, "r");
	cr_assert_not_null(f);
	cr_assert_eq(sx_flows_csv_reader_new(f, &rd), 0);
	sx_buf_init(&b);
	sx_flows_csv_header(&b);
	while ((ret = sx_flows_csv_next(rd, &row, msg, sizeof(msg))) == 1) {
		sx_flows_csv_row(&b, &row);
		rows++;
	}
	cr_assert_eq(ret, 0, "%s", msg);
	cr_assert_gt(rows, 2);
	cr_assert_eq(b.len, r.len);
	cr_assert_eq(memcmp(b.data, r.csv, r.len), 0, "rewritten CSV differs:\n%.*s", (int)b.len,
		     b.data);
	sx_buf_fini(&b);
	sx_flows_csv_reader_free(rd);
	fclose(f);
	run_free(&r);
	free(path);
	if (dir)
		sx_tt_rm_tree(dir);
	free(dir);
}

/* ---- the command ---- */

Test(flows_e2e, command_exit_codes)
{
	char *dir, *good, *csv, *cmd, *out = NULL, *err = NULL, *text;
	int rc;

	dir = sx_tt_tmpdir();
	good = write_capture(dir, "g.pcap", window_caps, SX_ARRAY_SIZE(window_caps));
	csv = sx_tt_path(dir, "out.csv");

	cr_assert_eq(sx_tt_run(SX_BINARY " flows", &out, &err), SX_EXIT_USAGE);
	free(out);
	free(err);
	cr_assert_eq(sx_tt_run(SX_BINARY " flows --no-such-option x.pcap", &out, &err),
		     SX_EXIT_USAGE);
	free(out);
	free(err);
	cr_assert_eq(sx_tt_run(SX_BINARY " flows --idle-timeout 0 x.pcap", &out, &err),
		     SX_EXIT_USAGE);
	free(out);
	free(err);
	cr_assert_eq(sx_tt_run(SX_BINARY " flows --window 5 --events /dev/null x.pcap", &out, &err),
		     SX_EXIT_USAGE);
	free(out);
	free(err);

	/* a missing capture: a usage error, nothing written */
	if (asprintf(&cmd, SX_BINARY " flows -q -j2 -o '%s' '%s' '%s/missing.pcap'", csv, good,
		     dir) < 0)
		abort();
	cr_assert_eq(sx_tt_run(cmd, &out, &err), SX_EXIT_USAGE);
	cr_assert_null(sx_tt_read(csv, NULL));
	free(cmd);
	free(out);
	free(err);

	/* one readable, one not a capture: partial, output written */
	text = sx_tt_path(dir, "text.pcap");
	cr_assert_eq(sx_tt_write(text, "not a capture\n", 14), 0);
	free(text);
	if (asprintf(&cmd, SX_BINARY " flows -q -j2 -o '%s' '%s' '%s/text.pcap'", csv, good, dir) <
	    0)
		abort();
	rc = sx_tt_run(cmd, &out, &err);
	cr_assert_eq(rc, SX_EXIT_PARTIAL, "exit %d: %s", rc, err);
	text = sx_tt_read(csv, NULL);
	cr_assert_not_null(text);
	cr_assert_eq(sx_tt_lines(text), 4, "%s", text);
	free(text);
	free(cmd);
	free(out);
	free(err);

	/* nothing readable: failure */
	if (asprintf(&cmd, SX_BINARY " flows -q -o '%s' '%s/text.pcap'", csv, dir) < 0)
		abort();
	cr_assert_eq(sx_tt_run(cmd, &out, &err), SX_EXIT_FAILURE);
	free(cmd);
	free(out);
	free(err);

	/* all good, to standard output */
	if (asprintf(&cmd, SX_BINARY " flows --seed 5 '%s'", good) < 0)
		abort();
	cr_assert_eq(sx_tt_run(cmd, &out, &err), SX_EXIT_OK);
	cr_assert_eq(sx_tt_lines(out), 4);
	cr_assert_eq(
	    strncmp(out,
		    "Index,Timestamp,DeviceHost,DevicePort,OtherHost,OtherPort,"
		    "TransportProtocol,Protocol,Length,ApplicationSpecific,nbPacket,"
		    "File,Event,",
		    strlen("Index,Timestamp,DeviceHost,DevicePort,OtherHost,OtherPort,"
			   "TransportProtocol,Protocol,Length,ApplicationSpecific,nbPacket,"
			   "File,Event,")),
	    0);
	free(cmd);
	free(out);
	free(err);
	unlink(csv);
	unlink(good);
	rmdir(dir);
	free(csv);
	free(good);
	free(dir);
}
