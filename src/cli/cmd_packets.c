/*
 * cmd_packets.c - `sigex packets PCAP... [-o FILE]`: the packet stage.
 *
 * Two passes over the inputs, both with the reader pool: the first learns
 * names for addresses from every capture of the run (so a connection is
 * never named differently before and after its DNS answer), the second
 * writes one CSV row per packet.  Rows of each file go to the reader
 * thread's own temporary file; the main thread concatenates them in the
 * order the files were given, so the output does not depend on -j.
 * Standard input and FIFOs are spooled to a temporary file first, since
 * they cannot be read twice.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/outfile.h"
#include "core/util.h"
#include "ingest/ingest.h"

int sx_cmd_packets(int argc, char **argv);

#define FLUSH_AT (256 * 1024)

static const char cmd[] = "packets";

static const char usage_head[] =
    "Usage: sigex packets [OPTIONS] PCAP...\n"
    "\n"
    "The packet stage: one CSV row per packet of every capture, in the order the\n"
    "files are given, then packet order (columns: docs/csv.md).  PCAP may be pcap or\n"
    "pcapng, gzip- or zstd-compressed, or - for standard input.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE        write the CSV to FILE (default: standard output)\n"
    "  -q, --quiet              no warnings, errors only\n";

static const char usage_foot[] =
    "\n"
    "Exit status: 0 ok, 1 failure (FILE left as it was), 2 usage error (also: a\n"
    "file that does not exist), 3 some inputs unreadable, 130/143 stopped by\n"
    "SIGINT/SIGTERM (FILE left as it was), 141 standard output closed.\n";

static const enum sx_cli_opt shared[] = {SX_CLI_JOBS, SX_CLI_FILTER, SX_CLI_NAMES, SX_CLI_HELP,
					 SX_CLI_NOPTS};

static const struct sx_cli_help help = {usage_head, shared, usage_foot};

struct learn_ctx {
	struct sx_names_learner **learners; /* one per thread, by tid */
};

static int learn_thread_init(void *ctx, unsigned tid, void **tctx)
{
	struct learn_ctx *lc = ctx;
	int ret = sx_names_learner_new(&lc->learners[tid]);

	*tctx = lc->learners[tid];
	return ret;
}

static void learn_packet(void *tctx, const struct sx_pkt *pkt)
{
	sx_names_learn(tctx, pkt);
}

struct write_ctx {
	const char *const *names; /* display names */
	const struct sx_names *table;
	FILE **parts; /* per file, written by its reader thread */
	int *part_err;
};

struct write_thread {
	struct write_ctx *wc;
	struct sx_buf buf;
	uint32_t file;
	FILE *part;
};

static int write_thread_init(void *ctx, unsigned tid, void **tctx)
{
	struct write_thread *t = calloc(1, sizeof(*t));

	(void)tid;
	if (!t)
		return -ENOMEM;
	t->wc = ctx;
	sx_buf_init(&t->buf);
	*tctx = t;
	return 0;
}

static void write_file_begin(void *tctx, uint32_t file)
{
	struct write_thread *t = tctx;

	t->file = file;
	t->part = tmpfile();
	t->wc->parts[file] = t->part;
	if (!t->part)
		t->wc->part_err[file] = errno ? -errno : -EIO;
}

static void write_packet(void *tctx, const struct sx_pkt *pkt)
{
	struct write_thread *t = tctx;

	sx_packet_csv_row(&t->buf, t->wc->names[pkt->file], pkt, t->wc->table);
	if (t->buf.len >= FLUSH_AT && t->part) {
		int ret = sx_buf_flush(&t->buf, t->part);

		if (ret && !t->wc->part_err[t->file])
			t->wc->part_err[t->file] = ret;
	}
}

static void write_file_end(void *tctx, uint32_t file, const struct sx_file_status *st)
{
	struct write_thread *t = tctx;
	int ret;

	(void)st;
	if (!t->part) {
		sx_buf_reset(&t->buf);
		return;
	}
	ret = sx_buf_flush(&t->buf, t->part);
	if (!ret && fflush(t->part) != 0)
		ret = -errno;
	if (ret && !t->wc->part_err[file])
		t->wc->part_err[file] = ret;
	t->part = NULL;
}

static void write_thread_fini(void *tctx)
{
	struct write_thread *t = tctx;

	sx_buf_fini(&t->buf);
	free(t);
}

static int copy_part(FILE *part, FILE *out)
{
	char buf[65536];
	size_t n;

	rewind(part);
	while ((n = fread(buf, 1, sizeof(buf), part)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			return errno ? -errno : -EIO;
	return ferror(part) ? -EIO : 0;
}

/* Pass 1: learn names from every capture. */
static int learn_names(const struct sx_ingest_cfg *cfg, struct sx_names *names,
		       struct sx_file_status *status)
{
	static const struct sx_ingest_ops ops = {.thread_init = learn_thread_init,
						 .packet = learn_packet};
	unsigned n = cfg->nthreads, i;
	struct learn_ctx lc;
	int ret;

	lc.learners = sx_calloc_array(n, sizeof(*lc.learners));
	if (!lc.learners)
		return -ENOMEM;
	ret = sx_ingest_run(cfg, &ops, &lc, status);
	for (i = 0; i < n; i++) {
		if (!ret && lc.learners[i])
			ret = sx_names_merge(names, lc.learners[i]);
		sx_names_learner_free(lc.learners[i]);
	}
	free(lc.learners);
	sx_names_finish(names);
	return ret;
}

/* 0, -1 (--help printed), or the usage error's status. */
static int parse(int argc, char **argv, struct sx_cli_files *a)
{
	int ret = sx_cli_parse_files(cmd, argc, argv, &help, a);

	if (ret)
		return ret;
	if (sx_cli_common_files(cmd, &a->c))
		return SX_EXIT_USAGE;
	return sx_cli_inputs(cmd, "", a->paths, a->npaths, NULL, a->c.jobs);
}

/* Pass 2: each file's rows to its part (wc->parts).  0 or an error. */
static int write_parts(const struct sx_ingest_cfg *cfg, struct write_ctx *wc,
		       struct sx_file_status *status)
{
	static const struct sx_ingest_ops write_ops = {.thread_init = write_thread_init,
						       .file_begin = write_file_begin,
						       .packet = write_packet,
						       .file_end = write_file_end,
						       .thread_fini = write_thread_fini};

	return sx_ingest_run(cfg, &write_ops, wc, status);
}

/* The header and the parts, in file order, to a->output.  The exit status
 * (exit_code when all went well). */
static int write_output(const struct sx_cli_files *a, const struct write_ctx *wc, int exit_code)
{
	struct sx_out out;
	struct sx_buf hdr;
	char msg[512];
	int i, ret;

	if (sx_out_open(&out, a->output, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		return SX_EXIT_FAILURE;
	}
	sx_buf_init(&hdr);
	sx_packet_csv_header(&hdr);
	ret = sx_buf_flush(&hdr, out.f);
	sx_buf_fini(&hdr);
	for (i = 0; i < a->npaths && !ret; i++) {
		if (wc->part_err[i])
			ret = wc->part_err[i];
		else if (wc->parts[i])
			ret = copy_part(wc->parts[i], out.f);
	}
	if (ret) {
		sx_log(SX_LOG_ERROR, "%s: write error: %s", a->output, sx_strerror(ret));
		sx_out_abort(&out);
		return SX_EXIT_FAILURE;
	}
	if (sx_out_commit(&out, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		return SX_EXIT_FAILURE;
	}
	sx_cli_finished();
	return exit_code;
}

static int run(const struct sx_cli_files *a)
{
	struct sx_file_status *status = NULL, *status2 = NULL;
	struct sx_names *names = NULL;
	struct sx_ingest_cfg cfg;
	struct write_ctx wc;
	char **read_paths = NULL;
	char msg[512];
	int i, n = a->npaths, ret, exit_code = SX_EXIT_FAILURE;

	memset(&wc, 0, sizeof(wc));
	if (sx_names_new(&names))
		goto out_nomem;
	if (a->c.names && sx_names_load(names, a->c.names, msg, sizeof(msg))) {
		sx_log(SX_LOG_ERROR, "%s", msg);
		goto out_free;
	}
	/* Standard input and FIFOs cannot be read twice: spooled. */
	ret = sx_cli_spool(a->paths, n, &read_paths);
	if (ret) {
		if (ret == SX_E_STOPPED)
			sx_log(SX_LOG_ERROR, "interrupted");
		goto out_free;
	}
	status = sx_calloc_array((size_t)n, sizeof(*status));
	status2 = sx_calloc_array((size_t)n, sizeof(*status2));
	wc.parts = sx_calloc_array((size_t)n, sizeof(*wc.parts));
	wc.part_err = sx_calloc_array((size_t)n, sizeof(*wc.part_err));
	if (!status || !status2 || !wc.parts || !wc.part_err)
		goto out_nomem;
	wc.names = a->paths;
	wc.table = names;
	/* More threads than captures: the spare ones read for the others
	 * (ingest's pipe), so one long capture uses two cores. */
	cfg = (struct sx_ingest_cfg){.paths = (const char *const *)read_paths,
				     .names = wc.names,
				     .npaths = (uint32_t)n,
				     .nthreads = a->c.jobs ? a->c.jobs : sx_nproc(),
				     .filter = a->c.filter};
	ret = learn_names(&cfg, names, status);
	if (!ret)
		ret = write_parts(&cfg, &wc, status2);
	if (ret) {
		sx_log(SX_LOG_ERROR, "%s", sx_strerror(ret));
		goto out_free;
	}
	exit_code = sx_ingest_report(&cfg, status);
	if (exit_code != SX_EXIT_FAILURE) /* nothing readable: nothing written */
		exit_code = write_output(a, &wc, exit_code);
	goto out_free;

out_nomem:
	sx_log(SX_LOG_ERROR, "out of memory");
out_free:
	if (wc.parts)
		for (i = 0; i < n; i++)
			if (wc.parts[i])
				fclose(wc.parts[i]);
	free(wc.parts);
	free(wc.part_err);
	free(status);
	free(status2);
	sx_cli_spool_free(read_paths, a->paths, n);
	sx_names_free(names);
	return exit_code;
}

int sx_cmd_packets(int argc, char **argv)
{
	struct sx_cli_files a = {.output = "-"};
	int ret = parse(argc, argv, &a);

	if (ret)
		return ret < 0 ? SX_EXIT_OK : ret;
	return sx_cli_exit(run(&a));
}
