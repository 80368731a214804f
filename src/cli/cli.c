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

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
#include "ingest/ingest.h"

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

	/* the flag first: a writer whose temporary file the cleanup removes
	 * then finds the stop requested, and reports its output interrupted,
	 * not failed (core/outfile.h) */
	stop_signal = sig;
	sx_request_stop();
	sx_out_cleanup_all();
	if (signals_seen++) {
		unmake_dirs();
		signal(sig, SIG_DFL);
		raise(sig);
	}
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
	char why[256];
	int ret = sx_ingest_bpf_check(filter, why, sizeof(why));

	if (ret == SX_E_USAGE)
		return sx_cli_usage_error(cmd, "bad filter \"%s\": %s", filter, why);
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
				snprintf(made_dirs[nmade], sizeof(made_dirs[0]), "%s", copy);
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

/* The stats of sx_cli_inputs(), shared by threads over the paths. */
struct input_stats {
	const char *const *paths;
	uint64_t *sizes; /* or NULL */
	int *err;	 /* per path: 0, or the errno that refuses it */
};

/* Threads only past INPUT_SHARED paths (a stat is microseconds, a thread
 * tens of them). */
#define INPUT_SHARED 256

static void input_stat(void *ctx, size_t i)
{
	struct input_stats *is = ctx;
	struct stat st;

	if (is->sizes)
		is->sizes[i] = UINT64_MAX;
	if (!is->paths[i] || strcmp(is->paths[i], "-") == 0)
		return;
	if (stat(is->paths[i], &st) != 0)
		is->err[i] = errno;
	else if (S_ISDIR(st.st_mode))
		is->err[i] = EISDIR;
	else if (is->sizes && S_ISREG(st.st_mode))
		is->sizes[i] = (uint64_t)st.st_size;
}

int sx_cli_inputs(const char *cmd, const char *what, const char *const *paths, int n,
		  uint64_t *sizes, unsigned threads)
{
	struct input_stats is = {.paths = paths, .sizes = sizes};
	int i, err;

	if (n <= 0)
		return 0;
	is.err = sx_calloc_array((size_t)n, sizeof(*is.err));
	if (!is.err) {
		sx_log(SX_LOG_ERROR, "out of memory");
		return SX_EXIT_FAILURE;
	}
	sx_pool_run(n < INPUT_SHARED ? 1
		    : threads	     ? threads
				     : sx_nproc(),
		    (size_t)n, input_stat, &is, false);
	for (i = 0; i < n && !is.err[i]; i++)
		;
	err = i < n ? is.err[i] : 0;
	free(is.err);
	if (err)
		return sx_cli_usage_error(cmd, "%s\"%s\" is not an existing file (%s)", what,
					  paths[i], strerror(err));
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

int sx_cli_source_epoch(const char *cmd, time_t *t, bool *set)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	uint64_t v;
	struct tm tm;

	*set = false;
	if (!s || !*s)
		return 0;
	if (sx_parse_u64(s, 0, 253402300799ULL, &v))
		return sx_cli_usage_error(
		    cmd, "SOURCE_DATE_EPOCH is not a number of seconds: \"%s\"", s);
	*t = (time_t)v;
	if (!gmtime_r(t, &tm))
		return sx_cli_usage_error(cmd, "SOURCE_DATE_EPOCH out of range: \"%s\"", s);
	*set = true;
	return 0;
}

int sx_cli_source_date(const char *cmd, char *buf, size_t bufsz, bool *set)
{
	struct tm tm;
	time_t t;
	int ret = sx_cli_source_epoch(cmd, &t, set);

	if (ret || !*set)
		return ret;
	if (!gmtime_r(&t, &tm) || !strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%S+00:00", &tm)) {
		*set = false;
		return sx_cli_usage_error(cmd, "SOURCE_DATE_EPOCH out of range: \"%s\"",
					  getenv("SOURCE_DATE_EPOCH"));
	}
	return 0;
}

/* ---- the options several commands share ---- */

enum kind {
	K_JOBS,
	K_TEXT,
	K_FILE,
	K_BPF,
	K_SECS0,
	K_SECS,
	K_U64,
	K_COUNT,
	K_FRACTION,
	K_FLAG,
	K_IP
};

struct shared_opt {
	const char *name;
	int short_name; /* 0: none */
	enum kind kind;
	const char *arg;  /* for --help, NULL: no argument */
	const char *help; /* wrapped; continuation lines are indented */
};

/* One entry per option, in enum sx_cli_opt order. */
static const struct shared_opt shared_opts[SX_CLI_NOPTS] = {
    [SX_CLI_JOBS] = {"jobs", 'j', K_JOBS, "N", "threads (default: the CPUs)"},
    [SX_CLI_FILTER] = {"filter", 'f', K_BPF, "BPF", "read only packets matching a libpcap filter"},
    [SX_CLI_WINDOW] = {"window", 0, K_SECS0, "SECONDS",
		       "per capture, stop at the first gap longer than this\n"
		       "between accepted packets, as the reference tool does\n"
		       "(default 0: the whole capture)"},
    [SX_CLI_EVENTS] = {"events", 0, K_FILE, "FILE",
		       "long captures, many events: CSV of\n"
		       "[capture,]time[,label]; time is epoch seconds, ISO\n"
		       "8601 with a zone, or +S, +M:SS, +H:MM:SS after the\n"
		       "capture's first packet; a row without a capture\n"
		       "applies to every capture.  Each row opens a window,\n"
		       "each window is an occurrence, each label an event"},
    [SX_CLI_DURATION] = {"duration", 0, K_SECS, "SECONDS",
			 "length of an --events window (default 30)"},
    [SX_CLI_ALIGN] = {"align", 0, K_FLAG, NULL,
		      "move --events times to the device's activity: a shift\n"
		      "per capture (within 300 s), then each event (within\n"
		      "20 s); the default when some time is relative"},
    [SX_CLI_NO_ALIGN] = {"no-align", 0, K_FLAG, NULL, "use the --events times as written"},
    [SX_CLI_IDLE] = {"idle-timeout", 0, K_SECS, "SECONDS",
		     "a flow ends after this long without a packet\n(default 120)"},
    [SX_CLI_NAMES] = {"names", 0, K_FILE, "FILE",
		      "seed the address-to-name table (lines \"IP NAME\")"},
    [SX_CLI_NAMES_OUT] = {"names-out", 0, K_TEXT, "FILE",
			  "also write the names learnt for the addresses, with\n"
			  "their counts (for sigex mine --names-from)"},
    [SX_CLI_SEED] = {"seed", 0, K_U64, "N", "hash seed (changes nothing in the outputs)"},
    [SX_CLI_MAX_FLOWS] = {"max-flows", 0, K_COUNT, "N",
			  "memory ceiling: at most N flows live at once over\n"
			  "the run (1 KiB each), N / threads per reader thread;\n"
			  "past it the least recently active flows end early\n"
			  "as idle, with one warning (default: 131072 per\n"
			  "reader thread, 128 MiB)"},
    [SX_CLI_SUPPORT] = {"support", 0, K_FRACTION, "F",
			"a pattern must occur in at least this fraction of the\n"
			"occurrences, 0 < F <= 1 (default 0.9)"},
    [SX_CLI_ALL_PORTS] = {"all-ports", 0, K_FLAG, NULL,
			  "pattern.txt: every port of each host (default: the\n"
			  "three most used of each host)"},
    [SX_CLI_STATS] = {"stats", 0, K_FLAG, NULL,
		      "add stats (packet-count, duration) to the policies"},
    [SX_CLI_GATEWAY] = {"gateway", 0, K_IP, "IP",
			"write this address as the firewall's alias gateway"},
    [SX_CLI_PHONE] = {"phone", 0, K_IP, "IP", "write this address as the firewall's alias phone"},
    [SX_CLI_HELP] = {"help", 'h', K_FLAG, NULL, "this help"},
};

static int code_of(enum sx_cli_opt o)
{
	return shared_opts[o].short_name ? shared_opts[o].short_name : SX_CLI_CODE(o);
}

struct option *sx_cli_longopts(const struct option *own, const enum sx_cli_opt *shared)
{
	size_t nown = 0, nshared = 0, i;
	struct option *all;

	while (own && own[nown].name)
		nown++;
	while (shared && shared[nshared] != SX_CLI_NOPTS)
		nshared++;
	all = sx_calloc_array(nown + nshared + 1, sizeof(*all));
	if (!all)
		return NULL;
	for (i = 0; i < nown; i++)
		all[i] = own[i];
	for (i = 0; i < nshared; i++) {
		const struct shared_opt *s = &shared_opts[shared[i]];

		all[nown + i] = (struct option){s->name, s->arg ? required_argument : no_argument,
						NULL, code_of(shared[i])};
	}
	return all;
}

int sx_cli_seconds(const char *cmd, const char *opt, const char *arg, bool zero_ok, double *out)
{
	double v = 0;

	if (sx_parse_seconds(arg, &v) || !sx_seconds_ok(v, zero_ok))
		return sx_cli_usage_error(cmd, "%s expects %s number of seconds, not \"%s\"", opt,
					  zero_ok ? "a" : "a positive", arg);
	if (!zero_ok && v * 1e9 < 0.5)
		return sx_cli_usage_error(cmd, "%s is too small: \"%s\"", opt, arg);
	*out = v;
	return 0;
}

/* Parse arg as option o's kind into the slot of c it fills. */
static int parse_shared(const char *cmd, enum sx_cli_opt o, const char *arg,
			struct sx_cli_common *c)
{
	const struct shared_opt *s = &shared_opts[o];
	char opt[32];
	const char **text = NULL;
	double *secs = NULL;
	uint64_t *u = NULL;
	unsigned char ip[16];
	char *end;

	snprintf(opt, sizeof(opt), "--%s", s->name);
	switch (o) {
	case SX_CLI_FILTER:
		text = &c->filter;
		break;
	case SX_CLI_EVENTS:
		text = &c->events;
		break;
	case SX_CLI_NAMES:
		text = &c->names;
		break;
	case SX_CLI_NAMES_OUT:
		text = &c->names_out;
		break;
	case SX_CLI_GATEWAY:
		text = &c->gateway;
		break;
	case SX_CLI_PHONE:
		text = &c->phone;
		break;
	case SX_CLI_WINDOW:
		secs = &c->window;
		break;
	case SX_CLI_DURATION:
		secs = &c->duration;
		break;
	case SX_CLI_IDLE:
		secs = &c->idle_timeout;
		break;
	case SX_CLI_SEED:
		u = &c->seed;
		break;
	case SX_CLI_MAX_FLOWS:
		u = &c->max_flows;
		break;
	case SX_CLI_ALL_PORTS:
		c->all_ports = true;
		break;
	case SX_CLI_STATS:
		c->stats = true;
		break;
	case SX_CLI_ALIGN:
	case SX_CLI_NO_ALIGN:
		c->align = o == SX_CLI_ALIGN ? 1 : -1;
		break;
	default:
		break;
	}
	switch (s->kind) {
	case K_JOBS:
		return sx_cli_threads(cmd, arg, &c->jobs);
	case K_FILE: /* checked by sx_cli_common_files(), after the whole line */
		break;
	case K_BPF:
		if (sx_cli_check_filter(cmd, arg))
			return SX_EXIT_USAGE;
		break;
	case K_SECS0:
	case K_SECS:
		return sx_cli_seconds(cmd, opt, arg, s->kind == K_SECS0, secs);
	case K_U64:
	case K_COUNT:
		if (sx_parse_u64(arg, s->kind == K_COUNT, UINT64_MAX, u))
			return sx_cli_usage_error(cmd, "%s expects a %snumber, not \"%s\"", opt,
						  s->kind == K_COUNT ? "positive " : "", arg);
		return 0;
	case K_FRACTION:
		errno = 0;
		c->support = strtod(arg, &end);
		if (errno || end == arg || *end || !(c->support > 0 && c->support <= 1))
			return sx_cli_usage_error(
			    cmd, "%s expects a fraction in (0, 1], not \"%s\"", opt, arg);
		return 0;
	case K_IP:
		if (inet_pton(AF_INET, arg, ip) != 1 && inet_pton(AF_INET6, arg, ip) != 1)
			return sx_cli_usage_error(cmd, "%s expects an IP address, not \"%s\"", opt,
						  arg);
		break;
	case K_TEXT:
	case K_FLAG:
		break;
	}
	if (text)
		*text = arg;
	return 0;
}

int sx_cli_common_opt(const char *cmd, int code, const char *arg, struct sx_cli_common *c)
{
	int o, ret;

	for (o = 0; o < SX_CLI_NOPTS; o++)
		if (code == code_of((enum sx_cli_opt)o))
			break;
	if (o == SX_CLI_NOPTS || o == SX_CLI_HELP)
		return 1;
	ret = parse_shared(cmd, (enum sx_cli_opt)o, arg, c);
	if (!ret)
		c->given |= 1u << o;
	return ret;
}

int sx_cli_common_files(const char *cmd, const struct sx_cli_common *c)
{
	if (sx_cli_inputs(cmd, "--events ", &c->events, 1, NULL, 1) ||
	    sx_cli_inputs(cmd, "--names ", &c->names, 1, NULL, 1))
		return SX_EXIT_USAGE;
	return 0;
}

void sx_cli_help_opts(FILE *f, const enum sx_cli_opt *shared)
{
	size_t i;

	for (i = 0; shared[i] != SX_CLI_NOPTS; i++) {
		const struct shared_opt *s = &shared_opts[shared[i]];
		const char *h = s->help;
		char head[64];
		int n;

		n = snprintf(head, sizeof(head), "  %c%c%s--%s%s%s", s->short_name ? '-' : ' ',
			     s->short_name ? s->short_name : ' ', s->short_name ? ", " : "  ",
			     s->name, s->arg ? " " : "", s->arg ? s->arg : "");
		if (n < SX_CLI_HELP_COL - 1)
			fprintf(f, "%-*s", SX_CLI_HELP_COL, head);
		else
			fprintf(f, "%s ", head);
		for (;;) {
			size_t len = strcspn(h, "\n");

			fprintf(f, "%.*s\n", (int)len, h);
			if (!h[len])
				break;
			h += len + 1;
			fprintf(f, "%*s", SX_CLI_HELP_COL, "");
		}
	}
}

int sx_cli_opt_tail(const char *cmd, int c, char *const argv[], const struct sx_cli_help *help,
		    struct sx_cli_common *common)
{
	switch (c) {
	case 'h':
		fputs(help->head, stdout);
		if (help->shared)
			sx_cli_help_opts(stdout, help->shared);
		if (help->foot)
			fputs(help->foot, stdout);
		return -1;
	case ':':
		return sx_cli_usage_error(cmd, "%s needs an argument", argv[optind - 1]);
	case '?':
		break;
	default:
		if (common)
			return sx_cli_common_opt(cmd, c, optarg, common);
		break;
	}
	return sx_cli_usage_error(cmd, "unknown option \"%s\"", argv[optind - 1]);
}

int sx_cli_getopt(const struct sx_cli_parser *p, int argc, char **argv,
		  struct sx_cli_common *common, void *ctx)
{
	const struct option *longopts = p->own;
	struct option *all = NULL;
	int c, ret = 0;

	if (p->help->shared) {
		all = sx_cli_longopts(p->own, p->help->shared);
		if (!all) {
			sx_log(SX_LOG_ERROR, "out of memory");
			return SX_EXIT_FAILURE;
		}
		longopts = all;
	}
	optind = 0; /* glibc: start over, reading p->shortopts' ordering afresh */
	opterr = 0;
	while (!ret && (c = getopt_long(argc, argv, p->shortopts, longopts, NULL)) != -1) {
		ret = p->own_opt ? p->own_opt(ctx, c, optarg) : SX_CLI_NOT_OWN;
		if (ret == SX_CLI_NOT_OWN)
			ret = sx_cli_opt_tail(p->cmd, c, argv, p->help, common);
	}
	free(all);
	return ret;
}

int sx_cli_args_take(struct sx_cli_args *a, int c, int bg_code, const char *arg)
{
	bool in_bg = a->in_bg;

	a->in_bg = false;
	if (c == 1) {
		if (in_bg)
			a->bg[a->nbg++] = arg;
		else
			a->v[a->n++] = arg;
		a->in_bg = in_bg;
		return 0;
	}
	if (c != bg_code)
		return SX_CLI_NOT_OWN;
	a->bg[a->nbg++] = arg;
	a->in_bg = true;
	return 0;
}

/* -o FILE and -q of sx_cli_parse_files(). */
static int files_opt(void *ctx, int c, const char *arg)
{
	struct sx_cli_files *a = ctx;

	switch (c) {
	case 'o':
		a->output = arg;
		return 0;
	case 'q':
		sx_log_set_level(SX_LOG_ERROR);
		return 0;
	default:
		return SX_CLI_NOT_OWN;
	}
}

int sx_cli_parse_files(const char *cmd, int argc, char **argv, const struct sx_cli_help *help,
		       struct sx_cli_files *a)
{
	static const struct option own[] = {{"output", required_argument, NULL, 'o'},
					    {"quiet", no_argument, NULL, 'q'},
					    {NULL, 0, NULL, 0}};
	const struct sx_cli_parser p = {cmd, ":o:j:f:qh", own, help, files_opt};
	int ret = sx_cli_getopt(&p, argc, argv, &a->c, a);

	if (ret)
		return ret;
	a->paths = (const char *const *)argv + optind;
	a->npaths = argc - optind;
	if (a->npaths <= 0)
		return sx_cli_usage_error(cmd, "no capture given");
	return 0;
}
