/*
 * test_yaml_writer.c - the yaml module's one writer: its two layouts (sigex's
 * files never fold a line; PyYAML's yaml.dump() folds plain scalars at 80
 * columns), the implicit flags and styles its callers choose, the latched
 * error, a tree written back as it was read, and its bytes held to
 * libyaml's emitter on every kind of scalar in every place and on random
 * documents (support/yamlref.c).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "support/yamlref.h"
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

Test(yaml_writer, utf8_as_the_writer_takes_it)
{
	cr_expect(sx_yw_is_utf8("plain ascii", 11));
	cr_expect(sx_yw_is_utf8("caf\xc3\xa9 \xf0\x9f\x98\x80", 10));
	cr_expect(sx_yw_is_utf8("", 0));
	cr_expect_not(sx_yw_is_utf8("bad \xff byte", 10));
	cr_expect_not(sx_yw_is_utf8("\xc0\xaf", 2));	 /* overlong '/' */
	cr_expect_not(sx_yw_is_utf8("\xed\xa0\x80", 3)); /* a surrogate */
	cr_expect_not(sx_yw_is_utf8("\xc3", 1));	 /* cut short */
}

/* What libyaml's emitter would write as "\uD800" or "\U00110000", escapes
 * its own parser refuses, is refused as not UTF-8. */
Test(yaml_writer, no_escape_that_a_reader_refuses)
{
	static const char *const texts[] = {"\xed\xa0\x80", "\xf4\x90\x80\x80"};
	struct doc d;
	size_t i;

	for (i = 0; i < 2; i++) {
		doc_open(&d, SX_YW_SIGEX);
		sx_yw_seq_begin(&d.w);
		sx_yw_scalar(&d.w, texts[i], strlen(texts[i]), SX_YSTYLE_DOUBLE_QUOTED,
			     SX_YW_QUOTED_IMPLICIT);
		sx_yw_seq_end(&d.w);
		cr_expect_eq(doc_close(&d), SX_E_YAML);
		cr_expect_not_null(strstr(d.w.problem, "not UTF-8"), "%s", d.w.problem);
		free(d.text);
	}
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

/* ---- the same bytes as libyaml's emitter ----
 *
 * The writer is sigex's own code held to libyaml's output: every document
 * below is written through both, in both layouts, and must come out byte
 * for byte the same (or fail in both).  The scalars are made of the pieces
 * that steer libyaml's choices: indicators at the start, inside and at the
 * end, spaces and breaks next to each other, escapes, non-ASCII text and
 * Unicode breaks, texts past 80 columns and past a simple key's 128 bytes.
 */

struct rdoc {
	struct sx_yref_ev ev[400];
	size_t n;
};

static const struct {
	const char *s;
	size_t len;
} pieces[] = {
#define P(lit)                                                                                     \
	{                                                                                          \
		lit, sizeof(lit) - 1                                                               \
	}
    P("a"),
    P("Z"),
    P("0"),
    P("7"),
    P(" "),
    P("  "),
    P("\t"),
    P("\n"),
    P("\n\n"),
    P("\r"),
    P(":"),
    P(": "),
    P("#"),
    P(" #"),
    P("-"),
    P("- "),
    P("---"),
    P("..."),
    P("?"),
    P("? "),
    P(","),
    P("["),
    P("]"),
    P("{"),
    P("}"),
    P("'"),
    P("\""),
    P("\\"),
    P("!"),
    P("&"),
    P("*"),
    P("|"),
    P(">"),
    P("%"),
    P("@"),
    P("`"),
    P("."),
    P("~"),
    P("/"),
    P("="),
    P("\xc3\xa9"),
    P("\xc2\x85"),
    P("\xe2\x80\xa8"),
    P("\xe2\x80\xa9"),
    P("\xef\xbb\xbf"),
    P("\xc2\xa0"),
    P("\xf0\x9f\x98\x80"),
    P("\x7f"),
    P("\x01"),
    P("\x1b"),
    P("\0"),
    P("true"),
    P("null"),
    P("word "),
    P("0.0.0.0"),
    P("abcdefghijklmnopqrstuvwxyz0123456789"),
#undef P
};

#define NPIECES (sizeof(pieces) / sizeof(pieces[0]))

static unsigned rnd(unsigned *seed, unsigned n)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 8) % n;
}

/* A text of k pieces (a long run of words now and then, to fold). */
static void rtext(struct sx_yref_ev *e, unsigned *seed, unsigned k)
{
	e->len = 0;
	if (rnd(seed, 8) == 0)
		k = 20 + rnd(seed, 60);
	while (k--) {
		unsigned p = rnd(seed, 4) == 0 ? (unsigned)NPIECES - 4 + rnd(seed, 4)
					       : rnd(seed, (unsigned)NPIECES);

		if (e->len + pieces[p].len > sizeof(e->text))
			break;
		memcpy(e->text + e->len, pieces[p].s, pieces[p].len);
		e->len += pieces[p].len;
	}
}

static struct sx_yref_ev *radd(struct rdoc *d, enum sx_yref_type type, int style)
{
	struct sx_yref_ev *e = &d->ev[d->n++];

	e->type = type;
	e->style = style;
	e->implicit = SX_YW_PLAIN_IMPLICIT | SX_YW_QUOTED_IMPLICIT;
	e->len = 0;
	return e;
}

static void rscalar(struct rdoc *d, unsigned *seed)
{
	/* mostly both flags; sometimes one, rarely none (an error) */
	static const unsigned implicits[] = {3, 3, 3, 3, 1, 2, 2, 0};
	struct sx_yref_ev *e = radd(d, SX_YREF_SCALAR, (int)rnd(seed, 6));

	e->implicit = implicits[rnd(seed, 8)];
	rtext(e, seed, rnd(seed, 6));
}

/* A node of at most depth levels, within the event budget. */
static void rnode(struct rdoc *d, unsigned *seed, unsigned depth)
{
	unsigned kind = depth && d->n < 300 ? rnd(seed, 4) : 0, i, k;
	int style = (int)rnd(seed, 3); /* any, block, flow */

	if (kind <= 1) {
		rscalar(d, seed);
		return;
	}
	k = rnd(seed, 5);
	radd(d, kind == 2 ? SX_YREF_SEQ : SX_YREF_MAP, style);
	for (i = 0; i < k && d->n < 300; i++) {
		if (kind == 3) {
			/* keys: scalars, now and then a collection */
			if (rnd(seed, 10) == 0)
				rnode(d, seed, depth - 1);
			else
				rscalar(d, seed);
		}
		rnode(d, seed, depth - 1);
	}
	radd(d, kind == 2 ? SX_YREF_SEQ_END : SX_YREF_MAP_END, 0);
}

/* d through both: the same bytes, or a failure in both. */
static void same_as_libyaml(const struct rdoc *d, enum sx_yw_layout layout, const char *what)
{
	char *mine = NULL, *theirs = NULL;
	int my_err, their_err;

	my_err = sx_yref_writer(d->ev, d->n, layout, &mine);
	their_err = sx_yref_libyaml(d->ev, d->n, layout, &theirs);
	cr_assert_eq(my_err != 0, their_err != 0, "%s, layout %d: writer %d, libyaml %d; %s / %s",
		     what, (int)layout, my_err, their_err, mine, theirs);
	if (!my_err)
		cr_assert_str_eq(mine, theirs, "%s, layout %d", what, (int)layout);
	free(mine);
	free(theirs);
}

/* A one-letter plain scalar. */
static void rletter(struct rdoc *d, char c)
{
	struct sx_yref_ev *e = radd(d, SX_YREF_SCALAR, 0);

	e->text[0] = c;
	e->len = 1;
}

/* d: the scalar s alone in place: 0 the root, 1 and 2 a block mapping's
 * key and value, 3 a block sequence's item, 4 and 5 a flow mapping's key
 * and value, 6 a flow sequence's item. */
static void in_place(struct rdoc *d, const struct sx_yref_ev *s, unsigned place)
{
	bool map = place == 1 || place == 2 || place == 4 || place == 5;

	d->n = 0;
	if (place)
		radd(d, map ? SX_YREF_MAP : SX_YREF_SEQ,
		     place <= 3 ? SX_YSTYLE_BLOCK : SX_YSTYLE_FLOW);
	if (place == 2 || place == 5)
		rletter(d, 'k');
	d->ev[d->n++] = *s;
	if (place == 1 || place == 4)
		rletter(d, 'v');
	if (place)
		radd(d, map ? SX_YREF_MAP_END : SX_YREF_SEQ_END, 0);
}

/* Every piece alone (and the empty text) and followed by others, in every
 * style, with every implicit flag, in every place a scalar can stand. */
Test(yaml_writer, every_scalar_in_every_place_as_libyaml_writes_it)
{
	struct rdoc *d = malloc(sizeof(*d));
	unsigned a, b, style, implicit, place, layout;
	char what[80];

	cr_assert_not_null(d);
	for (a = 0; a <= NPIECES; a++)
		for (b = 0; b <= NPIECES; b += 7)
			for (style = 0; style < 6; style++)
				for (implicit = 0; implicit < 4; implicit++)
					for (place = 0; place < 7; place++) {
						struct sx_yref_ev s = {.type = SX_YREF_SCALAR,
								       .style = (int)style,
								       .implicit = implicit};

						if (a < NPIECES) {
							memcpy(s.text, pieces[a].s, pieces[a].len);
							s.len = pieces[a].len;
						}
						if (a < NPIECES && b < NPIECES) {
							memcpy(s.text + s.len, pieces[b].s,
							       pieces[b].len);
							s.len += pieces[b].len;
						}
						in_place(d, &s, place);
						snprintf(what, sizeof(what),
							 "pieces %u+%u, style %u, implicit %u, "
							 "place %u",
							 a, b, style, implicit, place);
						for (layout = 0; layout < 2; layout++)
							same_as_libyaml(
							    d, (enum sx_yw_layout)layout, what);
					}
	free(d);
}

/* Texts about a simple key's 128 bytes and PyYAML's 80 columns, of one
 * word or of many, in every place. */
Test(yaml_writer, long_keys_and_values_as_libyaml_writes_them)
{
	static const char *const fills[] = {"x", "ab ", "a'b", "\xc3\xa9", "a\nb"};
	struct rdoc *d = malloc(sizeof(*d));
	unsigned f, len, style, place, layout;
	char what[80];

	cr_assert_not_null(d);
	for (f = 0; f < sizeof(fills) / sizeof(fills[0]); f++)
		for (len = 60; len <= 140; len++)
			for (style = 0; style < 4; style++)
				for (place = 0; place < 7; place++) {
					struct sx_yref_ev s = {.type = SX_YREF_SCALAR,
							       .style = (int)style,
							       .implicit = SX_YW_PLAIN_IMPLICIT |
									   SX_YW_QUOTED_IMPLICIT};
					size_t k = strlen(fills[f]);

					while (s.len + k <= len) {
						memcpy(s.text + s.len, fills[f], k);
						s.len += k;
					}
					memset(s.text + s.len, 'z', len - s.len);
					s.len = len;
					in_place(d, &s, place);
					snprintf(what, sizeof(what),
						 "fill %u, %u bytes, style %u, place %u", f, len,
						 style, place);
					for (layout = 0; layout < 2; layout++)
						same_as_libyaml(d, (enum sx_yw_layout)layout, what);
				}
	free(d);
}

/* Random documents: nested block and flow collections, empty ones,
 * collections as keys, long and multi-line keys. */
Test(yaml_writer, random_documents_as_libyaml_writes_them)
{
	struct rdoc *d = malloc(sizeof(*d));
	unsigned seed = 20261207u, i, layout;
	char what[64];

	cr_assert_not_null(d);
	for (i = 0; i < 4000; i++) {
		unsigned start = seed;

		d->n = 0;
		rnode(d, &seed, 1 + rnd(&seed, 5));
		snprintf(what, sizeof(what), "document %u (seed %u)", i, start);
		for (layout = 0; layout < 2; layout++)
			same_as_libyaml(d, (enum sx_yw_layout)layout, what);
	}
	free(d);
}
