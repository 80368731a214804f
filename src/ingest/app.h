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
 * allocation; no state between packets but the memo of pkt->memo, owned by
 * the thread decoding (app_memo.c).
 */
#ifndef SX_INGEST_APP_H
#define SX_INGEST_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/packet.h"

/* Choose and run the dissector for a TCP or UDP payload. */
void sx_app_dissect(struct sx_pkt *pkt);

/* The DNS-family ports a packet uses (either end). */
#define SX_APP_PORT_DNS	  1u
#define SX_APP_PORT_MDNS  2u
#define SX_APP_PORT_LLMNR 4u

/* The DNS-family dissectors tried as the ports say: DNS, then mDNS, then
 * LLMNR; true when one took the payload. */
bool sx_app_dns_by_port(struct sx_pkt *pkt, const uint8_t *p, size_t n, bool tcp, unsigned ports);

/*
 * The memo of one decoding thread (app_memo.c): sx_app_memo_dns() gives
 * what sx_app_dns_by_port() gives, from a copy when the same message was
 * decoded before, and when it took the payload sets pkt->app_id to the
 * message's number (equal for every copy of one decoding, never reused).
 * new: 0 or -1 (out of memory).
 */
int sx_app_memo_new(struct sx_app_memo **out);
/* sx_decode() through memo (NULL: none). */
void sx_decode_memo(struct sx_pkt *pkt, struct sx_app_memo *memo, enum sx_l2 l2,
		    const uint8_t *data, uint32_t caplen, uint32_t wirelen);
/* The memo the captures' decodings go through (the reader's thread's,
 * borrowed; NULL: none). */
struct sx_capture;
void sx_capture_set_memo(struct sx_capture *cap, struct sx_app_memo *memo);
void sx_app_memo_free(struct sx_app_memo *m);
bool sx_app_memo_dns(struct sx_app_memo *m, struct sx_pkt *pkt, const uint8_t *p, size_t n,
		     bool tcp, unsigned ports);

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
