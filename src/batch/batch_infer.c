/*
 * batch_infer.c - the IPv4 address of a device whose device.yaml gives none.
 *
 * One pass over the device's captures (the first INFER_PACKETS packets of
 * each) counts, per capture and per IPv4 address (0.0.0.0/8, loopback,
 * multicast and broadcast are never candidates), the packets that hold it,
 * those it sends, those it sends from the device's MAC (device.yaml's mac)
 * and the Ethernet source of the first frame it sends.  Every decision
 * below is then made from those counts, without reading again.
 *
 * The device's address.  The address present in every capture of the
 * device that holds IPv4 traffic, the one in the most packets among those,
 * provided it is the source of at least one frame (from device.yaml's mac
 * when one is given): an address the device never sends from is a server it
 * talks to, not its own.  Every unit of the device uses it.
 *
 * Per unit, when the device has none (its DHCP lease changed between the
 * recording sessions, so that no address is in all its captures): the
 * device is identified by its MAC instead.
 *   - With mac in device.yaml, a unit's address is the one that MAC sends
 *     from in the most of the unit's captures (then in the most frames).
 *   - Without, each unit's common address (the rule above over the unit's
 *     own captures) is inferred with the MAC that sends it; when every unit
 *     that has one names the same MAC, that MAC is the device's identity,
 *     and a unit without a common address takes the address the MAC sends
 *     most, as with a configured mac.
 * A device with neither a common address nor a MAC identity (the units
 * name different MACs, or none) fails all its units with the message it
 * always had; a unit of a MAC-identified device whose captures hold no
 * frame from that MAC fails alone.  The captures of a unit are its event
 * captures; background captures are not used.  The address (and the MAC)
 * each unit used is reported on stderr and in summary.csv.
 *
 * It runs once per device, under the device's lock (the device's other
 * units wait on it).  Addresses are counted in maps (core/map.h) keyed by
 * the IPv4 address: one for the whole device, one per capture (kept as a
 * compact array for the per-unit rules).
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
	uint32_t last;	   /* 1 + index of the last capture counted */
	uint64_t pkts;	   /* packets holding it (either end) */
	uint64_t sent;	   /* packets it is the source of */
	uint64_t from_mac; /* of those, sent from device.yaml's mac */
	uint64_t mac;	   /* Ethernet source of the first frame it sent, packed; 0: none */
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

/* Count one packet's end a (k: 0 source, 1 destination) in the device's map
 * and in the capture's.  0 or -ENOMEM. */
static int count_end(struct addr_map *dev, struct addr_map *one, uint32_t v, uint32_t cap,
		     const struct sx_pkt *pkt, int k, uint64_t cfg_mac)
{
	struct addr_map *maps[2] = {dev, one};
	int i;

	for (i = 0; i < 2; i++) {
		struct addr_slot *s = addr_get(maps[i], v);

		if (!s)
			return -ENOMEM;
		s->pkts++;
		if (s->last != cap) {
			s->last = cap;
			s->caps++;
		}
		if (k != 0)
			continue;
		s->sent++;
		if (pkt->has_mac) {
			uint64_t src = sx_mac_pack(pkt->mac_src);

			if (!s->mac)
				s->mac = src;
			s->from_mac += cfg_mac && src == cfg_mac;
		}
	}
	return 0;
}

/* Read capture i of d into dev (the device's map) and *ca (its own).
 * Adds the capture's packets holding an address to *total.  0 or -ENOMEM. */
static int read_capture(struct sx_batch_device *d, size_t i, struct addr_map *dev,
			struct cap_addrs *ca, uint64_t cfg_mac, uint64_t *total)
{
	struct addr_map one = {0};
	struct sx_capture *c;
	struct sx_pkt pkt;
	char msg[256];
	uint64_t n = 0;
	uint32_t cap = (uint32_t)i + 1;
	size_t k;
	int ret = 0;

	if (sx_capture_open(d->files[i]->path, NULL, &c, msg, sizeof(msg)))
		return 0;
	while (!ret && n < INFER_PACKETS && sx_capture_next(c, &pkt) == 1) {
		const struct sx_addr *ends[2] = {&pkt.src, &pkt.dst};
		bool counted = false;
		int e;

		n++;
		for (e = 0; e < 2 && !ret; e++) {
			uint32_t v;

			if (!candidate(ends[e], &v))
				continue;
			ret = count_end(dev, &one, v, cap, &pkt, e, cfg_mac);
			ca->any = true;
			*total += !counted;
			counted = true;
		}
	}
	sx_capture_close(c);
	if (!ret && one.map.n) {
		ca->s = sx_calloc_array(one.map.n, sizeof(*ca->s));
		if (!ca->s)
			ret = -ENOMEM;
		for (k = 0; ca->s && k < one.map.cap; k++)
			if (addr_at(&one, k))
				ca->s[ca->n++] = *addr_at(&one, k);
	}
	addr_free(&one);
	return ret;
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
static long unit_map(const struct sx_batch_unit *u, const struct cap_addrs *ca, uint64_t from,
		     struct addr_map *m)
{
	long withip = 0;
	size_t i, k;

	for (i = 0; i < u->ncaps; i++) {
		const struct cap_addrs *c = &ca[u->caps[i]->infer_idx];

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

/* The unit's address from the frames the packed MAC sends: 1 (u->ipv4
 * set), 0 (none: u->addr_why set), -ENOMEM. */
static int unit_by_mac(const struct sx_batch_unit *cu, const struct cap_addrs *ca, uint64_t mac)
{
	struct sx_batch_unit *u = (struct sx_batch_unit *)cu;
	struct addr_map m = {0};
	const struct addr_slot *best = NULL;
	char mt[SX_MAC_TEXT_MAX];
	size_t k;
	long ret = unit_map(u, ca, mac, &m);

	for (k = 0; ret >= 0 && k < m.map.cap; k++)
		if (addr_at(&m, k) && better(addr_at(&m, k), best, true))
			best = addr_at(&m, k);
	mac_text(mac, mt, sizeof(mt));
	if (ret >= 0 && best) {
		addr_text(best->addr, u->ipv4, sizeof(u->ipv4));
		snprintf(u->mac, sizeof(u->mac), "%s", mt);
	} else if (ret >= 0) {
		snprintf(u->addr_why, sizeof(u->addr_why),
			 "cannot infer the unit's address: no IPv4 frame from the device's MAC "
			 "%s in its %zu captures; set ipv4 in device.yaml",
			 mt, u->ncaps);
	}
	addr_free(&m);
	return ret < 0 ? (int)ret : best != NULL;
}

/* The unit's common address (the device's rule over the unit's captures:
 * in all of them, most packets, and the source of a frame) and the MAC
 * sending it: 1 (u->ipv4, u->mac set), 0 (none), -ENOMEM. */
static int unit_common(struct sx_batch_unit *u, const struct cap_addrs *ca)
{
	struct addr_map m = {0};
	const struct addr_slot *best = NULL;
	size_t k;
	long withip = unit_map(u, ca, 0, &m);

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
 * addr_why), 0 when it has none, -ENOMEM.
 */
static int infer_units(struct sx_batch *b, struct sx_batch_device *d, const struct cap_addrs *ca,
		       uint64_t cfg_mac)
{
	uint64_t mac = cfg_mac;
	bool mixed = false;
	size_t i;
	int ret;

	for (i = 0; !cfg_mac && i < d->nunits; i++) {
		struct sx_batch_unit *u = d->units[i];
		uint8_t m[6];

		if (u->state || !u->ncaps)
			continue;
		ret = unit_common(u, ca);
		if (ret < 0)
			return ret;
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
	for (i = 0; i < d->nunits; i++) {
		struct sx_batch_unit *u = d->units[i];

		if (u->state || !u->ncaps || u->ipv4[0])
			continue;
		ret = unit_by_mac(u, ca, mac);
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

		if (!u->state && u->ipv4[0])
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
	struct cap_addrs *ca;
	struct addr_slot *best = NULL, *most = NULL, *sending = NULL;
	uint32_t withip = 0;
	uint64_t total = 0, cfg_mac = 0;
	uint8_t mb[6];
	size_t i, k;
	int ret = 1;

	if (d->cfg && d->cfg->mac && !sx_mac_parse(d->cfg->mac, mb))
		cfg_mac = sx_mac_pack(mb);
	ca = sx_calloc_array(d->nfiles + 1, sizeof(*ca));
	if (!ca) {
		snprintf(d->infer_msg, sizeof(d->infer_msg), "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < d->nfiles && !sx_stop_requested() && ret > 0; i++) {
		d->files[i]->infer_idx = (uint32_t)i;
		if (read_capture(d, i, &m, &ca[i], cfg_mac, &total))
			ret = -ENOMEM;
		withip += ca[i].any;
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
	if (ret > 0 && !sx_stop_requested() && withip && !best) {
		ret = infer_units(b, d, ca, cfg_mac);
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
	for (i = 0; i < d->nfiles; i++)
		free(ca[i].s);
	free(ca);
	addr_free(&m);
	return ret;
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
