/*
 * test_cli_signals.c - SIGINT and SIGTERM stop a run cleanly: `sigex
 * packets -o FILE`, `sigex flows -o FILE`, the main job (-o DIR) and the main
 * job in --mode upstream, run as programs (SX_BINARY) on a large input.
 *
 * The input is written by the test (no shared corpora needed): a capture of
 * LARGE_PKTS small UDP packets over 4096 flows (about 90 MB), given through
 * several hard links so that a run lasts seconds.  sigex is started with an
 * old output in place, signalled after SIGNAL_AFTER seconds, and must:
 *   - exit with 128 + the signal (130 for SIGINT, 143 for SIGTERM; the
 *     commands' documented status), saying "interrupted" on stderr;
 *   - stop promptly (within STOP_MAX_SECS of the signal);
 *   - leave the old output exactly as it was (for the main job, every file
 *     of the output directory), and no temporary file (NAME.tmp.XXXXXX) in
 *     the output directory nor spooled copy (sigex-spool-*) in TMPDIR.
 * A second signal kills at once (the status of death by that signal, or 130
 * when the first stop was already done), still without temporaries.  A
 * sweep of signal times over a smaller input checks the other end: each run
 * either finished (exit 0, the complete new output, byte for byte) or was
 * stopped (130, the old output), never anything in between.  Standard input
 * spooled to a temporary file (packets reads its inputs twice) is removed
 * too, also when the signal comes while sigex waits on the pipe.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/tmp.h"

#define LARGE_PKTS    1200000
#define SWEEP_PKTS    200000
#define NFLOWS	      4096
#define SIGNAL_AFTER  0.3
#define STOP_MAX_SECS 5.0
#define DEVICE	      "192.0.2.1"

static char *dir;

/*
 * Criterion 2.4.1 leaks the 48-byte timeout-watchdog entry of some tests
 * (calloc in libcriterion, from criterion_run_all_tests) when a suite with
 * .timeout runs with --jobs=2; LeakSanitizer would fail the runner for it.
 * Built-in suppression for this binary only: any leak with a frame of ours
 * is still reported, and the sigex processes run here are not concerned.
 */
const char *__lsan_default_suppressions(void);

const char *__lsan_default_suppressions(void)
{
	return "leak:libcriterion.so\n";
}

/* A note on stderr (cr_log_* allocations leak under LeakSanitizer). */
static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("[note] ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

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

TestSuite(cli_signals, .init = setup, .fini = teardown);

static char *sub(const char *name)
{
	char *p = sx_tt_path(dir, name);

	cr_assert_not_null(p);
	return p;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_secs(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void put32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* npkts UDP packets, DEVICE:10000+k -> 192.0.2.2:53, k = i % NFLOWS, 10 us apart. */
static void write_large(const char *path, size_t npkts)
{
	static const uint8_t eth[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0};
	uint8_t hdr[24] = {0}, rec[16 + 60];
	FILE *f = fopen(path, "wb");
	size_t i;

	cr_assert_not_null(f);
	put32le(hdr, 0xa1b2c3d4);
	hdr[4] = 2;
	hdr[6] = 4;
	put32le(hdr + 16, 65535);
	put32le(hdr + 20, 1);
	cr_assert_eq(fwrite(hdr, 1, 24, f), 24);
	memset(rec, 0, sizeof(rec));
	memcpy(rec + 16, eth, 14);
	rec[30] = 0x45;
	rec[32] = 0;
	rec[33] = 46;
	rec[38] = 64;
	rec[39] = 17;
	rec[42] = 192, rec[43] = 0, rec[44] = 2, rec[45] = 1;
	rec[46] = 192, rec[47] = 0, rec[48] = 2, rec[49] = 2;
	rec[52] = 0;
	rec[53] = 53;
	rec[54] = 0;
	rec[55] = 26;
	memset(rec + 58, 'x', 18);
	put32le(rec + 8, 60);
	put32le(rec + 12, 60);
	for (i = 0; i < npkts; i++) {
		uint64_t us = (uint64_t)i * 10;
		uint16_t sport = (uint16_t)(10000 + i % NFLOWS);

		put32le(rec, (uint32_t)(1700000000 + us / 1000000));
		put32le(rec + 4, (uint32_t)(us % 1000000));
		rec[50] = (uint8_t)(sport >> 8);
		rec[51] = (uint8_t)sport;
		cr_assert_eq(fwrite(rec, 1, sizeof(rec), f), sizeof(rec));
	}
	cr_assert_eq(fclose(f), 0);
}

/* nlinks hard links big-N.pcap to big.pcap (one file on disk). */
static void link_copies(const char *big, unsigned nlinks)
{
	unsigned i;

	for (i = 0; i < nlinks; i++) {
		char name[32], *p;

		snprintf(name, sizeof(name), "big-%u.pcap", i);
		p = sub(name);
		unlink(p);
		cr_assert_eq(link(big, p), 0, "link %s: %s", p, strerror(errno));
		free(p);
	}
}

enum cmd { PACKETS, FLOWS, EXTRACT, UPSTREAM };

static const char *const cmd_names[] = {"packets", "flows", "extract", "extract --mode upstream"};

/* Whether cmd writes an output directory (the main job, either mode). */
static bool writes_dir(enum cmd cmd)
{
	return cmd == EXTRACT || cmd == UPSTREAM;
}

/* The old outputs a run must leave alone. */
static void write_olds(enum cmd cmd)
{
	char *out = sub("out"), *p;
	static const char *const files[] = {"profile.yaml", "pattern.txt", "signatures.yaml",
					    "big-0.csv"};
	size_t i;

	sx_tt_rm_tree(out);
	mkdir(out, 0755);
	if (writes_dir(cmd)) {
		for (i = 0; i < 4; i++) {
			p = sx_tt_path(out, files[i]);
			cr_assert_eq(sx_tt_write(p, "old\n", 4), 0);
			free(p);
		}
	} else {
		p = sx_tt_path(out, "out.csv");
		cr_assert_eq(sx_tt_write(p, "old\n", 4), 0);
		free(p);
	}
	free(out);
}

/* The old outputs are there, unchanged, and nothing else is. */
static void assert_olds(enum cmd cmd, const char *what)
{
	char *out = sub("out"), *tmp = sub("tmp");
	DIR *d = opendir(out);
	struct dirent *e;
	unsigned n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		char *p, *text;

		if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..")))
			continue;
		cr_expect_null(strstr(e->d_name, ".tmp."), "%s: temporary file left: %s", what,
			       e->d_name);
		p = sx_tt_path(out, e->d_name);
		text = sx_tt_read(p, NULL);
		cr_expect_str_eq(text ? text : "(unreadable)", "old\n", "%s: %s changed", what,
				 e->d_name);
		free(text);
		free(p);
		n++;
	}
	closedir(d);
	cr_expect_eq(n, writes_dir(cmd) ? 4u : 1u, "%s: files added to the output directory", what);
	d = opendir(tmp);
	cr_assert_not_null(d);
	while ((e = readdir(d)))
		cr_expect_null(strstr(e->d_name, "sigex-spool"), "%s: spooled copy left: %s", what,
			       e->d_name);
	closedir(d);
	free(tmp);
	free(out);
}

/* Start sigex cmd over the inputs (space-separated, from dir), stdout and
 * stderr to files; stdin_fd (or /dev/null when -1) as standard input. */
static pid_t spawn(enum cmd cmd, const char *inputs, int stdin_fd)
{
	char *argv[64], *copy = strdup(inputs), *tok, *save = NULL, *tmp = sub("tmp");
	int argc = 0;
	pid_t pid;

	cr_assert_not_null(copy);
	mkdir(tmp, 0755);
	argv[argc++] = (char *)SX_BINARY;
	if (writes_dir(cmd)) {
		argv[argc++] = (char *)DEVICE;
		argv[argc++] = (char *)DEVICE;
	} else {
		argv[argc++] = (char *)cmd_names[cmd];
	}
	for (tok = strtok_r(copy, " ", &save); tok && argc < 56; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	if (cmd == UPSTREAM) { /* the reference's command line: no -j */
		argv[argc++] = (char *)"--mode";
		argv[argc++] = (char *)"upstream";
	} else {
		argv[argc++] = (char *)"-j2";
	}
	argv[argc++] = (char *)"-o";
	argv[argc++] = (char *)(writes_dir(cmd) ? "out" : "out/out.csv");
	argv[argc] = NULL;
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int in = stdin_fd >= 0 ? stdin_fd : open("/dev/null", O_RDONLY);
		int out, err;

		if (chdir(dir) != 0)
			_exit(126);
		out = open("stdout.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		err = open("stderr.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (in < 0 || out < 0 || err < 0 || dup2(in, STDIN_FILENO) < 0 ||
		    dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0)
			_exit(126);
		setenv("TMPDIR", tmp, 1);
		setenv("SOURCE_DATE_EPOCH", "0", 1);
		execv(SX_BINARY, argv);
		_exit(127);
	}
	free(copy);
	free(tmp);
	return pid;
}

/* Wait at most secs for pid; its wait status, or -1 after killing it. */
static int wait_for(pid_t pid, double secs)
{
	double end = now() + secs;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return st;
		cr_assert_eq(r, 0, "waitpid: %s", strerror(errno));
		if (now() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		sleep_secs(0.01);
	}
}

static char *read_sub(const char *name)
{
	char *p = sub(name), *text = sx_tt_read(p, NULL);

	free(p);
	return text ? text : strdup("");
}

/* Whether pid is still running (not yet exited). */
static bool running(pid_t pid, int *st)
{
	return waitpid(pid, st, WNOHANG) == 0;
}

/*
 * Start cmd on the large input, signal it after SIGNAL_AFTER seconds (a
 * second signal after second when > 0), and check the outcome.  The input
 * grows (more links) until the run is still going when signalled.
 */
static void interrupt(enum cmd cmd, int sig, double second)
{
	char *big = sub("big.pcap"), inputs[2048], what[128];
	unsigned nlinks = 4, i, attempt;
	int st = 0;
	double t;
	pid_t pid;
	char *err;

	snprintf(what, sizeof(what), "sigex %s, %s%s", cmd_names[cmd], strsignal(sig),
		 second > 0 ? " twice" : "");
	inputs[0] = '\0';
	write_large(big, LARGE_PKTS);
	for (attempt = 0; attempt < 3; attempt++, nlinks *= 4) {
		link_copies(big, nlinks);
		inputs[0] = '\0';
		for (i = 0; i < nlinks; i++) {
			char one[32];

			snprintf(one, sizeof(one), "big-%u.pcap ", i);
			strcat(inputs, one);
		}
		write_olds(cmd);
		pid = spawn(cmd, inputs, -1);
		sleep_secs(SIGNAL_AFTER);
		if (running(pid, &st))
			break;
		note("%s: finished within %.1f s on %u links; more", what, SIGNAL_AFTER, nlinks);
		pid = 0;
	}
	cr_assert_neq(pid, 0, "%s: sigex finishes too fast to be interrupted", what);
	cr_assert_eq(kill(pid, sig), 0);
	t = now();
	if (second > 0) {
		sleep_secs(second);
		kill(pid, sig);
	}
	st = wait_for(pid, STOP_MAX_SECS + 30);
	cr_assert_neq(st, -1, "%s: still running %.0f s after the signal", what,
		      STOP_MAX_SECS + 30);
	cr_expect_lt(now() - t, STOP_MAX_SECS, "%s: took %.1f s to stop", what, now() - t);
	err = read_sub("stderr.txt");
	if (second > 0) {
		cr_expect((WIFSIGNALED(st) && WTERMSIG(st) == sig) ||
			      (WIFEXITED(st) && WEXITSTATUS(st) == 128 + sig),
			  "%s: status %#x\n%s", what, st, err);
	} else {
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 128 + sig,
			  "%s: expected exit %d, status %#x\n%s", what, 128 + sig, st, err);
		cr_expect(strstr(err, "interrupted"), "%s: stderr:\n%s", what, err);
		cr_expect_null(strstr(err, "Sanitizer"), "%s: %s", what, err);
	}
	assert_olds(cmd, what);
	free(err);
	free(big);
}

Test(cli_signals, packets_sigint, .timeout = 120)
{
	interrupt(PACKETS, SIGINT, 0);
}

Test(cli_signals, packets_sigterm, .timeout = 120)
{
	interrupt(PACKETS, SIGTERM, 0);
}

Test(cli_signals, flows_sigint, .timeout = 120)
{
	interrupt(FLOWS, SIGINT, 0);
}

Test(cli_signals, flows_sigterm, .timeout = 120)
{
	interrupt(FLOWS, SIGTERM, 0);
}

Test(cli_signals, main_job_sigint, .timeout = 120)
{
	interrupt(EXTRACT, SIGINT, 0);
}

Test(cli_signals, main_job_sigterm, .timeout = 120)
{
	interrupt(EXTRACT, SIGTERM, 0);
}

Test(cli_signals, upstream_sigint, .timeout = 120)
{
	interrupt(UPSTREAM, SIGINT, 0);
}

Test(cli_signals, upstream_sigterm, .timeout = 120)
{
	interrupt(UPSTREAM, SIGTERM, 0);
}

Test(cli_signals, second_signal_kills_at_once, .timeout = 120)
{
	interrupt(PACKETS, SIGINT, 0.02);
}

/* Standard input through a pipe kept open: packets spools it (it reads its
 * inputs twice) and is waiting on the pipe when the signal comes. */
Test(cli_signals, spooled_standard_input_is_removed, .timeout = 60)
{
	char *big = sub("big.pcap"), *data, *err;
	int fds[2], st;
	size_t n, off = 0;
	pid_t pid;

	write_large(big, 100000);
	data = sx_tt_read(big, &n);
	cr_assert_not_null(data);
	cr_assert_eq(pipe(fds), 0);
	write_olds(PACKETS);
	pid = spawn(PACKETS, "-", fds[0]);
	close(fds[0]);
	while (off < n) { /* the whole capture, then the pipe stays open */
		ssize_t w = write(fds[1], data + off, n - off);

		cr_assert_gt(w, 0);
		off += (size_t)w;
	}
	sleep_secs(SIGNAL_AFTER);
	cr_assert(running(pid, &st), "sigex did not wait for the end of its input");
	kill(pid, SIGINT);
	st = wait_for(pid, STOP_MAX_SECS);
	close(fds[1]);
	err = read_sub("stderr.txt");
	cr_expect(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 130, "status %#x\n%s", st, err);
	assert_olds(PACKETS, "packets -, SIGINT while spooling");
	free(err);
	free(data);
	free(big);
}

/* Every file of out/ as "name\ncontent\n" records, in name order. */
static char *snapshot_out(void)
{
	char *out = sub("out"), *all = NULL;
	struct dirent **names;
	size_t len = 0;
	FILE *m = open_memstream(&all, &len);
	int i, n;

	cr_assert_not_null(m);
	n = scandir(out, &names, NULL, alphasort);
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			char *p = sx_tt_path(out, names[i]->d_name), *text = sx_tt_read(p, NULL);

			fprintf(m, "== %s\n%s", names[i]->d_name, text ? text : "(unreadable)");
			free(text);
			free(p);
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	fclose(m);
	free(out);
	return all;
}

/* After a stopped run: each file of out/ is its old content or the complete
 * new one of the reference run (ref: snapshot_out() of it), no temporary. */
static void assert_old_or_complete(const char *ref, const char *what)
{
	char *out = sub("out");
	DIR *d = opendir(out);
	struct dirent *e;

	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		char *p, *text, *key;
		const char *in_ref;

		if (e->d_name[0] == '.')
			continue;
		cr_expect_null(strstr(e->d_name, ".tmp."), "%s: temporary file left: %s", what,
			       e->d_name);
		p = sx_tt_path(out, e->d_name);
		text = sx_tt_read(p, NULL);
		cr_assert_not_null(text);
		cr_assert(asprintf(&key, "== %s\n%s", e->d_name, text) > 0);
		in_ref = strstr(ref, key);
		cr_expect(!strcmp(text, "old\n") ||
			      (in_ref &&
			       (!in_ref[strlen(key)] || !strncmp(in_ref + strlen(key), "== ", 3))),
			  "%s: %s is neither the old file nor the complete new one", what,
			  e->d_name);
		free(key);
		free(text);
		free(p);
	}
	closedir(d);
	free(out);
}

/*
 * Signals at many moments, from the reading to the renaming: each run ends
 * either complete (0, the reference outputs) or stopped (130 or, before the
 * handler is installed, death by SIGINT) with every output file either as
 * it was or complete (the main job writes its files one after the other,
 * each atomically: a stop between two leaves complete new CSVs beside the
 * old profile, as a failed write does).
 */
static void sweep(enum cmd cmd)
{
	static const double delays[] = {0.01, 0.05, 0.1, 0.15, 0.2, 0.3, 0.45, 0.6, 0.8, 1.2};
	char *big = sub("big.pcap"), *ref;
	unsigned i, done = 0, stopped = 0;
	const char *inputs = "big-0.pcap big-1.pcap";
	pid_t pid;
	int st;

	write_large(big, SWEEP_PKTS);
	link_copies(big, 2);
	write_olds(cmd);
	pid = spawn(cmd, inputs, -1);
	st = wait_for(pid, 60);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "reference run: %#x", st);
	ref = snapshot_out();
	cr_assert_null(strstr(ref, "old\n"), "the reference run replaced everything");
	for (i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		char what[64], *got, *err;

		snprintf(what, sizeof(what), "sigex %s, SIGINT after %.2f s", cmd_names[cmd],
			 delays[i]);
		write_olds(cmd);
		pid = spawn(cmd, inputs, -1);
		sleep_secs(delays[i]);
		kill(pid, SIGINT);
		st = wait_for(pid, 60);
		err = read_sub("stderr.txt");
		cr_assert(WIFEXITED(st) || (WIFSIGNALED(st) && WTERMSIG(st) == SIGINT),
			  "%s: status %#x\n%s", what, st, err);
		if (WIFSIGNALED(st) || WEXITSTATUS(st) == 130) {
			if (cmd == EXTRACT)
				assert_old_or_complete(ref, what);
			else
				assert_olds(cmd, what);
			stopped++;
		} else {
			cr_expect_eq(WEXITSTATUS(st), 0, "%s: exit %d\n%s", what, WEXITSTATUS(st),
				     err);
			got = snapshot_out();
			cr_expect_str_eq(got, ref, "%s: not the complete outputs", what);
			free(got);
			done++;
		}
		free(err);
	}
	note("sigex %s: %u runs stopped, %u complete", cmd_names[cmd], stopped, done);
	cr_expect_gt(stopped, 0, "no run was stopped");
	free(ref);
	free(big);
}

Test(cli_signals, packets_sweep_is_all_or_nothing, .timeout = 300)
{
	sweep(PACKETS);
}

Test(cli_signals, flows_sweep_is_all_or_nothing, .timeout = 300)
{
	sweep(FLOWS);
}

Test(cli_signals, main_job_sweep_is_all_or_nothing, .timeout = 300)
{
	sweep(EXTRACT);
}
