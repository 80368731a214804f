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
 * AddressSanitizer sees any overread.  The frame is then decoded twice more
 * through a reader's memo of DNS-family messages (app_memo.c: the second
 * time from its copy), which must give the same summary, row and tokens,
 * and the same message number (pkt->app_id); a names learner taught the
 * numbered copy twice (the second time from its own memo) must save the
 * facts and counts that learning the plain decoding twice gives.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "flows/flows_int.h"
#include "ingest/app.h"
#include "ingest/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum sx_l2 framings[] = {SX_L2_ETH, SX_L2_SLL,  SX_L2_SLL2,
				      SX_L2_RAW, SX_L2_NULL, SX_L2_UNSUPPORTED};

/* What the packet gives the outputs: its summary, its packet CSV row and
 * what it adds to its flow, as one text (malloc'd; NULL without memory). */
static char *outputs(const struct sx_pkt *pkt)
{
	/* the flow's own sizes, on the heap so that ASan sees an overflow */
	char *spec = malloc(SX_FLOW_SPEC_MAX), *attrs = malloc(SX_FLOW_ATTR_MAX);
	char summary[1024], *text = NULL;
	struct sx_buf b;

	sx_buf_init(&b);
	sx_pkt_summary(pkt, summary, sizeof(summary));
	sx_buf_puts(&b, summary);
	if (spec && attrs && sx_flows__pkt_has_app(pkt)) {
		sx_flows__pkt_spec(pkt, spec, SX_FLOW_SPEC_MAX);
		sx_flows__pkt_attrs(pkt, attrs, SX_FLOW_ATTR_MAX);
		sx_buf_puts(&b, spec);
		sx_buf_puts(&b, attrs);
	}
	sx_packet_csv_row(&b, "fuzz", pkt, NULL);
	if (!b.err)
		text = strndup(b.data ? b.data : "", b.len);
	sx_buf_fini(&b);
	free(spec);
	free(attrs);
	return text;
}

/* The facts a learner saves after learning p twice (malloc'd; NULL without
 * memory). */
static char *facts_twice(const struct sx_pkt *p)
{
	struct sx_names_learner *l;
	struct sx_names *t = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (sx_names_learner_new(&l))
		return NULL;
	sx_names_learn(l, p);
	sx_names_learn(l, p);
	if (sx_names_new(&t) == 0 && sx_names_merge(t, l) == 0) {
		sx_names_finish(t);
		f = open_memstream(&text, &len);
		if (f) {
			if (sx_names_save(t, f) != 0) {
				fclose(f);
				free(text);
				text = NULL;
			} else {
				fclose(f);
			}
		}
	}
	sx_names_free(t);
	sx_names_learner_free(l);
	return text;
}

/* Whether the numbered copy teaches a learner what the plain decoding
 * does, counted twice (the second time from the learner's memo). */
static bool same_facts(const struct sx_pkt *plain, const struct sx_pkt *numbered)
{
	char *a = facts_twice(plain), *b = facts_twice(numbered);
	bool same = !a || !b || strcmp(a, b) == 0;

	free(a);
	free(b);
	return same;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sx_pkt pkt, again;
	static struct sx_app_memo *memo;
	enum sx_l2 l2;
	struct sx_names_learner *l;
	char *text;
	uint8_t *frame;
	uint32_t caplen, wire;
	int k;

	if (size < 1)
		return 0;
	frame = malloc(size - 1 ? size - 1 : 1);
	if (!frame)
		return 0;
	memcpy(frame, data + 1, size - 1);
	l2 = framings[data[0] % (sizeof(framings) / sizeof(framings[0]))];
	caplen = (uint32_t)(size - 1);
	wire = (uint32_t)(size - 1 + (data[0] >> 4));
	sx_decode(&pkt, l2, frame, caplen, wire);
	text = outputs(&pkt);
	if (sx_names_learner_new(&l) == 0) {
		sx_names_learn(l, &pkt);
		sx_names_learner_free(l);
	}
	if (!memo && sx_app_memo_new(&memo))
		memo = NULL;
	for (k = 0; k < 2 && memo && text; k++) {
		uint64_t id = again.app_id;
		char *t;

		sx_decode_memo(&again, memo, l2, frame, caplen, wire);
		t = outputs(&again);
		if (t && strcmp(t, text) != 0)
			abort(); /* the memo gave another packet than decoding */
		/* the copy keeps the number the memo gave the message */
		if (k == 1 && again.app_id != id)
			abort();
		free(t);
	}
	if (memo && text && !same_facts(&pkt, &again))
		abort(); /* the learner's memo counted otherwise than learning */
	free(text);
	free(frame);
	return 0;
}
