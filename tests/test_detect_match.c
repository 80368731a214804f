/*
 * test_detect_match.c - the detector on hand-built flow rows and a
 * hand-written signature: a flow of the pattern's identity and shape
 * matches, near misses (a reply length off by two at a fixed position,
 * bytes beyond the slack, another name, another port) do not; a fixed
 * length moved by a few positions in order matches; an event is one
 * detection, a session cut by overlapping windows too, its patterns out of
 * order or too few of them are none; a bulk transfer cut into other
 * segments still matches; an end the key calls the device that
 * also lists other hosts (ARP replies both ways) matches them too;
 * the scoring of detections against labelled times.  Contrast (suite
 * detect_contrast): two events that share a generic reaction and have one
 * pattern of their own each are each detected as themselves, never as the
 * other, the reaction alone is neither, and an event whose only pattern is
 * the reaction is reported as not distinctive; a pattern of the device's
 * traffic between the events is no event's.  What a window's flows tell
 * (suite detect_classify): a flow that only one event's pattern matched,
 * once in the capture, gives that event's label to an ambiguous detection,
 * and none when it recurs in a tenth of the capture; a detection so told
 * that meets that event's own is one detection; a signature covering its
 * window by the margin more than any other's has its label sure, by less
 * it does not.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "detect/detect.h"

TestSuite(detect_match, .timeout = 60);

#define NS SX_NS_PER_SEC

/* The device's TLS session to api.example.com, up to its payload lengths. */
#define TLS_PATTERN                                                                                \
	"- id: p-000000000002\n"                                                                   \
	"  key: "                                                                                  \
	"v1|6|fixed=server:443|client=self|server=n:api.example.com|app=tls.sni=api.example.com;"  \
	"\n"                                                                                       \
	"  ip-proto: 6\n"                                                                          \
	"  transport: tcp\n"                                                                       \
	"  client: {kind: addresses, addresses: ['10.0.0.5'], names: []}\n"                        \
	"  server: {kind: name, name: api.example.com, addresses: ['198.51.100.7'],\n"             \
	"           names: [api.example.com]}\n"                                                   \
	"  fixed-port: {port: 443, end: server}\n"                                                 \
	"  attributes:\n"                                                                          \
	"  - {key: tls.sni, value: api.example.com, flows: 4, generalised: false}\n"               \
	"  statistics:\n"                                                                          \
	"    packets: {client: {min: 10, median: 11, max: 12}, server: {min: 9, median: 10, max: " \
	"10}}\n"                                                                                   \
	"    bytes: {client: {min: 2000, median: 2100, max: 2200}, server: {min: 5000, median: "   \
	"5000, max: 5400}}\n"                                                                      \
	"    start-offset: {median: 0.5, spread: 0.2, min: 0.3, max: 3.0}\n"

/* Two patterns: the device's DNS question for api.example.com to the
 * gateway, then its TLS session to api.example.com; mined from 4
 * occurrences in which the question always came first. */
static const char sig_yaml[] =
    "sigex: signatures\n"
    "version: 1\n"
    "occurrences:\n"
    "- {file: a.pcap, label: Switch On, start: 100.0, flows: 3}\n"
    "patterns:\n"
    "- id: p-000000000001\n"
    "  key: v1|17|fixed=server:53|client=self|server=a:10.0.0.1|app=dns.q=A:api.example.com;\n"
    "  ip-proto: 17\n"
    "  transport: udp\n"
    "  client: {kind: addresses, addresses: ['10.0.0.5'], names: []}\n"
    "  server: {kind: addresses, addresses: ['10.0.0.1'], names: []}\n"
    "  fixed-port: {port: 53, end: server}\n"
    "  attributes:\n"
    "  - {key: dns.q, value: 'A:api.example.com', flows: 4, generalised: false}\n"
    "  statistics:\n"
    "    packets: {client: {min: 1, median: 1, max: 1}, server: {min: 1, median: 1, max: 1}}\n"
    "    bytes: {client: {min: 75, median: 75, max: 75}, server: {min: 91, median: 91, max: 91}}\n"
    "    start-offset: {median: 0.1, spread: 0.1, min: 0.0, max: 0.2}\n"
    "    payload-lengths: {in-all: 2, min: [33, -49], max: [33, -49]}\n"
    "  order: {position: 1, before-next: {agree: 4, of: 4}}\n" TLS_PATTERN
    "    payload-lengths: {in-all: 3, min: [517, -1400, 80, -300], max: [517, -1400, 120, -260]}\n"
    "  order: {position: 2, before-next: {agree: 0, of: 0}}\n";

static struct sx_det_sig *sig(void)
{
	struct sx_det_sig *s;
	char msg[256];
	int ret = sx_det_sig_parse(sig_yaml, strlen(sig_yaml), "fixture/signatures.yaml", &s, msg,
				   sizeof(msg));

	cr_assert_eq(ret, 0, "%s", msg);
	return s;
}

static void ip(uint8_t *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	a[0] = x;
	a[1] = y;
	a[2] = z;
	a[3] = w;
}

/* A flow from the device (10.0.0.5, the initiator) to a server. */
static void row_init(struct sx_flow_row *r, uint8_t proto, const uint8_t *server, uint16_t port,
		     const char *host, double at)
{
	memset(r, 0, sizeof(*r));
	r->rec.key.family = 4;
	r->rec.key.proto = proto;
	ip(r->rec.key.lo_addr, 10, 0, 0, 5);
	memcpy(r->rec.key.hi_addr, server, 4);
	r->rec.key.lo_port = 40000;
	r->rec.key.hi_port = port;
	r->rec.key.event = SX_FLOW_NO_EVENT;
	r->rec.dev = 0;
	r->rec.first_ns = (int64_t)(at * 1e9);
	r->rec.last_ns = r->rec.first_ns + NS / 10;
	r->file = "x.pcap";
	r->dev_host = "10.0.0.5";
	r->other_host = host;
	r->service_port = port;
	r->service_side = SX_SIDE_OTHER;
}

static void dns_row(struct sx_flow_row *r, double at)
{
	uint8_t gw[4];

	ip(gw, 10, 0, 0, 1);
	row_init(r, 17, gw, 53, "10.0.0.1", at);
	r->rec.pkts[0] = r->rec.pkts[1] = 1;
	r->rec.bytes[0] = 75;
	r->rec.bytes[1] = 91;
	r->rec.nseq = 2;
	r->rec.seq_len[0] = 33;
	r->rec.seq_len[1] = -49;
	strcpy(r->rec.attrs, "dns.q=A:api.example.com dns.rcode=0");
}

static void tls_row(struct sx_flow_row *r, double at)
{
	static const int32_t seq[] = {517, -1400, 100, -280, 60};
	uint8_t srv[4];

	ip(srv, 198, 51, 100, 7);
	row_init(r, 6, srv, 443, "api.example.com", at);
	r->rec.pkts[0] = 11;
	r->rec.pkts[1] = 10;
	r->rec.bytes[0] = 2100;
	r->rec.bytes[1] = 5100;
	r->rec.nseq = 5;
	memcpy(r->rec.seq_len, seq, sizeof(seq));
	strcpy(r->rec.attrs, "tls.sni=api.example.com");
}

Test(detect_match, the_signature_is_read_back)
{
	struct sx_det_sig *s = sig();

	cr_assert_str_eq(s->label, "Switch On");
	cr_assert_str_eq(s->device, "10.0.0.5");
	cr_assert_eq(s->n, 2);
	cr_assert_eq(s->p[0].end[0].host, SX_DET_SELF);
	cr_assert_eq(s->p[1].end[1].host, SX_DET_NAME);
	cr_assert(s->p[0].before_next);
	cr_assert_eq(s->p[1].seq_n, 4);
	cr_assert_eq(s->p[1].seq_all, 3);
	/* offsets 0 .. 3 s: a quarter more and two seconds */
	cr_assert_eq(s->span_ns, 3 * NS + 3 * NS / 4 + 2 * NS);
	sx_det_sig_free(s);
}

/* A camera's stream to its app's phone as a pattern of sig_yaml between its
 * two: UDP between dynamic ports (client's first, then the phone's), no port
 * fixed, peer to peer unless the client's port is a known one (5683) when
 * P2P is false, SESSION its session-flows line (or nothing). */
static struct sx_det_sig *sig_stream(bool p2p, const char *session)
{
	struct sx_det_sig *s;
	char text[8192], msg[256];
	int ret;

	const char *tls = strstr(sig_yaml, "- id: p-000000000002\n");

	cr_assert_not_null(tls);
	snprintf(
	    text, sizeof(text),
	    "%.*s- id: p-000000000003\n"
	    "  key: v1|17|fixed=none|client=self|server=a:130.104.212.112|app=\n"
	    "  ip-proto: 17\n"
	    "  transport: udp\n"
	    "%s%s"
	    "  client: {kind: addresses, scope: private, addresses: ['10.0.0.5'], names: [],"
	    " ports: [{port: %s, flows: 1}, {port: 29697, flows: 1}]}\n"
	    "  server: {kind: addresses, scope: public, addresses: ['130.104.212.112'],"
	    " names: [], ports: [{port: 16559, flows: 1}, {port: 21602, flows: 1}]}\n"
	    "  fixed-port: null\n"
	    "  statistics:\n"
	    "    packets: {client: {min: 300, median: 900, max: 4000}, server: {min: 9, median:"
	    " 30, max: 90}}\n"
	    "    bytes: {client: {min: 3e5, median: 9e5, max: 4e6}, server: {min: 900, median:"
	    " 3000, max: 9000}}\n"
	    "    start-offset: {median: 1.0, spread: 0.5, min: 0.5, max: 1.5}\n"
	    "    payload-lengths: {in-all: 1, min: [1000], max: [1100]}\n"
	    "  order: {position: 2, before-next: {agree: 0, of: 0}}\n%s",
	    (int)(tls - sig_yaml), sig_yaml, session, p2p ? "  peer-to-peer: true\n" : "",
	    p2p ? "16604" : "5683", tls);
	ret = sx_det_sig_parse(text, strlen(text), "fixture/signatures.yaml", &s, msg, sizeof(msg));
	cr_assert_eq(ret, 0, "%s", msg);
	return s;
}

/* A peer-to-peer stream that continued a session open before its windows is
 * not read: wherever a window cuts it, it tells no event.  One that began in
 * its window is read, as is a session with a known port at one end. */
Test(detect_match, a_stream_in_progress_is_not_read)
{
	struct sx_det_sig *s = sig_stream(true, "  session-flows: 2\n");

	cr_assert_eq(s->n, 2);
	cr_assert_str_eq(s->p[1].id, "p-000000000002");
	/* the question came before the stream, the stream not always before
	 * the session: the question before the session is not known */
	cr_assert_not(s->p[0].before_next);
	sx_det_sig_free(s);
	s = sig_stream(true, "");
	cr_assert_eq(s->n, 3);
	cr_assert_str_eq(s->p[1].id, "p-000000000003");
	cr_assert(s->p[0].before_next);
	sx_det_sig_free(s);
	s = sig_stream(false, "  session-flows: 2\n");
	cr_assert_eq(s->n, 3);
	sx_det_sig_free(s);
}

Test(detect_match, a_signature_without_payload_lengths_is_refused)
{
	char *old = strdup(sig_yaml), *p, msg[256];
	struct sx_det_sig *s = NULL;

	/* the first payload-lengths line goes: as written before detect */
	p = strstr(old, "    payload-lengths:");
	memset(p, ' ', strcspn(p, "\n"));
	cr_assert_eq(sx_det_sig_parse(old, strlen(old), "old.yaml", &s, msg, sizeof(msg)),
		     SX_E_FORMAT);
	cr_assert_null(s);
	cr_assert(strstr(msg, "payload-lengths"), "%s", msg);
	free(old);
}

Test(detect_match, entries_that_are_not_maps_are_refused_by_list)
{
	static const char *const docs[][2] = {
	    {"sigex: signatures\nversion: 1\npatterns: [1]\n", "a pattern that is not a map"},
	    {"sigex: signatures\nversion: 1\npatterns: []\nbetween-events: [x]\n",
	     "a between-events pattern that is not a map"},
	};
	struct sx_det_sig *s = NULL;
	char msg[256];
	size_t i;

	for (i = 0; i < 2; i++) {
		cr_assert_eq(sx_det_sig_parse(docs[i][0], strlen(docs[i][0]), "bad.yaml", &s, msg,
					      sizeof(msg)),
			     SX_E_FORMAT, "%s", docs[i][0]);
		cr_assert_null(s);
		cr_assert(strstr(msg, docs[i][1]), "%s", msg);
	}
}

Test(detect_match, a_signature_without_patterns_detects_nothing)
{
	static const char empty[] = "sigex: signatures\nversion: 1\npatterns: []\n";
	const struct sx_det_detection *x;
	struct sx_det_cfg cfg = {.slack = -1};
	const struct sx_det_sig *sigs[1];
	struct sx_det_sig *s;
	struct sx_flow_row r;
	struct sx_det *d;
	char msg[256];
	uint32_t n;

	cr_assert_eq(sx_det_sig_parse(empty, strlen(empty), "out/st-on/signatures.yaml", &s, msg,
				      sizeof(msg)),
		     0, "%s", msg);
	cr_assert_eq(s->n, 0);
	cr_assert_str_eq(s->label, "st-on");
	sigs[0] = s;
	cr_assert_eq(sx_det_new(&cfg, sigs, 1, &d), 0);
	dns_row(&r, 1);
	cr_assert_eq(sx_det_row(d, &r), 0);
	cr_assert_eq(sx_det_finish(d, &x, &n), 0);
	cr_assert_eq(n, 0);
	sx_det_free(d);
	sx_det_sig_free(s);
}

Test(detect_match, identity_and_shape)
{
	struct sx_det_sig *s = sig();
	struct sx_flow_row r;

	dns_row(&r, 1);
	cr_assert(sx_det_flow_matches(&s->p[0], s->device, &r, 0.25));
	cr_assert_not(sx_det_flow_matches(&s->p[1], s->device, &r, 0.25));
	/* another device */
	cr_assert_not(sx_det_flow_matches(&s->p[0], "10.0.0.6", &r, 0.25));
	/* another question */
	strcpy(r.rec.attrs, "dns.q=A:www.example.com");
	cr_assert_not(sx_det_flow_matches(&s->p[0], s->device, &r, 0.25));
	/* the answer two bytes longer: a fixed length differs */
	dns_row(&r, 1);
	r.rec.seq_len[1] = -51;
	r.rec.bytes[1] = 93;
	cr_assert_not(sx_det_flow_matches(&s->p[0], s->device, &r, 0.25));

	tls_row(&r, 1);
	cr_assert(sx_det_flow_matches(&s->p[1], s->device, &r, 0.25));
	/* named by its address when no name was learnt */
	r.other_host = "198.51.100.7";
	cr_assert(sx_det_flow_matches(&s->p[1], s->device, &r, 0.25));
	r.other_host = "198.51.100.8";
	r.rec.key.hi_addr[3] = 8;
	cr_assert_not(sx_det_flow_matches(&s->p[1], s->device, &r, 0.25));
	/* a varying position within a quarter of its width beyond the range */
	tls_row(&r, 1);
	r.rec.seq_len[2] = 125;
	cr_assert(sx_det_flow_matches(&s->p[1], s->device, &r, 0.25));
	/* the fixed ClientHello length differs */
	r.rec.seq_len[0] = 519;
	cr_assert_not(sx_det_flow_matches(&s->p[1], s->device, &r, 0.25));
	/* bytes beyond the slack (5400 * 1.25 = 6750), then without slack */
	tls_row(&r, 1);
	r.rec.bytes[1] = 6800;
	cr_assert_not(sx_det_flow_matches(&s->p[1], s->device, &r, 0.25));
	r.rec.bytes[1] = 5500;
	cr_assert(sx_det_flow_matches(&s->p[1], s->device, &r, 0.25));
	cr_assert_not(sx_det_flow_matches(&s->p[1], s->device, &r, 0));
	/* another port */
	tls_row(&r, 1);
	r.rec.key.hi_port = 8443;
	cr_assert_not(sx_det_flow_matches(&s->p[1], s->device, &r, 0.25));
	/* the flow seen from the server's side: the same exchange */
	tls_row(&r, 1);
	r.rec.dev = 1;
	r.service_side = SX_SIDE_DEVICE;
	r.dev_host = "api.example.com";
	r.other_host = "10.0.0.5";
	r.rec.pkts[0] = 10;
	r.rec.pkts[1] = 11;
	r.rec.bytes[0] = 5100;
	r.rec.bytes[1] = 2100;
	for (int k = 0; k < r.rec.nseq; k++)
		r.rec.seq_len[k] = -r.rec.seq_len[k];
	cr_assert(sx_det_flow_matches(&s->p[1], s->device, &r, 0.25));
	sx_det_sig_free(s);
}

/* The firewall's reading of a split request (http.fw, in the signature as
 * the miner saw it) is how the segments fell, not the event: a flow without
 * it matches, and a flow with the pattern's identity still needs that. */
Test(detect_match, the_firewalls_reading_of_a_split_request_is_no_identity)
{
	static const char line[] =
	    "  - {key: dns.q, value: 'A:api.example.com', flows: 4, generalised: false}\n";
	const char *at = strstr(sig_yaml, line);
	char yaml[sizeof(sig_yaml) + 128], msg[256];
	struct sx_det_sig *s;
	struct sx_flow_row r;
	size_t head;

	cr_assert_not_null(at);
	head = (size_t)(at - sig_yaml) + strlen(line);
	snprintf(yaml, sizeof(yaml), "%.*s%s%s", (int)head, sig_yaml,
		 "  - {key: http.fw, value: 'HEAD:', flows: 4, generalised: false}\n",
		 sig_yaml + head);
	cr_assert_eq(
	    sx_det_sig_parse(yaml, strlen(yaml), "fixture/signatures.yaml", &s, msg, sizeof(msg)),
	    0, "%s", msg);
	dns_row(&r, 1);
	cr_assert(sx_det_flow_matches(&s->p[0], s->device, &r, 0.25));
	strcpy(r.rec.attrs, "dns.q=A:www.example.com http.fw=HEAD:");
	cr_assert_not(sx_det_flow_matches(&s->p[0], s->device, &r, 0.25));
	sx_det_sig_free(s);
}

/* A fixed length is there in its order, at its position or up to four
 * positions from it (a reply segmented otherwise in another run), never
 * another length, never out of order, never further. */
Test(detect_match, a_fixed_length_may_move_by_four_positions_in_order)
{
	static const int32_t mined[] = {517, -1400, 120, -589};
	static const int32_t split[] = {517, -1400, 120, -75, -589};
	static const int32_t other[] = {517, -1400, 120, -75, -590};
	static const int32_t swapped[] = {517, -589, 120, -1400};
	static const int32_t far[] = {517, -1400, 120, -75, -75, -75, -75, -75, -589};
	struct sx_det_sig *s = sig();
	struct sx_det_pattern *p = &s->p[1];
	struct sx_flow_row r;

	/* the cloud report's reply (589) fixed at the fourth position */
	p->seq_n = p->seq_all = 4;
	p->seq_min[2] = 100;
	p->seq_max[2] = 140;
	p->seq_min[3] = p->seq_max[3] = -589;
	tls_row(&r, 1);
	r.rec.nseq = 4;
	memcpy(r.rec.seq_len, mined, sizeof(mined));
	cr_assert(sx_det_flow_matches(p, s->device, &r, 0.25));
	/* one more segment before it: the reply at the fifth */
	r.rec.nseq = 5;
	memcpy(r.rec.seq_len, split, sizeof(split));
	cr_assert(sx_det_flow_matches(p, s->device, &r, 0.25));
	/* ... but the other command's length (590) is not it */
	memcpy(r.rec.seq_len, other, sizeof(other));
	cr_assert_not(sx_det_flow_matches(p, s->device, &r, 0.25));
	/* the fixed lengths out of their order */
	r.rec.nseq = 4;
	memcpy(r.rec.seq_len, swapped, sizeof(swapped));
	cr_assert_not(sx_det_flow_matches(p, s->device, &r, 0.25));
	/* five positions away */
	r.rec.nseq = 9;
	memcpy(r.rec.seq_len, far, sizeof(far));
	cr_assert_not(sx_det_flow_matches(p, s->device, &r, 0.25));
	/* the flow ends before it */
	r.rec.nseq = 3;
	cr_assert_not(sx_det_flow_matches(p, s->device, &r, 0.25));
	sx_det_sig_free(s);
}

/* Rows given to a detector (fraction f, 0: default); the detections. */
/* A pattern whose flows all began in their --events windows is not matched
 * by a session that was open before the window (its in-window packets). */
Test(detect_match, a_pattern_that_began_in_its_window_is_no_older_session)
{
	struct sx_det_sig *s = sig();
	struct sx_flow_row r;

	cr_assert_not(s->windowed);
	cr_assert_not(s->p[1].began); /* whole captures: no windows, no rule */
	tls_row(&r, 100);
	r.rec.session = 1;
	cr_assert(sx_det_flow_matches(&s->p[1], "10.0.0.5", &r, 0.25));
	s->p[1].began = true;
	cr_assert_not(sx_det_flow_matches(&s->p[1], "10.0.0.5", &r, 0.25));
	r.rec.session = 0;
	cr_assert(sx_det_flow_matches(&s->p[1], "10.0.0.5", &r, 0.25));
	sx_det_sig_free(s);
}

static uint32_t detect(const struct sx_det_sig *s, double f, const struct sx_flow_row *rows,
		       size_t n, struct sx_det **d, const struct sx_det_detection **out)
{
	struct sx_det_cfg cfg = {.fraction = f, .slack = -1};
	const struct sx_det_sig *sigs[1] = {s};
	uint32_t nd;
	size_t i;

	cr_assert_eq(sx_det_new(&cfg, sigs, 1, d), 0);
	for (i = 0; i < n; i++)
		cr_assert_eq(sx_det_row(*d, &rows[i]), 0);
	cr_assert_eq(sx_det_finish(*d, out, &nd), 0);
	return nd;
}

Test(detect_match, one_event_one_detection)
{
	struct sx_det_sig *s = sig();
	const struct sx_det_detection *x;
	struct sx_flow_row rows[6];
	struct sx_det *d;

	/* two events 60 s apart, and noise between them */
	dns_row(&rows[0], 100);
	tls_row(&rows[1], 100.4);
	dns_row(&rows[2], 130);
	strcpy(rows[2].rec.attrs, "dns.q=A:time.example.com");
	tls_row(&rows[3], 131);
	rows[3].rec.key.hi_port = 8443;
	dns_row(&rows[4], 160);
	tls_row(&rows[5], 161.5);
	cr_assert_eq(detect(s, 0, rows, 6, &d, &x), 2);
	cr_assert_eq(x[0].start_ns, 100 * NS);
	cr_assert_eq(x[0].end_ns, (int64_t)(100.4 * 1e9) + NS / 10);
	cr_assert_eq(x[0].matched, 2);
	cr_assert_eq(x[0].hits[1].pattern, 1);
	cr_assert(
	    strstr(x[0].hits[1].flow, "p-000000000002 tcp 10.0.0.5:40000>api.example.com:443"),
	    "%s", x[0].hits[1].flow);
	cr_assert_eq(x[1].start_ns, 160 * NS);
	cr_assert_str_eq(sx_det_file_name(d, 0), "x.pcap");
	sx_det_free(d);
	sx_det_sig_free(s);
}

/* A session cut by the overlapping windows is one flow: its pieces in the
 * later windows (starting later, meeting the piece taken) open no second
 * detection; the same session later, its time apart, does; another session
 * opens one after the detection's window, not inside it. */
Test(detect_match, one_session_in_overlapping_windows_is_one_detection)
{
	struct sx_det_sig *s = sig();
	const struct sx_det_detection *x;
	struct sx_flow_row rows[4];
	struct sx_det *d;

	/* the TLS session's pieces in three windows, each to 130 s */
	for (int i = 0; i < 3; i++) {
		tls_row(&rows[i], 100 + 5 * i);
		rows[i].rec.session = 1;
		rows[i].rec.last_ns = 130 * NS;
	}
	cr_assert_eq(detect(s, 0.5, rows, 3, &d, &x), 1);
	cr_assert_eq(x[0].start_ns, 100 * NS);
	sx_det_free(d);
	/* a piece that starts after the taken one ended is another event */
	tls_row(&rows[3], 140);
	rows[3].rec.session = 1;
	cr_assert_eq(detect(s, 0.5, rows, 4, &d, &x), 2);
	cr_assert_eq(x[1].start_ns, 140 * NS);
	sx_det_free(d);
	/* another session (another client port) after the detection's window
	 * (100 s + the span, 5.75 s) is another flow, and the first session's
	 * later piece still no detection */
	tls_row(&rows[1], 107);
	rows[1].rec.key.lo_port = 40001;
	rows[1].rec.session = 1;
	rows[1].rec.last_ns = 130 * NS;
	cr_assert_eq(detect(s, 0.5, rows, 3, &d, &x), 2);
	cr_assert_eq(x[1].start_ns, 107 * NS);
	sx_det_free(d);
	/* inside the window it is the same event: one detection */
	rows[1].rec.first_ns = 105 * NS;
	cr_assert_eq(detect(s, 0.5, rows, 3, &d, &x), 1);
	cr_assert_eq(x[0].start_ns, 100 * NS);
	sx_det_free(d);
	sx_det_sig_free(s);
}

Test(detect_match, too_few_patterns_or_out_of_order_is_no_detection)
{
	struct sx_det_sig *s = sig();
	const struct sx_det_detection *x;
	struct sx_flow_row rows[2];
	struct sx_det *d;

	/* the TLS session alone: one of two patterns */
	tls_row(&rows[0], 100);
	cr_assert_eq(detect(s, 0, rows, 1, &d, &x), 0);
	sx_det_free(d);
	/* ... enough at a fraction of one half */
	cr_assert_eq(detect(s, 0.5, rows, 1, &d, &x), 1);
	cr_assert_eq(x[0].matched, 1);
	sx_det_free(d);
	/* the question 3 s after the session it always preceded */
	dns_row(&rows[1], 103);
	cr_assert_eq(detect(s, 0, rows, 2, &d, &x), 0);
	sx_det_free(d);
	/* beyond the span (5.75 s) the two are not one event */
	dns_row(&rows[0], 100);
	tls_row(&rows[1], 106);
	cr_assert_eq(detect(s, 0, rows, 2, &d, &x), 0);
	sx_det_free(d);
	sx_det_sig_free(s);
}

Test(detect_match, scores)
{
	struct sx_det_sig *s = sig();
	const struct sx_det_sig *sigs[1] = {s};
	struct sx_det_detection det[3] = {
	    {.file = 0, .start_ns = 100 * NS, .end_ns = 101 * NS},
	    {.file = 0, .start_ns = 500 * NS, .end_ns = 501 * NS},
	    {.file = 1, .start_ns = 100 * NS, .end_ns = 101 * NS},
	};
	struct sx_det_label lab[3] = {
	    {.file = 0, .time_ns = 95 * NS, .label = "switch on"},
	    {.file = 0, .time_ns = 300 * NS, .label = "Switch-On"},
	    {.file = 1, .time_ns = 99 * NS, .label = ""},
	};
	struct sx_det_score *sc;
	uint32_t n;

	cr_assert(sx_det_label_is("switch on", "Switch On"));
	cr_assert_not(sx_det_label_is("switch off", "Switch On"));
	cr_assert_eq(sx_det_score(det, 3, sigs, lab, 3, 10 * NS, 2.0, &sc, &n), 0);
	/* "" (any event), "switch-on" (both spellings), all */
	cr_assert_eq(n, 3);
	cr_assert_str_eq(sc[1].label, "switch-on");
	cr_assert_eq(sc[1].events, 2);
	cr_assert_eq(sc[1].hits, 1);
	cr_assert_eq(sc[1].false_det, 1);
	cr_assert_str_eq(sc[n - 1].label, "all");
	cr_assert_eq(sc[n - 1].events, 3);
	cr_assert_eq(sc[n - 1].hits, 2);
	cr_assert_eq(sc[n - 1].missed, 1);
	cr_assert_eq(sc[n - 1].false_det, 1);
	cr_assert_float_eq(sc[n - 1].recall, 2.0 / 3, 1e-9);
	cr_assert_float_eq(sc[n - 1].precision, 2.0 / 3, 1e-9);
	cr_assert_float_eq(sc[n - 1].false_per_hour, 0.5, 1e-9);
	cr_assert_float_eq(sc[n - 1].false_per_day, 12, 1e-9);
	cr_assert_eq(sc[n - 1].ambiguous, 0);
	free(sc);
	/* an ambiguous label: no hit, the event found all the same at 95 (its
	 * label's line), a false detection at 500 */
	det[0].ambiguous = det[1].ambiguous = true;
	cr_assert_eq(sx_det_score(det, 3, sigs, lab, 3, 10 * NS, 2.0, &sc, &n), 0);
	cr_assert_eq(sc[1].hits, 0);
	cr_assert_eq(sc[1].ambiguous, 1);
	cr_assert_eq(sc[1].false_det, 1);
	cr_assert_float_eq(sc[1].event_recall, 0.5, 1e-9);
	cr_assert_eq(sc[n - 1].hits, 1);
	cr_assert_eq(sc[n - 1].ambiguous, 1);
	cr_assert_eq(sc[n - 1].missed, 2);
	cr_assert_float_eq(sc[n - 1].recall, 1.0 / 3, 1e-9);
	cr_assert_float_eq(sc[n - 1].event_recall, 2.0 / 3, 1e-9);
	free(sc);
	sx_det_sig_free(s);
}

Test(detect_match, of_overlapping_signatures_the_fuller_wins)
{
	struct sx_det_sig *full = sig(), *tls = sig();
	const struct sx_det_sig *sigs[2] = {full, tls};
	const struct sx_det_detection *x;
	struct sx_det_pattern p0;
	struct sx_flow_row rows[2];
	struct sx_det_cfg cfg = {.slack = -1};
	struct sx_det *d;
	uint32_t n;

	/* tls: the TLS pattern alone, another event */
	p0 = tls->p[0];
	tls->p[0] = tls->p[1];
	tls->p[1] = p0;
	tls->n = 1;
	strcpy(tls->label, "report");
	dns_row(&rows[0], 100);
	tls_row(&rows[1], 100.4);
	/* both fire; with contrast "report" is not distinctive (its one
	 * pattern is the fuller one's too): its label is ambiguous, and the
	 * fuller one, told from it by the question, wins */
	for (int overlap = 0; overlap < 4; overlap++) {
		cfg.overlap = overlap & 1;
		cfg.no_contrast = overlap < 2;
		cr_assert_eq(sx_det_new(&cfg, sigs, 2, &d), 0);
		cr_assert_eq(sx_det_row(d, &rows[0]), 0);
		cr_assert_eq(sx_det_row(d, &rows[1]), 0);
		cr_assert_eq(sx_det_finish(d, &x, &n), 0);
		cr_assert_eq(n, cfg.overlap ? 2 : 1);
		cr_assert_eq(x[0].sig, 0); /* both patterns: the fuller */
		cr_assert_not(x[0].ambiguous);
		cr_assert_eq(sx_det_not_distinctive(d, 1, NULL), !cfg.no_contrast);
		if (cfg.overlap)
			cr_assert_eq(x[1].ambiguous, !cfg.no_contrast);
		sx_det_free(d);
	}
	tls->n = 2;
	sx_det_sig_free(tls);
	sx_det_sig_free(full);
}

/* The fixture's signature with a third pattern: the device's DHCP lease,
 * which names it (host). */
static struct sx_det_sig *sig_named(const char *host)
{
	struct sx_det_sig *s;
	char *yaml, msg[256];
	int ret;

	cr_assert(
	    asprintf(&yaml,
		     "%s"
		     "- id: p-000000000003\n"
		     "  key: v1|17|fixed=server:67|client=self|server=a:10.0.0.1|"
		     "app=dhcp.hostname=%s;\n"
		     "  ip-proto: 17\n"
		     "  transport: udp\n"
		     "  client: {kind: addresses, addresses: ['10.0.0.5'], names: []}\n"
		     "  server: {kind: addresses, addresses: ['10.0.0.1'], names: []}\n"
		     "  fixed-port: {port: 67, end: server}\n"
		     "  attributes:\n"
		     "  - {key: dhcp.hostname, value: '%s', flows: 4, generalised: false}\n"
		     "  statistics:\n"
		     "    packets: {client: {min: 1, median: 1, max: 1}, server: {min: 1, "
		     "median: 1, max: 1}}\n"
		     "    bytes: {client: {min: 300, median: 300, max: 300}, server: {min: 300, "
		     "median: 300, max: 300}}\n"
		     "    start-offset: {median: 1.0, spread: 0.1, min: 0.9, max: 1.1}\n"
		     "    payload-lengths: {in-all: 2, min: [272, -272], max: [272, -272]}\n"
		     "  order: {position: 3, before-next: {agree: 0, of: 0}}\n",
		     sig_yaml, host, host) > 0);
	ret = sx_det_sig_parse(yaml, strlen(yaml), "fixture/named.yaml", &s, msg, sizeof(msg));
	free(yaml);
	cr_assert_eq(ret, 0, "%s", msg);
	return s;
}

/* The device's DHCP exchange at "at", naming it host. */
static void dhcp_row(struct sx_flow_row *r, double at, const char *host)
{
	uint8_t gw[4];

	ip(gw, 10, 0, 0, 1);
	row_init(r, 17, gw, 67, "10.0.0.1", at);
	r->rec.key.lo_port = 68;
	r->rec.pkts[0] = r->rec.pkts[1] = 1;
	r->rec.bytes[0] = r->rec.bytes[1] = 300;
	r->rec.nseq = 2;
	r->rec.seq_len[0] = 272;
	r->rec.seq_len[1] = -272;
	snprintf(r->rec.attrs, sizeof(r->rec.attrs), "dhcp=request dhcp.hostname=%s dhcp=ack",
		 host);
}

/* A device that names itself as another product is not the signature's,
 * however many of its flows match: D-Link's DCH-S160 (water sensor) is no
 * DCH-S150 (motion sensor).  Another unit of the product (another serial in
 * its name) is, and a capture without the name is judged by its flows. */
Test(detect_match, a_device_that_names_itself_otherwise_is_not_detected)
{
	static const struct {
		const char *sig, *dev;
		uint32_t want;
	} cases[] = {
	    {"DCH-S150", "DCH-S150", 1},
	    {"DCH-S150", "DCH-S160", 0},
	    {"ESP_A1B2C3", "ESP_D4E5F6", 1},
	    {"ESP_A1B2C3", "ESP_A1B2C4", 0}, /* one digit: another model */
	    {"Plug*", "Plug-Kitchen", 1},    /* a generalised name */
	};
	struct sx_flow_row rows[3];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sx_det_sig *s = sig_named(cases[i].sig);
		const struct sx_det_detection *x;
		struct sx_det *d;

		dns_row(&rows[0], 100);
		tls_row(&rows[1], 100.4);
		dhcp_row(&rows[2], 101, cases[i].dev);
		/* two of three patterns suffice: the name alone decides */
		cr_assert_eq(detect(s, 0.6, rows, 3, &d, &x), cases[i].want, "%s in %s",
			     cases[i].dev, cases[i].sig);
		sx_det_free(d);
		/* without the DHCP flow the two others detect it */
		cr_assert_eq(detect(s, 0.6, rows, 2, &d, &x), 1);
		sx_det_free(d);
		/* the discover, before the device has an address: its MAC,
		 * which its later flows carry, tells it is the device's */
		memset(rows[2].rec.key.lo_addr, 0, 4);
		rows[2].dev_host = "0.0.0.0";
		memcpy(rows[2].rec.mac[0], "\x02\0\0\0\0\x05", 6);
		memcpy(rows[0].rec.mac[0], "\x02\0\0\0\0\x05", 6);
		cr_assert_eq(detect(s, 0.6, rows, 3, &d, &x), cases[i].want, "%s in %s, by MAC",
			     cases[i].dev, cases[i].sig);
		sx_det_free(d);
		/* another host's discover (another MAC) says nothing */
		rows[2].rec.mac[0][5] = 0x09;
		cr_assert_eq(detect(s, 0.6, rows, 3, &d, &x), 1);
		sx_det_free(d);
		sx_det_sig_free(s);
	}
}

/* The TLS pattern of sig_yaml with other payload lengths. */
static struct sx_det_sig *sig_lengths(const char *lengths)
{
	static const char head[] = "sigex: signatures\n"
				   "version: 1\n"
				   "patterns:\n" TLS_PATTERN "    payload-lengths: ";
	static const char tail[] = "\n  order: {position: 1, before-next: {agree: 0, of: 0}}\n";
	char text[4096];
	struct sx_det_sig *s;
	char msg[256];

	snprintf(text, sizeof(text), "%s%s%s", head, lengths, tail);
	cr_assert_eq(
	    sx_det_sig_parse(text, strlen(text), "bulk/signatures.yaml", &s, msg, sizeof(msg)), 0,
	    "%s", msg);
	return s;
}

/* An upload cut into full segments (1434, the largest the client sent, at
 * several positions) is read as any client lengths up to the segment: the
 * same upload cut otherwise in another run matches, and a short piece of
 * it (92) need not be where it was; the exchange's messages (the
 * ClientHello, the server's -300) must still be there exactly.  Lengths
 * under 536 bytes are messages, never segments, however often repeated. */
Test(detect_match, a_bulk_transfer_cut_otherwise_still_matches)
{
	static const int32_t mined[] = {517, -300, 1434, 1434, 92, 1434, 1434, -120};
	static const int32_t cut[] = {517, -300, 1434, 1298, 1434, 1434, 1242, -120};
	static const int32_t hello[] = {519, -300, 1434, 1298, 1434, 1434, 1242, -120};
	static const int32_t reply[] = {517, -300, 1434, 1298, 1434, 1434, 1242, -122};
	static const int32_t small[] = {517, -300, 400, 400, 92, 400, 400, -120};
	static const int32_t small_cut[] = {517, -300, 400, 380, 400, 400, 92, -120};
	struct sx_det_sig *s;
	struct sx_flow_row r;

	s = sig_lengths("{in-all: 8, min: [517, -300, 1434, 1434, 92, 1434, 1434, -120], "
			"max: [517, -300, 1434, 1434, 92, 1434, 1434, -120]}");
	tls_row(&r, 1);
	r.rec.nseq = 8;
	memcpy(r.rec.seq_len, mined, sizeof(mined));
	cr_assert(sx_det_flow_matches(&s->p[0], s->device, &r, 0.25));
	memcpy(r.rec.seq_len, cut, sizeof(cut));
	cr_assert(sx_det_flow_matches(&s->p[0], s->device, &r, 0.25));
	memcpy(r.rec.seq_len, hello, sizeof(hello));
	cr_assert_not(sx_det_flow_matches(&s->p[0], s->device, &r, 0.25));
	memcpy(r.rec.seq_len, reply, sizeof(reply));
	cr_assert_not(sx_det_flow_matches(&s->p[0], s->device, &r, 0.25));
	/* the mined lengths stay as they were: contrast compares them */
	cr_assert_eq(s->p[0].seq_min[3], 1434);
	cr_assert_eq(s->p[0].seq_max[3], 1434);
	sx_det_sig_free(s);

	s = sig_lengths("{in-all: 8, min: [517, -300, 400, 400, 92, 400, 400, -120], "
			"max: [517, -300, 400, 400, 92, 400, 400, -120]}");
	memcpy(r.rec.seq_len, small, sizeof(small));
	cr_assert(sx_det_flow_matches(&s->p[0], s->device, &r, 0.25));
	memcpy(r.rec.seq_len, small_cut, sizeof(small_cut));
	cr_assert_not(sx_det_flow_matches(&s->p[0], s->device, &r, 0.25));
	sx_det_sig_free(s);
}

/* ARP replies both ways, mined as one pattern: the key calls both ends
 * "self" (the device is each end in half of the flows), the addresses hold
 * the device and the gateway.  A reply either way matches; the device is
 * the address the self ends share, never the gateway listed first. */
static const char arp_yaml[] =
    "sigex: signatures\n"
    "version: 1\n"
    "patterns:\n"
    "- id: p-000000000003\n"
    "  key: v1|0|fixed=none|client=self|server=self|app=\n"
    "  ip-proto: 0\n"
    "  transport: arp\n"
    "  client: {kind: addresses, addresses: ['10.0.0.1', '10.0.0.5'], names: []}\n"
    "  server: {kind: addresses, addresses: ['10.0.0.1', '10.0.0.5'], names: []}\n"
    "  arp: {operation: reply, gratuitous: false, sha: '', tha: ''}\n"
    "  attributes: []\n"
    "  statistics:\n"
    "    packets: {client: {min: 1, median: 1, max: 2}, server: {min: 0, median: 0, max: 0}}\n"
    "    bytes: {client: {min: 42, median: 42, max: 84}, server: {min: 0, median: 0, max: 0}}\n"
    "    start-offset: {median: 1.0, spread: 0.5, min: 0.0, max: 2.0}\n"
    "    payload-lengths: {in-all: 0, min: [], max: []}\n"
    "  order: {position: 1, before-next: {agree: 0, of: 0}}\n"
    "- id: p-000000000004\n"
    "  key: v1|0|fixed=none|client=self|server=a:10.0.0.1|app=\n"
    "  ip-proto: 0\n"
    "  transport: arp\n"
    "  client: {kind: addresses, addresses: ['10.0.0.5'], names: []}\n"
    "  server: {kind: addresses, addresses: ['10.0.0.1'], names: []}\n"
    "  arp: {operation: request, gratuitous: false, sha: '', tha: ''}\n"
    "  attributes: []\n"
    "  statistics:\n"
    "    packets: {client: {min: 1, median: 1, max: 1}, server: {min: 0, median: 0, max: 0}}\n"
    "    bytes: {client: {min: 42, median: 42, max: 42}, server: {min: 0, median: 0, max: 0}}\n"
    "    start-offset: {median: 0.0, spread: 0.0, min: 0.0, max: 0.0}\n"
    "    payload-lengths: {in-all: 0, min: [], max: []}\n"
    "  order: {position: 2, before-next: {agree: 0, of: 0}}\n";

/* An ARP message from sender spa to target tpa, the device's side first. */
static void arp_row(struct sx_flow_row *r, unsigned op, uint8_t spa, uint8_t tpa, double at)
{
	memset(r, 0, sizeof(*r));
	r->rec.key.family = SX_FLOW_FAMILY_ARP;
	r->rec.key.lo_port = (uint16_t)op;
	ip(r->rec.key.lo_addr, 10, 0, 0, spa);
	ip(r->rec.key.hi_addr, 10, 0, 0, tpa);
	r->rec.key.event = SX_FLOW_NO_EVENT;
	r->rec.first_ns = r->rec.last_ns = (int64_t)(at * 1e9);
	r->rec.pkts[0] = 1;
	r->rec.bytes[0] = 42;
	r->file = "x.pcap";
	r->dev_host = spa == 5 ? "10.0.0.5" : "10.0.0.1";
	r->other_host = tpa == 5 ? "10.0.0.5" : "10.0.0.1";
}

Test(detect_match, a_self_end_that_lists_other_hosts_matches_them_too)
{
	struct sx_det_sig *s;
	struct sx_flow_row r;
	char msg[256];

	cr_assert_eq(sx_det_sig_parse(arp_yaml, strlen(arp_yaml), "arp/signatures.yaml", &s, msg,
				      sizeof(msg)),
		     0, "%s", msg);
	cr_assert_str_eq(s->device, "10.0.0.5");
	arp_row(&r, 2, 5, 1, 1); /* the device's reply to the gateway */
	cr_assert(sx_det_flow_matches(&s->p[0], s->device, &r, 0.25));
	arp_row(&r, 2, 1, 5, 1); /* the gateway's reply to the device */
	cr_assert(sx_det_flow_matches(&s->p[0], s->device, &r, 0.25));
	arp_row(&r, 2, 1, 7, 1); /* between two other hosts: not the device's */
	cr_assert_not(sx_det_flow_matches(&s->p[0], s->device, &r, 0.25));
	/* as another device (--device 10.0.0.9): the mined device's address
	 * is no other host of the end */
	arp_row(&r, 2, 5, 1, 1);
	cr_assert_not(sx_det_flow_matches(&s->p[0], "10.0.0.9", &r, 0.25));
	/* a self end of one address stays the device alone */
	arp_row(&r, 1, 5, 1, 1);
	cr_assert(sx_det_flow_matches(&s->p[1], s->device, &r, 0.25));
	arp_row(&r, 1, 1, 5, 1);
	cr_assert_not(sx_det_flow_matches(&s->p[1], s->device, &r, 0.25));
	sx_det_sig_free(s);
}

/* ---- contrast between events ---- */

TestSuite(detect_contrast, .timeout = 60);

/* A value of pattern attribute k replaced. */
static void set_attr(struct sx_det_pattern *p, uint32_t k, const char *value)
{
	free(p->attrs[k].value);
	p->attrs[k].value = strdup(value);
	cr_assert_not_null(p->attrs[k].value);
}

Test(detect_contrast, patterns_meet_by_identity_and_shape)
{
	struct sx_det_sig *a = sig(), *b = sig();
	const struct sx_det_pattern *dns = &a->p[0], *tls = &a->p[1];

	cr_assert(sx_det_patterns_meet(dns, &b->p[0], 0.25));
	cr_assert(sx_det_patterns_meet(tls, &b->p[1], 0.25));
	cr_assert_not(sx_det_patterns_meet(dns, tls, 0.25)); /* another transport */
	/* another question */
	set_attr(&b->p[0], 0, "A:other.example.com");
	cr_assert_not(sx_det_patterns_meet(dns, &b->p[0], 0.25));
	/* a generalised value that takes it */
	set_attr(&b->p[0], 0, "A:*.example.com");
	cr_assert(sx_det_patterns_meet(dns, &b->p[0], 0.25));
	cr_assert(sx_det_patterns_meet(&b->p[0], dns, 0.25));
	/* one fixed reply length apart (PingPong's 1093 against 1095) */
	b->p[0].seq_min[1] = b->p[0].seq_max[1] = -51;
	cr_assert_not(sx_det_patterns_meet(dns, &b->p[0], 0.25));
	cr_assert_not(sx_det_patterns_meet(&b->p[0], dns, 0.25));
	/* a varying position of the other's that holds the fixed length */
	b->p[0].seq_min[1] = -60;
	b->p[0].seq_max[1] = -40;
	cr_assert(sx_det_patterns_meet(dns, &b->p[0], 0.25));
	/* bytes that cannot meet even with the slack */
	b->p[1].bytes[1].min = b->p[1].bytes[1].max = 20000;
	cr_assert_not(sx_det_patterns_meet(tls, &b->p[1], 0.25));
	/* another server port */
	b->p[1].bytes[1] = a->p[1].bytes[1];
	cr_assert(sx_det_patterns_meet(tls, &b->p[1], 0.25));
	b->p[1].fixed_port = 8443;
	cr_assert_not(sx_det_patterns_meet(tls, &b->p[1], 0.25));
	sx_det_sig_free(b);
	sx_det_sig_free(a);
}

/*
 * Three events of one device: "on" asks api.example.com (DNS) then reports
 * to it (TLS), "off" asks off.example.com then reports the same way, and
 * "report" is the report alone: the reaction every event sends.
 */
struct three {
	struct sx_det_sig *on, *off, *report;
	const struct sx_det_sig *sigs[3];
};

static void three_init(struct three *t)
{
	struct sx_det_pattern p;

	t->on = sig();
	t->off = sig();
	t->report = sig();
	set_attr(&t->off->p[0], 0, "A:off.example.com");
	strcpy(t->off->label, "Switch Off");
	p = t->report->p[0];
	t->report->p[0] = t->report->p[1];
	t->report->p[1] = p;
	t->report->n = 1;
	strcpy(t->report->label, "report");
	t->sigs[0] = t->on;
	t->sigs[1] = t->off;
	t->sigs[2] = t->report;
}

static void three_free(struct three *t)
{
	t->report->n = 2;
	sx_det_sig_free(t->report);
	sx_det_sig_free(t->off);
	sx_det_sig_free(t->on);
}

Test(detect_contrast, the_shared_reaction_is_no_pattern_of_its_own)
{
	struct sx_det_cfg cfg = {.slack = -1};
	struct sx_det_contrast c;
	struct three t;
	struct sx_det *d;
	uint32_t other;

	three_init(&t);
	cr_assert_eq(sx_det_contrast(t.sigs, 3, NULL, 0.25, &c), 0);
	cr_assert_eq(c.rivals[0], 2);
	cr_assert_eq(c.ndistinct[0], 1);		 /* on: its question */
	cr_assert_eq(c.shared_with[c.first[0] + 0], 0);	 /* distinctive */
	cr_assert_neq(c.shared_with[c.first[0] + 1], 0); /* the report: shared */
	cr_assert_eq(c.ndistinct[1], 1);		 /* off: its question */
	cr_assert_eq(c.ndistinct[2], 0);		 /* report: nothing of its own */
	sx_det_contrast_free(&c);
	/* a signature alone has no rival: every pattern counts */
	cr_assert_eq(sx_det_contrast(t.sigs + 2, 1, NULL, 0.25, &c), 0);
	cr_assert_eq(c.rivals[0], 0);
	cr_assert_eq(c.ndistinct[0], 1);
	sx_det_contrast_free(&c);
	/* the detector reports the generic-only signature */
	cr_assert_eq(sx_det_new(&cfg, t.sigs, 3, &d), 0);
	cr_assert(sx_det_not_distinctive(d, 2, &other));
	cr_assert_lt(other, 2);
	cr_assert_not(sx_det_not_distinctive(d, 0, NULL));
	cr_assert_not(sx_det_distinctive(d, 0, 1));
	cr_assert(sx_det_distinctive(d, 0, 0));
	sx_det_free(d);
	three_free(&t);
}

Test(detect_contrast, each_event_detected_as_itself_never_as_the_other)
{
	/* the patterns' contrast alone: no label told by coverage (margin
	 * above 1), below */
	struct sx_det_cfg cfg = {.slack = -1, .fraction = 0.5, .margin = 2};
	const struct sx_det_detection *x;
	struct sx_flow_row rows[5];
	struct three t;
	struct sx_det *d;
	uint32_t n, i;

	three_init(&t);
	dns_row(&rows[0], 100); /* on */
	tls_row(&rows[1], 100.4);
	dns_row(&rows[2], 160); /* off */
	strcpy(rows[2].rec.attrs, "dns.q=A:off.example.com dns.rcode=0");
	tls_row(&rows[3], 160.4);
	tls_row(&rows[4], 220); /* the report alone */
	for (int contrast = 0; contrast < 2; contrast++) {
		cfg.no_contrast = !contrast;
		cr_assert_eq(sx_det_new(&cfg, t.sigs, 3, &d), 0);
		for (i = 0; i < 5; i++)
			cr_assert_eq(sx_det_row(d, &rows[i]), 0);
		cr_assert_eq(sx_det_finish(d, &x, &n), 0);
		/* half the patterns: the report alone fires too */
		cr_assert_eq(n, 3);
		cr_assert_eq(x[2].start_ns, 220 * NS);
		if (!contrast) {
			cr_assert_not(x[2].ambiguous);
			sx_det_free(d);
			continue;
		}
		cr_assert_eq(x[0].sig, 0);
		cr_assert_eq(x[0].start_ns, 100 * NS);
		cr_assert_eq(x[0].matched, 2);
		cr_assert_eq(x[0].distinct, 1);
		cr_assert_not(x[0].ambiguous);
		cr_assert_eq(x[1].sig, 1);
		cr_assert_eq(x[1].start_ns, 160 * NS);
		cr_assert_eq(x[1].distinct, 1);
		cr_assert_not(x[1].ambiguous);
		/* the report alone: an event of the device, but which one? */
		cr_assert(x[2].ambiguous);
		cr_assert_lt(x[2].rival, 2);
		sx_det_free(d);
	}
	/* by coverage (the default margin): the window of the report alone
	 * holds all of "report" and half of "on" and of "off" (no question):
	 * "report", sure; at 100 and 160 "on" and "off" cover it as well */
	cfg.margin = 0;
	cr_assert_eq(sx_det_new(&cfg, t.sigs, 3, &d), 0);
	for (i = 0; i < 5; i++)
		cr_assert_eq(sx_det_row(d, &rows[i]), 0);
	cr_assert_eq(sx_det_finish(d, &x, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(x[2].sig, 2);
	cr_assert_not(x[2].ambiguous);
	cr_assert_eq(x[0].sig, 0);
	cr_assert_eq(x[1].sig, 1);
	sx_det_free(d);
	cfg.margin = 0.6; /* more than the half "on" lacks */
	cr_assert_eq(sx_det_new(&cfg, t.sigs, 3, &d), 0);
	for (i = 0; i < 5; i++)
		cr_assert_eq(sx_det_row(d, &rows[i]), 0);
	cr_assert_eq(sx_det_finish(d, &x, &n), 0);
	cr_assert(x[2].ambiguous);
	sx_det_free(d);
	cfg.margin = 2;
	/* --overlap: every detection kept, and only on at 100 and off at 160
	 * with a sure label; --sure keeps those */
	cfg.overlap = true;
	for (int sure = 0; sure < 2; sure++) {
		uint32_t nsure = 0;

		cfg.sure = sure;
		cr_assert_eq(sx_det_new(&cfg, t.sigs, 3, &d), 0);
		for (i = 0; i < 5; i++)
			cr_assert_eq(sx_det_row(d, &rows[i]), 0);
		cr_assert_eq(sx_det_finish(d, &x, &n), 0);
		cr_assert_gt(n, sure ? 1 : 3);
		for (i = 0; i < n; i++) {
			if (x[i].ambiguous)
				continue;
			cr_assert(x[i].sig == 0 ? x[i].start_ns == 100 * NS
						: x[i].sig == 1 && x[i].start_ns == 160 * NS);
			nsure++;
		}
		cr_assert_eq(nsure, 2);
		cr_assert_eq(n, sure ? 2 : n);
		sx_det_free(d);
	}
	three_free(&t);
}

/*
 * No pattern of its own, yet told apart: "lan on" is the local command
 * (here the question for api.example.com) with the report of the on
 * length; "lan off" has the same command and a report two bytes longer at
 * a fixed position; "cloud on" has another command and on's report.  Each
 * pattern of "lan on" is another event's, but a window that holds both
 * tells it from each of them (the TP-Link plug's kasa-lan-on).
 */
Test(detect_contrast, a_conjunction_tells_what_no_pattern_does)
{
	struct sx_det_sig *on = sig(), *off = sig(), *cloud = sig();
	const struct sx_det_sig *sigs[3] = {on, off, cloud};
	struct sx_det_cfg cfg = {.slack = -1, .fraction = 0.5};
	const struct sx_det_detection *x;
	struct sx_flow_row rows[6];
	struct sx_det *d;
	uint32_t n, i, other;

	strcpy(on->label, "lan on");
	strcpy(off->label, "lan off");
	off->p[1].seq_min[1] = off->p[1].seq_max[1] = -1402;
	strcpy(cloud->label, "cloud on");
	set_attr(&cloud->p[0], 0, "A:cloud.example.com");
	cr_assert_eq(sx_det_new(&cfg, sigs, 3, &d), 0);
	/* no single distinctive pattern, and still distinctive */
	cr_assert_not(sx_det_distinctive(d, 0, 0));
	cr_assert_not(sx_det_distinctive(d, 0, 1));
	cr_assert_not(sx_det_not_distinctive(d, 0, &other));
	dns_row(&rows[0], 100); /* lan on */
	tls_row(&rows[1], 100.4);
	dns_row(&rows[2], 160); /* lan off */
	tls_row(&rows[3], 160.4);
	rows[3].rec.seq_len[1] = -1402;
	dns_row(&rows[4], 220); /* cloud on */
	strcpy(rows[4].rec.attrs, "dns.q=A:cloud.example.com dns.rcode=0");
	tls_row(&rows[5], 220.4);
	for (i = 0; i < 6; i++)
		cr_assert_eq(sx_det_row(d, &rows[i]), 0);
	cr_assert_eq(sx_det_finish(d, &x, &n), 0);
	cr_assert_eq(n, 3);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(x[i].sig, i, "detection %u: signature %u", i, x[i].sig);
		cr_assert_eq(x[i].start_ns, (100 + 60 * (int64_t)i) * NS);
		cr_assert_eq(x[i].matched, 2);
		cr_assert_not(x[i].ambiguous, "detection %u", i);
	}
	sx_det_free(d);
	/* the command alone is lan on's or lan off's: ambiguous */
	cr_assert_eq(sx_det_new(&cfg, sigs, 3, &d), 0);
	cr_assert_eq(sx_det_row(d, &rows[0]), 0);
	cr_assert_eq(sx_det_finish(d, &x, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert(x[0].ambiguous);
	cr_assert(x[0].sig == 0 ? x[0].rival == 1 : x[0].sig == 1 && x[0].rival == 0);
	sx_det_free(d);
	sx_det_sig_free(cloud);
	sx_det_sig_free(off);
	sx_det_sig_free(on);
}

/* A pattern of the device's traffic between the events (between-events)
 * is no event's: shared, even for a signature loaded alone. */
Test(detect_contrast, the_traffic_between_the_events_is_no_events)
{
	struct sx_det_cfg cfg = {.slack = -1};
	const struct sx_det_detection *x;
	struct sx_det_sig *s = sig(), *bg = sig();
	const struct sx_det_sig *sigs[1] = {s};
	struct sx_flow_row rows[3];
	struct sx_det_contrast c;
	struct sx_det *d;
	uint32_t n, other;

	/* between the events: the TLS report (bg's second pattern) */
	s->between = bg->p + 1;
	s->nbetween = 1;
	cr_assert_eq(sx_det_contrast(sigs, 1, NULL, 0.25, &c), 0);
	cr_assert_eq(c.rivals[0], 1);
	cr_assert_eq(c.ndistinct[0], 1);
	cr_assert_eq(c.shared_with[c.first[0] + 1], 1); /* itself: its between-events */
	sx_det_contrast_free(&c);
	/* the report alone is no detection, the question and the report are */
	dns_row(&rows[0], 100);
	tls_row(&rows[1], 100.4);
	tls_row(&rows[2], 200);
	cr_assert_eq(sx_det_new(&(struct sx_det_cfg){.slack = -1, .fraction = 0.5}, sigs, 1, &d),
		     0);
	for (n = 0; n < 3; n++)
		cr_assert_eq(sx_det_row(d, &rows[n]), 0);
	cr_assert_eq(sx_det_finish(d, &x, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(x[0].start_ns, 100 * NS);
	sx_det_free(d);
	/* every pattern between the events: not distinctive */
	s->between = bg->p;
	s->nbetween = 2;
	cr_assert_eq(sx_det_new(&cfg, sigs, 1, &d), 0);
	cr_assert(sx_det_not_distinctive(d, 0, &other));
	cr_assert_eq(other, 0);
	sx_det_free(d);
	s->between = NULL;
	s->nbetween = 0;
	sx_det_sig_free(bg);
	sx_det_sig_free(s);
}

/* ---- what a window's flows tell (classify) ---- */

TestSuite(detect_classify, .timeout = 60);

/* The device's time check at 'at': a flow no pattern matches, that makes
 * the capture as long as it is (the slots of a flow's rarity). */
static void ntp_row(struct sx_flow_row *r, double at)
{
	uint8_t srv[4];

	ip(srv, 10, 0, 0, 30);
	row_init(r, 17, srv, 123, "10.0.0.30", at);
	r->rec.pkts[0] = r->rec.pkts[1] = 1;
	r->rec.bytes[0] = r->rec.bytes[1] = 90;
	strcpy(r->rec.attrs, "ntp=v4:3");
}

/* The detections of the rows. */
static uint32_t classified(const struct sx_det_cfg *cfg, const struct sx_det_sig *const *sigs,
			   uint32_t nsigs, const struct sx_flow_row *rows, uint32_t nrows,
			   struct sx_det **d, const struct sx_det_detection **x)
{
	uint32_t i, n;

	cr_assert_eq(sx_det_new(cfg, sigs, nsigs, d), 0);
	for (i = 0; i < nrows; i++)
		cr_assert_eq(sx_det_row(*d, &rows[i]), 0);
	cr_assert_eq(sx_det_finish(*d, x, &n), 0);
	return n;
}

/*
 * "cloud on" and "cloud off" are one exchange (a question for
 * cloud.example.com, then the report): the same bytes, each ambiguous with
 * the other.  "lan on" asks api.example.com, then reports to
 * lan.example.com.  Its question alone, once in the capture and just
 * before a cloud exchange, tells that exchange is "lan on"'s; asked in a
 * tenth of the capture's slots, it tells nothing.
 */
Test(detect_classify, a_rare_flow_of_one_event_tells_its_label)
{
	struct sx_det_sig *lan = sig(), *on = sig(), *off = sig();
	const struct sx_det_sig *sigs[3] = {lan, on, off};
	struct sx_det_cfg cfg = {.slack = -1};
	const struct sx_det_detection *x;
	struct sx_flow_row rows[16];
	struct sx_det *d;
	uint32_t n, i, nrows = 0;

	strcpy(lan->label, "lan on");
	set_attr(&lan->p[1], 0, "lan.example.com");
	strcpy(on->label, "cloud on");
	set_attr(&on->p[0], 0, "A:cloud.example.com");
	strcpy(off->label, "cloud off");
	set_attr(&off->p[0], 0, "A:cloud.example.com");
	dns_row(&rows[nrows++], 98); /* lan on's question */
	dns_row(&rows[nrows], 100);  /* the cloud exchange */
	strcpy(rows[nrows++].rec.attrs, "dns.q=A:cloud.example.com dns.rcode=0");
	tls_row(&rows[nrows++], 100.4);
	ntp_row(&rows[nrows++], 3000); /* about a hundred slots of 30 s */
	/* without it, the exchange is either cloud event's */
	n = classified(&cfg, sigs, 3, rows + 1, nrows - 1, &d, &x);
	cr_assert_eq(n, 1);
	cr_assert(x[0].ambiguous);
	cr_assert(x[0].sig == 1 || x[0].sig == 2);
	sx_det_free(d);
	/* with it: "lan on", sure, by what of it the window holds */
	n = classified(&cfg, sigs, 3, rows, nrows, &d, &x);
	cr_assert_eq(n, 1);
	cr_assert_eq(x[0].sig, 0);
	cr_assert_not(x[0].ambiguous);
	cr_assert_eq(x[0].matched, 1); /* the question; no report to lan.example.com */
	cr_assert_eq(x[0].start_ns, 98 * NS);
	cr_assert_eq(x[0].hits[0].pattern, 0);
	cr_assert(strstr(x[0].hits[0].flow, "p-000000000001 udp "), "%s", x[0].hits[0].flow);
	sx_det_free(d);
	/* the question in ten slots of the hundred: no evidence */
	for (i = 0; i < 9; i++)
		dns_row(&rows[nrows++], 400 + 300 * i);
	n = classified(&cfg, sigs, 3, rows, nrows, &d, &x);
	cr_assert_eq(n, 1);
	cr_assert(x[0].ambiguous);
	cr_assert(x[0].sig == 1 || x[0].sig == 2);
	sx_det_free(d);
	/* contrast off: every label sure, nothing to tell */
	cfg.no_contrast = true;
	n = classified(&cfg, sigs, 3, rows, 4, &d, &x);
	cr_assert_eq(n, 1);
	cr_assert_eq(x[0].sig, 1);
	sx_det_free(d);
	sx_det_sig_free(off);
	sx_det_sig_free(on);
	sx_det_sig_free(lan);
}

/* A rare flow of another event whose own detection holds it: the
 * exchange is that event's, one detection. */
Test(detect_classify, an_event_told_twice_is_one_detection)
{
	struct sx_det_sig *lan = sig(), *on = sig(), *off = sig();
	const struct sx_det_sig *sigs[3] = {lan, on, off};
	struct sx_det_cfg cfg = {.slack = -1};
	const struct sx_det_detection *x;
	struct sx_flow_row rows[5];
	struct sx_det *d;
	uint32_t n;

	strcpy(lan->label, "lan on");
	set_attr(&lan->p[1], 0, "lan.example.com");
	strcpy(on->label, "cloud on");
	set_attr(&on->p[0], 0, "A:cloud.example.com");
	strcpy(off->label, "cloud off");
	set_attr(&off->p[0], 0, "A:cloud.example.com");
	dns_row(&rows[0], 96); /* lan on, whole */
	tls_row(&rows[1], 96.5);
	strcpy(rows[1].rec.attrs, "tls.sni=lan.example.com");
	dns_row(&rows[2], 100); /* then a cloud exchange */
	strcpy(rows[2].rec.attrs, "dns.q=A:cloud.example.com dns.rcode=0");
	tls_row(&rows[3], 100.4);
	ntp_row(&rows[4], 3000);
	n = classified(&cfg, sigs, 3, rows, 5, &d, &x);
	cr_assert_eq(n, 1);
	cr_assert_eq(x[0].sig, 0);
	cr_assert_not(x[0].ambiguous);
	cr_assert_eq(x[0].matched, 2);
	cr_assert_eq(x[0].start_ns, 96 * NS);
	sx_det_free(d);
	/* --overlap keeps both, the exchange told "lan on" too */
	cfg.overlap = true;
	n = classified(&cfg, sigs, 3, rows, 5, &d, &x);
	cr_assert_geq(n, 2);
	for (uint32_t i = 0; i < n; i++)
		cr_assert(x[i].ambiguous || x[i].sig == 0, "detection %u: %u", i, x[i].sig);
	sx_det_free(d);
	sx_det_sig_free(off);
	sx_det_sig_free(on);
	sx_det_sig_free(lan);
}

/* "remote open" is a cloud session alone; "lan open" the same session and
 * a question of its own.  A window with the session and no question holds
 * all of "remote open" and half of "lan open": "remote open" by a margin of
 * a half, not of more. */
Test(detect_classify, a_window_covered_by_the_margin_tells_its_label)
{
	struct sx_det_sig *remote = sig(), *lan = sig();
	const struct sx_det_sig *sigs[2] = {remote, lan};
	struct sx_det_cfg cfg = {.slack = -1};
	const struct sx_det_detection *x;
	struct sx_det_pattern p0;
	struct sx_flow_row rows[3];
	struct sx_det *d;
	struct sx_det_cfg bad = cfg;

	p0 = remote->p[0];
	remote->p[0] = remote->p[1];
	remote->p[1] = p0;
	remote->n = 1;
	strcpy(remote->label, "remote open");
	strcpy(lan->label, "lan open");
	tls_row(&rows[0], 100.4);
	ntp_row(&rows[1], 3000);
	cr_assert_eq(classified(&cfg, sigs, 2, rows, 2, &d, &x), 1);
	cr_assert_eq(x[0].sig, 0);
	cr_assert_not(x[0].ambiguous);
	sx_det_free(d);
	cfg.margin = 0.6;
	cr_assert_eq(classified(&cfg, sigs, 2, rows, 2, &d, &x), 1);
	cr_assert(x[0].ambiguous);
	cr_assert_eq(x[0].rival, 1);
	sx_det_free(d);
	/* the question too: "lan open", sure (its question tells it); with
	 * --overlap "remote open"'s detection of the session is kept, and its
	 * window's question, once in the capture, tells it "lan open" too */
	cfg.margin = 0;
	dns_row(&rows[2], 100);
	cr_assert_eq(classified(&cfg, sigs, 2, rows, 3, &d, &x), 1);
	cr_assert_eq(x[0].sig, 1);
	cr_assert_not(x[0].ambiguous);
	sx_det_free(d);
	cfg.overlap = true;
	cr_assert_eq(classified(&cfg, sigs, 2, rows, 3, &d, &x), 2);
	cr_assert_eq(x[0].sig, 1);
	cr_assert_eq(x[1].sig, 1);
	cr_assert_not(x[1].ambiguous);
	cr_assert_eq(x[1].matched, 2);
	sx_det_free(d);
	/* margins outside (0, 2] are refused */
	bad.margin = -0.5;
	cr_assert_eq(sx_det_new(&bad, sigs, 2, &d), -EINVAL);
	bad.margin = 2.5;
	cr_assert_eq(sx_det_new(&bad, sigs, 2, &d), -EINVAL);
	remote->n = 2;
	sx_det_sig_free(remote);
	sx_det_sig_free(lan);
}
