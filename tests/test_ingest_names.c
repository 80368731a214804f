/*
 * test_ingest_names.c - the run's table of names for addresses.
 *
 * Packets are built by hand (proto and the app.dns / app.tls / app.http
 * members set directly), so that these tests do not depend on the
 * dissectors.  They check what teaches a name (DNS answers mapped to the
 * name asked through a CNAME chain, SNI and HTTP Host for the server's
 * address, mDNS kept apart), the deterministic choice among several names
 * (source, then count, then the smallest name) independent of how learners
 * are merged, and the --names seed file.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "ingest/ingest.h"
#include "support/tmp.h"

static char *dir;

static void setup(void)
{
	dir = sx_tt_tmpdir();
	cr_assert_not_null(dir);
}

static void teardown(void)
{
	rmdir(dir); /* each test removes its own files */
	free(dir);
}

TestSuite(ingest_names, .init = setup, .fini = teardown, .timeout = 30);

static struct sx_addr addr(const char *text)
{
	struct sx_addr a;

	memset(&a, 0, sizeof(a));
	if (strchr(text, ':')) {
		a.family = 6;
		cr_assert_eq(inet_pton(AF_INET6, text, a.b), 1);
	} else {
		a.family = 4;
		cr_assert_eq(inet_pton(AF_INET, text, a.b), 1);
	}
	return a;
}

static struct sx_pkt *pkt_new(enum sx_proto proto, const char *src, const char *dst)
{
	struct sx_pkt *p = calloc(1, sizeof(*p));

	cr_assert_not_null(p);
	p->proto = (uint8_t)proto;
	p->src = addr(src);
	p->dst = addr(dst);
	p->ip_proto = 17;
	return p;
}

/* A DNS response from the resolver to the client. */
static struct sx_pkt *dns_response(enum sx_proto proto, const char *qname, uint16_t qtype)
{
	struct sx_pkt *p = pkt_new(proto, "192.168.1.1", "192.168.1.50");
	struct sx_dns *d = &p->app.dns;

	d->qr = true;
	d->flags = 0x8180;
	d->qdcount = 1;
	d->nq = qname ? 1 : 0;
	if (qname) {
		d->q[0].qtype = qtype;
		d->q[0].qclass = 1;
		snprintf(d->q[0].name, sizeof(d->q[0].name), "%s", qname);
	}
	return p;
}

static void add_rr(struct sx_pkt *p, uint8_t section, const char *owner, uint16_t type,
		   const char *data)
{
	struct sx_dns *d = &p->app.dns;
	struct sx_dns_rr *rr;

	cr_assert_lt(d->nrr, SX_DNS_MAX_RR);
	rr = &d->rr[d->nrr++];
	rr->section = section;
	rr->type = type;
	rr->ttl = 60;
	snprintf(rr->name, sizeof(rr->name), "%s", owner);
	snprintf(rr->data, sizeof(rr->data), "%s", data);
	if (type == 1 || type == 28)
		rr->addr = addr(data);
	if (section == SX_DNS_AN)
		d->ancount++;
}

static struct sx_pkt *sni_hello(const char *client, const char *server, const char *sni)
{
	struct sx_pkt *p = pkt_new(SX_P_TLS, client, server);

	p->ip_proto = 6;
	p->app.tls.nrecords = 1;
	p->app.tls.content_type[0] = 22;
	p->app.tls.hs_type = 1;
	snprintf(p->app.tls.sni, sizeof(p->app.tls.sni), "%s", sni);
	return p;
}

static struct sx_pkt *http_request(const char *client, const char *server, const char *host)
{
	struct sx_pkt *p = pkt_new(SX_P_HTTP, client, server);

	p->ip_proto = 6;
	snprintf(p->app.http.method, sizeof(p->app.http.method), "GET");
	snprintf(p->app.http.host, sizeof(p->app.http.host), "%s", host);
	snprintf(p->app.http.path, sizeof(p->app.http.path), "/");
	return p;
}

/* Learn the packets into one learner, merge, finish. */
static struct sx_names *table_of(struct sx_pkt **pkts, size_t n)
{
	struct sx_names *t;
	struct sx_names_learner *l;
	size_t i;

	cr_assert_eq(sx_names_new(&t), 0);
	cr_assert_eq(sx_names_learner_new(&l), 0);
	for (i = 0; i < n; i++)
		sx_names_learn(l, pkts[i]);
	cr_assert_eq(sx_names_merge(t, l), 0);
	sx_names_learner_free(l);
	sx_names_finish(t);
	return t;
}

static void free_pkts(struct sx_pkt **pkts, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(pkts[i]);
}

static void assert_name(const struct sx_names *t, const char *ip, const char *want)
{
	struct sx_addr a = addr(ip);
	const char *got = sx_names_lookup(t, &a);

	if (!want) {
		cr_assert_null(got, "%s: expected no name, got %s", ip, got);
		return;
	}
	cr_assert_not_null(got, "%s: expected %s, got none", ip, want);
	cr_assert_str_eq(got, want, "%s", ip);
}

static void assert_local(const struct sx_names *t, const char *ip, const char *want)
{
	struct sx_addr a = addr(ip);
	const char *got = sx_names_lookup_local(t, &a);

	if (!want) {
		cr_assert_null(got, "%s: expected no local name, got %s", ip, got);
		return;
	}
	cr_assert_not_null(got, "%s: expected local %s, got none", ip, want);
	cr_assert_str_eq(got, want, "%s", ip);
}

/* ---- what teaches a name ---- */

Test(ingest_names, dns_answer_through_cname_chain_maps_to_question)
{
	struct sx_pkt *p = dns_response(SX_P_DNS, "www.Example.com", 1);
	struct sx_names *t;

	add_rr(p, SX_DNS_AN, "www.example.com", 5, "www.example.com.cdn.net");
	add_rr(p, SX_DNS_AN, "www.example.com.cdn.net", 5, "e1234.a.akamaiedge.net");
	add_rr(p, SX_DNS_AN, "e1234.a.akamaiedge.net", 1, "93.184.216.34");
	add_rr(p, SX_DNS_AN, "e1234.a.akamaiedge.net", 1, "93.184.216.35");
	t = table_of(&p, 1);
	/* The name asked, lower-cased; never the canonical name. */
	assert_name(t, "93.184.216.34", "www.example.com");
	assert_name(t, "93.184.216.35", "www.example.com");
	assert_local(t, "93.184.216.34", NULL);
	assert_name(t, "192.168.1.1", NULL);
	assert_name(t, "192.168.1.50", NULL);
	sx_names_free(t);
	free(p);
}

Test(ingest_names, dns_chain_listed_out_of_order_and_aaaa)
{
	struct sx_pkt *p = dns_response(SX_P_DNS, "api.device.io", 28);
	struct sx_names *t;

	add_rr(p, SX_DNS_AN, "edge.cdn.io", 28, "2001:db8::7");
	add_rr(p, SX_DNS_AN, "lb.device.io", 5, "edge.cdn.io");
	add_rr(p, SX_DNS_AN, "api.device.io", 5, "lb.device.io");
	t = table_of(&p, 1);
	assert_name(t, "2001:db8::7", "api.device.io");
	sx_names_free(t);
	free(p);
}

Test(ingest_names, dns_without_question_uses_head_of_chain)
{
	struct sx_pkt *p = dns_response(SX_P_DNS, NULL, 0);
	struct sx_names *t;

	add_rr(p, SX_DNS_AN, "alias.example", 5, "target.example");
	add_rr(p, SX_DNS_AN, "target.example", 1, "198.51.100.9");
	t = table_of(&p, 1);
	assert_name(t, "198.51.100.9", "alias.example");
	sx_names_free(t);
	free(p);
}

Test(ingest_names, dns_cname_loop_terminates)
{
	struct sx_pkt *p = dns_response(SX_P_DNS, "q.example", 1);
	struct sx_names *t;

	add_rr(p, SX_DNS_AN, "a.example", 5, "b.example");
	add_rr(p, SX_DNS_AN, "b.example", 5, "a.example");
	add_rr(p, SX_DNS_AN, "a.example", 1, "198.51.100.10");
	t = table_of(&p, 1);
	/* Not reachable from the question: some name of the loop, no hang. */
	cr_assert_null(sx_names_lookup(t, &(struct sx_addr){0}));
	{
		struct sx_addr a = addr("198.51.100.10");
		const char *n = sx_names_lookup(t, &a);

		cr_assert_not_null(n);
		cr_assert(strcmp(n, "a.example") == 0 || strcmp(n, "b.example") == 0, "%s", n);
	}
	sx_names_free(t);
	free(p);
}

Test(ingest_names, dns_what_does_not_teach)
{
	struct sx_pkt *q = dns_response(SX_P_DNS, "query.example", 1);
	struct sx_pkt *nx = dns_response(SX_P_DNS, "nx.example", 1);
	struct sx_pkt *ar = dns_response(SX_P_DNS, "ar.example", 1);
	struct sx_pkt *ll = dns_response(SX_P_LLMNR, "llmnr-host", 1);
	struct sx_pkt *pkts[4];
	struct sx_names *t;

	/* A query (qr = 0) carrying an answer-shaped record. */
	q->app.dns.qr = false;
	add_rr(q, SX_DNS_AN, "query.example", 1, "203.0.113.1");
	/* NXDOMAIN with an answer. */
	nx->app.dns.rcode = 3;
	add_rr(nx, SX_DNS_AN, "nx.example", 1, "203.0.113.2");
	/* An address in the additional section only. */
	add_rr(ar, SX_DNS_AR, "ns.ar.example", 1, "203.0.113.3");
	/* LLMNR answers are not cloud names. */
	add_rr(ll, SX_DNS_AN, "llmnr-host", 1, "192.168.1.77");
	pkts[0] = q, pkts[1] = nx, pkts[2] = ar, pkts[3] = ll;
	t = table_of(pkts, 4);
	assert_name(t, "203.0.113.1", NULL);
	assert_name(t, "203.0.113.2", NULL);
	assert_name(t, "203.0.113.3", NULL);
	assert_name(t, "192.168.1.77", NULL);
	sx_names_free(t);
	free_pkts(pkts, 4);
}

Test(ingest_names, mdns_answers_are_local_only)
{
	struct sx_pkt *m = dns_response(SX_P_MDNS, NULL, 0);
	struct sx_pkt *d = dns_response(SX_P_DNS, "printer.example.com", 1);
	struct sx_pkt *pkts[2];
	struct sx_names *t;

	m->src = addr("192.168.1.20");
	m->dst = addr("224.0.0.251");
	add_rr(m, SX_DNS_AN, "Printer.local", 1, "192.168.1.20");
	add_rr(m, SX_DNS_AR, "hub.local", 28, "fe80::1234");
	add_rr(m, SX_DNS_AN, "camera.local", 1, "192.168.1.30");
	add_rr(d, SX_DNS_AN, "printer.example.com", 1, "192.168.1.30");
	pkts[0] = m, pkts[1] = d;
	t = table_of(pkts, 2);
	assert_name(t, "192.168.1.20", NULL);
	assert_local(t, "192.168.1.20", "printer.local");
	assert_local(t, "fe80::1234", "hub.local");
	/* A cloud name and a local name for one address live side by side. */
	assert_name(t, "192.168.1.30", "printer.example.com");
	assert_local(t, "192.168.1.30", "camera.local");
	sx_names_free(t);
	free_pkts(pkts, 2);
}

Test(ingest_names, sni_maps_the_server_address)
{
	struct sx_pkt *h = sni_hello("192.168.1.50", "52.1.2.3", "use1-api.tplinkra.com");
	struct sx_pkt *sh = sni_hello("52.1.2.4", "192.168.1.50", "server-hello.example");
	struct sx_pkt *pkts[2];
	struct sx_names *t;

	sh->app.tls.hs_type = 2; /* ServerHello: teaches nothing */
	pkts[0] = h, pkts[1] = sh;
	t = table_of(pkts, 2);
	assert_name(t, "52.1.2.3", "use1-api.tplinkra.com");
	assert_name(t, "192.168.1.50", NULL);
	assert_name(t, "52.1.2.4", NULL);
	sx_names_free(t);
	free_pkts(pkts, 2);
}

Test(ingest_names, http_host_maps_the_server_address_without_port)
{
	struct sx_pkt *pkts[5];
	struct sx_names *t;

	pkts[0] = http_request("192.168.1.50", "198.51.100.80", "cam.example.net:8080");
	pkts[1] = http_request("192.168.1.50", "198.51.100.81", "plain.example.net");
	pkts[2] = http_request("192.168.1.50", "198.51.100.82", "198.51.100.82:80");
	pkts[3] = http_request("192.168.1.50", "2001:db8::80", "[2001:db8::80]:8080");
	pkts[4] = http_request("198.51.100.83", "192.168.1.50", "reply.example");
	pkts[4]->app.http.response = true;
	pkts[4]->app.http.status = 200;
	t = table_of(pkts, 5);
	assert_name(t, "198.51.100.80", "cam.example.net");
	assert_name(t, "198.51.100.81", "plain.example.net");
	assert_name(t, "198.51.100.82", NULL); /* an address literal is not a name */
	assert_name(t, "2001:db8::80", NULL);
	assert_name(t, "198.51.100.83", NULL); /* responses teach nothing */
	assert_name(t, "192.168.1.50", NULL);
	sx_names_free(t);
	free_pkts(pkts, 5);
}

/* ---- choosing among several names ---- */

Test(ingest_names, source_priority_dns_over_sni_over_http)
{
	struct sx_pkt *pkts[7];
	struct sx_names *t;
	int i;

	/* 10.0.0.1: HTTP three times, SNI twice, DNS once: DNS wins. */
	pkts[0] = http_request("192.168.1.50", "10.0.0.1", "http.example");
	pkts[1] = sni_hello("192.168.1.50", "10.0.0.1", "sni.example");
	pkts[2] = dns_response(SX_P_DNS, "dns.example", 1);
	add_rr(pkts[2], SX_DNS_AN, "dns.example", 1, "10.0.0.1");
	/* 10.0.0.2: HTTP and SNI: SNI wins. */
	pkts[3] = http_request("192.168.1.50", "10.0.0.2", "aaa-http.example");
	pkts[4] = sni_hello("192.168.1.50", "10.0.0.2", "zzz-sni.example");
	/* 10.0.0.3: HTTP only. */
	pkts[5] = http_request("192.168.1.50", "10.0.0.3", "only-http.example");
	pkts[6] = sni_hello("192.168.1.50", "10.0.0.1", "sni.example");
	{
		struct sx_names_learner *l;

		cr_assert_eq(sx_names_new(&t), 0);
		cr_assert_eq(sx_names_learner_new(&l), 0);
		for (i = 0; i < 3; i++)
			sx_names_learn(l, pkts[0]);
		for (i = 0; i < 7; i++)
			sx_names_learn(l, pkts[i]);
		cr_assert_eq(sx_names_merge(t, l), 0);
		sx_names_learner_free(l);
		sx_names_finish(t);
	}
	assert_name(t, "10.0.0.1", "dns.example");
	assert_name(t, "10.0.0.2", "zzz-sni.example");
	assert_name(t, "10.0.0.3", "only-http.example");
	sx_names_free(t);
	free_pkts(pkts, 7);
}

Test(ingest_names, within_a_source_count_then_smallest_name)
{
	struct sx_pkt *a = dns_response(SX_P_DNS, "b-often.example", 1);
	struct sx_pkt *b = dns_response(SX_P_DNS, "a-rare.example", 1);
	struct sx_pkt *c = dns_response(SX_P_DNS, "zeta.example", 1);
	struct sx_pkt *d = dns_response(SX_P_DNS, "alpha.example", 1);
	struct sx_names_learner *l;
	struct sx_names *t;

	add_rr(a, SX_DNS_AN, "b-often.example", 1, "10.1.0.1");
	add_rr(b, SX_DNS_AN, "a-rare.example", 1, "10.1.0.1");
	add_rr(c, SX_DNS_AN, "zeta.example", 1, "10.1.0.2");
	add_rr(d, SX_DNS_AN, "alpha.example", 1, "10.1.0.2");
	cr_assert_eq(sx_names_new(&t), 0);
	cr_assert_eq(sx_names_learner_new(&l), 0);
	sx_names_learn(l, b);
	sx_names_learn(l, a);
	sx_names_learn(l, a);
	sx_names_learn(l, c); /* a tie: the smallest name wins */
	sx_names_learn(l, d);
	cr_assert_eq(sx_names_merge(t, l), 0);
	sx_names_learner_free(l);
	sx_names_finish(t);
	assert_name(t, "10.1.0.1", "b-often.example");
	assert_name(t, "10.1.0.2", "alpha.example");
	sx_names_free(t);
	free(a), free(b), free(c), free(d);
}

/* The facts of a learner, with their counts, as sx_names_save() writes
 * them (malloc'd). */
static char *saved(const struct sx_names_learner *l)
{
	struct sx_names *t;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	cr_assert_eq(sx_names_new(&t), 0);
	cr_assert_eq(sx_names_merge(t, l), 0);
	sx_names_finish(t);
	f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	cr_assert_eq(sx_names_save(t, f), 0);
	fclose(f);
	sx_names_free(t);
	return text;
}

/*
 * A message the decoding memo numbered (pkt->app_id) is counted again from
 * the learner's memo of it: the same counts as learning it anew, across the
 * learner's growth and another message in its memo slot, for a message of
 * more answers than the memo keeps and for one that gives a fact twice.
 */
Test(ingest_names, a_numbered_message_counts_as_learnt_anew)
{
	struct sx_pkt *one = dns_response(SX_P_DNS, "one.example", 1);
	struct sx_pkt *twice = dns_response(SX_P_MDNS, NULL, 1);
	struct sx_pkt *many = dns_response(SX_P_DNS, "many.example", 1);
	struct sx_pkt *other = dns_response(SX_P_DNS, "x.example", 1);
	struct sx_pkt *rival = dns_response(SX_P_DNS, "rival.example", 1);
	struct sx_names_learner *numbered, *plain;
	char *a, *b;
	int i, k;

	add_rr(one, SX_DNS_AN, "one.example", 1, "10.2.0.1");
	add_rr(rival, SX_DNS_AN, "rival.example", 1, "10.2.0.2");
	add_rr(twice, SX_DNS_AN, "cam.local", 1, "192.168.1.9");
	add_rr(twice, SX_DNS_AN, "cam.local", 1, "192.168.1.9");
	for (i = 0; i < 12; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "10.3.0.%d", i);
		add_rr(many, SX_DNS_AN, "many.example", 1, ip);
	}
	cr_assert_eq(sx_names_learner_new(&numbered), 0);
	cr_assert_eq(sx_names_learner_new(&plain), 0);
	for (k = 0; k < 4; k++) {
		/* the messages, then enough others that the learner grows */
		for (i = 0; i < 3; i++) {
			one->app_id = 7;
			twice->app_id = 9;
			many->app_id = 8;
			/* in one round, a message of the memo slot of "one" (23
			 * modulo 16 is 7) between its copies */
			rival->app_id = k == 2 ? 23 : 0;
			sx_names_learn(numbered, one);
			sx_names_learn(numbered, rival);
			sx_names_learn(numbered, twice);
			sx_names_learn(numbered, many);
			one->app_id = twice->app_id = many->app_id = rival->app_id = 0;
			sx_names_learn(plain, one);
			sx_names_learn(plain, rival);
			sx_names_learn(plain, twice);
			sx_names_learn(plain, many);
		}
		for (i = 0; i < 700; i++) {
			char name[64], ip[32];

			snprintf(name, sizeof(name), "h%d-%d.example", k, i);
			snprintf(ip, sizeof(ip), "10.%d.%d.%d", 10 + k, i >> 8, i & 255);
			other->app.dns.nrr = 0;
			snprintf(other->app.dns.q[0].name, SX_NAME_MAX, "%s", name);
			add_rr(other, SX_DNS_AN, name, 1, ip);
			sx_names_learn(numbered, other);
			sx_names_learn(plain, other);
		}
	}
	a = saved(numbered);
	b = saved(plain);
	cr_assert_str_eq(a, b);
	cr_assert_not_null(strstr(a, "one.example"));
	free(a);
	free(b);
	sx_names_learner_free(numbered);
	sx_names_learner_free(plain);
	free(one), free(twice), free(many), free(other), free(rival);
}

/*
 * Three learners (as three reader threads would have) merged in every
 * order give the same table; counts of the same fact from different
 * learners add up.
 */
Test(ingest_names, independent_of_merge_order)
{
	static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
					 {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
	static const char *const probes[] = {"10.2.0.1", "10.2.0.2",	"10.2.0.3",
					     "10.2.0.4", "2001:db8::5", "192.168.1.9"};
	struct sx_pkt *zeta = dns_response(SX_P_DNS, "zeta.example", 1);
	struct sx_pkt *alpha = dns_response(SX_P_DNS, "alpha.example", 1);
	struct sx_pkt *six = dns_response(SX_P_DNS, "six.example", 28);
	struct sx_pkt *sni = sni_hello("192.168.1.50", "10.2.0.3", "tls.example");
	struct sx_pkt *host = http_request("192.168.1.50", "10.2.0.3", "http.example");
	struct sx_pkt *mdns = dns_response(SX_P_MDNS, NULL, 0);
	struct sx_pkt *mdns2 = dns_response(SX_P_MDNS, NULL, 0);
	struct sx_names_learner *l[3];
	const char *first[6][2];
	char saved[6][2][SX_NAME_MAX];
	int o, i, k;

	add_rr(zeta, SX_DNS_AN, "zeta.example", 1, "10.2.0.1");
	add_rr(alpha, SX_DNS_AN, "alpha.example", 1, "10.2.0.1");
	add_rr(six, SX_DNS_AN, "six.example", 28, "2001:db8::5");
	add_rr(mdns, SX_DNS_AN, "zz.local", 1, "192.168.1.9");
	add_rr(mdns2, SX_DNS_AN, "aa.local", 1, "192.168.1.9");

	for (o = 0; o < 6; o++) {
		struct sx_names *t;

		for (i = 0; i < 3; i++)
			cr_assert_eq(sx_names_learner_new(&l[i]), 0);
		/* zeta: 3 in learner 0; alpha: 2 + 2 in learners 1 and 2 (4 in all). */
		for (k = 0; k < 3; k++)
			sx_names_learn(l[0], zeta);
		for (k = 0; k < 2; k++) {
			sx_names_learn(l[1], alpha);
			sx_names_learn(l[2], alpha);
		}
		sx_names_learn(l[2], six);
		sx_names_learn(l[0], host);
		sx_names_learn(l[1], sni);
		sx_names_learn(l[1], mdns);
		sx_names_learn(l[2], mdns2);
		cr_assert_eq(sx_names_new(&t), 0);
		for (i = 0; i < 3; i++)
			cr_assert_eq(sx_names_merge(t, l[orders[o][i]]), 0);
		for (i = 0; i < 3; i++)
			sx_names_learner_free(l[i]);
		sx_names_finish(t);

		assert_name(t, "10.2.0.1", "alpha.example"); /* 4 > 3: the sums count */
		assert_name(t, "10.2.0.3", "tls.example");
		assert_name(t, "2001:db8::5", "six.example");
		assert_local(t, "192.168.1.9", "aa.local");
		for (i = 0; i < 6; i++) {
			struct sx_addr a = addr(probes[i]);
			const char *n = sx_names_lookup(t, &a);
			const char *nl = sx_names_lookup_local(t, &a);

			if (o == 0) {
				snprintf(saved[i][0], SX_NAME_MAX, "%s", n ? n : "(none)");
				snprintf(saved[i][1], SX_NAME_MAX, "%s", nl ? nl : "(none)");
				first[i][0] = saved[i][0];
				first[i][1] = saved[i][1];
			} else {
				cr_assert_str_eq(n ? n : "(none)", first[i][0], "order %d, %s", o,
						 probes[i]);
				cr_assert_str_eq(nl ? nl : "(none)", first[i][1], "order %d, %s", o,
						 probes[i]);
			}
		}
		sx_names_free(t);
	}
	free(zeta), free(alpha), free(six), free(sni), free(host), free(mdns), free(mdns2);
}

Test(ingest_names, many_names_grow_the_learner)
{
	struct sx_pkt *p = dns_response(SX_P_DNS, "x.example", 1);
	struct sx_names_learner *l;
	struct sx_names *t;
	int i, pass;

	cr_assert_eq(sx_names_learner_new(&l), 0);
	for (i = 0; i < 5000; i++) {
		char name[64], ip[32];

		snprintf(name, sizeof(name), "host%d.example", i);
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		p->app.dns.nrr = 0;
		snprintf(p->app.dns.q[0].name, SX_NAME_MAX, "%s", name);
		add_rr(p, SX_DNS_AN, name, 1, ip);
		sx_names_learn(l, p);
	}
	cr_assert_eq(sx_names_new(&t), 0);
	cr_assert_eq(sx_names_merge(t, l), 0);
	sx_names_learner_free(l);
	sx_names_finish(t);
	/* every one through the table's index, and misses; a second finish
	 * builds it anew */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < 5000; i++) {
			char name[64], ip[32];

			snprintf(name, sizeof(name), "host%d.example", i);
			snprintf(ip, sizeof(ip), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
			assert_name(t, ip, name);
		}
		assert_name(t, "10.0.100.0", NULL);
		assert_name(t, "11.0.0.0", NULL);
		sx_names_finish(t);
	}
	sx_names_free(t);
	free(p);
}

Test(ingest_names, lookup_edge_cases)
{
	struct sx_names *t;
	struct sx_addr none = {0};
	struct sx_addr a = addr("192.0.2.1");

	cr_assert_null(sx_names_lookup(NULL, &a));
	cr_assert_null(sx_names_lookup_local(NULL, &a));
	cr_assert_eq(sx_names_new(&t), 0);
	sx_names_finish(t);
	cr_assert_null(sx_names_lookup(t, &a));
	cr_assert_null(sx_names_lookup(t, &none));
	sx_names_free(t);
	sx_names_free(NULL);
	sx_names_learner_free(NULL);
}

/* ---- the --names seed file ---- */

static char *seed_file(const char *text)
{
	char *p = sx_tt_path(dir, "names.txt");

	cr_assert_eq(sx_tt_write(p, text, strlen(text)), 0);
	return p;
}

Test(ingest_names, seed_file_always_wins)
{
	char *p = seed_file("# names for the lab\n"
			    "\n"
			    "10.3.0.1   Gateway.Lab.\n"
			    "10.3.0.2\tplug.lab   # trailing comment\n"
			    "  2001:db8::3 hub.lab\r\n"
			    "10.3.0.4 bare"); /* no final newline */
	struct sx_pkt *d = dns_response(SX_P_DNS, "cloud.example", 1);
	struct sx_names_learner *l;
	struct sx_names *t;
	char msg[256] = "";
	int i;

	add_rr(d, SX_DNS_AN, "cloud.example", 1, "10.3.0.1");
	cr_assert_eq(sx_names_new(&t), 0);
	cr_assert_eq(sx_names_load(t, p, msg, sizeof(msg)), 0, "msg: %s", msg);
	cr_assert_eq(sx_names_learner_new(&l), 0);
	for (i = 0; i < 10; i++)
		sx_names_learn(l, d);
	cr_assert_eq(sx_names_merge(t, l), 0);
	sx_names_learner_free(l);
	sx_names_finish(t);
	assert_name(t, "10.3.0.1", "gateway.lab"); /* seed beats 10 DNS answers */
	assert_name(t, "10.3.0.2", "plug.lab");
	assert_name(t, "2001:db8::3", "hub.lab");
	assert_name(t, "10.3.0.4", "bare");
	sx_names_free(t);
	unlink(p);
	free(p);
	free(d);
}

static void assert_seed_rejected(const char *text, unsigned line)
{
	char *p = seed_file(text);
	struct sx_names *t;
	char msg[512] = "";
	char want[600];
	int rc;

	cr_assert_eq(sx_names_new(&t), 0);
	rc = sx_names_load(t, p, msg, sizeof(msg));
	cr_assert_eq(rc, SX_E_FORMAT, "text \"%s\": rc %d", text, rc);
	snprintf(want, sizeof(want), "%s:%u:", p, line);
	cr_assert_not_null(strstr(msg, want), "message \"%s\" does not name line %u", msg, line);
	cr_assert_null(strchr(msg, '\n'));
	sx_names_free(t);
	unlink(p);
	free(p);
}

Test(ingest_names, seed_file_malformed_lines_are_rejected)
{
	char longline[2100];

	assert_seed_rejected("10.0.0.1 ok\n10.0.0.2\n", 2);	  /* no name */
	assert_seed_rejected("# c\nnot-an-ip name\n", 2);	  /* bad address */
	assert_seed_rejected("10.0.0.1 a\n\n\n300.1.1.1 b\n", 4); /* octet out of range */
	assert_seed_rejected("fe80::zz name\n", 1);
	memset(longline, 'a', sizeof(longline));
	memcpy(longline, "10.0.0.1 ", 9);
	longline[sizeof(longline) - 2] = '\n';
	longline[sizeof(longline) - 1] = '\0';
	{
		char text[2200];

		snprintf(text, sizeof(text), "10.0.0.9 fine\n%s", longline);
		assert_seed_rejected(text, 2); /* too long */
	}
}

Test(ingest_names, seed_file_missing)
{
	struct sx_names *t;
	char msg[256] = "";

	cr_assert_eq(sx_names_new(&t), 0);
	cr_assert_lt(sx_names_load(t, "/nonexistent/names.txt", msg, sizeof(msg)), 0);
	cr_assert_not_null(strstr(msg, "/nonexistent/names.txt"), "msg: %s", msg);
	sx_names_free(t);
}

Test(ingest_names, seed_names_are_escaped)
{
	char *p = seed_file("10.4.0.1 we\\ird\x01name\n");
	struct sx_names *t;
	struct sx_addr a = addr("10.4.0.1");
	char msg[256] = "";
	const char *n, *c;

	cr_assert_eq(sx_names_new(&t), 0);
	cr_assert_eq(sx_names_load(t, p, msg, sizeof(msg)), 0, "msg: %s", msg);
	sx_names_finish(t);
	n = sx_names_lookup(t, &a);
	cr_assert_not_null(n);
	for (c = n; *c; c++)
		cr_assert(*c >= 0x20 && *c <= 0x7e, "unprintable byte in \"%s\"", n);
	cr_assert_str_eq(n, "we\\\\ird\\x01name");
	sx_names_free(t);
	unlink(p);
	free(p);
}

/* Save the names a learner fed into a fresh table (one run), then the
 * tables of two runs saved and loaded into one: their counts add up, so the
 * merged table picks what one run over both picks (the map/reduce of
 * `sigex flows --names-out` and `sigex mine --names-from`). */
static char *saved_table(const char *name, struct sx_pkt **pkts, size_t n)
{
	struct sx_names *t = table_of(pkts, n);
	char *path = sx_tt_path(dir, name);
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	cr_assert_eq(sx_names_save(t, f), 0);
	cr_assert_eq(fclose(f), 0);
	sx_names_free(t);
	return path;
}

Test(ingest_names, saved_tables_merge_as_one_run)
{
	struct sx_pkt *p[6];
	struct sx_names *one, *merged;
	char *a, *b, msg[256];

	/* run a: 10.3.0.1 twice as x-one, once as y-two; run b: y-two twice:
	 * over both, y-two (3) beats x-one (2), which each run alone would
	 * not say the same of */
	p[0] = dns_response(SX_P_DNS, "x-one.example", 1);
	add_rr(p[0], SX_DNS_AN, "x-one.example", 1, "10.3.0.1");
	p[1] = dns_response(SX_P_DNS, "x-one.example", 1);
	add_rr(p[1], SX_DNS_AN, "x-one.example", 1, "10.3.0.1");
	p[2] = dns_response(SX_P_DNS, "y-two.example", 1);
	add_rr(p[2], SX_DNS_AN, "y-two.example", 1, "10.3.0.1");
	p[3] = dns_response(SX_P_DNS, "y-two.example", 1);
	add_rr(p[3], SX_DNS_AN, "y-two.example", 1, "10.3.0.1");
	p[4] = dns_response(SX_P_DNS, "y-two.example", 1);
	add_rr(p[4], SX_DNS_AN, "y-two.example", 1, "10.3.0.1");
	p[5] = dns_response(SX_P_MDNS, "cam.local", 1);
	add_rr(p[5], SX_DNS_AN, "cam.local", 1, "2001:db8::7");
	a = saved_table("a.names", p, 3);
	b = saved_table("b.names", p + 3, 3);
	one = table_of(p, 6);
	assert_name(one, "10.3.0.1", "y-two.example");

	cr_assert_eq(sx_names_new(&merged), 0);
	cr_assert_eq(sx_names_load_saved(merged, a, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(sx_names_load_saved(merged, b, msg, sizeof(msg)), 0, "%s", msg);
	sx_names_finish(merged);
	assert_name(merged, "10.3.0.1", "y-two.example");
	assert_local(merged, "2001:db8::7", "cam.local");
	sx_names_free(merged);
	sx_names_free(one);

	/* not a names file: refused, naming the line */
	cr_assert_eq(sx_tt_write(b, "sigex-names 1\n10.0.0.1 9 1 x\n", 29), 0);
	cr_assert_eq(sx_names_new(&merged), 0);
	cr_assert_eq(sx_names_load_saved(merged, b, msg, sizeof(msg)), SX_E_FORMAT);
	cr_assert(strstr(msg, ":2: expected"), "%s", msg);
	cr_assert_eq(sx_tt_write(b, "10.0.0.1 example\n", 17), 0);
	cr_assert_eq(sx_names_load_saved(merged, b, msg, sizeof(msg)), SX_E_FORMAT);
	cr_assert(strstr(msg, "not a names file"), "%s", msg);
	sx_names_free(merged);
	unlink(a);
	unlink(b);
	free(a);
	free(b);
	free_pkts(p, 6);
}
