/*
 * detect.h - PUBLIC API of the detect module: an event's signature
 * (signatures.yaml, as src/emit/signatures.c writes it) turned into a
 * detector over the flow stage's rows, and the detections scored against
 * labelled times.
 *
 *   sx_det_sig_load()          one signatures.yaml per event
 *   sx_det_new()               a detector over several signatures
 *   sx_det_row()               every flow row of the flow stage (streaming:
 *                              only the rows that match a pattern are kept)
 *   sx_det_finish()            the detections, per capture, by start
 *   sx_det_score()             with labelled times: hits, misses, false ones
 *   sx_det_contrast()          which patterns tell an event from the device's
 *                              other events, and which are no event's (the
 *                              traffic between the events) (contrast.c;
 *                              sx_det_new() runs it)
 *
 * What a detection is (the rules, their reasons and defaults) is written at
 * the top of match.c; the scoring at the top of score.c.  Objects are used by
 * one thread at a time; the functions keep no global state.
 */
#ifndef SX_DETECT_DETECT_H
#define SX_DETECT_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "flows/flow.h"
#include "flows/flows.h"

#define SX_DET_FRACTION_DEFAULT	 0.75 /* --min-fraction: patterns a detection needs */
#define SX_DET_SLACK_DEFAULT	 0.25 /* --slack: packets and bytes beyond the mined range */
#define SX_DET_TOLERANCE_DEFAULT 10   /* --tolerance: seconds around a labelled time */
#define SX_DET_MARGIN_DEFAULT	 0.5  /* --margin: coverage a label is told by (match.c) */

/* How an end of a pattern is recognised. */
enum sx_det_host {
	SX_DET_SELF = 0, /* the device (the signature's, or --device) */
	SX_DET_ADDRS,	 /* one of the listed addresses */
	SX_DET_NAME,	 /* the resolved name, or one of the addresses */
	SX_DET_DOMAIN,	 /* a name under the domain, or one of the addresses */
	SX_DET_ANY,	 /* a scope ("s:multicast"): any address */
};

struct sx_det_end {
	uint8_t host; /* enum sx_det_host */
	char **addrs; /* address texts (a self end: its hosts other than the device) */
	uint32_t naddrs;
	char **names; /* resolved names (NAME); the suffix with its dot (DOMAIN) */
	uint32_t nnames;
};

struct sx_det_attr {
	char *key, *value; /* AppAttributes form; a generalised value ends or starts with '*' */
};

struct sx_det_range {
	int64_t min, max;
};

struct sx_det_pattern {
	char id[16];
	uint32_t position; /* 1-based typical order */
	bool arp;
	int arp_op; /* ARP: the operation, else 0 */
	uint8_t ip_proto;
	uint8_t fixed_end; /* 0 client, 1 server, 2 none */
	uint16_t fixed_port;
	struct sx_det_end end[2]; /* [0] client, [1] server */
	struct sx_det_attr *attrs;
	uint32_t nattrs;
	struct sx_det_range pkts[2], bytes[2]; /* sent by [0] the client, [1] the server */
	int64_t offset_min_ns, offset_max_ns;
	bool before_next; /* it started before the next pattern in every occurrence */
	bool began;	  /* mined from --events windows, each flow began in its window
			     (no session-flows): a session open before the window is not it */
	int32_t seq_min[SX_FLOW_SEQ_MAX], seq_max[SX_FLOW_SEQ_MAX];
	uint8_t seq_n, seq_all;
	/* positions of a bulk transfer (sig.c): bit k set, position k is read
	 * by the matcher as any length up to seq_bulk_top of its sender */
	uint32_t seq_bulk;
	int32_t seq_bulk_top[2]; /* [0] the client's full segment, [1] the server's */
};

struct sx_det_sig {
	char label[SX_EVENT_LABEL_MAX]; /* the event: occurrences' label, else from the path */
	char *path;
	struct sx_det_pattern *p; /* the signature's patterns, in typical order */
	uint32_t n;
	int64_t span_ns; /* a detection's window (match.c) */
	char device[64]; /* address text of the signature's "self", "" when none */
	uint32_t noccs;	 /* occurrences it was mined from */
	/* between-events: the device's traffic outside the event windows,
	 * for contrast only (contrast.c); none when not mined */
	struct sx_det_pattern *between;
	uint32_t nbetween;
	bool windowed; /* mined from --events windows, not whole captures */
};

/*
 * sx_det_sig_parse - a signature from signatures.yaml text held in memory.
 * @path: shown in messages and used for the label when the occurrences
 *        carry none (the folder of a file named signatures.yaml, else the
 *        file name without its extension)
 * A signature without patterns (an event whose flows did not recur) is
 * read, with n 0: it detects nothing.
 * Returns 0 with *out set (free with sx_det_sig_free()), SX_E_FORMAT with
 * the cause in msg (not a sigex signature, a missing field, no patterns list,
 * a payload-lengths section missing: written before sigex detect), or
 * -ENOMEM.  Stateless; thread-safe.
 */
int sx_det_sig_parse(const char *data, size_t len, const char *path, struct sx_det_sig **out,
		     char *msg, size_t msglen);
/* The same from a file; -errno (msg set) when unreadable. */
int sx_det_sig_load(const char *path, struct sx_det_sig **out, char *msg, size_t msglen);
void sx_det_sig_free(struct sx_det_sig *s);

/* What a detector is asked for. */
struct sx_det_cfg {
	double fraction; /* (0, 1]: patterns of a signature a detection needs; 0: default */
	double slack;	 /* >= 0: packets and bytes allowed beyond the mined range; <0: default */
	int64_t span_ns; /* > 0: the window of every signature instead of its own */
	const char *device; /* address text of the device, or NULL: each signature's */
	bool overlap;	    /* keep detections of several signatures that overlap (match.c) */
	bool no_contrast;   /* detect every signature by all its patterns (contrast.c) */
	bool sure;	    /* only detections whose label is told from every other (match.c) */
	double margin;	    /* (0, 2]: how much more of its patterns than of any other
			       event's a window must hold for its label to be sure by
			       coverage (above 1: never); 0: default (match.c) */
};

/* One pattern found in a detection: the flow that matched it. */
struct sx_det_hit {
	uint32_t pattern; /* index in the signature */
	int64_t first_ns, last_ns;
	char flow[160]; /* "tcp 192.168.1.159:47519>events.tplinkra.com:443" */
};

struct sx_det_detection {
	uint32_t file; /* capture index of the flow stage */
	uint32_t sig;  /* index of the signature */
	int64_t start_ns, end_ns;
	uint32_t matched;	 /* patterns found, of the signature's n */
	uint32_t distinct;	 /* of them distinctive (contrast.c) */
	bool ambiguous;		 /* not told from another event's signature: rival */
	uint32_t rival;		 /* with ambiguous: that signature (match.c) */
	struct sx_det_hit *hits; /* matched of them, by pattern */
};

struct sx_det;

/* A detector over nsigs signatures (borrowed; they outlive it).  0,
 * -EINVAL for a bad cfg, -ENOMEM. */
int sx_det_new(const struct sx_det_cfg *cfg, const struct sx_det_sig *const *sigs, uint32_t nsigs,
	       struct sx_det **out);
void sx_det_free(struct sx_det *d);

/* One flow row (any order of units; within a unit, the flow stage's).  0 or
 * -ENOMEM.  Signature: an sx_flow_row_fn. */
int sx_det_row(void *det, const struct sx_flow_row *row);

/* Whether the row's flow matches pattern p of a signature whose device is
 * device (address text): identity and shape (match.c).  For tests. */
bool sx_det_flow_matches(const struct sx_det_pattern *p, const char *device,
			 const struct sx_flow_row *row, double slack);

/* ---- contrast between events (contrast.c) ---- */

/* Which patterns of the signatures loaded together are shared with another
 * event's signature of the same device, and which tell their event apart. */
struct sx_det_contrast {
	uint32_t nsigs;
	uint32_t *first;       /* per signature: its first pattern's index below */
	uint32_t *shared_with; /* per pattern: 0 distinctive, else 1 + a signature it meets */
	uint32_t *ndistinct;   /* per signature: its distinctive patterns */
	uint32_t *rivals;      /* per signature: what it was contrasted with: the other
				  events' signatures (same device, another label), and
				  one more for its between-events traffic */
	bool *between;	       /* per pattern: it meets the device's traffic between the
				  events (then no evidence of any event) */
	uint32_t *nevent;      /* per signature: its patterns not between the events */
	uint8_t *meets;	       /* per pattern p, nsigs entries: 1 where signature t is a
				  rival of p's and has a pattern p meets */
};

/*
 * sx_det_patterns_meet - whether pattern p could be matched by a flow of an
 * occurrence of pattern q: identity compatible and shape ranges (widened by
 * slack) that meet, p's fixed payload lengths within q's (contrast.c).
 * Not symmetric.  Pure; thread-safe.
 */
bool sx_det_patterns_meet(const struct sx_det_pattern *p, const struct sx_det_pattern *q,
			  double slack);

/*
 * sx_det_rivals - whether signatures a and b are two events of one device:
 * another label, and the same device (device, or when NULL each
 * signature's own).  Pure; thread-safe.
 */
bool sx_det_rivals(const struct sx_det_sig *a, const struct sx_det_sig *b, const char *device);

/*
 * sx_det_contrast - per pattern of each signature, whether another event's
 * signature (another label; the same device: device, or when NULL each
 * signature's own), or the signature's own between-events traffic (then
 * shared_with is 1 + the signature itself), has a pattern it meets; which
 * of the other events' signatures do (meets), and whether the traffic
 * between the events does (between).  A signature without rivals has
 * every pattern distinctive.  0 with *out filled (free with
 * sx_det_contrast_free()), or -ENOMEM (*out empty).  Pure; thread-safe.
 */
int sx_det_contrast(const struct sx_det_sig *const *sigs, uint32_t nsigs, const char *device,
		    double slack, struct sx_det_contrast *out);
void sx_det_contrast_free(struct sx_det_contrast *c);

/*
 * A signature of the detector that cannot tell its event from another one
 * (match.c): every pattern of it that is not the device's traffic between
 * the events meets a pattern of one other event's signature, other (index),
 * so that each of its detections has an ambiguous label; or every pattern
 * is traffic between the events (other: sig itself), and it detects
 * nothing.  False without rivals or without contrast (cfg no_contrast).
 */
bool sx_det_not_distinctive(const struct sx_det *d, uint32_t sig, uint32_t *other);

/* Whether pattern pat of signature sig is distinctive (true without
 * contrast). */
bool sx_det_distinctive(const struct sx_det *d, uint32_t sig, uint32_t pat);

/* What pattern pat of signature sig was found shared with: 0 nothing
 * (distinctive, or no contrast), else 1 + the signature whose pattern it
 * meets (sig itself: its between-events traffic). */
uint32_t sx_det_shared_with(const struct sx_det *d, uint32_t sig, uint32_t pat);

/* How sx_det_read() reads captures: the flow stage's settings. */
struct sx_det_read_cfg {
	const char *const *paths; /* captures (borrowed) */
	const char *const *shown; /* their names in the output, NULL: paths */
	uint32_t npaths;
	unsigned nthreads;	   /* 0: the CPUs */
	const char *filter;	   /* BPF, or NULL */
	struct sx_flows_cfg flows; /* idle_ns 0: the default; whole captures */
	struct sx_names *names;	   /* learnt into (may hold --names), or NULL */
	/*
	 * > 0: the flows of windows of this length, one every step_ns
	 * (overlapping), as --events mining cuts them (sessions open before a
	 * window count their in-window packets), instead of whole captures.
	 * A first pass finds each capture's first and last packets.
	 */
	int64_t window_ns, step_ns;
};

/*
 * sx_det_read - the flow stage over the captures, every row to the detector
 * (sx_det_row()).  status gets npaths entries; st (may be NULL) the flow
 * table's counters.  Returns 0, -ENODATA when no capture could be opened,
 * SX_E_STOPPED, -ENOMEM or -errno of the spill.  Context: any thread;
 * starts and joins reader threads.
 */
int sx_det_read(struct sx_det *d, const struct sx_det_read_cfg *cfg, struct sx_file_status *status,
		struct sx_flows_stats *st);

/*
 * sx_det_finish - the detections of every capture, after the last row, the
 * ambiguous labels told by their windows' flows where they can be (match.c):
 * *out (ordered by capture, then start, then signature) holds *n of them,
 * owned by d (valid until sx_det_free()).  0 or -ENOMEM.
 */
int sx_det_finish(struct sx_det *d, const struct sx_det_detection **out, uint32_t *n);

/* The capture name the rows gave for file index i, or NULL. */
const char *sx_det_file_name(const struct sx_det *d, uint32_t i);

/* CSV of the detections: header, then one row each (columns: match.c). */
int sx_det_write_csv(const struct sx_det *d, const struct sx_det_sig *const *sigs, FILE *f);

/* ---- scoring (score.c) ---- */

/* A labelled time: an occurrence of the event label in capture file. */
struct sx_det_label {
	uint32_t file;
	int64_t time_ns;
	const char *label; /* "" for any event */
};

/* One line of the scores: a label (or "all"). */
struct sx_det_score {
	char label[SX_EVENT_LABEL_MAX];
	uint32_t events, hits, missed, false_det;
	uint32_t ambiguous; /* of the missed, detected with an ambiguous label */
	double recall, precision, false_per_day, false_per_hour;
	double event_recall; /* (hits + ambiguous) / events: that an event happened */
	double hours;	     /* of capture the rates are per */
};

/*
 * sx_det_score - match detections to labelled times (score.c): one line per
 * label, sorted, then "all".  hours: the captures' total length.  Returns
 * 0 with *out (malloc'd, caller frees) holding *n lines, or -ENOMEM.
 */
int sx_det_score(const struct sx_det_detection *det, uint32_t ndet,
		 const struct sx_det_sig *const *sigs, const struct sx_det_label *labels,
		 uint32_t nlabels, int64_t tolerance_ns, double hours, struct sx_det_score **out,
		 uint32_t *n);

/* The scores as CSV (header first) and as a table for people. */
int sx_det_score_csv(const struct sx_det_score *s, uint32_t n, FILE *f);
void sx_det_score_table(const struct sx_det_score *s, uint32_t n, FILE *f);

/* Whether a label (of a labels file) names event (a signature's label): equal
 * once both are lower-cased with every run of other characters than letters
 * and digits made one '-' ("Switch On" names "switch-on"). */
bool sx_det_label_is(const char *label, const char *event);

#endif /* SX_DETECT_DETECT_H */
