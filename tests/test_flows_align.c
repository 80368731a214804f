/*
 * test_flows_align.c - placing events in captures (sx_events_place()):
 * relative times from each capture's first packet, rows naming a capture,
 * and alignment of a scripted timeline to the device's activity, on
 * hand-built long captures with a known shift and drift.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "flows/flows.h"
#include "support/frames.h"
#include "support/tmp.h"

TestSuite(flows_align, .timeout = 120);

#define DEVICE "10.0.0.5"
#define NS     SX_NS_PER_SEC

/* The script: offsets (s) of its events, irregular as a real one. */
static const int script[] = {60, 130, 170, 260, 310, 420, 470, 555};
#define NSCRIPT ((int)(sizeof(script) / sizeof(script[0])))

struct cap {
	struct sx_tf_rec *recs;
	uint8_t (*frames)[128];
	size_t n, cap;
};

static void add(struct cap *c, double at, size_t len)
{
	cr_assert(len > 0);
	c->recs[c->n - 1].sec = (int64_t)at;
	c->recs[c->n - 1].usec = (uint32_t)((at - (double)(int64_t)at) * 1e6);
	c->recs[c->n - 1].caplen = (uint32_t)len;
}

static uint8_t *next(struct cap *c)
{
	cr_assert(c->n < c->cap);
	c->recs[c->n].data = c->frames[c->n];
	c->recs[c->n].wirelen = 0;
	return c->frames[c->n++];
}

/*
 * A capture starting at epoch `t0` (its first packet): background DNS every
 * 15 s for 900 s, and after each scripted event (at t0 + offset + shift +
 * drift[i]) the device's reaction: a UDP packet from the phone, then a new
 * TCP connection to a cloud server on a port of its own (event i: port
 * 8000 + i).
 */
static char *long_capture(const char *dir, const char *name, int64_t t0, double shift,
			  const double *drift)
{
	struct cap c = {0};
	char *path = sx_tt_path(dir, name);
	double t;
	int i;

	c.cap = 4096;
	c.recs = calloc(c.cap, sizeof(*c.recs));
	c.frames = calloc(c.cap, sizeof(*c.frames));
	cr_assert(c.recs && c.frames);
	for (t = 0; t < 900; t += 15) {
		add(&c, (double)t0 + t,
		    sx_tf_udp(next(&c), 128, DEVICE, 40000, "10.0.0.1", 53, "q", 1));
		add(&c, (double)t0 + t + 0.01,
		    sx_tf_udp(next(&c), 128, "10.0.0.1", 53, DEVICE, 40000, "a", 1));
	}
	for (i = 0; i < NSCRIPT; i++) {
		double at = (double)t0 + script[i] + shift + drift[i];
		uint16_t port = (uint16_t)(8000 + i);

		add(&c, at, sx_tf_udp(next(&c), 128, "10.0.0.222", 6000, DEVICE, 9999, "c", 1));
		add(&c, at + 0.2,
		    sx_tf_tcp(next(&c), 128, DEVICE, (uint16_t)(50000 + i), "203.0.113.7", port,
			      0x02, NULL, 0));
		add(&c, at + 0.3,
		    sx_tf_tcp(next(&c), 128, "203.0.113.7", port, DEVICE, (uint16_t)(50000 + i),
			      0x12, NULL, 0));
	}
	/* in time order */
	for (size_t a = 1; a < c.n; a++)
		for (size_t b = a; b > 0 && (c.recs[b].sec < c.recs[b - 1].sec ||
					     (c.recs[b].sec == c.recs[b - 1].sec &&
					      c.recs[b].usec < c.recs[b - 1].usec));
		     b--) {
			struct sx_tf_rec r = c.recs[b];

			c.recs[b] = c.recs[b - 1];
			c.recs[b - 1] = r;
		}
	cr_assert_eq(sx_tf_write_pcap(path, 1, c.recs, c.n), 0);
	free(c.recs);
	free(c.frames);
	return path;
}

static struct sx_events *script_events(void)
{
	char text[1024];
	size_t len = 0;
	struct sx_events *ev;
	char msg[256];
	int i;

	for (i = 0; i < NSCRIPT; i++)
		len +=
		    (size_t)snprintf(text + len, sizeof(text) - len, "+%d,step-%d\n", script[i], i);
	cr_assert_eq(sx_events_parse(text, len, &ev, msg, sizeof(msg)), 0, "%s", msg);
	return ev;
}

static void place(const struct sx_events *ev, const char *const *paths, uint32_t n, bool align,
		  struct sx_windows **w, struct sx_align *rep)
{
	struct sx_addr dev = {.family = 4, .b = {10, 0, 0, 5}};
	struct sx_align_cfg cfg = {.paths = paths,
				   .ncaps = n,
				   .align = align,
				   .bound_ns = SX_ALIGN_BOUND_DEFAULT * NS,
				   .tolerance_ns = SX_ALIGN_TOLERANCE_DEFAULT * NS,
				   .device = &dev,
				   .nthreads = 2};
	char msg[256] = "";

	cr_assert_eq(sx_events_place(ev, &cfg, w, rep, msg, sizeof(msg)), 0, "%s", msg);
}

/* The window of event e in capture i. */
static int64_t window_of(const struct sx_windows *w, uint32_t i, uint32_t e)
{
	uint32_t n, k;
	const struct sx_window *win = sx_windows_of(w, i, &n);

	for (k = 0; k < n; k++)
		if (win[k].event == e)
			return win[k].start_ns;
	cr_assert_fail("no window of event %u in capture %u", e, i);
	return 0;
}

Test(flows_align, relative_times_count_from_each_first_packet)
{
	static const double none[NSCRIPT] = {0};
	char *dir = sx_tt_tmpdir();
	char *a = long_capture(dir, "a.pcap", 1000000, 0, none);
	char *b = long_capture(dir, "b.pcap", 2000000, 0, none);
	const char *paths[] = {a, b};
	struct sx_events *ev = script_events();
	struct sx_align rep[2];
	struct sx_windows *w;
	int e;

	place(ev, paths, 2, false, &w, rep);
	for (e = 0; e < NSCRIPT; e++) {
		cr_assert_eq(window_of(w, 0, (uint32_t)e), (1000000LL + script[e]) * NS);
		cr_assert_eq(window_of(w, 1, (uint32_t)e), (2000000LL + script[e]) * NS);
	}
	cr_assert(!rep[0].aligned && rep[0].read && rep[0].events == NSCRIPT);
	sx_windows_free(w);
	sx_events_free(ev);
	free(a);
	free(b);
	sx_tt_rm_tree(dir);
	free(dir);
}

Test(flows_align, rows_name_their_capture)
{
	static const double none[NSCRIPT] = {0};
	static const char text[] = "b.pcap,+100,x\n+10,y\n";
	char *dir = sx_tt_tmpdir();
	char *a = long_capture(dir, "a.pcap", 1000000, 0, none);
	char *b = long_capture(dir, "b.pcap", 2000000, 0, none);
	const char *paths[] = {a, b};
	struct sx_events *ev;
	struct sx_align rep[2];
	struct sx_windows *w;
	uint32_t n;
	char msg[256];

	cr_assert_eq(sx_events_parse(text, strlen(text), &ev, msg, sizeof(msg)), 0);
	place(ev, paths, 2, false, &w, rep);
	sx_windows_of(w, 0, &n);
	cr_assert_eq(n, 1, "a.pcap gets the row without a capture only");
	sx_windows_of(w, 1, &n);
	cr_assert_eq(n, 2);
	cr_assert_eq(window_of(w, 1, 1), 2000100LL * NS);
	sx_windows_free(w);
	sx_events_free(ev);
	/* a name that matches no capture is an error naming it */
	cr_assert_eq(sx_events_parse("c.pcap,+1\n", 10, &ev, msg, sizeof(msg)), 0);
	{
		struct sx_addr dev = {.family = 4};
		struct sx_align_cfg cfg = {.paths = paths, .ncaps = 2, .device = &dev};

		cr_assert_eq(sx_events_place(ev, &cfg, &w, rep, msg, sizeof(msg)), -ENOENT);
		cr_assert(strstr(msg, "no capture named \"c.pcap\""), "%s", msg);
	}
	sx_events_free(ev);
	free(a);
	free(b);
	sx_tt_rm_tree(dir);
	free(dir);
}

/* Known shifts and drift: each window opens within 2.5 s before the
 * device's reaction. */
Test(flows_align, shift_and_drift_are_recovered)
{
	static const double drift_a[NSCRIPT] = {0, 3, -4, 6, 9, 12, 14, 18};
	static const double drift_b[NSCRIPT] = {0, -2, -5, -3, 0, 2, -1, 4};
	static const double shift[2] = {-37, 84.5};
	const double *drift[2] = {drift_a, drift_b};
	char *dir = sx_tt_tmpdir();
	char *a = long_capture(dir, "a.pcap", 1000000, shift[0], drift_a);
	char *b = long_capture(dir, "b.pcap", 2000000, shift[1], drift_b);
	const char *paths[] = {a, b};
	const int64_t t0[2] = {1000000, 2000000};
	struct sx_events *ev = script_events();
	struct sx_align rep[2];
	struct sx_windows *w;
	int e, i;

	place(ev, paths, 2, true, &w, rep);
	for (i = 0; i < 2; i++) {
		cr_assert(rep[i].aligned);
		cr_assert_eq(rep[i].matched, NSCRIPT, "capture %d: %u matched", i, rep[i].matched);
		cr_assert(!rep[i].weak, "capture %d: weak", i);
		cr_assert(llabs(rep[i].shift_ns - (int64_t)(shift[i] * NS)) <= 20 * NS,
			  "capture %d: shift %lld", i, (long long)rep[i].shift_ns);
		for (e = 0; e < NSCRIPT; e++) {
			double truth = (double)t0[i] + script[e] + shift[i] + drift[i][e];
			double got = (double)window_of(w, (uint32_t)i, (uint32_t)e) / NS;

			cr_assert(got <= truth && got >= truth - 2.5,
				  "capture %d event %d: window at %.3f, reaction at %.3f", i, e,
				  got, truth);
		}
	}
	sx_windows_free(w);
	sx_events_free(ev);
	free(a);
	free(b);
	sx_tt_rm_tree(dir);
	free(dir);
}

/* The main job on two runs of the script: one interaction per step, each
 * with its own cloud port, as built. */
Test(flows_align, mined_interactions_are_the_ground_truth)
{
	static const double drift_a[NSCRIPT] = {0, 3, -4, 6, 9, 12, 14, 18};
	static const double drift_b[NSCRIPT] = {0, -2, -5, -3, 0, 2, -1, 4};
	char *dir = sx_tt_tmpdir();
	char *a = long_capture(dir, "a.pcap", 1000000, -37, drift_a);
	char *b = long_capture(dir, "b.pcap", 2000000, 84.5, drift_b);
	char *evp = sx_tt_path(dir, "script.csv"), *prof, *cmd, *out = NULL, *err = NULL;
	char text[1024], want[128];
	size_t len = 0;
	int i;

	for (i = 0; i < NSCRIPT; i++)
		len +=
		    (size_t)snprintf(text + len, sizeof(text) - len, "+%d,step-%d\n", script[i], i);
	cr_assert_eq(sx_tt_write(evp, text, len), 0);
	cr_assert(asprintf(&cmd, "'%s' dev " DEVICE " '%s' '%s' --events '%s' -o '%s/out'",
			   SX_BINARY, a, b, evp, dir) > 0);
	cr_assert_eq(sx_tt_run(cmd, &out, &err), 0, "%s", err);
	/* the shift of each run, within the spread of its drift */
	{
		const char *names[2] = {"a.pcap: ", "b.pcap: "};
		const double truth[2] = {-37, 84.5};

		for (i = 0; i < 2; i++) {
			const char *at = strstr(out, names[i]);
			double got;
			unsigned m, n;

			cr_assert(at, "%s", out);
			cr_assert_eq(sscanf(at + 8, "%lf s, %u of %u", &got, &m, &n), 3, "%s", out);
			cr_assert(got >= truth[i] - 10 && got <= truth[i] + 10, "%s", out);
			cr_assert(m == NSCRIPT && n == NSCRIPT, "%s", out);
		}
	}
	free(cmd);
	cr_assert(asprintf(&cmd, "%s/out/profile.yaml", dir) > 0);
	prof = sx_tt_read(cmd, NULL);
	cr_assert_not_null(prof);
	for (i = 0; i < NSCRIPT; i++) {
		char *at;

		snprintf(want, sizeof(want), "\n  step-%d:\n", i);
		at = strstr(prof, want);
		cr_assert(at, "no interaction step-%d in\n%s", i, prof);
		snprintf(want, sizeof(want), "dst-port: %d", 8000 + i);
		cr_assert(strstr(at, want), "step-%d without its port %d:\n%s", i, 8000 + i, prof);
	}
	free(prof);
	free(cmd);
	free(out);
	free(err);
	free(evp);
	free(a);
	free(b);
	sx_tt_rm_tree(dir);
	free(dir);
}
