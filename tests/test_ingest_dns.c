/*
 * test_ingest_dns.c - DNS, mDNS and LLMNR (ingest/app_dns.c).
 *
 * Messages are built byte by byte here (a tiny writer below), plus one
 * real query/response pair taken from the pcap-fuzzer dns.pcap trace.
 * Payloads are malloc'd at their exact length so that AddressSanitizer
 * turns any overread into a crash; every test also checks the string
 * invariant of packet.h (printable ASCII, NUL-terminated).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/app.h"
#include "ingest/ingest.h"
#include "support/pkt.h"

TestSuite(ingest_dns, .timeout = 60);

/* ---- helpers ---- */

/* "www.example.com" as labels, with the root label (no compression). */
static void putname(struct sx_tmsg *m, const char *name)
{
	const char *s = name;

	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		sx_tm_put8(m, (uint8_t)l);
		sx_tm_putbytes(m, s, l);
		s += l;
		if (*s == '.')
			s++;
	}
	sx_tm_put8(m, 0);
}

static void header(struct sx_tmsg *m, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
		   uint16_t ns, uint16_t ar)
{
	m->n = 0;
	sx_tm_put16(m, id);
	sx_tm_put16(m, flags);
	sx_tm_put16(m, qd);
	sx_tm_put16(m, an);
	sx_tm_put16(m, ns);
	sx_tm_put16(m, ar);
}

/* Record header after the owner name; returns the offset of RDLENGTH. */
static size_t rr_fixed(struct sx_tmsg *m, uint16_t type, uint16_t class, uint32_t ttl)
{
	size_t at;

	sx_tm_put16(m, type);
	sx_tm_put16(m, class);
	sx_tm_put32(m, ttl);
	at = m->n;
	sx_tm_put16(m, 0);
	return at;
}

static void rr_done(struct sx_tmsg *m, size_t at)
{
	size_t len = m->n - at - 2;

	m->b[at] = (uint8_t)(len >> 8);
	m->b[at + 1] = (uint8_t)len;
}

static void assert_dns_strings(const struct sx_dns *d)
{
	unsigned i;

	cr_assert_leq(d->nq, SX_DNS_MAX_Q);
	cr_assert_leq(d->nrr, SX_DNS_MAX_RR);
	for (i = 0; i < d->nq; i++)
		sx_tt_assert_printable(d->q[i].name, sizeof(d->q[i].name));
	for (i = 0; i < d->nrr; i++) {
		sx_tt_assert_printable(d->rr[i].name, sizeof(d->rr[i].name));
		sx_tt_assert_printable(d->rr[i].data, sizeof(d->rr[i].data));
	}
}

/* Dissect m as UDP from sport to dport; returns the resulting proto. */
static uint8_t run_udp(struct sx_pkt *pkt, uint16_t sport, uint16_t dport, const struct sx_tmsg *m,
		       uint8_t **keep)
{
	uint8_t *p = sx_tt_exact(m->b, m->n);

	sx_tt_set_pkt(pkt, SX_P_UDP, sport, dport, p, m->n, m->n);
	sx_app_dissect(pkt);
	*keep = p;
	return pkt->proto;
}

/* ---- real traffic: pcap-fuzzer traces/dns.pcap, frames 1 and 2 ---- */

static const uint8_t real_query[] = {
    0x6d, 0xca, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
    0x62, 0x75, 0x73, 0x69, 0x6e, 0x65, 0x73, 0x73, 0x0b, 0x73, 0x6d, 0x61, 0x72,
    0x74, 0x63, 0x61, 0x6d, 0x65, 0x72, 0x61, 0x03, 0x61, 0x70, 0x69, 0x02, 0x69,
    0x6f, 0x02, 0x6d, 0x69, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01,
};

static const uint8_t real_response[] = {
    0x6d, 0xca, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x08, 0x62, 0x75,
    0x73, 0x69, 0x6e, 0x65, 0x73, 0x73, 0x0b, 0x73, 0x6d, 0x61, 0x72, 0x74, 0x63, 0x61, 0x6d,
    0x65, 0x72, 0x61, 0x03, 0x61, 0x70, 0x69, 0x02, 0x69, 0x6f, 0x02, 0x6d, 0x69, 0x03, 0x63,
    0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00,
    0x02, 0x58, 0x00, 0x25, 0x16, 0x63, 0x6e, 0x61, 0x6d, 0x65, 0x2d, 0x61, 0x70, 0x70, 0x2d,
    0x63, 0x6f, 0x6d, 0x2d, 0x61, 0x6d, 0x73, 0x70, 0x72, 0x6f, 0x78, 0x79, 0x01, 0x77, 0x06,
    0x6d, 0x69, 0x2d, 0x64, 0x75, 0x6e, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0xc0, 0x40, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x93, 0x00, 0x04, 0x14, 0x2f, 0x61, 0xe7,
};

Test(ingest_dns, real_query)
{
	struct sx_tmsg m = {.n = 0};
	struct sx_pkt pkt;
	uint8_t *p;

	sx_tm_putbytes(&m, real_query, sizeof(real_query));
	cr_assert_eq(run_udp(&pkt, 40000, 53, &m, &p), SX_P_DNS);
	cr_assert_eq(pkt.app.dns.id, 0x6dca);
	cr_assert_not(pkt.app.dns.qr);
	cr_assert_eq(pkt.app.dns.opcode, 0);
	cr_assert_eq(pkt.app.dns.qdcount, 1);
	cr_assert_eq(pkt.app.dns.nq, 1);
	cr_assert_eq(pkt.app.dns.nrr, 0);
	cr_assert_not(pkt.app.dns.cut);
	cr_assert_str_eq(pkt.app.dns.q[0].name, "business.smartcamera.api.io.mi.com");
	cr_assert_eq(pkt.app.dns.q[0].qtype, 1);
	cr_assert_eq(pkt.app.dns.q[0].qclass, 1);
	free(p);
}

Test(ingest_dns, real_response_cname_then_a)
{
	struct sx_tmsg m = {.n = 0};
	struct sx_pkt pkt;
	const struct sx_dns *d = &pkt.app.dns;
	uint8_t *p;

	sx_tm_putbytes(&m, real_response, sizeof(real_response));
	cr_assert_eq(run_udp(&pkt, 53, 40000, &m, &p), SX_P_DNS);
	cr_assert(d->qr);
	cr_assert_eq(d->rcode, 0);
	cr_assert_eq(d->flags, 0x8180);
	cr_assert_eq(d->ancount, 2);
	cr_assert_eq(d->nrr, 2);
	cr_assert_not(d->cut);
	cr_assert_eq(d->rr[0].section, SX_DNS_AN);
	cr_assert_eq(d->rr[0].type, 5);
	cr_assert_eq(d->rr[0].ttl, 600);
	cr_assert_str_eq(d->rr[0].name, "business.smartcamera.api.io.mi.com");
	cr_assert_str_eq(d->rr[0].data, "cname-app-com-amsproxy.w.mi-dun.com");
	cr_assert_eq(d->rr[0].addr.family, 0);
	cr_assert_eq(d->rr[1].type, 1);
	cr_assert_eq(d->rr[1].ttl, 147);
	cr_assert_str_eq(d->rr[1].name, "cname-app-com-amsproxy.w.mi-dun.com");
	cr_assert_str_eq(d->rr[1].data, "20.47.97.231");
	cr_assert_eq(d->rr[1].addr.family, 4);
	cr_assert_eq(d->rr[1].addr.b[0], 20);
	cr_assert_eq(d->rr[1].addr.b[3], 231);
	cr_assert_eq(d->rr[1].addr.b[4], 0);
	assert_dns_strings(d);
	free(p);
}

/* ---- hand-built messages ---- */

/* An mDNS response with PTR, SRV, TXT, A and AAAA, names compressed. */
static void mdns_response(struct sx_tmsg *m)
{
	size_t at;
	size_t svc;
	size_t inst;
	size_t host;
	static const uint8_t v6[16] = {0xfe, 0x80, 0,	 0,    0,    0,	   0,	 0,
				       0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55};

	header(m, 0, 0x8400, 0, 3, 0, 2);
	/* _hap._tcp.local PTR Living Room._hap._tcp.local */
	svc = m->n;
	putname(m, "_hap._tcp.local");
	at = rr_fixed(m, 12, 1, 4500);
	inst = m->n;
	sx_tm_put8(m, 11);
	sx_tm_putbytes(m, "Living Room", 11);
	sx_tm_put16(m, 0xc000 | (uint16_t)svc);
	rr_done(m, at);
	/* instance SRV 0 0 8080 hub.local (cache-flush class) */
	sx_tm_put16(m, 0xc000 | (uint16_t)inst);
	at = rr_fixed(m, 33, 0x8001, 120);
	sx_tm_put16(m, 0);
	sx_tm_put16(m, 0);
	sx_tm_put16(m, 8080);
	host = m->n;
	sx_tm_put8(m, 3);
	sx_tm_putbytes(m, "hub", 3);
	sx_tm_put16(m, 0xc000 | (uint16_t)(svc + 10)); /* "local" inside _hap._tcp.local */
	rr_done(m, at);
	/* instance TXT "c#=2" "md=Hub X" */
	sx_tm_put16(m, 0xc000 | (uint16_t)inst);
	at = rr_fixed(m, 16, 0x8001, 4500);
	sx_tm_put8(m, 4);
	sx_tm_putbytes(m, "c#=2", 4);
	sx_tm_put8(m, 8);
	sx_tm_putbytes(m, "md=Hub X", 8);
	rr_done(m, at);
	/* hub.local A 192.168.1.20, AAAA fe80::211:22ff:fe33:4455 */
	sx_tm_put16(m, 0xc000 | (uint16_t)host);
	at = rr_fixed(m, 1, 0x8001, 120);
	sx_tm_putbytes(m, "\xc0\xa8\x01\x14", 4);
	rr_done(m, at);
	sx_tm_put16(m, 0xc000 | (uint16_t)host);
	at = rr_fixed(m, 28, 0x8001, 120);
	sx_tm_putbytes(m, v6, 16);
	rr_done(m, at);
}

Test(ingest_dns, mdns_response_all_record_kinds)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	const struct sx_dns *d = &pkt.app.dns;
	uint8_t *p;

	mdns_response(&m);
	cr_assert_eq(run_udp(&pkt, 5353, 5353, &m, &p), SX_P_MDNS);
	cr_assert(d->qr);
	cr_assert_eq(d->nrr, 5);
	cr_assert_not(d->cut);
	cr_assert_eq(d->rr[0].type, 12);
	cr_assert_str_eq(d->rr[0].name, "_hap._tcp.local");
	cr_assert_str_eq(d->rr[0].data, "Living Room._hap._tcp.local");
	cr_assert_eq(d->rr[1].type, 33);
	cr_assert_str_eq(d->rr[1].name, "Living Room._hap._tcp.local");
	cr_assert_str_eq(d->rr[1].data, "0 0 8080 hub.local");
	cr_assert_eq(d->rr[2].type, 16);
	cr_assert_str_eq(d->rr[2].data, "c#=2 md=Hub X");
	cr_assert_eq(d->rr[3].section, SX_DNS_AR);
	cr_assert_str_eq(d->rr[3].name, "hub.local");
	cr_assert_str_eq(d->rr[3].data, "192.168.1.20");
	cr_assert_eq(d->rr[4].section, SX_DNS_AR);
	cr_assert_str_eq(d->rr[4].data, "fe80::211:22ff:fe33:4455");
	cr_assert_eq(d->rr[4].addr.family, 6);
	cr_assert_eq(d->rr[4].addr.b[0], 0xfe);
	cr_assert_eq(d->rr[4].addr.b[15], 0x55);
	assert_dns_strings(d);
	free(p);
}

Test(ingest_dns, mdns_query_clears_unicast_response_bit)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	uint8_t *p;

	header(&m, 0, 0, 2, 0, 0, 0);
	putname(&m, "_googlecast._tcp.local");
	sx_tm_put16(&m, 12);
	sx_tm_put16(&m, 0x8001);
	sx_tm_put16(&m, 0xc00c);
	sx_tm_put16(&m, 255);
	sx_tm_put16(&m, 0x0001);
	cr_assert_eq(run_udp(&pkt, 5353, 5353, &m, &p), SX_P_MDNS);
	cr_assert_eq(pkt.app.dns.nq, 2);
	cr_assert_eq(pkt.app.dns.q[0].qclass, 1);
	cr_assert_eq(pkt.app.dns.q[0].qtype, 12);
	cr_assert_str_eq(pkt.app.dns.q[1].name, "_googlecast._tcp.local");
	cr_assert_eq(pkt.app.dns.q[1].qtype, 255);
	free(p);

	/* plain DNS keeps the class as it is */
	header(&m, 7, 0x0100, 1, 0, 0, 0);
	putname(&m, "example.com");
	sx_tm_put16(&m, 1);
	sx_tm_put16(&m, 0x8001);
	cr_assert_eq(run_udp(&pkt, 1234, 53, &m, &p), SX_P_DNS);
	cr_assert_eq(pkt.app.dns.q[0].qclass, 0x8001);
	free(p);
}

Test(ingest_dns, llmnr_by_port)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	uint8_t *p;

	header(&m, 0x1234, 0, 1, 0, 0, 0);
	putname(&m, "printer");
	sx_tm_put16(&m, 28);
	sx_tm_put16(&m, 1);
	cr_assert_eq(run_udp(&pkt, 50000, 5355, &m, &p), SX_P_LLMNR);
	cr_assert_str_eq(pkt.app.dns.q[0].name, "printer");
	cr_assert_eq(pkt.app.dns.q[0].qtype, 28);
	free(p);
}

Test(ingest_dns, over_tcp_with_length_prefix)
{
	struct sx_tmsg m;
	struct sx_tmsg t = {.n = 0};
	struct sx_pkt pkt;
	uint8_t *p;

	header(&m, 0xbeef, 0x0100, 1, 0, 0, 0);
	putname(&m, "a.example");
	sx_tm_put16(&m, 16);
	sx_tm_put16(&m, 1);
	sx_tm_put16(&t, (uint16_t)m.n);
	sx_tm_putbytes(&t, m.b, m.n);
	/* a second message in the same segment is ignored */
	sx_tm_putbytes(&t, "\x00\x02\xff\xff", 4);
	p = sx_tt_exact(t.b, t.n);
	sx_tt_set_pkt(&pkt, SX_P_TCP, 50000, 53, p, t.n, t.n);
	sx_app_dissect(&pkt);
	cr_assert_eq(pkt.proto, SX_P_DNS);
	cr_assert_eq(pkt.app.dns.id, 0xbeef);
	cr_assert_str_eq(pkt.app.dns.q[0].name, "a.example");
	cr_assert_eq(pkt.app.dns.q[0].qtype, 16);
	cr_assert_not(pkt.app.dns.cut);
	free(p);

	/* a prefix shorter than a header is not DNS */
	t.b[0] = 0;
	t.b[1] = 11;
	p = sx_tt_exact(t.b, t.n);
	sx_tt_set_pkt(&pkt, SX_P_TCP, 50000, 53, p, t.n, t.n);
	sx_app_dissect(&pkt);
	cr_assert_eq(pkt.proto, SX_P_TCP);
	free(p);

	/* a lone length prefix (sent in its own segment) is not DNS */
	p = sx_tt_exact(t.b, 2);
	sx_tt_set_pkt(&pkt, SX_P_TCP, 50000, 53, p, 2, 2);
	sx_app_dissect(&pkt);
	cr_assert_eq(pkt.proto, SX_P_TCP);
	free(p);
}

Test(ingest_dns, root_name_is_empty)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	uint8_t *p;
	size_t at;

	/* query with an EDNS OPT record: owner is the root */
	header(&m, 1, 0x0100, 1, 0, 0, 1);
	putname(&m, "example.org");
	sx_tm_put16(&m, 1);
	sx_tm_put16(&m, 1);
	sx_tm_put8(&m, 0);
	at = rr_fixed(&m, 41, 1232, 0);
	rr_done(&m, at);
	cr_assert_eq(run_udp(&pkt, 1000, 53, &m, &p), SX_P_DNS);
	cr_assert_eq(pkt.app.dns.nrr, 1);
	cr_assert_str_eq(pkt.app.dns.rr[0].name, "");
	cr_assert_eq(pkt.app.dns.rr[0].type, 41);
	cr_assert_str_eq(pkt.app.dns.rr[0].data, "");
	free(p);
}

Test(ingest_dns, name_presentation_escapes)
{
	/* labels: "a.b" "c\d" "sp ace" "\0\xff" "q\"," */
	static const uint8_t wire[] = {
	    3,	 'a', '.', 'b', 3,    'c',  '\\', 'd', 6,   's', 'p', ' ',
	    'a', 'c', 'e', 2,	0x00, 0xff, 3,	  'q', '"', ',', 0,
	};
	uint8_t *p = sx_tt_exact(wire, sizeof(wire));
	char out[SX_NAME_MAX];
	long end = sx_dns_name(p, sizeof(wire), 0, out, sizeof(out));

	cr_assert_eq(end, (long)sizeof(wire));
	cr_assert_str_eq(out, "a\\.b.c\\\\d.sp ace.\\000\\255.q\",");
	sx_tt_assert_printable(out, sizeof(out));
	free(p);
}

/* Every byte value at every offset of a long label: the plain runs are
 * found eight bytes at a time, so an escape in any lane of any word (and
 * in the tail after the last whole word) must still be seen. */
Test(ingest_dns, name_escape_at_every_offset)
{
	uint8_t wire[1 + 63 + 2 + 1];
	char out[SX_NAME_MAX], want[SX_NAME_MAX];
	unsigned v, k, len, i;

	for (len = 1; len <= 63; len += len < 20 ? 1 : 7) {
		for (v = 0; v < 256; v++) {
			for (k = 0; k < len; k++) {
				size_t w = 0;
				uint8_t *p;

				wire[0] = (uint8_t)len;
				for (i = 0; i < len; i++)
					wire[1 + i] = (uint8_t)(i == k ? v : 'a' + i % 26);
				wire[1 + len] = 1;
				wire[2 + len] = 'z';
				wire[3 + len] = 0;
				for (i = 0; i < len; i++) {
					unsigned c = wire[1 + i];

					if (c == '.' || c == '\\')
						w += (size_t)snprintf(want + w, sizeof(want) - w,
								      "\\%c", c);
					else if (c < 0x20 || c >= 0x7f)
						w += (size_t)snprintf(want + w, sizeof(want) - w,
								      "\\%03u", c);
					else
						want[w++] = (char)c;
				}
				snprintf(want + w, sizeof(want) - w, ".z");
				p = sx_tt_exact(wire, len + 4);
				cr_assert_eq(sx_dns_name(p, len + 4, 0, out, sizeof(out)),
					     (long)len + 4);
				cr_assert_str_eq(out, want, "byte %u at %u of %u", v, k, len);
				free(p);
			}
		}
	}
}

/* A plain name into every buffer size: the longest prefix that fits. */
Test(ingest_dns, plain_name_fills_any_buffer)
{
	static const uint8_t wire[] = {3, 'a', 'b', 'c', 4, 'd', 'e', 'f', 'g', 0};
	static const char full[] = "abc.defg";
	uint8_t *p = sx_tt_exact(wire, sizeof(wire));
	char out[16];
	size_t k;

	for (k = 1; k <= sizeof(out); k++) {
		size_t n = k - 1 < strlen(full) ? k - 1 : strlen(full);

		memset(out, 'x', sizeof(out));
		cr_assert_eq(sx_dns_name(p, sizeof(wire), 0, out, k), (long)sizeof(wire));
		cr_assert_eq(strlen(out), n, "size %zu", k);
		cr_assert_eq(strncmp(out, full, n), 0, "size %zu", k);
	}
	free(p);
}

Test(ingest_dns, sx_dns_name_offsets)
{
	static const uint8_t wire[] = {
	    0,				  /* 0: root */
	    3,	  'f', 'o', 'o', 0,	  /* 1: foo */
	    3,	  'b', 'a', 'r', 0xc0, 1, /* 6: bar.foo */
	    0xc0, 6,			  /* 12: pointer to bar.foo */
	};
	uint8_t *p = sx_tt_exact(wire, sizeof(wire));
	char out[SX_NAME_MAX];

	cr_assert_eq(sx_dns_name(p, sizeof(wire), 0, out, sizeof(out)), 1);
	cr_assert_str_eq(out, "");
	cr_assert_eq(sx_dns_name(p, sizeof(wire), 1, out, sizeof(out)), 6);
	cr_assert_str_eq(out, "foo");
	cr_assert_eq(sx_dns_name(p, sizeof(wire), 6, out, sizeof(out)), 12);
	cr_assert_str_eq(out, "bar.foo");
	cr_assert_eq(sx_dns_name(p, sizeof(wire), 12, out, sizeof(out)), 14);
	cr_assert_str_eq(out, "bar.foo");
	/* past the end, and a pointer cut in half */
	cr_assert_eq(sx_dns_name(p, sizeof(wire), 14, out, sizeof(out)), -1);
	cr_assert_eq(sx_dns_name(p, 13, 12, out, sizeof(out)), -1);
	/* a small output buffer: cut at a whole label byte, still NUL-terminated */
	cr_assert_eq(sx_dns_name(p, sizeof(wire), 6, out, 5), 12);
	cr_assert_str_eq(out, "bar.");
	free(p);
}

Test(ingest_dns, compression_loops_and_forward_pointers)
{
	char out[SX_NAME_MAX];
	/* pointer to itself */
	static const uint8_t self[] = {0xc0, 0x00};
	/* two pointers pointing at each other */
	static const uint8_t mutual[] = {0xc0, 0x02, 0xc0, 0x00};
	/* forward pointer (to a valid name after it) */
	static const uint8_t forward[] = {0xc0, 0x02, 1, 'x', 0};
	/* label then a pointer back into the same name: a loop via labels */
	static const uint8_t label_loop[] = {1, 'a', 0xc0, 0x00};
	/* reserved label types 01 and 10 */
	static const uint8_t ext01[] = {0x41, 'a', 0};
	static const uint8_t ext10[] = {0x81, 'a', 0};
	uint8_t *p;

	p = sx_tt_exact(self, sizeof(self));
	cr_assert_eq(sx_dns_name(p, sizeof(self), 0, out, sizeof(out)), -1);
	free(p);
	p = sx_tt_exact(mutual, sizeof(mutual));
	cr_assert_eq(sx_dns_name(p, sizeof(mutual), 0, out, sizeof(out)), -1);
	cr_assert_eq(sx_dns_name(p, sizeof(mutual), 2, out, sizeof(out)), -1);
	free(p);
	p = sx_tt_exact(forward, sizeof(forward));
	cr_assert_eq(sx_dns_name(p, sizeof(forward), 0, out, sizeof(out)), -1);
	cr_assert_eq(sx_dns_name(p, sizeof(forward), 2, out, sizeof(out)), 5);
	cr_assert_str_eq(out, "x");
	free(p);
	p = sx_tt_exact(label_loop, sizeof(label_loop));
	cr_assert_eq(sx_dns_name(p, sizeof(label_loop), 0, out, sizeof(out)), -1);
	free(p);
	p = sx_tt_exact(ext01, sizeof(ext01));
	cr_assert_eq(sx_dns_name(p, sizeof(ext01), 0, out, sizeof(out)), -1);
	free(p);
	p = sx_tt_exact(ext10, sizeof(ext10));
	cr_assert_eq(sx_dns_name(p, sizeof(ext10), 0, out, sizeof(out)), -1);
	free(p);
}

Test(ingest_dns, at_most_32_jumps)
{
	struct sx_tmsg m = {.n = 0};
	char out[SX_NAME_MAX];
	uint8_t *p;
	size_t start;
	unsigned i;

	/* "z" at 0, then 33 pointers each to the one before */
	sx_tm_put8(&m, 1);
	sx_tm_put8(&m, 'z');
	sx_tm_put8(&m, 0);
	sx_tm_put16(&m, 0xc000);
	for (i = 1; i < 33; i++)
		sx_tm_put16(&m, (uint16_t)(0xc000 | (3 + 2 * (i - 1))));
	p = sx_tt_exact(m.b, m.n);
	/* the pointer at 3 + 2*31 takes 32 jumps: fine */
	start = 3 + 2 * 31;
	cr_assert_eq(sx_dns_name(p, m.n, start, out, sizeof(out)), (long)start + 2);
	cr_assert_str_eq(out, "z");
	/* the one after it takes 33 */
	free(p);
	sx_tm_put16(&m, (uint16_t)(0xc000 | (3 + 2 * 32)));
	p = sx_tt_exact(m.b, m.n);
	cr_assert_eq(sx_dns_name(p, m.n, start + 2, out, sizeof(out)), -1);
	free(p);
}

Test(ingest_dns, wire_name_limit_255)
{
	struct sx_tmsg m = {.n = 0};
	char out[SX_NAME_MAX];
	uint8_t *p;
	unsigned i;

	/* 4 labels of 62 bytes = 252 bytes, + root = 253: fine */
	for (i = 0; i < 4; i++) {
		sx_tm_put8(&m, 62);
		memset(m.b + m.n, 'a' + (int)i, 62);
		m.n += 62;
	}
	sx_tm_put8(&m, 0);
	p = sx_tt_exact(m.b, m.n);
	cr_assert_eq(sx_dns_name(p, m.n, 0, out, sizeof(out)), 253);
	cr_assert_eq(strlen(out), 4 * 62 + 3);
	free(p);
	/* one more 2-byte label: 256 wire bytes */
	m.n--;
	sx_tm_put8(&m, 2);
	sx_tm_put8(&m, 'x');
	sx_tm_put8(&m, 'y');
	sx_tm_put8(&m, 0);
	p = sx_tt_exact(m.b, m.n);
	cr_assert_eq(sx_dns_name(p, m.n, 0, out, sizeof(out)), -1);
	free(p);
	/* the same via a pointer: 253 + "xy" prefix label */
	m.n = 0;
	for (i = 0; i < 4; i++) {
		sx_tm_put8(&m, 62);
		memset(m.b + m.n, 'a', 62);
		m.n += 62;
	}
	sx_tm_put8(&m, 0);
	sx_tm_put8(&m, 2);
	sx_tm_put8(&m, 'x');
	sx_tm_put8(&m, 'y');
	sx_tm_put16(&m, 0xc000);
	p = sx_tt_exact(m.b, m.n);
	cr_assert_eq(sx_dns_name(p, m.n, 253, out, sizeof(out)), -1);
	free(p);
}

Test(ingest_dns, escaped_name_too_long_for_buffer_is_cut)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	uint8_t *p;
	size_t len;
	unsigned i;

	/* 4 labels of 60 bytes 0xff: 4*60*4 presentation bytes > SX_NAME_MAX */
	header(&m, 1, 0x0100, 1, 0, 0, 0);
	for (i = 0; i < 4; i++) {
		sx_tm_put8(&m, 60);
		memset(m.b + m.n, 0xff, 60);
		m.n += 60;
	}
	sx_tm_put8(&m, 0);
	sx_tm_put16(&m, 1);
	sx_tm_put16(&m, 1);
	cr_assert_eq(run_udp(&pkt, 1000, 53, &m, &p), SX_P_DNS);
	cr_assert_eq(pkt.app.dns.nq, 1);
	cr_assert(pkt.app.dns.cut);
	cr_assert_eq(pkt.app.dns.q[0].qtype, 1);
	len = strlen(pkt.app.dns.q[0].name);
	cr_assert_gt(len, SX_NAME_MAX - 8);
	cr_assert_str_eq(pkt.app.dns.q[0].name + len - 4, "\\255", "cut inside an escape");
	assert_dns_strings(&pkt.app.dns);
	free(p);
}

Test(ingest_dns, loops_in_a_message_stop_parsing_but_keep_header)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	uint8_t *p;

	/* a good question, then an answer whose owner points at itself */
	header(&m, 9, 0x8180, 1, 2, 0, 0);
	putname(&m, "ok.example");
	sx_tm_put16(&m, 1);
	sx_tm_put16(&m, 1);
	sx_tm_put16(&m, (uint16_t)(0xc000 | m.n));
	sx_tm_put16(&m, 1);
	sx_tm_put16(&m, 1);
	sx_tm_put32(&m, 60);
	sx_tm_put16(&m, 4);
	sx_tm_putbytes(&m, "\x01\x02\x03\x04", 4);
	/* padding so the counts fit the size check */
	sx_tm_putbytes(&m, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
	cr_assert_eq(run_udp(&pkt, 53, 1000, &m, &p), SX_P_DNS);
	cr_assert_eq(pkt.app.dns.nq, 1);
	cr_assert_str_eq(pkt.app.dns.q[0].name, "ok.example");
	cr_assert_eq(pkt.app.dns.nrr, 0);
	cr_assert(pkt.app.dns.cut);
	free(p);
}

Test(ingest_dns, names_in_rdata_must_end_inside_the_record)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	uint8_t *p;
	size_t at;

	header(&m, 9, 0x8180, 0, 2, 0, 0);
	putname(&m, "x.example");
	/* CNAME whose RDLENGTH is 2 but the name is 5 bytes */
	sx_tm_put16(&m, 5);
	sx_tm_put16(&m, 1);
	sx_tm_put32(&m, 60);
	sx_tm_put16(&m, 2);
	sx_tm_putbytes(&m, "\x03yyy\x00", 5);
	/* the next record starts 3 bytes earlier than the name ends, so it
	 * is read from the RDLENGTH position: "yy\0" is not a valid record
	 * start, but whatever happens must be safe */
	sx_tm_put16(&m, 0xc00c);
	at = rr_fixed(&m, 1, 1, 5);
	sx_tm_putbytes(&m, "\x0a\x00\x00\x01", 4);
	rr_done(&m, at);
	cr_assert_eq(run_udp(&pkt, 53, 1000, &m, &p), SX_P_DNS);
	cr_assert_geq(pkt.app.dns.nrr, 1);
	cr_assert_eq(pkt.app.dns.rr[0].type, 5);
	cr_assert_str_eq(pkt.app.dns.rr[0].data, "");
	assert_dns_strings(&pkt.app.dns);
	free(p);
}

Test(ingest_dns, a_record_with_wrong_length_has_no_address)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	uint8_t *p;
	size_t at;

	header(&m, 9, 0x8180, 0, 2, 0, 0);
	putname(&m, "x.example");
	at = rr_fixed(&m, 1, 1, 5);
	sx_tm_putbytes(&m, "\x0a\x00\x00", 3);
	rr_done(&m, at);
	sx_tm_put16(&m, 0xc00c);
	at = rr_fixed(&m, 28, 1, 5);
	sx_tm_putbytes(&m, "\x0a\x00\x00\x01", 4);
	rr_done(&m, at);
	cr_assert_eq(run_udp(&pkt, 53, 1000, &m, &p), SX_P_DNS);
	cr_assert_eq(pkt.app.dns.nrr, 2);
	cr_assert_not(pkt.app.dns.cut);
	cr_assert_str_eq(pkt.app.dns.rr[0].data, "");
	cr_assert_eq(pkt.app.dns.rr[0].addr.family, 0);
	cr_assert_str_eq(pkt.app.dns.rr[1].data, "");
	cr_assert_eq(pkt.app.dns.rr[1].addr.family, 0);
	free(p);
}

Test(ingest_dns, hostile_txt_strings_are_escaped)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	uint8_t *p;
	size_t at;
	static const uint8_t s1[] = {'a', '"', ',', '\n', 0x00, 0x80, 0xff, '\\'};

	header(&m, 9, 0x8400, 0, 1, 0, 0);
	putname(&m, "t.local");
	at = rr_fixed(&m, 16, 1, 5);
	sx_tm_put8(&m, sizeof(s1));
	sx_tm_putbytes(&m, s1, sizeof(s1));
	sx_tm_put8(&m, 0);
	sx_tm_put8(&m, 2);
	sx_tm_putbytes(&m, "ok", 2);
	rr_done(&m, at);
	cr_assert_eq(run_udp(&pkt, 5353, 5353, &m, &p), SX_P_MDNS);
	cr_assert_eq(pkt.app.dns.nrr, 1);
	cr_assert_str_eq(pkt.app.dns.rr[0].data, "a\",\\x0a\\x00\\x80\\xff\\\\  ok");
	assert_dns_strings(&pkt.app.dns);
	free(p);
}

Test(ingest_dns, long_txt_is_cut_at_buffer)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	uint8_t *p;
	size_t at;
	unsigned i;

	header(&m, 9, 0x8400, 0, 1, 0, 0);
	putname(&m, "t.local");
	at = rr_fixed(&m, 16, 1, 5);
	for (i = 0; i < 4; i++) {
		sx_tm_put8(&m, 200);
		memset(m.b + m.n, 0x01, 200);
		m.n += 200;
	}
	rr_done(&m, at);
	cr_assert_eq(run_udp(&pkt, 5353, 5353, &m, &p), SX_P_MDNS);
	cr_assert_eq(pkt.app.dns.nrr, 1);
	cr_assert(pkt.app.dns.cut);
	cr_assert_eq(strlen(pkt.app.dns.rr[0].data) % 4, 0);
	assert_dns_strings(&pkt.app.dns);
	free(p);
}

Test(ingest_dns, more_questions_and_records_than_kept)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	uint8_t *p;
	unsigned i;

	header(&m, 9, 0x8400, 6, 30, 0, 0);
	for (i = 0; i < 6; i++) {
		char name[16];

		snprintf(name, sizeof(name), "q%u.local", i);
		putname(&m, name);
		sx_tm_put16(&m, 1);
		sx_tm_put16(&m, 1);
	}
	for (i = 0; i < 30; i++) {
		size_t at;

		sx_tm_put16(&m, 0xc00c);
		at = rr_fixed(&m, 1, 1, i);
		sx_tm_put8(&m, 10);
		sx_tm_put8(&m, 0);
		sx_tm_put8(&m, 0);
		sx_tm_put8(&m, (uint8_t)i);
		rr_done(&m, at);
	}
	cr_assert_eq(run_udp(&pkt, 5353, 5353, &m, &p), SX_P_MDNS);
	cr_assert_eq(pkt.app.dns.qdcount, 6);
	cr_assert_eq(pkt.app.dns.ancount, 30);
	cr_assert_eq(pkt.app.dns.nq, SX_DNS_MAX_Q);
	cr_assert_str_eq(pkt.app.dns.q[3].name, "q3.local");
	cr_assert_eq(pkt.app.dns.nrr, SX_DNS_MAX_RR);
	cr_assert_str_eq(pkt.app.dns.rr[23].data, "10.0.0.23");
	cr_assert_str_eq(pkt.app.dns.rr[23].name, "q0.local");
	cr_assert(pkt.app.dns.cut);
	free(p);
}

Test(ingest_dns, header_only_response_is_dns_when_rcode_set)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	uint8_t *p;

	header(&m, 9, 0x8183, 0, 0, 0, 0); /* NXDOMAIN, no sections */
	cr_assert_eq(run_udp(&pkt, 53, 1000, &m, &p), SX_P_DNS);
	cr_assert_eq(pkt.app.dns.rcode, 3);
	cr_assert_eq(pkt.app.dns.nq, 0);
	free(p);

	header(&m, 9, 0x0100, 0, 0, 0, 0); /* empty query: nothing said */
	cr_assert_eq(run_udp(&pkt, 1000, 53, &m, &p), SX_P_UDP);
	free(p);
}

Test(ingest_dns, implausible_headers_are_refused)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	uint8_t *p;

	/* opcode 3 (unassigned) */
	header(&m, 9, 0x1800, 1, 0, 0, 0);
	putname(&m, "a");
	sx_tm_put16(&m, 1);
	sx_tm_put16(&m, 1);
	cr_assert_eq(run_udp(&pkt, 1000, 53, &m, &p), SX_P_UDP);
	free(p);
	/* 65 questions */
	header(&m, 9, 0x0100, 65, 0, 0, 0);
	memset(m.b + m.n, 0, 65 * 5);
	m.n += 65 * 5;
	cr_assert_eq(run_udp(&pkt, 1000, 53, &m, &p), SX_P_UDP);
	free(p);
	/* more records than could fit */
	header(&m, 9, 0x8180, 1, 5, 0, 0);
	putname(&m, "a");
	sx_tm_put16(&m, 1);
	sx_tm_put16(&m, 1);
	cr_assert_eq(run_udp(&pkt, 53, 1000, &m, &p), SX_P_UDP);
	free(p);
	/* fewer than 12 bytes */
	header(&m, 9, 0x8180, 1, 0, 0, 0);
	m.n = 11;
	cr_assert_eq(run_udp(&pkt, 53, 1000, &m, &p), SX_P_UDP);
	free(p);
}

Test(ingest_dns, random_bytes_on_port_53_are_not_dns)
{
	uint32_t x = 12345;
	unsigned claimed = 0;
	unsigned i;

	for (i = 0; i < 3000; i++) {
		struct sx_tmsg m = {.n = 0};
		struct sx_pkt pkt;
		size_t len;
		uint8_t *p;
		size_t j;

		x = x * 1103515245u + 12345u;
		len = 12 + (x >> 16) % 500;
		for (j = 0; j < len; j++) {
			x = x * 1103515245u + 12345u;
			sx_tm_put8(&m, (uint8_t)(x >> 24));
		}
		if (run_udp(&pkt, 1000 + i, 53, &m, &p) == SX_P_DNS) {
			claimed++;
			assert_dns_strings(&pkt.app.dns);
		}
		free(p);
	}
	cr_assert_eq(claimed, 0);
}

/* Truncate msg at every length, both as a short capture (snaplen: the
 * wire length stays) and as a short datagram. */
static void truncate_everywhere(const struct sx_tmsg *m, uint16_t sport, uint16_t dport, bool tcp)
{
	size_t i;
	unsigned mode;

	for (mode = 0; mode < 2; mode++) {
		for (i = 0; i <= m->n; i++) {
			struct sx_pkt pkt;
			uint8_t *p = sx_tt_exact(m->b, i);

			sx_tt_set_pkt(&pkt, tcp ? SX_P_TCP : SX_P_UDP, sport, dport, p, i,
				      mode ? m->n : i);
			sx_app_dissect(&pkt);
			if (pkt.proto == SX_P_DNS || pkt.proto == SX_P_MDNS ||
			    pkt.proto == SX_P_LLMNR)
				assert_dns_strings(&pkt.app.dns);
			if (i == m->n)
				cr_assert_neq(pkt.proto, tcp ? SX_P_TCP : SX_P_UDP);
			free(p);
		}
	}
}

Test(ingest_dns, truncated_at_every_offset)
{
	struct sx_tmsg m = {.n = 0};
	struct sx_tmsg t = {.n = 0};

	sx_tm_putbytes(&m, real_response, sizeof(real_response));
	truncate_everywhere(&m, 53, 40000, false);
	mdns_response(&m);
	truncate_everywhere(&m, 5353, 5353, false);
	sx_tm_put16(&t, (uint16_t)m.n);
	sx_tm_putbytes(&t, m.b, m.n);
	truncate_everywhere(&t, 5353, 40000, true);
}

Test(ingest_dns, truncated_capture_keeps_what_was_read)
{
	struct sx_tmsg m = {.n = 0};
	struct sx_pkt pkt;
	uint8_t *p;

	/* captured up to the middle of the A record's data */
	sx_tm_putbytes(&m, real_response, sizeof(real_response));
	p = sx_tt_exact(m.b, m.n - 2);
	sx_tt_set_pkt(&pkt, SX_P_UDP, 53, 40000, p, m.n - 2, m.n);
	sx_app_dissect(&pkt);
	cr_assert_eq(pkt.proto, SX_P_DNS);
	cr_assert(pkt.app.dns.cut);
	cr_assert_eq(pkt.app.dns.nq, 1);
	cr_assert_eq(pkt.app.dns.nrr, 2);
	cr_assert_str_eq(pkt.app.dns.rr[0].data, "cname-app-com-amsproxy.w.mi-dun.com");
	cr_assert_eq(pkt.app.dns.rr[1].type, 1);
	cr_assert_str_eq(pkt.app.dns.rr[1].data, "");
	cr_assert_eq(pkt.app.dns.rr[1].addr.family, 0);
	free(p);
}

Test(ingest_dns, type_names)
{
	char buf[16];

	cr_assert_str_eq(sx_dns_type_name(1, buf, sizeof(buf)), "A");
	cr_assert_str_eq(sx_dns_type_name(2, buf, sizeof(buf)), "NS");
	cr_assert_str_eq(sx_dns_type_name(5, buf, sizeof(buf)), "CNAME");
	cr_assert_str_eq(sx_dns_type_name(6, buf, sizeof(buf)), "SOA");
	cr_assert_str_eq(sx_dns_type_name(12, buf, sizeof(buf)), "PTR");
	cr_assert_str_eq(sx_dns_type_name(15, buf, sizeof(buf)), "MX");
	cr_assert_str_eq(sx_dns_type_name(16, buf, sizeof(buf)), "TXT");
	cr_assert_str_eq(sx_dns_type_name(28, buf, sizeof(buf)), "AAAA");
	cr_assert_str_eq(sx_dns_type_name(33, buf, sizeof(buf)), "SRV");
	cr_assert_str_eq(sx_dns_type_name(41, buf, sizeof(buf)), "OPT");
	cr_assert_str_eq(sx_dns_type_name(47, buf, sizeof(buf)), "NSEC");
	cr_assert_str_eq(sx_dns_type_name(64, buf, sizeof(buf)), "SVCB");
	cr_assert_str_eq(sx_dns_type_name(65, buf, sizeof(buf)), "HTTPS");
	cr_assert_str_eq(sx_dns_type_name(255, buf, sizeof(buf)), "ANY");
	cr_assert_str_eq(sx_dns_type_name(0, buf, sizeof(buf)), "TYPE0");
	cr_assert_str_eq(sx_dns_type_name(65534, buf, sizeof(buf)), "TYPE65534");
	/* the table's ends and gaps (it is searched by halving) */
	cr_assert_str_eq(sx_dns_type_name(3, buf, sizeof(buf)), "MD");
	cr_assert_str_eq(sx_dns_type_name(30, buf, sizeof(buf)), "NXT");
	cr_assert_str_eq(sx_dns_type_name(31, buf, sizeof(buf)), "TYPE31");
	cr_assert_str_eq(sx_dns_type_name(34, buf, sizeof(buf)), "TYPE34");
	cr_assert_str_eq(sx_dns_type_name(256, buf, sizeof(buf)), "URI");
	cr_assert_str_eq(sx_dns_type_name(257, buf, sizeof(buf)), "CAA");
	cr_assert_str_eq(sx_dns_type_name(258, buf, sizeof(buf)), "TYPE258");
	cr_assert_str_eq(sx_dns_type_name(32768, buf, sizeof(buf)), "TA");
	cr_assert_str_eq(sx_dns_type_name(32769, buf, sizeof(buf)), "DLV");
	cr_assert_str_eq(sx_dns_type_name(32770, buf, sizeof(buf)), "TYPE32770");
	cr_assert_str_eq(sx_dns_type_name(65535, buf, sizeof(buf)), "TYPE65535");
}

/* Owner names that are only a pointer to a name decoded before (mDNS
 * answers name their owner so) read as that name, also through a record's
 * target and a pointer to such a pointer. */
Test(ingest_dns, owner_pointers_to_earlier_names)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	uint8_t *p;
	size_t at, rd0, own1;

	header(&m, 0, 0x8400, 1, 3, 0, 0);
	putname(&m, "a.b"); /* at 12 */
	sx_tm_put16(&m, 12);
	sx_tm_put16(&m, 1);
	sx_tm_put16(&m, 0xc00c);
	at = rr_fixed(&m, 12, 1, 120);
	rd0 = m.n;
	sx_tm_put8(&m, 4);
	sx_tm_putbytes(&m, "in.t", 4);
	sx_tm_put16(&m, 0xc00c);
	rr_done(&m, at);
	own1 = m.n;
	sx_tm_put16(&m, (uint16_t)(0xc000 | rd0));
	at = rr_fixed(&m, 16, 1, 120);
	sx_tm_put8(&m, 1);
	sx_tm_put8(&m, 'x');
	rr_done(&m, at);
	sx_tm_put16(&m, (uint16_t)(0xc000 | own1));
	at = rr_fixed(&m, 1, 1, 120);
	sx_tm_put32(&m, 0x0a000001);
	rr_done(&m, at);
	cr_assert_eq(run_udp(&pkt, 5353, 5353, &m, &p), SX_P_MDNS);
	cr_assert_not(pkt.app.dns.cut);
	cr_assert_eq(pkt.app.dns.nrr, 3);
	cr_assert_str_eq(pkt.app.dns.q[0].name, "a.b");
	cr_assert_str_eq(pkt.app.dns.rr[0].name, "a.b");
	cr_assert_str_eq(pkt.app.dns.rr[0].data, "in\\.t.a.b");
	cr_assert_str_eq(pkt.app.dns.rr[1].name, "in\\.t.a.b");
	cr_assert_str_eq(pkt.app.dns.rr[1].data, "x");
	cr_assert_str_eq(pkt.app.dns.rr[2].name, "in\\.t.a.b");
	cr_assert_str_eq(pkt.app.dns.rr[2].data, "10.0.0.1");
	assert_dns_strings(&pkt.app.dns);
	free(p);
}

/* A pointer to an owner name that took 32 jumps takes 33: refused, as
 * when the owner had not been read before. */
Test(ingest_dns, pointer_to_a_32_jump_owner_is_refused)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	uint8_t *p;
	size_t at, first, own1;
	unsigned i;

	header(&m, 0, 0x8400, 1, 3, 0, 0);
	putname(&m, "z"); /* at 12 */
	sx_tm_put16(&m, 1);
	sx_tm_put16(&m, 1);
	sx_tm_put16(&m, 0xc00c);
	at = rr_fixed(&m, 10, 1, 120); /* NULL: 31 pointers, each to the one before */
	first = m.n;
	sx_tm_put16(&m, 0xc00c);
	for (i = 1; i < 31; i++)
		sx_tm_put16(&m, (uint16_t)(0xc000 | (first + 2 * (i - 1))));
	rr_done(&m, at);
	own1 = m.n;
	sx_tm_put16(&m, (uint16_t)(0xc000 | (first + 2 * 30))); /* 32 jumps */
	at = rr_fixed(&m, 10, 1, 120);
	rr_done(&m, at);
	sx_tm_put16(&m, (uint16_t)(0xc000 | own1)); /* 33 */
	at = rr_fixed(&m, 10, 1, 120);
	rr_done(&m, at);
	cr_assert_eq(run_udp(&pkt, 5353, 5353, &m, &p), SX_P_MDNS);
	cr_assert_eq(pkt.app.dns.nrr, 2);
	cr_assert_str_eq(pkt.app.dns.rr[1].name, "z");
	cr_assert(pkt.app.dns.cut);
	assert_dns_strings(&pkt.app.dns);
	free(p);
}

/* ---- a reader's memo (app_memo.c) ---- */

struct memo_case {
	uint8_t proto; /* SX_P_UDP or SX_P_TCP */
	uint16_t sport, dport;
	struct sx_tmsg m;
	size_t cap; /* captured bytes of m.n */
};

/* c's transport and ports; all of its message captured. */
static void memo_case_set(struct memo_case *c, uint8_t proto, uint16_t sport, uint16_t dport)
{
	c->proto = proto;
	c->sport = sport;
	c->dport = dport;
	c->cap = c->m.n;
}

static void assert_same_dns(const struct sx_pkt *a, const struct sx_pkt *b)
{
	const struct sx_dns *x = &a->app.dns, *y = &b->app.dns;
	unsigned i;

	cr_assert_eq(a->proto, b->proto);
	if (a->proto != SX_P_DNS && a->proto != SX_P_MDNS && a->proto != SX_P_LLMNR)
		return;
	cr_assert(x->id == y->id && x->flags == y->flags && x->qr == y->qr &&
		  x->opcode == y->opcode && x->rcode == y->rcode && x->qdcount == y->qdcount &&
		  x->ancount == y->ancount && x->nscount == y->nscount &&
		  x->arcount == y->arcount && x->cut == y->cut);
	cr_assert_eq(x->nq, y->nq);
	cr_assert_eq(x->nrr, y->nrr);
	for (i = 0; i < x->nq; i++) {
		cr_assert_eq(x->q[i].qtype, y->q[i].qtype);
		cr_assert_eq(x->q[i].qclass, y->q[i].qclass);
		cr_assert_str_eq(x->q[i].name, y->q[i].name);
	}
	for (i = 0; i < x->nrr; i++) {
		cr_assert_eq(x->rr[i].section, y->rr[i].section);
		cr_assert_eq(x->rr[i].type, y->rr[i].type);
		cr_assert_eq(x->rr[i].ttl, y->rr[i].ttl);
		cr_assert_str_eq(x->rr[i].name, y->rr[i].name);
		cr_assert_str_eq(x->rr[i].data, y->rr[i].data);
		cr_assert_eq(x->rr[i].addr.family, y->rr[i].addr.family);
		cr_assert_arr_eq(x->rr[i].addr.b, y->rr[i].addr.b, sizeof(x->rr[i].addr.b));
	}
}

/* Dissect c, through memo when not NULL, into *pkt (which keeps its
 * earlier contents where the dissector does not write, as a reader's
 * does). */
static void memo_run(struct sx_pkt *pkt, struct sx_app_memo *memo, const struct memo_case *c)
{
	uint8_t *p = sx_tt_exact(c->m.b, c->cap);

	pkt->memo = memo;
	pkt->proto = c->proto;
	pkt->sport = c->sport;
	pkt->dport = c->dport;
	pkt->payload = p;
	pkt->payload_cap = (uint32_t)c->cap;
	pkt->payload_len = (uint32_t)c->m.n;
	sx_app_dissect(pkt);
	pkt->payload = NULL;
	free(p);
}

/*
 * The memo gives what decoding gives: every message of a mixed set (DNS,
 * mDNS, LLMNR, over TCP, cut captures of one message at several lengths,
 * random bytes on port 53, a message over the memo's size, the same bytes
 * on other ports, and 200 distinct queries that evict each other), decoded
 * three times in turn through one memo (the later rounds from its copies)
 * and compared with a plain decoding each time.
 */
Test(ingest_dns, memo_gives_what_decoding_gives)
{
	static struct memo_case cases[280];
	static struct sx_pkt plain, memoed;
	struct sx_app_memo *memo;
	size_t n = 0, i, k;
	uint32_t x = 777;
	int round;

	sx_tm_putbytes(&cases[n].m, real_query, sizeof(real_query));
	memo_case_set(&cases[n], SX_P_UDP, 40000, 53);
	n++;
	sx_tm_putbytes(&cases[n].m, real_response, sizeof(real_response));
	memo_case_set(&cases[n], SX_P_UDP, 53, 40000);
	n++;
	for (k = 12; k < sizeof(real_response); k += 17) {
		cases[n] = cases[1];
		cases[n++].cap = k; /* the same message cut by the capture */
		cases[n] = cases[1];
		cases[n].m.n = k; /* the same bytes as a datagram that short */
		cases[n++].cap = k;
	}
	mdns_response(&cases[n].m);
	memo_case_set(&cases[n], SX_P_UDP, 5353, 5353);
	n++;
	cases[n] = cases[n - 1];
	cases[n].sport = 5355;
	cases[n].dport = 40001; /* LLMNR's port */
	n++;
	cases[n] = cases[n - 1];
	cases[n].sport = 53;
	cases[n].dport = 5353; /* two ports: DNS first */
	n++;
	sx_tm_put16(&cases[n].m, (uint16_t)sizeof(real_response));
	sx_tm_putbytes(&cases[n].m, real_response, sizeof(real_response));
	memo_case_set(&cases[n], SX_P_TCP, 53, 40002);
	n++;
	for (k = 0; k < 1100; k++) /* over the memo's size, and not DNS */
		sx_tm_put8(&cases[n].m, (uint8_t)(k * 7));
	memo_case_set(&cases[n], SX_P_UDP, 53, 40003);
	n++;
	for (k = 0; k < 20; k++, n++) { /* random bytes on port 53 */
		size_t j, len = 12 + k * 13;

		for (j = 0; j < len; j++) {
			x = x * 1103515245u + 12345u;
			sx_tm_put8(&cases[n].m, (uint8_t)(x >> 24));
		}
		memo_case_set(&cases[n], SX_P_UDP, 40004, 53);
	}
	for (k = 0; k < 200; k++, n++) {
		char name[64];
		const char *q[1] = {name};
		const uint8_t a4[4] = {10, 0, (uint8_t)(k >> 8), (uint8_t)k};

		snprintf(name, sizeof(name), "host%zu.example.com", k);
		sx_tm_dns(&cases[n].m, q, 1, k % 2 ? a4 : NULL);
		memo_case_set(&cases[n], SX_P_UDP, 53, 40005);
	}
	cr_assert_leq(n, sizeof(cases) / sizeof(cases[0]));
	cr_assert_eq(sx_app_memo_new(&memo), 0);
	for (round = 0; round < 3; round++)
		for (i = 0; i < n; i++) {
			memo_run(&plain, NULL, &cases[i]);
			memo_run(&memoed, memo, &cases[i]);
			assert_same_dns(&plain, &memoed);
			if (plain.proto == SX_P_DNS || plain.proto == SX_P_MDNS ||
			    plain.proto == SX_P_LLMNR)
				assert_dns_strings(&memoed.app.dns);
		}
	sx_app_memo_free(memo);
}
