/*
 * sigex.c - the library's glue (include/sigex.h): one extraction object that
 * runs the whole pipeline, used by the `sigex` command and by programs that
 * link libsigex.
 *
 * DESIGN
 *
 * Pipeline of sx_extract_mine(), all in one pass over the captures:
 *
 *   sx_flows_new / sx_flows_collect   reader threads (one capture each at a
 *                                     time, largest first) feed the sharded
 *                                     flow table; names are learned
 *   sx_flows_reduce                   flows unit by unit, capture by capture
 *                                     (in the order added), each row going
 *       -> sx_mine_add_row            to the miner (event or background set,
 *       -> the capture's CSV          by capture), and to the capture's CSV
 *   sx_mine_run                       the signature (struct sx_mine_result)
 *
 * then the writers (emit/emit.h) turn the result into
 * pattern.txt, signatures.yaml and profile.yaml.  The flow table, the name
 * table and the miner are freed as soon as the result exists; the result
 * (which borrows nothing) lives as long as the extraction.
 *
 * Order independence.  The miner puts occurrences in a canonical order of
 * its own, so the captures' order matters only to the CSV names when two
 * captures would get the same one: clashes are resolved in the order of
 * (name, path), not of the arguments, so a shuffled command line gives the
 * same files.  The same path added twice is refused: the miner identifies
 * an occurrence by its capture's name.
 *
 * CSVs.  A capture's CSV is named after it: the reference's rule first
 * (the integer before the first dot of its name), else the name itself
 * without its capture extensions ("Setup-C-1-STA.pcap.gz" ->
 * "Setup-C-1-STA.csv"), else (standard input) the first packet's time.
 * Background captures' CSVs go to csv_dir/background/.  The CSVs are
 * written during the reduce under temporary names and renamed into place
 * only once mining succeeded, so a failed extraction replaces no file.
 *
 * The device's address.  The reduce counts, per capture, the packets whose
 * flow has the device's IPv4 address as an end, and tallies the packets of
 * every IPv4 address; an extraction whose device appears in no packet
 * fails (-EADDRNOTAVAIL), naming the addresses the captures hold, most
 * packets first: its profile could say nothing about the device.
 *
 * A device whose DHCP lease changed between captures has an address of its
 * own in some of them (sx_extract__set_capture_ipv4(), `sigex batch`).  The
 * device is one end whatever its lease: the rows of such a capture reach
 * the miner with that address replaced by the extraction's (the key put
 * back in canonical order, the host text replaced when it was the address),
 * so its flows match the other captures' and the profile names the device
 * self as before; its CSV keeps the address captured.  Event alignment
 * follows each capture's own address.
 *
 * Between the events.  With an events file, each event capture's packets
 * outside every window are one more unit of it (flows' cfg.outside, key.event
 * SX_FLOW_NO_EVENT), mined apart (ex->between: one occurrence per capture,
 * the background captures as its background) into single policies of every
 * profile written, merged with the events' (write_merged()): the device's
 * boot and keep-alives, which no window holds.  Those rows reach no CSV and
 * no count of the windows' reports.
 *
 * The whole captures.  With an events file, each event capture's rows, in
 * windows and between alike, are also mined as one occurrence per capture
 * (ex->wide; a background capture is its background): what recurs across
 * the captures but in another window of each, below every event's support,
 * is the device's traffic too.  What neither an event's patterns nor the
 * traffic between the windows hold (wide_only()) is added to the profiles
 * where it changes nothing (sx_emit_profile_merge_extra()); no signature,
 * report or count sees it.  Every merged result's lookups count as the
 * others' (sx_profile_cfg.dns_from): a session in one event to a name
 * looked up in another is written by its name.
 *
 * Errors.  The first failure of a call is described in ex->msg (one line,
 * naming the file or option) and returned; bad captures are data, kept in
 * the per-capture status (ingest's struct sx_file_status), not failures.
 *
 * Stages.  sx_extract_mine() is three stages, also driven one by one by
 * `sigex batch` (src/sigex_int.h), which reads the captures of many
 * extractions with one pool of reader threads: sx_extract__begin (checks,
 * events, names, an empty flow table), the reading (sx_flows_collect here),
 * and sx_extract__finish (reduce, CSVs, mining).  The state between them
 * (events, names, paths, table) lives in the extraction, freed by finish.
 *
 * Threads.  An extraction is driven by one thread at a time; the pipeline
 * starts its reader and matching threads and joins them.  The library's
 * only process-wide state is the stop flag (core/util.h) and the table of
 * temporary output files (core/outfile.h), both atomic.
 */
#include "sigex.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/map.h"
#include "core/outfile.h"
#include "core/text.h"
#include "core/util.h"
#include "emit/emit.h"
#include "flows/flows.h"
#include "ingest/ingest.h"
#include "mine/mine.h"
#include "api/sigex_int.h"
#include "yaml/ydoc.h"

SX_STATIC_ASSERT((int)SX_EXTRACT_E_PCAP == (int)SX_E_PCAP &&
		     (int)SX_EXTRACT_E_LINKTYPE == (int)SX_E_LINKTYPE &&
		     (int)SX_EXTRACT_E_FORMAT == (int)SX_E_FORMAT &&
		     (int)SX_EXTRACT_E_YAML == (int)SX_E_YAML &&
		     (int)SX_EXTRACT_E_USAGE == (int)SX_E_USAGE &&
		     (int)SX_EXTRACT_E_STOPPED == (int)SX_E_STOPPED,
		 "public error codes must match core/err.h");

#define MSG_MAX	  512
#define CSV_FLUSH (256u * 1024u)

#define BG_DIR	  "background"
#define TOP_ADDRS 5	     /* addresses named when the device is in no packet */
#define UNITS_MAX (1u << 26) /* event windows: events x captures */
#define NOTES_MAX 20	     /* empty windows named one by one */

struct capture {
	char *path;
	bool background;
	uint32_t dev_addr;    /* the device's IPv4 address in it, network order;
			       * 0: the extraction's (sx_extract__set_capture_ipv4()) */
	char *csv_name;	      /* NULL: no CSV */
	uint64_t dev_pkts;    /* packets with the device's IPv4 address as an end */
	uint64_t flows, pkts; /* its flows (rows) and their packets */
	struct sx_out out;    /* the CSV, closed under its temporary name */
	bool pending;	      /* out holds a CSV not yet renamed into place */
};

/*
 * One event of an events file: its label's windows, mined on their own (one
 * interaction of the device's profile each).  Without an events file, or
 * when it has one label, there is one, and the outputs are those of one
 * event.
 */
struct label_run {
	const char *label; /* escaped text as in the file (ex->events), "" when none */
	char *name;	   /* policy-style, unique: interaction and folder name */
	struct sx_mine *m;
	struct sx_mine_result *res;
	uint32_t scheduled; /* windows given: events x captures they apply to */
	uint32_t outside;   /* ... that lie outside their capture */
	uint32_t empty;	    /* ... inside, but without a packet of the device */
};

/* Per (event capture, event): what the reduce saw in the window. */
enum {
	UNIT_ROWS = 1,	 /* some flow */
	UNIT_DEVICE = 2, /* a flow of the device */
};

/* Packets by IPv4 address: the entries of a map (core/map.h) under
 * tally_hash(addr); a zeroed map is set up at the first address. */
struct tally_ent {
	uint32_t addr;
	uint64_t pkts;
};

struct sx_extract {
	char *device;
	char *ipv4;
	char *mac, *ipv6, *gateway, *phone, *event, *last_update;
	char *filter, *events_path, *names_path;
	bool stats, all_ports;
	unsigned nthreads;
	int64_t window_ns, duration_ns, idle_ns;
	double support;
	uint64_t seed;
	uint64_t max_flows; /* 0: the flows module's per-thread default */
	uint64_t est_flows; /* presize hint (sx_extract__set_est_flows); 0: default */
	uint64_t capped;    /* flows ended early by the ceiling */

	struct capture *caps;
	size_t ncaps, capcap;

	bool mined;
	struct sx_file_status *status; /* ncaps entries, after mining */
	/* between sx_extract__begin() and sx_extract__finish() */
	struct sx_events *events;
	struct sx_names *names;
	const char **paths;
	struct sx_flows *fl;
	const char *csv_dir; /* borrowed; NULL: no CSVs */
	struct sx_mine_result *res;
	struct sx_validation *val; /* sx_extract_validate(), or NULL */
	uint32_t dev_addr;	   /* ipv4, network order */
	bool addr_late;		   /* made without ipv4: set until finish */
	struct sx_map tally;	   /* of struct tally_ent */
	bool made_bg_dir;	   /* csv_dir/background created by this extraction */
	/* events and their labels (one label_run when no events file) */
	struct label_run *labs;
	unsigned nlabs, sel;
	/* with events: each event capture's traffic outside every window, one
	 * occurrence per capture, mined for the profile's single policies */
	struct label_run between;
	/* with events: each event capture's whole traffic, windows and between
	 * alike, one occurrence per capture (wide_only()) */
	struct label_run wide;
	uint32_t *ev_lab;	    /* label of each event of ex->events */
	uint8_t *unit_seen;	    /* ncaps x events->n, UNIT_* bits */
	struct sx_buf notes;	    /* warnings of the run, one a line */
	int align;		    /* -1: when some time is relative; 0 off; 1 on */
	struct sx_windows *windows; /* the events' windows in each capture */
	struct sx_align *placed;    /* ncaps entries: how they were placed */
	char msg[MSG_MAX];
};

/* ---- small helpers ---- */

static int fail(struct sx_extract *ex, int err, const char *fmt, ...) SX_PRINTF(3, 4);

static int fail(struct sx_extract *ex, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ex->msg, sizeof(ex->msg), fmt, ap);
	va_end(ap);
	return err;
}

static int nomem(struct sx_extract *ex)
{
	return fail(ex, -ENOMEM, "out of memory");
}

/* Replace *slot with a copy of s (NULL clears). */
static int set_str(struct sx_extract *ex, char **slot, const char *s)
{
	char *copy = NULL;

	if (ex->mined)
		return fail(ex, -EBUSY, "options are set before mining");
	if (s) {
		copy = strdup(s);
		if (!copy)
			return nomem(ex);
	}
	free(*slot);
	*slot = copy;
	return 0;
}

static bool is_ip(const char *s, bool v4, bool v6)
{
	unsigned char b[16];

	return (v4 && inet_pton(AF_INET, s, b) == 1) || (v6 && inet_pton(AF_INET6, s, b) == 1);
}

static int secs_to_ns(struct sx_extract *ex, const char *what, double s, bool zero_ok, int64_t *ns)
{
	if (ex->mined)
		return fail(ex, -EBUSY, "options are set before mining");
	if (!sx_seconds_ok(s, zero_ok))
		return fail(ex, -EINVAL, "%s: expected %s number of seconds", what,
			    zero_ok ? "a" : "a positive");
	*ns = (int64_t)(s * 1e9 + 0.5);
	if (!zero_ok && *ns <= 0)
		return fail(ex, -EINVAL, "%s: too small", what);
	return 0;
}

/* ---- life cycle ---- */

const char *sx_extract_version(void)
{
	return SX_VERSION;
}

const char *sx_extract_strerror(int err)
{
	return sx_strerror(err);
}

/* ipv4 NULL: sx_extract__new_unaddressed() */
static int extract_new(const char *device, const char *ipv4, struct sx_extract **out)
{
	struct sx_extract *ex;

	*out = NULL;
	if (!device || !device[0] || (ipv4 && !is_ip(ipv4, true, false)))
		return -EINVAL;
	ex = calloc(1, sizeof(*ex));
	if (!ex)
		return -ENOMEM;
	ex->device = strdup(device);
	ex->ipv4 = ipv4 ? strdup(ipv4) : NULL;
	if (ipv4)
		inet_pton(AF_INET, ipv4, &ex->dev_addr);
	ex->addr_late = !ipv4;
	ex->align = -1;
	if (!ex->device || (ipv4 && !ex->ipv4)) {
		sx_extract_free(ex);
		return -ENOMEM;
	}
	ex->idle_ns = (int64_t)SX_FLOWS_IDLE_DEFAULT * SX_NS_PER_SEC;
	ex->window_ns = (int64_t)SX_FLOWS_WINDOW_DEFAULT * SX_NS_PER_SEC;
	ex->duration_ns = (int64_t)SX_FLOWS_DURATION_DEFAULT * SX_NS_PER_SEC;
	*out = ex;
	return 0;
}

int sx_extract_new(const char *device, const char *ipv4, struct sx_extract **out)
{
	if (!ipv4) {
		*out = NULL;
		return -EINVAL;
	}
	return extract_new(device, ipv4, out);
}

int sx_extract__new_unaddressed(const char *device, struct sx_extract **out)
{
	return extract_new(device, NULL, out);
}

/* mac written as sigex writes MACs into norm; 0, or -EINVAL with ex's
 * message set. */
static int mac_norm(struct sx_extract *ex, const char *mac, char norm[SX_MAC_TEXT_MAX])
{
	uint8_t m[6];

	if (sx_mac_parse(mac, m) || sx_mac_is_zero(m))
		return fail(ex, -EINVAL, "MAC address: expected aa:bb:cc:dd:ee:ff, not \"%s\"",
			    mac);
	sx_mac_str(m, norm, SX_MAC_TEXT_MAX);
	return 0;
}

/* Whether the device's addresses may still be set: before begin, or, for
 * an extraction made without one, until finish. */
static bool addr_settable(const struct sx_extract *ex)
{
	return !ex->mined || (ex->addr_late && ex->fl);
}

int sx_extract__set_address(struct sx_extract *ex, const char *ipv4, const char *mac)
{
	char norm[SX_MAC_TEXT_MAX], *a, *mc = NULL;
	int ret;

	if (!addr_settable(ex))
		return fail(ex, -EBUSY, "addresses are set before mining");
	if (!ipv4 || !is_ip(ipv4, true, false))
		return fail(ex, -EINVAL, "IPv4 address: not an IPv4 address: \"%s\"",
			    ipv4 ? ipv4 : "");
	if (mac && (ret = mac_norm(ex, mac, norm)) != 0)
		return ret;
	a = strdup(ipv4);
	if (mac)
		mc = strdup(norm);
	if (!a || (mac && !mc)) {
		free(a);
		free(mc);
		return nomem(ex);
	}
	free(ex->ipv4);
	ex->ipv4 = a;
	inet_pton(AF_INET, ipv4, &ex->dev_addr);
	if (mac) {
		free(ex->mac);
		ex->mac = mc;
	}
	return 0;
}

/* Remove the CSVs not renamed into place (and a background directory
 * made for them). */
static void csvs_abort(struct sx_extract *ex)
{
	char path[4096];
	size_t i;

	for (i = 0; i < ex->ncaps; i++) {
		if (ex->caps[i].pending)
			sx_out_abort(&ex->caps[i].out);
		ex->caps[i].pending = false;
	}
	if (ex->made_bg_dir && ex->csv_dir &&
	    (size_t)snprintf(path, sizeof(path), "%s/" BG_DIR, ex->csv_dir) < sizeof(path))
		rmdir(path);
	ex->made_bg_dir = false;
}

static void tally_free(struct sx_map *t)
{
	sx_map_fini(t);
	memset(t, 0, sizeof(*t));
}

static void labels_free(struct sx_extract *ex)
{
	unsigned i;

	for (i = 0; i < ex->nlabs; i++) {
		sx_mine_free(ex->labs[i].m);
		sx_mine_result_free(ex->labs[i].res);
		free(ex->labs[i].name);
	}
	free(ex->labs);
	ex->labs = NULL;
	ex->nlabs = ex->sel = 0;
	ex->res = NULL; /* one of the labels' */
	sx_mine_free(ex->between.m);
	sx_mine_result_free(ex->between.res);
	ex->between = (struct label_run){.label = ""};
	sx_mine_free(ex->wide.m);
	sx_mine_result_free(ex->wide.res);
	ex->wide = (struct label_run){.label = ""};
}

static void stages_free(struct sx_extract *ex)
{
	sx_flows_free(ex->fl);
	ex->fl = NULL;
	free(ex->paths);
	ex->paths = NULL;
	sx_names_free(ex->names);
	ex->names = NULL;
	free(ex->unit_seen);
	ex->unit_seen = NULL;
}

void sx_extract_free(struct sx_extract *ex)
{
	size_t i;

	if (!ex)
		return;
	stages_free(ex);
	csvs_abort(ex);
	tally_free(&ex->tally);
	for (i = 0; i < ex->ncaps; i++) {
		free(ex->caps[i].path);
		free(ex->caps[i].csv_name);
	}
	free(ex->caps);
	free(ex->status);
	labels_free(ex);
	sx_windows_free(ex->windows);
	free(ex->placed);
	free(ex->ev_lab);
	sx_events_free(ex->events);
	sx_buf_fini(&ex->notes);
	sx_validation_free(ex->val);
	free(ex->device);
	free(ex->ipv4);
	free(ex->mac);
	free(ex->ipv6);
	free(ex->gateway);
	free(ex->phone);
	free(ex->event);
	free(ex->last_update);
	free(ex->filter);
	free(ex->events_path);
	free(ex->names_path);
	free(ex);
}

const char *sx_extract_message(const struct sx_extract *ex)
{
	return ex->msg;
}

void sx_extract_stop(void)
{
	sx_request_stop();
}

/* ---- options ---- */

int sx_extract_set_mac(struct sx_extract *ex, const char *mac)
{
	char norm[SX_MAC_TEXT_MAX];
	int ret;

	if (!mac)
		return set_str(ex, &ex->mac, NULL);
	ret = mac_norm(ex, mac, norm);
	return ret ? ret : set_str(ex, &ex->mac, norm);
}

int sx_extract_set_ipv6(struct sx_extract *ex, const char *addr)
{
	if (addr && !is_ip(addr, false, true))
		return fail(ex, -EINVAL, "IPv6 address: not an IPv6 address: \"%s\"", addr);
	return set_str(ex, &ex->ipv6, addr);
}

int sx_extract_set_gateway(struct sx_extract *ex, const char *addr)
{
	if (addr && !is_ip(addr, true, true))
		return fail(ex, -EINVAL, "gateway: not an IP address: \"%s\"", addr);
	return set_str(ex, &ex->gateway, addr);
}

int sx_extract_set_phone(struct sx_extract *ex, const char *addr)
{
	if (addr && !is_ip(addr, true, true))
		return fail(ex, -EINVAL, "phone: not an IP address: \"%s\"", addr);
	return set_str(ex, &ex->phone, addr);
}

int sx_extract_set_event_name(struct sx_extract *ex, const char *name)
{
	if (name && !name[0])
		return fail(ex, -EINVAL, "event name: empty");
	return set_str(ex, &ex->event, name);
}

int sx_extract_set_last_update(struct sx_extract *ex, const char *text)
{
	return set_str(ex, &ex->last_update, text);
}

int sx_extract_set_stats(struct sx_extract *ex, bool on)
{
	ex->stats = on;
	return 0;
}

int sx_extract_set_all_ports(struct sx_extract *ex, bool on)
{
	ex->all_ports = on;
	return 0;
}

int sx_extract_set_threads(struct sx_extract *ex, unsigned n)
{
	if (ex->mined)
		return fail(ex, -EBUSY, "options are set before mining");
	if (n > 1024)
		return fail(ex, -EINVAL, "threads: at most 1024");
	ex->nthreads = n;
	return 0;
}

int sx_extract_set_filter(struct sx_extract *ex, const char *bpf)
{
	return set_str(ex, &ex->filter, bpf);
}

int sx_extract_set_window(struct sx_extract *ex, double seconds)
{
	return secs_to_ns(ex, "window", seconds, true, &ex->window_ns);
}

int sx_extract_set_align(struct sx_extract *ex, int on)
{
	if (ex->mined)
		return fail(ex, -EBUSY, "options are set before mining");
	ex->align = on < 0 ? -1 : on > 0;
	return 0;
}

int sx_extract_set_events(struct sx_extract *ex, const char *path, double duration)
{
	int ret =
	    secs_to_ns(ex, "event duration", duration > 0 ? duration : SX_FLOWS_DURATION_DEFAULT,
		       false, &ex->duration_ns);

	return ret ? ret : set_str(ex, &ex->events_path, path);
}

int sx_extract_set_idle_timeout(struct sx_extract *ex, double seconds)
{
	return secs_to_ns(ex, "idle timeout", seconds, false, &ex->idle_ns);
}

int sx_extract_set_names(struct sx_extract *ex, const char *path)
{
	return set_str(ex, &ex->names_path, path);
}

int sx_extract_set_support(struct sx_extract *ex, double fraction)
{
	if (ex->mined)
		return fail(ex, -EBUSY, "options are set before mining");
	if (!(fraction > 0 && fraction <= 1))
		return fail(ex, -EINVAL, "support: expected a fraction in (0, 1]");
	ex->support = fraction;
	return 0;
}

int sx_extract_set_seed(struct sx_extract *ex, uint64_t seed)
{
	if (ex->mined)
		return fail(ex, -EBUSY, "options are set before mining");
	ex->seed = seed;
	return 0;
}

int sx_extract_set_max_flows(struct sx_extract *ex, uint64_t n)
{
	if (ex->mined)
		return fail(ex, -EBUSY, "options are set before mining");
	ex->max_flows = n;
	return 0;
}

/* ---- inputs ---- */

static int add(struct sx_extract *ex, const char *path, bool background)
{
	size_t i;

	if (ex->mined)
		return fail(ex, -EBUSY, "captures are added before mining");
	if (!path || !path[0])
		return fail(ex, -EINVAL, "empty capture path");
	for (i = 0; i < ex->ncaps; i++)
		if (strcmp(ex->caps[i].path, path) == 0)
			return fail(ex, -EINVAL, "%s: capture given twice", path);
	if (ex->ncaps == ex->capcap) {
		size_t ncap = ex->capcap ? ex->capcap * 2 : 16;
		struct capture *nc = sx_realloc_array(ex->caps, ncap, sizeof(*nc));

		if (!nc)
			return nomem(ex);
		ex->caps = nc;
		ex->capcap = ncap;
	}
	ex->caps[ex->ncaps] = (struct capture){.path = strdup(path), .background = background};
	if (!ex->caps[ex->ncaps].path)
		return nomem(ex);
	ex->ncaps++;
	return 0;
}

int sx_extract_add_capture(struct sx_extract *ex, const char *path)
{
	return add(ex, path, false);
}

int sx_extract_add_background(struct sx_extract *ex, const char *path)
{
	return add(ex, path, true);
}

int sx_extract__set_capture_ipv4(struct sx_extract *ex, size_t i, const char *ipv4)
{
	uint32_t a = 0;

	if (!addr_settable(ex))
		return fail(ex, -EBUSY, "addresses are set before mining");
	if (i >= ex->ncaps)
		return fail(ex, -EINVAL, "no capture %zu", i);
	if (ipv4 && inet_pton(AF_INET, ipv4, &a) != 1)
		return fail(ex, -EINVAL, "IPv4 address: not an IPv4 address: \"%s\"", ipv4);
	ex->caps[i].dev_addr = a == ex->dev_addr ? 0 : a;
	return 0;
}

/* The device's address in capture cap, network order. */
static uint32_t cap_dev_addr(const struct sx_extract *ex, const struct capture *cap)
{
	return cap->dev_addr ? cap->dev_addr : ex->dev_addr;
}

const char *sx_extract__capture_ipv4(const struct sx_extract *ex, size_t i, char *buf, size_t bufsz)
{
	if (i >= ex->ncaps || !ex->caps[i].dev_addr ||
	    !inet_ntop(AF_INET, &ex->caps[i].dev_addr, buf, (socklen_t)bufsz))
		return NULL;
	return buf;
}

/* ---- per-capture CSVs ---- */

/* The capture's file name without its capture extensions, into buf;
 * false when nothing is left or it does not fit. */
static bool capture_stem(const char *path, char *buf, size_t bufsz)
{
	static const char *const exts[] = {".gz", ".zst", ".pcapng", ".pcap", ".cap"};
	const char *base = strrchr(path, '/');
	size_t n, i, k;

	base = base ? base + 1 : path;
	n = strlen(base);
	for (k = 0; k < 2; k++) /* one compression extension, one capture one */
		for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
			size_t e = strlen(exts[i]);

			if (n > e && strncasecmp(base + n - e, exts[i], e) == 0) {
				n -= e;
				break;
			}
		}
	if (!n || n >= bufsz || strcmp(path, "-") == 0)
		return false;
	memcpy(buf, base, n);
	buf[n] = '\0';
	return true;
}

/* The name of capture i's CSV (without ".csv"), before clashes are
 * resolved: the reference's integer, else the capture's name, else the
 * first packet's time. */
static void csv_base(const struct sx_extract *ex, size_t i, char *buf, size_t bufsz)
{
	const struct sx_file_status *st = &ex->status[i];
	size_t pre = ex->caps[i].background ? sizeof(BG_DIR) : 0;

	if (pre)
		snprintf(buf, bufsz, BG_DIR "/");
	buf += pre;
	bufsz -= pre;
	if (sx_text_int_name(ex->caps[i].path, buf, bufsz))
		return;
	if (capture_stem(ex->caps[i].path, buf, bufsz))
		return;
	if (st->packets)
		snprintf(buf, bufsz, "%lld", (long long)st->first_sec);
	else
		snprintf(buf, bufsz, "0");
}

static bool name_taken(const struct sx_extract *ex, const char *name)
{
	size_t i;

	for (i = 0; i < ex->ncaps; i++)
		if (ex->caps[i].csv_name && strcmp(ex->caps[i].csv_name, name) == 0)
			return true;
	return false;
}

struct name_order {
	char base[224]; /* leaves room for "-N.csv" within NAME_MAX */
	size_t i;
	const char *path;
};

static int name_order_cmp(const void *a, const void *b)
{
	const struct name_order *x = a, *y = b;
	int c = strcmp(x->base, y->base);

	if (c)
		return c;
	c = strcmp(x->path, y->path);
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Name every readable capture's CSV; clashes resolved in (name, path) order. */
static int name_csvs(struct sx_extract *ex)
{
	struct name_order *o = sx_calloc_array(ex->ncaps + 1, sizeof(*o));
	size_t i, n = 0;
	int ret = 0;

	if (!o)
		return nomem(ex);
	for (i = 0; i < ex->ncaps; i++) {
		if (!ex->status[i].opened)
			continue;
		csv_base(ex, i, o[n].base, sizeof(o[n].base));
		o[n].i = i;
		o[n].path = ex->caps[i].path;
		n++;
	}
	qsort(o, n, sizeof(*o), name_order_cmp);
	for (i = 0; i < n && !ret; i++) {
		char name[256];
		unsigned k;

		snprintf(name, sizeof(name), "%s.csv", o[i].base);
		for (k = 2; name_taken(ex, name); k++)
			snprintf(name, sizeof(name), "%s-%u.csv", o[i].base, k);
		ex->caps[o[i].i].csv_name = strdup(name);
		if (!ex->caps[o[i].i].csv_name)
			ret = nomem(ex);
	}
	free(o);
	return ret;
}

/* Rows of the reduce, one capture after the other. */
struct reduce_ctx {
	struct sx_extract *ex;
	const char *dir; /* NULL: no CSVs */
	uint32_t next;	 /* next capture whose CSV is to be opened */
	uint32_t cur;	 /* the capture whose CSV is open */
	bool open;
	struct sx_out out;
	struct sx_buf b;
	int err;
};

static int csv_open(struct reduce_ctx *rc, uint32_t i)
{
	char path[4096];
	int ret;

	if (rc->ex->caps[i].background && !rc->ex->made_bg_dir) {
		if ((size_t)snprintf(path, sizeof(path), "%s/" BG_DIR, rc->dir) >= sizeof(path))
			return fail(rc->ex, -ENAMETOOLONG, "%s: path too long", rc->dir);
		if (mkdir(path, 0777) == 0)
			rc->ex->made_bg_dir = true;
		else if (errno != EEXIST)
			return fail(rc->ex, -errno, "%s: %s", path, strerror(errno));
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", rc->dir, rc->ex->caps[i].csv_name) >=
	    sizeof(path))
		return fail(rc->ex, -ENAMETOOLONG, "%s: path too long", rc->dir);
	ret = sx_out_open(&rc->out, path, rc->ex->msg, sizeof(rc->ex->msg));
	if (ret)
		return ret;
	rc->open = true;
	rc->cur = i;
	sx_buf_reset(&rc->b);
	sx_flows_csv_header(&rc->b);
	return 0;
}

static int csv_flush(struct reduce_ctx *rc)
{
	int ret = sx_buf_flush(&rc->b, rc->out.f);

	if (ret)
		return fail(rc->ex, ret, "%s: %s", rc->out.path, sx_strerror(ret));
	return 0;
}

/* Finish the open CSV under its temporary name: renamed into place by
 * csvs_commit() once mining succeeded. */
static int csv_close(struct reduce_ctx *rc)
{
	struct capture *cap = &rc->ex->caps[rc->cur];
	int ret = csv_flush(rc);

	rc->open = false;
	if (ret) {
		sx_out_abort(&rc->out);
		return ret;
	}
	ret = sx_out_close(&rc->out, rc->ex->msg, sizeof(rc->ex->msg));
	if (ret)
		return ret;
	cap->out = rc->out;
	cap->pending = true;
	return 0;
}

/* Rename every CSV into place. */
static int csvs_commit(struct sx_extract *ex)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < ex->ncaps; i++) {
		if (!ex->caps[i].pending)
			continue;
		ex->caps[i].pending = false;
		if (ret)
			sx_out_abort(&ex->caps[i].out);
		else
			ret = sx_out_commit(&ex->caps[i].out, ex->msg, sizeof(ex->msg));
	}
	ex->made_bg_dir = false;
	return ret;
}

/* ---- the device's address and the others ---- */

/* The slot hash of an address (a bijection: the first entry found under it
 * is the address's). */
static uint64_t tally_hash(uint32_t addr)
{
	return (uint32_t)(addr * 2654435761u);
}

static int tally_add(struct sx_extract *ex, uint32_t addr, uint64_t pkts)
{
	struct sx_map *t = &ex->tally;
	struct tally_ent *e;
	size_t pos = SX_MAP_START;

	if (!addr)
		return 0;
	if (!t->esize)
		sx_map_init(t, sizeof(struct tally_ent), 256, 50);
	if (sx_map_reserve(t, t->n + 1))
		return nomem(ex);
	e = sx_map_next(t, tally_hash(addr), &pos);
	if (!e) {
		e = sx_map_add(t, tally_hash(addr), pos);
		e->addr = addr;
	}
	e->pkts += pkts;
	return 0;
}

/* Count the row's packets for the device (per capture) and each address;
 * *dev: whether the device is an end. */
static int count_addrs(struct sx_extract *ex, struct capture *cap, const struct sx_flow_rec *r,
		       bool *is_dev)
{
	uint64_t pkts = r->pkts[0] + r->pkts[1];
	bool dev = false;
	int side, ret;

	for (side = SX_SIDE_DEVICE; side <= SX_SIDE_OTHER; side++) {
		struct sx_addr a;
		uint32_t v4;

		sx_flow_rec_end(r, (enum sx_flow_side)side, &a, NULL);
		if (a.family != 4)
			continue;
		memcpy(&v4, a.b, 4);
		dev |= v4 == cap_dev_addr(ex, cap);
		ret = tally_add(ex, v4, pkts);
		if (ret)
			return ret;
	}
	if (dev)
		cap->dev_pkts += pkts;
	*is_dev = dev;
	return 0;
}

struct addr_count {
	uint32_t addr;
	uint64_t pkts;
};

static int addr_count_cmp(const void *a, const void *b)
{
	const struct addr_count *x = a, *y = b;

	if (x->pkts != y->pkts)
		return x->pkts < y->pkts ? 1 : -1;
	return memcmp(&x->addr, &y->addr, 4);
}

/* Fail when the device's address is in no packet, naming the addresses
 * that are, most packets first. */
static int check_device(struct sx_extract *ex)
{
	const struct sx_map *t = &ex->tally;
	const struct tally_ent *e;
	struct addr_count *top;
	size_t i, n = 0, len;
	bool seen = false;

	for (i = 0; i < ex->ncaps; i++)
		seen |= ex->caps[i].dev_pkts > 0;
	if (seen)
		return 0;
	top = sx_calloc_array(t->n + 1, sizeof(*top));
	if (!top)
		return nomem(ex);
	for (i = 0; i < t->cap; i++) {
		e = sx_map_at(t, i);
		if (e)
			top[n++] = (struct addr_count){e->addr, e->pkts};
	}
	qsort(top, n, sizeof(*top), addr_count_cmp);
	for (i = 0; i < ex->ncaps && !ex->caps[i].dev_addr; i++)
		;
	len = (size_t)snprintf(ex->msg, sizeof(ex->msg),
			       "the device's address %s%s is in no packet of the captures",
			       ex->ipv4, i < ex->ncaps ? " (or its own in a capture)" : "");
	for (i = 0; i < n && i < TOP_ADDRS && len < sizeof(ex->msg); i++) {
		char text[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &top[i].addr, text, sizeof(text));
		len += (size_t)snprintf(ex->msg + len, sizeof(ex->msg) - len,
					"%s %s (%llu packets)", i ? "," : "; they hold", text,
					(unsigned long long)top[i].pkts);
	}
	if (n > TOP_ADDRS && len < sizeof(ex->msg))
		snprintf(ex->msg + len, sizeof(ex->msg) - len, " and %zu more", n - TOP_ADDRS);
	else if (!n && len < sizeof(ex->msg))
		snprintf(ex->msg + len, sizeof(ex->msg) - len, "; they hold no IPv4 packet");
	free(top);
	return -EADDRNOTAVAIL;
}

/* Finish every CSV before capture upto (header-only files included) and
 * open capture upto's when it has one. */
static int csv_advance(struct reduce_ctx *rc, uint32_t upto)
{
	int ret;

	while (rc->next <= upto && rc->next < rc->ex->ncaps) {
		if (rc->open) {
			ret = csv_close(rc);
			if (ret)
				return ret;
		}
		if (rc->ex->caps[rc->next].csv_name) {
			ret = csv_open(rc, rc->next);
			if (ret)
				return ret;
		}
		rc->next++;
	}
	return 0;
}

/* Move the ends of k that are at IPv4 address from to address to. */
static void key_move(struct sx_flow_key *k, const uint8_t *from, const uint8_t *to)
{
	if (!memcmp(k->lo_addr, from, 4))
		memcpy(k->lo_addr, to, 4);
	if (!memcmp(k->hi_addr, from, 4))
		memcpy(k->hi_addr, to, 4);
}

/*
 * The row of a capture where the device has an address of its own, as the
 * miner sees it (see the top): that address replaced by the extraction's
 * in the key (lo and hi swapped back into order, dev following) and in the
 * host and address texts that are the address.  *out borrows row's
 * strings and text, room for the extraction's address as text.
 */
static void row_as_device(const struct sx_extract *ex, const struct capture *cap,
			  const struct sx_flow_row *row, struct sx_flow_row *out,
			  char text[INET_ADDRSTRLEN])
{
	struct sx_flow_key *k = &out->rec.key;
	char from[INET_ADDRSTRLEN];
	const char **strs[4] = {&out->dev_host, &out->other_host, &out->dev_addr, &out->other_addr};
	int c, i;

	*out = *row;
	key_move(k, (const uint8_t *)&cap->dev_addr, (const uint8_t *)&ex->dev_addr);
	c = memcmp(k->lo_addr, k->hi_addr, sizeof(k->lo_addr));
	if (c > 0 || (c == 0 && k->lo_port > k->hi_port)) {
		uint8_t a[16];
		uint16_t p = k->lo_port;

		memcpy(a, k->lo_addr, sizeof(a));
		memcpy(k->lo_addr, k->hi_addr, sizeof(a));
		memcpy(k->hi_addr, a, sizeof(a));
		k->lo_port = k->hi_port;
		k->hi_port = p;
		out->rec.dev ^= 1;
	}
	inet_ntop(AF_INET, &cap->dev_addr, from, sizeof(from));
	inet_ntop(AF_INET, &ex->dev_addr, text, INET_ADDRSTRLEN);
	for (i = 0; i < 4; i++)
		if (*strs[i] && !strcmp(*strs[i], from))
			*strs[i] = text;
}

/* The row to miner m, in the set of its capture. */
static int mine_row(struct sx_extract *ex, struct sx_mine *m, const struct capture *cap,
		    const struct sx_flow_row *row)
{
	int ret = sx_mine_add_row(m, cap->background ? SX_MINE_BACKGROUND : SX_MINE_EVENT, 0, row);

	if (ret == -EEXIST)
		return fail(ex, -EINVAL, "%s: capture given twice", cap->path);
	return ret ? nomem(ex) : 0;
}

/* Give the row to its label's miner (a background row: to every label's). */
static int route_row(struct sx_extract *ex, const struct capture *cap,
		     const struct sx_flow_row *row)
{
	uint32_t event = row->rec.key.event;
	unsigned i, lo = 0, hi = ex->nlabs;
	int ret = 0;

	if (!cap->background && ex->ev_lab && event != SX_FLOW_NO_EVENT && event < ex->events->n) {
		lo = ex->ev_lab[event];
		hi = lo + 1;
	} else if (!cap->background) {
		hi = 1;
	}
	for (i = lo; i < hi && !ret; i++)
		ret = mine_row(ex, ex->labs[i].m, cap, row);
	return ret;
}

static int reduce_row(void *arg, const struct sx_flow_row *row)
{
	struct reduce_ctx *rc = arg;
	struct sx_extract *ex = rc->ex;
	uint32_t file = row->rec.key.file;
	uint32_t event = row->rec.key.event;
	struct capture *cap = &ex->caps[file];
	const struct sx_flow_row *mined = row; /* the CSV keeps the captured address */
	struct sx_flow_row as_dev;
	char text[INET_ADDRSTRLEN];
	bool dev;
	int ret;

	if (cap->dev_addr && row->rec.key.family == 4) {
		row_as_device(ex, cap, row, &as_dev, text);
		mined = &as_dev;
	}
	/* With events, a row of no window is an event capture's traffic
	 * between them, mined on its own and in no count or CSV of the
	 * windows; a background capture (no window) is all such rows, and
	 * also every label's background as without events. */
	if (ex->wide.m) {
		struct sx_flow_row whole = *mined;

		whole.rec.key.event = SX_FLOW_NO_EVENT;
		whole.event_label = "";
		whole.event_ns = 0;
		ret = mine_row(ex, ex->wide.m, cap, &whole);
		if (ret)
			return ret;
	}
	if (ex->events && event == SX_FLOW_NO_EVENT) {
		ret = mine_row(ex, ex->between.m, cap, mined);
		if (ret || !cap->background)
			return ret;
	}
	ret = route_row(ex, cap, mined);
	if (ret)
		return ret;
	ret = count_addrs(ex, cap, &row->rec, &dev);
	if (ret)
		return ret;
	if (ex->unit_seen && event != SX_FLOW_NO_EVENT && event < ex->events->n)
		ex->unit_seen[(size_t)file * ex->events->n + event] |=
		    (uint8_t)(UNIT_ROWS | (dev ? UNIT_DEVICE : 0));
	cap->flows++;
	cap->pkts += row->rec.pkts[0] + row->rec.pkts[1];
	if (!rc->dir)
		return 0;
	if (file >= rc->next) {
		ret = csv_advance(rc, file);
		if (ret)
			return ret;
	}
	if (!rc->open)
		return 0;
	sx_flows_csv_row(&rc->b, row);
	if (rc->b.len >= CSV_FLUSH)
		return csv_flush(rc);
	return 0;
}

/* ---- mining ---- */

/* A bad filter is the caller's error, found once, not once per capture. */
static int check_filter(struct sx_extract *ex)
{
	char why[256];
	int ret = sx_ingest_bpf_check(ex->filter, why, sizeof(why));

	if (ret == SX_E_USAGE)
		return fail(ex, -EINVAL, "bad filter \"%s\": %s", ex->filter, why);
	return ret ? nomem(ex) : 0;
}

/* ---- events and their labels ---- */

struct label_order {
	const char *label;
	uint32_t first; /* first event with it */
};

static int label_order_cmp(const void *a, const void *b)
{
	return strcmp(((const struct label_order *)a)->label,
		      ((const struct label_order *)b)->label);
}

/* A folder and interaction name for label, unique among labs[0..n). */
static char *label_name(const struct label_run *labs, unsigned n, const char *label)
{
	char base[SX_EVENT_LABEL_MAX], name[SX_EVENT_LABEL_MAX + 16];
	unsigned k, i;

	if (!sx_emit_profile_id(label, base, sizeof(base))[0])
		snprintf(base, sizeof(base), "%s", SX_PROFILE_EVENT_DEFAULT);
	for (k = 1;; k++) {
		bool taken = false;

		if (k == 1)
			snprintf(name, sizeof(name), "%s", base);
		else
			snprintf(name, sizeof(name), "%s-%u", base, k);
		for (i = 0; i < n && !taken; i++)
			taken = strcmp(labs[i].name, name) == 0;
		if (!taken)
			return strdup(name);
	}
}

/*
 * The events' distinct labels, in name order (unlabelled events: one label
 * ""), each a label_run; ev_lab maps events to them.  Without an events
 * file: one label_run.
 */
static int labels_setup(struct sx_extract *ex)
{
	const struct sx_events *ev = ex->events;
	struct label_order *ord;
	uint32_t i, n = 0;

	labels_free(ex);
	if (!ev) {
		ex->labs = calloc(1, sizeof(*ex->labs));
		if (!ex->labs)
			return nomem(ex);
		ex->labs[0].label = "";
		ex->nlabs = 1;
		return 0;
	}
	ord = sx_calloc_array(ev->n, sizeof(*ord));
	ex->ev_lab = sx_calloc_array(ev->n, sizeof(*ex->ev_lab));
	ex->labs = sx_calloc_array(ev->n, sizeof(*ex->labs));
	if (!ord || !ex->ev_lab || !ex->labs) {
		free(ord);
		return nomem(ex);
	}
	for (i = 0; i < ev->n; i++) {
		uint32_t j;

		for (j = 0; j < n && strcmp(ord[j].label, ev->ev[i].label); j++)
			;
		if (j == n)
			ord[n++] = (struct label_order){ev->ev[i].label, i};
	}
	qsort(ord, n, sizeof(*ord), label_order_cmp);
	for (i = 0; i < n; i++) {
		ex->labs[i].label = ord[i].label;
		ex->labs[i].name = label_name(ex->labs, i, ord[i].label);
		ex->nlabs = i + 1;
		if (!ex->labs[i].name) {
			free(ord);
			return nomem(ex);
		}
	}
	for (i = 0; i < ev->n; i++) {
		uint32_t j;

		for (j = 0; strcmp(ex->labs[j].label, ev->ev[i].label); j++)
			;
		ex->ev_lab[i] = j;
	}
	free(ord);
	return 0;
}

/* The events' windows in each event capture: relative times from each
 * capture's first packet, scripted times aligned to the device's activity
 * (flows/flow_align.c). */
static int place_events(struct sx_extract *ex)
{
	struct sx_addr dev = {.family = 4}, *devs;
	char why[MSG_MAX - 64] = "";
	struct sx_align_cfg acfg;
	bool *applies;
	size_t i;
	int ret;

	memcpy(dev.b, &ex->dev_addr, 4);
	applies = sx_calloc_array(ex->ncaps + 1, sizeof(*applies));
	devs = sx_calloc_array(ex->ncaps + 1, sizeof(*devs));
	ex->placed = sx_calloc_array(ex->ncaps + 1, sizeof(*ex->placed));
	if (!applies || !devs || !ex->placed) {
		free(applies);
		free(devs);
		return nomem(ex);
	}
	for (i = 0; i < ex->ncaps; i++) {
		uint32_t a = cap_dev_addr(ex, &ex->caps[i]);

		applies[i] = !ex->caps[i].background;
		devs[i].family = 4;
		memcpy(devs[i].b, &a, 4);
	}
	acfg =
	    (struct sx_align_cfg){.paths = ex->paths,
				  .ncaps = (uint32_t)ex->ncaps,
				  .applies = applies,
				  .align = ex->align < 0 ? ex->events->any_relative : ex->align > 0,
				  .bound_ns = SX_ALIGN_BOUND_DEFAULT * SX_NS_PER_SEC,
				  .tolerance_ns = SX_ALIGN_TOLERANCE_DEFAULT * SX_NS_PER_SEC,
				  .device = &dev,
				  .dev_of = devs,
				  .nthreads = ex->nthreads,
				  .filter = ex->filter};
	ret = sx_events_place(ex->events, &acfg, &ex->windows, ex->placed, why, sizeof(why));
	free(applies);
	free(devs);
	if (ret == -ENOMEM)
		return nomem(ex);
	if (ret == SX_E_STOPPED)
		return fail(ex, ret, "interrupted");
	return ret ? fail(ex, SX_E_USAGE, "events file: %s: %s", ex->events_path, why) : 0;
}

int sx_extract__begin(struct sx_extract *ex, const char *csv_dir, struct sx_extract_io *io)
{
	struct sx_flows_cfg fcfg;
	uint64_t est;
	struct stat st;
	size_t i;
	bool have_event = false;
	int ret;

	memset(io, 0, sizeof(*io));
	ex->msg[0] = '\0';
	if (ex->mined)
		return fail(ex, -EBUSY, "already mined");
	for (i = 0; i < ex->ncaps; i++)
		have_event |= !ex->caps[i].background;
	if (!have_event)
		return fail(ex, -EINVAL, "no event capture given");
	if (ex->events_path && ex->window_ns > 0)
		return fail(ex, -EINVAL, "a window and an events file cannot be combined");
	if (csv_dir && (stat(csv_dir, &st) != 0 || !S_ISDIR(st.st_mode)))
		return fail(ex, -ENOTDIR, "%s: not a directory", csv_dir);
	if (!ex->ipv4 && ex->events_path)
		return fail(ex, -EINVAL,
			    "an events file's windows are placed by the device's "
			    "address: set it before reading");
	if (ex->filter) {
		ret = check_filter(ex);
		if (ret)
			return ret;
	}
	if (ex->events_path) {
		char why[MSG_MAX - 32] = "";

		ret = sx_events_load(ex->events_path, &ex->events, why, sizeof(why));
		if (ret == -ENOMEM)
			return nomem(ex);
		if (ret)
			return fail(ex, ret == SX_E_FORMAT ? SX_E_USAGE : ret, "events file: %s",
				    why[0] ? why : sx_strerror(ret));
		if ((uint64_t)ex->events->n * ex->ncaps > UNITS_MAX)
			return fail(ex, -E2BIG,
				    "events file: %u events in %zu captures: more than %u windows",
				    ex->events->n, ex->ncaps, UNITS_MAX);
		ex->unit_seen = calloc((size_t)ex->events->n * ex->ncaps, 1);
		if (!ex->unit_seen)
			return nomem(ex);
	}
	ret = labels_setup(ex);
	if (ret)
		goto out_stages;
	ret = sx_names_new(&ex->names);
	if (ret) {
		ret = nomem(ex);
		goto out_stages;
	}
	if (ex->names_path) {
		ret = sx_names_load(ex->names, ex->names_path, ex->msg, sizeof(ex->msg));
		if (ret) {
			ret = ret == -ENOMEM ? nomem(ex) : ret;
			goto out_stages;
		}
	}
	ex->paths = sx_calloc_array(ex->ncaps + 1, sizeof(*ex->paths));
	ex->status = sx_calloc_array(ex->ncaps + 1, sizeof(*ex->status));
	if (!ex->paths || !ex->status) {
		ret = nomem(ex);
		goto out_stages;
	}
	for (i = 0; i < ex->ncaps; i++)
		ex->paths[i] = ex->caps[i].path;
	if (ex->events) {
		ret = place_events(ex);
		if (ret)
			goto out_stages;
	}
	ex->mined = true;
	ex->csv_dir = csv_dir;
	/* A table sized for the captures: a few small ones get a small one
	 * (64 shards of 1024 buckets cost more than reading them). */
	est =
	    ex->est_flows ? ex->est_flows : sx_flows_estimate(ex->paths, NULL, (uint32_t)ex->ncaps);
	fcfg = (struct sx_flows_cfg){.seed = ex->seed,
				     .idle_ns = ex->idle_ns,
				     .window_ns = ex->events ? 0 : ex->window_ns,
				     .events = ex->events,
				     .windows = ex->windows,
				     .duration_ns = ex->duration_ns,
				     .outside = ex->events != NULL,
				     .est_flows = est,
				     .max_flows = ex->max_flows};
	ret = sx_flows_new(&fcfg, &ex->fl);
	if (ret) {
		fail(ex, ret, "flow table: %s", sx_strerror(ret));
		goto out_stages;
	}
	*io = (struct sx_extract_io){.fl = ex->fl,
				     .names = ex->names,
				     .status = ex->status,
				     .paths = ex->paths,
				     .ncaps = (uint32_t)ex->ncaps,
				     .nthreads = ex->nthreads,
				     .filter = ex->filter};
	return 0;
out_stages:
	stages_free(ex);
	return ret;
}

static int64_t status_ns(int64_t sec, uint32_t nsec)
{
	return sec * SX_NS_PER_SEC + nsec;
}

/* A warning of the run, one line (sx_extract_notes()). */
static void note(struct sx_extract *ex, const char *fmt, ...) SX_PRINTF(2, 3);

static void note(struct sx_extract *ex, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sx_buf_vprintf(&ex->notes, fmt, ap);
	va_end(ap);
	sx_buf_putc(&ex->notes, '\n');
	/* sx_extract_notes() hands out a C string */
	if (!sx_buf_reserve(&ex->notes, 1))
		ex->notes.data[ex->notes.len] = '\0';
}

static void fmt_secs(char *buf, size_t bufsz, int64_t ns)
{
	snprintf(buf, bufsz, "%lld.%03lld", (long long)(ns / SX_NS_PER_SEC),
		 (long long)(ns % SX_NS_PER_SEC / 1000000));
}

/*
 * The windows of the events file, now that the captures' spans are known:
 * a window inside an event capture (overlapping its first to latest packet)
 * is an occurrence of its label, whether it holds a packet of the device
 * or not; one without any flow is declared to the miner as an empty unit.
 * An event inside no capture is counted (outside) and named.  Returns 0 or
 * -ENOMEM.
 */
static int schedule(struct sx_extract *ex)
{
	const struct sx_events *ev = ex->events;
	unsigned nnotes = 0;
	uint64_t unnamed = 0;
	bool *inside;
	uint32_t e;
	size_t i;

	inside = sx_calloc_array(ev->n + 1, sizeof(*inside));
	if (!inside)
		return nomem(ex);
	for (i = 0; i < ex->ncaps; i++) {
		const struct sx_file_status *st = &ex->status[i];
		int64_t first = status_ns(st->first_sec, st->first_nsec);
		int64_t last = status_ns(st->last_sec, st->last_nsec);
		const struct sx_window *w;
		uint32_t n, k;

		w = sx_windows_of(ex->windows, (uint32_t)i, &n);
		for (k = 0; k < n && !ex->caps[i].background && st->packets; k++) {
			int64_t s = w[k].start_ns;
			struct label_run *l;
			uint8_t seen;
			char when[32];

			e = w[k].event;
			l = &ex->labs[ex->ev_lab[e]];
			seen = ex->unit_seen[i * ev->n + e];
			if (s > last || s + ex->duration_ns <= first)
				continue;
			inside[e] = true;
			l->scheduled++;
			if (!(seen & UNIT_ROWS) &&
			    sx_mine_add_unit(l->m, SX_MINE_EVENT, 0, ex->caps[i].path, e, s,
					     ev->ev[e].label)) {
				free(inside);
				return nomem(ex);
			}
			if (seen & UNIT_DEVICE)
				continue;
			l->empty++;
			fmt_secs(when, sizeof(when), s);
			if (nnotes++ < NOTES_MAX)
				note(ex,
				     "%s: event \"%s\" at %s (+%.1f s): no packet of the device in "
				     "its window; counted as an occurrence without the patterns",
				     ex->caps[i].path, ev->ev[e].label, when,
				     (double)(s - first) / SX_NS_PER_SEC);
			else
				unnamed++;
		}
	}
	for (e = 0; e < ev->n; e++) {
		char when[32];

		if (inside[e])
			continue;
		ex->labs[ex->ev_lab[e]].outside++;
		if (ev->ev[e].relative)
			snprintf(when, sizeof(when), "+%.1f s",
				 (double)ev->ev[e].start_ns / SX_NS_PER_SEC);
		else
			fmt_secs(when, sizeof(when), ev->ev[e].start_ns);
		note(ex, "event \"%s\" at %s (line %lu) is outside every capture%s",
		     ev->ev[e].label, when, ev->ev[e].line, ev->ev[e].capture ? " it names" : "");
	}
	free(inside);
	if (unnamed)
		note(ex, "%llu more windows without a packet of the device",
		     (unsigned long long)unnamed);
	return ex->notes.err ? nomem(ex) : 0;
}

/* Mine every label that has an occurrence holding the device. */
static int mine_labels(struct sx_extract *ex)
{
	unsigned i, mined = 0;
	int ret;

	for (i = 0; i < ex->nlabs; i++) {
		struct label_run *l = &ex->labs[i];

		if (!sx_mine_noccs(l->m))
			continue;
		if (ex->events && l->empty == l->scheduled) {
			note(ex,
			     "event \"%s\": no packet of the device in any of its %u windows; "
			     "not mined",
			     l->label, l->scheduled);
			continue;
		}
		ret = sx_mine_run(l->m, &l->res);
		if (ret)
			return fail(ex, ret, "mining: %s", sx_strerror(ret));
		if (!mined++)
			ex->sel = i;
	}
	if (!mined)
		return fail(ex, -ENODATA,
			    "no occurrence to mine: no event capture could be read, holds an IP "
			    "packet%s",
			    ex->events ? ", or a packet of the device in an event window" : "");
	ex->res = ex->labs[ex->sel].res;
	/* the traffic between the windows, when it recurs */
	if (ex->between.m && sx_mine_noccs(ex->between.m)) {
		ret = sx_mine_run(ex->between.m, &ex->between.res);
		if (ret)
			return fail(ex, ret, "mining between the events: %s", sx_strerror(ret));
	}
	if (ex->wide.m && sx_mine_noccs(ex->wide.m)) {
		ret = sx_mine_run(ex->wide.m, &ex->wide.res);
		if (ret)
			return fail(ex, ret, "mining the whole captures: %s", sx_strerror(ret));
	}
	return 0;
}

/* Reduce (feeding the miners and the CSVs), then mine. */
static int reduce_and_mine(struct sx_extract *ex, unsigned mine_threads)
{
	struct sx_mine_cfg mcfg = {.support = ex->support,
				   .seed = ex->seed,
				   .nthreads = mine_threads   ? mine_threads
					       : ex->nthreads ? ex->nthreads
							      : sx_nproc()};
	struct reduce_ctx rc = {.ex = ex, .dir = ex->csv_dir};
	unsigned i, outside;
	int ret;

	ret = ex->csv_dir ? name_csvs(ex) : 0;
	if (ret)
		return ret;
	for (i = 0; i < ex->nlabs; i++) {
		ret = sx_mine_new(&mcfg, &ex->labs[i].m);
		if (ret)
			return fail(ex, ret, "miner: %s", sx_strerror(ret));
	}
	if (ex->events) {
		ret = sx_mine_new(&mcfg, &ex->between.m);
		if (!ret)
			ret = sx_mine_new(&mcfg, &ex->wide.m);
		if (ret)
			return fail(ex, ret, "miner: %s", sx_strerror(ret));
	}
	sx_buf_init(&rc.b);
	ret = sx_flows_reduce(ex->fl, ex->paths, (uint32_t)ex->ncaps, ex->names, reduce_row, &rc);
	if (!ret && ex->csv_dir)
		ret = csv_advance(&rc, (uint32_t)ex->ncaps);
	if (!ret && rc.open)
		ret = csv_close(&rc);
	if (rc.open)
		sx_out_abort(&rc.out);
	sx_buf_fini(&rc.b);
	if (ret) {
		if (!ex->msg[0])
			fail(ex, ret, "flows: %s", sx_strerror(ret));
		return ret;
	}
	sx_flows_free(ex->fl);
	ex->fl = NULL;
	if (ex->events) {
		ret = schedule(ex);
		if (ret)
			return ret;
	}
	for (i = 0, outside = 0; i < ex->nlabs; i++)
		outside += ex->labs[i].outside;
	if (ex->events && outside == ex->events->n)
		return fail(ex, -ENODATA,
			    "no occurrence to mine: the %u events are outside every capture "
			    "(times are absolute: epoch seconds or ISO 8601 with a zone)",
			    outside);
	for (i = 0; i < ex->nlabs && !sx_mine_noccs(ex->labs[i].m); i++)
		;
	if (i == ex->nlabs)
		return fail(ex, -ENODATA,
			    "no occurrence to mine: no event capture could be read or holds an IP "
			    "packet%s",
			    ex->events ? " in an event window" : "");
	/* every window without the device: each label is reported as such
	 * (mine_labels()), not the device's address as missing */
	for (i = 0; ex->events && i < ex->nlabs; i++)
		if (ex->labs[i].scheduled > ex->labs[i].empty)
			break;
	if (!ex->events || i < ex->nlabs) {
		ret = check_device(ex);
		if (ret)
			return ret;
	}
	return mine_labels(ex);
}

int sx_extract__finish(struct sx_extract *ex, int read_err, unsigned mine_threads)
{
	struct sx_flows_stats fst;
	int ret = read_err;

	if (!ex->fl)
		return fail(ex, -EINVAL, "nothing read");
	if (!ex->ipv4 && !ret)
		ret = fail(ex, -EINVAL, "no device address was set");
	sx_flows_get_stats(ex->fl, &fst);
	ex->capped = fst.capped;
	if (ret)
		fail(ex, ret, "reading the captures: %s", sx_strerror(ret));
	else
		ret = reduce_and_mine(ex, mine_threads);
	stages_free(ex);
	tally_free(&ex->tally);
	if (!ret)
		ret = csvs_commit(ex);
	for (unsigned i = 0; i < ex->nlabs; i++) {
		sx_mine_free(ex->labs[i].m);
		ex->labs[i].m = NULL;
	}
	sx_mine_free(ex->between.m);
	ex->between.m = NULL;
	sx_mine_free(ex->wide.m);
	ex->wide.m = NULL;
	if (ret) {
		csvs_abort(ex);
		for (unsigned i = 0; i < ex->nlabs; i++) {
			sx_mine_result_free(ex->labs[i].res);
			ex->labs[i].res = NULL;
		}
		sx_mine_result_free(ex->between.res);
		ex->between.res = NULL;
		sx_mine_result_free(ex->wide.res);
		ex->wide.res = NULL;
		ex->res = NULL;
	}
	return ret;
}

int sx_extract_mine(struct sx_extract *ex, const char *csv_dir)
{
	struct sx_extract_io io;
	struct sx_ingest_cfg icfg;
	int ret;

	ret = sx_extract__begin(ex, csv_dir, &io);
	if (ret)
		return ret;
	icfg = (struct sx_ingest_cfg){
	    .paths = io.paths, .npaths = io.ncaps, .nthreads = io.nthreads, .filter = io.filter};
	ret = sx_flows_collect(io.fl, &icfg, io.names, io.status);
	return sx_extract__finish(ex, ret, 0);
}

/* ---- results ---- */

size_t sx_extract_ncaptures(const struct sx_extract *ex)
{
	return ex->ncaps;
}

int sx_extract_capture_status(const struct sx_extract *ex, size_t i, const char **path,
			      const char **message)
{
	const struct sx_file_status *st;

	if (i >= ex->ncaps)
		return -ERANGE;
	if (path)
		*path = ex->caps[i].path;
	if (message)
		*message = "";
	if (!ex->status)
		return -EAGAIN;
	st = &ex->status[i];
	if (message)
		*message = st->msg;
	if (st->err)
		return st->err;
	return st->warn_empty ? 1 : 0;
}

const char *sx_extract_csv_name(const struct sx_extract *ex, size_t i)
{
	return i < ex->ncaps && ex->res ? ex->caps[i].csv_name : NULL;
}

uint64_t sx_extract_device_packets(const struct sx_extract *ex, size_t i)
{
	return i < ex->ncaps ? ex->caps[i].dev_pkts : 0;
}

unsigned sx_extract_noccurrences(const struct sx_extract *ex)
{
	return ex->res ? ex->res->noccs : 0;
}

uint64_t sx_extract_flows_capped(const struct sx_extract *ex)
{
	return ex->capped;
}

unsigned sx_extract_npatterns(const struct sx_extract *ex)
{
	return ex->res ? ex->res->npatterns : 0;
}

unsigned sx_extract_nbackground(const struct sx_extract *ex)
{
	return ex->res ? ex->res->nbackground + ex->res->nperiodic : 0;
}

/* ---- outputs ---- */

static int need_result(struct sx_extract *ex)
{
	ex->msg[0] = '\0';
	if (!ex->res)
		return fail(ex, -EAGAIN, "nothing mined yet");
	return 0;
}

/* The selected event's windows, for the reports; NULL without events. */
static const struct sx_emit_schedule *schedule_of(const struct sx_extract *ex,
						  struct sx_emit_schedule *s)
{
	const struct label_run *l;

	if (!ex->events || ex->sel >= ex->nlabs)
		return NULL;
	l = &ex->labs[ex->sel];
	*s = (struct sx_emit_schedule){l->scheduled, l->empty, l->outside};
	return s;
}

static int report(struct sx_extract *ex, struct sx_buf *b)
{
	struct sx_emit_schedule sched;
	struct sx_emit_opts eo = {.all_ports = ex->all_ports, .schedule = schedule_of(ex, &sched)};

	sx_buf_init(b);
	sx_emit_report(b, ex->res, &eo);
	if (ex->val)
		sx_validation_text(ex->val, b);
	if (b->err) {
		sx_buf_fini(b);
		return nomem(ex);
	}
	return 0;
}

int sx_extract_write_patterns(struct sx_extract *ex, const char *path)
{
	struct sx_buf b;
	struct sx_out out;
	int ret = need_result(ex);

	if (ret || (ret = report(ex, &b)))
		return ret;
	ret = sx_out_open(&out, path, ex->msg, sizeof(ex->msg));
	if (ret)
		goto out_buf;
	ret = sx_buf_flush(&b, out.f);
	if (ret) {
		fail(ex, ret, "%s: %s", path, sx_strerror(ret));
		sx_out_abort(&out);
		goto out_buf;
	}
	ret = sx_out_commit(&out, ex->msg, sizeof(ex->msg));
out_buf:
	sx_buf_fini(&b);
	return ret;
}

int sx_extract_print_report(struct sx_extract *ex, FILE *f)
{
	struct sx_buf b;
	int ret = need_result(ex);

	if (ret || (ret = report(ex, &b)))
		return ret;
	ret = sx_buf_flush(&b, f);
	if (!ret && fflush(f) != 0)
		ret = -errno;
	if (ret)
		fail(ex, ret, "report: %s", sx_strerror(ret));
	sx_buf_fini(&b);
	return ret;
}

/* signatures.yaml's validation section (an sx_emit_section_fn). */
static void validation_section(struct sx_yw *w, const void *v)
{
	sx_validation_yaml(w, v);
}

int sx_extract_write_signatures(struct sx_extract *ex, const char *path)
{
	struct sx_emit_schedule sched;
	struct sx_emit_opts eo = {.all_ports = ex->all_ports,
				  .schedule = schedule_of(ex, &sched),
				  .sections = ex->val ? validation_section : NULL,
				  .sections_ctx = ex->val,
				  .between = ex->between.res};
	struct sx_out out;
	char why[MSG_MAX - 64];
	int ret = need_result(ex);

	if (ret)
		return ret;
	ret = sx_out_open(&out, path, ex->msg, sizeof(ex->msg));
	if (ret)
		return ret;
	ret = sx_emit_signatures(out.f, ex->res, &eo, why, sizeof(why));
	if (ret) {
		fail(ex, ret, "%s: %s", path, why);
		sx_out_abort(&out);
		return ret;
	}
	return sx_out_commit(&out, ex->msg, sizeof(ex->msg));
}

int sx_extract__fold(const struct sx_extract *ex, const bool *keep, struct sx_extract **out)
{
	static const size_t strs[] = {
	    offsetof(struct sx_extract, mac),	     offsetof(struct sx_extract, ipv6),
	    offsetof(struct sx_extract, gateway),    offsetof(struct sx_extract, phone),
	    offsetof(struct sx_extract, event),	     offsetof(struct sx_extract, last_update),
	    offsetof(struct sx_extract, filter),     offsetof(struct sx_extract, events_path),
	    offsetof(struct sx_extract, names_path),
	};
	struct sx_extract *f;
	int ret;

	*out = NULL;
	ret = sx_extract_new(ex->device, ex->ipv4, &f);
	if (ret)
		return ret;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		/* through void *: the offsets are of char * members, aligned */
		const char *s = *(char *const *)(const void *)((const char *)ex + strs[i]);

		ret = set_str(f, (char **)(void *)((char *)f + strs[i]), s);
		if (ret)
			goto out_free;
	}
	f->stats = ex->stats;
	f->all_ports = ex->all_ports;
	f->nthreads = ex->nthreads;
	f->window_ns = ex->window_ns;
	f->duration_ns = ex->duration_ns;
	f->idle_ns = ex->idle_ns;
	f->support = ex->support;
	f->seed = ex->seed;
	f->max_flows = ex->max_flows;
	for (size_t i = 0; i < ex->ncaps; i++) {
		if (!ex->caps[i].background && !keep[i])
			continue;
		ret = add(f, ex->caps[i].path, ex->caps[i].background);
		if (ret)
			goto out_free;
		f->caps[f->ncaps - 1].dev_addr = ex->caps[i].dev_addr;
	}
	*out = f;
	return 0;
out_free:
	sx_extract_free(f);
	return ret;
}

bool sx_extract__is_background(const struct sx_extract *ex, size_t i)
{
	return i < ex->ncaps && ex->caps[i].background;
}

void sx_extract__ids(const struct sx_extract *ex, const char **mac, const char **gateway,
		     const char **phone)
{
	*mac = ex->mac;
	*gateway = ex->gateway;
	*phone = ex->phone;
}

unsigned sx_extract__threads(const struct sx_extract *ex)
{
	return ex->nthreads;
}

const char *sx_extract__filter(const struct sx_extract *ex)
{
	return ex->filter;
}

int64_t sx_extract__duration_ns(const struct sx_extract *ex)
{
	return ex->duration_ns;
}

bool sx_extract__mined(const struct sx_extract *ex)
{
	return ex->mined && ex->res;
}

const struct sx_validation *sx_extract__validation(const struct sx_extract *ex)
{
	return ex->val;
}

void sx_extract__set_est_flows(struct sx_extract *ex, uint64_t n)
{
	ex->est_flows = n;
}

void sx_extract__capture_flows(const struct sx_extract *ex, size_t i, uint64_t *flows,
			       uint64_t *packets)
{
	*flows = i < ex->ncaps ? ex->caps[i].flows : 0;
	*packets = i < ex->ncaps ? ex->caps[i].pkts : 0;
}

void sx_extract__set_validation(struct sx_extract *ex, struct sx_validation *v)
{
	sx_validation_free(ex->val);
	ex->val = v;
}

/* The interaction name of event i: --event for a single event, else the
 * label's unique name; NULL: the emitter's rule. */
static const char *interaction_name(const struct sx_extract *ex, unsigned i)
{
	if (ex->event && ex->nlabs == 1)
		return ex->event;
	return ex->events && i < ex->nlabs ? ex->labs[i].name : ex->event;
}

/* The profile writer's settings of ex (the interaction's name aside). */
static struct sx_profile_cfg profile_cfg(const struct sx_extract *ex)
{
	return (struct sx_profile_cfg){.device = ex->device,
				       .ipv4 = ex->ipv4,
				       .ipv6 = ex->ipv6,
				       .mac = ex->mac,
				       .gateway = ex->gateway,
				       .phone = ex->phone,
				       .event = ex->event,
				       .last_update = ex->last_update,
				       .stats = ex->stats};
}

/* r's profile.yaml, parsed into *doc (NULL when it has nothing). */
static int profile_doc(struct sx_extract *ex, const struct sx_mine_result *r,
		       const struct sx_profile_cfg *cfg, struct sx_ytree **doc)
{
	char *data = NULL;
	size_t len = 0;
	FILE *f;
	int ret;

	*doc = NULL;
	f = open_memstream(&data, &len);
	if (!f)
		return nomem(ex);
	ret = sx_emit_profile(r, cfg, f, ex->msg, sizeof(ex->msg));
	if (fclose(f) && !ret)
		ret = nomem(ex);
	if (!ret)
		ret = sx_ytree_parse(data, len, NULL, doc, ex->msg, sizeof(ex->msg));
	free(data);
	return ret;
}

/* Whether a pattern with key is in r's first nsets lists (patterns, then
 * background, periodic, below). */
static bool result_has(const struct sx_mine_result *r, unsigned nsets, const char *key)
{
	const struct sx_mine_pattern *const sets[] = {r->patterns, r->background, r->periodic,
						      r->below};
	const uint32_t counts[] = {r->npatterns, r->nbackground, r->nperiodic, r->nbelow};
	uint32_t s, i;

	for (s = 0; s < nsets && s < 4; s++)
		for (i = 0; i < counts[s]; i++)
			if (!strcmp(sets[s][i].key, key))
				return true;
	return false;
}

/*
 * The whole captures' result (ex->wide) but for the events' signatures
 * and the traffic between the windows, by pattern key: into *out, a
 * shallow copy whose patterns are in pats (the caller frees it), its
 * patterns, background and periodic lists those of the whole captures
 * that neither an event's patterns nor the traffic between the windows
 * have.  What recurs across the captures but in another window of each (the
 * TP-Link plug's n-devs.tplinkcloud.com lookup and session, once a run, in
 * one event of one run and another of the next), which no event's
 * occurrences hold often enough, is still the device's traffic.  An event's
 * single policies (below its support, periodic) are kept here too: the
 * merge writes equal policies once, and a name end needs its lookup's
 * policy in the same document (the lookup in one event, the session in
 * another).  0, or -ENOMEM.
 */
static int wide_only(const struct sx_extract *ex, struct sx_mine_result *out,
		     struct sx_mine_pattern **pats)
{
	const struct sx_mine_result *w = ex->wide.res;
	const struct sx_mine_pattern *const sets[] = {w->patterns, w->background, w->periodic};
	const uint32_t counts[] = {w->npatterns, w->nbackground, w->nperiodic};
	uint32_t kept[3] = {0, 0, 0}, s, i, k = 0;
	unsigned l;

	*out = *w;
	*pats = sx_calloc_array((size_t)w->npatterns + w->nbackground + w->nperiodic + 1,
				sizeof(**pats));
	if (!*pats)
		return -ENOMEM;
	for (s = 0; s < 3; s++)
		for (i = 0; i < counts[s]; i++) {
			const struct sx_mine_pattern *p = &sets[s][i];
			bool known = ex->between.res && result_has(ex->between.res, 4, p->key);

			for (l = 0; l < ex->nlabs && !known; l++)
				known = ex->labs[l].res && result_has(ex->labs[l].res, 1, p->key);
			if (!known) {
				(*pats)[k++] = *p;
				kept[s]++;
			}
		}
	out->patterns = *pats;
	out->npatterns = kept[0];
	out->background = *pats + kept[0];
	out->nbackground = kept[1];
	out->periodic = *pats + kept[0] + kept[1];
	out->nperiodic = kept[2];
	out->below = NULL;
	out->nbelow = 0;
	return 0;
}

/*
 * The profile of events' results (one interaction each), with the single
 * policies of the traffic between the windows when it was mined, merged
 * (sx_emit_profile_merge_extra()) into path, and those of the whole
 * captures' traffic that no other result holds (wide_only()) where they
 * change nothing of the rest.  labs: indices into ex->labs.
 */
static int write_merged(struct sx_extract *ex, const unsigned *labs, unsigned nlabs,
			const char *path)
{
	struct sx_profile_cfg cfg = profile_cfg(ex);
	const struct sx_mine_result **from;
	struct sx_ytree **docs, *extra = NULL;
	struct sx_mine_pattern *pats = NULL;
	struct sx_mine_result only;
	struct sx_out out;
	unsigned i, n = 0, nfrom = 0;
	bool has_only = false;
	int ret = 0;

	docs = sx_calloc_array(nlabs + 1, sizeof(*docs));
	from = sx_calloc_array(nlabs + 2, sizeof(*from));
	if (!docs || !from || (ex->wide.res && wide_only(ex, &only, &pats))) {
		ret = nomem(ex);
		goto out_free;
	}
	has_only = ex->wide.res && only.npatterns + only.nbackground + only.nperiodic;
	/* the lookups of every document written teach the firewall names for
	 * the others */
	for (i = 0; i < nlabs; i++)
		if (ex->labs[labs[i]].res)
			from[nfrom++] = ex->labs[labs[i]].res;
	if (ex->between.res)
		from[nfrom++] = ex->between.res;
	if (has_only)
		from[nfrom++] = &only;
	cfg.dns_from = from;
	cfg.ndns_from = nfrom;
	for (i = 0; i < nlabs && !ret; i++) {
		if (!ex->labs[labs[i]].res)
			continue;
		cfg.event = interaction_name(ex, labs[i]);
		ret = profile_doc(ex, ex->labs[labs[i]].res, &cfg, &docs[n]);
		n += docs[n] != NULL;
	}
	cfg.event = NULL;
	cfg.singles = true;
	if (!ret && ex->between.res) {
		ret = profile_doc(ex, ex->between.res, &cfg, &docs[n]);
		n += docs[n] != NULL;
	}
	if (!ret && has_only)
		ret = profile_doc(ex, &only, &cfg, &extra);
	if (!ret)
		ret = sx_out_open(&out, path, ex->msg, sizeof(ex->msg));
	if (!ret) {
		ret = sx_emit_profile_merge_extra((const struct sx_ytree *const *)docs, n, extra,
						  out.f, ex->msg, sizeof(ex->msg));
		if (ret)
			sx_out_abort(&out);
		else
			ret = sx_out_commit(&out, ex->msg, sizeof(ex->msg));
	}
	for (i = 0; i < n; i++)
		sx_ytree_free(docs[i]);
	sx_ytree_free(extra);
out_free:
	free(pats);
	free(docs);
	free(from);
	return ret;
}

int sx_extract_write_profile(struct sx_extract *ex, const char *path)
{
	struct sx_profile_cfg cfg = profile_cfg(ex);
	int ret = need_result(ex);

	if (ret)
		return ret;
	if (ex->between.res || ex->wide.res)
		return write_merged(ex, &ex->sel, 1, path);
	cfg.event = interaction_name(ex, ex->sel);
	return sx_emit_profile_file(ex->res, &cfg, path, ex->msg, sizeof(ex->msg));
}

/* ---- events ---- */

unsigned sx_extract_nevents(const struct sx_extract *ex)
{
	return ex->mined ? ex->nlabs : 0;
}

int sx_extract_event(const struct sx_extract *ex, unsigned i, struct sx_extract_event *out)
{
	const struct label_run *l;

	if (!ex->mined || i >= ex->nlabs)
		return -ERANGE;
	l = &ex->labs[i];
	*out = (struct sx_extract_event){.label = l->label,
					 .name = l->name,
					 .scheduled = l->scheduled,
					 .empty = l->empty,
					 .outside = l->outside,
					 .occurrences = l->res ? l->res->noccs : 0};
	return 0;
}

int sx_extract_select_event(struct sx_extract *ex, unsigned i)
{
	if (!ex->res || i >= ex->nlabs)
		return -ERANGE;
	if (!ex->labs[i].res)
		return -ENODATA;
	ex->sel = i;
	ex->res = ex->labs[i].res;
	return 0;
}

const char *sx_extract_notes(const struct sx_extract *ex)
{
	return ex->notes.len ? ex->notes.data : "";
}

int sx_extract_write_device_profile(struct sx_extract *ex, const char *path)
{
	unsigned *labs;
	unsigned i;
	int ret = need_result(ex);

	if (ret)
		return ret;
	labs = sx_calloc_array(ex->nlabs + 1, sizeof(*labs));
	if (!labs)
		return nomem(ex);
	for (i = 0; i < ex->nlabs; i++)
		labs[i] = i;
	ret = write_merged(ex, labs, ex->nlabs, path);
	free(labs);
	return ret;
}

int sx_extract_alignment(const struct sx_extract *ex, size_t i, int64_t *shift_ns, unsigned *events,
			 unsigned *matched, bool *weak)
{
	const struct sx_align *a;

	if (!ex->res || i >= ex->ncaps)
		return -ERANGE;
	if (!ex->placed)
		return 0;
	a = &ex->placed[i];
	*shift_ns = a->shift_ns;
	*events = a->events;
	*matched = a->matched;
	*weak = a->weak;
	return a->aligned ? 1 : 0;
}
