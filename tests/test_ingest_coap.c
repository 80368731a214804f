/*
 * test_ingest_coap.c - CoAP over UDP (ingest/app_coap.c).
 *
 * Messages come from the nDPI coap_mqtt.pcap and pcap-fuzzer coap.pcap
 * traces (libcoap example server, an OCF discovery) or are built here.
 * Payloads are malloc'd at their exact length.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/app.h"
#include "ingest/ingest.h"
#include "support/pkt.h"

TestSuite(ingest_coap, .timeout = 60);

static uint8_t run(struct sx_pkt *pkt, uint16_t sport, uint16_t dport, const void *s, size_t n)
{
	uint8_t *p = sx_tt_exact(s, n);

	sx_tt_set_pkt(pkt, SX_P_UDP, sport, dport, p, n, n);
	sx_app_dissect(pkt);
	free(p);
	pkt->payload = NULL;
	if (pkt->proto == SX_P_COAP) {
		sx_tt_assert_printable(pkt->app.coap.path, sizeof(pkt->app.coap.path));
		sx_tt_assert_printable(pkt->app.coap.query, sizeof(pkt->app.coap.query));
	}
	return pkt->proto;
}

/* CON GET /storage/myresource, mid 0x9523 (coap_mqtt.pcap) */
static const uint8_t get_storage[] = {
    0x40, 0x01, 0x95, 0x23, 0xb7, 0x73, 0x74, 0x6f, 0x72, 0x61, 0x67, 0x65,
    0x0a, 0x6d, 0x79, 0x72, 0x65, 0x73, 0x6f, 0x75, 0x72, 0x63, 0x65,
};

/* CON POST /storage, payload "myresource" */
static const uint8_t post_storage[] = {
    0x40, 0x02, 0xce, 0xa0, 0xb7, 0x73, 0x74, 0x6f, 0x72, 0x61, 0x67, 0x65,
    0xff, 0x6d, 0x79, 0x72, 0x65, 0x73, 0x6f, 0x75, 0x72, 0x63, 0x65,
};

/* ACK 2.05 with payload "mydata" */
static const uint8_t ack_content[] = {
    0x60, 0x45, 0x95, 0x23, 0xff, 0x6d, 0x79, 0x64, 0x61, 0x74, 0x61,
};

/* ACK 2.05, token 0x99, Content-Format 50 (JSON), payload "{}" */
static const uint8_t json_reply[] = {
    0x61, 0x45, 0x12, 0x34, 0x99, 0xc1, 0x32, 0xff, 0x7b, 0x7d,
};

/* NON GET /oic/res?rt=x.com.samsung.provisioninginfo, 8-byte token, Accept,
 * option 65524 (coap.pcap, OCF discovery) */
static const uint8_t ocf_discovery[] = {
    0x58, 0x01, 0x75, 0xf2, 0xd5, 0x58, 0x92, 0xc8, 0x7b, 0x38, 0xf0, 0xfb, 0xb3, 0x6f, 0x69, 0x63,
    0x03, 0x72, 0x65, 0x73, 0x4d, 0x14, 0x72, 0x74, 0x3d, 0x78, 0x2e, 0x63, 0x6f, 0x6d, 0x2e, 0x73,
    0x61, 0x6d, 0x73, 0x75, 0x6e, 0x67, 0x2e, 0x70, 0x72, 0x6f, 0x76, 0x69, 0x73, 0x69, 0x6f, 0x6e,
    0x69, 0x6e, 0x67, 0x69, 0x6e, 0x66, 0x6f, 0x21, 0x3c, 0xe1, 0xfe, 0xd6, 0xc0,
};

Test(ingest_coap, get_request)
{
	struct sx_pkt pkt;
	const struct sx_coap *c = &pkt.app.coap;

	cr_assert_eq(run(&pkt, 46819, 5683, get_storage, sizeof(get_storage)), SX_P_COAP);
	cr_assert_eq(c->type, SX_COAP_CON);
	cr_assert_eq(c->code, 1);
	cr_assert_eq(c->msg_id, 0x9523);
	cr_assert_str_eq(c->path, "/storage/myresource");
	cr_assert_str_eq(c->query, "");
}

Test(ingest_coap, post_with_payload_and_response)
{
	struct sx_pkt pkt;

	cr_assert_eq(run(&pkt, 50250, 5683, post_storage, sizeof(post_storage)), SX_P_COAP);
	cr_assert_eq(pkt.app.coap.code, 2);
	cr_assert_str_eq(pkt.app.coap.path, "/storage");
	cr_assert_eq(run(&pkt, 5683, 46819, ack_content, sizeof(ack_content)), SX_P_COAP);
	cr_assert_eq(pkt.app.coap.type, SX_COAP_ACK);
	cr_assert_eq(pkt.app.coap.code, 0x45);
	cr_assert_str_eq(pkt.app.coap.path, "");
}

Test(ingest_coap, ocf_discovery_with_query)
{
	struct sx_pkt pkt;

	cr_assert_eq(run(&pkt, 35667, 5683, ocf_discovery, sizeof(ocf_discovery)), SX_P_COAP);
	cr_assert_eq(pkt.app.coap.type, SX_COAP_NON);
	cr_assert_str_eq(pkt.app.coap.path, "/oic/res");
	cr_assert_str_eq(pkt.app.coap.query, "rt=x.com.samsung.provisioninginfo");
	/* strict check on other ports: still CoAP */
	cr_assert_eq(run(&pkt, 35667, 40000, ocf_discovery, sizeof(ocf_discovery)), SX_P_COAP);
	cr_assert_str_eq(pkt.app.coap.path, "/oic/res");
	cr_assert_eq(run(&pkt, 35667, 40000, get_storage, sizeof(get_storage)), SX_P_COAP);
	/* a response with Content-Format and a payload from a random port too */
	cr_assert_eq(run(&pkt, 40000, 35667, json_reply, sizeof(json_reply)), SX_P_COAP);
	cr_assert_eq(pkt.app.coap.code, 0x45);
	/* but not one with no option at all */
	cr_assert_eq(run(&pkt, 40000, 35667, ack_content, sizeof(ack_content)), SX_P_UDP);
}

Test(ingest_coap, coaps_port_and_empty_messages)
{
	static const uint8_t empty_ack[] = {0x60, 0x00, 0x57, 0x0f};
	static const uint8_t dtls[] = {0x16, 0xfe, 0xfd, 0x00, 0x00, 0x00, 0x00,
				       0x00, 0x00, 0x00, 0x00, 0x00, 0x10};
	struct sx_pkt pkt;
	char buf[8];

	cr_assert_eq(run(&pkt, 33499, 5683, empty_ack, sizeof(empty_ack)), SX_P_COAP);
	cr_assert_eq(pkt.app.coap.code, 0);
	cr_assert_str_eq(sx_coap_code_name(pkt.app.coap.code, buf, sizeof(buf)), "EMPTY");
	cr_assert_eq(run(&pkt, 33499, 5684, get_storage, sizeof(get_storage)), SX_P_COAP);
	/* DTLS on 5684 is not CoAP */
	cr_assert_eq(run(&pkt, 33499, 5684, dtls, sizeof(dtls)), SX_P_UDP);
	/* empty messages are not believed on other ports */
	cr_assert_eq(run(&pkt, 33499, 40000, empty_ack, sizeof(empty_ack)), SX_P_UDP);
}

Test(ingest_coap, header_checks)
{
	static const uint8_t v2[] = {0x80, 0x01, 0x00, 0x01};
	static const uint8_t tkl9[] = {0x49, 0x01, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	static const uint8_t class1[] = {0x40, 0x21, 0x00, 0x01};
	static const uint8_t class7[] = {0x40, 0xe1, 0x00, 0x01};
	static const uint8_t token_cut[] = {0x44, 0x01, 0x00, 0x01, 1, 2};
	static const uint8_t short3[] = {0x40, 0x01, 0x00};
	struct sx_pkt pkt;

	cr_assert_eq(run(&pkt, 1, 5683, v2, sizeof(v2)), SX_P_UDP);
	cr_assert_eq(run(&pkt, 1, 5683, tkl9, sizeof(tkl9)), SX_P_UDP);
	cr_assert_eq(run(&pkt, 1, 5683, class1, sizeof(class1)), SX_P_UDP);
	cr_assert_eq(run(&pkt, 1, 5683, class7, sizeof(class7)), SX_P_UDP);
	cr_assert_eq(run(&pkt, 1, 5683, token_cut, sizeof(token_cut)), SX_P_UDP);
	cr_assert_eq(run(&pkt, 1, 5683, short3, sizeof(short3)), SX_P_UDP);
}

Test(ingest_coap, strict_check_on_other_ports)
{
	/* 4-byte response: no token, option or payload */
	static const uint8_t bare[] = {0x60, 0x44, 0x12, 0x34};
	/* request without Uri-Path (Uri-Host only) */
	static const uint8_t nopath[] = {0x40, 0x01, 0x12, 0x34, 0x31, 'a'};
	/* unregistered option 13 after the path */
	static const uint8_t unknown[] = {0x40, 0x01, 0x12, 0x34, 0xb1, 'a', 0x21, 'b'};
	/* payload marker without payload */
	static const uint8_t marker[] = {0x40, 0x01, 0x12, 0x34, 0xb1, 'a', 0xff};
	/* unregistered code 0.08 and 2.06 */
	static const uint8_t code008[] = {0x40, 0x08, 0x12, 0x34, 0xb1, 'a'};
	static const uint8_t code206[] = {0x61, 0x46, 0x12, 0x34, 0x99};
	/* If-None-Match with a value; Uri-Path in a response */
	static const uint8_t inm_len[] = {0x40, 0x01, 0x12, 0x34, 0x51, 0x00, 0x61, 'a'};
	static const uint8_t resp_path[] = {0x61, 0x45, 0x12, 0x34, 0x99, 0xb1, 'a'};
	/* request as ACK, response as RST */
	static const uint8_t req_ack[] = {0x60, 0x01, 0x12, 0x34, 0xb1, 'a'};
	static const uint8_t resp_rst[] = {0x71, 0x45, 0x12, 0x34, 0x99};
	/* option cut short */
	static const uint8_t optcut[] = {0x40, 0x01, 0x12, 0x34, 0xb5, 'a'};
	struct sx_pkt pkt;
	uint8_t *p;

	cr_assert_eq(run(&pkt, 40000, 40001, bare, sizeof(bare)), SX_P_UDP);
	cr_assert_eq(run(&pkt, 40000, 40001, nopath, sizeof(nopath)), SX_P_UDP);
	cr_assert_eq(run(&pkt, 40000, 40001, unknown, sizeof(unknown)), SX_P_UDP);
	cr_assert_eq(run(&pkt, 40000, 40001, marker, sizeof(marker)), SX_P_UDP);
	cr_assert_eq(run(&pkt, 40000, 40001, code008, sizeof(code008)), SX_P_UDP);
	cr_assert_eq(run(&pkt, 40000, 40001, code206, sizeof(code206)), SX_P_UDP);
	cr_assert_eq(run(&pkt, 40000, 40001, req_ack, sizeof(req_ack)), SX_P_UDP);
	cr_assert_eq(run(&pkt, 40000, 40001, resp_rst, sizeof(resp_rst)), SX_P_UDP);
	cr_assert_eq(run(&pkt, 40000, 40001, optcut, sizeof(optcut)), SX_P_UDP);
	cr_assert_eq(run(&pkt, 40000, 40001, inm_len, sizeof(inm_len)), SX_P_UDP);
	cr_assert_eq(run(&pkt, 40000, 40001, resp_path, sizeof(resp_path)), SX_P_UDP);
	/* all of them are fine on 5683 (except the cut and marker ones, which
	 * are CoAP with what was read) */
	cr_assert_eq(run(&pkt, 40000, 5683, bare, sizeof(bare)), SX_P_COAP);
	cr_assert_eq(run(&pkt, 40000, 5683, unknown, sizeof(unknown)), SX_P_COAP);
	cr_assert_str_eq(pkt.app.coap.path, "/a");
	cr_assert_eq(run(&pkt, 40000, 5683, optcut, sizeof(optcut)), SX_P_COAP);
	cr_assert_str_eq(pkt.app.coap.path, "");
	/* QUIC short headers look like CoAP version 1: never on 443 */
	cr_assert_eq(run(&pkt, 443, 40000, get_storage, sizeof(get_storage)), SX_P_UDP);
	/* a capture cut short cannot be judged on other ports */
	p = sx_tt_exact(get_storage, sizeof(get_storage) - 1);
	sx_tt_set_pkt(&pkt, SX_P_UDP, 40000, 40001, p, sizeof(get_storage) - 1,
		      sizeof(get_storage));
	sx_app_dissect(&pkt);
	cr_assert_eq(pkt.proto, SX_P_UDP);
	free(p);
}

Test(ingest_coap, random_udp_is_rarely_coap)
{
	uint32_t x = 777;
	unsigned claimed = 0;
	unsigned i;

	for (i = 0; i < 20000; i++) {
		uint8_t b[1400];
		struct sx_pkt pkt;
		size_t len;
		size_t j;

		x = x * 1103515245u + 12345u;
		len = 20 + (x >> 16) % 1200;
		for (j = 0; j < len; j++) {
			x = x * 1103515245u + 12345u;
			b[j] = (uint8_t)(x >> 24);
		}
		b[0] = (uint8_t)(0x40 | (b[0] & 0x3f)); /* version 1, as QUIC */
		if (run(&pkt, 50000, 50001, b, len) == SX_P_COAP)
			claimed++;
	}
	cr_assert_lt(claimed, 8, "%u of 20000 random datagrams claimed", claimed);
}

Test(ingest_coap, extended_option_numbers_and_lengths)
{
	uint8_t m[600];
	struct sx_pkt pkt;
	size_t n = 0;
	size_t i;

	m[n++] = 0x42; /* CON, tkl 2 */
	m[n++] = 0x01;
	m[n++] = 0x00;
	m[n++] = 0x07;
	m[n++] = 0xaa;
	m[n++] = 0xbb;
	m[n++] = 0xbd; /* Uri-Path, length 13 + ext */
	m[n++] = 20 - 13;
	memset(m + n, 'x', 20);
	n += 20;
	m[n++] = 0x4e; /* Uri-Query (15), length 269 + ext (2 bytes) */
	m[n++] = 0x00;
	m[n++] = 0x01; /* 270 */
	memset(m + n, 'q', 270);
	n += 270;
	m[n++] = 0xd0; /* delta 13 + ext: 15 + 13 + 32 = 60 Size1, length 0 */
	m[n++] = 32;
	m[n++] = 0xe0; /* delta 269 + ext 0: 329 -- not registered */
	m[n++] = 0x00;
	m[n++] = 0x00;
	cr_assert_eq(run(&pkt, 40000, 5683, m, n), SX_P_COAP);
	cr_assert_eq(strlen(pkt.app.coap.path), 21);
	for (i = 1; i < 21; i++)
		cr_assert_eq(pkt.app.coap.path[i], 'x');
	cr_assert_str_eq(pkt.app.coap.query, "", "270 bytes do not fit: dropped");
	/* option 329 is not registered, and Uri-Query is at most 255 bytes:
	 * refused on other ports, with or without the last option */
	cr_assert_eq(run(&pkt, 40000, 40001, m, n), SX_P_UDP);
	cr_assert_eq(run(&pkt, 40000, 40001, m, n - 3), SX_P_UDP);
	/* path (extended length) then Size1 (extended delta): fine */
	n = 6 + 2 + 20;
	m[n++] = 0xd1; /* delta 13 + ext 36: 11 + 49 = 60 Size1, length 1 */
	m[n++] = 36;
	m[n++] = 0x10;
	cr_assert_eq(run(&pkt, 40000, 40001, m, n), SX_P_COAP);
	cr_assert_eq(strlen(pkt.app.coap.path), 21);
}

Test(ingest_coap, reserved_nibbles)
{
	static const uint8_t len15[] = {0x40, 0x01, 0x00, 0x01, 0xb1, 'a', 0x0f, 0x00};
	static const uint8_t delta15[] = {0x40, 0x01, 0x00, 0x01, 0xb1, 'a', 0xf0, 0x00};
	struct sx_pkt pkt;

	cr_assert_eq(run(&pkt, 40000, 5683, len15, sizeof(len15)), SX_P_COAP);
	cr_assert_str_eq(pkt.app.coap.path, "/a");
	cr_assert_eq(run(&pkt, 40000, 5683, delta15, sizeof(delta15)), SX_P_COAP);
	cr_assert_eq(run(&pkt, 40000, 40001, len15, sizeof(len15)), SX_P_UDP);
	cr_assert_eq(run(&pkt, 40000, 40001, delta15, sizeof(delta15)), SX_P_UDP);
}

Test(ingest_coap, hostile_segments_and_many_segments)
{
	static const uint8_t hostile[] = {
	    0x40, 0x01, 0x00, 0x01, 0xb6, 'a', '"',  ',',  0x0a, 0x80,
	    '\\', 0x02, 0x00, '@',  0x42, 'k', 0xff, 0x02, 'v',	 0x00,
	};
	uint8_t m[400];
	struct sx_pkt pkt;
	size_t n = 0;
	unsigned i;

	cr_assert_eq(run(&pkt, 40000, 5683, hostile, sizeof(hostile)), SX_P_COAP);
	cr_assert_str_eq(pkt.app.coap.path, "/a\",\\x0a\\x80\\\\/\\x00@");
	cr_assert_str_eq(pkt.app.coap.query, "k\\xff&v\\x00");

	m[n++] = 0x40;
	m[n++] = 0x01;
	m[n++] = 0x00;
	m[n++] = 0x01;
	for (i = 0; i < 40; i++) {
		m[n++] = i == 0 ? 0xb6 : 0x06;
		memcpy(m + n, "abcdef", 6);
		n += 6;
	}
	cr_assert_eq(run(&pkt, 40000, 5683, m, n), SX_P_COAP);
	cr_assert_eq(strlen(pkt.app.coap.path), 36 * 7, "whole segments only");
}

Test(ingest_coap, truncated_at_every_offset)
{
	const uint8_t *msgs[] = {get_storage, post_storage, ocf_discovery};
	const size_t lens[] = {sizeof(get_storage), sizeof(post_storage), sizeof(ocf_discovery)};
	size_t k;

	for (k = 0; k < 3; k++) {
		size_t i;

		for (i = 0; i <= lens[k]; i++) {
			unsigned port;

			for (port = 0; port < 2; port++) {
				struct sx_pkt pkt;
				uint8_t *p = sx_tt_exact(msgs[k], i);

				sx_tt_set_pkt(&pkt, SX_P_UDP, 40000, port ? 5683 : 40001, p, i, i);
				sx_app_dissect(&pkt);
				if (pkt.proto == SX_P_COAP) {
					sx_tt_assert_printable(pkt.app.coap.path,
							       sizeof(pkt.app.coap.path));
					sx_tt_assert_printable(pkt.app.coap.query,
							       sizeof(pkt.app.coap.query));
				}
				if (port && i >= 4 + (k == 2 ? 8 : 0))
					cr_assert_eq(pkt.proto, SX_P_COAP, "at %zu", i);
				free(p);
			}
		}
	}
}

Test(ingest_coap, code_names)
{
	static const char *const methods[] = {"EMPTY",	"GET",	 "POST",  "PUT",
					      "DELETE", "FETCH", "PATCH", "iPATCH"};
	char buf[8];
	unsigned i;

	for (i = 0; i < 8; i++)
		cr_assert_str_eq(sx_coap_code_name((uint8_t)i, buf, sizeof(buf)), methods[i]);
	cr_assert_str_eq(sx_coap_code_name(0x08, buf, sizeof(buf)), "0.08");
	cr_assert_str_eq(sx_coap_code_name(0x45, buf, sizeof(buf)), "2.05");
	cr_assert_str_eq(sx_coap_code_name(0x84, buf, sizeof(buf)), "4.04");
	cr_assert_str_eq(sx_coap_code_name(0xa0, buf, sizeof(buf)), "5.00");
	cr_assert_str_eq(sx_coap_code_name(0xff, buf, sizeof(buf)), "7.31");
}
