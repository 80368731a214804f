/*
 * flow.h - PUBLIC types of the flows module: the flow key and the flow
 * record as the reduce phase hands it out (plain data, read-only).
 *
 * struct sx_flow_key is canonical: the two endpoints (address, port) are
 * stored in a fixed order (lo <= hi, comparing address bytes, then port),
 * so both directions of a conversation give the same bytes.  The key has no
 * implicit padding and is compared with memcmp and hashed whole; build it
 * only with sx_flow_key_make() or after a memset.  The direction of a packet
 * (from lo, or from hi) is returned next to the key, never stored in it.
 *
 * The unit a flow belongs to (the capture file, or one event window within
 * it) is part of the key, so flows of different units never merge.
 *
 * ARP (RFC 826, Ethernet/IPv4) makes flows of its own, family
 * SX_FLOW_FAMILY_ARP: the key is (operation, sender protocol address,
 * target protocol address, VLAN, unit), NOT canonical: lo_addr is the
 * sender's address (spa), hi_addr the target's (tpa), lo_port the operation
 * (1 request, 2 reply), hi_port and proto 0.  So a request and its reply
 * are two flows, each with one sender: its record's device side is the
 * sender (dev 0), mac[0] the sender hardware address of its first message
 * (sha) and mac[1] the target hardware address (tha, zero in a request that
 * does not know it).  A gratuitous ARP has spa == tpa.
 *
 * struct sx_flow_rec is a finished flow: counters are per side, where the
 * "device" side is the initiator (the side that sent the first SYN, else the
 * side that sent the first packet) and the "other" side is the responder.
 */
#ifndef SX_FLOWS_FLOW_H
#define SX_FLOWS_FLOW_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/compiler.h"
#include "ingest/packet.h"

#define SX_FLOW_SEQ_MAX	 32	    /* payload-bearing packets whose length/IAT are kept */
#define SX_FLOW_SPEC_MAX 128	    /* ApplicationSpecific text, bytes with the NUL */
#define SX_FLOW_ATTR_MAX 832	    /* application attribute tokens, bytes with the NUL */
#define SX_FLOW_NO_EVENT UINT32_MAX /* key.event of a whole-capture unit */

struct sx_flow_key {
	uint8_t lo_addr[16]; /* IPv4: first 4 bytes, rest zero */
	uint8_t hi_addr[16];
	uint16_t lo_port; /* host order; 0 for portless protocols */
	uint16_t hi_port;
	uint16_t vlan;	/* outer 802.1Q VLAN id, 0 when untagged */
	uint8_t proto;	/* IP protocol number (6 TCP, 17 UDP, 1 ICMP...) */
	uint8_t family; /* 4 or 6; SX_FLOW_FAMILY_ARP (addresses IPv4) */
	uint32_t file;	/* unit: index of the capture in the run */
	uint32_t event; /* unit: event window, SX_FLOW_NO_EVENT for the whole capture */
};
SX_STATIC_ASSERT(sizeof(struct sx_flow_key) == 48, "flow key must have no padding");

/* key.family of an ARP flow; its addresses are IPv4 (see above). */
#define SX_FLOW_FAMILY_ARP 0xa4

/* ARP operations (RFC 826), key.lo_port of an ARP flow. */
#define SX_ARP_REQUEST 1
#define SX_ARP_REPLY   2

static inline bool sx_flow_key_is_arp(const struct sx_flow_key *k)
{
	return k->family == SX_FLOW_FAMILY_ARP;
}

/* a == b, every byte (keys have no padding): six word compares, no call. */
static inline bool sx_flow_key_eq(const struct sx_flow_key *a, const struct sx_flow_key *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
	uint64_t d = 0;
	unsigned i;

	for (i = 0; i < sizeof(*a); i += 8) {
		uint64_t u, v;

		memcpy(&u, x + i, 8);
		memcpy(&v, y + i, 8);
		d |= u ^ v;
	}
	return d == 0;
}

/* How the initiator (device side) was chosen. */
enum sx_flow_init {
	SX_INIT_FIRST = 0, /* sender of the first packet */
	SX_INIT_SYN,	   /* sender of a SYN without ACK */
	SX_INIT_SYNACK,	   /* receiver of a SYN+ACK (the SYN itself was not seen) */
};

/* Why the flow ended. */
enum sx_flow_end {
	SX_END_OPEN = 0, /* still active when its unit ended */
	SX_END_IDLE,	 /* no packet for longer than the idle timeout */
	SX_END_FIN,	 /* both sides sent FIN */
	SX_END_RST,	 /* a side sent RST */
};

enum sx_flow_side {
	SX_SIDE_NONE = 0,
	SX_SIDE_DEVICE,
	SX_SIDE_OTHER,
};

struct sx_flow_rec {
	struct sx_flow_key key;
	int64_t first_ns;     /* first packet, ns since the epoch */
	int64_t last_ns;      /* last packet */
	uint64_t first_index; /* packet number of the first packet in its capture */
	uint64_t pkts[2];     /* [0] sent by the device side, [1] by the other side */
	uint64_t bytes[2];    /* wire bytes, same sides */
	uint8_t dev;	      /* 0: the device side is key.lo, 1: key.hi */
	uint8_t init;	      /* enum sx_flow_init */
	uint8_t session;      /* 1: a session already open when the flow's event
			       * window began (--events): init and dev are the
			       * session's, the counters the window's */
	uint8_t end;	      /* enum sx_flow_end */
	uint8_t top_proto;    /* enum sx_proto: the highest layer seen */
	uint8_t tcp_flags[2]; /* union of the TCP flags each side sent */
	uint8_t mac[2][6];    /* Ethernet source of each side's first frame, zero if none;
			       * ARP: sha and tha of the first message */
	uint8_t nseq;	      /* entries used in seq_len / seq_iat */
	bool attr_cut;	      /* attribute tokens were left out for lack of room */
	/*
	 * The first SX_FLOW_SEQ_MAX payload-bearing packets: wire length, positive
	 * when sent by the device side, negative otherwise; and the time since the
	 * previous payload-bearing packet (the first: since the flow's first packet).
	 */
	int32_t seq_len[SX_FLOW_SEQ_MAX];
	int64_t seq_iat[SX_FLOW_SEQ_MAX];
	/* ApplicationSpecific: from the first packet that had one ("" if none). */
	char spec[SX_FLOW_SPEC_MAX];
	/* Distinct "key=value" tokens, space-separated, in order of first sight. */
	char attrs[SX_FLOW_ATTR_MAX];
};

/*
 * A flow as a CSV row: the record plus what the reduce phase adds.  Every
 * pointer is borrowed (from the reducer or the CSV reader) and valid only
 * during the callback or until the next read.
 */
struct sx_flow_row {
	struct sx_flow_rec rec;
	uint64_t index;		 /* 0-based order within its unit */
	const char *file;	 /* the capture, as named on the command line */
	const char *event_label; /* "" when none */
	int64_t event_ns;	 /* window start; 0 for a whole-capture unit */
	const char *dev_host;	 /* name, or address text when unresolved */
	const char *other_host;
	const char *dev_local; /* local (mDNS) name, "" when none */
	const char *other_local;
	const char *dev_addr; /* address text, or NULL: formatted from rec.key */
	const char *other_addr;
	uint16_t service_port; /* 0 for portless protocols */
	uint16_t ephemeral_port;
	uint8_t service_side; /* enum sx_flow_side */
};

#endif /* SX_FLOWS_FLOW_H */
