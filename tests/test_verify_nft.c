/*
 * test_verify_nft.c - the compiled rules against the firewall's own
 * translator: each profile below is translated by
 * ../shared/firewall/src/translator/translator.py (in a temporary copy), and
 * the rules of the generated firewall.nft's filter chain (the part nftables
 * decides: protocols, ports, addresses, ICMP types, ARP fields, queue
 * numbers and their order) must be, line for line, the rules verify
 * compiled.  Needs Debian's python3 with python3-yaml and python3-jinja2:
 * the test fails (it does not skip) when they are missing.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/tmp.h"
#include "verify/verify.h"

#define FIREWALL SX_SHARED_CORPORA "/../firewall"
#define PYTHON	 "/usr/bin/python3"

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

TestSuite(verify_nft, .init = setup, .fini = teardown, .timeout = 120);

/* Translate yaml with the firewall's translator; the filter chain's rules. */
static char *translate(const char *yaml)
{
	char *path, *cmd, *o = NULL, *e = NULL, *nft, *rules, *line, *end;
	size_t len, off = 0;
	int rc;

	rc = sx_tt_run(PYTHON " -c 'import yaml, jinja2'", &o, &e);
	cr_assert_eq(rc, 0, PYTHON " with python3-yaml and python3-jinja2 is needed: %s", e);
	free(o);
	free(e);
	path = sx_tt_path(dir, "profile.yaml");
	cr_assert_eq(sx_tt_write(path, yaml, strlen(yaml)), 0);
	cr_assert(asprintf(&cmd,
			   "cd '%s' && PYTHONPATH='%s/pyyaml-loaders' " PYTHON
			   " '%s/src/translator/translator.py' profile.yaml 0",
			   dir, FIREWALL, FIREWALL) > 0);
	rc = sx_tt_run(cmd, &o, &e);
	cr_assert_eq(rc, 0, "translator failed (%s): %s", FIREWALL, e);
	free(o);
	free(e);
	free(cmd);
	free(path);
	path = sx_tt_path(dir, "firewall.nft");
	nft = sx_tt_read(path, &len);
	cr_assert_not_null(nft);
	rules = calloc(1, len + 1);
	line = strstr(nft, "chain filter {");
	cr_assert_not_null(line);
	for (; line && *line; line = end ? end + 1 : NULL) {
		char *s = line;

		end = strchr(line, '\n');
		if (end)
			*end = '\0';
		while (*s == ' ')
			s++;
		if (strstr(s, "Default policy"))
			break;
		if (!*s || *s == '#' || strstr(s, "chain filter"))
			continue;
		off += (size_t)snprintf(rules + off, len + 1 - off, "%s\n", s);
	}
	free(nft);
	free(path);
	return rules;
}

static void check(const char *yaml)
{
	struct sx_verify_profile *p;
	char msg[256], buf[2048], *want = translate(yaml), *got;
	size_t off = 0;

	cr_assert(strstr(want, "queue num") || strstr(want, "accept"), "no rules: %s", want);
	cr_assert_eq(sx_verify_profile_parse(yaml, strlen(yaml), NULL, &p, msg, sizeof(msg)), 0,
		     "%s", msg);
	got = calloc(1, 65536);
	for (size_t i = 0; i < sx_verify_profile_nrules(p); i++)
		off += (size_t)snprintf(got + off, 65536 - off, "%s\n",
					sx_verify_profile_rule(p, i, buf, sizeof(buf)));
	cr_assert_str_eq(got, want);
	free(got);
	free(want);
	sx_verify_profile_free(p);
}

static const char dev[] = "device-info:\n"
			  "  name: dev\n"
			  "  mac: 50:c7:bf:ed:0a:54\n"
			  "  ipv4: 192.168.1.135\n";

/* What sigex writes for the TP-Link toggle, with stats. */
Test(verify_nft, tplink_profile)
{
	char yaml[4096];

	snprintf(yaml, sizeof(yaml),
		 "%s"
		 "single-policies:\n"
		 "  udp-9999-phone:\n"
		 "    protocols:\n"
		 "      udp:\n"
		 "        src-port: 9999\n"
		 "      ipv4:\n"
		 "        src: self\n"
		 "        dst: phone\n"
		 "    stats:\n"
		 "      packet-count: 3\n"
		 "      duration: 4\n"
		 "interactions:\n"
		 "  toggle-plug:\n"
		 "    tcp-9999-phone-to-device:\n"
		 "      protocols:\n"
		 "        tcp:\n"
		 "          dst-port: 9999\n"
		 "        ipv4:\n"
		 "          src: phone\n"
		 "          dst: self\n"
		 "      bidirectional: true\n"
		 "    dns-use1-api-tplinkra-com:\n"
		 "      protocols:\n"
		 "        dns:\n"
		 "          qtype: A\n"
		 "          domain-name: use1-api.tplinkra.com\n"
		 "        udp:\n"
		 "          dst-port: 53\n"
		 "        ipv4:\n"
		 "          src: self\n"
		 "          dst: gateway\n"
		 "      bidirectional: true\n"
		 "    https-use1-api-tplinkra-com:\n"
		 "      protocols:\n"
		 "        tcp:\n"
		 "          dst-port: 443\n"
		 "        ipv4:\n"
		 "          src: self\n"
		 "          dst: use1-api.tplinkra.com\n"
		 "      bidirectional: true\n",
		 dev);
	check(yaml);
}

/* Plain accept rules, shared queues, lists, aliases, ICMP and ARP. */
Test(verify_nft, accept_rules_lists_icmp_arp)
{
	char yaml[4096];

	snprintf(yaml, sizeof(yaml),
		 "%s"
		 "single-policies:\n"
		 "  ntp:\n"
		 "    protocols:\n"
		 "      udp:\n"
		 "        dst-port: 123\n"
		 "      ipv4:\n"
		 "        src: self\n"
		 "        dst: [ 192.168.1.1, 10.0.0.1 ]\n"
		 "  mdns:\n"
		 "    protocols:\n"
		 "      udp:\n"
		 "        src-port: 5353\n"
		 "        dst-port: 5353\n"
		 "      ipv4:\n"
		 "        src: self\n"
		 "        dst: mdns\n"
		 "  dns-a:\n"
		 "    protocols:\n"
		 "      dns:\n"
		 "        domain-name: a.example.com\n"
		 "      udp:\n"
		 "        dst-port: 53\n"
		 "      ipv4:\n"
		 "        src: self\n"
		 "        dst: gateway\n"
		 "  dns-b:\n"
		 "    protocols:\n"
		 "      dns:\n"
		 "        domain-name: [ b.example.com, $.example.org ]\n"
		 "      udp:\n"
		 "        dst-port: 53\n"
		 "      ipv4:\n"
		 "        src: self\n"
		 "        dst: gateway\n"
		 "  ping:\n"
		 "    protocols:\n"
		 "      icmp:\n"
		 "        type: echo-request\n"
		 "      ipv4:\n"
		 "        src: self\n"
		 "        dst: external\n"
		 "    bidirectional: true\n"
		 "  arp:\n"
		 "    protocols:\n"
		 "      arp:\n"
		 "        type: request\n"
		 "        sha: self\n"
		 "        spa: self\n"
		 "        tpa: gateway\n"
		 "    bidirectional: true\n",
		 dev);
	check(yaml);
}
