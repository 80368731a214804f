/*
 * fuzz_events.c - libFuzzer target: the --events CSV parser.
 */
#include <stdint.h>

#include "flows/flows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sx_events *ev;
	char msg[256];

	if (sx_events_parse((const char *)data, size, &ev, msg, sizeof(msg)) == 0)
		sx_events_free(ev);
	return 0;
}
