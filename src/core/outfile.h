/*
 * outfile.h - writing an output file so that it is never seen half-written.
 *
 * A regular file (or a path that does not exist yet) is written to a
 * temporary name in the same directory and renamed over the target by
 * sx_out_commit(), after fflush and fsync (the directory is synced after the
 * rename; both fsyncs are left to the caller's one sx_out_sync_dir() when
 * deferred); a crash, a full disk or an interrupted run leaves the previous
 * file intact.  A replaced file keeps its permission bits; a new one gets
 * 0644.  A symbolic link to a regular file is kept: the file it points to is
 * replaced (the temporary name is made beside that file).
 *
 * Written in place and never replaced, since renaming over them would
 * destroy a device node or a link (as root, /dev/stdout itself):
 *   - "-", and any path that names the same file as standard output or
 *     standard error (/dev/stdout, /dev/fd/1, /proc/self/fd/2, a link to
 *     them, even when the stream is redirected to a regular file): written
 *     through that stream, so `>>` keeps appending;
 *   - a target that exists and is not a regular file (/dev/null, a FIFO, a
 *     character device);
 *   - any path under /dev/ or /proc/, or a link whose target is there;
 *   - a dangling or looping symbolic link (fopen follows it or fails).
 *
 * One struct sx_out per file, used by one thread.  Temporary files still
 * open are removed by sx_out_abort() and, when a signal stops the run, by
 * sx_out_cleanup_all() (async-signal-safe).  Once the run-wide stop flag is
 * set (core/util.h), sx_out_commit() no longer renames: it removes the
 * temporary file and fails with SX_E_STOPPED, so an interrupted run never
 * replaces a file; the one exception is a file that records the run itself
 * (batch's summary.csv), written after the stop on purpose: its writer sets
 * commit_on_stop after sx_out_open().
 */
#ifndef SX_CORE_OUTFILE_H
#define SX_CORE_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

struct sx_out {
	FILE *f;	     /* write here */
	char *path;	     /* the target */
	char *tmp;	     /* temporary name, NULL when written in place */
	bool is_stdout;	     /* f is stdout: flushed, never closed */
	int slot;	     /* registration for cleanup on signals, -1 if none */
	bool commit_on_stop; /* rename into place even after a stop request */
	bool deferred;	     /* no fsync of the file or its directory: the caller
			      * makes it durable (sx_out_set_deferred()) */
	bool grouped;	     /* opened in a commit group: sx_out_commit() queues it */
};

/*
 * sx_out_set_deferred - process-wide: files opened from now on are
 * committed (renamed into place) without an fsync of the file or of its
 * directory; the caller makes a batch of them durable at once with
 * sx_out_sync_dir() before it relies on them.  A writer that needs one
 * file durable on its own clears o->deferred after sx_out_open().  Off by
 * default.  Thread-safe; meant to be set once by a driver (sigex batch)
 * around its run.
 */
void sx_out_set_deferred(bool on);

/*
 * sx_out_group_begin, sx_out_group_end - a run's outputs appear together.
 * Between the two (process-wide, one group at a time, begun and ended by a
 * command's driver on one thread), a file sx_out_commit() would rename is
 * closed under its temporary name, without an fsync, and queued.
 * sx_out_group_end(true, ...) then makes every queued file durable with one
 * syncfs per file system, renames them in the order they were committed,
 * and syncs each of their directories once: two syncs for the run, where
 * each file cost two fsyncs (file, then directory).  sx_out_group_end(false,
 * ...), a stop request (core/util.h) or a failed sync removes every queued
 * file instead, so a failed run leaves all the targets as they were, not
 * only those it had not reached.  Files opened in the group and never
 * committed are the caller's (sx_out_abort()).  sx_out_group_begin():
 * 0, or -EBUSY when a group is open.  sx_out_group_end(): 0 (nothing
 * queued, or all in place), SX_E_STOPPED when it removed the files for a
 * stop request, or -errno with msg set: a sync failed (every queued file
 * removed) or a rename did (the files renamed before it stay, the others
 * are removed).
 */
int sx_out_group_begin(void);
int sx_out_group_end(bool commit, char *msg, size_t msglen);

/*
 * sx_out_group_suspend, sx_out_group_resume - files opened between the two
 * are not the group's: committed at once, as without a group.  For the
 * scratch files a run writes and reads back before its end (a validation
 * fold's profile and signatures).  Nested calls count; a no-op without a
 * group.
 */
void sx_out_group_suspend(void);
void sx_out_group_resume(void);

/*
 * sx_out_sync_dir - make everything written under dir durable, files and
 * renames: syncfs() of dir's file system.  0 or -errno with msg set.
 */
int sx_out_sync_dir(const char *dir, char *msg, size_t msglen);

/*
 * sx_out_open - start writing path.  Returns 0 or -errno; on failure msg
 * (msglen bytes) says why, naming the file.
 */
int sx_out_open(struct sx_out *o, const char *path, char *msg, size_t msglen);
/* Flush, sync and rename into place.  0 or -errno with msg set; on failure
 * the temporary file is removed and the old target kept. */
int sx_out_commit(struct sx_out *o, char *msg, size_t msglen);
/*
 * sx_out_close - finish writing without renaming yet (several files that
 * are to appear together): flush, sync and close; the temporary file stays,
 * still removed on a signal, until sx_out_commit() renames it into place or
 * sx_out_abort() removes it.  Files written in place are left to
 * sx_out_commit().  0, or -errno with msg set (the temporary file is then
 * removed and o released).
 */
int sx_out_close(struct sx_out *o, char *msg, size_t msglen);
/* Give up: close and remove the temporary file. */
void sx_out_abort(struct sx_out *o);
/* Remove every registered temporary file (from a signal handler). */
void sx_out_cleanup_all(void);

/*
 * sx_out_track - register another temporary file (a spooled input) for
 * removal by sx_out_cleanup_all().  Returns a slot for sx_out_untrack(), or
 * -1 when the table is full or the path too long (the file is then not
 * removed on a signal).  Thread-safe.
 */
int sx_out_track(const char *path);
void sx_out_untrack(int slot);

#endif /* SX_CORE_OUTFILE_H */
