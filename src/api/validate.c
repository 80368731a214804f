/*
 * validate.c - sx_extract_validate(): the held-out allow rate of a profile.
 *
 * DESIGN
 *
 * The event captures that were read are the occurrences (one per capture;
 * with --window or --events a capture's occurrences stay together).  They
 * are put in the order of their file names, so folds do not depend on the
 * order given, and dealt into folds: one per capture (leave-one-out) up to
 * 20 captures, 10 folds above, capture j of that order in fold j % k.  For
 * each fold, a new extraction with the same settings and the background
 * captures mines the other captures, writes its profile.yaml to a temporary
 * file, and verify (verify/verify.h) replays each held-out capture through
 * it with the firewall's semantics, its gateway and phone aliases set to the
 * extraction's --gateway and --phone (the firewall's are constants a
 * deployment edits).  Two rates are kept: the rules alone (what the profile
 * covers: the headline) and with the firewall's interaction states (what it
 * would let through as the firewall runs interactions today).  Both are
 * summed over every held-out capture; a fold whose mining fails (too few
 * occurrences left) counts its held-out traffic as denied.
 *
 * Denied traffic is grouped by transport and port over the held-out
 * captures: a kind recurs when it is denied in two held-out captures or
 * more; the first peer and application value seen are kept as its example
 * (a name that rotates between occurrences shows there).
 *
 * Detection (src/detect): each fold's signatures.yaml also becomes a
 * detector, run over each held-out capture (the device at the capture's own
 * address) and over the background captures.  A held-out capture with a
 * detection is an occurrence recognised: their share is the detection
 * recall beside the allow rate.  A detection in a background capture is a
 * false one: counted per hour of background capture, over every fold.  A
 * fold whose signature cannot be written or read (several events) detects
 * nothing and is not counted.
 *
 * Runs on the caller's thread; each fold's mining and replay use the
 * extraction's thread count.
 */
#include "sigex.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/sigex_int.h"
#include "core/buf.h"
#include "core/outfile.h"
#include "core/util.h"
#include "detect/detect.h"
#include "verify/verify.h"
#include "yaml/ydoc.h"

#define LOO_MAX	   20
#define K_FOLDS	   10
#define KINDS_SHOW 10

struct vkind {
	char transport[16], port[16];
	char peer[64], app[160]; /* the first example */
	uint64_t packets;
	unsigned captures;
	int last_capture;
};

struct sx_validation {
	unsigned folds, held, failed;
	uint64_t packets, allowed, flows, flows_allowed;
	uint64_t st_allowed, st_flows_allowed; /* with interaction states */
	unsigned det_held, det_hits;	       /* held-out captures run, detected */
	uint64_t bg_false;		       /* detections in background captures */
	double bg_hours;		       /* of background capture, over the folds */
	struct vkind *kinds;
	size_t nkinds, cap;
};

void sx_validation_free(struct sx_validation *v)
{
	if (!v)
		return;
	free(v->kinds);
	free(v);
}

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static int by_name(const void *a, const void *b, void *ctx)
{
	const struct sx_extract *ex = ctx;
	const char *pa, *pb;
	int c;

	sx_extract_capture_status(ex, *(const size_t *)a, &pa, NULL);
	sx_extract_capture_status(ex, *(const size_t *)b, &pb, NULL);
	c = strcmp(base(pa), base(pb));
	return c ? c : strcmp(pa, pb);
}

static int add_kind(struct sx_validation *v, const struct sx_verify_kind *k, int capture)
{
	struct vkind *e = NULL;

	for (size_t i = 0; i < v->nkinds && !e; i++)
		if (!strcmp(v->kinds[i].transport, k->transport) &&
		    !strcmp(v->kinds[i].port, k->port))
			e = &v->kinds[i];
	if (!e) {
		if (v->nkinds == v->cap) {
			size_t cap = v->cap ? v->cap * 2 : 16;
			struct vkind *n = sx_realloc_array(v->kinds, cap, sizeof(*n));

			if (!n)
				return -ENOMEM;
			v->kinds = n;
			v->cap = cap;
		}
		e = &v->kinds[v->nkinds++];
		memset(e, 0, sizeof(*e));
		snprintf(e->transport, sizeof(e->transport), "%s", k->transport);
		snprintf(e->port, sizeof(e->port), "%s", k->port);
		snprintf(e->peer, sizeof(e->peer), "%s", k->peer);
		snprintf(e->app, sizeof(e->app), "%s", k->app);
		e->last_capture = -1;
	}
	if (!e->app[0] && k->app[0])
		snprintf(e->app, sizeof(e->app), "%s", k->app);
	e->packets += k->packets;
	if (e->last_capture != capture) {
		e->captures++;
		e->last_capture = capture;
	}
	return 0;
}

static double hours_of(const struct sx_file_status *st, size_t n)
{
	double h = 0;

	for (size_t i = 0; i < n; i++)
		if (st[i].opened && st[i].packets)
			h += ((double)(st[i].last_sec - st[i].first_sec) +
			      ((double)st[i].last_nsec - (double)st[i].first_nsec) / 1e9) /
			     3600.0;
	return h;
}

/* Detections of sig over the captures (the device at device, or the
 * signature's); *ndet, and the captures' hours.  0 or an error. */
static int detect_in(const struct sx_extract *ex, const struct sx_det_sig *sig,
		     const char *const *paths, size_t n, const char *device, uint32_t *ndet,
		     double *hours)
{
	const char *filter = sx_extract__filter(ex);
	struct sx_det_cfg dc = {.slack = -1, .device = device};
	struct sx_det_read_cfg rc = {
	    .paths = paths, .npaths = (uint32_t)n, .nthreads = 1, .filter = filter};
	const struct sx_det_detection *det;
	struct sx_file_status *st = sx_calloc_array(n ? n : 1, sizeof(*st));
	struct sx_det *d = NULL;
	int ret = -ENOMEM;

	*ndet = 0;
	*hours = 0;
	if (!st || sx_names_new(&rc.names))
		goto out;
	if (sig->windowed) { /* mined from --events windows: read as windows */
		rc.window_ns = sx_extract__duration_ns(ex);
		rc.step_ns = rc.window_ns / 6 > 0 ? rc.window_ns / 6 : 1;
	}
	ret = sx_det_new(&dc, &sig, 1, &d);
	if (!ret)
		ret = sx_det_read(d, &rc, st, NULL);
	if (ret == -ENODATA)
		ret = 0; /* nothing readable: nothing detected */
	else if (!ret)
		ret = sx_det_finish(d, &det, ndet);
	*hours = hours_of(st, n);
out:
	sx_det_free(d);
	sx_names_free(rc.names);
	free(st);
	return ret;
}

/* The fold's signature as a detector (NULL when it has none). */
static struct sx_det_sig *fold_signature(struct sx_extract *f, const char *path)
{
	struct sx_det_sig *sig = NULL;
	char msg[512];

	if (sx_extract_write_signatures(f, path) || sx_det_sig_load(path, &sig, msg, sizeof(msg)) ||
	    !sig->n) {
		sx_det_sig_free(sig);
		return NULL;
	}
	return sig;
}

/* Detection in the fold's held-out and background captures. */
static int detect_fold(struct sx_extract *ex, struct sx_extract *f, const size_t *held,
		       size_t nheld, struct sx_validation *v, const char *path)
{
	size_t ncaps = sx_extract_ncaptures(ex), nbg = 0;
	const char **bg = sx_calloc_array(ncaps ? ncaps : 1, sizeof(*bg));
	struct sx_det_sig *sig = fold_signature(f, path);
	uint32_t ndet;
	double hours;
	int ret = 0;

	if (!bg) {
		sx_det_sig_free(sig);
		return -ENOMEM;
	}
	for (size_t h = 0; sig && !ret && h < nheld; h++) {
		const char *cap;
		char addr[64];

		sx_extract_capture_status(ex, held[h], &cap, NULL);
		ret = detect_in(ex, sig, &cap, 1,
				sx_extract__capture_ipv4(ex, held[h], addr, sizeof(addr)), &ndet,
				&hours);
		v->det_held++;
		v->det_hits += ndet > 0;
	}
	for (size_t i = 0; sig && i < ncaps; i++)
		if (sx_extract__is_background(ex, i) &&
		    sx_extract_capture_status(ex, i, &bg[nbg], NULL) == 0)
			nbg++;
	if (sig && !ret && nbg) {
		ret = detect_in(ex, sig, bg, nbg, NULL, &ndet, &hours);
		v->bg_false += ndet;
		v->bg_hours += hours;
	}
	free(bg);
	sx_det_sig_free(sig);
	return ret;
}

/* One fold: mine keep[], replay each held-out capture. */
static int run_fold(struct sx_extract *ex, const bool *keep, const size_t *held, size_t nheld,
		    struct sx_validation *v, const char *tmpdir)
{
	struct sx_verify_ids ids = {NULL, NULL, NULL, NULL, NULL};
	struct sx_verify_profile *p = NULL, *hp = NULL; /* hp: p with a capture's own ipv4 */
	struct sx_extract *f = NULL;
	char path[4096], msg[512];
	int ret, fd;

	sx_extract__ids(ex, &ids.mac, &ids.gateway, &ids.phone);
	snprintf(path, sizeof(path), "%s/sigex-validate-XXXXXX", tmpdir);
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	close(fd);
	ret = sx_extract__fold(ex, keep, &f);
	if (ret)
		goto out_unlink;
	ret = sx_extract_mine(f, NULL);
	if (!ret) {
		/* a detector that cannot run leaves the profile's numbers alone */
		ret = detect_fold(ex, f, held, nheld, v, path);
		if (ret == -ENOMEM || ret == SX_EXTRACT_E_STOPPED)
			goto out_free;
		ret = 0;
	}
	if (!ret)
		ret = sx_extract_write_profile(f, path);
	if (!ret)
		ret = sx_verify_profile_load(path, &ids, &p, msg, sizeof(msg));
	if (ret == -ENOMEM || ret == SX_EXTRACT_E_STOPPED)
		goto out_free;
	if (ret)
		v->failed++; /* no profile: the held-out traffic is denied */
	ret = 0;
	for (size_t h = 0; h < nheld; h++) {
		const char *cap;
		struct sx_verify_cfg cfg = {.npaths = 1,
					    .nthreads = 1,
					    .filter = sx_extract__filter(ex),
					    .stateless = true};
		struct sx_verify_result *r;
		struct sx_verify_summary s;
		struct sx_verify_kind k;
		struct sx_verify_ids own = ids;
		char addr[64];

		sx_extract_capture_status(ex, held[h], &cap, NULL);
		cfg.paths = &cap;
		v->held++;
		if (!p)
			continue;
		/* the device under another lease: self is its address there, as
		 * the firewall has it once device-info says so */
		sx_verify_profile_free(hp);
		hp = NULL;
		own.ipv4 = sx_extract__capture_ipv4(ex, held[h], addr, sizeof(addr));
		if (own.ipv4) {
			ret = sx_verify_profile_load(path, &own, &hp, msg, sizeof(msg));
			if (ret)
				goto out_free;
		}
		ret = sx_verify_run(hp ? hp : p, &cfg, &r);
		if (ret)
			goto out_free;
		sx_verify_result_summary(r, &s);
		v->packets += s.packets;
		v->allowed += s.packets_allowed;
		v->flows += s.flows;
		v->flows_allowed += s.flows_allowed;
		for (size_t i = 0; !ret && sx_verify_result_denied(r, i, &k); i++)
			ret = add_kind(v, &k, (int)held[h]);
		sx_verify_result_free(r);
		if (ret)
			goto out_free;
		cfg.stateless = false;
		ret = sx_verify_run(hp ? hp : p, &cfg, &r);
		if (ret)
			goto out_free;
		sx_verify_result_summary(r, &s);
		v->st_allowed += s.packets_allowed;
		v->st_flows_allowed += s.flows_allowed;
		sx_verify_result_free(r);
	}
out_free:
	sx_verify_profile_free(hp);
	sx_verify_profile_free(p);
	sx_extract_free(f);
out_unlink:
	unlink(path);
	return ret;
}

static int by_captures(const void *a, const void *b)
{
	const struct vkind *x = a, *y = b;

	if (x->captures != y->captures)
		return x->captures > y->captures ? -1 : 1;
	if (x->packets != y->packets)
		return x->packets > y->packets ? -1 : 1;
	return strcmp(x->port, y->port);
}

int sx_extract_validate(struct sx_extract *ex)
{
	const char *tmpdir = getenv("TMPDIR");
	struct sx_validation *v;
	size_t n = 0, ncaps = sx_extract_ncaptures(ex), *ev, *held;
	bool *keep;
	unsigned k;
	int ret = 0;

	if (!sx_extract__mined(ex))
		return -EAGAIN;
	if (!tmpdir || !tmpdir[0])
		tmpdir = "/tmp";
	v = calloc(1, sizeof(*v));
	ev = sx_calloc_array(ncaps ? ncaps : 1, sizeof(*ev));
	held = sx_calloc_array(ncaps ? ncaps : 1, sizeof(*held));
	keep = sx_calloc_array(ncaps ? ncaps : 1, sizeof(*keep));
	if (!v || !ev || !held || !keep) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (size_t i = 0; i < ncaps; i++)
		if (!sx_extract__is_background(ex, i) &&
		    sx_extract_capture_status(ex, i, NULL, NULL) == 0)
			ev[n++] = i;
	qsort_r(ev, n, sizeof(*ev), by_name, ex);
	k = n < 2 ? 0 : n <= LOO_MAX ? (unsigned)n : K_FOLDS;
	for (unsigned f = 0; f < k && !ret; f++) {
		size_t nheld = 0;

		memset(keep, 0, ncaps * sizeof(*keep));
		for (size_t j = 0; j < n; j++) {
			if (j % k == f)
				held[nheld++] = ev[j];
			else
				keep[ev[j]] = true;
		}
		/* the fold's profile and signatures are scratch, read back at
		 * once: not among the outputs a commit group holds back */
		sx_out_group_suspend();
		ret = run_fold(ex, keep, held, nheld, v, tmpdir);
		sx_out_group_resume();
		v->folds++;
	}
	if (ret)
		goto out_free;
	if (v->nkinds) /* no fold (one capture): no kinds, and no array */
		qsort(v->kinds, v->nkinds, sizeof(*v->kinds), by_captures);
	sx_extract__set_validation(ex, v);
	v = NULL;
out_free:
	free(keep);
	free(held);
	free(ev);
	sx_validation_free(v);
	return ret;
}

static double pct(uint64_t a, uint64_t n)
{
	return n ? 100.0 * (double)a / (double)n : 100.0;
}

int sx_extract_validation(const struct sx_extract *ex, double *packets_pct, double *flows_pct)
{
	const struct sx_validation *v = sx_extract__validation(ex);

	if (!v)
		return -EAGAIN;
	*packets_pct = pct(v->allowed, v->packets);
	*flows_pct = pct(v->flows_allowed, v->flows);
	return (int)v->folds;
}

int sx_extract_validation_states(const struct sx_extract *ex, double *packets_pct,
				 double *flows_pct)
{
	const struct sx_validation *v = sx_extract__validation(ex);

	if (!v)
		return -EAGAIN;
	*packets_pct = pct(v->st_allowed, v->packets);
	*flows_pct = pct(v->st_flows_allowed, v->flows);
	return (int)v->folds;
}

void sx_validation_text(const struct sx_validation *v, struct sx_buf *b)
{
	sx_buf_printf(b,
		      "\nValidation: %u folds, %u held-out captures%s (the profile of the others, "
		      "replayed with the firewall's rules)\n",
		      v->folds, v->held, v->folds ? "" : " (fewer than 2 captures: none)");
	if (v->failed)
		sx_buf_printf(b, "  %u folds mined no profile: their captures count as denied\n",
			      v->failed);
	sx_buf_printf(b,
		      "  packets %" PRIu64 ", allowed %.1f%% (with the interactions' states "
		      "%.1f%%)\n",
		      v->packets, pct(v->allowed, v->packets), pct(v->st_allowed, v->packets));
	sx_buf_printf(b,
		      "  flows %" PRIu64 ", allowed %.1f%% (with the interactions' states "
		      "%.1f%%)\n",
		      v->flows, pct(v->flows_allowed, v->flows),
		      pct(v->st_flows_allowed, v->flows));
	if (v->det_held)
		sx_buf_printf(b,
			      "  detected (sigex detect, the signature of the others): %u of %u "
			      "held-out captures, recall %.1f%%\n",
			      v->det_hits, v->det_held, pct(v->det_hits, v->det_held));
	if (v->bg_hours > 0)
		sx_buf_printf(b,
			      "  false detections in the background captures: %" PRIu64
			      " in %.2f h (%.2f per hour)\n",
			      v->bg_false, v->bg_hours, (double)v->bg_false / v->bg_hours);
	for (size_t i = 0; i < v->nkinds && i < KINDS_SHOW; i++) {
		const struct vkind *k = &v->kinds[i];

		if (i == 0)
			sx_buf_printf(b, "  denied (held-out captures, packets, kind, example):\n");
		sx_buf_printf(b, "    %u %" PRIu64 " %s %s%s  e.g. %s%s%s\n", k->captures,
			      k->packets, k->transport, k->port[0] ? k->port : "-",
			      k->captures >= 2 ? " (recurs)" : "", k->peer[0] ? k->peer : "-",
			      k->app[0] ? " " : "", k->app);
	}
}

/* key: a percentage with one decimal, as the report shows it. */
static void kv_pct(struct sx_yw *w, const char *k, uint64_t a, uint64_t n)
{
	char b[32];

	snprintf(b, sizeof(b), "%.1f", pct(a, n));
	sx_yw_str(w, k);
	sx_yw_number(w, b);
}

void sx_validation_yaml(struct sx_yw *w, const struct sx_validation *v)
{
	sx_yw_str(w, "validation");
	sx_yw_map_begin(w);
	sx_yw_kv_u64(w, "folds", v->folds);
	sx_yw_kv_u64(w, "held-out-captures", v->held);
	sx_yw_kv_u64(w, "failed-folds", v->failed);
	sx_yw_kv_u64(w, "packets", v->packets);
	kv_pct(w, "packets-allowed-pct", v->allowed, v->packets);
	sx_yw_kv_u64(w, "flows", v->flows);
	kv_pct(w, "flows-allowed-pct", v->flows_allowed, v->flows);
	kv_pct(w, "stateful-packets-allowed-pct", v->st_allowed, v->packets);
	kv_pct(w, "stateful-flows-allowed-pct", v->st_flows_allowed, v->flows);
	sx_yw_kv_u64(w, "detection-held-out", v->det_held);
	sx_yw_kv_u64(w, "detected", v->det_hits);
	kv_pct(w, "detection-recall-pct", v->det_hits, v->det_held);
	sx_yw_kv_u64(w, "background-false-detections", v->bg_false);
	sx_yw_str(w, "background-hours");
	{
		char h[32];

		snprintf(h, sizeof(h), "%.4f", v->bg_hours);
		sx_yw_number(w, h);
	}
	sx_yw_str(w, "denied");
	sx_yw_seq_begin(w);
	for (size_t i = 0; i < v->nkinds && i < KINDS_SHOW; i++) {
		const struct vkind *k = &v->kinds[i];

		sx_yw_map_begin(w);
		sx_yw_str(w, "transport");
		sx_yw_quoted(w, k->transport);
		sx_yw_str(w, "port");
		sx_yw_quoted(w, k->port);
		sx_yw_kv_u64(w, "captures", k->captures);
		sx_yw_kv_u64(w, "packets", k->packets);
		sx_yw_kv_bool(w, "recurs", k->captures >= 2);
		sx_yw_str(w, "example-peer");
		sx_yw_quoted(w, k->peer);
		sx_yw_str(w, "example-app");
		sx_yw_quoted(w, k->app);
		sx_yw_map_end(w);
	}
	sx_yw_seq_end(w);
	sx_yw_map_end(w);
}
