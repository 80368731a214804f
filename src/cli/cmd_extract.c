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

static const char usage_head[] =
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
    "      --validate           held-out allow rate: mine without each fold of the\n"
    "                           captures, replay it through that profile as the\n"
    "                           firewall would (pattern.txt, signatures.yaml)\n"
    "      --mode MODE          default, or upstream: reproduce the reference tool\n"
    "                           exactly (only -o applies; see 'sigex extract --mode\n"
    "                           upstream --help')\n"
    "  -q, --quiet              nothing on standard output; errors only\n";

static const char usage_foot[] =
    "\n"
    "device-info.last-update is the time of the run, or SOURCE_DATE_EPOCH when set.\n"
    "Exit status: 0 ok, 1 failure (the files in DIR left as they were), 2 usage\n"
    "error (also: a capture or file that does not exist), 3 some captures\n"
    "unreadable, 130/143 stopped by SIGINT/SIGTERM (files left as they were), 141\n"
    "standard output closed.\n";

enum {
	OPT_BACKGROUND = 256,
	OPT_MODE,
	OPT_MAC,
	OPT_IPV6,
	OPT_EVENT,
	OPT_VALIDATE,
};

static const enum sx_cli_opt shared[] = {
    SX_CLI_GATEWAY,   SX_CLI_PHONE, SX_CLI_STATS,    SX_CLI_SUPPORT,   SX_CLI_WINDOW, SX_CLI_EVENTS,
    SX_CLI_DURATION,  SX_CLI_ALIGN, SX_CLI_NO_ALIGN, SX_CLI_IDLE,      SX_CLI_NAMES,  SX_CLI_FILTER,
    SX_CLI_ALL_PORTS, SX_CLI_JOBS,  SX_CLI_SEED,     SX_CLI_MAX_FLOWS, SX_CLI_HELP,   SX_CLI_NOPTS};

static const struct sx_cli_help help = {usage_head, shared, usage_foot};

static const struct option own[] = {{"output", required_argument, NULL, 'o'},
				    {"background", required_argument, NULL, OPT_BACKGROUND},
				    {"mode", required_argument, NULL, OPT_MODE},
				    {"mac", required_argument, NULL, OPT_MAC},
				    {"ipv6", required_argument, NULL, OPT_IPV6},
				    {"event", required_argument, NULL, OPT_EVENT},
				    {"validate", no_argument, NULL, OPT_VALIDATE},
				    {"quiet", no_argument, NULL, 'q'},
				    {NULL, 0, NULL, 0}};

/* What the command line says, before anything is run. */
struct args {
	struct sx_cli_common c;
	const char *dir;
	struct sx_cli_args in; /* DEVICE, IPV4, event captures; background */
	const char *mac, *ipv6, *event;
	bool quiet;
	bool validate;
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

/* An option value the library refused: a usage error with its message. */
static int refused(struct sx_extract *ex, int ret)
{
	if (ret == -ENOMEM) {
		sx_log(SX_LOG_ERROR, "out of memory");
		return SX_EXIT_FAILURE;
	}
	return sx_cli_usage_error(cmd, "%s", sx_extract_message(ex));
}

/* One option of the command's own (an sx_cli_own_fn, ctx the struct args);
 * the captures after --background are told from the event captures. */
static int own_opt(void *ctx, int c, const char *arg)
{
	struct args *a = ctx;

	if (sx_cli_args_take(&a->in, c, OPT_BACKGROUND, arg) == 0)
		return 0;
	switch (c) {
	case 'o':
		a->dir = arg;
		return 0;
	case OPT_MODE:
		if (strcmp(arg, "default") != 0)
			return sx_cli_usage_error(cmd, "--mode is default or upstream, not \"%s\"",
						  arg);
		return 0;
	case OPT_MAC:
		a->mac = arg;
		return 0;
	case OPT_IPV6:
		a->ipv6 = arg;
		return 0;
	case OPT_EVENT:
		a->event = arg;
		return 0;
	case OPT_VALIDATE:
		a->validate = true;
		return 0;
	case 'q':
		a->quiet = true;
		sx_log_set_level(SX_LOG_ERROR);
		return 0;
	default:
		return SX_CLI_NOT_OWN;
	}
}

static const struct sx_cli_parser parser = {cmd, "-:o:j:f:qh", own, &help, own_opt};

/* Parse argv into a: 0, -1 (--help printed), or the usage error's status. */
static int parse(int argc, char **argv, struct args *a)
{
	int ret = sx_cli_getopt(&parser, argc, argv, &a->c, a);

	if (ret)
		return ret;
	for (; optind < argc; optind++) /* after "--" */
		a->in.v[a->in.n++] = argv[optind];
	if (a->in.n < 3)
		return sx_cli_usage_error(cmd, "expected DEVICE IPV4 PCAP...");
	if ((sx_cli_given(&a->c, SX_CLI_ALIGN) || sx_cli_given(&a->c, SX_CLI_NO_ALIGN)) &&
	    !a->c.events)
		return sx_cli_usage_error(cmd, "--align and --no-align need --events");
	if (sx_cli_given(&a->c, SX_CLI_DURATION) && !a->c.events)
		return sx_cli_usage_error(cmd, "--duration needs --events");
	if (a->c.events && a->c.window > 0)
		return sx_cli_usage_error(cmd, "--window and --events cannot be combined");
	return sx_cli_common_files(cmd, &a->c);
}

/* The extraction of a's DEVICE and IPV4, with every option set and the
 * captures added.  0 or the exit status. */
static int configure(const struct args *a, struct sx_extract **out)
{
	const struct sx_cli_common *c = &a->c;
	struct sx_extract *ex;
	int i, ret;

	ret = sx_extract_new(a->in.v[0], a->in.v[1], out);
	if (ret == -ENOMEM) {
		sx_log(SX_LOG_ERROR, "out of memory");
		return SX_EXIT_FAILURE;
	}
	if (ret) {
		if (!a->in.v[0][0])
			return sx_cli_usage_error(cmd, "argument device: empty");
		return sx_cli_usage_error(cmd, "argument ipv4: invalid IPv4Address value: '%s'",
					  a->in.v[1]);
	}
	ex = *out;
	ret = sx_extract_set_threads(ex, c->jobs);
	if (!ret && c->filter)
		ret = sx_extract_set_filter(ex, c->filter);
	if (!ret && sx_cli_given(c, SX_CLI_WINDOW))
		ret = sx_extract_set_window(ex, c->window);
	if (!ret && c->support > 0)
		ret = sx_extract_set_support(ex, c->support);
	if (!ret && c->names)
		ret = sx_extract_set_names(ex, c->names);
	if (!ret && a->mac)
		ret = sx_extract_set_mac(ex, a->mac);
	if (!ret && a->ipv6)
		ret = sx_extract_set_ipv6(ex, a->ipv6);
	if (!ret && c->gateway)
		ret = sx_extract_set_gateway(ex, c->gateway);
	if (!ret && c->phone)
		ret = sx_extract_set_phone(ex, c->phone);
	if (!ret && a->event)
		ret = sx_extract_set_event_name(ex, a->event);
	if (!ret && sx_cli_given(c, SX_CLI_IDLE))
		ret = sx_extract_set_idle_timeout(ex, c->idle_timeout);
	if (!ret)
		ret = sx_extract_set_seed(ex, c->seed);
	if (!ret && c->all_ports)
		ret = sx_extract_set_all_ports(ex, true);
	if (!ret && c->stats)
		ret = sx_extract_set_stats(ex, true);
	if (!ret && c->max_flows)
		ret = sx_extract_set_max_flows(ex, c->max_flows);
	if (!ret && c->events)
		ret = sx_extract_set_events(ex, c->events, c->duration);
	if (!ret)
		ret = sx_extract_set_align(ex, c->align > 0 ? 1 : c->align < 0 ? 0 : -1);
	if (ret)
		return refused(ex, ret);
	if (sx_cli_inputs(cmd, "", a->in.v + 2, a->in.n - 2, NULL, c->jobs) ||
	    sx_cli_inputs(cmd, "", a->in.bg, a->in.nbg, NULL, c->jobs))
		return SX_EXIT_USAGE;
	for (i = 2; i < a->in.n + a->in.nbg; i++) {
		bool bg = i >= a->in.n;

		ret = bg ? sx_extract_add_background(ex, a->in.bg[i - a->in.n])
			 : sx_extract_add_capture(ex, a->in.v[i]);
		if (ret)
			return refused(ex, ret);
	}
	return 0;
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

/* How --events was aligned in each capture, one line each: to f, or with
 * f NULL, the weak matches as warnings. */
static void report_alignment(struct sx_extract *ex, FILE *f)
{
	size_t i, n = sx_extract_ncaptures(ex);

	for (i = 0; i < n; i++) {
		const char *path;
		unsigned events, matched;
		int64_t shift;
		bool weak;

		if (sx_extract_alignment(ex, i, &shift, &events, &matched, &weak) != 1)
			continue;
		sx_extract_capture_status(ex, i, &path, NULL);
		if (f)
			fprintf(
			    f, "Events aligned: %s: %+.1f s, %u of %u near the device's activity\n",
			    path, (double)shift / 1e9, matched, events);
		else if (weak)
			sx_log(SX_LOG_WARN,
			       "%s: events aligned by %+.1f s, only %u of %u near the device's "
			       "activity, or another shift about as good: check the times, or give "
			       "--no-align",
			       path, (double)shift / 1e9, matched, events);
	}
}

/*
 * The run's notes (empty windows, events outside every capture, events not
 * mined), one warning each.  An event outside every capture makes the run
 * partial (exit 3), as a capture that cannot be read does.
 */
static int report_notes(struct sx_extract *ex, int status)
{
	const char *p = sx_extract_notes(ex);
	unsigned i, n = sx_extract_nevents(ex);
	struct sx_extract_event e;

	while (*p) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);

		sx_log(SX_LOG_WARN, "%.*s", len, p);
		p += len + (nl != NULL);
	}
	for (i = 0; i < n; i++)
		if (!sx_extract_event(ex, i, &e) && e.outside)
			return SX_EXIT_PARTIAL;
	return status;
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
 * Each event under a title line, then its report (several events); one
 * event: its report alone.  Returns 0 or -EIO.
 */
static int print_events(struct sx_extract *ex, FILE *f)
{
	unsigned i, n = sx_extract_nevents(ex);
	struct sx_extract_event e;
	int ret = 0;

	if (n <= 1)
		return sx_extract_print_report(ex, f);
	for (i = 0; i < n && !ret; i++) {
		if (sx_extract_event(ex, i, &e))
			continue;
		fprintf(f,
			"%s==== Event %s (label \"%s\"): %u windows in the captures, %u without a "
			"packet of the device, %u outside every capture\n",
			i ? "\n" : "", e.name, e.label, e.scheduled, e.empty, e.outside);
		if (sx_extract_select_event(ex, i)) {
			fputs("Not mined: no packet of the device in any of its windows\n", f);
			continue;
		}
		ret = sx_extract_print_report(ex, f);
	}
	return ret || ferror(f) ? -EIO : 0;
}

/*
 * The CSVs sigex wrote in DIR are listed in DIR/.sigex-csvs, one name a
 * line, sorted (the same list whatever the captures' order).  A new run
 * removes those of the list it did not write again (and nothing else: a
 * file sigex did not write is never in the list), then lists its own.
 * Removed names are put in removed (one a line).
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
	size_t i, nw = 0, n = sx_extract_ncaptures(ex);
	const char **names;
	int ret = -EIO;
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
	names = sx_calloc_array(n + 1, sizeof(*names));
	if (!names) {
		sx_log(SX_LOG_ERROR, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		if (sx_extract_csv_name(ex, i))
			names[nw++] = sx_extract_csv_name(ex, i);
	qsort(names, nw, sizeof(*names), sx_str_qcmp);
	if (sx_out_open(&out, path, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		goto out_names;
	}
	for (i = 0; i < nw; i++)
		fprintf(out.f, "%s\n", names[i]);
	if (sx_out_commit(&out, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		goto out_names;
	}
	ret = 0;
out_names:
	free(names);
	return ret;
}

static int write_event(struct sx_extract *ex, const char *dir)
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

/*
 * Several events (labels of --events): each event's reports and profile in
 * DIR/<event>/ (the layout of sigex batch's DIR/<device>/<event>/), the
 * device's profile with one interaction per event in DIR/profile.yaml, and
 * DIR/pattern.txt made of the events' reports, each under its name.
 */
static int write_events(struct sx_extract *ex, const char *dir)
{
	unsigned i, n = sx_extract_nevents(ex);
	char sub[4096], path[4096];
	struct sx_extract_event e;
	struct sx_out out;
	char msg[512];
	int ret = SX_EXIT_OK;

	for (i = 0; i < n && !ret; i++) {
		if (sx_extract_event(ex, i, &e) || sx_extract_select_event(ex, i))
			continue; /* not mined: said in the notes */
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, e.name) >= sizeof(sub)) {
			sx_log(SX_LOG_ERROR, "%s: path too long", dir);
			return SX_EXIT_FAILURE;
		}
		if (mkdir(sub, 0777) && errno != EEXIST) {
			sx_log(SX_LOG_ERROR, "%s: %s", sub, strerror(errno));
			return SX_EXIT_FAILURE;
		}
		ret = write_event(ex, sub);
	}
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/pattern.txt", dir);
	if (sx_out_open(&out, path, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		return SX_EXIT_FAILURE;
	}
	print_events(ex, out.f);
	if (sx_out_commit(&out, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		return SX_EXIT_FAILURE;
	}
	snprintf(path, sizeof(path), "%s/profile.yaml", dir);
	if (sx_extract_write_device_profile(ex, path)) {
		sx_log(SX_LOG_ERROR, "%s", sx_extract_message(ex));
		return SX_EXIT_FAILURE;
	}
	return SX_EXIT_OK;
}

static int write_outputs(struct sx_extract *ex, const char *dir)
{
	return sx_extract_nevents(ex) > 1 ? write_events(ex, dir) : write_event(ex, dir);
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
	report_alignment(ex, stdout);
	for (i = 0; i < nx; i++)
		printf("Flows extracted: %s -> %s\n", x[i].path, x[i].csv);
	free(x);
	if (print_events(ex, stdout) || fputs("Patterns found!\n", stdout) < 0 ||
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

/*
 * Mine and write every output of the run under its temporary name (the
 * commit group run() opened).  0 when all were written, with the exit
 * status the captures give in *status, else the exit code.
 */
static int produce(struct sx_extract *ex, const struct args *a, struct sx_buf *removed, int *status)
{
	int ret;

	ret = sx_extract_mine(ex, a->dir);
	if (ret) {
		/* the causes first, then the one line that sums them up */
		if (ret != SX_EXTRACT_E_STOPPED)
			report_captures(ex);
		sx_cli_warn_capped(a->c.max_flows, sx_extract_flows_capped(ex));
		if (ret == SX_EXTRACT_E_USAGE) /* a bad --events file */
			return sx_cli_usage_error(cmd, "%s", sx_extract_message(ex));
		sx_log(SX_LOG_ERROR, "%s",
		       ret == SX_EXTRACT_E_STOPPED ? "interrupted" : sx_extract_message(ex));
		return SX_EXIT_FAILURE;
	}
	*status = report_captures(ex);
	report_alignment(ex, NULL);
	*status = report_notes(ex, *status);
	warn_device_missing(ex, a->in.v[1]);
	warn_single(ex, a->c.events != NULL);
	sx_cli_warn_capped(a->c.max_flows, sx_extract_flows_capped(ex));
	if (a->validate && sx_extract_nevents(ex) > 1) {
		sx_log(SX_LOG_ERROR,
		       "--validate holds captures out, and the events file has %u labels in "
		       "the same captures: validate one label at a time",
		       sx_extract_nevents(ex));
		return SX_EXIT_FAILURE;
	}
	if (a->validate) {
		ret = sx_extract_validate(ex);
		if (ret) {
			sx_log(SX_LOG_ERROR, "--validate: %s",
			       ret == SX_EXTRACT_E_STOPPED ? "interrupted"
							   : sx_extract_strerror(ret));
			return SX_EXIT_FAILURE;
		}
	}
	ret = update_csv_list(ex, a->dir, removed);
	if (!ret)
		ret = write_outputs(ex, a->dir);
	return ret ? SX_EXIT_FAILURE : 0;
}

/*
 * The run's files (the CSVs, their list, the reports and profiles) appear
 * together: one commit group (core/outfile.h) holds them until all are
 * written, then one sync, the renames and a second sync put them in place;
 * a run that fails on the way replaces none of them.
 */
static int run(struct sx_extract *ex, const struct args *a)
{
	struct sx_buf removed;
	char msg[512];
	int ret, end, status = SX_EXIT_OK;

	ret = sx_cli_output_dir(cmd, a->dir);
	if (ret)
		return ret;
	if (sx_out_group_begin()) {
		sx_log(SX_LOG_ERROR, "internal error: output group already open");
		return SX_EXIT_FAILURE;
	}
	sx_buf_init(&removed);
	ret = produce(ex, a, &removed, &status);
	end = sx_out_group_end(ret == 0, msg, sizeof(msg));
	if (!ret && end) {
		sx_log(SX_LOG_ERROR, "%s", end == SX_E_STOPPED ? "interrupted" : msg);
		ret = SX_EXIT_FAILURE;
	}
	if (!ret) {
		sx_cli_finished();
		if (!a->quiet && print_stdout(ex, &removed))
			ret = SX_EXIT_FAILURE;
	}
	sx_buf_fini(&removed);
	return ret ? ret : status;
}

int sx_cmd_extract(int argc, char **argv)
{
	struct args a = {.dir = "."};
	struct sx_extract *ex = NULL;
	int ret, exit_code = SX_EXIT_FAILURE;

	if (wants_upstream(argc, argv))
		return sx_cmd_extract_upstream(argc, argv);
	a.in.v = calloc((size_t)argc + 1, sizeof(*a.in.v));
	a.in.bg = calloc((size_t)argc + 1, sizeof(*a.in.bg));
	if (!a.in.v || !a.in.bg) {
		sx_log(SX_LOG_ERROR, "out of memory");
		goto out_free_args;
	}
	ret = parse(argc, argv, &a);
	if (ret) {
		exit_code = ret < 0 ? SX_EXIT_OK : ret;
		goto out_free_args;
	}
	exit_code = configure(&a, &ex);
	if (!exit_code)
		exit_code = source_date(ex);
	if (!exit_code)
		exit_code = run(ex, &a);
	sx_extract_free(ex);
out_free_args:
	free(a.in.v);
	free(a.in.bg);
	return sx_cli_exit(exit_code);
}
