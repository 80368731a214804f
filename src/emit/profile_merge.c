/*
 * profile_merge.c - a device's profile.yaml made of its events' profiles,
 * one interaction per event: what `sigex batch` writes per device and the
 * main job writes for an events file with several labels.
 *
 * DESIGN.  The input is the events' own profile.yaml documents, parsed
 * (each has one interaction, named after its event), so that a caller can
 * build it from files written earlier (a resumed batch unit) or from
 * documents made now, and get the same bytes:
 *
 *   device-info       the first document's, last-update the latest of all
 *                     (the documents agree on the rest), and the addresses
 *                     it lacks (mac, ipv4, ipv6) from the first document
 *                     that has them
 *   single-policies   every document's, once: a policy whose content
 *                     (everything but its id) is already there is the same
 *                     policy (the device's chatter is found by every
 *                     event); another one whose id is taken gets "-2",
 *                     "-3"... as profile.c does within one profile.  Then
 *                     the interactions' policies that are not one event's
 *                     own: a policy whose content is in two interactions
 *                     or more, or is a single policy already, is a single
 *                     policy (once), not a step of each interaction (the
 *                     TP-Link plug's cloud lookup, found by all of its 13
 *                     events, is one policy, not 13)
 *   interactions      every document's, in the order given, with the
 *                     policies left; one left with none is not written
 *
 * "The same policy" is one that matches the same packets: the same
 * protocols (bidirectional when either is), since the translator cannot
 * tell two such policies apart.  And a plain single policy (nftables
 * sections only, no host name end) takes the place of every other policy
 * with its nftables matches, in single policies and interactions (profile.c
 * does the same within one document: fold_plain()), and of every plain one
 * whose packets it admits all of (its "external" holding the other's
 * public addresses, covers_nft()): the firewall's plain accepts come first,
 * so an interaction's step it covers would never see a packet, and the
 * interaction would never open (a peer-to-peer stream to "external" as a
 * single policy, an event's first contact with the phone's public address
 * as its opener).  A document may also be
 * single policies only: the device's traffic between its events.
 *
 * Queues (the firewall's: the first nftables rule whose matches hold sends
 * the packet to its queue, whose callback tries that queue's policies and
 * drops what none accepts): two events' queue policies whose matches differ
 * only in an IP end whose addresses one holds among the other's (lookups to
 * one resolver in an event, to two in another) are given one end, so that
 * they share a queue (join_queues(); profile.c does the same within one
 * document), and a queue policy whose backward rule has a plain single
 * policy's matches is made one way (one_way_under()): the translator would
 * put the two in one queue and write the plain one's condition empty.
 *
 * Last, the states (profile.c's DESIGN, "States") are set again, since a
 * policy may have moved from an interaction to the single policies, or an
 * interaction may be left with one policy: set_states().
 */
#include "emit/emit.h"
#include "emit/emit_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/util.h"
#include "yaml/ydoc.h"

#define SUFFIX_MAX 100000

static int add_pair(struct sx_ytree *map, const char *key, const struct sx_ytree *v)
{
	struct sx_ytree *k = sx_ytree_new(SX_YTREE_SCALAR, key, 0);
	struct sx_ytree *c;

	if (!k)
		return -ENOMEM;
	if (sx_ytree_append(map, k))
		return -ENOMEM;
	c = sx_ytree_dup(v);
	if (!c)
		return -ENOMEM;
	return sx_ytree_append(map, c);
}

/*
 * The policy of map, among its pairs before index end (even), that
 * matches what v matches: the same protocols (the firewall's translator
 * cannot tell two such policies apart: it makes their NFQueue test empty),
 * else one equal to v; NULL when none.
 */
static struct sx_ytree *find_same_before(const struct sx_ytree *map, size_t end,
					 const struct sx_ytree *v)
{
	const struct sx_ytree *proto = sx_ytree_get(v, "protocols");
	size_t i;

	for (i = 0; i + 1 < end; i += 2) {
		struct sx_ytree *have = map->kids[i + 1];
		const struct sx_ytree *hp = sx_ytree_get(have, "protocols");

		if (proto && hp ? sx_ytree_equal(hp, proto) : sx_ytree_equal(have, v))
			return have;
	}
	return NULL;
}

/* find_same_before() over all of map's pairs. */
static struct sx_ytree *find_same(const struct sx_ytree *map, const struct sx_ytree *v)
{
	return find_same_before(map, map->n, v);
}

static bool bidirectional(const struct sx_ytree *pol)
{
	const char *b = sx_ytree_str(sx_ytree_get(pol, "bidirectional"));

	return b && !strcmp(b, "true");
}

/* v folded into have, a policy that matches the same packets: both ways
 * when either is. */
static int fold_into(struct sx_ytree *have, const struct sx_ytree *v)
{
	struct sx_ytree *t;
	int ret;

	if (!bidirectional(v) || bidirectional(have) || have->kind != SX_YTREE_MAP)
		return 0;
	t = sx_ytree_new(SX_YTREE_SCALAR, "true", 0);
	if (!t)
		return -ENOMEM;
	ret = add_pair(have, "bidirectional", t);
	sx_ytree_free(t);
	return ret;
}

/* The protocol sections the firewall matches in nftables; any other (an
 * application section) sends the policy's packets to its queue. */
static bool nft_section(const char *key)
{
	static const char *const keys[] = {"ipv4", "ipv6", "tcp", "udp", "icmp", "icmpv6", "arp"};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i]))
			return true;
	return false;
}

/* Whether an end is a host name, which the firewall matches in a queue
 * (through its DNS table): letters and dots, not an address or alias. */
static bool name_end(const char *e)
{
	bool alpha = false;
	const char *c;

	if (strchr(e, ':') || !strchr(e, '.'))
		return false;
	for (c = e; *c; c++)
		alpha |= (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z');
	return alpha;
}

/*
 * Whether the firewall matches pol in nftables alone: nftables sections
 * only, no host name end.  With lists, an IP end may be absent or a list of
 * addresses and aliases; without, each is one address or alias (a plain
 * policy: profile.c's has_queue() false, its one-scalar ends).
 */
static bool nft_only(const struct sx_ytree *pol, bool lists)
{
	const struct sx_ytree *proto = sx_ytree_get(pol, "protocols");
	static const char *const ends[] = {"src", "dst"};
	size_t i, k, j;

	if (!proto || proto->kind != SX_YTREE_MAP)
		return false;
	for (i = 0; i + 1 < proto->n; i += 2) {
		const char *key = proto->kids[i]->text;

		if (!key || !nft_section(key))
			return false;
		if (strcmp(key, "ipv4") && strcmp(key, "ipv6"))
			continue;
		for (k = 0; k < 2; k++) {
			const struct sx_ytree *e = sx_ytree_get(proto->kids[i + 1], ends[k]);

			if (lists && (!e || e->kind == SX_YTREE_SEQ)) {
				for (j = 0; e && j < e->n; j++)
					if (e->kids[j]->kind != SX_YTREE_SCALAR ||
					    name_end(e->kids[j]->text))
						return false;
				continue;
			}
			if (!e || e->kind != SX_YTREE_SCALAR || name_end(e->text))
				return false;
		}
	}
	return true;
}

static bool plain(const struct sx_ytree *pol)
{
	return nft_only(pol, false);
}

/* Whether the firewall sends pol's packets to a queue (not nft_only()). */
static bool queued(const struct sx_ytree *pol)
{
	return !nft_only(pol, true);
}

/* The index of key's pair in map, or map->n. */
static size_t pair_of(const struct sx_ytree *map, const char *key)
{
	size_t i;

	for (i = 0; i + 1 < map->n; i += 2)
		if (map->kids[i]->text && !strcmp(map->kids[i]->text, key))
			return i;
	return map->n;
}

/* The number of nftables sections of the protocols p, a MAP. */
static size_t nft_sections(const struct sx_ytree *p)
{
	size_t i, n = 0;

	for (i = 0; i + 1 < p->n; i += 2)
		n += p->kids[i]->text && nft_section(p->kids[i]->text);
	return n;
}

/* Whether the protocols pb have every nftables section of pa, equal, and
 * no other. */
static bool same_nft_sections(const struct sx_ytree *pa, const struct sx_ytree *pb)
{
	size_t i, na = 0;

	if (!pa || !pb || pa->kind != SX_YTREE_MAP || pb->kind != SX_YTREE_MAP)
		return false;
	for (i = 0; i + 1 < pa->n; i += 2) {
		const char *key = pa->kids[i]->text;
		const struct sx_ytree *v;

		if (!key || !nft_section(key))
			continue;
		v = sx_ytree_get(pb, key);
		if (!v || !sx_ytree_equal(v, pa->kids[i + 1]))
			return false;
		na++;
	}
	return na == nft_sections(pb);
}

/* Whether b has every nftables section of a, equal, and no other. */
static bool same_nft(const struct sx_ytree *a, const struct sx_ytree *b)
{
	return same_nft_sections(sx_ytree_get(a, "protocols"), sx_ytree_get(b, "protocols"));
}

/* Whether an IPv4 end of a policy is outside 192.168.0.0/16, the LAN the
 * firewall's "external" leaves out: an address or network, or a list of
 * them; never an alias. */
static bool outside_lan(const struct sx_ytree *e)
{
	struct in_addr a;
	char buf[INET_ADDRSTRLEN];
	const char *slash;
	size_t i, l;

	if (e->kind == SX_YTREE_SEQ) {
		for (i = 0; i < e->n; i++)
			if (!outside_lan(e->kids[i]))
				return false;
		return e->n > 0;
	}
	if (e->kind != SX_YTREE_SCALAR || !e->text)
		return false;
	slash = strchr(e->text, '/');
	l = slash ? (size_t)(slash - e->text) : strlen(e->text);
	if (l >= sizeof(buf))
		return false;
	memcpy(buf, e->text, l);
	buf[l] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return false;
	if (slash && (strtol(slash + 1, NULL, 10) < 16))
		return false; /* a network that may reach into the LAN */
	return ((const uint8_t *)&a)[0] != 192 || ((const uint8_t *)&a)[1] != 168;
}

/* Whether the ipv4 end s holds end t: equal, or "external" with t
 * addresses outside the LAN, or, with names, a host name (which the
 * firewall resolves to one). */
static bool end_holds(const struct sx_ytree *s, const struct sx_ytree *t, bool names)
{
	const char *ss = sx_ytree_str(s), *ts = sx_ytree_str(t);

	if (sx_ytree_equal(s, t))
		return true;
	return ss && !strcmp(ss, "external") && (outside_lan(t) || (names && ts && name_end(ts)));
}

/* Whether the ipv4 section s admits every packet of t's: the same keys,
 * each end holding t's (end_holds(), without names). */
static bool covers_ipv4(const struct sx_ytree *s, const struct sx_ytree *t)
{
	size_t i;

	if (s->kind != SX_YTREE_MAP || t->kind != SX_YTREE_MAP || s->n != t->n)
		return false;
	for (i = 0; i + 1 < s->n; i += 2) {
		const struct sx_ytree *tv = sx_ytree_get(t, s->kids[i]->text);

		if (!tv || !end_holds(s->kids[i + 1], tv, false))
			return false;
	}
	return true;
}

/* Whether the plain policy s admits every packet that t's nftables
 * matches admit, t being nftables alone too: the same sections, equal but
 * for an end "external" in s that holds t's (a peer-to-peer pattern's
 * addresses in one event, "external" in another's). */
static bool covers_nft(const struct sx_ytree *s, const struct sx_ytree *t)
{
	const struct sx_ytree *ps = sx_ytree_get(s, "protocols");
	const struct sx_ytree *pt = sx_ytree_get(t, "protocols");
	size_t i;

	if (!ps || !pt || ps->kind != SX_YTREE_MAP || pt->kind != SX_YTREE_MAP || ps->n != pt->n ||
	    !nft_only(t, true) || (bidirectional(t) && !bidirectional(s)))
		return false;
	for (i = 0; i + 1 < ps->n; i += 2) {
		const char *key = ps->kids[i]->text;
		const struct sx_ytree *tv = sx_ytree_get(pt, key);

		if (!tv)
			return false;
		if (!sx_ytree_equal(ps->kids[i + 1], tv) &&
		    (strcmp(key, "ipv4") || !covers_ipv4(ps->kids[i + 1], tv)))
			return false;
	}
	return true;
}

/* A copy of pol's protocols as the translator writes its backward rule:
 * each IP section's src and dst swapped, and each transport's ports (the
 * values, so that the keys keep their order); NULL on -ENOMEM. */
static struct sx_ytree *backward_protocols(const struct sx_ytree *pol)
{
	static const char *const swaps[][2] = {{"src", "dst"}, {"src-port", "dst-port"}};
	struct sx_ytree *p = sx_ytree_dup(sx_ytree_get(pol, "protocols"));
	size_t i, k;

	for (i = 0; p && p->kind == SX_YTREE_MAP && i + 1 < p->n; i += 2) {
		struct sx_ytree *sec = p->kids[i + 1];

		if (sec->kind != SX_YTREE_MAP || !p->kids[i]->text ||
		    !nft_section(p->kids[i]->text))
			continue;
		for (k = 0; k < 2; k++) {
			size_t x = pair_of(sec, swaps[k][0]), y = pair_of(sec, swaps[k][1]);
			struct sx_ytree *v;

			if (x < sec->n && y < sec->n) {
				v = sec->kids[x + 1];
				sec->kids[x + 1] = sec->kids[y + 1];
				sec->kids[y + 1] = v;
			} else if (x < sec->n || y < sec->n) {
				size_t z = x < sec->n ? x : y;

				if (sx_ytree_set_text(sec->kids[z], swaps[k][x < sec->n]))
					goto out_free;
			}
		}
	}
	return p;
out_free:
	sx_ytree_free(p);
	return NULL;
}

/*
 * The translator makes a bidirectional policy's backward rule a policy of
 * its own: when its matches are the plain s's, the two would share a
 * queue and the translator write s's condition empty.  s's accept takes
 * those packets first anyway, so t is made one way.  0 or -ENOMEM.
 */
static int one_way_under(const struct sx_ytree *s, struct sx_ytree *t)
{
	struct sx_ytree *back;
	bool same;

	if (!bidirectional(t) || !queued(t))
		return 0;
	back = backward_protocols(t);
	if (!back)
		return -ENOMEM;
	same = same_nft_sections(sx_ytree_get(s, "protocols"), back);
	sx_ytree_free(back);
	if (same)
		sx_ytree_map_remove(t, pair_of(t, "bidirectional"));
	return 0;
}

/* Leave out of map (from pair j on) every policy with s's nftables
 * matches, or whose matches s's hold (covers_nft()), folding each into s;
 * make one way those whose backward rule has s's (one_way_under()); *i:
 * s's index when map holds it. */
static int fold_map(struct sx_ytree *map, struct sx_ytree *s, size_t *i)
{
	size_t j = 0;
	int ret;

	while (j + 1 < map->n) {
		struct sx_ytree *t = map->kids[j + 1];

		if (t != s && (ret = one_way_under(s, t)))
			return ret;
		if (t == s || (!same_nft(s, t) && !covers_nft(s, t))) {
			j += 2;
			continue;
		}
		ret = fold_into(s, t);
		if (ret)
			return ret;
		sx_ytree_map_remove(map, j);
		if (i && j < *i)
			*i -= 2;
	}
	return 0;
}

/*
 * A plain single policy admits every packet of its nftables matches: any
 * other policy with the same matches (another event's queue policy, or the
 * traffic between events) is redundant and, worse, the translator would
 * share its queue with the plain one and write the plain one's condition
 * empty, which does not compile.  Such policies are left out, the plain
 * one made bidirectional if one of them was (profile.c's fold_plain(),
 * across the documents); an interaction left empty goes.
 */
static int fold_plain(struct sx_ytree *single, struct sx_ytree *inter)
{
	size_t i, k;
	int ret = 0;

	for (i = 0; i + 1 < single->n && !ret; i += 2) {
		struct sx_ytree *s = single->kids[i + 1];

		if (!plain(s))
			continue;
		ret = fold_map(single, s, &i);
		for (k = 0; k + 1 < inter->n && !ret; k += 2)
			ret = fold_map(inter->kids[k + 1], s, NULL);
	}
	for (k = 0; k + 1 < inter->n;)
		if (inter->kids[k + 1]->kind == SX_YTREE_MAP && !inter->kids[k + 1]->n)
			sx_ytree_map_remove(inter, k);
		else
			k += 2;
	return ret;
}

/* Add key: v to map; with merge, a policy matching what one there matches
 * is that one (fold_into()); a clash of ids gets a suffix. */
static int add_policy(struct sx_ytree *map, const char *key, const struct sx_ytree *v, bool merge)
{
	struct sx_ytree *same = merge ? find_same(map, v) : NULL;
	char id[512];
	unsigned k;

	if (same)
		return fold_into(same, v);
	for (k = 1; k < SUFFIX_MAX; k++) {
		const struct sx_ytree *have;

		if (k == 1)
			snprintf(id, sizeof(id), "%s", key);
		else
			snprintf(id, sizeof(id), "%s-%u", key, k);
		have = sx_ytree_get(map, id);
		if (!have)
			return add_pair(map, id, v);
	}
	return -EEXIST;
}

/* How many of the documents' interactions hold a policy matching what v
 * matches (find_same()). */
static size_t interactions_with(const struct sx_ytree *const *docs, size_t n,
				const struct sx_ytree *v)
{
	size_t i, j, count = 0;

	for (i = 0; i < n; i++) {
		const struct sx_ytree *inter = sx_ytree_get(docs[i], "interactions");

		for (j = 0; inter && inter->kind == SX_YTREE_MAP && j + 1 < inter->n; j += 2)
			count += inter->kids[j + 1]->kind == SX_YTREE_MAP &&
				 find_same(inter->kids[j + 1], v);
	}
	return count;
}

/*
 * The interactions of docs[0, n) into inter, each with its own policies
 * only; the shared ones (see DESIGN) into single.
 */
static int merge_interactions(struct sx_ytree *single, struct sx_ytree *inter,
			      const struct sx_ytree *const *docs, size_t n)
{
	size_t i, j, k;
	int ret = 0;

	for (i = 0; i < n && !ret; i++) {
		const struct sx_ytree *src = sx_ytree_get(docs[i], "interactions");

		for (j = 0; src && src->kind == SX_YTREE_MAP && j + 1 < src->n && !ret; j += 2) {
			const struct sx_ytree *pols = src->kids[j + 1];
			struct sx_ytree *own = sx_ytree_new(SX_YTREE_MAP, NULL, 0);

			if (!own)
				return -ENOMEM;
			for (k = 0; pols->kind == SX_YTREE_MAP && k + 1 < pols->n && !ret; k += 2) {
				const struct sx_ytree *v = pols->kids[k + 1];
				bool shared =
				    find_same(single, v) || interactions_with(docs, n, v) > 1;

				ret = add_policy(shared ? single : own, pols->kids[k]->text, v,
						 shared);
			}
			if (!ret && own->n)
				ret = add_policy(inter, src->kids[j]->text, own, false);
			sx_ytree_free(own);
		}
	}
	return ret;
}

/* Whether the firewall matches pol without a queue (nft_only()). */
static bool no_queue(const struct sx_ytree *pol)
{
	return nft_only(pol, true);
}

/* Whether pol's stats are none or `rate: 0` alone, which this merge sets. */
static bool stats_ours(const struct sx_ytree *pol)
{
	const struct sx_ytree *st = sx_ytree_get(pol, "stats");
	const struct sx_ytree *rate = st ? sx_ytree_get(st, "rate") : NULL;

	return !st || (st->kind == SX_YTREE_MAP && st->n == 2 && rate &&
		       rate->kind == SX_YTREE_SCALAR && !strcmp(rate->text, "0"));
}

/* pol periodic without a limit (`stats: {rate: 0}`) or one-off. */
static int set_periodic(struct sx_ytree *pol, bool periodic)
{
	size_t i = pair_of(pol, "stats");
	struct sx_ytree *st, *zero;
	int ret;

	if (!periodic || i < pol->n) {
		if (!periodic && i < pol->n)
			sx_ytree_map_remove(pol, i);
		return 0;
	}
	st = sx_ytree_new(SX_YTREE_MAP, NULL, SX_YSTYLE_BLOCK);
	zero = sx_ytree_new(SX_YTREE_SCALAR, "0", SX_YSTYLE_PLAIN);
	if (!st || !zero) {
		sx_ytree_free(st);
		sx_ytree_free(zero);
		return -ENOMEM;
	}
	ret = add_pair(st, "rate", zero);
	if (!ret)
		ret = add_pair(pol, "stats", st);
	sx_ytree_free(zero);
	sx_ytree_free(st);
	return ret;
}

/* A copy of map's pair key: v, its value one of v's keys, mapped. */
static int swap_pair(struct sx_ytree *to, const struct sx_ytree *from, const char *key,
		     const char *as)
{
	const struct sx_ytree *v = sx_ytree_get(from, key);

	return v ? add_pair(to, as, v) : 0;
}

/*
 * The answers' policy of a single policy with a queue that is bidirectional
 * (profile.c's one_way(), for a policy this merge moved from an
 * interaction): TCP or UDP and no DNS section; its network and transport
 * sections from the other end, no application section.  *out NULL when pol
 * needs none.  0 or -ENOMEM.
 */
static int answers_of(const struct sx_ytree *pol, struct sx_ytree **out)
{
	static const char *const dns[] = {"dns", "mdns", "llmnr"};
	const struct sx_ytree *proto = sx_ytree_get(pol, "protocols");
	struct sx_ytree *a = NULL, *ap = NULL, *sec = NULL;
	bool tl = false;
	size_t i;
	int ret = -ENOMEM;

	*out = NULL;
	if (!bidirectional(pol) || no_queue(pol) || !proto || proto->kind != SX_YTREE_MAP)
		return 0;
	for (i = 0; i < sizeof(dns) / sizeof(dns[0]); i++)
		if (sx_ytree_get(proto, dns[i]))
			return 0;
	for (i = 0; i + 1 < proto->n; i += 2) {
		const char *key = proto->kids[i]->text;

		if (!key)
			return 0;
		tl |= !strcmp(key, "tcp") || !strcmp(key, "udp");
	}
	if (!tl)
		return 0;
	/* in the styles of pol, as the merge writes the documents' own */
	a = sx_ytree_new(SX_YTREE_MAP, NULL, pol->style);
	ap = sx_ytree_new(SX_YTREE_MAP, NULL, proto->style);
	if (!a || !ap)
		goto out_free;
	for (i = 0; i + 1 < proto->n; i += 2) {
		const char *key = proto->kids[i]->text;
		const struct sx_ytree *v = proto->kids[i + 1];
		bool net = !strcmp(key, "ipv4") || !strcmp(key, "ipv6");

		if (!net && strcmp(key, "tcp") && strcmp(key, "udp"))
			continue; /* an application section matches the requests */
		sec = sx_ytree_new(SX_YTREE_MAP, NULL,
				   v->kind == SX_YTREE_MAP ? v->style : SX_YSTYLE_BLOCK);
		if (!sec)
			goto out_free;
		if (v->kind == SX_YTREE_MAP &&
		    (swap_pair(sec, v, net ? "dst" : "dst-port", net ? "src" : "src-port") ||
		     swap_pair(sec, v, net ? "src" : "src-port", net ? "dst" : "dst-port")))
			goto out_free;
		if (!sec->n) { /* the protocol alone, as "tcp:" */
			sx_ytree_free(sec);
			sec = sx_ytree_new(SX_YTREE_SCALAR, "", SX_YSTYLE_PLAIN);
			if (!sec)
				goto out_free;
		}
		if (add_pair(ap, key, sec))
			goto out_free;
		sx_ytree_free(sec);
		sec = NULL;
	}
	ret = add_pair(a, "protocols", ap);
	if (!ret)
		*out = a;
out_free:
	sx_ytree_free(sec);
	sx_ytree_free(ap);
	if (ret)
		sx_ytree_free(a);
	return ret;
}

/*
 * The states profile.c writes (its DESIGN, "States"), again after policies
 * moved between the sections: a single policy with a queue is one way
 * (answers_of()), else periodic without a limit when bidirectional (an
 * nftables accept both ways), else one-off; an interaction's policies are
 * all periodic, but a lone one-way policy, which the translator takes for
 * no interaction.  Stats set by --stats are left as they are.
 */
static int set_states(struct sx_ytree *single, struct sx_ytree *inter)
{
	struct sx_ytree *out = sx_ytree_new(SX_YTREE_MAP, NULL, single->style);
	size_t i, k;
	int ret = 0;

	if (!out)
		return -ENOMEM;
	/* rebuilt in order: answers go right after their requests */
	for (i = 0; i + 1 < single->n && !ret; i += 2) {
		struct sx_ytree *pol = single->kids[i + 1], *ans = NULL;
		const char *id = single->kids[i]->text;
		char aid[256];

		ret = answers_of(pol, &ans);
		if (!ret && ans) {
			k = pair_of(pol, "bidirectional");
			sx_ytree_map_remove(pol, k);
			if (stats_ours(pol))
				ret = set_periodic(pol, false);
		} else if (!ret && pol->kind == SX_YTREE_MAP && stats_ours(pol)) {
			ret = set_periodic(pol, no_queue(pol) && bidirectional(pol));
		}
		if (!ret)
			ret = add_policy(out, id, pol, false);
		snprintf(aid, sizeof(aid), "%s-answers", id);
		if (!ret && ans) /* one policy for the same answers */
			ret = add_policy(out, aid, ans, true);
		sx_ytree_free(ans);
	}
	if (!ret) { /* out's pairs become single's */
		for (i = 0; i < single->n; i++)
			sx_ytree_free(single->kids[i]);
		free(single->kids);
		single->kids = out->kids;
		single->n = out->n;
		single->cap = out->cap;
		out->kids = NULL;
		out->n = out->cap = 0;
	}
	sx_ytree_free(out);
	for (k = 0; k + 1 < inter->n && !ret; k += 2) {
		struct sx_ytree *pols = inter->kids[k + 1];
		bool lone = pols->n == 2 && !bidirectional(pols->kids[1]);

		for (i = 0; pols->kind == SX_YTREE_MAP && i + 1 < pols->n && !ret; i += 2)
			if (pols->kids[i + 1]->kind == SX_YTREE_MAP &&
			    stats_ours(pols->kids[i + 1]))
				ret = set_periodic(pols->kids[i + 1], !lone);
	}
	return ret;
}

static int merge_map(struct sx_ytree *dst, const struct sx_ytree *src, bool merge)
{
	size_t i;
	int ret = 0;

	if (!src || src->kind != SX_YTREE_MAP)
		return 0;
	for (i = 0; i + 1 < src->n && !ret; i += 2)
		ret = add_policy(dst, src->kids[i]->text, src->kids[i + 1], merge);
	return ret;
}

/* info's last-update set to text. */
static int set_last_update(struct sx_ytree *info, const char *text)
{
	struct sx_ytree *lu = (struct sx_ytree *)sx_ytree_get(info, "last-update");

	if (!lu || lu->kind != SX_YTREE_SCALAR || !text[0])
		return 0;
	return sx_ytree_set_text(lu, text);
}

/*
 * The device's addresses that the first document's device-info lacks, from
 * the first document that has them, in sigex's key order: an event that
 * never saw the device's link-local address has no ipv6, and another
 * event's "self" in an ipv6 section needs it.
 */
static int complete_info(struct sx_ytree *info, const struct sx_ytree *const *docs, size_t n)
{
	static const char *const order[] = {"name", "mac", "ipv4", "ipv6", "last-update"};
	const size_t norder = SX_ARRAY_SIZE(order);
	size_t k, i, j, at;
	int ret;

	if (info->kind != SX_YTREE_MAP)
		return 0;
	for (k = 1; k + 1 < norder; k++) { /* the addresses: between name and last-update */
		const struct sx_ytree *v = NULL;

		if (sx_ytree_get(info, order[k]))
			continue;
		for (i = 1; i < n && !v; i++)
			v = sx_ytree_get(sx_ytree_get(docs[i], "device-info"), order[k]);
		if (!v)
			continue;
		ret = add_pair(info, order[k], v);
		if (ret)
			return ret;
		/* before the first key that follows it in the order */
		for (at = 0; at + 2 < info->n; at += 2) {
			const char *key = info->kids[at]->text ? info->kids[at]->text : "";

			for (j = k + 1; j < norder && strcmp(key, order[j]); j++)
				;
			if (j < norder)
				break;
		}
		if (at + 2 < info->n) {
			struct sx_ytree *kv[2] = {info->kids[info->n - 2], info->kids[info->n - 1]};

			memmove(&info->kids[at + 2], &info->kids[at],
				(info->n - 2 - at) * sizeof(info->kids[0]));
			info->kids[at] = kv[0];
			info->kids[at + 1] = kv[1];
		}
	}
	return 0;
}

/*
 * Pools across the events.  profile.c writes an end of unnamed public
 * servers "external" when, within one event's occurrences, the device
 * reaches another one nearly every time (a peer-to-peer stream: every
 * other time).  Across the events of a device they rotate too, each event
 * having met one or two: the testbed's D-Link camera streamed to the
 * phone's public address at 130.104.214.55 in one event and at
 * 130.104.228.95 in another (the same in both runs of each), and met
 * 130.104.212.112 in the third run; the Tuya sensor's cloud on TCP 8886
 * answered from five AWS addresses over its events' policies, and from a
 * sixth in the third run.  So the plain policies of one transport section
 * (protocol and ports) between the device and public addresses, either
 * way, in two events or more, are a pool when most of the addresses they
 * name are named by one policy only (distinct addresses at least half of
 * the addresses named, policy by policy: another one each time), two or
 * more for a peer-to-peer section (dynamic ranges both ways), POOL_MIN or
 * more from two policies or more for a vendor's own port (1024 and above;
 * a well-known port, HTTPS or NTP, is every server's, and its unnamed
 * addresses across the events are as many services as addresses).  Each
 * such end is then "external", the address in the policy's id too
 * ("udp-external"), and the merge makes one policy of those that are then
 * the same.  A service whose addresses recur from event to event (a
 * D-Link camera's HTTPS to three AWS addresses in six events) stays as
 * profile.c wrote it, and so do the policies of one event and a named
 * server's policy by its addresses (profile.c's twin for the device's
 * cached answers: its id names the server, not an address; the name's
 * policy carries it).
 */
#define POOL_MIN       4
#define POOL_ADDRS_MAX 64
#define POOLS_MAX      64

static struct sx_ytree *ipv4_of(const struct sx_ytree *pol)
{
	return (struct sx_ytree *)sx_ytree_get(sx_ytree_get(pol, "protocols"), "ipv4");
}

/* The transport section (tcp or udp) of a policy, NULL when none. */
static const struct sx_ytree *transport_of(const struct sx_ytree *pol)
{
	const struct sx_ytree *proto = sx_ytree_get(pol, "protocols");
	const struct sx_ytree *t = sx_ytree_get(proto, "udp");

	return t ? t : sx_ytree_get(proto, "tcp");
}

/* Whether a port value (a scalar, or a list of scalars) is one of
 * sx_emit__dynamic_range[] as profile.c writes it, or a whole range as it
 * wrote them before SSDP's and mDNS's ports were left out (the profile of a
 * unit that `sigex batch --resume` kept). */
static bool dynamic_range(const struct sx_ytree *v)
{
	static const char *const earlier[] = {"1024-65535", "1024-32767"};
	char text[64] = "";
	size_t i, o = 0;

	if (v && v->kind == SX_YTREE_SCALAR) {
		snprintf(text, sizeof(text), "%s", v->text);
		for (i = 0; i < SX_ARRAY_SIZE(earlier); i++)
			if (!strcmp(text, earlier[i]))
				return true;
	} else if (v && v->kind == SX_YTREE_SEQ && v->n) {
		for (i = 0; i < v->n; i++) {
			const char *item = sx_ytree_str(v->kids[i]);
			int k = snprintf(text + o, sizeof(text) - o, "%s%s", i ? " " : "",
					 item ? item : "");

			if (!item || k < 0 || (size_t)k >= sizeof(text) - o)
				return false;
			o += (size_t)k;
		}
	} else {
		return false;
	}
	for (i = 0; i < SX_EMIT__NDYNAMIC; i++)
		if (!strcmp(text, sx_emit__dynamic_range[i]))
			return true;
	return false;
}

static bool dynamic_both(const struct sx_ytree *transport)
{
	return dynamic_range(sx_ytree_get(transport, "src-port")) &&
	       dynamic_range(sx_ytree_get(transport, "dst-port"));
}

/*
 * The end of a plain tcp or udp policy (nftables sections: ipv4 and its
 * transport, nothing else) that holds public addresses (one or a list
 * outside the LAN) while the other is the device: its index in the ipv4
 * map, -1 when none.
 */
static int public_end(const struct sx_ytree *pol)
{
	const struct sx_ytree *proto = sx_ytree_get(pol, "protocols");
	const struct sx_ytree *ip4 = ipv4_of(pol), *src, *dst;
	const char *s, *d;

	if (!proto || proto->kind != SX_YTREE_MAP || proto->n != 4 || !transport_of(pol) || !ip4 ||
	    ip4->kind != SX_YTREE_MAP || ip4->n != 4)
		return -1;
	src = sx_ytree_get(ip4, "src");
	dst = sx_ytree_get(ip4, "dst");
	s = sx_ytree_str(src);
	d = sx_ytree_str(dst);
	if (s && !strcmp(s, "self") && dst && outside_lan(dst))
		return ip4->kids[1] == dst ? 1 : 3;
	if (d && !strcmp(d, "self") && src && outside_lan(src))
		return ip4->kids[1] == src ? 1 : 3;
	return -1;
}

/* Policies of one transport section: their public addresses. */
struct pool {
	const struct sx_ytree *transport;
	bool udp;			  /* the protocol: UDP, else TCP */
	const char *addr[POOL_ADDRS_MAX]; /* the first ones: the threshold is below */
	size_t naddrs, npols, ndocs;
	size_t named;	 /* addresses named by each policy, summed, while addr has room */
	size_t last_doc; /* the last document that added one, plus one */
};

struct pools {
	struct pool p[POOLS_MAX];
	size_t n;
	size_t doc; /* the document counted, plus one */
};

static struct pool *pool_of(struct pools *ps, const struct sx_ytree *pol, bool add)
{
	const struct sx_ytree *t = transport_of(pol);
	bool udp = sx_ytree_get(sx_ytree_get(pol, "protocols"), "udp") != NULL;
	size_t i;

	for (i = 0; i < ps->n; i++)
		if (ps->p[i].udp == udp && sx_ytree_equal(ps->p[i].transport, t))
			return &ps->p[i];
	if (!add || ps->n == POOLS_MAX)
		return NULL;
	ps->p[ps->n] = (struct pool){.transport = t, .udp = udp};
	return &ps->p[ps->n++];
}

static void pool_add(struct pool *p, const struct sx_ytree *e)
{
	size_t i, k;

	if (e->kind == SX_YTREE_SEQ) {
		for (k = 0; k < e->n; k++)
			pool_add(p, e->kids[k]);
		return;
	}
	if (p->naddrs == POOL_ADDRS_MAX)
		return; /* the ratio stays that of the first ones */
	p->named++;
	for (i = 0; i < p->naddrs; i++)
		if (!strcmp(p->addr[i], e->text))
			return;
	p->addr[p->naddrs++] = e->text;
}

/* Whether a transport section has one port of a vendor's own (1024 or
 * above) and no other: a well-known port (HTTPS, NTP) is every server's,
 * and its unnamed addresses across the events are as many services. */
static bool vendor_port(const struct sx_ytree *transport)
{
	const char *sp = sx_ytree_str(sx_ytree_get(transport, "src-port"));
	const char *dp = sx_ytree_str(sx_ytree_get(transport, "dst-port"));
	const char *port = sp && dp ? NULL : sp ? sp : dp;
	char *end;
	long v = port ? strtol(port, &end, 10) : 0;

	return port && end != port && !*end && v >= 1024 && v <= 65535;
}

static bool rotates(const struct pool *p)
{
	if (p->ndocs < 2 || p->naddrs * 2 < p->named)
		return false;
	if (dynamic_both(p->transport))
		return p->naddrs >= 2;
	return vendor_port(p->transport) && p->naddrs >= POOL_MIN && p->npols >= 2;
}

/* Calls fn on every policy of doc (single policies, then each
 * interaction's), with the map holding it and its index there. */
static void each_policy(const struct sx_ytree *doc,
			void (*fn)(void *arg, const struct sx_ytree *map, size_t i), void *arg)
{
	const struct sx_ytree *single = sx_ytree_get(doc, "single-policies");
	const struct sx_ytree *inter = sx_ytree_get(doc, "interactions");
	size_t i, k;

	for (i = 0; single && single->kind == SX_YTREE_MAP && i + 1 < single->n; i += 2)
		fn(arg, single, i);
	for (k = 0; inter && inter->kind == SX_YTREE_MAP && k + 1 < inter->n; k += 2) {
		const struct sx_ytree *pols = inter->kids[k + 1];

		for (i = 0; pols->kind == SX_YTREE_MAP && i + 1 < pols->n; i += 2)
			fn(arg, pols, i);
	}
}

/* Where the first address of end, dots as dashes, is in id; NULL when
 * not there (a named server's policy by its addresses: its id names the
 * server). */
static const char *id_address(const char *id, const struct sx_ytree *end, size_t *len)
{
	const struct sx_ytree *first = end->kind == SX_YTREE_SEQ ? end->kids[0] : end;
	const char *at, *c, *dash = strchr(id, '-');
	char dashed[64];
	size_t i;

	if (!first->text || first->len >= sizeof(dashed) || !dash)
		return NULL;
	for (i = 0; i <= first->len; i++)
		dashed[i] = first->text[i] == '.' || first->text[i] == '/' ? '-' : first->text[i];
	/* "<what>-" or "<what>-<port>-" before it, the end of the id or a
	 * dash after it ("-to-device", "-2"): never inside a name */
	at = strstr(dash + 1, dashed);
	if (!at || at[-1] != '-' || (at[first->len] && at[first->len] != '-'))
		return NULL;
	for (c = dash + 1; c < at; c++)
		if (!(*c >= '0' && *c <= '9') && *c != '-')
			return NULL;
	*len = first->len;
	return at;
}

/* The public end of a policy of unnamed servers (public_end(), its id
 * naming the first address), -1 when none. */
static int unnamed_end(const struct sx_ytree *map, size_t i)
{
	int e = public_end(map->kids[i + 1]);
	size_t len;

	if (e < 0 || !map->kids[i]->text ||
	    !id_address(map->kids[i]->text, ipv4_of(map->kids[i + 1])->kids[e], &len))
		return -1;
	return e;
}

static void count_pool(void *arg, const struct sx_ytree *map, size_t i)
{
	const struct sx_ytree *pol = map->kids[i + 1];
	int e = unnamed_end(map, i);
	struct pools *ps = arg;
	struct pool *p = e >= 0 ? pool_of(ps, pol, true) : NULL;

	if (p) {
		const struct sx_ytree *end = ipv4_of(pol)->kids[e];

		pool_add(p, end);
		p->npols++;
		p->ndocs += p->last_doc != ps->doc;
		p->last_doc = ps->doc;
	}
}

/* "udp-130-104-214-55" -> "udp-external": the address in the id replaced
 * (unnamed_end()). */
static int rename_external(struct sx_ytree *key, const struct sx_ytree *end)
{
	char id[512];
	size_t len = 0;
	const char *at = id_address(key->text, end, &len);

	if (!at)
		return 0;
	snprintf(id, sizeof(id), "%.*sexternal%s", (int)(at - key->text), key->text, at + len);
	return sx_ytree_set_text(key, id);
}

struct to_external {
	struct pools *pools; /* counted over the originals */
	int ret;
};

static void to_external(void *arg, const struct sx_ytree *cmap, size_t i)
{
	struct to_external *x = arg;
	struct sx_ytree *map = (struct sx_ytree *)cmap; /* the caller's own copy */
	struct sx_ytree *pol = map->kids[i + 1], *ip4, *ext;
	int e = unnamed_end(map, i);
	struct pool *p = e >= 0 ? pool_of(x->pools, pol, false) : NULL;

	if (!p || !rotates(p) || x->ret)
		return;
	ip4 = ipv4_of(pol);
	x->ret = rename_external(map->kids[i], ip4->kids[e]);
	ext = x->ret ? NULL : sx_ytree_new(SX_YTREE_SCALAR, "external", 0);
	if (!ext) {
		x->ret = -ENOMEM;
		return;
	}
	sx_ytree_free(ip4->kids[e]);
	ip4->kids[e] = ext;
}

/* When the policies of docs[0, n) hold a pool (rotates()): *copies, the
 * documents with its ends "external" (free each and the array); else
 * NULL.  0 or -ENOMEM. */
static int pools_external(const struct sx_ytree *const *docs, size_t n, struct sx_ytree ***copies)
{
	struct pools *ps = calloc(1, sizeof(*ps));
	struct to_external x = {.pools = ps};
	struct sx_ytree **c = NULL;
	size_t i;
	bool any = false;

	*copies = NULL;
	if (!ps)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		ps->doc = i + 1;
		each_policy(docs[i], count_pool, ps);
	}
	for (i = 0; i < ps->n; i++)
		any |= rotates(&ps->p[i]);
	if (!any)
		goto out_pools;
	c = calloc(n, sizeof(*c));
	if (!c) {
		x.ret = -ENOMEM;
		goto out_pools;
	}
	/* the pools' texts are the originals', which stay while the copies change */
	for (i = 0; i < n && !x.ret; i++) {
		c[i] = sx_ytree_dup(docs[i]);
		if (!c[i])
			x.ret = -ENOMEM;
		else
			each_policy(c[i], to_external, &x);
	}
	if (x.ret) {
		for (i = 0; i < n; i++)
			sx_ytree_free(c[i]);
		free(c);
		c = NULL;
	}
	*copies = c;
out_pools:
	free(ps);
	return x.ret;
}

/* The number of items of the IP end e, an address or alias or a list of
 * them; 0 when e holds anything else (a host name). */
static size_t end_items(const struct sx_ytree *e)
{
	size_t i;

	if (e && e->kind == SX_YTREE_SCALAR)
		return e->text && !name_end(e->text);
	if (!e || e->kind != SX_YTREE_SEQ)
		return 0;
	for (i = 0; i < e->n; i++)
		if (e->kids[i]->kind != SX_YTREE_SCALAR || !e->kids[i]->text ||
		    name_end(e->kids[i]->text))
			return 0;
	return e->n;
}

/* Item i of such an end. */
static const struct sx_ytree *end_item(const struct sx_ytree *e, size_t i)
{
	return e->kind == SX_YTREE_SEQ ? e->kids[i] : e;
}

static bool end_has(const struct sx_ytree *e, size_t n, const struct sx_ytree *x)
{
	for (size_t i = 0; i < n; i++)
		if (sx_ytree_equal(x, end_item(e, i)))
			return true;
	return false;
}

/*
 * The IP end a written so that it shares b's queue: b's list when a's
 * items are all among b's, else the list of a's items then b's others when
 * the two share one; *out NULL when they share none (or either holds a
 * host name).  0 or -ENOMEM.
 */
static int joined_end(const struct sx_ytree *a, const struct sx_ytree *b, struct sx_ytree **out)
{
	size_t an = end_items(a), bn = end_items(b), i, shared = 0;
	struct sx_ytree *u;

	*out = NULL;
	for (i = 0; bn && i < an; i++)
		shared += end_has(b, bn, end_item(a, i));
	if (!shared)
		return 0;
	if (shared == an) {
		if (b->kind != SX_YTREE_SEQ)
			return 0;
		*out = sx_ytree_dup(b);
		return *out ? 0 : -ENOMEM;
	}
	u = sx_ytree_new(SX_YTREE_SEQ, NULL, a->kind == SX_YTREE_SEQ ? a->style : b->style);
	for (i = 0; u && i < an + bn; i++) {
		const struct sx_ytree *x = i < an ? end_item(a, i) : end_item(b, i - an);
		struct sx_ytree *c;

		if (i >= an && end_has(a, an, x))
			continue;
		c = sx_ytree_dup(x);
		if (!c || sx_ytree_append(u, c)) {
			sx_ytree_free(u);
			u = NULL;
		}
	}
	*out = u;
	return u ? 0 : -ENOMEM;
}

/*
 * When a and b have the same nftables matches but for one IP end, the
 * slot of a's end and *to, b's; NULL otherwise.
 */
static struct sx_ytree **other_end(struct sx_ytree *a, const struct sx_ytree *b,
				   const struct sx_ytree **to)
{
	static const char *const ends[] = {"src", "dst"};
	struct sx_ytree *pa = (struct sx_ytree *)sx_ytree_get(a, "protocols"), **slot = NULL;
	const struct sx_ytree *pb = sx_ytree_get(b, "protocols");
	size_t i, na = 0, k;

	if (!pa || !pb || pa->kind != SX_YTREE_MAP || pb->kind != SX_YTREE_MAP)
		return NULL;
	for (i = 0; i + 1 < pa->n; i += 2) {
		const char *key = pa->kids[i]->text;
		struct sx_ytree *va = pa->kids[i + 1];
		const struct sx_ytree *vb;

		if (!key || !nft_section(key))
			continue;
		na++;
		vb = sx_ytree_get(pb, key);
		if (!vb)
			return NULL;
		if (sx_ytree_equal(va, vb))
			continue;
		if ((strcmp(key, "ipv4") && strcmp(key, "ipv6")) || slot ||
		    va->kind != SX_YTREE_MAP || vb->kind != SX_YTREE_MAP || va->n != vb->n)
			return NULL;
		for (k = 0; k < 2; k++) {
			size_t j = pair_of(va, ends[k]);
			const struct sx_ytree *eb = sx_ytree_get(vb, ends[k]);

			if (j == va->n && !eb)
				continue;
			if (j == va->n || !eb)
				return NULL;
			if (sx_ytree_equal(va->kids[j + 1], eb))
				continue;
			if (slot)
				return NULL;
			slot = &va->kids[j + 1];
			*to = eb;
		}
		if (!slot)
			return NULL;
	}
	return na == nft_sections(pb) ? slot : NULL;
}

/* Every policy of the profile, in the order written: single policies,
 * then each interaction's.  *n set; NULL on -ENOMEM. */
static struct sx_ytree **all_policies(struct sx_ytree *single, struct sx_ytree *inter, size_t *n)
{
	struct sx_ytree **out;
	size_t i, k, m = single->n / 2;

	for (k = 0; k + 1 < inter->n; k += 2)
		m += inter->kids[k + 1]->n / 2;
	out = sx_calloc_array(m + 1, sizeof(*out));
	if (!out)
		return NULL;
	*n = 0;
	for (i = 0; i + 1 < single->n; i += 2)
		out[(*n)++] = single->kids[i + 1];
	for (k = 0; k + 1 < inter->n; k += 2)
		for (i = 0;
		     inter->kids[k + 1]->kind == SX_YTREE_MAP && i + 1 < inter->kids[k + 1]->n;
		     i += 2)
			out[(*n)++] = inter->kids[k + 1]->kids[i + 1];
	return out;
}

/*
 * First match wins in the firewall, and a queue whose policies all refuse
 * a packet drops it.  Two queue policies of different events whose
 * matches are the same but for an end, one address (or a few) in one and a
 * list holding it in the other (an event's lookups to one of the device's
 * resolvers, another's to both: the Xiaomi camera's), do not share a queue:
 * whichever rule comes first takes the other's packets to the address it
 * shares, and its callback refuses them.  The smaller end becomes the
 * list (ends that share some addresses, both the list of all): the two
 * then have the same matches, share one queue, and its callback tries both
 * (profile.c's join_queues(), across the documents).  Each end so written
 * holds only addresses another policy of the profile admits the device's
 * traffic to, in its transport and ports.
 * A policy left with the protocols of another single policy is that one
 * (drop_twins()).
 */
static int join_queues(struct sx_ytree *single, struct sx_ytree *inter)
{
	struct sx_ytree **pols;
	size_t n, i, j;
	bool changed = true;
	int ret = 0;

	pols = all_policies(single, inter, &n);
	if (!pols)
		return -ENOMEM;
	while (changed && !ret) {
		changed = false;
		for (i = 0; i < n && !ret; i++)
			for (j = 0; j < n && !ret; j++) {
				const struct sx_ytree *to = NULL;
				struct sx_ytree **slot, *c = NULL;

				if (i == j || !queued(pols[i]) || !queued(pols[j]))
					continue;
				slot = other_end(pols[i], pols[j], &to);
				ret = slot ? joined_end(*slot, to, &c) : 0;
				if (!c)
					continue;
				sx_ytree_free(*slot);
				*slot = c;
				changed = true;
			}
	}
	free(pols);
	return ret;
}

/*
 * An event whose document lacked one of the device's addresses (its IPv6
 * link-local address: device-info takes it from another event,
 * complete_info()) wrote the device's own address as it is: an end equal to
 * device-info's ipv4 or ipv6 is "self", as the other events write it, so
 * that the firewall's equal matches are equal here too (a plain mDNS
 * policy from fe80::217:88ff:fe74:c2dc beside a queue one from self shared
 * the Hue bridge's queue, and the translator wrote the plain one's
 * condition empty).  0 or -ENOMEM.
 */
static int self_ends(struct sx_ytree *single, struct sx_ytree *inter, const struct sx_ytree *info)
{
	static const char *const fams[] = {"ipv4", "ipv6"}, *const ends[] = {"src", "dst"};
	struct sx_ytree **pols;
	size_t n, i, f, e;
	int ret = 0;

	pols = all_policies(single, inter, &n);
	if (!pols)
		return -ENOMEM;
	for (i = 0; i < n && !ret; i++)
		for (f = 0; f < 2 && !ret; f++) {
			const char *dev = sx_ytree_str(sx_ytree_get(info, fams[f]));
			struct sx_ytree *sec = (struct sx_ytree *)sx_ytree_get(
			    sx_ytree_get(pols[i], "protocols"), fams[f]);

			for (e = 0; dev && sec && sec->kind == SX_YTREE_MAP && e < 2 && !ret; e++) {
				size_t j = pair_of(sec, ends[e]);
				const char *t = j < sec->n ? sx_ytree_str(sec->kids[j + 1]) : NULL;
				struct sx_ytree *self;

				if (!t || strcmp(t, dev))
					continue;
				self = sx_ytree_new(SX_YTREE_SCALAR, "self", 0); /* plain */
				if (!self)
					ret = -ENOMEM;
				else {
					sx_ytree_free(sec->kids[j + 1]);
					sec->kids[j + 1] = self;
				}
			}
		}
	free(pols);
	return ret;
}

/*
 * After join_queues(): a single policy with the protocols of an earlier
 * one is that one, and an interaction's policy with a single policy's
 * protocols is the single one (merge_interactions()'s rule), folded into
 * it (fold_into()); an interaction left empty goes in fold_plain().
 */
static int drop_twins(struct sx_ytree *single, struct sx_ytree *inter)
{
	size_t i, k;
	int ret = 0;

	for (i = 2; i + 1 < single->n && !ret;) {
		struct sx_ytree *same = find_same_before(single, i, single->kids[i + 1]);

		if (!same) {
			i += 2;
			continue;
		}
		ret = fold_into(same, single->kids[i + 1]);
		sx_ytree_map_remove(single, i);
	}
	for (k = 0; k + 1 < inter->n && !ret; k += 2) {
		struct sx_ytree *pols = inter->kids[k + 1];

		for (i = 0; pols->kind == SX_YTREE_MAP && i + 1 < pols->n && !ret;) {
			struct sx_ytree *same = find_same(single, pols->kids[i + 1]);

			if (!same) {
				i += 2;
				continue;
			}
			ret = fold_into(same, pols->kids[i + 1]);
			sx_ytree_map_remove(pols, i);
		}
	}
	return ret;
}

/*
 * Whether the plain policy v's accept would take packets of t (any policy,
 * its queue sections aside) before t: the same transport, v's ports equal
 * to t's or none, and each ipv4 end of v t's own, or "external" where t's
 * is outside the LAN or a host name (which the firewall resolves to one).
 */
static bool takes_first(const struct sx_ytree *v, const struct sx_ytree *t)
{
	const struct sx_ytree *pv = sx_ytree_get(v, "protocols"),
			      *pt = sx_ytree_get(t, "protocols");
	const char *proto = sx_ytree_get(pv, "udp")   ? "udp"
			    : sx_ytree_get(pv, "tcp") ? "tcp"
						      : NULL;
	const struct sx_ytree *vt, *tt, *v4, *t4;
	size_t i;

	if (!proto || !(tt = sx_ytree_get(pt, proto)))
		return false;
	vt = sx_ytree_get(pv, proto);
	if (!sx_ytree_is_null(vt) && !(vt->kind == SX_YTREE_MAP && !vt->n) &&
	    !sx_ytree_equal(vt, tt))
		return false;
	v4 = sx_ytree_get(pv, "ipv4");
	t4 = sx_ytree_get(pt, "ipv4");
	if (!v4 || !t4 || v4->kind != SX_YTREE_MAP)
		return false;
	for (i = 0; i + 1 < v4->n; i += 2) {
		const struct sx_ytree *te = sx_ytree_get(t4, v4->kids[i]->text);

		if (te && !end_holds(v4->kids[i + 1], te, true))
			return false;
	}
	return true;
}

/* Whether a policy of map matches what v matches; or, v being plain (pv),
 * has v's nftables matches or would have packets taken by v's accept
 * first (takes_first()); or, v queued, is plain with v's nftables matches
 * (fold_plain() would fold v into it). */
static bool meets_map(const struct sx_ytree *map, const struct sx_ytree *v, bool pv)
{
	size_t i;

	if (map->kind != SX_YTREE_MAP)
		return false;
	if (find_same(map, v))
		return true;
	for (i = 0; i + 1 < map->n; i += 2) {
		const struct sx_ytree *t = map->kids[i + 1];

		if (pv ? same_nft(v, t) || takes_first(v, t) : plain(t) && same_nft(t, v))
			return true;
	}
	return false;
}

static bool meets_any(const struct sx_ytree *single, const struct sx_ytree *inter,
		      const struct sx_ytree *v)
{
	bool pv = plain(v);
	size_t k;

	if (meets_map(single, v, pv))
		return true;
	for (k = 0; k + 1 < inter->n; k += 2)
		if (meets_map(inter->kids[k + 1], v, pv))
			return true;
	return false;
}

/*
 * The extra document's single policies (the whole captures' traffic that
 * no event's result holds: the main job's wide_only()), each where it
 * changes nothing of the rest: one matching what a policy of the profile
 * matches, or whose plain accept would take another's packets first, is
 * left out, so that an extra policy never moves or shadows an event's.
 */
static int add_extra(struct sx_ytree *single, const struct sx_ytree *inter,
		     const struct sx_ytree *extra)
{
	const struct sx_ytree *src = extra ? sx_ytree_get(extra, "single-policies") : NULL;
	size_t i;
	int ret = 0;

	for (i = 0; src && src->kind == SX_YTREE_MAP && i + 1 < src->n && !ret; i += 2)
		if (!meets_any(single, inter, src->kids[i + 1]))
			ret = add_policy(single, src->kids[i]->text, src->kids[i + 1], false);
	return ret;
}

static int build(const struct sx_ytree *const *docs, size_t n, const struct sx_ytree *extra,
		 struct sx_ytree *root)
{
	struct sx_ytree *info = NULL, *single, *inter;
	char last[128] = "";
	size_t i;
	int ret = 0;

	single = sx_ytree_new(SX_YTREE_MAP, NULL, 0);
	inter = sx_ytree_new(SX_YTREE_MAP, NULL, 0);
	if (!single || !inter) {
		ret = -ENOMEM;
		goto out_maps;
	}
	for (i = 0; i < n && !ret; i++) {
		const struct sx_ytree *di = sx_ytree_get(docs[i], "device-info");
		const char *lu = sx_ytree_str(sx_ytree_get(di, "last-update"));

		if (!info && di) {
			info = sx_ytree_dup(di);
			if (!info) {
				ret = -ENOMEM;
				break;
			}
		}
		if (lu && strcmp(lu, last) > 0)
			snprintf(last, sizeof(last), "%s", lu);
		ret = merge_map(single, sx_ytree_get(docs[i], "single-policies"), true);
	}
	if (!ret)
		ret = merge_interactions(single, inter, docs, n);
	if (!ret)
		ret = add_extra(single, inter, extra);
	if (!ret && info)
		ret = complete_info(info, docs, n);
	if (!ret && info)
		ret = self_ends(single, inter, info);
	if (!ret)
		ret = join_queues(single, inter);
	if (!ret)
		ret = drop_twins(single, inter);
	if (!ret)
		ret = fold_plain(single, inter);
	if (!ret)
		ret = set_states(single, inter);
	if (!ret && info)
		ret = set_last_update(info, last);
	if (!single->n)
		single->style = SX_YSTYLE_FLOW;
	if (!inter->n)
		inter->style = SX_YSTYLE_FLOW;
	if (!ret && info)
		ret = add_pair(root, "device-info", info);
	if (!ret)
		ret = add_pair(root, "single-policies", single);
	if (!ret)
		ret = add_pair(root, "interactions", inter);
	sx_ytree_free(info);
out_maps:
	sx_ytree_free(single);
	sx_ytree_free(inter);
	return ret;
}

int sx_emit_profile_merge(const struct sx_ytree *const *docs, size_t n, FILE *f, char *msg,
			  size_t msglen)
{
	return sx_emit_profile_merge_extra(docs, n, NULL, f, msg, msglen);
}

int sx_emit_profile_merge_extra(const struct sx_ytree *const *docs, size_t n,
				const struct sx_ytree *extra, FILE *f, char *msg, size_t msglen)
{
	struct sx_ytree *root, **copies = NULL;
	size_t i;
	int ret;

	for (i = 0; i < n; i++)
		if (!docs[i] || docs[i]->kind != SX_YTREE_MAP) {
			snprintf(msg, msglen, "event %zu: not a profile", i + 1);
			return SX_E_FORMAT;
		}
	if (extra && extra->kind != SX_YTREE_MAP) {
		snprintf(msg, msglen, "the extra policies: not a profile");
		return SX_E_FORMAT;
	}
	ret = pools_external(docs, n, &copies);
	root = ret ? NULL : sx_ytree_new(SX_YTREE_MAP, NULL, 0);
	if (!root) {
		snprintf(msg, msglen, "out of memory");
		ret = -ENOMEM;
		goto out_copies;
	}
	ret = build(copies ? (const struct sx_ytree *const *)copies : docs, n, extra, root);
	if (ret == -EEXIST)
		snprintf(msg, msglen, "too many policies with one id");
	else if (ret)
		snprintf(msg, msglen, "out of memory");
	else
		ret = sx_ytree_emit(f, root, msg, msglen);
	sx_ytree_free(root);
out_copies:
	for (i = 0; copies && i < n; i++)
		sx_ytree_free(copies[i]);
	free(copies);
	return ret;
}
