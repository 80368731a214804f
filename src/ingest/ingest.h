/*
 * ingest.h - PUBLIC API of the ingest module: captures in, decoded packets
 * out.
 *
 * Three layers, usable separately:
 *   - sx_decode(): one frame -> struct sx_pkt (link, network, transport and
 *     application layers).  Pure function of its input; thread-safe.
 *   - struct sx_capture: one capture file (pcap, pcapng, gzip- or
 *     zstd-compressed, or standard input) read with libpcap at nanosecond
 *     precision.  One thread at a time.
 *   - sx_ingest_run(): a pool of reader threads over many captures, calling
 *     back per packet.  Files are taken largest first (or in
 *     the order the caller gives); each file is read by
 *     exactly one thread, in packet order.
 * And the run-wide table of names for addresses (struct sx_names).
 */
#ifndef SX_INGEST_INGEST_H
#define SX_INGEST_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ingest/packet.h"

/* ---- decoding ---- */

/* Name of a protocol as printed in the Protocol column ("TCP", "DNS", ...). */
const char *sx_proto_name(enum sx_proto proto);

/* The name of a DNS type ("A", "AAAA", "TYPE65534") into buf. */
const char *sx_dns_type_name(uint16_t type, char *buf, size_t bufsz);
/* CoAP code: "GET".."FETCH" etc. for requests, "2.05" for responses, "EMPTY". */
const char *sx_coap_code_name(uint8_t code, char *buf, size_t bufsz);
/* DHCP message type name ("discover", ..., "inform"), or NULL. */
const char *sx_dhcp_type_name(uint8_t type);
/* CoAP message type: "CON", "NON", "ACK", "RST". */
const char *sx_coap_type_name(uint8_t type);
/* SSDP message kind (enum sx_ssdp_kind): "M-SEARCH", "NOTIFY", "RESPONSE",
 * "" for any other value (never set by the dissector). */
const char *sx_ssdp_kind_name(uint8_t kind);
/* MQTT control packet type: "RESERVED", "CONNECT", ..., "AUTH". */
const char *sx_mqtt_type_name(uint8_t type);

/*
 * sx_http_fw_read - what the smart-home firewall's HTTP parser
 * (parsers/src/http.c) reads in a TCP payload d[0..cap) of len bytes on
 * the wire, request or not.  It takes a payload of 16 bytes or more for an
 * HTTP message when its first letter, or two, name a method to it: G GET,
 * H HEAD, PO POST, PU PUT, D DELETE, C CONNECT, O OPTIONS, T TRACE, by
 * those letters alone, so that a segment continuing a request's header
 * section, "Host: x" or "Content-Length: 9", is to it a HEAD or a CONNECT.
 * Its URI is what follows the method's name and one more byte, up to the
 * next space.  Returns the method (1 GET ... 8 TRACE, the parser's order)
 * with the URI in uri (at most urisz - 1 bytes, cut at cap), or 0 (uri
 * empty) when the firewall reads no HTTP message there.
 */
int sx_http_fw_read(const uint8_t *d, size_t cap, uint32_t len, char *uri, size_t urisz);
/* The name of a method of sx_http_fw_read() ("GET" ... "TRACE"), "" for any
 * other value. */
const char *sx_http_fw_method_name(int method);

/* Framing for a libpcap link type (DLT_* or LINKTYPE_*), SX_L2_UNSUPPORTED
 * when not decoded. */
enum sx_l2 sx_l2_from_dlt(int dlt);

/*
 * sx_decode - decode one frame.
 * @pkt:    filled in; file, index and timestamps are left to the caller
 * @l2:     framing from sx_l2_from_dlt()
 * @data:   the captured bytes, caplen of them (never read past)
 * @wirelen: the frame's original length
 * Sets pkt->status and pkt->proto; never fails.  pkt->payload points into
 * data.  Context: any thread; no allocation.
 */
void sx_decode(struct sx_pkt *pkt, enum sx_l2 l2, const uint8_t *data, uint32_t caplen,
	       uint32_t wirelen);
/* sx_decode without the application dissectors: link, network and
 * transport headers only (pkt->headers_only set), for a reader that needs
 * addresses and ports, not names (about half the cost of a DNS packet). */
void sx_decode_headers(struct sx_pkt *pkt, enum sx_l2 l2, const uint8_t *data, uint32_t caplen,
		       uint32_t wirelen);

/* Text form of an address ("192.0.2.1", "2001:db8::1"), "" when none. */
const char *sx_addr_str(const struct sx_addr *a, char *buf, size_t bufsz);

/* Text form of a MAC address, lower-case "aa:bb:cc:dd:ee:ff" (18 bytes with
 * the NUL), "" when it is all zero. */
#define SX_MAC_TEXT_MAX 18
const char *sx_mac_str(const uint8_t mac[6], char *buf, size_t bufsz);
/* Parse "aa:bb:cc:dd:ee:ff" (either case, ':' or '-'); 0 or -EINVAL. */
int sx_mac_parse(const char *s, uint8_t mac[6]);

/*
 * sx_pkt_summary - the ApplicationSpecific text of a packet: the reference
 * tool's forms where it had one (DNS "A name.", DHCP "discover", CoAP
 * "CON GET /path?query", HTTP "GET host/path"), a short form for the other
 * protocols, "" for plain transport.  Printable ASCII, bounded by bufsz.
 */
const char *sx_pkt_summary(const struct sx_pkt *pkt, char *buf, size_t bufsz);

/* Name of a transport protocol ("TCP", "UDP", "ICMP", ...) or its number. */
const char *sx_ip_proto_name(uint8_t proto, char *buf, size_t bufsz);

/*
 * sx_inflated_len - the length n bytes of a zlib (gzip false) or gzip (gzip
 * true, members may follow each other after zero padding) body inflate to.
 * Returns -1 where Python's zlib/gzip decompress would raise (bad data, the
 * input ends inside a stream, gzip followed by garbage).  Context: any
 * thread; allocates only zlib's state.
 */
long long sx_inflated_len(const uint8_t *in, size_t n, bool gzip);

/* ---- the packet CSV (sigex packets) ---- */

struct sx_buf;
struct sx_names;

/* The header line, columns documented in docs/csv.md. */
void sx_packet_csv_header(struct sx_buf *b);
/* One row for pkt, read from the capture named file; names may be NULL. */
void sx_packet_csv_row(struct sx_buf *b, const char *file, const struct sx_pkt *pkt,
		       const struct sx_names *names);

/* ---- one capture ---- */

struct sx_capture;

/*
 * sx_capture_open - open a capture for reading.
 * @path:   a file name, or "-" for standard input
 * @filter: a libpcap (BPF) filter expression, or NULL
 * @out:    receives the capture; caller frees with sx_capture_close()
 * @msg:    receives a one-line cause on failure (msglen bytes)
 * Detects gzip and zstd by content.  Returns 0, or SX_E_FORMAT / SX_E_PCAP /
 * SX_E_LINKTYPE / -errno with msg set and *out NULL.
 */
int sx_capture_open(const char *path, const char *filter, struct sx_capture **out, char *msg,
		    size_t msglen);

/*
 * sx_capture_next - read and decode the next packet into pkt.
 * Returns 1 for a packet, 0 at the end of the file, or a negative error with
 * the cause in sx_capture_error() (a damaged or truncated record: the packets
 * before it were returned).  pkt->payload is valid until the next call.
 */
int sx_capture_next(struct sx_capture *cap, struct sx_pkt *pkt);
/* sx_capture_next with sx_decode_headers(). */
int sx_capture_next_headers(struct sx_capture *cap, struct sx_pkt *pkt);

/*
 * The same in two steps, for a reader that decodes on another thread:
 * sx_capture_next_raw() reads the next record undecoded (returns as
 * sx_capture_next(); rec->data is valid until the next call), and
 * sx_capture_decode() decodes a record read from this capture (the bytes
 * may be a copy).  sx_capture_decode() only reads the capture's link type,
 * so it may run on another thread than the reads.
 */
struct sx_raw_rec {
	const uint8_t *data;
	uint32_t caplen;
	uint32_t wire_len;
	int64_t ts_sec;
	uint32_t ts_nsec;
	uint64_t index; /* 0-based record number within the file */
};

int sx_capture_next_raw(struct sx_capture *cap, struct sx_raw_rec *rec);
void sx_capture_decode(const struct sx_capture *cap, const struct sx_raw_rec *rec,
		       struct sx_pkt *pkt);

const char *sx_capture_error(const struct sx_capture *cap);
int sx_capture_dlt(const struct sx_capture *cap);

/* The file format of a capture, as its (decompressed) magic number says. */
enum sx_capture_format {
	SX_CAPTURE_PCAP_USEC, /* classic pcap, microsecond timestamps */
	SX_CAPTURE_PCAP_NSEC, /* classic pcap, nanosecond timestamps */
	SX_CAPTURE_PCAPNG,
};

/* The format of an open capture (timestamps are returned in nanoseconds
 * whatever it is; the format says how precise the file's own are). */
enum sx_capture_format sx_capture_format(const struct sx_capture *cap);

void sx_capture_close(struct sx_capture *cap);

/*
 * sx_ingest_bpf_check - whether filter is a valid libpcap (BPF) expression,
 * compiled for Ethernet as sx_capture_open() would for most captures.
 * @filter: the expression; NULL or "" is valid
 * @msg:    receives libpcap's reason when it is not (msglen bytes)
 * Returns 0, SX_E_USAGE (bad filter, msg set) or -ENOMEM.
 * Context: any thread (pcap_compile is thread-safe since libpcap 1.8).
 */
int sx_ingest_bpf_check(const char *filter, char *msg, size_t msglen);

/* ---- many captures in parallel ---- */

/* Per-file outcome, filled by sx_ingest_run(). */
struct sx_file_status {
	int err;	 /* 0 when the whole file was read */
	bool opened;	 /* packets (possibly none) were read before err */
	char msg[256];	 /* the cause, when err or a warning */
	bool warn_empty; /* a valid capture with no packets */
	int dlt;
	uint64_t packets;      /* records read */
	uint64_t bytes;	       /* sum of wire lengths */
	uint64_t ip_packets;   /* IPv4 and IPv6 packets */
	uint64_t arp_packets;  /* ARP messages decoded (Ethernet/IPv4): flows of their own */
	uint64_t arp_other;    /* ARP frames truncated or of another kind: in no flow */
	uint64_t by_status[4]; /* enum sx_dec_status */
	int64_t first_sec;     /* first packet's timestamp */
	uint32_t first_nsec;
	int64_t last_sec; /* latest timestamp of any packet */
	uint32_t last_nsec;
	bool piped; /* read on a second thread, decoded on the callbacks' */
};

/*
 * Callbacks of a run.  Each reader thread calls thread_init once, then for
 * each file it takes: file_begin, packet per packet, file_end; then
 * thread_fini.  All callbacks of one thread run on that thread; different
 * threads run concurrently, so anything shared between them must be
 * synchronised by the callee.  Any callback may be NULL.
 */
struct sx_ingest_ops {
	int (*thread_init)(void *ctx, unsigned tid, void **tctx);
	void (*file_begin)(void *tctx, uint32_t file);
	void (*packet)(void *tctx, const struct sx_pkt *pkt);
	void (*file_end)(void *tctx, uint32_t file, const struct sx_file_status *st);
	void (*thread_fini)(void *tctx);
};

struct sx_ingest_cfg {
	const char *const *paths; /* files to read; borrowed, must outlive the call */
	const char *const *names; /* names shown in messages, or NULL for paths */
	const uint64_t *sizes;	  /* each path's size as the caller's stat found it,
				   * UINT64_MAX when not a regular file (borrowed),
				   * or NULL: stat'ed here for the order */
	uint32_t npaths;
	unsigned nthreads;     /* 0: number of online CPUs */
	const char *filter;    /* BPF filter, or NULL */
	const uint32_t *order; /* order in which files are taken (npaths distinct
				* indices, borrowed), or NULL: largest first */
};

/*
 * sx_ingest_run - read every capture with a pool of reader threads.
 * @status: array of cfg->npaths entries, filled per file
 * Returns 0 when the run completed (bad files are reported in status, not
 * here), SX_E_STOPPED when sx_stop_requested() ended it, -ENOMEM, or a
 * thread_init error.  Context: the calling thread waits; not reentrant.
 */
int sx_ingest_run(const struct sx_ingest_cfg *cfg, const struct sx_ingest_ops *ops, void *ctx,
		  struct sx_file_status *status);

/* Report each failed file on stderr (one line each, naming the file) and
 * return SX_EXIT_OK or SX_EXIT_PARTIAL (SX_EXIT_FAILURE when none could be
 * read at all). */
int sx_ingest_report(const struct sx_ingest_cfg *cfg, const struct sx_file_status *status);

/* ---- names for addresses (hostname resolution) ---- */

struct sx_names;

enum sx_name_source {
	SX_NAME_SEED = 0, /* --names file: always wins */
	SX_NAME_DNS,	  /* DNS A/AAAA answer, mapped to the name queried */
	SX_NAME_SNI,	  /* TLS server_name, for the server's address */
	SX_NAME_HTTP,	  /* HTTP Host, for the server's address */
	SX_NAME_MDNS,	  /* mDNS answers: local names, kept apart */
};

/*
 * Learning is per thread: each reader thread owns a struct sx_names_learner
 * and feeds it packets; sx_names_merge() folds learners into the run's table
 * after the threads are joined, so the result does not depend on thread
 * timing.
 */
struct sx_names_learner;

int sx_names_new(struct sx_names **out);
void sx_names_free(struct sx_names *n);
/* Seed from a file of "IP NAME" lines ('#' comments).  0, or -errno / SX_E_FORMAT
 * with a message naming the line in msg. */
int sx_names_load(struct sx_names *n, const char *path, char *msg, size_t msglen);
/*
 * sx_names_save - every fact the table holds, to f: a line "sigex-names 1",
 * then "ADDRESS SOURCE COUNT NAME" lines (SOURCE an enum sx_name_source).
 * sx_names_load_saved() adds such a file's facts to a table, counts
 * included, so that the tables of several runs (one per capture) merge into
 * the table of one run over all of them: sx_names_finish() then picks the
 * names that run picks.  0, -EIO / -errno / SX_E_FORMAT / -ENOMEM (msg set
 * on load).
 */
int sx_names_save(const struct sx_names *n, FILE *f);
int sx_names_load_saved(struct sx_names *n, const char *path, char *msg, size_t msglen);
int sx_names_learner_new(struct sx_names_learner **out);
void sx_names_learner_free(struct sx_names_learner *l);
/* Learn what a packet tells (DNS answers, SNI, Host).  Thread: the learner's owner. */
void sx_names_learn(struct sx_names_learner *l, const struct sx_pkt *pkt);
/* Fold a learner into the table.  Not thread-safe; call after the join. */
int sx_names_merge(struct sx_names *n, const struct sx_names_learner *l);
/* Freeze the table: choose one name per address.  Call once, after merging. */
void sx_names_finish(struct sx_names *n);
/*
 * sx_names_lookup - the cloud name for an address, or NULL.  Local (mDNS)
 * names come from sx_names_lookup_local().  Thread-safe after
 * sx_names_finish(); the string lives as long as the table.
 */
const char *sx_names_lookup(const struct sx_names *n, const struct sx_addr *a);
const char *sx_names_lookup_local(const struct sx_names *n, const struct sx_addr *a);

/* libpcap's own version line ("libpcap version 1.10.3 ..."), of the library
 * loaded at run time.  Thread-safe. */
const char *sx_ingest_pcap_version(void);

#endif /* SX_INGEST_INGEST_H */
