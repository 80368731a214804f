/*
 * names.c - the run's table of names for addresses.
 *
 * What teaches a name (sx_names_learn):
 *   - a DNS response (not mDNS): every A/AAAA answer maps its address to the
 *     name that was asked, following the CNAME chain back from the record's
 *     owner to the question (RFC 1034 §3.6.2); without a matching question,
 *     to the head of the chain;
 *   - a TLS ClientHello's server_name: the server's (destination) address;
 *   - an HTTP request's Host (port removed): the server's address;
 *   - mDNS A/AAAA answers: local names, kept in a separate namespace so that
 *     a device's own ".local" name never replaces a cloud name;
 *   - a --names file: "IP NAME" lines, which always win.
 *
 * Choice when an address has several names (deterministic, independent of
 * thread timing and file order): by source (seed, DNS, SNI, HTTP), then the
 * name seen most often, then the smallest name in byte order.
 *
 * Threads: each reader thread owns a learner (an open-addressing hash set of
 * (address, source, name) with a count); sx_names_merge() appends learners
 * to the table after the join, and sx_names_finish() sorts, sums and picks.
 * After that the table is read-only and lookups are thread-safe: a hash
 * index of each pick list by address (the reduce looks up two addresses a
 * row), or a binary search of the sorted list when the index could not be
 * allocated.  Names are stored once per distinct (address, source, name)
 * learned by a thread, never per packet.
 */
#include "ingest/ingest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/err.h"
#include "core/map.h"
#include "core/text.h"
#include "core/util.h"

#define MAX_CNAME_HOPS 16

struct entry {
	struct sx_addr addr;
	uint8_t source; /* enum sx_name_source */
	uint64_t count;
	char *name; /* owned */
};

/*
 * The facts a DNS-family message taught, by the message's number
 * (pkt->app_id, app_memo.c): the slots of the entries it counted, so that
 * the same message again (mDNS announcements repeat every few seconds)
 * counts them again without decoding its names.  Valid while the map keeps
 * the capacity it had (growing moves the entries).
 */
#define LEARN_MEMO_SLOTS 16
#define LEARN_MEMO_FACTS 8

struct learn_memo {
	uint64_t id; /* 0: empty */
	size_t cap;  /* the map's capacity when recorded */
	unsigned n;
	size_t slot[LEARN_MEMO_FACTS];
};

struct sx_names_learner {
	struct sx_map map; /* of struct entry, under entry_hash() */
	struct learn_memo memo[LEARN_MEMO_SLOTS];
};

struct pick {
	struct sx_addr addr;
	const char *name; /* points into the entries */
};

struct sx_names {
	struct entry *ents;
	size_t n, cap;
	struct pick *cloud, *local;
	size_t ncloud, nlocal;
	/* after finish: each list's index (size_t positions, by addr_hash());
	 * empty when out of memory */
	struct sx_map cloud_ix, local_ix;
	bool finished;
};

static uint64_t entry_hash(const struct sx_addr *a, uint8_t source, const char *name)
{
	XXH3_state_t st;

	XXH3_64bits_reset(&st);
	XXH3_64bits_update(&st, a, sizeof(*a));
	XXH3_64bits_update(&st, &source, 1);
	XXH3_64bits_update(&st, name, strlen(name));
	return XXH3_64bits_digest(&st);
}

int sx_names_learner_new(struct sx_names_learner **out)
{
	struct sx_names_learner *l = calloc(1, sizeof(*l));

	*out = NULL;
	if (!l)
		return -ENOMEM;
	sx_map_init(&l->map, sizeof(struct entry), 256, 75);
	if (sx_map_reserve(&l->map, 0)) {
		free(l);
		return -ENOMEM;
	}
	*out = l;
	return 0;
}

void sx_names_learner_free(struct sx_names_learner *l)
{
	struct entry *e;
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->map.cap; i++) {
		e = sx_map_at(&l->map, i);
		if (e)
			free(e->name);
	}
	sx_map_fini(&l->map);
	free(l);
}

/* Count one (address, source, name): the slot of its entry, or SIZE_MAX
 * when an allocation failure dropped the fact. */
static size_t learn(struct sx_names_learner *l, const struct sx_addr *a, enum sx_name_source src,
		    const char *name)
{
	size_t pos = SX_MAP_START;
	struct entry *e;
	uint64_t h;
	char *copy;

	if (!a->family || !name[0])
		return SIZE_MAX;
	if (sx_map_reserve(&l->map, l->map.n + 1))
		return SIZE_MAX;
	h = entry_hash(a, (uint8_t)src, name);
	while ((e = sx_map_next(&l->map, h, &pos))) {
		if (e->source == src && sx_addr_cmp(&e->addr, a) == 0 &&
		    strcmp(e->name, name) == 0) {
			e->count++;
			return pos;
		}
	}
	copy = strdup(name);
	if (!copy)
		return SIZE_MAX;
	e = sx_map_add(&l->map, h, pos);
	e->name = copy;
	e->addr = *a;
	e->source = (uint8_t)src;
	e->count = 1;
	return pos;
}

static bool same_name(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* The name an A/AAAA record's owner was asked as: walk CNAMEs backwards. */
static const char *asked_name(const struct sx_dns *d, const char *owner)
{
	const char *cur = owner;
	int hop, i;

	for (hop = 0; hop < MAX_CNAME_HOPS; hop++) {
		const char *prev = NULL;

		for (i = 0; i < d->nq; i++)
			if (same_name(d->q[i].name, cur))
				return d->q[i].name;
		for (i = 0; i < d->nrr; i++) {
			const struct sx_dns_rr *rr = &d->rr[i];

			if (rr->section == SX_DNS_AN && rr->type == 5 && same_name(rr->data, cur)) {
				prev = rr->name;
				break;
			}
		}
		if (!prev)
			break;
		cur = prev;
	}
	return cur;
}

static void learn_dns(struct sx_names_learner *l, const struct sx_pkt *pkt)
{
	const struct sx_dns *d = &pkt->app.dns;
	bool mdns = pkt->proto == SX_P_MDNS;
	struct learn_memo *m = NULL;
	char lower[SX_NAME_MAX];
	size_t cap = l->map.cap, slots[LEARN_MEMO_FACTS], slot;
	unsigned n = 0;
	bool whole = true;
	int i;

	if (!d->qr || (!mdns && d->rcode != 0))
		return;
	if (pkt->app_id) {
		m = &l->memo[pkt->app_id % LEARN_MEMO_SLOTS];
		if (m->id == pkt->app_id && m->cap == cap) {
			for (n = 0; n < m->n; n++)
				((struct entry *)sx_map_at(&l->map, m->slot[n]))->count++;
			return;
		}
		m->id = 0;
	}
	for (i = 0; i < d->nrr; i++) {
		const struct sx_dns_rr *rr = &d->rr[i];
		const char *name;

		if ((rr->type != 1 && rr->type != 28) || !rr->addr.family)
			continue;
		if (mdns) {
			name = rr->name;
		} else {
			if (rr->section != SX_DNS_AN)
				continue;
			name = asked_name(d, rr->name);
		}
		sx_text_cat(lower, sizeof(lower), 0, name);
		sx_text_lower(lower);
		slot = learn(l, &rr->addr, mdns ? SX_NAME_MDNS : SX_NAME_DNS, lower);
		if (slot == SIZE_MAX || n == LEARN_MEMO_FACTS)
			whole = false;
		else
			slots[n++] = slot;
	}
	/* kept when every fact was counted and no entry moved meanwhile */
	if (m && whole && l->map.cap == cap) {
		m->id = pkt->app_id;
		m->cap = cap;
		m->n = n;
		memcpy(m->slot, slots, n * sizeof(slots[0]));
	}
}

void sx_names_learn(struct sx_names_learner *l, const struct sx_pkt *pkt)
{
	char host[SX_NAME_MAX];
	char *colon;

	switch (pkt->proto) {
	case SX_P_DNS:
	case SX_P_MDNS:
	case SX_P_LLMNR:
		if (pkt->proto != SX_P_LLMNR)
			learn_dns(l, pkt);
		break;
	case SX_P_TLS:
		if (pkt->app.tls.hs_type == 1 && pkt->app.tls.sni[0])
			learn(l, &pkt->dst, SX_NAME_SNI, pkt->app.tls.sni);
		break;
	case SX_P_HTTP:
		if (pkt->app.http.response || !pkt->app.http.host[0])
			break;
		sx_text_cat(host, sizeof(host), 0, pkt->app.http.host);
		/* Drop a ":port" suffix; a bracketed IPv6 literal is not a name. */
		if (host[0] == '[')
			break;
		colon = strrchr(host, ':');
		if (colon)
			*colon = '\0';
		if (inet_pton(AF_INET, host, host + sizeof(host) / 2) != 1) /* not a literal */
			learn(l, &pkt->dst, SX_NAME_HTTP, host);
		break;
	default:
		break;
	}
}

int sx_names_new(struct sx_names **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void sx_names_free(struct sx_names *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->n; i++)
		free(n->ents[i].name);
	free(n->ents);
	free(n->cloud);
	free(n->local);
	sx_map_fini(&n->cloud_ix);
	sx_map_fini(&n->local_ix);
	free(n);
}

static int table_add(struct sx_names *n, const struct sx_addr *a, uint8_t source, uint64_t count,
		     const char *name)
{
	struct entry *e;

	if (n->n == n->cap) {
		size_t ncap = n->cap ? n->cap * 2 : 64;
		struct entry *ne = sx_realloc_array(n->ents, ncap, sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		n->ents = ne;
		n->cap = ncap;
	}
	e = &n->ents[n->n];
	e->name = strdup(name);
	if (!e->name)
		return -ENOMEM;
	e->addr = *a;
	e->source = source;
	e->count = count;
	n->n++;
	n->finished = false;
	return 0;
}

int sx_names_merge(struct sx_names *n, const struct sx_names_learner *l)
{
	size_t i;
	int ret;

	for (i = 0; i < l->map.cap; i++) {
		const struct entry *e = sx_map_at(&l->map, i);

		if (!e)
			continue;
		ret = table_add(n, &e->addr, e->source, e->count, e->name);
		if (ret)
			return ret;
	}
	return 0;
}

/* Parse "IP NAME" lines; the name is escaped and lower-cased. */
int sx_names_load(struct sx_names *n, const char *path, char *msg, size_t msglen)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	unsigned lineno = 0;
	int ret = 0;

	if (!f) {
		ret = -errno;
		snprintf(msg, msglen, "%s: cannot open: %s", path, strerror(errno));
		return ret;
	}
	while (fgets(line, sizeof(line), f)) {
		char ip[64], raw[512], name[SX_NAME_MAX];
		struct sx_addr a;
		int k;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(msg, msglen, "%s:%u: line too long", path, lineno);
			ret = SX_E_FORMAT;
			break;
		}
		line[strcspn(line, "#\r\n")] = '\0';
		k = sscanf(line, "%63s %511s", ip, raw);
		if (k <= 0)
			continue;
		memset(&a, 0, sizeof(a));
		if (k == 2 && inet_pton(AF_INET, ip, a.b) == 1) {
			a.family = 4;
		} else if (k == 2 && inet_pton(AF_INET6, ip, a.b) == 1) {
			a.family = 6;
		} else {
			snprintf(msg, msglen, "%s:%u: expected \"IP NAME\"", path, lineno);
			ret = SX_E_FORMAT;
			break;
		}
		sx_text_escape(name, sizeof(name), (const uint8_t *)raw, strlen(raw), NULL);
		sx_text_lower(name);
		if (name[strlen(name) - 1] == '.' && strlen(name) > 1)
			name[strlen(name) - 1] = '\0';
		ret = table_add(n, &a, SX_NAME_SEED, 1, name);
		if (ret) {
			snprintf(msg, msglen, "out of memory");
			break;
		}
	}
	fclose(f);
	return ret;
}

#define SAVED_HEADER "sigex-names 1"

int sx_names_save(const struct sx_names *n, FILE *f)
{
	char addr[64];
	size_t i;

	fprintf(f, "%s\n", SAVED_HEADER);
	for (i = 0; i < n->n; i++) {
		const struct entry *e = &n->ents[i];

		/* names are escaped text: never a newline */
		if (!e->name[0] || strchr(e->name, '\n'))
			continue;
		fprintf(f, "%s %u %" PRIu64 " %s\n", sx_addr_str(&e->addr, addr, sizeof(addr)),
			(unsigned)e->source, e->count, e->name);
	}
	return ferror(f) ? -EIO : 0;
}

int sx_names_load_saved(struct sx_names *n, const char *path, char *msg, size_t msglen)
{
	char line[SX_NAME_MAX + 128];
	unsigned lineno = 0;
	FILE *f = fopen(path, "r");
	int ret = 0;

	if (!f) {
		ret = -errno;
		snprintf(msg, msglen, "%s: cannot open: %s", path, strerror(errno));
		return ret;
	}
	while (fgets(line, sizeof(line), f)) {
		char ip[64];
		unsigned source;
		unsigned long long count;
		struct sx_addr a;
		int off = 0;

		lineno++;
		if (!strchr(line, '\n')) {
			snprintf(msg, msglen, "%s:%u: line too long or unterminated", path, lineno);
			ret = SX_E_FORMAT;
			break;
		}
		line[strcspn(line, "\n")] = '\0';
		if (lineno == 1) {
			if (strcmp(line, SAVED_HEADER) != 0) {
				snprintf(msg, msglen, "%s: not a names file (\"%s\" expected)",
					 path, SAVED_HEADER);
				ret = SX_E_FORMAT;
				break;
			}
			continue;
		}
		memset(&a, 0, sizeof(a));
		if (sscanf(line, "%63s %u %llu %n", ip, &source, &count, &off) != 3 || !off ||
		    !line[off] || source > SX_NAME_MDNS ||
		    !((inet_pton(AF_INET, ip, a.b) == 1 && (a.family = 4)) ||
		      (inet_pton(AF_INET6, ip, a.b) == 1 && (a.family = 6)))) {
			snprintf(msg, msglen, "%s:%u: expected \"ADDRESS SOURCE COUNT NAME\"", path,
				 lineno);
			ret = SX_E_FORMAT;
			break;
		}
		ret = table_add(n, &a, (uint8_t)source, count, line + off);
		if (ret) {
			snprintf(msg, msglen, "out of memory");
			break;
		}
	}
	if (!ret && ferror(f)) {
		ret = -EIO;
		snprintf(msg, msglen, "%s: read error", path);
	}
	if (!ret && !lineno) {
		snprintf(msg, msglen, "%s: empty, not a names file", path);
		ret = SX_E_FORMAT;
	}
	fclose(f);
	return ret;
}

static int entry_cmp(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	int c = sx_addr_cmp(&a->addr, &b->addr);

	if (c)
		return c;
	if (a->source != b->source)
		return a->source < b->source ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int pick_cmp(const void *pa, const void *pb)
{
	const struct pick *a = pa, *b = pb;

	return sx_addr_cmp(&a->addr, &b->addr);
}

static uint64_t addr_hash(const struct sx_addr *a)
{
	return XXH3_64bits(a, sizeof(*a));
}

/* The index of v (one pick an address) by address; left empty when out of
 * memory, and lookups then search v. */
static void index_picks(struct sx_map *m, const struct pick *v, size_t nv)
{
	size_t i;

	sx_map_fini(m);
	sx_map_init(m, sizeof(size_t), 16, 50);
	if (!nv || sx_map_reserve(m, nv))
		return;
	for (i = 0; i < nv; i++) {
		uint64_t h = addr_hash(&v[i].addr);
		size_t pos = SX_MAP_START;

		while (sx_map_next(m, h, &pos))
			;
		*(size_t *)sx_map_add(m, h, pos) = i;
	}
}

void sx_names_finish(struct sx_names *n)
{
	size_t i, j, w = 0;

	free(n->cloud);
	free(n->local);
	n->cloud = n->local = NULL;
	n->ncloud = n->nlocal = 0;
	sx_map_fini(&n->cloud_ix);
	sx_map_fini(&n->local_ix);
	if (n->n) {
		qsort(n->ents, n->n, sizeof(*n->ents), entry_cmp);
		/* Sum duplicates (the same fact from several threads). */
		for (i = 0; i < n->n; i++) {
			if (w && entry_cmp(&n->ents[w - 1], &n->ents[i]) == 0) {
				n->ents[w - 1].count += n->ents[i].count;
				free(n->ents[i].name);
				continue;
			}
			n->ents[w++] = n->ents[i];
		}
		n->n = w;
	}
	n->cloud = sx_calloc_array(n->n, sizeof(*n->cloud));
	n->local = sx_calloc_array(n->n, sizeof(*n->local));
	if (!n->cloud || !n->local) {
		n->finished = true;
		return;
	}
	/* Entries are sorted by address, then source: per address, the first
	 * cloud source present wins, and within it the highest count, then
	 * the smallest name (the sort order). */
	for (i = 0; i < n->n; i = j) {
		const struct entry *best = NULL, *best_local = NULL;

		for (j = i; j < n->n && sx_addr_cmp(&n->ents[j].addr, &n->ents[i].addr) == 0; j++) {
			const struct entry *e = &n->ents[j];

			if (e->source == SX_NAME_MDNS) {
				if (!best_local || e->count > best_local->count)
					best_local = e;
			} else if (!best || (e->source == best->source && e->count > best->count)) {
				best = e;
			}
		}
		if (best)
			n->cloud[n->ncloud++] = (struct pick){best->addr, best->name};
		if (best_local)
			n->local[n->nlocal++] = (struct pick){best_local->addr, best_local->name};
	}
	index_picks(&n->cloud_ix, n->cloud, n->ncloud);
	index_picks(&n->local_ix, n->local, n->nlocal);
	n->finished = true;
}

static const char *lookup(const struct sx_map *ix, const struct pick *v, size_t nv,
			  const struct sx_addr *a)
{
	struct pick key;
	const struct pick *p;

	if (!v || !a->family)
		return NULL;
	if (ix->cap) {
		uint64_t h = addr_hash(a);
		size_t pos = SX_MAP_START;
		const size_t *e;

		while ((e = sx_map_next(ix, h, &pos)) != NULL)
			if (sx_addr_cmp(&v[*e].addr, a) == 0)
				return v[*e].name;
		return NULL;
	}
	key.addr = *a;
	key.name = NULL;
	p = bsearch(&key, v, nv, sizeof(*v), pick_cmp);
	return p ? p->name : NULL;
}

const char *sx_names_lookup(const struct sx_names *n, const struct sx_addr *a)
{
	return n ? lookup(&n->cloud_ix, n->cloud, n->ncloud, a) : NULL;
}

const char *sx_names_lookup_local(const struct sx_names *n, const struct sx_addr *a)
{
	return n ? lookup(&n->local_ix, n->local, n->nlocal, a) : NULL;
}
