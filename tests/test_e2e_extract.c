/*
 * test_e2e_extract.c - the main job, `sigex DEVICE IPV4 PCAP... -o DIR`,
 * run as a program (SX_BINARY) on real and generated corpora and compared
 * with golden outputs in tests/golden/extract/<case>/.
 *
 * Cases: the reference's three TP-Link toggle captures (default mode, with
 * the firewall's aliases, and --mode upstream), and the generated demo and
 * synth corpora (corpora/ of the build tree: event captures, and idle
 * captures as --background).  Every file of a golden directory is compared byte
 * for byte (stdout is the file "stdout"), with profile.yaml's last-update
 * line masked; the files the run writes must be exactly the golden set,
 * except for cases that keep only some of them.  The generated corpora are
 * also checked against their ground truth (truth.txt): the event's flows
 * are the interaction's policies, background chatter single policies.
 *
 * SX_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing (after
 * a deliberate change of an output format; review the diff).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/tmp.h"

#define TRACES	     SX_SHARED_CORPORA "/smart-home-network-security+signature-extraction/test/traces"
#define GOLDEN	     SX_SOURCE_DIR "/tests/golden/extract"
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

TestSuite(e2e_extract, .init = setup, .fini = teardown, .timeout = 300);

/* profile.yaml's last-update varies between runs: its value becomes
 * "MASKED" (a string, so that the golden file stays a valid profile). */
static void mask_last_update(char *text)
{
	static const char mask[] = "\"MASKED\"";
	char *p = strstr(text, "\n  last-update: ");
	char *eol;

	if (!p)
		return;
	p += strlen("\n  last-update: ");
	eol = strchr(p, '\n');
	if (!eol || (size_t)(eol - p) < sizeof(mask) - 1)
		return;
	memcpy(p, mask, sizeof(mask) - 1);
	memmove(p + sizeof(mask) - 1, eol, strlen(eol) + 1);
}

static bool updating(void)
{
	const char *u = getenv("SX_UPDATE_GOLDEN");

	return u && *u && strcmp(u, "0") != 0;
}

/* Compare (or, updating, store) one output against golden/<case>/<name>. */
static void golden(const char *name_case, const char *name, char *text)
{
	char path[1024];
	char *want;

	if (!strcmp(name, "profile.yaml"))
		mask_last_update(text);
	snprintf(path, sizeof(path), "%s/%s/%s", GOLDEN, name_case, name);
	if (updating()) {
		char dir[1024];

		snprintf(dir, sizeof(dir), "%s/%s", GOLDEN, name_case);
		mkdir(GOLDEN, 0777);
		mkdir(dir, 0777);
		cr_assert_eq(sx_tt_write(path, text, strlen(text)), 0, "cannot write %s", path);
		return;
	}
	want = sx_tt_read(path, NULL);
	cr_assert_not_null(want, "no golden file %s (SX_UPDATE_GOLDEN=1 writes it)", path);
	cr_assert_str_eq(text, want, "%s differs from %s", name, path);
	free(want);
}

static bool has(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

/*
 * Run `cd DIR && sigex ARGS -o OUT`, expect exit 0, and compare: the
 * outputs named in only (space-separated), or every file of the output
 * directory (then the set of files must be the golden set).
 */
static void run_case(const char *name_case, const char *dir, const char *args, const char *only)
{
	char *cmd, *so = NULL, *se = NULL;
	DIR *d;
	struct dirent *e;
	unsigned nfiles = 0, ngolden = 0;
	int rc;

	cr_assert(asprintf(&cmd, "cd '%s' && '%s' %s -o '%s'", dir, SX_BINARY, args, out) > 0);
	rc = sx_tt_run(cmd, &so, &se);
	cr_assert_eq(rc, 0, "%s\nexit %d\n%s", cmd, rc, se ? se : "");
	cr_assert_str_eq(se, "", "stderr not empty: %s", se);
	if (!only || has(only, "stdout"))
		golden(name_case, "stdout", so);
	d = opendir(out);
	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		char *p, *text;

		if (e->d_name[0] == '.' || (only && !has(only, e->d_name)))
			continue;
		p = sx_tt_path(out, e->d_name);
		text = sx_tt_read(p, NULL);
		cr_assert_not_null(text, "%s", p);
		golden(name_case, e->d_name, text);
		nfiles++;
		free(text);
		free(p);
	}
	closedir(d);
	if (!only && !updating()) {
		char gdir[1024];

		snprintf(gdir, sizeof(gdir), "%s/%s", GOLDEN, name_case);
		d = opendir(gdir);
		cr_assert_not_null(d, "%s", gdir);
		while ((e = readdir(d)))
			ngolden += e->d_name[0] != '.' && strcmp(e->d_name, "stdout") != 0;
		closedir(d);
		cr_assert_eq(nfiles, ngolden, "%u outputs, %u golden files", nfiles, ngolden);
	}
	free(cmd);
	free(so);
	free(se);
}

static char *output(const char *name)
{
	char *p = sx_tt_path(out, name);
	char *text = sx_tt_read(p, NULL);

	cr_assert_not_null(text, "no %s", p);
	free(p);
	return text;
}

/* The interaction's part of a profile (after "interactions:"). */
static const char *interactions(const char *profile)
{
	const char *p = strstr(profile, "\ninteractions:");

	cr_assert_not_null(p, "%s", profile);
	return p;
}

static void need_shared(void)
{
	if (!sx_tt_have_shared())
		sx_tt_skip_missing("shared corpora missing (%s)", SX_SHARED_CORPORA);
}

static void need_corpus(const char *name)
{
	char path[1024];
	struct stat st;

	snprintf(path, sizeof(path), "%s/corpora/%s/truth.txt", SX_BUILD_DIR, name);
	if (stat(path, &st) != 0)
		sx_tt_skip_missing("generated corpus missing: %s (build the demo_corpus target)",
				   path);
}

Test(e2e_extract, tplink_default_mode)
{
	char *profile;

	need_shared();
	run_case("tplink", TRACES, "tplink-plug 192.168.1.135 " TPLINK_PCAPS, NULL);
	profile = output("profile.yaml");
	/* the reference's three policies, as the hand-written profile groups them */
	cr_assert(
	    strstr(interactions(profile), "  event:\n    tcp-9999-192-168-1-110-to-device:\n"),
	    "%s", profile);
	cr_assert(strstr(interactions(profile), "\n    dns-use1-api-tplinkra-com:\n"));
	cr_assert(strstr(interactions(profile), "\n    https-use1-api-tplinkra-com:\n"));
	free(profile);
}

Test(e2e_extract, tplink_with_the_firewalls_aliases)
{
	char *profile;

	need_shared();
	run_case("tplink-aliases", TRACES,
		 "tplink-plug 192.168.1.135 " TPLINK_PCAPS
		 " --gateway 192.168.1.1 --phone 192.168.1.110 --mac 50:c7:bf:ed:0a:54"
		 " --event toggle-plug --stats -q",
		 "profile.yaml");
	profile = output("profile.yaml");
	cr_assert(strstr(profile, "  toggle-plug:\n    tcp-9999-phone-to-device:\n"), "%s",
		  profile);
	cr_assert(strstr(profile, "          src: self\n          dst: gateway\n"), "%s", profile);
	cr_assert(strstr(profile, "  udp-9999-phone:\n"), "%s", profile);
	free(profile);
}

Test(e2e_extract, tplink_upstream_mode)
{
	char *profile;

	need_shared();
	run_case("tplink-upstream", TRACES,
		 "tplink-plug 192.168.1.135 " TPLINK_PCAPS " --mode upstream", NULL);
	profile = output("profile.yaml");
	/* UPSTREAM.md §4.6, apart from last-update */
	cr_assert(strstr(profile, "single-policies:\n  dns_A_use1-api.tplinkra.com:\n"), "%s",
		  profile);
	cr_assert(strstr(profile, "\n  tcp_443:\n"));
	cr_assert(strstr(profile, "\n  tcp_9999:\n"));
	free(profile);
}

Test(e2e_extract, demo_corpus_against_its_truth)
{
	char dir[1024], *profile, *ev;

	need_corpus("demo");
	snprintf(dir, sizeof(dir), "%s/corpora/demo", SX_BUILD_DIR);
	run_case("demo", dir,
		 "demo-plug 192.168.1.50 1*.pcap --background idle-*.pcap"
		 " --phone 192.168.1.20 --gateway 192.168.1.1 --event switch-on",
		 "stdout pattern.txt signatures.yaml profile.yaml");
	profile = output("profile.yaml");
	ev = strstr(profile, "\ninteractions:\n  switch-on:\n");
	cr_assert_not_null(ev, "%s", profile);
	/* truth.txt: the event's three flows, in this order */
	cr_assert(strstr(ev, "\n    tcp-9999-phone-to-device:\n"), "%s", profile);
	cr_assert(strstr(ev, "\n    dns-api-plugcloud-example:\n"), "%s", profile);
	cr_assert(strstr(ev, "\n    https-api-plugcloud-example:\n"), "%s", profile);
	cr_assert_lt(strstr(ev, "tcp-9999"), strstr(ev, "dns-api"));
	cr_assert_lt(strstr(ev, "dns-api"), strstr(ev, "https-api"));
	/* the mDNS announcement recurs in the idle captures too: background */
	cr_assert_lt(strstr(profile, "mdns-"), ev, "%s", profile);
	free(profile);
	/* one CSV per capture, event and idle */
	for (int i = 0; i < 10; i++) {
		char name[32];
		struct stat st;
		char *p;

		snprintf(name, sizeof(name), "%d.csv", 1700000000 + 600 * i);
		p = sx_tt_path(out, name);
		cr_assert_eq(stat(p, &st), 0, "no %s", p);
		free(p);
	}
}

Test(e2e_extract, synth_corpus_against_its_truth)
{
	char dir[1024], *profile, *ev;

	need_corpus("synth");
	snprintf(dir, sizeof(dir), "%s/corpora/synth", SX_BUILD_DIR);
	run_case("synth", dir,
		 "cam-7 10.0.0.7 1*.pcap --background idle-*.pcap --gateway 10.0.0.1"
		 " --mac ac:cc:8e:00:00:07 --stats",
		 "stdout pattern.txt signatures.yaml profile.yaml");
	profile = output("profile.yaml");
	ev = strstr(profile, "\ninteractions:\n  event:\n");
	cr_assert_not_null(ev, "%s", profile);
	/* truth.txt: DHCP renew, DNS, HTTP event report, CoAP notify; the
	 * renew and the notify are answered: the requests keep their dhcp /
	 * coap section one way (the firewall cannot build them backward), and
	 * the answers have a policy of their own */
	cr_assert(strstr(ev, "    dhcp-gateway:\n      protocols:\n        dhcp:\n"
			     "          type: request\n          client-mac: self\n"),
		  "%s", profile);
	cr_assert(strstr(ev, "    dhcp-gateway-to-device:\n      protocols:\n        udp:\n"
			     "          src-port: 67\n          dst-port: 68\n"),
		  "%s", profile);
	cr_assert(strstr(ev, "domain-name: cam.vendor.example\n"), "%s", profile);
	cr_assert(strstr(ev, "http:\n          method: GET\n          uri: /api/v1/event*\n"), "%s",
		  profile);
	cr_assert(strstr(ev, "    coap-10-0-0-2:\n      protocols:\n        coap:\n"
			     "          type: CON\n          method: POST\n"),
		  "%s", profile);
	cr_assert(strstr(ev, "    coap-10-0-0-2-to-device:\n"), "%s", profile);
	cr_assert(strstr(ev, "dst: cam.vendor.example\n"), "%s", profile);
	/* nothing of the background in the event */
	cr_assert_null(strstr(ev, "random-app"), "%s", profile);
	cr_assert_null(strstr(ev, "mdns"), "%s", profile);
	free(profile);
}
