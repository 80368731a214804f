/*
 * cli.h - helpers shared by the sigex subcommands (the executable only).
 */
#ifndef SX_CLI_H
#define SX_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Exit status when standard output (or an output pipe) was closed by its
 * reader: 128 + SIGPIPE, as a shell reports a process the signal killed. */
#define SX_CLI_EXIT_PIPE 141

/* Install SIGINT/SIGTERM handlers that request a stop and remove temporary
 * output files; a second signal exits at once.  SIGPIPE removes them and
 * exits quietly with SX_CLI_EXIT_PIPE. */
void sx_cli_signals(void);

/*
 * sx_cli_exit - a command's exit status: exit_code, or 128 + the signal
 * number (130 for SIGINT, 143 for SIGTERM) when a signal stopped the run.
 * Every command returns through it.  A status other than 0 and 3 removes the
 * output directories the run created (sx_cli_output_dir()).
 */
int sx_cli_exit(int exit_code);

/* The command's outputs are all in place: a signal from now on no longer
 * makes it a stopped run (sx_cli_exit() returns its own exit code). */
void sx_cli_finished(void);

/* Parse "-j N" (1..1024).  0 on success, else prints a usage error. */
int sx_cli_threads(const char *cmd, const char *arg, unsigned *out);

/* Check a BPF filter once, up front (a usage error, not a per-file one). */
int sx_cli_check_filter(const char *cmd, const char *filter);

/*
 * Inputs that cannot be read twice (standard input, FIFOs) are copied to
 * unlinked-on-exit temporary files when a command needs two passes.
 * read_paths[i] is the path to read, paths[i] the name to show.  Returns 0,
 * -errno (message printed) or SX_E_STOPPED (a signal came while copying).
 * The copies are registered for removal on a signal; sx_cli_spool_free()
 * removes them.
 */
int sx_cli_spool(const char *const *paths, int n, char ***read_paths);
void sx_cli_spool_free(char **read_paths, const char *const *paths, int n);

/*
 * sx_cli_warn_capped - the one warning of a run whose flow table reached
 * its ceiling (capped flows ended early; nothing when 0).  max_flows is
 * --max-flows, 0 when not given (the per-thread default applied).
 */
void sx_cli_warn_capped(uint64_t max_flows, uint64_t capped);

/*
 * sx_cli_inputs - the one rule for files named on a command line (inputs,
 * and files options read): one that does not exist, or is a directory, is a
 * usage error, found before anything is read or written ("-" and NULL
 * entries are skipped).  what prefixes the path in the message ("--events
 * ", or "").  sizes (n entries, or NULL) gets each file's size as the same
 * stat found it, UINT64_MAX for "-", NULL and what is not a regular file
 * (sx_ingest_cfg.sizes), so that no later step stats the files again.
 * threads (0: the CPUs) share the stats of many files; the message names
 * the first file in order that fails, whichever thread found it.  Returns
 * 0, SX_EXIT_USAGE (the message printed) or, without memory,
 * SX_EXIT_FAILURE.
 */
int sx_cli_inputs(const char *cmd, const char *what, const char *const *paths, int n,
		  uint64_t *sizes, unsigned threads);

/* mkdir -p dir.  0, or -errno with the cause (naming the path) in msg.  The
 * directories created are removed again when the run fails (sx_cli_exit()). */
int sx_cli_mkdirs(const char *dir, char *msg, size_t msglen);

/*
 * sx_cli_output_dir - the -o directory of a command that writes several
 * files: not empty, not an existing non-directory (usage errors), created
 * with its parents, and a file can be created in it.  Returns 0 or the exit
 * status, with the message printed.
 */
int sx_cli_output_dir(const char *cmd, const char *dir);

/*
 * sx_cli_source_epoch - SOURCE_DATE_EPOCH (reproducible builds) as a time.
 * Returns 0 with *set telling whether the variable was given, or the
 * usage-error status (message printed) when it is not a time.
 * sx_cli_source_date - the same as last-update text, in UTC, into buf.
 */
int sx_cli_source_epoch(const char *cmd, time_t *t, bool *set);
int sx_cli_source_date(const char *cmd, char *buf, size_t bufsz, bool *set);

/* Print "sigex CMD: usage error: MSG" and a hint; returns SX_EXIT_USAGE. */
int sx_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The options several commands share, one entry each in cli.c's table
 * (name, argument, help text, how it is parsed).  A command lists those it
 * takes (ending with SX_CLI_NOPTS); sx_cli_longopts() makes getopt_long's
 * table of them and the command's own; sx_cli_common_opt() parses one into
 * struct sx_cli_common; sx_cli_help_opts() prints their --help lines.  A
 * filter must compile; files (--events, --names) must exist
 * (sx_cli_common_files(), once the line is parsed).
 */
enum sx_cli_opt {
	SX_CLI_JOBS,
	SX_CLI_FILTER,
	SX_CLI_WINDOW,
	SX_CLI_EVENTS,
	SX_CLI_DURATION,
	SX_CLI_ALIGN,
	SX_CLI_NO_ALIGN,
	SX_CLI_IDLE,
	SX_CLI_NAMES,
	SX_CLI_SEED,
	SX_CLI_MAX_FLOWS,
	SX_CLI_SUPPORT,
	SX_CLI_ALL_PORTS,
	SX_CLI_STATS,
	SX_CLI_GATEWAY,
	SX_CLI_PHONE,
	SX_CLI_NAMES_OUT,
	SX_CLI_HELP,
	SX_CLI_NOPTS
};

/* getopt_long code of a shared option without a short name; a command's
 * own long options use codes from 256 to 999. */
#define SX_CLI_CODE(opt) (1000 + (int)(opt))
/* The column where --help text starts. */
#define SX_CLI_HELP_COL 27

struct sx_cli_common {
	unsigned jobs; /* 0: not given (the CPUs) */
	const char *filter, *events, *names, *gateway, *phone;
	const char *names_out; /* --names-out FILE, or NULL */
	double window, duration, idle_timeout, support;
	uint64_t seed, max_flows;
	bool all_ports, stats;
	int align;	/* --align 1, --no-align -1, neither 0 (the last given wins) */
	uint32_t given; /* 1u << enum sx_cli_opt, for each option given */
};

static inline bool sx_cli_given(const struct sx_cli_common *c, enum sx_cli_opt o)
{
	return c->given & (1u << o);
}

/* own (ending with a NULL name, may be NULL) then the shared options listed
 * (ending with SX_CLI_NOPTS, may be NULL); NULL when out of memory.  Caller
 * frees. */
struct option *sx_cli_longopts(const struct option *own, const enum sx_cli_opt *shared);
/* A getopt_long code: 0 when it is a shared option (parsed into c), 1 when
 * it is not one (nor for --help, which the command prints), or
 * SX_EXIT_USAGE with the message printed. */
int sx_cli_common_opt(const char *cmd, int code, const char *arg, struct sx_cli_common *c);
/* The files the shared options name (--events, --names) exist: checked
 * once the whole line is parsed, as sx_cli_inputs().  0 or SX_EXIT_USAGE. */
int sx_cli_common_files(const char *cmd, const struct sx_cli_common *c);
/* The --help lines of the shared options listed. */
void sx_cli_help_opts(FILE *f, const enum sx_cli_opt *shared);
/* Seconds, a fraction allowed, as core's sx_seconds_ok() takes them (at
 * most SX_SECONDS_MAX; positive unless zero_ok).  0, or SX_EXIT_USAGE with
 * the message naming opt. */
int sx_cli_seconds(const char *cmd, const char *opt, const char *arg, bool zero_ok, double *out);

/* A command's --help: head, the --help lines of the shared options
 * (shared may be NULL: the command takes none), foot (may be NULL). */
struct sx_cli_help {
	const char *head;
	const enum sx_cli_opt *shared;
	const char *foot;
};

/*
 * sx_cli_opt_tail - the cases every command's getopt_long switch ends
 * with, for a code c that is none of the command's own options (getopt_long
 * called with opterr = 0 and a leading ':' in its short options): 'h'
 * prints help to standard output and returns -1 (stop, exit 0); ':' (an
 * option without its argument) and '?' (an unknown option) are usage
 * errors naming argv[optind - 1]; any other code is a shared option parsed
 * into common, or an unknown option when common is NULL.  Returns 0, -1 or
 * SX_EXIT_USAGE (message printed).
 */
int sx_cli_opt_tail(const char *cmd, int c, char *const argv[], const struct sx_cli_help *help,
		    struct sx_cli_common *common);

/*
 * A command's own options, for sx_cli_getopt(): c is getopt_long's code (1
 * for an argument that is no option, under a leading '-' in the short
 * options), arg its argument (optarg).  Returns 0, SX_EXIT_USAGE with the
 * message printed, or SX_CLI_NOT_OWN when c is not one of the command's own
 * options: sx_cli_opt_tail() takes it then.
 */
typedef int (*sx_cli_own_fn)(void *ctx, int c, const char *arg);
#define SX_CLI_NOT_OWN 1

/* How a command parses its options (a static table per command). */
struct sx_cli_parser {
	const char *cmd;
	const char *shortopts;		/* getopt_long's, starting with ":" or "-:" */
	const struct option *own;	/* ending with a NULL name; may be NULL */
	const struct sx_cli_help *help; /* help->shared: the shared options taken */
	sx_cli_own_fn own_opt;		/* may be NULL: no own options */
};

/*
 * sx_cli_getopt - the one getopt_long loop of the commands: the long options
 * of p->own and p->help->shared (sx_cli_longopts(); p->own alone, nothing
 * allocated, when help->shared is NULL), argv parsed from its
 * start (optind reset, opterr 0), each code given to p->own_opt(ctx, ...)
 * and, when that is not one of the command's own, to sx_cli_opt_tail()
 * (shared options parsed into common, which may be NULL).  Stops at the
 * first code that does not return 0, or after the last option: optind is
 * then the first argument not parsed (those after "--"; every argument that
 * is no option when p->shortopts does not start with '-').  Returns 0, -1
 * (--help printed), SX_EXIT_USAGE (message printed) or SX_EXIT_FAILURE (out
 * of memory, logged; only with shared options).  Not thread-safe (getopt_long's globals).
 */
int sx_cli_getopt(const struct sx_cli_parser *p, int argc, char **argv,
		  struct sx_cli_common *common, void *ctx);

/*
 * The arguments of a command that takes two kinds of input (extract, mine),
 * in order: getopt_long's '-' mode gives each as code 1, and those after
 * --background, up to the next option, are background ones.
 */
struct sx_cli_args {
	const char **v, **bg; /* argc entries each, the caller's */
	int n, nbg;
	bool in_bg; /* the last option was --background */
};

/* For a command's sx_cli_own_fn: code 1 (an argument) and bg_code
 * (--background ARG) are taken (0); any other code ends a run of background
 * arguments and is not taken (SX_CLI_NOT_OWN). */
int sx_cli_args_take(struct sx_cli_args *a, int c, int bg_code, const char *arg);

/* The command line of a command that reads captures and writes one file
 * (flows, packets): -o FILE, -q and shared options, then the captures. */
struct sx_cli_files {
	struct sx_cli_common c;
	const char *output; /* "-" unless -o */
	const char *const *paths;
	int npaths;
	uint64_t *sizes; /* per path, when the command asked sx_cli_inputs()
			  * for them (the command frees them), else NULL */
};

/*
 * sx_cli_parse_files - parse such a command line (help->shared: the shared
 * options it takes) into a; -q lowers the log level to errors.  Returns 0,
 * -1 (--help printed), or the status of the failure, its message printed
 * (a usage error, "no capture given").  The files named are not checked
 * yet (sx_cli_common_files(), sx_cli_inputs()).
 */
int sx_cli_parse_files(const char *cmd, int argc, char **argv, const struct sx_cli_help *help,
		       struct sx_cli_files *a);

#endif /* SX_CLI_H */
