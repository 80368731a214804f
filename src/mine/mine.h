/*
 * mine.h - PUBLIC API of the mine module: flows of N occurrences of a device
 * event in, the event's signature (its recurring patterns) out.
 *
 * The miner's only input is struct sx_flow_row, whether the rows come from
 * sx_flows_reduce() in-process or from a flow CSV read back with
 * sx_flows_csv_next(): both give the same result, byte for byte, once
 * emitted.  Usage:
 *
 *   sx_mine_new(&cfg, &m);
 *   sx_mine_add_row(m, SX_MINE_EVENT, src, row);        for every event row
 *   sx_mine_add_row(m, SX_MINE_BACKGROUND, src, row);   for idle captures
 *   sx_mine_run(m, &res);                               mine
 *   ... emit res (emit/emit.h) ...
 *   sx_mine_result_free(res); sx_mine_free(m);
 *
 * Occurrences.  An occurrence is a unit of the flow stage: a capture
 * (File), or one event window within it (File, Event).  Units are put in a
 * canonical order (start time, then file name, then event number), never
 * in the order of the command line, so the result does not depend on it.
 *
 * The algorithm, its weights, thresholds and normalisations, and the reasons
 * for them are described at the top of mine.c (overview), features.c (the
 * vectors), cluster.c (matching) and patterns.c (what a pattern is made of).
 *
 * Determinism.  The result depends only on the set of rows and on the
 * numeric parameters (support, threshold): not on the order rows are added
 * in (beyond the order within a unit, which the flow stage fixes), not on
 * nthreads, and not on the feature-hashing seed (integer arithmetic, and
 * a hashing space large enough that collisions do not happen in practice).
 *
 * Orientation.  Every pattern is described from its two ends: the CLIENT
 * (the side that connects to a service) and the SERVER (the side holding
 * the service port, as the flow stage's ServicePort/ServiceSide say; for a
 * portless flow, the responder).  The INITIATOR is the end that started the
 * flows (SYN, else first packet), most often the client; a profile writer
 * takes src from the initiator and dst from the other end.  The miner does
 * not know which host is "the device": each end carries its addresses, so
 * a caller that knows the device address can name that end `self`.
 */
#ifndef SX_MINE_MINE_H
#define SX_MINE_MINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flows/flow.h"
#include "ingest/packet.h"

/* Defaults (reasons and measurements at the top of mine.c). */
#define SX_MINE_SUPPORT_DEFAULT	   0.9 /* fraction of occurrences holding a pattern */
#define SX_MINE_BG_SUPPORT_DEFAULT 0.5 /* fraction of background units, see below */
#define SX_MINE_THRESHOLD_DEFAULT  0.6 /* cosine similarity to join a cluster */
#define SX_MINE_DIM_BITS_DEFAULT   32  /* feature space: 2^32 dimensions (sparse) */

#define SX_MINE_ID_MAX	16   /* "p-" + 12 hex digits, with the NUL */
#define SX_MINE_KEY_MAX 1024 /* identity key text, with the NUL */

/* Which set a row belongs to. */
enum sx_mine_set {
	SX_MINE_EVENT = 0,  /* an occurrence of the event */
	SX_MINE_BACKGROUND, /* an idle capture of the device (--background) */
};

struct sx_mine_cfg {
	double support;	   /* (0, 1]; 0: SX_MINE_SUPPORT_DEFAULT */
	double bg_support; /* (0, 1]; 0: SX_MINE_BG_SUPPORT_DEFAULT */
	double threshold;  /* (0, 1); 0: SX_MINE_THRESHOLD_DEFAULT */
	uint64_t seed;	   /* feature-hashing seed; changes nothing in the result */
	unsigned nthreads; /* matching threads; 0: 1 */
	unsigned dim_bits; /* log2 of the feature space, 8..32; 0: default.
			    * Below 32 collisions become likely (tests). */
};

/* ---- the result ---- */

/* One occurrence (or background unit), in canonical order. */
struct sx_mine_occ {
	const char *file;  /* capture as named in the flow stage */
	uint32_t event;	   /* event window, SX_FLOW_NO_EVENT for a whole capture */
	const char *label; /* events file label, "" when none */
	int64_t start_ns;  /* window start, else the first flow's first packet */
	uint32_t nflows;
};

/* How an end of a pattern is named. */
enum sx_mine_host_kind {
	SX_MINE_HOST_NAME = 0, /* one resolved name, constant across the flows */
	SX_MINE_HOST_DOMAIN,   /* names varying under one domain: name = "*.suffix" */
	SX_MINE_HOST_ADDRS,    /* unnamed, or names across domains: the addresses */
};

/* Where an address is; for aliases in profiles (local, multicast...). */
enum sx_mine_scope {
	SX_MINE_SCOPE_PUBLIC = 0,
	SX_MINE_SCOPE_PRIVATE,	 /* RFC 1918, RFC 4193 (fc00::/7), 100.64/10 */
	SX_MINE_SCOPE_LINKLOCAL, /* 169.254/16, fe80::/10 */
	SX_MINE_SCOPE_MULTICAST, /* 224/4, ff00::/8 */
	SX_MINE_SCOPE_BROADCAST, /* 255.255.255.255 */
	SX_MINE_SCOPE_LOOPBACK,
	SX_MINE_SCOPE_UNSPECIFIED, /* 0.0.0.0, :: (DHCP discover) */
	SX_MINE_SCOPE_MIXED,	   /* addresses of several scopes */
};

/* One end (client or server) of a pattern. */
struct sx_mine_end {
	uint8_t kind;  /* enum sx_mine_host_kind */
	uint8_t scope; /* enum sx_mine_scope, over addrs */
	/*
	 * In at least half of the flows, this end is the host with the most
	 * flows of its occurrence: the miner's guess for the device itself
	 * (ids use "self" for it).  A caller that knows the device's address
	 * should compare addrs instead.
	 */
	bool focal;
	struct sx_addr modal; /* the address most flows use (ties: the lower) */
	bool modal_share2;    /* ... and at least half of the flows use it */
	/* The Ethernet address most of its flows came from (ties: the lower),
	 * zero when none did: the host's own for a host on the LAN, the
	 * router's for one behind it. */
	uint8_t mac[6];
	/*
	 * NAME: the name; DOMAIN: "*.suffix" (the longest common label suffix of
	 * the names, at least the registrable domain); ADDRS: "".
	 */
	char name[SX_NAME_MAX];
	/* Text for reports: name, or the addresses joined by ",". */
	char shown[SX_NAME_MAX];
	char local_name[SX_NAME_MAX]; /* mDNS name when constant, else "" */
	const struct sx_addr *addrs;  /* distinct addresses, sorted (family, bytes) */
	uint32_t naddrs;
	const char *const *names; /* distinct resolved names, sorted */
	uint32_t nnames;
	/* Ports of this end over the pattern's flows, by count (desc) then port. */
	const struct sx_mine_port *ports;
	uint32_t nports;
};

struct sx_mine_port {
	uint16_t port;
	uint32_t count; /* flows using it */
};

enum sx_mine_role {
	SX_MINE_CLIENT = 0,
	SX_MINE_SERVER = 1,
	SX_MINE_NO_ROLE = 2, /* e.g. no fixed port */
};

/* min / median (lower median) / max over the pattern's flows. */
struct sx_mine_stat {
	int64_t min, median, max;
};

/*
 * An application attribute ("key=value" of the flow stage's AppAttributes)
 * held by at least half of the pattern's flows, or generalised from theirs
 * (a name "*.suffix", a path "prefix*").  For the keys that name the
 * application (DNS, mDNS and LLMNR questions, TLS SNI, HTTP and CoAP
 * requests) every value of the flows is kept, so that a stray value never
 * erases the others: values held by fewer than half of the flows are kept
 * as they are (minor) or merged into their generalisation (patterns.c).
 */
struct sx_mine_attr {
	const char *key; /* "dns.q", "http.req", "coap", "dhcp", ... */
	const char *value;
	uint32_t count; /* flows with this value (or under the generalisation) */
	bool generalised;
	bool minor; /* a literal value of fewer than half of the flows */
};

/* A pair of end addresses that occurred: the client's and the server's
 * address of at least one member flow. */
struct sx_mine_pair {
	struct sx_addr addr[2]; /* [SX_MINE_CLIENT], [SX_MINE_SERVER] */
	uint32_t count;		/* member flows between them */
	/* The Ethernet address each end's frames came from when every one of
	 * those flows agrees on it, zero otherwise (none carried one, or they
	 * differ): who sent an ARP pair, whatever address it gave. */
	uint8_t mac[2][6];
};

/*
 * Application fields parsed from the consensus attributes, for profiles.
 * Empty strings / -1 when the pattern has none.  Where flows carry several
 * values (DHCP discover and request in one flow), the field lists them
 * space-separated in key order; a single-valued field takes the first value
 * in key order, except CoAP, which takes the request (a method code) over
 * the response.  Text is the packet text of core/text.h (printable, "\xNN"
 * escapes) with spaces restored; attrs[] keep the flow stage's AppAttributes
 * form, where a space is "\x20".
 */
struct sx_mine_app {
	uint8_t proto;		    /* enum sx_proto: most frequent top protocol */
	char dns_qtype[48];	    /* DNS, mDNS, LLMNR question types, of every name */
	char dns_name[SX_NAME_MAX]; /* name or "*.suffix": the first of dns_names */
	/* Every question name of that key (name or "*.suffix"), in attribute
	 * order, distinct: a pattern whose flows ask for several names is
	 * identified by all of them. */
	const char *const *dns_names;
	uint32_t ndns_names;
	bool mdns; /* the question was mDNS */
	char http_method[16];
	char http_host[SX_NAME_MAX];
	char http_uri[SX_URI_MAX]; /* path, or "prefix*" */
	char coap_type[8];	   /* CON NON ACK RST */
	char coap_method[16];	   /* GET, POST, ... or a response code */
	char coap_uri[SX_URI_MAX];
	char ssdp_method[16]; /* M-SEARCH, NOTIFY, RESPONSE */
	char ssdp_st[SX_TEXT_MAX];
	char dhcp_type[64]; /* discover, request, ... */
	char tls_sni[SX_NAME_MAX];
	char tplink_cmd[SX_TEXT_MAX];
	char mqtt_type[16];
	char mqtt_topic[SX_URI_MAX];
	int ntp_version, ntp_mode;
	int igmp_version, igmp_type;
	char igmp_group[16];
	int icmp_type, icmp_code; /* ICMP or ICMPv6 (see icmp_v6) */
	bool icmp_v6;
};

enum sx_mine_kind {
	SX_MINE_PATTERN = 0,	    /* part of the signature */
	SX_MINE_BACKGROUND_PATTERN, /* also in the background units */
	SX_MINE_PERIODIC,	    /* repeats at a steady period, not locked to the event */
	SX_MINE_BELOW_SUPPORT,	    /* recurs, in fewer occurrences than the support asks */
};

struct sx_mine_pattern {
	uint8_t kind;		 /* enum sx_mine_kind */
	uint32_t number;	 /* 1-based, in typical order within its list */
	char id[SX_MINE_ID_MAX]; /* "p-" + 12 hex digits of XXH3(key), unseeded */
	/*
	 * The identity the id is derived from (patterns.c): "v1|<ip proto>|
	 * fixed=<end>:<port>|client=<host>|server=<host>|app=<key>=<value>;...",
	 * a host being "self" (the focal end), "n:<name>", "d:*.<suffix>",
	 * "a:<address>" or "s:<scope>".  Unique within a result.
	 */
	char key[SX_MINE_KEY_MAX];

	/* identity */
	uint8_t ip_proto;	   /* 6 TCP, 17 UDP, 1 ICMP, ... */
	uint8_t family;		   /* 4 or 6; 0 when mixed */
	struct sx_mine_end end[2]; /* [SX_MINE_CLIENT], [SX_MINE_SERVER] */
	uint8_t initiator;	   /* enum sx_mine_role: which end starts the flows */
	uint8_t fixed_role;	   /* enum sx_mine_role holding the fixed port, or NO_ROLE */
	uint16_t fixed_port;	   /* 0 when none */
	/* UDP between two unicast ends on dynamic ports only (neither well
	 * known nor an IoT service port), none fixed: a peer-to-peer stream
	 * (merge.c's pools), whose ports and peer NAT traversal draws anew */
	bool peer_to_peer;
	struct sx_mine_app app;
	const struct sx_mine_attr *attrs; /* sorted by key, then value */
	uint32_t nattrs;
	/* The distinct (client, server) address pairs of the member flows,
	 * sorted: the ends' address lists may pair addresses that never met. */
	const struct sx_mine_pair *pairs;
	uint32_t npairs;

	/* statistics over the member flows */
	uint32_t support;	     /* occurrences holding the pattern */
	uint32_t noccs;		     /* of how many */
	uint32_t nflows;	     /* member flows */
	uint32_t nsession;	     /* of which continue a session that was open
				      * before their event window (--events) */
	struct sx_mine_stat pkts[2]; /* sent by [client], by [server] */
	struct sx_mine_stat bytes[2];
	struct sx_mine_stat duration_ns;
	struct sx_mine_stat offset_ns; /* first member per occurrence, from its start */
	int64_t offset_spread_ns;      /* p75 - p25 (IQR) of those offsets */
	int64_t period_ns;	       /* median gap between members in one occurrence, 0 if none */
	uint32_t bg_support;	       /* background units holding it */
	uint32_t nbg;		       /* of how many */
	/*
	 * Typical order: each list is sorted by the median start offset (then
	 * the key); number is the position.  For the next pattern of the list:
	 */
	uint32_t next_agree; /* occurrences where this one starts first (or together) */
	uint32_t next_both;  /* occurrences holding both */

	/*
	 * Payload lengths by position (the flow stage's PayloadLengths, + from
	 * the client, - from the server), over the member flows: the least and
	 * the greatest signed length at each of the first seq_n positions (a
	 * position some member reaches); every member reaches the first
	 * seq_all.  What a detector compares a flow's exchange with (src/detect).
	 */
	int32_t seq_min[SX_FLOW_SEQ_MAX];
	int32_t seq_max[SX_FLOW_SEQ_MAX];
	uint8_t seq_n, seq_all;

	/* reference-format histograms over the member flows, in member order */
	const struct sx_mine_hist *hist_len; /* Length (wire bytes) */
	uint32_t nhist_len;
	const struct sx_mine_hist *hist_spec; /* ApplicationSpecific */
	uint32_t nhist_spec;
	const struct sx_mine_hist *hist_pkts; /* nbPacket */
	uint32_t nhist_pkts;

	/* which occurrences hold it: a bitmap over result.occs */
	const uint64_t *occ_bits;
	/* per occurrence of result.occs, its first member's start from the
	 * occurrence's (ns), INT64_MIN where it has none; NULL when unknown
	 * (a pattern not mined from flows) */
	const int64_t *occ_first_ns;
};

/* A histogram bin: an integer or a string key, with its count. */
struct sx_mine_hist {
	uint64_t num;
	const char *str; /* NULL for integer bins */
	uint32_t count;
};

struct sx_mine_result {
	/* parameters, as used */
	double support;
	uint32_t min_support; /* occurrences required: ceil(support * noccs) */
	double bg_support;
	uint32_t min_bg_support;
	double threshold;
	unsigned dim_bits;

	const struct sx_mine_occ *occs; /* event occurrences, canonical order */
	uint32_t noccs;
	const struct sx_mine_occ *bg; /* background units, canonical order */
	uint32_t nbg;
	uint64_t nflows;    /* event flows mined */
	uint32_t nclusters; /* clusters found (patterns or not) */

	const struct sx_mine_pattern *patterns; /* the signature, typical order */
	uint32_t npatterns;
	const struct sx_mine_pattern *background; /* removed: also in the background */
	uint32_t nbackground;
	const struct sx_mine_pattern *periodic; /* removed: periodic chatter */
	uint32_t nperiodic;
	/* not patterns: clusters in at least 2 occurrences but fewer than
	 * min_support, for the record (what a lower support would add) */
	const struct sx_mine_pattern *below;
	uint32_t nbelow;
};

struct sx_mine;

/*
 * sx_mine_new - an empty miner.  cfg may be NULL (defaults).  Returns 0 with
 * *out set (caller frees with sx_mine_free()), -EINVAL for a parameter out
 * of range, or -ENOMEM.  Context: any thread.
 */
int sx_mine_new(const struct sx_mine_cfg *cfg, struct sx_mine **out);
void sx_mine_free(struct sx_mine *m);

/*
 * sx_mine_add_row - add one flow.  The row is copied (its strings too); it
 * only has to live during the call.  Rows of one unit (row->file,
 * row->rec.key.event) must all come from the same input: src is the
 * caller's number for that input (the index of a CSV on the command line,
 * or 0 for an in-process reduce).
 * Returns 0, -ENOMEM, or -EEXIST when the unit was already given by another
 * src or in the other set (a capture named twice).  Context: one thread at a
 * time per miner.
 */
int sx_mine_add_row(struct sx_mine *m, enum sx_mine_set set, int src,
		    const struct sx_flow_row *row);

/*
 * sx_mine_add_unit - declare a unit that may hold no flow (an event window
 * in which nothing was captured): it is an occurrence all the same, and
 * every pattern's support counts it as one the pattern is absent from.
 * Adding it again, or rows of it afterwards, is allowed (same set and src).
 * Returns 0, -ENOMEM, or -EEXIST as sx_mine_add_row().  Context: as
 * sx_mine_add_row().
 */
int sx_mine_add_unit(struct sx_mine *m, enum sx_mine_set set, int src, const char *file,
		     uint32_t event, int64_t event_ns, const char *label);

/*
 * sx_mine_discard_src - forget every unit that src gave (an input that
 * turned out to be unreadable half-way).  Context: as sx_mine_add_row().
 */
void sx_mine_discard_src(struct sx_mine *m, int src);

/* Adapter for sx_flows_reduce(): arg is a struct sx_mine_sink. */
struct sx_mine_sink {
	struct sx_mine *m;
	enum sx_mine_set set;
	int src;
};
int sx_mine_row_fn(void *arg, const struct sx_flow_row *row);

/* Number of event occurrences and background units added so far. */
uint32_t sx_mine_noccs(const struct sx_mine *m);
uint32_t sx_mine_nbg(const struct sx_mine *m);

/*
 * sx_mine_run - mine.  May be called once.  Returns 0 with *out set (caller
 * frees with sx_mine_result_free(); it borrows nothing from m, so m may be
 * freed first), -ENOMEM, or SX_E_STOPPED when a stop request
 * (core/util.h) came while it ran (checked between steps and every few
 * thousand flows).  Zero occurrences give an empty result.
 * Context: the calling thread, plus cfg->nthreads workers it starts and
 * joins.
 */
int sx_mine_run(struct sx_mine *m, struct sx_mine_result **out);
void sx_mine_result_free(struct sx_mine_result *r);

/* Names for enums in reports: "client"/"server"; "name"/"domain"/"addresses";
 * "public"/"private"/...; "pattern"/"background"/"periodic". */
const char *sx_mine_role_name(enum sx_mine_role r);
const char *sx_mine_host_kind_name(enum sx_mine_host_kind k);
const char *sx_mine_scope_name(enum sx_mine_scope s);
const char *sx_mine_kind_name(enum sx_mine_kind k);

/*
 * sx_mine_registrable_domain - the registrable domain of a host name by the
 * Public Suffix List ("time-b.nist.gov" -> "nist.gov"), a pointer into
 * name; the name itself when it is a public suffix or cannot be judged.
 * Stateless; thread-safe.
 */
const char *sx_mine_registrable_domain(const char *name);

/*
 * sx_mine_device_mac - the device's MAC, as its frames carry it: the
 * Ethernet address of the pattern ends whose addresses are all the device's
 * (dev4 or dev6; either may have family 0), weighted by their flows, the
 * most used (ties: the lower).  Every list of the result counts (event,
 * background, periodic).  Returns 0 with mac set, -ENOENT when no such end
 * carried one (a capture without link-layer addresses, or flow CSVs of an
 * older sigex).  Context: any thread; r is read only.
 */
int sx_mine_device_mac(const struct sx_mine_result *r, const struct sx_addr *dev4,
		       const struct sx_addr *dev6, uint8_t mac[6]);

/*
 * sx_mine_device_ipv6 - the device's IPv6 address for "self": its
 * link-local address made from mac (fe80::/64 and the modified EUI-64, RFC
 * 4291 appendix A), when some pattern end of the result holds it (any list:
 * event, background, periodic, below support).  Derived from the MAC, it is
 * the same in every event of a device, unlike a global address (the
 * network's prefix) or a privacy address (RFC 4941, 7217), which stay
 * written as they are.  Returns 0 with a set; -ENOENT (a left as it was)
 * when mac is zero or no end holds that address.  Context: any thread; r
 * is read only.
 */
int sx_mine_device_ipv6(const struct sx_mine_result *r, const uint8_t mac[6], struct sx_addr *a);

/*
 * sx_mine_arp_op - the ARP operation of an ARP pattern (its flows are ARP
 * flows, family SX_FLOW_FAMILY_ARP: the client end is the senders, the
 * server end the targets, and each end's mac the sender / target hardware
 * address), as the flow CSV names it ("request", "reply" or the number):
 * the value of its "arp" attribute held by the most flows (ties: the first
 * in attribute order).  NULL when p is not an ARP pattern.  Context: any
 * thread.
 */
const char *sx_mine_arp_op(const struct sx_mine_pattern *p);
/* Whether every flow of the ARP pattern p is a gratuitous ARP (the sender
 * announces its own address: spa == tpa).  Context: any thread. */
bool sx_mine_arp_gratuitous(const struct sx_mine_pattern *p);

/* Whether occurrence i (index into result.occs) holds pattern p. */
static inline bool sx_mine_pattern_in_occ(const struct sx_mine_pattern *p, uint32_t i)
{
	return (p->occ_bits[i / 64] >> (i % 64)) & 1;
}

#endif /* SX_MINE_MINE_H */
