/*
 * upstream_read.c - one capture -> one stream table, as the reference's
 * main.py (handle_packet) and stream_identifier.py build it.
 *
 * Reading: the reference's scapy reads pcap (both byte orders, micro- and
 * nanosecond) and pcapng, plain or gzip-compressed.  This file reads them
 * (and zstd, and standard input) through ingest's capture reader, one raw
 * record at a time: the reference's Padding rule needs the frame's start
 * (bytes captured past the IP or UDP length), which struct sx_pkt does not
 * carry.  The file's format gives the timestamp text: scapy makes classic
 * pcap times Decimal(sec + 10^-6 * usec) (always 6 decimals, 9 for
 * nanosecond files) and pcapng times Decimal(ticks) / resolution (the
 * shortest exact decimal), and the CSV prints str() of it.  A stop request
 * (SIGINT, SIGTERM) ends the read with SX_E_STOPPED.
 *
 * Per packet, in the reference's order: the first packet of the file opens
 * the window whatever it is; signalling packets (and packets without TCP or
 * UDP) are skipped; a packet more than 5 s after the last accepted one is
 * skipped, so the window ends at the first longer gap (the file is still
 * read to the end); an accepted packet teaches names, is named with the
 * table as it is then, and joins its stream.  A stream is an unordered
 * {(host, port), (host, port)} pair: its row keeps the first packet's
 * fields, the earliest timestamp, the sum of captured lengths and the
 * packet count.
 */
#include "upstream/upstream_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/text.h"
#include "core/util.h"
#include "ingest/ingest.h"

/* The timestamp text format of the file's own precision. */
static enum sx_up_tsfmt ts_format(const struct sx_capture *cap)
{
	switch (sx_capture_format(cap)) {
	case SX_CAPTURE_PCAP_NSEC:
		return SX_UP_TS_NSEC;
	case SX_CAPTURE_PCAPNG:
		return SX_UP_TS_SHORTEST;
	case SX_CAPTURE_PCAP_USEC:
	default:
		return SX_UP_TS_USEC;
	}
}

/* ---- per-capture state ---- */

struct capture {
	struct sx_up_table *t;
	struct sx_up_names names;
	struct sx_up_map streams; /* stream key -> row */
	size_t cap;
	enum sx_up_tsfmt fmt;
	int64_t prev_sec; /* previous_time, 0: not set */
	uint32_t prev_nsec;
	bool have_prev;
	uint64_t pkt_id;
	bool name_from_packet; /* the event name is the first packet's time */
	bool have_fallback;
	char fallback[48];
};

/* Timestamps are compared as (seconds, nanoseconds): a pcapng timestamp may
 * hold seconds whose count of nanoseconds does not fit in 64 bits. */
static int ts_cmp(int64_t sa, uint32_t na, int64_t sb, uint32_t nb)
{
	if (sa != sb)
		return sa < sb ? -1 : 1;
	return na < nb ? -1 : na > nb;
}

/* Whether the packet comes more than the reference's timeout after prev. */
static bool after_timeout(const struct capture *c, const struct sx_pkt *pkt)
{
	int64_t ds;

	if (__builtin_sub_overflow(pkt->ts_sec, c->prev_sec, &ds))
		return pkt->ts_sec > c->prev_sec;
	return ds > SX_UPSTREAM_TIMEOUT_SEC ||
	       (ds == SX_UPSTREAM_TIMEOUT_SEC && pkt->ts_nsec > c->prev_nsec);
}

static void set_prev(struct capture *c, const struct sx_pkt *pkt)
{
	c->prev_sec = pkt->ts_sec;
	c->prev_nsec = pkt->ts_nsec;
	c->have_prev = pkt->ts_sec != 0 || pkt->ts_nsec != 0;
}

/* "host\x1fport" of both ends, smaller (host, port) first as Python
 * sorts tuples. */
static void stream_key(char *key, size_t keysz, const char *h1, uint16_t p1, const char *h2,
		       uint16_t p2)
{
	int c = strcmp(h1, h2);

	if (c > 0 || (c == 0 && p1 > p2)) {
		const char *th = h1;
		uint16_t tp = p1;

		h1 = h2;
		p1 = p2;
		h2 = th;
		p2 = tp;
	}
	snprintf(key, keysz, "%s\x1f%u\x1f%s\x1f%u", h1, p1, h2, p2);
}

static int new_row(struct capture *c, const struct sx_pkt *pkt, const char *src, const char *dst,
		   const struct sx_up_view *v, size_t *idx)
{
	struct sx_up_table *t = c->t;
	struct sx_up_row *r;

	if (t->nrows == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		struct sx_up_row *nr = realloc(t->rows, ncap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		t->rows = nr;
		c->cap = ncap;
	}
	r = &t->rows[t->nrows];
	memset(r, 0, sizeof(*r));
	r->index = c->pkt_id;
	r->ts_sec = pkt->ts_sec;
	r->ts_nsec = pkt->ts_nsec;
	r->dev_host = strdup(src);
	r->other_host = strdup(dst);
	r->protocol = strdup(v->protocol);
	r->app = strdup(v->app);
	r->dev_port = pkt->sport;
	r->other_port = pkt->dport;
	r->transport = v->transport;
	t->nrows++;
	if (!r->dev_host || !r->other_host || !r->protocol || !r->app)
		return -ENOMEM;
	*idx = t->nrows - 1;
	return 0;
}

static int accept_packet(struct capture *c, const struct sx_pkt *pkt)
{
	char sbuf[64], dbuf[64], key[2 * SX_NAME_MAX + 32];
	struct sx_up_view v;
	const char *src, *dst;
	struct sx_up_row *r;
	size_t *slot, idx;
	int ret;

	ret = sx_up_names_learn(&c->names, pkt);
	if (ret)
		return ret;
	sx_up_view(pkt, &v);
	src = sx_up_names_subst(&c->names, sx_addr_str(&pkt->src, sbuf, sizeof(sbuf)));
	dst = sx_up_names_subst(&c->names, sx_addr_str(&pkt->dst, dbuf, sizeof(dbuf)));
	stream_key(key, sizeof(key), src, pkt->sport, dst, pkt->dport);
	slot = sx_up_map_get(&c->streams, key);
	if (!slot) {
		ret = new_row(c, pkt, src, dst, &v, &idx);
		if (!ret)
			ret = sx_up_map_add(&c->streams, key, idx);
		if (ret)
			return ret;
		slot = &idx;
	}
	r = &c->t->rows[*slot];
	if (ts_cmp(pkt->ts_sec, pkt->ts_nsec, r->ts_sec, r->ts_nsec) < 0) {
		r->ts_sec = pkt->ts_sec;
		r->ts_nsec = pkt->ts_nsec;
	}
	r->length += v.length;
	r->npackets++;
	set_prev(c, pkt);
	c->pkt_id++;
	c->t->accepted++;
	return 0;
}

static int handle_packet(struct capture *c, const struct sx_pkt *pkt, const uint8_t *frame)
{
	bool t_set = pkt->ts_sec != 0 || pkt->ts_nsec != 0;

	/* main.py: the event name falls back on the first packet's time */
	if (c->name_from_packet && c->pkt_id == 0 && !c->have_fallback && t_set) {
		sx_upstream_ts_text(c->fallback, sizeof(c->fallback), pkt->ts_sec, pkt->ts_nsec,
				    c->fmt);
		c->have_fallback = true;
	}
	if (!c->have_prev) /* "if previous_time == 0" */
		set_prev(c, pkt);
	if (sx_up_skip(pkt, sx_up_padded(pkt, frame)))
		return 0;
	if (after_timeout(c, pkt))
		return 0;
	return accept_packet(c, pkt);
}

static int set_csv_name(struct capture *c)
{
	char ev[64];
	const char *name = sx_text_int_name(c->t->path, ev, sizeof(ev));
	size_t n;

	if (!name)
		name = c->have_fallback ? c->fallback : "0";
	n = strlen(name) + sizeof(".csv");
	c->t->csv_name = malloc(n);
	if (!c->t->csv_name)
		return -ENOMEM;
	snprintf(c->t->csv_name, n, "%s.csv", name);
	return 0;
}

int sx_up_read_capture(const char *path, struct sx_up_table *t, char *msg, size_t msglen)
{
	struct sx_capture *cap;
	struct capture c = {0};
	struct sx_raw_rec rec;
	char ev[64], why[256];
	size_t i;
	int rc, ret;

	t->path = strdup(path);
	if (!t->path)
		return -ENOMEM;
	ret = sx_capture_open(path, NULL, &cap, why, sizeof(why));
	if (ret) {
		snprintf(msg, msglen, "%s: %s", path, why);
		return ret;
	}
	c.t = t;
	c.fmt = ts_format(cap);
	c.name_from_packet = sx_text_int_name(path, ev, sizeof(ev)) == NULL;
	sx_up_names_init(&c.names);
	sx_up_map_init(&c.streams);
	while ((rc = sx_capture_next_raw(cap, &rec)) == 1) {
		struct sx_pkt pkt;

		if ((rec.index & 0xfff) == 0 && sx_stop_requested()) {
			ret = SX_E_STOPPED;
			snprintf(msg, msglen, "%s: %s", path, sx_strerror(ret));
			goto out_free;
		}
		memset(&pkt, 0, offsetof(struct sx_pkt, app));
		sx_capture_decode(cap, &rec, &pkt);
		t->packets++;
		ret = handle_packet(&c, &pkt, rec.data);
		if (ret) {
			snprintf(msg, msglen, "%s: %s", path, sx_strerror(ret));
			goto out_free;
		}
	}
	if (rc < 0)
		snprintf(t->warning, sizeof(t->warning), "%s: %s (the packets before it were read)",
			 path, sx_capture_error(cap));
	for (i = 0; i < t->nrows; i++)
		sx_upstream_ts_text(t->rows[i].ts, sizeof(t->rows[i].ts), t->rows[i].ts_sec,
				    t->rows[i].ts_nsec, c.fmt);
	ret = set_csv_name(&c);
out_free:
	sx_up_map_fini(&c.streams);
	sx_up_names_fini(&c.names);
	sx_capture_close(cap);
	return ret;
}

/* ---- text helpers (also used by the tests) ---- */

void sx_upstream_ts_text(char *buf, size_t bufsz, int64_t sec, uint32_t nsec, enum sx_up_tsfmt fmt)
{
	char frac[16];
	size_t n;

	switch (fmt) {
	case SX_UP_TS_USEC:
		snprintf(buf, bufsz, "%" PRId64 ".%06u", sec, nsec / 1000);
		return;
	case SX_UP_TS_NSEC:
		snprintf(buf, bufsz, "%" PRId64 ".%09u", sec, nsec);
		return;
	case SX_UP_TS_SHORTEST:
	default:
		if (nsec == 0) {
			snprintf(buf, bufsz, "%" PRId64, sec);
			return;
		}
		snprintf(frac, sizeof(frac), "%09u", nsec);
		for (n = strlen(frac); n > 0 && frac[n - 1] == '0'; n--)
			frac[n - 1] = '\0';
		snprintf(buf, bufsz, "%" PRId64 ".%s", sec, frac);
		return;
	}
}
