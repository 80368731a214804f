/*
 * report.c - the report for people (pattern.txt, and the same on stdout).
 *
 * DESIGN.  The report opens with one summary line, then gives each pattern
 * of the signature in the reference tool's block format, the same one its
 * pattern file used (UPSTREAM.md 4.4), with Python reprs:
 *
 *   Pattern 1:
 *   IP Addresses: ('192.168.1.110', '192.168.1.135')
 *   Protocol: TCP
 *   Ports: [(9999, {'number': 3, 'host': ['192.168.1.135']}), (37626, ...)]
 *   Fixed port: 9999 -> ['192.168.1.135']
 *   Application Data: {'Length': {831: 3}, 'ApplicationSpecific': {...}, 'nbPacket': {10: 3}}
 *
 * where IP Addresses is (initiator end, other end), as the reference's
 * (DeviceHost, OtherHost); an end is shown by its name, "*.suffix" for a
 * generalised name, or its addresses joined by ",".  Ports lists, by
 * default, the three most used ports of each end (the seed README's rule;
 * the reference's code had drifted to all ports, overall), all of them with
 * --all-ports; entries are sorted by count, then port, and a port used by
 * both ends is one entry whose host is the server.  Fixed port is "None"
 * when the pattern has none.  Application Data holds the histograms of the
 * member flows' wire bytes, ApplicationSpecific texts and packet counts, in
 * member order, falsy values left out, as the reference did.
 *
 * An ARP pattern says "Protocol: ARP" and, after its Id, "ARP: <operation>
 * [(gratuitous)], sender MAC <sha>, target MAC <tha>" (the ends' most used
 * hardware addresses, "none" when no flow carried one).
 *
 * Then sigex's lines: Id, Support, Sessions (only when some member flows
 * continue a session open before their --events window), Ends (initiator,
 * client and server), No fixed port (a TCP or UDP pattern whose ports vary
 * on both ends, so that its policy can name none: said, not left implicit),
 * Packets and Bytes sent by each end (min / median / max), Duration, Start
 * offset (median, interquartile spread, min, max), Application (the parsed
 * fields), Order (position, and in how many occurrences it starts before
 * the next pattern).  After the signature: the typical order, then the
 * background patterns ("Background i:") and the periodic ones
 * ("Periodic i:") in the same format, with their background support or
 * period.  Every number is printed from integers (times in seconds with
 * six decimals), so the text is the same on every machine.
 */
#include "emit/emit.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "ingest/ingest.h"

#define TOP_PORTS 3

/* A Python repr of a str: quotes chosen as Python does, \\ and the quote
 * escaped, anything unprintable as \xNN (never met: texts are printable). */
static void py_str(struct sx_buf *b, const char *s)
{
	char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';

	sx_buf_putc(b, q);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\' || c == (unsigned char)q) {
			sx_buf_putc(b, '\\');
			sx_buf_putc(b, (char)c);
		} else if (c == '\n') {
			sx_buf_puts(b, "\\n");
		} else if (c == '\t') {
			sx_buf_puts(b, "\\t");
		} else if (c == '\r') {
			sx_buf_puts(b, "\\r");
		} else if (c < 0x20 || c >= 0x7f) {
			sx_buf_printf(b, "\\x%02x", c);
		} else {
			sx_buf_putc(b, (char)c);
		}
	}
	sx_buf_putc(b, q);
}

/* Seconds with six decimals from nanoseconds (rounded half up). */
static void secs(struct sx_buf *b, int64_t ns)
{
	uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
	uint64_t us = (a + 500) / 1000;

	sx_buf_printf(b, "%s%" PRIu64 ".%06" PRIu64, ns < 0 ? "-" : "", us / 1000000, us % 1000000);
}

static void stat3(struct sx_buf *b, const struct sx_mine_stat *s)
{
	sx_buf_printf(b, "%" PRId64 " / %" PRId64 " / %" PRId64, s->min, s->median, s->max);
}

static void stat3_secs(struct sx_buf *b, const struct sx_mine_stat *s)
{
	secs(b, s->min);
	sx_buf_puts(b, " / ");
	secs(b, s->median);
	sx_buf_puts(b, " / ");
	secs(b, s->max);
}

struct port_entry {
	uint16_t port;
	uint32_t count;
	const char *host;
};

static int port_entry_cmp(const void *a, const void *b)
{
	const struct port_entry *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->port < y->port ? -1 : x->port > y->port;
}

static void ports_line(struct sx_buf *b, const struct sx_mine_pattern *p, bool all)
{
	static const unsigned order[2] = {SX_MINE_SERVER, SX_MINE_CLIENT};
	const struct sx_mine_end *srv = &p->end[SX_MINE_SERVER], *cli = &p->end[SX_MINE_CLIENT];
	struct port_entry *e;
	size_t n = 0, i, j, cap = (size_t)srv->nports + cli->nports;
	unsigned r;

	sx_buf_puts(b, "Ports: [");
	e = calloc(cap ? cap : 1, sizeof(*e));
	if (!e) {
		b->err = b->err ? b->err : -ENOMEM;
		sx_buf_puts(b, "]\n");
		return;
	}
	for (r = 0; r < 2; r++) {
		const struct sx_mine_end *end = &p->end[order[r]];
		uint32_t lim = all || end->nports < TOP_PORTS ? end->nports : TOP_PORTS;

		for (i = 0; i < lim; i++) {
			for (j = 0; j < n && e[j].port != end->ports[i].port; j++)
				;
			if (j < n) {
				e[j].count += end->ports[i].count;
				continue;
			}
			e[n].port = end->ports[i].port;
			e[n].count = end->ports[i].count;
			e[n].host = end->shown;
			n++;
		}
	}
	qsort(e, n, sizeof(*e), port_entry_cmp);
	for (i = 0; i < n; i++) {
		sx_buf_printf(b, "%s(%u, {'number': %" PRIu32 ", 'host': [", i ? ", " : "",
			      e[i].port, e[i].count);
		py_str(b, e[i].host);
		sx_buf_puts(b, "]})");
	}
	sx_buf_puts(b, "]\n");
	free(e);
}

static void hist(struct sx_buf *b, const char *name, const struct sx_mine_hist *h, uint32_t n)
{
	uint32_t i;

	py_str(b, name);
	sx_buf_puts(b, ": {");
	for (i = 0; i < n; i++) {
		if (i)
			sx_buf_puts(b, ", ");
		if (h[i].str)
			py_str(b, h[i].str);
		else
			sx_buf_u64(b, h[i].num);
		sx_buf_printf(b, ": %" PRIu32, h[i].count);
	}
	sx_buf_putc(b, '}');
}

static void app_line(struct sx_buf *b, const struct sx_mine_pattern *p)
{
	const struct sx_mine_app *a = &p->app;

	sx_buf_printf(b, "Application: %s", sx_proto_name((enum sx_proto)a->proto));
	if (a->dns_name[0])
		sx_buf_printf(b, "; %s %s %s", a->mdns ? "mdns" : "dns", a->dns_qtype, a->dns_name);
	if (a->http_method[0])
		sx_buf_printf(b, "; http %s %s%s", a->http_method, a->http_host, a->http_uri);
	if (a->coap_type[0])
		sx_buf_printf(b, "; coap %s %s %s", a->coap_type, a->coap_method, a->coap_uri);
	if (a->ssdp_method[0])
		sx_buf_printf(b, "; ssdp %s %s", a->ssdp_method, a->ssdp_st);
	if (a->dhcp_type[0])
		sx_buf_printf(b, "; dhcp %s", a->dhcp_type);
	if (a->tls_sni[0])
		sx_buf_printf(b, "; tls sni %s", a->tls_sni);
	if (a->tplink_cmd[0])
		sx_buf_printf(b, "; tplink %s", a->tplink_cmd);
	if (a->mqtt_type[0])
		sx_buf_printf(b, "; mqtt %s %s", a->mqtt_type, a->mqtt_topic);
	if (a->ntp_version >= 0)
		sx_buf_printf(b, "; ntp v%d mode %d", a->ntp_version, a->ntp_mode);
	if (a->igmp_version >= 0)
		sx_buf_printf(b, "; igmp v%d type 0x%02x group %s", a->igmp_version, a->igmp_type,
			      a->igmp_group);
	if (a->icmp_type >= 0)
		sx_buf_printf(b, "; %s type %d code %d", a->icmp_v6 ? "icmpv6" : "icmp",
			      a->icmp_type, a->icmp_code);
	sx_buf_putc(b, '\n');
}

static const char *list_word(enum sx_mine_kind k)
{
	switch (k) {
	case SX_MINE_PATTERN:
		return "Pattern";
	case SX_MINE_BACKGROUND_PATTERN:
		return "Background";
	case SX_MINE_BELOW_SUPPORT:
		return "Below support";
	default:
		return "Periodic";
	}
}

static void block(struct sx_buf *b, const struct sx_mine_pattern *p, uint32_t total, bool all_ports)
{
	const struct sx_mine_end *ini =
	    &p->end[p->initiator == SX_MINE_SERVER ? SX_MINE_SERVER : SX_MINE_CLIENT];
	const struct sx_mine_end *oth =
	    &p->end[p->initiator == SX_MINE_SERVER ? SX_MINE_CLIENT : SX_MINE_SERVER];
	char tmp[32];

	sx_buf_printf(b, "%s %" PRIu32 ":\n", list_word((enum sx_mine_kind)p->kind), p->number);
	sx_buf_puts(b, "IP Addresses: (");
	py_str(b, ini->shown);
	sx_buf_puts(b, ", ");
	py_str(b, oth->shown);
	sx_buf_puts(b, ")\n");
	if (sx_mine_arp_op(p))
		sx_buf_puts(b, "Protocol: ARP\n");
	else
		sx_buf_printf(b, "Protocol: %s\n", sx_ip_proto_name(p->ip_proto, tmp, sizeof(tmp)));
	ports_line(b, p, all_ports);
	if (p->fixed_role != SX_MINE_NO_ROLE) {
		sx_buf_printf(b, "Fixed port: %u -> [", p->fixed_port);
		py_str(b, p->end[p->fixed_role].shown);
		sx_buf_puts(b, "]\n");
	} else {
		sx_buf_puts(b, "Fixed port: None\n");
	}
	sx_buf_puts(b, "Application Data: {");
	hist(b, "Length", p->hist_len, p->nhist_len);
	sx_buf_puts(b, ", ");
	hist(b, "ApplicationSpecific", p->hist_spec, p->nhist_spec);
	sx_buf_puts(b, ", ");
	hist(b, "nbPacket", p->hist_pkts, p->nhist_pkts);
	sx_buf_puts(b, "}\n");

	/* sigex's lines */
	sx_buf_printf(b, "Id: %s\n", p->id);
	if (sx_mine_arp_op(p)) {
		char sha[SX_MAC_TEXT_MAX], tha[SX_MAC_TEXT_MAX];

		sx_mac_str(p->end[SX_MINE_CLIENT].mac, sha, sizeof(sha));
		sx_mac_str(p->end[SX_MINE_SERVER].mac, tha, sizeof(tha));
		sx_buf_printf(b, "ARP: %s%s, sender MAC %s, target MAC %s\n", sx_mine_arp_op(p),
			      sx_mine_arp_gratuitous(p) ? " (gratuitous)" : "",
			      sha[0] ? sha : "none", tha[0] ? tha : "none");
	}
	sx_buf_printf(b, "Support: %" PRIu32 "/%" PRIu32 " occurrences, %" PRIu32 " flow%s\n",
		      p->support, p->noccs, p->nflows, p->nflows == 1 ? "" : "s");
	if (p->kind == SX_MINE_BACKGROUND_PATTERN)
		sx_buf_printf(b, "Background support: %" PRIu32 "/%" PRIu32 " background units\n",
			      p->bg_support, p->nbg);
	if (p->nsession)
		sx_buf_printf(b,
			      "Sessions: %" PRIu32 " of the %" PRIu32
			      " flows continue a session open before the event window\n",
			      p->nsession, p->nflows);
	sx_buf_printf(b, "Ends: initiator %s; client %s (%s), server %s (%s)\n",
		      sx_mine_role_name((enum sx_mine_role)p->initiator),
		      p->end[SX_MINE_CLIENT].shown,
		      sx_mine_host_kind_name((enum sx_mine_host_kind)p->end[SX_MINE_CLIENT].kind),
		      p->end[SX_MINE_SERVER].shown,
		      sx_mine_host_kind_name((enum sx_mine_host_kind)p->end[SX_MINE_SERVER].kind));
	if ((p->ip_proto == 6 || p->ip_proto == 17) && p->fixed_role == SX_MINE_NO_ROLE)
		sx_buf_printf(b,
			      "No fixed port: %" PRIu32 " client and %" PRIu32
			      " server ports; a policy admits any port of the protocol\n",
			      p->end[SX_MINE_CLIENT].nports, p->end[SX_MINE_SERVER].nports);
	sx_buf_puts(b, "Packets: client ");
	stat3(b, &p->pkts[SX_MINE_CLIENT]);
	sx_buf_puts(b, ", server ");
	stat3(b, &p->pkts[SX_MINE_SERVER]);
	sx_buf_puts(b, " (min / median / max)\nBytes: client ");
	stat3(b, &p->bytes[SX_MINE_CLIENT]);
	sx_buf_puts(b, ", server ");
	stat3(b, &p->bytes[SX_MINE_SERVER]);
	sx_buf_puts(b, " (min / median / max)\nDuration: ");
	stat3_secs(b, &p->duration_ns);
	sx_buf_puts(b, " s (min / median / max)\nStart offset: median ");
	secs(b, p->offset_ns.median);
	sx_buf_puts(b, " s, spread ");
	secs(b, p->offset_spread_ns);
	sx_buf_puts(b, " s (IQR), min ");
	secs(b, p->offset_ns.min);
	sx_buf_puts(b, " s, max ");
	secs(b, p->offset_ns.max);
	sx_buf_puts(b, " s\n");
	if (p->period_ns > 0 && p->kind == SX_MINE_PERIODIC) {
		sx_buf_puts(b, "Period: ");
		secs(b, p->period_ns);
		sx_buf_puts(b, " s\n");
	}
	app_line(b, p);
	sx_buf_printf(b, "Order: %" PRIu32 " of %" PRIu32, p->number, total);
	if (p->number < total)
		sx_buf_printf(
		    b, "; starts before %s %" PRIu32 " in %" PRIu32 "/%" PRIu32 " occurrences",
		    list_word((enum sx_mine_kind)p->kind), p->number + 1, p->next_agree,
		    p->next_both);
	sx_buf_puts(b, "\n\n");
}

static void list(struct sx_buf *b, const struct sx_mine_pattern *ps, uint32_t n, bool all_ports)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		block(b, &ps[i], n, all_ports);
}

#define BELOW_SHOWN 20 /* below-support lines in pattern.txt; all in signatures.yaml */

/* What recurs below the support, one line each, most supported first. */
static void below(struct sx_buf *b, const struct sx_mine_result *r)
{
	uint32_t i, s, shown = 0;
	char tmp[32];

	if (!r->nbelow)
		return;
	sx_buf_printf(b,
		      "%" PRIu32 " flow group(s) below support: in 2 to %" PRIu32 " of %" PRIu32
		      " occurrences, not part of the signature (all in signatures.yaml)\n",
		      r->nbelow, r->min_support - 1, r->noccs);
	for (s = r->min_support; s-- > 2;)
		for (i = 0; i < r->nbelow && shown < BELOW_SHOWN; i++) {
			const struct sx_mine_pattern *p = &r->below[i];

			if (p->support != s)
				continue;
			sx_buf_printf(b, "  %s %" PRIu32 "/%" PRIu32 ": %s", p->id, p->support,
				      p->noccs, sx_ip_proto_name(p->ip_proto, tmp, sizeof(tmp)));
			if (p->fixed_role != SX_MINE_NO_ROLE)
				sx_buf_printf(b, " %u", p->fixed_port);
			sx_buf_printf(b, " %s -> %s\n", p->end[SX_MINE_CLIENT].shown,
				      p->end[SX_MINE_SERVER].shown);
			shown++;
		}
	if (shown < r->nbelow)
		sx_buf_printf(b, "  ... and %" PRIu32 " more\n", r->nbelow - shown);
	sx_buf_putc(b, '\n');
}

static void percent(struct sx_buf *b, double f)
{
	long v = (long)(f * 1000.0 + 0.5);

	if (v % 10)
		sx_buf_printf(b, "%ld.%ld %%", v / 10, v % 10);
	else
		sx_buf_printf(b, "%ld %%", v / 10);
}

void sx_emit_report(struct sx_buf *b, const struct sx_mine_result *r, const struct sx_emit_opts *o)
{
	bool all = o && o->all_ports;
	uint32_t i;

	sx_buf_printf(b, "%" PRIu32 " pattern(s) found in %" PRIu32 " occurrence%s (support ",
		      r->npatterns, r->noccs, r->noccs == 1 ? "" : "s");
	percent(b, r->support);
	sx_buf_printf(b, ": at least %" PRIu32 " of %" PRIu32 ")", r->noccs ? r->min_support : 0,
		      r->noccs);
	if (r->nbg)
		sx_buf_printf(
		    b, "; %" PRIu32 " background pattern(s) from %" PRIu32 " background unit%s",
		    r->nbackground, r->nbg, r->nbg == 1 ? "" : "s");
	sx_buf_printf(b, "; %" PRIu32 " periodic pattern(s)\n", r->nperiodic);
	if (o && o->schedule)
		sx_buf_printf(b,
			      "Event windows: %u in the captures, of which %u without a packet of "
			      "the device (occurrences without the patterns); %u event(s) outside "
			      "every capture\n",
			      o->schedule->scheduled, o->schedule->empty, o->schedule->outside);
	sx_buf_putc(b, '\n');
	list(b, r->patterns, r->npatterns, all);
	if (r->npatterns) {
		sx_buf_puts(b, "Typical order:");
		for (i = 0; i < r->npatterns; i++)
			sx_buf_printf(b, "%s Pattern %" PRIu32, i ? " ->" : "",
				      r->patterns[i].number);
		sx_buf_puts(b, "\n\n");
	}
	if (r->nbackground) {
		sx_buf_printf(b,
			      "%" PRIu32 " background pattern(s): also in at least %" PRIu32
			      " of %" PRIu32 " background units, not part of the signature\n\n",
			      r->nbackground, r->min_bg_support, r->nbg);
		list(b, r->background, r->nbackground, all);
	}
	if (r->nperiodic) {
		sx_buf_printf(b,
			      "%" PRIu32 " periodic pattern(s): repeat at a steady period, not "
			      "locked to the event, not part of the signature\n\n",
			      r->nperiodic);
		list(b, r->periodic, r->nperiodic, all);
	}
	below(b, r);
}
