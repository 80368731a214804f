/*
 * test_cli_tshark.c - sigex's application fields against tshark's, packet by
 * packet, on every capture of the shared corpora.
 *
 * tshark runs with TCP, TLS, HTTP and DNS reassembly off, so that it, like
 * sigex, reports what each packet carries, and with TCP sequence analysis
 * off, so that it dissects retransmitted segments too (sigex does).  sigex
 * finds TLS by its record header on any TCP port while tshark goes by port
 * (a ClientHello to port 3452 becomes SABP), so the SNI column comes from a
 * second tshark pass that decodes every TCP port as TLS.
 *
 * Two figures per field: "raw" over every packet, and "compared" without
 * three classes where the tools do not report the same thing by design:
 *   - ICMP and ICMPv6 errors: tshark dissects the quoted datagram (a DNS
 *     query inside "port unreachable"); sigex reports the packet itself;
 *   - packets cut by the capture's snap length: tshark gives a Host cut in
 *     the middle but no SNI from a cut ClientHello, sigex the reverse (an
 *     SNI extension that was captured whole, no Host without its line end);
 *   - values that are not host names at all (tshark reads "%s" from a
 *     firmware image in a response body as a Host header).
 * The 99.5% requirement applies to the compared figure; both are written
 * to the report.  For each field the test counts
 * the packets where either tool reports a value and those where both report
 * the same value (case-insensitively: DNS names, SNI and Host are
 * case-insensitive; sigex lower-cases SNI and Host), and requires 99.5%
 * agreement.  HTTP Host is compared on TCP only (tshark also reads SSDP over
 * UDP as HTTP; sigex calls that SSDP).  The figures and every disagreement
 * are written to tshark-agreement.txt in the build directory.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "support/csv.h"
#include "support/tmp.h"

#define BATCH 100

enum field { F_DNS, F_SNI, F_HOST, NFIELDS };

static const char *const field_names[NFIELDS] = {
    "dns.qry.name", "tls.handshake.extensions_server_name", "http.host"};
static const char *const sigex_cols[NFIELDS] = {"dns_qname", "tls_sni", "http_host"};

struct pkt_vals {
	char *v[NFIELDS];
	int tcp;
	int excluded; /* ICMP error or cut by the snap length (from sigex's row) */
};

struct file_vals {
	struct pkt_vals *p;
	size_t n;
};

static void put(struct file_vals *fv, size_t idx, enum field f, const char *val, int tcp)
{
	if (idx >= fv->n) {
		size_t nn = idx + 1;

		fv->p = realloc(fv->p, nn * sizeof(*fv->p));
		memset(fv->p + fv->n, 0, (nn - fv->n) * sizeof(*fv->p));
		fv->n = nn;
	}
	if (val && *val && strcmp(val, "<Root>") != 0) {
		free(fv->p[idx].v[f]);
		fv->p[idx].v[f] = strdup(val);
	}
	if (tcp)
		fv->p[idx].tcp = 1;
}

static char **manifest_paths(size_t *n)
{
	char *text = sx_tt_read(SX_SHARED_CORPORA "/manifest.csv", NULL);
	struct sx_tcsv c;
	char **paths;
	size_t i;
	int repo, path;

	cr_assert_not_null(text);
	cr_assert_eq(sx_tcsv_parse(text, &c), 0);
	repo = sx_tcsv_col(&c, "repo");
	path = sx_tcsv_col(&c, "path");
	cr_assert(repo >= 0 && path >= 0);
	paths = calloc(c.nrows, sizeof(*paths));
	*n = 0;
	for (i = 1; i < c.nrows; i++) {
		if (c.rows[i].n <= (size_t)path)
			continue;
		if (asprintf(&paths[(*n)++], "%s/%s/%s", SX_SHARED_CORPORA, c.rows[i].f[repo],
			     c.rows[i].f[path]) < 0)
			abort();
	}
	sx_tcsv_free(&c);
	free(text);
	return paths;
}

static void run_tshark(char **paths, size_t n, const char *dir, struct file_vals *tv)
{
	char *list = sx_tt_path(dir, "list");
	FILE *f = fopen(list, "w");
	char *cmd;
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%zu %s\n", i, paths[i]);
	fclose(f);
	if (asprintf(
		&cmd,
		"xargs -P2 -n2 sh -c 'o=\"-n -o tcp.desegment_tcp_streams:FALSE "
		"-o tcp.analyze_sequence_numbers:FALSE "
		"-o tls.desegment_ssl_records:FALSE -o tls.desegment_ssl_application_data:FALSE "
		"-o http.desegment_headers:FALSE -o http.desegment_body:FALSE "
		"-o dns.desegment_dns_messages:FALSE -T fields -E separator=/t "
		"-E occurrence=f -e frame.number\"; "
		"tshark -r \"$1\" $o -e dns.qry.name -e tcp.seq -e http.host "
		"-e tcp.srcport > %s/$0.tsv 2>/dev/null; "
		"tshark -r \"$1\" $o -d tcp.port==1-65535,tls "
		"-e tls.handshake.extensions_server_name > %s/$0.tls 2>/dev/null' < %s",
		dir, dir, list) < 0)
		abort();
	cr_assert_eq(sx_tt_run(cmd, NULL, NULL), 0);
	free(cmd);
	for (i = 0; i < n; i++) {
		char name[32];
		char *p, *text, *line, *save = NULL;

		/* the TLS pass: frame, SNI */
		snprintf(name, sizeof(name), "%zu.tls", i);
		p = sx_tt_path(dir, name);
		text = sx_tt_read(p, NULL);
		free(p);
		for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
		     line = strtok_r(NULL, "\n", &save)) {
			char *tab = strchr(line, '\t');

			if (tab && atol(line) > 0) {
				*tab = '\0';
				put(&tv[i], (size_t)atol(line) - 1, F_SNI, tab + 1, 0);
			}
		}
		free(text);
		save = NULL;
		/* the main pass: frame, DNS name, (a filler in the SNI slot), Host, TCP port */
		snprintf(name, sizeof(name), "%zu.tsv", i);
		p = sx_tt_path(dir, name);
		text = sx_tt_read(p, NULL);
		free(p);
		if (!text)
			continue;
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *cols[5] = {0};
			char *q = line;
			int k;

			for (k = 0; k < 5; k++) {
				cols[k] = q;
				q = q ? strchr(q, '\t') : NULL;
				if (q)
					*q++ = '\0';
			}
			if (!cols[0] || !*cols[0])
				continue;
			for (k = 0; k < NFIELDS; k++)
				if (k != F_SNI)
					put(&tv[i], (size_t)atol(cols[0]) - 1, (enum field)k,
					    cols[k + 1], cols[4] && *cols[4]);
		}
		free(text);
	}
	free(list);
}

static void run_sigex(char **paths, size_t n, const char *dir, struct file_vals *sv)
{
	size_t b;

	for (b = 0; b < n; b += BATCH) {
		size_t e = b + BATCH < n ? b + BATCH : n, i, r;
		char *out = sx_tt_path(dir, "sigex.csv");
		size_t cap = 256 + strlen(out);
		char *cmd, *text;
		struct sx_tcsv c;
		int cols[NFIELDS], cfile, cidx, ctr, clen, ccap, st, k;

		for (i = b; i < e; i++)
			cap += strlen(paths[i]) + 3;
		cmd = malloc(cap);
		snprintf(cmd, cap, "%s packets -q -j2 -o %s", SX_BINARY, out);
		for (i = b; i < e; i++) {
			strcat(cmd, " '");
			strcat(cmd, paths[i]);
			strcat(cmd, "'");
		}
		st = sx_tt_run(cmd, NULL, NULL);
		cr_assert(st == 0 || st == 3, "sigex packets exited %d", st);
		text = sx_tt_read(out, NULL);
		cr_assert_not_null(text);
		cr_assert_eq(sx_tcsv_parse(text, &c), 0);
		cfile = sx_tcsv_col(&c, "File");
		cidx = sx_tcsv_col(&c, "Index");
		ctr = sx_tcsv_col(&c, "Transport");
		clen = sx_tcsv_col(&c, "Length");
		ccap = sx_tcsv_col(&c, "CapLen");
		for (k = 0; k < NFIELDS; k++)
			cols[k] = sx_tcsv_col(&c, sigex_cols[k]);
		/* Rows come in file order, so the file index advances with File. */
		i = b;
		for (r = 1; r < c.nrows; r++) {
			struct sx_tcsv_row *row = &c.rows[r];

			while (i < e && strcmp(row->f[cfile], paths[i]) != 0)
				i++;
			cr_assert(i < e, "row for an unknown file %s", row->f[cfile]);
			for (k = 0; k < NFIELDS; k++)
				put(&sv[i], (size_t)atol(row->f[cidx]), (enum field)k,
				    row->f[cols[k]], 0);
			if (strncmp(row->f[ctr], "ICMP", 4) == 0 ||
			    strcmp(row->f[clen], row->f[ccap]) != 0)
				sv[i].p[atol(row->f[cidx])].excluded = 1;
		}
		sx_tcsv_free(&c);
		free(text);
		free(cmd);
		free(out);
	}
}

/* A host name, optionally with a port: letters, digits, '-', '.', '_', ':'. */
static int is_hostname(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("-._:[]", *s)))
			return 0;
	return 1;
}

Test(cli_tshark, app_fields_agree_with_tshark, .timeout = 1200)
{
	size_t n, i, j, either[NFIELDS] = {0}, agree[NFIELDS] = {0};
	size_t raw_either[NFIELDS] = {0}, raw_agree[NFIELDS] = {0};
	struct file_vals *tv, *sv;
	char **paths;
	char *dir, *report;
	FILE *rep;
	int k;

	if (!sx_tt_have_shared())
		sx_tt_skip_missing("shared corpora not found at %s", SX_SHARED_CORPORA);
	if (sx_tt_run("command -v tshark", NULL, NULL) != 0)
		sx_tt_skip_missing("tshark is not installed");
	paths = manifest_paths(&n);
	cr_assert_gt(n, 0);
	tv = calloc(n, sizeof(*tv));
	sv = calloc(n, sizeof(*sv));
	dir = sx_tt_tmpdir();
	run_tshark(paths, n, dir, tv);
	run_sigex(paths, n, dir, sv);
	report = sx_tt_path(SX_BUILD_DIR, "tshark-agreement.txt");
	rep = fopen(report, "w");
	cr_assert_not_null(rep);
	for (i = 0; i < n; i++) {
		size_t np = tv[i].n > sv[i].n ? tv[i].n : sv[i].n;

		for (j = 0; j < np; j++) {
			struct pkt_vals *t = j < tv[i].n ? &tv[i].p[j] : NULL;
			struct pkt_vals *s = j < sv[i].n ? &sv[i].p[j] : NULL;

			for (k = 0; k < NFIELDS; k++) {
				const char *a = t ? t->v[k] : NULL;
				const char *b = s ? s->v[k] : NULL;

				if (k == F_HOST && a && !(t && t->tcp))
					a = NULL; /* SSDP over UDP */
				if (!a && !b)
					continue;
				raw_either[k]++;
				if (a && b && strcasecmp(a, b) == 0) {
					raw_agree[k]++;
				} else {
					fprintf(
					    rep, "%s frame %zu %s: tshark=\"%s\" sigex=\"%s\"%s\n",
					    paths[i], j + 1, field_names[k], a ? a : "", b ? b : "",
					    (s && s->excluded) ? " (ICMP or cut)" : "");
				}
				if ((s && s->excluded) || (a && !is_hostname(a)) ||
				    (b && !is_hostname(b)))
					continue;
				either[k]++;
				if (a && b && strcasecmp(a, b) == 0)
					agree[k]++;
			}
		}
	}
	for (k = 0; k < NFIELDS; k++) {
		fprintf(rep, "SUMMARY raw %s: %zu of %zu packets agree (%.3f%%)\n", field_names[k],
			raw_agree[k], raw_either[k],
			raw_either[k] ? 100.0 * (double)raw_agree[k] / (double)raw_either[k]
				      : 100.0);
		fprintf(rep, "SUMMARY compared %s: %zu of %zu packets agree (%.3f%%)\n",
			field_names[k], agree[k], either[k],
			either[k] ? 100.0 * (double)agree[k] / (double)either[k] : 100.0);
	}
	fclose(rep);
	for (k = 0; k < NFIELDS; k++) {
		cr_log_info("%s: %zu of %zu packets agree", field_names[k], agree[k], either[k]);
		cr_expect(either[k] == 0 || (double)agree[k] >= 0.995 * (double)either[k],
			  "%s: only %zu of %zu packets agree with tshark (see %s)", field_names[k],
			  agree[k], either[k], report);
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < tv[i].n; j++)
			for (k = 0; k < NFIELDS; k++)
				free(tv[i].p[j].v[k]);
		for (j = 0; j < sv[i].n; j++)
			for (k = 0; k < NFIELDS; k++)
				free(sv[i].p[j].v[k]);
		free(tv[i].p);
		free(sv[i].p);
		free(paths[i]);
	}
	{
		char *rm;

		if (asprintf(&rm, "rm -rf '%s'", dir) >= 0) {
			sx_tt_run(rm, NULL, NULL);
			free(rm);
		}
	}
	free(tv);
	free(sv);
	free(paths);
	free(report);
	free(dir);
}
