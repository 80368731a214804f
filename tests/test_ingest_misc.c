/*
 * test_ingest_misc.c - NTP, MQTT (ingest/app_misc.c) and the TP-Link Smart
 * Home Protocol (ingest/app_tplink.c).
 *
 * MQTT bytes follow the nDPI mqtt.pcap and coap_mqtt.pcap traces; TP-Link
 * messages are the Kasa plug's (signature-extraction test traces),
 * encrypted here with the protocol's autokey XOR.  Payloads are malloc'd
 * at their exact length.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/app.h"
#include "support/pkt.h"

TestSuite(ingest_misc, .timeout = 60);

static void putstr(struct sx_tmsg *m, const char *s)
{
	sx_tm_put16(m, (uint16_t)strlen(s));
	sx_tm_putbytes(m, s, strlen(s));
}

static void assert_app(const struct sx_pkt *pkt)
{
	if (pkt->proto == SX_P_MQTT) {
		cr_assert(pkt->app.mqtt.type >= 1 && pkt->app.mqtt.type <= 15);
		sx_tt_assert_printable(pkt->app.mqtt.client_id, sizeof(pkt->app.mqtt.client_id));
		sx_tt_assert_printable(pkt->app.mqtt.topic, sizeof(pkt->app.mqtt.topic));
	} else if (pkt->proto == SX_P_TPLINK) {
		sx_tt_assert_printable(pkt->app.tplink.cmd, sizeof(pkt->app.tplink.cmd));
	}
}

static uint8_t run(struct sx_pkt *pkt, uint8_t proto, uint16_t sport, uint16_t dport, const void *s,
		   size_t n)
{
	uint8_t *p = sx_tt_exact(s, n);

	sx_tt_set_pkt(pkt, proto, sport, dport, p, n, n);
	sx_app_dissect(pkt);
	free(p);
	pkt->payload = NULL;
	assert_app(pkt);
	return pkt->proto;
}

static uint8_t run_msg(struct sx_pkt *pkt, uint8_t proto, uint16_t sport, uint16_t dport,
		       const struct sx_tmsg *m)
{
	return run(pkt, proto, sport, dport, m->b, m->n);
}

/* Every truncation of m, as a short capture and as a short segment. */
static void truncate_everywhere(const struct sx_tmsg *m, uint8_t proto, uint16_t sport,
				uint16_t dport)
{
	unsigned mode;
	size_t i;

	for (mode = 0; mode < 2; mode++) {
		for (i = 0; i <= m->n; i++) {
			struct sx_pkt pkt;
			uint8_t *p = sx_tt_exact(m->b, i);

			sx_tt_set_pkt(&pkt, proto, sport, dport, p, i, mode ? m->n : i);
			sx_app_dissect(&pkt);
			assert_app(&pkt);
			free(p);
		}
	}
}

/* ---- NTP ---- */

static void ntp(struct sx_tmsg *m, uint8_t b0, uint8_t stratum, size_t len)
{
	memset(m->b, 0, len);
	m->b[0] = b0;
	m->b[1] = stratum;
	m->n = len;
}

Test(ingest_misc, ntp_client_and_server)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;

	ntp(&m, 0x23, 2, 48); /* v4 client, as in NTPv4.pcap */
	cr_assert_eq(run_msg(&pkt, SX_P_UDP, 123, 123, &m), SX_P_NTP);
	cr_assert_eq(pkt.app.ntp.version, 4);
	cr_assert_eq(pkt.app.ntp.mode, 3);
	cr_assert_eq(pkt.app.ntp.stratum, 2);
	ntp(&m, 0x1c, 1, 48); /* v3 server */
	cr_assert_eq(run_msg(&pkt, SX_P_UDP, 123, 40000, &m), SX_P_NTP);
	cr_assert_eq(pkt.app.ntp.version, 3);
	cr_assert_eq(pkt.app.ntp.mode, 4);
	cr_assert_eq(pkt.app.ntp.stratum, 1);
	ntp(&m, 0x24, 2, 68); /* with a MAC after the header */
	cr_assert_eq(run_msg(&pkt, SX_P_UDP, 40000, 123, &m), SX_P_NTP);
	ntp(&m, 0x08, 3, 48); /* v1: no mode field */
	cr_assert_eq(run_msg(&pkt, SX_P_UDP, 123, 123, &m), SX_P_NTP);
	cr_assert_eq(pkt.app.ntp.version, 1);
	cr_assert_eq(pkt.app.ntp.mode, 0);
}

Test(ingest_misc, ntp_control_and_private_modes)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;

	ntp(&m, 0x16, 0x02, 12); /* v2 mode 6, read status */
	cr_assert_eq(run_msg(&pkt, SX_P_UDP, 40000, 123, &m), SX_P_NTP);
	cr_assert_eq(pkt.app.ntp.mode, 6);
	cr_assert_eq(pkt.app.ntp.stratum, 0);
	ntp(&m, 0x97, 0x00, 8); /* v2 mode 7 response (NTPv2.pcap, monlist) */
	m.b[1] = 0x03;
	cr_assert_eq(run_msg(&pkt, SX_P_UDP, 123, 80, &m), SX_P_NTP);
	cr_assert_eq(pkt.app.ntp.version, 2);
	cr_assert_eq(pkt.app.ntp.mode, 7);
	cr_assert_eq(pkt.app.ntp.stratum, 0);
}

Test(ingest_misc, not_ntp)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	uint8_t *p;

	ntp(&m, 0x2b, 2, 48); /* version 5 */
	cr_assert_eq(run_msg(&pkt, SX_P_UDP, 123, 123, &m), SX_P_UDP);
	ntp(&m, 0x03, 2, 48); /* version 0 */
	cr_assert_eq(run_msg(&pkt, SX_P_UDP, 123, 123, &m), SX_P_UDP);
	ntp(&m, 0x20, 2, 48); /* v4 mode 0 */
	cr_assert_eq(run_msg(&pkt, SX_P_UDP, 123, 123, &m), SX_P_UDP);
	ntp(&m, 0x23, 2, 47); /* too short */
	cr_assert_eq(run_msg(&pkt, SX_P_UDP, 123, 123, &m), SX_P_UDP);
	ntp(&m, 0x16, 2, 11);
	cr_assert_eq(run_msg(&pkt, SX_P_UDP, 123, 123, &m), SX_P_UDP);
	ntp(&m, 0x23, 2, 48); /* other port */
	cr_assert_eq(run_msg(&pkt, SX_P_UDP, 1123, 1123, &m), SX_P_UDP);
	/* short capture of a full-size datagram is fine */
	p = sx_tt_exact(m.b, 2);
	sx_tt_set_pkt(&pkt, SX_P_UDP, 123, 123, p, 2, 48);
	sx_app_dissect(&pkt);
	cr_assert_eq(pkt.proto, SX_P_NTP);
	cr_assert_eq(pkt.app.ntp.version, 4);
	free(p);
}

/* ---- MQTT ---- */

/* CONNECT, protocol MQIsdp level 3 (mqtt.pcap) */
static const uint8_t connect_v31[] = {
    0x10, 0x40, 0x00, 0x06, 0x4d, 0x51, 0x49, 0x73, 0x64, 0x70, 0x03, 0xc2, 0x00, 0x14,
    0x00, 0x16, 0x63, 0x62, 0x61, 0x61, 0x62, 0x63, 0x62, 0x61, 0x62, 0x61, 0x63, 0x62,
    0x62, 0x62, 0x62, 0x62, 0x61, 0x61, 0x61, 0x61, 0x61, 0x62, 0x00, 0x0c, 0x30, 0x32,
    0x44, 0x35, 0x30, 0x35, 0x30, 0x32, 0x32, 0x33, 0x44, 0x33, 0x00, 0x0c, 0x30, 0x32,
    0x44, 0x35, 0x30, 0x35, 0x30, 0x32, 0x32, 0x33, 0x44, 0x33,
};

/* SUBSCRIBE id 1, "astr/s720/02D5050223D3/99" QoS 0 (mqtt.pcap) */
static const uint8_t subscribe_v311[] = {
    0x82, 0x1e, 0x00, 0x01, 0x00, 0x19, 0x61, 0x73, 0x74, 0x72, 0x2f, 0x73, 0x37, 0x32, 0x30, 0x2f,
    0x30, 0x32, 0x44, 0x35, 0x30, 0x35, 0x30, 0x32, 0x32, 0x33, 0x44, 0x33, 0x2f, 0x39, 0x39, 0x00,
};

Test(ingest_misc, mqtt_connect_v31)
{
	struct sx_pkt pkt;

	cr_assert_eq(run(&pkt, SX_P_TCP, 41892, 1883, connect_v31, sizeof(connect_v31)), SX_P_MQTT);
	cr_assert_eq(pkt.app.mqtt.type, 1);
	cr_assert_str_eq(pkt.app.mqtt.client_id, "cbaabcbabacbbbbbaaaaab");
	cr_assert_str_eq(pkt.app.mqtt.topic, "");
}

Test(ingest_misc, mqtt_connect_v311_and_v5)
{
	struct sx_tmsg body = {.n = 0};
	struct sx_tmsg m = {.n = 0};
	struct sx_pkt pkt;

	putstr(&body, "MQTT");
	sx_tm_put8(&body, 4);
	sx_tm_put8(&body, 0xc0);
	sx_tm_put16(&body, 600);
	putstr(&body, "P47775ID170W2120");
	putstr(&body, "user");
	putstr(&body, "pass");
	sx_tm_put8(&m, 0x10);
	sx_tm_put8(&m, (uint8_t)body.n);
	sx_tm_putbytes(&m, body.b, body.n);
	cr_assert_eq(run_msg(&pkt, SX_P_TCP, 35035, 1883, &m), SX_P_MQTT);
	cr_assert_str_eq(pkt.app.mqtt.client_id, "P47775ID170W2120");

	/* 5.0: properties (Session Expiry Interval, Receive Maximum) first */
	body.n = 0;
	putstr(&body, "MQTT");
	sx_tm_put8(&body, 5);
	sx_tm_put8(&body, 0x02);
	sx_tm_put16(&body, 60);
	sx_tm_put8(&body, 8);
	sx_tm_putbytes(&body, "\x11\x00\x00\x0e\x10\x21\x00\x14", 8);
	putstr(&body, "sensor-7");
	m.n = 0;
	sx_tm_put8(&m, 0x10);
	sx_tm_put8(&m, (uint8_t)body.n);
	sx_tm_putbytes(&m, body.b, body.n);
	cr_assert_eq(run_msg(&pkt, SX_P_TCP, 35035, 1883, &m), SX_P_MQTT);
	cr_assert_str_eq(pkt.app.mqtt.client_id, "sensor-7");
}

Test(ingest_misc, mqtt_publish_with_long_remaining_length)
{
	struct sx_tmsg m = {.n = 0};
	struct sx_pkt pkt;
	size_t i;

	/* rl = 0x85 0x03 = 389, topic "astr/admin/otaupd8" (mqtt.pcap) */
	sx_tm_putbytes(&m, "\x30\x85\x03", 3);
	putstr(&m, "astr/admin/otaupd8");
	for (i = 0; i < 389 - 20; i++)
		sx_tm_put8(&m, '.');
	cr_assert_eq(run_msg(&pkt, SX_P_TCP, 41892, 1883, &m), SX_P_MQTT);
	cr_assert_eq(pkt.app.mqtt.type, 3);
	cr_assert_str_eq(pkt.app.mqtt.topic, "astr/admin/otaupd8");
	/* from the broker side, QoS 1 */
	m.b[0] = 0x32;
	cr_assert_eq(run_msg(&pkt, SX_P_TCP, 1883, 41892, &m), SX_P_MQTT);
	cr_assert_str_eq(pkt.app.mqtt.topic, "astr/admin/otaupd8");
}

Test(ingest_misc, mqtt_subscribe_v311_and_v5)
{
	struct sx_tmsg m = {.n = 0};
	struct sx_pkt pkt;

	cr_assert_eq(run(&pkt, SX_P_TCP, 41892, 1883, subscribe_v311, sizeof(subscribe_v311)),
		     SX_P_MQTT);
	cr_assert_eq(pkt.app.mqtt.type, 8);
	cr_assert_str_eq(pkt.app.mqtt.topic, "astr/s720/02D5050223D3/99");

	/* 5.0: id, properties (Subscription Identifier 5), two filters */
	sx_tm_putbytes(&m, "\x82\x00", 2);
	sx_tm_put16(&m, 10);
	sx_tm_put8(&m, 2);
	sx_tm_putbytes(&m, "\x0b\x05", 2);
	putstr(&m, "home/+/state");
	sx_tm_put8(&m, 0x01);
	putstr(&m, "home/#");
	sx_tm_put8(&m, 0x2a); /* retain handling 2, RAP, QoS 2 */
	m.b[1] = (uint8_t)(m.n - 2);
	cr_assert_eq(run_msg(&pkt, SX_P_TCP, 41892, 1883, &m), SX_P_MQTT);
	cr_assert_str_eq(pkt.app.mqtt.topic, "home/+/state");

	/* 5.0 with empty properties */
	m.n = 0;
	sx_tm_putbytes(&m, "\x82\x00", 2);
	sx_tm_put16(&m, 11);
	sx_tm_put8(&m, 0);
	putstr(&m, "a/b");
	sx_tm_put8(&m, 0x00);
	m.b[1] = (uint8_t)(m.n - 2);
	cr_assert_eq(run_msg(&pkt, SX_P_TCP, 41892, 1883, &m), SX_P_MQTT);
	cr_assert_str_eq(pkt.app.mqtt.topic, "a/b");
}

Test(ingest_misc, mqtt_small_packets)
{
	struct sx_pkt pkt;

	cr_assert_eq(run(&pkt, SX_P_TCP, 1883, 41892, "\x20\x02\x00\x00", 4), SX_P_MQTT);
	cr_assert_eq(pkt.app.mqtt.type, 2);
	cr_assert_eq(run(&pkt, SX_P_TCP, 1883, 41892, "\x90\x03\x00\x01\x00", 5), SX_P_MQTT);
	cr_assert_eq(pkt.app.mqtt.type, 9);
	cr_assert_eq(run(&pkt, SX_P_TCP, 41892, 1883, "\xc0\x00", 2), SX_P_MQTT);
	cr_assert_eq(pkt.app.mqtt.type, 12);
	cr_assert_eq(run(&pkt, SX_P_TCP, 41892, 1883, "\xe0\x00", 2), SX_P_MQTT);
	cr_assert_eq(pkt.app.mqtt.type, 14);
	cr_assert_eq(run(&pkt, SX_P_TCP, 41892, 1883, "\x62\x02\x00\x05", 4), SX_P_MQTT);
	cr_assert_eq(pkt.app.mqtt.type, 6);
}

Test(ingest_misc, not_mqtt)
{
	static const struct {
		const char *b;
		size_t n;
	} bad[] = {
	    {"\x00\x00", 2},					  /* type 0 */
	    {"\x80\x1e\x00\x01", 4},				  /* SUBSCRIBE flags 0 */
	    {"\x21\x02\x00\x00", 4},				  /* CONNACK flags 1 */
	    {"\x36\x05\x00\x01\x61\x00\x01", 7},		  /* PUBLISH QoS 3 */
	    {"\x30\xff\xff\xff\xff\x01", 6},			  /* 5-byte Remaining Length */
	    {"\x30\xff", 2},					  /* Remaining Length cut */
	    {"\xc0\x01\x00", 3},				  /* PINGREQ with a body */
	    {"\x20\x01\x00", 3},				  /* CONNACK too short */
	    {"\x10\x0c\x00\x04HTTP\x04\x02\x00\x3c\x00\x00", 14}, /* not MQTT */
	    {"\x10\x0c\x00\x04MQTT\x07\x02\x00\x3c\x00\x00", 14}, /* level 7 */
	    {"\x10\x0c\x00\x04MQTT\x04\x03\x00\x3c\x00\x00", 14}, /* reserved flag */
	    {"\x10", 1},
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sx_pkt pkt;

		cr_assert_eq(run(&pkt, SX_P_TCP, 41892, 1883, bad[i].b, bad[i].n), SX_P_TCP,
			     "case %zu", i);
	}
}

Test(ingest_misc, mqtt_hostile_strings_and_bad_lengths)
{
	struct sx_tmsg m = {.n = 0};
	struct sx_pkt pkt;
	static const uint8_t topic[] = {'t', '"', ',', '\n', 0x00, 0x80, 0xff, '\\'};

	sx_tm_put8(&m, 0x30);
	sx_tm_put8(&m, 2 + sizeof(topic) + 3);
	sx_tm_put16(&m, sizeof(topic));
	sx_tm_putbytes(&m, topic, sizeof(topic));
	sx_tm_putbytes(&m, "abc", 3);
	cr_assert_eq(run_msg(&pkt, SX_P_TCP, 41892, 1883, &m), SX_P_MQTT);
	cr_assert_str_eq(pkt.app.mqtt.topic, "t\",\\x0a\\x00\\x80\\xff\\\\");

	/* topic length beyond the packet: no topic */
	m.b[2] = 0x7f;
	cr_assert_eq(run_msg(&pkt, SX_P_TCP, 41892, 1883, &m), SX_P_MQTT);
	cr_assert_str_eq(pkt.app.mqtt.topic, "");

	/* SUBSCRIBE whose filter list does not add up either way */
	m.n = 0;
	sx_tm_putbytes(&m,
		       "\x82\x09\x00\x01\x00\x09"
		       "abc\x00",
		       10);
	cr_assert_eq(run_msg(&pkt, SX_P_TCP, 41892, 1883, &m), SX_P_MQTT);
	cr_assert_str_eq(pkt.app.mqtt.topic, "");
}

Test(ingest_misc, mqtt_truncated_at_every_offset)
{
	struct sx_tmsg m = {.n = 0};

	sx_tm_putbytes(&m, connect_v31, sizeof(connect_v31));
	truncate_everywhere(&m, SX_P_TCP, 41892, 1883);
	m.n = 0;
	sx_tm_putbytes(&m, subscribe_v311, sizeof(subscribe_v311));
	truncate_everywhere(&m, SX_P_TCP, 41892, 1883);
}

/* ---- TP-Link ---- */

static void tp_encrypt(struct sx_tmsg *m, const char *json, bool tcp)
{
	size_t n = strlen(json);
	uint8_t key = 171;
	size_t i;

	m->n = 0;
	if (tcp) {
		sx_tm_put16(m, (uint16_t)(n >> 16));
		sx_tm_put16(m, (uint16_t)n);
	}
	for (i = 0; i < n; i++) {
		uint8_t c = (uint8_t)json[i] ^ key;

		sx_tm_put8(m, c);
		key = c;
	}
}

/* set_relay_state reply from the plug (signature-extraction traces) */
static const uint8_t relay_reply[] = {
    0x00, 0x00, 0x00, 0x2d, 0xd0, 0xf2, 0x81, 0xf8, 0x8b, 0xff, 0x9a, 0xf7, 0xd5,
    0xef, 0x94, 0xb6, 0xc5, 0xa0, 0xd4, 0x8b, 0xf9, 0x9c, 0xf0, 0x91, 0xe8, 0xb7,
    0xc4, 0xb0, 0xd1, 0xa5, 0xc0, 0xe2, 0xd8, 0xa3, 0x81, 0xe4, 0x96, 0xe4, 0xbb,
    0xd8, 0xb7, 0xd3, 0xb6, 0x94, 0xae, 0x9e, 0xe3, 0x9e, 0xe3,
};

Test(ingest_misc, tplink_real_reply)
{
	struct sx_pkt pkt;

	cr_assert_eq(run(&pkt, SX_P_TCP, 9999, 37628, relay_reply, sizeof(relay_reply)),
		     SX_P_TPLINK);
	cr_assert(pkt.app.tplink.response);
	cr_assert_str_eq(pkt.app.tplink.cmd, "system.set_relay_state");
}

Test(ingest_misc, tplink_requests)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;

	tp_encrypt(&m, "{\"system\":{\"get_sysinfo\":{}}}", false);
	cr_assert_eq(run_msg(&pkt, SX_P_UDP, 40000, 9999, &m), SX_P_TPLINK);
	cr_assert_not(pkt.app.tplink.response);
	cr_assert_str_eq(pkt.app.tplink.cmd, "system.get_sysinfo");

	tp_encrypt(&m,
		   "{\"context\":{\"source\":\"46a4d58b-6279-432c-ae23-e115c2db8354\"},"
		   "\"system\":{\"set_relay_state\":{\"state\":0}}}",
		   true);
	cr_assert_eq(run_msg(&pkt, SX_P_TCP, 37628, 9999, &m), SX_P_TPLINK);
	cr_assert_not(pkt.app.tplink.response);
	cr_assert_str_eq(pkt.app.tplink.cmd, "system.set_relay_state");
	cr_assert_str_eq(pkt.app.tplink.args, "state=0", "what tells off from on");

	tp_encrypt(&m, "{\"system\":{\"get_sysinfo\":{}},\"emeter\":{\"get_realtime\":{}}}", true);
	cr_assert_eq(run_msg(&pkt, SX_P_TCP, 37628, 9999, &m), SX_P_TPLINK);
	cr_assert_str_eq(pkt.app.tplink.cmd, "system.get_sysinfo emeter.get_realtime");

	tp_encrypt(&m,
		   " { \"smartlife.iot.common.emeter\" : { \"get_realtime\" : { } ,\n"
		   "\"get_daystat\":{\"month\":1,\"year\":[2024,{\"x\":\"}\"}]}} ,"
		   "\"err_code\": -1, \"empty\":{}, \"s\":\"a\\\"}\"}",
		   true);
	cr_assert_eq(run_msg(&pkt, SX_P_TCP, 9999, 37628, &m), SX_P_TPLINK);
	cr_assert_str_eq(pkt.app.tplink.cmd, "smartlife.iot.common.emeter.get_realtime "
					     "smartlife.iot.common.emeter.get_daystat err_code "
					     "empty s");
	cr_assert_str_eq(pkt.app.tplink.args, "", "a reply's values are no arguments");
}

/* A request's scalar arguments, in order; containers inside skipped; what
 * does not fit left out from there on. */
Test(ingest_misc, tplink_request_arguments)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	char json[1024];
	size_t n;

	tp_encrypt(&m,
		   "{\"smartlife.iot.smartbulb.lightingservice\":{\"transition_light_state\":"
		   "{\"on_off\":1,\"hsv\":[1,{\"x\":2}],\"brightness\": 50 ,\"mode\":\"normal\","
		   "\"ignore_default\":true}}}",
		   true);
	cr_assert_eq(run_msg(&pkt, SX_P_TCP, 37628, 9999, &m), SX_P_TPLINK);
	cr_assert_str_eq(pkt.app.tplink.cmd,
			 "smartlife.iot.smartbulb.lightingservice.transition_light_state");
	cr_assert_str_eq(pkt.app.tplink.args,
			 "on_off=1,brightness=50,mode=normal,ignore_default=true");

	/* a method whose value is not an object has no arguments */
	tp_encrypt(&m, "{\"system\":{\"reboot\":1,\"set_led_off\":{\"off\":1}}}", true);
	cr_assert_eq(run_msg(&pkt, SX_P_TCP, 37628, 9999, &m), SX_P_TPLINK);
	cr_assert_str_eq(pkt.app.tplink.cmd, "system.reboot system.set_led_off");
	cr_assert_str_eq(pkt.app.tplink.args, "off=1");

	/* more arguments than fit: a prefix, each whole */
	n = (size_t)snprintf(json, sizeof(json), "{\"system\":{\"set\":{");
	for (unsigned i = 0; i < 40; i++)
		n += (size_t)snprintf(json + n, sizeof(json) - n, "%s\"k%u\":%u", i ? "," : "", i,
				      i);
	snprintf(json + n, sizeof(json) - n, "}}}");
	tp_encrypt(&m, json, true);
	cr_assert_eq(run_msg(&pkt, SX_P_TCP, 37628, 9999, &m), SX_P_TPLINK);
	cr_assert_lt(strlen(pkt.app.tplink.args), sizeof(pkt.app.tplink.args));
	cr_assert(strncmp(pkt.app.tplink.args, "k0=0,k1=1,k2=2", 14) == 0);
	n = strlen(pkt.app.tplink.args);
	cr_assert(pkt.app.tplink.args[n - 1] >= '0' && pkt.app.tplink.args[n - 1] <= '9',
		  "ends on a whole argument: %s", pkt.app.tplink.args);
	cr_assert_neq(pkt.app.tplink.args[n - 2], 'k', "%s", pkt.app.tplink.args);
}

Test(ingest_misc, tplink_cut_reply_still_names_its_method)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;
	uint8_t *p;

	tp_encrypt(&m,
		   "{\"system\":{\"get_sysinfo\":{\"err_code\":0,\"sw_ver\":\"1.2.6 Build "
		   "200727 Rel.121115\",\"hw_ver\":\"1.0\"}}}",
		   true);
	/* the segment holds 40 bytes of a 605-byte reply */
	p = sx_tt_exact(m.b, 40);
	sx_tt_set_pkt(&pkt, SX_P_TCP, 9999, 40720, p, 40, 40);
	sx_app_dissect(&pkt);
	cr_assert_eq(pkt.proto, SX_P_TPLINK);
	cr_assert(pkt.app.tplink.response);
	cr_assert_str_eq(pkt.app.tplink.cmd, "system.get_sysinfo");
	free(p);
}

Test(ingest_misc, tplink_not_json)
{
	struct sx_tmsg m;
	struct sx_pkt pkt;

	tp_encrypt(&m, "hello {\"a\":1}", true);
	cr_assert_eq(run_msg(&pkt, SX_P_TCP, 40000, 9999, &m), SX_P_TCP);
	tp_encrypt(&m, "[1,2]", false);
	cr_assert_eq(run_msg(&pkt, SX_P_UDP, 40000, 9999, &m), SX_P_UDP);
	/* plaintext JSON is not the protocol */
	cr_assert_eq(run(&pkt, SX_P_UDP, 40000, 9999, "{\"a\":{}}", 8), SX_P_UDP);
	/* bad TCP lengths */
	tp_encrypt(&m, "{\"a\":{\"b\":1}}", true);
	m.b[3] = 0;
	cr_assert_eq(run_msg(&pkt, SX_P_TCP, 40000, 9999, &m), SX_P_TCP);
	tp_encrypt(&m, "{\"a\":{\"b\":1}}", true);
	m.b[0] = 0x01;
	cr_assert_eq(run_msg(&pkt, SX_P_TCP, 40000, 9999, &m), SX_P_TCP);
	cr_assert_eq(run(&pkt, SX_P_TCP, 40000, 9999, "\x00\x00\x00\x05", 4), SX_P_TCP);
	/* a continuation segment (no length prefix) is not recognised */
	tp_encrypt(&m, "{\"system\":{\"get_sysinfo\":{}}}", true);
	cr_assert_eq(run(&pkt, SX_P_TCP, 40000, 9999, m.b + 4, m.n - 4), SX_P_TCP);
}

Test(ingest_misc, tplink_hostile_keys_depth_and_length)
{
	char json[6000];
	struct sx_tmsg m;
	struct sx_pkt pkt;
	size_t n;
	unsigned i;

	tp_encrypt(&m, "{\"a\\\"b,\x01\xff\":{\"c\n\":1}}", true);
	cr_assert_eq(run_msg(&pkt, SX_P_TCP, 40000, 9999, &m), SX_P_TPLINK);
	cr_assert_str_eq(pkt.app.tplink.cmd, "a\\\\\"b,\\x01\\xff.c\\x0a");

	/* 200 levels of nesting under a method: the name is kept */
	n = (size_t)snprintf(json, sizeof(json), "{\"a\":{\"b\":");
	for (i = 0; i < 200; i++)
		json[n++] = '[';
	for (i = 0; i < 200; i++)
		json[n++] = ']';
	n += (size_t)snprintf(json + n, sizeof(json) - n, "},\"c\":{\"d\":1}}");
	json[n] = '\0';
	tp_encrypt(&m, json, true);
	cr_assert_eq(run_msg(&pkt, SX_P_TCP, 40000, 9999, &m), SX_P_TPLINK);
	cr_assert_str_eq(pkt.app.tplink.cmd, "a.b");

	/* many modules: whole names only, up to the buffer */
	n = 1;
	json[0] = '{';
	for (i = 0; i < 40; i++)
		n += (size_t)snprintf(json + n, sizeof(json) - n, "%s\"mod%02u\":{\"get\":{}}",
				      i ? "," : "", i);
	json[n++] = '}';
	json[n] = '\0';
	tp_encrypt(&m, json, false);
	cr_assert_eq(run_msg(&pkt, SX_P_UDP, 9999, 40000, &m), SX_P_TPLINK);
	cr_assert(pkt.app.tplink.response);
	n = strlen(pkt.app.tplink.cmd);
	cr_assert_gt(n, SX_TEXT_MAX - 12);
	cr_assert_str_eq(pkt.app.tplink.cmd + n - 4, ".get");

	/* longer than the 4096-byte decryption buffer */
	n = (size_t)snprintf(json, sizeof(json), "{\"big\":{\"x\":\"");
	memset(json + n, 'z', 5000);
	n += 5000;
	n += (size_t)snprintf(json + n, sizeof(json) - n, "\"}}");
	tp_encrypt(&m, json, true);
	cr_assert_eq(run_msg(&pkt, SX_P_TCP, 40000, 9999, &m), SX_P_TPLINK);
	cr_assert_str_eq(pkt.app.tplink.cmd, "big.x");
}

Test(ingest_misc, tplink_truncated_at_every_offset)
{
	struct sx_tmsg m;

	tp_encrypt(&m, "{\"system\":{\"get_sysinfo\":{}},\"emeter\":{\"get_realtime\":{}}}", true);
	truncate_everywhere(&m, SX_P_TCP, 40000, 9999);
	tp_encrypt(&m, "{\"system\":{\"get_sysinfo\":{}},\"emeter\":{\"get_realtime\":{}}}", false);
	truncate_everywhere(&m, SX_P_UDP, 40000, 9999);
	m.n = 0;
	sx_tm_putbytes(&m, relay_reply, sizeof(relay_reply));
	truncate_everywhere(&m, SX_P_TCP, 9999, 40000);
}

Test(ingest_misc, ntp_truncated_at_every_offset)
{
	struct sx_tmsg m;

	ntp(&m, 0x23, 2, 48);
	truncate_everywhere(&m, SX_P_UDP, 123, 123);
}

/* ---- dispatch (ingest/app.c) ---- */

Test(ingest_misc, dispatch_falls_through_to_content)
{
	static const uint8_t tls_ch[] = {0x16, 0x03, 0x01, 0x00, 0x05,
					 0x01, 0x00, 0x00, 0x01, 0x03};
	static const char msearch[] = "M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n";
	static const char get[] = "GET / HTTP/1.1\r\nHost: plug.local\r\n\r\n";
	struct sx_pkt pkt;

	/* TLS on the DNS port: DNS refuses, the record header is recognised */
	cr_assert_eq(run(&pkt, SX_P_TCP, 50000, 53, tls_ch, sizeof(tls_ch)), SX_P_TLS);
	cr_assert_eq(pkt.app.tls.hs_type, 1);
	/* HTTP on the MQTT and TP-Link ports */
	cr_assert_eq(run(&pkt, SX_P_TCP, 50000, 1883, get, strlen(get)), SX_P_HTTP);
	cr_assert_eq(run(&pkt, SX_P_TCP, 50000, 9999, get, strlen(get)), SX_P_HTTP);
	cr_assert_str_eq(pkt.app.http.host, "plug.local");
	/* SSDP on the DHCP port: BOOTP refuses, the start line is recognised */
	cr_assert_eq(run(&pkt, SX_P_UDP, 50000, 67, msearch, strlen(msearch)), SX_P_SSDP);
	cr_assert_str_eq(pkt.app.ssdp.st, "ssdp:all");
	/* other transports are left alone */
	cr_assert_eq(run(&pkt, SX_P_ICMP, 50000, 80, get, strlen(get)), SX_P_ICMP);
}

Test(ingest_misc, dispatch_bounds_payload_by_announced_length)
{
	/* a response announcing one answer that only the padding holds */
	static const uint8_t dns[] = {
	    0x12,
	    0x34,
	    0x81,
	    0x80,
	    0x00,
	    0x00,
	    0x00,
	    0x01,
	    0x00,
	    0x00,
	    0x00,
	    0x00,
	    /* -- announced length ends here (12); "padding" follows -- */
	    0x00,
	    0x00,
	    0x01,
	    0x00,
	    0x01,
	    0x00,
	    0x00,
	    0x00,
	    0x3c,
	    0x00,
	    0x04,
	    0x0a,
	    0x00,
	    0x00,
	    0x01,
	};
	struct sx_pkt pkt;
	uint8_t *p = sx_tt_exact(dns, sizeof(dns));

	sx_tt_set_pkt(&pkt, SX_P_UDP, 53, 50000, p, sizeof(dns), sizeof(dns));
	sx_app_dissect(&pkt);
	cr_assert_eq(pkt.proto, SX_P_DNS);
	cr_assert_eq(pkt.app.dns.nrr, 1);
	cr_assert_str_eq(pkt.app.dns.rr[0].data, "10.0.0.1");

	/* the UDP length says 12: the answer is padding, not data; and 12
	 * bytes cannot hold the one record the header announces */
	sx_tt_set_pkt(&pkt, SX_P_UDP, 53, 50000, p, sizeof(dns), 12);
	sx_app_dissect(&pkt);
	cr_assert_eq(pkt.proto, SX_P_UDP);

	/* nothing captured: nothing to do */
	sx_tt_set_pkt(&pkt, SX_P_UDP, 53, 50000, p, 0, 40);
	sx_app_dissect(&pkt);
	cr_assert_eq(pkt.proto, SX_P_UDP);
	sx_tt_set_pkt(&pkt, SX_P_UDP, 53, 50000, NULL, 0, 0);
	sx_app_dissect(&pkt);
	cr_assert_eq(pkt.proto, SX_P_UDP);
	free(p);
}
