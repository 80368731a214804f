/*
 * seeds.c - write seed inputs for fuzz_packet from real captures: the
 * first frames of each capture, each as "<framing byte><frame>".
 * Usage: fuzz_seeds OUTDIR FRAMES_PER_FILE PCAP...
 */
#include <pcap/pcap.h>
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

int main(int argc, char **argv)
{
	unsigned long per, seq = 0;
	int i;

	if (argc < 4) {
		fprintf(stderr, "usage: fuzz_seeds OUTDIR FRAMES_PER_FILE PCAP...\n");
		return 2;
	}
	per = strtoul(argv[2], NULL, 10);
	for (i = 3; i < argc; i++) {
		char errbuf[PCAP_ERRBUF_SIZE];
		pcap_t *p = pcap_open_offline(argv[i], errbuf);
		struct pcap_pkthdr *h;
		const u_char *d;
		unsigned long k = 0;
		int fb;

		if (!p)
			continue;
		fb = framing_byte(sx_l2_from_dlt(pcap_datalink(p)));
		while (k < per && pcap_next_ex(p, &h, &d) == 1) {
			char path[4096];
			FILE *f;

			snprintf(path, sizeof(path), "%s/seed-%06lu", argv[1], seq++);
			f = fopen(path, "wb");
			if (!f)
				break;
			fputc(fb, f);
			fwrite(d, 1, h->caplen, f);
			fclose(f);
			k++;
		}
		pcap_close(p);
	}
	return 0;
}
