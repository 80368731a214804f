/*
 * test_e2e_detect.c - `sigex detect` on PingPong's TP-Link plug traces
 * (../shared/corpora/uci-plrg+pingpong): the ON signature, mined from the
 * local and remote ON traces, and the OFF one, mined from the local OFF
 * trace, are told apart in one pass (their cloud report differs only by a
 * reply of 1093 against 1095 bytes, as PingPong found); ON mined without
 * one of its traces still finds it (leave one out); --labels scores them.
 * Contrast, on hand-built captures: two events of one device that share
 * the reaction every event sends and differ in one exchange's lengths are
 * each detected as themselves, never as the other, and an event that is
 * only the reaction is reported as not distinctive: ambiguous by its
 * patterns, told by coverage where the window holds the reaction alone.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/frames.h"
#include "support/tmp.h"

TestSuite(e2e_detect, .timeout = 300);

#define PP   "uci-plrg+pingpong/Code/Projects/PacketLevelSignatureExtractor/pcap"
#define PLUG "192.168.1.159"

static char *tmp;

static void setup(void)
{
	tmp = sx_tt_tmpdir();
}

static void teardown(void)
{
	sx_tt_rm_tree(tmp);
	free(tmp);
}

static void need_shared(void)
{
	if (!sx_tt_have_shared())
		sx_tt_skip_missing("shared corpora missing (%s)", SX_SHARED_CORPORA);
}

/* Run a command in the traces' folder; its standard output. */
static char *run(int want, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *run(int want, const char *fmt, ...)
{
	char args[4096], cmd[6000], *o = NULL, *e = NULL;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "cd '%s/" PP "' && '%s' %s", SX_SHARED_CORPORA, SX_BINARY, args);
	rc = sx_tt_run(cmd, &o, &e);
	cr_assert_eq(rc, want, "%s -> %d\n%s\n%s", cmd, rc, o, e);
	free(e);
	return o;
}

/* Mine the traces into tmp/name. */
static void mine(const char *name, const char *traces)
{
	free(run(0, "tplink " PLUG " %s -q -o '%s/%s'", traces, tmp, name));
}

/* Whether the CSV has a row of capture and event. */
static bool has(const char *csv, const char *capture, const char *event)
{
	char want[256];

	snprintf(want, sizeof(want), "\n%s,", capture);
	for (const char *p = strstr(csv, want); p; p = strstr(p + 1, want)) {
		const char *f = p + strlen(want);

		/* start, end, then the event */
		f = strchr(f, ',');
		f = f ? strchr(f + 1, ',') : NULL;
		if (f && !strncmp(f + 1, event, strlen(event)) && f[1 + strlen(event)] == ',')
			return true;
	}
	return false;
}

Test(e2e_detect, pingpong_on_and_off_told_apart, .init = setup, .fini = teardown)
{
	char *csv;

	need_shared();
	mine("on", "TP_LINK_LOCAL_ON.pcap TP_LINK_REMOTE_ON.pcap TP_LINK_REMOTE_CHARGING_ON.pcap");
	mine("off", "TP_LINK_LOCAL_OFF.pcap");
	csv = run(0,
		  "detect '%s/on/signatures.yaml' '%s/off/signatures.yaml' TP_LINK_LOCAL_ON.pcap "
		  "TP_LINK_LOCAL_OFF.pcap TP_LINK_REMOTE_ON.pcap TP_LINK_REMOTE_CHARGING_ON.pcap",
		  tmp, tmp);
	cr_assert(!strncmp(csv,
			   "capture,start,end,event,score,matched,patterns,flows,ambiguous-with\n",
			   68),
		  "%s", csv);
	cr_assert_eq(sx_tt_lines(csv), 5, "%s", csv);
	cr_assert(has(csv, "TP_LINK_LOCAL_ON.pcap", "on"), "%s", csv);
	cr_assert(has(csv, "TP_LINK_REMOTE_ON.pcap", "on"), "%s", csv);
	cr_assert(has(csv, "TP_LINK_REMOTE_CHARGING_ON.pcap", "on"), "%s", csv);
	cr_assert(has(csv, "TP_LINK_LOCAL_OFF.pcap", "off"), "%s", csv);
	cr_assert(strstr(csv, ">events.tplinkra.com:443"), "%s", csv);
	free(csv);
}

Test(e2e_detect, pingpong_leave_one_out_and_labels, .init = setup, .fini = teardown)
{
	char labels[1024], scores[1024], *csv, *table, *sc;

	need_shared();
	mine("on", "TP_LINK_LOCAL_ON.pcap TP_LINK_REMOTE_CHARGING_ON.pcap");
	mine("off", "TP_LINK_LOCAL_OFF.pcap");
	snprintf(labels, sizeof(labels), "%s/labels.csv", tmp);
	snprintf(scores, sizeof(scores), "%s/scores.csv", tmp);
	cr_assert_eq(sx_tt_write(labels,
				 "capture,time,label\n"
				 "TP_LINK_REMOTE_ON.pcap,+0,on\n"
				 "TP_LINK_LOCAL_OFF.pcap,+0,off\n",
				 strlen("capture,time,label\n"
					"TP_LINK_REMOTE_ON.pcap,+0,on\n"
					"TP_LINK_LOCAL_OFF.pcap,+0,off\n")),
		     0);
	table =
	    run(0,
		"detect '%s/on/signatures.yaml' '%s/off/signatures.yaml' TP_LINK_REMOTE_ON.pcap "
		"TP_LINK_LOCAL_OFF.pcap --labels '%s' --scores '%s' -o '%s/det.csv'",
		tmp, tmp, labels, scores, tmp);
	snprintf(labels, sizeof(labels), "%s/det.csv", tmp);
	csv = sx_tt_read(labels, NULL);
	cr_assert_not_null(csv);
	cr_assert_eq(sx_tt_lines(csv), 3, "%s", csv);
	cr_assert(has(csv, "TP_LINK_REMOTE_ON.pcap", "on"), "%s", csv);
	cr_assert(has(csv, "TP_LINK_LOCAL_OFF.pcap", "off"), "%s", csv);
	sc = sx_tt_read(scores, NULL);
	cr_assert_not_null(sc);
	cr_assert(strstr(sc, "\nall,2,2,0,0,1.0000,1.0000,"), "%s", sc);
	cr_assert(strstr(sc, "\non,1,1,0,0,"), "%s", sc);
	cr_assert(strstr(table, "recall"), "%s", table);
	free(sc);
	free(csv);
	free(table);
}

Test(e2e_detect, pingpong_windowed_signatures, .init = setup, .fini = teardown)
{
	char on[1024], off[1024], *csv;

	need_shared();
	/* mined from --events windows: detected in windows of --duration */
	snprintf(on, sizeof(on), "%s/on.csv", tmp);
	snprintf(off, sizeof(off), "%s/off.csv", tmp);
	cr_assert_eq(sx_tt_write(on, "+0,on\n", 6), 0);
	cr_assert_eq(sx_tt_write(off, "+0,off\n", 7), 0);
	free(run(0,
		 "tplink " PLUG " TP_LINK_LOCAL_ON.pcap TP_LINK_REMOTE_ON.pcap "
		 "TP_LINK_REMOTE_CHARGING_ON.pcap --events '%s' --no-align -q -o '%s/on'",
		 on, tmp));
	free(run(0,
		 "tplink " PLUG " TP_LINK_LOCAL_OFF.pcap --events '%s' --no-align -q -o '%s/off'",
		 off, tmp));
	csv = run(0,
		  "detect '%s/on/signatures.yaml' '%s/off/signatures.yaml' TP_LINK_LOCAL_ON.pcap "
		  "TP_LINK_LOCAL_OFF.pcap TP_LINK_REMOTE_ON.pcap -q",
		  tmp, tmp);
	cr_assert_eq(sx_tt_lines(csv), 4, "%s", csv);
	cr_assert(has(csv, "TP_LINK_LOCAL_ON.pcap", "on"), "%s", csv);
	cr_assert(has(csv, "TP_LINK_REMOTE_ON.pcap", "on"), "%s", csv);
	cr_assert(has(csv, "TP_LINK_LOCAL_OFF.pcap", "off"), "%s", csv);
	free(csv);
}

/* ---- contrast, hand-built ---- */

#define DEV   "10.0.0.5"
#define CLOUD "10.0.0.9"
#define PLUGD "10.0.0.20"

/*
 * A capture of device DEV with events at times at[] (seconds) of kinds
 * kind[]: 'n' (on), 'f' (off), 'p' (ping).  After every event the device
 * reports to CLOUD:443 (a TCP exchange of 100 and 50 payload bytes, the
 * reaction to any event); after on and off the phone PLUGD commands it on
 * UDP 9999, a request of 20 bytes answered by 30 for on, 21 and 31 for off
 * (one identity, lengths apart, as PingPong's on and off).  Half a minute
 * after every event, between the windows, the device checks the time (NTP).
 */
static void contrast_capture(const char *path, const double *at, const char *kind, size_t nev)
{
	static uint8_t frames[96][256];
	static const uint8_t pay[128];
	struct sx_tf_rec recs[96];
	size_t n = 0, e;

#define REC(t, build)                                                                              \
	do {                                                                                       \
		cr_assert_lt(n, 96);                                                               \
		recs[n] = (struct sx_tf_rec){frames[n], 0, 0, (int64_t)(t),                        \
					     (uint32_t)(((t) - (int64_t)(t)) * 1e6 + 0.5)};        \
		recs[n].caplen = (uint32_t)(build);                                                \
		cr_assert(recs[n].caplen);                                                         \
		n++;                                                                               \
	} while (0)
	for (e = 0; e < nev; e++) {
		double t = at[e];
		uint16_t port = (uint16_t)(40000 + e);
		size_t off = kind[e] == 'f';

		if (kind[e] != 'p') {
			REC(t + 0.5,
			    sx_tf_udp(frames[n], 256, PLUGD, port, DEV, 9999, pay, 20 + off));
			REC(t + 0.6,
			    sx_tf_udp(frames[n], 256, DEV, 9999, PLUGD, port, pay, 30 + off));
		}
		REC(t + 1.0, sx_tf_tcp(frames[n], 256, DEV, port, CLOUD, 443, 0x02, NULL, 0));
		REC(t + 1.1, sx_tf_tcp(frames[n], 256, CLOUD, 443, DEV, port, 0x12, NULL, 0));
		REC(t + 1.2, sx_tf_tcp(frames[n], 256, DEV, port, CLOUD, 443, 0x18, pay, 100));
		REC(t + 1.3, sx_tf_tcp(frames[n], 256, CLOUD, 443, DEV, port, 0x18, pay, 50));
		/* between the events: the device's time check */
		REC(t + 30, sx_tf_udp(frames[n], 256, DEV, 123, "10.0.0.30", 123, pay, 48));
		REC(t + 30.1, sx_tf_udp(frames[n], 256, "10.0.0.30", 123, DEV, 123, pay, 48));
	}
	/* the capture goes on a minute after the last event */
	REC(at[nev - 1] + 60, sx_tf_udp(frames[n], 256, "10.0.0.7", 1000, "10.0.0.1", 53, "q", 1));
#undef REC
	cr_assert_eq(sx_tf_write_pcap(path, 1, recs, n), 0);
}

/* Run sigex in tmp; its exit status, standard output and error. */
static int sigex_in_tmp(char **out, char **err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int sigex_in_tmp(char **out, char **err, const char *fmt, ...)
{
	char args[4096], cmd[6000];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' %s", tmp, SX_BINARY, args);
	return sx_tt_run(cmd, out, err);
}

Test(e2e_detect, contrast_each_event_as_itself, .init = setup, .fini = teardown)
{
	/* mined from three of each, one a minute; detected in another capture */
	static const double train[] = {100, 160, 220, 280, 340, 400, 460, 520, 580};
	static const char train_kind[] = "nfpnfpnfp";
	static const double test[] = {1000, 1060, 1120, 1180, 1240, 1300};
	static const char test_kind[] = "pnffnp";
	static const char events[] = "100,on\n160,off\n220,ping\n280,on\n340,off\n400,ping\n"
				     "460,on\n520,off\n580,ping\n";
	static const char labels[] = "1000,ping\n1060,on\n1120,off\n1180,off\n1240,on\n"
				     "1300,ping\n";
	char path[1024], *out = NULL, *err = NULL, *csv;
	int rc;

	snprintf(path, sizeof(path), "%s/train.pcap", tmp);
	contrast_capture(path, train, train_kind, 9);
	snprintf(path, sizeof(path), "%s/test.pcap", tmp);
	contrast_capture(path, test, test_kind, 6);
	snprintf(path, sizeof(path), "%s/events.csv", tmp);
	cr_assert_eq(sx_tt_write(path, events, strlen(events)), 0);
	snprintf(path, sizeof(path), "%s/labels.csv", tmp);
	cr_assert_eq(sx_tt_write(path, labels, strlen(labels)), 0);
	rc = sigex_in_tmp(&out, &err,
			  "extract dev " DEV " train.pcap --events events.csv --duration 10 "
			  "--no-align -q -o sig");
	cr_assert_eq(rc, 0, "%s", err);
	free(out);
	free(err);
	/* the time checks are the device's traffic between the events */
	snprintf(path, sizeof(path), "%s/sig/on/signatures.yaml", tmp);
	csv = sx_tt_read(path, NULL);
	cr_assert_not_null(csv);
	cr_assert(strstr(csv, "\nbetween-events:\n- id: "), "%s", csv);
	cr_assert(strstr(strstr(csv, "\nbetween-events:\n"), "server=a:10.0.0.30"), "%s", csv);
	free(csv);
	/* the reaction is in all three signatures; ping has nothing else */
	rc = sigex_in_tmp(&out, &err,
			  "detect sig/on/signatures.yaml sig/off/signatures.yaml "
			  "sig/ping/signatures.yaml test.pcap --duration 10 --labels labels.csv "
			  "--scores scores.csv -o det.csv");
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert(strstr(err, "sig/ping/signatures.yaml: not distinctive: each of the 1 pattern(s) "
			      "of \"ping\" is also \"on\"'s or in the device's traffic between the "
			      "events: its label is ambiguous"),
		  "%s", err);
	cr_assert(!strstr(err, "sig/on/signatures.yaml: not distinctive"), "%s", err);
	free(out);
	free(err);
	snprintf(path, sizeof(path), "%s/det.csv", tmp);
	csv = sx_tt_read(path, NULL);
	cr_assert_not_null(csv);
	/* two on, two off, each as itself, no on as off; the pings are the
	 * reaction alone: all of ping's signature and half of on's and off's
	 * (no command) in their windows, ping's by coverage (--margin 0.5) */
	cr_assert_eq(sx_tt_lines(csv), 7, "%s", csv);
	cr_assert(strstr(csv, "\ntest.pcap,1060.500000000,1061.300000000,on,1.000,2,2,"), "%s",
		  csv);
	cr_assert(strstr(csv, "\ntest.pcap,1120.500000000,1121.300000000,off,1.000,2,2,"), "%s",
		  csv);
	cr_assert(strstr(csv, "\ntest.pcap,1180.500000000,1181.300000000,off,1.000,2,2,"), "%s",
		  csv);
	cr_assert(strstr(csv, "\ntest.pcap,1240.500000000,1241.300000000,on,1.000,2,2,"), "%s",
		  csv);
	cr_assert(strstr(csv, "\ntest.pcap,1001.000000000,1001.300000000,ping,1.000,1,1,"), "%s",
		  csv);
	cr_assert(strstr(csv, "\ntest.pcap,1301.000000000,1301.300000000,ping,1.000,1,1,"), "%s",
		  csv);
	/* no ambiguous-with: every label sure */
	cr_assert(!strstr(csv, ",on\n") && !strstr(csv, ",off\n") && !strstr(csv, ",ping\n"), "%s",
		  csv);
	free(csv);
	snprintf(path, sizeof(path), "%s/scores.csv", tmp);
	csv = sx_tt_read(path, NULL);
	cr_assert_not_null(csv);
	cr_assert(strstr(csv, "\non,2,2,0,0,1.0000,1.0000,"), "%s", csv);
	cr_assert(strstr(csv, "\noff,2,2,0,0,1.0000,1.0000,"), "%s", csv);
	/* the pings found as pings */
	cr_assert(strstr(csv, "\nping,2,2,0,0,1.0000,1.0000,"), "%s", csv);
	cr_assert(strstr(csv, "\nall,6,6,0,0,"), "%s", csv);
	free(csv);
	/* no label told by coverage (--margin above 1): the pings ambiguous,
	 * named with the first event they could not be told from; --sure
	 * keeps the four sure labels alone */
	rc = sigex_in_tmp(&out, &err,
			  "detect sig/on/signatures.yaml sig/off/signatures.yaml "
			  "sig/ping/signatures.yaml test.pcap --duration 10 --margin 2 -q");
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(sx_tt_lines(out), 7, "%s", out);
	cr_assert(strstr(strstr(out, ":443,on\n") + 1, ":443,on\n"), "%s", out);
	free(out);
	free(err);
	rc = sigex_in_tmp(&out, &err,
			  "detect sig/on/signatures.yaml sig/off/signatures.yaml "
			  "sig/ping/signatures.yaml test.pcap --duration 10 --margin 2 --sure -q");
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(sx_tt_lines(out), 5, "%s", out);
	cr_assert(!has(out, "test.pcap", "ping"), "%s", out);
	free(out);
	free(err);
	/* a margin out of range is a usage error */
	rc = sigex_in_tmp(&out, &err, "detect sig/on/signatures.yaml test.pcap --margin 0 -q");
	cr_assert_eq(rc, 2, "%s", err);
	cr_assert(strstr(err, "--margin expects a number in (0, 2]"), "%s", err);
	free(out);
	free(err);
	/* without contrast, the reaction alone is "ping" at every event */
	rc =
	    sigex_in_tmp(&out, &err,
			 "detect sig/on/signatures.yaml sig/off/signatures.yaml "
			 "sig/ping/signatures.yaml test.pcap --duration 10 --no-contrast --overlap "
			 "-q");
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_geq(sx_tt_lines(out), 7, "%s", out);
	free(out);
	free(err);
}
