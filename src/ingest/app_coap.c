/*
 * app_coap.c - CoAP over UDP (RFC 7252; FETCH/PATCH/iPATCH RFC 8132).
 *
 * Two levels of belief.  On a well-known port (5683, 5684) a message is
 * CoAP when its header is: version 1, token length <= 8, code class 0, 2,
 * 4 or 5, the token present; options are then read as far as they are
 * well-formed.  On any other port (strict) it must also be a message that
 * a CoAP endpoint would send, as a whole:
 *   - the whole datagram is captured, at most 1152 bytes long (RFC 7252
 *     §4.6; larger bodies go block-wise), and its code is a registered one
 *     (0.01-0.07, 2.01-2.05, 2.31, 4.00-4.06, 4.08, 4.12, 4.13, 4.15,
 *     4.22, 4.29, 5.00-5.05, 5.08), not Empty;
 *   - requests come as CON or NON and carry at least one Uri-Path option;
 *     responses are not RST and carry at least one option (such as
 *     Content-Format: a bare token-and-payload reply from a random port
 *     cannot be told from noise);
 *   - options are well-formed up to the end or to a payload marker that is
 *     followed by at least one byte; every option is registered (IANA CoAP
 *     Option Numbers, with OCF's 2049 and 2053, and the experimental range
 *     65000..65535 taken on trust), its value length is within the
 *     registered range, and a response carries no request-only option
 *     (Uri-*, Proxy-*, If-*, Accept).
 * Uri-Path options (11) are joined as "/a/b", Uri-Query options (15) with
 * '&', each segment escaped by core/text.h; a value that does not fit its
 * buffer is dropped with everything after it.
 *
 * Stateless; no allocation; reads only through struct sx_cursor.
 */
#include "ingest/app.h"

#include <stdio.h>
#include <string.h>

#include "core/compiler.h"
#include "core/text.h"
#include "ingest/cursor.h"
#include "ingest/ingest.h"

#define COAP_MAX_TKL	8
#define COAP_MAX_STRICT 1152 /* RFC 7252 §4.6: what fits an unknown path MTU */
#define OPT_URI_PATH	11
#define OPT_URI_QUERY	15
#define PAYLOAD_MARKER	0xff

/* Registered options (IANA "CoAP Option Numbers"; RFC 7252 §5.10 lengths). */
static const struct {
	uint16_t num;
	uint16_t min;
	uint16_t max;
	bool request_only;
} options[] = {
    {1, 0, 8, true},	 /* If-Match */
    {3, 1, 255, true},	 /* Uri-Host */
    {4, 1, 8, false},	 /* ETag */
    {5, 0, 0, true},	 /* If-None-Match */
    {6, 0, 3, false},	 /* Observe (RFC 7641) */
    {7, 0, 2, true},	 /* Uri-Port */
    {8, 0, 255, false},	 /* Location-Path */
    {9, 0, 255, false},	 /* OSCORE (RFC 8613) */
    {11, 0, 255, true},	 /* Uri-Path */
    {12, 0, 2, false},	 /* Content-Format */
    {14, 0, 4, false},	 /* Max-Age */
    {15, 0, 255, true},	 /* Uri-Query */
    {17, 0, 2, true},	 /* Accept */
    {19, 0, 3, false},	 /* Q-Block1 (RFC 9177) */
    {20, 0, 255, false}, /* Location-Query */
    {21, 1, 1, false},	 /* Hop-Limit (RFC 8768) */
    {23, 0, 3, false},	 /* Block2 (RFC 7959) */
    {27, 0, 3, false},	 /* Block1 */
    {28, 0, 4, false},	 /* Size2 */
    {31, 0, 3, false},	 /* Q-Block2 */
    {35, 1, 1034, true}, /* Proxy-Uri */
    {39, 1, 255, true},	 /* Proxy-Scheme */
    {60, 0, 4, false},	 /* Size1 */
    {252, 1, 40, false}, /* Echo (RFC 9175) */
    {258, 0, 1, false},	 /* No-Response (RFC 7967) */
    {292, 0, 8, false},	 /* Request-Tag (RFC 9175) */
    {2049, 0, 2, false}, /* OCF-Accept-Content-Format-Version */
    {2053, 0, 2, false}, /* OCF-Content-Format-Version */
};

/* Is option num with a value of len bytes what a request (or a response)
 * may carry?  The experimental range 65000..65535 is taken on trust. */
static bool option_ok(uint32_t num, uint32_t len, bool request)
{
	size_t i;

	if (num >= 65000 && num <= 65535)
		return true;
	for (i = 0; i < SX_ARRAY_SIZE(options); i++)
		if (options[i].num == num)
			return len >= options[i].min && len <= options[i].max &&
			       (request || !options[i].request_only);
	return false;
}

static bool code_registered(uint8_t code)
{
	uint8_t cls = code >> 5;
	uint8_t detail = code & 31;

	switch (cls) {
	case 0:
		return detail >= 1 && detail <= 7;
	case 2:
		return (detail >= 1 && detail <= 5) || detail == 31;
	case 4:
		return detail <= 6 || detail == 8 || detail == 12 || detail == 13 || detail == 15 ||
		       detail == 22 || detail == 29;
	case 5:
		return detail <= 5 || detail == 8;
	default:
		return false;
	}
}

/* Append sep and a segment, whole or not at all (then *full latches). */
static void add_segment(char *dst, size_t dstsz, size_t *len, const char *sep,
			const struct sx_cursor *v, bool *full)
{
	size_t n = sx_cur_left(v);
	size_t s = strlen(sep);

	if (*full || *len + s + sx_text_escaped_len(v->p, n) >= dstsz) {
		*full = true;
		return;
	}
	memcpy(dst + *len, sep, s + 1);
	*len += s;
	sx_text_append(dst, dstsz, len, v->p, n);
}

/*
 * Header and options (RFC 7252 §3, §3.1):
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Ver| T |  TKL  |      Code     |          Message ID           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |   Token (if any, TKL bytes) ...
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |   Options (if any) ...
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |1 1 1 1 1 1 1 1|    Payload (if any) ...
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *   option: | delta (4) | length (4) | [ext delta 0-2] [ext length 0-2] | value
 *   (13: one more byte + 13; 14: two more bytes + 269; 15: reserved)
 */
bool sx_app_coap(struct sx_pkt *pkt, const uint8_t *p, size_t n, bool well_known_port)
{
	struct sx_coap *co = &pkt->app.coap;
	struct sx_cursor c = sx_cur(p, n);
	bool strict = !well_known_port;
	uint8_t b0 = sx_cur_u8(&c);
	uint8_t code = sx_cur_u8(&c);
	uint16_t msg_id = sx_cur_be16(&c);
	uint8_t type = (b0 >> 4) & 3;
	uint8_t tkl = b0 & 0xf;
	uint8_t cls = code >> 5;
	size_t plen = 0;
	size_t qlen = 0;
	bool pfull = false;
	bool qfull = false;
	bool any_option = false;
	bool uri_path = false;
	bool uri_query = false;
	bool bad_option = false;
	uint32_t num = 0;

	if (c.bad || b0 >> 6 != 1 || tkl > COAP_MAX_TKL)
		return false;
	if (cls != 0 && cls != 2 && cls != 4 && cls != 5)
		return false;
	if (!sx_cur_skip(&c, tkl))
		return false;
	if (strict) {
		if ((p == pkt->payload && pkt->payload_len != n) || n > COAP_MAX_STRICT)
			return false; /* only whole datagrams can be judged */
		if (!code_registered(code))
			return false;
		if (cls == 0 && type != SX_COAP_CON && type != SX_COAP_NON)
			return false;
		if (cls != 0 && type == SX_COAP_RST)
			return false;
	}
	co->path[0] = '\0';
	co->query[0] = '\0';

	while (sx_cur_left(&c) > 0) {
		uint8_t ob = sx_cur_u8(&c);
		uint32_t delta = ob >> 4;
		uint32_t olen = ob & 0xf;
		struct sx_cursor val;

		if (ob == PAYLOAD_MARKER) {
			if (strict && sx_cur_left(&c) == 0)
				return false; /* marker without payload: format error */
			break;
		}
		if (delta == 15 || olen == 15) {
			bad_option = true;
			break;
		}
		if (delta == 13)
			delta = 13u + sx_cur_u8(&c);
		else if (delta == 14)
			delta = 269u + sx_cur_be16(&c);
		if (olen == 13)
			olen = 13u + sx_cur_u8(&c);
		else if (olen == 14)
			olen = 269u + sx_cur_be16(&c);
		num += delta;
		val = sx_cur_sub(&c, olen);
		if (c.bad) {
			bad_option = true;
			break;
		}
		if (strict && !option_ok(num, olen, cls == 0))
			return false;
		any_option = true;
		if (num == OPT_URI_PATH) {
			uri_path = true;
			add_segment(co->path, sizeof(co->path), &plen, "/", &val, &pfull);
		} else if (num == OPT_URI_QUERY) {
			add_segment(co->query, sizeof(co->query), &qlen, uri_query ? "&" : "", &val,
				    &qfull);
			uri_query = true;
		}
	}
	if (strict) {
		if (bad_option)
			return false;
		if (cls == 0 && !uri_path)
			return false;
		if (cls != 0 && !any_option)
			return false;
	}
	co->type = type;
	co->code = code;
	co->msg_id = msg_id;
	pkt->proto = SX_P_COAP;
	return true;
}

static const char *const method_names[] = {
    "EMPTY", "GET", "POST", "PUT", "DELETE", "FETCH", "PATCH", "iPATCH",
};

const char *sx_coap_type_name(uint8_t type)
{
	static const char *const names[] = {"CON", "NON", "ACK", "RST"};

	return names[type & 3];
}

const char *sx_coap_code_name(uint8_t code, char *buf, size_t bufsz)
{
	if (code < SX_ARRAY_SIZE(method_names))
		return method_names[code];
	if (bufsz)
		snprintf(buf, bufsz, "%u.%02u", code >> 5, code & 31);
	return buf;
}
