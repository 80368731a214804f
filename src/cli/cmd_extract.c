/*
 * cmd_extract.c - the main job: `sigex DEVICE IPV4 PCAP... [-o DIR]`, also
 * spelled `sigex extract ...`; the reference tool's command line.
 *
 * A thin client of the library (include/sigex.h): options become
 * sx_extract_set_*() calls, the captures sx_extract_add_*(), then one
 * sx_extract_mine() reads them in parallel, builds the flows, writes one CSV
 * per capture and mines the signature, and the three writers produce
 * pattern.txt, signatures.yaml and profile.yaml in DIR.  With --mode
 * upstream the whole command line goes to cmd_extract_upstream.c instead,
 * the reference reproduced.
 *
 * Standard output is the reference's sequence: "Flows extracted" per
 * capture read, the pattern report (its first line says "N pattern(s)
 * found"), "Patterns found!", then "Policies generated" once profile.yaml is
 * in place; nothing with --quiet.  Errors and per-capture problems go to
 * standard error, one line each, naming the file.
 *
 * Exit status: 0 ok; 1 failure (no capture readable, an output that cannot
 * be written: the previous file stays as it was); 2 usage error; 3 some
 * captures unreadable, the outputs written from the others.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/err.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/outfile.h"
#include "core/util.h"
#include "sigex.h"

int sx_cmd_extract(int argc, char **argv);
int sx_cmd_extract_upstream(int argc, char **argv);

static const char cmd[] = "extract";

#define CSV_LIST ".sigex-csvs" /* the CSVs the last run wrote */

static const char usage[] =
    "Usage: sigex DEVICE IPV4 PCAP... [-o DIR] [OPTIONS]\n"
    "       sigex extract DEVICE IPV4 PCAP... [-o DIR] [OPTIONS]\n"
    "\n"
    "Find the network signature of a device event in captures of its occurrences\n"
    "(one capture per occurrence, or one capture and --events) and write it as a\n"
    "device profile for the smart-home firewall.  Into DIR: one CSV of flows per\n"
    "capture (<N>.csv, N the integer before the first dot of the capture's name,\n"
    "else the name without its extensions; background/<N>.csv for --background),\n"
    "pattern.txt (the report, also printed), signatures.yaml (the whole signature)\n"
    "and profile.yaml (the profile).  CSVs an earlier run wrote there and this one\n"
    "does not are removed (.sigex-csvs lists them); no other file is touched.\n"
    "\n"
    "Arguments:\n"
    "  DEVICE                   the device's name (device-info.name)\n"
    "  IPV4                     the device's IPv4 address (written \"self\")\n"
    "  PCAP                     captures of the event: pcap or pcapng, gzip- or\n"
    "                           zstd-compressed, or - for standard input\n"
    "\n"
    "Options:\n"
    "  -o, --output DIR         output directory (default: the current directory;\n"
    "                           created if missing)\n"
    "      --background PCAP... idle captures of the device: patterns also found\n"
    "                           there become single policies, not part of the event.\n"
    "                           Every argument up to the next option is one\n"
    "      --event NAME         the interaction's name in profile.yaml (default: the\n"
    "                           label shared by every event of --events, else\n"
    "                           \"event\")\n"
    "      --mac MAC            the device's MAC address (device-info.mac; DHCP\n"
    "                           policies get client-mac: self)\n"
    "      --ipv6 ADDR          the device's IPv6 address (device-info.ipv6, \"self\")\n"
    "      --gateway IP         write this address as the firewall's alias gateway\n"
    "      --phone IP           write this address as the firewall's alias phone\n"
    "      --stats              add stats (packet-count, duration) to the policies\n"
    "      --support F          a pattern must occur in at least this fraction of the\n"
    "                           occurrences, 0 < F <= 1 (default 0.9)\n"
    "      --window SECONDS     per capture, stop at the first gap longer than this\n"
    "                           between accepted packets, as the reference tool does\n"
    "                           (default 0: the whole capture)\n"
    "      --events FILE        one capture, many events: CSV of timestamp[,label];\n"
    "                           each row opens a window that is one occurrence\n"
    "      --duration SECONDS   length of an --events window (default 30)\n"
    "      --idle-timeout SECONDS  a flow ends after this long without a packet\n"
    "                           (default 120)\n"
    "      --names FILE         seed the address-to-name table (lines \"IP NAME\")\n"
    "  -f, --filter BPF         read only packets matching a libpcap filter\n"
    "      --all-ports          pattern.txt: every port of each host (default: the\n"
    "                           three most used of each host)\n"
    "      --mode MODE          default, or upstream: reproduce the reference tool\n"
    "                           exactly (only -o applies; see 'sigex extract --mode\n"
    "                           upstream --help')\n"
    "  -j, --jobs N             reader and matching threads (default: CPUs)\n"
    "      --seed N             hash seed (changes nothing in the outputs)\n"
    "      --max-flows N        memory ceiling: at most N flows live at once over\n"
    "                           the run (1 KiB each), N / threads per reader thread;\n"
    "                           past it the least recently active flows end early\n"
    "                           as idle, with one warning (default: 131072 per\n"
    "                           reader thread, 128 MiB)\n"
    "  -q, --quiet              nothing on standard output; errors only\n"
    "  -h, --help               this help\n"
    "\n"
    "device-info.last-update is the time of the run, or SOURCE_DATE_EPOCH when set.\n"
    "Exit status: 0 ok, 1 failure (the files in DIR left as they were), 2 usage\n"
    "error (also: a capture or file that does not exist), 3 some captures\n"
    "unreadable, 130/143 stopped by SIGINT/SIGTERM (files left as they were), 141\n"
    "standard output closed.\n";

enum {
	OPT_WINDOW = 256,
	OPT_EVENTS,
	OPT_DURATION,
	OPT_SUPPORT,
	OPT_BACKGROUND,
	OPT_NAMES,
	OPT_MODE,
	OPT_MAC,
	OPT_IPV6,
	OPT_GATEWAY,
	OPT_PHONE,
	OPT_EVENT,
	OPT_IDLE,
	OPT_SEED,
	OPT_ALL_PORTS,
	OPT_STATS,
	OPT_MAX_FLOWS,
};

static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
					 {"jobs", required_argument, NULL, 'j'},
					 {"filter", required_argument, NULL, 'f'},
					 {"window", required_argument, NULL, OPT_WINDOW},
					 {"events", required_argument, NULL, OPT_EVENTS},
					 {"duration", required_argument, NULL, OPT_DURATION},
					 {"support", required_argument, NULL, OPT_SUPPORT},
					 {"background", required_argument, NULL, OPT_BACKGROUND},
					 {"names", required_argument, NULL, OPT_NAMES},
					 {"mode", required_argument, NULL, OPT_MODE},
					 {"mac", required_argument, NULL, OPT_MAC},
					 {"ipv6", required_argument, NULL, OPT_IPV6},
					 {"gateway", required_argument, NULL, OPT_GATEWAY},
					 {"phone", required_argument, NULL, OPT_PHONE},
					 {"event", required_argument, NULL, OPT_EVENT},
					 {"idle-timeout", required_argument, NULL, OPT_IDLE},
					 {"seed", required_argument, NULL, OPT_SEED},
					 {"all-ports", no_argument, NULL, OPT_ALL_PORTS},
					 {"stats", no_argument, NULL, OPT_STATS},
					 {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
					 {"quiet", no_argument, NULL, 'q'},
					 {"help", no_argument, NULL, 'h'},
					 {NULL, 0, NULL, 0}};

/* What the command line says, before anything is run. */
struct args {
	const char *dir;
	const char **pos; /* DEVICE, IPV4, event captures */
	int npos;
	const char **bg;
	int nbg;
	const char *filter;
	const char *names;  /* --names FILE */
	uint64_t max_flows; /* --max-flows, 0 when not given */
	bool quiet;
};

/* Whether the command line asks for --mode upstream (before any "--"). */
static bool wants_upstream(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--mode=upstream") == 0)
			return true;
		if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc)
			return strcmp(argv[i + 1], "upstream") == 0;
	}
	return false;
}

static int parse_secs(const char *opt, const char *arg, bool zero_ok, double *out)
{
	double v = 0;

	if (sx_parse_seconds(arg, &v) || (!zero_ok && v <= 0))
		return sx_cli_usage_error(cmd, "%s expects %s number of seconds, not \"%s\"", opt,
					  zero_ok ? "a" : "a positive", arg);
	*out = v;
	return 0;
}

/* An option value the library refused: a usage error with its message. */
static int refused(struct sx_extract *ex, int ret)
{
	if (ret == -ENOMEM) {
		sx_log(SX_LOG_ERROR, "out of memory");
		return SX_EXIT_FAILURE;
	}
	return sx_cli_usage_error(cmd, "%s", sx_extract_message(ex));
}

/* Apply one option; 0, or an exit status. */
static int apply(struct sx_extract *ex, struct args *a, int c, const char *arg)
{
	unsigned threads;
	uint64_t seed;
	double v = 0;
	int ret = 0;

	switch (c) {
	case 'o':
		a->dir = arg;
		return 0;
	case 'j':
		if (sx_cli_threads(cmd, arg, &threads))
			return SX_EXIT_USAGE;
		ret = sx_extract_set_threads(ex, threads);
		break;
	case 'f':
		a->filter = arg;
		ret = sx_extract_set_filter(ex, arg);
		break;
	case OPT_WINDOW:
		if (parse_secs("--window", arg, true, &v))
			return SX_EXIT_USAGE;
		ret = sx_extract_set_window(ex, v);
		break;
	case OPT_SUPPORT: {
		char *end;

		errno = 0;
		v = strtod(arg, &end);
		if (errno || end == arg || *end || !(v > 0 && v <= 1))
			return sx_cli_usage_error(cmd,
						  "--support expects a fraction in (0, 1], "
						  "not \"%s\"",
						  arg);
		ret = sx_extract_set_support(ex, v);
		break;
	}
	case OPT_NAMES:
		a->names = arg;
		ret = sx_extract_set_names(ex, arg);
		break;
	case OPT_MODE:
		if (strcmp(arg, "default") != 0)
			return sx_cli_usage_error(cmd, "--mode is default or upstream, not \"%s\"",
						  arg);
		return 0;
	case OPT_MAC:
		ret = sx_extract_set_mac(ex, arg);
		break;
	case OPT_IPV6:
		ret = sx_extract_set_ipv6(ex, arg);
		break;
	case OPT_GATEWAY:
		ret = sx_extract_set_gateway(ex, arg);
		break;
	case OPT_PHONE:
		ret = sx_extract_set_phone(ex, arg);
		break;
	case OPT_EVENT:
		ret = sx_extract_set_event_name(ex, arg);
		break;
	case OPT_IDLE:
		if (parse_secs("--idle-timeout", arg, false, &v))
			return SX_EXIT_USAGE;
		ret = sx_extract_set_idle_timeout(ex, v);
		break;
	case OPT_SEED:
		if (sx_parse_u64(arg, 0, UINT64_MAX, &seed))
			return sx_cli_usage_error(cmd, "--seed expects a number, not \"%s\"", arg);
		ret = sx_extract_set_seed(ex, seed);
		break;
	case OPT_ALL_PORTS:
		ret = sx_extract_set_all_ports(ex, true);
		break;
	case OPT_STATS:
		ret = sx_extract_set_stats(ex, true);
		break;
	case OPT_MAX_FLOWS:
		if (sx_parse_u64(arg, 1, UINT64_MAX, &a->max_flows))
			return sx_cli_usage_error(cmd,
						  "--max-flows expects a positive number, "
						  "not \"%s\"",
						  arg);
		ret = sx_extract_set_max_flows(ex, a->max_flows);
		break;
	case 'q':
		a->quiet = true;
		sx_log_set_level(SX_LOG_ERROR);
		return 0;
	default:
		return sx_cli_usage_error(cmd, "unknown option");
	}
	return ret ? refused(ex, ret) : 0;
}

/*
 * The events window length is an option of its own on the command line
 * but a parameter of sx_extract_set_events(): remember both and set them
 * together once parsing is done.
 */
struct pending {
	const char *events;
	double duration;
	const char *window; /* checked against --events */
};

/*
 * Parse argv.  Options that need the extraction (which needs DEVICE and
 * IPV4, which come as positionals anywhere) are applied in a second pass.
 */
static int parse(int argc, char **argv, struct args *a, struct pending *pend)
{
	bool in_bg = false;
	double w;
	int c;

	optind = 0; /* glibc: start over */
	opterr = 0;
	/* '-': non-options come back in order (code 1), so that the captures
	 * after --background can be told from the event captures. */
	while ((c = getopt_long(argc, argv, "-:o:j:f:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 1:
			if (in_bg)
				a->bg[a->nbg++] = optarg;
			else
				a->pos[a->npos++] = optarg;
			continue;
		case OPT_BACKGROUND:
			a->bg[a->nbg++] = optarg;
			in_bg = true;
			continue;
		case OPT_EVENTS:
			pend->events = optarg;
			break;
		case OPT_DURATION:
			if (parse_secs("--duration", optarg, false, &pend->duration))
				return SX_EXIT_USAGE;
			break;
		case OPT_WINDOW:
			pend->window = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		case ':':
			return sx_cli_usage_error(cmd, "%s needs an argument", argv[optind - 1]);
		case '?':
			return sx_cli_usage_error(cmd, "unknown option \"%s\"", argv[optind - 1]);
		default:
			break;
		}
		in_bg = false;
	}
	for (; optind < argc; optind++) /* after "--" */
		a->pos[a->npos++] = argv[optind];
	if (a->npos < 3)
		return sx_cli_usage_error(cmd, "expected DEVICE IPV4 PCAP...");
	if (pend->duration > 0 && !pend->events)
		return sx_cli_usage_error(cmd, "--duration needs --events");
	if (pend->events && pend->window && sx_parse_seconds(pend->window, &w) == 0 && w > 0)
		return sx_cli_usage_error(cmd, "--window and --events cannot be combined");
	return 0;
}

/* Second pass: every option but the positionals and --background. */
static int apply_all(int argc, char **argv, struct sx_extract *ex, struct args *a,
		     const struct pending *pend)
{
	int c, ret;

	optind = 0; /* glibc: start over */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "-:o:j:f:qh", longopts, NULL)) != -1) {
		if (c == 1 || c == OPT_BACKGROUND || c == OPT_EVENTS || c == OPT_DURATION)
			continue;
		ret = apply(ex, a, c, optarg);
		if (ret)
			return ret;
	}
	if (pend->events && sx_extract_set_events(ex, pend->events, pend->duration))
		return refused(ex, -EINVAL);
	return 0;
}

/*
 * Whether path can be given as a capture; when not, why into why.  As the
 * reference tool's argument check, a path that does not exist (or is a
 * directory) is a usage error, found before anything is read.
 */
static bool is_file(const char *path, char *why, size_t whysz)
{
	struct stat st;

	if (strcmp(path, "-") == 0)
		return true;
	if (stat(path, &st) != 0) {
		snprintf(why, whysz, "%s", strerror(errno));
		return false;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(why, whysz, "%s", strerror(EISDIR));
		return false;
	}
	return true;
}

/* Report each capture's problem on stderr; the exit status they mean. */
static int report_captures(struct sx_extract *ex)
{
	size_t i, n = sx_extract_ncaptures(ex);
	unsigned bad = 0;

	for (i = 0; i < n; i++) {
		const char *path, *msg;
		int st = sx_extract_capture_status(ex, i, &path, &msg);

		if (st == -EAGAIN)
			return SX_EXIT_OK; /* nothing was read */
		if (st < 0) {
			bad++;
			sx_log(SX_LOG_ERROR, "%s: %s", path,
			       msg[0] ? msg : sx_extract_strerror(st));
		} else if (st > 0) {
			bad++;
			sx_log(SX_LOG_WARN, "%s: %s", path, msg);
		}
	}
	return bad ? SX_EXIT_PARTIAL : SX_EXIT_OK;
}

/* The captures read whole (with a CSV) where the device's address is
 * absent, when it is present in others: one warning naming them. */
static void warn_device_missing(struct sx_extract *ex, const char *ipv4)
{
	size_t i, n = sx_extract_ncaptures(ex), nread = 0, nmiss = 0, len = 0;
	char list[512] = "";

	for (i = 0; i < n; i++) {
		const char *path;

		if (!sx_extract_csv_name(ex, i))
			continue;
		nread++;
		/* a capture read only in part, or empty, has its own line */
		if (sx_extract_device_packets(ex, i) ||
		    sx_extract_capture_status(ex, i, &path, NULL))
			continue;
		if (++nmiss <= 5 && len < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
						nmiss > 1 ? ", " : "", path);
	}
	if (!nmiss)
		return;
	sx_log(SX_LOG_WARN,
	       "the device's address %s is in no packet of %zu of the %zu captures: %s%s; "
	       "they add nothing about the device",
	       ipv4, nmiss, nread, list, nmiss > 5 ? ", ..." : "");
}

/* One occurrence: everything recurs in it, so the signature is everything. */
static void warn_single(struct sx_extract *ex, bool events)
{
	if (sx_extract_noccurrences(ex) != 1)
		return;
	sx_log(SX_LOG_WARN,
	       "only one occurrence of the event (%s): every flow recurs trivially and the "
	       "signature is the whole %s; give one capture per occurrence, or --events "
	       "with the time of each",
	       events ? "one --events window" : "one capture, no --events",
	       events ? "window" : "capture");
}

/*
 * The CSVs sigex wrote in DIR are listed in DIR/.sigex-csvs, one name a
 * line.  A new run removes those of the list it did not write again (and
 * nothing else: a file sigex did not write is never in the list), then
 * lists its own.  Removed names are put in removed (one a line).
 */
static bool listed_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n < 5 || strcmp(name + n - 4, ".csv") != 0 || name[0] == '.' || strstr(name, ".."))
		return false;
	if (strncmp(name, "background/", 11) == 0)
		name += 11;
	return !strchr(name, '/') && name[0] && name[0] != '.';
}

static bool written_now(struct sx_extract *ex, const char *name)
{
	size_t i, n = sx_extract_ncaptures(ex);

	for (i = 0; i < n; i++) {
		const char *csv = sx_extract_csv_name(ex, i);

		if (csv && strcmp(csv, name) == 0)
			return true;
	}
	return false;
}

static int update_csv_list(struct sx_extract *ex, const char *dir, struct sx_buf *removed)
{
	char path[4096], msg[512], line[512];
	struct sx_out out;
	struct stat st;
	size_t i, n = sx_extract_ncaptures(ex);
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s/" CSV_LIST, dir) >= sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		char old[4096 + 512];

		line[strcspn(line, "\n")] = '\0';
		if (!listed_name_ok(line) || written_now(ex, line))
			continue;
		snprintf(old, sizeof(old), "%s/%s", dir, line);
		if (lstat(old, &st) == 0 && S_ISREG(st.st_mode) && unlink(old) == 0)
			sx_buf_printf(removed, "%s\n", line);
	}
	if (f)
		fclose(f);
	if (removed->len) { /* emptied by the removal: an earlier run made it */
		snprintf(path, sizeof(path), "%s/background", dir);
		rmdir(path);
		snprintf(path, sizeof(path), "%s/" CSV_LIST, dir);
	}
	if (sx_out_open(&out, path, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		return -EIO;
	}
	for (i = 0; i < n; i++)
		if (sx_extract_csv_name(ex, i))
			fprintf(out.f, "%s\n", sx_extract_csv_name(ex, i));
	if (sx_out_commit(&out, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		return -EIO;
	}
	return 0;
}

static int write_outputs(struct sx_extract *ex, const char *dir)
{
	static const char *const names[] = {"pattern.txt", "signatures.yaml", "profile.yaml"};
	char path[3][4096];
	size_t i;

	for (i = 0; i < 3; i++)
		if ((size_t)snprintf(path[i], sizeof(path[i]), "%s/%s", dir, names[i]) >=
		    sizeof(path[i])) {
			sx_log(SX_LOG_ERROR, "%s: path too long", dir);
			return SX_EXIT_FAILURE;
		}
	if (sx_extract_write_patterns(ex, path[0]) || sx_extract_write_signatures(ex, path[1]) ||
	    sx_extract_write_profile(ex, path[2])) {
		sx_log(SX_LOG_ERROR, "%s", sx_extract_message(ex));
		return SX_EXIT_FAILURE;
	}
	return SX_EXIT_OK;
}

struct extracted {
	const char *path, *csv;
};

/* Event CSVs, then background/ ones, each in name order. */
static int extracted_cmp(const void *a, const void *b)
{
	const struct extracted *x = a, *y = b;
	int bx = strncmp(x->csv, "background/", 11) == 0;
	int by = strncmp(y->csv, "background/", 11) == 0;

	return bx != by ? bx - by : strcmp(x->csv, y->csv);
}

/*
 * Standard output, once every file is in place (a closed pipe then loses
 * no file): the stale CSVs removed, "Flows extracted" per capture read with
 * the CSV it gave (in CSV order, so that the order of the arguments changes
 * nothing), the report, "Patterns found!", "Policies generated".
 */
static int print_stdout(struct sx_extract *ex, const struct sx_buf *removed)
{
	size_t i, n = sx_extract_ncaptures(ex), at = 0, nx = 0;
	struct extracted *x = calloc(n + 1, sizeof(*x));

	if (!x) {
		sx_log(SX_LOG_ERROR, "out of memory");
		return SX_EXIT_FAILURE;
	}
	while (at < removed->len) {
		const char *nl = memchr(removed->data + at, '\n', removed->len - at);
		size_t len = (size_t)(nl - (removed->data + at));

		printf("Removed %.*s (a CSV of an earlier run)\n", (int)len, removed->data + at);
		at += len + 1;
	}
	for (i = 0; i < n; i++) {
		x[nx].csv = sx_extract_csv_name(ex, i);
		sx_extract_capture_status(ex, i, &x[nx].path, NULL);
		nx += x[nx].csv != NULL;
	}
	qsort(x, nx, sizeof(*x), extracted_cmp);
	for (i = 0; i < nx; i++)
		printf("Flows extracted: %s -> %s\n", x[i].path, x[i].csv);
	free(x);
	if (sx_extract_print_report(ex, stdout) || fputs("Patterns found!\n", stdout) < 0 ||
	    fputs("Policies generated\n", stdout) < 0 || fflush(stdout)) {
		sx_log(SX_LOG_ERROR, "standard output: write error");
		return SX_EXIT_FAILURE;
	}
	return SX_EXIT_OK;
}

/* SOURCE_DATE_EPOCH (reproducible builds): last-update from it. */
static int source_date(struct sx_extract *ex)
{
	char buf[64];
	bool set;
	int ret = sx_cli_source_date(cmd, buf, sizeof(buf), &set);

	if (ret || !set)
		return ret;
	return sx_extract_set_last_update(ex, buf) ? refused(ex, -ENOMEM) : 0;
}

static int run(struct sx_extract *ex, const struct args *a, const struct pending *pend)
{
	struct sx_buf removed;
	int ret, status;

	ret = sx_cli_output_dir(cmd, a->dir);
	if (ret)
		return ret;
	ret = sx_extract_mine(ex, a->dir);
	if (ret) {
		/* the causes first, then the one line that sums them up */
		if (ret != SX_EXTRACT_E_STOPPED)
			report_captures(ex);
		sx_cli_warn_capped(a->max_flows, sx_extract_flows_capped(ex));
		sx_log(SX_LOG_ERROR, "%s",
		       ret == SX_EXTRACT_E_STOPPED ? "interrupted" : sx_extract_message(ex));
		return SX_EXIT_FAILURE;
	}
	status = report_captures(ex);
	warn_device_missing(ex, a->pos[1]);
	warn_single(ex, pend->events != NULL);
	sx_cli_warn_capped(a->max_flows, sx_extract_flows_capped(ex));
	sx_buf_init(&removed);
	ret = update_csv_list(ex, a->dir, &removed);
	if (!ret)
		ret = write_outputs(ex, a->dir);
	if (!ret) {
		sx_cli_finished();
		if (!a->quiet)
			ret = print_stdout(ex, &removed);
	}
	sx_buf_fini(&removed);
	return ret ? SX_EXIT_FAILURE : status;
}

int sx_cmd_extract(int argc, char **argv)
{
	struct args a = {.dir = "."};
	struct pending pend = {NULL, 0, NULL};
	struct sx_extract *ex = NULL;
	char why[128];
	int i, ret, exit_code = SX_EXIT_USAGE;

	if (wants_upstream(argc, argv))
		return sx_cmd_extract_upstream(argc, argv);
	a.pos = calloc((size_t)argc + 1, sizeof(*a.pos));
	a.bg = calloc((size_t)argc + 1, sizeof(*a.bg));
	if (!a.pos || !a.bg) {
		sx_log(SX_LOG_ERROR, "out of memory");
		exit_code = SX_EXIT_FAILURE;
		goto out_free_args;
	}
	ret = parse(argc, argv, &a, &pend);
	if (ret) {
		exit_code = ret < 0 ? SX_EXIT_OK : ret;
		goto out_free_args;
	}
	ret = sx_extract_new(a.pos[0], a.pos[1], &ex);
	if (ret == -ENOMEM) {
		sx_log(SX_LOG_ERROR, "out of memory");
		exit_code = SX_EXIT_FAILURE;
		goto out_free_args;
	}
	if (ret) {
		if (!a.pos[0][0])
			sx_cli_usage_error(cmd, "argument device: empty");
		else
			sx_cli_usage_error(cmd, "argument ipv4: invalid IPv4Address value: '%s'",
					   a.pos[1]);
		goto out_free_args;
	}
	exit_code = apply_all(argc, argv, ex, &a, &pend);
	if (!exit_code)
		exit_code = source_date(ex);
	if (exit_code)
		goto out_free;
	if (sx_cli_check_filter(cmd, a.filter) ||
	    sx_cli_inputs(cmd, "--events ", &pend.events, 1) ||
	    sx_cli_inputs(cmd, "--names ", &a.names, 1)) {
		exit_code = SX_EXIT_USAGE;
		goto out_free;
	}
	for (i = 2; i < a.npos + a.nbg; i++) {
		bool bg = i >= a.npos;
		const char *path = bg ? a.bg[i - a.npos] : a.pos[i];

		if (!is_file(path, why, sizeof(why))) {
			exit_code = sx_cli_usage_error(cmd, "\"%s\" is not an existing file (%s)",
						       path, why);
			goto out_free;
		}
		ret = bg ? sx_extract_add_background(ex, path) : sx_extract_add_capture(ex, path);
		if (ret) {
			exit_code = refused(ex, ret);
			goto out_free;
		}
	}
	exit_code = run(ex, &a, &pend);
out_free:
	sx_extract_free(ex);
out_free_args:
	free(a.pos);
	free(a.bg);
	return sx_cli_exit(exit_code);
}
