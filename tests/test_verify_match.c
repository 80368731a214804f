/*
 * test_verify_match.c - the firewall replay's matcher, key by key: for each
 * key a packet the firewall accepts and one it drops, written from the
 * firewall's own code (the file and function are cited per test; paths under
 * ../shared/firewall/src/).  Packets are struct sx_pkt built by hand, as
 * ingest's decoder fills them.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "verify/verify.h"

TestSuite(verify_match, .timeout = 30);

#define DEV_MAC "02:00:00:00:00:01"
#define DEV_IP	"192.168.1.135"

static const char head[] = "device-info:\n"
			   "  name: dev\n"
			   "  mac: " DEV_MAC "\n"
			   "  ipv4: " DEV_IP "\n";

struct fx {
	struct sx_verify_profile *p;
	struct sx_verify_fw *fw;
};

static struct fx load(const char *policies)
{
	char yaml[4096], msg[256];
	struct fx x;

	snprintf(yaml, sizeof(yaml), "%s%s", head, policies);
	cr_assert_eq(sx_verify_profile_parse(yaml, strlen(yaml), NULL, &x.p, msg, sizeof(msg)), 0,
		     "%s", msg);
	cr_assert_eq(sx_verify_fw_new(x.p, &x.fw), 0);
	return x;
}

static void unload(struct fx *x)
{
	sx_verify_fw_free(x->fw);
	sx_verify_profile_free(x->p);
}

static void set_addr(struct sx_addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->b) == 1)
		a->family = 4;
	else if (inet_pton(AF_INET6, s, a->b) == 1)
		a->family = 6;
}

/* An IP packet between the device and peer (from the device when out). */
static struct sx_pkt ip_pkt(bool out, const char *peer, uint8_t ip_proto, uint16_t sport,
			    uint16_t dport)
{
	static const uint8_t dev[6] = {2, 0, 0, 0, 0, 1}, other[6] = {2, 0, 0, 0, 0, 9};
	struct sx_pkt p;

	memset(&p, 0, sizeof(p));
	p.ts_sec = 1000;
	p.has_mac = true;
	memcpy(out ? p.mac_src : p.mac_dst, dev, 6);
	memcpy(out ? p.mac_dst : p.mac_src, other, 6);
	set_addr(out ? &p.src : &p.dst, DEV_IP);
	set_addr(out ? &p.dst : &p.src, peer);
	p.ethertype = p.src.family == 6 ? 0x86dd : 0x0800;
	p.ip_proto = ip_proto;
	p.proto = ip_proto == 6 ? SX_P_TCP : ip_proto == 17 ? SX_P_UDP : SX_P_IPV4;
	p.sport = sport;
	p.dport = dport;
	return p;
}

static int verdict(struct fx *x, const struct sx_pkt *p)
{
	struct sx_verify_verdict v;

	cr_assert_eq(sx_verify_fw_packet(x->fw, p, &v), 0);
	return v.why;
}

static void dns_q(struct sx_pkt *p, bool qr, uint16_t qtype, const char *name)
{
	p->proto = SX_P_DNS;
	memset(&p->app.dns, 0, sizeof(p->app.dns));
	p->app.dns.qr = qr;
	p->app.dns.qdcount = 1;
	p->app.dns.nq = 1;
	p->app.dns.q[0].qtype = qtype;
	snprintf(p->app.dns.q[0].name, sizeof(p->app.dns.q[0].name), "%s", name);
}

static void dns_a(struct sx_pkt *p, const char *owner, const char *addr)
{
	struct sx_dns_rr *rr = &p->app.dns.rr[p->app.dns.nrr++];

	rr->section = SX_DNS_AN;
	rr->type = 1;
	snprintf(rr->name, sizeof(rr->name), "%s", owner);
	set_addr(&rr->addr, addr);
	p->app.dns.ancount++;
}

/* Transport.parse() (protocols/Transport.py): "tcp dport {}" forward,
 * "tcp sport {}" for the backward policy of a bidirectional one. */
Test(verify_match, ports_and_backward)
{
	struct fx x = load("single-policies:\n"
			   "  web:\n"
			   "    protocols:\n"
			   "      tcp:\n"
			   "        dst-port: 443\n"
			   "      ipv4:\n"
			   "        src: self\n"
			   "        dst: 52.3.101.168\n"
			   "    bidirectional: true\n");
	struct sx_pkt p = ip_pkt(true, "52.3.101.168", 6, 50000, 443);

	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
	p = ip_pkt(false, "52.3.101.168", 6, 443, 50000); /* the reply */
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
	p = ip_pkt(true, "52.3.101.168", 6, 50000, 80);
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_NO_RULE);
	p = ip_pkt(true, "52.3.101.169", 6, 50000, 443);
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_NO_RULE);
	unload(&x);
}

/* ip.explicit_address() (protocols/ip.py): aliases are the firewall's fixed
 * addresses: gateway 192.168.1.1, phone 192.168.1.222, external
 * "!= 192.168.0.0/16". */
Test(verify_match, aliases)
{
	struct fx x = load("single-policies:\n"
			   "  to-phone:\n"
			   "    protocols:\n"
			   "      udp:\n"
			   "        src-port: 9999\n"
			   "      ipv4:\n"
			   "        src: self\n"
			   "        dst: phone\n"
			   "  out:\n"
			   "    protocols:\n"
			   "      tcp:\n"
			   "        dst-port: 8883\n"
			   "      ipv4:\n"
			   "        src: self\n"
			   "        dst: external\n");
	struct sx_pkt p = ip_pkt(true, "192.168.1.222", 17, 9999, 40000);

	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
	p = ip_pkt(true, "192.168.1.110", 17, 9999, 40000); /* a phone elsewhere */
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_NO_RULE);
	p = ip_pkt(true, "8.8.8.8", 6, 40000, 8883);
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
	p = ip_pkt(true, "192.168.1.5", 6, 40000, 8883);
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_NO_RULE);
	unload(&x);
}

/* Protocol.format_list() (protocols/Protocol.py): a list of ports and ranges
 * is one nftables anonymous set.  "external" holds the multicast groups, so
 * a peer-to-peer policy as the profile writer gives it (the dynamic range
 * less SSDP's and mDNS's ports) admits a stream to any public peer and no
 * device's mDNS or SSDP to their groups; the whole range would. */
Test(verify_match, port_list_and_multicast_external)
{
	static const char *const ranges[] = {"[1024-1899, 1901-5352, 5354-32767]", "1024-32767"};

	for (int i = 0; i < 2; i++) {
		char yaml[512];
		struct fx x;
		struct sx_pkt p;

		snprintf(yaml, sizeof(yaml),
			 "single-policies:\n"
			 "  udp-external:\n"
			 "    protocols:\n"
			 "      udp:\n"
			 "        src-port: %s\n"
			 "        dst-port: %s\n"
			 "      ipv4:\n"
			 "        src: self\n"
			 "        dst: external\n"
			 "    bidirectional: true\n",
			 ranges[i], ranges[i]);
		x = load(yaml);
		p = ip_pkt(true, "130.104.214.55", 17, 26251, 11193);
		cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
		p = ip_pkt(false, "130.104.214.55", 17, 11193, 26251);
		cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
		p = ip_pkt(true, "224.0.0.251", 17, 5353, 5353);
		cr_assert_eq(verdict(&x, &p), i ? SX_VERIFY_ACCEPT : SX_VERIFY_NO_RULE);
		p = ip_pkt(true, "239.255.255.250", 17, 20000, 1900);
		cr_assert_eq(verdict(&x, &p), i ? SX_VERIFY_ACCEPT : SX_VERIFY_NO_RULE);
		p = ip_pkt(true, "130.104.214.55", 17, 26251, 1900);
		cr_assert_eq(verdict(&x, &p), i ? SX_VERIFY_ACCEPT : SX_VERIFY_NO_RULE);
		unload(&x);
	}
}

/* ip.add_addr_nfqueue() (protocols/ip.py) and callback.c.j2's DNS response
 * action (dns_get_ip_from_name() in parsers/src/dns.c, dns_map_add()): a
 * host name matches only addresses a DNS response accepted by a policy of
 * the profile gave for exactly that name. */
/* A DNS policy for names (a domain-name entry or list) and a policy whose
 * end is the host api.example.com. */
static struct fx load_name_end(const char *names)
{
	char yaml[1024];

	snprintf(yaml, sizeof(yaml),
		 "single-policies:\n"
		 "  dns:\n"
		 "    protocols:\n"
		 "      dns:\n"
		 "        qtype: A\n"
		 "        domain-name: %s\n"
		 "      udp:\n"
		 "        dst-port: 53\n"
		 "      ipv4:\n"
		 "        src: self\n"
		 "        dst: gateway\n"
		 "    bidirectional: true\n"
		 "  api:\n"
		 "    protocols:\n"
		 "      tcp:\n"
		 "        dst-port: 443\n"
		 "      ipv4:\n"
		 "        src: self\n"
		 "        dst: api.example.com\n",
		 names);
	return load(yaml);
}

Test(verify_match, host_name_through_the_dns_table)
{
	struct fx x = load_name_end("api.example.com");
	struct sx_pkt p = ip_pkt(true, "203.0.113.7", 6, 40000, 443);

	/* before any DNS answer: dropped by the queue */
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_QUEUE_DROP);
	p = ip_pkt(true, "192.168.1.1", 17, 40001, 53);
	dns_q(&p, false, 1, "api.example.com");
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
	p = ip_pkt(false, "192.168.1.1", 17, 53, 40001);
	dns_q(&p, true, 1, "api.example.com");
	dns_a(&p, "api.example.com", "203.0.113.7");
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
	p = ip_pkt(true, "203.0.113.7", 6, 40000, 443);
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
	p = ip_pkt(true, "203.0.113.8", 6, 40000, 443);
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_QUEUE_DROP);
	unload(&x);
}

/* callback.c.j2 learns a response's answers under the name of the first
 * domain-name entry its question matches, and a wildcard's entry is its
 * bare suffix: "$.example.com" teaches the table no host of example.com;
 * the exact name listed before it does (what the profile writer writes). */
static void learn_through(const char *names, int want)
{
	struct fx x = load_name_end(names);
	struct sx_pkt p;

	p = ip_pkt(true, "192.168.1.1", 17, 40001, 53);
	dns_q(&p, false, 1, "api.example.com");
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT, "%s", names);
	p = ip_pkt(false, "192.168.1.1", 17, 53, 40001);
	dns_q(&p, true, 1, "api.example.com");
	dns_a(&p, "api.example.com", "203.0.113.7");
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT, "%s", names);
	p = ip_pkt(true, "203.0.113.7", 6, 40000, 443);
	cr_assert_eq(verdict(&x, &p), want, "%s", names);
	unload(&x);
}

Test(verify_match, a_wildcard_teaches_no_name)
{
	learn_through("$.example.com", SX_VERIFY_QUEUE_DROP);
	learn_through("[api.example.com, $.example.com]", SX_VERIFY_ACCEPT);
	/* the first entry a question matches names what is learned */
	learn_through("[$.example.com, api.example.com]", SX_VERIFY_QUEUE_DROP);
}

/* dns.parse() (protocols/dns.py): qr == 0 forward, qtype on the first
 * question, "$suffix" through dns_contains_suffix_domain_name(). */
Test(verify_match, dns_wildcard_and_qtype)
{
	struct fx x = load("single-policies:\n"
			   "  dns:\n"
			   "    protocols:\n"
			   "      dns:\n"
			   "        qtype: AAAA\n"
			   "        domain-name: $.example.com\n"
			   "      udp:\n"
			   "        dst-port: 53\n"
			   "      ipv4:\n"
			   "        src: self\n");
	struct sx_pkt p = ip_pkt(true, "192.168.1.1", 17, 40001, 53);

	dns_q(&p, false, 28, "a1.example.com");
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
	dns_q(&p, false, 1, "a1.example.com"); /* A, not AAAA */
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_QUEUE_DROP);
	dns_q(&p, false, 28, "a1.example.org");
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_QUEUE_DROP);
	unload(&x);
}

/* "$.domain" as an address end: add_addr_nfqueue() looks the literal
 * "$.example.com" up in the DNS table, which only holds exact names. */
Test(verify_match, wildcard_is_not_an_address)
{
	struct fx x = load("single-policies:\n"
			   "  dns:\n"
			   "    protocols:\n"
			   "      dns:\n"
			   "        domain-name: $.example.com\n"
			   "      udp:\n"
			   "        dst-port: 53\n"
			   "    bidirectional: true\n"
			   "  api:\n"
			   "    protocols:\n"
			   "      tcp:\n"
			   "        dst-port: 443\n"
			   "      ipv4:\n"
			   "        dst: $.example.com\n");
	struct sx_pkt p = ip_pkt(false, "192.168.1.1", 17, 53, 40001);

	dns_q(&p, true, 1, "a1.example.com");
	dns_a(&p, "a1.example.com", "203.0.113.7");
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_QUEUE_DROP); /* a response, no query seen */
	p = ip_pkt(true, "192.168.1.1", 17, 40001, 53);
	dns_q(&p, false, 1, "a1.example.com");
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
	p = ip_pkt(false, "192.168.1.1", 17, 53, 40001);
	dns_q(&p, true, 1, "a1.example.com");
	dns_a(&p, "a1.example.com", "203.0.113.7");
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
	p = ip_pkt(true, "203.0.113.7", 6, 40000, 443);
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_QUEUE_DROP);
	unload(&x);
}

static void http_payload(struct sx_pkt *p, const char *text)
{
	p->payload = (const uint8_t *)text;
	p->payload_cap = p->payload_len = (uint32_t)strlen(text);
}

/* http.parse() (protocols/http.py), http_parse_message() (parsers/src/
 * http.c): a request is a known method to port 80; "uri: /a*" is a prefix;
 * a segment without a method passes (`!is_http_message || ...`). */
Test(verify_match, http_method_uri)
{
	struct fx x = load("single-policies:\n"
			   "  http:\n"
			   "    protocols:\n"
			   "      http:\n"
			   "        method: GET\n"
			   "        uri: /api/*\n"
			   "      tcp:\n"
			   "        dst-port: 80\n"
			   "      ipv4:\n"
			   "        src: self\n");
	struct sx_pkt p = ip_pkt(true, "198.51.100.1", 6, 40000, 80);

	http_payload(&p, "GET /api/v1?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
	http_payload(&p, "POST /api/v1 HTTP/1.1\r\nHost: a\r\n\r\n");
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_QUEUE_DROP);
	http_payload(&p, "GET /other HTTP/1.1\r\nHost: a\r\n\r\n");
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_QUEUE_DROP);
	p.payload = NULL; /* a bare ACK */
	p.payload_cap = p.payload_len = 0;
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
	unload(&x);
}

/* dhcp.parse() (protocols/dhcp.py): message type and client-mac, "self"
 * being device-info's mac, compared as text with mac_hex_to_str(). */
Test(verify_match, dhcp_type_and_client_mac)
{
	struct fx x = load("single-policies:\n"
			   "  dhcp:\n"
			   "    protocols:\n"
			   "      dhcp:\n"
			   "        type: discover\n"
			   "        client-mac: self\n"
			   "      udp:\n"
			   "        src-port: 68\n"
			   "        dst-port: 67\n"
			   "      ipv4:\n"
			   "        dst: broadcast\n");
	struct sx_pkt p = ip_pkt(true, "255.255.255.255", 17, 68, 67);
	static const uint8_t dev[6] = {2, 0, 0, 0, 0, 1};

	set_addr(&p.src, "0.0.0.0");
	p.proto = SX_P_DHCP;
	p.app.dhcp.msg_type = 1;
	memcpy(p.app.dhcp.chaddr, dev, 6);
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
	p.app.dhcp.msg_type = 3; /* request */
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_QUEUE_DROP);
	p.app.dhcp.msg_type = 1;
	p.app.dhcp.chaddr[5] = 2;
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_QUEUE_DROP);
	unload(&x);
}

/* ssdp.parse() (protocols/ssdp.py), ssdp_parse_message() (parsers/src/
 * ssdp.c): a request is one sent to 239.255.255.250; the method is read
 * from the first letter (M-SEARCH, NOTIFY). */
Test(verify_match, ssdp_request_and_method)
{
	struct fx x = load("single-policies:\n"
			   "  ssdp:\n"
			   "    protocols:\n"
			   "      ssdp:\n"
			   "        method: M-SEARCH\n"
			   "      udp:\n"
			   "        dst-port: 1900\n"
			   "      ipv4:\n"
			   "        src: self\n");
	struct sx_pkt p = ip_pkt(true, "239.255.255.250", 17, 40000, 1900);

	http_payload(&p, "M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n");
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
	http_payload(&p, "NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\n\r\n");
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_QUEUE_DROP);
	p = ip_pkt(true, "192.168.1.9", 17, 40000, 1900); /* unicast: not a request */
	http_payload(&p, "M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n");
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_QUEUE_DROP);
	unload(&x);
}

/* coap.parse() (protocols/coap.py), coap_parse_message() (parsers/src/
 * coap.c): type, method (codes 0.01-0.04 as HTTP methods), exact URI. */
Test(verify_match, coap_type_method_uri)
{
	struct fx x = load("single-policies:\n"
			   "  coap:\n"
			   "    protocols:\n"
			   "      coap:\n"
			   "        type: NON\n"
			   "        method: POST\n"
			   "        uri: /event\n"
			   "      udp:\n"
			   "        dst-port: 5683\n"
			   "      ipv4:\n"
			   "        src: self\n");
	struct sx_pkt p = ip_pkt(true, "192.168.1.9", 17, 40000, 5683);

	p.proto = SX_P_COAP;
	p.app.coap.type = SX_COAP_NON;
	p.app.coap.code = 2; /* 0.02 POST */
	snprintf(p.app.coap.path, sizeof(p.app.coap.path), "/event");
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
	p.app.coap.code = 1; /* GET */
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_QUEUE_DROP);
	p.app.coap.code = 2;
	snprintf(p.app.coap.path, sizeof(p.app.coap.path), "/event/2");
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_QUEUE_DROP);
	unload(&x);
}

/* mdns is dns (protocols/mdns.py): the same matches on port 5353. */
Test(verify_match, mdns_response)
{
	struct fx x = load("single-policies:\n"
			   "  mdns:\n"
			   "    protocols:\n"
			   "      mdns:\n"
			   "        response: true\n"
			   "        domain-name: dev.local\n"
			   "      udp:\n"
			   "        dst-port: 5353\n"
			   "      ipv4:\n"
			   "        src: self\n"
			   "        dst: mdns\n");
	struct sx_pkt p = ip_pkt(true, "224.0.0.251", 17, 5353, 5353);

	dns_q(&p, true, 1, "dev.local");
	p.proto = SX_P_MDNS;
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
	dns_q(&p, false, 1, "dev.local"); /* a query: response wanted */
	p.proto = SX_P_MDNS;
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_QUEUE_DROP);
	unload(&x);
}

/* icmp.parse() (protocols/icmp.py): "icmp type echo-request", flipped to
 * echo-reply for the backward policy. */
Test(verify_match, icmp_type)
{
	struct fx x = load("single-policies:\n"
			   "  ping:\n"
			   "    protocols:\n"
			   "      icmp:\n"
			   "        type: echo-request\n"
			   "      ipv4:\n"
			   "        src: self\n"
			   "        dst: gateway\n"
			   "    bidirectional: true\n");
	struct sx_pkt p = ip_pkt(true, "192.168.1.1", 1, 0, 0);

	p.proto = SX_P_ICMP;
	p.app.icmp.type = 8;
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
	p = ip_pkt(false, "192.168.1.1", 1, 0, 0);
	p.proto = SX_P_ICMP;
	p.app.icmp.type = 0;
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
	p.app.icmp.type = 3;
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_NO_RULE);
	unload(&x);
}

/* An mDNS datagram over IPv6 from src, sent from Ethernet address mac. */
static struct sx_pkt mdns6_from(const char *src, const uint8_t mac[6])
{
	struct sx_pkt p;

	memset(&p, 0, sizeof(p));
	p.ts_sec = 1000;
	p.has_mac = true;
	memcpy(p.mac_src, mac, 6);
	p.mac_dst[0] = 0x33;
	p.mac_dst[1] = 0x33;
	p.mac_dst[5] = 0xfb;
	set_addr(&p.src, src);
	set_addr(&p.dst, "ff02::fb");
	p.ethertype = 0x86dd;
	p.ip_proto = 17;
	p.proto = SX_P_UDP;
	p.sport = p.dport = 5353;
	return p;
}

/* The verdict on pkt of a fresh firewall of the profile yaml with ids. */
static int verdict_of(const char *yaml, const struct sx_verify_ids *ids, const struct sx_pkt *pkt)
{
	struct sx_verify_profile *p;
	struct sx_verify_fw *fw;
	struct sx_verify_verdict v;
	char msg[256];

	cr_assert_eq(sx_verify_profile_parse(yaml, strlen(yaml), ids, &p, msg, sizeof(msg)), 0,
		     "%s", msg);
	cr_assert_eq(sx_verify_fw_new(p, &fw), 0);
	cr_assert_eq(sx_verify_fw_packet(fw, pkt, &v), 0);
	sx_verify_fw_free(fw);
	sx_verify_profile_free(p);
	return v.why;
}

/* A device-info.ipv6 that is the link-local address device-info.mac makes
 * (sigex's inference) follows a MAC given in its place: another unit of the
 * model is self by its own link-local address; a given --ipv6 wins, and an
 * ipv6 not made from the MAC stays. */
Test(verify_match, a_link_local_self_follows_a_given_mac)
{
	static const char yaml[] = "device-info:\n"
				   "  name: dev\n"
				   "  mac: 02:00:00:00:00:01\n"
				   "  ipv6: fe80::ff:fe00:1\n"
				   "single-policies:\n"
				   "  mdns6:\n"
				   "    protocols:\n"
				   "      udp: {src-port: 5353, dst-port: 5353}\n"
				   "      ipv6: {src: self, dst: 'ff02::fb'}\n";
	static const uint8_t own[6] = {2, 0, 0, 0, 0, 1}, unit[6] = {2, 0, 0, 0, 0, 9};
	struct sx_verify_ids ids = {.mac = "02:00:00:00:00:09"};
	struct sx_pkt mine = mdns6_from("fe80::ff:fe00:1", own);
	struct sx_pkt other = mdns6_from("fe80::ff:fe00:9", unit);
	struct sx_pkt other2 = mdns6_from("fe80::ff:fe00:2", unit);
	char global[512];

	/* as written: the device's own */
	cr_assert_eq(verdict_of(yaml, NULL, &mine), SX_VERIFY_ACCEPT);
	/* another unit in its place, by its MAC */
	cr_assert_eq(verdict_of(yaml, &ids, &other), SX_VERIFY_ACCEPT);
	/* --ipv6 given: it wins */
	ids.ipv6 = "fe80::77";
	cr_assert_neq(verdict_of(yaml, &ids, &other), SX_VERIFY_ACCEPT);
	/* an ipv6 not made from device-info.mac stays self */
	ids.ipv6 = NULL;
	snprintf(global, sizeof(global), "%s", yaml);
	memcpy(strstr(global, "fe80::ff:fe00:1"), "fe80::ff:fe00:2", 15);
	cr_assert_neq(verdict_of(global, &ids, &other), SX_VERIFY_ACCEPT);
	cr_assert_eq(verdict_of(global, &ids, &other2), SX_VERIFY_ACCEPT);
}

/* igmp.parse() (protocols/igmp.py): V3_MEMBERSHIP_REPORT, first group. */
Test(verify_match, igmp_type_group)
{
	struct fx x = load("single-policies:\n"
			   "  igmp:\n"
			   "    protocols:\n"
			   "      igmp:\n"
			   "        version: 3\n"
			   "        type: membership report\n"
			   "        group: mdns\n"
			   "      ipv4:\n"
			   "        src: self\n"
			   "        dst: igmpv3\n");
	struct sx_pkt p = ip_pkt(true, "224.0.0.22", 2, 0, 0);

	p.proto = SX_P_IGMP;
	p.app.igmp.version = 3;
	p.app.igmp.type = 0x22;
	memcpy(p.app.igmp.group, (uint8_t[]){224, 0, 0, 251}, 4);
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
	memcpy(p.app.igmp.group, (uint8_t[]){239, 255, 255, 250}, 4);
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_QUEUE_DROP);
	unload(&x);
}

/* arp.parse() (protocols/arp.py) and the entry rule `arp daddr ip <ipv4>
 * jump filter` (templates/firewall.nft.j2). */
Test(verify_match, arp)
{
	struct fx x = load("single-policies:\n"
			   "  arp:\n"
			   "    protocols:\n"
			   "      arp:\n"
			   "        type: request\n"
			   "        spa: gateway\n"
			   "        tpa: self\n"
			   "    bidirectional: true\n");
	struct sx_pkt p;

	memset(&p, 0, sizeof(p));
	p.has_mac = true;
	memset(p.mac_dst, 0xff, 6);
	p.mac_src[0] = 0xc0;
	p.proto = SX_P_ARP;
	p.ethertype = 0x0806;
	p.has_arp = true;
	p.arp_op = 1;
	memcpy(p.arp_spa, (uint8_t[]){192, 168, 1, 1}, 4);
	memcpy(p.arp_tpa, (uint8_t[]){192, 168, 1, 135}, 4);
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_ACCEPT);
	p.arp_op = 2; /* a reply from the gateway: not this policy */
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_NO_RULE);
	memcpy(p.arp_tpa, (uint8_t[]){192, 168, 1, 77}, 4); /* not the device's */
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_NOT_DEVICE);
	unload(&x);
}

/* templates/firewall.nft.j2 hooks the bridge's prerouting; the kernel's
 * br_handle_frame() delivers frames to the reserved link-local group
 * addresses (01:80:c2:00:00:0x) through NF_BR_LOCAL_IN instead; on a Wi-Fi
 * access point hostapd takes EAPOL (0x888e) before any bridge.  So the
 * device's EAPOL is never the chain's, while its other frames are. */
Test(verify_match, link_local_frames_never_reach_the_chain)
{
	struct fx x = load("single-policies: {}\n");
	struct sx_pkt p;

	memset(&p, 0, sizeof(p));
	p.has_mac = true;
	memcpy(p.mac_src, (uint8_t[]){2, 0, 0, 0, 0, 1}, 6);
	memcpy(p.mac_dst, (uint8_t[]){0x01, 0x80, 0xc2, 0, 0, 0x03}, 6);
	p.ethertype = 0x888e; /* EAPOL */
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_NOT_DEVICE);
	/* EAPOL to the access point's own address: hostapd's, not the chain's */
	memcpy(p.mac_dst, (uint8_t[]){0x02, 0, 0, 0, 0, 0x42}, 6);
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_NOT_DEVICE);
	p.ethertype = 0x88cc; /* another protocol to it: the device's, dropped */
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_NO_RULE);
	unload(&x);
}

/* callback.c.j2, one-off policies of an interaction: state guard
 * `current_state >= state`, `if (current_state == state) current_state =
 * (state + 1) % (max_state + 1)`; the last policy wraps the state to 0. */
Test(verify_match, interaction_states)
{
	struct fx x = load("interactions:\n"
			   "  ev:\n"
			   "    first:\n"
			   "      protocols:\n"
			   "        udp:\n"
			   "          dst-port: 1000\n"
			   "        ipv4:\n"
			   "          src: self\n"
			   "          dst: gateway\n"
			   "    second:\n"
			   "      protocols:\n"
			   "        udp:\n"
			   "          dst-port: 2000\n"
			   "        ipv4:\n"
			   "          src: self\n"
			   "          dst: gateway\n");
	struct sx_pkt a = ip_pkt(true, "192.168.1.1", 17, 5000, 1000);
	struct sx_pkt b = ip_pkt(true, "192.168.1.1", 17, 5000, 2000);

	cr_assert_eq(verdict(&x, &b), SX_VERIFY_QUEUE_DROP); /* second before first */
	cr_assert_eq(verdict(&x, &a), SX_VERIFY_ACCEPT);     /* 0 -> 1 */
	cr_assert_eq(verdict(&x, &b), SX_VERIFY_ACCEPT);     /* 1 -> 0 */
	cr_assert_eq(verdict(&x, &b), SX_VERIFY_QUEUE_DROP);
	unload(&x);
}

/* translator.py's parse_policy(): a periodic policy (stats rate; `rate: 0`,
 * NFQueue.py writes no limit for it) is a new state only when first or
 * last, and only the first advances the state (callback.c.j2), so an
 * interaction of periodic policies opens on its first policy and then
 * admits the others in any order, any number of times, never wrapping. */
Test(verify_match, periodic_interaction_opens_once)
{
	struct fx x = load("interactions:\n"
			   "  ev:\n"
			   "    first:\n"
			   "      protocols:\n"
			   "        udp:\n"
			   "          dst-port: 1000\n"
			   "        ipv4:\n"
			   "          src: self\n"
			   "          dst: gateway\n"
			   "      stats:\n"
			   "        rate: 0\n"
			   "    second:\n"
			   "      protocols:\n"
			   "        udp:\n"
			   "          dst-port: 2000\n"
			   "        ipv4:\n"
			   "          src: self\n"
			   "          dst: gateway\n"
			   "      stats:\n"
			   "        rate: 0\n"
			   "    third:\n"
			   "      protocols:\n"
			   "        udp:\n"
			   "          dst-port: 3000\n"
			   "        ipv4:\n"
			   "          src: self\n"
			   "          dst: gateway\n"
			   "      stats:\n"
			   "        rate: 0\n");
	struct sx_pkt a = ip_pkt(true, "192.168.1.1", 17, 5000, 1000);
	struct sx_pkt b = ip_pkt(true, "192.168.1.1", 17, 5000, 2000);
	struct sx_pkt c = ip_pkt(true, "192.168.1.1", 17, 5000, 3000);

	cr_assert_eq(verdict(&x, &c), SX_VERIFY_QUEUE_DROP); /* not open yet */
	cr_assert_eq(verdict(&x, &a), SX_VERIFY_ACCEPT);     /* opens: 0 -> 1 */
	cr_assert_eq(verdict(&x, &c), SX_VERIFY_ACCEPT);     /* any order */
	cr_assert_eq(verdict(&x, &c), SX_VERIFY_ACCEPT);     /* no wrap */
	cr_assert_eq(verdict(&x, &b), SX_VERIFY_ACCEPT);
	cr_assert_eq(verdict(&x, &a), SX_VERIFY_ACCEPT);
	cr_assert_eq(verdict(&x, &b), SX_VERIFY_ACCEPT);
	unload(&x);
}

/* A single bidirectional one-off policy is an interaction of two states
 * (translator.py: its forward and backward policies, max_state 1): with a
 * queue, an answer is admitted only after a request, so a second segment
 * in a row from the server is dropped.  Written one way with the answers'
 * own policy (profile.c), each of one state, nothing alternates; a plain
 * bidirectional policy made periodic (`rate: 0`) is an nftables accept
 * both ways. */
Test(verify_match, bidirectional_queue_policy_alternates)
{
	struct fx x = load("single-policies:\n"
			   "  http:\n"
			   "    protocols:\n"
			   "      http:\n"
			   "        method: GET\n"
			   "      tcp:\n"
			   "        dst-port: 80\n"
			   "      ipv4:\n"
			   "        src: self\n"
			   "    bidirectional: true\n");
	struct sx_pkt req = ip_pkt(true, "198.51.100.1", 6, 40000, 80);
	struct sx_pkt ans = ip_pkt(false, "198.51.100.1", 6, 80, 40000);

	http_payload(&req, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	cr_assert_eq(verdict(&x, &req), SX_VERIFY_ACCEPT);     /* 0 -> 1 */
	cr_assert_eq(verdict(&x, &ans), SX_VERIFY_ACCEPT);     /* 1 -> 0 */
	cr_assert_eq(verdict(&x, &ans), SX_VERIFY_QUEUE_DROP); /* a second in a row */
	unload(&x);

	x = load("single-policies:\n"
		 "  http:\n"
		 "    protocols:\n"
		 "      http:\n"
		 "        method: GET\n"
		 "      tcp:\n"
		 "        dst-port: 80\n"
		 "      ipv4:\n"
		 "        src: self\n"
		 "  http-answers:\n"
		 "    protocols:\n"
		 "      tcp:\n"
		 "        src-port: 80\n"
		 "      ipv4:\n"
		 "        dst: self\n");
	cr_assert_eq(verdict(&x, &req), SX_VERIFY_ACCEPT);
	cr_assert_eq(verdict(&x, &ans), SX_VERIFY_ACCEPT);
	cr_assert_eq(verdict(&x, &ans), SX_VERIFY_ACCEPT);
	unload(&x);

	x = load("single-policies:\n"
		 "  tcp-80:\n"
		 "    protocols:\n"
		 "      tcp:\n"
		 "        dst-port: 80\n"
		 "      ipv4:\n"
		 "        src: self\n"
		 "    bidirectional: true\n"
		 "    stats:\n"
		 "      rate: 0\n");
	req.payload = NULL;
	req.payload_cap = req.payload_len = 0;
	cr_assert_eq(verdict(&x, &ans), SX_VERIFY_ACCEPT); /* no state at all */
	cr_assert_eq(verdict(&x, &ans), SX_VERIFY_ACCEPT);
	cr_assert_eq(verdict(&x, &req), SX_VERIFY_ACCEPT);
	unload(&x);
}

/* is_timedout() (nfqueue.c): an interaction idle longer than its timeout
 * is reset and the packet dropped. */
Test(verify_match, interaction_timeout)
{
	struct fx x = load("interactions:\n"
			   "  ev:\n"
			   "    first:\n"
			   "      protocols:\n"
			   "        udp:\n"
			   "          dst-port: 1000\n"
			   "        ipv4:\n"
			   "          src: self\n"
			   "      timeout: 5\n"
			   "    second:\n"
			   "      protocols:\n"
			   "        udp:\n"
			   "          dst-port: 2000\n"
			   "        ipv4:\n"
			   "          src: self\n"
			   "      timeout: 5\n");
	struct sx_pkt a = ip_pkt(true, "192.168.1.1", 17, 5000, 1000);
	struct sx_pkt b = ip_pkt(true, "192.168.1.1", 17, 5000, 2000);

	cr_assert_eq(verdict(&x, &a), SX_VERIFY_ACCEPT);
	b.ts_sec = a.ts_sec + 6;
	cr_assert_eq(verdict(&x, &b), SX_VERIFY_TIMEOUT);
	unload(&x);
}

/* NFQueue.contains_policy_matches() + the nft chain: the first rule whose
 * nftables matches hold decides, so a queue that rejects the packet drops
 * it even when a later accept rule would match. */
Test(verify_match, first_rule_decides)
{
	struct fx x = load("single-policies:\n"
			   "  dns-a:\n"
			   "    protocols:\n"
			   "      dns:\n"
			   "        domain-name: a.example.com\n"
			   "      udp:\n"
			   "        dst-port: 53\n"
			   "  any-53:\n"
			   "    protocols:\n"
			   "      udp:\n"
			   "        dst-port: 53\n"
			   "      ipv4:\n"
			   "        src: self\n");
	struct sx_pkt p = ip_pkt(true, "192.168.1.1", 17, 40001, 53);

	dns_q(&p, false, 1, "b.example.com");
	cr_assert_eq(verdict(&x, &p), SX_VERIFY_QUEUE_DROP);
	cr_assert_eq(sx_verify_profile_nrules(x.p), 2);
	unload(&x);
}

Test(verify_match, rejects_what_the_translator_rejects)
{
	struct sx_verify_profile *p = NULL;
	char msg[256];
	static const char no_dev[] = "single-policies:\n  a:\n    protocols:\n      udp: {}\n";

	cr_assert_eq(sx_verify_profile_parse(no_dev, strlen(no_dev), NULL, &p, msg, sizeof(msg)),
		     SX_E_FORMAT);
	cr_assert_null(p);
}

/* A policy refused after its interaction was begun (here "no protocols",
 * as a policy written with the firewall's "!include" reads): the parse
 * fails naming it, and frees the interaction's name with the rest (found by
 * fuzz_profile on the expert xiaomi-cam profile: 7 bytes leaked per
 * refusal, 5 here for "boot"; the ASan build's LSan reports it). */
Test(verify_match, refused_policy_frees_its_interaction)
{
	static const char *const bad[] = {
	    "single-policies:\n"
	    "  stream-local: \"patterns.stream\"\n",
	    "interactions:\n"
	    "  boot:\n"
	    "    a:\n"
	    "      protocols:\n"
	    "        udp: {dst-port: 53}\n"
	    "    b:\n"
	    "      protocols: []\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sx_verify_profile *p = NULL;
		char yaml[1024], msg[256];

		snprintf(yaml, sizeof(yaml), "%s%s", head, bad[i]);
		cr_assert_eq(
		    sx_verify_profile_parse(yaml, strlen(yaml), NULL, &p, msg, sizeof(msg)),
		    SX_E_FORMAT);
		cr_assert_null(p);
		cr_assert(strstr(msg, i == 0 ? "single#stream-local: no protocols"
					     : "boot#b: no protocols"),
			  "%s", msg);
	}
}
