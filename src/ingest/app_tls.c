/*
 * app_tls.c - TLS record layer and hellos (RFC 8446, RFC 5246; SNI RFC 6066,
 * ALPN RFC 7301).
 *
 * A TCP payload is TLS when it starts with a record header: content type
 * 20..24, version 0x0300..0x0304, length at most 2^14 + 2048 (the
 * TLSCiphertext limit), and non-zero unless application data.  From there
 * the records are walked by their lengths and the content type of every
 * record whose header begins inside the captured bytes is listed (up to
 * SX_TLS_MAX_RECORDS); a header that is not plausible ends the walk.
 *
 * The first handshake record of the segment is looked into, unless a
 * ChangeCipherSpec came before it in the segment (the handshake is then
 * encrypted).  Its message type is kept when it is a known one and the
 * length fits the record (or the record is full size, the message
 * continuing in the next record).  ClientHello gives legacy_version, the
 * first host_name of server_name (escaped, lower-cased), the ALPN names
 * (escaped, commas inside a name written "\x2c", joined by ',') and the
 * supported_versions list without GREASE values (RFC 8701); ServerHello
 * gives legacy_version and the selected version.  A hello cut by the
 * segment yields the fields read before the cut; a name or a list entry is
 * kept only when it is complete.  An SSL 2.0 compatible ClientHello (high
 * bit of the first byte set) is recognised too, when its lengths add up.
 *
 * Stateless; no allocation; reads only through struct sx_cursor.
 */
#include "ingest/app.h"

#include <string.h>

#include "core/text.h"
#include "ingest/cursor.h"

#define TLS_MAX_RECORD_LEN (16384 + 2048)
#define TLS_FULL_RECORD	   16384

enum {
	CT_CHANGE_CIPHER_SPEC = 20,
	CT_ALERT = 21,
	CT_HANDSHAKE = 22,
	CT_APPLICATION_DATA = 23,
	CT_HEARTBEAT = 24,
};

enum {
	HS_CLIENT_HELLO = 1,
	HS_SERVER_HELLO = 2,
};

enum {
	EXT_SERVER_NAME = 0,
	EXT_ALPN = 16,
	EXT_SUPPORTED_VERSIONS = 43,
};

static bool is_content_type(uint8_t t)
{
	return t >= CT_CHANGE_CIPHER_SPEC && t <= CT_HEARTBEAT;
}

static bool is_version(uint16_t v)
{
	return v >= 0x0300 && v <= 0x0304;
}

static bool is_header(uint8_t type, uint16_t version, uint16_t len)
{
	if (!is_content_type(type) || !is_version(version) || len > TLS_MAX_RECORD_LEN)
		return false;
	return len > 0 || type == CT_APPLICATION_DATA;
}

/* GREASE (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa. */
static bool is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* Handshake types of RFC 8446 §4 and RFC 5246 §7.4 (0 is left out: "none"). */
static bool is_hs_type(uint8_t t)
{
	switch (t) {
	case 1:
	case 2:
	case 3:
	case 4:
	case 5:
	case 6:
	case 8:
	case 11:
	case 12:
	case 13:
	case 14:
	case 15:
	case 16:
	case 20:
	case 21:
	case 22:
	case 23:
	case 24:
	case 25:
	case 254:
		return true;
	default:
		return false;
	}
}

/*
 * server_name extension (RFC 6066 §3):
 *
 *   ServerNameList length (16) | { name_type (8) | length (16) | name } ...
 */
static void parse_sni(struct sx_tls *t, struct sx_cursor *e)
{
	struct sx_cursor list = sx_cur_sub(e, sx_cur_be16(e));

	while (sx_cur_left(&list) > 0) {
		uint8_t type = sx_cur_u8(&list);
		uint16_t len = sx_cur_be16(&list);
		struct sx_cursor name = sx_cur_sub(&list, len);

		if (list.bad)
			return;
		if (type == 0) {
			sx_text_escape(t->sni, sizeof(t->sni), name.p, len, NULL);
			sx_text_lower(t->sni);
			return;
		}
	}
}

/* Length of an ALPN name once escaped (core/text.h form, ',' as "\x2c"). */
static size_t alpn_len(const uint8_t *p, size_t n)
{
	size_t need = 0;
	size_t i;

	for (i = 0; i < n; i++)
		need += p[i] == ',' ? 4 : p[i] == '\\' ? 2 : (p[i] >= 0x20 && p[i] <= 0x7e) ? 1 : 4;
	return need;
}

/*
 * ALPN extension (RFC 7301 §3.1):
 *
 *   ProtocolNameList length (16) | { length (8) | name } ...
 *
 * Names are kept whole: the list stops at the first one that does not fit.
 */
static void parse_alpn(struct sx_tls *t, struct sx_cursor *e)
{
	struct sx_cursor list = sx_cur_sub(e, sx_cur_be16(e));
	size_t len = 0;

	t->alpn[0] = '\0';
	while (sx_cur_left(&list) > 0) {
		uint8_t l = sx_cur_u8(&list);
		struct sx_cursor name = sx_cur_sub(&list, l);
		size_t i;

		if (list.bad)
			return;
		if (len + (len > 0) + alpn_len(name.p, l) >= sizeof(t->alpn))
			return;
		if (len > 0)
			t->alpn[len++] = ',';
		for (i = 0; i < l; i++) {
			uint8_t ch = sx_cur_u8(&name);

			if (ch == ',') {
				memcpy(t->alpn + len, "\\x2c", 4);
				len += 4;
			} else {
				sx_text_append(t->alpn, sizeof(t->alpn), &len, &ch, 1);
			}
		}
		t->alpn[len] = '\0';
	}
}

/*
 * Extensions (RFC 8446 §4.2):
 *
 *   length (16) | { type (16) | length (16) | data } ...
 */
static void parse_extensions(struct sx_tls *t, struct sx_cursor *m, bool client)
{
	struct sx_cursor exts = sx_cur_sub(m, sx_cur_be16(m));

	while (sx_cur_left(&exts) >= 4) {
		uint16_t type = sx_cur_be16(&exts);
		uint16_t len = sx_cur_be16(&exts);
		struct sx_cursor e = sx_cur_sub(&exts, len);

		/* a cut extension (exts.bad) is parsed as far as it goes */
		switch (type) {
		case EXT_SERVER_NAME:
			if (client && !t->sni[0])
				parse_sni(t, &e);
			break;
		case EXT_ALPN:
			if (client)
				parse_alpn(t, &e);
			break;
		case EXT_SUPPORTED_VERSIONS:
			if (client) {
				struct sx_cursor list = sx_cur_sub(&e, sx_cur_u8(&e));

				while (sx_cur_left(&list) >= 2) {
					uint16_t v = sx_cur_be16(&list);

					if (!is_grease(v) && t->nversions < SX_TLS_MAX_VERSIONS)
						t->versions[t->nversions++] = v;
				}
			} else {
				uint16_t v = sx_cur_be16(&e);

				if (!e.bad)
					t->selected_version = v;
			}
			break;
		default:
			break;
		}
		if (exts.bad)
			return;
	}
}

/*
 * ClientHello (RFC 8446 §4.1.2) and ServerHello (§4.1.3):
 *
 *   legacy_version (16) | random (32 bytes) | session_id (8-bit length) |
 *   ClientHello: cipher_suites (16-bit length) | compression (8-bit length)
 *   ServerHello: cipher_suite (16) | compression (8)
 *   | extensions (16-bit length)
 */
static void parse_hello(struct sx_tls *t, struct sx_cursor *m, bool client)
{
	uint16_t legacy = sx_cur_be16(m);
	uint8_t sid;

	if (m->bad)
		return;
	t->legacy_version = legacy;
	sx_cur_skip(m, 32);
	sid = sx_cur_u8(m);
	if (m->bad || sid > 32)
		return;
	sx_cur_skip(m, sid);
	if (client) {
		sx_cur_skip(m, sx_cur_be16(m));
		sx_cur_skip(m, sx_cur_u8(m));
	} else {
		sx_cur_skip(m, 3);
	}
	if (m->bad)
		return;
	parse_extensions(t, m, client);
}

/*
 * Handshake message (RFC 8446 §4):
 *
 *   msg_type (8) | length (24) | body
 */
static void parse_handshake(struct sx_tls *t, struct sx_cursor *rec, uint16_t reclen)
{
	uint8_t type = sx_cur_u8(rec);
	uint32_t len = sx_cur_be24(rec);
	struct sx_cursor m;

	if (rec->bad || !is_hs_type(type))
		return;
	if (len + 4 > reclen && reclen < TLS_FULL_RECORD)
		return;
	t->hs_type = type;
	m = sx_cur_sub(rec, len);
	if (type == HS_CLIENT_HELLO)
		parse_hello(t, &m, true);
	else if (type == HS_SERVER_HELLO)
		parse_hello(t, &m, false);
}

/*
 * SSL 2.0 compatible CLIENT-HELLO (RFC 6101 Appendix E.2; RFC 5246 E.2),
 * still sent by some old embedded clients to offer TLS 1.0..1.2:
 *
 *   +-+---------------+--------+---------+--------+--------+--------+
 *   |1| length (15)   | type 1 | version | cs len | sid len| ch len | ...
 *   +-+---------------+--------+---------+--------+--------+--------+
 *
 * Believed when every length adds up: cipher specs a non-zero multiple of
 * 3 bytes, session id 0 or 16, challenge 16..32.  It is listed as one
 * handshake record (record_version 0x0002) holding a ClientHello; it has
 * no extensions, so no SNI.
 */
static bool sslv2_hello(struct sx_tls *t, const uint8_t *p, size_t n)
{
	struct sx_cursor c = sx_cur(p, n);
	uint16_t len = sx_cur_be16(&c);
	uint8_t type = sx_cur_u8(&c);
	uint16_t version = sx_cur_be16(&c);
	uint16_t cs = sx_cur_be16(&c);
	uint16_t sid = sx_cur_be16(&c);
	uint16_t chal = sx_cur_be16(&c);

	if (c.bad || !(len & 0x8000) || type != HS_CLIENT_HELLO)
		return false;
	if (version != 0x0002 && !is_version(version))
		return false;
	if (cs == 0 || cs % 3 || (sid != 0 && sid != 16) || chal < 16 || chal > 32 ||
	    (len & 0x7fff) != 9u + cs + sid + chal)
		return false;
	memset(t, 0, sizeof(*t));
	t->nrecords = 1;
	t->content_type[0] = CT_HANDSHAKE;
	t->record_version = 0x0002;
	t->hs_type = HS_CLIENT_HELLO;
	t->legacy_version = version;
	return true;
}

/*
 * Record header (RFC 8446 §5.1):
 *
 *   +------+---------+---------+---------
 *   | type | version | length  | fragment ...
 *   |  8   |   16    |   16    |
 *   +------+---------+---------+---------
 */
bool sx_app_tls(struct sx_pkt *pkt, const uint8_t *p, size_t n)
{
	struct sx_tls *t = &pkt->app.tls;
	struct sx_cursor c = sx_cur(p, n);
	bool seen_ccs = false;
	bool seen_hs = false;
	uint8_t type = sx_cur_u8(&c);
	uint16_t version = sx_cur_be16(&c);
	uint16_t len = sx_cur_be16(&c);

	if (c.bad || !is_header(type, version, len)) {
		if (!sslv2_hello(t, p, n))
			return false;
		pkt->proto = SX_P_TLS;
		return true;
	}
	memset(t, 0, sizeof(*t));
	t->record_version = version;
	c = sx_cur(p, n);
	while (sx_cur_left(&c) > 0 && t->nrecords < SX_TLS_MAX_RECORDS) {
		struct sx_cursor rec;
		size_t left = sx_cur_left(&c);

		type = sx_cur_u8(&c);
		if (!is_content_type(type))
			break;
		if (left < 5) {
			/* a header cut by the capture: list it if what is there fits */
			if (left >= 2 && sx_cur_u8(&c) != 3)
				break;
			t->content_type[t->nrecords++] = type;
			break;
		}
		version = sx_cur_be16(&c);
		len = sx_cur_be16(&c);
		if (!is_header(type, version, len))
			break;
		t->content_type[t->nrecords++] = type;
		rec = sx_cur_sub(&c, len);
		if (type == CT_CHANGE_CIPHER_SPEC)
			seen_ccs = true;
		if (type == CT_HANDSHAKE && !seen_hs && !seen_ccs) {
			seen_hs = true;
			parse_handshake(t, &rec, len);
		}
		if (c.bad)
			break;
	}
	pkt->proto = SX_P_TLS;
	return true;
}
