/*
 * test_core_text.c - text that came from the network, made safe.
 *
 * sx_buf's CSV fields (RFC 4180 quoting; spreadsheet-formula neutralising
 * with a leading apostrophe, undone by sx_csv_unneutralise), the escaping
 * of arbitrary bytes into printable ASCII (sx_text_escape), and the strict
 * number parsers (sx_parse_*).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/text.h"
#include "core/util.h"

TestSuite(core_text, .timeout = 30);

/* The buffer's content as a C string (the test owns the copy). */
static char *str_of(const struct sx_buf *b)
{
	char *s = malloc(b->len + 1);

	cr_assert_not_null(s);
	if (b->len) /* data is NULL until the first append */
		memcpy(s, b->data, b->len);
	s[b->len] = '\0';
	return s;
}

static void assert_csv(const char *in, const char *want)
{
	struct sx_buf b;
	char *got;

	sx_buf_init(&b);
	sx_buf_csv(&b, in);
	cr_assert_eq(b.err, 0);
	got = str_of(&b);
	cr_assert_str_eq(got, want, "field \"%s\"", in);
	free(got);
	sx_buf_fini(&b);
}

static void assert_csv_text(const char *in, const char *want)
{
	struct sx_buf b;
	char *got;

	sx_buf_init(&b);
	sx_buf_csv_text(&b, in);
	got = str_of(&b);
	cr_assert_str_eq(got, want, "field \"%s\"", in);
	free(got);
	sx_buf_fini(&b);
}

/*
 * Read one RFC 4180 field from s (which must hold exactly one field):
 * unquote, undouble quotes.  Returns a malloc'd string.
 */
static char *csv_unquote(const char *s)
{
	size_t n = strlen(s), i, o = 0;
	char *out = malloc(n + 1);

	cr_assert_not_null(out);
	if (n == 0 || s[0] != '"') {
		cr_assert_null(strpbrk(s, ",\"\r\n"), "unquoted field with a special: \"%s\"", s);
		memcpy(out, s, n + 1);
		return out;
	}
	cr_assert_geq(n, 2);
	cr_assert_eq(s[n - 1], '"', "field \"%s\" not closed", s);
	for (i = 1; i < n - 1; i++) {
		if (s[i] == '"') {
			cr_assert_eq(s[i + 1], '"', "lone quote inside \"%s\"", s);
			i++;
		}
		out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

/* ---- RFC 4180 ---- */

Test(core_text, csv_quotes_only_when_needed)
{
	assert_csv("", "");
	assert_csv("plain", "plain");
	assert_csv("with space", "with space");
	assert_csv("a,b", "\"a,b\"");
	assert_csv("say \"hi\"", "\"say \"\"hi\"\"\"");
	assert_csv("\"", "\"\"\"\"");
	assert_csv("cr\rhere", "\"cr\rhere\"");
	assert_csv("lf\nhere", "\"lf\nhere\"");
	assert_csv("crlf\r\n", "\"crlf\r\n\"");
	assert_csv(",\",\r\n", "\",\"\",\r\n\"");
	/* sx_buf_csv does not neutralise: that is sx_buf_csv_text's job. */
	assert_csv("=1+1", "=1+1");
}

Test(core_text, csv_fields_join_into_a_row)
{
	struct sx_buf b;
	char *got;

	sx_buf_init(&b);
	sx_buf_csv(&b, "a");
	sx_buf_putc(&b, ',');
	sx_buf_csv_text(&b, "b,c");
	sx_buf_putc(&b, ',');
	sx_buf_csv_text(&b, "=cmd");
	sx_buf_putc(&b, ',');
	sx_buf_u64(&b, 42);
	sx_buf_putc(&b, '\n');
	got = str_of(&b);
	cr_assert_str_eq(got, "a,\"b,c\",'=cmd,42\n");
	free(got);
	sx_buf_fini(&b);
}

/* ---- formula neutralisation ---- */

Test(core_text, formula_prefixes_are_neutralised)
{
	assert_csv_text("=SUM(A1:A9)", "'=SUM(A1:A9)");
	assert_csv_text("+1", "'+1");
	assert_csv_text("-1", "'-1");
	assert_csv_text("@cmd", "'@cmd");
	assert_csv_text("\tTAB", "'\tTAB");
	assert_csv_text("\rCR", "\"'\rCR\"");	/* neutralised and quoted */
	assert_csv_text("'quoted", "''quoted"); /* so that the apostrophe is reversible */
	assert_csv_text("=HYPERLINK(\"http://x\",\"y\")",
			"\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
	assert_csv_text("=a,b", "\"'=a,b\"");
	/* Not at the start, or other characters: untouched. */
	assert_csv_text("a=b", "a=b");
	assert_csv_text(" =x", " =x");
	assert_csv_text("1-2", "1-2");
	assert_csv_text("", "");
	assert_csv_text("plain", "plain");
}

Test(core_text, unneutralise_undoes_it)
{
	static const char *const cases[] = {
	    "=1+1", "+",     "-",   "@",	"\t",	 "\r",	"'",	 "''",
	    "'=",   "'a",    "a'",  "=a,\"b\"", "plain", "",	"-1.5",	 "@@",
	    "'\t",  "\r\n=", "x=y", "'''",	"= ",	 "a,b", "\"=\"", "'+'",
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sx_buf b;
		char *field, *value;

		sx_buf_init(&b);
		sx_buf_csv_text(&b, cases[i]);
		field = str_of(&b);
		value = csv_unquote(field);
		/* The written value never starts a formula (a lone "-" cannot)... */
		cr_assert(value[0] == '\0' || strcmp(value, "-") == 0 ||
			      !strchr("=+-@\t\r", value[0]),
			  "field %s", field);
		/* ...and the apostrophe comes off again. */
		cr_assert_str_eq(sx_csv_unneutralise(value), cases[i],
				 "round trip of \"%s\" via %s", cases[i], field);
		free(value);
		free(field);
		sx_buf_fini(&b);
	}
}

/* Every string of up to three characters from a hostile alphabet. */
Test(core_text, csv_text_round_trip_exhaustive)
{
	static const char alpha[] = "=+-@\t\r\n',\"a ";
	size_t na = sizeof(alpha) - 1;
	size_t n, idx[3];

	for (n = 0; n <= 3; n++) {
		size_t total = 1, k, j;

		for (j = 0; j < n; j++)
			total *= na;
		for (k = 0; k < total; k++) {
			char s[4];
			struct sx_buf b;
			char *field, *value;
			size_t r = k;

			for (j = 0; j < n; j++) {
				idx[j] = r % na;
				r /= na;
				s[j] = alpha[idx[j]];
			}
			s[n] = '\0';
			sx_buf_init(&b);
			sx_buf_csv_text(&b, s);
			field = str_of(&b);
			value = csv_unquote(field);
			cr_assert(value[0] == '\0' || strcmp(value, "-") == 0 ||
				      !strchr("=+-@\t\r", value[0]),
				  "field %s starts a formula", field);
			cr_assert_str_eq(sx_csv_unneutralise(value), s, "field %s", field);
			free(value);
			free(field);
			sx_buf_fini(&b);
		}
	}
}

Test(core_text, unneutralise_leaves_other_text)
{
	char a[] = "'abc";
	char b[] = "plain";
	char c[] = "";
	char d[] = "'";

	cr_assert_str_eq(sx_csv_unneutralise(a), "'abc");
	cr_assert_str_eq(sx_csv_unneutralise(b), "plain");
	cr_assert_str_eq(sx_csv_unneutralise(c), "");
	cr_assert_str_eq(sx_csv_unneutralise(d), "'");
}

/* ---- escaping ---- */

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

Test(core_text, escape_every_byte_value)
{
	int v;

	for (v = 0; v < 256; v++) {
		uint8_t in = (uint8_t)v;
		char out[8], want[8];
		bool cut = true;
		size_t n = sx_text_escape(out, sizeof(out), &in, 1, &cut);

		if (v == '\\')
			snprintf(want, sizeof(want), "\\\\");
		else if (v >= 0x20 && v <= 0x7e)
			snprintf(want, sizeof(want), "%c", v);
		else
			snprintf(want, sizeof(want), "\\x%02x", v);
		cr_assert_str_eq(out, want, "byte 0x%02x", v);
		cr_assert_eq(n, strlen(want));
		cr_assert_not(cut);
		cr_assert(printable(out), "byte 0x%02x", v);
	}
}

/* Undo the escaping (the inverse that text.h promises exists). */
static size_t unescape(const char *s, uint8_t *out)
{
	size_t o = 0;

	while (*s) {
		if (s[0] == '\\' && s[1] == '\\') {
			out[o++] = '\\';
			s += 2;
		} else if (s[0] == '\\' && s[1] == 'x') {
			unsigned v;

			cr_assert_eq(sscanf(s + 2, "%2x", &v), 1);
			out[o++] = (uint8_t)v;
			s += 4;
		} else {
			out[o++] = (uint8_t)*s++;
		}
	}
	return o;
}

Test(core_text, escape_all_bytes_round_trip)
{
	uint8_t in[256], back[256];
	char out[256 * 4 + 1];
	bool cut = true;
	size_t n, i;

	for (i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	n = sx_text_escape(out, sizeof(out), in, sizeof(in), &cut);
	cr_assert_not(cut);
	cr_assert_eq(n, strlen(out));
	cr_assert(printable(out));
	cr_assert_eq(unescape(out, back), 256);
	cr_assert_eq(memcmp(in, back, 256), 0);
}

/*
 * For every buffer size, the output is the escape of a prefix of the input
 * (whole escapes only), fits with its NUL, and truncated says whether the
 * whole input made it.
 */
Test(core_text, truncation_at_whole_escapes)
{
	static const uint8_t in[] = {'a', 0x00, '\\', 'b', 0xff, 'c', '\n', '\\', 0x7f, 'd'};
	char full[64];
	size_t fulln = sx_text_escape(full, sizeof(full), in, sizeof(in), NULL);
	size_t sz;

	cr_assert_str_eq(full, "a\\x00\\\\b\\xffc\\x0a\\\\\\x7fd");
	for (sz = 1; sz <= fulln + 2; sz++) {
		char *out = malloc(sz);
		bool cut = false;
		size_t n, k, pre = 0;
		char ref[64];

		cr_assert_not_null(out);
		memset(out, '#', sz);
		n = sx_text_escape(out, sz, in, sizeof(in), &cut);
		cr_assert_lt(n, sz, "size %zu", sz);
		cr_assert_eq(out[n], '\0');
		cr_assert_eq(strlen(out), n);
		cr_assert(printable(out));
		cr_assert_eq(strncmp(out, full, n), 0, "size %zu: not a prefix", sz);
		/* n must be the escape length of some prefix of the input. */
		for (k = 0; k <= sizeof(in); k++) {
			if (sx_text_escape(ref, sizeof(ref), in, k, NULL) == n) {
				pre = k;
				break;
			}
		}
		cr_assert_leq(pre, sizeof(in));
		cr_assert_eq(sx_text_escape(ref, sizeof(ref), in, pre, NULL), n,
			     "size %zu: cut inside an escape (\"%s\")", sz, out);
		cr_assert_eq(cut, n < fulln, "size %zu", sz);
		free(out);
	}
}

Test(core_text, escape_zero_size_and_append)
{
	char buf[16] = "untouched";
	size_t len;
	bool cut = false;

	cr_assert_eq(sx_text_escape(buf, 0, (const uint8_t *)"x", 1, &cut), 0);
	cr_assert_str_eq(buf, "untouched");

	len = 0;
	buf[0] = '\0';
	sx_text_append(buf, sizeof(buf), &len, (const uint8_t *)"ab", 2);
	sx_text_append(buf, sizeof(buf), &len, (const uint8_t *)"\x01", 1);
	sx_text_append(buf, sizeof(buf), &len, (const uint8_t *)"cdefghijkl", 10);
	cr_assert_str_eq(buf, "ab\\x01cdefghijk", "15 characters and the NUL");
	cr_assert_eq(len, 15);
	cr_assert_eq(strlen(buf), len);
	len = 12; /* 4 bytes left: "\xfe" needs 5 with the NUL */
	buf[len] = '\0';
	sx_text_append(buf, sizeof(buf), &len, (const uint8_t *)"\xfe", 1);
	cr_assert_str_eq(buf, "ab\\x01cdefgh", "an escape that does not fit is left out");
	cr_assert_eq(len, 12);
	len = 11; /* 5 bytes left: it fits */
	buf[len] = '\0';
	sx_text_append(buf, sizeof(buf), &len, (const uint8_t *)"\xfe", 1);
	cr_assert_str_eq(buf, "ab\\x01cdefg\\xfe");
	cr_assert_eq(len, 15);
}

Test(core_text, lower)
{
	char s[] = "MiXeD.Case-123_\xc3\x89";

	sx_text_lower(s);
	cr_assert_str_eq(s, "mixed.case-123_\xc3\x89");
}

/* ---- numbers ---- */

Test(core_text, parse_u64)
{
	uint64_t v = 99;

	cr_assert_eq(sx_parse_u64("0", 0, 10, &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(sx_parse_u64("42", 1, 1024, &v), 0);
	cr_assert_eq(v, 42);
	cr_assert_eq(sx_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, UINT64_MAX);
	v = 7;
	cr_assert_eq(sx_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	cr_assert_eq(sx_parse_u64("0", 1, 1024, &v), -ERANGE);
	cr_assert_eq(sx_parse_u64("1025", 1, 1024, &v), -ERANGE);
	cr_assert_eq(sx_parse_u64("", 0, 10, &v), -EINVAL);
	cr_assert_eq(sx_parse_u64(NULL, 0, 10, &v), -EINVAL);
	cr_assert_eq(sx_parse_u64("-1", 0, 10, &v), -EINVAL);
	cr_assert_eq(sx_parse_u64("+1", 0, 10, &v), -EINVAL);
	cr_assert_eq(sx_parse_u64(" 1", 0, 10, &v), -EINVAL);
	cr_assert_eq(sx_parse_u64("1 ", 0, 10, &v), -EINVAL);
	cr_assert_eq(sx_parse_u64("1x", 0, 10, &v), -EINVAL);
	cr_assert_eq(sx_parse_u64("0x10", 0, 100, &v), -EINVAL);
	cr_assert_eq(v, 7, "out is untouched on failure");
}

Test(core_text, parse_seconds)
{
	double v = -1;

	cr_assert_eq(sx_parse_seconds("0", &v), 0);
	cr_assert_float_eq(v, 0.0, 1e-12);
	cr_assert_eq(sx_parse_seconds("1.5", &v), 0);
	cr_assert_float_eq(v, 1.5, 1e-12);
	cr_assert_eq(sx_parse_seconds(".25", &v), 0);
	cr_assert_float_eq(v, 0.25, 1e-12);
	cr_assert_eq(sx_parse_seconds("30", &v), 0);
	cr_assert_float_eq(v, 30.0, 1e-12);
	cr_assert_eq(sx_parse_seconds("2.", &v), 0);
	cr_assert_float_eq(v, 2.0, 1e-12);
	cr_assert_eq(sx_parse_seconds("", &v), -EINVAL);
	cr_assert_eq(sx_parse_seconds(NULL, &v), -EINVAL);
	cr_assert_eq(sx_parse_seconds("-1", &v), -EINVAL);
	cr_assert_eq(sx_parse_seconds("+1", &v), -EINVAL);
	cr_assert_eq(sx_parse_seconds(" 1", &v), -EINVAL);
	cr_assert_eq(sx_parse_seconds("1s", &v), -EINVAL);
	cr_assert_eq(sx_parse_seconds("inf", &v), -EINVAL);
	cr_assert_eq(sx_parse_seconds("nan", &v), -EINVAL);
	cr_assert_eq(sx_parse_seconds(".", &v), -EINVAL);
	cr_assert_eq(sx_parse_seconds("1.2.3", &v), -EINVAL);
	/* "decimal with optional fraction": no exponent, no hexadecimal. */
	cr_assert_eq(sx_parse_seconds("1e3", &v), -EINVAL);
	cr_assert_eq(sx_parse_seconds("0x10", &v), -EINVAL);
	cr_assert_eq(sx_parse_seconds("1e999", &v), -EINVAL);
}

/* ---- the rest of sx_buf ---- */

/* Every decimal length and both sides of each power of ten, against printf. */
/* The escape form byte by byte, whole escapes only, as text.h states it. */
static size_t ref_escape(char *dst, size_t dstsz, const uint8_t *src, size_t n)
{
	size_t o = 0, i;

	for (i = 0; i < n; i++) {
		char e[5];
		size_t k;

		if (src[i] == '\\')
			k = (size_t)snprintf(e, sizeof(e), "\\\\");
		else if (src[i] >= 0x20 && src[i] <= 0x7e)
			k = (size_t)snprintf(e, sizeof(e), "%c", src[i]);
		else
			k = (size_t)snprintf(e, sizeof(e), "\\x%02x", src[i]);
		if (o + k >= dstsz)
			break;
		memcpy(dst + o, e, k);
		o += k;
	}
	dst[o] = '\0';
	return o;
}

/* Plain runs, backslashes and hex escapes cut at every buffer size. */
Test(core_text, escape_cut_at_every_size)
{
	static const uint8_t src[] = "plain run\\ then \x01\xff and more plain text~ \\";
	char got[80], want[80];
	size_t sz;

	for (sz = 1; sz <= sizeof(got); sz++) {
		size_t n = sx_text_escape(got, sz, src, sizeof(src) - 1, NULL);

		cr_assert_eq(n, ref_escape(want, sz, src, sizeof(src) - 1), "size %zu", sz);
		cr_assert_str_eq(got, want, "size %zu", sz);
	}
}

/* sx_text_cat against snprintf("%s%s%s") at every buffer size. */
Test(core_text, cat_as_snprintf)
{
	static const char *parts[][3] = {
	    {"A", " ", "example.com."}, {"", "", ""}, {"TYPE65", "", "x"}, {"", "abc", ""}};
	char got[24], want[24];
	size_t i, sz;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		for (sz = 1; sz <= sizeof(got); sz++) {
			size_t n;

			memset(got, 'x', sizeof(got));
			n = sx_text_cat(got, sz, 0, parts[i][0]);
			n = sx_text_cat(got, sz, n, parts[i][1]);
			n = sx_text_cat(got, sz, n, parts[i][2]);
			snprintf(want, sz, "%s%s%s", parts[i][0], parts[i][1], parts[i][2]);
			cr_assert_str_eq(got, want, "size %zu", sz);
			cr_assert_eq(n, strlen(want));
		}
	}
}

Test(core_text, buf_u64_as_printf)
{
	struct sx_buf b;
	char want[24];
	uint64_t p = 1;
	unsigned k;
	int d;

	sx_buf_init(&b);
	for (k = 0; k < 20; k++, p *= 10) {
		for (d = -2; d <= 2; d++) {
			uint64_t v = p + (uint64_t)(int64_t)d;

			if (d < 0 && (uint64_t)-d > p)
				continue;
			b.len = 0;
			sx_buf_u64(&b, v);
			sx_buf_putc(&b, '\0');
			snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
			cr_assert_str_eq(b.data, want);
		}
	}
	for (k = 0; k < 1000; k++) {
		b.len = 0;
		sx_buf_u64(&b, k);
		sx_buf_putc(&b, '\0');
		snprintf(want, sizeof(want), "%u", k);
		cr_assert_str_eq(b.data, want);
	}
	/* every bit length, the digits counted from it */
	for (k = 0; k < 64 * 1000; k++) {
		uint64_t v = (p = p * 6364136223846793005u + 1442695040888963407u) >> (k % 64);

		b.len = 0;
		sx_buf_u64(&b, v);
		sx_buf_putc(&b, '\0');
		snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
		cr_assert_str_eq(b.data, want);
	}
	sx_buf_fini(&b);
}

Test(core_text, buf_numbers_and_timestamps)
{
	struct sx_buf b;
	char *got;

	sx_buf_init(&b);
	sx_buf_u64(&b, 0);
	sx_buf_putc(&b, ' ');
	sx_buf_u64(&b, UINT64_MAX);
	sx_buf_putc(&b, ' ');
	sx_buf_i64(&b, INT64_MIN);
	sx_buf_putc(&b, ' ');
	sx_buf_i64(&b, -7);
	sx_buf_putc(&b, ' ');
	sx_buf_ts(&b, 1700000000, 123456789);
	sx_buf_putc(&b, ' ');
	sx_buf_ts(&b, 0, 1);
	sx_buf_putc(&b, ' ');
	sx_buf_ts(&b, 5, 999999999);
	sx_buf_putc(&b, ' ');
	sx_buf_printf(&b, "%s-%d", "x", 3);
	got = str_of(&b);
	cr_assert_str_eq(got, "0 18446744073709551615 -9223372036854775808 -7 "
			      "1700000000.123456789 0.000000001 5.999999999 x-3");
	free(got);
	sx_buf_fini(&b);
}

Test(core_text, buf_grows_and_flushes)
{
	struct sx_buf b;
	FILE *f = tmpfile();
	char line[128];
	int i;
	long size;

	cr_assert_not_null(f);
	sx_buf_init(&b);
	for (i = 0; i < 10000; i++)
		sx_buf_printf(&b, "%05d\n", i);
	cr_assert_eq(b.len, 60000);
	cr_assert_eq(b.err, 0);
	cr_assert_eq(sx_buf_flush(&b, f), 0);
	cr_assert_eq(b.len, 0);
	size = ftell(f);
	cr_assert_eq(size, 60000);
	rewind(f);
	cr_assert_not_null(fgets(line, sizeof(line), f));
	cr_assert_str_eq(line, "00000\n");
	fclose(f);
	sx_buf_reset(&b);
	sx_buf_put(&b, "", 0);
	cr_assert_eq(b.len, 0);
	sx_buf_fini(&b);
	cr_assert_null(b.data);
}
