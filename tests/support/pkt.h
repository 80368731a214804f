/*
 * pkt.h - hand-built payloads for the dissector tests: a big-endian message
 * builder (with DNS and TLS ClientHello messages), exact-size heap copies
 * (so that AddressSanitizer sees any read past the end), and a packet
 * around a payload.  Failures are Criterion assertions; for Criterion
 * tests only.
 */
#ifndef SX_TESTS_PKT_H
#define SX_TESTS_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/packet.h"

/* A message being built, in network byte order. */
struct sx_tmsg {
	uint8_t b[8192];
	size_t n;
};

void sx_tm_put8(struct sx_tmsg *m, uint8_t v);
void sx_tm_put16(struct sx_tmsg *m, uint16_t v);
void sx_tm_put24(struct sx_tmsg *m, uint32_t v);
void sx_tm_put32(struct sx_tmsg *m, uint32_t v);
void sx_tm_putbytes(struct sx_tmsg *m, const void *p, size_t n);

/* A DNS message with nq questions (type A, class IN): a query, or with a4
 * a response whose one A record answers the first question. */
void sx_tm_dns(struct sx_tmsg *m, const char *const *qnames, size_t nq, const uint8_t *a4);
/* A TLS record holding a ClientHello with server_name sni (RFC 8446
 * 4.1.2, RFC 6066 3). */
void sx_tm_client_hello(struct sx_tmsg *m, const char *sni);

/* A malloc'd copy of exactly n bytes (one byte when n is 0). */
uint8_t *sx_tt_exact(const void *p, size_t n);

/* pkt cleared, then a transport payload of cap captured bytes out of len. */
void sx_tt_set_pkt(struct sx_pkt *pkt, uint8_t proto, uint16_t sport, uint16_t dport,
		   const uint8_t *p, size_t cap, size_t len);

/* s is NUL-terminated within sz bytes and printable ASCII before that. */
void sx_tt_assert_printable(const char *s, size_t sz);

#endif /* SX_TESTS_PKT_H */
