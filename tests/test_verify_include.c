/*
 * test_verify_include.c - the firewall's `!include` and YAML anchors in a
 * profile, as pyyaml-loaders' IncludeLoader reads them (construct_include(),
 * replace_self_addrs(); paths under ../shared/firewall/pyyaml-loaders/),
 * checked through the rules the profile compiles to.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "support/tmp.h"
#include "verify/verify.h"

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

TestSuite(verify_include, .init = setup, .fini = teardown, .timeout = 30);

static char *put(const char *name, const char *text)
{
	char *p;

	cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
	cr_assert_eq(sx_tt_write(p, text, strlen(text)), 0);
	return p;
}

/* The profile at path loaded; its rules, one per line, into *rules. */
static int load(const char *path, char **rules, char *msg, size_t msglen)
{
	struct sx_verify_profile *p = NULL;
	size_t len = 0, i;
	char buf[2048];
	FILE *f;
	int ret = sx_verify_profile_load(path, NULL, &p, msg, msglen);

	*rules = NULL;
	if (ret)
		return ret;
	f = open_memstream(rules, &len);
	cr_assert_not_null(f);
	for (i = 0; i < sx_verify_profile_nrules(p); i++)
		fprintf(f, "%s\n", sx_verify_profile_rule(p, i, buf, sizeof(buf)));
	for (i = 0; i < sx_verify_profile_npolicies(p); i++)
		fprintf(f, "policy %s\n", sx_verify_profile_policy_name(p, i));
	fclose(f);
	sx_verify_profile_free(p);
	return 0;
}

static const char echo[] = "device-info:\n"
			   "  name: echo\n"
			   "  mac: 02:00:00:00:00:77\n"
			   "  ipv4: 192.168.1.150\n"
			   "single-policies:\n"
			   "  ping:\n"
			   "    protocols:\n"
			   "      icmp:\n"
			   "        type: echo-request\n"
			   "      ipv4:\n"
			   "        src: self\n"
			   "        dst: gateway\n";

/* A pattern of the profile reused with one key set, its "self" the
 * device's address; another device's address from its own profile; an
 * anchored policy under a second name. */
Test(verify_include, patterns_other_devices_and_anchors)
{
	char *rules = NULL, msg[256], *path;

	free(put("echo.yaml", echo));
	path = put("plug.yaml",
		   "device-info:\n"
		   "  name: plug\n"
		   "  mac: 02:00:00:00:00:01\n"
		   "  ipv4: 192.168.1.135\n"
		   "patterns:\n"
		   "  dns-a:\n"
		   "    protocols:\n"
		   "      dns:\n"
		   "        qtype: A\n"
		   "        domain-name: # set by each include\n"
		   "      udp:\n"
		   "        dst-port: 53\n"
		   "      ipv4:\n"
		   "        src: self\n"
		   "        dst: gateway\n"
		   "    bidirectional: true\n"
		   "single-policies:\n"
		   "  dns-cloud: !include patterns.dns-a protocols.dns.domain-name:c.example"
		   " ignored-word\n"
		   "  from-echo:\n"
		   "    protocols:\n"
		   "      tcp:\n"
		   "        dst-port: 9999\n"
		   "      ipv4:\n"
		   "        src:\n"
		   "          - phone\n"
		   "          - !include echo.yaml#device-info.ipv4\n"
		   "        dst: self\n"
		   "  local: &local\n"
		   "    protocols:\n"
		   "      udp:\n"
		   "        dst-port: 5000\n"
		   "      ipv4:\n"
		   "        src: self\n"
		   "        dst: 192.168.1.20\n"
		   "interactions:\n"
		   "  again:\n"
		   "    local-2: *local\n"
		   "    echo-ping: !include echo.yaml#single-policies.ping\n");
	cr_assert_eq(load(path, &rules, msg, sizeof(msg)), 0, "%s", msg);
	/* the pattern under its new name, "self" as the device's address */
	cr_assert(strstr(rules, "policy single#dns-cloud\npolicy single#dns-cloud-backward\n"),
		  "%s", rules);
	cr_assert(strstr(rules, "udp dport 53 ip saddr 192.168.1.135 ip daddr 192.168.1.1"), "%s",
		  rules);
	/* the other device's address, and its own "self" */
	cr_assert(strstr(rules, "192.168.1.150"), "%s", rules);
	cr_assert(strstr(rules, "policy again#echo-ping\n"), "%s", rules);
	cr_assert(strstr(rules, "ip saddr 192.168.1.150 ip daddr 192.168.1.1"), "%s", rules);
	cr_assert(strstr(rules, "policy again#local-2\n"), "%s", rules);
	free(rules);
	free(path);
}

Test(verify_include, what_the_loader_refuses)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
	    {"single-policies:\n  x: !include patterns.none\n",
	     "line 6: !include: no member patterns.none"},
	    {"single-policies:\n  x: !include nofile.yaml#a.b\n", "nofile.yaml"},
	    {"single-policies:\n  x: !include a#b#c\n", "more than one '#'"},
	    {"single-policies:\n  x: !other y\n", "tag !other: not one the firewall reads"},
	    {"patterns:\n  p: {protocols: {udp: {dst-port: 1}}}\n"
	     "single-policies:\n  x: !include patterns.p protocols.tcp.dst-port:2\n",
	     "no key protocols.tcp.dst-port"},
	};
	char head[] = "device-info:\n  name: d\n  mac: 02:00:00:00:00:01\n  ipv4: 192.168.1.135\n";
	char *rules, msg[256], *path, *text;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert(asprintf(&text, "%s%s", head, bad[i].text) > 0);
		path = put("bad.yaml", text);
		cr_expect_neq(load(path, &rules, msg, sizeof(msg)), 0, "%s", bad[i].text);
		cr_expect(strstr(msg, bad[i].why), "%s -> %s", bad[i].text, msg);
		free(path);
		free(text);
	}
}

/* A profile given as text has no directory: it may include itself only. */
Test(verify_include, text_includes_itself_only)
{
	static const char text[] =
	    "device-info:\n  name: d\n  mac: 02:00:00:00:00:01\n"
	    "  ipv4: 192.168.1.135\n"
	    "patterns:\n  p: {protocols: {udp: {dst-port: 1}, ipv4: {src: self}}}\n"
	    "single-policies:\n  x: !include self#patterns.p\n"
	    "  y: !include other.yaml#patterns.p\n";
	struct sx_verify_profile *p = NULL;
	char msg[256];

	cr_assert_eq(sx_verify_profile_parse(text, strlen(text), NULL, &p, msg, sizeof(msg)),
		     SX_E_FORMAT);
	cr_assert(strstr(msg, "line 9: !include other.yaml: another file"), "%s", msg);
	cr_assert_null(p);
}

/* An included node nests under the profile's collections within the tree's
 * depth bound, as the loader keeps a document within it. */
Test(verify_include, an_include_keeps_the_depth_bound)
{
	char *rules, msg[256], *path, *text, *p;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int i;

	cr_assert_not_null(f);
	fprintf(f, "device-info: {name: d, mac: '02:00:00:00:00:01', ipv4: 192.168.1.135}\n"
		   "patterns:\n  deep: ");
	for (i = 0; i < 30; i++)
		fprintf(f, "{a: ");
	fprintf(f, "1");
	for (i = 0; i < 30; i++)
		fprintf(f, "}");
	fprintf(f, "\nsingle-policies:\n  x: ");
	for (i = 0; i < 40; i++)
		fprintf(f, "{b: ");
	fprintf(f, "!include patterns.deep");
	for (i = 0; i < 40; i++)
		fprintf(f, "}");
	fprintf(f, "\n");
	fclose(f);
	path = put("deep.yaml", text);
	cr_assert_eq(load(path, &rules, msg, sizeof(msg)), SX_E_FORMAT);
	p = strstr(msg, "!include: nested too deeply");
	cr_assert_not_null(p, "%s", msg);
	free(path);
	free(text);
}
