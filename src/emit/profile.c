/*
 * profile.c - profile.yaml of the default mode (see emit.h).
 *
 * DESIGN
 *
 * What goes where.  The signature's patterns (result.patterns, numbered in
 * their typical order within an occurrence) are the event: one interaction,
 * named after the event, holds one policy per pattern in that order, as the
 * firewall's hand-written profiles group an event's policies (periodic,
 * and without the patterns that may come before the first: see States).
 * Patterns the
 * miner set aside, because they also occur in the background captures
 * (result.background) or repeat at a steady period (result.periodic), are
 * the device's traffic outside the event: single-policies, background first,
 * those with a host name end last (a name is matched in the policy's queue,
 * so its nftables rule would take the packets of a later policy by address:
 * singles_order()).
 * So is what recurs below the support (result.below: in two occurrences or
 * more, fewer than the support asks): the device does it, only not at
 * every event, and an allowlist that left it out would block it the next
 * time (held out, the TP-Link HS110's allowed flows went from 70.6 % to
 * 79.3 % with it).  A flow of one occurrence is never written.
 * Nothing outside the firewall's schema is written (UPSTREAM.md §5).
 *
 * src and dst.  The end that starts a pattern's flows (the miner's
 * initiator: the SYN sender, else the first sender) is src and the other
 * end dst, so the choice never depends on set order (the reference's bug)
 * and src is never dst.  An end is written as, first match wins:
 *   - "self" when every address of the end is the device's (IPV4, --ipv6 or
 *     the inferred IPv6 address: device-info.ipv6 below);
 *   - "gateway" / "phone" when every address is the --gateway / --phone one;
 *   - the firewall's alias of a well-known group address: 224.0.0.251 mdns,
 *     239.255.255.250 ssdp, 224.0.1.187 coap, 224.0.0.22 igmpv3,
 *     255.255.255.255 broadcast; a protocol's alias (mdns, ssdp, coap) only
 *     for that protocol (its dissector or port) or for a pattern without
 *     ports, so WS-Discovery (UDP 3702) to 239.255.255.250 is written with
 *     the address, never as ssdp;
 *   - its resolved name, when the miner saw one constant name with a dot in
 *     it, or the list of its names when they vary under one domain; only
 *     when a DNS policy of the same profile allows a query for each name:
 *     the firewall matches a name end through its DNS table, filled from
 *     the responses its DNS policies let through, looked up by the exact
 *     name (so "$.suffix", its DNS wildcard, is never an address end);
 *     when in some occurrence of the pattern no DNS pattern of the profile
 *     asked for the name (asked_every_time()), the device reached the
 *     server from its own cache, and the firewall, which never saw the
 *     answer, matches such a flow only by its address: a twin policy, the
 *     end written as its addresses (at most NAME_ADDRS_MAX), goes before
 *     the name's (by_address());
 *   - for unnamed public IPv4 servers: the /24 that holds them all, two or
 *     more (a provider's pool), or the /16 when they rotate, or the
 *     networks of such groups and the servers beside them, when fewer
 *     stand alone (pool_nets()); else "external" when the device reaches
 *     another one nearly every time; a peer-to-peer pattern's public peer
 *     always (rotating_pool());
 *   - its address, or the list of its addresses.
 * Only pairs of addresses that involve the device are written, and one
 * more kind: the device's own traffic to a multicast or broadcast group
 * under another network's address, as for ARP below (the D-Link
 * cameras' mDNS questions and IGMP reports as 192.168.0.20 once they have
 * their lease), a pair every flow of which came from the device's MAC, in
 * two flows or more (earlier_sender()).
 * It gets a policy of its own after the pattern's others, that address
 * written as it is, never "self"; unicast is left out, since a host that
 * forwards others' traffic with its own MAC (the WeMo access point
 * bridging the phone's) would pass for the device.  Held out, D-LinkDayCam's
 * allowed flows went from 81.2 % to 99.0 %.
 * NTP to public servers is written the experts' way: dst: external (any
 * address outside the LAN), and one more single policy, a DNS policy for
 * the servers' names one label up ("$.nist.gov", "$.pool.ntp.org"), on
 * the resolver of the device's DNS patterns (ntp_lookups()): the device
 * picks another server of its pool every time.
 * The network key is ipv6 for IPv6 patterns, else ipv4; a pattern of both
 * families (mDNS sent to 224.0.0.251 and ff02::fb) gives one policy per
 * family, each with its own addresses.
 *
 * Ports.  The fixed port goes with the end that holds it: dst-port when
 * that end is dst, src-port when it is src.  The other end's port is added
 * when every flow of the pattern (two or more) used that one port and it is
 * a known port (below 1024 or an IoT service port) or the fixed port itself:
 * DHCP 68 -> 67, NTP 123 -> 123, mDNS 5353 -> 5353, as the firewall's own
 * profiles write them.  An SSDP pattern to the group whose source ports
 * vary but all lie in one aligned block of 32 registered ports (1024 to
 * 32767, below Linux's ephemeral range) gets that block, "3072-3103": the
 * firewall's SSDP parser matches the method alone and every UPnP device
 * sends NOTIFY to 239.255.255.250:1900, so without it one device's policy
 * admits every other's announcements (a WeMo's UPnP stack sends them from
 * 3075 to 3087, a few ports a boot; the D-Link, Edimax and Hue devices from
 * 1900; src_block()).  A peer-to-peer pattern (its peer_to_peer: UDP
 * between dynamic ports on both ends, none fixed) gets each end's dynamic
 * range: "1024-32767" or "32768-65535" when its ports are all below or all
 * within Linux's ephemeral range, else "1024-65535" (dynamic_of()), less
 * SSDP's and mDNS's ports (the list [1024-1899, 1901-5352, 5354-32767]):
 * the pairs NAT traversal draws, never a resolver's or a time server's
 * port, whose DNS policy's queue must see the answers, nor a LAN discovery
 * service's.  Another
 * TCP or UDP pattern with no fixed port gets an empty "tcp:" / "udp:" (the
 * protocol alone).  A port is left out where an
 * earlier queue policy with the same ends would otherwise swallow this
 * policy's packets (first match wins in the firewall; unshadow()).
 *
 * Values the firewall matches one per policy (an HTTP method and uri, an
 * IGMPv3 report's group, an SSDP method) give one policy per value when a
 * pattern's flows carry several (variants_of()).
 *
 * Application sections, from the miner's consensus fields (struct
 * sx_mine_app): dns / mdns (qtype, one or a list; domain-name, "*.suffix"
 * written "$.suffix"; an mDNS pattern whose flows carry the device's
 * answers gets a second policy, `mdns: {response: true}`, as the firewall
 * matches a DNS name or type on questions only); http (method, uri; a query is cut and "*"
 * appended, as the firewall's translator does itself; only on TCP port 80, the one port
 * whose segments the firewall's parser takes for requests: http_section()); coap (type, method,
 * uri); ssdp (method, or response: true); dhcp (type: the messages the initiator sends, only those
 * the firewall's parser knows; client-mac: self when the device's MAC is known and the device is an
 * end, by its address or, for a client without one yet (0.0.0.0), by its MAC); igmp (version, type,
 * group); icmp (type, the request when the flows hold a request and its reply); icmpv6 (no fields).
 * TLS, NTP, MQTT and the TP-Link protocol have no section the firewall's translators read; their
 * policies stay at the transport level.
 *
 * ARP patterns (sx_mine_arp_op(): the flow stage's ARP flows, one sender
 * and one operation each) become `arp` policies, always single-policies
 * (address resolution precedes any conversation, whenever it happens: an
 * interaction's state would block it out of the event's sequence), in the
 * hand-written profiles' form: type (request, reply, else the operation's number), sha,
 * tha, spa (the sender end), tpa (the target end); never bidirectional (the
 * translator's backward rule flips the type and swaps the addresses, which
 * a request's zero tha would never match).  Only pairs with the device's
 * IPv4 address as spa or tpa are written: the ARP of other hosts that the
 * capture saw is not the device's (and nothing is written without that
 * address).  Except the device's own messages under another network's
 * address, outside the /24 of its IPv4 (a factory default, its previous
 * network's lease; a lease of this LAN is the device's address, and a
 * profile holds one: other_network()).  The Edimax cameras ask "who has
 * 192.168.2.1? tell 192.168.2.3" before their DHCP, in 11 of 12 captures.
 * A pair every flow of which came from the device's MAC, in two
 * flows or more, is one policy per such address, sha: self, spa the
 * address as it is (reported, never "self"), tpa its targets; held out,
 * EdimaxCam1's allowed flows went from 83.7 % to 95.6 %.  The pairs are
 * grouped by the class of each side, self, the --gateway host, the --phone
 * host or other, one policy per pair of
 * classes; an other host that recurs (its pairs with the device, in that
 * direction, hold at least as many flows as the pattern has occurrences:
 * the gateway, the phone, a hub) has a policy of its own, written by its
 * address; the others of a group are one end: the address, "local" (the
 * translator's 192.168.1.0/24) when five or more all inside it (a hub's
 * scan of the LAN), else the list: a camera asking in one event for the
 * gateway and the phone, neither recurring there, admitted every host's
 * requests to any LAN address as "local" (the testbed's other devices'
 * packets admitted by the profiles 17.94 % -> 13.55 %, held out 93.42 % ->
 * 93.41 %).  The firewall's ARP aliases of hardware addresses are its own fixed
 * ones (protocols/arp.py: gateway c0:56:27:73:46:0b, phone
 * 3c:cd:5d:a2:a9:d7, broadcast, default for zero), so a MAC is written as
 * an alias only when it is that address, "self" when it is the device's,
 * else as itself.  sha: self when the device sends; else the sender end's
 * most used sha when the end is one host; else left out.  tha: default
 * for a request none of whose messages carried one (the zero MAC), else
 * left out for a request (a unicast refresh may carry it, the broadcast
 * requests do not); for a reply, the target end's most used tha when the
 * target is the device (its MAC: self) or one host; else left out.  The
 * miner may put several senders or targets in one ARP pattern (requests
 * of the device to the gateway and the phone, say): the pairs still give
 * one policy each, but a merged end has no MAC of its own, so its sha or
 * tha is left out.  Ids: "arp-<type>-" and the subject as below,
 * "gratuitous" for a device announcing its own address (spa == tpa).
 *
 * bidirectional: true when the responder answered in any of the flows
 * (a packet from it in one of them at least: an allowlist that admits the
 * question must admit the answer, and a device that also asks a resolver
 * of its previous network, which never answers, had half of its lookups
 * unanswered; held out, D-LinkCam's flows 95.2 % -> 99.6 %) and dst is
 * not a group address.  DHCP
 * and CoAP are never bidirectional: the firewall's translator has no
 * backward match for their sections, and the backward callback it
 * generates for one frees a message it never parsed, so the firewall does
 * not compile.  Such a pattern whose responder answers gets two policies:
 * the requests with their dhcp / coap section (client-mac: self, method,
 * uri), and the answers, from the responder back to the initiator, at the
 * transport level (addresses and ports).
 *
 * States.  The firewall runs every policy that has a queue through the
 * state machine of its interaction (translator.py's parse_policy(),
 * callback.c.j2), a single policy being an interaction of its own whose
 * forward and backward rules are two states: a one-off policy admits a
 * packet once the state has reached its own, moves the state on when it is
 * at its own, and the last wraps it to 0.  Written as one-off policies, an
 * event's interaction admitted nothing before its first policy, nothing of
 * a pattern before every pattern before it had occurred in order (an
 * occurrence without one of them blocked the rest), and nothing once its
 * last had wrapped the state (the sessions still open); and a single
 * bidirectional policy with a queue admitted one answer per request, a
 * server's second segment in a row being dropped.  Held out, the IoT
 * Sentinel profiles allowed 52.9 % of the device's packets and flows with
 * the states, 96.6 % and 90.8 % of them without (bench/README.md).  So:
 *   - an event's policies are periodic without a rate limit (`stats:
 *     {rate: 0}`, the experts' form for a session; NFQueue.py writes no
 *     nftables limit for it): only the first moves the state, so the
 *     interaction opens on the event's first policy, in typical order, and
 *     then admits every other in any order, any number of times, until it
 *     times out (an hour without a packet), never wrapping.  A lone one-way
 *     policy is no interaction to the translator and stays one-off;
 *   - a single bidirectional policy without a queue (nftables matches
 *     alone) is periodic too: the translator makes it an nftables accept
 *     both ways, with no queue and no state;
 *   - a single TCP or UDP policy with a queue (a host-name end, an
 *     application section) is written one way, its answers with a policy of
 *     their own at the transport level (one_way()): each is an interaction
 *     of one state, with no guard.  DNS keeps its question and answer in one
 *     bidirectional policy (they alternate, and the answer must reach the
 *     policy that names it, whose queue fills the firewall's DNS table).
 * The opener is the event's first policy: of an mDNS pattern, its answers'
 * (mdns_answers()), since an occurrence that begins with the device up sees
 * its unasked announcements before any question (held out, D-LinkDayCam's
 * flows 50.8 % -> 98.5 % with the states).  An event pattern that does not
 * follow the opener's pattern in every occurrence that holds it (the
 * miner's first flow per occurrence: EdnetCam1's DHCP and its router
 * solicitation come in either order) is a leader, written as a single
 * policy after the others (leaders()): in the interaction it would be
 * dropped whenever it came first.  Not a leader with a queue whose rule
 * another event pattern's packets may meet (the same transport, ports not
 * apart): single policies come first, and their queue would drop those
 * packets.  Held out, with the states: 95.6 % of the packets and 88.6 % of
 * the flows before the leaders, 96.3 % and 90.0 % with them (EdnetCam1's
 * flows 73.1 % -> 93.6 %).  What is left is an occurrence whose opener is
 * missing or late, or whose opener pattern's first flow is not its first
 * policy's (a D-Link camera's mDNS answers under its previous network's
 * address, before its lease).
 *
 * stats (--stats): packet-count, the most packets one flow carried (both
 * directions when bidirectional, else the initiator's), and duration, the
 * longest flow in whole seconds rounded up, at least 1.  Maxima, because a
 * firewall allowance must admit every occurrence seen.  They make a policy
 * transient instead of periodic (States).
 *
 * Policy ids, "<what>-<subject>" in lower-case words:
 *   what     dns, mdns, llmnr, https (TLS on 443), tls, http, coap, ssdp,
 *            dhcp, ntp, mqtt, igmp, icmp, icmpv6, ws-discovery (UDP 3702,
 *            WS-Discovery's SOAP-over-UDP: not SSDP); otherwise
 *            "<tcp|udp>-<fixed port>", the transport alone, or
 *            "ip-<protocol number>";
 *   subject  the queried name for dns, mdns and llmnr (for an mDNS pattern
 *            without a question, the sender's local name); the group for
 *            igmp; otherwise the peer: dst when src is self ("from-device"
 *            when dst is named like the protocol, as the alias ssdp),
 *            "<src>-to-device" when dst is self, else "<src>-to-<dst>"
 *            (aliases, names, the first address).
 * For the TP-Link toggle: dns-use1-api-tplinkra-com,
 * https-use1-api-tplinkra-com, tcp-9999-phone-to-device.  An id already
 * used gets "-2", "-3"... : nothing is ever overwritten (the reference's
 * bug with two tcp_443 policies).  Ids are given to the event's policies
 * first, so they keep the plain names.
 *
 * device-info.mac: --mac, else the source MAC of the device's own frames
 * (sx_mine_device_mac()): the firewall's rules match the device by it, and
 * reject a profile without one.  device-info.ipv6: --ipv6, else the
 * link-local address made from the device's MAC when it sent from it
 * (sx_mine_device_ipv6(): the same in every event of the device, where a
 * global address follows the network's prefix); "self" in IPv6 policies is
 * that address, the device's other addresses are written as they are.
 *
 * Scalars are plain when PyYAML (the firewall's loader) reads the plain text
 * back as the same string, quoted otherwise: IP addresses stay plain as in
 * the hand-written profiles, a MAC that YAML 1.1 would take for a
 * sexagesimal number is quoted.  Text from the network (names, URIs) can
 * therefore never change the document's structure, and never a rule's
 * meaning: a name or path from the network that is not a plain host name
 * or path is never written where the firewall would read a wildcard
 * (rule_name_ok(), below).
 */
#include "emit/emit.h"
#include "emit/emit_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/outfile.h"
#include "core/text.h"
#include "core/util.h"
#include "yaml/ydoc.h"
#include "flows/flows.h"
#include "ingest/ingest.h"

#define ID_MAX	      96
#define ADDR_TEXT_MAX 64
#define HOST_TEXT_MAX (SX_NAME_MAX + 2)
/* A name end lists its addresses too (see DESIGN) when it has at most
 * this many: more rotate, and the next occurrence brings another. */
#define NAME_ADDRS_MAX 16

/* How an end is written. */
enum host_form {
	HOST_NONE = 0, /* no address at all: key left out */
	HOST_ONE,      /* one scalar: self, an alias, a name, an address */
	HOST_LIST,     /* the end's addresses */
	HOST_NAMES,    /* the end's names, each one a DNS policy of the profile allows */
	HOST_NETS,     /* networks and addresses, space-separated in text: pool_nets() */
};

struct host {
	enum host_form form;
	bool self;
	bool group;		       /* multicast or broadcast */
	bool name;		       /* a host name: an NFQueue match (the DNS table) */
	char text[HOST_TEXT_MAX];      /* HOST_ONE, HOST_NETS */
	char label[HOST_TEXT_MAX];     /* for ids */
	const struct sx_mine_end *end; /* HOST_LIST, HOST_NAMES */
	/* A name end (HOST_ONE or HOST_NAMES, end set) whose addresses get a
	 * policy of their own too (see DESIGN) */
	bool addrs;
};

struct policy {
	const struct sx_mine_pattern *p;
	char id[ID_MAX];
	uint8_t family; /* 4 or 6: the network key; a pattern of both gives two */
	/* A pattern of both families: its ends with this family's addresses
	 * only (addrs point into vaddrs, owned); unused otherwise. */
	struct sx_mine_end view[2];
	struct sx_addr *vaddrs;
	struct host src, dst;
	uint8_t src_role; /* enum sx_mine_role of src */
	bool bidirectional;
	bool omit;		 /* not written: see rule_text_ok() */
	bool mdns_response;	 /* the device's mDNS answers (see mdns_answers()) */
	bool no_sport, no_dport; /* a port left out, not to be shadowed (unshadow()) */
	bool reply;		 /* the answers of a split pattern (build_answers()) */
	/* ARP (arp_op set): src and dst are spa and tpa; sha and tha as
	 * written, "" when left out (see DESIGN) */
	const char *arp_op;
	char sha[SX_MAC_TEXT_MAX], tha[SX_MAC_TEXT_MAX];
};

struct ctx {
	const struct sx_profile_cfg *cfg;
	struct sx_addr dev4, dev6, gateway, phone; /* family 0 when not given */
	bool ula_prefixes;		/* the device's ULA prefix changed: ula_prefixes_change() */
	uint8_t mac[6];			/* the device's: cfg->mac, else inferred; zero: none */
	char mac_text[SX_MAC_TEXT_MAX]; /* ... as written, "" when none */
	/* The names the profile's DNS policies allow ("*.suffix" for a
	 * wildcard): the firewall learns an address end's name only from a DNS
	 * response one of them lets through. */
	const char **dns_names;
	size_t ndns;
	/* For each of dns_names, the occurrences of its pattern (a bitmap over
	 * result.occs, or NULL), and the occurrences in all. */
	const uint64_t **dns_occ;
	uint32_t noccs;
	struct sx_yw w;
	struct policy *pols; /* event patterns, then background, then periodic */
	size_t npols;
	/* The lookups of the public NTP servers' names (ntp_lookups()): a
	 * resolver's DNS pattern with these names, when there is one. */
	struct sx_mine_pattern ntp_dns;
	bool has_ntp_dns;
	bool response_pass; /* add_policy() makes mDNS answer policies */
	bool reply_pass;    /* add_policy() makes the answers' policies (build_answers()) */
	bool single_pass;   /* build_policies() makes single policies (one_way()) */
	char (*ntp_text)[SX_NAME_MAX];
	const char **ntp_names;
	/* The patterns' application variants (variants_of()), owned; policies
	 * point into it. */
	struct sx_mine_pattern *var;
	size_t nvar;
};

/* ---- scalars ---- */

/*
 * A string: plain when PyYAML resolves the plain text to a str, else quoted
 * (libyaml picks single quotes, or double when escapes are needed), not
 * sx_yw_str(), which quotes every text that starts with a digit.
 */
static void str(struct sx_yw *w, const char *s)
{
	sx_yw_py_str(w, s);
}

/* The YAML null written as nothing ("icmpv6:"), as the hand-written profiles do. */
static void null(struct sx_yw *w)
{
	sx_yw_scalar(w, "", 0, SX_YSTYLE_PLAIN, SX_YW_PLAIN_IMPLICIT);
}

static void kv(struct sx_yw *w, const char *k, const char *v)
{
	str(w, k);
	str(w, v);
}

static void kv_u64(struct sx_yw *w, const char *k, uint64_t v)
{
	str(w, k);
	sx_yw_u64(w, v);
}

/* A space-separated word list: one scalar, or a sequence (block, or flow:
 * one line of short items). */
static void words_style(struct sx_yw *w, const char *k, const char *list, bool flow)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", list);
	str(w, k);
	if (!strchr(buf, ' ')) {
		str(w, buf);
		return;
	}
	if (flow)
		sx_yw_seq_begin_flow(w);
	else
		sx_yw_seq_begin(w);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		str(w, tok);
	sx_yw_seq_end(w);
}

static void words(struct sx_yw *w, const char *k, const char *list)
{
	words_style(w, k, list, false);
}

/* ---- ids and names ---- */

const char *sx_emit_profile_id(const char *in, char *buf, size_t bufsz)
{
	size_t o = 0, cut = 0;
	bool dash = false, full = false;

	if (!bufsz)
		return buf;
	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;

		if (!isalnum(c) || c >= 0x80) {
			dash = o > 0;
			continue;
		}
		if (o + 1 + (dash ? 1 : 0) >= bufsz) {
			full = true;
			break;
		}
		if (dash) {
			cut = o;
			buf[o++] = '-';
			dash = false;
		}
		buf[o++] = (char)tolower(c);
	}
	/* Cut short: end at the last word boundary rather than mid-word. */
	if (full && !dash && cut)
		o = cut;
	buf[o] = '\0';
	return buf;
}

const char *sx_emit_profile_event_name(const struct sx_mine_result *r,
				       const struct sx_profile_cfg *cfg, char *buf, size_t bufsz)
{
	const char *label = NULL;
	uint32_t i;

	if (cfg->event && cfg->event[0]) {
		snprintf(buf, bufsz, "%s", cfg->event);
		return buf;
	}
	for (i = 0; i < r->noccs; i++) {
		const char *l = r->occs[i].label ? r->occs[i].label : "";

		if (!l[0] || (label && strcmp(label, l) != 0)) {
			label = NULL;
			break;
		}
		label = l;
	}
	if (label && sx_emit_profile_id(label, buf, bufsz)[0])
		return buf;
	snprintf(buf, bufsz, "%s", SX_PROFILE_EVENT_DEFAULT);
	return buf;
}

void sx_emit_profile_last_update(char *buf, size_t bufsz, time_t t)
{
	struct tm tm;
	char off[8];
	size_t n;

	if (!localtime_r(&t, &tm) || !strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(buf, bufsz, "?");
		return;
	}
	/* %z gives "+0100"; ISO 8601 extended form wants "+01:00". */
	if (strftime(off, sizeof(off), "%z", &tm) == 5) {
		n = strlen(buf);
		snprintf(buf + n, bufsz - n, "%.3s:%.2s", off, off + 3);
	}
}

/* ---- hosts ---- */

static bool addr_eq(const struct sx_addr *a, const struct sx_addr *b)
{
	if (!a->family || a->family != b->family)
		return false;
	return memcmp(a->b, b->b, a->family == 4 ? 4 : 16) == 0;
}

/* Every address of the end equals one of x, y. */
static bool end_all(const struct sx_mine_end *e, const struct sx_addr *x, const struct sx_addr *y)
{
	uint32_t i;

	if (!e->naddrs)
		return false;
	for (i = 0; i < e->naddrs; i++)
		if (!addr_eq(&e->addrs[i], x) && (!y || !addr_eq(&e->addrs[i], y)))
			return false;
	return true;
}

static const char *group_alias(const struct sx_addr *a)
{
	static const struct {
		uint8_t b[4];
		const char *alias;
	} v4[] = {
	    {{224, 0, 0, 251}, "mdns"},		 {{239, 255, 255, 250}, "ssdp"},
	    {{224, 0, 1, 187}, "coap"},		 {{224, 0, 0, 22}, "igmpv3"},
	    {{255, 255, 255, 255}, "broadcast"},
	};
	size_t i;

	if (a->family != 4)
		return NULL;
	for (i = 0; i < sizeof(v4) / sizeof(v4[0]); i++)
		if (memcmp(a->b, v4[i].b, 4) == 0)
			return v4[i].alias;
	return NULL;
}

/* An IGMP group as the firewall's igmp translator names it: all, mdns, ssdp,
 * coap, or the address. */
static const char *igmp_group_name(const char *group)
{
	struct sx_addr g = {.family = 4};
	const char *alias;

	if (inet_pton(AF_INET, group, g.b) != 1)
		return group;
	if (memcmp(g.b, (uint8_t[4]){224, 0, 0, 2}, 4) == 0)
		return "all";
	alias = group_alias(&g);
	return alias && strcmp(alias, "igmpv3") && strcmp(alias, "broadcast") ? alias : group;
}

static bool addr_is_group(const struct sx_addr *a)
{
	if (a->family == 4)
		return a->b[0] >= 224 || (a->b[0] == 255 && a->b[1] == 255);
	return a->family == 6 && a->b[0] == 0xff;
}

/*
 * Text from the network that becomes a rule.  The firewall reads "$." as a
 * wildcard and matches a plain name by its suffix after the first label, so
 * a name a device (or whoever answers its queries) chose could widen a rule
 * ("$.com", ".com", "*.com", "x..com"): a name is written only when it holds
 * no '*' and no '$' and no empty label.  Other bytes are left alone: they
 * cannot widen a rule (at worst it matches nothing), and DNS-SD instance
 * names legitimately hold spaces and brackets ("Hue [01:02]._hue._tcp").
 * The miner's own generalisation, "*.suffix", is accepted when the suffix
 * is such a name of two labels or more (the miner never goes above a
 * registrable domain, mine/domains.c); a literal "*.x.y" from the network is
 * indistinguishable from it and means the same rule.  An end whose name
 * fails is written by its addresses instead; a DNS, HTTP or CoAP policy
 * whose name or path fails is left out with a warning (the firewall then
 * blocks that traffic): writing it without the field would allow more
 * than the device did.
 */
static bool host_name_ok(const char *s, unsigned min_labels)
{
	size_t n = 0, label = 0;
	unsigned labels = 0;

	for (; s[n]; n++) {
		unsigned char ch = (unsigned char)s[n];

		if (ch == '.') {
			if (!label)
				return false;
			labels++;
			label = 0;
		} else if (ch == '*' || ch == '$' || ch < 0x20 || ch > 0x7e) {
			return false;
		} else {
			label++;
		}
	}
	return n > 0 && label > 0 && labels + 1 >= min_labels;
}

static bool rule_name_ok(const char *name, bool generalised_ok)
{
	if (generalised_ok && name[0] == '*' && name[1] == '.')
		return host_name_ok(name + 2, 2);
	return host_name_ok(name, 1);
}

/* A path as the miner gives it: printable text with no '$' and no '*' but a
 * final one; with_query: the query is written too (CoAP), else it is cut
 * (HTTP). */
static bool rule_uri_ok(const char *uri, bool with_query)
{
	size_t n = with_query ? strlen(uri) : strcspn(uri, "?"), i;

	for (i = 0; i < n; i++)
		if (uri[i] == '$' || (uri[i] == '*' && i + 1 < n) || uri[i] < ' ' || uri[i] > '~')
			return false;
	return true;
}

/* Whether a DNS policy of the profile allows a query for name, so that the
 * firewall's DNS table will hold its addresses (by this exact name).  The
 * firewall learns a name only from an entry of that exact name: for a
 * wildcard "$.suffix" it looks the answers up under "suffix" itself
 * (callback.c.j2 hands dns_get_ip_from_name() the rule's match, and
 * dns.py's match of a wildcard is the bare suffix).  So a wildcard covers a
 * name here because its DNS policy is written with that exact name before
 * the wildcard (emit_dns(): the name ends it covers). */
static bool dns_entry_allows(const char *d, const char *name)
{
	size_t n = strlen(name), k;

	if (d[0] == '*' && d[1] == '.') {
		k = strlen(d + 1); /* ".suffix" */
		return n > k && !strcasecmp(name + n - k, d + 1);
	}
	return !strcasecmp(d, name);
}

static bool dns_allows(const struct ctx *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->ndns; i++)
		if (dns_entry_allows(c->dns_names[i], name))
			return true;
	return false;
}

static bool occ_has(const uint64_t *bits, uint32_t o)
{
	return bits[o / 64] >> (o % 64) & 1;
}

/*
 * Whether, in every occurrence of p, a DNS pattern of the profile asked for
 * one of e's names: the firewall learns the addresses of a name end only
 * from the lookups it lets through, and a device that reached the server
 * without asking (its own cache, an earlier lookup) is matched only by the
 * address itself.  True when occurrences are unknown (a result built by
 * hand).
 */
static bool asked_every_time(const struct ctx *c, const struct sx_mine_pattern *p,
			     const struct sx_mine_end *e)
{
	uint32_t o, i;
	size_t k;

	if (!p->occ_bits)
		return true;
	for (o = 0; o < c->noccs; o++) {
		bool asked = false;

		if (!occ_has(p->occ_bits, o))
			continue;
		for (k = 0; k < c->ndns && !asked; k++)
			for (i = 0; i < e->nnames && !asked; i++)
				asked = c->dns_occ[k] && occ_has(c->dns_occ[k], o) &&
					dns_entry_allows(c->dns_names[k], e->names[i]);
		if (!asked)
			return false;
	}
	return true;
}

/* Whether name end e of p gets a twin policy by its addresses (by_address()). */
static bool needs_twin(const struct ctx *c, const struct sx_mine_pattern *p,
		       const struct sx_mine_end *e)
{
	return e->naddrs && e->naddrs <= NAME_ADDRS_MAX && !asked_every_time(c, p, e);
}

/* Whether every name of e can be an address end (see dns_allows()). */
static bool names_allowed(const struct ctx *c, const struct sx_mine_end *e)
{
	uint32_t i;

	if (!e->nnames)
		return false;
	for (i = 0; i < e->nnames; i++)
		if (!strchr(e->names[i], '.') || !rule_name_ok(e->names[i], false) ||
		    !dns_allows(c, e->names[i]))
			return false;
	return true;
}

/*
 * Whether the group alias of an end may stand for it in pattern p: an alias
 * named for a protocol (mdns, ssdp, coap) says what the traffic is, so a
 * TCP or UDP pattern of another service to that group (WS-Discovery on UDP
 * 3702 to 239.255.255.250, the SSDP group) is written with the address.
 */
static bool alias_fits(const char *alias, const struct sx_mine_pattern *p)
{
	if (!alias || (p->ip_proto != 6 && p->ip_proto != 17))
		return alias != NULL;
	if (!strcmp(alias, "ssdp"))
		return p->app.proto == SX_P_SSDP || p->fixed_port == 1900;
	if (!strcmp(alias, "mdns"))
		return p->app.proto == SX_P_MDNS || p->fixed_port == 5353;
	if (!strcmp(alias, "coap"))
		return p->app.proto == SX_P_COAP || p->fixed_port == 5683;
	return true;
}

/*
 * An unnamed end of public IPv4 servers that the device reaches by another
 * address nearly every time (STUN and relay servers its cloud hands out):
 * at least POOL_MIN addresses, and at least one per two occurrences of the
 * pattern.  A list of them would deny the next one, so the end is the
 * firewall's "external" (any address outside the LAN), the port staying
 * fixed, as the experts write public NTP servers.  A peer-to-peer pattern
 * (UDP between dynamic ports on both ends, merge.c's pool: a camera's
 * stream to its app through the phone's public address) needs one: its
 * ports rotate as well, and the next session's peer is wherever the phone
 * is, though the captures' phone kept one network (the testbed's Xiaomi
 * camera met its app at 130.104.212.112 in two runs, at 130.104.214.55 in
 * the third; the experts write "external").  Its ports stay each end's
 * dynamic range, so a service's port is never admitted through it.
 */
#define POOL_MIN 4

static bool rotating_pool(const struct sx_mine_pattern *p, const struct sx_mine_end *e)
{
	uint32_t min = p->fixed_port ? POOL_MIN : p->peer_to_peer ? 1 : UINT32_MAX;

	return e->kind == SX_MINE_HOST_ADDRS && e->scope == SX_MINE_SCOPE_PUBLIC &&
	       e->naddrs >= min && e->addrs[0].family == 4 && e->addrs[e->naddrs - 1].family == 4 &&
	       (p->peer_to_peer || (uint64_t)e->naddrs * 2 >= p->support);
}

/* fe80:: and fc00::, which no host sends from, standing in an end for the
 * networks fe80::/64 and fc00::/7, the unique local addresses
 * (rotating_v6_as_nets()); end_addr_str() writes them so. */
static const struct sx_addr link_local_net = {.family = 6, .b = {0xfe, 0x80}};
static const struct sx_addr ula_net = {.family = 6, .b = {0xfc}};

/* An address of an end as a profile writes it. */
static const char *end_addr_str(const struct sx_addr *a, char *buf, size_t bufsz)
{
	if (!sx_addr_cmp(a, &link_local_net)) {
		snprintf(buf, bufsz, "fe80::/64");
		return buf;
	}
	if (!sx_addr_cmp(a, &ula_net)) {
		snprintf(buf, bufsz, "fc00::/7");
		return buf;
	}
	return sx_addr_str(a, buf, bufsz);
}

/*
 * The networks of an unnamed end of two or more public IPv4 servers,
 * space-separated in buf; returns how many items it wrote, 0 when none:
 *   - the /24 that holds them all (a provider's pool: 195.65.87.71, .72,
 *     .73);
 *   - else, when the end is a service's (a fixed port) and rotates, a new
 *     address nearly every occurrence (at least half as many addresses as
 *     the support asks occurrences): the /16 that holds them all, as the
 *     firewall's authors write the Xiaomi camera's cloud, 120.92.0.0/16
 *     (120.92.145.133, .141.99 and .96.155 in three runs); or, in no one
 *     network, the addresses of each /16 that holds two or more as that
 *     network (its /24 when one holds them) and the others as they are,
 *     when no more stand alone than networks hold the rest (the camera's
 *     TLS cloud beside 20.47.97.231, met in every run).  A STUN relay
 *     handed out anywhere in a cloud provider's space (WeMoLink's on TCP
 *     3478) has more alone: rotating_pool() writes it "external".
 * Never a peer-to-peer end's: its peers are not servers (rotating_pool()).
 */
static unsigned pool_nets(const struct sx_mine_pattern *p, const struct sx_mine_end *e, char *buf,
			  size_t bufsz)
{
	bool rotates = p->fixed_port && (uint64_t)e->naddrs * 2 >= p->support, net24 = false;
	uint32_t i, j, nets = 0, lone = 0;
	size_t len = 0;

	if (e->kind != SX_MINE_HOST_ADDRS || e->scope != SX_MINE_SCOPE_PUBLIC || e->naddrs < 2 ||
	    p->peer_to_peer)
		return 0;
	for (i = 0; i < e->naddrs; i++)
		if (e->addrs[i].family != 4)
			return 0;
	for (i = 0; i < e->naddrs; i = j) { /* addresses are sorted: a /16's are adjacent */
		const uint8_t *a = e->addrs[i].b;
		bool one24 = true;
		int w;

		for (j = i + 1; j < e->naddrs && !memcmp(e->addrs[j].b, a, 2); j++)
			one24 &= !memcmp(e->addrs[j].b, a, 3);
		if (j - i >= 2) {
			nets++;
			net24 = one24;
			w = one24 ? snprintf(buf + len, bufsz - len, "%s%u.%u.%u.0/24",
					     len ? " " : "", a[0], a[1], a[2])
				  : snprintf(buf + len, bufsz - len, "%s%u.%u.0.0/16",
					     len ? " " : "", a[0], a[1]);
		} else {
			char addr[ADDR_TEXT_MAX];

			lone++;
			w = snprintf(buf + len, bufsz - len, "%s%s", len ? " " : "",
				     sx_addr_str(&e->addrs[i], addr, sizeof(addr)));
		}
		if (w < 0 || (size_t)w >= bufsz - len)
			return 0;
		len += (size_t)w;
	}
	if (nets == 1 && !lone)
		return rotates || net24; /* one network holds them all */
	return rotates && nets && lone <= nets ? nets + lone : 0;
}

static void resolve_host(const struct ctx *c, const struct sx_mine_pattern *p,
			 const struct sx_mine_end *e, struct host *h)
{
	char addr[ADDR_TEXT_MAX];
	const char *alias;
	unsigned nets;

	memset(h, 0, sizeof(*h));
	h->group = e->naddrs > 0 && addr_is_group(&e->addrs[0]);
	if (end_all(e, &c->dev4, &c->dev6)) {
		h->form = HOST_ONE;
		h->self = true;
		snprintf(h->text, sizeof(h->text), "self");
		snprintf(h->label, sizeof(h->label), "device");
		return;
	}
	alias = end_all(e, &c->gateway, NULL) ? "gateway"
		: end_all(e, &c->phone, NULL) ? "phone"
		: e->naddrs == 1	      ? group_alias(&e->addrs[0])
					      : NULL;
	if (!alias_fits(alias, p))
		alias = NULL;
	if (alias) {
		h->form = HOST_ONE;
		snprintf(h->text, sizeof(h->text), "%s", alias);
	} else if (e->kind == SX_MINE_HOST_NAME && strchr(e->name, '.') &&
		   rule_name_ok(e->name, false) && dns_allows(c, e->name)) {
		h->form = HOST_ONE;
		h->name = true;
		snprintf(h->text, sizeof(h->text), "%s", e->name);
		h->end = e;
		h->addrs = needs_twin(c, p, e);
	} else if (e->kind == SX_MINE_HOST_DOMAIN && e->name[0] == '*' && e->name[1] == '.' &&
		   names_allowed(c, e)) {
		/* "$.suffix" is a wildcard of DNS domain-name only: an address
		 * end names each host */
		h->form = HOST_NAMES;
		h->name = true;
		h->end = e;
		h->addrs = needs_twin(c, p, e);
		snprintf(h->label, sizeof(h->label), "%s", e->name + 2);
		return;
	} else if ((nets = pool_nets(p, e, h->text, sizeof(h->text))) == 1) {
		h->form = HOST_ONE;
	} else if (nets) {
		h->form = HOST_NETS;
		snprintf(h->label, sizeof(h->label), "%.*s", (int)strcspn(h->text, " /"), h->text);
		return;
	} else if (rotating_pool(p, e)) {
		h->form = HOST_ONE;
		snprintf(h->text, sizeof(h->text), "external");
	} else if (e->naddrs == 1) {
		h->form = HOST_ONE;
		snprintf(h->text, sizeof(h->text), "%s",
			 end_addr_str(&e->addrs[0], addr, sizeof(addr)));
	} else if (e->naddrs > 1) {
		h->form = HOST_LIST;
		h->end = e;
		snprintf(h->label, sizeof(h->label), "%s",
			 end_addr_str(&e->addrs[0], addr, sizeof(addr)));
		return;
	} else {
		snprintf(h->label, sizeof(h->label), "%s", e->shown[0] ? e->shown : "unknown");
		return;
	}
	snprintf(h->label, sizeof(h->label), "%s", h->text[0] == '$' ? h->text + 2 : h->text);
}

static void emit_host(struct sx_yw *w, const char *key, const struct host *h)
{
	char addr[ADDR_TEXT_MAX];
	uint32_t i;

	if (h->form == HOST_NONE)
		return;
	str(w, key);
	if (h->form == HOST_ONE) {
		str(w, h->text);
		return;
	}
	sx_yw_seq_begin(w);
	if (h->form == HOST_NETS) {
		const char *t = h->text;

		while (*t) {
			size_t l = strcspn(t, " ");

			snprintf(addr, sizeof(addr), "%.*s", (int)l, t);
			str(w, addr);
			t += l + (t[l] == ' ');
		}
	} else if (h->form == HOST_NAMES)
		for (i = 0; i < h->end->nnames; i++)
			str(w, h->end->names[i]);
	else
		for (i = 0; i < h->end->naddrs; i++)
			str(w, end_addr_str(&h->end->addrs[i], addr, sizeof(addr)));
	sx_yw_seq_end(w);
}

/* ---- one policy ---- */

static uint8_t other_role(uint8_t role)
{
	return role == SX_MINE_SERVER ? SX_MINE_CLIENT : SX_MINE_SERVER;
}

static const char *transport_key(const struct sx_mine_pattern *p)
{
	switch (p->ip_proto) {
	case 6:
		return "tcp";
	case 17:
		return "udp";
	default:
		return NULL;
	}
}

/* The first word of a policy id (see DESIGN). */
static void what_word(const struct sx_mine_pattern *p, char *buf, size_t bufsz)
{
	const char *t = transport_key(p);
	char num[16];

	if (sx_mine_arp_op(p)) {
		snprintf(buf, bufsz, "arp-%s", sx_mine_arp_op(p));
		return;
	}
	switch (p->app.proto) {
	case SX_P_DNS:
		snprintf(buf, bufsz, "dns");
		return;
	case SX_P_MDNS:
		snprintf(buf, bufsz, "mdns");
		return;
	case SX_P_LLMNR:
		snprintf(buf, bufsz, "llmnr");
		return;
	case SX_P_TLS:
		snprintf(buf, bufsz, "%s", p->fixed_port == 443 ? "https" : "tls");
		return;
	case SX_P_HTTP:
		snprintf(buf, bufsz, "http");
		return;
	case SX_P_COAP:
		snprintf(buf, bufsz, "coap");
		return;
	case SX_P_SSDP:
		snprintf(buf, bufsz, "ssdp");
		return;
	case SX_P_DHCP:
		snprintf(buf, bufsz, "dhcp");
		return;
	case SX_P_NTP:
		snprintf(buf, bufsz, "ntp");
		return;
	case SX_P_MQTT:
		snprintf(buf, bufsz, "mqtt");
		return;
	default:
		break;
	}
	if (p->ip_proto == 17 && p->fixed_port == 3702)
		snprintf(buf, bufsz, "ws-discovery"); /* SOAP-over-UDP, not SSDP */
	else if (p->ip_proto == 1)
		snprintf(buf, bufsz, "icmp");
	else if (p->ip_proto == 58)
		snprintf(buf, bufsz, "icmpv6");
	else if (p->ip_proto == 2)
		snprintf(buf, bufsz, "igmp");
	else if (t && p->fixed_port)
		snprintf(buf, bufsz, "%s-%u", t, p->fixed_port);
	else if (t)
		snprintf(buf, bufsz, "%s", t);
	else
		snprintf(buf, bufsz, "ip-%s", sx_ip_proto_name(p->ip_proto, num, sizeof(num)));
}

static bool has_dns_section(const struct sx_mine_pattern *p)
{
	uint8_t a = p->app.proto;

	return p->app.dns_name[0] && (a == SX_P_DNS || a == SX_P_MDNS || a == SX_P_LLMNR);
}

/*
 * Whether p's policies get an http section.  The firewall's parser takes a
 * segment for a request only when it goes to TCP port 80
 * (parsers/src/http.c: is_request = dst_port == 80), and its HTTP callback
 * demands a request of an http policy's packets that start like one: an
 * http section on another port (the Edimax plug's POST /smartplug.cgi
 * served on 10000) denies every request.  Such a pattern is written at the
 * transport level (addresses and ports) instead.
 */
static bool http_section(const struct sx_mine_pattern *p)
{
	return p->app.proto == SX_P_HTTP && p->ip_proto == 6 && p->fixed_port == 80;
}

static bool id_used(const struct ctx *c, size_t upto, const char *id)
{
	size_t i;

	for (i = 0; i < upto; i++)
		if (strcmp(c->pols[i].id, id) == 0)
			return true;
	return false;
}

static void make_id(struct ctx *c, size_t i)
{
	struct policy *pol = &c->pols[i];
	const struct sx_mine_pattern *p = pol->p;
	char what[32], raw[3 * HOST_TEXT_MAX], base[ID_MAX];
	unsigned n;

	what_word(p, what, sizeof(what));
	if (pol->mdns_response) /* the same answers go out over both families */
		snprintf(raw, sizeof(raw), "%s answers %s%s", what,
			 pol->src.self ? "from device" : pol->src.label,
			 pol->family == 6 ? " ipv6" : "");
	else if (has_dns_section(p))
		snprintf(raw, sizeof(raw), "%s %s", what, p->app.dns_name);
	else if (p->app.proto == SX_P_MDNS && p->end[pol->src_role].local_name[0])
		snprintf(raw, sizeof(raw), "%s %s", what, p->end[pol->src_role].local_name);
	else if (p->ip_proto == 2 && p->app.igmp_group[0])
		snprintf(raw, sizeof(raw), "%s %s", what, igmp_group_name(p->app.igmp_group));
	else if (pol->arp_op && pol->src.self && pol->dst.self)
		snprintf(raw, sizeof(raw), "%s gratuitous", what);
	else if (pol->src.self && pol->dst.self)
		snprintf(raw, sizeof(raw), "%s device", what);
	else if (pol->src.self && !strcmp(pol->dst.label, what)) /* not "ssdp-ssdp" */
		snprintf(raw, sizeof(raw), "%s from device", what);
	else if (pol->src.self)
		snprintf(raw, sizeof(raw), "%s %s", what, pol->dst.label);
	else if (pol->dst.self)
		snprintf(raw, sizeof(raw), "%s %s to device", what, pol->src.label);
	else
		snprintf(raw, sizeof(raw), "%s %s to %s", what, pol->src.label, pol->dst.label);
	/* Room for a "-NNN" suffix. */
	sx_emit_profile_id(raw, base, sizeof(base) - 8);
	if (!base[0])
		snprintf(base, sizeof(base), "policy");
	snprintf(pol->id, sizeof(pol->id), "%s", base);
	for (n = 2; id_used(c, i, pol->id); n++)
		if ((size_t)snprintf(pol->id, sizeof(pol->id), "%s-%u", base, n) >= sizeof(pol->id))
			break; /* cannot happen: base leaves room for the suffix */
}

static void coap_request(const struct sx_mine_pattern *p, char *type, size_t tsz, char *method,
			 size_t msz, char *uri, size_t usz);

/* Whether every question name of p may become a rule; *bad: the first that
 * may not. */
static bool dns_names_ok(const struct sx_mine_pattern *p, const char **bad)
{
	uint32_t i;

	if (!rule_name_ok(p->app.dns_name, true)) {
		*bad = p->app.dns_name;
		return false;
	}
	for (i = 0; i < p->app.ndns_names; i++)
		if (!rule_name_ok(p->app.dns_names[i], true)) {
			*bad = p->app.dns_names[i];
			return false;
		}
	return true;
}

/* Whether the names and URIs the policy would hold may become a rule; warns
 * about the first that may not. */
static bool rule_texts_ok(const struct sx_mine_pattern *p)
{
	char type[sizeof(p->app.coap_type)], method[sizeof(p->app.coap_method)];
	char uri[sizeof(p->app.coap_uri)];
	const char *bad = NULL, *what = NULL;

	if (p->ip_proto == 1 || p->ip_proto == 2 || p->ip_proto == 58)
		return true;
	if (has_dns_section(p) && !dns_names_ok(p, &bad)) {
		what = "DNS name";
	} else if (http_section(p) && !rule_uri_ok(p->app.http_uri, false)) {
		bad = p->app.http_uri;
		what = "HTTP path";
	} else if (p->app.proto == SX_P_COAP) {
		coap_request(p, type, sizeof(type), method, sizeof(method), uri, sizeof(uri));
		if (!rule_uri_ok(uri, true)) {
			bad = p->app.coap_uri;
			what = "CoAP path";
		}
	}
	if (!bad)
		return true;
	sx_log(SX_LOG_WARN,
	       "profile: a pattern left out: its %s \"%s\" cannot be a firewall rule "
	       "(a '*', a '$' or an empty label would widen the rule)",
	       what, bad);
	return false;
}

/* c->dns_names: the names of the DNS policies the profile will hold. */
/* The DNS names of r's patterns into c (dns_names, dns_occ: the lookups'
 * occurrences when own, else NULL); count only, into *total, when c->
 * dns_names is NULL. */
static void dns_names_of(struct ctx *c, const struct sx_mine_result *r, bool own, size_t *total)
{
	const struct sx_mine_pattern *lists[4] = {r->patterns, r->background, r->periodic,
						  r->below};
	uint32_t counts[4] = {r->npatterns, r->nbackground, r->nperiodic, r->nbelow}, i, j;
	const char *bad;
	size_t k;

	for (k = 0; k < 4; k++)
		for (i = 0; i < counts[k]; i++) {
			const struct sx_mine_pattern *p = &lists[k][i];

			if (!c->dns_names) {
				*total += 1 + (size_t)p->app.ndns_names;
				continue;
			}
			if (!has_dns_section(p) || p->app.proto != SX_P_DNS || p->app.mdns ||
			    !dns_names_ok(p, &bad))
				continue;
			c->dns_occ[c->ndns] = own ? p->occ_bits : NULL;
			c->dns_names[c->ndns++] = p->app.dns_name;
			for (j = 0; j < p->app.ndns_names; j++) {
				c->dns_occ[c->ndns] = own ? p->occ_bits : NULL;
				c->dns_names[c->ndns++] = p->app.dns_names[j];
			}
		}
}

/* The names the profile's DNS policies allow: r's, and those of the
 * results it is merged with (cfg->dns_from). */
static int collect_dns_names(struct ctx *c, const struct sx_mine_result *r)
{
	size_t k, total = 1;

	dns_names_of(c, r, true, &total);
	for (k = 0; k < c->cfg->ndns_from; k++)
		dns_names_of(c, c->cfg->dns_from[k], false, &total);
	c->dns_names = calloc(total, sizeof(*c->dns_names));
	c->dns_occ = calloc(total, sizeof(*c->dns_occ));
	if (!c->dns_names || !c->dns_occ)
		return -ENOMEM;
	c->noccs = r->noccs;
	dns_names_of(c, r, true, NULL);
	for (k = 0; k < c->cfg->ndns_from; k++)
		dns_names_of(c, c->cfg->dns_from[k], false, NULL);
	return 0;
}

/* ---- ends: the pairs that occurred ---- */

/* A pair of a policy's ends, keyed for grouping: a[0] the side grouped on. */
struct pr {
	struct sx_addr a[2];
};

static int addr_qcmp(const void *x, const void *y)
{
	return sx_addr_cmp(x, y);
}

static int pr_cmp(const void *x, const void *y)
{
	const struct pr *p = x, *q = y;
	int c = sx_addr_cmp(&p->a[0], &q->a[0]);

	return c ? c : sx_addr_cmp(&p->a[1], &q->a[1]);
}

/* Whether a is an IPv6 address made from the device's MAC (its link-local
 * or SLAAC address): the device's own, whichever of them is "self". */
static bool device_eui64(const struct ctx *c, const struct sx_addr *a)
{
	return c->mac_text[0] && sx_addr_is_eui64_of(a, c->mac);
}

/* Whether a is the unspecified address of its family, 0.0.0.0 or ::. */
static bool addr_is_unspec(const struct sx_addr *a)
{
	static const uint8_t zero[16];

	return a->family && !memcmp(a->b, zero, a->family == 4 ? 4 : 16);
}

/* Whether address a may be the device: one of its addresses (device_eui64()
 * included), or the unspecified address a DHCP client sends from before it
 * has one. */
static bool is_device_addr(const struct ctx *c, const struct sx_addr *a)
{
	if (addr_eq(a, &c->dev4) || addr_eq(a, &c->dev6) || device_eui64(c, a))
		return true;
	return addr_is_unspec(a);
}

static uint32_t family_count(const struct sx_mine_end *e, uint8_t family)
{
	uint32_t i, n = 0;

	for (i = 0; i < e->naddrs; i++)
		n += e->addrs[i].family == family;
	return n;
}

/*
 * The view of end e that holds the addresses addrs[0..n) (of one family):
 * e with those addresses, keeping its names when they are all of its
 * addresses of that family, else named by the addresses alone (which of
 * its names belongs to which address is not known).
 */
static void end_view(const struct sx_mine_end *e, const struct sx_addr *addrs, uint32_t n,
		     uint8_t family, struct sx_mine_end *v)
{
	*v = *e;
	v->addrs = addrs;
	v->naddrs = n;
	if (n == family_count(e, family))
		return;
	v->kind = SX_MINE_HOST_ADDRS;
	v->name[0] = '\0';
	v->names = NULL;
	v->nnames = 0;
	end_addr_str(&addrs[0], v->shown, sizeof(v->shown));
}

/* Policy *n of p (family) between the sources src[0..nsrc) and the
 * destinations dst[0..ndst), every pair of which occurred. */
/* ---- NTP to public servers, the experts' way ---- */

/* NTP from the device to public servers: the device picks another server of
 * its pool at every occurrence, so the addresses seen are never the next
 * ones.  The experts' profiles write such a policy with dst: external (the
 * firewall's alias for any address outside the LAN, protocols/ip.py), and
 * a DNS policy for the servers' names ("$.pool.ntp.org"). */
static bool public_ntp(const struct sx_mine_pattern *p)
{
	return p->ip_proto == 17 && p->fixed_role == SX_MINE_SERVER && p->fixed_port == 123 &&
	       p->end[SX_MINE_SERVER].scope == SX_MINE_SCOPE_PUBLIC;
}

/* Whether wildcard "*.x" covers name (a name or another "*.y"). */
static bool covers(const char *wild, const char *name)
{
	size_t w = strlen(wild + 1), n = strlen(name); /* ".x" */

	return wild[0] == '*' && strcmp(wild, name) && n > w && !strcmp(name + n - w, wild + 1);
}

/*
 * The names of every public NTP pattern's servers (in any list, below the
 * support too), each generalised one label up ("time-b.nist.gov" ->
 * "*.nist.gov", "0.cn.pool.ntp.org" -> "*.cn.pool.ntp.org"; never above
 * its registrable domain), those covered by another dropped; then the
 * first resolver pattern of the result (DNS to port 53) carries them as
 * c->ntp_dns.  No names or no resolver: none.  0 or -ENOMEM.
 */
static int ntp_lookups(struct ctx *c, const struct sx_mine_result *r)
{
	const struct sx_mine_pattern *lists[4] = {r->patterns, r->background, r->periodic,
						  r->below};
	uint32_t counts[4] = {r->npatterns, r->nbackground, r->nperiodic, r->nbelow}, i, j;
	const struct sx_mine_pattern *res = NULL;
	size_t k, total = 0, n = 0, m;

	for (k = 0; k < 4; k++)
		for (i = 0; i < counts[k]; i++) {
			const struct sx_mine_pattern *p = &lists[k][i];

			if (public_ntp(p))
				total += p->end[SX_MINE_SERVER].nnames;
			else if (!res && p->app.proto == SX_P_DNS && !p->app.mdns &&
				 p->fixed_role == SX_MINE_SERVER && p->fixed_port == 53)
				res = p;
		}
	if (!total || !res)
		return 0;
	c->ntp_text = calloc(total, sizeof(*c->ntp_text));
	c->ntp_names = calloc(total, sizeof(*c->ntp_names));
	if (!c->ntp_text || !c->ntp_names)
		return -ENOMEM;
	for (k = 0; k < 4; k++)
		for (i = 0; i < counts[k]; i++) {
			const struct sx_mine_end *e = &lists[k][i].end[SX_MINE_SERVER];

			if (!public_ntp(&lists[k][i]))
				continue;
			for (j = 0; j < e->nnames; j++) {
				const char *name = e->names[j], *reg, *up;

				if (!strchr(name, '.') || !rule_name_ok(name, false))
					continue;
				reg = sx_mine_registrable_domain(name);
				up = strchr(name, '.') + 1;
				if (strlen(up) >= strlen(reg) && reg != name)
					snprintf(c->ntp_text[n], SX_NAME_MAX, "*.%s", up);
				else
					snprintf(c->ntp_text[n], SX_NAME_MAX, "%s", name);
				c->ntp_names[n] = c->ntp_text[n];
				n++;
			}
		}
	qsort(c->ntp_names, n, sizeof(*c->ntp_names), sx_str_qcmp);
	for (i = 0, m = 0; i < n; i++) {
		bool drop = m && !strcmp(c->ntp_names[m - 1], c->ntp_names[i]);

		for (j = 0; j < n && !drop; j++)
			drop = covers(c->ntp_names[j], c->ntp_names[i]);
		if (!drop)
			c->ntp_names[m++] = c->ntp_names[i];
	}
	if (!m)
		return 0;
	c->ntp_dns = *res;
	c->ntp_dns.app.dns_names = c->ntp_names;
	c->ntp_dns.app.ndns_names = (uint32_t)m;
	snprintf(c->ntp_dns.app.dns_name, sizeof(c->ntp_dns.app.dns_name), "%s", c->ntp_names[0]);
	snprintf(c->ntp_dns.app.dns_qtype, sizeof(c->ntp_dns.app.dns_qtype), "A");
	c->has_ntp_dns = true;
	return 0;
}

/* Whether p's answers get a policy of their own (see DESIGN: DHCP and CoAP
 * are never bidirectional). */
static bool split_answers(const struct sx_mine_pattern *p)
{
	uint8_t resp = p->initiator == SX_MINE_SERVER ? SX_MINE_CLIENT : SX_MINE_SERVER;

	return (p->ip_proto == 6 || p->ip_proto == 17) &&
	       (p->app.proto == SX_P_DHCP || p->app.proto == SX_P_COAP) && p->pkts[resp].max > 0;
}

/* The name end of h as its addresses (see DESIGN). */
static void host_by_address(struct host *h)
{
	char addr[ADDR_TEXT_MAX];

	if (!h->addrs)
		return;
	h->addrs = false;
	h->name = false;
	if (h->end->naddrs == 1) {
		h->form = HOST_ONE;
		snprintf(h->text, sizeof(h->text), "%s",
			 end_addr_str(&h->end->addrs[0], addr, sizeof(addr)));
	} else {
		h->form = HOST_LIST;
	}
}

/*
 * The policy just added, pols[*n - 1], has a name end whose addresses the
 * firewall may never learn (asked_every_time()): a twin policy with that
 * end written as its addresses goes before it.  One policy cannot hold both: the
 * translator writes an address of a list that also holds names as an
 * NFQueue match that does not compile (ip.py's ip_addr_rule_suffix).  The
 * twin points into the name policy's address views, which the name policy
 * alone owns (vaddrs; the policies are freed together).
 */
static void by_address(struct ctx *c, size_t *n)
{
	struct policy *twin = &c->pols[*n], t;

	*twin = c->pols[*n - 1];
	twin->vaddrs = NULL;
	host_by_address(&twin->src);
	host_by_address(&twin->dst);
	(*n)++;
	make_id(c, *n - 1);
	/* The twin goes first: the name policy sends every packet of its
	 * nftables matches to its queue, whose callback would refuse the
	 * addresses it never learnt (first match wins in the firewall). */
	t = c->pols[*n - 1];
	c->pols[*n - 1] = c->pols[*n - 2];
	c->pols[*n - 2] = t;
}

static int add_policy(struct ctx *c, size_t *n, const struct sx_mine_pattern *p, uint8_t family,
		      bool omit, const struct sx_addr *src, uint32_t nsrc,
		      const struct sx_addr *dst, uint32_t ndst)
{
	struct policy *pol = &c->pols[*n];
	uint8_t init = p->initiator == SX_MINE_SERVER ? SX_MINE_SERVER : SX_MINE_CLIENT;
	uint8_t resp = other_role(init);

	memset(pol, 0, sizeof(*pol));
	if (c->reply_pass) { /* from the responder back to the initiator */
		init = resp;
		resp = other_role(init);
	}
	pol->p = p;
	pol->family = family;
	pol->src_role = init;
	pol->omit = omit;
	pol->mdns_response = c->response_pass;
	pol->reply = c->reply_pass;
	if (omit) {
		(*n)++;
		return 0;
	}
	pol->vaddrs = calloc((size_t)nsrc + ndst + 1, sizeof(*pol->vaddrs));
	if (!pol->vaddrs)
		return -ENOMEM;
	(*n)++;
	memcpy(pol->vaddrs, src, nsrc * sizeof(*src));
	memcpy(pol->vaddrs + nsrc, dst, ndst * sizeof(*dst));
	if (c->reply_pass) { /* src and dst were given from the initiator's side */
		end_view(&p->end[resp], pol->vaddrs, nsrc, family, &pol->view[resp]);
		end_view(&p->end[init], pol->vaddrs + nsrc, ndst, family, &pol->view[init]);
	} else {
		end_view(&p->end[init], pol->vaddrs, nsrc, family, &pol->view[init]);
		end_view(&p->end[resp], pol->vaddrs + nsrc, ndst, family, &pol->view[resp]);
	}
	resolve_host(c, p, &pol->view[init], &pol->src);
	resolve_host(c, p, &pol->view[resp], &pol->dst);
	if (resp == SX_MINE_SERVER && public_ntp(p)) {
		memset(&pol->dst, 0, sizeof(pol->dst));
		pol->dst.form = HOST_ONE;
		snprintf(pol->dst.text, sizeof(pol->dst.text), "external");
		snprintf(pol->dst.label, sizeof(pol->dst.label), "external");
	}
	pol->bidirectional =
	    p->pkts[resp].max > 0 && !pol->dst.group && !split_answers(p) && !c->reply_pass;
	if (pol->reply && (pol->src.group || pol->dst.group))
		pol->omit = true; /* nobody answers from a group address */
	make_id(c, *n - 1);
	if (pol->src.addrs || pol->dst.addrs)
		by_address(c, n);
	return 0;
}

/*
 * The pairs pr[0..np) (sorted, distinct) grouped on a[0]: a run of one a[0]
 * and its set of a[1]; runs with equal sets are one group.  Returns the
 * number of groups; with emit, adds one policy per group (a[0] is the
 * source when key_is_src, else the destination), or a negative error.
 */
static long pair_groups(struct ctx *c, size_t *n, const struct sx_mine_pattern *p, uint8_t family,
			const struct pr *pr, uint32_t np, bool key_is_src, bool emit)
{
	uint32_t *run = calloc((size_t)np + 1, sizeof(*run)), *leader = NULL, nruns = 0, i, j, k;
	struct sx_addr *keys = NULL, *vals = NULL;
	long groups = 0;
	int ret = 0;

	leader = calloc((size_t)np + 1, sizeof(*leader));
	keys = calloc((size_t)np + 1, sizeof(*keys));
	vals = calloc((size_t)np + 1, sizeof(*vals));
	if (!run || !leader || !keys || !vals) {
		groups = -ENOMEM;
		goto out_free;
	}
	for (i = 0; i < np; i++)
		if (!i || sx_addr_cmp(&pr[i].a[0], &pr[i - 1].a[0]))
			run[nruns++] = i;
	run[nruns] = np;
	for (i = 0; i < nruns; i++) {
		uint32_t len = run[i + 1] - run[i];

		leader[i] = i;
		for (j = 0; j < i; j++) {
			if (leader[j] != j || run[j + 1] - run[j] != len)
				continue;
			for (k = 0; k < len; k++)
				if (sx_addr_cmp(&pr[run[i] + k].a[1], &pr[run[j] + k].a[1]))
					break;
			if (k == len) {
				leader[i] = j;
				break;
			}
		}
	}
	for (i = 0; i < nruns; i++) {
		uint32_t nk = 0, nv = 0;

		if (leader[i] != i)
			continue;
		groups++;
		if (!emit)
			continue;
		for (j = i; j < nruns; j++)
			if (leader[j] == i)
				keys[nk++] = pr[run[j]].a[0];
		for (k = run[i]; k < run[i + 1]; k++)
			vals[nv++] = pr[k].a[1];
		ret = key_is_src ? add_policy(c, n, p, family, false, keys, nk, vals, nv)
				 : add_policy(c, n, p, family, false, vals, nv, keys, nk);
		if (ret) {
			groups = ret;
			goto out_free;
		}
	}
out_free:
	free(run);
	free(leader);
	free(keys);
	free(vals);
	return groups;
}

/*
 * The policies of p for one family.  Its ends' address lists pair every
 * source with every destination; a policy holds only pairs that occurred.
 * When the device's address of that family is known, pairs that do not
 * involve the device are left out (another host's traffic that fell in
 * the same cluster), and a pattern with none gives no policy.  In IPv6 the
 * device's are also the addresses made from its MAC (device_eui64(): its
 * link-local address beside a global one given as --ipv6) and those its MAC
 * sent from (v6_from_device()).  When the
 * pairs left are every source with every destination, one policy; else
 * one per group of sources with the same destinations (or of destinations
 * with the same sources, when fewer).
 */
static uint32_t distinct_addrs(struct sx_addr *a, uint32_t n);

/*
 * Whether end e of IPv6 pair q is a link-local address the device's MAC
 * sent from, made (EUI-64) from a locally administered MAC: one of the
 * device's own interfaces, whose MAC it draws at random (the IoT Sentinel
 * D-Link hub sends router solicitations and MLD reports from one or two
 * such addresses besides its own, new ones at every boot).
 */
static bool link_local_of_device(const struct ctx *c, const struct sx_mine_pair *q, unsigned e)
{
	const struct sx_addr *a = &q->addr[e];

	/* fe80::/64: the network's first 8 bytes */
	return c->mac_text[0] && !memcmp(q->mac[e], c->mac, 6) && a->family == 6 &&
	       !memcmp(a->b, link_local_net.b, 8);
}

static bool random_link_local(const struct ctx *c, const struct sx_mine_pair *q, unsigned e)
{
	return link_local_of_device(c, q, e) && sx_addr_is_eui64_local(&q->addr[e]) &&
	       !sx_addr_is_eui64_of(&q->addr[e], c->mac);
}

/*
 * Whether a, an address the device's MAC sent from, belongs to another
 * network than the device's IPv4: outside its /24, and not 0.0.0.0.  A
 * lease of the LAN the profile is for (EdnetCam1's 10.10.10.187 and .62
 * beside its 10.10.10.186) is the device's address, which a profile
 * holds one of (device-info); batch reports the others.
 */
static bool other_network(const struct ctx *c, const struct sx_addr *a)
{
	return a->family == 4 && c->dev4.family == 4 && !addr_is_unspec(a) &&
	       memcmp(a->b, c->dev4.b, 3);
}

/*
 * Whether pair q of p (initiator end init) is the device sending to a group
 * under another network's address (other_network(); a factory default, its
 * previous network's lease:
 * the D-Link DCS-930L's mDNS questions and IGMP reports as 192.168.0.20
 * after it has 10.10.10.58): every one of the pair's flows came from the
 * device's MAC, two flows or more, to a multicast or broadcast address.
 * Unicast is left out: a host that forwards others' traffic with its own
 * MAC (the WeMo access point bridging the phone's) is not the device.
 */
static bool earlier_sender(const struct ctx *c, const struct sx_mine_pair *q, uint8_t init)
{
	uint8_t resp = other_role(init);

	return c->mac_text[0] && q->count >= 2 && !memcmp(q->mac[init], c->mac, 6) &&
	       other_network(c, &q->addr[init]) && addr_is_group(&q->addr[resp]);
}

/*
 * Whether an IPv6 pair has an end whose frames came from the device's MAC
 * under an address that may be the device's: the device under another of
 * its addresses (a ULA or privacy address beside the link-local one that is
 * "self"; the traffic the firewall takes for the device's, by its MAC), or
 * a link-local address of one of its own interfaces (random_link_local()).
 * An address made from another vendor's MAC (EUI-64 of a universal MAC) is
 * that host's, whatever MAC carried it: a bridge that rewrites the source
 * MAC.  IPv4's unicast under another address stays out (earlier_sender():
 * an access point forwarding a phone's traffic).
 */
static bool v6_from_device(const struct ctx *c, const struct sx_mine_pair *q)
{
	unsigned e;

	for (e = 0; c->mac_text[0] && e < 2; e++)
		if (!memcmp(q->mac[e], c->mac, 6) &&
		    (!sx_addr_is_eui64(&q->addr[e]) || sx_addr_is_eui64_of(&q->addr[e], c->mac) ||
		     random_link_local(c, q, e)))
			return true;
	return false;
}

/*
 * Whether end e of IPv6 pair q is a unique local address (fc00::/7) the
 * device's MAC sent from, other than its --ipv6: one the device draws under
 * the LAN's ULA prefix (a temporary or stable-privacy address, RFC 4941 and
 * 7217), another with every prefix the router announces and every few
 * hours (the testbed's SmartThings hub: fd12:49d4:94fb:0:5c6a:... in one
 * run, fdb9:136b:cd34:e86f:5c6a:... in the next).
 */
static bool ula_of_device(const struct ctx *c, const struct sx_mine_pair *q, unsigned e)
{
	const struct sx_addr *a = &q->addr[e];

	return c->mac_text[0] && !memcmp(q->mac[e], c->mac, 6) && a->family == 6 &&
	       (a->b[0] & 0xfe) == 0xfc && sx_addr_cmp(a, &ula_net) &&
	       (c->dev6.family != 6 || sx_addr_cmp(a, &c->dev6));
}

/* Whether pairs[0..n) hold two distinct ends or more that is() takes. */
static bool several_ends(const struct ctx *c, const struct sx_mine_pair *pairs, size_t n,
			 bool (*is)(const struct ctx *, const struct sx_mine_pair *, unsigned))
{
	const struct sx_addr *first = NULL;
	size_t k;
	unsigned e;

	for (k = 0; k < n; k++)
		for (e = 0; e < 2; e++)
			if (is(c, &pairs[k], e)) {
				if (!first)
					first = &pairs[k].addr[e];
				else if (sx_addr_cmp(first, &pairs[k].addr[e]))
					return true;
			}
	return false;
}

/*
 * Whether the device's unique local addresses (ula_of_device()), over
 * every pattern of r, lie in two /64 prefixes or more: the LAN's ULA prefix
 * changed between the captures (a router reset draws another), and the
 * device's address under the next one, even the one its MAC makes, is
 * another again.
 */
static bool ula_prefixes_change(const struct ctx *c, const struct sx_mine_result *r)
{
	const struct sx_mine_pattern *const sets[] = {r->patterns, r->background, r->periodic,
						      r->below};
	const uint32_t counts[] = {r->npatterns, r->nbackground, r->nperiodic, r->nbelow};
	const struct sx_addr *first = NULL;
	uint32_t s, i, k;
	unsigned e;

	for (s = 0; s < 4; s++)
		for (i = 0; i < counts[s]; i++)
			for (k = 0; k < sets[s][i].npairs; k++)
				for (e = 0; e < 2; e++) {
					const struct sx_mine_pair *q = &sets[s][i].pairs[k];

					if (!ula_of_device(c, q, e))
						continue;
					if (!first)
						first = &q->addr[e];
					else if (memcmp(first->b, q->addr[e].b, 8))
						return true;
				}
	return false;
}

/*
 * Addresses the device draws anew, in pairs[0..n) (a copy of p's): a
 * literal would admit nothing the next time.  When they hold two distinct
 * random_link_local() ends or more (one per boot), the link-local ends the
 * device's MAC sent from, its own address too, become link_local_net,
 * fe80::/64; when they hold two distinct ula_of_device() ends or more, or
 * the device's ULA prefix changed (ula_prefixes_change()), those become
 * ula_net, fc00::/7 (the LAN's, whatever its prefix: the frames are the
 * device's by its MAC).
 */
static void rotating_v6_as_nets(const struct ctx *c, struct sx_mine_pair *pairs, size_t n)
{
	bool ll = several_ends(c, pairs, n, random_link_local);
	bool ula = c->ula_prefixes || several_ends(c, pairs, n, ula_of_device);
	size_t k;
	unsigned e;

	for (k = 0; (ll || ula) && k < n; k++)
		for (e = 0; e < 2; e++)
			if (ll && link_local_of_device(c, &pairs[k], e))
				pairs[k].addr[e] = link_local_net;
			else if (ula && ula_of_device(c, &pairs[k], e))
				pairs[k].addr[e] = ula_net;
}

static int family_policies(struct ctx *c, size_t *n, const struct sx_mine_pattern *p,
			   uint8_t family, bool omit)
{
	uint8_t init = p->initiator == SX_MINE_SERVER ? SX_MINE_SERVER : SX_MINE_CLIENT;
	uint8_t resp = other_role(init);
	const struct sx_addr *dev = family == 4 ? &c->dev4 : &c->dev6;
	const struct sx_mine_end *ei = &p->end[init], *er = &p->end[resp];
	/* A result without pairs (one built by hand): every pair of the ends. */
	size_t max = p->npairs ? p->npairs : (size_t)ei->naddrs * er->naddrs;
	struct pr *pr = calloc(max + 1, sizeof(*pr));
	struct sx_addr *src = NULL, *dst = NULL, *esrc = NULL, *edst = NULL;
	struct sx_mine_pair *pairs = NULL; /* IPv6: p's, rotating_v6_as_nets() */
	uint32_t np = 0, nall = 0, nsrc = 0, ndst = 0, ne = 0, i;
	size_t k;
	long by_src, by_dst;
	int ret = -ENOMEM;

	src = calloc(max + 1, sizeof(*src));
	dst = calloc(max + 1, sizeof(*dst));
	esrc = calloc(max + 1, sizeof(*esrc));
	edst = calloc(max + 1, sizeof(*edst));
	if (family == 6 && p->npairs) {
		pairs = calloc(p->npairs, sizeof(*pairs));
		if (pairs) {
			memcpy(pairs, p->pairs, p->npairs * sizeof(*pairs));
			rotating_v6_as_nets(c, pairs, p->npairs);
		}
	}
	if (!pr || !src || !dst || !esrc || !edst || (family == 6 && p->npairs && !pairs))
		goto out_free;
	for (k = 0; k < max; k++) {
		struct sx_mine_pair q;

		if (p->npairs) {
			q = pairs ? pairs[k] : p->pairs[k];
		} else {
			q.addr[init] = ei->addrs[k / er->naddrs];
			q.addr[resp] = er->addrs[k % er->naddrs];
		}
		if (q.addr[init].family != family || q.addr[resp].family != family)
			continue;
		nall++;
		if (dev->family && !is_device_addr(c, &q.addr[init]) &&
		    !is_device_addr(c, &q.addr[resp]) &&
		    !(family == 6 && p->npairs && v6_from_device(c, &q))) {
			if (p->npairs && earlier_sender(c, &q, init)) {
				esrc[ne] = q.addr[init];
				edst[ne++] = q.addr[resp];
			}
			continue;
		}
		pr[np].a[0] = q.addr[init];
		pr[np++].a[1] = q.addr[resp];
	}
	ret = 0;
	if (!np) {
		if (nall && !ne)
			sx_log(
			    SX_LOG_INFO,
			    "profile: pattern %s left out: none of its flows involves the device",
			    p->id);
		goto out_free;
	}
	qsort(pr, np, sizeof(*pr), pr_cmp);
	/* pairs made equal by rotating_v6_as_nets(): once */
	for (i = 0, nall = 0; i < np; i++)
		if (!nall || pr_cmp(&pr[nall - 1], &pr[i]))
			pr[nall++] = pr[i];
	np = nall;
	for (i = 0; i < np; i++) {
		src[nsrc] = pr[i].a[0];
		nsrc += !nsrc || sx_addr_cmp(&src[nsrc - 1], &pr[i].a[0]);
		dst[ndst++] = pr[i].a[1];
	}
	qsort(dst, ndst, sizeof(*dst), addr_qcmp);
	for (i = 0, nall = 0; i < ndst; i++)
		if (!nall || sx_addr_cmp(&dst[nall - 1], &dst[i]))
			dst[nall++] = dst[i];
	ndst = nall;
	if (omit || (uint64_t)nsrc * ndst == np) {
		ret = add_policy(c, n, p, family, omit, src, nsrc, dst, ndst);
		goto out_free;
	}
	by_src = pair_groups(c, n, p, family, pr, np, true, false);
	for (i = 0; i < np; i++) {
		struct sx_addr t = pr[i].a[0];

		pr[i].a[0] = pr[i].a[1];
		pr[i].a[1] = t;
	}
	qsort(pr, np, sizeof(*pr), pr_cmp);
	by_dst = pair_groups(c, n, p, family, pr, np, false, false);
	if (by_src < 0 || by_dst < 0) {
		ret = -ENOMEM;
		goto out_free;
	}
	if (by_src <= by_dst) {
		for (i = 0; i < np; i++) {
			struct sx_addr t = pr[i].a[0];

			pr[i].a[0] = pr[i].a[1];
			pr[i].a[1] = t;
		}
		qsort(pr, np, sizeof(*pr), pr_cmp);
	}
	by_src = pair_groups(c, n, p, family, pr, np, by_src <= by_dst, true);
	ret = by_src < 0 ? (int)by_src : 0;
out_free:
	/* the device's group traffic under an earlier address: a policy of
	 * its own after the others, that address written as it is */
	if (!ret && ne) {
		char a[ADDR_TEXT_MAX];

		sx_log(SX_LOG_INFO, "profile: pattern %s: the device's MAC also sent it as %s",
		       p->id, sx_addr_str(&esrc[0], a, sizeof(a)));
		ret = add_policy(c, n, p, family, omit, esrc, distinct_addrs(esrc, ne), edst,
				 distinct_addrs(edst, ne));
	}
	free(pairs);
	free(pr);
	free(src);
	free(dst);
	free(esrc);
	free(edst);
	return ret;
}

/* ---- ARP ---- */

/* The firewall's ARP aliases (protocols/arp.py): its own fixed addresses. */
static const struct {
	uint8_t mac[6];
	const char *alias;
} arp_mac_aliases[] = {
    {{0xc0, 0x56, 0x27, 0x73, 0x46, 0x0b}, "gateway"},
    {{0x3c, 0xcd, 0x5d, 0xa2, 0xa9, 0xd7}, "phone"},
    {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "broadcast"},
};
static const uint8_t arp_local_net[3] = {192, 168, 1}; /* "local": 192.168.1.0/24 */

/* A hardware address as an arp policy writes it (see DESIGN). */
static void arp_mac_text(const struct ctx *c, const uint8_t mac[6], char *buf, size_t bufsz)
{
	size_t i;

	if (sx_mac_is_zero(mac)) {
		snprintf(buf, bufsz, "default");
		return;
	}
	if (c->mac_text[0] && !memcmp(mac, c->mac, 6)) {
		snprintf(buf, bufsz, "self");
		return;
	}
	for (i = 0; i < SX_ARRAY_SIZE(arp_mac_aliases); i++)
		if (!memcmp(mac, arp_mac_aliases[i].mac, 6)) {
			snprintf(buf, bufsz, "%s", arp_mac_aliases[i].alias);
			return;
		}
	sx_mac_str(mac, buf, bufsz);
}

/* An end of other hosts as wide as the LAN: a device asking for this many
 * hosts or more across it (a hub's scan); fewer are named. */
#define ARP_LOCAL_MIN 5

/* How an ARP address is grouped: the device, the --gateway or --phone
 * host, or any other (grouped into one list, or "local"). */
enum arp_class {
	ARP_SELF = 0,
	ARP_GATEWAY,
	ARP_PHONE,
	ARP_OTHER,
	ARP_EARLIER, /* a sender address of the device's MAC that is not its IPv4 */
	ARP_UNSPEC,  /* 0.0.0.0 as the device's: before it has an address */
	ARP__NCLASS,
};

static enum arp_class arp_class_of(const struct ctx *c, const struct sx_addr *a)
{
	if (addr_eq(a, &c->dev4))
		return ARP_SELF;
	if (addr_eq(a, &c->gateway))
		return ARP_GATEWAY;
	if (addr_eq(a, &c->phone))
		return ARP_PHONE;
	return ARP_OTHER;
}

/* The host of an ARP policy's end from its distinct addresses a[0..n) of one
 * class (a owned by the policy); an end of the class OTHER with
 * ARP_LOCAL_MIN addresses or more, all inside the translator's "local", is
 * written "local". */
static void arp_host(struct policy *pol, uint8_t role, enum arp_class cl, const struct sx_addr *a,
		     uint32_t n, struct host *h)
{
	static const char *const names[] = {"self", "gateway", "phone"};
	char addr[ADDR_TEXT_MAX];
	uint32_t i, nlocal = 0;

	memset(h, 0, sizeof(*h));
	for (i = 0; i < n; i++)
		nlocal += !memcmp(a[i].b, arp_local_net, sizeof(arp_local_net));
	h->form = HOST_ONE;
	h->self = cl == ARP_SELF;
	if (cl < ARP_OTHER)
		snprintf(h->text, sizeof(h->text), "%s", names[cl]);
	else if (n == 1)
		sx_addr_str(&a[0], h->text, sizeof(h->text));
	else if (nlocal == n && n >= ARP_LOCAL_MIN && cl == ARP_OTHER)
		snprintf(h->text, sizeof(h->text), "local");
	if (h->text[0]) {
		snprintf(h->label, sizeof(h->label), "%s", h->self ? "device" : h->text);
		return;
	}
	/* a list of addresses: an end view over them */
	pol->view[role] = pol->p->end[role];
	pol->view[role].addrs = a;
	pol->view[role].naddrs = n;
	h->form = HOST_LIST;
	h->end = &pol->view[role];
	snprintf(h->label, sizeof(h->label), "%s", sx_addr_str(&a[0], addr, sizeof(addr)));
}

/* One arp policy of p: the senders s[0..ns) of class sc to the targets
 * t[0..nt) of class tc (distinct, sorted). */
static int arp_policy(struct ctx *c, size_t *n, const struct sx_mine_pattern *p, enum arp_class sc,
		      const struct sx_addr *s, uint32_t ns, enum arp_class tc,
		      const struct sx_addr *t, uint32_t nt)
{
	struct policy *pol = &c->pols[*n];
	const struct sx_mine_end *snd = &p->end[SX_MINE_CLIENT], *tgt = &p->end[SX_MINE_SERVER];
	bool request = !strcmp(sx_mine_arp_op(p), "request");

	memset(pol, 0, sizeof(*pol));
	pol->p = p;
	pol->family = 4;
	pol->src_role = SX_MINE_CLIENT;
	pol->arp_op = sx_mine_arp_op(p);
	pol->vaddrs = calloc((size_t)ns + nt + 1, sizeof(*pol->vaddrs));
	if (!pol->vaddrs)
		return -ENOMEM;
	(*n)++;
	memcpy(pol->vaddrs, s, ns * sizeof(*s));
	memcpy(pol->vaddrs + ns, t, nt * sizeof(*t));
	arp_host(pol, SX_MINE_CLIENT, sc, pol->vaddrs, ns, &pol->src);
	arp_host(pol, SX_MINE_SERVER, tc, pol->vaddrs + ns, nt, &pol->dst);
	/* sha: the device's own; else the sender end's, when it is this one
	 * host */
	if ((sc == ARP_SELF || sc == ARP_EARLIER || sc == ARP_UNSPEC) && c->mac_text[0])
		snprintf(pol->sha, sizeof(pol->sha), "self");
	else if (snd->naddrs == 1 && !sx_mac_is_zero(snd->mac))
		arp_mac_text(c, snd->mac, pol->sha, sizeof(pol->sha));
	/* tha: "default" for requests that never carried one; else the target
	 * end's, when it is the device or this one host */
	if (request) {
		if (sx_mac_is_zero(tgt->mac))
			snprintf(pol->tha, sizeof(pol->tha), "default");
	} else if (!sx_mac_is_zero(tgt->mac) &&
		   (((tc == ARP_SELF || tc == ARP_UNSPEC) && !memcmp(tgt->mac, c->mac, 6)) ||
		    tgt->naddrs == 1)) {
		arp_mac_text(c, tgt->mac, pol->tha, sizeof(pol->tha));
	}
	make_id(c, *n - 1);
	return 0;
}

/* Sorted distinct addresses of a[0..n) in place; returns how many. */
static uint32_t distinct_addrs(struct sx_addr *a, uint32_t n)
{
	uint32_t i, k = 0;

	qsort(a, n, sizeof(*a), addr_qcmp);
	for (i = 0; i < n; i++)
		if (!k || sx_addr_cmp(&a[k - 1], &a[i]))
			a[k++] = a[i];
	return k;
}

/* A (sender, target) pair of an ARP pattern that involves the device. */
struct arp_pair {
	struct sx_addr a[2]; /* [SX_MINE_CLIENT] sender, [SX_MINE_SERVER] target */
	uint8_t cl[2];	     /* enum arp_class of each */
	bool own;	     /* its other host recurs: a policy of its own */
	uint32_t count;	     /* flows */
};

/* The side of pair q that is not the device (the target for gratuitous). */
static const struct sx_addr *arp_peer(const struct arp_pair *q)
{
	uint8_t snd = q->cl[SX_MINE_CLIENT];

	return &q->a[snd == ARP_SELF || snd == ARP_UNSPEC ? SX_MINE_SERVER : SX_MINE_CLIENT];
}

/*
 * Whether side r of pair k of p is the device before it has an address:
 * 0.0.0.0 with the device's MAC (the sender's, or a reply's target), in two
 * flows or more (the Hue bridge asks for the gateway's MAC as 0.0.0.0 before
 * its lease, and the gateway answers to 0.0.0.0, in every setup).
 */
static bool arp_unspec(const struct ctx *c, const struct sx_mine_pattern *p, size_t k, unsigned r)
{
	const struct sx_mine_pair *q = &p->pairs[k];

	return c->mac_text[0] && q->addr[r].family == 4 && addr_is_unspec(&q->addr[r]) &&
	       !memcmp(q->mac[r], c->mac, 6) && q->count >= 2;
}

/* Grouping order: classes, then own before grouped, then the peer. */
static int arp_pair_cmp(const void *x, const void *y)
{
	const struct arp_pair *p = x, *q = y;

	if (p->cl[0] != q->cl[0])
		return p->cl[0] < q->cl[0] ? -1 : 1;
	if (p->cl[1] != q->cl[1])
		return p->cl[1] < q->cl[1] ? -1 : 1;
	if (p->own != q->own)
		return p->own ? -1 : 1;
	return p->own ? sx_addr_cmp(arp_peer(p), arp_peer(q)) : 0;
}

static bool arp_same_group(const struct arp_pair *p, const struct arp_pair *q)
{
	return p->cl[0] == q->cl[0] && p->cl[1] == q->cl[1] && p->own == q->own &&
	       (!p->own || !sx_addr_cmp(arp_peer(p), arp_peer(q)));
}

/*
 * Whether pair k of p is the device asking or answering under another
 * network's address (a factory default, its previous network's lease:
 * other_network()): every one of the pair's flows came from the device's
 * MAC, and it recurs (two flows or more).
 */
static bool arp_earlier(const struct ctx *c, const struct sx_mine_pattern *p, size_t k)
{
	const struct sx_mine_pair *q = &p->pairs[k];

	return c->mac_text[0] && !memcmp(q->mac[SX_MINE_CLIENT], c->mac, 6) && q->count >= 2 &&
	       other_network(c, &q->addr[SX_MINE_CLIENT]);
}

/*
 * The arp policies of p (see DESIGN): its (sender, target) pairs that
 * involve the device's IPv4 address, grouped by the class of each side,
 * and an other host that recurs (its messages with the device in at least
 * as many flows as the pattern has occurrences) in a group of its own;
 * then the device's own messages under another address (arp_earlier()),
 * one policy per such address, and those it sends or is answered as
 * 0.0.0.0 before it has an address (arp_unspec(): spa or tpa 0.0.0.0, sha
 * or tha self).  A pattern without any such pair, or a profile without the
 * device's IPv4 address, gives none.
 */
static int arp_policies(struct ctx *c, size_t *n, const struct sx_mine_pattern *p)
{
	const struct sx_mine_end *es = &p->end[SX_MINE_CLIENT], *et = &p->end[SX_MINE_SERVER];
	size_t max = p->npairs ? p->npairs : (size_t)es->naddrs * et->naddrs, k, j, i;
	struct arp_pair *pr = calloc(max + 1, sizeof(*pr));
	struct sx_addr *s = calloc(max + 1, sizeof(*s)), *t = calloc(max + 1, sizeof(*t));
	uint32_t ns, nt, np = 0;
	char abuf[ADDR_TEXT_MAX];
	int ret = -ENOMEM;

	if (!pr || !s || !t)
		goto out_free;
	ret = 0;
	for (k = 0; k < max; k++) {
		struct arp_pair *q = &pr[np];

		if (p->npairs) {
			q->a[0] = p->pairs[k].addr[0];
			q->a[1] = p->pairs[k].addr[1];
			q->count = p->pairs[k].count;
		} else {
			q->a[SX_MINE_CLIENT] = es->addrs[k / et->naddrs];
			q->a[SX_MINE_SERVER] = et->addrs[k % et->naddrs];
			q->count = p->support;
		}
		if (!c->dev4.family || q->a[0].family != 4 || q->a[1].family != 4)
			continue;
		q->cl[0] = (uint8_t)arp_class_of(c, &q->a[0]);
		q->cl[1] = (uint8_t)arp_class_of(c, &q->a[1]);
		if (q->cl[0] == ARP_OTHER && q->cl[1] != ARP_SELF && p->npairs &&
		    arp_earlier(c, p, k)) {
			q->cl[0] = ARP_EARLIER;
			q->own = true; /* one policy per address */
			sx_log(SX_LOG_INFO, "profile: the device's MAC sent ARP as %s",
			       sx_addr_str(&q->a[0], abuf, sizeof(abuf)));
		}
		if (q->cl[0] != ARP_SELF && q->cl[1] != ARP_SELF && p->npairs)
			for (unsigned r = 0; r < 2; r++)
				if (arp_unspec(c, p, k, r))
					q->cl[r] = ARP_UNSPEC;
		/* else not the device's */
		np += q->cl[0] == ARP_SELF || q->cl[1] == ARP_SELF || q->cl[0] == ARP_EARLIER ||
		      q->cl[0] == ARP_UNSPEC || q->cl[1] == ARP_UNSPEC;
	}
	for (i = 0; i < np; i++) {
		uint64_t sum = 0;

		if ((pr[i].cl[0] != ARP_OTHER && pr[i].cl[1] != ARP_OTHER) ||
		    pr[i].cl[0] == ARP_EARLIER)
			continue;
		for (j = 0; j < np; j++)
			if (pr[j].cl[0] == pr[i].cl[0] && pr[j].cl[1] == pr[i].cl[1] &&
			    !sx_addr_cmp(arp_peer(&pr[j]), arp_peer(&pr[i])))
				sum += pr[j].count;
		pr[i].own = sum >= p->support;
	}
	qsort(pr, np, sizeof(*pr), arp_pair_cmp);
	for (i = 0; !ret && i < np; i = j) {
		ns = nt = 0;
		for (j = i; j < np && arp_same_group(&pr[i], &pr[j]); j++) {
			s[ns++] = pr[j].a[SX_MINE_CLIENT];
			t[nt++] = pr[j].a[SX_MINE_SERVER];
		}
		ns = distinct_addrs(s, ns);
		nt = distinct_addrs(t, nt);
		ret = arp_policy(c, n, p, (enum arp_class)pr[i].cl[0], s, ns,
				 (enum arp_class)pr[i].cl[1], t, nt);
	}
	if (!ret && !np)
		sx_log(SX_LOG_INFO, "profile: ARP pattern %s left out: %s", p->id,
		       c->dev4.family ? "none of its messages involves the device"
				      : "the device's IPv4 address is not known");
out_free:
	free(pr);
	free(s);
	free(t);
	return ret;
}

static int build_policies_once(struct ctx *c, size_t *n, const struct sx_mine_pattern *p, bool omit)
{
	int ret;

	if (p->family)
		return family_policies(c, n, p, p->family, omit);
	ret = family_policies(c, n, p, 4, omit);
	return ret ? ret : family_policies(c, n, p, 6, omit);
}

/*
 * Whether the device answers in an mDNS pattern: its flows carry answers
 * without questions (announcements, "mdns.rr").  The firewall's DNS
 * matches read the first question (protocols/dns.py: qdcount > 0 &&
 * questions->qtype), and a policy without `response: true` matches
 * queries only (qr == 0), so such answers need a policy of their own.
 */
static bool mdns_answers(const struct sx_mine_pattern *p)
{
	uint32_t i;

	if (p->app.proto != SX_P_MDNS)
		return false;
	for (i = 0; i < p->nattrs; i++)
		if (!strcmp(p->attrs[i].key, "mdns.rr"))
			return true;
	return false;
}

/* ---- application variants ---- */

/*
 * Values of one pattern the firewall matches only one per policy: an HTTP
 * policy holds one method and one uri (protocols/http.py: a uri is one
 * string, compared with strncmp), an IGMPv3 policy one group, that of the
 * report's first record (protocols/igmp.py).  A pattern whose flows carry
 * several gets one policy per value, each a copy of the pattern with that
 * value as its consensus (variants_of()):
 *   - HTTP, per method in attribute order: its one path (query cut), else
 *     the paths' longest common prefix up to its last '/' with "*" when
 *     that is more than "/" (GET /scale/register, GET /scale/validate:
 *     "/scale/" and a star), else every path (never "/" and a star);
 *   - IGMP: every (version, type, group) of its reports;
 *   - ICMP (an icmp policy matches one type): every type of its messages
 *     but the replies of a request it also holds (the request's policy is
 *     bidirectional), as the expert profiles write them (EdnetGateway: the
 *     gateway's destination-unreachable and its redirects to the device,
 *     19 of 20 captures, were one pattern and only the first was written).
 * The first variant is the pattern's own consensus when there is one value.
 * An HTTP pattern also gets a policy for each segment of its client that
 * the firewall reads as a request although it is none (the flows' http.fw
 * attributes, held by half its flows or more: fw_reading()): the
 * firewall's parser tells a method by a segment's first letter and reads
 * the path up to the first space (parsers/src/http.c), so a request whose
 * header section comes in a segment of its own is to it a second request,
 * which the request's own policy denies: "Host: www.fitbit.com" a HEAD
 * with an empty path, "Content-Length: 48" a CONNECT of "Length:" (Aria:
 * its GET /scale/register and its POST /scale/upload, each split so,
 * denied in every held-out capture).  Such a policy's uri is the reading
 * itself, exact: it admits those segments and no request of a client.
 */
#define HTTP_PATH_MAX SX_URI_MAX

/* Method and path (query cut) of an http.req value "METHOD:host/path". */
static bool http_req_parts(const char *v, char *method, size_t msz, char *host, size_t hsz,
			   char *path, size_t psz)
{
	const char *c = strchr(v, ':'), *slash;

	if (!c || (size_t)(c - v) >= msz)
		return false;
	slash = strchr(c + 1, '/');
	if (!slash || (size_t)(slash - c - 1) >= hsz)
		return false;
	snprintf(method, msz, "%.*s", (int)(c - v), v);
	snprintf(host, hsz, "%.*s", (int)(slash - c - 1), c + 1);
	snprintf(path, psz, "%.*s", (int)strcspn(slash, "?"), slash);
	return true;
}

/* An http.req attribute j of p: its method, host and path (query cut). */
struct http_req {
	char method[16], host[SX_NAME_MAX], path[HTTP_PATH_MAX];
};

static bool http_attr(const struct sx_mine_pattern *p, uint32_t j, struct http_req *q)
{
	return !strcmp(p->attrs[j].key, "http.req") &&
	       http_req_parts(p->attrs[j].value, q->method, sizeof(q->method), q->host,
			      sizeof(q->host), q->path, sizeof(q->path));
}

/* Adds variant (method, host, uri) of p as out[*n] (when out). */
static void http_variant(const struct sx_mine_pattern *p, struct sx_mine_pattern *out, uint32_t *n,
			 const struct http_req *q, const char *uri)
{
	if (out) {
		struct sx_mine_pattern *v = &out[*n];

		*v = *p;
		/* cut to the pattern's fields, as the miner cuts them */
		sx_text_cat(v->app.http_method, sizeof(v->app.http_method), 0, q->method);
		sx_text_cat(v->app.http_host, sizeof(v->app.http_host), 0, q->host);
		sx_text_cat(v->app.http_uri, sizeof(v->app.http_uri), 0, uri);
	}
	(*n)++;
}

/* Whether an http.req attribute before j has method m (and path, when
 * given). */
static bool http_seen(const struct sx_mine_pattern *p, uint32_t j, const char *m, const char *path)
{
	struct http_req q;
	uint32_t i;

	for (i = 0; i < j; i++)
		if (http_attr(p, i, &q) && !strcmp(q.method, m) && (!path || !strcmp(q.path, path)))
			return true;
	return false;
}

/* An http.fw attribute j of p: the method and path the firewall reads in a
 * segment that is no request (see above; host empty). */
static bool fw_attr(const struct sx_mine_pattern *p, uint32_t j, struct http_req *q)
{
	const char *v = p->attrs[j].value, *c = strchr(v, ':');
	size_t n;

	if (strcmp(p->attrs[j].key, "http.fw") || !c || (size_t)(c - v) >= sizeof(q->method))
		return false;
	n = strlen(c + 1);
	/* a uri ending in '*' or '$' is a prefix to the translator */
	if (n >= sizeof(q->path) || (n && (c[n] == '*' || c[n] == '$')))
		return false;
	snprintf(q->method, sizeof(q->method), "%.*s", (int)(c - v), v);
	q->host[0] = '\0';
	snprintf(q->path, sizeof(q->path), "%s", c + 1);
	return true;
}

/* Whether variant v is a firewall's reading (see above): its method and uri
 * are those of an http.fw attribute of its pattern. */
static bool fw_reading(const struct sx_mine_pattern *v)
{
	struct http_req q;
	uint32_t j;

	if (!http_section(v))
		return false;
	for (j = 0; j < v->nattrs; j++)
		if (fw_attr(v, j, &q) && !strcmp(q.method, v->app.http_method) &&
		    !strcmp(q.path, v->app.http_uri))
			return true;
	return false;
}

static uint32_t http_variants(const struct sx_mine_pattern *p, struct sx_mine_pattern *out)
{
	struct http_req q, r;
	char prefix[HTTP_PATH_MAX + 1];
	uint32_t i, j, n = 0, paths;
	size_t lcp, k;

	for (i = 0; i < p->nattrs; i++) {
		if (!http_attr(p, i, &q) || http_seen(p, i, q.method, NULL))
			continue; /* a method's rules are made at its first attribute */
		lcp = strcspn(q.path, "*");
		paths = 0;
		for (j = i; j < p->nattrs; j++) {
			if (!http_attr(p, j, &r) || strcmp(r.method, q.method) ||
			    http_seen(p, j, r.method, r.path))
				continue;
			paths++;
			for (k = 0; k < lcp && r.path[k] == q.path[k]; k++)
				;
			lcp = k;
		}
		if (paths == 1) {
			http_variant(p, out, &n, &q, q.path);
			continue;
		}
		while (lcp > 0 && q.path[lcp - 1] != '/')
			lcp--;
		if (lcp > 1) {
			snprintf(prefix, sizeof(prefix), "%.*s*", (int)lcp, q.path);
			http_variant(p, out, &n, &q, prefix);
			continue;
		}
		for (j = i; j < p->nattrs; j++)
			if (http_attr(p, j, &r) && !strcmp(r.method, q.method) &&
			    !http_seen(p, j, r.method, r.path))
				http_variant(p, out, &n, &r, r.path);
	}
	for (i = 0; n && i < p->nattrs; i++)
		if (fw_attr(p, i, &q))
			http_variant(p, out, &n, &q, q.path);
	return n;
}

static uint32_t igmp_variants(const struct sx_mine_pattern *p, struct sx_mine_pattern *out)
{
	uint32_t i, n = 0;

	for (i = 0; i < p->nattrs; i++) {
		unsigned ver, type;
		char group[16];

		if (strcmp(p->attrs[i].key, "igmp") ||
		    sscanf(p->attrs[i].value, "v%u:0x%x:%15s", &ver, &type, group) != 3 ||
		    ver >= 4 || type >= 256)
			continue;
		if (out) {
			struct sx_mine_pattern *v = &out[n];

			*v = *p;
			v->app.igmp_version = (int)ver;
			v->app.igmp_type = (int)type;
			snprintf(v->app.igmp_group, sizeof(v->app.igmp_group), "%s", group);
		}
		n++;
	}
	return n;
}

/* The ICMP type of attribute a ("type:code"), -1 when a is not ICMP's. */
static int icmp_attr_type(const struct sx_mine_attr *a)
{
	unsigned t, code;

	if (strcmp(a->key, "icmp") || sscanf(a->value, "%u:%u", &t, &code) != 2 || t > 255)
		return -1;
	return (int)t;
}

/* The request type whose reply is ICMP type t, -1 when t is not a reply. */
static int icmp_request_of(int t)
{
	return t == 0 ? 8 : t == 14 || t == 16 || t == 18 ? t - 1 : -1;
}

/* Whether p's ICMP attributes hold type t. */
static bool icmp_has_type(const struct sx_mine_pattern *p, int t)
{
	for (uint32_t i = 0; i < p->nattrs; i++)
		if (t >= 0 && icmp_attr_type(&p->attrs[i]) == t)
			return true;
	return false;
}

/* The ICMP variants (see above): none when one type is left.  A variant
 * carries no attributes, so that its type is its app.icmp_type alone
 * (icmp_initiator_type()). */
static uint32_t icmp_variants(const struct sx_mine_pattern *p, struct sx_mine_pattern *out)
{
	int types[256];
	uint32_t i, j, n = 0;

	for (i = 0; i < p->nattrs; i++) {
		int t = icmp_attr_type(&p->attrs[i]);

		/* a reply rides on its request's bidirectional policy */
		if (t < 0 || icmp_has_type(p, icmp_request_of(t)))
			continue;
		for (j = 0; j < n && types[j] != t; j++)
			;
		if (j == n)
			types[n++] = t;
	}
	if (n < 2)
		return 0;
	for (i = 0; out && i < n; i++) {
		out[i] = *p;
		out[i].app.icmp_type = types[i];
		out[i].app.icmp_code = -1;
		out[i].attrs = NULL;
		out[i].nattrs = 0;
	}
	return n;
}

/* One variant per SSDP message kind the flows carried, when they carried
 * two or more (a WeMo's NOTIFY announcements and its M-SEARCH queries from
 * one port): the firewall's SSDP parser matches one method per policy. */
static uint32_t ssdp_variants(const struct sx_mine_pattern *p, struct sx_mine_pattern *out)
{
	static const char *const kinds[] = {"M-SEARCH", "NOTIFY", "RESPONSE"};
	const struct sx_mine_attr *first[3] = {NULL, NULL, NULL};
	uint32_t i, k, n = 0;

	if (p->app.proto != SX_P_SSDP)
		return 0;
	for (i = 0; i < p->nattrs; i++)
		for (k = 0; k < 3; k++) {
			size_t len = strlen(kinds[k]);

			if (!first[k] && !strcmp(p->attrs[i].key, "ssdp") &&
			    !strncmp(p->attrs[i].value, kinds[k], len) &&
			    p->attrs[i].value[len] == ':')
				first[k] = &p->attrs[i];
		}
	for (k = 0; k < 3; k++)
		n += first[k] != NULL;
	if (n < 2)
		return 0;
	for (k = 0, n = 0; k < 3; k++) {
		if (!first[k])
			continue;
		if (out) {
			struct sx_mine_pattern *v = &out[n];

			*v = *p;
			snprintf(v->app.ssdp_method, sizeof(v->app.ssdp_method), "%s", kinds[k]);
			snprintf(v->app.ssdp_st, sizeof(v->app.ssdp_st), "%s",
				 first[k]->value + strlen(kinds[k]) + 1);
		}
		n++;
	}
	return n;
}

/* p's variants in out[0..) (when out, room for p->nattrs + 1); how many: 0
 * when p is written as it is. */
static uint32_t variants_of(const struct sx_mine_pattern *p, struct sx_mine_pattern *out)
{
	if (sx_mine_arp_op(p))
		return 0;
	if (p->ip_proto == 2)
		return igmp_variants(p, out);
	if (p->ip_proto == 1)
		return icmp_variants(p, out);
	if (http_section(p))
		return http_variants(p, out);
	return ssdp_variants(p, out);
}

static bool same_matches(const struct policy *a, const struct policy *b);

/* The policies pols[from..to) of a firewall's reading are left out where an
 * earlier pattern's policy of the same reading has the same matches (a GET
 * and a POST pattern to one server, both split before "Host:"): one policy
 * per matching content. */
static void one_reading(struct ctx *c, size_t from, size_t to)
{
	for (size_t k = from; k < to; k++)
		for (size_t j = 0; j < from; j++) {
			struct policy *t = &c->pols[j];
			const struct sx_mine_app *a = &c->pols[k].p->app;

			if (t->omit || !t->p || !fw_reading(t->p) ||
			    strcmp(t->p->app.http_method, a->http_method) ||
			    strcmp(t->p->app.http_uri, a->http_uri) ||
			    !same_matches(&c->pols[k], t))
				continue;
			c->pols[k].omit = true;
			t->bidirectional |= c->pols[k].bidirectional;
			break;
		}
}

static bool has_queue(const struct policy *pol);

/*
 * Whether the policies pols[from..to) of p, single policies, are written
 * one way, their answers with policies of their own (see DESIGN,
 * "States"): one of them is bidirectional and has a queue, p is TCP or UDP,
 * and not DNS (a question and its answer alternate, and the answer must
 * reach the DNS policy that names it, whose queue fills the firewall's DNS
 * table).  Then makes them one-way.
 */
static bool one_way(struct ctx *c, const struct sx_mine_pattern *p, size_t from, size_t to)
{
	bool split = false;
	size_t i;

	if (!c->single_pass || (p->ip_proto != 6 && p->ip_proto != 17) ||
	    p->app.proto == SX_P_DNS || p->app.proto == SX_P_MDNS || p->app.proto == SX_P_LLMNR)
		return false;
	for (i = from; i < to && !split; i++)
		split = !c->pols[i].omit && c->pols[i].bidirectional && has_queue(&c->pols[i]);
	for (i = from; split && i < to; i++)
		c->pols[i].bidirectional = false;
	return split;
}

/* The answers' policies of p (see split_answers() and one_way()), but
 * those an earlier pattern's answers match already (two requests to one
 * server, a GET and a POST pattern: one policy per matching content). */
static int build_answers(struct ctx *c, size_t *n, const struct sx_mine_pattern *p, bool omit)
{
	size_t from = *n, k, j;
	int ret;

	c->reply_pass = true;
	ret = build_policies_once(c, n, p, omit);
	c->reply_pass = false;
	for (k = from; !ret && k < *n; k++)
		for (j = 0; j < from && !c->pols[k].omit; j++)
			c->pols[k].omit = c->pols[j].reply && !c->pols[j].omit &&
					  same_matches(&c->pols[k], &c->pols[j]);
	return ret;
}

/*
 * Whether event pattern p follows o in every occurrence that holds p: o is
 * there too and its first flow starts no later than p's (the miner's first
 * member per occurrence).  True when the starts are unknown.
 */
static bool follows(const struct sx_mine_result *r, const struct sx_mine_pattern *o,
		    const struct sx_mine_pattern *p)
{
	uint32_t k;

	if (!o->occ_first_ns || !p->occ_first_ns)
		return true;
	for (k = 0; k < r->noccs; k++) {
		int64_t t = p->occ_first_ns[k];

		if (t != INT64_MIN && (o->occ_first_ns[k] == INT64_MIN || o->occ_first_ns[k] > t))
			return false;
	}
	return true;
}

static bool pattern_queue(const struct sx_mine_pattern *p);

/* Whether p's policies may have a queue (has_queue(), before they are
 * made): p's section does, or an answers' policy, or a name end. */
static bool may_queue(const struct sx_mine_pattern *p)
{
	return pattern_queue(p) || mdns_answers(p) || p->end[0].nnames || p->end[1].nnames;
}

static void policy_ports(const struct policy *pol, uint16_t *sp, uint16_t *dp);

/* Whether a policy of p may be bidirectional: DHCP and CoAP never are. */
static bool may_answer(const struct sx_mine_pattern *p)
{
	return p->app.proto != SX_P_DHCP && p->app.proto != SX_P_COAP;
}

static bool port_meets(uint16_t a, uint16_t b)
{
	return !a || !b || a == b;
}

/*
 * Whether packets of p may meet the nftables rule of q's policies, either
 * way when one may be bidirectional: the same transport, and the ports
 * their policies write from the initiator (policy_ports()) not apart.
 * Ends are not compared: a name end is matched in the queue, so its rule
 * takes any address.
 */
static bool may_share_rule(const struct sx_mine_pattern *p, const struct sx_mine_pattern *q)
{
	struct policy a = {.p = p, .src_role = p->initiator};
	struct policy b = {.p = q, .src_role = q->initiator};
	uint16_t as, ad, bs, bd;

	if (p->ip_proto != q->ip_proto || (p->family && q->family && p->family != q->family))
		return false;
	policy_ports(&a, &as, &ad);
	policy_ports(&b, &bs, &bd);
	if (port_meets(as, bs) && port_meets(ad, bd))
		return true;
	return (may_answer(p) || may_answer(q)) && port_meets(as, bd) && port_meets(ad, bs);
}

/*
 * The event's leaders (see DESIGN, "States"): lead[i] is set for each
 * pattern that does not follow the opener, the first non-ARP pattern, in
 * every occurrence, and can be a single policy.  A leader that may have a
 * queue stays in the interaction when another event pattern's packets may
 * meet its rule: single policies come first in the firewall, and a queue
 * whose policies all refuse a packet drops it.
 */
static void leaders(const struct sx_mine_result *r, bool *lead)
{
	const struct sx_mine_pattern *P = r->patterns;
	size_t o, i, j;

	for (o = 0; o < r->npatterns && sx_mine_arp_op(&P[o]); o++)
		;
	for (i = 0; o < r->npatterns && i < r->npatterns; i++) {
		lead[i] = i != o && !sx_mine_arp_op(&P[i]) && !follows(r, &P[o], &P[i]);
		for (j = 0; lead[i] && may_queue(&P[i]) && j < r->npatterns; j++)
			lead[i] = j == i || sx_mine_arp_op(&P[j]) || !may_share_rule(&P[i], &P[j]);
	}
}

/* Policies of p from slot *n on: ARP's own (arp_policies()); else per
 * family (a pattern of both has two), one per group of end pairs
 * (family_policies()); for an mDNS pattern with the device's answers, the
 * same as `mdns: {response: true}` before them; for a DHCP or CoAP pattern whose
 * responder answers, and for one whose policies would be bidirectional
 * with a queue (one_way()), the answers' own policies. */
static int build_policies(struct ctx *c, size_t *n, const struct sx_mine_pattern *p)
{
	size_t first = *n;
	uint32_t nvar, i;
	bool omit;
	int ret;

	if (sx_mine_arp_op(p))
		return arp_policies(c, n, p);
	nvar = c->var ? variants_of(p, c->var + c->nvar) : 0;
	if (nvar) { /* one policy per value: the first variant stands for p */
		struct sx_mine_pattern *v = c->var + c->nvar;

		c->nvar += nvar;
		for (i = 0; i < nvar; i++) {
			size_t from = *n;

			ret = build_policies_once(c, n, &v[i], !rule_texts_ok(&v[i]));
			if (ret)
				return ret;
			if (fw_reading(&v[i]))
				one_reading(c, from, *n);
		}
		/* the answers carry no application section: once for all */
		if (one_way(c, p, first, *n))
			return build_answers(c, n, p, !rule_texts_ok(p));
		return 0;
	}
	omit = !rule_texts_ok(p);
	if (mdns_answers(p)) {
		/* the answers first: an occurrence that begins with the device
		 * up sees its unasked announcements before any question, and
		 * an event whose first pattern this is opens on its first
		 * policy (see DESIGN, "States") */
		c->response_pass = true;
		ret = build_policies_once(c, n, p, omit);
		c->response_pass = false;
		return ret ? ret : build_policies_once(c, n, p, omit);
	}
	ret = build_policies_once(c, n, p, omit);
	if (!ret && (split_answers(p) || one_way(c, p, first, *n)))
		ret = build_answers(c, n, p, omit);
	return ret;
}

/* The other end's port, when it is constant and known (see DESIGN). */
static uint16_t constant_port(const struct sx_mine_pattern *p, uint8_t role)
{
	const struct sx_mine_end *e = &p->end[role];

	if (e->nports != 1 || p->nflows < 2 || e->ports[0].count != p->nflows)
		return 0;
	if (e->ports[0].port == p->fixed_port ||
	    sx_flow_port_is_known(p->ip_proto, e->ports[0].port))
		return e->ports[0].port;
	return 0;
}

/* The ports a policy writes: the fixed port with the end that holds it,
 * the other end's when constant and known (see DESIGN), less those
 * unshadow() left out. */
static void policy_ports(const struct policy *pol, uint16_t *sp, uint16_t *dp)
{
	const struct sx_mine_pattern *p = pol->p;
	uint16_t src_port = 0, dst_port = 0;
	uint8_t src_role = pol->src_role, dst_role = other_role(src_role);

	if (p->fixed_port && p->fixed_role == src_role)
		src_port = p->fixed_port;
	else if (p->fixed_port && p->fixed_role == dst_role)
		dst_port = p->fixed_port;
	if (p->fixed_port && src_port)
		dst_port = constant_port(p, dst_role);
	else if (p->fixed_port && dst_port)
		src_port = constant_port(p, src_role);
	*sp = pol->no_sport ? 0 : src_port;
	*dp = pol->no_dport ? 0 : dst_port;
}

/*
 * The block of source ports an SSDP policy to the group writes when the
 * device announces from a few registered ports, never one (see DESIGN):
 * its first port, the block being [first, first + PORT_BLOCK - 1]; 0 when
 * none.  The firewall's SSDP parser matches the method alone, and every
 * UPnP device sends NOTIFY to 239.255.255.250:1900, so without a source
 * port one device's policy admits every other's announcements.
 */
#define PORT_BLOCK 32u
/* The first port of Linux's default ephemeral range (ip_local_port_range):
 * ports from there up are a socket's own, not a stack's. */
#define EPHEMERAL_MIN 32768u

static uint16_t src_block(const struct policy *pol)
{
	const struct sx_mine_pattern *p = pol->p;
	const struct sx_mine_end *e = &p->end[pol->src_role];
	uint16_t sp, dp, lo = UINT16_MAX, hi = 0;
	uint32_t i;

	policy_ports(pol, &sp, &dp);
	if (p->app.proto != SX_P_SSDP || sp || pol->no_sport || dp != 1900 || e->nports < 2)
		return 0;
	for (i = 0; i < e->nports; i++) {
		if (e->ports[i].port < lo)
			lo = e->ports[i].port;
		if (e->ports[i].port > hi)
			hi = e->ports[i].port;
	}
	if (lo < 1024 || hi >= EPHEMERAL_MIN || lo / PORT_BLOCK != hi / PORT_BLOCK)
		return 0;
	return (uint16_t)(lo - lo % PORT_BLOCK);
}

/*
 * A peer-to-peer policy's ports (the pattern's peer_to_peer): each end's dynamic range,
 * which keeps a public resolver's or time server's traffic (53, 123: the
 * DNS policy's queue must see the answers) out of its rule.  The range is
 * the half of it that holds every port the end used: below Linux's
 * ephemeral range (EPHEMERAL_MIN), where a stack that draws its own ports
 * picks them (the testbed's Xiaomi camera and its app, 10306 to 29697), or
 * within it, where the system's are (the D-Link camera and its app, 39018
 * to 60438), else both: two cameras' streams are then not each other's.
 * Less SSDP's 1900 and mDNS's 5353, below the ephemeral range: every device
 * of the LAN sends to their groups from them or to them, and the firewall's
 * "external", a public peer's end, is `!= 192.168.0.0/16`, multicast
 * included (the Xiaomi camera's policy to "external" on 1024-32767 took 4.7
 * to 9.2 % of the Hue bridge's and the SmartThings hub's packets, their
 * mDNS and SSDP).  Space-separated ranges, written as a flow list.
 */
const char *const sx_emit__dynamic_range[SX_EMIT__NDYNAMIC] = {
    "1024-1899 1901-5352 5354-65535", "1024-1899 1901-5352 5354-32767", "32768-65535"};

static bool dynamic_ports(const struct policy *pol)
{
	return !pol->no_sport && !pol->no_dport && pol->p->peer_to_peer;
}

/* The dynamic range of an end's ports: an index into sx_emit__dynamic_range[]. */
static unsigned dynamic_of(const struct sx_mine_end *e)
{
	uint32_t i, low = 0;

	for (i = 0; i < e->nports; i++)
		low += e->ports[i].port < EPHEMERAL_MIN;
	return low == e->nports ? 1 : low == 0 ? 2 : 0;
}

/* What a policy's rule matches of the ports, as two comparable keys: a
 * port, PORTS_BLOCK + the first of an SSDP block, PORTS_DYNAMIC + the
 * index of a dynamic range, 0 for none. */
#define PORTS_BLOCK   0x10000u
#define PORTS_DYNAMIC 0x20000u

static void match_ports(const struct policy *pol, uint32_t *sp, uint32_t *dp)
{
	uint16_t s, d, block = src_block(pol);

	policy_ports(pol, &s, &d);
	*sp = s ? s : block ? PORTS_BLOCK + block : 0;
	*dp = d;
	if (!s && !d && dynamic_ports(pol)) {
		*sp = PORTS_DYNAMIC + dynamic_of(&pol->p->end[pol->src_role]);
		*dp = PORTS_DYNAMIC + dynamic_of(&pol->p->end[other_role(pol->src_role)]);
	}
}

/* A port key of match_ports() as the profile writes it, nothing for 0. */
static void kv_port(struct sx_yw *w, const char *key, uint32_t m)
{
	char range[16];

	if (m >= PORTS_DYNAMIC) {
		words_style(w, key, sx_emit__dynamic_range[m - PORTS_DYNAMIC], true);
	} else if (m >= PORTS_BLOCK) {
		snprintf(range, sizeof(range), "%u-%u", m - PORTS_BLOCK,
			 m - PORTS_BLOCK + PORT_BLOCK - 1);
		kv(w, key, range);
	} else if (m) {
		kv_u64(w, key, m);
	}
}

static void emit_transport(struct sx_yw *w, const struct policy *pol)
{
	const char *t = transport_key(pol->p);
	uint32_t sp, dp;

	if (!t)
		return;
	match_ports(pol, &sp, &dp);
	str(w, t);
	if (!sp && !dp) {
		null(w);
		return;
	}
	sx_yw_map_begin(w);
	kv_port(w, "src-port", sp);
	kv_port(w, "dst-port", dp);
	sx_yw_map_end(w);
}

/* Whether the firewall sends a policy's packets to a queue (an NFQueue
 * match: an application section it parses, or a host name it looks up in
 * its DNS table), not to a plain accept. */
/* Whether p's own sections make its policies queue ones: IGMP, or an
 * application section the firewall reads. */
static bool pattern_queue(const struct sx_mine_pattern *p)
{
	if (p->ip_proto == 2)
		return true;
	switch (p->app.proto) {
	case SX_P_DNS:
	case SX_P_MDNS:
	case SX_P_LLMNR:
		return has_dns_section(p);
	case SX_P_HTTP:
		return http_section(p);
	case SX_P_COAP:
	case SX_P_SSDP:
	case SX_P_DHCP:
		return true;
	default:
		return false;
	}
}

static bool has_queue(const struct policy *pol)
{
	return pol->mdns_response || pol->src.name || pol->dst.name || pattern_queue(pol->p);
}

/* Whether a and b have the same forward nftables matches but for their
 * ports (with swap, a's forward and b's backward rule: b's ends swapped):
 * one-scalar ends, family and transport (ARP, forward only: operation and
 * MACs). */
static bool same_ends(const struct policy *a, const struct policy *b, bool swap)
{
	const struct host *bs = swap ? &b->dst : &b->src, *bd = swap ? &b->src : &b->dst;

	if (a->arp_op || b->arp_op) /* ARP: the operation and MACs are matches too */
		if (swap || !a->arp_op || !b->arp_op || strcmp(a->arp_op, b->arp_op) ||
		    strcmp(a->sha, b->sha) || strcmp(a->tha, b->tha))
			return false;
	return a->family == b->family && a->p->ip_proto == b->p->ip_proto &&
	       a->src.form == HOST_ONE && a->dst.form == HOST_ONE && bs->form == HOST_ONE &&
	       bd->form == HOST_ONE && !strcmp(a->src.text, bs->text) &&
	       !strcmp(a->dst.text, bd->text);
}

/* Whether a and b have the same forward nftables matches, ports included. */
static bool same_matches(const struct policy *a, const struct policy *b)
{
	uint32_t as, ad, bs, bd;

	if (!same_ends(a, b, false))
		return false;
	match_ports(a, &as, &ad);
	match_ports(b, &bs, &bd);
	return as == bs && ad == bd;
}

/* Whether a's forward nftables matches are those of b's backward rule
 * (the translator's: ends and ports swapped), b bidirectional. */
static bool same_as_backward(const struct policy *a, const struct policy *b)
{
	uint32_t as, ad, bs, bd;

	if (!b->bidirectional || !same_ends(a, b, true))
		return false;
	match_ports(a, &as, &ad);
	match_ports(b, &bs, &bd);
	return as == bd && ad == bs;
}

/*
 * A single policy without a queue (a plain accept: no application section,
 * no interaction state) admits every packet of its nftables matches.  Any
 * other policy with the same matches is redundant, and worse: the
 * translator would put both in one queue and write the plain one's
 * condition empty (`if ( )`), and the firewall does not compile.  So such
 * a policy is left out and the plain one made bidirectional if it was (an
 * event's NTP policy beside the same NTP below the support, an mDNS answer
 * policy beside a plain mDNS one).  The translator makes a bidirectional
 * policy's backward rule a policy of its own, so the same holds of a queue
 * policy whose backward rule has the plain one's matches: it is made one
 * way, the plain accept taking those packets as it did.  pols[nev..npols)
 * are the single policies.
 */
static void fold_plain(struct ctx *c, size_t nev)
{
	size_t i, j;

	for (i = nev; i < c->npols; i++) {
		struct policy *s = &c->pols[i];

		if (s->omit || has_queue(s))
			continue;
		for (j = 0; j < c->npols; j++) {
			struct policy *t = &c->pols[j];

			if (j != i && !t->omit && has_queue(t) && same_as_backward(s, t))
				t->bidirectional = false; /* s takes its backward packets */
			if (j == i || t->omit || !same_matches(s, t))
				continue;
			if (j >= nev && !has_queue(t) && j < i)
				continue; /* an earlier plain twin keeps the rest */
			t->omit = true;
			s->bidirectional |= t->bidirectional;
		}
	}
}

/*
 * First match wins in the firewall: the first nftables rule whose matches
 * hold sends the packet to its queue, and a queue whose policies all refuse
 * it drops it, although a later rule would have taken it (NFQueue.py: one
 * queue per distinct set of nftables matches, in the profile's order,
 * single policies first).  So an earlier queue policy whose matches are
 * those of a later one less a port (an SSDP M-SEARCH policy to
 * 239.255.255.250:1900 from any port, before a NOTIFY policy from port
 * 1900) swallows the later one's packets.  The later policy then leaves
 * that port out: the two have the same matches, share one queue, and its
 * callback tries both.  Only one-scalar ends (self, aliases, names,
 * single addresses) are compared.  pols[order[0..n)] in the order written.
 */
static void unshadow(struct ctx *c, const size_t *order, size_t n)
{
	size_t i, j;

	for (j = 0; j < n; j++) {
		struct policy *b = &c->pols[order[j]];
		uint32_t bs, bd;

		if (b->omit)
			continue;
		for (i = 0; i < j; i++) {
			const struct policy *a = &c->pols[order[i]];
			uint32_t as, ad;

			if (a->omit || !has_queue(a) || !same_ends(a, b, false))
				continue;
			match_ports(a, &as, &ad); /* a block or range counts as a port */
			match_ports(b, &bs, &bd);
			if ((as && as != bs) || (ad && ad != bd) || (as == bs && ad == bd))
				continue;
			b->no_sport |= !as && bs;
			b->no_dport |= !ad && bd;
		}
	}
}

/* Whether h, one address written as it is, is among l's addresses. */
static bool host_in_list(const struct host *h, const struct host *l)
{
	char addr[ADDR_TEXT_MAX];
	uint32_t i;

	if (h->form != HOST_ONE || h->name || h->self || l->form != HOST_LIST || !l->end)
		return false;
	for (i = 0; i < l->end->naddrs; i++)
		if (!strcmp(h->text, end_addr_str(&l->end->addrs[i], addr, sizeof(addr))))
			return true;
	return false;
}

/*
 * The same for two queue policies whose matches are the same but for an
 * end, one address in one and a list holding it in the other (lookups to
 * one of the device's two resolvers, and others to both): whichever rule
 * comes first takes the other's packets to that address, and its queue
 * refuses them.  The one-address end becomes the list: the two then have
 * the same matches, share one queue, and its callback tries both.
 */
static void join_queues(struct ctx *c)
{
	size_t i, j;

	for (j = 0; j < c->npols; j++) {
		const struct policy *b = &c->pols[j];
		uint16_t bs, bd;

		if (b->omit || !has_queue(b))
			continue;
		policy_ports(b, &bs, &bd);
		for (i = 0; i < c->npols; i++) {
			struct policy *a = &c->pols[i];
			uint16_t as, ad;

			if (a->omit || !has_queue(a) || a->family != b->family ||
			    a->p->ip_proto != b->p->ip_proto || a->arp_op || b->arp_op)
				continue;
			policy_ports(a, &as, &ad);
			if (as != bs || ad != bd)
				continue;
			if (a->src.form == HOST_ONE && b->src.form == HOST_ONE &&
			    !strcmp(a->src.text, b->src.text) && host_in_list(&a->dst, &b->dst))
				a->dst = b->dst;
			else if (a->dst.form == HOST_ONE && b->dst.form == HOST_ONE &&
				 !strcmp(a->dst.text, b->dst.text) &&
				 host_in_list(&a->src, &b->src))
				a->src = b->src;
		}
	}
}

/*
 * The order the single policies pols[nev..npols) are written in, into
 * order[0..npols - nev): those with a host name end last.  A name end is
 * matched in the policy's queue, not in its nftables rule (ip.py: a name is
 * an NFQueue match), so the rule of a name policy takes every packet of its
 * transport and ports, whatever the address, and its callback drops those
 * to addresses its DNS table does not hold: a later policy by address
 * (D-LinkDoorSensor's cloud reached without a lookup, 52.28.161.134:443,
 * after `dst: api.dch.dlink.com`) never saw its packets.  Otherwise in the
 * order made.
 */
static void singles_order(const struct ctx *c, size_t nev, size_t *order)
{
	size_t i, k = 0;
	int pass;

	for (pass = 0; pass < 2; pass++)
		for (i = nev; i < c->npols; i++) {
			const struct policy *p = &c->pols[i];
			bool named = p->src.name || p->dst.name;

			if (named == (pass == 1))
				order[k++] = i;
		}
}

/* A question name as the firewall reads it: "*.suffix" -> "$.suffix", a
 * single label "$label" (a whole-name suffix), else the name. */
static void dns_rule_name(const char *n, char *out, size_t outsz)
{
	if (n[0] == '*' && n[1] == '.')
		snprintf(out, outsz, "$%s", n + 1);
	else if (!strchr(n, '.'))
		snprintf(out, outsz, "$%s", n);
	else
		snprintf(out, outsz, "%s", n);
}

/* The address ends named under a DNS wildcard: the names the profile's
 * policies write as an end (HOST_ONE by name, each name of HOST_NAMES)
 * that wild ("*.suffix") covers and that are not among the policy's own
 * names own[0..nown), each once, sorted; an empty list when none or out of
 * memory. */
struct covered {
	const char **names;
	size_t n;
};

static bool among(const char *name, const char *const *own, uint32_t nown)
{
	uint32_t i;

	for (i = 0; i < nown; i++)
		if (!strcasecmp(own[i], name))
			return true;
	return false;
}

static void covered_names(const struct ctx *c, const char *wild, const char *const *own,
			  uint32_t nown, struct covered *cv)
{
	size_t i, j, cap = 0;
	uint32_t k, m;

	cv->names = NULL;
	cv->n = 0;
	for (i = 0; i < c->npols; i++) {
		const struct host *hs[2] = {&c->pols[i].src, &c->pols[i].dst};

		for (k = 0; k < 2; k++) {
			const struct host *h = hs[k];
			uint32_t count = !h->name	       ? 0
					 : h->form == HOST_ONE ? 1
					 : h->end	       ? h->end->nnames
							       : 0;

			for (m = 0; m < count; m++) {
				const char *name = h->form == HOST_ONE ? h->text : h->end->names[m];
				bool seen = false;

				if (!dns_entry_allows(wild, name) || !rule_name_ok(name, false) ||
				    among(name, own, nown))
					continue;
				for (j = 0; j < cv->n && !seen; j++)
					seen = !strcasecmp(cv->names[j], name);
				if (seen)
					continue;
				if (cv->n == cap) {
					const char **nn;

					cap = cap ? 2 * cap : 8;
					nn = sx_realloc_array(cv->names, cap, sizeof(*nn));
					if (!nn) {
						free(cv->names);
						cv->names = NULL;
						cv->n = 0;
						return;
					}
					cv->names = nn;
				}
				cv->names[cv->n++] = name;
			}
		}
	}
	if (cv->n)
		qsort(cv->names, cv->n, sizeof(*cv->names), sx_str_qcmp);
}

/*
 * A DNS (or mDNS) section: its qtypes and its names.  A DNS wildcard is
 * written after the exact names of the address ends it covers
 * (covered_names()): the firewall takes the first entry a question matches
 * and learns the answers under that entry's name, so only an exact entry
 * teaches it a name end's addresses (dns_entry_allows()).
 */
static void emit_dns(struct sx_yw *w, const struct ctx *c, const struct sx_mine_pattern *p)
{
	const struct sx_mine_app *a = &p->app;
	const char *one = a->dns_name;
	const char *const *qnames = a->ndns_names > 1 ? a->dns_names : &one;
	uint32_t nq = a->ndns_names > 1 ? a->ndns_names : 1, i;
	struct covered *cv;
	char name[SX_NAME_MAX + 2];
	size_t entries = 0, j;

	str(w, a->mdns ? "mdns" : "dns");
	sx_yw_map_begin(w);
	if (a->dns_qtype[0])
		words(w, "qtype", a->dns_qtype);
	str(w, "domain-name");
	cv = sx_calloc_array(nq, sizeof(*cv));
	for (i = 0; i < nq; i++) {
		if (cv && !a->mdns && qnames[i][0] == '*')
			covered_names(c, qnames[i], qnames, nq, &cv[i]);
		entries += 1 + (cv ? cv[i].n : 0);
	}
	if (entries > 1)
		/* every name the flows asked for: the firewall matches a
		 * message holding any of them */
		sx_yw_seq_begin(w);
	for (i = 0; i < nq; i++) {
		for (j = 0; cv && j < cv[i].n; j++)
			str(w, cv[i].names[j]);
		dns_rule_name(qnames[i], name, sizeof(name));
		str(w, name);
	}
	if (entries > 1)
		sx_yw_seq_end(w);
	sx_yw_map_end(w);
	for (i = 0; cv && i < nq; i++)
		free(cv[i].names);
	free(cv);
}

/* The flow stage keeps an HTTP request's path without its query, so the
 * uri is written as a prefix ("path*"): it then matches the path with or
 * without a query, as the firewall's translator itself makes of a uri with
 * one.  A path the miner generalised already ends in "*". */
static void emit_http(struct sx_yw *w, const struct sx_mine_pattern *p)
{
	const struct sx_mine_app *a = &p->app;
	char uri[SX_URI_MAX + 2];
	char *q;
	size_t n;

	if (!a->http_method[0] && !a->http_uri[0])
		return;
	str(w, "http");
	sx_yw_map_begin(w);
	if (a->http_method[0])
		kv(w, "method", a->http_method);
	if (fw_reading(p))
		kv(w, "uri", a->http_uri); /* exact: strncmp(uri, U, len + 1) */
	else if (a->http_uri[0]) {
		snprintf(uri, sizeof(uri), "%s", a->http_uri);
		q = strchr(uri, '?');
		if (q)
			*q = '\0';
		n = strlen(uri);
		if (!n || uri[n - 1] != '*')
			snprintf(uri + n, sizeof(uri) - n, "*");
		kv(w, "uri", uri);
	}
	sx_yw_map_end(w);
}

static bool is_word(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalpha((unsigned char)*s))
			return false;
	return true;
}

/*
 * The CoAP request of the pattern: its "coap" attributes are the messages
 * of both directions ("CON:POST:/notify", "ACK:2.04:/"); the initiator's
 * is the request, whose code is a method.  The miner's parsed fields keep
 * the first attribute in key order, which can be the response.
 */
static void coap_request(const struct sx_mine_pattern *p, char *type, size_t tsz, char *method,
			 size_t msz, char *uri, size_t usz)
{
	uint32_t i, best_count = 0;

	snprintf(type, tsz, "%s", p->app.coap_type);
	snprintf(method, msz, "%s", p->app.coap_method);
	snprintf(uri, usz, "%s", p->app.coap_uri);
	for (i = 0; i < p->nattrs; i++) {
		const char *v = p->attrs[i].value, *c1, *c2;
		char m[16];

		if (strcmp(p->attrs[i].key, "coap") != 0)
			continue;
		c1 = strchr(v, ':');
		c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2 || (size_t)(c2 - c1 - 1) >= sizeof(m))
			continue;
		snprintf(m, sizeof(m), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
		if (!is_word(m) || p->attrs[i].count <= best_count)
			continue;
		best_count = p->attrs[i].count;
		snprintf(type, tsz, "%.*s", (int)(c1 - v), v);
		snprintf(method, msz, "%s", m);
		snprintf(uri, usz, "%s", c2 + 1);
	}
}

static void emit_coap(struct sx_yw *w, const struct sx_mine_pattern *p)
{
	char type[sizeof(p->app.coap_type)], method[sizeof(p->app.coap_method)];
	char uri[sizeof(p->app.coap_uri)];

	coap_request(p, type, sizeof(type), method, sizeof(method), uri, sizeof(uri));
	if (!type[0] && !uri[0])
		return;
	str(w, "coap");
	sx_yw_map_begin(w);
	if (type[0])
		kv(w, "type", type);
	if (is_word(method)) /* a response code ("2.05") is no method */
		kv(w, "method", method);
	if (uri[0])
		kv(w, "uri", uri);
	sx_yw_map_end(w);
}

static void emit_ssdp(struct sx_yw *w, const struct sx_mine_pattern *p)
{
	const char *m = p->app.ssdp_method;

	if (!m[0])
		return;
	str(w, "ssdp");
	sx_yw_map_begin(w);
	if (!strcmp(m, "M-SEARCH") || !strcmp(m, "NOTIFY"))
		kv(w, "method", m);
	else
		sx_yw_kv_bool(w, "response", true);
	sx_yw_map_end(w);
}

static bool dhcp_client_type(const char *t)
{
	static const char *const client[] = {"discover", "request", "decline", "release", "inform"};
	size_t i;

	for (i = 0; i < sizeof(client) / sizeof(client[0]); i++)
		if (!strcasecmp(t, client[i]))
			return true;
	return false;
}

/* The message types the firewall's DHCP parser knows (its enum of option 53
 * values, parsers/include/dhcp.h): a BOOTP message without option 53 has
 * none it could match. */
static bool dhcp_known_type(const char *t)
{
	static const char *const known[] = {"discover", "offer", "request", "decline",
					    "ack",	"nak",	 "release", "inform"};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcasecmp(t, known[i]))
			return true;
	return false;
}

/* Whether an end is the device by its link-layer address: a DHCP client
 * before it has an address sends from 0.0.0.0 with its own MAC. */
static bool end_is_device_mac(const struct ctx *c, const struct sx_mine_end *e)
{
	return !sx_mac_is_zero(c->mac) && !memcmp(e->mac, c->mac, 6);
}

static bool end_has_port(const struct sx_mine_end *e, uint16_t port)
{
	uint32_t i;

	for (i = 0; i < e->nports; i++)
		if (e->ports[i].port == port)
			return true;
	return false;
}

static void emit_dhcp(struct sx_yw *w, const struct ctx *c, const struct policy *pol)
{
	const struct sx_mine_pattern *p = pol->p;
	const struct sx_mine_end *src = &p->end[pol->src_role];
	const struct sx_mine_end *dst = &p->end[other_role(pol->src_role)];
	char buf[sizeof(p->app.dhcp_type)], kept[sizeof(p->app.dhcp_type)] = "";
	char *save = NULL, *tok;
	int by_client = -1; /* whether the initiator is the DHCP client; -1 unknown */
	/* client-mac: self on the device's own DHCP, which the firewall then
	 * tells apart from every other client's. */
	bool mac = c->mac_text[0] && (pol->src.self || pol->dst.self || end_is_device_mac(c, src) ||
				      end_is_device_mac(c, dst));

	if (end_has_port(dst, 67) || end_has_port(dst, 547))
		by_client = 1;
	else if (end_has_port(src, 67) || end_has_port(src, 547))
		by_client = 0;
	snprintf(buf, sizeof(buf), "%s", p->app.dhcp_type);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		size_t n = strlen(kept);

		if (!dhcp_known_type(tok) ||
		    (by_client >= 0 && dhcp_client_type(tok) != (bool)by_client))
			continue;
		snprintf(kept + n, sizeof(kept) - n, "%s%s", n ? " " : "", tok);
	}
	if (!kept[0]) {
		/* no type of the client's side: every known type the flows held */
		snprintf(buf, sizeof(buf), "%s", p->app.dhcp_type);
		for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
			size_t n = strlen(kept);

			if (dhcp_known_type(tok))
				snprintf(kept + n, sizeof(kept) - n, "%s%s", n ? " " : "", tok);
		}
	}
	if (!kept[0] && !mac)
		return;
	str(w, "dhcp");
	sx_yw_map_begin(w);
	if (kept[0])
		words(w, "type", kept);
	if (mac)
		kv(w, "client-mac", "self");
	sx_yw_map_end(w);
}

static const char *igmp_type_name(int type)
{
	switch (type) {
	case 0x11:
		return "membership query";
	case 0x12:
	case 0x16:
	case 0x22:
		return "membership report";
	case 0x17:
		return "leave group";
	default:
		return NULL;
	}
}

static void emit_igmp(struct sx_yw *w, const struct sx_mine_pattern *p)
{
	const struct sx_mine_app *a = &p->app;
	const char *type = igmp_type_name(a->igmp_type);

	str(w, "igmp");
	if (a->igmp_version < 0 && !type) {
		null(w);
		return;
	}
	sx_yw_map_begin(w);
	if (a->igmp_version > 0)
		kv_u64(w, "version", (uint64_t)a->igmp_version);
	if (type)
		kv(w, "type", type);
	if (a->igmp_group[0] && strcmp(a->igmp_group, "0.0.0.0") != 0)
		kv(w, "group", igmp_group_name(a->igmp_group));
	sx_yw_map_end(w);
}

static const char *icmp_type_name(int type)
{
	static const char *const names[] = {
	    [0] = "echo-reply",		  [3] = "destination-unreachable",
	    [4] = "source-quench",	  [5] = "redirect",
	    [8] = "echo-request",	  [9] = "router-advertisement",
	    [10] = "router-solicitation", [11] = "time-exceeded",
	    [12] = "parameter-problem",	  [13] = "timestamp-request",
	    [14] = "timestamp-reply",	  [15] = "info-request",
	    [16] = "info-reply",	  [17] = "address-mask-request",
	    [18] = "address-mask-reply",
	};

	if (type < 0 || (size_t)type >= sizeof(names) / sizeof(names[0]))
		return NULL;
	return names[type];
}

/* The ICMP type the initiator sends: a request when the flows hold one. */
static int icmp_initiator_type(const struct sx_mine_pattern *p)
{
	static const int requests[] = {8, 13, 15, 17, 10};
	size_t k;

	for (k = 0; k < sizeof(requests) / sizeof(requests[0]); k++)
		if (icmp_has_type(p, requests[k]))
			return requests[k];
	return p->app.icmp_type;
}

static void emit_icmp(struct sx_yw *w, const struct sx_mine_pattern *p)
{
	const char *type = icmp_type_name(icmp_initiator_type(p));

	str(w, "icmp");
	if (!type) {
		null(w);
		return;
	}
	sx_yw_map_begin(w);
	kv(w, "type", type);
	sx_yw_map_end(w);
}

static void emit_app(struct sx_yw *w, const struct ctx *c, const struct policy *pol)
{
	const struct sx_mine_pattern *p = pol->p;

	if (pol->reply) /* the answers of a split pattern: transport only */
		return;

	if (p->ip_proto == 1) {
		emit_icmp(w, p);
		return;
	}
	if (p->ip_proto == 58) {
		str(w, "icmpv6");
		null(w);
		return;
	}
	if (p->ip_proto == 2) {
		emit_igmp(w, p);
		return;
	}
	if (pol->mdns_response) {
		str(w, "mdns");
		sx_yw_map_begin(w);
		sx_yw_kv_bool(w, "response", true);
		sx_yw_map_end(w);
		return;
	}
	switch (p->app.proto) {
	case SX_P_DNS:
	case SX_P_MDNS:
	case SX_P_LLMNR:
		if (has_dns_section(p))
			emit_dns(w, c, p);
		break;
	case SX_P_HTTP:
		if (http_section(p))
			emit_http(w, p);
		break;
	case SX_P_COAP:
		emit_coap(w, p);
		break;
	case SX_P_SSDP:
		emit_ssdp(w, p);
		break;
	case SX_P_DHCP:
		emit_dhcp(w, c, pol);
		break;
	default:
		break;
	}
}

static int64_t ceil_secs(int64_t ns)
{
	int64_t s = ns / 1000000000LL + (ns % 1000000000LL > 0);

	return s > 0 ? s : 1;
}

/* arp: type, sha, tha, spa, tpa, as the firewall's own profiles write
 * them; an operation other than request or reply by its number. */
static void emit_arp(struct sx_yw *w, const struct policy *pol)
{
	str(w, "arp");
	sx_yw_map_begin(w);
	str(w, "type");
	if (pol->arp_op[0] >= '0' && pol->arp_op[0] <= '9')
		sx_yw_number(w, pol->arp_op);
	else
		str(w, pol->arp_op);
	if (pol->sha[0])
		kv(w, "sha", pol->sha);
	if (pol->tha[0])
		kv(w, "tha", pol->tha);
	emit_host(w, "spa", &pol->src);
	emit_host(w, "tpa", &pol->dst);
	sx_yw_map_end(w);
	sx_yw_map_end(w);
}

/* One policy; periodic: written as a periodic policy without a rate limit
 * (see DESIGN, "States"). */
static void emit_policy(struct ctx *c, const struct policy *pol, bool periodic)
{
	struct sx_yw *w = &c->w;
	const struct sx_mine_pattern *p = pol->p;
	uint8_t init = pol->src_role, resp = other_role(init);
	uint64_t count;

	str(w, pol->id);
	sx_yw_map_begin(w);
	str(w, "protocols");
	sx_yw_map_begin(w);
	if (pol->arp_op) {
		emit_arp(w, pol);
		goto stats;
	}
	emit_app(w, c, pol);
	emit_transport(w, pol);
	str(w, pol->family == 6 ? "ipv6" : "ipv4");
	sx_yw_map_begin(w);
	emit_host(w, "src", &pol->src);
	emit_host(w, "dst", &pol->dst);
	sx_yw_map_end(w);
	sx_yw_map_end(w);
	if (pol->bidirectional)
		sx_yw_kv_bool(w, "bidirectional", true);
stats:
	if (c->cfg->stats) {
		count = (uint64_t)p->pkts[init].max;
		if (pol->bidirectional)
			count += (uint64_t)p->pkts[resp].max;
		str(w, "stats");
		sx_yw_map_begin(w);
		kv_u64(w, "packet-count", count ? count : 1);
		kv_u64(w, "duration", (uint64_t)ceil_secs(p->duration_ns.max));
		sx_yw_map_end(w);
	} else if (periodic) {
		str(w, "stats");
		sx_yw_map_begin(w);
		kv_u64(w, "rate", 0);
		sx_yw_map_end(w);
	}
	sx_yw_map_end(w);
}

/* ---- the document ---- */

static int parse_addr(const char *what, const char *s, bool v4_only, struct sx_addr *a, char *msg,
		      size_t msglen)
{
	memset(a, 0, sizeof(*a));
	if (!s)
		return 0;
	if (inet_pton(AF_INET, s, a->b) == 1) {
		a->family = 4;
		return 0;
	}
	if (!v4_only && inet_pton(AF_INET6, s, a->b) == 1) {
		a->family = 6;
		return 0;
	}
	snprintf(msg, msglen, "%s: not an IP%s address: \"%s\"", what, v4_only ? "v4" : "", s);
	return -EINVAL;
}

static void emit_device_info(struct ctx *c)
{
	const struct sx_profile_cfg *cfg = c->cfg;
	struct sx_yw *w = &c->w;
	char addr[ADDR_TEXT_MAX], when[64];

	str(w, "device-info");
	sx_yw_map_begin(w);
	kv(w, "name", cfg->device);
	if (c->mac_text[0])
		kv(w, "mac", c->mac_text);
	if (c->dev4.family)
		kv(w, "ipv4", sx_addr_str(&c->dev4, addr, sizeof(addr)));
	if (c->dev6.family)
		kv(w, "ipv6", sx_addr_str(&c->dev6, addr, sizeof(addr)));
	if (!cfg->last_update)
		sx_emit_profile_last_update(when, sizeof(when), time(NULL));
	str(w, "last-update");
	sx_yw_quoted(w, cfg->last_update ? cfg->last_update : when);
	sx_yw_map_end(w);
}

/* Room for every policy, and (*nvar) for every pattern's variants. */
static size_t npols_max(const struct sx_mine_result *r, size_t *nvar)
{
	const struct sx_mine_pattern *lists[4] = {r->patterns, r->background, r->periodic,
						  r->below};
	uint32_t counts[4] = {r->npatterns, r->nbackground, r->nperiodic, r->nbelow}, i, v;
	size_t k, n = 1;

	*nvar = 1;
	for (k = 0; k < 4; k++)
		for (i = 0; i < counts[k]; i++) {
			v = variants_of(&lists[k][i], NULL);
			*nvar += v;
			/* mDNS answers: twice; name ends' twins: twice again */
			n += 4 * (2 + (size_t)lists[k][i].npairs) * (1 + v) +
			     (sx_mine_arp_op(&lists[k][i]) ? ARP__NCLASS * ARP__NCLASS : 0);
		}
	return n + 8; /* the NTP servers' lookups */
}

int sx_emit_profile(const struct sx_mine_result *r, const struct sx_profile_cfg *cfg, FILE *f,
		    char *msg, size_t msglen)
{
	struct ctx c = {.cfg = cfg};
	char event[ID_MAX * 2];
	size_t i, n = 0, nev = r->npatterns;
	size_t nsingle = (size_t)r->nbackground + r->nperiodic + r->nbelow;
	size_t nev_out = nev, nsingle_out = nsingle, *order, nvar;
	bool lone = false, *lead = NULL;
	int ret;

	if (!cfg->device || !cfg->device[0]) {
		snprintf(msg, msglen, "profile: no device name");
		return -EINVAL;
	}
	ret = parse_addr("IPv4 address", cfg->ipv4, true, &c.dev4, msg, msglen);
	if (!ret && cfg->ipv6 && (inet_pton(AF_INET6, cfg->ipv6, c.dev6.b) == 1))
		c.dev6.family = 6;
	else if (!ret && cfg->ipv6) {
		snprintf(msg, msglen, "IPv6 address: not an IPv6 address: \"%s\"", cfg->ipv6);
		ret = -EINVAL;
	}
	if (!ret)
		ret = parse_addr("gateway", cfg->gateway, false, &c.gateway, msg, msglen);
	if (!ret)
		ret = parse_addr("phone", cfg->phone, false, &c.phone, msg, msglen);
	if (!ret && cfg->mac && (sx_mac_parse(cfg->mac, c.mac) || sx_mac_is_zero(c.mac))) {
		snprintf(msg, msglen, "MAC address: expected aa:bb:cc:dd:ee:ff, not \"%s\"",
			 cfg->mac);
		ret = -EINVAL;
	}
	if (ret)
		return ret;
	/* Not given: the device's frames tell it (its IPv4's source MAC). */
	if (!cfg->mac && (c.dev4.family || c.dev6.family))
		sx_mine_device_mac(r, &c.dev4, &c.dev6, c.mac);
	/* Its IPv6 address: the link-local one its MAC makes, if it used it. */
	if (!cfg->ipv6 && sx_mine_device_ipv6(r, c.mac, &c.dev6) == 0) {
		char a6[ADDR_TEXT_MAX];

		sx_log(SX_LOG_INFO, "profile: the device's IPv6 address (from its MAC): %s",
		       sx_addr_str(&c.dev6, a6, sizeof(a6)));
	}
	sx_mac_str(c.mac, c.mac_text, sizeof(c.mac_text));
	c.ula_prefixes = ula_prefixes_change(&c, r);

	ret = collect_dns_names(&c, r);
	if (!ret)
		ret = ntp_lookups(&c, r);
	if (ret) {
		snprintf(msg, msglen, "out of memory");
		goto out_free_pols;
	}
	/* at most one policy per end pair of a pattern, and per family: room
	 * for the bound, zeroed as each is taken (add_policy(), arp_policy():
	 * the bound is tens of times what is used, at 2.9 KiB a policy) */
	c.pols = sx_realloc_array(NULL, npols_max(r, &nvar), sizeof(*c.pols));
	c.var = calloc(nvar, sizeof(*c.var));
	if (!c.pols || !c.var) {
		snprintf(msg, msglen, "out of memory");
		ret = -ENOMEM;
		goto out_free_pols;
	}
	/* Ids in priority order: the event's policies first (the opener, its
	 * first non-ARP pattern, first of all); its ARP and its leaders are
	 * single-policies (see DESIGN, "States"). */
	lead = calloc(r->npatterns + 1, sizeof(*lead));
	if (!lead) {
		snprintf(msg, msglen, "out of memory");
		ret = -ENOMEM;
		goto out_free_pols;
	}
	if (!cfg->singles)
		leaders(r, lead);
	c.single_pass = cfg->singles;
	for (i = 0; !ret && i < r->npatterns; i++)
		if (!lead[i] && !sx_mine_arp_op(&r->patterns[i]))
			ret = build_policies(&c, &n, &r->patterns[i]);
	nev = n;
	c.single_pass = true;
	for (i = 0; !ret && i < r->npatterns; i++)
		if (sx_mine_arp_op(&r->patterns[i]))
			ret = build_policies(&c, &n, &r->patterns[i]);
	for (i = 0; !ret && i < r->nbackground; i++)
		ret = build_policies(&c, &n, &r->background[i]);
	for (i = 0; !ret && i < r->nperiodic; i++)
		ret = build_policies(&c, &n, &r->periodic[i]);
	for (i = 0; !ret && i < r->nbelow; i++)
		ret = build_policies(&c, &n, &r->below[i]);
	if (!ret && c.has_ntp_dns)
		ret = build_policies(&c, &n, &c.ntp_dns);
	for (i = 0; !ret && i < r->npatterns; i++)
		if (lead[i])
			ret = build_policies(&c, &n, &r->patterns[i]);
	if (cfg->singles)
		nev = 0;
	c.npols = n;
	if (ret) {
		snprintf(msg, msglen, "out of memory");
		goto out_free_pols;
	}
	order = calloc(n + 1, sizeof(*order));
	if (!order) {
		snprintf(msg, msglen, "out of memory");
		ret = -ENOMEM;
		goto out_free_pols;
	}
	singles_order(&c, nev, order);
	for (i = 0; i < nev; i++)
		order[n - nev + i] = i;
	unshadow(&c, order, n);
	join_queues(&c);
	fold_plain(&c, nev);
	nev_out = nev;
	nsingle_out = n - nev;
	for (i = 0; i < c.npols; i++) {
		if (!c.pols[i].omit)
			continue;
		if (i < nev)
			nev_out--;
		else
			nsingle_out--;
	}

	sx_yw_open(&c.w, f, SX_YW_SIGEX);
	sx_yw_map_begin(&c.w);
	emit_device_info(&c);
	str(&c.w, "single-policies");
	if (nsingle_out) {
		sx_yw_map_begin(&c.w);
		for (i = 0; i < n - nev; i++)
			if (!c.pols[order[i]].omit)
				emit_policy(&c, &c.pols[order[i]],
					    c.pols[order[i]].bidirectional &&
						!has_queue(&c.pols[order[i]]));
	} else {
		sx_yw_map_begin_flow(&c.w);
	}
	sx_yw_map_end(&c.w);
	str(&c.w, "interactions");
	if (nev_out) {
		sx_yw_map_begin(&c.w);
		str(&c.w, sx_emit_profile_event_name(r, cfg, event, sizeof(event)));
		sx_yw_map_begin(&c.w);
		/* a lone one-way policy is no interaction to the translator */
		for (i = 0; i < nev && c.pols[i].omit; i++)
			;
		lone = nev_out == 1 && i < nev && !c.pols[i].bidirectional;
		for (i = 0; i < nev; i++)
			if (!c.pols[i].omit)
				emit_policy(&c, &c.pols[i], !lone);
		sx_yw_map_end(&c.w);
	} else {
		sx_yw_map_begin_flow(&c.w);
	}
	sx_yw_map_end(&c.w);
	sx_yw_map_end(&c.w);
	ret = sx_yw_close(&c.w);
	if (ret) {
		snprintf(msg, msglen, "profile: %s",
			 c.w.problem[0] ? c.w.problem : sx_strerror(ret));
	} else {
		errno = 0;
		if (fflush(f) != 0 || ferror(f)) {
			ret = errno ? -errno : -EIO;
			snprintf(msg, msglen, "profile: write error: %s", strerror(-ret));
		}
	}
	free(order);
out_free_pols:
	free(lead);
	for (i = 0; i < c.npols; i++)
		free(c.pols[i].vaddrs);
	free(c.pols);
	free(c.var);
	free(c.dns_names);
	free(c.dns_occ);
	free(c.ntp_text);
	free(c.ntp_names);
	return ret;
}

int sx_emit_profile_file(const struct sx_mine_result *r, const struct sx_profile_cfg *cfg,
			 const char *path, char *msg, size_t msglen)
{
	struct sx_out out;
	char why[384];
	int ret;

	ret = sx_out_open(&out, path, msg, msglen);
	if (ret)
		return ret;
	ret = sx_emit_profile(r, cfg, out.f, why, sizeof(why));
	if (ret) {
		snprintf(msg, msglen, "%s: %s", path, why);
		sx_out_abort(&out);
		return ret;
	}
	return sx_out_commit(&out, msg, msglen);
}
