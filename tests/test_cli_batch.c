/*
 * test_cli_batch.c - `sigex batch`, run as a program (SX_BINARY), on
 * archives built in the test:
 *
 *   - the IoT Sentinel captures (23 devices, ARCHIVE/<device>/<captures>, as
 *     symbolic links into ../shared/corpora): every device gets its outputs,
 *     summary.csv is complete, a unit's files are those of `sigex extract`
 *     byte for byte, and a second run with --resume skips every unit and
 *     leaves every file as it was (bytes and modification times);
 *   - a run killed part-way (SIGKILL) then --resume gives the files of an
 *     uninterrupted run, with no temporary file left;
 *   - a run stopped part-way by SIGINT or SIGTERM exits 130 / 143 and still
 *     writes summary.csv (ok units stamped, the others interrupted or
 *     not-run); --resume then finishes it as above;
 *   - device.yaml (addresses, background directory, per-event options),
 *     events.csv (one event per label) and a manifest;
 *   - hostile names ("..", a newline, absolute paths, separators) are
 *     refused, reported, and nothing is written outside OUT;
 *   - a failing unit is reported and does not stop the others (exit 3),
 *     and leaves a failure record that collect reports from, as one run;
 *   - a device whose DHCP lease changed between units (hand-built captures)
 *     gets its address per unit through its MAC, inferred or from
 *     device.yaml, reported in summary.csv; within a unit, each capture its
 *     own, mined as one device (full support); without a MAC identity it
 *     still fails with the message it always had.  EdnetCam1 (IoT Sentinel)
 *     is such a device, run with and without its MAC in device.yaml;
 *   - cli_shard: the shards of --shard K/N, run in any order or at once,
 *     then --collect, give the tree of one run (N = 1, 3, 7); a shard stamps
 *     exactly its planned units; --plan is balanced and the same for a copy
 *     of the archive elsewhere; collect names missing and stale units and
 *     writes nothing; `sigex mine --device` over per-capture flow CSVs
 *     (and their names tables) writes a unit's (and the main job's, on the
 *     firewall testbed's long captures) three files byte for byte.
 * Tests needing the shared corpora or the generated demo corpus are skipped,
 * saying why, when those are missing.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/frames.h"
#include "support/tmp.h"

#define IOT                                                                                        \
	SX_SHARED_CORPORA "/andypitcher+IoT_Sentinel/captures_IoT_Sentinel/captures_IoT-Sentinel"
#define TRACES	    SX_SHARED_CORPORA "/smart-home-network-security+signature-extraction/test/traces"
#define DEMO	    SX_BUILD_DIR "/corpora/demo"
#define EPOCH	    "SOURCE_DATE_EPOCH=1700000000"
#define IOT_DEVICES 23

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

TestSuite(cli_batch, .init = setup, .fini = teardown, .timeout = 600);

static char *sub(const char *name)
{
	return sx_tt_path(dir, name);
}

/* Run a shell command in dir; returns the exit status. */
static int sh(char **out, char **err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int sh(char **out, char **err, const char *fmt, ...)
{
	char *body, *cmd;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	cr_assert(vasprintf(&body, fmt, ap) > 0);
	va_end(ap);
	cr_assert(asprintf(&cmd, "cd '%s' && %s", dir, body) > 0);
	rc = sx_tt_run(cmd, out, err);
	free(cmd);
	free(body);
	return rc;
}

/* `sigex batch ARGS` in dir, with a fixed last-update. */
static int batch(char **out, char **err, const char *args)
{
	return sh(out, err, EPOCH " '%s' batch %s", SX_BINARY, args);
}

static void need_iot(void)
{
	struct stat st;

	if (stat(IOT, &st) != 0)
		sx_tt_skip_missing("IoT Sentinel captures missing (%s)", IOT);
}

static void need_demo(void)
{
	struct stat st;

	if (stat(DEMO "/truth.txt", &st) != 0)
		sx_tt_skip_missing("generated corpus missing: %s", DEMO);
}

/* dir/arch: ARCHIVE/<device>/<captures> as links to the IoT Sentinel
 * captures; with_mac: EdnetCam1's device.yaml gives its MAC. */
static void iot_archive_mac(const char *name, bool with_mac)
{
	char *err = NULL;

	need_iot();
	cr_assert_eq(sh(NULL, &err,
			"mkdir %s && cd '%s' && for d in */; do mkdir -p \"$OLDPWD/%s/$d\" && "
			"for f in \"$d\"*.pcap; do ln -s \"$PWD/$f\" \"$OLDPWD/%s/$f\" || exit 1; "
			"done; done",
			name, IOT, name, name),
		     0, "%s", err);
	free(err);
	/* EdnetCam1's lease changes from capture to capture: its MAC, inferred
	 * or shipped with the dataset, identifies it */
	if (!with_mac)
		return;
	cr_assert_eq(
	    sh(NULL, &err,
	       "printf 'mac: %%s\\n' \"$(tr -d '\\r\\n ' <'%s/EdnetCam1/_iotdevice-mac.txt')\" "
	       ">%s/EdnetCam1/device.yaml",
	       IOT, name),
	    0, "%s", err);
	free(err);
}

static void iot_archive(const char *name)
{
	iot_archive_mac(name, false);
}

static char *read_sub(const char *rel)
{
	char *p = sub(rel), *text = sx_tt_read(p, NULL);

	free(p);
	return text;
}

static bool exists(const char *rel)
{
	char *p = sub(rel);
	struct stat st;
	bool ok = stat(p, &st) == 0;

	free(p);
	return ok;
}

/* Number of completed units (stamps) under out. */
static unsigned stamps(const char *out)
{
	char *o = sub(out);
	DIR *d = opendir(o), *e;
	struct dirent *de, *ee;
	unsigned n = 0;

	while (d && (de = readdir(d))) {
		char *dev;

		if (de->d_name[0] == '.')
			continue;
		dev = sx_tt_path(o, de->d_name);
		e = opendir(dev);
		while (e && (ee = readdir(e))) {
			char *unit, *stamp;
			struct stat st;

			if (ee->d_name[0] == '.')
				continue;
			unit = sx_tt_path(dev, ee->d_name);
			stamp = sx_tt_path(unit, ".sigex-unit");
			n += stat(stamp, &st) == 0;
			free(stamp);
			free(unit);
		}
		if (e)
			closedir(e);
		free(dev);
	}
	if (d)
		closedir(d);
	free(o);
	return n;
}

/* The two trees hold the same files, byte for byte; summary.csv and the
 * units' stamps and failure records compared without the time each unit
 * took, and the stamps without their captures' identities (recorded only
 * for captures that settled before the run: batch_scan.c). */
static void assert_same_tree(const char *a, const char *b)
{
	char *out = NULL;
	int rc;

	rc = sh(&out, NULL,
		"diff -r -x summary.csv -x .sigex-unit -x .sigex-failed %s %s 2>&1 && "
		"cut -d, -f1-6,8- %s/summary.csv >a.sum && "
		"cut -d, -f1-6,8- %s/summary.csv >b.sum && diff a.sum b.sum && "
		"for f in $(cd %s && find . -name .sigex-unit -o -name .sigex-failed) "
		"$(cd %s && find . -name .sigex-unit -o -name .sigex-failed); do "
		"grep -v -e '^seconds ' -e '^capture ' %s/$f >a.sum && "
		"grep -v -e '^seconds ' -e '^capture ' %s/$f >b.sum && "
		"diff a.sum b.sum || exit 1; done",
		a, b, a, b, a, b, a, b);
	cr_assert_eq(rc, 0, "%s and %s differ:\n%s", a, b, out);
	free(out);
}

static void assert_no_tmp(const char *out)
{
	char *found = NULL;

	cr_assert_eq(sh(&found, NULL, "find %s -name '*.tmp.*'", out), 0);
	cr_assert_str_eq(found, "", "temporary files left: %s", found);
	free(found);
}

/* ---- usage ---- */

struct usage_case {
	const char *args;
	const char *msg;
};

Test(cli_batch, usage_errors)
{
	static const struct usage_case cases[] = {
	    {"", "expected ARCHIVE or --manifest FILE"},
	    {"a b", "one ARCHIVE only"},
	    {"nowhere", "\"nowhere\""},
	    {"m.csv", "is not a directory"},
	    {"d --manifest m.csv", "replace each other"},
	    {"d --units 0", "--units expects"},
	    {"d -j 0", "-j expects"},
	    {"d --support 2", "--support expects"},
	    {"d --window x", "--window expects"},
	    {"d --gateway nowhere", "--gateway expects an IP address"},
	    {"d -f 'not a filter ('", "bad filter"},
	    {"d --bogus", "unknown option"},
	    {"d -o d", "inside) the output directory"},
	    {"d -o .", "inside) the output directory"},
	    {"--manifest m.csv", "--manifest m.csv: line 1"},
	    {"--manifest nowhere.csv", "--manifest \"nowhere.csv\""},
	};
	size_t i;

	cr_assert_eq(sh(NULL, NULL, "mkdir d && echo 'x,y' >m.csv"), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *err = NULL;

		cr_expect_eq(batch(NULL, &err, cases[i].args), 2, "[%s]: %s", cases[i].args, err);
		cr_expect(err && strstr(err, cases[i].msg), "[%s]: %s", cases[i].args, err);
		free(err);
	}
}

Test(cli_batch, help)
{
	char *out = NULL;

	cr_assert_eq(batch(&out, NULL, "--help"), 0);
	cr_assert(strstr(out, "Usage: sigex batch ARCHIVE"), "%s", out);
	cr_assert(strstr(out, "--resume"), "%s", out);
	free(out);
}

/* ---- the IoT Sentinel archive ---- */

Test(cli_batch, iot_sentinel_archive_then_resume_changes_nothing)
{
	char *err = NULL, *sum, *before = NULL, *after = NULL, *p, *line;
	DIR *d;
	struct dirent *e;
	unsigned devices = 0, rows = 0;

	iot_archive("arch");
	cr_assert_eq(batch(NULL, &err, "arch -o out"), 0, "%s", err);
	cr_assert(strstr(err, "device address 10.10.10.6 inferred"), "%s", err);
	cr_assert(strstr(err, "23 units: 23 ok"), "%s", err);
	free(err);

	/* every device: its unit's files, its stamp, its profile */
	d = opendir(IOT);
	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		static const char *const files[] = {
		    "default/pattern.txt", "default/signatures.yaml", "default/profile.yaml",
		    "default/.sigex-unit", "profile.yaml"};
		size_t i;

		if (e->d_name[0] == '.')
			continue;
		devices++;
		for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			char *rel;

			cr_assert(asprintf(&rel, "out/%s/%s", e->d_name, files[i]) > 0);
			cr_expect(exists(rel), "missing %s", rel);
			free(rel);
		}
	}
	closedir(d);
	cr_assert_eq(devices, IOT_DEVICES);

	/* summary.csv: one row per unit, all ok with their numbers */
	sum = read_sub("out/summary.csv");
	cr_assert_not_null(sum);
	line = strtok_r(sum, "\n", &p);
	cr_assert_str_eq(line,
			 "device,event,captures,packets,flows,patterns,seconds,ipv4,mac,status");
	while ((line = strtok_r(NULL, "\n", &p))) {
		char dev[128], ev[64], ipv4[64], mac[64], status[64];
		unsigned long caps, pkts, flows, pats;
		double secs;

		rows++;
		cr_assert_eq(sscanf(line,
				    "%127[^,],%63[^,],%lu,%lu,%lu,%lu,%lf,%63[^,],%63[^,],%63s",
				    dev, ev, &caps, &pkts, &flows, &pats, &secs, ipv4, mac, status),
			     10, "%s", line);
		cr_expect_str_eq(ev, "default", "%s", line);
		cr_expect_str_eq(status, "ok", "%s", line);
		cr_expect(caps > 0 && pkts > 0 && flows > 0 && pats > 0, "%s", line);
	}
	cr_assert_eq(rows, IOT_DEVICES);
	free(sum);

	/* EdnetCam1, leased 10.10.10.186, .187 and .62 in turn: identified by
	 * its MAC, every capture under its own address, each pattern in all 11
	 * (its ARP with the gateway included) */
	sum = read_sub("out/summary.csv");
	cr_expect(strstr(sum, "\nEdnetCam1,default,11,210,76,6,"), "%s", sum);
	cr_expect(strstr(sum, ",10.10.10.186 10.10.10.62 10.10.10.187,3c:49:37:03:17:db,ok\n"),
		  "%s", sum);
	free(sum);
	sum = read_sub("out/EdnetCam1/default/pattern.txt");
	cr_assert_not_null(sum);
	cr_expect(strstr(sum, "6 pattern(s) found in 11 occurrences"), "%s", sum);
	for (p = sum, rows = 0; (p = strstr(p, "Support: 11/11 occurrences")); p++)
		rows++;
	cr_expect_eq(rows, 6, "%s", sum);
	free(sum);
	sum = read_sub("out/EdnetCam1/profile.yaml");
	cr_assert_not_null(sum);
	cr_expect(strstr(sum, "  mac: 3c:49:37:03:17:db\n  ipv4: 10.10.10.186\n"), "%s", sum);
	cr_expect(!strstr(sum, "10.10.10.187") && !strstr(sum, "10.10.10.62"), "%s", sum);
	free(sum);
	/* the MAC found sending the inferred address is device-info's, even
	 * when no pattern has the device's address alone as a sending end */
	sum = read_sub("out/EdnetCam2/profile.yaml");
	cr_assert_not_null(sum);
	cr_expect(strstr(sum, "  name: EdnetCam2\n  mac: 3c:49:37:03:17:f0\n"), "%s", sum);
	free(sum);

	/* a unit is `sigex extract` on the same captures, byte for byte */
	cr_assert_eq(
	    sh(NULL, &err,
	       "cd arch && " EPOCH " '%s' HueBridge 10.10.10.6 HueBridge/*.pcap "
	       "--event default -q -o ../x && cd .. && diff -r -x .sigex-unit -x .sigex-csvs x "
	       "out/HueBridge/default",
	       SX_BINARY),
	    0, "%s", err);
	free(err);

	/* --resume: every unit skipped, every file untouched */
	cr_assert_eq(sh(&before, NULL, "cd out && find . -type f -printf '%%p %%s %%T@\\n' | sort"),
		     0);
	cr_assert_eq(sh(NULL, NULL, "cd out && find . -type f -exec md5sum {} + | sort >../sums1"),
		     0);
	cr_assert_eq(batch(NULL, &err, "arch -o out --resume"), 0, "%s", err);
	cr_assert(strstr(err, "23 units: 0 ok, 23 resumed"), "%s", err);
	free(err);
	cr_assert_eq(sh(&after, NULL, "cd out && find . -type f -printf '%%p %%s %%T@\\n' | sort"),
		     0);
	cr_assert_eq(sh(NULL, NULL, "cd out && find . -type f -exec md5sum {} + | sort >../sums2"),
		     0);
	cr_assert_eq(sh(&err, NULL, "diff sums1 sums2"), 0, "changed: %s", err);
	free(err);
	cr_assert_str_eq(before, after);
	free(before);
	free(after);
}

Test(cli_batch, same_files_whatever_the_threads)
{
	char *err = NULL, *sum;

	/* EdnetCam1's MAC given here: the same addresses as inferred */
	iot_archive_mac("arch", true);
	cr_assert_eq(batch(NULL, &err, "arch -o one -q -j1"), 0, "%s", err);
	free(err);
	cr_assert_eq(batch(NULL, &err, "arch -o many -q -j4 --units 3"), 0, "%s", err);
	free(err);
	assert_same_tree("one", "many");
	sum = read_sub("one/summary.csv");
	cr_assert_not_null(sum);
	cr_expect(strstr(sum, "\nEdnetCam1,default,11,210,76,6,"), "%s", sum);
	cr_expect(strstr(sum, ",10.10.10.186 10.10.10.62 10.10.10.187,3c:49:37:03:17:db,ok\n"),
		  "%s", sum);
	free(sum);
}

/* Start `sigex batch arch -o out -j1 --units 1` in dir, in the background,
 * standard error to errfile (NULL: /dev/null), and wait until n units are
 * complete (or a minute went by). */
static pid_t start_batch(const char *errfile, unsigned n)
{
	struct timespec pause = {0, 2 * 1000 * 1000};
	char *arch = sub("arch"), *out = sub("out"), *errpath = sub(errfile ? errfile : "x");
	unsigned waited = 0;
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);
		int efd = errfile ? creat(errpath, 0644) : fd;

		dup2(fd, 0);
		dup2(fd, 1);
		dup2(efd, 2);
		setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
		execl(SX_BINARY, SX_BINARY, "batch", arch, "-o", out, "-j1", "--units", "1",
		      (char *)NULL);
		_exit(127);
	}
	while (stamps("out") < n && waited < 60000) {
		nanosleep(&pause, NULL);
		waited += 2;
	}
	free(errpath);
	free(out);
	free(arch);
	return pid;
}

Test(cli_batch, killed_run_resumes_to_the_uninterrupted_result)
{
	char *err = NULL;
	unsigned done;
	int st;
	pid_t pid;

	iot_archive("arch");
	cr_assert_eq(batch(NULL, &err, "arch -o ref -q"), 0, "%s", err);
	free(err);

	/* kill it once a few units are complete, the others not */
	pid = start_batch(NULL, 3);
	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	done = stamps("out");
	if (!WIFSIGNALED(st))
		cr_log_warn("the run finished before it was killed (%u units done)", done);
	else
		cr_log_info("killed with %u of %u units complete", done, IOT_DEVICES);

	cr_assert_eq(batch(NULL, &err, "arch -o out --resume"), 0, "%s", err);
	free(err);
	assert_same_tree("ref", "out");
	assert_no_tmp("out");
}

/*
 * SIGINT or SIGTERM part-way: exit 128 + the signal, summary.csv written all
 * the same (every unit a row: ok with its stamp, or interrupted / not-run),
 * no temporary file; then --resume gives the files of an uninterrupted run.
 * The run is frozen (SIGSTOP) once a few units are complete, so the signal
 * surely lands mid-run.
 */
static void interrupted_run(int sig)
{
	char *err = NULL, *sum, *line, *p;
	unsigned done, rows = 0, ok = 0, left = 0;
	int st;
	pid_t pid;

	iot_archive("arch");
	cr_assert_eq(batch(NULL, &err, "arch -o ref -q"), 0, "%s", err);
	free(err);

	pid = start_batch("stderr.txt", 3);
	cr_assert_eq(kill(pid, SIGSTOP), 0);
	done = stamps("out");
	if (done >= IOT_DEVICES - 1) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		cr_skip_test("the run was nearly over when frozen (%u units done)", done);
	}
	cr_assert_eq(kill(pid, sig), 0);
	cr_assert_eq(kill(pid, SIGCONT), 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	err = read_sub("stderr.txt");
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 128 + sig, "status %#x\n%s", st, err);
	cr_assert(strstr(err, "interrupted"), "%s", err);
	free(err);
	assert_no_tmp("out");

	/* summary.csv: every unit, ok exactly when complete (stamped) */
	done = stamps("out");
	sum = read_sub("out/summary.csv");
	cr_assert_not_null(sum, "no summary.csv after the signal");
	line = strtok_r(sum, "\n", &p);
	cr_assert_str_eq(line,
			 "device,event,captures,packets,flows,patterns,seconds,ipv4,mac,status");
	while ((line = strtok_r(NULL, "\n", &p))) {
		const char *status = strrchr(line, ',') + 1;

		rows++;
		if (strcmp(status, "ok") == 0)
			ok++;
		else if (strcmp(status, "interrupted") == 0 || strcmp(status, "not-run") == 0)
			left++;
		else
			cr_assert_fail("unexpected status: %s", line);
	}
	free(sum);
	cr_assert_eq(rows, IOT_DEVICES);
	cr_assert_eq(ok, done, "%u ok rows, %u stamps", ok, done);
	cr_assert_geq(left, 1);
	cr_log_info("%s with %u of %u units complete", strsignal(sig), done, IOT_DEVICES);

	/* --resume runs the rest: the files of the uninterrupted run */
	cr_assert_eq(batch(NULL, &err, "arch -o out --resume"), 0, "%s", err);
	cr_assert(strstr(err, "resumed"), "%s", err);
	free(err);
	assert_same_tree("ref", "out");
	assert_no_tmp("out");
}

Test(cli_batch, sigint_writes_the_summary_and_resume_finishes)
{
	interrupted_run(SIGINT);
}

Test(cli_batch, sigterm_writes_the_summary_and_resume_finishes)
{
	interrupted_run(SIGTERM);
}

/* ---- configuration: device.yaml, events.csv, a manifest ---- */

Test(cli_batch, device_yaml_background_and_addresses)
{
	char *err = NULL, *prof;

	need_demo();
	cr_assert_eq(sh(NULL, &err,
			"mkdir -p arch/plug/on arch/plug/idle && cp '%s'/17*.pcap arch/plug/on/ && "
			"cp '%s'/idle-*.pcap arch/plug/idle/ && printf '%%s\\n' "
			"'name: Smart plug' 'ipv4: 192.168.1.50' 'gateway: 192.168.1.1' "
			"'phone: 192.168.1.20' 'background: idle' 'events:' "
			"'  on: {support: 0.9}' >arch/plug/device.yaml",
			DEMO, DEMO),
		     0, "%s", err);
	free(err);
	cr_assert_eq(batch(NULL, &err, "arch -o out -q"), 0, "%s", err);
	free(err);
	/* the same as the single-device command with the same options */
	cr_assert_eq(sh(NULL, &err,
			"cd arch && " EPOCH " '%s' 'Smart plug' 192.168.1.50 plug/on/*.pcap "
			"--background plug/idle/*.pcap --gateway 192.168.1.1 --phone 192.168.1.20 "
			"--support 0.9 --event on -q -o ../x && cd .. && "
			"diff -r -x .sigex-unit -x .sigex-csvs x out/plug/on",
			SX_BINARY),
		     0, "%s", err);
	free(err);
	prof = read_sub("out/plug/profile.yaml");
	cr_assert_not_null(prof);
	cr_assert(strstr(prof, "name: Smart plug\n"), "%s", prof);
	cr_assert(strstr(prof, "mdns-plug-50-local"), "%s", prof); /* background chatter */
	cr_assert(strstr(prof, "interactions:\n  on:\n"), "%s", prof);
	cr_assert(strstr(prof, "src: phone"), "%s", prof);
	free(prof);
	cr_assert(!exists("out/plug/idle"), "the background directory is not an event");
}

static int count_of(const char *text, const char *what)
{
	int n = 0;

	for (; (text = strstr(text, what)); text += strlen(what))
		n++;
	return n;
}

Test(cli_batch, events_csv_one_event_per_label)
{
	char *err = NULL, *prof, *sum;

	if (!sx_tt_have_shared())
		sx_tt_skip_missing("shared corpora missing (%s)", SX_SHARED_CORPORA);
	cr_assert_eq(sh(NULL, &err,
			"mkdir -p arch/tplink && ln -s '%s'/*.pcap arch/tplink/ && printf '%%s\\n' "
			"timestamp,label '1724059939,Toggle Plug' '1724060053,Toggle Plug' "
			"'1724060140,Toggle Plug' 1724059939 1724060140 >arch/tplink/events.csv && "
			"printf '%%s\\n' 'ipv4: 192.168.1.135' 'event: idle' 'events:' "
			"'  Toggle Plug: {duration: 30}' >arch/tplink/device.yaml",
			TRACES),
		     0, "%s", err);
	free(err);
	cr_assert_eq(batch(NULL, &err, "arch -o out -q"), 0, "%s", err);
	free(err);
	sum = read_sub("out/summary.csv");
	cr_assert(strstr(sum, "\ntplink,Toggle Plug,3,"), "%s", sum);
	cr_assert(strstr(sum, "\ntplink,idle,3,"), "%s", sum);
	free(sum);
	prof = read_sub("out/tplink/profile.yaml");
	cr_assert_not_null(prof);
	/* the whole captures (idle) hold the toggles too: every policy is in
	 * both interactions, so each is one single policy and neither
	 * interaction has one of its own */
	cr_assert(strstr(prof, "\n  dns-use1-api-tplinkra-com:\n"), "%s", prof);
	cr_assert_eq(count_of(prof, "domain-name: use1-api.tplinkra.com\n"), 1, "%s", prof);
	cr_assert(strstr(prof, "\ninteractions: {}\n"), "%s", prof);
	free(prof);
	/* the labelled unit is `sigex extract --events` with those rows */
	cr_assert_eq(sh(NULL, &err,
			"printf '%%s\\n' '1724059939,Toggle Plug' '1724060053,Toggle Plug' "
			"'1724060140,Toggle Plug' >ev.csv && cd arch && " EPOCH " '%s' tplink "
			"192.168.1.135 tplink/*.pcap --events ../ev.csv --duration 30 "
			"--event 'Toggle Plug' -q -o ../x && cd .. && "
			"diff -r -x .sigex-unit -x .sigex-csvs x 'out/tplink/Toggle Plug'",
			SX_BINARY),
		     0, "%s", err);
	free(err);
}

/* A label whose windows all lack the device is reported, not mined, and
 * fails nothing; relative times count from each capture's first packet. */
Test(cli_batch, events_label_with_empty_windows)
{
	char *err = NULL, *prof, *sum;

	if (!sx_tt_have_shared())
		sx_tt_skip_missing("shared corpora missing (%s)", SX_SHARED_CORPORA);
	/* +10 s, 2 s long: inside a silence of each of the three captures */
	cr_assert_eq(
	    sh(NULL, &err,
	       "mkdir -p arch/tplink && ln -s '%s'/*.pcap arch/tplink/ && printf '%%s\\n' "
	       "'1724059939,Toggle Plug' '1724060053,Toggle Plug' '1724060140,Toggle Plug' "
	       "'+10,Nothing' >arch/tplink/events.csv && printf '%%s\\n' "
	       "'ipv4: 192.168.1.135' 'events:' '  Nothing: {duration: 2}' "
	       ">arch/tplink/device.yaml",
	       TRACES),
	    0, "%s", err);
	free(err);
	cr_assert_eq(batch(NULL, &err, "arch -o out --no-align"), 0, "%s", err);
	cr_assert(strstr(err, "tplink/Nothing: empty: no packet of the device in any of its 3 "
			      "windows; not mined"),
		  "%s", err);
	free(err);
	sum = read_sub("out/summary.csv");
	cr_assert(strstr(sum, "\ntplink,Nothing,3,"), "%s", sum);
	cr_assert(strstr(sum, ",empty: no packet of the device in any of its 3 windows"), "%s",
		  sum);
	free(sum);
	prof = read_sub("out/tplink/profile.yaml");
	cr_assert(strstr(prof, "\n  Toggle Plug:\n"), "%s", prof);
	cr_assert(!strstr(prof, "Nothing"), "%s", prof);
	free(prof);
}

Test(cli_batch, manifest_replaces_the_layout)
{
	char *err = NULL, *sum;

	need_demo();
	cr_assert_eq(sh(NULL, &err,
			"mkdir -p m/caps && cp '%s'/17*.pcap '%s'/idle-0.pcap m/caps/ && "
			"printf 'ipv4: 192.168.1.50\\n' >m/plug.yaml && "
			"{ echo device,event,path,role; for f in m/caps/17*.pcap; do "
			"echo \"plug,\\\"switch on\\\",caps/${f##*/}\"; done; "
			"echo plug,,caps/idle-0.pcap,background; echo plug,,plug.yaml,config; "
			"echo other,x,'%s/1700000000.pcap'; } >m/manifest.csv",
			DEMO, DEMO, DEMO),
		     0, "%s", err);
	free(err);
	cr_assert_eq(batch(NULL, &err, "--manifest m/manifest.csv -o out -q"), 0, "%s", err);
	free(err);
	sum = read_sub("out/summary.csv");
	cr_assert(strstr(sum, "\nplug,switch on,10,"), "%s", sum);
	cr_assert(strstr(sum, "\nother,x,1,"), "%s", sum);
	free(sum);
	cr_assert(exists("out/plug/switch on/signatures.yaml"));
	cr_assert(exists("out/other/x/profile.yaml"));
}

/* ---- devices whose address changes ---- */

#define GW_MAC "\x02\x00\x00\x00\x00\xfe"

/*
 * dir/rel: a capture of a device at ipv4 (Ethernet source mac) talking to
 * a cloud server (through the gateway's MAC) and announcing itself on
 * SSDP; k shifts the time.
 */
static void lease_capture(const char *rel, const char *ipv4, const uint8_t mac[6],
			  const char *cloud, int k)
{
	static const uint8_t ssdp_mac[6] = {0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa};
	uint8_t frames[8][256];
	struct sx_tf_rec recs[8];
	char *path = sub(rel);
	size_t i, n = 0;

	for (i = 0; i < 7; i++) {
		bool up = i % 2 == 0;
		size_t len = sx_tf_udp(frames[n], sizeof(frames[n]), up ? ipv4 : cloud, 40000,
				       up ? cloud : ipv4, 443, "hello", 5);

		cr_assert(len);
		memcpy(frames[n] + 6, up ? mac : (const uint8_t *)GW_MAC, 6);
		memcpy(frames[n], up ? (const uint8_t *)GW_MAC : mac, 6);
		recs[n] = (struct sx_tf_rec){.data = frames[n],
					     .caplen = (uint32_t)len,
					     .sec = 1700000000 + 1000 * k + (int64_t)i};
		n++;
	}
	{
		size_t len = sx_tf_udp(frames[n], sizeof(frames[n]), ipv4, 1900, "239.255.255.250",
				       1900, "NOTIFY * HTTP/1.1\r\n\r\n", 21);

		cr_assert(len);
		memcpy(frames[n], ssdp_mac, 6);
		memcpy(frames[n] + 6, mac, 6);
		recs[n] = (struct sx_tf_rec){
		    .data = frames[n], .caplen = (uint32_t)len, .sec = 1700000000 + 1000 * k + 8};
		n++;
	}
	cr_assert_eq(sx_tf_write_pcap(path, 1, recs, n), 0, "%s", path);
	free(path);
}

/* arch/plug: units "on" (192.168.1.103) and "off" (192.168.1.124), two
 * captures each, the plug's frames from mac_on and mac_off. */
static void lease_archive(const uint8_t mac_on[6], const uint8_t mac_off[6])
{
	char *err = NULL;

	cr_assert_eq(sh(NULL, &err, "mkdir -p arch/plug/on arch/plug/off"), 0, "%s", err);
	free(err);
	lease_capture("arch/plug/on/1.pcap", "192.168.1.103", mac_on, "52.1.2.3", 0);
	lease_capture("arch/plug/on/2.pcap", "192.168.1.103", mac_on, "52.1.2.3", 1);
	lease_capture("arch/plug/off/1.pcap", "192.168.1.124", mac_off, "52.4.5.6", 2);
	lease_capture("arch/plug/off/2.pcap", "192.168.1.124", mac_off, "52.4.5.6", 3);
}

static const uint8_t plug_mac[6] = {0x02, 0xaa, 0, 0, 0, 0x01};
static const uint8_t other_mac[6] = {0x02, 0xbb, 0, 0, 0, 0x02};

Test(cli_batch, lease_change_infers_the_address_per_unit_by_mac)
{
	char *err = NULL, *sum, *prof;

	lease_archive(plug_mac, plug_mac);
	cr_assert_eq(batch(NULL, &err, "arch -o out"), 0, "%s", err);
	cr_assert(strstr(err, "plug: no address is common to all its captures; the device is MAC "
			      "02:aa:00:00:00:01"),
		  "%s", err);
	free(err);
	sum = read_sub("out/summary.csv");
	cr_assert_not_null(sum);
	cr_expect(strstr(sum, "\nplug,off,2,16,"), "%s", sum);
	cr_expect(strstr(sum, ",192.168.1.124,02:aa:00:00:00:01,ok\n"), "%s", sum);
	cr_expect(strstr(sum, ",192.168.1.103,02:aa:00:00:00:01,ok\n"), "%s", sum);
	free(sum);
	prof = read_sub("out/plug/off/profile.yaml");
	cr_assert_not_null(prof);
	cr_expect(strstr(prof, "ipv4: 192.168.1.124"), "%s", prof);
	free(prof);
	prof = read_sub("out/plug/on/profile.yaml");
	cr_assert_not_null(prof);
	cr_expect(strstr(prof, "ipv4: 192.168.1.103"), "%s", prof);
	free(prof);

	/* the stamp keeps the address: a resumed row says the same */
	cr_assert_eq(batch(NULL, &err, "arch -o out --resume"), 0, "%s", err);
	free(err);
	sum = read_sub("out/summary.csv");
	cr_expect(strstr(sum, ",192.168.1.124,02:aa:00:00:00:01,ok\n"), "%s", sum);
	free(sum);
}

Test(cli_batch, lease_change_with_the_mac_in_device_yaml)
{
	char *err = NULL, *sum;

	lease_archive(plug_mac, plug_mac);
	cr_assert_eq(sh(NULL, &err, "printf 'mac: 02:AA:00:00:00:01\\n' >arch/plug/device.yaml"), 0,
		     "%s", err);
	free(err);
	cr_assert_eq(batch(NULL, &err, "arch -o out"), 0, "%s", err);
	free(err);
	sum = read_sub("out/summary.csv");
	cr_expect(strstr(sum, "\nplug,off,2,16,"), "%s", sum);
	cr_expect(strstr(sum, ",192.168.1.124,02:aa:00:00:00:01,ok\n"), "%s", sum);
	cr_expect(strstr(sum, ",192.168.1.103,02:aa:00:00:00:01,ok\n"), "%s", sum);
	free(sum);
}

Test(cli_batch, lease_change_without_a_mac_identity_fails_as_before)
{
	char *err = NULL, *sum;

	lease_archive(plug_mac, other_mac);
	cr_assert_eq(batch(NULL, &err, "arch -o out -q"), 3, "%s", err);
	cr_assert(strstr(err, "cannot infer the device's address: no IPv4 address is in all 4 "
			      "captures"),
		  "%s", err);
	free(err);
	sum = read_sub("out/summary.csv");
	/* its captures were read (the inference counts the reading's packets),
	 * so its seconds are not 0 */
	cr_expect(strstr(sum, "\nplug,off,2,0,0,0,"), "%s", sum);
	cr_expect(strstr(sum, ",,,failed: cannot infer the device's address: no IPv4 address is "
			      "in all 4 captures"),
		  "%s", sum);
	free(sum);
}

/*
 * One read per capture: a device's address is inferred from the packets
 * the reading reads for the flows.  The plug's lease changed (per-unit
 * addresses by its MAC, one unit parked until the other is read) and the
 * lamp kept its own; the same archive with a --filter that keeps every
 * packet is inferred by a read of its own first, and writes the same
 * files.  So does a --resume that reruns one unit of each device (their
 * other units' captures are not read then: read first).
 */
Test(cli_batch, inferred_addresses_read_each_capture_once)
{
	static const uint8_t lamp_mac[6] = {0x02, 0xbb, 0, 0, 0, 0x07};
	char *err = NULL;

	lease_archive(plug_mac, plug_mac);
	cr_assert_eq(sh(NULL, &err, "mkdir -p arch/lamp/a arch/lamp/b"), 0, "%s", err);
	free(err);
	lease_capture("arch/lamp/a/1.pcap", "192.168.1.50", lamp_mac, "52.7.7.7", 4);
	lease_capture("arch/lamp/a/2.pcap", "192.168.1.50", lamp_mac, "52.7.7.7", 5);
	lease_capture("arch/lamp/b/1.pcap", "192.168.1.50", lamp_mac, "52.7.7.8", 6);
	lease_capture("arch/lamp/b/2.pcap", "192.168.1.50", lamp_mac, "52.7.7.8", 7);

	cr_assert_eq(batch(NULL, &err, "arch -o out -j1"), 0, "%s", err);
	cr_expect(strstr(err, "lamp: device address 192.168.1.50 inferred"), "%s", err);
	cr_expect(strstr(err, "plug/on: device address 192.168.1.103 inferred"), "%s", err);
	cr_expect(strstr(err, "plug/off: device address 192.168.1.124 inferred"), "%s", err);
	cr_expect(!strstr(err, "read twice"), "%s", err);
	free(err);
	cr_assert_eq(batch(NULL, &err, "arch -o out2 -j2"), 0, "%s", err);
	cr_expect(!strstr(err, "read twice"), "%s", err);
	free(err);
	cr_assert_eq(batch(NULL, &err, "arch -o filtered -j2 --filter 'ip or not ip'"), 0, "%s",
		     err);
	cr_expect(strstr(err, "sigex batch: 8 captures read twice"), "%s", err);
	free(err);
	assert_same_tree("out", "out2");
	/* the filter is part of the units' keys: the stamps differ there */
	cr_assert_eq(sh(NULL, &err,
			"diff -r -x .sigex-unit -x summary.csv out filtered && "
			"cut -d, -f1-6,8- out/summary.csv >a && "
			"cut -d, -f1-6,8- filtered/summary.csv >b && diff a b"),
		     0, "%s", err);
	free(err);

	/* one unit of each device to run again: the others' captures unread */
	cr_assert_eq(sh(NULL, &err,
			"cp -r out resumed && rm resumed/plug/on/.sigex-unit "
			"resumed/lamp/b/.sigex-unit"),
		     0, "%s", err);
	free(err);
	cr_assert_eq(batch(NULL, &err, "arch -o resumed --resume"), 0, "%s", err);
	cr_expect(strstr(err, "sigex batch: 8 captures read twice"), "%s", err);
	free(err);
	assert_same_tree("out", "resumed");
}

/* A device of more than 64 units would keep that many waiting for its
 * address: its captures are read first, as before. */
Test(cli_batch, device_of_many_units_is_inferred_before_the_reading)
{
	char *err = NULL, rel[64];
	int k;

	for (k = 0; k < 65; k++) {
		snprintf(rel, sizeof(rel), "arch/plug/e%02d", k);
		cr_assert_eq(sh(NULL, &err, "mkdir -p %s", rel), 0, "%s", err);
		free(err);
		snprintf(rel, sizeof(rel), "arch/plug/e%02d/1.pcap", k);
		lease_capture(rel, "192.168.1.103", plug_mac, "52.1.2.3", k);
	}
	cr_assert_eq(batch(NULL, &err, "arch -o out -j2"), 0, "%s", err);
	cr_expect(strstr(err, "plug: device address 192.168.1.103 inferred (in all 65 captures"),
		  "%s", err);
	cr_expect(strstr(err, "sigex batch: 65 captures read twice"), "%s", err);
	free(err);
}

/* arch/plug/on: two captures of the plug (mac_1, mac_2) talking to one
 * server (cloud_2 for the second), leased 192.168.1.103 then .104. */
static void lease_unit(const uint8_t mac_1[6], const uint8_t mac_2[6], const char *cloud_2)
{
	char *err = NULL;

	cr_assert_eq(sh(NULL, &err, "mkdir -p arch/plug/on"), 0, "%s", err);
	free(err);
	lease_capture("arch/plug/on/1.pcap", "192.168.1.103", mac_1, "52.1.2.3", 0);
	lease_capture("arch/plug/on/2.pcap", "192.168.1.104", mac_2, cloud_2, 1);
}

Test(cli_batch, lease_change_within_a_unit_gives_one_profile_with_full_support)
{
	char *err = NULL, *sum, *prof, *p;
	unsigned full = 0;

	lease_unit(plug_mac, plug_mac, "52.1.2.3");
	cr_assert_eq(batch(NULL, &err, "arch -o out"), 0, "%s", err);
	cr_expect(strstr(err, "plug/on: device address 192.168.1.103 inferred; its captures' "
			      "addresses: 192.168.1.103 192.168.1.104"),
		  "%s", err);
	free(err);
	sum = read_sub("out/summary.csv");
	cr_assert_not_null(sum);
	cr_expect(strstr(sum, "\nplug,on,2,16,6,3,"), "%s", sum);
	cr_expect(strstr(sum, ",192.168.1.103 192.168.1.104,02:aa:00:00:00:01,ok\n"), "%s", sum);
	free(sum);
	/* every pattern in both captures: the device is self in each */
	sum = read_sub("out/plug/on/pattern.txt");
	cr_assert_not_null(sum);
	for (p = sum; (p = strstr(p, "Support: 2/2 occurrences")); p++)
		full++;
	cr_expect_eq(full, 3, "%s", sum);
	free(sum);
	prof = read_sub("out/plug/profile.yaml");
	cr_assert_not_null(prof);
	cr_expect(strstr(prof, "  mac: 02:aa:00:00:00:01\n  ipv4: 192.168.1.103\n"), "%s", prof);
	cr_expect(strstr(prof, "src: self\n          dst: 52.1.2.3\n"), "%s", prof);
	cr_expect(!strstr(prof, "192.168.1.104"), "%s", prof);
	free(prof);
	/* each capture's CSV keeps the address it holds */
	sum = read_sub("out/plug/on/2.csv");
	cr_assert_not_null(sum);
	cr_expect(strstr(sum, "192.168.1.104") && !strstr(sum, "192.168.1.103"), "%s", sum);
	free(sum);

	/* the stamp keeps every address: a resumed row says the same */
	cr_assert_eq(batch(NULL, &err, "arch -o out --resume"), 0, "%s", err);
	cr_assert(strstr(err, "1 units: 0 ok, 1 resumed"), "%s", err);
	free(err);
	sum = read_sub("out/summary.csv");
	cr_expect(strstr(sum, ",192.168.1.103 192.168.1.104,02:aa:00:00:00:01,ok\n"), "%s", sum);
	free(sum);
}

#define SUM_HEAD "device,event,captures,packets,flows,patterns,seconds,ipv4,mac,status"
#define VAL_HEAD                                                                                   \
	",heldout_packets_pct,heldout_flows_pct,heldout_packets_stateful_pct,"                     \
	"heldout_flows_stateful_pct"

/* --validate: summary.csv's held-out rates, per unit, kept by --resume; a
 * held-out capture under another lease is replayed with self at its own
 * address (all allowed) */
Test(cli_batch, validate_adds_held_out_rates_to_the_summary)
{
	char *err = NULL, *sum;

	lease_unit(plug_mac, plug_mac, "52.1.2.3");
	cr_assert_eq(sh(NULL, &err, "mkdir arch/plug/off"), 0, "%s", err);
	free(err);
	lease_capture("arch/plug/off/1.pcap", "192.168.1.103", plug_mac, "52.4.5.6", 2);
	cr_assert_eq(batch(NULL, &err, "arch -o out -q --validate"), 0, "%s", err);
	free(err);
	sum = read_sub("out/summary.csv");
	cr_assert_not_null(sum);
	cr_expect(!strncmp(sum, SUM_HEAD VAL_HEAD "\n", strlen(SUM_HEAD VAL_HEAD "\n")), "%s", sum);
	/* one capture: no fold, empty cells */
	cr_expect(strstr(sum, ",192.168.1.103,02:aa:00:00:00:01,ok,,,,\n"), "%s", sum);
	cr_expect(strstr(sum, ",192.168.1.103 192.168.1.104,02:aa:00:00:00:01,ok,100.0,100.0,"
			      "100.0,100.0\n"),
		  "%s", sum);
	free(sum);
	cr_assert_eq(batch(NULL, &err, "arch -o out --validate --resume"), 0, "%s", err);
	cr_assert(strstr(err, "2 units: 0 ok, 2 resumed"), "%s", err);
	free(err);
	sum = read_sub("out/summary.csv");
	cr_expect(strstr(sum, ",192.168.1.103 192.168.1.104,02:aa:00:00:00:01,ok,100.0,100.0,"
			      "100.0,100.0\n"),
		  "%s", sum);
	free(sum);
	/* a stamp of an older sigex (no states' rates) is not trusted: the
	 * unit runs again and gets them */
	cr_assert_eq(
	    sh(NULL, &err,
	       "f=out/plug/on/.sigex-unit && "
	       "sed 's/^\\(held-out [0-9]* [0-9.]* [0-9.]*\\) .*/\\1/' $f > t && mv t $f && "
	       "grep -q '^held-out [0-9]* [0-9.]* [0-9.]*$' $f"),
	    0, "%s", err);
	free(err);
	cr_assert_eq(batch(NULL, &err, "arch -o out --validate --resume"), 0, "%s", err);
	cr_assert(strstr(err, "2 units: 1 ok, 1 resumed"), "%s", err);
	free(err);
	sum = read_sub("out/summary.csv");
	cr_expect(strstr(sum, ",192.168.1.103 192.168.1.104,02:aa:00:00:00:01,ok,100.0,100.0,"
			      "100.0,100.0\n"),
		  "%s", sum);
	free(sum);
	/* without --validate, the columns of old */
	cr_assert_eq(batch(NULL, &err, "arch -o plain -q"), 0, "%s", err);
	free(err);
	sum = read_sub("plain/summary.csv");
	cr_expect(!strncmp(sum, SUM_HEAD "\n", strlen(SUM_HEAD "\n")), "%s", sum);
	free(sum);
}

Test(cli_batch, lease_change_within_a_unit_from_two_macs_fails_as_before)
{
	char *err = NULL, *sum;

	lease_unit(plug_mac, other_mac, "52.4.5.6");
	cr_assert_eq(batch(NULL, &err, "arch -o out -q"), 3, "%s", err);
	cr_assert(strstr(err, "cannot infer the device's address: no IPv4 address is in all 2 "
			      "captures"),
		  "%s", err);
	free(err);
	sum = read_sub("out/summary.csv");
	cr_expect(strstr(sum, "\nplug,on,2,0,0,0,"), "%s", sum);
	cr_expect(strstr(sum, ",,,failed: cannot infer the device's address"), "%s", sum);
	free(sum);
}

Test(cli_batch, resume_notices_a_capture_replaced_with_the_same_size_and_time)
{
	char *err = NULL;

	lease_archive(plug_mac, plug_mac);
	cr_assert_eq(batch(NULL, &err, "arch -o out -q"), 0, "%s", err);
	free(err);
	cr_assert_eq(batch(NULL, &err, "arch -o out --resume"), 0, "%s", err);
	cr_assert(strstr(err, "2 units: 0 ok, 2 resumed"), "%s", err);
	free(err);
	/* same size and modification time, another file (inode, blocks) */
	cr_assert_eq(sh(NULL, &err,
			"cp arch/plug/on/2.pcap x && touch -r arch/plug/on/1.pcap x && "
			"mv x arch/plug/on/1.pcap"),
		     0, "%s", err);
	free(err);
	cr_assert_eq(batch(NULL, &err, "arch -o out --resume"), 0, "%s", err);
	/* the address is inferred from every capture of the device: both run */
	cr_assert(strstr(err, "2 units: 2 ok, 0 resumed"), "%s", err);
	free(err);
	/* grown at the end */
	cr_assert_eq(sh(NULL, &err, "tail -c +25 arch/plug/off/2.pcap >>arch/plug/off/1.pcap"), 0,
		     "%s", err);
	free(err);
	cr_assert_eq(batch(NULL, &err, "arch -o out --resume"), 0, "%s", err);
	cr_assert(strstr(err, ", 0 resumed"), "%s", err);
	free(err);
}

/* A stamp records the identity of each capture whose inode settled before
 * the run (batch_scan.c, "Known captures"): a later --resume takes it
 * without opening the capture, and samples again any capture whose inode
 * changed since (ctime), whatever its size and modification time say. */
/* `--resume` over arch into out: it succeeds, and its messages say units
 * and captures (a run of its last lines each). */
static void resume_says(const char *units, const char *captures)
{
	char *err = NULL;

	cr_assert_eq(batch(NULL, &err, "arch -o out --resume"), 0, "%s", err);
	cr_assert(strstr(err, units), "%s", err);
	cr_assert(strstr(err, captures), "%s", err);
	free(err);
}

static void shell(const char *cmd)
{
	char *err = NULL;

	cr_assert_eq(sh(NULL, &err, "%s", cmd), 0, "%s: %s", cmd, err);
	free(err);
}

Test(cli_batch, resume_knows_settled_captures_from_the_stamps)
{
	char *err = NULL, *stamp;

	lease_archive(plug_mac, plug_mac);
	/* older than the two seconds a capture needs to be recorded */
	shell("sleep 2.2");
	cr_assert_eq(batch(NULL, &err, "arch -o out -q"), 0, "%s", err);
	free(err);
	stamp = read_sub("out/plug/on/.sigex-unit");
	cr_assert_not_null(stamp);
	cr_expect(strstr(stamp, "\ncapture "), "%s", stamp);
	free(stamp);
	resume_says("2 units: 0 ok, 2 resumed",
		    "4 captures known unchanged from the stamps, 0 sampled");
	/* the same bytes rewritten in place, the old time given back: sampled
	 * again (its ctime moved), found unchanged */
	shell("cp -p arch/plug/on/1.pcap x && cat x >arch/plug/on/1.pcap && "
	      "touch -r x arch/plug/on/1.pcap && rm x");
	resume_says("2 units: 0 ok, 2 resumed",
		    "3 captures known unchanged from the stamps, 1 sampled");
	/* another capture under the same name, size and time: sampled, and its
	 * units (the address is inferred from every capture) run again */
	shell("cp arch/plug/on/2.pcap x && touch -r arch/plug/on/1.pcap x && mv x "
	      "arch/plug/on/1.pcap");
	resume_says("2 units: 2 ok, 0 resumed", ", 1 sampled");
	/* the unit that ran again recorded no identity for the capture changed
	 * just now: the next resume samples it, and resumes */
	resume_says("2 units: 0 ok, 2 resumed",
		    "3 captures known unchanged from the stamps, 1 sampled");
}

/* The device's stamp (batch_profile.c): a resume of an unchanged archive
 * leaves the device's profile as it is without building it; a profile
 * edited, a stamp lost, or an event's profile changed builds it again. */
/* cmd in the test's folder, then `--resume -q` over arch into out. */
static void resume_after(const char *cmd)
{
	char *err = NULL;

	shell(cmd);
	cr_assert_eq(batch(NULL, &err, "arch -o out --resume -q"), 0, "%s", err);
	free(err);
}

Test(cli_batch, device_stamp_spares_rebuilding_an_unchanged_profile)
{
	char *err = NULL, *before, *after, *stamp;

	lease_archive(plug_mac, plug_mac);
	cr_assert_eq(batch(NULL, &err, "arch -o out -q"), 0, "%s", err);
	free(err);
	before = read_sub("out/plug/profile.yaml");
	stamp = read_sub("out/plug/.sigex-device");
	cr_assert_not_null(before);
	cr_assert_not_null(stamp);
	cr_expect(strstr(stamp, "sigex-device 1\ninputs "), "%s", stamp);
	/* unchanged: neither file is replaced (same inode, same time) */
	resume_after("stat -c '%i %Y' out/plug/profile.yaml out/plug/.sigex-device >ids");
	shell("stat -c '%i %Y' out/plug/profile.yaml out/plug/.sigex-device | cmp - ids");
	/* the profile edited: built again, as it was */
	resume_after("echo '# edited' >>out/plug/profile.yaml");
	after = read_sub("out/plug/profile.yaml");
	cr_assert_str_eq(after, before);
	free(after);
	/* the stamp lost: built again (the same bytes, not rewritten), and
	 * the stamp with it */
	resume_after("rm out/plug/.sigex-device");
	after = read_sub("out/plug/.sigex-device");
	cr_assert_str_eq(after, stamp);
	free(after);
	/* an event's profile changed: the device's is built from it */
	resume_after("sed -i 's/dst-port: 443/dst-port: 444/' out/plug/on/profile.yaml");
	after = read_sub("out/plug/profile.yaml");
	cr_expect(strstr(after, "dst-port: 444"), "%s", after);
	free(after);
	free(before);
	free(stamp);
}

Test(cli_batch, no_csv_writes_everything_but_the_flow_csvs)
{
	char *err = NULL, *a, *b;

	lease_archive(plug_mac, plug_mac);
	cr_assert_eq(batch(NULL, &err, "arch -o out -q"), 0, "%s", err);
	free(err);
	cr_assert_eq(batch(NULL, &err, "arch -o nocsv -q --no-csv"), 0, "%s", err);
	free(err);
	cr_assert(exists("out/plug/on/1.csv"));
	cr_assert(!exists("nocsv/plug/on/1.csv"));
	cr_assert(exists("nocsv/plug/on/.sigex-unit"));
	/* the same files otherwise, and the same counts in summary.csv */
	cr_assert_eq(sh(NULL, &err, "diff -r -x '*.csv' -x .sigex-unit out nocsv"), 0, "%s", err);
	free(err);
	cr_assert_eq(sh(&a, NULL, "cut -d, -f1-6,8- out/summary.csv"), 0);
	cr_assert_eq(sh(&b, NULL, "cut -d, -f1-6,8- nocsv/summary.csv"), 0);
	cr_expect_str_eq(a, b);
	free(a);
	free(b);
	/* --resume with the other choice runs the units again */
	cr_assert_eq(batch(NULL, &err, "arch -o out --resume --no-csv"), 0, "%s", err);
	cr_assert(strstr(err, ", 0 resumed"), "%s", err);
	free(err);
	cr_assert(!exists("out/plug/on/1.csv"));
}

/* ---- durability ---- */

/*
 * The order of the writes, seen by strace: in every unit, its output files
 * renamed into place, then one syncfs (the syncer's: one may serve both
 * units, when the second's files are in place before it begins), then the
 * stamp; neither the output files nor the stamps are fsynced one by one
 * (the device's profile.yaml and summary.csv are: two fsyncs each, file
 * and directory; the device's .sigex-device is not, since it holds the
 * hash of what it vouches for); a syncfs follows the last stamp, so every
 * stamp is on disk when the run ends.
 */
/* The plug's archive (prep: a shell command run first in it, "" none)
 * through `sigex batch -jJ` under strace: its syncs and renames in ./trace. */
static void traced_batch(const char *prep, unsigned j)
{
	char *err = NULL;

	if (sh(NULL, NULL, "strace -f -o /dev/null true") != 0)
		sx_tt_skip_missing("strace missing or not permitted");
	lease_archive(plug_mac, plug_mac);
	cr_assert_eq(
	    sh(NULL, &err,
	       /* LeakSanitizer cannot run under ptrace: off for this one run */
	       "%s%s%s ASAN_OPTIONS=\"$ASAN_OPTIONS:detect_leaks=0\" strace -f -qq -o "
	       "trace -y -e trace=fsync,fdatasync,syncfs,rename '%s' batch -q -j%u arch -o out",
	       prep, *prep ? " && " : "", EPOCH, SX_BINARY, j),
	    0, "%s", err);
	free(err);
}

Test(cli_batch, unit_files_synced_at_once_before_the_stamp)
{
	char *err = NULL, *out = NULL;

	traced_batch("", 1);
	cr_assert_eq(
	    sh(&out, &err,
	       "awk '/rename\\(\"/ { p = $0; sub(/^[^\"]*\"/, \"\", p); sub(/\".*/, \"\", p);"
	       "  d = p; sub(/\\/[^\\/]*$/, \"\", d);"
	       "  if (p ~ /\\.sigex-unit\\.tmp\\./) { units++; stamp = NR;"
	       "    if (!(d in last) || sync <= last[d]) { print \"stamp before sync: \" d; bad = "
	       "1 } }"
	       "  else if (p ~ /\\/(on|off)\\//) last[d] = NR; }"
	       " /syncfs\\(/ { sync = NR; syncs++ } /fsync\\(/ { fsyncs++ }"
	       " /fsync\\(.*\\.sigex-unit/ { print \"stamp fsynced: \" $0; bad = 1 }"
	       " END { if (sync <= stamp) { print \"no syncfs after the last stamp\"; bad = 1 }"
	       "  print units, syncs, fsyncs; exit bad || units != 2 || syncs < 1 || "
	       "syncs > units + 1 || fsyncs > 4 }' trace"),
	    0, "%s%s", out, err);
	free(out);
	free(err);
}

/*
 * The same with two readers and six units: a unit's files are renamed into
 * place by its reader, which goes on reading; the syncer thread then makes
 * them durable (one syncfs, which may serve several units) and writes the
 * stamp.  Seen by strace: every stamp follows a syncfs begun after its
 * unit's last file was in place, the syncfs and the stamp come from one
 * thread and the unit's files from another, there are never more syncfs
 * than units plus the last one, and that one follows the last stamp.
 */
Test(cli_batch, unit_stamps_written_by_the_syncer_after_its_syncfs)
{
	char *err = NULL, *out = NULL;

	traced_batch("cp -r arch/plug arch/plug2 && cp -r arch/plug arch/plug3", 2);
	cr_assert_eq(
	    sh(&out, &err,
	       "awk '/rename\\(\"/ { p = $0; sub(/^[^\"]*\"/, \"\", p); sub(/\".*/, \"\", p);"
	       "  d = p; sub(/\\/[^\\/]*$/, \"\", d);"
	       "  if (p ~ /\\.sigex-unit\\.tmp\\./) { units++; stamp = NR;"
	       "    if (!(d in last) || sync <= last[d]) { print \"stamp before sync: \" d; bad = "
	       "1 }"
	       "    if ($1 != syncer) { print \"stamp not by the syncing thread: \" d; bad = 1 }"
	       "    if ($1 == writer[d]) { print \"stamp by the reader of its files: \" d; bad = 1 "
	       "} }"
	       "  else if (p ~ /\\/(on|off)\\//) { last[d] = NR; writer[d] = $1 } }"
	       " /syncfs\\(/ { sync = NR; syncer = $1; syncs++ }"
	       " END { if (sync <= stamp) { print \"no syncfs after the last stamp\"; bad = 1 }"
	       "  print units, syncs; exit bad || units != 6 || syncs < 1 || syncs > units + 1 }' "
	       "trace"),
	    0, "%s%s", out, err);
	free(out);
	free(err);
}

/*
 * A disk that stops writing (syncfs fails with EIO, support/fail_syncfs.c
 * preloaded): no unit is stamped whose files were not made durable, each
 * such unit fails with the reason, and when the stamps already written may
 * not have reached the disk the run says so (--resume would run their
 * units again).  From the first syncfs on: every unit fails, no stamp.
 * From the second: the first round's units are stamped, and the syncfs
 * that was to make their stamps durable fails, in the next round (whose
 * units fail) or in the syncer's last one.
 */
static int failing_syncfs_batch(unsigned from, char **err)
{
	return sh(NULL, err,
		  "rm -rf out && SX_FAIL_SYNCFS=%u LD_PRELOAD='%s' "
		  "ASAN_OPTIONS=\"$ASAN_OPTIONS:verify_asan_link_order=0\" " EPOCH
		  " '%s' batch -j1 arch -o out",
		  from, SX_FAIL_SYNCFS_SO, SX_BINARY);
}

Test(cli_batch, a_failing_syncfs_stamps_no_unit_it_did_not_make_durable)
{
	static const char *const units[] = {"plug/on", "plug/off", "plug2/on", "plug2/off"};
	char *err = NULL, *sum, path[64], row[64];
	size_t i, ok = 0;

	lease_archive(plug_mac, plug_mac);
	cr_assert_eq(sh(NULL, &err, "cp -r arch/plug arch/plug2"), 0, "%s", err);
	free(err);

	cr_assert_neq(failing_syncfs_batch(1, &err), 0, "%s", err);
	cr_assert(strstr(err, "cannot make the files durable: Input/output error"), "%s", err);
	cr_assert(!strstr(err, "may be lost"), "no stamp was written: %s", err);
	free(err);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		snprintf(path, sizeof(path), "out/%s/.sigex-unit", units[i]);
		cr_assert(!exists(path), "%s", path);
	}
	sum = read_sub("out/summary.csv");
	cr_assert_not_null(sum);
	cr_assert(!strstr(sum, ",ok\n"), "%s", sum);
	free(sum);

	failing_syncfs_batch(2, &err);
	cr_assert(strstr(err, "may be lost: --resume would run them again"), "%s", err);
	sum = read_sub("out/summary.csv");
	cr_assert_not_null(sum);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		char dev[16], ev[16];
		const char *r, *eol;
		bool row_ok;

		sscanf(units[i], "%15[^/]/%15s", dev, ev);
		snprintf(path, sizeof(path), "out/%s/.sigex-unit", units[i]);
		snprintf(row, sizeof(row), "\n%s,%s,", dev, ev);
		r = strstr(sum, row);
		cr_assert(r, "%s: %s", row, sum);
		eol = strchr(r + 1, '\n');
		row_ok = eol && eol - r >= 3 && strncmp(eol - 3, ",ok", 3) == 0;
		/* stamped exactly when its row says ok; else it says why */
		cr_assert_eq(exists(path), row_ok, "%s: %s", units[i], sum);
		if (row_ok)
			ok++;
		else
			cr_assert(strstr(err, units[i]), "%s: %s", units[i], err);
	}
	cr_assert_geq(ok, 1, "the first round's units are stamped: %s", sum);
	free(sum);
	free(err);
}

/* ---- failures ---- */

Test(cli_batch, failed_unit_does_not_stop_the_others)
{
	char *err = NULL, *sum;

	need_demo();
	cr_assert_eq(
	    sh(NULL, &err,
	       "mkdir -p arch/good/on arch/bad/on arch/empty/on arch/conf && "
	       "cp '%s'/17*.pcap arch/good/on/ && echo 'not a capture' >arch/bad/on/1.pcap "
	       "&& cp '%s'/1700000000.pcap arch/conf/ && echo 'ipv4: [1]' "
	       ">arch/conf/device.yaml",
	       DEMO, DEMO),
	    0, "%s", err);
	free(err);
	cr_assert_eq(batch(NULL, &err, "arch -o out -q --units 2"), 3, "%s", err);
	cr_assert(strstr(err, "bad/on: failed:"), "%s", err);
	cr_assert(strstr(err, "empty/on: no capture"), "%s", err);
	cr_assert(strstr(err, "conf: bad device.yaml"), "%s", err);
	free(err);
	sum = read_sub("out/summary.csv");
	cr_assert(strstr(sum, "\ngood,on,10,"), "%s", sum);
	cr_assert(strstr(sum, ",ok\n"), "%s", sum);
	cr_assert(strstr(sum, "\nbad,on,1,0,0,0,"), "%s", sum);
	cr_assert(strstr(sum, "\"failed: "), "%s", sum);
	cr_assert(strstr(sum, "\nempty,on,0,"), "%s", sum);
	cr_assert(strstr(sum, "ipv4: expected a single value"), "%s", sum);
	free(sum);
	cr_assert(exists("out/good/on/.sigex-unit"));
	cr_assert(!exists("out/bad/on/.sigex-unit"));
	cr_assert(exists("out/bad/on/.sigex-failed"));

	/* the same archive in two shards, then collect: the failed unit is
	 * reported (exit 3) and summary.csv is the one above */
	cr_assert_eq(sh(NULL, &err,
			"export " EPOCH "; for K in 1 0; do '%s' batch arch -o sh --shard $K/2 -q "
			"--units 2; rc=$?; [ $rc = 0 ] || [ $rc = 3 ] || exit 1; done",
			SX_BINARY),
		     0, "%s", err);
	free(err);
	cr_assert_eq(sh(NULL, &err, EPOCH " '%s' batch arch -o sh --collect", SX_BINARY), 3, "%s",
		     err);
	cr_assert(strstr(err, "bad/on: failed:"), "%s", err);
	cr_assert(!strstr(err, "missing"), "%s", err);
	free(err);
	assert_same_tree("out", "sh");
}

/*
 * The scan reads the devices on the run's threads; what it reports comes
 * out in the archive's order all the same, as a scan of one device after
 * the other reports it: the same lines at -j1 and -j4, in the devices'
 * name order (every device here fails at the scan, so nothing is read).
 */
Test(cli_batch, scan_reports_in_the_archives_order_at_any_j)
{
	static const char *const order[] = {"a0: bad device.yaml",
					    "b1: bad events.csv",
					    "device name \"c2\\x01\" refused",
					    "d3: device.yaml: events: no event \"nothere\"",
					    "e4.pcap: ignored",
					    "f5: bad device.yaml"};
	char *err1 = NULL, *err4 = NULL, *err = NULL;
	const char *at;
	size_t i;

	need_demo();
	cr_assert_eq(
	    sh(NULL, &err,
	       "mkdir -p w/arch/a0 w/arch/b1 \"w/arch/c2$(printf '\\001')/on\" "
	       "w/arch/d3/ev w/arch/f5 && echo 'ipv4: [1' >w/arch/a0/device.yaml && "
	       "cp '%s'/1700000000.pcap w/arch/a0/ && echo 'x,,,' >w/arch/b1/events.csv && "
	       "cp '%s'/1700000000.pcap w/arch/b1/ && "
	       "printf 'ipv4: 1.2.3.4\\nevents:\\n  nothere: {}\\n' >w/arch/d3/device.yaml && "
	       "cp '%s'/1700000000.pcap w/arch/e4.pcap && echo 'gateway: [' "
	       ">w/arch/f5/device.yaml",
	       DEMO, DEMO, DEMO),
	    0, "%s", err);
	free(err);
	batch(NULL, &err1, "w/arch -o w/out1 -j1");
	batch(NULL, &err4, "w/arch -o w/out4 -j4");
	/* the last line is the run's summary, with its time */
	*strrchr(err1, '\n') = '\0';
	*strrchr(err4, '\n') = '\0';
	*(strrchr(err1, '\n') ? strrchr(err1, '\n') : err1) = '\0';
	*(strrchr(err4, '\n') ? strrchr(err4, '\n') : err4) = '\0';
	cr_assert_str_eq(err1, err4);
	for (i = 0, at = err1; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *hit = strstr(at, order[i]);

		cr_assert(hit, "\"%s\" missing or out of order in:\n%s", order[i], err1);
		at = hit;
	}
	free(err1);
	free(err4);
}

Test(cli_batch, hostile_names_are_refused_inside_out)
{
	char *err = NULL, *sum, *found = NULL;

	need_demo();
	/* layout: a device and an event named with control characters, a
	 * device.yaml event and events.csv labels that climb out */
	cr_assert_eq(sh(NULL, &err,
			"mkdir -p w/arch \"w/arch/bad$(printf '\\nname')/on\" "
			"\"w/arch/dev/ev$(printf '\\001')\" w/arch/climb w/arch/labels && "
			"cp '%s'/1700000000.pcap \"w/arch/bad$(printf '\\nname')/on/\" && "
			"cp '%s'/1700000000.pcap \"w/arch/dev/ev$(printf '\\001')/\" && "
			"cp '%s'/1700000000.pcap w/arch/climb/ && "
			"echo 'event: ../../escape' >w/arch/climb/device.yaml && "
			"cp '%s'/1700000000.pcap w/arch/labels/ && "
			"printf '%%s\\n' '1700000000,../../escape' '1700000000,/tmp/abs' "
			"'1700000000,..' >w/arch/labels/events.csv",
			DEMO, DEMO, DEMO, DEMO),
		     0, "%s", err);
	free(err);
	cr_assert_eq(batch(NULL, &err, "w/arch -o w/out -q"), 3, "%s", err);
	cr_assert(strstr(err, "device name \"bad\\x0aname\" refused: contains a control"), "%s",
		  err);
	cr_assert(strstr(err, "dev/ev\\x01: event name \"ev\\x01\" refused"), "%s", err);
	cr_assert(strstr(err, "climb: bad device.yaml"), "%s", err);
	cr_assert(strstr(err, "event name \"../../escape\" refused"), "%s", err);
	cr_assert(strstr(err, "event name \"/tmp/abs\" refused"), "%s", err);
	cr_assert(strstr(err, "event name \"..\" refused"), "%s", err);
	free(err);
	sum = read_sub("w/out/summary.csv");
	cr_assert(strstr(sum, "\nbad\\x0aname,,0,"), "%s", sum);
	cr_assert(!strstr(sum, "bad\nname"), "%s", sum);
	free(sum);

	/* a manifest: absolute, climbing and separator names */
	cr_assert_eq(sh(NULL, &err,
			"{ echo '../escape,on,%s/1700000000.pcap'; "
			"echo '/abs/dev,on,%s/1700000000.pcap'; "
			"echo 'ok,../../up,%s/1700000000.pcap'; "
			"echo 'ok,a/b,%s/1700000000.pcap'; "
			"echo '..,on,%s/1700000000.pcap'; "
			"printf '\"new\\nline\",on,%s/1700000000.pcap\\n'; } >w/m.csv",
			DEMO, DEMO, DEMO, DEMO, DEMO, DEMO),
		     0, "%s", err);
	free(err);
	cr_assert_eq(batch(NULL, &err, "--manifest w/m.csv -o w/out2 -q"), 3, "%s", err);
	cr_assert(strstr(err, "device name \"../escape\" refused"), "%s", err);
	cr_assert(strstr(err, "device name \"/abs/dev\" refused"), "%s", err);
	cr_assert(strstr(err, "event name \"../../up\" refused"), "%s", err);
	cr_assert(strstr(err, "event name \"a/b\" refused"), "%s", err);
	cr_assert(strstr(err, "device name \"..\" refused"), "%s", err);
	cr_assert(strstr(err, "device name \"new\\x0aline\" refused"), "%s", err);
	free(err);

	/* nothing but OUT's own files was written, anywhere */
	cr_assert_eq(sh(&found, NULL,
			"find . -newer w/m.csv ! -path './w/out2*' ! -path . ! -path ./w "
			"! -name '*.sum'"),
		     0);
	cr_assert_str_eq(found, "", "written outside OUT: %s", found);
	free(found);
	cr_assert_eq(sh(&found, NULL,
			"for p in w/escape escape ../escape ../../escape /abs /tmp/abs; do "
			"test -e $p && echo $p; done; true"),
		     0);
	cr_assert_str_eq(found, "", "written outside OUT: %s", found);
	free(found);
	cr_assert_eq(sh(&found, NULL, "ls -A w/out2"), 0);
	cr_assert_str_eq(found, "summary.csv\n", "%s", found);
	free(found);
}

Test(cli_batch, quiet_prints_nothing_on_success)
{
	char *err = NULL, *out = NULL;

	need_demo();
	cr_assert_eq(sh(NULL, NULL, "mkdir -p arch/plug && cp '%s'/17*.pcap arch/plug/", DEMO), 0);
	cr_assert_eq(batch(&out, &err, "arch -o out -q"), 0, "%s", err);
	cr_assert_str_eq(out, "");
	cr_assert_str_eq(err, "");
	free(out);
	free(err);
	cr_assert(exists("out/plug/default/pattern.txt"));
}

/* ---- shards (--plan, --shard, --collect) and the reduce (mine --device) ---- */

TestSuite(cli_shard, .init = setup, .fini = teardown, .timeout = 600);

/* The shards of n, run by the shell loop `for K in ORDER` (background:
 * all at once, as GNU parallel would), then collect into out: exit 0. */
static void shards_then_collect(const char *out, unsigned n, const char *order, bool background)
{
	char *err = NULL;

	cr_assert_eq(sh(NULL, &err,
			"export " EPOCH "; for K in %s; do '%s' batch arch -o %s --shard $K/%u "
			"--resume -j 2 -q %s done; wait",
			order, SX_BINARY, out, n, background ? "&" : "|| exit 1;"),
		     0, "%s", err);
	free(err);
	cr_assert_eq(sh(NULL, &err, EPOCH " '%s' batch arch -o %s --collect -q", SX_BINARY, out), 0,
		     "%s", err);
	free(err);
}

Test(cli_shard, shards_in_any_order_then_collect_give_the_one_machine_tree)
{
	char *err = NULL, *out = NULL;

	iot_archive("arch");
	cr_assert_eq(batch(NULL, &err, "arch -o one -q"), 0, "%s", err);
	free(err);
	shards_then_collect("s1", 1, "0", false);
	shards_then_collect("s3", 3, "0 1 2", true);
	shards_then_collect("s7", 7, "6 4 2 0 5 3 1", false);
	assert_same_tree("one", "s1");
	assert_same_tree("one", "s3");
	assert_same_tree("one", "s7");
	assert_no_tmp("s3");
	cr_assert_eq(sh(&out, &err, "'%s' check one s7", SX_BINARY), 0, "%s%s", out, err);
	cr_assert(strstr(out, "agree: 23 signatures"), "%s", out);
	free(out);
	free(err);
}

Test(cli_shard, a_shard_runs_exactly_its_planned_units)
{
	char *err = NULL, *out = NULL;

	iot_archive("arch");
	/* the units shard 1 of 3 stamped are those the plan gives it */
	cr_assert_eq(sh(NULL, &err,
			EPOCH " '%s' batch arch -o out --shard 1/3 -q && '%s' batch arch --plan 3 "
			      ">plan.csv",
			SX_BINARY, SX_BINARY),
		     0, "%s", err);
	free(err);
	cr_assert_eq(
	    sh(&out, &err,
	       "awk -F, 'NR > 1 && $1 == 1 { print $2 \"/\" $3 }' plan.csv | sort >want && "
	       "(cd out && find . -name .sigex-unit | sed 's|^\\./||; s|/\\.sigex-unit$||' | "
	       "sort) >got && diff want got && wc -l <got"),
	    0, "%s%s", out, err);
	cr_assert(atoi(out) >= 1, "%s", out);
	free(out);
	free(err);
	/* a shard writes neither summary.csv nor a device's profile.yaml */
	cr_assert(!exists("out/summary.csv"));
	cr_assert_eq(sh(&out, NULL, "find out -mindepth 2 -maxdepth 2 -name profile.yaml"), 0);
	cr_assert_str_eq(out, "");
	free(out);
}

Test(cli_shard, plan_is_balanced_and_the_same_for_a_copy_elsewhere)
{
	char *err = NULL, *out = NULL;

	iot_archive("arch");
	cr_assert_eq(sh(NULL, &err, "cp -rL arch copy && touch copy/*/* && mkdir d && mv copy d/"),
		     0, "%s", err);
	free(err);
	cr_assert_eq(sh(NULL, &err,
			"'%s' batch arch --plan 7 >p1 && cd d && '%s' batch copy --plan 7 >../p2",
			SX_BINARY, SX_BINARY),
		     0, "%s", err);
	free(err);
	cr_assert_eq(sh(&out, NULL, "diff p1 p2"), 0, "%s", out);
	free(out);
	/* one row per unit; longest-processing-time bound: no shard holds more
	 * than the mean plus the largest unit, and every shard gets a unit */
	cr_assert_eq(
	    sh(&out, &err,
	       "awk -F, 'NR == 1 { if ($0 != \"shard,device,event,captures,bytes\") "
	       "exit 1; next } { n++; load[$1] += $5; tot += $5; if ($5 > big) big = $5 } "
	       "END { for (k = 0; k < 7; k++) if (!(k in load) || load[k] > tot / 7 + big) "
	       "exit 2; print n }' p1"),
	    0, "%s%s", out, err);
	cr_assert_eq(atoi(out), IOT_DEVICES, "%s", out);
	free(out);
	free(err);
	/* more shards than units: the others are empty, and run nothing */
	cr_assert_eq(
	    sh(&out, &err, "'%s' batch arch --plan 40 | cut -d, -f1 | sort -u | wc -l", SX_BINARY),
	    0, "%s", err);
	cr_assert_eq(atoi(out), IOT_DEVICES + 1, "%s", out); /* the header too */
	free(out);
	free(err);
	cr_assert_eq(sh(NULL, &err, EPOCH " '%s' batch arch -o e --shard 39/40 -q", SX_BINARY), 0,
		     "%s", err);
	free(err);
	cr_assert_eq(stamps("e"), 0);
}

Test(cli_shard, collect_names_the_missing_and_stale_units_and_writes_nothing)
{
	char *err = NULL, *out = NULL, *want = NULL, *p, *line;
	size_t nwant;

	iot_archive("arch");
	cr_assert_eq(sh(NULL, &err,
			"export " EPOCH "; for K in 0 2; do '%s' batch arch -o out --shard $K/3 -q "
			"|| exit 1; done",
			SX_BINARY),
		     0, "%s", err);
	free(err);
	cr_assert_eq(sh(NULL, &err, EPOCH " '%s' batch arch -o out --collect -q", SX_BINARY), 3,
		     "%s", err);
	/* every unit of shard 1 is named, no other */
	cr_assert_eq(sh(&want, NULL,
			"'%s' batch arch --plan 3 | awk -F, 'NR > 1 && $1 == 1 { print $2 \"/\" "
			"$3 }'",
			SX_BINARY),
		     0);
	nwant = sx_tt_lines(want);
	cr_assert(nwant >= 1);
	/* a line per unit, and the last one */
	cr_assert_eq(sx_tt_lines(err), nwant + 1, "%s", err);
	for (p = want; (line = strtok(p, "\n")); p = NULL) {
		char *named;

		cr_assert(asprintf(&named, "%s: missing: no stamp", line) > 0);
		cr_expect(strstr(err, named), "%s not named: %s", line, err);
		free(named);
	}
	cr_assert(strstr(err, "units have no matching stamp"), "%s", err);
	free(want);
	free(err);
	cr_assert(!exists("out/summary.csv"));
	cr_assert_eq(sh(&out, NULL, "find out -mindepth 2 -maxdepth 2 -name profile.yaml"), 0);
	cr_assert_str_eq(out, "", "device profiles written: %s", out);
	free(out);

	/* the last shard, then collect: done; with other options the stamps
	 * are stale */
	cr_assert_eq(sh(NULL, &err,
			EPOCH " '%s' batch arch -o out --shard 1/3 -q && " EPOCH
			      " '%s' batch arch -o out --collect -q",
			SX_BINARY, SX_BINARY),
		     0, "%s", err);
	free(err);
	cr_assert(exists("out/summary.csv"));
	cr_assert(exists("out/Aria/profile.yaml"));
	cr_assert_eq(
	    sh(NULL, &err, EPOCH " '%s' batch arch -o out --collect --support 0.5 -q", SX_BINARY),
	    3, "%s", err);
	cr_assert(strstr(err, "Aria/default: stale"), "%s", err);
	free(err);
}

Test(cli_shard, usage_errors)
{
	static const struct usage_case cases[] = {
	    {"d --shard 3/3", "--shard expects K/N"},
	    {"d --shard 0/0", "--shard expects K/N"},
	    {"d --shard 1", "--shard expects K/N"},
	    {"d --shard a/2", "--shard expects K/N"},
	    {"d --shard 0/2 --collect", "give one"},
	    {"d --plan 0", "--plan expects"},
	    {"d --plan 2 -o x", "--plan writes nothing"},
	    {"d --plan 2 --collect", "--plan writes nothing"},
	};
	size_t i;

	cr_assert_eq(sh(NULL, NULL, "mkdir d"), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *err = NULL;

		cr_expect_eq(batch(NULL, &err, cases[i].args), 2, "[%s]: %s", cases[i].args, err);
		cr_expect(err && strstr(err, cases[i].msg), "[%s]: %s", cases[i].args, err);
		free(err);
	}
	cr_assert(!exists("x"));
}

/* The map/reduce of a unit: `sigex flows` on each capture alone (from the
 * archive's root) with --names-out, then `sigex mine --device` over the
 * CSVs with --names-from each table, writes the unit's three files byte
 * for byte.  D-LinkCam's cloud server has several names across its
 * captures: without the merged tables it would be named otherwise. */
Test(cli_shard, mine_with_the_device_writes_the_units_files)
{
	static const char *const devices[] = {"Aria", "D-LinkCam", "EdimaxCam2"};
	char *err = NULL;
	size_t i;

	iot_archive("arch");
	cr_assert_eq(batch(NULL, &err, "arch -o one -q"), 0, "%s", err);
	free(err);
	for (i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
		const char *d = devices[i];

		cr_assert_eq(
		    sh(NULL, &err,
		       "mkdir -p csv/%s && cd arch && for f in %s/*.pcap; do '%s' flows -q \"$f\" "
		       "-o \"../csv/$f.csv\" --names-out \"../csv/$f.names\" || exit 1; done && "
		       "cd .. && ip=$(awk -F, '$1 == \"%s\" { print $8 }' one/summary.csv) && "
		       "mac=$(awk -F, '$1 == \"%s\" { print $9 }' one/summary.csv) && "
		       "names=$(for f in csv/%s/*.names; do printf -- '--names-from %%s ' $f; "
		       "done) "
		       "&& " EPOCH " '%s' mine -q csv/%s/*.csv $names --device %s --ipv4 $ip "
		       "--mac $mac --event default -o red/%s && "
		       "for f in pattern.txt signatures.yaml profile.yaml; do "
		       "cmp red/%s/$f one/%s/default/$f >&2 || exit 1; done",
		       d, d, SX_BINARY, d, d, d, SX_BINARY, d, d, d, d, d),
		    0, "%s: %s", d, err);
		free(err);
	}
}

#define TESTBED SX_SHARED_CORPORA "/smart-home-network-security+smart-home-firewall/eval/latency"

/* The map/reduce of one event over long captures (the firewall testbed's
 * TP-Link plug, its own capture point in the three runs): `sigex flows`
 * per capture, then `sigex mine --device`, equal the main job's files. */
Test(cli_shard, mine_reduce_of_long_captures_equals_the_main_job)
{
	char *err = NULL;
	struct stat st;

	if (stat(TESTBED "/tplink-plug", &st) != 0)
		sx_tt_skip_missing("firewall testbed captures missing (%s)", TESTBED);
	cr_assert_eq(
	    sh(NULL, &err,
	       "export " EPOCH "; here=$PWD && cd '%s/tplink-plug' && "
	       "caps='no-firewall/wlan2.4.pcap base-firewall/wlan2.4.pcap "
	       "my-firewall/wlan2.4.pcap' "
	       "&& '%s' extract tplink-plug 192.168.1.135 $caps --mac 50:c7:bf:ed:0a:54 -q "
	       "-o $here/main && i=0 && for c in $caps; do i=$((i + 1)); '%s' flows -q $c "
	       "-o $here/f$i.csv || exit 1; done && cd $here && '%s' mine -q f1.csv f2.csv "
	       "f3.csv --device tplink-plug --ipv4 192.168.1.135 --mac 50:C7:BF:ED:0A:54 -o red && "
	       "for f in pattern.txt signatures.yaml profile.yaml; do cmp main/$f red/$f || "
	       "exit 1; done",
	       TESTBED, SX_BINARY, SX_BINARY, SX_BINARY),
	    0, "%s", err);
	free(err);
}

Test(cli_shard, mine_device_usage_errors)
{
	static const struct usage_case cases[] = {
	    {"f.csv --ipv4 10.0.0.1", "give --device too"},
	    {"f.csv --mac 00:11:22:33:44:55", "give --device too"},
	    {"f.csv --stats", "give --device too"},
	    {"f.csv --device plug", "--device needs --ipv4"},
	    {"f.csv --device plug --ipv4 10.0.0", "--ipv4 expects"},
	    {"f.csv --device plug --ipv4 10.0.0.1 --mac 00:11", "--mac expects"},
	    {"f.csv --device plug --ipv4 10.0.0.1 --ipv6 10.0.0.1", "--ipv6 expects"},
	    {"f.csv --names-from nowhere.names", "--names-from \"nowhere.names\""},
	};
	size_t i;

	cr_assert_eq(sh(NULL, NULL, "touch f.csv"), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *err = NULL;

		cr_expect_eq(sh(NULL, &err, "'%s' mine %s -o out", SX_BINARY, cases[i].args), 2,
			     "[%s]: %s", cases[i].args, err);
		cr_expect(err && strstr(err, cases[i].msg), "[%s]: %s", cases[i].args, err);
		free(err);
	}
	cr_assert(!exists("out"));
}
