/*
 * test_emit_profile.c - profile.yaml (src/emit/profile.c) on hand-built
 * mining results, and a schema check of every profile it writes.
 *
 * The schema check is the smart-home firewall's (shared/docs/UPSTREAM.md
 * §5, protocol-translators-blocklist): every key is one the schema
 * defines, values have the right types (ports and counts are plain
 * integers, booleans plain true/false, strings plain only when a YAML 1.1
 * reader takes them for strings), addresses are self, an alias of the
 * family, an address of the family or a domain name, and policy ids are
 * unique in the whole document.  The document must also round-trip: loaded
 * with libyaml's parser, dumped with its emitter and loaded again, it is the
 * same tree.  The golden profiles of tests/golden/extract are checked too.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "core/err.h"
#include "emit/emit.h"
#include "yaml/ydoc.h"
#include "support/tmp.h"

/* ---- allocations of the hand-built results, freed after each test ---- */

static void *keep[4096];
static size_t nkeep;

static void *mk(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	cr_assert_not_null(p);
	cr_assert_lt(nkeep, sizeof(keep) / sizeof(keep[0]));
	keep[nkeep++] = p;
	return p;
}

static char *kstrdup(const char *s)
{
	char *p = mk(strlen(s) + 1);

	memcpy(p, s, strlen(s) + 1);
	return p;
}

static void fini(void)
{
	while (nkeep)
		free(keep[--nkeep]);
}

TestSuite(emit_profile, .fini = fini, .timeout = 60);

/* ---- building results ---- */

static struct sx_addr ip(const char *s)
{
	struct sx_addr a;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, a.b) == 1)
		a.family = 4;
	else if (inet_pton(AF_INET6, s, a.b) == 1)
		a.family = 6;
	else
		cr_assert_fail("bad address %s", s);
	return a;
}

/*
 * An end: addrs "a,b", ports "53:3,40989:1", name with its kind (NULL: the
 * addresses), local name or NULL.
 */
static void end(struct sx_mine_end *e, const char *addrs, const char *ports, int kind,
		const char *name, const char *local)
{
	char buf[512], *save = NULL, *tok;
	struct sx_addr *a = mk(8 * sizeof(*a));
	struct sx_mine_port *p = mk(8 * sizeof(*p));

	memset(e, 0, sizeof(*e));
	snprintf(buf, sizeof(buf), "%s", addrs);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		a[e->naddrs++] = ip(tok);
	e->addrs = a;
	snprintf(buf, sizeof(buf), "%s", ports ? ports : "");
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned port, count;

		cr_assert_eq(sscanf(tok, "%u:%u", &port, &count), 2);
		p[e->nports].port = (uint16_t)port;
		p[e->nports++].count = count;
	}
	e->ports = p;
	e->kind = (uint8_t)(name ? kind : SX_MINE_HOST_ADDRS);
	snprintf(e->name, sizeof(e->name), "%s", name ? name : "");
	snprintf(e->shown, sizeof(e->shown), "%s", name ? name : addrs);
	snprintf(e->local_name, sizeof(e->local_name), "%s", local ? local : "");
	e->scope = (uint8_t)(e->naddrs && (e->addrs[0].b[0] >= 224 || e->addrs[0].b[0] == 0xff)
				 ? SX_MINE_SCOPE_MULTICAST
				 : SX_MINE_SCOPE_PRIVATE);
}

/* Attributes "key=value:count;key=value:count" (sorted by the caller). */
static void attrs(struct sx_mine_pattern *p, const char *spec)
{
	char buf[1024], *save = NULL, *tok;
	struct sx_mine_attr *a = mk(16 * sizeof(*a));

	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(tok, '='), *colon = strrchr(tok, ':');

		cr_assert(eq && colon && colon > eq);
		*eq = *colon = '\0';
		a[p->nattrs].key = kstrdup(tok);
		a[p->nattrs].value = kstrdup(eq + 1);
		a[p->nattrs++].count = (uint32_t)atoi(colon + 1);
	}
	p->attrs = a;
}

static struct sx_mine_pattern *pattern(struct sx_mine_pattern *p, uint8_t ip_proto,
				       uint8_t initiator, uint8_t fixed_role, uint16_t fixed,
				       uint8_t app_proto, uint32_t nflows)
{
	memset(p, 0, sizeof(*p));
	p->ip_proto = ip_proto;
	p->family = 4;
	p->initiator = initiator;
	p->fixed_role = fixed_role;
	p->fixed_port = fixed;
	p->app.proto = app_proto;
	p->app.ntp_version = p->app.ntp_mode = -1;
	p->app.igmp_version = p->app.igmp_type = -1;
	p->app.icmp_type = p->app.icmp_code = -1;
	p->nflows = nflows;
	p->support = p->noccs = 3;
	p->pkts[SX_MINE_CLIENT] = (struct sx_mine_stat){1, 5, 16};
	p->pkts[SX_MINE_SERVER] = (struct sx_mine_stat){1, 5, 12};
	p->duration_ns = (struct sx_mine_stat){1000, 600000000, 1200000000};
	return p;
}

static int count_of(const char *text, const char *what)
{
	int n = 0;

	for (; (text = strstr(text, what)); text += strlen(what))
		n++;
	return n;
}

/* A DNS pattern: the device 10.0.0.7 asks the gateway 10.0.0.1 for name. */
static struct sx_mine_pattern *dns_pattern(struct sx_mine_pattern *p, const char *name)
{
	pattern(p, 17, SX_MINE_CLIENT, SX_MINE_SERVER, 53, SX_P_DNS, 3);
	end(&p->end[0], "10.0.0.7", "40000:3", 0, NULL, NULL);
	end(&p->end[1], "10.0.0.1", "53:3", 0, NULL, NULL);
	snprintf(p->app.dns_qtype, sizeof(p->app.dns_qtype), "A");
	snprintf(p->app.dns_name, sizeof(p->app.dns_name), "%s", name);
	return p;
}

/* The TP-Link toggle as the miner gives it (three patterns, one periodic). */
static struct sx_mine_result *tplink(void)
{
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ps = mk(3 * sizeof(*ps)), *per = mk(sizeof(*per));
	struct sx_mine_occ *occ = mk(3 * sizeof(*occ));
	struct sx_mine_pattern *p;

	p = pattern(&ps[0], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 9999, SX_P_TPLINK, 3);
	end(&p->end[SX_MINE_CLIENT], "192.168.1.110", "37626:1,37628:1,37630:1", 0, NULL, NULL);
	end(&p->end[SX_MINE_SERVER], "192.168.1.135", "9999:3", 0, NULL, NULL);
	p = pattern(&ps[1], 17, SX_MINE_CLIENT, SX_MINE_SERVER, 53, SX_P_DNS, 3);
	end(&p->end[SX_MINE_CLIENT], "192.168.1.135", "40989:1,47917:1,60245:1", 0, NULL, NULL);
	end(&p->end[SX_MINE_SERVER], "192.168.1.1", "53:3", 0, NULL, NULL);
	snprintf(p->app.dns_qtype, sizeof(p->app.dns_qtype), "A");
	snprintf(p->app.dns_name, sizeof(p->app.dns_name), "use1-api.tplinkra.com");
	p->pkts[SX_MINE_CLIENT] = p->pkts[SX_MINE_SERVER] = (struct sx_mine_stat){1, 1, 1};
	p = pattern(&ps[2], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 443, SX_P_TLS, 3);
	end(&p->end[SX_MINE_CLIENT], "192.168.1.135", "36827:1,43234:1,56359:1", 0, NULL, NULL);
	end(&p->end[SX_MINE_SERVER], "3.3.3.3,3.3.3.4", "443:3", SX_MINE_HOST_NAME,
	    "use1-api.tplinkra.com", NULL);
	p = pattern(per, 17, SX_MINE_SERVER, SX_MINE_SERVER, 9999, SX_P_TPLINK, 8);
	per->kind = SX_MINE_PERIODIC;
	end(&p->end[SX_MINE_CLIENT], "192.168.1.110", "38095:1,40463:1", 0, NULL, NULL);
	end(&p->end[SX_MINE_SERVER], "192.168.1.135", "9999:8", 0, NULL, NULL);
	p->pkts[SX_MINE_CLIENT] = (struct sx_mine_stat){0, 0, 0};
	p->pkts[SX_MINE_SERVER] = (struct sx_mine_stat){1, 3, 3};
	r->patterns = ps;
	r->npatterns = 3;
	r->periodic = per;
	r->nperiodic = 1;
	r->occs = occ;
	r->noccs = 3;
	occ[0].label = occ[1].label = occ[2].label = "";
	return r;
}

static char *emit(const struct sx_mine_result *r, const struct sx_profile_cfg *cfg, int *ret)
{
	char *text = NULL, msg[512] = "";
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	*ret = sx_emit_profile(r, cfg, f, msg, sizeof(msg));
	fclose(f);
	if (*ret)
		cr_log_info("sx_emit_profile: %s", msg);
	keep[nkeep++] = text;
	return text;
}

/* ---- the schema check ---- */

struct check {
	yaml_document_t *doc;
	bool reference_ids; /* the reference's ids ("tcp_443", "dns_A_x.com") */
	char why[512];
	char ids[256][128];
	size_t nids;
};

#define BAD(c, ...) (snprintf((c)->why, sizeof((c)->why), __VA_ARGS__), false)

static const char *scalar(yaml_document_t *d, yaml_node_t *n)
{
	(void)d;
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool in(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

static bool plain(yaml_node_t *n)
{
	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* An integer: a plain scalar of digits, in [lo, hi]. */
static bool is_int(yaml_node_t *n, long lo, long hi)
{
	const char *s;
	char *endp;
	long v;

	if (!n || n->type != YAML_SCALAR_NODE || !plain(n))
		return false;
	s = (const char *)n->data.scalar.value;
	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	v = strtol(s, &endp, 10);
	return v >= lo && v <= hi;
}

/* A port range "a-b" (a <= b), as the translator passes it to nftables. */
static bool is_port_range(yaml_node_t *n)
{
	unsigned a, b;
	int used = 0;

	return n && n->type == YAML_SCALAR_NODE &&
	       sscanf((const char *)n->data.scalar.value, "%5u-%5u%n", &a, &b, &used) == 2 &&
	       used == (int)n->data.scalar.length && a <= b && b <= 65535;
}

/* A port or a port range: the translator writes a list of them as an
 * nftables anonymous set. */
static bool ok_port(struct check *c, yaml_node_t *n)
{
	(void)c;
	return is_int(n, 0, 65535) || is_port_range(n);
}

static bool is_bool(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE && plain(n) &&
	       (!strcmp((char *)n->data.scalar.value, "true") ||
		!strcmp((char *)n->data.scalar.value, "false"));
}

/* A string: any scalar, but a plain one must read back as a str. */
static bool is_str(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE &&
	       (!plain(n) || sx_yw_plain_is_str((char *)n->data.scalar.value)) &&
	       n->data.scalar.length > 0;
}

/* A scalar or a sequence of them, each passing ok(). */
static bool one_or_list(struct check *c, yaml_node_t *n, bool (*ok)(struct check *, yaml_node_t *))
{
	yaml_node_item_t *it;

	if (n && n->type == YAML_SCALAR_NODE)
		return ok(c, n);
	if (!n || n->type != YAML_SEQUENCE_NODE ||
	    n->data.sequence.items.start == n->data.sequence.items.top)
		return false;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++)
		if (!ok(c, yaml_document_get_node(c->doc, *it)))
			return false;
	return true;
}

static int host_family;

static bool ok_host(struct check *c, yaml_node_t *n)
{
	static const char *const v4[] = {
	    "self",   "local", "external", "gateway", "phone", "broadcast", "udp-broadcast",
	    "igmpv3", "all",   "mdns",	   "ssdp",    "coap",  NULL};
	static const char *const v6[] = {
	    "self",  "default",	  "local",     "gateway",     "gateway-local",
	    "phone", "multicast", "all-nodes", "all-routers", "all-mldv2-routers",
	    "mdns",  "coap",	  NULL};
	unsigned char b[16];
	const char *s;

	(void)c;
	if (!is_str(n))
		return false;
	s = (const char *)n->data.scalar.value;
	if (in(s, host_family == 6 ? v6 : v4))
		return true;
	if (inet_pton(host_family == 6 ? AF_INET6 : AF_INET, s, b) == 1)
		return true;
	if (inet_pton(host_family == 6 ? AF_INET : AF_INET6, s, b) == 1)
		return false; /* an address of the other family */
	if (strchr(s, '/')) { /* a prefix (ipaddress.ip_network in the translator) */
		char a[64];
		unsigned len;
		int k;

		if (sscanf(s, "%63[^/]/%u%n", a, &len, &k) != 2 || s[k] ||
		    inet_pton(host_family == 6 ? AF_INET6 : AF_INET, a, b) != 1)
			return false;
		return len <= (host_family == 6 ? 128u : 32u);
	}
	/* A domain name: the firewall drops its first label, so it needs a dot. */
	return strchr(s, '.') && !strchr(s, ' ') && !strchr(s, '/');
}

/* An arp spa/tpa (protocols/arp.py: its aliases or an IPv4 address, never a
 * name) or sha/tha (its aliases or a MAC). */
static bool ok_arp_ip(struct check *c, yaml_node_t *n)
{
	static const char *const a[] = {"self", "local", "gateway", "phone", NULL};
	unsigned char b[4];

	(void)c;
	return is_str(n) && (in((const char *)n->data.scalar.value, a) ||
			     inet_pton(AF_INET, (const char *)n->data.scalar.value, b) == 1);
}

static bool ok_arp_mac(struct check *c, yaml_node_t *n)
{
	static const char *const a[] = {"self", "gateway", "phone", "default", "broadcast", NULL};
	unsigned m[6];
	char end;

	(void)c;
	return is_str(n) && (in((const char *)n->data.scalar.value, a) ||
			     sscanf((const char *)n->data.scalar.value, "%2x:%2x:%2x:%2x:%2x:%2x%c",
				    &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &end) == 6);
}

static bool ok_str(struct check *c, yaml_node_t *n)
{
	(void)c;
	return is_str(n);
}

static bool ok_qtype(struct check *c, yaml_node_t *n)
{
	const char *s;

	(void)c;
	if (!is_str(n))
		return false;
	for (s = (const char *)n->data.scalar.value; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

static bool ok_dhcp_type(struct check *c, yaml_node_t *n)
{
	static const char *const types[] = {"discover", "offer",   "request", "decline", "ack",
					    "nak",	"release", "inform",  NULL};

	(void)c;
	return is_str(n) && in((char *)n->data.scalar.value, types);
}

/* The fields of a protocol section (NULL: the key is not a protocol). */
static const char *const *fields_of(const char *proto)
{
	static const char *const ip[] = {"src", "dst", NULL};
	static const char *const l4[] = {"src-port", "dst-port", "initiated-by", NULL};
	static const char *const dns[] = {"qtype", "domain-name", "response", NULL};
	static const char *const http[] = {"method", "uri", "response", NULL};
	static const char *const coap[] = {"type", "method", "uri", "response", NULL};
	static const char *const ssdp[] = {"method", "response", NULL};
	static const char *const dhcp[] = {"type", "client-mac", NULL};
	static const char *const arp[] = {"type", "sha", "tha", "spa", "tpa", NULL};
	static const char *const icmp[] = {"type", NULL};
	static const char *const none[] = {NULL};
	static const char *const igmp[] = {"version", "type", "group", NULL};
	static const char *const tls[] = {"content-type", "handshake-type", "tls-version",
					  "session-id", NULL};
	static const char *const mqtt[] = {"packet-type",   "client-id",      "client-id-length",
					   "clean-session", "keep-alive",     "topic-name",
					   "payload-regex", "payload-length", NULL};
	static const struct {
		const char *name;
		const char *const *fields;
	} t[] = {{"ipv4", ip},	   {"ipv6", ip},   {"tcp", l4},	   {"udp", l4},
		 {"dns", dns},	   {"mdns", dns},  {"http", http}, {"coap", coap},
		 {"ssdp", ssdp},   {"dhcp", dhcp}, {"arp", arp},   {"icmp", icmp},
		 {"icmpv6", none}, {"igmp", igmp}, {"tls", tls},   {"mqtt", mqtt}};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(proto, t[i].name))
			return t[i].fields;
	return NULL;
}

static bool check_field(struct check *c, const char *proto, const char *k, yaml_node_t *v)
{
	if (!strcmp(proto, "ipv4") || !strcmp(proto, "ipv6")) {
		host_family = proto[3] == '6' ? 6 : 4;
		return one_or_list(c, v, ok_host) || BAD(c, "%s.%s: not a host", proto, k);
	}
	if (!strcmp(k, "src-port") || !strcmp(k, "dst-port"))
		return one_or_list(c, v, ok_port) || BAD(c, "%s.%s: not a port", proto, k);
	if (!strcmp(k, "response") || !strcmp(k, "session-id") || !strcmp(k, "clean-session"))
		return is_bool(v) || BAD(c, "%s.%s: not a bool", proto, k);
	if (!strcmp(k, "qtype"))
		return one_or_list(c, v, ok_qtype) || BAD(c, "%s.qtype: bad", proto);
	if (!strcmp(proto, "dhcp") && !strcmp(k, "type"))
		return one_or_list(c, v, ok_dhcp_type) || BAD(c, "dhcp.type: bad");
	if (!strcmp(proto, "igmp") && !strcmp(k, "version"))
		return is_int(v, 2, 3) || BAD(c, "igmp.version: not 2 or 3");
	if (!strcmp(proto, "coap") && !strcmp(k, "type")) {
		static const char *const types[] = {"CON", "NON", "ACK", "RST", NULL};

		return (is_str(v) && in((char *)v->data.scalar.value, types)) ||
		       BAD(c, "coap.type: bad");
	}
	if (!strcmp(proto, "ssdp") && !strcmp(k, "method")) {
		static const char *const m[] = {"M-SEARCH", "NOTIFY", NULL};

		return (is_str(v) && in((char *)v->data.scalar.value, m)) ||
		       BAD(c, "ssdp.method: bad");
	}
	if (!strcmp(proto, "arp") && !strcmp(k, "type")) {
		static const char *const t[] = {"request", "reply", NULL};

		return (is_str(v) && in((char *)v->data.scalar.value, t)) || is_int(v, 0, 65535) ||
		       BAD(c, "arp.type: bad");
	}
	if (!strcmp(proto, "arp") && (!strcmp(k, "spa") || !strcmp(k, "tpa")))
		return one_or_list(c, v, ok_arp_ip) || BAD(c, "arp.%s: not an address", k);
	if (!strcmp(proto, "arp"))
		return one_or_list(c, v, ok_arp_mac) || BAD(c, "arp.%s: not a MAC", k);
	/* a path; for http also what the firewall reads in a segment that is
	 * no request: '' ("Host: ..." as a HEAD) or a word without a space
	 * ("Length:", "Content-Length: ..." as a CONNECT) */
	if (!strcmp(k, "uri"))
		return (is_str(v) && v->data.scalar.value[0] == '/') ||
		       (!strcmp(proto, "http") && v->type == YAML_SCALAR_NODE &&
			(v->data.scalar.length
			     ? is_str(v) && !strchr((const char *)v->data.scalar.value, ' ')
			     : !plain(v))) ||
		       BAD(c, "%s.uri: bad", proto);
	return one_or_list(c, v, ok_str) || BAD(c, "%s.%s: not a string", proto, k);
}

static bool check_protocols(struct check *c, yaml_node_t *n, bool *has_net)
{
	yaml_node_pair_t *pr;

	if (!n || n->type != YAML_MAPPING_NODE)
		return BAD(c, "protocols: not a mapping");
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		const char *proto = scalar(c->doc, yaml_document_get_node(c->doc, pr->key));
		yaml_node_t *v = yaml_document_get_node(c->doc, pr->value);
		const char *const *fields;
		yaml_node_pair_t *f;

		if (!proto || !(fields = fields_of(proto)))
			return BAD(c, "protocols: unknown protocol %s", proto ? proto : "?");
		if (!strcmp(proto, "ipv4") || !strcmp(proto, "ipv6") || !strcmp(proto, "arp"))
			*has_net = true; /* arp is the firewall's layer 3 too */
		if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0 && plain(v))
			continue; /* "icmpv6:", the protocol alone */
		if (v->type != YAML_MAPPING_NODE)
			return BAD(c, "%s: not a mapping", proto);
		for (f = v->data.mapping.pairs.start; f < v->data.mapping.pairs.top; f++) {
			const char *k = scalar(c->doc, yaml_document_get_node(c->doc, f->key));

			if (!k || !in(k, fields))
				return BAD(c, "%s: unknown field %s", proto, k ? k : "?");
			if (!check_field(c, proto, k, yaml_document_get_node(c->doc, f->value)))
				return false;
		}
	}
	return true;
}

static bool check_policy(struct check *c, const char *id, yaml_node_t *n)
{
	static const char *const keys[] = {"protocols", "bidirectional",   "initiator", "timeout",
					   "stats",	"activity-period", NULL};
	static const char *const stats[] = {"rate", "packet-size", "packet-count", "duration",
					    NULL};
	yaml_node_pair_t *pr;
	bool has_protocols = false, has_net = false;
	size_t i;

	if (!id || !id[0] ||
	    (!c->reference_ids &&
	     strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(id)))
		return BAD(c, "policy id \"%s\": not lower-case words", id ? id : "?");
	for (i = 0; i < c->nids; i++)
		if (!strcmp(c->ids[i], id))
			return BAD(c, "policy id %s used twice", id);
	cr_assert_lt(c->nids, 256);
	snprintf(c->ids[c->nids++], sizeof(c->ids[0]), "%s", id);
	if (n->type != YAML_MAPPING_NODE)
		return BAD(c, "%s: not a mapping", id);
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		const char *k = scalar(c->doc, yaml_document_get_node(c->doc, pr->key));
		yaml_node_t *v = yaml_document_get_node(c->doc, pr->value);

		if (!k || !in(k, keys))
			return BAD(c, "%s: unknown key %s", id, k ? k : "?");
		if (!strcmp(k, "protocols")) {
			has_protocols = true;
			if (!check_protocols(c, v, &has_net))
				return false;
		} else if (!strcmp(k, "bidirectional") && !is_bool(v)) {
			return BAD(c, "%s: bidirectional is not a bool", id);
		} else if (!strcmp(k, "stats")) {
			yaml_node_pair_t *s;

			if (v->type != YAML_MAPPING_NODE)
				return BAD(c, "%s: stats is not a mapping", id);
			for (s = v->data.mapping.pairs.start; s < v->data.mapping.pairs.top; s++) {
				yaml_node_t *kn = yaml_document_get_node(c->doc, s->key);
				const char *sk = scalar(c->doc, kn);
				yaml_node_t *sv = yaml_document_get_node(c->doc, s->value);

				if (!sk || !in(sk, stats))
					return BAD(c, "%s: unknown stat %s", id, sk ? sk : "?");
				if (!strcmp(sk, "packet-count") && !is_int(sv, 1, 1L << 40))
					return BAD(c, "%s: packet-count is not a count", id);
				if (!strcmp(sk, "duration") && !is_int(sv, 1, 1L << 40))
					return BAD(c, "%s: duration is not whole seconds", id);
			}
		}
	}
	if (!has_protocols || !has_net)
		return BAD(c, "%s: no protocols or no ipv4/ipv6/arp section", id);
	return true;
}

static bool check_device_info(struct check *c, yaml_node_t *n)
{
	static const char *const keys[] = {
	    "name",    "mac",	      "ipv4",		"ipv6",		"network", "mud-version",
	    "mud-url", "last-update", "cache-validity", "is-supported", NULL};
	yaml_node_pair_t *pr;
	bool name = false;
	unsigned char b[16];

	if (n->type != YAML_MAPPING_NODE)
		return BAD(c, "device-info: not a mapping");
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		const char *k = scalar(c->doc, yaml_document_get_node(c->doc, pr->key));
		yaml_node_t *v = yaml_document_get_node(c->doc, pr->value);
		const char *s = scalar(c->doc, v);

		if (!k || !in(k, keys))
			return BAD(c, "device-info: unknown key %s", k ? k : "?");
		if (!is_str(v))
			return BAD(c, "device-info.%s: not a string", k);
		name |= !strcmp(k, "name");
		if (!strcmp(k, "ipv4") && inet_pton(AF_INET, s, b) != 1)
			return BAD(c, "device-info.ipv4: %s", s);
		if (!strcmp(k, "ipv6") && inet_pton(AF_INET6, s, b) != 1)
			return BAD(c, "device-info.ipv6: %s", s);
		if (!strcmp(k, "mac") && (strlen(s) != 17 || strspn(s, "0123456789abcdef:") != 17))
			return BAD(c, "device-info.mac: %s", s);
	}
	return name || BAD(c, "device-info: no name");
}

static bool check_doc(struct check *c)
{
	yaml_node_t *root = yaml_document_get_root_node(c->doc);
	yaml_node_pair_t *pr, *q, *r;
	bool info = false;

	if (!root || root->type != YAML_MAPPING_NODE)
		return BAD(c, "the document is not a mapping");
	for (pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
		const char *k = scalar(c->doc, yaml_document_get_node(c->doc, pr->key));
		yaml_node_t *v = yaml_document_get_node(c->doc, pr->value);

		if (!k)
			return BAD(c, "a top-level key is not a scalar");
		if (!strcmp(k, "device-info")) {
			info = true;
			if (!check_device_info(c, v))
				return false;
		} else if (!strcmp(k, "single-policies")) {
			if (v->type != YAML_MAPPING_NODE)
				return BAD(c, "single-policies: not a mapping");
			for (q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++)
				if (!check_policy(
					c, scalar(c->doc, yaml_document_get_node(c->doc, q->key)),
					yaml_document_get_node(c->doc, q->value)))
					return false;
		} else if (!strcmp(k, "interactions")) {
			if (v->type != YAML_MAPPING_NODE)
				return BAD(c, "interactions: not a mapping");
			for (q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++) {
				yaml_node_t *in_ = yaml_document_get_node(c->doc, q->value);

				if (!is_str(yaml_document_get_node(c->doc, q->key)) ||
				    in_->type != YAML_MAPPING_NODE ||
				    in_->data.mapping.pairs.start == in_->data.mapping.pairs.top)
					return BAD(c, "interactions: an interaction is not a "
						      "non-empty mapping");
				for (r = in_->data.mapping.pairs.start;
				     r < in_->data.mapping.pairs.top; r++)
					if (!check_policy(c,
							  scalar(c->doc, yaml_document_get_node(
									     c->doc, r->key)),
							  yaml_document_get_node(c->doc, r->value)))
						return false;
			}
		} else {
			return BAD(c, "unknown top-level key %s", k);
		}
	}
	return info || BAD(c, "no device-info");
}

static bool load(const char *text, size_t len, yaml_document_t *doc)
{
	yaml_parser_t p;
	yaml_document_t extra;
	bool ok;

	cr_assert(yaml_parser_initialize(&p));
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	ok = yaml_parser_load(&p, doc) && yaml_document_get_root_node(doc);
	if (ok) {
		/* exactly one document */
		ok = yaml_parser_load(&p, &extra);
		if (ok) {
			ok = !yaml_document_get_root_node(&extra);
			yaml_document_delete(&extra);
		}
		if (!ok)
			yaml_document_delete(doc);
	}
	yaml_parser_delete(&p);
	return ok;
}

static bool same_tree(yaml_document_t *a, yaml_node_t *x, yaml_document_t *b, yaml_node_t *y)
{
	size_t i, n;

	if (!x || !y || x->type != y->type)
		return false;
	switch (x->type) {
	case YAML_SCALAR_NODE:
		return x->data.scalar.length == y->data.scalar.length &&
		       !memcmp(x->data.scalar.value, y->data.scalar.value, x->data.scalar.length) &&
		       (x->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) ==
			   (y->data.scalar.style == YAML_PLAIN_SCALAR_STYLE);
	case YAML_SEQUENCE_NODE:
		n = (size_t)(x->data.sequence.items.top - x->data.sequence.items.start);
		if (n != (size_t)(y->data.sequence.items.top - y->data.sequence.items.start))
			return false;
		for (i = 0; i < n; i++) {
			yaml_node_item_t xi = x->data.sequence.items.start[i];
			yaml_node_item_t yi = y->data.sequence.items.start[i];

			if (!same_tree(a, yaml_document_get_node(a, xi), b,
				       yaml_document_get_node(b, yi)))
				return false;
		}
		return true;
	case YAML_MAPPING_NODE:
		n = (size_t)(x->data.mapping.pairs.top - x->data.mapping.pairs.start);
		if (n != (size_t)(y->data.mapping.pairs.top - y->data.mapping.pairs.start))
			return false;
		for (i = 0; i < n; i++) {
			yaml_node_pair_t *p = &x->data.mapping.pairs.start[i];
			yaml_node_pair_t *q = &y->data.mapping.pairs.start[i];

			if (!same_tree(a, yaml_document_get_node(a, p->key), b,
				       yaml_document_get_node(b, q->key)) ||
			    !same_tree(a, yaml_document_get_node(a, p->value), b,
				       yaml_document_get_node(b, q->value)))
				return false;
		}
		return true;
	default:
		return false;
	}
}

/* Load, dump with libyaml's emitter, load again: the same tree. */
static bool round_trips(const char *text)
{
	yaml_document_t d1, d2, copy;
	yaml_emitter_t em;
	char *out = NULL;
	size_t len = 0;
	FILE *f;
	bool ok;

	if (!load(text, strlen(text), &d1))
		return false;
	cr_assert(load(text, strlen(text), &copy)); /* dump consumes its document */
	f = open_memstream(&out, &len);
	cr_assert_not_null(f);
	cr_assert(yaml_emitter_initialize(&em));
	yaml_emitter_set_output_file(&em, f);
	ok = yaml_emitter_open(&em) && yaml_emitter_dump(&em, &copy) && yaml_emitter_close(&em);
	yaml_emitter_delete(&em);
	fclose(f);
	ok = ok && load(out, len, &d2);
	if (ok) {
		ok = same_tree(&d1, yaml_document_get_root_node(&d1), &d2,
			       yaml_document_get_root_node(&d2));
		yaml_document_delete(&d2);
	}
	yaml_document_delete(&d1);
	free(out);
	return ok;
}

/* The whole check; fails the test with the reason. */
static void assert_valid_ids(const char *text, const char *what, bool reference_ids)
{
	yaml_document_t doc;
	struct check *c = mk(sizeof(*c));
	bool ok;

	cr_assert(load(text, strlen(text), &doc), "%s: does not parse as one YAML document", what);
	c->doc = &doc;
	c->reference_ids = reference_ids;
	ok = check_doc(c);
	yaml_document_delete(&doc);
	cr_assert(ok, "%s: %s\n%s", what, c->why, text);
	cr_assert(round_trips(text), "%s: does not round-trip through libyaml", what);
}

static void assert_valid(const char *text, const char *what)
{
	assert_valid_ids(text, what, false);
}

/* ---- tests ---- */

static const char tplink_expected[] = "device-info:\n"
				      "  name: tplink-plug\n"
				      "  mac: 50:c7:bf:ed:0a:54\n"
				      "  ipv4: 192.168.1.135\n"
				      "  last-update: \"2024-11-28T07:40:00+01:00\"\n"
				      "single-policies:\n"
				      "  udp-9999-phone:\n"
				      "    protocols:\n"
				      "      udp:\n"
				      "        src-port: 9999\n"
				      "      ipv4:\n"
				      "        src: self\n"
				      "        dst: phone\n"
				      "interactions:\n"
				      "  toggle-plug:\n"
				      "    tcp-9999-phone-to-device:\n"
				      "      protocols:\n"
				      "        tcp:\n"
				      "          dst-port: 9999\n"
				      "        ipv4:\n"
				      "          src: phone\n"
				      "          dst: self\n"
				      "      bidirectional: true\n"
				      "      stats:\n"
				      "        rate: 0\n"
				      "    dns-use1-api-tplinkra-com:\n"
				      "      protocols:\n"
				      "        dns:\n"
				      "          qtype: A\n"
				      "          domain-name: use1-api.tplinkra.com\n"
				      "        udp:\n"
				      "          dst-port: 53\n"
				      "        ipv4:\n"
				      "          src: self\n"
				      "          dst: gateway\n"
				      "      bidirectional: true\n"
				      "      stats:\n"
				      "        rate: 0\n"
				      "    https-use1-api-tplinkra-com:\n"
				      "      protocols:\n"
				      "        tcp:\n"
				      "          dst-port: 443\n"
				      "        ipv4:\n"
				      "          src: self\n"
				      "          dst: use1-api.tplinkra.com\n"
				      "      bidirectional: true\n"
				      "      stats:\n"
				      "        rate: 0\n";

Test(emit_profile, tplink_toggle_as_the_hand_written_profile)
{
	struct sx_profile_cfg cfg = {.device = "tplink-plug",
				     .ipv4 = "192.168.1.135",
				     .mac = "50:c7:bf:ed:0a:54",
				     .gateway = "192.168.1.1",
				     .phone = "192.168.1.110",
				     .event = "toggle-plug",
				     .last_update = "2024-11-28T07:40:00+01:00"};
	int ret;
	const char *text = emit(tplink(), &cfg, &ret);

	cr_assert_eq(ret, 0);
	cr_assert_str_eq(text, tplink_expected);
	assert_valid(text, "tplink");
}

Test(emit_profile, addresses_without_aliases_and_stats)
{
	struct sx_profile_cfg cfg = {
	    .device = "plug", .ipv4 = "192.168.1.135", .stats = true, .last_update = "x"};
	int ret;
	const char *text = emit(tplink(), &cfg, &ret);

	cr_assert_eq(ret, 0);
	cr_assert(strstr(text, "  event:\n    tcp-9999-192-168-1-110-to-device:\n"), "%s", text);
	cr_assert(strstr(text, "          src: 192.168.1.110\n"), "%s", text);
	cr_assert(strstr(text, "          dst: 192.168.1.1\n"), "%s", text);
	/* the TLS flows: 16 + 12 packets at most, 1.2 s -> 2 s */
	cr_assert(strstr(text, "      stats:\n        packet-count: 28\n        duration: 2\n"),
		  "%s", text);
	/* not bidirectional (no answer): the initiator's packets only */
	cr_assert(strstr(text, "    stats:\n      packet-count: 3\n"), "%s", text);
	cr_assert_null(strstr(text, "mac:"));
	assert_valid(text, "stats");
}

Test(emit_profile, deterministic)
{
	struct sx_profile_cfg cfg = {.device = "plug", .ipv4 = "192.168.1.135", .last_update = "x"};
	struct sx_mine_result *r = tplink();
	int ret;
	const char *a = emit(r, &cfg, &ret);
	const char *b = emit(r, &cfg, &ret);

	cr_assert_str_eq(a, b);
}

Test(emit_profile, duplicate_ids_get_a_suffix)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ps = mk(3 * sizeof(*ps)), *bg = mk(2 * sizeof(*bg));
	int i, ret;
	const char *text;

	for (i = 0; i < 3; i++) {
		pattern(&ps[i], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 443, SX_P_TLS, 3);
		end(&ps[i].end[SX_MINE_CLIENT], "10.0.0.7", "50000:3", 0, NULL, NULL);
		end(&ps[i].end[SX_MINE_SERVER], i == 2 ? "1.1.1.1" : "1.1.1.2", "443:3",
		    SX_MINE_HOST_NAME, i == 2 ? "other.example.com" : "api.example.com", NULL);
	}
	pattern(bg, 6, SX_MINE_CLIENT, SX_MINE_SERVER, 443, SX_P_TLS, 3);
	end(&bg->end[SX_MINE_CLIENT], "10.0.0.7", "50000:3", 0, NULL, NULL);
	end(&bg->end[SX_MINE_SERVER], "1.1.1.2", "443:3", SX_MINE_HOST_NAME, "api.example.com",
	    NULL);
	/* the DNS policy that lets the firewall learn both names */
	dns_pattern(&bg[1], "*.example.com");
	r->patterns = ps;
	r->npatterns = 3;
	r->background = bg;
	r->nbackground = 2;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	/* the event's policies get the plain ids first */
	cr_assert(strstr(text, "\n    https-api-example-com:\n"), "%s", text);
	cr_assert(strstr(text, "\n    https-api-example-com-2:\n"), "%s", text);
	cr_assert(strstr(text, "\n    https-other-example-com:\n"), "%s", text);
	cr_assert(strstr(text, "\n  https-api-example-com-3:\n"), "%s", text);
	assert_valid(text, "duplicates");
}

/* Every application section, IPv6, lists, wildcards, hostile names. */
static struct sx_mine_result *kitchen_sink(void)
{
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ps = mk(16 * sizeof(*ps)), *bg = mk(5 * sizeof(*bg));
	struct sx_mine_pattern *p;
	uint32_t n = 0, nb = 0;

	/* DNS, two types, a wildcard name */
	p = pattern(&ps[n++], 17, SX_MINE_CLIENT, SX_MINE_SERVER, 53, SX_P_DNS, 3);
	end(&p->end[0], "10.0.0.7", "40000:1,40001:1,40002:1", 0, NULL, NULL);
	end(&p->end[1], "10.0.0.1", "53:3", 0, NULL, NULL);
	snprintf(p->app.dns_qtype, sizeof(p->app.dns_qtype), "A AAAA");
	snprintf(p->app.dns_name, sizeof(p->app.dns_name), "*.cdn.example.net");
	/* HTTP with a query, to names varying under one domain */
	p = pattern(&ps[n++], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 80, SX_P_HTTP, 3);
	end(&p->end[0], "10.0.0.7", "40000:3", 0, NULL, NULL);
	end(&p->end[1], "192.0.2.80,192.0.2.81", "80:3", SX_MINE_HOST_DOMAIN, "*.vendor.example",
	    NULL);
	snprintf(p->app.http_method, sizeof(p->app.http_method), "GET");
	snprintf(p->app.http_uri, sizeof(p->app.http_uri), "/api/v1/event?id=3");
	/* CoAP: the response sorts first among the attributes */
	p = pattern(&ps[n++], 17, SX_MINE_CLIENT, SX_MINE_SERVER, 5683, SX_P_COAP, 3);
	end(&p->end[0], "10.0.0.7", "50000:1,50001:2", 0, NULL, NULL);
	end(&p->end[1], "10.0.0.2", "5683:3", 0, NULL, NULL);
	snprintf(p->app.coap_type, sizeof(p->app.coap_type), "ACK");
	snprintf(p->app.coap_method, sizeof(p->app.coap_method), "2.04");
	snprintf(p->app.coap_uri, sizeof(p->app.coap_uri), "/");
	attrs(p, "coap=ACK:2.04:/:3;coap=CON:POST:/notify:3");
	/* the answers not seen: one way, so the section is written (a
	 * bidirectional one is not: bidirectional_dhcp_and_coap_...) */
	p->pkts[SX_MINE_SERVER] = (struct sx_mine_stat){0, 0, 0};
	/* DHCP renew: request and ack in each flow; client 68 -> server 67 */
	p = pattern(&ps[n++], 17, SX_MINE_CLIENT, SX_MINE_SERVER, 67, SX_P_DHCP, 3);
	end(&p->end[0], "10.0.0.7", "68:3", 0, NULL, NULL);
	end(&p->end[1], "10.0.0.1", "67:3", 0, NULL, NULL);
	snprintf(p->app.dhcp_type, sizeof(p->app.dhcp_type), "ack request");
	p->pkts[SX_MINE_SERVER] = (struct sx_mine_stat){0, 0, 0};
	/* ICMP echo, request and reply in one flow */
	p = pattern(&ps[n++], 1, SX_MINE_CLIENT, SX_MINE_NO_ROLE, 0, SX_P_ICMP, 3);
	end(&p->end[0], "10.0.0.7", NULL, 0, NULL, NULL);
	end(&p->end[1], "8.8.8.8", NULL, 0, NULL, NULL);
	p->app.icmp_type = 0;
	attrs(p, "icmp=0:0:3;icmp=8:0:3");
	/* IPv6 to a list of unnamed addresses, no fixed port */
	p = pattern(&ps[n++], 17, SX_MINE_CLIENT, SX_MINE_NO_ROLE, 0, SX_P_UDP, 3);
	p->family = 6;
	end(&p->end[0], "fd00::7", "41000:1,41001:1,41002:1", 0, NULL, NULL);
	end(&p->end[1], "2001:db8::1,2001:db8::2", "7000:1,7001:2", 0, NULL, NULL);
	/* hostile names: must be quoted, never break the document */
	p = pattern(&ps[n++], 17, SX_MINE_CLIENT, SX_MINE_SERVER, 53, SX_P_DNS, 3);
	end(&p->end[0], "10.0.0.7", "40000:3", 0, NULL, NULL);
	end(&p->end[1], "10.0.0.1", "53:3", 0, NULL, NULL);
	snprintf(p->app.dns_qtype, sizeof(p->app.dns_qtype), "TXT");
	snprintf(p->app.dns_name, sizeof(p->app.dns_name), "a: {b} #c, [d].example");
	/* a protocol without a firewall section (GRE) */
	p = pattern(&ps[n++], 47, SX_MINE_CLIENT, SX_MINE_NO_ROLE, 0, SX_P_IPV4, 3);
	end(&p->end[0], "10.0.0.7", NULL, 0, NULL, NULL);
	end(&p->end[1], "198.51.100.1", NULL, 0, NULL, NULL);
	/* ICMPv6 */
	p = pattern(&ps[n++], 58, SX_MINE_CLIENT, SX_MINE_NO_ROLE, 0, SX_P_ICMPV6, 3);
	p->family = 6;
	end(&p->end[0], "fd00::7", NULL, 0, NULL, NULL);
	end(&p->end[1], "ff02::2", NULL, 0, NULL, NULL);
	p->pkts[SX_MINE_SERVER] = (struct sx_mine_stat){0, 0, 0};

	/* background: mDNS announcement, SSDP search, IGMPv3 report, DHCP discover */
	p = pattern(&bg[nb++], 17, SX_MINE_CLIENT, SX_MINE_SERVER, 5353, SX_P_MDNS, 3);
	end(&p->end[0], "10.0.0.7", "5353:3", 0, NULL, "cam-7.local");
	end(&p->end[1], "224.0.0.251", "5353:3", 0, NULL, NULL);
	p->pkts[SX_MINE_SERVER] = (struct sx_mine_stat){0, 0, 0};
	p = pattern(&bg[nb++], 17, SX_MINE_CLIENT, SX_MINE_SERVER, 1900, SX_P_SSDP, 3);
	end(&p->end[0], "10.0.0.7", "50000:1,50001:1,50002:1", 0, NULL, NULL);
	end(&p->end[1], "239.255.255.250", "1900:3", 0, NULL, NULL);
	snprintf(p->app.ssdp_method, sizeof(p->app.ssdp_method), "M-SEARCH");
	p->pkts[SX_MINE_SERVER] = (struct sx_mine_stat){0, 0, 0};
	p = pattern(&bg[nb++], 2, SX_MINE_CLIENT, SX_MINE_NO_ROLE, 0, SX_P_IGMP, 3);
	end(&p->end[0], "10.0.0.7", NULL, 0, NULL, NULL);
	end(&p->end[1], "224.0.0.22", NULL, 0, NULL, NULL);
	p->app.igmp_version = 3;
	p->app.igmp_type = 0x22;
	snprintf(p->app.igmp_group, sizeof(p->app.igmp_group), "239.255.255.250");
	p->pkts[SX_MINE_SERVER] = (struct sx_mine_stat){0, 0, 0};
	p = pattern(&bg[nb++], 17, SX_MINE_CLIENT, SX_MINE_SERVER, 67, SX_P_DHCP, 3);
	end(&p->end[0], "0.0.0.0", "68:3", 0, NULL, NULL);
	end(&p->end[1], "255.255.255.255", "67:3", 0, NULL, NULL);
	snprintf(p->app.dhcp_type, sizeof(p->app.dhcp_type), "discover");
	p->pkts[SX_MINE_SERVER] = (struct sx_mine_stat){0, 0, 0};
	/* WS-Discovery Hello to the SSDP group: not SSDP */
	p = pattern(&bg[nb++], 17, SX_MINE_CLIENT, SX_MINE_SERVER, 3702, SX_P_UDP, 3);
	end(&p->end[0], "10.0.0.7", "3702:3", 0, NULL, NULL);
	end(&p->end[1], "239.255.255.250", "3702:3", 0, NULL, NULL);
	p->pkts[SX_MINE_SERVER] = (struct sx_mine_stat){0, 0, 0};

	r->patterns = ps;
	r->npatterns = n;
	r->background = bg;
	r->nbackground = nb;
	return r;
}

Test(emit_profile, every_section_is_in_the_schema)
{
	struct sx_profile_cfg cfg = {.device = "cam: \"7\"",
				     .ipv4 = "10.0.0.7",
				     .ipv6 = "fd00::7",
				     .mac = "12:34:56:07:08:09",
				     .gateway = "10.0.0.1",
				     .event = "motion",
				     .stats = true};
	int ret;
	const char *text = emit(kitchen_sink(), &cfg, &ret);

	cr_assert_eq(ret, 0);
	assert_valid(text, "kitchen sink");
	/* a MAC YAML 1.1 would read as a sexagesimal number is quoted */
	cr_assert(strstr(text, "  mac: '12:34:56:07:08:09'\n"), "%s", text);
	cr_assert(strstr(text, "          qtype:\n          - A\n          - AAAA\n"), "%s", text);
	cr_assert(strstr(text, "domain-name: $.cdn.example.net\n"), "%s", text);
	/* names under one domain, none of them allowed by a DNS policy: the
	 * addresses ("$.vendor.example" is no address end) */
	cr_assert(strstr(text, "dst:\n          - 192.0.2.80\n          - 192.0.2.81\n"), "%s",
		  text);
	cr_assert_null(strstr(text, "dst: $."), "%s", text);
	cr_assert(strstr(text, "uri: /api/v1/event*\n"), "%s", text);
	cr_assert(strstr(text, "type: CON\n          method: POST\n          uri: /notify\n"), "%s",
		  text);
	cr_assert(strstr(text, "dhcp:\n          type: request\n          client-mac: self\n"
			       "        udp:\n          src-port: 68\n          dst-port: 67\n"),
		  "%s", text);
	cr_assert(strstr(text, "icmp:\n          type: echo-request\n"), "%s", text);
	cr_assert(strstr(text, "ipv6:\n          src: self\n          dst:\n"
			       "          - 2001:db8::1\n          - 2001:db8::2\n"),
		  "%s", text);
	cr_assert(strstr(text, "        udp:\n        ipv6:"), "%s", text);
	cr_assert(strstr(text, "icmpv6:\n"), "%s", text);
	cr_assert(strstr(text, "  mdns-cam-7-local:\n"), "%s", text);
	cr_assert(strstr(text, "dst: mdns\n"), "%s", text);
	cr_assert(strstr(text, "ssdp:\n        method: M-SEARCH\n"), "%s", text);
	cr_assert(strstr(text, "  ssdp-from-device:\n"), "%s", text);
	cr_assert(strstr(text, "igmp:\n        version: 3\n        type: membership report\n"
			       "        group: ssdp\n"),
		  "%s", text);
	cr_assert(strstr(text, "dst: igmpv3\n"), "%s", text);
	/* WS-Discovery on UDP 3702 to 239.255.255.250 is named for itself, its
	 * group by address: never the SSDP alias */
	cr_assert(strstr(text, "  ws-discovery-239-255-255-250:\n"), "%s", text);
	cr_assert(strstr(text, "dst: 239.255.255.250\n"), "%s", text);
	cr_assert(strstr(text, "dst-port: 3702\n"), "%s", text);
	cr_assert_null(strstr(text, "udp-ssdp"), "%s", text);
	cr_assert(strstr(text, "dhcp:\n        type: discover\n      udp:"), "%s", text);
	cr_assert(strstr(text, "src: 0.0.0.0\n        dst: broadcast\n"), "%s", text);
	/* a pattern without answers is not bidirectional, group destinations neither */
	cr_assert_null(strstr(text, "dst: mdns\n    bidirectional"), "%s", text);
}

/* The firewall's translator has no backward match for a dhcp or coap
 * section and does not compile a bidirectional policy with one: the
 * requests keep their section, one way, and the answers get a policy of
 * their own from the responder back, at the transport level. */
Test(emit_profile, dhcp_and_coap_answers_get_their_own_policy)
{
	struct sx_profile_cfg cfg = {.device = "cam",
				     .ipv4 = "10.0.0.7",
				     .mac = "02:00:00:00:00:07",
				     .gateway = "10.0.0.1",
				     .event = "motion"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ps = mk(2 * sizeof(*ps)), *p;
	const char *text, *q;
	int ret;

	p = pattern(&ps[0], 17, SX_MINE_CLIENT, SX_MINE_SERVER, 67, SX_P_DHCP, 3);
	end(&p->end[0], "10.0.0.7", "68:3", 0, NULL, NULL);
	end(&p->end[1], "10.0.0.1", "67:3", 0, NULL, NULL);
	snprintf(p->app.dhcp_type, sizeof(p->app.dhcp_type), "ack request");
	p = pattern(&ps[1], 17, SX_MINE_CLIENT, SX_MINE_SERVER, 5683, SX_P_COAP, 3);
	end(&p->end[0], "10.0.0.7", "50000:1,50001:2", 0, NULL, NULL);
	end(&p->end[1], "10.0.0.2", "5683:3", 0, NULL, NULL);
	snprintf(p->app.coap_type, sizeof(p->app.coap_type), "CON");
	snprintf(p->app.coap_method, sizeof(p->app.coap_method), "POST");
	snprintf(p->app.coap_uri, sizeof(p->app.coap_uri), "/notify");
	r->patterns = ps;
	r->npatterns = 2;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	assert_valid(text, "dhcp and coap answers");
	cr_assert_null(strstr(text, "bidirectional"), "%s", text);
	/* the requests, with their sections */
	q = strstr(text, "    dhcp-gateway:\n      protocols:\n        dhcp:\n");
	cr_assert_not_null(q, "%s", text);
	cr_assert(strstr(q, "client-mac: self\n"), "%s", text);
	cr_assert(strstr(text, "        coap:\n          type: CON\n          method: POST\n"),
		  "%s", text);
	/* the answers, from the responder, ports swapped, no section */
	q = strstr(text, "    dhcp-gateway-to-device:\n      protocols:\n        udp:\n"
			 "          src-port: 67\n          dst-port: 68\n        ipv4:\n"
			 "          src: gateway\n          dst: self\n");
	cr_assert_not_null(q, "%s", text);
	cr_assert_eq(count_of(text, "src: 10.0.0.2\n"), 1, "%s", text);
	cr_assert_eq(count_of(text, "dhcp:"), 1, "%s", text);
	cr_assert_eq(count_of(text, "coap:"), 1, "%s", text);
}

Test(emit_profile, empty_result)
{
	struct sx_mine_result r;
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	int ret;
	const char *text;

	memset(&r, 0, sizeof(r));
	text = emit(&r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_str_eq(text, "device-info:\n  name: d\n  ipv4: 10.0.0.7\n  last-update: \"x\"\n"
			       "single-policies: {}\ninteractions: {}\n");
	assert_valid(text, "empty");
}

Test(emit_profile, bad_configuration)
{
	struct sx_mine_result r;
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.300"};
	char msg[256];
	int ret;

	memset(&r, 0, sizeof(r));
	cr_assert_eq(sx_emit_profile(&r, &cfg, stdout, msg, sizeof(msg)), -EINVAL);
	cr_assert(strstr(msg, "10.0.0.300"), "%s", msg);
	cfg.ipv4 = "10.0.0.3";
	cfg.gateway = "gw";
	cr_assert_eq(sx_emit_profile(&r, &cfg, stdout, msg, sizeof(msg)), -EINVAL);
	cfg.gateway = NULL;
	cfg.device = "";
	cr_assert_eq(sx_emit_profile(&r, &cfg, stdout, msg, sizeof(msg)), -EINVAL);
	cfg.device = "bad \xff utf-8";
	emit(&r, &cfg, &ret);
	cr_assert_eq(ret, SX_E_YAML);
}

Test(emit_profile, write_errors_keep_the_old_file)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7"};
	struct sx_mine_result r;
	char msg[512], *dir = sx_tt_tmpdir(), *path = sx_tt_path(dir, "profile.yaml"), *old;
	FILE *full = fopen("/dev/full", "w");

	memset(&r, 0, sizeof(r));
	if (full) {
		cr_assert_neq(sx_emit_profile(&r, &cfg, full, msg, sizeof(msg)), 0);
		fclose(full);
	}
	cr_assert_eq(sx_tt_write(path, "old\n", 4), 0);
	cfg.device = "bad \xff";
	cr_assert_eq(sx_emit_profile_file(&r, &cfg, path, msg, sizeof(msg)), SX_E_YAML);
	cr_assert(strstr(msg, path), "%s", msg);
	old = sx_tt_read(path, NULL);
	cr_assert_str_eq(old, "old\n");
	free(old);
	cfg.device = "d";
	cr_assert_eq(sx_emit_profile_file(&r, &cfg, path, msg, sizeof(msg)), 0, "%s", msg);
	old = sx_tt_read(path, NULL);
	cr_assert(strstr(old, "name: d\n"));
	free(old);
	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
}

Test(emit_profile, ids_and_event_names)
{
	char buf[16], big[64];
	struct sx_mine_result r;
	struct sx_mine_occ occ[2];
	struct sx_profile_cfg cfg = {.device = "d"};

	cr_assert_str_eq(sx_emit_profile_id("Switch On!", big, sizeof(big)), "switch-on");
	cr_assert_str_eq(sx_emit_profile_id("  -- ", big, sizeof(big)), "");
	cr_assert_str_eq(sx_emit_profile_id("dns use1-api.tplinkra.com", big, sizeof(big)),
			 "dns-use1-api-tplinkra-com");
	/* cut at a word boundary */
	cr_assert_str_eq(sx_emit_profile_id("https verylongname.example.com", buf, sizeof(buf)),
			 "https");
	cr_assert_str_eq(sx_emit_profile_id("ab cd ef gh ij kl", buf, sizeof(buf)),
			 "ab-cd-ef-gh-ij");
	cr_assert_str_eq(sx_emit_profile_id("\xc3\xa9t\xc3\xa9 2", buf, sizeof(buf)), "t-2");

	memset(&r, 0, sizeof(r));
	memset(occ, 0, sizeof(occ));
	r.occs = occ;
	r.noccs = 2;
	occ[0].label = occ[1].label = "Switch On";
	cr_assert_str_eq(sx_emit_profile_event_name(&r, &cfg, big, sizeof(big)), "switch-on");
	occ[1].label = "Switch Off";
	cr_assert_str_eq(sx_emit_profile_event_name(&r, &cfg, big, sizeof(big)),
			 SX_PROFILE_EVENT_DEFAULT);
	cfg.event = "Toggle Plug";
	cr_assert_str_eq(sx_emit_profile_event_name(&r, &cfg, big, sizeof(big)), "Toggle Plug");
}

Test(emit_profile, last_update_is_iso_8601)
{
	char buf[64];

	sx_emit_profile_last_update(buf, sizeof(buf), 1732776000);
	cr_assert_eq(strlen(buf), 25, "%s", buf);
	cr_assert_eq(buf[10], 'T');
	cr_assert(buf[19] == '+' || buf[19] == '-', "%s", buf);
	cr_assert_eq(buf[22], ':');
}

/* The golden profiles of the end-to-end tests pass the same check. */
Test(emit_profile, golden_profiles_are_in_the_schema)
{
	const char *root = SX_SOURCE_DIR "/tests/golden/extract";
	DIR *d = opendir(root);
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		sx_tt_skip_missing("no %s", root);
	while ((e = readdir(d))) {
		char path[1024];
		char *text;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/profile.yaml", root, e->d_name);
		text = sx_tt_read(path, NULL);
		if (!text)
			continue;
		/* the reference's ids ("tcp_443") are not lower-case words */
		assert_valid_ids(text, path, strstr(e->d_name, "upstream") != NULL);
		free(text);
		n++;
	}
	closedir(d);
	cr_assert_gt(n, 0, "no golden profile found under %s", root);
}

/*
 * Names and paths from the network never become wildcards: the firewall
 * reads "$." as one and matches a plain name by its suffix after the first
 * label.  An end with such a name is written by its address; a DNS, HTTP or
 * CoAP policy that would need it is left out (the firewall then blocks it).
 */
Test(emit_profile, network_text_never_widens_a_rule)
{
	static const char *const bad_dns[] = {"*.com",		 "$.com",	  ".com",
					      "a..example.com",	 "x.$.example",	  "*",
					      "*.*.example.com", "a*.example.com"};
	/* Other bytes cannot widen a rule; DNS-SD instance names hold spaces
	 * and brackets. */
	static const char *const good_dns[] = {"use1-api.tplinkra.com",
					       "*.tplinkra.com",
					       "_hue._tcp.local",
					       "wpad",
					       "Hue Bridge [74:da:38]._http._tcp.local",
					       "a\\046b.example"};
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	size_t nb = sizeof(bad_dns) / sizeof(bad_dns[0]);
	size_t ng = sizeof(good_dns) / sizeof(good_dns[0]);
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ps = mk((nb + ng + 8) * sizeof(*ps)), *p;
	uint32_t n = 0;
	size_t i;
	int ret;
	const char *text;

	for (i = 0; i < nb + ng; i++) {
		p = pattern(&ps[n++], 17, SX_MINE_CLIENT, SX_MINE_SERVER, 53, SX_P_DNS, 3);
		end(&p->end[0], "10.0.0.7", "40000:3", 0, NULL, NULL);
		end(&p->end[1], "10.0.0.1", "53:3", 0, NULL, NULL);
		snprintf(p->app.dns_qtype, sizeof(p->app.dns_qtype), "A");
		snprintf(p->app.dns_name, sizeof(p->app.dns_name), "%s",
			 i < nb ? bad_dns[i] : good_dns[i - nb]);
	}
	/* ends named by the network: written by their addresses */
	p = pattern(&ps[n++], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 443, SX_P_TLS, 3);
	end(&p->end[0], "10.0.0.7", "50000:3", 0, NULL, NULL);
	end(&p->end[1], "198.51.100.1", "443:3", SX_MINE_HOST_NAME, "$.evil.example", NULL);
	p = pattern(&ps[n++], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 8443, SX_P_TLS, 3);
	end(&p->end[0], "10.0.0.7", "50000:3", 0, NULL, NULL);
	end(&p->end[1], "198.51.100.2", "8443:3", SX_MINE_HOST_DOMAIN, "*.com", NULL);
	p = pattern(&ps[n++], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 8883, SX_P_TLS, 3);
	end(&p->end[0], "10.0.0.7", "50000:3", 0, NULL, NULL);
	end(&p->end[1], "198.51.100.3", "8883:3", SX_MINE_HOST_NAME, "*.evil.example", NULL);
	/* a wildcard inside an HTTP path; a legitimate one next to it */
	p = pattern(&ps[n++], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 80, SX_P_HTTP, 3);
	end(&p->end[0], "10.0.0.7", "50000:3", 0, NULL, NULL);
	end(&p->end[1], "198.51.100.4", "80:3", 0, NULL, NULL);
	snprintf(p->app.http_method, sizeof(p->app.http_method), "GET");
	snprintf(p->app.http_uri, sizeof(p->app.http_uri), "/a/*/b");
	p = pattern(&ps[n++], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 80, SX_P_HTTP, 3);
	end(&p->end[0], "10.0.0.7", "50000:3", 0, NULL, NULL);
	end(&p->end[1], "198.51.100.5", "80:3", 0, NULL, NULL);
	snprintf(p->app.http_method, sizeof(p->app.http_method), "GET");
	snprintf(p->app.http_uri, sizeof(p->app.http_uri), "/api/v1/x*?q=*");
	r->patterns = ps;
	r->npatterns = n;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	assert_valid(text, "network text");
	for (i = 0; i < nb; i++) {
		char needle[128];

		snprintf(needle, sizeof(needle), "domain-name: %s\n", bad_dns[i]);
		cr_assert_null(strstr(text, needle), "%s written:\n%s", bad_dns[i], text);
	}
	cr_assert_null(strstr(text, "$.com"), "%s", text);
	cr_assert_null(strstr(text, "evil"), "%s", text);
	cr_assert_null(strstr(text, "/a/"), "%s", text);
	cr_assert(strstr(text, "domain-name: use1-api.tplinkra.com\n"), "%s", text);
	cr_assert(strstr(text, "domain-name: $.tplinkra.com\n"), "%s", text);
	cr_assert(strstr(text, "domain-name: _hue._tcp.local\n"), "%s", text);
	cr_assert(strstr(text, "domain-name: $wpad\n"), "%s", text);
	cr_assert(strstr(text, "Hue Bridge [74:da:38]._http._tcp.local"), "%s", text);
	cr_assert(strstr(text, "a\\046b.example"), "%s", text);
	cr_assert(strstr(text, "dst: 198.51.100.1\n"), "%s", text);
	cr_assert(strstr(text, "dst: 198.51.100.2\n"), "%s", text);
	cr_assert(strstr(text, "dst: 198.51.100.3\n"), "%s", text);
	cr_assert(strstr(text, "uri: /api/v1/x*\n"), "%s", text);
	/* nothing but left-out policies: the event has no interaction */
	r->npatterns = 1;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert(strstr(text, "interactions: {}\n"), "%s", text);
	assert_valid(text, "all left out");
}

/*
 * An address end is written by name only when a DNS policy of the profile
 * lets the firewall learn that name (an entry of that exact name, listed
 * before a wildcard covering it: callback.c.j2 learns a response's answers
 * under the name of the first entry its question matches, the bare suffix
 * for a wildcard): the firewall's translator
 * (protocols/ip.py, ip.add_addr_nfqueue) matches a name end with
 * dns_entry_contains(dns_map_get(dns_map, NAME), addr), and the DNS map is
 * filled only from the responses of the DNS policies (and is not even
 * compiled in without one: the program then fails to build).
 */
Test(emit_profile, name_ends_need_a_dns_policy)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ps = mk(4 * sizeof(*ps));
	static const char *const names[] = {"a.vendor.example", "b.vendor.example"};
	int ret;
	const char *text;

	/* TLS to a named server, no DNS policy for it: its address */
	pattern(&ps[0], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 443, SX_P_TLS, 3);
	end(&ps[0].end[0], "10.0.0.7", "50000:3", 0, NULL, NULL);
	end(&ps[0].end[1], "1.1.1.2", "443:3", SX_MINE_HOST_NAME, "api.example.com", NULL);
	/* HTTP to names varying under one domain, which a DNS wildcard allows */
	pattern(&ps[1], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 80, SX_P_HTTP, 3);
	end(&ps[1].end[0], "10.0.0.7", "50001:3", 0, NULL, NULL);
	end(&ps[1].end[1], "192.0.2.80,192.0.2.81", "80:3", SX_MINE_HOST_DOMAIN, "*.vendor.example",
	    NULL);
	ps[1].end[1].names = names;
	ps[1].end[1].nnames = 2;
	dns_pattern(&ps[2], "*.vendor.example");
	r->patterns = ps;
	r->npatterns = 3;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert(strstr(text, "          dst: 1.1.1.2\n"), "%s", text);
	cr_assert_null(strstr(text, "dst: api.example.com"), "%s", text);
	cr_assert(
	    strstr(text, "dst:\n          - a.vendor.example\n          - b.vendor.example\n"),
	    "%s", text);
	/* the wildcard after the exact names of the ends it covers: the
	 * firewall learns a name's addresses only under an entry of that
	 * exact name, the first one a question matches */
	cr_assert(strstr(text, "domain-name:\n          - a.vendor.example\n"
			       "          - b.vendor.example\n"
			       "          - $.vendor.example\n"),
		  "%s", text);
	cr_assert_null(strstr(text, "dst: $."), "%s", text);
	assert_valid(text, "name ends");
	/* a name the DNS policy lists itself is not listed again */
	{
		static const char *const asked[] = {"a.vendor.example", "*.vendor.example"};

		ps[2].app.dns_names = asked;
		ps[2].app.ndns_names = 2;
		text = emit(r, &cfg, &ret);
		cr_assert_eq(ret, 0);
		cr_assert(strstr(text, "domain-name:\n          - a.vendor.example\n"
				       "          - b.vendor.example\n"
				       "          - $.vendor.example\n"),
			  "%s", text);
		ps[2].app.dns_names = NULL;
		ps[2].app.ndns_names = 0;
	}

	/* with a DNS policy for the exact name, the TLS server is named */
	dns_pattern(&ps[3], "api.example.com");
	r->npatterns = 4;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert(strstr(text, "          dst: api.example.com\n"), "%s", text);
}

/* mDNS to 224.0.0.251 and ff02::fb in one pattern: one policy per family,
 * each with its own family's addresses (an ipv4 rule holding an IPv6
 * address is rejected by nft). */
Test(emit_profile, a_pattern_of_both_families_gives_one_policy_each)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *p = mk(sizeof(*p));
	int ret;
	const char *text, *v4, *v6;

	pattern(p, 17, SX_MINE_CLIENT, SX_MINE_SERVER, 5353, SX_P_MDNS, 4);
	p->family = 0;
	end(&p->end[0], "10.0.0.7,fe80::7", "5353:4", 0, NULL, NULL);
	end(&p->end[1], "224.0.0.251,ff02::fb", "5353:4", 0, NULL, NULL);
	snprintf(p->app.dns_qtype, sizeof(p->app.dns_qtype), "ANY");
	snprintf(p->app.dns_name, sizeof(p->app.dns_name), "plug.local");
	p->app.mdns = true;
	r->patterns = p;
	r->npatterns = 1;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	v4 = strstr(text, "        ipv4:\n          src: self\n          dst: mdns\n");
	v6 = strstr(text, "        ipv6:\n          src: fe80::7\n          dst: ff02::fb\n");
	cr_assert(v4 && v6, "%s", text);
	cr_assert_null(strstr(text, "- fe80::7"), "%s", text);
	assert_valid(text, "both families");
}

/* device-info.mac and DHCP's client-mac from the device's own frames. */
Test(emit_profile, the_device_mac_is_inferred_and_marks_its_dhcp)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ps = mk(3 * sizeof(*ps));
	uint8_t dev[6] = {0x50, 0xc7, 0xbf, 0xed, 0x0a, 0x54}, gw[6] = {2, 0, 0, 0, 0, 1};
	int ret;
	const char *text;

	dns_pattern(&ps[0], "api.example.com");
	memcpy(ps[0].end[0].mac, dev, 6);
	memcpy(ps[0].end[1].mac, gw, 6);
	/* DHCP before the device has an address: 0.0.0.0, known by its MAC;
	 * "bootp" (no option 53) is no type the firewall knows */
	pattern(&ps[1], 17, SX_MINE_CLIENT, SX_MINE_SERVER, 67, SX_P_DHCP, 3);
	end(&ps[1].end[0], "0.0.0.0", "68:3", 0, NULL, NULL);
	end(&ps[1].end[1], "255.255.255.255", "67:3", 0, NULL, NULL);
	memcpy(ps[1].end[0].mac, dev, 6);
	snprintf(ps[1].app.dhcp_type, sizeof(ps[1].app.dhcp_type), "bootp discover request");
	/* another client's DHCP: no client-mac: self */
	pattern(&ps[2], 17, SX_MINE_CLIENT, SX_MINE_SERVER, 67, SX_P_DHCP, 3);
	end(&ps[2].end[0], "0.0.0.0", "68:3", 0, NULL, NULL);
	end(&ps[2].end[1], "255.255.255.255", "67:3", 0, NULL, NULL);
	ps[2].end[0].mac[0] = 2;
	ps[2].end[0].mac[5] = 9;
	snprintf(ps[2].app.dhcp_type, sizeof(ps[2].app.dhcp_type), "bootp");
	r->patterns = ps;
	r->npatterns = 3;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert(strstr(text, "  name: d\n  mac: 50:c7:bf:ed:0a:54\n  ipv4: 10.0.0.7\n"), "%s",
		  text);
	cr_assert(strstr(text, "dhcp:\n          type:\n          - discover\n          - request\n"
			       "          client-mac: self\n"),
		  "%s", text);
	cr_assert_null(strstr(text, "bootp"), "%s", text);
	/* the other client's policy has no dhcp section left to write */
	cr_assert_eq(count_of(text, "client-mac: self"), 1, "%s", text);
	assert_valid(text, "device mac");

	/* --mac wins over the frames */
	cfg.mac = "02:00:00:00:00:09";
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert(strstr(text, "  mac: 02:00:00:00:00:09\n"), "%s", text);
	cr_assert_eq(count_of(text, "client-mac: self"), 1, "%s", text);
	cr_assert(strstr(text, "dhcp:\n          client-mac: self\n"), "%s", text);
}

/* An ICMPv6 pattern (router solicitation) from addr to ff02::2, sent from
 * the Ethernet address mac. */
static void solicitation(struct sx_mine_pattern *p, const char *addr, const uint8_t mac[6])
{
	pattern(p, 58, SX_MINE_CLIENT, SX_MINE_NO_ROLE, 0, SX_P_ICMPV6, 3);
	p->family = 6;
	end(&p->end[0], addr, NULL, 0, NULL, NULL);
	end(&p->end[1], "ff02::2", NULL, 0, NULL, NULL);
	memcpy(p->end[0].mac, mac, 6);
	p->pkts[SX_MINE_SERVER] = (struct sx_mine_stat){0, 0, 0};
}

/* A solicitation pattern (solicitation()) whose pairs are each of a[0..n)
 * to dst, sent from mac for the first nmac of them, from other after. */
static void solicitations_from(struct sx_mine_pattern *p, const char *const *a, int n, int nmac,
			       const char *dst, const uint8_t mac[6], const uint8_t other[6])
{
	struct sx_mine_pair *q = mk((size_t)n * sizeof(*q));
	char addrs[512] = "";

	for (int k = 0; k < n; k++) {
		strcat(strcat(addrs, k ? "," : ""), a[k]);
		q[k].addr[0] = ip(a[k]);
		memcpy(q[k].mac[0], k < nmac ? mac : other, 6);
		q[k].addr[1] = ip(dst);
		q[k].count = 3;
	}
	solicitation(p, addrs, mac);
	p->pairs = q;
	p->npairs = (uint32_t)n;
}

/* device-info.ipv6 and "self": the link-local address made from the
 * device's MAC when it sent from it; its other addresses as they are;
 * --ipv6 wins. */
Test(emit_profile, the_device_ipv6_is_its_mac_link_local_address)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ps = mk(4 * sizeof(*ps)), *bg = mk(sizeof(*bg));
	uint8_t dev[6] = {0x50, 0xc7, 0xbf, 0xed, 0x0a, 0x54}, other[6] = {2, 0, 0, 0, 0, 9};
	int ret;
	const char *text;

	dns_pattern(&ps[0], "api.example.com");
	memcpy(ps[0].end[0].mac, dev, 6);
	solicitation(&ps[1], "fe80::52c7:bfff:feed:a54", dev);
	/* duplicate address detection, from :: */
	solicitation(&ps[2], "::", dev);
	/* another host's solicitation is no address of the device's */
	solicitation(&ps[3], "fe80::9", other);
	r->patterns = ps;
	r->npatterns = 4;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert(strstr(text, "  mac: 50:c7:bf:ed:0a:54\n  ipv4: 10.0.0.7\n"
			       "  ipv6: fe80::52c7:bfff:feed:a54\n"),
		  "%s", text);
	cr_assert(strstr(text, "        ipv6:\n          src: self\n          dst: ff02::2\n"),
		  "%s", text);
	cr_assert_null(strstr(text, "src: fe80::52c7"), "%s", text);
	/* with the device's address known, another host's traffic is left out */
	cr_assert_null(strstr(text, "fe80::9"), "%s", text);
	assert_valid(text, "inferred ipv6");

	/* a pattern whose pairs say who sent: the device's privacy address
	 * (frames from its MAC) stays, written as it is; another host's goes,
	 * and so does an address made from another vendor's MAC (universal)
	 * that the device's MAC carried (a bridge rewriting the source MAC) */
	{
		struct sx_mine_pair *q = mk(3 * sizeof(*q));
		struct sx_mine_pattern saved = ps[3];

		solicitation(&ps[3], "fd12::2926:238e:4e9f:807f,fe80::9,fe80::21b:63ff:fe84:2a1",
			     dev);
		q[0].addr[0] = ip("fd12::2926:238e:4e9f:807f");
		memcpy(q[0].mac[0], dev, 6);
		q[1].addr[0] = ip("fe80::9");
		memcpy(q[1].mac[0], other, 6);
		q[2].addr[0] = ip("fe80::21b:63ff:fe84:2a1");
		memcpy(q[2].mac[0], dev, 6);
		for (int k = 0; k < 3; k++) {
			q[k].addr[1] = ip("ff02::2");
			q[k].count = 3;
		}
		ps[3].pairs = q;
		ps[3].npairs = 3;
		text = emit(r, &cfg, &ret);
		cr_assert_eq(ret, 0);
		cr_assert(strstr(text, "src: fd12::2926:238e:4e9f:807f\n"), "%s", text);
		cr_assert_null(strstr(text, "fe80::9"), "%s", text);
		cr_assert_null(strstr(text, "fe80::21b"), "%s", text);
		ps[3] = saved;
	}

	/* link-local addresses of the device's own interfaces, made from
	 * random (locally administered) MACs, one per boot: with two of them
	 * or more the device's link-local ends are fe80::/64, its own address
	 * folded in; with one, it is written as it is */
	{
		struct sx_mine_pattern saved = ps[1];
		static const char *const a[] = {"fe80::52c7:bfff:feed:a54",
						"fe80::c25:d2ff:fe65:f426",
						"fe80::7c87:61ff:feac:650a", "fe80::9"};

		solicitations_from(&ps[1], a, 4, 3, "ff02::2", dev, other);
		text = emit(r, &cfg, &ret);
		cr_assert_eq(ret, 0);
		cr_assert(
		    strstr(text,
			   "        ipv6:\n          src: fe80::/64\n          dst: ff02::2\n"),
		    "%s", text);
		cr_assert_null(strstr(text, "fe80::c25"), "%s", text);
		cr_assert_null(strstr(text, "fe80::7c87"), "%s", text);
		cr_assert_null(strstr(text, "fe80::9"), "%s", text);
		assert_valid(text, "random link-local addresses");
		ps[1].npairs = 2; /* the device's own and one random address */
		text = emit(r, &cfg, &ret);
		cr_assert_eq(ret, 0);
		cr_assert(strstr(text, "          - fe80::c25:d2ff:fe65:f426\n"), "%s", text);
		cr_assert_null(strstr(text, "fe80::/64"), "%s", text);
		ps[1] = saved;
	}

	/* unique local addresses the device's MAC sent from, drawn anew under
	 * every prefix (privacy addresses): with two of them or more they are
	 * fc00::/7; another host's stays out; with one, it is written as it is */
	{
		struct sx_mine_pattern saved = ps[3];
		static const char *const a[] = {"fd12:49d4:94fb:0:5c6a:7c1b:9a3d:33b5",
						"fdb9:136b:cd34:e86f:9809:bc68:3152:72a5",
						"fd00::9"};

		solicitations_from(&ps[3], a, 3, 2, "ff02::1:ff00:1", dev, other);
		text = emit(r, &cfg, &ret);
		cr_assert_eq(ret, 0);
		cr_assert(strstr(text, "        ipv6:\n          src: fc00::/7\n"
				       "          dst: ff02::1:ff00:1\n"),
			  "%s", text);
		cr_assert_null(strstr(text, "fd12:"), "%s", text);
		cr_assert_null(strstr(text, "fd00::9"), "%s", text);
		assert_valid(text, "privacy addresses");
		ps[3].npairs = 1;
		text = emit(r, &cfg, &ret);
		cr_assert_eq(ret, 0);
		cr_assert(strstr(text, "src: fd12:49d4:94fb:0:5c6a:7c1b:9a3d:33b5\n"), "%s", text);
		cr_assert_null(strstr(text, "fc00::/7"), "%s", text);
		/* one each, but under two prefixes: the LAN's prefix changed */
		{
			struct sx_mine_pattern saved2 = ps[2];
			static const char *const b[] = {"fdb9:136b:cd34:e86f:52c7:bfff:feed:a54"};

			solicitations_from(&ps[2], b, 1, 1, "ff02::2", dev, other);
			text = emit(r, &cfg, &ret);
			cr_assert_eq(ret, 0);
			cr_assert_null(strstr(text, "fd12:"), "%s", text);
			cr_assert_null(strstr(text, "fdb9:"), "%s", text);
			cr_assert_eq(count_of(text, "src: fc00::/7\n"), 2, "%s", text);
			assert_valid(text, "a ULA prefix that changed");
			ps[2] = saved2;
		}
		ps[3] = saved;
	}

	/* its global address from the same MAC (SLAAC): the device's too,
	 * written as it is, "self" staying the link-local one */
	solicitation(bg, "2001:db8::52c7:bfff:feed:a54", dev);
	r->background = bg;
	r->nbackground = 1;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert(strstr(text, "\n  ipv6: fe80::52c7:bfff:feed:a54\n"), "%s", text);
	cr_assert(strstr(text, "src: 2001:db8::52c7:bfff:feed:a54\n"), "%s", text);
	cr_assert_eq(count_of(text, "src: self\n"), 2, "%s", text);

	/* --ipv6 wins over the frames; the link-local address stays the
	 * device's (made from its MAC) */
	cfg.ipv6 = "2001:db8::52c7:bfff:feed:a54";
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert(strstr(text, "\n  ipv6: 2001:db8::52c7:bfff:feed:a54\n"), "%s", text);
	cr_assert(strstr(text, "src: fe80::52c7:bfff:feed:a54\n"), "%s", text);
	cr_assert_eq(count_of(text, "src: self\n"), 2, "%s", text);
	cr_assert_null(strstr(text, "fe80::9"), "%s", text);

	/* an address not made from the MAC (a privacy address) is not guessed
	 * for "self", and nothing is left out */
	cfg.ipv6 = NULL;
	r->nbackground = 0;
	solicitation(&ps[1], "fe80::1234:5678:9abc:def0", dev);
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_null(strstr(text, "\n  ipv6: "), "%s", text);
	cr_assert(strstr(text, "src: fe80::1234:5678:9abc:def0\n"), "%s", text);
	cr_assert(strstr(text, "src: fe80::9\n"), "%s", text);

	/* no MAC known (no --mac, no frame of the device's IPv4 with one):
	 * nothing inferred */
	solicitation(&ps[1], "fe80::52c7:bfff:feed:a54", dev);
	memset(ps[0].end[0].mac, 0, 6);
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_null(strstr(text, "\n  ipv6: "), "%s", text);
	cr_assert_null(strstr(text, "\n  mac: "), "%s", text);
	cr_assert(strstr(text, "src: fe80::52c7:bfff:feed:a54\n"), "%s", text);
}

/* A pattern asking for several names: every one in domain-name, none
 * dropped, and never a DNS policy without one. */
Test(emit_profile, several_question_names_are_a_domain_name_list)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *p = mk(sizeof(*p));
	const char **names = mk(2 * sizeof(*names));
	int ret;
	const char *text;

	dns_pattern(p, "*.aliyun.com");
	names[0] = "*.aliyun.com";
	names[1] = "time3.google.com";
	p->app.dns_names = names;
	p->app.ndns_names = 2;
	r->patterns = p;
	r->npatterns = 1;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_not_null(strstr(text, "          domain-name:\n          - $.aliyun.com\n"
					"          - time3.google.com\n"),
			   "%s", text);
	assert_valid(text, "a domain-name list");
}

/*
 * ICMP errors from server A to the device, from A to the phone, and from
 * the phone to host B, in one pattern: the ends' lists would pair A and the
 * phone with B, the phone and the device.  Only the pairs that occurred
 * and involve the device are written: A to the device.
 */
Test(emit_profile, end_pairs_that_occurred_no_cross_product)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *p = mk(sizeof(*p));
	struct sx_mine_pair *pairs = mk(3 * sizeof(*pairs));
	int ret;
	const char *text;

	pattern(p, 1, SX_MINE_CLIENT, SX_MINE_NO_ROLE, 0, 0, 3);
	end(&p->end[0], "10.0.0.9,52.1.1.1", NULL, 0, NULL, NULL);
	end(&p->end[1], "10.0.0.7,10.0.0.9,52.2.2.2", NULL, 0, NULL, NULL);
	attrs(p, "icmp=3:3:3");
	p->app.icmp_type = 3;
	p->app.icmp_code = 3;
	pairs[0] = (struct sx_mine_pair){{ip("10.0.0.9"), ip("52.2.2.2")}, 1, {{0}, {0}}};
	pairs[1] = (struct sx_mine_pair){{ip("52.1.1.1"), ip("10.0.0.7")}, 1, {{0}, {0}}};
	pairs[2] = (struct sx_mine_pair){{ip("52.1.1.1"), ip("10.0.0.9")}, 1, {{0}, {0}}};
	p->pairs = pairs;
	p->npairs = 3;
	r->patterns = p;
	r->npatterns = 1;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_not_null(strstr(text, "          src: 52.1.1.1\n          dst: self\n"), "%s",
			   text);
	cr_assert_null(strstr(text, "10.0.0.9"), "%s", text);
	cr_assert_null(strstr(text, "52.2.2.2"), "%s", text);
	cr_assert_eq(count_of(text, "icmp-"), 1, "%s", text);
	assert_valid(text, "pairs");

	/* without the device's address: one policy per group of pairs */
	cfg.ipv4 = NULL;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_eq(count_of(text, "icmp-"), 2, "%s", text);
	cr_assert_not_null(strstr(text, "src: 10.0.0.9\n          dst: 52.2.2.2\n"), "%s", text);
	cr_assert_not_null(strstr(text, "src: 52.1.1.1\n          dst:\n          - 10.0.0.7\n"
					"          - 10.0.0.9\n"),
			   "%s", text);
}

/*
 * NTP to public servers, the experts' way (the firewall testbed's
 * hand-written profiles): dst: external, and a
 * DNS policy on the device's resolver for the servers' names one label up,
 * from the NTP patterns of every list (below the support too).
 */
Test(emit_profile, ntp_to_public_servers_is_external_with_its_lookups)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ps = mk(2 * sizeof(*ps)), *below = mk(sizeof(*below));
	const char **n1 = mk(2 * sizeof(*n1)), **n2 = mk(sizeof(*n2));
	struct sx_mine_pattern *p;
	const char *text, *dns;
	int ret;

	p = pattern(&ps[0], 17, SX_MINE_CLIENT, SX_MINE_SERVER, 123, SX_P_NTP, 3);
	end(&p->end[SX_MINE_CLIENT], "10.0.0.7", "123:3", 0, NULL, NULL);
	end(&p->end[SX_MINE_SERVER], "129.6.15.28,129.6.15.29", "123:3", 0, NULL, NULL);
	p->end[SX_MINE_SERVER].scope = SX_MINE_SCOPE_PUBLIC;
	n1[0] = "time-a.nist.gov";
	n1[1] = "time-b.nist.gov";
	p->end[SX_MINE_SERVER].names = n1;
	p->end[SX_MINE_SERVER].nnames = 2;
	dns_pattern(&ps[1], "devs.example.com");
	p = pattern(below, 17, SX_MINE_CLIENT, SX_MINE_SERVER, 123, SX_P_NTP, 2);
	below->kind = SX_MINE_BELOW_SUPPORT;
	end(&p->end[SX_MINE_CLIENT], "10.0.0.7", "123:2", 0, NULL, NULL);
	end(&p->end[SX_MINE_SERVER], "202.112.10.60", "123:2", 0, NULL, NULL);
	p->end[SX_MINE_SERVER].scope = SX_MINE_SCOPE_PUBLIC;
	n2[0] = "0.cn.pool.ntp.org";
	p->end[SX_MINE_SERVER].names = n2;
	p->end[SX_MINE_SERVER].nnames = 1;
	r->patterns = ps;
	r->npatterns = 2;
	r->below = below;
	r->nbelow = 1;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	/* one NTP policy: the event's and the one below the support have the
	 * same matches (a_plain_single_policy_folds_its_twins) */
	cr_assert_eq(count_of(text, "src: self\n        dst: external\n"), 1, "%s", text);
	cr_assert_null(strstr(text, "129.6.15.28"), "%s", text);
	dns = strstr(text, "single-policies:\n");
	cr_assert_not_null(dns, "%s", text);
	cr_assert_not_null(strstr(dns, "        domain-name:\n        - $.cn.pool.ntp.org\n"
				       "        - $.nist.gov\n"),
			   "%s", text);
	cr_assert_not_null(strstr(dns, "        dst: 10.0.0.1\n"), "on the resolver: %s", text);
	assert_valid(text, "NTP the experts' way");
}

/* Private NTP servers (a local time server) keep their addresses. */
Test(emit_profile, ntp_to_a_local_server_keeps_its_address)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *p = mk(sizeof(*p));
	const char *text;
	int ret;

	pattern(p, 17, SX_MINE_CLIENT, SX_MINE_SERVER, 123, SX_P_NTP, 3);
	end(&p->end[SX_MINE_CLIENT], "10.0.0.7", "123:3", 0, NULL, NULL);
	end(&p->end[SX_MINE_SERVER], "10.0.0.1", "123:3", 0, NULL, NULL);
	r->patterns = p;
	r->npatterns = 1;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_not_null(strstr(text, "dst: 10.0.0.1\n"), "%s", text);
	cr_assert_null(strstr(text, "external"), "%s", text);
}

/*
 * The device's mDNS answers (announcements: answers without questions)
 * need a policy of their own: the firewall's DNS matches read the first
 * question (protocols/dns.py, `qdcount > 0 && questions->qtype`) and a
 * policy without `response: true` matches queries only (`qr == 0`).
 */
Test(emit_profile, mdns_answers_get_a_response_policy)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *p = mk(sizeof(*p));
	const char *text;
	int ret;
	unsigned pass;

	for (pass = 0; pass < 2; pass++) {
		pattern(p, 17, SX_MINE_CLIENT, SX_MINE_SERVER, 5353, SX_P_MDNS, 3);
		end(&p->end[SX_MINE_CLIENT], "10.0.0.7", "5353:3", 0, NULL, NULL);
		end(&p->end[SX_MINE_SERVER], "224.0.0.251", "5353:3", 0, NULL, NULL);
		p->app.mdns = true;
		snprintf(p->app.dns_qtype, sizeof(p->app.dns_qtype), "PTR");
		snprintf(p->app.dns_name, sizeof(p->app.dns_name), "_hap._tcp.local");
		attrs(p, pass ? "mdns.q=PTR:_hap._tcp.local:3;mdns.rr=A:cam.local:2"
			      : "mdns.q=PTR:_hap._tcp.local:3");
		r->patterns = p;
		r->npatterns = 1;
		text = emit(r, &cfg, &ret);
		cr_assert_eq(ret, 0);
		cr_assert_eq(count_of(text, "response: true"), pass ? 1 : 0, "%s", text);
		/* the answers first: the interaction opens on them */
		if (pass)
			cr_assert_not_null(strstr(text, "interactions:\n  event:\n"
							"    mdns-answers-from-device:\n"),
					   "%s", text);
		cr_assert_not_null(strstr(text, "domain-name: _hap._tcp.local\n"), "%s", text);
		assert_valid(text, "mDNS answers");
	}
}

/*
 * First match wins (NFQueue.py: one queue per distinct set of nftables
 * matches, single policies first): an SSDP M-SEARCH single policy to
 * 239.255.255.250:1900 from any port would swallow the event's NOTIFY from
 * port 1900 into its queue and drop it.  The NOTIFY policy leaves its
 * source port out, so both share one queue.
 */
Test(emit_profile, an_earlier_queue_never_shadows_a_later_policy)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ev = mk(sizeof(*ev)), *per = mk(sizeof(*per));
	const char *text, *notify;
	int ret;

	pattern(per, 17, SX_MINE_CLIENT, SX_MINE_SERVER, 1900, SX_P_SSDP, 3);
	per->kind = SX_MINE_PERIODIC;
	end(&per->end[SX_MINE_CLIENT], "10.0.0.7", "40001:1,40002:1,40003:1", 0, NULL, NULL);
	end(&per->end[SX_MINE_SERVER], "239.255.255.250", "1900:3", 0, NULL, NULL);
	snprintf(per->app.ssdp_method, sizeof(per->app.ssdp_method), "M-SEARCH");
	pattern(ev, 17, SX_MINE_CLIENT, SX_MINE_SERVER, 1900, SX_P_SSDP, 3);
	end(&ev->end[SX_MINE_CLIENT], "10.0.0.7", "1900:3", 0, NULL, NULL);
	end(&ev->end[SX_MINE_SERVER], "239.255.255.250", "1900:3", 0, NULL, NULL);
	snprintf(ev->app.ssdp_method, sizeof(ev->app.ssdp_method), "NOTIFY");
	r->patterns = ev;
	r->npatterns = 1;
	r->periodic = per;
	r->nperiodic = 1;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	notify = strstr(text, "method: NOTIFY\n");
	cr_assert_not_null(notify, "%s", text);
	cr_assert_not_null(strstr(notify, "        udp:\n          dst-port: 1900\n"), "%s", text);
	cr_assert_null(strstr(text, "src-port: 1900"), "%s", text);
	assert_valid(text, "unshadowed");

	/* without the earlier M-SEARCH queue, the NOTIFY keeps its port */
	r->nperiodic = 0;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_not_null(strstr(text, "src-port: 1900\n"), "%s", text);
}

/*
 * A name end is an NFQueue match: the nftables rule of a single policy to
 * api.example.com:443 takes every TCP 443 packet of the device, and its
 * queue drops those to an address the DNS table does not hold.  A single
 * policy by address with the same port, written after it, would never see
 * its packets: the single policies with a name end go last (D-LinkDoorSensor's
 * cloud reached without a lookup, held out 80.5 -> 94.0 % of packets).
 */
/* The device's TLS to a cloud server by name (asked through the gateway:
 * bg[2]) and to another by address (bg[1]). */
static void cloud_patterns(struct sx_mine_pattern bg[3])
{
	pattern(&bg[0], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 443, SX_P_TLS, 3);
	end(&bg[0].end[SX_MINE_CLIENT], "10.0.0.7", "50000:1,50001:1,50002:1", 0, NULL, NULL);
	end(&bg[0].end[SX_MINE_SERVER], "1.1.1.2", "443:3", SX_MINE_HOST_NAME, "api.example.com",
	    NULL);
	pattern(&bg[1], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 443, SX_P_TLS, 3);
	end(&bg[1].end[SX_MINE_CLIENT], "10.0.0.7", "50003:1,50004:1,50005:1", 0, NULL, NULL);
	end(&bg[1].end[SX_MINE_SERVER], "52.28.161.134", "443:3", 0, NULL, NULL);
	dns_pattern(&bg[2], "api.example.com");
}

Test(emit_profile, a_name_single_policy_goes_after_the_address_ones)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *bg = mk(3 * sizeof(*bg));
	const char *text, *name, *addr;
	int ret;

	cloud_patterns(bg);
	r->background = bg;
	r->nbackground = 3;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	name = strstr(text, "\n  https-api-example-com:\n");
	addr = strstr(text, "dst: 52.28.161.134\n");
	cr_assert(name && addr, "%s", text);
	cr_assert_lt(addr, name, "%s", text);
	/* the DNS policy (by the gateway's address) stays before the name too */
	cr_assert_lt(strstr(text, "domain-name: api.example.com\n"), name, "%s", text);
	assert_valid(text, "name last");
}

/*
 * SSDP announcements go to 239.255.255.250:1900 from every UPnP device, and
 * the firewall's SSDP parser matches the method alone: a NOTIFY policy
 * without a source port admits every device's NOTIFY.  A device that
 * announces from a few registered ports of one block of 32 (a WeMo: 3075 to
 * 3087) gets that block as its source port; ports of a socket's own
 * (ephemeral, from 32768), of two blocks, or one port, leave it out.
 */
Test(emit_profile, ssdp_announcements_from_a_block_of_ports)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ev = mk(sizeof(*ev)), *per = mk(sizeof(*per));
	const char *text;
	int ret;

	pattern(ev, 17, SX_MINE_CLIENT, SX_MINE_SERVER, 1900, SX_P_SSDP, 3);
	ev->pkts[SX_MINE_SERVER] = (struct sx_mine_stat){0, 0, 0};
	end(&ev->end[SX_MINE_CLIENT], "10.0.0.7", "3077:1,3078:1,3086:1", 0, NULL, NULL);
	end(&ev->end[SX_MINE_SERVER], "239.255.255.250", "1900:3", 0, NULL, NULL);
	snprintf(ev->app.ssdp_method, sizeof(ev->app.ssdp_method), "NOTIFY");
	r->patterns = ev;
	r->npatterns = 1;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_not_null(strstr(text, "        udp:\n"
					"          src-port: 3072-3103\n"
					"          dst-port: 1900\n"),
			   "%s", text);
	assert_valid(text, "ssdp block");

	/* ephemeral ports, two blocks, one port: no source port */
	for (size_t i = 0; i < 3; i++) {
		static const char *const ports[] = {"40001:1,40002:1,40003:1", "3070:2,3077:1",
						    "3077:2"};

		end(&ev->end[SX_MINE_CLIENT], "10.0.0.7", ports[i], 0, NULL, NULL);
		text = emit(r, &cfg, &ret);
		cr_assert_eq(ret, 0);
		cr_assert_null(strstr(text, "src-port"), "%s: %s", ports[i], text);
	}

	/* behind an earlier M-SEARCH queue from any port, the block would be
	 * swallowed: left out, as a port is (unshadow()) */
	end(&ev->end[SX_MINE_CLIENT], "10.0.0.7", "3077:1,3078:1,3086:1", 0, NULL, NULL);
	pattern(per, 17, SX_MINE_CLIENT, SX_MINE_SERVER, 1900, SX_P_SSDP, 3);
	per->kind = SX_MINE_PERIODIC;
	end(&per->end[SX_MINE_CLIENT], "10.0.0.7", "40001:1,40002:1,40003:1", 0, NULL, NULL);
	end(&per->end[SX_MINE_SERVER], "239.255.255.250", "1900:3", 0, NULL, NULL);
	snprintf(per->app.ssdp_method, sizeof(per->app.ssdp_method), "M-SEARCH");
	r->periodic = per;
	r->nperiodic = 1;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_not_null(strstr(text, "method: NOTIFY\n"), "%s", text);
	cr_assert_null(strstr(text, "src-port"), "%s", text);
	assert_valid(text, "ssdp block unshadowed");
}

/*
 * A plain single policy (no section, no state) and another with the same
 * nftables matches: the translator would share one queue and write the
 * plain one's condition empty, and the firewall would not compile.  The
 * other one is left out; the plain one takes its bidirectional.
 */
Test(emit_profile, a_plain_single_policy_folds_its_twins)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ev = mk(sizeof(*ev)), *below = mk(sizeof(*below));
	const char *text;
	int ret;

	pattern(ev, 17, SX_MINE_CLIENT, SX_MINE_SERVER, 123, SX_P_NTP, 3);
	end(&ev->end[SX_MINE_CLIENT], "10.0.0.7", "40001:1,40002:1,40003:1", 0, NULL, NULL);
	end(&ev->end[SX_MINE_SERVER], "129.6.15.28", "123:3", 0, NULL, NULL);
	ev->end[SX_MINE_SERVER].scope = SX_MINE_SCOPE_PUBLIC;
	pattern(below, 17, SX_MINE_CLIENT, SX_MINE_SERVER, 123, SX_P_NTP, 2);
	below->kind = SX_MINE_BELOW_SUPPORT;
	end(&below->end[SX_MINE_CLIENT], "10.0.0.7", "40004:1,40005:1", 0, NULL, NULL);
	end(&below->end[SX_MINE_SERVER], "202.112.10.60", "123:2", 0, NULL, NULL);
	below->end[SX_MINE_SERVER].scope = SX_MINE_SCOPE_PUBLIC;
	below->pkts[SX_MINE_SERVER] = (struct sx_mine_stat){0, 0, 0}; /* no answer seen */
	r->patterns = ev;
	r->npatterns = 1;
	r->below = below;
	r->nbelow = 1;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_eq(count_of(text, "dst: external"), 1, "%s", text);
	cr_assert_not_null(strstr(text, "single-policies:\n  ntp-external-2:\n"), "%s", text);
	cr_assert_not_null(strstr(text, "dst: external\n    bidirectional: true\n"), "%s", text);
	cr_assert_not_null(strstr(text, "interactions: {}"), "%s", text);
	assert_valid(text, "folded twins");
}

/* An SSDP pattern whose flows carry announcements and queries from one
 * port (a WeMo's): one policy per method, as the firewall's SSDP parser
 * matches one; a single kind keeps one policy. */
Test(emit_profile, ssdp_methods_give_one_policy_each)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ev = mk(sizeof(*ev));
	const char *text;
	int ret;

	pattern(ev, 17, SX_MINE_CLIENT, SX_MINE_SERVER, 1900, SX_P_SSDP, 3);
	ev->pkts[SX_MINE_SERVER] = (struct sx_mine_stat){0, 0, 0};
	end(&ev->end[SX_MINE_CLIENT], "10.0.0.7", "1900:3", 0, NULL, NULL);
	end(&ev->end[SX_MINE_SERVER], "239.255.255.250", "1900:3", 0, NULL, NULL);
	attrs(ev, "ssdp=M-SEARCH:upnp:rootdevice:3;ssdp=NOTIFY:upnp:rootdevice:3;"
		  "ssdp=NOTIFY:urn:Belkin:device:1:3");
	snprintf(ev->app.ssdp_method, sizeof(ev->app.ssdp_method), "M-SEARCH");
	r->patterns = ev;
	r->npatterns = 1;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	assert_valid(text, "ssdp methods");
	cr_assert_eq(count_of(text, "        ssdp:\n"), 2, "%s", text);
	cr_assert_eq(count_of(text, "method: M-SEARCH\n"), 1, "%s", text);
	cr_assert_eq(count_of(text, "method: NOTIFY\n"), 1, "%s", text);

	ev->nattrs = 0;
	attrs(ev, "ssdp=NOTIFY:upnp:rootdevice:3;ssdp=NOTIFY:urn:Belkin:device:1:3");
	snprintf(ev->app.ssdp_method, sizeof(ev->app.ssdp_method), "NOTIFY");
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_eq(count_of(text, "        ssdp:\n"), 1, "%s", text);
	cr_assert_eq(count_of(text, "method: NOTIFY\n"), 1, "%s", text);
}

/* An HTTP policy holds one method and one uri: a pattern whose requests
 * vary gets one policy per method, the paths' common prefix up to a '/'
 * when there is more than "/" in common, else one policy per path. */
Test(emit_profile, http_requests_that_vary_give_one_rule_per_method_or_path)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ps = mk(3 * sizeof(*ps)), *p;
	const char *text;
	int ret;

	p = pattern(&ps[0], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 80, SX_P_HTTP, 3);
	end(&p->end[0], "10.0.0.7", "50000:3", 0, NULL, NULL);
	end(&p->end[1], "192.0.2.80", "80:3", 0, NULL, NULL);
	attrs(p, "http.req=GET:www.scale.example/scale/register?serial=1:3;"
		 "http.req=GET:www.scale.example/scale/validate?serial=1:3;"
		 "http.req=POST:www.scale.example/scale/upload:3");
	p = pattern(&ps[1], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 80, SX_P_HTTP, 3);
	end(&p->end[0], "10.0.0.7", "50001:3", 0, NULL, NULL);
	end(&p->end[1], "192.0.2.81", "80:3", 0, NULL, NULL);
	attrs(p, "http.req=GET:192.0.2.81/once:3;http.req=GET:192.0.2.81/session?a=1:2;"
		 "http.req=GET:192.0.2.81/session?a=2:1");
	r->patterns = ps;
	r->npatterns = 2;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_not_null(strstr(text, "method: GET\n          uri: /scale/*\n"), "%s", text);
	cr_assert_not_null(strstr(text, "method: POST\n          uri: /scale/upload*\n"), "%s",
			   text);
	cr_assert_null(strstr(text, "register"), "%s", text);
	/* nothing in common but "/": each path, a query never a second rule */
	cr_assert_not_null(strstr(text, "uri: /once*\n"), "%s", text);
	cr_assert_eq(count_of(text, "uri: /session*\n"), 1, "%s", text);
	cr_assert_null(strstr(text, "uri: /*"), "%s", text);
	cr_assert_eq(count_of(text, "      protocols:\n        http:\n"), 4, "%s", text);
	assert_valid(text, "HTTP requests that vary");
}

/* The firewall matches an IGMPv3 report by its first record's group: one
 * policy per group the device reports. */
Test(emit_profile, igmp_reports_give_one_policy_per_group)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *p = mk(sizeof(*p));
	const char *text;
	int ret;

	pattern(p, 2, SX_MINE_CLIENT, SX_MINE_NO_ROLE, 0, SX_P_IGMP, 3);
	end(&p->end[0], "10.0.0.7", NULL, 0, NULL, NULL);
	end(&p->end[1], "224.0.0.22", NULL, 0, NULL, NULL);
	attrs(p, "igmp=v3:0x22:224.0.0.251:3;igmp=v3:0x22:224.0.0.252:2;"
		 "igmp=v3:0x22:239.255.255.250:3");
	p->app.igmp_version = 3;
	p->app.igmp_type = 0x22;
	snprintf(p->app.igmp_group, sizeof(p->app.igmp_group), "224.0.0.251");
	r->patterns = p;
	r->npatterns = 1;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_not_null(strstr(text, "    igmp-mdns:\n"), "%s", text);
	cr_assert_not_null(strstr(text, "group: 224.0.0.252\n"), "%s", text);
	cr_assert_not_null(strstr(text, "    igmp-ssdp:\n"), "%s", text);
	cr_assert_eq(count_of(text, "type: membership report\n"), 3, "%s", text);
	assert_valid(text, "IGMP groups");
}

/* A name end is matched through the firewall's DNS table: when the device
 * reached the server in an occurrence without asking for its name, a twin
 * policy admits the server's addresses. */
Test(emit_profile, a_name_asked_not_every_time_keeps_its_addresses)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ps = mk(2 * sizeof(*ps)), *p;
	uint64_t *every = mk(sizeof(*every)), *two = mk(sizeof(*two));
	struct sx_mine_occ *occ = mk(3 * sizeof(*occ));
	static const char *const names[] = {"api.example.com"};
	const char *text, *twin, *name;
	int ret;

	*every = 0x7;
	*two = 0x3;
	p = pattern(&ps[0], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 443, SX_P_TLS, 3);
	end(&p->end[0], "10.0.0.7", "50000:3", 0, NULL, NULL);
	end(&p->end[1], "198.51.100.1,198.51.100.9", "443:3", SX_MINE_HOST_NAME, "api.example.com",
	    NULL);
	p->end[1].names = names;
	p->end[1].nnames = 1;
	p->occ_bits = every;
	dns_pattern(&ps[1], "api.example.com");
	ps[1].occ_bits = two;
	ps[1].support = 2;
	r->patterns = ps;
	r->npatterns = 2;
	r->occs = occ;
	r->noccs = 3;
	occ[0].label = occ[1].label = occ[2].label = "";
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	/* a twin by address (a list mixing both does not compile in the
	 * firewall), before the name's policy, whose queue would refuse the
	 * addresses it never learnt */
	twin = strstr(text, "    https-api-example-com-2:\n");
	name = strstr(text, "    https-api-example-com:\n");
	cr_assert(twin && name && twin < name, "%s", text);
	cr_assert_not_null(strstr(name, "          dst: api.example.com\n"), "%s", text);
	cr_assert_not_null(
	    strstr(twin, "dst:\n          - 198.51.100.1\n          - 198.51.100.9\n"), "%s", text);
	assert_valid(text, "name and addresses");

	/* asked every time: the name alone */
	ps[1].occ_bits = every;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_not_null(strstr(text, "          dst: api.example.com\n"), "%s", text);
	cr_assert_null(strstr(text, "198.51.100.1"), "%s", text);
}

/* Unnamed public servers: a provider's pool in one /24 is its prefix, and
 * in one /16 when it hands out another address nearly every time, also
 * beside a server that stays (a list of the network and the address); a
 * pool that does so in no /16 is "external", its port fixed; a few stable
 * servers stay their addresses, in one /16 or not. */
Test(emit_profile, unnamed_server_pools_are_a_prefix_or_external)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ps = mk(6 * sizeof(*ps)), *p;
	const char *text;
	int ret;

	p = pattern(&ps[0], 17, SX_MINE_CLIENT, SX_MINE_SERVER, 80, SX_P_UDP, 3);
	end(&p->end[0], "10.0.0.7", "50000:3", 0, NULL, NULL);
	end(&p->end[1], "195.65.87.71,195.65.87.72,195.65.87.73", "80:3", 0, NULL, NULL);
	p->end[1].scope = SX_MINE_SCOPE_PUBLIC;
	p = pattern(&ps[1], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 3478, SX_P_TCP, 6);
	p->support = p->noccs = 6;
	end(&p->end[0], "10.0.0.7", "50001:6", 0, NULL, NULL);
	end(&p->end[1], "54.80.1.1,54.90.2.2,54.158.3.3,54.167.4.4,54.198.5.5", "3478:6", 0, NULL,
	    NULL);
	p->end[1].scope = SX_MINE_SCOPE_PUBLIC;
	p = pattern(&ps[2], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 8443, SX_P_TCP, 3);
	end(&p->end[0], "10.0.0.7", "50002:3", 0, NULL, NULL);
	end(&p->end[1], "23.21.1.1,50.17.2.2", "8443:3", 0, NULL, NULL);
	p->end[1].scope = SX_MINE_SCOPE_PUBLIC;
	p = pattern(&ps[3], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 443, SX_P_TCP, 3);
	end(&p->end[0], "10.0.0.7", "50003:3", 0, NULL, NULL);
	end(&p->end[1], "120.92.96.155,120.92.141.99,120.92.145.133", "443:3", 0, NULL, NULL);
	p->end[1].scope = SX_MINE_SCOPE_PUBLIC;
	p = pattern(&ps[4], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 8883, SX_P_TCP, 6);
	p->support = p->noccs = 6;
	end(&p->end[0], "10.0.0.7", "50004:6", 0, NULL, NULL);
	end(&p->end[1], "52.28.1.1,52.28.9.9", "8883:6", 0, NULL, NULL);
	p->end[1].scope = SX_MINE_SCOPE_PUBLIC;
	p = pattern(&ps[5], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 8080, SX_P_TCP, 6);
	end(&p->end[0], "10.0.0.7", "50005:6", 0, NULL, NULL);
	end(&p->end[1], "20.47.97.231,121.92.96.155,121.92.141.99,121.92.145.133", "8080:6", 0,
	    NULL, NULL);
	p->end[1].scope = SX_MINE_SCOPE_PUBLIC;
	r->patterns = ps;
	r->npatterns = 6;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_not_null(strstr(text, "dst: 195.65.87.0/24\n"), "%s", text);
	cr_assert_not_null(strstr(text, "dst-port: 8080\n        ipv4:\n          src: self\n"
					"          dst:\n          - 20.47.97.231\n"
					"          - 121.92.0.0/16\n"),
			   "a rotating /16 beside a server that stays: %s", text);
	cr_assert_not_null(strstr(text, "dst-port: 443\n        ipv4:\n          src: self\n"
					"          dst: 120.92.0.0/16\n"),
			   "a rotating pool in one /16: %s", text);
	cr_assert_not_null(strstr(text, "dst:\n          - 52.28.1.1\n          - 52.28.9.9\n"),
			   "two stable servers of one /16: %s", text);
	cr_assert_not_null(strstr(text, "dst-port: 3478\n        ipv4:\n          src: self\n"
					"          dst: external\n"),
			   "%s", text);
	cr_assert_not_null(strstr(text, "dst:\n          - 23.21.1.1\n          - 50.17.2.2\n"),
			   "%s", text);
	assert_valid(text, "server pools");
}

/* A peer-to-peer stream (the miner's peer_to_peer: UDP between dynamic
 * ports on both ends, none fixed): each end's dynamic range, below Linux's
 * ephemeral ports, within them, or both; its public peers "external",
 * whether they take turns (two for two occurrences) or one peer stayed
 * (the phone's public address is wherever the phone is), a LAN peer its
 * address; the patterns that are none (a known port at one end, a
 * broadcast peer) keep the transport alone. */
Test(emit_profile, peer_to_peer_streams_take_the_dynamic_ports)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "192.168.1.161", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ps = mk(5 * sizeof(*ps)), *p;
	const char *text;
	int ret;

	p = pattern(&ps[0], 17, SX_MINE_CLIENT, SX_MINE_NO_ROLE, 0, SX_P_UDP, 2);
	p->support = p->noccs = 2;
	end(&p->end[0], "192.168.1.161", "16604:1,29697:1", 0, NULL, NULL);
	end(&p->end[1], "130.104.212.112,130.104.214.55", "16559:1,21602:1", 0, NULL, NULL);
	p->end[1].scope = SX_MINE_SCOPE_PUBLIC;
	p->peer_to_peer = true;
	p = pattern(&ps[1], 17, SX_MINE_CLIENT, SX_MINE_NO_ROLE, 0, SX_P_UDP, 2);
	p->support = p->noccs = 2;
	end(&p->end[0], "192.168.1.161", "10306:1,42458:1", 0, NULL, NULL);
	end(&p->end[1], "192.168.1.222", "39018:1,60438:1", 0, NULL, NULL);
	p->peer_to_peer = true;
	p = pattern(&ps[2], 17, SX_MINE_CLIENT, SX_MINE_NO_ROLE, 0, SX_P_UDP, 2);
	p->support = p->noccs = 2;
	end(&p->end[0], "192.168.1.161", "5683:1,40000:1", 0, NULL, NULL);
	end(&p->end[1], "192.168.1.30", "30001:1,30002:1", 0, NULL, NULL);
	p = pattern(&ps[3], 17, SX_MINE_CLIENT, SX_MINE_NO_ROLE, 0, SX_P_UDP, 2);
	p->support = p->noccs = 2;
	end(&p->end[0], "192.168.1.161", "40001:1,40002:1", 0, NULL, NULL);
	end(&p->end[1], "255.255.255.255", "30003:1,30004:1", 0, NULL, NULL);
	p->end[1].scope = SX_MINE_SCOPE_BROADCAST;
	p = pattern(&ps[4], 17, SX_MINE_CLIENT, SX_MINE_NO_ROLE, 0, SX_P_UDP, 4);
	p->support = p->noccs = 4;
	end(&p->end[0], "192.168.1.161", "40005:2,40006:2", 0, NULL, NULL);
	end(&p->end[1], "81.2.3.4", "30005:2,30006:2", 0, NULL, NULL);
	p->end[1].scope = SX_MINE_SCOPE_PUBLIC;
	p->peer_to_peer = true;
	r->patterns = ps;
	r->npatterns = 5;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_not_null(
	    strstr(text, "        udp:\n          src-port: [1024-1899, 1901-5352, 5354-32767]\n"
			 "          dst-port: [1024-1899, 1901-5352, 5354-32767]\n        ipv4:\n"
			 "          src: self\n          dst: external\n"),
	    "%s", text);
	cr_assert_not_null(strstr(text, "          src-port: [1024-1899, 1901-5352, 5354-65535]\n"
					"          dst-port: 32768-65535\n        ipv4:\n"
					"          src: self\n          dst: 192.168.1.222\n"),
			   "%s", text);
	cr_assert_not_null(
	    strstr(text, "          src-port: 32768-65535\n"
			 "          dst-port: [1024-1899, 1901-5352, 5354-32767]\n        ipv4:\n"
			 "          src: self\n          dst: external\n"),
	    "one public peer: %s", text);
	cr_assert_null(strstr(text, "81.2.3.4"), "%s", text);
	cr_assert_not_null(strstr(text, "        udp:\n        ipv4:\n          src: self\n"
					"          dst: 192.168.1.30\n"),
			   "%s", text);
	cr_assert_not_null(strstr(text, "        udp:\n        ipv4:\n          src: self\n"
					"          dst: broadcast\n"),
			   "%s", text);
	assert_valid(text, "peer to peer");
}

/* sx_emit_profile_merge() of n profile texts; the result is kept. */
static const char *merge(const char *const *texts, size_t n)
{
	struct sx_ytree *docs[16];
	char msg[256], *text = NULL;
	size_t len = 0, i;
	FILE *f;

	cr_assert_leq(n, 16);
	for (i = 0; i < n; i++)
		cr_assert_eq(
		    sx_ytree_parse(texts[i], strlen(texts[i]), NULL, &docs[i], msg, sizeof(msg)), 0,
		    "%s", msg);
	f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	cr_assert_eq(
	    sx_emit_profile_merge((const struct sx_ytree *const *)docs, n, f, msg, sizeof(msg)), 0,
	    "%s", msg);
	fclose(f);
	keep[nkeep++] = text;
	for (i = 0; i < n; i++)
		sx_ytree_free(docs[i]);
	return text;
}

/* A device's profile of several events: a policy that two interactions hold,
 * or that is a single policy already, is written once, as a single policy;
 * each interaction keeps its own; an interaction left with none is not
 * written; equal single policies under two ids are one. */
Test(emit_profile, policies_shared_by_events_are_single_once)
{
	static const char *const texts[] = {
	    "device-info: {name: d, ipv4: 10.0.0.7, last-update: '1'}\n"
	    "single-policies:\n"
	    "  ntp-a: {protocols: {udp: {dst-port: 123}, ipv4: {src: self, dst: external}}}\n"
	    "interactions:\n"
	    "  on:\n"
	    "    dns-cloud: {protocols: {dns: {domain-name: c.example}, udp: {dst-port: 53}}}\n"
	    "    tcp-on: {protocols: {tcp: {dst-port: 9999}, ipv4: {src: phone, dst: self}}}\n",
	    "device-info: {name: d, ipv4: 10.0.0.7, last-update: '2'}\n"
	    "single-policies:\n"
	    "  ntp-b: {protocols: {udp: {dst-port: 123}, ipv4: {src: self, dst: external}}}\n"
	    "interactions:\n"
	    "  off:\n"
	    "    dns-cloud: {protocols: {dns: {domain-name: c.example}, udp: {dst-port: 53}}}\n"
	    "    tcp-off: {protocols: {tcp: {dst-port: 9998}, ipv4: {src: phone, dst: self}}}\n",
	    "device-info: {name: d, ipv4: 10.0.0.7, last-update: '3'}\n"
	    "single-policies: {}\n"
	    "interactions:\n"
	    "  idle:\n"
	    "    ntp-c: {protocols: {udp: {dst-port: 123}, ipv4: {src: self, dst: external}}}\n"};
	const char *text = merge(texts, 3);

	cr_assert_eq(count_of(text, "dst-port: 123"), 1, "one NTP policy: %s", text);
	cr_assert_eq(count_of(text, "domain-name: c.example"), 1, "%s", text);
	cr_assert_not_null(strstr(text, "single-policies:\n  ntp-a: "), "%s", text);
	cr_assert_not_null(strstr(text, "\n  dns-cloud: "), "a single policy: %s", text);
	cr_assert_not_null(strstr(text, "interactions:\n  on:\n    tcp-on: "), "%s", text);
	cr_assert_not_null(strstr(text, "\n  off:\n    tcp-off: "), "%s", text);
	cr_assert_null(strstr(text, "idle"), "an interaction with nothing of its own: %s", text);
}

/* The first event never saw the device's link-local address (no ipv6 in
 * its device-info); the second writes "self" for it: the merged
 * device-info takes the address from it, in its place, so that "self"
 * stands for something. */
Test(emit_profile, merged_device_info_takes_the_addresses_the_first_lacks)
{
	static const char *const texts[] = {
	    "device-info: {name: d, ipv4: 10.0.0.7, last-update: '1'}\n"
	    "single-policies:\n"
	    "  ntp: {protocols: {udp: {dst-port: 123}, ipv4: {src: self, dst: external}}}\n"
	    "interactions: {}\n",
	    "device-info: {name: d, mac: '00:17:88:74:c2:dc', ipv4: 10.0.0.7,"
	    " ipv6: 'fe80::217:88ff:fe74:c2dc', last-update: '2'}\n"
	    "single-policies:\n"
	    "  dhcpv6: {protocols: {udp: {dst-port: 547}, ipv6: {src: self, dst: 'ff02::1:2'}}}\n"
	    "interactions: {}\n",
	    "device-info: {name: d, ipv4: 10.0.0.7, ipv6: 'fe80::9', last-update: '3'}\n"
	    "single-policies: {}\n"
	    "interactions: {}\n"};
	const char *text = merge(texts, 3);

	cr_assert_not_null(strstr(text, "device-info: {name: d, mac: '00:17:88:74:c2:dc', ipv4: "
					"10.0.0.7, ipv6: 'fe80::217:88ff:fe74:c2dc', last-update: "
					"'3'}\n"),
			   "%s", text);
	cr_assert_null(strstr(text, "fe80::9"), "the first that has it: %s", text);
	assert_valid(text, "device-info completed");
}

/* Two policies with the same protocols match the same packets: the
 * firewall's translator cannot tell them apart (it writes their queue's
 * test empty).  One is written, both ways when either was. */
Test(emit_profile, policies_matching_the_same_packets_are_one)
{
	static const char *const texts[] = {
	    "device-info: {name: d, ipv4: 10.0.0.7, last-update: '1'}\n"
	    "single-policies:\n"
	    "  icmp-a: {protocols: {icmp: {type: echo-request}, ipv4: {src: self, dst: 8.8.8.8}}}\n"
	    "interactions: {}\n",
	    "device-info: {name: d, ipv4: 10.0.0.7, last-update: '2'}\n"
	    "single-policies:\n"
	    "  icmp-b: {protocols: {icmp: {type: echo-request}, ipv4: {src: self, dst: 8.8.8.8}},"
	    " bidirectional: true}\n"
	    "interactions: {}\n"};
	const char *text = merge(texts, 2);

	cr_assert_eq(count_of(text, "type: echo-request"), 1, "%s", text);
	cr_assert_not_null(strstr(text, "  icmp-a: "), "%s", text);
	cr_assert_eq(count_of(text, "bidirectional: true"), 1, "%s", text);
	assert_valid(text, "same matches");
}

/* A plain single policy (no application section, no host name) admits every
 * packet of its nftables matches: a policy of another document with the same
 * matches and an application section is folded into it (its queue would hold
 * both, and the plain one's test be empty), in single policies and in
 * interactions; one with other matches, or a list end, stays; an interaction
 * left with nothing goes. */
Test(emit_profile, a_plain_policy_folds_the_same_matches_across_events)
{
	static const char *const texts[] = {
	    "device-info: {name: d, ipv4: 10.0.0.7, last-update: '1'}\n"
	    "single-policies:\n"
	    "  mdns-names: {protocols: {mdns: {qtype: ANY, domain-name: [d.local]},"
	    " udp: {src-port: 5353, dst-port: 5353}, ipv4: {src: self, dst: mdns}},"
	    " bidirectional: true}\n"
	    "  dns-www: {protocols: {dns: {domain-name: www.example.com},"
	    " udp: {dst-port: 53}, ipv4: {src: self, dst: gateway}}}\n"
	    "interactions:\n"
	    "  turn-on:\n"
	    "    http-on: {protocols: {http: {method: GET, uri: /on}, tcp: {dst-port: 80},"
	    " ipv4: {src: phone, dst: self}}}\n"
	    "    tcp-www: {protocols: {tcp: {dst-port: 443}, ipv4: {src: self,"
	    " dst: www.example.com}}}\n",
	    "device-info: {name: d, ipv4: 10.0.0.7, last-update: '2'}\n"
	    "single-policies:\n"
	    "  mdns-plain: {protocols: {udp: {src-port: 5353, dst-port: 5353},"
	    " ipv4: {src: self, dst: mdns}}}\n"
	    "  tcp-80: {protocols: {tcp: {dst-port: 80}, ipv4: {src: phone, dst: self}}}\n"
	    "  tcp-443-list: {protocols: {tcp: {dst-port: 443}, ipv4: {src: self,"
	    " dst: [1.2.3.4, 5.6.7.8]}}}\n"
	    "  dns-plain: {protocols: {udp: {dst-port: 53}, ipv4: {src: self, dst: 10.0.0.1}}}\n"
	    "interactions: {}\n",
	    "device-info: {name: d, ipv4: 10.0.0.7, last-update: '3'}\n"
	    "single-policies: {}\n"
	    "interactions:\n"
	    "  turn-off:\n"
	    "    http-off: {protocols: {http: {method: GET, uri: /off}, tcp: {dst-port: 80},"
	    " ipv4: {src: phone, dst: self}}}\n"};
	const char *text = merge(texts, 3);

	/* the plain mDNS policy took the named one's place, both ways */
	cr_assert_null(strstr(text, "mdns-names"), "%s", text);
	cr_assert_not_null(strstr(text, "dst: mdns}}, bidirectional: true, stats: {rate: 0}}"),
			   "%s", text);
	/* the interaction's HTTP policy has the plain TCP/80 policy's matches */
	cr_assert_null(strstr(text, "http-on"), "%s", text);
	cr_assert_null(strstr(text, "http-off"), "%s", text);
	cr_assert_null(strstr(text, "turn-off"), "an interaction left empty: %s", text);
	cr_assert_not_null(strstr(text, "  turn-on:\n"), "%s", text);
	/* other matches stay: a host name end, a list, another address */
	cr_assert_not_null(strstr(text, "  dns-www: "), "%s", text);
	cr_assert_not_null(strstr(text, "  tcp-www: "), "%s", text);
	cr_assert_not_null(strstr(text, "  tcp-443-list: "), "%s", text);
	cr_assert_not_null(strstr(text, "  dns-plain: "), "%s", text);
	assert_valid(text, "plain folds");
}

/* A plain single policy to "external" admits every packet of another
 * plain policy whose end it holds (public addresses, one or a list): that
 * one goes, from single policies and interactions, so that the next step
 * opens the interaction the covered one would never have opened; one with
 * a LAN address, other ports, or answers the single policy does not admit,
 * stays. */
Test(emit_profile, a_plain_external_policy_folds_the_policies_it_covers)
{
	static const char *const texts[] = {
	    "device-info: {name: d, ipv4: 192.168.1.161, last-update: '1'}\n"
	    "single-policies:\n"
	    "  udp-external: {protocols: {udp: {src-port: 1024-65535, dst-port: 1024-65535},"
	    " ipv4: {src: self, dst: external}}, bidirectional: true}\n"
	    "interactions: {}\n",
	    "device-info: {name: d, ipv4: 192.168.1.161, last-update: '2'}\n"
	    "single-policies:\n"
	    "  udp-pair: {protocols: {udp: {src-port: 1024-65535, dst-port: 1024-65535},"
	    " ipv4: {src: self, dst: [130.104.212.112, 130.104.214.55]}}, bidirectional: true}\n"
	    "  udp-any: {protocols: {udp: {dst-port: 5000}, ipv4: {src: self, dst: 130.104.1.1}}}\n"
	    "interactions:\n"
	    "  lan-stream:\n"
	    "    udp-first: {protocols: {udp: {src-port: 1024-65535, dst-port: 1024-65535},"
	    " ipv4: {src: self, dst: 130.104.228.95}}}\n"
	    "    udp-phone: {protocols: {udp: {src-port: 1024-65535, dst-port: 1024-65535},"
	    " ipv4: {src: self, dst: 192.168.1.222}}, bidirectional: true}\n"
	    "    udp-net: {protocols: {udp: {src-port: 1024-65535, dst-port: 1024-65535},"
	    " ipv4: {src: self, dst: 192.0.0.0/8}}}\n"};
	const char *text = merge(texts, 2);

	cr_assert_null(strstr(text, "udp-pair"), "%s", text);
	cr_assert_null(strstr(text, "udp-first"), "%s", text);
	cr_assert_not_null(strstr(text, "  lan-stream:\n    udp-phone:"), "%s", text);
	cr_assert_not_null(strstr(text, "udp-any"), "other ports: %s", text);
	cr_assert_not_null(strstr(text, "udp-net"), "a network into the LAN: %s", text);
	cr_assert_eq(count_of(text, "bidirectional: true"), 2, "%s", text);
	assert_valid(text, "external folds");

	/* the answers of a bidirectional policy are not the one-way one's */
	static const char *const oneway[] = {
	    "device-info: {name: d, ipv4: 192.168.1.161, last-update: '1'}\n"
	    "single-policies:\n"
	    "  udp-out: {protocols: {udp: {src-port: 1024-65535, dst-port: 1024-65535},"
	    " ipv4: {src: self, dst: external}}}\n"
	    "  udp-both: {protocols: {udp: {src-port: 1024-65535, dst-port: 1024-65535},"
	    " ipv4: {src: self, dst: 130.104.212.112}}, bidirectional: true}\n"
	    "interactions: {}\n"};

	text = merge(oneway, 1);
	cr_assert_not_null(strstr(text, "udp-both"), "%s", text);
	assert_valid(text, "one way");
}

/* A device's peer-to-peer policies that name two public peers or more in
 * all (the phone's public address of each session) have them "external",
 * ids included, and the merge makes one policy of those that are then the
 * same; a LAN peer stays, and one public peer in all stays. */
Test(emit_profile, peer_to_peer_peers_across_events_are_external)
{
#define P2P_LOW "[1024-1899, 1901-5352, 5354-32767]"
#define P2P_ALL "[1024-1899, 1901-5352, 5354-65535]"
	/* the ports as profile.c writes them, one end a range, the other a
	 * list; and a policy as a unit that a batch's --resume kept wrote
	 * them before SSDP's and mDNS's ports were left out (1024-65535) */
	static const char *const texts[] = {
	    "device-info: {name: d, ipv4: 192.168.1.115, last-update: '1'}\n"
	    "single-policies:\n"
	    "  udp-130-104-214-55-to-device: {protocols: {udp: {src-port: 1024-65535,"
	    " dst-port: 1024-65535}, ipv4: {src: 130.104.214.55, dst: self}}}\n"
	    "interactions:\n"
	    "  ext-stream:\n"
	    "    udp-130-104-214-55: {protocols: {udp: {src-port: 32768-65535, dst-port: " P2P_LOW
	    "}, ipv4: {src: self, dst: 130.104.214.55}}, bidirectional: true}\n"
	    "    tls-cloud: {protocols: {tcp: {dst-port: 443}, ipv4: {src: self,"
	    " dst: 52.1.2.3}}, bidirectional: true}\n",
	    "device-info: {name: d, ipv4: 192.168.1.115, last-update: '2'}\n"
	    "single-policies:\n"
	    "  udp-130-104-228-95-to-device: {protocols: {udp: {src-port: 1024-65535,"
	    " dst-port: 1024-65535}, ipv4: {src: 130.104.228.95, dst: self}}}\n"
	    "interactions:\n"
	    "  lan-stream:\n"
	    "    udp-130-104-228-95: {protocols: {udp: {src-port: 32768-65535, dst-port: " P2P_LOW
	    "}, ipv4: {src: self, dst: 130.104.228.95}}, bidirectional: true}\n"
	    "    udp-192-168-1-222: {protocols: {udp: {src-port: " P2P_ALL ", dst-port: " P2P_ALL
	    "}, ipv4: {src: self, dst: 192.168.1.222}}, bidirectional: true}\n"};
	const char *text = merge(texts, 2);

	cr_assert_null(strstr(text, "130.104"), "%s", text);
	cr_assert_null(strstr(text, "130-104"), "%s", text);
	cr_assert_not_null(strstr(text, "  udp-external: "), "%s", text);
	cr_assert_not_null(strstr(text, "  udp-external-to-device: "), "%s", text);
	cr_assert_eq(count_of(text, "dst: external"), 1, "one policy: %s", text);
	cr_assert_not_null(strstr(text, "dst: 192.168.1.222"), "%s", text);
	cr_assert_not_null(strstr(text, "dst: 52.1.2.3"), "not peer to peer: %s", text);
	assert_valid(text, "peers across events");

	/* one public peer in all is the address it is */
	text = merge(texts + 1, 1);
	cr_assert_not_null(strstr(text, "dst: 130.104.228.95"), "%s", text);
	cr_assert_null(strstr(text, "external"), "%s", text);
#undef P2P_ALL
#undef P2P_LOW
}

/* Unnamed servers of a vendor's port across the events: four addresses or
 * more from two policies or more, most named by one policy only, are a pool
 * ("external"); the same addresses event after event, the addresses of one
 * event, a named server's policy by its addresses, or a well-known port's
 * servers are not. */
Test(emit_profile, a_port_whose_servers_rotate_across_events_is_external)
{
#define TLS8886(id, addrs)                                                                         \
	"  " id ": {protocols: {tcp: {dst-port: 8886}, ipv4: {src: self, dst: " addrs "}},"        \
	" bidirectional: true}\n"
#define DOC(singles)                                                                               \
	"device-info: {name: d, ipv4: 192.168.1.20, last-update: '1'}\n"                           \
	"single-policies:\n" singles "interactions: {}\n"
	static const char *const rotating[] = {
	    DOC(TLS8886("tls-35-156-44-172", "35.156.44.172")),
	    DOC(TLS8886("tls-3-64-85-28", "3.64.85.28")),
	    DOC(TLS8886("tls-3-66-126-37", "[3.66.126.37, 3.124.225.12]"))};
	static const char *const one_event[] = {
	    DOC(TLS8886("tls-35-156-44-172", "35.156.44.172")
		    TLS8886("tls-3-64-85-28", "[3.64.85.28, 3.66.126.37, 3.124.225.12]"))};
	static const char *const stable[] = {
	    DOC(TLS8886("tls-35-156-44-172", "[35.156.44.172, 3.64.85.28]")),
	    DOC(TLS8886("tls-35-156-44-172", "[35.156.44.172, 3.64.85.28]")),
	    DOC(TLS8886("tls-35-156-44-172", "[35.156.44.172, 3.64.85.28]")),
	    DOC(TLS8886("tls-35-156-44-172", "[35.156.44.172, 3.64.85.28]")),
	    DOC(TLS8886("tls-35-156-44-172", "[35.156.44.172, 3.64.85.28]")),
	    DOC(TLS8886("tls-35-156-44-172", "[35.156.44.172, 3.64.85.28]")),
	    DOC(TLS8886("tls-35-156-44-172", "[35.156.44.172, 3.64.85.28]")),
	    DOC(TLS8886("tls-35-156-44-172", "[35.156.44.172, 3.64.85.28]")),
	    DOC(TLS8886("tls-3-66-126-37", "[3.66.126.37, 3.124.225.12]"))};
	static const char *const named[] = {
	    DOC(TLS8886("tls-35-156-44-172", "35.156.44.172")),
	    DOC(TLS8886("tls-a3-tuyaeu-com-2", "[3.64.85.28, 3.66.126.37, 3.124.225.12]"))};
	static const char *const https[] = {
	    DOC("  https-35-156-44-172: {protocols: {tcp: {dst-port: 443}, ipv4: {src: self,"
		" dst: 35.156.44.172}}}\n"),
	    DOC("  https-3-64-85-28: {protocols: {tcp: {dst-port: 443}, ipv4: {src: self,"
		" dst: 3.64.85.28}}}\n"),
	    DOC("  https-3-66-126-37: {protocols: {tcp: {dst-port: 443}, ipv4: {src: self,"
		" dst: [3.66.126.37, 3.124.225.12]}}}\n")};
#undef DOC
#undef TLS8886
	const char *text = merge(rotating, 3);

	cr_assert_null(strstr(text, "tls-3"), "%s", text);
	cr_assert_not_null(strstr(text, "  tls-external: "), "%s", text);
	cr_assert_eq(count_of(text, "8886"), 1, "one policy: %s", text);
	assert_valid(text, "rotating servers");
	text = merge(one_event, 1);
	cr_assert_null(strstr(text, "external"), "one event: %s", text);
	text = merge(stable, 9);
	cr_assert_null(strstr(text, "external"), "the same addresses event after event: %s", text);
	text = merge(named, 2);
	cr_assert_null(strstr(text, "external"), "a named server's: %s", text);
	text = merge(https, 3);
	cr_assert_null(strstr(text, "external"), "a well-known port: %s", text);
}

/* The extra document's single policies are added where they change nothing:
 * one matching an event's step, or whose plain accept would take a
 * policy's packets first, is left out (the step stays the interaction's);
 * a new one is a single policy. */
Test(emit_profile, extra_policies_never_move_an_events)
{
	static const char doc[] =
	    "device-info: {name: d, ipv4: 10.0.0.5, last-update: '1'}\n"
	    "single-policies: {}\n"
	    "interactions:\n"
	    "  turn-on:\n"
	    "    udp-53: {protocols: {udp: {dst-port: 53}, ipv4: {src: self, dst: 10.0.0.1}},"
	    " bidirectional: true}\n"
	    "    tcp-443: {protocols: {tcp: {dst-port: 443}, ipv4: {src: self, dst: 52.1.2.3}},"
	    " bidirectional: true}\n"
	    "    tcp-8443-api: {protocols: {tcp: {dst-port: 8443}, ipv4: {src: self,"
	    " dst: api.example.com}}}\n";
	static const char extra_text[] =
	    "device-info: {name: d, ipv4: 10.0.0.5, last-update: '1'}\n"
	    "single-policies:\n"
	    "  udp-53-again: {protocols: {udp: {dst-port: 53}, ipv4: {src: self, dst: 10.0.0.1}},"
	    " bidirectional: true}\n"
	    "  tcp-443-external: {protocols: {tcp: {dst-port: 443}, ipv4: {src: self,"
	    " dst: external}}, bidirectional: true}\n"
	    "  udp-7000: {protocols: {udp: {dst-port: 7000}, ipv4: {src: self, dst: 10.0.0.30}},"
	    " bidirectional: true}\n"
	    "  tcp-8443-external: {protocols: {tcp: {dst-port: 8443}, ipv4: {src: self,"
	    " dst: external}}}\n"
	    "interactions: {}\n";
	struct sx_ytree *d, *x;
	char msg[256], *text = NULL;
	size_t len = 0;
	FILE *f;

	cr_assert_eq(sx_ytree_parse(doc, strlen(doc), NULL, &d, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(sx_ytree_parse(extra_text, strlen(extra_text), NULL, &x, msg, sizeof(msg)), 0,
		     "%s", msg);
	f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	cr_assert_eq(sx_emit_profile_merge_extra((const struct sx_ytree *const *)&d, 1, x, f, msg,
						 sizeof(msg)),
		     0, "%s", msg);
	fclose(f);
	keep[nkeep++] = text;
	cr_assert_null(strstr(text, "udp-53-again"), "%s", text);
	cr_assert_null(strstr(text, "external"), "%s", text);
	cr_assert_not_null(strstr(text, "single-policies:\n  udp-7000: "), "%s", text);
	cr_assert_not_null(strstr(text, "  turn-on:\n    udp-53: "), "%s", text);
	cr_assert_not_null(strstr(text, "    tcp-443: "), "%s", text);
	cr_assert_not_null(strstr(text, "    tcp-8443-api: "), "a name end: %s", text);
	assert_valid(text, "extra policies");
	sx_ytree_free(d);
	sx_ytree_free(x);
}

/* Two events' queue policies whose matches differ only in an end, one
 * resolver in one and a list holding it in the other, share a queue once
 * merged: the one-address end becomes the list (the firewall's first rule
 * would take the other's lookups to that resolver, and its callback refuse
 * them), and lists that share a resolver become the list of both; a
 * policy then equal to a single policy is that one, in the single policies
 * and in an interaction.  A name end is left as it is. */
Test(emit_profile, queues_that_differ_by_a_listed_end_are_joined)
{
	static const char *const texts[] = {
	    "device-info: {name: d, ipv4: 192.168.1.5, last-update: '1'}\n"
	    "single-policies:\n"
	    "  dns-p2p: {protocols: {dns: {domain-name: [p2p.example.com]}, udp: {dst-port: 53},"
	    " ipv4: {src: self, dst: [114.114.114.114, 192.168.1.1]}}, bidirectional: true}\n"
	    "interactions: {}\n",
	    "device-info: {name: d, ipv4: 192.168.1.5, last-update: '2'}\n"
	    "single-policies:\n"
	    "  dns-api: {protocols: {dns: {domain-name: api.example.com}, udp: {dst-port: 53},"
	    " ipv4: {src: self, dst: 192.168.1.1}}, bidirectional: true}\n"
	    "  dns-p2p: {protocols: {dns: {domain-name: [p2p.example.com]}, udp: {dst-port: 53},"
	    " ipv4: {src: self, dst: 192.168.1.1}}, bidirectional: true}\n"
	    "  dns-other: {protocols: {dns: {domain-name: o.example.com}, udp: {dst-port: 53},"
	    " ipv4: {src: self, dst: [192.168.1.1, 8.8.8.8]}}, bidirectional: true}\n"
	    "  https-api: {protocols: {tcp: {dst-port: 443}, ipv4: {src: self,"
	    " dst: api.example.com}}, bidirectional: true}\n"
	    "interactions: {}\n",
	    "device-info: {name: d, ipv4: 192.168.1.5, last-update: '3'}\n"
	    "single-policies: {}\n"
	    "interactions:\n"
	    "  stream:\n"
	    "    dns-p2p: {protocols: {dns: {domain-name: [p2p.example.com]}, udp: {dst-port: 53},"
	    " ipv4: {src: self, dst: 192.168.1.1}}, bidirectional: true}\n"
	    "    udp-9000: {protocols: {udp: {dst-port: 9000}, ipv4: {src: self, dst: 1.2.3.4}}}\n",
	};
	const char *text = merge(texts, 3);

	cr_assert_eq(count_of(text, "dst: [114.114.114.114, 192.168.1.1, 8.8.8.8]}"), 3,
		     "the three lookups' resolvers, one queue: %s", text);
	cr_assert_eq(count_of(text, "p2p.example.com"), 1, "one lookup policy: %s", text);
	cr_assert_null(strstr(text, "dns-p2p-2"), "%s", text);
	cr_assert_not_null(strstr(text, "dst: api.example.com}"), "a name end: %s", text);
	cr_assert_not_null(strstr(text, "interactions:\n  stream:\n    udp-9000:"),
			   "the step left is the interaction's: %s", text);
	assert_valid(text, "joined queues");
}

/* The translator makes a bidirectional policy's backward rule a policy of
 * its own: a queue policy whose backward rule has a plain policy's
 * matches would share its queue, and the translator write the plain one's
 * condition empty (the firewall does not compile).  Such a policy is one
 * way; the plain accept takes its answers.  Within a profile (the server's
 * segments after the window, outside the event, and the event's request)
 * and across the events merged into a device's. */
Test(emit_profile, a_plain_policy_takes_a_queue_policys_backward_rule)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *p = mk(sizeof(*p)), *bg = mk(sizeof(*bg));
	static const char *const texts[] = {
	    "device-info: {name: d, ipv4: 10.0.0.7, last-update: '1'}\n"
	    "single-policies:\n"
	    "  tcp-80-to-device: {protocols: {tcp: {src-port: 80}, ipv4: {src: 110.43.0.83,"
	    " dst: self}}}\n"
	    "interactions: {}\n",
	    "device-info: {name: d, ipv4: 10.0.0.7, last-update: '2'}\n"
	    "single-policies: {}\n"
	    "interactions:\n"
	    "  power-on:\n"
	    "    http-gslb: {protocols: {http: {method: GET, uri: /gslb*}, tcp: {dst-port: 80},"
	    " ipv4: {src: self, dst: 110.43.0.83}}, bidirectional: true}\n"
	    "    https-cloud: {protocols: {tcp: {dst-port: 443}, ipv4: {src: self,"
	    " dst: 120.92.145.133}}, bidirectional: true}\n",
	};
	const char *text;
	int ret;

	pattern(p, 6, SX_MINE_CLIENT, SX_MINE_SERVER, 80, SX_P_HTTP, 3);
	end(&p->end[0], "10.0.0.7", "40000:1,40001:1,40002:1", 0, NULL, NULL);
	end(&p->end[1], "110.43.0.83", "80:3", 0, NULL, NULL);
	p->end[1].scope = SX_MINE_SCOPE_PUBLIC;
	attrs(p, "http.req=GET:110.43.0.83:80/gslb:3");
	snprintf(p->app.http_method, sizeof(p->app.http_method), "GET");
	snprintf(p->app.http_uri, sizeof(p->app.http_uri), "/gslb");
	pattern(bg, 6, SX_MINE_CLIENT, SX_MINE_CLIENT, 80, 0, 3);
	end(&bg->end[0], "110.43.0.83", "80:3", 0, NULL, NULL);
	bg->end[0].scope = SX_MINE_SCOPE_PUBLIC;
	end(&bg->end[1], "10.0.0.7", "40003:1,40004:1,40005:1", 0, NULL, NULL);
	bg->pkts[SX_MINE_SERVER] = (struct sx_mine_stat){0};
	r->patterns = p;
	r->npatterns = 1;
	r->background = bg;
	r->nbackground = 1;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_not_null(strstr(text, "        src: 110.43.0.83\n        dst: self\n"), "%s",
			   text);
	cr_assert_not_null(strstr(text, "uri: /gslb"), "%s", text);
	cr_assert_null(strstr(text, "bidirectional"), "one way: %s", text);
	assert_valid(text, "a plain policy and a backward rule");

	text = merge(texts, 2);
	cr_assert_not_null(strstr(text, "tcp-80-to-device"), "%s", text);
	cr_assert_eq(count_of(text, "bidirectional: true"), 1, "https-cloud's alone: %s", text);
	cr_assert_not_null(strstr(text, "dst: 120.92.145.133}}, bidirectional: true"), "%s", text);
	assert_valid(text, "merged: a plain policy and a backward rule");
}

/* An event whose document lacked the device's IPv6 address wrote it as it
 * is; merged, with device-info's ipv6 from another event, that end is
 * "self", and the plain policy then takes the place of the queue one with
 * its matches (the firewall would share their queue and write the plain
 * one's condition empty). */
Test(emit_profile, the_devices_own_address_is_self_once_merged)
{
	static const char *const texts[] = {
	    "device-info: {name: d, ipv4: 192.168.1.5, last-update: '1'}\n"
	    "single-policies:\n"
	    "  mdns-v6: {protocols: {udp: {src-port: 5353, dst-port: 5353}, ipv6: {src: "
	    "'fe80::217:88ff:fe74:c2dc', dst: 'ff02::fb'}}}\n"
	    "interactions: {}\n",
	    "device-info: {name: d, ipv4: 192.168.1.5, ipv6: 'fe80::217:88ff:fe74:c2dc',"
	    " last-update: '2'}\n"
	    "single-policies:\n"
	    "  mdns-hue: {protocols: {mdns: {qtype: ANY, domain-name: hue.local}, udp: "
	    "{src-port: 5353, dst-port: 5353}, ipv6: {src: self, dst: 'ff02::fb'}}}\n"
	    "interactions: {}\n",
	};
	const char *text = merge(texts, 2);

	cr_assert_eq(count_of(text, "fe80::217:88ff:fe74:c2dc"), 1, "device-info's alone: %s",
		     text);
	cr_assert_null(strstr(text, "hue.local"), "folded into the plain one: %s", text);
	cr_assert_not_null(strstr(text, "mdns-v6: {protocols: {udp: {src-port: 5353, dst-port: "
					"5353}, ipv6: {src: self, dst: 'ff02::fb'}}}"),
			   "%s", text);
	assert_valid(text, "the device's own address");
}

/* An ARP pattern of nflows flows between the senders snd and the targets
 * tgt (end() lists), the senders' MAC smac, attribute attr ("arp=request:N"). */
static struct sx_mine_pattern *arp_pattern(struct sx_mine_pattern *p, uint32_t nflows,
					   const char *snd, const char *tgt, const uint8_t smac[6],
					   const char *attr)
{
	pattern(p, 0, SX_MINE_CLIENT, SX_MINE_NO_ROLE, 0, 0, nflows);
	p->family = SX_FLOW_FAMILY_ARP;
	end(&p->end[0], snd, NULL, 0, NULL, NULL);
	end(&p->end[1], tgt, NULL, 0, NULL, NULL);
	memcpy(p->end[0].mac, smac, 6);
	attrs(p, attr);
	return p;
}

/* An ARP pair: sender s, target t, in count flows, the sender's MAC smac
 * (NULL: zero, the senders disagreed). */
static struct sx_mine_pair arp_pair(const char *s, const char *t, uint32_t count,
				    const uint8_t *smac)
{
	struct sx_mine_pair q = {{ip(s), ip(t)}, count, {{0}, {0}}};

	if (smac)
		memcpy(q.mac[0], smac, 6);
	return q;
}

/*
 * The device's ARP requests under other addresses than its IPv4 (a factory
 * default, an earlier lease): a pair sent from the device's MAC that
 * recurs is written with sha: self and that address as spa; a pair of one
 * flow is not, nor a pair another host's MAC sent, nor one whose senders'
 * MACs disagree, nor another lease of the device's own /24 (the profile
 * holds one address of the device).
 */
Test(emit_profile, arp_of_the_device_under_an_earlier_address)
{
	struct sx_profile_cfg cfg = {
	    .device = "cam", .ipv4 = "10.0.0.7", .mac = "02:00:00:00:00:07", .last_update = "x"};
	static const uint8_t dev[6] = {2, 0, 0, 0, 0, 7}, other[6] = {2, 0, 0, 0, 0, 9};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *p = mk(sizeof(*p));
	struct sx_mine_pair *pairs = mk(6 * sizeof(*pairs));
	const char *text;
	int ret;

	arp_pattern(p, 15, "10.0.0.7,10.0.0.8,192.168.2.3,192.168.4.3,192.168.5.5,192.168.7.7",
		    "10.0.0.1,192.168.2.1,192.168.4.1,192.168.5.1", dev, "arp=request:12");
	pairs[0] = arp_pair("10.0.0.7", "10.0.0.1", 3, dev);
	pairs[1] = arp_pair("192.168.2.3", "192.168.2.1", 3, dev);
	pairs[2] = arp_pair("192.168.4.3", "192.168.4.1", 1, dev);
	pairs[3] = arp_pair("192.168.5.5", "192.168.5.1", 2, NULL); /* its senders disagreed */
	pairs[4] = arp_pair("192.168.7.7", "10.0.0.1", 3, other);
	pairs[5] = arp_pair("10.0.0.8", "10.0.0.1", 3, dev);
	p->pairs = pairs;
	p->npairs = 6;
	r->patterns = p;
	r->npatterns = 1;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_not_null(strstr(text, "      arp:\n"
					"        type: request\n"
					"        sha: self\n"
					"        tha: default\n"
					"        spa: 192.168.2.3\n"
					"        tpa: 192.168.2.1\n"),
			   "%s", text);
	cr_assert_not_null(strstr(text, "        spa: self\n        tpa: 10.0.0.1\n"), "%s", text);
	cr_assert_null(strstr(text, "192.168.4."), "%s", text);
	cr_assert_null(strstr(text, "192.168.5."), "%s", text);
	cr_assert_null(strstr(text, "192.168.7.7"), "%s", text);
	cr_assert_null(strstr(text, "10.0.0.8"), "%s", text);
	assert_valid(text, "an ARP policy of an earlier address");
}

/*
 * Before it has an address the device asks as 0.0.0.0 (the Hue bridge asks
 * for its gateway's MAC before its lease) and is answered to 0.0.0.0: a
 * pair whose 0.0.0.0 side has the device's MAC, in two flows or more, is
 * written with spa or tpa 0.0.0.0 and sha or tha self.  Another host's
 * 0.0.0.0, or one flow, is not.  A probe of the device's own address keeps
 * its form (spa 0.0.0.0, any sender).
 */
Test(emit_profile, arp_of_the_device_before_it_has_an_address)
{
	struct sx_profile_cfg cfg = {
	    .device = "hub", .ipv4 = "10.0.0.7", .mac = "02:00:00:00:00:07", .last_update = "x"};
	static const uint8_t dev[6] = {2, 0, 0, 0, 0, 7}, other[6] = {2, 0, 0, 0, 0, 9},
			     gw[6] = {2, 0, 0, 0, 0, 1};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ps = mk(2 * sizeof(*ps)), *p;
	struct sx_mine_pair *req = mk(4 * sizeof(*req)), *rep = mk(sizeof(*rep));
	const char *text;
	int ret;

	p = arp_pattern(&ps[0], 12, "0.0.0.0,10.0.0.7", "10.0.0.1,10.0.0.7,10.0.0.9", dev,
			"arp=request:12");
	req[0] = arp_pair("0.0.0.0", "10.0.0.1", 4, dev);
	req[1] = arp_pair("0.0.0.0", "10.0.0.7", 4, dev);
	req[2] = arp_pair("0.0.0.0", "10.0.0.9", 3, other); /* another host before its lease */
	req[3] = arp_pair("10.0.0.7", "10.0.0.1", 1, dev);
	p->pairs = req;
	p->npairs = 4;
	p = arp_pattern(&ps[1], 6, "10.0.0.1", "0.0.0.0", gw, "arp=reply:6");
	memcpy(p->end[1].mac, dev, 6);
	rep[0] = arp_pair("10.0.0.1", "0.0.0.0", 4, gw);
	memcpy(rep[0].mac[1], dev, 6);
	p->pairs = rep;
	p->npairs = 1;
	r->patterns = ps;
	r->npatterns = 2;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_not_null(strstr(text, "        type: request\n"
					"        sha: self\n"
					"        tha: default\n"
					"        spa: 0.0.0.0\n"
					"        tpa: 10.0.0.1\n"),
			   "%s", text);
	cr_assert_not_null(strstr(text, "        type: reply\n"
					"        sha: 02:00:00:00:00:01\n"
					"        tha: self\n"
					"        spa: 10.0.0.1\n"
					"        tpa: 0.0.0.0\n"),
			   "%s", text);
	cr_assert_not_null(strstr(text, "        tha: default\n"
					"        spa: 0.0.0.0\n"
					"        tpa: self\n"),
			   "%s", text);
	cr_assert_null(strstr(text, "10.0.0.9"), "%s", text);
	assert_valid(text, "ARP before an address");
}

/*
 * The device's requests to other hosts that do not recur (one flow each, in
 * a pattern of three occurrences) are one policy: two hosts by their
 * addresses, not the firewall's "local" (192.168.1.0/24), which would admit
 * every device's requests to any host of the LAN; up to four the same;
 * five, a scan of the LAN, as "local".
 */
Test(emit_profile, arp_requests_to_a_few_hosts_name_them)
{
	static const char *const tgt[] = {"192.168.1.1", "192.168.1.222", "192.168.1.30",
					  "192.168.1.31", "192.168.1.32"};
	static const uint8_t dev[6] = {2, 0, 0, 0, 0, 7};
	struct sx_profile_cfg cfg = {.device = "cam",
				     .ipv4 = "192.168.1.161",
				     .mac = "02:00:00:00:00:07",
				     .last_update = "x"};
	unsigned k;

	for (k = 2; k <= 5; k++) {
		struct sx_mine_result *r = mk(sizeof(*r));
		struct sx_mine_pattern *p = mk(sizeof(*p));
		struct sx_mine_pair *pairs = mk(k * sizeof(*pairs));
		char targets[128] = "";
		const char *text;
		unsigned i;
		int ret;

		for (i = 0; i < k; i++) {
			snprintf(targets + strlen(targets), sizeof(targets) - strlen(targets),
				 "%s%s", i ? "," : "", tgt[i]);
			pairs[i] = arp_pair("192.168.1.161", tgt[i], 1, dev);
		}
		arp_pattern(p, k, "192.168.1.161", targets, dev, "arp=request:1");
		p->support = 3;
		p->pairs = pairs;
		p->npairs = k;
		r->patterns = p;
		r->npatterns = 1;
		text = emit(r, &cfg, &ret);
		cr_assert_eq(ret, 0);
		if (k == 2)
			cr_assert_not_null(strstr(text, "        spa: self\n"
							"        tpa:\n"
							"        - 192.168.1.1\n"
							"        - 192.168.1.222\n"),
					   "%s", text);
		if (k < 5)
			cr_assert_null(strstr(text, "local"), "%u hosts: %s", k, text);
		else
			cr_assert_not_null(strstr(text, "        spa: self\n        tpa: local\n"),
					   "%s", text);
		assert_valid(text, "ARP requests to other hosts");
	}
}

/* The firewall's parser takes a segment for an HTTP request only on TCP
 * port 80: a request served on another port (the Edimax plug's POST
 * /smartplug.cgi on 10000) is written at the transport level, never with
 * an http section that would deny every request. */
Test(emit_profile, http_on_another_port_than_80_has_no_http_section)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *p = mk(sizeof(*p));
	const char *text;
	int ret;

	pattern(p, 6, SX_MINE_CLIENT, SX_MINE_SERVER, 10000, SX_P_HTTP, 3);
	end(&p->end[0], "10.0.0.30", "40000:1,40001:1,40002:1", 0, NULL, NULL);
	end(&p->end[1], "10.0.0.7", "10000:3", 0, NULL, NULL);
	attrs(p, "http.req=POST:10.0.0.7:10000/smartplug.cgi:2;"
		 "http.req=POST:10.0.0.7:10000/status.cgi:1");
	snprintf(p->app.http_method, sizeof(p->app.http_method), "POST");
	snprintf(p->app.http_uri, sizeof(p->app.http_uri), "/smartplug.cgi");
	r->patterns = p;
	r->npatterns = 1;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_null(strstr(text, "http:"), "%s", text);
	cr_assert_null(strstr(text, "uri:"), "%s", text);
	cr_assert_eq(count_of(text, "          dst-port: 10000\n"), 1, "%s", text);
	cr_assert_not_null(strstr(text, "          src: 10.0.0.30\n          dst: self\n"), "%s",
			   text);
	assert_valid(text, "HTTP on port 10000");
}

/*
 * A segment of the client that the firewall reads as a request although it
 * is none (the flows' http.fw attributes: a request's header section sent
 * in a segment of its own) gets a policy of that reading, its uri exact:
 * "Host: ..." is a HEAD of '', "Content-Length: ..." a CONNECT of
 * "Length:".  Once per server, port and reading, however many patterns are
 * split; none for a pattern without readings, and none for a reading that
 * the translator would take for a prefix (a uri ending in '*').
 */
Test(emit_profile, a_segment_the_firewall_reads_as_a_request_gets_its_policy)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ps = mk(3 * sizeof(*ps)), *p;
	const char *text;
	int ret;

	for (unsigned i = 0; i < 3; i++) {
		p = pattern(&ps[i], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 80, SX_P_HTTP, 3);
		end(&p->end[0], "10.0.0.7", "50000:3", 0, NULL, NULL);
		end(&p->end[1], i < 2 ? "192.0.2.80" : "192.0.2.90", "80:3", 0, NULL, NULL);
	}
	attrs(&ps[0], "http.fw=HEAD::3;http.req=GET:www.scale.example/scale/register?serial=1:3");
	attrs(&ps[1], "http.fw=CONNECT:Length::3;http.fw=HEAD::3;"
		      "http.req=POST:www.scale.example/scale/upload:3");
	attrs(&ps[2], "http.fw=TRACE:abc*:3;http.req=GET:192.0.2.90/status:3");
	r->patterns = ps;
	r->npatterns = 3;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_eq(count_of(text, "          method: HEAD\n          uri: ''\n"), 1, "%s", text);
	cr_assert_not_null(strstr(text,
				  "          method: HEAD\n          uri: ''\n        tcp:\n"
				  "          dst-port: 80\n        ipv4:\n          src: self\n"
				  "          dst: 192.0.2.80\n"),
			   "%s", text);
	cr_assert_eq(count_of(text, "          method: CONNECT\n          uri: 'Length:'\n"), 1,
		     "%s", text);
	cr_assert_null(strstr(text, "TRACE"), "%s", text);
	cr_assert_eq(count_of(text, "        http:\n"), 5, "%s", text);
	assert_valid(text, "the firewall's readings");
}

/*
 * The device's group traffic under an earlier address (its MAC, two flows
 * or more, to a multicast address) gets a policy of its own with that
 * address as it is; the same from another host's MAC, or unicast from the
 * device's MAC (traffic it forwards), does not.
 */
Test(emit_profile, group_traffic_of_the_device_under_an_earlier_address)
{
	struct sx_profile_cfg cfg = {
	    .device = "cam", .ipv4 = "10.0.0.7", .mac = "02:00:00:00:00:07", .last_update = "x"};
	static const uint8_t dev[6] = {2, 0, 0, 0, 0, 7}, other[6] = {2, 0, 0, 0, 0, 9};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *p = mk(sizeof(*p));
	struct sx_mine_pair *pairs = mk(4 * sizeof(*pairs));
	const char *text;
	int ret;

	pattern(p, 17, SX_MINE_CLIENT, SX_MINE_SERVER, 5353, SX_P_MDNS, 12);
	end(&p->end[0], "10.0.0.7,10.22.22.5,192.168.0.20,192.168.0.99", "5353:12", 0, NULL, NULL);
	end(&p->end[1], "52.1.1.1,224.0.0.251", "5353:12", 0, NULL, NULL);
	p->pkts[SX_MINE_SERVER] = (struct sx_mine_stat){0, 0, 0};
	pairs[0] = (struct sx_mine_pair){{ip("10.0.0.7"), ip("224.0.0.251")}, 3, {{0}, {0}}};
	pairs[1] = (struct sx_mine_pair){{ip("10.22.22.5"), ip("52.1.1.1")}, 3, {{0}, {0}}};
	pairs[2] = (struct sx_mine_pair){{ip("192.168.0.20"), ip("224.0.0.251")}, 3, {{0}, {0}}};
	pairs[3] = (struct sx_mine_pair){{ip("192.168.0.99"), ip("224.0.0.251")}, 3, {{0}, {0}}};
	memcpy(pairs[0].mac[0], dev, 6);
	memcpy(pairs[1].mac[0], dev, 6);
	memcpy(pairs[2].mac[0], dev, 6);
	memcpy(pairs[3].mac[0], other, 6);
	p->pairs = pairs;
	p->npairs = 4;
	r->patterns = p;
	r->npatterns = 1;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_not_null(strstr(text, "          src: self\n          dst: mdns\n"), "%s", text);
	cr_assert_not_null(strstr(text, "          src: 192.168.0.20\n          dst: mdns\n"), "%s",
			   text);
	cr_assert_null(strstr(text, "10.22.22.5"), "%s", text);
	cr_assert_null(strstr(text, "52.1.1.1"), "%s", text);
	cr_assert_null(strstr(text, "192.168.0.99"), "%s", text);
	cr_assert_eq(count_of(text, "      protocols:\n"), 2, "%s", text);
	assert_valid(text, "an earlier address's group traffic");
}

/* An icmp policy matches one type: a pattern of several types gets one
 * policy per type, but for the replies of a request it also holds (the
 * request's policy is bidirectional). */
Test(emit_profile, icmp_types_give_one_policy_each_but_replies)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ps = mk(2 * sizeof(*ps)), *p;
	const char *text;
	int ret;

	p = pattern(&ps[0], 1, SX_MINE_CLIENT, SX_MINE_NO_ROLE, 0, SX_P_ICMP, 3);
	end(&p->end[0], "10.0.0.1", NULL, 0, NULL, NULL);
	end(&p->end[1], "10.0.0.7", NULL, 0, NULL, NULL);
	attrs(p, "icmp=3:1:3;icmp=5:1:2");
	p->app.icmp_type = 3;
	p->app.icmp_code = 1;
	p->pkts[SX_MINE_SERVER] = (struct sx_mine_stat){0, 0, 0};
	p = pattern(&ps[1], 1, SX_MINE_CLIENT, SX_MINE_NO_ROLE, 0, SX_P_ICMP, 3);
	end(&p->end[0], "10.0.0.7", NULL, 0, NULL, NULL);
	end(&p->end[1], "8.8.8.8", NULL, 0, NULL, NULL);
	attrs(p, "icmp=0:0:3;icmp=8:0:3");
	p->app.icmp_type = 0;
	p->app.icmp_code = 0;
	r->patterns = ps;
	r->npatterns = 2;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_not_null(strstr(text, "          type: destination-unreachable\n        ipv4:\n"
					"          src: 10.0.0.1\n          dst: self\n"),
			   "%s", text);
	cr_assert_not_null(strstr(text, "          type: redirect\n        ipv4:\n"
					"          src: 10.0.0.1\n          dst: self\n"),
			   "%s", text);
	cr_assert_eq(count_of(text, "          type: echo-request\n"), 1, "%s", text);
	cr_assert_null(strstr(text, "echo-reply"), "%s", text);
	cr_assert_eq(count_of(text, "        icmp:\n"), 3, "%s", text);
	assert_valid(text, "ICMP types");
}

/*
 * States (profile.c's DESIGN): the firewall runs every queued policy
 * through its interaction's state machine, a single policy being an
 * interaction of its own.  An event's interaction is periodic policies
 * (`rate: 0`, no nftables limit): it opens on its first policy and never
 * wraps.  A single bidirectional policy is periodic when plain (an nftables
 * accept both ways), and written one way with its answers' own policy when
 * it has a queue (a name end): a queued bidirectional policy admits one
 * answer per request.  DNS keeps its question and answer together.
 */
Test(emit_profile, policies_are_written_for_the_firewalls_states)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *bg = mk(3 * sizeof(*bg)), *ev = mk(sizeof(*ev));
	const char *text, *fwd, *ans;
	int ret;

	cloud_patterns(bg);
	r->background = bg;
	r->nbackground = 3;
	/* one event pattern, one way: a lone policy, no interaction to the
	 * translator, stays one-off */
	pattern(ev, 17, SX_MINE_CLIENT, SX_MINE_SERVER, 9999, SX_P_UDP, 3);
	end(&ev->end[SX_MINE_CLIENT], "10.0.0.7", "40000:3", 0, NULL, NULL);
	end(&ev->end[SX_MINE_SERVER], "10.0.0.9", "9999:3", 0, NULL, NULL);
	ev->pkts[SX_MINE_SERVER] = (struct sx_mine_stat){0, 0, 0};
	r->patterns = ev;
	r->npatterns = 1;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	assert_valid(text, "states");
	/* the name end: requests one way, then the answers' own policy */
	fwd = strstr(text, "\n  https-api-example-com:\n");
	ans = strstr(text, "\n  https-api-example-com-to-device:\n");
	cr_assert(fwd && ans && fwd < ans, "%s", text);
	cr_assert_null(strstr(fwd + 1, "bidirectional"), "%.200s", fwd);
	cr_assert_not_null(strstr(ans, "tcp:\n        src-port: 443\n      ipv4:\n"
				       "        src: api.example.com\n        dst: self\n"),
			   "%s", ans);
	/* the plain one: an nftables accept both ways */
	cr_assert_not_null(strstr(text, "dst: 52.28.161.134\n    bidirectional: true\n"
					"    stats:\n      rate: 0\n"),
			   "%s", text);
	/* DNS keeps its answers, one-off */
	cr_assert_not_null(strstr(text, "dst: 10.0.0.1\n    bidirectional: true\n  "), "%s", text);
	/* the lone one-way event policy */
	cr_assert_not_null(strstr(text, "interactions:\n  event:\n    udp-9999-10-0-0-9:\n"), "%s",
			   text);
	cr_assert_eq(count_of(text, "rate: 0"), 1, "%s", text);

	/* a second request pattern to the same server: its answers are the
	 * first one's, written once */
	bg = mk(4 * sizeof(*bg));
	cloud_patterns(bg);
	bg[3] = bg[0];
	end(&bg[3].end[SX_MINE_CLIENT], "10.0.0.7", "50006:1,50007:1,50008:1", 0, NULL, NULL);
	bg[3].pkts[SX_MINE_CLIENT] = (struct sx_mine_stat){2, 9, 30};
	r->background = bg;
	r->nbackground = 4;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_eq(count_of(text, "dst: api.example.com\n"), 2, "two requests: %s", text);
	cr_assert_eq(count_of(text, "src: api.example.com\n"), 1, "one answers: %s", text);
	r->nbackground = 3;

	/* two event patterns: the interaction's policies are all periodic */
	ev = mk(2 * sizeof(*ev));
	pattern(&ev[0], 17, SX_MINE_CLIENT, SX_MINE_SERVER, 9999, SX_P_UDP, 3);
	end(&ev[0].end[SX_MINE_CLIENT], "10.0.0.7", "40000:3", 0, NULL, NULL);
	end(&ev[0].end[SX_MINE_SERVER], "10.0.0.9", "9999:3", 0, NULL, NULL);
	ev[0].pkts[SX_MINE_SERVER] = (struct sx_mine_stat){0, 0, 0};
	pattern(&ev[1], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 443, SX_P_TLS, 3);
	end(&ev[1].end[SX_MINE_CLIENT], "10.0.0.7", "50000:1,50001:1,50002:1", 0, NULL, NULL);
	end(&ev[1].end[SX_MINE_SERVER], "1.1.1.2", "443:3", SX_MINE_HOST_NAME, "api.example.com",
	    NULL);
	r->patterns = ev;
	r->npatterns = 2;
	r->nbackground = 1;
	r->background = &bg[2];
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	assert_valid(text, "periodic interaction");
	cr_assert_not_null(strstr(text, "interactions:\n  event:\n    udp-9999-10-0-0-9:\n"), "%s",
			   text);
	cr_assert_eq(count_of(text, "rate: 0"), 2, "%s", text);
	/* in an interaction, a name end stays bidirectional (periodic: it
	 * never alternates) */
	cr_assert_not_null(strstr(text, "dst: api.example.com\n      bidirectional: true\n"
					"      stats:\n        rate: 0\n"),
			   "%s", text);
}

/*
 * Two queue policies whose matches differ only by an end, one address in
 * one and a list holding it in the other (lookups to one of the device's
 * two resolvers, others to both): whichever rule came first would take
 * the other's packets to that address and refuse them.  Both are written
 * with the list: one queue, whose callback tries both.
 */
Test(emit_profile, queues_to_one_of_two_resolvers_share_the_list)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ps = mk(2 * sizeof(*ps));
	const char *text;
	int ret;

	dns_pattern(&ps[0], "a.example.com");
	dns_pattern(&ps[1], "b.example.com");
	end(&ps[1].end[SX_MINE_SERVER], "10.0.0.1,192.168.0.1", "53:3", 0, NULL, NULL);
	r->background = ps;
	r->nbackground = 2;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	assert_valid(text, "resolvers");
	cr_assert_eq(count_of(text, "        dst:\n        - 10.0.0.1\n        - 192.168.0.1\n"), 2,
		     "%s", text);
	cr_assert_null(strstr(text, "dst: 10.0.0.1\n"), "%s", text);
}

/* A responder that answered in some of the flows, not most (lookups half
 * of which went to a resolver that never answers): the answers are
 * admitted; one that never answered is not. */
Test(emit_profile, answers_in_some_flows_make_a_policy_bidirectional)
{
	struct sx_profile_cfg cfg = {.device = "d", .ipv4 = "10.0.0.7", .last_update = "x"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *p = mk(sizeof(*p));
	const char *text;
	int ret;

	dns_pattern(p, "a.example.com");
	p->pkts[SX_MINE_SERVER] = (struct sx_mine_stat){0, 0, 1};
	r->background = p;
	r->nbackground = 1;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_not_null(strstr(text, "dst: 10.0.0.1\n    bidirectional: true\n"), "%s", text);
	p->pkts[SX_MINE_SERVER] = (struct sx_mine_stat){0, 0, 0};
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	cr_assert_null(strstr(text, "bidirectional"), "%s", text);
}

/* A pattern's first flow in each of three occurrences (ns). */
static void starts(struct sx_mine_pattern *p, int64_t a, int64_t b, int64_t c)
{
	int64_t *v = mk(3 * sizeof(*v));

	v[0] = a;
	v[1] = b;
	v[2] = c;
	p->occ_first_ns = v;
}

/*
 * The interaction opens on its first policy only, so an event pattern that
 * comes before the opener in some occurrence (the device's DHCP and its
 * router solicitation race) is a single policy: a leader.  Unless it has a
 * queue whose rule another event pattern's packets may meet (a DNS lookup
 * before the opener, another after it): single policies come first, and
 * the leader's queue would drop the other's packets.
 */
Test(emit_profile, an_event_pattern_before_its_opener_is_a_single_policy)
{
	struct sx_profile_cfg cfg = {.device = "cam",
				     .ipv4 = "10.0.0.7",
				     .mac = "02:00:00:00:00:07",
				     .gateway = "10.0.0.1",
				     .event = "setup"};
	struct sx_mine_result *r = mk(sizeof(*r));
	struct sx_mine_pattern *ev = mk(5 * sizeof(*ev));
	const char *text, *inter;
	int ret;

	/* the opener: first in every occurrence */
	pattern(&ev[0], 17, SX_MINE_CLIENT, SX_MINE_SERVER, 9999, SX_P_UDP, 3);
	end(&ev[0].end[SX_MINE_CLIENT], "10.0.0.7", "40000:3", 0, NULL, NULL);
	end(&ev[0].end[SX_MINE_SERVER], "10.0.0.9", "9999:3", 0, NULL, NULL);
	ev[0].pkts[SX_MINE_SERVER] = (struct sx_mine_stat){0, 0, 0};
	starts(&ev[0], 100, 200, 300);
	/* a plain TLS session, before the opener in the second occurrence */
	pattern(&ev[1], 6, SX_MINE_CLIENT, SX_MINE_SERVER, 443, SX_P_TLS, 3);
	end(&ev[1].end[SX_MINE_CLIENT], "10.0.0.7", "50000:1,50001:1,50002:1", 0, NULL, NULL);
	end(&ev[1].end[SX_MINE_SERVER], "1.1.1.2", "443:3", 0, NULL, NULL);
	starts(&ev[1], 500, 150, 600);
	/* DHCP, first in the first occurrence: queued, no other rule near */
	pattern(&ev[2], 17, SX_MINE_CLIENT, SX_MINE_SERVER, 67, SX_P_DHCP, 3);
	end(&ev[2].end[SX_MINE_CLIENT], "10.0.0.7", "68:3", 0, NULL, NULL);
	end(&ev[2].end[SX_MINE_SERVER], "10.0.0.1", "67:3", 0, NULL, NULL);
	snprintf(ev[2].app.dhcp_type, sizeof(ev[2].app.dhcp_type), "request");
	starts(&ev[2], 50, 250, 350);
	/* a lookup before the opener in the third occurrence, and another
	 * after it in every one: the first stays in the interaction */
	dns_pattern(&ev[3], "early.example.com");
	starts(&ev[3], 400, 400, 10);
	dns_pattern(&ev[4], "late.example.com");
	starts(&ev[4], 700, 700, 700);
	r->patterns = ev;
	r->npatterns = 5;
	r->noccs = 3;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	assert_valid(text, "leaders");
	inter = strstr(text, "\ninteractions:\n  setup:\n    udp-9999-10-0-0-9:\n");
	cr_assert_not_null(inter, "the opener first: %s", text);
	/* the leaders: single policies, before the interactions */
	cr_assert(strstr(text, "\n  https-1-1-1-2:\n") < inter, "%s", text);
	cr_assert(strstr(text, "\n  dhcp-gateway:\n") < inter, "%s", text);
	cr_assert_not_null(strstr(text, "\n  dhcp-gateway:\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\n  https-1-1-1-2:\n"), "%s", text);
	/* the lookups: both in the interaction */
	cr_assert(strstr(text, "\n    dns-early-example-com:\n") > inter, "%s", text);
	cr_assert(strstr(text, "\n    dns-late-example-com:\n") > inter, "%s", text);

	/* without the starts (a result not mined from flows): as before, every
	 * pattern in the interaction, in typical order */
	for (int i = 0; i < 5; i++)
		ev[i].occ_first_ns = NULL;
	text = emit(r, &cfg, &ret);
	cr_assert_eq(ret, 0);
	inter = strstr(text, "\ninteractions:\n  setup:\n    udp-9999-10-0-0-9:\n");
	cr_assert_not_null(inter, "%s", text);
	cr_assert(strstr(text, "\n    https-1-1-1-2:\n") > inter, "%s", text);
	cr_assert(strstr(text, "\n    dhcp-gateway:\n") > inter, "%s", text);
}

/* The states again in a device's profile of several events: a policy two
 * interactions share becomes a single policy, one way with its answers'
 * policy when it has a queue, periodic when plain and bidirectional; an
 * interaction left with a lone one-way policy makes it one-off. */
Test(emit_profile, merged_policies_are_written_for_the_firewalls_states)
{
	static const char *const texts[] = {
	    "device-info: {name: d, ipv4: 10.0.0.7, last-update: '1'}\n"
	    "single-policies: {}\n"
	    "interactions:\n"
	    "  on:\n"
	    "    tls-cloud: {protocols: {tcp: {dst-port: 443}, ipv4: {src: self,"
	    " dst: c.example}}, bidirectional: true, stats: {rate: 0}}\n"
	    "    tcp-lan: {protocols: {tcp: {dst-port: 80}, ipv4: {src: self, dst: 10.0.0.9}},"
	    " bidirectional: true, stats: {rate: 0}}\n"
	    "    udp-on: {protocols: {udp: {dst-port: 9999}, ipv4: {src: phone, dst: self}},"
	    " stats: {rate: 0}}\n",
	    "device-info: {name: d, ipv4: 10.0.0.7, last-update: '2'}\n"
	    "single-policies: {}\n"
	    "interactions:\n"
	    "  off:\n"
	    "    tls-cloud: {protocols: {tcp: {dst-port: 443}, ipv4: {src: self,"
	    " dst: c.example}}, bidirectional: true, stats: {rate: 0}}\n"
	    "    tcp-lan: {protocols: {tcp: {dst-port: 80}, ipv4: {src: self, dst: 10.0.0.9}},"
	    " bidirectional: true, stats: {rate: 0}}\n"
	    "    udp-off: {protocols: {udp: {dst-port: 9998}, ipv4: {src: phone, dst: self}},"
	    " stats: {rate: 0}}\n"
	    "    udp-off-2: {protocols: {udp: {dst-port: 9997}, ipv4: {src: phone, dst: self}},"
	    " stats: {rate: 0}}\n"};
	const char *text = merge(texts, 2);

	cr_assert_not_null(
	    strstr(text, "single-policies:\n"
			 "  tls-cloud: {protocols: {tcp: {dst-port: 443}, ipv4: {src: self,"
			 " dst: c.example}}}\n"
			 "  tls-cloud-answers: {protocols: {tcp: {src-port: 443}, ipv4:"
			 " {src: c.example, dst: self}}}\n"
			 "  tcp-lan: {protocols: {tcp: {dst-port: 80}, ipv4: {src: self,"
			 " dst: 10.0.0.9}}, bidirectional: true, stats: {rate: 0}}\n"),
	    "%s", text);
	cr_assert_not_null(strstr(text, "  on:\n    udp-on: {protocols: {udp: {dst-port: 9999},"
					" ipv4: {src: phone, dst: self}}}\n"),
			   "a lone one-way policy: %s", text);
	cr_assert_eq(count_of(text, "dst-port: 999"), 3, "%s", text);
	cr_assert_not_null(strstr(text, "dst: self}}, stats: {rate: 0}}\n    udp-off-2: "), "%s",
			   text);
}
