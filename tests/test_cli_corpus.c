/*
 * test_cli_corpus.c - `sigex packets` over every real capture of the shared
 * corpora (SX_SHARED_CORPORA).
 *
 * manifest.csv lists each capture (columns repo, path, ..., packets, ...)
 * with its packet count as capinfos saw it.  The captures are run through
 * the built binary in batches, and for every file the number of CSV rows
 * must equal the manifest's count; no run may end on a signal (exit 0, or
 * 3 for the one valid capture with no packets).  Skipped when the corpora
 * are absent.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "support/tmp.h"

#define BATCH 50

TestSuite(cli_corpus, .timeout = 1200);

/* ---- a small RFC 4180 reader ---- */

/*
 * Read one record at *s into fields (malloc'd strings, *nf of them); quoted
 * fields may hold commas, doubled quotes and line breaks.  Advances *s past
 * the record's line end.  Returns false at the end of the text.
 */
static bool next_record(const char **s, char ***fields, size_t *nf)
{
	const char *p = *s;
	size_t cap = 0;

	*fields = NULL;
	*nf = 0;
	if (!*p)
		return false;
	for (;;) {
		size_t len = 0, bcap = 64;
		char *buf = malloc(bcap);

		cr_assert_not_null(buf);
		if (*p == '"') {
			p++;
			for (;;) {
				cr_assert_neq(*p, '\0', "unterminated quoted field");
				if (*p == '"' && p[1] == '"') {
					buf[len++] = '"';
					p += 2;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					buf[len++] = *p++;
				}
				if (len + 1 >= bcap) {
					bcap *= 2;
					buf = realloc(buf, bcap);
					cr_assert_not_null(buf);
				}
			}
		} else {
			while (*p && *p != ',' && *p != '\n' && *p != '\r') {
				buf[len++] = *p++;
				if (len + 1 >= bcap) {
					bcap *= 2;
					buf = realloc(buf, bcap);
					cr_assert_not_null(buf);
				}
			}
		}
		buf[len] = '\0';
		if (*nf == cap) {
			cap = cap ? cap * 2 : 16;
			*fields = realloc(*fields, cap * sizeof(**fields));
			cr_assert_not_null(*fields);
		}
		(*fields)[(*nf)++] = buf;
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == '\r')
			p++;
		if (*p == '\n')
			p++;
		break;
	}
	*s = p;
	return true;
}

static void free_fields(char **f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(f[i]);
	free(f);
}

static int field_index(char **f, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(f[i], name) == 0)
			return (int)i;
	cr_assert_fail("no column \"%s\"", name);
	return -1;
}

/* ---- the manifest ---- */

struct capture {
	char *path; /* absolute */
	unsigned long long packets;
	unsigned long long rows;
};

static struct capture *load_manifest(size_t *n)
{
	char *text = sx_tt_read(SX_SHARED_CORPORA "/manifest.csv", NULL);
	const char *s = text;
	struct capture *caps = NULL;
	size_t cap = 0;
	char **f;
	size_t nf, hdr_n;
	int crepo, cpath, cpk;

	cr_assert_not_null(text, "cannot read %s/manifest.csv", SX_SHARED_CORPORA);
	cr_assert(next_record(&s, &f, &nf), "empty manifest");
	hdr_n = nf;
	crepo = field_index(f, nf, "repo");
	cpath = field_index(f, nf, "path");
	cpk = field_index(f, nf, "packets");
	free_fields(f, nf);
	*n = 0;
	while (next_record(&s, &f, &nf)) {
		char *end;

		if (nf == 1 && f[0][0] == '\0') { /* blank line */
			free_fields(f, nf);
			continue;
		}
		cr_assert_eq(nf, hdr_n, "manifest row %zu has %zu fields, not %zu", *n + 2, nf,
			     hdr_n);
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			caps = realloc(caps, cap * sizeof(*caps));
			cr_assert_not_null(caps);
		}
		cr_assert_geq(
		    asprintf(&caps[*n].path, "%s/%s/%s", SX_SHARED_CORPORA, f[crepo], f[cpath]), 0);
		caps[*n].packets = strtoull(f[cpk], &end, 10);
		cr_assert(f[cpk][0] && !*end, "bad packet count \"%s\"", f[cpk]);
		caps[*n].rows = 0;
		(*n)++;
		free_fields(f, nf);
	}
	free(text);
	return caps;
}

/* Append s to the command, single-quoted for the shell. */
static void append_quoted(char **cmd, size_t *len, size_t *cap, const char *s)
{
	size_t need = strlen(s) * 4 + 4;

	if (*len + need + 1 > *cap) {
		*cap = (*len + need + 1) * 2;
		*cmd = realloc(*cmd, *cap);
		cr_assert_not_null(*cmd);
	}
	(*cmd)[(*len)++] = ' ';
	(*cmd)[(*len)++] = '\'';
	for (; *s; s++) {
		if (*s == '\'') {
			memcpy(*cmd + *len, "'\\''", 4);
			*len += 4;
		} else {
			(*cmd)[(*len)++] = *s;
		}
	}
	(*cmd)[(*len)++] = '\'';
	(*cmd)[*len] = '\0';
}

/*
 * Count the rows of each capture of the batch in sigex's output.  Rows come
 * in file order, so the file of each row is looked for from the current
 * one onwards.
 */
static void count_rows(const char *out, struct capture *batch, size_t n)
{
	const char *s = out;
	char **f;
	size_t nf, hdr_n, cur = 0, row = 0;

	cr_assert(next_record(&s, &f, &nf), "no header");
	cr_assert_str_eq(f[0], "File");
	hdr_n = nf;
	free_fields(f, nf);
	while (next_record(&s, &f, &nf)) {
		row++;
		cr_assert_eq(nf, hdr_n, "row %zu of the batch has %zu fields, not %zu", row, nf,
			     hdr_n);
		sx_csv_unneutralise(f[0]);
		while (cur < n && strcmp(f[0], batch[cur].path) != 0)
			cur++;
		cr_assert_lt(cur, n, "row %zu: file \"%s\" out of order or unknown", row, f[0]);
		batch[cur].rows++;
		free_fields(f, nf);
	}
}

Test(cli_corpus, every_capture_gives_its_packet_count)
{
	struct capture *caps;
	size_t n, i, mismatches = 0;
	unsigned long long total = 0, want = 0;

	if (!sx_tt_have_shared())
		sx_tt_skip_missing("shared corpora not found at %s", SX_SHARED_CORPORA);
	caps = load_manifest(&n);
	cr_assert_gt(n, 0, "the manifest lists no captures");

	for (i = 0; i < n; i += BATCH) {
		size_t k = n - i < BATCH ? n - i : BATCH, j;
		size_t len = 0, cap = 0;
		char *cmd = NULL, *out = NULL, *err = NULL;
		int rc;

		cr_assert_geq(asprintf(&cmd, "'%s' packets -j2 -q", SX_BINARY), 0);
		len = strlen(cmd);
		cap = len + 1;
		for (j = 0; j < k; j++)
			append_quoted(&cmd, &len, &cap, caps[i + j].path);
		rc = sx_tt_run(cmd, &out, &err);
		cr_assert_lt(rc, 128, "captures %zu..%zu: sigex killed by signal %d\n%s", i,
			     i + k - 1, rc - 128, err ? err : "");
		cr_assert(rc == 0 || rc == 3, "captures %zu..%zu: exit %d\n%s", i, i + k - 1, rc,
			  err ? err : "");
		cr_assert_not_null(out);
		count_rows(out, caps + i, k);
		for (j = 0; j < k; j++) {
			const struct capture *c = &caps[i + j];

			if (c->rows != c->packets) {
				mismatches++;
				cr_log_error("%s: %llu rows, manifest says %llu packets", c->path,
					     c->rows, c->packets);
			}
			total += c->rows;
			want += c->packets;
		}
		free(cmd);
		free(out);
		free(err);
	}
	cr_log_info("%zu captures, %llu rows", n, total);
	cr_assert_eq(mismatches, 0, "%zu captures with the wrong number of rows", mismatches);
	cr_assert_eq(total, want);
	for (i = 0; i < n; i++)
		free(caps[i].path);
	free(caps);
}
