/*
 * test_ingest_tls.c - TLS records and hellos (ingest/app_tls.c).
 *
 * Hellos are assembled here from their parts (record, handshake header,
 * hello body, extensions) so each test says which bytes it feeds.  Payloads
 * are malloc'd at their exact length so AddressSanitizer catches overreads.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/app.h"
#include "support/pkt.h"

TestSuite(ingest_tls, .timeout = 60);

static void putfill(struct sx_tmsg *m, uint8_t v, size_t n)
{
	cr_assert_leq(m->n + n, sizeof(m->b));
	memset(m->b + m->n, v, n);
	m->n += n;
}

static void assert_tls(const struct sx_tls *t)
{
	unsigned i;

	cr_assert_leq(t->nrecords, SX_TLS_MAX_RECORDS);
	cr_assert_leq(t->nversions, SX_TLS_MAX_VERSIONS);
	for (i = 0; i < t->nrecords; i++)
		cr_assert(t->content_type[i] >= 20 && t->content_type[i] <= 24);
	sx_tt_assert_printable(t->sni, sizeof(t->sni));
	sx_tt_assert_printable(t->alpn, sizeof(t->alpn));
}

/* Dissect m as TCP 50000 -> port; returns the proto. */
static uint8_t run_tcp(struct sx_pkt *pkt, uint16_t port, const struct sx_tmsg *m)
{
	uint8_t *p = sx_tt_exact(m->b, m->n);

	sx_tt_set_pkt(pkt, SX_P_TCP, 50000, port, p, m->n, m->n);
	sx_app_dissect(pkt);
	free(p);
	pkt->payload = NULL;
	if (pkt->proto == SX_P_TLS)
		assert_tls(&pkt->app.tls);
	return pkt->proto;
}

/* ---- builders ---- */

static void ext_sni(struct sx_tmsg *e, const void *name, size_t len)
{
	sx_tm_put16(e, 0);
	sx_tm_put16(e, (uint16_t)(len + 5));
	sx_tm_put16(e, (uint16_t)(len + 3));
	sx_tm_put8(e, 0);
	sx_tm_put16(e, (uint16_t)len);
	sx_tm_putbytes(e, name, len);
}

/* names: NUL-separated list ending in an empty string */
static void ext_alpn(struct sx_tmsg *e, const char *const *names, size_t n)
{
	size_t total = 0;
	size_t i;

	for (i = 0; i < n; i++)
		total += 1 + strlen(names[i]);
	sx_tm_put16(e, 16);
	sx_tm_put16(e, (uint16_t)(total + 2));
	sx_tm_put16(e, (uint16_t)total);
	for (i = 0; i < n; i++) {
		sx_tm_put8(e, (uint8_t)strlen(names[i]));
		sx_tm_putbytes(e, names[i], strlen(names[i]));
	}
}

static void ext_versions(struct sx_tmsg *e, const uint16_t *v, size_t n)
{
	size_t i;

	sx_tm_put16(e, 43);
	sx_tm_put16(e, (uint16_t)(1 + 2 * n));
	sx_tm_put8(e, (uint8_t)(2 * n));
	for (i = 0; i < n; i++)
		sx_tm_put16(e, v[i]);
}

/* A record of the given type holding body. */
static void record(struct sx_tmsg *m, uint8_t type, uint16_t version, const struct sx_tmsg *body)
{
	sx_tm_put8(m, type);
	sx_tm_put16(m, version);
	sx_tm_put16(m, (uint16_t)body->n);
	sx_tm_putbytes(m, body->b, body->n);
}

/* A ClientHello handshake message with extensions exts. */
static void client_hello(struct sx_tmsg *h, const struct sx_tmsg *exts)
{
	struct sx_tmsg body = {.n = 0};

	sx_tm_put16(&body, 0x0303);
	putfill(&body, 0x11, 32); /* random */
	sx_tm_put8(&body, 32);
	putfill(&body, 0x22, 32); /* session id */
	sx_tm_put16(&body, 4);
	sx_tm_put16(&body, 0x1301);
	sx_tm_put16(&body, 0xc02f);
	sx_tm_put8(&body, 1);
	sx_tm_put8(&body, 0);
	sx_tm_put16(&body, (uint16_t)exts->n);
	sx_tm_putbytes(&body, exts->b, exts->n);
	sx_tm_put8(h, 1);
	sx_tm_put24(h, (uint32_t)body.n);
	sx_tm_putbytes(h, body.b, body.n);
}

static void server_hello(struct sx_tmsg *h, uint16_t selected)
{
	struct sx_tmsg body = {.n = 0};

	sx_tm_put16(&body, 0x0303);
	putfill(&body, 0x33, 32);
	sx_tm_put8(&body, 0);
	sx_tm_put16(&body, 0x1301);
	sx_tm_put8(&body, 0);
	sx_tm_put16(&body, selected ? 6 : 0);
	if (selected) {
		sx_tm_put16(&body, 43);
		sx_tm_put16(&body, 2);
		sx_tm_put16(&body, selected);
	}
	sx_tm_put8(h, 2);
	sx_tm_put24(h, (uint32_t)body.n);
	sx_tm_putbytes(h, body.b, body.n);
}

static const char *const alpn_h2[] = {"h2", "http/1.1"};
static const uint16_t versions[] = {0x7a7a, 0x0304, 0x0303};

static void typical_client_hello(struct sx_tmsg *m)
{
	struct sx_tmsg exts = {.n = 0};
	struct sx_tmsg hs = {.n = 0};

	sx_tm_put16(&exts, 0xdada); /* GREASE extension, empty */
	sx_tm_put16(&exts, 0);
	ext_sni(&exts, "Api.Example.COM", 15);
	sx_tm_put16(&exts, 23); /* extended_master_secret */
	sx_tm_put16(&exts, 0);
	ext_alpn(&exts, alpn_h2, 2);
	ext_versions(&exts, versions, 3);
	client_hello(&hs, &exts);
	m->n = 0;
	record(m, 22, 0x0301, &hs);
}

/* ---- tests ---- */

Test(ingest_tls, client_hello_fields)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	const struct sx_tls *t = &pkt.app.tls;

	typical_client_hello(&m);
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TLS);
	cr_assert_eq(t->nrecords, 1);
	cr_assert_eq(t->content_type[0], 22);
	cr_assert_eq(t->record_version, 0x0301);
	cr_assert_eq(t->hs_type, 1);
	cr_assert_eq(t->legacy_version, 0x0303);
	cr_assert_eq(t->selected_version, 0);
	cr_assert_str_eq(t->sni, "api.example.com");
	cr_assert_str_eq(t->alpn, "h2,http/1.1");
	cr_assert_eq(t->nversions, 2, "GREASE dropped");
	cr_assert_eq(t->versions[0], 0x0304);
	cr_assert_eq(t->versions[1], 0x0303);
}

Test(ingest_tls, any_tcp_port_but_not_udp)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	uint8_t *p;

	typical_client_hello(&m);
	cr_assert_eq(run_tcp(&pkt, 8883, &m), SX_P_TLS);
	cr_assert_eq(run_tcp(&pkt, 12345, &m), SX_P_TLS);
	p = sx_tt_exact(m.b, m.n);
	sx_tt_set_pkt(&pkt, SX_P_UDP, 50000, 443, p, m.n, m.n);
	sx_app_dissect(&pkt);
	cr_assert_eq(pkt.proto, SX_P_UDP);
	free(p);
}

Test(ingest_tls, server_flight_tls13)
{
	struct sx_tmsg m = {.n = 0};
	struct sx_tmsg hs = {.n = 0};
	struct sx_tmsg ccs = {.n = 0};
	struct sx_tmsg app = {.n = 0};
	struct sx_pkt pkt;
	const struct sx_tls *t = &pkt.app.tls;

	server_hello(&hs, 0x0304);
	record(&m, 22, 0x0303, &hs);
	sx_tm_put8(&ccs, 1);
	record(&m, 20, 0x0303, &ccs);
	putfill(&app, 0x5a, 300);
	record(&m, 23, 0x0303, &app);
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TLS);
	cr_assert_eq(t->nrecords, 3);
	cr_assert_eq(t->content_type[0], 22);
	cr_assert_eq(t->content_type[1], 20);
	cr_assert_eq(t->content_type[2], 23);
	cr_assert_eq(t->hs_type, 2);
	cr_assert_eq(t->legacy_version, 0x0303);
	cr_assert_eq(t->selected_version, 0x0304);
	cr_assert_eq(t->nversions, 0);
	cr_assert_str_eq(t->sni, "");
}

Test(ingest_tls, server_hello_tls12_has_no_selected_version)
{
	struct sx_tmsg m = {.n = 0};
	struct sx_tmsg hs = {.n = 0};
	struct sx_pkt pkt;

	server_hello(&hs, 0);
	record(&m, 22, 0x0303, &hs);
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TLS);
	cr_assert_eq(pkt.app.tls.hs_type, 2);
	cr_assert_eq(pkt.app.tls.selected_version, 0);
}

Test(ingest_tls, records_listed_up_to_max_and_cut_header_counted)
{
	struct sx_tmsg m = {.n = 0};
	struct sx_tmsg app = {.n = 0};
	struct sx_pkt pkt;
	unsigned i;

	putfill(&app, 0x77, 40);
	for (i = 0; i < 3; i++)
		record(&m, 23, 0x0303, &app);
	/* a fourth record whose header starts but is cut after 3 bytes */
	sx_tm_putbytes(&m, "\x17\x03\x03", 3);
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TLS);
	cr_assert_eq(pkt.app.tls.nrecords, 4);
	cr_assert_eq(pkt.app.tls.content_type[3], 23);
	cr_assert_eq(pkt.app.tls.hs_type, 0);

	/* the first record's body is cut: one record */
	m.n = 0;
	record(&m, 23, 0x0303, &app);
	m.n -= 10;
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TLS);
	cr_assert_eq(pkt.app.tls.nrecords, 1);

	m.n = 0;
	for (i = 0; i < 12; i++)
		record(&m, 23, 0x0303, &app);
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TLS);
	cr_assert_eq(pkt.app.tls.nrecords, SX_TLS_MAX_RECORDS);

	/* garbage after the first record ends the walk */
	m.n = 0;
	record(&m, 23, 0x0303, &app);
	sx_tm_putbytes(&m, "\x42\x03\x03\x00\x10", 5);
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TLS);
	cr_assert_eq(pkt.app.tls.nrecords, 1);
}

Test(ingest_tls, not_tls)
{
	struct sx_tmsg m = {.n = 0};
	struct sx_pkt pkt;

	sx_tm_putbytes(&m, "\x16\x03\x05\x00\x10", 5); /* version 3.5 */
	putfill(&m, 0, 16);
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TCP);
	m.n = 0;
	sx_tm_putbytes(&m, "\x19\x03\x03\x00\x10", 5); /* content type 25 */
	putfill(&m, 0, 16);
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TCP);
	m.n = 0;
	sx_tm_putbytes(&m, "\x17\x03\x03\x48\x01", 5); /* longer than 2^14 + 2048 */
	putfill(&m, 0, 16);
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TCP);
	m.n = 0;
	sx_tm_putbytes(&m, "\x16\x03\x01\x00\x00", 5); /* empty handshake record */
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TCP);
	m.n = 0;
	sx_tm_putbytes(&m, "\x17\x03\x03\x00", 4); /* header cut */
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TCP);
}

Test(ingest_tls, handshake_after_ccs_is_encrypted)
{
	struct sx_tmsg m = {.n = 0};
	struct sx_tmsg ccs = {.n = 0};
	struct sx_tmsg fin = {.n = 0};
	struct sx_pkt pkt;

	sx_tm_put8(&ccs, 1);
	record(&m, 20, 0x0303, &ccs);
	/* looks like a ClientHello header, but it is ciphertext */
	sx_tm_put8(&fin, 1);
	sx_tm_put24(&fin, 36);
	putfill(&fin, 0x99, 36);
	record(&m, 22, 0x0303, &fin);
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TLS);
	cr_assert_eq(pkt.app.tls.nrecords, 2);
	cr_assert_eq(pkt.app.tls.hs_type, 0);
	cr_assert_eq(pkt.app.tls.legacy_version, 0);
}

Test(ingest_tls, unknown_or_oversized_handshake_type_not_kept)
{
	struct sx_tmsg m = {.n = 0};
	struct sx_tmsg hs = {.n = 0};
	struct sx_pkt pkt;

	sx_tm_put8(&hs, 99);
	sx_tm_put24(&hs, 4);
	putfill(&hs, 0, 4);
	record(&m, 22, 0x0303, &hs);
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TLS);
	cr_assert_eq(pkt.app.tls.hs_type, 0);

	m.n = 0;
	hs.n = 0;
	sx_tm_put8(&hs, 1);
	sx_tm_put24(&hs, 5000); /* longer than its (small) record */
	putfill(&hs, 0, 40);
	record(&m, 22, 0x0303, &hs);
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TLS);
	cr_assert_eq(pkt.app.tls.hs_type, 0);
}

Test(ingest_tls, hostile_sni_and_alpn_are_escaped)
{
	static const uint8_t name[] = {'E', 'v', '"', ',', '\n', 0x00, 0x80, 0xff, '\\', 'X'};
	static const char *const alpn[] = {"a,b", "c\"d"};
	struct sx_tmsg exts = {.n = 0};
	struct sx_tmsg hs = {.n = 0};
	struct sx_tmsg m = {.n = 0};
	struct sx_pkt pkt;

	ext_sni(&exts, name, sizeof(name));
	ext_alpn(&exts, alpn, 2);
	client_hello(&hs, &exts);
	record(&m, 22, 0x0301, &hs);
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TLS);
	cr_assert_str_eq(pkt.app.tls.sni, "ev\",\\x0a\\x00\\x80\\xff\\\\x");
	cr_assert_str_eq(pkt.app.tls.alpn, "a\\x2cb,c\"d");
}

Test(ingest_tls, sni_takes_first_host_name)
{
	struct sx_tmsg exts = {.n = 0};
	struct sx_tmsg hs = {.n = 0};
	struct sx_tmsg m = {.n = 0};
	struct sx_pkt pkt;

	/* list: type 7 "zz", then host_name "one", then host_name "two" */
	sx_tm_put16(&exts, 0);
	sx_tm_put16(&exts, 2 + 5 + 6 + 6);
	sx_tm_put16(&exts, 5 + 6 + 6);
	sx_tm_put8(&exts, 7);
	sx_tm_put16(&exts, 2);
	sx_tm_putbytes(&exts, "zz", 2);
	sx_tm_put8(&exts, 0);
	sx_tm_put16(&exts, 3);
	sx_tm_putbytes(&exts, "one", 3);
	sx_tm_put8(&exts, 0);
	sx_tm_put16(&exts, 3);
	sx_tm_putbytes(&exts, "two", 3);
	client_hello(&hs, &exts);
	record(&m, 22, 0x0301, &hs);
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TLS);
	cr_assert_str_eq(pkt.app.tls.sni, "one");
}

Test(ingest_tls, long_alpn_list_keeps_whole_names)
{
	static const char *const names[] = {
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	    "cccccccccccccccccccccccccccccccccccccccc",
	    "dddddddddddddddddddddddddddddddddddddddd",
	};
	struct sx_tmsg exts = {.n = 0};
	struct sx_tmsg hs = {.n = 0};
	struct sx_tmsg m = {.n = 0};
	struct sx_pkt pkt;

	ext_alpn(&exts, names, 4);
	client_hello(&hs, &exts);
	record(&m, 22, 0x0301, &hs);
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TLS);
	cr_assert_eq(strlen(pkt.app.tls.alpn), 3 * 40 + 2);
	cr_assert_eq(pkt.app.tls.alpn[strlen(pkt.app.tls.alpn) - 1], 'c');
}

Test(ingest_tls, many_versions_kept_up_to_max)
{
	static const uint16_t v[] = {0x0304, 0x0303, 0x0302, 0x0301, 0x0300,
				     0x7f1c, 0x7f1d, 0x7f1e, 0x7f1f, 0x7f20};
	struct sx_tmsg exts = {.n = 0};
	struct sx_tmsg hs = {.n = 0};
	struct sx_tmsg m = {.n = 0};
	struct sx_pkt pkt;

	ext_versions(&exts, v, 10);
	client_hello(&hs, &exts);
	record(&m, 22, 0x0301, &hs);
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TLS);
	cr_assert_eq(pkt.app.tls.nversions, SX_TLS_MAX_VERSIONS);
	cr_assert_eq(pkt.app.tls.versions[7], 0x7f1e);
}

Test(ingest_tls, client_hello_cut_by_segment_keeps_what_was_read)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	size_t sni_end;
	uint8_t *p;

	typical_client_hello(&m);
	/* record and handshake headers, version, random, session id, cipher
	 * suites, compression, extensions length, GREASE, server_name */
	sni_end = 5 + 4 + 2 + 32 + 1 + 32 + 2 + 4 + 1 + 1 + 2 + 4 + 24;
	p = sx_tt_exact(m.b, sni_end);
	sx_tt_set_pkt(&pkt, SX_P_TCP, 50000, 443, p, sni_end, sni_end);
	sx_app_dissect(&pkt);
	cr_assert_eq(pkt.proto, SX_P_TLS);
	cr_assert_eq(pkt.app.tls.hs_type, 1);
	cr_assert_eq(pkt.app.tls.legacy_version, 0x0303);
	cr_assert_str_eq(pkt.app.tls.sni, "api.example.com");
	cr_assert_str_eq(pkt.app.tls.alpn, "");
	cr_assert_eq(pkt.app.tls.nversions, 0);
	free(p);

	/* one byte less: the name is incomplete and not kept */
	p = sx_tt_exact(m.b, sni_end - 1);
	sx_tt_set_pkt(&pkt, SX_P_TCP, 50000, 443, p, sni_end - 1, sni_end - 1);
	sx_app_dissect(&pkt);
	cr_assert_eq(pkt.proto, SX_P_TLS);
	cr_assert_str_eq(pkt.app.tls.sni, "");
	cr_assert_eq(pkt.app.tls.legacy_version, 0x0303);
	free(p);
}

Test(ingest_tls, truncated_at_every_offset)
{
	struct sx_tmsg m;
	struct sx_tmsg hs = {.n = 0};
	struct sx_tmsg ccs = {.n = 0};
	size_t i;
	unsigned round;

	for (round = 0; round < 2; round++) {
		if (round == 0) {
			typical_client_hello(&m);
		} else {
			m.n = 0;
			server_hello(&hs, 0x0304);
			record(&m, 22, 0x0303, &hs);
			sx_tm_put8(&ccs, 1);
			record(&m, 20, 0x0303, &ccs);
		}
		for (i = 0; i <= m.n; i++) {
			struct sx_pkt pkt;
			uint8_t *p = sx_tt_exact(m.b, i);

			sx_tt_set_pkt(&pkt, SX_P_TCP, 50000, 443, p, i, i);
			sx_app_dissect(&pkt);
			if (i >= 5)
				cr_assert_eq(pkt.proto, SX_P_TLS, "at %zu", i);
			if (pkt.proto == SX_P_TLS)
				assert_tls(&pkt.app.tls);
			free(p);
		}
	}
}

Test(ingest_tls, malformed_lengths_inside_hello)
{
	struct sx_tmsg exts = {.n = 0};
	struct sx_tmsg hs = {.n = 0};
	struct sx_tmsg m;
	struct sx_pkt pkt;
	size_t at;

	/* SNI list length larger than the extension: the entry is whole */
	sx_tm_put16(&exts, 0);
	sx_tm_put16(&exts, 9);
	sx_tm_put16(&exts, 500);
	sx_tm_put8(&exts, 0);
	sx_tm_put16(&exts, 4);
	sx_tm_putbytes(&exts, "abcd", 4);
	/* ALPN entry longer than its list */
	sx_tm_put16(&exts, 16);
	sx_tm_put16(&exts, 5);
	sx_tm_put16(&exts, 3);
	sx_tm_put8(&exts, 200);
	sx_tm_putbytes(&exts, "h2", 2);
	/* extension length past the end of the extensions, list cut short */
	sx_tm_put16(&exts, 43);
	sx_tm_put16(&exts, 300);
	sx_tm_put8(&exts, 4);
	sx_tm_put16(&exts, 0x0304);
	client_hello(&hs, &exts);
	m.n = 0;
	record(&m, 22, 0x0301, &hs);
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TLS);
	cr_assert_eq(pkt.app.tls.hs_type, 1);
	cr_assert_str_eq(pkt.app.tls.sni, "abcd");
	cr_assert_str_eq(pkt.app.tls.alpn, "");
	/* read as far as the bytes go, whole entries only */
	cr_assert_eq(pkt.app.tls.nversions, 1);
	cr_assert_eq(pkt.app.tls.versions[0], 0x0304);

	/* session id longer than 32 */
	hs.n = 0;
	exts.n = 0;
	client_hello(&hs, &exts);
	at = 4 + 2 + 32;
	hs.b[at] = 200;
	m.n = 0;
	record(&m, 22, 0x0301, &hs);
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TLS);
	cr_assert_eq(pkt.app.tls.legacy_version, 0x0303);
	cr_assert_eq(pkt.app.tls.nversions, 0);
}

/* SSL 2.0 compatible ClientHello offering TLS 1.0 (IoT Sentinel, D-LinkCam
 * Setup-C-3, frame 91) */
static const uint8_t sslv2_hello[] = {
    0x80, 0x7d, 0x01, 0x03, 0x01, 0x00, 0x54, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x39, 0x00, 0x00,
    0x38, 0x00, 0x00, 0x35, 0x00, 0x00, 0x16, 0x00, 0x00, 0x13, 0x00, 0x00, 0x0a, 0x07, 0x00, 0xc0,
    0x00, 0x00, 0x33, 0x00, 0x00, 0x32, 0x00, 0x00, 0x2f, 0x00, 0x00, 0x07, 0x05, 0x00, 0x80, 0x03,
    0x00, 0x80, 0x00, 0x00, 0x05, 0x00, 0x00, 0x04, 0x01, 0x00, 0x80, 0x00, 0x00, 0x15, 0x00, 0x00,
    0x12, 0x00, 0x00, 0x09, 0x06, 0x00, 0x40, 0x00, 0x00, 0x14, 0x00, 0x00, 0x11, 0x00, 0x00, 0x08,
    0x00, 0x00, 0x06, 0x04, 0x00, 0x80, 0x00, 0x00, 0x03, 0x02, 0x00, 0x80, 0x00, 0x00, 0xff, 0xa0,
    0xbd, 0x63, 0xda, 0x58, 0x47, 0x39, 0x82, 0x28, 0x65, 0x9f, 0xa1, 0xc8, 0xc8, 0x92, 0x00, 0xd8,
    0x86, 0xed, 0xa6, 0x61, 0x5a, 0xbe, 0xb6, 0xdc, 0x2a, 0x12, 0x13, 0xf7, 0xb6, 0xb8, 0x6e,
};

Test(ingest_tls, sslv2_compatible_client_hello)
{
	struct sx_tmsg m = {.n = 0};
	struct sx_pkt pkt;
	size_t i;

	sx_tm_putbytes(&m, sslv2_hello, sizeof(sslv2_hello));
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TLS);
	cr_assert_eq(pkt.app.tls.nrecords, 1);
	cr_assert_eq(pkt.app.tls.content_type[0], 22);
	cr_assert_eq(pkt.app.tls.record_version, 0x0002);
	cr_assert_eq(pkt.app.tls.hs_type, 1);
	cr_assert_eq(pkt.app.tls.legacy_version, 0x0301);
	cr_assert_str_eq(pkt.app.tls.sni, "");

	/* the 11-byte header is enough; less is not */
	for (i = 0; i <= sizeof(sslv2_hello); i++) {
		uint8_t *p = sx_tt_exact(sslv2_hello, i);

		sx_tt_set_pkt(&pkt, SX_P_TCP, 50000, 443, p, i, i);
		sx_app_dissect(&pkt);
		cr_assert_eq(pkt.proto, i >= 11 ? SX_P_TLS : SX_P_TCP, "at %zu", i);
		free(p);
	}

	/* lengths that do not add up */
	m.b[1] = 0x7e;
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TCP);
	m.b[1] = 0x7d;
	m.b[6] = 0x55; /* cipher specs not a multiple of 3 */
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TCP);
	m.b[6] = 0x54;
	m.b[2] = 0x02; /* not CLIENT-HELLO */
	cr_assert_eq(run_tcp(&pkt, 443, &m), SX_P_TCP);
}

Test(ingest_tls, random_segments_are_rarely_tls)
{
	uint32_t x = 4242;
	unsigned claimed = 0;
	unsigned i;

	for (i = 0; i < 20000; i++) {
		struct sx_tmsg m = {.n = 0};
		struct sx_pkt pkt;
		size_t len;
		size_t j;

		x = x * 1103515245u + 12345u;
		len = 1 + (x >> 16) % 1460;
		for (j = 0; j < len; j++) {
			x = x * 1103515245u + 12345u;
			sx_tm_put8(&m, (uint8_t)(x >> 24));
		}
		if (run_tcp(&pkt, 443, &m) == SX_P_TLS)
			claimed++;
	}
	cr_assert_lt(claimed, 3, "%u of 20000 random segments claimed", claimed);
}
