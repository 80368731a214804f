/*
 * cli.c - see cli.h.  Runs on the main thread, except the signal handler.
 *
 * Signals.  The first SIGINT or SIGTERM removes every registered temporary
 * file (outputs being written, spooled inputs: core/outfile.h), sets the
 * run-wide stop flag and remembers the signal; the commands then wind down
 * (readers stop between batches, sx_out_commit() refuses to rename) and
 * exit with 128 + the signal number (130, 143) through sx_cli_exit(), unless
 * the signal came after the command's last output was renamed into place
 * (sx_cli_finished()): the work is then complete and says so.  A
 * second signal kills the process at once, after removing the temporary
 * files again.  The handler is installed without SA_RESTART so that a read
 * from a pipe on the main thread (spooling standard input) returns EINTR.
 *
 * A closed output pipe (`sigex flows ... | head`) ends the run quietly, as
 * it ends tcpdump or grep: SIGPIPE removes the temporary files and exits
 * with 141 (128 + SIGPIPE, what a shell shows for a process the signal
 * killed), printing nothing.  Outputs already renamed into place stay.
 *
 * Output directories.  sx_cli_output_dir() remembers the directories it had
 * to create; a run that ends with a failure, a usage error or a signal
 * removes them again (when still empty), so a failed run leaves no new
 * directory behind.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/outfile.h"
#include "core/util.h"
#include "flows/flows.h"

static volatile sig_atomic_t signals_seen;
static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t finished;

/* Spooled copies: their cleanup registrations (core/outfile.h), by input. */
static int *spool_slots;

/* Directories sx_cli_output_dir() created, outermost first. */
#define MAX_MADE 16
static char made_dirs[MAX_MADE][4096];
static volatile sig_atomic_t nmade;

/* Remove the directories this run created, innermost first (rmdir: only
 * when empty).  Async-signal-safe. */
static void unmake_dirs(void)
{
	while (nmade > 0)
		rmdir(made_dirs[--nmade]);
}

static void on_sigpipe(int sig)
{
	(void)sig;
	sx_out_cleanup_all();
	unmake_dirs();
	_exit(SX_CLI_EXIT_PIPE);
}

static void on_signal(int sig)
{
	int saved = errno;

	sx_out_cleanup_all();
	if (signals_seen++) {
		unmake_dirs();
		signal(sig, SIG_DFL);
		raise(sig);
	}
	stop_signal = sig;
	sx_request_stop();
	errno = saved;
}

void sx_cli_finished(void)
{
	finished = 1;
}

int sx_cli_exit(int exit_code)
{
	int ret = stop_signal && !finished ? 128 + stop_signal : exit_code;

	if (ret != SX_EXIT_OK && ret != SX_EXIT_PARTIAL)
		unmake_dirs();
	return ret;
}

void sx_cli_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_sigpipe;
	sigaction(SIGPIPE, &sa, NULL);
}

void sx_cli_warn_capped(uint64_t max_flows, uint64_t capped)
{
	if (!capped)
		return;
	if (max_flows)
		sx_log(SX_LOG_WARN,
		       "flow table full: more than %llu flows live at once (--max-flows); %llu "
		       "flows were ended early as idle, so some flows are split; raise "
		       "--max-flows to keep them whole",
		       (unsigned long long)max_flows, (unsigned long long)capped);
	else
		sx_log(SX_LOG_WARN,
		       "flow table full: more than %u flows live at once in one capture (the "
		       "default --max-flows per reader thread); %llu flows were ended early as "
		       "idle, so some flows are split; raise --max-flows to keep them whole",
		       (unsigned)SX_FLOWS_MAX_LIVE_DEFAULT, (unsigned long long)capped);
}

int sx_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sigex%s%s: usage error: %s\nTry 'sigex%s%s --help'.\n", cmd ? " " : "",
		cmd ? cmd : "", msg, cmd ? " " : "", cmd ? cmd : "");
	return SX_EXIT_USAGE;
}

int sx_cli_threads(const char *cmd, const char *arg, unsigned *out)
{
	uint64_t v;

	if (sx_parse_u64(arg, 1, 1024, &v))
		return sx_cli_usage_error(
		    cmd, "-j expects a number of threads from 1 to 1024, not \"%s\"", arg);
	*out = (unsigned)v;
	return 0;
}

int sx_cli_check_filter(const char *cmd, const char *filter)
{
	struct bpf_program prog;
	pcap_t *p;
	int ret = 0;

	if (!filter)
		return 0;
	p = pcap_open_dead(DLT_EN10MB, 262144);
	if (!p)
		return -ENOMEM;
	if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0)
		ret = sx_cli_usage_error(cmd, "bad filter \"%s\": %s", filter, pcap_geterr(p));
	else
		pcap_freecode(&prog);
	pcap_close(p);
	return ret;
}

static bool needs_spool(const char *path)
{
	struct stat st;

	if (strcmp(path, "-") == 0)
		return true;
	return stat(path, &st) == 0 && S_ISFIFO(st.st_mode);
}

static int copy_fd(int in, int out)
{
	char buf[65536];

	for (;;) {
		ssize_t r = read(in, buf, sizeof(buf));
		ssize_t off = 0;

		if (r < 0 && errno == EINTR && !sx_stop_requested())
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return 0;
		while (off < r) {
			ssize_t w = write(out, buf + off, (size_t)(r - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -errno;
			off += w;
		}
	}
}

int sx_cli_spool(const char *const *paths, int n, char ***read_paths)
{
	char **rp = calloc((size_t)n + 1, sizeof(*rp));
	const char *tmpdir = getenv("TMPDIR");
	int i, ret = 0;

	free(spool_slots);
	spool_slots = sx_calloc_array((size_t)n + 1, sizeof(*spool_slots));
	if (!rp || !spool_slots) {
		free(rp);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		spool_slots[i] = -1;
	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	for (i = 0; i < n; i++) {
		int in, out;

		if (!needs_spool(paths[i])) {
			rp[i] = (char *)paths[i];
			continue;
		}
		if (asprintf(&rp[i], "%s/sigex-spool-XXXXXX", tmpdir) < 0) {
			rp[i] = NULL;
			ret = -ENOMEM;
			break;
		}
		out = mkstemp(rp[i]);
		if (out < 0) {
			ret = -errno;
			fprintf(stderr, "sigex: error: cannot spool %s: %s\n", paths[i],
				strerror(errno));
			free(rp[i]);
			rp[i] = NULL;
			break;
		}
		/* Removed by the signal handler too; unlinked before return otherwise. */
		spool_slots[i] = sx_out_track(rp[i]);
		in = strcmp(paths[i], "-") == 0 ? STDIN_FILENO
						: open(paths[i], O_RDONLY | O_NONBLOCK);
		if (in >= 0) {
			fcntl(in, F_SETFL, fcntl(in, F_GETFL) & ~O_NONBLOCK);
			ret = copy_fd(in, out);
			if (in != STDIN_FILENO)
				close(in);
		} else {
			ret = -errno;
		}
		close(out);
		if (sx_stop_requested()) {
			ret = SX_E_STOPPED;
			break;
		}
		if (ret) {
			fprintf(stderr, "sigex: error: cannot spool %s: %s\n", paths[i],
				strerror(-ret));
			/* Leave the empty copy: the reader reports it per file. */
			ret = 0;
		}
	}
	if (ret) {
		sx_cli_spool_free(rp, paths, n);
		return ret;
	}
	*read_paths = rp;
	return 0;
}

void sx_cli_spool_free(char **read_paths, const char *const *paths, int n)
{
	int i;

	if (!read_paths)
		return;
	for (i = 0; i < n; i++) {
		if (read_paths[i] && read_paths[i] != paths[i]) {
			unlink(read_paths[i]);
			if (spool_slots)
				sx_out_untrack(spool_slots[i]);
			free(read_paths[i]);
		}
	}
	free(read_paths);
	free(spool_slots);
	spool_slots = NULL;
}

int sx_cli_mkdirs(const char *dir, char *msg, size_t msglen)
{
	char *p, *copy;
	struct stat st;
	int ret = 0;

	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		snprintf(msg, msglen, "%s: not a directory", dir);
		return -ENOTDIR;
	}
	copy = strdup(dir);
	if (!copy) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	for (p = copy + 1;; p++) {
		char c = *p;

		if (c && c != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0777) == 0) {
			if (nmade < MAX_MADE && strlen(copy) < sizeof(made_dirs[0])) {
				strcpy(made_dirs[nmade], copy);
				nmade = nmade + 1;
			}
		} else if (errno != EEXIST) {
			ret = -errno;
			snprintf(msg, msglen, "%s: %s", copy, strerror(errno));
			break;
		}
		*p = c;
		if (!c)
			break;
	}
	free(copy);
	if (!ret && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
		snprintf(msg, msglen, "%s: not a directory", dir);
		ret = -ENOTDIR;
	}
	return ret;
}

int sx_cli_inputs(const char *cmd, const char *what, const char *const *paths, int n)
{
	struct stat st;
	int i;

	for (i = 0; i < n; i++) {
		const char *why = NULL;

		if (!paths[i] || strcmp(paths[i], "-") == 0)
			continue;
		if (stat(paths[i], &st) != 0)
			why = strerror(errno);
		else if (S_ISDIR(st.st_mode))
			why = strerror(EISDIR);
		if (why)
			return sx_cli_usage_error(cmd, "%s\"%s\" is not an existing file (%s)",
						  what, paths[i], why);
	}
	return 0;
}

int sx_cli_output_dir(const char *cmd, const char *dir)
{
	char probe[4096], msg[512];
	struct stat st;
	int fd;

	if (!dir[0])
		return sx_cli_usage_error(cmd, "-o expects a directory");
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
		return sx_cli_usage_error(cmd, "\"%s\" is not a directory", dir);
	if (sx_cli_mkdirs(dir, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "cannot create the output directory %s", msg);
		return SX_EXIT_FAILURE;
	}
	if ((size_t)snprintf(probe, sizeof(probe), "%s/.sigex-probe-XXXXXX", dir) >=
	    sizeof(probe)) {
		sx_log(SX_LOG_ERROR, "%s: path too long", dir);
		return SX_EXIT_FAILURE;
	}
	fd = mkstemp(probe);
	if (fd < 0) {
		sx_log(SX_LOG_ERROR, "cannot write to the output directory %s: %s", dir,
		       strerror(errno));
		return SX_EXIT_FAILURE;
	}
	close(fd);
	unlink(probe);
	return 0;
}

int sx_cli_source_date(const char *cmd, char *buf, size_t bufsz, bool *set)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	uint64_t v;
	time_t t;
	struct tm tm;

	*set = false;
	if (!s || !*s)
		return 0;
	if (sx_parse_u64(s, 0, 253402300799ULL, &v))
		return sx_cli_usage_error(
		    cmd, "SOURCE_DATE_EPOCH is not a number of seconds: \"%s\"", s);
	t = (time_t)v;
	if (!gmtime_r(&t, &tm) || !strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%S+00:00", &tm))
		return sx_cli_usage_error(cmd, "SOURCE_DATE_EPOCH out of range: \"%s\"", s);
	*set = true;
	return 0;
}
