/*
 * flow_csv.c - the flow CSV (`sigex flows`): writer and reader.
 *
 * DESIGN.  One row per flow; units in order (capture as given on the command
 * line, then event window), flows within a unit by (first timestamp, key).
 * RFC 4180: a field is quoted when it holds a comma, a quote, CR or LF; text
 * from the network or the user goes through sx_buf_csv_text() (formula
 * prefixes neutralised with an apostrophe, undone by the reader); lists are
 * space-separated.  Columns:
 *
 *  The reference tool's eleven, in its order:
 *   Index             0-based order of the flow within its unit
 *   Timestamp         first packet, epoch seconds with 9 decimals
 *   DeviceHost        initiator: its name (DNS/SNI/HTTP Host learned over the
 *                     whole run, or --names) or its address
 *   DevicePort        initiator's port (empty for portless protocols)
 *   OtherHost         responder, same rules
 *   OtherPort
 *   TransportProtocol TCP, UDP, ICMP, ICMPV6, IGMP, SCTP or the number;
 *                     ARP for an ARP flow (below)
 *   Protocol          highest layer seen (sx_proto_name): the first
 *                     application protocol, else the transport, else IPV4/IPV6
 *   Length            wire bytes, both directions
 *   ApplicationSpecific  see flow_app.c; else the service port's name
 *   nbPacket          packets, both directions
 *  Then:
 *   File              the capture, as named on the command line
 *   Event             event window number (0-based, time order), empty for a
 *                     whole-capture unit
 *   EventLabel        the events file's label, EventTime the window start
 *   LastTimestamp     last packet
 *   DeviceIP OtherIP  addresses (the hosts above may be names)
 *   DeviceMac OtherMac  Ethernet source of each side's first frame, or empty
 *   DeviceLocalName OtherLocalName  mDNS names, empty when none
 *   IpProto Vlan      IP protocol number, outer VLAN id (0 untagged)
 *   DevicePackets OtherPackets DeviceBytes OtherBytes   sent by each side
 *   Initiator         syn (sent a SYN), synack (received a SYN+ACK), first;
 *                     prefixed "session-" for a session already open when
 *                     its --events window began (the session's initiator;
 *                     the counters are the window's, flow_unit.c)
 *   DeviceTcpFlags OtherTcpFlags  union of flags sent, letters FSRPAUEC
 *   End               fin, rst, idle, open (see flow_table.c)
 *   ServicePort EphemeralPort ServiceSide (device|other)  flow_service.c
 *   PayloadLengths    wire lengths of the first 32 payload-bearing packets,
 *                     + sent by the device side, - by the other
 *   PayloadIats       their inter-arrival times in ns (the first: since the
 *                     flow's first packet)
 *   AppAttributes     application attribute tokens (flow_app.c)
 *
 * ARP flows (flow.h) use the same columns: TransportProtocol and Protocol
 * ARP, DeviceIP the sender's protocol address (spa) and OtherIP the
 * target's (tpa), DeviceMac sha and OtherMac tha (empty when zero), no
 * ports, IpProto 0, ApplicationSpecific the operation ("request", "reply",
 * else its number; the key's operation is read back from it), AppAttributes
 * "arp=<operation>"; the other side never sends (OtherPackets 0).  A reader
 * that knows only IP rows (the reference tool's) sees a portless flow of IP
 * protocol 0 and can skip it by its TransportProtocol.
 *
 * Reader: core's RFC 4180 record scanner (core/csv.h) over the stream,
 * strict (no blanks around fields, no comments, no bare CR, no NUL) and
 * with bounded records and field counts; the header
 * checked column by column, every field parsed strictly (numbers in range,
 * addresses by inet_pton, enums by name, lists bounded) and cross-checked
 * (Length and nbPacket against the per-side sums).  A row written by
 * sx_flows_csv_row() reads back into the same record and writes back
 * byte-identical.
 */
#include "flows/flows.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/csv.h"
#include "core/err.h"
#include "core/util.h"

static const char *const columns[SX_FLOWS_CSV_NCOLS] = {
    "Index",
    "Timestamp",
    "DeviceHost",
    "DevicePort",
    "OtherHost",
    "OtherPort",
    "TransportProtocol",
    "Protocol",
    "Length",
    "ApplicationSpecific",
    "nbPacket",
    "File",
    "Event",
    "EventLabel",
    "EventTime",
    "LastTimestamp",
    "DeviceIP",
    "OtherIP",
    "DeviceMac",
    "OtherMac",
    "DeviceLocalName",
    "OtherLocalName",
    "IpProto",
    "Vlan",
    "DevicePackets",
    "OtherPackets",
    "DeviceBytes",
    "OtherBytes",
    "Initiator",
    "DeviceTcpFlags",
    "OtherTcpFlags",
    "End",
    "ServicePort",
    "EphemeralPort",
    "ServiceSide",
    "PayloadLengths",
    "PayloadIats",
    "AppAttributes",
};

enum col {
	C_INDEX,
	C_TS,
	C_DHOST,
	C_DPORT,
	C_OHOST,
	C_OPORT,
	C_TRANSPORT,
	C_PROTO,
	C_LENGTH,
	C_SPEC,
	C_NPKT,
	C_FILE,
	C_EVENT,
	C_ELABEL,
	C_ETIME,
	C_LAST,
	C_DIP,
	C_OIP,
	C_DMAC,
	C_OMAC,
	C_DLOCAL,
	C_OLOCAL,
	C_IPPROTO,
	C_VLAN,
	C_DPKTS,
	C_OPKTS,
	C_DBYTES,
	C_OBYTES,
	C_INIT,
	C_DFLAGS,
	C_OFLAGS,
	C_END,
	C_SPORT,
	C_EPORT,
	C_SSIDE,
	C_LENS,
	C_IATS,
	C_ATTRS,
};

static const char *const init_names[] = {"first", "syn", "synack"};
/* Initiator of a session already open when the event window began. */
#define SESSION_PREFIX "session-"

static const char *const end_names[] = {"open", "idle", "fin", "rst"};
static const char *const side_names[] = {"", "device", "other"};
static const char flag_letters[] = "FSRPAUEC";
/* TransportProtocol of an ARP flow. */
#define ARP_TRANSPORT "ARP"

/* ---- writer ---- */

void sx_flows_csv_header(struct sx_buf *b)
{
	unsigned i;

	for (i = 0; i < SX_FLOWS_CSV_NCOLS; i++) {
		if (i)
			sx_buf_putc(b, ',');
		sx_buf_puts(b, columns[i]);
	}
	sx_buf_putc(b, '\n');
}

/*
 * The row's numbers, flags and MACs are formatted straight into the buffer:
 * each run of them between two text fields reserves its room once (an upper
 * bound) and writes without a call per field.  Text fields go through
 * core's CSV writer (quoting, neutralisation).
 */

/* Room for a run of at most n bytes; NULL once the buffer failed (latched). */
static char *run_open(struct sx_buf *b, size_t n)
{
	return sx_buf_reserve(b, n) ? NULL : b->data + b->len;
}

static void run_close(struct sx_buf *b, char *end)
{
	if (end)
		b->len = (size_t)(end - b->data);
}

#define I64_MAX_TEXT (SX_U64_DIGITS_MAX + 1)

static char *put_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return sx_u64_put(p, (uint64_t)0 - (uint64_t)v);
	}
	return sx_u64_put(p, (uint64_t)v);
}

/* "sec.nnnnnnnnn" (sx_buf_ts), a negative time as 0. */
#define TS_MAX_TEXT (SX_U64_DIGITS_MAX + 10)

static char *put_ts(char *p, int64_t ns)
{
	uint32_t nsec;
	int i;

	if (ns < 0)
		ns = 0;
	p = sx_u64_put(p, (uint64_t)(ns / SX_NS_PER_SEC));
	nsec = (uint32_t)(ns % SX_NS_PER_SEC);
	*p = '.';
	for (i = 9; i >= 1; i--) {
		p[i] = (char)('0' + nsec % 10);
		nsec /= 10;
	}
	return p + 10;
}

static char *put_port(char *p, bool has, uint16_t port)
{
	return has ? sx_u64_put(p, port) : p;
}

static char *put_flags(char *p, uint8_t f)
{
	unsigned i;

	for (i = 0; i < 8; i++)
		if (f & (1u << i))
			*p++ = flag_letters[i];
	return p;
}

/* sx_mac_str's text (empty for the zero address). */
#define MAC_MAX_TEXT 17

static char *put_mac(char *p, const uint8_t mac[6])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	if (sx_mac_is_zero(mac))
		return p;
	for (i = 0; i < 6; i++) {
		if (i)
			*p++ = ':';
		*p++ = hex[mac[i] >> 4];
		*p++ = hex[mac[i] & 15];
	}
	return p;
}

static char *put_str(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

#define PUT_LIT(p, lit) put_str(p, lit, sizeof(lit) - 1)

/* Longest of init_names (with the session prefix), end_names, side_names. */
#define NAME_MAX_TEXT (sizeof(SESSION_PREFIX) - 1 + sizeof("synack") - 1)

static char *put_name(char *p, const char *s)
{
	return put_str(p, s, strlen(s));
}

/* Both payload lists and the commas around them. */
#define SEQS_MAX_TEXT (1 + 2 * SX_FLOW_SEQ_MAX * (I64_MAX_TEXT + 1) + 1)

static char *put_seqs(char *p, const struct sx_flow_rec *r)
{
	unsigned n = r->nseq < SX_FLOW_SEQ_MAX ? r->nseq : SX_FLOW_SEQ_MAX;
	unsigned i;

	*p++ = ',';
	for (i = 0; i < n; i++) {
		if (i)
			*p++ = ' ';
		p = put_i64(p, r->seq_len[i]);
	}
	*p++ = ',';
	for (i = 0; i < n; i++) {
		if (i)
			*p++ = ' ';
		p = put_i64(p, r->seq_iat[i]);
	}
	*p++ = ',';
	return p;
}

void sx_flows_csv_row(struct sx_buf *b, const struct sx_flow_row *row)
{
	const struct sx_flow_rec *r = &row->rec;
	bool ports = sx_flow_has_ports(&r->key);
	bool svc = row->service_side != SX_SIDE_NONE;
	bool ev = r->key.event != SX_FLOW_NO_EVENT;
	struct sx_addr da, oa;
	uint16_t dp, op;
	char tmp[64];
	char *p;

	sx_flow_rec_end(r, SX_SIDE_DEVICE, &da, &dp);
	sx_flow_rec_end(r, SX_SIDE_OTHER, &oa, &op);
	p = run_open(b, SX_U64_DIGITS_MAX + TS_MAX_TEXT + 2);
	if (p) {
		p = sx_u64_put(p, row->index);
		*p++ = ',';
		p = put_ts(p, r->first_ns);
		*p++ = ',';
	}
	run_close(b, p);
	sx_buf_csv_text(b, row->dev_host);
	p = run_open(b, SX_U64_DIGITS_MAX + 2);
	if (p) {
		*p++ = ',';
		p = put_port(p, ports, dp);
		*p++ = ',';
	}
	run_close(b, p);
	sx_buf_csv_text(b, row->other_host);
	p = run_open(b, SX_U64_DIGITS_MAX + 2);
	if (p) {
		*p++ = ',';
		p = put_port(p, ports, op);
		*p++ = ',';
	}
	run_close(b, p);
	sx_buf_csv(b, sx_flow_key_is_arp(&r->key)
			  ? ARP_TRANSPORT
			  : sx_ip_proto_name(r->key.proto, tmp, sizeof(tmp)));
	sx_buf_putc(b, ',');
	sx_buf_csv(b, sx_proto_name(r->top_proto));
	p = run_open(b, SX_U64_DIGITS_MAX + 2);
	if (p) {
		*p++ = ',';
		p = sx_u64_put(p, r->bytes[0] + r->bytes[1]);
		*p++ = ',';
	}
	run_close(b, p);
	if (r->spec[0]) {
		sx_buf_csv_text(b, r->spec);
	} else if (svc) {
		const char *n = sx_flow_service_name(r->key.proto, row->service_port);

		if (n)
			sx_buf_csv(b, n);
	}
	p = run_open(b, SX_U64_DIGITS_MAX + 2);
	if (p) {
		*p++ = ',';
		p = sx_u64_put(p, r->pkts[0] + r->pkts[1]);
		*p++ = ',';
	}
	run_close(b, p);
	sx_buf_csv_text(b, row->file ? row->file : "");
	p = run_open(b, SX_U64_DIGITS_MAX + 2);
	if (p) {
		*p++ = ',';
		if (ev)
			p = sx_u64_put(p, r->key.event);
		*p++ = ',';
	}
	run_close(b, p);
	sx_buf_csv_text(b, row->event_label ? row->event_label : "");
	p = run_open(b, 2 * TS_MAX_TEXT + 3);
	if (p) {
		*p++ = ',';
		if (ev)
			p = put_ts(p, row->event_ns);
		*p++ = ',';
		p = put_ts(p, r->last_ns);
		*p++ = ',';
	}
	run_close(b, p);
	sx_buf_csv(b, row->dev_addr ? row->dev_addr : sx_addr_str(&da, tmp, sizeof(tmp)));
	sx_buf_putc(b, ',');
	sx_buf_csv(b, row->other_addr ? row->other_addr : sx_addr_str(&oa, tmp, sizeof(tmp)));
	p = run_open(b, 2 * MAC_MAX_TEXT + 3);
	if (p) {
		*p++ = ',';
		p = put_mac(p, r->mac[0]);
		*p++ = ',';
		p = put_mac(p, r->mac[1]);
		*p++ = ',';
	}
	run_close(b, p);
	sx_buf_csv_text(b, row->dev_local ? row->dev_local : "");
	sx_buf_putc(b, ',');
	sx_buf_csv_text(b, row->other_local ? row->other_local : "");
	p = run_open(b, 6 * (SX_U64_DIGITS_MAX + 1) + 3 * (NAME_MAX_TEXT + 1) + 2 * (8 + 1) +
			    2 * (SX_U64_DIGITS_MAX + 1) + SEQS_MAX_TEXT + 1);
	if (p) {
		*p++ = ',';
		p = sx_u64_put(p, r->key.proto);
		*p++ = ',';
		p = sx_u64_put(p, r->key.vlan);
		*p++ = ',';
		p = sx_u64_put(p, r->pkts[0]);
		*p++ = ',';
		p = sx_u64_put(p, r->pkts[1]);
		*p++ = ',';
		p = sx_u64_put(p, r->bytes[0]);
		*p++ = ',';
		p = sx_u64_put(p, r->bytes[1]);
		*p++ = ',';
		if (r->session)
			p = PUT_LIT(p, SESSION_PREFIX);
		p = put_name(p, init_names[r->init < 3 ? r->init : 0]);
		*p++ = ',';
		p = put_flags(p, r->tcp_flags[0]);
		*p++ = ',';
		p = put_flags(p, r->tcp_flags[1]);
		*p++ = ',';
		p = put_name(p, end_names[r->end < 4 ? r->end : 0]);
		*p++ = ',';
		p = put_port(p, svc, row->service_port);
		*p++ = ',';
		p = put_port(p, svc, row->ephemeral_port);
		*p++ = ',';
		p = put_name(p, side_names[row->service_side < 3 ? row->service_side : 0]);
		p = put_seqs(p, r);
	}
	run_close(b, p);
	sx_buf_csv_text(b, r->attrs);
	sx_buf_putc(b, '\n');
}

/* ---- reader ---- */

#define RECORD_MAX     (1u << 20)
#define FIELDS_MAX     256
#define FILES_MAX      (1u << 20)
#define PATH_FIELD_MAX 4096

/* The flow CSV's dialect (what sx_flows_csv_row() writes, and no more):
 * strict RFC 4180, no blanks around fields, no comments, CR only in CR LF,
 * no NUL byte, bounded records. */
static const struct sx_csv_cfg flows_csv = {
    .flags = SX_CSV_NO_NUL,
    .fields_max = FIELDS_MAX,
    .record_max = RECORD_MAX,
};

struct sx_flows_csv_reader {
	struct sx_csv csv; /* over the borrowed stream */
	bool header_done;
	char **files; /* distinct File values, in order of appearance */
	size_t nfiles, fcap;
	char dev_host[SX_NAME_MAX];
	char other_host[SX_NAME_MAX];
	char dev_local[SX_NAME_MAX];
	char other_local[SX_NAME_MAX];
	char event_label[SX_EVENT_LABEL_MAX];
};

int sx_flows_csv_reader_new(FILE *f, struct sx_flows_csv_reader **out)
{
	struct sx_flows_csv_reader *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return -ENOMEM;
	if (sx_csv_init_file(&r->csv, &flows_csv, f)) {
		free(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

void sx_flows_csv_reader_free(struct sx_flows_csv_reader *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nfiles; i++)
		free(r->files[i]);
	free(r->files);
	sx_csv_fini(&r->csv);
	free(r);
}

static int fail(char *msg, size_t msglen, const char *fmt, ...) SX_PRINTF(3, 4);
static int fail(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sx_vmsgf(msg, msglen, fmt, ap);
	va_end(ap);
	return SX_E_FORMAT;
}

/*
 * Read one record.  1 for a record, 0 at the end, or SX_E_FORMAT (message
 * set) / -errno.
 */
static int read_record(struct sx_flows_csv_reader *r, unsigned long *rec_line, char *msg,
		       size_t msglen)
{
	int ret = sx_csv_record(&r->csv);

	*rec_line = r->csv.rec_line;
	if (ret != SX_E_FORMAT)
		return ret;
	if (r->csv.why == SX_CSV_FIELDS)
		return fail(msg, msglen, "line %lu: more than %d fields", *rec_line, FIELDS_MAX);
	return fail(msg, msglen, "line %lu: %s", *rec_line, sx_csv_why_str(r->csv.why));
}

static const char *field(const struct sx_flows_csv_reader *r, enum col i)
{
	return sx_csv_text(&r->csv, i);
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	uint64_t v;
	bool neg = *s == '-';

	if (neg || *s == '+')
		s++;
	if (!parse_u64(s, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &v))
		return false;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return *out >= min && *out <= max;
}

/* "sec[.frac]" (1..9 fraction digits) into ns. */
static bool parse_ts(const char *s, int64_t *ns)
{
	const char *dot = strchr(s, '.');
	char sec[16];
	uint64_t v, f = 0;
	size_t n = dot ? (size_t)(dot - s) : strlen(s), k;

	if (n == 0 || n >= sizeof(sec))
		return false;
	memcpy(sec, s, n);
	sec[n] = '\0';
	if (!parse_u64(sec, 9000000000ull, &v))
		return false;
	if (dot) {
		k = strlen(dot + 1);
		if (k == 0 || k > 9 || !parse_u64(dot + 1, 999999999ull, &f))
			return false;
		for (; k < 9; k++)
			f *= 10;
	}
	*ns = (int64_t)v * SX_NS_PER_SEC + (int64_t)f;
	return true;
}

static bool parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (!*s) {
		*port = 0;
		return true;
	}
	if (!parse_u64(s, 65535, &v))
		return false;
	*port = (uint16_t)v;
	return true;
}

static bool parse_addr(const char *s, struct sx_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->b) == 1) {
		a->family = 4;
		return true;
	}
	if (inet_pton(AF_INET6, s, a->b) == 1) {
		a->family = 6;
		return true;
	}
	return false;
}

/* A MAC address, or empty for none. */
static bool parse_mac(const char *s, uint8_t mac[6])
{
	if (!*s) {
		memset(mac, 0, 6);
		return true;
	}
	return sx_mac_parse(s, mac) == 0 && !sx_mac_is_zero(mac);
}

static int parse_name(const char *const *names, int n, const char *s)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

static bool parse_flags(const char *s, uint8_t *out)
{
	*out = 0;
	for (; *s; s++) {
		const char *p = strchr(flag_letters, *s);
		uint8_t bit;

		if (!p)
			return false;
		bit = (uint8_t)(1u << (p - flag_letters));
		if (*out & bit)
			return false;
		*out |= bit;
	}
	return true;
}

/* Space-separated integers, at most SX_FLOW_SEQ_MAX. Returns the count or -1. */
static int parse_list(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char num[24];
	int n = 0;

	if (!*s)
		return 0;
	for (;;) {
		const char *sp = strchr(s, ' ');
		size_t len = sp ? (size_t)(sp - s) : strlen(s);
		int64_t v;

		if (n >= SX_FLOW_SEQ_MAX || len == 0 || len >= sizeof(num))
			return -1;
		memcpy(num, s, len);
		num[len] = '\0';
		if (!parse_i64(num, min, max, &v))
			return -1;
		out[n++] = v;
		if (!sp)
			return n;
		s = sp + 1;
	}
}

/* Copy a text field (neutralisation undone) into dst; false if too long. */
static bool copy_text(char *dst, size_t dstsz, const char *s)
{
	size_t n = strlen(s);

	if (n >= dstsz)
		return false;
	memcpy(dst, s, n + 1);
	sx_csv_unneutralise(dst);
	return true;
}

static const char *intern_file(struct sx_flows_csv_reader *r, const char *s, uint32_t *idx)
{
	size_t i;
	char *copy;

	for (i = r->nfiles; i-- > 0;) {
		if (strcmp(r->files[i], s) == 0) {
			*idx = (uint32_t)i;
			return r->files[i];
		}
		if (r->nfiles - i > 64)
			break; /* recent ones first; a long tail is searched below */
	}
	for (i = 0; i + 64 < r->nfiles; i++) {
		if (strcmp(r->files[i], s) == 0) {
			*idx = (uint32_t)i;
			return r->files[i];
		}
	}
	if (r->nfiles >= FILES_MAX)
		return NULL;
	if (r->nfiles == r->fcap) {
		size_t ncap = r->fcap ? r->fcap * 2 : 16;
		char **nf = sx_realloc_array(r->files, ncap, sizeof(*nf));

		if (!nf)
			return NULL;
		r->files = nf;
		r->fcap = ncap;
	}
	copy = strdup(s);
	if (!copy)
		return NULL;
	*idx = (uint32_t)r->nfiles;
	r->files[r->nfiles++] = copy;
	return copy;
}

static int check_header(struct sx_flows_csv_reader *r, unsigned long line, char *msg, size_t msglen)
{
	unsigned i;

	if (r->csv.nfields < SX_FLOWS_CSV_NCOLS)
		return fail(msg, msglen,
			    "line %lu: not a flow CSV header (%zu columns, %d expected)", line,
			    r->csv.nfields, SX_FLOWS_CSV_NCOLS);
	for (i = 0; i < SX_FLOWS_CSV_NCOLS; i++)
		if (strcmp(field(r, (enum col)i), columns[i]) != 0)
			return fail(msg, msglen, "line %lu: column %u is not \"%s\"", line, i + 1,
				    columns[i]);
	return 0;
}

#define BAD(col) fail(msg, msglen, "line %lu: bad %s", line, columns[col])

/* The ends, MACs, IP protocol and VLAN of a row, and the canonical key
 * they make.  0 or SX_E_FORMAT. */
static int parse_key(struct sx_flows_csv_reader *r, unsigned long line, struct sx_flow_rec *rec,
		     char *msg, size_t msglen)
{
	struct sx_addr da, oa;
	uint16_t dp, op;
	size_t alen;
	uint64_t v;
	int c;

	if (!parse_port(field(r, C_DPORT), &dp))
		return BAD(C_DPORT);
	if (!parse_port(field(r, C_OPORT), &op))
		return BAD(C_OPORT);
	if (!parse_addr(field(r, C_DIP), &da))
		return BAD(C_DIP);
	if (!parse_addr(field(r, C_OIP), &oa) || oa.family != da.family)
		return BAD(C_OIP);
	if (!parse_mac(field(r, C_DMAC), rec->mac[0]))
		return BAD(C_DMAC);
	if (!parse_mac(field(r, C_OMAC), rec->mac[1]))
		return BAD(C_OMAC);
	if (!parse_u64(field(r, C_IPPROTO), 255, &v))
		return BAD(C_IPPROTO);
	rec->key.proto = (uint8_t)v;
	if (!parse_u64(field(r, C_VLAN), 4095, &v))
		return BAD(C_VLAN);
	rec->key.vlan = (uint16_t)v;
	rec->key.family = da.family;
	if (strcmp(field(r, C_TRANSPORT), ARP_TRANSPORT) == 0) {
		/* sender first, operation from ApplicationSpecific (flow.h) */
		c = sx_flow_arp_op_parse(field(r, C_SPEC));
		if (c < 0)
			return BAD(C_SPEC);
		if (da.family != 4 || rec->key.proto || *field(r, C_DPORT) || *field(r, C_OPORT))
			return BAD(C_TRANSPORT);
		rec->key.family = SX_FLOW_FAMILY_ARP;
		rec->dev = 0;
		memcpy(rec->key.lo_addr, da.b, 16);
		memcpy(rec->key.hi_addr, oa.b, 16);
		rec->key.lo_port = (uint16_t)c;
		rec->key.hi_port = 0;
		return 0;
	}

	/* the canonical key, as sx_flow_key_make() orders it */
	alen = da.family == 6 ? 16 : 4;
	c = memcmp(da.b, oa.b, alen);
	rec->dev = c > 0 || (c == 0 && dp > op);
	memcpy(rec->key.lo_addr, rec->dev ? oa.b : da.b, 16);
	memcpy(rec->key.hi_addr, rec->dev ? da.b : oa.b, 16);
	rec->key.lo_port = rec->dev ? op : dp;
	rec->key.hi_port = rec->dev ? dp : op;
	return 0;
}

/* The service side and ports of a row.  0 or SX_E_FORMAT. */
static int parse_service(struct sx_flows_csv_reader *r, unsigned long line, struct sx_flow_row *row,
			 char *msg, size_t msglen)
{
	struct sx_flow_rec *rec = &row->rec;
	int n;

	n = parse_name(side_names, 3, field(r, C_SSIDE));
	if (n < 0)
		return BAD(C_SSIDE);
	row->service_side = (uint8_t)n;
	if (!parse_port(field(r, C_SPORT), &row->service_port) || (!n && *field(r, C_SPORT)))
		return BAD(C_SPORT);
	if (!parse_port(field(r, C_EPORT), &row->ephemeral_port) || (!n && *field(r, C_EPORT)))
		return BAD(C_EPORT);
	if (n) {
		/* Undo the writer's fallback, so a record read back equals the
		 * one the reducer handed out (spec "" and a named service port). */
		const char *svc = sx_flow_service_name(rec->key.proto, row->service_port);

		if (svc && strcmp(svc, rec->spec) == 0)
			rec->spec[0] = '\0';
	}
	return 0;
}

static int parse_row(struct sx_flows_csv_reader *r, unsigned long line, struct sx_flow_row *row,
		     char *msg, size_t msglen)
{
	struct sx_flow_rec *rec = &row->rec;
	int64_t lens[SX_FLOW_SEQ_MAX], iats[SX_FLOW_SEQ_MAX];
	uint64_t v, len, npkt;
	int n, m, c;

	if (r->csv.nfields < SX_FLOWS_CSV_NCOLS)
		return fail(msg, msglen, "line %lu: %zu fields, %d expected", line, r->csv.nfields,
			    SX_FLOWS_CSV_NCOLS);
	memset(rec, 0, sizeof(*rec));
	if (!parse_u64(field(r, C_INDEX), UINT64_MAX, &row->index))
		return BAD(C_INDEX);
	rec->first_index = row->index;
	if (!parse_ts(field(r, C_TS), &rec->first_ns))
		return BAD(C_TS);
	if (!parse_ts(field(r, C_LAST), &rec->last_ns) || rec->last_ns < rec->first_ns)
		return BAD(C_LAST);
	if (!copy_text(r->dev_host, sizeof(r->dev_host), field(r, C_DHOST)))
		return BAD(C_DHOST);
	if (!copy_text(r->other_host, sizeof(r->other_host), field(r, C_OHOST)))
		return BAD(C_OHOST);
	if (!copy_text(r->dev_local, sizeof(r->dev_local), field(r, C_DLOCAL)))
		return BAD(C_DLOCAL);
	if (!copy_text(r->other_local, sizeof(r->other_local), field(r, C_OLOCAL)))
		return BAD(C_OLOCAL);
	if (!copy_text(rec->spec, sizeof(rec->spec), field(r, C_SPEC)))
		return BAD(C_SPEC);
	if (!copy_text(rec->attrs, sizeof(rec->attrs), field(r, C_ATTRS)))
		return BAD(C_ATTRS);
	if (!copy_text(r->event_label, sizeof(r->event_label), field(r, C_ELABEL)))
		return BAD(C_ELABEL);
	c = parse_key(r, line, rec, msg, msglen);
	if (c)
		return c;

	if (!*field(r, C_FILE) || strlen(field(r, C_FILE)) >= PATH_FIELD_MAX)
		return BAD(C_FILE);
	{
		char path[PATH_FIELD_MAX];

		copy_text(path, sizeof(path), field(r, C_FILE));
		row->file = intern_file(r, path, &rec->key.file);
		if (!row->file)
			return fail(msg, msglen, "line %lu: too many files, or out of memory",
				    line);
	}
	if (!*field(r, C_EVENT)) {
		rec->key.event = SX_FLOW_NO_EVENT;
		row->event_ns = 0;
		if (*field(r, C_ETIME) || *field(r, C_ELABEL))
			return BAD(C_ETIME);
	} else {
		if (!parse_u64(field(r, C_EVENT), UINT32_MAX - 1, &v))
			return BAD(C_EVENT);
		rec->key.event = (uint32_t)v;
		if (!parse_ts(field(r, C_ETIME), &row->event_ns))
			return BAD(C_ETIME);
	}
	if (!parse_u64(field(r, C_DPKTS), UINT64_MAX, &rec->pkts[0]) ||
	    !parse_u64(field(r, C_OPKTS), UINT64_MAX - rec->pkts[0], &rec->pkts[1]))
		return BAD(C_DPKTS);
	if (!parse_u64(field(r, C_DBYTES), UINT64_MAX, &rec->bytes[0]) ||
	    !parse_u64(field(r, C_OBYTES), UINT64_MAX - rec->bytes[0], &rec->bytes[1]))
		return BAD(C_DBYTES);
	if (!parse_u64(field(r, C_LENGTH), UINT64_MAX, &len) ||
	    len != rec->bytes[0] + rec->bytes[1])
		return BAD(C_LENGTH);
	if (!parse_u64(field(r, C_NPKT), UINT64_MAX, &npkt) ||
	    npkt != rec->pkts[0] + rec->pkts[1] || npkt == 0)
		return BAD(C_NPKT);
	for (n = 0; n < SX_P__COUNT; n++)
		if (strcmp(sx_proto_name((enum sx_proto)n), field(r, C_PROTO)) == 0)
			break;
	if (n == SX_P__COUNT)
		return BAD(C_PROTO);
	rec->top_proto = (uint8_t)n;
	{
		const char *init = field(r, C_INIT);

		rec->session = strncmp(init, SESSION_PREFIX, strlen(SESSION_PREFIX)) == 0;
		n = parse_name(init_names, 3, init + (rec->session ? strlen(SESSION_PREFIX) : 0));
	}
	if (n < 0)
		return BAD(C_INIT);
	rec->init = (uint8_t)n;
	n = parse_name(end_names, 4, field(r, C_END));
	if (n < 0)
		return BAD(C_END);
	rec->end = (uint8_t)n;
	if (!parse_flags(field(r, C_DFLAGS), &rec->tcp_flags[0]))
		return BAD(C_DFLAGS);
	if (!parse_flags(field(r, C_OFLAGS), &rec->tcp_flags[1]))
		return BAD(C_OFLAGS);
	c = parse_service(r, line, row, msg, msglen);
	if (c)
		return c;
	n = parse_list(field(r, C_LENS), INT32_MIN, INT32_MAX, lens);
	if (n < 0)
		return BAD(C_LENS);
	m = parse_list(field(r, C_IATS), 0, INT64_MAX, iats);
	if (m != n)
		return BAD(C_IATS);
	rec->nseq = (uint8_t)n;
	for (c = 0; c < n; c++) {
		rec->seq_len[c] = (int32_t)lens[c];
		rec->seq_iat[c] = iats[c];
	}
	row->dev_host = r->dev_host;
	row->other_host = r->other_host;
	row->dev_local = r->dev_local;
	row->other_local = r->other_local;
	row->event_label = r->event_label;
	row->dev_addr = NULL;
	row->other_addr = NULL;
	return 0;
}

int sx_flows_csv_next(struct sx_flows_csv_reader *r, struct sx_flow_row *row, char *msg,
		      size_t msglen)
{
	unsigned long line;
	int ret;

	for (;;) {
		ret = read_record(r, &line, msg, msglen);
		if (ret <= 0)
			return ret;
		if (r->header_done)
			break;
		ret = check_header(r, line, msg, msglen);
		if (ret)
			return ret;
		r->header_done = true;
	}
	ret = parse_row(r, line, row, msg, msglen);
	return ret ? ret : 1;
}
