/*
 * util.h - small helpers: strict number parsing, CPU count, threads spread
 * over the CPUs, overflow-checked allocation.  Stateless; thread-safe.
 */
#ifndef SX_CORE_UTIL_H
#define SX_CORE_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parse a whole decimal unsigned number in [min, max].  0 or -EINVAL/-ERANGE. */
int sx_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Parse a whole non-negative decimal with optional fraction.  0 or -EINVAL. */
int sx_parse_seconds(const char *s, double *out);

/* The longest duration a window, event or timeout option takes, in
 * seconds: every sum of times then stays inside int64 nanoseconds. */
#define SX_SECONDS_MAX 100000000.0
/* Whether s is such a duration: 0 <= s <= SX_SECONDS_MAX, and s > 0 unless
 * zero_ok (NaN never). */
bool sx_seconds_ok(double s, bool zero_ok);
/* Number of online CPUs, at least 1. */
unsigned sx_nproc(void);
/*
 * Threads that share a phase's work from its first moment.  Linux places a
 * new thread by the CPUs' recent load, which still counts the threads of
 * the phase just ended: on a machine whose CPUs all ran that phase it often
 * queues the new thread behind its creator (or a sibling just made) on one
 * CPU for a scheduler tick or more while another CPU idles.  So a pool
 * spreads its threads itself: sx_thread_spawn() is pthread_create() with
 * the thread started on the slot-th CPU (modulo their count) of those the
 * caller may run on, and free to move as soon as it runs (its affinity is
 * the caller's again before fn is called); sx_cpu_slot() is the caller's
 * own CPU's slot.  A pool whose creator waits starts thread i at
 * sx_cpu_slot() + 1 + i; one whose creator works as thread 0, thread i at
 * sx_cpu_slot() + i.  Thread-safe.  sx_thread_spawn(): 0 or a negative
 * error; when the CPUs cannot be read or there is only one, a plain
 * pthread_create().
 */
unsigned sx_cpu_slot(void);
int sx_thread_spawn(pthread_t *t, void *(*fn)(void *), void *arg, unsigned slot);
/* fn(ctx, i) for every i < n on up to nthreads threads (spread as above),
 * the calling thread one of them, in no particular order; stoppable: no
 * new i once sx_stop_requested().  Returns when every call has returned. */
void sx_pool_run(unsigned nthreads, size_t n, void (*fn)(void *ctx, size_t i), void *ctx,
		 bool stoppable);
/* qsort(3) comparator of an array of C strings (char *), by strcmp. */
int sx_str_qcmp(const void *a, const void *b);
/* calloc(n, size) with the product checked; NULL on overflow or OOM. */
void *sx_calloc_array(size_t n, size_t size);
/* realloc(p, n * size) with the product checked; NULL on overflow or OOM. */
void *sx_realloc_array(void *p, size_t n, size_t size);

/* The run-wide stop flag, set by SIGINT/SIGTERM handlers and polled by
 * workers between batches.  Both are async-signal-safe and thread-safe. */
void sx_request_stop(void);
bool sx_stop_requested(void);

#endif /* SX_CORE_UTIL_H */
