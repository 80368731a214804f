/*
 * upstream.c - `--mode upstream`: the run, pattern mining and policies of
 * the reference tool (signature-extraction at 15015a3: main.py,
 * pattern_detection.py, pattern.py), reproduced step by step.
 *
 * Mining (find_patterns): the tables are sorted by row count (stable, so
 * ties keep command-line order); the first is the reference.  Each of its
 * rows, in order, becomes one pattern:
 *   - candidates: every row of every table, in sorted table order, whose
 *     two hosts are both in the reference row's pair and whose transport is
 *     the same;
 *   - ports: the reference row's two ports, then both ports of every
 *     candidate (the reference row again among them), each counted, each
 *     remembering the host of its first occurrence;
 *   - the fixed ports of earlier patterns are removed; the fixed port is
 *     the first "known" port (9999/tcp, or in the services table for the
 *     transport) by count, descending and stable, else the most counted;
 *   - kept rows: the candidates with the fixed port on either side; the
 *     ports are counted again from them alone, and histograms of Length,
 *     ApplicationSpecific and nbPacket are made of them, skipping "" and 0;
 *     the printed fixed port is computed again on these ports.
 *
 * Policies (generate_policies, Pattern.profile_extractor):
 *   - ipv4 src / dst: the reference takes list(set(hosts) & set(kept
 *     DeviceHost))[0], whose order depends on Python's string hashing when
 *     both hosts occur.  sigex takes the first kept row's DeviceHost and
 *     OtherHost: this is the value whenever the intersection has one
 *     element, and what Python gives when it has two whose hashes collide
 *     in the set's table (its iteration is then in insertion order, i.e.
 *     the order of the kept rows), so the reference can produce it.  The
 *     device's address becomes "self";
 *   - tcp|udp: src-port when the fixed port is among the kept DevicePorts,
 *     dst-port (replacing it) when among the OtherPorts; udp port 53 adds
 *     dns {qtype, domain-name} split from the first ApplicationSpecific;
 *   - id: the last protocol key and its values joined by "_"; a later
 *     policy with the same id replaces the earlier one.
 *
 * Where the reference crashes, sigex goes on: a port 0 is not counted
 * (KeyError), a pattern whose ports were all taken by earlier patterns is
 * not made (IndexError), and a dns section is left out when the first
 * ApplicationSpecific has no space or there is none (IndexError).
 */
#include "upstream/upstream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "mine/services.h"
#include "upstream/upstream_int.h"

bool sx_upstream_known_port(uint16_t port, const char *transport)
{
	if (strcmp(transport, "TCP") == 0)
		return port == 9999 || sx_service_by_port(port, "tcp") != NULL;
	if (strcmp(transport, "UDP") == 0)
		return sx_service_by_port(port, "udp") != NULL;
	return false;
}

/* ---- pattern building ---- */

struct ports {
	struct sx_up_port *v;
	size_t n, cap;
};

static int ports_add(struct ports *ps, uint16_t port, const char *host)
{
	size_t i;

	if (port == 0) /* the reference: KeyError */
		return 0;
	for (i = 0; i < ps->n; i++) {
		if (ps->v[i].port == port) {
			ps->v[i].number++;
			return 0;
		}
	}
	if (ps->n == ps->cap) {
		size_t ncap = ps->cap ? ps->cap * 2 : 8;
		struct sx_up_port *nv = realloc(ps->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		ps->v = nv;
		ps->cap = ncap;
	}
	ps->v[ps->n].port = port;
	ps->v[ps->n].number = 1;
	ps->v[ps->n].host = host;
	ps->n++;
	return 0;
}

static int ports_add_row(struct ports *ps, const struct sx_up_row *r)
{
	int ret = ports_add(ps, r->dev_port, r->dev_host);

	return ret ? ret : ports_add(ps, r->other_port, r->other_host);
}

static void ports_remove(struct ports *ps, uint16_t port)
{
	size_t i;

	for (i = 0; i < ps->n; i++) {
		if (ps->v[i].port == port) {
			memmove(&ps->v[i], &ps->v[i + 1], (ps->n - i - 1) * sizeof(ps->v[0]));
			ps->n--;
			return;
		}
	}
}

/* getFixedPort(): by count, descending and stable; the first known port,
 * else the first.  n > 0. */
static uint16_t fixed_port(const struct sx_up_port *v, size_t n, const char *transport)
{
	uint64_t best = 0;
	size_t i;
	bool found = false;
	uint16_t first = 0;
	uint64_t num;

	/* Walk the counts from the highest down; within a count, insertion order. */
	for (i = 0; i < n; i++)
		if (v[i].number > best)
			best = v[i].number;
	num = best;
	for (;;) {
		uint64_t next = 0;

		for (i = 0; i < n; i++) {
			if (v[i].number == num) {
				if (!found) {
					first = v[i].port;
					found = true;
				}
				if (sx_upstream_known_port(v[i].port, transport))
					return v[i].port;
			} else if (v[i].number < num && v[i].number > next) {
				next = v[i].number;
			}
		}
		if (next == 0)
			break;
		num = next;
	}
	return first;
}

static int count_num(struct sx_up_count **v, size_t *n, uint64_t num)
{
	struct sx_up_count *nv;
	size_t i;

	if (num == 0)
		return 0;
	for (i = 0; i < *n; i++) {
		if (!(*v)[i].str && (*v)[i].num == num) {
			(*v)[i].count++;
			return 0;
		}
	}
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = (struct sx_up_count){.num = num, .count = 1};
	(*n)++;
	return 0;
}

static int count_str(struct sx_up_count **v, size_t *n, const char *s)
{
	struct sx_up_count *nv;
	size_t i;

	if (!s[0])
		return 0;
	for (i = 0; i < *n; i++) {
		if (strcmp((*v)[i].str, s) == 0) {
			(*v)[i].count++;
			return 0;
		}
	}
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = (struct sx_up_count){.str = s, .count = 1};
	(*n)++;
	return 0;
}

static bool in_pair(const char *h, const char *const pair[2])
{
	return strcmp(h, pair[0]) == 0 || strcmp(h, pair[1]) == 0;
}

static void pattern_fini(struct sx_up_pattern *p)
{
	free(p->ports);
	free(p->length);
	free(p->app);
	free(p->npackets);
	free(p->rows);
	memset(p, 0, sizeof(*p));
}

/*
 * One pattern from reference row ref.  *made is false when the reference
 * would crash (no port left).  matched holds the fixed ports so far.
 */
static int make_pattern(struct sx_up_pattern *p, const struct sx_up_row *ref,
			const struct sx_up_table *const *sorted, size_t ntables,
			struct ports *matched, bool *made)
{
	const struct sx_up_row **cand = NULL;
	size_t ncand = 0, capc = 0, i, j, k;
	struct ports ps = {0}, fin = {0};
	uint16_t base;
	int ret = 0;

	*made = false;
	memset(p, 0, sizeof(*p));
	p->hosts[0] = ref->dev_host;
	p->hosts[1] = ref->other_host;
	p->transport = ref->transport;
	ret = ports_add_row(&ps, ref);
	for (i = 0; i < ntables && !ret; i++) {
		for (j = 0; j < sorted[i]->nrows; j++) {
			const struct sx_up_row *r = &sorted[i]->rows[j];

			if (!in_pair(r->dev_host, p->hosts) || !in_pair(r->other_host, p->hosts) ||
			    strcmp(r->transport, p->transport) != 0)
				continue;
			if (ncand == capc) {
				size_t ncap = capc ? capc * 2 : 8;
				const struct sx_up_row **nc = realloc(cand, ncap * sizeof(*nc));

				if (!nc) {
					ret = -ENOMEM;
					break;
				}
				cand = nc;
				capc = ncap;
			}
			cand[ncand++] = r;
		}
	}
	for (i = 0; i < ncand && !ret; i++)
		ret = ports_add_row(&ps, cand[i]);
	if (ret)
		goto out_free;
	for (i = 0; i < matched->n; i++)
		ports_remove(&ps, matched->v[i].port);
	if (ps.n == 0) /* the reference: IndexError */
		goto out_free;
	base = fixed_port(ps.v, ps.n, p->transport);
	ret = ports_add(matched, base, NULL);
	if (ret)
		goto out_free;

	/* keep the candidates with the fixed port, in place */
	for (i = 0, k = 0; i < ncand; i++)
		if (cand[i]->dev_port == base || cand[i]->other_port == base)
			cand[k++] = cand[i];
	ncand = k;
	for (i = 0; i < ncand && !ret; i++) {
		ret = ports_add_row(&fin, cand[i]);
		if (!ret)
			ret = count_num(&p->length, &p->nlength, cand[i]->length);
		if (!ret)
			ret = count_str(&p->app, &p->napp, cand[i]->app);
		if (!ret)
			ret = count_num(&p->npackets, &p->nnpackets, cand[i]->npackets);
	}
	if (ret)
		goto out_free;
	p->ports = fin.v;
	p->nports = fin.n;
	fin.v = NULL;
	p->fixed = p->nports ? fixed_port(p->ports, p->nports, p->transport) : base;
	p->rows = cand;
	p->nrows = ncand;
	cand = NULL;
	*made = true;
out_free:
	free(fin.v);
	free(ps.v);
	free(cand);
	if (ret)
		pattern_fini(p);
	return ret;
}

int sx_up_find_patterns(struct sx_upstream_result *r)
{
	const struct sx_up_table **sorted;
	struct ports matched = {0};
	const struct sx_up_table *ref;
	size_t i, j;
	int ret = 0;

	if (r->ntables == 0)
		return 0;
	sorted = calloc(r->ntables, sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	/* stable insertion sort by row count */
	for (i = 0; i < r->ntables; i++) {
		const struct sx_up_table *t = &r->tables[i];

		for (j = i; j > 0 && sorted[j - 1]->nrows > t->nrows; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = t;
	}
	ref = sorted[0];
	r->patterns = calloc(ref->nrows ? ref->nrows : 1, sizeof(*r->patterns));
	if (!r->patterns) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (i = 0; i < ref->nrows; i++) {
		bool made;

		ret = make_pattern(&r->patterns[r->npatterns], &ref->rows[i], sorted, r->ntables,
				   &matched, &made);
		if (ret)
			break;
		if (made)
			r->npatterns++;
	}
out_free:
	free(matched.v);
	free(sorted);
	return ret;
}

/* ---- policies ---- */

static bool port_among(const struct sx_up_pattern *p, uint16_t port, bool device)
{
	size_t i;

	for (i = 0; i < p->nrows; i++)
		if ((device ? p->rows[i]->dev_port : p->rows[i]->other_port) == port)
			return true;
	return false;
}

static char *policy_id(const struct sx_up_policy *pol)
{
	size_t n = strlen(pol->src) + strlen(pol->dst) + 64;
	char *id;

	if (pol->dns)
		n += strlen(pol->qtype) + strlen(pol->domain);
	id = malloc(n);
	if (!id)
		return NULL;
	if (pol->dns)
		snprintf(id, n, "dns_%s_%s", pol->qtype, pol->domain);
	else if (pol->l4)
		snprintf(id, n, "%s_%u", pol->l4, pol->port);
	else
		snprintf(id, n, "ipv4_%s_%s", pol->src, pol->dst);
	return id;
}

static void policy_fini(struct sx_up_policy *pol)
{
	free(pol->id);
	free(pol->qtype);
	free(pol->domain);
	memset(pol, 0, sizeof(*pol));
}

/* The dns section from "QTYPE NAME." (Python's split(" "), then [:-1]). */
static int policy_dns(struct sx_up_policy *pol, const char *query)
{
	const char *sp = strchr(query, ' ');
	const char *end;
	size_t n;

	if (!sp)
		return 0;
	end = strchr(sp + 1, ' ');
	if (!end)
		end = sp + 1 + strlen(sp + 1);
	n = (size_t)(end - (sp + 1));
	pol->qtype = strndup(query, (size_t)(sp - query));
	pol->domain = strndup(sp + 1, n ? n - 1 : 0);
	if (!pol->qtype || !pol->domain)
		return -ENOMEM;
	pol->dns = true;
	return 0;
}

int sx_up_make_policies(struct sx_upstream_result *r)
{
	size_t i, j;
	int ret;

	r->policies = calloc(r->npatterns ? r->npatterns : 1, sizeof(*r->policies));
	if (!r->policies)
		return -ENOMEM;
	for (i = 0; i < r->npatterns; i++) {
		const struct sx_up_pattern *p = &r->patterns[i];
		struct sx_up_policy pol = {0};
		bool src_port, dst_port;

		if (p->nrows == 0)
			continue;
		pol.src = p->rows[0]->dev_host;
		pol.dst = p->rows[0]->other_host;
		if (strcmp(pol.src, r->ipv4) == 0)
			pol.src = "self";
		if (strcmp(pol.dst, r->ipv4) == 0)
			pol.dst = "self";
		src_port = port_among(p, p->fixed, true);
		dst_port = port_among(p, p->fixed, false);
		if (src_port || dst_port) {
			pol.l4 = strcmp(p->transport, "TCP") == 0 ? "tcp" : "udp";
			pol.port_key = dst_port ? "dst-port" : "src-port";
			pol.port = p->fixed;
		}
		if (pol.l4 && strcmp(pol.l4, "udp") == 0 && pol.port == 53 && p->napp > 0) {
			ret = policy_dns(&pol, p->app[0].str);
			if (ret) {
				policy_fini(&pol);
				return ret;
			}
		}
		pol.id = policy_id(&pol);
		if (!pol.id) {
			policy_fini(&pol);
			return -ENOMEM;
		}
		for (j = 0; j < r->npolicies; j++)
			if (strcmp(r->policies[j].id, pol.id) == 0)
				break;
		if (j < r->npolicies)
			policy_fini(&r->policies[j]);
		else
			r->npolicies++;
		r->policies[j] = pol;
	}
	return 0;
}

/* ---- the run ---- */

static void table_fini(struct sx_up_table *t)
{
	size_t i;

	for (i = 0; i < t->nrows; i++) {
		free(t->rows[i].dev_host);
		free(t->rows[i].other_host);
		free(t->rows[i].protocol);
		free(t->rows[i].app);
	}
	free(t->rows);
	free(t->path);
	free(t->csv_name);
}

void sx_upstream_result_free(struct sx_upstream_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->npolicies; i++)
		policy_fini(&r->policies[i]);
	free(r->policies);
	for (i = 0; i < r->npatterns; i++)
		pattern_fini(&r->patterns[i]);
	free(r->patterns);
	for (i = 0; i < r->ntables; i++)
		table_fini(&r->tables[i]);
	free(r->tables);
	free(r->ipv4);
	free(r);
}

int sx_upstream_run(const struct sx_upstream_cfg *cfg, struct sx_upstream_result **out, char *msg,
		    size_t msglen)
{
	struct sx_upstream_result *r;
	size_t i;
	int ret;

	*out = NULL;
	if (msglen)
		msg[0] = '\0';
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->ipv4 = strdup(cfg->ipv4 ? cfg->ipv4 : "");
	r->tables = calloc(cfg->npaths ? cfg->npaths : 1, sizeof(*r->tables));
	if (!r->ipv4 || !r->tables) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (i = 0; i < cfg->npaths; i++) {
		r->ntables++;
		ret = sx_up_read_capture(cfg->paths[i], &r->tables[i], msg, msglen);
		if (ret)
			goto out_free;
	}
	ret = sx_up_find_patterns(r);
	if (!ret)
		ret = sx_up_make_policies(r);
	if (ret)
		goto out_free;
	*out = r;
	return 0;
out_free:
	if (msglen && !msg[0])
		snprintf(msg, msglen, "%s", sx_strerror(ret));
	sx_upstream_result_free(r);
	return ret;
}
