/*
 * test_flows_frag.c - IP fragments join their datagram's flow (flow_frag.c):
 * hand-built captures of fragmented UDP datagrams, IPv4 and IPv6, in order,
 * out of order, overlapping, duplicated, never completed, and hostile
 * streams of fragments whose table must stay bounded.
 *
 * Runs in-process through sx_flows_write_csv(), as `sigex flows` does.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "flows/flows.h"
#include "support/csv.h"
#include "support/frames.h"
#include "support/tmp.h"

TestSuite(flows_frag, .timeout = 300);

#define DEV  "192.168.1.20"
#define GRP  "239.255.255.250"
#define DEV6 "fe80::20"
#define GRP6 "ff02::c"
#define WSD  3702

/* ---- a capture being built ---- */

struct cap {
	uint8_t **frames;
	struct sx_tf_rec *recs;
	size_t n, cap;
};

static void cap_add(struct cap *c, const uint8_t *frame, size_t len, int64_t sec, uint32_t usec)
{
	cr_assert_gt(len, 0);
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		c->frames = realloc(c->frames, c->cap * sizeof(*c->frames));
		c->recs = realloc(c->recs, c->cap * sizeof(*c->recs));
		cr_assert(c->frames && c->recs);
	}
	c->frames[c->n] = malloc(len);
	cr_assert_not_null(c->frames[c->n]);
	memcpy(c->frames[c->n], frame, len);
	c->recs[c->n] = (struct sx_tf_rec){c->frames[c->n], (uint32_t)len, 0, sec, usec};
	c->n++;
}

/* Fragment [off, off + len) of datagram dg (IP id id) at time sec. */
static void cap_frag(struct cap *c, const char *src, const char *dst, uint32_t id,
		     const uint8_t *dg, size_t dglen, size_t off, size_t len, int64_t sec)
{
	static uint8_t frame[2048];
	size_t n;

	cr_assert_leq(off + len, dglen);
	n = sx_tf_frag(frame, sizeof(frame), src, dst, 17, id, (uint32_t)off, off + len < dglen,
		       dg + off, len);
	cap_add(c, frame, n, sec, 0);
}

static void cap_udp(struct cap *c, const char *src, uint16_t sp, const char *dst, uint16_t dp,
		    size_t plen, int64_t sec)
{
	static uint8_t frame[2048], payload[1500];
	size_t n;

	memset(payload, 'u', sizeof(payload));
	n = sx_tf_udp(frame, sizeof(frame), src, sp, dst, dp, payload, plen);
	cap_add(c, frame, n, sec, 0);
}

static char *cap_write(struct cap *c, const char *dir, const char *name)
{
	char *path = sx_tt_path(dir, name);
	size_t i;

	cr_assert_eq(sx_tf_write_pcap(path, 1, c->recs, c->n), 0);
	for (i = 0; i < c->n; i++)
		free(c->frames[i]);
	free(c->frames);
	free(c->recs);
	memset(c, 0, sizeof(*c));
	return path;
}

/* A WS-Discovery Hello as a camera sends it: 2431 bytes of UDP datagram,
 * in two IPv4 fragments of 1480 and 951 data bytes (1514 + 985 on the wire). */
static size_t hello(uint8_t *dg, size_t cap)
{
	static const char xml[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope "
				  "xmlns:wsd=\"http://schemas.xmlsoap.org/ws/2005/04/discovery\">";
	uint8_t payload[2423];

	memset(payload, ' ', sizeof(payload));
	memcpy(payload, xml, sizeof(xml) - 1);
	return sx_tf_udp_datagram(dg, cap, WSD, WSD, payload, sizeof(payload));
}

/* ---- running `sigex flows` in-process ---- */

struct run {
	char *csv;
	size_t len;
	struct sx_file_status status[1];
	struct sx_flows_stats st;
	struct sx_tcsv c;
};

/* `sigex flows` over paths[0..n), one reader thread (it takes them largest
 * first; the rows are in the order given): status and st per run. */
static void run_flows_many(const char *const *paths, uint32_t n, struct sx_file_status *status,
			   struct sx_flows_stats *st, struct run *r)
{
	struct sx_flows_job job;
	FILE *f;
	int ret;

	memset(r, 0, sizeof(*r));
	memset(&job, 0, sizeof(job));
	job.paths = paths;
	job.npaths = n;
	job.nthreads = 1;
	job.cfg.idle_ns = SX_FLOWS_IDLE_DEFAULT * SX_NS_PER_SEC;
	job.cfg.duration_ns = SX_FLOWS_DURATION_DEFAULT * SX_NS_PER_SEC;
	cr_assert_eq(sx_names_new(&job.names), 0);
	f = open_memstream(&r->csv, &r->len);
	cr_assert_not_null(f);
	ret = sx_flows_write_csv(&job, f, status, st);
	fclose(f);
	sx_names_free(job.names);
	cr_assert_eq(ret, 0, "run failed: %s", sx_strerror(ret));
	cr_assert_eq(sx_tcsv_parse(r->csv, &r->c), 0);
	cr_assert_geq(r->c.nrows, 1);
}

static void run_flows(const char *path, struct run *r)
{
	const char *paths[] = {path};
	struct sx_file_status status[1];
	struct sx_flows_stats st;

	run_flows_many(paths, 1, status, &st, r);
	r->status[0] = status[0];
	r->st = st;
}

static void run_free(struct run *r)
{
	sx_tcsv_free(&r->c);
	free(r->csv);
}

static const char *cell(const struct run *r, size_t row, const char *col)
{
	int i = sx_tcsv_col(&r->c, col);

	cr_assert_geq(i, 0, "no column %s", col);
	cr_assert_lt(row, r->c.nrows);
	cr_assert_lt((size_t)i, r->c.rows[row].n);
	return r->c.rows[row].f[i];
}

/* Every flow row has ports (no portless UDP row). */
static void assert_no_portless(const struct run *r)
{
	size_t i;

	for (i = 1; i < r->c.nrows; i++) {
		cr_assert_str_neq(cell(r, i, "DevicePort"), "", "row %zu portless:\n%s", i, r->csv);
		cr_assert_str_neq(cell(r, i, "DevicePort"), "0", "row %zu port 0:\n%s", i, r->csv);
	}
}

/* ---- tests ---- */

Test(flows_frag, fragmented_udp_is_one_flow_with_its_port)
{
	static uint8_t dg[4096];
	size_t n = hello(dg, sizeof(dg));
	char *dir = sx_tt_tmpdir(), *path;
	struct cap c = {0};
	struct run r;

	cap_frag(&c, DEV, GRP, 0x1234, dg, n, 0, 1480, 100);
	cap_frag(&c, DEV, GRP, 0x1234, dg, n, 1480, n - 1480, 100);
	/* the next Hello, same ports, another id, 10 s later */
	cap_frag(&c, DEV, GRP, 0x1235, dg, n, 0, 1480, 110);
	cap_frag(&c, DEV, GRP, 0x1235, dg, n, 1480, n - 1480, 110);
	path = cap_write(&c, dir, "wsd.pcap");
	run_flows(path, &r);
	cr_assert_eq(r.c.nrows, 2, "one flow:\n%s", r.csv);
	cr_assert_str_eq(cell(&r, 1, "TransportProtocol"), "UDP");
	cr_assert_str_eq(cell(&r, 1, "DeviceHost"), DEV);
	cr_assert_str_eq(cell(&r, 1, "DevicePort"), "3702");
	cr_assert_str_eq(cell(&r, 1, "OtherPort"), "3702");
	cr_assert_str_eq(cell(&r, 1, "ServicePort"), "3702");
	cr_assert_str_eq(cell(&r, 1, "nbPacket"), "4");
	cr_assert_str_eq(cell(&r, 1, "DeviceBytes"), "4998", "1514 + 985, twice");
	cr_assert_str_neq(cell(&r, 1, "Protocol"), "SSDP");
	cr_assert_eq(r.st.frag_joined, 2);
	cr_assert_eq(r.st.frag_unmatched, 0);
	cr_assert_eq(r.st.packets, 4);
	cr_assert_eq(r.status[0].ip_packets, 4);
	run_free(&r);
	free(path);
	sx_tt_rm_tree(dir);
	free(dir);
}

/*
 * One reader over captures with and without fragments, taken largest
 * first: plain.pcap (no fragment), whole.pcap, first.pcap, later.pcap.
 * Its fragment table is made at the first fragment it meets, and a
 * datagram left incomplete at a capture's end is counted there, never
 * joined to the next capture.
 */
Test(flows_frag, fragments_in_some_captures_of_one_reader)
{
	static uint8_t dg[4096];
	size_t n = hello(dg, sizeof(dg));
	char *dir = sx_tt_tmpdir(), *p[4];
	struct sx_file_status status[4];
	struct sx_flows_stats st;
	struct cap c = {0};
	struct run r;
	unsigned i;

	for (i = 0; i < 40; i++) /* the largest: read first */
		cap_udp(&c, DEV, 5000, "192.168.1.1", 53, 40, 99);
	p[0] = cap_write(&c, dir, "plain.pcap");
	/* a first fragment whose later one is in the next capture */
	cap_frag(&c, DEV, GRP, 21, dg, n, 0, 1480, 100);
	p[1] = cap_write(&c, dir, "first.pcap");
	cap_frag(&c, DEV, GRP, 21, dg, n, 1480, n - 1480, 100);
	cap_udp(&c, DEV, 5001, "192.168.1.1", 53, 40, 101);
	p[2] = cap_write(&c, dir, "later.pcap");
	cap_frag(&c, DEV, GRP, 22, dg, n, 0, 1480, 110);
	cap_frag(&c, DEV, GRP, 22, dg, n, 1480, n - 1480, 110);
	p[3] = cap_write(&c, dir, "whole.pcap");
	run_flows_many((const char *const *)p, 4, status, &st, &r);
	/* plain, first (its first fragment alone), later (the orphan is no
	 * flow), whole: one flow each */
	cr_assert_eq(r.c.nrows, 5, "four flows:\n%s", r.csv);
	cr_assert_str_eq(cell(&r, 2, "nbPacket"), "1", "%s", r.csv);
	cr_assert_str_eq(cell(&r, 2, "DevicePort"), "3702");
	cr_assert_str_eq(cell(&r, 3, "DevicePort"), "5001");
	cr_assert_str_eq(cell(&r, 4, "nbPacket"), "2");
	cr_assert_str_eq(cell(&r, 4, "DevicePort"), "3702");
	cr_assert_eq(st.frag_unmatched, 1, "the later fragment of the first capture's datagram");
	cr_assert_eq(st.frag_joined, 1);
	assert_no_portless(&r);
	run_free(&r);
	for (i = 0; i < 4; i++)
		free(p[i]);
	sx_tt_rm_tree(dir);
	free(dir);
}

Test(flows_frag, ipv6_fragment_header)
{
	static uint8_t dg[4096];
	size_t n = hello(dg, sizeof(dg));
	char *dir = sx_tt_tmpdir(), *path;
	struct cap c = {0};
	struct run r;

	/* three fragments, the middle one last (out of order among later ones) */
	cap_frag(&c, DEV6, GRP6, 0xdeadbeef, dg, n, 0, 1232, 100);
	cap_frag(&c, DEV6, GRP6, 0xdeadbeef, dg, n, 2000, n - 2000, 100);
	cap_frag(&c, DEV6, GRP6, 0xdeadbeef, dg, n, 1232, 768, 100);
	/* same addresses, another id whose first fragment never comes */
	cap_frag(&c, DEV6, GRP6, 0xdeadbef0, dg, n, 1232, 768, 101);
	path = cap_write(&c, dir, "wsd6.pcap");
	run_flows(path, &r);
	cr_assert_eq(r.c.nrows, 2, "one flow:\n%s", r.csv);
	cr_assert_str_eq(cell(&r, 1, "DevicePort"), "3702");
	cr_assert_str_eq(cell(&r, 1, "IpProto"), "17");
	cr_assert_str_eq(cell(&r, 1, "nbPacket"), "3");
	cr_assert_eq(r.st.frag_joined, 2);
	cr_assert_eq(r.st.frag_unmatched, 1, "the orphan is counted, not a flow");
	assert_no_portless(&r);
	run_free(&r);
	free(path);
	sx_tt_rm_tree(dir);
	free(dir);
}

Test(flows_frag, later_fragment_before_the_first)
{
	static uint8_t dg[4096];
	size_t n = hello(dg, sizeof(dg));
	char *dir = sx_tt_tmpdir(), *path;
	struct cap c = {0};
	struct run r;

	cap_udp(&c, DEV, 5000, "192.168.1.1", 53, 40, 99); /* an unrelated flow */
	cap_frag(&c, DEV, GRP, 7, dg, n, 1480, n - 1480, 100);
	cap_frag(&c, DEV, GRP, 7, dg, n, 0, 1480, 101);
	path = cap_write(&c, dir, "ooo.pcap");
	run_flows(path, &r);
	cr_assert_eq(r.c.nrows, 3, "two flows:\n%s", r.csv);
	cr_assert_str_eq(cell(&r, 2, "DevicePort"), "3702");
	cr_assert_str_eq(cell(&r, 2, "nbPacket"), "2");
	cr_assert_str_eq(cell(&r, 2, "DeviceBytes"), "2499");
	/* the flow starts with its earliest packet, the held fragment */
	cr_assert_str_eq(cell(&r, 2, "Timestamp"), "100.000000000");
	cr_assert_str_eq(cell(&r, 2, "LastTimestamp"), "101.000000000");
	cr_assert_eq(r.st.frag_held, 1);
	cr_assert_eq(r.st.frag_joined, 1);
	cr_assert_eq(r.st.frag_unmatched, 0);
	assert_no_portless(&r);
	run_free(&r);
	free(path);
	sx_tt_rm_tree(dir);
	free(dir);
}

Test(flows_frag, first_fragment_out_of_the_window)
{
	static uint8_t dg[4096];
	size_t n = hello(dg, sizeof(dg));
	char *dir = sx_tt_tmpdir(), *path;
	struct cap c = {0};
	struct run r;

	/* later fragment, then its first 31 s later: past the 30 s window */
	cap_frag(&c, DEV, GRP, 9, dg, n, 1480, n - 1480, 100);
	cap_frag(&c, DEV, GRP, 9, dg, n, 0, 1480, 131);
	/* first, then a later one 31 s after it */
	cap_frag(&c, DEV, GRP, 10, dg, n, 0, 1480, 140);
	cap_frag(&c, DEV, GRP, 10, dg, n, 1480, n - 1480, 171);
	path = cap_write(&c, dir, "late.pcap");
	run_flows(path, &r);
	cr_assert_eq(r.c.nrows, 2, "one flow of the two first fragments:\n%s", r.csv);
	cr_assert_str_eq(cell(&r, 1, "nbPacket"), "2");
	cr_assert_eq(r.st.frag_unmatched, 2);
	cr_assert_eq(r.st.frag_joined, 0);
	assert_no_portless(&r);
	run_free(&r);
	free(path);
	sx_tt_rm_tree(dir);
	free(dir);
}

Test(flows_frag, overlapping_and_duplicated_fragments)
{
	static uint8_t dg[4096];
	size_t n = hello(dg, sizeof(dg));
	char *dir = sx_tt_tmpdir(), *path;
	struct cap c = {0};
	struct run r;

	cap_frag(&c, DEV, GRP, 11, dg, n, 0, 1480, 100);
	cap_frag(&c, DEV, GRP, 11, dg, n, 1000, 800, 100);	/* overlaps both */
	cap_frag(&c, DEV, GRP, 11, dg, n, 1480, n - 1480, 100); /* the last */
	cap_frag(&c, DEV, GRP, 11, dg, n, 1480, n - 1480, 100); /* again */
	cap_frag(&c, DEV, GRP, 11, dg, n, 0, 1480, 100);	/* the first again */
	path = cap_write(&c, dir, "overlap.pcap");
	run_flows(path, &r);
	cr_assert_eq(r.c.nrows, 2, "one flow:\n%s", r.csv);
	cr_assert_str_eq(cell(&r, 1, "DevicePort"), "3702");
	cr_assert_str_eq(cell(&r, 1, "nbPacket"), "5", "duplicates are packets on the wire");
	cr_assert_eq(r.st.frag_overlap, 1, "one datagram with overlaps");
	cr_assert_eq(r.st.frag_joined, 3);
	assert_no_portless(&r);
	run_free(&r);
	free(path);
	sx_tt_rm_tree(dir);
	free(dir);
}

/* Thousands of datagrams whose first fragment never comes, then one
 * datagram whose fragments never end: the table stays within its fixed
 * bounds, nothing becomes a flow, and a real datagram after the storm is
 * still joined. */
Test(flows_frag, endless_fragments_stay_bounded)
{
	enum { NIDS = 5000, NENDLESS = 1000 };
	static uint8_t dg[4096];
	size_t n = hello(dg, sizeof(dg)), i;
	char *dir = sx_tt_tmpdir(), *path;
	struct cap c = {0};
	struct run r;

	for (i = 0; i < NIDS; i++)
		cap_frag(&c, DEV, GRP, (uint32_t)i, dg, n, 1480, 16, 100 + (int64_t)(i / 1000));
	/* one id: a first fragment, then later fragments without end */
	cap_frag(&c, "10.9.9.9", GRP, 77, dg, n, 0, 1480, 110);
	for (i = 0; i < NENDLESS; i++)
		cap_frag(&c, "10.9.9.9", GRP, 77, dg, n, 1480 + 8 * (i % 100), 8, 110);
	/* a legitimate datagram afterwards */
	cap_frag(&c, DEV, GRP, 60000, dg, n, 0, 1480, 111);
	cap_frag(&c, DEV, GRP, 60000, dg, n, 1480, n - 1480, 111);
	path = cap_write(&c, dir, "storm.pcap");
	run_flows(path, &r);
	cr_assert_eq(r.c.nrows, 3, "two flows:\n%s", r.csv);
	assert_no_portless(&r);
	cr_assert_leq(r.st.frag_peak, SX_FLOWS_FRAG_MAX, "table bounded: %llu",
		      (unsigned long long)r.st.frag_peak);
	cr_assert_eq(r.st.frag_unmatched, NIDS, "every orphan counted once");
	cr_assert_geq(r.st.frag_evicted, NIDS - SX_FLOWS_FRAG_MAX);
	cr_assert_leq(r.st.frag_held, SX_FLOWS_FRAG_HOLD + r.st.frag_evicted);
	cr_assert_eq(r.st.frag_dropped, NENDLESS + 1 - SX_FLOWS_FRAG_PKTS,
		     "past %d fragments per datagram: %llu", SX_FLOWS_FRAG_PKTS,
		     (unsigned long long)r.st.frag_dropped);
	cr_assert_eq(r.st.frag_overlap, 0, "no fragment ended the endless datagram");
	/* rows are in time order: the endless datagram (110 s), then the last */
	cr_assert_str_eq(cell(&r, 1, "DeviceHost"), "10.9.9.9");
	cr_assert_str_eq(cell(&r, 1, "nbPacket"), "128");
	cr_assert_str_eq(cell(&r, 2, "DeviceHost"), DEV);
	cr_assert_str_eq(cell(&r, 2, "DevicePort"), "3702");
	cr_assert_str_eq(cell(&r, 2, "nbPacket"), "2");
	run_free(&r);
	free(path);
	sx_tt_rm_tree(dir);
	free(dir);
}

/* ICMP has no ports: its fragments were always one flow, and stay so. */
Test(flows_frag, portless_protocols_unchanged)
{
	static uint8_t frame[2048], icmp[2000];
	char *dir = sx_tt_tmpdir(), *path;
	struct cap c = {0};
	struct run r;
	size_t n;

	memset(icmp, 0, sizeof(icmp));
	icmp[0] = 8;
	n = sx_tf_frag(frame, sizeof(frame), DEV, "192.168.1.1", 1, 5, 0, 1, icmp, 1480);
	cap_add(&c, frame, n, 100, 0);
	n = sx_tf_frag(frame, sizeof(frame), DEV, "192.168.1.1", 1, 5, 1480, 0, icmp + 1480, 520);
	cap_add(&c, frame, n, 100, 0);
	path = cap_write(&c, dir, "icmp.pcap");
	run_flows(path, &r);
	cr_assert_eq(r.c.nrows, 2, "one flow:\n%s", r.csv);
	cr_assert_str_eq(cell(&r, 1, "nbPacket"), "2");
	cr_assert_eq(r.st.frag_joined + r.st.frag_unmatched, 0);
	run_free(&r);
	free(path);
	sx_tt_rm_tree(dir);
	free(dir);
}
