/*
 * cmd_flows.c - `sigex flows PCAP... [-o FILE]`: the stream-identifier stage.
 *
 * One CSV row per flow (columns: src/flows/flow_csv.c), units in the order
 * the captures are given, then event windows, flows within a unit by first
 * timestamp then key; byte-identical whatever -j and --seed.  One pass over
 * the inputs: finished flows wait in the spill, and names are resolved
 * when the rows are written, after every capture was read (--names-out
 * writes that table, for a reduce by `sigex mine --names-from`).  The flow rules,
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

static const char cmd[] = "flows";

static const char usage_head[] =
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
    "  -q, --quiet              no warnings, errors only\n";

static const char usage_foot[] =
    "\n"
    "Exit status: 0 ok, 1 failure (FILE left as it was), 2 usage error (also: a\n"
    "file that does not exist), 3 some inputs unreadable, 130/143 stopped by\n"
    "SIGINT/SIGTERM (FILE left as it was), 141 standard output closed.\n";

static const enum sx_cli_opt shared[] = {
    SX_CLI_JOBS,   SX_CLI_WINDOW, SX_CLI_EVENTS,    SX_CLI_DURATION,  SX_CLI_IDLE, SX_CLI_NAMES,
    SX_CLI_FILTER, SX_CLI_SEED,	  SX_CLI_MAX_FLOWS, SX_CLI_NAMES_OUT, SX_CLI_HELP, SX_CLI_NOPTS};

static const struct sx_cli_help help = {usage_head, shared, usage_foot};

/* 0, -1 (--help printed), or the usage error's status. */
static int parse(int argc, char **argv, struct sx_cli_files *a)
{
	int ret = sx_cli_parse_files(cmd, argc, argv, &help, a);

	if (ret)
		return ret;
	if (a->c.events && a->c.window > 0)
		return sx_cli_usage_error(cmd, "--window and --events cannot be combined");
	if (sx_cli_given(&a->c, SX_CLI_DURATION) && !a->c.events)
		return sx_cli_usage_error(cmd, "--duration needs --events");
	if (sx_cli_common_files(cmd, &a->c))
		return SX_EXIT_USAGE;
	/* The sizes order the reading and presize the table (one stat each). */
	a->sizes = sx_calloc_array((size_t)a->npaths + 1, sizeof(*a->sizes));
	if (!a->sizes) {
		sx_log(SX_LOG_ERROR, "out of memory");
		return SX_EXIT_FAILURE;
	}
	return sx_cli_inputs(cmd, "", a->paths, a->npaths, a->sizes, a->c.jobs);
}

/* The flow table's settings from the options. */
static void job_cfg(const struct sx_cli_files *a, struct sx_flows_job *job)
{
	memset(job, 0, sizeof(*job));
	job->cfg.idle_ns = (int64_t)SX_FLOWS_IDLE_DEFAULT * SX_NS_PER_SEC;
	job->cfg.window_ns = (int64_t)SX_FLOWS_WINDOW_DEFAULT * SX_NS_PER_SEC;
	job->cfg.duration_ns = (int64_t)SX_FLOWS_DURATION_DEFAULT * SX_NS_PER_SEC;
	if (sx_cli_given(&a->c, SX_CLI_WINDOW))
		job->cfg.window_ns = (int64_t)(a->c.window * 1e9 + 0.5);
	if (sx_cli_given(&a->c, SX_CLI_DURATION))
		job->cfg.duration_ns = (int64_t)(a->c.duration * 1e9 + 0.5);
	if (sx_cli_given(&a->c, SX_CLI_IDLE))
		job->cfg.idle_ns = (int64_t)(a->c.idle_timeout * 1e9 + 0.5);
	job->cfg.max_flows = a->c.max_flows;
	job->cfg.seed = a->c.seed;
	job->paths = a->paths;
	job->shown = a->paths;
	job->sizes = a->sizes;
	job->npaths = (uint32_t)a->npaths;
	/* More threads than captures: the spare ones read for the others
	 * (ingest's pipe), so one long capture uses two cores. */
	job->nthreads = a->c.jobs ? a->c.jobs : sx_nproc();
	job->filter = a->c.filter;
}

/* Load the events and names files into the job.  0 or the exit status. */
static int load_tables(const struct sx_cli_files *a, struct sx_flows_job *job,
		       struct sx_events **events)
{
	char msg[512];
	int ret;

	if (a->c.events) {
		ret = sx_events_load(a->c.events, events, msg, sizeof(msg));
		if (ret == -ENOMEM)
			goto out_nomem;
		if (ret)
			return sx_cli_usage_error(cmd, "--events: %s", msg);
		job->cfg.events = *events;
	}
	if (sx_names_new(&job->names))
		goto out_nomem;
	if (a->c.names && sx_names_load(job->names, a->c.names, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		return SX_EXIT_FAILURE;
	}
	return 0;
out_nomem:
	sx_log(SX_LOG_ERROR, "out of memory");
	return SX_EXIT_FAILURE;
}

/* Read, reduce and write the CSV to a->output, replaced only when the run
 * has something to write.  The exit status. */
static int write_flows(const struct sx_cli_files *a, const struct sx_flows_job *job,
		       struct sx_file_status *status)
{
	struct sx_ingest_cfg icfg = {.paths = job->paths,
				     .names = job->shown,
				     .npaths = job->npaths,
				     .nthreads = job->nthreads,
				     .filter = job->filter};
	struct sx_flows_stats stats;
	struct sx_out out, names;
	char msg[512];
	int ret, exit_code;

	if (sx_out_open(&out, a->output, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		return SX_EXIT_FAILURE;
	}
	ret = sx_flows_write_csv(job, out.f, status, &stats);
	if (ret == -ENODATA) {
		/* Nothing readable: report why, and leave FILE as it was. */
		sx_out_abort(&out);
		return sx_ingest_report(&icfg, status);
	}
	if (ret) {
		if (ret == SX_E_STOPPED)
			sx_log(SX_LOG_ERROR, "interrupted");
		else
			sx_log(SX_LOG_ERROR, "%s: %s", a->output, sx_strerror(ret));
		sx_out_abort(&out);
		return SX_EXIT_FAILURE;
	}
	exit_code = sx_ingest_report(&icfg, status);
	sx_cli_warn_capped(job->cfg.max_flows, stats.capped);
	/* --names-out: the table the run named the addresses from, written
	 * before the CSV is committed (either both files or neither) */
	if (a->c.names_out) {
		if (sx_out_open(&names, a->c.names_out, msg, sizeof(msg))) {
			sx_log(SX_LOG_ERROR, "%s", msg);
			sx_out_abort(&out);
			return SX_EXIT_FAILURE;
		}
		if (sx_names_save(job->names, names.f)) {
			sx_log(SX_LOG_ERROR, "%s: write error", a->c.names_out);
			sx_out_abort(&names);
			sx_out_abort(&out);
			return SX_EXIT_FAILURE;
		}
	}
	if (sx_out_commit(&out, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		if (a->c.names_out)
			sx_out_abort(&names);
		return SX_EXIT_FAILURE;
	}
	if (a->c.names_out && sx_out_commit(&names, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		return SX_EXIT_FAILURE;
	}
	sx_cli_finished();
	return exit_code;
}

static int run(const struct sx_cli_files *a)
{
	struct sx_file_status *status = NULL;
	struct sx_events *events = NULL;
	struct sx_flows_job job;
	int exit_code;

	job_cfg(a, &job);
	exit_code = load_tables(a, &job, &events);
	if (exit_code)
		goto out_free;
	status = sx_calloc_array((size_t)a->npaths, sizeof(*status));
	if (!status) {
		sx_log(SX_LOG_ERROR, "out of memory");
		exit_code = SX_EXIT_FAILURE;
		goto out_free;
	}
	exit_code = write_flows(a, &job, status);
out_free:
	free(status);
	sx_names_free(job.names);
	sx_events_free(events);
	return exit_code;
}

int sx_cmd_flows(int argc, char **argv)
{
	struct sx_cli_files a = {.output = "-"};
	int ret = parse(argc, argv, &a);

	if (!ret)
		ret = sx_cli_exit(run(&a));
	else if (ret < 0)
		ret = SX_EXIT_OK;
	free(a.sizes);
	return ret;
}
