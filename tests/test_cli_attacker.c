/*
 * test_cli_attacker.c - text chosen by the device can never change the
 * structure of an output: `sigex packets`, `sigex flows` and the main job,
 * run as programs (SX_BINARY) on captures written here.
 *
 * The captures.  Three occurrences of an "event" and one background
 * capture, written with the test pcap writer, in which every text field a
 * device chooses carries hostile bytes: DNS names (queries and answers;
 * labels with quotes, commas, '#', ": ", YAML indicators, a dot inside a
 * label, control bytes, NUL, non-UTF-8), a TLS server name, an HTTP Host and
 * path, CoAP Uri-Path and Uri-Query options, an SSDP ST header and TP-Link
 * JSON keys; spreadsheet formula prefixes (= + - @) open several of them.
 * The same flows recur in the three occurrences, so the miner turns them
 * into patterns; the SSDP search is also in the background capture, so it
 * becomes a single policy.
 *
 * What must hold, each output parsed back:
 *   - every byte of every output is printable ASCII or a line feed (no raw
 *     control byte, no invalid UTF-8, no CR);
 *   - the CSVs (tests/support/csv.h) parse, every row as wide as the
 *     header, no field starts a formula (= + @ TAB CR, or - unless it is a
 *     number list or a lone "-"), and each hostile value reads back as
 *     exactly its escaped form (core/text.h; RFC 4343 for DNS names);
 *   - signatures.yaml and profile.yaml parse with libyaml; every scalar is
 *     printable without a line break; profile.yaml has only the firewall
 *     schema's keys (device-info, single-policies, interactions, and the
 *     keys of a policy and of each protocol), policy ids in [a-z0-9-];
 *     the interaction holds one policy per pattern and single-policies one
 *     per background or periodic pattern of signatures.yaml; the DNS names
 *     come out as domain-name values in their escaped forms;
 *   - pattern.txt has one "Pattern N:" block per pattern, no other line
 *     starting like one, and the hostile texts only escaped.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "core/buf.h"
#include "core/text.h"
#include "support/csv.h"
#include "support/frames.h"
#include "support/tmp.h"

#define DEV	      "192.0.2.10"
#define GW	      "192.0.2.1"
#define PHONE	      "192.0.2.20"
#define DNS_SERVER_IP "198.51.100.20" /* answered for the first name */
#define TLS_SERVER_IP "198.51.100.30" /* named by its SNI only */
#define COAP_IP	      "192.0.2.60"
#define NOCC	      3

static char *dir;

/*
 * Criterion 2.4.1 leaks the 48-byte timeout-watchdog entry of some tests
 * (calloc in libcriterion, from criterion_run_all_tests) when a suite with
 * .timeout runs with --jobs=2; LeakSanitizer would fail the runner for it.
 * Built-in suppression for this binary only: any leak with a frame of ours
 * is still reported, and the sigex processes run here are not concerned.
 */
const char *__lsan_default_suppressions(void);

const char *__lsan_default_suppressions(void)
{
	return "leak:libcriterion.so\n";
}

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

TestSuite(cli_attacker, .init = setup, .fini = teardown, .timeout = 120);

/* ---- the hostile texts ---- */

struct text {
	const char *s;
	size_t n;
};

#define T(lit)                                                                                     \
	{                                                                                          \
		lit, sizeof(lit) - 1                                                               \
	}

/* DNS names, label by label (a label may hold a dot or a NUL). */
static const struct text dns1[] = {T("=HYPERLINK(\"x\",\"y\")"), T("a.b"), T("example")};
static const struct text dns2[] = {T("- x: y # z"), T("? &a *b !c |d >e %f @g `h"), T("example")};
static const struct text dns3[] = {T("\x00\x01\x1b[31m\r\n\t"), T("\xff\xfe\xc3\x28{a: [b, c]}"),
				   T("+1,2"), T("example")};
static const struct {
	const struct text *labels;
	size_t n;
} dns_names[] = {{dns1, 3}, {dns2, 3}, {dns3, 4}};

static const struct text sni = T("@cmd|' /C calc'!A0,\"q\"\n.Example");
static const struct text http_host = T("-2+3, \"h\": x # y\x7f\xfe");
static const struct text http_path = T("/=a,b\"c'd#e:f{g}[h]\x01\xff|>&*!%@`");
static const struct text coap_seg1 = T("-1+2");
static const struct text coap_seg2 = T("\xc3\xa9\xff: #x\n- y");
static const struct text coap_query = T("a=\"b\",c");
static const struct text ssdp_st = T("@urn:- y: z,\"q\" # \x01\xff|>{}[]`");
/* TP-Link: the raw JSON text of two keys (copied as written, escapes kept) */
static const struct text tpl_module = T("=sys,\\\"tem\x01");
static const struct text tpl_method = T("get\xff: x");

/* ---- packets ---- */

struct msg {
	uint8_t b[2048];
	size_t n;
};

static void put(struct msg *m, const void *p, size_t n)
{
	cr_assert_leq(m->n + n, sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put8(struct msg *m, uint8_t v)
{
	put(m, &v, 1);
}

static void put16(struct msg *m, uint16_t v)
{
	put8(m, (uint8_t)(v >> 8));
	put8(m, (uint8_t)v);
}

static void puttext(struct msg *m, const struct text *t)
{
	put(m, t->s, t->n);
}

static void dns_name(struct msg *m, const struct text *labels, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		put8(m, (uint8_t)labels[i].n);
		puttext(m, &labels[i]);
	}
	put8(m, 0);
}

static void dns(struct msg *m, size_t which, bool answer, uint16_t id)
{
	m->n = 0;
	put16(m, id);
	put16(m, answer ? 0x8180 : 0x0100);
	put16(m, 1);
	put16(m, answer ? 1 : 0);
	put16(m, 0);
	put16(m, 0);
	dns_name(m, dns_names[which].labels, dns_names[which].n);
	put16(m, 1);
	put16(m, 1);
	if (answer) {
		static const uint8_t rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4};

		put(m, rr, sizeof(rr));
		put8(m, 198), put8(m, 51), put8(m, 100), put8(m, (uint8_t)(20 + which));
	}
}

static void tls_client_hello(struct msg *m)
{
	struct msg h = {.n = 0}, e = {.n = 0};
	uint8_t random[32];

	memset(random, 0x5a, sizeof(random));
	/* server_name extension */
	put16(&e, 0);
	put16(&e, (uint16_t)(sni.n + 5));
	put16(&e, (uint16_t)(sni.n + 3));
	put8(&e, 0);
	put16(&e, (uint16_t)sni.n);
	puttext(&e, &sni);
	/* ClientHello body */
	put16(&h, 0x0303);
	put(&h, random, 32);
	put8(&h, 0);
	put16(&h, 2);
	put16(&h, 0x1301);
	put8(&h, 1);
	put8(&h, 0);
	put16(&h, (uint16_t)e.n);
	put(&h, e.b, e.n);
	m->n = 0;
	put8(m, 22);
	put16(m, 0x0301);
	put16(m, (uint16_t)(h.n + 4));
	put8(m, 1);
	put8(m, 0);
	put16(m, (uint16_t)h.n);
	put(m, h.b, h.n);
}

static void http_request(struct msg *m)
{
	m->n = 0;
	put(m, "GET ", 4);
	puttext(m, &http_path);
	put(m, "?q=1 HTTP/1.1\r\nHost: ", 21);
	puttext(m, &http_host);
	put(m, "\r\nUser-Agent: t\r\n\r\n", 19);
}

static void coap_option(struct msg *m, unsigned delta, const struct text *v)
{
	cr_assert_lt(v->n, 269);
	if (v->n < 13) {
		put8(m, (uint8_t)(delta << 4 | v->n));
	} else {
		put8(m, (uint8_t)(delta << 4 | 13));
		put8(m, (uint8_t)(v->n - 13));
	}
	puttext(m, v);
}

static void coap_get(struct msg *m, uint16_t id)
{
	m->n = 0;
	put8(m, 0x40); /* version 1, CON, no token */
	put8(m, 0x01); /* GET */
	put16(m, id);
	coap_option(m, 11, &coap_seg1); /* Uri-Path */
	coap_option(m, 0, &coap_seg2);	/* Uri-Path */
	coap_option(m, 4, &coap_query); /* Uri-Query (15) */
}

static void ssdp_msearch(struct msg *m)
{
	static const char head[] = "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
				   "MAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ";

	m->n = 0;
	put(m, head, sizeof(head) - 1);
	puttext(m, &ssdp_st);
	put(m, "\r\n\r\n", 4);
}

/* A TP-Link Smart Home message: length, then the autokey XOR of the JSON. */
static void tplink(struct msg *m, bool reply)
{
	struct msg j = {.n = 0};
	uint8_t key = 171;
	size_t i;

	put(&j, "{\"", 2);
	puttext(&j, &tpl_module);
	put(&j, "\":{\"", 4);
	puttext(&j, &tpl_method);
	put(&j, reply ? "\":{\"err_code\":0}}}" : "\":{}}}", reply ? 18 : 6);
	m->n = 0;
	put16(m, 0);
	put16(m, (uint16_t)j.n);
	for (i = 0; i < j.n; i++) {
		key = j.b[i] ^ key;
		put8(m, key);
	}
}

/* ---- captures ---- */

struct capture {
	uint8_t frames[64][2200];
	struct sx_tf_rec recs[64];
	size_t n;
	int64_t t0;
	uint32_t us;
};

static void add(struct capture *c, size_t len)
{
	cr_assert_gt(len, 0, "frame %zu does not fit", c->n);
	c->recs[c->n] = (struct sx_tf_rec){.data = c->frames[c->n],
					   .caplen = (uint32_t)len,
					   .sec = c->t0 + c->us / 1000000,
					   .usec = c->us % 1000000};
	c->us += 20000;
	c->n++;
}

static void udp(struct capture *c, const char *src, uint16_t sp, const char *dst, uint16_t dp,
		const struct msg *m)
{
	cr_assert_lt(c->n, 64);
	add(c, sx_tf_udp(c->frames[c->n], sizeof(c->frames[0]), src, sp, dst, dp, m->b, m->n));
}

static void tcp(struct capture *c, const char *src, uint16_t sp, const char *dst, uint16_t dp,
		uint8_t flags, const struct msg *m)
{
	cr_assert_lt(c->n, 64);
	add(c, sx_tf_tcp(c->frames[c->n], sizeof(c->frames[0]), src, sp, dst, dp, flags,
			 m ? m->b : NULL, m ? m->n : 0));
}

/* A TCP exchange: handshake, request, reply. */
static void tcp_session(struct capture *c, const char *cli, uint16_t cp, const char *srv,
			uint16_t sp, const struct msg *req, const struct msg *rep)
{
	tcp(c, cli, cp, srv, sp, 0x02, NULL);
	tcp(c, srv, sp, cli, cp, 0x12, NULL);
	tcp(c, cli, cp, srv, sp, 0x18, req);
	tcp(c, srv, sp, cli, cp, 0x18, rep);
}

static void write_occurrence(const char *path, unsigned occ, bool background)
{
	struct capture *c = calloc(1, sizeof(*c));
	struct msg m, r;
	uint16_t base = (uint16_t)(40000 + occ * 100);
	size_t i;

	cr_assert_not_null(c);
	c->t0 = 1700000000 + (int64_t)occ * 600;
	c->us = 100000;
	if (!background) {
		tplink(&m, false);
		tplink(&r, true);
		tcp_session(c, PHONE, base, DEV, 9999, &m, &r);
		for (i = 0; i < 3; i++) {
			dns(&m, i, false, (uint16_t)(occ * 10 + i));
			udp(c, DEV, (uint16_t)(base + 1 + i), GW, 53, &m);
			dns(&m, i, true, (uint16_t)(occ * 10 + i));
			udp(c, GW, 53, DEV, (uint16_t)(base + 1 + i), &m);
		}
		tls_client_hello(&m);
		r.n = 0;
		put(&r, "\x16\x03\x03\x00\x04\x02\x00\x00\x00", 9);
		tcp_session(c, DEV, (uint16_t)(base + 10), TLS_SERVER_IP, 443, &m, &r);
		http_request(&m);
		r.n = 0;
		put(&r, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 38);
		tcp_session(c, DEV, (uint16_t)(base + 11), DNS_SERVER_IP, 80, &m, &r);
		coap_get(&m, (uint16_t)(occ + 1));
		udp(c, DEV, (uint16_t)(base + 12), COAP_IP, 5683, &m);
	}
	ssdp_msearch(&m);
	udp(c, DEV, (uint16_t)(base + 13), "239.255.255.250", 1900, &m);
	cr_assert_eq(sx_tf_write_pcap(path, 1, c->recs, c->n), 0);
	free(c);
}

/* ---- expected escaped forms ---- */

/* core/text.h's escape of t, lower-cased when lower. */
static char *esc(const struct text *t, bool lower)
{
	char *s = malloc(4 * t->n + 1);

	cr_assert_not_null(s);
	sx_text_escape(s, 4 * t->n + 1, (const uint8_t *)t->s, t->n, NULL);
	if (lower)
		sx_text_lower(s);
	return s;
}

/* RFC 4343 presentation form of a DNS name, as the DNS dissector writes it. */
static char *dns_form(size_t which)
{
	char *s = malloc(1024);
	size_t o = 0, i, j;

	cr_assert_not_null(s);
	for (i = 0; i < dns_names[which].n; i++) {
		const struct text *l = &dns_names[which].labels[i];

		if (i)
			s[o++] = '.';
		for (j = 0; j < l->n; j++) {
			unsigned char c = (unsigned char)l->s[j];

			if (c == '.' || c == '\\')
				o += (size_t)sprintf(s + o, "\\%c", c);
			else if (c >= 0x20 && c < 0x7f)
				s[o++] = (char)c;
			else
				o += (size_t)sprintf(s + o, "\\%03u", c);
		}
	}
	s[o] = '\0';
	return s;
}

/* ---- running ---- */

struct result {
	int rc;
	char *out;
	char *err;
};

static struct result run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static struct result run(const char *fmt, ...)
{
	struct result r;
	char *args, *cmd;
	va_list ap;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&args, fmt, ap), 0);
	va_end(ap);
	cr_assert_geq(
	    asprintf(&cmd, "cd '%s' && SOURCE_DATE_EPOCH=0 '%s' %s", dir, SX_BINARY, args), 0);
	r.rc = sx_tt_run(cmd, &r.out, &r.err);
	cr_assert_not_null(r.out);
	cr_assert_not_null(r.err);
	cr_assert_eq(r.rc, 0, "%s: exit %d\n%s", cmd, r.rc, r.err);
	cr_assert_null(strstr(r.err, "Sanitizer"), "%s", r.err);
	cr_assert_null(strstr(r.err, "runtime error"), "%s", r.err);
	free(cmd);
	free(args);
	return r;
}

static void free_result(struct result *r)
{
	free(r->out);
	free(r->err);
}

static void write_captures(void)
{
	unsigned i;

	for (i = 0; i < NOCC; i++) {
		char name[32], *p;

		snprintf(name, sizeof(name), "occ%u.pcap", i + 1);
		p = sx_tt_path(dir, name);
		write_occurrence(p, i, false);
		free(p);
	}
	{
		char *p = sx_tt_path(dir, "idle.pcap");

		write_occurrence(p, 7, true);
		free(p);
	}
}

static char *read_file(const char *name)
{
	char *p = sx_tt_path(dir, name), *text = sx_tt_read(p, NULL);

	cr_assert_not_null(text, "no %s", p);
	free(p);
	return text;
}

/* ---- checks ---- */

static void assert_printable(const char *text, const char *what)
{
	size_t i;

	for (i = 0; text[i]; i++) {
		unsigned char c = (unsigned char)text[i];

		cr_assert(c == '\n' || (c >= 0x20 && c <= 0x7e),
			  "%s: byte %#x at offset %zu: \"%.60s\"", what, c, i,
			  text + (i > 30 ? i - 30 : 0));
	}
}

static bool is_number_list(const char *s)
{
	for (; *s; s++)
		if (!strchr("0123456789 .-", *s))
			return false;
	return true;
}

/* Parse a CSV; check its shape and that no field starts a formula. */
static void check_csv(const char *text, const char *what, struct sx_tcsv *t)
{
	size_t i, j;

	assert_printable(text, what);
	cr_assert_eq(sx_tcsv_parse(text, t), 0, "%s: malformed CSV", what);
	cr_assert_gt(t->nrows, 1, "%s: no rows", what);
	for (i = 0; i < t->nrows; i++) {
		cr_assert_eq(t->rows[i].n, t->rows[0].n, "%s: row %zu has %zu fields, not %zu",
			     what, i, t->rows[i].n, t->rows[0].n);
		for (j = 0; j < t->rows[i].n; j++) {
			const char *f = t->rows[i].f[j];

			cr_assert(!strchr("=+@\t\r", f[0]) || !f[0],
				  "%s: row %zu column %s starts a formula: %s", what, i,
				  t->rows[0].f[j], f);
			cr_assert(f[0] != '-' || !strcmp(f, "-") || is_number_list(f),
				  "%s: row %zu column %s starts a formula: %s", what, i,
				  t->rows[0].f[j], f);
		}
	}
}

/* Whether some row has value (after sx_csv_unneutralise) in column col. */
static bool csv_has(const struct sx_tcsv *t, const char *col, const char *value)
{
	int c = sx_tcsv_col(t, col);
	size_t i;

	cr_assert_geq(c, 0, "no column %s", col);
	for (i = 1; i < t->nrows; i++) {
		char *f = strdup(t->rows[i].f[c]);
		bool eq = !strcmp(sx_csv_unneutralise(f), value);

		free(f);
		if (eq)
			return true;
	}
	return false;
}

/* Whether some field (unneutralised) of the CSV contains s. */
static bool csv_contains(const struct sx_tcsv *t, const char *s)
{
	size_t i, j;

	for (i = 1; i < t->nrows; i++)
		for (j = 0; j < t->rows[i].n; j++) {
			char *f = strdup(t->rows[i].f[j]);
			bool in = strstr(sx_csv_unneutralise(f), s) != NULL;

			free(f);
			if (in)
				return true;
		}
	return false;
}

/* The escaped forms every output must carry (and only these). */
struct expected {
	char *dns[3];
	char *sni, *host, *path, *seg1, *seg2, *query, *st, *module, *method;
};

static struct expected expected(void)
{
	struct expected e;
	size_t i;

	for (i = 0; i < 3; i++)
		e.dns[i] = dns_form(i);
	e.sni = esc(&sni, true);
	e.host = esc(&http_host, true);
	e.path = esc(&http_path, false);
	e.seg1 = esc(&coap_seg1, false);
	e.seg2 = esc(&coap_seg2, false);
	e.query = esc(&coap_query, false);
	e.st = esc(&ssdp_st, false);
	e.module = esc(&tpl_module, false);
	e.method = esc(&tpl_method, false);
	return e;
}

static void free_expected(struct expected *e)
{
	size_t i;

	for (i = 0; i < 3; i++)
		free(e->dns[i]);
	free(e->sni), free(e->host), free(e->path), free(e->seg1), free(e->seg2);
	free(e->query), free(e->st), free(e->module), free(e->method);
}

Test(cli_attacker, packet_csv_reads_back_every_hostile_value)
{
	struct expected e = expected();
	struct result r;
	struct sx_tcsv t;
	char *uri, *cmd;
	size_t i;

	write_captures();
	r = run("packets occ1.pcap occ2.pcap occ3.pcap idle.pcap");
	check_csv(r.out, "packet CSV", &t);
	for (i = 0; i < 3; i++)
		cr_expect(csv_has(&t, "dns_qname", e.dns[i]), "dns_qname %s", e.dns[i]);
	cr_expect(csv_has(&t, "tls_sni", e.sni), "tls_sni %s", e.sni);
	cr_expect(csv_has(&t, "http_host", e.host), "http_host %s", e.host);
	cr_expect(csv_has(&t, "http_uri", e.path) || csv_contains(&t, e.path), "http_uri %s",
		  e.path);
	cr_assert(asprintf(&uri, "/%s/%s?%s", e.seg1, e.seg2, e.query) > 0);
	cr_expect(csv_has(&t, "coap_uri", uri), "coap_uri %s", uri);
	cr_expect(csv_has(&t, "ssdp_st", e.st), "ssdp_st %s", e.st);
	cr_assert(asprintf(&cmd, "%s.%s", e.module, e.method) > 0);
	cr_expect(csv_contains(&t, cmd), "TP-Link command %s", cmd);
	/* names learned from the network (lower-cased): the DNS answer, the SNI */
	sx_text_lower(e.dns[0]);
	cr_expect(csv_has(&t, "dst_name", e.dns[0]), "dst_name %s", e.dns[0]);
	cr_expect(csv_has(&t, "dst_name", e.sni), "dst_name %s", e.sni);
	sx_tcsv_free(&t);
	free(uri);
	free(cmd);
	free_result(&r);
	free_expected(&e);
}

Test(cli_attacker, flow_csv_reads_back_every_hostile_value)
{
	struct expected e = expected();
	struct result r;
	struct sx_tcsv t;
	size_t i;

	write_captures();
	r = run("flows occ1.pcap occ2.pcap occ3.pcap idle.pcap");
	check_csv(r.out, "flow CSV", &t);
	for (i = 0; i < 3; i++)
		cr_expect(csv_contains(&t, e.dns[i]), "DNS name %s", e.dns[i]);
	cr_expect(csv_contains(&t, e.sni), "SNI %s", e.sni);
	cr_expect(csv_contains(&t, e.host), "Host %s", e.host);
	cr_expect(csv_contains(&t, e.seg2), "CoAP %s", e.seg2);
	cr_expect(csv_contains(&t, e.st), "SSDP ST %s", e.st);
	cr_expect(csv_contains(&t, e.module), "TP-Link %s", e.module);
	sx_tcsv_free(&t);
	free_result(&r);
	free_expected(&e);
}

/* ---- YAML ---- */

static yaml_node_t *node(yaml_document_t *d, yaml_node_item_t i)
{
	yaml_node_t *n = yaml_document_get_node(d, i);

	cr_assert_not_null(n);
	return n;
}

static const char *scalar(yaml_node_t *n)
{
	cr_assert_eq(n->type, YAML_SCALAR_NODE, "expected a scalar");
	return (const char *)n->data.scalar.value;
}

/* Every scalar of the tree is printable ASCII without a line break; all
 * scalars appended to all (space-separated) for searching. */
static void walk_scalars(yaml_document_t *d, yaml_node_t *n, FILE *all)
{
	yaml_node_pair_t *p;
	yaml_node_item_t *it;
	size_t i;

	switch (n->type) {
	case YAML_SCALAR_NODE:
		for (i = 0; i < n->data.scalar.length; i++) {
			unsigned char c = n->data.scalar.value[i];

			cr_assert(c >= 0x20 && c <= 0x7e, "scalar with byte %#x: \"%s\"", c,
				  n->data.scalar.value);
		}
		fprintf(all, "%s\n", n->data.scalar.value);
		break;
	case YAML_SEQUENCE_NODE:
		for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++)
			walk_scalars(d, node(d, *it), all);
		break;
	case YAML_MAPPING_NODE:
		for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			walk_scalars(d, node(d, p->key), all);
			walk_scalars(d, node(d, p->value), all);
		}
		break;
	default:
		cr_assert_fail("empty node");
	}
}

static void load_yaml(const char *text, yaml_document_t *d, const char *what)
{
	yaml_parser_t p;

	cr_assert(yaml_parser_initialize(&p));
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	cr_assert(yaml_parser_load(&p, d), "%s: YAML parse error: %s (line %zu)", what,
		  p.problem ? p.problem : "?", p.problem_mark.line + 1);
	cr_assert_not_null(yaml_document_get_root_node(d), "%s: empty document", what);
	yaml_parser_delete(&p);
}

/* The value of key in mapping n, or NULL. */
static yaml_node_t *get(yaml_document_t *d, yaml_node_t *n, const char *key)
{
	yaml_node_pair_t *p;

	cr_assert_eq(n->type, YAML_MAPPING_NODE);
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
		if (!strcmp(scalar(node(d, p->key)), key))
			return node(d, p->value);
	return NULL;
}

/* Every key of mapping n is one of the space-separated words of allowed. */
static void keys_in(yaml_document_t *d, yaml_node_t *n, const char *allowed, const char *where)
{
	yaml_node_pair_t *p;
	char padded[512];

	snprintf(padded, sizeof(padded), " %s ", allowed);
	cr_assert_eq(n->type, YAML_MAPPING_NODE, "%s: not a mapping", where);
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		char word[300];

		snprintf(word, sizeof(word), " %s ", scalar(node(d, p->key)));
		cr_assert(strstr(padded, word), "%s: key \"%s\" is not in the firewall's schema",
			  where, scalar(node(d, p->key)));
	}
}

static bool is_id(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

static const struct {
	const char *proto;
	const char *keys; /* NULL: no fields (an empty scalar) */
} protocol_keys[] = {
    {"tcp", "src-port dst-port"},
    {"udp", "src-port dst-port"},
    {"ipv4", "src dst"},
    {"ipv6", "src dst"},
    {"dns", "qtype domain-name"},
    {"mdns", "qtype domain-name"},
    {"http", "method uri"},
    {"coap", "type method uri"},
    {"ssdp", "method response"},
    {"dhcp", "type client-mac"},
    {"igmp", "version type group"},
    {"icmp", "type"},
    {"icmpv6", NULL},
};

/* One policy: only schema keys; its domain names collected in names. */
static void check_policy(yaml_document_t *d, yaml_node_t *pol, const char *id, FILE *names)
{
	yaml_node_t *protos = get(d, pol, "protocols");
	yaml_node_pair_t *p;
	size_t i;

	keys_in(d, pol, "protocols bidirectional stats", id);
	cr_assert_not_null(protos, "%s: no protocols", id);
	keys_in(d, protos, "tcp udp ipv4 ipv6 dns mdns http coap ssdp dhcp igmp icmp icmpv6", id);
	for (p = protos->data.mapping.pairs.start; p < protos->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(d, p->key));
		yaml_node_t *v = node(d, p->value);

		for (i = 0; i < sizeof(protocol_keys) / sizeof(protocol_keys[0]); i++)
			if (!strcmp(protocol_keys[i].proto, k))
				break;
		cr_assert_lt(i, sizeof(protocol_keys) / sizeof(protocol_keys[0]));
		if (v->type == YAML_SCALAR_NODE) {
			cr_assert_str_eq(scalar(v), "", "%s: %s: a value where fields go", id, k);
			continue;
		}
		cr_assert_not_null(protocol_keys[i].keys, "%s: %s has fields", id, k);
		keys_in(d, v, protocol_keys[i].keys, id);
		if (!strcmp(k, "dns") || !strcmp(k, "mdns"))
			fprintf(names, "%s\n", scalar(get(d, v, "domain-name")));
	}
	if (get(d, pol, "stats"))
		keys_in(d, get(d, pol, "stats"), "packet-count duration", id);
}

/* Count a mapping's policies (id -> policy), checking each. */
static size_t check_policies(yaml_document_t *d, yaml_node_t *m, FILE *names)
{
	yaml_node_pair_t *p;
	size_t n = 0;

	if (!m)
		return 0;
	cr_assert_eq(m->type, YAML_MAPPING_NODE);
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++, n++) {
		const char *id = scalar(node(d, p->key));

		cr_assert(is_id(id), "policy id \"%s\"", id);
		check_policy(d, node(d, p->value), id, names);
	}
	return n;
}

static unsigned summary_count(yaml_document_t *d, const char *key)
{
	yaml_node_t *s = get(d, yaml_document_get_root_node(d), "summary");
	yaml_node_t *v;

	cr_assert_not_null(s, "signatures.yaml: no summary");
	v = get(d, s, key);
	cr_assert_not_null(v, "summary: no %s", key);
	return (unsigned)strtoul(scalar(v), NULL, 10);
}

Test(cli_attacker, main_job_outputs_parse_and_hold_only_the_schema)
{
	struct expected e = expected();
	yaml_document_t sig, prof;
	struct result r;
	char *text, *all = NULL, *sigall = NULL, *names = NULL, *line, *outdir;
	size_t alen = 0, slen = 0, nlen = 0, i, nint, nsingle;
	unsigned npat, nbg, nper, blocks = 0;
	yaml_node_t *root, *inter;
	yaml_node_pair_t *p;
	FILE *fa, *fn;
	DIR *d;
	struct dirent *de;

	write_captures();
	r = run(DEV " " DEV " occ1.pcap occ2.pcap occ3.pcap --background idle.pcap --gateway " GW
		    " --phone " PHONE " --stats -j2 -o out");
	assert_printable(r.out, "standard output");
	assert_printable(r.err, "standard error");

	/* every CSV of the output directory */
	outdir = sx_tt_path(dir, "out");
	d = opendir(outdir);
	free(outdir);
	cr_assert_not_null(d);
	while ((de = readdir(d))) {
		char *name;
		struct sx_tcsv t;

		if (!strstr(de->d_name, ".csv"))
			continue;
		cr_assert(asprintf(&name, "out/%s", de->d_name) > 0);
		text = read_file(name);
		check_csv(text, name, &t);
		sx_tcsv_free(&t);
		free(text);
		free(name);
	}
	closedir(d);

	/* signatures.yaml: parses, printable scalars, the hostile texts escaped */
	text = read_file("out/signatures.yaml");
	assert_printable(text, "signatures.yaml");
	load_yaml(text, &sig, "signatures.yaml");
	free(text);
	fa = open_memstream(&sigall, &slen);
	walk_scalars(&sig, yaml_document_get_root_node(&sig), fa);
	fclose(fa);
	npat = summary_count(&sig, "patterns");
	nbg = summary_count(&sig, "background");
	nper = summary_count(&sig, "periodic");
	cr_expect_geq(npat, 7, "the hostile flows became patterns (%u)", npat);
	cr_expect_geq(nbg, 1, "the SSDP search is a background pattern");
	for (i = 0; i < 3; i++)
		cr_expect(strstr(sigall, e.dns[i]), "signatures.yaml: DNS name %s", e.dns[i]);
	cr_expect(strstr(sigall, e.sni), "signatures.yaml: SNI %s", e.sni);
	cr_expect(strstr(sigall, e.seg2), "signatures.yaml: CoAP %s", e.seg2);
	cr_expect(strstr(sigall, e.module), "signatures.yaml: TP-Link %s", e.module);

	/* profile.yaml: parses, only the schema, one policy per pattern */
	text = read_file("out/profile.yaml");
	assert_printable(text, "profile.yaml");
	load_yaml(text, &prof, "profile.yaml");
	free(text);
	fa = open_memstream(&all, &alen);
	walk_scalars(&prof, yaml_document_get_root_node(&prof), fa);
	fclose(fa);
	root = yaml_document_get_root_node(&prof);
	keys_in(&prof, root, "device-info single-policies interactions", "profile.yaml");
	keys_in(&prof, get(&prof, root, "device-info"), "name mac ipv4 ipv6 last-update",
		"device-info");
	fn = open_memstream(&names, &nlen);
	nsingle = check_policies(&prof, get(&prof, root, "single-policies"), fn);
	inter = get(&prof, root, "interactions");
	nint = 0;
	cr_assert_not_null(inter, "no interactions");
	cr_assert_eq(inter->data.mapping.pairs.top - inter->data.mapping.pairs.start, 1,
		     "one interaction");
	for (p = inter->data.mapping.pairs.start; p < inter->data.mapping.pairs.top; p++) {
		cr_assert(is_id(scalar(node(&prof, p->key))));
		nint += check_policies(&prof, node(&prof, p->value), fn);
	}
	fclose(fn);
	/*
	 * A hostile name or path with a '*' (the second DNS name, the HTTP
	 * path) would read as a wildcard: those policies are left out, with a
	 * warning naming each.  The other hostile names cannot widen a rule and
	 * are written, quoted as YAML needs.  The server the SNI names is
	 * written by its address: no DNS policy allows its name, so the
	 * firewall could never learn the name's addresses.
	 */
	cr_expect_eq(nint + nsingle + 2, npat + nbg + nper,
		     "policies %zu + %zu, patterns %u + %u + %u, 2 left out\n%s", nint, nsingle,
		     npat, nbg, nper, r.err);
	cr_expect(strstr(r.err, "left out: its HTTP path"), "%s", r.err);
	for (i = 0; i < 3; i++) {
		char *want;
		bool wild = strchr(e.dns[i], '*') != NULL;

		cr_assert(asprintf(&want, "%s\n", e.dns[i]) > 0);
		if (wild) {
			cr_expect(strncmp(names, want, strlen(want)) && !strstr(names, want),
				  "profile.yaml: a rule for domain-name %s in:\n%s", e.dns[i],
				  names);
			cr_expect(strstr(r.err, e.dns[i]) && strstr(r.err, "left out"),
				  "no warning for %s:\n%s", e.dns[i], r.err);
		} else {
			cr_expect(!strncmp(names, want, strlen(want)) || strstr(names, want),
				  "profile.yaml: no domain-name %s in:\n%s", e.dns[i], names);
		}
		free(want);
	}
	cr_expect(!strstr(all, e.sni), "profile.yaml: the SNI %s as an address end", e.sni);

	/* pattern.txt: printable; one block per pattern, nothing looking like one */
	text = read_file("out/pattern.txt");
	assert_printable(text, "pattern.txt");
	for (line = text; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		unsigned k;
		char colon;

		if (sscanf(line, "Pattern %u%c", &k, &colon) == 2 && colon == ':')
			blocks++;
	}
	cr_expect_eq(blocks, npat, "pattern.txt: %u \"Pattern N:\" lines for %u patterns", blocks,
		     npat);
	cr_expect(strstr(r.out, text), "the report on stdout is pattern.txt");
	free(text);

	yaml_document_delete(&sig);
	yaml_document_delete(&prof);
	free(all);
	free(sigall);
	free(names);
	free_result(&r);
	free_expected(&e);
}
