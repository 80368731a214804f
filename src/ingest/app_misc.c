/*
 * app_misc.c - the small ones: NTP (RFC 5905) and MQTT (3.1.1, 5.0).
 *
 * NTP, UDP 123 on either side: version 1..4; mode 1..7 (0 only for version
 * 1, whose packets had no mode field); the datagram must be at least 48
 * bytes on the wire for modes 0..5, 12 for mode 6 (control) and 8 for mode
 * 7 (private).  The stratum byte is kept for modes 0..5 and reported as 0
 * for modes 6 and 7, where that byte means something else.
 *
 * MQTT, TCP 1883 on either side: one control packet per segment, the first.
 * The fixed header must be valid: type 1..15, the flags that MQTT fixes
 * (0010 for PUBREL, SUBSCRIBE, UNSUBSCRIBE, 0000 for the others except
 * PUBLISH, whose QoS must not be 3), a Remaining Length of at most 4 bytes
 * and not too small for the type (0 for PINGREQ/PINGRESP).  CONNECT must
 * name the protocol "MQTT" or "MQIsdp" with level 3, 4 or 5; its client id
 * is read after the v5 properties when level is 5.  PUBLISH gives its topic
 * name; SUBSCRIBE its first topic filter.  The protocol version of a
 * SUBSCRIBE is not known without the connection's CONNECT, so the filter
 * list is read as 3.1.1 and, if that does not describe the packet exactly,
 * as 5.0 (property length first).  Strings are kept only when complete,
 * escaped by core/text.h.
 *
 * Stateless; no allocation; reads only through struct sx_cursor.
 */
#include "ingest/app.h"

#include <string.h>

#include "core/text.h"
#include "ingest/cursor.h"
#include "ingest/ingest.h"

#define NTP_LEN		48
#define NTP_CONTROL_LEN 12
#define NTP_PRIVATE_LEN 8

static size_t wire_len(const struct sx_pkt *pkt, const uint8_t *p, size_t n)
{
	if (p == pkt->payload && pkt->payload_len > n)
		return pkt->payload_len;
	return n;
}

/*
 * NTP header (RFC 5905 §7.3), first two bytes:
 *
 *    0                   1
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |LI | VN  |Mode |    Stratum    |  Poll, Precision, ... (48 bytes)
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
bool sx_app_ntp(struct sx_pkt *pkt, const uint8_t *p, size_t n)
{
	struct sx_ntp *t = &pkt->app.ntp;
	struct sx_cursor c = sx_cur(p, n);
	uint8_t b0 = sx_cur_u8(&c);
	uint8_t stratum = sx_cur_u8(&c);
	uint8_t version = (b0 >> 3) & 7;
	uint8_t mode = b0 & 7;
	size_t wire = wire_len(pkt, p, n);
	size_t need = mode == 6 ? NTP_CONTROL_LEN : mode == 7 ? NTP_PRIVATE_LEN : NTP_LEN;

	if (c.bad || version < 1 || version > 4 || (mode == 0 && version != 1) || wire < need)
		return false;
	t->version = version;
	t->mode = mode;
	t->stratum = mode >= 6 ? 0 : stratum;
	pkt->proto = SX_P_NTP;
	return true;
}

enum mqtt_type {
	MQTT_CONNECT = 1,
	MQTT_CONNACK,
	MQTT_PUBLISH,
	MQTT_PUBACK,
	MQTT_PUBREC,
	MQTT_PUBREL,
	MQTT_PUBCOMP,
	MQTT_SUBSCRIBE,
	MQTT_SUBACK,
	MQTT_UNSUBSCRIBE,
	MQTT_UNSUBACK,
	MQTT_PINGREQ,
	MQTT_PINGRESP,
	MQTT_DISCONNECT,
	MQTT_AUTH,
};

/* Variable Byte Integer (MQTT 5.0 §1.5.5): 7 bits a byte, at most 4 bytes. */
static bool read_varint(struct sx_cursor *c, uint32_t *out)
{
	uint32_t v = 0;
	unsigned i;

	for (i = 0; i < 4; i++) {
		uint8_t b = sx_cur_u8(c);

		if (c->bad)
			return false;
		v |= (uint32_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

/* UTF-8 Encoded String (§1.5.4): 16-bit length, bytes.  False if cut. */
static bool read_str(struct sx_cursor *c, struct sx_cursor *s)
{
	uint16_t len = sx_cur_be16(c);

	*s = sx_cur_sub(c, len);
	return !c->bad;
}

static bool flags_ok(uint8_t type, uint8_t flags)
{
	switch (type) {
	case MQTT_PUBLISH:
		return ((flags >> 1) & 3) != 3;
	case MQTT_PUBREL:
	case MQTT_SUBSCRIBE:
	case MQTT_UNSUBSCRIBE:
		return flags == 2;
	default:
		return flags == 0;
	}
}

static bool length_ok(uint8_t type, uint32_t rl)
{
	switch (type) {
	case MQTT_CONNECT:
		return rl >= 10;
	case MQTT_PINGREQ:
	case MQTT_PINGRESP:
		return rl == 0;
	case MQTT_CONNACK:
	case MQTT_PUBLISH:
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
	case MQTT_UNSUBACK:
		return rl >= 2;
	case MQTT_SUBACK:
		return rl >= 3;
	case MQTT_SUBSCRIBE:
	case MQTT_UNSUBSCRIBE:
		return rl >= 5;
	default:
		return true;
	}
}

/*
 * CONNECT variable header and payload (3.1.1 §3.1, 5.0 §3.1):
 *
 *   protocol name (string) | level (8) | flags (8) | keep alive (16) |
 *   [5.0: properties (varint length)] | client id (string) | ...
 */
static bool parse_connect(struct sx_mqtt *m, struct sx_cursor *b)
{
	struct sx_cursor name;
	struct sx_cursor id;
	uint8_t level;
	uint8_t flags;

	if (!read_str(b, &name))
		return false;
	if (!(sx_cur_left(&name) == 4 && memcmp(name.p, "MQTT", 4) == 0) &&
	    !(sx_cur_left(&name) == 6 && memcmp(name.p, "MQIsdp", 6) == 0))
		return false;
	level = sx_cur_u8(b);
	flags = sx_cur_u8(b);
	sx_cur_skip(b, 2);
	if (b->bad || level < 3 || level > 5 || (flags & 1))
		return false;
	if (level == 5) {
		uint32_t plen;

		if (!read_varint(b, &plen) || !sx_cur_skip(b, plen))
			return true;
	}
	if (read_str(b, &id))
		sx_text_escape(m->client_id, sizeof(m->client_id), id.p, sx_cur_left(&id), NULL);
	return true;
}

/*
 * SUBSCRIBE after the packet identifier (3.1.1 §3.8, 5.0 §3.8):
 *
 *   [5.0: properties (varint length)] | { filter (string) | options (8) }+
 *
 * True when the list describes the rest of the packet exactly.
 */
static bool subscribe_filters(struct sx_cursor c, bool v5, struct sx_cursor *first)
{
	bool got = false;

	if (v5) {
		uint32_t plen;

		if (!read_varint(&c, &plen) || !sx_cur_skip(&c, plen))
			return false;
	}
	while (sx_cur_left(&c) > 0) {
		struct sx_cursor f;
		uint8_t opts;

		if (!read_str(&c, &f))
			return false;
		opts = sx_cur_u8(&c);
		if (c.bad)
			return false;
		if (v5 ? (opts & 0xc0) || (opts & 3) == 3 || ((opts >> 4) & 3) == 3 : opts > 2)
			return false;
		if (!got)
			*first = f;
		got = true;
	}
	return got;
}

/*
 * Fixed header (MQTT 5.0 §2.1.1):
 *
 *   +-------+-------+---------------------------+
 *   | type  | flags | Remaining Length (1-4 B)  |  variable header, payload
 *   |  (4)  |  (4)  |                           |
 *   +-------+-------+---------------------------+
 */
bool sx_app_mqtt(struct sx_pkt *pkt, const uint8_t *p, size_t n)
{
	struct sx_mqtt *m = &pkt->app.mqtt;
	struct sx_cursor c = sx_cur(p, n);
	struct sx_cursor body;
	struct sx_cursor s;
	uint8_t b0 = sx_cur_u8(&c);
	uint8_t type = b0 >> 4;
	uint32_t rl;

	if (c.bad || type == 0 || !flags_ok(type, b0 & 0xf) || !read_varint(&c, &rl) ||
	    !length_ok(type, rl))
		return false;
	body = sx_cur_sub(&c, rl);
	m->type = type;
	m->client_id[0] = '\0';
	m->topic[0] = '\0';
	switch (type) {
	case MQTT_CONNECT:
		if (!parse_connect(m, &body))
			return false;
		break;
	case MQTT_PUBLISH:
		if (read_str(&body, &s))
			sx_text_escape(m->topic, sizeof(m->topic), s.p, sx_cur_left(&s), NULL);
		break;
	case MQTT_SUBSCRIBE:
		sx_cur_skip(&body, 2); /* packet identifier */
		if (!body.bad &&
		    (subscribe_filters(body, false, &s) || subscribe_filters(body, true, &s)))
			sx_text_escape(m->topic, sizeof(m->topic), s.p, sx_cur_left(&s), NULL);
		break;
	default:
		break;
	}
	pkt->proto = SX_P_MQTT;
	return true;
}

const char *sx_mqtt_type_name(uint8_t type)
{
	static const char *const names[16] = {"RESERVED",  "CONNECT",  "CONNACK",     "PUBLISH",
					      "PUBACK",	   "PUBREC",   "PUBREL",      "PUBCOMP",
					      "SUBSCRIBE", "SUBACK",   "UNSUBSCRIBE", "UNSUBACK",
					      "PINGREQ",   "PINGRESP", "DISCONNECT",  "AUTH"};

	return names[type & 15];
}
