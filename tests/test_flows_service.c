/*
 * test_flows_service.c - the service side's endpoint counts (rule 3 of
 * flow_service.c) in a map reused from unit to unit: after a reset, the
 * map decides each flow as a map made for that unit alone does, whether
 * the last unit took a few slots (cleared one by one), more than the
 * reset lists (cleared whole), or grew the table.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "flows/flows_int.h"

TestSuite(flows_service, .timeout = 60);

/* A UDP flow between the device 10.0.0.1 and server s (192.0.2.s / 198.51.100.s),
 * ports in 20000-29999: no rule but the endpoint counts and the responder decides. */
static void mkrec(struct sx_flow_rec *r, uint32_t s, uint16_t dport, uint16_t sport, bool dev_lo)
{
	uint8_t dev[4] = {10, 0, 0, 1},
		srv[4] = {(uint8_t)(s & 1 ? 192 : 198), 0, (uint8_t)(s >> 8), (uint8_t)s};

	memset(r, 0, sizeof(*r));
	r->key.proto = 17;
	r->key.family = 4;
	memcpy(dev_lo ? r->key.lo_addr : r->key.hi_addr, dev, 4);
	memcpy(dev_lo ? r->key.hi_addr : r->key.lo_addr, srv, 4);
	r->key.lo_port = dev_lo ? dport : sport;
	r->key.hi_port = dev_lo ? sport : dport;
	r->dev = dev_lo ? 0 : 1;
	r->init = SX_INIT_FIRST;
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17; /* xorshift64 */
	return *x;
}

Test(flows_service, a_reused_map_decides_as_a_fresh_one)
{
	/* flows per unit: a few, past the reset's list (256 slots), past the
	 * table's growth (717 of 1024), few again after the growth */
	static const size_t sizes[] = {3, 40, 0, 200, 1, 900, 5, 150, 2000, 7, 60, 1};
	struct sx_svc_map *reused, *fresh;
	struct sx_flow_rec *recs = calloc(2000, sizeof(*recs));
	uint64_t x = 0x2545f4914f6cdd1du;
	size_t u, i, decided = 0;

	cr_assert_not_null(recs);
	cr_assert_eq(sx_svc_map_new(&reused), 0);
	for (u = 0; u < sizeof(sizes) / sizeof(sizes[0]); u++) {
		size_t n = sizes[u];

		/* servers repeat (their port too), device ports mostly not */
		for (i = 0; i < n; i++) {
			uint32_t s = (uint32_t)(rnd(&x) % (n / 4 + 2));
			uint16_t sport = (uint16_t)(20000 + s % 7000);
			uint16_t dport = (uint16_t)(20000 + rnd(&x) % 9000);

			mkrec(&recs[i], s + (uint32_t)u * 3, dport, sport, rnd(&x) & 1);
		}
		cr_assert_eq(sx_svc_map_new(&fresh), 0);
		sx_svc_map_reset(reused);
		for (i = 0; i < n; i++) {
			sx_svc_map_count(reused, &recs[i]);
			sx_svc_map_count(fresh, &recs[i]);
		}
		for (i = 0; i < n; i++) {
			enum sx_flow_side a = sx_flows__service(reused, &recs[i]);

			cr_assert_eq(a, sx_flows__service(fresh, &recs[i]), "unit %zu flow %zu", u,
				     i);
			decided += a != SX_SIDE_NONE;
		}
		sx_svc_map_free(fresh);
	}
	cr_assert_gt(decided, 1000);
	sx_svc_map_free(reused);
	free(recs);
}
