/*
 * pattern_attrs.c - a pattern's application fields: the attributes most of
 * its flows hold, the generalisation of the others (common name suffix,
 * path prefix), and their typed form (rules in patterns.c's design).
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
 * For key k without a consensus value: the generalisation of its values
 * (vals[0..nv), counts), if it covers at least half of nflows.
 */
static bool generalise(const char *k, const struct aval *vals, uint32_t nv, uint32_t nflows,
		       struct aval *out)
{
	const char **tails;
	bool ok = false;
	char head[SX_FLOW_ATTR_MAX], best_head[SX_FLOW_ATTR_MAX], suffix[SX_FLOW_ATTR_MAX];
	uint32_t i, j, total, best_total = 0, nt;
	bool names = strcmp(k, "http.req") && strcmp(k, "coap");

	best_head[0] = '\0';
	/* the head covering the most flows; ties: the smaller text */
	for (i = 0; i < nv; i++) {
		size_t hl = head_len(k, vals[i].value);

		snprintf(head, sizeof(head), "%.*s", (int)hl, vals[i].value);
		for (j = 0, total = 0; j < nv; j++)
			if (head_len(k, vals[j].value) == hl && !strncmp(vals[j].value, head, hl))
				total += vals[j].count;
		if (total > best_total || (total == best_total && strcmp(head, best_head) < 0)) {
			best_total = total;
			snprintf(best_head, sizeof(best_head), "%s", head);
		}
	}
	if (best_total * 2 < nflows)
		return false;
	tails = sx_calloc_array(nv, sizeof(*tails));
	if (!tails)
		return false; /* no generalisation: the values stay apart */
	for (i = 0, nt = 0; i < nv; i++) {
		size_t hl = head_len(k, vals[i].value);

		if (hl == strlen(best_head) && !strncmp(vals[i].value, best_head, hl))
			tails[nt++] = vals[i].value + hl;
	}
	if (nt < 2)
		goto out_free_tails;
	if (names) {
		if (!sx_mine__names_suffix(tails, nt, suffix, sizeof(suffix)) ||
		    !sx_mine__cat3(out->value, sizeof(out->value), best_head, strlen(best_head),
				   "*.", suffix))
			goto out_free_tails;
	} else {
		size_t pl = path_prefix(tails, nt);
		char prefix[SX_FLOW_ATTR_MAX];

		if (!pl || pl >= sizeof(prefix) || !memchr(tails[0], '/', pl))
			goto out_free_tails;
		memcpy(prefix, tails[0], pl);
		prefix[pl] = '\0';
		if (!sx_mine__cat3(out->value, sizeof(out->value), best_head, strlen(best_head),
				   prefix, "*"))
			goto out_free_tails;
	}
	snprintf(out->key, sizeof(out->key), "%s", k);
	out->count = best_total < nflows ? best_total : nflows;
	ok = true;
out_free_tails:
	free(tails);
	return ok;
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
	uint32_t nt = 0, cap = 0, i, j, nv = 0, na = 0;
	int ret = -ENOMEM;

	for (i = 0; i < c->n; i++) {
		const char *s = in->flows[c->mem[i]]->attrs;

		while (*s) {
			size_t n = strcspn(s, " ");

			if (n && memchr(s, '=', n)) {
				if (nt == cap && grow_toks(&toks, &cap))
					goto out_free;
				toks[nt].s = s;
				toks[nt++].len = (uint32_t)n;
			}
			s += n;
			while (*s == ' ')
				s++;
		}
	}
	if (nt)
		qsort(toks, nt, sizeof(*toks), atok_cmp);
	vals = sx_calloc_array(nt + 1, sizeof(*vals));
	if (!vals)
		goto out_free;
	for (i = 0; i < nt; i = j) {
		const char *eq = memchr(toks[i].s, '=', toks[i].len);
		size_t kl = (size_t)(eq - toks[i].s);

		for (j = i + 1; j < nt && !atok_cmp(&toks[i], &toks[j]); j++)
			;
		if (kl >= sizeof(vals[nv].key))
			continue;
		memcpy(vals[nv].key, toks[i].s, kl);
		vals[nv].key[kl] = '\0';
		snprintf(vals[nv].value, sizeof(vals[nv].value), "%.*s",
			 (int)(toks[i].len - kl - 1), eq + 1);
		vals[nv].count = j - i;
		nv++;
	}
	/* vals are sorted by "key=value", so values of one key are adjacent */
	attrs = sx_mine__alloc_array(cx->ra, nv + 1, sizeof(*attrs));
	if (!attrs)
		goto out_free;
	for (i = 0; i < nv; i = j) {
		bool any = false;

		for (j = i; j < nv && !strcmp(vals[j].key, vals[i].key); j++) {
			if (vals[j].count * 2 < c->n)
				continue;
			any = true;
			attrs[na].key = sx_mine__strdup(cx->ra, vals[j].key);
			attrs[na].value = sx_mine__strdup(cx->ra, vals[j].value);
			if (!attrs[na].key || !attrs[na].value)
				goto out_free;
			attrs[na++].count = vals[j].count;
		}
		if (!any && gen_key(vals[i].key)) {
			struct aval g;

			if (generalise(vals[i].key, vals + i, j - i, c->n, &g)) {
				attrs[na].key = sx_mine__strdup(cx->ra, g.key);
				attrs[na].value = sx_mine__strdup(cx->ra, g.value);
				if (!attrs[na].key || !attrs[na].value)
					goto out_free;
				attrs[na].count = g.count;
				attrs[na++].generalised = true;
			}
		}
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

void sx_mine__parse_app(struct sx_mine_pattern *p)
{
	struct sx_mine_app *a = &p->app;
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
			}
			if (!strcmp(a->dns_name, c + 1)) {
				char t[16];

				snprintf(t, sizeof(t), "%.*s", (int)(c - v), v);
				append_word(a->dns_qtype, sizeof(a->dns_qtype), t);
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
}
