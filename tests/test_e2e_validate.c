/*
 * test_e2e_validate.c - the main job's --validate, run as a program:
 *   - on the generated synth corpus (corpora/gen), 100 % of the held-out
 *     packets and flows are allowed by the rules, and the
 *     validation lands in pattern.txt and signatures.yaml;
 *   - on the TP-Link toggle traces, the held-out rates;
 *   - on hand-made captures whose cloud name rotates (r1.rotate.example,
 *     r2...), the held-out HTTPS to the new names is denied and reported
 *     with the name (the SNI), as the firewall's DNS table holds exact names
 *     only;
 *   - on the IoT Sentinel Aria scale's setups, whose requests send their
 *     headers in a segment of their own, the profile admits what the
 *     firewall reads in those segments, and the held-out setups' HTTP is
 *     allowed.
 */
#include <criterion/criterion.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/frames.h"
#include "support/pkt.h"
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

TestSuite(e2e_validate, .init = setup, .fini = teardown, .timeout = 300);

static void run_in(const char *dir, const char *args)
{
	char *cmd, *o = NULL, *e = NULL;

	cr_assert(asprintf(&cmd, "cd '%s' && '%s' %s -q --validate -o '%s/x'", dir, SX_BINARY, args,
			   out) > 0);
	cr_assert_eq(sx_tt_run(cmd, &o, &e), 0, "%s\n%s", o, e);
	free(cmd);
	free(o);
	free(e);
}

static char *output(const char *name)
{
	char *path, *text;

	cr_assert(asprintf(&path, "%s/x/%s", out, name) > 0);
	text = sx_tt_read(path, NULL);
	cr_assert_not_null(text, "%s", path);
	free(path);
	return text;
}

/* signatures.yaml reads back as one document whose top-level mapping holds
 * validation (folds held-out captures); *t gets the document. */
static const struct sx_ytree *validation_of(const char *sig, unsigned folds, struct sx_ytree **t)
{
	const struct sx_ytree *v;
	char msg[256], n[16];

	cr_assert_eq(sx_ytree_parse(sig, strlen(sig), NULL, t, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_str_eq(sx_ytree_str(sx_ytree_get(*t, "sigex")), "signatures");
	v = sx_ytree_get(*t, "validation");
	cr_assert(v && v->kind == SX_YTREE_MAP, "%s", sig);
	snprintf(n, sizeof(n), "%u", folds);
	cr_assert_str_eq(sx_ytree_str(sx_ytree_get(v, "folds")), n);
	cr_assert_str_eq(sx_ytree_str(sx_ytree_get(v, "held-out-captures")), n);
	cr_assert_not_null(sx_ytree_str(sx_ytree_get(v, "packets-allowed-pct")));
	cr_assert_eq(sx_ytree_get(v, "denied")->kind, SX_YTREE_SEQ);
	return v;
}

Test(e2e_validate, synth_event_flows_are_complete)
{
	char dir[1024], *pat, *sig, *val;
	struct sx_ytree *t = NULL;

	snprintf(dir, sizeof(dir), "%s/corpora/synth", SX_BUILD_DIR);
	run_in(dir, "cam-7 10.0.0.7 1*.pcap --background idle-*.pcap --gateway 10.0.0.1"
		    " --mac ac:cc:8e:00:00:07 --stats");
	pat = output("pattern.txt");
	sig = output("signatures.yaml");
	val = strstr(pat, "\nValidation: 10 folds, 10 held-out captures");
	cr_assert_not_null(val, "%s", pat);
	/* the generator's traffic is complete: every held-out packet and flow
	 * is allowed by the firewall's rules (ARP, the CoAP answers and the
	 * NTP chatter included) */
	cr_assert(strstr(val, "  packets 200, allowed 100.0% ("), "%s", val);
	cr_assert(strstr(val, "  flows 75, allowed 100.0% ("), "%s", val);
	/* DHCP, DNS and the HTTP event report are never denied held-out */
	cr_assert_null(strstr(val, " UDP 67"), "%s", val);
	cr_assert_null(strstr(val, " UDP 53"), "%s", val);
	cr_assert_null(strstr(val, " TCP 80"), "%s", val);
	cr_assert(strstr(sig, "\nvalidation:\n  folds: 10\n  held-out-captures: 10\n"), "%s", sig);
	/* each held-out event is recognised by the signature of the others,
	 * and nothing in the idle captures is taken for it */
	cr_assert(strstr(val, "  detected (sigex detect, the signature of the others): 10 of 10 "
			      "held-out captures, recall 100.0%\n"),
		  "%s", val);
	cr_assert(strstr(val, "  false detections in the background captures: 0 in "), "%s", val);
	cr_assert(strstr(sig, "\n  detection-held-out: 10\n  detected: 10\n"), "%s", sig);
	validation_of(sig, 10, &t);
	sx_ytree_free(t);
	free(pat);
	free(sig);
}

Test(e2e_validate, tplink_held_out_rates)
{
	char *pat;

	cr_assert(sx_tt_have_shared(), "the shared corpora are missing: %s", SX_SHARED_CORPORA);
	run_in(TRACES, "tplink-plug 192.168.1.135 " TPLINK_PCAPS);
	pat = output("pattern.txt");
	cr_assert(strstr(pat, "\nValidation: 3 folds, 3 held-out captures"), "%s", pat);
	cr_assert(
	    strstr(pat, "  packets 150, allowed 93.3% (with the interactions' states 73.3%)\n"),
	    "%s", pat);
	cr_assert(strstr(pat, "  flows 22, allowed 77.3% (with the interactions' states 68.2%)\n"),
		  "%s", pat);
	free(pat);
}

/* ---- hand-made captures with a rotating name ---- */

static void rotating_capture(const char *dir, int i)
{
	uint8_t frames[6][1600];
	struct sx_tf_rec recs[6];
	struct sx_tmsg m;
	char name[64], cloud[32], path[1024];
	const char *name_p = name;
	uint8_t addr[4] = {203, 0, 113, (uint8_t)(10 + i)};
	int64_t t = 1800000000 + i * 600;

	snprintf(name, sizeof(name), "r%d.rotate.example", i);
	snprintf(cloud, sizeof(cloud), "203.0.113.%d", 10 + i);
	memset(recs, 0, sizeof(recs));
	memset(&m, 0, sizeof(m));
	sx_tm_dns(&m, &name_p, 1, NULL);
	recs[0].caplen = (uint32_t)sx_tf_udp(frames[0], sizeof(frames[0]), "192.168.1.50", 40000,
					     "192.168.1.1", 53, m.b, m.n);
	memset(&m, 0, sizeof(m));
	sx_tm_dns(&m, &name_p, 1, addr);
	recs[1].caplen = (uint32_t)sx_tf_udp(frames[1], sizeof(frames[1]), "192.168.1.1", 53,
					     "192.168.1.50", 40000, m.b, m.n);
	recs[2].caplen = (uint32_t)sx_tf_tcp(frames[2], sizeof(frames[2]), "192.168.1.50", 50000,
					     cloud, 443, 0x02, NULL, 0);
	recs[3].caplen = (uint32_t)sx_tf_tcp(frames[3], sizeof(frames[3]), cloud, 443,
					     "192.168.1.50", 50000, 0x12, NULL, 0);
	memset(&m, 0, sizeof(m));
	sx_tm_client_hello(&m, name);
	recs[4].caplen = (uint32_t)sx_tf_tcp(frames[4], sizeof(frames[4]), "192.168.1.50", 50000,
					     cloud, 443, 0x18, m.b, m.n);
	recs[5].caplen = (uint32_t)sx_tf_tcp(frames[5], sizeof(frames[5]), cloud, 443,
					     "192.168.1.50", 50000, 0x10, NULL, 0);
	for (int k = 0; k < 6; k++) {
		cr_assert_gt(recs[k].caplen, 0);
		recs[k].data = frames[k];
		recs[k].sec = t;
		recs[k].usec = (uint32_t)(k * 10000);
	}
	snprintf(path, sizeof(path), "%s/%d.pcap", dir, (int)t);
	cr_assert_eq(sx_tf_write_pcap(path, DLT_EN10MB, recs, 6), 0);
}

Test(e2e_validate, rotating_name_is_reported)
{
	const struct sx_ytree *v, *k;
	struct sx_ytree *t = NULL;
	char *dir, *pat, *sig;

	dir = sx_tt_path(out, "caps");
	cr_assert(asprintf(&pat, "mkdir -p '%s'", dir) > 0);
	cr_assert_eq(system(pat), 0);
	free(pat);
	for (int i = 1; i <= 5; i++)
		rotating_capture(dir, i);
	run_in(dir, "dev 192.168.1.50 *.pcap --gateway 192.168.1.1");
	pat = output("pattern.txt");
	cr_assert(strstr(pat, "\nValidation: 5 folds, 5 held-out captures"), "%s", pat);
	cr_assert(strstr(pat, " TCP 443 (recurs)  e.g. "), "%s", pat);
	cr_assert(strstr(pat, ".rotate.example\n"), "%s", pat);
	free(pat);
	sig = output("signatures.yaml");
	v = validation_of(sig, 5, &t);
	k = sx_ytree_get(v, "denied");
	cr_assert_gt(k->n, 0, "%s", sig);
	k = k->kids[0];
	cr_assert_str_eq(sx_ytree_str(sx_ytree_get(k, "transport")), "TCP");
	cr_assert_str_eq(sx_ytree_str(sx_ytree_get(k, "port")), "443");
	cr_assert_str_eq(sx_ytree_str(sx_ytree_get(k, "recurs")), "true");
	cr_assert(strstr(sx_ytree_str(sx_ytree_get(k, "example-app")), ".rotate.example"), "%s",
		  sig);
	sx_ytree_free(t);
	free(sig);
	free(dir);
}

/* `sigex batch --validate` over an archive of one device, dev, whose
 * captures are those of the directory captures (linked, not copied). */
static void batch_validate(const char *captures, const char *dev)
{
	char *cmd, *o = NULL, *e = NULL;

	cr_assert(sx_tt_have_shared(), "the shared corpora are missing: %s", SX_SHARED_CORPORA);
	cr_assert(asprintf(&cmd,
			   "mkdir -p '%s/arch/%s' && ln -s '%s'/*.pcap '%s/arch/%s/' "
			   "&& '%s' batch '%s/arch' -o '%s/b' -q --validate",
			   out, dev, captures, out, dev, SX_BINARY, out, out) > 0);
	cr_assert_eq(sx_tt_run(cmd, &o, &e), 0, "%s\n%s", o, e);
	free(cmd);
	free(o);
	free(e);
}

/* The text of file name of device dev's default unit, from batch_validate(). */
static char *batch_output(const char *dev, const char *name)
{
	char *path, *text;

	cr_assert(asprintf(&path, "%s/b/%s/default/%s", out, dev, name) > 0);
	text = sx_tt_read(path, NULL);
	cr_assert_not_null(text, "%s", path);
	free(path);
	return text;
}

Test(e2e_validate, batch_units_are_validated)
{
	char *pat;

	batch_validate(TRACES, "tplink-plug");
	pat = batch_output("tplink-plug", "pattern.txt");
	cr_assert(strstr(pat, "\nValidation: 3 folds, 3 held-out captures"), "%s", pat);
	free(pat);
}

#define ARIA                                                                                       \
	SX_SHARED_CORPORA                                                                          \
	"/andypitcher+IoT_Sentinel/captures_IoT_Sentinel/captures_IoT-Sentinel/Aria"

/* The scale's GET /scale/register and POST /scale/upload each send their
 * headers apart ("Host: ...", "Content-Length: 48 ..."), which the
 * firewall's parser reads as a HEAD of '' and a CONNECT of "Length:": the
 * profile has both, and no held-out capture has its HTTP denied. */
Test(e2e_validate, segments_the_firewall_reads_as_requests_are_admitted)
{
	char *pat, *prof;

	batch_validate(ARIA, "aria");
	prof = batch_output("aria", "profile.yaml");
	cr_assert(strstr(prof, "          method: HEAD\n          uri: ''\n"), "%s", prof);
	cr_assert(strstr(prof, "          method: CONNECT\n          uri: 'Length:'\n"), "%s",
		  prof);
	pat = batch_output("aria", "pattern.txt");
	cr_assert(strstr(pat, "\nValidation: 20 folds, 20 held-out captures"), "%s", pat);
	cr_assert_null(strstr(pat, "TCP 80 (recurs)"), "%s", pat);
	free(pat);
	free(prof);
}
