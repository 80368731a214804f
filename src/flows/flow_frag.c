/*
 * flow_frag.c - IP fragments joined to their datagram's flow.
 *
 * DESIGN
 *
 * Only the first fragment of a fragmented datagram carries the transport
 * header, so a later fragment, keyed as it is, would make a flow of its own
 * with ports 0 (and a portless policy downstream).  Instead, per worker and
 * per capture, the datagrams of port-bearing protocols (TCP, UDP) are
 * remembered by (address family, source, destination, protocol, VLAN, IP
 * identification: 16 bits for IPv4, 32 for the IPv6 Fragment header), with
 * the ports of their first fragment; a later fragment is then accounted
 * (packets, wire bytes, time) to the flow of its first fragment, under the
 * first fragment's ports.  No payload is kept or reassembled: the flow
 * record only counts, and a first fragment already holds all the
 * application data the dissectors read.
 *
 * Window and limits (per worker; the table is emptied at every capture's
 * begin and end, fragments never join across captures):
 *   - a datagram is remembered for SX_FLOWS_FRAG_WINDOW_NS (30 s, Linux's
 *     ipfrag_time; RFC 8200 allows 60 s) from its first fragment seen,
 *     whichever it was; the window is not extended by later fragments, so
 *     an endless stream of fragments under one id stops matching;
 *   - at most SX_FLOWS_FRAG_MAX datagrams (1024) are remembered at once; the
 *     entries form a ring in arrival order, so when it is full the oldest
 *     gives way (counted in frag_evicted when it had not completed);
 *   - at most SX_FLOWS_FRAG_PKTS fragments (128) are accounted per datagram,
 *     and none that ends beyond 65535 bytes; the rest are dropped
 *     (frag_dropped): no legitimate datagram needs more (64 KiB at a
 *     576-byte MTU is 120 fragments);
 *   - a later fragment that comes before its first fragment (out of order)
 *     is held: its decoded headers (not its payload) are copied into a
 *     pool of SX_FLOWS_FRAG_HOLD slots (256) shared by the datagrams, at
 *     most SX_FLOWS_FRAG_HOLD_PER (8) per datagram.  When the first
 *     fragment comes within the window, the held fragments are counted to
 *     its flow (frag_joined) right after it, at their own timestamps.  A
 *     later fragment that cannot be held, and a held one whose first
 *     fragment never comes (window over, evicted, capture ended), is
 *     counted in frag_unmatched and in no flow: never as a portless flow.
 * Overlapping and duplicated fragments are real packets of the datagram
 * and are counted to its flow (within the per-datagram limit); a datagram
 * whose fragments announce more data than its length (known from the
 * fragment without More Fragments) counts once in frag_overlap.  So memory
 * is fixed at worker creation (about 190 KiB), whatever the fragments.
 *
 * Lookup: core/map.h from the key's hash to the ring slot.  The map never
 * deletes: a slot that was reused or retired no longer matches its stale
 * entries, and the map is rebuilt from the ring when it holds
 * 2 * SX_FLOWS_FRAG_MAX entries (room reserved once, so it never grows).
 *
 * Protocols without ports (ICMP, ...) need none of this: all their
 * fragments already share the flow key.  One thread per worker; no locking.
 */
#include "flows/flows.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/map.h"
#include "flows/flows_int.h"

#define DGRAM_MAX 65535u
#define MAP_MAX	  (2 * SX_FLOWS_FRAG_MAX)
#define NO_HOLD	  UINT32_MAX

/* Bytes of struct sx_pkt kept for a held fragment: everything but the
 * application union, which a later fragment never has. */
#define HDR_BYTES offsetof(struct sx_pkt, app)

struct frag_key {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t id;
	uint16_t vlan;
	uint8_t family;
	uint8_t proto;
};

SX_STATIC_ASSERT(sizeof(struct frag_key) == 40, "frag_key has no padding");

struct frag {
	struct frag_key key;
	int64_t first_ns; /* the first fragment seen, whichever it was */
	uint32_t covered; /* data bytes announced by the fragments counted */
	uint32_t end;	  /* datagram length, from the last fragment; 0 unknown */
	uint32_t held;	  /* first held fragment (pool index), NO_HOLD */
	uint16_t sport, dport;
	uint16_t npkts; /* fragments accounted */
	uint8_t nheld;
	bool live;
	bool have_first;
	bool overlap;
};

struct hold {
	uint32_t next; /* pool index, NO_HOLD */
	unsigned char hdr[HDR_BYTES];
};

struct sx_frags {
	struct frag ring[SX_FLOWS_FRAG_MAX];
	uint32_t head, count; /* oldest entry, entries in the ring */
	struct sx_map map;    /* hash -> uint32_t ring slot */
	struct hold pool[SX_FLOWS_FRAG_HOLD];
	uint32_t free_hold;
	uint32_t replay; /* slot whose held fragments are being replayed */
	struct sx_frag_stats st;
	struct sx_pkt scratch; /* the view handed back; app never written */
};

static uint64_t key_hash(const struct frag_key *k)
{
	return XXH3_64bits(k, sizeof(*k));
}

static void key_make(struct frag_key *k, const struct sx_pkt *pkt)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->src, pkt->src.b, sizeof(k->src));
	memcpy(k->dst, pkt->dst.b, sizeof(k->dst));
	k->id = pkt->ip_id;
	k->vlan = pkt->vlan;
	k->family = pkt->src.family;
	k->proto = pkt->ip_proto;
}

static void reset_pool(struct sx_frags *t)
{
	uint32_t i;

	for (i = 0; i < SX_FLOWS_FRAG_HOLD; i++)
		t->pool[i].next = i + 1 < SX_FLOWS_FRAG_HOLD ? i + 1 : NO_HOLD;
	t->free_hold = 0;
}

int sx_frags__new(struct sx_frags **out)
{
	struct sx_frags *t = calloc(1, sizeof(*t));
	int ret;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	sx_map_init(&t->map, sizeof(uint32_t), 1024, 50);
	ret = sx_map_reserve(&t->map, MAP_MAX);
	if (ret)
		goto out_free;
	reset_pool(t);
	t->replay = NO_HOLD;
	*out = t;
	return 0;

out_free:
	free(t);
	return ret;
}

void sx_frags__free(struct sx_frags *t)
{
	if (!t)
		return;
	sx_map_fini(&t->map);
	free(t);
}

/* Give back f's held fragments, counted as unmatched. */
static void drop_held(struct sx_frags *t, struct frag *f)
{
	while (f->held != NO_HOLD) {
		uint32_t i = f->held;

		f->held = t->pool[i].next;
		t->pool[i].next = t->free_hold;
		t->free_hold = i;
		t->st.unmatched++;
	}
	f->nheld = 0;
}

static bool complete(const struct frag *f)
{
	return f->have_first && f->end && f->covered >= f->end;
}

/* The datagram leaves the table (window over, evicted, capture ended). */
static void retire(struct sx_frags *t, struct frag *f, bool evicted)
{
	if (!f->live)
		return;
	if (evicted && !complete(f))
		t->st.evicted++;
	drop_held(t, f);
	f->live = false;
	if (t->replay == (uint32_t)(f - t->ring))
		t->replay = NO_HOLD;
}

void sx_frags__reset(struct sx_frags *t)
{
	uint32_t i;

	for (i = 0; i < t->count; i++)
		retire(t, &t->ring[(t->head + i) % SX_FLOWS_FRAG_MAX], false);
	t->head = 0;
	t->count = 0;
	t->replay = NO_HOLD;
	sx_map_clear(&t->map);
}

const struct sx_frag_stats *sx_frags__stats(const struct sx_frags *t)
{
	return &t->st;
}

static bool expired(const struct frag *f, int64_t ts)
{
	return sx_flows__apart(ts, f->first_ns, SX_FLOWS_FRAG_WINDOW_NS);
}

/* The live entry of key k, or NULL. */
static struct frag *lookup(struct sx_frags *t, const struct frag_key *k, uint64_t h)
{
	size_t pos = SX_MAP_START;
	uint32_t *slot;

	while ((slot = sx_map_next(&t->map, h, &pos))) {
		struct frag *f = &t->ring[*slot];

		if (f->live && memcmp(&f->key, k, sizeof(*k)) == 0)
			return f;
	}
	return NULL;
}

static void map_put(struct sx_frags *t, uint64_t h, uint32_t slot)
{
	size_t pos = SX_MAP_START;

	while (sx_map_next(&t->map, h, &pos))
		;
	*(uint32_t *)sx_map_add(&t->map, h, pos) = slot;
}

/* Rebuild the map from the live entries (stale ones dropped). */
static void map_rebuild(struct sx_frags *t)
{
	uint32_t i;

	sx_map_clear(&t->map);
	for (i = 0; i < t->count; i++) {
		uint32_t s = (t->head + i) % SX_FLOWS_FRAG_MAX;

		if (t->ring[s].live)
			map_put(t, key_hash(&t->ring[s].key), s);
	}
}

/* A new entry for k at time ts: the oldest entries leave first when their
 * window is over, or when the ring is full. */
static struct frag *insert(struct sx_frags *t, const struct frag_key *k, uint64_t h, int64_t ts)
{
	struct frag *f;
	uint32_t slot;

	while (t->count) {
		f = &t->ring[t->head];
		if (f->live && !expired(f, ts) && t->count < SX_FLOWS_FRAG_MAX)
			break;
		retire(t, f, f->live && !expired(f, ts));
		t->head = (t->head + 1) % SX_FLOWS_FRAG_MAX;
		t->count--;
	}
	if (t->map.n >= MAP_MAX)
		map_rebuild(t);
	slot = (t->head + t->count) % SX_FLOWS_FRAG_MAX;
	t->count++;
	f = &t->ring[slot];
	memset(f, 0, sizeof(*f));
	f->key = *k;
	f->first_ns = ts;
	f->held = NO_HOLD;
	f->live = true;
	map_put(t, h, slot);
	if (t->count > t->st.peak)
		t->st.peak = t->count;
	return f;
}

/* Count a fragment's data in f; false when it is over the limits. */
static bool account(struct sx_frags *t, struct frag *f, const struct sx_pkt *pkt)
{
	uint64_t end = (uint64_t)pkt->frag_off + pkt->frag_len;

	if (f->npkts >= SX_FLOWS_FRAG_PKTS || end > DGRAM_MAX) {
		t->st.dropped++;
		return false;
	}
	f->npkts++;
	f->covered = (uint32_t)SX_MIN((uint64_t)f->covered + pkt->frag_len, (uint64_t)UINT32_MAX);
	if (!pkt->frag_more && !f->end)
		f->end = (uint32_t)end;
	if (f->end && !f->overlap && f->covered > f->end) {
		f->overlap = true;
		t->st.overlap++;
	}
	return true;
}

/* The scratch packet: pkt's headers with the datagram's ports. */
static const struct sx_pkt *view(struct sx_frags *t, const void *hdr, const struct frag *f)
{
	memcpy(&t->scratch, hdr, HDR_BYTES);
	t->scratch.sport = f->sport;
	t->scratch.dport = f->dport;
	t->scratch.payload = NULL;
	t->scratch.payload_cap = 0;
	return &t->scratch;
}

bool sx_frags__tracked(const struct sx_pkt *pkt)
{
	return pkt->frag && (pkt->frag_later || pkt->frag_more) &&
	       (pkt->src.family == 4 || pkt->src.family == 6) &&
	       (pkt->ip_proto == 6 || pkt->ip_proto == 17);
}

enum sx_frag_act sx_frags__packet(struct sx_frags *t, const struct sx_pkt *pkt, int64_t ts,
				  const struct sx_pkt **view_out)
{
	struct frag_key k;
	struct frag *f;
	uint64_t h;

	*view_out = NULL;
	key_make(&k, pkt);
	h = key_hash(&k);
	f = lookup(t, &k, h);
	if (f && expired(f, ts)) {
		retire(t, f, false);
		f = NULL;
	}
	if (!pkt->frag_later) {
		/* The first fragment: its ports name the datagram. */
		if (!f)
			f = insert(t, &k, h, ts);
		if (f->have_first) {
			/* A second "first" (a duplicate, an overlap): counted as
			 * it is, under its own ports. */
			if (!account(t, f, pkt))
				return SX_FRAG_DROP;
			return SX_FRAG_PASS;
		}
		f->have_first = true;
		f->sport = pkt->sport;
		f->dport = pkt->dport;
		if (!account(t, f, pkt))
			return SX_FRAG_DROP;
		if (f->held != NO_HOLD)
			t->replay = (uint32_t)(f - t->ring);
		return SX_FRAG_PASS;
	}
	if (f && f->have_first) {
		if (!account(t, f, pkt))
			return SX_FRAG_DROP;
		t->st.joined++;
		*view_out = view(t, pkt, f);
		return SX_FRAG_COUNT;
	}
	/* Before its first fragment: hold its headers, if there is room. */
	if (!f)
		f = insert(t, &k, h, ts);
	if (f->nheld >= SX_FLOWS_FRAG_HOLD_PER || t->free_hold == NO_HOLD) {
		t->st.unmatched++;
		return SX_FRAG_DROP;
	}
	if (!account(t, f, pkt))
		return SX_FRAG_DROP;
	{
		uint32_t i = t->free_hold, *tail = &f->held;

		t->free_hold = t->pool[i].next;
		memcpy(t->pool[i].hdr, pkt, HDR_BYTES);
		/* Appended, so that replay keeps the arrival order. */
		while (*tail != NO_HOLD)
			tail = &t->pool[*tail].next;
		t->pool[i].next = NO_HOLD;
		*tail = i;
		f->nheld++;
	}
	t->st.held++;
	return SX_FRAG_HELD;
}

const struct sx_pkt *sx_frags__replay(struct sx_frags *t)
{
	struct frag *f;
	uint32_t i;

	if (t->replay == NO_HOLD)
		return NULL;
	f = &t->ring[t->replay];
	i = f->held;
	if (i == NO_HOLD) {
		t->replay = NO_HOLD;
		return NULL;
	}
	f->held = t->pool[i].next;
	f->nheld--;
	t->pool[i].next = t->free_hold;
	t->free_hold = i;
	t->st.joined++;
	/* The slot is free again but its bytes are copied out first. */
	return view(t, t->pool[i].hdr, f);
}
