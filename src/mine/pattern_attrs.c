/*
 * pattern_attrs.c - a pattern's application fields: the attributes most of
 * its flows hold; for the keys that name the application, every other value
 * too, merged into its generalisation (common name suffix under one
 * registrable domain, path prefix under one host) where two or more share
 * one; and their typed form (rules in patterns.c's design).
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

/* ---- application attributes ---- */

struct atok {
	const char *s; /* "key=value" inside an interned attrs string */
	uint32_t len;
	uint32_t w; /* member flows holding it there */
};

static int atok_cmp(const void *a, const void *b)
{
	const struct atok *x = a, *y = b;
	uint32_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->s, y->s, n);

	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

static inline bool atok_before(const struct atok *x, const struct atok *y)
{
	return atok_cmp(x, y) < 0;
}

SX_MINE_SORT_DEFINE(atok_sort, struct atok, atok_before, atok_cmp)

struct aval {
	char key[32];
	char value[SX_FLOW_ATTR_MAX];
	uint32_t count;
};

static bool gen_key(const char *k)
{
	return !strcmp(k, "dns.q") || !strcmp(k, "mdns.q") || !strcmp(k, "llmnr.q") ||
	       !strcmp(k, "tls.sni") || !strcmp(k, "http.req") || !strcmp(k, "coap");
}

/* Split a value into head (kept as is) and tail (generalised) for key k. */
static size_t head_len(const char *k, const char *v)
{
	const char *c;

	if (!strcmp(k, "tls.sni"))
		return 0;
	c = strchr(v, ':');
	if (!c)
		return 0;
	if (!strcmp(k, "coap")) {
		const char *c2 = strchr(c + 1, ':');

		return c2 ? (size_t)(c2 - v) + 1 : 0;
	}
	return (size_t)(c - v) + 1;
}

/* Common prefix of paths cut after its last '/', or 0 when none useful. */
static size_t path_prefix(const char *const *tails, uint32_t n)
{
	size_t len = strlen(tails[0]), i, j;

	for (i = 1; i < n; i++) {
		for (j = 0; j < len && tails[i][j] == tails[0][j]; j++)
			;
		len = j;
	}
	while (len > 0 && tails[0][len - 1] != '/')
		len--;
	return len;
}

/*
 * The group of value v of key k: values of one group may be generalised
 * together.  Names: the head and the registrable domain of the name (the
 * suffix never goes above it, mine/domains.c); requests: the head and the
 * host, up to the path's first '/'.
 */
static void group_of(const char *k, const char *v, bool names, char *out, size_t outsz)
{
	size_t hl = head_len(k, v);
	const char *tail = v + hl;

	if (names)
		snprintf(out, outsz, "%.*s|%s", (int)hl, v, sx_mine__reg_domain(tail));
	else
		snprintf(out, outsz, "%.*s|%.*s", (int)hl, v, (int)strcspn(tail, "/"), tail);
}

/*
 * The generalisation of the values vals[idx[0..n)] of key k, one group of
 * group_of(), two or more: "head*.suffix" for names, "head" + the common
 * path prefix + "*" for requests.  False when there is none: a name equal
 * to the suffix itself ("*.x.com" would not match "x.com"), or paths with
 * no common prefix that holds a '/'.
 */
static bool generalise(const char *k, const struct aval *vals, const uint32_t *idx, uint32_t n,
		       bool names, char *out, size_t outsz)
{
	const char **tails = sx_calloc_array(n, sizeof(*tails));
	char suffix[SX_FLOW_ATTR_MAX];
	size_t hl = head_len(k, vals[idx[0]].value), pl;
	bool ok = false;
	uint32_t i;

	if (!tails)
		return false; /* no generalisation: the values stay apart */
	for (i = 0; i < n; i++)
		tails[i] = vals[idx[i]].value + hl;
	if (names) {
		if (!sx_mine__names_suffix(tails, n, suffix, sizeof(suffix)))
			goto out_free_tails;
		for (i = 0; i < n; i++)
			if (!strcmp(tails[i], suffix))
				goto out_free_tails;
		ok = sx_mine__cat3(out, outsz, vals[idx[0]].value, hl, "*.", suffix);
		goto out_free_tails;
	}
	pl = path_prefix(tails, n);
	if (!pl || pl >= SX_FLOW_ATTR_MAX || !memchr(tails[0], '/', pl))
		goto out_free_tails;
	snprintf(suffix, sizeof(suffix), "%.*s", (int)pl, tails[0]);
	ok = sx_mine__cat3(out, outsz, vals[idx[0]].value, hl, suffix, "*");
out_free_tails:
	free(tails);
	return ok;
}

static int add_attr(struct ctx *cx, struct sx_mine_attr *a, const char *k, const char *v,
		    uint32_t count, bool generalised, bool minor)
{
	a->key = sx_mine__strdup(cx->ra, k);
	a->value = sx_mine__strdup(cx->ra, v);
	a->count = count;
	a->generalised = generalised;
	a->minor = minor;
	return a->key && a->value ? 0 : -ENOMEM;
}

/*
 * The values of identity key k that fewer than half of the flows hold,
 * vals[0..nv), appended to attrs at *na: none is dropped.  Values of one
 * group (group_of()) become their generalisation, with the sum of their
 * counts; the others stay as they are (minor).  0 or -ENOMEM.
 */
static int keep_minor(struct ctx *cx, const struct aval *vals, uint32_t nv, uint32_t nflows,
		      struct sx_mine_attr *attrs, uint32_t *na)
{
	const char *k = vals[0].key;
	bool names = strcmp(k, "http.req") && strcmp(k, "coap");
	char gi[SX_FLOW_ATTR_MAX + 8], gj[SX_FLOW_ATTR_MAX + 8], out[SX_FLOW_ATTR_MAX];
	uint32_t *idx = NULL, i, j, n, total;
	bool *done = NULL;
	int ret = -ENOMEM;

	idx = sx_calloc_array(nv + 1, sizeof(*idx));
	done = sx_calloc_array(nv + 1, sizeof(*done));
	if (!idx || !done)
		goto out_free;
	for (i = 0; i < nv; i++) {
		if (done[i] || vals[i].count * 2 >= nflows)
			continue;
		group_of(k, vals[i].value, names, gi, sizeof(gi));
		for (j = i, n = 0, total = 0; j < nv; j++) {
			if (done[j] || vals[j].count * 2 >= nflows)
				continue;
			group_of(k, vals[j].value, names, gj, sizeof(gj));
			if (strcmp(gi, gj))
				continue;
			idx[n++] = j;
			total += vals[j].count;
		}
		if (n >= 2 && generalise(k, vals, idx, n, names, out, sizeof(out))) {
			ret = add_attr(cx, &attrs[(*na)++], k, out, total < nflows ? total : nflows,
				       true, false);
			if (ret)
				goto out_free;
			for (j = 0; j < n; j++)
				done[idx[j]] = true;
			continue;
		}
		ret = add_attr(cx, &attrs[(*na)++], k, vals[i].value, vals[i].count, false, true);
		if (ret)
			goto out_free;
		done[i] = true;
	}
	ret = 0;
out_free:
	free(idx);
	free(done);
	return ret;
}

static int attr_cmp(const void *a, const void *b)
{
	const struct sx_mine_attr *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : strcmp(x->value, y->value);
}

static int grow_toks(struct atok **toks, uint32_t *cap)
{
	uint32_t ncap = *cap ? *cap * 2 : 64;
	struct atok *nt = sx_realloc_array(*toks, ncap, sizeof(*nt));

	if (!nt)
		return -ENOMEM;
	*toks = nt;
	*cap = ncap;
	return 0;
}

int sx_mine__build_attrs(struct ctx *cx, const struct clu *c, struct sx_mine_pattern *p)
{
	const struct sx_mine_input *in = cx->in;
	struct atok *toks = NULL;
	struct aval *vals = NULL;
	struct sx_mine_attr *attrs = NULL;
	uint32_t nt = 0, cap = 0, i, j, nv = 0, na = 0, last = 0;
	const char *prev = NULL;
	int ret = -ENOMEM;

	for (i = 0; i < c->n; i++) {
		const char *s = in->flows[c->mem[i]]->attrs;

		/* a run of members with one (interned) attrs string, the usual
		 * case, is split into tokens once */
		if (s == prev) {
			for (j = last; j < nt; j++)
				toks[j].w++;
			continue;
		}
		prev = s;
		last = nt;
		while (*s) {
			size_t n = strcspn(s, " ");

			if (n && memchr(s, '=', n)) {
				if (nt == cap && grow_toks(&toks, &cap))
					goto out_free;
				toks[nt].s = s;
				toks[nt].w = 1;
				toks[nt++].len = (uint32_t)n;
			}
			s += n;
			while (*s == ' ')
				s++;
		}
	}
	if (nt)
		atok_sort(toks, nt);
	/* room for the distinct tokens, not for all: a value is 0.8 KiB */
	for (i = 0, j = 0; i < nt; i++)
		j += !i || atok_cmp(&toks[i - 1], &toks[i]);
	vals = sx_calloc_array(j + 1, sizeof(*vals));
	if (!vals)
		goto out_free;
	for (i = 0; i < nt; i = j) {
		const char *eq = memchr(toks[i].s, '=', toks[i].len);
		size_t kl = (size_t)(eq - toks[i].s);
		uint32_t count = toks[i].w;

		for (j = i + 1; j < nt && !atok_cmp(&toks[i], &toks[j]); j++)
			count += toks[j].w;
		if (kl >= sizeof(vals[nv].key))
			continue;
		memcpy(vals[nv].key, toks[i].s, kl);
		vals[nv].key[kl] = '\0';
		snprintf(vals[nv].value, sizeof(vals[nv].value), "%.*s",
			 (int)(toks[i].len - kl - 1), eq + 1);
		vals[nv].count = count;
		nv++;
	}
	/* vals are sorted by "key=value", so values of one key are adjacent */
	attrs = sx_mine__alloc_array(cx->ra, nv + 1, sizeof(*attrs));
	if (!attrs)
		goto out_free;
	for (i = 0; i < nv; i = j) {
		for (j = i; j < nv && !strcmp(vals[j].key, vals[i].key); j++) {
			bool minor = vals[j].count * 2 < c->n;

			/* a DHCP message type of two flows or more: a client that
			 * mostly renews its lease with a request still begins
			 * with a discover after some boots (MAXGateway: 7 of 20) */
			if (minor && !(!strcmp(vals[j].key, "dhcp") && vals[j].count >= 2))
				continue;
			if (add_attr(cx, &attrs[na++], vals[j].key, vals[j].value, vals[j].count,
				     false, minor))
				goto out_free;
		}
		if (gen_key(vals[i].key) && keep_minor(cx, vals + i, j - i, c->n, attrs, &na))
			goto out_free;
	}
	qsort(attrs, na, sizeof(*attrs), attr_cmp);
	p->attrs = attrs;
	p->nattrs = na;
	ret = 0;
out_free:
	free(toks);
	free(vals);
	return ret;
}

static void append_word(char *dst, size_t dsz, const char *w)
{
	size_t len = strlen(dst);

	if (len)
		snprintf(dst + len, dsz - len, " %s", w);
	else
		snprintf(dst, dsz, "%s", w);
}

/* The packet text of an attribute value: "\x20" back to a space ("\\" and
 * other escapes of core/text.h stay). */
static void unescape_spaces(char *s)
{
	char *w = s;

	while (*s) {
		if (s[0] == '\\' && s[1] == '\\') {
			*w++ = *s++;
			*w++ = *s++;
		} else if (!strncmp(s, "\\x20", 4)) {
			*w++ = ' ';
			s += 4;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
}

/* A CoAP code text that is a method ("GET", "POST"), not a response
 * ("2.05") or "EMPTY". */
bool sx_mine__coap_is_request(const char *code)
{
	return code[0] >= 'A' && code[0] <= 'Z' && strncmp(code, "EMPTY", 5) != 0;
}

/* Whether word w is in the space-separated list. */
static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);

	for (;;) {
		size_t len = strcspn(list, " ");

		if (len == n && !strncmp(list, w, n))
			return true;
		if (!list[len])
			return false;
		list += len + 1;
	}
}

/*
 * The question names of key k (the key of a->dns_name), distinct, in
 * attribute order, with the union of their types.  A type that does not fit
 * in dns_qtype is left out (the policy is then narrower, never broader).
 * 0 or -ENOMEM.
 */
static int dns_names(struct ctx *cx, struct sx_mine_pattern *p, const char *k)
{
	struct sx_mine_app *a = &p->app;
	const char **names = sx_mine__alloc_array(cx->ra, p->nattrs + 1, sizeof(*names));
	uint32_t i, j, n = 0;

	if (!names)
		return -ENOMEM;
	a->dns_qtype[0] = '\0';
	for (i = 0; i < p->nattrs; i++) {
		const char *v = p->attrs[i].value, *c = strchr(v, ':');
		char t[16], *name;

		if (strcmp(p->attrs[i].key, k) || !c)
			continue;
		snprintf(t, sizeof(t), "%.*s", (int)(c - v), v);
		if (!has_word(a->dns_qtype, t) &&
		    strlen(a->dns_qtype) + strlen(t) + 2 <= sizeof(a->dns_qtype))
			append_word(a->dns_qtype, sizeof(a->dns_qtype), t);
		name = sx_mine__strdup(cx->ra, c + 1);
		if (!name)
			return -ENOMEM;
		unescape_spaces(name);
		for (j = 0; j < n && strcmp(names[j], name); j++)
			;
		if (j == n)
			names[n++] = name;
	}
	a->dns_names = names;
	a->ndns_names = n;
	return 0;
}

int sx_mine__parse_app(struct ctx *cx, struct sx_mine_pattern *p)
{
	struct sx_mine_app *a = &p->app;
	const char *dns_key = NULL;
	uint32_t i;

	a->ntp_version = a->ntp_mode = -1;
	a->igmp_version = a->igmp_type = -1;
	a->icmp_type = a->icmp_code = -1;
	for (i = 0; i < p->nattrs; i++) {
		const char *k = p->attrs[i].key, *v = p->attrs[i].value, *c = strchr(v, ':');

		if (!strcmp(k, "dns.q") || !strcmp(k, "mdns.q") || !strcmp(k, "llmnr.q")) {
			if (!c)
				continue;
			if (!a->dns_name[0]) {
				snprintf(a->dns_name, sizeof(a->dns_name), "%s", c + 1);
				a->mdns = !strcmp(k, "mdns.q");
				dns_key = k;
			}
		} else if (!strcmp(k, "http.req") && c && !a->http_method[0]) {
			const char *slash = strchr(c + 1, '/');

			snprintf(a->http_method, sizeof(a->http_method), "%.*s", (int)(c - v), v);
			if (slash) {
				snprintf(a->http_host, sizeof(a->http_host), "%.*s",
					 (int)(slash - c - 1), c + 1);
				snprintf(a->http_uri, sizeof(a->http_uri), "%s", slash);
			} else {
				snprintf(a->http_host, sizeof(a->http_host), "%s", c + 1);
			}
		} else if (!strcmp(k, "coap") && c &&
			   (!a->coap_type[0] || (!sx_mine__coap_is_request(a->coap_method) &&
						 sx_mine__coap_is_request(c + 1)))) {
			/* the request (a method code) rather than the response */
			const char *c2 = strchr(c + 1, ':');

			snprintf(a->coap_type, sizeof(a->coap_type), "%.*s", (int)(c - v), v);
			a->coap_method[0] = a->coap_uri[0] = '\0';
			if (c2) {
				snprintf(a->coap_method, sizeof(a->coap_method), "%.*s",
					 (int)(c2 - c - 1), c + 1);
				snprintf(a->coap_uri, sizeof(a->coap_uri), "%s", c2 + 1);
			}
		} else if (!strcmp(k, "ssdp") && c && !a->ssdp_method[0]) {
			snprintf(a->ssdp_method, sizeof(a->ssdp_method), "%.*s", (int)(c - v), v);
			snprintf(a->ssdp_st, sizeof(a->ssdp_st), "%s", c + 1);
		} else if (!strcmp(k, "dhcp")) {
			append_word(a->dhcp_type, sizeof(a->dhcp_type), v);
		} else if (!strcmp(k, "tls.sni") && !a->tls_sni[0]) {
			snprintf(a->tls_sni, sizeof(a->tls_sni), "%s", v);
		} else if ((!strcmp(k, "tplink") || !strcmp(k, "tplink.reply")) &&
			   (!a->tplink_cmd[0] || !strcmp(k, "tplink"))) {
			snprintf(a->tplink_cmd, sizeof(a->tplink_cmd), "%s", v);
		} else if (!strcmp(k, "mqtt") && !a->mqtt_type[0]) {
			snprintf(a->mqtt_type, sizeof(a->mqtt_type), "%.*s",
				 c ? (int)(c - v) : (int)strlen(v), v);
			if (c)
				snprintf(a->mqtt_topic, sizeof(a->mqtt_topic), "%s", c + 1);
		} else if (!strcmp(k, "ntp") && a->ntp_version < 0) {
			unsigned ver, mode;

			if (sscanf(v, "v%u:%u", &ver, &mode) == 2 && ver < 8 && mode < 8) {
				a->ntp_version = (int)ver;
				a->ntp_mode = (int)mode;
			}
		} else if (!strcmp(k, "igmp") && a->igmp_version < 0) {
			unsigned ver, type;
			char group[16];

			if (sscanf(v, "v%u:0x%x:%15s", &ver, &type, group) == 3 && ver < 4 &&
			    type < 256) {
				a->igmp_version = (int)ver;
				a->igmp_type = (int)type;
				snprintf(a->igmp_group, sizeof(a->igmp_group), "%s", group);
			}
		} else if ((!strcmp(k, "icmp") || !strcmp(k, "icmpv6")) && a->icmp_type < 0) {
			unsigned t, cd;

			if (sscanf(v, "%u:%u", &t, &cd) == 2 && t < 256 && cd < 256) {
				a->icmp_type = (int)t;
				a->icmp_code = (int)cd;
				a->icmp_v6 = !strcmp(k, "icmpv6");
			}
		}
	}
	unescape_spaces(a->dns_name);
	unescape_spaces(a->http_host);
	unescape_spaces(a->http_uri);
	unescape_spaces(a->coap_uri);
	unescape_spaces(a->ssdp_st);
	unescape_spaces(a->tplink_cmd);
	unescape_spaces(a->mqtt_topic);
	return dns_key ? dns_names(cx, p, dns_key) : 0;
}
