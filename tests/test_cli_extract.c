/*
 * test_cli_extract.c - the main job's command line, run as a program
 * (SX_BINARY): usage errors, the two spellings, standard output, exit codes
 * with unreadable captures, and the properties the issue asks for:
 *
 *   - -j1, -j2 and a shuffled order of the captures give identical outputs
 *     (byte for byte with SOURCE_DATE_EPOCH; apart from last-update without);
 *   - an output directory that cannot be written, a full disk (a 64 KiB
 *     tmpfs) and a failing rename each give a clear error, a non-zero exit,
 *     and leave the earlier profile.yaml intact.  The mounts need root: those
 *     tests are skipped, saying why, when mount(8) fails.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/frames.h"
#include "support/tmp.h"

#define TRACES	     SX_SHARED_CORPORA "/smart-home-network-security+signature-extraction/test/traces"
#define TPLINK_PCAPS "1724059939.pcap 1724060053.pcap 1724060140.pcap"
#define DEMO	     SX_BUILD_DIR "/corpora/demo"

static char *dir;
static char *mounted[4];
static int nmounted;

static void setup(void)
{
	dir = sx_tt_tmpdir();
	cr_assert_not_null(dir);
}

static void teardown(void)
{
	while (nmounted > 0) {
		char *cmd;

		if (asprintf(&cmd, "umount '%s' 2>/dev/null", mounted[--nmounted]) > 0) {
			if (system(cmd) != 0)
				cr_log_warn("cannot unmount %s", mounted[nmounted]);
			free(cmd);
		}
		free(mounted[nmounted]);
	}
	sx_tt_rm_tree(dir);
	free(dir);
}

TestSuite(cli_extract, .init = setup, .fini = teardown, .timeout = 300);

/* Run sigex with args (a shell fragment) in cwd; returns the exit status. */
static int sigex(const char *cwd, const char *args, char **out, char **err)
{
	char *cmd;
	int rc;

	cr_assert(asprintf(&cmd, "cd '%s' && '%s' %s", cwd, SX_BINARY, args) > 0);
	rc = sx_tt_run(cmd, out, err);
	free(cmd);
	return rc;
}

static char *sub(const char *name)
{
	return sx_tt_path(dir, name);
}

static void need_shared(void)
{
	if (!sx_tt_have_shared())
		sx_tt_skip_missing("shared corpora missing (%s)", SX_SHARED_CORPORA);
}

static void need_demo(void)
{
	struct stat st;

	if (stat(DEMO "/truth.txt", &st) != 0)
		sx_tt_skip_missing("generated corpus missing: %s", DEMO);
}

/* Mount (a shell fragment of mount(8) options and source) on path, or skip. */
static void mount_or_skip(const char *how, const char *path)
{
	char *cmd, *err = NULL;
	int rc;

	cr_assert(asprintf(&cmd, "mount %s '%s'", how, path) > 0);
	rc = sx_tt_run(cmd, NULL, &err);
	free(cmd);
	if (rc != 0) {
		cr_log_info("mount %s failed: %s", how, err ? err : "");
		free(err);
		cr_skip_test("cannot mount (%s): needs root", how);
	}
	free(err);
	mounted[nmounted++] = strdup(path);
}

/* ---- usage ---- */

struct usage_case {
	const char *args;
	const char *msg;
};

Test(cli_extract, usage_errors)
{
	static const struct usage_case cases[] = {
	    {"", "expected DEVICE IPV4 PCAP"},
	    {"plug", "expected DEVICE IPV4 PCAP"},
	    {"plug 192.168.1.135", "expected DEVICE IPV4 PCAP"},
	    {"plug 192.168.1 a.pcap", "invalid IPv4Address value: '192.168.1'"},
	    {"plug 192.168.1.135 missing.pcap", "\"missing.pcap\" is not an existing file"},
	    {"plug 192.168.1.135 a.pcap a.pcap", "given twice"},
	    {"plug 192.168.1.135 a.pcap --support 0", "--support"},
	    {"plug 192.168.1.135 a.pcap --support 1.5", "--support"},
	    {"plug 192.168.1.135 a.pcap --duration 5", "--duration needs --events"},
	    {"plug 192.168.1.135 a.pcap --events e.csv --window 5", "cannot be combined"},
	    {"plug 192.168.1.135 a.pcap --mac 50:c7:bf", "MAC address"},
	    {"plug 192.168.1.135 a.pcap --gateway router", "gateway"},
	    {"plug 192.168.1.135 a.pcap --ipv6 10.0.0.1", "IPv6"},
	    {"plug 192.168.1.135 a.pcap -f 'tcp port ((('", "bad filter"},
	    {"plug 192.168.1.135 a.pcap --mode fast", "--mode"},
	    {"plug 192.168.1.135 a.pcap --bogus", "unknown option"},
	    {"plug 192.168.1.135 a.pcap -j 0", "-j"},
	    {"plug 192.168.1.135 a.pcap -o a.pcap", "not a directory"},
	    {"extract plug 192.168.1.135 missing.pcap", "is not an existing file"},
	};
	char *a = sub("a.pcap");
	size_t i;

	cr_assert_eq(sx_tt_write(a, "x", 1), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL, *err = NULL;
		int rc = sigex(dir, cases[i].args, &out, &err);

		cr_expect_eq(rc, 2, "sigex %s: exit %d\n%s", cases[i].args, rc, err);
		cr_expect(strstr(err, cases[i].msg), "sigex %s: stderr lacks \"%s\": %s",
			  cases[i].args, cases[i].msg, err);
		cr_expect_str_eq(out, "", "sigex %s wrote to stdout", cases[i].args);
		free(out);
		free(err);
	}
	free(a);
}

Test(cli_extract, help)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(sigex(dir, "extract --help", &out, &err), 0);
	cr_assert(strstr(out, "Usage: sigex DEVICE IPV4 PCAP..."), "%s", out);
	cr_assert(strstr(out, "--background PCAP..."));
	free(out);
	free(err);
	cr_assert_eq(sigex(dir, "--help", &out, &err), 0);
	cr_assert(strstr(out, "extract"), "%s", out);
	free(out);
	free(err);
}

/* ---- runs ---- */

static char *read_out(const char *sub_dir, const char *name)
{
	char *p, *text;

	cr_assert(asprintf(&p, "%s/%s/%s", dir, sub_dir, name) > 0);
	text = sx_tt_read(p, NULL);
	cr_assert_not_null(text, "no %s", p);
	free(p);
	return text;
}

/* Every file of dir/a equals the same file of dir/b (background/ too), and
 * the sets match. */
static void same_outputs(const char *a, const char *b)
{
	char *pa = sub(a);
	DIR *d = opendir(pa);
	struct dirent *e;
	unsigned na = 0, nb = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		char *x, *y;

		/* the hidden files but the list of the CSVs written */
		if (e->d_name[0] == '.' && strcmp(e->d_name, ".sigex-csvs") != 0)
			continue;
		na++;
		if (strcmp(e->d_name, "background") == 0) {
			char *sa, *sb;

			cr_assert(asprintf(&sa, "%s/background", a) > 0);
			cr_assert(asprintf(&sb, "%s/background", b) > 0);
			same_outputs(sa, sb);
			free(sa);
			free(sb);
			continue;
		}
		x = read_out(a, e->d_name);
		y = read_out(b, e->d_name);
		cr_assert_str_eq(x, y, "%s differs between %s and %s", e->d_name, a, b);
		free(x);
		free(y);
	}
	closedir(d);
	free(pa);
	pa = sub(b);
	d = opendir(pa);
	cr_assert_not_null(d);
	while ((e = readdir(d)))
		nb += e->d_name[0] != '.' || strcmp(e->d_name, ".sigex-csvs") == 0;
	closedir(d);
	free(pa);
	cr_assert_eq(na, nb);
	cr_assert_gt(na, 0);
}

Test(cli_extract, standard_output_and_both_spellings)
{
	char *o1 = NULL, *o2 = NULL, *err = NULL, *args;
	const char *p;

	need_shared();
	cr_assert(asprintf(&args, "tplink-plug 192.168.1.135 " TPLINK_PCAPS " -o '%s/a'", dir) > 0);
	cr_assert_eq(sigex(TRACES, args, &o1, &err), 0, "%s", err);
	cr_assert_str_eq(err, "");
	free(err);
	free(args);
	cr_assert(asprintf(&args, "extract tplink-plug 192.168.1.135 " TPLINK_PCAPS " -o '%s/b'",
			   dir) > 0);
	cr_assert_eq(sigex(TRACES, args, &o2, &err), 0, "%s", err);
	free(err);
	free(args);
	cr_assert_str_eq(o1, o2);
	/* the reference's sequence */
	cr_assert_eq(strncmp(o1,
			     "Flows extracted: 1724059939.pcap -> 1724059939.csv\n"
			     "Flows extracted: 1724060053.pcap -> 1724060053.csv\n"
			     "Flows extracted: 1724060140.pcap -> 1724060140.csv\n"
			     "3 pattern(s) found",
			     171),
		     0, "%s", o1);
	p = o1 + strlen(o1) - strlen("Patterns found!\nPolicies generated\n");
	cr_assert_str_eq(p, "Patterns found!\nPolicies generated\n");
	/* the report on stdout is pattern.txt */
	{
		char *report = read_out("a", "pattern.txt");

		cr_assert(strstr(o1, report));
		free(report);
	}
	free(o1);
	free(o2);
}

Test(cli_extract, quiet_writes_the_files_and_prints_nothing)
{
	char *out = NULL, *err = NULL, *args, *profile;

	need_shared();
	cr_assert(asprintf(&args, "tplink-plug 192.168.1.135 " TPLINK_PCAPS " -q -o '%s/new/sub'",
			   dir) > 0);
	cr_assert_eq(sigex(TRACES, args, &out, &err), 0, "%s", err);
	cr_assert_str_eq(out, "");
	cr_assert_str_eq(err, "");
	profile = read_out("new/sub", "profile.yaml"); /* created, with parents */
	cr_assert(strstr(profile, "name: tplink-plug\n"));
	free(profile);
	free(out);
	free(err);
	free(args);
}

Test(cli_extract, upstream_mode_dispatch)
{
	char *out = NULL, *err = NULL, *args, *profile;

	need_shared();
	cr_assert(asprintf(&args,
			   "extract --mode=upstream tplink-plug 192.168.1.135 " TPLINK_PCAPS
			   " -o '%s'",
			   dir) > 0);
	cr_assert_eq(sigex(TRACES, args, &out, &err), 0, "%s", err);
	profile = read_out(".", "profile.yaml");
	cr_assert(strstr(profile, "\n  tcp_443:\n"), "%s", profile);
	free(profile);
	free(out);
	free(err);
	free(args);
}

Test(cli_extract, same_outputs_for_any_threads_and_order)
{
	static const char *const runs[][2] = {
	    {"j1", "-j1 1*.pcap --background idle-*.pcap"},
	    {"j2", "-j2 1*.pcap --background idle-*.pcap"},
	    {"shuffled",
	     "-j3 --seed 99 $(ls 1*.pcap | sort -r) --background $(ls idle-*.pcap | sort -r)"},
	    {"mixed", "--background idle-2.pcap idle-0.pcap -j 2 $(ls 1*.pcap | sort -t0 -k2) "
		      "--background idle-1.pcap"},
	};
	char *first_out = NULL;
	size_t i;

	need_demo();
	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		char *out = NULL, *err = NULL, *args;

		cr_assert(asprintf(&args,
				   "SOURCE_DATE_EPOCH=0 '%s' demo-plug 192.168.1.50 %s -o '%s/%s'",
				   SX_BINARY, runs[i][1], dir, runs[i][0]) > 0);
		{
			char *cmd;

			cr_assert(asprintf(&cmd, "cd '%s' && %s", DEMO, args) > 0);
			cr_assert_eq(sx_tt_run(cmd, &out, &err), 0, "%s\n%s", cmd, err);
			free(cmd);
		}
		if (!first_out)
			first_out = out;
		else
			cr_assert_str_eq(out, first_out, "stdout of %s", runs[i][0]);
		if (out != first_out)
			free(out);
		free(err);
		free(args);
		if (i)
			same_outputs(runs[0][0], runs[i][0]);
	}
	free(first_out);
	{
		char *p = read_out("j1", "profile.yaml");

		cr_assert(strstr(p, "  last-update: \"1970-01-01T00:00:00+00:00\"\n"), "%s", p);
		free(p);
	}
}

Test(cli_extract, runs_differ_only_in_last_update)
{
	char *a, *b, *args, *out = NULL, *err = NULL;
	char *la, *lb;

	need_shared();
	cr_assert(asprintf(&args, "tplink-plug 192.168.1.135 " TPLINK_PCAPS " -q -o '%s/x'", dir) >
		  0);
	cr_assert_eq(sigex(TRACES, args, &out, &err), 0, "%s", err);
	free(out);
	free(err);
	free(args);
	cr_assert(asprintf(&args,
			   "tplink-plug 192.168.1.135 1724060140.pcap 1724059939.pcap "
			   "1724060053.pcap -q -j1 -o '%s/y'",
			   dir) > 0);
	cr_assert_eq(sigex(TRACES, args, &out, &err), 0, "%s", err);
	free(out);
	free(err);
	free(args);
	a = read_out("x", "profile.yaml");
	b = read_out("y", "profile.yaml");
	la = strstr(a, "  last-update: ");
	lb = strstr(b, "  last-update: ");
	cr_assert(la && lb);
	/* blank the value, then the documents are equal */
	memset(strchr(la, ':') + 1, ' ', strcspn(la, "\n") - (size_t)(strchr(la, ':') + 1 - la));
	memset(strchr(lb, ':') + 1, ' ', strcspn(lb, "\n") - (size_t)(strchr(lb, ':') + 1 - lb));
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
}

/* ---- bad captures ---- */

Test(cli_extract, unreadable_captures)
{
	char *bad = sub("bad.pcap"), *out = NULL, *err = NULL, *args, *p;

	need_shared();
	cr_assert_eq(sx_tt_write(bad, "not a capture\n", 14), 0);
	/* one bad capture among good ones: exit 3, the outputs from the others */
	cr_assert(asprintf(&args, "tplink-plug 192.168.1.135 " TPLINK_PCAPS " '%s' -o '%s/o'", bad,
			   dir) > 0);
	cr_assert_eq(sigex(TRACES, args, &out, &err), 3, "%s", err);
	cr_assert(strstr(err, "bad.pcap"), "%s", err);
	cr_assert_eq(sx_tt_lines(err), 1, "%s", err);
	p = read_out("o", "profile.yaml");
	cr_assert(strstr(p, "https-use1-api-tplinkra-com"), "%s", p);
	free(p);
	free(out);
	free(err);
	free(args);
	/* nothing readable: exit 1, no profile */
	cr_assert(asprintf(&args, "tplink-plug 192.168.1.135 '%s' -o '%s/n'", bad, dir) > 0);
	cr_assert_eq(sigex(dir, args, &out, &err), 1, "%s", err);
	cr_assert(strstr(err, "bad.pcap"), "%s", err);
	cr_assert(strstr(err, "no occurrence"), "%s", err);
	p = sx_tt_path(dir, "n/profile.yaml");
	cr_assert(access(p, F_OK) != 0);
	free(p);
	free(out);
	free(err);
	free(args);
	free(bad);
}

Test(cli_extract, events_file_labels_name_the_interaction)
{
	char *ev = sub("events.csv"), *out = NULL, *err = NULL, *args, *p;
	static const char events[] = "timestamp,label\n1724059939,Toggle Plug\n"
				     "1724060053,Toggle Plug\n1724060140,Toggle Plug\n";

	need_shared();
	cr_assert_eq(sx_tt_write(ev, events, strlen(events)), 0);
	cr_assert(asprintf(&args,
			   "tplink-plug 192.168.1.135 " TPLINK_PCAPS
			   " --events '%s' --duration 30 -q -o '%s/o'",
			   ev, dir) > 0);
	cr_assert_eq(sigex(TRACES, args, &out, &err), 0, "%s", err);
	p = read_out("o", "profile.yaml");
	cr_assert(strstr(p, "\ninteractions:\n  toggle-plug:\n"), "%s", p);
	cr_assert(strstr(p, "dns-use1-api-tplinkra-com"), "%s", p);
	free(p);
	free(out);
	free(err);
	free(args);
	free(ev);
}

/* ---- outputs that cannot be written ---- */

static void write_old_profile(const char *out_dir)
{
	char *p = sx_tt_path(out_dir, "profile.yaml");

	cr_assert_eq(sx_tt_write(p, "old profile\n", 12), 0);
	free(p);
}

static void assert_old_profile(const char *out_dir)
{
	char *p = sx_tt_path(out_dir, "profile.yaml");
	char *text = sx_tt_read(p, NULL);

	cr_assert_not_null(text, "%s is gone", p);
	cr_assert_str_eq(text, "old profile\n");
	free(text);
	free(p);
}

/* No stray temporary files left behind. */
static void assert_no_temporaries(const char *out_dir)
{
	DIR *d = opendir(out_dir);
	struct dirent *e;

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		cr_assert(!strstr(e->d_name, ".tmp") && !strstr(e->d_name, "XXXXXX") &&
			      strncmp(e->d_name, ".sigex", 6) != 0,
			  "left behind: %s", e->d_name);
	closedir(d);
}

Test(cli_extract, read_only_output_directory)
{
	char *ro = sub("ro"), *out = NULL, *err = NULL, *args;

	need_demo();
	cr_assert_eq(mkdir(ro, 0755), 0);
	mount_or_skip("-t tmpfs -o size=64k tmpfs", ro);
	write_old_profile(ro);
	{
		char *cmd;

		cr_assert(asprintf(&cmd, "mount -o remount,ro '%s'", ro) > 0);
		cr_assert_eq(sx_tt_run(cmd, NULL, NULL), 0);
		free(cmd);
	}
	cr_assert(asprintf(&args, "demo-plug 192.168.1.50 1*.pcap -o '%s'", ro) > 0);
	cr_assert_eq(sigex(DEMO, args, &out, &err), 1, "%s", err);
	cr_assert(strstr(err, "cannot write to the output directory"), "%s", err);
	cr_assert(strstr(err, "Read-only file system"), "%s", err);
	cr_assert_str_eq(out, "");
	assert_old_profile(ro);
	free(out);
	free(err);
	free(args);
	free(ro);
}

Test(cli_extract, full_disk)
{
	char *small = sub("small"), *fill, *out = NULL, *err = NULL, *args, *cmd;

	need_demo();
	cr_assert_eq(mkdir(small, 0755), 0);
	mount_or_skip("-t tmpfs -o size=64k tmpfs", small);
	write_old_profile(small);
	fill = sx_tt_path(small, "fill");
	cr_assert(
	    asprintf(&cmd, "dd if=/dev/zero of='%s' bs=1k count=1024 2>/dev/null; true", fill) > 0);
	sx_tt_run(cmd, NULL, NULL);
	free(cmd);
	cr_assert(asprintf(&args, "demo-plug 192.168.1.50 1*.pcap -o '%s'", small) > 0);
	cr_assert_eq(sigex(DEMO, args, &out, &err), 1, "%s", err);
	cr_assert(strstr(err, "No space left on device"), "%s", err);
	assert_old_profile(small);
	unlink(fill);
	assert_no_temporaries(small);
	free(out);
	free(err);
	free(args);
	free(fill);
	free(small);
}

Test(cli_extract, failing_rename_keeps_the_old_profile)
{
	char *o = sub("o"), *target, *src = sub("elsewhere"), *out = NULL, *err = NULL, *args;
	char *p, *how;

	need_shared();
	cr_assert_eq(mkdir(o, 0755), 0);
	write_old_profile(o);
	cr_assert_eq(sx_tt_write(src, "old profile\n", 12), 0);
	target = sx_tt_path(o, "profile.yaml");
	/* a mount point cannot be renamed over: rename(2) fails with EBUSY */
	cr_assert(asprintf(&how, "--bind '%s'", src) > 0);
	mount_or_skip(how, target);
	free(how);
	cr_assert(asprintf(&args, "tplink-plug 192.168.1.135 " TPLINK_PCAPS " -o '%s'", o) > 0);
	cr_assert_eq(sigex(TRACES, args, &out, &err), 1, "%s", err);
	cr_assert(strstr(err, "profile.yaml"), "%s", err);
	assert_old_profile(o);
	/* the outputs before it were written */
	p = read_out("o", "pattern.txt");
	cr_assert(strstr(p, "pattern(s) found"));
	free(p);
	free(out);
	free(err);
	free(args);
	free(target);
	free(src);
	free(o);
}

/* ---- CSV names ---- */

Test(cli_extract, csv_name_clashes_never_overwrite)
{
	static const char *const orders[] = {"x/1724059939.pcap y/1724059939.pcap capture.pcap",
					     "capture.pcap y/1724059939.pcap x/1724059939.pcap"};
	char *out = NULL, *err = NULL, *cmd;
	size_t i;

	need_shared();
	cr_assert(asprintf(&cmd,
			   "cd '%s' && mkdir x y && cp '%s/1724059939.pcap' x/ && "
			   "cp '%s/1724059939.pcap' y/ && cp '%s/1724060053.pcap' capture.pcap",
			   dir, TRACES, TRACES, TRACES) > 0);
	cr_assert_eq(sx_tt_run(cmd, NULL, NULL), 0);
	free(cmd);
	for (i = 0; i < 2; i++) {
		char *args, *a, *b, *c, sub_dir[8];

		snprintf(sub_dir, sizeof(sub_dir), "o%zu", i);
		cr_assert(asprintf(&args, "plug 192.168.1.135 %s -q -o %s", orders[i], sub_dir) >
			  0);
		cr_assert_eq(sigex(dir, args, &out, &err), 0, "%s", err);
		free(out);
		free(err);
		free(args);
		/* the integer prefix; its clash in (name, path) order; else the name */
		a = read_out(sub_dir, "1724059939.csv");
		b = read_out(sub_dir, "1724059939-2.csv");
		c = read_out(sub_dir, "capture.csv");
		cr_assert(strstr(a, ",x/1724059939.pcap,"), "%s", a);
		cr_assert(strstr(b, ",y/1724059939.pcap,"), "%s", b);
		cr_assert(strstr(c, ",capture.pcap,"), "%s", c);
		free(a);
		free(b);
		free(c);
	}
}

/* ---- a command line that never surprises ---- */

/* dir/name's bytes, or NULL. */
static char *slurp(const char *name)
{
	char *p = sub(name), *text = sx_tt_read(p, NULL);

	free(p);
	return text;
}

static bool exists(const char *name)
{
	char *p = sub(name);
	struct stat st;
	bool ret = lstat(p, &st) == 0;

	free(p);
	return ret;
}

Test(cli_extract, failed_run_keeps_the_earlier_outputs)
{
	static const char *const files[] = {"o/1700000000.csv", "o/1700000600.csv",
					    "o/profile.yaml", "o/pattern.txt"};
	char *before[4], *out = NULL, *err = NULL;
	size_t i;

	need_demo();
	cr_assert_eq(sigex(dir,
			   "plug 192.168.1.50 " DEMO "/1700000000.pcap " DEMO
			   "/1700000600.pcap -q -o o",
			   &out, &err),
		     0, "%s", err);
	free(out);
	free(err);
	for (i = 0; i < 4; i++)
		cr_assert_not_null(before[i] = slurp(files[i]), "%s", files[i]);
	/* events that no capture holds: nothing to mine, exit 1 */
	cr_assert_eq(sx_tt_write(sub("ev.csv"), "100,on\n200,on\n", 14), 0);
	cr_assert_eq(sigex(dir, "plug 192.168.1.50 " DEMO "/1700000000.pcap --events ev.csv -o o",
			   &out, &err),
		     1, "%s", err);
	free(out);
	free(err);
	for (i = 0; i < 4; i++) {
		char *now = slurp(files[i]);

		cr_assert_not_null(now, "%s removed", files[i]);
		cr_expect_str_eq(now, before[i], "%s changed by a failed run", files[i]);
		free(now);
		free(before[i]);
	}
}

/*
 * A run that fails while writing its outputs replaces none of them: the
 * files written before the failure wait under temporary names and are
 * removed (signatures.yaml is a directory here, so its writing fails after
 * the CSVs, their list and pattern.txt were written).
 */
Test(cli_extract, failed_write_replaces_none_of_the_outputs)
{
	static const char *const files[] = {"o/1724059939.csv", "o/1724060053.csv", "o/.sigex-csvs",
					    "o/pattern.txt"};
	char *before[4], *out = NULL, *err = NULL, *args, *o = sub("o"), *sig;
	struct dirent *e;
	size_t i;
	DIR *d;

	need_shared();
	cr_assert(asprintf(&args, "tplink-plug 192.168.1.135 " TPLINK_PCAPS " -q -o '%s'", o) > 0);
	cr_assert_eq(sigex(TRACES, args, &out, &err), 0, "%s", err);
	free(out);
	free(err);
	free(args);
	for (i = 0; i < 4; i++)
		cr_assert_not_null(before[i] = slurp(files[i]), "%s", files[i]);
	sig = sx_tt_path(o, "signatures.yaml");
	cr_assert_eq(unlink(sig), 0);
	cr_assert_eq(mkdir(sig, 0755), 0);
	/* two of the three captures: every output would differ */
	cr_assert(asprintf(&args,
			   "tplink-plug 192.168.1.135 1724059939.pcap 1724060053.pcap -o '%s'",
			   o) > 0);
	cr_assert_eq(sigex(TRACES, args, &out, &err), 1, "%s", err);
	cr_assert(strstr(err, "signatures.yaml"), "%s", err);
	for (i = 0; i < 4; i++) {
		char *now = slurp(files[i]);

		cr_assert_not_null(now, "%s removed", files[i]);
		cr_expect_str_eq(now, before[i], "%s replaced by a failed run", files[i]);
		free(now);
		free(before[i]);
	}
	d = opendir(o);
	cr_assert_not_null(d);
	while ((e = readdir(d)))
		cr_expect(!strstr(e->d_name, ".tmp."), "left behind: %s", e->d_name);
	closedir(d);
	free(out);
	free(err);
	free(args);
	free(sig);
	free(o);
}

/*
 * The run's files are made durable together, seen by strace: no fsync per
 * file; a syncfs after the last file was written and before the first
 * rename, and one after the last rename.
 */
Test(cli_extract, outputs_synced_together_then_renamed)
{
	char *out = NULL, *err = NULL, *args, *o = sub("o"), *trace = sub("trace");

	need_shared();
	if (sx_tt_run("strace -f -o /dev/null true", NULL, NULL) != 0)
		sx_tt_skip_missing("strace missing or not permitted");
	/* LeakSanitizer cannot run under ptrace: off for this one run */
	cr_assert(asprintf(&args,
			   "cd '%s' && ASAN_OPTIONS=\"$ASAN_OPTIONS:detect_leaks=0\" strace -f -qq "
			   "-o '%s' -e trace=fsync,fdatasync,syncfs,rename,openat '%s' "
			   "tplink-plug 192.168.1.135 " TPLINK_PCAPS " -q -o '%s'",
			   TRACES, trace, SX_BINARY, o) > 0);
	cr_assert_eq(sx_tt_run(args, &out, &err), 0, "%s", err);
	free(out);
	free(err);
	free(args);
	cr_assert(
	    asprintf(&args,
		     "awk '/openat\\(.*\\.tmp\\..*O_CREAT/ { made = NR }"
		     " /rename\\(/ { n++; if (!first) first = NR; last = NR }"
		     " /syncfs\\(/ { s[++k] = NR } /f(data)?sync\\(/ { f++ }"
		     " END { print n, k, f; ok = (n == 7) + (k == 2) + (f == 0) + (s[1] > made)"
		     " + (s[1] < first) + (s[2] > last); exit ok != 6 }' '%s'",
		     trace) > 0);
	cr_assert_eq(sx_tt_run(args, &out, &err), 0, "renames, syncfs, fsyncs: %s%s", out, err);
	free(out);
	free(err);
	free(args);
	free(trace);
	free(o);
}

Test(cli_extract, failed_run_creates_no_directory)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(sx_tt_write(sub("text.pcap"), "not a capture\n", 14), 0);
	cr_assert_eq(sigex(dir, "plug 192.168.1.50 text.pcap -o new/sub", &out, &err), 1, "%s",
		     err);
	cr_expect(!exists("new"), "a failed run left new/");
	free(out);
	free(err);
	/* a usage error neither */
	cr_assert_eq(sigex(dir, "plug 192.168.1.50 text.pcap --support 2 -o new", &out, &err), 2);
	cr_expect(!exists("new"));
	free(out);
	free(err);
}

Test(cli_extract, cause_first_then_one_summary_line)
{
	char *out = NULL, *err = NULL;
	const char *second;

	cr_assert_eq(sx_tt_write(sub("text.pcap"), "not a capture\n", 14), 0);
	cr_assert_eq(sigex(dir, "plug 192.168.1.50 text.pcap -o o", &out, &err), 1);
	cr_assert_eq(sx_tt_lines(err), 2, "%s", err);
	second = strchr(err, '\n') + 1;
	cr_expect_eq(strncmp(err, "sigex: error: text.pcap: ", 25), 0, "cause first: %s", err);
	cr_expect(strstr(second, "no occurrence"), "then the summary: %s", err);
	cr_expect_str_eq(out, "");
	free(out);
	free(err);
}

Test(cli_extract, stale_csvs_of_an_earlier_run_are_removed)
{
	char *out = NULL, *err = NULL, *list;

	need_demo();
	cr_assert_eq(sigex(dir,
			   "plug 192.168.1.50 " DEMO "/1700000000.pcap " DEMO
			   "/1700000600.pcap --background " DEMO "/idle-0.pcap -q -o o",
			   &out, &err),
		     0, "%s", err);
	free(out);
	free(err);
	cr_assert(exists("o/1700000600.csv"));
	cr_assert(exists("o/background/idle-0.csv"));
	cr_assert_eq(sx_tt_write(sub("o/mine.csv"), "mine\n", 5), 0); /* not sigex's */
	cr_assert_eq(
	    sigex(dir, "plug 192.168.1.50 " DEMO "/1700000000.pcap " DEMO "/1700001200.pcap -o o",
		  &out, &err),
	    0, "%s", err);
	cr_expect(!exists("o/1700000600.csv"), "stale CSV kept");
	cr_expect(!exists("o/background"), "stale background CSVs kept");
	cr_expect(exists("o/1700001200.csv"));
	cr_expect(exists("o/mine.csv"), "a file sigex did not write was removed");
	cr_expect(strstr(out, "Removed 1700000600.csv"), "%s", out);
	cr_expect(strstr(out, "Removed background/idle-0.csv"), "%s", out);
	/* the list of what this run wrote */
	list = slurp("o/.sigex-csvs");
	cr_assert_not_null(list);
	cr_expect_str_eq(list, "1700000000.csv\n1700001200.csv\n");
	free(list);
	free(out);
	free(err);
}

Test(cli_extract, csvs_named_after_their_captures)
{
	char *out = NULL, *err = NULL, *csv, *args;

	need_demo();
	cr_assert(asprintf(&args,
			   "cp '%s/1700000000.pcap' '%s/Setup-C-1-STA.pcap' && cp "
			   "'%s/1700000600.pcap' '%s/Setup-C-2-STA.pcap.gz'",
			   DEMO, dir, DEMO, dir) > 0);
	cr_assert_eq(sx_tt_run(args, NULL, NULL), 0);
	free(args);
	cr_assert_eq(
	    sigex(dir,
		  "plug 192.168.1.50 Setup-C-1-STA.pcap Setup-C-2-STA.pcap.gz --background " DEMO
		  "/idle-0.pcap " DEMO "/idle-1.pcap -o o",
		  &out, &err),
	    0, "%s", err);
	csv = slurp("o/Setup-C-1-STA.csv");
	cr_assert_not_null(csv, "no Setup-C-1-STA.csv");
	cr_expect(strstr(csv, ",Setup-C-1-STA.pcap,"));
	free(csv);
	cr_expect(exists("o/Setup-C-2-STA.csv"));
	cr_expect(exists("o/background/idle-0.csv"));
	cr_expect(exists("o/background/idle-1.csv"));
	cr_expect(!exists("o/idle-0.csv"));
	/* Flows extracted names the capture and its CSV */
	cr_expect(strstr(out, "Flows extracted: Setup-C-1-STA.pcap -> Setup-C-1-STA.csv\n"), "%s",
		  out);
	cr_expect(strstr(out, "Flows extracted: " DEMO "/idle-1.pcap -> background/idle-1.csv\n"),
		  "%s", out);
	free(out);
	free(err);
}

Test(cli_extract, mistyped_commands)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(sigex(dir, "chek a b", &out, &err), 2);
	cr_expect(strstr(err, "unknown command \"chek\"; did you mean \"check\"?"), "%s", err);
	free(out);
	free(err);
	cr_assert_eq(sigex(dir, "pakcets", &out, &err), 2);
	cr_expect(strstr(err, "did you mean \"packets\"?"), "%s", err);
	free(out);
	free(err);
	/* a main job whose device is one letter from a command: warned */
	need_demo();
	cr_assert_eq(
	    sigex(dir, "flow 192.168.1.50 " DEMO "/1700000000.pcap " DEMO "/1700000600.pcap -o o",
		  &out, &err),
	    0, "%s", err);
	cr_expect(strstr(err, "warning: device \"flow\""), "%s", err);
	cr_expect(strstr(err, "\"flows\""), "%s", err);
	free(out);
	free(err);
	cr_assert_eq(sigex(dir,
			   "extract flow 192.168.1.50 " DEMO "/1700000000.pcap " DEMO
			   "/1700000600.pcap -o o",
			   &out, &err),
		     0, "%s", err);
	cr_expect_str_eq(err, "", "said on purpose: no warning");
	free(out);
	free(err);
}

Test(cli_extract, upstream_mode_creates_its_directory_and_names_its_options)
{
	char *out = NULL, *err = NULL;

	need_demo();
	cr_assert_eq(sigex(dir,
			   "plug 192.168.1.50 " DEMO "/1700000000.pcap --mode upstream -o new/dir",
			   &out, &err),
		     0, "%s", err);
	cr_expect(exists("new/dir/profile.yaml"));
	free(out);
	free(err);
	cr_assert_eq(
	    sigex(dir, "plug 192.168.1.50 " DEMO "/1700000000.pcap --mode upstream --events x.csv",
		  &out, &err),
	    2);
	cr_expect(strstr(err, "reproduces the reference"), "%s", err);
	cr_expect(strstr(err, "-o DIR"), "%s", err);
	free(out);
	free(err);
}

Test(cli_extract, device_address_in_no_packet)
{
	char *out = NULL, *err = NULL;

	need_demo();
	cr_assert_eq(
	    sigex(dir, "plug 192.168.1.99 " DEMO "/1700000000.pcap " DEMO "/1700000600.pcap -o o",
		  &out, &err),
	    1);
	cr_expect(strstr(err, "192.168.1.99 is in no packet"), "%s", err);
	/* the addresses the captures hold, most packets first: the plug */
	cr_expect(strstr(err, "they hold 192.168.1.50 ("), "%s", err);
	cr_expect(!exists("o"));
	free(out);
	free(err);
	/* in only some captures: a warning naming the others */
	cr_assert_eq(sigex(dir,
			   "plug 192.168.1.50 " DEMO "/1700000000.pcap " DEMO
			   "/1700000600.pcap " SX_BUILD_DIR "/corpora/synth/1710000000.pcap -o o",
			   &out, &err),
		     0, "%s", err);
	cr_expect(strstr(err, "warning: the device's address 192.168.1.50 is in no packet of 1 "
			      "of the 3 captures: " SX_BUILD_DIR "/corpora/synth/1710000000.pcap"),
		  "%s", err);
	free(out);
	free(err);
}

Test(cli_extract, single_occurrence_is_warned)
{
	char *out = NULL, *err = NULL;

	need_demo();
	cr_assert_eq(sigex(dir, "plug 192.168.1.50 " DEMO "/1700000000.pcap -o o", &out, &err), 0,
		     "%s", err);
	cr_expect(strstr(err, "warning: only one occurrence"), "%s", err);
	cr_expect(strstr(err, "the signature is the whole capture"), "%s", err);
	free(out);
	free(err);
}

/* ---- several events in one capture (--events labels) ---- */

/* The captures below build their records so: a frame made by build into
 * frames[n], recorded at at_s seconds and at_us microseconds as recs[n]. */
#define REC(at_s, at_us, build)                                                                    \
	do {                                                                                       \
		recs[n] = (struct sx_tf_rec){frames[n], 0, 0, (at_s), (at_us)};                    \
		recs[n].caplen = (uint32_t)(build);                                                \
		cr_assert(recs[n].caplen);                                                         \
		n++;                                                                               \
	} while (0)

/*
 * One capture of device 10.0.0.5: a DNS exchange with 10.0.0.1 after each
 * "on" (100, 200, 300 s) and an HTTPS exchange with 10.0.0.9 after the
 * first two "off" (150, 250 s); the third "off" window (350 s) holds nothing
 * of the device, and an "on" at 5000 s is outside the capture.
 */
static char *labelled_capture(void)
{
	static uint8_t frames[16][128];
	struct sx_tf_rec recs[16];
	size_t n = 0, k;
	char *path = sub("labels.pcap");

	for (k = 0; k < 3; k++) {
		uint16_t port = (uint16_t)(40000 + k);
		int64_t t = 100 + 100 * (int64_t)k;

		REC(t, 0, sx_tf_udp(frames[n], 128, "10.0.0.5", port, "10.0.0.1", 53, "q", 1));
		REC(t, 500, sx_tf_udp(frames[n], 128, "10.0.0.1", 53, "10.0.0.5", port, "a", 1));
	}
	for (k = 0; k < 2; k++) {
		uint16_t port = (uint16_t)(50000 + k);
		int64_t t = 150 + 100 * (int64_t)k;

		REC(t, 0,
		    sx_tf_tcp(frames[n], 128, "10.0.0.5", port, "10.0.0.9", 443, 0x02, NULL, 0));
		REC(t, 300,
		    sx_tf_tcp(frames[n], 128, "10.0.0.9", 443, "10.0.0.5", port, 0x12, NULL, 0));
	}
	/* the capture ends at 400 s (another host) */
	REC(400, 0, sx_tf_udp(frames[n], 128, "10.0.0.7", 1000, "10.0.0.1", 53, "q", 1));
	cr_assert_eq(sx_tf_write_pcap(path, 1, recs, n), 0);
	return path;
}

Test(cli_extract, one_interaction_per_label_and_honest_occurrences)
{
	static const char events[] = "time,label\n99,Switch On\n149,Switch Off\n199,Switch On\n"
				     "249,Switch Off\n299,Switch On\n349,Idle\n389,Switch Off\n"
				     "5000,Switch On\n";
	char *pcap = labelled_capture(), *ev = sub("labels.csv"), *out = NULL, *err = NULL;
	char *args, *p;

	cr_assert_eq(sx_tt_write(ev, events, strlen(events)), 0);
	cr_assert(
	    asprintf(&args,
		     "dev 10.0.0.5 '%s' --events '%s' --duration 10 --support 0.6 -o '%s/lab'",
		     pcap, ev, dir) > 0);
	/* an event outside every capture: named, and the run is partial (3) */
	cr_assert_eq(sigex(dir, args, &out, &err), 3, "%s", err);
	cr_assert(strstr(err, "event \"Switch On\" at 5000.000 (line 9) is outside every capture"),
		  "%s", err);
	/* an empty window is named and still counted; a label whose windows
	 * are all empty is reported, not mined, and fails nothing */
	cr_assert(
	    strstr(err, "event \"Switch Off\" at 389.000 (+289.0 s): no packet of the device"),
	    "%s", err);
	cr_assert(strstr(err, "event \"Idle\": no packet of the device in any of its 1 windows; "
			      "not mined"),
		  "%s", err);
	/* the device's profile: one interaction per mined label */
	p = read_out("lab", "profile.yaml");
	cr_assert(strstr(p, "\ninteractions:\n  switch-off:\n"), "%s", p);
	cr_assert(strstr(p, "\n  switch-on:\n"), "%s", p);
	cr_assert(!strstr(p, "idle"), "%s", p);
	free(p);
	/* per-label reports where batch puts them; support counts the empty
	 * window: the HTTPS exchange is in 2 of the 3 "off" occurrences */
	p = read_out("lab/switch-off", "pattern.txt");
	cr_assert(strstr(p, "Support: 2/3 occurrences"), "%s", p);
	cr_assert(strstr(p, "\nEvent windows: 3 in the captures, of which 1 without a packet of "
			    "the device (occurrences without the patterns); 0 event(s) outside "
			    "every capture\n"),
		  "%s", p);
	free(p);
	p = read_out("lab/switch-on", "signatures.yaml");
	cr_assert(strstr(p, "event-windows: {scheduled: 3, empty: 0, outside: 1}"), "%s", p);
	free(p);
	p = read_out("lab/switch-on", "pattern.txt");
	cr_assert(strstr(p, "Support: 3/3 occurrences"), "%s", p);
	free(p);
	p = read_out("lab", "pattern.txt");
	cr_assert(strstr(p, "==== Event switch-off (label \"Switch Off\"): 3 windows in the "
			    "captures, 1 without a packet of the device, 0 outside every capture"),
		  "%s", p);
	cr_assert(strstr(p, "==== Event switch-on (label \"Switch On\"): 3 windows in the "
			    "captures, 0 without a packet of the device, 1 outside every capture"),
		  "%s", p);
	free(p);
	free(out);
	free(err);
	free(args);
	free(ev);
	free(pcap);
}

/*
 * A boot capture of device 10.0.0.5 (run r): an NTP exchange with
 * 10.0.0.20 at 10 s, outside every window, then a DNS exchange after the
 * "on" at 100 s; the capture ends at 200 s.
 */
static char *boot_capture(int r)
{
	static uint8_t frames[8][128];
	struct sx_tf_rec recs[8];
	char name[32], *path;
	size_t n = 0;

	snprintf(name, sizeof(name), "boot-%d.pcap", r);
	path = sub(name);
	REC(10, 0, sx_tf_udp(frames[n], 128, "10.0.0.5", 123, "10.0.0.20", 123, "t", 1));
	REC(11, 0, sx_tf_udp(frames[n], 128, "10.0.0.20", 123, "10.0.0.5", 123, "t", 1));
	REC(101, 0, sx_tf_udp(frames[n], 128, "10.0.0.5", 40000, "10.0.0.1", 53, "q", 1));
	REC(102, 0, sx_tf_udp(frames[n], 128, "10.0.0.1", 53, "10.0.0.5", 40000, "a", 1));
	REC(200, 0, sx_tf_udp(frames[n], 128, "10.0.0.7", 1000, "10.0.0.1", 53, "q", 1));
	cr_assert_eq(sx_tf_write_pcap(path, 1, recs, n), 0);
	return path;
}

/* With --events, what the device does between the windows in every
 * capture (its boot's NTP) is a single policy of the profile, the windows'
 * traffic the interaction; the flow CSVs stay those of the windows.  A
 * background capture is whole: what it holds is no event's. */
Test(cli_extract, traffic_between_the_windows_is_single_policies)
{
	static const char events[] = "time,label\n+90,on\n";
	char *pcap[2] = {boot_capture(1), boot_capture(2)}, *ev = sub("boot.csv");
	char *out = NULL, *err = NULL, *args, *p, *single, *inter, *bg;

	cr_assert_eq(sx_tt_write(ev, events, strlen(events)), 0);
	cr_assert(asprintf(&args,
			   "dev 10.0.0.5 '%s' '%s' --events '%s' --duration 10 --no-align -o "
			   "'%s/boot'",
			   pcap[0], pcap[1], ev, dir) > 0);
	cr_assert_eq(sigex(dir, args, &out, &err), 0, "%s", err);
	p = read_out("boot", "profile.yaml");
	single = strstr(p, "\nsingle-policies:\n");
	inter = strstr(p, "\ninteractions:\n");
	cr_assert(single && inter && single < inter, "%s", p);
	/* NTP among the single policies, DNS in the interaction */
	cr_assert(strstr(single, "dst: 10.0.0.20\n"), "%s", p);
	cr_assert(strstr(single, "dst: 10.0.0.20\n") < inter, "%s", p);
	cr_assert(strstr(inter, "\n  on:\n"), "%s", p);
	cr_assert(strstr(inter, "dst-port: 53\n"), "%s", p);
	free(p);
	p = read_out("boot", "boot-1.csv");
	cr_assert(strstr(p, ",53,") && !strstr(p, ",123,"), "the windows' flows only: %s", p);
	free(p);
	free(out);
	free(err);
	free(args);
	/* an idle capture holding the same DNS exchange: a whole capture, the
	 * background of the event, whose DNS is then the device's chatter */
	bg = boot_capture(3);
	cr_assert(asprintf(&args,
			   "dev 10.0.0.5 '%s' '%s' --events '%s' --duration 10 --no-align "
			   "--background '%s' -o '%s/boot-bg'",
			   pcap[0], pcap[1], ev, bg, dir) > 0);
	cr_assert_eq(sigex(dir, args, &out, &err), 0, "%s", err);
	p = read_out("boot-bg", "profile.yaml");
	inter = strstr(p, "\ninteractions:");
	cr_assert(inter && strstr(p, "dst-port: 53\n") < inter, "%s", p);
	cr_assert(strstr(p, "dst: 10.0.0.20\n") < inter, "%s", p);
	free(p);
	p = read_out("boot-bg", "pattern.txt");
	cr_assert(strstr(p, "0 pattern(s) found in 2 occurrences"), "%s", p);
	free(p);
	free(out);
	free(err);
	free(args);
	free(bg);
	free(ev);
	free(pcap[0]);
	free(pcap[1]);
}

/*
 * A capture of device 10.0.0.5 with two events ("on" at 100 s, "off" at
 * 200 s), run r: the DNS exchange after "on" and the HTTPS one after
 * "off" in both runs, and a UDP exchange with 10.0.0.30:7000 once a run,
 * after "on" in run 1 and after "off" in run 2; the capture ends at 300 s.
 */
static char *two_event_capture(int r)
{
	static uint8_t frames[16][128];
	struct sx_tf_rec recs[16];
	char name[32], *path;
	size_t n = 0;
	int64_t at = r == 1 ? 103 : 203;

	snprintf(name, sizeof(name), "two-%d.pcap", r);
	path = sub(name);
	REC(10, 0, sx_tf_udp(frames[n], 128, "10.0.0.7", 1000, "10.0.0.1", 53, "q", 1));
	REC(101, 0, sx_tf_udp(frames[n], 128, "10.0.0.5", 40000, "10.0.0.1", 53, "q", 1));
	REC(102, 0, sx_tf_udp(frames[n], 128, "10.0.0.1", 53, "10.0.0.5", 40000, "a", 1));
	if (r == 1) {
		REC(at, 0, sx_tf_udp(frames[n], 128, "10.0.0.5", 41000, "10.0.0.30", 7000, "s", 1));
		REC(at, 0, sx_tf_udp(frames[n], 128, "10.0.0.30", 7000, "10.0.0.5", 41000, "r", 1));
	}
	REC(201, 0, sx_tf_tcp(frames[n], 128, "10.0.0.5", 50000, "10.0.0.9", 443, 0x02, NULL, 0));
	REC(202, 0, sx_tf_tcp(frames[n], 128, "10.0.0.9", 443, "10.0.0.5", 50000, 0x12, NULL, 0));
	if (r == 2) {
		REC(at, 0, sx_tf_udp(frames[n], 128, "10.0.0.5", 41000, "10.0.0.30", 7000, "s", 1));
		REC(at, 0, sx_tf_udp(frames[n], 128, "10.0.0.30", 7000, "10.0.0.5", 41000, "r", 1));
	}
	REC(300, 0, sx_tf_udp(frames[n], 128, "10.0.0.7", 1000, "10.0.0.1", 53, "q", 1));
	cr_assert_eq(sx_tf_write_pcap(path, 1, recs, n), 0);
	return path;
}

/* What recurs across the captures, but in another event's window in each
 * (below every event's support), is a single policy of the profile, the
 * per-event profiles' too; each event keeps its own exchange as its
 * interaction. */
Test(cli_extract, traffic_of_every_capture_in_other_windows_is_single_policies)
{
	static const char events[] = "time,label\n+90,on\n+190,off\n";
	char *pcap[2] = {two_event_capture(1), two_event_capture(2)}, *ev = sub("two.csv");
	char *out = NULL, *err = NULL, *args, *p, *inter;

	cr_assert_eq(sx_tt_write(ev, events, strlen(events)), 0);
	cr_assert(asprintf(&args,
			   "dev 10.0.0.5 '%s' '%s' --events '%s' --duration 20 --no-align -o "
			   "'%s/two'",
			   pcap[0], pcap[1], ev, dir) > 0);
	cr_assert_eq(sigex(dir, args, &out, &err), 0, "%s", err);
	p = read_out("two", "profile.yaml");
	inter = strstr(p, "\ninteractions:\n");
	cr_assert(inter, "%s", p);
	cr_assert(strstr(p, "dst-port: 7000\n"), "%s", p);
	cr_assert(strstr(p, "dst-port: 7000\n") < inter, "a single policy: %s", p);
	cr_assert(strstr(inter, "\n  on:\n"), "%s", p);
	cr_assert(strstr(inter, "\n  off:\n"), "%s", p);
	cr_assert(strstr(inter, "dst-port: 53\n"), "%s", p);
	cr_assert(strstr(inter, "dst-port: 443\n"), "%s", p);
	free(p);
	p = read_out("two/on", "profile.yaml");
	cr_assert(strstr(p, "dst-port: 7000\n"), "%s", p);
	free(p);
	/* neither event's signature holds it */
	p = read_out("two/on", "signatures.yaml");
	cr_assert_null(strstr(p, "fixed=server:7000"), "%s", p);
	free(p);
	free(out);
	free(err);
	free(args);
	free(ev);
	free(pcap[0]);
	free(pcap[1]);
}

Test(cli_extract, events_all_outside_the_captures)
{
	static const char events[] = "1700000240,on\n1700000300,off\n";
	char *pcap = labelled_capture(), *ev = sub("late.csv"), *out = NULL, *err = NULL;
	char *args;

	cr_assert_eq(sx_tt_write(ev, events, strlen(events)), 0);
	cr_assert(
	    asprintf(&args, "dev 10.0.0.5 '%s' --events '%s' -q -o '%s/late'", pcap, ev, dir) > 0);
	cr_assert_eq(sigex(dir, args, &out, &err), 1, "%s", err);
	cr_assert(strstr(err, "the 2 events are outside every capture"), "%s", err);
	free(out);
	free(err);
	free(args);
	free(ev);
	free(pcap);
}

Test(cli_extract, bad_events_rows_are_usage_errors)
{
	char *pcap = labelled_capture(), *ev = sub("bad.csv"), *out = NULL, *err = NULL, *args;

	cr_assert_eq(sx_tt_write(ev, "+100,on\n+4:6,off\n", 17), 0);
	cr_assert(asprintf(&args, "dev 10.0.0.5 '%s' --events '%s' -q -o '%s/bad'", pcap, ev, dir) >
		  0);
	cr_assert_eq(sigex(dir, args, &out, &err), 2, "%s", err);
	cr_assert(strstr(err, "bad.csv: line 2: expected [capture,]time[,label]"), "%s", err);
	free(out);
	free(err);
	cr_assert_eq(sx_tt_write(ev, "other.pcap,+100,on\n", 19), 0);
	cr_assert_eq(sigex(dir, args, &out, &err), 2, "%s", err);
	cr_assert(strstr(err, "no capture named \"other.pcap\" among those given"), "%s", err);
	free(out);
	free(err);
	free(args);
	free(ev);
	free(pcap);
}
