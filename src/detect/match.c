/*
 * match.c - the detector: flow rows in, detections out.
 *
 * DESIGN
 *
 * A signature (sig.c) is the set of patterns that recurred in the
 * occurrences of one event.  Detection is a streaming pass over the flow
 * stage: each row is compared with every pattern of every signature as it
 * comes, and only the rows that match are kept (a few per event), so the
 * pass runs at the flow stage's speed and its memory follows the matches,
 * not the captures.
 *
 * A flow matches a pattern when it has the pattern's identity and shape:
 *
 *   identity  the IP protocol (or ARP and its operation); the fixed port at
 *             the same end (client: the end without the service port, as
 *             the flow stage's ServiceSide says; for a portless flow, the
 *             initiator); each end: "self" is the device (the address the
 *             signature was mined for, or --device), a named end is that
 *             resolved name (a domain end: any name under it) or one of
 *             the addresses it had, an end known by its addresses one of
 *             them, an end known by its scope (s:...) anything; and for
 *             every application attribute key of the pattern (dns.q,
 *             tls.sni, http.req, tplink, dhcp...) one of its values among
 *             the flow's attributes, a generalised value ("A:*.example.com",
 *             "/api/x*") matching by its prefix and suffix.
 *   shape     packets and bytes sent by each end within the mined range
 *             widened by the slack (default a quarter: [min * 0.75, max *
 *             1.25], rounded), and the payload lengths by position (signed,
 *             + from the client) against the mined ranges: a position every
 *             member reached with one length is the exchange's fixed part
 *             and that length must be there, exactly (so a reply of 1093
 *             bytes is not one of 1095: the on and off commands of a TP-Link
 *             plug differ only there, as PingPong found), the fixed lengths
 *             in their order, each at its position or up to four positions
 *             from it (a reply segmented otherwise in another run: the
 *             plug's cloud report at the seventh position in one run, the
 *             eleventh in another); a position whose length varied must be
 *             within its range widened by a quarter of its width, in three
 *             quarters of those positions at least (a retransmission or an
 *             extra record shifts a few); the positions of a bulk transfer
 *             (a sender's run holding its full segment, 536 bytes or more
 *             at two positions: sig.c) are varying ones, any length of that
 *             sender up to the segment (an upload cut otherwise).
 *
 * A detection is a window of the signature's span (sig.c: the spread of its
 * patterns' start offsets in the occurrences, plus a quarter and two
 * seconds; --span to set it) that holds matches of at least the fraction
 * --min-fraction of its patterns (default 0.75: all of one to three
 * patterns, three of four, eight of ten), in their typical order: when a
 * pattern started before the next one in every occurrence (two or more),
 * a match of the next one more than a second before it does not count.
 * Windows are anchored at the matches of a capture in time order: the
 * first match whose window qualifies opens a detection, each pattern taken
 * at its first match in the window; the detection holds its window, so
 * the next anchor is the first match after the window's end and after the
 * detection's last flow start that is not a piece of a flow a detection of
 * the signature took (the same flow, its time meeting the taken one's: a
 * session cut by the overlapping windows below is one flow), so one event
 * is one detection.  (Anchors inside the window were once allowed: a
 * device reconnecting 37 s into its setup, with the hub's ARP exchange the
 * other way round, made a second detection of one setup.)
 *
 * Flows: whole-capture flows for a signature mined from whole captures; for
 * one mined from --events windows (a long-lived session counted by its
 * in-window packets), the flows of overlapping windows (sx_det_read()), so
 * that an event inside a session opened at boot is matched as it was mined.
 * A pattern whose flows all began inside their windows (no session-flows
 * in signatures.yaml) is not matched by a session that was open before the
 * window: the miner saw none, and such a session's in-window packets
 * recur in window after window.
 *
 * Detect, then classify.  Signatures of several events of one device
 * loaded together are contrasted (contrast.c): a pattern p of signature A
 * meets signature B when B has a pattern that B's occurrences could match
 * where p matches (same identity, shapes that meet), and p is no event's
 * when it meets the device's traffic between the --events windows (the
 * signatures' between-events).  Then:
 *
 *   detect    a window of A's span holding the fraction of A's patterns
 *             (above) is an event of the device when one of them at least
 *             is not traffic between the events; a signature whose every
 *             pattern is such traffic detects nothing (the command says so);
 *   classify  the label is A's, and sure, when the window's matches tell A
 *             from every other event's signature B: for each B, a matched
 *             pattern of A that does not meet B (a conjunction can tell what
 *             no single pattern does: a plug's "lan on" as its local
 *             command, which the cloud channels lack, with the cloud report
 *             of the on length, which "lan off" lacks); else the
 *             label is ambiguous and the detection names the first event
 *             it could not be told from (ambiguous-with).  A signature none
 *             of whose windows can tell it from some B (every pattern meets
 *             B) is reported as not distinctive: its detections are
 *             ambiguous unless their flows tell them (below).
 *
 * With --labels an ambiguous detection is no hit of any label: at a
 * labelled time no sure detection took it is an event found without its
 * label (score.c), elsewhere a false detection.  --sure drops ambiguous
 * detections.  A signature loaded alone, or --no-contrast, is detected by
 * all its patterns, its label sure.  (Before this rule a detection needed a
 * pattern that no other event's signature met, and a signature without one
 * detected nothing: bench/README.md measures both.)
 *
 * Several signatures, one event.  Where detections of different signatures
 * overlap in time in one capture (one's [start, end] meets the other's),
 * one is kept: a sure label before an ambiguous one, then the one that
 * matched more distinctive patterns (meeting no other event's signature),
 * then more patterns (then the higher score, then the earlier): an event is
 * one event, one label, and a signature of one or two generic patterns (a
 * cloud report every command sends) does not also claim the events a fuller
 * signature recognises.  --overlap keeps them all.
 *
 * What the window's flows tell.  Patterns that meet (above) are ranges
 * that could hold one flow; the flows of a detection's window say more.
 * The label of each ambiguous detection kept is then told by its window
 * (from five seconds before its first flow, the command coming before the
 * reaction that anchors it, for one window of the flow stage: --duration,
 * 30 s for whole captures), by the nearest signature in two ways, or stays
 * ambiguous:
 *
 *   rare flow  a flow of the window that a pattern of one event matched
 *              (the detection's signature, another of its label, or another
 *              event's of the device) and no other event's pattern did, an
 *              event's pattern (not between the events) whose flows begin
 *              in at most one slot in twenty of the capture (slots of the
 *              window's length from its first flow): the label is that
 *              event's, sure, when its signature has half its patterns or
 *              more in the window (the detection then holds them, its flows
 *              and score that signature's) and no flow of the window tells
 *              another event so.  The plug's local command (set_relay_state
 *              with its state, TCP 9999), once a run, tells "lan off" under
 *              the cloud report every channel's command sends; a flow that
 *              recurs (a DNS answer whose length varies, a keep-alive) is no
 *              evidence, however few signatures match it.  A detection given
 *              another event's label that meets a detection of that event
 *              is that one, and dropped (unless --overlap);
 *   coverage   the detection's signature found (its score) exceeds, by
 *              --margin (default 0.5) or more, the fraction of each other
 *              event's signature of the device found in the window: a
 *              camera's cloud session that "open remotely" and "open on the
 *              LAN" both start, in a window without the LAN half.
 *
 * Byte-identical events (one command through the cloud from five apps)
 * stay ambiguous: no flow is theirs alone and their signatures cover a
 * window alike.  bench/README.md measures the constants (the margin, one
 * slot in twenty, half the patterns, five seconds) and what each way adds.
 *
 * A device that names itself otherwise.  A signature whose patterns carry
 * the device's DHCP host name (dhcp.hostname, the name it gives its lease:
 * often its model, "DCH-S150") is not detected in a capture where a flow of
 * the device (an end at its address, or with its MAC, the Ethernet source of
 * its address in the capture: a DHCP client before it has an address) carries
 * only other host names: that
 * device is another product, whatever flows it shares with the signature's
 * (D-Link's motion and water sensors, one firmware and one cloud, tell
 * themselves apart only there).  A name that differs from the signature's
 * in one run of four or more hexadecimal digits is the same product with
 * another unit's serial or MAC in its name ("ESP_A1B2C3"), and no veto.
 *
 * Output: CSV with the columns capture, start, end (epoch seconds: the
 * first matched flow's start, the last one's end), event (the signature's
 * label), score (patterns matched / patterns), matched, patterns, flows
 * ("ID PROTO CLIENT:PORT>SERVER:PORT" per pattern matched, ';'-separated,
 * in pattern order), ambiguous-with (the label the event could not be told
 * from; empty when the label is sure).
 */
#include "detect/detect.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"
#include "ingest/ingest.h"

#define ORDER_SLACK_NS SX_NS_PER_SEC
#define FIXED_SHIFT    4u /* positions a fixed payload length may move (DESIGN) */

struct match {
	uint32_t file, sig, pat;
	int64_t first_ns, last_ns;
	char flow[160];
};

#define NAME_KEY "dhcp.hostname="

/* A flow that names a host (dhcp.hostname), kept until the end: whose it
 * is, the device's or another host's, may be known only from a later flow
 * of the capture (the device's MAC). */
struct named_flow {
	uint32_t file;
	char addr[2][64];
	uint8_t mac[2][6];
	char *attrs;
};

/* A capture's device MAC (the Ethernet source of a flow end at the device's
 * address), per signature's device. */
struct dev_mac {
	uint32_t file, sig;
	uint8_t mac[6];
};

struct sx_det {
	struct sx_det_cfg cfg;
	const struct sx_det_sig *const *sigs;
	uint32_t nsigs;
	struct match *m;
	size_t nm, capm;
	struct capture {
		char *name;
		int64_t first_ns, last_ns; /* its flows' first and last packets */
	} * files;			   /* by capture index */
	uint32_t nfiles;
	int64_t slot_ns; /* the time unit of a flow's rarity (classify) */
	struct sx_det_detection *det;
	uint32_t ndet;
	struct sx_det_hit *hits; /* of every detection; an index in each until the end */
	size_t nhits, caphits;
	struct other_name {
		uint32_t file, sig;
	} * other; /* captures whose device names itself otherwise (DESIGN) */
	size_t nother, capother;
	struct named_flow *named; /* flows naming a host, until the end */
	size_t nnamed, capnamed;
	struct dev_mac *macs;
	size_t nmacs, capmacs;
	struct sx_det_contrast con; /* empty with cfg.no_contrast */
};

int sx_det_new(const struct sx_det_cfg *cfg, const struct sx_det_sig *const *sigs, uint32_t nsigs,
	       struct sx_det **out)
{
	struct sx_det *d;

	*out = NULL;
	if (cfg->fraction < 0 || cfg->fraction > 1 || cfg->span_ns < 0 || cfg->margin < 0 ||
	    cfg->margin > 2)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->cfg = *cfg;
	if (d->cfg.fraction == 0)
		d->cfg.fraction = SX_DET_FRACTION_DEFAULT;
	if (d->cfg.slack < 0)
		d->cfg.slack = SX_DET_SLACK_DEFAULT;
	if (d->cfg.margin == 0)
		d->cfg.margin = SX_DET_MARGIN_DEFAULT;
	d->slot_ns = (int64_t)SX_FLOWS_DURATION_DEFAULT * SX_NS_PER_SEC;
	d->sigs = sigs;
	d->nsigs = nsigs;
	if (!d->cfg.no_contrast &&
	    sx_det_contrast(sigs, nsigs, cfg->device, d->cfg.slack, &d->con)) {
		free(d);
		return -ENOMEM;
	}
	*out = d;
	return 0;
}

/* Whether pattern i of signature s is the device's traffic between the
 * events (no event's). */
static bool between(const struct sx_det *d, uint32_t s, uint32_t i)
{
	const struct sx_det_contrast *c = &d->con;

	return s < c->nsigs && c->between[c->first[s] + i];
}

/* Whether pattern i of signature s meets signature t (contrast.c). */
static bool meets(const struct sx_det *d, uint32_t s, uint32_t i, uint32_t t)
{
	const struct sx_det_contrast *c = &d->con;

	return s < c->nsigs && c->meets[(size_t)(c->first[s] + i) * c->nsigs + t];
}

/* Whether the picks of signature s (pick[i] != SIZE_MAX: pattern i found;
 * NULL: every pattern) hold one that is an event's and that signature t
 * lacks. */
static bool told_from(const struct sx_det *d, uint32_t s, const size_t *pick, uint32_t t)
{
	uint32_t i;

	for (i = 0; i < d->sigs[s]->n; i++)
		if ((!pick || pick[i] != SIZE_MAX) && !between(d, s, i) && !meets(d, s, i, t))
			return true;
	return false;
}

/* The first other event's signature the picks of s cannot be told from, or
 * s itself when they tell it from every one (DESIGN). */
static uint32_t untold(const struct sx_det *d, uint32_t s, const size_t *pick)
{
	uint32_t t, i;

	for (t = 0; t < d->con.nsigs; t++) {
		bool rival = false;

		/* a signature none of whose patterns s meets (another device's,
		 * the same event's) is no rival here */
		for (i = 0; i < d->sigs[s]->n && !rival; i++)
			rival = meets(d, s, i, t);
		if (t != s && rival && !told_from(d, s, pick, t))
			return t;
	}
	return s;
}

bool sx_det_not_distinctive(const struct sx_det *d, uint32_t sig, uint32_t *other)
{
	const struct sx_det_contrast *c = &d->con;
	uint32_t t;

	if (sig >= c->nsigs || !c->rivals[sig] || !d->sigs[sig]->n)
		return false;
	t = c->nevent[sig] ? untold(d, sig, NULL) : sig;
	if (c->nevent[sig] && t == sig)
		return false;
	if (other)
		*other = t;
	return true;
}

bool sx_det_distinctive(const struct sx_det *d, uint32_t sig, uint32_t pat)
{
	return !sx_det_shared_with(d, sig, pat);
}

uint32_t sx_det_shared_with(const struct sx_det *d, uint32_t sig, uint32_t pat)
{
	const struct sx_det_contrast *c = &d->con;

	return sig < c->nsigs && pat < d->sigs[sig]->n ? c->shared_with[c->first[sig] + pat] : 0;
}

void sx_det_free(struct sx_det *d)
{
	uint32_t i;

	if (!d)
		return;
	for (i = 0; i < d->nfiles; i++)
		free(d->files[i].name);
	free(d->files);
	free(d->m);
	free(d->det);
	free(d->hits);
	free(d->other);
	for (i = 0; i < d->nnamed; i++)
		free(d->named[i].attrs);
	free(d->named);
	free(d->macs);
	sx_det_contrast_free(&d->con);
	free(d);
}

/* ---- one flow against one pattern ---- */

static bool in_list(char *const *l, uint32_t n, const char *s)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(l[i], s))
			return true;
	return false;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !memcmp(s + a - b, suffix, b);
}

static bool end_ok(const struct sx_det_end *e, const char *device, const char *addr,
		   const char *host)
{
	uint32_t i;

	switch (e->host) {
	case SX_DET_SELF: /* the device, or another host of the end (sig.c) */
		if (device && *device && !strcmp(addr, device))
			return true;
		break;
	case SX_DET_ANY:
		return true;
	case SX_DET_NAME:
		if (host && in_list(e->names, e->nnames, host))
			return true;
		break;
	case SX_DET_DOMAIN:
		for (i = 0; host && i < e->nnames; i++)
			if (ends_with(host, e->names[i]) || !strcmp(host, e->names[i] + 1))
				return true;
		break;
	default:
		break;
	}
	return in_list(e->addrs, e->naddrs, addr);
}

/* A token value against a pattern value (one '*' at most: prefix*suffix). */
static bool value_ok(const char *pv, const char *v, size_t vlen)
{
	const char *star = strchr(pv, '*');
	size_t pre, suf;

	if (!star)
		return strlen(pv) == vlen && !memcmp(pv, v, vlen);
	pre = (size_t)(star - pv);
	suf = strlen(star + 1);
	return vlen >= pre + suf && !memcmp(v, pv, pre) && !memcmp(v + vlen - suf, star + 1, suf);
}

/* Whether the flow's attributes hold a value of key among the pattern's. */
static bool attr_key_ok(const struct sx_det_pattern *p, const char *key, const char *attrs)
{
	size_t klen = strlen(key);
	const char *t = attrs;

	while (*t) {
		size_t n = strcspn(t, " ");

		if (n > klen && !memcmp(t, key, klen) && t[klen] == '=') {
			uint32_t i;

			for (i = 0; i < p->nattrs; i++)
				if (!strcmp(p->attrs[i].key, key) &&
				    value_ok(p->attrs[i].value, t + klen + 1, n - klen - 1))
					return true;
		}
		t += n;
		while (*t == ' ')
			t++;
	}
	return false;
}

static bool attrs_ok(const struct sx_det_pattern *p, const char *attrs)
{
	uint32_t i, j;

	for (i = 0; i < p->nattrs; i++) {
		for (j = 0; j < i; j++)
			if (!strcmp(p->attrs[j].key, p->attrs[i].key))
				break;
		if (j == i && !attr_key_ok(p, p->attrs[i].key, attrs))
			return false;
	}
	return true;
}

static bool count_ok(const struct sx_det_range *r, uint64_t v, double slack)
{
	double lo = floor((double)r->min * (1 - slack) + 0.5);
	double hi = floor((double)r->max * (1 + slack) + 0.5);

	return (double)v >= lo && (double)v <= hi;
}

/* Whether the fixed lengths of p (the positions every member reached with
 * one length) are among the flow's lengths v (n), in their order, each
 * within FIXED_SHIFT positions of its own (DESIGN). */
static bool fixed_ok(const struct sx_det_pattern *p, const int32_t *v, uint32_t n)
{
	uint32_t k, at = 0;

	for (k = 0; k < p->seq_n && k < p->seq_all; k++) {
		if (p->seq_min[k] != p->seq_max[k] || (p->seq_bulk >> k & 1))
			continue;
		if (at + FIXED_SHIFT < k)
			at = k - FIXED_SHIFT;
		while (at < n && v[at] != p->seq_min[k])
			at++;
		if (at >= n || at > k + FIXED_SHIFT)
			return false;
		at++;
	}
	return true;
}

/* The payload lengths (client-signed) against the mined ranges. */
static bool seq_ok(const struct sx_det_pattern *p, const int32_t *v, uint32_t n)
{
	uint32_t k, varying = 0, ok = 0;

	if (!fixed_ok(p, v, n))
		return false;
	for (k = 0; k < p->seq_n; k++) {
		int32_t lo = p->seq_min[k], hi = p->seq_max[k], w;

		if (p->seq_bulk >> k & 1) { /* any length of its sender up to the segment */
			lo = lo > 0 ? 1 : -p->seq_bulk_top[1];
			hi = hi > 0 ? p->seq_bulk_top[0] : -1;
		} else if (k < p->seq_all && lo == hi) {
			continue; /* fixed_ok() */
		}
		w = (hi - lo) / 4;
		if (k >= n) {
			if (k < p->seq_all)
				varying++;
			continue;
		}
		varying++;
		if (v[k] >= lo - w && v[k] <= hi + w && !(lo > 0 && v[k] < 0) &&
		    !(hi < 0 && v[k] > 0))
			ok++;
	}
	return ok * 4 >= varying * 3;
}

/* The flow's two ends as the miner orients them. */
struct view {
	enum sx_flow_side side[2]; /* [0] client, [1] server */
	char addr[2][64];
	uint16_t port[2];
	const char *host[2];
};

static void view_of(const struct sx_flow_row *row, struct view *v)
{
	unsigned r;

	v->side[1] = row->service_side == SX_SIDE_DEVICE ? SX_SIDE_DEVICE : SX_SIDE_OTHER;
	if (sx_flow_key_is_arp(&row->rec.key))
		v->side[1] = SX_SIDE_OTHER;
	v->side[0] = v->side[1] == SX_SIDE_DEVICE ? SX_SIDE_OTHER : SX_SIDE_DEVICE;
	for (r = 0; r < 2; r++) {
		struct sx_addr a;

		sx_flow_rec_end(&row->rec, v->side[r], &a, &v->port[r]);
		sx_addr_str(&a, v->addr[r], sizeof(v->addr[r]));
		v->host[r] = v->side[r] == SX_SIDE_DEVICE ? row->dev_host : row->other_host;
	}
}

static bool matches(const struct sx_det_pattern *p, const char *device,
		    const struct sx_flow_row *row, double slack, const struct view *v)
{
	const struct sx_flow_rec *rec = &row->rec;
	int32_t seq[SX_FLOW_SEQ_MAX];
	unsigned r, dc = v->side[0] == SX_SIDE_DEVICE ? 0 : 1, k;
	uint32_t n = rec->nseq < SX_FLOW_SEQ_MAX ? rec->nseq : SX_FLOW_SEQ_MAX;

	if (p->arp != sx_flow_key_is_arp(&rec->key) || (p->began && rec->session))
		return false;
	if (p->arp ? rec->key.lo_port != p->arp_op : rec->key.proto != p->ip_proto)
		return false;
	if (p->fixed_end < 2 && v->port[p->fixed_end] != p->fixed_port)
		return false;
	for (r = 0; r < 2; r++)
		if (!end_ok(&p->end[r], device, v->addr[r], v->host[r]))
			return false;
	if (!attrs_ok(p, rec->attrs))
		return false;
	for (r = 0; r < 2; r++) {
		unsigned s = r == 0 ? dc : 1 - dc;

		if (!count_ok(&p->pkts[r], rec->pkts[s], slack) ||
		    !count_ok(&p->bytes[r], rec->bytes[s], slack))
			return false;
	}
	for (k = 0; k < n; k++)
		seq[k] = dc == 0 ? rec->seq_len[k] : -rec->seq_len[k];
	return seq_ok(p, seq, n);
}

bool sx_det_flow_matches(const struct sx_det_pattern *p, const char *device,
			 const struct sx_flow_row *row, double slack)
{
	struct view v;

	view_of(row, &v);
	return matches(p, device, row, slack, &v);
}

static const char *proto_name(const struct sx_flow_rec *rec, char *buf, size_t bufsz)
{
	if (sx_flow_key_is_arp(&rec->key))
		return "arp";
	if (rec->key.proto == 6)
		return "tcp";
	if (rec->key.proto == 17)
		return "udp";
	snprintf(buf, bufsz, "ip%u", rec->key.proto);
	return buf;
}

static int file_seen(struct sx_det *d, const struct sx_flow_row *row)
{
	uint32_t f = row->rec.key.file;
	struct capture *c;

	if (f >= d->nfiles) {
		struct capture *nf = sx_realloc_array(d->files, (size_t)f + 1, sizeof(*nf));

		if (!nf)
			return -ENOMEM;
		for (c = nf + d->nfiles; c < nf + f + 1; c++)
			*c = (struct capture){NULL, INT64_MAX, INT64_MIN};
		d->files = nf;
		d->nfiles = f + 1;
	}
	c = &d->files[f];
	if (!c->name && row->file && !(c->name = strdup(row->file)))
		return -ENOMEM;
	c->first_ns = row->rec.first_ns < c->first_ns ? row->rec.first_ns : c->first_ns;
	c->last_ns = row->rec.last_ns > c->last_ns ? row->rec.last_ns : c->last_ns;
	return 0;
}

/* Whether host names a and b (b: n bytes) differ in one run of four or more
 * hexadecimal digits only: one product, two units' serials. */
static bool unit_variant(const char *a, const char *b, size_t n)
{
	size_t i, first = SIZE_MAX, last = 0;

	if (strlen(a) != n)
		return false;
	for (i = 0; i < n; i++)
		if (a[i] != b[i]) {
			first = first == SIZE_MAX ? i : first;
			last = i;
		}
	if (first == SIZE_MAX)
		return true;
	if (last - first + 1 < 4)
		return false;
	for (i = first; i <= last; i++)
		if (!isxdigit((unsigned char)a[i]) || !isxdigit((unsigned char)b[i]))
			return false;
	return true;
}

/* Whether the signature's host names (its patterns' dhcp.hostname values)
 * take the name v (n bytes); true when it has none. */
static bool sig_takes_name(const struct sx_det_sig *sig, const char *v, size_t n)
{
	bool any = false;
	uint32_t i, k;

	for (i = 0; i < sig->n; i++)
		for (k = 0; k < sig->p[i].nattrs; k++) {
			const struct sx_det_attr *a = &sig->p[i].attrs[k];

			if (strcmp(a->key, "dhcp.hostname"))
				continue;
			any = true;
			if (value_ok(a->value, v, n) || unit_variant(a->value, v, n))
				return true;
		}
	return !any;
}

/* The device of signature s: --device, else the signature's; NULL none. */
static const char *device_of(const struct sx_det *d, uint32_t s)
{
	const char *dev = d->cfg.device ? d->cfg.device : d->sigs[s]->device;

	return dev && *dev ? dev : NULL;
}

/* arr (n used of *cap) with room for one more, grown by doubling from
 * first; NULL on -ENOMEM (arr left as it was). */
static void *room(void *arr, size_t n, size_t *cap, size_t first, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : first;
	void *p;

	if (n < *cap)
		return arr;
	p = sx_realloc_array(arr, ncap, size);
	if (p)
		*cap = ncap;
	return p;
}

/* The MAC of an end at a signature's device: the device's in this capture.
 * Rows come capture by capture, so only the capture's own entries (at the
 * end) are looked at; a repeat elsewhere would be harmless. */
static int learn_mac(struct sx_det *d, const struct sx_flow_row *row, const struct view *v)
{
	static const uint8_t zero[6];
	uint32_t s, file = row->rec.key.file;
	unsigned r;
	size_t i;

	for (s = 0; s < d->nsigs; s++) {
		const char *dev = device_of(d, s);

		for (r = 0; dev && r < 2; r++) {
			const uint8_t *mac = row->rec.mac[v->side[r] == SX_SIDE_DEVICE ? 0 : 1];
			struct dev_mac *m;

			if (strcmp(v->addr[r], dev) || !memcmp(mac, zero, 6))
				continue;
			for (i = d->nmacs; i > 0 && d->macs[i - 1].file == file; i--)
				if (d->macs[i - 1].sig == s)
					break;
			if (i > 0 && d->macs[i - 1].file == file)
				continue; /* known */
			m = room(d->macs, d->nmacs, &d->capmacs, 8, sizeof(*m));
			if (!m)
				return -ENOMEM;
			d->macs = m;
			m = &d->macs[d->nmacs++];
			*m = (struct dev_mac){.file = file, .sig = s};
			memcpy(m->mac, mac, 6);
		}
	}
	return 0;
}

/* A flow that names a host, kept for the end (DESIGN). */
static int keep_named(struct sx_det *d, const struct sx_flow_row *row, const struct view *v)
{
	struct named_flow *n;
	unsigned r;

	if (!strstr(row->rec.attrs, NAME_KEY))
		return 0;
	n = room(d->named, d->nnamed, &d->capnamed, 8, sizeof(*n));
	if (!n)
		return -ENOMEM;
	d->named = n;
	n = &d->named[d->nnamed];
	n->file = row->rec.key.file;
	for (r = 0; r < 2; r++) {
		memcpy(n->addr[r], v->addr[r], sizeof(n->addr[r]));
		memcpy(n->mac[r], row->rec.mac[v->side[r] == SX_SIDE_DEVICE ? 0 : 1], 6);
	}
	n->attrs = strdup(row->rec.attrs);
	if (!n->attrs)
		return -ENOMEM;
	d->nnamed++;
	return 0;
}

/* Whether flow n is the device's (for signature s): an end at its address,
 * or an end with its MAC (a DHCP client before it has an address). */
static bool named_by_device(const struct sx_det *d, const struct named_flow *n, uint32_t s)
{
	const char *dev = device_of(d, s);
	size_t i;
	unsigned r;

	if (!dev)
		return false;
	for (r = 0; r < 2; r++)
		if (!strcmp(n->addr[r], dev))
			return true;
	for (i = 0; i < d->nmacs; i++)
		if (d->macs[i].file == n->file && d->macs[i].sig == s)
			for (r = 0; r < 2; r++)
				if (!memcmp(n->mac[r], d->macs[i].mac, 6))
					return true;
	return false;
}

/* Whether the device of the flow n names itself with a name signature s
 * takes; true when n names nothing. */
static bool names_taken(const struct sx_det_sig *sig, const struct named_flow *n)
{
	const size_t klen = sizeof(NAME_KEY) - 1;
	const char *t = n->attrs;
	bool named = false;

	while (*t) {
		size_t len = strcspn(t, " ");

		if (len > klen && !memcmp(t, NAME_KEY, klen)) {
			named = true;
			if (sig_takes_name(sig, t + klen, len - klen))
				return true;
		}
		t += len;
		while (*t == ' ')
			t++;
	}
	return !named;
}

/* Each (capture, signature) whose device names itself otherwise (DESIGN). */
static int mark_other_names(struct sx_det *d)
{
	size_t i;
	uint32_t s;

	for (i = 0; i < d->nnamed; i++)
		for (s = 0; s < d->nsigs; s++) {
			const struct named_flow *n = &d->named[i];

			struct other_name *o;

			if (!named_by_device(d, n, s) || names_taken(d->sigs[s], n))
				continue;
			o = room(d->other, d->nother, &d->capother, 8, sizeof(*o));
			if (!o)
				return -ENOMEM;
			d->other = o;
			d->other[d->nother++] = (struct other_name){n->file, s};
		}
	return 0;
}

static bool named_otherwise(const struct sx_det *d, uint32_t file, uint32_t sig)
{
	size_t i;

	for (i = 0; i < d->nother; i++)
		if (d->other[i].file == file && d->other[i].sig == sig)
			return true;
	return false;
}

int sx_det_row(void *arg, const struct sx_flow_row *row)
{
	struct sx_det *d = arg;
	struct view v;
	uint32_t s, i;
	int ret = file_seen(d, row);

	if (ret)
		return ret;
	view_of(row, &v);
	ret = learn_mac(d, row, &v);
	if (!ret)
		ret = keep_named(d, row, &v);
	if (ret)
		return ret;
	for (s = 0; s < d->nsigs; s++) {
		const struct sx_det_sig *sig = d->sigs[s];
		const char *dev = device_of(d, s);

		for (i = 0; i < sig->n; i++) {
			struct match *m;
			char pb[8];

			if (!matches(&sig->p[i], dev, row, d->cfg.slack, &v))
				continue;
			m = room(d->m, d->nm, &d->capm, 256, sizeof(*m));
			if (!m)
				return -ENOMEM;
			d->m = m;
			m = &d->m[d->nm++];
			m->file = row->rec.key.file;
			m->sig = s;
			m->pat = i;
			m->first_ns = row->rec.first_ns;
			m->last_ns = row->rec.last_ns;
			/* a report's text: a long name is cut, never overrun */
			if (snprintf(m->flow, sizeof(m->flow), "%s %s %s:%u>%s:%u", sig->p[i].id,
				     proto_name(&row->rec, pb, sizeof(pb)),
				     v.host[0] ? v.host[0] : v.addr[0], v.port[0],
				     v.host[1] ? v.host[1] : v.addr[1],
				     v.port[1]) >= (int)sizeof(m->flow))
				m->flow[sizeof(m->flow) - 1] = '\0';
		}
	}
	return 0;
}

/* The grid of windows over each capture read (status), into ev and w. */
static int grid(const struct sx_det_read_cfg *cfg, const struct sx_file_status *status,
		struct sx_events *ev, struct sx_windows *w)
{
	uint64_t total = 0, most = 0;
	uint32_t c, k;

	w->ncaps = cfg->npaths;
	w->w = sx_calloc_array(cfg->npaths, sizeof(*w->w));
	w->n = sx_calloc_array(cfg->npaths, sizeof(*w->n));
	if (!w->w || !w->n)
		return -ENOMEM;
	for (c = 0; c < cfg->npaths; c++) {
		int64_t first = status[c].first_sec * SX_NS_PER_SEC + status[c].first_nsec;
		int64_t last = status[c].last_sec * SX_NS_PER_SEC + status[c].last_nsec;
		uint64_t n;

		if (!status[c].opened || !status[c].packets || last < first)
			continue;
		/* from a window ending at the first packet to one starting at the last */
		n = (uint64_t)((last - first + cfg->window_ns) / cfg->step_ns) + 1;
		if (n > SX_EVENTS_MAX || total + n > 16ull * SX_EVENTS_MAX)
			return -E2BIG;
		w->w[c] = sx_calloc_array(n, sizeof(**w->w));
		if (!w->w[c])
			return -ENOMEM;
		for (k = 0; k < n; k++) {
			w->w[c][k].start_ns =
			    first - cfg->window_ns + (int64_t)(k + 1) * cfg->step_ns;
			w->w[c][k].event = k;
		}
		w->n[c] = (uint32_t)n;
		total += n;
		most = n > most ? n : most;
	}
	ev->n = (uint32_t)(most ? most : 1);
	ev->ev = sx_calloc_array(ev->n, sizeof(*ev->ev));
	return ev->ev ? 0 : -ENOMEM;
}

static void grid_free(struct sx_events *ev, struct sx_windows *w)
{
	uint32_t c;

	for (c = 0; w->w && c < w->ncaps; c++)
		free(w->w[c]);
	free(w->w);
	free(w->n);
	free(ev->ev);
}

/* One flow pass over the captures; the rows to the detector when rows. */
static int pass(struct sx_det *d, const struct sx_det_read_cfg *cfg, const struct sx_flows_cfg *fc,
		struct sx_file_status *status, struct sx_flows_stats *st, bool rows)
{
	const char *const *shown = cfg->shown ? cfg->shown : cfg->paths;
	struct sx_ingest_cfg icfg = {.paths = cfg->paths,
				     .names = shown,
				     .npaths = cfg->npaths,
				     .nthreads = cfg->nthreads ? cfg->nthreads : sx_nproc(),
				     .filter = cfg->filter};
	struct sx_flows *fl;
	uint32_t i;
	int ret;

	ret = sx_flows_new(fc, &fl);
	if (ret)
		return ret;
	ret = sx_flows_collect(fl, &icfg, cfg->names, status);
	for (i = 0; !ret && i < cfg->npaths && !status[i].opened; i++)
		;
	if (!ret && i == cfg->npaths)
		ret = -ENODATA;
	if (!ret && rows)
		ret = sx_flows_reduce(fl, shown, cfg->npaths, cfg->names, sx_det_row, d);
	if (st)
		sx_flows_get_stats(fl, st);
	sx_flows_free(fl);
	return ret;
}

int sx_det_read(struct sx_det *d, const struct sx_det_read_cfg *cfg, struct sx_file_status *status,
		struct sx_flows_stats *st)
{
	struct sx_flows_cfg fc = cfg->flows;
	struct sx_events ev = {0};
	struct sx_windows w = {0};
	int ret;

	if (!fc.idle_ns)
		fc.idle_ns = (int64_t)SX_FLOWS_IDLE_DEFAULT * SX_NS_PER_SEC;
	fc.window_ns = 0;
	fc.events = NULL;
	fc.windows = NULL;
	if (cfg->window_ns <= 0)
		return pass(d, cfg, &fc, status, st, true);
	if (cfg->step_ns <= 0)
		return -EINVAL;
	d->slot_ns = cfg->window_ns;
	ret = pass(d, cfg, &fc, status, NULL, false);
	if (!ret)
		ret = grid(cfg, status, &ev, &w);
	if (!ret) {
		fc.events = &ev;
		fc.windows = &w;
		fc.duration_ns = cfg->window_ns;
		ret = pass(d, cfg, &fc, status, st, true);
	}
	grid_free(&ev, &w);
	return ret;
}

/* ---- windows ---- */

static int match_cmp(const void *a, const void *b)
{
	const struct match *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->sig != y->sig)
		return x->sig < y->sig ? -1 : 1;
	if (x->first_ns != y->first_ns)
		return x->first_ns < y->first_ns ? -1 : 1;
	if (x->pat != y->pat)
		return x->pat < y->pat ? -1 : 1;
	return strcmp(x->flow, y->flow);
}

static int det_cmp(const void *a, const void *b)
{
	const struct sx_det_detection *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return x->sig < y->sig ? -1 : x->sig > y->sig;
}

/*
 * The patterns of one window anchored at m[a] (matches of one capture and
 * signature, m[a..end)), pattern i taken at pick[i] (SIZE_MAX: none).
 * Returns the patterns found.
 */
static uint32_t window(const struct sx_det_sig *sig, int64_t span, const struct match *m, size_t a,
		       size_t end, size_t *pick)
{
	uint32_t i, found = 0;
	size_t j;

	for (i = 0; i < sig->n; i++)
		pick[i] = SIZE_MAX;
	for (j = a; j < end && m[j].first_ns <= m[a].first_ns + span; j++)
		if (pick[m[j].pat] == SIZE_MAX)
			pick[m[j].pat] = j;
	for (i = 0; i + 1 < sig->n; i++)
		if (sig->p[i].before_next && pick[i] != SIZE_MAX && pick[i + 1] != SIZE_MAX &&
		    m[pick[i + 1]].first_ns + ORDER_SLACK_NS < m[pick[i]].first_ns)
			pick[i + 1] = SIZE_MAX;
	for (i = 0; i < sig->n; i++)
		found += pick[i] != SIZE_MAX;
	return found;
}

/* Whether match k is a piece of a flow picked: the same flow (pattern and
 * ends) in another of the overlapping windows, its time meeting the pick's
 * (DESIGN: one session, one detection). */
static bool same_flow(const struct match *m, size_t k, const size_t *pick, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (pick[i] != SIZE_MAX && m[pick[i]].pat == m[k].pat &&
		    m[k].first_ns <= m[pick[i]].last_ns && m[pick[i]].first_ns <= m[k].last_ns &&
		    !strcmp(m[pick[i]].flow, m[k].flow))
			return true;
	return false;
}

/* The picks of signature s that are an event's (not between the events). */
static uint32_t evidence_of(const struct sx_det *d, uint32_t s, const size_t *pick)
{
	uint32_t i, n = 0;

	for (i = 0; i < d->sigs[s]->n; i++)
		n += pick[i] != SIZE_MAX && !between(d, s, i);
	return n;
}

/* The distinctive patterns among the picks of signature s. */
static uint32_t distinct_of(const struct sx_det *d, uint32_t s, const size_t *pick)
{
	uint32_t i, n = 0;

	for (i = 0; i < d->sigs[s]->n; i++)
		n += pick[i] != SIZE_MAX && sx_det_distinctive(d, s, i);
	return n;
}

/* The picks of x's signature (pick[i]: the match of pattern i, SIZE_MAX
 * none) as its hits, appended to d->hits (x->hits an index until the end),
 * its patterns found, start and end.  0 or -ENOMEM. */
static int set_hits(struct sx_det *d, struct sx_det_detection *x, const size_t *pick)
{
	const struct sx_det_sig *sig = d->sigs[x->sig];
	uint32_t i;

	if (d->nhits + sig->n > d->caphits) {
		size_t cap = d->caphits ? d->caphits : 256;
		struct sx_det_hit *h;

		while (cap < d->nhits + sig->n)
			cap *= 2;
		h = sx_realloc_array(d->hits, cap, sizeof(*h));
		if (!h)
			return -ENOMEM;
		d->hits = h;
		d->caphits = cap;
	}
	x->hits = (struct sx_det_hit *)(uintptr_t)d->nhits;
	x->matched = 0;
	x->distinct = distinct_of(d, x->sig, pick);
	x->start_ns = INT64_MAX;
	x->end_ns = INT64_MIN;
	for (i = 0; i < sig->n; i++) {
		const struct match *m;
		struct sx_det_hit *h;

		if (pick[i] == SIZE_MAX)
			continue;
		m = &d->m[pick[i]];
		h = &d->hits[d->nhits++];
		h->pattern = i;
		h->first_ns = m->first_ns;
		h->last_ns = m->last_ns;
		memcpy(h->flow, m->flow, sizeof(h->flow));
		x->start_ns = h->first_ns < x->start_ns ? h->first_ns : x->start_ns;
		x->end_ns = h->last_ns > x->end_ns ? h->last_ns : x->end_ns;
		x->matched++;
	}
	return 0;
}

static int add_detection(struct sx_det *d, size_t a, const size_t *pick)
{
	struct sx_det_detection *x = &d->det[d->ndet++];

	memset(x, 0, sizeof(*x));
	x->file = d->m[a].file;
	x->sig = d->m[a].sig;
	if (x->sig < d->con.nsigs && d->con.rivals[x->sig]) {
		x->rival = untold(d, x->sig, pick);
		x->ambiguous = x->rival != x->sig;
	}
	return set_hits(d, x, pick);
}

/* Whether detection a beats b (a sure label, more distinctive patterns,
 * more patterns, higher score, earlier). */
static bool beats(const struct sx_det *d, const struct sx_det_detection *a,
		  const struct sx_det_detection *b)
{
	double sa = (double)a->matched / d->sigs[a->sig]->n;
	double sb = (double)b->matched / d->sigs[b->sig]->n;

	if (a->ambiguous != b->ambiguous)
		return !a->ambiguous;
	if (a->distinct != b->distinct)
		return a->distinct > b->distinct;
	if (a->matched != b->matched)
		return a->matched > b->matched;
	if (sa != sb)
		return sa > sb;
	return det_cmp(a, b) < 0;
}

/* Of detections of different signatures that overlap, the best (sorted by
 * capture and start); returns how many are kept, compacted in place. */
static uint32_t best_of_overlaps(struct sx_det *d)
{
	bool *drop = sx_calloc_array(d->ndet ? d->ndet : 1, sizeof(*drop));
	uint32_t i, j, n = 0;

	if (!drop)
		return d->ndet; /* keep them all rather than fail */
	for (i = 0; i < d->ndet; i++)
		for (j = i + 1; j < d->ndet && d->det[j].file == d->det[i].file &&
				d->det[j].start_ns <= d->det[i].end_ns;
		     j++)
			if (d->det[j].sig != d->det[i].sig) {
				if (beats(d, &d->det[i], &d->det[j]))
					drop[j] = true;
				else
					drop[i] = true;
			}
	for (i = 0; i < d->ndet; i++)
		if (!drop[i])
			d->det[n++] = d->det[i];
	free(drop);
	return n;
}

/* ---- classify: what the window's flows tell (DESIGN) ---- */

/* How long before a detection's first flow its window is looked at: the
 * command that tells an event comes up to a few seconds before the
 * reaction that anchors it (bench/README.md). */
#define CLASSIFY_LEAD_NS (5 * SX_NS_PER_SEC)
/* A rare flow: its pattern's flows begin in at most this fraction of the
 * capture's slots (slot_ns each). */
#define RARE 0.05
/* The event of a rare flow: at least this fraction of its patterns in the
 * window. */
#define RARE_COVER 0.5

/* The first match of capture file and signature t that starts at lo or
 * later (d->m sorted by capture, signature, start). */
static size_t first_match(const struct sx_det *d, uint32_t file, uint32_t t, int64_t lo)
{
	size_t a = 0, b = d->nm;

	while (a < b) {
		size_t h = a + (b - a) / 2;
		const struct match *m = &d->m[h];
		bool before = m->file != file ? m->file < file
			      : m->sig != t   ? m->sig < t
					      : m->first_ns < lo;

		if (before)
			a = h + 1;
		else
			b = h;
	}
	return a;
}

/* The patterns of signature t found by flows of capture file that start in
 * [lo, hi]: pick[i] the first match of pattern i, SIZE_MAX none.  Returns
 * how many. */
static uint32_t found_in(const struct sx_det *d, uint32_t file, uint32_t t, int64_t lo, int64_t hi,
			 size_t *pick)
{
	uint32_t i, n = 0;
	size_t j;

	for (i = 0; i < d->sigs[t]->n; i++)
		pick[i] = SIZE_MAX;
	for (j = first_match(d, file, t, lo);
	     j < d->nm && d->m[j].file == file && d->m[j].sig == t && d->m[j].first_ns <= hi; j++)
		if (pick[d->m[j].pat] == SIZE_MAX) {
			pick[d->m[j].pat] = j;
			n++;
		}
	return n;
}

/* The window in which detection x's label is told: from a little before
 * its first flow, one slot (the flow stage's window) long (DESIGN). */
static void window_of(const struct sx_det *d, const struct sx_det_detection *x, int64_t *lo,
		      int64_t *hi)
{
	*lo = x->start_ns - CLASSIFY_LEAD_NS;
	*hi = x->start_ns + d->slot_ns;
}

/*
 * Per capture and pattern (at file * npat + con.first[sig] + pat), the
 * slots of slot_ns from the capture's first flow in which its matches
 * begin.  NULL on -ENOMEM.
 */
static uint32_t *slot_counts(const struct sx_det *d, uint32_t npat)
{
	uint32_t *n = sx_calloc_array((size_t)d->nfiles * npat + 1, sizeof(*n));
	int64_t *last = sx_calloc_array((size_t)npat + 1, sizeof(*last));
	size_t j;

	if (!n || !last) {
		free(n);
		free(last);
		return NULL;
	}
	for (j = 0; j < d->nm; j++) {
		const struct match *m = &d->m[j];
		uint32_t p = d->con.first[m->sig] + m->pat, i;
		int64_t slot = (m->first_ns - d->files[m->file].first_ns) / d->slot_ns;

		if (j == 0 || m->file != d->m[j - 1].file)
			for (i = 0; i < npat; i++)
				last[i] = -1;
		/* a signature's matches come in time order: slots never go back */
		if (slot != last[p])
			n[(size_t)m->file * npat + p]++;
		last[p] = slot;
	}
	free(last);
	return n;
}

/* Whether the flow of match k was matched by a pattern of another event's
 * signature of the device too (the same piece of flow: its ends, times and
 * pattern-free text). */
static bool matched_otherwise(const struct sx_det *d, size_t k)
{
	const struct match *m = &d->m[k];
	const char *flow = strchr(m->flow, ' '); /* past the pattern's id */
	uint32_t t;
	size_t j;

	for (t = 0; t < d->nsigs; t++) {
		if (!sx_det_rivals(d->sigs[m->sig], d->sigs[t], d->cfg.device))
			continue;
		for (j = first_match(d, m->file, t, m->first_ns);
		     j < d->nm && d->m[j].file == m->file && d->m[j].sig == t &&
		     d->m[j].first_ns == m->first_ns;
		     j++) {
			const char *other = strchr(d->m[j].flow, ' ');

			if (d->m[j].last_ns == m->last_ns && flow && other && !strcmp(flow, other))
				return true;
		}
	}
	return false;
}

/*
 * The event a rare flow of x's window tells: the signature (x's, another
 * of its label, or a rival's) whose pattern alone matched a flow of the
 * window, an event's pattern whose flows are rare in the capture; t when
 * there is one such event, else UINT32_MAX (none, or several).
 */
static uint32_t told_by_rare_flow(const struct sx_det *d, const struct sx_det_detection *x,
				  const uint32_t *slots, uint32_t npat)
{
	const struct capture *c = &d->files[x->file];
	double nslots = (double)((c->last_ns - c->first_ns) / d->slot_ns + 1);
	uint32_t t, told = UINT32_MAX;
	int64_t lo, hi;
	size_t j;

	window_of(d, x, &lo, &hi);
	for (t = 0; t < d->nsigs; t++) {
		if (t != x->sig && !sx_det_rivals(d->sigs[x->sig], d->sigs[t], d->cfg.device) &&
		    !sx_det_label_is(d->sigs[x->sig]->label, d->sigs[t]->label))
			continue;
		for (j = first_match(d, x->file, t, lo); j < d->nm && d->m[j].file == x->file &&
							 d->m[j].sig == t && d->m[j].first_ns <= hi;
		     j++) {
			uint32_t p = d->con.first[t] + d->m[j].pat;

			if (between(d, t, d->m[j].pat) ||
			    slots[(size_t)x->file * npat + p] > RARE * nslots ||
			    matched_otherwise(d, j))
				continue;
			if (told != UINT32_MAX &&
			    !sx_det_label_is(d->sigs[told]->label, d->sigs[t]->label))
				return UINT32_MAX; /* two events */
			told = t;
			break;
		}
	}
	return told;
}

/* Whether x's signature covers its window by the margin more than each
 * other event's signature of the device covers it (DESIGN). */
static bool told_by_coverage(const struct sx_det *d, const struct sx_det_detection *x, size_t *pick)
{
	double own = (double)x->matched / d->sigs[x->sig]->n;
	int64_t lo, hi;
	uint32_t t;

	if (d->cfg.margin > 1)
		return false;
	window_of(d, x, &lo, &hi);
	for (t = 0; t < d->nsigs; t++) {
		if (!d->sigs[t]->n || !sx_det_rivals(d->sigs[x->sig], d->sigs[t], d->cfg.device))
			continue;
		if (own - (double)found_in(d, x->file, t, lo, hi, pick) / d->sigs[t]->n <
		    d->cfg.margin - 1e-9)
			return false;
	}
	return true;
}

/* Whether detection x, given another event's label, meets a detection of
 * its capture that holds that label already: one not moved, or moved and
 * kept before it (DESIGN: an event is one detection). */
static bool told_twice(const struct sx_det *d, uint32_t x, const uint8_t *moved)
{
	const struct sx_det_detection *a = &d->det[x];
	uint32_t i;

	for (i = 0; i < d->ndet; i++) {
		const struct sx_det_detection *b = &d->det[i];

		if (i != x && moved[i] != 2 && (!moved[i] || i < x) && b->file == a->file &&
		    b->start_ns <= a->end_ns && a->start_ns <= b->end_ns &&
		    sx_det_label_is(d->sigs[a->sig]->label, d->sigs[b->sig]->label))
			return true;
	}
	return false;
}

/* The ambiguous labels that the windows' flows tell (DESIGN): by a rare
 * flow (the detection becomes its event's, with that signature's patterns
 * found in the window), else by coverage.  pick: room for any signature's
 * patterns.  0 or -ENOMEM. */
static int classify(struct sx_det *d, size_t *pick)
{
	uint32_t i, s, npat = 0, *slots, kept = 0;
	uint8_t *moved; /* 1 given another event's label, 2 and dropped */
	int ret = 0;

	if (d->cfg.no_contrast)
		return 0;
	for (s = 0; s < d->nsigs; s++)
		npat += d->sigs[s]->n;
	slots = slot_counts(d, npat);
	moved = sx_calloc_array(d->ndet ? d->ndet : 1, sizeof(*moved));
	if (!slots || !moved) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (i = 0; i < d->ndet && !ret; i++) {
		struct sx_det_detection *x = &d->det[i];
		uint32_t t;
		int64_t lo, hi;

		if (!x->ambiguous)
			continue;
		t = told_by_rare_flow(d, x, slots, npat);
		if (t != UINT32_MAX) {
			window_of(d, x, &lo, &hi);
			if (found_in(d, x->file, t, lo, hi, pick) >= RARE_COVER * d->sigs[t]->n) {
				x->rival = x->sig;
				x->ambiguous = false;
				if (t == x->sig)
					continue;
				/* another event's: its patterns in the window */
				x->sig = x->rival = t;
				moved[i] = 1;
				ret = set_hits(d, x, pick);
				continue;
			}
		}
		if (told_by_coverage(d, x, pick)) {
			x->rival = x->sig;
			x->ambiguous = false;
		}
	}
	/* a detection given another event's label that a detection of that
	 * event already holds is that one */
	for (i = 0; i < d->ndet && !ret && !d->cfg.overlap; i++)
		if (moved[i] && told_twice(d, i, moved))
			moved[i] = 2;
	for (i = 0; i < d->ndet && !ret; i++)
		if (moved[i] != 2)
			d->det[kept++] = d->det[i];
	if (!ret)
		d->ndet = kept;
out_free:
	free(moved);
	free(slots);
	return ret;
}

int sx_det_finish(struct sx_det *d, const struct sx_det_detection **out, uint32_t *n)
{
	uint32_t maxp = 1, s, i;
	size_t a, b, *pick;
	bool *taken;
	int ret = 0;

	*out = NULL;
	*n = 0;
	d->nother = 0;
	if (mark_other_names(d))
		return -ENOMEM;
	for (s = 0; s < d->nsigs; s++)
		maxp = d->sigs[s]->n > maxp ? d->sigs[s]->n : maxp;
	if (d->nm) /* none matched: no array (UBSan: qsort of a null array) */
		qsort(d->m, d->nm, sizeof(*d->m), match_cmp);
	free(d->det);
	free(d->hits);
	d->hits = NULL;
	d->ndet = 0;
	d->nhits = d->caphits = 0;
	d->det = sx_calloc_array(d->nm ? d->nm : 1, sizeof(*d->det));
	pick = sx_calloc_array(maxp, sizeof(*pick));
	taken = sx_calloc_array(d->nm ? d->nm : 1, sizeof(*taken));
	if (!d->det || !pick || !taken) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (a = 0; a < d->nm && !ret; a = b) {
		const struct sx_det_sig *sig = d->sigs[d->m[a].sig];
		int64_t span = d->cfg.span_ns ? d->cfg.span_ns : sig->span_ns;
		uint32_t need = (uint32_t)ceil(d->cfg.fraction * sig->n - 1e-9);
		/* with rivals, a detection needs a pattern of an event (DESIGN) */
		bool contrasted = d->m[a].sig < d->con.nsigs && d->con.rivals[d->m[a].sig];
		size_t k;

		for (b = a; b < d->nm && d->m[b].file == d->m[a].file && d->m[b].sig == d->m[a].sig;
		     b++)
			;

		need = need ? need : 1;
		if (named_otherwise(d, d->m[a].file, d->m[a].sig))
			continue; /* another product (DESIGN) */
		if (contrasted && !d->con.nevent[d->m[a].sig])
			continue; /* every pattern between the events (DESIGN) */
		for (k = a; k < b && !ret;) {
			uint32_t found;
			int64_t last = INT64_MIN, ends = INT64_MIN;
			size_t j;

			if (taken[k]) {
				k++;
				continue; /* a piece of a flow taken (DESIGN) */
			}
			found = window(sig, span, d->m, k, b, pick);
			if (found < need || (contrasted && !evidence_of(d, d->m[a].sig, pick))) {
				k++;
				continue;
			}
			ret = add_detection(d, k, pick);
			for (i = 0; i < sig->n; i++) {
				if (pick[i] == SIZE_MAX)
					continue;
				if (d->m[pick[i]].first_ns > last)
					last = d->m[pick[i]].first_ns;
				if (d->m[pick[i]].last_ns > ends)
					ends = d->m[pick[i]].last_ns;
			}
			/* matches start in time order: none after the picks' ends */
			for (j = k; j < b && d->m[j].first_ns <= ends; j++)
				taken[j] = taken[j] || same_flow(d->m, j, pick, sig->n);
			/* the detection holds its window: no anchor inside it */
			if (d->m[k].first_ns + span > last)
				last = d->m[k].first_ns + span;
			while (k < b && d->m[k].first_ns <= last)
				k++;
		}
	}
	if (ret)
		goto out_free;
	qsort(d->det, d->ndet, sizeof(*d->det), det_cmp);
	if (!d->cfg.overlap)
		d->ndet = best_of_overlaps(d);
	ret = classify(d, pick);
	if (ret)
		goto out_free;
	qsort(d->det, d->ndet, sizeof(*d->det), det_cmp); /* a label told moves a start */
	for (i = 0; i < d->ndet; i++)
		d->det[i].hits = d->hits + (uintptr_t)d->det[i].hits;
	if (d->cfg.sure) {
		uint32_t kept = 0;

		for (i = 0; i < d->ndet; i++)
			if (!d->det[i].ambiguous)
				d->det[kept++] = d->det[i];
		d->ndet = kept;
	}
	*out = d->det;
	*n = d->ndet;
out_free:
	free(pick);
	free(taken);
	return ret;
}

const char *sx_det_file_name(const struct sx_det *d, uint32_t i)
{
	return i < d->nfiles ? d->files[i].name : NULL;
}

static void ts(struct sx_buf *b, int64_t ns)
{
	int64_t s = ns / SX_NS_PER_SEC, r = ns % SX_NS_PER_SEC;

	if (r < 0) {
		s--;
		r += SX_NS_PER_SEC;
	}
	sx_buf_ts(b, (uint64_t)s, (uint32_t)r);
}

int sx_det_write_csv(const struct sx_det *d, const struct sx_det_sig *const *sigs, FILE *f)
{
	struct sx_buf b;
	uint32_t i, k;
	int ret;

	sx_buf_init(&b);
	sx_buf_puts(&b, "capture,start,end,event,score,matched,patterns,flows,ambiguous-with\n");
	for (i = 0; i < d->ndet; i++) {
		const struct sx_det_detection *x = &d->det[i];
		const struct sx_det_sig *sig = sigs[x->sig];
		const char *file = sx_det_file_name(d, x->file);

		sx_buf_csv_text(&b, file ? file : "");
		sx_buf_putc(&b, ',');
		ts(&b, x->start_ns);
		sx_buf_putc(&b, ',');
		ts(&b, x->end_ns);
		sx_buf_putc(&b, ',');
		sx_buf_csv_text(&b, sig->label);
		sx_buf_printf(&b, ",%.3f,%u,%u,", (double)x->matched / sig->n, x->matched, sig->n);
		{
			struct sx_buf fl;

			sx_buf_init(&fl);
			for (k = 0; k < x->matched; k++)
				sx_buf_printf(&fl, "%s%s", k ? "; " : "", x->hits[k].flow);
			sx_buf_putc(&fl, '\0');
			sx_buf_csv_text(&b, fl.data ? fl.data : "");
			sx_buf_fini(&fl);
		}
		sx_buf_putc(&b, ',');
		if (x->ambiguous)
			sx_buf_csv_text(&b, sigs[x->rival]->label);
		sx_buf_putc(&b, '\n');
	}
	ret = sx_buf_flush(&b, f);
	sx_buf_fini(&b);
	return ret;
}
