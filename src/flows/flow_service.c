/*
 * flow_service.c - which side of a flow is the service (ServicePort) and
 * which the client (EphemeralPort).
 *
 * DESIGN.  Rules, first that decides wins (portless protocols have none):
 *   1. TCP with an observed handshake (a SYN, or a SYN+ACK): the listening
 *      side, i.e. the responder.
 *   2. Exactly one port is well known (< 1024, or in the table of IoT
 *      service ports of flow_app.c: 1883, 1900, 5353, 5683, 8080, 8883,
 *      9999, ...): that one.  Both known: the lower number (68 -> 67);
 *      equal ports: the responder.
 *   3. The side that stays constant: within the unit, among the flows left
 *      open by rules 1-2, the endpoint (protocol, address, port, peer
 *      address) seen in more flows is the service (a device answering many
 *      client ports from one port).  Counted in a first pass over the
 *      unit's merged flows (flow_spill.c), in a bounded open-addressing
 *      table of 64-bit endpoint hashes (SVC_MAX entries, 1.5 MiB; when it
 *      fills, the endpoints seen only once are forgotten and the repeated
 *      ones kept, so memory stays flat on long captures; an endpoint that
 *      repeats only after being forgotten falls to the later rules).
 *   4. One port in the dynamic range (>= 32768: Linux's ephemeral ports
 *      start there, IANA's at 49152) and the other below: the lower one.
 *   5. The responder (the receiver of the first packet).
 *
 * One map per reduce; not thread-safe.
 */
#include "flows/flows.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/util.h"
#include "flows/flows_int.h"

#define SVC_INIT      1024
#define SVC_MAX	      (1u << 20)
#define SVC_SHRINK    (1u << 16)
#define SVC_TOUCHED   256 /* slots a reset clears one by one, else all */
#define EPHEMERAL_MIN 32768

/*
 * A unit's endpoints are few against the table (most units are one small
 * capture), so the slots taken since the last reset are listed, up to
 * SVC_TOUCHED, and a reset clears those alone: clearing the whole table
 * per unit was 0.6 % of batch's instructions.
 */
struct sx_svc_map {
	uint64_t *keys; /* 0 = empty (a zero hash is stored as 1) */
	uint32_t *counts;
	size_t cap;
	size_t n;
	uint32_t touched[SVC_TOUCHED]; /* slots taken since the reset, while ntouched fits */
	size_t ntouched;	       /* past SVC_TOUCHED: clear the whole table */
};

static int svc_alloc(struct sx_svc_map *m, size_t cap)
{
	uint64_t *k = sx_calloc_array(cap, sizeof(*k));
	uint32_t *c = sx_calloc_array(cap, sizeof(*c));

	if (!k || !c) {
		free(k);
		free(c);
		return -ENOMEM;
	}
	free(m->keys);
	free(m->counts);
	m->keys = k;
	m->counts = c;
	m->cap = cap;
	m->n = 0;
	m->ntouched = 0;
	return 0;
}

int sx_svc_map_new(struct sx_svc_map **out)
{
	struct sx_svc_map *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (!m || svc_alloc(m, SVC_INIT)) {
		free(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

void sx_svc_map_free(struct sx_svc_map *m)
{
	if (!m)
		return;
	free(m->keys);
	free(m->counts);
	free(m);
}

void sx_svc_map_reset(struct sx_svc_map *m)
{
	size_t i;

	if (m->cap > SVC_SHRINK && svc_alloc(m, SVC_INIT) == 0)
		return;
	if (m->ntouched <= SVC_TOUCHED) {
		for (i = 0; i < m->ntouched; i++) {
			m->keys[m->touched[i]] = 0;
			m->counts[m->touched[i]] = 0;
		}
	} else {
		memset(m->keys, 0, m->cap * sizeof(*m->keys));
		memset(m->counts, 0, m->cap * sizeof(*m->counts));
	}
	m->n = 0;
	m->ntouched = 0;
}

/* Slot idx was just taken. */
static void touch(struct sx_svc_map *m, size_t idx)
{
	if (m->ntouched < SVC_TOUCHED)
		m->touched[m->ntouched] = (uint32_t)idx;
	if (m->ntouched <= SVC_TOUCHED)
		m->ntouched++;
}

static uint64_t *slot(const struct sx_svc_map *m, uint64_t h, size_t *idx)
{
	size_t i = (size_t)h & (m->cap - 1);

	while (m->keys[i] && m->keys[i] != h)
		i = (i + 1) & (m->cap - 1);
	*idx = i;
	return &m->keys[i];
}

static void svc_grow(struct sx_svc_map *m)
{
	struct sx_svc_map old = *m;
	size_t i, idx;

	m->keys = NULL;
	m->counts = NULL;
	if (svc_alloc(m, old.cap * 2)) {
		*m = old;
		return;
	}
	for (i = 0; i < old.cap; i++) {
		if (!old.keys[i])
			continue;
		*slot(m, old.keys[i], &idx) = old.keys[i];
		m->counts[idx] = old.counts[i];
		m->n++;
		touch(m, idx);
	}
	free(old.keys);
	free(old.counts);
}

/* At the size limit: forget the endpoints seen once (they are no service
 * yet), keeping the repeated ones, so memory stays flat on long captures. */
static void svc_purge(struct sx_svc_map *m)
{
	struct sx_svc_map old = *m;
	size_t i, idx;

	m->keys = NULL;
	m->counts = NULL;
	if (svc_alloc(m, old.cap)) {
		*m = old;
		return;
	}
	for (i = 0; i < old.cap; i++) {
		if (!old.keys[i] || old.counts[i] < 2)
			continue;
		*slot(m, old.keys[i], &idx) = old.keys[i];
		m->counts[idx] = old.counts[i];
		m->n++;
		touch(m, idx);
	}
	free(old.keys);
	free(old.counts);
}

static void svc_inc(struct sx_svc_map *m, uint64_t h)
{
	uint64_t *k;
	size_t idx;

	h = h ? h : 1;
	if (m->n * 10 >= m->cap * 7) {
		if (m->cap < SVC_MAX)
			svc_grow(m);
		else
			svc_purge(m);
	}
	k = slot(m, h, &idx);
	if (!*k) {
		if (m->n * 10 >= m->cap * 7)
			return; /* full: stop counting new endpoints */
		*k = h;
		m->n++;
		touch(m, idx);
	}
	if (m->counts[idx] < UINT32_MAX)
		m->counts[idx]++;
}

static uint32_t svc_get(const struct sx_svc_map *m, uint64_t h)
{
	size_t idx;

	h = h ? h : 1;
	return *slot(m, h, &idx) ? m->counts[idx] : 0;
}

/* Hash of (protocol, vlan, address, port, peer address). */
static uint64_t endpoint(const struct sx_flow_rec *r, enum sx_flow_side side)
{
	struct {
		uint8_t addr[16];
		uint8_t peer[16];
		uint16_t port;
		uint16_t vlan;
		uint8_t proto;
		uint8_t family;
		uint8_t pad[2];
	} e;
	struct sx_addr a, b;

	memset(&e, 0, sizeof(e));
	sx_flow_rec_end(r, side, &a, &e.port);
	sx_flow_rec_end(r, side == SX_SIDE_DEVICE ? SX_SIDE_OTHER : SX_SIDE_DEVICE, &b, NULL);
	memcpy(e.addr, a.b, 16);
	memcpy(e.peer, b.b, 16);
	e.vlan = r->key.vlan;
	e.proto = r->key.proto;
	e.family = r->key.family;
	return XXH3_64bits(&e, sizeof(e));
}

/* Rules 1 and 2: what the flow says on its own. */
static enum sx_flow_side decide(const struct sx_flow_rec *r, uint16_t dp, uint16_t op)
{
	bool kd, ko;

	if (r->key.proto == 6 && r->init != SX_INIT_FIRST)
		return SX_SIDE_OTHER;
	kd = sx_flow_port_is_known(r->key.proto, dp);
	ko = sx_flow_port_is_known(r->key.proto, op);
	if (ko && !kd)
		return SX_SIDE_OTHER;
	if (kd && !ko)
		return SX_SIDE_DEVICE;
	if (kd && ko)
		return dp < op ? SX_SIDE_DEVICE : SX_SIDE_OTHER;
	return SX_SIDE_NONE;
}

static void ports(const struct sx_flow_rec *r, uint16_t *dp, uint16_t *op)
{
	bool lo = r->dev == 0;

	*dp = lo ? r->key.lo_port : r->key.hi_port;
	*op = lo ? r->key.hi_port : r->key.lo_port;
}

void sx_svc_map_count(struct sx_svc_map *m, const struct sx_flow_rec *r)
{
	uint16_t dp, op;

	if (!sx_flow_has_ports(&r->key))
		return;
	ports(r, &dp, &op);
	if (decide(r, dp, op) != SX_SIDE_NONE)
		return;
	svc_inc(m, endpoint(r, SX_SIDE_DEVICE));
	svc_inc(m, endpoint(r, SX_SIDE_OTHER));
}

enum sx_flow_side sx_flows__service(const struct sx_svc_map *m, const struct sx_flow_rec *r)
{
	enum sx_flow_side s;
	uint32_t cd, co;
	uint16_t dp, op;

	if (!sx_flow_has_ports(&r->key))
		return SX_SIDE_NONE;
	ports(r, &dp, &op);
	s = decide(r, dp, op);
	if (s != SX_SIDE_NONE)
		return s;
	if (m) {
		cd = svc_get(m, endpoint(r, SX_SIDE_DEVICE));
		co = svc_get(m, endpoint(r, SX_SIDE_OTHER));
		if (co != cd)
			return co > cd ? SX_SIDE_OTHER : SX_SIDE_DEVICE;
	}
	if (dp >= EPHEMERAL_MIN && op < EPHEMERAL_MIN)
		return SX_SIDE_OTHER;
	if (op >= EPHEMERAL_MIN && dp < EPHEMERAL_MIN)
		return SX_SIDE_DEVICE;
	return SX_SIDE_OTHER;
}
