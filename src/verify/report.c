/*
 * report.c - the verify report: text for people (summary lines first), CSV
 * and YAML for programs.  Reads a finished result; writes to a borrowed
 * FILE.  Every text in a result is printable ASCII (ingest's invariant);
 * CSV and YAML quote what they must.
 */
#include "verify/run_int.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

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

static void yq(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void report_yaml(FILE *f, const struct sx_verify_profile *p,
			const struct sx_verify_result *r)
{
	fprintf(f, "device: ");
	yq(f, p->device);
	fprintf(f,
		"\npackets: %" PRIu64 "\npackets-allowed: %" PRIu64 "\npackets-allowed-pct: %.1f\n",
		r->packets, r->allowed, pct(r->allowed, r->packets));
	fprintf(f, "flows: %" PRIu64 "\nflows-allowed: %" PRIu64 "\nflows-allowed-pct: %.1f\n",
		r->flows, r->flows_allowed, pct(r->flows_allowed, r->flows));
	fprintf(f,
		"denied:\n  no-rule: %" PRIu64 "\n  queue-drop: %" PRIu64 "\n  timeout: %" PRIu64
		"\n",
		r->by_why[SX_VERIFY_NO_RULE], r->by_why[SX_VERIFY_QUEUE_DROP],
		r->by_why[SX_VERIFY_TIMEOUT]);
	fprintf(f, "policies:\n");
	for (size_t i = 0; i < r->npol; i++) {
		fprintf(f, "  - name: ");
		yq(f, p->pol[i].name);
		fprintf(f, "\n    hits: %" PRIu64 "\n", r->hits[i]);
	}
	fprintf(f, "denied-kinds:%s\n", r->kinds.n ? "" : " []");
	for (size_t i = 0; i < r->kinds.n; i++) {
		const struct vx_kind *k = &r->kinds.v[i];
		static const char *keys[4] = {"transport", "port", "peer", "app"};

		for (int j = 0; j < 4; j++) {
			fprintf(f, "%s%s: ", j ? "    " : "  - ", keys[j]);
			yq(f, k->s[j]);
			fputc('\n', f);
		}
		fprintf(f, "    packets: %" PRIu64 "\n    flows: %" PRIu64 "\n    example: ",
			k->packets, k->flows);
		yq(f, r->paths[k->ex_file]);
		fprintf(f, "\n    time: %" PRId64 ".%06u\n", k->ex_sec, k->ex_nsec / 1000);
	}
}

int sx_verify_report(FILE *f, const struct sx_verify_profile *p, const struct sx_verify_result *r,
		     enum sx_verify_format fmt)
{
	if (fmt == SX_VERIFY_CSV)
		report_csv(f, p, r);
	else if (fmt == SX_VERIFY_YAML)
		report_yaml(f, p, r);
	else
		report_text(f, p, r);
	return ferror(f) ? -EIO : 0;
}
