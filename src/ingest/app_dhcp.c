/*
 * app_dhcp.c - BOOTP (RFC 951) and DHCP (RFC 2131, options RFC 2132).
 *
 * A UDP 67/68 payload is BOOTP when op is 1 or 2, hlen <= 16 and hops <=
 * 16 (RFC 1542 §4.1.1), and the 236-byte fixed part is on the wire.  When
 * the capture was cut short (snaplen) the fixed part need only be captured
 * up to chaddr; the options are then unknown and msg_type is 0.  chaddr is
 * kept when htype is 1 (Ethernet) and hlen 6, else left zero.  Options are
 * read only after the magic cookie 99.130.83.99; without it the packet is
 * plain BOOTP (msg_type 0).  PAD and END are honoured, an option whose
 * length runs past the data ends the walk, and option overload (52) is
 * ignored: options in sname/file are not read.
 *
 * Kept options: 53 message type, 12 host name, 60 vendor class identifier
 * (both escaped by core/text.h, cut at their buffers), 50 requested IP
 * address.  The first occurrence of each wins.
 *
 * Stateless; no allocation; reads only through struct sx_cursor.
 */
#include "ingest/app.h"

#include <string.h>

#include "core/compiler.h"
#include "core/text.h"
#include "ingest/cursor.h"
#include "ingest/ingest.h"

#define BOOTP_FIXED_LEN	 236
#define BOOTP_CHADDR_END 34 /* op .. the first 6 bytes of chaddr */
#define DHCP_MAGIC	 0x63825363u
#define MAX_HOPS	 16

enum {
	OPT_PAD = 0,
	OPT_HOSTNAME = 12,
	OPT_REQUESTED_IP = 50,
	OPT_MSG_TYPE = 53,
	OPT_VENDOR_CLASS = 60,
	OPT_END = 255,
};

static size_t wire_len(const struct sx_pkt *pkt, const uint8_t *p, size_t n)
{
	if (p == pkt->payload && pkt->payload_len > n)
		return pkt->payload_len;
	return n;
}

/*
 * Options (RFC 2132 §2): | code (8) | len (8) | data |, PAD (0) and END
 * (255) being a single byte.
 */
static void parse_options(struct sx_dhcp *d, struct sx_cursor *c)
{
	bool seen_host = false;
	bool seen_vendor = false;
	bool seen_type = false;

	while (sx_cur_left(c) > 0) {
		uint8_t code = sx_cur_u8(c);
		uint8_t len;
		struct sx_cursor v;

		if (code == OPT_PAD)
			continue;
		if (code == OPT_END)
			break;
		len = sx_cur_u8(c);
		v = sx_cur_sub(c, len);
		if (c->bad)
			break;
		switch (code) {
		case OPT_MSG_TYPE:
			if (len >= 1 && !seen_type) {
				d->msg_type = sx_cur_u8(&v);
				seen_type = true;
			}
			break;
		case OPT_HOSTNAME:
			if (!seen_host) {
				sx_text_escape(d->hostname, sizeof(d->hostname), v.p, len, NULL);
				seen_host = true;
			}
			break;
		case OPT_VENDOR_CLASS:
			if (!seen_vendor) {
				sx_text_escape(d->vendor_class, sizeof(d->vendor_class), v.p, len,
					       NULL);
				seen_vendor = true;
			}
			break;
		case OPT_REQUESTED_IP:
			if (len == 4 && !d->has_requested_ip) {
				sx_cur_copy(&v, d->requested_ip, 4);
				d->has_requested_ip = true;
			}
			break;
		default:
			break;
		}
	}
}

/*
 * BOOTP message (RFC 2131 §2):
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +---------------+---------------+---------------+---------------+
 *   |     op (1)    |   htype (1)   |   hlen (1)    |   hops (1)    |
 *   |                            xid (4)                            |
 *   |           secs (2)            |           flags (2)           |
 *   |        ciaddr, yiaddr, siaddr, giaddr (4 each)                |
 *   |                          chaddr (16)                          |
 *   |                          sname  (64)                          |
 *   |                          file   (128)                         |
 *   |            magic cookie 99.130.83.99, then options            |
 *   +---------------------------------------------------------------+
 */
bool sx_app_dhcp(struct sx_pkt *pkt, const uint8_t *p, size_t n)
{
	struct sx_dhcp *d = &pkt->app.dhcp;
	struct sx_cursor c = sx_cur(p, n);
	uint8_t op = sx_cur_u8(&c);
	uint8_t htype = sx_cur_u8(&c);
	uint8_t hlen = sx_cur_u8(&c);
	uint8_t hops = sx_cur_u8(&c);
	uint32_t xid = sx_cur_be32(&c);
	struct sx_cursor chaddr;
	uint32_t magic;

	if (c.bad || (op != 1 && op != 2) || hlen > 16 || hops > MAX_HOPS)
		return false;
	if (wire_len(pkt, p, n) < BOOTP_FIXED_LEN || n < BOOTP_CHADDR_END)
		return false;
	memset(d, 0, sizeof(*d));
	d->op = op;
	d->xid = xid;
	sx_cur_skip(&c, 2 + 2 + 16); /* secs, flags, the four addresses */
	chaddr = sx_cur_sub(&c, 16);
	if (htype == 1 && hlen == 6)
		sx_cur_copy(&chaddr, d->chaddr, 6);
	sx_cur_skip(&c, 64 + 128); /* sname, file */
	magic = sx_cur_be32(&c);
	if (!c.bad && magic == DHCP_MAGIC)
		parse_options(d, &c);
	pkt->proto = SX_P_DHCP;
	return true;
}

static const char *const dhcp_types[] = {
    NULL,
    "discover",
    "offer",
    "request",
    "decline",
    "ack",
    "nak",
    "release",
    "inform",
    "force_renew", /* RFC 3203 */
    "lease_query", /* RFC 4388 */
    "lease_unassigned",
    "lease_unknown",
    "lease_active",
    "bulk_lease_query", /* RFC 6926 */
    "lease_query_done",
    "active_lease_query", /* RFC 7724 */
    "lease_query_status",
    "tls",
};

const char *sx_dhcp_type_name(uint8_t type)
{
	if (type < SX_ARRAY_SIZE(dhcp_types))
		return dhcp_types[type];
	return NULL;
}
