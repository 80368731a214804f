/*
 * packet.h - the decoded view of one captured frame (types only).
 *
 * struct sx_pkt is filled by sx_decode() from libpcap's buffer and lives on
 * the reader thread's stack or context: values, not pointers, except
 * payload, which points into libpcap's buffer and dies at the next
 * pcap_next_ex() on that handle.  Nothing in it is heap-allocated, and
 * sx_decode() writes only the parts that the frame reaches, so decoding does
 * not pay for clearing the application union.
 *
 * String invariant: every char array below holds printable ASCII only
 * (0x20..0x7e), NUL-terminated, escaped by core/text.h ("\xNN", "\\") and
 * DNS names in RFC 4343 presentation form.  Longer values are cut at the
 * documented limits and the matching *_cut flag is set.
 */
#ifndef SX_INGEST_PACKET_H
#define SX_INGEST_PACKET_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Length limits of decoded text, bytes including the NUL. */
#define SX_NAME_MAX	    256 /* DNS names, SNI, HTTP Host */
#define SX_URI_MAX	    256 /* HTTP path and query, CoAP URI, MQTT topic */
#define SX_TEXT_MAX	    128 /* headers, client ids, ALPN list, TP-Link command */
#define SX_DNS_MAX_Q	    4	/* questions kept per message */
#define SX_DNS_MAX_RR	    24	/* resource records kept per message */
#define SX_TLS_MAX_VERSIONS 8
#define SX_TLS_MAX_RECORDS  8

/* Link-layer framing of the capture. */
enum sx_l2 {
	SX_L2_ETH = 0,
	SX_L2_SLL,
	SX_L2_SLL2,
	SX_L2_RAW,
	SX_L2_NULL, /* BSD loopback / DLT_NULL and DLT_LOOP */
	SX_L2_UNSUPPORTED,
};

/* Outcome of decoding the frame's headers. */
enum sx_dec_status {
	SX_DEC_OK = 0,
	SX_DEC_TRUNCATED,   /* captured bytes end inside a header */
	SX_DEC_MALFORMED,   /* a header is inconsistent (bad length, version) */
	SX_DEC_UNSUPPORTED, /* link type or encapsulation not decoded */
};

/*
 * The highest layer understood, as printed in the Protocol column.  The
 * order matters only to sx_proto_name(); values are not stored anywhere.
 */
enum sx_proto {
	SX_P_UNKNOWN = 0, /* nothing understood (unsupported link type) */
	SX_P_ETHERNET,	  /* an EtherType we do not decode */
	SX_P_ARP,
	SX_P_EAPOL,
	SX_P_LLC,
	SX_P_IPV4, /* IP with no transport decoded (other protocol, later fragment) */
	SX_P_IPV6,
	SX_P_TCP,
	SX_P_UDP,
	SX_P_ICMP,
	SX_P_ICMPV6,
	SX_P_IGMP,
	SX_P_DNS,
	SX_P_MDNS,
	SX_P_LLMNR,
	SX_P_TLS,
	SX_P_HTTP,
	SX_P_COAP,
	SX_P_SSDP,
	SX_P_DHCP,
	SX_P_NTP,
	SX_P_MQTT,
	SX_P_TPLINK, /* TP-Link Smart Home Protocol */
	SX_P__COUNT,
};

/* An IP address; IPv4 is stored in the first 4 bytes of b, the rest zero. */
struct sx_addr {
	uint8_t family; /* 0 (none), 4 or 6 */
	uint8_t b[16];
};

/* Total order on addresses: family, then bytes. */
static inline int sx_addr_cmp(const struct sx_addr *a, const struct sx_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->b, b->b, sizeof(a->b));
}

/* A MAC address in 48 bits of a uint64_t (0: none), and back. */
static inline uint64_t sx_mac_pack(const uint8_t m[6])
{
	return (uint64_t)m[0] << 40 | (uint64_t)m[1] << 32 | (uint64_t)m[2] << 24 |
	       (uint64_t)m[3] << 16 | (uint64_t)m[4] << 8 | m[5];
}

static inline void sx_mac_unpack(uint64_t v, uint8_t m[6])
{
	for (int i = 5; i >= 0; i--, v >>= 8)
		m[i] = (uint8_t)v;
}

static inline bool sx_mac_is_zero(const uint8_t m[6])
{
	return sx_mac_pack(m) == 0;
}

/*
 * Whether IPv6 address a's interface identifier (its last 64 bits) is a
 * modified EUI-64 (RFC 4291, appendix A: ff:fe in its middle), an address a
 * host made from its MAC, link-local or by SLAAC; and whether it is the
 * one of MAC m.
 */
static inline bool sx_addr_is_eui64(const struct sx_addr *a)
{
	return a->family == 6 && a->b[11] == 0xff && a->b[12] == 0xfe;
}

/* An EUI-64 address made from a locally administered MAC (one a host draws
 * at random, per boot or per interface): the U/L bit, inverted in the
 * modified EUI-64, is clear. */
static inline bool sx_addr_is_eui64_local(const struct sx_addr *a)
{
	return sx_addr_is_eui64(a) && !(a->b[8] & 0x02);
}

static inline bool sx_addr_is_eui64_of(const struct sx_addr *a, const uint8_t m[6])
{
	const uint8_t *b = a->b;

	return sx_addr_is_eui64(a) && b[8] == (m[0] ^ 0x02) && b[9] == m[1] && b[10] == m[2] &&
	       b[13] == m[3] && b[14] == m[4] && b[15] == m[5];
}

/* The link-local address the host of MAC m makes from it: fe80::/64 and
 * the modified EUI-64. */
static inline struct sx_addr sx_addr_eui64_link_local(const uint8_t m[6])
{
	struct sx_addr a = {.family = 6,
			    .b = {0xfe, 0x80, [8] = (uint8_t)(m[0] ^ 0x02), m[1], m[2], 0xff, 0xfe,
				  m[3], m[4], m[5]}};

	return a;
}

/* ---- application layer (one member valid, chosen by sx_pkt.proto) ---- */

struct sx_dns_q {
	uint16_t qtype;
	uint16_t qclass;	/* mDNS unicast-response bit cleared */
	char name[SX_NAME_MAX]; /* presentation form, no trailing dot */
};

enum sx_dns_section { SX_DNS_AN = 1, SX_DNS_NS = 2, SX_DNS_AR = 3 };

struct sx_dns_rr {
	uint8_t section; /* enum sx_dns_section */
	uint16_t type;
	uint32_t ttl;
	char name[SX_NAME_MAX]; /* owner name, no trailing dot */
	/*
	 * A/AAAA: the address (also in addr); CNAME/PTR/NS: the target name;
	 * SRV: "prio weight port target"; TXT: the strings, space-separated;
	 * other types: empty.
	 */
	char data[SX_NAME_MAX];
	struct sx_addr addr; /* A/AAAA only, else family 0 */
};

struct sx_dns {
	uint16_t id;
	uint16_t flags; /* the raw 16-bit flags word */
	bool qr;	/* response */
	uint8_t opcode;
	uint8_t rcode;
	uint16_t qdcount, ancount, nscount, arcount; /* as in the header */
	uint8_t nq;				     /* questions kept (<= SX_DNS_MAX_Q) */
	uint8_t nrr;				     /* records kept (<= SX_DNS_MAX_RR) */
	bool cut; /* more questions/records than kept, or stopped on an error */
	struct sx_dns_q q[SX_DNS_MAX_Q];
	struct sx_dns_rr rr[SX_DNS_MAX_RR];
};

struct sx_tls {
	uint8_t nrecords; /* records whose header starts in this segment (<= max) */
	uint8_t content_type[SX_TLS_MAX_RECORDS]; /* 20..24 per record */
	uint16_t record_version;		  /* of the first record */
	uint8_t hs_type;			  /* first handshake message type, 0 when none */
	uint16_t legacy_version;		  /* ClientHello/ServerHello legacy_version */
	uint16_t selected_version;		  /* ServerHello supported_versions, else 0 */
	uint8_t nversions; /* ClientHello supported_versions list (kept <= max) */
	uint16_t versions[SX_TLS_MAX_VERSIONS];
	char sni[SX_NAME_MAX];	/* first host_name of server_name, lower-case */
	char alpn[SX_TEXT_MAX]; /* protocol names, comma-separated */
};

struct sx_http {
	bool response;
	bool continuation;	/* header fields continuing a request sent earlier */
	uint16_t status;	/* responses */
	char method[16];	/* requests */
	char host[SX_NAME_MAX]; /* Host header, lower-case, port kept */
	char path[SX_URI_MAX];	/* request-target before '?' */
	char query[SX_URI_MAX]; /* after '?', without it */
	bool cut;
};

enum sx_coap_type { SX_COAP_CON = 0, SX_COAP_NON, SX_COAP_ACK, SX_COAP_RST };

struct sx_coap {
	uint8_t type; /* enum sx_coap_type */
	uint8_t code; /* class << 5 | detail */
	uint16_t msg_id;
	char path[SX_URI_MAX];	/* "/a/b" from Uri-Path options, "" when none */
	char query[SX_URI_MAX]; /* "q1&q2" from Uri-Query options */
};

enum sx_ssdp_kind { SX_SSDP_MSEARCH = 1, SX_SSDP_NOTIFY, SX_SSDP_RESPONSE };

struct sx_ssdp {
	uint8_t kind;	      /* enum sx_ssdp_kind */
	char st[SX_TEXT_MAX]; /* ST (M-SEARCH, response) or NT (NOTIFY) */
	char nts[32];	      /* NOTIFY sub-type (ssdp:alive, ...) */
	char usn[SX_TEXT_MAX];
	char server[SX_TEXT_MAX];
};

struct sx_dhcp {
	uint8_t op;	  /* 1 request, 2 reply */
	uint8_t msg_type; /* option 53, 0 for plain BOOTP */
	uint32_t xid;
	uint8_t chaddr[6];
	bool has_requested_ip;
	uint8_t requested_ip[4];	/* option 50 */
	char hostname[SX_TEXT_MAX];	/* option 12 */
	char vendor_class[SX_TEXT_MAX]; /* option 60 */
};

struct sx_ntp {
	uint8_t version;
	uint8_t mode;
	uint8_t stratum;
};

struct sx_mqtt {
	uint8_t type;		     /* control packet type 1..15 */
	char client_id[SX_TEXT_MAX]; /* CONNECT */
	char topic[SX_URI_MAX];	     /* PUBLISH, SUBSCRIBE (first filter) */
};

struct sx_igmp {
	uint8_t version; /* 1, 2 or 3 */
	uint8_t type;
	uint8_t group[4];  /* group address; v3 report: first record's */
	uint16_t nrecords; /* v3 report */
};

struct sx_icmp {
	uint8_t type;
	uint8_t code;
};

struct sx_tplink {
	bool response; /* sent from port 9999 */
	/* top-level JSON keys, "module.method" joined by spaces, e.g.
	 * "system.set_relay_state" */
	char cmd[SX_TEXT_MAX];
	/* a request's scalar arguments, "name=value" joined by commas in the
	 * order written, e.g. "state=1" for {"set_relay_state":{"state":1}}:
	 * what tells a plug's "on" from its "off" */
	char args[SX_TEXT_MAX];
};

union sx_app {
	struct sx_dns dns;	 /* SX_P_DNS, SX_P_MDNS, SX_P_LLMNR */
	struct sx_tls tls;	 /* SX_P_TLS */
	struct sx_http http;	 /* SX_P_HTTP */
	struct sx_coap coap;	 /* SX_P_COAP */
	struct sx_ssdp ssdp;	 /* SX_P_SSDP */
	struct sx_dhcp dhcp;	 /* SX_P_DHCP */
	struct sx_ntp ntp;	 /* SX_P_NTP */
	struct sx_mqtt mqtt;	 /* SX_P_MQTT */
	struct sx_igmp igmp;	 /* SX_P_IGMP */
	struct sx_icmp icmp;	 /* SX_P_ICMP, SX_P_ICMPV6 */
	struct sx_tplink tplink; /* SX_P_TPLINK */
};

/* TCP flag bits as on the wire. */
#define SX_TCP_FIN 0x01
#define SX_TCP_SYN 0x02
#define SX_TCP_RST 0x04
#define SX_TCP_PSH 0x08
#define SX_TCP_ACK 0x10
#define SX_TCP_URG 0x20
#define SX_TCP_ECE 0x40
#define SX_TCP_CWR 0x80

struct sx_app_memo;

struct sx_pkt {
	/* capture */
	uint32_t file;	/* index of the capture in the run */
	uint64_t index; /* 0-based packet number within the file */
	int64_t ts_sec;
	uint32_t ts_nsec;

	/* decoding outcome: sx_decode() clears and fills from here on */
	uint8_t status;	   /* enum sx_dec_status */
	uint32_t wire_len; /* orig_len: the packet's length */
	uint32_t cap_len;  /* captured bytes: bound decoding only */
	uint8_t proto;	   /* enum sx_proto */
	bool headers_only; /* by sx_decode_headers(): no application dissector
			    * ran (proto is the transport's at most, app is
			    * untouched) */
	/* the application dissectors' memo of the thread decoding (ingest's
	 * reader pool, app_memo.c), NULL: none; set by every decoding */
	struct sx_app_memo *memo;

	/* link layer */
	uint8_t l2;    /* enum sx_l2 */
	uint16_t vlan; /* outer 802.1Q VLAN id, 0 when untagged */
	uint8_t nvlan; /* number of VLAN tags */
	bool pppoe;
	uint16_t ethertype; /* of the network layer after tags */
	/* Ethernet source and destination, has_mac set; SLL gives the source
	 * only (has_mac false).  All zero when the frame has none. */
	bool has_mac;
	uint8_t mac_src[6], mac_dst[6];

	/* ARP over Ethernet/IPv4 (proto SX_P_ARP, has_arp set), RFC 826 */
	bool has_arp;
	uint16_t arp_op; /* 1 request, 2 reply */
	uint8_t arp_sha[6], arp_tha[6];
	uint8_t arp_spa[4], arp_tpa[4];

	/* network layer */
	struct sx_addr src, dst;
	uint8_t ip_proto; /* final next-header / protocol */
	uint8_t ttl;	  /* TTL or hop limit */
	bool frag;	  /* part of a fragmented datagram */
	bool frag_later;  /* not the first fragment: no transport header */
	/* fragments only (frag set), else 0: IPv4 identification (16 bits) or
	 * IPv6 Fragment header identification (32 bits); the offset of this
	 * fragment's data in the datagram, in bytes; its length as announced by
	 * the IP header (not bounded by the capture); the More Fragments bit */
	uint32_t ip_id;
	uint32_t frag_off;
	uint32_t frag_len;
	bool frag_more;
	bool ip_opt_ra; /* IPv4 Router Alert option present */

	/* transport layer */
	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint32_t tcp_seq;
	uint32_t tcp_ack;
	uint16_t tcp_win;
	/*
	 * Transport payload: payload points into libpcap's buffer and holds
	 * payload_cap captured bytes; payload_len is the length the headers
	 * announce (bounded by the wire length).  Valid only in the callback.
	 */
	const uint8_t *payload;
	uint32_t payload_cap;
	uint32_t payload_len;

	/*
	 * The identity of the application message, nonzero when the memo of
	 * the thread decoding gave it (app_memo.c): packets with one nonzero
	 * app_id have the same proto and app, so what is made of those alone
	 * can be made once.  0: no such identity (never equal to another).
	 */
	uint64_t app_id;

	union sx_app app;
};

/* A decoded ARP message (Ethernet/IPv4): its fields are valid. */
static inline bool sx_pkt_is_arp(const struct sx_pkt *p)
{
	return p->proto == SX_P_ARP && p->has_arp;
}

#endif /* SX_INGEST_PACKET_H */
