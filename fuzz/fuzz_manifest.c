/*
 * fuzz_manifest.c - libFuzzer target: the --manifest reader of `sigex batch`
 * (sx_batch_manifest_parse), and the name rule applied to every name it
 * returns.
 */
#include <stdint.h>

#include "batch/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sx_batch_manifest *m;
	char msg[256];
	size_t i;

	if (sx_batch_manifest_parse((const char *)data, size, &m, msg, sizeof(msg)) != 0)
		return 0;
	for (i = 0; i < m->n; i++) {
		sx_batch_name_check(m->rows[i].device, msg, sizeof(msg));
		sx_batch_name_check(m->rows[i].event, msg, sizeof(msg));
	}
	sx_batch_manifest_free(m);
	return 0;
}
