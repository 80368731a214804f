/*
 * test_e2e_upstream.c - `--mode upstream` end to end: the reference tool's
 * worked example (UPSTREAM.md §4.6) on the three TP-Link toggle captures,
 * through the library and through the sigex binary, byte-compared with
 * tests/golden/upstream/ (built from §4.6 and checked against tshark: 29,
 * 31 and 29 accepted packets, the stream sums of §4.6).  profile.yaml's
 * last-update is the only line allowed to differ.  Also: PyYAML's quoting,
 * an occurrence with no accepted packet, gzip input.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/buf.h"
#include "emit/emit.h"
#include "yaml/ydoc.h"
#include "upstream/upstream.h"
#include "support/frames.h"
#include "support/tmp.h"

#define SE_REPO	    "/smart-home-network-security+signature-extraction"
#define TRACES	    SX_SHARED_CORPORA SE_REPO "/test/traces"
#define GOLDEN	    SX_SOURCE_DIR "/tests/golden/upstream"
#define LAST_UPDATE "Thu 28 Nov 2024, 07:40AM"

static const char *const captures[] = {
    TRACES "/1724059939.pcap",
    TRACES "/1724060053.pcap",
    TRACES "/1724060140.pcap",
};

static const char *const csvs[] = {"1724059939.csv", "1724060053.csv", "1724060140.csv"};

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

TestSuite(e2e_upstream, .init = setup, .fini = teardown, .timeout = 120);

static void need_corpora(void)
{
	if (!sx_tt_have_shared())
		sx_tt_skip_missing("shared corpora not present");
}

static char *golden(const char *name)
{
	char path[1024];
	char *s;

	snprintf(path, sizeof(path), "%s/%s", GOLDEN, name);
	s = sx_tt_read(path, NULL);
	cr_assert_not_null(s, "missing golden file %s", path);
	return s;
}

static void expect_buf(struct sx_buf *b, const char *golden_name)
{
	char *g = golden(golden_name);

	sx_buf_putc(b, '\0');
	cr_assert_eq(b->err, 0);
	cr_expect_str_eq(b->data, g, "%s differs", golden_name);
	free(g);
	sx_buf_reset(b);
}

/* The text with the value of "  last-update: " replaced by LAST_UPDATE. */
static char *mask_last_update(const char *s)
{
	const char *k = strstr(s, "  last-update: ");
	const char *eol;
	char *out;
	size_t n;

	cr_assert_not_null(k);
	k += strlen("  last-update: ");
	eol = strchr(k, '\n');
	cr_assert_not_null(eol);
	n = strlen(s) + sizeof(LAST_UPDATE);
	out = malloc(n);
	cr_assert_not_null(out);
	snprintf(out, n, "%.*s%s%s", (int)(k - s), s, LAST_UPDATE, eol);
	return out;
}

/* The run's output name (in dir) is the golden file of that name
 * (profile.yaml: with its last-update masked unless pinned). */
static void expect_file(const char *name, bool pinned)
{
	char path[1024], *f, *g, *m;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = sx_tt_read(path, NULL);
	cr_assert_not_null(f, "%s not written", path);
	m = strcmp(name, "profile.yaml") || pinned ? f : mask_last_update(f);
	g = golden(name);
	cr_expect_str_eq(m, g, "%s differs", name);
	if (m != f)
		free(m);
	free(f);
	free(g);
}

static struct sx_upstream_result *run(const char *const *paths, size_t n)
{
	struct sx_upstream_cfg cfg = {.paths = paths, .npaths = n, .ipv4 = "192.168.1.135"};
	struct sx_upstream_result *r = NULL;
	char msg[512];
	int ret = sx_upstream_run(&cfg, &r, msg, sizeof(msg));

	cr_assert_eq(ret, 0, "sx_upstream_run: %s", msg);
	return r;
}

static char *profile_text(const struct sx_upstream_result *r, const char *device)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	char msg[256];

	cr_assert_not_null(f);
	cr_assert_eq(sx_upstream_profile(r, device, LAST_UPDATE, f, msg, sizeof(msg)), 0, "%s",
		     msg);
	fclose(f);
	return buf;
}

Test(e2e_upstream, worked_example_through_the_library)
{
	struct sx_upstream_result *r;
	struct sx_buf b;
	char *g, *p;
	size_t i;

	need_corpora();
	r = run(captures, 3);
	cr_assert_eq(r->ntables, 3);
	cr_expect_eq(r->tables[0].accepted, 29);
	cr_expect_eq(r->tables[1].accepted, 31);
	cr_expect_eq(r->tables[2].accepted, 29);
	sx_buf_init(&b);
	for (i = 0; i < 3; i++) {
		cr_expect_str_eq(r->tables[i].csv_name, csvs[i]);
		sx_upstream_csv(&r->tables[i], &b);
		expect_buf(&b, csvs[i]);
	}
	sx_upstream_patterns_text(r, &b);
	expect_buf(&b, "pattern.txt");
	sx_upstream_report(r, &b);
	expect_buf(&b, "stdout.txt");
	sx_buf_fini(&b);
	p = profile_text(r, "tplink-plug");
	g = golden("profile.yaml");
	cr_expect_str_eq(p, g);
	free(g);
	free(p);
	sx_upstream_result_free(r);
}

Test(e2e_upstream, worked_example_through_the_binary)
{
	char cmd[4096], *out = NULL, *err = NULL, *g;
	size_t i;
	int rc;

	need_corpora();
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && '%s' tplink-plug 192.168.1.135 '%s' '%s' '%s' -o '%s' "
		 "--mode upstream",
		 dir, SX_BINARY, captures[0], captures[1], captures[2], dir);
	rc = sx_tt_run(cmd, &out, &err);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	g = golden("stdout.txt");
	cr_expect_str_eq(out, g);
	free(g);
	for (i = 0; i < 3; i++)
		expect_file(csvs[i], false);
	expect_file("pattern.txt", false);
	expect_file("profile.yaml", false);
	free(out);
	free(err);
}

/* SOURCE_DATE_EPOCH pins last-update, in UTC whatever the time zone: the
 * whole profile is then the golden one, unmasked. */
Test(e2e_upstream, source_date_epoch_pins_last_update)
{
	char cmd[4096], path[1024], *out = NULL, *err = NULL;
	int rc;

	need_corpora();
	snprintf(cmd, sizeof(cmd),
		 "SOURCE_DATE_EPOCH=1732779600 TZ=Asia/Tokyo '%s' tplink-plug 192.168.1.135 '%s' "
		 "'%s' '%s' -o '%s' --mode upstream",
		 SX_BINARY, captures[0], captures[1], captures[2], dir);
	rc = sx_tt_run(cmd, &out, &err);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	expect_file("profile.yaml", true);
	free(out);
	free(err);
	snprintf(cmd, sizeof(cmd),
		 "SOURCE_DATE_EPOCH=soon '%s' tplink-plug 192.168.1.135 '%s' -o '%s/never' "
		 "--mode upstream",
		 SX_BINARY, captures[0], dir);
	rc = sx_tt_run(cmd, &out, &err);
	cr_expect_eq(rc, 2);
	cr_expect_not_null(strstr(err, "SOURCE_DATE_EPOCH"), "%s", err);
	snprintf(path, sizeof(path), "%s/never", dir);
	cr_expect_neq(access(path, F_OK), 0, "the output folder was made before the usage error");
	free(out);
	free(err);
}

Test(e2e_upstream, usage_errors_through_the_binary)
{
	char cmd[4096], *out = NULL, *err = NULL;
	int rc;

	need_corpora();
	snprintf(cmd, sizeof(cmd), "'%s' d 192.168.1.135 '%s/nope.pcap' -o '%s' --mode upstream",
		 SX_BINARY, dir, dir);
	rc = sx_tt_run(cmd, &out, &err);
	cr_expect_eq(rc, 2);
	cr_expect_not_null(strstr(err, "is not an existing file"), "%s", err);
	free(out);
	free(err);
	/* -o names a file: not a directory (a missing one is created) */
	snprintf(cmd, sizeof(cmd), "'%s' d 192.168.1.135 '%s' -o '%s' --mode upstream", SX_BINARY,
		 captures[0], captures[0]);
	rc = sx_tt_run(cmd, &out, &err);
	cr_expect_eq(rc, 2);
	cr_expect_not_null(strstr(err, "is not a directory"), "%s", err);
	free(out);
	free(err);
	snprintf(cmd, sizeof(cmd), "'%s' d 192.168.1.300 '%s' --mode upstream", SX_BINARY,
		 captures[0]);
	rc = sx_tt_run(cmd, &out, &err);
	cr_expect_eq(rc, 2);
	free(out);
	free(err);
}

Test(e2e_upstream, pyyaml_resolver_decides_quoting)
{
	cr_expect(sx_yw_plain_is_str("tplink-plug"));
	cr_expect(sx_yw_plain_is_str("192.168.1.135"));
	cr_expect(sx_yw_plain_is_str("use1-api.tplinkra.com"));
	cr_expect(sx_yw_plain_is_str("Thu 28 Nov 2024, 07:40AM"));
	cr_expect(sx_yw_plain_is_str("1.2.3"));
	cr_expect_not(sx_yw_plain_is_str("123"));
	cr_expect_not(sx_yw_plain_is_str("0x1f"));
	cr_expect_not(sx_yw_plain_is_str("1_000"));
	cr_expect_not(sx_yw_plain_is_str("1.5"));
	cr_expect_not(sx_yw_plain_is_str(".inf"));
	cr_expect_not(sx_yw_plain_is_str("1:30"));
	cr_expect_not(sx_yw_plain_is_str("yes"));
	cr_expect_not(sx_yw_plain_is_str("Off"));
	cr_expect_not(sx_yw_plain_is_str("null"));
	cr_expect_not(sx_yw_plain_is_str("~"));
	cr_expect_not(sx_yw_plain_is_str(""));
	cr_expect_not(sx_yw_plain_is_str("2024-11-28"));
	cr_expect_not(sx_yw_plain_is_str("<<"));
	cr_expect_not(sx_yw_plain_is_str("="));
	cr_expect_not(sx_yw_plain_is_str("123\n"));
	/* the patterns run only on a text whose first character one of them
	 * can start with, as PyYAML keys its resolvers */
	cr_expect_not(sx_yw_plain_is_str("!"));
	cr_expect_not(sx_yw_plain_is_str("*"));
	cr_expect_not(sx_yw_plain_is_str("+.inf"));
	cr_expect(sx_yw_plain_is_str("+.5"));
	cr_expect_not(sx_yw_plain_is_str("NULL"));
	cr_expect(sx_yw_plain_is_str("a123"));
	cr_expect(sx_yw_plain_is_str(" 123"));
	cr_expect(sx_yw_plain_is_str("_1"));
	cr_expect(sx_yw_plain_is_str("@yes"));
}

Test(e2e_upstream, device_names_are_quoted_as_pyyaml_does)
{
	struct sx_upstream_result r = {.ipv4 = (char *)"10.0.0.2"};
	char *p;

	p = profile_text(&r, "123");
	cr_expect_str_eq(p, "device-info:\n  ipv4: 10.0.0.2\n  last-update: " LAST_UPDATE "\n"
			    "  name: '123'\nsingle-policies: {}\n");
	free(p);
	p = profile_text(&r, "it's: a plug");
	cr_expect_str_eq(p, "device-info:\n  ipv4: 10.0.0.2\n  last-update: " LAST_UPDATE "\n"
			    "  name: 'it''s: a plug'\nsingle-policies: {}\n");
	free(p);
}

Test(e2e_upstream, occurrence_without_accepted_packet_is_an_empty_table)
{
	uint8_t frame[128];
	struct sx_tf_rec rec = {0};
	struct sx_upstream_result *r;
	const char *paths[1];
	char *path = sx_tt_path(dir, "1700000000.pcap");
	struct sx_buf b;
	size_t n;

	/* one SYN only */
	n = sx_tf_tcp(frame, sizeof(frame), "10.0.0.1", 40000, "10.0.0.2", 80, 0x02, NULL, 0);
	memset(frame + n, 0, 60 - n);
	rec.data = frame;
	rec.caplen = 60;
	rec.sec = 1700000001;
	cr_assert_eq(sx_tf_write_pcap(path, 1, &rec, 1), 0);
	paths[0] = path;
	r = run(paths, 1);
	cr_expect_eq(r->tables[0].nrows, 0);
	cr_expect_str_eq(r->tables[0].csv_name, "1700000000.csv");
	cr_expect_eq(r->npatterns, 0);
	sx_buf_init(&b);
	sx_upstream_report(r, &b);
	sx_buf_putc(&b, '\0');
	cr_expect_str_eq(b.data, "Flows extracted\n0 pattern(s) found\nPatterns found!\n"
				 "Policies generated\n");
	sx_buf_fini(&b);
	sx_upstream_result_free(r);
	free(path);
}

Test(e2e_upstream, gzip_capture_reads_like_the_plain_one)
{
	struct sx_upstream_result *r;
	const char *paths[1];
	char *gzpath = sx_tt_path(dir, "1724059939.pcap.gz");
	char *data;
	size_t len;
	struct sx_buf b;
	gzFile gz;

	need_corpora();
	data = sx_tt_read(captures[0], &len);
	cr_assert_not_null(data);
	gz = gzopen(gzpath, "wb");
	cr_assert_not_null(gz);
	cr_assert_eq(gzwrite(gz, data, (unsigned)len), (int)len);
	gzclose(gz);
	free(data);
	paths[0] = gzpath;
	r = run(paths, 1);
	cr_expect_str_eq(r->tables[0].csv_name, "1724059939.csv");
	sx_buf_init(&b);
	sx_upstream_csv(&r->tables[0], &b);
	expect_buf(&b, "1724059939.csv");
	sx_buf_fini(&b);
	sx_upstream_result_free(r);
	free(gzpath);
}
