/*
 * signatures.c - signatures.yaml: the machine-readable signature.
 *
 * DESIGN.  One YAML document (libyaml through the latched-error writer),
 * written as a pure function of the mining result; no paths of inputs, no
 * seed, no thread count, no clock, so equivalent runs give identical bytes.
 * Later stages (regression checks, detection, profile.yaml) read it.
 * Times are seconds with nine decimals, printed from integer nanoseconds.
 *
 *   sigex: signatures              document type
 *   version: 1                     schema version
 *   mode: default                  mining algorithm
 *   parameters:                    support, min-support (occurrences
 *                                  required), background-support,
 *                                  min-background-support, similarity
 *                                  (cosine), clustering (dp-means),
 *                                  threshold, feature-dim-bits
 *   summary:                       occurrences, background-units, flows,
 *                                  clusters, patterns, background, periodic,
 *                                  below-support, and with an events file
 *                                  event-windows:
 *                                  {scheduled, empty, outside} (windows in
 *                                  the captures: the occurrences; of which
 *                                  without the device; events outside
 *                                  every capture)
 *   occurrences: [ {file, event?, label?, start, flows} ]   canonical order
 *   background-units: [ same ]
 *   patterns: [ PATTERN ]          the signature, in typical order
 *   background: [ PATTERN ]        also in background units
 *   periodic: [ PATTERN ]          periodic chatter
 *   below-support: [ PATTERN ]     in 2 or more occurrences but fewer than
 *                                  min-support: not the signature, for the
 *                                  record
 *   between-events: [ PATTERN ]    with an events file, when it recurs: the
 *                                  device's traffic between the windows (its
 *                                  patterns, then its periodic ones, mined
 *                                  apart, one occurrence per capture); what
 *                                  is there is no event's (sigex detect's
 *                                  contrast), only when some pattern is
 *   ...                            the caller's sections (struct
 *                                  sx_emit_opts: validation)
 *
 * PATTERN:
 *   id, number, key               stable id (XXH3 of key), position, identity text
 *   ip-proto, transport, ip-version (4, 6, or null when mixed)
 *   initiator: client|server      which end starts the flows
 *   session-flows: N              member flows that continue a session open
 *                                 before their --events window (only when N > 0;
 *                                 their initiator is the session's)
 *   peer-to-peer: true            UDP between unicast ends on dynamic ports
 *                                 only, none fixed (only when true: struct
 *                                 sx_mine_pattern's peer_to_peer)
 *   client, server: END           the two ends
 *   fixed-port: {port, end} | null
 *   application: {protocol, dns: {qtype, domain-name, mdns}, http: {method,
 *     (qtype and domain-name: one value, or a list of several, as in
 *     profile.yaml),
 *     host, uri}, coap: {type, method, uri}, ssdp: {method, st},
 *     dhcp: {type (one, or a list)}, tls: {sni}, tplink: {command}, mqtt: {type, topic},
 *     ntp: {version, mode}, igmp: {version, type, group},
 *     icmp|icmpv6: {type, code}}   (sections present only when known)
 *   arp: {operation, gratuitous, sha, tha}   ARP patterns only (transport
 *     arp, ip-version 4): the client end sends, the server end is the
 *     target; sha and tha the ends' most used hardware addresses, "" when
 *     none (a request's tha is zero when its sender does not know it)
 *   attributes: [ {key, value, flows, generalised, minor (only when true:
 *     a value of fewer than half of the flows, kept as the pattern's)} ]
 *   support: {occurrences, of, flows}
 *   background-support: {units, of}     (when there are background units;
 *                                        not for below-support)
 *   in-occurrences: [ indices into occurrences ]
 *   statistics: {packets: {client: STAT, server: STAT}, bytes: {...},
 *     duration: STAT, start-offset: {median, spread, min, max}, period,
 *     payload-lengths: {in-all, min: [...], max: [...]}}: the member flows'
 *     signed payload lengths (+ from the client) by position, least and
 *     greatest, up to the longest member's; in-all positions every member
 *     reaches (what `sigex detect` compares an exchange with)
 *     STAT = {min, median, max}
 *   order: {position, before-next: {agree, of}}
 * END:
 *   kind: name|domain|addresses, name (name kinds), shown, scope,
 *   local-name (when known), addresses: [...], names: [...],
 *   ports: [ {port, flows} ]  by count then port
 */
#include "emit/emit.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/text.h"
#include "yaml/ydoc.h"
#include "flows/flow.h"
#include "ingest/ingest.h"

static void secs(struct sx_yw *w, int64_t ns)
{
	uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
	char b[48];

	snprintf(b, sizeof(b), "%s%" PRIu64 ".%09" PRIu64, ns < 0 ? "-" : "", a / 1000000000u,
		 a % 1000000000u);
	sx_yw_number(w, b);
}

static void kv_secs(struct sx_yw *w, const char *k, int64_t ns)
{
	sx_yw_str(w, k);
	secs(w, ns);
}

static void stat(struct sx_yw *w, const char *k, const struct sx_mine_stat *s, bool time)
{
	sx_yw_str(w, k);
	sx_yw_map_begin_flow(w);
	if (time) {
		kv_secs(w, "min", s->min);
		kv_secs(w, "median", s->median);
		kv_secs(w, "max", s->max);
	} else {
		sx_yw_kv_i64(w, "min", s->min);
		sx_yw_kv_i64(w, "median", s->median);
		sx_yw_kv_i64(w, "max", s->max);
	}
	sx_yw_map_end(w);
}

static void units(struct sx_yw *w, const char *k, const struct sx_mine_occ *o, uint32_t n)
{
	uint32_t i;

	sx_yw_str(w, k);
	sx_yw_seq_begin(w);
	for (i = 0; i < n; i++) {
		sx_yw_map_begin(w);
		sx_yw_kv_str(w, "file", o[i].file);
		if (o[i].event != SX_FLOW_NO_EVENT)
			sx_yw_kv_u64(w, "event", o[i].event);
		if (o[i].label[0])
			sx_yw_kv_str(w, "label", o[i].label);
		kv_secs(w, "start", o[i].start_ns);
		sx_yw_kv_u64(w, "flows", o[i].nflows);
		sx_yw_map_end(w);
	}
	sx_yw_seq_end(w);
}

static void end(struct sx_yw *w, const char *k, const struct sx_mine_end *e)
{
	char a[64];
	uint32_t i;

	sx_yw_str(w, k);
	sx_yw_map_begin(w);
	sx_yw_kv_str(w, "kind", sx_mine_host_kind_name((enum sx_mine_host_kind)e->kind));
	if (e->kind != SX_MINE_HOST_ADDRS)
		sx_yw_kv_str(w, "name", e->name);
	sx_yw_kv_str(w, "shown", e->shown);
	sx_yw_kv_str(w, "scope", sx_mine_scope_name((enum sx_mine_scope)e->scope));
	if (e->local_name[0])
		sx_yw_kv_str(w, "local-name", e->local_name);
	sx_yw_str(w, "addresses");
	sx_yw_seq_begin_flow(w);
	for (i = 0; i < e->naddrs; i++)
		sx_yw_str(w, sx_addr_str(&e->addrs[i], a, sizeof(a)));
	sx_yw_seq_end(w);
	sx_yw_str(w, "names");
	sx_yw_seq_begin_flow(w);
	for (i = 0; i < e->nnames; i++)
		sx_yw_str(w, e->names[i]);
	sx_yw_seq_end(w);
	sx_yw_str(w, "ports");
	sx_yw_seq_begin_flow(w);
	for (i = 0; i < e->nports; i++) {
		sx_yw_map_begin_flow(w);
		sx_yw_kv_u64(w, "port", e->ports[i].port);
		sx_yw_kv_u64(w, "flows", e->ports[i].count);
		sx_yw_map_end(w);
	}
	sx_yw_seq_end(w);
	sx_yw_map_end(w);
}

static void section_begin(struct sx_yw *w, const char *k)
{
	sx_yw_str(w, k);
	sx_yw_map_begin_flow(w);
}

/* A space-separated word list as profile.yaml writes it: one word a
 * scalar, several a list ([A, AAAA], never the string "A AAAA"). */
static void words(struct sx_yw *w, const char *k, const char *list)
{
	sx_yw_str(w, k);
	if (!strchr(list, ' ')) {
		sx_yw_str(w, list);
		return;
	}
	sx_yw_seq_begin_flow(w);
	while (*list) {
		size_t n = strcspn(list, " ");
		char word[SX_TEXT_MAX];

		snprintf(word, sizeof(word), "%.*s", (int)n, list);
		if (n)
			sx_yw_str(w, word);
		list += n;
		while (*list == ' ')
			list++;
	}
	sx_yw_seq_end(w);
}

static void application(struct sx_yw *w, const struct sx_mine_app *a)
{
	uint32_t i;

	sx_yw_str(w, "application");
	sx_yw_map_begin(w);
	sx_yw_kv_str(w, "protocol", sx_proto_name((enum sx_proto)a->proto));
	if (a->dns_name[0]) {
		section_begin(w, "dns");
		words(w, "qtype", a->dns_qtype);
		sx_yw_str(w, "domain-name");
		if (a->ndns_names > 1) {
			sx_yw_seq_begin_flow(w);
			for (i = 0; i < a->ndns_names; i++)
				sx_yw_str(w, a->dns_names[i]);
			sx_yw_seq_end(w);
		} else {
			sx_yw_str(w, a->dns_name);
		}
		sx_yw_kv_bool(w, "mdns", a->mdns);
		sx_yw_map_end(w);
	}
	if (a->http_method[0]) {
		section_begin(w, "http");
		sx_yw_kv_str(w, "method", a->http_method);
		sx_yw_kv_str(w, "host", a->http_host);
		sx_yw_kv_str(w, "uri", a->http_uri);
		sx_yw_map_end(w);
	}
	if (a->coap_type[0]) {
		section_begin(w, "coap");
		sx_yw_kv_str(w, "type", a->coap_type);
		sx_yw_kv_str(w, "method", a->coap_method);
		sx_yw_kv_str(w, "uri", a->coap_uri);
		sx_yw_map_end(w);
	}
	if (a->ssdp_method[0]) {
		section_begin(w, "ssdp");
		sx_yw_kv_str(w, "method", a->ssdp_method);
		sx_yw_kv_str(w, "st", a->ssdp_st);
		sx_yw_map_end(w);
	}
	if (a->dhcp_type[0]) {
		section_begin(w, "dhcp");
		words(w, "type", a->dhcp_type);
		sx_yw_map_end(w);
	}
	if (a->tls_sni[0]) {
		section_begin(w, "tls");
		sx_yw_kv_str(w, "sni", a->tls_sni);
		sx_yw_map_end(w);
	}
	if (a->tplink_cmd[0]) {
		section_begin(w, "tplink");
		sx_yw_kv_str(w, "command", a->tplink_cmd);
		sx_yw_map_end(w);
	}
	if (a->mqtt_type[0]) {
		section_begin(w, "mqtt");
		sx_yw_kv_str(w, "type", a->mqtt_type);
		sx_yw_kv_str(w, "topic", a->mqtt_topic);
		sx_yw_map_end(w);
	}
	if (a->ntp_version >= 0) {
		section_begin(w, "ntp");
		sx_yw_kv_i64(w, "version", a->ntp_version);
		sx_yw_kv_i64(w, "mode", a->ntp_mode);
		sx_yw_map_end(w);
	}
	if (a->igmp_version >= 0) {
		section_begin(w, "igmp");
		sx_yw_kv_i64(w, "version", a->igmp_version);
		sx_yw_kv_i64(w, "type", a->igmp_type);
		sx_yw_kv_str(w, "group", a->igmp_group);
		sx_yw_map_end(w);
	}
	if (a->icmp_type >= 0) {
		section_begin(w, a->icmp_v6 ? "icmpv6" : "icmp");
		sx_yw_kv_i64(w, "type", a->icmp_type);
		sx_yw_kv_i64(w, "code", a->icmp_code);
		sx_yw_map_end(w);
	}
	sx_yw_map_end(w);
}

/* payload-lengths: {in-all, min: [...], max: [...]} by position. */
static void payload_lengths(struct sx_yw *w, const struct sx_mine_pattern *p)
{
	uint32_t k;

	sx_yw_str(w, "payload-lengths");
	sx_yw_map_begin_flow(w);
	sx_yw_kv_u64(w, "in-all", p->seq_all);
	sx_yw_str(w, "min");
	sx_yw_seq_begin_flow(w);
	for (k = 0; k < p->seq_n; k++)
		sx_yw_i64(w, p->seq_min[k]);
	sx_yw_seq_end(w);
	sx_yw_str(w, "max");
	sx_yw_seq_begin_flow(w);
	for (k = 0; k < p->seq_n; k++)
		sx_yw_i64(w, p->seq_max[k]);
	sx_yw_seq_end(w);
	sx_yw_map_end(w);
}

static void pattern(struct sx_yw *w, const struct sx_mine_result *r,
		    const struct sx_mine_pattern *p)
{
	char tmp[32], tproto[32];
	uint32_t i;

	sx_yw_map_begin(w);
	sx_yw_kv_str(w, "id", p->id);
	sx_yw_kv_u64(w, "number", p->number);
	sx_yw_kv_str(w, "key", p->key);
	sx_yw_kv_u64(w, "ip-proto", p->ip_proto);
	sx_yw_str(w, "transport");
	snprintf(tproto, sizeof(tproto), "%s",
		 sx_mine_arp_op(p) ? "arp" : sx_ip_proto_name(p->ip_proto, tmp, sizeof(tmp)));
	sx_text_lower(tproto);
	sx_yw_str(w, tproto);
	sx_yw_str(w, "ip-version");
	if (p->family)
		sx_yw_u64(w, sx_mine_arp_op(p) ? 4 : p->family);
	else
		sx_yw_null(w);
	sx_yw_kv_str(w, "initiator", sx_mine_role_name((enum sx_mine_role)p->initiator));
	if (p->nsession)
		sx_yw_kv_u64(w, "session-flows", p->nsession);
	if (p->peer_to_peer)
		sx_yw_kv_bool(w, "peer-to-peer", true);
	end(w, "client", &p->end[SX_MINE_CLIENT]);
	end(w, "server", &p->end[SX_MINE_SERVER]);
	sx_yw_str(w, "fixed-port");
	if (p->fixed_role != SX_MINE_NO_ROLE) {
		sx_yw_map_begin_flow(w);
		sx_yw_kv_u64(w, "port", p->fixed_port);
		sx_yw_kv_str(w, "end", sx_mine_role_name((enum sx_mine_role)p->fixed_role));
		sx_yw_map_end(w);
	} else {
		sx_yw_null(w);
	}
	application(w, &p->app);
	if (sx_mine_arp_op(p)) {
		/* the client end sends, the server end is the target */
		sx_yw_str(w, "arp");
		sx_yw_map_begin_flow(w);
		sx_yw_kv_str(w, "operation", sx_mine_arp_op(p));
		sx_yw_kv_bool(w, "gratuitous", sx_mine_arp_gratuitous(p));
		sx_yw_kv_str(w, "sha", sx_mac_str(p->end[SX_MINE_CLIENT].mac, tmp, sizeof(tmp)));
		sx_yw_kv_str(w, "tha", sx_mac_str(p->end[SX_MINE_SERVER].mac, tmp, sizeof(tmp)));
		sx_yw_map_end(w);
	}
	sx_yw_str(w, "attributes");
	sx_yw_seq_begin(w);
	for (i = 0; i < p->nattrs; i++) {
		sx_yw_map_begin_flow(w);
		sx_yw_kv_str(w, "key", p->attrs[i].key);
		sx_yw_kv_str(w, "value", p->attrs[i].value);
		sx_yw_kv_u64(w, "flows", p->attrs[i].count);
		sx_yw_kv_bool(w, "generalised", p->attrs[i].generalised);
		if (p->attrs[i].minor)
			sx_yw_kv_bool(w, "minor", true);
		sx_yw_map_end(w);
	}
	sx_yw_seq_end(w);
	sx_yw_str(w, "support");
	sx_yw_map_begin_flow(w);
	sx_yw_kv_u64(w, "occurrences", p->support);
	sx_yw_kv_u64(w, "of", p->noccs);
	sx_yw_kv_u64(w, "flows", p->nflows);
	sx_yw_map_end(w);
	if (r->nbg && p->kind != SX_MINE_BELOW_SUPPORT) { /* not matched: see patterns.c */
		sx_yw_str(w, "background-support");
		sx_yw_map_begin_flow(w);
		sx_yw_kv_u64(w, "units", p->bg_support);
		sx_yw_kv_u64(w, "of", p->nbg);
		sx_yw_map_end(w);
	}
	sx_yw_str(w, "in-occurrences");
	sx_yw_seq_begin_flow(w);
	for (i = 0; i < r->noccs; i++)
		if (sx_mine_pattern_in_occ(p, i))
			sx_yw_u64(w, i);
	sx_yw_seq_end(w);
	sx_yw_str(w, "statistics");
	sx_yw_map_begin(w);
	sx_yw_str(w, "packets");
	sx_yw_map_begin(w);
	stat(w, "client", &p->pkts[SX_MINE_CLIENT], false);
	stat(w, "server", &p->pkts[SX_MINE_SERVER], false);
	sx_yw_map_end(w);
	sx_yw_str(w, "bytes");
	sx_yw_map_begin(w);
	stat(w, "client", &p->bytes[SX_MINE_CLIENT], false);
	stat(w, "server", &p->bytes[SX_MINE_SERVER], false);
	sx_yw_map_end(w);
	stat(w, "duration", &p->duration_ns, true);
	sx_yw_str(w, "start-offset");
	sx_yw_map_begin_flow(w);
	kv_secs(w, "median", p->offset_ns.median);
	kv_secs(w, "spread", p->offset_spread_ns);
	kv_secs(w, "min", p->offset_ns.min);
	kv_secs(w, "max", p->offset_ns.max);
	sx_yw_map_end(w);
	kv_secs(w, "period", p->period_ns);
	payload_lengths(w, p);
	sx_yw_map_end(w);
	sx_yw_str(w, "order");
	sx_yw_map_begin_flow(w);
	sx_yw_kv_u64(w, "position", p->number);
	sx_yw_str(w, "before-next");
	sx_yw_map_begin_flow(w);
	sx_yw_kv_u64(w, "agree", p->next_agree);
	sx_yw_kv_u64(w, "of", p->next_both);
	sx_yw_map_end(w);
	sx_yw_map_end(w);
	sx_yw_map_end(w);
}

static void patterns(struct sx_yw *w, const char *k, const struct sx_mine_result *r,
		     const struct sx_mine_pattern *ps, uint32_t n)
{
	uint32_t i;

	sx_yw_str(w, k);
	sx_yw_seq_begin(w);
	for (i = 0; i < n; i++)
		pattern(w, r, &ps[i]);
	sx_yw_seq_end(w);
}

int sx_emit_signatures(FILE *f, const struct sx_mine_result *r, const struct sx_emit_opts *o,
		       char *msg, size_t msglen)
{
	struct sx_yw w;
	int ret;

	sx_yw_open(&w, f, SX_YW_SIGEX);
	sx_yw_map_begin(&w);
	sx_yw_kv_str(&w, "sigex", "signatures");
	sx_yw_kv_u64(&w, "version", 1);
	sx_yw_kv_str(&w, "mode", "default");
	sx_yw_str(&w, "parameters");
	sx_yw_map_begin(&w);
	sx_yw_kv_double(&w, "support", r->support);
	sx_yw_kv_u64(&w, "min-support", r->noccs ? r->min_support : 0);
	sx_yw_kv_double(&w, "background-support", r->bg_support);
	sx_yw_kv_u64(&w, "min-background-support", r->nbg ? r->min_bg_support : 0);
	sx_yw_kv_str(&w, "similarity", "cosine");
	sx_yw_kv_str(&w, "clustering", "dp-means");
	sx_yw_kv_double(&w, "threshold", r->threshold);
	sx_yw_kv_u64(&w, "feature-dim-bits", r->dim_bits);
	sx_yw_map_end(&w);
	sx_yw_str(&w, "summary");
	sx_yw_map_begin(&w);
	sx_yw_kv_u64(&w, "occurrences", r->noccs);
	sx_yw_kv_u64(&w, "background-units", r->nbg);
	sx_yw_kv_u64(&w, "flows", r->nflows);
	sx_yw_kv_u64(&w, "clusters", r->nclusters);
	sx_yw_kv_u64(&w, "patterns", r->npatterns);
	sx_yw_kv_u64(&w, "background", r->nbackground);
	sx_yw_kv_u64(&w, "periodic", r->nperiodic);
	sx_yw_kv_u64(&w, "below-support", r->nbelow);
	if (o && o->schedule) {
		sx_yw_str(&w, "event-windows");
		sx_yw_map_begin_flow(&w);
		sx_yw_kv_u64(&w, "scheduled", o->schedule->scheduled);
		sx_yw_kv_u64(&w, "empty", o->schedule->empty);
		sx_yw_kv_u64(&w, "outside", o->schedule->outside);
		sx_yw_map_end(&w);
	}
	sx_yw_map_end(&w);
	units(&w, "occurrences", r->occs, r->noccs);
	units(&w, "background-units", r->bg, r->nbg);
	patterns(&w, "patterns", r, r->patterns, r->npatterns);
	patterns(&w, "background", r, r->background, r->nbackground);
	patterns(&w, "periodic", r, r->periodic, r->nperiodic);
	patterns(&w, "below-support", r, r->below, r->nbelow);
	if (o && o->between && o->between->npatterns + o->between->nperiodic) {
		const struct sx_mine_result *b = o->between;
		uint32_t i;

		sx_yw_str(&w, "between-events");
		sx_yw_seq_begin(&w);
		for (i = 0; i < b->npatterns; i++)
			pattern(&w, b, &b->patterns[i]);
		for (i = 0; i < b->nperiodic; i++)
			pattern(&w, b, &b->periodic[i]);
		sx_yw_seq_end(&w);
	}
	if (o && o->sections)
		o->sections(&w, o->sections_ctx);
	sx_yw_map_end(&w);
	ret = sx_yw_close(&w);
	if (ret && msg && msglen)
		snprintf(msg, msglen, "%s", w.problem[0] ? w.problem : "YAML error");
	return ret;
}
