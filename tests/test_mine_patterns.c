/*
 * test_mine_patterns.c - the miner through its public API, on hand-built
 * flow rows: support, fixed ports, naming of ends, periodic and background
 * patterns, statistics, ids, canonical order, the input rules, and a stop
 * request (SIGINT) ending the mining.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/util.h"
#include "mine/mine.h"

TestSuite(mine_patterns, .timeout = 60);

#define S 1000000000LL

struct rowspec {
	const char *file;
	int64_t first_ns; /* absolute */
	int64_t dur_ns;
	uint8_t proto;
	const char *ini_ip;
	uint16_t ini_port;
	const char *ini_host; /* NULL: the address */
	const char *rsp_ip;
	uint16_t rsp_port;
	const char *rsp_host;
	uint8_t service_side; /* SX_SIDE_OTHER: the responder is the service */
	uint64_t pkts[2], bytes[2];
	const char *attrs;
	uint8_t top;
};

static void set_addr(uint8_t *b, const char *s)
{
	memset(b, 0, 16);
	cr_assert_eq(inet_pton(AF_INET, s, b), 1, "%s", s);
}

static void make_row(const struct rowspec *s, struct sx_flow_row *row, uint64_t index)
{
	struct sx_flow_rec *r = &row->rec;
	uint8_t ia[16], ra[16];
	int c;

	memset(row, 0, sizeof(*row));
	set_addr(ia, s->ini_ip);
	set_addr(ra, s->rsp_ip);
	c = memcmp(ia, ra, 4);
	r->dev = c > 0 || (c == 0 && s->ini_port > s->rsp_port);
	memcpy(r->key.lo_addr, r->dev ? ra : ia, 16);
	memcpy(r->key.hi_addr, r->dev ? ia : ra, 16);
	r->key.lo_port = r->dev ? s->rsp_port : s->ini_port;
	r->key.hi_port = r->dev ? s->ini_port : s->rsp_port;
	r->key.proto = s->proto;
	r->key.family = 4;
	r->key.event = SX_FLOW_NO_EVENT;
	r->first_ns = s->first_ns;
	r->last_ns = s->first_ns + s->dur_ns;
	r->first_index = index;
	r->pkts[0] = s->pkts[0];
	r->pkts[1] = s->pkts[1];
	r->bytes[0] = s->bytes[0];
	r->bytes[1] = s->bytes[1];
	r->top_proto = s->top;
	r->nseq = 2;
	r->seq_len[0] = (int32_t)s->bytes[0];
	r->seq_len[1] = -(int32_t)s->bytes[1];
	snprintf(r->attrs, sizeof(r->attrs), "%s", s->attrs ? s->attrs : "");
	row->index = index;
	row->file = s->file;
	row->event_label = "";
	row->dev_host = s->ini_host ? s->ini_host : s->ini_ip;
	row->other_host = s->rsp_host ? s->rsp_host : s->rsp_ip;
	row->dev_local = "";
	row->other_local = "";
	row->service_side = s->service_side;
	if (s->service_side == SX_SIDE_OTHER) {
		row->service_port = s->rsp_port;
		row->ephemeral_port = s->ini_port;
	} else if (s->service_side == SX_SIDE_DEVICE) {
		row->service_port = s->ini_port;
		row->ephemeral_port = s->rsp_port;
	}
}

static void add(struct sx_mine *m, enum sx_mine_set set, int src, const struct rowspec *s)
{
	static uint64_t index;
	struct sx_flow_row row;

	make_row(s, &row, index++);
	cr_assert_eq(sx_mine_add_row(m, set, src, &row), 0);
}

/* One capture per occurrence: file "occN.pcap", starting at N * 1000 s. */
static const char *occ_name(unsigned i)
{
	static char names[64][32];

	snprintf(names[i], sizeof(names[i]), "occ%u.pcap", i);
	return names[i];
}

/* The TLS session of occurrence i (another port and server address each time). */
static struct rowspec tls_row(unsigned i, int64_t at)
{
	static const char *const srv[] = {"52.3.101.168", "3.218.230.180", "34.237.54.215"};
	struct rowspec r = {occ_name(i),
			    (int64_t)i * 1000 * S + at,
			    S,
			    6,
			    "192.168.1.135",
			    (uint16_t)(40000 + i),
			    NULL,
			    srv[i % 3],
			    443,
			    "api.vendor.example",
			    SX_SIDE_OTHER,
			    {16, 12},
			    {2225 + i, 7632 + 30 * (i % 2)},
			    "tls.sni=api.vendor.example",
			    SX_P_TLS};

	return r;
}

static struct rowspec dns_row(unsigned i, int64_t at, const char *name)
{
	static char attrs[64][96];
	struct rowspec r = {occ_name(i),
			    (int64_t)i * 1000 * S + at,
			    S / 50,
			    17,
			    "192.168.1.135",
			    (uint16_t)(50000 + i),
			    NULL,
			    "192.168.1.1",
			    53,
			    NULL,
			    SX_SIDE_OTHER,
			    {1, 1},
			    {81, 145},
			    attrs[i],
			    SX_P_DNS};

	snprintf(attrs[i], sizeof(attrs[i]), "dns.q=A:%s", name);
	return r;
}

static struct sx_mine_result *run(struct sx_mine *m)
{
	struct sx_mine_result *r;

	cr_assert_eq(sx_mine_run(m, &r), 0);
	sx_mine_free(m);
	return r;
}

static struct sx_mine *miner(double support)
{
	struct sx_mine_cfg cfg = {.support = support};
	struct sx_mine *m;

	cr_assert_eq(sx_mine_new(&cfg, &m), 0);
	return m;
}

Test(mine_patterns, support_decides)
{
	struct sx_mine_result *r;
	struct sx_mine *m;
	unsigned i, pass;

	for (pass = 0; pass < 2; pass++) {
		struct rowspec row;

		m = miner(pass ? 0.6 : 0);
		for (i = 0; i < 3; i++) {
			row = tls_row(i, 50000000);
			add(m, SX_MINE_EVENT, 0, &row);
			if (i < 2) {
				row = dns_row(i, 10000000, "api.vendor.example");
				add(m, SX_MINE_EVENT, 0, &row);
			}
		}
		r = run(m);
		cr_assert_eq(r->noccs, 3);
		cr_assert_eq(r->min_support, pass ? 2u : 3u);
		cr_assert_eq(r->npatterns, pass ? 2u : 1u);
		cr_assert_eq(r->nclusters, 2);
		/* the DNS lookup of 2 occurrences of 3 is recorded below support */
		cr_assert_eq(r->nbelow, pass ? 0u : 1u);
		if (!pass) {
			cr_assert_eq(r->below[0].kind, SX_MINE_BELOW_SUPPORT);
			cr_assert_eq(r->below[0].support, 2);
			cr_assert_eq(r->below[0].fixed_port, 53);
			cr_assert_eq(strncmp(r->below[0].id, "p-", 2), 0);
		}
		sx_mine_result_free(r);
	}
}

/* A session to the TLS service of tls_row() that was open before
 * occurrence i began: no ClientHello, so no SNI, and other sizes. */
static struct rowspec continuing_row(unsigned i, const char *host)
{
	struct rowspec r = tls_row(i, S / 2);

	r.rsp_host = host;
	r.pkts[0] = 3;
	r.pkts[1] = 4;
	r.bytes[0] = 310;
	r.bytes[1] = 620 + i;
	r.attrs = "";
	return r;
}

/* One service, one pattern (20 occurrences, support 0.9): the service is a
 * new TLS session in 12 of them and a continuing one in 8; the two shapes
 * are one pattern of full support. */
Test(mine_patterns, one_service_whatever_the_shape)
{
	const struct sx_mine_pattern *p;
	struct sx_mine_result *r;
	struct sx_mine *m = miner(0.9);
	struct rowspec row;
	unsigned i;

	for (i = 0; i < 20; i++) {
		row = i < 12 ? tls_row(i, 50000000) : continuing_row(i, "api.vendor.example");
		add(m, SX_MINE_EVENT, 0, &row);
	}
	r = run(m);
	cr_assert_eq(r->npatterns, 1, "one pattern, not two shapes below support");
	p = &r->patterns[0];
	cr_assert_eq(p->support, 20);
	cr_assert_eq(p->nflows, 20);
	cr_assert_str_eq(p->app.tls_sni, "api.vendor.example", "the new sessions' SNI");
	cr_assert_eq(p->fixed_port, 443);
	cr_assert_eq(p->bytes[SX_MINE_CLIENT].min, 310, "the shapes are its statistics");
	cr_assert_eq(p->bytes[SX_MINE_CLIENT].max, 2236);
	sx_mine_result_free(r);

	/* the same shapes to another server are another service: two clusters,
	 * each below support */
	m = miner(0.9);
	for (i = 0; i < 20; i++) {
		row = i < 12 ? tls_row(i, 50000000) : continuing_row(i, "other.vendor.example");
		add(m, SX_MINE_EVENT, 0, &row);
	}
	r = run(m);
	cr_assert_eq(r->npatterns, 0);
	cr_assert_eq(r->nclusters, 2);
	sx_mine_result_free(r);
}

/* Different application identities are different meanings: two SNIs on one
 * server and port stay apart, and a session without an SNI that could
 * continue either joins neither. */
Test(mine_patterns, identities_that_differ_stay_apart)
{
	struct sx_mine_result *r;
	struct sx_mine *m = miner(0);
	struct rowspec row;
	unsigned i;

	for (i = 0; i < 6; i++) {
		row = tls_row(i, 50000000);
		if (i % 2)
			row.attrs = "tls.sni=cdn.another.example";
		add(m, SX_MINE_EVENT, 0, &row);
		row = continuing_row(i, "api.vendor.example");
		add(m, SX_MINE_EVENT, 0, &row);
	}
	r = run(m);
	cr_assert_eq(r->nclusters, 3, "two identities and the sessions that continue one of them");
	sx_mine_result_free(r);
}

/* A relay reached by an unnamed public address its cloud hands out,
 * another one in each occurrence (STUN on TCP 3478): one service, in every
 * occurrence, not one cluster per address below the support.  A server the
 * device reaches in most occurrences stays its own. */
Test(mine_patterns, a_rotating_pool_of_unnamed_servers_is_one_service)
{
	struct sx_mine_result *r;
	struct sx_mine *m = miner(0.9);
	struct rowspec row;
	char ip[20][32];
	unsigned i;

	for (i = 0; i < 20; i++)
		snprintf(ip[i], sizeof(ip[i]), "54.%u.%u.9", 80 + i % 7, 10 + i);
	for (i = 0; i < 20; i++) {
		row = continuing_row(i, NULL);
		row.rsp_ip = ip[i];
		row.rsp_port = 3478;
		row.top = SX_P_TCP;
		add(m, SX_MINE_EVENT, 0, &row);
		if (i % 2) { /* a second address in some occurrences */
			row.rsp_ip = ip[(i + 7) % 20];
			row.first_ns += S / 4;
			add(m, SX_MINE_EVENT, 0, &row);
		}
	}
	r = run(m);
	cr_assert_eq(r->npatterns, 1, "one pool, not twenty addresses");
	cr_assert_eq(r->patterns[0].support, 20);
	cr_assert_eq(r->patterns[0].fixed_port, 3478);
	cr_assert_eq(r->patterns[0].end[SX_MINE_SERVER].naddrs, 20);
	sx_mine_result_free(r);

	/* two servers side by side in every occurrence are two services */
	m = miner(0.9);
	for (i = 0; i < 20; i++) {
		row = continuing_row(i, NULL);
		row.rsp_ip = "54.80.1.1";
		row.rsp_port = 3478;
		row.top = SX_P_TCP;
		add(m, SX_MINE_EVENT, 0, &row);
		row.rsp_ip = "54.90.2.2";
		row.first_ns += S / 4;
		add(m, SX_MINE_EVENT, 0, &row);
	}
	r = run(m);
	cr_assert_eq(r->npatterns, 2);
	cr_assert_eq(r->patterns[0].end[SX_MINE_SERVER].naddrs, 1);
	cr_assert_eq(r->patterns[1].end[SX_MINE_SERVER].naddrs, 1);
	sx_mine_result_free(r);
}

Test(mine_patterns, identity_of_a_tls_pattern)
{
	struct sx_mine *m = miner(0);
	const struct sx_mine_pattern *p;
	struct sx_mine_result *r;
	struct rowspec row;
	unsigned i;

	for (i = 0; i < 3; i++) {
		row = tls_row(i, 50000000);
		add(m, SX_MINE_EVENT, 0, &row);
	}
	r = run(m);
	cr_assert_eq(r->npatterns, 1);
	p = &r->patterns[0];
	cr_assert_eq(p->number, 1);
	cr_assert_eq(p->kind, SX_MINE_PATTERN);
	cr_assert_eq(p->ip_proto, 6);
	cr_assert_eq(p->family, 4);
	cr_assert_eq(p->initiator, SX_MINE_CLIENT);
	cr_assert_eq(p->fixed_role, SX_MINE_SERVER);
	cr_assert_eq(p->fixed_port, 443);
	cr_assert_eq(p->end[SX_MINE_SERVER].kind, SX_MINE_HOST_NAME);
	cr_assert_str_eq(p->end[SX_MINE_SERVER].name, "api.vendor.example");
	cr_assert_eq(p->end[SX_MINE_SERVER].naddrs, 3, "another address behind the name");
	cr_assert_eq(p->end[SX_MINE_SERVER].scope, SX_MINE_SCOPE_PUBLIC);
	cr_assert_eq(p->end[SX_MINE_CLIENT].kind, SX_MINE_HOST_ADDRS);
	cr_assert_str_eq(p->end[SX_MINE_CLIENT].shown, "192.168.1.135");
	cr_assert(p->end[SX_MINE_CLIENT].focal, "the host in every flow is the device");
	cr_assert_eq(p->end[SX_MINE_CLIENT].nports, 3);
	cr_assert_str_eq(p->app.tls_sni, "api.vendor.example");
	cr_assert_eq(p->app.proto, SX_P_TLS);
	cr_assert_eq(p->support, 3);
	cr_assert_eq(p->nflows, 3);
	cr_assert_eq(p->bytes[SX_MINE_CLIENT].min, 2225);
	cr_assert_eq(p->bytes[SX_MINE_CLIENT].median, 2226);
	cr_assert_eq(p->bytes[SX_MINE_CLIENT].max, 2227);
	cr_assert_eq(p->duration_ns.median, S);
	cr_assert_eq(p->offset_ns.median, 0, "the only flow starts its occurrence");
	cr_assert(sx_mine_pattern_in_occ(p, 0) && sx_mine_pattern_in_occ(p, 2));
	cr_assert_str_eq(p->key, "v1|6|fixed=server:443|client=self|server=n:api.vendor.example|"
				 "app=tls.sni=api.vendor.example;");
	cr_assert_eq(strncmp(p->id, "p-", 2), 0);
	cr_assert_eq(strlen(p->id), 14);
	sx_mine_result_free(r);
}

/* A camera's stream to its app: UDP between ports drawn anew at every
 * session, to the phone's public address of the day. */
static struct rowspec stream_row(unsigned i, uint8_t proto)
{
	static char ip[64][32];
	struct rowspec r = {occ_name(i),
			    (int64_t)i * 1000 * S + 3 * S,
			    20 * S,
			    proto,
			    "192.168.1.161",
			    (uint16_t)(10306 + 977 * i),
			    NULL,
			    ip[i],
			    (uint16_t)(16559 + 1231 * i),
			    NULL,
			    SX_SIDE_OTHER,
			    {400 + 90 * i, 30 + 7 * i},
			    {400000 + 90000 * i, 2400 + 300 * i},
			    "",
			    proto == 17 ? SX_P_UDP : SX_P_TCP};

	snprintf(ip[i], sizeof(ip[i]), "130.104.%u.%u", 200 + 3 * i, 55 + 11 * i);
	return r;
}

/* The patterns of six streams (stream_row()) of protocol proto, the
 * device's port ini_port when not 0. */
static uint32_t streams_patterns(uint8_t proto, uint16_t ini_port)
{
	struct sx_mine *m = miner(0.9);
	struct sx_mine_result *r;
	uint32_t n;
	unsigned i;

	for (i = 0; i < 6; i++) {
		struct rowspec row = stream_row(i, proto);

		row.ini_port = ini_port ? ini_port : row.ini_port;
		add(m, SX_MINE_EVENT, 0, &row);
	}
	r = run(m);
	n = r->npatterns;
	sx_mine_result_free(r);
	return n;
}

Test(mine_patterns, peer_to_peer_streams_are_one_pattern)
{
	struct sx_mine_result *r;
	struct sx_mine *m = miner(0.9);
	struct rowspec row;
	unsigned i;

	cr_assert_eq(streams_patterns(17, 0), 1, "one stream, not six peers");
	for (i = 0; i < 6; i++) {
		row = stream_row(i, 17);
		add(m, SX_MINE_EVENT, 0, &row);
	}
	r = run(m);
	cr_assert_eq(r->patterns[0].support, 6);
	cr_assert_eq(r->patterns[0].fixed_port, 0);
	cr_assert_eq(r->patterns[0].end[SX_MINE_SERVER].naddrs, 6);
	cr_assert_eq(r->patterns[0].end[SX_MINE_SERVER].nports, 6);
	cr_assert(r->patterns[0].peer_to_peer);
	sx_mine_result_free(r);

	/* two streams to one peer: peer to peer, but not with known ports at
	 * one end (CoAP, mDNS) or a broadcast peer */
	for (i = 0; i < 3; i++) {
		static const uint16_t known[2] = {5683, 5353};
		unsigned k;

		m = miner(0.9);
		for (k = 0; k < 2; k++) {
			row = stream_row(k, 17);
			row.rsp_ip = i == 2 ? "255.255.255.255" : "130.104.212.112";
			if (i == 1)
				row.ini_port = known[k];
			add(m, SX_MINE_EVENT, 0, &row);
		}
		r = run(m);
		cr_assert_eq(r->npatterns, 1, "case %u", i);
		cr_assert_eq(r->patterns[0].fixed_port, 0, "case %u", i);
		cr_assert_eq(r->patterns[0].peer_to_peer, i == 0, "case %u", i);
		sx_mine_result_free(r);
	}

	/* TCP connects to a port its server listens on: not peer to peer */
	cr_assert_eq(streams_patterns(6, 0), 0);
	/* a known port at one end (CoAP 5683 on the device) is a service */
	cr_assert_eq(streams_patterns(17, 5683), 0);

	/* the stream in every occurrence beside one to a second peer in
	 * every other one: the two take no turns, the second stays apart */
	m = miner(0.9);
	for (i = 0; i < 6; i++) {
		row = stream_row(i, 17);
		row.rsp_ip = "130.104.212.112";
		add(m, SX_MINE_EVENT, 0, &row);
		if (i % 2) {
			row = stream_row(i, 17);
			row.first_ns += 30 * S;
			add(m, SX_MINE_EVENT, 0, &row);
		}
	}
	r = run(m);
	cr_assert_eq(r->npatterns, 1);
	cr_assert_eq(r->patterns[0].end[SX_MINE_SERVER].naddrs, 1);
	sx_mine_result_free(r);
}

/* Six streams (stream_row()), each beside four probes from the stream's
 * port to four relays of a vendor's fleet on UDP 25000, new relays in
 * every occurrence: the probes are the relays' service, not peers of the
 * stream, and the stream's pattern keeps the stream alone. */
Test(mine_patterns, a_port_a_fleet_listens_on_is_no_peer_to_peer_port)
{
	static char relay[24][32];
	struct sx_mine *m = miner(0.9);
	struct sx_mine_result *r;
	unsigned i, k, seen = 0;

	for (i = 0; i < 6; i++) {
		struct rowspec row = stream_row(i, 17);

		add(m, SX_MINE_EVENT, 0, &row);
		for (k = 0; k < 4; k++) {
			struct rowspec probe = {occ_name(i),
						(int64_t)i * 1000 * S + S + (int64_t)k * S / 100,
						S / 1000,
						17,
						"192.168.1.161",
						row.ini_port,
						NULL,
						relay[4 * i + k],
						25000,
						NULL,
						SX_SIDE_OTHER,
						{4, 0},
						{296, 0},
						"",
						SX_P_UDP};

			snprintf(relay[4 * i + k], sizeof(relay[0]), "%s.%u",
				 i % 2 ? "110.43.68" : "42.157.163", 2 + 4 * i + k);
			add(m, SX_MINE_EVENT, 0, &probe);
		}
	}
	r = run(m);
	for (k = 0; k < r->npatterns; k++) {
		const struct sx_mine_pattern *p = &r->patterns[k];

		if (p->peer_to_peer) {
			cr_assert_eq(p->nflows, 6u, "the stream alone");
			seen |= 1;
		} else {
			cr_assert_eq(p->fixed_port, 25000);
			cr_assert_eq(p->nflows, 24u);
			cr_assert_eq(p->support, 6);
			seen |= 2;
		}
	}
	cr_assert_eq(seen, 3, "the stream and the relays: %u patterns", r->npatterns);
	sx_mine_result_free(r);
}

/* Peer-to-peer sessions, each to its own public peer and port, per of them
 * in each of six occurrences; in the first nshared occurrences one of them
 * reaches its peer on 40404.  Returns whether a pattern has 40404 for its
 * fixed port. */
static bool chance_fleet(unsigned per, unsigned nshared)
{
	static char peer[6 * 120][32];
	struct sx_mine *m = miner(0.3);
	struct sx_mine_result *r;
	bool fleet = false;
	unsigned i, k;

	for (i = 0; i < 6; i++)
		for (k = 0; k < per; k++) {
			unsigned f = i * per + k;
			struct rowspec row = {occ_name(i),
					      (int64_t)i * 1000 * S + (int64_t)k * S / 10,
					      S / 20,
					      17,
					      "192.168.1.161",
					      (uint16_t)(10000 + f),
					      NULL,
					      peer[f],
					      (uint16_t)(i < nshared && k == 0 ? 40404 : 20000 + f),
					      NULL,
					      SX_SIDE_OTHER,
					      {3, 3},
					      {300, 300},
					      "",
					      SX_P_UDP};

			snprintf(peer[f], sizeof(peer[f]), "130.104.%u.%u", f / 200, 1 + f % 200);
			add(m, SX_MINE_EVENT, 0, &row);
		}
	r = run(m);
	for (k = 0; k < r->npatterns; k++)
		fleet |= r->patterns[k].fixed_port == 40404;
	sx_mine_result_free(r);
	return fleet;
}

/* Three servers on one port among a few flows are a fleet, two are not;
 * three among hundreds of sessions to random ports are what chance gives
 * (recur_servers()). */
Test(mine_patterns, chance_makes_no_fleet)
{
	cr_assert(chance_fleet(10, 3), "60 flows: three servers on one port are a service");
	cr_assert_not(chance_fleet(10, 2), "two servers on one port are two peers");
	cr_assert_not(chance_fleet(120, 3), "720 flows: three are what chance gives");
}

Test(mine_patterns, no_fixed_port_when_both_sides_vary)
{
	struct sx_mine *m = miner(0);
	struct sx_mine_result *r;
	unsigned i;

	for (i = 0; i < 4; i++) {
		struct rowspec row = {occ_name(i),
				      (int64_t)i * 1000 * S,
				      S,
				      17,
				      "192.168.1.10",
				      (uint16_t)(40000 + 7 * i),
				      NULL,
				      "192.168.1.20",
				      (uint16_t)(50000 + 3 * i),
				      NULL,
				      SX_SIDE_NONE,
				      {3, 3},
				      {300, 300},
				      "",
				      SX_P_UDP};

		add(m, SX_MINE_EVENT, 0, &row);
	}
	r = run(m);
	cr_assert_eq(r->npatterns, 1);
	cr_assert_eq(r->patterns[0].fixed_role, SX_MINE_NO_ROLE);
	cr_assert_eq(r->patterns[0].fixed_port, 0);
	sx_mine_result_free(r);
}

Test(mine_patterns, a_constant_client_port_is_fixed_when_the_server_varies)
{
	struct sx_mine *m = miner(0);
	struct sx_mine_result *r;
	unsigned i;

	/* replies from the device's port 9999 to a phone's changing ports,
	 * where the flow stage took the phone's side for the service */
	for (i = 0; i < 4; i++) {
		struct rowspec row = {occ_name(i),
				      (int64_t)i * 1000 * S,
				      S,
				      17,
				      "192.168.1.135",
				      9999,
				      NULL,
				      "192.168.1.110",
				      (uint16_t)(40000 + 11 * i),
				      NULL,
				      SX_SIDE_OTHER,
				      {3, 0},
				      {3066, 0},
				      "tplink.reply=system.get_sysinfo",
				      SX_P_TPLINK};

		add(m, SX_MINE_EVENT, 0, &row);
	}
	r = run(m);
	cr_assert_eq(r->npatterns, 1);
	cr_assert_eq(r->patterns[0].fixed_role, SX_MINE_CLIENT);
	cr_assert_eq(r->patterns[0].fixed_port, 9999);
	cr_assert_str_eq(r->patterns[0].app.tplink_cmd, "system.get_sysinfo");
	sx_mine_result_free(r);
}

/* The device's flows decide the fixed port: another host's flows of the
 * same shape that fell in the pattern (the phone's, between ports both
 * drawn anew) do not take the device's constant port away. */
Test(mine_patterns, the_devices_own_flows_fix_the_port)
{
	static const char *const srv[] = {"203.0.113.5", "203.0.113.6", "203.0.113.7",
					  "203.0.113.8"};
	struct sx_mine *m = miner(0);
	struct sx_mine_result *r;
	unsigned i, k;

	for (i = 0; i < 4; i++) {
		for (k = 0; k < 4; k++) {
			bool phone = k == 3;
			struct rowspec row = {occ_name(i),
					      (int64_t)i * 1000 * S + (int64_t)k * S,
					      S,
					      17,
					      phone ? "192.168.1.222" : "192.168.1.135",
					      (uint16_t)(phone ? 41000 + 10 * i : 7000),
					      NULL,
					      srv[i],
					      (uint16_t)(30000 + 10 * i + k),
					      NULL,
					      SX_SIDE_NONE,
					      {1, 1},
					      {54, 54},
					      "",
					      SX_P_UDP};

			add(m, SX_MINE_EVENT, 0, &row);
		}
		/* the device's lookup: the device is the occurrence's host of
		 * most flows (four, the server's too; a private address wins) */
		struct rowspec dns = dns_row(i, 5 * S, "api.vendor.example");

		add(m, SX_MINE_EVENT, 0, &dns);
	}
	r = run(m);
	for (k = 0; k < r->npatterns; k++)
		if (r->patterns[k].app.proto == SX_P_UDP)
			break;
	cr_assert_lt(k, r->npatterns);
	cr_assert_eq(r->patterns[k].nflows, 16, "one shape, one cluster: %u",
		     r->patterns[k].nflows);
	cr_assert_eq(r->patterns[k].fixed_role, SX_MINE_CLIENT);
	cr_assert_eq(r->patterns[k].fixed_port, 7000);
	sx_mine_result_free(r);
}

/* Two services whose flows look alike (sessions continued from before the
 * window, one small segment each way) share a cluster; split by service
 * port, they are a pattern each, each with its port, where one pattern of
 * them had no port and its policy admitted every port. */
Test(mine_patterns, services_of_one_shape_are_a_pattern_each)
{
	static const char *const srv[] = {"203.0.113.5", "203.0.113.6", "203.0.113.7",
					  "203.0.113.8"};
	struct sx_mine *m = miner(0);
	struct sx_mine_result *r;
	unsigned i, k, seen = 0;

	for (i = 0; i < 4; i++)
		for (k = 0; k < 4; k++) {
			struct rowspec row = {occ_name(i),
					      (int64_t)i * 1000 * S + (int64_t)k * S,
					      S,
					      6,
					      "192.168.1.135",
					      (uint16_t)(40000 + 10 * i + k),
					      NULL,
					      srv[i],
					      k == 3 ? 80 : 443,
					      NULL,
					      SX_SIDE_OTHER,
					      {1, 1},
					      {54, 54},
					      "",
					      SX_P_TCP};

			add(m, SX_MINE_EVENT, 0, &row);
		}
	r = run(m);
	for (k = 0; k < r->npatterns; k++) {
		const struct sx_mine_pattern *p = &r->patterns[k];

		cr_assert_eq(p->fixed_role, SX_MINE_SERVER);
		cr_assert(p->fixed_port == 443 || p->fixed_port == 80, "%u", p->fixed_port);
		cr_assert_eq(p->nflows, p->fixed_port == 443 ? 12u : 4u);
		seen |= p->fixed_port == 443 ? 1 : 2;
	}
	cr_assert_eq(seen, 3, "both services: %u patterns", r->npatterns);
	sx_mine_result_free(r);
}

/* Four occurrences, each an NTP exchange with its own server names[i]
 * (198.51.100.10 + i). */
static void add_ntp_occurrences(struct sx_mine *m, const char *const names[4])
{
	unsigned i;

	for (i = 0; i < 4; i++) {
		char ip[32];
		struct rowspec row = {occ_name(i),   (int64_t)i * 1000 * S,
				      S / 10,	     17,
				      "10.0.0.7",    (uint16_t)(40000 + i),
				      NULL,	     ip,
				      123,	     names[i],
				      SX_SIDE_OTHER, {1, 1},
				      {90, 90},	     "ntp=v4:3 ntp=v4:4",
				      SX_P_NTP};

		snprintf(ip, sizeof(ip), "198.51.100.%u", 10 + i);
		add(m, SX_MINE_EVENT, 0, &row);
	}
}

Test(mine_patterns, names_varying_under_one_domain_are_generalised)
{
	static const char *const names[] = {"0.pool.ntp.org", "1.pool.ntp.org", "2.pool.ntp.org",
					    "3.pool.ntp.org"};
	struct sx_mine *m = miner(0);
	const struct sx_mine_end *e;
	struct sx_mine_result *r;

	add_ntp_occurrences(m, names);
	r = run(m);
	cr_assert_eq(r->npatterns, 1);
	e = &r->patterns[0].end[SX_MINE_SERVER];
	cr_assert_eq(e->kind, SX_MINE_HOST_DOMAIN);
	cr_assert_str_eq(e->name, "*.pool.ntp.org");
	cr_assert_eq(e->nnames, 4);
	cr_assert_str_eq(e->names[0], "0.pool.ntp.org");
	cr_assert_eq(r->patterns[0].app.ntp_version, 4);
	sx_mine_result_free(r);
}

Test(mine_patterns, names_across_domains_give_the_addresses)
{
	static const char *const names[] = {"time.nist.gov", "ntp.example.org", "clock.isc.org",
					    "time.example.net"};
	struct sx_mine *m = miner(0);
	const struct sx_mine_end *e;
	struct sx_mine_result *r;

	add_ntp_occurrences(m, names);
	r = run(m);
	cr_assert_eq(r->npatterns, 1, "NTP is NTP, whichever the server");
	e = &r->patterns[0].end[SX_MINE_SERVER];
	cr_assert_eq(e->kind, SX_MINE_HOST_ADDRS);
	cr_assert_eq(e->naddrs, 4);
	cr_assert_str_eq(e->shown, "198.51.100.10,198.51.100.11,198.51.100.12,198.51.100.13");
	sx_mine_result_free(r);
}

/* Six occurrences: an event flow at the start, and replies every 12 s at a
 * phase of the occurrence's own. */
static void periodic_scenario(struct sx_mine *m, enum sx_mine_set set, unsigned nocc,
			      bool with_event)
{
	static const int64_t phase_ms[] = {7083, 1021, 0, 5400, 9900, 3300};
	unsigned i, k;

	for (i = 0; i < nocc; i++) {
		struct rowspec ev = tls_row(i, 0);

		if (with_event)
			add(m, set, 0, &ev);
		for (k = 0; k < 3; k++) {
			int64_t at = 20000000 + (phase_ms[i % 6] + 12000 * (int64_t)k) * 1000000;
			struct rowspec row = {occ_name(i),
					      (int64_t)i * 1000 * S + at,
					      2 * S,
					      17,
					      "192.168.1.135",
					      9999,
					      NULL,
					      "192.168.1.110",
					      (uint16_t)(40000 + 10 * i + k),
					      NULL,
					      SX_SIDE_DEVICE,
					      {3, 0},
					      {3066, 0},
					      "tplink.reply=system.get_sysinfo",
					      SX_P_TPLINK};

			add(m, set, 0, &row);
		}
	}
}

Test(mine_patterns, periodic_chatter_is_set_apart)
{
	struct sx_mine *m = miner(0);
	struct sx_mine_result *r;

	periodic_scenario(m, SX_MINE_EVENT, 6, true);
	r = run(m);
	cr_assert_eq(r->npatterns, 1);
	cr_assert_eq(r->patterns[0].fixed_port, 443);
	cr_assert_eq(r->nperiodic, 1);
	cr_assert_eq(r->periodic[0].kind, SX_MINE_PERIODIC);
	cr_assert_eq(r->periodic[0].fixed_port, 9999);
	cr_assert_eq(r->periodic[0].fixed_role, SX_MINE_SERVER);
	cr_assert_eq(r->periodic[0].initiator, SX_MINE_SERVER);
	cr_assert_eq(r->periodic[0].period_ns, 12 * S);
	cr_assert_eq(r->periodic[0].nflows, 18);
	sx_mine_result_free(r);
}

Test(mine_patterns, repetitions_locked_to_the_event_stay)
{
	struct sx_mine *m = miner(0);
	struct sx_mine_result *r;
	unsigned i, k;

	/* polls every 18 s, always starting 2 s into the occurrence */
	for (i = 0; i < 6; i++) {
		for (k = 0; k < 3; k++) {
			struct rowspec row = tls_row(i, 2 * S + (int64_t)k * 18 * S + i * 10000000);

			add(m, SX_MINE_EVENT, 0, &row);
		}
	}
	r = run(m);
	cr_assert_eq(r->npatterns, 1);
	cr_assert_eq(r->nperiodic, 0);
	cr_assert_eq(r->patterns[0].period_ns, 18 * S);
	sx_mine_result_free(r);
}

Test(mine_patterns, background_patterns_are_set_apart)
{
	struct sx_mine *m = miner(0);
	struct sx_mine_result *r;
	unsigned i;

	for (i = 0; i < 5; i++) {
		struct rowspec a = tls_row(i, S / 10);
		struct rowspec b = dns_row(i, S / 20, "heartbeat.vendor.example");

		add(m, SX_MINE_EVENT, 0, &a);
		add(m, SX_MINE_EVENT, 0, &b);
	}
	for (i = 0; i < 3; i++) {
		struct rowspec b = dns_row(10 + i, 3 * S, "heartbeat.vendor.example");

		add(m, SX_MINE_BACKGROUND, 1, &b);
	}
	r = run(m);
	cr_assert_eq(r->noccs, 5);
	cr_assert_eq(r->nbg, 3);
	cr_assert_eq(r->min_bg_support, 2);
	cr_assert_eq(r->npatterns, 1);
	cr_assert_eq(r->patterns[0].fixed_port, 443);
	cr_assert_eq(r->nbackground, 1);
	cr_assert_eq(r->background[0].kind, SX_MINE_BACKGROUND_PATTERN);
	cr_assert_str_eq(r->background[0].app.dns_name, "heartbeat.vendor.example");
	cr_assert_str_eq(r->background[0].app.dns_qtype, "A");
	cr_assert_eq(r->background[0].bg_support, 3);
	cr_assert_eq(r->background[0].nbg, 3);
	sx_mine_result_free(r);
}

/* Mine the same rows, units added in a given order; the ids, in order. */
static void ids_for_order(const unsigned *order, unsigned n, char ids[][SX_MINE_ID_MAX],
			  uint32_t *npat, char first_file[32])
{
	struct sx_mine *m = miner(0);
	struct sx_mine_result *r;
	unsigned i;

	for (i = 0; i < n; i++) {
		struct rowspec a = tls_row(order[i], S / 10);
		struct rowspec b = dns_row(order[i], S / 20, "api.vendor.example");

		add(m, SX_MINE_EVENT, 0, &b);
		add(m, SX_MINE_EVENT, 0, &a);
	}
	r = run(m);
	*npat = r->npatterns;
	for (i = 0; i < r->npatterns; i++)
		snprintf(ids[i], SX_MINE_ID_MAX, "%s", r->patterns[i].id);
	snprintf(first_file, 32, "%s", r->occs[0].file);
	sx_mine_result_free(r);
}

Test(mine_patterns, canonical_order_and_stable_ids)
{
	static const unsigned fwd[] = {0, 1, 2, 3, 4, 5}, rev[] = {5, 4, 3, 2, 1, 0};
	static const unsigned sub[] = {1, 3, 5};
	char a[4][SX_MINE_ID_MAX], b[4][SX_MINE_ID_MAX], c[4][SX_MINE_ID_MAX];
	char fa[32], fb[32], fc[32];
	uint32_t na, nb, nc;

	ids_for_order(fwd, 6, a, &na, fa);
	ids_for_order(rev, 6, b, &nb, fb);
	ids_for_order(sub, 3, c, &nc, fc);
	cr_assert_eq(na, 2);
	cr_assert_eq(nb, 2);
	cr_assert_eq(nc, 2);
	cr_assert_str_eq(fa, "occ0.pcap");
	cr_assert_str_eq(fb, "occ0.pcap");
	cr_assert_str_eq(fc, "occ1.pcap");
	/* the DNS query starts first: pattern 1 */
	cr_assert_str_eq(a[0], b[0]);
	cr_assert_str_eq(a[1], b[1]);
	/* mined again from other occurrences: the same ids */
	cr_assert_str_eq(a[0], c[0]);
	cr_assert_str_eq(a[1], c[1]);
	cr_assert_str_neq(a[0], a[1]);
}

Test(mine_patterns, a_unit_from_two_inputs_is_refused)
{
	struct sx_mine *m = miner(0);
	struct sx_mine_result *r;
	struct sx_flow_row row;
	struct rowspec s = tls_row(0, 0);

	make_row(&s, &row, 0);
	cr_assert_eq(sx_mine_add_row(m, SX_MINE_EVENT, 0, &row), 0);
	cr_assert_eq(sx_mine_add_row(m, SX_MINE_EVENT, 1, &row), -EEXIST);
	cr_assert_eq(sx_mine_add_row(m, SX_MINE_BACKGROUND, 0, &row), -EEXIST);
	s = tls_row(1, 0);
	make_row(&s, &row, 0);
	cr_assert_eq(sx_mine_add_row(m, SX_MINE_EVENT, 1, &row), 0);
	cr_assert_eq(sx_mine_noccs(m), 2);
	sx_mine_discard_src(m, 1);
	cr_assert_eq(sx_mine_noccs(m), 1);
	r = run(m);
	cr_assert_eq(r->noccs, 1);
	cr_assert_str_eq(r->occs[0].file, "occ0.pcap");
	cr_assert_eq(r->npatterns, 1);
	sx_mine_result_free(r);
}

Test(mine_patterns, nothing_to_mine)
{
	struct sx_mine *m = miner(0);
	struct sx_mine_result *r = run(m);

	cr_assert_eq(r->noccs, 0);
	cr_assert_eq(r->npatterns, 0);
	cr_assert_eq(r->nbackground, 0);
	cr_assert_eq(r->nperiodic, 0);
	sx_mine_result_free(r);
}

Test(mine_patterns, bad_configuration)
{
	struct sx_mine_cfg bad[] = {{.support = 1.5},  {.support = -0.1}, {.threshold = 1.0},
				    {.bg_support = 2}, {.dim_bits = 4},	  {.dim_bits = 40}};
	struct sx_mine *m;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(sx_mine_new(&bad[i], &m), -EINVAL, "case %zu", i);
		cr_assert_null(m);
	}
	cr_assert_eq(sx_mine_new(NULL, &m), 0);
	sx_mine_free(m);
}

Test(mine_patterns, varying_values_are_generalised)
{
	struct sx_mine *m = miner(0);
	const struct sx_mine_pattern *p;
	struct sx_mine_result *r;
	char attrs[4][96];
	unsigned i, k;

	for (i = 0; i < 4; i++) {
		struct rowspec row = {occ_name(i),
				      (int64_t)i * 1000 * S,
				      S / 10,
				      6,
				      "10.0.0.7",
				      (uint16_t)(40000 + i),
				      NULL,
				      "192.0.2.80",
				      80,
				      "cam.vendor.example",
				      SX_SIDE_OTHER,
				      {5, 4},
				      {400, 380},
				      attrs[i],
				      SX_P_HTTP};

		snprintf(attrs[i], sizeof(attrs[i]),
			 "http.req=GET:cam.vendor.example/api/v1/event/%u http.status=200",
			 4100 + i);
		add(m, SX_MINE_EVENT, 0, &row);
	}
	r = run(m);
	cr_assert_eq(r->npatterns, 1);
	p = &r->patterns[0];
	for (i = 0, k = 0; i < p->nattrs; i++) {
		if (strcmp(p->attrs[i].key, "http.req"))
			continue;
		k++;
		cr_assert(p->attrs[i].generalised);
		cr_assert_str_eq(p->attrs[i].value, "GET:cam.vendor.example/api/v1/event/*");
		cr_assert_eq(p->attrs[i].count, 4);
	}
	cr_assert_eq(k, 1);
	cr_assert_str_eq(p->app.http_method, "GET");
	cr_assert_str_eq(p->app.http_host, "cam.vendor.example");
	cr_assert_str_eq(p->app.http_uri, "/api/v1/event/*");
	sx_mine_result_free(r);
}

/*
 * A DHCP message type is kept when two flows or more hold it, even fewer
 * than half of them: a client that mostly renews its lease with a request
 * begins with a discover after some boots, and a profile without it denies
 * the device its address then.  One flow is not enough; other keys keep
 * the values held by half the flows.
 */
Test(mine_patterns, a_dhcp_type_of_two_flows_is_kept)
{
	struct sx_mine *m = miner(0);
	const struct sx_mine_pattern *p;
	struct sx_mine_result *r;
	bool discover = false, inform = false, vendor = false;
	unsigned i;

	for (i = 0; i < 8; i++) {
		struct rowspec row = {occ_name(i),
				      (int64_t)i * 1000 * S,
				      S / 10,
				      17,
				      "0.0.0.0",
				      68,
				      NULL,
				      "255.255.255.255",
				      67,
				      NULL,
				      SX_SIDE_OTHER,
				      {1, 0},
				      {342, 0},
				      i < 2   ? "dhcp=discover dhcp=request dhcp.vendor=a"
				      : i < 3 ? "dhcp=inform"
					      : "dhcp=request",
				      SX_P_DHCP};

		add(m, SX_MINE_EVENT, 0, &row);
	}
	r = run(m);
	cr_assert_eq(r->npatterns, 1);
	p = &r->patterns[0];
	for (i = 0; i < p->nattrs; i++) {
		discover |=
		    !strcmp(p->attrs[i].key, "dhcp") && !strcmp(p->attrs[i].value, "discover");
		inform |= !strcmp(p->attrs[i].value, "inform");
		vendor |= !strcmp(p->attrs[i].key, "dhcp.vendor");
		if (!strcmp(p->attrs[i].value, "discover"))
			cr_assert(p->attrs[i].minor);
	}
	cr_assert(discover);
	cr_assert_not(inform);
	cr_assert_not(vendor);
	cr_assert_str_eq(p->app.dhcp_type, "discover request");
	sx_mine_result_free(r);
}

Test(mine_patterns, a_stop_request_ends_mining)
{
	struct sx_mine_result *r = NULL;
	struct rowspec row;
	struct sx_mine *m = miner(0);
	unsigned i;

	for (i = 0; i < 3; i++) {
		row = tls_row(i, 50000000);
		add(m, SX_MINE_EVENT, 0, &row);
	}
	sx_request_stop(); /* this test's process only (Criterion forks) */
	cr_assert_eq(sx_mine_run(m, &r), SX_E_STOPPED);
	cr_assert_null(r);
	sx_mine_free(m);
}

/* A pattern's address pairs carry each end's MAC when every flow of the pair
 * agrees on it, and zero when they differ, whatever the order. */
Test(mine_patterns, a_pair_names_its_mac_only_when_its_flows_agree)
{
	static const uint8_t a[6] = {2, 0, 0, 0, 0, 1}, b[6] = {2, 0, 0, 0, 0, 2};
	struct sx_mine_result *r;

	for (unsigned odd = 0; odd < 4; odd++) {
		struct sx_mine *m = miner(0.9);

		for (unsigned i = 0; i < 3; i++) {
			struct rowspec s = dns_row(i, S, "api.vendor.example");
			struct sx_flow_row row;

			make_row(&s, &row, 100 + i);
			/* odd 0..2: that occurrence's client MAC differs; 3: none does */
			memcpy(row.rec.mac[0], i == odd ? b : a, 6);
			memcpy(row.rec.mac[1], b, 6);
			cr_assert_eq(sx_mine_add_row(m, SX_MINE_EVENT, 0, &row), 0);
		}
		r = run(m);
		cr_assert_eq(r->npatterns, 1);
		cr_assert_eq(r->patterns[0].npairs, 1);
		cr_assert_eq(r->patterns[0].pairs[0].count, 3);
		cr_assert_eq(memcmp(r->patterns[0].pairs[0].mac[1], b, 6), 0);
		if (odd == 3)
			cr_assert_eq(memcmp(r->patterns[0].pairs[0].mac[0], a, 6), 0);
		else
			cr_assert(sx_mac_is_zero(r->patterns[0].pairs[0].mac[0]), "odd %u", odd);
		sx_mine_result_free(r);
	}
}
