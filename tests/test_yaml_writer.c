/*
 * test_yaml_writer.c - the yaml module's one writer: its two layouts (sigex's
 * files never fold a line; PyYAML's yaml.dump() folds plain scalars at 80
 * columns), the implicit flags and styles its callers choose, the latched
 * error, and a tree written back as it was read.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "yaml/ydoc.h"

/* Everything written between open and close, NUL-terminated; *ret the close's. */
struct doc {
	char *text;
	size_t len;
	FILE *f;
	struct sx_yw w;
};

static void doc_open(struct doc *d, enum sx_yw_layout layout)
{
	d->text = NULL;
	d->f = open_memstream(&d->text, &d->len);
	cr_assert_not_null(d->f);
	cr_assert_eq(sx_yw_open(&d->w, d->f, layout), 0);
}

static int doc_close(struct doc *d)
{
	int ret = sx_yw_close(&d->w);

	fclose(d->f);
	return ret;
}

#define LONG_TEXT                                                                                  \
	"a plain text of many words that is much longer than the eighty columns of PyYAML's "      \
	"best width"

Test(yaml_writer, sigex_layout_never_folds)
{
	struct doc d;

	doc_open(&d, SX_YW_SIGEX);
	sx_yw_map_begin(&d.w);
	sx_yw_kv_str(&d.w, "k", LONG_TEXT);
	sx_yw_map_end(&d.w);
	cr_assert_eq(doc_close(&d), 0);
	cr_expect_str_eq(d.text, "k: " LONG_TEXT "\n");
	free(d.text);
}

Test(yaml_writer, pyyaml_layout_folds_at_80_columns)
{
	struct doc d;

	doc_open(&d, SX_YW_PYYAML);
	sx_yw_map_begin_style(&d.w, SX_YSTYLE_ANY);
	sx_yw_py_str(&d.w, "k");
	sx_yw_py_str(&d.w, LONG_TEXT);
	sx_yw_map_end(&d.w);
	cr_assert_eq(doc_close(&d), 0);
	cr_expect_str_eq(d.text, "k: a plain text of many words that is much longer than the "
				 "eighty columns of PyYAML's\n  best width\n");
	free(d.text);
}

Test(yaml_writer, implicit_flags_and_styles)
{
	struct doc d;

	doc_open(&d, SX_YW_SIGEX);
	sx_yw_seq_begin(&d.w);
	sx_yw_py_str(&d.w, "123");    /* PyYAML would read an int: quoted */
	sx_yw_py_str(&d.w, "plug-1"); /* a str: plain */
	sx_yw_str(&d.w, "true");      /* typed-looking: single quotes */
	sx_yw_quoted(&d.w, "x");      /* always double quotes */
	sx_yw_u64(&d.w, 42);	      /* plain */
	sx_yw_scalar(&d.w, "", 0, SX_YSTYLE_PLAIN, SX_YW_PLAIN_IMPLICIT); /* null, as nothing */
	sx_yw_seq_begin_flow(&d.w);
	sx_yw_str(&d.w, "a");
	sx_yw_seq_end(&d.w);
	sx_yw_seq_end(&d.w);
	cr_assert_eq(doc_close(&d), 0);
	cr_expect_str_eq(d.text, "- '123'\n- plug-1\n- 'true'\n- \"x\"\n- 42\n-\n- [a]\n");
	free(d.text);
}

/* The words YAML 1.1 reads as booleans or null, in any case, are quoted;
 * longer strings that begin like them are not. */
Test(yaml_writer, typed_words_in_any_case_are_quoted)
{
	static const char *const in[] = {"Off", "NULL",	 "~",	   "Y",	    "",		"n",
					 "YES", "False", "offset", "nulls", "true-ish", "t"};
	struct doc d;
	size_t i;

	doc_open(&d, SX_YW_SIGEX);
	sx_yw_seq_begin_flow(&d.w);
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		sx_yw_str(&d.w, in[i]);
	sx_yw_seq_end(&d.w);
	cr_assert_eq(doc_close(&d), 0);
	cr_expect_str_eq(
	    d.text, "['Off', 'NULL', '~', 'Y', '', 'n', 'YES', 'False', offset, nulls, true-ish, "
		    "t]\n");
	free(d.text);
}

/* Integers as printf writes them, at both ends of their ranges. */
Test(yaml_writer, integers_in_decimal)
{
	struct doc d;

	doc_open(&d, SX_YW_SIGEX);
	sx_yw_seq_begin_flow(&d.w);
	sx_yw_u64(&d.w, 0);
	sx_yw_u64(&d.w, 9);
	sx_yw_u64(&d.w, 10);
	sx_yw_u64(&d.w, UINT64_MAX);
	sx_yw_i64(&d.w, 0);
	sx_yw_i64(&d.w, -1);
	sx_yw_i64(&d.w, INT64_MAX);
	sx_yw_i64(&d.w, INT64_MIN);
	sx_yw_seq_end(&d.w);
	cr_assert_eq(doc_close(&d), 0);
	cr_expect_str_eq(d.text, "[0, 9, 10, 18446744073709551615, 0, -1, 9223372036854775807, "
				 "-9223372036854775808]\n");
	free(d.text);
}

Test(yaml_writer, the_first_error_latches)
{
	struct doc d;

	doc_open(&d, SX_YW_SIGEX);
	sx_yw_seq_begin(&d.w);
	sx_yw_str(&d.w, "fine");
	sx_yw_str(&d.w, "bad \xff byte");
	cr_expect_eq(d.w.err, SX_E_YAML);
	cr_expect_not_null(strstr(d.w.problem, "not UTF-8"), "%s", d.w.problem);
	sx_yw_str(&d.w, "ignored"); /* a no-op now */
	sx_yw_seq_end(&d.w);
	cr_expect_eq(doc_close(&d), SX_E_YAML);
	cr_expect_not_null(strstr(d.w.problem, "not UTF-8"), "%s", d.w.problem);
	free(d.text);
}

Test(yaml_writer, utf8_as_libyaml_takes_it)
{
	cr_expect(sx_yw_is_utf8("plain ascii", 11));
	cr_expect(sx_yw_is_utf8("caf\xc3\xa9 \xf0\x9f\x98\x80", 10));
	cr_expect(sx_yw_is_utf8("", 0));
	cr_expect_not(sx_yw_is_utf8("bad \xff byte", 10));
	cr_expect_not(sx_yw_is_utf8("\xc0\xaf", 2));	 /* overlong '/' */
	cr_expect_not(sx_yw_is_utf8("\xed\xa0\x80", 3)); /* a surrogate */
	cr_expect_not(sx_yw_is_utf8("\xc3", 1));	 /* cut short */
}

Test(yaml_writer, a_write_error_is_eio)
{
	FILE *f = fopen("/dev/full", "w");
	struct sx_yw w;
	int i;

	if (!f)
		cr_skip_test("no /dev/full");
	setvbuf(f, NULL, _IONBF, 0);
	cr_assert_eq(sx_yw_open(&w, f, SX_YW_SIGEX), 0);
	sx_yw_seq_begin(&w);
	for (i = 0; i < 1000; i++)
		sx_yw_str(&w, LONG_TEXT);
	sx_yw_seq_end(&w);
	cr_expect_eq(sx_yw_close(&w), -EIO);
	fclose(f);
}

Test(yaml_writer, a_tree_is_written_back_as_read)
{
	static const char text[] = "a: 1\nb: 'quoted'\nc: {}\nd:\n- x\n- \"y\"\ne: [p, q]\n";
	struct sx_ytree *t = NULL;
	struct doc d;
	char msg[128];

	cr_assert_eq(sx_ytree_parse(text, strlen(text), NULL, &t, msg, sizeof(msg)), 0, "%s", msg);
	d.text = NULL;
	d.f = open_memstream(&d.text, &d.len);
	cr_assert_not_null(d.f);
	cr_assert_eq(sx_ytree_emit(d.f, t, msg, sizeof(msg)), 0, "%s", msg);
	fclose(d.f);
	cr_expect_str_eq(d.text, text);
	free(d.text);
	sx_ytree_free(t);
}
