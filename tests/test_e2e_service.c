/*
 * test_e2e_service.c - one service, one pattern, from hand-made captures
 * through the main job:
 *   - a TLS service reached as a new session (with its ClientHello) in six
 *     occurrences of ten and as a session already open in the other four
 *     (no handshake, other sizes) is one pattern in all ten, at the default
 *     support 0.9, where each shape alone is below it;
 *   - a DNS pattern whose ten lookups ask ntp1..4.aliyun.com, one of them
 *     also time3.google.com, keeps its names: the policy allows $.aliyun.com
 *     (and the stray name if that flow joins the pattern), never a DNS
 *     policy without a domain-name.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/frames.h"
#include "support/pkt.h"
#include "support/tmp.h"

#define DEV   "192.168.1.50"
#define GW    "192.168.1.1"
#define CLOUD "203.0.113.10"
#define NOCC  10
#define NEW   6 /* occurrences with a new TLS session; the others continue one */

static char *dir;

static void setup(void)
{
	dir = sx_tt_tmpdir();
	cr_assert_not_null(dir);
}

static void teardown(void)
{
	sx_tt_rm_tree(dir);
	free(dir);
}

TestSuite(e2e_service, .init = setup, .fini = teardown, .timeout = 120);

struct cap {
	uint8_t frames[16][1600];
	struct sx_tf_rec recs[16];
	size_t n;
	int64_t t;
};

static void put(struct cap *c, size_t len)
{
	cr_assert_gt(len, 0);
	cr_assert_lt(c->n, 16);
	c->recs[c->n] =
	    (struct sx_tf_rec){c->frames[c->n], (uint32_t)len, 0, c->t, (uint32_t)(c->n * 20000)};
	c->n++;
}

static void udp(struct cap *c, const char *src, uint16_t sp, const char *dst, uint16_t dp,
		const struct sx_tmsg *m)
{
	put(c, sx_tf_udp(c->frames[c->n], sizeof(c->frames[0]), src, sp, dst, dp, m->b, m->n));
}

static void tcp(struct cap *c, const char *src, uint16_t sp, const char *dst, uint16_t dp,
		uint8_t flags, const void *payload, size_t plen)
{
	put(c, sx_tf_tcp(c->frames[c->n], sizeof(c->frames[0]), src, sp, dst, dp, flags, payload,
			 plen));
}

/* A lookup of qnames[0..nq) and its answer (the first name at addr). */
static void lookup(struct cap *c, uint16_t port, const char *const *qnames, size_t nq,
		   const uint8_t *addr)
{
	struct sx_tmsg m = {0};

	sx_tm_dns(&m, qnames, nq, NULL);
	udp(c, DEV, port, GW, 53, &m);
	memset(&m, 0, sizeof(m));
	sx_tm_dns(&m, qnames, nq, addr);
	udp(c, GW, 53, DEV, port, &m);
}

/* Occurrence i: the NTP-name lookup, then the TLS service, new or
 * continuing. */
static void occurrence(int i)
{
	static const uint8_t cloud[4] = {203, 0, 113, 10}, ntp[4] = {198, 51, 100, 1};
	static const uint8_t appdata[180] = {23, 3, 3, 0, 175}, reply[1200] = {23, 3, 3, 4, 171};
	char ntpname[32], path[1024];
	const char *q[2] = {ntpname, "time3.google.com"};
	const char *api = "api.vendor.example";
	uint16_t port = (uint16_t)(50000 + i);
	struct cap *c = calloc(1, sizeof(*c));

	cr_assert_not_null(c);
	c->t = 1800000000 + (int64_t)i * 600;
	snprintf(ntpname, sizeof(ntpname), "ntp%d.aliyun.com", 1 + i % 4);
	lookup(c, (uint16_t)(40000 + i), q, i == 3 ? 2 : 1, ntp);
	if (i < NEW) {
		struct sx_tmsg m = {0};

		lookup(c, (uint16_t)(41000 + i), &api, 1, cloud);
		tcp(c, DEV, port, CLOUD, 443, 0x02, NULL, 0);
		tcp(c, CLOUD, 443, DEV, port, 0x12, NULL, 0);
		sx_tm_client_hello(&m, api);
		tcp(c, DEV, port, CLOUD, 443, 0x18, m.b, m.n);
		tcp(c, CLOUD, 443, DEV, port, 0x18, reply, sizeof(reply));
		tcp(c, DEV, port, CLOUD, 443, 0x10, NULL, 0);
	} else {
		/* a session opened before the capture began */
		tcp(c, DEV, port, CLOUD, 443, 0x18, appdata, sizeof(appdata));
		tcp(c, CLOUD, 443, DEV, port, 0x18, appdata, 90);
		tcp(c, DEV, port, CLOUD, 443, 0x10, NULL, 0);
	}
	snprintf(path, sizeof(path), "%s/occ%02d.pcap", dir, i);
	cr_assert_eq(sx_tf_write_pcap(path, 1, c->recs, c->n), 0);
	free(c);
}

static char *output(const char *name)
{
	char *path, *text;

	cr_assert(asprintf(&path, "%s/out/%s", dir, name) > 0);
	text = sx_tt_read(path, NULL);
	cr_assert_not_null(text, "%s", path);
	free(path);
	return text;
}

static void run_job(void)
{
	char *cmd, *o = NULL, *e = NULL;
	int i;

	for (i = 0; i < NOCC; i++)
		occurrence(i);
	cr_assert(
	    asprintf(&cmd, "cd '%s' && '%s' hub " DEV " occ*.pcap -q -o out", dir, SX_BINARY) > 0);
	cr_assert_eq(sx_tt_run(cmd, &o, &e), 0, "%s\n%s", o, e);
	free(cmd);
	free(o);
	free(e);
}

Test(e2e_service, new_and_continuing_sessions_are_one_pattern)
{
	char *pat, *prof, *p;

	run_job();
	pat = output("pattern.txt");
	p = strstr(pat, "Fixed port: 443 -> ['api.vendor.example']");
	cr_assert_not_null(p, "the service is a pattern:\n%s", pat);
	cr_assert(strstr(p, "Support: 10/10 occurrences, 10 flows"), "in every occurrence:\n%s",
		  pat);
	cr_assert(strstr(p, "Application: TLS; tls sni api.vendor.example"), "%s", pat);
	cr_assert_null(strstr(p + 1, "Fixed port: 443"), "one pattern, not one per shape:\n%s",
		       pat);
	prof = output("profile.yaml");
	cr_assert(strstr(prof, "dst-port: 443"), "%s", prof);
	free(pat);
	free(prof);
}

/* Whether the dns: block at p (its key's first character) has a
 * domain-name among the lines indented deeper than the key. */
static bool dns_block_names(const char *p)
{
	const char *bol = p, *line;
	size_t indent;

	while (bol[-1] == ' ')
		bol--;
	indent = (size_t)(p - bol);
	for (line = strchr(p, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
		size_t n = strspn(line + 1, " ");

		if (n <= indent)
			return false;
		if (!strncmp(line + 1 + n, "domain-name:", 12))
			return true;
	}
	return false;
}

Test(e2e_service, a_stray_question_keeps_the_names)
{
	char *prof, *p;

	run_job();
	prof = output("profile.yaml");
	/* the odd flow is set apart (or its name kept as a value): the name of
	 * the pattern survives */
	p = strstr(prof, "domain-name: $.aliyun.com\n");
	if (!p) {
		p = strstr(prof, "domain-name:\n");
		cr_assert_not_null(p, "%s", prof);
		cr_assert(strstr(p, "- $.aliyun.com\n"), "%s", prof);
		cr_assert(strstr(p, "- time3.google.com\n"), "%s", prof);
	}
	/* every DNS policy names what it allows */
	for (p = prof; (p = strstr(p, " dns:\n")); p++)
		cr_assert(dns_block_names(p + 1), "a DNS policy without a domain-name:\n%s", prof);
	free(prof);
}
