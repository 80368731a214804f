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

Test(e2e_verify, tplink_summary)
{
	char *o;

	need_shared();
	extract("");
	o = verify("", 0);
	cr_assert(!strncmp(o, "packets 150, allowed 42.7%\nflows 22, allowed 63.6%\n", 50), "%s",
		  o);
	cr_assert(strstr(o, "policies 7, hit 7\n"), "%s", o);
	/* the profile holds the MAC the main job found in the plug's frames */
	cr_assert_null(strstr(o, "device MAC learnt"), "%s", o);
	cr_assert(strstr(o, "TCP 443 52.3.101.168"), "%s", o);
	free(o);
	o = verify("--format yaml", 0);
	cr_assert(!strncmp(o, "device: \"tplink-plug\"\npackets: 150\npackets-allowed: 64\n", 50),
		  "%s", o);
	cr_assert(strstr(o, "\ndenied-kinds:\n  - transport: \"TCP\"\n"), "%s", o);
	free(o);
	o = verify("--stateless", 0);
	cr_assert(!strncmp(o, "packets 150, allowed 93.3%\nflows 22, allowed 77.3%\n", 50), "%s",
		  o);
	free(o);
	/* a CI gate */
	o = verify("--fail-under 90 -q", 1);
	free(o);
	o = verify("--fail-under 40 -q", 0);
	free(o);
}

Test(e2e_verify, tplink_phone_alias_is_the_firewalls)
{
	char *o;

	need_shared();
	extract("--gateway 192.168.1.1 --phone 192.168.1.110 --mac 50:c7:bf:ed:0a:54 --stats");
	o = verify("--format csv", 0);
	cr_assert(strstr(o, "packets,,,,,,150,,0.0,,\n"), "%s", o);
	cr_assert(strstr(o, "denied,,TCP,9999,192.168.1.110,"), "%s", o);
	free(o);
}
