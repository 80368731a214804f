/*
 * fuzz_packet.c - libFuzzer target: one frame through every layer.
 *
 * Input: one byte choosing the link type (an index into the supported
 * framings plus an unsupported one), then the frame.  The frame goes
 * through sx_decode() (link, network, transport, every application
 * dissector), the ApplicationSpecific summary, a packet CSV row, what the
 * packet adds to its flow (the flow's ApplicationSpecific text and
 * attribute tokens: tplink.args, http.req, dhcp...), and the names
 * learner, with the frame in a heap buffer of exactly its length so that
 * AddressSanitizer sees any overread.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "flows/flows_int.h"
#include "ingest/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum sx_l2 framings[] = {SX_L2_ETH, SX_L2_SLL,  SX_L2_SLL2,
				      SX_L2_RAW, SX_L2_NULL, SX_L2_UNSUPPORTED};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sx_pkt pkt;
	struct sx_names_learner *l;
	struct sx_buf b;
	char summary[1024];
	uint8_t *frame;

	if (size < 1)
		return 0;
	frame = malloc(size - 1 ? size - 1 : 1);
	if (!frame)
		return 0;
	memcpy(frame, data + 1, size - 1);
	sx_decode(&pkt, framings[data[0] % (sizeof(framings) / sizeof(framings[0]))], frame,
		  (uint32_t)(size - 1), (uint32_t)(size - 1 + (data[0] >> 4)));
	sx_pkt_summary(&pkt, summary, sizeof(summary));
	if (sx_flows__pkt_has_app(&pkt)) {
		/* the flow's own sizes, on the heap so that ASan sees an overflow */
		char *spec = malloc(SX_FLOW_SPEC_MAX), *attrs = malloc(SX_FLOW_ATTR_MAX);

		if (spec && attrs) {
			sx_flows__pkt_spec(&pkt, spec, SX_FLOW_SPEC_MAX);
			sx_flows__pkt_attrs(&pkt, attrs, SX_FLOW_ATTR_MAX);
		}
		free(spec);
		free(attrs);
	}
	sx_buf_init(&b);
	sx_packet_csv_row(&b, "fuzz", &pkt, NULL);
	if (sx_names_learner_new(&l) == 0) {
		sx_names_learn(l, &pkt);
		sx_names_learner_free(l);
	}
	sx_buf_fini(&b);
	free(frame);
	return 0;
}
