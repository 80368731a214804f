/*
 * app.c - choosing the application-layer dissector for a TCP or UDP payload.
 *
 * Order, cheapest and most specific first:
 *   1. ports: a dissector whose well-known port is the source or the
 *      destination port is tried (UDP 53/5353/5355 DNS/mDNS/LLMNR, 67/68
 *      DHCP, 123 NTP, 1900 SSDP, 5683/5684 CoAP, 9999 TP-Link; TCP
 *      53/5353/5355 DNS with length prefix, 1883 MQTT, 9999 TP-Link).  A
 *      dissector that refuses the payload lets the next candidate try;
 *   2. content, on the first byte only, so that most packets (TLS
 *      application data, TCP continuation segments, opaque UDP) cost one
 *      comparison or two: over TCP a TLS record header (20..24; 0x80 and
 *      up for an SSL 2.0 compatible ClientHello) or an upper-case letter
 *      for an HTTP request or status line; over UDP 'M',
 *      'N' or 'H' for an SSDP start line on a port other than 1900, and a
 *      CoAP version-1 first byte (0x40..0x7f) for the strict CoAP check,
 *      skipped when either port is 443 (QUIC short headers start with
 *      01xxxxxx too).
 * The payload is the captured part, and never more than the length the
 * headers announce (so Ethernet padding is not taken for data).
 *
 * Stateless but for the reader's memo of DNS-family messages (app_memo.c),
 * which gives what decoding gives; no allocation; reads only through
 * struct sx_cursor.
 */
#include "ingest/app.h"

#include "ingest/cursor.h"

enum {
	PORT_DNS = 53,
	PORT_DHCP_SERVER = 67,
	PORT_DHCP_CLIENT = 68,
	PORT_NTP = 123,
	PORT_HTTPS = 443,
	PORT_SSDP = 1900,
	PORT_MQTT = 1883,
	PORT_MDNS = 5353,
	PORT_LLMNR = 5355,
	PORT_COAP = 5683,
	PORT_COAPS = 5684,
	PORT_TPLINK = 9999,
};

static bool has_port(const struct sx_pkt *pkt, uint16_t port)
{
	return pkt->sport == port || pkt->dport == port;
}

bool sx_app_dns_by_port(struct sx_pkt *pkt, const uint8_t *p, size_t n, bool tcp, unsigned ports)
{
	if ((ports & SX_APP_PORT_DNS) && sx_app_dns(pkt, p, n, tcp, SX_P_DNS))
		return true;
	if ((ports & SX_APP_PORT_MDNS) && sx_app_dns(pkt, p, n, tcp, SX_P_MDNS))
		return true;
	return (ports & SX_APP_PORT_LLMNR) && sx_app_dns(pkt, p, n, tcp, SX_P_LLMNR);
}

/* DNS family by port: 53 first, then 5353, then 5355; through the
 * reader's memo when it has one (app_memo.c). */
static bool try_dns(struct sx_pkt *pkt, const uint8_t *p, size_t n, bool tcp)
{
	unsigned ports = (has_port(pkt, PORT_DNS) ? SX_APP_PORT_DNS : 0) |
			 (has_port(pkt, PORT_MDNS) ? SX_APP_PORT_MDNS : 0) |
			 (has_port(pkt, PORT_LLMNR) ? SX_APP_PORT_LLMNR : 0);

	if (!ports)
		return false;
	if (pkt->memo)
		return sx_app_memo_dns(pkt->memo, pkt, p, n, tcp, ports);
	return sx_app_dns_by_port(pkt, p, n, tcp, ports);
}

static void dissect_udp(struct sx_pkt *pkt, const uint8_t *p, size_t n)
{
	struct sx_cursor c = sx_cur(p, n);
	uint8_t b0 = sx_cur_u8(&c);

	if (try_dns(pkt, p, n, false))
		return;
	if ((has_port(pkt, PORT_DHCP_SERVER) || has_port(pkt, PORT_DHCP_CLIENT)) &&
	    sx_app_dhcp(pkt, p, n))
		return;
	if (has_port(pkt, PORT_NTP) && sx_app_ntp(pkt, p, n))
		return;
	if (has_port(pkt, PORT_SSDP) && sx_app_ssdp(pkt, p, n))
		return;
	if ((has_port(pkt, PORT_COAP) || has_port(pkt, PORT_COAPS)) && sx_app_coap(pkt, p, n, true))
		return;
	if (has_port(pkt, PORT_TPLINK) && sx_app_tplink(pkt, p, n, false))
		return;

	if ((b0 == 'M' || b0 == 'N' || b0 == 'H') && !has_port(pkt, PORT_SSDP) &&
	    sx_app_ssdp(pkt, p, n))
		return;
	if (b0 >> 6 == 1 && !has_port(pkt, PORT_HTTPS) && !has_port(pkt, PORT_COAP) &&
	    !has_port(pkt, PORT_COAPS))
		sx_app_coap(pkt, p, n, false);
}

static void dissect_tcp(struct sx_pkt *pkt, const uint8_t *p, size_t n)
{
	struct sx_cursor c = sx_cur(p, n);
	uint8_t b0 = sx_cur_u8(&c);

	if (try_dns(pkt, p, n, true))
		return;
	if (has_port(pkt, PORT_MQTT) && sx_app_mqtt(pkt, p, n))
		return;
	if (has_port(pkt, PORT_TPLINK) && sx_app_tplink(pkt, p, n, true))
		return;
	if ((b0 >= 20 && b0 <= 24) || b0 >= 0x80)
		sx_app_tls(pkt, p, n);
	else if (b0 >= 'A' && b0 <= 'Z')
		sx_app_http(pkt, p, n);
}

void sx_app_dissect(struct sx_pkt *pkt)
{
	size_t n = pkt->payload_cap;

	if (!pkt->payload || n == 0)
		return;
	if (pkt->payload_len < n)
		n = pkt->payload_len;
	if (n == 0)
		return;
	if (pkt->proto == SX_P_UDP)
		dissect_udp(pkt, pkt->payload, n);
	else if (pkt->proto == SX_P_TCP)
		dissect_tcp(pkt, pkt->payload, n);
}
