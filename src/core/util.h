/*
 * util.h - small helpers: strict number parsing, CPU count, overflow-checked
 * allocation.  Stateless; thread-safe.
 */
#ifndef SX_CORE_UTIL_H
#define SX_CORE_UTIL_H

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
/* calloc(n, size) with the product checked; NULL on overflow or OOM. */
void *sx_calloc_array(size_t n, size_t size);
/* realloc(p, n * size) with the product checked; NULL on overflow or OOM. */
void *sx_realloc_array(void *p, size_t n, size_t size);

/* The run-wide stop flag, set by SIGINT/SIGTERM handlers and polled by
 * workers between batches.  Both are async-signal-safe and thread-safe. */
void sx_request_stop(void);
bool sx_stop_requested(void);

#endif /* SX_CORE_UTIL_H */
