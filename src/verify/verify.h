/*
 * verify.h - PUBLIC API of the verify module: replay captures through a
 * profile.yaml the way the smart-home firewall would run it, and report what
 * it would allow and deny of the device's traffic.
 *
 * Three layers, usable separately:
 *   - struct sx_verify_profile: a profile.yaml compiled into the firewall's
 *     rules, as its translator (translator.py, Policy.py, NFQueue.py,
 *     protocols/\*.py) builds them: one nftables rule per distinct set of
 *     nftables matches ("NFQueue"), in the translator's order, each either
 *     `accept` or a queue whose callback tries the queue's policies in the
 *     translator's sorted order (templates/callback.c.j2).
 *   - struct sx_verify_fw: one running firewall (DNS table, interaction
 *     states, counters) fed packets in capture order; sx_verify_fw_packet()
 *     returns the verdict for one packet.
 *   - sx_verify_run(): captures -> per-capture replays on a pool of threads
 *     -> one struct sx_verify_result (packets, flows, hits per policy,
 *     denied traffic by kind), written as text, CSV or YAML.
 *
 * WHAT IS MODELLED, from the firewall's code:
 *   - entry (templates/firewall.nft.j2, bridge prerouting): a packet is the
 *     device's when its Ethernet source or destination is the device's MAC,
 *     or it is an ARP message for the device's IPv4 address.  Without a MAC
 *     (none in the profile nor given), the MAC is learnt per capture from the
 *     first frame sent from the device's IPv4 address; captures without
 *     Ethernet framing fall back to the device's IP addresses.  Unmatched
 *     device traffic is dropped, as the chain's final rules do.  Frames to
 *     IEEE 802.1D's reserved link-local group addresses (01:80:c2:00:00:0x:
 *     802.1X's EAPOL, STP, LLDP) are not the chain's: the Linux bridge
 *     hands them to itself through its local-in hook, never prerouting,
 *     so they are not counted; nor is EAPOL (ethertype 0x888e), which a Wi-Fi
 *     access point's hostapd takes before any bridge.
 *   - nftables matches: meta l4proto, tcp/udp sport and dport (values, lists,
 *     "a-b" ranges), ip/ip6 saddr and daddr (aliases of protocols/ip.py:
 *     self, gateway, phone, broadcast, udp-broadcast, local, external,
 *     igmpv3 and the multicast groups; CIDR; lists), icmp type, arp operation,
 *     sha, tha, spa, tpa (protocols/arp.py's own aliases), `initiator` as
 *     `ct original` (the flow's first packet gives the original direction),
 *     each mirrored for the -backward policy of a bidirectional one.
 *   - first match wins: the first rule whose nftables matches hold decides;
 *     a queue's callback that accepts no policy drops the packet, even when a
 *     later rule would have accepted it.
 *   - NFQueue matches: host names in src/dst (the interaction's cached
 *     address, or the DNS table entry of exactly that name; a list may mix
 *     names and addresses, whose addresses then compare exactly, so a CIDR or
 *     "$.domain" there matches nothing); dns/mdns qr (response), qtype (the
 *     first question), domain-name (exact, or "$suffix" on any question);
 *     http request (TCP destination port 80 and a known method), method, uri
 *     (exact, or a prefix with a trailing '*' or '$'), and a TCP packet not
 *     starting with an HTTP method passes the HTTP matches; dhcp type and
 *     client-mac; igmp version, type and group; ssdp request (sent to
 *     239.255.255.250) and method; coap type, method and uri.
 *   - the DNS table: filled only by DNS responses accepted by a policy that
 *     matches responses, with the A/AAAA answers of the policy's own
 *     domain-name (following CNAMEs, as dns_get_ip_from_name()), by exact
 *     name.
 *   - interactions: per-interaction state, the state guard and updates of
 *     callback.c.j2 for one-off, transient (stats packet-count, duration) and
 *     periodic policies, the counters, the timeout (`timeout`, default
 *     3600 s, -1 none), measured on the packets' timestamps.
 *
 * NOT MODELLED (documented in the report's notes): `loop`/`next` in
 * interactions, `activity-period`, stats `rate` (nft limit) and
 * `packet-size`, TLS matches (tls: keys are ignored: the policy matches as
 * if they were absent), MQTT, the "other hosts" entry rules (policies
 * between two other local hosts), IPv6 extension-header subtleties of nft,
 * the firewall's wall clock (timestamps are used instead), and lists of
 * more than 64 values in one key (the rest are ignored).  Each capture
 * is replayed through a freshly started firewall, so captures are
 * independent and the result does not depend on -j.
 */
#ifndef SX_VERIFY_VERIFY_H
#define SX_VERIFY_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ingest/packet.h"

/* ---- the compiled profile ---- */

struct sx_verify_profile;

/*
 * Device identification; NULL or "" fields keep the profile's, but for a
 * device-info.ipv6 that is the link-local address device-info.mac makes
 * (sigex's inference), which a given mac replaces by its own unless ipv6
 * is given too.  gateway and
 * phone replace the firewall's IPv4 addresses for those aliases
 * (protocols/ip.py and arp.py fix them at 192.168.1.1 and 192.168.1.222; a
 * deployment edits them for its LAN).
 */
struct sx_verify_ids {
	const char *ipv4;
	const char *ipv6;
	const char *mac;
	const char *gateway;
	const char *phone;
};

/*
 * sx_verify_profile_load - read and compile a profile.yaml.
 * @path:  the profile (read with the bounded YAML tree)
 * @ids:   overrides of device-info's addresses, or NULL
 * @out:   receives the profile; caller frees with sx_verify_profile_free()
 * @msg:   a one-line cause on failure (msglen bytes)
 * Returns 0, SX_E_FORMAT (not a profile the translator would take: no
 * device-info, a policy without protocols, an address that is neither an
 * alias, an address nor a name...), -errno or -ENOMEM.  Context: any thread.
 */
int sx_verify_profile_load(const char *path, const struct sx_verify_ids *ids,
			   struct sx_verify_profile **out, char *msg, size_t msglen);

/* The same from a YAML document in memory (tests). */
int sx_verify_profile_parse(const char *yaml, size_t len, const struct sx_verify_ids *ids,
			    struct sx_verify_profile **out, char *msg, size_t msglen);

void sx_verify_profile_free(struct sx_verify_profile *p);

/* Number of compiled policies (a bidirectional one counts twice) and the
 * name of one, "interaction#policy[-backward]" as the firewall logs it
 * ("single#..." for single policies).  Thread-safe. */
size_t sx_verify_profile_npolicies(const struct sx_verify_profile *p);
const char *sx_verify_profile_policy_name(const struct sx_verify_profile *p, size_t i);

/*
 * The nftables rule of compiled rule i (0 <= i < sx_verify_profile_nrules()),
 * written as the translator writes it in firewall.nft (queue numbers
 * included), into buf.  For the cross-checks with nft.
 */
size_t sx_verify_profile_nrules(const struct sx_verify_profile *p);
const char *sx_verify_profile_rule(const struct sx_verify_profile *p, size_t i, char *buf,
				   size_t bufsz);

/* ---- one running firewall ---- */

struct sx_verify_fw;

enum sx_verify_why {
	SX_VERIFY_NOT_DEVICE = 0, /* not the device's traffic: the firewall lets it pass */
	SX_VERIFY_ACCEPT,	  /* accepted by policy (and rule) */
	SX_VERIFY_NO_RULE,	  /* denied: no rule's nftables matches hold */
	SX_VERIFY_QUEUE_DROP,	  /* denied: a queue's callback accepted no policy */
	SX_VERIFY_TIMEOUT,	  /* denied: an interaction timed out (state reset) */
};

struct sx_verify_verdict {
	uint8_t why;   /* enum sx_verify_why */
	int policy;    /* accepting policy index, or -1 */
	int rule;      /* the rule that decided, or -1 (no rule matched) */
	bool from_dev; /* the packet was sent by the device */
};

/*
 * sx_verify_fw_new - a firewall freshly started with profile p.
 * Borrowed: p must outlive the firewall.  Caller frees with
 * sx_verify_fw_free().  Returns 0 or -ENOMEM.  One thread at a time.
 */
int sx_verify_fw_new(const struct sx_verify_profile *p, struct sx_verify_fw **out);
void sx_verify_fw_free(struct sx_verify_fw *fw);
/* Back to the state of a fresh start (DNS table, states, flows). */
void sx_verify_fw_reset(struct sx_verify_fw *fw);
/* Set the device MAC used for entry and "self" (learnt from a capture). */
void sx_verify_fw_set_mac(struct sx_verify_fw *fw, const uint8_t mac[6]);
/* Whether the firewall knows a MAC (from the profile, --mac or set above). */
bool sx_verify_fw_has_mac(const struct sx_verify_fw *fw);

/*
 * sx_verify_fw_packet - the firewall's verdict for pkt (decoded by ingest,
 * in capture order), updating its state as the firewall would.  No
 * allocation on the way, except when the DNS table learns an address.
 * Returns 0 or -ENOMEM (the verdict is then still set).
 */
int sx_verify_fw_packet(struct sx_verify_fw *fw, const struct sx_pkt *pkt,
			struct sx_verify_verdict *v);

/* ---- replaying captures ---- */

enum sx_verify_format { SX_VERIFY_TEXT = 0, SX_VERIFY_CSV, SX_VERIFY_YAML };

struct sx_verify_cfg {
	const char *const *paths; /* captures; borrowed, must outlive the call */
	uint32_t npaths;
	unsigned nthreads;  /* 0: the online CPUs */
	const char *filter; /* BPF filter applied to every capture, or NULL */
	bool stateless;	    /* ignore interactions' states (rules alone) */
};

struct sx_verify_result;

/*
 * sx_verify_run - replay every capture through its own fresh firewall.
 * @out: receives the result; caller frees with sx_verify_result_free()
 * Unreadable captures are reported in the result (and on stderr), not as an
 * error.  Returns 0, SX_E_STOPPED, or -ENOMEM.  The calling thread waits.
 */
int sx_verify_run(const struct sx_verify_profile *p, const struct sx_verify_cfg *cfg,
		  struct sx_verify_result **out);
void sx_verify_result_free(struct sx_verify_result *r);

/* The headline numbers.  Rates are percentages, 100 when there is nothing. */
struct sx_verify_summary {
	uint64_t packets, packets_allowed;
	uint64_t flows, flows_allowed;
	double packets_pct, flows_pct;
	uint32_t captures, captures_bad;
	size_t policies, policies_hit;
	size_t denied_kinds;
};
void sx_verify_result_summary(const struct sx_verify_result *r, struct sx_verify_summary *s);

/*
 * sx_verify_result_denied - denied kind i (most packets first), as
 * "transport port peer app" parts; any may be "".  Returns false past the
 * end.  Strings live as long as r.
 */
struct sx_verify_kind {
	const char *transport, *port, *peer, *app;
	uint64_t packets, flows;
	const char *example_capture; /* capture of the first packet */
	int64_t example_sec;
	uint32_t example_nsec;
};
bool sx_verify_result_denied(const struct sx_verify_result *r, size_t i, struct sx_verify_kind *k);

/* Write the report (text opens with "packets N, allowed P%" and
 * "flows N, allowed P%").  Returns 0 or -EIO; YAML also -ENOMEM or
 * SX_E_YAML (the writer's). */
int sx_verify_report(FILE *f, const struct sx_verify_profile *p, const struct sx_verify_result *r,
		     enum sx_verify_format fmt);

#endif /* SX_VERIFY_VERIFY_H */
