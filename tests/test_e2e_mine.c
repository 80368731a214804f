/*
 * test_e2e_mine.c - the default miner end to end: captures -> flows ->
 * mine -> pattern.txt and signatures.yaml.
 *
 *   - golden: the reference tool's three TP-Link toggle captures give
 *     exactly its three patterns (phone -> plug TCP 9999, DNS A
 *     use1-api.tplinkra.com to 192.168.1.1:53, TLS to use1-api.tplinkra.com
 *     port 443); the plug's periodic UDP 9999 replies are set apart;
 *   - synthetic: the generated demo and synth corpora (build tree), mined
 *     with their idle captures as background, give exactly the event flows
 *     of truth.txt and no background flow;
 *   - the flow-CSV path (`sigex flows` then `sigex mine`, in-process and as
 *     programs) gives the same bytes as the in-process pipeline;
 *   - the bytes do not depend on threads, seeds or the order of the inputs;
 *   - `sigex mine` exit codes and options.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "emit/emit.h"
#include "flows/flows.h"
#include "ingest/ingest.h"
#include "mine/mine.h"
#include "support/tmp.h"

TestSuite(e2e_mine, .timeout = 300);

#define TRACES SX_SHARED_CORPORA "/smart-home-network-security+signature-extraction/test/traces"
#define NS     SX_NS_PER_SEC

static const char *const tplink[] = {TRACES "/1724059939.pcap", TRACES "/1724060053.pcap",
				     TRACES "/1724060140.pcap"};

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static struct sx_flows_cfg flows_cfg(uint64_t seed)
{
	struct sx_flows_cfg cfg = {.seed = seed,
				   .idle_ns = (int64_t)SX_FLOWS_IDLE_DEFAULT * NS,
				   .window_ns = (int64_t)SX_FLOWS_WINDOW_DEFAULT * NS,
				   .duration_ns = (int64_t)SX_FLOWS_DURATION_DEFAULT * NS};

	return cfg;
}

/* The flow stage in-process on paths (shown by their base names), each row
 * to the miner. */
static void feed(struct sx_mine *m, enum sx_mine_set set, int src, const char *const *paths,
		 unsigned n, unsigned nthreads, uint64_t seed)
{
	struct sx_flows_cfg cfg = flows_cfg(seed);
	struct sx_mine_sink sink = {m, set, src};
	struct sx_file_status *status = calloc(n, sizeof(*status));
	const char **shown = calloc(n, sizeof(*shown));
	struct sx_ingest_cfg icfg;
	struct sx_names *names;
	struct sx_flows *fl;
	unsigned i;

	cr_assert(status && shown);
	for (i = 0; i < n; i++)
		shown[i] = base(paths[i]);
	icfg = (struct sx_ingest_cfg){
	    .paths = paths, .names = shown, .npaths = n, .nthreads = nthreads};
	cr_assert_eq(sx_names_new(&names), 0);
	cr_assert_eq(sx_flows_new(&cfg, &fl), 0);
	cr_assert_eq(sx_flows_collect(fl, &icfg, names, status), 0);
	for (i = 0; i < n; i++)
		cr_assert_eq(status[i].err, 0, "%s: %s", paths[i], status[i].msg);
	cr_assert_eq(sx_flows_reduce(fl, shown, n, names, sx_mine_row_fn, &sink), 0);
	sx_flows_free(fl);
	sx_names_free(names);
	free(status);
	free(shown);
}

/* The flow stage writing a CSV, as `sigex flows` does. */
static void write_csv(const char *csv, const char *const *paths, unsigned n)
{
	struct sx_flows_job job = {.paths = paths, .npaths = n, .nthreads = 2, .cfg = flows_cfg(0)};
	struct sx_file_status *status = calloc(n, sizeof(*status));
	const char **shown = calloc(n, sizeof(*shown));
	FILE *f = fopen(csv, "w");
	unsigned i;

	cr_assert(status && shown && f);
	for (i = 0; i < n; i++)
		shown[i] = base(paths[i]);
	job.shown = shown;
	cr_assert_eq(sx_names_new(&job.names), 0);
	cr_assert_eq(sx_flows_write_csv(&job, f, status, NULL), 0);
	cr_assert_eq(fclose(f), 0);
	sx_names_free(job.names);
	free(status);
	free(shown);
}

static void feed_csv(struct sx_mine *m, enum sx_mine_set set, int src, const char *csv)
{
	struct sx_flows_csv_reader *r;
	struct sx_flow_row row;
	FILE *f = fopen(csv, "r");
	char msg[256];
	int ret;

	cr_assert_not_null(f);
	cr_assert_eq(sx_flows_csv_reader_new(f, &r), 0);
	while ((ret = sx_flows_csv_next(r, &row, msg, sizeof(msg))) == 1)
		cr_assert_eq(sx_mine_add_row(m, set, src, &row), 0);
	cr_assert_eq(ret, 0, "%s", msg);
	sx_flows_csv_reader_free(r);
	fclose(f);
}

struct outputs {
	char *report;
	char *yaml;
};

static struct outputs emit(const struct sx_mine_result *res)
{
	struct outputs o;
	struct sx_buf b;
	size_t len = 0;
	FILE *f;
	char msg[256];

	sx_buf_init(&b);
	sx_emit_report(&b, res, NULL);
	sx_buf_putc(&b, '\0');
	cr_assert_eq(b.err, 0);
	o.report = strdup(b.data);
	sx_buf_fini(&b);
	o.yaml = NULL;
	f = open_memstream(&o.yaml, &len);
	cr_assert_eq(sx_emit_signatures(f, res, NULL, msg, sizeof(msg)), 0, "%s", msg);
	fclose(f);
	return o;
}

static void outputs_free(struct outputs *o)
{
	free(o->report);
	free(o->yaml);
}

struct run_opts {
	unsigned fthreads, mthreads;
	uint64_t fseed, mseed;
	bool reverse;
};

/* In-process: events and background (separate flow runs, as two `sigex
 * flows` invocations would be), mined; the result. */
static struct sx_mine_result *mine_captures(const char *const *ev, unsigned nev,
					    const char *const *bg, unsigned nbg,
					    const struct run_opts *o)
{
	struct sx_mine_cfg cfg = {.seed = o ? o->mseed : 0, .nthreads = o ? o->mthreads : 2};
	const char **rev = calloc(nev + 1, sizeof(*rev));
	struct sx_mine_result *res;
	struct sx_mine *m;
	unsigned i;

	for (i = 0; i < nev; i++)
		rev[i] = o && o->reverse ? ev[nev - 1 - i] : ev[i];
	cr_assert_eq(sx_mine_new(&cfg, &m), 0);
	feed(m, SX_MINE_EVENT, 0, rev, nev, o ? o->fthreads : 2, o ? o->fseed : 0);
	if (nbg)
		feed(m, SX_MINE_BACKGROUND, 1, bg, nbg, o ? o->fthreads : 2, o ? o->fseed : 0);
	cr_assert_eq(sx_mine_run(m, &res), 0);
	sx_mine_free(m);
	free(rev);
	return res;
}

static void need_shared(void)
{
	if (!sx_tt_have_shared())
		sx_tt_skip_missing("shared corpora missing (%s)", SX_SHARED_CORPORA);
}

/* ---- golden ---- */

Test(e2e_mine, tplink_toggle_gives_the_three_reference_patterns)
{
	struct sx_mine_result *r;
	const struct sx_mine_pattern *p;

	need_shared();
	r = mine_captures(tplink, 3, NULL, 0, NULL);
	cr_assert_eq(r->noccs, 3);
	cr_assert_eq(r->npatterns, 3, "patterns: %u", r->npatterns);

	p = &r->patterns[0]; /* the phone toggles the plug */
	cr_assert_eq(p->ip_proto, 6);
	cr_assert_eq(p->initiator, SX_MINE_CLIENT);
	cr_assert_str_eq(p->end[SX_MINE_CLIENT].shown, "192.168.1.110");
	cr_assert_str_eq(p->end[SX_MINE_SERVER].shown, "192.168.1.135");
	cr_assert_eq(p->fixed_role, SX_MINE_SERVER);
	cr_assert_eq(p->fixed_port, 9999);
	cr_assert_str_eq(p->app.tplink_cmd, "system.set_relay_state");
	cr_assert_eq(p->support, 3);

	p = &r->patterns[1]; /* the plug resolves its cloud */
	cr_assert_eq(p->ip_proto, 17);
	cr_assert_str_eq(p->end[SX_MINE_CLIENT].shown, "192.168.1.135");
	cr_assert_str_eq(p->end[SX_MINE_SERVER].shown, "192.168.1.1");
	cr_assert_eq(p->fixed_port, 53);
	cr_assert_eq(p->fixed_role, SX_MINE_SERVER);
	cr_assert_str_eq(p->app.dns_qtype, "A");
	cr_assert_str_eq(p->app.dns_name, "use1-api.tplinkra.com");

	p = &r->patterns[2]; /* and talks to it over TLS */
	cr_assert_eq(p->ip_proto, 6);
	cr_assert_eq(p->end[SX_MINE_SERVER].kind, SX_MINE_HOST_NAME);
	cr_assert_str_eq(p->end[SX_MINE_SERVER].name, "use1-api.tplinkra.com");
	cr_assert_eq(p->end[SX_MINE_SERVER].naddrs, 3, "three addresses behind the name");
	cr_assert_eq(p->fixed_port, 443);
	cr_assert_eq(p->bytes[SX_MINE_SERVER].min, 7632);
	cr_assert_eq(p->bytes[SX_MINE_SERVER].max, 7697);

	/* the UDP 9999 replies to the phone app recur but are periodic */
	cr_assert_eq(r->nperiodic, 1);
	cr_assert_eq(r->periodic[0].fixed_port, 9999);
	cr_assert_eq(r->periodic[0].ip_proto, 17);
	cr_assert_eq(r->nbackground, 0);
	sx_mine_result_free(r);
}

Test(e2e_mine, tplink_report_and_yaml)
{
	struct sx_mine_result *r;
	struct outputs o;

	need_shared();
	r = mine_captures(tplink, 3, NULL, 0, NULL);
	o = emit(r);
	cr_assert(strstr(o.report, "3 pattern(s) found in 3 occurrences (support 90 %: at least 3 "
				   "of 3); 1 periodic pattern(s)\n\nPattern 1:\n"
				   "IP Addresses: ('192.168.1.110', '192.168.1.135')\n"
				   "Protocol: TCP\n"
				   "Ports: [(9999, {'number': 3, 'host': ['192.168.1.135']}), "
				   "(37626, {'number': 1, 'host': ['192.168.1.110']}), "
				   "(37628, {'number': 1, 'host': ['192.168.1.110']}), "
				   "(37630, {'number': 1, 'host': ['192.168.1.110']})]\n"
				   "Fixed port: 9999 -> ['192.168.1.135']\n"),
		  "%s", o.report);
	cr_assert(strstr(o.report, "\nPattern 2:\nIP Addresses: ('192.168.1.135', '192.168.1.1')\n"
				   "Protocol: UDP\n"),
		  "%s", o.report);
	cr_assert(strstr(o.report, "Fixed port: 53 -> ['192.168.1.1']\nApplication Data: "
				   "{'Length': {226: 3}, 'ApplicationSpecific': "
				   "{'A use1-api.tplinkra.com.': 3}, 'nbPacket': {2: 3}}\n"),
		  "%s", o.report);
	cr_assert(strstr(o.report, "\nPattern 3:\n"
				   "IP Addresses: ('192.168.1.135', 'use1-api.tplinkra.com')\n"),
		  "%s", o.report);
	cr_assert(strstr(o.report, "Fixed port: 443 -> ['use1-api.tplinkra.com']\n"), "%s",
		  o.report);
	cr_assert(strstr(o.report, "Typical order: Pattern 1 -> Pattern 2 -> Pattern 3\n"), "%s",
		  o.report);
	cr_assert(strstr(o.yaml, "  key: v1|6|fixed=server:443|client=self|"
				 "server=n:use1-api.tplinkra.com|"
				 "app=tls.sni=use1-api.tplinkra.com;\n"),
		  "%s", o.yaml);
	outputs_free(&o);
	sx_mine_result_free(r);
}

/* ---- synthetic corpora against their truth ---- */

struct truth {
	bool background;
	uint8_t proto;
	char client[256];
	char server[256];
	unsigned port;
};

static unsigned read_truth(const char *dir, struct truth *t, unsigned max)
{
	char path[1200], *text, *line, *save = NULL;
	unsigned n = 0;

	snprintf(path, sizeof(path), "%s/truth.txt", dir);
	text = sx_tt_read(path, NULL);
	cr_assert_not_null(text, "%s", path);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char w[5][256], *colon;
		int k;

		if (line[0] == '#' || !line[0])
			continue;
		memset(&t[n], 0, sizeof(t[n]));
		k = sscanf(line, "%255s %255s %255s %255s %255s", w[0], w[1], w[2], w[3], w[4]);
		if (!strcmp(w[0], "background")) {
			t[n].background = true;
			memmove(w[0], w[1], sizeof(w[0]) * 4);
			k--;
		}
		if (k < 4 || (strcmp(w[0], "tcp") && strcmp(w[0], "udp")))
			continue; /* arp: no flow */
		t[n].proto = !strcmp(w[0], "tcp") ? 6 : 17;
		snprintf(t[n].client, sizeof(t[n].client), "%s", w[1]);
		colon = strrchr(w[3], ':');
		cr_assert_not_null(colon, "%s", line);
		*colon = '\0';
		snprintf(t[n].server, sizeof(t[n].server), "%s", w[3]);
		t[n].port = (unsigned)atoi(colon + 1);
		cr_assert(++n < max);
	}
	free(text);
	return n;
}

static bool end_is(const struct sx_mine_end *e, const char *host)
{
	char a[64];
	uint32_t i;

	if (e->kind != SX_MINE_HOST_ADDRS)
		return !strcmp(e->name, host);
	for (i = 0; i < e->naddrs; i++)
		if (!strcmp(sx_addr_str(&e->addrs[i], a, sizeof(a)), host))
			return true;
	return false;
}

static bool matches(const struct sx_mine_pattern *p, const struct truth *t)
{
	return p->ip_proto == t->proto && p->fixed_role == SX_MINE_SERVER &&
	       p->fixed_port == t->port && end_is(&p->end[SX_MINE_CLIENT], t->client) &&
	       end_is(&p->end[SX_MINE_SERVER], t->server);
}

static void against_truth(const char *name)
{
	char dir[512], ev[16][1024], bg[8][1024];
	const char *evp[16], *bgp[8];
	struct truth t[32];
	struct sx_mine_result *r;
	unsigned nt, i, j, nev = 0, nbg = 0, nevent_truth = 0;

	snprintf(dir, sizeof(dir), "%s/corpora/%s", SX_BUILD_DIR, name);
	nt = read_truth(dir, t, 32);
	{
		char cmd[1200], *out = NULL, *line, *save = NULL;

		snprintf(cmd, sizeof(cmd), "ls '%s'", dir);
		cr_assert_eq(sx_tt_run(cmd, &out, NULL), 0);
		for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			size_t l = strlen(line);

			if (l < 5 || strcmp(line + l - 5, ".pcap"))
				continue;
			if (!strncmp(line, "idle-", 5)) {
				cr_assert(nbg < 8);
				snprintf(bg[nbg], sizeof(bg[0]), "%s/%s", dir, line);
				bgp[nbg] = bg[nbg];
				nbg++;
			} else {
				cr_assert(nev < 16);
				snprintf(ev[nev], sizeof(ev[0]), "%s/%s", dir, line);
				evp[nev] = ev[nev];
				nev++;
			}
		}
		free(out);
	}
	cr_assert(nev >= 3 && nbg >= 1, "%s: %u event and %u idle captures", dir, nev, nbg);
	r = mine_captures(evp, nev, bgp, nbg, NULL);
	for (i = 0; i < nt; i++) {
		unsigned hits = 0;

		for (j = 0; j < r->npatterns; j++)
			hits += matches(&r->patterns[j], &t[i]);
		if (t[i].background) {
			cr_assert_eq(hits, 0, "%s: background %s -> %s:%u is in the signature",
				     name, t[i].client, t[i].server, t[i].port);
		} else {
			nevent_truth++;
			cr_assert_eq(hits, 1, "%s: event flow %s -> %s:%u found %u times", name,
				     t[i].client, t[i].server, t[i].port, hits);
		}
	}
	cr_assert_eq(r->npatterns, nevent_truth, "%s: %u patterns for %u event flows", name,
		     r->npatterns, nevent_truth);
	/* the mDNS announcements recur in every capture, idle ones included */
	cr_assert_geq(r->nbackground, 1);
	for (i = 0; i < r->nbackground; i++)
		cr_assert_eq(r->background[i].bg_support, r->nbg);
	sx_mine_result_free(r);
}

Test(e2e_mine, demo_corpus_against_its_truth)
{
	against_truth("demo");
}

Test(e2e_mine, synth_corpus_against_its_truth)
{
	against_truth("synth");
}

/* ---- the flow-CSV path, and determinism ---- */

Test(e2e_mine, flow_csvs_give_the_same_bytes)
{
	char *dir, *csv;
	struct sx_mine_result *a, *b;
	struct sx_mine *m;
	struct outputs oa, ob;

	need_shared();
	dir = sx_tt_tmpdir();
	csv = sx_tt_path(dir, "tplink.csv");
	write_csv(csv, tplink, 3);
	a = mine_captures(tplink, 3, NULL, 0, NULL);
	cr_assert_eq(sx_mine_new(NULL, &m), 0);
	feed_csv(m, SX_MINE_EVENT, 0, csv);
	cr_assert_eq(sx_mine_run(m, &b), 0);
	sx_mine_free(m);
	oa = emit(a);
	ob = emit(b);
	cr_assert_str_eq(oa.report, ob.report);
	cr_assert_str_eq(oa.yaml, ob.yaml);
	outputs_free(&oa);
	outputs_free(&ob);
	sx_mine_result_free(a);
	sx_mine_result_free(b);
	unlink(csv);
	rmdir(dir);
	free(csv);
	free(dir);
}

Test(e2e_mine, same_bytes_for_any_threads_seeds_and_order)
{
	static const struct run_opts runs[] = {{1, 1, 0, 0, false},
					       {2, 3, 9, 123456, true},
					       {3, 1, 77, 1, false},
					       {1, 2, 5, 0xffffffffffull, true}};
	char dir[1024], ev[10][1100], bg[3][1100];
	const char *evp[10], *bgp[3];
	struct outputs first = {0};
	unsigned i;

	snprintf(dir, sizeof(dir), "%s/corpora/demo", SX_BUILD_DIR);
	for (i = 0; i < 10; i++) {
		snprintf(ev[i], sizeof(ev[i]), "%s/%u.pcap", dir, 1700000000 + 600 * i);
		evp[i] = ev[i];
	}
	for (i = 0; i < 3; i++) {
		snprintf(bg[i], sizeof(bg[i]), "%s/idle-%u.pcap", dir, i);
		bgp[i] = bg[i];
	}
	for (i = 0; i < SX_ARRAY_SIZE(runs); i++) {
		struct sx_mine_result *r = mine_captures(evp, 10, bgp, 3, &runs[i]);
		struct outputs o = emit(r);

		if (!i) {
			first = o;
		} else {
			cr_assert_str_eq(o.report, first.report, "run %u", i);
			cr_assert_str_eq(o.yaml, first.yaml, "run %u", i);
			outputs_free(&o);
		}
		sx_mine_result_free(r);
	}
	outputs_free(&first);
}

/* ---- the command ---- */

static int sh(char **out, char **err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int sh(char **out, char **err, const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int rc;

	va_start(ap, fmt);
	cr_assert(vasprintf(&cmd, fmt, ap) > 0);
	va_end(ap);
	rc = sx_tt_run(cmd, out, err);
	free(cmd);
	return rc;
}

static char *read_in(const char *dir, const char *name)
{
	char *p = sx_tt_path(dir, name), *t = sx_tt_read(p, NULL);

	cr_assert_not_null(t, "%s", p);
	free(p);
	return t;
}

Test(e2e_mine, command_writes_what_the_pipeline_gives)
{
	char *dir, *out = NULL, *err = NULL, *rep, *yaml;
	struct sx_mine_result *r;
	struct outputs o;
	int rc;

	need_shared();
	dir = sx_tt_tmpdir();
	rc = sh(NULL, &err,
		"cd '%s' && '%s' flows -q -o '%s/tp.csv' 1724059939.pcap "
		"1724060053.pcap 1724060140.pcap",
		TRACES, SX_BINARY, dir);
	cr_assert_eq(rc, 0, "%s", err);
	free(err);
	/* -o DIR is created, nested */
	rc = sh(&out, &err, "cd '%s' && '%s' mine -o out/a/b tp.csv", dir, SX_BINARY);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	free(err);
	r = mine_captures(tplink, 3, NULL, 0, NULL);
	o = emit(r);
	rep = read_in(dir, "out/a/b/pattern.txt");
	yaml = read_in(dir, "out/a/b/signatures.yaml");
	cr_assert_str_eq(rep, o.report);
	cr_assert_str_eq(yaml, o.yaml);
	cr_assert_str_eq(out, rep, "the report on standard output");
	free(out);
	free(rep);
	free(yaml);
	outputs_free(&o);
	sx_mine_result_free(r);
	sh(NULL, NULL, "rm -rf '%s'", dir);
	free(dir);
}

Test(e2e_mine, command_options_and_exit_codes)
{
	char *dir, *out = NULL, *err = NULL, *a, *b;
	int rc;

	need_shared();
	dir = sx_tt_tmpdir();
	cr_assert_eq(sh(NULL, NULL,
			"cd '%s' && '%s' flows -q -o '%s/ev1.csv' 1724059939.pcap && "
			"'%s' flows -q -o '%s/ev23.csv' 1724060053.pcap 1724060140.pcap",
			TRACES, SX_BINARY, dir, SX_BINARY, dir),
		     0);

	/* usage errors: 2 */
	cr_assert_eq(sh(NULL, NULL, "'%s' mine", SX_BINARY), 2);
	cr_assert_eq(sh(NULL, NULL, "'%s' mine --support 0 '%s/ev1.csv'", SX_BINARY, dir), 2);
	cr_assert_eq(sh(NULL, NULL, "'%s' mine --support 1.5 '%s/ev1.csv'", SX_BINARY, dir), 2);
	cr_assert_eq(sh(NULL, NULL, "'%s' mine --support x '%s/ev1.csv'", SX_BINARY, dir), 2);
	cr_assert_eq(sh(NULL, NULL, "'%s' mine --bogus '%s/ev1.csv'", SX_BINARY, dir), 2);
	cr_assert_eq(sh(NULL, NULL, "'%s' mine -j 0 '%s/ev1.csv'", SX_BINARY, dir), 2);
	cr_assert_eq(sh(&out, NULL, "'%s' mine --help", SX_BINARY), 0);
	cr_assert(strstr(out, "Usage: sigex mine"), "%s", out);
	free(out);

	/* two CSVs in any order, one of them holding two captures */
	cr_assert_eq(
	    sh(NULL, NULL, "cd '%s' && '%s' mine -q -o o1 ev1.csv ev23.csv", dir, SX_BINARY), 0);
	cr_assert_eq(sh(&out, NULL, "cd '%s' && '%s' mine -q -o o2 -j 1 --seed 99 ev23.csv ev1.csv",
			dir, SX_BINARY),
		     0);
	cr_assert_str_eq(out, "", "-q prints nothing");
	free(out);
	a = read_in(dir, "o1/pattern.txt");
	b = read_in(dir, "o2/pattern.txt");
	cr_assert_str_eq(a, b);
	cr_assert(strstr(a, "3 pattern(s) found in 3 occurrences"), "%s", a);
	free(b);
	b = read_in(dir, "o1/signatures.yaml");
	free(b);

	/* a missing input is a usage error, as in every command */
	rc = sh(NULL, &err, "cd '%s' && '%s' mine -q -o o3 ev1.csv missing.csv", dir, SX_BINARY);
	cr_assert_eq(rc, 2, "exit %d: %s", rc, err);
	cr_assert(strstr(err, "\"missing.csv\" is not an existing file"), "%s", err);
	free(err);
	/* a malformed input, a repeated one: left out, exit 3 */
	cr_assert_eq(sh(NULL, NULL, "cd '%s' && printf 'not,a,flow,csv\\n' > bad.csv", dir), 0);
	rc = sh(NULL, &err,
		"cd '%s' && '%s' mine -q -o o3 ev1.csv ev23.csv bad.csv "
		"ev1.csv",
		dir, SX_BINARY);
	cr_assert_eq(rc, 3, "exit %d: %s", rc, err);
	cr_assert(strstr(err, "bad.csv"), "%s", err);
	cr_assert(strstr(err, "already given"), "%s", err);
	free(err);
	b = read_in(dir, "o3/pattern.txt");
	cr_assert_str_eq(a, b, "the readable inputs give the same patterns");
	free(b);

	/* nothing readable: 1; an output directory that is a file: 1 */
	cr_assert_eq(sh(NULL, NULL, "cd '%s' && '%s' mine -q -o o4 bad.csv", dir, SX_BINARY), 1);
	cr_assert_eq(sh(NULL, NULL, "cd '%s' && '%s' mine -q -o bad.csv ev1.csv", dir, SX_BINARY),
		     1);

	/* --all-ports: every port of each host */
	cr_assert_eq(sh(&out, NULL, "cd '%s' && '%s' mine --all-ports -o o5 ev1.csv ev23.csv", dir,
			SX_BINARY),
		     0);
	b = read_in(dir, "o5/pattern.txt");
	cr_assert_str_eq(out, b);
	free(out);
	free(b);

	/* background: the same captures as background remove every pattern */
	rc = sh(&out, &err, "cd '%s' && '%s' mine -o o6 ev1.csv --background ev23.csv", dir,
		SX_BINARY);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert(strstr(out, "0 pattern(s) found in 1 occurrence (support 90 %: at least 1 of 1); "
			      "6 background pattern(s) from 2 background units"),
		  "%s", out);
	free(out);
	free(err);
	free(a);
	sh(NULL, NULL, "rm -rf '%s'", dir);
	free(dir);
}
