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
 * With --device NAME --ipv4 IP, also DIR/profile.yaml, the device's
 * firewall profile: a function of the mining result and of the device's
 * identity only (emit.h), so the reduce side of a cluster run (`sigex
 * flows` per capture on many tasks, then one `sigex mine` over their CSVs)
 * writes the three files the main job writes on the same captures.
 * --mac, --ipv6, --gateway, --phone, --event and --stats are the main
 * job's; last-update is SOURCE_DATE_EPOCH's when set.
 *
 * --names-from: the names tables of the flow runs (`sigex flows
 * --names-out`, one per capture on a cluster) merged, sums and all, into
 * the table one run over every capture would have built; each row's hosts
 * and local names are then taken from it, as that run names them.
 *
 * An input that cannot be read, or that turns out malformed half-way, is
 * left out whole (its units are discarded) and the run goes on: exit 3.
 * A unit given by two inputs is an error of the second one.
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
#include "core/log.h"
#include "core/outfile.h"
#include "core/util.h"
#include "emit/emit.h"
#include "flows/flows.h"
#include "ingest/ingest.h"
#include "mine/mine.h"

int sx_cmd_mine(int argc, char **argv);

static const char cmd[] = "mine";

static const char usage_head[] =
    "Usage: sigex mine [OPTIONS] FLOWS.csv... [--background FLOWS.csv...]\n"
    "\n"
    "The signature-extractor stage: mine the flow CSVs written by 'sigex flows'\n"
    "(one per capture of the event, or files with several captures or event\n"
    "windows) for the patterns that recur in the occurrences of the event.\n"
    "Writes DIR/pattern.txt (also printed) and DIR/signatures.yaml (and with\n"
    "--device, DIR/profile.yaml), the same as the end-to-end run on the captures.\n"
    "FLOWS.csv may be - for standard input.\n"
    "\n"
    "Options:\n"
    "  -o, --output DIR         output directory (default: the current directory;\n"
    "                           created if missing)\n"
    "      --background FLOWS.csv...  flows of idle captures of the device; patterns\n"
    "                           also found there are listed apart, not in the\n"
    "                           signature.  Every argument up to the next option is\n"
    "                           a background file (end the list with -- if needed)\n"
    "      --device NAME        also write DIR/profile.yaml, the device's firewall\n"
    "                           profile, as the main job does (needs --ipv4)\n"
    "      --ipv4 IP            the device's IPv4 address (device-info.ipv4)\n"
    "      --ipv6 ADDR          the device's IPv6 address (device-info.ipv6)\n"
    "      --mac MAC            the device's MAC address (device-info.mac; default:\n"
    "                           inferred from the flows)\n"
    "      --event NAME         the profile's interaction name (default: the\n"
    "                           events file's label, else \"event\")\n"
    "      --names-from FILE    name the addresses from the names the flow runs\n"
    "                           learnt ('sigex flows --names-out'), merged as one\n"
    "                           run over all their captures names them; repeated\n"
    "                           for each file\n"
    "  -q, --quiet              no report on standard output, errors only\n";

static const char usage_foot[] =
    "\n"
    "device-info.last-update is the time of the run, or SOURCE_DATE_EPOCH when set.\n"
    "Exit status: 0 ok, 1 failure, 2 usage error (also: a file that does not\n"
    "exist), 3 some inputs unreadable, 130/143 stopped by SIGINT/SIGTERM (no\n"
    "output replaced), 141 standard output closed.\n";

enum {
	OPT_BACKGROUND = 256,
	OPT_DEVICE,
	OPT_IPV4,
	OPT_IPV6,
	OPT_MAC,
	OPT_EVENT,
	OPT_NAMES_FROM,
};

static const enum sx_cli_opt shared[] = {SX_CLI_SUPPORT, SX_CLI_ALL_PORTS, SX_CLI_STATS,
					 SX_CLI_GATEWAY, SX_CLI_PHONE,	   SX_CLI_JOBS,
					 SX_CLI_SEED,	 SX_CLI_HELP,	   SX_CLI_NOPTS};

static const struct sx_cli_help help = {usage_head, shared, usage_foot};

static const struct option own[] = {{"output", required_argument, NULL, 'o'},
				    {"background", required_argument, NULL, OPT_BACKGROUND},
				    {"device", required_argument, NULL, OPT_DEVICE},
				    {"ipv4", required_argument, NULL, OPT_IPV4},
				    {"ipv6", required_argument, NULL, OPT_IPV6},
				    {"mac", required_argument, NULL, OPT_MAC},
				    {"event", required_argument, NULL, OPT_EVENT},
				    {"names-from", required_argument, NULL, OPT_NAMES_FROM},
				    {"quiet", no_argument, NULL, 'q'},
				    {NULL, 0, NULL, 0}};

/* What the command line says. */
struct args {
	struct sx_cli_common c;
	const char *dir;
	struct sx_cli_args in; /* event files; background files */
	bool quiet;
	/* the profile's device (--device ...), device NULL: no profile */
	const char *device, *ipv4, *ipv6, *event;
	char mac[SX_MAC_TEXT_MAX];
	char last_update[64];
	bool has_last_update;
	const char **names_from; /* --names-from files */
	int nnames_from;
};

/* Feed one CSV into the miner.  0 when read whole; else the input is
 * discarded and a message printed. */
/* The row's hosts and local names from names (as the flow stage names
 * them, flow_spill.c), the buffers holding the address texts. */
static void rename_row(const struct sx_names *names, struct sx_flow_row *row, char *dev,
		       char *other, size_t bufsz)
{
	struct sx_addr da, oa;
	const char *n;
	uint16_t port;

	sx_flow_rec_end(&row->rec, SX_SIDE_DEVICE, &da, &port);
	sx_flow_rec_end(&row->rec, SX_SIDE_OTHER, &oa, &port);
	n = sx_names_lookup(names, &da);
	row->dev_host = n ? n : sx_addr_str(&da, dev, bufsz);
	n = sx_names_lookup(names, &oa);
	row->other_host = n ? n : sx_addr_str(&oa, other, bufsz);
	n = sx_names_lookup_local(names, &da);
	row->dev_local = n ? n : "";
	n = sx_names_lookup_local(names, &oa);
	row->other_local = n ? n : "";
}

static int read_input(struct sx_mine *m, enum sx_mine_set set, int src, const char *path,
		      const struct sx_names *names)
{
	struct sx_flows_csv_reader *r = NULL;
	struct sx_flow_row row;
	char msg[512], dev[64], other[64];
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
		if (names)
			rename_row(names, &row, dev, other, sizeof(dev));
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

/* profile.yaml, as the main job writes it for the same result. */
static int write_profile(const struct args *a, const struct sx_mine_result *res)
{
	struct sx_profile_cfg cfg = {.device = a->device,
				     .ipv4 = a->ipv4,
				     .ipv6 = a->ipv6,
				     .mac = a->mac[0] ? a->mac : NULL,
				     .gateway = a->c.gateway,
				     .phone = a->c.phone,
				     .event = a->event,
				     .last_update = a->has_last_update ? a->last_update : NULL,
				     .stats = a->c.stats};
	char path[4096], msg[512] = "";
	int ret;

	if ((size_t)snprintf(path, sizeof(path), "%s/profile.yaml", a->dir) >= sizeof(path)) {
		sx_log(SX_LOG_ERROR, "%s: path too long", a->dir);
		return -ENAMETOOLONG;
	}
	ret = sx_emit_profile_file(res, &cfg, path, msg, sizeof(msg));
	if (ret)
		sx_log(SX_LOG_ERROR, "%s: %s", path, msg[0] ? msg : sx_strerror(ret));
	return ret;
}

/* One option of the command's own (an sx_cli_own_fn, ctx the struct args);
 * the files after --background are told from the event files. */
static int own_opt(void *ctx, int c, const char *arg)
{
	struct args *a = ctx;
	struct in6_addr in6;
	struct in_addr in4;
	uint8_t mac[6];

	if (sx_cli_args_take(&a->in, c, OPT_BACKGROUND, arg) == 0)
		return 0;
	switch (c) {
	case 'o':
		a->dir = arg;
		return 0;
	case OPT_DEVICE:
		if (!arg[0])
			return sx_cli_usage_error(cmd, "--device expects a name");
		a->device = arg;
		return 0;
	case OPT_IPV4:
		if (inet_pton(AF_INET, arg, &in4) != 1)
			return sx_cli_usage_error(cmd, "--ipv4 expects an IPv4 address, not \"%s\"",
						  arg);
		a->ipv4 = arg;
		return 0;
	case OPT_IPV6:
		if (inet_pton(AF_INET6, arg, &in6) != 1)
			return sx_cli_usage_error(cmd, "--ipv6 expects an IPv6 address, not \"%s\"",
						  arg);
		a->ipv6 = arg;
		return 0;
	case OPT_MAC:
		if (sx_mac_parse(arg, mac) || sx_mac_is_zero(mac))
			return sx_cli_usage_error(
			    cmd, "--mac expects aa:bb:cc:dd:ee:ff, not \"%s\"", arg);
		sx_mac_str(mac, a->mac, sizeof(a->mac));
		return 0;
	case OPT_EVENT:
		if (!arg[0])
			return sx_cli_usage_error(cmd, "--event expects a name");
		a->event = arg;
		return 0;
	case OPT_NAMES_FROM:
		a->names_from[a->nnames_from++] = arg;
		return 0;
	case 'q':
		a->quiet = true;
		sx_log_set_level(SX_LOG_ERROR);
		return 0;
	default:
		return SX_CLI_NOT_OWN;
	}
}

static const struct sx_cli_parser parser = {cmd, "-:o:j:qh", own, &help, own_opt};

/* 0, -1 (--help printed), or the usage error's status. */
static int parse(int argc, char **argv, struct args *a)
{
	int i, ret = sx_cli_getopt(&parser, argc, argv, &a->c, a);

	if (ret)
		return ret;
	for (i = optind; i < argc; i++) /* after "--": event files */
		a->in.v[a->in.n++] = argv[i];
	if (a->in.n == 0)
		return sx_cli_usage_error(cmd, "no flow CSV given");
	if (sx_cli_inputs(cmd, "", a->in.v, a->in.n, NULL, a->c.jobs) ||
	    sx_cli_inputs(cmd, "", a->in.bg, a->in.nbg, NULL, a->c.jobs) ||
	    sx_cli_inputs(cmd, "--names-from ", a->names_from, a->nnames_from, NULL, 1))
		return SX_EXIT_USAGE;
	if (!a->device && (a->ipv4 || a->ipv6 || a->mac[0] || a->event || a->c.gateway ||
			   a->c.phone || a->c.stats))
		return sx_cli_usage_error(cmd, "--ipv4, --ipv6, --mac, --event, --gateway, "
					       "--phone and --stats describe the profile: give "
					       "--device too");
	if (a->device && !a->ipv4)
		return sx_cli_usage_error(cmd, "--device needs --ipv4 (the device's address)");
	return sx_cli_source_date(cmd, a->last_update, sizeof(a->last_update), &a->has_last_update);
}

/* Every input into the miner; *failed when one was left out.  0 or
 * -ENOMEM. */
static int read_inputs(const struct args *a, struct sx_mine *m, const struct sx_names *names,
		       bool *failed)
{
	int i, ret;

	*failed = false;
	for (i = 0; i < a->in.n + a->in.nbg; i++) {
		bool bg = i >= a->in.n;

		ret = read_input(m, bg ? SX_MINE_BACKGROUND : SX_MINE_EVENT, i,
				 bg ? a->in.bg[i - a->in.n] : a->in.v[i], names);
		if (ret == -ENOMEM)
			return ret;
		*failed |= ret != 0;
	}
	return 0;
}

/* pattern.txt and signatures.yaml into a->dir, then the report on
 * standard output.  The exit status. */
static int write_outputs(const struct args *a, const struct sx_mine_result *res,
			 const struct sx_emit_opts *eo)
{
	struct sx_buf report;
	int exit_code = SX_EXIT_FAILURE;

	sx_buf_init(&report);
	sx_emit_report(&report, res, eo);
	if (report.err) {
		sx_log(SX_LOG_ERROR, "out of memory");
		goto out_report;
	}
	if (write_file(a->dir, SX_EMIT_REPORT_FILE, &report) || write_yaml(a->dir, res, eo) ||
	    (a->device && write_profile(a, res)))
		goto out_report;
	sx_cli_finished();
	if (!a->quiet &&
	    (fwrite(report.data, 1, report.len, stdout) != report.len || fflush(stdout))) {
		sx_log(SX_LOG_ERROR, "standard output: %s", strerror(errno));
		goto out_report;
	}
	exit_code = SX_EXIT_OK;
out_report:
	sx_buf_fini(&report);
	return exit_code;
}

/* The --names-from files merged into one finished table.  0 or -1
 * (logged). */
static int load_names(const struct args *a, struct sx_names **out)
{
	char msg[512];
	int i;

	if (sx_names_new(out)) {
		sx_log(SX_LOG_ERROR, "out of memory");
		return -1;
	}
	for (i = 0; i < a->nnames_from; i++)
		if (sx_names_load_saved(*out, a->names_from[i], msg, sizeof(msg))) {
			sx_log(SX_LOG_ERROR, "--names-from %s", msg);
			return -1;
		}
	sx_names_finish(*out);
	return 0;
}

static int run(const struct args *a)
{
	struct sx_mine_cfg cfg = {.support = a->c.support,
				  .seed = a->c.seed,
				  .nthreads = a->c.jobs ? a->c.jobs : sx_nproc()};
	struct sx_emit_opts eo = {.all_ports = a->c.all_ports};
	struct sx_mine_result *res = NULL;
	struct sx_names *names = NULL;
	struct sx_mine *m = NULL;
	bool failed_input;
	char msg[512];
	int ret, exit_code = SX_EXIT_FAILURE;

	ret = sx_mine_new(&cfg, &m);
	if (ret) {
		sx_log(SX_LOG_ERROR, "%s", sx_strerror(ret));
		return SX_EXIT_FAILURE;
	}
	if (a->nnames_from) {
		ret = load_names(a, &names);
		if (ret)
			goto out_free;
	}
	if (read_inputs(a, m, names, &failed_input))
		goto out_free;
	if (!sx_mine_noccs(m)) {
		sx_log(SX_LOG_ERROR, "no occurrence to mine: no flow could be read");
		goto out_free;
	}
	ret = sx_cli_mkdirs(a->dir, msg, sizeof(msg));
	if (ret) {
		sx_log(SX_LOG_ERROR, "%s", ret == -ENOMEM ? "out of memory" : msg);
		goto out_free;
	}
	ret = sx_mine_run(m, &res);
	if (ret) {
		sx_log(SX_LOG_ERROR, "mining failed: %s", sx_strerror(ret));
		goto out_free;
	}
	exit_code = write_outputs(a, res, &eo);
	if (exit_code == SX_EXIT_OK && failed_input)
		exit_code = SX_EXIT_PARTIAL;
out_free:
	sx_names_free(names);
	sx_mine_result_free(res);
	sx_mine_free(m);
	return exit_code;
}

int sx_cmd_mine(int argc, char **argv)
{
	struct args a = {.dir = "."};
	int ret = SX_EXIT_FAILURE;

	a.in.v = calloc((size_t)argc + 1, sizeof(*a.in.v));
	a.in.bg = calloc((size_t)argc + 1, sizeof(*a.in.bg));
	a.names_from = calloc((size_t)argc + 1, sizeof(*a.names_from));
	if (!a.in.v || !a.in.bg || !a.names_from) {
		sx_log(SX_LOG_ERROR, "out of memory");
		goto out_free;
	}
	ret = parse(argc, argv, &a);
	if (ret)
		ret = ret < 0 ? SX_EXIT_OK : ret;
	else
		ret = sx_cli_exit(run(&a));
out_free:
	free(a.in.v);
	free(a.in.bg);
	free(a.names_from);
	return ret;
}
