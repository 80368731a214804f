/*
 * patterns_int.h - what the files of pattern mining share (patterns.c,
 * pattern_ends.c, pattern_attrs.c, pattern_stats.c): the working state of
 * one sx_mine__patterns() run and the steps that build a pattern.  Private
 * to the mine module; the design is at the top of patterns.c.
 */
#ifndef SX_MINE_PATTERNS_INT_H
#define SX_MINE_PATTERNS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mine/mine_int.h"

/* ---- working state ---- */

struct clu {
	uint32_t *mem; /* member flows (indices into in->flows), canonical */
	uint32_t n;
	uint32_t support;
	uint32_t bgsup;
	int64_t *first; /* per occurrence: first member's offset, or INT64_MIN */
	uint8_t kind;
	bool candidate;	   /* a pattern, or for the record below support */
	bool below;	   /* support < min_support */
	int64_t order_key; /* median first offset */
	struct sx_mine_pattern *p;
	uint32_t cluster;
};

struct ctx {
	const struct sx_mine_input *in;
	struct sx_mine_arena *ra; /* the result's arena */
	struct clu *clu;
	uint32_t k;
	uint32_t words;	       /* occurrence bitmap words */
	int64_t *tmp;	       /* scratch of nflows + noccs values */
	struct sx_addr *focal; /* per occurrence: the host with the most flows */
	char buf[4096];
};

/* dst = a b c, if it fits (else false, dst unspecified). */
bool sx_mine__cat3(char *dst, size_t dsz, const char *a, size_t alen, const char *b, const char *c);

/* ---- pattern_ends.c ---- */

int sx_mine__addr_qcmp(const void *a, const void *b);
/* Sort a[0..n) by sx_addr_cmp(). */
void sx_mine__sort_addrs(struct sx_addr *a, size_t n);
/* An address with a count (of flows, of ends). */
struct sx_mine_addr_n {
	struct sx_addr a;
	uint32_t n;
};
/* Counts of one address in ac[0..n) (runs of a list) summed: the distinct
 * addresses in sx_addr_cmp() order at the front; returns how many. */
uint32_t sx_mine__merge_addr_runs(struct sx_mine_addr_n *ac, uint32_t n);
/* Append a to the runs ac[0..*n): the count of the run at *last when it
 * holds a, else a new run (room kept by the caller), *last then. */
void sx_mine__addr_run(struct sx_mine_addr_n *ac, uint32_t *n, uint32_t *last,
		       const struct sx_addr *a);
/* Longest common label suffix of names[0..n) if it holds every name's
 * registrable domain, else NULL.  Written into out. */
const char *sx_mine__names_suffix(const char *const *names, uint32_t n, char *out, size_t outsz);
/* One end (role 0 or 1) of cluster c's pattern.  0 or -ENOMEM. */
int sx_mine__build_end(struct ctx *cx, const struct clu *c, unsigned role, struct sx_mine_end *e,
		       bool has_ports);

/* ---- pattern_attrs.c ---- */

/* The pattern's application attributes.  0 or -ENOMEM. */
int sx_mine__build_attrs(struct ctx *cx, const struct clu *c, struct sx_mine_pattern *p);
bool sx_mine__coap_is_request(const char *code);
/* The typed application fields of p, from its attributes.  0 or -ENOMEM. */
int sx_mine__parse_app(struct ctx *cx, struct sx_mine_pattern *p);
/* The distinct address pairs of cluster c's flows.  0 or -ENOMEM. */
int sx_mine__build_pairs(struct ctx *cx, const struct clu *c, struct sx_mine_pattern *p);

/* ---- pattern_stats.c ---- */

void sx_mine__build_stats(struct ctx *cx, struct clu *c, struct sx_mine_pattern *p);
/* Whether p is periodic chatter (see patterns.c). */
bool sx_mine__is_periodic(struct ctx *cx, const struct clu *c, struct sx_mine_pattern *p);
/* The histograms of p (the reference's Application Data).  0 or -ENOMEM. */
int sx_mine__build_hists(struct ctx *cx, const struct clu *c, struct sx_mine_pattern *p);

#endif /* SX_MINE_PATTERNS_INT_H */
