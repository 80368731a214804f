/*
 * upstream_profile.c - profile.yaml of `--mode upstream` (see upstream.h).
 *
 * The document is the reference's dict, keys sorted as yaml.dump() sorts
 * them (code point order, i.e. strcmp on UTF-8):
 *
 *   device-info:            {ipv4, last-update, name}
 *   single-policies:        {<id>: {bidirectional: true,
 *                                   protocols: {dns: {domain-name, qtype},
 *                                               ipv4: {dst, src},
 *                                               tcp|udp: {dst-port|src-port: N}}}}
 *
 * An empty policy set is "single-policies: {}", as PyYAML writes an empty
 * dict.  The yaml module's writer in its PyYAML layout (80-column folding
 * of plain scalars, libyaml's choice of collection style) writes it; a str
 * is plain only where PyYAML's resolver reads it back as one
 * (sx_yw_py_str()), an int or a bool is plain and implicitly typed.
 */
#include "upstream/upstream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/outfile.h"
#include "yaml/ydoc.h"

/* ---- emitter ---- */

static void map_begin(struct sx_yw *w)
{
	sx_yw_map_begin_style(w, SX_YSTYLE_ANY);
}

/* A str, as PyYAML represents it. */
static void str(struct sx_yw *w, const char *s)
{
	sx_yw_py_str(w, s);
}

/* An int or a bool: plain, implicitly typed. */
static void typed(struct sx_yw *w, const char *s)
{
	sx_yw_scalar(w, s, strlen(s), SX_YSTYLE_ANY, SX_YW_PLAIN_IMPLICIT);
}

static void kv(struct sx_yw *w, const char *k, const char *v)
{
	str(w, k);
	str(w, v);
}

void sx_upstream_last_update(char *buf, size_t bufsz, time_t t, bool utc)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	int h12;

	if (!(utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm))) {
		snprintf(buf, bufsz, "?");
		return;
	}
	h12 = tm.tm_hour % 12 ? tm.tm_hour % 12 : 12;
	snprintf(buf, bufsz, "%s %02d %s %d, %02d:%02d%s", days[tm.tm_wday % 7], tm.tm_mday,
		 months[tm.tm_mon % 12], tm.tm_year + 1900, h12, tm.tm_min,
		 tm.tm_hour < 12 ? "AM" : "PM");
}

static void policy(struct sx_yw *w, const struct sx_up_policy *p)
{
	char num[16];

	str(w, p->id);
	map_begin(w);
	str(w, "bidirectional");
	typed(w, "true");
	str(w, "protocols");
	map_begin(w);
	if (p->dns) {
		str(w, "dns");
		map_begin(w);
		kv(w, "domain-name", p->domain);
		kv(w, "qtype", p->qtype);
		sx_yw_map_end(w);
	}
	str(w, "ipv4");
	map_begin(w);
	kv(w, "dst", p->dst);
	kv(w, "src", p->src);
	sx_yw_map_end(w);
	if (p->l4) {
		str(w, p->l4);
		map_begin(w);
		str(w, p->port_key);
		snprintf(num, sizeof(num), "%u", p->port);
		typed(w, num);
		sx_yw_map_end(w);
	}
	sx_yw_map_end(w);
	sx_yw_map_end(w);
}

int sx_upstream_profile(const struct sx_upstream_result *r, const char *device,
			const char *last_update, FILE *f, char *msg, size_t msglen)
{
	const struct sx_up_policy **order;
	char now[64];
	struct sx_yw w;
	size_t i, j;

	order = calloc(r->npolicies ? r->npolicies : 1, sizeof(*order));
	if (!order) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	/* insertion sort by id (strcmp = code point order for UTF-8) */
	for (i = 0; i < r->npolicies; i++) {
		for (j = i; j > 0 && strcmp(order[j - 1]->id, r->policies[i].id) > 0; j--)
			order[j] = order[j - 1];
		order[j] = &r->policies[i];
	}
	if (!last_update) {
		sx_upstream_last_update(now, sizeof(now), time(NULL), false);
		last_update = now;
	}
	sx_yw_open(&w, f, SX_YW_PYYAML);
	map_begin(&w);
	str(&w, "device-info");
	map_begin(&w);
	kv(&w, "ipv4", r->ipv4);
	kv(&w, "last-update", last_update);
	kv(&w, "name", device);
	sx_yw_map_end(&w);
	str(&w, "single-policies");
	map_begin(&w);
	for (i = 0; i < r->npolicies; i++)
		policy(&w, order[i]);
	sx_yw_map_end(&w);
	sx_yw_map_end(&w);
	sx_yw_close(&w);
	free(order);
	if (w.err)
		snprintf(msg, msglen, "profile.yaml: %s", w.problem);
	return w.err;
}

int sx_upstream_profile_file(const struct sx_upstream_result *r, const char *device,
			     const char *last_update, const char *path, char *msg, size_t msglen)
{
	struct sx_out o;
	int ret;

	ret = sx_out_open(&o, path, msg, msglen);
	if (ret)
		return ret;
	ret = sx_upstream_profile(r, device, last_update, o.f, msg, msglen);
	if (ret) {
		sx_out_abort(&o);
		return ret;
	}
	return sx_out_commit(&o, msg, msglen);
}
