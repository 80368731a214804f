/*
 * cmd_extract_upstream.c - `sigex DEVICE IPV4 PCAP... [-o DIR] --mode upstream`
 * (also spelled `sigex extract ... --mode upstream`): the reference tool's
 * run, reproduced.
 *
 * Command line as the reference's argparse: DEVICE any string, IPV4 a
 * dotted quad (a usage error otherwise), each PCAP an existing file
 * ("<arg>" is not an existing file), -o a directory, created when missing
 * as in the default mode (the reference wants it to exist), the current
 * directory when -o is missing (where the reference crashes).  An option
 * of the default mode is refused with what this mode is and the options
 * it accepts.  Outputs, in DIR: one <event>.csv per
 * capture, pattern.txt (the reference's patterns.txt, same content) and
 * profile.yaml; standard output carries the reference's report.  Errors go
 * to standard error; nothing is written to standard output on failure.
 * Exit status: 0 ok, 1 failure (a capture that cannot be read, a write
 * error), 2 usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/err.h"
#include "emit/emit.h"
#include "upstream/upstream.h"

int sx_cmd_extract_upstream(int argc, char **argv);

static const char cmd[] = "extract";

static const char usage[] =
    "Usage: sigex DEVICE IPV4 PCAP... [-o DIR] --mode upstream\n"
    "\n"
    "Reproduce the reference tool (signature-extraction, scripts era, commit\n"
    "15015a3) on captures of one event, one capture per occurrence: per-event\n"
    "CSVs <event>.csv, pattern.txt and profile.yaml in DIR, and the reference's\n"
    "report on standard output.\n"
    "\n"
    "Arguments:\n"
    "  DEVICE              device name (device-info.name)\n"
    "  IPV4                the device's IPv4 address (written as \"self\")\n"
    "  PCAP                captures (pcap, pcapng, gzip), processed in this order\n"
    "\n"
    "Options:\n"
    "  -o, --output DIR    output directory (default: the current directory;\n"
    "                      created if missing)\n"
    "      --mode upstream this mode\n"
    "  -h, --help          this help\n"
    "\n"
    "\n"
    "The reference has no event windows, background captures, aliases or other\n"
    "options: the default mode's options do not apply here.\n"
    "device-info.last-update is the time of the run in local time, as the\n"
    "reference writes it, or SOURCE_DATE_EPOCH's in UTC when set.\n"
    "Exit status: 0 ok, 1 failure, 2 usage error.\n";

static const struct sx_cli_help help = {usage, NULL, NULL};

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int write_outputs(const struct sx_upstream_result *r, const char *device,
			 const char *last_update, const char *dir)
{
	char msg[512], path[4096];
	struct sx_buf b;
	int ret;

	ret = sx_upstream_write_csvs(r, dir, msg, sizeof(msg));
	if (ret)
		goto out_err;
	snprintf(path, sizeof(path), "%s/pattern.txt", dir);
	ret = sx_upstream_write_patterns(r, path, msg, sizeof(msg));
	if (ret)
		goto out_err;
	snprintf(path, sizeof(path), "%s/profile.yaml", dir);
	ret = sx_upstream_profile_file(r, device, last_update, path, msg, sizeof(msg));
	if (ret)
		goto out_err;
	sx_buf_init(&b);
	sx_upstream_report(r, &b);
	ret = sx_buf_flush(&b, stdout);
	sx_buf_fini(&b);
	if (ret || fflush(stdout) != 0) {
		snprintf(msg, sizeof(msg), "standard output: write error");
		ret = ret ? ret : -EIO;
		goto out_err;
	}
	return SX_EXIT_OK;
out_err:
	fprintf(stderr, "sigex %s: %s\n", cmd, msg);
	return SX_EXIT_FAILURE;
}

/* What the command line says. */
struct args {
	const char *dir, *device, *ipv4;
	const char *const *paths;
	size_t npaths;
	char *const *argv; /* parsing: the line the messages quote */
};

/* Every option (an sx_cli_own_fn, ctx the struct args): the reference tool
 * takes -o, --mode and --help only; anything else is refused naming it. */
static int own_opt(void *ctx, int c, const char *arg)
{
	struct args *a = ctx;

	switch (c) {
	case 'o':
		a->dir = arg;
		return 0;
	case 'm':
		if (strcmp(arg, "upstream") != 0)
			return sx_cli_usage_error(
			    cmd, "this command runs --mode upstream, not \"%s\"", arg);
		return 0;
	case 'h':
	case ':':
		return SX_CLI_NOT_OWN;
	default:
		return sx_cli_usage_error(
		    cmd,
		    "%s: --mode upstream reproduces the reference tool, which has no "
		    "such option (nor event windows); this mode accepts only -o DIR, "
		    "--mode upstream and --help",
		    a->argv[optind - 1]);
	}
}

static const struct option own[] = {
    {"output", required_argument, NULL, 'o'},
    {"mode", required_argument, NULL, 'm'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const struct sx_cli_parser parser = {cmd, ":o:h", own, &help, own_opt};

/* 0, -1 (--help printed), or the usage error's status. */
static int parse(int argc, char **argv, struct args *a)
{
	struct in_addr addr;
	size_t i;
	int ret;

	a->argv = argv;
	ret = sx_cli_getopt(&parser, argc, argv, NULL, a);
	if (ret)
		return ret;
	if (argc - optind < 3)
		return sx_cli_usage_error(cmd, "expected DEVICE IPV4 PCAP...");
	a->device = argv[optind];
	a->ipv4 = argv[optind + 1];
	if (inet_pton(AF_INET, a->ipv4, &addr) != 1)
		return sx_cli_usage_error(cmd, "argument ipv4: invalid IPv4Address value: '%s'",
					  a->ipv4);
	a->paths = (const char *const *)&argv[optind + 2];
	a->npaths = (size_t)(argc - optind - 2);
	for (i = 0; i < a->npaths; i++)
		if (!is_file(a->paths[i]))
			return sx_cli_usage_error(cmd, "\"%s\" is not an existing file",
						  a->paths[i]);
	return 0;
}

static int run(const struct args *a)
{
	struct sx_upstream_cfg cfg = {0};
	struct sx_upstream_result *r;
	char msg[512], last_update[64];
	bool has_epoch;
	time_t epoch;
	size_t i;
	int ret;

	/* SOURCE_DATE_EPOCH: last-update from it, in UTC (the reference's
	 * form; without it, the time of the run in local time, as the
	 * reference writes it) */
	ret = sx_cli_source_epoch(cmd, &epoch, &has_epoch);
	if (ret)
		return ret;
	if (has_epoch)
		sx_upstream_last_update(last_update, sizeof(last_update), epoch, true);
	ret = sx_cli_output_dir(cmd, a->dir);
	if (ret)
		return ret;
	cfg.paths = a->paths;
	cfg.npaths = a->npaths;
	cfg.ipv4 = a->ipv4;
	ret = sx_upstream_run(&cfg, &r, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "sigex %s: %s\n", cmd, msg);
		return SX_EXIT_FAILURE;
	}
	for (i = 0; i < r->ntables; i++)
		if (r->tables[i].warning[0])
			fprintf(stderr, "sigex %s: warning: %s\n", cmd, r->tables[i].warning);
	ret = write_outputs(r, a->device, has_epoch ? last_update : NULL, a->dir);
	sx_upstream_result_free(r);
	if (ret == SX_EXIT_OK)
		sx_cli_finished();
	return ret;
}

int sx_cmd_extract_upstream(int argc, char **argv)
{
	struct args a = {.dir = "."};
	int ret = parse(argc, argv, &a);

	if (ret)
		return ret < 0 ? SX_EXIT_OK : ret;
	return sx_cli_exit(run(&a));
}
