/*
 * fuzz_device_yaml.c - libFuzzer target: the device.yaml reader of
 * `sigex batch` (sx_batch_device_parse: the bounded YAML tree, then the
 * schema).
 */
#include <stdint.h>

#include "batch/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sx_batch_device_cfg *c;
	char msg[256];

	if (sx_batch_device_parse((const char *)data, size, &c, msg, sizeof(msg)) == 0)
		sx_batch_device_free(c);
	return 0;
}
