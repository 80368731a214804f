/*
 * upstream_packet.c - what the reference tool sees in one packet.
 *
 * The reference dissects with scapy 2.5 (scapy.all plus its HTTP, TLS and
 * CoAP layers); this file maps sx_decode()'s view of a packet to scapy's:
 *
 *   - signalling filter (packet_utils.is_signalling_pkt): ARP; a Padding
 *     layer, which scapy adds when bytes are captured past the IP total
 *     length or the UDP length (Ethernet padding of short frames, including
 *     small TCP data segments); TCP with S, F or R (pure ACKs are kept, and
 *     a TCP packet is never tested further); IPv4 Router Alert.  The ICMPv6
 *     kinds of the filter carry no transport, and packets without TCP or
 *     UDP, on which the reference crashes (KeyError), are skipped here too;
 *   - Protocol: scapy's name of the last layer that is not Raw, overridden
 *     by HTTP (TCP 80/8080 with a payload), HTTPS (ApplicationSpecific is
 *     exactly "https"), CoAP (UDP 5683), DHCP, DNS (UDP 53/5353, TCP 53);
 *     the port-bound layers of scapy that have a name of their own are in
 *     tcp_layers[] and udp_layers[];
 *   - ApplicationSpecific: TCP, the service names of both ports with the
 *     protocol unspecified (glibc's getservbyport(port, NULL) on Debian's
 *     netbase table, embedded in services.c); UDP, "".  Then HTTP "METHOD
 *     host+uri" (the real values, where the reference wrote the literal
 *     "{method} {uri}"), the reference's literal text for HTTP responses,
 *     CoAP "type code /path?query", DHCP the message type, DNS "QTYPE name."
 *     of the first question, else of the first plain record;
 *   - names (domain_extractor.py): a DNS query adds its name, a response
 *     adds each answer's address (A/AAAA: an address text; other records
 *     name nothing an address could equal), a TLS ClientHello on port 443
 *     adds the SNI for the destination address.
 *
 * Text: DNS names come from ingest in RFC 4343 form; the reference prints
 * the raw label bytes, so "\032" is turned back into a space (and any other
 * escaped printable byte into itself).  Not reproduced: non-ASCII bytes
 * (scapy decodes UTF-8, or crashes), case of the SNI and Host (ingest
 * lower-cases them).
 */
#include "upstream/upstream_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"
#include "core/text.h"
#include "ingest/ingest.h"
#include "mine/services.h"

/* ---- string map ---- */

struct sx_up_slot {
	char *key; /* owned */
	size_t val;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ULL;
	}
	return h ? h : 1;
}

void sx_up_map_init(struct sx_up_map *m)
{
	sx_map_init(&m->map, sizeof(struct sx_up_slot), 16, 75);
}

void sx_up_map_fini(struct sx_up_map *m)
{
	struct sx_up_slot *e;
	size_t i;

	for (i = 0; i < m->map.cap; i++) {
		e = sx_map_at(&m->map, i);
		if (e)
			free(e->key);
	}
	sx_map_fini(&m->map);
}

size_t *sx_up_map_get(const struct sx_up_map *m, const char *key)
{
	uint64_t h = hash_str(key);
	size_t pos = SX_MAP_START;
	struct sx_up_slot *e;

	while ((e = sx_map_next(&m->map, h, &pos)))
		if (strcmp(e->key, key) == 0)
			return &e->val;
	return NULL;
}

int sx_up_map_add(struct sx_up_map *m, const char *key, size_t val)
{
	uint64_t h = hash_str(key);
	size_t pos = SX_MAP_START;
	struct sx_up_slot *e;
	char *copy;

	if (sx_map_reserve(&m->map, m->map.n + 1))
		return -ENOMEM;
	while (sx_map_next(&m->map, h, &pos))
		; /* the key is absent: its slot is the first empty one */
	copy = strdup(key);
	if (!copy)
		return -ENOMEM;
	e = sx_map_add(&m->map, h, pos);
	e->key = copy;
	e->val = val;
	return 0;
}

/* ---- DNS names as scapy prints them ---- */

/* RFC 4343 presentation form -> the label bytes joined by dots, for the
 * printable ones ("\032" -> " ", "\." -> "."); other escapes are kept. */
static void dns_raw(char *dst, size_t dstsz, const char *src)
{
	size_t o = 0;

	while (*src && o + 1 < dstsz) {
		if (src[0] == '\\' && src[1] >= '0' && src[1] <= '9' && src[2] >= '0' &&
		    src[2] <= '9' && src[3] >= '0' && src[3] <= '9') {
			unsigned v = (unsigned)(src[1] - '0') * 100 +
				     (unsigned)(src[2] - '0') * 10 + (unsigned)(src[3] - '0');

			if (v >= 0x20 && v <= 0x7e && v != '\\') {
				dst[o++] = (char)v;
				src += 4;
				continue;
			}
		} else if (src[0] == '\\' && src[1] && src[1] != '\\') {
			dst[o++] = src[1];
			src += 2;
			continue;
		} else if (src[0] == '\\' && src[1] == '\\') {
			if (o + 2 >= dstsz)
				break;
			dst[o++] = '\\';
			dst[o++] = '\\';
			src += 2;
			continue;
		}
		dst[o++] = *src++;
	}
	dst[o] = '\0';
}

/* scapy.layers.dns.dnstypes (2.5); dnsqtypes adds 251..255. */
static const struct {
	uint16_t type;
	const char *name;
} dns_types[] = {
    {0, "ANY"},		 {1, "A"},	     {2, "NS"},		{3, "MD"},	  {4, "MF"},
    {5, "CNAME"},	 {6, "SOA"},	     {7, "MB"},		{8, "MG"},	  {9, "MR"},
    {10, "NULL"},	 {11, "WKS"},	     {12, "PTR"},	{13, "HINFO"},	  {14, "MINFO"},
    {15, "MX"},		 {16, "TXT"},	     {17, "RP"},	{18, "AFSDB"},	  {19, "X25"},
    {20, "ISDN"},	 {21, "RT"},	     {22, "NSAP"},	{23, "NSAP-PTR"}, {24, "SIG"},
    {25, "KEY"},	 {26, "PX"},	     {27, "GPOS"},	{28, "AAAA"},	  {29, "LOC"},
    {30, "NXT"},	 {31, "EID"},	     {32, "NIMLOC"},	{33, "SRV"},	  {34, "ATMA"},
    {35, "NAPTR"},	 {36, "KX"},	     {37, "CERT"},	{38, "A6"},	  {39, "DNAME"},
    {40, "SINK"},	 {41, "OPT"},	     {42, "APL"},	{43, "DS"},	  {44, "SSHFP"},
    {45, "IPSECKEY"},	 {46, "RRSIG"},	     {47, "NSEC"},	{48, "DNSKEY"},	  {49, "DHCID"},
    {50, "NSEC3"},	 {51, "NSEC3PARAM"}, {52, "TLSA"},	{53, "SMIMEA"},	  {55, "HIP"},
    {56, "NINFO"},	 {57, "RKEY"},	     {58, "TALINK"},	{59, "CDS"},	  {60, "CDNSKEY"},
    {61, "OPENPGPKEY"},	 {62, "CSYNC"},	     {63, "ZONEMD"},	{64, "SVCB"},	  {65, "HTTPS"},
    {99, "SPF"},	 {100, "UINFO"},     {101, "UID"},	{102, "GID"},	  {103, "UNSPEC"},
    {104, "NID"},	 {105, "L32"},	     {106, "L64"},	{107, "LP"},	  {108, "EUI48"},
    {109, "EUI64"},	 {249, "TKEY"},	     {250, "TSIG"},	{256, "URI"},	  {257, "CAA"},
    {258, "AVC"},	 {259, "DOA"},	     {260, "AMTRELAY"}, {32768, "TA"},	  {32769, "DLV"},
    {65535, "RESERVED"},
};

static const char *const dns_qtypes_extra[] = {"IXFR", "AXFR", "MAILB", "MAILA", "ALL"};

const char *sx_up_dns_type(uint16_t type, bool question, char *buf, size_t bufsz)
{
	size_t i;

	if (question && type >= 251 && type <= 255)
		return dns_qtypes_extra[type - 251];
	for (i = 0; i < SX_ARRAY_SIZE(dns_types); i++)
		if (dns_types[i].type == type)
			return dns_types[i].name;
	/* scapy raises KeyError here; print the number instead. */
	snprintf(buf, bufsz, "%u", type);
	return buf;
}

/* Record types that scapy 2.5 dissects with a class other than DNSRR, so
 * that haslayer(DNSRR) does not see them. */
static bool rr_is_plain(uint16_t type)
{
	switch (type) {
	case 6:	    /* SOA */
	case 15:    /* MX */
	case 33:    /* SRV */
	case 41:    /* OPT */
	case 43:    /* DS */
	case 46:    /* RRSIG */
	case 47:    /* NSEC */
	case 48:    /* DNSKEY */
	case 50:    /* NSEC3 */
	case 51:    /* NSEC3PARAM */
	case 250:   /* TSIG */
	case 32769: /* DLV */
		return false;
	default:
		return true;
	}
}

/* get_DNS_data(): "QTYPE qname." of the first question, else "TYPE rrname."
 * of the first plain record, else "". */
static void dns_data(const struct sx_dns *d, char *out, size_t outsz)
{
	char tb[16], name[SX_NAME_MAX];
	size_t i;

	out[0] = '\0';
	if (d->nq > 0) {
		dns_raw(name, sizeof(name), d->q[0].name);
		snprintf(out, outsz, "%s %s.", sx_up_dns_type(d->q[0].qtype, true, tb, sizeof(tb)),
			 name);
		return;
	}
	for (i = 0; i < d->nrr; i++) {
		if (!rr_is_plain(d->rr[i].type))
			continue;
		dns_raw(name, sizeof(name), d->rr[i].name);
		snprintf(out, outsz, "%s %s.", sx_up_dns_type(d->rr[i].type, false, tb, sizeof(tb)),
			 name);
		return;
	}
}

/*
 * A DNS message on UDP 53/5353 that ends within its 12-byte header: scapy
 * stops dissecting there and the question field keeps its default,
 * DNSQR(qname="www.example.com", qtype=A).  (ingest rejects such a message.)
 */
static bool short_dns(const struct sx_pkt *pkt)
{
	size_t n = SX_MIN(pkt->payload_cap, pkt->payload_len);

	return pkt->ip_proto == 17 && pkt->payload && n >= 1 && n <= 12 &&
	       (pkt->sport == 53 || pkt->dport == 53 || pkt->sport == 5353 || pkt->dport == 5353);
}

/* scapy dissects DNS only from a whole message: a record cut by the capture
 * length makes it raise, and the payload becomes Raw. */
static bool dns_complete(const struct sx_pkt *pkt)
{
	return pkt->payload && pkt->payload_cap >= pkt->payload_len;
}

/* ---- names ---- */

void sx_up_names_init(struct sx_up_names *t)
{
	memset(t, 0, sizeof(*t));
	sx_up_map_init(&t->by_name);
	sx_up_map_init(&t->pairs);
	sx_up_map_init(&t->first);
}

void sx_up_names_fini(struct sx_up_names *t)
{
	size_t i;

	for (i = 0; i < t->nnames; i++)
		free(t->names[i]);
	free(t->names);
	sx_up_map_fini(&t->by_name);
	sx_up_map_fini(&t->pairs);
	sx_up_map_fini(&t->first);
	memset(t, 0, sizeof(*t));
}

/* The index of name, added at the end when new. */
static int name_index(struct sx_up_names *t, const char *name, size_t *idx)
{
	size_t *v = sx_up_map_get(&t->by_name, name);
	int ret;

	if (v) {
		*idx = *v;
		return 0;
	}
	if (t->nnames == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		char **nn = realloc(t->names, ncap * sizeof(*nn));

		if (!nn)
			return -ENOMEM;
		t->names = nn;
		t->cap = ncap;
	}
	t->names[t->nnames] = strdup(name);
	if (!t->names[t->nnames])
		return -ENOMEM;
	ret = sx_up_map_add(&t->by_name, name, t->nnames);
	if (ret) {
		free(t->names[t->nnames]);
		return ret;
	}
	*idx = t->nnames++;
	return 0;
}

/* Append addr to the list of name (once). */
static int name_add_addr(struct sx_up_names *t, const char *name, const char *addr)
{
	char key[SX_NAME_MAX * 2 + 64];
	size_t idx, *first;
	int ret;

	ret = name_index(t, name, &idx);
	if (ret || !addr)
		return ret;
	snprintf(key, sizeof(key), "%s\x1f%s", name, addr);
	if (sx_up_map_get(&t->pairs, key))
		return 0;
	ret = sx_up_map_add(&t->pairs, key, 1);
	if (ret)
		return ret;
	first = sx_up_map_get(&t->first, addr);
	if (!first)
		return sx_up_map_add(&t->first, addr, idx);
	if (idx < *first)
		*first = idx;
	return 0;
}

int sx_up_names_learn(struct sx_up_names *t, const struct sx_pkt *pkt)
{
	char name[SX_NAME_MAX];
	int ret = 0;
	size_t i;

	/* TLS ClientHello with server_name: scapy's TLS is bound to TCP 443. */
	if (pkt->proto == SX_P_TLS && pkt->app.tls.hs_type == 1 && pkt->app.tls.sni[0] &&
	    (pkt->sport == 443 || pkt->dport == 443)) {
		char addr[64];

		ret =
		    name_add_addr(t, pkt->app.tls.sni, sx_addr_str(&pkt->dst, addr, sizeof(addr)));
		if (ret)
			return ret;
	}
	if (short_dns(pkt) && pkt->proto != SX_P_DNS && pkt->proto != SX_P_MDNS) {
		/* qr from the header if it got that far; a response would crash */
		bool qr =
		    SX_MIN(pkt->payload_cap, pkt->payload_len) >= 3 && (pkt->payload[2] & 0x80);

		return qr ? 0 : name_add_addr(t, "www.example.com", NULL);
	}
	if (pkt->proto != SX_P_DNS && pkt->proto != SX_P_MDNS)
		return 0;
	if (!dns_complete(pkt))
		return 0;
	if (!(pkt->sport == 53 || pkt->dport == 53 ||
	      (pkt->ip_proto == 17 && (pkt->sport == 5353 || pkt->dport == 5353))))
		return 0;
	if (!pkt->app.dns.qr) {
		/* dns.qd.qname; no question: the reference crashes, learn nothing */
		if (pkt->app.dns.nq == 0)
			return 0;
		dns_raw(name, sizeof(name), pkt->app.dns.q[0].name);
		return name_add_addr(t, name, NULL);
	}
	for (i = 0; i < pkt->app.dns.nrr && !ret; i++) {
		const struct sx_dns_rr *rr = &pkt->app.dns.rr[i];

		if (rr->section != SX_DNS_AN)
			continue;
		dns_raw(name, sizeof(name), rr->name);
		ret = name_add_addr(t, name, rr->addr.family ? rr->data : NULL);
	}
	return ret;
}

const char *sx_up_names_subst(const struct sx_up_names *t, const char *addr)
{
	size_t *idx = sx_up_map_get(&t->first, addr);

	return idx ? t->names[*idx] : addr;
}

/* ---- acceptance ---- */

/* The transport header was decoded (the application layer may have
 * replaced SX_P_TCP/SX_P_UDP by its own protocol since). */
static bool l4_decoded(const struct sx_pkt *pkt)
{
	return pkt->proto >= SX_P_TCP && pkt->proto != SX_P_ICMP && pkt->proto != SX_P_ICMPV6 &&
	       pkt->proto != SX_P_IGMP;
}

static bool is_tcp(const struct sx_pkt *pkt)
{
	return pkt->ip_proto == 6 && l4_decoded(pkt);
}

static bool is_udp(const struct sx_pkt *pkt)
{
	return pkt->ip_proto == 17 && l4_decoded(pkt);
}

bool sx_up_padded(const struct sx_pkt *pkt, const uint8_t *frame)
{
	size_t end;

	if (!pkt->payload || !frame || pkt->payload < frame)
		return false;
	end = (size_t)(pkt->payload - frame) + pkt->payload_len;
	return pkt->cap_len > end;
}

bool sx_up_skip(const struct sx_pkt *pkt, bool padded)
{
	if (pkt->proto == SX_P_ARP)
		return true;
	if (padded)
		return true;
	if (is_tcp(pkt))
		return (pkt->tcp_flags & (SX_TCP_SYN | SX_TCP_FIN | SX_TCP_RST)) != 0;
	if (pkt->ip_opt_ra)
		return true;
	return !is_udp(pkt);
}

/* ---- Protocol and ApplicationSpecific ---- */

struct port_layer {
	uint16_t port;
	const char *name;
};

/* scapy 2.5 layers bound to a TCP port (either side), by their .name. */
static const struct port_layer tcp_layers[] = {
    {88, "Kerberos TCP Header"},
    {135, "DCE/RPC"},
    {139, "NBT Session Packet"},
    {389, "LDAP"},
    {443, "TLS"},
    {445, "NBT Session Packet"},
    {1723, "PPTP"},
    {2000, "Skinny"},
    {3268, "LDAP"},
};

/* scapy 2.5 layers bound to a UDP port (either side), by their .name. */
static const struct port_layer udp_layers[] = {
    {123, "NTPHeader"},
};

static const char *port_layer(const struct port_layer *t, size_t n, const struct sx_pkt *pkt)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pkt->sport == t[i].port || pkt->dport == t[i].port)
			return t[i].name;
	return NULL;
}

static bool has_port(const struct sx_pkt *pkt, uint16_t port)
{
	return pkt->sport == port || pkt->dport == port;
}

/* ---- HTTP as scapy.layers.http (2.5) dissects one TCP segment ---- */

enum http_kind { HTTP_OTHER = 0, HTTP_REQUEST, HTTP_RESPONSE };

struct http_seg {
	enum http_kind kind;
	const uint8_t *method, *path; /* request line tokens */
	size_t method_len, path_len;
	const uint8_t *host; /* last Host header value, stripped */
	size_t host_len;
	bool chunked, deflate, gzip; /* response encodings, as scapy orders them */
	size_t body_off;	     /* after "\r\n\r\n", or n when none */
};

static bool py_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* "HTTP/d.d" at p (n bytes available). */
static bool http_version(const uint8_t *p, size_t n)
{
	return n >= 8 && memcmp(p, "HTTP/", 5) == 0 && is_digit(p[5]) && p[6] == '.' &&
	       is_digit(p[7]);
}

/* Python's "$": the end, or just before a final "\n". */
static bool py_end(const uint8_t *p, size_t n)
{
	return n == 0 || (n == 1 && p[0] == '\n');
}

/* Does line (the text before the first CRLF) match scapy's request regex,
 * ^(?:OPTIONS|GET|HEAD|POST|PUT|DELETE|TRACE|CONNECT) (?:.+?) HTTP/\d\.\d$ ? */
static bool request_line(const uint8_t *l, size_t n)
{
	static const char *const methods[] = {"OPTIONS", "GET",	   "HEAD",  "POST",
					      "PUT",	 "DELETE", "TRACE", "CONNECT"};
	size_t i, m, k;

	for (i = 0; i < SX_ARRAY_SIZE(methods); i++) {
		m = strlen(methods[i]);
		if (n > m && memcmp(l, methods[i], m) == 0 && l[m] == ' ')
			break;
	}
	if (i == SX_ARRAY_SIZE(methods))
		return false;
	/* (.+?) then " HTTP/d.d$": some k >= m + 2 where the rest matches */
	for (k = m + 2; k + 9 <= n; k++) {
		if (memchr(l + m + 1, '\n', k - m - 1))
			return false; /* "." does not match a newline */
		if (l[k] == ' ' && http_version(l + k + 1, n - k - 1) &&
		    py_end(l + k + 9, n - k - 9))
			return true;
	}
	return false;
}

/* ^HTTP/\d\.\d \d\d\d .*$ */
static bool response_line(const uint8_t *l, size_t n)
{
	const uint8_t *nl;

	if (n < 13 || !http_version(l, n) || l[8] != ' ' || !is_digit(l[9]) || !is_digit(l[10]) ||
	    !is_digit(l[11]) || l[12] != ' ')
		return false;
	nl = memchr(l + 13, '\n', n - 13);
	return !nl || nl == l + n - 1;
}

static const uint8_t *find(const uint8_t *p, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++)
		if (memcmp(p + i, needle, k) == 0)
			return p + i;
	return NULL;
}

/* bytes.strip() */
static void strip(const uint8_t **p, size_t *n)
{
	while (*n && py_space(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n && py_space((*p)[*n - 1]))
		(*n)--;
}

/* A header name equal to want once stripped, "-" -> "_" and lower-cased. */
static bool header_is(const uint8_t *k, size_t n, const char *want)
{
	size_t i;

	strip(&k, &n);
	if (n != strlen(want))
		return false;
	for (i = 0; i < n; i++) {
		uint8_t c = k[i] == '-' ? '_' : k[i];

		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c - 'A' + 'a');
		if (c != (uint8_t)want[i])
			return false;
	}
	return true;
}

/* The comma-separated encodings of a header value, as _get_encodings(). */
static void add_encodings(struct http_seg *h, const uint8_t *v, size_t n)
{
	for (;;) {
		const uint8_t *comma = memchr(v, ',', n);
		size_t len = comma ? (size_t)(comma - v) : n;
		const uint8_t *t = v;
		size_t tn = len;

		strip(&t, &tn);
		if (header_is(t, tn, "chunked"))
			h->chunked = true;
		else if (header_is(t, tn, "deflate"))
			h->deflate = true;
		else if (header_is(t, tn, "gzip"))
			h->gzip = true;
		if (!comma)
			break;
		v = comma + 1;
		n -= len + 1;
	}
}

static void http_parse(const uint8_t *p, size_t n, struct http_seg *h)
{
	const uint8_t *crlf = find(p, n, "\r\n"), *blank, *line, *end;
	const uint8_t *te = NULL, *ce = NULL;
	size_t te_len = 0, ce_len = 0, hn;

	memset(h, 0, sizeof(*h));
	if (!crlf)
		return; /* ValueError: Raw */
	if (request_line(p, (size_t)(crlf - p)))
		h->kind = HTTP_REQUEST;
	else if (response_line(p, (size_t)(crlf - p)))
		h->kind = HTTP_RESPONSE;
	else
		return;
	blank = find(p, n, "\r\n\r\n");
	hn = blank ? (size_t)(blank - p) + 4 : n;
	h->body_off = hn;
	if (h->kind == HTTP_REQUEST) {
		/* re.split(rb"\s+", first_line.strip(), 2) */
		const uint8_t *q = p, *qe = crlf;

		while (q < qe && py_space(*q))
			q++;
		h->method = q;
		while (q < qe && !py_space(*q))
			q++;
		h->method_len = (size_t)(q - h->method);
		while (q < qe && py_space(*q))
			q++;
		h->path = q;
		while (q < qe && !py_space(*q))
			q++;
		h->path_len = (size_t)(q - h->path);
	}
	/* header lines: "key: value", split at the first ':' */
	for (line = crlf + 2; line < p + hn; line = end + 2) {
		const uint8_t *colon, *v;
		size_t ln, vn;

		end = find(line, (size_t)(p + hn - line), "\r\n");
		if (!end)
			end = p + hn;
		ln = (size_t)(end - line);
		colon = memchr(line, ':', ln);
		if (!colon)
			continue;
		v = colon + 1;
		vn = (size_t)(end - v);
		strip(&v, &vn);
		if (header_is(line, (size_t)(colon - line), "host")) {
			h->host = v;
			h->host_len = vn;
		} else if (header_is(line, (size_t)(colon - line), "transfer_encoding")) {
			te = v;
			te_len = vn;
		} else if (header_is(line, (size_t)(colon - line), "content_encoding")) {
			ce = v;
			ce_len = vn;
		}
		if (end >= p + hn)
			break;
	}
	if (h->kind == HTTP_RESPONSE) {
		if (te)
			add_encodings(h, te, te_len);
		if (ce)
			add_encodings(h, ce, ce_len);
	}
}

/* Python int(text, 16) for a chunk size; -1 when it raises (or is < 0). */
static long long chunk_size(const uint8_t *p, size_t n)
{
	long long v = 0;
	bool digit = false;
	size_t i = 0;

	strip(&p, &n);
	if (n && *p == '+') {
		p++;
		n--;
	}
	if (n >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		n -= 2;
		if (n && p[0] == '_') {
			p++;
			n--;
		}
	}
	for (i = 0; i < n; i++) {
		uint8_t c = p[i];
		int d;

		if (c == '_' && digit && i + 1 < n && p[i + 1] != '_')
			continue;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		if (v > (1LL << 40))
			return -1;
		v = v * 16 + d;
		digit = true;
	}
	return digit ? v : -1;
}

/* len(pkt) - caplen for an HTTP response: scapy un-chunks and decompresses
 * the body in place, and len() rebuilds the packet with it. */
static long long http_len_delta(const uint8_t *p, size_t n, const struct http_seg *h)
{
	const uint8_t *s = p + h->body_off;
	size_t sn = n - h->body_off;
	long long len = (long long)sn, dl;
	uint8_t *data = NULL;
	size_t dn = 0;

	if (h->chunked) {
		const uint8_t *q = s;
		size_t qn = sn;
		data = malloc(sn ? sn : 1);
		if (!data)
			return 0;
		while (qn) {
			const uint8_t *crlf = find(q, qn, "\r\n");
			size_t ln = crlf ? (size_t)(crlf - q) : qn;
			const uint8_t *body = crlf ? crlf + 2 : q + qn;
			size_t bn = crlf ? qn - ln - 2 : 0;
			long long cs = chunk_size(q, ln);
			size_t take;

			if (cs < 0)
				break;
			take = (size_t)cs < bn ? (size_t)cs : bn;
			if (bn < take + 2 || memcmp(body + take, "\r\n", 2) != 0)
				break;
			memcpy(data + dn, body, take);
			dn += take;
			q = body + take + 2;
			qn = bn - take - 2;
		}
		if (qn == 0) {
			s = data;
			sn = dn;
			len = (long long)dn;
		}
	}
	if (h->deflate || h->gzip) {
		dl = sx_inflated_len(s, sn, !h->deflate);
		if (dl >= 0)
			len = dl;
	}
	free(data);
	return len - (long long)(n - h->body_off);
}

static void http_view(const struct sx_pkt *pkt, struct sx_up_view *v)
{
	const uint8_t *p = pkt->payload;
	size_t n = SX_MIN(pkt->payload_cap, pkt->payload_len);
	struct http_seg h;
	size_t o;

	v->app[0] = '\0';
	http_parse(p, n, &h);
	if (h.kind == HTTP_RESPONSE) {
		/* the reference's literal text (missing f-string prefix) */
		snprintf(v->app, sizeof(v->app), "%s",
			 "{pkt.getlayer(HTTPResponse).Status_Code.decode('utf-8')} "
			 "{pkt.getlayer(HTTPResponse).Reason_Phrase.decode('utf-8')}");
		v->length = (uint64_t)((long long)v->length + http_len_delta(p, n, &h));
		return;
	}
	if (h.kind != HTTP_REQUEST)
		return;
	/* f"{method} {host}{path}" (the reference forgot the f) */
	o = sx_text_escape(v->app, sizeof(v->app), h.method, h.method_len, NULL);
	sx_text_append(v->app, sizeof(v->app), &o, (const uint8_t *)" ", 1);
	if (h.host)
		sx_text_append(v->app, sizeof(v->app), &o, h.host, h.host_len);
	sx_text_append(v->app, sizeof(v->app), &o, h.path, h.path_len);
}

static void coap_data(const struct sx_pkt *pkt, char *out, size_t outsz)
{
	static const struct {
		uint8_t code;
		const char *name;
	} codes[] = {
	    {0, "Empty"},
	    {1, "GET"},
	    {2, "POST"},
	    {3, "PUT"},
	    {4, "DELETE"},
	    {65, "2.01 Created"},
	    {66, "2.02 Deleted"},
	    {67, "2.03 Valid"},
	    {68, "2.04 Changed"},
	    {69, "2.05 Content"},
	    {128, "4.00 Bad Request"},
	    {129, "4.01 Unauthorized"},
	    {130, "4.02 Bad Option"},
	    {131, "4.03 Forbidden"},
	    {132, "4.04 Not Found"},
	    {133, "4.05 Method Not Allowed"},
	    {134, "4.06 Not Acceptable"},
	    {140, "4.12 Precondition Failed"},
	    {141, "4.13 Request Entity Too Large"},
	    {143, "4.15 Unsupported Content-Format"},
	    {160, "5.00 Internal Server Error"},
	    {161, "5.01 Not Implemented"},
	    {162, "5.02 Bad Gateway"},
	    {163, "5.03 Service Unavailable"},
	    {164, "5.04 Gateway Timeout"},
	    {165, "Proxying Not Supported"},
	};
	const struct sx_coap *c = &pkt->app.coap;
	char buf[16];
	const char *code = NULL;
	size_t i;

	for (i = 0; i < SX_ARRAY_SIZE(codes); i++)
		if (codes[i].code == c->code)
			code = codes[i].name;
	if (!code) /* scapy: KeyError */
		code = sx_coap_code_name(c->code, buf, sizeof(buf));
	snprintf(out, outsz, "%u %s %s%s%s", c->type, code, c->path[0] ? c->path : "/",
		 c->query[0] ? "?" : "", c->query);
}

/* scapy's TFTP (bound to UDP destination port 69): the name of the last
 * layer, TFTP_Option when a request or an option ack carries options. */
static const char *tftp_name(const struct sx_pkt *pkt)
{
	const uint8_t *p = pkt->payload;
	size_t n = SX_MIN(pkt->payload_cap, pkt->payload_len), i, nul = 0;
	unsigned op;

	if (n < 2)
		return "TFTP opcode";
	op = (unsigned)p[0] << 8 | p[1];
	switch (op) {
	case 1:
	case 2:
		/* filename NUL mode NUL, then options */
		for (i = 2; i < n && nul < 2; i++)
			if (p[i] == 0)
				nul++;
		if (nul == 2 && i < n)
			return "TFTP_Option";
		return op == 1 ? "TFTP Read Request" : "TFTP Write Request";
	case 3:
		return "TFTP Data";
	case 4:
		return "TFTP Ack";
	case 5:
		return "TFTP Error";
	case 6:
		return n > 2 ? "TFTP_Option" : "TFTP Option Ack";
	default:
		return "TFTP opcode";
	}
}

void sx_up_view(const struct sx_pkt *pkt, struct sx_up_view *v)
{
	bool payload = pkt->payload && pkt->payload_cap > 0;
	const char *name;

	v->app[0] = '\0';
	v->length = pkt->cap_len;
	if (is_tcp(pkt)) {
		const char *s = sx_service_by_port(pkt->sport, NULL);
		const char *d = sx_service_by_port(pkt->dport, NULL);

		v->transport = "TCP";
		snprintf(v->app, sizeof(v->app), "%s%s", s ? s : "", d ? d : "");
		if (payload && (has_port(pkt, 80) || has_port(pkt, 8080))) {
			snprintf(v->protocol, sizeof(v->protocol), "HTTP");
			http_view(pkt, v);
			return;
		}
		if (strcmp(v->app, "https") == 0) {
			snprintf(v->protocol, sizeof(v->protocol), "HTTPS");
			return;
		}
		if (payload && has_port(pkt, 53) && pkt->proto == SX_P_DNS && dns_complete(pkt)) {
			snprintf(v->protocol, sizeof(v->protocol), "DNS");
			dns_data(&pkt->app.dns, v->app, sizeof(v->app));
			return;
		}
		name = payload ? port_layer(tcp_layers, SX_ARRAY_SIZE(tcp_layers), pkt) : NULL;
		snprintf(v->protocol, sizeof(v->protocol), "%s", name ? name : "TCP");
		return;
	}
	v->transport = "UDP";
	if (payload && has_port(pkt, 5683) && pkt->proto == SX_P_COAP) {
		snprintf(v->protocol, sizeof(v->protocol), "CoAP");
		coap_data(pkt, v->app, sizeof(v->app));
		return;
	}
	if (payload &&
	    ((pkt->sport == 68 && pkt->dport == 67) || (pkt->sport == 67 && pkt->dport == 68) ||
	     (pkt->sport == 67 && pkt->dport == 67))) {
		/* scapy's BOOTP, with a DHCP layer when there are options */
		const char *t;

		if (pkt->proto != SX_P_DHCP || pkt->app.dhcp.msg_type == 0) {
			snprintf(v->protocol, sizeof(v->protocol), "BOOTP");
			return;
		}
		snprintf(v->protocol, sizeof(v->protocol), "DHCP");
		t = pkt->app.dhcp.msg_type <= 13 ? sx_dhcp_type_name(pkt->app.dhcp.msg_type) : NULL;
		if (t)
			snprintf(v->app, sizeof(v->app), "%s", t);
		else /* scapy: KeyError */
			snprintf(v->app, sizeof(v->app), "%u", pkt->app.dhcp.msg_type);
		return;
	}
	if (short_dns(pkt) && pkt->proto != SX_P_DNS && pkt->proto != SX_P_MDNS) {
		snprintf(v->protocol, sizeof(v->protocol), "DNS");
		snprintf(v->app, sizeof(v->app), "A www.example.com.");
		return;
	}
	if (payload && (has_port(pkt, 53) || has_port(pkt, 5353)) &&
	    (pkt->proto == SX_P_DNS || pkt->proto == SX_P_MDNS) && dns_complete(pkt)) {
		snprintf(v->protocol, sizeof(v->protocol), "DNS");
		dns_data(&pkt->app.dns, v->app, sizeof(v->app));
		return;
	}
	if (payload && pkt->dport == 69) {
		snprintf(v->protocol, sizeof(v->protocol), "%s", tftp_name(pkt));
		return;
	}
	name = payload ? port_layer(udp_layers, SX_ARRAY_SIZE(udp_layers), pkt) : NULL;
	snprintf(v->protocol, sizeof(v->protocol), "%s", name ? name : "UDP");
}
