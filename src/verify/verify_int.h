/*
 * verify_int.h - PRIVATE: the compiled profile shared by the verify
 * module's files (profile.c builds it, fw.c runs it, run.c and report.c
 * read it).  Read-only once built.
 */
#ifndef SX_VERIFY_VERIFY_INT_H
#define SX_VERIFY_VERIFY_INT_H

#include "ingest/ingest.h"
#include "verify/verify.h"

/* An address or network; neg for nft's "!= net" (the alias external). */
struct vx_net {
	uint8_t family; /* 4 or 6; 0: unparsable (matches nothing) */
	uint8_t plen;
	bool neg;
	uint8_t b[16];
};

/* One alternative of a match (a list in the profile is a disjunction). */
struct vx_alt {
	int64_t num, num2; /* numbers; a port range is num..num2 */
	char *str;	   /* names, URIs, MAC text */
	struct vx_net net;
	bool is_name; /* IP end: a host name, looked up in the DNS table */
	bool suffix;  /* DNS domain-name "$suffix", or a URI prefix */
	uint8_t mac[6];
};

/* nftables matches (evaluated in the kernel). */
enum vx_nft_kind {
	VX_N_L4PROTO = 0,
	VX_N_SPORT,
	VX_N_DPORT,
	VX_N_SADDR,
	VX_N_DADDR,
	VX_N_ICMP_TYPE,
	VX_N_ARP_OP,
	VX_N_ARP_SHA,
	VX_N_ARP_THA,
	VX_N_ARP_SPA,
	VX_N_ARP_TPA,
};

/* NFQueue matches (evaluated by the device's callback). */
enum vx_nfq_kind {
	VX_Q_ADDR = 0, /* an IP end holding host names; dir: 0 src, 1 dst */
	VX_Q_DNS_QR,
	VX_Q_DNS_QTYPE,
	VX_Q_DNS_NAME,
	VX_Q_HTTP_REQ, /* num: 1 when a request is wanted */
	VX_Q_HTTP_METHOD,
	VX_Q_HTTP_URI,
	VX_Q_DHCP_TYPE,
	VX_Q_DHCP_MAC,
	VX_Q_IGMP_TYPE,
	VX_Q_IGMP_GROUP,
	VX_Q_SSDP_REQ,
	VX_Q_SSDP_METHOD,
	VX_Q_COAP_TYPE,
	VX_Q_COAP_METHOD,
	VX_Q_COAP_URI,
};

struct vx_match {
	uint8_t kind;
	uint8_t family; /* addresses: 4 or 6 */
	uint8_t dir;	/* VX_Q_ADDR: 0 src, 1 dst */
	bool ct_orig;	/* nft "ct original ..." (initiator given) */
	size_t n;
	struct vx_alt *alts;
	char *text; /* the nft match as firewall.nft writes it (nft kinds) */
};

enum vx_parser {
	VX_P_NONE = 0,
	VX_P_DNS,
	VX_P_HTTP,
	VX_P_DHCP,
	VX_P_IGMP,
	VX_P_SSDP,
	VX_P_COAP,
	VX_P_OTHER, /* tls, mqtt: parsed by the firewall, not matched here */
};

struct vx_policy {
	char *name;	/* "interaction#policy[-backward]" */
	unsigned inter; /* index into profile->inters */
	unsigned idx;	/* policy_idx within the interaction */
	int state;
	int queue_num;
	bool backward, transient, periodic, one_off;
	uint8_t parser; /* enum vx_parser */
	bool dns_response_learns;
	struct vx_match *nft;
	size_t nnft;
	struct vx_match *nfq;
	size_t nnfq;
	/* counters (stats packet-count / duration): the value for this
	 * policy's direction, and where its counter lives (-1: none) */
	bool has_pc, has_dur;
	int64_t pc_need, dur_need_us;
	int pc_idx, dur_idx;
	bool pc_base, dur_base; /* this policy initialises the counter */
	double timeout;		/* seconds; 0: the default 3600; -1: none */
	char *key;		/* sorted nft matches: policies sharing it share a queue */
};

struct vx_inter {
	char *name;
	int max_state;
	size_t first, n; /* its policies: profile->pol[first .. first+n) */
};

struct vx_queue {
	char *key;
	int queue_num; /* < 0: a plain accept rule */
	size_t first_pol;
	size_t *pols; /* sorted as NFQueue.add_policy() sorts them */
	size_t npols;
};

struct sx_verify_profile {
	char *device;
	bool has_mac, has_ipv4, has_ipv6;
	uint8_t mac[6];
	char mac_text[18];
	char gateway[48], phone[48]; /* alias overrides, "" for the firewall's */
	struct vx_net ipv4, ipv6;
	struct vx_policy *pol;
	size_t npol;
	struct vx_inter *inters;
	size_t ninters;
	struct vx_queue *queues;
	size_t nqueues;
	unsigned not_modelled; /* VX_NM_* bits met in the profile */
};

#define VX_NM_LOOP     0x01
#define VX_NM_ACTIVITY 0x02
#define VX_NM_RATE     0x04
#define VX_NM_SIZE     0x08
#define VX_NM_TLS      0x10
#define VX_NM_OTHER    0x20 /* other local hosts' rules */

/* A flow of the replay (fw.c): canonical key, first packet's direction. */
struct vx_flow_key {
	uint8_t family, proto;
	uint16_t ethertype;
	uint16_t pa, pb;
	uint8_t a[16], b[16];
};

struct vx_flow {
	struct vx_flow_key key;
	bool orig_fwd; /* the first packet went a -> b */
	int32_t kind;  /* first denied kind (run.c), -1 none */
	uint32_t first_file;
	uint64_t first_index;
	uint64_t packets, denied;
};

/* fw.c internals for run.c */
void sx_verify_fw_set_stateless(struct sx_verify_fw *fw, bool stateless);
struct vx_flow *sx_verify__fw_last_flow(struct sx_verify_fw *fw);
/* The flow table's slots, and the flow in slot i (< nslots), NULL when the
 * slot is empty. */
size_t sx_verify__fw_nslots(const struct sx_verify_fw *fw);
const struct vx_flow *sx_verify__fw_flow_at(const struct sx_verify_fw *fw, size_t i);

/* The firewall's `!include` (include.c): every include of root replaced
 * by the node it names, files relative to dir (NULL: the profile itself
 * only).  0, SX_E_FORMAT (msg set), -errno or -ENOMEM. */
struct sx_ytree;
int sx_verify__includes(struct sx_ytree *root, const char *dir, char *msg, size_t msglen);
/* The tree's bounds for a profile: the defaults, aliases resolved. */
const struct sx_ytree_limits *sx_verify__profile_limits(void);

/* Address helpers (profile.c). */
bool sx_verify__net_has(const struct vx_net *n, const struct sx_addr *a);
int sx_verify__parse_mac(const char *s, uint8_t mac[6]);

#endif /* SX_VERIFY_VERIFY_INT_H */
