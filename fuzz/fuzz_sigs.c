/*
 * fuzz_sigs.c - libFuzzer target: the signatures.yaml reader of `sigex
 * detect` (sx_det_sig_parse: the bounded YAML tree, then the signature's
 * schema), and a detector built over what it accepts (sx_det_new: the
 * contrast of the signature's patterns with its between-events traffic),
 * since a signature file may come from anywhere.
 */
#include <stdint.h>

#include "detect/detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct sx_det_cfg cfg = {.slack = -1};
	const struct sx_det_sig *sigs[1];
	struct sx_det_sig *s;
	struct sx_det *d;
	char msg[256];

	if (sx_det_sig_parse((const char *)data, size, "fuzz/signatures.yaml", &s, msg,
			     sizeof(msg)) != 0)
		return 0;
	sigs[0] = s;
	if (sx_det_new(&cfg, sigs, 1, &d) == 0)
		sx_det_free(d);
	sx_det_sig_free(s);
	return 0;
}
