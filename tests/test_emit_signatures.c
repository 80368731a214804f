/*
 * test_emit_signatures.c - signatures.yaml: a valid YAML document that
 * libyaml reads back, with the schema's keys and the pattern's identity,
 * the same bytes for the same result, and write errors reported.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "emit/emit.h"
#include "mine/mine.h"

TestSuite(emit_signatures, .timeout = 30);

#define S 1000000000LL

/* A DNS question and a TLS session in each of n occurrences. */
static struct sx_mine_result *mine(unsigned n)
{
	static char files[16][32];
	struct sx_mine_result *res;
	struct sx_mine *m;
	unsigned i, k;

	cr_assert_eq(sx_mine_new(NULL, &m), 0);
	for (i = 0; i < n; i++) {
		snprintf(files[i], sizeof(files[i]), "%u.pcap", 1700000000 + i);
		for (k = 0; k < 2; k++) {
			struct sx_flow_row row;
			struct sx_flow_rec *r = &row.rec;
			bool tls = k == 1;

			memset(&row, 0, sizeof(row));
			/* the device's address is the higher one in both flows */
			cr_assert_eq(inet_pton(AF_INET, "192.168.1.135", r->key.hi_addr), 1);
			cr_assert_eq(inet_pton(AF_INET, tls ? "52.3.101.168" : "192.168.1.1",
					       r->key.lo_addr),
				     1);
			r->dev = 1; /* the device (hi) initiates */
			r->key.lo_port = tls ? 443 : 53;
			r->key.hi_port = (uint16_t)(40000 + 10 * i + k);
			r->key.proto = tls ? 6 : 17;
			r->key.family = 4;
			r->key.event = SX_FLOW_NO_EVENT;
			r->first_ns = (int64_t)i * 1000 * S + (tls ? S / 10 : 0);
			r->last_ns = r->first_ns + (tls ? S : S / 50);
			r->pkts[0] = tls ? 16 : 1;
			r->pkts[1] = tls ? 12 : 1;
			r->bytes[0] = tls ? 2225 : 81;
			r->bytes[1] = tls ? 7632 : 145;
			r->top_proto = tls ? SX_P_TLS : SX_P_DNS;
			snprintf(r->attrs, sizeof(r->attrs), "%s",
				 tls ? "tls.sni=api.vendor.example" : "dns.q=A:api.vendor.example");
			row.index = k;
			row.file = files[i];
			row.event_label = "";
			row.dev_host = "192.168.1.135";
			row.other_host = tls ? "api.vendor.example" : "192.168.1.1";
			row.dev_local = row.other_local = "";
			row.service_side = SX_SIDE_OTHER;
			row.service_port = r->key.lo_port;
			row.ephemeral_port = r->key.hi_port;
			cr_assert_eq(sx_mine_add_row(m, SX_MINE_EVENT, 0, &row), 0);
		}
	}
	cr_assert_eq(sx_mine_run(m, &res), 0);
	sx_mine_free(m);
	return res;
}

static char *yaml_text(const struct sx_mine_result *r)
{
	char *buf = NULL, msg[256];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(sx_emit_signatures(f, r, NULL, msg, sizeof(msg)), 0, "%s", msg);
	fclose(f);
	return buf;
}

/* Parse the whole document; count scalars equal to want. */
static int parse_count(const char *text, const char *want)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int n = 0, done = 0;

	cr_assert(yaml_parser_initialize(&p));
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	while (!done) {
		cr_assert(yaml_parser_parse(&p, &ev), "YAML error: %s", p.problem);
		if (ev.type == YAML_SCALAR_EVENT && want &&
		    !strcmp((const char *)ev.data.scalar.value, want))
			n++;
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return n;
}

Test(emit_signatures, valid_yaml_with_the_schema)
{
	struct sx_mine_result *r = mine(3);
	char *t = yaml_text(r);

	cr_assert_eq(r->npatterns, 2);
	cr_assert(!strncmp(t,
			   "sigex: signatures\nversion: 1\nmode: default\nparameters:\n"
			   "  support: 0.900000\n  min-support: 3\n",
			   strlen("sigex: signatures\nversion: 1\nmode: default\nparameters:\n"
				  "  support: 0.900000\n  min-support: 3\n")),
		  "%s", t);
	cr_assert_eq(parse_count(t, r->patterns[0].id), 1);
	cr_assert_eq(parse_count(t, r->patterns[1].id), 1);
	cr_assert_eq(parse_count(t, "patterns"), 2, "summary count and the list");
	cr_assert(strstr(t, "occurrences:\n- file: 1700000000.pcap\n  start: 0.000000000\n"
			    "  flows: 2\n"),
		  "%s", t);
	cr_assert(strstr(t, "  key: v1|17|fixed=server:53|client=self|server=a:192.168.1.1|"
			    "app=dns.q=A:api.vendor.example;\n"),
		  "%s", t);
	cr_assert(strstr(t, "  fixed-port: {port: 443, end: server}\n"), "%s", t);
	cr_assert(strstr(t, "    dns: {qtype: A, domain-name: api.vendor.example, mdns: false}\n"),
		  "%s", t);
	cr_assert(strstr(t, "    tls: {sni: api.vendor.example}\n"), "%s", t);
	cr_assert(strstr(t, "  support: {occurrences: 3, of: 3, flows: 3}\n"), "%s", t);
	cr_assert(strstr(t, "  in-occurrences: [0, 1, 2]\n"), "%s", t);
	cr_assert(strstr(t, "    duration: {min: 1.000000000, median: 1.000000000, "
			    "max: 1.000000000}\n"),
		  "%s", t);
	cr_assert(strstr(t, "  order: {position: 1, before-next: {agree: 3, of: 3}}\n"), "%s", t);
	cr_assert(strstr(t, "background: []\nperiodic: []\n"), "%s", t);
	free(t);
	sx_mine_result_free(r);
}

Test(emit_signatures, same_result_same_bytes)
{
	struct sx_mine_result *a = mine(4), *b = mine(4);
	char *ta = yaml_text(a), *tb = yaml_text(b);

	cr_assert_str_eq(ta, tb);
	free(ta);
	free(tb);
	sx_mine_result_free(a);
	sx_mine_result_free(b);
}

Test(emit_signatures, empty_result_is_a_document)
{
	struct sx_mine_result *r = mine(0);
	char *t = yaml_text(r);

	parse_count(t, NULL);
	cr_assert(strstr(t, "occurrences: []\nbackground-units: []\npatterns: []\n"), "%s", t);
	free(t);
	sx_mine_result_free(r);
}

Test(emit_signatures, write_errors_are_reported)
{
	struct sx_mine_result *r = mine(3);
	FILE *f = fopen("/dev/full", "w");
	char msg[256] = "";

	if (!f)
		cr_skip_test("no /dev/full");
	setvbuf(f, NULL, _IONBF, 0);
	cr_assert_neq(sx_emit_signatures(f, r, NULL, msg, sizeof(msg)), 0);
	cr_assert(msg[0]);
	fclose(f);
	sx_mine_result_free(r);
}
