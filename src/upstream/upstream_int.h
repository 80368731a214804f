/*
 * upstream_int.h - internals of `--mode upstream` shared by its files
 * (private to mine; the unit tests include it too).
 *
 * The "scapy view" of a packet: what the reference tool, which dissects
 * with scapy 2.5, sees in a packet that sx_decode() decoded: whether it is
 * a signalling packet, its Protocol and ApplicationSpecific fields, the
 * names it teaches.  And the small containers the mode needs: a string map
 * and the per-capture name table.
 */
#ifndef SX_UPSTREAM_UPSTREAM_INT_H
#define SX_UPSTREAM_UPSTREAM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/map.h"
#include "ingest/packet.h"
#include "upstream/upstream.h"

/* ---- a string -> size_t map (core/map.h, keys copied) ---- */

struct sx_up_map {
	struct sx_map map; /* of struct sx_up_slot */
};

void sx_up_map_init(struct sx_up_map *m);
void sx_up_map_fini(struct sx_up_map *m);
/* The value stored for key, or NULL. */
size_t *sx_up_map_get(const struct sx_up_map *m, const char *key);
/* Store key -> val (key must be absent).  0 or -ENOMEM. */
int sx_up_map_add(struct sx_up_map *m, const char *key, size_t val);

/* ---- the per-capture table of names (domain_extractor.py) ---- */

/*
 * Names in the order they were first seen, each with the addresses learnt
 * for it.  An address is replaced by the first name, in that order, whose
 * list holds it, with the table as it is when the packet is handled.
 */
struct sx_up_names {
	char **names;
	size_t nnames, cap;
	struct sx_up_map by_name; /* name -> index */
	struct sx_up_map pairs;	  /* "name\x1faddr" -> 1: the lists */
	struct sx_up_map first;	  /* addr -> smallest name index holding it */
};

void sx_up_names_init(struct sx_up_names *t);
void sx_up_names_fini(struct sx_up_names *t);
/* Learn what pkt (an accepted packet) tells.  0 or -ENOMEM. */
int sx_up_names_learn(struct sx_up_names *t, const struct sx_pkt *pkt);
/* The name for an address text, or the address itself. */
const char *sx_up_names_subst(const struct sx_up_names *t, const char *addr);

/* ---- the scapy view of one packet ---- */

#define SX_UP_APP_MAX (SX_NAME_MAX + SX_URI_MAX * 2 + 64)

struct sx_up_view {
	const char *transport; /* "TCP" or "UDP" */
	char protocol[48];
	char app[SX_UP_APP_MAX]; /* ApplicationSpecific */
	uint64_t length;	 /* Length: len(pkt), the captured length except
				  * for HTTP responses that scapy decompresses */
};

/*
 * Bytes captured after the end of the transport datagram (the IP total
 * length for TCP, the UDP length for UDP): scapy's Padding layer.  frame
 * is the start of the captured frame that pkt was decoded from.
 */
bool sx_up_padded(const struct sx_pkt *pkt, const uint8_t *frame);

/*
 * Whether the reference skips the packet before its time check: ARP,
 * padded frames, TCP with SYN, FIN or RST, IPv4 Router Alert (and the
 * ICMPv6 kinds, which have no transport here) -- and, where the reference
 * would crash, any packet without TCP or UDP.
 */
bool sx_up_skip(const struct sx_pkt *pkt, bool padded);

/* Fill the Protocol and ApplicationSpecific fields of an accepted packet. */
void sx_up_view(const struct sx_pkt *pkt, struct sx_up_view *v);

/* scapy's names of DNS types (dnstypes), and of question types (dnsqtypes). */
const char *sx_up_dns_type(uint16_t type, bool question, char *buf, size_t bufsz);

/* ---- reading one capture into a table (upstream_read.c) ---- */

/* Fill t (zeroed by the caller) from the capture at path.  0, or an error
 * with msg set; t then holds what must be freed. */
int sx_up_read_capture(const char *path, struct sx_up_table *t, char *msg, size_t msglen);

/* ---- mining (upstream.c) ---- */

int sx_up_find_patterns(struct sx_upstream_result *r);
int sx_up_make_policies(struct sx_upstream_result *r);

#endif /* SX_UPSTREAM_UPSTREAM_INT_H */
