/*
 * cmd_batch.c - `sigex batch ARCHIVE [-o OUT]`: every device and event of a
 * capture archive in one process (issue 7).
 *
 * The command line, the output directory and the progress display; the
 * work is batch.h's (scan: batch_scan.c, scheduling, resume and units:
 * batch_run.c, device profiles: batch_profile.c).
 *
 * Paths.  OUT, --names and TMPDIR are made absolute, then the process
 * changes into the archive's root (or the manifest's directory): captures
 * are opened, and named in the outputs, relative to it ("plug/on/1.pcap"),
 * so that two runs over copies of an archive at different places give the
 * same files, as a CI comparison with `sigex check` needs.
 *
 * Progress goes to standard error: on a terminal a bar redrawn four times a
 * second (units, files and bytes done, throughput, time left); otherwise a
 * line every PROGRESS_EVERY seconds; nothing with --quiet.  Files and bytes
 * move as each capture is read (batch_run.c counts them per file, a
 * resumed unit's all at once).  Messages of the run (failed units,
 * unreadable captures, inferred addresses) go through one lock with the
 * bar, so lines never mix.
 *
 * Interruption.  SIGINT or SIGTERM stops the readers and the miners; the
 * units complete by then keep their files and stamps, and summary.csv is
 * still written (atomically), the others marked "interrupted" (begun) or
 * "not-run", so --resume finishes the rest.
 *
 * Clusters (batch_plan.c).  --plan N prints the split of the archive into
 * N shards (CSV on standard output; nothing is written); --shard K/N runs
 * the units of shard K (0-based, as `sbatch --array=0-(N-1)` numbers its
 * tasks, SLURM_ARRAY_TASK_ID) and writes only their directories and
 * stamps; --collect runs nothing: it checks every unit's stamp, then
 * writes the devices' profile.yaml and summary.csv as a one-machine run
 * does, or names the units missing and writes nothing (exit 3).
 *
 * Exit status: 0 every unit ok; 3 some unit failed or had unreadable
 * captures (the others were written), or --collect found units without a
 * matching stamp; 1 nothing could be run (OUT not writable, archive
 * unreadable); 2 usage error; 130 / 143 interrupted by SIGINT / SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "batch/batch.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"

int sx_cmd_batch(int argc, char **argv);

#define PROGRESS_EVERY 5.0 /* seconds between lines when not a terminal */
#define BAR_EVERY      0.25

static const char cmd[] = "batch";

static const char usage_head[] =
    "Usage: sigex batch ARCHIVE [-o OUT] [OPTIONS]\n"
    "       sigex batch --manifest FILE [-o OUT] [OPTIONS]\n"
    "\n"
    "Run the main job on every device and event of a capture archive, in one\n"
    "process: ARCHIVE/<device>/<event>/*.pcap (one capture per occurrence) or\n"
    "ARCHIVE/<device>/*.pcap (one event, \"default\" unless device.yaml names it;\n"
    "with ARCHIVE/<device>/events.csv, one event per label).  Optional\n"
    "ARCHIVE/<device>/device.yaml: name, ipv4, ipv6, mac, gateway, phone, event,\n"
    "background, and per-event options (see README).  A device without ipv4 gets\n"
    "the address common to all its captures, or, when its lease changed and its\n"
    "MAC identifies it, each unit the address that MAC sends from (reported).\n"
    "Into OUT: <device>/<event>/ (the files of 'sigex extract'),\n"
    "<device>/profile.yaml (one interaction per event) and summary.csv (device,\n"
    "event, captures, packets, flows, patterns, seconds, ipv4, mac, status).\n"
    "\n"
    "Options:\n"
    "  -o, --output DIR         output directory (default: sigex-out; created)\n"
    "      --manifest FILE      CSV rows device,event,path[,role] instead of the\n"
    "                           layout; role: capture (default), background,\n"
    "                           config (device.yaml), events (events.csv); paths\n"
    "                           relative to the manifest's directory\n"
    "      --resume             skip every unit whose inputs and options are\n"
    "                           unchanged since its outputs were completed\n"
    "      --units N            units in flight at once: being read or mined\n"
    "                           (default: as many as -j)\n"
    "      --validate           held-out allow rate of each unit (see sigex --help)\n"
    "      --no-csv             no per-capture flow CSVs in the units (most of\n"
    "                           the bytes written); the rest is unchanged\n"
    "      --plan N             print the split of the archive into N shards, one\n"
    "                           CSV row per unit (shard,device,event,captures,\n"
    "                           bytes), and exit; nothing is written\n"
    "      --shard K/N          run only shard K of N (K from 0 to N-1, as\n"
    "                           sbatch --array=0-(N-1) numbers its tasks): its\n"
    "                           units' directories and stamps, no summary.csv and\n"
    "                           no device profile.yaml (--collect writes them)\n"
    "      --collect            run nothing: check every unit's stamp, then write\n"
    "                           the devices' profile.yaml and summary.csv; exit 3\n"
    "                           naming the units missing or stale (same options\n"
    "                           as the shards)\n"
    "  -q, --quiet              no progress, no notes; errors only\n"
    "\n"
    "The options below are the units' defaults (device.yaml wins; the length\n"
    "of an events.csv window is --duration):\n";

static const char usage_foot[] =
    "\n"
    "device-info.last-update is the time of the run, or SOURCE_DATE_EPOCH when set.\n"
    "Exit status: 0 ok, 1 failure, 2 usage error, 3 some unit failed or had\n"
    "unreadable captures (see summary.csv; the others are written), 130/143\n"
    "interrupted by SIGINT/SIGTERM (summary.csv says which units are done;\n"
    "--resume finishes the rest).\n";

enum {
	OPT_MANIFEST = 256,
	OPT_RESUME,
	OPT_UNITS,
	OPT_VALIDATE,
	OPT_NO_CSV,
	OPT_PLAN,
	OPT_SHARD,
	OPT_COLLECT,
};

static const enum sx_cli_opt shared[] = {
    SX_CLI_SUPPORT,  SX_CLI_WINDOW, SX_CLI_DURATION, SX_CLI_ALIGN,
    SX_CLI_NO_ALIGN, SX_CLI_IDLE,   SX_CLI_STATS,    SX_CLI_GATEWAY,
    SX_CLI_PHONE,    SX_CLI_NAMES,  SX_CLI_FILTER,   SX_CLI_ALL_PORTS,
    SX_CLI_JOBS,     SX_CLI_SEED,   SX_CLI_HELP,     SX_CLI_NOPTS};

static const struct sx_cli_help help = {usage_head, shared, usage_foot};

static const struct option own[] = {{"output", required_argument, NULL, 'o'},
				    {"manifest", required_argument, NULL, OPT_MANIFEST},
				    {"resume", no_argument, NULL, OPT_RESUME},
				    {"units", required_argument, NULL, OPT_UNITS},
				    {"validate", no_argument, NULL, OPT_VALIDATE},
				    {"no-csv", no_argument, NULL, OPT_NO_CSV},
				    {"plan", required_argument, NULL, OPT_PLAN},
				    {"shard", required_argument, NULL, OPT_SHARD},
				    {"collect", no_argument, NULL, OPT_COLLECT},
				    {"quiet", no_argument, NULL, 'q'},
				    {NULL, 0, NULL, 0}};

struct args {
	const char *archive;
	const char *manifest;
	const char *out;
	bool quiet;
	bool out_given;
	unsigned plan; /* --plan N, 0: none */
	struct sx_cli_common c;
	struct sx_batch_cfg cfg;
	char last_update[64];
	int npos; /* parsing: the ARCHIVE arguments seen */
};

/* ---- progress ---- */

struct progress {
	struct sx_batch *b;
	bool tty, quiet;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	bool drawn; /* a bar is on the current line */
	struct timespec t0;
};

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void human_bytes(uint64_t v, char *buf, size_t bufsz)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double d = (double)v;
	int u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	snprintf(buf, bufsz, u ? "%.1f %s" : "%.0f %s", d, units[u]);
}

static void human_time(double s, char *buf, size_t bufsz)
{
	unsigned long t = s > 0 && s < 1e9 ? (unsigned long)(s + 0.5) : 0;

	if (t >= 3600)
		snprintf(buf, bufsz, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, bufsz, "%lu:%02lu", t / 60, t % 60);
}

/* Draw (or print) the progress; called with the lock held. */
static void draw(struct progress *pg)
{
	struct sx_batch_progress p;
	char done[32], total[32], rate[32], left[32], bar[24];
	double el = since(&pg->t0), bps;
	uint64_t fresh;
	unsigned i, fill;

	sx_batch_progress(pg->b, &p);
	if (p.hashing) {
		if (pg->tty) {
			fprintf(stderr, "\r\033[Ksigex batch: hashing %llu files...",
				(unsigned long long)p.files);
			pg->drawn = true;
		}
		return;
	}
	fresh = p.bytes_done - p.bytes_skipped;
	bps = el > 0 ? (double)fresh / el : 0;
	human_bytes(p.bytes_done, done, sizeof(done));
	human_bytes(p.bytes, total, sizeof(total));
	human_bytes((uint64_t)bps, rate, sizeof(rate));
	if (bps > 0)
		human_time((double)(p.bytes - p.bytes_done) / bps, left, sizeof(left));
	else
		snprintf(left, sizeof(left), "?");
	if (pg->tty) {
		fill = p.bytes ? (unsigned)(20.0 * (double)p.bytes_done / (double)p.bytes) : 0;
		for (i = 0; i < 20; i++)
			bar[i] = i < fill ? '#' : '-';
		bar[20] = '\0';
		fprintf(stderr,
			"\r\033[K[%s] %llu/%llu units, %llu/%llu files, %s/%s, %s/s, %s left", bar,
			(unsigned long long)p.units_done, (unsigned long long)p.units,
			(unsigned long long)p.files_done, (unsigned long long)p.files, done, total,
			rate, left);
		pg->drawn = true;
	} else {
		fprintf(stderr,
			"sigex batch: %llu/%llu units, %llu/%llu files, %s/%s, %s/s, about %s "
			"left\n",
			(unsigned long long)p.units_done, (unsigned long long)p.units,
			(unsigned long long)p.files_done, (unsigned long long)p.files, done, total,
			rate, left);
	}
	fflush(stderr);
}

static void *progress_main(void *arg)
{
	struct progress *pg = arg;
	double every = pg->tty ? BAR_EVERY : PROGRESS_EVERY;

	pthread_mutex_lock(&pg->lock);
	while (!pg->done) {
		struct timespec until;
		double t = every;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)t;
		until.tv_nsec += (long)((t - (double)(time_t)t) * 1e9);
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&pg->cond, &pg->lock, &until);
		if (!pg->done)
			draw(pg);
	}
	if (pg->drawn) {
		fputs("\r\033[K", stderr);
		pg->drawn = false;
	}
	pthread_mutex_unlock(&pg->lock);
	return NULL;
}

/* Messages of the run, through the bar's lock. */
static void log_line(void *arg, enum sx_log_level level, const char *text)
{
	struct progress *pg = arg;

	pthread_mutex_lock(&pg->lock);
	if (pg->drawn) {
		fputs("\r\033[K", stderr);
		pg->drawn = false;
	}
	if (level == SX_LOG_INFO) {
		if (!pg->quiet)
			fprintf(stderr, "sigex batch: %s\n", text);
	} else {
		sx_log(level, "batch: %s", text);
	}
	pthread_mutex_unlock(&pg->lock);
}

/* ---- options ---- */

/* The shared options into the batch's defaults. */
static void defaults(struct args *a)
{
	const struct sx_cli_common *c = &a->c;
	struct sx_batch_opts *o = &a->cfg.opts;
	static const struct {
		enum sx_cli_opt opt;
		unsigned bit;
	} bits[] = {{SX_CLI_SUPPORT, SX_BATCH_OPT_SUPPORT},
		    {SX_CLI_WINDOW, SX_BATCH_OPT_WINDOW},
		    {SX_CLI_DURATION, SX_BATCH_OPT_DURATION},
		    {SX_CLI_IDLE, SX_BATCH_OPT_IDLE},
		    {SX_CLI_STATS, SX_BATCH_OPT_STATS}};
	size_t i;

	o->support = c->support;
	o->window = c->window;
	o->duration = c->duration;
	o->idle = c->idle_timeout;
	o->stats = c->stats;
	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (sx_cli_given(c, bits[i].opt))
			o->set |= bits[i].bit;
	a->cfg.threads = c->jobs;
	a->cfg.gateway = c->gateway;
	a->cfg.phone = c->phone;
	a->cfg.names = c->names;
	a->cfg.filter = c->filter;
	a->cfg.all_ports = c->all_ports;
	a->cfg.align = c->align;
	a->cfg.seed = c->seed;
}

/* --shard K/N: K from 0 to N-1. */
static int parse_shard(struct args *a, const char *arg)
{
	const char *slash = strchr(arg, '/');
	char k[32];
	uint64_t vk, vn;

	if (!slash || (size_t)(slash - arg) >= sizeof(k))
		goto bad;
	memcpy(k, arg, (size_t)(slash - arg));
	k[slash - arg] = '\0';
	if (sx_parse_u64(slash + 1, 1, SX_BATCH_SHARDS_MAX, &vn) || sx_parse_u64(k, 0, vn - 1, &vk))
		goto bad;
	a->cfg.shard = (unsigned)vk;
	a->cfg.shards = (unsigned)vn;
	return 0;
bad:
	return sx_cli_usage_error(cmd,
				  "--shard expects K/N, N from 1 to %u and K from 0 to N-1, not "
				  "\"%s\"",
				  SX_BATCH_SHARDS_MAX, arg);
}

/* One option of the command's own (an sx_cli_own_fn, ctx the struct args). */
static int own_opt(void *ctx, int c, const char *arg)
{
	struct args *a = ctx;
	uint64_t v;

	switch (c) {
	case 1:
		if (a->npos++)
			return sx_cli_usage_error(cmd, "one ARCHIVE only (\"%s\")", arg);
		a->archive = arg;
		return 0;
	case 'o':
		a->out = arg;
		a->out_given = true;
		return 0;
	case OPT_PLAN:
		if (sx_parse_u64(arg, 1, SX_BATCH_SHARDS_MAX, &v))
			return sx_cli_usage_error(cmd, "--plan expects 1 to %u shards, not \"%s\"",
						  SX_BATCH_SHARDS_MAX, arg);
		a->plan = (unsigned)v;
		return 0;
	case OPT_SHARD:
		return parse_shard(a, arg);
	case OPT_COLLECT:
		a->cfg.collect = true;
		return 0;
	case OPT_MANIFEST:
		a->manifest = arg;
		return 0;
	case OPT_VALIDATE:
		a->cfg.validate = true;
		return 0;
	case OPT_RESUME:
		a->cfg.resume = true;
		return 0;
	case OPT_NO_CSV:
		a->cfg.no_csv = true;
		return 0;
	case OPT_UNITS:
		if (sx_parse_u64(arg, 1, 1024, &v))
			return sx_cli_usage_error(cmd, "--units expects 1 to 1024, not \"%s\"",
						  arg);
		a->cfg.units = (unsigned)v;
		return 0;
	case 'q':
		a->quiet = true;
		return 0;
	default:
		return SX_CLI_NOT_OWN;
	}
}

static const struct sx_cli_parser parser = {cmd, "-:o:j:f:qh", own, &help, own_opt};

static int parse(int argc, char **argv, struct args *a)
{
	int ret = sx_cli_getopt(&parser, argc, argv, &a->c, a);

	if (ret)
		return ret;
	defaults(a);
	for (; optind < argc; optind++) { /* after "--" */
		if (a->npos++)
			return sx_cli_usage_error(cmd, "one ARCHIVE only (\"%s\")", argv[optind]);
		a->archive = argv[optind];
	}
	if (!a->archive && !a->manifest)
		return sx_cli_usage_error(cmd, "expected ARCHIVE or --manifest FILE");
	if (a->archive && a->manifest)
		return sx_cli_usage_error(cmd, "ARCHIVE and --manifest replace each other: give "
					       "one");
	if (a->cfg.shards && a->cfg.collect)
		return sx_cli_usage_error(cmd, "--shard runs units, --collect none: give one");
	if (a->plan && (a->cfg.shards || a->cfg.collect || a->out_given))
		return sx_cli_usage_error(cmd, "--plan writes nothing: no --shard, --collect or "
					       "-o with it");
	return sx_cli_common_files(cmd, &a->c);
}

/* SOURCE_DATE_EPOCH (reproducible builds): last-update from it. */
static int source_date(struct args *a)
{
	bool set;
	int ret = sx_cli_source_date(cmd, a->last_update, sizeof(a->last_update), &set);

	if (!ret && set)
		a->cfg.last_update = a->last_update;
	return ret;
}

/* The output directory (sx_cli_output_dir), then its absolute path
 * (malloc'd) into *abs. */
static int prepare_out(const char *dir, char **abs)
{
	int ret = sx_cli_output_dir(cmd, dir);

	*abs = NULL;
	if (ret)
		return ret;
	*abs = realpath(dir, NULL);
	if (!*abs) {
		sx_log(SX_LOG_ERROR, "%s: %s", dir, strerror(errno));
		return SX_EXIT_FAILURE;
	}
	return 0;
}

/* Whether inner is outer or under it (both absolute, canonical). */
static bool path_within(const char *inner, const char *outer)
{
	size_t n = strlen(outer);

	if (strcmp(outer, "/") == 0)
		return true;
	return strncmp(inner, outer, n) == 0 && (inner[n] == '\0' || inner[n] == '/');
}

static int read_manifest(const char *path, struct sx_batch_manifest **m)
{
	char msg[512];
	struct stat st;
	size_t got;
	char *data;
	FILE *f;
	int ret;

	*m = NULL;
	f = fopen(path, "rb");
	if (!f)
		return sx_cli_usage_error(cmd, "--manifest %s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > SX_BATCH_MANIFEST_MAX) {
		fclose(f);
		return sx_cli_usage_error(cmd,
					  "--manifest %s: not a regular file of at most "
					  "%u bytes",
					  path, SX_BATCH_MANIFEST_MAX);
	}
	data = malloc((size_t)st.st_size + 1);
	if (!data) {
		fclose(f);
		sx_log(SX_LOG_ERROR, "out of memory");
		return SX_EXIT_FAILURE;
	}
	got = fread(data, 1, (size_t)st.st_size, f);
	ret = ferror(f) ? -EIO : 0;
	fclose(f);
	if (!ret)
		ret = sx_batch_manifest_parse(data, got, m, msg, sizeof(msg));
	free(data);
	if (ret == -ENOMEM) {
		sx_log(SX_LOG_ERROR, "out of memory");
		return SX_EXIT_FAILURE;
	}
	if (ret)
		return sx_cli_usage_error(cmd, "--manifest %s: %s", path,
					  ret == -EIO ? "read error" : msg);
	return 0;
}

/* The directory to work in, as an absolute path (malloc'd). */
static int root_of(const struct args *a, char **root)
{
	const char *src = a->archive ? a->archive : a->manifest;
	struct stat st;
	char *abs, *slash;

	*root = NULL;
	abs = realpath(src, NULL);
	if (!abs || stat(abs, &st) != 0) {
		free(abs);
		return sx_cli_usage_error(cmd, "%s\"%s\": %s", a->archive ? "" : "--manifest ", src,
					  strerror(errno));
	}
	if (a->archive && !S_ISDIR(st.st_mode)) {
		free(abs);
		return sx_cli_usage_error(cmd, "ARCHIVE \"%s\" is not a directory", src);
	}
	if (a->manifest) {
		slash = strrchr(abs, '/');
		if (slash == abs)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	*root = abs;
	return 0;
}

static void final_line(const struct args *a, struct sx_batch *b, double secs)
{
	struct sx_batch_progress p;
	char bytes[32];

	if (a->quiet)
		return;
	sx_batch_progress(b, &p);
	human_bytes(p.bytes_done - p.bytes_skipped, bytes, sizeof(bytes));
	if (a->cfg.shards)
		fprintf(stderr, "sigex batch: shard %u/%u (%llu units in the other shards)\n",
			a->cfg.shard, a->cfg.shards, (unsigned long long)p.units_other);
	fprintf(
	    stderr,
	    "sigex batch: %llu units: %llu ok, %llu resumed, %llu partial, %llu failed; "
	    "%s read in %.1f s\n",
	    (unsigned long long)(p.units - p.units_other),
	    (unsigned long long)(p.units_done - p.units_failed - p.units_partial - p.units_skipped),
	    (unsigned long long)p.units_skipped, (unsigned long long)p.units_partial,
	    (unsigned long long)p.units_failed, bytes, secs);
	if (a->cfg.resume || a->cfg.collect)
		fprintf(
		    stderr,
		    "sigex batch: %llu captures known unchanged from the stamps, %llu sampled\n",
		    (unsigned long long)p.files_known, (unsigned long long)p.files_sampled);
	if (p.files_reread)
		fprintf(stderr,
			"sigex batch: %llu captures read twice, to infer their device's address "
			"first\n",
			(unsigned long long)p.files_reread);
}

static int run(struct args *a, const struct sx_batch_manifest *m, const char *root)
{
	struct progress pg = {.quiet = a->quiet, .tty = isatty(STDERR_FILENO) == 1};
	struct sx_batch_progress p;
	struct sx_batch *b = NULL;
	pthread_t tid;
	bool started = false;
	int ret, exit_code;

	pthread_mutex_init(&pg.lock, NULL);
	pthread_cond_init(&pg.cond, NULL);
	clock_gettime(CLOCK_MONOTONIC, &pg.t0);
	a->cfg.log = log_line;
	a->cfg.log_arg = &pg;
	ret = sx_batch_new(&a->cfg, &b);
	if (ret) {
		sx_log(SX_LOG_ERROR, "out of memory");
		exit_code = SX_EXIT_FAILURE;
		goto out_sync;
	}
	pg.b = b;
	if (chdir(root) != 0) {
		sx_log(SX_LOG_ERROR, "%s: %s", root, strerror(errno));
		exit_code = SX_EXIT_FAILURE;
		goto out_batch;
	}
	ret = m ? sx_batch_scan_manifest(b, m) : sx_batch_scan_archive(b);
	if (ret) {
		sx_log(SX_LOG_ERROR, "%s: %s", a->archive ? a->archive : a->manifest,
		       sx_strerror(ret));
		exit_code = SX_EXIT_FAILURE;
		goto out_batch;
	}
	sx_batch_progress(b, &p);
	if (!p.units) {
		sx_log(SX_LOG_ERROR, "%s: no device directory (ARCHIVE/<device>/...) found",
		       a->archive ? a->archive : a->manifest);
		exit_code = SX_EXIT_FAILURE;
		goto out_batch;
	}
	if (!a->quiet && pthread_create(&tid, NULL, progress_main, &pg) == 0)
		started = true;
	ret = sx_batch_run(b);
	if (started) {
		pthread_mutex_lock(&pg.lock);
		pg.done = true;
		pthread_cond_signal(&pg.cond);
		pthread_mutex_unlock(&pg.lock);
		pthread_join(tid, NULL);
	}
	if (ret == -ENOMEM) {
		sx_log(SX_LOG_ERROR, "out of memory");
		exit_code = SX_EXIT_FAILURE;
		goto out_batch;
	}
	if (ret == SX_E_STOPPED) {
		/* summary.csv all the same: which units are complete (a shard
		 * leaves it to collect) */
		if (!a->cfg.shards)
			sx_batch_write_summary(b);
		final_line(a, b, since(&pg.t0));
		sx_log(SX_LOG_ERROR, "interrupted: completed units are kept (see summary.csv); "
				     "run again with --resume to finish");
		exit_code = SX_EXIT_FAILURE;
		goto out_batch;
	}
	sx_batch_progress(b, &p);
	if (p.units_missing) {
		sx_log(SX_LOG_ERROR,
		       "collect: %llu of %llu units have no matching stamp (named above); "
		       "nothing written: run their shards (--resume) and collect again",
		       (unsigned long long)p.units_missing, (unsigned long long)p.units);
		exit_code = SX_EXIT_PARTIAL;
		goto out_batch;
	}
	/* every unit was attempted: a signal from now on stops nothing */
	sx_cli_finished();
	exit_code = !a->cfg.shards && sx_batch_write_summary(b) ? SX_EXIT_FAILURE : SX_EXIT_OK;
	final_line(a, b, since(&pg.t0));
	sx_batch_progress(b, &p);
	if (!exit_code && (p.units_failed || p.units_partial || p.devices_failed))
		exit_code = SX_EXIT_PARTIAL;
out_batch:
	sx_batch_free(b);
out_sync:
	pthread_cond_destroy(&pg.cond);
	pthread_mutex_destroy(&pg.lock);
	return sx_cli_exit(exit_code);
}

/* --plan N: the shards of the archive as CSV on standard output. */
static int print_plan(struct args *a, const struct sx_batch_manifest *m, const char *root)
{
	struct sx_batch_plan_row *rows = NULL;
	struct sx_batch *b = NULL;
	struct sx_buf buf;
	size_t n = 0, i;
	int ret, exit_code = SX_EXIT_FAILURE;

	/* nothing is written: the root stands for OUT (no device is it) */
	a->cfg.out = root;
	sx_buf_init(&buf);
	ret = sx_batch_new(&a->cfg, &b);
	if (ret) {
		sx_log(SX_LOG_ERROR, "out of memory");
		goto out_buf;
	}
	if (chdir(root) != 0) {
		sx_log(SX_LOG_ERROR, "%s: %s", root, strerror(errno));
		goto out_batch;
	}
	ret = m ? sx_batch_scan_manifest(b, m) : sx_batch_scan_archive(b);
	if (!ret)
		ret = sx_batch_plan(b, a->plan, &rows, &n);
	if (ret) {
		sx_log(SX_LOG_ERROR, "%s: %s", a->archive ? a->archive : a->manifest,
		       sx_strerror(ret));
		goto out_batch;
	}
	sx_buf_puts(&buf, "shard,device,event,captures,bytes\n");
	for (i = 0; i < n; i++) {
		sx_buf_printf(&buf, "%u,", rows[i].shard);
		sx_buf_csv_text(&buf, rows[i].device);
		sx_buf_putc(&buf, ',');
		sx_buf_csv_text(&buf, rows[i].event);
		sx_buf_printf(&buf, ",%zu,%" PRIu64 "\n", rows[i].captures, rows[i].bytes);
	}
	if (buf.err) {
		sx_log(SX_LOG_ERROR, "out of memory");
		goto out_batch;
	}
	if (fwrite(buf.data, 1, buf.len, stdout) != buf.len || fflush(stdout) != 0) {
		sx_log(SX_LOG_ERROR, "standard output: %s", strerror(errno));
		goto out_batch;
	}
	exit_code = SX_EXIT_OK;
out_batch:
	free(rows);
	sx_batch_free(b);
out_buf:
	sx_buf_fini(&buf);
	return sx_cli_exit(exit_code);
}

int sx_cmd_batch(int argc, char **argv)
{
	struct args a = {.out = "sigex-out"};
	struct sx_batch_manifest *m = NULL;
	char *out = NULL, *names = NULL, *root = NULL, *tmp = NULL;
	const char *tmpdir;
	int ret;

	ret = parse(argc, argv, &a);
	if (ret)
		return ret < 0 ? SX_EXIT_OK : ret;
	ret = source_date(&a);
	if (ret)
		return ret;
	if (a.quiet)
		sx_log_set_level(SX_LOG_ERROR);
	if (sx_cli_check_filter(cmd, a.cfg.filter))
		return SX_EXIT_USAGE;
	ret = root_of(&a, &root);
	if (ret)
		return ret;
	if (a.cfg.names) {
		names = realpath(a.cfg.names, NULL);
		if (!names) {
			ret =
			    sx_cli_usage_error(cmd, "--names %s: %s", a.cfg.names, strerror(errno));
			goto out_free;
		}
		a.cfg.names = names;
	}
	if (a.manifest) {
		ret = read_manifest(a.manifest, &m);
		if (ret)
			goto out_free;
	}
	if (a.plan) {
		ret = print_plan(&a, m, root);
		goto out_free;
	}
	ret = prepare_out(a.out, &out);
	if (ret)
		goto out_free;
	if (a.archive && path_within(root, out)) {
		ret = sx_cli_usage_error(cmd, "the archive %s is (inside) the output directory %s",
					 a.archive, a.out);
		goto out_free;
	}
	tmpdir = getenv("TMPDIR");
	if (tmpdir && tmpdir[0] && tmpdir[0] != '/') {
		tmp = realpath(tmpdir, NULL);
		if (tmp)
			setenv("TMPDIR", tmp, 1);
	}
	a.cfg.out = out;
	ret = run(&a, m, root);
out_free:
	sx_batch_manifest_free(m);
	free(tmp);
	free(out);
	free(names);
	free(root);
	return ret;
}
