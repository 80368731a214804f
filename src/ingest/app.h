/*
 * app.h - application-layer dissectors (private to ingest).
 *
 * sx_decode() calls sx_app_dissect() once the transport header is decoded,
 * with pkt->payload / payload_cap / payload_len set, pkt->proto already
 * SX_P_TCP or SX_P_UDP, and ports filled.  A dissector that recognises the
 * payload fills its member of pkt->app and sets pkt->proto; one that does
 * not returns false and leaves pkt->proto alone (it may have scribbled on
 * pkt->app, which is only meaningful for the proto that is set).
 *
 * Every dissector reads through struct sx_cursor only, over the captured
 * bytes (payload_cap), and writes strings through core/text.h so that the
 * invariants of packet.h hold for any input.  Context: any thread; no
 * allocation; no state between packets.
 */
#ifndef SX_INGEST_APP_H
#define SX_INGEST_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/packet.h"

/* Choose and run the dissector for a TCP or UDP payload. */
void sx_app_dissect(struct sx_pkt *pkt);

/* DNS, mDNS, LLMNR (RFC 1035, 6762, 4795); over_tcp: a 2-byte length prefix. */
bool sx_app_dns(struct sx_pkt *pkt, const uint8_t *p, size_t n, bool over_tcp, enum sx_proto kind);
bool sx_app_tls(struct sx_pkt *pkt, const uint8_t *p, size_t n);
bool sx_app_http(struct sx_pkt *pkt, const uint8_t *p, size_t n);
bool sx_app_coap(struct sx_pkt *pkt, const uint8_t *p, size_t n, bool well_known_port);
bool sx_app_ssdp(struct sx_pkt *pkt, const uint8_t *p, size_t n);
bool sx_app_dhcp(struct sx_pkt *pkt, const uint8_t *p, size_t n);
bool sx_app_ntp(struct sx_pkt *pkt, const uint8_t *p, size_t n);
bool sx_app_mqtt(struct sx_pkt *pkt, const uint8_t *p, size_t n);
bool sx_app_tplink(struct sx_pkt *pkt, const uint8_t *p, size_t n, bool over_tcp);

/* Decode a DNS name at offset off of the message msg[0..len) into out
 * (presentation form, no trailing dot).  Follows compression pointers
 * backwards only, at most 32 of them, and stops at 255 wire bytes.
 * Returns the offset just past the name in the original position, or -1. */
long sx_dns_name(const uint8_t *msg, size_t len, size_t off, char *out, size_t outsz);

#endif /* SX_INGEST_APP_H */
