/*
 * cmd_check.c - `sigex check BASELINE OUT`: compare two signatures (output
 * trees of `sigex batch` / `sigex extract`, or two signatures.yaml files)
 * pattern by pattern, for regression checks in CI:
 *
 *	sigex batch data/ -o out/ && sigex check expected/ out/
 *
 * The comparison is check.c's (matching by pattern id, field classes and
 * tolerances are documented there); this file is the command line and the
 * exit status: 0 when they agree, 1 when they differ (a regression), 2 on a
 * usage error or an input that cannot be read (no comparison was made).
 * The report goes to standard output: text for a CI log, or --format yaml /
 * json for programs.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "check/check.h"
#include "cli/cli.h"
#include "core/err.h"
#include "core/log.h"

int sx_cmd_check(int argc, char **argv);

static const char cmd[] = "check";

static const char usage[] =
    "Usage: sigex check BASELINE OUT [OPTIONS]\n"
    "\n"
    "Compare two signatures pattern by pattern, by pattern id: two output trees\n"
    "of 'sigex batch' (or 'sigex extract'), every signatures.yaml matched by its\n"
    "directory (<device>/<event>), or two signatures.yaml files.  Reports the\n"
    "signatures and patterns added, removed and changed (which fields).\n"
    "Identities compare exactly, statistics within tolerances.\n"
    "\n"
    "Options:\n"
    "      --tolerance SPEC     comma-separated [CLASS=]VALUE[%]: CLASS count\n"
    "                           (packets, bytes, flows), time (seconds), support\n"
    "                           (occurrences holding a pattern) or order (position);\n"
    "                           none: all four; VALUE% relative, else absolute.\n"
    "                           Default: count=10%, time=0.5,time=10%, support and\n"
    "                           order exact.  Repeatable\n"
    "      --format FORMAT      text (default), yaml or json\n"
    "  -q, --quiet              no report; the exit status only\n"
    "  -h, --help               this help\n"
    "\n"
    "In CI:  sigex batch data/ -o out/ && sigex check expected/ out/\n"
    "Exit status: 0 they agree, 1 they differ, 2 usage error or unreadable input.\n";

static const struct sx_cli_help help = {usage, NULL, NULL};

enum {
	OPT_TOLERANCE = 256,
	OPT_FORMAT,
};

static const struct option longopts[] = {{"tolerance", required_argument, NULL, OPT_TOLERANCE},
					 {"format", required_argument, NULL, OPT_FORMAT},
					 {"quiet", no_argument, NULL, 'q'},
					 {"help", no_argument, NULL, 'h'},
					 {NULL, 0, NULL, 0}};

/* What the command line says. */
struct args {
	const char *pos[2]; /* BASELINE, OUT */
	int npos;
	struct sx_check_tol tol;
	enum sx_check_format fmt;
	bool quiet;
};

/* A positional argument; 0 or the usage error's status. */
static int positional(struct args *a, const char *arg)
{
	if (a->npos >= 2)
		return sx_cli_usage_error(cmd, "expected BASELINE OUT, not also \"%s\"", arg);
	a->pos[a->npos++] = arg;
	return 0;
}

/* One option of the command's own (an sx_cli_own_fn, ctx the struct args). */
static int own_opt(void *ctx, int c, const char *arg)
{
	struct args *a = ctx;
	char msg[1024];

	switch (c) {
	case 1:
		return positional(a, arg);
	case OPT_TOLERANCE:
		if (sx_check_tol_parse(&a->tol, arg, msg, sizeof(msg)))
			return sx_cli_usage_error(cmd, "--tolerance: %s", msg);
		return 0;
	case OPT_FORMAT:
		if (strcmp(arg, "text") == 0)
			a->fmt = SX_CHECK_TEXT;
		else if (strcmp(arg, "yaml") == 0)
			a->fmt = SX_CHECK_YAML;
		else if (strcmp(arg, "json") == 0)
			a->fmt = SX_CHECK_JSON;
		else
			return sx_cli_usage_error(cmd, "--format is text, yaml or json, not \"%s\"",
						  arg);
		return 0;
	case 'q':
		a->quiet = true;
		return 0;
	default:
		return SX_CLI_NOT_OWN;
	}
}

static const struct sx_cli_parser parser = {cmd, "-:qh", longopts, &help, own_opt};

/* 0, -1 (--help printed), or the usage error's status. */
static int parse(int argc, char **argv, struct args *a)
{
	int ret;

	sx_check_tol_default(&a->tol);
	a->fmt = SX_CHECK_TEXT;
	ret = sx_cli_getopt(&parser, argc, argv, NULL, a);
	for (; !ret && optind < argc; optind++) /* after "--" */
		ret = positional(a, argv[optind]);
	if (!ret && a->npos != 2)
		ret = sx_cli_usage_error(cmd, "expected BASELINE OUT");
	return ret;
}

static int run(const struct args *a)
{
	struct sx_check_report *r = NULL;
	char msg[1024];
	int ret;

	ret = sx_check_run(a->pos[0], a->pos[1], &a->tol, &r, msg, sizeof(msg));
	if (ret == -ENOMEM) {
		sx_log(SX_LOG_ERROR, "out of memory");
		return SX_EXIT_USAGE;
	}
	if (ret == -EINVAL || ret == -ENOENT || ret == -ENOTDIR)
		return sx_cli_usage_error(cmd, "%s", msg);
	if (ret) {
		sx_log(SX_LOG_ERROR, "check: cannot compare: %s", msg);
		return SX_EXIT_USAGE;
	}
	if (!a->quiet && sx_check_print(stdout, r, a->fmt)) {
		sx_log(SX_LOG_ERROR, "standard output: write error");
		sx_check_report_free(r);
		return SX_EXIT_USAGE;
	}
	ret = r->differ ? SX_EXIT_FAILURE : SX_EXIT_OK;
	sx_check_report_free(r);
	return ret;
}

int sx_cmd_check(int argc, char **argv)
{
	struct args a;
	int ret;

	memset(&a, 0, sizeof(a));
	ret = parse(argc, argv, &a);

	if (ret)
		return ret < 0 ? SX_EXIT_OK : ret;
	return run(&a);
}
