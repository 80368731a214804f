/*
 * floor.c - the physical floor for sigex: a bare libpcap read loop.
 *
 * Usage: bench_floor [-j N] PCAP...
 * N threads take files from an atomic index (largest first, as sigex does;
 * each file's size taken once) and read every record with pcap_next_ex,
 * loading one byte per 64-byte cache line of the captured bytes and summing
 * them: memory-bound, as a reader that looks at every packet is, with no
 * loop-carried dependency per byte.  This is the method (and the loop) of
 * the shared reference floor; a per-byte rotate-xor chain, as this file had
 * before, is compute-bound and made the floor slower than reading is.
 * Prints one line:
 *   SUMMARY bench_floor threads=N files=F packets=P bytes=B seconds=S pps=R checksum=C
 */
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct job {
	char **paths;
	size_t *order;
	off_t *size;
	size_t n;
	atomic_size_t next;
	atomic_uint_fast64_t packets;
	atomic_uint_fast64_t bytes;
	atomic_uint_fast64_t checksum;
};

static void *reader(void *arg)
{
	struct job *j = arg;
	uint64_t pk = 0, by = 0, sum = 0;

	for (;;) {
		size_t i = atomic_fetch_add(&j->next, 1);
		char errbuf[PCAP_ERRBUF_SIZE];
		struct pcap_pkthdr *h;
		const u_char *d;
		pcap_t *p;

		if (i >= j->n)
			break;
		p = pcap_open_offline(j->paths[j->order[i]], errbuf);
		if (!p) {
			fprintf(stderr, "bench_floor: %s: %s\n", j->paths[j->order[i]], errbuf);
			continue;
		}
		while (pcap_next_ex(p, &h, &d) == 1) {
			uint32_t k;

			pk++;
			by += h->len;
			for (k = 0; k < h->caplen; k += 64)
				sum += d[k];
		}
		pcap_close(p);
	}
	atomic_fetch_add(&j->packets, pk);
	atomic_fetch_add(&j->bytes, by);
	atomic_fetch_add(&j->checksum, sum);
	return NULL;
}

static off_t *sort_size;

static int by_size_desc(const void *a, const void *b)
{
	off_t x = sort_size[*(const size_t *)a];
	off_t y = sort_size[*(const size_t *)b];

	return x < y ? 1 : x > y ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct job j;
	pthread_t th[256];
	struct timespec t0, t1;
	unsigned nthreads = 1, t;
	size_t i;
	int c;
	double secs;

	while ((c = getopt(argc, argv, "j:")) != -1) {
		if (c == 'j')
			nthreads = (unsigned)atoi(optarg);
		else
			return 2;
	}
	if (optind >= argc || nthreads < 1 || nthreads > 256) {
		fprintf(stderr, "usage: bench_floor [-j N] PCAP...\n");
		return 2;
	}
	memset(&j, 0, sizeof(j));
	j.paths = argv + optind;
	j.n = (size_t)(argc - optind);
	j.order = calloc(j.n, sizeof(*j.order));
	j.size = calloc(j.n, sizeof(*j.size));
	if (!j.order || !j.size)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < j.n; i++) {
		struct stat st;

		j.order[i] = i;
		j.size[i] = stat(j.paths[i], &st) == 0 ? st.st_size : 0;
	}
	sort_size = j.size;
	qsort(j.order, j.n, sizeof(*j.order), by_size_desc);
	for (t = 0; t < nthreads; t++)
		pthread_create(&th[t], NULL, reader, &j);
	for (t = 0; t < nthreads; t++)
		pthread_join(th[t], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("SUMMARY bench_floor threads=%u files=%zu packets=%llu bytes=%llu seconds=%.3f "
	       "pps=%.0f checksum=%016llx\n",
	       nthreads, j.n, (unsigned long long)j.packets, (unsigned long long)j.bytes, secs,
	       secs > 0 ? (double)j.packets / secs : 0.0, (unsigned long long)j.checksum);
	free(j.size);
	free(j.order);
	return 0;
}
