/*
 * seeds.c - write seed inputs for fuzz_packet from real captures, each as
 * "<framing byte><frame>":
 *   - the first FIRST frames of each capture (link and network variety);
 *   - frames that an application dissector claims, wherever they are in
 *     the first 20000 frames of a capture: at most PER_APP of each
 *     application protocol over TCP and as many over UDP, over all
 *     captures, at most PER_APP / 8 (at least 1) of them from one capture,
 *     so that each dissector (TP-Link on 9999, HTTP, DHCP, DNS...) is
 *     reached by seeds of several devices.  Named "<protocol>-<tcp|udp>-NNNN";
 *     the count of each is printed on stderr.
 * Usage: fuzz_seeds OUTDIR FIRST PER_APP PCAP...
 */
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "ingest/ingest.h"

static int framing_byte(enum sx_l2 l2)
{
	switch (l2) {
	case SX_L2_ETH:
		return 0;
	case SX_L2_SLL:
		return 1;
	case SX_L2_SLL2:
		return 2;
	case SX_L2_RAW:
		return 3;
	case SX_L2_NULL:
		return 4;
	default:
		return 5;
	}
}

static int write_seed(const char *path, int fb, const u_char *d, bpf_u_int32 len)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return -1;
	fputc(fb, f);
	fwrite(d, 1, len, f);
	return fclose(f);
}

int main(int argc, char **argv)
{
	static unsigned long per_proto[SX_P__COUNT][2]; /* [proto][over TCP] */
	static struct sx_pkt pkt;
	unsigned long first, per_app, per_file, seq = 0;
	int i;

	if (argc < 5) {
		fprintf(stderr, "usage: fuzz_seeds OUTDIR FIRST PER_APP PCAP...\n");
		return 2;
	}
	first = strtoul(argv[2], NULL, 10);
	per_app = strtoul(argv[3], NULL, 10);
	per_file = per_app / 8 ? per_app / 8 : 1;
	for (i = 4; i < argc; i++) {
		char errbuf[PCAP_ERRBUF_SIZE];
		pcap_t *p = pcap_open_offline(argv[i], errbuf);
		unsigned long in_file[SX_P__COUNT][2] = {{0}};
		struct pcap_pkthdr *h;
		const u_char *d;
		unsigned long k = 0;
		enum sx_l2 l2;
		int fb;

		if (!p)
			continue;
		l2 = sx_l2_from_dlt(pcap_datalink(p));
		fb = framing_byte(l2);
		while (pcap_next_ex(p, &h, &d) == 1) {
			char path[4096];
			bool tcp;

			if (k < first) {
				snprintf(path, sizeof(path), "%s/seed-%06lu", argv[1], seq++);
				if (write_seed(path, fb, d, h->caplen))
					break;
			}
			k++;
			if (!per_app)
				continue;
			if (k > first && k > 20000)
				break;
			sx_decode(&pkt, l2, d, h->caplen, h->len);
			/* application protocols only: those past the transport layer */
			tcp = pkt.ip_proto == 6;
			if (pkt.proto <= SX_P_IGMP || pkt.proto >= SX_P__COUNT ||
			    per_proto[pkt.proto][tcp] >= per_app ||
			    in_file[pkt.proto][tcp] >= per_file)
				continue;
			snprintf(path, sizeof(path), "%s/%s-%s-%04lu", argv[1],
				 sx_proto_name(pkt.proto), tcp ? "tcp" : "udp",
				 per_proto[pkt.proto][tcp]);
			if (write_seed(path, fb, d, h->caplen))
				break;
			per_proto[pkt.proto][tcp]++;
			in_file[pkt.proto][tcp]++;
		}
		pcap_close(p);
	}
	if (per_app)
		for (i = SX_P_IGMP + 1; i < SX_P__COUNT; i++)
			fprintf(stderr, "fuzz_seeds: %s tcp %lu udp %lu\n", sx_proto_name(i),
				per_proto[i][1], per_proto[i][0]);
	return 0;
}
