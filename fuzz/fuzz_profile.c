/*
 * fuzz_profile.c - libFuzzer target: the profile.yaml reader of `sigex
 * verify` (sx_verify_profile_parse: the bounded YAML tree, then the
 * translator's compilation of every policy), each compiled rule written as
 * nftables text, and a firewall running the profile.
 *
 * Input: the profile, optionally followed by a NUL byte and Ethernet
 * frames, each as a 2-byte big-endian length and that many bytes (cut at
 * the end of the input), replayed through a fresh firewall in order.  A
 * NUL never occurs in a profile the tree accepts, so the seeds (plain
 * profiles) are parsed whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest.h"
#include "verify/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void replay(const struct sx_verify_profile *p, const uint8_t *d, size_t n)
{
	static struct sx_pkt pkt;
	struct sx_verify_verdict v;
	struct sx_verify_fw *fw;

	if (sx_verify_fw_new(p, &fw) != 0)
		return;
	while (n >= 2) {
		size_t len = (size_t)d[0] << 8 | d[1];
		uint8_t *frame;

		d += 2;
		n -= 2;
		if (len > n)
			len = n;
		/* a heap copy of exactly its length, so that ASan sees an overread */
		frame = malloc(len ? len : 1);
		if (!frame)
			break;
		memcpy(frame, d, len);
		sx_decode(&pkt, SX_L2_ETH, frame, (uint32_t)len, (uint32_t)len);
		sx_verify_fw_packet(fw, &pkt, &v);
		free(frame);
		d += len;
		n -= len;
	}
	sx_verify_fw_free(fw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t ylen = nul ? (size_t)(nul - data) : size;
	struct sx_verify_profile *p;
	char msg[256], rule[4096];
	size_t i, n;

	if (sx_verify_profile_parse((const char *)data, ylen, NULL, &p, msg, sizeof(msg)) != 0)
		return 0;
	n = sx_verify_profile_npolicies(p);
	for (i = 0; i < n; i++)
		sx_verify_profile_policy_name(p, i);
	n = sx_verify_profile_nrules(p);
	for (i = 0; i < n; i++)
		sx_verify_profile_rule(p, i, rule, sizeof(rule));
	if (nul)
		replay(p, nul + 1, size - ylen - 1);
	sx_verify_profile_free(p);
	return 0;
}
