/*
 * frames.h - hand-built frames and tiny captures for the tests.
 *
 * Builders write a complete frame into out (cap bytes) and return its
 * length, 0 if it does not fit.  Addresses are text ("192.0.2.1",
 * "2001:db8::1").  IP and UDP/TCP lengths are right; checksums are zero.
 */
#ifndef SX_TESTS_FRAMES_H
#define SX_TESTS_FRAMES_H

#include <stddef.h>
#include <stdint.h>

size_t sx_tf_udp(uint8_t *out, size_t cap, const char *src, uint16_t sport, const char *dst,
		 uint16_t dport, const void *payload, size_t plen);
size_t sx_tf_tcp(uint8_t *out, size_t cap, const char *src, uint16_t sport, const char *dst,
		 uint16_t dport, uint8_t flags, const void *payload, size_t plen);
/* Raw IP datagram (no link layer) with the given protocol and payload. */
size_t sx_tf_ip(uint8_t *out, size_t cap, const char *src, const char *dst, uint8_t proto,
		const void *payload, size_t plen);
/*
 * One IP fragment in an Ethernet frame: data (dlen bytes, a multiple of 8
 * unless last) is the slice of the transport datagram (header included)
 * that starts off bytes into it.  IPv4 puts id (16 bits) in the header;
 * IPv6 adds a Fragment header with id.  more: the More Fragments bit.
 */
size_t sx_tf_frag(uint8_t *out, size_t cap, const char *src, const char *dst, uint8_t proto,
		  uint32_t id, uint32_t off, int more, const void *data, size_t dlen);
/* A UDP datagram (header + payload) without IP, for slicing into fragments;
 * returns its length. */
size_t sx_tf_udp_datagram(uint8_t *out, size_t cap, uint16_t sport, uint16_t dport,
			  const void *payload, size_t plen);
/* Prepend an Ethernet header (type 0x0800 or 0x86dd from the IP version). */
size_t sx_tf_eth(uint8_t *out, size_t cap, const uint8_t *ip, size_t iplen);

struct sx_tf_rec {
	const uint8_t *data;
	uint32_t caplen;
	uint32_t wirelen; /* 0: caplen */
	int64_t sec;
	uint32_t usec;
};

/* Write a classic pcap (microsecond) with link type dlt.  0 or -1. */
int sx_tf_write_pcap(const char *path, int dlt, const struct sx_tf_rec *recs, size_t n);

#endif /* SX_TESTS_FRAMES_H */
