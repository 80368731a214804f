/*
 * report.c - the verify report: text for people (summary lines first), CSV
 * and YAML for programs.  Reads a finished result; writes to a borrowed
 * FILE.  Every text in a result is printable ASCII (ingest's invariant);
 * CSV quotes what it must; YAML goes through the one YAML writer
 * (yaml/ydoc.h), its texts double-quoted.
 */
#include "verify/run_int.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "core/text.h"
#include "yaml/ydoc.h"

static const char *why_text[5] = {
    [SX_VERIFY_NOT_DEVICE] = "not the device's",
    [SX_VERIFY_ACCEPT] = "accepted",
    [SX_VERIFY_NO_RULE] = "no rule matched (dropped by the chain's final rules)",
    [SX_VERIFY_QUEUE_DROP] = "a queue's callback accepted no policy",
    [SX_VERIFY_TIMEOUT] = "an interaction timed out",
};

static double pct(uint64_t a, uint64_t n)
{
	return n ? 100.0 * (double)a / (double)n : 100.0;
}

static void notes(FILE *f, const struct sx_verify_profile *p, const char *prefix)
{
	static const struct {
		unsigned bit;
		const char *text;
	} nm[] = {
	    {VX_NM_LOOP, "interaction loop/next"},
	    {VX_NM_ACTIVITY, "activity-period"},
	    {VX_NM_RATE, "stats rate (nft limit)"},
	    {VX_NM_SIZE, "stats packet-size"},
	    {VX_NM_TLS, "tls/mqtt matches (ignored)"},
	    {VX_NM_OTHER, "rules between other local hosts"},
	};

	for (size_t i = 0; i < sizeof(nm) / sizeof(nm[0]); i++)
		if (p->not_modelled & nm[i].bit)
			fprintf(f, "%s%s\n", prefix, nm[i].text);
}

static void report_text(FILE *f, const struct sx_verify_profile *p,
			const struct sx_verify_result *r)
{
	size_t hit = 0;

	fprintf(f, "packets %" PRIu64 ", allowed %.1f%%\n", r->packets,
		pct(r->allowed, r->packets));
	fprintf(f, "flows %" PRIu64 ", allowed %.1f%%\n", r->flows,
		pct(r->flows_allowed, r->flows));
	for (size_t i = 0; i < r->npol; i++)
		hit += r->hits[i] > 0;
	fprintf(f, "policies %zu, hit %zu\n", r->npol, hit);
	fprintf(f, "captures %" PRIu32 ", unreadable %" PRIu32 "\n", r->npaths, r->bad);
	fprintf(f, "\nprofile %s: %zu rules, %zu policies in %zu interactions%s\n", p->device,
		p->nqueues, p->npol, p->ninters, r->stateless ? " (stateless replay)" : "");
	fprintf(f, "denied packets %" PRIu64 ":\n", r->packets - r->allowed);
	for (int w = SX_VERIFY_NO_RULE; w <= SX_VERIFY_TIMEOUT; w++)
		fprintf(f, "  %8" PRIu64 "  %s\n", r->by_why[w], why_text[w]);

	fprintf(f, "\nhits per policy:\n");
	for (size_t i = 0; i < r->npol; i++)
		if (r->hits[i])
			fprintf(f, "  %8" PRIu64 "  %s\n", r->hits[i], p->pol[i].name);
	if (hit < r->npol) {
		fprintf(f, "\nnever hit:\n");
		for (size_t i = 0; i < r->npol; i++)
			if (!r->hits[i])
				fprintf(f, "  %s\n", p->pol[i].name);
	}
	if (r->kinds.n) {
		fprintf(f, "\ndenied traffic by kind (packets, flows, transport port peer "
			   "application, first seen):\n");
		for (size_t i = 0; i < r->kinds.n; i++) {
			const struct vx_kind *k = &r->kinds.v[i];

			fprintf(f,
				"  %8" PRIu64 " %6" PRIu64 "  %s %s %s%s%s  (%s at %" PRId64
				".%06u)\n",
				k->packets, k->flows, k->s[0], k->s[1][0] ? k->s[1] : "-",
				k->s[2][0] ? k->s[2] : "-", k->s[3][0] ? " " : "", k->s[3],
				r->paths[k->ex_file], k->ex_sec, k->ex_nsec / 1000);
		}
	}
	for (uint32_t i = 0; i < r->npaths; i++) {
		const struct vx_file *fr = &r->files[i];
		char mac[SX_MAC_TEXT_MAX];

		if (fr->mac_learnt)
			fprintf(f, "%s%s: device MAC learnt %s\n",
				i == 0 || !r->files[i - 1].mac_learnt ? "\n" : "", r->paths[i],
				sx_mac_str(fr->mac, mac, sizeof(mac)));
	}
	if (p->not_modelled) {
		fprintf(f, "\nnot modelled (the profile uses them; verify ignores them):\n");
		notes(f, p, "  ");
	}
}

/* CSV field: quoted when it holds a comma, a quote or a space at an end. */
static void csv(FILE *f, const char *s, bool last)
{
	if (strpbrk(s, ",\"\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputc(last ? '\n' : ',', f);
}

static void report_csv(FILE *f, const struct sx_verify_profile *p, const struct sx_verify_result *r)
{
	fprintf(f, "record,name,transport,port,peer,app,packets,flows,percent,capture,time\n");
	fprintf(f, "packets,,,,,,%" PRIu64 ",,%.1f,,\n", r->packets, pct(r->allowed, r->packets));
	fprintf(f, "flows,,,,,,,%" PRIu64 ",%.1f,,\n", r->flows, pct(r->flows_allowed, r->flows));
	for (size_t i = 0; i < r->npol; i++) {
		fprintf(f, "policy,");
		csv(f, p->pol[i].name, false);
		fprintf(f, ",,,,%" PRIu64 ",,,,\n", r->hits[i]);
	}
	for (size_t i = 0; i < r->kinds.n; i++) {
		const struct vx_kind *k = &r->kinds.v[i];
		char t[48];

		fprintf(f, "denied,,");
		for (int j = 0; j < 4; j++)
			csv(f, k->s[j], false);
		fprintf(f, "%" PRIu64 ",%" PRIu64 ",,", k->packets, k->flows);
		csv(f, r->paths[k->ex_file], false);
		snprintf(t, sizeof(t), "%" PRId64 ".%06u", k->ex_sec, k->ex_nsec / 1000);
		csv(f, t, true);
	}
}

/* key: a percentage with one decimal, as the text shows it. */
static void kv_pct(struct sx_yw *w, const char *k, uint64_t a, uint64_t n)
{
	char b[32];

	snprintf(b, sizeof(b), "%.1f", pct(a, n));
	sx_yw_str(w, k);
	sx_yw_number(w, b);
}

/* A capture's path, double-quoted: as given when it is UTF-8 (the writer
 * escapes what YAML must), else escaped as ingest escapes captured bytes
 * (core/text.h), as a path may be any bytes and YAML holds Unicode only. */
static void path_str(struct sx_yw *w, const char *path)
{
	char shown[4096];

	if (sx_yw_is_utf8(path, strlen(path))) {
		sx_yw_quoted(w, path);
		return;
	}
	sx_text_escape(shown, sizeof(shown), (const uint8_t *)path, strlen(path), NULL);
	sx_yw_quoted(w, shown);
}

static int report_yaml(FILE *f, const struct sx_verify_profile *p, const struct sx_verify_result *r)
{
	static const char *const keys[4] = {"transport", "port", "peer", "app"};
	struct sx_yw w;
	char t[48];

	sx_yw_open(&w, f, SX_YW_SIGEX);
	sx_yw_map_begin(&w);
	sx_yw_str(&w, "device");
	sx_yw_quoted(&w, p->device);
	sx_yw_kv_u64(&w, "packets", r->packets);
	sx_yw_kv_u64(&w, "packets-allowed", r->allowed);
	kv_pct(&w, "packets-allowed-pct", r->allowed, r->packets);
	sx_yw_kv_u64(&w, "flows", r->flows);
	sx_yw_kv_u64(&w, "flows-allowed", r->flows_allowed);
	kv_pct(&w, "flows-allowed-pct", r->flows_allowed, r->flows);
	sx_yw_str(&w, "denied");
	sx_yw_map_begin(&w);
	sx_yw_kv_u64(&w, "no-rule", r->by_why[SX_VERIFY_NO_RULE]);
	sx_yw_kv_u64(&w, "queue-drop", r->by_why[SX_VERIFY_QUEUE_DROP]);
	sx_yw_kv_u64(&w, "timeout", r->by_why[SX_VERIFY_TIMEOUT]);
	sx_yw_map_end(&w);
	sx_yw_str(&w, "policies");
	sx_yw_seq_begin(&w);
	for (size_t i = 0; i < r->npol; i++) {
		sx_yw_map_begin(&w);
		sx_yw_str(&w, "name");
		sx_yw_quoted(&w, p->pol[i].name);
		sx_yw_kv_u64(&w, "hits", r->hits[i]);
		sx_yw_map_end(&w);
	}
	sx_yw_seq_end(&w);
	sx_yw_str(&w, "denied-kinds");
	sx_yw_seq_begin(&w);
	for (size_t i = 0; i < r->kinds.n; i++) {
		const struct vx_kind *k = &r->kinds.v[i];

		sx_yw_map_begin(&w);
		for (int j = 0; j < 4; j++) {
			sx_yw_str(&w, keys[j]);
			sx_yw_quoted(&w, k->s[j]);
		}
		sx_yw_kv_u64(&w, "packets", k->packets);
		sx_yw_kv_u64(&w, "flows", k->flows);
		sx_yw_str(&w, "example");
		path_str(&w, r->paths[k->ex_file]);
		snprintf(t, sizeof(t), "%" PRId64 ".%06u", k->ex_sec, k->ex_nsec / 1000);
		sx_yw_str(&w, "time");
		sx_yw_number(&w, t);
		sx_yw_map_end(&w);
	}
	sx_yw_seq_end(&w);
	sx_yw_map_end(&w);
	return sx_yw_close(&w);
}

int sx_verify_report(FILE *f, const struct sx_verify_profile *p, const struct sx_verify_result *r,
		     enum sx_verify_format fmt)
{
	int ret = 0;

	if (fmt == SX_VERIFY_CSV)
		report_csv(f, p, r);
	else if (fmt == SX_VERIFY_YAML)
		ret = report_yaml(f, p, r);
	else
		report_text(f, p, r);
	return ret ? ret : ferror(f) ? -EIO : 0;
}
