/*
 * cmd_verify.c - `sigex verify PROFILE.yaml PCAP...`: replay captures through
 * a profile with the smart-home firewall's semantics (verify/verify.h) and
 * report what it would allow and deny of the device's traffic.
 *
 * Exit status: 0 when it ran, whatever it found; 1 with --fail-under PCT
 * when the packets' or the flows' allow rate is under PCT (a CI gate), or
 * when no capture could be read; 2 usage error or unreadable profile; 3
 * some captures unreadable (the others replayed and reported).
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
#include "verify/verify.h"

int sx_cmd_verify(int argc, char **argv);

static const char cmd[] = "verify";

static const char usage[] =
    "Usage: sigex verify PROFILE.yaml PCAP... [OPTIONS]\n"
    "\n"
    "Replay captures through a profile.yaml the way the smart-home firewall runs\n"
    "it (its nftables rules, its NFQueue matches, its DNS table, its interaction\n"
    "states) and report, for the device's traffic: packets and flows allowed and\n"
    "denied, hits per policy, policies never hit, and the denied traffic grouped\n"
    "by transport, port, peer and application value, with an example of each.\n"
    "Each capture is replayed through a freshly started firewall.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE        write the report to FILE (default: standard output)\n"
    "      --format FORMAT      text (default), csv or yaml\n"
    "      --fail-under PCT     exit 1 when packets or flows allowed are under PCT%\n"
    "      --ipv4 ADDR          the device's IPv4 address (default: device-info)\n"
    "      --ipv6 ADDR          the device's IPv6 address (default: device-info)\n"
    "      --mac MAC            the device's MAC (default: device-info, else learnt\n"
    "                           per capture from the device's IPv4 traffic); a\n"
    "                           device-info.ipv6 made from device-info.mac (its\n"
    "                           link-local address) follows it\n"
    "      --gateway IP         the firewall's gateway alias for this LAN (default: the\n"
    "                           firewall's own, 192.168.1.1)\n"
    "      --phone IP           the firewall's phone alias for this LAN (default: the\n"
    "                           firewall's own, 192.168.1.222)\n"
    "      --stateless          ignore interaction states (the rules alone)\n"
    "  -f, --filter BPF         read only the packets matching a libpcap filter\n"
    "  -j, --threads N          captures replayed in parallel (default: the CPUs)\n"
    "  -q, --quiet              no warnings\n"
    "  -h, --help               this help\n"
    "\n"
    "Exit status: 0 it ran (whatever it found), 1 under --fail-under or nothing\n"
    "readable, 2 usage error, 3 some captures unreadable.\n";

static const struct sx_cli_help help = {usage, NULL, NULL};

enum {
	OPT_FORMAT = 256,
	OPT_FAIL_UNDER,
	OPT_IPV4,
	OPT_IPV6,
	OPT_MAC,
	OPT_STATELESS,
	OPT_GATEWAY,
	OPT_PHONE,
};

static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
					 {"format", required_argument, NULL, OPT_FORMAT},
					 {"fail-under", required_argument, NULL, OPT_FAIL_UNDER},
					 {"ipv4", required_argument, NULL, OPT_IPV4},
					 {"ipv6", required_argument, NULL, OPT_IPV6},
					 {"mac", required_argument, NULL, OPT_MAC},
					 {"stateless", no_argument, NULL, OPT_STATELESS},
					 {"gateway", required_argument, NULL, OPT_GATEWAY},
					 {"phone", required_argument, NULL, OPT_PHONE},
					 {"filter", required_argument, NULL, 'f'},
					 {"threads", required_argument, NULL, 'j'},
					 {"quiet", no_argument, NULL, 'q'},
					 {"help", no_argument, NULL, 'h'},
					 {NULL, 0, NULL, 0}};

static int parse_pct(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || (*end && strcmp(end, "%")) || v < 0 || v > 100)
		return -1;
	*out = v;
	return 0;
}

/* What the command line says. */
struct args {
	enum sx_verify_format fmt;
	struct sx_verify_ids ids;
	struct sx_verify_cfg cfg;
	const char *output;
	double fail_under; /* -1: no --fail-under */
	char **argv;	   /* positionals compacted into argv[1..npos] */
	int npos;
};

/* One option of the command's own (an sx_cli_own_fn, ctx the struct args). */
static int own_opt(void *ctx, int c, const char *arg)
{
	struct args *a = ctx;

	switch (c) {
	case 1: /* positionals, compacted in place (each took a slot) */
		a->argv[1 + a->npos++] = (char *)arg;
		return 0;
	case 'o':
		a->output = arg;
		return 0;
	case OPT_FORMAT:
		if (!strcmp(arg, "text"))
			a->fmt = SX_VERIFY_TEXT;
		else if (!strcmp(arg, "csv"))
			a->fmt = SX_VERIFY_CSV;
		else if (!strcmp(arg, "yaml"))
			a->fmt = SX_VERIFY_YAML;
		else
			return sx_cli_usage_error(cmd, "--format is text, csv or yaml, not \"%s\"",
						  arg);
		return 0;
	case OPT_FAIL_UNDER:
		if (parse_pct(arg, &a->fail_under))
			return sx_cli_usage_error(
			    cmd, "--fail-under expects a percentage 0..100, not \"%s\"", arg);
		return 0;
	case OPT_IPV4:
		a->ids.ipv4 = arg;
		return 0;
	case OPT_IPV6:
		a->ids.ipv6 = arg;
		return 0;
	case OPT_MAC:
		a->ids.mac = arg;
		return 0;
	case OPT_GATEWAY:
		a->ids.gateway = arg;
		return 0;
	case OPT_PHONE:
		a->ids.phone = arg;
		return 0;
	case OPT_STATELESS:
		a->cfg.stateless = true;
		return 0;
	case 'f':
		a->cfg.filter = arg;
		return 0;
	case 'j':
		return sx_cli_threads(cmd, arg, &a->cfg.nthreads) ? SX_EXIT_USAGE : 0;
	case 'q':
		sx_log_set_level(SX_LOG_ERROR);
		return 0;
	default:
		return SX_CLI_NOT_OWN;
	}
}

static const struct sx_cli_parser parser = {cmd, "-:o:f:j:qh", longopts, &help, own_opt};

int sx_cmd_verify(int argc, char **argv)
{
	struct args a = {.fmt = SX_VERIFY_TEXT,
			 .ids = {NULL, NULL, NULL, NULL, NULL},
			 .output = "-",
			 .fail_under = -1,
			 .argv = argv};
	struct sx_verify_profile *p = NULL;
	struct sx_verify_result *r = NULL;
	struct sx_verify_summary s;
	struct sx_out out;
	const char *profile;
	char msg[1024];
	int ret, exit_code = SX_EXIT_FAILURE;

	ret = sx_cli_getopt(&parser, argc, argv, NULL, &a);
	if (ret)
		return ret == -1 ? SX_EXIT_OK : ret; /* -1: --help printed */
	for (; optind < argc; optind++)		     /* after "--" */
		argv[1 + a.npos++] = argv[optind];
	if (a.npos < 2)
		return sx_cli_usage_error(cmd, "expected PROFILE.yaml PCAP...");
	profile = argv[1];
	if (sx_cli_check_filter(cmd, a.cfg.filter))
		return SX_EXIT_USAGE;
	ret = sx_verify_profile_load(profile, &a.ids, &p, msg, sizeof(msg));
	if (ret == -ENOMEM)
		goto out_nomem;
	if (ret)
		return sx_cli_usage_error(cmd, "%s: %s", profile, msg);
	a.cfg.paths = (const char *const *)argv + 2;
	a.cfg.npaths = (uint32_t)(a.npos - 1);
	ret = sx_verify_run(p, &a.cfg, &r);
	if (ret == -ENOMEM)
		goto out_nomem;
	if (ret) {
		sx_log(SX_LOG_ERROR, "%s", ret == SX_E_STOPPED ? "interrupted" : sx_strerror(ret));
		goto out_free;
	}
	sx_verify_result_summary(r, &s);
	if (sx_out_open(&out, a.output, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		goto out_free;
	}
	if (sx_verify_report(out.f, p, r, a.fmt)) {
		sx_log(SX_LOG_ERROR, "%s: write error", a.output);
		sx_out_abort(&out);
		goto out_free;
	}
	if (sx_out_commit(&out, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		goto out_free;
	}
	sx_cli_finished();
	if (s.captures_bad == s.captures)
		exit_code = SX_EXIT_FAILURE;
	else if (a.fail_under >= 0 && (s.packets_pct < a.fail_under || s.flows_pct < a.fail_under))
		exit_code = SX_EXIT_FAILURE;
	else if (s.captures_bad)
		exit_code = SX_EXIT_PARTIAL;
	else
		exit_code = SX_EXIT_OK;
	if (a.fail_under >= 0 && exit_code == SX_EXIT_FAILURE && s.captures_bad < s.captures)
		sx_log(SX_LOG_ERROR, "allowed packets %.1f%%, flows %.1f%%: under %.1f%%",
		       s.packets_pct, s.flows_pct, a.fail_under);
	goto out_free;

out_nomem:
	sx_log(SX_LOG_ERROR, "out of memory");
out_free:
	sx_verify_result_free(r);
	sx_verify_profile_free(p);
	return sx_cli_exit(exit_code);
}
