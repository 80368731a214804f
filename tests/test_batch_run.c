/*
 * test_api_batch.c - the readers and rules of `sigex batch` and `sigex
 * check`, in process: names that become paths, device.yaml, the manifest,
 * the bounded YAML tree, --tolerance and the signature comparison; and a
 * run over a small archive: one pool of reader threads for every unit, and
 * the progress counted per capture (sx_batch_cfg.on_file).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "batch/batch.h"
#include "check/check.h"
#include "core/err.h"
#include "support/tmp.h"
#include "yaml/ydoc.h"

TestSuite(api_batch, .timeout = 60);

/* ---- names ---- */

Test(api_batch, names_that_stay_inside_out_are_accepted)
{
	static const char *const ok[] = {"TP-Link Plug", "plug", "Toggle Plug", "caf\xc3\xa9",
					 "a.b",		 "x..y", "1724059939",	"default"};
	char why[128];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		cr_expect_eq(sx_batch_name_check(ok[i], why, sizeof(why)), 0, "%s: %s", ok[i], why);
}

struct bad_name {
	const char *name;
	const char *why;
};

Test(api_batch, names_that_could_escape_are_refused)
{
	static const struct bad_name bad[] = {
	    {"", "empty"},
	    {".", "leave the output"},
	    {"..", "leave the output"},
	    {"../x", "separator"},
	    {"/etc", "separator"},
	    {"a/b", "separator"},
	    {"a\\b", "separator"},
	    {"a\nb", "control"},
	    {"tab\there", "control"},
	    {"del\x7f", "control"},
	    {"c1\xc2\x85", "control"},
	    {".hidden", "starts with '.'"},
	    {".sigex-unit", "starts with '.'"},
	    {"summary.csv", "batch writes"},
	    {"profile.yaml", "batch writes"},
	    {"\xff\xfe", "UTF-8"},
	    {"\xc0\xaf", "UTF-8"},
	    {"\xed\xa0\x80", "UTF-8"},
	};
	char why[128], longname[300];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		cr_expect_eq(sx_batch_name_check(bad[i].name, why, sizeof(why)), -EINVAL,
			     "accepted: [%s]", bad[i].name);
		cr_expect(strstr(why, bad[i].why), "[%s]: %s", bad[i].name, why);
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cr_expect_eq(sx_batch_name_check(longname, why, sizeof(why)), -EINVAL);
	longname[SX_BATCH_NAME_MAX] = '\0';
	cr_expect_eq(sx_batch_name_check(longname, why, sizeof(why)), 0);
}

/* ---- device.yaml ---- */

static int dparse(const char *text, struct sx_batch_device_cfg **c, char *msg, size_t msglen)
{
	msg[0] = '\0';
	return sx_batch_device_parse(text, strlen(text), c, msg, msglen);
}

Test(api_batch, device_yaml_full)
{
	static const char text[] = "# the lab's plug\n"
				   "name: TP-Link plug HS110\n"
				   "ipv4: 192.168.1.135\n"
				   "ipv6: fe80::1\n"
				   "mac: AA:bb:cc:dd:ee:ff\n"
				   "gateway: 192.168.1.1\n"
				   "phone: fe80::2\n"
				   "event: toggle\n"
				   "background: idle\n"
				   "window: 5\n"
				   "support: 0.8\n"
				   "stats: true\n"
				   "events:\n"
				   "  toggle: {window: 2.5, support: 1}\n"
				   "  on:\n"
				   "    duration: 20\n"
				   "    idle-timeout: 60\n"
				   "  off:\n";
	struct sx_batch_device_cfg *c = NULL;
	const struct sx_batch_event_cfg *e;
	char msg[256];

	cr_assert_eq(dparse(text, &c, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_str_eq(c->name, "TP-Link plug HS110");
	cr_assert_str_eq(c->ipv4, "192.168.1.135");
	cr_assert_str_eq(c->ipv6, "fe80::1");
	cr_assert_str_eq(c->mac, "AA:bb:cc:dd:ee:ff");
	cr_assert_str_eq(c->gateway, "192.168.1.1");
	cr_assert_str_eq(c->phone, "fe80::2");
	cr_assert_str_eq(c->event, "toggle");
	cr_assert_str_eq(c->background, "idle");
	cr_assert_eq(c->opts.set, SX_BATCH_OPT_WINDOW | SX_BATCH_OPT_SUPPORT | SX_BATCH_OPT_STATS);
	cr_assert_float_eq(c->opts.window, 5, 1e-9);
	cr_assert_float_eq(c->opts.support, 0.8, 1e-9);
	cr_assert(c->opts.stats);
	cr_assert_eq(c->nevents, 3);
	e = sx_batch_device_event(c, "toggle");
	cr_assert_not_null(e);
	cr_assert_eq(e->opts.set, SX_BATCH_OPT_WINDOW | SX_BATCH_OPT_SUPPORT);
	cr_assert_float_eq(e->opts.window, 2.5, 1e-9);
	e = sx_batch_device_event(c, "on");
	cr_assert_not_null(e);
	cr_assert_eq(e->opts.set, SX_BATCH_OPT_DURATION | SX_BATCH_OPT_IDLE);
	cr_assert_float_eq(e->opts.idle, 60, 1e-9);
	e = sx_batch_device_event(c, "off");
	cr_assert_not_null(e);
	cr_assert_eq(e->opts.set, 0);
	cr_assert_null(sx_batch_device_event(c, "dim"));
	sx_batch_device_free(c);
}

Test(api_batch, device_yaml_empty_means_defaults)
{
	static const char *const texts[] = {"", "# nothing\n", "---\n", "~\n"};
	struct sx_batch_device_cfg *c;
	char msg[256];
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		c = NULL;
		cr_assert_eq(dparse(texts[i], &c, msg, sizeof(msg)), 0, "[%s]: %s", texts[i], msg);
		cr_assert_null(c->ipv4);
		cr_assert_null(c->event);
		cr_assert_eq(c->nevents, 0);
		sx_batch_device_free(c);
	}
}

Test(api_batch, merged_options_event_wins)
{
	struct sx_batch_opts cmdline = {
	    .set = SX_BATCH_OPT_SUPPORT | SX_BATCH_OPT_WINDOW, .support = 0.9, .window = 5};
	struct sx_batch_opts dev = {.set = SX_BATCH_OPT_SUPPORT, .support = 0.7};
	struct sx_batch_opts ev = {
	    .set = SX_BATCH_OPT_WINDOW | SX_BATCH_OPT_STATS, .window = 1, .stats = true};
	struct sx_batch_opts o = cmdline;

	sx_batch_opts_merge(&o, &dev);
	sx_batch_opts_merge(&o, &ev);
	cr_assert_float_eq(o.support, 0.7, 1e-9);
	cr_assert_float_eq(o.window, 1, 1e-9);
	cr_assert(o.stats);
	cr_assert_eq(o.set, SX_BATCH_OPT_SUPPORT | SX_BATCH_OPT_WINDOW | SX_BATCH_OPT_STATS);
}

struct bad_yaml {
	const char *text;
	const char *msg;
};

Test(api_batch, device_yaml_errors_name_the_line)
{
	static const struct bad_yaml bad[] = {
	    {"name: plug\nipv: 1.2.3.4\n", "line 2: unknown key \"ipv\""},
	    {"ipv4: 1.2.3.4\nipv4: 1.2.3.5\n", "line 2: ipv4 given twice"},
	    {"ipv4: 1.2.3\n", "line 1: ipv4: not an IPv4 address"},
	    {"ipv4: fe80::1\n", "not an IPv4 address"},
	    {"ipv6: 1.2.3.4\n", "not an IPv6 address"},
	    {"gateway: nowhere\n", "gateway: not an IP address"},
	    {"mac: aa:bb:cc:dd:ee\n", "mac: expected"},
	    {"mac: aa:bb-cc:dd:ee:ff\n", "mac: expected"},
	    {"support: 0\n", "support: expected a fraction"},
	    {"support: 1.5\n", "support: expected a fraction"},
	    {"window: -1\n", "window: expected a number of seconds"},
	    {"duration: 0\n", "duration: expected a positive number"},
	    {"stats: maybe\n", "stats: expected true or false"},
	    {"event: ../up\n", "event: \"../up\": contains a path separator"},
	    {"event: ..\n", "would leave the output directory"},
	    {"background: .hidden\n", "starts with '.'"},
	    {"events:\n  \"a\\nb\": {}\n", "contains a control character"},
	    {"events:\n  on: {window: 1, colour: red}\n", "unknown option \"colour\""},
	    {"events:\n  on: 5\n", "expected a mapping of options"},
	    {"events: [on, off]\n", "expected a mapping of event names"},
	    {"events:\n  on: {}\n  on: {}\n", "\"on\" given twice"},
	    {"event: idle\nbackground: idle\n", "the same directory"},
	    {"name: [a, b]\n", "name: expected a single value"},
	    {"- a\n- b\n", "expected a mapping"},
	    {"a: &x 1\nb: *x\n", "aliases"},
	    {"name: a\n---\nname: b\n", "more than one document"},
	    {"name: \"a\\0b\"\n", "NUL"},
	    {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]"
	     "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	     "nested too deeply"},
	    {"name: 'unterminated\n", "line"},
	    {"{a: 1}: 2\n", "key must be a scalar"},
	};
	struct sx_batch_device_cfg *c;
	char msg[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = NULL;
		cr_expect_eq(dparse(bad[i].text, &c, msg, sizeof(msg)), SX_E_FORMAT, "accepted: %s",
			     bad[i].text);
		cr_expect_null(c);
		cr_expect(strstr(msg, bad[i].msg), "[%s] -> %s (expected %s)", bad[i].text, msg,
			  bad[i].msg);
	}
}

Test(api_batch, device_yaml_takes_any_bytes)
{
	char buf[512], msg[256];
	struct sx_batch_device_cfg *c;
	unsigned seed = 1, round, i;

	for (round = 0; round < 2000; round++) {
		size_t n = (size_t)(rand_r(&seed) % sizeof(buf));

		for (i = 0; i < n; i++)
			buf[i] = (char)"ab: \n-[]{}&*'\"\\#:,.0\t\x01\xff"[rand_r(&seed) % 24];
		c = NULL;
		if (sx_batch_device_parse(buf, n, &c, msg, sizeof(msg)) == 0)
			sx_batch_device_free(c);
	}
}

/* ---- the manifest ---- */

static int mparse(const char *text, size_t len, struct sx_batch_manifest **m, char *msg,
		  size_t msglen)
{
	msg[0] = '\0';
	return sx_batch_manifest_parse(text, len, m, msg, msglen);
}

Test(api_batch, manifest_rows_roles_and_quotes)
{
	static const char text[] = "\xef\xbb\xbf"
				   "device,event,path,role\r\n"
				   "# a comment\n"
				   "\n"
				   "plug,on,captures/1.pcap\n"
				   "plug,on,\"captures/with, comma.pcap\",capture\n"
				   "  plug , off , captures/2.pcap \n"
				   "plug,,idle.pcap,BACKGROUND\n"
				   "plug,,plug/device.yaml,config\n"
				   "plug,,plug/events.csv,events\n"
				   "\"cam\nera\",\"say \"\"hi\"\"\",x.pcap\n"
				   "last,,long.pcap";
	struct sx_batch_manifest *m = NULL;
	char msg[256];

	cr_assert_eq(mparse(text, sizeof(text) - 1, &m, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(m->n, 8);
	cr_assert_str_eq(m->rows[0].device, "plug");
	cr_assert_str_eq(m->rows[0].event, "on");
	cr_assert_str_eq(m->rows[0].path, "captures/1.pcap");
	cr_assert_eq(m->rows[0].role, SX_BATCH_ROLE_CAPTURE);
	cr_assert_eq(m->rows[0].line, 4);
	cr_assert_str_eq(m->rows[1].path, "captures/with, comma.pcap");
	cr_assert_str_eq(m->rows[2].device, "plug");
	cr_assert_str_eq(m->rows[2].event, "off");
	cr_assert_str_eq(m->rows[2].path, "captures/2.pcap");
	cr_assert_eq(m->rows[3].role, SX_BATCH_ROLE_BACKGROUND);
	cr_assert_eq(m->rows[4].role, SX_BATCH_ROLE_CONFIG);
	cr_assert_eq(m->rows[5].role, SX_BATCH_ROLE_EVENTS);
	cr_assert_str_eq(m->rows[6].device, "cam\nera");
	cr_assert_str_eq(m->rows[6].event, "say \"hi\"");
	cr_assert_eq(m->rows[6].line, 10);
	cr_assert_str_eq(m->rows[7].path, "long.pcap");
	cr_assert_eq(m->rows[7].line, 12);
	sx_batch_manifest_free(m);
}

Test(api_batch, manifest_errors_name_the_line)
{
	static const struct bad_yaml bad[] = {
	    {"", "no capture listed"},
	    {"# only a comment\n", "no capture listed"},
	    {"device,event,path\n", "no capture listed"},
	    {"plug,on\n", "line 1: expected device,event,path[,role]"},
	    {"a,b,c\nplug,on,x.pcap,capture,extra\n", "line 2: expected"},
	    {"plug,on,x.pcap,sometimes\n", "unknown role \"sometimes\""},
	    {",on,x.pcap\n", "empty device"},
	    {"plug,on,\n", "empty path"},
	    {"plug,on,x.pcap,config\n", "a config row names no event"},
	    {"plug,on,\"x.pcap\n", "unterminated quoted field"},
	    {"plug,on,\"x\"y.pcap\n", "text after a closing quote"},
	    {"plug,on,x\"y.pcap\n", "quote inside an unquoted field"},
	};
	struct sx_batch_manifest *m;
	char msg[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = NULL;
		cr_expect_eq(mparse(bad[i].text, strlen(bad[i].text), &m, msg, sizeof(msg)),
			     SX_E_FORMAT, "accepted: %s", bad[i].text);
		cr_expect_null(m);
		cr_expect(strstr(msg, bad[i].msg), "[%s] -> %s", bad[i].text, msg);
	}
	m = NULL;
	cr_expect_eq(mparse("plug,on,a\0b.pcap\n", 17, &m, msg, sizeof(msg)), SX_E_FORMAT);
	cr_expect(strstr(msg, "NUL"), "%s", msg);
}

Test(api_batch, manifest_long_fields_are_refused)
{
	size_t n = 5000, len;
	char *text = malloc(n + 32);
	struct sx_batch_manifest *m = NULL;
	char msg[256];

	cr_assert_not_null(text);
	memcpy(text, "plug,on,", 8);
	memset(text + 8, 'x', n);
	len = 8 + n;
	text[len++] = '\n';
	cr_expect_eq(mparse(text, len, &m, msg, sizeof(msg)), SX_E_FORMAT);
	cr_expect(strstr(msg, "longer than"), "%s", msg);
	free(text);
}

Test(api_batch, manifest_takes_any_bytes)
{
	char buf[256], msg[256];
	struct sx_batch_manifest *m;
	unsigned seed = 7, round, i;

	for (round = 0; round < 3000; round++) {
		size_t n = (size_t)(rand_r(&seed) % sizeof(buf));

		for (i = 0; i < n; i++)
			buf[i] = (char)"ab,\"\n\r #x\t\x01\xff"[rand_r(&seed) % 13];
		m = NULL;
		if (sx_batch_manifest_parse(buf, n, &m, msg, sizeof(msg)) == 0)
			sx_batch_manifest_free(m);
	}
}

/* ---- the YAML tree ---- */

Test(api_batch, ytree_round_trip_keeps_styles)
{
	static const char text[] = "a: 1\n"
				   "b: \"2023-11-14T22:13:20+00:00\"\n"
				   "c: {}\n"
				   "d:\n"
				   "- x\n"
				   "- 'y z'\n"
				   "e: [1, 2]\n";
	struct sx_ytree *t = NULL;
	char msg[256], *out = NULL;
	size_t len = 0;
	FILE *f;

	cr_assert_eq(sx_ytree_parse(text, strlen(text), NULL, &t, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_str_eq(sx_ytree_str(sx_ytree_get(t, "a")), "1");
	cr_assert_eq(sx_ytree_get(t, "d")->n, 2);
	cr_assert_eq(sx_ytree_get(t, "d")->kids[1]->line, 6);
	f = open_memstream(&out, &len);
	cr_assert_not_null(f);
	cr_assert_eq(sx_ytree_emit(f, t, msg, sizeof(msg)), 0, "%s", msg);
	fclose(f);
	cr_assert_str_eq(out, text);
	free(out);
	sx_ytree_free(t);
}

Test(api_batch, ytree_limits)
{
	struct sx_ytree_limits lim = {.max_depth = 64, .max_nodes = 10, .max_scalar = 4};
	struct sx_ytree *t = NULL;
	char msg[256];

	cr_assert_eq(sx_ytree_parse("[1,2,3,4,5,6,7,8,9,10,11]", 25, &lim, &t, msg, sizeof(msg)),
		     SX_E_FORMAT);
	cr_assert(strstr(msg, "too many nodes"), "%s", msg);
	cr_assert_eq(sx_ytree_parse("abcdef", 6, &lim, &t, msg, sizeof(msg)), SX_E_FORMAT);
	cr_assert(strstr(msg, "scalar too long"), "%s", msg);
	cr_assert_null(t);
}

/* ---- check ---- */

Test(api_batch, tolerance_spec)
{
	struct sx_check_tol t;
	char msg[256];

	sx_check_tol_default(&t);
	cr_assert_float_eq(t.rel[SX_CHECK_COUNT], 0.10, 1e-12);
	cr_assert_float_eq(t.abs[SX_CHECK_TIME], 0.5, 1e-12);
	cr_assert_float_eq(t.rel[SX_CHECK_SUPPORT], 0, 1e-12);
	cr_assert_eq(sx_check_tol_parse(&t, "count=5%,time=2,support=1,order=0%", msg, sizeof(msg)),
		     0, "%s", msg);
	cr_assert_float_eq(t.rel[SX_CHECK_COUNT], 0.05, 1e-12);
	cr_assert_float_eq(t.abs[SX_CHECK_TIME], 2, 1e-12);
	cr_assert_float_eq(t.abs[SX_CHECK_SUPPORT], 1, 1e-12);
	cr_assert_eq(sx_check_tol_parse(&t, "0", msg, sizeof(msg)), 0);
	cr_assert_float_eq(t.abs[SX_CHECK_TIME], 0, 1e-12);
	cr_assert_float_eq(t.abs[SX_CHECK_ORDER], 0, 1e-12);
	cr_assert_eq(sx_check_tol_parse(&t, "50%", msg, sizeof(msg)), 0);
	cr_assert_float_eq(t.rel[SX_CHECK_ORDER], 0.5, 1e-12);
	cr_assert_eq(sx_check_tol_parse(&t, "colour=1", msg, sizeof(msg)), -EINVAL);
	cr_assert(strstr(msg, "unknown class"), "%s", msg);
	cr_assert_eq(sx_check_tol_parse(&t, "count=-1", msg, sizeof(msg)), -EINVAL);
	cr_assert_eq(sx_check_tol_parse(&t, "count=", msg, sizeof(msg)), -EINVAL);
	cr_assert_eq(sx_check_tol_parse(&t, "count=1,,time=1", msg, sizeof(msg)), -EINVAL);
	cr_assert_eq(sx_check_tol_parse(&t, "", msg, sizeof(msg)), -EINVAL);
}

static const char doc_head[] = "sigex: signatures\n"
			       "version: 1\n"
			       "mode: default\n"
			       "parameters: {support: 0.900000}\n"
			       "summary: {occurrences: 3, flows: 10}\n"
			       "occurrences:\n"
			       "- {file: a/1.pcap, start: 1.000000000, flows: 4}\n"
			       "- {file: a/2.pcap, start: 2.000000000, flows: 3}\n"
			       "- {file: a/3.pcap, start: 3.000000000, flows: 3}\n";

/* A document with patterns p-1 (dns) and p-2 (https), values set by args. */
static struct sx_ytree *doc(const char *p1_bytes, const char *p1_support, const char *p2_list,
			    const char *p2_ports, bool with_p3)
{
	char *text = NULL, msg[256];
	struct sx_ytree *t = NULL;
	int n;

	n = asprintf(&text,
		     "%s"
		     "patterns:\n"
		     "- id: p-000000000001\n"
		     "  number: 1\n"
		     "  key: v1|17|dns\n"
		     "  fixed-port: {port: 53, end: server}\n"
		     "  client: {kind: addresses, addresses: [10.0.0.2], ports: [{port: 5000, "
		     "flows: 1}, {port: 5001, flows: 2}]}\n"
		     "  server: {kind: addresses, addresses: [10.0.0.1], ports: [{port: 53, flows: "
		     "3}]}\n"
		     "  attributes:\n"
		     "  - {key: dns.q, value: A:example.com, flows: 3, generalised: false}\n"
		     "  support: {occurrences: %s, of: 3, flows: 3}\n"
		     "  in-occurrences: [0, 1, 2]\n"
		     "  statistics:\n"
		     "    bytes: {client: {min: 60, median: 62, max: %s}}\n"
		     "    duration: {min: 0.010000000, median: 0.020000000, max: 0.030000000}\n"
		     "%s:\n"
		     "- id: p-000000000002\n"
		     "  number: 1\n"
		     "  key: v1|6|https\n"
		     "  fixed-port: {port: 443, end: server}\n"
		     "  server: {kind: name, addresses: [1.2.3.4], ports: [%s]}\n"
		     "  support: {occurrences: 3, of: 3, flows: 3}\n"
		     "%s",
		     doc_head, p1_support, p1_bytes, p2_list, p2_ports,
		     with_p3 ? "- id: p-000000000003\n  number: 2\n  key: v1|17|ntp\n" : "");
	cr_assert(n > 0);
	cr_assert_eq(sx_ytree_parse(text, strlen(text), NULL, &t, msg, sizeof(msg)), 0, "%s\n%s",
		     msg, text);
	free(text);
	return t;
}

static const struct sx_check_change *find_change(const struct sx_check_pattern *p,
						 const char *field)
{
	size_t i;

	for (i = 0; i < p->nchanges; i++)
		if (strcmp(p->changes[i].field, field) == 0)
			return &p->changes[i];
	return NULL;
}

static void compare(struct sx_ytree *a, struct sx_ytree *b, const char *tol,
		    struct sx_check_unit *u)
{
	struct sx_check_tol t;
	char msg[256];

	sx_check_tol_default(&t);
	if (tol)
		cr_assert_eq(sx_check_tol_parse(&t, tol, msg, sizeof(msg)), 0, "%s", msg);
	memset(u, 0, sizeof(*u));
	cr_assert_eq(sx_check_compare(a, b, &t, u, msg, sizeof(msg)), 0, "%s", msg);
	sx_ytree_free(a);
	sx_ytree_free(b);
}

Test(api_batch, check_same_document_agrees)
{
	struct sx_check_unit u;

	compare(doc("64", "3", "periodic", "{port: 443, flows: 3}", false),
		doc("64", "3", "periodic", "{port: 443, flows: 3}", false), NULL, &u);
	cr_assert_eq(u.state, SX_CHECK_AGREE);
	cr_assert_eq(u.nchanges + u.npatterns, 0);
	cr_assert_eq(u.base_patterns, 1);
	sx_check_unit_fini(&u);
}

Test(api_batch, check_statistics_within_tolerance_agree)
{
	struct sx_check_unit u;

	/* 64 -> 70: 8.6 % of 70, inside the default 10 % */
	compare(doc("64", "3", "periodic", "{port: 443, flows: 3}", false),
		doc("70", "3", "periodic", "{port: 443, flows: 3}", false), NULL, &u);
	cr_assert_eq(u.state, SX_CHECK_AGREE);
	sx_check_unit_fini(&u);
	compare(doc("64", "3", "periodic", "{port: 443, flows: 3}", false),
		doc("70", "3", "periodic", "{port: 443, flows: 3}", false), "count=5%", &u);
	cr_assert_eq(u.state, SX_CHECK_DIFFER);
	cr_assert_eq(u.changed, 1);
	cr_assert_not_null(find_change(&u.patterns[0], "statistics.bytes.client.max"));
	cr_assert_eq(find_change(&u.patterns[0], "statistics.bytes.client.max")->cls,
		     SX_CHECK_COUNT);
	sx_check_unit_fini(&u);
}

Test(api_batch, check_reports_each_kind_of_difference)
{
	const struct sx_check_change *c;
	struct sx_check_unit u;
	size_t i;
	bool seen[3] = {false, false, false};

	compare(doc("64", "3", "periodic", "{port: 443, flows: 3}", false),
		doc("64", "2", "background", "{port: 8443, flows: 3}", true), NULL, &u);
	cr_assert_eq(u.state, SX_CHECK_DIFFER);
	cr_assert_eq(u.added, 1);
	cr_assert_eq(u.removed, 0);
	cr_assert_eq(u.changed, 2);
	for (i = 0; i < u.npatterns; i++) {
		const struct sx_check_pattern *p = &u.patterns[i];

		if (strcmp(p->id, "p-000000000001") == 0) {
			seen[0] = true;
			cr_assert_eq(p->state, SX_CHECK_CHANGED);
			c = find_change(p, "support.occurrences");
			cr_assert_not_null(c);
			cr_assert_str_eq(c->base, "3");
			cr_assert_str_eq(c->out, "2");
			cr_assert_eq(c->cls, SX_CHECK_SUPPORT);
			/* in-occurrences and the client's (ephemeral) ports are not compared */
			cr_assert_eq(p->nchanges, 1);
		} else if (strcmp(p->id, "p-000000000002") == 0) {
			seen[1] = true;
			c = find_change(p, "list");
			cr_assert_not_null(c);
			cr_assert_str_eq(c->base, "periodic");
			cr_assert_str_eq(c->out, "background");
			c = find_change(p, "server.ports[443]");
			cr_assert_not_null(c);
			cr_assert_null(c->out);
			c = find_change(p, "server.ports[8443]");
			cr_assert_not_null(c);
			cr_assert_null(c->base);
		} else {
			seen[2] = true;
			cr_assert_str_eq(p->id, "p-000000000003");
			cr_assert_eq(p->state, SX_CHECK_ADDED);
			cr_assert_str_eq(p->list, "background");
		}
	}
	cr_assert(seen[0] && seen[1] && seen[2]);
	sx_check_unit_fini(&u);
}

Test(api_batch, check_refuses_other_documents)
{
	struct sx_ytree *a = NULL, *b = NULL;
	struct sx_check_tol t;
	struct sx_check_unit u = {0};
	char msg[256];

	sx_check_tol_default(&t);
	cr_assert_eq(sx_ytree_parse("device-info: {}\n", 16, NULL, &a, msg, sizeof(msg)), 0);
	b = doc("64", "3", "periodic", "", false);
	cr_assert_eq(sx_check_compare(a, b, &t, &u, msg, sizeof(msg)), SX_E_FORMAT);
	cr_assert(strstr(msg, "baseline: not a sigex signatures.yaml"), "%s", msg);
	sx_check_unit_fini(&u);
	sx_ytree_free(a);
	sx_ytree_free(b);
}

/* ---- the run: one pool of readers, progress per capture ---- */

#define DEMO	    SX_BUILD_DIR "/corpora/demo"
#define MAX_READERS 16

struct seen_files {
	pthread_mutex_t lock;
	struct sx_batch *b;
	uint64_t calls;
	uint64_t max_bytes;
	uint8_t *files_seen; /* by files_done value */
	size_t nseen;
	bool counts_behind; /* sx_batch_progress() lagged a value already handed out */
	long tids[MAX_READERS];
	unsigned units_of[MAX_READERS]; /* bit per unit (by device name) */
	unsigned ntids;
};

static void quiet_log(void *arg, enum sx_log_level level, const char *text)
{
	(void)arg;
	(void)level;
	(void)text;
}

static void on_file(void *arg, const struct sx_batch_file_event *e)
{
	struct seen_files *s = arg;
	struct sx_batch_progress p;
	long t = (long)syscall(SYS_gettid);
	unsigned i, unit = (unsigned)(e->device[4] - '0'); /* "plugN" */

	sx_batch_progress(s->b, &p);
	pthread_mutex_lock(&s->lock);
	s->calls++;
	if (e->files_done < s->nseen)
		s->files_seen[e->files_done]++;
	if (e->bytes_done > s->max_bytes)
		s->max_bytes = e->bytes_done;
	if (p.files_done < e->files_done || p.bytes_done < e->bytes_done)
		s->counts_behind = true;
	for (i = 0; i < s->ntids && s->tids[i] != t; i++)
		;
	if (i == s->ntids && s->ntids < MAX_READERS)
		s->tids[s->ntids++] = t;
	if (i < MAX_READERS)
		s->units_of[i] |= 1u << unit;
	pthread_mutex_unlock(&s->lock);
}

Test(api_batch, one_reader_pool_for_the_archive_and_progress_per_capture)
{
	struct seen_files s = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct sx_batch_cfg cfg = {.threads = 2,
				   .log = quiet_log,
				   .on_file = on_file,
				   .on_file_arg = &s,
				   .last_update = "2023-11-14T22:13:20+00:00"};
	struct sx_batch_progress p;
	struct sx_batch *b = NULL;
	char *dir, *arch, *out, *cmd, *sum;
	unsigned i, multi = 0;
	struct stat st;

	if (stat(DEMO "/truth.txt", &st) != 0)
		sx_tt_skip_missing("generated corpus missing: %s", DEMO);
	dir = sx_tt_tmpdir();
	cr_assert_not_null(dir);
	arch = sx_tt_path(dir, "arch");
	out = sx_tt_path(dir, "out");
	/* three units of the demo captures; the first with its idle captures
	 * as background, the last with its address inferred */
	cr_assert(
	    asprintf(&cmd,
		     "cd '%s' && mkdir -p arch/plug1/on arch/plug1/idle arch/plug2/on "
		     "arch/plug3/on out && cp '%s'/17*.pcap arch/plug1/on/ && "
		     "cp '%s'/idle-*.pcap arch/plug1/idle/ && cp '%s'/17*.pcap arch/plug2/on/ && "
		     "cp '%s'/170000[0-2]*.pcap arch/plug3/on/ && "
		     "printf 'ipv4: 192.168.1.50\\nbackground: idle\\n' >arch/plug1/device.yaml && "
		     "printf 'ipv4: 192.168.1.50\\n' >arch/plug2/device.yaml",
		     dir, DEMO, DEMO, DEMO, DEMO) > 0);
	cr_assert_eq(sx_tt_run(cmd, NULL, NULL), 0, "%s", cmd);
	free(cmd);
	cfg.out = out;
	cr_assert_eq(sx_batch_new(&cfg, &b), 0);
	s.b = b;
	cr_assert_eq(chdir(arch), 0);
	cr_assert_eq(sx_batch_scan_archive(b), 0);
	sx_batch_progress(b, &p);
	cr_assert_eq(p.units, 3);
	s.nseen = p.files + 1;
	s.files_seen = calloc(s.nseen, 1);
	cr_assert_not_null(s.files_seen);
	cr_assert_eq(sx_batch_run(b), 0);
	cr_assert_eq(sx_batch_write_summary(b), 0);
	sx_batch_progress(b, &p);

	/* every capture read counted once, as it was read: the counts handed
	 * out are 1, 2, ... files, each exactly once, up to the totals */
	cr_assert_eq(p.units_done, 3);
	cr_assert_eq(p.units_failed + p.units_partial, 0);
	cr_assert_eq(p.files, 10 + 3 + 10 + 5, "files %llu", (unsigned long long)p.files);
	cr_assert_eq(s.calls, p.files);
	for (i = 1; i <= p.files; i++)
		cr_expect_eq(s.files_seen[i], 1, "files_done %u handed out %u times", i,
			     s.files_seen[i]);
	cr_assert_eq(p.files_done, p.files);
	cr_assert_eq(p.bytes_done, p.bytes);
	cr_assert_eq(s.max_bytes, p.bytes);
	cr_assert(!s.counts_behind, "sx_batch_progress() went back");

	/* one pool: at most -j reader threads read every capture, never the
	 * caller's, and one of them read captures of two units or more */
	cr_assert(s.ntids >= 1 && s.ntids <= 2, "%u readers", s.ntids);
	for (i = 0; i < s.ntids; i++) {
		cr_assert_neq(s.tids[i], (long)syscall(SYS_gettid));
		multi += (s.units_of[i] & (s.units_of[i] - 1)) != 0;
	}
	cr_assert_geq(multi, 1);

	cmd = sx_tt_path(out, "summary.csv");
	sum = sx_tt_read(cmd, NULL);
	free(cmd);
	cr_assert_not_null(sum);
	cr_assert(strstr(sum, "\nplug1,on,10,"), "%s", sum);
	cr_assert(strstr(sum, "\nplug3,on,5,"), "%s", sum);
	free(sum);
	sx_batch_free(b);
	free(s.files_seen);
	sx_tt_rm_tree(dir);
	free(arch);
	free(out);
	free(dir);
}
