/*
 * test_cli_check.c - `sigex check BASELINE OUT`, run as a program: the CI
 * recipe of the README on the IoT Sentinel archive (a tree and its copy
 * agree, exit 0; after one capture is removed from a device's input and
 * `sigex batch --resume` runs again, exit 1, naming the signature, the
 * capture and the fields that changed), the YAML and JSON reports, file
 * against file, and usage errors (exit 2).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/tmp.h"

#define IOT                                                                                        \
	SX_SHARED_CORPORA "/andypitcher+IoT_Sentinel/captures_IoT_Sentinel/captures_IoT-Sentinel"
#define EPOCH "SOURCE_DATE_EPOCH=1700000000"

static char *dir;

static void setup(void)
{
	dir = sx_tt_tmpdir();
	cr_assert_not_null(dir);
}

static void teardown(void)
{
	sx_tt_rm_tree(dir);
	free(dir);
}

TestSuite(cli_check, .init = setup, .fini = teardown, .timeout = 600);

static int sh(char **out, char **err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int sh(char **out, char **err, const char *fmt, ...)
{
	char *body, *cmd;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	cr_assert(vasprintf(&body, fmt, ap) > 0);
	va_end(ap);
	cr_assert(asprintf(&cmd, "cd '%s' && %s", dir, body) > 0);
	rc = sx_tt_run(cmd, out, err);
	free(cmd);
	free(body);
	return rc;
}

static int check(char **out, char **err, const char *args)
{
	return sh(out, err, "'%s' check %s", SX_BINARY, args);
}

/* dir/data: the IoT Sentinel archive (links); dir/out: its batch outputs;
 * dir/expected: a copy of them. */
static void baseline(void)
{
	struct stat st;
	char *err = NULL;

	if (stat(IOT, &st) != 0)
		sx_tt_skip_missing("IoT Sentinel captures missing (%s)", IOT);
	cr_assert_eq(
	    sh(NULL, &err,
	       "mkdir data && cd '%s' && for d in */; do mkdir -p \"$OLDPWD/data/$d\" && "
	       "for f in \"$d\"*.pcap; do ln -s \"$PWD/$f\" \"$OLDPWD/data/$f\" || exit 1; "
	       "done; done",
	       IOT),
	    0, "%s", err);
	free(err);
	/* no device.yaml: EdnetCam1, whose lease changes from capture to
	 * capture, is identified by its MAC (as in test_cli_batch.c) */
	cr_assert_eq(
	    sh(NULL, &err, EPOCH " '%s' batch data/ -o out/ -q && cp -a out expected", SX_BINARY),
	    0, "%s", err);
	free(err);
}

Test(cli_check, ci_recipe_agree_then_regression)
{
	char *out = NULL, *err = NULL;

	baseline();
	/* the README's recipe, verbatim */
	cr_assert_eq(sh(&out, &err,
			EPOCH " '%s' batch data/ -o out/ -q && '%s' check expected/ out/",
			SX_BINARY, SX_BINARY),
		     0, "%s%s", out, err);
	cr_assert(strstr(out, "Result: agree: 23 signatures"), "%s", out);
	free(out);
	free(err);

	/* one capture less for one device: a regression, named */
	cr_assert_eq(sh(NULL, &err,
			"rm data/HueBridge/Setup-A-3-STA.pcap && " EPOCH
			" '%s' batch data/ -o out/ -q --resume",
			SX_BINARY),
		     0, "%s", err);
	free(err);
	cr_assert_eq(check(&out, &err, "expected/ out/"), 1, "%s%s", out, err);
	cr_assert(strstr(out, "HueBridge/default: differ"), "%s", out);
	cr_assert(strstr(out, "- occurrences[Setup-A-3-STA.pcap] (only in the baseline)"), "%s",
		  out);
	cr_assert(strstr(out, "summary.occurrences: 20 -> 19 (support: exact)"), "%s", out);
	cr_assert(strstr(out, "support.of: 20 -> 19"), "%s", out);
	cr_assert(strstr(out, "changed p-"), "%s", out);
	cr_assert(strstr(out, "Result: differ: 1 of 23 signatures"), "%s", out);
	cr_assert(!strstr(out, "Aria"), "only what differs is listed: %s", out);
	free(out);
	free(err);

	/* machine-readable */
	cr_assert_eq(check(&out, &err, "expected out --format json"), 1, "%s", err);
	cr_assert(strstr(out, "\"result\": \"differ\""), "%s", out);
	cr_assert(strstr(out, "\"unit\": \"HueBridge/default\""), "%s", out);
	cr_assert(strstr(out, "\"field\": \"support.of\""), "%s", out);
	cr_assert(strstr(out, "\"status\": \"agree\""), "%s", out);
	free(out);
	free(err);
	cr_assert_eq(check(&out, &err, "expected out --format yaml"), 1, "%s", err);
	cr_assert(strstr(out, "sigex: check\n"), "%s", out);
	cr_assert(strstr(out, "result: differ\n"), "%s", out);
	cr_assert(strstr(out, "- unit: HueBridge/default\n  status: differ\n"), "%s", out);
	free(out);
	free(err);
	cr_assert_eq(check(&out, &err, "expected out -q"), 1, "%s", err);
	cr_assert_str_eq(out, "");
	free(out);
	free(err);

	/* a signature missing from the output */
	cr_assert_eq(sh(NULL, NULL, "rm out/Aria/default/signatures.yaml"), 0);
	cr_assert_eq(check(&out, &err, "expected out"), 1, "%s", err);
	cr_assert(strstr(out, "Aria/default: missing from the output"), "%s", out);
	free(out);
	free(err);
}

Test(cli_check, files_and_tolerances)
{
	char *out = NULL, *err = NULL;

	baseline();
	cr_assert_eq(
	    check(&out, &err,
		  "expected/Aria/default/signatures.yaml out/Aria/default/signatures.yaml"),
	    0, "%s%s", out, err);
	cr_assert(strstr(out, "Result: agree: 1 signatures"), "%s", out);
	free(out);
	free(err);
	/* a statistic moved by 5 %: within the default 10 %, not within 1 %
	 * (163 flows, ARP flows included) */
	cr_assert_eq(
	    sh(NULL, NULL,
	       "sed 's/^  flows: 163$/  flows: 155/' expected/Aria/default/signatures.yaml "
	       ">moved.yaml && ! cmp -s moved.yaml expected/Aria/default/signatures.yaml"),
	    0);
	cr_assert_eq(check(&out, &err, "expected/Aria/default/signatures.yaml moved.yaml"), 0,
		     "%s%s", out, err);
	free(out);
	free(err);
	cr_assert_eq(check(&out, &err,
			   "expected/Aria/default/signatures.yaml moved.yaml --tolerance count=1%"),
		     1, "%s%s", out, err);
	cr_assert(strstr(out, "summary.flows: 163 -> 155 (count: 1%)"), "%s", out);
	free(out);
	free(err);
	/* an identity never has a tolerance */
	cr_assert_eq(
	    sh(NULL, NULL,
	       "sed 's/www.fitbit.com/www.fitbit.org/' expected/Aria/default/signatures.yaml "
	       ">renamed.yaml"),
	    0);
	cr_assert_eq(check(&out, &err,
			   "expected/Aria/default/signatures.yaml renamed.yaml --tolerance 100%"),
		     1, "%s%s", out, err);
	cr_assert(strstr(out, "www.fitbit.org"), "%s", out);
	free(out);
	free(err);
}

struct usage_case {
	const char *args;
	const char *msg;
};

Test(cli_check, usage_errors_exit_2)
{
	static const struct usage_case cases[] = {
	    {"", "expected BASELINE OUT"},
	    {"a", "expected BASELINE OUT"},
	    {"a b c", "not also \"c\""},
	    {"a b --format xml", "--format is text, yaml or json"},
	    {"a b --tolerance colour=1", "unknown class"},
	    {"a b --tolerance count=x", "bad tolerance"},
	    {"nowhere a", "nowhere"},
	    {"a f.yaml", "a directory with a directory"},
	    {"a a", "no signatures.yaml"},
	    {"f.yaml g.yaml", "cannot compare"},
	    {"--bogus a b", "unknown option"},
	};
	size_t i;

	cr_assert_eq(sh(NULL, NULL, "mkdir a && echo 'x: 1' >f.yaml && echo '[' >g.yaml"), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *err = NULL;

		cr_expect_eq(check(NULL, &err, cases[i].args), 2, "[%s]: %s", cases[i].args, err);
		cr_expect(err && strstr(err, cases[i].msg), "[%s]: %s", cases[i].args, err);
		free(err);
	}
}
