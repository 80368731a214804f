/*
 * test_cli_packets.c - `sigex packets`, run as a program (SX_BINARY).
 *
 * Exit codes and usage errors; one CSV row per packet in file order then
 * packet order, byte-identical for any -j; standard input and compressed
 * input; bad inputs mixed with good ones (exit 3, one stderr line per bad
 * file, the good rows all there); -o writing atomically; BPF filters.
 * Captures are written by the test into a fresh directory.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "support/frames.h"
#include "support/tmp.h"

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

TestSuite(cli_packets, .init = setup, .fini = teardown, .timeout = 120);

/* ---- a small RFC 4180 reader ---- */

struct row {
	char **f;
	size_t n;
};

struct table {
	struct row *rows;
	size_t n;
};

/* Parse CSV text (quoted fields may hold commas, quotes and newlines). */
static struct table parse_csv(const char *s)
{
	struct table t = {NULL, 0};
	size_t cap = 0;

	while (*s) {
		struct row r = {NULL, 0};
		size_t fcap = 0;

		for (;;) {
			size_t len = 0, bcap = 64;
			char *buf = malloc(bcap);

			cr_assert_not_null(buf);
			if (*s == '"') {
				s++;
				for (;;) {
					cr_assert_neq(*s, '\0', "unterminated quoted field");
					if (*s == '"' && s[1] == '"') {
						s += 2;
						buf[len++] = '"';
					} else if (*s == '"') {
						s++;
						break;
					} else {
						buf[len++] = *s++;
					}
					if (len + 1 >= bcap) {
						bcap *= 2;
						buf = realloc(buf, bcap);
						cr_assert_not_null(buf);
					}
				}
			} else {
				while (*s && *s != ',' && *s != '\n' && *s != '\r') {
					buf[len++] = *s++;
					if (len + 1 >= bcap) {
						bcap *= 2;
						buf = realloc(buf, bcap);
						cr_assert_not_null(buf);
					}
				}
			}
			buf[len] = '\0';
			if (r.n == fcap) {
				fcap = fcap ? fcap * 2 : 32;
				r.f = realloc(r.f, fcap * sizeof(*r.f));
				cr_assert_not_null(r.f);
			}
			r.f[r.n++] = buf;
			if (*s == ',') {
				s++;
				continue;
			}
			if (*s == '\r')
				s++;
			if (*s == '\n')
				s++;
			break;
		}
		if (t.n == cap) {
			cap = cap ? cap * 2 : 64;
			t.rows = realloc(t.rows, cap * sizeof(*t.rows));
			cr_assert_not_null(t.rows);
		}
		t.rows[t.n++] = r;
	}
	return t;
}

static void free_table(struct table *t)
{
	size_t i, j;

	for (i = 0; i < t->n; i++) {
		for (j = 0; j < t->rows[i].n; j++)
			free(t->rows[i].f[j]);
		free(t->rows[i].f);
	}
	free(t->rows);
	t->rows = NULL;
	t->n = 0;
}

static int col(const struct table *t, const char *name)
{
	size_t j;

	cr_assert_gt(t->n, 0, "no header");
	for (j = 0; j < t->rows[0].n; j++)
		if (strcmp(t->rows[0].f[j], name) == 0)
			return (int)j;
	cr_assert_fail("no column %s", name);
	return -1;
}

/* ---- captures and runs ---- */

static char *path_of(const char *name)
{
	char *p = sx_tt_path(dir, name);

	cr_assert_not_null(p);
	return p;
}

/*
 * n packets: UDP (even) and TCP (odd) frames, source port 10000 + k,
 * wire length caplen + k, timestamps base + k seconds and k microseconds.
 */
static char *write_capture(const char *name, size_t n, int64_t base)
{
	char *p = path_of(name);
	struct sx_tf_rec *recs = calloc(n ? n : 1, sizeof(*recs));
	uint8_t(*frames)[256] = calloc(n ? n : 1, sizeof(*frames));
	size_t k;

	cr_assert_not_null(recs);
	cr_assert_not_null(frames);
	for (k = 0; k < n; k++) {
		size_t len;
		uint8_t pl[32];

		memset(pl, 'p', sizeof(pl));
		if (k % 2 == 0)
			len = sx_tf_udp(frames[k], sizeof(frames[k]), "192.0.2.1",
					(uint16_t)(10000 + k), "192.0.2.2", 40000, pl, k % 32);
		else
			len =
			    sx_tf_tcp(frames[k], sizeof(frames[k]), "192.0.2.1",
				      (uint16_t)(10000 + k), "192.0.2.2", 40001, 0x18, pl, k % 32);
		cr_assert_gt(len, 0);
		recs[k] = (struct sx_tf_rec){.data = frames[k],
					     .caplen = (uint32_t)len,
					     .wirelen = (uint32_t)(len + k),
					     .sec = base + (int64_t)k,
					     .usec = (uint32_t)k};
	}
	cr_assert_eq(sx_tf_write_pcap(p, 1, recs, n), 0);
	free(recs);
	free(frames);
	return p;
}

struct result {
	int rc;
	char *out;
	char *err;
};

/* Run sigex with these shell-quoted arguments; a signal fails the test. */
static struct result run_args(const char *args)
{
	struct result r;
	char *cmd;

	cr_assert_geq(asprintf(&cmd, "'%s' %s", SX_BINARY, args), 0);
	r.rc = sx_tt_run(cmd, &r.out, &r.err);
	cr_assert_not_null(r.out);
	cr_assert_not_null(r.err);
	cr_assert_lt(r.rc, 128, "sigex was killed by signal %d: %s\n%s", r.rc - 128, cmd, r.err);
	free(cmd);
	return r;
}

static struct result run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static struct result run(const char *fmt, ...)
{
	struct result r;
	char *args;
	va_list ap;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&args, fmt, ap), 0);
	va_end(ap);
	r = run_args(args);
	free(args);
	return r;
}

static void free_result(struct result *r)
{
	free(r->out);
	free(r->err);
}

/* Rows (header excluded) whose File column is file. */
static size_t rows_for(const struct table *t, const char *file)
{
	size_t i, n = 0;

	for (i = 1; i < t->n; i++)
		if (strcmp(t->rows[i].f[0], file) == 0)
			n++;
	return n;
}

static size_t count_lines_with(const char *text, const char *a, const char *b)
{
	size_t n = 0;
	const char *line = text;

	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, len);

		if (strstr(copy, a) && (!b || strstr(copy, b)))
			n++;
		free(copy);
		line += len + (end ? 1 : 0);
	}
	return n;
}

/* ---- tests ---- */

Test(cli_packets, help_and_version)
{
	struct result r;

	r = run("--help");
	cr_assert_eq(r.rc, 0);
	cr_assert_not_null(strstr(r.out, "Usage: sigex"));
	cr_assert_not_null(strstr(r.out, "packets"));
	free_result(&r);

	r = run("--version");
	cr_assert_eq(r.rc, 0);
	cr_assert_eq(strncmp(r.out, "sigex ", 6), 0, "stdout: %s", r.out);
	free_result(&r);

	r = run("packets --help");
	cr_assert_eq(r.rc, 0);
	cr_assert_not_null(strstr(r.out, "Usage: sigex packets"));
	cr_assert_str_eq(r.err, "");
	free_result(&r);
}

Test(cli_packets, usage_errors_exit_2)
{
	char *a = write_capture("a.pcap", 2, 1000);
	/* Each with a good capture given first, so that only the option is wrong. */
	static const struct {
		const char *args;
		bool with_file;
	} bad[] = {
	    {"", false}, /* no command */
	    {"no-such-command", false},
	    {"packets", false}, /* no capture */
	    {"--no-such-option", true},
	    {"-j 0", true},
	    {"-j many", true},
	    {"-j 100000", true},
	    {"-j", true}, /* missing argument */
	    {"-o", true},
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct result r;

		if (bad[i].with_file)
			r = run("packets '%s' %s", a, bad[i].args);
		else
			r = run_args(bad[i].args);
		cr_assert_eq(r.rc, 2, "\"%s\": exit %d", bad[i].args, r.rc);
		cr_assert_gt(strlen(r.err), 0, "\"%s\": no message", bad[i].args);
		cr_assert_str_eq(r.out, "", "\"%s\": no output on a usage error", bad[i].args);
		free_result(&r);
	}
	free(a);
}

Test(cli_packets, rows_in_file_order_then_packet_order_for_any_jobs)
{
	/* The second file is larger, so the pool reads it first: the output
	 * must still follow the command line. */
	char *a = write_capture("a.pcap", 5, 1000);
	char *b = write_capture("b.pcap", 40, 2000);
	struct result r1, r2, r8;
	struct table t;
	size_t i;
	int ci, cts, csrc, clen, ccap, ctr, cport;

	r1 = run("packets -j1 '%s' '%s'", a, b);
	r2 = run("packets -j2 '%s' '%s'", a, b);
	r8 = run("packets -j8 '%s' '%s'", a, b);
	cr_assert_eq(r1.rc, 0, "stderr: %s", r1.err);
	cr_assert_eq(r2.rc, 0);
	cr_assert_eq(r8.rc, 0);
	cr_assert_str_eq(r1.out, r2.out, "-j1 and -j2 differ");
	cr_assert_str_eq(r1.out, r8.out, "-j1 and -j8 differ");
	cr_assert_str_eq(r1.err, "");

	t = parse_csv(r1.out);
	cr_assert_eq(t.n, 1 + 5 + 40);
	cr_assert_str_eq(t.rows[0].f[0], "File");
	ci = col(&t, "Index");
	cts = col(&t, "Timestamp");
	csrc = col(&t, "Src");
	clen = col(&t, "Length");
	ccap = col(&t, "CapLen");
	ctr = col(&t, "Transport");
	cport = col(&t, "SrcPort");
	for (i = 1; i < t.n; i++) {
		bool first = i <= 5;
		size_t k = first ? i - 1 : i - 6;
		char want[64];

		cr_assert_eq(t.rows[i].n, t.rows[0].n, "row %zu: %zu fields", i, t.rows[i].n);
		cr_assert_str_eq(t.rows[i].f[0], first ? a : b, "row %zu", i);
		snprintf(want, sizeof(want), "%zu", k);
		cr_assert_str_eq(t.rows[i].f[ci], want, "row %zu", i);
		snprintf(want, sizeof(want), "%lld.%09zu",
			 (long long)(first ? 1000 : 2000) + (long long)k, k * 1000);
		cr_assert_str_eq(t.rows[i].f[cts], want, "row %zu: nanosecond timestamp", i);
		cr_assert_str_eq(t.rows[i].f[csrc], "192.0.2.1");
		cr_assert_str_eq(t.rows[i].f[ctr], k % 2 ? "TCP" : "UDP");
		snprintf(want, sizeof(want), "%zu", 10000 + k);
		cr_assert_str_eq(t.rows[i].f[cport], want);
		cr_assert_eq(strtoul(t.rows[i].f[clen], NULL, 10),
			     strtoul(t.rows[i].f[ccap], NULL, 10) + k, "row %zu: wire length", i);
	}
	free_table(&t);
	free_result(&r1);
	free_result(&r2);
	free_result(&r8);
	free(a);
	free(b);
}

Test(cli_packets, many_files_identical_for_any_jobs)
{
	char *paths[12];
	char args[4096] = "";
	struct result r1, r2, r8;
	struct table t;
	size_t i;

	for (i = 0; i < 12; i++) {
		char name[32];

		snprintf(name, sizeof(name), "f%02zu.pcap", i);
		paths[i] = write_capture(name, (i * 37) % 50 + 1, (int64_t)i * 100);
		strcat(args, " '");
		strcat(args, paths[i]);
		strcat(args, "'");
	}
	r1 = run("packets -j1%s", args);
	r2 = run("packets -j2%s", args);
	r8 = run("packets -j8%s", args);
	cr_assert_eq(r1.rc, 0);
	cr_assert_str_eq(r1.out, r2.out);
	cr_assert_str_eq(r1.out, r8.out);
	t = parse_csv(r1.out);
	for (i = 0; i < 12; i++)
		cr_assert_eq(rows_for(&t, paths[i]), (i * 37) % 50 + 1, "file %zu", i);
	free_table(&t);
	free_result(&r1);
	free_result(&r2);
	free_result(&r8);
	for (i = 0; i < 12; i++)
		free(paths[i]);
}

/* The rows of two runs without their File column. */
static void assert_same_rows_but_file(const char *x, const char *y)
{
	struct table a = parse_csv(x), b = parse_csv(y);
	size_t i, j;

	cr_assert_eq(a.n, b.n);
	for (i = 0; i < a.n; i++) {
		cr_assert_eq(a.rows[i].n, b.rows[i].n);
		for (j = 1; j < a.rows[i].n; j++)
			cr_assert_str_eq(a.rows[i].f[j], b.rows[i].f[j], "row %zu field %zu", i, j);
	}
	free_table(&a);
	free_table(&b);
}

Test(cli_packets, standard_input_and_gzip)
{
	char *a = write_capture("a.pcap", 7, 1000);
	char *gz = path_of("a-compressed");
	struct result plain, in, in2, z, zin;
	struct table t;
	char *cmd;
	size_t i;

	plain = run("packets '%s'", a);
	cr_assert_eq(plain.rc, 0);

	in = run("packets - < '%s'", a);
	cr_assert_eq(in.rc, 0, "stderr: %s", in.err);
	t = parse_csv(in.out);
	cr_assert_eq(t.n, 8);
	/* A lone "-" cannot start a formula: written as it is. */
	for (i = 1; i < t.n; i++) {
		cr_assert_str_eq(t.rows[i].f[0], "-");
		cr_assert_str_eq(sx_csv_unneutralise(t.rows[i].f[0]), "-");
	}
	free_table(&t);
	assert_same_rows_but_file(plain.out, in.out);

	/* A pipe, not a file, on standard input. */
	cr_assert_geq(asprintf(&cmd, "cat '%s' | '%s' packets -j2 -", a, SX_BINARY), 0);
	in2.rc = sx_tt_run(cmd, &in2.out, &in2.err);
	free(cmd);
	cr_assert_eq(in2.rc, 0, "stderr: %s", in2.err);
	cr_assert_str_eq(in2.out, in.out);

	cr_assert_geq(asprintf(&cmd, "gzip -c '%s' > '%s'", a, gz), 0);
	cr_assert_eq(sx_tt_run(cmd, NULL, NULL), 0);
	free(cmd);
	z = run("packets '%s'", gz);
	cr_assert_eq(z.rc, 0, "stderr: %s", z.err);
	assert_same_rows_but_file(plain.out, z.out);

	cr_assert_geq(asprintf(&cmd, "cat '%s' | '%s' packets -", gz, SX_BINARY), 0);
	zin.rc = sx_tt_run(cmd, &zin.out, &zin.err);
	free(cmd);
	cr_assert_eq(zin.rc, 0, "stderr: %s", zin.err);
	cr_assert_str_eq(zin.out, in.out);

	free_result(&plain);
	free_result(&in);
	free_result(&in2);
	free_result(&z);
	free_result(&zin);
	free(a);
	free(gz);
}

Test(cli_packets, bad_inputs_mixed_with_good)
{
	char *good = write_capture("good.pcap", 6, 1000);
	char *cut = write_capture("cut.pcap", 4, 3000);
	char *missing = path_of("missing.pcap");
	char *sub = path_of("a-directory");
	char *empty = path_of("empty.pcap");
	char *text = path_of("notes.txt");
	char *hdr = path_of("header-only.pcap");
	struct result r;
	struct table t;
	struct stat st;
	size_t i;
	struct {
		const char *path;
		const char *cause;
	} bad[] = {
	    {empty, "empty"},
	    {text, "not a pcap"},
	    {hdr, "no packets"},
	    {cut, "after 2 packets"},
	};

	cr_assert_eq(mkdir(sub, 0700), 0);
	cr_assert_eq(sx_tt_write(empty, "", 0), 0);
	cr_assert_eq(sx_tt_write(text, "just some text\n", 15), 0);
	cr_assert_eq(sx_tf_write_pcap(hdr, 1, NULL, 0), 0);
	/* Cut inside the third record of cut.pcap. */
	cr_assert_eq(stat(cut, &st), 0);
	{
		size_t n;
		char *data = sx_tt_read(cut, &n);
		size_t off = 24, k;

		for (k = 0; k < 2; k++) {
			uint32_t caplen;

			memcpy(&caplen, data + off + 8, 4);
			off += 16 + caplen;
		}
		cr_assert_eq(truncate(cut, (off_t)off + 20), 0);
		free(data);
	}

	/* A file that does not exist, or a directory, is a usage error (as in
	 * every command), found before anything is read. */
	r = run("packets -j2 '%s' '%s'", good, missing);
	cr_assert_eq(r.rc, 2, "exit %d, stderr: %s", r.rc, r.err);
	cr_assert(strstr(r.err, "No such file"), "%s", r.err);
	cr_assert_str_eq(r.out, "");
	free_result(&r);
	r = run("packets -j2 '%s' '%s'", good, sub);
	cr_assert_eq(r.rc, 2, "exit %d, stderr: %s", r.rc, r.err);
	cr_assert(strstr(r.err, "directory"), "%s", r.err);
	free_result(&r);

	r = run("packets -j2 '%s' '%s' '%s' '%s' '%s'", good, empty, text, hdr, cut);
	cr_assert_eq(r.rc, 3, "exit %d, stderr: %s", r.rc, r.err);
	/* One line per bad file, naming it and its cause; nothing else. */
	cr_assert_eq(sx_tt_lines(r.err), 4, "stderr:\n%s", r.err);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(count_lines_with(r.err, bad[i].path, bad[i].cause), 1,
			     "no line for %s with \"%s\" in:\n%s", bad[i].path, bad[i].cause,
			     r.err);
	cr_assert_eq(count_lines_with(r.err, good, NULL), 0);

	t = parse_csv(r.out);
	cr_assert_eq(t.n, 1 + 6 + 2);
	cr_assert_eq(rows_for(&t, good), 6, "all of the good file's rows");
	cr_assert_eq(rows_for(&t, cut), 2, "the packets before the damage");
	cr_assert_str_eq(t.rows[1].f[0], good);
	cr_assert_str_eq(t.rows[7].f[0], cut);
	cr_assert_str_eq(t.rows[8].f[1], "1");
	free_table(&t);
	free_result(&r);

	/* Only bad files: nothing readable, exit 1... */
	r = run("packets '%s' '%s'", empty, text);
	cr_assert_eq(r.rc, 1, "exit %d", r.rc);
	free_result(&r);
	/* ...but a valid empty capture was read: exit 3 with a warning. */
	r = run("packets '%s'", hdr);
	cr_assert_eq(r.rc, 3, "exit %d", r.rc);
	cr_assert_eq(sx_tt_lines(r.out), 1, "just the header");
	free_result(&r);
	/* -q silences the warning, not the exit code. */
	r = run("packets -q '%s' '%s'", hdr, good);
	cr_assert_eq(r.rc, 3);
	cr_assert_str_eq(r.err, "");
	free_result(&r);

	free(good), free(cut), free(missing), free(sub), free(empty), free(text), free(hdr);
}

Test(cli_packets, output_file_is_written_atomically)
{
	char *a = write_capture("a.pcap", 9, 1000);
	char *out = path_of("out.csv");
	struct result ref, r;
	char *got;
	DIR *d;
	struct dirent *e;
	struct stat st;
	size_t entries = 0;

	ref = run("packets '%s'", a);
	cr_assert_eq(ref.rc, 0);
	cr_assert_eq(sx_tt_write(out, "old content\n", 12), 0);
	r = run("packets -o '%s' '%s'", out, a);
	cr_assert_eq(r.rc, 0, "stderr: %s", r.err);
	cr_assert_str_eq(r.out, "", "nothing on stdout with -o");
	got = sx_tt_read(out, NULL);
	cr_assert_not_null(got);
	cr_assert_str_eq(got, ref.out, "the existing file is replaced by the output");
	free(got);
	cr_assert_eq(stat(out, &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	/* No temporary file left beside it. */
	d = opendir(dir);
	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		entries++;
		cr_assert_null(strstr(e->d_name, ".tmp"), "left behind: %s", e->d_name);
	}
	closedir(d);
	cr_assert_eq(entries, 2, "a.pcap and out.csv only");
	free_result(&r);

	/* A write that fails (no such directory) leaves nothing and exits 1. */
	r = run("packets -o '%s/no-such-dir/out.csv' '%s'", dir, a);
	cr_assert_eq(r.rc, 1);
	cr_assert_gt(strlen(r.err), 0);
	free_result(&r);

	free_result(&ref);
	free(a);
	free(out);
}

Test(cli_packets, output_to_dev_null)
{
	char *a = write_capture("a.pcap", 3, 1000);
	struct result r;
	struct stat st;

	r = run("packets -o /dev/null '%s'", a);
	cr_assert_eq(r.rc, 0, "stderr: %s", r.err);
	cr_assert_str_eq(r.out, "");
	cr_assert_eq(stat("/dev/null", &st), 0);
	cr_assert(S_ISCHR(st.st_mode), "/dev/null is still a character device");
	free_result(&r);
	free(a);
}

Test(cli_packets, filters)
{
	char *a = write_capture("a.pcap", 10, 1000);
	struct result r;
	struct table t;
	size_t i;
	int ctr;

	r = run("packets -f 'this is not ( a filter' '%s'", a);
	cr_assert_eq(r.rc, 2, "exit %d", r.rc);
	cr_assert_not_null(strstr(r.err, "filter"), "stderr: %s", r.err);
	cr_assert_str_eq(r.out, "");
	free_result(&r);

	r = run("packets -f udp '%s'", a);
	cr_assert_eq(r.rc, 0, "stderr: %s", r.err);
	t = parse_csv(r.out);
	cr_assert_eq(t.n, 1 + 5);
	ctr = col(&t, "Transport");
	for (i = 1; i < t.n; i++)
		cr_assert_str_eq(t.rows[i].f[ctr], "UDP", "row %zu", i);
	free_table(&t);
	free_result(&r);

	r = run("packets --filter 'tcp and src port 10001' '%s'", a);
	cr_assert_eq(r.rc, 0);
	t = parse_csv(r.out);
	cr_assert_eq(t.n, 2);
	cr_assert_str_eq(t.rows[1].f[col(&t, "SrcPort")], "10001");
	free_table(&t);
	free_result(&r);
	free(a);
}

Test(cli_packets, file_names_are_quoted_and_neutralised)
{
	char *odd = path_of("=odd, \"name\".pcap");
	char *a = write_capture("a.pcap", 2, 1000);
	struct result r;
	struct table t;
	char *cmd;

	cr_assert_geq(asprintf(&cmd, "cp '%s' '%s'", a, odd), 0);
	cr_assert_eq(sx_tt_run(cmd, NULL, NULL), 0);
	free(cmd);
	/* Run from the directory so that the name starts with '='. */
	cr_assert_geq(
	    asprintf(&cmd, "cd '%s' && '%s' packets '=odd, \"name\".pcap'", dir, SX_BINARY), 0);
	r.rc = sx_tt_run(cmd, &r.out, &r.err);
	free(cmd);
	cr_assert_eq(r.rc, 0, "stderr: %s", r.err);
	t = parse_csv(r.out);
	cr_assert_eq(t.n, 3);
	cr_assert_eq(t.rows[1].n, t.rows[0].n);
	cr_assert_str_eq(t.rows[1].f[0], "'=odd, \"name\".pcap", "quoted and neutralised");
	free_table(&t);
	free_result(&r);
	free(odd);
	free(a);
}

Test(cli_packets, names_file)
{
	static const char good_text[] = "# lab\n192.0.2.2 Server.Lab\n";
	static const char bad_text[] = "192.0.2.2 ok\nnonsense\n";
	char *a = write_capture("a.pcap", 2, 1000);
	char *good = path_of("names.txt");
	char *bad = path_of("bad-names.txt");
	struct result r;
	struct table t;
	int cs, cd;

	cr_assert_eq(sx_tt_write(good, good_text, strlen(good_text)), 0);
	cr_assert_eq(sx_tt_write(bad, bad_text, strlen(bad_text)), 0);

	r = run("packets --names '%s' '%s'", good, a);
	cr_assert_eq(r.rc, 0, "stderr: %s", r.err);
	t = parse_csv(r.out);
	cr_assert_eq(t.n, 3);
	cs = col(&t, "src_name");
	cd = col(&t, "dst_name");
	cr_assert_str_eq(t.rows[1].f[cd], "server.lab");
	cr_assert_str_eq(t.rows[1].f[cs], "");
	free_table(&t);
	free_result(&r);

	r = run("packets --names '%s' '%s'", bad, a);
	cr_assert_neq(r.rc, 0);
	cr_assert_not_null(strstr(r.err, "bad-names.txt:2:"), "stderr: %s", r.err);
	free_result(&r);
	free(a);
	free(good);
	free(bad);
}

Test(cli_packets, fifo_without_writer_does_not_hang)
{
	char *a = write_capture("a.pcap", 3, 1000);
	char *fifo = path_of("fifo");
	struct result r;
	struct table t;

	cr_assert_eq(mkfifo(fifo, 0600), 0);
	r = run("packets '%s' '%s'", fifo, a); /* the suite's timeout catches a hang */
	cr_assert_eq(r.rc, 3, "exit %d, stderr: %s", r.rc, r.err);
	cr_assert_eq(count_lines_with(r.err, fifo, NULL), 1, "stderr: %s", r.err);
	t = parse_csv(r.out);
	cr_assert_eq(rows_for(&t, a), 3);
	free_table(&t);
	free_result(&r);
	free(a);
	free(fifo);
}

/* ---- one rule for missing files, nothing written by a failed run ---- */

Test(cli_packets, missing_file_is_a_usage_error_in_every_command)
{
	/* each with the missing file first, then (where it fits) a good capture */
	static const char *const cmds[] = {"packets",		"flows",	 "mine",
					   "plug 192.168.1.50", "flows --names", "packets --names"};
	char *a = write_capture("a.pcap", 2, 1000), *missing = path_of("missing.pcap");
	struct result r;
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *args;

		cr_assert_geq(asprintf(&args, "%s '%s' '%s'", cmds[i], missing, a), 0);
		r = run_args(args);
		cr_expect_eq(r.rc, 2, "sigex %s: exit %d\n%s", args, r.rc, r.err);
		cr_expect(strstr(r.err, "is not an existing file"), "sigex %s: %s", args, r.err);
		cr_expect_str_eq(r.out, "", "sigex %s printed before failing", args);
		free_result(&r);
		free(args);
	}
	free(a);
	free(missing);
}

/* " 'fill' 'fill' ...", n paths, with the paths of put[k] at index at[k]
 * (malloc'd). */
static char *quoted_paths(size_t n, const char *fill, const size_t *at, char *const *put,
			  size_t nput)
{
	char *list = NULL;
	size_t len = 0, i, k;
	FILE *f = open_memstream(&list, &len);

	cr_assert_not_null(f);
	for (i = 0; i < n; i++) {
		const char *p = fill;

		for (k = 0; k < nput; k++)
			if (at[k] == i)
				p = put[k];
		fprintf(f, " '%s'", p);
	}
	fclose(f);
	return list;
}

/*
 * Many inputs are stat'ed by the command's threads (cli.c): the first
 * missing one in order is named whatever -j, and a directory among them is
 * refused as before; with them all present, the sizes the threads found
 * give flows the output of one thread.
 */
Test(cli_packets, the_first_missing_of_many_inputs_is_named_at_any_j)
{
	static const size_t at[] = {130, 400, 500}, dir_at[] = {200};
	char *a = write_capture("a.pcap", 2, 1000), *adir = path_of("adir");
	char *put[] = {path_of("missing-130.pcap"), path_of("missing-400.pcap"), adir};
	char *list, *args;
	struct result r, one = {0};
	size_t j;

	cr_assert_eq(mkdir(adir, 0755), 0);
	list = quoted_paths(600, a, at, put, 3);
	for (j = 1; j <= 4; j *= 2) {
		cr_assert_geq(asprintf(&args, "flows -j%zu%s", j, list), 0);
		r = run_args(args);
		cr_expect_eq(r.rc, 2, "-j%zu: exit %d\n%s", j, r.rc, r.err);
		cr_expect(strstr(r.err, "missing-130.pcap\" is not an existing file"), "-j%zu: %s",
			  j, r.err);
		cr_expect(!strstr(r.err, "missing-400"), "-j%zu: %s", j, r.err);
		free_result(&r);
		free(args);
	}
	free(list);
	list = quoted_paths(300, a, dir_at, &adir, 1);
	cr_assert_geq(asprintf(&args, "flows -j3%s", list), 0);
	r = run_args(args);
	cr_expect_eq(r.rc, 2, "exit %d\n%s", r.rc, r.err);
	cr_expect(strstr(r.err, "adir\" is not an existing file (Is a directory)"), "%s", r.err);
	free_result(&r);
	free(args);
	free(list);
	list = quoted_paths(300, a, NULL, NULL, 0);
	for (j = 1; j <= 4; j *= 2) {
		cr_assert_geq(asprintf(&args, "flows -j%zu%s", j, list), 0);
		r = run_args(args);
		cr_expect_eq(r.rc, 0, "-j%zu: exit %d\n%s", j, r.rc, r.err);
		if (j == 1)
			one = r;
		else {
			cr_expect_str_eq(r.out, one.out, "-j%zu", j);
			free_result(&r);
		}
		free(args);
	}
	free_result(&one);
	free(list);
	free(put[0]);
	free(put[1]);
	free(adir);
	free(a);
}

Test(cli_packets, failed_run_leaves_the_output_file)
{
	char *text = path_of("text.pcap"), *good = path_of("good.csv"), *now;
	static const char *const cmds[] = {"flows", "packets"};
	struct result r;
	size_t i;

	cr_assert_eq(sx_tt_write(text, "not a capture at all\n", 21), 0);
	for (i = 0; i < 2; i++) {
		cr_assert_eq(sx_tt_write(good, "earlier,output\n", 15), 0);
		r = run("%s '%s' -o '%s'", cmds[i], text, good);
		cr_expect_eq(r.rc, 1, "%s: %s", cmds[i], r.err);
		now = sx_tt_read(good, NULL);
		cr_expect_str_eq(now, "earlier,output\n", "%s replaced the file", cmds[i]);
		free(now);
		free_result(&r);
		/* nor a header on standard output */
		r = run("%s '%s'", cmds[i], text);
		cr_expect_eq(r.rc, 1);
		cr_expect_str_eq(r.out, "", "%s printed a header", cmds[i]);
		free_result(&r);
	}
	free(text);
	free(good);
}

Test(cli_packets, closed_standard_output_ends_quietly)
{
	char *a = write_capture("a.pcap", 4000, 1000), *cmd, *err, *rc;
	char *errf = path_of("err"), *rcf = path_of("rc");

	/* more than a pipe holds, so the write after head's exit must fail */
	cr_assert_geq(asprintf(&cmd,
			       "('%s' packets '%s' 2>'%s'; echo $? >'%s') | head -c 1 >/dev/null",
			       SX_BINARY, a, errf, rcf),
		      0);
	cr_assert_eq(sx_tt_run(cmd, NULL, NULL), 0);
	err = sx_tt_read(errf, NULL);
	rc = sx_tt_read(rcf, NULL);
	cr_assert_not_null(err);
	cr_assert_not_null(rc);
	cr_expect_str_eq(err, "", "not quiet");
	cr_expect_str_eq(rc, "141\n");
	free(err);
	free(rc);
	free(cmd);
	free(errf);
	free(rcf);
	free(a);
}

Test(cli_packets, version_names_the_libraries)
{
	struct result r = run("--version");

	cr_assert_eq(r.rc, 0);
	cr_expect(strstr(r.out, "\nlibpcap version "), "%s", r.out);
	cr_expect(strstr(r.out, "\nliburcu "), "%s", r.out);
	cr_expect(strstr(r.out, "\nxxHash "), "%s", r.out);
	cr_expect(strstr(r.out, "\nlibyaml "), "%s", r.out);
	free_result(&r);
}
