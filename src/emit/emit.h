/*
 * emit.h - PUBLIC API of the emit module: what a mining result becomes.
 *
 *   sx_emit_report()      the report for people: pattern.txt and stdout;
 *                         each pattern in the reference tool's block format
 *                         (Pattern i: / IP Addresses / Protocol / Ports /
 *                         Fixed port / Application Data), then sigex's lines
 *                         (id, support, statistics, order).  Format: report.c.
 *   sx_emit_signatures()  signatures.yaml, the complete machine-readable
 *                         signature (every pattern with its stable id,
 *                         identity, statistics; background and periodic
 *                         patterns; the run's parameters).  Schema:
 *                         signatures.c.
 *
 *   sx_emit_profile()     profile.yaml of the default mode, for the
 *                         smart-home firewall (below, and profile.c).
 *
 * All are pure functions of the result: the same result gives the same
 * bytes (profile.yaml's last-update aside).  Nothing that varies between equivalent runs (paths of
 * the inputs, hash seed, thread count, clock) is written.  emit only borrows the result.
 */
#ifndef SX_EMIT_EMIT_H
#define SX_EMIT_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "mine/mine.h"

struct sx_buf;
struct sx_yw;

/* Writes more key-value pairs of signatures.yaml's top-level mapping
 * through w (yaml/ydoc.h); ctx is the caller's. */
typedef void (*sx_emit_section_fn)(struct sx_yw *w, const void *ctx);

#define SX_EMIT_REPORT_FILE	"pattern.txt"
#define SX_EMIT_SIGNATURES_FILE "signatures.yaml"

/* How an events file's windows became the occurrences (--events). */
struct sx_emit_schedule {
	unsigned scheduled; /* windows inside a capture: the occurrences */
	unsigned empty;	    /* ... without a packet of the device (counted) */
	unsigned outside;   /* events outside every capture (not counted) */
};

struct sx_emit_opts {
	/* Ports line: every port of each end, instead of the three most used
	 * ports of each end (the seed README's rule). */
	bool all_ports;
	/* The windows behind the occurrences, or NULL (no events file): said
	 * in the report's second line and in signatures.yaml's summary. */
	const struct sx_emit_schedule *schedule;
	/* Sections signatures.yaml ends with, after the signature's own (the
	 * held-out validation), or NULL: sections(w, sections_ctx). */
	sx_emit_section_fn sections;
	const void *sections_ctx;
	/* With an events file, the mining of the device's traffic between the
	 * windows, or NULL: its patterns and periodic patterns are written as
	 * between-events (sigex detect contrasts the event's patterns with
	 * them; nothing else reads them). */
	const struct sx_mine_result *between;
};

/*
 * sx_emit_report - append the report to b (errors latch in b->err).
 * o may be NULL (defaults).  Context: any thread; b is the caller's.
 */
void sx_emit_report(struct sx_buf *b, const struct sx_mine_result *r, const struct sx_emit_opts *o);

/*
 * sx_emit_signatures - write signatures.yaml to f (borrowed).  o may be
 * NULL.  Returns 0, or SX_E_YAML / -EIO / -ENOMEM with a message in msg
 * (msglen bytes).  Context: any thread.
 */
int sx_emit_signatures(FILE *f, const struct sx_mine_result *r, const struct sx_emit_opts *o,
		       char *msg, size_t msglen);

/* ---- profile.yaml of the default mode (profile.c) ----
 *
 * profile.yaml of the default mode: a mined signature as a
 * device profile of the smart-home firewall (smart-home-network-security/
 * smart-home-firewall, schema in shared/docs/UPSTREAM.md §5).
 *
 * The document uses the firewall's keys and nothing else:
 *
 *   device-info:      name, mac (given or inferred), ipv4 (given), ipv6 (given
 *                     or inferred), last-update
 *   single-policies:  one policy per background or periodic pattern
 *   interactions:     <event>: one policy per event pattern, in the
 *                     patterns' typical order within an occurrence
 *
 * and each policy is "protocols" (application section, then tcp/udp/icmp...,
 * then ipv4/ipv6), "bidirectional" and, when asked, "stats".  How policy ids,
 * src/dst and ports are chosen is described at the top of profile.c.
 *
 * Deterministic: the same result and configuration give the same bytes,
 * apart from last-update.  Stateless; thread-safe (one writer per call).
 */

/* The interaction name when neither --event nor a common label gives one. */
#define SX_PROFILE_EVENT_DEFAULT "event"

struct sx_profile_cfg {
	const char *device;	 /* device-info.name; required, any UTF-8 text */
	const char *ipv4;	 /* the device's IPv4 address ("self"), or NULL */
	const char *ipv6;	 /* the device's IPv6 address ("self"), or NULL:
				  * inferred from the result (sx_mine_device_ipv6()) */
	const char *mac;	 /* the device's MAC ("aa:bb:cc:dd:ee:ff"), or NULL:
				  * inferred from the result (sx_mine_device_mac()) */
	const char *gateway;	 /* an address written as the alias "gateway", or NULL */
	const char *phone;	 /* an address written as the alias "phone", or NULL */
	const char *event;	 /* the interaction's name; NULL: see
				  * sx_emit_profile_event_name() */
	const char *last_update; /* device-info.last-update; NULL: now, local time */
	bool stats;		 /* add stats (packet-count, duration) to policies */
	bool singles;		 /* every pattern a single policy, no interaction:
				  * the device's traffic between its events */
	/* Results merged into the same device profile (sx_emit_profile_merge()),
	 * borrowed, or NULL: their DNS policies teach the firewall names too,
	 * so a name end that one of them looked up is written by its name, with
	 * its twin by addresses (its lookups' occurrences are not this
	 * result's). */
	const struct sx_mine_result *const *dns_from;
	size_t ndns_from;
};

/*
 * sx_emit_profile - write profile.yaml for r to f.
 * @r:    the mined result (borrowed, read only)
 * @cfg:  borrowed; addresses are text (IPv4 dotted quad, IPv6 any form)
 * @f:    borrowed; written, not closed
 * @msg:  on failure, a one-line cause (msglen bytes)
 * Returns 0, -EINVAL (a cfg address that does not parse, no device name),
 * -ENOMEM, -EIO (write error) or SX_E_YAML (e.g. a device name that is not
 * UTF-8).  Context: any thread.
 */
int sx_emit_profile(const struct sx_mine_result *r, const struct sx_profile_cfg *cfg, FILE *f,
		    char *msg, size_t msglen);

struct sx_ytree;

/*
 * sx_emit_profile_merge - the device's profile with one interaction per
 * event, from the events' own profiles (docs[0..n), parsed profile.yaml
 * documents, borrowed; their order is the interactions' order): rules at
 * the top of profile_merge.c.  Writes the document to f.  Returns 0,
 * SX_E_FORMAT (a document that is not a mapping), SX_E_YAML / -EIO (write),
 * -ENOMEM, with a message in msg.  Context: any thread.
 */
int sx_emit_profile_merge(const struct sx_ytree *const *docs, size_t n, FILE *f, char *msg,
			  size_t msglen);

/*
 * sx_emit_profile_merge_extra - sx_emit_profile_merge() with one more
 * document (borrowed, may be NULL) whose single policies are added last,
 * each only where it changes nothing of the merged profile: none that
 * matches what a policy of it matches, and no plain accept that would take
 * another policy's packets first (the whole captures' traffic that no
 * event's result holds).  Same returns.
 */
int sx_emit_profile_merge_extra(const struct sx_ytree *const *docs, size_t n,
				const struct sx_ytree *extra, FILE *f, char *msg, size_t msglen);

/*
 * sx_emit_profile_file - the same into path, through an atomic output file
 * (core/outfile.h): on any failure the previous file at path is intact.
 */
int sx_emit_profile_file(const struct sx_mine_result *r, const struct sx_profile_cfg *cfg,
			 const char *path, char *msg, size_t msglen);

/*
 * sx_emit_profile_event_name - the interaction's name: cfg->event when
 * given; else the events-file label shared by every occurrence, made a
 * policy-style name ("Switch On" -> "switch-on"); else
 * SX_PROFILE_EVENT_DEFAULT.  Returns buf.
 */
const char *sx_emit_profile_event_name(const struct sx_mine_result *r,
				       const struct sx_profile_cfg *cfg, char *buf, size_t bufsz);

/* t as last-update: ISO 8601 local time with its offset, the form the
 * firewall's own profiles use ("2024-11-28T07:40:00+01:00"). */
void sx_emit_profile_last_update(char *buf, size_t bufsz, time_t t);

/*
 * sx_emit_profile_id - a policy id made of words: lower case, [a-z0-9-],
 * runs of anything else become one '-', no leading or trailing '-', at most
 * bufsz - 1 bytes (cut at a word boundary when possible).  "" when nothing
 * is left.  Returns buf.
 */
const char *sx_emit_profile_id(const char *words, char *buf, size_t bufsz);

#endif /* SX_EMIT_EMIT_H */
