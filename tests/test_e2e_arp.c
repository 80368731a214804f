/*
 * test_e2e_arp.c - ARP through every stage, on hand-built captures.
 *
 * Three captures of one event on the firewall authors' LAN: the device
 * 192.168.1.135 (50:c7:bf:ed:0a:54), the gateway 192.168.1.1
 * (c0:56:27:73:46:0b, the firewall's own gateway alias) and the phone
 * 192.168.1.222 (3c:cd:5d:a2:a9:d7, its phone alias).  Each holds the
 * gateway asking for the device and its reply, the device asking for the
 * gateway and the phone and their replies, a gratuitous ARP of the device,
 * the gateway asking for another host (192.168.1.50) and that host's reply
 * (not the device's ARP), a truncated ARP message, an ARP message of
 * another hardware type, and one UDP exchange of the device (the event).
 *
 *   - `sigex flows`: one ARP flow per (operation, sender, target), sender
 *     first, MACs kept; the broken messages make no flow and crash nothing;
 *     the CSV reads back (`sigex mine` on it equals the run on the captures)
 *     and an ARP row whose operation or ports are not what the writer
 *     writes is rejected with its line;
 *   - `sigex extract`: the arp policies of the hand-written profiles' form,
 *     with the firewall's aliases, and nothing of the other host's ARP;
 *   - `sigex verify`: that profile allows every ARP message of the device
 *     and denies one it never saw;
 *   - the firewall's check-profile.sh (translator, nft -c, compile) takes
 *     the profile, when the firewall and its tools are there.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "support/csv.h"
#include "support/frames.h"
#include "support/tmp.h"

#define CHECK_PROFILE SX_SHARED_CORPORA "/../firewall/check-profile.sh"

#define DEV "192.168.1.135"

static const uint8_t dev_mac[6] = {0x50, 0xc7, 0xbf, 0xed, 0x0a, 0x54};
static const uint8_t gw_mac[6] = {0xc0, 0x56, 0x27, 0x73, 0x46, 0x0b};
static const uint8_t phone_mac[6] = {0x3c, 0xcd, 0x5d, 0xa2, 0xa9, 0xd7};
static const uint8_t host_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x50};
static const uint8_t zero_mac[6];
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

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

TestSuite(e2e_arp, .init = setup, .fini = teardown, .timeout = 300);

/* An Ethernet/IPv4 ARP message (RFC 826), 42 bytes. */
static size_t arp_frame(uint8_t *f, const uint8_t *eth_dst, uint16_t op, const uint8_t *sha,
			const char *spa, const uint8_t *tha, const char *tpa)
{
	static const uint8_t hdr[8] = {0x00, 0x01, 0x08, 0x00, 6, 4};
	unsigned a[4];

	memcpy(f, eth_dst, 6);
	memcpy(f + 6, sha, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	memcpy(f + 14, hdr, 6);
	f[20] = (uint8_t)(op >> 8);
	f[21] = (uint8_t)op;
	memcpy(f + 22, sha, 6);
	cr_assert_eq(sscanf(spa, "%u.%u.%u.%u", &a[0], &a[1], &a[2], &a[3]), 4);
	for (int i = 0; i < 4; i++)
		f[28 + i] = (uint8_t)a[i];
	memcpy(f + 32, tha, 6);
	cr_assert_eq(sscanf(tpa, "%u.%u.%u.%u", &a[0], &a[1], &a[2], &a[3]), 4);
	for (int i = 0; i < 4; i++)
		f[38 + i] = (uint8_t)a[i];
	return 42;
}

#define NREC 16

/* Capture k of the event (k = 0, 1, 2), at its own time. */
static void write_capture(int k, const char *name)
{
	static uint8_t frames[NREC][128];
	struct sx_tf_rec r[NREC];
	int64_t t0 = 1700000000 + 600 * k;
	size_t n = 0, len;
	char *path;

	memset(r, 0, sizeof(r));
#define ADD(l)                                                                                     \
	do {                                                                                       \
		r[n].data = frames[n];                                                             \
		r[n].caplen = (uint32_t)(l);                                                       \
		r[n].sec = t0 + (int64_t)n;                                                        \
		n++;                                                                               \
	} while (0)
	/* the gateway asks for the device, which replies */
	ADD(arp_frame(frames[n], bcast, 1, gw_mac, "192.168.1.1", zero_mac, DEV));
	ADD(arp_frame(frames[n], gw_mac, 2, dev_mac, DEV, gw_mac, "192.168.1.1"));
	/* the device asks for the gateway and the phone */
	ADD(arp_frame(frames[n], bcast, 1, dev_mac, DEV, zero_mac, "192.168.1.1"));
	ADD(arp_frame(frames[n], dev_mac, 2, gw_mac, "192.168.1.1", dev_mac, DEV));
	ADD(arp_frame(frames[n], bcast, 1, dev_mac, DEV, zero_mac, "192.168.1.222"));
	ADD(arp_frame(frames[n], dev_mac, 2, phone_mac, "192.168.1.222", dev_mac, DEV));
	/* gratuitous ARP of the device */
	ADD(arp_frame(frames[n], bcast, 1, dev_mac, DEV, zero_mac, DEV));
	/* another host's ARP: not the device's */
	ADD(arp_frame(frames[n], bcast, 1, gw_mac, "192.168.1.1", zero_mac, "192.168.1.50"));
	ADD(arp_frame(frames[n], gw_mac, 2, host_mac, "192.168.1.50", gw_mac, "192.168.1.1"));
	/* truncated inside the addresses; another hardware length */
	len = arp_frame(frames[n], bcast, 1, dev_mac, DEV, zero_mac, "192.168.1.9");
	r[n].wirelen = (uint32_t)len;
	ADD(30);
	len = arp_frame(frames[n], bcast, 1, dev_mac, DEV, zero_mac, "192.168.1.9");
	frames[n][18] = 8;
	ADD(len);
	/* the event: the phone talks to the device over UDP (Ethernet
	 * addresses set to the hosts') */
	len = sx_tf_udp(frames[n], sizeof(frames[n]), "192.168.1.222", (uint16_t)(40000 + k), DEV,
			9999, "toggle", 6);
	memcpy(frames[n], dev_mac, 6);
	memcpy(frames[n] + 6, phone_mac, 6);
	ADD(len);
	len = sx_tf_udp(frames[n], sizeof(frames[n]), DEV, 9999, "192.168.1.222",
			(uint16_t)(40000 + k), "done", 4);
	memcpy(frames[n], phone_mac, 6);
	memcpy(frames[n] + 6, dev_mac, 6);
	ADD(len);
#undef ADD
	path = sx_tt_path(dir, name);
	cr_assert_eq(sx_tf_write_pcap(path, 1, r, n), 0);
	free(path);
}

/* Run "cd DIR && SIGEX args"; returns the exit status, *o its stdout. */
static int sh(char **o, const char *args)
{
	char *cmd, *e = NULL;
	int rc;

	cr_assert(asprintf(&cmd, "cd '%s' && '%s' %s", dir, SX_BINARY, args) > 0);
	rc = sx_tt_run(cmd, o, &e);
	if (rc)
		cr_log_info("%s: %s", args, e ? e : "");
	free(cmd);
	free(e);
	return rc;
}

static void captures(void)
{
	write_capture(0, "a.pcap");
	write_capture(1, "b.pcap");
	write_capture(2, "c.pcap");
}

/* The ARP rows of a flow CSV: "op spa tpa sha tha" each, sorted. */
static char *arp_rows(const char *csv)
{
	struct sx_tcsv c;
	char *o = calloc(1, 4096), *line;
	size_t i, len = 0;
	int tr, spec, dip, oip, dmac, omac, opk;

	cr_assert_not_null(o);
	cr_assert_eq(sx_tcsv_parse(csv, &c), 0);
	tr = sx_tcsv_col(&c, "TransportProtocol");
	spec = sx_tcsv_col(&c, "ApplicationSpecific");
	dip = sx_tcsv_col(&c, "DeviceIP");
	oip = sx_tcsv_col(&c, "OtherIP");
	dmac = sx_tcsv_col(&c, "DeviceMac");
	omac = sx_tcsv_col(&c, "OtherMac");
	opk = sx_tcsv_col(&c, "OtherPackets");
	for (i = 1; i < c.nrows; i++) {
		if (strcmp(c.rows[i].f[tr], "ARP") != 0)
			continue;
		cr_assert_str_eq(c.rows[i].f[opk], "0");
		cr_assert(asprintf(&line, "%s %s %s %s %s\n", c.rows[i].f[spec], c.rows[i].f[dip],
				   c.rows[i].f[oip], c.rows[i].f[dmac],
				   c.rows[i].f[omac][0] ? c.rows[i].f[omac] : "-") > 0);
		len += (size_t)snprintf(o + len, 4096 - len, "%s", line);
		free(line);
	}
	sx_tcsv_free(&c);
	return o;
}

Test(e2e_arp, flows_are_per_operation_sender_and_target)
{
	char *csv, *rows, *o = NULL, *p;

	captures();
	cr_assert_eq(sh(&o, "flows a.pcap -o a.csv -q"), 0);
	free(o);
	p = sx_tt_path(dir, "a.csv");
	csv = sx_tt_read(p, NULL);
	free(p);
	cr_assert_not_null(csv);
	rows = arp_rows(csv);
	/* in time order; the truncated and 8-byte-hardware messages are no flow */
	cr_assert_str_eq(rows, "request 192.168.1.1 192.168.1.135 c0:56:27:73:46:0b -\n"
			       "reply 192.168.1.135 192.168.1.1 50:c7:bf:ed:0a:54 "
			       "c0:56:27:73:46:0b\n"
			       "request 192.168.1.135 192.168.1.1 50:c7:bf:ed:0a:54 -\n"
			       "reply 192.168.1.1 192.168.1.135 c0:56:27:73:46:0b "
			       "50:c7:bf:ed:0a:54\n"
			       "request 192.168.1.135 192.168.1.222 50:c7:bf:ed:0a:54 -\n"
			       "reply 192.168.1.222 192.168.1.135 3c:cd:5d:a2:a9:d7 "
			       "50:c7:bf:ed:0a:54\n"
			       "request 192.168.1.135 192.168.1.135 50:c7:bf:ed:0a:54 -\n"
			       "request 192.168.1.1 192.168.1.50 c0:56:27:73:46:0b -\n"
			       "reply 192.168.1.50 192.168.1.1 02:00:00:00:00:50 "
			       "c0:56:27:73:46:0b\n");
	cr_assert(strstr(csv, ",ARP,ARP,42,request,1,a.pcap,"), "%s", csv);
	cr_assert(strstr(csv, ",0,0,1,0,42,0,first,,,open,,,,,,arp=request\n"), "%s", csv);
	free(rows);
	free(csv);

	/* hostile rows: an unknown operation, an ARP row with ports */
	{
		char *cmd, *e = NULL;
		int rc;

		cr_assert(
		    asprintf(&cmd,
			     "cd '%s' && sed 's/,ARP,ARP,42,request,/,ARP,ARP,42,bogus,/' a.csv "
			     ">bad1.csv && sed 's/,,ARP,ARP,42,reply,/,7,ARP,ARP,42,reply,/' "
			     "a.csv >bad2.csv && ! cmp -s a.csv bad1.csv && ! cmp -s a.csv "
			     "bad2.csv && '%s' mine bad1.csv bad2.csv -o m -q",
			     dir, SX_BINARY) > 0);
		rc = sx_tt_run(cmd, NULL, &e);
		free(cmd);
		cr_assert_eq(rc, 1, "exit %d: %s", rc, e);
		cr_assert(strstr(e, "bad1.csv: line ") && strstr(e, "bad ApplicationSpecific"),
			  "%s", e);
		cr_assert(strstr(e, "bad2.csv: line ") && strstr(e, "bad TransportProtocol"), "%s",
			  e);
		free(e);
	}
}

Test(e2e_arp, the_flow_csv_reads_back)
{
	char *o = NULL, *a, *b, *p;

	captures();
	cr_assert_eq(sh(&o, "flows a.pcap b.pcap c.pcap -o all.csv -q"), 0);
	free(o);
	cr_assert_eq(sh(&o, "mine all.csv -o m -q"), 0);
	free(o);
	cr_assert_eq(sh(&o, "extract dev " DEV " a.pcap b.pcap c.pcap -o x -q"), 0);
	free(o);
	p = sx_tt_path(dir, "m/signatures.yaml");
	a = sx_tt_read(p, NULL);
	free(p);
	p = sx_tt_path(dir, "x/signatures.yaml");
	b = sx_tt_read(p, NULL);
	free(p);
	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_assert_str_eq(a, b);
	cr_assert(strstr(a, "transport: arp"), "%s", a);
	cr_assert(strstr(a,
			 "arp: {operation: request, gratuitous: false, sha: '50:c7:bf:ed:0a:54', "
			 "tha: ''}"),
		  "%s", a);
	free(a);
	free(b);
	p = sx_tt_path(dir, "x/pattern.txt");
	a = sx_tt_read(p, NULL);
	free(p);
	cr_assert(strstr(a, "Protocol: ARP\n"), "%s", a);
	cr_assert(strstr(a, "ARP: request, sender MAC 50:c7:bf:ed:0a:54, "
			    "target MAC none\n"),
		  "%s", a);
	free(a);
}

/* The policy named id of a profile, its lines up to the next policy. */
static char *policy(const char *profile, const char *id)
{
	char key[128];
	const char *s, *e;

	snprintf(key, sizeof(key), "\n  %s:\n", id);
	s = strstr(profile, key);
	if (!s)
		return NULL;
	s += 1;
	for (e = strchr(s, '\n'); e && !strncmp(e + 1, "    ", 4); e = strchr(e + 1, '\n'))
		;
	return strndup(s, e ? (size_t)(e - s + 1) : strlen(s));
}

static void expect_policy(const char *profile, const char *id, const char *body)
{
	char *p = policy(profile, id);

	cr_assert_not_null(p, "no policy %s in\n%s", id, profile);
	cr_assert_str_eq(p, body, "%s", profile);
	free(p);
}

Test(e2e_arp, profile_verify_and_the_firewall)
{
	char *o = NULL, *p, *profile;
	struct stat st;

	captures();
	cr_assert_eq(sh(&o, "extract dev " DEV " a.pcap b.pcap c.pcap --gateway 192.168.1.1 "
			    "--phone 192.168.1.222 -o x -q"),
		     0);
	free(o);
	p = sx_tt_path(dir, "x/profile.yaml");
	profile = sx_tt_read(p, NULL);
	free(p);
	cr_assert_not_null(profile);
	expect_policy(profile, "arp-request-gateway-to-device",
		      "  arp-request-gateway-to-device:\n"
		      "    protocols:\n"
		      "      arp:\n"
		      "        type: request\n"
		      "        tha: default\n"
		      "        spa: gateway\n"
		      "        tpa: self\n");
	expect_policy(profile, "arp-reply-gateway",
		      "  arp-reply-gateway:\n"
		      "    protocols:\n"
		      "      arp:\n"
		      "        type: reply\n"
		      "        sha: self\n"
		      "        spa: self\n"
		      "        tpa: gateway\n");
	expect_policy(profile, "arp-request-gratuitous",
		      "  arp-request-gratuitous:\n"
		      "    protocols:\n"
		      "      arp:\n"
		      "        type: request\n"
		      "        sha: self\n"
		      "        tha: default\n"
		      "        spa: self\n"
		      "        tpa: self\n");
	cr_assert(strstr(profile, "        spa: self\n        tpa: phone\n"), "%s", profile);
	cr_assert(strstr(profile, "        spa: phone\n        tpa: self\n"), "%s", profile);
	/* the other host's ARP is not the device's */
	cr_assert_null(strstr(profile, "192.168.1.50"), "%s", profile);

	/* verify: every ARP message of the device passes; one it never sent
	 * (a request for 192.168.1.77) does not */
	cr_assert_eq(sh(&o, "verify x/profile.yaml a.pcap b.pcap c.pcap --format csv"), 0);
	/* 11 messages of the device per capture: its 7 ARP exchanges and the
	 * UDP pair pass; the truncated message and the one of another
	 * hardware type (no ARP fields to match) are denied */
	cr_assert(strstr(o, "\npackets,,,,,,33,,81.8,,\n"), "%s", o);
	cr_assert(strstr(o, "\ndenied,,ARP,,,,6,3,"), "%s", o);
	cr_assert_null(strstr(strstr(o, "\ndenied,") + 1, "\ndenied,"), "%s", o);
	cr_assert_null(strstr(o, "arp-request-gratuitous,,,,,0,"), "%s", o);
	free(o);
	{
		static uint8_t f[64];
		struct sx_tf_rec r = {.data = f, .sec = 1700009000};
		char *path = sx_tt_path(dir, "new.pcap");

		r.caplen = (uint32_t)arp_frame(f, bcast, 1, dev_mac, DEV, zero_mac, "192.168.1.77");
		cr_assert_eq(sx_tf_write_pcap(path, 1, &r, 1), 0);
		free(path);
	}
	cr_assert_eq(sh(&o, "verify x/profile.yaml new.pcap"), 0);
	cr_assert(strstr(o, "192.168.1.77"), "%s", o);
	free(o);

	if (stat(CHECK_PROFILE, &st) != 0) {
		free(profile);
		cr_skip_test("the firewall is missing (%s)", CHECK_PROFILE);
	}
	o = NULL;
	{
		char *e = NULL, *cmd;
		int rc;

		cr_assert(asprintf(&cmd, "'%s' '%s/x/profile.yaml' arp-dev", CHECK_PROFILE, dir) >
			  0);
		rc = sx_tt_run(cmd, &o, &e);
		free(cmd);
		if (rc == 2) {
			free(o);
			free(profile);
			cr_skip_test("check-profile.sh lacks a tool: %s", e ? e : "");
		}
		cr_assert_eq(rc, 0, "check-profile.sh: %s\n%s", e ? e : "", profile);
		free(e);
	}
	free(o);
	free(profile);
}
