/*
 * batch_infer.c - the IPv4 address of a device whose device.yaml gives none.
 *
 * The device's captures (the first INFER_PACKETS packets of each) are
 * counted, per capture and per IPv4 address (0.0.0.0/8, loopback,
 * multicast and broadcast are never candidates), the packets that hold it,
 * those it sends, those it sends from the device's MAC (device.yaml's mac)
 * and the Ethernet source of the first frame it sends.  Every decision
 * below is then made from those counts, without reading again.
 *
 * The device's address.  The address present in every capture of the
 * device that holds IPv4 traffic, the one in the most packets among those,
 * provided it is the source of at least one frame (from device.yaml's mac
 * when one is given): an address the device never sends from is a server it
 * talks to, not its own.  Without a mac in device.yaml it must also be sent
 * from the MAC that sends each capture's busiest address (the one in the
 * most packets among those that are the source of a frame) when the
 * captures agree on one: when the device's lease changed, the address left
 * in every capture is a peer's (the gateway, a cloud server).  Every unit
 * of the device uses it.
 *
 * Per unit, when the device has none (its DHCP lease changed between the
 * recording sessions, so that no address of its own is in all its
 * captures): the device is identified by its MAC instead.
 *   - With mac in device.yaml, that MAC.
 *   - Without, each unit's common address (the rule above over the unit's
 *     own captures) is inferred with the MAC that sends it; a unit without
 *     one (its lease changed between its own captures) names the MAC that
 *     sends each of its captures' busiest address, when they all agree.
 *     When every unit that names a MAC names the same, it is the device's
 *     identity.
 * The device's address in each of its captures (background ones included)
 * is then the address that MAC sends most there (cap_addr).  A unit with a
 * common address keeps it; the others take, as the unit's address (the
 * profile's device-info), the one in the most of their captures, then the
 * lowest, and each capture its own (per_capture: batch_run.c hands them to
 * the extraction, which mines them all as the unit's, so the device is
 * self in every capture).  A device with neither a common address nor a
 * MAC identity (the units name different MACs, or none) fails all its
 * units with the message it always had; a unit of a MAC-identified device
 * whose captures hold no frame from that MAC fails alone.  The captures of
 * a unit are its event captures; background captures are not used to name
 * the MAC.  The address (and the MAC) each unit used is reported on stderr
 * and in summary.csv (with per_capture, every address, the unit's first).
 *
 * The counts come from the packets the reading delivers for the flows
 * (sx_batch__defer(): tallied as each capture is read, inferred when its
 * device's last capture is), or, when the run cannot wait for those
 * (batch_run.c, defer_devices), from a read of the captures of its own
 * (read_capture: headers only, no application dissector); either way the
 * same packets in the same order, so the same decisions.  The device's map
 * is folded from the captures' in capture order.
 *
 * It runs once per device, under the device's lock (the device's other
 * units wait on it).  Addresses are counted in maps (core/map.h) keyed by
 * the IPv4 address: one for the whole device, one per capture (kept as a
 * compact array for the per-unit rules).  An address's frames are counted
 * as sent from the Ethernet source of the first one it sent (on a LAN one
 * address has one MAC).  cap_addr is written under the lock and read after
 * the inference, by the threads running the units.
 */
#include "batch/batch_int.h"
#include "core/map.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/util.h"
#include "ingest/ingest.h"

#define INFER_PACKETS 65536 /* packets read per capture to infer an address */

struct addr_slot {
	uint32_t addr;
	uint32_t caps;	   /* captures holding it */
	uint64_t pkts;	   /* packets holding it (either end) */
	uint64_t sent;	   /* packets it is the source of */
	uint64_t from_mac; /* of those, sent from device.yaml's mac */
	uint64_t mac;	   /* Ethernet source of the first frame it sent, packed; 0: none */
	uint64_t mac_sent; /* of the packets it sent, those from mac */
};

/* Addresses seen: a map (core/map.h) of struct addr_slot under mix(addr),
 * set up at the first address ({0} is an empty map). */
struct addr_map {
	struct sx_map map;
	bool ready;
};

/* One capture's addresses, compacted. */
struct cap_addrs {
	struct addr_slot *s;
	size_t n;
	bool any; /* holds IPv4 traffic */
};

/* One capture's addresses as they are counted, then compacted (ca). */
struct sx_batch_tally {
	struct addr_map one;
	struct cap_addrs ca;
	uint64_t n;	/* packets counted, at most INFER_PACKETS */
	uint64_t total; /* of them, those holding an address */
	int err;	/* -ENOMEM */
	bool done;	/* ca is complete */
	/* the last two addresses' entries (most packets hold the device's
	 * and one peer's), valid while the map's capacity is hot_cap */
	uint32_t hot_v[2];
	struct addr_slot *hot_s[2];
	size_t hot_cap;
	unsigned hot_next;
};

static uint64_t mix(uint32_t a)
{
	uint64_t x = a * 0x9e3779b97f4a7c15ull;

	return x ^ (x >> 29);
}

static struct addr_slot *addr_get(struct addr_map *m, uint32_t a)
{
	uint64_t h = mix(a);
	struct addr_slot *s;
	size_t pos = SX_MAP_START;

	if (!m->ready) {
		sx_map_init(&m->map, sizeof(struct addr_slot), 256, 50);
		m->ready = true;
	}
	if (sx_map_reserve(&m->map, m->map.n + 1))
		return NULL;
	s = sx_map_next(&m->map, h, &pos); /* mix() is a bijection: one entry */
	if (!s) {
		s = sx_map_add(&m->map, h, pos);
		s->addr = a;
	}
	return s;
}

/* The entry in slot k (< m->map.cap), or NULL. */
static struct addr_slot *addr_at(const struct addr_map *m, size_t k)
{
	return sx_map_at(&m->map, k);
}

static void addr_free(struct addr_map *m)
{
	if (m->ready)
		sx_map_fini(&m->map);
}

static bool candidate(const struct sx_addr *a, uint32_t *v)
{
	if (a->family != 4)
		return false;
	*v = (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16 | (uint32_t)a->b[2] << 8 | a->b[3];
	return a->b[0] != 0 && a->b[0] != 127 && a->b[0] < 224;
}

static void addr_text(uint32_t v, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
}

static void mac_text(uint64_t v, char *buf, size_t bufsz)
{
	uint8_t m[6];

	sx_mac_unpack(v, m);
	sx_mac_str(m, buf, bufsz);
}

/* v's entry in t's map, added when new; NULL without memory.  Entries
 * move only when the map grows (core/map.h). */
static struct addr_slot *tally_slot(struct sx_batch_tally *t, uint32_t v)
{
	struct addr_slot *s;
	unsigned i;

	if (t->hot_cap == t->one.map.cap)
		for (i = 0; i < 2; i++)
			if (t->hot_s[i] && t->hot_v[i] == v)
				return t->hot_s[i];
	s = addr_get(&t->one, v);
	if (!s)
		return NULL;
	if (t->hot_cap != t->one.map.cap) {
		t->hot_s[0] = t->hot_s[1] = NULL;
		t->hot_cap = t->one.map.cap;
	}
	t->hot_next ^= 1;
	t->hot_v[t->hot_next] = v;
	t->hot_s[t->hot_next] = s;
	return s;
}

/* Count one packet's end v (k: 0 source, 1 destination) in the capture's
 * tally.  0 or -ENOMEM. */
static int count_end(struct sx_batch_tally *t, uint32_t v, const struct sx_pkt *pkt, int k,
		     uint64_t cfg_mac)
{
	struct addr_slot *s = tally_slot(t, v);

	if (!s)
		return -ENOMEM;
	s->pkts++;
	s->caps = 1;
	if (k != 0)
		return 0;
	s->sent++;
	if (pkt->has_mac) {
		uint64_t src = sx_mac_pack(pkt->mac_src);

		if (!s->mac)
			s->mac = src;
		s->mac_sent += src == s->mac;
		s->from_mac += cfg_mac && src == cfg_mac;
	}
	return 0;
}

/* device.yaml's mac, packed; 0: none. */
static uint64_t cfg_mac_of(const struct sx_batch_device *d)
{
	uint8_t mb[6];

	if (d->cfg && d->cfg->mac && !sx_mac_parse(d->cfg->mac, mb))
		return sx_mac_pack(mb);
	return 0;
}

/* One packet of a capture into its tally, up to INFER_PACKETS. */
static void tally_packet(struct sx_batch_tally *t, const struct sx_pkt *pkt, uint64_t cfg_mac)
{
	const struct sx_addr *ends[2] = {&pkt->src, &pkt->dst};
	bool counted = false;
	int e;

	if (t->err || t->n >= INFER_PACKETS)
		return;
	t->n++;
	for (e = 0; e < 2 && !t->err; e++) {
		uint32_t v;

		if (!candidate(ends[e], &v))
			continue;
		t->err = count_end(t, v, pkt, e, cfg_mac);
		t->ca.any = true;
		t->total += !counted;
		counted = true;
	}
}

/* A capture's tally complete: its map compacted into t->ca.  0 or
 * -ENOMEM. */
static int tally_end(struct sx_batch_tally *t)
{
	size_t k;

	if (!t->err && t->one.map.n) {
		t->ca.s = sx_calloc_array(t->one.map.n, sizeof(*t->ca.s));
		if (!t->ca.s)
			t->err = -ENOMEM;
		for (k = 0; t->ca.s && k < t->one.map.cap; k++)
			if (addr_at(&t->one, k))
				t->ca.s[t->ca.n++] = *addr_at(&t->one, k);
	}
	addr_free(&t->one);
	t->done = true;
	return t->err;
}

/* n tallies and the array, done or not; NULL: nothing. */
static void tallies_free(struct sx_batch_tally *t, size_t n)
{
	size_t i;

	for (i = 0; t && i < n; i++) {
		free(t[i].ca.s);
		addr_free(&t[i].one);
	}
	free(t);
}

/* Read capture i of d into its tally (addresses and MACs only: no
 * application dissector).  0 or -ENOMEM. */
static int read_capture(struct sx_batch *b, struct sx_batch_device *d, size_t i,
			struct sx_batch_tally *t, uint64_t cfg_mac)
{
	struct sx_capture *c;
	struct sx_pkt pkt;
	char msg[256];

	addr_free(&t->one);
	*t = (struct sx_batch_tally){0};
	atomic_fetch_add(&b->files_reread, 1);
	if (!sx_capture_open(d->files[i]->path, NULL, &c, msg, sizeof(msg))) {
		while (!t->err && t->n < INFER_PACKETS && sx_capture_next_headers(c, &pkt) == 1)
			tally_packet(t, &pkt, cfg_mac);
		sx_capture_close(c);
	}
	return tally_end(t);
}

/* Capture c folded into the device's map m (caps, pkts, sent, from_mac;
 * mac: the first capture's to name one, as one pass in capture order
 * would).  0 or -ENOMEM. */
static int fold_capture(struct addr_map *m, const struct cap_addrs *c)
{
	size_t k;

	for (k = 0; k < c->n; k++) {
		const struct addr_slot *e = &c->s[k];
		struct addr_slot *s = addr_get(m, e->addr);

		if (!s)
			return -ENOMEM;
		s->caps++;
		s->pkts += e->pkts;
		s->sent += e->sent;
		s->from_mac += e->from_mac;
		if (!s->mac)
			s->mac = e->mac;
	}
	return 0;
}

/* Whether s beats best (NULL: anything does) by captures, packets, address. */
static bool better(const struct addr_slot *s, const struct addr_slot *best, bool by_caps)
{
	if (!best)
		return true;
	if (by_caps && s->caps != best->caps)
		return s->caps > best->caps;
	if (s->pkts != best->pkts)
		return s->pkts > best->pkts;
	return s->addr < best->addr;
}

/*
 * The addresses of the unit's captures summed into m (pkts, sent, from_mac,
 * caps; mac: the one that sent most).  from: only frames sent from that
 * packed MAC count (pkts = frames sent from it).  Returns the captures
 * holding IPv4 traffic, or -ENOMEM.
 */
static long unit_map(const struct sx_batch_unit *u, const struct sx_batch_tally *t, uint64_t from,
		     struct addr_map *m)
{
	long withip = 0;
	size_t i, k;

	for (i = 0; i < u->ncaps; i++) {
		const struct cap_addrs *c = &t[u->caps[i]->infer_idx].ca;

		withip += c->any;
		for (k = 0; k < c->n; k++) {
			const struct addr_slot *e = &c->s[k];
			struct addr_slot *s;
			uint64_t pk = from ? e->from_mac : e->pkts;

			if (from && !pk)
				continue;
			s = addr_get(m, e->addr);
			if (!s)
				return -ENOMEM;
			s->caps++;
			s->pkts += pk;
			if (e->sent > s->sent || !s->mac) {
				if (e->mac)
					s->mac = e->mac;
			}
			s->sent += e->sent;
		}
	}
	return withip;
}

/* The address the packed MAC sends most in capture c (cfg: mac is
 * device.yaml's, its frames counted exactly), then the lowest; 0: none. */
static uint32_t cap_addr_by_mac(const struct cap_addrs *c, uint64_t mac, bool cfg)
{
	const struct addr_slot *best = NULL;
	uint64_t most = 0;
	size_t k;

	for (k = 0; k < c->n; k++) {
		const struct addr_slot *s = &c->s[k];
		uint64_t n = cfg ? s->from_mac : s->mac == mac ? s->mac_sent : 0;

		if (n && (n > most || (n == most && s->addr < best->addr))) {
			best = s;
			most = n;
		}
	}
	return best ? best->addr : 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The unit's addresses from the device's MAC: each capture's is
 * d->cap_addr's; the unit's own (u->ipv4: the profile's device-info) is the
 * one in the most of its captures, then the lowest, and u->addrs lists it
 * then the others in order when they differ (u->per_capture).  1, 0 (none:
 * u->addr_why set), -ENOMEM.
 */
static int unit_by_mac(struct sx_batch_unit *u, const struct sx_batch_device *d, uint64_t mac)
{
	char mt[SX_MAC_TEXT_MAX], a[32];
	uint32_t *v, best = 0;
	size_t i, n = 0, run, most = 0, len;

	v = sx_calloc_array(u->ncaps + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < u->ncaps; i++)
		if (d->cap_addr[u->caps[i]->infer_idx])
			v[n++] = d->cap_addr[u->caps[i]->infer_idx];
	qsort(v, n, sizeof(*v), cmp_u32);
	for (i = 0; i < n; i += run) {
		for (run = 1; i + run < n && v[i + run] == v[i]; run++)
			;
		if (run > most) {
			most = run;
			best = v[i];
		}
	}
	mac_text(mac, mt, sizeof(mt));
	if (!best) {
		snprintf(u->addr_why, sizeof(u->addr_why),
			 "cannot infer the unit's address: no IPv4 frame from the device's MAC "
			 "%s in its %zu captures; set ipv4 in device.yaml",
			 mt, u->ncaps);
		free(v);
		return 0;
	}
	addr_text(best, u->ipv4, sizeof(u->ipv4));
	snprintf(u->mac, sizeof(u->mac), "%s", mt);
	u->per_capture = most < n;
	len = (size_t)snprintf(u->addrs, sizeof(u->addrs), "%s", u->ipv4);
	for (i = 0; u->per_capture && i < n; i++) {
		if (v[i] == best || (i && v[i] == v[i - 1]))
			continue;
		addr_text(v[i], a, sizeof(a));
		if (len + 1 + strlen(a) + 1 > sizeof(u->addrs))
			break; /* the first ones, in order */
		len += (size_t)snprintf(u->addrs + len, sizeof(u->addrs) - len, " %s", a);
	}
	if (!u->per_capture)
		u->addrs[0] = '\0';
	free(v);
	return 1;
}

/* The packed MAC sending capture c's top address (the one in the most
 * packets among those that are the source of a frame), 0: none. */
static uint64_t top_mac(const struct cap_addrs *c)
{
	const struct addr_slot *top = NULL;
	size_t k;

	for (k = 0; k < c->n; k++)
		if (c->s[k].sent && c->s[k].mac && better(&c->s[k], top, false))
			top = &c->s[k];
	return top ? top->mac : 0;
}

/* Fold capture c into *mac, the MAC every capture's top address is sent
 * from (0 before the first); *mixed once a capture holding IPv4 traffic
 * names another MAC, or none. */
static void fold_top_mac(const struct cap_addrs *c, uint64_t *mac, bool *mixed)
{
	uint64_t t;

	if (!c->any)
		return;
	t = top_mac(c);
	if (!t || (*mac && *mac != t))
		*mixed = true;
	else
		*mac = t;
}

/* The MAC the unit's captures' top addresses are all sent from, 0: none. */
static uint64_t unit_top_mac(const struct sx_batch_unit *u, const struct sx_batch_tally *t)
{
	uint64_t mac = 0;
	bool mixed = false;
	size_t i;

	for (i = 0; i < u->ncaps; i++)
		fold_top_mac(&t[u->caps[i]->infer_idx].ca, &mac, &mixed);
	return mixed ? 0 : mac;
}

/* The unit's common address (the device's rule over the unit's captures:
 * in all of them, most packets, and the source of a frame) and the MAC
 * sending it: 1 (u->ipv4, u->mac set), 0 (none), -ENOMEM. */
static int unit_common(struct sx_batch_unit *u, const struct sx_batch_tally *t)
{
	struct addr_map m = {0};
	const struct addr_slot *best = NULL;
	size_t k;
	long withip = unit_map(u, t, 0, &m);

	for (k = 0; withip > 0 && k < m.map.cap; k++) {
		const struct addr_slot *s = addr_at(&m, k);

		if (s && s->caps == (uint32_t)withip && better(s, best, false))
			best = s;
	}
	if (best && (!best->sent || !best->mac))
		best = NULL; /* as for the device: it must send, from a MAC */
	if (best) {
		addr_text(best->addr, u->ipv4, sizeof(u->ipv4));
		mac_text(best->mac, u->mac, sizeof(u->mac));
	}
	addr_free(&m);
	return withip < 0 ? (int)withip : best != NULL;
}

/*
 * No address for the whole device: per unit (see the top).  1 when the
 * device has a MAC identity (each unit then has its address or its
 * addr_why, d->cap_addr each capture's), 0 when it has none, -ENOMEM.
 */
static int infer_units(struct sx_batch *b, struct sx_batch_device *d,
		       const struct sx_batch_tally *t, uint64_t cfg_mac)
{
	uint64_t mac = cfg_mac;
	bool mixed = false;
	size_t i;
	int ret;

	for (i = 0; !cfg_mac && i < d->nunits; i++) {
		struct sx_batch_unit *u = d->units[i];
		uint64_t top;
		uint8_t m[6];

		if (u->state || !u->ncaps)
			continue;
		ret = unit_common(u, t);
		if (ret < 0)
			return ret;
		top = unit_top_mac(u, t);
		/* a peer common to the unit's captures (the gateway, a server),
		 * while their busiest addresses are another MAC's: not the device */
		if (ret && top && (sx_mac_parse(u->mac, m) || sx_mac_pack(m) != top)) {
			u->ipv4[0] = u->mac[0] = '\0';
			ret = 0;
		}
		/* no common address: the MAC every capture's busiest address is
		 * sent from identifies the device */
		if (!ret && top) {
			mac_text(top, u->mac, sizeof(u->mac));
			ret = 1;
		}
		if (!ret || sx_mac_parse(u->mac, m))
			continue;
		if (mac && mac != sx_mac_pack(m))
			mixed = true;
		mac = sx_mac_pack(m);
	}
	if (!mac || mixed) {
		for (i = 0; i < d->nunits; i++)
			d->units[i]->ipv4[0] = d->units[i]->mac[0] = '\0';
		return 0;
	}
	d->cap_addr = sx_calloc_array(d->nfiles + 1, sizeof(*d->cap_addr));
	if (!d->cap_addr)
		return -ENOMEM;
	for (i = 0; i < d->nfiles; i++)
		d->cap_addr[i] = cap_addr_by_mac(&t[i].ca, mac, cfg_mac != 0);
	for (i = 0; i < d->nunits; i++) {
		struct sx_batch_unit *u = d->units[i];

		if (u->state || !u->ncaps || u->ipv4[0])
			continue;
		ret = unit_by_mac(u, d, mac);
		if (ret < 0)
			return ret;
	}
	mac_text(mac, d->mac, sizeof(d->mac));
	sx_batch__log(b, SX_LOG_INFO,
		      "%s: no address is common to all its captures; the device is MAC %s, its "
		      "address inferred per unit",
		      d->name, d->mac);
	for (i = 0; i < d->nunits; i++) {
		const struct sx_batch_unit *u = d->units[i];

		if (u->state || !u->ipv4[0])
			continue;
		if (u->per_capture)
			sx_batch__log(b, SX_LOG_INFO,
				      "%s/%s: device address %s inferred; its captures' addresses: "
				      "%s (each mined as %s)",
				      d->name, u->event, u->ipv4, u->addrs, u->ipv4);
		else
			sx_batch__log(b, SX_LOG_INFO, "%s/%s: device address %s inferred", d->name,
				      u->event, u->ipv4);
	}
	return 1;
}

/* Infer d's address; 1 on success (d->ipv4 set, or d->per_unit), negative
 * with d->infer_msg. */
static int infer(struct sx_batch *b, struct sx_batch_device *d)
{
	struct addr_map m = {0};
	struct sx_batch_tally *t = d->tally;
	struct addr_slot *best = NULL, *most = NULL, *sending = NULL;
	uint32_t withip = 0;
	struct addr_slot *peer = NULL;
	uint64_t total = 0, cfg_mac = cfg_mac_of(d), top = 0;
	bool mixed = false;
	size_t i, k;
	int ret = 1;

	if (!t)
		t = sx_calloc_array(d->nfiles + 1, sizeof(*t));
	if (!t) {
		snprintf(d->infer_msg, sizeof(d->infer_msg), "out of memory");
		return -ENOMEM;
	}
	/* each capture as the reading tallied it, else read now */
	for (i = 0; i < d->nfiles && !sx_stop_requested() && ret > 0; i++) {
		d->files[i]->infer_idx = (uint32_t)i;
		if ((t[i].done ? t[i].err : read_capture(b, d, i, &t[i], cfg_mac)) ||
		    fold_capture(&m, &t[i].ca))
			ret = -ENOMEM;
		total += t[i].total;
		withip += t[i].ca.any;
	}
	for (k = 0; ret > 0 && k < m.map.cap; k++) {
		struct addr_slot *s = addr_at(&m, k);

		if (!s)
			continue;
		if (!most || s->caps > most->caps ||
		    (s->caps == most->caps &&
		     (s->pkts > most->pkts || (s->pkts == most->pkts && s->addr < most->addr))))
			most = s;
		if (s->caps == withip && (!best || s->pkts > best->pkts ||
					  (s->pkts == best->pkts && s->addr < best->addr)))
			best = s;
	}
	/* the device sends from its own address */
	if (best && (cfg_mac ? best->from_mac : best->sent) == 0) {
		sending = best;
		best = NULL;
	}
	/* and, without a configured mac, from the MAC that sends every
	 * capture's busiest address when they agree on one: else the common
	 * address is a peer (the gateway, a server) of a device whose lease
	 * changed */
	for (i = 0; best && !cfg_mac && i < d->nfiles; i++)
		fold_top_mac(&t[i].ca, &top, &mixed);
	if (best && !cfg_mac && !mixed && top && best->mac != top) {
		peer = best;
		best = NULL;
	}
	if (ret > 0 && !sx_stop_requested() && withip && !best) {
		ret = infer_units(b, d, t, cfg_mac);
		if (ret > 0)
			d->per_unit = true;
		else if (ret == 0)
			ret = 1;
	}
	if (ret < 0) {
		snprintf(d->infer_msg, sizeof(d->infer_msg), "out of memory");
	} else if (sx_stop_requested()) {
		ret = SX_E_STOPPED;
		snprintf(d->infer_msg, sizeof(d->infer_msg), "interrupted");
	} else if (d->per_unit) {
		ret = 1;
	} else if (!withip) {
		ret = -ENODATA;
		snprintf(d->infer_msg, sizeof(d->infer_msg),
			 "cannot infer the device's address: no capture holds IPv4 traffic; "
			 "set ipv4 in device.yaml");
	} else if (sending) {
		char a[32];

		ret = -ENODATA;
		addr_text(sending->addr, a, sizeof(a));
		snprintf(d->infer_msg, sizeof(d->infer_msg),
			 "cannot infer the device's address: %s, in all %u captures, is never the "
			 "source of a frame%s; set ipv4 or mac in device.yaml",
			 a, withip, cfg_mac ? " from the device's MAC" : "");
	} else if (peer) {
		char a[32];

		ret = -ENODATA;
		addr_text(peer->addr, a, sizeof(a));
		snprintf(d->infer_msg, sizeof(d->infer_msg),
			 "cannot infer the device's address: %s, in all %u captures, is not sent "
			 "from the MAC of each capture's busiest address; set ipv4 or mac in "
			 "device.yaml",
			 a, withip);
	} else if (!best) {
		char a[32];

		ret = -ENODATA;
		addr_text(most->addr, a, sizeof(a));
		snprintf(d->infer_msg, sizeof(d->infer_msg),
			 "cannot infer the device's address: no IPv4 address is in all %u "
			 "captures (%s is in %u); set ipv4 in device.yaml",
			 withip, a, most->caps);
	} else {
		addr_text(best->addr, d->ipv4, sizeof(d->ipv4));
		if (cfg_mac)
			mac_text(cfg_mac, d->mac, sizeof(d->mac));
		else if (best->mac)
			mac_text(best->mac, d->mac, sizeof(d->mac));
		sx_batch__log(b, SX_LOG_INFO,
			      "%s: device address %s inferred (in all %u captures, %.0f%% of "
			      "their IPv4 packets)",
			      d->name, d->ipv4, withip, 100.0 * (double)best->pkts / (double)total);
	}
	tallies_free(t, d->nfiles); /* d->tally's, or its own */
	d->tally = NULL;
	addr_free(&m);
	return ret;
}

void sx_batch__tally_free(struct sx_batch_device *d)
{
	tallies_free(d->tally, d->nfiles);
	d->tally = NULL;
}

int sx_batch__unit_ipv4(struct sx_batch *b, struct sx_batch_unit *u, char *out, size_t outsz,
			char *why, size_t whysz)
{
	struct sx_batch_device *d = u->dev;
	const struct sx_batch_device_cfg *c = d->cfg;
	int state;

	if (c && c->ipv4) {
		snprintf(out, outsz, "%s", c->ipv4);
		snprintf(u->ipv4, sizeof(u->ipv4), "%s", c->ipv4);
		snprintf(u->mac, sizeof(u->mac), "%s", c->mac ? c->mac : "");
		return 0;
	}
	pthread_mutex_lock(&d->lock);
	if (!d->infer)
		d->infer = infer(b, d);
	state = d->infer;
	pthread_mutex_unlock(&d->lock);
	if (state < 0) {
		snprintf(why, whysz, "%s", d->infer_msg);
		return -1;
	}
	if (d->per_unit) {
		if (!u->ipv4[0]) {
			snprintf(why, whysz, "%s", u->addr_why);
			return -1;
		}
		snprintf(out, outsz, "%s", u->ipv4);
		return 0;
	}
	snprintf(out, outsz, "%s", d->ipv4);
	snprintf(u->ipv4, sizeof(u->ipv4), "%s", d->ipv4);
	snprintf(u->mac, sizeof(u->mac), "%s", d->mac);
	return 0;
}

int sx_batch__defer(struct sx_batch_device *d)
{
	size_t i;

	d->tally = sx_calloc_array(d->nfiles + 1, sizeof(*d->tally));
	if (!d->tally)
		return -ENOMEM;
	for (i = 0; i < d->nfiles; i++)
		d->files[i]->infer_idx = (uint32_t)i;
	d->tally_left = d->nfiles;
	d->cfg_mac = cfg_mac_of(d);
	d->defer = true;
	return 0;
}

void sx_batch__tally_packet(struct sx_batch_device *d, uint32_t k, const struct sx_pkt *pkt)
{
	tally_packet(&d->tally[k], pkt, d->cfg_mac);
}

bool sx_batch__tally_done(struct sx_batch *b, struct sx_batch_device *d, uint32_t k)
{
	bool last;

	tally_end(&d->tally[k]);
	pthread_mutex_lock(&d->lock);
	last = --d->tally_left == 0;
	if (last && !d->infer)
		d->infer = infer(b, d);
	pthread_mutex_unlock(&d->lock);
	return last;
}

const char *sx_batch__capture_ipv4(const struct sx_batch_unit *u, const struct sx_batch_file *f,
				   char *buf, size_t bufsz)
{
	const struct sx_batch_device *d = u->dev;
	bool bg = false;
	char a[32];
	size_t i;

	if (!d->per_unit || !d->cap_addr || !d->cap_addr[f->infer_idx])
		return NULL;
	for (i = 0; i < d->nbg && !bg; i++)
		bg = d->bg[i] == f;
	/* a unit with one address keeps it in all its captures */
	if (!bg && !u->per_capture)
		return NULL;
	addr_text(d->cap_addr[f->infer_idx], a, sizeof(a));
	if (!strcmp(a, u->ipv4))
		return NULL;
	snprintf(buf, bufsz, "%s", a);
	return buf;
}
