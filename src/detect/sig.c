/*
 * sig.c - signatures.yaml read back into what a detector compares flows
 * with: per pattern of the signature (the `patterns` list only: background,
 * periodic and below-support patterns are not the event), its identity
 * (transport, fixed port, the two ends, the application attributes), its
 * shape (packets and bytes per end, payload lengths by position) and its
 * place in the event (start offsets, typical order).
 *
 * The file is loaded with the bounded YAML tree (yaml/ydoc.h) and must say
 * "sigex: signatures", version 1.  Every field the detector needs must be
 * there and well formed: a signature that lacks one (a file written before
 * payload-lengths existed) is refused with the field named, never guessed.
 * Which end is the device comes from the pattern's key ("client=self" or
 * "server=self"); the signature's device address is the one most of those
 * ends list (device_of() below).
 * The optional between-events list (the device's traffic between the
 * --events windows) is read the same way, for contrast only.
 */
#include "detect/detect.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"
#include "core/err.h"
#include "core/util.h"
#include "yaml/ydoc.h"

#define DOC_MAX (64u << 20) /* bytes of a signatures.yaml */

static const struct sx_ytree_limits sig_limits = {
    .max_depth = 16, .max_nodes = 4u << 20, .max_scalar = 64u << 10};

struct pctx {
	char *msg;
	size_t msglen;
	const char *path;
	int err;
};

static void fail(struct pctx *c, const char *fmt, ...) SX_PRINTF(2, 3);
static void fail(struct pctx *c, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	if (c->err)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(c->msg, c->msglen, "%s: %s", c->path, why);
	c->err = SX_E_FORMAT;
}

static const struct sx_ytree *get(struct pctx *c, const struct sx_ytree *t, const char *key,
				  unsigned kind, const char *where)
{
	const struct sx_ytree *v = sx_ytree_get(t, key);

	if (!v || v->kind != kind) {
		fail(c, "pattern %s: %s missing or not a %s", where, key,
		     kind == SX_YTREE_MAP   ? "map"
		     : kind == SX_YTREE_SEQ ? "list"
					    : "value");
		return NULL;
	}
	return v;
}

/* The number at key, scaled and rounded; |value| at most limit, else an
 * error naming it as what. */
static int64_t scaled(struct pctx *c, const struct sx_ytree *t, const char *key, const char *where,
		      const char *what, double limit, double scale)
{
	const struct sx_ytree *v = get(c, t, key, SX_YTREE_SCALAR, where);
	char *end;
	double d;

	if (!v)
		return 0;
	d = strtod(v->text, &end);
	if (end == v->text || *end || !isfinite(d) || fabs(d) > limit) {
		fail(c, "pattern %s: %s is not %s", where, key, what);
		return 0;
	}
	return (int64_t)llround(d * scale);
}

static int64_t num(struct pctx *c, const struct sx_ytree *t, const char *key, const char *where)
{
	return scaled(c, t, key, where, "a number", 9e15, 1);
}

/* Seconds ("0.044568000") as ns. */
static int64_t secs(struct pctx *c, const struct sx_ytree *t, const char *key, const char *where)
{
	return scaled(c, t, key, where, "a time", 9e9, 1e9);
}

static void range(struct pctx *c, const struct sx_ytree *stat, const char *key,
		  struct sx_det_range *r, const char *where)
{
	const struct sx_ytree *m = stat ? get(c, stat, key, SX_YTREE_MAP, where) : NULL;

	if (!m)
		return;
	r->min = num(c, m, "min", where);
	r->max = num(c, m, "max", where);
	if (!c->err && r->min > r->max)
		fail(c, "pattern %s: %s: min above max", where, key);
}

/* A list of scalars copied as strings. */
static int strings(const struct sx_ytree *seq, char ***out, uint32_t *n)
{
	size_t i;

	*n = 0;
	*out = NULL;
	if (!seq || seq->kind != SX_YTREE_SEQ || !seq->n)
		return 0;
	*out = sx_calloc_array(seq->n, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < seq->n; i++) {
		const char *s = sx_ytree_str(seq->kids[i]);

		if (!s)
			continue;
		(*out)[*n] = strdup(s);
		if (!(*out)[*n])
			return -ENOMEM;
		(*n)++;
	}
	return 0;
}

/* The host of an end in the pattern's key: "self", "n:...", "d:...", "a:...", "s:...". */
static const char *key_host(const char *key, const char *which, size_t *len)
{
	const char *p = strstr(key, which), *e;

	if (!p)
		return NULL;
	p += strlen(which);
	e = strchr(p, '|');
	*len = e ? (size_t)(e - p) : strlen(p);
	return p;
}

static int end_of(struct pctx *c, const struct sx_ytree *pt, const char *key, unsigned side,
		  struct sx_det_end *e, const char *where)
{
	const struct sx_ytree *t = get(c, pt, side ? "server" : "client", SX_YTREE_MAP, where);
	const char *kind, *host;
	size_t hlen = 0;
	int ret;

	if (!t)
		return 0;
	kind = sx_ytree_str(sx_ytree_get(t, "kind"));
	host = key_host(key, side ? "|server=" : "|client=", &hlen);
	ret = strings(sx_ytree_get(t, "addresses"), &e->addrs, &e->naddrs);
	if (ret)
		return ret;
	if (host && hlen == 4 && !memcmp(host, "self", 4)) {
		e->host = SX_DET_SELF;
	} else if (host && hlen > 2 && !memcmp(host, "s:", 2)) {
		e->host = SX_DET_ANY;
	} else if (kind && !strcmp(kind, "name")) {
		e->host = SX_DET_NAME;
		ret = strings(sx_ytree_get(t, "names"), &e->names, &e->nnames);
	} else if (kind && !strcmp(kind, "domain")) {
		const char *name = sx_ytree_str(sx_ytree_get(t, "name"));

		e->host = SX_DET_DOMAIN;
		if (!name || strncmp(name, "*.", 2)) {
			fail(c, "pattern %s: a domain end without its *.name", where);
			return 0;
		}
		e->names = calloc(1, sizeof(*e->names));
		if (!e->names || !(e->names[0] = strdup(name + 1)))
			return -ENOMEM;
		e->nnames = 1;
	} else if (kind && !strcmp(kind, "addresses")) {
		e->host = SX_DET_ADDRS;
	} else {
		fail(c, "pattern %s: %s end of unknown kind", where, side ? "server" : "client");
	}
	return ret;
}

static int attrs_of(const struct sx_ytree *pt, struct sx_det_pattern *p)
{
	const struct sx_ytree *a = sx_ytree_get(pt, "attributes");
	size_t i;

	if (!a || a->kind != SX_YTREE_SEQ || !a->n)
		return 0;
	p->attrs = sx_calloc_array(a->n, sizeof(*p->attrs));
	if (!p->attrs)
		return -ENOMEM;
	for (i = 0; i < a->n; i++) {
		const char *k = sx_ytree_str(sx_ytree_get(a->kids[i], "key"));
		const char *v = sx_ytree_str(sx_ytree_get(a->kids[i], "value"));
		struct sx_det_attr *d = &p->attrs[p->nattrs];

		/* the firewall's reading of a split request (http.fw) is how
		 * the segments fell on the wire, not the event's identity */
		if (!k || !v || !strcmp(k, "http.fw"))
			continue;
		d->key = strdup(k);
		d->value = strdup(v);
		p->nattrs++;
		if (!d->key || !d->value)
			return -ENOMEM;
	}
	return 0;
}

/* The smallest segment a TCP peer must take whole (RFC 9293's default MSS):
 * a length below it is a message, never a full segment. */
#define FULL_SEGMENT_MIN 536

/*
 * Full segments of a bulk transfer are no fixed part of an exchange: a
 * length of 536 bytes or more that is the largest its sender sent in the
 * pattern and stands at two positions or more is the segment size (an
 * upload cut into 1434-byte segments), and where the shorter pieces of that
 * sender's run of positions fall (its last, one cut by a push) depends on
 * the run, not on the event.  The positions of a run of one sender that
 * holds such a segment, fixed in every mined flow, are marked bulk: the
 * matcher takes any length of that sender up to the segment there, so that
 * only the exchange's messages must be there exactly (match.c, DESIGN).
 * Contrast still compares them as mined: a session with a bulk transfer is
 * not one without (a camera's stream against its keep-alive).
 */
static void full_segments(struct sx_det_pattern *p)
{
	int32_t *top = p->seq_bulk_top;
	uint32_t seen[2] = {0, 0}, k, a, b;

	top[0] = top[1] = 0;
	p->seq_bulk = 0;
	for (k = 0; k < p->seq_n; k++) {
		int32_t m = p->seq_max[k] > 0 ? p->seq_max[k] : -p->seq_min[k];
		unsigned d = p->seq_max[k] > 0 ? 0 : 1;

		if (m > top[d]) {
			top[d] = m;
			seen[d] = 0;
		}
		if (m == top[d])
			seen[d]++;
	}
	for (a = 0; a < p->seq_n && a < p->seq_all; a = b) {
		unsigned d = p->seq_max[a] > 0 ? 0 : 1;
		bool bulk = false;

		for (b = a; b < p->seq_n && b < p->seq_all && (p->seq_max[b] > 0 ? 0u : 1u) == d;
		     b++)
			bulk |= (d ? -p->seq_min[b] : p->seq_max[b]) == top[d];
		if (!bulk || top[d] < FULL_SEGMENT_MIN || seen[d] < 2)
			continue;
		for (k = a; k < b; k++)
			if (p->seq_min[k] == p->seq_max[k])
				p->seq_bulk |= 1u << k;
	}
}

static void lengths(struct pctx *c, const struct sx_ytree *stat, struct sx_det_pattern *p,
		    const char *where)
{
	const struct sx_ytree *pl = get(c, stat, "payload-lengths", SX_YTREE_MAP, where);
	const struct sx_ytree *lo, *hi;
	size_t k;

	if (!pl)
		return;
	lo = get(c, pl, "min", SX_YTREE_SEQ, where);
	hi = get(c, pl, "max", SX_YTREE_SEQ, where);
	p->seq_all = (uint8_t)num(c, pl, "in-all", where);
	if (!lo || !hi)
		return;
	if (lo->n != hi->n || lo->n > SX_FLOW_SEQ_MAX || p->seq_all > lo->n) {
		fail(c, "pattern %s: payload-lengths of unequal or too many positions", where);
		return;
	}
	for (k = 0; k < lo->n; k++) {
		const char *a = sx_ytree_str(lo->kids[k]), *b = sx_ytree_str(hi->kids[k]);
		char *ea, *eb;
		long x = a ? strtol(a, &ea, 10) : 0, y = b ? strtol(b, &eb, 10) : 0;

		if (!a || !b || ea == a || *ea || eb == b || *eb || x > y || x < -65536 ||
		    y > 65536) {
			fail(c, "pattern %s: payload-lengths position %zu is not a range", where,
			     k);
			return;
		}
		p->seq_min[k] = (int32_t)x;
		p->seq_max[k] = (int32_t)y;
	}
	p->seq_n = (uint8_t)lo->n;
	full_segments(p);
}

static int pattern_of(struct pctx *c, const struct sx_ytree *pt, struct sx_det_pattern *p)
{
	const char *id = sx_ytree_str(sx_ytree_get(pt, "id"));
	const char *key = sx_ytree_str(sx_ytree_get(pt, "key"));
	const char *tr = sx_ytree_str(sx_ytree_get(pt, "transport"));
	const struct sx_ytree *fx = sx_ytree_get(pt, "fixed-port"), *st, *ord, *arp;
	unsigned side;
	int ret;

	if (!id || strlen(id) >= sizeof(p->id) || !key || !tr) {
		fail(c, "a pattern without id, key or transport");
		return 0;
	}
	snprintf(p->id, sizeof(p->id), "%s", id);
	p->ip_proto = (uint8_t)num(c, pt, "ip-proto", id);
	p->arp = !strcmp(tr, "arp");
	arp = sx_ytree_get(pt, "arp");
	if (p->arp) {
		const char *op = arp ? sx_ytree_str(sx_ytree_get(arp, "operation")) : NULL;

		p->arp_op = op ? sx_flow_arp_op_parse(op) : -1;
		if (p->arp_op < 0)
			fail(c, "pattern %s: an ARP pattern without its operation", id);
	}
	p->fixed_end = 2;
	if (fx && fx->kind == SX_YTREE_MAP) {
		const char *e = sx_ytree_str(sx_ytree_get(fx, "end"));

		p->fixed_port = (uint16_t)num(c, fx, "port", id);
		p->fixed_end = e && !strcmp(e, "client") ? 0 : e && !strcmp(e, "server") ? 1 : 2;
	}
	for (side = 0; side < 2; side++) {
		ret = end_of(c, pt, key, side, &p->end[side], id);
		if (ret)
			return ret;
	}
	ret = attrs_of(pt, p);
	if (ret)
		return ret;
	st = get(c, pt, "statistics", SX_YTREE_MAP, id);
	if (st) {
		const struct sx_ytree *pk = get(c, st, "packets", SX_YTREE_MAP, id);
		const struct sx_ytree *by = get(c, st, "bytes", SX_YTREE_MAP, id);
		const struct sx_ytree *so = get(c, st, "start-offset", SX_YTREE_MAP, id);

		range(c, pk, "client", &p->pkts[0], id);
		range(c, pk, "server", &p->pkts[1], id);
		range(c, by, "client", &p->bytes[0], id);
		range(c, by, "server", &p->bytes[1], id);
		if (so) {
			p->offset_min_ns = secs(c, so, "min", id);
			p->offset_max_ns = secs(c, so, "max", id);
		}
		lengths(c, st, p, id);
	}
	/* session-flows: written only when some flow continued a session */
	p->began = !sx_ytree_get(pt, "session-flows");
	ord = get(c, pt, "order", SX_YTREE_MAP, id);
	if (ord) {
		const struct sx_ytree *bn = get(c, ord, "before-next", SX_YTREE_MAP, id);

		p->position = (uint32_t)num(c, ord, "position", id);
		if (bn) {
			int64_t agree = num(c, bn, "agree", id), of = num(c, bn, "of", id);

			p->before_next = of >= 2 && agree == of;
		}
	}
	return 0;
}

/* The event's name when the occurrences carry no label. */
static void label_from_path(const char *path, char *out, size_t outsz)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	if (!strcmp(base, "signatures.yaml") && base != path) {
		const char *dir = base - 1, *d0 = dir;

		while (d0 > path && d0[-1] != '/')
			d0--;
		n = (size_t)(dir - d0);
		if (n && !(n == 1 && *d0 == '.')) {
			snprintf(out, outsz, "%.*s", (int)n, d0);
			return;
		}
	}
	n = strcspn(base, ".");
	snprintf(out, outsz, "%.*s", (int)(n ? n : strlen(base)), base);
}

static void label_of(const struct sx_ytree *doc, struct sx_det_sig *s)
{
	const struct sx_ytree *occ = sx_ytree_get(doc, "occurrences");
	size_t i;

	if (occ && occ->kind == SX_YTREE_SEQ) {
		s->noccs = (uint32_t)occ->n;
		for (i = 0; i < occ->n; i++)
			if (sx_ytree_get(occ->kids[i], "event"))
				s->windowed = true;
		for (i = 0; i < occ->n; i++) {
			const char *l = sx_ytree_str(sx_ytree_get(occ->kids[i], "label"));

			if (l && *l) {
				snprintf(s->label, sizeof(s->label), "%s", l);
				return;
			}
		}
	}
	label_from_path(s->path, s->label, sizeof(s->label));
}

/*
 * The window of a detection: the signature's patterns started, in the
 * occurrences it was mined from, between the least of their first start
 * offsets and the greatest of their last; a quarter more, and two seconds,
 * allow for an occurrence slower than those seen.
 */
static void span_of(struct sx_det_sig *s)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	uint32_t i;

	for (i = 0; i < s->n; i++) {
		lo = s->p[i].offset_min_ns < lo ? s->p[i].offset_min_ns : lo;
		hi = s->p[i].offset_max_ns > hi ? s->p[i].offset_max_ns : hi;
	}
	s->span_ns = (hi > lo ? (hi - lo) + (hi - lo) / 4 : 0) + 2 * SX_NS_PER_SEC;
}

/*
 * Whether a pattern is a peer-to-peer stream in progress: the miner's
 * peer-to-peer (UDP between dynamic ports on both ends, no port fixed: a
 * camera's stream to its app), whose flows continued a session open before
 * their window.  Its packets in a window are wherever the
 * window cuts the stream, which runs through several events (a camera
 * streams from its app's opening to its closing): neither its identity
 * (no port, a peer drawn anew) nor its shape tells which event happened,
 * and the detector does not read it (bench/README.md: with it, the
 * testbed's false detections rose from 54 to 61).  A stream that began in
 * its window is its event's.
 */
static bool stream_in_progress(const struct sx_ytree *pt)
{
	const char *p2p = sx_ytree_str(sx_ytree_get(pt, "peer-to-peer"));

	return p2p && !strcmp(p2p, "true") && sx_ytree_get(pt, "session-flows");
}

/* Whether a pattern started before the next one in every occurrence, two
 * or more (its order's before-next, read leniently: false when absent). */
static bool before_next_of(const struct sx_ytree *pt)
{
	const struct sx_ytree *bn = sx_ytree_get(sx_ytree_get(pt, "order"), "before-next");
	const char *agree = sx_ytree_str(sx_ytree_get(bn, "agree"));
	const char *of = sx_ytree_str(sx_ytree_get(bn, "of"));
	long a = agree ? strtol(agree, NULL, 10) : -1, o = of ? strtol(of, NULL, 10) : 0;

	return o >= 2 && a == o;
}

/* The patterns of list seq (each a map; "a WHAT that is not a map"
 * otherwise) into *out, *n of them, in order; with events, the event's
 * patterns but its streams in progress (stream_in_progress()).  0 or
 * -ENOMEM; a bad one is c's error. */
static int patterns_of(struct pctx *c, const struct sx_ytree *seq, const char *what, bool events,
		       struct sx_det_pattern **out, uint32_t *n)
{
	size_t i;
	int ret = 0;

	*out = sx_calloc_array(seq->n ? seq->n : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	*n = 0;
	for (i = 0; !ret && !c->err && i < seq->n; i++) {
		if (seq->kids[i]->kind != SX_YTREE_MAP)
			fail(c, "a %s that is not a map", what);
		else if (!events || !stream_in_progress(seq->kids[i]))
			ret = pattern_of(c, seq->kids[i], &(*out)[(*n)++]);
		else if (*n) /* before the stream, and the stream before the next */
			(*out)[*n - 1].before_next &= before_next_of(seq->kids[i]);
	}
	return ret;
}

static bool holds(const struct sx_det_end *e, const char *a)
{
	uint32_t i;

	for (i = 0; i < e->naddrs; i++)
		if (!strcmp(e->addrs[i], a))
			return true;
	return false;
}

/* How many of the self ends of a list of patterns hold address a. */
static uint32_t self_count(const struct sx_det_pattern *p, uint32_t n, const char *a)
{
	uint32_t i, side, k = 0;

	for (i = 0; i < n; i++)
		for (side = 0; side < 2; side++)
			if (p[i].end[side].host == SX_DET_SELF && holds(&p[i].end[side], a))
				k++;
	return k;
}

/* The device out of one list's self ends: the address most of them hold. */
static void device_in(struct sx_det_sig *s, const struct sx_det_pattern *p, uint32_t n)
{
	uint32_t i, side, j, best = 0;

	for (i = 0; i < n; i++)
		for (side = 0; side < 2; side++) {
			const struct sx_det_end *e = &p[i].end[side];

			for (j = 0; e->host == SX_DET_SELF && j < e->naddrs; j++) {
				uint32_t k = self_count(s->p, s->n, e->addrs[j]) +
					     self_count(s->between, s->nbetween, e->addrs[j]);

				if (k > best) {
					best = k;
					snprintf(s->device, sizeof(s->device), "%s", e->addrs[j]);
				}
			}
		}
}

/* A self end keeps the other hosts its flows had, without the device. */
static void strip_device(struct sx_det_pattern *p, uint32_t n, const char *device)
{
	uint32_t i, side, j, k;

	for (i = 0; i < n; i++)
		for (side = 0; side < 2; side++) {
			struct sx_det_end *e = &p[i].end[side];

			if (e->host != SX_DET_SELF)
				continue;
			for (j = k = 0; j < e->naddrs; j++) {
				if (!strcmp(e->addrs[j], device))
					free(e->addrs[j]);
				else
					e->addrs[k++] = e->addrs[j];
			}
			e->naddrs = k;
		}
}

/*
 * Which address is the device, and what else a self end admits.  The key
 * calls an end "self" when the device is that end in half of the pattern's
 * flows or more (mine/patterns.c), so an end may also list other hosts: a
 * cluster of ARP replies both ways (the device's to the gateway, the
 * gateway's to the device) is "self" at both ends, its addresses the two.
 * The device is the address most self ends hold; a self end then matches
 * the device (the signature's, or --device) or one of its other hosts.
 */
static void device_of(struct sx_det_sig *s)
{
	device_in(s, s->p, s->n);
	if (!s->device[0])
		device_in(s, s->between, s->nbetween);
	if (!s->device[0])
		return;
	strip_device(s->p, s->n, s->device);
	strip_device(s->between, s->nbetween, s->device);
}

int sx_det_sig_parse(const char *data, size_t len, const char *path, struct sx_det_sig **out,
		     char *msg, size_t msglen)
{
	struct pctx c = {.msg = msg, .msglen = msglen, .path = path};
	const struct sx_ytree *ps, *bs;
	struct sx_ytree *doc = NULL;
	struct sx_det_sig *s;
	const char *magic, *ver;
	char why[256];
	int ret;

	*out = NULL;
	ret = sx_ytree_parse(data, len, &sig_limits, &doc, why, sizeof(why));
	if (ret) {
		snprintf(msg, msglen, "%s: %s", path, why);
		return ret;
	}
	magic = doc ? sx_ytree_str(sx_ytree_get(doc, "sigex")) : NULL;
	ver = doc ? sx_ytree_str(sx_ytree_get(doc, "version")) : NULL;
	ps = doc ? sx_ytree_get(doc, "patterns") : NULL;
	if (!magic || strcmp(magic, "signatures") || !ver || strcmp(ver, "1")) {
		snprintf(msg, msglen, "%s: not a sigex signatures.yaml (version 1)", path);
		ret = SX_E_FORMAT;
		goto out_doc;
	}
	if (!ps || ps->kind != SX_YTREE_SEQ) {
		snprintf(msg, msglen, "%s: the signature has no patterns list", path);
		ret = SX_E_FORMAT;
		goto out_doc;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		sx_det_sig_free(s);
		ret = -ENOMEM;
		goto out_doc;
	}
	ret = patterns_of(&c, ps, "pattern", true, &s->p, &s->n);
	bs = sx_ytree_get(doc, "between-events");
	if (!ret && !c.err && bs && bs->kind == SX_YTREE_SEQ && bs->n)
		ret =
		    patterns_of(&c, bs, "between-events pattern", false, &s->between, &s->nbetween);
	if (!ret)
		ret = c.err;
	if (ret) {
		if (ret == -ENOMEM)
			snprintf(msg, msglen, "out of memory");
		sx_det_sig_free(s);
		goto out_doc;
	}
	label_of(doc, s);
	span_of(s);
	device_of(s);
	if (!s->windowed) {
		uint32_t i;

		for (i = 0; i < s->n; i++)
			s->p[i].began = false;
	}
	*out = s;
out_doc:
	sx_ytree_free(doc);
	return ret;
}

int sx_det_sig_load(const char *path, struct sx_det_sig **out, char *msg, size_t msglen)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t len = 0, cap = 0, got;
	int ret;

	*out = NULL;
	if (!f) {
		ret = -errno;
		snprintf(msg, msglen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	do {
		if (len + 65536 > cap) {
			char *nd;

			cap = cap ? cap * 2 : 1u << 17;
			if (cap > DOC_MAX + 65536u) {
				fclose(f);
				free(data);
				snprintf(msg, msglen, "%s: larger than %u MiB", path,
					 DOC_MAX >> 20);
				return -EFBIG;
			}
			nd = realloc(data, cap);
			if (!nd) {
				fclose(f);
				free(data);
				snprintf(msg, msglen, "out of memory");
				return -ENOMEM;
			}
			data = nd;
		}
		got = fread(data + len, 1, cap - len, f);
		len += got;
	} while (got);
	ret = ferror(f) ? -EIO : 0;
	fclose(f);
	if (ret)
		snprintf(msg, msglen, "%s: read error", path);
	else
		ret = sx_det_sig_parse(data, len, path, out, msg, msglen);
	free(data);
	return ret;
}

static void end_free(struct sx_det_end *e)
{
	uint32_t i;

	for (i = 0; i < e->naddrs; i++)
		free(e->addrs[i]);
	for (i = 0; i < e->nnames; i++)
		free(e->names[i]);
	free(e->addrs);
	free(e->names);
}

static void patterns_free(struct sx_det_pattern *p, uint32_t n)
{
	uint32_t i, k;

	for (i = 0; p && i < n; i++) {
		end_free(&p[i].end[0]);
		end_free(&p[i].end[1]);
		for (k = 0; k < p[i].nattrs; k++) {
			free(p[i].attrs[k].key);
			free(p[i].attrs[k].value);
		}
		free(p[i].attrs);
	}
	free(p);
}

void sx_det_sig_free(struct sx_det_sig *s)
{
	if (!s)
		return;
	patterns_free(s->p, s->n);
	patterns_free(s->between, s->nbetween);
	free(s->path);
	free(s);
}
