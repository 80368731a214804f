/*
 * sigex.h - the sigex library (libsigex): find the network signature of a
 * smart-home device event in captures of its occurrences, and write it as a
 * profile of the smart-home firewall.
 *
 * This is the only public header.  The `sigex` command is a client of it:
 * `sigex DEVICE IPV4 PCAP... -o DIR` is, in essence,
 *
 *	struct sx_extract *ex;
 *
 *	sx_extract_new("tplink-plug", "192.168.1.135", &ex);
 *	sx_extract_add_capture(ex, "1724059939.pcap");		// one per occurrence
 *	...
 *	sx_extract_mine(ex, "DIR");		// read, build flows, write the CSVs, mine
 *	sx_extract_write_patterns(ex, "DIR/pattern.txt");
 *	sx_extract_write_signatures(ex, "DIR/signatures.yaml");
 *	sx_extract_write_profile(ex, "DIR/profile.yaml");
 *	sx_extract_free(ex);
 *
 * Build against it with `pkg-config --cflags --libs sigex`.
 *
 * Errors.  Every function that can fail returns 0 on success or a negative
 * number: a negative errno (-ENOMEM, -EINVAL, -ENOENT, -EIO...) or one of
 * sigex's own codes below -999.  sx_extract_strerror() names any of them,
 * and sx_extract_message() gives the last failure of an extraction in one
 * line, naming the file or option at fault.  The library never prints.
 *
 * Ownership.  Strings passed in are copied: they only have to live during
 * the call.  Strings returned are owned by the extraction and live until
 * sx_extract_free() (or, for sx_extract_message(), until the next call on
 * the same extraction).  FILE streams passed in are borrowed, written and
 * flushed, never closed.
 *
 * Threads.  An extraction is used by one thread at a time; separate
 * extractions are independent and may run concurrently in different
 * threads.  sx_extract_mine() starts reader and matching threads of its own
 * and joins them before it returns.  sx_extract_stop() is the one global
 * call: it is async-signal-safe and asks every running extraction to stop.
 *
 * Determinism.  The outputs depend on the captures' contents and the
 * options, not on the order the captures are added in, not on the number of
 * threads and not on the seed; profile.yaml differs only in its
 * last-update line between two runs (see sx_extract_set_last_update()).
 */
#ifndef SIGEX_H
#define SIGEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The symbols libsigex exports; everything else in it is hidden. */
#if defined(__GNUC__) && !defined(SX_STATIC_ONLY)
#define SX_API __attribute__((visibility("default")))
#else
#define SX_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* sigex's own error codes (other failures are negative errno values). */
enum sx_extract_err {
	SX_EXTRACT_E_PCAP = -1000, /* libpcap could not open or read a capture */
	SX_EXTRACT_E_LINKTYPE,	   /* unsupported link-layer type */
	SX_EXTRACT_E_FORMAT,	   /* not a capture, a damaged one, or a bad input file */
	SX_EXTRACT_E_YAML,	   /* YAML emitter error */
	SX_EXTRACT_E_USAGE,	   /* bad option value */
	SX_EXTRACT_E_STOPPED,	   /* sx_extract_stop() was called */
};

struct sx_extract;

/* The library's version, "MAJOR.MINOR.PATCH".  Thread-safe. */
SX_API const char *sx_extract_version(void);

/* Text for an error code of either range (a static string).  Thread-safe. */
SX_API const char *sx_extract_strerror(int err);

/*
 * sx_extract_new - start an extraction for one device.
 * @device: the device's name (profile.yaml's device-info.name), not empty
 * @ipv4:   the device's IPv4 address, dotted quad; written "self"
 * @out:    receives the extraction; caller frees it with sx_extract_free()
 * Returns 0, -EINVAL (empty name, bad address) or -ENOMEM; *out is NULL on
 * failure.  Thread-safe.
 */
SX_API int sx_extract_new(const char *device, const char *ipv4, struct sx_extract **out);

/* Free an extraction and everything it owns.  NULL is a no-op. */
SX_API void sx_extract_free(struct sx_extract *ex);

/* The last failure of ex in one line ("" when none). */
SX_API const char *sx_extract_message(const struct sx_extract *ex);

/*
 * ---- Options ----
 * Call before sx_extract_mine(); each returns 0, -EINVAL for a bad value
 * (with a message), -ENOMEM, or -EBUSY once sx_extract_mine() has run.  A
 * NULL string clears the option.
 */

/* The device's MAC address, "aa:bb:cc:dd:ee:ff" (or with '-'): device-info.mac,
 * and "client-mac: self" in DHCP policies. */
SX_API int sx_extract_set_mac(struct sx_extract *ex, const char *mac);
/* The device's IPv6 address: device-info.ipv6, and "self" in IPv6 policies. */
SX_API int sx_extract_set_ipv6(struct sx_extract *ex, const char *addr);
/* An address written as the firewall's alias "gateway" / "phone" (IPv4 or IPv6). */
SX_API int sx_extract_set_gateway(struct sx_extract *ex, const char *addr);
SX_API int sx_extract_set_phone(struct sx_extract *ex, const char *addr);
/* The interaction's name in profile.yaml.  Default: the label every event
 * of the events file shares (see sx_extract_set_events()), else "event". */
SX_API int sx_extract_set_event_name(struct sx_extract *ex, const char *name);
/* device-info.last-update, verbatim.  Default: the time of the write, ISO
 * 8601 local time ("2024-11-28T07:40:00+01:00"). */
SX_API int sx_extract_set_last_update(struct sx_extract *ex, const char *text);
/* Add "stats" (packet-count, duration) to every policy.  Default off. */
SX_API int sx_extract_set_stats(struct sx_extract *ex, bool on);
/* pattern.txt's Ports lines: every port of each end, not the three most used. */
SX_API int sx_extract_set_all_ports(struct sx_extract *ex, bool on);

/* Reader and matching threads; 0 (the default): the number of CPUs. */
SX_API int sx_extract_set_threads(struct sx_extract *ex, unsigned n);
/* Read only the packets matching a libpcap (BPF) filter expression. */
SX_API int sx_extract_set_filter(struct sx_extract *ex, const char *bpf);
/*
 * Cut each capture at its first gap longer than seconds between accepted
 * packets, as the reference tool does (5 there).  Default 0: the whole
 * capture is the occurrence.  Not combined with sx_extract_set_events().
 */
SX_API int sx_extract_set_window(struct sx_extract *ex, double seconds);
/*
 * One long capture with many events: path is a CSV of "timestamp[,label]"
 * rows (epoch seconds, or ISO 8601 with a zone), each opening a window of
 * duration seconds (0: 30) that is one occurrence.  The file is read by
 * sx_extract_mine().
 */
SX_API int sx_extract_set_events(struct sx_extract *ex, const char *path, double duration);
/*
 * Align the events file's scripted times to the device's activity in each
 * capture (a shift within +-300 s, then each event within +-20 s; the
 * method is described in the project's flows/flow_align.c): on (1), off
 * (0), or by default (-1) when some time of the file is relative.
 */
SX_API int sx_extract_set_align(struct sx_extract *ex, int on);
/* A flow ends after this long without a packet (default 120 s). */
SX_API int sx_extract_set_idle_timeout(struct sx_extract *ex, double seconds);
/* Seed the address-to-name table from a file of "IP NAME" lines. */
SX_API int sx_extract_set_names(struct sx_extract *ex, const char *path);
/* A pattern must occur in at least this fraction of the occurrences,
 * 0 < fraction <= 1 (default 0.9). */
SX_API int sx_extract_set_support(struct sx_extract *ex, double fraction);
/* The hash and feature-hashing seed.  Changes nothing in the outputs. */
SX_API int sx_extract_set_seed(struct sx_extract *ex, uint64_t seed);
/*
 * Memory ceiling: at most n flows live at once over the run (each costs
 * 1 KiB), n / threads per reader thread.  Past it, the least recently
 * active flows end early as idle, in one batch, instead of memory growing
 * without bound (a scan, a week-long capture whose timestamps never
 * advance); sx_extract_flows_capped() then says how many.  When the
 * ceiling binds, which flows end early depends on the number of threads.
 * 0 (the default): 131072 per reader thread (128 MiB).
 */
SX_API int sx_extract_set_max_flows(struct sx_extract *ex, uint64_t n);

/*
 * ---- Inputs ----
 * sx_extract_add_capture - a capture of occurrences of the event (one per
 * occurrence, or one with many events and sx_extract_set_events()).
 * sx_extract_add_background - an idle capture of the device: patterns also
 * found there are device chatter, written as single policies.
 * pcap or pcapng, gzip- or zstd-compressed, or "-" for standard input.
 * The file is opened by sx_extract_mine().  Returns 0, -EINVAL (empty
 * path, or a capture already added), -ENOMEM or -EBUSY.
 */
SX_API int sx_extract_add_capture(struct sx_extract *ex, const char *path);
SX_API int sx_extract_add_background(struct sx_extract *ex, const char *path);

/*
 * sx_extract_mine - read every capture in parallel, build the flows, and
 * mine the signature.  May be called once.
 * @csv_dir: when not NULL, an existing directory that receives one CSV of
 *           flows per readable capture, named after the capture: the
 *           integer before the first dot of the file name, as the reference
 *           tool names it ("1724059939.pcap" -> "1724059939.csv"), else the
 *           file name without its capture and compression extensions
 *           ("Setup-C-1-STA.pcap" -> "Setup-C-1-STA.csv"), else (standard
 *           input) the first packet's time in whole seconds; clashes get
 *           "-2", "-3"... (see sx_extract_csv_name()).  Background captures'
 *           CSVs go to csv_dir/background/ (created when needed).  The CSVs
 *           are renamed into place only when mining succeeds: a failed call
 *           leaves csv_dir as it was.
 * Returns 0 when mining ran: captures that could not be read are reported by
 * sx_extract_capture_status(), not here.  Fails with -EINVAL (no capture,
 * bad names file), SX_EXTRACT_E_USAGE (a bad row of the events file, or a
 * capture it names that is not given: the message names file and line),
 * -ENODATA (no capture could be read),
 * -EADDRNOTAVAIL (the device's IPv4 address is in no packet of the
 * captures; the message names the addresses they hold, most packets first),
 * -EIO or -errno (a CSV could not be written), SX_EXTRACT_E_STOPPED or
 * -ENOMEM.
 */
SX_API int sx_extract_mine(struct sx_extract *ex, const char *csv_dir);

/* Captures added (events and background, in the order added). */
SX_API size_t sx_extract_ncaptures(const struct sx_extract *ex);

/*
 * sx_extract_capture_status - how capture i (in the order added) was read.
 * @path:    receives its path as added (may be NULL)
 * @message: receives the cause of a failure or a warning, "" when none
 *           (may be NULL)
 * Returns 0 when the whole capture was read, a negative error when it could
 * not be read (or only in part), 1 when it was read but held no packet.
 * Before sx_extract_mine(), -EAGAIN.  -ERANGE for a bad i.
 */
SX_API int sx_extract_capture_status(const struct sx_extract *ex, size_t i, const char **path,
				     const char **message);

/* The CSV file name of capture i, relative to csv_dir ("1724059939.csv",
 * "background/idle.csv"), NULL when no CSV was written for it. */
SX_API const char *sx_extract_csv_name(const struct sx_extract *ex, size_t i);

/* Packets of capture i whose flow has the device's IPv4 address as an end;
 * 0 before sx_extract_mine(). */
SX_API uint64_t sx_extract_device_packets(const struct sx_extract *ex, size_t i);

/* Occurrences of the event that were mined (captures, or --events windows);
 * 0 before sx_extract_mine(). */
SX_API unsigned sx_extract_noccurrences(const struct sx_extract *ex);

/* Flows ended early because the memory ceiling was reached (see
 * sx_extract_set_max_flows()); 0 when it never was, or before mining. */
SX_API uint64_t sx_extract_flows_capped(const struct sx_extract *ex);

/* Patterns in the signature, and patterns set aside (background, periodic);
 * 0 before sx_extract_mine(). */
SX_API unsigned sx_extract_npatterns(const struct sx_extract *ex);
SX_API unsigned sx_extract_nbackground(const struct sx_extract *ex);

/*
 * ---- Events (an events file with several labels) ----
 * Each distinct label of the events file is an event of its own, mined
 * from its windows alone; without an events file, or with one label, there
 * is one event.  Events are numbered 0..n-1 in label order.  The outputs
 * below, sx_extract_noccurrences() and the pattern counts are those of the
 * selected event (the first mined one after sx_extract_mine()).
 */
struct sx_extract_event {
	const char *label;    /* as in the events file (escaped), "" when none */
	const char *name;     /* policy-style and unique: the interaction's name
			       * and the folder of its reports; NULL without an
			       * events file */
	unsigned scheduled;   /* windows inside a capture */
	unsigned empty;	      /* ... without a packet of the device */
	unsigned outside;     /* events with this label outside every capture */
	unsigned occurrences; /* occurrences mined (empty ones included);
			       * 0 when the event was not mined */
};
/* Number of events; 0 before sx_extract_mine().  Events and their counts
 * are kept when mining failed for want of an occurrence (-ENODATA). */
SX_API unsigned sx_extract_nevents(const struct sx_extract *ex);
/* Event i; 0, or -ERANGE (bad i, or before sx_extract_mine()). */
SX_API int sx_extract_event(const struct sx_extract *ex, unsigned i, struct sx_extract_event *out);
/* Make event i the one the outputs describe; 0, -ERANGE, or -ENODATA when
 * it was not mined (all its windows empty). */
SX_API int sx_extract_select_event(struct sx_extract *ex, unsigned i);
/*
 * sx_extract_alignment - how the events were placed in capture i: the shift
 * found (ns), the events placed and how many met device activity there,
 * and whether the match is weak.  Returns 1 when capture i was aligned, 0
 * when not (no events file, alignment off, or no device activity), -ERANGE
 * for a bad i or before sx_extract_mine().
 */
SX_API int sx_extract_alignment(const struct sx_extract *ex, size_t i, int64_t *shift_ns,
				unsigned *events, unsigned *matched, bool *weak);
/* The run's warnings (empty windows, events outside every capture, events
 * not mined), one a line, "" when none; valid until sx_extract_free(). */
SX_API const char *sx_extract_notes(const struct sx_extract *ex);

/*
 * ---- Outputs (after sx_extract_mine()) ----
 * Each writes a complete file atomically: to a temporary name in the same
 * directory, renamed into place; on failure the previous file at path is
 * left intact.  Returns 0, -EAGAIN before sx_extract_mine(), or -errno /
 * SX_EXTRACT_E_YAML with a message.
 */

/* pattern.txt: the report for people, each pattern in the reference
 * tool's block format followed by sigex's statistics. */
SX_API int sx_extract_write_patterns(struct sx_extract *ex, const char *path);
/* signatures.yaml: the complete machine-readable signature. */
SX_API int sx_extract_write_signatures(struct sx_extract *ex, const char *path);
/* profile.yaml: the device profile for the smart-home firewall. */
SX_API int sx_extract_write_profile(struct sx_extract *ex, const char *path);
/* profile.yaml of the device with one interaction per mined event (single
 * policies shared by them written once): the rules of sigex batch's device
 * profile.  With one event, the same policies as sx_extract_write_profile(). */
SX_API int sx_extract_write_device_profile(struct sx_extract *ex, const char *path);
/* The report of sx_extract_write_patterns() to a stream (borrowed). */
SX_API int sx_extract_print_report(struct sx_extract *ex, FILE *f);

/*
 * sx_extract_validate - the held-out allow rate (after sx_extract_mine()):
 * the event captures are split into folds (leave-one-out up to 20, 10
 * folds above, by file name), the others mined into a profile for each
 * fold, and the held-out captures replayed through it with the smart-home
 * firewall's semantics.  The result is added to pattern.txt and
 * signatures.yaml ("validation:") by the writers above.  Returns 0,
 * -EAGAIN before mining, SX_EXTRACT_E_STOPPED or -ENOMEM.
 */
SX_API int sx_extract_validate(struct sx_extract *ex);
/* The held-out packets and flows allowed by the firewall's rules, in
 * percent; returns the number of folds (0: fewer than two captures), or
 * -EAGAIN when not validated. */
SX_API int sx_extract_validation(const struct sx_extract *ex, double *packets_pct,
				 double *flows_pct);
/* The same with the interactions' states, as the firewall runs them. */
SX_API int sx_extract_validation_states(const struct sx_extract *ex, double *packets_pct,
					double *flows_pct);

/*
 * sx_extract_stop - ask every running sx_extract_mine() to stop; they return
 * SX_EXTRACT_E_STOPPED.  Async-signal-safe; for SIGINT handlers.  There is
 * no way back: later extractions in the process stop at once too, and the
 * writers no longer replace a file (they return SX_EXTRACT_E_STOPPED and
 * leave the previous file as it was).
 */
SX_API void sx_extract_stop(void);

#ifdef __cplusplus
}
#endif

#endif /* SIGEX_H */
