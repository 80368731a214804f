/*
 * flow_unit.c - what one occurrence of a device event is: the units that
 * flows belong to, and the events file.
 *
 * DESIGN
 *
 * Three ways to cut a capture into units (struct sx_flows_cfg):
 *
 *  1. Whole capture (the default, --window 0): one capture per event, the
 *     layout of the reference tool; every IP packet and every decoded ARP
 *     message (Ethernet/IPv4, flows of their own: flow.h) of the capture is
 *     in the unit.  Default justified: the reference's 5-second cut-off (below)
 *     drops most of a real event on the reference's own traces (the TLS
 *     session and the periodic UDP replies run 20-27 s after the trigger;
 *     its successor, Gen C, moved to 20 s), and the capture already is the
 *     occurrence.
 *
 *  2. --window SECONDS > 0: the reference's cut-off.  The reference keeps
 *     "accepted" packets only and stops at the first accepted packet that
 *     comes more than SECONDS after the previous accepted one (the first
 *     reference time is the first packet of the file, whatever it is).
 *     Accepted = not "signalling": here an IP packet that is not TCP with
 *     SYN, FIN or RST, not IPv4 with Router Alert, not ICMPv6 neighbour
 *     discovery or MLD (types 130-136, 143).  Non-IP packets (ARP, ...)
 *     are signalling too (decoded ARP messages inside the window still
 *     make their flows).  Unlike the reference, signalling IP packets that
 *     come inside the window ARE counted in their flows (a flow keeps its
 *     handshake); only the cut-off decision ignores them.  The reference's
 *     rule that drops any Ethernet frame with padding (so, small data
 *     packets) is a bug and is not reproduced.  After the cut-off nothing
 *     of the capture is kept, and its flows leave the table at once.
 *
 *  3. --events FILE: long captures with many events.  Each row opens a
 *     window [t, t + --duration) in each capture it applies to, t placed
 *     per capture by flow_align.c (relative times, alignment), and each
 *     window is one unit (key.event: the row's number).  A packet belongs
 *     to every window that contains it (overlapping windows each get a
 *     full copy of the occurrence); packets outside every window belong to
 *     no unit (cfg.outside: to the capture's outside unit, key.event
 *     SX_FLOW_NO_EVENT, the traffic the device needs between its events,
 *     as the main job mines it for the profile's single policies), but
 *     every IP packet (and ARP message) also feeds its capture's session shadow
 *     (key.event SX_FLOW_SESSION, never written): a window's flow whose
 *     shadow began before the window is a session already open, and keeps
 *     the shadow's initiator (marked session) while counting only its
 *     in-window packets, so a command carried by a session opened at boot
 *     never reads as the server opening a connection.  The
 *     default duration, 30 s, covers the reference's event captures (21-27 s
 *     from the first packet, which comes 1-1.5 s after the trigger); PingPong
 *     uses 15 s, the reference's successor a 20 s gap.  --window is not
 *     combined with --events (a usage error in the CLI).
 *
 * Idle timeout default, 120 s (nfstream's and CICFlowMeter's; nDPI uses 30,
 * MUDgee 10): long enough that an event's flows never split inside a 30 s
 * window or a per-event capture (the reference's UDP replies come in bursts
 * ~10 s apart), short enough that long captures keep only what is active.
 *
 * The capture clock is the latest timestamp seen in the capture (any
 * packet); when a packet comes more than the idle timeout before it, the
 * clock follows it back (captures concatenated out of order, a clock reset)
 * and the flows of the old time leave at once.  Sweeps of idle or finished
 * flows are decided from the clock and the worker's live count
 * (flow_table.c); both depend only on the capture's own packets.
 *
 * Events file: see sx_events_parse() in flows.h.  The parser takes any
 * bytes: core's RFC 4180 record scanner (core/csv.h: quotes, doubled
 * quotes, CR LF) read field by field, every field bounded, every number
 * range-checked, labels escaped to printable ASCII; it is fuzzed.
 */
#include "flows/flows.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/csv.h"
#include "core/err.h"
#include "core/text.h"
#include "core/util.h"
#include "flows/flows_int.h"

#define TS_FIELD_MAX	64   /* bytes of a timestamp field */
#define LABEL_FIELD_MAX 1024 /* raw bytes of a label field */
#define EVENTS_FILE_MAX (256u << 20)
#define MAX_EPOCH_SEC	9000000000LL /* year 2255: keeps ns in int64 */

/* ---- timestamps ---- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* n digits at s into *v; false if any is not a digit. */
static bool digits(const char *s, size_t n, int64_t *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int64_t y, int64_t m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dm[m - 1];
}

/* Fraction digits after '.', at most 18 read, first 9 kept. */
static bool fraction(const char **p, const char *end, int64_t *nsec)
{
	size_t k = 0;

	*nsec = 0;
	if (*p >= end || **p != '.')
		return true;
	(*p)++;
	while (*p < end && is_digit(**p)) {
		if (k < 9)
			*nsec = *nsec * 10 + (**p - '0');
		k++;
		(*p)++;
		if (k > 18)
			return false;
	}
	if (k == 0)
		return false;
	for (; k < 9; k++)
		*nsec *= 10;
	return true;
}

static int parse_epoch(const char *s, const char *end, int64_t *ns)
{
	const char *p = s;
	int64_t sec = 0, nsec;
	size_t k = 0;

	while (p < end && is_digit(*p)) {
		sec = sec * 10 + (*p - '0');
		p++;
		if (++k > 11)
			return -EINVAL;
	}
	if (k == 0 || !fraction(&p, end, &nsec) || p != end || sec > MAX_EPOCH_SEC)
		return -EINVAL;
	*ns = sec * SX_NS_PER_SEC + nsec;
	return 0;
}

/* YYYY-MM-DD[T ]hh:mm:ss[.frac](Z|+hh[:mm]|-hh[:mm]|+hhmm) */
static int parse_iso(const char *s, const char *end, int64_t *ns)
{
	int64_t y, mo, d, h, mi, sec, nsec, zh = 0, zm = 0, days, t;
	const char *p = s;
	int zsign = 0;

	if (end - p < 19 || !digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &mo) ||
	    p[7] != '-' || !digits(p + 8, 2, &d) ||
	    (p[10] != 'T' && p[10] != 't' && p[10] != ' ') || !digits(p + 11, 2, &h) ||
	    p[13] != ':' || !digits(p + 14, 2, &mi) || p[16] != ':' || !digits(p + 17, 2, &sec))
		return -EINVAL;
	p += 19;
	if (!fraction(&p, end, &nsec))
		return -EINVAL;
	if (p < end && (*p == 'Z' || *p == 'z')) {
		p++;
	} else if (p < end && (*p == '+' || *p == '-')) {
		zsign = *p == '-' ? -1 : 1;
		p++;
		if (end - p < 2 || !digits(p, 2, &zh))
			return -EINVAL;
		p += 2;
		if (p < end && *p == ':') {
			p++;
			if (end - p < 2 || !digits(p, 2, &zm))
				return -EINVAL;
			p += 2;
		} else if (end - p >= 2 && digits(p, 2, &zm)) {
			p += 2;
		}
	} else {
		return -EINVAL; /* a zone is required */
	}
	if (p != end || y < 1970 || y > 2255 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60 || zh > 23 || zm > 59)
		return -EINVAL;
	days = days_from_civil(y, mo, d);
	t = days * 86400 + h * 3600 + mi * 60 + sec - zsign * (zh * 3600 + zm * 60);
	if (t < 0 || t > MAX_EPOCH_SEC)
		return -EINVAL;
	*ns = t * SX_NS_PER_SEC + nsec;
	return 0;
}

int sx_time_parse(const char *s, size_t n, int64_t *ns)
{
	const char *end = s + n;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (s == end)
		return -EINVAL;
	if (end - s >= 5 && is_digit(s[0]) && s[4] == '-')
		return parse_iso(s, end, ns);
	return parse_epoch(s, end, ns);
}

/* ---- events file ---- */

/* "+S[.frac]", "+M:SS[.frac]", "+H:MM:SS[.frac]": an offset in ns. */
static int parse_relative(const char *s, size_t n, int64_t *ns)
{
	const char *p = s + 1, *end = s + n;
	int64_t part[3] = {0, 0, 0}, nsec;
	unsigned k = 0;

	if (n < 2 || s[0] != '+')
		return -EINVAL;
	for (;;) {
		size_t d = 0;

		if (k == 3)
			return -EINVAL;
		while (p < end && is_digit(*p) && d < 10) {
			part[k] = part[k] * 10 + (*p - '0');
			p++;
			d++;
		}
		if (d == 0 || (k > 0 && (d != 2 || part[k] > 59)))
			return -EINVAL;
		k++;
		if (p < end && *p == ':') {
			p++;
			continue;
		}
		break;
	}
	if (!fraction(&p, end, &nsec) || p != end)
		return -EINVAL;
	if (k == 3)
		*ns = part[0] * 3600 + part[1] * 60 + part[2];
	else if (k == 2)
		*ns = part[0] * 60 + part[1];
	else
		*ns = part[0];
	if (*ns > MAX_EPOCH_SEC)
		return -EINVAL;
	*ns = *ns * SX_NS_PER_SEC + nsec;
	return 0;
}

/* A time field: absolute or relative.  0 or -EINVAL. */
static int parse_when(const char *s, size_t n, int64_t *ns, bool *relative)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	*relative = n && s[0] == '+';
	return *relative ? parse_relative(s, n, ns) : sx_time_parse(s, n, ns);
}

struct ev_order {
	bool relative;
	int64_t start;
	uint32_t i;
};

static int ev_order_cmp(const void *pa, const void *pb)
{
	const struct ev_order *a = pa, *b = pb;

	if (a->relative != b->relative)
		return a->relative ? 1 : -1;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/* Sort: absolute first, by time; relative by offset; ties keep file order
 * (qsort is not stable). */
static int sort_events(struct sx_events *ev)
{
	struct ev_order *ord = sx_calloc_array(ev->n, sizeof(*ord));
	struct sx_event *sorted = sx_calloc_array(ev->n, sizeof(*sorted));
	uint32_t i;

	if (!ord || !sorted) {
		free(ord);
		free(sorted);
		return -ENOMEM;
	}
	for (i = 0; i < ev->n; i++)
		ord[i] = (struct ev_order){ev->ev[i].relative, ev->ev[i].start_ns, i};
	qsort(ord, ev->n, sizeof(*ord), ev_order_cmp);
	for (i = 0; i < ev->n; i++)
		sorted[i] = ev->ev[ord[i].i];
	free(ord);
	free(ev->ev);
	ev->ev = sorted;
	return 0;
}

static bool has_digit(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (is_digit(s[i]))
			return true;
	return false;
}

/* The events file's dialect of CSV (flows.h): blanks around fields, '#'
 * comments, a bare CR ends a row, every field bounded. */
static const struct sx_csv_cfg events_csv = {
    .flags = SX_CSV_TRIM | SX_CSV_COMMENTS | SX_CSV_BARE_CR | SX_CSV_BOM,
    .fields_max = 3,
    .field_max = LABEL_FIELD_MAX,
};

/* 1 + the index of capture name text in ev->captures, added if new; 0 on
 * -ENOMEM. */
static uint32_t capture_ref(struct sx_events *ev, const char *text, size_t len)
{
	char name[LABEL_FIELD_MAX * 4 + 1];
	char **nc;
	uint32_t i;
	bool trunc;

	sx_text_escape(name, sizeof(name), (const uint8_t *)text, len, &trunc);
	for (i = 0; i < ev->ncaptures; i++)
		if (strcmp(ev->captures[i], name) == 0)
			return i + 1;
	nc = sx_realloc_array(ev->captures, ev->ncaptures + 1, sizeof(*nc));
	if (!nc)
		return 0;
	ev->captures = nc;
	nc[ev->ncaptures] = strdup(name);
	if (!nc[ev->ncaptures])
		return 0;
	return ++ev->ncaptures;
}

/* Append the event of this row to ev. */
static int add_event(struct sx_events *ev, uint32_t *cap, const struct sx_event *e, const char *lab,
		     size_t len, char *msg, size_t msglen)
{
	size_t i = 0;
	bool trunc;

	if (ev->n >= SX_EVENTS_MAX) {
		sx_msgf(msg, msglen, "line %lu: more than %u events", e->line, SX_EVENTS_MAX);
		return SX_E_FORMAT;
	}
	if (ev->n == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 64;
		struct sx_event *ne = sx_realloc_array(ev->ev, ncap, sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		ev->ev = ne;
		*cap = ncap;
	}
	/* Labels: trimmed, escaped to printable ASCII, bounded. */
	while (i < len && (lab[i] == ' ' || lab[i] == '\t'))
		i++;
	while (len > i && (lab[len - 1] == ' ' || lab[len - 1] == '\t'))
		len--;
	ev->ev[ev->n] = *e;
	sx_text_escape(ev->ev[ev->n].label, SX_EVENT_LABEL_MAX, (const uint8_t *)lab + i, len - i,
		       &trunc);
	if (trunc) {
		sx_msgf(msg, msglen, "line %lu: label longer than %d bytes once escaped", e->line,
			SX_EVENT_LABEL_MAX - 1);
		return SX_E_FORMAT;
	}
	ev->any_relative |= e->relative;
	ev->any_capture |= e->capture != 0;
	ev->n++;
	return 0;
}

/* One row (nf fields) into e, label text into *lab.  0, 1 for a header
 * row, SX_E_FORMAT (msg set) or -ENOMEM. */
static int parse_row(struct sx_events *ev, const struct sx_csv *csv, size_t nf, bool first,
		     struct sx_event *e, const char **lab, size_t *lablen, char *msg, size_t msglen)
{
	size_t tf = 0, i;
	bool any_digit = false;

	for (i = 0; i < nf; i++) {
		if (memchr(sx_csv_text(csv, i), '\0', csv->field[i].len)) {
			sx_msgf(msg, msglen, "line %lu: NUL byte in field %zu", csv->rec_line,
				i + 1);
			return SX_E_FORMAT;
		}
		if (csv->field[i].truncated) {
			sx_msgf(msg, msglen, "line %lu: field %zu longer than %d bytes",
				csv->rec_line, i + 1, LABEL_FIELD_MAX);
			return SX_E_FORMAT;
		}
		any_digit |= has_digit(sx_csv_text(csv, i), csv->field[i].len);
	}
	if (first && !any_digit)
		return 1; /* a header row */
	/* which field is the time */
	if (nf == 3 || (nf == 2 && parse_when(sx_csv_text(csv, 0), csv->field[0].len, &e->start_ns,
					      &e->relative) != 0))
		tf = 1;
	if (csv->field[tf].len > TS_FIELD_MAX ||
	    parse_when(sx_csv_text(csv, tf), csv->field[tf].len, &e->start_ns, &e->relative)) {
		sx_msgf(msg, msglen,
			"line %lu: expected [capture,]time[,label], time being epoch seconds, "
			"ISO 8601 with a zone, or +seconds / +M:SS / +H:MM:SS after the capture's "
			"first packet",
			csv->rec_line);
		return SX_E_FORMAT;
	}
	if (tf == 1) {
		if (!csv->field[0].len) {
			sx_msgf(msg, msglen, "line %lu: empty capture name", csv->rec_line);
			return SX_E_FORMAT;
		}
		e->capture = capture_ref(ev, sx_csv_text(csv, 0), csv->field[0].len);
		if (!e->capture)
			return -ENOMEM;
	}
	*lab = tf + 1 < nf ? sx_csv_text(csv, tf + 1) : "";
	*lablen = tf + 1 < nf ? csv->field[tf + 1].len : 0;
	return 0;
}

int sx_events_parse(const char *data, size_t len, struct sx_events **out, char *msg, size_t msglen)
{
	struct sx_csv csv;
	struct sx_events *ev;
	uint32_t cap = 0;
	bool first = true;
	int ret;

	*out = NULL;
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	ret = sx_csv_init_mem(&csv, &events_csv, data, len);
	if (ret)
		goto out_free;
	while ((ret = sx_csv_record(&csv)) == 1) {
		struct sx_event e = {.line = csv.rec_line};
		const char *lab;
		size_t lablen;

		ret = parse_row(ev, &csv, csv.nfields, first, &e, &lab, &lablen, msg, msglen);
		if (ret < 0 || ret == SX_E_FORMAT)
			goto out_csv;
		if (first) {
			first = false;
			if (ret == 1)
				continue;
		}
		ret = add_event(ev, &cap, &e, lab, lablen, msg, msglen);
		if (ret)
			goto out_csv;
	}
	if (ret < 0 || ret == SX_E_FORMAT) {
		if (ret == SX_E_FORMAT)
			sx_msgf(msg, msglen, "line %lu: %s", csv.rec_line,
				csv.why == SX_CSV_FIELDS ? "expected [capture,]time[,label]"
							 : "bad quoting");
		goto out_csv;
	}
	if (ev->n == 0) {
		sx_msgf(msg, msglen, "no event in the file");
		ret = SX_E_FORMAT;
		goto out_csv;
	}
	ret = sort_events(ev);
	if (ret)
		goto out_csv;
	sx_csv_fini(&csv);
	*out = ev;
	return 0;

out_csv:
	sx_csv_fini(&csv);
out_free:
	sx_events_free(ev);
	return ret;
}

int sx_events_load(const char *path, struct sx_events **out, char *msg, size_t msglen)
{
	struct stat sb;
	char *data;
	size_t got = 0;
	int fd, ret;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		sx_msgf(msg, msglen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_size > (off_t)EVENTS_FILE_MAX) {
		ret = S_ISREG(sb.st_mode) ? -EFBIG : -EINVAL;
		sx_msgf(msg, msglen, "%s: not a regular file of at most %u MiB", path,
			EVENTS_FILE_MAX >> 20);
		close(fd);
		return ret;
	}
	data = malloc((size_t)sb.st_size + 1);
	if (!data) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, data + got, (size_t)sb.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	ret = sx_events_parse(data, got, out, msg, msglen);
	if (ret == SX_E_FORMAT && msg && msglen) {
		char tmp[512];

		snprintf(tmp, sizeof(tmp), "%s: %s", path, msg);
		snprintf(msg, msglen, "%s", tmp);
	}
	free(data);
	return ret;
}

void sx_events_free(struct sx_events *ev)
{
	uint32_t i;

	if (!ev)
		return;
	for (i = 0; i < ev->ncaptures; i++)
		free(ev->captures[i]);
	free(ev->captures);
	free(ev->ev);
	free(ev);
}

/* ---- driving a capture ---- */

/* Not "accepted" by the reference's rule (see the top of this file). */
static bool signalling(const struct sx_pkt *pkt)
{
	if (pkt->src.family != 4 && pkt->src.family != 6)
		return true;
	if (pkt->ip_proto == 6 && (pkt->tcp_flags & (SX_TCP_SYN | SX_TCP_FIN | SX_TCP_RST)))
		return true;
	if (pkt->ip_opt_ra)
		return true;
	if (pkt->proto == SX_P_ICMPV6 &&
	    ((pkt->app.icmp.type >= 130 && pkt->app.icmp.type <= 136) || pkt->app.icmp.type == 143))
		return true;
	return false;
}

static int64_t sweep_interval(const struct sx_flows_cfg *cfg)
{
	int64_t iv = cfg->idle_ns;

	if (cfg->events && cfg->duration_ns < iv)
		iv = cfg->duration_ns;
	iv /= 4;
	return SX_MAX(iv, SX_NS_PER_SEC);
}

void sx_flows_file_begin(struct sx_flows_worker *w, uint32_t file)
{
	memset(&w->cur, 0, sizeof(w->cur));
	if (w->frags)
		sx_frags__reset(w->frags);
	w->cur.file = file;
	w->cur.active = true;
	w->cur.sweep_at_live = w->fl->cfg.sweep_min_live;
}

const struct sx_window *sx_flows__windows(const struct sx_flows *fl, uint32_t file, uint32_t *n)
{
	if (fl->cfg.windows)
		return sx_windows_of(fl->cfg.windows, file, n);
	*n = fl->nall_windows;
	return fl->all_windows;
}

/* First index i of w[0..n) with w[i].start_ns > t. */
static uint32_t upper_bound(const struct sx_window *w, uint32_t n, int64_t t)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (w[mid].start_ns > t)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static void maybe_sweep(struct sx_flows_worker *w)
{
	const struct sx_flows_cfg *cfg = &w->fl->cfg;

	if (w->live > cfg->max_live)
		sx_flows__cap(w);
	if (w->live < w->cur.sweep_at_live || w->cur.clock < w->cur.next_sweep_ns)
		return;
	sx_flows__evict(w, false, w->cur.clock, INT64_MIN, 0);
	w->cur.sweep_at_live = SX_MAX((uint64_t)cfg->sweep_min_live, 2 * w->live);
	w->cur.next_sweep_ns = w->cur.clock + sweep_interval(cfg);
}

/* One packet through the unit rules. */
static void unit_packet(struct sx_flows_worker *w, const struct sx_pkt *pkt)
{
	const struct sx_flows_cfg *cfg = &w->fl->cfg;
	int64_t ts = sx_flows__pkt_ns(pkt);
	/* IP, or an ARP message: its own flows (flow.h) */
	bool ip = pkt->src.family == 4 || pkt->src.family == 6 || sx_pkt_is_arp(pkt);

	if (!w->cur.any) {
		w->cur.any = true;
		w->cur.prev_ns = ts;
		w->cur.clock = ts;
		w->cur.next_sweep_ns = ts + sweep_interval(cfg);
	}
	if (ts > w->cur.clock) {
		w->cur.clock = ts;
	} else if (w->cur.clock - ts > cfg->idle_ns) {
		/* The clock jumped back (concatenated captures, a reset clock):
		 * follow it, and let the flows of the old time leave now. */
		w->cur.clock = ts;
		w->cur.next_sweep_ns = ts;
		w->cur.sweep_at_live = 0;
	}
	if (cfg->events) {
		if (ip) {
			uint32_t n, i, hi;
			const struct sx_window *win = sx_flows__windows(w->fl, w->cur.file, &n);
			struct sx_flow_unit u = {
			    .event = SX_FLOW_SESSION, .start_ns = INT64_MIN, .end_ns = INT64_MAX};
			struct sx_flow *sess = NULL;
			bool outside;

			sx_flows__add(w, pkt, &u, &sess);
			i = upper_bound(win, n, ts - cfg->duration_ns);
			hi = upper_bound(win, n, ts);
			outside = i == hi;
			for (; i < hi; i++) {
				u = (struct sx_flow_unit){.event = win[i].event,
							  .start_ns = win[i].start_ns,
							  .end_ns =
							      win[i].start_ns + cfg->duration_ns,
							  .session = sess};
				sx_flows__add(w, pkt, &u, NULL);
			}
			if (outside && cfg->outside) {
				/* in no window: the capture's outside unit,
				 * whose flows take their connection's opener
				 * from the shadow as a window's do */
				u = (struct sx_flow_unit){.event = SX_FLOW_NO_EVENT,
							  .start_ns = ts,
							  .end_ns = INT64_MAX,
							  .session = sess};
				sx_flows__add(w, pkt, &u, NULL);
			}
		}
	} else if (cfg->window_ns > 0) {
		bool sig;

		if (w->cur.cut)
			return;
		sig = signalling(pkt);
		if (ts > w->cur.prev_ns + cfg->window_ns) {
			if (!sig) {
				w->cur.cut = true;
				sx_flows__evict(w, true, ts, INT64_MIN, 0);
			}
			return;
		}
		if (ip)
			sx_flows_add(w, pkt, SX_FLOW_NO_EVENT, INT64_MAX);
		if (!sig)
			w->cur.prev_ns = ts;
	} else if (ip) {
		sx_flows_add(w, pkt, SX_FLOW_NO_EVENT, INT64_MAX);
	}
	maybe_sweep(w);
}

/*
 * Fragments (flow_frag.c): a later fragment of a TCP/UDP datagram goes
 * through the unit rules as a packet with its datagram's ports, at its own
 * time; one that came before its first fragment does so right after that
 * first fragment; one whose first fragment never comes goes nowhere
 * (counted).
 */
void sx_flows_packet(struct sx_flows_worker *w, const struct sx_pkt *pkt)
{
	const struct sx_pkt *v;
	struct sx_frags *t;

	if (!sx_frags__tracked(pkt)) {
		unit_packet(w, pkt);
		return;
	}
	t = sx_flows__frags(w);
	if (!t)
		return; /* out of memory: latched, the run fails */
	switch (sx_frags__packet(t, pkt, sx_flows__pkt_ns(pkt), &v)) {
	case SX_FRAG_PASS:
		unit_packet(w, pkt);
		for (v = sx_frags__replay(t); v; v = sx_frags__replay(t))
			unit_packet(w, v);
		break;
	case SX_FRAG_COUNT:
		unit_packet(w, v);
		break;
	case SX_FRAG_HELD:
	case SX_FRAG_DROP:
		break;
	}
}

void sx_flows_file_end(struct sx_flows_worker *w, uint32_t file)
{
	(void)file;
	if (w->frags)
		sx_frags__reset(w->frags);
	sx_flows__retire_all(w, w->cur.clock);
	w->cur.active = false;
}
