/*
 * fuzz_capture.c - libFuzzer target: a whole capture file through libpcap
 * and sigex's reader (format detection, gzip and zstd streams, every
 * record decoded).  The input is written to an in-memory file (memfd) and
 * opened by its /proc path, as a real file would be.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ingest/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sx_pkt pkt;
	struct sx_capture *cap;
	char path[64], msg[256];
	int fd = memfd_create("capture", 0);
	unsigned n = 0;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (sx_capture_open(path, NULL, &cap, msg, sizeof(msg)) == 0) {
		while (sx_capture_next(cap, &pkt) == 1 && ++n < 100000)
			;
		sx_capture_close(cap);
	}
	close(fd);
	return 0;
}
