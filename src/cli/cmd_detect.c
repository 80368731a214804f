/*
 * cmd_detect.c - `sigex detect SIGNATURES.yaml... PCAP... [-o FILE]`: find
 * the occurrences of events in captures by their signatures, and with
 * --labels score what was found.
 *
 * Arguments ending in .yaml or .yml are signatures (one per event), the
 * others captures.  The captures go through the flow stage once, as `sigex
 * flows` reads them (whole captures, the same reader threads, filter, idle
 * timeout and names), and every row is handed to the detector of
 * src/detect (the rules at the top of src/detect/match.c).  When a
 * signature was mined from --events windows, its flows were cut by them:
 * the captures are then read as windows of --duration seconds (default 30)
 * starting every sixth of it, overlapping, so that one of them starts at
 * most five seconds before the event and a long-lived session counts only
 * its in-window packets, as the miner saw it (a first pass finds each
 * capture's span).  The detections
 * are one CSV row each, written to a temporary file renamed into place.
 * With --labels (rows "[capture,]time[,label]" as --events reads them,
 * relative times counted from each capture's first packet) the detections
 * are scored (src/detect/score.c; a labelled time outside its capture's
 * first and last packets, give or take the tolerance, is not one of its
 * events): a table on standard output (on standard
 * error when the CSV goes to standard output) and, with --scores FILE, as
 * CSV.
 */
#include <arpa/inet.h>
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
#include "detect/detect.h"
#include "flows/flows.h"
#include "ingest/ingest.h"

int sx_cmd_detect(int argc, char **argv);

static const char cmd[] = "detect";

static const char usage_head[] =
    "Usage: sigex detect SIGNATURES.yaml... PCAP... [OPTIONS]\n"
    "\n"
    "Find each time an event occurs in captures, by the signature sigex mined for\n"
    "it (signatures.yaml; several signatures, one per event, in one pass): one CSV\n"
    "row per detection (capture, start, end, event, score, matched, patterns, and\n"
    "the flows that matched).  A detection needs the signature's patterns (at\n"
    "least --min-fraction of them) within the signature's span, each matched by a\n"
    "flow of the same identity and shape, in their typical order.  Signatures mined\n"
    "with --events are matched against the flows of overlapping windows of\n"
    "--duration seconds (one every sixth of it), as they were mined.  Signatures of\n"
    "several events of one device are contrasted: a detection needs a pattern that\n"
    "is not the device's traffic between the events, and its label is sure when\n"
    "its patterns tell it from each other event's signature (a pattern that\n"
    "signature lacks), else ambiguous (the ambiguous-with column names the event\n"
    "it could not be told from) unless the window's flows tell it: a flow only one\n"
    "event's patterns match, rare in the capture (the label becomes that event's),\n"
    "or the detection's signature covering the window by --margin more than any\n"
    "other event's.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE        write the detections to FILE (default: standard output)\n"
    "      --device IPV4        the device's address in these captures (default: the\n"
    "                           one each signature was mined for)\n"
    "      --labels FILE        score the detections against the event times of FILE\n"
    "                           ([capture,]time[,label] rows, as --events reads them)\n"
    "      --tolerance S        seconds a detection may be off a labelled time\n"
    "                           (default 10)\n"
    "      --scores FILE        also write the scores as CSV to FILE\n"
    "      --min-fraction F     patterns of a signature a detection needs, 0 < F <= 1\n"
    "                           (default 0.75)\n"
    "      --slack F            packets and bytes allowed beyond the mined ranges, as a\n"
    "                           fraction (default 0.25)\n"
    "      --span S             seconds a detection may span (default: each\n"
    "                           signature's own)\n"
    "      --overlap            keep detections of several signatures that overlap\n"
    "                           (default: the one that matched most distinctive\n"
    "                           patterns, then most patterns)\n"
    "      --no-contrast        detect each signature by all its patterns, its label\n"
    "                           sure, whatever the device's other events do\n"
    "      --sure               only the detections whose label is sure\n"
    "      --margin F           how much more of its patterns than of any other\n"
    "                           event's signature a window must hold for an ambiguous\n"
    "                           label to be sure, 0 < F <= 2, above 1 never\n"
    "                           (default 0.5)\n"
    "  -q, --quiet              no warnings, errors only\n";

static const char usage_foot[] =
    "\n"
    "Exit status: 0 ok (with or without detections), 1 failure (FILE left as it\n"
    "was), 2 usage error, 3 some captures unreadable.\n";

static const enum sx_cli_opt shared[] = {SX_CLI_JOBS,	   SX_CLI_DURATION, SX_CLI_IDLE,
					 SX_CLI_NAMES,	   SX_CLI_FILTER,   SX_CLI_SEED,
					 SX_CLI_MAX_FLOWS, SX_CLI_HELP,	    SX_CLI_NOPTS};

static const struct sx_cli_help help = {usage_head, shared, usage_foot};

enum {
	OPT_DEVICE = 256,
	OPT_LABELS,
	OPT_TOLERANCE,
	OPT_SCORES,
	OPT_FRACTION,
	OPT_SLACK,
	OPT_SPAN,
	OPT_OVERLAP,
	OPT_NO_CONTRAST,
	OPT_SURE,
	OPT_MARGIN,
};

static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
					 {"quiet", no_argument, NULL, 'q'},
					 {"device", required_argument, NULL, OPT_DEVICE},
					 {"labels", required_argument, NULL, OPT_LABELS},
					 {"tolerance", required_argument, NULL, OPT_TOLERANCE},
					 {"scores", required_argument, NULL, OPT_SCORES},
					 {"min-fraction", required_argument, NULL, OPT_FRACTION},
					 {"slack", required_argument, NULL, OPT_SLACK},
					 {"span", required_argument, NULL, OPT_SPAN},
					 {"overlap", no_argument, NULL, OPT_OVERLAP},
					 {"no-contrast", no_argument, NULL, OPT_NO_CONTRAST},
					 {"sure", no_argument, NULL, OPT_SURE},
					 {"margin", required_argument, NULL, OPT_MARGIN},
					 {NULL, 0, NULL, 0}};

struct args {
	struct sx_cli_common c;
	struct sx_det_cfg det;
	const char *output, *labels, *scores;
	double tolerance;
	const char **sigs, **caps;
	int nsigs, ncaps;
	bool windowed; /* a signature was mined from --events windows */
};

/* Windows of --duration start every duration / WINDOW_STEPS seconds. */
#define WINDOW_STEPS 6

static bool is_yaml(const char *s)
{
	size_t n = strlen(s);

	return (n > 5 && !strcmp(s + n - 5, ".yaml")) || (n > 4 && !strcmp(s + n - 4, ".yml"));
}

static int fraction(const char *opt, const char *arg, double lo, double hi, bool lo_ok, double *out)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || *end || !(v <= hi) || v < lo || (!lo_ok && v == lo))
		return sx_cli_usage_error(cmd, "%s expects a number in %s%g, %g], not \"%s\"", opt,
					  lo_ok ? "[" : "(", lo, hi, arg);
	*out = v;
	return 0;
}

static int own_opt(void *ctx, int c, const char *arg)
{
	struct args *a = ctx;
	double v;
	int ret;

	switch (c) {
	case 1:
		if (is_yaml(arg))
			a->sigs[a->nsigs++] = arg;
		else
			a->caps[a->ncaps++] = arg;
		return 0;
	case 'o':
		a->output = arg;
		return 0;
	case 'q':
		sx_log_set_level(SX_LOG_ERROR);
		return 0;
	case OPT_DEVICE: {
		struct in_addr ad;

		if (inet_pton(AF_INET, arg, &ad) != 1)
			return sx_cli_usage_error(
			    cmd, "--device expects an IPv4 address, not \"%s\"", arg);
		a->det.device = arg;
		return 0;
	}
	case OPT_LABELS:
		a->labels = arg;
		return 0;
	case OPT_SCORES:
		a->scores = arg;
		return 0;
	case OPT_TOLERANCE:
		return sx_cli_seconds(cmd, "--tolerance", arg, true, &a->tolerance);
	case OPT_SPAN:
		ret = sx_cli_seconds(cmd, "--span", arg, false, &v);
		if (!ret)
			a->det.span_ns = (int64_t)(v * 1e9 + 0.5);
		return ret;
	case OPT_OVERLAP:
		a->det.overlap = true;
		return 0;
	case OPT_NO_CONTRAST:
		a->det.no_contrast = true;
		return 0;
	case OPT_SURE:
		a->det.sure = true;
		return 0;
	case OPT_FRACTION:
		return fraction("--min-fraction", arg, 0, 1, false, &a->det.fraction);
	case OPT_SLACK:
		return fraction("--slack", arg, 0, 10, true, &a->det.slack);
	case OPT_MARGIN:
		return fraction("--margin", arg, 0, 2, false, &a->det.margin);
	default:
		return SX_CLI_NOT_OWN;
	}
}

static const struct sx_cli_parser parser = {cmd, "-:o:qj:f:h", longopts, &help, own_opt};

static int parse(int argc, char **argv, struct args *a)
{
	int ret = sx_cli_getopt(&parser, argc, argv, &a->c, a);

	if (ret)
		return ret;
	for (; optind < argc; optind++)
		own_opt(a, 1, argv[optind]);
	if (!a->nsigs)
		return sx_cli_usage_error(cmd, "no signature given (a signatures.yaml)");
	if (!a->ncaps)
		return sx_cli_usage_error(cmd, "no capture given");
	if (a->scores && !a->labels)
		return sx_cli_usage_error(cmd, "--scores needs --labels");
	if (sx_cli_common_files(cmd, &a->c) || sx_cli_inputs(cmd, "", a->sigs, a->nsigs, NULL, 1) ||
	    sx_cli_inputs(cmd, "", a->caps, a->ncaps, NULL, a->c.jobs) ||
	    sx_cli_inputs(cmd, "--labels ", &a->labels, 1, NULL, 1))
		return SX_EXIT_USAGE;
	return 0;
}

/* The labelled times in each capture: those within the capture (its first
 * to its last packet, give or take the tolerance), so that one file of
 * absolute times serves captures of several days.  0 or the exit status. */
static int load_labels(const struct args *a, const struct sx_file_status *st, struct sx_events **ev,
		       struct sx_det_label **out, uint32_t *n)
{
	int64_t tol = (int64_t)(a->tolerance * 1e9 + 0.5);
	struct sx_align_cfg acfg = {.paths = a->caps,
				    .ncaps = (uint32_t)a->ncaps,
				    .nthreads = a->c.jobs,
				    .filter = a->c.filter};
	struct sx_windows *w = NULL;
	struct sx_align *rep;
	uint32_t c, i, total = 0;
	char msg[512];
	int ret;

	ret = sx_events_load(a->labels, ev, msg, sizeof(msg));
	if (ret == -ENOMEM)
		goto out_nomem;
	if (ret)
		return sx_cli_usage_error(cmd, "--labels: %s", msg);
	rep = sx_calloc_array((size_t)a->ncaps, sizeof(*rep));
	if (!rep)
		goto out_nomem;
	ret = sx_events_place(*ev, &acfg, &w, rep, msg, sizeof(msg));
	free(rep);
	if (ret == -ENOMEM)
		goto out_nomem;
	if (ret) {
		sx_log(SX_LOG_ERROR, "--labels: %s", ret == SX_E_STOPPED ? "interrupted" : msg);
		return SX_EXIT_FAILURE;
	}
	for (c = 0; c < w->ncaps; c++)
		total += w->n[c];
	*out = sx_calloc_array(total ? total : 1, sizeof(**out));
	if (!*out) {
		sx_windows_free(w);
		goto out_nomem;
	}
	for (c = 0; c < w->ncaps; c++)
		for (i = 0; i < w->n[c]; i++) {
			int64_t t = w->w[c][i].start_ns;
			struct sx_det_label *l;

			if (!st[c].opened || !st[c].packets ||
			    t < st[c].first_sec * SX_NS_PER_SEC + st[c].first_nsec - tol ||
			    t > st[c].last_sec * SX_NS_PER_SEC + st[c].last_nsec + tol)
				continue;
			l = &(*out)[(*n)++];
			l->file = c;
			l->time_ns = w->w[c][i].start_ns;
			l->label = (*ev)->ev[w->w[c][i].event].label;
		}
	sx_windows_free(w);
	return 0;
out_nomem:
	sx_log(SX_LOG_ERROR, "out of memory");
	return SX_EXIT_FAILURE;
}

/* The flow stage over the captures, every row to the detector.  -1 when
 * read, else the exit status (the failure reported). */
static int read_flows(const struct args *a, struct sx_det *det, struct sx_file_status *status)
{
	struct sx_det_read_cfg rc = {.paths = a->caps,
				     .npaths = (uint32_t)a->ncaps,
				     .nthreads = a->c.jobs,
				     .filter = a->c.filter,
				     .flows = {.seed = a->c.seed, .max_flows = a->c.max_flows}};
	struct sx_ingest_cfg icfg = {
	    .paths = a->caps, .names = a->caps, .npaths = (uint32_t)a->ncaps};
	struct sx_flows_stats st = {0};
	char msg[512];
	int ret;

	if (sx_cli_given(&a->c, SX_CLI_IDLE))
		rc.flows.idle_ns = (int64_t)(a->c.idle_timeout * 1e9 + 0.5);
	if (a->windowed) {
		rc.window_ns = sx_cli_given(&a->c, SX_CLI_DURATION)
				   ? (int64_t)(a->c.duration * 1e9 + 0.5)
				   : (int64_t)SX_FLOWS_DURATION_DEFAULT * SX_NS_PER_SEC;
		rc.step_ns = rc.window_ns / WINDOW_STEPS > 0 ? rc.window_ns / WINDOW_STEPS : 1;
	}
	ret = sx_names_new(&rc.names);
	if (ret)
		goto out;
	if (a->c.names && sx_names_load(rc.names, a->c.names, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		sx_names_free(rc.names);
		return SX_EXIT_FAILURE;
	}
	ret = sx_det_read(det, &rc, status, &st);
	sx_cli_warn_capped(a->c.max_flows, st.capped);
	sx_names_free(rc.names);
out:
	if (ret == -ENODATA)
		return sx_ingest_report(&icfg, status);
	if (ret) {
		sx_log(SX_LOG_ERROR, "%s", ret == SX_E_STOPPED ? "interrupted" : sx_strerror(ret));
		return SX_EXIT_FAILURE;
	}
	return -1;
}

static double capture_hours(const struct sx_file_status *st, int n)
{
	double h = 0;
	int i;

	for (i = 0; i < n; i++)
		if (st[i].opened && st[i].packets)
			h += ((double)(st[i].last_sec - st[i].first_sec) +
			      ((double)st[i].last_nsec - (double)st[i].first_nsec) / 1e9) /
			     3600.0;
	return h;
}

static int write_scores(const struct args *a, const struct sx_det_detection *det, uint32_t ndet,
			const struct sx_det_sig *const *sigs, const struct sx_file_status *status)
{
	struct sx_events *ev = NULL;
	struct sx_det_label *labels = NULL;
	struct sx_det_score *s = NULL;
	uint32_t nl = 0, ns = 0;
	struct sx_out out;
	char msg[512];
	int ret;

	ret = load_labels(a, status, &ev, &labels, &nl);
	if (ret)
		goto out;
	if (sx_det_score(det, ndet, sigs, labels, nl, (int64_t)(a->tolerance * 1e9 + 0.5),
			 capture_hours(status, a->ncaps), &s, &ns)) {
		sx_log(SX_LOG_ERROR, "out of memory");
		ret = SX_EXIT_FAILURE;
		goto out;
	}
	sx_det_score_table(s, ns, strcmp(a->output, "-") ? stdout : stderr);
	if (a->scores) {
		if (sx_out_open(&out, a->scores, msg, sizeof(msg)) ||
		    (sx_det_score_csv(s, ns, out.f) && (sx_out_abort(&out), 1)) ||
		    sx_out_commit(&out, msg, sizeof(msg))) {
			sx_log(SX_LOG_ERROR, "%s: cannot be written", a->scores);
			ret = SX_EXIT_FAILURE;
		}
	}
out:
	free(s);
	free(labels);
	sx_events_free(ev);
	return ret;
}

/* A signature that cannot tell its event from the others (match.c): what
 * its patterns were found in. */
static void warn_not_distinctive(const struct args *a, const struct sx_det_sig *const *sigs,
				 uint32_t s, uint32_t other)
{
	if (other == s)
		sx_log(SX_LOG_WARN,
		       "%s: not distinctive: each of the %u pattern(s) of \"%s\" is also in the "
		       "device's traffic between the events: it detects nothing (--no-contrast: "
		       "all)",
		       a->sigs[s], sigs[s]->n, sigs[s]->label);
	else
		sx_log(SX_LOG_WARN,
		       "%s: not distinctive: each of the %u pattern(s) of \"%s\" is also "
		       "\"%s\"'s or in the device's traffic between the events: its label is "
		       "ambiguous where the window's flows do not tell it%s (--no-contrast: all)",
		       a->sigs[s], sigs[s]->n, sigs[s]->label, sigs[other]->label,
		       a->det.sure ? ", and --sure drops those detections" : "");
}

static int run(struct args *a)
{
	struct sx_det_sig **sigs = sx_calloc_array((size_t)a->nsigs, sizeof(*sigs));
	struct sx_file_status *status = sx_calloc_array((size_t)a->ncaps, sizeof(*status));
	struct sx_ingest_cfg icfg = {
	    .paths = a->caps, .names = a->caps, .npaths = (uint32_t)a->ncaps};
	const struct sx_det_detection *det;
	struct sx_det *d = NULL;
	struct sx_out out;
	uint32_t ndet;
	char msg[512];
	int i, ret, exit_code = SX_EXIT_FAILURE;

	if (!sigs || !status) {
		sx_log(SX_LOG_ERROR, "out of memory");
		goto out_free;
	}
	for (i = 0; i < a->nsigs; i++) {
		ret = sx_det_sig_load(a->sigs[i], &sigs[i], msg, sizeof(msg));
		if (ret) {
			sx_log(SX_LOG_ERROR, "%s", msg);
			goto out_free;
		}
		a->windowed |= sigs[i]->windowed;
		if (!sigs[i]->n)
			sx_log(SX_LOG_WARN, "%s: the signature has no pattern: it detects nothing",
			       a->sigs[i]);
		else if (!sigs[i]->device[0] && !a->det.device)
			sx_log(SX_LOG_WARN, "%s: no pattern names the device (self): give --device",
			       a->sigs[i]);
	}
	if (sx_det_new(&a->det, (const struct sx_det_sig *const *)sigs, (uint32_t)a->nsigs, &d)) {
		sx_log(SX_LOG_ERROR, "out of memory");
		goto out_free;
	}
	for (i = 0; i < a->nsigs; i++) {
		uint32_t other;

		if (sx_det_not_distinctive(d, (uint32_t)i, &other))
			warn_not_distinctive(a, (const struct sx_det_sig *const *)sigs, (uint32_t)i,
					     other);
	}
	ret = read_flows(a, d, status);
	if (ret >= 0)
		goto out_free; /* nothing readable, or a failure reported */
	if (sx_det_finish(d, &det, &ndet)) {
		sx_log(SX_LOG_ERROR, "out of memory");
		goto out_free;
	}
	if (sx_out_open(&out, a->output, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		goto out_free;
	}
	if (sx_det_write_csv(d, (const struct sx_det_sig *const *)sigs, out.f)) {
		sx_log(SX_LOG_ERROR, "%s: cannot be written", a->output);
		sx_out_abort(&out);
		goto out_free;
	}
	if (a->labels) {
		ret = write_scores(a, det, ndet, (const struct sx_det_sig *const *)sigs, status);
		if (ret) {
			sx_out_abort(&out);
			exit_code = ret;
			goto out_free;
		}
	}
	if (sx_out_commit(&out, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		goto out_free;
	}
	sx_cli_finished();
	exit_code = sx_ingest_report(&icfg, status);
out_free:
	sx_det_free(d);
	for (i = 0; sigs && i < a->nsigs; i++)
		sx_det_sig_free(sigs[i]);
	free(sigs);
	free(status);
	return exit_code;
}

int sx_cmd_detect(int argc, char **argv)
{
	struct args a = {
	    .output = "-", .tolerance = SX_DET_TOLERANCE_DEFAULT, .det = {.slack = -1}};
	int ret;

	a.sigs = sx_calloc_array((size_t)argc + 1, sizeof(*a.sigs));
	a.caps = sx_calloc_array((size_t)argc + 1, sizeof(*a.caps));
	if (!a.sigs || !a.caps) {
		free(a.sigs);
		free(a.caps);
		sx_log(SX_LOG_ERROR, "out of memory");
		return SX_EXIT_FAILURE;
	}
	ret = parse(argc, argv, &a);
	if (ret)
		ret = ret < 0 ? SX_EXIT_OK : ret;
	else
		ret = sx_cli_exit(run(&a));
	free(a.sigs);
	free(a.caps);
	return ret;
}
