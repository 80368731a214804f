/*
 * upstream.h - PUBLIC API of `--mode upstream`: the reference tool
 * (signature-extraction, scripts era, commit 15015a3) reproduced exactly.
 *
 * Pipeline, as the reference runs it (docs: shared/docs/UPSTREAM.md §2-§4, §8):
 *   1. each capture, in command-line order, is read to the end; packets are
 *      accepted by the reference's rules (signalling filter, 5 s gap window),
 *      turned into records with its fields, names substituted for addresses
 *      as they are learnt (DNS, TLS SNI), and grouped into streams (one per
 *      unordered {(host, port), (host, port)} pair): one table per capture;
 *   2. patterns are mined from the table with the fewest streams, one per
 *      stream of it, against every table;
 *   3. policies (profile.yaml's single-policies) are derived from the patterns.
 * sx_upstream_run() does the three steps and keeps everything in a result;
 * the writers below and emit/emit.h turn it into the reference's
 * files and report, byte for byte.
 *
 * Where the reference crashes, upstream mode goes on: a packet with neither
 * TCP nor UDP is skipped like a signalling packet, and a capture with no
 * accepted packet gives an empty table.  Other crash cases and every choice
 * are listed in upstream.c.
 *
 * Strings in the result are NUL-terminated printable ASCII, owned by the
 * result.  One thread; a result is read-only once returned.
 */
#ifndef SX_UPSTREAM_UPSTREAM_H
#define SX_UPSTREAM_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct sx_buf;

/* The reference's packet window: a gap longer than this ends it. */
#define SX_UPSTREAM_TIMEOUT_SEC 5

/* One stream of a capture: a row of the per-event CSV. */
struct sx_up_row {
	uint64_t index; /* Index: the stream's first accepted packet, from 0 */
	int64_t ts_sec; /* Timestamp: the stream's earliest packet */
	uint32_t ts_nsec;
	char ts[48];	/* ... as the reference prints it (Python Decimal) */
	char *dev_host; /* DeviceHost / DevicePort: source of the first packet */
	uint16_t dev_port;
	char *other_host; /* OtherHost / OtherPort: its destination */
	uint16_t other_port;
	const char *transport; /* TransportProtocol: "TCP" or "UDP" (static) */
	char *protocol;	       /* Protocol of the first packet ("TCP", "DNS", "HTTPS"...) */
	uint64_t length;       /* Length: sum of captured frame lengths */
	char *app;	       /* ApplicationSpecific of the first packet, "" when none */
	uint64_t npackets;     /* nbPacket */
};

/* One capture: its stream table. */
struct sx_up_table {
	char *path;		/* as given */
	char *csv_name;		/* "<event>.csv", the reference's name for the CSV */
	struct sx_up_row *rows; /* by index */
	size_t nrows;
	uint64_t packets;  /* records read */
	uint64_t accepted; /* packets accepted */
	char warning[320]; /* a read error after some packets, "" when none */
};

/* A port of a pattern and how often it was seen. */
struct sx_up_port {
	uint16_t port;
	uint64_t number;
	const char *host; /* host of its first occurrence (borrowed from a row) */
};

/* A histogram entry of a pattern's "Application Data" (first occurrence order). */
struct sx_up_count {
	uint64_t num;	 /* Length, nbPacket */
	const char *str; /* ApplicationSpecific (borrowed from a row) */
	uint64_t count;
};

struct sx_up_pattern {
	const char *hosts[2]; /* IP Addresses: (DeviceHost, OtherHost) of the reference row */
	const char *transport;
	struct sx_up_port *ports; /* final ports, in insertion order */
	size_t nports;
	uint16_t fixed; /* "Fixed port", recomputed on the final ports */
	struct sx_up_count *length, *app, *npackets;
	size_t nlength, napp, nnpackets;
	const struct sx_up_row **rows; /* the kept rows ("raw"), reference table first */
	size_t nrows;
};

/* A single policy of profile.yaml. */
struct sx_up_policy {
	char *id;	       /* e.g. "tcp_443", "dns_A_use1-api.tplinkra.com" */
	const char *src, *dst; /* ipv4 src / dst: a host or "self" (borrowed) */
	const char *l4;	       /* "tcp", "udp" or NULL */
	const char *port_key;  /* "src-port" or "dst-port" */
	uint16_t port;
	bool dns; /* dns: {qtype, domain-name} present */
	char *qtype, *domain;
};

struct sx_upstream_result {
	struct sx_up_table *tables; /* command-line order */
	size_t ntables;
	struct sx_up_pattern *patterns;
	size_t npatterns;
	struct sx_up_policy *policies; /* by id, first insertion order */
	size_t npolicies;
	char *ipv4; /* the device address, as given */
};

struct sx_upstream_cfg {
	const char *const *paths; /* captures, command-line order; borrowed */
	size_t npaths;
	const char *ipv4; /* device IPv4 (dotted quad): only "self" uses it */
};

/*
 * sx_upstream_run - read every capture and mine the patterns and policies.
 * @out:  receives the result; caller frees with sx_upstream_result_free()
 * @msg:  on failure, a one-line cause naming the file (msglen bytes)
 * Reads the captures one after the other through ingest's capture reader
 * (pcap of either byte order and resolution, pcapng, gzip- or
 * zstd-compressed, "-" for standard input); a read error after the first
 * packet keeps the packets before it and sets the table's warning.  Returns
 * 0, -ENOMEM, SX_E_STOPPED when sx_stop_requested() ended a read, or
 * SX_E_FORMAT / SX_E_PCAP / -errno when a capture cannot be opened.  Writes
 * nothing.  Context: one thread.
 */
int sx_upstream_run(const struct sx_upstream_cfg *cfg, struct sx_upstream_result **out, char *msg,
		    size_t msglen);
void sx_upstream_result_free(struct sx_upstream_result *r);

/* The per-event CSV of table t (pandas to_csv layout), appended to b. */
void sx_upstream_csv(const struct sx_up_table *t, struct sx_buf *b);

/*
 * sx_upstream_write_csvs - write "<dir>/<event>.csv" for every table, in
 * order (a later capture with the same event name replaces the file, as in
 * the reference).  0 or -errno with msg set.
 */
int sx_upstream_write_csvs(const struct sx_upstream_result *r, const char *dir, char *msg,
			   size_t msglen);

/* One pattern as the reference's str(Pattern): five lines, no final newline. */
void sx_upstream_pattern_str(const struct sx_up_pattern *p, struct sx_buf *b);

/*
 * The standard output of the reference's run: "Flows extracted" per capture,
 * the pattern report, "Patterns found!", "Policies generated".
 */
void sx_upstream_report(const struct sx_upstream_result *r, struct sx_buf *b);

/* The content of the pattern file (the reference's patterns.txt). */
void sx_upstream_patterns_text(const struct sx_upstream_result *r, struct sx_buf *b);

/* Write it to path.  0 or -errno with msg set. */
int sx_upstream_write_patterns(const struct sx_upstream_result *r, const char *path, char *msg,
			       size_t msglen);

/* ---- pieces, exposed for the unit tests ---- */

/* Python repr() of a str (quotes chosen as Python does), appended to b. */
void sx_upstream_repr_str(struct sx_buf *b, const char *s);

/*
 * A port known to the reference for a transport ("TCP"/"UDP"): 9999/tcp, or
 * in the embedded services table for that protocol.
 */
bool sx_upstream_known_port(uint16_t port, const char *transport);

/*
 * The Timestamp text of a packet time: classic pcap prints a fixed 6 (µs
 * files) or 9 (ns files) decimals, pcapng the shortest exact decimal.
 */
enum sx_up_tsfmt { SX_UP_TS_USEC = 0, SX_UP_TS_NSEC, SX_UP_TS_SHORTEST };
void sx_upstream_ts_text(char *buf, size_t bufsz, int64_t sec, uint32_t nsec, enum sx_up_tsfmt fmt);

/* ---- profile.yaml of --mode upstream (upstream_profile.c) ----
 *
 * profile.yaml of `--mode upstream`, as the reference tool
 * writes it with PyYAML's yaml.dump() (UPSTREAM.md §4.5, §4.6).
 *
 * Layout: block style, two-space indent, keys sorted, no "---"; scalars plain
 * unless PyYAML's resolver would read the plain text as something other than
 * a string (a number, a bool, null, a date...), then single-quoted, or
 * double-quoted when they need escapes; lines of plain text folded at 80
 * columns.  Written with libyaml's emitter (PyYAML's emitter is a port of
 * it and chooses scalar styles the same way); the resolver check is here.
 */

/*
 * sx_upstream_profile - write profile.yaml to f (borrowed).
 * @device:      the DEVICE argument (device-info.name)
 * @last_update: device-info.last-update, or NULL for the local time now in
 *               the reference's format
 * Returns 0, -EIO, -ENOMEM or SX_E_YAML (e.g. a device name that is not
 * UTF-8) with msg set.
 */
int sx_upstream_profile(const struct sx_upstream_result *r, const char *device,
			const char *last_update, FILE *f, char *msg, size_t msglen);

/* The same, into path through an atomic output file. */
int sx_upstream_profile_file(const struct sx_upstream_result *r, const char *device,
			     const char *last_update, const char *path, char *msg, size_t msglen);

/* t as the reference's last-update: "%a %d %b %Y, %I:%M%p", English names
 * ("Thu 28 Nov 2024, 07:40AM"), in local time as the reference, or in UTC
 * (utc: SOURCE_DATE_EPOCH's, the same text on every machine). */
void sx_upstream_last_update(char *buf, size_t bufsz, time_t t, bool utc);

#endif /* SX_UPSTREAM_UPSTREAM_H */
