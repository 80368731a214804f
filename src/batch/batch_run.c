/*
 * batch_run.c - running `sigex batch`: hashing, --resume, address
 * inference, the shared reading of every unit, the per-unit completion
 * stamp and summary.csv.
 *
 * DESIGN
 *
 * Scheduling.  One process, one pool of reader threads for the whole
 * archive.  After the scan (batch_scan.c, threads over the devices) the
 * inputs are hashed by a pool of threads (one file at a time, any order),
 * with --resume after the stamps' records of the captures were read; then
 * each unit's key and stamp are checked (threads over the devices:
 * check_device()); the addresses the units to run need are inferred
 * (below), threads over the units.  Then every capture
 * of every unit to run (a unit's captures and its device's background
 * captures; a capture shared by several units, as events.csv labels share
 * their long captures, once per unit) goes into ONE reading list, read by
 * ONE sx_ingest_run() with -j threads (flows/flows.h,
 * sx_flows_collect_multi): each unit is a group with its own flow table.
 * The list is ordered units largest first (total input size, then device
 * and event names, so the order is reproducible), and within a unit its
 * files largest first.  A unit is set up (its directory, its extraction up
 * to an empty flow table: src/sigex_int.h) by the reader that begins its
 * first capture, and finished by the reader that ends its last: that
 * thread reduces the table into the CSVs and the miner, mines, writes the
 * three outputs and the stamp (and the device's profile.yaml after the
 * device's last unit), while the other readers go on with the next units.
 * So reading never waits for mining, a long unit's files are spread over
 * every reader, the serial end of one unit overlaps the reading of the
 * next, and the last stragglers' mining gets the threads left: a unit
 * mines with one thread while captures remain to be read, else with a
 * share of -j.  Its durability and stamp are the syncer's (below).
 *
 * Memory.  Because the list is ordered unit by unit, the units in flight
 * (begun, not yet written) are those the readers are on plus those being
 * mined (and, of a device whose address waits for the reading, its units
 * parked, DEFER_UNITS at most): about as many as the threads, whatever the
 * archive's size; a unit's table, names, spill and mining result are
 * freed as soon as its outputs are written.  --units N caps the units in flight (a reader
 * about to begin one more waits); the default, -j, hardly ever binds.
 * Only the archive's list of files and the per-unit outcomes live for the
 * whole run.  Largest first bounds the tail (a lone giant starts first, not
 * last), and an extraction driven this way writes the bytes `sigex
 * extract` writes (sigex_int.h).
 *
 * Progress.  Files and bytes are counted as each capture is read (a
 * resumed unit's all at once); units as they are written.
 *
 * Interruption.  On SIGINT or SIGTERM the readers stop, a unit being mined
 * stops (the miner polls the flag) and every output commit is refused
 * (core/outfile.h); units begun and not written become "interrupted"
 * (their stamps were removed when they began), units never begun "not-run",
 * completed units keep their files and stamps, and the caller still writes
 * summary.csv, so --resume finishes the rest.
 *
 * Durability.  A unit's output files are each written to a temporary name
 * and renamed into place without an fsync of their own
 * (sx_out_set_deferred()); when they are all in place, the reader hands the
 * unit to the syncer thread and goes on reading.  The syncer takes every
 * unit queued, makes their files and renames durable with one syncfs (per
 * file system), and only then writes their stamps (renamed into place
 * unsynced: the next syncfs, or the one the syncer ends with, makes them
 * durable), then finishes them (counts, the device's profile.yaml after its
 * last unit).  So no reader waits on the disk, one syncfs serves every unit
 * completed while the previous one ran (on a busy machine a syncfs also
 * waits for everyone else's dirty pages) and the stamps written after the
 * previous one, and no stamp costs an fsync of its own.  A crash at any
 * point leaves either no stamp, a stamp the crash cut short (read whole and
 * checked, it vouches for nothing: the unit runs again), or a stamp whose
 * files are all on disk; when the run ends, every stamp is on disk.
 * summary.csv and the device's profile.yaml are synced on their own.
 * Without the thread (it could not be started), each unit syncs and stamps
 * itself on its reader, its stamp fsynced.
 *
 * Resume.  A unit is complete when OUT/<device>/<event>/.sigex-unit, its
 * stamp, exists, is written last (atomically, after every output file is
 * in place and durable), and holds the unit's key (batch_scan.c: every input's path,
 * size, modification time and content hash, and every option) and the
 * names and sizes of its output files.  A run first removes the stamp of
 * each unit it is about to run, then any temporary file an interrupted
 * writer left in the unit's directory, so a unit cut short by SIGINT,
 * SIGTERM, SIGKILL, a crash or a full disk has no stamp and is run again by
 * --resume; its earlier files, each complete (core/outfile.h), are
 * overwritten.  With --resume a unit whose stamp matches its key and whose
 * output files are all there with their recorded sizes is skipped, and its
 * summary.csv row comes from the stamp, so a second run over an unchanged
 * archive writes the same bytes everywhere.  Without --resume every unit
 * runs (and gets a fresh stamp).  CSVs of captures no longer in a unit are
 * removed when it runs again.
 *
 * Address inference (batch_infer.c).  A device without ipv4 in its
 * device.yaml gets the address common to its captures, or, when its lease
 * changed and its MAC identifies it, one address per unit; once per
 * device.  One read per capture: the inference counts the packets the
 * reading delivers for the flows (the files of such a device are tapped,
 * flows.h), and the device's units, read before its last capture is, are
 * parked (table and all, not yet reduced: the reduce needs the address)
 * until it is; the reading list puts a device's units together, so that
 * few wait.  This needs every capture of the device in this run, no
 * --filter, no events windows (placed by the address before the reading)
 * and at most DEFER_BYTES of captures in DEFER_UNITS units; any other
 * device is inferred before the reading by a read of its own (a pool of
 * threads over those devices; progress: files_reread).  The address and
 * MAC each unit used are in its stamp and in summary.csv.  When the lease
 * changed between the captures of one unit and the MAC identifies the
 * device, each capture gets its own address (sx_extract__set_capture_ipv4():
 * mined as the unit's, which profile.yaml's device-info gives with the
 * MAC), and the ipv4 column lists the unit's address then the others,
 * space-separated.
 *
 * Shards and collect (batch_plan.c).  With cfg.shards, only the units of
 * cfg.shard run (and only their devices' captures are hashed); the others
 * are counted, untouched.  A shard writes its units' files and stamps and
 * nothing that spans units: no device profile.yaml (its other units may be
 * another task's) and no summary.csv.  cfg.collect runs nothing: it checks
 * every unit's stamp as --resume does (key, files, sizes) and, when all
 * match, finishes each unit as a resumed one, so the devices' profile.yaml
 * and summary.csv come out as those of a one-machine run (a resumed run
 * writes the same bytes); when some do not match it names them and
 * finishes none, so nothing is written.  A unit that ran and failed (or was
 * empty) leaves a failure record, SX_BATCH_FAILED_STAMP (the stamp's format
 * with status failed or empty and no file), in every run: collect takes its
 * outcome from it, so that summary.csv reports it as the run did; --resume
 * never skips it, and the unit's next run removes it first.
 *
 * Per device, profile.yaml is written by the reader that finishes the
 * device's last unit (batch_profile.c); summary.csv by the caller at the
 * end, also after an interruption.  With --validate, summary.csv has four
 * more columns, each unit's held-out packet and flow allow rates in
 * percent by the firewall's rules, then with its interactions' states
 * (sx_extract_validation(), sx_extract_validation_states(); empty when it
 * had no fold), also kept in its stamp ("held-out FOLDS PACKETS FLOWS
 * PACKETS FLOWS"; three numbers are an older stamp's: the unit runs
 * again).  Threads: a reader touches only the
 * unit it sets up or finishes (struct unit_run, the unit's outcome), its
 * device's lock and atomic counters; the model is read-only.
 */
#include "batch/batch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "batch/batch_int.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/outfile.h"
#include "core/text.h"
#include "core/util.h"
#include "flows/flows.h"
#include "ingest/ingest.h"
#include "sigex.h"
#include "api/sigex_int.h"

/* The most capture bytes and units of a device whose units are parked
 * until its last capture is read (defer_devices): a parked unit's flows are
 * in its spill (each capture's are evicted at its end: memory, 8 MiB at
 * most, then a file), which stays open, and its table's buckets in memory. */
#define DEFER_BYTES ((uint64_t)256 << 20)
#define DEFER_UNITS 64

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- paths under OUT ---- */

int sx_batch__mkdirs(const char *out, const char *rel)
{
	char path[SX_BATCH_PATH_MAX];
	size_t base = strlen(out), i;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", out, rel) >= sizeof(path))
		return -ENAMETOOLONG;
	for (i = base + 1;; i++) {
		char c = path[i];

		if (c && c != '/')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0777) != 0 && errno != EEXIST)
			return -errno;
		path[i] = c;
		if (!c)
			return 0;
	}
}

static bool is_tmp_name(const char *name)
{
	size_t n = strlen(name), i;

	if (n < 11 || memcmp(name + n - 11, ".tmp.", 5) != 0)
		return false;
	for (i = n - 6; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9')))
			return false;
	return true;
}

void sx_batch__clean_tmp(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int fd;

	if (!d)
		return;
	fd = dirfd(d);
	while ((e = readdir(d)))
		if (is_tmp_name(e->d_name))
			unlinkat(fd, e->d_name, 0);
	closedir(d);
}

/* ---- the stamp ---- */

struct stamp_file {
	char name[256];
	uint64_t size;
};

static const char *state_word(int state)
{
	switch (state) {
	case SX_BATCH_OK:
		return "ok";
	case SX_BATCH_PARTIAL:
		return "partial";
	case SX_BATCH_FAILED:
		return "failed";
	case SX_BATCH_EMPTY:
		return "empty";
	default:
		return "stopped";
	}
}

/* Whether u's stamp in dir matches its key and its files are all there;
 * if so, u's outcome is filled from it.  failed: its failure record
 * (SX_BATCH_FAILED_STAMP: status failed or empty, no file) instead. */
static bool record_matches(struct sx_batch_unit *u, const char *dir, bool failed)
{
	char keyhex[33], line[1024], word[32];
	char note[SX_BATCH_MSG_MAX] = "", ipv4[sizeof(u->addrs)] = "", mac[sizeof(u->mac)] = "";
	int state = 0;
	bool key_ok = false, ok = true;
	unsigned long long captures = 0, packets = 0, flows = 0, patterns = 0;
	double seconds = 0, held_pkts = 0, held_flows = 0, held_st_pkts = 0, held_st_flows = 0;
	unsigned held_folds = 0;
	unsigned version = 0;
	size_t nfiles = 0;
	int dfd, fd;
	FILE *f;

	/* the unit's files are looked up from its directory: one path walk */
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return false;
	fd = openat(dfd, failed ? SX_BATCH_FAILED_STAMP : SX_BATCH_STAMP, O_RDONLY | O_CLOEXEC);
	f = fd < 0 ? NULL : fdopen(fd, "r");
	if (!f) {
		if (fd >= 0)
			close(fd);
		close(dfd);
		return false;
	}
	sx_batch__hex(u->key, sizeof(u->key), keyhex);
	while (ok && fgets(line, sizeof(line), f)) {
		char *nl = strchr(line, '\n');

		if (!nl) {
			ok = false;
			break;
		}
		*nl = '\0';
		if (sscanf(line, "sigex-unit %u", &version) == 1) {
			ok = version == 1;
		} else if (strncmp(line, "key ", 4) == 0) {
			key_ok = strcmp(line + 4, keyhex) == 0;
			ok = key_ok;
		} else if (sscanf(line, "status %31s", word) == 1) {
			state = strcmp(word, failed ? "failed" : "ok") == 0
				    ? (failed ? SX_BATCH_FAILED : SX_BATCH_OK)
				: strcmp(word, failed ? "empty" : "partial") == 0
				    ? (failed ? SX_BATCH_EMPTY : SX_BATCH_PARTIAL)
				    : 0;
			ok = state != 0;
		} else if (strncmp(line, "note ", 5) == 0) {
			sx_batch__fmt(note, sizeof(note), "%s", line + 5);
		} else if (strncmp(line, "ipv4 ", 5) == 0) {
			sx_batch__fmt(ipv4, sizeof(ipv4), "%s", line + 5);
		} else if (strncmp(line, "mac ", 4) == 0) {
			sx_batch__fmt(mac, sizeof(mac), "%s", line + 4);
		} else if (strncmp(line, "held-out ", 9) == 0) {
			/* an older stamp's three numbers (no states): run again */
			ok = sscanf(line + 9, "%u %lf %lf %lf %lf", &held_folds, &held_pkts,
				    &held_flows, &held_st_pkts, &held_st_flows) == 5;
		} else if (sscanf(line, "captures %llu", &captures) == 1 ||
			   sscanf(line, "packets %llu", &packets) == 1 ||
			   sscanf(line, "flows %llu", &flows) == 1 ||
			   sscanf(line, "patterns %llu", &patterns) == 1 ||
			   sscanf(line, "seconds %lf", &seconds) == 1) {
			continue;
		} else if (strncmp(line, "capture ", 8) == 0) {
			continue; /* a capture's identity: known_captures() reads them */
		} else if (strncmp(line, "file ", 5) == 0) {
			unsigned long long size;
			struct stat st;
			int off = 0;

			ok = sscanf(line + 5, "%llu %n", &size, &off) == 1 && off > 0 &&
			     !strchr(line + 5 + off, '/') &&
			     fstatat(dfd, line + 5 + off, &st, 0) == 0 && S_ISREG(st.st_mode) &&
			     (uint64_t)st.st_size == size;
			nfiles++;
		} else {
			ok = false;
		}
	}
	if (ferror(f))
		ok = false;
	fclose(f);
	close(dfd);
	if (!ok || !key_ok || !state || (failed ? nfiles != 0 : nfiles < 3))
		return false;
	u->state = state;
	u->resumed = true;
	snprintf(u->msg, sizeof(u->msg), "%s", note);
	u->captures = (unsigned)captures;
	u->packets = packets;
	u->flows = flows;
	u->patterns = (unsigned)patterns;
	u->seconds = seconds;
	u->held_folds = held_folds;
	u->held_pkts = held_pkts;
	u->held_flows = held_flows;
	u->held_st_pkts = held_st_pkts;
	u->held_st_flows = held_st_flows;
	/* "ipv4 A B...": the unit's own, then its captures' others */
	u->per_capture = strchr(ipv4, ' ') != NULL;
	snprintf(u->addrs, sizeof(u->addrs), "%s", u->per_capture ? ipv4 : "");
	snprintf(u->ipv4, sizeof(u->ipv4), "%.*s", (int)strcspn(ipv4, " "), ipv4);
	snprintf(u->mac, sizeof(u->mac), "%s", mac);
	return true;
}

static bool stamp_matches(struct sx_batch_unit *u, const char *dir)
{
	return record_matches(u, dir, false);
}

/* The stamp (files: the unit's outputs), or with failed the failure
 * record of a unit that ran and failed (no file).  own_sync: the record is
 * fsynced, renamed and its directory fsynced; else renamed unsynced, and
 * made durable by the syncer's next syncfs (the syncer, below). */
static int write_record(const struct sx_batch *bt, struct sx_batch_unit *u, const char *dir,
			bool failed, const struct stamp_file *files, size_t nfiles, bool own_sync,
			char *msg, size_t msglen)
{
	char path[SX_BATCH_PATH_MAX], keyhex[33], note[SX_BATCH_MSG_MAX];
	struct sx_out o;
	struct sx_buf b;
	size_t i;
	int ret;

	sx_batch__fmt(path, sizeof(path), "%s/%s", dir,
		      failed ? SX_BATCH_FAILED_STAMP : SX_BATCH_STAMP);
	sx_batch__hex(u->key, sizeof(u->key), keyhex);
	sx_buf_init(&b);
	sx_buf_printf(&b, "sigex-unit 1\nkey %s\nstatus %s\n", keyhex, state_word(u->state));
	if (u->msg[0]) {
		sx_text_escape(note, sizeof(note), (const uint8_t *)u->msg, strlen(u->msg), NULL);
		sx_buf_printf(&b, "note %s\n", note);
	}
	sx_buf_printf(&b, "captures %u\npackets %" PRIu64 "\nflows %" PRIu64 "\npatterns %u\n",
		      u->captures, u->packets, u->flows, u->patterns);
	sx_buf_printf(&b, "seconds %.3f\n", u->seconds);
	if (u->ipv4[0])
		sx_buf_printf(&b, "ipv4 %s\n", u->addrs[0] ? u->addrs : u->ipv4);
	if (u->mac[0])
		sx_buf_printf(&b, "mac %s\n", u->mac);
	if (u->held_folds)
		sx_buf_printf(&b, "held-out %u %.1f %.1f %.1f %.1f\n", u->held_folds, u->held_pkts,
			      u->held_flows, u->held_st_pkts, u->held_st_flows);
	for (i = 0; i < nfiles; i++)
		sx_buf_printf(&b, "file %" PRIu64 " %s\n", files[i].size, files[i].name);
	for (i = 0; i < u->ncaps + u->dev->nbg; i++) {
		const struct sx_batch_file *f =
		    i < u->ncaps ? u->caps[i] : u->dev->bg[i - u->ncaps];
		char hashhex[33];

		if (!sx_batch__file_settled(bt, f))
			continue;
		sx_batch__hex(f->hash, sizeof(f->hash), hashhex);
		sx_buf_printf(&b,
			      "capture %016" PRIx64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64
			      " %" PRId64 " %s\n",
			      (uint64_t)XXH3_64bits(f->path, strlen(f->path)), f->dev, f->ino,
			      f->size, f->mtime_ns, f->ctime_ns, hashhex);
	}
	ret = sx_out_open(&o, path, msg, msglen);
	if (ret)
		goto out_buf;
	o.deferred = !own_sync;
	ret = sx_buf_flush(&b, o.f);
	if (ret) {
		sx_batch__fmt(msg, msglen, "%s: %s", path, sx_strerror(ret));
		sx_out_abort(&o);
		goto out_buf;
	}
	ret = sx_out_commit(&o, msg, msglen);
out_buf:
	sx_buf_fini(&b);
	return ret;
}

/* ---- one unit ---- */

/* A unit in flight: from its first capture begun to its outputs written. */
struct unit_run {
	struct sx_batch *b;
	struct sx_batch_unit *u;
	char dir[SX_BATCH_PATH_MAX];
	char events_tmp[SX_BATCH_PATH_MAX];
	struct sx_extract *ex;
	struct stamp_file *files;
	size_t nfiles;
	double t0;	       /* begun; moved on by the time it was parked */
	double parked;	       /* when it was parked (unit_done), 0: never */
	int ret;	       /* unit_start()'s outcome */
	struct unit_run *next; /* in the syncer's queue */
};

static int set_fail(struct sx_batch_unit *u, int state, const char *fmt, ...) SX_PRINTF(3, 4);

static int set_fail(struct sx_batch_unit *u, int state, const char *fmt, ...)
{
	va_list ap;

	u->state = state;
	va_start(ap, fmt);
	vsnprintf(u->msg, sizeof(u->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* The windows of an events.csv unit as a file the library reads. */
static int write_events(struct unit_run *r)
{
	struct sx_batch_unit *u = r->u;
	struct sx_buf b;
	size_t i;
	int fd, ret = 0;

	sx_batch__fmt(r->events_tmp, sizeof(r->events_tmp), "%s/.sigex-events.tmp.XXXXXX", r->dir);
	fd = mkstemp(r->events_tmp);
	if (fd < 0) {
		r->events_tmp[0] = '\0';
		return set_fail(u, SX_BATCH_FAILED, "cannot write in %s: %s", r->dir,
				strerror(errno));
	}
	sx_buf_init(&b);
	for (i = 0; i < u->nstarts; i++) {
		int64_t ns = u->starts[i];

		if (ns < 0) {
			ret = set_fail(u, SX_BATCH_FAILED,
				       "events.csv: times before 1970 are "
				       "not supported");
			break;
		}
		if (u->start_cap[i]) {
			sx_buf_csv(&b, u->start_cap[i]);
			sx_buf_putc(&b, ',');
		}
		sx_buf_printf(&b, "%s%" PRId64 ".%09" PRId64 ",", u->start_rel[i] ? "+" : "",
			      (int64_t)(ns / SX_NS_PER_SEC), (int64_t)(ns % SX_NS_PER_SEC));
		sx_buf_csv(&b, u->label ? u->label : "");
		sx_buf_putc(&b, '\n');
	}
	if (!ret) {
		FILE *f = fdopen(fd, "w");

		if (!f || sx_buf_flush(&b, f) || fflush(f) != 0)
			ret = set_fail(u, SX_BATCH_FAILED, "cannot write in %s: %s", r->dir,
				       strerror(errno ? errno : EIO));
		if (f)
			fclose(f);
		else
			close(fd);
	} else {
		close(fd);
	}
	sx_buf_fini(&b);
	return ret;
}

/* A library refusal as the unit's failure. */
static int refused(struct unit_run *r, int ret)
{
	return set_fail(r->u, SX_BATCH_FAILED, "%s",
			ret == -ENOMEM ? "out of memory" : sx_extract_message(r->ex));
}

/*
 * The unit's addresses into its extraction: the device's (configured or
 * inferred), each capture's own when its lease changed, and the MAC the
 * inference found sending it.  Before begin, or, for a device whose
 * inference waits for the reading (d->defer), once it is done.  0, or -1
 * with the unit failed.
 */
static int address(struct unit_run *r)
{
	struct sx_batch_unit *u = r->u;
	struct sx_batch_device *d = u->dev;
	const struct sx_batch_device_cfg *c = d->cfg;
	char ipv4[64], why[SX_BATCH_MSG_MAX];
	size_t i;

	if (sx_batch__unit_ipv4(r->b, u, ipv4, sizeof(ipv4), why, sizeof(why)))
		return set_fail(u, sx_stop_requested() ? SX_BATCH_STOPPED : SX_BATCH_FAILED, "%s",
				why);
	/* the MAC the inference found sending the device's address: the
	 * firewall matches the device by it, and the profile's own inference
	 * (the source of the device's frames in the patterns) can miss it,
	 * when no pattern has the device's address alone as an end that sent */
	if (sx_extract__set_address(r->ex, ipv4, !(c && c->mac) && u->mac[0] ? u->mac : NULL))
		return refused(r, -EINVAL);
	/* a lease that changed between captures: each capture's own address
	 * (mined as the unit's) */
	for (i = 0; i < u->ncaps + d->nbg; i++) {
		const struct sx_batch_file *f = i < u->ncaps ? u->caps[i] : d->bg[i - u->ncaps];
		const char *own = sx_batch__capture_ipv4(u, f, ipv4, sizeof(ipv4));

		if (own && sx_extract__set_capture_ipv4(r->ex, i, own))
			return refused(r, -EINVAL);
	}
	return 0;
}

static int configure(struct unit_run *r, unsigned threads)
{
	struct sx_batch *b = r->b;
	struct sx_batch_unit *u = r->u;
	struct sx_batch_device *d = u->dev;
	const struct sx_batch_device_cfg *c = d->cfg;
	const struct sx_batch_opts *o = &u->opts;
	const char *gw, *phone;
	size_t i;
	int ret;

	ret = sx_extract__new_unaddressed(c && c->name ? c->name : d->name, &r->ex);
	if (ret)
		return set_fail(u, SX_BATCH_FAILED, "%s",
				ret == -ENOMEM ? "out of memory" : "bad device name");
	/* as sx_flows_collect() presizes from the input size (150 flows per
	 * MiB and 1024): a small unit gets a small table */
	sx_extract__set_est_flows(r->ex, u->bytes / (1u << 20) * 150 + 1024);
	gw = c && c->gateway ? c->gateway : b->cfg.gateway;
	phone = c && c->phone ? c->phone : b->cfg.phone;
	if (sx_extract_set_threads(r->ex, threads) ||
	    (c && c->mac && sx_extract_set_mac(r->ex, c->mac)) ||
	    (c && c->ipv6 && sx_extract_set_ipv6(r->ex, c->ipv6)) ||
	    (gw && sx_extract_set_gateway(r->ex, gw)) ||
	    (phone && sx_extract_set_phone(r->ex, phone)) ||
	    sx_extract_set_event_name(r->ex, u->event) ||
	    (b->cfg.last_update && sx_extract_set_last_update(r->ex, b->cfg.last_update)) ||
	    (b->cfg.filter && sx_extract_set_filter(r->ex, b->cfg.filter)) ||
	    (b->cfg.names && sx_extract_set_names(r->ex, b->cfg.names)) ||
	    sx_extract_set_seed(r->ex, b->cfg.seed) ||
	    sx_extract_set_all_ports(r->ex, b->cfg.all_ports) ||
	    sx_extract_set_align(r->ex, b->cfg.align > 0   ? 1
					: b->cfg.align < 0 ? 0
							   : -1) ||
	    sx_extract_set_stats(r->ex, (o->set & SX_BATCH_OPT_STATS) && o->stats) ||
	    ((o->set & SX_BATCH_OPT_SUPPORT) && sx_extract_set_support(r->ex, o->support)) ||
	    ((o->set & SX_BATCH_OPT_IDLE) && sx_extract_set_idle_timeout(r->ex, o->idle)))
		return refused(r, -EINVAL);
	if (u->starts) {
		/* --window does not apply to events windows */
		ret = write_events(r);
		if (ret)
			return ret;
		ret = sx_extract_set_events(r->ex, r->events_tmp,
					    (o->set & SX_BATCH_OPT_DURATION) ? o->duration : 0);
	} else if (o->set & SX_BATCH_OPT_WINDOW) {
		ret = sx_extract_set_window(r->ex, o->window);
	}
	if (ret)
		return refused(r, ret);
	for (i = 0; i < u->ncaps; i++)
		if (sx_extract_add_capture(r->ex, u->caps[i]->path))
			return refused(r, -EINVAL);
	for (i = 0; i < d->nbg; i++)
		if (sx_extract_add_background(r->ex, d->bg[i]->path))
			return refused(r, -EINVAL);
	return d->defer ? 0 : address(r);
}

static int add_output(struct unit_run *r, const char *name)
{
	char path[SX_BATCH_PATH_MAX];
	struct stamp_file *nf;
	struct stat st;

	sx_batch__fmt(path, sizeof(path), "%s/%s", r->dir, name);
	if (stat(path, &st) != 0)
		return set_fail(r->u, SX_BATCH_FAILED, "%s: %s", path, strerror(errno));
	nf = sx_realloc_array(r->files, r->nfiles + 1, sizeof(*nf));
	if (!nf)
		return set_fail(r->u, SX_BATCH_FAILED, "out of memory");
	r->files = nf;
	snprintf(nf[r->nfiles].name, sizeof(nf[r->nfiles].name), "%s", name);
	nf[r->nfiles].size = (uint64_t)st.st_size;
	r->nfiles++;
	return 0;
}

/* Remove CSVs of an earlier run that this one did not write. */
static void remove_stale(struct unit_run *r)
{
	struct dirent *e;
	DIR *dir = opendir(r->dir);
	size_t i;

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		size_t n = strlen(e->d_name);
		bool keep = false;

		if (n < 5 || strcmp(e->d_name + n - 4, ".csv") != 0)
			continue;
		for (i = 0; i < r->nfiles && !keep; i++)
			keep = strcmp(r->files[i].name, e->d_name) == 0;
		if (!keep)
			unlinkat(dirfd(dir), e->d_name, 0);
	}
	closedir(dir);
}

/* Check each capture; the unit is partial when one could not be read. */
static void captures_status(struct unit_run *r)
{
	struct sx_batch_unit *u = r->u;
	size_t i, n = sx_extract_ncaptures(r->ex), bad = 0;
	char first[SX_BATCH_MSG_MAX] = "";

	for (i = 0; i < n; i++) {
		const char *path, *msg;
		int st = sx_extract_capture_status(r->ex, i, &path, &msg);

		if (st == 0)
			continue;
		bad++;
		if (!first[0])
			snprintf(first, sizeof(first), "%s: %s", path,
				 msg[0] ? msg : sx_extract_strerror(st));
		sx_batch__log(r->b, SX_LOG_WARN, "%s/%s: %s: %s", u->dev->name, u->event, path,
			      msg[0] ? msg : sx_extract_strerror(st));
	}
	if (bad) {
		u->state = SX_BATCH_PARTIAL;
		snprintf(u->msg, sizeof(u->msg), "%zu of %zu captures unreadable or empty (%.400s)",
			 bad, n, first);
	}
}

/* After the reading: reduce and mine (sigex_int.h), write the outputs. */
static int extract(struct unit_run *r, int read_err, unsigned mine_threads)
{
	static const char *const names[] = {"pattern.txt", "signatures.yaml", "profile.yaml"};
	struct sx_batch_unit *u = r->u;
	char path[SX_BATCH_PATH_MAX];
	size_t i;
	int ret;

	ret = sx_extract__finish(r->ex, read_err, mine_threads);
	if (ret == SX_EXTRACT_E_STOPPED)
		return set_fail(u, SX_BATCH_STOPPED, "interrupted");
	if (ret == -ENODATA) {
		const char *p, *msg = "";
		struct sx_extract_event e;

		if (sx_extract_nevents(r->ex) == 1 && !sx_extract_event(r->ex, 0, &e) &&
		    e.scheduled && e.empty == e.scheduled)
			return set_fail(u, SX_BATCH_EMPTY,
					"no packet of the device in any of its %u windows; not "
					"mined",
					e.scheduled);

		if (sx_extract_ncaptures(r->ex) &&
		    sx_extract_capture_status(r->ex, 0, &p, &msg) < 0)
			return set_fail(u, SX_BATCH_FAILED, "%s (%s: %s)",
					sx_extract_message(r->ex), p, msg);
	}
	if (ret)
		return set_fail(u, SX_BATCH_FAILED, "%s", sx_extract_message(r->ex));
	u->state = SX_BATCH_OK;
	captures_status(r);
	if (r->b->cfg.validate) {
		ret = sx_extract_validate(r->ex);
		if (ret == SX_EXTRACT_E_STOPPED)
			return set_fail(u, SX_BATCH_STOPPED, "interrupted");
		if (ret)
			return set_fail(u, SX_BATCH_FAILED, "--validate: %s",
					sx_extract_strerror(ret));
		ret = sx_extract_validation(r->ex, &u->held_pkts, &u->held_flows);
		u->held_folds = ret > 0 ? (unsigned)ret : 0;
		if (ret > 0)
			sx_extract_validation_states(r->ex, &u->held_st_pkts, &u->held_st_flows);
	}
	for (i = 0; i < 3; i++) {
		sx_batch__fmt(path, sizeof(path), "%s/%s", r->dir, names[i]);
		ret = i == 0   ? sx_extract_write_patterns(r->ex, path)
		      : i == 1 ? sx_extract_write_signatures(r->ex, path)
			       : sx_extract_write_profile(r->ex, path);
		if (ret)
			return set_fail(u, SX_BATCH_FAILED, "%s", sx_extract_message(r->ex));
	}
	u->patterns = sx_extract_npatterns(r->ex);
	for (i = 0; i < sx_extract_ncaptures(r->ex); i++) {
		const char *csv = sx_extract_csv_name(r->ex, i);
		uint64_t flows, packets;

		if (!csv && !r->b->cfg.no_csv)
			continue;
		if (csv) {
			ret = add_output(r, csv);
			if (ret)
				return ret;
		}
		sx_extract__capture_flows(r->ex, i, &flows, &packets);
		if (i < u->ncaps) {
			u->flows += flows;
			u->packets += packets;
		}
	}
	for (i = 0; i < 3; i++) {
		ret = add_output(r, names[i]);
		if (ret)
			return ret;
	}
	remove_stale(r);
	return 0;
}

/*
 * Start a unit, on the reader thread that begins its first capture: its
 * directory without a stamp, the extraction configured and set up to an
 * empty flow table (sigex_int.h).  0 with io filled, or -1 with the unit
 * failed.
 */
static int unit_start(struct unit_run *r, unsigned threads, struct sx_extract_io *io)
{
	struct sx_batch *b = r->b;
	struct sx_batch_unit *u = r->u;
	char rel[2 * SX_BATCH_NAME_MAX + 2], msg[SX_BATCH_MSG_MAX];
	int ret;

	snprintf(rel, sizeof(rel), "%s/%s", u->dev->name, u->event);
	/* room left for "/" + a file name of up to 255 bytes */
	if ((size_t)snprintf(r->dir, sizeof(r->dir), "%s/%s", b->out, rel) >= sizeof(r->dir) - 257)
		return set_fail(u, SX_BATCH_FAILED, "output path too long");
	ret = sx_batch__mkdirs(b->out, rel);
	if (ret)
		return set_fail(u, SX_BATCH_FAILED, "cannot create %s: %s", r->dir, strerror(-ret));
	sx_batch__fmt(msg, sizeof(msg), "%s/%s", r->dir, SX_BATCH_STAMP);
	if (unlink(msg) != 0 && errno != ENOENT)
		return set_fail(u, SX_BATCH_FAILED, "cannot remove %s: %s", msg, strerror(errno));
	sx_batch__fmt(msg, sizeof(msg), "%s/%s", r->dir, SX_BATCH_FAILED_STAMP);
	if (unlink(msg) != 0 && errno != ENOENT)
		return set_fail(u, SX_BATCH_FAILED, "cannot remove %s: %s", msg, strerror(errno));
	sx_batch__clean_tmp(r->dir);
	ret = configure(r, threads);
	if (ret)
		return ret;
	ret = sx_extract__begin(r->ex, b->cfg.no_csv ? NULL : r->dir, io);
	if (r->events_tmp[0]) {
		unlink(r->events_tmp); /* loaded by begin */
		r->events_tmp[0] = '\0';
	}
	if (ret)
		return refused(r, ret);
	/* the reading numbers the captures as configure() added them */
	if (io->ncaps != u->ncaps + u->dev->nbg)
		return set_fail(u, SX_BATCH_FAILED, "internal error: %u captures, not %zu",
				io->ncaps, u->ncaps + u->dev->nbg);
	return 0;
}

/* The extraction of a unit done with: its memory freed, its time taken. */
static void unit_release(struct unit_run *r)
{
	if (r->events_tmp[0])
		unlink(r->events_tmp);
	r->events_tmp[0] = '\0';
	sx_extract_free(r->ex);
	r->ex = NULL;
	r->u->seconds = now_s() - r->t0;
}

/* The outcome of a unit whose files are all in place (ret 0, and then
 * durable) or not: the stamp when it is complete (own_sync: write_record()).
 * Whether the stamp was written. */
static bool unit_stamp(struct unit_run *r, int ret, const char *why, bool own_sync)
{
	struct sx_batch_unit *u = r->u;
	char msg[SX_BATCH_MSG_MAX];

	if (!ret) {
		ret = write_record(r->b, u, r->dir, false, r->files, r->nfiles, own_sync, msg,
				   sizeof(msg));
		why = msg;
	}
	if (ret && why)
		set_fail(u, SX_BATCH_FAILED, "%s", why);
	/* a write refused because of a stop request (core/outfile.h) is not a
	 * failure of the unit: it is simply not complete */
	if (ret && sx_stop_requested())
		set_fail(u, SX_BATCH_STOPPED, "interrupted");
	free(r->files);
	r->files = NULL;
	return !ret;
}

/* The end of a unit, whatever happened, on its own: its files (renamed
 * into place unsynced) durable at once, then the stamp that vouches for
 * them. */
static void unit_end(struct unit_run *r, int ret)
{
	char msg[SX_BATCH_MSG_MAX];
	const char *why = NULL; /* a failure before this one is in the unit already */

	unit_release(r);
	if (!ret) {
		ret = sx_out_sync_dir(r->dir, msg, sizeof(msg));
		why = msg;
	}
	unit_stamp(r, ret, why, true);
}

/* ---- the run ---- */

/*
 * The syncer: units whose files are all in place wait here for one syncfs
 * that makes them durable together, then get their stamps, on a thread of
 * their own, so that no reader waits on the disk and a syncfs serves every
 * unit finished while the previous one ran.  A unit is queued only after
 * its last file is renamed into place, and the syncfs is called after it
 * was taken from the queue, so each stamp follows a syncfs begun after all
 * its unit's files were in place: the order the stamps vouch for.  The
 * stamps themselves are written without an fsync of their own: the next
 * round's syncfs (one per file system of the stamps written since the last
 * one, with the round's units) makes them durable, and the syncer's last
 * act is one more for those of the last round.  A stamp is only ever read
 * whole and checked (record_matches()), so one a crash cut short or left
 * empty vouches for nothing: its unit runs again, as without a stamp.
 */
struct syncer {
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct unit_run *head, **tail; /* queued units, in order */
	bool closing;
	struct run *rn;
	/* the syncer's own: directories of the stamps written since its last
	 * syncfs, and room for the next round's units */
	const char **dirs;
	char **stamped;
	size_t nstamped, cap;
};

struct run {
	struct sx_batch *b;
	struct sx_batch_unit **work; /* largest first; a unit is group i of the reading */
	struct unit_run **runs;	     /* by work index, while the unit is in flight */
	size_t nwork;
	unsigned threads;
	/* every capture of every unit of work, in reading order (flows.h) */
	const char **paths;
	uint32_t *group, *index;
	uint64_t *size;
	bool *tap;	     /* its packets go to its device's tally, or NULL */
	uint32_t *tally_idx; /* ... as the device's file infer_idx */
	uint32_t npaths;
	atomic_uint_fast64_t files_left; /* not read yet */
	atomic_uint mining;		 /* units between reading and stamp */
	struct syncer sy;
};

/* The failure record of a unit that ran and failed (or was empty), so that
 * collect finds its outcome as a one-machine run reports it; a unit whose
 * directory cannot be made or written is only logged. */
static void failure_record(struct sx_batch *b, struct sx_batch_unit *u)
{
	char rel[2 * SX_BATCH_NAME_MAX + 2], dir[SX_BATCH_PATH_MAX], msg[SX_BATCH_MSG_MAX];
	int ret;

	if (u->dev->refused)
		return;
	snprintf(rel, sizeof(rel), "%s/%s", u->dev->name, u->event);
	if (sx_batch__fmt(dir, sizeof(dir), "%s/%s", b->out, rel) ||
	    strlen(dir) >= sizeof(dir) - 257)
		return;
	ret = sx_batch__mkdirs(b->out, rel);
	if (!ret)
		ret = write_record(b, u, dir, true, NULL, 0, true, msg, sizeof(msg));
	else
		sx_batch__fmt(msg, sizeof(msg), "cannot create %s: %s", dir, strerror(-ret));
	if (ret)
		sx_batch__log(b, SX_LOG_ERROR, "%s/%s: failure record: %s", u->dev->name, u->event,
			      msg);
}

/*
 * Account for a unit done.  ran: by this run (failures not logged yet);
 * count: its captures were not read one by one (resumed, or failed before
 * the reading), so the progress takes them all now.
 */
static void finish(struct sx_batch *b, struct sx_batch_unit *u, bool ran, bool count)
{
	struct sx_batch_device *d = u->dev;

	if (ran && (u->state == SX_BATCH_FAILED || u->state == SX_BATCH_EMPTY) &&
	    !sx_stop_requested())
		failure_record(b, u);
	if (u->state == SX_BATCH_FAILED || u->state == SX_BATCH_PARTIAL ||
	    u->state == SX_BATCH_EMPTY) {
		if (u->state == SX_BATCH_FAILED)
			atomic_fetch_add(&b->units_failed, 1);
		else if (u->state == SX_BATCH_PARTIAL)
			atomic_fetch_add(&b->units_partial, 1);
		if (ran)
			sx_batch__log(b, u->state == SX_BATCH_FAILED ? SX_LOG_ERROR : SX_LOG_WARN,
				      "%s/%s: %s: %s", d->name, u->event, state_word(u->state),
				      u->msg);
	}
	if (u->state != SX_BATCH_STOPPED) {
		atomic_fetch_add(&b->units_done, 1);
		if (count) {
			atomic_fetch_add(&b->files_done, u->ncaps + d->nbg);
			atomic_fetch_add(&b->bytes_done, u->bytes);
		}
		if (u->resumed) {
			atomic_fetch_add(&b->units_skipped, 1);
			atomic_fetch_add(&b->bytes_skipped, u->bytes);
		}
	}
	/* a shard leaves the device's profile to collect: its other units may
	 * be another task's */
	if (atomic_fetch_sub(&d->left, 1) == 1 && !sx_stop_requested() && !b->cfg.shards)
		sx_batch__device_profile(b, d);
}

/* syncfs once per file system of the n directories; *why gets the first
 * failure's message. */
static int sync_dirs(const char *const *dirs, size_t n, char *why, size_t whysz)
{
	dev_t devs[8];
	size_t ndevs = 0, i, k;
	int ret = 0;

	for (k = 0; k < n; k++) {
		struct stat st;
		bool seen = false;

		if (stat(dirs[k], &st) != 0) {
			ret = -errno;
			sx_batch__fmt(why, whysz, "%s: %s", dirs[k], strerror(-ret));
			return ret;
		}
		for (i = 0; i < ndevs && !seen; i++)
			seen = devs[i] == st.st_dev;
		if (seen)
			continue;
		ret = sx_out_sync_dir(dirs[k], why, whysz);
		if (ret)
			return ret;
		if (ndevs < sizeof(devs) / sizeof(devs[0]))
			devs[ndevs++] = st.st_dev;
	}
	return 0;
}

/* Room for n more stamped directories and for the syncfs list of a round
 * of n units; false without memory. */
static bool syncer_room(struct syncer *sy, size_t n)
{
	size_t want = sy->nstamped + n;

	if (want > sy->cap) {
		size_t cap = SX_MAX(want, 2 * sy->cap);
		char **st = sx_realloc_array(sy->stamped, cap, sizeof(*st));
		const char **d;

		if (!st)
			return false;
		sy->stamped = st;
		d = sx_realloc_array(sy->dirs, cap, sizeof(*d));
		if (!d)
			return false;
		sy->dirs = d;
		sy->cap = cap;
	}
	return true;
}

/* A syncfs that was to make stamps durable failed: their units' files are
 * on disk, their stamps perhaps not. */
static void log_lost_stamps(struct sx_batch *b, const char *why)
{
	sx_batch__log(b, SX_LOG_ERROR,
		      "%s (the stamps of the units finished before may be lost: --resume would "
		      "run them again)",
		      why);
}

/* Make the stamps written since the last syncfs durable (the syncer's
 * last round). */
static void syncer_sync_stamped(struct syncer *sy)
{
	char why[SX_BATCH_MSG_MAX] = "";
	size_t i;

	if (sy->nstamped &&
	    sync_dirs((const char *const *)sy->stamped, sy->nstamped, why, sizeof(why)))
		log_lost_stamps(sy->rn->b, why);
	for (i = 0; i < sy->nstamped; i++)
		free(sy->stamped[i]);
	sy->nstamped = 0;
}

static void *syncer_main(void *arg)
{
	struct syncer *sy = arg;
	struct sx_batch *b = sy->rn->b;

	for (;;) {
		char why[SX_BATCH_MSG_MAX];
		struct unit_run *list, *r;
		size_t n, k;
		bool own;
		int ret;

		pthread_mutex_lock(&sy->lock);
		while (!sy->head && !sy->closing)
			pthread_cond_wait(&sy->wake, &sy->lock);
		list = sy->head;
		sy->head = NULL;
		sy->tail = &sy->head;
		pthread_mutex_unlock(&sy->lock);
		if (!list) {
			syncer_sync_stamped(sy); /* closing, and nothing left */
			return NULL;
		}
		for (n = 0, r = list; r; r = r->next)
			n++;
		why[0] = '\0';
		own = !syncer_room(sy, n);
		if (own) {
			/* without memory to keep them: each stamp durable on its own */
			ret = 0;
			for (r = list; r && !ret; r = r->next)
				ret = sx_out_sync_dir(r->dir, why, sizeof(why));
		} else {
			/* the round's units' files, and the stamps of the round before */
			for (k = 0; k < sy->nstamped; k++)
				sy->dirs[k] = sy->stamped[k];
			for (r = list; r; r = r->next)
				sy->dirs[k++] = r->dir;
			ret = sync_dirs(sy->dirs, k, why, sizeof(why));
			if (ret && sy->nstamped)
				log_lost_stamps(b, why);
			for (k = 0; k < sy->nstamped; k++)
				free(sy->stamped[k]);
			sy->nstamped = 0;
		}
		while ((r = list)) {
			struct sx_batch_unit *u = r->u;

			list = r->next;
			if (unit_stamp(r, ret, why, own) && !own) {
				/* stamped: durable with the next syncfs */
				sy->stamped[sy->nstamped] = strdup(r->dir);
				if (sy->stamped[sy->nstamped])
					sy->nstamped++;
				else
					sx_out_sync_dir(r->dir, why, sizeof(why));
			}
			free(r);
			atomic_fetch_sub(&b->running, 1);
			finish(b, u, true, false);
		}
	}
}

/* The syncer's thread; without one, each unit syncs on its own. */
static void syncer_start(struct run *rn)
{
	struct syncer *sy = &rn->sy;

	*sy = (struct syncer){.rn = rn};
	sy->tail = &sy->head;
	if (pthread_mutex_init(&sy->lock, NULL))
		return;
	if (pthread_cond_init(&sy->wake, NULL)) {
		pthread_mutex_destroy(&sy->lock);
		return;
	}
	if (pthread_create(&sy->thread, NULL, syncer_main, sy)) {
		pthread_cond_destroy(&sy->wake);
		pthread_mutex_destroy(&sy->lock);
		return;
	}
	sy->started = true;
}

/* Hand r, its files all in place, to the syncer.  false: there is none. */
static bool syncer_queue(struct run *rn, struct unit_run *r)
{
	struct syncer *sy = &rn->sy;

	if (!sy->started)
		return false;
	r->next = NULL;
	pthread_mutex_lock(&sy->lock);
	*sy->tail = r;
	sy->tail = &r->next;
	pthread_cond_signal(&sy->wake);
	pthread_mutex_unlock(&sy->lock);
	return true;
}

/* Every queued unit stamped (or failed), then the thread joined. */
static void syncer_stop(struct run *rn)
{
	struct syncer *sy = &rn->sy;

	if (!sy->started)
		return;
	pthread_mutex_lock(&sy->lock);
	sy->closing = true;
	pthread_cond_signal(&sy->wake);
	pthread_mutex_unlock(&sy->lock);
	pthread_join(sy->thread, NULL);
	pthread_cond_destroy(&sy->wake);
	pthread_mutex_destroy(&sy->lock);
	free(sy->stamped); /* emptied by the thread's last round */
	free(sy->dirs);
	sy->started = false;
}

/* sx_flows_multi_ops.open: the unit's first capture is begun. */
static int unit_open(void *arg, uint32_t g, struct sx_flows_group *io)
{
	struct run *rn = arg;
	struct sx_batch_unit *u = rn->work[g];
	struct sx_extract_io eio;
	struct unit_run *r;

	r = calloc(1, sizeof(*r));
	if (!r)
		return set_fail(u, SX_BATCH_FAILED, "out of memory");
	atomic_fetch_add(&rn->b->running, 1);
	*r = (struct unit_run){.b = rn->b, .u = u, .t0 = now_s()};
	rn->runs[g] = r;
	r->ret = unit_start(r, rn->threads, &eio);
	if (r->ret)
		return r->ret;
	*io = (struct sx_flows_group){.fl = eio.fl, .names = eio.names, .status = eio.status};
	return 0;
}

/* sx_flows_multi_ops.file_done: the progress, per file. */
static void unit_file_done(void *arg, uint32_t i, const struct sx_file_status *st)
{
	struct run *rn = arg;
	struct sx_batch *b = rn->b;
	const struct sx_batch_unit *u = rn->work[rn->group[i]];
	struct sx_batch_file_event e = {
	    .device = u->dev->name, .event = u->event, .path = rn->paths[i]};

	(void)st;
	if (rn->tap && rn->tap[i])
		sx_batch__tally_done(b, u->dev, rn->tally_idx[i]);
	e.files_done = atomic_fetch_add(&b->files_done, 1) + 1;
	e.bytes_done = atomic_fetch_add(&b->bytes_done, rn->size[i]) + rn->size[i];
	atomic_fetch_sub(&rn->files_left, 1);
	if (b->cfg.on_file)
		b->cfg.on_file(b->cfg.on_file_arg, &e);
}

/*
 * Every capture of unit g was read (err: the reading's error): on this
 * reader thread, reduce, mine, write, stamp (and the device's profile when
 * it was the device's last unit).  Mining takes one thread while captures
 * remain to be read (the other readers go on), else a share of -j.
 */
static void unit_finish(struct run *rn, uint32_t g, int err)
{
	struct unit_run *r = rn->runs[g];
	struct sx_batch_unit *u = rn->work[g];
	char msg[SX_BATCH_MSG_MAX];
	int ret = r ? r->ret : -ENOMEM;

	/* its seconds are its own, not the wait for its device's address */
	if (r && r->parked > 0)
		r->t0 += now_s() - r->parked;
	if (!ret && u->dev->defer)
		ret = address(r);
	if (!ret) {
		unsigned mining = (unsigned)atomic_fetch_add(&rn->mining, 1) + 1;
		unsigned share =
		    atomic_load(&rn->files_left) ? 1 : (unsigned)SX_MAX(1u, rn->threads / mining);

		ret = extract(r, err, share);
		atomic_fetch_sub(&rn->mining, 1);
	}
	if (r && !ret) {
		/* complete: the syncer makes it durable and stamps it */
		unit_release(r);
		rn->runs[g] = NULL;
		if (syncer_queue(rn, r))
			return;
		unit_stamp(r, sx_out_sync_dir(r->dir, msg, sizeof(msg)), msg, true);
		free(r);
		atomic_fetch_sub(&rn->b->running, 1);
	} else if (r) {
		unit_end(r, ret);
		rn->runs[g] = NULL;
		free(r);
		atomic_fetch_sub(&rn->b->running, 1);
	}
	finish(rn->b, u, true, false);
}

/* A unit of d parked before d's inference was done, taken; false: none. */
static bool unpark(struct sx_batch_device *d, struct sx_batch_parked *p)
{
	bool any;

	pthread_mutex_lock(&d->lock);
	any = d->nparked > 0;
	if (any)
		*p = d->parked[--d->nparked];
	pthread_mutex_unlock(&d->lock);
	return any;
}

/*
 * sx_flows_multi_ops.done.  A unit whose device's address waits for the
 * reading (d->defer) is parked, table and all, until the device's last
 * capture is tallied; the unit whose reading then ends finishes those
 * parked before it.  The capture that completes the tally belongs to a
 * unit not yet done (file_done comes before its group's done), and the
 * parking and the inference take the device's lock, so no unit is left
 * parked.
 */
static void unit_done(void *arg, uint32_t g, int err)
{
	struct run *rn = arg;
	struct sx_batch_device *d = rn->work[g]->dev;
	struct sx_batch_parked p;

	if (d->defer) {
		pthread_mutex_lock(&d->lock);
		if (!d->infer) {
			if (rn->runs[g])
				rn->runs[g]->parked = now_s();
			d->parked[d->nparked++] = (struct sx_batch_parked){.g = g, .err = err};
			pthread_mutex_unlock(&d->lock);
			return;
		}
		pthread_mutex_unlock(&d->lock);
	}
	unit_finish(rn, g, err);
	while (d->defer && unpark(d, &p))
		unit_finish(rn, p.g, p.err);
}

/* sx_flows_multi_ops.packet: a packet of a capture whose device's address
 * is inferred from the reading. */
static void unit_packet(void *arg, uint32_t i, const struct sx_pkt *pkt)
{
	struct run *rn = arg;
	struct sx_batch_device *d = rn->work[rn->group[i]]->dev;

	sx_batch__tally_packet(d, rn->tally_idx[i], pkt);
}

struct file_order {
	uint32_t index;
	uint64_t size;
};

static int cmp_file_order(const void *a, const void *b)
{
	const struct file_order *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	return (x->index > y->index) - (x->index < y->index);
}

/* A deferred device's units together, where its first (largest) was, so
 * that they are parked for as short a time as the reading allows; the
 * others keep their place.  0 or -ENOMEM. */
static int group_deferred(struct run *rn)
{
	struct sx_batch_unit **order;
	bool *taken;
	size_t w, k, n = 0;

	order = sx_calloc_array(rn->nwork + 1, sizeof(*order));
	taken = sx_calloc_array(rn->nwork + 1, sizeof(*taken));
	if (!order || !taken) {
		free(order);
		free(taken);
		return -ENOMEM;
	}
	for (w = 0; w < rn->nwork; w++) {
		if (taken[w])
			continue;
		order[n++] = rn->work[w];
		for (k = w + 1; rn->work[w]->dev->defer && k < rn->nwork; k++)
			if (!taken[k] && rn->work[k]->dev == rn->work[w]->dev) {
				order[n++] = rn->work[k];
				taken[k] = true;
			}
	}
	memcpy(rn->work, order, rn->nwork * sizeof(*order));
	free(order);
	free(taken);
	return 0;
}

/* The reading order: units as in work (largest first, a deferred device's
 * together), each unit's captures and background largest first. */
static int reading_list(struct run *rn)
{
	struct file_order *fo = NULL;
	size_t total = 0, w, i;
	uint32_t n = 0;
	int ret;

	ret = group_deferred(rn);
	if (ret)
		return ret;
	for (w = 0; w < rn->nwork; w++)
		total += rn->work[w]->ncaps + rn->work[w]->dev->nbg;
	if (total > UINT32_MAX)
		return -E2BIG;
	rn->paths = sx_calloc_array(total + 1, sizeof(*rn->paths));
	rn->group = sx_calloc_array(total + 1, sizeof(*rn->group));
	rn->index = sx_calloc_array(total + 1, sizeof(*rn->index));
	rn->size = sx_calloc_array(total + 1, sizeof(*rn->size));
	rn->tap = sx_calloc_array(total + 1, sizeof(*rn->tap));
	rn->tally_idx = sx_calloc_array(total + 1, sizeof(*rn->tally_idx));
	if (!rn->paths || !rn->group || !rn->index || !rn->size || !rn->tap || !rn->tally_idx)
		return -ENOMEM;
	for (w = 0; w < rn->nwork; w++) {
		const struct sx_batch_unit *u = rn->work[w];
		const struct sx_batch_device *d = u->dev;
		size_t nf = u->ncaps + d->nbg;
		struct file_order *nfo = sx_realloc_array(fo, nf + 1, sizeof(*fo));

		if (!nfo) {
			free(fo);
			return -ENOMEM;
		}
		fo = nfo;
		for (i = 0; i < nf; i++) {
			const struct sx_batch_file *f =
			    i < u->ncaps ? u->caps[i] : d->bg[i - u->ncaps];

			fo[i] = (struct file_order){.index = (uint32_t)i, .size = f->size};
		}
		qsort(fo, nf, sizeof(*fo), cmp_file_order);
		for (i = 0; i < nf; i++, n++) {
			uint32_t k = fo[i].index;
			const struct sx_batch_file *f =
			    k < u->ncaps ? u->caps[k] : d->bg[k - u->ncaps];

			rn->paths[n] = f->path;
			rn->group[n] = (uint32_t)w;
			rn->index[n] = k;
			rn->size[n] = f->size;
			if (d->defer && !f->tapped) {
				/* read as the unit's; its first listing tallies it */
				struct sx_batch_file *tf = d->files[f->infer_idx];

				tf->tapped = rn->tap[n] = true;
				rn->tally_idx[n] = f->infer_idx;
			}
		}
	}
	free(fo);
	rn->npaths = n;
	atomic_init(&rn->files_left, n);
	return 0;
}

/* Read every unit of work with one pool of reader threads (flows.h). */
static int read_units(struct run *rn)
{
	static const struct sx_flows_multi_ops ops = {.open = unit_open,
						      .file_done = unit_file_done,
						      .packet = unit_packet,
						      .done = unit_done};
	struct sx_batch *b = rn->b;
	struct sx_flows_multi m;
	size_t i;
	int ret;

	if (!rn->nwork)
		return 0;
	ret = reading_list(rn);
	if (ret)
		return ret;
	m = (struct sx_flows_multi){.paths = rn->paths,
				    .group = rn->group,
				    .index = rn->index,
				    .npaths = rn->npaths,
				    .ngroups = (uint32_t)rn->nwork,
				    .nthreads = rn->threads,
				    .max_open = b->cfg.units ? b->cfg.units : rn->threads,
				    .filter = b->cfg.filter,
				    .tap = rn->tap,
				    .ops = &ops,
				    .arg = rn};
	syncer_start(rn);
	ret = sx_flows_collect_multi(&m);
	syncer_stop(rn);
	/* units begun and not done, parked ones included: stopped (or the
	 * pool failed) */
	for (i = 0; i < rn->nwork; i++) {
		struct unit_run *r = rn->runs[i];

		if (!r)
			continue;
		unit_end(r, ret ? ret : -EIO);
		rn->runs[i] = NULL;
		free(r);
		atomic_fetch_sub(&b->running, 1);
	}
	if (!ret || sx_stop_requested())
		return ret;
	/* the pool itself failed: no unit left may stay unaccounted for */
	for (i = 0; i < rn->nwork; i++) {
		struct sx_batch_unit *u = rn->work[i];

		if (u->state != SX_BATCH_PENDING && u->state != SX_BATCH_STOPPED)
			continue;
		set_fail(u, SX_BATCH_FAILED, "cannot read the captures: %s", sx_strerror(ret));
		finish(b, u, true, true);
	}
	return ret;
}

struct infer_ctx {
	struct sx_batch *b;
	struct sx_batch_unit **units;
};

static void infer_job(void *ctx, size_t i)
{
	struct infer_ctx *c = ctx;
	char ipv4[64], why[SX_BATCH_MSG_MAX];

	sx_batch__unit_ipv4(c->b, c->units[i], ipv4, sizeof(ipv4), why, sizeof(why));
}

/*
 * Infer the addresses the units of work need, before any reading (threads
 * over the devices, one unit of each standing for it: a device's units are
 * adjacent in the work, and threads over the units would wait on each
 * other's device lock), and take the units whose device has none out of
 * the work.
 */
static void infer_all(struct run *rn)
{
	struct sx_batch *b = rn->b;
	struct sx_batch_unit **one;
	struct infer_ctx ctx;
	size_t i, n = 0;

	one = sx_calloc_array(rn->nwork + 1, sizeof(*one));
	for (i = 0; one && i < rn->nwork; i++) {
		struct sx_batch_device *d = rn->work[i]->dev;

		if ((d->cfg && d->cfg->ipv4) || d->infer_queued || d->defer)
			continue;
		d->infer_queued = true;
		one[n++] = rn->work[i];
	}
	/* without memory, over the units as they are */
	ctx = (struct infer_ctx){.b = b, .units = one ? one : rn->work};
	sx_pool_run(rn->threads, one ? n : rn->nwork, infer_job, &ctx, true);
	free(one);
	n = 0;
	if (sx_stop_requested())
		return;
	for (i = 0; i < rn->nwork; i++) {
		struct sx_batch_unit *u = rn->work[i];
		char ipv4[64], why[SX_BATCH_MSG_MAX];

		if (u->dev->defer) {
			rn->work[n++] = u;
		} else if (sx_batch__unit_ipv4(b, u, ipv4, sizeof(ipv4), why, sizeof(why))) {
			set_fail(u, SX_BATCH_FAILED, "%s", why);
			finish(b, u, true, true);
		} else {
			rn->work[n++] = u;
		}
	}
	rn->nwork = n;
}

static void hash_job(void *ctx, size_t i)
{
	struct sx_batch_file **files = ctx;

	sx_batch__hash_file(files[i], false);
}

static void hash_names(struct sx_batch *b)
{
	struct sx_batch_file f = {.path = b->names};

	if (!b->names)
		return;
	sx_batch__hash_file(&f, true);
	memcpy(b->names_hash, f.hash, sizeof(b->names_hash));
	b->names_err = f.err;
}

/* Whether u is this run's: every unit, or with shards those of its shard. */
static bool ours(const struct sx_batch *b, const struct sx_batch_unit *u)
{
	return !b->cfg.shards || u->shard == b->cfg.shard;
}

/* Whether one of d's units is this run's (its captures are hashed). */
static bool device_ours(const struct sx_batch *b, const struct sx_batch_device *d)
{
	size_t k;

	for (k = 0; k < d->nunits; k++)
		if (ours(b, d->units[k]))
			return true;
	return false;
}

/* The identity of u's captures (and its device's background captures)
 * that the record in dir vouches for: a capture whose path, device, inode,
 * size and times are those of one of its "capture" lines takes that line's
 * hash and is not opened (batch_scan.c, "Known captures").  Records are in
 * the unit's order, so the line after the last match is tried first.
 * Whether the record could be read. */
static bool known_from(struct sx_batch *b, struct sx_batch_unit *u, const char *dir,
		       const char *name)
{
	char path[SX_BATCH_PATH_MAX], line[256], hashhex[40];
	size_t n = u->ncaps + u->dev->nbg, next = 0, k, j;
	unsigned long long ph, dev, ino, size;
	long long mtime, ctime;
	FILE *fp;

	if (sx_batch__fmt(path, sizeof(path), "%s/%s", dir, name))
		return false;
	fp = fopen(path, "r");
	if (!fp)
		return false;
	while (fgets(line, sizeof(line), fp)) {
		uint8_t hash[16];

		if (strncmp(line, "capture ", 8) != 0 ||
		    sscanf(line + 8, "%16llx %llu %llu %llu %lld %lld %39s", &ph, &dev, &ino, &size,
			   &mtime, &ctime, hashhex) != 7 ||
		    sx_batch__unhex(hashhex, hash, sizeof(hash)))
			continue;
		for (k = 0; k < n; k++) {
			struct sx_batch_file *f;

			j = (next + k) % n;
			f = j < u->ncaps ? u->caps[j] : u->dev->bg[j - u->ncaps];
			if (f->err || f->dev != dev || f->ino != ino || f->size != size ||
			    f->mtime_ns != mtime || f->ctime_ns != ctime ||
			    XXH3_64bits(f->path, strlen(f->path)) != ph)
				continue;
			if (!f->known) {
				memcpy(f->hash, hash, sizeof(f->hash));
				f->known = true;
				atomic_fetch_add(&b->files_known, 1);
			}
			next = j + 1;
			break;
		}
	}
	fclose(fp);
	return true;
}

/* --resume and --collect: every capture a stamp (or a failure record) of
 * one of our units vouches for is known without being read; threads over
 * the devices (a device's captures are its units' only). */
static void known_device(void *ctx, size_t i)
{
	struct sx_batch *b = ctx;
	struct sx_batch_device *d = b->devs[i];
	char dir[SX_BATCH_PATH_MAX];
	size_t k;

	for (k = 0; k < d->nunits; k++) {
		struct sx_batch_unit *u = d->units[k];

		if (u->state || !ours(b, u) || !u->ncaps ||
		    sx_batch__fmt(dir, sizeof(dir), "%s/%s/%s", b->out, d->name, u->event))
			continue;
		if (!known_from(b, u, dir, SX_BATCH_STAMP))
			known_from(b, u, dir, SX_BATCH_FAILED_STAMP);
	}
}

/*
 * What each unit of d needs, before the reading: a unit failed at the scan
 * is finished; the others get their key, and with --resume one whose stamp
 * matches is finished as resumed; the rest are to_run.  Threads over the
 * devices: a unit's checks read its own directory, and finish() is
 * thread-safe.
 */
static void check_device(void *ctx, size_t i)
{
	struct sx_batch *b = ctx;
	struct sx_batch_device *d = b->devs[i];
	size_t k;

	if (!device_ours(b, d))
		return;
	if (!d->cfg || !d->cfg->ipv4)
		sx_batch__device_digest(d);
	for (k = 0; k < d->nunits; k++) {
		struct sx_batch_unit *u = d->units[k];
		char dir[SX_BATCH_PATH_MAX];

		if (!ours(b, u))
			continue;
		if (u->state) {
			finish(b, u, false, false); /* failed at the scan */
			continue;
		}
		sx_batch__unit_key(b, u);
		snprintf(dir, sizeof(dir), "%s/%s/%s", b->out, d->name, u->event);
		if (b->cfg.resume && stamp_matches(u, dir)) {
			sx_batch__clean_tmp(dir);
			finish(b, u, false, true);
			continue;
		}
		u->to_run = true;
	}
}

/*
 * collect: every unit not failed at the scan must have a matching stamp
 * (its outcome is then filled from it); those without one are named and
 * counted.  When none is missing, each unit is finished as a resumed one,
 * which writes the devices' profile.yaml.
 */
static void collect(struct sx_batch *b)
{
	size_t i, k;

	for (i = 0; i < b->ndevs; i++)
		for (k = 0; k < b->devs[i]->nunits; k++) {
			struct sx_batch_device *d = b->devs[i];
			struct sx_batch_unit *u = d->units[k];
			char dir[SX_BATCH_PATH_MAX], stamp[SX_BATCH_PATH_MAX];
			struct stat st;

			if (k == 0 && (!d->cfg || !d->cfg->ipv4))
				sx_batch__device_digest(d);
			if (u->state)
				continue;
			sx_batch__unit_key(b, u);
			snprintf(dir, sizeof(dir), "%s/%s/%s", b->out, d->name, u->event);
			if (stamp_matches(u, dir))
				continue;
			if (record_matches(u, dir, true)) {
				/* as the run that failed it reported it */
				sx_batch__log(
				    b, u->state == SX_BATCH_FAILED ? SX_LOG_ERROR : SX_LOG_WARN,
				    "%s/%s: %s: %s", d->name, u->event, state_word(u->state),
				    u->msg);
				continue;
			}
			b->units_missing++;
			sx_batch__fmt(stamp, sizeof(stamp), "%s/%s", dir, SX_BATCH_STAMP);
			sx_batch__log(b, SX_LOG_ERROR, "%s/%s: %s", d->name, u->event,
				      stat(stamp, &st) == 0
					  ? "stale: its stamp is for other inputs or options, "
					    "or its files changed"
					  : "missing: no stamp (not run, interrupted or failed)");
		}
	if (b->units_missing)
		return;
	for (i = 0; i < b->ndevs; i++)
		for (k = 0; k < b->devs[i]->nunits; k++) {
			struct sx_batch_device *d = b->devs[i];
			struct sx_batch_unit *u = d->units[k];
			char dir[SX_BATCH_PATH_MAX];

			if (u->resumed) {
				snprintf(dir, sizeof(dir), "%s/%s/%s", b->out, d->name, u->event);
				sx_batch__clean_tmp(dir);
			}
			finish(b, u, false,
			       u->resumed || u->state == SX_BATCH_FAILED ||
				   u->state == SX_BATCH_EMPTY);
		}
}

/*
 * The devices whose address is inferred from the packets the reading reads
 * for their flows, not by a read of their own (sx_batch__defer()): those
 * without ipv4 whose every capture this run reads (none of their units
 * resumed, in another shard or failed at the scan), without --filter (the
 * inference counts every packet) or events windows (placed by the address,
 * before the reading), and whose captures total at most DEFER_BYTES in at
 * most DEFER_UNITS units: those wait, tables and all, until the device's
 * last capture is read.
 */
static void defer_devices(struct run *rn)
{
	struct sx_batch *b = rn->b;
	size_t i, k, w;

	if (b->cfg.filter)
		return;
	for (w = 0; w < rn->nwork; w++) {
		const struct sx_batch_unit *u = rn->work[w];

		for (k = 0; k < u->ncaps; k++)
			u->caps[k]->listed = true;
		for (k = 0; k < u->dev->nbg; k++)
			u->dev->bg[k]->listed = true;
	}
	for (i = 0; i < b->ndevs; i++) {
		struct sx_batch_device *d = b->devs[i];
		uint64_t bytes = 0;
		bool ok = !(d->cfg && d->cfg->ipv4) && device_ours(b, d) && d->nfiles;

		for (k = 0; ok && k < d->nunits; k++)
			ok = !d->units[k]->starts;
		for (k = 0; ok && k < d->nfiles; k++) {
			ok = d->files[k]->listed;
			bytes += d->files[k]->size;
		}
		if (!ok || bytes > DEFER_BYTES || d->nunits > DEFER_UNITS)
			continue;
		d->parked = sx_calloc_array(d->nunits + 1, sizeof(*d->parked));
		if (d->parked && sx_batch__defer(d)) {
			free(d->parked);
			d->parked = NULL;
		}
	}
}

int sx_batch_run(struct sx_batch *b)
{
	struct sx_batch_file **files = NULL;
	struct run rn = {.b = b};
	size_t nfiles = 0, cap = 0, i, k;
	unsigned threads = b->cfg.threads ? b->cfg.threads : sx_nproc();
	int ret = 0;

	if (b->cfg.shards) {
		if (b->cfg.shard >= b->cfg.shards || b->cfg.shards > SX_BATCH_SHARDS_MAX)
			return -EINVAL;
		ret = sx_batch__assign(b, b->cfg.shards);
		if (ret)
			return ret;
	}
	atomic_store(&b->hashing, true);
	sx_out_set_deferred(true);
	if (b->cfg.resume || b->cfg.collect)
		sx_pool_run(threads, b->ndevs, known_device, b, false);
	for (i = 0; i < b->ndevs && !ret; i++)
		for (k = 0; k < b->devs[i]->nfiles && !ret && device_ours(b, b->devs[i]); k++)
			if (!b->devs[i]->files[k]->known)
				ret = sx_batch__push(&files, &nfiles, &cap, b->devs[i]->files[k]);
	if (ret) {
		free(files);
		sx_out_set_deferred(false);
		return ret;
	}
	hash_names(b);
	atomic_store(&b->files_sampled, nfiles);
	sx_pool_run(threads, nfiles, hash_job, files, true);
	free(files);
	atomic_store(&b->hashing, false);
	if (sx_stop_requested()) {
		sx_out_set_deferred(false);
		return SX_E_STOPPED;
	}

	if (b->cfg.collect) {
		collect(b);
		goto out_free;
	}
	rn.work = sx_calloc_array(b->units_total + 1, sizeof(*rn.work));
	rn.runs = sx_calloc_array(b->units_total + 1, sizeof(*rn.runs));
	if (!rn.work || !rn.runs) {
		ret = -ENOMEM;
		goto out_free;
	}
	sx_pool_run(threads, b->ndevs, check_device, b, false);
	for (i = 0; i < b->ndevs; i++) {
		struct sx_batch_device *d = b->devs[i];

		for (k = 0; k < d->nunits; k++) {
			struct sx_batch_unit *u = d->units[k];

			if (!device_ours(b, d) || !ours(b, u))
				b->units_other++;
			else if (u->to_run)
				rn.work[rn.nwork++] = u;
		}
	}
	qsort(rn.work, rn.nwork, sizeof(*rn.work), sx_batch__cmp_largest);
	rn.threads = threads;
	atomic_init(&rn.mining, 0);
	defer_devices(&rn);
	infer_all(&rn);
	if (!sx_stop_requested())
		ret = read_units(&rn);
out_free:
	free(rn.paths);
	free(rn.group);
	free(rn.index);
	free(rn.size);
	free(rn.tap);
	free(rn.tally_idx);
	free(rn.runs);
	free(rn.work);
	sx_out_set_deferred(false);
	if (sx_stop_requested())
		return SX_E_STOPPED;
	return ret == -ENOMEM ? ret : 0;
}

/* ---- summary.csv and progress ---- */

static void status_text(const struct sx_batch_unit *u, char *buf, size_t bufsz)
{
	if (u->state == SX_BATCH_OK)
		snprintf(buf, bufsz, "ok");
	else if (u->state == SX_BATCH_PENDING)
		snprintf(buf, bufsz, "not-run");
	else if (u->state == SX_BATCH_STOPPED)
		snprintf(buf, bufsz, "interrupted");
	else
		snprintf(buf, bufsz, "%s: %s", state_word(u->state), u->msg);
}

int sx_batch_write_summary(struct sx_batch *b)
{
	char path[SX_BATCH_PATH_MAX], msg[SX_BATCH_MSG_MAX], status[SX_BATCH_MSG_MAX + 16];
	struct sx_buf buf;
	size_t i, k;
	int ret;

	snprintf(path, sizeof(path), "%s/summary.csv", b->out);
	sx_batch__clean_tmp(b->out);
	sx_buf_init(&buf);
	sx_buf_puts(&buf, "device,event,captures,packets,flows,patterns,seconds,ipv4,mac,status");
	sx_buf_puts(&buf, b->cfg.validate
			      ? ",heldout_packets_pct,heldout_flows_pct,"
				"heldout_packets_stateful_pct,heldout_flows_stateful_pct\n"
			      : "\n");
	for (i = 0; i < b->ndevs; i++)
		for (k = 0; k < b->devs[i]->nunits; k++) {
			const struct sx_batch_unit *u = b->devs[i]->units[k];

			sx_buf_csv_text(&buf, b->devs[i]->name);
			sx_buf_putc(&buf, ',');
			sx_buf_csv_text(&buf, u->event);
			sx_buf_printf(&buf, ",%u,%" PRIu64 ",%" PRIu64 ",%u,%.3f,", u->captures,
				      u->packets, u->flows, u->patterns, u->seconds);
			sx_buf_csv_text(&buf, u->addrs[0] ? u->addrs : u->ipv4);
			sx_buf_putc(&buf, ',');
			sx_buf_csv_text(&buf, u->mac);
			sx_buf_putc(&buf, ',');
			status_text(u, status, sizeof(status));
			sx_buf_csv_text(&buf, status);
			/* held-out allow rates: empty without a fold (fewer than
			 * two captures read, or the unit not mined) */
			if (b->cfg.validate && u->held_folds &&
			    (u->state == SX_BATCH_OK || u->state == SX_BATCH_PARTIAL))
				sx_buf_printf(&buf, ",%.1f,%.1f,%.1f,%.1f", u->held_pkts,
					      u->held_flows, u->held_st_pkts, u->held_st_flows);
			else if (b->cfg.validate)
				sx_buf_puts(&buf, ",,,,");
			sx_buf_putc(&buf, '\n');
		}
	if (buf.err) {
		ret = buf.err;
		sx_batch__fmt(msg, sizeof(msg), "%s: out of memory", path);
	} else {
		ret = sx_batch__write_file(path, buf.data, buf.len, SX_BATCH_WRITE_ON_STOP, msg,
					   sizeof(msg));
	}
	if (ret)
		sx_batch__log(b, SX_LOG_ERROR, "%s", msg);
	sx_buf_fini(&buf);
	return ret;
}

void sx_batch_progress(const struct sx_batch *b, struct sx_batch_progress *p)
{
	struct sx_batch *m = (struct sx_batch *)b; /* atomics are read, not written */

	p->units = b->units_total;
	p->units_done = atomic_load(&m->units_done);
	p->units_skipped = atomic_load(&m->units_skipped);
	p->units_failed = atomic_load(&m->units_failed);
	p->units_partial = atomic_load(&m->units_partial);
	p->devices_failed = atomic_load(&m->devices_failed);
	p->units_missing = b->units_missing;
	p->units_other = b->units_other;
	p->files = b->files_total;
	p->files_done = atomic_load(&m->files_done);
	p->bytes = b->bytes_total;
	p->bytes_done = atomic_load(&m->bytes_done);
	p->bytes_skipped = atomic_load(&m->bytes_skipped);
	p->running = atomic_load(&m->running);
	p->hashing = atomic_load(&m->hashing);
	p->files_known = atomic_load(&m->files_known);
	p->files_sampled = atomic_load(&m->files_sampled);
	p->files_reread = atomic_load(&m->files_reread);
}
