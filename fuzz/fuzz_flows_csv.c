/*
 * fuzz_flows_csv.c - libFuzzer target: the flow CSV reader behind
 * `sigex mine` (every row parsed, then written back as CSV).
 */
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "flows/flows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sx_flows_csv_reader *r;
	struct sx_flow_row row;
	struct sx_buf b;
	char msg[256];
	FILE *f;

	if (size == 0)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	sx_buf_init(&b);
	if (sx_flows_csv_reader_new(f, &r) == 0) {
		while (sx_flows_csv_next(r, &row, msg, sizeof(msg)) == 1) {
			sx_flows_csv_row(&b, &row);
			sx_buf_reset(&b);
		}
		sx_flows_csv_reader_free(r);
	}
	sx_buf_fini(&b);
	fclose(f);
	return 0;
}
