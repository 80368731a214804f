/*
 * batch_infer.c - the IPv4 address of a device whose device.yaml gives none.
 *
 * The address present in every capture of the device that holds IPv4
 * traffic (the first INFER_PACKETS packets of each), the one in the most
 * packets among those; 0.0.0.0/8, loopback, multicast and broadcast are
 * never candidates.  It runs once per device, under the device's lock (the
 * device's other units wait on it), and is reported on stderr.  No common
 * address fails the device's units, naming the best candidate, before any
 * of their captures is read.  The addresses seen are counted in a map
 * (core/map.h) keyed by the IPv4 address.
 */
#include "batch/batch_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/map.h"
#include "core/util.h"
#include "ingest/ingest.h"

#define INFER_PACKETS 65536 /* packets read per capture to infer an address */

/* An entry of the map (core/map.h) of addresses, under mix(addr). */
struct addr_slot {
	uint32_t addr;
	uint32_t caps; /* captures holding it */
	uint32_t last; /* 1 + index of the last capture counted */
	uint64_t pkts;
};

static uint64_t mix(uint32_t a)
{
	uint64_t x = a * 0x9e3779b97f4a7c15ull;

	return x ^ (x >> 29);
}

static struct addr_slot *addr_get(struct sx_map *m, uint32_t a)
{
	struct addr_slot *s;
	size_t pos = SX_MAP_START;

	if (sx_map_reserve(m, m->n + 1))
		return NULL;
	while ((s = sx_map_next(m, mix(a), &pos)))
		if (s->addr == a)
			return s;
	s = sx_map_add(m, mix(a), pos);
	s->addr = a;
	return s;
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

/* Infer d's address; 1 on success (d->ipv4 set), negative with d->infer_msg. */
static int infer(struct sx_batch *b, struct sx_batch_device *d)
{
	struct addr_slot *best = NULL, *most = NULL;
	struct sx_map m;
	uint32_t withip = 0, cap;
	uint64_t total = 0;
	size_t i, k;
	int ret = 1;

	sx_map_init(&m, sizeof(struct addr_slot), 256, 50);
	for (i = 0; i < d->nfiles && !sx_stop_requested(); i++) {
		char msg[256];
		struct sx_capture *c;
		struct sx_pkt pkt;
		uint64_t n = 0;
		bool any = false;

		if (sx_capture_open(d->files[i]->path, NULL, &c, msg, sizeof(msg)))
			continue;
		cap = (uint32_t)i + 1;
		while (n < INFER_PACKETS && sx_capture_next(c, &pkt) == 1) {
			const struct sx_addr *ends[2] = {&pkt.src, &pkt.dst};
			bool counted = false;

			n++;
			for (k = 0; k < 2; k++) {
				struct addr_slot *s;
				uint32_t v;

				if (!candidate(ends[k], &v))
					continue;
				s = addr_get(&m, v);
				if (!s) {
					ret = -ENOMEM;
					break;
				}
				any = true;
				s->pkts++;
				total += !counted;
				counted = true;
				if (s->last != cap) {
					s->last = cap;
					s->caps++;
				}
			}
		}
		sx_capture_close(c);
		withip += any;
		if (ret < 0)
			break;
	}
	for (k = 0; ret > 0 && k < m.cap; k++) {
		struct addr_slot *s = sx_map_at(&m, k);

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
	if (ret < 0) {
		snprintf(d->infer_msg, sizeof(d->infer_msg), "out of memory");
	} else if (sx_stop_requested()) {
		ret = SX_E_STOPPED;
		snprintf(d->infer_msg, sizeof(d->infer_msg), "interrupted");
	} else if (!withip) {
		ret = -ENODATA;
		snprintf(d->infer_msg, sizeof(d->infer_msg),
			 "cannot infer the device's address: no capture holds IPv4 traffic; "
			 "set ipv4 in device.yaml");
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
		sx_batch__log(b, SX_LOG_INFO,
			      "%s: device address %s inferred (in all %u captures, %.0f%% of "
			      "their IPv4 packets)",
			      d->name, d->ipv4, withip, 100.0 * (double)best->pkts / (double)total);
	}
	sx_map_fini(&m);
	return ret;
}

int sx_batch__device_ipv4(struct sx_batch *b, struct sx_batch_device *d, char *out, size_t outsz,
			  char *why, size_t whysz)
{
	int state;

	if (d->cfg && d->cfg->ipv4) {
		snprintf(out, outsz, "%s", d->cfg->ipv4);
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
	snprintf(out, outsz, "%s", d->ipv4);
	return 0;
}
