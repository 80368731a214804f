/*
 * test_e2e_verify.c - `sigex verify` run as a program on the TP-Link toggle
 * traces of the reference tool: the main job writes the profile, verify
 * replays the same captures through it, and the summary numbers are those
 * of the firewall's semantics (see src/verify/verify.h):
 *   - plain profile (made without --mac: the MAC inferred from the frames): the interaction's six
 *     one-off policies wrap the state to 0 after the first HTTPS reply, so
 *     the rest of each TLS session is dropped by its queue;
 *   - --stateless: the rules alone;
 *   - with the lab's phone (192.168.1.110) written as the alias "phone",
 *     which the firewall fixes at 192.168.1.222: nothing of the event passes.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/tmp.h"
#include "yaml/ydoc.h"

#define TRACES	     SX_SHARED_CORPORA "/smart-home-network-security+signature-extraction/test/traces"
#define TPLINK_PCAPS "1724059939.pcap 1724060053.pcap 1724060140.pcap"

static char *out;

static void setup(void)
{
	out = sx_tt_tmpdir();
	cr_assert_not_null(out);
}

static void teardown(void)
{
	sx_tt_rm_tree(out);
	free(out);
}

TestSuite(e2e_verify, .init = setup, .fini = teardown, .timeout = 300);

static void need_shared(void)
{
	cr_assert(sx_tt_have_shared(), "the shared corpora are missing: %s", SX_SHARED_CORPORA);
}

/* Run a shell command in TRACES; returns its exit status, *o its stdout. */
static int run(const char *args, char **o)
{
	char *cmd, *e = NULL;
	int rc;

	cr_assert(asprintf(&cmd, "cd '%s' && '%s' %s", TRACES, SX_BINARY, args) > 0);
	rc = sx_tt_run(cmd, o, &e);
	free(cmd);
	free(e);
	return rc;
}

static void extract(const char *extra)
{
	char *args, *o = NULL;

	cr_assert(asprintf(&args, "tplink-plug 192.168.1.135 " TPLINK_PCAPS " -q -o '%s/x' %s", out,
			   extra) > 0);
	cr_assert_eq(run(args, &o), 0, "%s", o);
	free(o);
	free(args);
}

static char *verify(const char *extra, int want_rc)
{
	char *args, *o = NULL;

	cr_assert(asprintf(&args, "verify '%s/x/profile.yaml' " TPLINK_PCAPS " %s", out, extra) >
		  0);
	cr_assert_eq(run(args, &o), want_rc, "%s", o);
	free(args);
	return o;
}

/* The YAML report reads back as one document with what the text says. */
static void yaml_reads_back(const char *o)
{
	const struct sx_ytree *kinds, *pols, *k;
	struct sx_ytree *t = NULL;
	char msg[256];

	cr_assert_eq(sx_ytree_parse(o, strlen(o), NULL, &t, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_not_null(t);
	cr_assert_str_eq(sx_ytree_str(sx_ytree_get(t, "device")), "tplink-plug");
	cr_assert_str_eq(sx_ytree_str(sx_ytree_get(t, "packets")), "150");
	cr_assert_str_eq(sx_ytree_str(sx_ytree_get(t, "packets-allowed")), "148");
	cr_assert_str_eq(sx_ytree_str(sx_ytree_get(t, "packets-allowed-pct")), "98.7");
	cr_assert_str_eq(sx_ytree_str(sx_ytree_get(t, "flows-allowed-pct")), "95.5");
	cr_assert_not_null(sx_ytree_str(sx_ytree_get(sx_ytree_get(t, "denied"), "no-rule")));
	pols = sx_ytree_get(t, "policies");
	cr_assert(pols && pols->kind == SX_YTREE_SEQ && pols->n == 11);
	cr_assert_not_null(sx_ytree_str(sx_ytree_get(pols->kids[0], "name")));
	kinds = sx_ytree_get(t, "denied-kinds");
	cr_assert(kinds && kinds->kind == SX_YTREE_SEQ && kinds->n > 0);
	k = kinds->kids[0];
	cr_assert_str_eq(sx_ytree_str(sx_ytree_get(k, "transport")), "ICMP");
	cr_assert_not_null(sx_ytree_str(sx_ytree_get(k, "app")));
	cr_assert(strstr(sx_ytree_str(sx_ytree_get(k, "example")), ".pcap"));
	cr_assert(strchr(sx_ytree_str(sx_ytree_get(k, "time")), '.'));
	sx_ytree_free(t);
}

Test(e2e_verify, tplink_summary)
{
	char *o;

	need_shared();
	extract("");
	o = verify("", 0);
	/* with the interactions' states as without them: the profile's
	 * interaction opens on its first policy and its policies are periodic
	 * (no state wraps), the cloud session is one-way policies (a queue's
	 * bidirectional policy admits one answer per request) */
	cr_assert(!strncmp(o, "packets 150, allowed 98.7%\nflows 22, allowed 95.5%\n", 50), "%s",
		  o);
	cr_assert(strstr(o, "policies 11, hit 11\n"), "%s", o);
	/* the profile holds the MAC the main job found in the plug's frames */
	cr_assert_null(strstr(o, "device MAC learnt"), "%s", o);
	cr_assert(strstr(o, "ICMP type 3 192.168.1.110"), "%s", o);
	/* `rate: 0` is no nftables limit: nothing left out of the replay */
	cr_assert_null(strstr(o, "stats rate"), "%s", o);
	free(o);
	o = verify("--format yaml", 0);
	cr_assert(!strncmp(o, "device: \"tplink-plug\"\npackets: 150\npackets-allowed: 148\n", 51),
		  "%s", o);
	cr_assert(strstr(o, "\ndenied-kinds:\n- transport: \"ICMP\"\n"), "%s", o);
	yaml_reads_back(o);
	free(o);
	o = verify("--stateless", 0);
	cr_assert(!strncmp(o, "packets 150, allowed 98.7%\nflows 22, allowed 95.5%\n", 50), "%s",
		  o);
	free(o);
	/* a CI gate */
	o = verify("--fail-under 99 -q", 1);
	free(o);
	o = verify("--fail-under 95 -q", 0);
	free(o);
}

/* A capture's path is any bytes; the YAML report holds one that is not
 * UTF-8 escaped as ingest escapes text, and still reads back.  The profile
 * is mined without ARP, so that the capture's ARP is denied. */
Test(e2e_verify, yaml_path_not_utf8)
{
	char *args, *o = NULL, msg[256];
	struct sx_ytree *t = NULL;
	const struct sx_ytree *kinds;

	need_shared();
	extract("-f 'not arp'");
	cr_assert(asprintf(&args,
			   "ln -s '" TRACES "/1724059939.pcap' '%s/cap\xff.pcap' && '%s' verify "
			   "'%s/x/profile.yaml' '%s/cap\xff.pcap' --format yaml",
			   out, SX_BINARY, out, out) > 0);
	cr_assert_eq(sx_tt_run(args, &o, NULL), 0, "%s", o);
	cr_assert_eq(sx_ytree_parse(o, strlen(o), NULL, &t, msg, sizeof(msg)), 0, "%s\n%s", msg, o);
	kinds = sx_ytree_get(t, "denied-kinds");
	cr_assert(kinds && kinds->kind == SX_YTREE_SEQ && kinds->n > 0, "%s", o);
	cr_assert(strstr(sx_ytree_str(sx_ytree_get(kinds->kids[0], "example")), "/cap\\xff.pcap"),
		  "%s", o);
	sx_ytree_free(t);
	free(o);
	free(args);
}

Test(e2e_verify, tplink_phone_alias_is_the_firewalls)
{
	char *o;

	need_shared();
	extract("--gateway 192.168.1.1 --phone 192.168.1.110 --mac 50:c7:bf:ed:0a:54 --stats");
	o = verify("--format csv", 0);
	/* only the ARP with the gateway passes: the rest names the phone */
	cr_assert(strstr(o, "packets,,,,,,150,,2.7,,\n"), "%s", o);
	cr_assert(strstr(o, "denied,,TCP,9999,192.168.1.110,"), "%s", o);
	free(o);
}
