/*
 * frames.c - see frames.h.  Test-only code.
 */
#include "support/frames.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <string.h>

static size_t ip_header(uint8_t *out, size_t cap, const char *src, const char *dst, uint8_t proto,
			size_t plen)
{
	if (strchr(src, ':')) {
		if (cap < 40 + plen || plen > 65535)
			return 0;
		memset(out, 0, 40);
		out[0] = 0x60;
		out[4] = (uint8_t)(plen >> 8);
		out[5] = (uint8_t)plen;
		out[6] = proto;
		out[7] = 64;
		inet_pton(AF_INET6, src, out + 8);
		inet_pton(AF_INET6, dst, out + 24);
		return 40;
	}
	if (cap < 20 + plen || plen > 65515)
		return 0;
	memset(out, 0, 20);
	out[0] = 0x45;
	out[2] = (uint8_t)((20 + plen) >> 8);
	out[3] = (uint8_t)(20 + plen);
	out[8] = 64;
	out[9] = proto;
	inet_pton(AF_INET, src, out + 12);
	inet_pton(AF_INET, dst, out + 16);
	return 20;
}

size_t sx_tf_ip(uint8_t *out, size_t cap, const char *src, const char *dst, uint8_t proto,
		const void *payload, size_t plen)
{
	size_t h = ip_header(out, cap, src, dst, proto, plen);

	if (!h)
		return 0;
	if (plen)
		memcpy(out + h, payload, plen);
	return h + plen;
}

size_t sx_tf_eth(uint8_t *out, size_t cap, const uint8_t *ip, size_t iplen)
{
	static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};

	if (cap < 14 + iplen)
		return 0;
	memmove(out + 14, ip, iplen);
	memcpy(out, macs, 12);
	out[12] = (ip[0] >> 4) == 6 ? 0x86 : 0x08;
	out[13] = (ip[0] >> 4) == 6 ? 0xdd : 0x00;
	return 14 + iplen;
}

size_t sx_tf_frag(uint8_t *out, size_t cap, const char *src, const char *dst, uint8_t proto,
		  uint32_t id, uint32_t off, int more, const void *data, size_t dlen)
{
	uint8_t ip[65600];
	size_t h;

	if (strchr(src, ':')) {
		uint16_t offm = (uint16_t)((off & 0xfff8) | (more ? 1 : 0));

		h = ip_header(ip, sizeof(ip), src, dst, 44, dlen + 8);
		if (!h)
			return 0;
		ip[h] = proto;
		ip[h + 1] = 0;
		ip[h + 2] = (uint8_t)(offm >> 8);
		ip[h + 3] = (uint8_t)offm;
		ip[h + 4] = (uint8_t)(id >> 24);
		ip[h + 5] = (uint8_t)(id >> 16);
		ip[h + 6] = (uint8_t)(id >> 8);
		ip[h + 7] = (uint8_t)id;
		h += 8;
	} else {
		uint16_t fo = (uint16_t)(((off / 8) & 0x1fff) | (more ? 0x2000 : 0));

		h = ip_header(ip, sizeof(ip), src, dst, proto, dlen);
		if (!h)
			return 0;
		ip[4] = (uint8_t)(id >> 8);
		ip[5] = (uint8_t)id;
		ip[6] = (uint8_t)(fo >> 8);
		ip[7] = (uint8_t)fo;
	}
	if (dlen)
		memcpy(ip + h, data, dlen);
	return sx_tf_eth(out, cap, ip, h + dlen);
}

size_t sx_tf_udp_datagram(uint8_t *out, size_t cap, uint16_t sport, uint16_t dport,
			  const void *payload, size_t plen)
{
	if (plen + 8 > cap || plen + 8 > 65535)
		return 0;
	out[0] = (uint8_t)(sport >> 8);
	out[1] = (uint8_t)sport;
	out[2] = (uint8_t)(dport >> 8);
	out[3] = (uint8_t)dport;
	out[4] = (uint8_t)((plen + 8) >> 8);
	out[5] = (uint8_t)(plen + 8);
	out[6] = out[7] = 0;
	if (plen)
		memcpy(out + 8, payload, plen);
	return plen + 8;
}

size_t sx_tf_udp(uint8_t *out, size_t cap, const char *src, uint16_t sport, const char *dst,
		 uint16_t dport, const void *payload, size_t plen)
{
	uint8_t l4[65536];
	uint8_t ip[65600];
	size_t n;

	if (plen + 8 > sizeof(l4))
		return 0;
	l4[0] = (uint8_t)(sport >> 8);
	l4[1] = (uint8_t)sport;
	l4[2] = (uint8_t)(dport >> 8);
	l4[3] = (uint8_t)dport;
	l4[4] = (uint8_t)((plen + 8) >> 8);
	l4[5] = (uint8_t)(plen + 8);
	l4[6] = l4[7] = 0;
	if (plen)
		memcpy(l4 + 8, payload, plen);
	n = sx_tf_ip(ip, sizeof(ip), src, dst, 17, l4, plen + 8);
	return n ? sx_tf_eth(out, cap, ip, n) : 0;
}

size_t sx_tf_tcp(uint8_t *out, size_t cap, const char *src, uint16_t sport, const char *dst,
		 uint16_t dport, uint8_t flags, const void *payload, size_t plen)
{
	uint8_t l4[65536];
	uint8_t ip[65600];
	size_t n;

	if (plen + 20 > sizeof(l4))
		return 0;
	memset(l4, 0, 20);
	l4[0] = (uint8_t)(sport >> 8);
	l4[1] = (uint8_t)sport;
	l4[2] = (uint8_t)(dport >> 8);
	l4[3] = (uint8_t)dport;
	l4[7] = 1; /* seq 1 */
	l4[12] = 5 << 4;
	l4[13] = flags;
	l4[14] = 0xff;
	l4[15] = 0xff;
	if (plen)
		memcpy(l4 + 20, payload, plen);
	n = sx_tf_ip(ip, sizeof(ip), src, dst, 6, l4, plen + 20);
	return n ? sx_tf_eth(out, cap, ip, n) : 0;
}

int sx_tf_write_pcap(const char *path, int dlt, const struct sx_tf_rec *recs, size_t n)
{
	pcap_t *p = pcap_open_dead(dlt, 262144);
	pcap_dumper_t *d;
	size_t i;

	if (!p)
		return -1;
	d = pcap_dump_open(p, path);
	if (!d) {
		pcap_close(p);
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct pcap_pkthdr h;

		memset(&h, 0, sizeof(h));
		h.ts.tv_sec = recs[i].sec;
		h.ts.tv_usec = recs[i].usec;
		h.caplen = recs[i].caplen;
		h.len = recs[i].wirelen ? recs[i].wirelen : recs[i].caplen;
		pcap_dump((u_char *)d, &h, recs[i].data);
	}
	pcap_dump_close(d);
	pcap_close(p);
	return 0;
}
