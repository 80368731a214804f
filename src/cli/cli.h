/*
 * cli.h - helpers shared by the sigex subcommands (the executable only).
 */
#ifndef SX_CLI_H
#define SX_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
 * ", or "").  Returns 0 or SX_EXIT_USAGE, the message printed.
 */
int sx_cli_inputs(const char *cmd, const char *what, const char *const *paths, int n);

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
 * sx_cli_source_date - SOURCE_DATE_EPOCH (reproducible builds) as
 * last-update text, in UTC, into buf.  Returns 0 with *set telling whether
 * the variable was given, or the usage-error status when it is not a time.
 */
int sx_cli_source_date(const char *cmd, char *buf, size_t bufsz, bool *set);

/* Print "sigex CMD: usage error: MSG" and a hint; returns SX_EXIT_USAGE. */
int sx_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* SX_CLI_H */
