/*
 * test_verify_nft.c - the compiled rules against the firewall's own
 * translator: each profile below is translated by
 * ../shared/firewall/src/translator/translator.py (in a temporary copy), and
 * the rules of the generated firewall.nft's filter chain (the part nftables
 * decides: protocols, ports, addresses, ICMP types, ARP fields, queue
 * numbers and their order) must be, line for line, the rules verify
 * compiled.
 *
 * And the rules run in the kernel (verify_nft.kernel_agrees_per_packet): in
 * a network namespace of its own (unshare, root), the generated
 * firewall.nft is loaded on a bridge, each queue verdict replaced by a
 * counter and accept (the kernel has no nft_queue), the final drop rules
 * given counters too; every frame of the TP-Link toggle traces is sent into
 * a bridge port over a veth pair, and the rule whose counter moved must be
 * the rule verify says decided (or the final drop, or none for a frame that
 * is not the device's).  That checks what nftables decides: protocols,
 * ports, addresses, ICMP types, ARP, rule order; the queues' callbacks
 * (names, DNS, states) cannot run here and are checked by test_verify_match.
 *
 * Needs Debian's python3 with python3-yaml and python3-jinja2, and for the
 * kernel test root, nft and ip (nftables, iproute2): the tests fail, they do
 * not skip, when one is missing.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ingest/ingest.h"
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

/* ---- the rules in the kernel ---- */

#define TRACES	  SX_SHARED_CORPORA "/smart-home-network-security+signature-extraction/test/traces"
#define MAX_RULES 64

static void sh(const char *cmd)
{
	char *o = NULL, *e = NULL;
	int rc = sx_tt_run(cmd, &o, &e);

	cr_assert_eq(rc, 0, "%s: %s%s", cmd, o, e);
	free(o);
	free(e);
}

/* The filter chain's counters, in rule order; returns how many. */
static size_t counters(const char *table, uint64_t *c, uint64_t *all)
{
	char *cmd, *o = NULL, *line, *end;
	size_t n = 0;
	bool in_filter = false;

	cr_assert(asprintf(&cmd, "nft list table bridge %s", table) > 0);
	cr_assert_eq(sx_tt_run(cmd, &o, NULL), 0);
	for (line = o; line && *line; line = end ? end + 1 : NULL) {
		char *k;

		end = strchr(line, '\n');
		if (end)
			*end = '\0';
		if (strstr(line, "chain filter"))
			in_filter = true;
		k = strstr(line, "counter packets ");
		if (!k)
			continue;
		if (!in_filter)
			*all = strtoull(k + 16, NULL, 10);
		else if (n < MAX_RULES)
			c[n++] = strtoull(k + 16, NULL, 10);
	}
	free(o);
	free(cmd);
	return n;
}

Test(verify_nft, kernel_agrees_per_packet, .timeout = 300)
{
	static const char *const caps[] = {"1724059939.pcap", "1724060053.pcap", "1724060140.pcap"};
	struct sx_verify_profile *p;
	struct sx_verify_fw *fw;
	struct sockaddr_ll to;
	char yaml[4096], msg[256], *cmd, *path;
	uint64_t before[MAX_RULES], after[MAX_RULES], all0 = 0, all1 = 0;
	size_t nrules, sent = 0, matched = 0, dropped = 0, passed = 0;
	int fd;

	cr_assert_eq(geteuid(), 0, "this test needs root (a network namespace, nft)");
	cr_assert_eq(system("command -v nft >/dev/null && command -v ip >/dev/null"), 0,
		     "this test needs nft and ip (Debian: nftables, iproute2)");
	cr_assert(sx_tt_have_shared(), "the shared corpora are missing: %s", SX_SHARED_CORPORA);
	/* the TP-Link toggle's policies, addresses as in the traces */
	snprintf(yaml, sizeof(yaml),
		 "%s"
		 "single-policies:\n"
		 "  udp-9999:\n"
		 "    protocols:\n"
		 "      udp:\n"
		 "        src-port: 9999\n"
		 "      ipv4:\n"
		 "        src: self\n"
		 "        dst: 192.168.1.110\n"
		 "  ping:\n"
		 "    protocols:\n"
		 "      icmp:\n"
		 "        type: destination-unreachable\n"
		 "      ipv4:\n"
		 "        src: self\n"
		 "  arp:\n"
		 "    protocols:\n"
		 "      arp:\n"
		 "        type: request\n"
		 "        spa: self\n"
		 "        tpa: gateway\n"
		 "    bidirectional: true\n"
		 "interactions:\n"
		 "  toggle:\n"
		 "    tcp-9999:\n"
		 "      protocols:\n"
		 "        tcp:\n"
		 "          dst-port: 9999\n"
		 "        ipv4:\n"
		 "          src: 192.168.1.110\n"
		 "          dst: self\n"
		 "      bidirectional: true\n"
		 "    dns:\n"
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
		 "    https:\n"
		 "      protocols:\n"
		 "        tcp:\n"
		 "          dst-port: 443\n"
		 "        ipv4:\n"
		 "          src: self\n"
		 "          dst: use1-api.tplinkra.com\n"
		 "      bidirectional: true\n",
		 dev);
	free(translate(yaml));
	cr_assert_eq(sx_verify_profile_parse(yaml, strlen(yaml), NULL, &p, msg, sizeof(msg)), 0,
		     "%s", msg);
	cr_assert_eq(sx_verify_fw_new(p, &fw), 0);
	nrules = sx_verify_profile_nrules(p);

	/* queue -> counter accept (no nft_queue here); counters on the drops */
	path = sx_tt_path(dir, "firewall.nft");
	cr_assert(asprintf(&cmd,
			   "sed -i -e 's/queue num [0-9]*$/counter accept/' "
			   "-e '/chain filter/,$ s/^\\(\\s*[a-z].*\\) \\(accept\\|drop\\)$/"
			   "\\1 counter \\2/' '%s'",
			   path) > 0);
	sh(cmd);
	free(cmd);
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare(CLONE_NEWNET) failed");
	sh("ip link add br0 type bridge && ip link add va type veth peer name vb && "
	   "ip link set va mtu 9000 && ip link set vb mtu 9000 && ip link set va master br0 && "
	   "ip link set br0 up && ip link set va up && ip link set vb up");
	cr_assert(asprintf(&cmd, "nft -f '%s' && nft insert rule bridge dev prerouting counter",
			   path) > 0);
	sh(cmd);
	free(cmd);

	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	cr_assert_geq(fd, 0);
	memset(&to, 0, sizeof(to));
	to.sll_family = AF_PACKET;
	to.sll_ifindex = (int)if_nametoindex("vb");
	to.sll_halen = 6;
	cr_assert_gt(to.sll_ifindex, 0);
	cr_assert_eq(counters("dev", before, &all0), nrules + 3, "rules: verify %zu", nrules);

	for (size_t f = 0; f < sizeof(caps) / sizeof(caps[0]); f++) {
		struct sx_capture *cap;
		struct sx_raw_rec rec;
		char *cp;

		sx_verify_fw_reset(fw);
		cp = sx_tt_path(TRACES, caps[f]);
		cr_assert_eq(sx_capture_open(cp, NULL, &cap, msg, sizeof(msg)), 0, "%s", msg);
		while (sx_capture_next_raw(cap, &rec) == 1) {
			struct sx_verify_verdict v;
			struct sx_pkt pkt;
			int moved = -1, tries;

			sx_capture_decode(cap, &rec, &pkt);
			cr_assert_eq(sx_verify_fw_packet(fw, &pkt, &v), 0);
			if (sendto(fd, rec.data, rec.caplen, 0, (struct sockaddr *)&to,
				   sizeof(to)) != (ssize_t)rec.caplen)
				cr_assert_fail("sendto: frame %lu of %s", (unsigned long)rec.index,
					       caps[f]);
			sent++;
			/* wait until the bridge saw it (the prerouting counter) */
			for (tries = 0; tries < 200; tries++) {
				counters("dev", after, &all1);
				if (all1 > all0)
					break;
				nanosleep(&(struct timespec){0, 2000000}, NULL);
			}
			cr_assert_gt(all1, all0, "frame %lu of %s never reached the bridge",
				     (unsigned long)rec.index, caps[f]);
			all0 = all1;
			for (size_t i = 0; i < nrules + 3; i++) {
				if (after[i] == before[i])
					continue;
				cr_assert_eq(moved, -1, "two rules counted one frame");
				moved = (int)i;
			}
			memcpy(before, after, sizeof(before));
			if (v.why == SX_VERIFY_NOT_DEVICE) {
				cr_assert_eq(moved, -1,
					     "frame %lu of %s: nft rule %d, verify: not "
					     "the device's",
					     (unsigned long)rec.index, caps[f], moved);
				passed++;
			} else if (v.rule < 0) {
				cr_assert_geq(moved, (int)nrules,
					      "frame %lu of %s: nft rule %d, verify: no rule",
					      (unsigned long)rec.index, caps[f], moved);
				dropped++;
			} else {
				cr_assert_eq(moved, v.rule,
					     "frame %lu of %s: nft rule %d, verify %d",
					     (unsigned long)rec.index, caps[f], moved, v.rule);
				matched++;
			}
		}
		sx_capture_close(cap);
		free(cp);
	}
	cr_log_info("%zu frames: %zu by the same rule, %zu dropped by both, %zu passed by both",
		    sent, matched, dropped, passed);
	cr_assert_eq(sent, 150);
	cr_assert_gt(matched, 0);
	cr_assert_gt(dropped, 0);
	close(fd);
	free(path);
	sx_verify_fw_free(fw);
	sx_verify_profile_free(p);
}
