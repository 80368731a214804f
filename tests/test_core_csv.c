/*
 * test_core_csv.c - the RFC 4180 record scanner (core/csv.h) on hand-built
 * inputs: quotes and doubled quotes, CR LF and bare CR, LFs inside quotes,
 * empty fields and lines, the syntax errors, the limits, and the same
 * answers from a memory buffer and from a stream.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/err.h"

TestSuite(core_csv, .timeout = 30);

#define STRICT 0u
#define LOOSE  (SX_CSV_TRIM | SX_CSV_COMMENTS | SX_CSV_BARE_CR | SX_CSV_BOM)

/*
 * Scan text (n bytes) with flags and write what the scanner saw into out:
 * one line per record, "L<line>:" then each field in brackets, and at the
 * end "end" or "err <why> L<rec_line>/<line>".  from_file: read through a
 * stream instead of the buffer.
 */
static void scan(const char *text, size_t n, const struct sx_csv_cfg *cfg, bool from_file,
		 char *out, size_t outsz)
{
	struct sx_csv s;
	size_t used = 0, i;
	FILE *f = NULL;
	int ret;

	if (from_file) {
		f = fmemopen((void *)text, n ? n : 1, "r");
		cr_assert_not_null(f);
		if (!n)
			fgetc(f); /* fmemopen refuses size 0: read the one byte away */
		cr_assert_eq(sx_csv_init_file(&s, cfg, f), 0);
	} else {
		cr_assert_eq(sx_csv_init_mem(&s, cfg, text, n), 0);
	}
	out[0] = '\0';
	while ((ret = sx_csv_record(&s)) == 1) {
		used += (size_t)snprintf(out + used, outsz - used, "L%lu:", s.rec_line);
		for (i = 0; i < s.nfields && i < cfg->fields_max; i++)
			used += (size_t)snprintf(out + used, outsz - used, "[%s%s%s]",
						 s.field[i].quoted ? "q:" : "", sx_csv_text(&s, i),
						 s.field[i].truncated ? "..." : "");
		if (s.nfields > cfg->fields_max)
			used += (size_t)snprintf(out + used, outsz - used, "+%zu",
						 s.nfields - cfg->fields_max);
		used += (size_t)snprintf(out + used, outsz - used, "\n");
		cr_assert_lt(used, outsz);
	}
	if (ret == 0)
		snprintf(out + used, outsz - used, "end");
	else if (ret == SX_E_FORMAT)
		snprintf(out + used, outsz - used, "err %s L%lu/%lu", sx_csv_why_str(s.why),
			 s.rec_line, s.line);
	else
		snprintf(out + used, outsz - used, "ret %d", ret);
	sx_csv_fini(&s);
	if (f)
		fclose(f);
}

/* Both inputs give want. */
static void expect_n(const char *text, size_t n, unsigned flags, const char *want)
{
	struct sx_csv_cfg cfg = {.flags = flags, .fields_max = 8};
	char got[2048];

	scan(text, n, &cfg, false, got, sizeof(got));
	cr_expect_str_eq(got, want, "memory input [%s]", text);
	scan(text, n, &cfg, true, got, sizeof(got));
	cr_expect_str_eq(got, want, "stream input [%s]", text);
}

static void expect(const char *text, unsigned flags, const char *want)
{
	expect_n(text, strlen(text), flags, want);
}

Test(core_csv, plain_records_and_empty_fields)
{
	expect("", STRICT, "end");
	expect("a,b,c\n", STRICT, "L1:[a][b][c]\nend");
	expect("a,b,c", STRICT, "L1:[a][b][c]\nend");
	expect("a,,c\n,\n", STRICT, "L1:[a][][c]\nL2:[][]\nend");
	expect(",,\n", STRICT, "L1:[][][]\nend");
	expect("x\n\n\ny\n", STRICT, "L1:[x]\nL4:[y]\nend");
	expect(" a , b \n", STRICT, "L1:[ a ][ b ]\nend");
}

Test(core_csv, quotes_and_escaped_quotes)
{
	expect("\"a,b\",c\n", STRICT, "L1:[q:a,b][c]\nend");
	expect("\"say \"\"hi\"\"\"\n", STRICT, "L1:[q:say \"hi\"]\nend");
	expect("\"\"\n", STRICT, "L1:[q:]\nend");
	expect("\"\"\"\"\n", STRICT, "L1:[q:\"]\nend");
	expect("a,\"\"\n", STRICT, "L1:[a][q:]\nend");
}

Test(core_csv, crlf_and_bare_cr)
{
	expect("a,b\r\nc\r\n", STRICT, "L1:[a][b]\nL2:[c]\nend");
	expect("a\r\n\r\nb\r", STRICT, "L1:[a]\nL3:[b]\nend");
	expect("\r", STRICT, "end");
	/* strict: a CR must be followed by LF (or end the input) */
	expect("a\rb\n", STRICT, "err bare CR L1/1");
	expect("\r\rx\n", STRICT, "err bare CR L1/1");
	/* loose: a bare CR ends the record; a line starting with CR is empty */
	expect("a\rb\n", LOOSE, "L1:[a]\nL1:[b]\nend");
	expect("\rskipped\nc\n", LOOSE, "L2:[c]\nend");
	/* a CR inside quotes is data */
	expect("\"a\rb\"\n", STRICT, "L1:[q:a\rb]\nend");
}

Test(core_csv, newlines_inside_quotes_count_lines)
{
	expect("\"multi\nline\",x\nnext\n", STRICT, "L1:[q:multi\nline][x]\nL3:[next]\nend");
	expect("\"a\r\nb\"\r\n\"c\"\r\n", STRICT, "L1:[q:a\r\nb]\nL3:[q:c]\nend");
}

Test(core_csv, syntax_errors)
{
	expect("\"open\n", STRICT, "err unterminated quoted field L1/2");
	expect("a\n\"open", STRICT, "L1:[a]\nerr unterminated quoted field L2/2");
	expect("\"a\"b\n", STRICT, "err text after a closing quote L1/1");
	expect("\"a\" ,b\n", STRICT, "err text after a closing quote L1/1");
	expect("a\"b\n", STRICT, "err quote inside an unquoted field L1/1");
	expect("\"x\ny\"z\n", STRICT, "err text after a closing quote L1/2");
}

Test(core_csv, trim_comments_and_bom)
{
	expect(" a , \"b\" ,\tc\t\n", LOOSE, "L1:[a][q:b][c]\nend");
	expect("\" a \"\n", LOOSE, "L1:[q: a ]\nend");
	expect("# comment, \"unbalanced\n  # indented\n \t \nx\n", LOOSE, "L4:[x]\nend");
	expect("#not a comment\n", STRICT, "L1:[#not a comment]\nend");
	{
		/* the byte order mark: memory input only (csv.h) */
		struct sx_csv_cfg cfg = {.flags = LOOSE, .fields_max = 8};
		char got[64];

		scan("\xef\xbb\xbf"
		     "a\n",
		     5, &cfg, false, got, sizeof(got));
		cr_expect_str_eq(got, "L1:[a]\nend");
	}
	expect("   ", LOOSE, "end");
}

Test(core_csv, nul_bytes)
{
	static const char nul[] = "a\0b,c\n";
	struct sx_csv_cfg cfg = {.flags = STRICT, .fields_max = 4};
	struct sx_csv s;

	expect_n(nul, sizeof(nul) - 1, SX_CSV_NO_NUL, "err NUL byte L1/1");
	expect_n("\"\0\"\n", 4, SX_CSV_NO_NUL, "err NUL byte L1/1");
	/* without the flag a NUL is data, counted in len */
	cr_assert_eq(sx_csv_init_mem(&s, &cfg, nul, sizeof(nul) - 1), 0);
	cr_assert_eq(sx_csv_record(&s), 1);
	cr_assert_eq(s.nfields, 2);
	cr_assert_eq(s.field[0].len, 3);
	cr_assert_eq(memcmp(sx_csv_text(&s, 0), "a\0b", 4), 0);
	sx_csv_fini(&s);
}

Test(core_csv, limits)
{
	struct sx_csv_cfg cfg = {.fields_max = 2};
	char got[512];

	/* more fields than kept: an error, or counted and dropped */
	scan("a,b,c\n", 6, &cfg, false, got, sizeof(got));
	cr_expect_str_eq(got, "err too many fields L1/1");
	cfg.flags = SX_CSV_EXTRA_FIELDS;
	scan("a,b,c,d\ne\n", 10, &cfg, false, got, sizeof(got));
	cr_expect_str_eq(got, "L1:[a][b]+2\nL2:[e]\nend");
	/* a dropped field still has its syntax checked */
	scan("a,b,c\"\n", 7, &cfg, false, got, sizeof(got));
	cr_expect_str_eq(got, "err quote inside an unquoted field L1/1");
	/* field_max keeps the first bytes and goes on */
	cfg.field_max = 3;
	scan("abcdef,\"ghijk\",xy\n", 18, &cfg, true, got, sizeof(got));
	cr_expect_str_eq(got, "L1:[abc...][q:ghi...]+1\nend");
	/* record_max counts the fields' bytes and the NULs between them */
	cfg = (struct sx_csv_cfg){.fields_max = 4, .record_max = 6};
	scan("ab,cde\n", 7, &cfg, false, got, sizeof(got));
	cr_expect_str_eq(got, "L1:[ab][cde]\nend");
	scan("ab,cdef\n", 8, &cfg, true, got, sizeof(got));
	cr_expect_str_eq(got, "err record too long L1/1");
}

Test(core_csv, field_by_field)
{
	static const char text[] = "ts,label\n1,\"x\ny\"\n2\n";
	struct sx_csv_cfg cfg = {.fields_max = 2};
	struct sx_csv s;

	cr_assert_eq(sx_csv_init_mem(&s, &cfg, text, sizeof(text) - 1), 0);
	/* a header dropped after its first field, the rest of its line skipped */
	cr_assert_eq(sx_csv_begin(&s), 1);
	cr_assert_eq(sx_csv_field(&s), 1);
	cr_assert_str_eq(sx_csv_text(&s, 0), "ts");
	sx_csv_skip_line(&s);
	cr_assert_eq(sx_csv_begin(&s), 1);
	cr_assert_eq(s.rec_line, 2);
	cr_assert_eq(sx_csv_field(&s), 1);
	cr_assert_eq(sx_csv_field(&s), 0);
	cr_assert_str_eq(sx_csv_text(&s, 1), "x\ny");
	cr_assert_eq(sx_csv_begin(&s), 1);
	cr_assert_eq(s.rec_line, 4);
	cr_assert_eq(sx_csv_field(&s), 0);
	cr_assert_str_eq(sx_csv_text(&s, 0), "2");
	cr_assert_str_eq(sx_csv_text(&s, 1), "", "a field the record does not have");
	cr_assert_eq(sx_csv_begin(&s), 0);
	sx_csv_fini(&s);
}

Test(core_csv, stream_stops_after_the_record)
{
	static const char text[] = "a,b\r\nrest";
	struct sx_csv_cfg cfg = {.fields_max = 4};
	struct sx_csv s;
	char tail[8] = "";
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");

	cr_assert_not_null(f);
	cr_assert_eq(sx_csv_init_file(&s, &cfg, f), 0);
	cr_assert_eq(sx_csv_record(&s), 1);
	cr_assert_eq(s.nfields, 2);
	cr_assert_not_null(fgets(tail, sizeof(tail), f));
	cr_assert_str_eq(tail, "rest", "nothing read past the record");
	sx_csv_fini(&s);
	fclose(f);
}

Test(core_csv, random_bytes_agree_across_inputs)
{
	static const char alphabet[] = "ab,\"\r\n \t#\0";
	static const unsigned flags[] = {STRICT, LOOSE, SX_CSV_NO_NUL | SX_CSV_EXTRA_FIELDS,
					 SX_CSV_TRIM | SX_CSV_BARE_CR};
	unsigned seed = 4180;
	char buf[128], a[4096], b[4096];
	int i;

	for (i = 0; i < 4000; i++) {
		struct sx_csv_cfg cfg = {.flags = flags[i % 4],
					 .fields_max = 1 + (size_t)(i % 5),
					 .field_max = (size_t)(i % 7),
					 .record_max = (size_t)(i % 3) * 16};
		size_t n = (size_t)rand_r(&seed) % sizeof(buf), k;

		for (k = 0; k < n; k++)
			buf[k] = alphabet[(unsigned)rand_r(&seed) % (sizeof(alphabet) - 1)];
		scan(buf, n, &cfg, false, a, sizeof(a));
		scan(buf, n, &cfg, true, b, sizeof(b));
		cr_assert_str_eq(a, b, "round %d", i);
	}
}
