/*
 * outfile.h - writing an output file so that it is never seen half-written.
 *
 * A regular file (or a path that does not exist yet) is written to a
 * temporary name in the same directory and renamed over the target by
 * sx_out_commit(), after fflush and fsync; a crash, a full disk or an
 * interrupted run leaves the previous file intact.  A target that exists and
 * is not a regular file (/dev/null, /dev/stdout, a FIFO) is written in place
 * and never replaced: renaming over a device node as root would destroy it.
 * "-" means standard output.
 *
 * One struct sx_out per file, used by one thread.  Temporary files still
 * open are removed by sx_out_abort() and, when a signal stops the run, by
 * sx_out_cleanup_all() (async-signal-safe).
 */
#ifndef SX_CORE_OUTFILE_H
#define SX_CORE_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

struct sx_out {
	FILE *f;		/* write here */
	char *path;		/* the target */
	char *tmp;		/* temporary name, NULL when written in place */
	bool is_stdout;
	int slot;		/* registration for cleanup on signals, -1 if none */
};

/*
 * sx_out_open - start writing path.  Returns 0 or -errno; on failure msg
 * (msglen bytes) says why, naming the file.
 */
int sx_out_open(struct sx_out *o, const char *path, char *msg, size_t msglen);
/* Flush, sync and rename into place.  0 or -errno with msg set; on failure
 * the temporary file is removed and the old target kept. */
int sx_out_commit(struct sx_out *o, char *msg, size_t msglen);
/* Give up: close and remove the temporary file. */
void sx_out_abort(struct sx_out *o);
/* Remove every registered temporary file (from a signal handler). */
void sx_out_cleanup_all(void);

#endif /* SX_CORE_OUTFILE_H */
