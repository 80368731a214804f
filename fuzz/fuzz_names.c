/*
 * fuzz_names.c - libFuzzer target: a --names file ("IP NAME" lines).
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ingest/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sx_names *n;
	char path[64], msg[256];
	int fd = memfd_create("names", 0);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size || sx_names_new(&n)) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	sx_names_load(n, path, msg, sizeof(msg));
	sx_names_finish(n);
	sx_names_free(n);
	close(fd);
	return 0;
}
