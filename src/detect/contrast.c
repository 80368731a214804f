/*
 * contrast.c - which patterns of a signature tell its event apart from the
 * other events of the same device.
 *
 * DESIGN
 *
 * A signature mined from a few occurrences keeps what their windows share,
 * and much of that is the device's reaction to any event: the plug's cloud
 * report after every switch, a bridge's state push, a keep-alive.  Such a
 * pattern says nothing about which event happened.  The detector learns it
 * from the signatures it loads together: pattern p of signature A is
 * shared when a pattern q of another event's signature B (another label,
 * the same device) could have been matched by p in B's occurrences, that is
 * when p and q meet in identity and shape (and likewise when p meets a
 * pattern of the device's traffic between the --events windows, which
 * signatures.yaml holds as between-events: what the device does outside
 * every event is no event's):
 *
 *   identity  the same transport (or ARP operation), the same fixed port at
 *             the same end, each end compatible (the device with the device;
 *             a scope with anything; names, domains and addresses with one
 *             in common), and for every application attribute key both
 *             have, a value of p that takes a value of q (or the reverse:
 *             generalised values by their prefixes and suffixes);
 *   shape     packets and bytes per end: p's range and q's, both widened by
 *             the slack, intersect; payload lengths: at every position p
 *             holds fixed (every member had that one length: the matcher
 *             wants it exactly), q's members that reached it had a range
 *             that holds p's length, and q's members reached it at all.
 *
 * The test leans to "shared" where a signature cannot tell (a key only one
 * of them has, ranges that touch): a pattern is distinctive only when B's
 * occurrences could not have matched it.  PingPong's ON and OFF commands
 * of a TP-Link plug are one exchange whose cloud reply is 1093 bytes for
 * ON and 1095 for OFF at a fixed position: distinctive, both ways.
 *
 * Besides the first signature each pattern meets (shared_with), the
 * contrast keeps, per pattern, every other event's signature it meets
 * (meets) and whether it meets the traffic between the events (between).
 * What the detector does with it (match.c): a window is an event of the
 * device when it holds a pattern that is not traffic between the events,
 * and its label is sure when, for each other event's signature, it holds
 * a pattern that signature does not meet (one, or several together); a
 * signature one of whose rivals meets every one of its patterns is
 * reported as not distinctive: its labels are ambiguous.  The profile is
 * not concerned: a shared pattern is still traffic the device needs.
 */
#include "detect/detect.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static bool suffix_of(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !memcmp(s + a - b, suffix, b);
}

static bool prefix_of(const char *s, const char *prefix, size_t n)
{
	return strlen(s) >= n && !memcmp(s, prefix, n);
}

/* Whether pattern value a ("x", or "pre*suf") takes plain value v. */
static bool takes(const char *a, const char *v)
{
	const char *star = strchr(a, '*');
	size_t pre, suf, n = strlen(v);

	if (!star)
		return !strcmp(a, v);
	pre = (size_t)(star - a);
	suf = strlen(star + 1);
	return n >= pre + suf && !memcmp(v, a, pre) && suffix_of(v, star + 1);
}

/* Whether two pattern values could both take one flow value. */
static bool values_meet(const char *a, const char *b)
{
	const char *sa = strchr(a, '*'), *sb = strchr(b, '*');
	size_t pa, pb;

	if (!sb)
		return takes(a, b);
	if (!sa)
		return takes(b, a);
	pa = (size_t)(sa - a);
	pb = (size_t)(sb - b);
	/* pre*suf against pre'*suf': the prefixes agree, the suffixes agree */
	if (!(pa <= pb ? prefix_of(b, a, pa) : prefix_of(a, b, pb)))
		return false;
	return suffix_of(sa + 1, sb + 1) || suffix_of(sb + 1, sa + 1);
}

static bool lists_meet(char *const *a, uint32_t na, char *const *b, uint32_t nb)
{
	uint32_t i, j;

	for (i = 0; i < na; i++)
		for (j = 0; j < nb; j++)
			if (!strcmp(a[i], b[j]))
				return true;
	return false;
}

/* Whether a name of e is under domain suffix ".example.com" (or is it). */
static bool names_under(const struct sx_det_end *e, const char *suffix)
{
	uint32_t i;

	for (i = 0; i < e->nnames; i++)
		if (suffix_of(e->names[i], suffix) || !strcmp(e->names[i], suffix + 1))
			return true;
	return false;
}

static bool ends_meet(const struct sx_det_end *a, const struct sx_det_end *b)
{
	if (a->host == SX_DET_ANY || b->host == SX_DET_ANY)
		return true;
	if (a->host == SX_DET_SELF || b->host == SX_DET_SELF) /* or their other hosts */
		return a->host == b->host || lists_meet(a->addrs, a->naddrs, b->addrs, b->naddrs);
	if (lists_meet(a->addrs, a->naddrs, b->addrs, b->naddrs))
		return true;
	if (a->host == SX_DET_NAME && b->host == SX_DET_NAME)
		return lists_meet(a->names, a->nnames, b->names, b->nnames);
	if (a->host == SX_DET_DOMAIN && a->nnames && b->host != SX_DET_ADDRS)
		return names_under(b, a->names[0]);
	if (b->host == SX_DET_DOMAIN && b->nnames && a->host != SX_DET_ADDRS)
		return names_under(a, b->names[0]);
	return false;
}

/* For every attribute key both patterns have, values that meet. */
static bool attrs_meet(const struct sx_det_pattern *p, const struct sx_det_pattern *q)
{
	uint32_t i, j, k;

	for (i = 0; i < p->nattrs; i++) {
		bool in_q = false, met = false;

		for (j = 0; j < q->nattrs && !met; j++) {
			if (strcmp(p->attrs[i].key, q->attrs[j].key))
				continue;
			in_q = true;
			/* any value of p's for this key against this value of q's */
			for (k = 0; k < p->nattrs && !met; k++)
				met = !strcmp(p->attrs[k].key, p->attrs[i].key) &&
				      values_meet(p->attrs[k].value, q->attrs[j].value);
		}
		if (in_q && !met)
			return false;
	}
	return true;
}

static bool ranges_meet(const struct sx_det_range *a, const struct sx_det_range *b, double slack)
{
	double alo = floor((double)a->min * (1 - slack) + 0.5);
	double ahi = floor((double)a->max * (1 + slack) + 0.5);
	double blo = floor((double)b->min * (1 - slack) + 0.5);
	double bhi = floor((double)b->max * (1 + slack) + 0.5);

	return alo <= bhi && blo <= ahi;
}

/* p's fixed payload lengths against what q's members had. */
static bool lengths_meet(const struct sx_det_pattern *p, const struct sx_det_pattern *q)
{
	uint32_t k;

	for (k = 0; k < p->seq_all && k < p->seq_n; k++) {
		if (p->seq_min[k] != p->seq_max[k])
			continue; /* varying: the matcher tolerates a few misses */
		if (k >= q->seq_n)
			return q->seq_n >= SX_FLOW_SEQ_MAX; /* q's never got this far */
		if (p->seq_min[k] < q->seq_min[k] || p->seq_min[k] > q->seq_max[k])
			return false;
	}
	return true;
}

bool sx_det_patterns_meet(const struct sx_det_pattern *p, const struct sx_det_pattern *q,
			  double slack)
{
	unsigned r;

	if (p->arp != q->arp || p->arp_op != q->arp_op || (!p->arp && p->ip_proto != q->ip_proto))
		return false;
	if (p->fixed_end != q->fixed_end || (p->fixed_end < 2 && p->fixed_port != q->fixed_port))
		return false;
	for (r = 0; r < 2; r++)
		if (!ends_meet(&p->end[r], &q->end[r]))
			return false;
	if (!attrs_meet(p, q))
		return false;
	for (r = 0; r < 2; r++)
		if (!ranges_meet(&p->pkts[r], &q->pkts[r], slack) ||
		    !ranges_meet(&p->bytes[r], &q->bytes[r], slack))
			return false;
	return lengths_meet(p, q);
}

bool sx_det_rivals(const struct sx_det_sig *a, const struct sx_det_sig *b, const char *device)
{
	if (!device && strcmp(a->device, b->device))
		return false;
	return !sx_det_label_is(a->label, b->label);
}

int sx_det_contrast(const struct sx_det_sig *const *sigs, uint32_t nsigs, const char *device,
		    double slack, struct sx_det_contrast *out)
{
	uint32_t s, t, i, j, total = 0;

	memset(out, 0, sizeof(*out));
	for (s = 0; s < nsigs; s++)
		total += sigs[s]->n;
	out->nsigs = nsigs;
	out->first = calloc(nsigs ? nsigs : 1, sizeof(*out->first));
	out->ndistinct = calloc(nsigs ? nsigs : 1, sizeof(*out->ndistinct));
	out->rivals = calloc(nsigs ? nsigs : 1, sizeof(*out->rivals));
	out->nevent = calloc(nsigs ? nsigs : 1, sizeof(*out->nevent));
	out->shared_with = calloc(total ? total : 1, sizeof(*out->shared_with));
	out->between = calloc(total ? total : 1, sizeof(*out->between));
	out->meets =
	    sx_calloc_array((size_t)(total ? total : 1) * (nsigs ? nsigs : 1), sizeof(*out->meets));
	if (!out->first || !out->ndistinct || !out->rivals || !out->nevent || !out->shared_with ||
	    !out->between || !out->meets) {
		sx_det_contrast_free(out);
		return -ENOMEM;
	}
	for (s = 0, total = 0; s < nsigs; total += sigs[s]->n, s++)
		out->first[s] = total;
	for (s = 0; s < nsigs; s++) {
		out->rivals[s] = sigs[s]->nbetween > 0;
		for (t = 0; t < nsigs; t++)
			out->rivals[s] += t != s && sx_det_rivals(sigs[s], sigs[t], device);
	}
	for (s = 0; s < nsigs; s++) {
		const struct sx_det_sig *a = sigs[s];

		for (i = 0; i < a->n; i++) {
			uint32_t *w = &out->shared_with[out->first[s] + i];
			bool *b = &out->between[out->first[s] + i];

			/* the device's traffic between the events */
			for (j = 0; j < a->nbetween && !*b; j++)
				*b = sx_det_patterns_meet(&a->p[i], &a->between[j], slack);
			out->nevent[s] += !*b;
			uint8_t *mt = &out->meets[(size_t)(out->first[s] + i) * nsigs];

			for (t = 0; t < nsigs; t++) {
				if (t == s || !sx_det_rivals(a, sigs[t], device))
					continue;
				for (j = 0; j < sigs[t]->n && !mt[t]; j++)
					mt[t] =
					    sx_det_patterns_meet(&a->p[i], &sigs[t]->p[j], slack);
				if (mt[t] && !*w)
					*w = t + 1;
			}
			if (!*w && *b)
				*w = s + 1;
			out->ndistinct[s] += !*w;
		}
	}
	return 0;
}

void sx_det_contrast_free(struct sx_det_contrast *c)
{
	free(c->first);
	free(c->ndistinct);
	free(c->rivals);
	free(c->nevent);
	free(c->shared_with);
	free(c->between);
	free(c->meets);
	memset(c, 0, sizeof(*c));
}
