/*
 * batch_int.h - PRIVATE to batch_*.c: the archive model shared by the scan
 * (batch_scan.c), the run (batch_run.c) and the device profile
 * (batch_profile.c).
 *
 * Ownership: struct sx_batch owns its devices; a device owns its captures
 * (files), its configuration and its units; units borrow their captures
 * from their device.  The model is built by the scan on one thread and is
 * read-only during the run, except each unit's outcome fields (written by
 * the one worker running it) and each device's inference state (under its
 * lock).
 */
#ifndef SX_BATCH_INT_H
#define SX_BATCH_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "batch/batch.h"
#include "ingest/ingest.h"

#define SX_BATCH_MSG_MAX       512
#define SX_BATCH_PATH_MAX      4096 /* paths under OUT */
#define SX_BATCH_DEFAULT_EVENT "default"
#define SX_BATCH_STAMP	       ".sigex-unit"
#define SX_BATCH_FAILED_STAMP  ".sigex-failed" /* a unit that ran and failed */
#define SX_BATCH_ADDRS_MAX     256	       /* a unit's addresses as summary.csv lists them */

struct sx_batch_file {
	char *path; /* as opened: relative to the root, or absolute */
	uint64_t size;
	int64_t mtime_ns;
	int64_t ctime_ns; /* inode change time: what no one can set back */
	uint64_t dev, ino;
	uint8_t hash[16];   /* XXH3-128 of the content sample and the size */
	bool known;	    /* hash taken from a stamp's record (--resume) */
	int err;	    /* -errno of stat or read, 0 */
	uint32_t infer_idx; /* its index in the device's files, for the inference */
	/* the run's, set before the reading on its thread: read by it, and
	 * tallied for the inference in its first listing */
	bool listed, tapped;
};

enum sx_batch_state {
	SX_BATCH_PENDING = 0,
	SX_BATCH_OK,
	SX_BATCH_PARTIAL, /* some captures unreadable; outputs from the others */
	SX_BATCH_FAILED,
	SX_BATCH_STOPPED, /* not finished: the run was interrupted */
	SX_BATCH_EMPTY,	  /* an events.csv label whose windows all lack the device:
			   * reported, not mined, not a failure */
};

struct sx_batch_device;

struct sx_batch_unit {
	struct sx_batch_device *dev;
	char *event;		     /* directory name; escaped text when refused */
	char *label;		     /* events.csv label of its windows, NULL when none */
	bool from_dir;		     /* made from an event directory (or manifest rows) */
	struct sx_batch_file **caps; /* borrowed from dev */
	size_t ncaps, capcap;
	int64_t *starts;  /* events.csv windows (ns), sorted; NULL: one per capture */
	bool *start_rel;  /* ... each relative to its capture's first packet */
	char **start_cap; /* ... the capture each names (escaped), or NULL: all */
	size_t nstarts, startcap;
	struct sx_batch_opts opts; /* effective: command line < device < event */
	uint64_t bytes;
	uint8_t key[16];
	unsigned shard; /* sx_batch_plan()'s, 0 when not sharded */

	/* outcome, written by the worker that runs it */
	int state;		    /* enum sx_batch_state */
	bool resumed;		    /* skipped: its stamp matched */
	bool to_run;		    /* this run reads it (sx_batch_run()'s checks) */
	char msg[SX_BATCH_MSG_MAX]; /* why it failed, or the partial's note */
	unsigned captures;
	uint64_t packets, flows;
	unsigned patterns;
	double seconds;
	unsigned held_folds;		    /* --validate: folds, 0 when none */
	double held_pkts, held_flows;	    /* ... held-out packets, flows allowed (%) */
	double held_st_pkts, held_st_flows; /* ... with the interactions' states */

	/* the address it used (summary.csv), set by the inference or the run */
	char ipv4[64];
	char mac[SX_MAC_TEXT_MAX];
	char addr_why[SX_BATCH_MSG_MAX]; /* per-unit inference failed: why */
	bool per_capture;		 /* its captures' addresses differ: dev->cap_addr */
	/* with per_capture: every address used, space-separated, ipv4 first
	 * then the others in order (as many as fit), else "" */
	char addrs[SX_BATCH_ADDRS_MAX];
};

struct sx_batch_device {
	char *name;			 /* directory name; escaped text when refused */
	bool refused;			 /* its name was refused */
	struct sx_batch_device_cfg *cfg; /* NULL: no device.yaml */
	bool has_cfg;			 /* a device.yaml was given (maybe bad) */
	char err[SX_BATCH_MSG_MAX];	 /* device-wide failure, "" when none */
	struct sx_batch_file **files;	 /* every capture of the device, owned */
	size_t nfiles, filecap;
	struct sx_batch_file **bg; /* background captures (borrowed) */
	size_t nbg, bgcap;
	struct sx_batch_file **top; /* captures of the device directory itself */
	size_t ntop, topcap;
	char *events_data; /* events.csv contents, NULL when none */
	size_t events_len;
	struct sx_batch_unit **units; /* sorted by event name */
	size_t nunits, unitcap;

	/* run */
	pthread_mutex_t lock;	   /* guards the inference */
	int infer;		   /* 0 not done, 1 done, negative: failed */
	bool per_unit;		   /* no address for the whole device: each unit has its own */
	bool infer_queued;	   /* handed to an inference thread (the run's thread only) */
	char ipv4[64];		   /* the address used (configured or inferred) */
	char mac[SX_MAC_TEXT_MAX]; /* the MAC sending it, "" when unknown */
	/* per_unit: per capture (files, by infer_idx), the IPv4 address the
	 * device's MAC sends most there (host order), 0: none; else NULL */
	uint32_t *cap_addr;
	char infer_msg[SX_BATCH_MSG_MAX];
	/* defer: inferred from the packets the reading delivers (tally, per
	 * file by infer_idx; tally_left under lock), not by a read of its own;
	 * its units read before that wait in parked (batch_run.c) */
	bool defer;
	uint64_t cfg_mac; /* device.yaml's mac, packed, 0: none */
	struct sx_batch_tally *tally;
	size_t tally_left;
	struct sx_batch_parked *parked;
	size_t nparked;
	uint8_t digest[16]; /* of every capture's identity, for inferred addresses */
	atomic_size_t left; /* units not finished yet */
};

struct sx_batch {
	struct sx_batch_cfg cfg; /* strings below are the copies */
	char *out;
	char *filter, *names, *gateway, *phone, *last_update;
	uint8_t names_hash[16];
	int names_err;
	bool have_out_id;
	dev_t out_dev;
	ino_t out_ino;
	struct sx_batch_device **devs; /* sorted by name after the scan */
	size_t ndevs, devcap;

	pthread_mutex_t log_lock;
	atomic_uint_fast64_t units_done, units_skipped, units_failed, units_partial;
	atomic_uint_fast64_t devices_failed;
	uint64_t units_missing, units_other; /* collect; sharding */
	atomic_uint_fast64_t files_done, bytes_done, bytes_skipped;
	atomic_uint running;
	atomic_bool hashing;
	uint64_t units_total, files_total, bytes_total;
	int64_t t_scan_ns;		    /* wall clock before the scan's first stat */
	atomic_uint_fast64_t files_known;   /* identities taken from the stamps */
	atomic_uint_fast64_t files_sampled; /* identities read from the captures */
	atomic_uint_fast64_t files_reread;  /* read once more to infer an address */
};

/* Log one line through cfg.log (or sx_log). */
void sx_batch__log(struct sx_batch *b, enum sx_log_level level, const char *fmt, ...)
    SX_PRINTF(3, 4);

/* snprintf that may truncate (messages; paths known to fit): 0, or
 * -ENAMETOOLONG when buf was too small. */
int sx_batch__fmt(char *buf, size_t bufsz, const char *fmt, ...) SX_PRINTF(3, 4);

/* Append p to a growing array of pointers.  0 or -ENOMEM. */
int sx_batch__push(void *arrp, size_t *n, size_t *cap, void *p);

/* Printable form of untrusted bytes (core/text.h escapes), into buf. */
const char *sx_batch__shown(const char *s, char *buf, size_t bufsz);

/* Hash the capture's first and last blocks, its size and its inode number
 * (whole: the whole file up to 1 MiB and its size) into f->hash, with its
 * size, times and inode; sets f->err on failure (batch_scan.c). */
void sx_batch__hash_file(struct sx_batch_file *f, bool whole);

/* n bytes as 2n lowercase hex digits and a NUL into out; and back: 0, or
 * -1 unless s is exactly 2n such digits (batch_scan.c). */
void sx_batch__hex(const uint8_t *b, size_t n, char *out);
int sx_batch__unhex(const char *s, uint8_t *out, size_t n);

/* f's size, times, device and inode from st. */
void sx_batch__file_stat(struct sx_batch_file *f, const struct stat *st);

/* Whether f's hash may be recorded in a stamp for a later --resume to take
 * without reading f: its inode last changed well before this run's scan
 * began, so any later change of f changes its ctime (batch_scan.c). */
bool sx_batch__file_settled(const struct sx_batch *b, const struct sx_batch_file *f);

/* The unit's key: every input and option its outputs depend on. */
void sx_batch__unit_key(const struct sx_batch *b, struct sx_batch_unit *u);
/* The device's digest (every capture's path, size, mtime and hash). */
void sx_batch__device_digest(struct sx_batch_device *d);

/* u's IPv4 address into out (and u->ipv4, u->mac): device.yaml's, else
 * inferred from its device's captures once, under the device's lock, for
 * the whole device or, when the device has no common address but a MAC
 * identity, per unit (batch_infer.c).  0, or -1 with why set. */
int sx_batch__unit_ipv4(struct sx_batch *b, struct sx_batch_unit *u, char *out, size_t outsz,
			char *why, size_t whysz);

/*
 * One read per capture (batch_infer.c, batch_run.c).  sx_batch__defer()
 * makes d's inference wait for the reading's own packets: each capture's
 * packets go to sx_batch__tally_packet() (k: its infer_idx; on the thread
 * reading it) and its end to sx_batch__tally_done(), which infers, under
 * the device's lock, once the last is in and then returns true.  0 or
 * -ENOMEM.  Before the reading, on the run's thread.
 */
struct sx_batch_parked {
	uint32_t g; /* the unit's group in the reading */
	int err;    /* its reading's error */
};
int sx_batch__defer(struct sx_batch_device *d);
void sx_batch__tally_packet(struct sx_batch_device *d, uint32_t k, const struct sx_pkt *pkt);
bool sx_batch__tally_done(struct sx_batch *b, struct sx_batch_device *d, uint32_t k);
/* The tallies of a device whose inference never ran (a stopped run). */
void sx_batch__tally_free(struct sx_batch_device *d);

/* The device's address in capture f of u's run (a unit capture, or a
 * background capture of its device) into buf when it differs from u's own
 * (a lease that changed between captures: see batch_infer.c), else NULL.
 * After sx_batch__unit_ipv4() succeeded for u. */
const char *sx_batch__capture_ipv4(const struct sx_batch_unit *u, const struct sx_batch_file *f,
				   char *buf, size_t bufsz);

/* Every unit's shard (u->shard) of a plan in n shards (batch_plan.c).
 * 0 or -ENOMEM. */
int sx_batch__assign(struct sx_batch *b, unsigned n);

/* qsort comparator of unit pointers: largest input first, then device and
 * event names (batch_plan.c). */
int sx_batch__cmp_largest(const void *a, const void *b);

/* OUT/<device>/profile.yaml from the units' profiles (batch_profile.c). */
int sx_batch__device_profile(struct sx_batch *b, struct sx_batch_device *d);

/* How sx_batch__write_file() writes. */
enum {
	SX_BATCH_WRITE_ON_STOP = 1,  /* also after a stop request (summary.csv) */
	SX_BATCH_WRITE_UNSYNCED = 2, /* renamed into place without an fsync: a
				      * file that vouches for itself (a stamp
				      * holding its subject's hash) */
};

/* Write path atomically (core/outfile.h), durable on its own unless
 * SX_BATCH_WRITE_UNSYNCED, unless it already holds exactly these bytes
 * (then it is left untouched).  0 or -errno with msg set. */
int sx_batch__write_file(const char *path, const char *data, size_t len, unsigned how, char *msg,
			 size_t msglen);

/* Remove the temporary files an interrupted writer left in dir
 * ("*.tmp.XXXXXX", core/outfile.c's names). */
void sx_batch__clean_tmp(const char *dir);

/* mkdir -p of OUT/rel (rel made of checked names).  0 or -errno. */
int sx_batch__mkdirs(const char *out, const char *rel);

#endif /* SX_BATCH_INT_H */
