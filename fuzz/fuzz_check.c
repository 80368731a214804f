/*
 * fuzz_check.c - libFuzzer target: `sigex check`'s reading and comparison
 * of two signatures.yaml documents (sx_check_doc_parse with check's tree
 * limits, sx_check_compare), and the report written in each format.
 *
 * Input: the baseline, a NUL byte, the output.  Without a NUL the document
 * is compared with itself (as a seed, a plain signatures.yaml, is).  A NUL
 * never occurs in a document the tree accepts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	const char *base = (const char *)data, *out = base;
	size_t blen = nul ? (size_t)(nul - data) : size, olen = blen;
	struct sx_ytree *a = NULL, *b = NULL;
	struct sx_check_report r = {0};
	struct sx_check_unit u = {0};
	char msg[256];
	FILE *f;

	if (nul) {
		out = (const char *)nul + 1;
		olen = size - blen - 1;
	}
	if (sx_check_doc_parse(base, blen, "baseline", &a, msg, sizeof(msg)) != 0 ||
	    sx_check_doc_parse(out, olen, "output", &b, msg, sizeof(msg)) != 0)
		goto out_free;
	sx_check_tol_default(&r.tol);
	u.name = strdup("."); /* the unit owns its name, as sx_check_run() gives it */
	if (!u.name || sx_check_compare(a, b, &r.tol, &u, msg, sizeof(msg)) != 0)
		goto out_unit;
	r.baseline = "baseline";
	r.output = "output";
	r.units = &u;
	r.nunits = 1;
	r.differ = u.state != SX_CHECK_AGREE;
	r.added = u.added;
	r.removed = u.removed;
	r.changed = u.changed;
	r.patterns = u.base_patterns;
	f = fopen("/dev/null", "w");
	if (f) {
		sx_check_print(f, &r, SX_CHECK_TEXT);
		sx_check_print(f, &r, SX_CHECK_YAML);
		sx_check_print(f, &r, SX_CHECK_JSON);
		fclose(f);
	}
out_unit:
	sx_check_unit_fini(&u);
out_free:
	sx_ytree_free(a);
	sx_ytree_free(b);
	return 0;
}
