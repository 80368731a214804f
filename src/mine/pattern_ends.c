/*
 * pattern_ends.c - the two ends of a pattern: addresses, names or their
 * common suffix, MACs and the fixed port (rules in patterns.c's design).
 */
#include "mine/patterns_int.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "ingest/ingest.h"

/* ---- ends ---- */

int sx_mine__addr_qcmp(const void *a, const void *b)
{
	return sx_addr_cmp(a, b);
}

static int port_cmp(const void *a, const void *b)
{
	const struct sx_mine_port *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->port < y->port ? -1 : x->port > y->port;
}

static int u16_cmp(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;

	return x < y ? -1 : x > y;
}

/* Eight bytes read as a big-endian number: their memcmp() order. */
static inline uint64_t be64(const uint8_t *p)
{
	return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
	       (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
	       (uint64_t)p[6] << 8 | p[7];
}

/* sx_addr_cmp()'s order (family, then bytes), inlined: -1, 0 or 1. */
static inline int addr_order(const struct sx_addr *x, const struct sx_addr *y)
{
	uint64_t a, b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	a = be64(x->b);
	b = be64(y->b);
	if (a == b) {
		a = be64(x->b + 8);
		b = be64(y->b + 8);
	}
	return a < b ? -1 : a > b;
}

static inline bool addr_before(const struct sx_addr *x, const struct sx_addr *y)
{
	return addr_order(x, y) < 0;
}

SX_MINE_SORT_DEFINE(addr_sort, struct sx_addr, addr_before, sx_mine__addr_qcmp)

void sx_mine__sort_addrs(struct sx_addr *a, size_t n)
{
	addr_sort(a, n);
}

static int addr_n_qcmp(const void *x, const void *y)
{
	return sx_addr_cmp(&((const struct sx_mine_addr_n *)x)->a,
			   &((const struct sx_mine_addr_n *)y)->a);
}

static inline bool addr_n_before(const struct sx_mine_addr_n *x, const struct sx_mine_addr_n *y)
{
	return addr_order(&x->a, &y->a) < 0;
}

SX_MINE_SORT_DEFINE(addr_n_sort, struct sx_mine_addr_n, addr_n_before, addr_n_qcmp)

uint32_t sx_mine__merge_addr_runs(struct sx_mine_addr_n *ac, uint32_t n)
{
	uint32_t i, na = 0;

	addr_n_sort(ac, n);
	for (i = 0; i < n; i++) {
		if (na && !sx_addr_cmp(&ac[na - 1].a, &ac[i].a))
			ac[na - 1].n += ac[i].n;
		else
			ac[na++] = ac[i];
	}
	return na;
}

void sx_mine__addr_run(struct sx_mine_addr_n *ac, uint32_t *n, uint32_t *last,
		       const struct sx_addr *a)
{
	if (*n && *last < *n && !sx_addr_cmp(&ac[*last].a, a)) {
		ac[*last].n++;
		return;
	}
	ac[*n].a = *a;
	ac[*n].n = 1;
	*last = (*n)++;
}

static inline bool u16_before(const uint16_t *x, const uint16_t *y)
{
	return *x < *y;
}

SX_MINE_SORT_DEFINE(u16_sort, uint16_t, u16_before, u16_cmp)

/* Longest common label suffix of names[0..n) if it holds every name's
 * registrable domain, else NULL.  Written into out. */
const char *sx_mine__names_suffix(const char *const *names, uint32_t n, char *out, size_t outsz)
{
	const char *suf;
	size_t len;
	uint32_t i;

	if (!n)
		return NULL;
	snprintf(out, outsz, "%s", names[0]);
	for (i = 1; i < n; i++) {
		suf = sx_mine__common_suffix(out, names[i]);
		memmove(out, suf, strlen(suf) + 1);
	}
	len = strlen(out);
	if (!len)
		return NULL;
	for (i = 0; i < n; i++)
		if (strlen(sx_mine__reg_domain(names[i])) > len)
			return NULL;
	return out;
}

static int u64_cmp(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;

	return a < b ? -1 : a > b;
}

static inline bool u64_before(const uint64_t *x, const uint64_t *y)
{
	return *x < *y;
}

SX_MINE_SORT_DEFINE(u64_sort, uint64_t, u64_before, u64_cmp)

/* The MAC most of the cluster's flows came from at this end (ties: the
 * lower), zero when none carried one. */
static int modal_mac(struct ctx *cx, const struct clu *c, unsigned role, uint8_t mac[6])
{
	uint64_t *v = sx_mine__alloc_array(cx->ra, c->n, sizeof(*v)), best = 0;
	uint32_t i, n = 0, run = 0, best_run = 0;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < c->n; i++) {
		uint64_t m = sx_mac_pack(cx->in->flows[c->mem[i]]->ep[role].mac);

		if (m)
			v[n++] = m;
	}
	u64_sort(v, n);
	for (i = 0; i < n; i++) {
		run = i && v[i - 1] == v[i] ? run + 1 : 1;
		if (run > best_run) {
			best_run = run;
			best = v[i];
		}
	}
	sx_mac_unpack(best, mac);
	return 0;
}

/*
 * The addresses of the n member flows, as runs ac[0..nr) of equal ones in
 * their order (members of a pattern mostly repeat their ends): the most
 * used (ties: the lower) into e, then the distinct addresses, sorted,
 * into addrs; returns how many.  ac is sorted in place.
 */
static uint32_t modal_and_distinct(struct sx_mine_addr_n *ac, uint32_t nr, uint32_t n,
				   struct sx_addr *addrs, struct sx_mine_end *e)
{
	uint32_t i, na, best = 0;

	na = sx_mine__merge_addr_runs(ac, nr);
	for (i = 0; i < na; i++) {
		if (ac[i].n > best) {
			best = ac[i].n;
			e->modal = ac[i].a;
		}
		addrs[i] = ac[i].a;
	}
	e->modal_share2 = best * 2 >= n;
	return na;
}

/* Sort and deduplicate names[0..n), copied into the result's arena.
 * Returns how many, or -ENOMEM. */
static long distinct_names(struct ctx *cx, const char **names, uint32_t n)
{
	uint32_t i, j;

	qsort(names, n, sizeof(*names), sx_str_qcmp);
	for (i = 0, j = 0; i < n; i++)
		if (!j || strcmp(names[j - 1], names[i]))
			names[j++] = names[i];
	for (i = 0; i < j; i++) {
		names[i] = sx_mine__strdup(cx->ra, names[i]);
		if (!names[i])
			return -ENOMEM;
	}
	return j;
}

/* Each distinct port of ports[0..n) with its count, in port_cmp order. */
static uint32_t port_counts(uint16_t *ports, uint32_t n, struct sx_mine_port *pc)
{
	uint32_t i, np = 0;

	u16_sort(ports, n);
	for (i = 0; i < n; i++) {
		if (np && pc[np - 1].port == ports[i]) {
			pc[np - 1].count++;
		} else {
			pc[np].port = ports[i];
			pc[np++].count = 1;
		}
	}
	qsort(pc, np, sizeof(*pc), port_cmp);
	return np;
}

/* The end's host: its one name, a domain (*.suffix) when the names share
 * one, else its addresses; and the text shown for it. */
static void end_host(struct sx_mine_end *e, uint32_t named, uint32_t n)
{
	char suffix[SX_NAME_MAX];
	size_t len = 0;
	uint32_t i;
	char a[64];

	e->kind = SX_MINE_HOST_ADDRS;
	if (named * 2 >= n && e->nnames == 1) {
		e->kind = SX_MINE_HOST_NAME;
		snprintf(e->name, sizeof(e->name), "%s", e->names[0]);
	} else if (named * 2 >= n && e->nnames > 1 &&
		   sx_mine__names_suffix(e->names, e->nnames, suffix, sizeof(suffix))) {
		if (sx_mine__cat3(e->name, sizeof(e->name), "", 0, "*.", suffix))
			e->kind = SX_MINE_HOST_DOMAIN;
	}
	if (e->kind != SX_MINE_HOST_ADDRS) {
		snprintf(e->shown, sizeof(e->shown), "%s", e->name);
		return;
	}
	for (i = 0; i < e->naddrs; i++) {
		int w;

		sx_addr_str(&e->addrs[i], a, sizeof(a));
		/* keep room for ",+N more" */
		if (len + strlen(a) + 1 + 16 >= sizeof(e->shown)) {
			snprintf(e->shown + len, sizeof(e->shown) - len, ",+%" PRIu32,
				 e->naddrs - i);
			break;
		}
		w = snprintf(e->shown + len, sizeof(e->shown) - len, "%s%s", i ? "," : "", a);
		len += (size_t)w;
	}
}

/*
 * One end (role 0 or 1) of cluster c's pattern: its addresses (the modal
 * one, the distinct ones, their scope), names, ports, whether it is the
 * focal device, its local name, and the host shown for it.
 */
int sx_mine__build_end(struct ctx *cx, const struct clu *c, unsigned role, struct sx_mine_end *e,
		       bool has_ports)
{
	const struct sx_mine_input *in = cx->in;
	struct sx_addr *addrs;
	struct sx_mine_addr_n *ac;
	const char **names, *local = NULL;
	uint16_t *ports;
	struct sx_mine_port *pc;
	uint32_t i, nn = 0, nr = 0, last = 0, named = 0, nfocal = 0;
	bool local_same = true;
	enum sx_mine_scope scope;
	long ret;

	addrs = sx_mine__alloc_array(cx->ra, c->n, sizeof(*addrs));
	names = sx_mine__alloc_array(cx->ra, c->n, sizeof(*names));
	ports = sx_mine__alloc_array(cx->ra, c->n, sizeof(*ports));
	pc = sx_mine__alloc_array(cx->ra, c->n, sizeof(*pc));
	ac = sx_calloc_array(c->n + 1, sizeof(*ac));
	if (!addrs || !names || !ports || !pc || !ac) {
		free(ac);
		return -ENOMEM;
	}
	for (i = 0; i < c->n; i++) {
		const struct sx_mine_ep *ep = &in->flows[c->mem[i]]->ep[role];

		sx_mine__addr_run(ac, &nr, &last, &ep->addr);
		if (ep->named) {
			/* interned: a run of one name is one name */
			if (!nn || names[nn - 1] != ep->host)
				names[nn++] = ep->host;
			named++;
		}
		if (!local)
			local = ep->local;
		else if (local != ep->local)
			local_same = false;
		ports[i] = ep->port;
		nfocal += !sx_addr_cmp(&ep->addr, &cx->focal[in->flows[c->mem[i]]->unit]);
	}
	e->focal = nfocal * 2 >= c->n;
	if (modal_mac(cx, c, role, e->mac)) {
		free(ac);
		return -ENOMEM;
	}
	e->addrs = addrs;
	e->naddrs = modal_and_distinct(ac, nr, c->n, addrs, e);
	free(ac);
	ret = distinct_names(cx, names, nn);
	if (ret < 0)
		return (int)ret;
	e->names = names;
	e->nnames = (uint32_t)ret;
	e->ports = pc;
	e->nports = has_ports ? port_counts(ports, c->n, pc) : 0;

	scope = e->naddrs ? sx_mine__addr_scope(&addrs[0]) : SX_MINE_SCOPE_UNSPECIFIED;
	for (i = 1; i < e->naddrs; i++)
		if (sx_mine__addr_scope(&addrs[i]) != scope)
			scope = SX_MINE_SCOPE_MIXED;
	e->scope = (uint8_t)scope;
	if (local_same && local && local[0])
		snprintf(e->local_name, sizeof(e->local_name), "%s", local);
	end_host(e, named, c->n);
	return 0;
}

static int pair_cmp(const void *a, const void *b)
{
	const struct sx_mine_pair *x = a, *y = b;
	int c = sx_addr_cmp(&x->addr[0], &y->addr[0]);

	return c ? c : sx_addr_cmp(&x->addr[1], &y->addr[1]);
}

static inline bool pair_before(const struct sx_mine_pair *x, const struct sx_mine_pair *y)
{
	int c = addr_order(&x->addr[0], &y->addr[0]);

	return (c ? c : addr_order(&x->addr[1], &y->addr[1])) < 0;
}

SX_MINE_SORT_DEFINE(pair_sort, struct sx_mine_pair, pair_before, pair_cmp)

/* Merge q into p when they are one pair of addresses (true: they are
 * not).  A MAC is kept only when all the pair's flows agree, in any
 * order. */
static bool pair_merge(struct sx_mine_pair *p, const struct sx_mine_pair *q)
{
	unsigned r;

	if (pair_cmp(p, q))
		return true;
	p->count += q->count;
	for (r = 0; r < 2; r++)
		if (memcmp(p->mac[r], q->mac[r], 6))
			memset(p->mac[r], 0, 6);
	return false;
}

int sx_mine__build_pairs(struct ctx *cx, const struct clu *c, struct sx_mine_pattern *p)
{
	const struct sx_mine_input *in = cx->in;
	struct sx_mine_pair *pairs = sx_mine__alloc_array(cx->ra, c->n + 1, sizeof(*pairs));
	uint32_t i, n = 0, nr;

	if (!pairs)
		return -ENOMEM;
	/* runs of one pair in member order first (members mostly repeat
	 * their ends), then the runs sorted and merged */
	for (i = 0; i < c->n; i++) {
		const struct sx_mine_flow *f = in->flows[c->mem[i]];
		struct sx_mine_pair *q = &pairs[n];

		q->addr[0] = f->ep[SX_MINE_CLIENT].addr;
		q->addr[1] = f->ep[SX_MINE_SERVER].addr;
		q->count = 1;
		memcpy(q->mac[0], f->ep[SX_MINE_CLIENT].mac, 6);
		memcpy(q->mac[1], f->ep[SX_MINE_SERVER].mac, 6);
		if (!n || pair_merge(&pairs[n - 1], q))
			n++;
	}
	pair_sort(pairs, n);
	for (i = 0, nr = n, n = 0; i < nr; i++)
		if (!n || pair_merge(&pairs[n - 1], &pairs[i]))
			pairs[n++] = pairs[i];
	p->pairs = pairs;
	p->npairs = n;
	return 0;
}
