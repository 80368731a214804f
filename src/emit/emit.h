/*
 * emit.h - PUBLIC API of the emit module: what a mining result becomes.
 *
 *   sx_emit_report()      the report for people: pattern.txt and stdout;
 *                         each pattern in the reference tool's block format
 *                         (Pattern i: / IP Addresses / Protocol / Ports /
 *                         Fixed port / Application Data), then sigex's lines
 *                         (id, support, statistics, order).  Format: report.c.
 *   sx_emit_signatures()  signatures.yaml, the complete machine-readable
 *                         signature (every pattern with its stable id,
 *                         identity, statistics; background and periodic
 *                         patterns; the run's parameters).  Schema:
 *                         signatures.c.
 *
 * Both are pure functions of the result: the same result gives the same
 * bytes.  Nothing that varies between equivalent runs (paths of the inputs,
 * hash seed, thread count, clock) is written.  emit only borrows the result.
 */
#ifndef SX_EMIT_EMIT_H
#define SX_EMIT_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "mine/mine.h"

struct sx_buf;

#define SX_EMIT_REPORT_FILE	"pattern.txt"
#define SX_EMIT_SIGNATURES_FILE "signatures.yaml"

struct sx_emit_opts {
	/* Ports line: every port of each end, instead of the three most used
	 * ports of each end (the seed README's rule). */
	bool all_ports;
};

/*
 * sx_emit_report - append the report to b (errors latch in b->err).
 * o may be NULL (defaults).  Context: any thread; b is the caller's.
 */
void sx_emit_report(struct sx_buf *b, const struct sx_mine_result *r, const struct sx_emit_opts *o);

/*
 * sx_emit_signatures - write signatures.yaml to f (borrowed).  o may be
 * NULL.  Returns 0, or SX_E_YAML / -EIO / -ENOMEM with a message in msg
 * (msglen bytes).  Context: any thread.
 */
int sx_emit_signatures(FILE *f, const struct sx_mine_result *r, const struct sx_emit_opts *o,
		       char *msg, size_t msglen);

#endif /* SX_EMIT_EMIT_H */
