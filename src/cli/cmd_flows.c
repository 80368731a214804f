/*
 * cmd_flows.c - `sigex flows PCAP... [-o FILE]`: the stream-identifier stage.
 *
 * One CSV row per flow (columns: src/flows/flow_csv.c), units in the order
 * the captures are given, then event windows, flows within a unit by first
 * timestamp then key; byte-identical whatever -j and --seed.  One pass over
 * the inputs: finished flows wait in a spill file, and names are resolved
 * when the rows are written, after every capture was read.  The flow rules,
 * the unit rules and their defaults are documented at the top of
 * src/flows/flow_table.c and src/flows/flow_unit.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/err.h"
#include "core/log.h"
#include "core/outfile.h"
#include "core/util.h"
#include "flows/flows.h"
#include "ingest/ingest.h"

int sx_cmd_flows(int argc, char **argv);

#define MAX_SECONDS 100000000.0 /* keeps every time sum inside int64 ns */

static const char usage[] =
    "Usage: sigex flows [OPTIONS] PCAP...\n"
    "\n"
    "The stream-identifier stage: one CSV row per bidirectional flow of every\n"
    "capture.  The first eleven columns are the reference tool's (Index, Timestamp,\n"
    "DeviceHost, DevicePort, OtherHost, OtherPort, TransportProtocol, Protocol,\n"
    "Length, ApplicationSpecific, nbPacket), then File, Event and the per-flow\n"
    "features.  PCAP may be pcap or pcapng, gzip- or zstd-compressed, or - for\n"
    "standard input.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE        write the CSV to FILE (default: standard output)\n"
    "  -j, --jobs N             reader threads (default: number of CPUs)\n"
    "      --window SECONDS     per capture, stop at the first gap longer than this\n"
    "                           between accepted packets, as the reference tool does\n"
    "                           (default 0: keep the whole capture)\n"
    "      --events FILE        one capture, many events: CSV of timestamp[,label]\n"
    "                           (epoch seconds or ISO 8601 with zone); each row opens\n"
    "                           a window, and each window is one occurrence\n"
    "      --duration SECONDS   length of an --events window (default 30)\n"
    "      --idle-timeout SECONDS  a flow ends after this long without a packet\n"
    "                           (default 120)\n"
    "      --names FILE         seed the address-to-name table (lines \"IP NAME\")\n"
    "  -f, --filter BPF         read only packets matching a libpcap filter\n"
    "      --seed N             hash seed (changes nothing in the output)\n"
    "      --max-flows N        memory ceiling: at most N flows live at once over\n"
    "                           the run (1 KiB each), N / threads per reader thread;\n"
    "                           past it the least recently active flows end early\n"
    "                           as idle, with one warning (default: 131072 per\n"
    "                           reader thread, 128 MiB)\n"
    "  -q, --quiet              no warnings, errors only\n"
    "  -h, --help               this help\n"
    "\n"
    "Exit status: 0 ok, 1 failure, 2 usage error, 3 some inputs unreadable,\n"
    "130/143 stopped by SIGINT/SIGTERM (FILE left as it was).\n";

enum {
	OPT_WINDOW = 256,
	OPT_EVENTS,
	OPT_DURATION,
	OPT_IDLE,
	OPT_NAMES,
	OPT_SEED,
	OPT_MAX_FLOWS,
};

/* Seconds (fraction allowed) into ns; positive unless zero_ok. */
static int parse_secs(const char *opt, const char *arg, bool zero_ok, int64_t *ns)
{
	double v;

	if (sx_parse_seconds(arg, &v) || v > MAX_SECONDS || (!zero_ok && v <= 0))
		return sx_cli_usage_error("flows", "%s expects %s number of seconds, not \"%s\"",
					  opt, zero_ok ? "a" : "a positive", arg);
	*ns = (int64_t)(v * 1e9 + 0.5);
	if (!zero_ok && *ns <= 0)
		return sx_cli_usage_error("flows", "%s is too small: \"%s\"", opt, arg);
	return 0;
}

int sx_cmd_flows(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"jobs", required_argument, NULL, 'j'},
	    {"filter", required_argument, NULL, 'f'},
	    {"window", required_argument, NULL, OPT_WINDOW},
	    {"events", required_argument, NULL, OPT_EVENTS},
	    {"duration", required_argument, NULL, OPT_DURATION},
	    {"idle-timeout", required_argument, NULL, OPT_IDLE},
	    {"names", required_argument, NULL, OPT_NAMES},
	    {"seed", required_argument, NULL, OPT_SEED},
	    {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *output = "-", *filter = NULL, *names_file = NULL, *events_file = NULL;
	struct sx_file_status *status = NULL;
	struct sx_events *events = NULL;
	struct sx_names *names = NULL;
	struct sx_flows_job job;
	struct sx_ingest_cfg icfg;
	struct sx_flows_stats stats;
	struct sx_out out;
	char msg[512];
	bool have_window = false, have_duration = false;
	unsigned nthreads = 0;
	uint64_t seed = 0;
	int c, n, ret, exit_code = SX_EXIT_FAILURE;

	memset(&job, 0, sizeof(job));
	job.cfg.idle_ns = (int64_t)SX_FLOWS_IDLE_DEFAULT * SX_NS_PER_SEC;
	job.cfg.window_ns = (int64_t)SX_FLOWS_WINDOW_DEFAULT * SX_NS_PER_SEC;
	job.cfg.duration_ns = (int64_t)SX_FLOWS_DURATION_DEFAULT * SX_NS_PER_SEC;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:j:f:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'j':
			if (sx_cli_threads("flows", optarg, &nthreads))
				return SX_EXIT_USAGE;
			break;
		case 'f':
			filter = optarg;
			break;
		case OPT_WINDOW:
			if (parse_secs("--window", optarg, true, &job.cfg.window_ns))
				return SX_EXIT_USAGE;
			have_window = job.cfg.window_ns > 0;
			break;
		case OPT_EVENTS:
			events_file = optarg;
			break;
		case OPT_DURATION:
			if (parse_secs("--duration", optarg, false, &job.cfg.duration_ns))
				return SX_EXIT_USAGE;
			have_duration = true;
			break;
		case OPT_IDLE:
			if (parse_secs("--idle-timeout", optarg, false, &job.cfg.idle_ns))
				return SX_EXIT_USAGE;
			break;
		case OPT_NAMES:
			names_file = optarg;
			break;
		case OPT_SEED:
			if (sx_parse_u64(optarg, 0, UINT64_MAX, &seed))
				return sx_cli_usage_error(
				    "flows", "--seed expects a number, not \"%s\"", optarg);
			break;
		case OPT_MAX_FLOWS:
			if (sx_parse_u64(optarg, 1, UINT64_MAX, &job.cfg.max_flows))
				return sx_cli_usage_error(
				    "flows", "--max-flows expects a positive number, not \"%s\"",
				    optarg);
			break;
		case 'q':
			sx_log_set_level(SX_LOG_ERROR);
			break;
		case 'h':
			fputs(usage, stdout);
			return SX_EXIT_OK;
		default:
			return sx_cli_usage_error("flows", "unknown option");
		}
	}
	n = argc - optind;
	if (n <= 0)
		return sx_cli_usage_error("flows", "no capture given");
	if (events_file && have_window)
		return sx_cli_usage_error("flows", "--window and --events cannot be combined");
	if (have_duration && !events_file)
		return sx_cli_usage_error("flows", "--duration needs --events");
	if (sx_cli_check_filter("flows", filter))
		return SX_EXIT_USAGE;
	if (sx_cli_inputs("flows", "", (const char *const *)argv + optind, n) ||
	    sx_cli_inputs("flows", "--events ", &events_file, 1) ||
	    sx_cli_inputs("flows", "--names ", &names_file, 1))
		return SX_EXIT_USAGE;
	/* More threads than captures: the spare ones read for the others
	 * (ingest's pipe), so one long capture uses two cores. */
	if (!nthreads)
		nthreads = sx_nproc();

	if (events_file) {
		ret = sx_events_load(events_file, &events, msg, sizeof(msg));
		if (ret) {
			if (ret == -ENOMEM)
				goto out_nomem;
			return sx_cli_usage_error("flows", "--events: %s", msg);
		}
	}
	if (sx_names_new(&names))
		goto out_nomem;
	if (names_file && sx_names_load(names, names_file, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		goto out_free;
	}
	status = sx_calloc_array((size_t)n, sizeof(*status));
	if (!status)
		goto out_nomem;

	job.paths = (const char *const *)argv + optind;
	job.shown = job.paths;
	job.npaths = (uint32_t)n;
	job.nthreads = nthreads;
	job.filter = filter;
	job.cfg.seed = seed;
	job.cfg.events = events;
	job.names = names;

	if (sx_out_open(&out, output, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		goto out_free;
	}
	ret = sx_flows_write_csv(&job, out.f, status, &stats);
	icfg = (struct sx_ingest_cfg){.paths = job.paths,
				      .names = job.shown,
				      .npaths = job.npaths,
				      .nthreads = nthreads,
				      .filter = filter};
	if (ret == -ENODATA) {
		/* Nothing readable: report why, and leave FILE as it was. */
		exit_code = sx_ingest_report(&icfg, status);
		sx_out_abort(&out);
		goto out_free;
	}
	if (ret) {
		if (ret == SX_E_STOPPED)
			sx_log(SX_LOG_ERROR, "interrupted");
		else
			sx_log(SX_LOG_ERROR, "%s: %s", output, sx_strerror(ret));
		sx_out_abort(&out);
		goto out_free;
	}
	exit_code = sx_ingest_report(&icfg, status);
	sx_cli_warn_capped(job.cfg.max_flows, stats.capped);
	if (sx_out_commit(&out, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		exit_code = SX_EXIT_FAILURE;
	} else {
		sx_cli_finished();
	}
	goto out_free;

out_nomem:
	sx_log(SX_LOG_ERROR, "out of memory");
out_free:
	free(status);
	sx_names_free(names);
	sx_events_free(events);
	return sx_cli_exit(exit_code);
}
