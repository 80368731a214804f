/*
 * run.c - sx_verify_run(): captures through fresh firewalls, on a pool of
 * threads, into one result.
 *
 * DESIGN
 *
 * Each capture is replayed by one thread through its own firewall, reset
 * before the capture: captures are independent sessions, so the result is
 * the same for any number of threads.  A thread takes the next capture
 * index from an atomic counter and writes only that capture's record; the
 * records are merged in capture order after the join, so the first example
 * of each denied kind is the earliest one in argument order.
 *
 * When the device's MAC is not known (not in the profile, no --mac), a first
 * pass over the capture learns it from the first Ethernet frame sent from the
 * device's IPv4 (or IPv6) address.
 *
 * Denied traffic is grouped by kind: transport, service port (the lower of
 * the two ports), peer (the end that is not the device) and application
 * value (ingest's summary: DNS question, HTTP request, DHCP type...; the SNI
 * for TLS).  Kinds are kept in a per-capture open-addressing table, keyed by
 * a hash of the four texts.
 */
#include "verify/verify_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "ingest/ingest.h"
#include "verify/run_int.h"

/* ---- kinds ---- */

static uint64_t kind_hash(const char *const s[4])
{
	uint64_t h = 0;

	for (int i = 0; i < 4; i++)
		h = XXH3_64bits_withSeed(s[i], strlen(s[i]), h + (uint64_t)i);
	return h;
}

/* The kind of these four texts, added when new.  Index or -ENOMEM. */
int sx_verify__kind_get(struct vx_kinds *t, const char *const s[4], bool *created)
{
	uint64_t hash = kind_hash(s);
	size_t pos = SX_MAP_START;
	struct vx_kind *k;
	int32_t *idx;

	*created = false;
	if (!t->map.esize)
		sx_map_init(&t->map, sizeof(int32_t), 64, 50);
	if (sx_map_reserve(&t->map, t->n + 1))
		return -ENOMEM;
	while ((idx = sx_map_next(&t->map, hash, &pos))) {
		k = &t->v[*idx];
		if (!strcmp(k->s[0], s[0]) && !strcmp(k->s[1], s[1]) && !strcmp(k->s[2], s[2]) &&
		    !strcmp(k->s[3], s[3]))
			return *idx;
	}
	if (t->n == t->vcap) {
		size_t cap = t->vcap ? t->vcap * 2 : 32;
		struct vx_kind *v = sx_realloc_array(t->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->v = v;
		t->vcap = cap;
	}
	k = &t->v[t->n];
	memset(k, 0, sizeof(*k));
	k->hash = hash;
	for (int i = 0; i < 4; i++) {
		k->s[i] = strdup(s[i]);
		if (!k->s[i]) {
			while (i-- > 0)
				free(k->s[i]);
			return -ENOMEM;
		}
	}
	*(int32_t *)sx_map_add(&t->map, hash, pos) = (int32_t)t->n;
	*created = true;
	return (int)t->n++;
}

void sx_verify__kinds_fini(struct vx_kinds *t)
{
	for (size_t i = 0; i < t->n; i++)
		for (int k = 0; k < 4; k++)
			free(t->v[i].s[k]);
	free(t->v);
	sx_map_fini(&t->map);
	memset(t, 0, sizeof(*t));
}

/* The four texts of a denied packet. */
static void kind_of(const struct sx_pkt *pkt, bool from_dev, char tr[16], char port[16],
		    char peer[64], char app[SX_NAME_MAX + 32])
{
	const struct sx_addr *other = from_dev ? &pkt->dst : &pkt->src;

	port[0] = peer[0] = app[0] = '\0';
	if (pkt->src.family) {
		char name[16];

		snprintf(tr, 16, "%s", sx_ip_proto_name(pkt->ip_proto, name, sizeof(name)));
		if ((pkt->ip_proto == 6 || pkt->ip_proto == 17) && !pkt->frag_later)
			snprintf(port, 16, "%u", pkt->sport < pkt->dport ? pkt->sport : pkt->dport);
		else if (pkt->proto == SX_P_ICMP || pkt->proto == SX_P_ICMPV6)
			snprintf(port, 16, "type %u", pkt->app.icmp.type);
		sx_addr_str(other, peer, 64);
	} else {
		snprintf(tr, 16, "%s", sx_proto_name((enum sx_proto)pkt->proto));
		if (pkt->has_arp) {
			const uint8_t *a = from_dev ? pkt->arp_tpa : pkt->arp_spa;

			snprintf(peer, 64, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
			snprintf(app, 32, "%s", pkt->arp_op == 1 ? "request" : "reply");
			return;
		}
	}
	if (pkt->proto == SX_P_TLS)
		snprintf(app, SX_NAME_MAX + 32, "%s%s", pkt->app.tls.sni[0] ? "SNI " : "",
			 pkt->app.tls.sni);
	else if (pkt->proto > SX_P_IGMP)
		sx_pkt_summary(pkt, app, SX_NAME_MAX + 32);
}

/* ---- one capture ---- */

struct worker {
	const struct sx_verify_profile *p;
	const struct sx_verify_cfg *cfg;
	struct sx_verify_result *r;
	atomic_uint *next;
	struct sx_verify_fw *fw;
	int err;
};

static int learn_mac(struct worker *w, const char *path, struct vx_file *fr)
{
	const struct sx_verify_profile *p = w->p;
	struct sx_capture *cap;
	struct sx_pkt pkt;
	char msg[256];
	int ret;

	if (sx_capture_open(path, w->cfg->filter, &cap, msg, sizeof(msg)))
		return 0; /* reported by the replay's own open */
	while ((ret = sx_capture_next(cap, &pkt)) == 1) {
		bool v4 = p->has_ipv4 && pkt.src.family == 4 && !memcmp(pkt.src.b, p->ipv4.b, 4);
		bool v6 = p->has_ipv6 && pkt.src.family == 6 && !memcmp(pkt.src.b, p->ipv6.b, 16);

		if (pkt.has_mac && (v4 || v6)) {
			sx_verify_fw_set_mac(w->fw, pkt.mac_src);
			memcpy(fr->mac, pkt.mac_src, 6);
			fr->mac_learnt = true;
			break;
		}
	}
	sx_capture_close(cap);
	return 0;
}

static int replay(struct worker *w, uint32_t fi)
{
	struct vx_file *fr = &w->r->files[fi];
	const char *path = w->cfg->paths[fi];
	struct sx_capture *cap;
	struct sx_pkt pkt;
	size_t nslots;
	int ret;

	sx_verify_fw_reset(w->fw);
	sx_verify_fw_set_stateless(w->fw, w->cfg->stateless);
	if (!sx_verify_fw_has_mac(w->fw))
		learn_mac(w, path, fr);
	ret = sx_capture_open(path, w->cfg->filter, &cap, fr->msg, sizeof(fr->msg));
	if (ret) {
		fr->err = ret;
		return 0;
	}
	fr->opened = true;
	while ((ret = sx_capture_next(cap, &pkt)) == 1) {
		struct sx_verify_verdict v;
		struct vx_flow *f;

		pkt.file = fi;
		ret = sx_verify_fw_packet(w->fw, &pkt, &v);
		if (ret)
			break;
		if (v.why == SX_VERIFY_NOT_DEVICE)
			continue;
		fr->packets++;
		fr->by_why[v.why]++;
		if (v.why == SX_VERIFY_ACCEPT) {
			fr->allowed++;
			if (v.policy >= 0)
				fr->hits[v.policy]++;
			continue;
		}
		{
			char tr[16], port[16], peer[64], app[SX_NAME_MAX + 32];
			const char *s[4] = {tr, port, peer, app};
			bool created;
			int k;

			kind_of(&pkt, v.from_dev, tr, port, peer, app);
			k = sx_verify__kind_get(&fr->kinds, s, &created);
			if (k < 0) {
				ret = k;
				break;
			}
			if (created) {
				fr->kinds.v[k].ex_file = fi;
				fr->kinds.v[k].ex_sec = pkt.ts_sec;
				fr->kinds.v[k].ex_nsec = pkt.ts_nsec;
			}
			fr->kinds.v[k].packets++;
			f = sx_verify__fw_last_flow(w->fw);
			if (f && f->kind < 0) {
				f->kind = k;
				fr->kinds.v[k].flows++;
			}
		}
		if (sx_stop_requested()) {
			ret = SX_E_STOPPED;
			break;
		}
	}
	if (ret < 0 && ret != -ENOMEM && ret != SX_E_STOPPED) {
		fr->err = ret;
		snprintf(fr->msg, sizeof(fr->msg), "%s", sx_capture_error(cap));
		ret = 0;
	}
	sx_capture_close(cap);
	nslots = sx_verify__fw_nslots(w->fw);
	for (size_t i = 0; i < nslots; i++) {
		const struct vx_flow *f = sx_verify__fw_flow_at(w->fw, i);

		if (!f)
			continue;
		fr->flows++;
		if (!f->denied)
			fr->flows_allowed++;
	}
	return ret < 0 ? ret : 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint32_t fi;

	while (!w->err && (fi = atomic_fetch_add(w->next, 1)) < w->cfg->npaths) {
		w->err = replay(w, fi);
		if (sx_stop_requested() && !w->err)
			w->err = SX_E_STOPPED;
	}
	return NULL;
}

/* ---- merge ---- */

static int cmp_kind(const void *a, const void *b)
{
	const struct vx_kind *x = a, *y = b;

	if (x->packets != y->packets)
		return x->packets > y->packets ? -1 : 1;
	if (x->ex_file != y->ex_file)
		return x->ex_file < y->ex_file ? -1 : 1;
	for (int i = 0; i < 4; i++) {
		int c = strcmp(x->s[i], y->s[i]);

		if (c)
			return c;
	}
	return 0;
}

static int merge(struct sx_verify_result *r)
{
	for (uint32_t fi = 0; fi < r->npaths; fi++) {
		struct vx_file *fr = &r->files[fi];

		r->packets += fr->packets;
		r->allowed += fr->allowed;
		r->flows += fr->flows;
		r->flows_allowed += fr->flows_allowed;
		for (int i = 0; i < 5; i++)
			r->by_why[i] += fr->by_why[i];
		for (size_t i = 0; i < r->npol; i++)
			r->hits[i] += fr->hits[i];
		if (!fr->opened || fr->err)
			r->bad++;
		for (size_t i = 0; i < fr->kinds.n; i++) {
			const struct vx_kind *k = &fr->kinds.v[i];
			const char *s[4] = {k->s[0], k->s[1], k->s[2], k->s[3]};
			bool created;
			int m = sx_verify__kind_get(&r->kinds, s, &created);

			if (m < 0)
				return m;
			if (created) {
				r->kinds.v[m].ex_file = k->ex_file;
				r->kinds.v[m].ex_sec = k->ex_sec;
				r->kinds.v[m].ex_nsec = k->ex_nsec;
			}
			r->kinds.v[m].packets += k->packets;
			r->kinds.v[m].flows += k->flows;
		}
	}
	/* sorted for the report; the hash slots are no longer used */
	if (r->kinds.n)
		qsort(r->kinds.v, r->kinds.n, sizeof(*r->kinds.v), cmp_kind);
	return 0;
}

int sx_verify_run(const struct sx_verify_profile *p, const struct sx_verify_cfg *cfg,
		  struct sx_verify_result **out)
{
	struct sx_verify_result *r;
	struct worker *w = NULL;
	pthread_t *tids = NULL;
	atomic_uint next = 0;
	unsigned n = cfg->nthreads ? cfg->nthreads : sx_nproc(), started = 0;
	int ret = 0;

	*out = NULL;
	if (n > cfg->npaths)
		n = cfg->npaths ? cfg->npaths : 1;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->p = p;
	r->paths = cfg->paths;
	r->npaths = cfg->npaths;
	r->npol = p->npol;
	r->stateless = cfg->stateless;
	r->hits = sx_calloc_array(p->npol ? p->npol : 1, sizeof(*r->hits));
	r->files = sx_calloc_array(cfg->npaths ? cfg->npaths : 1, sizeof(*r->files));
	w = sx_calloc_array(n, sizeof(*w));
	tids = sx_calloc_array(n, sizeof(*tids));
	if (!r->hits || !r->files || !w || !tids) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (uint32_t i = 0; i < cfg->npaths; i++) {
		r->files[i].hits = sx_calloc_array(p->npol ? p->npol : 1, sizeof(uint64_t));
		if (!r->files[i].hits) {
			ret = -ENOMEM;
			goto out_free;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		w[i] = (struct worker){.p = p, .cfg = cfg, .r = r, .next = &next};
		ret = sx_verify_fw_new(p, &w[i].fw);
		if (ret)
			goto out_join;
		ret = -pthread_create(&tids[i], NULL, worker_main, &w[i]);
		if (ret) {
			sx_verify_fw_free(w[i].fw);
			w[i].fw = NULL;
			goto out_join;
		}
		started++;
	}
out_join:
	if (ret)
		atomic_store(&next, cfg->npaths); /* the started ones stop early */
	for (unsigned i = 0; i < started; i++) {
		pthread_join(tids[i], NULL);
		if (!ret && w[i].err)
			ret = w[i].err;
	}
	for (unsigned i = 0; i < n; i++)
		sx_verify_fw_free(w[i].fw);
	if (!ret)
		ret = merge(r);
	for (uint32_t i = 0; !ret && i < cfg->npaths; i++) {
		const struct vx_file *fr = &r->files[i];

		if (!fr->opened || fr->err)
			sx_log(SX_LOG_ERROR, "%s: %s", cfg->paths[i],
			       fr->msg[0] ? fr->msg : "unreadable");
	}
out_free:
	free(tids);
	free(w);
	if (ret) {
		sx_verify_result_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

void sx_verify_result_free(struct sx_verify_result *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; r->files && i < r->npaths; i++) {
		free(r->files[i].hits);
		sx_verify__kinds_fini(&r->files[i].kinds);
	}
	sx_verify__kinds_fini(&r->kinds);
	free(r->files);
	free(r->hits);
	free(r);
}

static double pct(uint64_t a, uint64_t n)
{
	return n ? 100.0 * (double)a / (double)n : 100.0;
}

void sx_verify_result_summary(const struct sx_verify_result *r, struct sx_verify_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->packets = r->packets;
	s->packets_allowed = r->allowed;
	s->flows = r->flows;
	s->flows_allowed = r->flows_allowed;
	s->packets_pct = pct(r->allowed, r->packets);
	s->flows_pct = pct(r->flows_allowed, r->flows);
	s->captures = r->npaths;
	s->captures_bad = r->bad;
	s->policies = r->npol;
	for (size_t i = 0; i < r->npol; i++)
		s->policies_hit += r->hits[i] > 0;
	s->denied_kinds = r->kinds.n;
}

bool sx_verify_result_denied(const struct sx_verify_result *r, size_t i, struct sx_verify_kind *k)
{
	const struct vx_kind *v;

	if (i >= r->kinds.n)
		return false;
	v = &r->kinds.v[i];
	k->transport = v->s[0];
	k->port = v->s[1];
	k->peer = v->s[2];
	k->app = v->s[3];
	k->packets = v->packets;
	k->flows = v->flows;
	k->example_capture = r->paths[v->ex_file];
	k->example_sec = v->ex_sec;
	k->example_nsec = v->ex_nsec;
	return true;
}
