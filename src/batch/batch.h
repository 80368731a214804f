/*
 * batch.h - `sigex batch`: every device and event of a capture archive in
 * one process (issue 7).
 *
 *   struct sx_batch *b;
 *
 *   sx_batch_new(&cfg, &b);                   OUT must exist; cwd is the root
 *   sx_batch_scan_archive(b) or               ROOT/<device>/<event>/<captures>,
 *   sx_batch_scan_manifest(b, manifest);      ROOT/<device>/<captures>, or a manifest
 *   [sx_batch_plan(b, n, &rows, &nrows);]     the split into n shards
 *   sx_batch_run(b);                          hash, resume check, units, profiles
 *                                             (cfg.shards: one shard's units;
 *                                             cfg.collect: stamps, profiles)
 *   sx_batch_write_summary(b);                OUT/summary.csv
 *   sx_batch_free(b);
 *
 * A UNIT is one (device, event): the captures of the event's occurrences
 * (and the device's background captures), extracted as `sigex extract` does
 * into OUT/<device>/<event>/.  Archive paths are relative to the current
 * directory, which the caller sets to the archive root (or to the manifest's
 * directory), so that the outputs name captures the same way wherever the
 * archive lives.  Design, scheduling and resume rules: batch_run.c.
 *
 * The readers of device.yaml and of the manifest take a buffer (any bytes,
 * fuzzed: fuzz/fuzz_device_yaml.c, fuzz/fuzz_manifest.c); events.csv is read
 * by sx_events_parse() (flows/flows.h).
 *
 * Errors follow core/err.h: 0 or a negative errno / SX_E_* code, with a
 * one-line message naming the file and line where one is asked for.
 * Threads: a struct sx_batch is driven by one thread; sx_batch_run() starts
 * and joins its own workers, and sx_batch_progress() may be called from any
 * thread meanwhile.
 */
#ifndef SX_BATCH_H
#define SX_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/log.h"

/* ---- names that become paths ---- */

#define SX_BATCH_NAME_MAX 255 /* bytes of a device or event name */

/*
 * sx_batch_name_check - whether name may be a directory under OUT: not
 * empty, not "." or "..", no '/' or '\\', no control character, valid
 * UTF-8, not starting with '.' (sigex's own hidden files), at most
 * SX_BATCH_NAME_MAX bytes, and not one of the files batch writes beside
 * the units (summary.csv, profile.yaml).  Returns 0, or -EINVAL with the
 * reason in why (whylen bytes).
 */
int sx_batch_name_check(const char *name, char *why, size_t whylen);

/* ---- per-unit options (command line < device.yaml < its events: entry) ---- */

enum sx_batch_opt {
	SX_BATCH_OPT_WINDOW = 1u << 0,
	SX_BATCH_OPT_SUPPORT = 1u << 1,
	SX_BATCH_OPT_DURATION = 1u << 2,
	SX_BATCH_OPT_IDLE = 1u << 3,
	SX_BATCH_OPT_STATS = 1u << 4,
};

struct sx_batch_opts {
	unsigned set;	 /* enum sx_batch_opt bits of the fields given */
	double window;	 /* seconds, >= 0 */
	double support;	 /* (0, 1] */
	double duration; /* seconds of an events.csv window, > 0 */
	double idle;	 /* idle timeout, seconds, > 0 */
	bool stats;
};

/* Copy into dst every option src sets. */
void sx_batch_opts_merge(struct sx_batch_opts *dst, const struct sx_batch_opts *src);

/* ---- device.yaml ---- */

#define SX_BATCH_DEVICE_YAML_MAX (1u << 20) /* bytes */
#define SX_BATCH_EVENTS_MAX	 4096	    /* entries of events: */

struct sx_batch_event_cfg {
	char *name;
	struct sx_batch_opts opts;
};

/*
 * device.yaml, every key optional:
 *
 *   name: TP-Link plug          device-info.name (default: the directory name)
 *   ipv4: 192.168.1.135         the device's address (default: inferred)
 *   ipv6: fe80::1               mac: aa:bb:cc:dd:ee:ff
 *   gateway: 192.168.1.1        phone: 192.168.1.110
 *   event: toggle               name of the event made of the captures
 *                               directly in the device's directory
 *                               (default: default)
 *   background: idle            a subdirectory of idle captures (not an event)
 *   window: 5                   support: 0.8      duration: 30
 *   idle-timeout: 120           stats: true       (defaults for every event)
 *   events:                     per event, the same five options
 *     toggle: {window: 5, support: 0.9}
 */
struct sx_batch_device_cfg {
	char *name;
	char *ipv4, *ipv6, *mac, *gateway, *phone;
	char *event;
	char *background;
	struct sx_batch_opts opts;
	struct sx_batch_event_cfg *events;
	size_t nevents;
};

/*
 * sx_batch_device_parse - read a device.yaml held in data[0..len) (any
 * bytes).  Unknown keys, duplicate keys, addresses and numbers that do not
 * parse, and names that sx_batch_name_check() refuses are errors.
 * Returns 0 with *out set (caller frees with sx_batch_device_free()),
 * SX_E_FORMAT with "line N: cause" in msg, or -ENOMEM.  Thread-safe.
 */
int sx_batch_device_parse(const char *data, size_t len, struct sx_batch_device_cfg **out, char *msg,
			  size_t msglen);
void sx_batch_device_free(struct sx_batch_device_cfg *c);
/* The events: entry for event, or NULL. */
const struct sx_batch_event_cfg *sx_batch_device_event(const struct sx_batch_device_cfg *c,
						       const char *event);

/* ---- the manifest (--manifest FILE) ---- */

#define SX_BATCH_MANIFEST_MAX (64u << 20) /* bytes */

enum sx_batch_role {
	SX_BATCH_ROLE_CAPTURE = 0, /* an occurrence of event (or, event empty, a
				    * capture of the device's default event or its
				    * events.csv) */
	SX_BATCH_ROLE_BACKGROUND,  /* an idle capture of the device */
	SX_BATCH_ROLE_CONFIG,	   /* the device's device.yaml */
	SX_BATCH_ROLE_EVENTS,	   /* the device's events.csv */
};

struct sx_batch_row {
	char *device;
	char *event;  /* "" when none */
	char *path;   /* as written; relative to the manifest's directory */
	uint8_t role; /* enum sx_batch_role */
	unsigned line;
};

struct sx_batch_manifest {
	struct sx_batch_row *rows;
	size_t n;
};

/*
 * sx_batch_manifest_parse - read a manifest held in data[0..len): CSV rows
 * (RFC 4180 quoting) "device,event,path[,role]", role one of capture
 * (default), background, config, events; blank lines and lines starting
 * with '#' are skipped, and a first row "device,event,path[,role]" is a
 * header.  Names are NOT checked here (a bad name fails its unit, not the
 * manifest): sx_batch_scan_manifest() does.  Returns 0 with *out set
 * (caller frees with sx_batch_manifest_free()), SX_E_FORMAT with "line N:
 * cause" in msg, or -ENOMEM.  Thread-safe.
 */
int sx_batch_manifest_parse(const char *data, size_t len, struct sx_batch_manifest **out, char *msg,
			    size_t msglen);
void sx_batch_manifest_free(struct sx_batch_manifest *m);

/* ---- the run ---- */

typedef void (*sx_batch_log_fn)(void *arg, enum sx_log_level level, const char *text);

/* A capture read by the run (see sx_batch_cfg.on_file). */
struct sx_batch_file_event {
	const char *device, *event; /* the unit it was read for */
	const char *path;	    /* as opened */
	uint64_t files_done;	    /* the run's counts, this file included */
	uint64_t bytes_done;
};

typedef void (*sx_batch_file_fn)(void *arg, const struct sx_batch_file_event *e);

struct sx_batch_cfg {
	const char *out;	     /* absolute path of the output directory; exists */
	unsigned threads;	     /* reader (and mining) threads in all; 0: CPUs */
	unsigned units;		     /* units in flight (being read or mined) at
				      * once; 0: threads */
	bool resume;		     /* skip units whose stamp matches */
	struct sx_batch_opts opts;   /* command-line defaults */
	const char *filter;	     /* BPF, or NULL */
	const char *names;	     /* absolute path of a names file, or NULL */
	const char *gateway, *phone; /* defaults for device.yaml's */
	bool all_ports;
	int align;     /* events.csv alignment: 1 on, -1 off, 0 the default (on when
			* some time is relative) */
	bool validate; /* held-out validation of each unit (sx_extract_validate) */
	bool no_csv;   /* no per-capture flow CSVs in the units */
	/* sharding (a cluster's job array, sx_batch_plan()): with shards > 0,
	 * only the units of shard (0 .. shards - 1) run, and neither the
	 * devices' profile.yaml nor summary.csv is written (collect does) */
	unsigned shard, shards;
	/* collect: run nothing; every unit must have a matching stamp (as
	 * --resume checks it), then the devices' profile.yaml are written
	 * and the caller writes summary.csv; units without one are counted in
	 * sx_batch_progress.units_missing, named by the log, and then nothing
	 * is written */
	bool collect;
	uint64_t seed;
	const char *last_update; /* profile.yaml's last-update, NULL: the time */
	sx_batch_log_fn log;	 /* messages (errors, inferences); NULL: sx_log() */
	void *log_arg;
	sx_batch_file_fn on_file; /* after each capture is read, on the reader
				   * thread (several at once); NULL: none */
	void *on_file_arg;
};

struct sx_batch;

/* 0, -EINVAL (no out) or -ENOMEM; *out NULL on failure.  cfg strings are
 * copied. */
int sx_batch_new(const struct sx_batch_cfg *cfg, struct sx_batch **out);
void sx_batch_free(struct sx_batch *b);

/*
 * sx_batch_scan_archive - find the devices and units of the archive whose
 * root is the current directory.  Names refused by sx_batch_name_check(),
 * a bad device.yaml or events.csv, an event without captures: each becomes
 * a failed unit (reported by the log and in summary.csv), never a failure
 * of the scan.  Returns 0, -errno when the root cannot be listed, -ENOMEM.
 */
int sx_batch_scan_archive(struct sx_batch *b);

/* The same from a parsed manifest (paths relative to the current directory,
 * or absolute). */
int sx_batch_scan_manifest(struct sx_batch *b, const struct sx_batch_manifest *m);

/*
 * sx_batch_run - hash the inputs, skip the units --resume finds complete,
 * infer the addresses needed, then read every capture of the other units
 * with ONE pool of cfg.threads reader threads, each unit mined and written
 * by the reader that ends its last capture while the others read on; each
 * device's profile.yaml is written as its last unit finishes (design:
 * batch_run.c).  Returns 0 when every unit was attempted (failed units are
 * counted, not returned), SX_E_STOPPED when sx_stop_requested() cut the
 * run short (completed units are complete; the outcome of each unit is
 * set for sx_batch_write_summary()), -ENOMEM.
 */
int sx_batch_run(struct sx_batch *b);

/*
 * sx_batch_plan - after the scan, split the archive's units into n shards
 * (1 <= n <= SX_BATCH_SHARDS_MAX) balanced by input bytes: units largest
 * first (ties: device then event name) each onto the shard with the
 * fewest bytes so far (ties: the lowest number).  A function of the units'
 * names and their captures' sizes only, so the same on every machine and
 * wherever the archive lives.  *rows (malloc'd, strings borrowed from b,
 * valid until sx_batch_free()) gets one row per unit, by shard then device
 * and event; *nrows their number.  0, -EINVAL (n), -ENOMEM.
 */
#define SX_BATCH_SHARDS_MAX 100000

struct sx_batch_plan_row {
	unsigned shard; /* 0 .. n - 1 */
	const char *device, *event;
	size_t captures; /* the event's captures (and the device's background) */
	uint64_t bytes;
};

int sx_batch_plan(struct sx_batch *b, unsigned n, struct sx_batch_plan_row **rows, size_t *nrows);

/* OUT/summary.csv, atomically, also after a stop request (units then
 * "interrupted" when begun, "not-run" when not).  0 or -errno (logged). */
int sx_batch_write_summary(struct sx_batch *b);

/* Counters, readable from any thread during sx_batch_run().  Files and
 * bytes count each capture as it is read, a resumed unit's all at once. */
struct sx_batch_progress {
	uint64_t units, units_done, units_skipped, units_failed, units_partial;
	uint64_t devices_failed; /* device profile.yaml that could not be written */
	uint64_t units_missing;	 /* collect: units without a matching stamp */
	uint64_t units_other;	 /* sharding: units of the other shards */
	uint64_t files, files_done;
	uint64_t bytes, bytes_done, bytes_skipped;
	unsigned running;
	bool hashing; /* still hashing the inputs */
	/* captures whose identity a stamp vouched for (--resume, --collect:
	 * not opened), and those sampled (first and last blocks read) */
	uint64_t files_known, files_sampled;
	/* captures read a second time, before the reading, to infer their
	 * device's address (sx_batch_cfg: when a device's captures cannot all
	 * be tallied as the reading reads them) */
	uint64_t files_reread;
};

void sx_batch_progress(const struct sx_batch *b, struct sx_batch_progress *p);

#endif /* SX_BATCH_H */
