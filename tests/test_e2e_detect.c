/*
 * test_e2e_detect.c - `sigex detect` on PingPong's TP-Link plug traces
 * (../shared/corpora/uci-plrg+pingpong): the ON signature, mined from the
 * local and remote ON traces, and the OFF one, mined from the local OFF
 * trace, are told apart in one pass (their cloud report differs only by a
 * reply of 1093 against 1095 bytes, as PingPong found); ON mined without
 * one of its traces still finds it (leave one out); --labels scores them.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	cr_assert(!strncmp(csv, "capture,start,end,event,score,matched,patterns,flows\n", 53), "%s",
		  csv);
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
