/*
 * test_flows_attrs.c - a flow's attribute tokens (the AppAttributes
 * column): each distinct token once, in order of first sight, those that
 * do not fit left out and flagged.  The merge takes shortcuts for a
 * message the flow carried before (the run it left in the list); a
 * straightforward merge kept here as the oracle must agree with it on
 * every sequence of messages, hand-built and drawn at random.  A segment
 * to port 80 that the smart-home firewall reads as a request although it
 * is none gives its reading (http.fw).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flows/flows_int.h"
#include "ingest/app.h"
#include "support/pkt.h"

TestSuite(flows_attrs, .timeout = 30);

/* The list as a flow holds it, with the merge's run. */
struct list {
	char text[SX_FLOW_ATTR_MAX];
	uint16_t len;
	uint16_t run[2];
};

/* The oracle: every token of src looked up in dst, appended when absent and
 * when it fits. */
static bool oracle_merge(char *dst, size_t dsz, uint16_t *dlen, const char *src)
{
	size_t len = *dlen;
	bool cut = false;

	while (*src) {
		const char *sp = strchr(src, ' ');
		size_t n = sp ? (size_t)(sp - src) : strlen(src);
		bool found = false;
		const char *p = dst, *end = dst + len;

		while (n && p < end && !found) {
			const char *q = memchr(p, ' ', (size_t)(end - p));
			size_t m = q ? (size_t)(q - p) : (size_t)(end - p);

			found = m == n && memcmp(p, src, n) == 0;
			p += m + 1;
		}
		if (n && !found) {
			if (len + n + (len > 0) < dsz) {
				if (len)
					dst[len++] = ' ';
				memcpy(dst + len, src, n);
				len += n;
				dst[len] = '\0';
			} else {
				cut = true;
			}
		}
		src += n;
		while (*src == ' ')
			src++;
	}
	*dlen = (uint16_t)len;
	return cut;
}

static bool merge(struct list *l, size_t size, const char *src)
{
	return sx_flows__attrs_merge(l->text, size, &l->len, l->run, src);
}

Test(flows_attrs, tokens_once_each_in_order_of_first_sight)
{
	struct list l = {.len = 0};

	cr_assert_not(merge(&l, sizeof(l.text), "mdns.q=PTR:_hue._tcp.local."));
	cr_assert_not(merge(&l, sizeof(l.text), "mdns.q=PTR:_hue._tcp.local."));
	cr_assert_not(merge(&l, sizeof(l.text), "dns.q=A:a.example dns.q=AAAA:a.example"));
	cr_assert_not(
	    merge(&l, sizeof(l.text), "dns.q=AAAA:a.example mdns.q=PTR:_hue._tcp.local."));
	cr_assert_not(merge(&l, sizeof(l.text), "dns.q=AAAA:a.example dns.q=A:b.example"));
	cr_assert_str_eq(l.text, "mdns.q=PTR:_hue._tcp.local. dns.q=A:a.example "
				 "dns.q=AAAA:a.example dns.q=A:b.example");
	cr_assert_eq(l.len, strlen(l.text));
}

Test(flows_attrs, a_token_is_matched_whole)
{
	struct list l = {.len = 0};

	merge(&l, sizeof(l.text), "xa=1 b=2");
	/* "a=1" ends "xa=1" and "b=2 " follows it: not a run of src */
	merge(&l, sizeof(l.text), "a=1 b=2");
	cr_assert_str_eq(l.text, "xa=1 b=2 a=1");
	merge(&l, sizeof(l.text), "b=2");
	merge(&l, sizeof(l.text), "b=");
	cr_assert_str_eq(l.text, "xa=1 b=2 a=1 b=");
}

Test(flows_attrs, what_does_not_fit_is_left_out_every_time)
{
	struct list l = {.len = 0};
	const size_t size = 12; /* "tls.sni=a.b" and its NUL */

	cr_assert_not(merge(&l, size, "tls.sni=a.b"));
	cr_assert(merge(&l, size, "tls.sni=a.b tls.alpn=h2"));
	cr_assert(merge(&l, size, "tls.sni=a.b tls.alpn=h2"));
	cr_assert_not(merge(&l, size, "tls.sni=a.b"));
	cr_assert_str_eq(l.text, "tls.sni=a.b");
}

/* A message of 1 to 4 tokens drawn from a small set, so that the messages
 * of one flow overlap, repeat and sometimes do not fit. */
static void draw(char *buf, size_t size, unsigned *seed)
{
	static const char *const toks[] = {"a=1", "b=22", "a=11",    "ab=1", "c=333",
					   "d=4", "b=2",  "e=55555", "f=6",  "g=7777777"};
	unsigned n = 1 + (unsigned)rand_r(seed) % 4, i;
	size_t len = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? " " : "",
					toks[(unsigned)rand_r(seed) % 10]);
}

Test(flows_attrs, agrees_with_the_plain_merge_on_random_messages)
{
	unsigned seed = 12345, flow, k;

	for (flow = 0; flow < 2000; flow++) {
		struct list l = {.len = 0};
		char want[SX_FLOW_ATTR_MAX] = "";
		uint16_t want_len = 0;
		/* a small list in most flows, so that tokens are left out */
		size_t size = flow % 3 ? 24 + flow % 40 : sizeof(l.text);
		char msgs[4][64];
		size_t off = 0;

		for (k = 0; k < 4; k++)
			draw(msgs[k], sizeof(msgs[k]), &seed);
		/* a record used before: its old tokens, the flow's own messages
		 * among them, past the new list's end */
		while (off + 64 < sizeof(l.text))
			off += (size_t)snprintf(l.text + off, 64, "%s ",
						msgs[(unsigned)rand_r(&seed) % 4]);
		l.text[0] = '\0';
		for (k = 0; k < 30; k++) {
			/* a flow repeats a few messages, as a device does */
			const char *src = msgs[(unsigned)rand_r(&seed) % 4];
			bool cut = merge(&l, size, src);

			cr_assert_eq(cut, oracle_merge(want, size, &want_len, src),
				     "flow %u, message %u: \"%s\"", flow, k, src);
			cr_assert_eq(l.len, want_len);
			cr_assert_str_eq(l.text, want, "flow %u, message %u: \"%s\"", flow, k, src);
		}
	}
}

/* ---- http.fw: the firewall's reading of a segment that is no request ---- */

/* The tokens of payload s sent from 50000 to dport (dissected as sigex
 * does), into out; returns whether the packet carries application data. */
static bool tokens(const char *s, uint16_t dport, char *out, size_t outsz)
{
	struct sx_pkt pkt;
	size_t n = strlen(s);
	uint8_t *p = sx_tt_exact(s, n);
	bool app;

	sx_tt_set_pkt(&pkt, SX_P_TCP, 50000, dport, p, n, n);
	pkt.ip_proto = 6;
	sx_app_dissect(&pkt);
	app = sx_flows__pkt_has_app(&pkt);
	sx_flows__pkt_attrs(&pkt, out, outsz);
	free(p);
	return app;
}

Test(flows_attrs, a_segment_the_firewall_reads_as_a_request_is_an_http_fw_token)
{
	static const struct {
		const char *payload, *attrs;
	} t[] = {
	    /* a header section's continuation: what the firewall's parser reads */
	    {"Host: www.fitbit.com\r\n\r\n", "http.fw=HEAD:"},
	    {"Content-Length: 48\r\nConnection: keep-alive\r\n\r\n", "http.fw=CONNECT:Length:"},
	    /* a body that sigex takes for no HTTP at all */
	    {"Total=42&name=x&y=zz", "http.fw=TRACE:42&name=x&y=zz"},
	    /* a request line is http.req alone */
	    {"GET /x HTTP/1.1\r\nHost: a.example\r\n\r\n", "http.req=GET:a.example/x"},
	};
	char out[SX_FLOW_ATTR_MAX];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cr_assert(tokens(t[i].payload, 80, out, sizeof(out)), "%s", t[i].payload);
		cr_assert_str_eq(out, t[i].attrs, "%s", t[i].payload);
	}
}

/* None off port 80 (the firewall's parser takes requests to port 80 only),
 * under 16 bytes (no HTTP message to it), or with a reading that is not
 * printable text. */
Test(flows_attrs, no_http_fw_token_where_the_firewall_reads_no_request)
{
	char out[SX_FLOW_ATTR_MAX];

	cr_assert_not(tokens("Host: www.fitbit.com\r\n\r\n", 8080, out, sizeof(out)));
	cr_assert_str_eq(out, "");
	cr_assert_not(tokens("Host: a\r\n\r\n", 80, out, sizeof(out)));
	cr_assert_str_eq(out, "");
	cr_assert_not(tokens("Content-\x01bc: 12345678\r\n", 80, out, sizeof(out)));
	cr_assert_str_eq(out, "");
	cr_assert_not(tokens("User-Agent: curl/8.0\r\n\r\n", 80, out, sizeof(out)));
	cr_assert_str_eq(out, "");
}
