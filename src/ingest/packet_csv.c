/*
 * packet_csv.c - the packet stage's CSV: one row per packet read.
 *
 * Columns (docs/csv.md documents each): File, Index, Timestamp, Src,
 * SrcPort, Dst, DstPort, Transport, Protocol, Length, CapLen,
 * ApplicationSpecific, then the application columns.  Every text value is
 * printable ASCII already (packet.h's invariant); text that the network
 * chose goes through sx_buf_csv_text(), which quotes per RFC 4180 and
 * neutralises spreadsheet formulas.  Stateless; any thread with its own
 * buffer.
 */
#include "ingest/ingest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/text.h"

#define SUMMARY_MAX 768

/* Dotted quad without printf (it is on every DNS answer and flow row). */
static void ipv4_str(const uint8_t *b, char *buf, size_t bufsz)
{
	char t[16], *p = t;
	unsigned i;

	for (i = 0; i < 4; i++) {
		unsigned v = b[i];

		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
	if ((size_t)(p - t) <= bufsz)
		memcpy(buf, t, (size_t)(p - t));
}

/*
 * RFC 5952 text without printf, the same string as glibc's inet_ntop()
 * (which calls sprintf per group: 4,000 instructions an AAAA answer): the
 * leftmost longest run of two or more zero groups as "::", groups in
 * lower-case hex without leading zeros, and the last 32 bits as a dotted
 * quad after ::ffff: (mapped) or :: with six zero groups (compatible).
 */
static void ipv6_str(const uint8_t *b, char *buf, size_t bufsz)
{
	static const char hex[] = "0123456789abcdef";
	char t[INET6_ADDRSTRLEN], *p = t;
	unsigned w[8], i, best = 8, best_len = 0, cur = 8, cur_len = 0;

	for (i = 0; i < 8; i++) {
		w[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
		if (w[i] == 0) {
			if (cur_len++ == 0)
				cur = i;
			if (cur_len > best_len) {
				best = cur;
				best_len = cur_len;
			}
		} else {
			cur_len = 0;
		}
	}
	if (best_len < 2)
		best = 8;
	for (i = 0; i < 8; i++) {
		int sh;

		if (best < 8 && i >= best && i < best + best_len) {
			if (i == best)
				*p++ = ':';
			continue;
		}
		if (i)
			*p++ = ':';
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
			ipv4_str(b + 12, p, sizeof(t) - (size_t)(p - t));
			p += strlen(p);
			break;
		}
		for (sh = 12; sh > 0 && !(w[i] >> sh); sh -= 4)
			;
		for (; sh >= 0; sh -= 4)
			*p++ = hex[w[i] >> sh & 15];
	}
	if (best < 8 && best + best_len == 8)
		*p++ = ':';
	*p++ = '\0';
	if ((size_t)(p - t) <= bufsz)
		memcpy(buf, t, (size_t)(p - t));
}

const char *sx_addr_str(const struct sx_addr *a, char *buf, size_t bufsz)
{
	if (bufsz == 0)
		return buf;
	buf[0] = '\0';
	if (a->family == 4)
		ipv4_str(a->b, buf, bufsz);
	else if (a->family == 6)
		ipv6_str(a->b, buf, bufsz);
	return buf;
}

const char *sx_mac_str(const uint8_t mac[6], char *buf, size_t bufsz)
{
	static const char hex[] = "0123456789abcdef";
	char t[SX_MAC_TEXT_MAX];
	int i;

	if (bufsz == 0)
		return buf;
	buf[0] = '\0';
	if (sx_mac_is_zero(mac) || bufsz < sizeof(t))
		return buf;
	for (i = 0; i < 6; i++) {
		t[3 * i] = hex[mac[i] >> 4];
		t[3 * i + 1] = hex[mac[i] & 15];
		t[3 * i + 2] = i < 5 ? ':' : '\0';
	}
	memcpy(buf, t, sizeof(t));
	return buf;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int sx_mac_parse(const char *s, uint8_t mac[6])
{
	int i, hi, lo;

	if (strlen(s) != 17 || (s[2] != ':' && s[2] != '-'))
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		hi = hexval(s[3 * i]);
		lo = hexval(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != s[2]))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

const char *sx_ip_proto_name(uint8_t proto, char *buf, size_t bufsz)
{
	switch (proto) {
	case 1:
		return "ICMP";
	case 2:
		return "IGMP";
	case 6:
		return "TCP";
	case 17:
		return "UDP";
	case 58:
		return "ICMPV6";
	case 132:
		return "SCTP";
	default:
		snprintf(buf, bufsz, "%u", proto);
		return buf;
	}
}

static const char *ntp_mode_name(uint8_t m)
{
	static const char *const names[8] = {"reserved", "symmetric-active", "symmetric-passive",
					     "client",	 "server",	     "broadcast",
					     "control",	 "private"};

	return names[m & 7];
}

static const char *tls_type_name(uint8_t ct)
{
	switch (ct) {
	case 20:
		return "change_cipher_spec";
	case 21:
		return "alert";
	case 22:
		return "handshake";
	case 23:
		return "application_data";
	case 24:
		return "heartbeat";
	default:
		return "unknown";
	}
}

static void tls_summary(const struct sx_tls *t, char *buf, size_t bufsz)
{
	size_t o = 0;
	int i;

	buf[0] = '\0';
	if (t->hs_type == 1) {
		snprintf(buf, bufsz, "ClientHello%s%s", t->sni[0] ? " " : "", t->sni);
		return;
	}
	if (t->hs_type == 2) {
		snprintf(buf, bufsz, "ServerHello");
		return;
	}
	for (i = 0; i < t->nrecords && o + 1 < bufsz; i++) {
		int k = snprintf(buf + o, bufsz - o, "%s%s", i ? " " : "",
				 tls_type_name(t->content_type[i]));

		if (k < 0)
			break;
		o += (size_t)k;
	}
}

const char *sx_pkt_summary(const struct sx_pkt *pkt, char *buf, size_t bufsz)
{
	char tmp[64], tmp2[64];
	const union sx_app *a = &pkt->app;

	if (bufsz == 0)
		return buf;
	buf[0] = '\0';
	switch (pkt->proto) {
	case SX_P_DNS:
	case SX_P_MDNS:
	case SX_P_LLMNR:
		if (a->dns.nq || a->dns.nrr) { /* "<TYPE> <name>." */
			uint16_t type = a->dns.nq ? a->dns.q[0].qtype : a->dns.rr[0].type;
			size_t n =
			    sx_text_cat(buf, bufsz, 0, sx_dns_type_name(type, tmp, sizeof(tmp)));

			n = sx_text_cat(buf, bufsz, n, " ");
			n = sx_text_cat(buf, bufsz, n,
					a->dns.nq ? a->dns.q[0].name : a->dns.rr[0].name);
			sx_text_cat(buf, bufsz, n, ".");
		}
		break;
	case SX_P_DHCP: {
		const char *t = sx_dhcp_type_name(a->dhcp.msg_type);

		snprintf(buf, bufsz, "%s", t ? t : a->dhcp.msg_type ? "unknown" : "bootp");
		break;
	}
	case SX_P_COAP:
		snprintf(buf, bufsz, "%s %s %s%s%s", sx_coap_type_name(a->coap.type),
			 sx_coap_code_name(a->coap.code, tmp, sizeof(tmp)),
			 a->coap.path[0] ? a->coap.path : "/", a->coap.query[0] ? "?" : "",
			 a->coap.query);
		break;
	case SX_P_HTTP:
		if (a->http.response)
			snprintf(buf, bufsz, "%u", a->http.status);
		else if (a->http.continuation)
			snprintf(buf, bufsz, "%s", a->http.host);
		else
			snprintf(buf, bufsz, "%s %s%s%s%s", a->http.method, a->http.host,
				 a->http.path, a->http.query[0] ? "?" : "", a->http.query);
		break;
	case SX_P_TLS:
		tls_summary(&a->tls, buf, bufsz);
		break;
	case SX_P_SSDP:
		snprintf(buf, bufsz, "%s%s%s", sx_ssdp_kind_name(a->ssdp.kind),
			 a->ssdp.st[0] ? " " : "", a->ssdp.st);
		break;
	case SX_P_NTP:
		snprintf(buf, bufsz, "v%u %s", a->ntp.version, ntp_mode_name(a->ntp.mode));
		break;
	case SX_P_MQTT:
		snprintf(buf, bufsz, "%s%s%s", sx_mqtt_type_name(a->mqtt.type),
			 a->mqtt.topic[0] || a->mqtt.client_id[0] ? " " : "",
			 a->mqtt.topic[0] ? a->mqtt.topic : a->mqtt.client_id);
		break;
	case SX_P_TPLINK:
		snprintf(buf, bufsz, "%s%s", a->tplink.response ? "reply " : "", a->tplink.cmd);
		break;
	case SX_P_IGMP: {
		struct sx_addr g = {.family = 4};

		memcpy(g.b, a->igmp.group, 4);
		snprintf(buf, bufsz, "v%u type 0x%02x %s", a->igmp.version, a->igmp.type,
			 sx_addr_str(&g, tmp2, sizeof(tmp2)));
		break;
	}
	case SX_P_ICMP:
	case SX_P_ICMPV6:
		snprintf(buf, bufsz, "type %u code %u", a->icmp.type, a->icmp.code);
		break;
	default:
		break;
	}
	return buf;
}

static const char *const header =
    "File,Index,Timestamp,Src,SrcPort,Dst,DstPort,Transport,Protocol,Length,CapLen,"
    "ApplicationSpecific,dns_qname,dns_qtype,dns_answers,tls_sni,tls_alpn,http_method,"
    "http_host,http_uri,http_status,coap_type,coap_code,coap_uri,ssdp_method,ssdp_st,"
    "dhcp_type,dhcp_hostname,mqtt_topic,src_name,dst_name\n";

void sx_packet_csv_header(struct sx_buf *b)
{
	sx_buf_puts(b, header);
}

static void put_sep_text(struct sx_buf *b, const char *s)
{
	sx_buf_putc(b, ',');
	sx_buf_csv_text(b, s);
}

static void put_empty(struct sx_buf *b, int n)
{
	while (n-- > 0)
		sx_buf_putc(b, ',');
}

/* dns_answers: "name=value" pairs, space-separated; spaces inside a value
 * (SRV, TXT) are written as \x20 so the list stays splittable. */
static void dns_answers(const struct sx_dns *d, char *out, size_t outsz)
{
	size_t o = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < d->nrr; i++) {
		const struct sx_dns_rr *rr = &d->rr[i];
		const char *v;
		int k;

		if (rr->section != SX_DNS_AN || !rr->data[0])
			continue;
		k = snprintf(out + o, outsz - o, "%s%s=", o ? " " : "", rr->name);
		if (k < 0 || (size_t)k >= outsz - o)
			break;
		o += (size_t)k;
		for (v = rr->data; *v && o + 5 < outsz; v++) {
			if (*v == ' ') {
				memcpy(out + o, "\\x20", 4);
				o += 4;
			} else {
				out[o++] = *v;
			}
		}
		out[o] = '\0';
		if (o + 5 >= outsz)
			break;
	}
}

static void app_columns(struct sx_buf *b, const struct sx_pkt *pkt)
{
	const union sx_app *a = &pkt->app;
	char tmp[64];
	char big[2048];

	/* dns_qname,dns_qtype,dns_answers */
	if ((pkt->proto == SX_P_DNS || pkt->proto == SX_P_MDNS || pkt->proto == SX_P_LLMNR)) {
		if (a->dns.nq) {
			put_sep_text(b, a->dns.q[0].name);
			put_sep_text(b, sx_dns_type_name(a->dns.q[0].qtype, tmp, sizeof(tmp)));
		} else {
			put_empty(b, 2);
		}
		dns_answers(&a->dns, big, sizeof(big));
		put_sep_text(b, big);
	} else {
		put_empty(b, 3);
	}
	/* tls_sni,tls_alpn */
	if (pkt->proto == SX_P_TLS) {
		put_sep_text(b, a->tls.sni);
		put_sep_text(b, a->tls.alpn);
	} else {
		put_empty(b, 2);
	}
	/* http_method,http_host,http_uri,http_status */
	if (pkt->proto == SX_P_HTTP) {
		put_sep_text(b, a->http.method);
		put_sep_text(b, a->http.host);
		snprintf(big, sizeof(big), "%s%s%s", a->http.path, a->http.query[0] ? "?" : "",
			 a->http.query);
		put_sep_text(b, big);
		sx_buf_putc(b, ',');
		if (a->http.response)
			sx_buf_u64(b, a->http.status);
	} else {
		put_empty(b, 4);
	}
	/* coap_type,coap_code,coap_uri */
	if (pkt->proto == SX_P_COAP) {
		put_sep_text(b, sx_coap_type_name(a->coap.type));
		put_sep_text(b, sx_coap_code_name(a->coap.code, tmp, sizeof(tmp)));
		snprintf(big, sizeof(big), "%s%s%s", a->coap.path, a->coap.query[0] ? "?" : "",
			 a->coap.query);
		put_sep_text(b, big);
	} else {
		put_empty(b, 3);
	}
	/* ssdp_method,ssdp_st */
	if (pkt->proto == SX_P_SSDP) {
		put_sep_text(b, sx_ssdp_kind_name(a->ssdp.kind));
		put_sep_text(b, a->ssdp.st);
	} else {
		put_empty(b, 2);
	}
	/* dhcp_type,dhcp_hostname */
	if (pkt->proto == SX_P_DHCP) {
		const char *t = sx_dhcp_type_name(a->dhcp.msg_type);

		put_sep_text(b, t ? t : "");
		put_sep_text(b, a->dhcp.hostname);
	} else {
		put_empty(b, 2);
	}
	/* mqtt_topic */
	if (pkt->proto == SX_P_MQTT)
		put_sep_text(b, a->mqtt.topic);
	else
		put_empty(b, 1);
}

void sx_packet_csv_row(struct sx_buf *b, const char *file, const struct sx_pkt *pkt,
		       const struct sx_names *names)
{
	char addr[64], tmp[16];
	char summary[SUMMARY_MAX];
	const char *name;
	bool ports = pkt->proto != SX_P_IPV4 && pkt->proto != SX_P_IPV6 &&
		     (pkt->ip_proto == 6 || pkt->ip_proto == 17) && !pkt->frag_later &&
		     pkt->src.family;

	sx_buf_csv_text(b, file);
	sx_buf_putc(b, ',');
	sx_buf_u64(b, pkt->index);
	sx_buf_putc(b, ',');
	sx_buf_ts(b, (uint64_t)pkt->ts_sec, pkt->ts_nsec);
	sx_buf_putc(b, ',');
	sx_buf_puts(b, sx_addr_str(&pkt->src, addr, sizeof(addr)));
	sx_buf_putc(b, ',');
	if (ports)
		sx_buf_u64(b, pkt->sport);
	sx_buf_putc(b, ',');
	sx_buf_puts(b, sx_addr_str(&pkt->dst, addr, sizeof(addr)));
	sx_buf_putc(b, ',');
	if (ports)
		sx_buf_u64(b, pkt->dport);
	sx_buf_putc(b, ',');
	if (pkt->src.family)
		sx_buf_puts(b, sx_ip_proto_name(pkt->ip_proto, tmp, sizeof(tmp)));
	sx_buf_putc(b, ',');
	sx_buf_puts(b, sx_proto_name(pkt->proto));
	sx_buf_putc(b, ',');
	sx_buf_u64(b, pkt->wire_len);
	sx_buf_putc(b, ',');
	sx_buf_u64(b, pkt->cap_len);
	put_sep_text(b, sx_pkt_summary(pkt, summary, sizeof(summary)));
	app_columns(b, pkt);
	name = pkt->src.family ? sx_names_lookup(names, &pkt->src) : NULL;
	if (!name && pkt->src.family)
		name = sx_names_lookup_local(names, &pkt->src);
	put_sep_text(b, name ? name : "");
	name = pkt->dst.family ? sx_names_lookup(names, &pkt->dst) : NULL;
	if (!name && pkt->dst.family)
		name = sx_names_lookup_local(names, &pkt->dst);
	put_sep_text(b, name ? name : "");
	sx_buf_putc(b, '\n');
}
