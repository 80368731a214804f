/*
 * test_ingest_http.c - HTTP/1.x start lines and Host (ingest/app_http.c).
 *
 * Payloads are malloc'd at their exact length so AddressSanitizer catches
 * overreads; every result is checked against packet.h's string invariant.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/app.h"
#include "ingest/ingest.h"
#include "support/pkt.h"

TestSuite(ingest_http, .timeout = 60);

static void assert_http(const struct sx_http *h)
{
	sx_tt_assert_printable(h->method, sizeof(h->method));
	sx_tt_assert_printable(h->host, sizeof(h->host));
	sx_tt_assert_printable(h->path, sizeof(h->path));
	sx_tt_assert_printable(h->query, sizeof(h->query));
}

/* Dissect n bytes of s as TCP sport -> dport; returns the proto. */
static uint8_t run(struct sx_pkt *pkt, uint8_t proto, uint16_t sport, uint16_t dport, const void *s,
		   size_t n)
{
	uint8_t *p = sx_tt_exact(s, n);

	sx_tt_set_pkt(pkt, proto, sport, dport, p, n, n);
	sx_app_dissect(pkt);
	free(p);
	pkt->payload = NULL;
	if (pkt->proto == SX_P_HTTP)
		assert_http(&pkt->app.http);
	return pkt->proto;
}

static uint8_t run_str(struct sx_pkt *pkt, uint16_t dport, const char *s)
{
	return run(pkt, SX_P_TCP, 50000, dport, s, strlen(s));
}

static const char get_req[] = "GET /api/v1/status?id=42&x=y HTTP/1.1\r\n"
			      "User-Agent: curl/8.0\r\n"
			      "Host: Cloud.Example.COM:8080\r\n"
			      "Accept: */*\r\n"
			      "\r\n";

Test(ingest_http, get_request)
{
	struct sx_pkt pkt;
	const struct sx_http *h = &pkt.app.http;

	cr_assert_eq(run_str(&pkt, 80, get_req), SX_P_HTTP);
	cr_assert_not(h->response);
	cr_assert_str_eq(h->method, "GET");
	cr_assert_str_eq(h->host, "cloud.example.com:8080");
	cr_assert_str_eq(h->path, "/api/v1/status");
	cr_assert_str_eq(h->query, "id=42&x=y");
	cr_assert_eq(h->status, 0);
	cr_assert_not(h->cut);
}

Test(ingest_http, any_tcp_port_bare_lf_and_header_case)
{
	struct sx_pkt pkt;
	const struct sx_http *h = &pkt.app.http;

	cr_assert_eq(
	    run_str(&pkt, 49152,
		    "POST /upload HTTP/1.0\nhOsT:   Device.Local \t\nContent-Length: 0\n\n"),
	    SX_P_HTTP);
	cr_assert_str_eq(h->method, "POST");
	cr_assert_str_eq(h->host, "device.local");
	cr_assert_str_eq(h->path, "/upload");
	cr_assert_str_eq(h->query, "");
}

Test(ingest_http, all_methods)
{
	static const char *const methods[] = {
	    "GET",   "HEAD",  "POST",	"PUT",	    "DELETE",	 "CONNECT",	"OPTIONS",
	    "TRACE", "PATCH", "NOTIFY", "M-SEARCH", "SUBSCRIBE", "UNSUBSCRIBE",
	};
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		struct sx_pkt pkt;
		char line[64];

		snprintf(line, sizeof(line), "%s * HTTP/1.1\r\n\r\n", methods[i]);
		cr_assert_eq(run_str(&pkt, 80, line), SX_P_HTTP, "%s", methods[i]);
		cr_assert_str_eq(pkt.app.http.method, methods[i]);
		cr_assert_str_eq(pkt.app.http.path, "*");
	}
}

Test(ingest_http, responses)
{
	struct sx_pkt pkt;

	cr_assert_eq(run(&pkt, SX_P_TCP, 80, 50000, "HTTP/1.1 200 OK\r\nHost: x\r\n\r\n", 28),
		     SX_P_HTTP);
	cr_assert(pkt.app.http.response);
	cr_assert_eq(pkt.app.http.status, 200);
	cr_assert_str_eq(pkt.app.http.method, "");
	cr_assert_str_eq(pkt.app.http.host, "", "no Host for responses");
	cr_assert_eq(run_str(&pkt, 80, "HTTP/1.0 404 Not Found\r\n\r\n"), SX_P_HTTP);
	cr_assert_eq(pkt.app.http.status, 404);
	cr_assert_eq(run_str(&pkt, 80, "HTTP/1.1 101\r\n\r\n"), SX_P_HTTP);
	cr_assert_eq(pkt.app.http.status, 101);
}

Test(ingest_http, not_http)
{
	static const char *const bad[] = {
	    "get / HTTP/1.1\r\n\r\n", /* methods are case-sensitive */
	    "FOO / HTTP/1.1\r\n\r\n",
	    "GET / HTTP/2.0\r\n\r\n",
	    "GET  HTTP/1.1\r\n\r\n", /* empty target */
	    "GET / HTTP/1.1x\r\n\r\n",
	    "GET /\r\n\r\n", /* HTTP/0.9 */
	    "GET",
	    "GETX / HTTP/1.1\r\n",
	    "HTTP/2 200 OK\r\n\r\n",
	    "HTTP/1.1 999 Nope\r\n\r\n",
	    "HTTP/1.1 20 OK\r\n\r\n",
	    "HTTP/1.1 2000 OK\r\n\r\n",
	    "HTTP/1.1 200", /* cut: could be 2000 */
	    "SSH-2.0-OpenSSH_9.2\r\n",
	    "",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sx_pkt pkt;

		cr_assert_eq(run_str(&pkt, 80, bad[i]), SX_P_TCP, "\"%s\"", bad[i]);
	}
}

Test(ingest_http, never_over_udp)
{
	struct sx_pkt pkt;
	uint8_t *p = sx_tt_exact(get_req, strlen(get_req));

	cr_assert_eq(run(&pkt, SX_P_UDP, 50000, 80, get_req, strlen(get_req)), SX_P_UDP);
	sx_tt_set_pkt(&pkt, SX_P_UDP, 50000, 80, p, strlen(get_req), strlen(get_req));
	cr_assert_not(sx_app_http(&pkt, p, strlen(get_req)));
	free(p);
}

Test(ingest_http, request_line_cut_by_capture)
{
	struct sx_pkt pkt;
	const char *s = "GET /very/long/path?x=1&y";
	uint8_t *p = sx_tt_exact(s, strlen(s));

	/* snaplen: 25 bytes captured of a longer segment */
	sx_tt_set_pkt(&pkt, SX_P_TCP, 50000, 80, p, strlen(s), 1400);
	sx_app_dissect(&pkt);
	cr_assert_eq(pkt.proto, SX_P_HTTP);
	cr_assert(pkt.app.http.cut);
	cr_assert_str_eq(pkt.app.http.method, "GET");
	cr_assert_str_eq(pkt.app.http.path, "/very/long/path");
	cr_assert_str_eq(pkt.app.http.query, "x=1&y");
	cr_assert_str_eq(pkt.app.http.host, "");
	free(p);
}

Test(ingest_http, host_cut_by_capture_is_not_kept)
{
	struct sx_pkt pkt;
	const char *s = "GET / HTTP/1.1\r\nHost: abc.exam";

	cr_assert_eq(run_str(&pkt, 80, s), SX_P_HTTP);
	cr_assert_str_eq(pkt.app.http.host, "");
	cr_assert_str_eq(pkt.app.http.path, "/");
}

Test(ingest_http, first_host_wins_and_lookalikes_ignored)
{
	struct sx_pkt pkt;

	cr_assert_eq(run_str(&pkt, 80,
			     "GET / HTTP/1.1\r\nX-Host: no\r\nHostname: no\r\nno colon line\r\n"
			     "HOST: yes\r\nHost: second\r\n\r\nHost: body\r\n"),
		     SX_P_HTTP);
	cr_assert_str_eq(pkt.app.http.host, "yes");
	cr_assert_eq(run_str(&pkt, 80, "GET / HTTP/1.1\r\n\r\nHost: in-body\r\n"), SX_P_HTTP);
	cr_assert_str_eq(pkt.app.http.host, "");
}

Test(ingest_http, hostile_bytes_are_escaped)
{
	static const uint8_t req[] = "GET /a\"b,c\x80\xff\x01\\?q=\"x\x00y HTTP/1.1\r\n"
				     "Host: Ev\"il,\x7f\x00\x1b\r\r\n\r\n";
	struct sx_pkt pkt;

	cr_assert_eq(run(&pkt, SX_P_TCP, 50000, 80, req, sizeof(req) - 1), SX_P_HTTP);
	cr_assert_str_eq(pkt.app.http.path, "/a\"b,c\\x80\\xff\\x01\\\\");
	cr_assert_str_eq(pkt.app.http.query, "q=\"x\\x00y");
	cr_assert_str_eq(pkt.app.http.host, "ev\"il,\\x7f\\x00\\x1b\\x0d");
}

Test(ingest_http, long_values_are_cut)
{
	char req[2048];
	struct sx_pkt pkt;
	size_t n;

	n = (size_t)snprintf(req, sizeof(req), "GET /");
	memset(req + n, 'p', 400);
	n += 400;
	n += (size_t)snprintf(req + n, sizeof(req) - n, "?");
	memset(req + n, 'q', 400);
	n += 400;
	n += (size_t)snprintf(req + n, sizeof(req) - n, " HTTP/1.1\r\nHost: ");
	memset(req + n, 'h', 400);
	n += 400;
	n += (size_t)snprintf(req + n, sizeof(req) - n, "\r\n\r\n");
	cr_assert_eq(run(&pkt, SX_P_TCP, 50000, 80, req, n), SX_P_HTTP);
	cr_assert(pkt.app.http.cut);
	cr_assert_eq(strlen(pkt.app.http.path), SX_URI_MAX - 1);
	cr_assert_eq(strlen(pkt.app.http.query), SX_URI_MAX - 1);
	cr_assert_eq(strlen(pkt.app.http.host), SX_NAME_MAX - 1);
}

Test(ingest_http, truncated_at_every_offset)
{
	size_t n = strlen(get_req);
	size_t i;
	unsigned mode;

	for (mode = 0; mode < 2; mode++) {
		for (i = 0; i <= n; i++) {
			struct sx_pkt pkt;
			uint8_t *p = sx_tt_exact(get_req, i);

			sx_tt_set_pkt(&pkt, SX_P_TCP, 50000, 80, p, i, mode ? n : i);
			sx_app_dissect(&pkt);
			if (pkt.proto == SX_P_HTTP)
				assert_http(&pkt.app.http);
			if (i >= 5) /* "GET /" */
				cr_assert_eq(pkt.proto, SX_P_HTTP, "at %zu", i);
			free(p);
		}
	}
}

Test(ingest_http, method_alone_in_its_segment)
{
	struct sx_pkt pkt;

	/* some clients write "POST " and the rest of the request separately */
	cr_assert_eq(run_str(&pkt, 80, "POST "), SX_P_HTTP);
	cr_assert_str_eq(pkt.app.http.method, "POST");
	cr_assert_str_eq(pkt.app.http.path, "");
	cr_assert(pkt.app.http.cut);
	cr_assert_eq(run_str(&pkt, 80, "POST"), SX_P_TCP);
	cr_assert_eq(run_str(&pkt, 80, "POST \r\n"), SX_P_TCP);
}

/* Header fields continuing a request in their own segment (a scale sends
 * "Host:" after the request line); binary data or other lines are not. */
Test(ingest_http, continuation_segment)
{
	struct sx_pkt pkt;

	cr_assert_eq(run_str(&pkt, 80, "Host: www.fitbit.com\r\n\r\n"), SX_P_HTTP);
	cr_assert(pkt.app.http.continuation);
	cr_assert_str_eq(pkt.app.http.method, "");
	cr_assert_str_eq(pkt.app.http.host, "www.fitbit.com");
	assert_http(&pkt.app.http);

	cr_assert_eq(run_str(&pkt, 8080, "User-Agent: x\r\nHOST: Cam.Example:8080\r\n\r\n"),
		     SX_P_HTTP);
	cr_assert(pkt.app.http.continuation);
	cr_assert_str_eq(pkt.app.http.host, "cam.example:8080");

	/* not a known request header, or not a complete line: not HTTP */
	cr_assert_eq(run_str(&pkt, 80, "X-Custom: 1\r\n"), SX_P_TCP);
	cr_assert_eq(run_str(&pkt, 80, "Host: cut-before-the-end"), SX_P_TCP);
	cr_assert_eq(run_str(&pkt, 80, "downalod host:%s\r\n"), SX_P_TCP);
}

/* ---- the firewall's reading (sx_http_fw_read) ---- */

/* Read s (its own length on the wire) into uri; returns the method. */
static int fw_read(const char *s, char *uri, size_t urisz)
{
	size_t n = strlen(s);
	uint8_t *p = sx_tt_exact(s, n);
	int m = sx_http_fw_read(p, n, (uint32_t)n, uri, urisz);

	free(p);
	return m;
}

/*
 * The firewall's parser (parsers/src/http.c) knows a method by its first
 * letter, or two for P, skips that method's name and one byte, and reads up
 * to the next space: a request line reads as itself, a header section's
 * continuation as another request.
 */
Test(ingest_http, the_firewall_reads_a_method_by_its_first_letters)
{
	static const struct {
		const char *payload, *method, *uri;
	} t[] = {
	    {"GET /scale/register?serial=1 HTTP/1.1\r\n", "GET", "/scale/register?serial=1"},
	    {"POST /scale/upload HTTP/1.1\r\n", "POST", "/scale/upload"},
	    {"PUT /a HTTP/1.1\r\nHost: x\r\n", "PUT", "/a"},
	    {"Host: www.fitbit.com\r\n\r\n", "HEAD", ""},
	    {"Content-Length: 48\r\nConnection: keep-alive\r\n", "CONNECT", "Length:"},
	    {"Cookie: a=b; c=d\r\n\r\n", "CONNECT", "a=b;"},
	    {"Date: Mon, 07 Dec 2026 10:00:00 GMT\r\n", "DELETE", "on,"},
	    {"Origin: http://x.example\r\n", "OPTIONS", "http://x.example\r\n"},
	    {"Transfer-Encoding: chunked\r\n", "TRACE", "er-Encoding:"},
	};
	char uri[64];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int m = fw_read(t[i].payload, uri, sizeof(uri));

		cr_assert_str_eq(sx_http_fw_method_name(m), t[i].method, "%s", t[i].payload);
		cr_assert_str_eq(uri, t[i].uri, "%s", t[i].payload);
	}
}

/* No message to it: a payload under 16 bytes, a first letter it does not
 * know (User-Agent, Accept, a body), P followed by another letter. */
Test(ingest_http, the_firewall_reads_no_message_in_these)
{
	static const char *const t[] = {
	    "GET / HTTP/1.1", /* 14 bytes */
	    "User-Agent: curl/8.0\r\n\r\n",
	    "Accept: */*\r\nHost: x\r\n\r\n",
	    "{\"state\": 1, \"id\": 42}",
	    "Pragma: no-cache\r\n\r\n",
	    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\x00\x00\x00\x00",
	};
	char uri[16] = "x";

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cr_assert_eq(fw_read(t[i], uri, sizeof(uri)), 0, "%s", t[i]);
		cr_assert_str_eq(uri, "");
	}
	cr_assert_str_eq(sx_http_fw_method_name(0), "");
	cr_assert_str_eq(sx_http_fw_method_name(9), "");
}

/* The URI stops at the captured bytes and at the buffer, whatever the wire
 * length says. */
Test(ingest_http, the_firewall_reading_stays_in_bounds)
{
	static const char s[] = "GET /a-long-path-without-a-space";
	uint8_t *p = sx_tt_exact(s, 12);
	char uri[8];

	cr_assert_eq(sx_http_fw_read(p, 12, 400, uri, sizeof(uri)), 1);
	cr_assert_str_eq(uri, "/a-long");
	free(p);
	p = sx_tt_exact(s, 7);
	{
		char big[64];

		cr_assert_eq(sx_http_fw_read(p, 7, 400, big, sizeof(big)), 1);
		cr_assert_str_eq(big, "/a-");
	}
	free(p);
}
