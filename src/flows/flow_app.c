/*
 * flow_app.c - what the application layer of a packet adds to its flow,
 * and the port tables.
 *
 * DESIGN
 *
 * ApplicationSpecific (one text per flow, from the first packet that has
 * one) follows the reference tool's forms where it had one, and
 * sx_pkt_summary() (the packets CSV) otherwise:
 *   DNS, mDNS, LLMNR  "<QTYPE> <qname>."  (first question, else first record)
 *   DHCP              the message type ("discover", ..., "bootp")
 *   CoAP              "<TYPE> <CODE> /path?query"  (type by name: CON, NON...)
 *   HTTP              "<METHOD> <host><path>"  (requests only; no query)
 *   TLS               the SNI of the ClientHello
 *   TP-Link           the command ("system.set_relay_state")
 *   ARP               the operation: "request", "reply", else its number
 *   SSDP, NTP, MQTT, IGMP, ICMP: the sx_pkt_summary() text.
 * A flow with none gets, at output, the service name of its service port
 * (flow_csv.c), as the reference did from /etc/services.
 *
 * Attribute tokens (the AppAttributes column): every distinct "key=value"
 * the flow carried, in order of first sight, space-separated, bounded by
 * SX_FLOW_ATTR_MAX (tokens that do not fit are dropped and attr_cut set):
 * 832 bytes, since a device's long-lived mDNS flow probes several long
 * names before it answers (a D-Link camera's seven, a hub's IPv6 reverse
 * name), and 320 dropped the last names and every answer.
 * Values are packet text (printable ASCII, escaped by core/text.h); a space
 * inside a value is written "\x20", which cannot be confused with anything
 * since a literal backslash is already "\\".  Keys:
 *   dns.q mdns.q llmnr.q   "<QTYPE>:<name>" per question
 *   dns.rr mdns.rr ...     "<TYPE>:<name>" of the first record, when no question
 *   dns.rcode              non-zero response codes
 *   tls.sni tls.alpn       ClientHello
 *   http.req               "<METHOD>:<host><path>";  http.status  "<code>"
 *   http.fw                "<METHOD>:<uri>": a TCP payload to port 80 that is
 *                          no request line but that the smart-home firewall
 *                          reads as a request (sx_http_fw_read(): a header
 *                          section's continuation "Host: ..." is to it
 *                          "HEAD:", "Content-Length: 48" "CONNECT:Length:"),
 *                          which the profile's http policies must admit;
 *                          only when the URI it reads is printable
 *   coap                   "<TYPE>:<CODE>:<path>[?query]"
 *   ssdp                   "<KIND>:<ST or NT>";  ssdp.server
 *   dhcp                   message type;  dhcp.hostname  dhcp.vendor
 *   ntp                    "v<version>:<mode>"
 *   mqtt                   "<TYPE>[:<topic or client id>]"
 *   igmp                   "v<version>:<type>:<group>"
 *   icmp icmpv6            "<type>:<code>"
 *   tplink tplink.reply    the command list;  tplink.args  a request's scalar
 *                          arguments ("state=1")
 *   arp                    the operation, as in ApplicationSpecific
 *
 * Stateless; thread-safe; no allocation.
 */
#include "flows/flows.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/text.h"
#include "flows/flows_int.h"

unsigned sx_flows__proto_rank(uint8_t proto)
{
	switch (proto) {
	case SX_P_TCP:
	case SX_P_UDP:
	case SX_P_ICMP:
	case SX_P_ICMPV6:
	case SX_P_IGMP:
		return 1;
	case SX_P_DNS:
	case SX_P_MDNS:
	case SX_P_LLMNR:
	case SX_P_TLS:
	case SX_P_HTTP:
	case SX_P_COAP:
	case SX_P_SSDP:
	case SX_P_DHCP:
	case SX_P_NTP:
	case SX_P_MQTT:
	case SX_P_TPLINK:
		return 2;
	default:
		return 0;
	}
}

static bool is_dns(uint8_t proto)
{
	return proto == SX_P_DNS || proto == SX_P_MDNS || proto == SX_P_LLMNR;
}

/* The http.fw reading of pkt (see the top): its method (0: none) and URI. */
static int fw_reading(const struct sx_pkt *pkt, char *uri, size_t urisz)
{
	const char *c;
	int m;

	if (pkt->ip_proto != 6 || pkt->dport != 80 || !pkt->payload || pkt->frag_later ||
	    (pkt->proto == SX_P_HTTP && !pkt->app.http.response && pkt->app.http.method[0]))
		return 0; /* a request line is http.req */
	m = sx_http_fw_read(pkt->payload, pkt->payload_cap, pkt->payload_len, uri, urisz);
	for (c = uri; m && *c; c++)
		if (*c <= ' ' || *c > '~' || *c == '\\')
			return 0;
	return m;
}

/* Whether pkt has an http.fw reading; out of line, so that the other
 * packets' test has no buffer on its stack. */
static SX_NOINLINE bool has_fw_reading(const struct sx_pkt *pkt)
{
	char uri[SX_URI_MAX];

	return fw_reading(pkt, uri, sizeof(uri)) != 0;
}

bool sx_flows__pkt_has_app(const struct sx_pkt *pkt)
{
	switch (pkt->proto) {
	case SX_P_TLS:
		return pkt->app.tls.hs_type == 1;
	case SX_P_HTTP:
		if (pkt->app.http.response ? pkt->app.http.status != 0
					   : pkt->app.http.method[0] != '\0')
			return true;
		return pkt->dport == 80 && has_fw_reading(pkt);
	case SX_P_TCP:
		return pkt->dport == 80 && has_fw_reading(pkt);
	case SX_P_TPLINK:
		return pkt->app.tplink.cmd[0] != '\0';
	case SX_P_DNS:
	case SX_P_MDNS:
	case SX_P_LLMNR:
	case SX_P_COAP:
	case SX_P_SSDP:
	case SX_P_DHCP:
	case SX_P_NTP:
	case SX_P_MQTT:
	case SX_P_IGMP:
	case SX_P_ICMP:
	case SX_P_ICMPV6:
		return true;
	case SX_P_ARP:
		return pkt->has_arp;
	default:
		return false;
	}
}

const char *sx_flow_arp_op_name(uint16_t op, char *buf, size_t bufsz)
{
	if (op == SX_ARP_REQUEST)
		return "request";
	if (op == SX_ARP_REPLY)
		return "reply";
	snprintf(buf, bufsz, "%u", op);
	return buf;
}

int sx_flow_arp_op_parse(const char *s)
{
	unsigned long v = 0;
	size_t i;

	if (!strcmp(s, "request"))
		return SX_ARP_REQUEST;
	if (!strcmp(s, "reply"))
		return SX_ARP_REPLY;
	/* the number, as sx_flow_arp_op_name() writes it: no sign, no
	 * leading zero, never 1 or 2 */
	if (!strcmp(s, "0"))
		return 0;
	if (!s[0] || s[0] == '0' || strlen(s) > 5)
		return -1;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v > 65535 || v == SX_ARP_REQUEST || v == SX_ARP_REPLY ? -1 : (int)v;
}

void sx_flows__pkt_spec(const struct sx_pkt *pkt, char *buf, size_t bufsz)
{
	const union sx_app *a = &pkt->app;

	buf[0] = '\0';
	switch (pkt->proto) {
	case SX_P_TLS:
		if (a->tls.hs_type == 1)
			sx_text_cat(buf, bufsz, 0, a->tls.sni);
		return;
	case SX_P_HTTP:
		if (!a->http.response && a->http.method[0])
			snprintf(buf, bufsz, "%s %s%s", a->http.method, a->http.host, a->http.path);
		return;
	case SX_P_TPLINK:
		sx_text_cat(buf, bufsz, 0, a->tplink.cmd);
		return;
	case SX_P_DNS: /* "<QTYPE> <name>.", the reference's form */
	case SX_P_MDNS:
	case SX_P_LLMNR:
	case SX_P_DHCP:
	case SX_P_COAP:
	case SX_P_SSDP:
	case SX_P_NTP:
	case SX_P_MQTT:
	case SX_P_IGMP:
	case SX_P_ICMP:
	case SX_P_ICMPV6: {
		char big[768];

		sx_pkt_summary(pkt, big, sizeof(big));
		sx_text_cat(buf, bufsz, 0, big);
		return;
	}
	case SX_P_ARP: {
		char num[8];

		if (pkt->has_arp)
			sx_text_cat(buf, bufsz, 0,
				    sx_flow_arp_op_name(pkt->arp_op, num, sizeof(num)));
		return;
	}
	default:
		return;
	}
}

/* ---- attribute tokens ---- */

struct toks {
	char *buf;
	size_t size;
	size_t len;
};

/* Append "key=value" (value's spaces as \x20), whole or not at all.  The
 * value goes in runs between its spaces (this is on every DNS packet). */
static void tok_add(struct toks *t, const char *key, const char *val)
{
	size_t klen, vlen, spaces = 0, need;
	const char *p, *end, *sp;

	if (!val[0])
		return;
	klen = strlen(key);
	vlen = strlen(val);
	end = val + vlen;
	for (p = val; (sp = memchr(p, ' ', (size_t)(end - p))) != NULL; p = sp + 1)
		spaces++;
	need = klen + 1 + (t->len > 0) + vlen + 3 * spaces;
	if (t->len + need >= t->size)
		return;
	if (t->len)
		t->buf[t->len++] = ' ';
	memcpy(t->buf + t->len, key, klen);
	t->len += klen;
	t->buf[t->len++] = '=';
	for (p = val; spaces && (sp = memchr(p, ' ', (size_t)(end - p))) != NULL; p = sp + 1) {
		memcpy(t->buf + t->len, p, (size_t)(sp - p));
		t->len += (size_t)(sp - p);
		memcpy(t->buf + t->len, "\\x20", 4);
		t->len += 4;
	}
	memcpy(t->buf + t->len, p, (size_t)(end - p));
	t->len += (size_t)(end - p);
	t->buf[t->len] = '\0';
}

static void tok_addf(struct toks *t, const char *key, const char *fmt, ...) SX_PRINTF(3, 4);
/*
 * The value as vsnprintf() writes it, the conversions the tokens use (%s,
 * %u, %02x) formatted here without it (printf was 3 % of sigex flows on
 * one.pcap); any other format goes to vsnprintf().
 */
static void tok_addf(struct toks *t, const char *key, const char *fmt, ...)
{
	static const char hex[] = "0123456789abcdef";
	char val[SX_FLOW_ATTR_MAX];
	size_t n = 0;
	const char *f;
	va_list ap, again;

	va_start(ap, fmt);
	va_copy(again, ap);
	val[0] = '\0';
	for (f = fmt; *f; f++) {
		char num[12], *p = num + sizeof(num);
		unsigned v;

		*--p = '\0';
		if (*f != '%') {
			if (n + 1 < sizeof(val)) /* a literal byte, as sx_text_cat() */
				val[n++] = *f;
			val[n] = '\0';
		} else if (f[1] == 's') {
			n = sx_text_cat(val, sizeof(val), n, va_arg(ap, const char *));
			f++;
		} else if (f[1] == 'u') {
			v = va_arg(ap, unsigned);
			do {
				*--p = (char)('0' + v % 10);
				v /= 10;
			} while (v);
			n = sx_text_cat(val, sizeof(val), n, p);
			f++;
		} else if (f[1] == '0' && f[2] == '2' && f[3] == 'x') {
			v = va_arg(ap, unsigned);
			do {
				*--p = hex[v & 15];
				v >>= 4;
			} while (v);
			if (p == num + sizeof(num) - 2)
				*--p = '0';
			n = sx_text_cat(val, sizeof(val), n, p);
			f += 3;
		} else {
			vsnprintf(val, sizeof(val), fmt, again);
			break;
		}
	}
	va_end(again);
	va_end(ap);
	tok_add(t, key, val);
}

/* "<TYPE>:<name>" without printf: DNS is most of the application packets. */
static void tok_add_typed(struct toks *t, const char *key, uint16_t type, const char *name)
{
	char val[SX_FLOW_ATTR_MAX], tmp[16];
	const char *tn = sx_dns_type_name(type, tmp, sizeof(tmp));
	size_t lt = strlen(tn), ln;

	if (!name[0])
		name = ".";
	ln = strlen(name);
	if (lt + 1 + ln >= sizeof(val))
		return;
	memcpy(val, tn, lt);
	val[lt] = ':';
	memcpy(val + lt + 1, name, ln + 1);
	tok_add(t, key, val);
}

static void dns_tokens(struct toks *t, const struct sx_pkt *pkt)
{
	const struct sx_dns *d = &pkt->app.dns;
	bool m = pkt->proto == SX_P_MDNS, l = pkt->proto == SX_P_LLMNR;
	unsigned i;

	for (i = 0; i < d->nq && i < SX_DNS_MAX_Q; i++)
		tok_add_typed(t,
			      m	  ? "mdns.q"
			      : l ? "llmnr.q"
				  : "dns.q",
			      d->q[i].qtype, d->q[i].name);
	if (!d->nq && d->nrr)
		tok_add_typed(t,
			      m	  ? "mdns.rr"
			      : l ? "llmnr.rr"
				  : "dns.rr",
			      d->rr[0].type, d->rr[0].name);
	if (d->qr && d->rcode)
		tok_addf(t, m ? "mdns.rcode" : l ? "llmnr.rcode" : "dns.rcode", "%u", d->rcode);
}

void sx_flows__pkt_attrs(const struct sx_pkt *pkt, char *buf, size_t bufsz)
{
	const union sx_app *a = &pkt->app;
	struct toks t = {buf, bufsz, 0};
	char tmp[64], uri[SX_URI_MAX];
	int m;

	buf[0] = '\0';
	if (pkt->dport == 80 && (m = fw_reading(pkt, uri, sizeof(uri))) != 0)
		tok_addf(&t, "http.fw", "%s:%s", sx_http_fw_method_name(m), uri);
	if (is_dns(pkt->proto)) {
		dns_tokens(&t, pkt);
		return;
	}
	switch (pkt->proto) {
	case SX_P_TLS:
		if (a->tls.hs_type == 1) {
			tok_add(&t, "tls.sni", a->tls.sni);
			tok_add(&t, "tls.alpn", a->tls.alpn);
		}
		break;
	case SX_P_HTTP:
		if (a->http.response) {
			if (a->http.status)
				tok_addf(&t, "http.status", "%u", a->http.status);
		} else if (a->http.method[0]) {
			tok_addf(&t, "http.req", "%s:%s%s", a->http.method, a->http.host,
				 a->http.path);
		}
		break;
	case SX_P_COAP:
		tok_addf(&t, "coap", "%s:%s:%s%s%s", sx_coap_type_name(a->coap.type),
			 sx_coap_code_name(a->coap.code, tmp, sizeof(tmp)),
			 a->coap.path[0] ? a->coap.path : "/", a->coap.query[0] ? "?" : "",
			 a->coap.query);
		break;
	case SX_P_SSDP:
		tok_addf(&t, "ssdp", "%s:%s", sx_ssdp_kind_name(a->ssdp.kind), a->ssdp.st);
		tok_add(&t, "ssdp.server", a->ssdp.server);
		break;
	case SX_P_DHCP: {
		const char *name = sx_dhcp_type_name(a->dhcp.msg_type);

		tok_add(&t, "dhcp", name ? name : a->dhcp.msg_type ? "unknown" : "bootp");
		tok_add(&t, "dhcp.hostname", a->dhcp.hostname);
		tok_add(&t, "dhcp.vendor", a->dhcp.vendor_class);
		break;
	}
	case SX_P_NTP:
		tok_addf(&t, "ntp", "v%u:%u", a->ntp.version, a->ntp.mode);
		break;
	case SX_P_MQTT: {
		const char *arg = a->mqtt.topic[0] ? a->mqtt.topic : a->mqtt.client_id;

		tok_addf(&t, "mqtt", "%s%s%s", sx_mqtt_type_name(a->mqtt.type), arg[0] ? ":" : "",
			 arg);
		break;
	}
	case SX_P_IGMP:
		tok_addf(&t, "igmp", "v%u:0x%02x:%u.%u.%u.%u", a->igmp.version, a->igmp.type,
			 a->igmp.group[0], a->igmp.group[1], a->igmp.group[2], a->igmp.group[3]);
		break;
	case SX_P_ICMP:
		tok_addf(&t, "icmp", "%u:%u", a->icmp.type, a->icmp.code);
		break;
	case SX_P_ICMPV6:
		tok_addf(&t, "icmpv6", "%u:%u", a->icmp.type, a->icmp.code);
		break;
	case SX_P_TPLINK:
		tok_add(&t, a->tplink.response ? "tplink.reply" : "tplink", a->tplink.cmd);
		if (a->tplink.args[0])
			tok_add(&t, "tplink.args", a->tplink.args);
		break;
	case SX_P_ARP:
		if (pkt->has_arp)
			tok_add(&t, "arp", sx_flow_arp_op_name(pkt->arp_op, tmp, sizeof(tmp)));
		break;
	default:
		break;
	}
}

/* The token of list (len bytes) equal to tok (tlen bytes), NULL if none. */
static const char *find_token(const char *list, size_t len, const char *tok, size_t tlen)
{
	const char *p = list, *end = list + len;

	while (p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		size_t n = sp ? (size_t)(sp - p) : (size_t)(end - p);

		if (n == tlen && memcmp(p, tok, tlen) == 0)
			return p;
		p += n + 1;
	}
	return NULL;
}

bool sx_flows__attrs_merge(char *dst, size_t dsz, uint16_t *dlen, uint16_t run[2], const char *src)
{
	size_t len = *dlen, slen = strlen(src), left = slen, start = len + (len > 0);
	const char *src0 = src;
	bool cut = false;

	/* A flow's packets mostly repeat the message of the one before. */
	if (run[1] == slen && memcmp(dst + run[0], src, slen) == 0)
		return false;
	while (*src) {
		const char *sp = memchr(src, ' ', left);
		size_t n = sp ? (size_t)(sp - src) : left;
		const char *at = n ? find_token(dst, len, src, n) : NULL;

		/* Found, with the rest of src right after it at a token bound:
		 * every token left is in (an earlier packet appended them). */
		if (at && (size_t)(dst + len - at) >= left && memcmp(at, src, left) == 0 &&
		    (at + left == dst + len || at[left] == ' ')) {
			if (src == src0) {
				run[0] = (uint16_t)(at - dst);
				run[1] = (uint16_t)slen;
			}
			*dlen = (uint16_t)len;
			return cut;
		}
		if (!at && n) {
			size_t need = n + (len > 0);

			if (len + need < dsz) {
				if (len)
					dst[len++] = ' ';
				memcpy(dst + len, src, n);
				len += n;
				dst[len] = '\0';
			} else {
				cut = true;
			}
		}
		src += n;
		left -= n;
		while (*src == ' ') {
			src++;
			left--;
		}
	}
	/* all of src appended, as it is */
	if (len >= start && len - start == slen && memcmp(dst + start, src0, slen) == 0) {
		run[0] = (uint16_t)start;
		run[1] = (uint16_t)slen;
	}
	*dlen = (uint16_t)len;
	return cut;
}

/* ---- ports ---- */

struct port_name {
	uint16_t port;
	uint8_t tcp, udp; /* applies to TCP / UDP */
	const char *name; /* NULL: known service port without a netbase name */
};

/* WS-Discovery (IANA's name; netbase has none): SOAP-over-UDP to
 * 239.255.255.250 or ff02::c, the SSDP group, but not SSDP. */
static const char wsd[] = "ws-discovery";

/* Debian netbase names where it has one; IoT service ports besides (9999
 * TP-Link's, 54321 Xiaomi's miIO).  In port order (port_lookup() searches
 * it). */
static const struct port_name ports[] = {
    {20, 1, 0, "ftp-data"},	  {21, 1, 0, "ftp"},	       {22, 1, 0, "ssh"},
    {23, 1, 0, "telnet"},	  {25, 1, 0, "smtp"},	       {53, 1, 1, "domain"},
    {67, 0, 1, "bootps"},	  {68, 0, 1, "bootpc"},	       {69, 0, 1, "tftp"},
    {80, 1, 0, "http"},		  {110, 1, 0, "pop3"},	       {123, 0, 1, "ntp"},
    {137, 0, 1, "netbios-ns"},	  {138, 0, 1, "netbios-dgm"},  {139, 1, 0, "netbios-ssn"},
    {143, 1, 0, "imap2"},	  {161, 0, 1, "snmp"},	       {162, 0, 1, "snmp-trap"},
    {443, 1, 1, "https"},	  {445, 1, 0, "microsoft-ds"}, {465, 1, 0, "submissions"},
    {500, 0, 1, "isakmp"},	  {514, 0, 1, "syslog"},       {546, 0, 1, "dhcpv6-client"},
    {547, 0, 1, "dhcpv6-server"}, {554, 1, 1, "rtsp"},	       {587, 1, 0, "submission"},
    {631, 1, 1, "ipp"},		  {853, 1, 0, "domain-s"},     {993, 1, 0, "imaps"},
    {995, 1, 0, "pop3s"},	  {1883, 1, 0, "mqtt"},	       {1900, 0, 1, "ssdp"},
    {3478, 1, 1, "stun"},	  {3702, 1, 1, wsd},	       {4500, 0, 1, "ipsec-nat-t"},
    {5000, 1, 0, NULL},		  {5222, 1, 0, "xmpp-client"}, {5223, 1, 0, NULL},
    {5228, 1, 0, NULL},		  {5353, 0, 1, "mdns"},	       {5355, 0, 1, "llmnr"},
    {5683, 0, 1, "coap"},	  {5684, 0, 1, "coaps"},       {6667, 1, 0, "ircd"},
    {8008, 1, 0, NULL},		  {8009, 1, 0, NULL},	       {8080, 1, 0, "http-alt"},
    {8443, 1, 0, NULL},		  {8800, 1, 1, NULL},	       {8883, 1, 0, "secure-mqtt"},
    {9999, 1, 1, NULL},		  {20002, 0, 1, NULL},	       {54321, 0, 1, NULL},
};

/* The table's entry for port (ports is sorted by port, one entry each:
 * a binary search), when it applies to proto. */
static const struct port_name *port_lookup(uint8_t proto, uint16_t port)
{
	size_t lo = 0, hi = SX_ARRAY_SIZE(ports);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ports[mid].port < port) {
			lo = mid + 1;
		} else if (ports[mid].port > port) {
			hi = mid;
		} else {
			const struct port_name *e = &ports[mid];

			return (proto == 6 && e->tcp) || (proto == 17 && e->udp) ? e : NULL;
		}
	}
	return NULL;
}

const char *sx_flow_service_name(uint8_t proto, uint16_t port)
{
	const struct port_name *p = port_lookup(proto, port);

	return p ? p->name : NULL;
}

bool sx_flow_port_is_known(uint8_t proto, uint16_t port)
{
	return (port > 0 && port < 1024) || port_lookup(proto, port) != NULL;
}
