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
    "                           per capture from the device's IPv4 traffic)\n"
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

int sx_cmd_verify(int argc, char **argv)
{
	enum sx_verify_format fmt = SX_VERIFY_TEXT;
	struct sx_verify_ids ids = {NULL, NULL, NULL, NULL, NULL};
	struct sx_verify_cfg cfg = {0};
	struct sx_verify_profile *p = NULL;
	struct sx_verify_result *r = NULL;
	struct sx_verify_summary s;
	struct sx_out out;
	const char *output = "-", *profile;
	double fail_under = -1;
	char msg[1024];
	int c, ret, npos = 0, exit_code = SX_EXIT_FAILURE;

	optind = 0; /* glibc: start over */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "-:o:f:j:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 1: /* positionals, compacted in place (each took a slot) */
			argv[1 + npos++] = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "text"))
				fmt = SX_VERIFY_TEXT;
			else if (!strcmp(optarg, "csv"))
				fmt = SX_VERIFY_CSV;
			else if (!strcmp(optarg, "yaml"))
				fmt = SX_VERIFY_YAML;
			else
				return sx_cli_usage_error(
				    cmd, "--format is text, csv or yaml, not \"%s\"", optarg);
			break;
		case OPT_FAIL_UNDER:
			if (parse_pct(optarg, &fail_under))
				return sx_cli_usage_error(
				    cmd, "--fail-under expects a percentage 0..100, not \"%s\"",
				    optarg);
			break;
		case OPT_IPV4:
			ids.ipv4 = optarg;
			break;
		case OPT_IPV6:
			ids.ipv6 = optarg;
			break;
		case OPT_MAC:
			ids.mac = optarg;
			break;
		case OPT_GATEWAY:
			ids.gateway = optarg;
			break;
		case OPT_PHONE:
			ids.phone = optarg;
			break;
		case OPT_STATELESS:
			cfg.stateless = true;
			break;
		case 'f':
			cfg.filter = optarg;
			break;
		case 'j':
			if (sx_cli_threads(cmd, optarg, &cfg.nthreads))
				return SX_EXIT_USAGE;
			break;
		case 'q':
			sx_log_set_level(SX_LOG_ERROR);
			break;
		default:
			ret = sx_cli_opt_tail(cmd, c, argv, &help, NULL);
			return ret == -1 ? SX_EXIT_OK : ret; /* -1: --help printed */
		}
	}
	for (; optind < argc; optind++) /* after "--" */
		argv[1 + npos++] = argv[optind];
	if (npos < 2)
		return sx_cli_usage_error(cmd, "expected PROFILE.yaml PCAP...");
	profile = argv[1];
	if (sx_cli_check_filter(cmd, cfg.filter))
		return SX_EXIT_USAGE;
	ret = sx_verify_profile_load(profile, &ids, &p, msg, sizeof(msg));
	if (ret == -ENOMEM)
		goto out_nomem;
	if (ret)
		return sx_cli_usage_error(cmd, "%s: %s", profile, msg);
	cfg.paths = (const char *const *)argv + 2;
	cfg.npaths = (uint32_t)(npos - 1);
	ret = sx_verify_run(p, &cfg, &r);
	if (ret == -ENOMEM)
		goto out_nomem;
	if (ret) {
		sx_log(SX_LOG_ERROR, "%s", ret == SX_E_STOPPED ? "interrupted" : sx_strerror(ret));
		goto out_free;
	}
	sx_verify_result_summary(r, &s);
	if (sx_out_open(&out, output, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		goto out_free;
	}
	if (sx_verify_report(out.f, p, r, fmt)) {
		sx_log(SX_LOG_ERROR, "%s: write error", output);
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
	else if (fail_under >= 0 && (s.packets_pct < fail_under || s.flows_pct < fail_under))
		exit_code = SX_EXIT_FAILURE;
	else if (s.captures_bad)
		exit_code = SX_EXIT_PARTIAL;
	else
		exit_code = SX_EXIT_OK;
	if (fail_under >= 0 && exit_code == SX_EXIT_FAILURE && s.captures_bad < s.captures)
		sx_log(SX_LOG_ERROR, "allowed packets %.1f%%, flows %.1f%%: under %.1f%%",
		       s.packets_pct, s.flows_pct, fail_under);
	goto out_free;

out_nomem:
	sx_log(SX_LOG_ERROR, "out of memory");
out_free:
	sx_verify_result_free(r);
	sx_verify_profile_free(p);
	return sx_cli_exit(exit_code);
}
