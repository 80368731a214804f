/*
 * test_mine_features.c - the hashed feature vectors of the default miner:
 * deterministic for a seed, seed-independent where it matters (norms,
 * cosines), signed hashing, family shares, the domain-aware name helpers,
 * and the similarity properties the design promises (jittered copies of
 * one exchange match; another service does not).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mine/mine_int.h"

TestSuite(mine_features, .timeout = 30);

static struct sx_mine_arena arena;
static struct sx_mine_fscratch *scratch;

static void setup(void)
{
	sx_mine__arena_init(&arena);
	cr_assert_eq(sx_mine__fscratch_new(&scratch), 0);
}

static void teardown(void)
{
	sx_mine__fscratch_free(scratch);
	sx_mine__arena_fini(&arena);
}

/* ---- the vector builder on token lists ---- */

static void build(const char *const *toks, const unsigned *fam, size_t n, uint64_t seed,
		  unsigned bits, struct sx_mine_vec *v)
{
	double w[64];
	size_t i;

	cr_assert(n <= 64);
	for (i = 0; i < n; i++)
		w[i] = 1.0;
	cr_assert_eq(sx_mine__vec_from_tokens(toks, fam, w, n, seed, bits, v, &arena), 0);
}

static const char *const toks_a[] = {
    "sp:443", "Sn:api.example.com", "A:tls.sni=api.example.com", "pc:10", "u:12", "b:12,-40"};
static const char *const toks_b[] = {
    "sp:443", "Sn:api.example.com", "A:tls.sni=api.example.com", "pc:11", "u:12", "b:12,-41"};
static const unsigned fam6[] = {SX_FAM_SERVICE, SX_FAM_SERVER, SX_FAM_APP,
				SX_FAM_VOLUME,	SX_FAM_SEQ,    SX_FAM_SEQ};

Test(mine_features, deterministic_for_a_seed, .init = setup, .fini = teardown)
{
	struct sx_mine_vec a1, a2;

	build(toks_a, fam6, 6, 42, 32, &a1);
	build(toks_a, fam6, 6, 42, 32, &a2);
	cr_assert_eq(a1.n, a2.n);
	cr_assert_eq(a1.norm2, a2.norm2);
	cr_assert_eq(memcmp(a1.idx, a2.idx, a1.n * sizeof(*a1.idx)), 0);
	cr_assert_eq(memcmp(a1.val, a2.val, a1.n * sizeof(*a1.val)), 0);
}

Test(mine_features, seed_moves_entries_but_not_norms_or_cosines, .init = setup, .fini = teardown)
{
	struct sx_mine_vec a0, b0, a1, b1;
	uint64_t seeds[] = {0, 1, 0xdeadbeefcafeull};
	double c0;
	size_t i;

	build(toks_a, fam6, 6, 0, 32, &a0);
	build(toks_b, fam6, 6, 0, 32, &b0);
	c0 = sx_mine__cosine(&a0, &b0);
	cr_assert(c0 > 0 && c0 < 1, "cosine %f", c0);
	for (i = 1; i < SX_ARRAY_SIZE(seeds); i++) {
		build(toks_a, fam6, 6, seeds[i], 32, &a1);
		build(toks_b, fam6, 6, seeds[i], 32, &b1);
		cr_assert_eq(a1.norm2, a0.norm2);
		cr_assert_eq(b1.norm2, b0.norm2);
		/* exact: integer dot products over the same values */
		cr_assert_eq(sx_mine__cosine(&a1, &b1), c0);
		cr_assert_neq(memcmp(a1.idx, a0.idx, a0.n * sizeof(*a0.idx)), 0);
	}
}

Test(mine_features, signed_hashing_into_a_small_space, .init = setup, .fini = teardown)
{
	char text[300][16];
	const char *toks[300];
	unsigned fam[300];
	double w[300];
	struct sx_mine_vec v;
	uint32_t i, neg = 0, pos = 0;

	for (i = 0; i < 300; i++) {
		snprintf(text[i], sizeof(text[i]), "t%u", i);
		toks[i] = text[i];
		fam[i] = SX_FAM_APP;
		w[i] = 1.0;
	}
	cr_assert_eq(sx_mine__vec_from_tokens(toks, fam, w, 300, 7, 8, &v, &arena), 0);
	/* 300 tokens in 256 dimensions: collisions merged, no duplicate index */
	cr_assert(v.n <= 256);
	for (i = 0; i < v.n; i++) {
		cr_assert(v.idx[i] < 256);
		if (i)
			cr_assert(v.idx[i] > v.idx[i - 1]);
		neg += v.val[i] < 0;
		pos += v.val[i] > 0;
	}
	cr_assert(neg > 50 && pos > 50, "signs: %u negative, %u positive", neg, pos);
}

Test(mine_features, family_shares_set_the_norms, .init = setup, .fini = teardown)
{
	const char *one[] = {"A:dns.q=A:x.example"};
	const char *two[] = {"A:dns.q=A:x.example", "t:17"};
	unsigned f1[] = {SX_FAM_APP}, f2[] = {SX_FAM_APP, SX_FAM_SERVICE};
	double scale2 = 16384.0 * 16384.0, share_sum = 0;
	struct sx_mine_vec v;
	unsigned i;

	for (i = 0; i < SX_FAM__COUNT; i++)
		share_sum += sx_mine__family_share[i];
	cr_assert(fabs(share_sum - 1.0) < 1e-9, "shares sum to %f", share_sum);
	build(one, f1, 1, 3, 32, &v);
	cr_assert(fabs((double)v.norm2 / scale2 - sx_mine__family_share[SX_FAM_APP]) < 1e-3);
	build(two, f2, 2, 3, 32, &v);
	cr_assert(fabs((double)v.norm2 / scale2 - sx_mine__family_share[SX_FAM_APP] -
		       sx_mine__family_share[SX_FAM_SERVICE]) < 1e-3);
}

Test(mine_features, cosine_bounds, .init = setup, .fini = teardown)
{
	const char *x[] = {"a", "b"}, *y[] = {"c", "d"};
	unsigned f[] = {SX_FAM_APP, SX_FAM_APP};
	struct sx_mine_vec a, b;

	build(x, f, 2, 1, 32, &a);
	build(y, f, 2, 1, 32, &b);
	cr_assert_eq(sx_mine__cosine(&a, &a), 1.0);
	cr_assert_eq(sx_mine__cosine(&a, &b), 0.0);
}

/* ---- names ---- */

Test(mine_features, registrable_domains)
{
	cr_assert_str_eq(sx_mine__reg_domain("use1-api.tplinkra.com"), "tplinkra.com");
	cr_assert_str_eq(sx_mine__reg_domain("a.b.co.uk"), "b.co.uk");
	cr_assert_str_eq(sx_mine__reg_domain("x.y.com.cn"), "y.com.cn");
	cr_assert_str_eq(sx_mine__reg_domain("x.y.io"), "y.io");
	cr_assert_str_eq(sx_mine__reg_domain("example.com"), "example.com");
	cr_assert_str_eq(sx_mine__reg_domain("localhost"), "localhost");
	cr_assert_str_eq(sx_mine__reg_domain(""), "");
	/* the Public Suffix List, both sections: rules a two-label guess gets
	 * wrong, and a shared platform's customers kept apart */
	cr_assert_str_eq(sx_mine__reg_domain("0.cn.pool.ntp.org"), "ntp.org");
	cr_assert_str_eq(sx_mine__reg_domain("a.b.c.kawasaki.jp"), "b.c.kawasaki.jp");
	cr_assert_str_eq(sx_mine__reg_domain("bucket.s3.amazonaws.com"), "bucket.s3.amazonaws.com");
	cr_assert_str_eq(sx_mine__reg_domain("d1234.cloudfront.net"), "d1234.cloudfront.net");
	cr_assert_str_eq(sx_mine__reg_domain("co.uk"), "co.uk", "a public suffix is its own");
}

Test(mine_features, registrable_domains_asked_again_point_into_the_name_given)
{
	char a[] = "use1-api.tplinkra.com", b[] = "use1-api.tplinkra.com";
	char longname[300];
	unsigned i;

	/* the second look-up comes from the per-thread cache: still a
	 * pointer into the name passed, as libpsl gives */
	cr_assert_eq(sx_mine__reg_domain(a), a + 9);
	cr_assert_eq(sx_mine__reg_domain(b), b + 9);
	cr_assert_eq(sx_mine__reg_domain(a), a + 9);
	cr_assert_eq(sx_mine__reg_domain("co.uk")[0], 'c');
	/* many names through the cache's slots, each asked twice */
	for (i = 0; i < 500; i++) {
		char n[64], want[64];

		snprintf(n, sizeof(n), "h%u.d%u.co.uk", i, i % 37);
		snprintf(want, sizeof(want), "d%u.co.uk", i % 37);
		cr_assert_str_eq(sx_mine__reg_domain(n), want);
		cr_assert_str_eq(sx_mine__reg_domain(n), want);
		cr_assert_str_eq(sx_mine__reg_domain("0.cn.pool.ntp.org"), "ntp.org");
	}
	/* longer than a cache slot */
	memset(longname, 'a', sizeof(longname));
	memcpy(longname + 200, ".example.com", 13);
	cr_assert_eq(sx_mine__reg_domain(longname), longname + 201);
	cr_assert_eq(sx_mine__reg_domain(longname), longname + 201);
}

Test(mine_features, shapes)
{
	char out[128];

	sx_mine__shape("0.openwrt.pool.ntp.org", out, sizeof(out));
	cr_assert_str_eq(out, "#.openwrt.pool.ntp.org");
	sx_mine__shape("s-usc1c-nss-117.firebaseio.com", out, sizeof(out));
	cr_assert_str_eq(out, "s-usc#c-nss-#.firebaseio.com");
	sx_mine__shape("GET:10.1.1.6/api/59df4532a5f9c15ff500b552b69bbc/lights", out, sizeof(out));
	cr_assert_str_eq(out, "GET:#.#.#.#/api/*/lights");
	sx_mine__shape("abc", out, 2);
	cr_assert_str_eq(out, "a");
}

Test(mine_features, common_label_suffixes)
{
	cr_assert_str_eq(sx_mine__common_suffix("time-a.nist.gov", "time-b.nist.gov"), "nist.gov");
	cr_assert_str_eq(sx_mine__common_suffix("nist.gov", "time.nist.gov"), "nist.gov");
	cr_assert_str_eq(sx_mine__common_suffix("ab.com", "b.com"), "com");
	cr_assert_str_eq(sx_mine__common_suffix("a.example", "a.example"), "a.example");
	cr_assert_str_eq(sx_mine__common_suffix("a.org", "b.net"), "");
}

static struct sx_addr addr(const char *s)
{
	struct sx_addr a;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, a.b) == 1)
		a.family = 4;
	else if (inet_pton(AF_INET6, s, a.b) == 1)
		a.family = 6;
	else
		cr_assert_fail("bad address %s", s);
	return a;
}

Test(mine_features, address_scopes)
{
	struct sx_addr a;

	a = addr("192.168.1.1");
	cr_assert_eq(sx_mine__addr_scope(&a), SX_MINE_SCOPE_PRIVATE);
	a = addr("100.64.0.1");
	cr_assert_eq(sx_mine__addr_scope(&a), SX_MINE_SCOPE_PRIVATE);
	a = addr("52.3.101.168");
	cr_assert_eq(sx_mine__addr_scope(&a), SX_MINE_SCOPE_PUBLIC);
	a = addr("224.0.0.251");
	cr_assert_eq(sx_mine__addr_scope(&a), SX_MINE_SCOPE_MULTICAST);
	a = addr("255.255.255.255");
	cr_assert_eq(sx_mine__addr_scope(&a), SX_MINE_SCOPE_BROADCAST);
	a = addr("0.0.0.0");
	cr_assert_eq(sx_mine__addr_scope(&a), SX_MINE_SCOPE_UNSPECIFIED);
	a = addr("169.254.3.4");
	cr_assert_eq(sx_mine__addr_scope(&a), SX_MINE_SCOPE_LINKLOCAL);
	a = addr("fe80::1");
	cr_assert_eq(sx_mine__addr_scope(&a), SX_MINE_SCOPE_LINKLOCAL);
	a = addr("fd00::1");
	cr_assert_eq(sx_mine__addr_scope(&a), SX_MINE_SCOPE_PRIVATE);
	a = addr("ff02::fb");
	cr_assert_eq(sx_mine__addr_scope(&a), SX_MINE_SCOPE_MULTICAST);
	a = addr("2001:db8::1");
	cr_assert_eq(sx_mine__addr_scope(&a), SX_MINE_SCOPE_PUBLIC);
	a = addr("52.3.101.168");
	cr_assert(!sx_mine__is_name("52.3.101.168", &a));
	cr_assert(sx_mine__is_name("use1-api.tplinkra.com", &a));
	cr_assert(!sx_mine__is_name("", &a));
}

/* ---- flows ---- */

struct flow_spec {
	uint8_t proto;
	const char *client;
	uint16_t cport;
	const char *server;
	const char *server_name; /* NULL: unnamed */
	uint16_t sport;
	const char *attrs;
	uint8_t top;
	uint64_t pkts[2], bytes[2];
	int32_t seq[8];
	uint8_t nseq;
	int64_t offset_ns;
};

static void make_flow(const struct flow_spec *s, struct sx_mine_flow *f)
{
	unsigned i;

	memset(f, 0, sizeof(*f));
	f->ip_proto = s->proto;
	f->family = 4;
	f->top_proto = s->top;
	f->has_ports = true;
	f->has_service = true;
	f->initiator = SX_MINE_CLIENT;
	f->ep[SX_MINE_CLIENT].addr = addr(s->client);
	f->ep[SX_MINE_CLIENT].port = s->cport;
	f->ep[SX_MINE_CLIENT].host = s->client;
	f->ep[SX_MINE_CLIENT].local = "";
	f->ep[SX_MINE_SERVER].addr = addr(s->server);
	f->ep[SX_MINE_SERVER].port = s->sport;
	f->ep[SX_MINE_SERVER].host = s->server_name ? s->server_name : s->server;
	f->ep[SX_MINE_SERVER].named = s->server_name != NULL;
	f->ep[SX_MINE_SERVER].local = "";
	for (i = 0; i < 2; i++) {
		f->pkts[i] = s->pkts[i];
		f->bytes[i] = s->bytes[i];
	}
	f->nseq = s->nseq;
	for (i = 0; i < s->nseq; i++)
		f->seq_len[i] = s->seq[i];
	f->spec = "";
	f->attrs = s->attrs;
	f->offset_ns = s->offset_ns;
	cr_assert_eq(sx_mine__flow_vector(f, 0, 32, scratch, &arena), 0);
}

static double sim(const struct flow_spec *a, const struct flow_spec *b)
{
	struct sx_mine_flow fa, fb;

	make_flow(a, &fa);
	make_flow(b, &fb);
	return sx_mine__cosine(&fa.vec, &fb.vec);
}

static const struct flow_spec tls1 = {6,
				      "192.168.1.135",
				      43234,
				      "52.3.101.168",
				      "use1-api.tplinkra.com",
				      443,
				      "tls.sni=use1-api.tplinkra.com",
				      SX_P_TLS,
				      {16, 12},
				      {2225, 7697},
				      {583, -1514, -1514, -1514, -1280, 192, -117, 589},
				      8,
				      11000000};

Test(mine_features, jittered_copies_of_one_exchange_match, .init = setup, .fini = teardown)
{
	struct flow_spec t2 = tls1, t3 = tls1;
	double tau = SX_MINE_THRESHOLD_DEFAULT;

	/* another ephemeral port, another address behind the name, a few bytes more */
	t2.cport = 56359;
	t2.server = "3.218.230.180";
	t2.pkts[1] = 11;
	t2.bytes[1] = 7632;
	t2.seq[7] = 590;
	t2.offset_ns = 67000000;
	t3.cport = 36827;
	t3.server = "34.237.54.215";
	t3.bytes[0] = 2226;
	t3.bytes[1] = 7254;
	t3.offset_ns = 44000000;
	cr_assert_geq(sim(&tls1, &t2), tau);
	cr_assert_geq(sim(&tls1, &t3), tau);
	cr_assert_geq(sim(&t2, &t3), tau);
	cr_assert_gt(sim(&tls1, &t2), 0.9, "%f", sim(&tls1, &t2));
}

Test(mine_features, a_new_ephemeral_port_changes_nothing, .init = setup, .fini = teardown)
{
	struct flow_spec t2 = tls1;

	t2.cport = 50001;
	cr_assert_eq(sim(&tls1, &t2), 1.0);
}

Test(mine_features, another_service_does_not_match, .init = setup, .fini = teardown)
{
	struct flow_spec other = tls1;
	double tau = SX_MINE_THRESHOLD_DEFAULT;

	other.server = "151.101.1.1";
	other.server_name = "cdn.other-vendor.net";
	other.attrs = "tls.sni=cdn.other-vendor.net";
	cr_assert_lt(sim(&tls1, &other), tau, "%f", sim(&tls1, &other));
	/* the same without the SNI (ClientHello not captured): still apart */
	other.attrs = "";
	{
		struct flow_spec t = tls1;

		t.attrs = "";
		cr_assert_lt(sim(&t, &other), tau, "%f", sim(&t, &other));
	}
}

Test(mine_features, dns_questions_for_different_names_do_not_match, .init = setup, .fini = teardown)
{
	struct flow_spec q1 = {
	    17,	      "10.0.0.7", 50000,    "10.0.0.1", NULL, 53,     "dns.q=A:cam.vendor.example",
	    SX_P_DNS, {1, 1},	  {86, 86}, {86, -86},	2,    5000000};
	struct flow_spec q2 = q1, q3 = q1;

	/* same lengths, same resolver, same everything but the name */
	q2.attrs = "dns.q=A:random-app.example";
	q2.cport = 61234;
	cr_assert_lt(sim(&q1, &q2), SX_MINE_THRESHOLD_DEFAULT, "%f", sim(&q1, &q2));
	/* the same question from another port matches */
	q3.cport = 40404;
	q3.offset_ns = 9000000;
	cr_assert_geq(sim(&q1, &q3), 0.95);
}

struct collected {
	char text[64][128];
	unsigned fam[64];
	unsigned n;
};

static void collect(void *arg, unsigned family, const char *tok, double weight)
{
	struct collected *c = arg;

	(void)weight;
	if (c->n < 64) {
		snprintf(c->text[c->n], sizeof(c->text[0]), "%s", tok);
		c->fam[c->n++] = family;
	}
}

static bool has(const struct collected *c, unsigned fam, const char *tok)
{
	unsigned i;

	for (i = 0; i < c->n; i++)
		if (c->fam[i] == fam && !strcmp(c->text[i], tok))
			return true;
	return false;
}

Test(mine_features, tokens_of_a_lookup, .init = setup, .fini = teardown)
{
	struct flow_spec q = {
	    17,	      "10.0.0.7", 50000,    "10.0.0.1", NULL, 53, "dns.q=A:cam.vendor.example",
	    SX_P_DNS, {1, 1},	  {86, 86}, {86, -86},	2,    0};
	struct sx_mine_flow f;
	struct collected c = {.n = 0};

	make_flow(&q, &f);
	sx_mine__flow_tokens(&f, collect, &c);
	cr_assert(has(&c, SX_FAM_SERVICE, "sp:53"));
	cr_assert(!has(&c, SX_FAM_SERVICE, "cp:50000"), "ephemeral ports are no tokens");
	cr_assert(has(&c, SX_FAM_APP, "A:dns.q=A:cam.vendor.example"));
	cr_assert(has(&c, SX_FAM_APP, "A:dns.q~d=A:vendor.example"));
	/* what a lookup is about is the name: it is the SERVER identity */
	cr_assert(has(&c, SX_FAM_SERVER, "Sn:cam.vendor.example"));
	cr_assert(has(&c, SX_FAM_SERVER, "Sa:10.0.0.1"));
	cr_assert(has(&c, SX_FAM_CLIENT, "Ca:10.0.0.7"));
	cr_assert(has(&c, SX_FAM_SEQ, "p0:10"));
}

/* Every token's text. */
struct texts {
	char text[96][256];
	unsigned n;
};

static void collect_all(void *arg, unsigned family, const char *tok, double weight)
{
	struct texts *c = arg;

	(void)family;
	(void)weight;
	if (c->n < 96)
		snprintf(c->text[c->n++], sizeof(c->text[0]), "%s", tok);
}

static bool has_text(const struct texts *c, const char *tok)
{
	unsigned i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->text[i], tok))
			return true;
	return false;
}

/* The tokens are formatted as vsnprintf would: negative numbers, the
 * two-digit hex of an IPv6 prefix, a precision. */
Test(mine_features, tokens_read_as_printf_writes_them, .init = setup, .fini = teardown)
{
	struct flow_spec t = {6,
			      "10.0.0.7",
			      50000,
			      "2001:db8:a0b::1",
			      NULL,
			      8080,
			      "http.req=GET:/api/v1",
			      SX_P_HTTP,
			      {3, 2},
			      {300, 900},
			      {100, -700, 5},
			      3,
			      0};
	struct sx_mine_flow f;
	struct texts *c = calloc(1, sizeof(*c));

	cr_assert_not_null(c);
	make_flow(&t, &f);
	sx_mine__flow_tokens(&f, collect_all, c);
	cr_assert(has_text(c, "Sa:2001:db8:a0b::1"));
	cr_assert(has_text(c, "Sp:2001:0db8:0a0b"), "the /48 in two-digit hex");
	cr_assert(has_text(c, "u:-36"), "a negative length (server to client)");
	cr_assert(has_text(c, "b:12,-36"));
	cr_assert(has_text(c, "g:12,-36,0"), "a trigram");
	cr_assert(has_text(c, "p0:12"));
	cr_assert(has_text(c, "pca:4") && has_text(c, "pcb:4"),
		  "the client's packets, log2(3 + 1) * 2");
	cr_assert(has_text(c, "oa:-3") && has_text(c, "ob:-3"), "negative time bins");
	cr_assert(has_text(c, "A:http.req=GET:/api/v1"));
	cr_assert(has_text(c, "A:http.req~m=GET"), "a precision");
	cr_assert(has_text(c, "t:6"));
	free(c);
}

Test(mine_features, tokens_of_a_flow_without_attributes, .init = setup, .fini = teardown)
{
	struct flow_spec t = tls1;
	struct sx_mine_flow f;
	struct collected c = {.n = 0};

	t.attrs = "";
	make_flow(&t, &f);
	sx_mine__flow_tokens(&f, collect, &c);
	/* the server's identity stands in for the application */
	cr_assert(has(&c, SX_FAM_APP, "Ahn:use1-api.tplinkra.com"));
	cr_assert(has(&c, SX_FAM_SERVER, "Sn:use1-api.tplinkra.com"));
	cr_assert(has(&c, SX_FAM_SERVER, "Sd:tplinkra.com"));
}

/* The firewall's reading of a split request (http.fw) is how the segments
 * fell on the wire: no token, and the same flow split or not is one flow. */
Test(mine_features, the_firewalls_reading_of_a_split_request_changes_nothing, .init = setup,
     .fini = teardown)
{
	struct flow_spec t2 = tls1, t3 = tls1;
	struct sx_mine_flow f;
	struct collected c = {.n = 0};

	t2.attrs = "tls.sni=use1-api.tplinkra.com http.fw=HEAD:";
	cr_assert_eq(sim(&tls1, &t2), 1.0);
	t3.attrs = "http.fw=CONNECT:Length:";
	make_flow(&t3, &f);
	sx_mine__flow_tokens(&f, collect, &c);
	/* as a flow without attributes: the server stands in for the application */
	cr_assert(has(&c, SX_FAM_APP, "Ahn:use1-api.tplinkra.com"));
}

static bool vec_same(const struct sx_mine_vec *a, const struct sx_mine_vec *b)
{
	return a->n == b->n && a->norm2 == b->norm2 &&
	       !memcmp(a->idx, b->idx, a->n * sizeof(*a->idx)) &&
	       !memcmp(a->val, b->val, a->n * sizeof(*a->val));
}

/* A flow's vector is the same whether its scratch has seen flows made of
 * the same inputs (and kept what it made of them) or none: every field a
 * token reads tells the flows apart, what no token reads (an ephemeral
 * port, a length or time in the same bin) does not. */
Test(mine_features, a_vector_taken_from_an_earlier_flow_is_its_own, .init = setup, .fini = teardown)
{
	struct flow_spec v[12];
	struct sx_mine_flow f[12];
	struct sx_mine_fscratch *fresh;
	struct sx_mine_vec own;
	unsigned i;

	for (i = 0; i < 12; i++)
		v[i] = tls1;
	v[1].cport = 50001;	     /* ephemeral: no token */
	v[2].pkts[1] = 13;	     /* another bin */
	v[3].cport = 68;	     /* a well-known port: a token */
	v[4].offset_ns = 9000000000; /* another time bin */
	v[5].server_name = NULL;     /* unnamed */
	v[6].seq[7] = 590;	     /* the same quantised length */
	v[7].nseq = 7;		     /* one length fewer */
	v[8].attrs = "tls.sni=use1-api.tplinkra.co";
	v[9].server = "52.3.101.169"; /* another address behind the name */
	v[10].top = SX_P_TCP;
	/* v[11]: tls1 again */
	for (i = 0; i < 12; i++) {
		make_flow(&v[i], &f[i]);
		cr_assert_eq(sx_mine__fscratch_new(&fresh), 0);
		cr_assert_eq(sx_mine__flow_vector(&f[i], 0, 32, fresh, &arena), 0);
		own = f[i].vec;
		sx_mine__fscratch_free(fresh);
		make_flow(&v[i], &f[i]);
		cr_assert(vec_same(&f[i].vec, &own), "flow %u", i);
	}
	cr_assert(vec_same(&f[0].vec, &f[1].vec));
	cr_assert(vec_same(&f[0].vec, &f[6].vec));
	cr_assert(vec_same(&f[0].vec, &f[11].vec));
	for (i = 2; i < 11; i++)
		if (i != 6)
			cr_assert(!vec_same(&f[0].vec, &f[i].vec), "flow %u", i);
	/* another seed over the same scratch */
	make_flow(&v[0], &f[1]);
	cr_assert_eq(sx_mine__flow_vector(&f[1], 7, 32, scratch, &arena), 0);
	cr_assert(!vec_same(&f[0].vec, &f[1].vec));
	cr_assert_eq(sx_mine__fscratch_new(&fresh), 0);
	cr_assert_eq(sx_mine__flow_vector(&f[0], 7, 32, fresh, &arena), 0);
	sx_mine__fscratch_free(fresh);
	cr_assert(vec_same(&f[0].vec, &f[1].vec));
}

/* Every token with its family and weight. */
struct weighted {
	char text[96][256];
	const char *tok[96];
	unsigned fam[96];
	double w[96];
	unsigned n;
};

static void collect_weighted(void *arg, unsigned family, const char *tok, double weight)
{
	struct weighted *c = arg;

	if (c->n < 96) {
		snprintf(c->text[c->n], sizeof(c->text[0]), "%s", tok);
		c->tok[c->n] = c->text[c->n];
		c->fam[c->n] = family;
		c->w[c->n++] = weight;
	}
}

/* The vector of a flow taken from an earlier flow's entries (all families
 * but TIME) and its own TIME entries is the one its tokens give, built in
 * one go. */
Test(mine_features, a_vector_summed_from_its_families_is_the_whole, .init = setup, .fini = teardown)
{
	struct flow_spec v[4];
	struct sx_mine_flow f;
	struct sx_mine_vec whole;
	struct weighted *c = calloc(1, sizeof(*c));
	unsigned i, pass;

	cr_assert_not_null(c);
	v[0] = tls1;
	v[1] = tls1;
	v[1].offset_ns = 900000000; /* another time bin: the rest from the memo */
	v[2] = tls1;
	v[2].offset_ns = 0;
	v[3] = tls1;
	v[3].attrs = "";
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < 4; i++) {
			make_flow(&v[i], &f);
			c->n = 0;
			sx_mine__flow_tokens(&f, collect_weighted, c);
			cr_assert_lt(c->n, 96);
			cr_assert_eq(sx_mine__vec_from_tokens(c->tok, c->fam, c->w, c->n, 0, 32,
							      &whole, &arena),
				     0);
			cr_assert(vec_same(&f.vec, &whole), "pass %u flow %u", pass, i);
		}
	}
	free(c);
}
