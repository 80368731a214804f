/*
 * cmd_mine.c - `sigex mine FLOWS.csv... [-o DIR]`: the signature-extractor
 * stage on its own.
 *
 * Reads the flow CSVs that `sigex flows` wrote (one per capture, or files
 * holding several units), mines them with the default algorithm
 * (src/mine/mine.c) and writes DIR/pattern.txt and DIR/signatures.yaml, the
 * same bytes as the end-to-end run on the captures: the miner's only input
 * is the flow row, and the flow CSV carries all of it.  The report also
 * goes to standard output.  Occurrences are the CSVs' units (File, Event),
 * put in canonical order, so the order of the arguments does not matter.
 *
 * An input that cannot be read, or that turns out malformed half-way, is
 * left out whole (its units are discarded) and the run goes on: exit 3.
 * A unit given by two inputs is an error of the second one.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/outfile.h"
#include "core/util.h"
#include "emit/emit.h"
#include "flows/flows.h"
#include "mine/mine.h"

int sx_cmd_mine(int argc, char **argv);

static const char usage[] =
    "Usage: sigex mine [OPTIONS] FLOWS.csv... [--background FLOWS.csv...]\n"
    "\n"
    "The signature-extractor stage: mine the flow CSVs written by 'sigex flows'\n"
    "(one per capture of the event, or files with several captures or event\n"
    "windows) for the patterns that recur in the occurrences of the event.\n"
    "Writes DIR/pattern.txt (also printed) and DIR/signatures.yaml, the same as\n"
    "the end-to-end run on the captures.  FLOWS.csv may be - for standard input.\n"
    "\n"
    "Options:\n"
    "  -o, --output DIR         output directory (default: the current directory;\n"
    "                           created if missing)\n"
    "      --support F          a pattern must occur in at least this fraction of the\n"
    "                           occurrences, 0 < F <= 1 (default 0.9)\n"
    "      --background FLOWS.csv...  flows of idle captures of the device; patterns\n"
    "                           also found there are listed apart, not in the\n"
    "                           signature.  Every argument up to the next option is\n"
    "                           a background file (end the list with -- if needed)\n"
    "      --all-ports          Ports: every port of each host (default: the three\n"
    "                           most used of each host)\n"
    "  -j, --jobs N             matching threads (default: number of CPUs)\n"
    "      --seed N             feature-hashing seed (changes nothing in the output)\n"
    "  -q, --quiet              no report on standard output, errors only\n"
    "  -h, --help               this help\n"
    "\n"
    "Exit status: 0 ok, 1 failure, 2 usage error, 3 some inputs unreadable,\n"
    "130/143 stopped by SIGINT/SIGTERM (no output replaced).\n";

enum {
	OPT_SUPPORT = 256,
	OPT_BACKGROUND,
	OPT_ALL_PORTS,
	OPT_SEED,
};

/* Feed one CSV into the miner.  0 when read whole; else the input is
 * discarded and a message printed. */
static int read_input(struct sx_mine *m, enum sx_mine_set set, int src, const char *path)
{
	struct sx_flows_csv_reader *r = NULL;
	struct sx_flow_row row;
	char msg[512];
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *f;
	int ret;

	f = is_stdin ? stdin : fopen(path, "r");
	if (!f) {
		sx_log(SX_LOG_ERROR, "%s: %s", path, strerror(errno));
		return -errno;
	}
	ret = sx_flows_csv_reader_new(f, &r);
	if (ret)
		goto out_close;
	for (;;) {
		msg[0] = '\0';
		ret = sx_flows_csv_next(r, &row, msg, sizeof(msg));
		if (ret <= 0)
			break;
		ret = sx_mine_add_row(m, set, src, &row);
		if (ret == -EEXIST) {
			snprintf(msg, sizeof(msg),
				 "capture \"%s\"%s was already given by another input", row.file,
				 row.rec.key.event != SX_FLOW_NO_EVENT ? " (event window)" : "");
			break;
		}
		if (ret)
			break;
	}
	if (ret == 0 && ferror(f))
		ret = -EIO;
	if (ret) {
		sx_mine_discard_src(m, src);
		if (ret == -ENOMEM)
			sx_log(SX_LOG_ERROR, "out of memory");
		else
			sx_log(SX_LOG_ERROR, "%s: %s; input left out", path,
			       msg[0] ? msg : sx_strerror(ret));
	}
	sx_flows_csv_reader_free(r);
out_close:
	if (!is_stdin)
		fclose(f);
	return ret;
}

/* Write buf to dir/name atomically. */
static int write_file(const char *dir, const char *name, const struct sx_buf *b)
{
	struct sx_out out;
	char path[4096], msg[512];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		sx_log(SX_LOG_ERROR, "%s: path too long", dir);
		return -ENAMETOOLONG;
	}
	if (sx_out_open(&out, path, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		return -EIO;
	}
	if (b->len && fwrite(b->data, 1, b->len, out.f) != b->len) {
		sx_log(SX_LOG_ERROR, "%s: %s", path, strerror(errno));
		sx_out_abort(&out);
		return -EIO;
	}
	if (sx_out_commit(&out, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		return -EIO;
	}
	return 0;
}

static int write_yaml(const char *dir, const struct sx_mine_result *res,
		      const struct sx_emit_opts *eo)
{
	struct sx_out out;
	char path[4096], msg[512];
	int ret;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, SX_EMIT_SIGNATURES_FILE) >=
	    sizeof(path)) {
		sx_log(SX_LOG_ERROR, "%s: path too long", dir);
		return -ENAMETOOLONG;
	}
	if (sx_out_open(&out, path, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		return -EIO;
	}
	ret = sx_emit_signatures(out.f, res, eo, msg, sizeof(msg));
	if (ret) {
		sx_log(SX_LOG_ERROR, "%s: %s", path, msg);
		sx_out_abort(&out);
		return ret;
	}
	if (sx_out_commit(&out, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		return -EIO;
	}
	return 0;
}

int sx_cmd_mine(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"jobs", required_argument, NULL, 'j'},
	    {"support", required_argument, NULL, OPT_SUPPORT},
	    {"background", required_argument, NULL, OPT_BACKGROUND},
	    {"all-ports", no_argument, NULL, OPT_ALL_PORTS},
	    {"seed", required_argument, NULL, OPT_SEED},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *dir = ".";
	const char **events = NULL, **bgs = NULL;
	struct sx_mine_cfg cfg = {0};
	struct sx_emit_opts eo = {0};
	struct sx_mine_result *res = NULL;
	struct sx_mine *m = NULL;
	struct sx_buf report;
	bool quiet = false, in_bg = false, failed_input = false;
	int nev = 0, nbg = 0, c, i, ret, exit_code = SX_EXIT_FAILURE;
	char msg[512];
	double support;

	events = calloc((size_t)argc + 1, sizeof(*events));
	bgs = calloc((size_t)argc + 1, sizeof(*bgs));
	if (!events || !bgs) {
		free(events);
		free(bgs);
		sx_log(SX_LOG_ERROR, "out of memory");
		return SX_EXIT_FAILURE;
	}
	optind = 1;
	/* '-': non-options come back in order (code 1), so that the files
	 * after --background can be told from the event files */
	while ((c = getopt_long(argc, argv, "-o:j:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 1:
			if (in_bg)
				bgs[nbg++] = optarg;
			else
				events[nev++] = optarg;
			continue;
		case 'o':
			dir = optarg;
			break;
		case 'j':
			if (sx_cli_threads("mine", optarg, &cfg.nthreads))
				goto out_usage;
			break;
		case OPT_SUPPORT: {
			char *end;

			errno = 0;
			support = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(support > 0 && support <= 1)) {
				sx_cli_usage_error("mine",
						   "--support expects a fraction in (0, 1], "
						   "not \"%s\"",
						   optarg);
				goto out_usage;
			}
			cfg.support = support;
			break;
		}
		case OPT_BACKGROUND:
			bgs[nbg++] = optarg;
			in_bg = true;
			continue;
		case OPT_ALL_PORTS:
			eo.all_ports = true;
			break;
		case OPT_SEED:
			if (sx_parse_u64(optarg, 0, UINT64_MAX, &cfg.seed)) {
				sx_cli_usage_error("mine", "--seed expects a number, not \"%s\"",
						   optarg);
				goto out_usage;
			}
			break;
		case 'q':
			quiet = true;
			sx_log_set_level(SX_LOG_ERROR);
			break;
		case 'h':
			fputs(usage, stdout);
			exit_code = SX_EXIT_OK;
			goto out_free_args;
		default:
			sx_cli_usage_error("mine", "unknown option");
			goto out_usage;
		}
		in_bg = false;
	}
	/* after "--": event files */
	for (i = optind; i < argc; i++)
		events[nev++] = argv[i];
	if (nev == 0) {
		sx_cli_usage_error("mine", "no flow CSV given");
		goto out_usage;
	}
	if (sx_cli_inputs("mine", "", events, nev) || sx_cli_inputs("mine", "", bgs, nbg))
		goto out_usage;
	if (!cfg.nthreads)
		cfg.nthreads = sx_nproc();

	ret = sx_mine_new(&cfg, &m);
	if (ret) {
		sx_log(SX_LOG_ERROR, "%s", sx_strerror(ret));
		goto out_free_args;
	}
	for (i = 0; i < nev; i++) {
		ret = read_input(m, SX_MINE_EVENT, i, events[i]);
		if (ret == -ENOMEM)
			goto out_free;
		failed_input |= ret != 0;
	}
	for (i = 0; i < nbg; i++) {
		ret = read_input(m, SX_MINE_BACKGROUND, nev + i, bgs[i]);
		if (ret == -ENOMEM)
			goto out_free;
		failed_input |= ret != 0;
	}
	if (!sx_mine_noccs(m)) {
		sx_log(SX_LOG_ERROR, "no occurrence to mine: no flow could be read");
		goto out_free;
	}
	ret = sx_cli_mkdirs(dir, msg, sizeof(msg));
	if (ret) {
		sx_log(SX_LOG_ERROR, "%s", ret == -ENOMEM ? "out of memory" : msg);
		goto out_free;
	}
	ret = sx_mine_run(m, &res);
	if (ret) {
		sx_log(SX_LOG_ERROR, "mining failed: %s", sx_strerror(ret));
		goto out_free;
	}
	sx_buf_init(&report);
	sx_emit_report(&report, res, &eo);
	if (report.err) {
		sx_log(SX_LOG_ERROR, "out of memory");
		goto out_report;
	}
	if (write_file(dir, SX_EMIT_REPORT_FILE, &report) || write_yaml(dir, res, &eo))
		goto out_report;
	sx_cli_finished();
	if (!quiet &&
	    (fwrite(report.data, 1, report.len, stdout) != report.len || fflush(stdout))) {
		sx_log(SX_LOG_ERROR, "standard output: %s", strerror(errno));
		goto out_report;
	}
	exit_code = failed_input ? SX_EXIT_PARTIAL : SX_EXIT_OK;
out_report:
	sx_buf_fini(&report);
out_free:
	sx_mine_result_free(res);
	sx_mine_free(m);
out_free_args:
	free(events);
	free(bgs);
	return sx_cli_exit(exit_code);
out_usage:
	free(events);
	free(bgs);
	return SX_EXIT_USAGE;
}
